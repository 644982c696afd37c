//! Security > Administrators: every admin role assignment of the org — users' and service
//! apps' (client role assignments, `/oauth2/v1/clients/{clientId}/roles` in the API) — with what
//! each role allows; Add an assignment and Remove one through the API's use cases
//! (`steward_app::roles::{assign, unassign}`), the org's last acting Super Admin kept.
//! `RolesRead` sees the page; `RolesManage` (a Super Admin's) changes it. Steward has no group
//! role assignments, so none are listed.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_app::AppError;
use steward_core::roles::{Permission, RoleType};
use steward_core::syslog::Target;
use steward_core::timefmt::format_millis;
use steward_store::{AppQuery, PrincipalType, RoleAssignment, StoreError};

use crate::pages::{self, encode, render, see_other};
use crate::session::Admin;
use crate::Console;

/// Assignments read per store page, and at most this many pages.
const BATCH: usize = 500;
const MAX_BATCHES: usize = 20;
/// Rows shown at most (a search narrows the rest).
const SHOWN: usize = 500;

/// What a permission lets an admin do, in words.
fn in_words(p: Permission) -> &'static str {
    use Permission::*;
    match p {
        UsersRead => "view users",
        UsersManage => "create, change and deactivate users",
        GroupsRead => "view groups",
        GroupsManage => "manage groups and their members",
        AppsRead => "view applications",
        AppsManage => "create and change applications and their assignments",
        AppGrantsRead => "view apps' Okta API scope grants",
        AppGrantsManage => "grant and revoke Okta API scopes",
        RolesRead => "view admin role assignments",
        RolesManage => "assign and remove admin roles",
        LogsRead => "read the System Log",
        AccessRequestsRead => "view access requests",
        AccessRequestsManage => "manage access requests and their conditions",
        CertificationsRead => "view access certifications",
        CertificationsManage => "run access certifications",
        ResourceOwnersRead => "view resource owners",
        ResourceOwnersManage => "configure resource owners",
        ApiTokensRead => "view API tokens",
        ApiTokensManage => "revoke API tokens",
        WorkflowsRead => "view Workflows and their runs",
        WorkflowsManage => "import, switch and run Workflows",
    }
}

/// What `role` allows, in words.
fn allows(role: RoleType) -> Vec<&'static str> {
    Permission::ALL
        .into_iter()
        .filter(|p| role.allows(*p))
        .map(in_words)
        .collect()
}

#[derive(Serialize)]
struct RoleChoice {
    value: &'static str,
    label: &'static str,
    built: bool,
}

fn role_choices() -> Vec<RoleChoice> {
    RoleType::ALL
        .into_iter()
        .map(|r| RoleChoice {
            value: r.as_str(),
            label: r.label(),
            built: steward_api::routes::role_is_built(r),
        })
        .collect()
}

#[derive(Serialize)]
struct Row {
    id: String,
    kind: &'static str,
    kind_label: &'static str,
    principal_id: String,
    name: String,
    /// A user's login, or a client's client id.
    detail: String,
    link: String,
    role: &'static str,
    role_label: &'static str,
    allows: Vec<&'static str>,
    assigned: String,
    #[serde(skip)]
    order: usize,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: Option<String>,
    /// What was just done: `assigned` or `removed`, with `role` and `who` (the principal id).
    done: Option<String>,
    role: Option<String>,
    who: Option<String>,
}

/// The form to add an assignment as filled in, shown again with its error.
#[derive(Serialize, Default)]
struct Draft {
    kind: String,
    principal: String,
    role: String,
}

/// Every role assignment of the org with its principal named.
async fn rows(console: &Console) -> Result<Vec<Row>, StoreError> {
    let store = &console.api.store;
    let mut all: Vec<RoleAssignment> = Vec::new();
    for _ in 0..MAX_BATCHES {
        let after = all.last().map(|a| a.id.clone());
        let page = store.all_role_assignments(after.as_deref(), BATCH).await?;
        let done = page.len() < BATCH;
        all.extend(page);
        if done {
            break;
        }
    }
    let mut rows = Vec::with_capacity(all.len());
    for a in all {
        let (kind, kind_label, name, detail, link) = match a.principal_type {
            PrincipalType::User => match store.user(&a.principal_id).await {
                Ok(u) => (
                    "user",
                    "User",
                    u.display_name(),
                    u.login().to_string(),
                    format!("/admin/directory/users/{}", encode(&u.id)),
                ),
                Err(StoreError::NotFound) => (
                    "user",
                    "User",
                    a.principal_id.clone(),
                    "deleted user".into(),
                    String::new(),
                ),
                Err(e) => return Err(e),
            },
            PrincipalType::Client => match store.app(&a.principal_id).await {
                Ok(app) => (
                    "client",
                    "Service app",
                    app.label.clone(),
                    app.client_id.clone().unwrap_or_else(|| app.id.clone()),
                    format!("/admin/apps/{}", encode(&app.id)),
                ),
                Err(StoreError::NotFound) => (
                    "client",
                    "Service app",
                    a.principal_id.clone(),
                    "deleted app".into(),
                    String::new(),
                ),
                Err(e) => return Err(e),
            },
        };
        rows.push(Row {
            id: a.id,
            kind,
            kind_label,
            principal_id: a.principal_id,
            name,
            detail,
            link,
            role: a.role_type.as_str(),
            role_label: a.role_type.label(),
            allows: allows(a.role_type),
            assigned: format_millis(a.created),
            order: RoleType::ALL
                .iter()
                .position(|r| *r == a.role_type)
                .unwrap_or(RoleType::ALL.len()),
        });
    }
    rows.sort_by(|a, b| {
        (a.order, a.name.to_lowercase(), &a.id).cmp(&(b.order, b.name.to_lowercase(), &b.id))
    });
    Ok(rows)
}

