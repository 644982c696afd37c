//! An application's Assignments tab: the people assigned (directly, or through a group) and the
//! groups assigned, each list paged; Assign to people (a user found by login, name or email
//! prefix), Assign to groups (a group found by name prefix), Unassign. Changes go through the
//! API's use cases (`steward_app::apps::{assign_user, unassign_user, assign_group,
//! unassign_group}`); `AppsRead` sees the tab, `AppsManage` changes it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use steward_core::apps::App;
use steward_core::roles::Permission;
use steward_store::{GroupQuery, StoreError, UserQuery};

use crate::apps::{self, app_json, manage_reason};
use crate::pages::{self, encode, render, see_other};
use crate::session::Admin;
use crate::Console;

/// Rows per page of each list.
const PAGE: usize = 50;
/// Users or groups a search offers.
const FOUND: usize = 10;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AssignmentsQuery {
    /// Cursor of the people list (a user id).
    after: Option<String>,
    /// Cursor of the groups list (a group id).
    gafter: Option<String>,
    /// People to assign: a login, name or email prefix.
    user_q: Option<String>,
    /// Groups to assign: a name prefix.
    group_q: Option<String>,
    /// What was just done: `user-assigned`, `user-removed`, `group-assigned`, `group-removed`.
    done: Option<String>,
    /// Whom it was done to (a user or group id).
    who: Option<String>,
}

#[derive(Serialize)]
struct PersonRow {
    id: String,
    name: String,
    login: String,
    /// Assigned directly (`USER`), or only through a group (`GROUP`).
    direct: bool,
    assigned: String,
}

#[derive(Serialize)]
struct GroupRow {
    id: String,
    name: String,
    description: String,
    assigned: String,
    /// Why it may not be unassigned here, when it may not.
    protected: Option<&'static str>,
}

