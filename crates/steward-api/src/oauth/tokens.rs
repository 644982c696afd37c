//! `POST /oauth2/v1/token`: the authorization code, refresh token and client credentials grants,
//! with DPoP binding. Every issue and every denial is written to the System Log.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use steward_core::ids::random_secret;
use steward_core::syslog::{Actor, ClientInfo, LogEvent, Target};
use steward_core::timefmt::now_millis;
use steward_oauth::dpop::{self, NoncePolicy, ProofCheck};
use steward_oauth::jwt::{self, AccessTokenSpec, IdTokenSpec, UserClaims};
use steward_oauth::pkce;
use steward_oauth::scopes::{self as scope_rules, Grant};
use steward_oauth::secrets::sha256_hex;
use steward_store::{IssueOutcome, IssueRecord, IssuedToken, RefreshToken, StoreError, WriteTx};

use super::client_auth::{self, Client};
use super::ledger::Expected;
use super::Form;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, RequestClient};

/// Refresh tokens live 90 days from the original grant, rotation or not (Okta's rule).
const REFRESH_LIFETIME_MS: i64 = 90 * 24 * 3600 * 1000;
const CLIENT_CREDENTIALS_NEEDS_KEYS: &str = "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.";

/// What a token request is about to mint.
struct Minted {
    client: Client,
    user: Option<steward_core::directory::User>,
    scopes: Vec<String>,
    /// The scope of the refresh token to issue, if one is.
    refresh_scopes: Vec<String>,
    auth_time: Option<i64>,
    nonce: Option<String>,
    jkt: Option<String>,
    /// Refresh-token family to continue (refresh grant) or none.
    family: Option<(String, i64)>,
    code_hash: Option<String>,
    refresh: bool,
}

/// Writes a denial to the System Log, then returns the error.
async fn deny(
    state: &AppState,
    caller: &ClientInfo,
    client_id: Option<&str>,
    grant: &str,
    err: ApiError,
) -> ApiError {
    if let ApiError::OAuth {
        error, description, ..
    } = &err
    {
        let event = LogEvent::new(
            "app.oauth2.as.token.grant",
            "OAuth2 token request denied",
            Actor::client(
                client_id.unwrap_or("unknown"),
                client_id.unwrap_or("unknown"),
            ),
            now_millis(),
        )
        .outcome("FAILURE", Some(format!("{error}: {description}")))
        .debug("grantType", grant)
        .client(caller.clone());
        // Through the group commit: a burst of refused requests shares its syncs with the
        // tokens being issued instead of queueing one commit each before them.
        let record = IssueRecord {
            replays: Vec::new(),
            refresh: None,
            issued: None,
            log: event,
        };
        if let Err(e) = state.ledger.record(record, state.ledger.announce()).await {
            tracing::warn!(error = %e, "could not log a refused token request");
        }
    }
    err
}

pub async fn token(
    State(state): State<AppState>,
    RequestClient(caller): RequestClient,
    headers: HeaderMap,
    Form(form): Form,
) -> Response {
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    // Only client credentials join the group commit: announcing other grants would hold its
    // batches open for requests that never record through it.
    let expected = (grant == "client_credentials").then(|| state.ledger.announce());
    match handle(&state, &caller, &headers, &form, &grant, expected).await {
        Ok(response) => response,
        Err(err) => {
            let client_id = client_auth::claimed_client_id(&headers, &form);
            deny(&state, &caller, client_id.as_deref(), &grant, err)
                .await
                .into_response()
        }
    }
}

async fn handle(
    state: &AppState,
    caller: &ClientInfo,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    grant: &str,
    expected: Option<Expected>,
) -> ApiResult<Response> {
    let endpoint = format!("{}/oauth2/v1/token", state.config.issuer);
    if !matches!(
        grant,
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(ApiError::oauth("unsupported_grant_type", format!("The authorization grant type is not supported by the authorization server: '{grant}'.")));
    }
    let client = client_auth::authenticate(state, headers, form, &endpoint).await?;
    if !client.reg.oidc.allows_grant(grant) {
        return Err(ApiError::oauth("unauthorized_client", format!("The client is not authorized to use the provided grant type. Configured grant types: {}.", client.reg.oidc.grant_types.join(", "))));
    }
    let dpop = dpop_binding(state, headers, &endpoint).await?;
    let jkt = dpop.as_ref().map(|d| d.jkt.clone());
    if grant == "client_credentials" {
        let minted = client_credentials(state, client, form, jkt).await?;
        let expected = expected.unwrap_or_else(|| state.ledger.announce());
        return issue_through_ledger(state, minted, dpop, caller, expected).await;
    }
    let (mut tx, minted) = match grant {
        "authorization_code" => {
            authorization_code(state, caller, client, form, jkt, dpop.as_ref()).await?
        }
        _ => refresh(state, caller, client, form, jkt, dpop.as_ref()).await?,
    };
    let (response, record) = mint(state, minted, caller)?;
    tx.record_issues(std::slice::from_ref(&record)).await?;
    tx.commit().await?;
    Ok(response)
}

