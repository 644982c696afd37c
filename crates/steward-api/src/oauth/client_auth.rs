//! Client authentication at the token, introspection and revocation endpoints:
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (with a replay cache for the
//! assertion's `jti`) and `none` for public clients.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use steward_core::timefmt::now_millis;
use steward_oauth::client_assertion::{self, AssertionCheck, JWT_BEARER_ASSERTION_TYPE};
use steward_store::WriteTx;

use super::Registration;
use crate::error::{ApiError, ApiResult};
use crate::secrets::verify_secret_blocking;
use crate::AppState;

/// A client that proved who it is (or a public client that named itself).
pub struct Client {
    /// Its app and registration, shared with the client cache.
    pub reg: Arc<Registration>,
    pub client_id: String,
    /// How it authenticated: the app's registered method.
    pub method: &'static str,
    /// The client assertion's replay key and its expiry (ms), to record with the request's
    /// writes (the token ledger, or [`consume_assertion`]) so that a replayed assertion is refused.
    pub replay: Option<(String, i64)>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.method == "none"
    }
}

const NO_CREDENTIALS: &str = "No client credentials found.";
const BAD_CLIENT: &str = "The client secret supplied for a confidential client is invalid.";
/// Okta's wording for a request that authenticates the client more than one way.
const MULTIPLE_METHODS: &str = "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.";
const CLIENT_ID_MISMATCH: &str =
    "The client_id parameter does not match the client_id of the Authorization header.";

async fn load(state: &AppState, client_id: &str) -> ApiResult<Arc<Registration>> {
    let Some(reg) = state.clients.registration(&state.store, client_id).await? else {
        return Err(ApiError::invalid_client("The client is invalid."));
    };
    if !reg.app.is_active() {
        return Err(ApiError::invalid_client("The client is deactivated."));
    }
    Ok(reg)
}

/// Decodes `Authorization: Basic` into (client_id, secret), each form-urlencoded (RFC 6749 §2.3.1).
/// `Err` when the header says Basic but does not decode: refused, not silently ignored in favour
/// of whatever the form carries.
fn basic_credentials(headers: &HeaderMap) -> ApiResult<Option<(String, String)>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default();
    let (scheme, encoded) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed =
        || ApiError::invalid_client("The Basic credentials are malformed.").with_basic_challenge();
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| form_urlencoded_decode(s).unwrap_or_else(|| s.to_string());
    Ok(Some((unescape(id), unescape(secret))))
}

