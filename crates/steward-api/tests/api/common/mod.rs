//! A real Steward org on a real port, over SQLite or PostgreSQL, for HTTP tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod oauth;

use std::net::SocketAddr;

use reqwest::{Method, Response};
use serde_json::Value;
use steward_api::ratelimit::RateLimits;
use steward_api::{AppState, Config};
use steward_app::bootstrap;
use steward_store::{Store, StoreConfig};

pub const ADMIN_TOKEN: &str = "00test-admin-token-0123456789abcdefghijk";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// Declares each named `async fn(Backend)` twice, as `sqlite::NAME` and `postgres::NAME`, so a
/// failure says which backend failed. Use it for new tests instead of a loop over [`BACKENDS`]:
///
/// ```ignore
/// async fn the_thing_holds(backend: Backend) { let org = TestOrg::start(backend).await; ... }
/// on_both_backends!(the_thing_holds);
/// ```
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )+
        }
    };
}

pub struct TestOrg {
    pub auth: std::sync::Arc<steward_api::oauth::AuthServer>,
    pub backend: Backend,
    pub base: String,
    pub store: Store,
    pub http: reqwest::Client,
    pub token: String,
    /// The server's state (its clock drives access-request expiry in tests).
    pub state: AppState,
}

pub async fn open_store(backend: Backend) -> Store {
    open_url(&store_url(backend).await).await
}

/// The URL of a new, empty database (a SQLite file or a scratch PostgreSQL database).
pub async fn store_url(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!(
                "steward-api-{}",
                steward_core::ids::random_secret(10)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}?mode=rwc", dir.join("steward.db").display())
        }
        Backend::Postgres => {
            let admin = std::env::var("STEWARD_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            steward_store::create_scratch_postgres(&admin, "steward_api_test")
                .await
                .expect("PostgreSQL at 127.0.0.1:5432 (set STEWARD_TEST_PG_URL)")
        }
    }
}

/// A store over `url`; opening the same URL twice gives two nodes of one org.
pub async fn open_url(url: &str) -> Store {
    Store::open(&StoreConfig {
        url: url.to_string(),
        max_connections: 8,
    })
    .await
    .unwrap()
}

impl TestOrg {
    pub async fn start(backend: Backend) -> TestOrg {
        Self::start_with(
            backend,
            RateLimits {
                per_token: 100_000,
                per_address: 100_000,
            },
        )
        .await
    }

    pub async fn start_with(backend: Backend, rate_limits: RateLimits) -> TestOrg {
        let store = open_store(backend).await;
        Self::start_on_with(backend, store, rate_limits, None).await
    }

    /// An org whose flows run connector cards with the connectors `make` builds over its store.
    pub async fn start_with_connectors(
        backend: Backend,
        make: impl FnOnce(&Store) -> std::sync::Arc<dyn steward_app::flows::Connectors>,
    ) -> TestOrg {
        let store = open_store(backend).await;
        let connectors = make(&store);
        let limits = RateLimits {
            per_token: 100_000,
            per_address: 100_000,
        };
        Self::start_on_with(backend, store, limits, Some(connectors)).await
    }

    /// A new server on an existing store (a restart).
    pub async fn start_on(backend: Backend, store: Store) -> TestOrg {
        Self::start_on_with(
            backend,
            store,
            RateLimits {
                per_token: 100_000,
                per_address: 100_000,
            },
            None,
        )
        .await
    }

    async fn start_on_with(
        backend: Backend,
        store: Store,
        rate_limits: RateLimits,
        connectors: Option<std::sync::Arc<dyn steward_app::flows::Connectors>>,
    ) -> TestOrg {
        bootstrap::ensure_org(&store, Some("Adm1nPassword!"), Some(ADMIN_TOKEN))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let auth = std::sync::Arc::new(
            steward_api::oauth::AuthServer::start(&store, [7u8; 32])
                .await
                .unwrap(),
        );
        let config = Config {
            issuer: base.clone(),
            rate_limits,
            request_timeout: steward_api::DEFAULT_REQUEST_TIMEOUT,
        };
        let mut state = AppState::new(store.clone(), config, auth.clone());
        if let Some(connectors) = connectors {
            state = state.with_flow_connectors(connectors);
        }
        let app = steward_api::router(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestOrg {
            auth,
            backend,
            base,
            store,
            http: reqwest::Client::new(),
            token: ADMIN_TOKEN.into(),
            state,
        }
    }

    /// Sends a request with the admin token (or `token`) and returns status and JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send_as(&self.token.clone(), method, path, body).await
    }

    pub async fn send_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let response = self
            .raw(
                Some(&format!("SSWS {token}")),
                method,
                path,
                body.map(|b| b.to_string()),
            )
            .await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    pub async fn raw(
        &self,
        authorization: Option<&str>,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates an active user with a password and returns its JSON.
    pub async fn user(&self, login: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/users?activate=true",
                serde_json::json!({
                    "profile": {"login": login, "email": login, "firstName": "Test", "lastName": login.split('@').next().unwrap()},
                    "credentials": {"password": {"value": "Sup3r-Secret-Pass"}},
                }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// An SSWS token for the user with `login`.
    pub async fn token_for(&self, login: &str) -> String {
        bootstrap::create_api_token(&self.store, "test", login)
            .await
            .unwrap()
            .1
    }
}

/// Asserts an Okta error object with `code`.
pub fn assert_error(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["errorLink"], code);
    assert!(
        body["errorSummary"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert!(
        body["errorId"]
            .as_str()
            .is_some_and(|s| s.starts_with("oae")),
        "{body}"
    );
    assert!(body["errorCauses"].is_array(), "{body}");
}
