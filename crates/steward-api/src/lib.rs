//! Steward's HTTP surface: the Okta Management API core (`/api/v1`), health, and the cross-cutting
//! behaviour every response shares (Okta error objects, `X-Okta-Request-Id`, `Date`, rate-limit
//! headers, `404`/`405` and axum's extractor rejections in Okta's shape). Handlers are thin: the
//! guard has authorised the call before they run; they validate input, make one domain change
//! through the store and respond.

pub mod error;
pub mod governance;
pub mod guard;
pub mod http;
mod mgmt;
pub mod oauth;
pub mod outbox;
pub mod ratelimit;
mod render;
pub mod routes;
pub mod secrets;
pub mod workflows;
pub mod workflows_connections;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use steward_core::syslog::ClientInfo;
use steward_store::Store;

use crate::error::ApiError;
use crate::guard::PrincipalCache;
use crate::ratelimit::{RateLimiter, RateLimits};

/// Server settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The org URL: used in every link, token and challenge, byte-identical everywhere.
    pub issuer: String,
    pub rate_limits: RateLimits,
    /// The longest a request may take from its head to its answer, body included: a client
    /// that trickles its body holds a connection and a task no longer than this.
    pub request_timeout: std::time::Duration,
}

/// What `steward serve` allows a request by default ([`Config::request_timeout`]).
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Everything a handler may touch. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Arc<oauth::AuthServer>,
    pub config: Arc<Config>,
    pub limiter: Arc<RateLimiter>,
    pub principals: Arc<PrincipalCache>,
    /// The clock access requests and activation links run on (tests set it).
    pub clock: governance::Clock,
    /// Access-request events, published after their transaction commits.
    pub events: governance::EventBus,
    /// Client registrations and their granted scopes, as the token endpoint reads them.
    pub clients: Arc<oauth::ClientCache>,
    /// Group commit of token issues.
    pub ledger: oauth::Ledger,
    /// Runs flows (`/workflows/api/v1`, API endpoint invocations); `steward serve` starts its
    /// worker ([`AppState::spawn_flow_worker`]).
    pub flows: steward_app::flows::Runner,
    /// Workflows connections: sealed with a key derived from the master key, authorized and
    /// refreshed against this org's issuer over HTTP.
    pub connections: Arc<steward_app::flows::connections::ConnectionService>,
}

impl AppState {
    /// Must run inside a Tokio runtime: it starts the token ledger's writer task. The caches
    /// follow the domain events of every transaction committed through `store`
    /// ([`outbox::subscribe`]); run an [`outbox::OutboxFollower`] to follow other nodes too.
    pub fn new(store: Store, config: Config, auth: Arc<oauth::AuthServer>) -> AppState {
        let clock = governance::Clock::default();
        let connections = Arc::new(steward_app::flows::connections::ConnectionService::new(
            auth.connections_key,
            &config.issuer,
        ));
        // Connector cards call the org with their connection's token (`okta`, `oig`); Tables
        // cards read and write the store.
        let tokens = Arc::new(steward_app::flows::connections::ConnectionTokenSource {
            store: store.clone(),
            service: connections.clone(),
            clock: clock.clone(),
        });
        let okta = Arc::new(
            steward_app::flows::OktaConnectors::new(store.clone(), tokens)
                .with_clock(clock.clone()),
        );
        let flows = steward_app::flows::Runner::new(
            store.clone(),
            with_tables(&store, &clock, okta),
            steward_app::flows::RunnerConfig::default(),
            clock.clone(),
        );
        let state = AppState {
            connections,
            flows,
            auth,
            limiter: Arc::new(RateLimiter::new(config.rate_limits)),
            config: Arc::new(config),
            principals: Arc::new(PrincipalCache::default()),
            clock,
            events: governance::EventBus::default(),
            clients: Arc::new(oauth::ClientCache::default()),
            ledger: oauth::Ledger::start(store.clone()),
            store,
        };
        outbox::subscribe(&state.store, outbox::Caches::of(&state));
        state
    }
}

