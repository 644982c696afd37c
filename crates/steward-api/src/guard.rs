//! The resource-server guard: one mechanism in front of every `/api/v1`, `/governance/api` and
//! client-role route. Each route is declared with its [`Need`] (scope and admin permission) by
//! the builder in [`crate::routes`], which wraps it in [`enforce`] with that `Need`; the guard
//! authenticates the caller, checks the scope (OAuth tokens only: SSWS tokens are unscoped) and
//! then the caller's roles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use dashmap::DashMap;
use steward_core::directory::User;
use steward_core::roles::{any_allows, RoleType};
use steward_core::syslog::Actor;
use steward_core::timefmt::now_millis;
use steward_oauth::challenge;
use steward_oauth::guard::{self as rs, Credentials, GuardConfig, ResourceRequest};
use steward_oauth::jwk::JwsAlg;
use steward_oauth::jwt::AccessTokenClaims;
use steward_store::{PrincipalType, StoreError};

use crate::error::ApiError;
use crate::http::Caller;
pub use crate::routes::Need;
use crate::secrets::sha256_hex;
use crate::{credential_digest, AppState, CredentialDigest, RequestClient};

/// Which of a route's scopes an access token holds (SSWS tokens are unscoped: `admin` only).
#[derive(Debug, Clone, Copy)]
struct Held {
    /// The route's own scope (or one implying it): the principal's roles decide.
    admin: bool,
    /// The route's `.self` scope (`okta.users.read.self`...): the caller's own record only.
    own: bool,
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `Authorization: SSWS …`: unscoped, acts with its admin's roles.
    ApiToken { token_id: String },
    /// An access token of the org authorization server: scoped; acts with the user's roles
    /// (user tokens) or the roles assigned to the service app (client credentials).
    AccessToken {
        client_id: String,
        jti: String,
        scopes: Vec<String>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub credential: Credential,
    /// The user the call acts as (the token's admin, or the signed-in user).
    pub user: Option<User>,
    pub roles: Vec<RoleType>,
    pub actor: Actor,
}

impl Principal {
    pub fn is_super_admin(&self) -> bool {
        self.roles.contains(&RoleType::SuperAdmin)
    }
}

/// Verified SSWS principals, keyed by the token's hash. Entries live a few seconds so that a
/// hot token costs no database round trip; a committed change to a user's status or roles, or to
/// a client, clears the cache (at once on this node, within a second on the others through the
/// outbox: `crate::outbox`). The lifetime bounds what a missed event could cost.
pub struct PrincipalCache {
    entries: DashMap<String, (Instant, Arc<Principal>)>,
    ttl_ms: AtomicU64,
}

const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 10_000;

impl Default for PrincipalCache {
    fn default() -> Self {
        PrincipalCache {
            entries: DashMap::new(),
            ttl_ms: AtomicU64::new(CACHE_TTL.as_millis() as u64),
        }
    }
}

impl PrincipalCache {
    fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms.load(Ordering::Relaxed))
    }

    /// How long an entry is trusted (5 seconds unless set; tests lengthen it to show that
    /// invalidation, not expiry, removed an entry).
    pub fn set_ttl(&self, ttl: Duration) {
        self.ttl_ms.store(
            ttl.as_millis().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    fn get(&self, key: &str) -> Option<Arc<Principal>> {
        let hit = self.entries.get(key)?;
        (hit.0.elapsed() < self.ttl()).then(|| hit.1.clone())
    }

    fn put(&self, key: String, principal: Arc<Principal>) {
        if self.entries.len() >= CACHE_MAX {
            let ttl = self.ttl();
            self.entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        self.entries.insert(key, (Instant::now(), principal));
    }

    /// Forgets everything (after a revocation or a role change).
    pub fn clear(&self) {
        self.entries.clear();
    }
}

/// The guard of one route, installed by [`crate::routes::Routes`] with the route's `need` and
/// `.self` scope: authenticate, check scope and permission, hand the [`Caller`] to the handler.
pub async fn enforce(
    state: AppState,
    need: Need,
    self_scope: Option<&'static str>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Hold the request's parts (Sync) across the awaits, not the request (its body is not).
    let (mut parts, body) = req.into_parts();
    let (principal, held) = authenticate(&state, &parts, need, self_scope).await?;
    let mut own_record = false;
    if need.self_service {
        // `/my/…` acts as the signed-in user: SSWS tokens are not accepted there (401), and
        // client-credentials tokens have no user (403).
        match (&principal.credential, &principal.user) {
            (Credential::AccessToken { .. }, Some(_)) => {}
            (Credential::ApiToken { .. }, _) => return Err(no_credentials(&state.config.issuer)),
            _ => return Err(ApiError::Forbidden),
        }
    } else if !(held.admin && any_allows(&principal.roles, need.permission)) {
        // Not as an admin; a user's token with the `.self` scope still reaches its own record
        // (`me`, its id or its login), whatever its roles. Decided on the path, before any
        // handler looks another user up.
        let own = match &principal.user {
            Some(user) if held.own => names_user(&mut parts, &state, user).await,
            _ => false,
        };
        if !own {
            return Err(ApiError::Forbidden);
        }
        own_record = true;
    }
    let mut req = Request::from_parts(parts, body);
    let client = RequestClient::of(req.headers(), req.extensions());
    req.extensions_mut().insert(Caller {
        principal,
        client,
        own_record,
    });
    Ok(next.run(req).await)
}

/// Whether the route's `{id}` names `user`: `me`, the user's id, or the user's login (logins
/// compare without case, as the store looks them up).
async fn names_user(parts: &mut Parts, state: &AppState, user: &User) -> bool {
    use axum::extract::{FromRequestParts, RawPathParams};
    let Ok(params) = RawPathParams::from_request_parts(parts, state).await else {
        return false;
    };
    let id = params
        .iter()
        .find(|(name, _)| *name == "id")
        .map(|(_, v)| v);
    id.is_some_and(|id| {
        id == "me" || id == user.id || id.to_lowercase() == user.login().to_lowercase()
    })
}

/// The answer to a guard refusal: its status, its `WWW-Authenticate` challenge (every 401 has
/// one, RFC 9110 §11.6.1) and Okta's body (`E0000011` for 401, `E0000001` for 400).
fn refusal(issuer: &str, e: &rs::GuardError) -> ApiError {
    let unauthorized = e.status() == 401;
    ApiError::Challenge {
        status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED),
        challenge: e.www_authenticate(issuer, &JwsAlg::ALL),
        summary: if unauthorized {
            "Invalid token provided"
        } else {
            "Api validation failed: Authorization"
        },
        code: if unauthorized { "E0000011" } else { "E0000001" },
        dpop_nonce: None,
    }
}

/// No credentials this API takes: none, another scheme, or an `SSWS` token that does not work
/// (or is not accepted on the route). SSWS is not an OAuth scheme, so the answer is the bare
/// `Bearer realm` challenge with `E0000011`, not `error="invalid_token"`.
fn no_credentials(issuer: &str) -> ApiError {
    refusal(issuer, &rs::GuardError::NoCredentials)
}

/// A verified access token that is refused (revoked, its user or app no longer active):
/// `invalid_token` in the scheme the token is used with.
fn token_refused(issuer: &str, claims: &AccessTokenClaims, reason: &str) -> ApiError {
    let e = rs::GuardError::InvalidToken {
        scheme: rs::TokenScheme::of(claims),
        reason: reason.into(),
    };
    refusal(issuer, &e)
}

/// Authenticates the caller and checks only that its access token holds `need.scope` (no
/// role): the invoke URL of API endpoint flows, where the scope grant is the admin's decision.
/// SSWS tokens are refused (they are unscoped).
pub(crate) async fn authenticate_scope(
    state: &AppState,
    req: &Parts,
    need: Need,
) -> Result<Arc<Principal>, ApiError> {
    let (principal, held) = authenticate(state, req, need, None).await?;
    match principal.credential {
        Credential::AccessToken { .. } if held.admin => Ok(principal),
        _ => Err(no_credentials(&state.config.issuer)),
    }
}

async fn authenticate(
    state: &AppState,
    req: &Parts,
    need: Need,
    self_scope: Option<&'static str>,
) -> Result<(Arc<Principal>, Held), ApiError> {
    let issuer = state.config.issuer.as_str();
    let Some(value) = req
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(no_credentials(issuer));
    };
    // Okta's Python SDK sends `SSWS<token>` with no space; Okta accepts both.
    let scheme_is =
        |name: &str| value.len() > name.len() && value[..name.len()].eq_ignore_ascii_case(name);
    if scheme_is("SSWS") {
        let credential = value[4..].trim();
        if !credential.is_empty() {
            let held = Held {
                admin: true,
                own: false,
            };
            return Ok((api_token_principal(state, credential).await?, held));
        }
        return Err(no_credentials(issuer));
    }
    let claims = access_token_claims(state, req, value)?;
    // The scope is checked before anything touches the database: a token without it (nor the
    // route's `.self` scope) gets Okta's challenge naming the scope it needs.
    let holds = |scope: &str| {
        claims
            .scp
            .iter()
            .any(|held| steward_core::scopes::implies(held, scope))
    };
    let held = Held {
        admin: holds(need.scope),
        own: self_scope.is_some_and(holds),
    };
    if !held.admin && !held.own {
        let scheme = rs::TokenScheme::of(&claims).challenge(&JwsAlg::ALL);
        return Err(ApiError::Challenge {
            status: StatusCode::FORBIDDEN,
            challenge: challenge::insufficient_scope(issuer, scheme, need.scope, req.uri.path()),
            summary: "insufficient scope",
            code: "",
            dpop_nonce: None,
        });
    }
    Ok((token_principal(state, claims).await?, held))
}

