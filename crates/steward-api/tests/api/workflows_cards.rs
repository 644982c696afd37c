//! The seed scenario through the Okta connector's Custom API Action: an API endpoint flow reads
//! `GET /governance/api/v1/requests/{id}` with a connection on the "Okta Workflows OAuth" app.
//! Without the scope the run fails at once with a diagnosis that says "grant"; with the grant
//! but the old token it says "reauthorize"; with a new token it returns the request. Preflight
//! says the same before each run (on import, on activate, and at its own URL).
use std::sync::{Arc, Mutex};

use crate::common;

use common::{assert_error, Backend, TestOrg};
use serde_json::{json, Value};
use steward_app::flows::tokens::{ConnectionToken, TokenFuture, TokenSource};
use steward_app::flows::OktaConnectors;
use steward_app::AppError;

const SEED: &str =
    include_str!("../../../steward-flows/tests/fixtures/seed_request_lookup.flopack");
const OIG_SEED: &str =
    include_str!("../../../steward-flows/tests/fixtures/seed_oig_search_requests.flopack");
const FLOW: &str = "5eed0000-0000-4000-8000-000000000001";
const OIG_FLOW: &str = "5eed0000-0000-4000-8000-000000000002";
const V1: &str = "/workflows/api/v1";
const NEED: &str = "okta.governance.accessRequests.read";

/// A connection whose token the test sets (the connections service stands in).
#[derive(Default)]
struct TestTokens {
    token: Mutex<Option<ConnectionToken>>,
    asked: Mutex<Vec<(String, Option<String>)>>,
}

impl TestTokens {
    fn set(&self, token: ConnectionToken) {
        *self.token.lock().unwrap() = Some(token);
    }
}

impl TokenSource for TestTokens {
    fn token<'a>(&'a self, connector: &'a str, name: Option<&'a str>) -> TokenFuture<'a> {
        self.asked
            .lock()
            .unwrap()
            .push((connector.to_string(), name.map(str::to_string)));
        let token = self.token.lock().unwrap().clone();
        Box::pin(async move {
            token.ok_or_else(|| AppError::Conflict("the connection was never authorized".into()))
        })
    }
}

/// An access token of the connection's app, by client credentials.
async fn mint(org: &TestOrg, app_id: &str, client_id: &str, scope: &str) -> ConnectionToken {
    let a = org.client_credentials(client_id, scope).await;
    assert_eq!(a.status, 200, "{}", a.body);
    ConnectionToken {
        connection_id: "wfc0connection".into(),
        name: "Okta Workflows OAuth".into(),
        app_id: app_id.into(),
        org_url: org.base.clone(),
        access_token: a.body["access_token"].as_str().unwrap().into(),
        scopes: scope.split(' ').map(str::to_string).collect(),
    }
}

