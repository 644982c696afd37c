//! `/oauth2/v1/authorize` and `/login` hardening: argon2 off the runtime, `max_age`, `prompt`
//! combinations, `return_to` validation, a lockout that does not tell which logins exist,
//! repeated parameters, script-scheme redirect URIs and the CSRF cookie.
use crate::common;

use common::oauth::*;
use common::{assert_error, Backend, TestOrg, BACKENDS};
use serde_json::json;

/// The sign-in page of `url`: (csrf, return_to).
async fn sign_in_form(browser: &reqwest::Client, url: &str) -> (String, String) {
    let page = browser.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    (
        hidden(&html, "csrf").expect("csrf field"),
        hidden(&html, "return_to").expect("return_to field"),
    )
}

/// The error paragraph of a sign-in page.
fn sign_in_error(html: &str) -> String {
    let start = html.find("role=\"alert\">").expect("an error on the page") + 13;
    html[start..][..html[start..].find('<').unwrap()].to_string()
}

/// Argon2 runs on the blocking pool: concurrent wrong-password sign-ins (more than the two
/// runtime workers) are all answered, each with its own 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_password_sign_ins_all_get_their_401() {
    for backend in BACKENDS {
        let org = TestOrg::start(backend).await;
        let (app, _) = web_app_with_user(&org, "TRUSTED").await;
        let (_, challenge) = pkce();
        let url = authorize_url(&org, &app, "openid", &challenge, "");
        let mut forms = Vec::new();
        for _ in 0..8 {
            let b = browser();
            let (csrf, return_to) = sign_in_form(&b, &url).await;
            forms.push((b, csrf, return_to));
        }
        let attempts = forms.into_iter().enumerate().map(|(i, (b, csrf, rt))| {
            let login = format!("nobody{i}@example.com");
            let base = org.base.clone();
            tokio::spawn(async move {
                let r = b
                    .post(format!("{base}/login"))
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("return_to", rt.as_str()),
                        ("username", login.as_str()),
                        ("password", "wrong-password"),
                    ])
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            })
        });
        for (i, handle) in attempts.collect::<Vec<_>>().into_iter().enumerate() {
            assert_eq!(handle.await.unwrap(), 401, "{backend:?} attempt {i}");
        }
        // The server still signs the right password in.
        let r = sign_in(
            &org,
            &browser(),
            &url,
            "jane@example.com",
            "Sup3r-Secret-Pass",
        )
        .await;
        assert_eq!(r.status(), 302, "{backend:?}");
        assert!(param(&location(r.headers()), "code").is_some());
    }
}

