//! Applications: the list, an app's General tab (with Activate / Deactivate), and its Okta API
//! Scopes tab with Grant and Revoke (a Super Admin's: `AppGrantsManage`, checked again on every
//! POST). Creating an app is [`crate::app_new`]; the Assignments tab is
//! [`crate::app_assignments`].

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_app::grants::{self, GrantedBy, NewGrant};
use steward_core::apps::App;
use steward_core::roles::{may_write, Permission, RoleType, WriteTarget};
use steward_core::timefmt::format_millis;
use steward_store::{AppQuery, PrincipalType};

use crate::pages::{self, encode, render, see_other};
use crate::session::Admin;
use crate::Console;

/// Apps per page of the list.
const PAGE: usize = 50;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

#[derive(Serialize)]
struct AppRow {
    id: String,
    label: String,
    client_id: String,
    kind: String,
    status: String,
}

fn kind(app: &App) -> String {
    match app.oidc.as_ref().map(|o| o.application_type.as_str()) {
        Some("web") => "Web app".into(),
        Some("browser") => "Single-page app".into(),
        Some("native") => "Native app".into(),
        Some("service") => "API service".into(),
        Some(other) => other.into(),
        None => app.sign_on_mode.clone(),
    }
}

fn client_id(app: &App) -> String {
    app.client_id.clone().unwrap_or_else(|| app.id.clone())
}

/// `GET /admin/apps`.
pub async fn list(
    State(console): State<Console>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::AppsRead, "Viewing applications") {
        return refused;
    }
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let apps = match console
        .api
        .store
        .apps(&AppQuery {
            q: search.map(str::to_lowercase),
            after: q.after.clone().filter(|a| !a.is_empty()),
            limit: PAGE + 1,
            ..Default::default()
        })
        .await
    {
        Ok(a) => a,
        Err(e) => return pages::app_error(e.into()),
    };
    let more = apps.len() > PAGE;
    let rows: Vec<AppRow> = apps
        .iter()
        .take(PAGE)
        .map(|a| AppRow {
            id: a.id.clone(),
            label: a.label.clone(),
            client_id: client_id(a),
            kind: kind(a),
            status: a.status.clone(),
        })
        .collect();
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(format!(
            "/admin/apps?q={}&after={}",
            encode(search.unwrap_or_default()),
            encode(&last.id)
        )),
        _ => None,
    };
    render(
        StatusCode::OK,
        "apps.html",
        json!({
            "me": admin.me(),
            "section": "apps",
            "q": search.unwrap_or_default(),
            "apps": rows,
            "next": next,
            "may_create": admin.may(Permission::AppsManage),
            "create_reason": manage_reason(&admin),
        }),
    )
}

/// Why the admin may not change apps (create, activate, assign), when they may not.
pub(crate) fn manage_reason(admin: &Admin) -> Option<String> {
    (!admin.may(Permission::AppsManage)).then(|| {
        format!(
            "Changing applications needs the {} role or one above it; your roles: {}.",
            steward_core::roles::least_role_for(Permission::AppsManage).label(),
            admin.role_labels()
        )
    })
}

pub(crate) async fn find(console: &Console, admin: &Admin, id: &str) -> Result<App, Response> {
    grants::find_app(&admin.ctx(console), id)
        .await
        .map_err(pages::app_error)
}

/// Whether `app` is the console's own OIDC app ("Steward Admin Console"), which the use case
/// refuses to deactivate.
pub(crate) fn is_console_app(app: &App) -> bool {
    steward_app::apps::is_console_app(app)
}

/// Why the admin may not activate or deactivate `app`, when they may not: no `AppsManage`; the
/// console's own app (deactivating it would lock every admin out); or an app acting with Okta API
/// scopes or an admin role, which only a Super Admin changes (the API's rule, `may_write`).
pub(crate) async fn lifecycle_refusal(
    console: &Console,
    admin: &Admin,
    app: &App,
) -> Result<Option<String>, Response> {
    if let Some(reason) = manage_reason(admin) {
        return Ok(Some(reason));
    }
    if is_console_app(app) {
        return Ok(Some(
            "This is the Admin Console's own app: deactivating it would sign every administrator \
             out and lock them out of the console, so the console does not offer it."
                .into(),
        ));
    }
    if admin.roles.contains(&RoleType::SuperAdmin) {
        return Ok(None);
    }
    let store = &console.api.store;
    let roles = store
        .roles_of(PrincipalType::Client, &app.id)
        .await
        .map_err(|e| pages::app_error(e.into()))?;
    let active_grants = store
        .app_grants(&app.id)
        .await
        .map_err(|e| pages::app_error(e.into()))?
        .iter()
        .any(|g| g.status == "ACTIVE");
    let target = WriteTarget::App {
        roles: &roles,
        active_grants,
    };
    Ok((!may_write(&admin.roles, target)).then(|| {
        "This app acts with Okta API scopes or an admin role: only a Super Administrator can \
         activate or deactivate it."
            .into()
    }))
}

