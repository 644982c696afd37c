//! A user's status and System Log stay true to what happened: failed sign-ins never bring a
//! suspended or deactivated user back, concurrent writes to one user never undo each other, and
//! the System Log records only the changes that were made. Every test runs on both backends.
use crate::common;

use common::oauth::*;
use common::{Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};
use steward_api::oauth::LOCKOUT_THRESHOLD;

const PASSWORD: &str = "Sup3r-Secret-Pass";
const JANE: &str = "jane@example.com";

fn enc(s: &str) -> String {
    urlencode(s)
}

/// The System Log events that match the SCIM `filter`, oldest first.
async fn log(org: &TestOrg, filter: &str) -> Vec<Value> {
    let (s, body) = org
        .get(&format!(
            "/api/v1/logs?filter={}&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z&limit=1000",
            enc(filter)
        ))
        .await;
    assert_eq!(s, 200, "{body}");
    body.as_array().unwrap().clone()
}

/// The System Log events of `event_type` that target `id`.
async fn events(org: &TestOrg, event_type: &str, id: &str) -> Vec<Value> {
    log(
        org,
        &format!("eventType eq \"{event_type}\" and target.id eq \"{id}\""),
    )
    .await
}

/// Every System Log event that targets `id`.
async fn events_of(org: &TestOrg, id: &str) -> Vec<Value> {
    log(org, &format!("target.id eq \"{id}\"")).await
}

async fn status_of(org: &TestOrg, id: &str) -> String {
    let (s, user) = org.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(s, 200, "{user}");
    user["status"].as_str().unwrap().to_string()
}

async fn lifecycle(org: &TestOrg, id: &str, op: &str) -> u16 {
    org.post(&format!("/api/v1/users/{id}/lifecycle/{op}"), json!({}))
        .await
        .0
}

/// Whether the SSWS token acts (the user holds READ_ONLY_ADMIN, so a read is allowed).
async fn token_acts(org: &TestOrg, token: &str, user_id: &str) -> bool {
    let (s, body) = org
        .send_as(
            token,
            Method::GET,
            &format!("/api/v1/users/{user_id}"),
            None,
        )
        .await;
    match s {
        200 => true,
        401 => false,
        other => panic!("unexpected {other}: {body}"),
    }
}

/// Fails `login`'s password through the real sign-in form more times than the lockout allows;
/// every attempt is refused with the generic message.
async fn fail_password(org: &TestOrg, url: &str, login: &str) {
    let browser = browser();
    for i in 0..LOCKOUT_THRESHOLD + 2 {
        let r = sign_in(org, &browser, url, login, "wrong-password").await;
        assert_eq!(r.status(), 401, "attempt {i}");
        let html = r.text().await.unwrap();
        assert!(html.contains("Unable to sign in."), "attempt {i}: {html}");
    }
}

/// Defect 1: five wrong passwords must not turn a SUSPENDED or DEPROVISIONED user into a
/// LOCKED_OUT one (whose SSWS tokens act again, and whose lock then runs out into ACTIVE).
async fn failed_sign_ins_never_bring_back_a_suspended_or_deactivated_user(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, user_id) = web_app_with_user(&org, "TRUSTED").await;
    let token = org.token_for(JANE).await;
    assert!(token_acts(&org, &token, &user_id).await, "{backend:?}");
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");

    for (op, status) in [("suspend", "SUSPENDED"), ("deactivate", "DEPROVISIONED")] {
        if op == "deactivate" {
            assert_eq!(lifecycle(&org, &user_id, "unsuspend").await, 200);
            assert!(token_acts(&org, &token, &user_id).await, "{backend:?}");
        }
        assert_eq!(lifecycle(&org, &user_id, op).await, 200, "{backend:?} {op}");
        assert!(
            !token_acts(&org, &token, &user_id).await,
            "{backend:?} {op}"
        );
        fail_password(&org, &url, JANE).await;
        assert_eq!(status_of(&org, &user_id).await, status, "{backend:?} {op}");
        assert!(
            !token_acts(&org, &token, &user_id).await,
            "{backend:?}: the {status} user's SSWS token acts again"
        );
        // The right password does not help either, and says nothing about the status.
        let r = sign_in(&org, &browser(), &url, JANE, PASSWORD).await;
        assert_eq!(r.status(), 401, "{backend:?} {op}");
        assert!(r.text().await.unwrap().contains("Unable to sign in."));
        assert_eq!(status_of(&org, &user_id).await, status, "{backend:?} {op}");
    }
    assert!(
        events(&org, "user.account.lock", &user_id).await.is_empty(),
        "{backend:?}"
    );
    // Each refusal is logged as a failed sign-in.
    let failures = log(
        &org,
        &format!("eventType eq \"user.session.start\" and actor.id eq \"{user_id}\""),
    )
    .await;
    assert!(
        failures.iter().all(|e| e["outcome"]["result"] == "FAILURE"),
        "{backend:?}"
    );
    assert_eq!(
        failures.len() as i64,
        2 * (LOCKOUT_THRESHOLD + 3),
        "{backend:?}"
    );
}

