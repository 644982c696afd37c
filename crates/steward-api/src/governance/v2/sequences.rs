//! Request sequences (Okta: list, get, delete; Steward adds create, replace and an org-wide
//! list): `steward_app::governance::sequences`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use steward_app::governance::sequences;
use steward_core::access_requests::conditions::RequestSequenceWrite;
use steward_core::access_requests::{from_body, RequestSequence};

use crate::error::ApiResult;
use crate::governance::list_body;
use crate::http::{Caller, OktaJson};
use crate::AppState;

use super::V2;

fn render_sequence(issuer: &str, s: &RequestSequence) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["link"] = Value::String(format!("{issuer}{V2}/request-sequences/{}", s.id));
    v
}

fn render_list(state: &AppState, all: &[RequestSequence], path: &str, raw: Option<&str>) -> Value {
    let issuer = &state.config.issuer;
    let data = all.iter().map(|s| render_sequence(issuer, s)).collect();
    list_body(issuer, path, raw, data, None)
}

pub async fn list_resource_sequences(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let all = sequences::list_for_resource(&state.store, &resource_id).await?;
    let path = format!("{V2}/resources/{resource_id}/request-sequences");
    Ok(Json(render_list(&state, &all, &path, raw.as_deref())))
}

pub async fn get_resource_sequence(
    State(state): State<AppState>,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let s = sequences::get_for_resource(&state.store, &resource_id, &id).await?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

pub async fn list_sequences(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let all = sequences::list(&state.store).await?;
    let path = format!("{V2}/request-sequences");
    Ok(Json(render_list(&state, &all, &path, raw.as_deref())))
}

pub async fn get_sequence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = sequences::get(&state.store, &id).await?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

pub async fn create_sequence(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let write: RequestSequenceWrite = from_body(&body)?;
    let issuer = &state.config.issuer;
    let s = sequences::create(&caller.ctx(&state), write, issuer).await?;
    let body = render_sequence(issuer, &s);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn replace_sequence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let write = from_body::<RequestSequenceWrite>(&body);
    let s = sequences::replace(&caller.ctx(&state), &id, write).await?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

/// Deleting a sequence leaves the conditions that used it INVALID.
pub async fn delete_sequence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    sequences::delete(&caller.ctx(&state), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
