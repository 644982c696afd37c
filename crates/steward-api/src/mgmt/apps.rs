//! `/api/v1/apps`: OpenID Connect applications, their lifecycle and their user and group
//! assignments.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use steward_core::apps::{App, OidcClient, SIGN_ON_MODE_OIDC};
use steward_core::roles::{may_write, WriteTarget};
use steward_core::syslog::Target;
use steward_store::{AppQuery, PrincipalType, StoreError};

use super::scim;
use super::users;
use crate::error::{ApiError, ApiResult};
use crate::http::{page_limit, paginate, Caller, OktaJson, OktaQuery, PageQuery};
use crate::{render, AppState};

#[derive(Deserialize)]
pub struct AppBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(rename = "signOnMode", default)]
    sign_on_mode: Option<String>,
    #[serde(default)]
    settings: Value,
    #[serde(default)]
    credentials: Value,
}

pub fn target(a: &App) -> Target {
    Target::app(a)
}

pub async fn find(state: &AppState, id: &str) -> ApiResult<App> {
    state.store.app(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(format!("{id} (App)")),
        other => other.into(),
    })
}

/// Refuses (403 E0000006) a change to `app` when it holds an ACTIVE Okta API scope grant or an
/// admin role and the caller is not a Super Admin: whoever controls its keys, secret, redirect
/// URIs or lifecycle controls those privileges.
pub(super) async fn check_may_change(
    state: &AppState,
    caller: &Caller,
    app: &App,
) -> ApiResult<()> {
    if caller.principal.is_super_admin() {
        return Ok(()); // nothing is above a Super Admin: no need to look at the target
    }
    let roles = state.store.roles_of(PrincipalType::Client, &app.id).await?;
    let active_grants = state
        .store
        .app_grants(&app.id)
        .await?
        .iter()
        .any(|g| g.status == "ACTIVE");
    let target = WriteTarget::App {
        roles: &roles,
        active_grants,
    };
    if may_write(&caller.principal.roles, target) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The label, sign-on mode and OIDC settings of a create or replace body, checked.
fn parse_body(body: &AppBody) -> ApiResult<(String, OidcClient)> {
    let label = body.label.as_deref().map(str::trim).unwrap_or_default();
    if label.is_empty() {
        return Err(ApiError::validation(
            "label",
            "label: The field cannot be left blank",
        ));
    }
    let mode = body.sign_on_mode.as_deref().unwrap_or_default();
    if mode != SIGN_ON_MODE_OIDC {
        return Err(ApiError::validation(
            "signOnMode",
            format!("signOnMode: '{mode}' is not supported; Steward serves OPENID_CONNECT apps"),
        ));
    }
    let null = Value::Null;
    let oidc = OidcClient::from_request(
        body.settings.get("oauthClient").unwrap_or(&null),
        body.credentials.get("oauthClient").unwrap_or(&null),
    )?;
    Ok((label.to_string(), oidc))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateQuery {
    activate: Option<bool>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    OktaQuery(query): OktaQuery<CreateQuery>,
    OktaJson(body): OktaJson<AppBody>,
) -> ApiResult<Json<Value>> {
    let (label, oidc) = parse_body(&body)?;
    let new = steward_app::apps::NewApp {
        name: body.name.clone(),
        label,
        oidc,
        client_id: body
            .credentials
            .pointer("/oauthClient/client_id")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        activate: query.activate.unwrap_or(true),
    };
    let (app, secret) = steward_app::apps::create(&caller.ctx(&state), new).await?;
    Ok(Json(render::app(
        &state.config.issuer,
        &app,
        secret.as_deref(),
    )))
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(render::app(
        &state.config.issuer,
        &find(&state, &id).await?,
        None,
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: Option<String>,
    filter: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    OktaQuery(query): OktaQuery<ListQuery>,
) -> ApiResult<Response> {
    let limit = page_limit(query.limit.as_deref(), 20, 200)?;
    let filter = scim(query.filter.as_deref(), None)?;
    let rows = state
        .store
        .apps(&AppQuery {
            q: query.q.clone(),
            filter,
            after: query.after.clone(),
            limit: limit + 1,
        })
        .await?;
    let (rows, links) = paginate(&state.config.issuer, &uri, rows, limit, |a| a.id.clone());
    let body: Vec<_> = rows
        .iter()
        .map(|a| render::app(&state.config.issuer, a, None))
        .collect();
    Ok((links, Json(body)).into_response())
}

pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<AppBody>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    check_may_change(&state, &caller, &app).await?;
    let (label, oidc) = parse_body(&body)?;
    let app = steward_app::apps::replace(&caller.ctx(&state), &app.id, label, oidc).await?;
    Ok(Json(render::app(&state.config.issuer, &app, None)))
}

pub async fn lifecycle(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, op)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let active = match op.as_str() {
        "activate" => true,
        "deactivate" => false,
        other => return Err(ApiError::not_found(format!("lifecycle operation {other}"))),
    };
    let app = find(&state, &id).await?;
    // Reactivating counts too: it brings a privileged client back into service.
    check_may_change(&state, &caller, &app).await?;
    if steward_app::apps::set_status(&caller.ctx(&state), &app, active).await? && !active {
        // The change is committed: report success; the once-a-second revocation poll catches up.
        if let Err(e) = state.auth.refresh_revocations(&state.store).await {
            tracing::warn!(error = %e, app = %app.id, "could not refresh revocations after deactivating an app");
        }
    }
    Ok(StatusCode::OK)
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let app = find(&state, &id).await?;
    check_may_change(&state, &caller, &app).await?;
    steward_app::apps::delete(&caller.ctx(&state), &app)
        .await?
        .map_err(|steward_app::apps::StillActive| ApiError::DeleteActiveApp)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_users(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    OktaQuery(query): OktaQuery<PageQuery>,
) -> ApiResult<Response> {
    let app = find(&state, &id).await?;
    let limit = page_limit(query.limit.as_deref(), 50, 500)?;
    let rows = state
        .store
        .app_users(&app.id, query.after.as_deref(), limit + 1)
        .await?;
    let (page, links) = paginate(&state.config.issuer, &uri, rows, limit, |a| {
        a.user_id.clone()
    });
    let mut body = Vec::with_capacity(page.len());
    for assignment in &page {
        let user = state.store.user(&assignment.user_id).await?;
        body.push(render::app_user(&state.config.issuer, assignment, &user));
    }
    Ok((links, Json(body)).into_response())
}

#[derive(Deserialize)]
pub struct AssignUserBody {
    id: String,
    #[serde(default)]
    profile: Map<String, Value>,
}

pub async fn assign_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<AssignUserBody>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let user = users::find(&state, &caller, &body.id).await?;
    let assignment =
        steward_app::apps::assign_user(&caller.ctx(&state), &app, &user, body.profile).await?;
    Ok(Json(render::app_user(
        &state.config.issuer,
        &assignment,
        &user,
    )))
}

pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let user = users::find(&state, &caller, &user_id).await?;
    let assignment = state
        .store
        .app_user(&app.id, &user.id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(format!("{user_id} (AppUser)")),
            other => other.into(),
        })?;
    Ok(Json(render::app_user(
        &state.config.issuer,
        &assignment,
        &user,
    )))
}

