//! `/api/v1/apps/{appId}/credentials/…`: an OIDC app's client secrets and the public keys of
//! its JWK Set. The rules and the changes are `steward_app::app_credentials`; here the calls are
//! authorized, parsed and rendered.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use steward_app::app_credentials::{self as credentials, KeyChange};
use steward_store::StoreError;

use super::apps::{check_may_change, find};
use crate::error::{ApiError, ApiResult};
use crate::http::Caller;
use crate::{render, AppState};

pub async fn list_secrets(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let secrets = state.store.client_secrets(&app.id).await?;
    let issuer = &state.config.issuer;
    Ok(Json(Value::Array(
        secrets
            .iter()
            .map(|s| render::client_secret(issuer, s, None))
            .collect(),
    )))
}

pub async fn get_secret(
    State(state): State<AppState>,
    Path((id, secret_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let secret = state
        .store
        .client_secret(&app.id, &secret_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::not_found(format!("{secret_id} (OAuth2ClientSecret)"))
            }
            other => other.into(),
        })?;
    Ok(Json(render::client_secret(
        &state.config.issuer,
        &secret,
        None,
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SecretBody {
    client_secret: Option<String>,
    status: Option<String>,
}

/// `ACTIVE` (the default) or `INACTIVE`.
fn parse_status(status: Option<&str>) -> ApiResult<&'static str> {
    match status {
        None | Some("ACTIVE") => Ok("ACTIVE"),
        Some("INACTIVE") => Ok("INACTIVE"),
        Some(other) => Err(ApiError::validation(
            "status",
            format!("status: '{other}' is not one of ACTIVE, INACTIVE"),
        )),
    }
}

/// An optional JSON body (these calls may be sent without one).
fn optional_body<T: for<'de> Deserialize<'de> + Default>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::MalformedBody(e.to_string()))
}

pub async fn create_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body: SecretBody = optional_body(&body)?;
    let app = find(&state, &id).await?;
    check_may_change(&state, &caller, &app).await?;
    let status = parse_status(body.status.as_deref())?;
    let (row, secret) =
        credentials::create_secret(&caller.ctx(&state), &app.id, body.client_secret, status)
            .await?;
    Ok((
        StatusCode::CREATED,
        Json(render::client_secret(
            &state.config.issuer,
            &row,
            Some(&secret),
        )),
    ))
}

async fn set_secret_status(
    state: &AppState,
    caller: &Caller,
    app_id: &str,
    secret_id: &str,
    status: &str,
) -> ApiResult<Json<Value>> {
    let app = find(state, app_id).await?;
    check_may_change(state, caller, &app).await?;
    let secret =
        credentials::set_secret_status(&caller.ctx(state), &app.id, secret_id, status).await?;
    Ok(Json(render::client_secret(
        &state.config.issuer,
        &secret,
        None,
    )))
}

pub async fn activate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, secret_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    set_secret_status(&state, &caller, &id, &secret_id, "ACTIVE").await
}

pub async fn deactivate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, secret_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    set_secret_status(&state, &caller, &id, &secret_id, "INACTIVE").await
}

pub async fn delete_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, secret_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let app = find(&state, &id).await?;
    check_may_change(&state, &caller, &app).await?;
    credentials::delete_secret(&caller.ctx(&state), &app.id, &secret_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Okta's older call: a new secret replaces all of the app's secrets at once; the app is
/// returned with it, shown this once.
pub async fn new_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    check_may_change(&state, &caller, &app).await?;
    let (app, secret) = credentials::rotate_secret(&caller.ctx(&state), &app.id).await?;
    Ok(Json(render::app(&state.config.issuer, &app, Some(&secret))))
}

pub async fn list_keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let issuer = &state.config.issuer;
    Ok(Json(Value::Array(
        credentials::keys_of(&app)
            .iter()
            .map(|k| render::client_jwk(issuer, &app.id, k))
            .collect(),
    )))
}

pub async fn get_key(
    State(state): State<AppState>,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let key = credentials::key_of(&app, &key_id)?;
    Ok(Json(render::client_jwk(
        &state.config.issuer,
        &app.id,
        &key,
    )))
}

pub async fn add_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Value::Object(sent) = serde_json::from_slice::<Value>(&body)
        .map_err(|e| ApiError::MalformedBody(e.to_string()))?
    else {
        return Err(ApiError::MalformedBody("a JSON Web Key object".into()));
    };
    let app = find(&state, &id).await?;
    check_may_change(&state, &caller, &app).await?;
    let key = credentials::add_key(&caller.ctx(&state), &app.id, sent).await?;
    Ok((
        StatusCode::CREATED,
        Json(render::client_jwk(&state.config.issuer, &app.id, &key)),
    ))
}

async fn change_key(
    state: &AppState,
    caller: &Caller,
    app_id: &str,
    key_id: &str,
    change: KeyChange,
) -> ApiResult<Option<Value>> {
    let app = find(state, app_id).await?;
    check_may_change(state, caller, &app).await?;
    Ok(credentials::change_key(&caller.ctx(state), &app.id, key_id, change).await?)
}

pub async fn activate_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let key = change_key(&state, &caller, &id, &key_id, KeyChange::Activate).await?;
    Ok(Json(render::client_jwk(
        &state.config.issuer,
        &id,
        &key.unwrap_or_default(),
    )))
}

pub async fn deactivate_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let key = change_key(&state, &caller, &id, &key_id, KeyChange::Deactivate).await?;
    Ok(Json(render::client_jwk(
        &state.config.issuer,
        &id,
        &key.unwrap_or_default(),
    )))
}

pub async fn delete_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    change_key(&state, &caller, &id, &key_id, KeyChange::Delete).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The app credential routes: client secrets and JSON Web Keys.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Need, Routes};
    use steward_core::roles::Permission;
    const READ: Need = need("okta.apps.read", Permission::AppsRead);
    const MANAGE: Need = need("okta.apps.manage", Permission::AppsManage);
    const SECRETS: &str = "/api/v1/apps/{id}/credentials/secrets";
    const SECRET: &str = "/api/v1/apps/{id}/credentials/secrets/{secretId}";
    const KEYS: &str = "/api/v1/apps/{id}/credentials/jwks";
    const KEY: &str = "/api/v1/apps/{id}/credentials/jwks/{keyId}";
    Routes::new("App credentials")
        .get(SECRETS, READ, list_secrets)
        .post(SECRETS, MANAGE, create_secret)
        .get(SECRET, READ, get_secret)
        .delete(SECRET, MANAGE, delete_secret)
        .post(
            "/api/v1/apps/{id}/credentials/secrets/{secretId}/lifecycle/activate",
            MANAGE,
            activate_secret,
        )
        .post(
            "/api/v1/apps/{id}/credentials/secrets/{secretId}/lifecycle/deactivate",
            MANAGE,
            deactivate_secret,
        )
        .post(
            "/api/v1/apps/{id}/credentials/lifecycle/newSecret",
            MANAGE,
            new_secret,
        )
        .get(KEYS, READ, list_keys)
        .post(KEYS, MANAGE, add_key)
        .get(KEY, READ, get_key)
        .delete(KEY, MANAGE, delete_key)
        .post(
            "/api/v1/apps/{id}/credentials/jwks/{keyId}/lifecycle/activate",
            MANAGE,
            activate_key,
        )
        .post(
            "/api/v1/apps/{id}/credentials/jwks/{keyId}/lifecycle/deactivate",
            MANAGE,
            deactivate_key,
        )
}