/// OIDC Core §3.1.2.1 `max_age`: a session older than it signs in again (0 always does), the new
/// sign-in's auth_time is in the ID token; a fresh enough session is silent; a bad value is an
/// invalid_request sent back to the client.
#[tokio::test]
async fn max_age_asks_for_a_fresh_sign_in() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let r = sign_in(
        &org,
        &browser,
        &url,
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    let code = param(&location(r.headers()), "code").unwrap();
    let first = redeem(&org, &app, &code, &verifier).await;
    let first_auth = claims(first.body["id_token"].as_str().unwrap())["auth_time"]
        .as_i64()
        .unwrap();

    // A large max_age: the session is fresh enough, the code comes silently.
    let r = browser
        .get(format!("{url}&max_age=86400"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert!(param(&location(r.headers()), "code").is_some());

    // auth_time has a one-second resolution.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // max_age=0: the sign-in form, not a code.
    let (verifier, challenge) = pkce();
    let url0 = format!(
        "{}&max_age=0",
        authorize_url(&org, &app, "openid", &challenge, "")
    );
    let page = browser.get(&url0).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("location").is_none());
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "{html}");
    // Signing in again gives a code with the new auth_time (and does not ask once more).
    let r = sign_in(
        &org,
        &browser,
        &url0,
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(r.status(), 302);
    let code = param(&location(r.headers()), "code").unwrap();
    let second = redeem(&org, &app, &code, &verifier).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let second_auth = claims(second.body["id_token"].as_str().unwrap())["auth_time"]
        .as_i64()
        .unwrap();
    assert!(second_auth > first_auth, "{first_auth} -> {second_auth}");

    // With prompt=none, a session that is too old is login_required.
    let r = browser
        .get(format!("{url0}&prompt=none"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let back = location(r.headers());
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    assert_eq!(param(&back, "state").as_deref(), Some("st-123"));

    // A value that is not a non-negative integer.
    for bad in ["-1", "abc", "1.5", "+5", ""] {
        let r = browser
            .get(format!("{url}&max_age={}", urlencode(bad)))
            .send()
            .await
            .unwrap();
        if bad.is_empty() {
            // An empty parameter counts as absent.
            assert_eq!(r.status(), 302);
            assert!(param(&location(r.headers()), "code").is_some());
            continue;
        }
        assert_eq!(r.status(), 302, "{bad}");
        let back = location(r.headers());
        assert!(back.starts_with(&app.redirect), "{back}");
        assert_eq!(
            param(&back, "error").as_deref(),
            Some("invalid_request"),
            "{bad}"
        );
        assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    }
}

/// OIDC Core §3.1.2.1: `prompt=none` with any other value is an invalid_request, redirected.
#[tokio::test]
async fn prompt_none_with_another_value_is_invalid() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    // Signed out and signed in alike.
    for signed_in in [false, true] {
        if signed_in {
            let r = sign_in(
                &org,
                &browser,
                &url,
                "jane@example.com",
                "Sup3r-Secret-Pass",
            )
            .await;
            assert_eq!(r.status(), 302);
        }
        for prompt in ["none login", "login none", "none consent"] {
            let r = browser
                .get(format!("{url}&prompt={}", urlencode(prompt)))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 302, "{prompt}");
            let back = location(r.headers());
            assert!(back.starts_with(&app.redirect), "{back}");
            assert_eq!(
                param(&back, "error").as_deref(),
                Some("invalid_request"),
                "{prompt}"
            );
            assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
        }
    }
    // prompt=none alone still answers silently.
    let r = browser
        .get(format!("{url}&prompt=none"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert!(param(&location(r.headers()), "code").is_some());
}

/// A return_to with a control character is refused with the 400 page before any write: no 500,
/// no session cookie.
#[tokio::test]
async fn return_to_with_control_characters_is_refused() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let (csrf, return_to) = sign_in_form(&browser, &url).await;
    for bad in [
        format!("{return_to}\n"),
        format!("{return_to}\r\nSet-Cookie: x=y"),
        format!("{return_to}&x=\u{7f}"),
        format!("{return_to}&x=\t"),
    ] {
        let r = browser
            .post(format!("{}/login", org.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("return_to", bad.as_str()),
                ("username", "jane@example.com"),
                ("password", "Sup3r-Secret-Pass"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad:?}");
        assert!(
            !r.headers()
                .get_all("set-cookie")
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("steward_sid=")),
            "{bad:?}"
        );
    }
    // Still signed out: the request asks for the sign-in form.
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    // The untouched return_to signs in.
    let r = sign_in(
        &org,
        &browser,
        &url,
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(r.status(), 302);
}

/// A locked account, a wrong password and an unknown login all get the same message.
#[tokio::test]
async fn refused_sign_ins_do_not_tell_which_logins_exist() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let browser = browser();
    let unknown = sign_in(&org, &browser, &url, "nobody@example.com", "whatever").await;
    assert_eq!(unknown.status(), 401);
    let generic = sign_in_error(&unknown.text().await.unwrap());
    assert_eq!(generic, "Unable to sign in.");
    for i in 0..steward_api::oauth::LOCKOUT_THRESHOLD {
        let r = sign_in(&org, &browser, &url, "jane@example.com", "wrong-password").await;
        assert_eq!(r.status(), 401, "attempt {i}");
        assert_eq!(
            sign_in_error(&r.text().await.unwrap()),
            generic,
            "attempt {i}"
        );
    }
    for password in ["Sup3r-Secret-Pass", "wrong-password"] {
        let r = sign_in(&org, &browser, &url, "jane@example.com", password).await;
        assert_eq!(r.status(), 401);
        let html = r.text().await.unwrap();
        assert_eq!(sign_in_error(&html), generic);
        assert!(!html.to_lowercase().contains("locked"));
    }
    // The System Log keeps the real reason.
    let (s, log) = org.get("/api/v1/logs?limit=1000").await;
    assert_eq!(s, 200, "{log}");
    assert!(log.to_string().contains("LOCKED_OUT"), "{log}");
}

/// RFC 6749 §3.1: a repeated parameter is an invalid_request; shown on a page when it is the
/// client or the redirect URI, else sent back (without an ambiguous state).
#[tokio::test]
async fn repeated_parameters_are_refused() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let r = sign_in(
        &org,
        &browser,
        &url,
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(r.status(), 302);
    for extra in [
        format!("&client_id={}", app.client_id),
        format!("&redirect_uri={}", urlencode(&app.redirect)),
        "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb".to_string(),
    ] {
        let r = browser.get(format!("{url}{extra}")).send().await.unwrap();
        assert_eq!(r.status(), 400, "{extra}");
        assert!(r.headers().get("location").is_none(), "{extra}");
        assert!(r.text().await.unwrap().contains("invalid_request"));
    }
    for (extra, state) in [
        ("&scope=profile", Some("st-123")),
        ("&code_challenge_method=S256", Some("st-123")),
        ("&nonce=other", Some("st-123")),
        ("&state=other", None),
    ] {
        let r = browser.get(format!("{url}{extra}")).send().await.unwrap();
        assert_eq!(r.status(), 302, "{extra}");
        let back = location(r.headers());
        assert!(back.starts_with(&app.redirect), "{back}");
        assert_eq!(
            param(&back, "error").as_deref(),
            Some("invalid_request"),
            "{extra}"
        );
        assert!(param(&back, "code").is_none());
        assert_eq!(param(&back, "state").as_deref(), state, "{extra}");
    }
    // The same request without repeats gets its code.
    let r = browser.get(&url).send().await.unwrap();
    assert!(param(&location(r.headers()), "code").is_some());
}

/// Script and local schemes are never redirect URIs, not even for native apps; private-use
/// schemes still are.
async fn script_scheme_redirect_uris_are_refused(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let native = |uri: &str| {
        json!({
            "label": "Native",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "none"}},
            "settings": {"oauthClient": {
                "application_type": "native",
                "grant_types": ["authorization_code"],
                "redirect_uris": [uri]
            }}
        })
    };
    for bad in [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
    ] {
        let (s, body) = org.post("/api/v1/apps", native(bad)).await;
        assert_error(s, &body, 400, "E0000001");
    }
    let (s, body) = org
        .post("/api/v1/apps", native("com.example.app:/cb"))
        .await;
    assert_eq!(s, 200, "{backend:?} {body}");
    // A post-logout URI is held to the same rule.
    let mut app = native("com.example.app:/cb");
    app["settings"]["oauthClient"]["post_logout_redirect_uris"] = json!(["javascript:x()"]);
    let (s, body) = org.post("/api/v1/apps", app).await;
    assert_error(s, &body, 400, "E0000001");
}

/// On plain http the CSRF cookie keeps its name and attributes (the `__Host-` name is for https).
/// It holds the browser's pre-session id; the form's token is derived from it by the server, so
/// the two differ.
#[tokio::test]
async fn csrf_cookie_on_http() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let page = reqwest::Client::new().get(&url).send().await.unwrap();
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .collect();
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf").unwrap();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let (value, attributes) = cookies[0]
        .strip_prefix("steward_csrf=")
        .unwrap()
        .split_once(';')
        .unwrap();
    assert_eq!(attributes, " Path=/; HttpOnly; SameSite=Strict");
    assert_eq!(value.len(), 32);
    assert_ne!(value, csrf);
}

on_both_backends!(script_scheme_redirect_uris_are_refused,);