/// Verifies a Bearer or DPoP access token. Bearer tokens are verified once and then served from
/// a bounded cache keyed by the token's hash until they expire; revocations reach every node
/// through the revoked-`jti` set.
fn access_token_claims(
    state: &AppState,
    req: &Parts,
    value: &str,
) -> Result<Arc<AccessTokenClaims>, ApiError> {
    let issuer = state.config.issuer.as_str();
    let now = now_millis() / 1000;
    let to_api = |e: rs::GuardError| refusal(issuer, &e);
    let credentials = rs::parse_authorization(Some(value)).map_err(to_api)?;
    let claims = match credentials {
        Credentials::Bearer(token) => {
            // Keyed by the token itself, not the raw header: spelling the header differently
            // must neither miss the cache nor fill it.
            // The rate-limit middleware has already hashed it (the same normalised digest).
            let key = match req.extensions.get::<CredentialDigest>() {
                Some(digest) => digest.0.clone(),
                None => credential_digest("Bearer", token),
            };
            match state.auth.cached_token(&key) {
                Some(claims) if claims.exp > now => claims,
                _ => {
                    let keys = state.auth.verification_keys();
                    let url = format!("{issuer}{}", req.uri.path());
                    let auth = rs::authenticate(
                        &GuardConfig::new(issuer, issuer, &keys),
                        credentials,
                        &ResourceRequest {
                            dpop: &[],
                            method: req.method.as_str(),
                            url: &url,
                            now,
                        },
                    )
                    .map_err(to_api)?;
                    // Only unbound tokens are cached: a DPoP-bound token needs its proof each time.
                    let claims = Arc::new(auth.claims);
                    state.auth.cache_token(key, claims.clone());
                    claims
                }
            }
        }
        Credentials::Dpop(_) => {
            let keys = state.auth.verification_keys();
            let proofs: Vec<&str> = req
                .headers
                .get_all("dpop")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            // RFC 9449 §4.3: `htu` is the URL without query and fragment. The path, not the
            // request target: under HTTP/2 (and through a proxy) the target is already absolute.
            let url = format!("{issuer}{}", req.uri.path());
            let auth = rs::authenticate(
                &GuardConfig::new(issuer, issuer, &keys),
                credentials,
                &ResourceRequest {
                    dpop: &proofs,
                    method: req.method.as_str(),
                    url: &url,
                    now,
                },
            )
            .map_err(to_api)?;
            if let Some(proof) = &auth.proof {
                if !state
                    .auth
                    .use_dpop_jti(&format!("{}:{}", proof.jkt, proof.jti), now)
                {
                    let replay = rs::GuardError::InvalidToken {
                        scheme: rs::TokenScheme::Dpop,
                        reason: "DPoP proof replayed".into(),
                    };
                    return Err(to_api(replay));
                }
            }
            Arc::new(auth.claims)
        }
        Credentials::Missing | Credentials::Other { .. } => return Err(no_credentials(issuer)),
    };
    if state.auth.is_revoked(&claims.jti) {
        return Err(token_refused(issuer, &claims, "revoked"));
    }
    Ok(claims)
}

