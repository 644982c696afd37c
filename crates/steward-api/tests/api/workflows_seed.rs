//! The seed scenario end to end, as a Workflows user lives it: a flow imported from a
//! `.flopack` calls `GET /governance/api/v1/requests/{requestId}` through the Okta connector's
//! Custom API Action with a real connection on "Okta Workflows OAuth" (authorized through the
//! browser flow). Preflight warns; the run fails at once with a diagnosis that says "grant";
//! the scope is granted through `/api/v1/apps/{appId}/grants`; a rerun still fails (the token
//! is older) and now says "reauthorize"; Reauthorize; the rerun returns the request. The same
//! through the Okta Identity Governance connector's Search Requests card (v2 scope).
use crate::access_requests;
use crate::common::{Backend, TestOrg};
use crate::workflows_cards::{a_request, invoke_flow};
use crate::workflows_connections::{authorize_in_browser, workflows_app};
use serde_json::{json, Value};

const V1: &str = "/workflows/api/v1";
const SEED: &str =
    include_str!("../../../steward-flows/tests/fixtures/seed_request_lookup.flopack");
const OIG_SEED: &str =
    include_str!("../../../steward-flows/tests/fixtures/seed_oig_search_requests.flopack");
const FLOW: &str = "5eed0000-0000-4000-8000-000000000001";
const OIG_FLOW: &str = "5eed0000-0000-4000-8000-000000000002";