/// An ACTIVE user still locks out after five wrong passwords; a lock that ran out makes the
/// user ACTIVE again (counting afresh), while a suspended user with a stale lock record stays
/// SUSPENDED whatever the password.
async fn lockout_applies_to_active_users_and_runs_out_only_into_active(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, user_id) = web_app_with_user(&org, "TRUSTED").await;
    let token = org.token_for(JANE).await;
    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let b = browser();
    for i in 0..LOCKOUT_THRESHOLD {
        let r = sign_in(&org, &b, &url, JANE, "wrong-password").await;
        assert_eq!(r.status(), 401, "{backend:?} attempt {i}");
    }
    assert_eq!(status_of(&org, &user_id).await, "LOCKED_OUT", "{backend:?}");
    assert_eq!(events(&org, "user.account.lock", &user_id).await.len(), 1);
    // The lock protects the password, not the tokens issued before it.
    assert!(token_acts(&org, &token, &user_id).await, "{backend:?}");
    let r = sign_in(&org, &b, &url, JANE, PASSWORD).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Unable to sign in."));

    // The lock runs out: one wrong password is one failure of a fresh count, not a new lock.
    let past = now() * 1000 - 1000;
    let mut tx = org.store.begin().await.unwrap();
    tx.set_user_lockout(&user_id, LOCKOUT_THRESHOLD, Some(past))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = sign_in(&org, &b, &url, JANE, "wrong-password").await;
    assert_eq!(r.status(), 401, "{backend:?}");
    assert!(r.text().await.unwrap().contains("Unable to sign in."));
    assert_eq!(status_of(&org, &user_id).await, "ACTIVE", "{backend:?}");
    let r = sign_in(&org, &b, &url, JANE, PASSWORD).await;
    assert_eq!(r.status(), 302, "{backend:?}");

    // A suspended user whose lock record ran out is not ACTIVE for it.
    assert_eq!(lifecycle(&org, &user_id, "suspend").await, 200);
    let mut tx = org.store.begin().await.unwrap();
    tx.set_user_lockout(&user_id, LOCKOUT_THRESHOLD, Some(past))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = sign_in(&org, &browser(), &url, JANE, PASSWORD).await;
    assert_eq!(r.status(), 401, "{backend:?}");
    assert_eq!(status_of(&org, &user_id).await, "SUSPENDED", "{backend:?}");
    assert!(!token_acts(&org, &token, &user_id).await, "{backend:?}");
}

