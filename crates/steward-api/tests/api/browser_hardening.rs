//! Issue 11, items 4 and 5, through HTTP on SQLite and PostgreSQL: the sign-in, consent and
//! activation forms accept only a CSRF token the server derived from the browser's pre-session
//! cookie, and no form posted from another origin; every response family carries the hardening
//! headers, errors included, and the pages' policy runs only their own hashed inline blocks.
use crate::common;

use std::sync::Arc;

use base64::Engine;
use common::oauth::*;
use common::{Backend, TestOrg};
use reqwest::cookie::Jar;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use steward_api::ratelimit::RateLimits;

const PASSWORD: &str = "Sup3r-Secret-Pass";
/// A pre-session id an attacker picked (and could plant as a cookie from a sibling host).
const PLANTED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// A browser whose cookie jar the test can plant cookies in.
fn browser_with_jar() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, jar)
}

fn plant(jar: &Jar, org: &TestOrg, value: &str) {
    jar.add_cookie_str(
        &format!("steward_csrf={value}; Path=/"),
        &org.base.parse().unwrap(),
    );
}

fn sets_session(headers: &HeaderMap) -> bool {
    headers.get_all("set-cookie").iter().any(|c| {
        c.to_str().unwrap().starts_with("steward_sid=")
            && !c.to_str().unwrap().starts_with("steward_sid=;")
    })
}

/// The sign-in page's (csrf, return_to).
async fn sign_in_form(b: &reqwest::Client, url: &str) -> (String, String) {
    let page = b.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    (
        hidden(&html, "csrf").unwrap(),
        hidden(&html, "return_to").unwrap(),
    )
}

async fn post_login(
    org: &TestOrg,
    b: &reqwest::Client,
    origin: Option<&str>,
    csrf: &str,
    return_to: &str,
) -> reqwest::Response {
    let mut req = b.post(format!("{}/login", org.base)).form(&[
        ("csrf", csrf),
        ("return_to", return_to),
        ("username", "jane@example.com"),
        ("password", PASSWORD),
    ]);
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    req.send().await.unwrap()
}

/// A PROVISIONED user's activation link.
async fn activation_link(org: &TestOrg, login: &str) -> (String, String) {
    let (s, u) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": {"login": login, "email": login, "firstName": "A", "lastName": "B"}}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let id = u["id"].as_str().unwrap().to_string();
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/activate?sendEmail=false"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    (id, body["activationUrl"].as_str().unwrap().to_string())
}

async fn user_status(org: &TestOrg, id: &str) -> String {
    let (_, u) = org.get(&format!("/api/v1/users/{id}")).await;
    u["status"].as_str().unwrap().to_string()
}