/// How long a DPoP proof's `jti` is kept at the token endpoint (proofs live ±300 s).
const DPOP_REPLAY_MS: i64 = 600_000;

/// Opens the transaction of a code or refresh grant, which spend one-time state (the code, the
/// refresh token): everything they write is one transaction, so a refused request spends
/// nothing and a concurrent revocation of the code or family (which waits for this one) sees the
/// tokens it issues. The assertion's and DPoP proof's `jti`s are recorded first. Read through
/// the pool before this, never while holding it: on PostgreSQL a transaction holds a pool
/// connection, and waiting for a second one could exhaust the pool.
async fn begin_spending(
    state: &AppState,
    client: &Client,
    dpop: Option<&DpopBinding>,
) -> ApiResult<WriteTx> {
    let mut tx = state.store.begin().await?;
    client_auth::consume_assertion(&mut tx, client).await?;
    if let Some(d) = dpop {
        if !tx
            .use_jti("dpop", &d.replay, now_millis() + DPOP_REPLAY_MS)
            .await?
        {
            return Err(dpop_replayed(d));
        }
    }
    Ok(tx)
}

fn dpop_replayed(d: &DpopBinding) -> ApiError {
    ApiError::OAuth {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_dpop_proof",
        description: "The DPoP proof has already been used.".into(),
        dpop_nonce: Some(d.nonce.clone()),
        basic_challenge: false,
    }
}

/// Verifies a `DPoP` proof if one came, answering `use_dpop_nonce` until it carries our nonce.
async fn dpop_binding(
    state: &AppState,
    headers: &HeaderMap,
    endpoint: &str,
) -> ApiResult<Option<DpopBinding>> {
    let proofs: Vec<&str> = headers
        .get_all("dpop")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if proofs.is_empty() {
        return Ok(None);
    }
    let now = now_millis() / 1000;
    let fresh_nonce = state.auth.dpop_nonces.current(now);
    let oauth = |error: &'static str, description: String| ApiError::OAuth {
        status: StatusCode::BAD_REQUEST,
        error,
        description,
        dpop_nonce: Some(fresh_nonce.clone()),
        basic_challenge: false,
    };
    if proofs.len() > 1 {
        return Err(oauth(
            "invalid_dpop_proof",
            "Exactly one DPoP proof is allowed.".into(),
        ));
    }
    let mut check = ProofCheck::new("POST", endpoint, now);
    check.nonce = NoncePolicy::Minted(&state.auth.dpop_nonces);
    let proof =
        dpop::verify_proof(proofs[0], &check).map_err(|e| oauth(e.error(), e.description()))?;
    Ok(Some(DpopBinding {
        replay: format!("{}:{}", proof.jkt, proof.jti),
        jkt: proof.jkt,
        nonce: fresh_nonce,
    }))
}

/// A verified DPoP proof at the token endpoint: the key to bind, and the proof's replay key
/// (recorded with the token's writes).
struct DpopBinding {
    jkt: String,
    replay: String,
    nonce: String,
}

const NOT_ASSIGNED: &str = "The user is not assigned to the client application.";

fn invalid_grant(description: &str) -> ApiError {
    ApiError::oauth("invalid_grant", description)
}

