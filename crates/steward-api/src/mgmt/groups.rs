//! `/api/v1/groups`: create, read, list, replace, delete, and memberships.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use steward_core::directory::Group;
use steward_store::{GroupQuery, StoreError, MAX_PAGE_SIZE};

use super::scim;
use super::users;
use crate::error::{ApiError, ApiResult};
use crate::http::{page_limit, paginate, Caller, OktaJson, OktaQuery, PageQuery};
use crate::{render, AppState};

#[derive(Deserialize)]
pub struct GroupBody {
    profile: Map<String, Value>,
}

async fn find(state: &AppState, id: &str) -> ApiResult<Group> {
    state.store.group(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(format!("{id} (UserGroup)")),
        other => other.into(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<GroupBody>,
) -> ApiResult<Json<Value>> {
    let group = steward_app::groups::create(&caller.ctx(&state), body.profile).await?;
    Ok(Json(render::group(&state.config.issuer, &group)))
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(render::group(
        &state.config.issuer,
        &find(&state, &id).await?,
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: Option<String>,
    filter: Option<String>,
    search: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    OktaQuery(query): OktaQuery<ListQuery>,
) -> ApiResult<Response> {
    // Okta's default and largest page of groups; one more row is fetched to know whether a
    // next page exists.
    let limit = page_limit(query.limit.as_deref(), MAX_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let filter = scim(query.filter.as_deref(), query.search.as_deref())?;
    let rows = state
        .store
        .groups(&GroupQuery {
            q: query.q.clone(),
            filter,
            after: query.after.clone(),
            limit: limit + 1,
        })
        .await?;
    let (rows, links) = paginate(&state.config.issuer, &uri, rows, limit, |g| g.id.clone());
    let body: Vec<_> = rows
        .iter()
        .map(|g| render::group(&state.config.issuer, g))
        .collect();
    Ok((links, Json(body)).into_response())
}

pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<GroupBody>,
) -> ApiResult<Json<Value>> {
    let group = steward_app::groups::replace(&caller.ctx(&state), &id, body.profile).await?;
    Ok(Json(render::group(&state.config.issuer, &group)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    steward_app::groups::delete(&caller.ctx(&state), &id).await?;
    // Its members' tokens for the apps it was assigned to may have been revoked.
    state.auth.learn_revocations(&state.store).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn members(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    OktaQuery(query): OktaQuery<PageQuery>,
) -> ApiResult<Response> {
    let group = find(&state, &id).await?;
    let limit = page_limit(query.limit.as_deref(), 1000, 1000)?;
    let rows = state
        .store
        .group_members(&group.id, query.after.as_deref(), limit + 1)
        .await?;
    let (rows, links) = paginate(&state.config.issuer, &uri, rows, limit, |u| u.id.clone());
    let body: Vec<_> = rows
        .iter()
        .map(|u| render::user_in_list(&state.config.issuer, u))
        .collect();
    Ok((links, Json(body)).into_response())
}

pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let group = find(&state, &id).await?;
    steward_app::groups::refuse_built_in(&group)?;
    let user = users::find(&state, &caller, &user_id).await?;
    steward_app::groups::add_member(&caller.ctx(&state), &group, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let group = find(&state, &id).await?;
    steward_app::groups::refuse_built_in(&group)?;
    let user = users::find(&state, &caller, &user_id).await?;
    let revoked = steward_app::groups::remove_member(&caller.ctx(&state), &group, &user).await?;
    if revoked > 0 {
        state.auth.learn_revocations(&state.store).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The Groups routes.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Need, Routes};
    use steward_core::roles::Permission;
    const READ: Need = need("okta.groups.read", Permission::GroupsRead);
    const MANAGE: Need = need("okta.groups.manage", Permission::GroupsManage);
    Routes::new("Groups")
        .get("/api/v1/groups", READ, list)
        .post("/api/v1/groups", MANAGE, create)
        .get("/api/v1/groups/{id}", READ, get)
        .put("/api/v1/groups/{id}", MANAGE, replace)
        .delete("/api/v1/groups/{id}", MANAGE, delete)
        .get("/api/v1/groups/{id}/users", READ, members)
        .put("/api/v1/groups/{id}/users/{userId}", MANAGE, add_member)
        .delete("/api/v1/groups/{id}/users/{userId}", MANAGE, remove_member)
}
