//! An OIDC app's credentials: its client secrets (up to two, so that a secret can be rotated
//! without downtime) and the public keys of its JWK Set, each ACTIVE or INACTIVE, with Okta's
//! rules. Client authentication accepts any ACTIVE secret and verifies assertions with ACTIVE
//! keys only.
//!
//! The keys stay where apps have always carried them, `settings.oauthClient.jwks`: a key written
//! here carries its `id` (`pks…`), `status` and timestamps there, so the app's JSON and the JWKS
//! routes agree. A key given with the app itself has none until then: its id is derived from its
//! thumbprint (the same on every read) and it is ACTIVE.

use serde_json::{json, Map, Value};
use steward_core::apps::{
    check_client_secret, jwk_is_active, mask_secret, App, ClientSecret, OidcClient,
    MAX_CLIENT_SECRETS,
};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, random_secret, IdKind};
use steward_core::syslog::Target;
use steward_core::timefmt::format_millis;
use steward_core::validation::ValidationError;
use steward_oauth::jwk::{Jwk, JwkError};
use steward_oauth::secrets::sha256_hex;
use steward_store::WriteTx;

use crate::{AppError, AppResult, Ctx};

fn invalid(summary: &str, cause: impl Into<String>) -> AppError {
    AppError::Validation(ValidationError::new(summary, cause))
}

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
fn oidc_of(app: &App) -> AppResult<&OidcClient> {
    app.oidc.as_ref().ok_or_else(|| {
        invalid(
            "credentials.oauthClient",
            "The app is not an OAuth 2.0 client.",
        )
    })
}

/// Refuses secrets for a client that does not authenticate with one, in Okta's words.
fn check_uses_secret(oidc: &OidcClient) -> AppResult<()> {
    if oidc.uses_secret() {
        return Ok(());
    }
    Err(invalid(
        "client_secret",
        format!(
            "'client_secret' can't be used when 'token_endpoint_auth_method' is '{}'.",
            oidc.token_endpoint_auth_method
        ),
    ))
}