/// Creates the connection `name` of `connector` on the app and authorizes it in the browser.
async fn connect(
    org: &TestOrg,
    app: &crate::workflows_connections::Setup,
    name: &str,
    connector: &str,
) -> String {
    let (s, c) = org
        .post(
            &format!("{V1}/connections"),
            json!({"name": name, "connector": connector, "appId": app.app_id, "clientSecret": app.secret}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    authorize(org, &id, "authorize").await;
    id
}

async fn authorize(org: &TestOrg, id: &str, how: &str) {
    let (s, a) = org
        .post(&format!("{V1}/connections/{id}/{how}"), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    let (status, page, _) = authorize_in_browser(org, a["authorizeUrl"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{page}");
}

async fn import_and_switch_on(org: &TestOrg, flopack: &str, flow: &str) -> (String, Value) {
    let (s, imported) = org
        .post(
            &format!("{V1}/flows"),
            serde_json::from_str(flopack).unwrap(),
        )
        .await;
    assert_eq!(s, 201, "{imported}");
    let token = imported["clientTokens"][0]["clientToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, on) = org
        .post(&format!("{V1}/flows/{flow}/activate"), json!({}))
        .await;
    assert_eq!(s, 200, "{on}");
    (token, imported)
}

async fn the_seed_scenario_runs_through_a_real_connection(backend: Backend) {
    const NEED: &str = "okta.governance.accessRequests.read";
    let org = TestOrg::start(backend).await;
    let app = workflows_app(&org).await;
    let connection = connect(&org, &app, "Okta Workflows OAuth", "okta").await;
    let request = a_request(&org).await;

    // Preflight warned before anything ran: the app lacks the grant.
    let (client_token, imported) = import_and_switch_on(&org, SEED, FLOW).await;
    let w = &imported["preflight"][0]["warnings"][0];
    assert_eq!(w["scope"], NEED, "{imported}");
    assert_eq!(w["state"], "missing_grant", "{imported}");
    let query = format!("requestId={request}");
    // Its folder lists it.
    let (s, folders) = org.get(&format!("{V1}/folders")).await;
    assert_eq!(s, 200, "{folders}");
    assert!(folders[0]["flows"][0]["id"] == FLOW, "{folders}");
    // The connection's status says the same: its flows need the scope; grant it first.
    let (_, st) = org
        .get(&format!("{V1}/connections/{connection}/status"))
        .await;
    assert_eq!(st["flowsNeed"], json!([NEED]), "{st}");
    assert_eq!(st["needsGrant"], json!([NEED]), "{st}");

    // Without the scope: failed at once (no retry), the diagnosis says grant, then reauthorize.
    let (status, body, run) = invoke_flow(&org, FLOW, &client_token, &query).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["attempts"], 1, "403 is not retried: {run}");
    let d = &run["error"]["diagnosis"];
    assert_eq!(d["missingScope"], NEED, "{run}");
    assert_eq!(d["fix"], "grant_then_reauthorize");
    assert_eq!(d["appHoldsGrant"], false);
    assert_eq!(d["app"]["id"], app.app_id.as_str());
    assert_eq!(d["connection"]["id"], connection.as_str());
    assert_eq!(body["diagnosis"], *d, "the invoke answer carries it too");

    // Granted on the app through the Management API: the connection's token is older.
    org.grant(&app.app_id, NEED).await;
    let (_, p) = org.get(&format!("{V1}/flows/{FLOW}/preflight")).await;
    assert_eq!(p["warnings"][0]["state"], "needs_reauthorize", "{p}");
    let (status, _, run) = invoke_flow(&org, FLOW, &client_token, &query).await;
    assert_eq!(status, 403);
    assert_eq!(run["error"]["diagnosis"]["fix"], "reauthorize", "{run}");
    assert_eq!(run["error"]["diagnosis"]["appHoldsGrant"], true);

    // Reauthorize: the new token carries the scope; the rerun returns the request.
    authorize(&org, &connection, "reauthorize").await;
    let (_, status_now) = org
        .get(&format!("{V1}/connections/{connection}/status"))
        .await;
    assert!(status_now.to_string().contains(NEED), "{status_now}");
    let (_, p) = org.get(&format!("{V1}/flows/{FLOW}/preflight")).await;
    assert_eq!(p["warnings"][0]["state"], "ok", "{p}");
    let (status, body, run) = invoke_flow(&org, FLOW, &client_token, &query).await;
    assert_eq!(status, 200, "{body} {run}");
    assert_eq!(body["request"]["id"], request.as_str(), "{body}");
    assert_eq!(body["status"], 200);
    let cards: Vec<&str> = run["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(
        cards.len() >= 3 && cards.iter().all(|s| *s == "SUCCEEDED"),
        "{run}"
    );
}

async fn the_seed_scenario_runs_through_the_oig_connector(backend: Backend) {
    const NEED: &str = "okta.accessRequests.request.read";
    let org = TestOrg::start(backend).await;
    // A PENDING v2 request to find (its setup sets the org's clock first).
    let setup = access_requests::setup(&org, "P1D").await;
    let request = access_requests::create_request(&org, &setup).await;
    let app = workflows_app(&org).await;
    let connection = connect(&org, &app, "Okta Identity Governance", "oig").await;
    let (client_token, imported) = import_and_switch_on(&org, OIG_SEED, OIG_FLOW).await;
    assert_eq!(
        imported["preflight"][0]["warnings"][0]["state"], "missing_grant",
        "{imported}"
    );

    let (status, _, run) = invoke_flow(&org, OIG_FLOW, &client_token, "status=Pending").await;
    assert_eq!(status, 403, "{run}");
    assert_eq!(run["error"]["diagnosis"]["missingScope"], NEED, "{run}");
    assert_eq!(run["error"]["diagnosis"]["fix"], "grant_then_reauthorize");

    org.grant(&app.app_id, NEED).await;
    let (status, _, run) = invoke_flow(&org, OIG_FLOW, &client_token, "status=Pending").await;
    assert_eq!(status, 403);
    assert_eq!(run["error"]["diagnosis"]["fix"], "reauthorize", "{run}");

    authorize(&org, &connection, "reauthorize").await;
    let (status, body, run) = invoke_flow(&org, OIG_FLOW, &client_token, "status=Pending").await;
    assert_eq!(status, 200, "{body} {run}");
    assert!(
        body.to_string().contains(&request),
        "the pending request is found: {body}"
    );
}

on_both_backends!(
    the_seed_scenario_runs_through_a_real_connection,
    the_seed_scenario_runs_through_the_oig_connector,
    search_requests_streams_each_match_to_a_helper_flow,
);

/// The OIG flow with "Stream Matching Records": Search Requests hands each request to a helper
/// flow (one run each, with `Record` and `State`), and returns how many it streamed.
fn streaming_flopack(helper: &str) -> Value {
    let mut pack: Value = serde_json::from_str(OIG_SEED).unwrap();
    let flow = &mut pack["data"]["flos"][OIG_FLOW]["data"];
    let methods = flow["methods"].as_array_mut().unwrap();
    let search = methods
        .iter_mut()
        .find(|m| m["uuid"] == "searchS1")
        .unwrap();
    let model = &mut search["node"]["model"];
    model["inputs"]["data"]["srchSet"]["value"]["data"] = json!("Stream Matching Records");
    model["inputs"]["data"]["srchFlow"] = json!({"id": "srchFlow", "group": "Streaming",
        "key": "Flow", "value": {"type": "flo", "collection": false, "data": helper},
        "metadata": {"index": 5}});
    model["outputs"]["data"]["srchCount"] = json!({"id": "srchCount", "group": "Result",
        "key": "Records Streamed", "value": {"type": "number", "collection": false, "data": null},
        "metadata": {"index": 5}});
    search["pins"] = json!({"srchCount": {"returnR1": [{"input": "retReq", "transform": null}]}});
    let field = |id: &str, key: &str| {
        json!({"id": id, "group": null, "key": key,
               "value": {"type": "object", "collection": false, "data": {}},
               "metadata": {"index": 0, "custom": true}})
    };
    let card = |uuid: &str, address: &str, inputs: Value, outputs: Value, pins: Value| {
        json!({"uuid": uuid, "address": address, "pins": pins, "branches": {}, "joins": {},
               "node": {"key": address.rsplit(':').next().unwrap(), "data": {"name": uuid},
                        "model": {"inputs": {"extensible": true, "data": inputs},
                                  "outputs": {"extensible": true, "data": outputs},
                                  "policy": {"error": {"type": "finish"}}, "mirrored": true,
                                  "displayed": true, "config": null}}})
    };
    let methods = json!([
        card(
            "hC",
            "root:kernel:control:0.0.1:callable",
            json!({"hCiR": field("hCiR", "Record"), "hCiS": field("hCiS", "State")}),
            json!({"hCoR": field("hCoR", "Record"), "hCoS": field("hCoS", "State")}),
            json!({"hCoR": {"hR": [{"input": "hRi", "transform": null}]}}),
        ),
        card(
            "hR",
            "root:kernel:control:0.0.1:return",
            json!({"hRi": field("hRi", "seen")}),
            json!({"hRo": field("hRo", "seen")}),
            json!({}),
        ),
    ]);
    pack["data"]["flos"][helper] = json!({"id": helper, "name": "SUB - each request",
        "description": "", "data": {"id": null, "uuid": helper, "methods": methods,
        "orderings": {"oh0": ["hC", "hR"]}, "log": true, "inheritLog": false, "group": null,
        "cron": {}, "scheduled": false, "security_level": null}});
    pack
}

async fn search_requests_streams_each_match_to_a_helper_flow(backend: Backend) {
    const NEED: &str = "okta.accessRequests.request.read";
    const HELPER: &str = "5eed0000-0000-4000-8000-000000000009";
    let org = TestOrg::start(backend).await;
    let setup = access_requests::setup(&org, "P1D").await;
    let request = access_requests::create_request(&org, &setup).await;
    let app = workflows_app(&org).await;
    org.grant(&app.app_id, NEED).await;
    connect(&org, &app, "Okta Identity Governance", "oig").await;
    let (s, imported) = org
        .post(&format!("{V1}/flows"), streaming_flopack(HELPER))
        .await;
    assert_eq!(s, 201, "{imported}");
    let client_token = imported["clientTokens"][0]["clientToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, on) = org
        .post(&format!("{V1}/flows/{OIG_FLOW}/activate"), json!({}))
        .await;
    assert_eq!(s, 200, "{on}");

    let (status, body, run) = invoke_flow(&org, OIG_FLOW, &client_token, "status=Pending").await;
    assert_eq!(status, 200, "{body} {run}");
    assert_eq!(body["requests"], 1, "one request streamed: {body}");
    // One helper run per record, queued with the card: the worker runs it.
    org.state.flows.run_pending().await.unwrap();
    let (_, runs) = org.get(&format!("{V1}/executions?flowId={HELPER}")).await;
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "SUCCEEDED", "{runs:?}");
    assert_eq!(
        runs[0]["output"]["seen"]["id"],
        request.as_str(),
        "{runs:?}"
    );
}
