//! User lifecycle: status changes with their side effects, System Log event and domain event.

use steward_core::directory::{self, Lifecycle, User, ACTIVATION_TOKEN_LIFETIME_MS};
use steward_core::events::DomainEvent;
use steward_core::ids::random_secret;
use steward_core::syslog::Target;
use steward_oauth::secrets::sha256_hex;
use steward_store::{ActivationToken, PrincipalType, WriteTx};

use crate::{AppError, AppResult, Ctx};

/// Characters of an activation token (alphanumeric: about 190 bits).
const ACTIVATION_TOKEN_LENGTH: usize = 32;

/// A user as the System Log names them.
pub fn target(u: &User) -> Target {
    Target::user(u)
}

/// What [`change_status`] did.
#[derive(Debug)]
pub struct StatusChange {
    /// The user as saved.
    pub user: User,
    /// A new activation link's token, when activation or reactivation was not to be emailed.
    pub activation_token: Option<String>,
    /// The user can no longer act (deactivated or suspended): their sessions, activation links
    /// and tokens were revoked in the transaction. Callers that cache revocations refresh them.
    pub stopped_acting: bool,
}

/// Applies lifecycle operation `op` to user `user_id`, with its System Log event and, when the
/// status changed, `user.status_changed`, in one transaction.
///
/// * The transition is decided on the user as re-read inside the transaction (locked on
///   PostgreSQL), never on an earlier copy: a concurrent update cannot undo it, nor it one.
/// * The last Super Admin who can act cannot stop acting ([`AppError::LastSuperAdmin`]):
///   nothing could undo it.
/// * Deactivating or suspending ends the user's sessions, tokens and activation links.
/// * Unlocking clears the failed sign-in count.
/// * Activation and reactivation supersede the user's older activation links and, unless the
///   link would have gone by email (`send_email`: Steward sends none, the System Log says so),
///   return a new one.
pub async fn change_status(
    ctx: &Ctx<'_>,
    user_id: &str,
    op: Lifecycle,
    send_email: bool,
) -> AppResult<StatusChange> {
    let now = ctx.now;
    let mut tx = ctx.store.begin().await?;
    let mut user = tx
        .user(user_id)
        .await
        .map_err(AppError::not_found_as(format!("{user_id} (User)")))?;
    let next = directory::transition(user.status, op, user.password_hash.is_some())?;
    if user.status.credentials_act() && !next.credentials_act() {
        crate::roles::keep_a_super_admin(&mut tx, PrincipalType::User, &user.id).await?;
    }
    let (event_type, message) = match op {
        Lifecycle::Activate => ("user.lifecycle.activate", "Activate Okta user"),
        Lifecycle::Reactivate => ("user.lifecycle.reactivate", "Reactivate Okta user"),
        Lifecycle::Deactivate => ("user.lifecycle.deactivate", "Deactivate Okta user"),
        Lifecycle::Suspend => ("user.lifecycle.suspend", "Suspend Okta user"),
        Lifecycle::Unsuspend => ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
        Lifecycle::Unlock => ("user.account.unlock", "Unlock user account"),
    };
    let previous = user.status;
    if next != previous {
        user.status_changed = Some(now);
    }
    user.status = next;
    user.last_updated = now;
    if op == Lifecycle::Activate {
        user.activated = Some(now);
    }
    let mut entry = ctx.log(event_type, message).target(target(&user));
    tx.update_user(&user).await?;
    if op == Lifecycle::Unlock {
        tx.set_user_lockout(&user.id, 0, None).await?;
    }
    let stopped_acting = matches!(op, Lifecycle::Deactivate | Lifecycle::Suspend);
    if stopped_acting {
        tx.delete_user_sessions(&user.id).await?;
        tx.revoke_tokens_of(Some(&user.id), None, now).await?;
        tx.delete_activation_tokens(&user.id).await?;
    }
    let mut activation_token = None;
    if op.issues_activation_token() {
        entry = entry.debug("sendEmail", send_email.to_string());
        if send_email {
            tx.delete_activation_tokens(&user.id).await?;
            entry = entry.debug(
                "activationEmail",
                "NOT_SENT: Steward sends no email; ask for the link with sendEmail=false",
            );
        } else {
            activation_token = Some(issue_activation_token(&mut tx, &user.id, now).await?);
        }
    }
    tx.append_log(&entry).await?;
    if next != previous {
        tx.emit(DomainEvent::UserStatusChanged {
            user_id: user.id.clone(),
            from: previous.as_str().into(),
            to: next.as_str().into(),
            actor: ctx.actor.clone(),
        })
        .await?;
    }
    tx.commit().await?;
    Ok(StatusChange {
        user,
        activation_token,
        stopped_acting,
    })
}

