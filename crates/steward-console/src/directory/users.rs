//! People: the list (search, status filter, paging), Add person, and a person's tabs (Profile
//! with the lifecycle actions, Groups, Applications).
//!
//! Lifecycle actions are the ones `steward_core::directory::transition` allows from the
//! person's status (the API's `/lifecycle/{op}` rules); they need `UsersManage`, and a Super
//! Admin can only be changed by a Super Admin (the API's `check_may_change`). Deactivate and
//! Delete are confirmed on a page of their own (a box to tick, no script). Membership changes
//! need `GroupsManage`.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use steward_app::users::{Deletion, NewUser};
use steward_app::AppError;
use steward_core::directory::{self, Lifecycle, User, UserStatus};
use steward_core::roles::{may_write, Permission, RoleType, WriteTarget};
use steward_store::{GroupQuery, PrincipalType, StoreError, UserQuery};

use super::{form_problem, learn_revocations, status_change_error, when, PAGE, PICK};
use crate::pages::{self, encode, render, see_other};
use crate::session::Admin;
use crate::Console;

fn store_error(e: StoreError) -> Response {
    pages::app_error(e.into())
}

fn user_url(id: &str) -> String {
    format!("/admin/directory/users/{}", encode(id))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    after: Option<String>,
    deleted: Option<String>,
}

#[derive(Serialize)]
struct PersonRow {
    id: String,
    name: String,
    login: String,
    email: String,
    status: &'static str,
    roles: Vec<&'static str>,
}

fn row(u: &User, roles: &HashMap<String, Vec<&'static str>>) -> PersonRow {
    PersonRow {
        id: u.id.clone(),
        name: u.display_name(),
        login: u.login().to_string(),
        email: u.email().to_string(),
        status: u.status.as_str(),
        roles: roles.get(&u.id).cloned().unwrap_or_default(),
    }
}

/// The admin roles of every user holding one (one query per role type), for the badges.
async fn role_badges(console: &Console) -> Result<HashMap<String, Vec<&'static str>>, Response> {
    let mut badges: HashMap<String, Vec<&'static str>> = HashMap::new();
    for role in RoleType::ALL {
        let ids = console
            .api
            .store
            .users_with_role(role)
            .await
            .map_err(store_error)?;
        for id in ids {
            badges.entry(id).or_default().push(role.label());
        }
    }
    Ok(badges)
}

/// `GET /admin/directory/users?q=&status=&after=`.
pub async fn list(
    State(console): State<Console>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::UsersRead, "Viewing people") {
        return refused;
    }
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let status_name = q.status.as_deref().filter(|s| !s.is_empty());
    let status = match status_name.map(|s| (s, UserStatus::parse(s))) {
        None => None,
        Some((_, Some(s))) => Some(s),
        Some((s, None)) => {
            return pages::message(
                StatusCode::BAD_REQUEST,
                "No such status",
                &format!("{s} is not a user status."),
            )
        }
    };
    let filter = match status
        .map(|s| steward_core::filter::parse(&format!("status eq \"{}\"", s.as_str())))
        .transpose()
    {
        Ok(f) => f,
        Err(e) => return pages::message(StatusCode::BAD_REQUEST, "Bad filter", &e.message),
    };
    let users = match console
        .api
        .store
        .users(&UserQuery {
            q: search.map(str::to_lowercase),
            filter,
            include_deprovisioned: status.is_some(),
            after: q.after.clone().filter(|a| !a.is_empty()),
            limit: PAGE + 1,
        })
        .await
    {
        Ok(u) => u,
        Err(e) => return store_error(e),
    };
    let badges = if admin.may(Permission::RolesRead) {
        match role_badges(&console).await {
            Ok(b) => b,
            Err(r) => return r,
        }
    } else {
        HashMap::new()
    };
    let more = users.len() > PAGE;
    let rows: Vec<PersonRow> = users.iter().take(PAGE).map(|u| row(u, &badges)).collect();
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(format!(
            "/admin/directory/users?q={}&status={}&after={}",
            encode(search.unwrap_or_default()),
            encode(status_name.unwrap_or_default()),
            encode(&last.id)
        )),
        _ => None,
    };
    let notice = q
        .deleted
        .as_deref()
        .map(|login| format!("{login} was deleted."));
    render(
        StatusCode::OK,
        "dir_people.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "dir_tab": "people",
            "q": search.unwrap_or_default(),
            "status": status_name.unwrap_or_default(),
            "statuses": UserStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "people": rows,
            "next": next,
            "notice": notice,
            "may_create": admin.may(Permission::UsersManage),
            "create_reason": create_reason(&admin),
        }),
    )
}

