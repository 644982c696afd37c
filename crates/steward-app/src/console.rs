//! The Admin Console's own OIDC client ("Steward Admin Console"): the console (crate
//! `steward-console`) signs admins in through the org authorization server like any other app.

use serde_json::{json, Map};
use steward_core::apps::{App, OidcClient, SIGN_ON_MODE_OIDC};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, IdKind};
use steward_core::syslog::Target;
use steward_store::{AppGroupAssignment, StoreError};

use crate::{AppError, AppResult, Ctx};

/// The console app's `client_id`, fixed so that every node finds the same app.
pub const CONSOLE_CLIENT_ID: &str = "steward-admin-console";
pub const CONSOLE_LABEL: &str = "Steward Admin Console";

/// Where the authorization server sends the console's codes, and its sign-out back to.
pub fn console_redirect_uri(issuer: &str) -> String {
    format!("{issuer}/admin/callback")
}
pub fn console_post_logout_uri(issuer: &str) -> String {
    format!("{issuer}/admin/signed-out")
}

fn console_client(issuer: &str) -> AppResult<OidcClient> {
    // A public client (no secret to keep): the code exchange is bound by PKCE S256 to the
    // console that started the sign-in, and codes go only to the exact redirect URI.
    Ok(OidcClient::from_request(
        &json!({
            "application_type": "web",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": [console_redirect_uri(issuer)],
            "post_logout_redirect_uris": [console_post_logout_uri(issuer)],
            "consent_method": "TRUSTED",
        }),
        &json!({"token_endpoint_auth_method": "none", "pkce_required": true}),
    )?)
}

/// Makes sure the console's app exists for `issuer`: created (assigned to Everyone: who may use
/// the console is decided by admin roles, not assignment) when missing; its redirect URIs
/// follow the issuer when it changed (another `--issuer` or port). Returns the app.
pub async fn ensure_console_app(ctx: &Ctx<'_>, issuer: &str) -> AppResult<App> {
    let wanted = console_client(issuer)?;
    match ctx.store.app_by_client_id(CONSOLE_CLIENT_ID).await {
        Ok(mut app) => {
            let Some(oidc) = app.oidc.as_mut() else {
                return Err(AppError::Invalid(format!(
                    "the app with client_id {CONSOLE_CLIENT_ID} is not an OIDC app"
                )));
            };
            if oidc.redirect_uris == wanted.redirect_uris
                && oidc.post_logout_redirect_uris == wanted.post_logout_redirect_uris
            {
                return Ok(app);
            }
            oidc.redirect_uris = wanted.redirect_uris;
            oidc.post_logout_redirect_uris = wanted.post_logout_redirect_uris;
            app.last_updated = ctx.now;
            let mut tx = ctx.store.begin().await?;
            tx.update_app(&app).await?;
            tx.append_log(
                &ctx.log(
                    "application.lifecycle.update",
                    "Update application: the console's redirect URIs follow the issuer",
                )
                .target(Target::app(&app)),
            )
            .await?;
            tx.emit(DomainEvent::AppUpdated {
                app_id: app.id.clone(),
                actor: ctx.actor.clone(),
            })
            .await?;
            tx.commit().await?;
            Ok(app)
        }
        Err(StoreError::NotFound) => {
            let everyone = ctx.store.everyone_group().await?;
            let app = App {
                id: new_id(IdKind::App),
                name: "oidc_client".into(),
                label: CONSOLE_LABEL.into(),
                status: "ACTIVE".into(),
                sign_on_mode: SIGN_ON_MODE_OIDC.into(),
                created: ctx.now,
                last_updated: ctx.now,
                client_id: Some(CONSOLE_CLIENT_ID.into()),
                oidc: Some(wanted),
            };
            let mut tx = ctx.store.begin().await?;
            tx.insert_app(&app).await?;
            tx.upsert_app_group(&AppGroupAssignment {
                app_id: app.id.clone(),
                group_id: everyone.id.clone(),
                priority: 0,
                profile: Map::new(),
                created: ctx.now,
                last_updated: ctx.now,
            })
            .await?;
            tx.append_log(
                &ctx.log("application.lifecycle.create", "Add application")
                    .target(Target::app(&app)),
            )
            .await?;
            tx.emit(DomainEvent::AppCreated {
                app_id: app.id.clone(),
                actor: ctx.actor.clone(),
            })
            .await?;
            tx.emit(DomainEvent::AppGroupAssigned {
                app_id: app.id.clone(),
                group_id: everyone.id.clone(),
                actor: ctx.actor.clone(),
            })
            .await?;
            tx.commit().await?;
            Ok(app)
        }
        Err(e) => Err(e.into()),
    }
}
