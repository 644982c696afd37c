//! Workflows Tables: importing a flopack creates its tables (a re-import keeps their rows), a
//! flow's Tables cards create, search (Where Expression with a pinned value, sort), update and
//! delete rows and read the schema, and `/workflows/api/v1/tables` lists tables and pages their
//! rows, for okta.workflows.read holders only.
use crate::common;

use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

use crate::workflows_events::{import, TABLE};

const ROUND_TRIP: &str = "e7e00000-0000-4000-8000-000000000010";
const V1: &str = "/workflows/api/v1";

async fn run(org: &TestOrg, name: &str, other: &str) -> Value {
    let (s, run) = org
        .post(
            &format!("{V1}/flows/{ROUND_TRIP}/runs"),
            json!({"name": name, "other": other}),
        )
        .await;
    assert_eq!(s, 201, "{run}");
    assert_eq!(org.state.flows.run_pending().await.unwrap(), 1);
    let (_, run) = org
        .get(&format!("{V1}/executions/{}", run["id"].as_str().unwrap()))
        .await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    run
}

async fn a_table_flow_creates_searches_updates_and_deletes_rows(backend: Backend) {
    let org = TestOrg::start(backend).await;
    import(&org).await;
    let (s, tables) = org.get(&format!("{V1}/tables")).await;
    assert_eq!(s, 200, "{tables}");
    assert_eq!(tables[0]["id"], TABLE);
    assert_eq!(tables[0]["name"], "Event log");
    assert_eq!(tables[0]["folder"], "Events");
    assert_eq!(tables[0]["rowCount"], 0);
    assert_eq!(tables[0]["columns"][1]["name"], "value");

    // Two rows created; "alpha" found by a filter on a pinned value, updated; "beta" deleted.
    let done = run(&org, "alpha", "beta").await;
    assert_eq!(done["output"]["found"], "1", "{done}");
    let rows = done["output"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["source"], "alpha");
    assert_eq!(rows[0]["value"], "updated");
    assert_eq!(
        rows[0]["eventType"],
        Value::Null,
        "an empty input left the cell alone"
    );
    assert!(rows[0]["Row ID"].is_string() && rows[0]["Created"].is_string());
    assert_eq!(done["output"]["columns"][0]["name"], "source");
    let (_, table) = org.get(&format!("{V1}/tables/{TABLE}")).await;
    assert_eq!(table["rowCount"], 1);

    // Rows page in id order with Link headers.
    run(&org, "gamma", "delta").await;
    run(&org, "kappa", "lambda").await;
    let first = org
        .raw(
            Some(&format!("SSWS {}", org.token)),
            Method::GET,
            &format!("{V1}/tables/{TABLE}/rows?limit=2"),
            None,
        )
        .await;
    assert_eq!(first.status().as_u16(), 200);
    let links: Vec<String> = first
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let page: Value = first.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);
    let next = links
        .into_iter()
        .find(|l| l.contains("rel=\"next\""))
        .expect("a next link");
    let after = page[1]["Row ID"].as_str().unwrap();
    assert!(next.contains(&format!("after={after}")), "{next}");
    let (_, rest) = org
        .get(&format!("{V1}/tables/{TABLE}/rows?limit=2&after={after}"))
        .await;
    assert_eq!(rest.as_array().unwrap().len(), 1);
    let mut names: Vec<String> = page
        .as_array()
        .unwrap()
        .iter()
        .chain(rest.as_array().unwrap())
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, vec!["alpha", "gamma", "kappa"]);

    // A re-import keeps the rows; an export carries the table, without rows.
    import(&org).await;
    let (_, table) = org.get(&format!("{V1}/tables/{TABLE}")).await;
    assert_eq!(table["rowCount"], 3);
    let (s, exported) = org.get(&format!("{V1}/flows/{ROUND_TRIP}/export")).await;
    assert_eq!(s, 200);
    assert_eq!(
        exported["data"]["tables"][TABLE]["data"]["structure"][2]["name"],
        "eventType"
    );
    assert!(exported["data"]["tables"][TABLE].get("rows").is_none());

    // Unknown tables are 404; an admin without the Workflows permission is refused.
    let (s, e) = org.get(&format!("{V1}/tables/nope")).await;
    assert_error(s, &e, 404, "E0000007");
    let (s, e) = org.get(&format!("{V1}/tables/nope/rows")).await;
    assert_error(s, &e, 404, "E0000007");
    let admin = org.user("org.admin@example.com").await;
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{}/roles", admin["id"].as_str().unwrap()),
            json!({"type": "ORG_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201);
    let token = org.token_for("org.admin@example.com").await;
    for path in [
        format!("{V1}/tables"),
        format!("{V1}/tables/{TABLE}"),
        format!("{V1}/tables/{TABLE}/rows"),
    ] {
        let (s, b) = org.send_as(&token, Method::GET, &path, None).await;
        assert_error(s, &b, 403, "E0000006");
    }
}

async fn a_failing_card_fails_the_run_and_keeps_earlier_writes(backend: Backend) {
    let org = TestOrg::start(backend).await;
    // The Delete Row card loses its pinned Row ID: it names no row and fails the run.
    let mut flopack: Value = serde_json::from_str(crate::workflows_events::FLOPACK).unwrap();
    let methods = flopack["data"]["flos"][ROUND_TRIP]["data"]["methods"]
        .as_array_mut()
        .unwrap();
    let create_beta = methods.iter_mut().find(|m| m["uuid"] == "tbB").unwrap();
    create_beta["pins"] = json!({});
    let (s, imported) = org.post(&format!("{V1}/flows"), flopack).await;
    assert_eq!(s, 201, "{imported}");
    let (_, run) = org
        .post(
            &format!("{V1}/flows/{ROUND_TRIP}/runs"),
            json!({"name": "a", "other": "b"}),
        )
        .await;
    org.state.flows.run_pending().await.unwrap();
    let (_, run) = org
        .get(&format!("{V1}/executions/{}", run["id"].as_str().unwrap()))
        .await;
    assert_eq!(run["status"], "FAILED", "{run}");
    assert!(
        run["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Delete By.Row ID is empty"),
        "{run}"
    );
    // Each card's write is its own transaction: the rows created before the failure stay.
    let (_, table) = org.get(&format!("{V1}/tables/{TABLE}")).await;
    assert_eq!(table["rowCount"], 2, "{table}");
}

on_both_backends!(
    a_table_flow_creates_searches_updates_and_deletes_rows,
    a_failing_card_fails_the_run_and_keeps_earlier_writes,
);
