//! User activation the way Okta does it, through real HTTP on SQLite and PostgreSQL:
//! `lifecycle/activate` and `lifecycle/reactivate` hand out activation links, the user sets a
//! password at `/welcome/{token}` and can then sign in.
use crate::common;

use common::oauth::{browser, claims, hidden, user_token};
use common::{assert_error, Backend, TestOrg};
use serde_json::{json, Value};
use steward_api::ratelimit::RateLimits;

const PASSWORD: &str = "Sup3r-Secret-Pass";
const SEVEN_DAYS_MS: i64 = 7 * 24 * 3600 * 1000;

fn profile(login: &str) -> Value {
    json!({"login": login, "email": login, "firstName": "Wren", "lastName": "Welcome"})
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn staged_user(org: &TestOrg, login: &str) -> String {
    let (s, u) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile(login)}),
        )
        .await;
    assert_eq!((s, u["status"].as_str()), (200, Some("STAGED")), "{u}");
    u["id"].as_str().unwrap().to_string()
}

async fn status(org: &TestOrg, id: &str) -> String {
    let (_, u) = org.get(&format!("/api/v1/users/{id}")).await;
    u["status"].as_str().unwrap().to_string()
}

/// Okta's `UserActivationToken`, checked; returns the token.
fn activation_token(org: &TestOrg, s: u16, body: &Value) -> String {
    assert_eq!(s, 200, "{body}");
    let token = body["activationToken"].as_str().unwrap().to_string();
    assert!(
        token.len() >= 20 && token.chars().all(|c| c.is_ascii_alphanumeric()),
        "{token}"
    );
    assert_eq!(
        body["activationUrl"],
        format!("{}/welcome/{token}", org.base),
        "{body}"
    );
    token
}

struct Page {
    status: u16,
    html: String,
    location: Option<String>,
    referrer_policy: Option<String>,
}

async fn get_page(client: &reqwest::Client, url: &str) -> Page {
    page(client.get(url).send().await.unwrap()).await
}

