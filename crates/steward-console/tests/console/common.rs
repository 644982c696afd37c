//! A real Steward org with its Admin Console on a real port, over SQLite or PostgreSQL, and a
//! browser-like client (cookies, no automatic redirects) that signs in the way a browser does.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{json, Value};
use steward_api::ratelimit::RateLimits;
use steward_api::{AppState, Config};
use steward_store::{Store, StoreConfig};

pub const ADMIN_TOKEN: &str = "00console-admin-token-0123456789abcdefg";
pub const ADMIN_LOGIN: &str = "admin@steward.local";
pub const ADMIN_PASSWORD: &str = "Adm1nPassword!";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

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
    pub base: String,
    pub store: Store,
    pub state: AppState,
}

async fn store_url(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!(
                "steward-console-{}",
                steward_core::ids::random_secret(10)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}?mode=rwc", dir.join("steward.db").display())
        }
        Backend::Postgres => {
            let admin = std::env::var("STEWARD_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            steward_store::create_scratch_postgres(&admin, "steward_console_test")
                .await
                .expect("PostgreSQL at 127.0.0.1:5432 (set STEWARD_TEST_PG_URL)")
        }
    }
}

impl TestOrg {
    pub async fn start(backend: Backend) -> TestOrg {
        let store = Store::open(&StoreConfig {
            url: store_url(backend).await,
            max_connections: 8,
        })
        .await
        .unwrap();
        steward_app::bootstrap::ensure_org(&store, Some(ADMIN_PASSWORD), Some(ADMIN_TOKEN))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let auth = Arc::new(
            steward_api::oauth::AuthServer::start(&store, [9u8; 32])
                .await
                .unwrap(),
        );
        let config = Config {
            issuer: base.clone(),
            rate_limits: RateLimits {
                per_token: 100_000,
                per_address: 100_000,
            },
            request_timeout: steward_api::DEFAULT_REQUEST_TIMEOUT,
        };
        let state = AppState::new(store.clone(), config, auth);
        let console = steward_console::router(state.clone(), steward_console::Settings::default())
            .await
            .unwrap();
        let dashboard =
            steward_console::end_user_router(state.clone(), steward_console::Settings::default())
                .await
                .unwrap();
        let app = steward_api::router_with(
            state.clone(),
            vec![("/admin", console), ("/app", dashboard)],
        );
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestOrg { base, store, state }
    }

    /// A Management API call with the Super Admin's SSWS token.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("SSWS {ADMIN_TOKEN}"))
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A new ACTIVE user with a password, and `role` when given; their login.
    pub async fn user(&self, name: &str, role: Option<&str>) -> (String, String) {
        let login = format!("{name}@example.com");
        let (status, user) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/users?activate=true",
                Some(json!({
                    "profile": {"firstName": name, "lastName": "Tester", "email": login, "login": login},
                    "credentials": {"password": {"value": "Us3r-Passw0rd!"}},
                })),
            )
            .await;
        assert_eq!(status, 200, "{user}");
        let id = user["id"].as_str().unwrap().to_string();
        if let Some(role) = role {
            let (status, body) = self
                .api(
                    reqwest::Method::POST,
                    &format!("/api/v1/users/{id}/roles"),
                    Some(json!({"type": role})),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        (id, login)
    }

    /// The id of a new OIDC web app that scopes can be granted to.
    pub async fn app(&self) -> String {
        let (status, app) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/apps",
                Some(json!({
                    "name": "oidc_client", "label": "Workflows", "signOnMode": "OPENID_CONNECT",
                    "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                    "settings": {"oauthClient": {
                        "application_type": "web",
                        "grant_types": ["authorization_code"],
                        "redirect_uris": ["https://app.example/cb"],
                    }},
                })),
            )
            .await;
        assert_eq!(status, 200, "{app}");
        app["id"].as_str().unwrap().to_string()
    }

    pub async fn grants(&self, app_id: &str) -> Vec<String> {
        let (status, grants) = self
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/apps/{app_id}/grants"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        grants
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["scopeId"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn browser(&self) -> Browser {
        let jar = Arc::new(Jar::default());
        Browser {
            base: self.base.clone(),
            jar: jar.clone(),
            http: reqwest::Client::builder()
                .cookie_provider(jar)
                .redirect(Policy::none())
                .build()
                .unwrap(),
        }
    }
}

/// A browser: keeps cookies, follows no redirect by itself.
pub struct Browser {
    pub base: String,
    pub jar: Arc<Jar>,
    pub http: reqwest::Client,
}

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    /// The `Set-Cookie` header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value of the first hidden input `name`.
    pub fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        unescape(&self.body[start..end])
    }
}

/// Undoes minijinja's HTML escaping.
pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let res = self.http.get(self.url(path)).send().await.unwrap();
        Self::page(res).await
    }

    /// Posts a form (`Origin` as a browser sends it with its own posts).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(path, form, Some(&self.base.clone())).await
    }

    pub async fn post_from(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Page {
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        Self::page(req.send().await.unwrap()).await
    }

    async fn page(res: reqwest::Response) -> Page {
        Page {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    /// Follows redirects from `page` (GETs), returning the first page that is not one.
    pub async fn follow(&self, mut page: Page) -> Page {
        for _ in 0..10 {
            if !(300..400).contains(&page.status) {
                return page;
            }
            page = self.get(&page.location()).await;
        }
        panic!("too many redirects");
    }

    /// The value of cookie `name` this browser holds for the org.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = url::Url::parse(&self.base).unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// Opens `path` and signs in on Steward's sign-in page as `login`; the page the console
    /// answers with once signed in (after the redirects).
    pub async fn sign_in(&self, path: &str, login: &str, password: &str) -> Page {
        let page = self.follow(self.get(path).await).await;
        assert!(
            page.body.contains("name=\"password\""),
            "the sign-in page: {}",
            page.body
        );
        let csrf = page.input("csrf");
        let return_to = page.input("return_to");
        let posted = self
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("return_to", &return_to),
                    ("username", login),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(posted.status, 303, "{}", posted.body);
        self.follow(posted).await
    }
}
