//! Workflows (`/workflows/api/v1`, a Steward extension; Okta's Workflows API is not public):
//! import a `.flopack`, list flows, switch them on and off, run them, and read and cancel
//! executions. Guarded like every route, with Okta's Workflows scopes `okta.workflows.read` and
//! `okta.workflows.manage` (Super Admin).
//!
//! API endpoint flows answer at Okta's invoke URL shape, `POST /api/flo/{flowId}/invoke`,
//! outside the guard: with the flow's client token (`?clientToken=` or `x-api-client-token`),
//! an org access token holding `okta.workflows.invoke.manage`, or nothing for an `open` flow.
//! The flow runs at once (durably, as any run) and its Return is the response.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use steward_app::flows;
use steward_core::roles::Permission;
use steward_store::{RunQuery, RunStatus};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ApiResult};
use crate::http::Caller;
use crate::routes::{need, Need, Routes};
use crate::AppState;

const READ: Need = need("okta.workflows.read", Permission::WorkflowsRead);
const MANAGE: Need = need("okta.workflows.manage", Permission::WorkflowsManage);
/// What an org access token needs to invoke an API endpoint flow.
pub const INVOKE_SCOPE: &str = "okta.workflows.invoke.manage";

pub(crate) fn routes() -> Routes {
    Routes::under("Workflows", "/workflows/api/v1")
        .post("/flows", MANAGE, import)
        .get("/flows", READ, list)
        .get("/folders", READ, folders)
        .get("/flows/{flowId}", READ, get)
        .get("/flows/{flowId}/export", READ, export)
        .post("/flows/{flowId}/activate", MANAGE, activate)
        .post("/flows/{flowId}/deactivate", MANAGE, deactivate)
        .post("/flows/{flowId}/runs", MANAGE, run)
        .get("/executions", READ, executions)
        .get("/executions/{executionId}", READ, execution)
        .post("/executions/{executionId}/cancel", MANAGE, cancel)
        .get("/flows/{flowId}/preflight", READ, preflight)
        .get("/tables", READ, tables)
        .get("/tables/{tableId}", READ, table)
        .get("/tables/{tableId}/rows", READ, table_rows)
}

/// The scopes a flow's connector cards need against their connections ([`flows::preflight`]),
/// Custom API Actions resolved through this server's route table.
async fn preflight_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Value> {
    let ctx = caller.ctx(state);
    let flow = flows::get_flow(&ctx, id).await?;
    let tokens = state.flows.token_source();
    let report =
        flows::preflight(&ctx, &flow, tokens.as_deref(), &crate::routes::scope_for).await?;
    Ok(serde_json::to_value(report).unwrap_or(Value::Null))
}

/// [`preflight_of`] for an answer that has already succeeded (an import, a switch): a
/// preflight that cannot be computed is reported in it rather than failing the change.
async fn preflight_or_error(state: &AppState, caller: &Caller, id: &str) -> Value {
    match preflight_of(state, caller, id).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(flow = %id, error = %e, "preflight failed");
            json!({"flowId": id, "error": e.to_string()})
        }
    }
}

/// `GET /flows/{flowId}/preflight`: each connector card's scope and whether its connection can
/// call it (`ok`, `needs_reauthorize`, `missing_grant`, `not_authorized`, `unknown`).
async fn preflight(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(preflight_of(&state, &caller, &id).await?))
}

/// `GET /tables`: every Workflows Table, with its columns and row count.
async fn tables(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let all = flows::tables::list_tables(&ctx).await?;
    Ok(Json(serde_json::to_value(all).unwrap_or(Value::Null)))
}

async fn table(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let t = flows::tables::get_table(&ctx, &id).await?;
    Ok(Json(serde_json::to_value(t).unwrap_or(Value::Null)))
}

/// `GET /tables/{tableId}/rows?limit=&after=`: rows in id order (each with `Row ID`,
/// `Created`, `Updated`), paged with `Link` headers.
async fn table_rows(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(page): Query<crate::http::PageQuery>,
    uri: axum::http::Uri,
) -> ApiResult<Response> {
    let limit = crate::http::page_limit(page.limit.as_deref(), 200, 1000)?;
    let ctx = caller.ctx(&state);
    let (rows, next) = flows::tables::table_rows(&ctx, &id, page.after.as_deref(), limit).await?;
    let headers = crate::http::link_headers(
        &state.config.issuer,
        uri.path(),
        uri.query(),
        next.as_deref(),
    );
    Ok((headers, Json(Value::Array(rows))).into_response())
}

fn flow_json(issuer: &str, f: &flows::FlowSummary) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "created".into(),
            json!(steward_core::timefmt::format_millis(f.created)),
        );
        obj.insert(
            "lastUpdated".into(),
            json!(steward_core::timefmt::format_millis(f.updated)),
        );
        obj.remove("updated");
        if f.kind == "api_endpoint" {
            obj.insert(
                "invokeUrl".into(),
                json!(format!("{issuer}/api/flo/{}/invoke", f.id)),
            );
        }
    }
    v
}