/// Redeems a code in the grant's transaction ([`begin_spending`]). Returns the transaction with
/// the code spent; every refusal drops it (the code stays unspent), except a replay, whose
/// revocations are committed here.
async fn authorization_code(
    state: &AppState,
    caller: &ClientInfo,
    client: Client,
    form: &HashMap<String, String>,
    jkt: Option<String>,
    dpop: Option<&DpopBinding>,
) -> ApiResult<(WriteTx, Minted)> {
    let code = form
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::oauth("invalid_request", "The 'code' parameter is required."))?;
    let code_hash = sha256_hex(code);
    let now = now_millis();
    let mut tx = begin_spending(state, &client, dpop).await?;
    let (stored, won) = match tx.take_auth_code(&code_hash, now).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => {
            return Err(invalid_grant(
                "The authorization code is invalid or has expired.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if stored.client_id != client.client_id {
        // Another client's code: refused, and neither spent nor treated as its replay.
        return Err(invalid_grant(
            "The authorization code is invalid or has expired.",
        ));
    }
    if !won {
        // A replayed code: revoke everything it issued (RFC 6749 §4.1.2).
        tx.revoke_by_code(&code_hash, now).await?;
        tx.append_log(
            &LogEvent::new(
                "app.oauth2.as.token.grant",
                "Authorization code replayed; its tokens are revoked",
                Actor::client(&client.client_id, &client.reg.app.label),
                now,
            )
            .outcome("DENY", Some("authorization code reuse".into()))
            .client(caller.clone()),
        )
        .await?;
        tx.commit().await?;
        for jti in state.store.jtis_of_code(&code_hash).await? {
            state.auth.note_revoked(&jti, i64::MAX);
        }
        return Err(invalid_grant(
            "The authorization code is invalid or has expired.",
        ));
    }
    if stored.expires < now {
        return Err(invalid_grant(
            "The authorization code is invalid or has expired.",
        ));
    }
    if form.get("redirect_uri").map(String::as_str) != Some(stored.redirect_uri.as_str()) {
        return Err(invalid_grant("The 'redirect_uri' does not match the redirection URI used in the authorization request."));
    }
    pkce::check_token_request(
        stored.code_challenge.as_deref(),
        form.get("code_verifier").map(String::as_str),
    )
    .map_err(|e| ApiError::oauth(e.error(), e.description()))?;
    if client.is_public() && stored.code_challenge.is_none() {
        return Err(invalid_grant(
            "PKCE code verifier is required for public clients.",
        ));
    }
    if let Some(bound) = &stored.dpop_jkt {
        if jkt.as_deref() != Some(bound) {
            return Err(ApiError::oauth(
                "invalid_dpop_proof",
                "The DPoP proof key does not match the dpop_jkt of the authorization request.",
            ));
        }
    }
    let user = tx.user(&stored.user_id).await?;
    if !user.status.credentials_act() {
        return Err(invalid_grant("The user is not active."));
    }
    // A code issued before the user was unassigned does not outlive the assignment.
    if !tx.is_assigned(&client.reg.app.id, &user.id).await? {
        return Err(invalid_grant(NOT_ASSIGNED));
    }
    let scopes: Vec<String> = stored
        .scopes
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let refresh = scope_rules::issues_refresh_token(&scopes, true)
        && client.reg.oidc.allows_grant("refresh_token");
    let minted = Minted {
        client,
        user: Some(user),
        refresh_scopes: scopes.clone(),
        scopes,
        auth_time: Some(stored.auth_time),
        nonce: stored.nonce,
        jkt,
        family: None,
        code_hash: Some(code_hash),
        refresh,
    };
    Ok((tx, minted))
}

/// Rotates a refresh token in the grant's transaction (like [`authorization_code`]: a refusal
/// drops it, a reuse commits the family's revocation).
async fn refresh(
    state: &AppState,
    caller: &ClientInfo,
    client: Client,
    form: &HashMap<String, String>,
    jkt: Option<String>,
    dpop: Option<&DpopBinding>,
) -> ApiResult<(WriteTx, Minted)> {
    let token = form
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::oauth(
                "invalid_request",
                "The 'refresh_token' parameter is required.",
            )
        })?;
    let hash = sha256_hex(token);
    let now = now_millis();
    let stored = match state.store.refresh_token(&hash).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            return Err(invalid_grant("The refresh token is invalid or expired."))
        }
        Err(e) => return Err(e.into()),
    };
    if stored.client_id != client.client_id || stored.revoked_at.is_some() || stored.expires < now {
        return Err(invalid_grant("The refresh token is invalid or expired."));
    }
    if let Some(bound) = &stored.jkt {
        if jkt.as_deref() != Some(bound) {
            return Err(ApiError::oauth(
                "invalid_dpop_proof",
                "The refresh token is bound to a DPoP key; present a proof signed with it.",
            ));
        }
    }
    let original: Vec<String> = stored
        .scopes
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let granted = state
        .clients
        .granted_scopes(&state.store, &client.reg.app.id, &state.config.issuer)
        .await?;
    let scopes = scope_rules::decide_with_catalogue(
        form.get("scope").map(String::as_str),
        Grant::Refresh {
            original: &original,
        },
        &granted,
    )
    .map_err(|e| ApiError::oauth(e.error(), e.description()))?;
    let user = state.store.user(&stored.user_id).await?;
    let mut tx = begin_spending(state, &client, dpop).await?;
    // Unassigning a user revokes their refresh tokens for the app; checked again here, before
    // the token row is taken (see `WriteTx::is_assigned`).
    if !tx.is_assigned(&client.reg.app.id, &stored.user_id).await? {
        return Err(invalid_grant(NOT_ASSIGNED));
    }
    if !tx
        .rotate_refresh_token(&hash, &stored.family_id, now)
        .await?
    {
        // A rotated refresh token came back: someone holds a stolen copy. Revoke the family.
        tx.revoke_family(&stored.family_id, now).await?;
        tx.append_log(
            &LogEvent::new(
                "app.oauth2.as.token.grant",
                "Refresh token reuse detected; the token family is revoked",
                Actor::client(&client.client_id, &client.reg.app.label),
                now,
            )
            .outcome("DENY", Some("refresh token reuse".into()))
            .client(caller.clone()),
        )
        .await?;
        tx.commit().await?;
        for jti in state.store.jtis_of_family(&stored.family_id).await? {
            state.auth.note_revoked(&jti, i64::MAX);
        }
        return Err(invalid_grant("The refresh token is invalid or expired."));
    }
    if !user.status.credentials_act() {
        return Err(invalid_grant("The user is not active."));
    }
    let minted = Minted {
        client,
        user: Some(user),
        // The new refresh token keeps the scope of the one it replaces (RFC 6749 §6), however
        // narrow this access token is.
        refresh_scopes: original,
        scopes,
        auth_time: Some(stored.auth_time),
        nonce: None,
        jkt: jkt.or(stored.jkt),
        family: Some((stored.family_id, stored.expires)),
        code_hash: None,
        refresh: true,
    };
    Ok((tx, minted))
}

