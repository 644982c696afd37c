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

/// The end-user dashboard (`/app`) signs in with the same client: its redirect URI and its
/// sign-out's.
pub fn dashboard_redirect_uri(issuer: &str) -> String {
    format!("{issuer}/app/callback")
}
pub fn dashboard_post_logout_uri(issuer: &str) -> String {
    format!("{issuer}/app/signed-out")
}

fn console_client(issuer: &str) -> AppResult<OidcClient> {
    // A public client (no secret to keep): the code exchange is bound by PKCE S256 to the
    // console that started the sign-in, and codes go only to the exact redirect URI.
    Ok(OidcClient::from_request(
        &json!({
            "application_type": "web",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": [console_redirect_uri(issuer), dashboard_redirect_uri(issuer)],
            "post_logout_redirect_uris": [
                console_post_logout_uri(issuer),
                dashboard_post_logout_uri(issuer),
            ],
            "consent_method": "TRUSTED",
        }),
        &json!({"token_endpoint_auth_method": "none", "pkce_required": true}),
    )?)
}

/// Makes sure the console's app exists and accepts `issuer`'s redirect URIs (the Admin
/// Console's and the end-user dashboard's): created (assigned to Everyone: every active user may
/// sign in to the dashboard; who may use the Admin Console is decided by admin roles, not
/// assignment) when missing;
/// when the issuer is new (another `--issuer`, port, or a node with its own), its redirect URIs
/// are added to the app's, never replacing another node's. Nodes starting together on one
/// database converge: a node whose insert or update lost to another's reads again and retries.
/// Returns the app.
pub async fn ensure_console_app(ctx: &Ctx<'_>, issuer: &str) -> AppResult<App> {
    let wanted = console_client(issuer)?;
    for _ in 0..MAX_ATTEMPTS {
        match ctx.store.app_by_client_id(CONSOLE_CLIENT_ID).await {
            Ok(app) => {
                let Some(oidc) = app.oidc.as_ref() else {
                    return Err(AppError::Invalid(format!(
                        "the app with client_id {CONSOLE_CLIENT_ID} is not an OIDC app"
                    )));
                };
                let has = |have: &[String], want: &[String]| want.iter().all(|w| have.contains(w));
                if has(&oidc.redirect_uris, &wanted.redirect_uris)
                    && has(
                        &oidc.post_logout_redirect_uris,
                        &wanted.post_logout_redirect_uris,
                    )
                {
                    return Ok(app);
                }
                add_uris(ctx, app, &wanted).await?;
                // Read again: another node may have written its own list meanwhile.
            }
            Err(StoreError::NotFound) => match create(ctx, wanted.clone()).await {
                Ok(app) => return Ok(app),
                // Another node created it first: read it.
                Err(AppError::Store(StoreError::Conflict(_))) => {}
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Internal(format!(
        "could not register the console's redirect URI {}",
        console_redirect_uri(issuer)
    )))
}

/// Attempts of [`ensure_console_app`] before it gives up.
const MAX_ATTEMPTS: usize = 8;

async fn add_uris(ctx: &Ctx<'_>, mut app: App, wanted: &OidcClient) -> AppResult<()> {
    if let Some(oidc) = app.oidc.as_mut() {
        for (have, want) in [
            (&mut oidc.redirect_uris, &wanted.redirect_uris),
            (
                &mut oidc.post_logout_redirect_uris,
                &wanted.post_logout_redirect_uris,
            ),
        ] {
            for uri in want {
                if !have.contains(uri) {
                    have.push(uri.clone());
                }
            }
        }
    }
    app.last_updated = ctx.now;
    let mut tx = ctx.begin().await?;
    tx.update_app(&app).await?;
    tx.record(
        DomainEvent::AppUpdated {
            app_id: app.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::app(&app)],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn create(ctx: &Ctx<'_>, client: OidcClient) -> AppResult<App> {
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
        oidc: Some(client),
    };
    let mut tx = ctx.begin().await?;
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
    tx.record(
        DomainEvent::AppCreated {
            app_id: app.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::app(&app)],
    )
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_console_app_is_created_once_and_gains_each_issuers_uris() {
        let store = crate::testing::org().await;
        let ctx = Ctx::system(&store);
        let first = ensure_console_app(&ctx, "http://127.0.0.1:8080")
            .await
            .unwrap();
        let oidc = first.oidc.clone().unwrap();
        assert_eq!(first.client_id.as_deref(), Some(CONSOLE_CLIENT_ID));
        assert_eq!(
            oidc.redirect_uris,
            [
                "http://127.0.0.1:8080/admin/callback",
                "http://127.0.0.1:8080/app/callback"
            ]
        );
        assert_eq!(oidc.token_endpoint_auth_method, "none");
        assert!(oidc.pkce_required);
        let admin = crate::testing::admin(&store).await;
        assert!(
            store.app_user(&first.id, &admin.id).await.is_ok(),
            "via Everyone"
        );

        // Again with the same issuer: the same app, unchanged.
        let again = ensure_console_app(&ctx, "http://127.0.0.1:8080")
            .await
            .unwrap();
        assert_eq!(again, first);
        // Another issuer (a second node, another port): its URIs are added, none replaced.
        let other = ensure_console_app(&ctx, "https://id.example.com")
            .await
            .unwrap();
        assert_eq!(other.id, first.id);
        let oidc = other.oidc.unwrap();
        assert_eq!(
            oidc.redirect_uris,
            [
                "http://127.0.0.1:8080/admin/callback",
                "http://127.0.0.1:8080/app/callback",
                "https://id.example.com/admin/callback",
                "https://id.example.com/app/callback"
            ]
        );
        assert_eq!(
            oidc.post_logout_redirect_uris,
            [
                "http://127.0.0.1:8080/admin/signed-out",
                "http://127.0.0.1:8080/app/signed-out",
                "https://id.example.com/admin/signed-out",
                "https://id.example.com/app/signed-out"
            ]
        );
    }

    #[tokio::test]
    async fn nodes_starting_together_share_one_console_app() {
        let store = crate::testing::org().await;
        let ctx = Ctx::system(&store);
        let (a, b) = tokio::join!(
            ensure_console_app(&ctx, "http://127.0.0.1:1111"),
            ensure_console_app(&ctx, "http://127.0.0.1:2222"),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.id, b.id);
        let app = store.app_by_client_id(CONSOLE_CLIENT_ID).await.unwrap();
        let uris = app.oidc.unwrap().redirect_uris;
        for port in ["1111", "2222"] {
            assert!(
                uris.contains(&format!("http://127.0.0.1:{port}/admin/callback")),
                "{uris:?}"
            );
        }
    }
}