async fn post_page(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Page {
    page(client.post(url).form(form).send().await.unwrap()).await
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let location = header("location");
    let referrer_policy = header("referrer-policy");
    Page {
        status,
        html: r.text().await.unwrap(),
        location,
        referrer_policy,
    }
}

/// The System Log events of `event_type` that target the user `id`.
async fn events(org: &TestOrg, event_type: &str, id: &str) -> Vec<Value> {
    let filter = enc(&format!(
        "eventType eq \"{event_type}\" and target.id eq \"{id}\""
    ));
    let (s, body) = org
        .get(&format!(
            "/api/v1/logs?filter={filter}&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(s, 200, "{body}");
    body.as_array().unwrap().clone()
}

/// Activation without email: the link, the form (with its refusals), an ACTIVE user who then
/// signs in through the real sign-in form; the link is single use; activating an ACTIVE user is
/// Okta's E0000016.
async fn activation_link_sets_the_password_and_the_user_signs_in(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let login = "wren@example.com";
    let id = staged_user(&org, login).await;
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/activate?sendEmail=false"),
            json!({}),
        )
        .await;
    let token = activation_token(&org, s, &body);
    let url = format!("{}/welcome/{token}", org.base);
    let (_, user) = org.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(user["status"], "PROVISIONED", "{backend:?}");
    assert!(user["activated"].is_string(), "{user}");
    assert!(user["passwordChanged"].is_null(), "no password yet: {user}");
    let logged = events(&org, "user.lifecycle.activate", &id).await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["debugContext"]["debugData"]["sendEmail"], "false");
    let text = serde_json::to_string(&logged).unwrap();
    assert!(!text.contains(&token), "the token is never logged");

    // The page: the login, a CSRF-protected form, a referrer for this server only (under
    // `no-referrer` browsers would post the form with `Origin: null`).
    let b = browser();
    let p = get_page(&b, &url).await;
    assert_eq!(p.status, 200, "{}", p.html);
    assert!(p.html.contains(login), "{}", p.html);
    assert_eq!(p.referrer_policy.as_deref(), Some("same-origin"));
    let csrf = hidden(&p.html, "csrf").unwrap();

    // Passwords that differ, a weak password, no CSRF token: refused, nothing changes.
    let p = post_page(
        &b,
        &url,
        &[
            ("csrf", &csrf),
            ("password", PASSWORD),
            ("password_confirm", "Sup3r-Secret-Typo"),
        ],
    )
    .await;
    assert_eq!(p.status, 400, "{}", p.html);
    assert!(p.html.contains("The passwords do not match."), "{}", p.html);
    let p = post_page(
        &b,
        &url,
        &[
            ("csrf", &csrf),
            ("password", "short"),
            ("password_confirm", "short"),
        ],
    )
    .await;
    assert_eq!(p.status, 400, "{}", p.html);
    assert!(
        p.html.contains("Password requirements were not met"),
        "{}",
        p.html
    );
    let p = post_page(
        &b,
        &url,
        &[("password", PASSWORD), ("password_confirm", PASSWORD)],
    )
    .await;
    assert_eq!(p.status, 403, "no CSRF field: {}", p.html);
    let p = post_page(
        &browser(),
        &url,
        &[
            ("csrf", &csrf),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(p.status, 403, "no CSRF cookie: {}", p.html);
    assert_eq!(status(&org, &id).await, "PROVISIONED");

    // The right form activates the user.
    let p = post_page(
        &b,
        &url,
        &[
            ("csrf", &csrf),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.html);
    assert!(p.html.contains("Your account is active"), "{}", p.html);
    let (_, user) = org.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(user["status"], "ACTIVE", "{backend:?}");
    assert!(user["passwordChanged"].is_string(), "{user}");
    let logged = events(&org, "user.account.update_password", &id).await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["actor"]["id"], id.as_str());

    // The link is used up.
    let p = get_page(&b, &url).await;
    assert_eq!(p.status, 410, "{}", p.html);
    assert!(p.html.contains("This activation link is not valid"));
    assert!(!p.html.contains(login), "no details leak: {}", p.html);
    let p = post_page(
        &b,
        &url,
        &[
            ("csrf", &csrf),
            ("password", "An0ther-Secret-Pass"),
            ("password_confirm", "An0ther-Secret-Pass"),
        ],
    )
    .await;
    assert_eq!(p.status, 410, "{}", p.html);

    // The user signs in with the new password through the real sign-in form.
    let redirect = "https://app.example.com/cb";
    let (app_id, client_id, secret) = org.web_app("Welcome app", redirect, "TRUSTED").await;
    org.assign(&app_id, &id).await;
    let access = user_token(&org, &client_id, &secret, redirect, login, "openid").await;
    assert_eq!(claims(&access)["uid"], id.as_str());

    // An ACTIVE user cannot be activated again: Okta's E0000016.
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/activate?sendEmail=false"),
            json!({}),
        )
        .await;
    assert_error(s, &body, 403, "E0000016");
    assert_eq!(
        body["errorSummary"],
        "Activation failed because the user is already active"
    );
}

/// Links expire after 7 days, a new one supersedes the old, deactivation voids them; sendEmail
/// answers `{}`; reactivation is for PROVISIONED users only; unknown links are 404.
async fn links_expire_are_superseded_and_follow_okta_rules(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let b = browser();
    let welcome = |token: &str| format!("{}/welcome/{token}", org.base);

    // Created active without a password: PROVISIONED, as in Okta. Activate is refused;
    // reactivate (sendEmail defaults to false) gives the link.
    let (s, u) = org
        .post(
            "/api/v1/users?activate=true",
            json!({"profile": profile("kit@example.com")}),
        )
        .await;
    assert_eq!((s, u["status"].as_str()), (200, Some("PROVISIONED")), "{u}");
    let id = u["id"].as_str().unwrap().to_string();
    // The links offer what the lifecycle accepts: reactivate, not activate.
    let links = &u["_links"];
    assert!(links["activate"].is_null(), "{links}");
    assert_eq!(
        links["reactivate"]["href"],
        format!("{}/api/v1/users/{id}/lifecycle/reactivate", org.base)
    );
    assert_eq!(links["reactivate"]["method"], "POST");
    assert!(links["deactivate"].is_object(), "{links}");
    let (s, body) = org
        .post(&format!("/api/v1/users/{id}/lifecycle/activate"), json!({}))
        .await;
    assert_error(s, &body, 403, "E0000016");
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/reactivate"),
            json!({}),
        )
        .await;
    let first = activation_token(&org, s, &body);
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/reactivate?sendEmail=false"),
            json!({}),
        )
        .await;
    let second = activation_token(&org, s, &body);
    assert_ne!(first, second);
    assert_eq!(
        get_page(&b, &welcome(&first)).await.status,
        404,
        "superseded"
    );
    assert_eq!(get_page(&b, &welcome(&second)).await.status, 200);
    assert_eq!(
        events(&org, "user.lifecycle.reactivate", &id).await.len(),
        2
    );

    // Seven days later the link has expired: page and form both refuse.
    let p = get_page(&b, &welcome(&second)).await;
    let csrf = hidden(&p.html, "csrf").unwrap();
    org.state.clock.advance(SEVEN_DAYS_MS + 1000);
    let p = get_page(&b, &welcome(&second)).await;
    assert_eq!(p.status, 410, "{}", p.html);
    assert!(!p.html.contains("kit@example.com"));
    let p = post_page(
        &b,
        &welcome(&second),
        &[
            ("csrf", &csrf),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(p.status, 410, "{}", p.html);
    assert_eq!(status(&org, &id).await, "PROVISIONED");
    org.state.clock.set(0); // the system clock again

    // sendEmail=true: Okta's `{}`; no email goes out, the System Log says so, and the
    // older link is superseded all the same.
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/reactivate?sendEmail=false"),
            json!({}),
        )
        .await;
    let third = activation_token(&org, s, &body);
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/reactivate?sendEmail=true"),
            json!({}),
        )
        .await;
    assert_eq!((s, &body), (200, &json!({})));
    assert_eq!(get_page(&b, &welcome(&third)).await.status, 404);
    let logged = events(&org, "user.lifecycle.reactivate", &id).await;
    let last = &logged.last().unwrap()["debugContext"]["debugData"];
    assert_eq!(last["sendEmail"], "true", "{last}");
    assert!(
        last["activationEmail"]
            .as_str()
            .unwrap()
            .starts_with("NOT_SENT"),
        "{last}"
    );

    // Deactivation voids the user's link; activation (default sendEmail=true) answers `{}`.
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/reactivate?sendEmail=false"),
            json!({}),
        )
        .await;
    let fourth = activation_token(&org, s, &body);
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(get_page(&b, &welcome(&fourth)).await.status, 404);
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{id}/lifecycle/reactivate?sendEmail=false"),
            json!({}),
        )
        .await;
    assert_error(s, &body, 403, "E0000038");
    assert_eq!(
        body["errorSummary"],
        "This operation is not allowed in the user's current status."
    );
    let (s, body) = org
        .post(&format!("/api/v1/users/{id}/lifecycle/activate"), json!({}))
        .await;
    assert_eq!((s, &body), (200, &json!({})));
    assert_eq!(status(&org, &id).await, "PROVISIONED");

    // A user with a password goes straight to ACTIVE; Okta still answers with a token, but
    // the link is no way to change the password of an ACTIVE user.
    let (s, u) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile("pat@example.com"), "credentials": {"password": {"value": PASSWORD}}}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let pat = u["id"].as_str().unwrap();
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{pat}/lifecycle/activate?sendEmail=false"),
            json!({}),
        )
        .await;
    let token = activation_token(&org, s, &body);
    assert_eq!(status(&org, pat).await, "ACTIVE");
    assert_eq!(get_page(&b, &welcome(&token)).await.status, 410);

    // Unknown or malformed links, and a bad sendEmail.
    assert_eq!(
        get_page(&b, &welcome("NoSuchToken0123456789abcdefghij"))
            .await
            .status,
        404
    );
    assert_eq!(get_page(&b, &welcome("not-a-token%21")).await.status, 404);
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{pat}/lifecycle/activate?sendEmail=maybe"),
            json!({}),
        )
        .await;
    assert_error(s, &body, 400, "E0000001");
}