async fn client_credentials(
    state: &AppState,
    client: Client,
    form: &HashMap<String, String>,
    jkt: Option<String>,
) -> ApiResult<Minted> {
    if client.method != "private_key_jwt" {
        return Err(ApiError::invalid_client(CLIENT_CREDENTIALS_NEEDS_KEYS));
    }
    let granted = state
        .clients
        .granted_scopes(&state.store, &client.reg.app.id, &state.config.issuer)
        .await?;
    let scopes = scope_rules::decide_with_catalogue(
        form.get("scope").map(String::as_str),
        Grant::ClientCredentials,
        &granted,
    )
    .map_err(|e| ApiError::oauth(e.error(), e.description()))?;
    Ok(Minted {
        client,
        user: None,
        refresh_scopes: Vec::new(),
        scopes,
        auth_time: None,
        nonce: None,
        jkt,
        family: None,
        code_hash: None,
        refresh: false,
    })
}

/// Client credentials: records the tokens, the assertion's and DPoP proof's `jti`s and the log
/// event through the group commit, and answers once they are durable.
async fn issue_through_ledger(
    state: &AppState,
    m: Minted,
    dpop: Option<DpopBinding>,
    caller: &ClientInfo,
    expected: Expected,
) -> ApiResult<Response> {
    let mut replays = Vec::with_capacity(2);
    if let Some((key, expires)) = &m.client.replay {
        replays.push(("client_assertion", key.clone(), *expires));
    }
    if let Some(d) = &dpop {
        replays.push(("dpop", d.replay.clone(), now_millis() + DPOP_REPLAY_MS));
    }
    let (response, mut record) = mint(state, m, caller)?;
    record.replays = replays;
    match (state.ledger.record(record, expected).await?, &dpop) {
        (IssueOutcome::Written, _) => Ok(response),
        (IssueOutcome::Replayed("dpop"), Some(d)) => Err(dpop_replayed(d)),
        (IssueOutcome::Replayed(_), _) => Err(ApiError::invalid_client(
            "The client_assertion token has already been used (jti replay).",
        )),
    }
}