fn create_reason(admin: &Admin) -> Option<String> {
    (!admin.may(Permission::UsersManage)).then(|| {
        format!(
            "Adding a person needs the {} role or one above it; your roles: {}.",
            steward_core::roles::least_role_for(Permission::UsersManage).label(),
            admin.role_labels()
        )
    })
}

/// `GET /admin/directory/users/new`.
pub async fn new_form(admin: Admin) -> Response {
    if let Some(refused) = admin.require(Permission::UsersManage, "Adding a person") {
        return refused;
    }
    person_form(&admin, StatusCode::OK, &HashMap::new(), None)
}

fn person_form(
    admin: &Admin,
    status: StatusCode,
    form: &HashMap<String, String>,
    problem: Option<String>,
) -> Response {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    render(
        status,
        "dir_person_new.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "problem": problem,
            "first_name": field("firstName"),
            "last_name": field("lastName"),
            "email": field("email"),
            "login": field("login"),
            // A fresh form activates; a posted one keeps the admin's choice.
            "activate": form.is_empty() || form.contains_key("activate"),
            "password_rules": steward_api::secrets::PASSWORD_RULES,
        }),
    )
}

/// `POST /admin/directory/users` (`firstName`, `lastName`, `email`, `login`, `password`,
/// `activate`, `csrf`): `steward_app::users::create`, as `POST /api/v1/users`.
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
        Permission::UsersManage,
        "Adding a person",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let text = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let email = text("email");
    let login = match text("login") {
        l if l.is_empty() => email.clone(),
        l => l,
    };
    let mut profile = Map::new();
    for (key, value) in [
        ("firstName", text("firstName")),
        ("lastName", text("lastName")),
        ("email", email),
        ("login", login.clone()),
    ] {
        if !value.is_empty() {
            profile.insert(key.into(), Value::String(value));
        }
    }
    if let Err(e) = directory::validate_user_profile(&profile) {
        let problem = form_problem(&AppError::Validation(e));
        return person_form(&admin, StatusCode::BAD_REQUEST, &form, problem);
    }
    let password = form.get("password").filter(|p| !p.is_empty());
    let password_hash = match password {
        None => None,
        Some(p) => {
            if let Err(cause) = steward_api::secrets::check_password_policy(p, &login) {
                return person_form(&admin, StatusCode::BAD_REQUEST, &form, Some(cause));
            }
            match steward_api::secrets::hash_password_blocking(p).await {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::error!(error = %e, "console: hashing a new person's password failed");
                    return pages::app_error(AppError::Internal("password hashing".into()));
                }
            }
        }
    };
    let new = NewUser {
        profile,
        password_hash,
        activate: form.contains_key("activate"),
        group_ids: vec![],
    };
    match steward_app::users::create(&admin.ctx(&console), new).await {
        Ok(user) => see_other(&format!("{}?done=created", user_url(&user.id))),
        Err(e) => match form_problem(&e) {
            Some(problem) => person_form(&admin, StatusCode::BAD_REQUEST, &form, Some(problem)),
            None => pages::app_error(e),
        },
    }
}

/// The person `id`, or the Not found page.
async fn find(console: &Console, id: &str) -> Result<User, Response> {
    console
        .api
        .store
        .user(id)
        .await
        .map_err(|e| pages::app_error(AppError::not_found_as(format!("{id} (User)"))(e)))
}