/// `POST /flows`: the body is a `.flopack`. `201` with the report card by card, the flows
/// saved and the client token of each new API endpoint flow; `400` with every card that cannot
/// run (nothing saved).
async fn import(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Response> {
    let ctx = caller.ctx(&state);
    let imported = flows::import_flopack(&ctx, state.flows.registry(), &body).await?;
    let issuer = &state.config.issuer;
    let mut checks = Vec::new();
    for f in &imported.flows {
        checks.push(preflight_or_error(&state, &caller, &f.id).await);
    }
    let body = json!({
        "flows": imported.flows.iter().map(|f| flow_json(issuer, f)).collect::<Vec<_>>(),
        "clientTokens": imported.client_tokens,
        "report": imported.report,
        "preflight": checks,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /folders`: each folder with its flows.
async fn folders(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let all = flows::folders(&caller.ctx(&state)).await?;
    Ok(Json(serde_json::to_value(all).unwrap_or(Value::Null)))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let all = flows::list_flows(&ctx).await?;
    let issuer = &state.config.issuer;
    Ok(Json(Value::Array(
        all.iter().map(|f| flow_json(issuer, f)).collect(),
    )))
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let flow = flows::get_flow(&ctx, &id).await?;
    let mut v = flow_json(&state.config.issuer, &flows::FlowSummary::from(&flow));
    let counts = state.store.flows().count_by_status(Some(&id)).await?;
    if let Some(obj) = v.as_object_mut() {
        let counts: Map<String, Value> = counts
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), json!(n)))
            .collect();
        obj.insert("executions".into(), Value::Object(counts));
    }
    Ok(Json(v))
}

/// The flow as a `.flopack` (it imports again unchanged).
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ctx = caller.ctx(&state);
    let bytes = flows::export_flow(&ctx, &id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// Switches a flow on or off; switched on, the answer carries its `preflight` (a warning, not
/// a refusal: a connection may be reauthorized before the flow first runs).
async fn switch(state: AppState, caller: Caller, id: String, on: bool) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let flow = flows::set_active(&ctx, &id, on).await?;
    let mut v = flow_json(&state.config.issuer, &flow);
    if on {
        let check = preflight_or_error(&state, &caller, &id).await;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("preflight".into(), check);
        }
    }
    Ok(Json(v))
}

async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    switch(state, caller, id, true).await
}

async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    switch(state, caller, id, false).await
}

/// `POST /flows/{flowId}/runs`: runs the flow now with the JSON body as its trigger input
/// (empty: `{}`); `201` with the queued execution, which a worker picks up.
async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedBody(e.to_string()))?
    };
    let ctx = caller.ctx(&state);
    let run_id = flows::queue_run(&ctx, &id, &input).await?;
    let run = flows::get_run(&ctx, &run_id).await?;
    Ok((StatusCode::CREATED, Json(flows::run_json(&run, None))).into_response())
}

/// `GET /executions?flowId=&status=&since=&until=&limit=`: newest first.
async fn executions(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let time = |key: &str| -> ApiResult<Option<i64>> {
        params
            .get(key)
            .map(|t| {
                steward_core::timefmt::parse_rfc3339_millis(t).ok_or_else(|| {
                    ApiError::validation(
                        &format!("Api validation failed: {key}"),
                        format!("{key}: {t:?} is not an RFC 3339 time"),
                    )
                })
            })
            .transpose()
    };
    let limit = match params.get("limit") {
        None => 200,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError::validation(
                    "Api validation failed: limit",
                    "limit: a number from 1 to 1000",
                )
            })?,
    };
    let query = RunQuery {
        flow_id: params.get("flowId").cloned(),
        status: params
            .get("status")
            .map(|s| flows::parse_status(s))
            .transpose()?,
        since: time("since")?,
        until: time("until")?,
        limit,
    };
    let ctx = caller.ctx(&state);
    let runs = flows::history(&ctx, &query).await?;
    Ok(Json(Value::Array(
        runs.iter().map(|r| flows::run_json(r, None)).collect(),
    )))
}

async fn execution(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let run = flows::get_run(&ctx, &id).await?;
    let steps = flows::run_steps(&ctx, &id).await?;
    Ok(Json(flows::run_json(&run, Some(&steps))))
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let run = flows::cancel_run(&ctx, &id).await?;
    Ok(Json(flows::run_json(&run, None)))
}

/// Headers a flow never sees (credentials).
const HIDDEN_HEADERS: [&str; 4] = ["authorization", "cookie", "x-api-client-token", "dpop"];

/// How the caller may invoke this flow.
async fn authorized(
    state: &AppState,
    flow: &steward_store::StoredFlow,
    parts: &axum::http::request::Parts,
    client_token: Option<&str>,
) -> ApiResult<()> {
    if let Some(token) = client_token {
        let hash = crate::secrets::sha256_hex(token);
        return match &flow.client_token_hash {
            Some(h) if bool::from(h.as_bytes().ct_eq(hash.as_bytes())) => Ok(()),
            _ => Err(ApiError::Challenge {
                status: StatusCode::UNAUTHORIZED,
                challenge: format!("Bearer realm=\"{}\"", state.config.issuer),
                summary: "Invalid token provided",
                code: "E0000011",
                dpop_nonce: None,
            }),
        };
    }
    if parts.headers.contains_key(header::AUTHORIZATION) {
        let invoke = Need {
            scope: INVOKE_SCOPE,
            permission: Permission::WorkflowsManage,
            self_service: false,
        };
        crate::guard::authenticate_scope(state, parts, invoke).await?;
        return Ok(());
    }
    let level = flow
        .flopack
        .pointer(&format!("/data/flos/{}/data/security_level", flow.id))
        .and_then(Value::as_str);
    if level == Some("open") {
        return Ok(());
    }
    Err(ApiError::Challenge {
        status: StatusCode::UNAUTHORIZED,
        challenge: format!("Bearer realm=\"{}\"", state.config.issuer),
        summary: "Invalid token provided",
        code: "E0000011",
        dpop_nonce: None,
    })
}

/// `POST /api/flo/{flowId}/invoke`: runs an API endpoint flow and answers with its Return
/// (`200` and the returned keys as JSON) or Return Raw (its status, headers and body).
pub async fn invoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let mut query: Map<String, Value> = Map::new();
    let mut client_token = None;
    for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        if k == "clientToken" {
            client_token = Some(v.to_string());
        } else {
            query.insert(k.to_string(), Value::String(v.to_string()));
        }
    }
    if let Some(t) = parts
        .headers
        .get("x-api-client-token")
        .and_then(|v| v.to_str().ok())
    {
        client_token.get_or_insert_with(|| t.to_string());
    }
    let ctx = steward_app::Ctx::system(&state.store).at(state.clock.now());
    let flow = match state.store.flows().flow(&id).await {
        Ok(f) if f.kind == "api_endpoint" => f,
        _ => return Err(ApiError::not_found(format!("{id} (Flow)"))),
    };
    authorized(&state, &flow, &parts, client_token.as_deref()).await?;
    if !flow.active {
        return Err(ApiError::validation(
            "Api validation failed: flowId",
            format!("flowId: the flow {id} is off; switch it on to invoke it"),
        ));
    }
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let name = name.as_str().to_ascii_lowercase();
        if HIDDEN_HEADERS.contains(&name.as_str()) {
            continue;
        }
        if let Ok(v) = value.to_str() {
            headers.insert(name, Value::String(v.to_string()));
        }
    }
    let text = String::from_utf8_lossy(&body).to_string();
    let parsed = serde_json::from_str::<Value>(&text)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let input = json!({
        "raw": {"headers": headers, "body": text, "query": raw_query_without_token(&raw_query)},
        "body": parsed,
        "query": query,
        "headers": headers,
    });
    let (run, finish) = state.flows.invoke(&ctx, &id, &input).await?;
    // No end: the run was cancelled meanwhile, or it waits in the queue for a retry (a 429 or
    // 5xx from a connector): say which, and where to follow it.
    let Some(finish) = finish else {
        let status = match run.status {
            RunStatus::Cancelled => StatusCode::CONFLICT,
            _ => StatusCode::ACCEPTED,
        };
        let body = json!({"executionId": run.id, "status": run.status.as_str()});
        return Ok((status, Json(body)).into_response());
    };
    if !finish.succeeded {
        let error = finish
            .error
            .unwrap_or_else(|| steward_flows_error("the flow failed"));
        let status = error
            .status_code
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({"error": error.message, "executionId": run.id});
        if let Some(diagnosis) = error.diagnosis {
            body["diagnosis"] = diagnosis;
        }
        return Ok((status, Json(body)).into_response());
    }
    if finish.raw {
        let status = finish.output["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let mut out_headers = HeaderMap::new();
        if let Some(map) = finish.output["headers"].as_object() {
            for (k, v) in map {
                let text = steward_flows::value::to_text(v);
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(&text),
                ) {
                    out_headers.insert(name, value);
                }
            }
        }
        let body = steward_flows::value::to_text(&finish.output["body"]);
        return Ok((status, out_headers, body).into_response());
    }
    let output = match finish.output {
        Value::Null => json!({}),
        other => other,
    };
    Ok((StatusCode::OK, Json(output)).into_response())
}

fn steward_flows_error(message: &str) -> steward_flows::exec::RunError {
    steward_flows::exec::RunError {
        message: message.into(),
        card: None,
        card_name: None,
        status_code: None,
        diagnosis: None,
    }
}

fn raw_query_without_token(raw: &str) -> String {
    raw.split('&')
        .filter(|p| !p.starts_with("clientToken="))
        .collect::<Vec<_>>()
        .join("&")
}
