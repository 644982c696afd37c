//! Request conditions of a resource: create, read, update, delete, activate, deactivate
//! (`steward_app::governance::conditions`).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use steward_app::governance::conditions;
use steward_core::access_requests::conditions::{RequestConditionCreate, RequestConditionPatch};
use steward_core::access_requests::{from_body, RequestCondition};

use crate::error::ApiResult;
use crate::governance::list_body;
use crate::http::{Caller, OktaJson};
use crate::AppState;

use super::V2;

fn render_condition(issuer: &str, resource_id: &str, c: &RequestCondition) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["_links"] = json!({"self": {"href": format!(
        "{issuer}{V2}/resources/{resource_id}/request-conditions/{}", c.id)}});
    v
}

pub async fn list_conditions(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let (app, all) = conditions::list(&state.store, &resource_id).await?;
    let issuer = &state.config.issuer;
    let data = all
        .iter()
        .map(|c| render_condition(issuer, &app.id, c))
        .collect();
    let path = format!("{V2}/resources/{}/request-conditions", app.id);
    Ok(Json(list_body(issuer, &path, raw.as_deref(), data, None)))
}

pub async fn create_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path(resource_id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let create = from_body::<RequestConditionCreate>(&body);
    let (app, created) = conditions::create(&caller.ctx(&state), &resource_id, create).await?;
    let body = render_condition(&state.config.issuer, &app.id, &created);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn get_condition(
    State(state): State<AppState>,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (app, c) = conditions::get(&state.store, &resource_id, &id).await?;
    Ok(Json(render_condition(&state.config.issuer, &app.id, &c)))
}

pub async fn update_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let patch = from_body::<RequestConditionPatch>(&body);
    let (app, c) = conditions::update(&caller.ctx(&state), &resource_id, &id, patch).await?;
    Ok(Json(render_condition(&state.config.issuer, &app.id, &c)))
}

pub async fn delete_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    conditions::delete(&caller.ctx(&state), &resource_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_status(
    state: &AppState,
    caller: &Caller,
    resource_id: &str,
    id: &str,
    activate: bool,
) -> ApiResult<Json<Value>> {
    let (app, c) = conditions::set_status(&caller.ctx(state), resource_id, id, activate).await?;
    Ok(Json(render_condition(&state.config.issuer, &app.id, &c)))
}

pub async fn activate_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    set_status(&state, &caller, &resource_id, &id, true).await
}

pub async fn deactivate_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    set_status(&state, &caller, &resource_id, &id, false).await
}
