//! Event-triggered flows: an active flow whose trigger is an Okta (or OIG) event card runs once
//! for each matching change (a user created through `/api/v1/users`, a user added to a group, a
//! new access request); a flow switched off does not, and switched on again it starts from
//! now (no backfill). Two nodes over one database dispatch each event once.
use crate::common;

use common::{Backend, TestOrg};
use serde_json::{json, Value};

pub(crate) const FLOPACK: &str =
    include_str!("../../../steward-flows/tests/fixtures/events_tables.flopack");
const ON_CREATED: &str = "e7e00000-0000-4000-8000-000000000001";
const ALSO_ON_CREATED: &str = "e7e00000-0000-4000-8000-000000000002";
const OFF_ON_CREATED: &str = "e7e00000-0000-4000-8000-000000000003";
const ON_REQUEST: &str = "e7e00000-0000-4000-8000-000000000004";
const OIG_ON_REQUEST: &str = "e7e00000-0000-4000-8000-000000000005";
const ON_GROUP_ADD: &str = "e7e00000-0000-4000-8000-000000000006";
pub(crate) const TABLE: &str = "7ab1e000-0000-4000-8000-000000000001";
const V1: &str = "/workflows/api/v1";

pub(crate) async fn import(org: &TestOrg) {
    let (s, imported) = org
        .post(
            &format!("{V1}/flows"),
            serde_json::from_str(FLOPACK).unwrap(),
        )
        .await;
    assert_eq!(s, 201, "{imported}");
}

async fn switch(org: &TestOrg, flow: &str, on: bool) {
    let verb = if on { "activate" } else { "deactivate" };
    let (s, f) = org
        .post(&format!("{V1}/flows/{flow}/{verb}"), json!({}))
        .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["active"], on);
}

/// One pass of the dispatcher the worker loop runs; the runs it queued.
async fn dispatch(org: &TestOrg) -> usize {
    let ctx = steward_app::Ctx::system(&org.state.store).at(org.state.clock.now());
    steward_app::flows::events::dispatch_events(&ctx)
        .await
        .unwrap()
}

async fn runs_of(org: &TestOrg, flow: &str) -> Vec<Value> {
    let (s, runs) = org.get(&format!("{V1}/executions?flowId={flow}")).await;
    assert_eq!(s, 200, "{runs}");
    runs.as_array().unwrap().clone()
}

async fn rows(org: &TestOrg) -> Vec<Value> {
    let (s, rows) = org.get(&format!("{V1}/tables/{TABLE}/rows")).await;
    assert_eq!(s, 200, "{rows}");
    rows.as_array().unwrap().clone()
}

