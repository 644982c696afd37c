//! The resource-server guard: one mechanism in front of every `/api/v1` (and later
//! `/governance/api`) route. Each route's required scope and admin permission are declared in
//! [`ROUTES`], beside its path; the guard authenticates the caller, checks the scope (OAuth
//! tokens only: SSWS tokens are unscoped) and then the caller's roles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use dashmap::DashMap;
use steward_core::directory::{User, UserStatus};
use steward_core::roles::{any_allows, Permission, RoleType};
use steward_core::syslog::{Actor, ClientInfo};
use steward_store::{PrincipalType, StoreError};

use crate::error::ApiError;
use crate::http::Caller;
use crate::secrets::sha256_hex;
use crate::{AppState, RequestId};

/// What a route demands: an Okta API scope of OAuth tokens, and a permission of the principal.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub scope: &'static str,
    pub permission: Permission,
}

const fn need(scope: &'static str, permission: Permission) -> Need {
    Need { scope, permission }
}

use Permission::*;

/// Every guarded route: (method, path as routed, need). A route missing here is refused.
#[rustfmt::skip]
pub static ROUTES: &[(&str, &str, Need)] = &[
    ("GET", "/api/v1/users", need("okta.users.read", UsersRead)),
    ("POST", "/api/v1/users", need("okta.users.manage", UsersManage)),
    ("GET", "/api/v1/users/{id}", need("okta.users.read", UsersRead)),
    ("POST", "/api/v1/users/{id}", need("okta.users.manage", UsersManage)),
    ("PUT", "/api/v1/users/{id}", need("okta.users.manage", UsersManage)),
    ("DELETE", "/api/v1/users/{id}", need("okta.users.manage", UsersManage)),
    ("POST", "/api/v1/users/{id}/lifecycle/{op}", need("okta.users.manage", UsersManage)),
    ("GET", "/api/v1/users/{id}/groups", need("okta.users.read", UsersRead)),
    ("GET", "/api/v1/users/{id}/roles", need("okta.roles.read", RolesRead)),
    ("POST", "/api/v1/users/{id}/roles", need("okta.roles.manage", RolesManage)),
    ("GET", "/api/v1/users/{id}/roles/{roleId}", need("okta.roles.read", RolesRead)),
    ("DELETE", "/api/v1/users/{id}/roles/{roleId}", need("okta.roles.manage", RolesManage)),
    ("GET", "/api/v1/groups", need("okta.groups.read", GroupsRead)),
    ("POST", "/api/v1/groups", need("okta.groups.manage", GroupsManage)),
    ("GET", "/api/v1/groups/{id}", need("okta.groups.read", GroupsRead)),
    ("PUT", "/api/v1/groups/{id}", need("okta.groups.manage", GroupsManage)),
    ("DELETE", "/api/v1/groups/{id}", need("okta.groups.manage", GroupsManage)),
    ("GET", "/api/v1/groups/{id}/users", need("okta.groups.read", GroupsRead)),
    ("PUT", "/api/v1/groups/{id}/users/{userId}", need("okta.groups.manage", GroupsManage)),
    ("DELETE", "/api/v1/groups/{id}/users/{userId}", need("okta.groups.manage", GroupsManage)),
    ("GET", "/api/v1/apps", need("okta.apps.read", AppsRead)),
    ("POST", "/api/v1/apps", need("okta.apps.manage", AppsManage)),
    ("GET", "/api/v1/apps/{id}", need("okta.apps.read", AppsRead)),
    ("PUT", "/api/v1/apps/{id}", need("okta.apps.manage", AppsManage)),
    ("DELETE", "/api/v1/apps/{id}", need("okta.apps.manage", AppsManage)),
    ("POST", "/api/v1/apps/{id}/lifecycle/{op}", need("okta.apps.manage", AppsManage)),
    ("GET", "/api/v1/apps/{id}/users", need("okta.apps.read", AppsRead)),
    ("POST", "/api/v1/apps/{id}/users", need("okta.apps.manage", AppsManage)),
    ("GET", "/api/v1/apps/{id}/users/{userId}", need("okta.apps.read", AppsRead)),
    ("DELETE", "/api/v1/apps/{id}/users/{userId}", need("okta.apps.manage", AppsManage)),
    ("GET", "/api/v1/apps/{id}/groups", need("okta.apps.read", AppsRead)),
    ("GET", "/api/v1/apps/{id}/groups/{groupId}", need("okta.apps.read", AppsRead)),
    ("PUT", "/api/v1/apps/{id}/groups/{groupId}", need("okta.apps.manage", AppsManage)),
    ("DELETE", "/api/v1/apps/{id}/groups/{groupId}", need("okta.apps.manage", AppsManage)),
    ("GET", "/oauth2/v1/clients/{clientId}/roles", need("okta.roles.read", RolesRead)),
    ("POST", "/oauth2/v1/clients/{clientId}/roles", need("okta.roles.manage", RolesManage)),
    ("GET", "/oauth2/v1/clients/{clientId}/roles/{roleId}", need("okta.roles.read", RolesRead)),
    ("DELETE", "/oauth2/v1/clients/{clientId}/roles/{roleId}", need("okta.roles.manage", RolesManage)),
    ("GET", "/api/v1/logs", need("okta.logs.read", LogsRead)),
];

