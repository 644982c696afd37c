//! Groups: the list (search, paging, member counts), Add group, and a group's tabs (Profile
//! with Delete, People with add and remove, Applications). Changes need `GroupsManage` and go
//! through `steward_app::groups`, which refuses to change a BUILT_IN group (Everyone).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use steward_core::directory::Group;
use steward_core::roles::Permission;
use steward_store::{GroupQuery, StoreError, UserQuery};

use super::{form_problem, learn_revocations, when, PAGE, PICK};
use crate::pages::{self, encode, render, see_other};
use crate::session::Admin;
use crate::Console;

fn store_error(e: StoreError) -> Response {
    pages::app_error(e.into())
}

fn group_url(id: &str) -> String {
    format!("/admin/directory/groups/{}", encode(id))
}

fn manage_refusal(admin: &Admin) -> Option<String> {
    (!admin.may(Permission::GroupsManage)).then(|| {
        format!(
            "Changing groups needs the {} role or one above it; your roles: {}.",
            steward_core::roles::least_role_for(Permission::GroupsManage).label(),
            admin.role_labels()
        )
    })
}

const BUILT_IN_REASON: &str =
    "Everyone is a built-in group: every person belongs to it, and it cannot be changed or deleted.";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: Option<String>,
    after: Option<String>,
    deleted: Option<String>,
}

/// `GET /admin/directory/groups?q=&after=`.
pub async fn list(
    State(console): State<Console>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::GroupsRead, "Viewing groups") {
        return refused;
    }
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let store = &console.api.store;
    let groups = match store
        .groups(&GroupQuery {
            q: search.map(str::to_lowercase),
            after: q.after.clone().filter(|a| !a.is_empty()),
            limit: PAGE + 1,
            ..Default::default()
        })
        .await
    {
        Ok(g) => g,
        Err(e) => return store_error(e),
    };
    let more = groups.len() > PAGE;
    let shown: Vec<&Group> = groups.iter().take(PAGE).collect();
    let ids: Vec<String> = shown.iter().map(|g| g.id.clone()).collect();
    let counts = match store.group_member_counts(&ids).await {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    let rows: Vec<Value> = shown
        .iter()
        .map(|g| {
            json!({
                "id": g.id,
                "name": g.name(),
                "description": g.profile.get("description").and_then(Value::as_str),
                "type": g.group_type,
                "members": counts.get(&g.id).copied().unwrap_or(0),
            })
        })
        .collect();
    let next = match (more, shown.last()) {
        (true, Some(last)) => Some(format!(
            "/admin/directory/groups?q={}&after={}",
            encode(search.unwrap_or_default()),
            encode(&last.id)
        )),
        _ => None,
    };
    let refusal = manage_refusal(&admin);
    render(
        StatusCode::OK,
        "dir_groups.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "dir_tab": "groups",
            "q": search.unwrap_or_default(),
            "groups": rows,
            "next": next,
            "notice": q.deleted.as_deref().map(|n| format!("The group {n} was deleted.")),
            "may_create": refusal.is_none(),
            "create_reason": refusal,
        }),
    )
}

/// `GET /admin/directory/groups/new`.
pub async fn new_form(admin: Admin) -> Response {
    if let Some(refused) = admin.require(Permission::GroupsManage, "Adding a group") {
        return refused;
    }
    group_form(&admin, StatusCode::OK, "", "", None)
}

fn group_form(
    admin: &Admin,
    status: StatusCode,
    name: &str,
    description: &str,
    problem: Option<String>,
) -> Response {
    render(
        status,
        "dir_group_new.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "name": name,
            "description": description,
            "problem": problem,
        }),
    )
}

/// `POST /admin/directory/groups` (`name`, `description`, `csrf`): `steward_app::groups::create`,
/// as `POST /api/v1/groups`.
pub async fn create(
    State(console): State<Console>,
    admin: Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::GroupsManage,
        "Adding a group",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let name = form.get("name").map(|s| s.trim()).unwrap_or_default();
    let description = form
        .get("description")
        .map(|s| s.trim())
        .unwrap_or_default();
    let mut profile = Map::new();
    if !name.is_empty() {
        profile.insert("name".into(), Value::String(name.into()));
    }
    if !description.is_empty() {
        profile.insert("description".into(), Value::String(description.into()));
    }
    match steward_app::groups::create(&admin.ctx(&console), profile).await {
        Ok(group) => see_other(&format!("{}?created=1", group_url(&group.id))),
        Err(e) => match form_problem(&e) {
            Some(p) => group_form(&admin, StatusCode::BAD_REQUEST, name, description, Some(p)),
            None => pages::app_error(e),
        },
    }
}

