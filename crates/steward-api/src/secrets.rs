//! Password rules, and the hashing the API uses (from `steward-oauth`): argon2id for passwords and
//! client secrets, SHA-256 for API tokens (long random values looked up on every request).
//!
//! Argon2 costs tens of milliseconds of CPU and 19 MiB: request handlers must call the
//! `*_blocking` helpers, which run it on tokio's blocking pool instead of a worker thread, so a
//! burst of (possibly unauthenticated) requests cannot stall every other request.

pub use steward_oauth::secrets::{sha256_hex, verify_secret as verify_password};

use steward_core::profiles;

use crate::error::ApiError;

/// An argon2id PHC hash of a password or client secret. Blocks the thread for the hash's
/// duration: from async code use [`hash_password_blocking`].
pub fn hash_password(password: &str) -> Result<String, String> {
    steward_oauth::secrets::hash_secret(password).map_err(|e| e.to_string())
}

/// [`hash_password`] on the blocking pool. A hashing failure or a lost task is
/// [`ApiError::Internal`].
pub async fn hash_password_blocking(password: &str) -> Result<String, ApiError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing task failed: {e}")))?
        .map_err(ApiError::Internal)
}

/// [`verify_password`] (argon2id) on the blocking pool: whether `secret` matches the PHC
/// string `phc`.
pub async fn verify_secret_blocking(secret: &str, phc: &str) -> Result<bool, ApiError> {
    let (secret, phc) = (secret.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || verify_password(&secret, &phc))
        .await
        .map_err(|e| ApiError::Internal(format!("secret verification task failed: {e}")))
}

/// What [`check_password_policy`] asks for, in words.
pub const PASSWORD_RULES: &str =
    "at least 8 characters, at most 72 characters, a lowercase letter, \
                                  an uppercase letter, a number, no parts of your username.";

/// Okta's default password policy, in brief: at least 8 characters, a lower-case letter, an
/// upper-case letter and a digit, and no part of the login; and at most 72 characters, the most
/// Okta keeps ([`profiles::MAX_PASSWORD_LENGTH`]).
pub fn check_password_policy(password: &str, login: &str) -> Result<(), String> {
    let long = password.chars().count() >= 8;
    let short_enough = !profiles::password_too_long(password);
    let lower = password.chars().any(|c| c.is_lowercase());
    let upper = password.chars().any(|c| c.is_uppercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let local = login.split('@').next().unwrap_or_default().to_lowercase();
    let contains_login = local.len() >= 3 && password.to_lowercase().contains(&local);
    if long && short_enough && lower && upper && digit && !contains_login {
        Ok(())
    } else {
        Err(format!(
            "password: Password requirements were not met. Password requirements: {PASSWORD_RULES}"
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let h = hash_password("Correct-Horse-9").unwrap();
        assert!(verify_password("Correct-Horse-9", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_eq!(sha256_hex("abc").len(), 64);
    }

    #[tokio::test]
    async fn blocking_helpers_hash_and_verify() {
        let h = hash_password_blocking("Correct-Horse-9").await.unwrap();
        assert!(verify_secret_blocking("Correct-Horse-9", &h).await.unwrap());
        assert!(!verify_secret_blocking("wrong", &h).await.unwrap());
        assert!(!verify_secret_blocking("x", "not a phc string")
            .await
            .unwrap());
    }

    #[test]
    fn password_policy() {
        assert!(check_password_policy("Tr0ub4dor&3", "jane@example.com").is_ok());
        assert!(check_password_policy("short1A", "jane@example.com").is_err());
        assert!(check_password_policy("alllowercase1", "jane@example.com").is_err());
        assert!(check_password_policy("Jane12345x", "jane@example.com").is_err());
        let longest = format!("Aa1{}", "x".repeat(69));
        assert!(check_password_policy(&longest, "jane@example.com").is_ok());
        assert!(check_password_policy(&format!("{longest}x"), "jane@example.com").is_err());
    }
}
