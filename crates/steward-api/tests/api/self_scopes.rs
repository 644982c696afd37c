//! A user's own record through Okta's end-user scopes (issue 11, item 8): with
//! `okta.users.read.self` a user without any admin role reads `/api/v1/users/me` (and their own
//! id or login); with `okta.users.manage.self` they update their own profile, but not their
//! password, login or status, nor anyone else. Without the scope: Okta's exact challenge. Every
//! test runs on SQLite and PostgreSQL.
use crate::common;

use common::oauth::{user_token, Answer};
use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

const REDIRECT: &str = "https://portal.example.com/cb";

/// A portal app granted both `.self` scopes, and a plain user (no admin role) assigned to it.
async fn portal(org: &TestOrg) -> (String, String, String) {
    let (app_id, client_id, secret) = org.web_app("Portal", REDIRECT, "TRUSTED").await;
    for scope in ["okta.users.read.self", "okta.users.manage.self"] {
        org.grant(&app_id, scope).await;
    }
    let jane = org.user("jane@example.com").await;
    let jane_id = jane["id"].as_str().unwrap().to_string();
    org.assign(&app_id, &jane_id).await;
    (client_id, secret, jane_id)
}

async fn token(org: &TestOrg, client_id: &str, secret: &str, scope: &str) -> String {
    user_token(org, client_id, secret, REDIRECT, "jane@example.com", scope).await
}

async fn call(
    org: &TestOrg,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let mut req = org
        .http
        .request(method, format!("{}{path}", org.base))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    common::oauth::answer(req, &[]).await
}

/// Okta's challenge for a token without `scope` on `path`, with its empty body.
fn assert_challenge(org: &TestOrg, a: &Answer, scope: &str, path: &str) {
    assert_eq!(a.status, 403, "{path}: {}", a.body);
    let expected = format!(
        "Bearer authorization_uri=\"{b}/oauth2/v1/authorize\", realm=\"{b}\", scope=\"{scope}\", \
         error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", \
         resource=\"{path}\", resource_metadata=\"{b}/.well-known/oauth-protected-resource\"",
        b = org.base
    );
    assert_eq!(
        a.headers["www-authenticate"].to_str().unwrap(),
        expected,
        "{path}"
    );
    assert_eq!(a.body, Value::String(String::new()), "{path}");
}

async fn read_self_reads_only_the_own_record(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (client_id, secret, jane_id) = portal(&org).await;
    let other = org.user("other@example.com").await;
    let other_id = other["id"].as_str().unwrap();
    let reader = token(&org, &client_id, &secret, "openid okta.users.read.self").await;

    for path in [
        "/api/v1/users/me".to_string(),
        format!("/api/v1/users/{jane_id}"),
        "/api/v1/users/jane@example.com".to_string(),
        "/api/v1/users/JANE@example.com".to_string(),
    ] {
        let a = call(&org, &reader, Method::GET, &path, None).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.body["id"], jane_id.as_str(), "{path}");
        assert_eq!(a.body["profile"]["login"], "jane@example.com");
    }

    // Another user, by id or login: E0000006, however the record is named.
    for path in [
        format!("/api/v1/users/{other_id}"),
        "/api/v1/users/other@example.com".to_string(),
        "/api/v1/users/00u_no_such_user0000".to_string(),
    ] {
        let a = call(&org, &reader, Method::GET, &path, None).await;
        assert_error(a.status, &a.body, 403, "E0000006");
    }
    // Nothing else the admin scope would give: the list, writes, groups.
    let a = call(&org, &reader, Method::GET, "/api/v1/users", None).await;
    assert_challenge(&org, &a, "okta.users.read", "/api/v1/users");
    let groups = format!("/api/v1/users/{jane_id}/groups");
    let a = call(&org, &reader, Method::GET, &groups, None).await;
    assert_challenge(&org, &a, "okta.users.read", &groups);
    let a = call(
        &org,
        &reader,
        Method::POST,
        "/api/v1/users/me",
        Some(json!({"profile": {"nickName": "J"}})),
    )
    .await;
    assert_challenge(&org, &a, "okta.users.manage", "/api/v1/users/me");

    // Without a `.self` scope (nor an admin one): Okta's exact challenge naming the scope.
    let bare = token(&org, &client_id, &secret, "openid").await;
    let a = call(&org, &bare, Method::GET, "/api/v1/users/me", None).await;
    assert_challenge(&org, &a, "okta.users.read", "/api/v1/users/me");

    // A service app granted the scope has no own record.
    let (app_id, bot) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read.self").await;
    let cc = org.client_credentials(&bot, "okta.users.read.self").await;
    let cc = cc.body["access_token"].as_str().unwrap().to_string();
    let a = call(&org, &cc, Method::GET, "/api/v1/users/me", None).await;
    assert_error(a.status, &a.body, 403, "E0000006");
}