/// A fresh secret row for `app_id`, hashed with argon2id; the secret itself is only returned.
async fn mint_secret(
    app_id: &str,
    secret: &str,
    status: &str,
    now: i64,
) -> AppResult<ClientSecret> {
    Ok(ClientSecret {
        id: new_id(IdKind::ClientSecret),
        app_id: app_id.to_string(),
        hash: crate::apps::hash_blocking(secret).await?,
        masked: Some(mask_secret(secret)),
        status: status.to_string(),
        created: now,
        last_updated: now,
    })
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

fn key_not_found(key_id: &str) -> AppError {
    AppError::NotFound(format!("{key_id} (JsonWebKey)"))
}

/// A key that cannot be added, in Okta's words where it has them.
fn key_error(e: JwkError) -> AppError {
    let cause = match e {
        JwkError::RsaKeyTooSmall(_) => {
            "RSA key length in the 'jwks' is less than '2,048' bits for the given key.".to_string()
        }
        other => format!("jwks: {other}"),
    };
    invalid(KEY_OBJECT, cause)
}

/// Members the server sets on a key; a caller's values for them are ignored.
const SERVER_MEMBERS: [&str; 5] = ["id", "status", "created", "lastUpdated", "_links"];

/// The app read again inside the transaction, locked until it ends (see `WriteTx::app`).
async fn locked_app(tx: &mut WriteTx, id: &str) -> AppResult<App> {
    tx.app(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (App)")))
}

/// The keys of the app's JWK Set, each with its `id`, `status` and timestamps.
pub fn keys_of(app: &App) -> Vec<Value> {
    keys_with_ids(
        app.oidc.as_ref().and_then(|o| o.jwks.as_ref()),
        app.last_updated,
    )
}

/// One key of the app's JWK Set by its id, or `NotFound`.
pub fn key_of(app: &App, wanted: &str) -> AppResult<Value> {
    keys_of(app)
        .into_iter()
        .find(|k| key_id(k) == Some(wanted))
        .ok_or_else(|| key_not_found(wanted))
}

/// Adds a client secret to app `app_id`: the one `brought` (checked against Okta's rules) or a
/// generated one, `ACTIVE` or `INACTIVE`; at most two per app. The row and the secret in clear
/// (shown this once; stored hashed).
pub async fn create_secret(
    ctx: &Ctx<'_>,
    app_id: &str,
    brought: Option<String>,
    status: &str,
) -> AppResult<(ClientSecret, String)> {
    let app = crate::apps::find(ctx, app_id).await?;
    check_uses_secret(oidc_of(&app)?)?;
    let secret = match brought {
        Some(brought) => {
            if let Some(why) = check_client_secret(&brought) {
                return Err(invalid("client_secret", why));
            }
            brought
        }
        None => random_secret(GENERATED_SECRET_LEN),
    };
    let row = mint_secret(&app.id, &secret, status, ctx.now).await?;
    let mut tx = ctx.begin().await?;
    let app = locked_app(&mut tx, &app.id).await?;
    if tx.client_secrets(&app.id).await?.len() >= MAX_CLIENT_SECRETS {
        return Err(invalid(
            SECRET_OBJECT,
            "You've reached the maximum number of client secrets per client.",
        ));
    }
    tx.insert_client_secret(&row).await?;
    commit_change(ctx, tx, &app, "created", secret_target(&row)).await?;
    Ok((row, secret))
}

/// Activates or deactivates one secret. The last ACTIVE secret stays: without it the client
/// could not authenticate at all.
pub async fn set_secret_status(
    ctx: &Ctx<'_>,
    app_id: &str,
    secret_id: &str,
    status: &str,
) -> AppResult<ClientSecret> {
    let mut tx = ctx.begin().await?;
    let app = locked_app(&mut tx, app_id).await?;
    let secrets = tx.client_secrets(&app.id).await?;
    let mut secret = secrets
        .iter()
        .find(|s| s.id == secret_id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("{secret_id} (OAuth2ClientSecret)")))?;
    if secret.status != status {
        let others_active = secrets.iter().any(|s| s.id != secret.id && s.is_active());
        if status == "INACTIVE" && !others_active {
            return Err(invalid(
                SECRET_OBJECT,
                "You can't deactivate the only active client secret.",
            ));
        }
        secret.status = status.to_string();
        secret.last_updated = ctx.now;
        tx.update_client_secret(&secret).await?;
        let change = if status == "ACTIVE" {
            "activated"
        } else {
            "deactivated"
        };
        commit_change(ctx, tx, &app, change, secret_target(&secret)).await?;
    }
    Ok(secret)
}

/// Deletes an INACTIVE secret (an active one is refused: deactivate it first).
pub async fn delete_secret(ctx: &Ctx<'_>, app_id: &str, secret_id: &str) -> AppResult<()> {
    let mut tx = ctx.begin().await?;
    let app = locked_app(&mut tx, app_id).await?;
    let secret = tx
        .client_secrets(&app.id)
        .await?
        .into_iter()
        .find(|s| s.id == secret_id)
        .ok_or_else(|| AppError::NotFound(format!("{secret_id} (OAuth2ClientSecret)")))?;
    if secret.is_active() {
        return Err(invalid(
            SECRET_OBJECT,
            "You can't delete an active client secret. Deactivate the secret before deleting it.",
        ));
    }
    tx.delete_client_secret(&app.id, &secret.id)
        .await
        .map_err(AppError::not_found_as(format!(
            "{secret_id} (OAuth2ClientSecret)"
        )))?;
    commit_change(ctx, tx, &app, "deleted", secret_target(&secret)).await
}

/// Okta's older call: a new secret replaces all of the app's secrets at once (the old ones stop
/// working now). The app and the new secret in clear, shown this once. For a rotation without
/// downtime, create a second secret and deactivate the old one instead.
pub async fn rotate_secret(ctx: &Ctx<'_>, app_id: &str) -> AppResult<(App, String)> {
    let app = crate::apps::find(ctx, app_id).await?;
    check_uses_secret(oidc_of(&app)?)?;
    let secret = random_secret(GENERATED_SECRET_LEN);
    let row = mint_secret(&app.id, &secret, "ACTIVE", ctx.now).await?;
    let mut tx = ctx.begin().await?;
    let app = locked_app(&mut tx, &app.id).await?;
    tx.delete_client_secrets_of(&app.id).await?;
    tx.insert_client_secret(&row).await?;
    commit_change(ctx, tx, &app, "rotated", secret_target(&row)).await?;
    Ok((app, secret))
}

/// Adds the public key `sent` (members the server sets are ignored) to the app's JWK Set, with
/// Okta's rules: signing keys only, at most 50, each with a unique `kid` once there are several.
pub async fn add_key(ctx: &Ctx<'_>, app_id: &str, sent: Map<String, Value>) -> AppResult<Value> {
    let app = crate::apps::find(ctx, app_id).await?;
    oidc_of(&app)?;
    let status = match sent.get("status").and_then(Value::as_str) {
        None | Some("ACTIVE") => "ACTIVE",
        Some("INACTIVE") => "INACTIVE",
        Some(other) => {
            return Err(invalid(
                "status",
                format!("status: '{other}' is not one of ACTIVE, INACTIVE"),
            ))
        }
    };
    if sent.get("use").and_then(Value::as_str) == Some("enc") {
        return Err(invalid(
            KEY_OBJECT,
            "Steward does not encrypt ID tokens: only signing keys (use: sig) can be added.",
        ));
    }
    let mut key: Map<String, Value> = sent
        .into_iter()
        .filter(|(k, _)| !SERVER_MEMBERS.contains(&k.as_str()))
        .collect();
    let jwk = Jwk::from_value(&Value::Object(key.clone())).map_err(key_error)?;
    let now = ctx.now;
    key.insert("id".into(), Value::String(new_id(IdKind::ClientJwk)));
    key.insert("status".into(), Value::String(status.into()));
    key.insert("created".into(), Value::String(format_millis(now)));
    key.insert("lastUpdated".into(), Value::String(format_millis(now)));
    let key = Value::Object(key);

    let mut tx = ctx.begin().await?;
    let mut app = locked_app(&mut tx, &app.id).await?;
    let mut oidc = oidc_of(&app)?.clone();
    let mut keys = keys_with_ids(oidc.jwks.as_ref(), app.last_updated);
    if keys.len() >= MAX_KEYS {
        return Err(invalid(KEY_OBJECT, "You can't create a new key. You have reached the maximum number of keys allowed (50). To add another key, you must first delete an existing one."));
    }
    let kid_of = |k: &Value| k.get("kid").and_then(Value::as_str).map(str::to_string);
    if !keys.is_empty() && (jwk.kid.is_none() || keys.iter().any(|k| kid_of(k).is_none())) {
        return Err(invalid(KEY_OBJECT, "Each key should have a unique kid when adding multiple keys. Use the Apps API to update the JWKS to add a kid for the existing key, or delete the existing key and re-add the key with a kid using the JWKS APIs."));
    }
    if keys.iter().any(|k| kid_of(k) == jwk.kid) {
        return Err(invalid(
            KEY_OBJECT,
            "All keys in the 'jwks' must have a unique `kid`.",
        ));
    }
    keys.push(key.clone());
    oidc.jwks = Some(json!({ "keys": keys }));
    app.oidc = Some(oidc);
    app.last_updated = now;
    tx.update_app(&app).await?;
    commit_change(ctx, tx, &app, "created", key_target(&key)).await?;
    Ok(key)
}

/// What a key change does to the app's JWK Set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    Activate,
    Deactivate,
    Delete,
}

