//! `/api/v1/api-tokens`: the metadata of the org's active SSWS API tokens (never their values),
//! and their revocation. Super Admin only: a token acts with its admin's full roles, so seeing or
//! revoking another admin's token is a Super Admin's business. Tokens are created by
//! `steward tokens create` (Okta's API has no create call either).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use steward_core::timefmt::{format_millis, now_millis};
use steward_store::ApiToken;

use crate::error::{ApiError, ApiResult};
use crate::http::Caller;
use crate::AppState;

/// Okta's `ApiToken`: Steward's tokens work from anywhere and do not expire unless given an
/// expiry, so `network` is `ANYWHERE` and `tokenWindow` is Okta's default of 30 days of disuse
/// only as a label (Steward does not expire idle tokens).
fn render(issuer: &str, t: &ApiToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "userId": t.user_id,
        "clientName": "Okta API",
        "created": format_millis(t.created),
        "lastUpdated": format_millis(t.revoked_at.unwrap_or(t.created)),
        "expiresAt": t.expires_at.map(format_millis),
        "network": {"connection": "ANYWHERE"},
        "_links": {
            "self": {"href": format!("{issuer}/api/v1/api-tokens/{}", t.id), "hints": {"allow": ["GET", "DELETE"]}},
            "user": {"href": format!("{issuer}/api/v1/users/{}", t.user_id), "hints": {"allow": ["GET"]}},
        },
    })
}

fn active(t: &ApiToken, now: i64) -> bool {
    t.revoked_at.is_none() && t.expires_at.is_none_or(|at| at > now)
}

/// The live token `id` (a revoked or expired one is not found, as in Okta's list).
async fn find_active(state: &AppState, id: &str) -> ApiResult<ApiToken> {
    let not_found = || ApiError::not_found(format!("{id} (ApiToken)"));
    match state.store.api_token(id).await {
        Ok(t) if active(&t, now_millis()) => Ok(t),
        Ok(_) | Err(steward_store::StoreError::NotFound) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let now = now_millis();
    let issuer = &state.config.issuer;
    let tokens = state.store.api_tokens().await?;
    Ok(Json(Value::Array(
        tokens
            .iter()
            .filter(|t| active(t, now))
            .map(|t| render(issuer, t))
            .collect(),
    )))
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let token = find_active(&state, &id).await?;
    Ok(Json(render(&state.config.issuer, &token)))
}

pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let token = find_active(&state, &id).await?;
    // Its principal may be cached: every node forgets it (docs/events.md).
    steward_app::bootstrap::revoke_api_token(&caller.ctx(&state), &token.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Need, Routes};
    use steward_core::roles::Permission;
    const READ: Need = need("okta.apiTokens.read", Permission::ApiTokensRead);
    const MANAGE: Need = need("okta.apiTokens.manage", Permission::ApiTokensManage);
    Routes::new("API tokens")
        .get("/api/v1/api-tokens", READ, list)
        .get("/api/v1/api-tokens/{apiTokenId}", READ, get)
        .delete("/api/v1/api-tokens/{apiTokenId}", MANAGE, revoke)
}
