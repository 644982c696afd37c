//! Request and response plumbing shared by every handler: JSON bodies and query strings that
//! fail with Okta's errors, the rewrite of axum's plain-text rejections into Okta's (or OAuth's)
//! error objects, cursor pagination with `Link` headers, and the per-request context.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use steward_core::syslog::{Actor, ClientInfo};

use crate::error::ApiError;
use crate::guard::Principal;

/// A JSON body; anything that does not parse is `E0000003`. A body over the size limit keeps
/// its `413`, which [`okta_rejections`] renders as Okta's error object.
pub struct OktaJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OktaJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                e.into_response()
            } else {
                ApiError::MalformedBody(e.body_text()).into_response()
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(OktaJson)
            .map_err(|e| ApiError::MalformedBody(e.to_string()).into_response())
    }
}

/// The most of a plain-text error body read back when rewriting it.
const MAX_REJECTION_BYTES: usize = 16 * 1024;
/// The most of axum's rejection text kept in an error's cause.
const MAX_CAUSE_CHARS: usize = 512;

/// Rewrites every `4xx` answered as plain text (axum's extractor rejections: a path segment that
/// is not UTF-8, a query or form that does not deserialize, a body over the size limit, a wrong
/// `Content-Type`, ...) into the error object of the endpoint: RFC 6749's
/// `{"error", "error_description"}` under `/oauth2/` (except the client-role Management API),
/// Okta's error object everywhere else. The status and the other headers are kept; JSON, HTML
/// and empty bodies (the bare `WWW-Authenticate` challenges) pass through untouched. Installed
/// inside `okta_headers`, so the rewritten answer still gets `X-Okta-Request-Id` and the rest.
pub async fn okta_rejections(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    if !response.status().is_client_error() || !is_plain_text(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text: String = axum::body::to_bytes(body, MAX_REJECTION_BYTES)
        .await
        .map(|b| {
            String::from_utf8_lossy(&b)
                .trim()
                .chars()
                .take(MAX_CAUSE_CHARS)
                .collect()
        })
        .unwrap_or_default();
    let mut rewritten = rejection_error(parts.status, &path, &text).into_response();
    *rewritten.status_mut() = parts.status;
    let headers = rewritten.headers_mut();
    for name in parts.headers.keys() {
        if name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
            || headers.contains_key(name)
        {
            continue;
        }
        for value in parts.headers.get_all(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    rewritten
}

/// Answers `408` when a request is not done within [`crate::Config::request_timeout`] (a body
/// trickled in, most likely). Dropping the handler rolls back whatever it had begun; the answer
/// is plain text, which [`okta_rejections`] (outside this layer) turns into the endpoint's error.
pub async fn request_deadline(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "request body: The request was not completed in time.",
        )
            .into_response(),
    }
}

fn is_plain_text(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/plain")
        })
}

/// OAuth endpoints answer RFC 6749 errors; the client-role routes under `/oauth2/v1/clients/`
/// are Management API and answer Okta's.
fn is_oauth_path(path: &str) -> bool {
    path.starts_with("/oauth2/") && !path.starts_with("/oauth2/v1/clients/")
}

/// Whether axum's rejection text is about the request body (its fixed part, before any `: `
/// detail, names the body).
fn about_body(text: &str) -> bool {
    let head = text.split(": ").next().unwrap_or_default();
    head.to_ascii_lowercase().contains("body")
}

/// The error that replaces a plain-text `4xx` with `status` and `text` on `path`.
fn rejection_error(status: StatusCode, path: &str, text: &str) -> ApiError {
    if is_oauth_path(path) {
        let description = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.".to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                format!("The request's Content-Type is not supported. {text}")
            }
            _ if text.is_empty() => "The request is malformed.".to_string(),
            _ => text.to_string(),
        };
        return ApiError::OAuth {
            status,
            error: "invalid_request",
            description: description.trim().to_string(),
            dpop_nonce: None,
            basic_challenge: false,
        };
    }
    let cause = |field: &str, fallback: &str| {
        let detail = if text.is_empty() { fallback } else { text };
        ApiError::validation(field, format!("{field}: {detail}"))
    };
    match status {
        StatusCode::NOT_FOUND => ApiError::NotFound(path.to_string()),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::validation(
            "request body",
            "request body: The request body is larger than the server accepts.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => cause("Content-Type", "not supported"),
        _ if about_body(text) => ApiError::MalformedBody(text.to_string()),
        _ if text.starts_with("Invalid URL") || text.contains("path argument") => {
            cause("path", "invalid path parameter")
        }
        _ if text.contains("query string") => cause("query", "invalid query string"),
        _ => cause("request", "malformed request"),
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
    /// The guard let the call through only as a user acting on their own record with a `.self`
    /// scope (`okta.users.read.self`, `okta.users.manage.self`), not as an admin.
    pub own_record: bool,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        self.principal.actor.clone()
    }

    /// The use-case context of this caller's action: the state's store, clock and event bus.
    pub fn ctx<'a>(&self, state: &'a crate::AppState) -> steward_app::Ctx<'a> {
        steward_app::Ctx {
            store: &state.store,
            now: state.clock.now(),
            actor: self.actor(),
            client: self.client.clone(),
            bus: Some(&state.events),
        }
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