/// Applies `change` to one key of the app's JWK Set, with Okta's rules: a `private_key_jwt`
/// client keeps an ACTIVE key, and only an INACTIVE key can be deleted. The key as it is now
/// (`None` once deleted).
pub async fn change_key(
    ctx: &Ctx<'_>,
    app_id: &str,
    wanted: &str,
    change: KeyChange,
) -> AppResult<Option<Value>> {
    let mut tx = ctx.begin().await?;
    let mut app = locked_app(&mut tx, app_id).await?;
    let mut oidc = oidc_of(&app)?.clone();
    let mut keys = keys_with_ids(oidc.jwks.as_ref(), app.last_updated);
    let index = keys
        .iter()
        .position(|k| key_id(k) == Some(wanted))
        .ok_or_else(|| key_not_found(wanted))?;
    let now = ctx.now;
    let (recorded, answer) = match change {
        KeyChange::Activate | KeyChange::Deactivate => {
            let status = if change == KeyChange::Activate {
                "ACTIVE"
            } else {
                "INACTIVE"
            };
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
                    return Err(invalid(KEY_OBJECT, "Can't deactivate the only active JSON Web Key when the value for `token_endpoint_auth_method` is `private_key_jwt`."));
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
                return Err(invalid(
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
    commit_change(ctx, tx, &app, recorded, changed).await?;
    Ok(answer)
}

/// Records a change of `app`'s credentials (`app.credential_changed`, naming the secret or key;
/// every node's client cache forgets the app, docs/events.md), and commits. `change` is
/// `created`, `rotated`, `activated`, `deactivated` or `deleted`.
async fn commit_change(
    ctx: &Ctx<'_>,
    mut tx: WriteTx,
    app: &App,
    change: &str,
    credential: Target,
) -> AppResult<()> {
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
            actor: ctx.actor.clone(),
        },
        &[Target::app(app), credential],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::apps::{create, NewApp};
    use crate::testing::{self, log_types};

    #[tokio::test]
    async fn a_client_keeps_one_active_secret_and_deletes_only_inactive_ones() {
        let store = testing::org().await;
        let ctx = Ctx::system(&store);
        let settings =
            json!({"application_type": "service", "grant_types": ["client_credentials"]});
        let credentials = json!({"token_endpoint_auth_method": "client_secret_basic"});
        let new = NewApp {
            name: None,
            label: "Rotating".into(),
            oidc: OidcClient::from_request(&settings, &credentials).unwrap(),
            client_id: None,
            activate: true,
        };
        let (app, _) = create(&ctx, new).await.unwrap();
        let first = store.client_secrets(&app.id).await.unwrap().remove(0);

        let only = set_secret_status(&ctx, &app.id, &first.id, "INACTIVE").await;
        assert!(matches!(only, Err(AppError::Validation(_))), "{only:?}");
        let active = delete_secret(&ctx, &app.id, &first.id).await;
        assert!(matches!(active, Err(AppError::Validation(_))), "{active:?}");

        let (second, clear) = create_secret(&ctx, &app.id, None, "ACTIVE").await.unwrap();
        assert!(steward_oauth::secrets::verify_secret(&clear, &second.hash));
        let third = create_secret(&ctx, &app.id, None, "ACTIVE").await;
        assert!(matches!(third, Err(AppError::Validation(_))), "at most two");
        set_secret_status(&ctx, &app.id, &first.id, "INACTIVE")
            .await
            .unwrap();
        delete_secret(&ctx, &app.id, &first.id).await.unwrap();
        let logged = log_types(&store).await;
        assert_eq!(
            logged[logged.len() - 3..],
            [
                "app.oauth2.credentials.lifecycle.create".to_string(),
                "app.oauth2.credentials.lifecycle.deactivate".to_string(),
                "app.oauth2.credentials.lifecycle.delete".to_string(),
            ]
        );
    }
}