/// `connectors` beside the Tables cards, which every runner has.
fn with_tables(
    store: &Store,
    clock: &governance::Clock,
    connectors: Arc<dyn steward_app::flows::Connectors>,
) -> Arc<dyn steward_app::flows::Connectors> {
    Arc::new(steward_app::flows::ConnectorSet(vec![
        connectors,
        Arc::new(steward_app::flows::TableConnectors::new(
            store.clone(),
            clock.clone(),
        )),
    ]))
}

impl AppState {
    /// What connector cards get their connection's token from ([`steward_app::flows::TokenSource`]).
    pub fn connection_tokens(&self) -> Arc<steward_app::flows::connections::ConnectionTokenSource> {
        Arc::new(steward_app::flows::connections::ConnectionTokenSource {
            store: self.store.clone(),
            service: self.connections.clone(),
            clock: self.clock.clone(),
        })
    }

    /// The same state whose flow runner runs connector cards with `connectors` (e.g.
    /// [`steward_app::flows::OktaConnectors`] over the connections' tokens). Build the router
    /// from the state this returns.
    pub fn with_flow_connectors(
        mut self,
        connectors: Arc<dyn steward_app::flows::Connectors>,
    ) -> AppState {
        let connectors = with_tables(&self.store, &self.clock, connectors);
        self.flows = self.flows.with_connectors(connectors);
        self
    }

    /// Starts a worker that claims and runs queued flow runs until the process ends.
    pub fn spawn_flow_worker(&self) -> steward_app::flows::runner::Worker {
        self.flows.spawn()
    }
}

/// The id of one request, echoed in `X-Okta-Request-Id` and recorded in the System Log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Who made a request, as the System Log records it: the peer address, the user agent and the
/// request id. An extractor for handlers outside the guard (the token endpoint, sign-in).
pub struct RequestClient(pub ClientInfo);

/// The longest user agent the System Log keeps.
const MAX_USER_AGENT_CHARS: usize = 512;

impl RequestClient {
    pub fn of(headers: &axum::http::HeaderMap, extensions: &axum::http::Extensions) -> ClientInfo {
        ClientInfo {
            ip_address: extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
            // Capped: every unauthenticated sign-in attempt records it.
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
            request_id: extensions.get::<RequestId>().map(|r| r.0.clone()),
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestClient {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestClient(RequestClient::of(
            &parts.headers,
            &parts.extensions,
        )))
    }
}

/// The request's normalised credential digest ([`credential_key`] of its `Authorization`
/// header), the rate limiter's key.
#[derive(Debug, Clone)]
pub struct CredentialDigest(pub String);

/// The whole application.
pub fn router(state: AppState) -> Router {
    router_with(state, Vec::new())
}

/// The whole application with other services mounted under their path prefixes (the Admin
/// Console at `/admin`, crate `steward-console`): they get the same request ids, rate limits,
/// deadline and hardening headers as the API (a page's own headers win).
pub fn router_with(state: AppState, mounts: Vec<(&'static str, Router)>) -> Router {
    let mut router = routes::api()
        .into_router(&state)
        .merge(oauth::routes())
        .route(
            "/api/flo/{flowId}/invoke",
            axum::routing::post(workflows::invoke),
        )
        .route(
            steward_app::flows::connections::CALLBACK_PATH,
            get(workflows_connections::callback),
        );
    let mounted: Vec<&str> = mounts.iter().map(|(prefix, _)| *prefix).collect();
    // The org's URL opens the end-user dashboard (as Okta's does); `/workflows` is the Admin
    // Console's Workflows pages (`/workflows/api` and `/workflows/oauth` are the API's).
    if mounted.contains(&"/app") {
        router = router.route("/", get(|| async { Redirect::to("/app/") }));
    } else if mounted.contains(&"/admin") {
        router = router.route("/", get(|| async { Redirect::to("/admin/") }));
    }
    if mounted.contains(&"/admin") {
        router = router.route(
            "/workflows",
            get(|| async { Redirect::to("/admin/workflows") }),
        );
    }
    for (prefix, service) in mounts {
        router = router.nest_service(prefix, service);
    }
    router
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::request_deadline,
        ))
        // Inside `okta_headers`, so a rewritten rejection still gets the Okta headers.
        .layer(middleware::from_fn(http::okta_rejections))
        .layer(middleware::from_fn_with_state(state.clone(), okta_headers))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// No route matched: `501` when the path is one of Okta's that Steward has not built yet (with
/// a method the spec has for it), else Okta's `404`/`405`.
async fn not_found(req: Request) -> ApiError {
    let path = req.uri().path();
    if let Some(op) = routes::okta_operation(req.method().as_str(), path) {
        return routes::not_built(op);
    }
    if !routes::spec_operations(path).is_empty() {
        // Okta has the path but not this method: as Okta answers.
        return ApiError::MethodNotAllowed;
    }
    ApiError::NotFound(path.to_string())
}

/// The path is served but not with this method: `501` when the method is one Okta's spec has
/// there (an operation not built yet), else `405`.
async fn method_not_allowed(req: Request) -> ApiError {
    match routes::okta_operation(req.method().as_str(), req.uri().path()) {
        Some(op) => routes::not_built(op),
        None => ApiError::MethodNotAllowed,
    }
}

/// Stamps every response with `X-Okta-Request-Id`, `Date` and the rate-limit headers, and
/// refuses requests over the limit with `429` `E0000047`.
async fn okta_headers(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let request_id = steward_core::ids::random_secret(24);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let credential = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| credential_key(&String::from_utf8_lossy(v.as_bytes())));
    if let Some(digest) = &credential {
        req.extensions_mut()
            .insert(CredentialDigest(digest.clone()));
    }
    let address = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let decision = if req.uri().path() == "/healthz" {
        None
    } else {
        Some(
            state
                .limiter
                .check(credential.as_deref(), address.as_deref(), now),
        )
    };
    let mut response = match decision {
        Some(d) if !d.allowed => ApiError::RateLimited.into_response(),
        _ => next.run(req).await,
    };
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("x-okta-request-id", request_id);
    set("date", http_date(now));
    if let Some(d) = decision {
        set("x-rate-limit-limit", d.limit.to_string());
        set("x-rate-limit-remaining", d.remaining.to_string());
        set("x-rate-limit-reset", d.reset.to_string());
    }
    harden(headers);
    response
}