/// Why the admin may not change this person's status, if they may not: `UsersManage`, and
/// a Super Admin changed only by a Super Admin (the Management API's rule).
fn manage_refusal(admin: &Admin, target_roles: &[RoleType]) -> Option<String> {
    if !admin.may(Permission::UsersManage) {
        return Some(format!(
            "Changing a person's status needs the {} role or one above it; your roles: {}.",
            steward_core::roles::least_role_for(Permission::UsersManage).label(),
            admin.role_labels()
        ));
    }
    if !may_write(
        &admin.roles,
        WriteTarget::User {
            roles: target_roles,
        },
    ) {
        return Some(
            "Only a Super Administrator can change a person who is a Super Administrator.".into(),
        );
    }
    None
}

fn groups_refusal(admin: &Admin) -> Option<String> {
    (!admin.may(Permission::GroupsManage)).then(|| {
        format!(
            "Changing group memberships needs the {} role or one above it; your roles: {}.",
            steward_core::roles::least_role_for(Permission::GroupsManage).label(),
            admin.role_labels()
        )
    })
}

/// A lifecycle operation as the console names it.
struct Op {
    path: &'static str,
    op: Option<Lifecycle>,
    label: &'static str,
    /// Asks for confirmation on a page of its own.
    confirm: bool,
}

const OPS: [Op; 7] = [
    Op {
        path: "activate",
        op: Some(Lifecycle::Activate),
        label: "Activate",
        confirm: false,
    },
    Op {
        path: "reactivate",
        op: Some(Lifecycle::Reactivate),
        label: "Resend activation",
        confirm: false,
    },
    Op {
        path: "unlock",
        op: Some(Lifecycle::Unlock),
        label: "Unlock",
        confirm: false,
    },
    Op {
        path: "unsuspend",
        op: Some(Lifecycle::Unsuspend),
        label: "Unsuspend",
        confirm: false,
    },
    Op {
        path: "suspend",
        op: Some(Lifecycle::Suspend),
        label: "Suspend",
        confirm: false,
    },
    Op {
        path: "deactivate",
        op: Some(Lifecycle::Deactivate),
        label: "Deactivate",
        confirm: true,
    },
    Op {
        path: "delete",
        op: None,
        label: "Delete",
        confirm: true,
    },
];

fn op_named(path: &str) -> Option<&'static Op> {
    OPS.iter().find(|o| o.path == path)
}

/// Whether `op` may run on `user` now (the API's transitions; Delete once deactivated).
fn allowed(op: &Op, user: &User) -> bool {
    match op.op {
        Some(l) => directory::transition(user.status, l, user.password_hash.is_some()).is_ok(),
        None => user.status == UserStatus::Deprovisioned,
    }
}

/// What a finished operation says, when the person's status confirms it.
fn done_notice(done: &str, user: &User) -> Option<String> {
    use UserStatus::*;
    let name = user.display_name();
    let (ok, text) = match done {
        "created" => (true, format!("{name} was added.")),
        "activate" => (
            matches!(user.status, Active | Provisioned),
            format!("{name} was activated."),
        ),
        "suspend" => (user.status == Suspended, format!("{name} was suspended.")),
        "unsuspend" => (user.status == Active, format!("{name} was unsuspended.")),
        "unlock" => (user.status == Active, format!("{name} was unlocked.")),
        "deactivate" => (
            user.status == Deprovisioned,
            format!("{name} was deactivated."),
        ),
        _ => (false, String::new()),
    };
    ok.then_some(text)
}

