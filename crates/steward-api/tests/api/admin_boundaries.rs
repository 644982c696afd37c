//! The boundaries between admin roles, over real HTTP on SQLite and PostgreSQL: an App Admin
//! cannot take over an app that holds Okta API scopes or admin roles, an Org Admin cannot take
//! over a Super Admin, only a Super Admin assigns roles; and a committed change is reported as
//! done even when the revocation refresh after it fails.
use crate::common;

use common::oauth::{client_key, jwks, other_key, user_token};
use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};
use steward_store::{Store, StoreConfig};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A user holding `role`, and an SSWS token that acts as them.
async fn admin(org: &TestOrg, login: &str, role: &str) -> (Value, String) {
    let user = org.user(login).await;
    let (s, r) = org
        .post(
            &format!("/api/v1/users/{}/roles", id(&user)),
            json!({ "type": role }),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    (user, org.token_for(login).await)
}

/// How many System Log events name `target_id` as a target.
async fn events_about(org: &TestOrg, target_id: &str) -> usize {
    let filter =
        url::form_urlencoded::byte_serialize(format!("target.id eq \"{target_id}\"").as_bytes())
            .collect::<String>();
    let (s, events) = org
        .get(&format!("/api/v1/logs?limit=1000&filter={filter}"))
        .await;
    assert_eq!(s, 200, "{events}");
    events.as_array().unwrap().len()
}

/// A Management API call with a Bearer access token and an optional JSON body.
async fn bearer_json(
    org: &TestOrg,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = org
        .http
        .request(method, format!("{}{path}", org.base))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A PUT body that points a service app at `key`: what an attacker sends to take it over.
fn service_body(label: &str, key: &steward_oauth::keys::SigningKey) -> Value {
    json!({
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
        "settings": {"oauthClient": {
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "jwks": jwks(key)
        }}
    })
}

/// A web app's replace body, with a secret and one redirect URI.
fn web_body(label: &str, redirect: &str) -> Value {
    json!({
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {"oauthClient": {
            "application_type": "web",
            "grant_types": ["authorization_code"],
            "redirect_uris": [redirect]
        }}
    })
}

/// Every write an App Admin could make to a privileged app is refused with E0000006, and the
/// app and its System Log are unchanged afterwards.
async fn assert_app_writes_refused(org: &TestOrg, token: &str, app_id: &str) {
    let path = format!("/api/v1/apps/{app_id}");
    let before = org.get(&path).await.1;
    let logged = events_about(org, app_id).await;
    let attempts = [
        (
            Method::PUT,
            path.clone(),
            Some(service_body("Mine now", other_key())),
        ),
        (
            Method::PUT,
            path.clone(),
            Some(web_body("Mine now", "https://attacker.example.com/cb")),
        ),
        (
            Method::POST,
            format!("{path}/lifecycle/deactivate"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("{path}/lifecycle/activate"),
            Some(json!({})),
        ),
        (Method::DELETE, path.clone(), None),
    ];
    for (method, p, body) in attempts {
        let (s, b) = org.send_as(token, method.clone(), &p, body).await;
        assert_error(s, &b, 403, "E0000006");
        assert_eq!(
            b["errorSummary"],
            "You do not have permission to perform the requested action"
        );
        assert_eq!(
            org.get(&path).await.1,
            before,
            "{method} {p} changed the app"
        );
    }
    assert_eq!(events_about(org, app_id).await, logged, "nothing logged");
}

async fn app_admin_cannot_take_over_a_privileged_app(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (_, app_admin) = admin(&org, "apps@example.com", "APP_ADMIN").await;

    // One app holds an Okta API scope grant, another an admin role.
    let (granted, granted_client) = org.service_app("Directory Sync").await;
    org.grant(&granted, "okta.users.manage").await;
    let (with_role, with_role_client) = org.service_app("Org Robot").await;
    org.client_role(&with_role_client, "SUPER_ADMIN").await;

    for app_id in [&granted, &with_role] {
        assert_app_writes_refused(&org, &app_admin, app_id).await;
    }
    // The refused PUT did not swap the keys: the owner's key still gets a token.
    let t = org
        .client_credentials(&granted_client, "okta.users.manage")
        .await;
    assert_eq!(t.status, 200, "{backend:?} {}", t.body);

    // Switched off by a Super Admin, it stays off and stays: the App Admin can neither
    // reactivate nor delete it.
    let path = format!("/api/v1/apps/{with_role}");
    let (s, _) = org
        .post(&format!("{path}/lifecycle/deactivate"), json!({}))
        .await;
    assert_eq!(s, 200);
    assert_app_writes_refused(&org, &app_admin, &with_role).await;
    assert_eq!(org.get(&path).await.1["status"], "INACTIVE");

    // The Super Admin may do all of it.
    let path = format!("/api/v1/apps/{granted}");
    let (s, app) = org
        .put(&path, service_body("Directory Sync 2", other_key()))
        .await;
    assert_eq!(s, 200, "{app}");
    assert_eq!(app["label"], "Directory Sync 2");
    assert_eq!(
        app["settings"]["oauthClient"]["jwks"],
        jwks(other_key()),
        "{backend:?}"
    );
    let (s, app) = org
        .put(&path, service_body("Directory Sync", client_key()))
        .await;
    assert_eq!(s, 200, "{app}");
    for op in ["deactivate", "activate", "deactivate"] {
        let (s, b) = org.post(&format!("{path}/lifecycle/{op}"), json!({})).await;
        assert_eq!(s, 200, "{op} {b}");
    }
    assert_eq!(org.delete(&path).await.0, 204);
    assert_eq!(org.get(&path).await.0, 404);
    let path = format!("/api/v1/apps/{with_role}");
    assert_eq!(org.delete(&path).await.0, 204);
}

async fn app_admin_keeps_full_control_of_ordinary_apps(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (_, app_admin) = admin(&org, "apps@example.com", "APP_ADMIN").await;
    let (plain, _) = org.service_app("Plain Service").await;
    let redirect = "https://app.example.com/cb";
    let (web, _, _) = org.web_app("Plain Web", redirect, "TRUSTED").await;
    // A grant that was revoked leaves no privilege behind.
    let (revoked, _) = org.service_app("Formerly Granted").await;
    let g = org.grant(&revoked, "okta.users.read").await;
    let (s, _) = org
        .delete(&format!("/api/v1/apps/{revoked}/grants/{}", id(&g)))
        .await;
    assert_eq!(s, 204);

    let (s, app) = org
        .send_as(
            &app_admin,
            Method::PUT,
            &format!("/api/v1/apps/{web}"),
            Some(web_body("Renamed Web", "https://app.example.com/other")),
        )
        .await;
    assert_eq!(s, 200, "{backend:?} {app}");
    assert_eq!(
        app["settings"]["oauthClient"]["redirect_uris"],
        json!(["https://app.example.com/other"])
    );
    for app_id in [&plain, &revoked, &web] {
        let path = format!("/api/v1/apps/{app_id}");
        let (s, app) = org
            .send_as(
                &app_admin,
                Method::PUT,
                &path,
                Some(if app_id == &web {
                    web_body("Again", redirect)
                } else {
                    service_body("Rekeyed", other_key())
                }),
            )
            .await;
        assert_eq!(s, 200, "{app}");
        for op in ["deactivate", "activate", "deactivate"] {
            let (s, b) = org
                .send_as(
                    &app_admin,
                    Method::POST,
                    &format!("{path}/lifecycle/{op}"),
                    Some(json!({})),
                )
                .await;
            assert_eq!(s, 200, "{op} {b}");
        }
        let (s, b) = org.send_as(&app_admin, Method::DELETE, &path, None).await;
        assert_eq!(s, 204, "{b}");
        assert_eq!(org.get(&path).await.0, 404);
    }
}

/// Every write an Org Admin (SSWS `token`) could make to `target` is refused with E0000006, and
/// the user and the System Log about them are unchanged afterwards.
async fn assert_user_writes_refused(org: &TestOrg, token: &str, target: &Value) {
    let user_id = id(target);
    let login = target["profile"]["login"].as_str().unwrap().to_string();
    let before = org.get(&format!("/api/v1/users/{user_id}")).await.1;
    let logged = events_about(org, &user_id).await;
    let password = json!({"credentials": {"password": {"value": "Takeover-Pass-123"}}});
    let profile = json!({"profile": {"email": "attacker@example.com"}});
    let mut attempts = Vec::new();
    // By id and by login: `{id}` resolves either way.
    for who in [user_id.clone(), login] {
        let path = format!("/api/v1/users/{who}");
        attempts.push((Method::POST, path.clone(), Some(password.clone())));
        attempts.push((Method::POST, path.clone(), Some(profile.clone())));
        attempts.push((
            Method::PUT,
            path.clone(),
            Some(
                json!({"profile": {"login": "mine@example.com", "email": "mine@example.com",
                "firstName": "M", "lastName": "Ine"}}),
            ),
        ));
        for op in [
            "deactivate",
            "suspend",
            "unsuspend",
            "unlock",
            "activate",
            "reactivate",
        ] {
            attempts.push((
                Method::POST,
                format!("{path}/lifecycle/{op}?sendEmail=false"),
                Some(json!({})),
            ));
        }
        attempts.push((Method::DELETE, path, None));
    }
    for (method, p, body) in attempts {
        let (s, b) = org.send_as(token, method.clone(), &p, body).await;
        assert_error(s, &b, 403, "E0000006");
        assert_eq!(
            org.get(&format!("/api/v1/users/{user_id}")).await.1,
            before,
            "{method} {p} changed the user"
        );
    }
    assert_eq!(events_about(org, &user_id).await, logged, "nothing logged");
}

async fn org_admin_cannot_manage_a_super_admin(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (org_admin, org_token) = admin(&org, "org@example.com", "ORG_ADMIN").await;
    let (boss, boss_token) = admin(&org, "boss@example.com", "SUPER_ADMIN").await;
    let (_, bootstrap) = org.get("/api/v1/users/admin@steward.local").await;

    for target in [&boss, &bootstrap] {
        assert_user_writes_refused(&org, &org_token, target).await;
    }
    // The Super Admin's credentials still work: nothing was reset or deactivated.
    let (s, _) = org
        .send_as(&boss_token, Method::GET, "/api/v1/users/me", None)
        .await;
    assert_eq!(s, 200, "{backend:?}");

    // The same Org Admin through a user access token, from the real sign-in form.
    let redirect = "https://console.example.com/cb";
    let (app_id, client_id, secret) = org.web_app("Console", redirect, "TRUSTED").await;
    org.grant(&app_id, "okta.users.manage").await;
    org.assign(&app_id, &id(&org_admin)).await;
    let access = user_token(
        &org,
        &client_id,
        &secret,
        redirect,
        "org@example.com",
        "openid okta.users.manage",
    )
    .await;
    let boss_path = format!("/api/v1/users/{}", id(&boss));
    let (s, b) = bearer_json(
        &org,
        &access,
        Method::POST,
        &format!("{boss_path}/lifecycle/suspend"),
        Some(json!({})),
    )
    .await;
    assert_error(s, &b, 403, "E0000006");
    assert_eq!(org.get(&boss_path).await.1["status"], "ACTIVE");

    // Users below Super Admin, Org Admins included, stay the Org Admin's to manage.
    let plain = org.user("plain@example.com").await;
    let (peer, _) = admin(&org, "peer@example.com", "ORG_ADMIN").await;
    for target in [&plain, &peer] {
        let path = format!("/api/v1/users/{}", id(target));
        let (s, u) = org
            .send_as(
                &org_token,
                Method::POST,
                &path,
                Some(json!({"profile": {"firstName": "Changed"},
                    "credentials": {"password": {"value": "An0ther-Secret-Pass"}}})),
            )
            .await;
        assert_eq!(
            (s, u["profile"]["firstName"].as_str()),
            (200, Some("Changed")),
            "{u}"
        );
        for op in ["suspend", "unsuspend", "deactivate"] {
            let (s, b) = org
                .send_as(
                    &org_token,
                    Method::POST,
                    &format!("{path}/lifecycle/{op}"),
                    Some(json!({})),
                )
                .await;
            assert_eq!(s, 200, "{op} {b}");
        }
        let (s, b) = org.send_as(&org_token, Method::DELETE, &path, None).await;
        assert_eq!(s, 204, "{b}");
        assert_eq!(org.get(&path).await.0, 404);
    }
    let (s, b) = bearer_json(
        &org,
        &access,
        Method::POST,
        &format!("/api/v1/users/{}", id(&org_admin)),
        Some(json!({"profile": {"nickName": "oa"}})),
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // A Super Admin manages a Super Admin, and a Super Admin manages themself.
    let (s, u) = org
        .send_as(
            &boss_token,
            Method::POST,
            "/api/v1/users/me",
            Some(json!({"profile": {"nickName": "Boss"}})),
        )
        .await;
    assert_eq!(
        (s, u["profile"]["nickName"].as_str()),
        (200, Some("Boss")),
        "{u}"
    );
    let (s, u) = org
        .post(
            &boss_path,
            json!({"profile": {"firstName": "Big"},
                "credentials": {"password": {"value": "An0ther-Secret-Pass"}}}),
        )
        .await;
    assert_eq!(
        (s, u["profile"]["firstName"].as_str()),
        (200, Some("Big")),
        "{u}"
    );
    for op in ["suspend", "unsuspend", "deactivate"] {
        let (s, b) = org
            .post(&format!("{boss_path}/lifecycle/{op}"), json!({}))
            .await;
        assert_eq!(s, 200, "{op} {b}");
    }
    assert_eq!(org.delete(&boss_path).await.0, 204);
    assert_eq!(org.get(&boss_path).await.0, 404);
}

async fn only_a_super_admin_assigns_roles_or_grants_scopes(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (org_admin, org_token) = admin(&org, "org@example.com", "ORG_ADMIN").await;
    let (app_admin, app_token) = admin(&org, "apps@example.com", "APP_ADMIN").await;
    let (app_id, client_id) = org.service_app("Helper").await;
    for (token, me) in [(&org_token, &org_admin), (&app_token, &app_admin)] {
        let roles = format!("/api/v1/users/{}/roles", id(me));
        let (s, b) = org
            .send_as(
                token,
                Method::POST,
                &roles,
                Some(json!({"type": "SUPER_ADMIN"})),
            )
            .await;
        assert_error(s, &b, 403, "E0000006");
        let (s, b) = org
            .send_as(
                token,
                Method::POST,
                &format!("/oauth2/v1/clients/{client_id}/roles"),
                Some(json!({"type": "SUPER_ADMIN"})),
            )
            .await;
        assert_error(s, &b, 403, "E0000006");
        let (s, b) = org
            .send_as(
                token,
                Method::POST,
                &format!("/api/v1/apps/{app_id}/grants"),
                Some(json!({"scopeId": "okta.users.manage", "issuer": org.base})),
            )
            .await;
        assert_error(s, &b, 403, "E0000006");
        assert_eq!(org.get(&roles).await.1.as_array().unwrap().len(), 1);
    }
    let (_, roles) = org
        .get(&format!("/oauth2/v1/clients/{client_id}/roles"))
        .await;
    assert_eq!(roles, json!([]), "{backend:?}");
    let (_, grants) = org.get(&format!("/api/v1/apps/{app_id}/grants")).await;
    assert_eq!(grants, json!([]));

    // The Super Admin may.
    let (s, b) = org
        .post(
            &format!("/api/v1/users/{}/roles", id(&org_admin)),
            json!({"type": "SUPER_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    org.grant(&app_id, "okta.users.read").await;
}

/// A store whose SQL we can reach from outside the server (the `sqlite3` or `psql` client), to
/// break the table that the post-commit revocation refresh reads.
async fn reachable_store(backend: Backend) -> (Store, Vec<String>) {
    let (url, client) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!(
                "steward-boundaries-{}",
                steward_core::ids::random_secret(10)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("steward.db").display().to_string();
            (
                format!("sqlite://{file}?mode=rwc"),
                vec!["sqlite3".to_string(), file],
            )
        }
        Backend::Postgres => {
            let admin = std::env::var("STEWARD_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let url = steward_store::create_scratch_postgres(&admin, "steward_api_test")
                .await
                .expect("PostgreSQL at 127.0.0.1:5432 (set STEWARD_TEST_PG_URL)");
            (url.clone(), vec!["psql".to_string(), "-q".to_string(), url])
        }
    };
    let store = Store::open(&StoreConfig {
        url,
        max_connections: 8,
    })
    .await
    .unwrap();
    (store, client)
}

/// Runs `sql` through the database's command-line client; false when the client is missing.
fn run_sql(client: &[String], sql: &str) -> bool {
    let mut cmd = std::process::Command::new(&client[0]);
    cmd.args(&client[1..]);
    if client[0] == "psql" {
        cmd.args(["-v", "ON_ERROR_STOP=1", "-c", sql]);
    } else {
        cmd.arg(sql);
    }
    match cmd.output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{sql}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => panic!("{}: {e}", client[0]),
    }
}

async fn a_committed_change_succeeds_when_the_revocation_refresh_fails(backend: Backend) {
    let (store, client) = reachable_store(backend).await;
    let org = TestOrg::start_on(backend, store).await;
    let user = org.user("leaver@example.com").await;
    let (app_id, _) = org.service_app("Retired Bot").await;

    // The refresh reads `issued_tokens.jti`; the transaction before it never does.
    assert!(
        run_sql(
            &client,
            "ALTER TABLE issued_tokens RENAME COLUMN jti TO jti_unreadable",
        ),
        "{backend:?}: the {} client is required (scripts/test installs it)",
        client[0]
    );
    let user_path = format!("/api/v1/users/{}", id(&user));
    let (s, b) = org
        .post(&format!("{user_path}/lifecycle/deactivate"), json!({}))
        .await;
    assert_eq!(s, 200, "{backend:?} {b}");
    assert_eq!(org.get(&user_path).await.1["status"], "DEPROVISIONED");
    let app_path = format!("/api/v1/apps/{app_id}");
    let (s, b) = org
        .post(&format!("{app_path}/lifecycle/deactivate"), json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(org.get(&app_path).await.1["status"], "INACTIVE");
    // DELETE of an active user deactivates it through the same path.
    let other = org.user("other@example.com").await;
    let other_path = format!("/api/v1/users/{}", id(&other));
    assert_eq!(org.delete(&other_path).await.0, 204);
    assert_eq!(org.get(&other_path).await.1["status"], "DEPROVISIONED");
}

on_both_backends!(
    app_admin_cannot_take_over_a_privileged_app,
    app_admin_keeps_full_control_of_ordinary_apps,
    org_admin_cannot_manage_a_super_admin,
    only_a_super_admin_assigns_roles_or_grants_scopes,
    a_committed_change_succeeds_when_the_revocation_refresh_fails,
);
