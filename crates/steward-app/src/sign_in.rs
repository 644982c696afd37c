//! Signing in with a password: the lockout rule (`steward_core::lockout`) applied to the user
//! as stored, the session opened, and every attempt in the System Log.

use steward_core::directory::User;
use steward_core::events::DomainEvent;
use steward_core::lockout::{self, Attempt, LockState, Refusal};
use steward_core::syslog::{Actor, LogEvent};
use steward_store::{Session, StoreError};

use crate::users::target;
use crate::{AppError, AppResult, Ctx};

/// Attempts at a sign-in whose user changed (password or login) while the password was checked.
const ATTEMPTS: usize = 3;

/// A password sign-in.
pub struct PasswordSignIn<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The hash of the new session's id (the cookie holds the id), and how long it lasts.
    pub session_id_hash: &'a str,
    pub session_lifetime_ms: i64,
    /// A PHC string checked when the login is unknown, so that it takes as long as a known one.
    pub dummy_hash: &'a str,
}

/// What a sign-in came to.
#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    /// The session was opened for this user.
    Done { user_id: String },
    /// Refused; the System Log has the reason (`VERIFICATION_ERROR` when there is no such
    /// user). Show one message for all, so that the answer does not tell which logins exist.
    Refused { reason: &'static str },
}

const VERIFICATION_ERROR: &str = "VERIFICATION_ERROR";