/// What every tab of a person shows: who they are, and the tab.
fn person_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "name": user.display_name(),
        "login": user.login(),
        "email": user.email(),
        "status": user.status.as_str(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PersonQuery {
    done: Option<String>,
}

/// `GET /admin/directory/users/{id}`: the Profile tab, with the lifecycle actions.
pub async fn profile(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<PersonQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::UsersRead, "Viewing people") {
        return refused;
    }
    let user = match find(&console, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let roles = match console
        .api
        .store
        .roles_of(PrincipalType::User, &user.id)
        .await
    {
        Ok(r) => r,
        Err(e) => return store_error(e),
    };
    let refusal = manage_refusal(&admin, &roles);
    let actions: Vec<Value> = OPS
        .iter()
        .filter(|o| allowed(o, &user))
        .map(|o| json!({"path": o.path, "label": o.label, "confirm": o.confirm}))
        .collect();
    let mut attributes: Vec<(String, String)> = user
        .profile
        .iter()
        .filter(|(k, _)| !["firstName", "lastName", "email", "login"].contains(&k.as_str()))
        .map(|(k, v)| {
            let shown = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), shown)
        })
        .collect();
    attributes.sort();
    let shown_roles: Vec<&'static str> = if admin.may(Permission::RolesRead) {
        roles.iter().map(|r| r.label()).collect()
    } else {
        vec![]
    };
    render(
        StatusCode::OK,
        "dir_person.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "tab": "profile",
            "person": person_json(&user),
            "first_name": user.profile.get("firstName").and_then(Value::as_str),
            "last_name": user.profile.get("lastName").and_then(Value::as_str),
            "attributes": attributes,
            "created": when(Some(user.created)),
            "activated": when(user.activated),
            "status_changed": when(user.status_changed),
            "last_login": when(user.last_login),
            "last_updated": when(Some(user.last_updated)),
            "password_changed": when(user.password_changed),
            "has_password": user.password_hash.is_some(),
            "roles": shown_roles,
            "administrators_link": format!("/admin/security/administrators?q={}", encode(user.login())),
            "actions": actions,
            "may_manage": refusal.is_none(),
            "manage_reason": refusal,
            "notice": q.done.as_deref().and_then(|d| done_notice(d, &user)),
        }),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GroupsQuery {
    gq: Option<String>,
    added: Option<String>,
    removed: Option<String>,
}

/// `GET /admin/directory/users/{id}/groups?gq=`: the person's groups, and groups to add them
/// to (a search by name; the first groups without one).
pub async fn groups(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<GroupsQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::UsersRead, "Viewing people") {
        return refused;
    }
    if let Some(refused) = admin.require(Permission::GroupsRead, "Viewing groups") {
        return refused;
    }
    let user = match find(&console, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let store = &console.api.store;
    let member_of = match store.user_groups(&user.id).await {
        Ok(g) => g,
        Err(e) => return store_error(e),
    };
    let joined: HashSet<&str> = member_of.iter().map(|g| g.id.as_str()).collect();
    let search = q.gq.as_deref().map(str::trim).unwrap_or_default();
    // Fetch a little more than shown: some candidates are groups the person is already in.
    let found = match store
        .groups(&GroupQuery {
            q: (!search.is_empty()).then(|| search.to_lowercase()),
            limit: PICK + joined.len().min(50) + 1,
            ..Default::default()
        })
        .await
    {
        Ok(g) => g,
        Err(e) => return store_error(e),
    };
    let candidates: Vec<Value> = found
        .iter()
        .filter(|g| !g.is_built_in() && !joined.contains(g.id.as_str()))
        .take(PICK)
        .map(|g| json!({"id": g.id, "name": g.name(), "description": g.profile.get("description").and_then(Value::as_str)}))
        .collect();
    let rows: Vec<Value> = member_of
        .iter()
        .map(|g| {
            json!({
                "id": g.id,
                "name": g.name(),
                "built_in": g.is_built_in(),
                "description": g.profile.get("description").and_then(Value::as_str),
            })
        })
        .collect();
    let name_of = |gid: &str| {
        member_of
            .iter()
            .find(|g| g.id == gid)
            .map(|g| g.name().to_string())
    };
    let notice = match (&q.added, &q.removed) {
        (Some(g), _) => name_of(g).map(|n| format!("{} was added to {n}.", user.display_name())),
        (_, Some(g)) if !joined.contains(g.as_str()) => Some(format!(
            "{} was removed from the group.",
            user.display_name()
        )),
        _ => None,
    };
    let refusal = groups_refusal(&admin);
    render(
        StatusCode::OK,
        "dir_person_groups.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "tab": "groups",
            "person": person_json(&user),
            "groups": rows,
            "gq": search,
            "candidates": candidates,
            "may_manage": refusal.is_none(),
            "manage_reason": refusal,
            "notice": notice,
        }),
    )
}