/// The page, with `notice` or `error` (and the add form as it was sent).
async fn page(
    console: &Console,
    admin: &Admin,
    status: StatusCode,
    search: &str,
    notice: Option<String>,
    error: Option<String>,
    draft: Draft,
) -> Response {
    let all = match rows(console).await {
        Ok(r) => r,
        Err(e) => return pages::app_error(e.into()),
    };
    let needle = search.to_lowercase();
    let matching: Vec<&Row> = all
        .iter()
        .filter(|r| {
            needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.detail.to_lowercase().contains(&needle)
                || r.role.to_lowercase().contains(&needle)
                || r.role_label.to_lowercase().contains(&needle)
        })
        .collect();
    let may_manage = admin.may(Permission::RolesManage);
    let reason = (!may_manage).then(|| {
        format!(
            "Only a Super Administrator can assign or remove admin roles; your roles: {}.",
            admin.role_labels()
        )
    });
    render(
        status,
        "admins.html",
        json!({
            "me": admin.me(),
            "section": "security",
            "q": search,
            "rows": matching.iter().take(SHOWN).collect::<Vec<_>>(),
            "count": matching.len(),
            "more": matching.len() > SHOWN,
            "roles": role_choices(),
            "may_manage": may_manage,
            "manage_reason": reason,
            "notice": notice,
            "error": error,
            "draft": draft,
        }),
    )
}

/// `GET /admin/security/administrators?q=`.
pub async fn list(
    State(console): State<Console>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::RolesRead, "Viewing administrators") {
        return refused;
    }
    let search = q.q.as_deref().map(str::trim).unwrap_or_default();
    let notice = match notice(&console, &q).await {
        Ok(n) => n,
        Err(e) => return pages::app_error(e.into()),
    };
    page(
        &console,
        &admin,
        StatusCode::OK,
        search,
        notice,
        None,
        Draft::default(),
    )
    .await
}

