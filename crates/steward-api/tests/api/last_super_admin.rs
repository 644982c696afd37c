//! An org never loses its last Super Admin that can act (issue 11, item 9): suspending,
//! deactivating or deleting it, taking its SUPER_ADMIN role away, deactivating or re-typing the
//! service app holding it, are refused with a 403 that says why, whoever asks; the same changes
//! pass while another acting Super Admin (a user or a service app) remains. A lockout by failed
//! sign-ins is not a removal: the locked-out admin's credentials still act and the lock lifts
//! by itself. The check and the change share one transaction, so two admins demoting each other
//! at once cannot both succeed. Every test runs on SQLite and PostgreSQL.
use crate::common;

use common::oauth::{authorize_url, browser, pkce, sign_in, WebApp};
use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Asserts the refusal: Okta's 403 `E0000006`, with a cause saying why.
fn assert_last_admin_refusal(status: u16, body: &Value) {
    assert_error(status, body, 403, "E0000006");
    let cause = body["errorCauses"][0]["errorSummary"]
        .as_str()
        .unwrap_or("");
    assert!(
        cause.contains("at least one active Super Admin"),
        "the refusal says why: {body}"
    );
}

/// Every System Log event, to prove a refused request wrote none.
async fn log_size(org: &TestOrg) -> usize {
    let (s, events) = org.get("/api/v1/logs?limit=1000").await;
    assert_eq!(s, 200, "{events}");
    events.as_array().unwrap().len()
}

