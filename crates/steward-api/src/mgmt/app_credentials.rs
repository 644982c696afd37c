//! `/api/v1/apps/{appId}/credentials/…`: an OIDC app's client secrets (up to two, so that a
//! secret can be rotated without downtime) and the public keys of its JWK Set, each ACTIVE or
//! INACTIVE. Client authentication accepts any ACTIVE secret and verifies assertions with ACTIVE
//! keys only.
//!
//! The keys stay where apps have always carried them, `settings.oauthClient.jwks`: a key written
//! through these routes carries its `id` (`pks…`), `status` and timestamps there, so the app's
//! JSON and the JWKS routes agree. A key given with the app itself has none until then: its id is
//! derived from its thumbprint (the same on every read) and it is ACTIVE.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use steward_core::apps::{
    check_client_secret, jwk_is_active, mask_secret, App, ClientSecret, OidcClient,
    MAX_CLIENT_SECRETS,
};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, random_secret, IdKind};
use steward_core::syslog::Target;
use steward_core::timefmt::{format_millis, now_millis};
use steward_oauth::jwk::{Jwk, JwkError};
use steward_store::{StoreError, WriteTx};

use super::apps::{check_may_change, find, target as app_target};
use crate::error::{ApiError, ApiResult};
use crate::http::Caller;
use crate::secrets::{hash_password_blocking, sha256_hex};
use crate::{render, AppState};

/// Okta's error summaries for these objects (`Api validation failed: …`).
const SECRET_OBJECT: &str = "OAuth2ClientSecretMediated";
const KEY_OBJECT: &str = "JsonWebKey";
/// Okta's limit of keys in a client's JWK Set.
const MAX_KEYS: usize = 50;
/// Length of the secrets Steward generates.
const GENERATED_SECRET_LEN: usize = 48;

fn secret_target(s: &ClientSecret) -> Target {
    Target::new(&s.id, "OAuth2ClientSecret", &s.id, &s.id)
}

fn key_target(key: &Value) -> Target {
    let id = key.get("id").and_then(Value::as_str).unwrap_or_default();
    let kid = key.get("kid").and_then(Value::as_str).unwrap_or(id);
    Target::new(id, "JsonWebKey", kid, kid)
}

/// The OIDC settings of an app; other apps have no OAuth credentials.
fn oidc_of(app: &App) -> ApiResult<&OidcClient> {
    app.oidc.as_ref().ok_or_else(|| {
        ApiError::validation(
            "credentials.oauthClient",
            "The app is not an OAuth 2.0 client.",
        )
    })
}

/// Refuses secrets for a client that does not authenticate with one, in Okta's words.
fn check_uses_secret(oidc: &OidcClient) -> ApiResult<()> {
    if oidc.uses_secret() {
        return Ok(());
    }
    Err(ApiError::validation(
        "client_secret",
        format!(
            "'client_secret' can't be used when 'token_endpoint_auth_method' is '{}'.",
            oidc.token_endpoint_auth_method
        ),
    ))
}

fn secret_not_found(secret_id: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(format!("{secret_id} (OAuth2ClientSecret)")),
        other => other.into(),
    }
}

/// A fresh secret row for `app_id`, hashed with argon2id; the secret itself is only returned.
async fn mint_secret(app_id: &str, secret: &str, status: &str) -> ApiResult<ClientSecret> {
    let now = now_millis();
    Ok(ClientSecret {
        id: new_id(IdKind::ClientSecret),
        app_id: app_id.to_string(),
        hash: hash_password_blocking(secret).await?,
        masked: Some(mask_secret(secret)),
        status: status.to_string(),
        created: now,
        last_updated: now,
    })
}

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
        .map_err(secret_not_found(&secret_id))?;
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
    check_uses_secret(oidc_of(&app)?)?;
    let status = parse_status(body.status.as_deref())?;
    let secret = match body.client_secret {
        Some(brought) => {
            if let Some(why) = check_client_secret(&brought) {
                return Err(ApiError::validation("client_secret", why));
            }
            brought
        }
        None => random_secret(GENERATED_SECRET_LEN),
    };
    let row = mint_secret(&app.id, &secret, status).await?;
    let mut tx = caller.begin(&state).await?;
    let app = locked_app(&mut tx, &app.id).await?;
    if tx.client_secrets(&app.id).await?.len() >= MAX_CLIENT_SECRETS {
        return Err(ApiError::validation(
            SECRET_OBJECT,
            "You've reached the maximum number of client secrets per client.",
        ));
    }
    tx.insert_client_secret(&row).await?;
    commit_change(tx, &caller, &app, "created", secret_target(&row)).await?;
    Ok((
        StatusCode::CREATED,
        Json(render::client_secret(
            &state.config.issuer,
            &row,
            Some(&secret),
        )),
    ))
}