/// `GET /admin/directory/users/{id}/apps`: the apps the person is assigned to, directly or
/// through a group (named).
pub async fn apps(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = admin.require(Permission::UsersRead, "Viewing people") {
        return refused;
    }
    let user = match find(&console, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let store = &console.api.store;
    let links = match store.user_app_links(&user.id).await {
        Ok(l) => l,
        Err(e) => return store_error(e),
    };
    let app_ids: Vec<String> = links.iter().map(|l| l.app_id.clone()).collect();
    let group_ids: Vec<String> = links.iter().filter_map(|l| l.group_id.clone()).collect();
    let (apps, groups) = match (
        store.apps_by_ids(&app_ids).await,
        store.groups_by_ids(&group_ids).await,
    ) {
        (Ok(a), Ok(g)) => (a, g),
        (Err(e), _) | (_, Err(e)) => return store_error(e),
    };
    let rows: Vec<Value> = links
        .iter()
        .filter_map(|l| {
            let app = apps.iter().find(|a| a.id == l.app_id)?;
            let group = l
                .group_id
                .as_ref()
                .and_then(|gid| groups.iter().find(|g| &g.id == gid));
            Some(json!({
                "app_id": app.id,
                "label": app.label,
                "status": app.status,
                "group": group.map(|g| json!({"id": g.id, "name": g.name()})),
            }))
        })
        .collect();
    render(
        StatusCode::OK,
        "dir_person_apps.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "tab": "apps",
            "person": person_json(&user),
            "apps": rows,
            "may_apps": admin.may(Permission::AppsRead),
            "may_groups": admin.may(Permission::GroupsRead),
        }),
    )
}

