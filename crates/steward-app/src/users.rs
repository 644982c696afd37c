//! User lifecycle: status changes with their side effects, System Log event and domain event.

use serde_json::{Map, Value};
use steward_core::directory::{self, Lifecycle, User, UserStatus, ACTIVATION_TOKEN_LIFETIME_MS};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, random_secret, IdKind};
use steward_core::syslog::Target;
use steward_core::validation::ValidationError;
use steward_oauth::secrets::sha256_hex;
use steward_store::{ActivationToken, PrincipalType, StoreError, WriteTx};

use crate::{AppError, AppResult, Ctx};

/// Characters of an activation token (alphanumeric: about 190 bits).
const ACTIVATION_TOKEN_LENGTH: usize = 32;

/// A user as the System Log names them.
pub fn target(u: &User) -> Target {
    Target::user(u)
}

/// A user to create (`POST /api/v1/users`).
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub profile: Map<String, Value>,
    /// The password, already checked against the policy and hashed.
    pub password_hash: Option<String>,
    /// Activate now (ACTIVE with a password, PROVISIONED without) or leave STAGED.
    pub activate: bool,
    /// Groups to join besides Everyone; each must exist.
    pub group_ids: Vec<String>,
}

/// Creates a user in Everyone and the groups named, and records it (`user.created`, one
/// `group.membership_added` per group joined), in one transaction.
pub async fn create(ctx: &Ctx<'_>, new: NewUser) -> AppResult<User> {
    directory::validate_user_profile(&new.profile)?;
    let now = ctx.now;
    let status = match (new.activate, new.password_hash.is_some()) {
        (false, _) => UserStatus::Staged,
        (true, true) => UserStatus::Active,
        (true, false) => UserStatus::Provisioned,
    };
    let activated = (status != UserStatus::Staged).then_some(now);
    let user = User {
        id: new_id(IdKind::User),
        status,
        created: now,
        activated,
        status_changed: activated,
        last_login: None,
        last_updated: now,
        password_changed: new.password_hash.as_ref().map(|_| now),
        profile: new.profile,
        password_hash: new.password_hash,
    };
    let everyone = ctx.store.everyone_group().await?;
    let mut tx = ctx.begin().await?;
    tx.insert_user(&user).await?;
    tx.add_member(&everyone.id, &user.id, now).await?;
    tx.record(
        DomainEvent::UserCreated {
            user_id: user.id.clone(),
            activated: activated.is_some(),
            actor: ctx.actor.clone(),
        },
        &[target(&user)],
    )
    .await?;
    for group_id in &new.group_ids {
        let group = ctx.store.group(group_id).await.map_err(|e| match e {
            StoreError::NotFound => AppError::Validation(ValidationError::new(
                "groupIds",
                format!("groupIds: group {group_id} does not exist"),
            )),
            other => other.into(),
        })?;
        // A group named twice is joined once, and recorded once.
        if !tx.add_member(&group.id, &user.id, now).await? {
            continue;
        }
        tx.record(
            DomainEvent::GroupMembershipAdded {
                group_id: group.id.clone(),
                user_id: user.id.clone(),
                access_request_id: None,
                actor: ctx.actor.clone(),
            },
            &[target(&user), Target::group(&group)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// A change of a user's profile and/or password (`POST` or `PUT /api/v1/users/{id}`).
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// Attributes to merge into the profile, or (`whole`) the profile that replaces it.
    pub profile: Option<Map<String, Value>>,
    pub whole: bool,
    /// The new password, already checked and hashed.
    pub password_hash: Option<String>,
}

impl ProfileChange {
    /// Applies the profile part to `user`; whether the profile changed. Refuses an invalid
    /// profile.
    pub fn apply_profile(&self, user: &mut User) -> AppResult<bool> {
        let Some(profile) = &self.profile else {
            return Ok(false);
        };
        let before = user.profile.clone();
        if self.whole {
            user.profile = profile.clone();
        } else {
            directory::merge_profile(&mut user.profile, profile);
        }
        directory::validate_user_profile(&user.profile)?;
        Ok(user.profile != before)
    }
}

/// Applies `change` to user `user_id` as it is inside the transaction (re-read and locked on
/// PostgreSQL), so that a lifecycle change racing this update is never written back over.
/// Records `user.updated` only when something changed (its log says which: password, profile).
/// `shown` names the user in a 404.
pub async fn update(
    ctx: &Ctx<'_>,
    user_id: &str,
    shown: &str,
    change: &ProfileChange,
) -> AppResult<User> {
    let mut tx = ctx.begin().await?;
    let mut user = tx
        .user(user_id)
        .await
        .map_err(AppError::not_found_as(format!("{shown} (User)")))?;
    let profile = change.apply_profile(&mut user)?;
    let password = change.password_hash.is_some();
    if !profile && !password {
        return Ok(user);
    }
    if let Some(hash) = &change.password_hash {
        user.password_hash = Some(hash.clone());
        user.password_changed = Some(ctx.now);
    }
    user.last_updated = ctx.now;
    tx.update_user(&user).await?;
    tx.record(
        DomainEvent::UserUpdated {
            user_id: user.id.clone(),
            profile,
            password,
            actor: ctx.actor.clone(),
        },
        &[target(&user)],
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// What [`delete`] did: Okta deactivates a user first and deletes one already deactivated.
#[derive(Debug)]
pub enum Deletion {
    Deactivated(StatusChange),
    Deleted(User),
}

/// `DELETE /api/v1/users/{id}`: deactivates the user, or deletes one already DEPROVISIONED,
/// deciding on the status as it is inside the transaction (a user reactivated meanwhile is
/// deactivated, not deleted).
pub async fn delete(ctx: &Ctx<'_>, user_id: &str, shown: &str) -> AppResult<Deletion> {
    let mut tx = ctx.begin().await?;
    let user = tx
        .user(user_id)
        .await
        .map_err(AppError::not_found_as(format!("{shown} (User)")))?;
    if user.status != UserStatus::Deprovisioned {
        drop(tx);
        let change = change_status(ctx, &user.id, Lifecycle::Deactivate, false).await?;
        return Ok(Deletion::Deactivated(change));
    }
    tx.delete_user(&user.id).await?;
    tx.record(
        DomainEvent::UserDeleted {
            user_id: user.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[target(&user)],
    )
    .await?;
    tx.commit().await?;
    Ok(Deletion::Deleted(user))
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

/// Applies lifecycle operation `op` to user `user_id` and records it (`user.status_changed`, or
/// `user.activation_reissued` for a reactivation; the System Log entry derives from it), in one
/// transaction.
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
    let mut tx = ctx.begin().await?;
    let mut user = tx
        .user(user_id)
        .await
        .map_err(AppError::not_found_as(format!("{user_id} (User)")))?;
    let next = directory::transition(user.status, op, user.password_hash.is_some())?;
    if user.status.credentials_act() && !next.credentials_act() {
        crate::roles::keep_a_super_admin(&mut tx, PrincipalType::User, &user.id).await?;
    }
    let previous = user.status;
    if next != previous {
        user.status_changed = Some(now);
    }
    user.status = next;
    user.last_updated = now;
    if op == Lifecycle::Activate {
        user.activated = Some(now);
    }
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
    let issues_link = op.issues_activation_token();
    if issues_link {
        if send_email {
            tx.delete_activation_tokens(&user.id).await?;
        } else {
            activation_token = Some(issue_activation_token(&mut tx, &user.id, now).await?);
        }
    }
    let event = if next != previous {
        DomainEvent::UserStatusChanged {
            user_id: user.id.clone(),
            from: previous.as_str().into(),
            to: next.as_str().into(),
            send_email: issues_link.then_some(send_email),
            actor: ctx.actor.clone(),
        }
    } else {
        // Only reactivation leaves the status as it was: it issues the link again.
        DomainEvent::UserActivationReissued {
            user_id: user.id.clone(),
            send_email,
            actor: ctx.actor.clone(),
        }
    };
    tx.record(event, &[target(&user)]).await?;
    tx.commit().await?;
    Ok(StatusChange {
        user,
        activation_token,
        stopped_acting,
    })
}

/// Uses up activation token `token_hash` (its SHA-256) and activates its user with the password
/// `password_hash`, in one transaction, the user acting for themselves; `None` when the token or
/// the user's status no longer allows it (a concurrent use won, the link expired).
pub async fn complete_activation(
    ctx: &Ctx<'_>,
    token_hash: &str,
    password_hash: String,
) -> AppResult<Option<User>> {
    let mut tx = ctx.begin().await?;
    let Some(user_id) = tx.use_activation_token(token_hash, ctx.now).await? else {
        return Ok(None);
    };
    let mut user = tx.user(&user_id).await?;
    let Some(next) = directory::complete_activation(user.status) else {
        return Ok(None);
    };
    let previous = user.status;
    user.status = next;
    user.status_changed = Some(ctx.now);
    user.last_updated = ctx.now;
    user.password_hash = Some(password_hash);
    user.password_changed = Some(ctx.now);
    tx.update_user(&user).await?;
    tx.record(
        DomainEvent::UserStatusChanged {
            user_id: user.id.clone(),
            from: previous.as_str().into(),
            to: next.as_str().into(),
            send_email: None,
            actor: steward_core::syslog::Actor::user(&user.id, user.login(), &user.display_name()),
        },
        &[target(&user)],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(user))
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
