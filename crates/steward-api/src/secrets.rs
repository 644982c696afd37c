//! Password and token hashing. Passwords and client secrets: argon2id (PHC strings).
//! API tokens: SHA-256, because they are long random values looked up on every request.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use sha2::{Digest, Sha256};

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Constant-time verification (inside argon2) of `password` against a PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Okta's default password policy, in brief: at least 8 characters, a lower-case letter, an
/// upper-case letter and a digit, and no part of the login.
pub fn check_password_policy(password: &str, login: &str) -> Result<(), String> {
    let long = password.chars().count() >= 8;
    let lower = password.chars().any(|c| c.is_lowercase());
    let upper = password.chars().any(|c| c.is_uppercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let local = login.split('@').next().unwrap_or_default().to_lowercase();
    let contains_login = local.len() >= 3 && password.to_lowercase().contains(&local);
    if long && lower && upper && digit && !contains_login {
        Ok(())
    } else {
        Err("password: Password requirements were not met. Password requirements: at least 8 characters, \
             a lowercase letter, an uppercase letter, a number, no parts of your username."
            .into())
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

    #[test]
    fn password_policy() {
        assert!(check_password_policy("Tr0ub4dor&3", "jane@example.com").is_ok());
        assert!(check_password_policy("short1A", "jane@example.com").is_err());
        assert!(check_password_policy("alllowercase1", "jane@example.com").is_err());
        assert!(check_password_policy("Jane12345x", "jane@example.com").is_err());
    }
}