async fn find(console: &Console, admin: &Admin, id: &str) -> Result<Group, Response> {
    steward_app::groups::find(&admin.ctx(console), id)
        .await
        .map_err(pages::app_error)
}

fn group_json(g: &Group) -> Value {
    json!({
        "id": g.id,
        "name": g.name(),
        "description": g.profile.get("description").and_then(Value::as_str),
        "type": g.group_type,
        "built_in": g.is_built_in(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GroupQueryParams {
    created: Option<String>,
}

/// `GET /admin/directory/groups/{id}`: the Profile tab, with Delete.
pub async fn profile(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<GroupQueryParams>,
) -> Response {
    if let Some(refused) = admin.require(Permission::GroupsRead, "Viewing groups") {
        return refused;
    }
    let group = match find(&console, &admin, &id).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let counts = match console
        .api
        .store
        .group_member_counts(std::slice::from_ref(&group.id))
        .await
    {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    let refusal =
        manage_refusal(&admin).or_else(|| group.is_built_in().then(|| BUILT_IN_REASON.to_string()));
    let mut attributes: Vec<(String, String)> = group
        .profile
        .iter()
        .filter(|(k, _)| !["name", "description"].contains(&k.as_str()))
        .map(|(k, v)| {
            let shown = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), shown)
        })
        .collect();
    attributes.sort();
    render(
        StatusCode::OK,
        "dir_group.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "tab": "profile",
            "group": group_json(&group),
            "attributes": attributes,
            "members": counts.get(&group.id).copied().unwrap_or(0),
            "created": when(Some(group.created)),
            "last_updated": when(Some(group.last_updated)),
            "last_membership_updated": when(Some(group.last_membership_updated)),
            "may_delete": refusal.is_none(),
            "delete_reason": refusal,
            "notice": q.created.is_some().then(|| format!("The group {} was added.", group.name())),
        }),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PeopleQuery {
    after: Option<String>,
    uq: Option<String>,
    added: Option<String>,
    removed: Option<String>,
}

/// `GET /admin/directory/groups/{id}/people?after=&uq=`: the members (paged), and people to
/// add (a search by name, email or login).
pub async fn people(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<PeopleQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::GroupsRead, "Viewing groups") {
        return refused;
    }
    let group = match find(&console, &admin, &id).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let store = &console.api.store;
    let after = q.after.as_deref().filter(|a| !a.is_empty());
    let members = match store.group_members(&group.id, after, PAGE + 1).await {
        Ok(m) => m,
        Err(e) => return store_error(e),
    };
    let more = members.len() > PAGE;
    let rows: Vec<Value> = members
        .iter()
        .take(PAGE)
        .map(|u| {
            json!({
                "id": u.id,
                "name": u.display_name(),
                "login": u.login(),
                "status": u.status.as_str(),
            })
        })
        .collect();
    let next = match (more, members.get(PAGE.saturating_sub(1))) {
        (true, Some(last)) => Some(format!(
            "{}/people?after={}",
            group_url(&group.id),
            encode(&last.id)
        )),
        _ => None,
    };
    let search = q.uq.as_deref().map(str::trim).unwrap_or_default();
    let mut candidates = Vec::new();
    if !search.is_empty() && !group.is_built_in() {
        let found = match store
            .users(&UserQuery {
                q: Some(search.to_lowercase()),
                limit: PICK,
                ..Default::default()
            })
            .await
        {
            Ok(u) => u,
            Err(e) => return store_error(e),
        };
        for u in found {
            match store.is_member(&group.id, &u.id).await {
                Ok(true) => {}
                Ok(false) => candidates.push(json!({
                    "id": u.id,
                    "name": u.display_name(),
                    "login": u.login(),
                    "status": u.status.as_str(),
                })),
                Err(e) => return store_error(e),
            }
        }
    }
    let notice = match (&q.added, &q.removed) {
        (Some(uid), _) => match store.is_member(&group.id, uid).await {
            Ok(true) => Some(format!("Added to {}.", group.name())),
            _ => None,
        },
        (_, Some(uid)) => match store.is_member(&group.id, uid).await {
            Ok(false) => Some(format!("Removed from {}.", group.name())),
            _ => None,
        },
        _ => None,
    };
    let refusal =
        manage_refusal(&admin).or_else(|| group.is_built_in().then(|| BUILT_IN_REASON.to_string()));
    render(
        StatusCode::OK,
        "dir_group_people.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "tab": "people",
            "group": group_json(&group),
            "people": rows,
            "next": next,
            "uq": search,
            "searched": !search.is_empty(),
            "candidates": candidates,
            "may_manage": refusal.is_none(),
            "manage_reason": refusal,
            "notice": notice,
            "may_users": admin.may(Permission::UsersRead),
        }),
    )
}

