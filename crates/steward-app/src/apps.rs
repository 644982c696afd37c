//! OpenID Connect apps: create, replace, activate and deactivate, delete, and their user and
//! group assignments. Each change is recorded (`WriteTx::record`) in its transaction.

use serde_json::{Map, Value};
use steward_core::apps::{mask_secret, App, ClientSecret, OidcClient, SIGN_ON_MODE_OIDC};
use steward_core::directory::{Group, User};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, random_secret, IdKind};
use steward_core::syslog::Target;
use steward_core::validation::ValidationError;
use steward_store::{AccessRemoved, AppGroupAssignment, AppUserAssignment, PrincipalType};

use crate::roles::keep_a_super_admin;
use crate::{AppError, AppResult, Ctx};

/// The app `id`, or `NotFound` naming it.
pub async fn find(ctx: &Ctx<'_>, id: &str) -> AppResult<App> {
    ctx.store
        .app(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (App)")))
}

/// An app to create (`POST /api/v1/apps`), its settings already parsed and checked.
#[derive(Debug, Clone)]
pub struct NewApp {
    /// Okta's app name; OIDC apps are `oidc_client` when none is given.
    pub name: Option<String>,
    pub label: String,
    pub oidc: OidcClient,
    /// A client id of the caller's choosing; the app's id otherwise.
    pub client_id: Option<String>,
    pub activate: bool,
}

/// Creates the app, with a client secret when its authentication method uses one; the app
/// and the secret in clear (shown once, stored hashed).
pub async fn create(ctx: &Ctx<'_>, new: NewApp) -> AppResult<(App, Option<String>)> {
    let now = ctx.now;
    let id = new_id(IdKind::App);
    // Okta's client secrets are 40+ random characters, shown once.
    let secret = new.oidc.uses_secret().then(|| random_secret(48));
    let secret_row = match secret.as_deref() {
        Some(secret) => Some(ClientSecret {
            id: new_id(IdKind::ClientSecret),
            app_id: id.clone(),
            hash: hash_blocking(secret).await?,
            masked: Some(mask_secret(secret)),
            status: "ACTIVE".into(),
            created: now,
            last_updated: now,
        }),
        None => None,
    };
    let app = App {
        client_id: Some(new.client_id.unwrap_or_else(|| id.clone())),
        id,
        name: new
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "oidc_client".into()),
        label: new.label,
        status: if new.activate { "ACTIVE" } else { "INACTIVE" }.into(),
        sign_on_mode: SIGN_ON_MODE_OIDC.into(),
        created: now,
        last_updated: now,
        oidc: Some(new.oidc),
    };
    let mut tx = ctx.begin().await?;
    tx.insert_app(&app).await?;
    if let Some(row) = &secret_row {
        tx.insert_client_secret(row).await?;
    }
    tx.record(
        DomainEvent::AppCreated {
            app_id: app.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::app(&app)],
    )
    .await?;
    tx.commit().await?;
    Ok((app, secret))
}

/// Replaces the label and OIDC settings of app `id`. A client without a secret cannot switch
/// to one (create a new app); switching away from a secret deletes the secrets, as Okta does;
/// a service app holding the last acting SUPER_ADMIN stays a service app.
pub async fn replace(ctx: &Ctx<'_>, id: &str, label: String, oidc: OidcClient) -> AppResult<App> {
    let mut app = find(ctx, id).await?;
    let uses_secret = oidc.uses_secret();
    let stays_service = oidc.application_type == "service";
    app.label = label;
    app.oidc = Some(oidc);
    app.last_updated = ctx.now;
    let mut tx = ctx.begin().await?;
    let has_secret = !tx.client_secrets(&app.id).await?.is_empty();
    if uses_secret && !has_secret {
        return Err(ValidationError::new(
            "token_endpoint_auth_method",
            "token_endpoint_auth_method: this client has no secret; create a new app to use a secret",
        )
        .into());
    }
    if !uses_secret && has_secret {
        tx.delete_client_secrets_of(&app.id).await?;
    }
    if !stays_service {
        keep_a_super_admin(&mut tx, PrincipalType::Client, &app.id).await?;
    }
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
    Ok(app)
}