/// The app read again inside the transaction, locked until it ends (see [`WriteTx::app`]).
async fn locked_app(tx: &mut WriteTx, id: &str) -> ApiResult<App> {
    tx.app(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(format!("{id} (App)")),
        other => other.into(),
    })
}

/// Activates or deactivates one secret. The last ACTIVE secret stays: without it the client
/// could not authenticate at all.
async fn set_secret_status(
    state: &AppState,
    caller: &Caller,
    app_id: &str,
    secret_id: &str,
    status: &str,
) -> ApiResult<Json<Value>> {
    let app = find(state, app_id).await?;
    check_may_change(state, caller, &app).await?;
    let mut tx = caller.begin(state).await?;
    let app = locked_app(&mut tx, &app.id).await?;
    let secrets = tx.client_secrets(&app.id).await?;
    let mut secret = secrets
        .iter()
        .find(|s| s.id == secret_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("{secret_id} (OAuth2ClientSecret)")))?;
    if secret.status != status {
        let others_active = secrets.iter().any(|s| s.id != secret.id && s.is_active());
        if status == "INACTIVE" && !others_active {
            return Err(ApiError::validation(
                SECRET_OBJECT,
                "You can't deactivate the only active client secret.",
            ));
        }
        secret.status = status.to_string();
        secret.last_updated = now_millis();
        tx.update_client_secret(&secret).await?;
        let change = if status == "ACTIVE" {
            "activated"
        } else {
            "deactivated"
        };
        commit_change(tx, caller, &app, change, secret_target(&secret)).await?;
    }
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
    let mut tx = caller.begin(&state).await?;
    let app = locked_app(&mut tx, &app.id).await?;
    let secret = tx
        .client_secrets(&app.id)
        .await?
        .into_iter()
        .find(|s| s.id == secret_id)
        .ok_or_else(|| ApiError::not_found(format!("{secret_id} (OAuth2ClientSecret)")))?;
    if secret.is_active() {
        return Err(ApiError::validation(
            SECRET_OBJECT,
            "You can't delete an active client secret. Deactivate the secret before deleting it.",
        ));
    }
    tx.delete_client_secret(&app.id, &secret.id)
        .await
        .map_err(secret_not_found(&secret_id))?;
    commit_change(tx, &caller, &app, "deleted", secret_target(&secret)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Okta's older call: a new secret replaces all of the app's secrets at once (the old ones stop
/// working now) and the app is returned with it, shown this once. For a rotation without
/// downtime, create a second secret and deactivate the old one instead.
pub async fn new_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    check_may_change(&state, &caller, &app).await?;
    check_uses_secret(oidc_of(&app)?)?;
    let secret = random_secret(GENERATED_SECRET_LEN);
    let row = mint_secret(&app.id, &secret, "ACTIVE").await?;
    let mut tx = caller.begin(&state).await?;
    let app = locked_app(&mut tx, &app.id).await?;
    tx.delete_client_secrets_of(&app.id).await?;
    tx.insert_client_secret(&row).await?;
    commit_change(tx, &caller, &app, "rotated", secret_target(&row)).await?;
    Ok(Json(render::app(&state.config.issuer, &app, Some(&secret))))
}

/// The id of a key that has none yet (keys given with the app itself): derived from its RFC 7638
/// thumbprint, so that it is the same on every read until a write stores it.
fn derived_key_id(key: &Value) -> String {
    let digest = match Jwk::from_value(key) {
        Ok(jwk) => jwk.thumbprint(),
        Err(_) => sha256_hex(&key.to_string()),
    };
    let tail: String = digest
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(steward_core::ids::ID_LEN - 3)
        .collect();
    format!("{}{tail}", IdKind::ClientJwk.prefix())
}

/// The keys of a JWK Set, each with its `id`, `status` and timestamps (`since` for keys that have
/// none: the time the app was last written).
fn keys_with_ids(jwks: Option<&Value>, since: i64) -> Vec<Value> {
    let keys = jwks
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    keys.into_iter()
        .map(|mut key| {
            if let Some(map) = key.as_object_mut() {
                if !map.get("id").is_some_and(Value::is_string) {
                    let id = derived_key_id(&Value::Object(map.clone()));
                    map.insert("id".into(), Value::String(id));
                }
                let status = if jwk_is_active(&Value::Object(map.clone())) {
                    "ACTIVE"
                } else {
                    "INACTIVE"
                };
                map.insert("status".into(), Value::String(status.into()));
                for field in ["created", "lastUpdated"] {
                    if !map.get(field).is_some_and(Value::is_string) {
                        map.insert(field.into(), Value::String(format_millis(since)));
                    }
                }
            }
            key
        })
        .collect()
}

fn key_id(key: &Value) -> Option<&str> {
    key.get("id").and_then(Value::as_str)
}

fn key_not_found(key_id: &str) -> ApiError {
    ApiError::not_found(format!("{key_id} (JsonWebKey)"))
}

pub async fn list_keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let keys = keys_with_ids(
        app.oidc.as_ref().and_then(|o| o.jwks.as_ref()),
        app.last_updated,
    );
    let issuer = &state.config.issuer;
    Ok(Json(Value::Array(
        keys.iter()
            .map(|k| render::client_jwk(issuer, &app.id, k))
            .collect(),
    )))
}

