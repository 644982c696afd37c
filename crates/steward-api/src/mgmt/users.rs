//! `/api/v1/users`: create, read, list, update, lifecycle, delete, and a user's groups.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use steward_core::directory::{self, Lifecycle, User};
use steward_core::ids::{looks_like, IdKind};
use steward_core::roles::{may_write, WriteTarget};
use steward_store::{PrincipalType, StoreError, UserQuery};

use super::scim;
use crate::error::{ApiError, ApiResult};
use crate::http::{page_limit, paginate, Caller, OktaJson, OktaQuery};
use crate::oauth::activation_url;
use crate::secrets::{check_password_policy, hash_password_blocking};
use crate::{render, AppState};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordBody {
    value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CredentialsBody {
    password: Option<PasswordBody>,
}

#[derive(Deserialize)]
pub struct CreateUserBody {
    profile: Map<String, Value>,
    #[serde(default)]
    credentials: Option<CredentialsBody>,
    #[serde(default, rename = "groupIds")]
    group_ids: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateQuery {
    activate: Option<bool>,
}

pub use steward_app::users::target;

/// The password to set, checked against the policy and hashed.
async fn new_password(
    credentials: Option<&CredentialsBody>,
    login: &str,
) -> ApiResult<Option<String>> {
    let Some(value) = credentials
        .and_then(|c| c.password.as_ref())
        .and_then(|p| p.value.as_deref())
    else {
        return Ok(None);
    };
    check_password_policy(value, login).map_err(|cause| ApiError::validation("password", cause))?;
    hash_password_blocking(value).await.map(Some)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    OktaQuery(query): OktaQuery<CreateQuery>,
    OktaJson(body): OktaJson<CreateUserBody>,
) -> ApiResult<Json<Value>> {
    directory::validate_user_profile(&body.profile)?;
    let login = body
        .profile
        .get("login")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let password_hash = new_password(body.credentials.as_ref(), &login).await?;
    let new = steward_app::users::NewUser {
        profile: body.profile,
        password_hash,
        activate: query.activate.unwrap_or(true),
        group_ids: body.group_ids,
    };
    let user = steward_app::users::create(&caller.ctx(&state), new).await?;
    Ok(Json(render::user(&state.config.issuer, &user)))
}

/// Resolves `{id}`: an id, a login, or `me`.
pub async fn find(state: &AppState, caller: &Caller, id_or_login: &str) -> ApiResult<User> {
    let found = if id_or_login == "me" {
        let me = caller
            .principal
            .user
            .as_ref()
            .ok_or_else(|| ApiError::not_found("me"))?;
        state.store.user(&me.id).await
    } else if looks_like(IdKind::User, id_or_login) {
        state.store.user(id_or_login).await
    } else {
        state.store.user_by_login(id_or_login).await
    };
    found.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(format!("{id_or_login} (User)")),
        other => other.into(),
    })
}

/// Refuses (403 E0000006) a change to a user who holds SUPER_ADMIN unless the caller is a Super
/// Admin: otherwise an Org Admin could reset the password of, and so become, the admin above them.
async fn check_may_change(state: &AppState, caller: &Caller, user: &User) -> ApiResult<()> {
    if caller.principal.is_super_admin() {
        return Ok(()); // nothing is above a Super Admin: no need to look at the target
    }
    let roles = state.store.roles_of(PrincipalType::User, &user.id).await?;
    if may_write(&caller.principal.roles, WriteTarget::User { roles: &roles }) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let user = find(&state, &caller, &id).await?;
    Ok(Json(render::user_view(&state.config.issuer, &user)).into_response())
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
    let limit = page_limit(query.limit.as_deref(), 200, 200)?;
    let filter = scim(query.filter.as_deref(), query.search.as_deref())?;
    let names_status = filter
        .as_ref()
        .is_some_and(|f| f.attributes().contains(&"status"));
    let rows = state
        .store
        .users(&UserQuery {
            q: query.q.clone(),
            filter,
            include_deprovisioned: names_status,
            after: query.after.clone(),
            limit: limit + 1,
        })
        .await?;
    let issuer = &state.config.issuer;
    let (rows, links) = paginate(issuer, &uri, rows, limit, |u| u.id.clone());
    let body: Vec<_> = rows
        .iter()
        .map(|u| render::user_in_list(issuer, u))
        .collect();
    Ok((links, Json(body)).into_response())
}

#[derive(Deserialize)]
pub struct UpdateUserBody {
    #[serde(default)]
    profile: Option<Map<String, Value>>,
    #[serde(default)]
    credentials: Option<CredentialsBody>,
}

/// `POST /api/v1/users/{id}`: partial update (profile attributes merge).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<UpdateUserBody>,
) -> ApiResult<Json<Value>> {
    save_profile(state, caller, id, body, false).await
}

/// `PUT /api/v1/users/{id}`: the profile is replaced whole.
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<UpdateUserBody>,
) -> ApiResult<Json<Value>> {
    if body.profile.is_none() {
        return Err(ApiError::validation(
            "profile",
            "profile: The field cannot be left blank",
        ));
    }
    save_profile(state, caller, id, body, true).await
}

