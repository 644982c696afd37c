//! `GET /api/v1/logs`: the System Log, as a bare JSON array with a `Link` header.

use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use steward_core::timefmt::{now_millis, parse_rfc3339_millis};
use steward_store::{LogQuery, SortOrder};

use super::scim;
use crate::error::{ApiError, ApiResult};
use crate::http::{link_headers, page_limit, OktaQuery};
use crate::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    since: Option<String>,
    until: Option<String>,
    after: Option<String>,
    filter: Option<String>,
    q: Option<String>,
    limit: Option<String>,
    #[serde(rename = "sortOrder")]
    sort_order: Option<String>,
}

const SEVEN_DAYS_MS: i64 = 7 * 24 * 3600 * 1000;

fn instant(field: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_rfc3339_millis(s).map(Some).ok_or_else(|| {
            ApiError::validation(
                field,
                format!("{field}: '{s}' is not an ISO 8601 timestamp"),
            )
        }),
    }
}

pub async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    OktaQuery(query): OktaQuery<ListQuery>,
) -> ApiResult<Response> {
    let limit = page_limit(query.limit.as_deref(), 100, 1000)?;
    let until = instant("until", query.until.as_deref())?;
    let since = instant("since", query.since.as_deref())?
        .unwrap_or(until.unwrap_or_else(now_millis) - SEVEN_DAYS_MS);
    let order = match query.sort_order.as_deref() {
        None | Some("ASCENDING") => SortOrder::Ascending,
        Some("DESCENDING") => SortOrder::Descending,
        Some(other) => {
            return Err(ApiError::validation(
                "sortOrder",
                format!("sortOrder: '{other}' is not ASCENDING or DESCENDING"),
            ))
        }
    };
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(
            a.parse::<i64>()
                .map_err(|_| ApiError::InvalidPaging("after: INVALID_AFTER_PARAMETER".into()))?,
        ),
    };
    let q: Vec<String> = query
        .q
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if q.len() > 10 || q.iter().any(|k| k.chars().count() > 40) {
        return Err(ApiError::validation(
            "q",
            "q: at most 10 keywords of at most 40 characters",
        ));
    }
    let page = state
        .store
        .log_events(&LogQuery {
            since: Some(since),
            until,
            after,
            filter: scim(query.filter.as_deref(), None)?,
            q,
            limit,
            order,
            settled_before: None,
        })
        .await?;
    // A polling query (ascending, no `until`) always gets a next link, as Okta's does.
    let polling = order == SortOrder::Ascending && until.is_none();
    let next = if page.more || polling {
        Some(page.last_seq.or(after).unwrap_or(0).to_string())
    } else {
        None
    };
    let headers = link_headers(
        &state.config.issuer,
        uri.path(),
        uri.query(),
        next.as_deref(),
    );
    Ok((headers, Json(page.events)).into_response())
}

/// The System Log route.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Routes};
    use steward_core::roles::Permission;
    Routes::new("System Log").get(
        "/api/v1/logs",
        need("okta.logs.read", Permission::LogsRead),
        list,
    )
}