pub async fn get_key(
    State(state): State<AppState>,
    Path((id, key_id_wanted)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let app = find(&state, &id).await?;
    let key = keys_with_ids(
        app.oidc.as_ref().and_then(|o| o.jwks.as_ref()),
        app.last_updated,
    )
    .into_iter()
    .find(|k| key_id(k) == Some(key_id_wanted.as_str()))
    .ok_or_else(|| key_not_found(&key_id_wanted))?;
    Ok(Json(render::client_jwk(
        &state.config.issuer,
        &app.id,
        &key,
    )))
}

/// A key that cannot be added, in Okta's words where it has them.
fn key_error(e: JwkError) -> ApiError {
    let cause = match e {
        JwkError::RsaKeyTooSmall(_) => {
            "RSA key length in the 'jwks' is less than '2,048' bits for the given key.".to_string()
        }
        other => format!("jwks: {other}"),
    };
    ApiError::validation(KEY_OBJECT, cause)
}

/// Members the server sets on a key; a caller's values for them are ignored.
const SERVER_MEMBERS: [&str; 5] = ["id", "status", "created", "lastUpdated", "_links"];

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
    oidc_of(&app)?;
    let status = parse_status(sent.get("status").and_then(Value::as_str))?;
    if sent.get("use").and_then(Value::as_str) == Some("enc") {
        return Err(ApiError::validation(
            KEY_OBJECT,
            "Steward does not encrypt ID tokens: only signing keys (use: sig) can be added.",
        ));
    }
    let mut key: Map<String, Value> = sent
        .into_iter()
        .filter(|(k, _)| !SERVER_MEMBERS.contains(&k.as_str()))
        .collect();
    let jwk = Jwk::from_value(&Value::Object(key.clone())).map_err(key_error)?;
    let now = now_millis();
    key.insert("id".into(), Value::String(new_id(IdKind::ClientJwk)));
    key.insert("status".into(), Value::String(status.into()));
    key.insert("created".into(), Value::String(format_millis(now)));
    key.insert("lastUpdated".into(), Value::String(format_millis(now)));
    let key = Value::Object(key);

    let mut tx = caller.begin(&state).await?;
    let mut app = locked_app(&mut tx, &app.id).await?;
    let mut oidc = oidc_of(&app)?.clone();
    let mut keys = keys_with_ids(oidc.jwks.as_ref(), app.last_updated);
    if keys.len() >= MAX_KEYS {
        return Err(ApiError::validation(KEY_OBJECT, "You can't create a new key. You have reached the maximum number of keys allowed (50). To add another key, you must first delete an existing one."));
    }
    let kid_of = |k: &Value| k.get("kid").and_then(Value::as_str).map(str::to_string);
    if !keys.is_empty() && (jwk.kid.is_none() || keys.iter().any(|k| kid_of(k).is_none())) {
        return Err(ApiError::validation(KEY_OBJECT, "Each key should have a unique kid when adding multiple keys. Use the Apps API to update the JWKS to add a kid for the existing key, or delete the existing key and re-add the key with a kid using the JWKS APIs."));
    }
    if keys.iter().any(|k| kid_of(k) == jwk.kid) {
        return Err(ApiError::validation(
            KEY_OBJECT,
            "All keys in the 'jwks' must have a unique `kid`.",
        ));
    }
    keys.push(key.clone());
    oidc.jwks = Some(json!({ "keys": keys }));
    app.oidc = Some(oidc);
    app.last_updated = now;
    tx.update_app(&app).await?;
    commit_change(tx, &caller, &app, "created", key_target(&key)).await?;
    Ok((
        StatusCode::CREATED,
        Json(render::client_jwk(&state.config.issuer, &app.id, &key)),
    ))
}

