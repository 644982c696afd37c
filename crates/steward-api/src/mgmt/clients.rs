//! `GET /oauth2/v1/clients/{clientId}`: an OAuth client as Okta's Dynamic Client Registration
//! reads it (RFC 7591 client metadata). Grants and client role assignments link here. The
//! client secret is never part of it.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use steward_core::apps::App;
use steward_store::StoreError;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The client metadata of an OpenID Connect app; `jwks` only when the client registered keys.
fn render(issuer: &str, app: &App, client_id: &str) -> Value {
    let mut out = json!({
        "client_id": client_id,
        // RFC 7591: seconds since the epoch.
        "client_id_issued_at": app.created / 1000,
        "client_name": app.label,
        "_links": {"app": {"href": format!("{issuer}/api/v1/apps/{}", app.id)}},
    });
    if let (Some(oidc), Some(map)) = (&app.oidc, out.as_object_mut()) {
        map.insert("application_type".into(), json!(oidc.application_type));
        map.insert("redirect_uris".into(), json!(oidc.redirect_uris));
        map.insert(
            "post_logout_redirect_uris".into(),
            json!(oidc.post_logout_redirect_uris),
        );
        map.insert("response_types".into(), json!(oidc.response_types));
        map.insert("grant_types".into(), json!(oidc.grant_types));
        map.insert(
            "token_endpoint_auth_method".into(),
            json!(oidc.token_endpoint_auth_method),
        );
        if let Some(jwks) = &oidc.jwks {
            map.insert("jwks".into(), jwks.clone());
        }
    }
    out
}

pub async fn get(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = state
        .store
        .app_by_client_id(&client_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(format!("{client_id} (Client)")),
            other => other.into(),
        })?;
    Ok(Json(render(&state.config.issuer, &app, &client_id)))
}

/// The client read route: `okta.clients.read`, and a role that may read apps.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Routes};
    use steward_core::roles::Permission;
    Routes::new("OAuth clients").get(
        "/oauth2/v1/clients/{clientId}",
        need("okta.clients.read", Permission::AppsRead),
        get,
    )
}
