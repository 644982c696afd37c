//! Admin role assignments: to users (`/api/v1/users/{id}/roles`) and to service apps
//! (`/oauth2/v1/clients/{clientId}/roles`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use steward_core::roles::RoleType;
use steward_core::syslog::Target;
use steward_store::{PrincipalType, StoreError};

use super::{apps, users};
use crate::error::{ApiError, ApiResult};
use crate::http::{Caller, OktaJson};
use crate::{render, AppState};

#[derive(Deserialize)]
pub struct AssignBody {
    #[serde(rename = "type")]
    role_type: String,
}

/// The principal a path names: a user, or a client (by `client_id`) resolved to its app.
async fn principal(
    state: &AppState,
    caller: &Caller,
    kind: PrincipalType,
    id: &str,
) -> ApiResult<(String, Target)> {
    match kind {
        PrincipalType::User => {
            let user = users::find(state, caller, id).await?;
            Ok((user.id.clone(), users::target(&user)))
        }
        PrincipalType::Client => {
            let app = state
                .store
                .app_by_client_id(id)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => ApiError::not_found(format!("{id} (Client)")),
                    other => other.into(),
                })?;
            Ok((app.id.clone(), apps::target(&app)))
        }
    }
}

async fn list(
    state: AppState,
    caller: Caller,
    kind: PrincipalType,
    id: String,
) -> ApiResult<Json<Value>> {
    let (principal_id, _) = principal(&state, &caller, kind, &id).await?;
    let assignments = state.store.role_assignments(kind, &principal_id).await?;
    Ok(Json(Value::Array(
        assignments
            .iter()
            .map(|a| render::role(&state.config.issuer, a))
            .collect(),
    )))
}

async fn get(
    state: AppState,
    caller: Caller,
    kind: PrincipalType,
    id: String,
    role_id: String,
) -> ApiResult<Json<Value>> {
    let (principal_id, _) = principal(&state, &caller, kind, &id).await?;
    let assignments = state.store.role_assignments(kind, &principal_id).await?;
    let found = assignments
        .iter()
        .find(|a| a.id == role_id || a.role_type.as_str() == role_id)
        .ok_or_else(|| ApiError::not_found(format!("{role_id} (Role)")))?;
    Ok(Json(render::role(&state.config.issuer, found)))
}

async fn assign(
    state: AppState,
    caller: Caller,
    kind: PrincipalType,
    id: String,
    body: AssignBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let role_type = RoleType::parse(&body.role_type).ok_or_else(|| {
        ApiError::validation(
            "type",
            format!("type: '{}' is not a supported role type", body.role_type),
        )
    })?;
    if !crate::routes::role_is_built(role_type) {
        // Refused rather than assigned: the role would administer nothing Steward serves.
        let unbuilt: Vec<&str> = crate::routes::unbuilt_permissions(role_type)
            .into_iter()
            .map(|p| p.as_str())
            .collect();
        return Err(ApiError::Validation {
            summary: format!(
                "type: {} is not built yet: Steward does not serve the APIs this role administers yet",
                role_type.as_str()
            ),
            causes: vec![format!(
                "type: no route of Steward needs {}; docs/roles.md lists the roles not built yet",
                unbuilt.join(" or ")
            )],
        });
    }
    let (principal_id, target) = principal(&state, &caller, kind, &id).await?;
    let assignment =
        steward_app::roles::assign(&caller.ctx(&state), kind, &principal_id, target, role_type)
            .await?;
    // Okta answers 201 for users and 200 for clients.
    let status = if kind == PrincipalType::User {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(render::role(&state.config.issuer, &assignment)),
    ))
}

async fn unassign(
    state: AppState,
    caller: Caller,
    kind: PrincipalType,
    id: String,
    role_id: String,
) -> ApiResult<StatusCode> {
    let (principal_id, target) = principal(&state, &caller, kind, &id).await?;
    steward_app::roles::unassign(&caller.ctx(&state), kind, &principal_id, target, &role_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_for_user(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    list(s, c, PrincipalType::User, id).await
}
pub async fn get_for_user(
    State(s): State<AppState>,
    c: Caller,
    Path((id, r)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    get(s, c, PrincipalType::User, id, r).await
}
pub async fn assign_to_user(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<AssignBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    assign(s, c, PrincipalType::User, id, body).await
}
pub async fn unassign_from_user(
    State(s): State<AppState>,
    c: Caller,
    Path((id, r)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    unassign(s, c, PrincipalType::User, id, r).await
}
pub async fn list_for_client(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    list(s, c, PrincipalType::Client, id).await
}
pub async fn get_for_client(
    State(s): State<AppState>,
    c: Caller,
    Path((id, r)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    get(s, c, PrincipalType::Client, id, r).await
}
pub async fn assign_to_client(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<AssignBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    assign(s, c, PrincipalType::Client, id, body).await
}
pub async fn unassign_from_client(
    State(s): State<AppState>,
    c: Caller,
    Path((id, r)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    unassign(s, c, PrincipalType::Client, id, r).await
}

const ROLES_READ: crate::routes::Need = crate::routes::need(
    "okta.roles.read",
    steward_core::roles::Permission::RolesRead,
);
const ROLES_MANAGE: crate::routes::Need = crate::routes::need(
    "okta.roles.manage",
    steward_core::roles::Permission::RolesManage,
);

/// The routes of a user's admin roles.
pub(super) fn user_routes() -> crate::routes::Routes {
    crate::routes::Routes::new("User roles")
        .get("/api/v1/users/{id}/roles", ROLES_READ, list_for_user)
        .post("/api/v1/users/{id}/roles", ROLES_MANAGE, assign_to_user)
        .get(
            "/api/v1/users/{id}/roles/{roleId}",
            ROLES_READ,
            get_for_user,
        )
        .delete(
            "/api/v1/users/{id}/roles/{roleId}",
            ROLES_MANAGE,
            unassign_from_user,
        )
}

/// The routes of a service app's admin roles (Management API under `/oauth2/v1/clients`).
pub(super) fn client_routes() -> crate::routes::Routes {
    crate::routes::Routes::new("Client roles")
        .get(
            "/oauth2/v1/clients/{clientId}/roles",
            ROLES_READ,
            list_for_client,
        )
        .post(
            "/oauth2/v1/clients/{clientId}/roles",
            ROLES_MANAGE,
            assign_to_client,
        )
        .get(
            "/oauth2/v1/clients/{clientId}/roles/{roleId}",
            ROLES_READ,
            get_for_client,
        )
        .delete(
            "/oauth2/v1/clients/{clientId}/roles/{roleId}",
            ROLES_MANAGE,
            unassign_from_client,
        )
}
