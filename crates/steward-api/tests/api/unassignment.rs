//! Removing a user's access to an app revokes their tokens for it, on SQLite and PostgreSQL: a
//! direct unassignment, a group's unassignment, leaving a group assigned to the app, deleting
//! such a group, and an access request's expiry. The refresh token is refused, introspection
//! says inactive, the access token issued from it is refused by the API guard (on a second node
//! after its revocation poll), and a user still assigned another way keeps working. The token
//! endpoint also checks the assignment itself before it rotates a refresh token or redeems a code.
use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::oauth::{authorize_url, location, param, pkce, redeem, sign_in, Answer, WebApp};
use common::{assert_error, Backend, TestOrg, BACKENDS};
use reqwest::Method;
use serde_json::{json, Value};
use steward_api::governance::run_due;
use steward_api::oauth::AuthServer;
use steward_api::ratelimit::RateLimits;
use steward_api::{AppState, Config};
use steward_store::AccessRemoved;

const SCOPE: &str = "openid offline_access okta.users.read";
const HOUR: i64 = 3_600_000;

struct Tokens {
    access: String,
    refresh: String,
}

/// A web app that issues refresh tokens, granted `okta.users.read`.
async fn portal(org: &TestOrg, label: &str) -> WebApp {
    let redirect = "https://app.example.com/callback".to_string();
    let (app_id, client_id, secret) = org.web_app(label, &redirect, "TRUSTED").await;
    org.grant(&app_id, "okta.users.read").await;
    WebApp {
        app_id,
        client_id,
        secret,
        redirect,
    }
}