/// What a key change does to the app's JWK Set.
enum KeyChange {
    Status(&'static str),
    Delete,
}

/// Applies `change` to one key of the app's JWK Set, with Okta's rules: a `private_key_jwt`
/// client keeps an ACTIVE key, and only an INACTIVE key can be deleted.
async fn change_key(
    state: &AppState,
    caller: &Caller,
    app_id: &str,
    wanted: &str,
    change: KeyChange,
) -> ApiResult<Option<Value>> {
    let app = find(state, app_id).await?;
    check_may_change(state, caller, &app).await?;
    let mut tx = caller.begin(state).await?;
    let mut app = locked_app(&mut tx, &app.id).await?;
    let mut oidc = oidc_of(&app)?.clone();
    let mut keys = keys_with_ids(oidc.jwks.as_ref(), app.last_updated);
    let index = keys
        .iter()
        .position(|k| key_id(k) == Some(wanted))
        .ok_or_else(|| key_not_found(wanted))?;
    let now = now_millis();
    let (change, answer) = match change {
        KeyChange::Status(status) => {
            let key = keys.get_mut(index).ok_or_else(|| key_not_found(wanted))?;
            if key.get("status").and_then(Value::as_str) == Some(status) {
                return Ok(Some(key.clone())); // nothing changes
            }
            if status == "INACTIVE" && oidc.token_endpoint_auth_method == "private_key_jwt" {
                let others_active = keys
                    .iter()
                    .enumerate()
                    .any(|(i, k)| i != index && jwk_is_active(k));
                if !others_active {
                    return Err(ApiError::validation(KEY_OBJECT, "Can't deactivate the only active JSON Web Key when the value for `token_endpoint_auth_method` is `private_key_jwt`."));
                }
            }
            let key = keys.get_mut(index).ok_or_else(|| key_not_found(wanted))?;
            key["status"] = Value::String(status.into());
            key["lastUpdated"] = Value::String(format_millis(now));
            if status == "ACTIVE" {
                ("activated", Some(key.clone()))
            } else {
                ("deactivated", Some(key.clone()))
            }
        }
        KeyChange::Delete => {
            if keys.get(index).is_some_and(jwk_is_active) {
                return Err(ApiError::validation(
                    KEY_OBJECT,
                    "You can't delete an active JSON Web Key. Deactivate the key before deleting it.",
                ));
            }
            ("deleted", None)
        }
    };
    let changed = key_target(keys.get(index).ok_or_else(|| key_not_found(wanted))?);
    if answer.is_none() {
        keys.remove(index);
    }
    oidc.jwks = Some(json!({ "keys": keys }));
    app.oidc = Some(oidc);
    app.last_updated = now;
    tx.update_app(&app).await?;
    commit_change(tx, caller, &app, change, changed).await?;
    Ok(answer)
}

pub async fn activate_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let key = change_key(&state, &caller, &id, &key_id, KeyChange::Status("ACTIVE")).await?;
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
    let key = change_key(&state, &caller, &id, &key_id, KeyChange::Status("INACTIVE")).await?;
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

/// Records a change of `app`'s credentials (`app.credential_changed`, naming the secret or key;
/// every node's client cache forgets the app, docs/events.md), and commits. `change` is
/// `created`, `rotated`, `activated`, `deactivated` or `deleted`.
async fn commit_change(
    mut tx: WriteTx,
    caller: &Caller,
    app: &App,
    change: &str,
    credential: Target,
) -> ApiResult<()> {
    let kind = if credential.kind == "JsonWebKey" {
        "key"
    } else {
        "secret"
    };
    tx.record(
        DomainEvent::AppCredentialChanged {
            app_id: app.id.clone(),
            credential_id: credential.id.clone(),
            credential: kind.into(),
            change: change.into(),
            actor: caller.actor(),
        },
        &[app_target(app), credential],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
