//! Request settings: per resource and org-wide.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;
use steward_core::access_requests::conditions::{
    OrgRequestSettings, OrgRequestSettingsPatch, ResourceRequestSettings,
    ResourceRequestSettingsPatch,
};
use steward_core::access_requests::from_body;
use steward_core::syslog::Target;

use crate::error::{ApiError, ApiResult};
use crate::http::{Caller, OktaJson};
use crate::AppState;

use super::{log, resource};

pub(super) async fn resource_settings(
    state: &AppState,
    resource_id: &str,
) -> ApiResult<ResourceRequestSettings> {
    Ok(state
        .store
        .access_requests()
        .settings::<ResourceRequestSettings>(resource_id)
        .await?
        .unwrap_or_else(|| ResourceRequestSettings::for_app(true, false)))
}

pub async fn get_resource_settings(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let s = resource_settings(&state, &app.id).await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()))
}

pub async fn update_resource_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(resource_id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let patch: ResourceRequestSettingsPatch = from_body(&body)?;
    let mut s = resource_settings(&state, &app.id).await?;
    s.apply(patch)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.access_requests().put_settings(&app.id, &s).await?;
    tx.append_log(
        &log(
            &caller,
            "access.request.settings.update",
            "Update resource request settings",
            now,
        )
        .target(Target::app(&app)),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()))
}

async fn org_settings(state: &AppState) -> ApiResult<OrgRequestSettings> {
    Ok(state
        .store
        .access_requests()
        .settings::<OrgRequestSettings>("org")
        .await?
        .unwrap_or_default())
}

pub async fn get_org_settings(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(
        serde_json::to_value(org_settings(&state).await?).unwrap_or_default(),
    ))
}

pub async fn update_org_settings(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let patch: OrgRequestSettingsPatch = from_body(&body)?;
    // Steward has no Slack or other integrations: only an empty list of them is accepted.
    if let Some(i) = &patch.integrations {
        let empty = match i.get("settings") {
            None => i.is_object(),
            Some(settings) => settings.as_array().is_some_and(Vec::is_empty),
        };
        if !empty {
            return Err(ApiError::validation(
                "integrations",
                "/integrations Steward supports no Access Requests integrations",
            ));
        }
    }
    let mut s = org_settings(&state).await?;
    s.apply(patch);
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.access_requests().put_settings("org", &s).await?;
    tx.append_log(&log(
        &caller,
        "access.request.settings.update",
        "Update org request settings",
        now,
    ))
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()))
}