/// A new user with SUPER_ADMIN, its role assignment id and an SSWS token acting as it.
async fn super_admin(org: &TestOrg, login: &str) -> (String, String, String) {
    let user = org.user(login).await;
    let (s, role) = org
        .post(
            &format!("/api/v1/users/{}/roles", id(&user)),
            json!({"type": "SUPER_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201, "{role}");
    (id(&user), id(&role), org.token_for(login).await)
}

/// The bootstrap admin's id and its SUPER_ADMIN assignment id.
async fn bootstrap_admin(org: &TestOrg) -> (String, String) {
    let (_, me) = org.get("/api/v1/users/me").await;
    let (_, roles) = org.get(&format!("/api/v1/users/{}/roles", id(&me))).await;
    let role = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "SUPER_ADMIN")
        .unwrap();
    (id(&me), id(role))
}

async fn status_of(org: &TestOrg, user_id: &str) -> String {
    org.store
        .user(user_id)
        .await
        .unwrap()
        .status
        .as_str()
        .into()
}

/// Each way of removing the only Super Admin, through its own SSWS token: refused, nothing
/// changed or logged, the token still works.
async fn the_only_super_admin_cannot_remove_itself(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, role) = bootstrap_admin(&org).await;
    let user_path = format!("/api/v1/users/{admin}");
    let attempts = [
        (Method::POST, format!("{user_path}/lifecycle/suspend")),
        (Method::POST, format!("{user_path}/lifecycle/deactivate")),
        (Method::POST, "/api/v1/users/me/lifecycle/deactivate".into()),
        (Method::DELETE, user_path.clone()),
        (Method::DELETE, format!("{user_path}/roles/{role}")),
    ];
    for (method, path) in attempts {
        let logged = log_size(&org).await;
        let (s, b) = org.send(method.clone(), &path, Some(json!({}))).await;
        assert_last_admin_refusal(s, &b);
        assert_eq!(status_of(&org, &admin).await, "ACTIVE", "{method} {path}");
        assert_eq!(log_size(&org).await, logged, "{method} {path} logged");
        let (s, me) = org.get("/api/v1/users/me").await;
        assert_eq!(s, 200, "{method} {path}: the token still acts: {me}");
        let (_, roles) = org.get(&format!("{user_path}/roles")).await;
        assert_eq!(roles[0]["type"], "SUPER_ADMIN", "{method} {path}");
    }
}

/// The same changes pass while another active Super Admin user remains, whoever makes them;
/// and each is refused again once it would remove the last one.
async fn another_super_admin_user_allows_each_change(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, admin_role) = bootstrap_admin(&org).await;
    let (boss, boss_role, boss_token) = super_admin(&org, "boss@example.com").await;
    let admin_path = format!("/api/v1/users/{admin}");
    let boss_path = format!("/api/v1/users/{boss}");

    // Suspend: the admin suspends itself (boss remains); then boss is the last one.
    let (s, b) = org
        .post(&format!("{admin_path}/lifecycle/suspend"), json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(status_of(&org, &admin).await, "SUSPENDED");
    for op in ["suspend", "deactivate"] {
        let (s, b) = org
            .send_as(
                &boss_token,
                Method::POST,
                &format!("{boss_path}/lifecycle/{op}"),
                Some(json!({})),
            )
            .await;
        assert_last_admin_refusal(s, &b);
    }
    let (s, b) = org
        .send_as(&boss_token, Method::DELETE, &boss_path, None)
        .await;
    assert_last_admin_refusal(s, &b);
    let (s, b) = org
        .send_as(
            &boss_token,
            Method::DELETE,
            &format!("{boss_path}/roles/{boss_role}"),
            None,
        )
        .await;
    assert_last_admin_refusal(s, &b);
    assert_eq!(status_of(&org, &boss).await, "ACTIVE");

    // Boss brings the admin back; now boss may deactivate and then delete themself.
    let (s, b) = org
        .send_as(
            &boss_token,
            Method::POST,
            &format!("{admin_path}/lifecycle/unsuspend"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = org
        .send_as(&boss_token, Method::DELETE, &boss_path, None)
        .await;
    assert_eq!(s, 204, "{b}");
    assert_eq!(status_of(&org, &boss).await, "DEPROVISIONED");
    let (s, b) = org.delete(&boss_path).await;
    assert_eq!(
        s, 204,
        "deleting the deactivated one removes no acting admin: {b}"
    );

    // Deactivate and role removal, with a second admin present.
    let (second, second_role, second_token) = super_admin(&org, "second@example.com").await;
    let (s, b) = org
        .send_as(
            &second_token,
            Method::DELETE,
            &format!("{admin_path}/roles/{admin_role}"),
            None,
        )
        .await;
    assert_eq!(s, 204, "{b}");
    // The admin is no Super Admin now; the second one is the last.
    let (s, b) = org
        .send_as(
            &second_token,
            Method::DELETE,
            &format!("/api/v1/users/{second}/roles/{second_role}"),
            None,
        )
        .await;
    assert_last_admin_refusal(s, &b);
    let (s, r) = org
        .send_as(
            &second_token,
            Method::POST,
            &format!("{admin_path}/roles"),
            Some(json!({"type": "SUPER_ADMIN"})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, b) = org
        .post(
            &format!("/api/v1/users/{second}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(status_of(&org, &second).await, "DEPROVISIONED");
}

/// A service app holding SUPER_ADMIN counts: with it, the only Super Admin user may go, and the
/// app (which can act) brings them back. As the last one, the app cannot be deactivated, lose the
/// role, or stop being a service app.
async fn a_super_admin_service_app_counts(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, _) = bootstrap_admin(&org).await;
    let (app_id, client_id) = org.service_app("Break Glass Bot").await;
    for scope in ["okta.users.manage", "okta.roles.manage", "okta.apps.manage"] {
        org.grant(&app_id, scope).await;
    }
    org.client_role(&client_id, "SUPER_ADMIN").await;
    let (_, roles) = org
        .get(&format!("/oauth2/v1/clients/{client_id}/roles"))
        .await;
    let app_role = id(&roles[0]);

    let (s, b) = org
        .post(
            &format!("/api/v1/users/{admin}/lifecycle/suspend"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "the app remains a Super Admin: {b}");

    // The app is the last acting Super Admin now.
    let bot = org
        .client_credentials(
            &client_id,
            "okta.users.manage okta.roles.manage okta.apps.manage",
        )
        .await;
    let bot = bot.body["access_token"].as_str().unwrap().to_string();
    let as_bot = |method: Method, path: String, body: Option<Value>| {
        let org = &org;
        let bot = bot.clone();
        async move {
            let mut req = org
                .http
                .request(method, format!("{}{path}", org.base))
                .bearer_auth(bot);
            if let Some(body) = body {
                req = req.json(&body);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let app_path = format!("/api/v1/apps/{app_id}");
    let (_, app) = as_bot(Method::GET, app_path.clone(), None).await;
    let mut web = app.clone();
    web["settings"]["oauthClient"]["application_type"] = json!("web");
    web["settings"]["oauthClient"]["grant_types"] = json!(["authorization_code"]);
    web["settings"]["oauthClient"]["response_types"] = json!(["code"]);
    web["settings"]["oauthClient"]["redirect_uris"] = json!(["https://bot.example.com/cb"]);
    for (method, path, body) in [
        (
            Method::POST,
            format!("{app_path}/lifecycle/deactivate"),
            None,
        ),
        (
            Method::DELETE,
            format!("/oauth2/v1/clients/{client_id}/roles/{app_role}"),
            None,
        ),
        (Method::PUT, app_path.clone(), Some(web.clone())),
    ] {
        let (s, b) = as_bot(method.clone(), path.clone(), body).await;
        assert_last_admin_refusal(s, &b);
        let (_, now) = as_bot(Method::GET, app_path.clone(), None).await;
        assert_eq!(now["status"], "ACTIVE", "{method} {path}");
        assert_eq!(
            now["settings"]["oauthClient"]["application_type"], "service",
            "{method} {path}"
        );
    }

    // The app brings the admin back; then the app may go, each way.
    let (s, b) = as_bot(
        Method::POST,
        format!("/api/v1/users/{admin}/lifecycle/unsuspend"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = org.put(&app_path, web).await;
    assert_eq!(s, 200, "re-typed while the admin acts: {b}");
    let (s, b) = org
        .delete(&format!("/oauth2/v1/clients/{client_id}/roles/{app_role}"))
        .await;
    assert_eq!(s, 204, "{b}");
    let (s, b) = org
        .post(&format!("{app_path}/lifecycle/deactivate"), json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
}

/// A lockout by failed sign-ins is not a removal: it lasts 15 minutes and leaves the admin's
/// tokens acting, so it is never refused (refusing it would give the most valuable account
/// unlimited password guesses). The locked-out admin still counts both ways: it cannot be
/// deactivated as the last one, and another Super Admin may go while it is locked out.
async fn a_locked_out_super_admin_still_counts(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, _) = bootstrap_admin(&org).await;
    let redirect = "https://console.example.com/cb".to_string();
    let (app_id, client_id, secret) = org.web_app("Console", &redirect, "TRUSTED").await;
    let web = WebApp {
        app_id,
        client_id,
        secret,
        redirect,
    };
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &web, "openid", &challenge, "");
    let lock_out = |login: &'static str| {
        let org = &org;
        let url = url.clone();
        async move {
            let browser = browser();
            for i in 0..steward_api::oauth::LOCKOUT_THRESHOLD {
                let r = sign_in(org, &browser, &url, login, "wrong-password").await;
                assert_eq!(r.status(), 401, "{login} attempt {i}");
            }
        }
    };

    // The only Super Admin is locked out: its token still acts, and it is still the last one.
    lock_out("admin@steward.local").await;
    assert_eq!(status_of(&org, &admin).await, "LOCKED_OUT");
    let (s, me) = org.get("/api/v1/users/me").await;
    assert_eq!(s, 200, "{me}");
    let (s, b) = org
        .post(
            &format!("/api/v1/users/{admin}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_last_admin_refusal(s, &b);

    // With another Super Admin active, that one may go: the locked-out admin remains.
    let (boss, _, boss_token) = super_admin(&org, "boss@example.com").await;
    let (s, b) = org
        .send_as(
            &boss_token,
            Method::POST,
            &format!("/api/v1/users/{boss}/lifecycle/suspend"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    // And the locked-out admin unlocks itself with its token.
    let (s, b) = org
        .post(
            &format!("/api/v1/users/{admin}/lifecycle/unlock"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(status_of(&org, &admin).await, "ACTIVE");

    // A Super Admin locked out while another is active is locked out too (no exemption).
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{boss}/lifecycle/unsuspend"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    lock_out("boss@example.com").await;
    assert_eq!(status_of(&org, &boss).await, "LOCKED_OUT");
}

/// Two Super Admins demote each other at the same moment, again and again: never both.
async fn concurrent_demotions_never_remove_both(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, _) = bootstrap_admin(&org).await;
    let (boss, _, boss_token) = super_admin(&org, "boss@example.com").await;
    let admin_token = org.token.clone();
    for round in 0..12 {
        let (a, b) = if round % 2 == 0 {
            ("suspend", "suspend")
        } else {
            ("deactivate", "suspend")
        };
        let (boss_path, admin_path) = (
            format!("/api/v1/users/{boss}/lifecycle/{a}"),
            format!("/api/v1/users/{admin}/lifecycle/{b}"),
        );
        let first = org.send_as(&admin_token, Method::POST, &boss_path, Some(json!({})));
        let second = org.send_as(&boss_token, Method::POST, &admin_path, Some(json!({})));
        let ((s1, b1), (s2, b2)) = tokio::join!(first, second);
        let passed = [s1, s2].iter().filter(|s| **s == 200).count();
        assert!(passed <= 1, "round {round}: both passed: {b1} {b2}");
        let acting = [status_of(&org, &admin).await, status_of(&org, &boss).await]
            .iter()
            .filter(|s| *s == "ACTIVE")
            .count();
        assert_eq!(acting, 1, "round {round}: {s1} {b1} / {s2} {b2}");
        // Put the loser back through the store, as a fresh start for the next round.
        for user_id in [&admin, &boss] {
            let mut tx = org.store.begin().await.unwrap();
            let mut user = tx.user(user_id).await.unwrap();
            user.status = steward_core::directory::UserStatus::Active;
            tx.update_user(&user).await.unwrap();
            tx.commit().await.unwrap();
        }
        org.state.principals.clear();
    }
}

on_both_backends!(
    the_only_super_admin_cannot_remove_itself,
    another_super_admin_user_allows_each_change,
    a_super_admin_service_app_counts,
    a_locked_out_super_admin_still_counts,
    concurrent_demotions_never_remove_both,
);
