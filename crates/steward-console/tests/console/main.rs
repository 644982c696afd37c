//! The Admin Console over HTTP: sign-in through the org's authorization server, the session
//! and CSRF rules, who may grant, expiry on the server's clock, sign-out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod apps_admin;
mod common;
mod directory;
mod enduser;
mod governance;
mod workflows;

use common::{unescape, Backend, TestOrg, ADMIN_LOGIN, ADMIN_PASSWORD};
use steward_store::PrincipalType;

const SCOPE: &str = "okta.users.read";

async fn signs_in_through_the_authorization_server(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let browser = org.browser();
    // Any page without a session starts the sign-in, and returns to that page.
    let first = browser.get("/admin/apps?q=x").await;
    assert_eq!(first.status, 303);
    assert_eq!(
        first.location(),
        "/admin/signin?next=%2Fadmin%2Fapps%3Fq%3Dx"
    );
    let start = browser.get(&first.location()).await;
    assert_eq!(start.status, 303);
    let authorize = url::Url::parse(&start.location()).unwrap();
    assert_eq!(authorize.path(), "/oauth2/v1/authorize");
    let params: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(params["client_id"], "steward-admin-console");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(
        params["redirect_uri"],
        format!("{}/admin/callback", org.base)
    );
    for p in ["state", "nonce", "code_challenge"] {
        assert!(params[p].len() >= 32, "{p}");
    }

    let page = browser
        .sign_in("/admin/apps?q=x", ADMIN_LOGIN, ADMIN_PASSWORD)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>Applications</h1>"), "{}", page.body);
    // The console's pages: strict policy, never framed.
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(!page.body.contains("<script>"), "no inline script");

    // Only the hash of the cookie's value is stored.
    let id = browser
        .cookie(steward_console::COOKIE)
        .expect("session cookie");
    let hash = steward_oauth::secrets::sha256_hex(&id);
    let session = org
        .store
        .console_session(&hash, org.state.clock.now())
        .await
        .unwrap();
    assert!(session.user_id.is_some());
    assert!(org
        .store
        .console_session(&id, org.state.clock.now())
        .await
        .is_err());
    let (_, log) = org
        .api(
            reqwest::Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.session.access_admin_app%22",
            None,
        )
        .await;
    assert_eq!(log[0]["actor"]["alternateId"], ADMIN_LOGIN);
}

async fn the_session_cookie_is_hardened(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let browser = org.browser();
    let start = browser.get("/admin/signin").await;
    let cookie = start.set_cookie(steward_console::COOKIE).expect("cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(!cookie.contains("Domain"), "{cookie}");
}

async fn the_callback_needs_the_sign_in_this_browser_started(backend: Backend) {
    let org = TestOrg::start(backend).await;
    // No sign-in in progress.
    let stranger = org.browser();
    let page = stranger.get("/admin/callback?code=abc&state=def").await;
    assert_eq!(page.status, 400);
    assert!(stranger.cookie(steward_console::COOKIE).is_none());
    // A sign-in in progress, answered with another state: refused; with its state but a code
    // the authorization server never issued: refused too, and the sign-in is used up.
    let browser = org.browser();
    let start = browser.get("/admin/signin").await;
    let state = url::Url::parse(&start.location())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let page = browser.get("/admin/callback?code=abc&state=wrong").await;
    assert_eq!(page.status, 400, "{}", page.body);
    let again = browser
        .get(&format!("/admin/callback?code=abc&state={state}"))
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(
        again.body.contains("could not be exchanged"),
        "{}",
        again.body
    );
    let replay = browser
        .get(&format!("/admin/callback?code=abc&state={state}"))
        .await;
    assert!(
        replay.body.contains("not the one this browser started"),
        "{}",
        replay.body
    );
    assert_eq!(browser.get("/admin/apps").await.status, 303);
}

async fn a_user_without_an_admin_role_gets_no_session(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (_, login) = org.user("plain", None).await;
    let browser = org.browser();
    let page = browser.sign_in("/admin/", &login, "Us3r-Passw0rd!").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("No admin role"), "{}", page.body);
    assert_eq!(browser.get("/admin/").await.status, 303);
}