pub(crate) fn app_json(app: &App) -> serde_json::Value {
    let oidc = app.oidc.as_ref();
    json!({
        "id": app.id,
        "label": app.label,
        "status": app.status,
        "kind": kind(app),
        "client_id": client_id(app),
        "sign_on_mode": app.sign_on_mode,
        "grant_types": oidc.map(|o| o.grant_types.clone()).unwrap_or_default(),
        "redirect_uris": oidc.map(|o| o.redirect_uris.clone()).unwrap_or_default(),
        "auth_method": oidc.map(|o| o.token_endpoint_auth_method.clone()).unwrap_or_default(),
        "pkce_required": oidc.is_some_and(|o| o.pkce_required),
        "consent_method": oidc.map(|o| o.consent_method.clone()).unwrap_or_default(),
        "created": format_millis(app.created),
        "last_updated": format_millis(app.last_updated),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GeneralQuery {
    done: Option<String>,
}

/// `GET /admin/apps/{id}`: the General tab.
pub async fn general(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<GeneralQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::AppsRead, "Viewing applications") {
        return refused;
    }
    let app = match find(&console, &admin, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    // Only what the app's status confirms is announced.
    let notice = match q.done.as_deref() {
        Some("activated") if app.is_active() => Some(format!("Activated {}.", app.label)),
        Some("deactivated") if !app.is_active() => Some(format!(
            "Deactivated {}: its tokens are revoked and it cannot sign anyone in.",
            app.label
        )),
        _ => None,
    };
    general_page(&console, &admin, &app, notice, None).await
}

/// The General tab of `app`, with `notice` and, right after its creation, its client secret
/// (shown this once: the store keeps only its hash).
pub(crate) async fn general_page(
    console: &Console,
    admin: &Admin,
    app: &App,
    notice: Option<String>,
    secret: Option<String>,
) -> Response {
    let lifecycle_reason = match lifecycle_refusal(console, admin, app).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    render(
        StatusCode::OK,
        "app_general.html",
        json!({
            "me": admin.me(),
            "section": "apps",
            "tab": "general",
            "app": app_json(app),
            "may_scopes": admin.may(Permission::AppGrantsRead),
            "notice": notice,
            "secret": secret,
            "lifecycle_reason": lifecycle_reason,
        }),
    )
}

/// `POST /admin/apps/{id}/lifecycle` (`op` = `activate` / `deactivate`, `csrf`):
/// `apps::set_status`, as `POST /api/v1/apps/{id}/lifecycle/{op}`.
pub async fn lifecycle(
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
        Permission::AppsManage,
        "Activating or deactivating an application",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let active = match form.get("op").map(String::as_str) {
        Some("activate") => true,
        Some("deactivate") => false,
        _ => {
            return pages::message(
                StatusCode::BAD_REQUEST,
                "The change was refused",
                "Choose Activate or Deactivate.",
            )
        }
    };
    let app = match find(&console, &admin, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match lifecycle_refusal(&console, &admin, &app).await {
        Ok(None) => {}
        Ok(Some(reason)) => {
            return pages::message(StatusCode::FORBIDDEN, "You may not do this", &reason)
        }
        Err(r) => return r,
    }
    match steward_app::apps::set_status(&admin.ctx(&console), &app, active).await {
        Ok(changed) => {
            if changed && !active {
                // Committed: the once-a-second revocation poll catches up if this fails.
                console.api.auth.learn_revocations(&console.api.store).await;
            }
            let done = if active { "activated" } else { "deactivated" };
            see_other(&format!("/admin/apps/{}?done={done}", encode(&app.id)))
        }
        Err(e) => pages::app_error(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScopesQuery {
    q: Option<String>,
    granted: Option<String>,
    revoked: Option<String>,
}

#[derive(Serialize)]
struct ScopeRow {
    name: &'static str,
    description: &'static str,
    family: &'static str,
    built: bool,
    /// The ACTIVE grant's id, when granted.
    grant_id: Option<String>,
}

/// `GET /admin/apps/{id}/scopes`: every scope of the catalogue with its grant state.
pub async fn scopes(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<ScopesQuery>,
) -> Response {
    if let Some(refused) = admin.require(Permission::AppGrantsRead, "Viewing an app's scopes") {
        return refused;
    }
    let app = match find(&console, &admin, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let grants = match console.api.store.app_grants(&app.id).await {
        Ok(g) => g,
        Err(e) => return pages::app_error(e.into()),
    };
    let search = q.q.as_deref().map(str::trim).unwrap_or_default();
    let needle = search.to_lowercase();
    let rows: Vec<ScopeRow> = steward_core::scopes::all_scopes()
        .filter(|s| {
            needle.is_empty()
                || s.name.to_lowercase().contains(&needle)
                || s.description.to_lowercase().contains(&needle)
        })
        .map(|s| ScopeRow {
            name: s.name,
            description: s.description,
            family: s.family.as_str(),
            built: steward_api::routes::scope_is_built(s.name),
            grant_id: grants
                .iter()
                .find(|g| g.status == "ACTIVE" && g.scope_id == s.name)
                .map(|g| g.id.clone()),
        })
        .collect();
    let granted_count = grants.iter().filter(|g| g.status == "ACTIVE").count();
    let may_manage = admin.may(Permission::AppGrantsManage);
    let disabled_reason = (!may_manage).then(|| {
        format!(
            "Only a Super Administrator can grant or revoke Okta API scopes; your roles: {}.",
            admin.role_labels()
        )
    });
    // Only what the scope list confirms is announced.
    let notice = match (&q.granted, &q.revoked) {
        (Some(s), _) if rows.iter().any(|r| r.name == s && r.grant_id.is_some()) => {
            Some(format!("Granted {s} to {}.", app.label))
        }
        (_, Some(s)) if rows.iter().any(|r| r.name == s && r.grant_id.is_none()) => {
            Some(format!("Revoked {s} from {}.", app.label))
        }
        _ => None,
    };
    render(
        StatusCode::OK,
        "app_scopes.html",
        json!({
            "me": admin.me(),
            "section": "apps",
            "tab": "scopes",
            "app": app_json(&app),
            "may_scopes": true,
            "q": search,
            "scopes": rows,
            "granted_count": granted_count,
            "may_manage": may_manage,
            "disabled_reason": disabled_reason,
            "notice": notice,
        }),
    )
}

fn back_to_scopes(app_id: &str, q: Option<&String>, done: &str, scope: &str) -> Response {
    see_other(&format!(
        "/admin/apps/{}/scopes?q={}&{done}={}",
        encode(app_id),
        encode(q.map(String::as_str).unwrap_or_default()),
        encode(scope)
    ))
}

/// `POST /admin/apps/{id}/grants` (`scope`, `csrf`, `q`).
pub async fn grant(
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
        Permission::AppGrantsManage,
        "Granting an Okta API scope to an app",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let scope = form.get("scope").map(String::as_str).unwrap_or_default();
    let issuer = console.issuer();
    let granted = grants::grant(
        &admin.ctx(&console),
        NewGrant {
            app_id: &id,
            scope_id: scope,
            issuer,
            org_issuer: issuer,
            created_by: GrantedBy {
                id: admin.user.id.clone(),
                kind: "USER",
            },
        },
        steward_api::routes::scope_is_built,
    )
    .await;
    match granted {
        Ok((app, g)) => back_to_scopes(&app.id, form.get("q"), "granted", &g.scope_id),
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/apps/{id}/grants/{grantId}/revoke` (`csrf`, `q`).
pub async fn revoke(
    State(console): State<Console>,
    admin: Admin,
    Path((id, grant_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::AppGrantsManage,
        "Revoking an Okta API scope from an app",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    match grants::revoke(&admin.ctx(&console), &id, &grant_id).await {
        Ok(g) => back_to_scopes(&g.app_id, form.get("q"), "revoked", &g.scope_id),
        Err(e) => pages::app_error(e),
    }
}