/// Defect 2: a deactivation racing a password update (argon2 runs for a while) is never
/// undone: whenever the deactivation answered 200 the user ends DEPROVISIONED, and the System
/// Log tells the same story.
async fn deactivation_racing_a_password_update_is_not_undone(backend: Backend) {
    let org = TestOrg::start(backend).await;
    for round in 0..20 {
        let login = format!("race{round}@example.com");
        let user = org.user(&login).await;
        let id = user["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/users/{id}");
        let deactivate = lifecycle(&org, &id, "deactivate");
        let update = org.post(
            &path,
            json!({"credentials": {"password": {"value": format!("N3w-Secret-Pass-{round}")}}}),
        );
        let (deactivated, (updated, body)) = tokio::join!(deactivate, update);
        assert_eq!(deactivated, 200, "{backend:?} round {round}");
        assert_eq!(updated, 200, "{backend:?} round {round}: {body}");
        assert_eq!(
            status_of(&org, &id).await,
            "DEPROVISIONED",
            "{backend:?} round {round}: the deactivation was undone"
        );
        let log = events_of(&org, &id).await;
        let types: Vec<&str> = log
            .iter()
            .map(|e| e["eventType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types
                .iter()
                .filter(|t| **t == "user.lifecycle.deactivate")
                .count(),
            1,
            "{backend:?} round {round}: {types:?}"
        );
        assert_eq!(
            types
                .iter()
                .filter(|t| **t == "user.account.update_password")
                .count(),
            1,
            "{backend:?} round {round}: {types:?}"
        );
        assert!(
            !types.contains(&"user.account.update_profile"),
            "{backend:?} round {round}: {types:?}"
        );
    }
}

/// Defect 2, the sign-in path: a sign-in racing a deactivation never leaves the user ACTIVE,
/// and a session it opened does not outlive the deactivation.
async fn sign_in_racing_a_deactivation_does_not_undo_it(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let redirect = "https://app.example.com/callback".to_string();
    let (app_id, client_id, secret) = org.web_app("Portal", &redirect, "TRUSTED").await;
    let app = WebApp {
        app_id: app_id.clone(),
        client_id,
        secret,
        redirect,
    };
    for round in 0..10 {
        let login = format!("signin{round}@example.com");
        let user = org.user(&login).await;
        let id = user["id"].as_str().unwrap().to_string();
        org.assign(&app_id, &id).await;
        let (_, challenge) = pkce();
        let url = authorize_url(&org, &app, "openid", &challenge, "");
        let b = browser();
        // The form first, so that the POST races the deactivation.
        let html = b.get(&url).send().await.unwrap().text().await.unwrap();
        let form = [
            ("csrf", hidden(&html, "csrf").unwrap()),
            ("return_to", hidden(&html, "return_to").unwrap()),
            ("username", login.clone()),
            ("password", PASSWORD.to_string()),
        ];
        let post = b.post(format!("{}/login", org.base)).form(&form).send();
        let (signed_in, deactivated) = tokio::join!(post, lifecycle(&org, &id, "deactivate"));
        assert_eq!(deactivated, 200, "{backend:?} round {round}");
        let signed_in = signed_in.unwrap();
        let answered = signed_in.status().as_u16();
        assert!(answered == 303 || answered == 401, "{answered}");
        assert_eq!(
            status_of(&org, &id).await,
            "DEPROVISIONED",
            "{backend:?} round {round}: the sign-in undid the deactivation"
        );
        // Whatever session the sign-in opened died with the deactivation.
        let sid = signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("steward_sid="))
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        assert_eq!(sid.is_some(), answered == 303, "{backend:?} round {round}");
        if let Some(sid) = sid {
            let live = org
                .store
                .session(&steward_oauth::secrets::sha256_hex(&sid), now() * 1000)
                .await;
            assert!(
                live.is_err(),
                "{backend:?} round {round}: a session outlived the deactivation"
            );
        }
    }
}

/// Defect 3: a group named twice in `groupIds` is joined and logged once.
async fn duplicate_group_ids_log_one_membership(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, group) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Engineering"}}),
        )
        .await;
    assert_eq!(s, 200, "{group}");
    let gid = group["id"].as_str().unwrap();
    let (s, user) = org
        .post(
            "/api/v1/users?activate=false",
            json!({
                "profile": {"login": "dup@example.com", "email": "dup@example.com", "firstName": "D", "lastName": "Up"},
                "groupIds": [gid, gid],
            }),
        )
        .await;
    assert_eq!(s, 200, "{backend:?} {user}");
    let uid = user["id"].as_str().unwrap();
    let (_, groups) = org.get(&format!("/api/v1/users/{uid}/groups")).await;
    let named: Vec<&Value> = groups
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["id"] == gid)
        .collect();
    assert_eq!(named.len(), 1, "{backend:?} {groups}");
    let added = events(&org, "group.user_membership.add", uid).await;
    assert_eq!(added.len(), 1, "{backend:?} {added:?}");
    assert_eq!(added[0]["target"][1]["id"], gid);
}