#[derive(Serialize)]
struct Candidate {
    id: String,
    name: String,
    detail: String,
    assigned: bool,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Everyone's assignment to the console's own app is what lets every user sign in to it (the
/// dashboard, and admins to the console).
const EVERYONE_ON_CONSOLE: &str = "Everyone's assignment lets users sign in to the Admin Console \
                                   and the dashboard through this app: it is not removed here.";

/// The lists, searches and notice of the tab, read from the store.
async fn load(
    console: &Console,
    app: &App,
    q: &AssignmentsQuery,
) -> Result<serde_json::Value, StoreError> {
    let store = &console.api.store;
    let fmt = steward_core::timefmt::format_millis;
    let assigned = store.app_users(&app.id, blank(&q.after), PAGE + 1).await?;
    // The page's people and groups are named in one query each.
    let user_ids: Vec<String> = assigned
        .iter()
        .take(PAGE)
        .map(|a| a.user_id.clone())
        .collect();
    let users: HashMap<String, (String, String)> = store
        .users_by_ids(&user_ids)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), (u.display_name(), u.login().to_string())))
        .collect();
    let mut people = Vec::with_capacity(assigned.len().min(PAGE));
    for a in assigned.iter().take(PAGE) {
        let (name, login) = users
            .get(&a.user_id)
            .cloned()
            .unwrap_or_else(|| (a.user_id.clone(), String::new()));
        people.push(PersonRow {
            id: a.user_id.clone(),
            name,
            login,
            direct: a.scope == "USER",
            assigned: fmt(a.created),
        });
    }
    let next_people = (assigned.len() > PAGE)
        .then(|| people.last().map(|p| p.id.clone()))
        .flatten();

    let everyone = store.everyone_group().await.ok().map(|g| g.id);
    let on_console = apps::is_console_app(app);
    let group_rows = store
        .app_groups(&app.id, blank(&q.gafter), PAGE + 1)
        .await?;
    let group_ids: Vec<String> = group_rows
        .iter()
        .take(PAGE)
        .map(|a| a.group_id.clone())
        .collect();
    let named: HashMap<String, (String, String)> = store
        .groups_by_ids(&group_ids)
        .await?
        .into_iter()
        .map(|g| {
            let description = g
                .profile
                .get("description")
                .and_then(|d| d.as_str())
                .unwrap_or_default()
                .to_string();
            (g.id.clone(), (g.name().to_string(), description))
        })
        .collect();
    let mut groups = Vec::with_capacity(group_rows.len().min(PAGE));
    for a in group_rows.iter().take(PAGE) {
        let (name, description) = named
            .get(&a.group_id)
            .cloned()
            .unwrap_or_else(|| (a.group_id.clone(), String::new()));
        let protected = (on_console && everyone.as_deref() == Some(a.group_id.as_str()))
            .then_some(EVERYONE_ON_CONSOLE);
        groups.push(GroupRow {
            id: a.group_id.clone(),
            name,
            description,
            assigned: fmt(a.created),
            protected,
        });
    }
    let next_groups = (group_rows.len() > PAGE)
        .then(|| groups.last().map(|g| g.id.clone()))
        .flatten();

    let user_q = blank(&q.user_q);
    let mut users_found = Vec::new();
    if let Some(search) = user_q {
        let found = store
            .users(&UserQuery {
                q: Some(search.to_lowercase()),
                limit: FOUND,
                ..Default::default()
            })
            .await?;
        for u in found {
            let assigned =
                matches!(store.app_user(&app.id, &u.id).await, Ok(a) if a.scope == "USER");
            users_found.push(Candidate {
                name: u.display_name(),
                detail: u.login().to_string(),
                id: u.id,
                assigned,
            });
        }
    }
    let group_q = blank(&q.group_q);
    let mut groups_found = Vec::new();
    if let Some(search) = group_q {
        let found = store
            .groups(&GroupQuery {
                q: Some(search.to_lowercase()),
                limit: FOUND,
                ..Default::default()
            })
            .await?;
        for g in found {
            let assigned = store.app_group(&app.id, &g.id).await.is_ok();
            groups_found.push(Candidate {
                name: g.name().to_string(),
                detail: g.group_type.clone(),
                id: g.id,
                assigned,
            });
        }
    }

    // Only what the store confirms is announced.
    let notice = match (q.done.as_deref(), q.who.as_deref()) {
        (Some(done), Some(who)) if done.starts_with("user-") => {
            let direct = matches!(store.app_user(&app.id, who).await, Ok(a) if a.scope == "USER");
            let login = store.user(who).await.ok().map(|u| u.login().to_string());
            match (done, direct, login) {
                ("user-assigned", true, Some(l)) => Some(format!("Assigned {l} to {}.", app.label)),
                ("user-removed", false, Some(l)) => {
                    Some(format!("Unassigned {l} from {}.", app.label))
                }
                _ => None,
            }
        }
        (Some(done), Some(who)) => {
            let assigned = store.app_group(&app.id, who).await.is_ok();
            let name = store.group(who).await.ok().map(|g| g.name().to_string());
            match (done, assigned, name) {
                ("group-assigned", true, Some(n)) => {
                    Some(format!("Assigned the group {n} to {}.", app.label))
                }
                ("group-removed", false, Some(n)) => {
                    Some(format!("Unassigned the group {n} from {}.", app.label))
                }
                _ => None,
            }
        }
        _ => None,
    };
    let here = format!("/admin/apps/{}/assignments", encode(&app.id));
    Ok(json!({
        "people": people,
        "groups": groups,
        "next_people": next_people.map(|c| format!("{here}?after={}&gafter={}", encode(&c), encode(blank(&q.gafter).unwrap_or_default()))),
        "next_groups": next_groups.map(|c| format!("{here}?after={}&gafter={}", encode(blank(&q.after).unwrap_or_default()), encode(&c))),
        "user_q": user_q.unwrap_or_default(),
        "group_q": group_q.unwrap_or_default(),
        "users_found": users_found,
        "groups_found": groups_found,
        "notice": notice,
    }))
}

/// `GET /admin/apps/{id}/assignments`.
pub async fn page(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<AssignmentsQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::AppsRead, "Viewing applications") {
        return refused;
    }
    let app = match apps::find(&console, &admin, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut context = match load(&console, &app, &q).await {
        Ok(c) => c,
        Err(e) => return pages::app_error(e.into()),
    };
    context["me"] = json!(admin.me());
    context["section"] = json!("apps");
    context["tab"] = json!("assignments");
    context["app"] = app_json(&app);
    context["may_scopes"] = json!(admin.may(Permission::AppGrantsRead));
    context["may_manage"] = json!(admin.may(Permission::AppsManage));
    context["manage_reason"] = json!(manage_reason(&admin));
    render(StatusCode::OK, "app_assignments.html", context)
}

fn back(app: &App, done: &str, who: &str) -> Response {
    see_other(&format!(
        "/admin/apps/{}/assignments?done={done}&who={}",
        encode(&app.id),
        encode(who)
    ))
}