/// `GET /admin/directory/groups/{id}/apps`: the apps the group is assigned to.
pub async fn apps(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = admin.require(Permission::GroupsRead, "Viewing groups") {
        return refused;
    }
    let group = match find(&console, &admin, &id).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let store = &console.api.store;
    let assignments = match store.group_app_assignments(&group.id).await {
        Ok(a) => a,
        Err(e) => return store_error(e),
    };
    let ids: Vec<String> = assignments.iter().map(|a| a.app_id.clone()).collect();
    let apps = match store.apps_by_ids(&ids).await {
        Ok(a) => a,
        Err(e) => return store_error(e),
    };
    let rows: Vec<Value> = assignments
        .iter()
        .filter_map(|a| {
            let app = apps.iter().find(|x| x.id == a.app_id)?;
            Some(json!({
                "app_id": app.id,
                "label": app.label,
                "status": app.status,
                "priority": a.priority,
                "assigned": when(Some(a.created)),
            }))
        })
        .collect();
    render(
        StatusCode::OK,
        "dir_group_apps.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "tab": "apps",
            "group": group_json(&group),
            "apps": rows,
            "may_apps": admin.may(Permission::AppsRead),
        }),
    )
}

/// `GET /admin/directory/groups/{id}/delete`: Delete, asked again.
pub async fn confirm_delete(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = admin.require(Permission::GroupsManage, "Deleting a group") {
        return refused;
    }
    let group = match find(&console, &admin, &id).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    render(
        StatusCode::OK,
        "dir_confirm.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "title": format!("Delete {}?", group.name()),
            "what": format!("Delete the group {}", group.name()),
            "consequence": "Its members leave it, and lose the apps they had only through it \
                            (their tokens for those apps end). This cannot be undone.",
            "action": format!("{}/delete", group_url(&group.id)),
            "button": "Delete",
            "back": group_url(&group.id),
            "allowed": !group.is_built_in(),
            "refused_reason": group.is_built_in().then_some(BUILT_IN_REASON),
        }),
    )
}

fn unconfirmed() -> Response {
    pages::message(
        StatusCode::BAD_REQUEST,
        "Not confirmed",
        "Tick the box that confirms the change, then try again. Nothing was changed.",
    )
}

/// `POST /admin/directory/groups/{id}/delete` (`csrf`, `confirm`): `steward_app::groups::delete`,
/// as `DELETE /api/v1/groups/{id}` (a BUILT_IN group is refused).
pub async fn delete(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::GroupsManage,
        "Deleting a group",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    if form.get("confirm").map(String::as_str) != Some("yes") {
        return unconfirmed();
    }
    match steward_app::groups::delete(&admin.ctx(&console), &id).await {
        Ok(group) => {
            learn_revocations(&console).await;
            see_other(&format!(
                "/admin/directory/groups?deleted={}",
                encode(group.name())
            ))
        }
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/directory/groups/{id}/people` (`user`, `csrf`): adds a member
/// (`steward_app::groups::add_member`).
pub async fn add_member(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::GroupsManage,
        "Changing group memberships",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let user_id = form.get("user").cloned().unwrap_or_default();
    member_change(&console, &admin, &id, &user_id, true).await
}

/// `POST /admin/directory/groups/{id}/people/{userId}/remove` (`csrf`): removes a member
/// (`steward_app::groups::remove_member`).
pub async fn remove_member(
    State(console): State<Console>,
    admin: Admin,
    Path((id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = admin.change_form(
        &console,
        &headers,
        &body,
        Permission::GroupsManage,
        "Changing group memberships",
    ) {
        return *refused;
    }
    member_change(&console, &admin, &id, &user_id, false).await
}

async fn member_change(
    console: &Console,
    admin: &Admin,
    group_id: &str,
    user_id: &str,
    add: bool,
) -> Response {
    let ctx = admin.ctx(console);
    let group = match steward_app::groups::find(&ctx, group_id).await {
        Ok(g) => g,
        Err(e) => return pages::app_error(e),
    };
    let user = match console.api.store.user(user_id).await {
        Ok(u) => u,
        Err(e) => {
            return pages::app_error(steward_app::AppError::not_found_as(format!(
                "{user_id} (User)"
            ))(e))
        }
    };
    let done = if add {
        steward_app::groups::add_member(&ctx, &group, &user)
            .await
            .map(|_| "added")
    } else {
        match steward_app::groups::remove_member(&ctx, &group, &user).await {
            Ok(revoked) => {
                if revoked > 0 {
                    learn_revocations(console).await;
                }
                Ok("removed")
            }
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(what) => see_other(&format!(
            "{}/people?{what}={}",
            group_url(&group.id),
            encode(&user.id)
        )),
        Err(e) => pages::app_error(e),
    }
}