/// Applies a profile and/or password update. The password is checked and hashed (argon2, slow)
/// before the write transaction; the transaction re-reads the user (locked on PostgreSQL) and
/// applies the change to that fresh copy, so that a lifecycle change racing this update (a
/// deactivation, a suspension) is never written back over. Each change is logged only when it
/// happened: `user.account.update_password` for a new password, `user.account.update_profile`
/// for a profile that differs.
async fn save_profile(
    state: AppState,
    caller: Caller,
    id: String,
    body: UpdateUserBody,
    whole: bool,
) -> ApiResult<Json<Value>> {
    let found = find(&state, &caller, &id).await?;
    check_may_change(&state, &caller, &found).await?;
    let mut change = steward_app::users::ProfileChange {
        profile: body.profile,
        whole,
        password_hash: None,
    };
    // Refuse an invalid profile before spending time on the password.
    let mut preview = found.clone();
    change.apply_profile(&mut preview)?;
    if caller.own_record && (body.credentials.is_some() || preview.login() != found.login()) {
        // `okta.users.manage.self` changes the user's own profile, not how they sign in: a
        // password is changed knowing the old one, and a login names the account (an SSWS token
        // made for a login, `admin@steward.local` by default, would follow a renamed user).
        return Err(ApiError::Forbidden);
    }
    change.password_hash = new_password(body.credentials.as_ref(), preview.login()).await?;
    let user = steward_app::users::update(&caller.ctx(&state), &found.id, &id, &change).await?;
    Ok(Json(render::user(&state.config.issuer, &user)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LifecycleQuery {
    #[serde(rename = "sendEmail")]
    send_email: Option<bool>,
}

/// `POST /api/v1/users/{id}/lifecycle/{op}`. Activation and reactivation answer Okta's
/// `UserActivationToken`: the activation link with `sendEmail=false`, `{}` when Okta would have
/// emailed it (Steward sends no email; the System Log says so).
pub async fn lifecycle(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, op)): Path<(String, String)>,
    OktaQuery(query): OktaQuery<LifecycleQuery>,
) -> ApiResult<Response> {
    let op = match op.as_str() {
        "activate" => Lifecycle::Activate,
        "reactivate" => Lifecycle::Reactivate,
        "deactivate" => Lifecycle::Deactivate,
        "suspend" => Lifecycle::Suspend,
        "unsuspend" => Lifecycle::Unsuspend,
        "unlock" => Lifecycle::Unlock,
        other => {
            // Okta's other operations (`expire_password`, `reset_factors`, …) are not built yet.
            let path = format!("/api/v1/users/{id}/lifecycle/{other}");
            return Err(match crate::routes::okta_operation("POST", &path) {
                Some(op) => crate::routes::not_built(op),
                None => ApiError::not_found(format!("lifecycle operation {other}")),
            });
        }
    };
    let user = find(&state, &caller, &id).await?;
    check_may_change(&state, &caller, &user).await?;
    // Okta emails the link on activation unless told not to, on reactivation only when asked.
    let send_email = query.send_email.unwrap_or(op == Lifecycle::Activate);
    let token = change_status(&state, &caller, &user, op, send_email).await?;
    if !op.issues_activation_token() {
        return Ok(StatusCode::OK.into_response());
    }
    let body = match token {
        Some(token) => json!({
            "activationUrl": activation_url(&state.config.issuer, &token),
            "activationToken": token,
        }),
        None => json!({}),
    };
    Ok(Json(body).into_response())
}

/// [`steward_app::users::change_status`] on behalf of `caller`; once it has committed, this
/// node learns at once of the tokens it revoked (other nodes poll for them every second).
async fn change_status(
    state: &AppState,
    caller: &Caller,
    user: &User,
    op: Lifecycle,
    send_email: bool,
) -> ApiResult<Option<String>> {
    let change =
        steward_app::users::change_status(&caller.ctx(state), &user.id, op, send_email).await?;
    refresh_revocations_after(state, &change).await;
    Ok(change.activation_token)
}

/// Once a change that stopped a user acting has committed, this node learns at once of the
/// tokens it revoked. The change succeeded either way: the once-a-second poll catches up.
async fn refresh_revocations_after(state: &AppState, change: &steward_app::users::StatusChange) {
    if change.stopped_acting {
        if let Err(e) = state.auth.refresh_revocations(&state.store).await {
            tracing::warn!(error = %e, user = %change.user.id, "could not refresh revocations after a lifecycle change");
        }
    }
}

/// `DELETE /api/v1/users/{id}`: deactivates first; deletes a user already deactivated.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let found = find(&state, &caller, &id).await?;
    check_may_change(&state, &caller, &found).await?;
    let deletion = steward_app::users::delete(&caller.ctx(&state), &found.id, &id).await?;
    if let steward_app::users::Deletion::Deactivated(change) = deletion {
        refresh_revocations_after(&state, &change).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users/{id}/groups`.
pub async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let user = find(&state, &caller, &id).await?;
    let groups = state.store.user_groups(&user.id).await?;
    Ok(Json(Value::Array(
        groups
            .iter()
            .map(|g| render::group(&state.config.issuer, g))
            .collect(),
    )))
}

/// The Users routes.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Need, Routes};
    use steward_core::roles::Permission;
    const READ: Need = need("okta.users.read", Permission::UsersRead);
    const MANAGE: Need = need("okta.users.manage", Permission::UsersManage);
    Routes::new("Users")
        .get("/api/v1/users", READ, list)
        .post("/api/v1/users", MANAGE, create)
        .get("/api/v1/users/{id}", READ, get)
        .post("/api/v1/users/{id}", MANAGE, update)
        .put("/api/v1/users/{id}", MANAGE, replace)
        .delete("/api/v1/users/{id}", MANAGE, delete)
        .post("/api/v1/users/{id}/lifecycle/{op}", MANAGE, lifecycle)
        .get("/api/v1/users/{id}/groups", READ, groups)
}