/// An active user whose tokens may read users (Read-only Admin); returns the id.
async fn person(org: &TestOrg, login: &str, manager: Option<&str>) -> String {
    let mut profile = json!({"login": login, "email": login, "firstName": "T", "lastName": "U"});
    if let Some(m) = manager {
        profile["managerId"] = json!(m);
    }
    let (s, user) = org
        .post(
            "/api/v1/users?activate=true",
            json!({"profile": profile, "credentials": {"password": {"value": "Sup3r-Secret-Pass"}}}),
        )
        .await;
    assert_eq!(s, 200, "{user}");
    let id = user["id"].as_str().unwrap().to_string();
    let (s, r) = org
        .post(
            &format!("/api/v1/users/{id}/roles"),
            json!({"type": "READ_ONLY_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    id
}

async fn group(org: &TestOrg, name: &str) -> String {
    let (s, g) = org
        .post("/api/v1/groups", json!({"profile": {"name": name}}))
        .await;
    assert_eq!(s, 200, "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn put_ok(org: &TestOrg, path: &str) {
    let (s, b) = org.put(path, json!({})).await;
    assert!(s == 200 || s == 204, "PUT {path}: {s} {b}");
}

async fn delete_ok(org: &TestOrg, path: &str) {
    let (s, b) = org.delete(path).await;
    assert_eq!(s, 204, "DELETE {path}: {b}");
}

/// Signs `login` in through the form and returns an unredeemed code with its PKCE verifier.
async fn code(org: &TestOrg, app: &WebApp, login: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let done = sign_in(
        org,
        &common::oauth::browser(),
        &authorize_url(org, app, SCOPE, &challenge, ""),
        login,
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(done.status(), 302, "sign-in of {login}");
    let code = param(&location(done.headers()), "code").expect("a code");
    (code, verifier)
}

async fn tokens(org: &TestOrg, app: &WebApp, login: &str) -> Tokens {
    let (code, verifier) = code(org, app, login).await;
    let r = redeem(org, app, &code, &verifier).await;
    assert_eq!(r.status, 200, "{}", r.body);
    Tokens {
        access: r.body["access_token"].as_str().unwrap().into(),
        refresh: r.body["refresh_token"].as_str().unwrap().into(),
    }
}

async fn refresh(org: &TestOrg, app: &WebApp, token: &str) -> Answer {
    let r = org
        .http
        .post(format!("{}/oauth2/v1/token", org.base))
        .basic_auth(&app.client_id, Some(&app.secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)]);
    common::oauth::answer(r, &[]).await
}

async fn introspect(org: &TestOrg, app: &WebApp, token: &str) -> Value {
    let r = org
        .http
        .post(format!("{}/oauth2/v1/introspect", org.base))
        .basic_auth(&app.client_id, Some(&app.secret))
        .form(&[("token", token)]);
    common::oauth::answer(r, &[]).await.body
}

/// The tokens still work: the access token reads users, both introspect active, and the refresh
/// token rotates (the rotated pair is returned).
async fn assert_works(org: &TestOrg, app: &WebApp, t: &Tokens, what: &str) -> Tokens {
    let r = org.bearer(&t.access, Method::GET, "/api/v1/users").await;
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    for token in [&t.access, &t.refresh] {
        let i = introspect(org, app, token).await;
        assert_eq!(i["active"], true, "{what}: {i}");
    }
    let r = refresh(org, app, &t.refresh).await;
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    Tokens {
        access: r.body["access_token"].as_str().unwrap().into(),
        refresh: r.body["refresh_token"].as_str().unwrap().into(),
    }
}

/// The tokens are dead: the refresh token is refused every time, both introspect inactive, and
/// the guard refuses the access token.
async fn assert_cut_off(org: &TestOrg, app: &WebApp, t: &Tokens, what: &str) {
    for attempt in 1..=3 {
        let r = refresh(org, app, &t.refresh).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{what}: refresh attempt {attempt}: {}",
            r.body
        );
    }
    for token in [&t.access, &t.refresh] {
        let i = introspect(org, app, token).await;
        assert_eq!(i, json!({"active": false}), "{what}");
    }
    let r = org.bearer(&t.access, Method::GET, "/api/v1/users").await;
    assert_error(r.status, &r.body, 401, "E0000011");
}

/// Another node on the same store and issuer, with its own verified-token cache and revoked set,
/// and no background poll: the test polls it with `refresh_revocations`.
async fn second_node(org: &TestOrg) -> (String, Arc<AuthServer>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let auth = Arc::new(AuthServer::start(&org.store, [7u8; 32]).await.unwrap());
    let config = Config {
        issuer: org.base.clone(),
        rate_limits: RateLimits {
            per_token: 100_000,
            per_address: 100_000,
        },
        request_timeout: steward_api::DEFAULT_REQUEST_TIMEOUT,
    };
    let app = steward_api::router(AppState::new(org.store.clone(), config, auth.clone()));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (base, auth)
}

async fn status_at(org: &TestOrg, base: &str, access: &str) -> u16 {
    org.http
        .get(format!("{base}/api/v1/users"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_direct_unassignment_revokes_the_users_tokens_for_the_app_on_every_node(
    backend: Backend,
) {
    let org = TestOrg::start(backend).await;
    let app = portal(&org, "Portal").await;
    let other_app = portal(&org, "Wiki").await;
    let jane = person(&org, "jane@example.com", None).await;
    let max = person(&org, "max@example.com", None).await;
    for (a, u) in [(&app, &jane), (&app, &max), (&other_app, &jane)] {
        org.assign(&a.app_id, u).await;
    }
    let first = tokens(&org, &app, "jane@example.com").await;
    let jane_tokens = assert_works(&org, &app, &first, "before").await;
    let max_tokens = tokens(&org, &app, "max@example.com").await;
    let elsewhere = tokens(&org, &other_app, "jane@example.com").await;
    let (pending_code, verifier) = code(&org, &app, "jane@example.com").await;
    let (node2, node2_auth) = second_node(&org).await;
    assert_eq!(status_at(&org, &node2, &jane_tokens.access).await, 200);

    delete_ok(&org, &format!("/api/v1/apps/{}/users/{jane}", app.app_id)).await;
    assert_cut_off(&org, &app, &jane_tokens, &format!("{backend:?}")).await;
    assert_cut_off(&org, &app, &first, "the access token of the first grant").await;
    // A code issued before the unassignment is refused.
    let r = redeem(&org, &app, &pending_code, &verifier).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
    // Another user of the app, and the user's tokens for another app, are untouched.
    assert_works(&org, &app, &max_tokens, "another user").await;
    assert_works(&org, &other_app, &elsewhere, "another app").await;

    // The second node had verified the token before: it refuses it after its poll.
    assert_eq!(
        status_at(&org, &node2, &jane_tokens.access).await,
        200,
        "cached until the poll"
    );
    node2_auth.refresh_revocations(&org.store).await.unwrap();
    assert_eq!(status_at(&org, &node2, &jane_tokens.access).await, 401);
    assert_eq!(status_at(&org, &node2, &max_tokens.access).await, 200);
}

/// Defence in depth: an assignment gone without its tokens revoked (here deleted straight in the
/// store) still stops the refresh grant.
async fn the_refresh_grant_refuses_a_user_no_longer_assigned(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = portal(&org, "Portal").await;
    let jane = person(&org, "jane@example.com", None).await;
    org.assign(&app.app_id, &jane).await;
    let t = tokens(&org, &app, "jane@example.com").await;
    let mut tx = org.store.begin().await.unwrap();
    tx.delete_app_user(&app.app_id, &jane).await.unwrap();
    tx.commit().await.unwrap();
    let r = refresh(&org, &app, &t.refresh).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{backend:?}: {}",
        r.body
    );
    assert_eq!(
        r.body["error_description"],
        "The user is not assigned to the client application."
    );
    // Refused, not spent: assigned again, the same refresh token rotates.
    org.assign(&app.app_id, &jane).await;
    assert_works(&org, &app, &t, "assigned again").await;
}

async fn losing_the_last_group_revokes_and_another_group_keeps_the_tokens(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = portal(&org, "Portal").await;
    let jane = person(&org, "jane@example.com", None).await;
    let bob = person(&org, "bob@example.com", None).await;
    let eve = person(&org, "eve@example.com", None).await;
    let (first, second, third, fourth) = (
        group(&org, "First").await,
        group(&org, "Second").await,
        group(&org, "Third").await,
        group(&org, "Fourth").await,
    );
    for (g, u) in [
        (&first, &jane),
        (&second, &jane),
        (&third, &bob),
        (&fourth, &eve),
    ] {
        put_ok(&org, &format!("/api/v1/groups/{g}/users/{u}")).await;
    }
    for g in [&first, &second, &third, &fourth] {
        put_ok(&org, &format!("/api/v1/apps/{}/groups/{g}", app.app_id)).await;
    }
    let jane_tokens = tokens(&org, &app, "jane@example.com").await;
    let bob_tokens = tokens(&org, &app, "bob@example.com").await;
    let eve_tokens = tokens(&org, &app, "eve@example.com").await;

    // Jane keeps the app through Second while First goes.
    delete_ok(&org, &format!("/api/v1/apps/{}/groups/{first}", app.app_id)).await;
    let jane_tokens = assert_works(&org, &app, &jane_tokens, "through Second").await;
    // Leaving Second, her last way in, revokes.
    delete_ok(&org, &format!("/api/v1/groups/{second}/users/{jane}")).await;
    assert_cut_off(&org, &app, &jane_tokens, &format!("{backend:?}: left")).await;

    // Unassigning Third from the app revokes its member's tokens.
    delete_ok(&org, &format!("/api/v1/apps/{}/groups/{third}", app.app_id)).await;
    assert_cut_off(&org, &app, &bob_tokens, "group unassigned").await;

    // Deleting Fourth (assigned to the app) revokes its member's tokens.
    let eve_tokens = assert_works(&org, &app, &eve_tokens, "in Fourth").await;
    delete_ok(&org, &format!("/api/v1/groups/{fourth}")).await;
    assert_cut_off(&org, &app, &eve_tokens, "group deleted").await;
}

/// An app assignment granted by an access request ends at its expiry, and so do the tokens.
#[tokio::test]
async fn an_access_requests_expiry_revokes_the_tokens_it_made_possible() {
    const V1: &str = "/governance/api/v1";
    for backend in BACKENDS {
        let org = TestOrg::start(backend).await;
        let app = portal(&org, "Portal").await;
        let manager = person(&org, "manager@example.com", None).await;
        let alice = person(&org, "alice@example.com", Some(&manager)).await;
        for u in [&manager, &alice] {
            let (s, b) = org
                .post(
                    &format!("/api/v1/users/{u}/roles"),
                    json!({"type": "ACCESS_REQUESTS_ADMIN"}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
        }
        let (s, teams) = org.get(&format!("{V1}/teams")).await;
        assert_eq!(s, 200, "{teams}");
        let (s, t) = org
            .post(
                &format!("{V1}/request-types"),
                json!({"name": "Portal for 2h", "ownerId": teams["data"][0]["id"],
                       "resourceSettings": {"type": "APPS", "targetResources": [{"resourceId": app.app_id}]},
                       "approvalSettings": {"type": "SERIAL", "approvals": [{"approverType": "MANAGER"}]},
                       "accessDuration": "PT2H"}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        let type_id = t["id"].as_str().unwrap();
        let (s, t) = org
            .post(&format!("{V1}/request-types/{type_id}/publish"), json!({}))
            .await;
        assert_eq!(s, 200, "{t}");
        let (s, r) = org
            .send_as(
                &org.token_for("alice@example.com").await,
                Method::POST,
                &format!("{V1}/requests"),
                Some(json!({"requestTypeId": type_id, "subject": "Please"})),
            )
            .await;
        assert_eq!(s, 201, "{r}");
        let request_id = r["id"].as_str().unwrap().to_string();
        let (s, tasks) = org
            .get(&format!(
                "/governance/api/v2/tasks?filter=requestId%20eq%20%22{request_id}%22%20and%20status%20eq%20%22OPEN%22"
            ))
            .await;
        assert_eq!(s, 200, "{tasks}");
        let task = tasks["data"][0]["id"].as_str().unwrap().to_string();
        let (s, b) = org
            .send_as(
                &org.token_for("manager@example.com").await,
                Method::POST,
                &format!("/governance/api/v2/tasks/{task}/resolve"),
                Some(json!({"value": "APPROVED"})),
            )
            .await;
        assert_eq!(s, 200, "{b}");

        let t = tokens(&org, &app, "alice@example.com").await;
        let t = assert_works(&org, &app, &t, "granted").await;
        org.state.clock.advance(2 * HOUR);
        let pass = run_due(&org.state, org.state.clock.now()).await.unwrap();
        assert_eq!(pass.revoked, 1, "{backend:?}");
        let (s, _) = org
            .get(&format!("/api/v1/apps/{}/users/{alice}", app.app_id))
            .await;
        assert_eq!(s, 404, "the assignment is gone");
        // The scheduler's node learns revocations by its poll, like any other.
        org.auth.refresh_revocations(&org.store).await.unwrap();
        assert_cut_off(&org, &app, &t, &format!("{backend:?}: expired")).await;
    }
}

/// The store's one rule, called where nothing was lost, revokes nothing.
async fn revoking_for_a_user_still_assigned_revokes_nothing(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = portal(&org, "Portal").await;
    let jane = person(&org, "jane@example.com", None).await;
    org.assign(&app.app_id, &jane).await;
    let t = tokens(&org, &app, "jane@example.com").await;
    let mut tx = org.store.begin().await.unwrap();
    let revoked = tx
        .revoke_unassigned_tokens(AccessRemoved::AppUser {
            app_id: &app.app_id,
            user_id: &jane,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(revoked, 0, "{backend:?}");
    assert_works(&org, &app, &t, "still assigned").await;
}

on_both_backends!(
    a_direct_unassignment_revokes_the_users_tokens_for_the_app_on_every_node,
    the_refresh_grant_refuses_a_user_no_longer_assigned,
    losing_the_last_group_revokes_and_another_group_keeps_the_tokens,
    revoking_for_a_user_still_assigned_revokes_nothing,
);