/// The principal behind an access token: the user (user tokens) or the service app.
async fn token_principal(
    state: &AppState,
    claims: Arc<AccessTokenClaims>,
) -> Result<Arc<Principal>, ApiError> {
    let issuer = state.config.issuer.as_str();
    let cache_key = format!("jti:{}", claims.jti);
    if let Some(principal) = state.principals.get(&cache_key) {
        return Ok(principal);
    }
    let credential = Credential::AccessToken {
        client_id: claims.cid.clone(),
        jti: claims.jti.clone(),
        scopes: claims.scp.clone(),
    };
    let principal = match &claims.uid {
        Some(uid) => {
            let user = match state.store.user(uid).await {
                Ok(u) if u.status.credentials_act() => u,
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(token_refused(issuer, &claims, "the user may not act"))
                }
                Err(e) => return Err(e.into()),
            };
            let roles = state.store.roles_of(PrincipalType::User, &user.id).await?;
            Principal {
                credential,
                actor: Actor::user(&user.id, user.login(), &user.display_name()),
                user: Some(user),
                roles,
            }
        }
        None => {
            let app = match state.store.app_by_client_id(&claims.cid).await {
                Ok(a) if a.is_active() => a,
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(token_refused(issuer, &claims, "the app is not active"))
                }
                Err(e) => return Err(e.into()),
            };
            let roles = state.store.roles_of(PrincipalType::Client, &app.id).await?;
            Principal {
                credential,
                actor: Actor::client(&claims.cid, &app.label),
                user: None,
                roles,
            }
        }
    };
    let principal = Arc::new(principal);
    state.principals.put(cache_key, principal.clone());
    Ok(principal)
}

async fn api_token_principal(state: &AppState, token: &str) -> Result<Arc<Principal>, ApiError> {
    let key = sha256_hex(token);
    if let Some(principal) = state.principals.get(&key) {
        return Ok(principal);
    }
    let issuer = state.config.issuer.as_str();
    let found = match state.store.api_token_by_hash(&key).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(no_credentials(issuer)),
        Err(e) => return Err(e.into()),
    };
    let now = steward_core::timefmt::now_millis();
    let live =
        found.token.revoked_at.is_none() && found.token.expires_at.is_none_or(|exp| exp > now);
    if !live || !found.user.status.credentials_act() {
        return Err(no_credentials(issuer));
    }
    let roles = state
        .store
        .roles_of(PrincipalType::User, &found.user.id)
        .await?;
    let principal = Principal {
        credential: Credential::ApiToken {
            token_id: found.token.id.clone(),
        },
        actor: Actor::user(
            &found.user.id,
            found.user.login(),
            &found.user.display_name(),
        ),
        user: Some(found.user),
        roles,
    };
    let principal = Arc::new(principal);
    state.principals.put(key, principal.clone());
    Ok(principal)
}

/// Shared by handlers that need the cache handle.
pub type SharedPrincipalCache = Arc<PrincipalCache>;
