//! Workflows pages (`/admin/workflows`): flows by folder with import, a flow drawn as its cards
//! (inputs, outputs, pins), on/off, run now and export; execution history with card-by-card
//! status, timing and (where saved) inputs and outputs; a failed run's diagnosis links straight to
//! the app's Okta API Scopes tab and to the connection's Reauthorize. Reading needs
//! `WorkflowsRead`, every change `WorkflowsManage` (checked again on each POST).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use steward_app::flows;
use steward_core::roles::Permission;
use steward_core::timefmt::format_millis;
use steward_flows::model::Flopack;
use steward_store::{FlowRun, RunQuery};

use crate::pages::{self, encode, render, see_other};
use crate::session::Admin;
use crate::Console;

/// Runs a history page shows.
const RUNS: usize = 50;

fn run_row(run: &FlowRun, flow_name: Option<&str>) -> Value {
    let duration_ms = match (run.started, run.finished) {
        (Some(s), Some(f)) => Some(f - s),
        _ => None,
    };
    json!({
        "id": run.id,
        "flow_id": run.flow_id,
        "flow_name": flow_name.unwrap_or(&run.flow_id),
        "status": run.status.as_str(),
        "created": format_millis(run.created),
        "duration_ms": duration_ms,
        "steps": run.steps,
        "error": run.error.as_ref().and_then(|e| e["message"].as_str()).unwrap_or_default(),
    })
}

/// `GET /admin/workflows`: flows by folder, and the import form.
pub async fn flows_page(State(console): State<Console>, admin: Admin) -> Response {
    if let Some(refused) = admin.require(Permission::WorkflowsRead, "Viewing flows") {
        return refused;
    }
    let list = match flows::list_flows(&admin.ctx(&console)).await {
        Ok(l) => l,
        Err(e) => return pages::app_error(e),
    };
    let mut folders: Vec<(String, Vec<Value>)> = Vec::new();
    for f in &list {
        let folder = f.folder.clone().unwrap_or_else(|| "Default Folder".into());
        let row = json!({"id": f.id, "name": f.name, "kind": f.kind, "active": f.active,
                         "save_history": f.save_history, "updated": format_millis(f.updated)});
        match folders.iter_mut().find(|(name, _)| *name == folder) {
            Some((_, rows)) => rows.push(row),
            None => folders.push((folder, vec![row])),
        }
    }
    folders.sort_by(|a, b| a.0.cmp(&b.0));
    let folders: Vec<Value> = folders
        .into_iter()
        .map(|(name, flows)| json!({"name": name, "flows": flows}))
        .collect();
    render(
        StatusCode::OK,
        "wf_flows.html",
        json!({
            "me": admin.me(),
            "section": "workflows",
            "folders": folders,
            "count": list.len(),
            "may_manage": admin.may(Permission::WorkflowsManage),
        }),
    )
}

/// `POST /admin/workflows/import` (`flopack` = the file's text, `csrf`).
pub async fn import(
    State(console): State<Console>,
    admin: Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::WorkflowsManage,
        "Importing flows",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let text = form.get("flopack").map(String::as_str).unwrap_or_default();
    let imported = flows::import_flopack(
        &admin.ctx(&console),
        console.api.flows.registry(),
        text.as_bytes(),
    )
    .await;
    match imported {
        Ok(imported) => {
            let answer = serde_json::to_value(&imported).unwrap_or(Value::Null);
            render(
                StatusCode::OK,
                "wf_imported.html",
                json!({
                    "me": admin.me(),
                    "section": "workflows",
                    "flows": answer["flows"],
                    "client_tokens": answer["clientTokens"],
                    "warnings": answer["preflight"],
                }),
            )
        }
        Err(e) => pages::app_error(e),
    }
}