/// A v1 access request to read: a group, a published request type for it, a request.
pub(crate) async fn a_request(org: &TestOrg) -> String {
    let (s, g) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Engineering"}}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    let group = g["id"].as_str().unwrap();
    let (s, teams) = org.get("/governance/api/v1/teams").await;
    assert_eq!(s, 200, "{teams}");
    let (s, t) = org
        .post(
            "/governance/api/v1/request-types",
            json!({"name": "Engineering access", "ownerId": teams["data"][0]["id"],
                   "resourceSettings": {"type": "GROUPS", "targetResources": [{"resourceId": group}]},
                   "approvalSettings": {"type": "SERIAL", "approvals": [
                       {"approverType": "MEMBER_OF", "approverMemberOf": [group]}]}}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let tid = t["id"].as_str().unwrap();
    let (s, t) = org
        .post(
            &format!("/governance/api/v1/request-types/{tid}/publish"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let (s, r) = org
        .post(
            "/governance/api/v1/requests",
            json!({"requestTypeId": tid, "subject": "Need Engineering"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r["id"].as_str().unwrap().to_string()
}

/// Invokes the seed flow for `request`; the status and body, and the execution as the API
/// shows it.
async fn invoke(org: &TestOrg, client_token: &str, request: &str) -> (u16, Value, Value) {
    invoke_flow(org, FLOW, client_token, &format!("requestId={request}")).await
}

pub(crate) async fn invoke_flow(
    org: &TestOrg,
    flow: &str,
    client_token: &str,
    query: &str,
) -> (u16, Value, Value) {
    let a = common::oauth::answer(
        org.http.post(format!(
            "{}/api/flo/{flow}/invoke?clientToken={client_token}&{query}",
            org.base
        )),
        &[],
    )
    .await;
    let id = match a.body["executionId"].as_str() {
        Some(id) => id.to_string(),
        None => {
            let (_, runs) = org
                .get(&format!("{V1}/executions?flowId={flow}&status=SUCCEEDED"))
                .await;
            runs[0]["id"].as_str().unwrap().to_string()
        }
    };
    let (s, run) = org.get(&format!("{V1}/executions/{id}")).await;
    assert_eq!(s, 200, "{run}");
    (a.status, a.body, run)
}

fn state_of(preflight: &Value) -> &str {
    let w = &preflight["warnings"][0];
    assert_eq!(w["cardType"], "okta:hTTPRequest", "{preflight}");
    assert_eq!(w["scope"], NEED, "{preflight}");
    w["state"].as_str().unwrap()
}

/// The same scenario through the Okta Identity Governance connector: Search Requests needs
/// `okta.accessRequests.request.read` (v2); the connection is looked up under `oig`.
async fn the_oig_search_requests_card_needs_the_v2_scope(backend: Backend) {
    const V2_READ: &str = "okta.accessRequests.request.read";
    let tokens = Arc::new(TestTokens::default());
    let source = tokens.clone();
    let org = TestOrg::start_with_connectors(backend, move |store| {
        Arc::new(OktaConnectors::new(store.clone(), source))
    })
    .await;
    let (app_id, client_id) = org.service_app("Okta Workflows OAuth").await;
    org.client_role(&client_id, "SUPER_ADMIN").await;
    org.grant(&app_id, "okta.users.read").await;
    tokens.set(mint(&org, &app_id, &client_id, "okta.users.read").await);
    let seed: Value = serde_json::from_str(OIG_SEED).unwrap();
    let (s, imported) = org.post(&format!("{V1}/flows"), seed).await;
    assert_eq!(s, 201, "{imported}");
    let client_token = imported["clientTokens"][0]["clientToken"]
        .as_str()
        .unwrap()
        .to_string();
    let w = &imported["preflight"][0]["warnings"][0];
    assert_eq!(w["cardType"], "oig:listRequest", "{imported}");
    assert_eq!(w["scope"], V2_READ);
    assert_eq!(w["state"], "missing_grant");
    assert_eq!(w["connection"], "Okta Identity Governance");
    let (s, on) = org
        .post(&format!("{V1}/flows/{OIG_FLOW}/activate"), json!({}))
        .await;
    assert_eq!(s, 200, "{on}");

    let (status, _, run) = invoke_flow(&org, OIG_FLOW, &client_token, "status=Pending").await;
    assert_eq!(status, 403, "{run}");
    let d = &run["error"]["diagnosis"];
    assert_eq!(d["missingScope"], V2_READ, "{run}");
    assert_eq!(d["resource"], "/governance/api/v2/requests");
    assert_eq!(d["fix"], "grant_then_reauthorize");
    assert!(tokens
        .asked
        .lock()
        .unwrap()
        .contains(&("oig".into(), Some("Okta Identity Governance".into()))));

    org.grant(&app_id, V2_READ).await;
    tokens.set(
        mint(
            &org,
            &app_id,
            &client_id,
            &format!("okta.users.read {V2_READ}"),
        )
        .await,
    );
    let (s, p) = org.get(&format!("{V1}/flows/{OIG_FLOW}/preflight")).await;
    assert_eq!(s, 200);
    assert_eq!(p["warnings"][0]["state"], "ok", "{p}");
    let (status, body, run) = invoke_flow(&org, OIG_FLOW, &client_token, "status=Pending").await;
    assert_eq!(status, 200, "{body} {run}");
    assert_eq!(body["requests"], json!([]), "{body}");
    // A bad filter would have been a 400 card error: the Search inputs became a SCIM filter.
    let card = run["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cardType"] == "oig:listRequest")
        .unwrap();
    assert_eq!(card["status"], "SUCCEEDED", "{run}");
}

async fn the_seed_flow_explains_its_scope_error_then_runs(backend: Backend) {
    let tokens = Arc::new(TestTokens::default());
    let source = tokens.clone();
    let org = TestOrg::start_with_connectors(backend, move |store| {
        Arc::new(OktaConnectors::new(store.clone(), source))
    })
    .await;
    let (app_id, client_id) = org.service_app("Okta Workflows OAuth").await;
    org.client_role(&client_id, "SUPER_ADMIN").await;
    org.grant(&app_id, "okta.users.read").await;
    let request = a_request(&org).await;

    // Imported with a connector registered: preflight warns, the connection has no token yet.
    let seed: Value = serde_json::from_str(SEED).unwrap();
    let (s, imported) = org.post(&format!("{V1}/flows"), seed).await;
    assert_eq!(s, 201, "{imported}");
    let client_token = imported["clientTokens"][0]["clientToken"]
        .as_str()
        .unwrap()
        .to_string();
    let preflight = &imported["preflight"][0];
    assert_eq!(state_of(preflight), "not_authorized", "{preflight}");
    assert_eq!(preflight["ready"], false);
    assert_eq!(
        preflight["warnings"][0]["request"],
        "GET /governance/api/v1/requests/{rq-Id1x}"
    );

    // Authorized without the scope: activate warns "missing grant", the run fails at once
    // (no retry) with a diagnosis that says to grant it, then reauthorize.
    tokens.set(mint(&org, &app_id, &client_id, "okta.users.read").await);
    let (s, on) = org
        .post(&format!("{V1}/flows/{FLOW}/activate"), json!({}))
        .await;
    assert_eq!(s, 200, "{on}");
    assert_eq!(state_of(&on["preflight"]), "missing_grant", "{on}");
    let (status, body, run) = invoke(&org, &client_token, &request).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(run["status"], "FAILED", "{run}");
    assert_eq!(run["attempts"], 1, "a 403 is not retried: {run}");
    let d = &run["error"]["diagnosis"];
    assert_eq!(d["error"], "insufficient_scope", "{run}");
    assert_eq!(d["missingScope"], NEED);
    assert_eq!(d["appHoldsGrant"], false);
    assert_eq!(d["fix"], "grant_then_reauthorize");
    assert_eq!(
        d["app"],
        json!({"id": app_id, "label": "Okta Workflows OAuth"})
    );
    assert_eq!(
        d["connection"],
        json!({"id": "wfc0connection", "name": "Okta Workflows OAuth"})
    );
    assert_eq!(
        d["resource"],
        format!("/governance/api/v1/requests/{request}")
    );
    assert_eq!(
        d["links"]["appScopes"],
        format!("/admin/apps/{app_id}/scopes")
    );
    assert_eq!(
        d["links"]["grants"],
        format!("/api/v1/apps/{app_id}/grants")
    );
    let message = run["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(NEED) && message.contains("is not granted"),
        "{message}"
    );
    assert_eq!(body["error"], run["error"]["message"]);
    // The connection was looked up by the flopack's placeholder name.
    assert!(tokens
        .asked
        .lock()
        .unwrap()
        .contains(&("okta".into(), Some("Okta Workflows OAuth".into()))));

    // Granted, but the connection still holds the old token: "reauthorize".
    org.grant(&app_id, NEED).await;
    let (s, p) = org.get(&format!("{V1}/flows/{FLOW}/preflight")).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(state_of(&p), "needs_reauthorize", "{p}");
    let (status, _, run) = invoke(&org, &client_token, &request).await;
    assert_eq!(status, 403);
    let d = &run["error"]["diagnosis"];
    assert_eq!(d["appHoldsGrant"], true, "{run}");
    assert_eq!(d["fix"], "reauthorize");
    assert!(run["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with("reauthorize the connection"));

    // Reauthorized (a new token carries the scope): the run returns the request.
    tokens.set(
        mint(
            &org,
            &app_id,
            &client_id,
            &format!("okta.users.read {NEED}"),
        )
        .await,
    );
    let (s, p) = org.get(&format!("{V1}/flows/{FLOW}/preflight")).await;
    assert_eq!(s, 200);
    assert_eq!(state_of(&p), "ok", "{p}");
    assert_eq!(p["ready"], true);
    let (status, body, run) = invoke(&org, &client_token, &request).await;
    assert_eq!(status, 200, "{body} {run}");
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(body["status"], 200);
    assert_eq!(body["request"]["id"], request.as_str());
    assert_eq!(body["request"]["subject"], "Need Engineering");
}

/// Preflight is a read of the flows: Workflows read scope, Super Admin; unknown flows are 404.
async fn preflight_is_guarded(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, e) = org.get(&format!("{V1}/flows/{FLOW}/preflight")).await;
    assert_error(s, &e, 404, "E0000007");
    let a = common::oauth::answer(
        org.http
            .get(format!("{}{V1}/flows/{FLOW}/preflight", org.base)),
        &[],
    )
    .await;
    assert_eq!(a.status, 401);
}

on_both_backends!(
    the_seed_flow_explains_its_scope_error_then_runs,
    the_oig_search_requests_card_needs_the_v2_scope,
    preflight_is_guarded
);