/// The hardening headers of every response, errors included: never sniffed; not stored unless
/// the endpoint says how long it may be cached (keys, discovery); never framed and running
/// nothing unless it is a page, which sets its own policy (`oauth::pages`).
fn harden(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    let defaults = [
        (header::CACHE_CONTROL.as_str(), "no-store"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("x-frame-options", "DENY"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// The rate limiter's key of an `Authorization` header: SHA-256 (hex) of the scheme in lowercase
/// and the token without surrounding whitespace, so `Bearer  tok`, `bearer tok` and `BEARER tok`
/// are one credential with one budget.
pub fn credential_key(header_value: &str) -> String {
    let value = header_value.trim();
    let (scheme, token) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));
    credential_digest(scheme, token)
}

/// SHA-256 (hex) of a credential given as scheme and token (see [`credential_key`]).
pub fn credential_digest(scheme: &str, token: &str) -> String {
    secrets::sha256_hex(&format!("{} {}", scheme.to_ascii_lowercase(), token.trim()))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), as HTTP's `Date` header wants.
fn http_date(epoch_secs: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(epoch_secs as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let weekday = &t.weekday().to_string()[..3];
    let month = &t.month().to_string()[..3];
    format!(
        "{weekday}, {:02} {month} {} {:02}:{:02}:{:02} GMT",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_date_format() {
        assert_eq!(super::http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn credential_key_normalises_scheme_and_whitespace() {
        let k = super::credential_key("Bearer tok");
        for variant in [
            "bearer tok",
            "BEARER  tok",
            " Bearer\ttok ",
            "Bearer tok   ",
        ] {
            assert_eq!(super::credential_key(variant), k, "{variant:?}");
        }
        assert_eq!(super::credential_digest("Bearer", "tok"), k);
        assert_ne!(super::credential_key("SSWS tok"), k);
        assert_ne!(super::credential_key("Bearer tok2"), k);
    }
}