/// A new activation token for the user in place of older ones; only its hash is stored.
async fn issue_activation_token(tx: &mut WriteTx, user_id: &str, now: i64) -> AppResult<String> {
    let token = random_secret(ACTIVATION_TOKEN_LENGTH);
    let record = ActivationToken {
        user_id: user_id.to_string(),
        created: now,
        expires: now + ACTIVATION_TOKEN_LIFETIME_MS,
        used_at: None,
    };
    tx.replace_activation_token(&sha256_hex(&token), &record)
        .await?;
    Ok(token)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use steward_core::directory::{LifecycleError, UserStatus};
    use steward_core::syslog::Actor;
    use steward_store::{PrincipalType, Session, StoreError};

    use super::*;
    use crate::testing::{self, log_types, outbox_types};

    fn ctx_as<'a>(store: &'a steward_store::Store, actor: &User) -> Ctx<'a> {
        Ctx {
            actor: Actor::user(&actor.id, actor.login(), &actor.display_name()),
            ..Ctx::system(store)
        }
    }

    #[tokio::test]
    async fn suspending_ends_sessions_and_links_and_writes_its_log_and_event() {
        let store = testing::org().await;
        let admin = testing::admin(&store).await;
        let user = testing::user(&store, "pat@example.com", UserStatus::Active, true).await;
        let now = steward_core::timefmt::now_millis();
        let mut tx = store.begin().await.unwrap();
        let session = Session {
            user_id: user.id.clone(),
            created: now,
            expires: now + 3_600_000,
            auth_time: now,
        };
        tx.insert_session("sid-hash", &session).await.unwrap();
        tx.commit().await.unwrap();
        let head = store.outbox_head().await.unwrap();
        let ctx = ctx_as(&store, &admin);

        let change = change_status(&ctx, &user.id, Lifecycle::Suspend, false)
            .await
            .unwrap();

        assert_eq!(change.user.status, UserStatus::Suspended);
        assert!(change.stopped_acting);
        assert!(change.activation_token.is_none());
        assert_eq!(
            store.user(&user.id).await.unwrap().status,
            UserStatus::Suspended
        );
        assert!(matches!(
            store.session("sid-hash", now).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            log_types(&store).await.last().unwrap(),
            "user.lifecycle.suspend"
        );
        let rows = store.outbox_after(head, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].event_type, "user.status_changed");
        assert_eq!(rows[0].payload["from"], "ACTIVE");
        assert_eq!(rows[0].payload["to"], "SUSPENDED");
        assert_eq!(rows[0].payload["actor"]["id"], admin.id.as_str());
    }

    #[tokio::test]
    async fn the_last_acting_super_admin_cannot_stop_acting_and_nothing_is_written() {
        let store = testing::org().await;
        let admin = testing::admin(&store).await;
        let head = store.outbox_head().await.unwrap();
        let logs_before = log_types(&store).await.len();
        let ctx = ctx_as(&store, &admin);
        for op in [Lifecycle::Suspend, Lifecycle::Deactivate] {
            let refused = change_status(&ctx, &admin.id, op, false).await;
            assert!(
                matches!(refused, Err(AppError::LastSuperAdmin)),
                "{op:?}: {refused:?}"
            );
        }
        assert_eq!(
            store.user(&admin.id).await.unwrap().status,
            UserStatus::Active
        );
        assert!(outbox_types(&store, head).await.is_empty());
        assert_eq!(log_types(&store).await.len(), logs_before);

        // With a second acting Super Admin, the first may be suspended.
        let other = testing::user(&store, "root@example.com", UserStatus::Active, true).await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_role_assignment(&steward_store::RoleAssignment {
            id: steward_core::ids::new_id(steward_core::ids::IdKind::RoleAssignment),
            principal_type: PrincipalType::User,
            principal_id: other.id.clone(),
            role_type: steward_core::roles::RoleType::SuperAdmin,
            created: 0,
            last_updated: 0,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let change = change_status(&ctx, &admin.id, Lifecycle::Suspend, false)
            .await
            .unwrap();
        assert_eq!(change.user.status, UserStatus::Suspended);
    }

    #[tokio::test]
    async fn activation_returns_a_link_unless_it_would_be_emailed() {
        let store = testing::org().await;
        let staged = testing::user(&store, "new@example.com", UserStatus::Staged, false).await;
        let ctx = Ctx::system(&store).at(1_700_000_000_000);

        let change = change_status(&ctx, &staged.id, Lifecycle::Activate, false)
            .await
            .unwrap();
        // Without a password, activation waits for the user to choose one.
        assert_eq!(change.user.status, UserStatus::Provisioned);
        assert_eq!(change.user.activated, Some(ctx.now));
        let token = change.activation_token.expect("a link");
        let stored = store.activation_token(&sha256_hex(&token)).await.unwrap();
        assert_eq!(stored.user_id, staged.id);
        assert_eq!(stored.expires, ctx.now + ACTIVATION_TOKEN_LIFETIME_MS);

        // Reactivation by "email" supersedes the link and returns none.
        let change = change_status(&ctx, &staged.id, Lifecycle::Reactivate, true)
            .await
            .unwrap();
        assert!(change.activation_token.is_none());
        assert!(store.activation_token(&sha256_hex(&token)).await.is_err());
        let log = testing::logs(&store).await.pop().unwrap();
        assert_eq!(log["eventType"], "user.lifecycle.reactivate");
        assert!(log["debugContext"]["debugData"]["activationEmail"]
            .as_str()
            .unwrap()
            .starts_with("NOT_SENT"));
    }

    #[tokio::test]
    async fn refused_transitions_and_unknown_users_write_nothing() {
        let store = testing::org().await;
        let active = testing::user(&store, "al@example.com", UserStatus::Active, true).await;
        let head = store.outbox_head().await.unwrap();
        let ctx = Ctx::system(&store);
        let refused = change_status(&ctx, &active.id, Lifecycle::Activate, false).await;
        assert!(matches!(
            refused,
            Err(AppError::Lifecycle(LifecycleError::AlreadyActive))
        ));
        let refused = change_status(&ctx, &active.id, Lifecycle::Unsuspend, false).await;
        assert!(
            matches!(refused, Err(AppError::Lifecycle(_))),
            "{refused:?}"
        );
        let missing = change_status(&ctx, "00uNobody", Lifecycle::Suspend, false).await;
        assert!(matches!(missing, Err(AppError::NotFound(ref w)) if w == "00uNobody (User)"));
        assert!(outbox_types(&store, head).await.is_empty());
    }

    #[tokio::test]
    async fn unlocking_makes_the_user_active_and_clears_the_failed_sign_ins() {
        let store = testing::org().await;
        let user = testing::user(&store, "lo@example.com", UserStatus::LockedOut, true).await;
        let mut tx = store.begin().await.unwrap();
        tx.set_user_lockout(&user.id, 5, Some(i64::MAX / 2))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let head = store.outbox_head().await.unwrap();
        let change = change_status(&Ctx::system(&store), &user.id, Lifecycle::Unlock, false)
            .await
            .unwrap();
        assert_eq!(change.user.status, UserStatus::Active);
        assert!(!change.stopped_acting);
        assert_eq!(store.user_lockout(&user.id).await.unwrap(), (0, None));
        assert_eq!(outbox_types(&store, head).await, ["user.status_changed"]);
    }
}
