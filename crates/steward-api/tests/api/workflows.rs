//! `/workflows/api/v1` and the invoke URL of API endpoint flows: a Super Admin imports a
//! flopack (refused, card by card, when a card cannot run), switches flows on and off, runs
//! them and reads and cancels executions; an API endpoint flow answers its invoke URL with the
//! client token or an access token holding `okta.workflows.invoke.manage`. Every rule allowed
//! and denied.
use crate::common;

use common::oauth::answer;
use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

const CARDS: &str = include_str!("../../../steward-flows/tests/fixtures/engine_cards.flopack");
const SEED: &str =
    include_str!("../../../steward-flows/tests/fixtures/seed_request_lookup.flopack");
const LISTS: &str = "e4e00000-0000-4000-8000-000000000010";
const HELLO: &str = "e4e00000-0000-4000-8000-000000000012";
const CONNECTOR: &str = "e4e00000-0000-4000-8000-000000000013";
const V1: &str = "/workflows/api/v1";

/// Our fixture without its connector flow (this server has no connectors).
fn kernel_only() -> Value {
    let mut flopack: Value = serde_json::from_str(CARDS).unwrap();
    flopack["data"]["flos"]
        .as_object_mut()
        .unwrap()
        .remove(CONNECTOR);
    flopack["data"]["configs"] = json!({});
    flopack
}

async fn invoke(
    org: &TestOrg,
    query: &str,
    auth: Option<&str>,
    body: Value,
) -> common::oauth::Answer {
    let mut req = org
        .http
        .post(format!("{}/api/flo/{HELLO}/invoke{query}", org.base))
        .json(&body);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    answer(req, &[]).await
}

async fn import_run_and_invoke(backend: Backend) {
    let org = TestOrg::start(backend).await;

    // A flopack with a card Steward cannot run here: refused, card by card, nothing saved.
    let unbuilt: Value = serde_json::from_str(
        &SEED
            .replace("1.0.685:hTTPRequest", "1.0.685:readApplication")
            .replace("\"key\": \"hTTPRequest\"", "\"key\": \"readApplication\""),
    )
    .unwrap();
    let (s, e) = org.post(&format!("{V1}/flows"), unbuilt).await;
    assert_error(s, &e, 400, "E0000001");
    assert!(e.to_string().contains("okta:readApplication"), "{e}");
    let (s, e) = org
        .post(&format!("{V1}/flows"), json!({"type": "zip"}))
        .await;
    assert_error(s, &e, 400, "E0000001");
    let (_, flows) = org.get(&format!("{V1}/flows")).await;
    assert_eq!(flows, json!([]));

    // Imported: the report, the flows, the API endpoint flow's client token (once).
    let (s, imported) = org.post(&format!("{V1}/flows"), kernel_only()).await;
    assert_eq!(s, 201, "{imported}");
    assert_eq!(imported["flows"].as_array().unwrap().len(), 6);
    assert!(imported["report"]["flows"].is_array());
    let token = imported["clientTokens"][0]["clientToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(imported["clientTokens"][0]["flowId"], HELLO);
    let (s, hello) = org.get(&format!("{V1}/flows/{HELLO}")).await;
    assert_eq!(s, 200, "{hello}");
    assert_eq!(hello["type"], "api_endpoint");
    assert_eq!(hello["active"], false);
    assert_eq!(
        hello["invokeUrl"],
        format!("{}/api/flo/{HELLO}/invoke", org.base)
    );
    let (s, e) = org.get(&format!("{V1}/flows/nope")).await;
    assert_error(s, &e, 404, "E0000007");

    // Run now: queued, then a worker runs it; every card recorded.
    let (s, run) = org
        .post(&format!("{V1}/flows/{LISTS}/runs"), json!({}))
        .await;
    assert_eq!(s, 201, "{run}");
    assert_eq!(run["status"], "QUEUED");
    let id = run["id"].as_str().unwrap().to_string();
    assert_eq!(org.state.flows.run_pending().await.unwrap(), 1);
    let (s, run) = org.get(&format!("{V1}/executions/{id}")).await;
    assert_eq!(s, 200, "{run}");
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["output"]["sum"], 110);
    assert_eq!(run["cards"].as_array().unwrap().len(), 29);
    assert_eq!(run["cards"][0]["name"], "List Construct");
    let (_, list) = org
        .get(&format!("{V1}/executions?flowId={LISTS}&status=SUCCEEDED"))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (_, none) = org
        .get(&format!("{V1}/executions?flowId={LISTS}&status=FAILED"))
        .await;
    assert_eq!(none, json!([]));
    let (s, e) = org.get(&format!("{V1}/executions?status=DONE")).await;
    assert_error(s, &e, 400, "E0000001");
    let (s, e) = org.get(&format!("{V1}/executions?since=yesterday")).await;
    assert_error(s, &e, 400, "E0000001");

    // Cancel a queued run: it never runs.
    let (_, run) = org
        .post(&format!("{V1}/flows/{LISTS}/runs"), json!({}))
        .await;
    let id = run["id"].as_str().unwrap().to_string();
    let (s, run) = org
        .post(&format!("{V1}/executions/{id}/cancel"), json!({}))
        .await;
    assert_eq!((s, &run["status"]), (200, &json!("CANCELLED")), "{run}");
    assert_eq!(org.state.flows.run_pending().await.unwrap(), 0);
    let (s, e) = org
        .post(&format!("{V1}/executions/nope/cancel"), json!({}))
        .await;
    assert_error(s, &e, 404, "E0000007");

    // The API endpoint flow: off, it refuses; on, it answers with its Return Raw.
    let q = format!("?clientToken={token}&name=Ada");
    let off = invoke(&org, &q, None, json!({})).await;
    assert_error(off.status, &off.body, 400, "E0000001");
    let (s, on) = org
        .post(&format!("{V1}/flows/{HELLO}/activate"), json!({}))
        .await;
    assert_eq!((s, &on["active"]), (200, &json!(true)), "{on}");
    let ok = invoke(&org, &q, None, json!({})).await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    assert_eq!(ok.body, json!("hello Ada"));
    assert_eq!(ok.headers["x-steward"], "yes");
    // Wrong or no client token: 401.
    let bad = invoke(&org, "?clientToken=nope&name=Ada", None, json!({})).await;
    assert_error(bad.status, &bad.body, 401, "E0000011");
    let none = invoke(&org, "?name=Ada", None, json!({})).await;
    assert_error(none.status, &none.body, 401, "E0000011");
    // An org access token with okta.workflows.invoke.manage; not with another scope.
    let (app_id, client_id) = org.service_app("Flow caller").await;
    org.grant(&app_id, "okta.workflows.invoke.manage").await;
    org.grant(&app_id, "okta.workflows.read").await;
    let invoker = org
        .client_credentials(&client_id, "okta.workflows.invoke.manage")
        .await;
    let invoker = invoker.body["access_token"].as_str().unwrap().to_string();
    let ok = invoke(
        &org,
        "?name=Bo",
        Some(&format!("Bearer {invoker}")),
        json!({}),
    )
    .await;
    assert_eq!((ok.status, &ok.body), (201, &json!("hello Bo")));
    let reader = org
        .client_credentials(&client_id, "okta.workflows.read")
        .await;
    let reader = reader.body["access_token"].as_str().unwrap().to_string();
    let denied = invoke(
        &org,
        "?name=Bo",
        Some(&format!("Bearer {reader}")),
        json!({}),
    )
    .await;
    assert_eq!(denied.status, 403, "{:?}", denied.body);
    assert!(denied.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"okta.workflows.invoke.manage\", error=\"insufficient_scope\""));
    // Every invocation is an execution of its own.
    let (_, runs) = org.get(&format!("{V1}/executions?flowId={HELLO}")).await;
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs}");
    // Off again: refused.
    let (_, off) = org
        .post(&format!("{V1}/flows/{HELLO}/deactivate"), json!({}))
        .await;
    assert_eq!(off["active"], false);
    let again = invoke(&org, &q, None, json!({})).await;
    assert_eq!(again.status, 400);
    // Export: a flopack that imports again.
    let (s, exported) = org.get(&format!("{V1}/flows/{LISTS}/export")).await;
    assert_eq!(s, 200);
    assert_eq!(exported["type"], "flopack");
    let (s, _) = org.post(&format!("{V1}/flows"), exported).await;
    assert_eq!(s, 201);
}