/// The notice of what was just done, when the store confirms it.
async fn notice(console: &Console, q: &ListQuery) -> Result<Option<String>, StoreError> {
    let (Some(done), Some(role), Some(who)) = (q.done.as_deref(), q.role.as_deref(), &q.who) else {
        return Ok(None);
    };
    let Some(role) = RoleType::parse(role) else {
        return Ok(None);
    };
    let store = &console.api.store;
    for kind in [PrincipalType::User, PrincipalType::Client] {
        let name = match kind {
            PrincipalType::User => store.user(who).await.map(|u| u.login().to_string()),
            PrincipalType::Client => store.app(who).await.map(|a| a.label),
        };
        let name = match name {
            Ok(n) => n,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let holds = store.roles_of(kind, who).await?.contains(&role);
        return Ok(match (done, holds) {
            ("assigned", true) => Some(format!("Assigned {} to {name}.", role.label())),
            ("removed", false) => Some(format!("Removed {} from {name}.", role.label())),
            _ => None,
        });
    }
    Ok(None)
}

fn kind_of(form: &HashMap<String, String>) -> Option<PrincipalType> {
    match form.get("kind").map(String::as_str) {
        Some("user") => Some(PrincipalType::User),
        Some("client") => Some(PrincipalType::Client),
        _ => None,
    }
}

/// The principal the add form names: a user by login, or a service app by label.
async fn principal(
    console: &Console,
    kind: PrincipalType,
    named: &str,
) -> Result<Result<(String, Target), String>, StoreError> {
    let store = &console.api.store;
    match kind {
        PrincipalType::User => match store.user_by_login(&named.to_lowercase()).await {
            Ok(u) => Ok(Ok((u.id.clone(), Target::user(&u)))),
            Err(StoreError::NotFound) => Ok(Err(format!("No user has the login “{named}”."))),
            Err(e) => Err(e),
        },
        PrincipalType::Client => {
            let found = store
                .apps(&AppQuery {
                    q: Some(named.to_lowercase()),
                    limit: 200,
                    ..Default::default()
                })
                .await?;
            let services: Vec<_> = found
                .iter()
                .filter(|a| a.label.eq_ignore_ascii_case(named))
                .filter(|a| {
                    a.oidc
                        .as_ref()
                        .is_some_and(|o| o.application_type == "service")
                })
                .collect();
            match services.as_slice() {
                [app] => Ok(Ok((app.id.clone(), Target::app(app)))),
                [] => Ok(Err(format!(
                    "No service app (API Services) is labelled “{named}”: only a service app \
                     acts as itself and can hold an admin role."
                ))),
                _ => Ok(Err(format!(
                    "Several service apps are labelled “{named}”: rename one, or assign the role \
                     with POST /oauth2/v1/clients/{{clientId}}/roles."
                ))),
            }
        }
    }
}

/// `POST /admin/security/administrators/assign` (`csrf`, `kind` = `user` / `client`,
/// `principal` = a login or a service app's label, `role`): `roles::assign`, as
/// `POST /api/v1/users/{id}/roles` or `POST /oauth2/v1/clients/{clientId}/roles`.
pub async fn assign(
    State(console): State<Console>,
    admin: Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::RolesManage,
        "Assigning an admin role",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let text = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let draft = Draft {
        kind: text("kind"),
        principal: text("principal"),
        role: text("role"),
    };
    let Some(kind) = kind_of(&form) else {
        return refused(
            &console,
            &admin,
            "Choose a user or a service app.".into(),
            draft,
        )
        .await;
    };
    let Some(role) = RoleType::parse(&draft.role) else {
        return refused(&console, &admin, "Choose a role.".into(), draft).await;
    };
    if !steward_api::routes::role_is_built(role) {
        // As the API refuses it: the role would administer nothing Steward serves.
        return refused(
            &console,
            &admin,
            format!(
                "{} is not built yet: Steward does not serve the APIs this role administers yet.",
                role.as_str()
            ),
            draft,
        )
        .await;
    }
    if draft.principal.is_empty() {
        return refused(
            &console,
            &admin,
            "Name the user (login) or service app (label).".into(),
            draft,
        )
        .await;
    }
    let (principal_id, target) = match principal(&console, kind, &draft.principal).await {
        Ok(Ok(p)) => p,
        Ok(Err(why)) => return refused(&console, &admin, why, draft).await,
        Err(e) => return pages::app_error(e.into()),
    };
    match steward_app::roles::assign(&admin.ctx(&console), kind, &principal_id, target, role).await
    {
        Ok(_) => back("assigned", role, &principal_id),
        Err(AppError::Validation(_)) => {
            let why = format!("{} already holds {}.", draft.principal, role.label());
            refused(&console, &admin, why, draft).await
        }
        Err(e) => pages::app_error(e),
    }
}

/// The page again with the add form's `error` (400), nothing written.
async fn refused(console: &Console, admin: &Admin, error: String, draft: Draft) -> Response {
    page(
        console,
        admin,
        StatusCode::BAD_REQUEST,
        "",
        None,
        Some(error),
        draft,
    )
    .await
}

fn back(done: &str, role: RoleType, who: &str) -> Response {
    see_other(&format!(
        "/admin/security/administrators?done={done}&role={}&who={}",
        role.as_str(),
        encode(who)
    ))
}

/// `POST /admin/security/administrators/remove` (`csrf`, `kind`, `principal_id`, `role_id`):
/// `roles::unassign`, as `DELETE /api/v1/users/{id}/roles/{roleId}` (or the client's). The
/// org's last acting Super Admin keeps the role: the page says so.
pub async fn unassign(
    State(console): State<Console>,
    admin: Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::RolesManage,
        "Removing an admin role",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let principal_id = form.get("principal_id").map(String::as_str).unwrap_or("");
    let role_id = form.get("role_id").map(String::as_str).unwrap_or("");
    let store = &console.api.store;
    let (kind, target) = match kind_of(&form) {
        Some(PrincipalType::User) => match store.user(principal_id).await {
            Ok(u) => (PrincipalType::User, Target::user(&u)),
            Err(StoreError::NotFound) => (
                PrincipalType::User,
                Target::new(principal_id, "User", principal_id, principal_id),
            ),
            Err(e) => return pages::app_error(e.into()),
        },
        Some(PrincipalType::Client) => match store.app(principal_id).await {
            Ok(a) => (PrincipalType::Client, Target::app(&a)),
            Err(StoreError::NotFound) => (
                PrincipalType::Client,
                Target::new(principal_id, "AppInstance", principal_id, principal_id),
            ),
            Err(e) => return pages::app_error(e.into()),
        },
        None => {
            return pages::message(
                StatusCode::BAD_REQUEST,
                "The change was refused",
                "The form names no user or service app.",
            )
        }
    };
    match steward_app::roles::unassign(&admin.ctx(&console), kind, principal_id, target, role_id)
        .await
    {
        Ok(removed) => back("removed", removed.role_type, principal_id),
        Err(AppError::LastSuperAdmin) => {
            page(
                &console,
                &admin,
                StatusCode::CONFLICT,
                "",
                None,
                Some(
                    "Not removed: this is the org's last Super Administrator who can act, and the \
                     org must keep at least one. Assign Super Administrator to another user or \
                     service app first."
                        .into(),
                ),
                Draft::default(),
            )
            .await
        }
        Err(e) => pages::app_error(e),
    }
}
