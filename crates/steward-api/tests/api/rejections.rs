//! axum's extractor rejections (bad path segments, bad queries, oversized or malformed bodies)
//! answer Okta's error object, or RFC 6749's under `/oauth2/v1`, never plain text; HTML pages
//! and ordinary answers are left as they are.
use crate::common;

use common::oauth::{authorize_url, pkce, web_app_with_user};
use common::{assert_error, Backend, TestOrg};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

/// Over axum's default 2 MB body limit.
const TOO_LARGE: usize = 2 * 1024 * 1024 + 4096;

struct Reply {
    status: u16,
    content_type: String,
    request_id: bool,
    body: Value,
}

async fn reply(req: RequestBuilder) -> Reply {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let content_type = header("content-type");
    let request_id = !header("x-okta-request-id").is_empty() && !header("date").is_empty();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        content_type,
        request_id,
        body,
    }
}

impl TestOrg {
    fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("SSWS {}", self.token))
    }
}

/// An Okta error object with `code` and `status`, as JSON, with the Okta headers.
fn assert_okta(r: &Reply, status: u16, code: &str) {
    assert_error(r.status, &r.body, status, code);
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    assert!(r.request_id, "X-Okta-Request-Id and Date on {}", r.body);
}

/// An RFC 6749 error with `error`, as JSON, with the Okta headers.
fn assert_oauth(r: &Reply, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["error"], error, "{}", r.body);
    assert!(r.body["error_description"].is_string(), "{}", r.body);
    assert!(r.body.get("errorCode").is_none(), "{}", r.body);
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    assert!(r.request_id, "X-Okta-Request-Id and Date on {}", r.body);
}

async fn app_and_group(org: &TestOrg) -> (String, String) {
    let (s, app) = org.post(
        "/api/v1/apps",
        json!({
            "label": "Rejections",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {"oauthClient": {
                "application_type": "web",
                "grant_types": ["authorization_code"],
                "redirect_uris": ["https://app.example.com/cb"]
            }}
        }),
    )
    .await;
    assert_eq!(s, 200, "{app}");
    let (s, group) = org
        .post("/api/v1/groups", json!({"profile": {"name": "Rejected"}}))
        .await;
    assert_eq!(s, 200, "{group}");
    (
        app["id"].as_str().unwrap().to_string(),
        group["id"].as_str().unwrap().to_string(),
    )
}

async fn path_segments_that_are_not_utf8_answer_e0000001(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = app_and_group(&org).await;
    for path in [
        "/api/v1/users/%FF".to_string(),
        "/api/v1/groups/%C3%28/users".to_string(),
        format!("/api/v1/apps/{app}/grants/%FF"),
        "/oauth2/v1/clients/%FF/roles".to_string(),
        "/governance/api/v2/requests/%FF".to_string(),
    ] {
        let r = reply(org.admin(Method::GET, &path)).await;
        assert_okta(&r, 400, "E0000001");
        let cause = r.body["errorCauses"][0]["errorSummary"].as_str().unwrap();
        assert!(cause.starts_with("path: "), "{path}: {cause}");
    }
}

async fn grants_queries_use_okta_errors(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = app_and_group(&org).await;
    let list = format!("/api/v1/apps/{app}/grants");
    let r = reply(org.admin(Method::GET, &format!("{list}?expand=scope&expand=scope"))).await;
    assert_okta(&r, 400, "E0000001");

    // Well-formed queries are unaffected.
    let (s, g) = org
        .post(
            &list,
            json!({"scopeId": "okta.users.read", "issuer": org.base}),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let (s, all) = org.get(&format!("{list}?expand=scope")).await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(all[0]["_embedded"]["scope"]["id"], "okta.users.read");
    let one = format!("{list}/{}", g["id"].as_str().unwrap());
    let r = reply(org.admin(Method::GET, &format!("{one}?expand=a&expand=b"))).await;
    assert_okta(&r, 400, "E0000001");
    let (s, got) = org.get(&one).await;
    assert_eq!(s, 200, "{got}");
    assert!(got.get("_embedded").is_none(), "{got}");
}

async fn bodies_over_the_limit_answer_413_in_okta_shape(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, group) = app_and_group(&org).await;
    let big = format!(
        "{{\"priority\": 0, \"pad\": \"{}\"}}",
        "x".repeat(TOO_LARGE)
    );
    // A raw `Bytes` body.
    let r = reply(
        org.admin(Method::PUT, &format!("/api/v1/apps/{app}/groups/{group}"))
            .header("Content-Type", "application/json")
            .body(big.clone()),
    )
    .await;
    assert_okta(&r, 413, "E0000001");
    // A JSON body.
    let r = reply(
        org.admin(Method::POST, "/api/v1/groups")
            .header("Content-Type", "application/json")
            .body(big),
    )
    .await;
    assert_okta(&r, 413, "E0000001");
    // Nothing was assigned or created.
    let (s, _) = org.get(&format!("/api/v1/apps/{app}/groups/{group}")).await;
    assert_eq!(s, 404);
}

