//! The sign-in lockout rule: only an ACTIVE user signs in, and only an ACTIVE user's wrong
//! passwords count; the [`THRESHOLD`]th in a row locks the account for [`LOCK_MS`]
//! (LOCKED_OUT), and a lock that has run out makes the account ACTIVE again, counting afresh.
//! Any other user (suspended, deactivated, not yet activated, locked with the lock running) is
//! refused, and a sign-in never changes their status.

use crate::directory::UserStatus;

/// Wrong passwords in a row that lock the account.
pub const THRESHOLD: i64 = 5;
/// How long a lock lasts (15 minutes).
pub const LOCK_MS: i64 = 15 * 60 * 1000;

/// A user's lockout state as stored: their status, wrong passwords in a row, and until when
/// (epoch ms) a lock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    pub status: UserStatus,
    pub failed: i64,
    pub locked_until: Option<i64>,
}

/// Why a sign-in was refused without counting, as the System Log's `outcome.reason` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Locked, and the lock still runs.
    LockedOut,
    /// The password matched, but the user is not ACTIVE.
    UserNotActive,
    /// The password was wrong, and the user is not ACTIVE (nothing counted).
    InvalidCredentials,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::LockedOut => "LOCKED_OUT",
            Refusal::UserNotActive => "USER_NOT_ACTIVE",
            Refusal::InvalidCredentials => "INVALID_CREDENTIALS",
        }
    }
}

/// What one password check does to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Refused before counting: nothing about the user changes.
    Refused(Refusal),
    /// A wrong password, counted: store `after` (LOCKED_OUT when this one locked the account).
    Failed { after: LockState },
    /// The password matched: the user signs in; `after` is ACTIVE with nothing counted.
    SignedIn { after: LockState },
}

impl Attempt {
    /// The state to store, when the attempt changes it.
    pub fn after(&self) -> Option<LockState> {
        match self {
            Attempt::Refused(_) => None,
            Attempt::Failed { after } | Attempt::SignedIn { after } => Some(*after),
        }
    }

    /// Whether this attempt locked the account.
    pub fn locks(&self) -> bool {
        matches!(self, Attempt::Failed { after } if after.status == UserStatus::LockedOut)
    }
}

/// Decides a password check at `now` for a user in state `before`.
pub fn attempt(before: LockState, password_matches: bool, now: i64) -> Attempt {
    let failed = match before.status {
        UserStatus::Active => before.failed,
        UserStatus::LockedOut if before.locked_until.is_some_and(|t| t > now) => {
            return Attempt::Refused(Refusal::LockedOut);
        }
        // The lock has run out: the account is ACTIVE again and counts afresh.
        UserStatus::LockedOut => 0,
        _ if password_matches => return Attempt::Refused(Refusal::UserNotActive),
        _ => return Attempt::Refused(Refusal::InvalidCredentials),
    };
    if password_matches {
        return Attempt::SignedIn {
            after: LockState {
                status: UserStatus::Active,
                failed: 0,
                locked_until: None,
            },
        };
    }
    let failed = failed.saturating_add(1);
    let locks = failed >= THRESHOLD;
    Attempt::Failed {
        after: LockState {
            status: if locks {
                UserStatus::LockedOut
            } else {
                UserStatus::Active
            },
            failed,
            locked_until: locks.then_some(now.saturating_add(LOCK_MS)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UserStatus::*;

    const NOW: i64 = 1_700_000_000_000;

    fn state(status: UserStatus, failed: i64, locked_until: Option<i64>) -> LockState {
        LockState {
            status,
            failed,
            locked_until,
        }
    }

    #[test]
    fn wrong_passwords_count_and_the_fifth_in_a_row_locks_for_fifteen_minutes() {
        let mut s = state(Active, 0, None);
        for n in 1..THRESHOLD {
            let a = attempt(s, false, NOW);
            assert_eq!(
                a,
                Attempt::Failed {
                    after: state(Active, n, None)
                }
            );
            assert!(!a.locks());
            s = a.after().unwrap_or(s);
        }
        let a = attempt(s, false, NOW);
        assert!(a.locks());
        assert_eq!(
            a.after(),
            Some(state(LockedOut, THRESHOLD, Some(NOW + LOCK_MS)))
        );
    }

    #[test]
    fn a_right_password_signs_in_and_clears_the_count() {
        let a = attempt(state(Active, THRESHOLD - 1, None), true, NOW);
        assert_eq!(
            a,
            Attempt::SignedIn {
                after: state(Active, 0, None)
            }
        );
    }

    #[test]
    fn a_running_lock_refuses_even_the_right_password_and_counts_nothing() {
        let locked = state(LockedOut, THRESHOLD, Some(NOW + 1));
        for matches in [true, false] {
            assert_eq!(
                attempt(locked, matches, NOW),
                Attempt::Refused(Refusal::LockedOut)
            );
        }
    }

    #[test]
    fn a_lock_that_ran_out_makes_the_user_active_and_counts_afresh() {
        let expired = state(LockedOut, THRESHOLD, Some(NOW));
        assert_eq!(
            attempt(expired, true, NOW),
            Attempt::SignedIn {
                after: state(Active, 0, None)
            }
        );
        assert_eq!(
            attempt(expired, false, NOW),
            Attempt::Failed {
                after: state(Active, 1, None)
            }
        );
        // A lock without an end (never written by a sign-in) has run out too.
        assert_eq!(
            attempt(state(LockedOut, THRESHOLD, None), false, NOW),
            Attempt::Failed {
                after: state(Active, 1, None)
            }
        );
    }

    #[test]
    fn users_who_are_not_active_are_refused_and_never_change() {
        for status in [
            Staged,
            Provisioned,
            Suspended,
            Deprovisioned,
            Recovery,
            PasswordExpired,
        ] {
            let s = state(status, 0, None);
            assert_eq!(
                attempt(s, true, NOW),
                Attempt::Refused(Refusal::UserNotActive)
            );
            assert_eq!(
                attempt(s, false, NOW),
                Attempt::Refused(Refusal::InvalidCredentials)
            );
        }
        assert_eq!(Refusal::LockedOut.as_str(), "LOCKED_OUT");
    }
}