/// Activates (`ACTIVE`) or deactivates (`INACTIVE`) the app; whether its status changed.
/// Deactivating revokes its tokens for good (reactivation does not revive them) and is refused
/// for an app holding the last acting SUPER_ADMIN, and for the consoles' own app (every admin
/// and user signs in to the consoles through it, as Okta's own console app cannot be
/// deactivated); callers that cache revocations refresh them.
pub async fn set_status(ctx: &Ctx<'_>, app: &App, active: bool) -> AppResult<bool> {
    let status = if active { "ACTIVE" } else { "INACTIVE" };
    if app.status == status {
        return Ok(false);
    }
    if !active && is_console_app(app) {
        return Err(AppError::Invalid(format!(
            "{} cannot be deactivated: the Admin Console and the end-user dashboard sign in through it.",
            crate::console::CONSOLE_LABEL
        )));
    }
    let mut app = app.clone();
    app.status = status.into();
    app.last_updated = ctx.now;
    let mut tx = ctx.begin().await?;
    if !active {
        keep_a_super_admin(&mut tx, PrincipalType::Client, &app.id).await?;
    }
    tx.update_app(&app).await?;
    if !active {
        tx.revoke_tokens_of(None, app.client_id.as_deref(), app.last_updated)
            .await?;
    }
    tx.record(
        DomainEvent::AppLifecycleChanged {
            app_id: app.id.clone(),
            status: app.status.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::app(&app)],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Whether `app` is the consoles' own OIDC client (`steward_app::console`).
pub fn is_console_app(app: &App) -> bool {
    app.client_id.as_deref() == Some(crate::console::CONSOLE_CLIENT_ID)
}

/// Why an app cannot be deleted: it is still active (Okta's `E0000056`).
#[derive(Debug)]
pub struct StillActive;

/// Deletes an inactive app; an active one is refused (deactivate it first).
pub async fn delete(ctx: &Ctx<'_>, app: &App) -> AppResult<Result<(), StillActive>> {
    if app.is_active() {
        return Ok(Err(StillActive));
    }
    let mut tx = ctx.begin().await?;
    tx.delete_app(&app.id).await?;
    tx.record(
        DomainEvent::AppDeleted {
            app_id: app.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::app(app)],
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Assigns `user` to `app` with `profile`. Assigning again keeps the assignment (and its
/// `created`): only a new profile changes it (recorded with `updated`).
pub async fn assign_user(
    ctx: &Ctx<'_>,
    app: &App,
    user: &User,
    profile: Map<String, Value>,
) -> AppResult<AppUserAssignment> {
    let now = ctx.now;
    let mut tx = ctx.begin().await?;
    let (assignment, updated) = match tx.direct_app_user(&app.id, &user.id).await? {
        Some(existing) if existing.profile == profile => return Ok(existing),
        Some(existing) => (
            AppUserAssignment {
                profile,
                last_updated: now,
                ..existing
            },
            true,
        ),
        None => (
            AppUserAssignment {
                app_id: app.id.clone(),
                user_id: user.id.clone(),
                scope: "USER".into(),
                profile,
                created: now,
                last_updated: now,
            },
            false,
        ),
    };
    tx.upsert_app_user(&assignment).await?;
    tx.record(
        DomainEvent::AppUserAssigned {
            app_id: app.id.clone(),
            user_id: user.id.clone(),
            updated,
            access_request_id: None,
            actor: ctx.actor.clone(),
        },
        &[Target::user(user), Target::app(app)],
    )
    .await?;
    tx.commit().await?;
    Ok(assignment)
}

/// Removes the user's direct assignment (`NotFound` naming `shown` when there is none) and the
/// tokens it gave them; how many tokens were revoked.
pub async fn unassign_user(ctx: &Ctx<'_>, app: &App, user: &User, shown: &str) -> AppResult<u64> {
    let mut tx = ctx.begin().await?;
    tx.delete_app_user(&app.id, &user.id)
        .await
        .map_err(AppError::not_found_as(format!("{shown} (AppUser)")))?;
    let revoked = tx
        .revoke_unassigned_tokens(AccessRemoved::AppUser {
            app_id: &app.id,
            user_id: &user.id,
        })
        .await?;
    tx.record(
        DomainEvent::AppUserUnassigned {
            app_id: app.id.clone(),
            user_id: user.id.clone(),
            access_request_id: None,
            actor: ctx.actor.clone(),
        },
        &[Target::user(user), Target::app(app)],
    )
    .await?;
    tx.commit().await?;
    Ok(revoked)
}

/// Assigns `group` to `app` (or replaces its assignment's priority and profile).
pub async fn assign_group(
    ctx: &Ctx<'_>,
    app: &App,
    group: &Group,
    priority: i64,
    profile: Map<String, Value>,
) -> AppResult<AppGroupAssignment> {
    let assignment = AppGroupAssignment {
        app_id: app.id.clone(),
        group_id: group.id.clone(),
        priority,
        profile,
        created: ctx.now,
        last_updated: ctx.now,
    };
    let mut tx = ctx.begin().await?;
    tx.upsert_app_group(&assignment).await?;
    tx.record(
        DomainEvent::AppGroupAssigned {
            app_id: app.id.clone(),
            group_id: group.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::group(group), Target::app(app)],
    )
    .await?;
    tx.commit().await?;
    Ok(assignment)
}

/// Removes group `group_id`'s assignment (`NotFound` when there is none) and the tokens it gave
/// its members; how many tokens were revoked. The group may be gone already: it is named by id.
pub async fn unassign_group(ctx: &Ctx<'_>, app: &App, group_id: &str) -> AppResult<u64> {
    let mut tx = ctx.begin().await?;
    tx.delete_app_group(&app.id, group_id)
        .await
        .map_err(AppError::not_found_as(format!(
            "{group_id} (ApplicationGroupAssignment)"
        )))?;
    let revoked = tx
        .revoke_unassigned_tokens(AccessRemoved::AppGroup {
            app_id: &app.id,
            group_id,
        })
        .await?;
    tx.record(
        DomainEvent::AppGroupUnassigned {
            app_id: app.id.clone(),
            group_id: group_id.to_string(),
            actor: ctx.actor.clone(),
        },
        &[
            Target::new(group_id, "UserGroup", group_id, group_id),
            Target::app(app),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(revoked)
}

/// Argon2id on the blocking pool (it is slow on purpose).
pub(crate) async fn hash_blocking(secret: &str) -> AppResult<String> {
    let secret = secret.to_owned();
    tokio::task::spawn_blocking(move || steward_oauth::secrets::hash_secret(&secret))
        .await
        .map_err(|e| AppError::Internal(format!("secret hashing task failed: {e}")))?
        .map_err(|e| AppError::Internal(format!("secret hashing failed: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;
    use steward_core::directory::UserStatus;

    use super::*;
    use crate::testing::{self, log_types, outbox_types};

    fn oidc(kind: &str, auth: &str) -> OidcClient {
        let settings = json!({
            "application_type": kind,
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": auth,
        });
        let credentials = json!({ "token_endpoint_auth_method": auth });
        OidcClient::from_request(&settings, &credentials).unwrap()
    }

    fn service(label: &str) -> NewApp {
        NewApp {
            name: None,
            label: label.into(),
            oidc: oidc("service", "client_secret_basic"),
            client_id: None,
            activate: true,
        }
    }

    #[tokio::test]
    async fn a_secret_app_gets_a_secret_shown_once_and_stored_hashed() {
        let store = testing::org().await;
        let ctx = Ctx::system(&store);
        let (app, secret) = create(&ctx, service("Reports")).await.unwrap();
        let secret = secret.expect("a client_secret_basic app gets a secret");
        let stored = store.client_secrets(&app.id).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].hash, secret);
        assert!(steward_oauth::secrets::verify_secret(
            &secret,
            &stored[0].hash
        ));
        assert_eq!(
            log_types(&store).await.last().unwrap(),
            "application.lifecycle.create"
        );
    }

    #[tokio::test]
    async fn assigning_again_changes_nothing_unless_the_profile_differs() {
        let store = testing::org().await;
        let ctx = Ctx::system(&store);
        let (app, _) = create(&ctx, service("Wiki")).await.unwrap();
        let user = testing::user(&store, "pat@example.com", UserStatus::Active, true).await;
        let head = store.outbox_head().await.unwrap();
        let first = assign_user(&ctx, &app, &user, Map::new()).await.unwrap();
        let again = assign_user(&ctx, &app, &user, Map::new()).await.unwrap();
        assert_eq!(first.created, again.created);
        let profile = json!({"role": "editor"}).as_object().unwrap().clone();
        assign_user(&ctx, &app, &user, profile).await.unwrap();
        let logged = log_types(&store).await;
        assert_eq!(
            logged[logged.len() - 2..],
            [
                "application.user_membership.add".to_string(),
                "application.user_membership.update".to_string()
            ]
        );
        assert_eq!(outbox_types(&store, head).await.len(), 2);
        assert_eq!(unassign_user(&ctx, &app, &user, "pat").await.unwrap(), 0);
        let missing = unassign_user(&ctx, &app, &user, "pat").await.unwrap_err();
        assert!(matches!(missing, AppError::NotFound(_)), "{missing:?}");
    }

    #[tokio::test]
    async fn an_active_app_is_not_deleted_and_deactivation_is_recorded_once() {
        let store = testing::org().await;
        let ctx = Ctx::system(&store);
        let (app, _) = create(&ctx, service("Old")).await.unwrap();
        assert!(delete(&ctx, &app).await.unwrap().is_err());
        assert!(set_status(&ctx, &app, false).await.unwrap());
        let inactive = find(&ctx, &app.id).await.unwrap();
        assert!(
            !set_status(&ctx, &inactive, false).await.unwrap(),
            "already inactive"
        );
        assert!(delete(&ctx, &inactive).await.unwrap().is_ok());
        let logged = log_types(&store).await;
        assert_eq!(
            logged[logged.len() - 2..],
            [
                "application.lifecycle.deactivate".to_string(),
                "application.lifecycle.delete".to_string()
            ]
        );
    }
}
