//! Request settings: per resource and org-wide (`steward_app::governance::settings`).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;
use steward_app::governance::settings;
use steward_core::access_requests::conditions::{
    OrgRequestSettingsPatch, ResourceRequestSettingsPatch,
};
use steward_core::access_requests::from_body;

use crate::error::ApiResult;
use crate::http::{Caller, OktaJson};
use crate::AppState;

fn render<T: serde::Serialize>(s: &T) -> Json<Value> {
    Json(serde_json::to_value(s).unwrap_or_default())
}

pub async fn get_resource_settings(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = settings::of_resource(&state.store, &resource_id).await?;
    Ok(render(&s))
}

pub async fn update_resource_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(resource_id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let patch = from_body::<ResourceRequestSettingsPatch>(&body);
    let s = settings::update_resource(&caller.ctx(&state), &resource_id, patch).await?;
    Ok(render(&s))
}

pub async fn get_org_settings(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(render(&settings::of_org(&state.store).await?))
}

pub async fn update_org_settings(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let patch: OrgRequestSettingsPatch = from_body(&body)?;
    let s = settings::update_org(&caller.ctx(&state), patch).await?;
    Ok(render(&s))
}
