//! Two nodes over one database: a change made on node A reaches node B's caches through the
//! outbox (B's `OutboxFollower`), and A's own caches at once (its commit listener). Both nodes'
//! caches are made to trust entries for a minute, so only an invalidation can explain a refusal
//! within the deadline.
use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use steward_api::outbox::OutboxFollower;

use crate::common::{self, Backend, TestOrg};

/// Longer than any deadline here: an entry that goes stale in time was invalidated.
const TRUSTED_FOR: Duration = Duration::from_secs(60);
/// How long node B may take to see a change (it polls once a second).
const DEADLINE: Duration = Duration::from_secs(8);

/// Node A and node B: two servers, each with its own `Store` over the same database.
async fn two_nodes(backend: Backend) -> (TestOrg, TestOrg) {
    let url = common::store_url(backend).await;
    let a = TestOrg::start_on(backend, common::open_url(&url).await).await;
    let b = TestOrg::start_on(backend, common::open_url(&url).await).await;
    for node in [&a, &b] {
        node.state.principals.set_ttl(TRUSTED_FOR);
        node.state.clients.set_fresh_for(TRUSTED_FOR);
    }
    OutboxFollower::new(&b.state).await.unwrap().spawn();
    (a, b)
}

/// Whether `check` holds before `deadline`, trying every 100 ms.
async fn within<F, Fut>(deadline: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn status_of(node: &TestOrg, token: &str, path: &str) -> u16 {
    node.send_as(token, Method::GET, path, None).await.0
}

async fn a_suspension_reaches_the_other_nodes_principal_cache(backend: Backend) {
    let (a, b) = two_nodes(backend).await;
    let ops = a.user("ops@example.com").await;
    let ops_id = ops["id"].as_str().unwrap();
    let (s, r) = a
        .post(
            &format!("/api/v1/users/{ops_id}/roles"),
            json!({"type": "ORG_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let token = a.token_for("ops@example.com").await;
    // Both nodes verify the token and cache its principal.
    assert_eq!(status_of(&a, &token, "/api/v1/users").await, 200);
    assert_eq!(status_of(&b, &token, "/api/v1/users").await, 200);

    let (s, r) = a
        .post(
            &format!("/api/v1/users/{ops_id}/lifecycle/suspend"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{r}");

    // Node A: at once, by its commit listener.
    assert_eq!(status_of(&a, &token, "/api/v1/users").await, 401);
    // Node B: from the outbox, within the deadline.
    assert!(
        within(DEADLINE, || async {
            status_of(&b, &token, "/api/v1/users").await == 401
        })
        .await,
        "node B still trusts the suspended user's token"
    );
}

async fn a_role_removal_reaches_the_other_nodes_principal_cache(backend: Backend) {
    let (a, b) = two_nodes(backend).await;
    let ops = a.user("ops@example.com").await;
    let ops_id = ops["id"].as_str().unwrap();
    let (s, role) = a
        .post(
            &format!("/api/v1/users/{ops_id}/roles"),
            json!({"type": "ORG_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201, "{role}");
    let token = a.token_for("ops@example.com").await;
    assert_eq!(status_of(&b, &token, "/api/v1/users").await, 200);

    let role_id = role["id"].as_str().unwrap();
    let (s, r) = a
        .delete(&format!("/api/v1/users/{ops_id}/roles/{role_id}"))
        .await;
    assert_eq!(s, 204, "{r}");

    assert!(
        within(DEADLINE, || async {
            status_of(&b, &token, "/api/v1/users").await == 403
        })
        .await,
        "node B still acts with the removed role"
    );
}

async fn an_app_deactivation_reaches_the_other_nodes_client_cache(backend: Backend) {
    let (a, b) = two_nodes(backend).await;
    // Granted for each node's issuer; both nodes cache the registration.
    let (app_id, client_id) = b.service_app("Reporter").await;
    for node in [&a, &b] {
        node.grant(&app_id, "okta.users.read").await;
        let issued = node.client_credentials(&client_id, "okta.users.read").await;
        assert_eq!(issued.status, 200, "{:?}", issued.body);
    }

    let (s, r) = a
        .post(
            &format!("/api/v1/apps/{app_id}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{r}");

    assert!(
        within(DEADLINE, || async {
            b.client_credentials(&client_id, "okta.users.read")
                .await
                .status
                == 401
        })
        .await,
        "node B still issues tokens to the deactivated app"
    );
    // Node A refuses at once (its own cache was told at commit).
    let refused = a.client_credentials(&client_id, "okta.users.read").await;
    assert_eq!(refused.status, 401, "{:?}", refused.body);
}

/// The event types in the outbox after `after`, in order.
async fn outbox_types(org: &TestOrg, after: i64) -> Vec<String> {
    org.store
        .outbox_after(after, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.event_type)
        .collect()
}

async fn each_api_change_writes_its_event_and_a_refused_one_none(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let start = org.store.outbox_head().await.unwrap();
    let ada = org.user("ada@example.com").await;
    let ada_id = ada["id"].as_str().unwrap();
    let (s, group) = org
        .post("/api/v1/groups", json!({"profile": {"name": "Ops"}}))
        .await;
    assert_eq!(s, 200, "{group}");
    let group_id = group["id"].as_str().unwrap();
    let members = format!("/api/v1/groups/{group_id}/users/{ada_id}");
    assert_eq!(org.put(&members, json!({})).await.0, 204);
    assert_eq!(org.delete(&members).await.0, 204);
    let (app_id, _) = org.service_app("Events").await;
    org.grant(&app_id, "okta.users.read").await;
    let (s, r) = org
        .post(
            &format!("/api/v1/apps/{app_id}/users"),
            json!({"id": ada_id}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = org
        .post(
            &format!("/api/v1/users/{ada_id}/lifecycle/suspend"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        outbox_types(&org, start).await,
        [
            "user.created",
            "group.created",
            "group.membership_added",
            "group.membership_removed",
            "app.created",
            "app.grant_given",
            "app.user_assigned",
            "user.status_changed",
        ]
    );

    // Refused requests change nothing and write no event.
    let head = org.store.outbox_head().await.unwrap();
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{ada_id}/lifecycle/suspend"),
            json!({}),
        )
        .await;
    assert_eq!(s, 400, "suspending a suspended user");
    let (s, _) = org
        .post(
            "/api/v1/users?activate=true",
            json!({"profile": {"login": "ada@example.com", "email": "ada@example.com", "firstName": "A", "lastName": "B"}}),
        )
        .await;
    assert_eq!(s, 400, "login taken");
    assert!(outbox_types(&org, head).await.is_empty());
    let row = org.store.outbox_after(head - 1, 1).await.unwrap();
    assert_eq!(
        row[0].payload["actor"]["alternateId"], "admin@steward.local",
        "{:?}",
        row[0].payload
    );
}

on_both_backends!(
    a_suspension_reaches_the_other_nodes_principal_cache,
    a_role_removal_reaches_the_other_nodes_principal_cache,
    an_app_deactivation_reaches_the_other_nodes_client_cache,
    each_api_change_writes_its_event_and_a_refused_one_none,
);