/// A change's form and app, once the admin may change assignments; else the refusal.
async fn change(
    console: &Console,
    admin: &Admin,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
) -> Result<(std::collections::HashMap<String, String>, App), Response> {
    let form = admin
        .change_form(console, headers, body, Permission::AppsManage, what)
        .map_err(|r| *r)?;
    let app = apps::find(console, admin, id).await?;
    Ok((form, app))
}

fn not_found(what: &str) -> Response {
    pages::message(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("There is no such {what}."),
    )
}

/// `POST /admin/apps/{id}/assignments/users` (`csrf`, `user_id`): `apps::assign_user`, as
/// `POST /api/v1/apps/{id}/users`. A user assigned directly already keeps their assignment
/// (and its profile) as it is.
pub async fn assign_user(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, app) = match change(
        &console,
        &admin,
        &id,
        &headers,
        &body,
        "Assigning people to an application",
    )
    .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    let user_id = form.get("user_id").map(String::as_str).unwrap_or_default();
    let store = &console.api.store;
    let user = match store.user(user_id).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => return not_found("user"),
        Err(e) => return pages::app_error(e.into()),
    };
    match store.app_user(&app.id, &user.id).await {
        Ok(a) if a.scope == "USER" => return back(&app, "user-assigned", &user.id),
        Ok(_) | Err(StoreError::NotFound) => {}
        Err(e) => return pages::app_error(e.into()),
    }
    match steward_app::apps::assign_user(&admin.ctx(&console), &app, &user, Map::new()).await {
        Ok(_) => back(&app, "user-assigned", &user.id),
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/apps/{id}/assignments/users/{userId}/remove` (`csrf`): `apps::unassign_user`,
/// as `DELETE /api/v1/apps/{id}/users/{userId}` (the tokens it gave are revoked).
pub async fn unassign_user(
    State(console): State<Console>,
    admin: Admin,
    Path((id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, app) = match change(
        &console,
        &admin,
        &id,
        &headers,
        &body,
        "Unassigning people from an application",
    )
    .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    let user = match console.api.store.user(&user_id).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => return not_found("user"),
        Err(e) => return pages::app_error(e.into()),
    };
    match steward_app::apps::unassign_user(&admin.ctx(&console), &app, &user, &user_id).await {
        Ok(revoked) => {
            if revoked > 0 {
                console.api.auth.learn_revocations(&console.api.store).await;
            }
            back(&app, "user-removed", &user.id)
        }
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/apps/{id}/assignments/groups` (`csrf`, `group_id`): `apps::assign_group`, as
/// `PUT /api/v1/apps/{id}/groups/{groupId}`. A group assigned already keeps its assignment.
pub async fn assign_group(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, app) = match change(
        &console,
        &admin,
        &id,
        &headers,
        &body,
        "Assigning groups to an application",
    )
    .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    let group_id = form.get("group_id").map(String::as_str).unwrap_or_default();
    let store = &console.api.store;
    let group = match store.group(group_id).await {
        Ok(g) => g,
        Err(StoreError::NotFound) => return not_found("group"),
        Err(e) => return pages::app_error(e.into()),
    };
    match store.app_group(&app.id, &group.id).await {
        Ok(_) => return back(&app, "group-assigned", &group.id),
        Err(StoreError::NotFound) => {}
        Err(e) => return pages::app_error(e.into()),
    }
    match steward_app::apps::assign_group(&admin.ctx(&console), &app, &group, 0, Map::new()).await {
        Ok(_) => back(&app, "group-assigned", &group.id),
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/apps/{id}/assignments/groups/{groupId}/remove` (`csrf`):
/// `apps::unassign_group`, as `DELETE /api/v1/apps/{id}/groups/{groupId}`. Everyone stays
/// assigned to the console's own app.
pub async fn unassign_group(
    State(console): State<Console>,
    admin: Admin,
    Path((id, group_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, app) = match change(
        &console,
        &admin,
        &id,
        &headers,
        &body,
        "Unassigning groups from an application",
    )
    .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    if apps::is_console_app(&app) {
        match console.api.store.everyone_group().await {
            Ok(everyone) if everyone.id == group_id => {
                return pages::message(
                    StatusCode::FORBIDDEN,
                    "You may not do this",
                    EVERYONE_ON_CONSOLE,
                )
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return pages::app_error(e.into()),
        }
    }
    match steward_app::apps::unassign_group(&admin.ctx(&console), &app, &group_id).await {
        Ok(revoked) => {
            if revoked > 0 {
                console.api.auth.learn_revocations(&console.api.store).await;
            }
            back(&app, "group-removed", &group_id)
        }
        Err(e) => pages::app_error(e),
    }
}
