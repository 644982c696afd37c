//! Request and response plumbing shared by every handler: JSON bodies and query strings that
//! fail with Okta's errors, cursor pagination with `Link` headers, and the per-request context.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use steward_core::syslog::{Actor, ClientInfo};

use crate::error::ApiError;
use crate::guard::Principal;

/// A JSON body; anything that does not parse is `E0000003`.
pub struct OktaJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OktaJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::MalformedBody(e.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(OktaJson)
            .map_err(|e| ApiError::MalformedBody(e.to_string()))
    }
}

/// A query string; a parameter of the wrong type is `E0000001`.
pub struct OktaQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for OktaQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(OktaQuery)
            .map_err(|e| ApiError::validation("query", format!("query: {e}")))
    }
}

/// Who is calling and from where: set by the guard for every API route.
#[derive(Clone)]
pub struct Caller {
    pub principal: std::sync::Arc<Principal>,
    pub client: ClientInfo,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        self.principal.actor.clone()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("route reached without the guard".into()))
    }
}

/// Parses `limit` (default and maximum per endpoint) as Okta does: out-of-range values are
/// clamped, non-numbers are refused.
pub fn page_limit(raw: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    match raw {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n < 1 => Ok(default),
            Ok(n) => Ok((n as usize).min(max)),
            Err(_) => Err(ApiError::InvalidPaging("limit: INVALID_DATA_TYPE".into())),
        },
    }
}

/// `Link` headers for a list: `self` always, `next` when there is more.
pub fn link_headers(
    issuer: &str,
    path: &str,
    query: Option<&str>,
    next_after: Option<&str>,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let self_url = match query {
        Some(q) if !q.is_empty() => format!("{issuer}{path}?{q}"),
        _ => format!("{issuer}{path}"),
    };
    if let Ok(v) = HeaderValue::from_str(&format!("<{self_url}>; rel=\"self\"")) {
        headers.append(header::LINK, v);
    }
    if let Some(after) = next_after {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "after");
        pairs.push(("after".into(), after.into()));
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(&format!("<{issuer}{path}?{q}>; rel=\"next\"")) {
            headers.append(header::LINK, v);
        }
    }
    headers
}

/// Paging parameters of lists that take no other query.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub after: Option<String>,
}

/// Cuts a page out of `rows` (fetched with `limit + 1`) and builds its `Link` headers (`self`,
/// and `next` when there is more), as every Okta list answers.
pub fn paginate<T>(
    issuer: &str,
    uri: &axum::http::Uri,
    rows: Vec<T>,
    limit: usize,
    cursor: impl Fn(&T) -> String,
) -> (Vec<T>, HeaderMap) {
    let (page, next) = split_page(rows, limit, cursor);
    (
        page,
        link_headers(issuer, uri.path(), uri.query(), next.as_deref()),
    )
}

/// Splits one extra row off a page fetched with `limit + 1`: returns the page and the cursor
/// for the next one, if any.
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: usize,
    cursor: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(cursor);
        (rows, next)
    } else {
        (rows, None)
    }
}