fn lookup(method: &Method, path: &str) -> Option<Need> {
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, n)| *n)
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `Authorization: SSWS …`: unscoped, acts with its admin's roles.
    ApiToken { token_id: String },
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
/// hot token costs no database round trip; revocation on this node evicts at once.
#[derive(Default)]
pub struct PrincipalCache {
    entries: DashMap<String, (Instant, Principal)>,
}

const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 10_000;

impl PrincipalCache {
    fn get(&self, key: &str) -> Option<Principal> {
        let hit = self.entries.get(key)?;
        (hit.0.elapsed() < CACHE_TTL).then(|| hit.1.clone())
    }

    fn put(&self, key: String, principal: Principal) {
        if self.entries.len() >= CACHE_MAX {
            self.entries.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
        }
        self.entries.insert(key, (Instant::now(), principal));
    }

    /// Forgets everything (after a revocation or a role change).
    pub fn clear(&self) {
        self.entries.clear();
    }
}

/// The `route_layer` middleware: authenticate, check scope and permission, hand the
/// [`Caller`] to the handler.
pub async fn enforce(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let need = lookup(req.method(), &path)
        .ok_or_else(|| ApiError::Internal(format!("no guard entry for {} {path}", req.method())))?;
    let principal = authenticate(&state, req.headers().get(header::AUTHORIZATION)).await?;
    if !any_allows(&principal.roles, need.permission) {
        return Err(ApiError::Forbidden);
    }
    let client = ClientInfo {
        ip_address: req
            .extensions()
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
    };
    req.extensions_mut().insert(Caller { principal, client });
    Ok(next.run(req).await)
}

fn invalid_token() -> ApiError {
    ApiError::InvalidToken { challenge: None }
}

async fn authenticate(
    state: &AppState,
    authorization: Option<&header::HeaderValue>,
) -> Result<Principal, ApiError> {
    let Some(value) = authorization.and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::InvalidToken {
            challenge: Some(format!("Bearer realm=\"{}\"", state.config.issuer)),
        });
    };
    // Okta's Python SDK sends `SSWS<token>` with no space; Okta accepts both.
    let scheme_is =
        |name: &str| value.len() > name.len() && value[..name.len()].eq_ignore_ascii_case(name);
    if scheme_is("SSWS") {
        let credential = value[4..].trim();
        if !credential.is_empty() {
            return api_token_principal(state, credential).await;
        }
    }
    // Bearer access tokens arrive with the authorization server.
    Err(invalid_token())
}

async fn api_token_principal(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let key = sha256_hex(token);
    if let Some(principal) = state.principals.get(&key) {
        return Ok(principal);
    }
    let found = match state.store.api_token_by_hash(&key).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(invalid_token()),
        Err(e) => return Err(e.into()),
    };
    let now = steward_core::timefmt::now_millis();
    let live =
        found.token.revoked_at.is_none() && found.token.expires_at.is_none_or(|exp| exp > now);
    if !live || found.user.status != UserStatus::Active {
        return Err(invalid_token());
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
    state.principals.put(key, principal.clone());
    Ok(principal)
}

/// Shared by handlers that need the cache handle.
pub type SharedPrincipalCache = Arc<PrincipalCache>;

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    /// Every declared scope is the one Okta's spec gives the same operation.
    #[test]
    fn route_scopes_match_the_specs() {
        let normalise = |p: &str| {
            p.split('/')
                .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
                .collect::<Vec<_>>()
                .join("/")
        };
        for (method, path, need) in ROUTES {
            if path.contains("/lifecycle/{op}") {
                continue; // one route serves several spec operations; checked below
            }
            let op = steward_core::scopes::OPERATIONS
                .iter()
                .find(|o| o.method == *method && normalise(o.path) == normalise(path));
            let Some(op) = op else {
                panic!("{method} {path} is not in the specs")
            };
            assert_eq!(
                op.scopes.first().copied(),
                Some(need.scope),
                "{method} {path}"
            );
        }
        for op in ["activate", "deactivate", "suspend", "unsuspend"] {
            let path = format!("/api/v1/users/{{id}}/lifecycle/{op}");
            assert_eq!(
                steward_core::scopes::required_scope("POST", &path),
                Some("okta.users.manage"),
                "{path}"
            );
        }
        for op in ["activate", "deactivate"] {
            let path = format!("/api/v1/apps/{{appId}}/lifecycle/{op}");
            assert_eq!(
                steward_core::scopes::required_scope("POST", &path),
                Some("okta.apps.manage"),
                "{path}"
            );
        }
    }
}