/// `GET /admin/directory/users/{id}/confirm/{op}`: Deactivate or Delete, asked again.
pub async fn confirm(
    State(console): State<Console>,
    admin: Admin,
    Path((id, op)): Path<(String, String)>,
) -> Response {
    if let Some(refused) = admin.require(Permission::UsersManage, "Changing a person's status") {
        return refused;
    }
    let Some(op) = op_named(&op).filter(|o| o.confirm) else {
        return crate::not_found().await;
    };
    let user = match find(&console, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (action, consequence) = if op.op.is_some() {
        (
            format!("/admin/directory/users/{}/lifecycle/deactivate", user.id),
            "They can no longer sign in; their sessions and tokens end now. Their groups and \
             app assignments stay until the person is deleted.",
        )
    } else {
        (
            format!("/admin/directory/users/{}/delete", user.id),
            "The person, their group memberships and their app assignments are removed for \
             good. This cannot be undone.",
        )
    };
    render(
        StatusCode::OK,
        "dir_confirm.html",
        json!({
            "me": admin.me(),
            "section": "directory",
            "title": format!("{} {}?", op.label, user.display_name()),
            "what": format!("{} {} ({})", op.label, user.display_name(), user.login()),
            "consequence": consequence,
            "action": action,
            "button": op.label,
            "back": user_url(&user.id),
            "allowed": allowed(op, &user),
            "status": user.status.as_str(),
        }),
    )
}

/// The person a change is about, once the admin may change them; else the refusal page.
async fn changeable(console: &Console, admin: &Admin, id: &str) -> Result<User, Response> {
    let user = find(console, id).await?;
    let roles = console
        .api
        .store
        .roles_of(PrincipalType::User, &user.id)
        .await
        .map_err(store_error)?;
    match manage_refusal(admin, &roles) {
        Some(why) => Err(pages::message(
            StatusCode::FORBIDDEN,
            "You may not do this",
            &why,
        )),
        None => Ok(user),
    }
}

fn unconfirmed() -> Response {
    pages::message(
        StatusCode::BAD_REQUEST,
        "Not confirmed",
        "Tick the box that confirms the change, then try again. Nothing was changed.",
    )
}

/// `POST /admin/directory/users/{id}/lifecycle/{op}` (`csrf`; `confirm` for deactivate):
/// `steward_app::users::change_status`, as `POST /api/v1/users/{id}/lifecycle/{op}`.
/// Activation and reactivation answer a page with the activation link (Steward sends no email).
pub async fn lifecycle(
    State(console): State<Console>,
    admin: Admin,
    Path((id, op)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::UsersManage,
        "Changing a person's status",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some((named, lifecycle)) = op_named(&op).and_then(|o| o.op.map(|l| (o, l))) else {
        return crate::not_found().await;
    };
    if named.confirm && form.get("confirm").map(String::as_str) != Some("yes") {
        return unconfirmed();
    }
    let user = match changeable(&console, &admin, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let change =
        match steward_app::users::change_status(&admin.ctx(&console), &user.id, lifecycle, false)
            .await
        {
            Ok(c) => c,
            Err(e) => return status_change_error(e),
        };
    if change.stopped_acting {
        learn_revocations(&console).await;
    }
    match change.activation_token {
        Some(token) => render(
            StatusCode::OK,
            "dir_activation.html",
            json!({
                "me": admin.me(),
                "section": "directory",
                "person": person_json(&change.user),
                "link": steward_api::oauth::activation_url(console.issuer(), &token),
            }),
        ),
        None => see_other(&format!("{}?done={}", user_url(&user.id), named.path)),
    }
}

/// `POST /admin/directory/users/{id}/delete` (`csrf`, `confirm`): deletes a deactivated person
/// (`steward_app::users::delete`, as `DELETE /api/v1/users/{id}` on a DEPROVISIONED user).
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
        Permission::UsersManage,
        "Deleting a person",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    if form.get("confirm").map(String::as_str) != Some("yes") {
        return unconfirmed();
    }
    let user = match changeable(&console, &admin, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if user.status != UserStatus::Deprovisioned {
        return pages::message(
            StatusCode::CONFLICT,
            "The change was refused",
            "Only a deactivated person can be deleted: deactivate them first.",
        );
    }
    match steward_app::users::delete(&admin.ctx(&console), &user.id, &id).await {
        Ok(Deletion::Deleted(u)) => see_other(&format!(
            "/admin/directory/users?status=DEPROVISIONED&deleted={}",
            encode(u.login())
        )),
        // Reactivated meanwhile: the API's DELETE deactivates such a person again.
        Ok(Deletion::Deactivated(change)) => {
            learn_revocations(&console).await;
            see_other(&format!("{}?done=deactivate", user_url(&change.user.id)))
        }
        Err(e) => status_change_error(e),
    }
}

/// `POST /admin/directory/users/{id}/groups` (`group`, `csrf`): adds the person to a group
/// (`steward_app::groups::add_member`, as `PUT /api/v1/groups/{id}/users/{userId}`).
pub async fn add_group(
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
    let group_id = form.get("group").map(String::as_str).unwrap_or_default();
    let ctx = admin.ctx(&console);
    let (user, group) = match (
        find(&console, &id).await,
        steward_app::groups::find(&ctx, group_id).await,
    ) {
        (Ok(u), Ok(g)) => (u, g),
        (Err(r), _) => return r,
        (_, Err(e)) => return pages::app_error(e),
    };
    match steward_app::groups::add_member(&ctx, &group, &user).await {
        Ok(_) => see_other(&format!(
            "{}/groups?added={}",
            user_url(&user.id),
            encode(&group.id)
        )),
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/directory/users/{id}/groups/{groupId}/remove` (`csrf`): removes the person
/// from a group (`steward_app::groups::remove_member`).
pub async fn remove_group(
    State(console): State<Console>,
    admin: Admin,
    Path((id, group_id)): Path<(String, String)>,
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
    let ctx = admin.ctx(&console);
    let (user, group) = match (
        find(&console, &id).await,
        steward_app::groups::find(&ctx, &group_id).await,
    ) {
        (Ok(u), Ok(g)) => (u, g),
        (Err(r), _) => return r,
        (_, Err(e)) => return pages::app_error(e),
    };
    match steward_app::groups::remove_member(&ctx, &group, &user).await {
        Ok(revoked) => {
            if revoked > 0 {
                learn_revocations(&console).await;
            }
            see_other(&format!(
                "{}/groups?removed={}",
                user_url(&user.id),
                encode(&group.id)
            ))
        }
        Err(e) => pages::app_error(e),
    }
}