async fn manage_self_updates_only_the_own_profile(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (client_id, secret, jane_id) = portal(&org).await;
    let other = org.user("other@example.com").await;
    let other_id = other["id"].as_str().unwrap().to_string();
    let manager = token(&org, &client_id, &secret, "openid okta.users.manage.self").await;

    // Reads (manage implies read) and updates the own profile, partially and whole.
    let a = call(&org, &manager, Method::GET, "/api/v1/users/me", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = call(
        &org,
        &manager,
        Method::POST,
        "/api/v1/users/me",
        Some(json!({"profile": {"nickName": "Jay"}})),
    )
    .await;
    assert_eq!(
        (a.status, a.body["profile"]["nickName"].as_str()),
        (200, Some("Jay")),
        "{}",
        a.body
    );
    let whole = json!({"profile": {"login": "jane@example.com", "email": "jane@example.org",
        "firstName": "Jane", "lastName": "Doe"}});
    let a = call(
        &org,
        &manager,
        Method::PUT,
        &format!("/api/v1/users/{jane_id}"),
        Some(whole),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["profile"]["email"], "jane@example.org");
    let (_, logs) = org
        .get("/api/v1/logs?filter=eventType%20eq%20%22user.account.update_profile%22")
        .await;
    assert!(
        logs.as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"]["id"] == jane_id.as_str()),
        "the user is the actor: {logs}"
    );

    // Not how they sign in, not their status, not anyone else; nothing changes.
    let (_, before) = org.get(&format!("/api/v1/users/{jane_id}")).await;
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/users/me".to_string(),
            Some(json!({"credentials": {"password": {"value": "An0ther-Secret-Pass"}}})),
        ),
        (
            Method::POST,
            "/api/v1/users/me".to_string(),
            Some(json!({"profile": {"login": "boss@example.com"}})),
        ),
        (
            Method::POST,
            format!("/api/v1/users/{other_id}"),
            Some(json!({"profile": {"nickName": "Pwned"}})),
        ),
        (
            Method::PUT,
            format!("/api/v1/users/{other_id}"),
            Some(
                json!({"profile": {"login": "other@example.com", "email": "x@example.com",
                "firstName": "P", "lastName": "W"}}),
            ),
        ),
    ] {
        let a = call(&org, &manager, method.clone(), &path, body).await;
        assert_error(a.status, &a.body, 403, "E0000006");
    }
    for op in ["suspend", "deactivate"] {
        let path = format!("/api/v1/users/{jane_id}/lifecycle/{op}");
        let a = call(&org, &manager, Method::POST, &path, Some(json!({}))).await;
        assert_challenge(&org, &a, "okta.users.manage", &path);
    }
    let path = format!("/api/v1/users/{jane_id}");
    let a = call(&org, &manager, Method::DELETE, &path, None).await;
    assert_challenge(&org, &a, "okta.users.manage", &path);
    assert_eq!(org.get(&path).await.1, before, "nothing changed");
    let (_, still) = org.get(&format!("/api/v1/users/{other_id}")).await;
    assert_eq!(still["profile"], other["profile"]);
}

on_both_backends!(
    read_self_reads_only_the_own_record,
    manage_self_updates_only_the_own_profile,
);
