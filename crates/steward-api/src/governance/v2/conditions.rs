//! Request conditions of a resource: create, read, update, delete, activate, deactivate.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use steward_core::access_requests::conditions::{
    self, RequestConditionCreate, RequestConditionPatch,
};
use steward_core::access_requests::{from_body, RequestCondition};
use steward_core::syslog::Target;
use steward_store::StoreError;

use crate::error::{ApiError, ApiResult};
use crate::governance::{list_body, not_found};
use crate::http::{Caller, OktaJson};
use crate::AppState;

use super::settings::resource_settings;
use super::{actor_id, log, resource, V2};

fn render_condition(issuer: &str, resource_id: &str, c: &RequestCondition) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["_links"] = json!({"self": {"href": format!(
        "{issuer}{V2}/resources/{resource_id}/request-conditions/{}", c.id)}});
    v
}

async fn check_sequence(state: &AppState, id: Option<&str>) -> ApiResult<()> {
    if let Some(id) = id {
        match state.store.access_requests().sequence(id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::validation(
                    "AccessRequestCondition",
                    format!("/approvalSequenceId {id} is not an approval sequence"),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub async fn list_conditions(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let issuer = &state.config.issuer;
    let data = state
        .store
        .access_requests()
        .conditions(&app.id)
        .await?
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
    let app = resource(&state, &resource_id).await?;
    let create: RequestConditionCreate = from_body(&body)?;
    check_sequence(&state, create.approval_sequence_id.as_deref()).await?;
    let settings = resource_settings(&state, &app.id).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut all = tx.access_requests().conditions(&app.id).await?;
    let created = conditions::add_condition(&mut all, create, &settings, &actor_id(&caller), now)?;
    for c in &all {
        tx.access_requests().put_condition(&app.id, c).await?;
    }
    tx.append_log(
        &log(
            &caller,
            "access.request.condition.create",
            "Create request condition",
            now,
        )
        .target(Target::new(
            &created.id,
            "RequestCondition",
            &created.id,
            &created.name,
        )),
    )
    .await?;
    tx.commit().await?;
    let body = render_condition(&state.config.issuer, &app.id, &created);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn find_condition(
    state: &AppState,
    resource_id: &str,
    id: &str,
) -> ApiResult<RequestCondition> {
    state
        .store
        .access_requests()
        .conditions(resource_id)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| not_found("RequestCondition", id))
}

pub async fn get_condition(
    State(state): State<AppState>,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let c = find_condition(&state, &app.id, &id).await?;
    Ok(Json(render_condition(&state.config.issuer, &app.id, &c)))
}

pub async fn update_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    find_condition(&state, &app.id, &id).await?;
    let patch: RequestConditionPatch = from_body(&body)?;
    check_sequence(&state, patch.approval_sequence_id.as_deref()).await?;
    let settings = resource_settings(&state, &app.id).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut all = tx.access_requests().conditions(&app.id).await?;
    let updated =
        conditions::update_condition(&mut all, &id, patch, &settings, &actor_id(&caller), now)?;
    for c in &all {
        tx.access_requests().put_condition(&app.id, c).await?;
    }
    tx.append_log(
        &log(
            &caller,
            "access.request.condition.update",
            "Update request condition",
            now,
        )
        .target(Target::new(&id, "RequestCondition", &id, &updated.name)),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(render_condition(
        &state.config.issuer,
        &app.id,
        &updated,
    )))
}

pub async fn delete_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let app = resource(&state, &resource_id).await?;
    find_condition(&state, &app.id, &id).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut all = tx.access_requests().conditions(&app.id).await?;
    all.retain(|c| c.id != id);
    all.sort_by_key(|c| c.priority);
    tx.access_requests().delete_condition(&id).await?;
    for (i, c) in all.iter_mut().enumerate() {
        c.priority = u32::try_from(i).unwrap_or(u32::MAX);
        tx.access_requests().put_condition(&app.id, c).await?;
    }
    tx.append_log(
        &log(
            &caller,
            "access.request.condition.delete",
            "Delete request condition",
            now,
        )
        .target(Target::new(&id, "RequestCondition", &id, &id)),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_condition_status(
    state: &AppState,
    caller: &Caller,
    resource_id: &str,
    id: &str,
    activate: bool,
) -> ApiResult<Json<Value>> {
    let app = resource(state, resource_id).await?;
    let mut c = find_condition(state, &app.id, id).await?;
    let now = state.clock.now();
    let actor = actor_id(caller);
    if activate {
        c.activate(&actor, now)?;
    } else {
        c.deactivate(&actor, now)?;
    }
    let (event_type, message) = if activate {
        (
            "access.request.condition.activate",
            "Activate request condition",
        )
    } else {
        (
            "access.request.condition.deactivate",
            "Deactivate request condition",
        )
    };
    let mut tx = state.store.begin().await?;
    tx.access_requests().put_condition(&app.id, &c).await?;
    tx.append_log(&log(caller, event_type, message, now).target(Target::new(
        id,
        "RequestCondition",
        id,
        &c.name,
    )))
    .await?;
    tx.commit().await?;
    Ok(Json(render_condition(&state.config.issuer, &app.id, &c)))
}

pub async fn activate_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    set_condition_status(&state, &caller, &resource_id, &id, true).await
}

pub async fn deactivate_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    set_condition_status(&state, &caller, &resource_id, &id, false).await
}