/// `GET /admin/workflows/flows/{id}`: the flow drawn as its cards, its switch, run now, export,
/// and its latest runs.
pub async fn flow_page(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = admin.require(Permission::WorkflowsRead, "Viewing flows") {
        return refused;
    }
    let ctx = admin.ctx(&console);
    let flow = match flows::get_flow(&ctx, &id).await {
        Ok(f) => f,
        Err(e) => return pages::app_error(e),
    };
    let flopack: Option<Flopack> = serde_json::from_value(flow.flopack.clone()).ok();
    let mut drawn = Vec::new();
    if let Some(flopack) = &flopack {
        // The flow first, then the helper flows it calls.
        let mut ids: Vec<&String> = flopack.data.flos.keys().collect();
        ids.sort_by_key(|k| (*k != &flow.id, flopack.data.flos[*k].name.clone()));
        for key in ids {
            let f = &flopack.data.flos[key];
            let connections = &flopack.data.configs;
            let cards: Vec<Value> = steward_flows::readable::view(&f.data)
                .into_iter()
                .map(|c| {
                    let connection = c
                        .connection
                        .as_ref()
                        .map(|id| connections.get(id).map_or(id.clone(), |c| c.name.clone()));
                    let mut v = serde_json::to_value(&c).unwrap_or(Value::Null);
                    v["connection"] = json!(connection);
                    v
                })
                .collect();
            drawn
                .push(json!({"id": f.id, "name": f.name, "main": f.id == flow.id, "cards": cards}));
        }
    }
    let runs = flows::history(
        &ctx,
        &RunQuery {
            flow_id: Some(flow.id.clone()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_default();
    let runs: Vec<Value> = runs.iter().map(|r| run_row(r, Some(&flow.name))).collect();
    render(
        StatusCode::OK,
        "wf_flow.html",
        json!({
            "me": admin.me(),
            "section": "workflows",
            "flow": {"id": flow.id, "name": flow.name, "kind": flow.kind, "active": flow.active,
                     "folder": flow.folder, "save_history": flow.save_history,
                     "updated": format_millis(flow.updated)},
            "flows": drawn,
            "runs": runs,
            "may_manage": admin.may(Permission::WorkflowsManage),
        }),
    )
}

/// `POST /admin/workflows/flows/{id}/switch` (`on` = `true` | `false`).
pub async fn switch(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::WorkflowsManage,
        "Switching a flow on or off",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let on = form.get("on").is_some_and(|v| v == "true");
    match flows::set_active(&admin.ctx(&console), &id, on).await {
        Ok(f) => see_other(&format!("/admin/workflows/flows/{}", encode(&f.id))),
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/workflows/flows/{id}/run` (`input` = JSON, may be empty): queues a run and
/// shows it.
pub async fn run_now(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::WorkflowsManage,
        "Running a flow",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let text = form.get("input").map(|s| s.trim()).unwrap_or_default();
    let input: Value =
        if text.is_empty() {
            json!({})
        } else {
            match serde_json::from_str(text) {
                Ok(v @ Value::Object(_)) => v,
                _ => return pages::message(
                    StatusCode::BAD_REQUEST,
                    "The run was refused",
                    "The input must be a JSON object, e.g. {\"query\": {\"requestId\": \"…\"}}.",
                ),
            }
        };
    match flows::queue_run(&admin.ctx(&console), &id, &input).await {
        Ok(run_id) => see_other(&format!("/admin/workflows/executions/{}", encode(&run_id))),
        Err(e) => pages::app_error(e),
    }
}

/// `GET /admin/workflows/flows/{id}/export`: the flow's `.flopack`.
pub async fn export(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = admin.require(Permission::WorkflowsRead, "Exporting flows") {
        return refused;
    }
    match flows::export_flow(&admin.ctx(&console), &id).await {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            let name: String = id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"{name}.flopack\""))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            pages::harden(&mut response);
            response
        }
        Err(e) => pages::app_error(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HistoryQuery {
    flow: Option<String>,
    status: Option<String>,
}

/// `GET /admin/workflows/executions`: history, by flow and status.
pub async fn executions(
    State(console): State<Console>,
    admin: Admin,
    Query(q): Query<HistoryQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::WorkflowsRead, "Viewing flow history") {
        return refused;
    }
    let ctx = admin.ctx(&console);
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => match flows::parse_status(s) {
            Ok(s) => Some(s),
            Err(e) => return pages::app_error(e),
        },
        None => None,
    };
    let flow_id = q.flow.clone().filter(|f| !f.is_empty());
    let runs = match flows::history(
        &ctx,
        &RunQuery {
            flow_id: flow_id.clone(),
            status,
            limit: RUNS,
            ..Default::default()
        },
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return pages::app_error(e),
    };
    let names = flows::list_flows(&ctx).await.unwrap_or_default();
    let rows: Vec<Value> = runs
        .iter()
        .map(|r| {
            let name = names
                .iter()
                .find(|f| f.id == r.flow_id)
                .map(|f| f.name.as_str());
            run_row(r, name)
        })
        .collect();
    let flows: Vec<Value> = names
        .iter()
        .map(|f| json!({"id": f.id, "name": f.name}))
        .collect();
    render(
        StatusCode::OK,
        "wf_executions.html",
        json!({
            "me": admin.me(),
            "section": "executions",
            "runs": rows,
            "flows": flows,
            "flow": flow_id.unwrap_or_default(),
            "status": q.status.unwrap_or_default(),
            "statuses": ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"],
        }),
    )
}

fn pretty(v: &Option<Value>) -> Option<String> {
    v.as_ref()
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::to_string_pretty(v).ok())
}

/// `GET /admin/workflows/executions/{id}`: one run, card by card, with its diagnosis.
pub async fn execution(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = admin.require(Permission::WorkflowsRead, "Viewing flow history") {
        return refused;
    }
    let ctx = admin.ctx(&console);
    let run = match flows::get_run(&ctx, &id).await {
        Ok(r) => r,
        Err(e) => return pages::app_error(e),
    };
    let steps = match flows::run_steps(&ctx, &id).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(e),
    };
    let flow = flows::get_flow(&ctx, &run.flow_id).await.ok();
    let cards: Vec<Value> = steps
        .iter()
        .map(|s| {
            json!({
                "index": s.idx,
                "name": s.name,
                "card": s.card_key,
                "depth": s.depth,
                "status": s.status,
                "duration_us": s.duration_us,
                "inputs": pretty(&s.inputs),
                "outputs": pretty(&s.outputs),
                "error": s.error,
            })
        })
        .collect();
    let error = run.error.clone().unwrap_or(Value::Null);
    let diagnosis = error.get("diagnosis").cloned().filter(|d| !d.is_null());
    // One click from the diagnosis to the grant: the app's Okta API Scopes tab, searched.
    let grant_url = diagnosis.as_ref().map(|d| {
        format!(
            "/admin/apps/{}/scopes?q={}",
            encode(d["app"]["id"].as_str().unwrap_or_default()),
            encode(d["missingScope"].as_str().unwrap_or_default())
        )
    });
    render(
        StatusCode::OK,
        "wf_execution.html",
        json!({
            "me": admin.me(),
            "section": "executions",
            "run": run_row(&run, flow.as_ref().map(|f| f.name.as_str())),
            "saves_history": flow.as_ref().is_some_and(|f| f.save_history),
            "input": pretty(&Some(run.input.clone())),
            "output": pretty(&run.output),
            "error": error,
            "diagnosis": diagnosis,
            "grant_url": grant_url,
            "cards": cards,
            "may_manage": admin.may(Permission::WorkflowsManage),
            "may_grant": admin.may(Permission::AppGrantsManage),
        }),
    )
}