async fn user_created_and_group_events_run_each_subscribed_flow_once(backend: Backend) {
    let org = TestOrg::start(backend).await;
    import(&org).await;
    let (_, flow) = org.get(&format!("{V1}/flows/{ON_CREATED}")).await;
    assert_eq!(flow["type"], "event");
    for f in [ON_CREATED, ALSO_ON_CREATED, ON_GROUP_ADD] {
        switch(&org, f, true).await;
    }

    // A user created: both active User Created flows are queued once; the one off is not.
    let user = org.user("eve@example.com").await;
    let user_id = user["id"].as_str().unwrap().to_string();
    assert_eq!(dispatch(&org).await, 2);
    assert_eq!(dispatch(&org).await, 0, "each event starts each flow once");
    assert_eq!(org.state.flows.run_pending().await.unwrap(), 2);
    assert!(runs_of(&org, OFF_ON_CREATED).await.is_empty());
    for flow in [ON_CREATED, ALSO_ON_CREATED] {
        let runs = runs_of(&org, flow).await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0]["status"], "SUCCEEDED", "{:?}", runs[0]);
        let event = &runs[0]["input"]["collection"][0]["Output"];
        assert_eq!(event["Event Type"], "user.lifecycle.create");
        assert_eq!(event["Okta User"]["ID"], user_id.as_str());
        assert_eq!(event["Okta User"]["Alternate ID"], "eve@example.com");
        assert_eq!(event["Event Details"]["eventType"], "user.lifecycle.create");
        assert!(event["Event ID"].is_string());
    }
    // The flows' For Each bodies wrote what they saw into the table.
    let mut seen: Vec<(String, String, String)> = rows(&org)
        .await
        .iter()
        .map(|r| {
            (
                r["source"].as_str().unwrap().to_string(),
                r["value"].as_str().unwrap().to_string(),
                r["eventType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    let created = "user.lifecycle.create".to_string();
    assert_eq!(
        seen,
        vec![
            (
                "Also on user created".into(),
                user_id.clone(),
                created.clone()
            ),
            ("On user created".into(), user_id.clone(), created.clone()),
        ]
    );

    // Added to a group: the group event's flow, with the group.
    let (s, group) = org
        .post("/api/v1/groups", json!({"profile": {"name": "Eng"}}))
        .await;
    assert_eq!(s, 200, "{group}");
    let group_id = group["id"].as_str().unwrap();
    let (s, _) = org
        .put(
            &format!("/api/v1/groups/{group_id}/users/{user_id}"),
            json!({}),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(dispatch(&org).await, 1);
    let runs = runs_of(&org, ON_GROUP_ADD).await;
    let event = &runs[0]["input"]["collection"][0]["Output"];
    assert_eq!(event["Event Type"], "group.user_membership.add");
    assert_eq!(event["Group"]["ID"], group_id);
    assert_eq!(event["Group"]["Display Name"], "Eng");
    assert_eq!(event["Okta User"]["ID"], user_id.as_str());

    // Switched off, a flow misses events; switched on again it starts from now.
    switch(&org, ON_CREATED, false).await;
    org.user("fay@example.com").await;
    assert_eq!(dispatch(&org).await, 1, "only the flow still on");
    switch(&org, ON_CREATED, true).await;
    assert_eq!(dispatch(&org).await, 0, "no backfill");
    org.user("gus@example.com").await;
    assert_eq!(dispatch(&org).await, 2);
    assert_eq!(runs_of(&org, ON_CREATED).await.len(), 2);
    assert_eq!(runs_of(&org, ALSO_ON_CREATED).await.len(), 3);
    assert!(runs_of(&org, OFF_ON_CREATED).await.is_empty());
}

async fn a_new_access_request_runs_the_access_request_created_flows_once(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let setup = crate::access_requests::setup(&org, "PT2H").await;
    import(&org).await;
    for f in [ON_REQUEST, OIG_ON_REQUEST] {
        switch(&org, f, true).await;
    }
    let request_id = crate::access_requests::create_request(&org, &setup).await;
    assert_eq!(dispatch(&org).await, 2, "the Okta and the OIG card");
    assert_eq!(dispatch(&org).await, 0);
    assert_eq!(org.state.flows.run_pending().await.unwrap(), 2);
    for flow in [ON_REQUEST, OIG_ON_REQUEST] {
        let runs = runs_of(&org, flow).await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0]["status"], "SUCCEEDED", "{:?}", runs[0]);
        let event = &runs[0]["input"]["collection"][0]["Output"];
        assert_eq!(event["Event Type"], "access.request.create");
        assert_eq!(
            event["Debug Context"]["Debug Data"]["accessRequestId"],
            request_id.as_str()
        );
        assert_eq!(event["Okta User"]["ID"], setup.alice.as_str());
        assert_eq!(event["Access Request"]["ID"], request_id.as_str());
    }
    let values: Vec<Value> = rows(&org)
        .await
        .iter()
        .map(|r| r["value"].clone())
        .collect();
    assert_eq!(values, vec![json!(request_id), json!(request_id)]);
}

async fn two_nodes_dispatch_each_event_once(backend: Backend) {
    let url = common::store_url(backend).await;
    let a = TestOrg::start_on(backend, common::open_url(&url).await).await;
    let b = TestOrg::start_on(backend, common::open_url(&url).await).await;
    import(&a).await;
    switch(&a, ON_CREATED, true).await;
    switch(&a, ALSO_ON_CREATED, true).await;
    let mut queued = 0;
    for round in 0..5 {
        for n in 0..4 {
            a.user(&format!("u{round}-{n}@example.com")).await;
        }
        // Both nodes dispatch at once, twice over.
        let (x, y) = tokio::join!(dispatch(&a), dispatch(&b));
        let (z, w) = tokio::join!(dispatch(&b), dispatch(&a));
        queued += x + y + z + w;
    }
    assert_eq!(queued, 40, "20 users, two flows, each event once");
    assert_eq!(dispatch(&a).await + dispatch(&b).await, 0);
    for flow in [ON_CREATED, ALSO_ON_CREATED] {
        let (s, runs) = b
            .get(&format!("{V1}/executions?flowId={flow}&limit=1000"))
            .await;
        assert_eq!(s, 200);
        let mut users: Vec<String> = runs
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["input"]["collection"][0]["Output"]["Okta User"]["ID"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(users.len(), 20);
        users.sort();
        users.dedup();
        assert_eq!(users.len(), 20, "one run per user");
    }
}

on_both_backends!(
    user_created_and_group_events_run_each_subscribed_flow_once,
    a_new_access_request_runs_the_access_request_created_flows_once,
    two_nodes_dispatch_each_event_once,
);
