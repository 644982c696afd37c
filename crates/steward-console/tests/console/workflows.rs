//! The Workflows pages (`/admin/workflows`): import, a flow drawn as its cards, on/off, run now,
//! history card by card, export; who may read and who may change, both ways.
use crate::common::{Backend, TestOrg, ADMIN_LOGIN, ADMIN_PASSWORD};
use crate::on_both_backends;

const FLOPACK: &str = include_str!("../../../steward-flows/tests/fixtures/branch_and_call.flopack");
const FLOW: &str = "b4a2c400-0000-4000-8000-000000000005";

async fn a_super_admin_imports_draws_runs_and_exports_a_flow(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let admin = org.browser();
    let page = admin
        .sign_in("/admin/workflows", ADMIN_LOGIN, ADMIN_PASSWORD)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No flows yet"), "{}", page.body);
    let csrf = page.input("csrf");

    // Import (the text a chosen file fills in): the flows arrive switched off.
    let imported = admin
        .post(
            "/admin/workflows/import",
            &[("flopack", FLOPACK), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert!(imported.body.contains("Route a request by tier"));
    let list = admin.get("/admin/workflows").await;
    assert!(list
        .body
        .contains(&format!("/admin/workflows/flows/{FLOW}")));

    // The flow drawn: its cards in order, an input pinned from another card's output.
    let flow = admin.get(&format!("/admin/workflows/flows/{FLOW}")).await;
    assert_eq!(flow.status, 200, "{}", flow.body);
    for card in [
        "Assign",
        "If&#x2f;ElseIf",
        "Call Flow",
        "Helper flow: SUB - open a ticket",
        "Compose",
    ] {
        assert!(flow.body.contains(card), "{card} in {}", flow.body);
    }
    assert!(flow.body.contains("← "), "a pin is drawn: {}", flow.body);
    assert!(flow.body.contains("Turn on"));

    // On, then run now: the run is queued, the worker runs it, its page shows each card.
    let on = admin
        .post(
            &format!("/admin/workflows/flows/{FLOW}/switch"),
            &[("on", "true"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(on.status, 303, "{}", on.body);
    assert!(admin
        .get(&format!("/admin/workflows/flows/{FLOW}"))
        .await
        .body
        .contains("Turn off"));
    let bad = admin
        .post(
            &format!("/admin/workflows/flows/{FLOW}/run"),
            &[("input", "[1, 2]"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let run = admin
        .post(
            &format!("/admin/workflows/flows/{FLOW}/run"),
            &[("input", "{}"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(run.status, 303, "{}", run.body);
    let at = run.location();
    assert!(at.starts_with("/admin/workflows/executions/"), "{at}");
    assert!(admin.get(&at).await.body.contains("QUEUED"));
    org.state.flows.run_pending().await.unwrap();
    let done = admin.get(&at).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("SUCCEEDED"), "{}", done.body);
    assert!(done.body.contains("ticket for fast"), "{}", done.body);
    assert!(done.body.contains("Call Flow"), "{}", done.body);
    let history = admin
        .get(&format!(
            "/admin/workflows/executions?flow={FLOW}&status=SUCCEEDED"
        ))
        .await;
    assert!(history.body.contains(at.rsplit('/').next().unwrap()));
    assert_eq!(
        admin
            .get("/admin/workflows/executions?status=NOPE")
            .await
            .status,
        400
    );

    // Export: a .flopack that names the flow.
    let export = admin
        .get(&format!("/admin/workflows/flows/{FLOW}/export"))
        .await;
    assert_eq!(export.status, 200);
    assert!(export.body.contains("\"flopack\""));
    assert!(export.body.contains(FLOW));

    // Every change needs the session's CSRF token.
    let forged = admin
        .post(
            &format!("/admin/workflows/flows/{FLOW}/switch"),
            &[("on", "false")],
        )
        .await;
    assert_eq!(forged.status, 403);
    // Connections: none yet, and how to make one.
    let connections = admin.get("/admin/workflows/connections").await;
    assert_eq!(connections.status, 200, "{}", connections.body);
    assert!(connections.body.contains("No connections"));
    let forged = admin
        .post("/admin/workflows/connections/wfcnope/authorize", &[])
        .await;
    assert_eq!(forged.status, 403);
    let unknown = admin
        .post(
            "/admin/workflows/connections/wfcnope/authorize",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    // `/workflows` is these pages.
    let short = admin.get("/workflows").await;
    assert_eq!(short.status, 303);
    assert_eq!(short.location(), "/admin/workflows");
}

async fn only_workflows_admins_see_or_change_flows(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (_, login) = org.user("orgadmin", Some("ORG_ADMIN")).await;
    let org_admin = org.browser();
    let page = org_admin.sign_in("/admin/", &login, "Us3r-Passw0rd!").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.input("csrf");
    assert_eq!(org_admin.get("/admin/workflows").await.status, 403);
    assert_eq!(
        org_admin.get("/admin/workflows/executions").await.status,
        403
    );
    assert_eq!(
        org_admin.get("/admin/workflows/connections").await.status,
        403
    );
    let refused = org_admin
        .post(
            "/admin/workflows/import",
            &[("flopack", FLOPACK), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 403);
    let (_, flows) = org
        .api(reqwest::Method::GET, "/workflows/api/v1/flows", None)
        .await;
    assert_eq!(
        flows,
        serde_json::json!([]),
        "the refused import wrote nothing"
    );
}

on_both_backends!(
    a_super_admin_imports_draws_runs_and_exports_a_flow,
    only_workflows_admins_see_or_change_flows,
);
