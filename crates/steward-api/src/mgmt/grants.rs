//! `/api/v1/apps/{appId}/grants`: the Okta API scopes granted to an app
//! (`OAuth2ScopeConsentGrant`). Only a Super Admin may grant or revoke (the guard's
//! `AppGrantsManage` permission). Granting never changes tokens already issued: a client gets a
//! new scope only when it authorizes again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, IdKind};
use steward_core::syslog::Target;
use steward_core::timefmt::{format_millis, now_millis};
use steward_store::{AppGrant, StoreError};

use super::apps::{self, find as find_app};
use super::event;
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
    let app = find_app(&state, &app_id).await?;
    let issuer = state.config.issuer.clone();
    if body.issuer.trim_end_matches('/') != issuer {
        return Err(ApiError::validation(
            "issuer",
            format!("issuer: must be the org authorization server, {issuer}"),
        ));
    }
    if !steward_core::scopes::is_okta_scope(&body.scope_id) {
        return Err(ApiError::validation(
            "scopeId",
            format!("scopeId: '{}' is not an Okta API scope", body.scope_id),
        ));
    }
    if !crate::routes::scope_is_built(&body.scope_id) {
        // Granting it would allow nothing: refused, not granted silently.
        return Err(ApiError::Validation {
            summary: format!(
                "scopeId: {} is not built yet: Steward does not serve its APIs yet",
                body.scope_id
            ),
            causes: vec![format!(
                "scopeId: no route of Steward takes {}, so a token holding it could call nothing; docs/roles.md lists the scopes not built yet",
                body.scope_id
            )],
        });
    }
    let now = now_millis();
    let (by_id, by_type) = match (&caller.principal.user, &caller.principal.credential) {
        (Some(u), _) => (u.id.clone(), "USER"),
        (None, Credential::AccessToken { client_id, .. }) => (client_id.clone(), "CLIENT"),
        (None, _) => ("steward".into(), "SYSTEM"),
    };
    let grant = AppGrant {
        id: new_id(IdKind::Grant),
        app_id: app.id.clone(),
        issuer: issuer.clone(),
        scope_id: body.scope_id.clone(),
        status: "ACTIVE".into(),
        source: "ADMIN".into(),
        created_by_id: by_id,
        created_by_type: by_type.into(),
        created: now,
        last_updated: now,
    };
    let mut tx = state.store.begin().await?;
    if tx
        .active_grant(&app.id, &issuer, &body.scope_id)
        .await?
        .is_some()
    {
        return Err(ApiError::validation(
            "scopeId",
            format!("scopeId: {} is already granted to this app", body.scope_id),
        ));
    }
    tx.insert_app_grant(&grant).await?;
    tx.append_log(
        &event(
            &caller,
            "app.oauth2.as.consent.grant",
            "Grant an Okta API scope to an app",
        )
        .target(apps::target(&app))
        .target(Target::new(
            &grant.id,
            "OAuth2ScopeConsentGrant",
            &grant.scope_id,
            &grant.scope_id,
        ))
        .debug("scopeId", grant.scope_id.clone()),
    )
    .await?;
    tx.emit(DomainEvent::AppGrantGiven {
        app_id: app.id.clone(),
        grant_id: grant.id.clone(),
        scope_id: grant.scope_id.clone(),
        actor: caller.actor(),
    })
    .await?;
    tx.commit().await?;
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
    if grant.status != "ACTIVE" {
        return Err(ApiError::not_found(format!(
            "{grant_id} (OAuth2ScopeConsentGrant)"
        )));
    }
    let mut tx = state.store.begin().await?;
    tx.revoke_app_grant(&grant.id, now_millis()).await?;
    tx.append_log(
        &event(
            &caller,
            "app.oauth2.as.consent.revoke",
            "Revoke an Okta API scope from an app",
        )
        .target(apps::target(&app))
        .target(Target::new(
            &grant.id,
            "OAuth2ScopeConsentGrant",
            &grant.scope_id,
            &grant.scope_id,
        ))
        .debug("scopeId", grant.scope_id.clone()),
    )
    .await?;
    tx.emit(DomainEvent::AppGrantRevoked {
        app_id: app.id.clone(),
        grant_id: grant.id.clone(),
        scope_id: grant.scope_id.clone(),
        actor: caller.actor(),
    })
    .await?;
    tx.commit().await?;
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
