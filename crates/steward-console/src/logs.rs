//! The System Log page (`/admin/logs`): newest first, filtered by keyword, event type, actor
//! and outcome (GET form, works without script), paged by the log's sequence number.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_core::roles::Permission;
use steward_store::{LogQuery, SortOrder};

use crate::pages::{self, encode, render};
use crate::session::Admin;
use crate::Console;

/// Events per page.
const PAGE: usize = 50;
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

/// `GET /admin/logs`.
pub async fn list(
    State(console): State<Console>,
    admin: Admin,
    Query(q): Query<LogsQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::LogsRead, "Reading the System Log") {
        return refused;
    }
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
            Err(e) => return pages::message(StatusCode::BAD_REQUEST, "Invalid filter", &e.message),
        },
    };
    let page = match console
        .api
        .store
        .log_events(&LogQuery {
            q: q.q.split_whitespace().map(str::to_string).collect(),
            filter,
            after: q.after,
            limit: PAGE,
            order: SortOrder::Descending,
            ..Default::default()
        })
        .await
    {
        Ok(p) => p,
        Err(e) => return pages::app_error(e.into()),
    };
    let next = match (page.more, page.last_seq) {
        (true, Some(seq)) => Some(format!(
            "/admin/logs?q={}&eventType={}&actor={}&outcome={}&after={seq}",
            encode(&q.q),
            encode(event_type),
            encode(actor),
            encode(outcome)
        )),
        _ => None,
    };
    render(
        StatusCode::OK,
        "logs.html",
        json!({
            "me": admin.me(),
            "section": "logs",
            "q": q.q,
            "event_type": event_type,
            "actor": actor,
            "outcome": outcome,
            "outcomes": OUTCOMES,
            "events": page.events.iter().map(row).collect::<Vec<_>>(),
            "next": next,
        }),
    )
}