/// Checks the password (argon2id, on the blocking pool) before the write transaction; the
/// transaction then re-reads the user (locked on PostgreSQL) and applies
/// [`lockout::attempt`] to that fresh copy, so that a lifecycle change or a password change
/// racing the sign-in is never undone by it. A lock, or a lock found run out, changes the
/// user's status (`user.status_changed`, actor Steward). Every failure is logged from
/// `ctx.client` at `ctx.now`.
pub async fn with_password(ctx: &Ctx<'_>, attempt: &PasswordSignIn<'_>) -> AppResult<SignIn> {
    let (store, now, username) = (ctx.store, ctx.now, attempt.username);
    for _ in 0..ATTEMPTS {
        let found = match store.user_by_login(username).await {
            Ok(user) => Some(user),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let hash = found.as_ref().and_then(|u| u.password_hash.clone());
        // Always hash, so that an unknown login takes as long as a known one.
        let phc = hash.as_deref().unwrap_or(attempt.dummy_hash);
        let verified = verify_blocking(attempt.password, phc).await?;
        let matches = verified && hash.is_some();
        let Some(found) = found else {
            log_failure(ctx, None, username, VERIFICATION_ERROR).await;
            return Ok(SignIn::Refused {
                reason: VERIFICATION_ERROR,
            });
        };
        let mut tx = ctx.begin().await?;
        let mut user = match tx.user(&found.id).await {
            Ok(user) => user,
            Err(StoreError::NotFound) => {
                drop(tx);
                log_failure(ctx, None, username, VERIFICATION_ERROR).await;
                return Ok(SignIn::Refused {
                    reason: VERIFICATION_ERROR,
                });
            }
            Err(e) => return Err(e.into()),
        };
        if user.password_hash != hash || user.login().to_lowercase() != username.to_lowercase() {
            // The password or the login changed while the password was being checked.
            continue;
        }
        let (failed, locked_until) = tx.user_lockout(&user.id).await?;
        let before = LockState {
            status: user.status,
            failed,
            locked_until,
        };
        let decided = lockout::attempt(before, matches, now);
        let Some(after) = decided.after() else {
            drop(tx);
            let reason = match decided {
                Attempt::Refused(refusal) => refusal.as_str(),
                _ => Refusal::InvalidCredentials.as_str(),
            };
            log_failure(ctx, Some(&user), username, reason).await;
            return Ok(SignIn::Refused { reason });
        };
        let status_changed = after.status != before.status;
        if status_changed {
            user.status = after.status;
            user.status_changed = Some(now);
        }
        tx.set_user_lockout(&user.id, after.failed, after.locked_until)
            .await?;
        if status_changed {
            // Locked by too many failures, or unlocked because the lock ran out: Steward's doing.
            tx.record(
                DomainEvent::UserStatusChanged {
                    user_id: user.id.clone(),
                    from: before.status.as_str().into(),
                    to: user.status.as_str().into(),
                    send_email: None,
                    actor: Actor::system(),
                },
                &[target(&user)],
            )
            .await?;
        }
        let signed_in = matches!(decided, Attempt::SignedIn { .. });
        if signed_in {
            user.last_login = Some(now);
        }
        if signed_in || status_changed {
            tx.update_user(&user).await?;
        }
        if signed_in {
            tx.insert_session(
                attempt.session_id_hash,
                &Session {
                    user_id: user.id.clone(),
                    created: now,
                    expires: now + attempt.session_lifetime_ms,
                    auth_time: now,
                },
            )
            .await?;
            tx.append_log(
                &LogEvent::new(
                    "user.session.start",
                    "User login to Okta",
                    Actor::user(&user.id, user.login(), &user.display_name()),
                    now,
                )
                .client(ctx.client.clone()),
            )
            .await?;
        } else {
            tx.append_log(&failure(
                ctx,
                Some(&user),
                username,
                Refusal::InvalidCredentials.as_str(),
            ))
            .await?;
        }
        tx.commit().await?;
        return Ok(if signed_in {
            SignIn::Done { user_id: user.id }
        } else {
            SignIn::Refused {
                reason: Refusal::InvalidCredentials.as_str(),
            }
        });
    }
    log_failure(ctx, None, username, VERIFICATION_ERROR).await;
    Ok(SignIn::Refused {
        reason: VERIFICATION_ERROR,
    })
}

/// Argon2 is slow on purpose: it runs on the blocking pool, never on a runtime worker.
async fn verify_blocking(secret: &str, phc: &str) -> AppResult<bool> {
    let (secret, phc) = (secret.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || steward_oauth::secrets::verify_secret(&secret, &phc))
        .await
        .map_err(|e| AppError::Internal(format!("secret verification task failed: {e}")))
}

/// The System Log event of a failed sign-in.
fn failure(ctx: &Ctx<'_>, user: Option<&User>, username: &str, reason: &str) -> LogEvent {
    let actor = match user {
        Some(u) => Actor::user(&u.id, u.login(), &u.display_name()),
        None => Actor {
            id: "unknown".into(),
            kind: "User".into(),
            alternate_id: username.chars().take(100).collect(),
            display_name: "unknown".into(),
        },
    };
    LogEvent::new("user.session.start", "User login to Okta", actor, ctx.now)
        .outcome("FAILURE", Some(reason.to_string()))
        .client(ctx.client.clone())
}

/// Writes a refused sign-in's event in a transaction of its own, best effort: a sign-in is
/// refused all the same when the System Log cannot be written.
async fn log_failure(ctx: &Ctx<'_>, user: Option<&User>, username: &str, reason: &str) {
    let event = failure(ctx, user, username, reason);
    if let Ok(mut tx) = ctx.store.begin().await {
        if tx.append_log(&event).await.is_ok() {
            let _ = tx.commit().await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use steward_core::directory::UserStatus;
    use steward_core::lockout::{LOCK_MS, THRESHOLD};
    use steward_store::Store;

    use super::*;
    use crate::testing::{self, log_types, outbox_types};

    const PASSWORD: &str = "Correct-Horse-9";
    const NOW: i64 = 1_700_000_000_000;

    /// A user with `status` whose password is [`PASSWORD`], and a dummy hash.
    async fn setup(status: UserStatus) -> (Store, User, String) {
        let store = testing::org().await;
        let mut user = testing::user(&store, "sam@example.com", status, true).await;
        user.password_hash = Some(steward_oauth::secrets::hash_secret(PASSWORD).unwrap());
        let mut tx = store.begin().await.unwrap();
        tx.update_user(&user).await.unwrap();
        tx.commit().await.unwrap();
        let dummy = steward_oauth::secrets::hash_secret("not-anyones-password").unwrap();
        (store, user, dummy)
    }

    async fn try_password(store: &Store, dummy: &str, password: &str, now: i64) -> SignIn {
        let attempt = PasswordSignIn {
            username: "Sam@Example.com",
            password,
            session_id_hash: "sid-hash",
            session_lifetime_ms: 3_600_000,
            dummy_hash: dummy,
        };
        with_password(&Ctx::system(store).at(now), &attempt)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn wrong_passwords_lock_the_account_and_a_lock_refuses_the_right_one() {
        let (store, user, dummy) = setup(UserStatus::Active).await;
        let head = store.outbox_head().await.unwrap();
        for _ in 0..THRESHOLD {
            let refused = try_password(&store, &dummy, "wrong", NOW).await;
            assert_eq!(
                refused,
                SignIn::Refused {
                    reason: "INVALID_CREDENTIALS"
                }
            );
        }
        assert_eq!(
            store.user(&user.id).await.unwrap().status,
            UserStatus::LockedOut
        );
        assert_eq!(
            store.user_lockout(&user.id).await.unwrap(),
            (THRESHOLD, Some(NOW + LOCK_MS))
        );
        assert!(log_types(&store)
            .await
            .contains(&"user.account.lock".to_string()));
        let rows = store.outbox_after(head, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].event_type, "user.status_changed");
        assert_eq!(rows[0].payload["to"], "LOCKED_OUT");

        let refused = try_password(&store, &dummy, PASSWORD, NOW + LOCK_MS - 1).await;
        assert_eq!(
            refused,
            SignIn::Refused {
                reason: "LOCKED_OUT"
            }
        );
        assert!(store.session("sid-hash", NOW).await.is_err());
    }

    #[tokio::test]
    async fn after_the_lock_runs_out_the_right_password_signs_in_and_unlocks() {
        let (store, user, dummy) = setup(UserStatus::Active).await;
        for _ in 0..THRESHOLD {
            try_password(&store, &dummy, "wrong", NOW).await;
        }
        let head = store.outbox_head().await.unwrap();
        let later = NOW + LOCK_MS + 1;
        let done = try_password(&store, &dummy, PASSWORD, later).await;
        assert_eq!(
            done,
            SignIn::Done {
                user_id: user.id.clone()
            }
        );
        let now = store.user(&user.id).await.unwrap();
        assert_eq!(now.status, UserStatus::Active);
        assert_eq!(now.last_login, Some(later));
        assert_eq!(store.user_lockout(&user.id).await.unwrap(), (0, None));
        assert_eq!(
            store.session("sid-hash", later).await.unwrap().user_id,
            user.id
        );
        assert_eq!(outbox_types(&store, head).await, ["user.status_changed"]);
        assert_eq!(
            log_types(&store).await.last().unwrap(),
            "user.session.start"
        );
    }

    #[tokio::test]
    async fn unknown_logins_and_inactive_users_are_refused_and_nothing_changes() {
        let (store, user, dummy) = setup(UserStatus::Suspended).await;
        let head = store.outbox_head().await.unwrap();
        let refused = try_password(&store, &dummy, PASSWORD, NOW).await;
        assert_eq!(
            refused,
            SignIn::Refused {
                reason: "USER_NOT_ACTIVE"
            }
        );
        let refused = try_password(&store, &dummy, "wrong", NOW).await;
        assert_eq!(
            refused,
            SignIn::Refused {
                reason: "INVALID_CREDENTIALS"
            }
        );
        assert_eq!(
            store.user(&user.id).await.unwrap().status,
            UserStatus::Suspended
        );
        assert_eq!(store.user_lockout(&user.id).await.unwrap().0, 0);

        let attempt = PasswordSignIn {
            username: "nobody@example.com",
            password: PASSWORD,
            session_id_hash: "sid-hash",
            session_lifetime_ms: 3_600_000,
            dummy_hash: &dummy,
        };
        let refused = with_password(&Ctx::system(&store).at(NOW), &attempt)
            .await
            .unwrap();
        assert_eq!(
            refused,
            SignIn::Refused {
                reason: "VERIFICATION_ERROR"
            }
        );
        let last = testing::logs(&store).await.pop().unwrap();
        assert_eq!(last["actor"]["alternateId"], "nobody@example.com");
        assert_eq!(last["outcome"]["reason"], "VERIFICATION_ERROR");
        assert!(outbox_types(&store, head).await.is_empty());
    }
}