async fn malformed_json_bodies_and_content_types_answer_e0000003(backend: Backend) {
    let org = TestOrg::start(backend).await;
    for content_type in ["application/json", "text/plain", "application/xml"] {
        let r = reply(
            org.admin(Method::POST, "/api/v1/groups")
                .header("Content-Type", content_type)
                .body("{not json"),
        )
        .await;
        assert_okta(&r, 400, "E0000003");
    }
    let r = reply(
        org.admin(Method::POST, "/api/v1/groups")
            .header("Content-Type", "application/json")
            .body(r#"{"profile": "not an object"}"#),
    )
    .await;
    assert_okta(&r, 400, "E0000003");
}

async fn oauth_endpoints_answer_rfc6749_errors(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let token = format!("{}/oauth2/v1/token", org.base);
    // A body that is not a form, sent as JSON or as a form.
    for content_type in ["application/json", "application/x-www-form-urlencoded"] {
        let r = reply(
            org.http
                .post(&token)
                .header("Content-Type", content_type)
                .body(r#"{"grant_type": "client_credentials"}"#),
        )
        .await;
        let error = r.body["error"].as_str().unwrap_or_default().to_string();
        assert!(!error.is_empty(), "{}", r.body);
        assert_oauth(&r, 400, &error);
    }
    // A parameter sent twice.
    let r = reply(
        org.http
            .post(&token)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&grant_type=password"),
    )
    .await;
    assert_oauth(&r, 400, "invalid_request");
    // A form too large to read.
    let r = reply(
        org.http
            .post(&token)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("grant_type={}", "x".repeat(TOO_LARGE))),
    )
    .await;
    assert!(r.status == 400 || r.status == 413, "{}", r.body);
    assert_oauth(&r, r.status, "invalid_request");
    for endpoint in ["introspect", "revoke"] {
        let r = reply(
            org.http
                .post(format!("{}/oauth2/v1/{endpoint}", org.base))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("token=a&token=b"),
        )
        .await;
        assert!(r.status == 400 || r.status == 401, "{}", r.body);
        assert!(r.body["error"].is_string(), "{endpoint}: {}", r.body);
        assert!(r.request_id);
    }
}

async fn not_found_and_method_not_allowed_stay_okta_shaped(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let r = reply(org.admin(Method::GET, "/api/v1/nothing-here")).await;
    assert_okta(&r, 404, "E0000007");
    let r = reply(org.admin(Method::PATCH, "/api/v1/users")).await;
    assert_okta(&r, 405, "E0000022");
    let r = reply(org.admin(Method::DELETE, "/oauth2/v1/token")).await;
    assert_okta(&r, 405, "E0000022");
    let r = reply(org.admin(Method::GET, "/governance/api/v2/nothing-here")).await;
    assert_okta(&r, 404, "E0000007");
}

async fn ordinary_answers_and_challenges_are_unaffected(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let r = reply(org.admin(Method::GET, "/api/v1/users?limit=5")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.is_array(), "{}", r.body);
    assert!(r.request_id);
    // A bare challenge keeps its empty body; an invalid token keeps E0000011.
    let r = reply(org.http.get(format!("{}/api/v1/users", org.base))).await;
    assert_eq!(r.status, 401);
    assert!(r.request_id);
    let r = reply(
        org.http
            .get(format!("{}/api/v1/users", org.base))
            .header("Authorization", "SSWS not-a-token"),
    )
    .await;
    assert_okta(&r, 401, "E0000011");
    let r = reply(org.http.get(format!("{}/healthz", org.base))).await;
    assert_eq!((r.status, r.body), (200, Value::String("ok".into())));
}

async fn html_pages_stay_html(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let (_, challenge) = pkce();
    // The sign-in page.
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let r = reply(org.http.get(&url)).await;
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("text/html"),
        "{}",
        r.content_type
    );
    assert!(r.body.as_str().unwrap().contains("<form"));
    assert!(r.request_id);
    // An error page (unknown client): a 4xx that is HTML, not JSON.
    let r = reply(org.http.get(format!(
        "{}/oauth2/v1/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Fx&response_type=code&scope=openid",
        org.base
    )))
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.content_type.starts_with("text/html"),
        "{}",
        r.content_type
    );
    assert!(r.body.is_string());
    assert!(r.request_id);
}

on_both_backends!(
    path_segments_that_are_not_utf8_answer_e0000001,
    grants_queries_use_okta_errors,
    bodies_over_the_limit_answer_413_in_okta_shape,
    malformed_json_bodies_and_content_types_answer_e0000003,
    oauth_endpoints_answer_rfc6749_errors,
    not_found_and_method_not_allowed_stay_okta_shaped,
    ordinary_answers_and_challenges_are_unaffected,
    html_pages_stay_html,
);