/// `fromURI` sends the user on to an app's sign-in form after activation; any other target is
/// ignored.
async fn from_uri_sends_the_user_to_sign_in(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let redirect = "https://app.example.com/cb";
    let (app_id, client_id, _) = org.web_app("Welcome app", redirect, "TRUSTED").await;
    let mut links = Vec::new();
    for login in ["ivy@example.com", "eve@example.com"] {
        let id = staged_user(&org, login).await;
        org.assign(&app_id, &id).await;
        let (s, body) = org
            .post(
                &format!("/api/v1/users/{id}/lifecycle/activate?sendEmail=false"),
                json!({}),
            )
            .await;
        links.push(body["activationUrl"].as_str().unwrap().to_string());
        assert_eq!(s, 200);
    }
    let authorize = format!(
        "/oauth2/v1/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        enc(redirect),
        common::oauth::pkce().1
    );
    let b = browser();
    let p = get_page(&b, &format!("{}?fromURI={}", links[0], enc(&authorize))).await;
    assert_eq!(p.status, 200, "{}", p.html);
    assert_eq!(
        hidden(&p.html, "fromURI").as_deref(),
        Some(authorize.as_str())
    );
    let csrf = hidden(&p.html, "csrf").unwrap();
    let p = post_page(
        &b,
        &links[0],
        &[
            ("csrf", &csrf),
            ("fromURI", &authorize),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.html);
    assert_eq!(p.location.as_deref(), Some(authorize.as_str()));
    let signin = b
        .get(format!("{}{}", org.base, p.location.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(signin.status(), 200);
    let html = signin.text().await.unwrap();
    assert!(html.contains("action=\"/login\""), "{html}");

    // Elsewhere is not a sign-in form of this server: ignored.
    let evil = "https://evil.example.com/oauth2/v1/authorize?x=1";
    let p = get_page(&b, &format!("{}?fromURI={}", links[1], enc(evil))).await;
    assert_eq!(hidden(&p.html, "fromURI"), None);
    let p = post_page(
        &b,
        &links[1],
        &[
            ("csrf", &csrf),
            ("fromURI", evil),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.html);
    assert_eq!(p.location, None);
}

/// The welcome page is rate limited per client address like every other endpoint.
async fn welcome_is_rate_limited(backend: Backend) {
    let org = TestOrg::start_with(
        backend,
        RateLimits {
            per_token: 100_000,
            per_address: 3,
        },
    )
    .await;
    let url = format!("{}/welcome/NoSuchToken0123456789", org.base);
    let b = browser();
    // Seven requests: even if a one-minute window turns over midway, one window sees four.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(get_page(&b, &url).await.status);
    }
    assert_eq!(statuses[0], 404, "{statuses:?}");
    assert!(statuses.contains(&429), "{backend:?}: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 404 || *s == 429),
        "{statuses:?}"
    );
}

on_both_backends!(
    activation_link_sets_the_password_and_the_user_signs_in,
    links_expire_are_superseded_and_follow_okta_rules,
    from_uri_sends_the_user_to_sign_in,
    welcome_is_rate_limited,
);
