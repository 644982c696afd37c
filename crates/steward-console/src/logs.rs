//! The System Log page (`/admin/logs`): newest first, filtered by keyword, event type, actor
//! and outcome (GET form, works without script), paged by the log's sequence number.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_core::roles::Permission;
use steward_store::{LogPage, LogQuery, SortOrder};

use crate::pages::{self, encode, render};
use crate::session::Admin;
use crate::Console;

/// Events per page.
const PAGE: usize = 50;
/// How old an event must be before a live tail reads past it (ms): on PostgreSQL a transaction
/// may commit an event numbered below one already shown, within this window.
const SETTLE_MS: i64 = 5_000;
/// The outcomes the filter offers.
const OUTCOMES: [&str; 4] = ["SUCCESS", "FAILURE", "DENY", "ALLOW"];

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LogsQuery {
    q: String,
    #[serde(rename = "eventType")]
    event_type: String,
    actor: String,
    outcome: String,
    after: Option<i64>,
}

/// A SCIM string literal (quotes and backslashes escaped).
fn literal(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One event as the page shows it.
pub fn row(e: &Value) -> Value {
    let targets: Vec<String> = e["target"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .map(|t| {
                    format!(
                        "{} ({})",
                        t["displayName"].as_str().unwrap_or_default(),
                        t["type"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "uuid": e["uuid"],
        "published": e["published"],
        "event_type": e["eventType"],
        "message": e["displayMessage"],
        "actor": e["actor"]["displayName"],
        "actor_login": e["actor"]["alternateId"],
        "outcome": e["outcome"]["result"],
        "reason": e["outcome"]["reason"],
        "targets": targets,
        "ip": e["client"]["ipAddress"],
    })
}

/// The page's filters as a store query (keywords, event type, actor, outcome), and the query
/// string that keeps them in links.
struct Criteria {
    query: LogQuery,
    params: String,
    outcome: &'static str,
}

/// A filter that does not parse is refused with what is wrong with it.
fn criteria(q: &LogsQuery) -> Result<Criteria, String> {
    let event_type = q.event_type.trim();
    let actor = q.actor.trim();
    let outcome = OUTCOMES
        .iter()
        .find(|o| **o == q.outcome.trim())
        .copied()
        .unwrap_or_default();
    let mut clauses = Vec::new();
    if !event_type.is_empty() {
        clauses.push(format!("eventType eq {}", literal(event_type)));
    }
    if !actor.is_empty() {
        clauses.push(format!("actor.alternateId eq {}", literal(actor)));
    }
    if !outcome.is_empty() {
        clauses.push(format!("outcome.result eq {}", literal(outcome)));
    }
    let filter = match clauses.is_empty() {
        true => None,
        false => match steward_core::filter::parse(&clauses.join(" and ")) {
            Ok(f) => Some(f),
            Err(e) => return Err(e.message),
        },
    };
    Ok(Criteria {
        query: LogQuery {
            q: q.q.split_whitespace().map(str::to_string).collect(),
            filter,
            limit: PAGE,
            ..Default::default()
        },
        params: format!(
            "q={}&eventType={}&actor={}&outcome={}",
            encode(&q.q),
            encode(event_type),
            encode(actor),
            encode(outcome)
        ),
        outcome,
    })
}

/// The events the page's filters match after `after` in `order`, with what a live tail needs to
/// know of which are settled (the last [`SETTLE_MS`]).
async fn read(
    console: &Console,
    q: &LogsQuery,
    after: Option<i64>,
    order: SortOrder,
) -> Result<(LogPage, Criteria), Box<Response>> {
    let mut criteria = criteria(q).map_err(|why| {
        Box::new(pages::message(
            StatusCode::BAD_REQUEST,
            "Invalid filter",
            &why,
        ))
    })?;
    criteria.query.after = after;
    criteria.query.order = order;
    criteria.query.settled_before = Some(console.now() - SETTLE_MS);
    match console.api.store.log_events(&criteria.query).await {
        Ok(page) => Ok((page, criteria)),
        Err(e) => Err(Box::new(pages::app_error(e.into()))),
    }
}

/// `GET /admin/logs`: newest first; the first page also carries where a live tail starts.
pub async fn list(
    State(console): State<Console>,
    admin: Admin,
    Query(q): Query<LogsQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::LogsRead, "Reading the System Log") {
        return refused;
    }
    let (
        page,
        Criteria {
            params, outcome, ..
        },
    ) = match read(&console, &q, q.after, SortOrder::Descending).await {
        Ok(read) => read,
        Err(refused) => return *refused,
    };
    let next = match (page.more, page.last_seq) {
        (true, Some(seq)) => Some(format!("/admin/logs?{params}&after={seq}")),
        _ => None,
    };
    // Only the top of the log is tailed; an older page stays as it is.
    let live = q.after.is_none().then(|| {
        json!({
            "tail": format!("/admin/logs/tail?{params}"),
            // Below every event that may still be joined by an earlier-numbered one; the tail
            // reads again from there and the script drops what the page already shows.
            "cursor": page.settled_seq.unwrap_or(match page.more {
                true => page.last_seq.unwrap_or(0),
                false => 0,
            }),
            "refresh": format!("/admin/logs?{params}"),
        })
    });
    render(
        StatusCode::OK,
        "logs.html",
        json!({
            "me": admin.me(),
            "section": "logs",
            "q": q.q,
            "event_type": q.event_type.trim(),
            "actor": q.actor.trim(),
            "outcome": outcome,
            "outcomes": OUTCOMES,
            "events": page.events.iter().map(row).collect::<Vec<_>>(),
            "next": next,
            "live": live,
        }),
    )
}

/// Header of a tail answer: the `seq` to ask after next time.
pub const CURSOR_HEADER: &str = "x-steward-log-cursor";
/// Header of a tail answer: `true` when more new events wait (ask again at once).
pub const MORE_HEADER: &str = "x-steward-log-more";

/// `GET /admin/logs/tail?after={seq}&…filters`: the events after `seq` that match, newest first,
/// as table rows for the page's script to put on top (the same rows the page renders, each with
/// its event's uuid), with the cursor to ask after next time: past the settled events only, so
/// events of the last few seconds come again and one committed late is not missed.
pub async fn tail(
    State(console): State<Console>,
    admin: Admin,
    Query(q): Query<LogsQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::LogsRead, "Reading the System Log") {
        return refused;
    }
    let Some(after) = q.after else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "Invalid tail",
            "The live tail needs the sequence number to read after (after).",
        );
    };
    let page = match read(&console, &q, Some(after), SortOrder::Ascending).await {
        Ok((page, _)) => page,
        Err(refused) => return *refused,
    };
    let events: Vec<Value> = page.events.iter().rev().map(row).collect();
    let mut response = render(
        StatusCode::OK,
        "logs_rows.html",
        json!({ "events": events, "fragment": true }),
    );
    let headers = response.headers_mut();
    // Unsettled events are sent again next time (the script keeps one of each); "more" only
    // when the cursor moved, so a burst of new events is not asked for in a tight loop.
    let cursor = page.settled_seq.unwrap_or(after).max(after);
    headers.insert(CURSOR_HEADER, HeaderValue::from(cursor));
    headers.insert(
        MORE_HEADER,
        HeaderValue::from_static(if page.more && cursor > after {
            "true"
        } else {
            "false"
        }),
    );
    response
}