/// A cookie and form field that merely agree are refused: at sign-in (no session), at consent
/// and at activation. Failed without the fix: the planted pair signed the user in (303 with a
/// session cookie), and activated the user.
async fn forged_double_submit_pairs_are_refused(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = web_app_with_user(&org, "REQUIRED").await;
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid okta.users.read", &challenge, "");

    // Sign-in: the attacker's own pre-session id as cookie and field.
    let (b, jar) = browser_with_jar();
    let (_, return_to) = sign_in_form(&b, &url).await;
    plant(&jar, &org, PLANTED);
    let r = post_login(&org, &b, None, PLANTED, &return_to).await;
    assert_eq!(r.status(), 403);
    assert!(!sets_session(r.headers()), "no session was opened");
    // Another browser's genuine token does not fit this browser's cookie either.
    let (other_csrf, _) = sign_in_form(&browser(), &url).await;
    let r = post_login(&org, &b, None, &other_csrf, &return_to).await;
    assert_eq!(r.status(), 403);
    let (_, user) = org.get("/api/v1/users/jane@example.com").await;
    assert!(user["lastLogin"].is_null(), "{user}");

    // The genuine flow works, up to the consent page.
    let (b, jar) = browser_with_jar();
    let page = sign_in(&org, &b, &url, "jane@example.com", PASSWORD).await;
    assert_eq!(page.status(), 200, "consent page");
    let html = page.text().await.unwrap();
    let mut form: Vec<(String, String)> = [
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    ]
    .iter()
    .filter_map(|k| hidden(&html, k).map(|v| ((*k).to_string(), v)))
    .collect();
    form.push(("consent".into(), "allow".into()));
    // Consent: a planted pair is refused, no code is issued.
    plant(&jar, &org, PLANTED);
    let mut forged = form.clone();
    forged.push(("csrf".into(), PLANTED.into()));
    let r = b
        .post(format!("{}/oauth2/v1/authorize", org.base))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());

    // Activation: a planted pair is refused; the user stays PROVISIONED.
    let (id, link) = activation_link(&org, "wel@example.com").await;
    let (b, jar) = browser_with_jar();
    assert_eq!(b.get(&link).send().await.unwrap().status(), 200);
    plant(&jar, &org, PLANTED);
    let r = b
        .post(&link)
        .form(&[
            ("csrf", PLANTED),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(user_status(&org, &id).await, "PROVISIONED");
}

/// A form posted with another site's `Origin` (or `null`) is refused even with the genuine
/// token; the issuer's own origin, as browsers send it, passes. Failed without the fix: the
/// cross-origin sign-in opened a session (303).
async fn cross_origin_form_posts_are_refused(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let b = browser();
    let (csrf, return_to) = sign_in_form(&b, &url).await;
    for origin in ["https://evil.example", "null", "http://localhost:1"] {
        let r = post_login(&org, &b, Some(origin), &csrf, &return_to).await;
        assert_eq!(r.status(), 403, "{origin}");
        assert!(!sets_session(r.headers()), "{origin}");
    }
    let r = post_login(&org, &b, Some(&org.base), &csrf, &return_to).await;
    assert_eq!(r.status(), 303);
    assert!(sets_session(r.headers()));

    let (id, link) = activation_link(&org, "cross@example.com").await;
    let b = browser();
    let html = b.get(&link).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&html, "csrf").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    let r = b
        .post(&link)
        .header("Origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(user_status(&org, &id).await, "PROVISIONED");
    let r = b
        .post(&link)
        .header("Origin", org.base.as_str())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(user_status(&org, &id).await, "ACTIVE");
}

/// The token key comes from the master key, not from the process: a form served by one node
/// is accepted by another node over the same database.
async fn csrf_tokens_hold_across_nodes(backend: Backend) {
    let a = TestOrg::start(backend).await;
    let b = TestOrg::start_on(backend, a.store.clone()).await;
    let (app, _) = web_app_with_user(&a, "TRUSTED").await;
    let (_, challenge) = pkce();
    let url = authorize_url(&a, &app, "openid", &challenge, "");
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = plain.get(&url).send().await.unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    let r = plain
        .post(format!("{}/login", b.base))
        .header("Cookie", cookie)
        .form(&[
            ("csrf", hidden(&html, "csrf").unwrap().as_str()),
            ("return_to", hidden(&html, "return_to").unwrap().as_str()),
            ("username", "jane@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

/// The API families' hardening headers, on successes and errors alike.
fn assert_api_headers(r: &reqwest::Response, what: &str) {
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["cache-control"], "no-store", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(
        h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
        "{what}"
    );
}

/// `/api/v1/*`, `/governance/api/*` and `/oauth2/v1/userinfo` answer with `nosniff` and
/// `no-store` (and are never framed), for 200, 401, 403, 404 and 429. Failed without the fix:
/// none of these headers was sent.
async fn api_responses_carry_hardening_headers(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    org.user("plain@example.com").await;
    let plain = org.token_for("plain@example.com").await;
    let admin = format!("SSWS {}", org.token);
    let user_bearer = format!(
        "Bearer {}",
        user_token(
            &org,
            &app.client_id,
            &app.secret,
            &app.redirect,
            "jane@example.com",
            "openid profile"
        )
        .await
    );
    let cases: [(Option<String>, &str, u16); 9] = [
        (Some(admin.clone()), "/api/v1/users", 200),
        (None, "/api/v1/users", 401),
        (Some(format!("SSWS {plain}")), "/api/v1/users", 403),
        (
            Some(admin.clone()),
            "/api/v1/users/00unothere000000000",
            404,
        ),
        (Some(admin.clone()), "/governance/api/v1/requests", 200),
        (None, "/governance/api/v1/requests", 401),
        (
            Some(format!("SSWS {plain}")),
            "/governance/api/v1/requests",
            403,
        ),
        (Some(user_bearer), "/oauth2/v1/userinfo", 200),
        (None, "/oauth2/v1/userinfo", 401),
    ];
    for (auth, path, status) in cases {
        let r = org.raw(auth.as_deref(), Method::GET, path, None).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert_api_headers(&r, &format!("{status} {path}"));
    }
    // The keys say how long they may be cached; they are still never sniffed.
    let r = org.raw(None, Method::GET, "/oauth2/v1/keys", None).await;
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");

    // 429.
    let limited = TestOrg::start_with(
        backend,
        RateLimits {
            per_token: 1,
            per_address: 1000,
        },
    )
    .await;
    let auth = format!("SSWS {}", limited.token);
    let mut last = None;
    for _ in 0..2 {
        last = Some(
            limited
                .raw(Some(&auth), Method::GET, "/api/v1/groups", None)
                .await,
        );
    }
    let r = last.unwrap();
    assert_eq!(r.status(), 429);
    assert_api_headers(&r, "429");
}

fn sha256_b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
}

/// The block between `<tag>` and `</tag>` of a page.
fn inline_block<'a>(html: &'a str, tag: &str) -> &'a str {
    let start = html.find(&format!("<{tag}>")).unwrap() + tag.len() + 2;
    let end = html[start..].find(&format!("</{tag}>")).unwrap();
    &html[start..start + end]
}

/// The sign-in page and the form_post page: no `unsafe-inline`, their own inline style and
/// script allowed by hash (so the policy does not break them), forms only to this server and
/// the client, never framed, sniffed, stored or referred elsewhere. Failed without the fix:
/// `script-src 'unsafe-inline'`, no `Referrer-Policy`, no `nosniff`.
async fn pages_carry_a_strict_policy(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let r = browser().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let html = r.text().await.unwrap();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' https://app.example.com;"),
        "{csp}"
    );
    assert!(
        csp.contains(&format!(
            "'sha256-{}'",
            sha256_b64(inline_block(&html, "style"))
        )),
        "the page's style is allowed: {csp}"
    );
    assert!(!html.contains("<script"), "the sign-in page runs no script");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");

    // form_post: its auto-submit script is allowed by hash, and it may post to the client.
    let r = browser()
        .get(format!("{url}&response_mode=form_post&prompt=none"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = r.text().await.unwrap();
    assert!(html.contains("login_required"), "{html}");
    assert!(
        csp.contains(&format!(
            "'sha256-{}'",
            sha256_b64(inline_block(&html, "script"))
        )),
        "{csp}"
    );
    assert!(
        csp.contains("form-action 'self' https://app.example.com;"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

on_both_backends!(
    forged_double_submit_pairs_are_refused,
    cross_origin_form_posts_are_refused,
    csrf_tokens_hold_across_nodes,
    api_responses_carry_hardening_headers,
    pages_carry_a_strict_policy,
);