async fn every_form_needs_the_sessions_csrf_token(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = org.app().await;
    let admin = org.browser();
    admin.sign_in("/admin/", ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let page = admin.get(&format!("/admin/apps/{app}/scopes")).await;
    assert_eq!(page.status, 200);
    let csrf = page.input("csrf");
    // Another admin's session has its own token.
    let other = org.browser();
    let other_page = other
        .sign_in(
            &format!("/admin/apps/{app}/scopes"),
            ADMIN_LOGIN,
            ADMIN_PASSWORD,
        )
        .await;
    let other_csrf = other_page.input("csrf");
    assert_ne!(csrf, other_csrf);

    let path = format!("/admin/apps/{app}/grants");
    for (form, origin) in [
        (vec![("scope", SCOPE)], Some(org.base.as_str())),
        (vec![("scope", SCOPE), ("csrf", "")], Some(&org.base)),
        (
            vec![("scope", SCOPE), ("csrf", other_csrf.as_str())],
            Some(&org.base),
        ),
        (
            vec![("scope", SCOPE), ("csrf", csrf.as_str())],
            Some("https://evil.example"),
        ),
    ] {
        let refused = admin.post_from(&path, &form, origin).await;
        assert_eq!(refused.status, 403, "{form:?} {origin:?}");
        assert!(
            org.grants(&app).await.is_empty(),
            "{form:?}: nothing written"
        );
    }
    // Sign-out is a form too.
    assert_eq!(admin.post("/admin/signout", &[]).await.status, 403);
    assert_eq!(admin.get("/admin/").await.status, 200, "still signed in");

    let granted = admin
        .post(&path, &[("scope", SCOPE), ("csrf", &csrf)])
        .await;
    assert_eq!(granted.status, 303, "{}", granted.body);
    assert_eq!(org.grants(&app).await, vec![SCOPE.to_string()]);
    let page = admin.follow(granted).await;
    assert!(
        page.body.contains(&format!("Granted {SCOPE}")),
        "{}",
        page.body
    );
}

async fn only_a_super_admin_grants_and_revokes(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = org.app().await;
    let (_, login) = org.user("orgadmin", Some("ORG_ADMIN")).await;
    let org_admin = org.browser();
    let page = org_admin
        .sign_in(
            &format!("/admin/apps/{app}/scopes"),
            &login,
            "Us3r-Passw0rd!",
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("Only a Super Administrator can grant or revoke"));
    assert!(page
        .body
        .contains("disabled aria-describedby=\"manage-reason\""));
    let csrf = page.input("csrf");
    let refused = org_admin
        .post(
            &format!("/admin/apps/{app}/grants"),
            &[("scope", SCOPE), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        org.grants(&app).await.is_empty(),
        "the refused POST wrote nothing"
    );

    // Granted by the Super Admin: the Org Admin may not revoke it either.
    let admin = org.browser();
    let page = admin
        .sign_in(
            &format!("/admin/apps/{app}/scopes"),
            ADMIN_LOGIN,
            ADMIN_PASSWORD,
        )
        .await;
    let admin_csrf = page.input("csrf");
    let granted = admin
        .post(
            &format!("/admin/apps/{app}/grants"),
            &[("scope", SCOPE), ("csrf", &admin_csrf)],
        )
        .await;
    assert_eq!(granted.status, 303);
    let (_, grants) = org
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{app}/grants"),
            None,
        )
        .await;
    let grant_id = grants[0]["id"].as_str().unwrap().to_string();
    let revoke = format!("/admin/apps/{app}/grants/{grant_id}/revoke");
    assert_eq!(
        org_admin.post(&revoke, &[("csrf", &csrf)]).await.status,
        403
    );
    assert_eq!(org.grants(&app).await, vec![SCOPE.to_string()]);
    let revoked = admin.post(&revoke, &[("csrf", &admin_csrf)]).await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert!(org.grants(&app).await.is_empty());
    // An unbuilt scope is refused as the API refuses it.
    let unbuilt = admin
        .post(
            &format!("/admin/apps/{app}/grants"),
            &[
                ("scope", "okta.governance.accessCertifications.read"),
                ("csrf", &admin_csrf),
            ],
        )
        .await;
    assert_eq!(unbuilt.status, 400, "{}", unbuilt.body);
    assert!(unbuilt.body.contains("not built yet"), "{}", unbuilt.body);
}

async fn a_role_taken_away_ends_the_session(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (user_id, login) = org.user("shortlived", Some("ORG_ADMIN")).await;
    let browser = org.browser();
    let page = browser.sign_in("/admin/", &login, "Us3r-Passw0rd!").await;
    assert_eq!(page.status, 200);
    let (_, roles) = org
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/users/{user_id}/roles"),
            None,
        )
        .await;
    let role_id = roles[0]["id"].as_str().unwrap();
    let (status, _) = org
        .api(
            reqwest::Method::DELETE,
            &format!("/api/v1/users/{user_id}/roles/{role_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(org
        .store
        .roles_of(PrincipalType::User, &user_id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(browser.get("/admin/").await.status, 403);
    assert_eq!(
        browser.get("/admin/").await.status,
        303,
        "the session is gone"
    );
}

async fn sessions_expire_when_idle_and_after_twelve_hours(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let minute = 60_000;
    // Idle: 30 minutes without a request.
    let idle = org.browser();
    idle.sign_in("/admin/", ADMIN_LOGIN, ADMIN_PASSWORD).await;
    org.state.clock.advance(29 * minute);
    assert_eq!(idle.get("/admin/").await.status, 200, "29 minutes idle");
    org.state.clock.advance(31 * minute);
    let expired = idle.get("/admin/").await;
    assert_eq!(expired.status, 303);
    assert!(expired.location().starts_with("/admin/signin"));

    // Absolute: used every 25 minutes, it still ends 12 hours after sign-in.
    org.state.clock.set(0); // back to real time: the sign-in's ID token is checked against it
    let busy = org.browser();
    busy.sign_in("/admin/", ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let signed_in = org.state.clock.now();
    let mut elapsed = 0;
    loop {
        org.state.clock.advance(25 * minute);
        elapsed += 25 * minute;
        let status = busy.get("/admin/").await.status;
        if elapsed < 12 * 60 * minute {
            assert_eq!(status, 200, "after {} minutes", elapsed / minute);
        } else {
            assert_eq!(status, 303, "after {} minutes", elapsed / minute);
            break;
        }
    }
    assert!(org.state.clock.now() - signed_in >= 12 * 60 * minute);
}

async fn sign_out_ends_the_console_and_steward_sessions(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let browser = org.browser();
    let page = browser
        .sign_in("/admin/", ADMIN_LOGIN, ADMIN_PASSWORD)
        .await;
    let csrf = page.input("csrf");
    let old = browser.cookie(steward_console::COOKIE).unwrap();
    assert!(browser.cookie("steward_sid").is_some());
    let out = browser.post("/admin/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(out
        .location()
        .starts_with(&format!("{}/oauth2/v1/logout?id_token_hint=", org.base)));
    let cleared = out.set_cookie(steward_console::COOKIE).unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let done = browser.follow(out).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("You have signed out"), "{}", done.body);
    assert!(
        browser.cookie("steward_sid").is_none(),
        "the Steward session ended"
    );

    // The old cookie opens nothing.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/admin/", org.base))
        .header("Cookie", format!("{}={old}", steward_console::COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
    // Signing in again asks for the password.
    let again = browser.follow(browser.get("/admin/").await).await;
    assert!(again.body.contains("name=\"password\""));
}

async fn the_system_log_page_filters_and_needs_logs_read(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (_, app_admin) = org.user("appadmin", Some("APP_ADMIN")).await;
    let admin = org.browser();
    admin.sign_in("/admin/", ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let all = admin.get("/admin/logs").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(
        all.body.contains("user.session.access_admin_app"),
        "{}",
        all.body
    );
    assert!(all.body.contains("user.lifecycle.create"), "{}", all.body);
    let filtered = admin
        .get("/admin/logs?eventType=user.session.access_admin_app&outcome=SUCCESS&actor=admin%40steward.local")
        .await;
    assert_eq!(filtered.status, 200);
    assert!(filtered.body.contains("user.session.access_admin_app"));
    assert!(
        !filtered.body.contains("<code>user.lifecycle.create</code>"),
        "{}",
        filtered.body
    );
    let none = admin.get("/admin/logs?eventType=no.such.event").await;
    assert!(none.body.contains("No event matches."));
    let keyword = admin.get("/admin/logs?q=appadmin%40example.com").await;
    assert!(
        keyword.body.contains("<code>user.lifecycle.create</code>"),
        "{}",
        keyword.body
    );
    assert!(!keyword
        .body
        .contains("<code>user.session.access_admin_app</code>"));
    // An App Admin may not read the System Log: refused, and not shown on the dashboard.
    let other = org.browser();
    let dashboard = other.sign_in("/admin/", &app_admin, "Us3r-Passw0rd!").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(!dashboard.body.contains("Recent System Log"));
    assert_eq!(other.get("/admin/logs").await.status, 403);
}

/// The live tail: the first page names its cursor; the tail answers what came after it, newest
/// first, with the filters kept, each row with its event's uuid. Events of the last few seconds
/// come again (on PostgreSQL one numbered below them may still commit) and the cursor moves
/// past them only once they are settled. It needs a session and logs.read.
async fn the_system_log_tails_new_events_after_the_page(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let admin = org.browser();
    admin.sign_in("/admin/", ADMIN_LOGIN, ADMIN_PASSWORD).await;
    // Everything so far is settled.
    org.state.clock.advance(10_000);
    let page = admin
        .get("/admin/logs?eventType=user.lifecycle.create")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let cursor = attribute(&page.body, "data-cursor");
    let tail = unescape(&attribute(&page.body, "data-live-tail"));
    assert!(tail.starts_with("/admin/logs/tail?"), "{tail}");
    assert!(tail.contains("eventType=user.lifecycle.create"), "{tail}");
    // An older page has no live tail.
    let older = admin.get(&format!("/admin/logs?after={cursor}")).await;
    assert!(!older.body.contains("data-live-tail"), "{}", older.body);

    // Nothing new yet: no rows, the cursor stays.
    let quiet = admin.get(&format!("{tail}&after={cursor}")).await;
    assert_eq!(quiet.status, 200, "{}", quiet.body);
    assert_eq!(quiet.body.trim(), "");
    assert_eq!(quiet.headers["x-steward-log-cursor"], cursor.as_str());
    assert_eq!(quiet.headers["x-steward-log-more"], "false");

    // Two users and a group are created: the tail shows the two users (the filter holds),
    // newest first, each with its uuid; they are recent, so the cursor stays and they come again.
    org.user("tailfirst", None).await;
    org.api(
        reqwest::Method::POST,
        "/api/v1/groups",
        Some(serde_json::json!({"profile": {"name": "Tail Group"}})),
    )
    .await;
    org.user("tailsecond", None).await;
    let fresh = admin.get(&format!("{tail}&after={cursor}")).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(
        fresh.body.matches("<tr data-event=").count(),
        2,
        "{}",
        fresh.body
    );
    let (first, second) = (
        fresh.body.find("tailsecond").unwrap(),
        fresh.body.find("tailfirst").unwrap(),
    );
    assert!(first < second, "newest first: {}", fresh.body);
    assert!(!fresh.body.contains("Tail Group"), "{}", fresh.body);
    assert_eq!(
        fresh.headers["x-steward-log-cursor"],
        cursor.as_str(),
        "not settled"
    );
    let again = admin.get(&format!("{tail}&after={cursor}")).await;
    assert_eq!(again.body, fresh.body, "recent events come again");
    // A page loaded now starts its tail below them too (the script drops what it shows).
    let reloaded = admin
        .get("/admin/logs?eventType=user.lifecycle.create")
        .await;
    let from = attribute(&reloaded.body, "data-cursor");
    let overlap = admin.get(&format!("{tail}&after={from}")).await;
    assert!(overlap.body.contains("tailsecond"), "{}", overlap.body);

    // Settled: the same rows once more, and the cursor moves past them.
    org.state.clock.advance(10_000);
    let settled = admin.get(&format!("{tail}&after={cursor}")).await;
    assert_eq!(settled.body.matches("<tr data-event=").count(), 2);
    let moved: i64 = settled.headers["x-steward-log-cursor"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(moved > cursor.parse::<i64>().unwrap());
    let after = admin.get(&format!("{tail}&after={moved}")).await;
    assert_eq!(after.body.trim(), "", "read once settled: {}", after.body);

    // Without after: refused with a page, not a 500.
    assert_eq!(admin.get("/admin/logs/tail").await.status, 400);
    // Without a session: no rows, a redirect to sign in.
    let stranger = org.browser();
    let signed_out = stranger.get(&format!("{tail}&after=0")).await;
    assert_eq!(signed_out.status, 303);
    assert!(signed_out.headers.get("x-steward-log-cursor").is_none());
    // Without logs.read: refused.
    let (_, app_admin) = org.user("tailappadmin", Some("APP_ADMIN")).await;
    let other = org.browser();
    other.sign_in("/admin/", &app_admin, "Us3r-Passw0rd!").await;
    assert_eq!(other.get(&format!("{tail}&after=0")).await.status, 403);
}

/// The value of the first `name="…"` attribute in `html`.
fn attribute(html: &str, name: &str) -> String {
    let marker = format!("{name}=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

async fn the_consoles_app_cannot_be_deactivated(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (_, apps) = org
        .api(
            reqwest::Method::GET,
            "/api/v1/apps?q=Steward%20Admin%20Console",
            None,
        )
        .await;
    let console_app = apps[0]["id"].as_str().unwrap().to_string();
    let (status, body) = org
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{console_app}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errorCauses"][0]["errorSummary"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot be deactivated"),
        "{body}"
    );
    // Still signs admins in.
    let page = org
        .browser()
        .sign_in("/admin/", ADMIN_LOGIN, ADMIN_PASSWORD)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    // Any other app can be.
    let app = org.app().await;
    let (status, _) = org
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{app}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 200);
}

on_both_backends!(
    the_system_log_page_filters_and_needs_logs_read,
    the_system_log_tails_new_events_after_the_page,
    signs_in_through_the_authorization_server,
    the_session_cookie_is_hardened,
    the_callback_needs_the_sign_in_this_browser_started,
    a_user_without_an_admin_role_gets_no_session,
    every_form_needs_the_sessions_csrf_token,
    only_a_super_admin_grants_and_revokes,
    a_role_taken_away_ends_the_session,
    sessions_expire_when_idle_and_after_twelve_hours,
    sign_out_ends_the_console_and_steward_sessions,
    the_consoles_app_cannot_be_deactivated,
);