/// Signs the tokens and builds the answer and what must be recorded before it is sent (the
/// refresh token, the access-token record, the log event; no replay keys).
fn mint(state: &AppState, m: Minted, caller: &ClientInfo) -> ApiResult<(Response, IssueRecord)> {
    let issuer = state.config.issuer.as_str();
    let ring = state.auth.ring();
    let key = ring.active();
    let now_ms = now_millis();
    let now = now_ms / 1000;
    let subject = m
        .user
        .as_ref()
        .map(|u| u.login().to_string())
        .unwrap_or_else(|| m.client.client_id.clone());
    let access = jwt::issue_access_token(
        key,
        &AccessTokenSpec {
            issuer,
            audience: issuer,
            client_id: &m.client.client_id,
            user_id: m.user.as_ref().map(|u| u.id.as_str()),
            subject: &subject,
            scopes: &m.scopes,
            auth_time: m.auth_time.map(|t| t / 1000),
            jkt: m.jkt.as_deref(),
            issued_at: now,
            lifetime_secs: jwt::ACCESS_TOKEN_LIFETIME_SECS,
        },
    )
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut body = json!({
        "token_type": if m.jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": jwt::ACCESS_TOKEN_LIFETIME_SECS,
        "access_token": access.token,
        "scope": m.scopes.join(" "),
    });
    if let (Some(user), true) = (&m.user, m.scopes.iter().any(|s| s == "openid")) {
        let claims = user_claims(user);
        let id = jwt::issue_id_token(
            key,
            &IdTokenSpec {
                issuer,
                client_id: &m.client.client_id,
                subject: &user.id,
                issued_at: now,
                lifetime_secs: jwt::ID_TOKEN_LIFETIME_SECS,
                auth_time: m.auth_time.map(|t| t / 1000).unwrap_or(now),
                nonce: m.nonce.as_deref(),
                amr: &["pwd".to_string()],
                idp: None,
                scopes: &m.scopes,
                user: &claims,
                access_token: Some(&access.token),
            },
        )
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        body["id_token"] = Value::String(id.token);
    }
    let family = match (&m.family, m.refresh) {
        (Some((family, _)), _) => Some(family.clone()),
        (None, true) => Some(random_secret(24)),
        (None, false) => None,
    };
    let mut refresh_record = None;
    if let (true, Some(family), Some(user)) = (m.refresh, &family, &m.user) {
        let refresh = random_secret(48);
        refresh_record = Some(RefreshToken {
            token_hash: sha256_hex(&refresh),
            family_id: family.clone(),
            client_id: m.client.client_id.clone(),
            user_id: user.id.clone(),
            scopes: m.refresh_scopes.join(" "),
            auth_time: m.auth_time.unwrap_or(now_ms),
            // Public clients' refresh tokens are bound to their DPoP key.
            jkt: if m.client.is_public() {
                m.jkt.clone()
            } else {
                None
            },
            created: now_ms,
            expires: m
                .family
                .as_ref()
                .map(|(_, exp)| *exp)
                .unwrap_or(now_ms + REFRESH_LIFETIME_MS),
            rotated_at: None,
            revoked_at: None,
        });
        body["refresh_token"] = Value::String(refresh);
    }
    let actor = match &m.user {
        Some(u) => Actor::user(&u.id, u.login(), &u.display_name()),
        None => Actor::client(&m.client.client_id, &m.client.reg.app.label),
    };
    let log = LogEvent::new(
        "app.oauth2.as.token.grant.access_token",
        "OAuth2 access token is granted",
        actor,
        now_ms,
    )
    .target(Target::new(
        &access.claims.jti,
        "access_token",
        &m.client.client_id,
        &m.client.reg.app.label,
    ))
    .debug("grantedScopes", m.scopes.join(" "))
    .debug("clientId", m.client.client_id.clone())
    .client(caller.clone());
    let record = IssueRecord {
        replays: Vec::new(),
        refresh: refresh_record,
        issued: Some(IssuedToken {
            jti: access.claims.jti.clone(),
            client_id: m.client.client_id.clone(),
            user_id: m.user.as_ref().map(|u| u.id.clone()),
            family_id: family,
            code_hash: m.code_hash.clone(),
            scopes: m.scopes.join(" "),
            created: now_ms,
            expires: access.claims.exp * 1000,
            revoked_at: None,
        }),
        log,
    };
    let mut response = (StatusCode::OK, Json(body)).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if m.jkt.is_some() {
        if let Ok(v) = HeaderValue::from_str(&state.auth.dpop_nonces.current(now)) {
            h.insert("dpop-nonce", v);
        }
    }
    Ok((response, record))
}

/// What the directory knows of a user, as OIDC claims.
pub fn user_claims(user: &steward_core::directory::User) -> UserClaims {
    let text = |k: &str| {
        user.profile
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    UserClaims {
        name: Some(user.display_name()),
        given_name: text("firstName"),
        family_name: text("lastName"),
        preferred_username: Some(user.login().to_string()),
        email: text("email"),
        email_verified: Some(true),
        locale: text("locale"),
        zoneinfo: text("timezone"),
        updated_at: Some(user.last_updated / 1000),
    }
}