pub async fn unassign_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let app = find(&state, &id).await?;
    let user = users::find(&state, &caller, &user_id).await?;
    let revoked =
        steward_app::apps::unassign_user(&caller.ctx(&state), &app, &user, &user_id).await?;
    if revoked > 0 {
        state.auth.learn_revocations(&state.store).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_groups(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    OktaQuery(query): OktaQuery<PageQuery>,
) -> ApiResult<Response> {
    let app = find(&state, &id).await?;
    let limit = page_limit(query.limit.as_deref(), 20, 200)?;
    let rows = state
        .store
        .app_groups(&app.id, query.after.as_deref(), limit + 1)
        .await?;
    let (rows, links) = paginate(&state.config.issuer, &uri, rows, limit, |a| {
        a.group_id.clone()
    });
    let body: Vec<_> = rows
        .iter()
        .map(|a| render::app_group(&state.config.issuer, a))
        .collect();
    Ok((links, Json(body)).into_response())
}

pub async fn get_group(
    State(state): State<AppState>,
    Path((id, group_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let assignment = state
        .store
        .app_group(&app.id, &group_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::not_found(format!("{group_id} (ApplicationGroupAssignment)"))
            }
            other => other.into(),
        })?;
    Ok(Json(render::app_group(&state.config.issuer, &assignment)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssignGroupBody {
    priority: Option<i64>,
    profile: Map<String, Value>,
}

pub async fn assign_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, group_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    // The body is optional here.
    let body: AssignGroupBody = if body.iter().all(u8::is_ascii_whitespace) {
        AssignGroupBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedBody(e.to_string()))?
    };
    let app = find(&state, &id).await?;
    let group = state.store.group(&group_id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(format!("{group_id} (UserGroup)")),
        other => other.into(),
    })?;
    let ctx = caller.ctx(&state);
    let assignment = steward_app::apps::assign_group(
        &ctx,
        &app,
        &group,
        body.priority.unwrap_or(0),
        body.profile,
    )
    .await?;
    Ok(Json(render::app_group(&state.config.issuer, &assignment)))
}

pub async fn unassign_group(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, group_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let app = find(&state, &id).await?;
    let revoked = steward_app::apps::unassign_group(&caller.ctx(&state), &app, &group_id).await?;
    if revoked > 0 {
        state.auth.learn_revocations(&state.store).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The Apps routes: apps, their lifecycle, and their user and group assignments.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Need, Routes};
    use steward_core::roles::Permission;
    const READ: Need = need("okta.apps.read", Permission::AppsRead);
    const MANAGE: Need = need("okta.apps.manage", Permission::AppsManage);
    Routes::new("Apps")
        .get("/api/v1/apps", READ, list)
        .post("/api/v1/apps", MANAGE, create)
        .get("/api/v1/apps/{id}", READ, get)
        .put("/api/v1/apps/{id}", MANAGE, replace)
        .delete("/api/v1/apps/{id}", MANAGE, delete)
        .post("/api/v1/apps/{id}/lifecycle/{op}", MANAGE, lifecycle)
        .get("/api/v1/apps/{id}/users", READ, list_users)
        .post("/api/v1/apps/{id}/users", MANAGE, assign_user)
        .get("/api/v1/apps/{id}/users/{userId}", READ, get_user)
        .delete("/api/v1/apps/{id}/users/{userId}", MANAGE, unassign_user)
        .get("/api/v1/apps/{id}/groups", READ, list_groups)
        .get("/api/v1/apps/{id}/groups/{groupId}", READ, get_group)
        .put("/api/v1/apps/{id}/groups/{groupId}", MANAGE, assign_group)
        .delete("/api/v1/apps/{id}/groups/{groupId}", MANAGE, unassign_group)
}
