//! `/api/v1/groups`: create, read, list, replace, delete, and memberships.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use steward_core::directory::{self, Group, GROUP_TYPE_OKTA};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, IdKind};
use steward_core::syslog::Target;
use steward_core::timefmt::now_millis;
use steward_store::{AccessRemoved, GroupQuery, StoreError, MAX_PAGE_SIZE};

use super::scim;
use super::users::{self, target as user_target};
use crate::error::{ApiError, ApiResult};
use crate::http::{page_limit, paginate, Caller, OktaJson, OktaQuery, PageQuery};
use crate::{render, AppState};

#[derive(Deserialize)]
pub struct GroupBody {
    profile: Map<String, Value>,
}

pub fn target(g: &Group) -> Target {
    Target::group(g)
}

/// Built-in groups (Everyone) are managed by Steward: their profile and members follow the org.
fn refuse_built_in(group: &Group) -> ApiResult<()> {
    if group.is_built_in() {
        return Err(ApiError::validation(
            "type",
            format!(
                "type: {} is a BUILT_IN group; its profile and members cannot be changed",
                group.name()
            ),
        ));
    }
    Ok(())
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
    directory::validate_group_profile(&body.profile)?;
    let now = now_millis();
    let group = Group {
        id: new_id(IdKind::Group),
        group_type: GROUP_TYPE_OKTA.into(),
        created: now,
        last_updated: now,
        last_membership_updated: now,
        profile: body.profile,
    };
    let mut tx = caller.begin(&state).await?;
    tx.insert_group(&group).await?;
    tx.record(
        DomainEvent::GroupCreated {
            group_id: group.id.clone(),
            actor: caller.actor(),
        },
        &[target(&group)],
    )
    .await?;
    tx.commit().await?;
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
    directory::validate_group_profile(&body.profile)?;
    let mut group = find(&state, &id).await?;
    refuse_built_in(&group)?;
    group.profile = body.profile;
    group.last_updated = now_millis();
    let mut tx = caller.begin(&state).await?;
    tx.update_group(&group).await?;
    tx.record(
        DomainEvent::GroupUpdated {
            group_id: group.id.clone(),
            actor: caller.actor(),
        },
        &[target(&group)],
    )
    .await?;
    tx.commit().await?;
    Ok(Json(render::group(&state.config.issuer, &group)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let group = find(&state, &id).await?;
    refuse_built_in(&group)?;
    let mut tx = caller.begin(&state).await?;
    tx.delete_group(&group.id).await?;
    tx.record(
        DomainEvent::GroupDeleted {
            group_id: group.id.clone(),
            actor: caller.actor(),
        },
        &[target(&group)],
    )
    .await?;
    tx.commit().await?;
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
    refuse_built_in(&group)?;
    let user = users::find(&state, &caller, &user_id).await?;
    let mut tx = caller.begin(&state).await?;
    // A group or user deleted since the lookups above is NotFound (404), as if looked up now.
    if tx.add_member(&group.id, &user.id, now_millis()).await? {
        tx.record(
            DomainEvent::GroupMembershipAdded {
                group_id: group.id.clone(),
                user_id: user.id.clone(),
                actor: caller.actor(),
            },
            &[user_target(&user), target(&group)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let group = find(&state, &id).await?;
    refuse_built_in(&group)?;
    let user = users::find(&state, &caller, &user_id).await?;
    let mut tx = caller.begin(&state).await?;
    let mut revoked = 0;
    if tx.remove_member(&group.id, &user.id, now_millis()).await? {
        revoked = tx
            .revoke_unassigned_tokens(AccessRemoved::GroupMember {
                group_id: &group.id,
                user_id: &user.id,
            })
            .await?;
        tx.record(
            DomainEvent::GroupMembershipRemoved {
                group_id: group.id.clone(),
                user_id: user.id.clone(),
                actor: caller.actor(),
            },
            &[user_target(&user), target(&group)],
        )
        .await?;
    }
    tx.commit().await?;
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