/// The one SCIM filter parse of every list route: `filter` and `search` (either may be absent or
/// blank) are parsed and joined with `and`; a bad filter is Okta's `E0000053`.
pub fn scim_filter(
    filter_text: Option<&str>,
    search_text: Option<&str>,
) -> Result<Option<steward_core::filter::Filter>, ApiError> {
    use steward_core::filter::{self, Filter};
    let parse = |text: Option<&str>| -> Result<Option<Filter>, ApiError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => filter::parse(t)
                .map(Some)
                .map_err(|e| ApiError::InvalidFilter(e.message)),
            None => Ok(None),
        }
    };
    Ok(match (parse(filter_text)?, parse(search_text)?) {
        (Some(a), Some(b)) => Some(Filter::And(Box::new(a), Box::new(b))),
        (a, b) => a.or(b),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use axum::body::{to_bytes, Body};
    use axum::extract::{Path, Request};
    use axum::http::{header, StatusCode};
    use axum::response::{Html, IntoResponse};
    use axum::routing::get;
    use axum::Router;
    use serde_json::Value;
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route(
                "/oauth2/v1/thing/{id}",
                get(|Path(id): Path<String>| async { id }),
            )
            .route(
                "/oauth2/v1/clients/{id}/roles",
                get(|Path(id): Path<String>| async { id }),
            )
            .route(
                "/oauth2/v1/big",
                get(|| async { (StatusCode::PAYLOAD_TOO_LARGE, "too big").into_response() }),
            )
            .route(
                "/api/v1/unsupported",
                get(|| async { (StatusCode::UNSUPPORTED_MEDIA_TYPE, "nope").into_response() }),
            )
            .route(
                "/page",
                get(|| async { (StatusCode::BAD_REQUEST, Html("<p>bad</p>")).into_response() }),
            )
            .route("/empty", get(|| async { StatusCode::UNAUTHORIZED }))
            .layer(axum::middleware::from_fn(super::okta_rejections))
    }

    async fn call(path: &str) -> (StatusCode, String, String) {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, content_type, String::from_utf8_lossy(&body).into())
    }

    #[tokio::test]
    async fn oauth_paths_answer_rfc6749_errors() {
        let (status, content_type, body) = call("/oauth2/v1/thing/%FF").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(content_type.starts_with("application/json"));
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], "invalid_request");
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("UTF-8"));

        let (status, _, body) = call("/oauth2/v1/big").await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], "invalid_request");
    }

    #[tokio::test]
    async fn management_paths_answer_okta_errors() {
        let (status, _, body) = call("/oauth2/v1/clients/%FF/roles").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["errorCode"], "E0000001");

        let (status, _, body) = call("/api/v1/unsupported").await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["errorCode"], "E0000001");
        assert_eq!(body["errorCauses"][0]["errorSummary"], "Content-Type: nope");
    }

    #[tokio::test]
    async fn html_empty_and_successful_answers_pass_through() {
        let (status, content_type, body) = call("/page").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(content_type.starts_with("text/html"));
        assert_eq!(body, "<p>bad</p>");
        let (status, content_type, body) = call("/empty").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!((content_type.as_str(), body.as_str()), ("", ""));
        let (status, _, body) = call("/oauth2/v1/thing/abc").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "abc"));
    }

    #[test]
    fn body_rejections_are_malformed_bodies() {
        assert!(super::about_body(
            "Failed to buffer the request body: length limit"
        ));
        assert!(super::about_body("Failed to deserialize form body: x"));
        assert!(!super::about_body(
            "Invalid URL: Cannot parse `id` with value `body`"
        ));
        assert!(!super::about_body(
            "Failed to deserialize query string: body"
        ));
    }
}