async fn workflows_scopes_and_roles_are_enforced(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, _) = org.post(&format!("{V1}/flows"), kernel_only()).await;
    assert_eq!(s, 201);

    // An Org Admin (SSWS) may neither read nor manage flows: Super Admin only.
    let user = org.user("org.admin@example.com").await;
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{}/roles", user["id"].as_str().unwrap()),
            json!({"type": "ORG_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201);
    let org_admin = org.token_for("org.admin@example.com").await;
    for (method, path) in [
        (Method::GET, format!("{V1}/flows")),
        (Method::GET, format!("{V1}/executions")),
        (Method::POST, format!("{V1}/flows/{LISTS}/activate")),
        (Method::POST, format!("{V1}/flows/{LISTS}/runs")),
    ] {
        let (s, b) = org.send_as(&org_admin, method, &path, None).await;
        assert_error(s, &b, 403, "E0000006");
    }

    // A Super Admin service app: okta.workflows.read reads, and is refused on writes with
    // Okta's challenge naming okta.workflows.manage; the manage scope writes.
    let (app_id, client_id) = org.service_app("Flow admin").await;
    org.grant(&app_id, "okta.workflows.read").await;
    org.grant(&app_id, "okta.workflows.manage").await;
    org.client_role(&client_id, "SUPER_ADMIN").await;
    let read = org
        .client_credentials(&client_id, "okta.workflows.read")
        .await;
    let read = read.body["access_token"].as_str().unwrap().to_string();
    let listed = org.bearer(&read, Method::GET, &format!("{V1}/flows")).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body.as_array().unwrap().len(), 6);
    let path = format!("{V1}/flows/{LISTS}/activate");
    let denied = org.bearer(&read, Method::POST, &path).await;
    assert_eq!(denied.status, 403);
    let expected = format!(
        "Bearer authorization_uri=\"{b}/oauth2/v1/authorize\", realm=\"{b}\", scope=\"okta.workflows.manage\", \
         error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", \
         resource=\"{path}\", resource_metadata=\"{b}/.well-known/oauth-protected-resource\"",
        b = org.base
    );
    assert_eq!(
        denied.headers["www-authenticate"].to_str().unwrap(),
        expected
    );
    let manage = org
        .client_credentials(&client_id, "okta.workflows.manage")
        .await;
    let manage = manage.body["access_token"].as_str().unwrap().to_string();
    let on = org.bearer(&manage, Method::POST, &path).await;
    assert_eq!((on.status, &on.body["active"]), (200, &json!(true)));
    // manage implies read.
    let read_too = org
        .bearer(&manage, Method::GET, &format!("{V1}/executions"))
        .await;
    assert_eq!(read_too.status, 200);
    // No credentials at all: 401.
    let anonymous = answer(org.http.get(format!("{}{V1}/flows", org.base)), &[]).await;
    assert_error(anonymous.status, &anonymous.body, 401, "E0000011");
}

on_both_backends!(
    import_run_and_invoke,
    workflows_scopes_and_roles_are_enforced
);