/// The client a request claims to be, before any check: for the System Log entry of a refused
/// request (the Basic user name, else the form's `client_id`, else the assertion's issuer).
pub fn claimed_client_id(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<String> {
    if let Ok(Some((id, _))) = basic_credentials(headers) {
        return Some(id);
    }
    form.get("client_id")
        .filter(|c| !c.is_empty())
        .cloned()
        .or_else(|| {
            form.get("client_assertion")
                .and_then(|a| client_assertion::unverified_client_id(a))
        })
}

fn form_urlencoded_decode(s: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
        .ok()?
        .into_iter()
        .next()
        .map(|(_, v)| v)
}

/// Authenticates the client of a token, introspection or revocation request.
/// `endpoint` is this endpoint's URL, an accepted assertion audience besides the issuer.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    endpoint: &str,
) -> ApiResult<Client> {
    let form_client_id = form.get("client_id").filter(|c| !c.is_empty());
    let basic = basic_credentials(headers)?;
    // RFC 6749 §2.3: one authentication method per request, or the server cannot tell which
    // one it checked. An empty `client_secret` proves nothing, so some clients send it harmlessly.
    let methods = [
        basic.is_some(),
        form.get("client_secret").is_some_and(|s| !s.is_empty()),
        form.contains_key("client_assertion"),
    ];
    if methods.iter().filter(|used| **used).count() > 1 {
        return Err(ApiError::oauth("invalid_request", MULTIPLE_METHODS));
    }
    if let Some((client_id, secret)) = basic {
        // A body `client_id` naming another client must not ride on this client's secret.
        if form_client_id.is_some_and(|id| *id != client_id) {
            return Err(ApiError::invalid_client(CLIENT_ID_MISMATCH).with_basic_challenge());
        }
        return secret_client(state, &client_id, &secret, "client_secret_basic")
            .await
            .map_err(ApiError::with_basic_challenge);
    }
    if let Some(assertion) = form.get("client_assertion") {
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER_ASSERTION_TYPE)
        {
            return Err(ApiError::oauth("invalid_request", "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
        }
        let client_id = match form_client_id {
            Some(id) => id.clone(),
            None => client_assertion::unverified_client_id(assertion)
                .ok_or_else(|| ApiError::invalid_client("The client_assertion is invalid."))?,
        };
        return assertion_client(state, &client_id, assertion, endpoint).await;
    }
    if let (Some(client_id), Some(secret)) = (form_client_id, form.get("client_secret")) {
        return secret_client(state, client_id, secret, "client_secret_post").await;
    }
    if let Some(client_id) = form_client_id {
        let reg = load(state, client_id).await?;
        if reg.oidc.token_endpoint_auth_method != "none" {
            return Err(ApiError::invalid_client(NO_CREDENTIALS));
        }
        return Ok(Client {
            reg,
            client_id: client_id.clone(),
            method: "none",
            replay: None,
        });
    }
    Err(ApiError::invalid_client(NO_CREDENTIALS))
}

async fn secret_client(
    state: &AppState,
    client_id: &str,
    secret: &str,
    method: &'static str,
) -> ApiResult<Client> {
    let loaded = load(state, client_id).await;
    let hashes: &[String] = match &loaded {
        Ok(reg) => &reg.secret_hashes,
        Err(_) => &[],
    };
    // Any ACTIVE secret will do (two during a rotation). Verify against something even for
    // unknown clients, so timing tells nothing. Argon2 runs on the blocking pool: this endpoint
    // takes unauthenticated requests.
    let mut ok = false;
    for hash in hashes {
        if verify_secret_blocking(secret, hash).await? {
            ok = true;
            break;
        }
    }
    if hashes.is_empty() {
        verify_secret_blocking(secret, &state.auth.dummy_hash).await?;
    }
    let reg = loaded?;
    if !ok {
        return Err(ApiError::invalid_client(BAD_CLIENT));
    }
    if reg.oidc.token_endpoint_auth_method != method {
        return Err(ApiError::invalid_client(format!(
            "Client authentication failed: the client is registered for {}, not {method}.",
            reg.oidc.token_endpoint_auth_method
        )));
    }
    Ok(Client {
        reg,
        client_id: client_id.to_string(),
        method,
        replay: None,
    })
}

async fn assertion_client(
    state: &AppState,
    client_id: &str,
    assertion: &str,
    endpoint: &str,
) -> ApiResult<Client> {
    let reg = load(state, client_id).await?;
    if reg.oidc.token_endpoint_auth_method != "private_key_jwt" {
        return Err(ApiError::invalid_client(
            "The client is not registered for private_key_jwt.",
        ));
    }
    let issuer = state.config.issuer.as_str();
    let token_endpoint = format!("{issuer}/oauth2/v1/token");
    let audiences = [issuer, token_endpoint.as_str(), endpoint];
    let now = now_millis() / 1000;
    let verified = client_assertion::verify_client_assertion(
        assertion,
        &reg.keys,
        &AssertionCheck::new(client_id, &audiences, now),
    )
    .map_err(|e| ApiError::invalid_client(e.description()))?;
    Ok(Client {
        reg,
        client_id: client_id.to_string(),
        method: "private_key_jwt",
        replay: Some((
            format!("{client_id}:{}", verified.jti),
            (verified.exp + 120) * 1000,
        )),
    })
}

/// Records the client assertion's `jti` in the caller's transaction; a replayed assertion is
/// refused (and the transaction, with whatever it was about to write, is dropped).
pub async fn consume_assertion(tx: &mut WriteTx, client: &Client) -> ApiResult<()> {
    if let Some((key, expires)) = &client.replay {
        if !tx.use_jti("client_assertion", key, *expires).await? {
            return Err(ApiError::invalid_client(
                "The client_assertion token has already been used (jti replay).",
            ));
        }
    }
    Ok(())
}

/// Authenticates the client and records its assertion at once (introspection, revocation).
pub async fn authenticate_once(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    endpoint: &str,
) -> ApiResult<Client> {
    let client = authenticate(state, headers, form, endpoint).await?;
    if client.replay.is_some() {
        let mut tx = state.store.begin().await?;
        consume_assertion(&mut tx, &client).await?;
        tx.commit().await?;
    }
    Ok(client)
}
