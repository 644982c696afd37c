//! Request sequences (Okta: list, get, delete; Steward adds create, replace and an org-wide list).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use steward_core::access_requests::conditions::RequestSequenceWrite;
use steward_core::access_requests::{from_body, RequestSequence};
use steward_core::syslog::Target;

use crate::error::ApiResult;
use crate::governance::{found, list_body};
use crate::http::{Caller, OktaJson};
use crate::AppState;

use super::{actor_id, log, resource, V2};

fn render_sequence(issuer: &str, s: &RequestSequence) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["link"] = Value::String(format!("{issuer}{V2}/request-sequences/{}", s.id));
    v
}

pub async fn list_resource_sequences(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let issuer = &state.config.issuer;
    let data = state
        .store
        .access_requests()
        .sequences()
        .await?
        .iter()
        .map(|s| render_sequence(issuer, s))
        .collect();
    let path = format!("{V2}/resources/{}/request-sequences", app.id);
    Ok(Json(list_body(issuer, &path, raw.as_deref(), data, None)))
}

pub async fn get_resource_sequence(
    State(state): State<AppState>,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    resource(&state, &resource_id).await?;
    let s = found(
        state.store.access_requests().sequence(&id).await,
        "RequestSequence",
        &id,
    )?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

pub async fn list_sequences(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let issuer = &state.config.issuer;
    let data = state
        .store
        .access_requests()
        .sequences()
        .await?
        .iter()
        .map(|s| render_sequence(issuer, s))
        .collect();
    let path = format!("{V2}/request-sequences");
    Ok(Json(list_body(issuer, &path, raw.as_deref(), data, None)))
}

pub async fn get_sequence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = found(
        state.store.access_requests().sequence(&id).await,
        "RequestSequence",
        &id,
    )?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

pub async fn create_sequence(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let write: RequestSequenceWrite = from_body(&body)?;
    let s = RequestSequence::create(write, &state.config.issuer)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.access_requests().put_sequence(&s, now).await?;
    tx.append_log(
        &log(
            &caller,
            "access.request.sequence.create",
            "Create request sequence",
            now,
        )
        .target(Target::new(&s.id, "RequestSequence", &s.id, &s.name)),
    )
    .await?;
    tx.commit().await?;
    let body = render_sequence(&state.config.issuer, &s);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn replace_sequence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let mut s = found(
        state.store.access_requests().sequence(&id).await,
        "RequestSequence",
        &id,
    )?;
    let write: RequestSequenceWrite = from_body(&body)?;
    s.update(write)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.access_requests().put_sequence(&s, now).await?;
    tx.append_log(
        &log(
            &caller,
            "access.request.sequence.update",
            "Update request sequence",
            now,
        )
        .target(Target::new(&s.id, "RequestSequence", &s.id, &s.name)),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

/// Deleting a sequence leaves the conditions that used it INVALID.
pub async fn delete_sequence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let s = found(
        state.store.access_requests().sequence(&id).await,
        "RequestSequence",
        &id,
    )?;
    let now = state.clock.now();
    let actor = actor_id(&caller);
    let mut tx = state.store.begin().await?;
    for (resource_id, mut c) in tx.access_requests().conditions_using(&id).await? {
        if c.forget(&id, &actor, now) {
            tx.access_requests().put_condition(&resource_id, &c).await?;
        }
    }
    tx.access_requests().delete_sequence(&id).await?;
    tx.append_log(
        &log(
            &caller,
            "access.request.sequence.delete",
            "Delete request sequence",
            now,
        )
        .target(Target::new(&id, "RequestSequence", &id, &s.name)),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