/// Defect 3: a password-only update logs `user.account.update_password` and nothing about the
/// profile; a profile update logs `user.account.update_profile` only; an update that changes
/// nothing logs nothing.
async fn user_updates_log_only_what_changed(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let user = org.user("pat@example.com").await;
    let id = user["id"].as_str().unwrap();
    let path = format!("/api/v1/users/{id}");

    let (s, b) = org
        .post(
            &path,
            json!({"credentials": {"password": {"value": "An0ther-Secret-Pass"}}}),
        )
        .await;
    assert_eq!(s, 200, "{backend:?} {b}");
    assert_eq!(
        events(&org, "user.account.update_password", id).await.len(),
        1
    );
    assert!(
        events(&org, "user.account.update_profile", id)
            .await
            .is_empty(),
        "{backend:?}: a password change logged a profile update"
    );

    let (s, b) = org
        .post(&path, json!({"profile": {"nickName": "Pat"}}))
        .await;
    assert_eq!(s, 200, "{backend:?} {b}");
    assert_eq!(b["profile"]["nickName"], "Pat");
    assert_eq!(
        events(&org, "user.account.update_profile", id).await.len(),
        1
    );
    assert_eq!(
        events(&org, "user.account.update_password", id).await.len(),
        1
    );

    // The same profile again changes nothing, and logs nothing.
    let (s, b) = org
        .post(&path, json!({"profile": {"nickName": "Pat"}}))
        .await;
    assert_eq!(s, 200, "{backend:?} {b}");
    assert_eq!(
        events(&org, "user.account.update_profile", id).await.len(),
        1,
        "{backend:?}"
    );
    // The new password is the one that signs in... through the API it is not visible, but the
    // old one is gone: the user's passwordChanged moved.
    let (_, now_user) = org.get(&path).await;
    assert!(!now_user["passwordChanged"].is_null());
}

/// Defect 3: assigning a user to an app again keeps the assignment and its `created`, and logs
/// nothing; a new profile is an update, not another add.
async fn reassigning_a_user_to_an_app_keeps_the_assignment(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, user_id) = web_app_with_user(&org, "TRUSTED").await;
    let path = format!("/api/v1/apps/{}/users/{user_id}", app.app_id);
    let (s, first) = org.get(&path).await;
    assert_eq!(s, 200, "{backend:?} {first}");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let (s, again) = org
        .post(
            &format!("/api/v1/apps/{}/users", app.app_id),
            json!({"id": user_id, "scope": "USER"}),
        )
        .await;
    assert_eq!(s, 200, "{backend:?} {again}");
    assert_eq!(again["created"], first["created"], "{backend:?}");
    let (_, stored) = org.get(&path).await;
    assert_eq!(stored["created"], first["created"], "{backend:?}");
    assert_eq!(stored["lastUpdated"], first["lastUpdated"], "{backend:?}");
    assert_eq!(
        events(&org, "application.user_membership.add", &user_id)
            .await
            .len(),
        1,
        "{backend:?}: a re-assignment logged another add"
    );

    // A new profile is an update of the same assignment.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (s, changed) = org
        .post(
            &format!("/api/v1/apps/{}/users", app.app_id),
            json!({"id": user_id, "scope": "USER", "profile": {"role": "editor"}}),
        )
        .await;
    assert_eq!(s, 200, "{backend:?} {changed}");
    assert_eq!(changed["created"], first["created"], "{backend:?}");
    assert_eq!(changed["profile"]["role"], "editor");
    assert_ne!(changed["lastUpdated"], first["lastUpdated"]);
    let (_, stored) = org.get(&path).await;
    assert_eq!(stored["profile"]["role"], "editor");
    assert_eq!(
        events(&org, "application.user_membership.add", &user_id)
            .await
            .len(),
        1,
        "{backend:?}"
    );
    assert_eq!(
        events(&org, "application.user_membership.update", &user_id)
            .await
            .len(),
        1,
        "{backend:?}"
    );
}

on_both_backends!(
    failed_sign_ins_never_bring_back_a_suspended_or_deactivated_user,
    lockout_applies_to_active_users_and_runs_out_only_into_active,
    deactivation_racing_a_password_update_is_not_undone,
    sign_in_racing_a_deactivation_does_not_undo_it,
    duplicate_group_ids_log_one_membership,
    user_updates_log_only_what_changed,
    reassigning_a_user_to_an_app_keeps_the_assignment,
);
