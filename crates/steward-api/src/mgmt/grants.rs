//! `/api/v1/apps/{appId}/grants`: the Okta API scopes granted to an app
//! (`OAuth2ScopeConsentGrant`). Only a Super Admin may grant or revoke (the guard's
//! `AppGrantsManage` permission). Granting never changes tokens already issued: a client gets a
//! new scope only when it authorizes again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_app::grants;
use steward_core::timefmt::format_millis;
use steward_store::{AppGrant, StoreError};

use super::apps::find as find_app;
use crate::error::{ApiError, ApiResult};
use crate::guard::Credential;
use crate::http::{Caller, OktaJson, OktaQuery};
use crate::AppState;

#[derive(Deserialize)]
pub struct GrantBody {
    #[serde(rename = "scopeId", default)]
    scope_id: String,
    #[serde(default)]
    issuer: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ExpandQuery {
    expand: Option<String>,
}

pub fn render(issuer: &str, g: &AppGrant, client_id: &str, expand_scope: bool) -> Value {
    let base = format!("{issuer}/api/v1/apps/{}", g.app_id);
    let mut out = json!({
        "id": g.id,
        "status": g.status,
        "created": format_millis(g.created),
        "createdBy": {"id": g.created_by_id, "type": g.created_by_type},
        "lastUpdated": format_millis(g.last_updated),
        "issuer": g.issuer,
        "clientId": client_id,
        "scopeId": g.scope_id,
        "source": g.source,
        "_links": {
            "app": {"href": base},
            "self": {"href": format!("{base}/grants/{}", g.id)},
            "client": {"href": format!("{issuer}/oauth2/v1/clients/{client_id}")},
            // No `scope` link: Okta's points at the org authorization server's scope resource,
            // which Steward does not serve (`?expand=scope` embeds the scope instead).
        },
    });
    if expand_scope {
        let description = steward_core::scopes::lookup(&g.scope_id)
            .map(|s| s.description)
            .unwrap_or_default();
        out["_embedded"] =
            json!({"scope": {"id": g.scope_id, "name": g.scope_id, "description": description}});
    }
    out
}

fn client_id(app: &steward_core::apps::App) -> String {
    app.client_id.clone().unwrap_or_else(|| app.id.clone())
}

pub async fn list(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    OktaQuery(q): OktaQuery<ExpandQuery>,
) -> ApiResult<Json<Value>> {
    let app = find_app(&state, &app_id).await?;
    let expand = q.expand.as_deref() == Some("scope");
    let grants = state.store.app_grants(&app.id).await?;
    let cid = client_id(&app);
    Ok(Json(Value::Array(
        grants
            .iter()
            .filter(|g| g.status == "ACTIVE")
            .map(|g| render(&state.config.issuer, g, &cid, expand))
            .collect(),
    )))
}

pub async fn get(
    State(state): State<AppState>,
    Path((app_id, grant_id)): Path<(String, String)>,
    OktaQuery(q): OktaQuery<ExpandQuery>,
) -> ApiResult<Json<Value>> {
    let app = find_app(&state, &app_id).await?;
    let grant = state
        .store
        .app_grant(&app.id, &grant_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::not_found(format!("{grant_id} (OAuth2ScopeConsentGrant)"))
            }
            other => other.into(),
        })?;
    Ok(Json(render(
        &state.config.issuer,
        &grant,
        &client_id(&app),
        q.expand.as_deref() == Some("scope"),
    )))
}

pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
    OktaJson(body): OktaJson<GrantBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (by_id, by_type) = match (&caller.principal.user, &caller.principal.credential) {
        (Some(u), _) => (u.id.clone(), "USER"),
        (None, Credential::AccessToken { client_id, .. }) => (client_id.clone(), "CLIENT"),
        (None, _) => ("steward".into(), "SYSTEM"),
    };
    let issuer = state.config.issuer.clone();
    let (app, grant) = grants::grant(
        &caller.ctx(&state),
        grants::NewGrant {
            app_id: &app_id,
            scope_id: &body.scope_id,
            issuer: &body.issuer,
            org_issuer: &issuer,
            created_by: grants::GrantedBy {
                id: by_id,
                kind: by_type,
            },
        },
        crate::routes::scope_is_built,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(render(&issuer, &grant, &client_id(&app), false)),
    ))
}

pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, grant_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    grants::revoke(&caller.ctx(&state), &app_id, &grant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The app scope-grant routes.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Need, Routes};
    use steward_core::roles::Permission;
    const READ: Need = need("okta.appGrants.read", Permission::AppGrantsRead);
    const MANAGE: Need = need("okta.appGrants.manage", Permission::AppGrantsManage);
    Routes::new("App grants")
        .get("/api/v1/apps/{id}/grants", READ, list)
        .post("/api/v1/apps/{id}/grants", MANAGE, grant)
        .get("/api/v1/apps/{id}/grants/{grantId}", READ, get)
        .delete("/api/v1/apps/{id}/grants/{grantId}", MANAGE, revoke)
}
