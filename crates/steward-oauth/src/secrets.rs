//! Secret handling: argon2id hashes for passwords and client secrets, SHA-256 lookup keys for
//! bearer artefacts (refresh tokens, authorization codes, API tokens), random tokens, and
//! constant-time comparison.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) so the parameters travel with
//! each hash; [`verify_secret`] uses the stored parameters, and [`needs_rehash`] tells when a hash
//! should be upgraded after a successful login.

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Version,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Argon2 cost parameters (memory KiB, iterations, lanes).
pub use argon2::Params as HashParams;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Production parameters: argon2's defaults (argon2id, 19 MiB, t=2, p=1 — OWASP's minimum).
pub fn default_params() -> HashParams {
    HashParams::default()
}

fn hasher(params: HashParams) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password or client secret with [`default_params`].
pub fn hash_secret(secret: &str) -> Result<String, SecretError> {
    hash_secret_with(secret, default_params())
}

/// Hashes with explicit parameters (tests use tiny ones).
pub fn hash_secret_with(secret: &str, params: HashParams) -> Result<String, SecretError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher(params)
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// Whether `secret` matches the argon2id PHC string `phc`. Malformed or non-argon2id hashes
/// never match. The digest comparison inside argon2 is constant-time.
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    if hash.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    Argon2::default()
        .verify_password(secret.as_bytes(), &hash)
        .is_ok()
}

/// Whether a stored hash uses other parameters than `params` (re-hash after a successful
/// verification).
pub fn needs_rehash(phc: &str, params: &HashParams) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(stored) = HashParams::try_from(&hash) else {
        return true;
    };
    hash.algorithm != argon2::ARGON2ID_IDENT
        || stored.m_cost() != params.m_cost()
        || stored.t_cost() != params.t_cost()
        || stored.p_cost() != params.p_cost()
}

/// A hash to verify against when the account or client does not exist, so that a miss costs
/// as much as a hit (compute once at start-up with the production parameters).
pub fn dummy_hash(params: HashParams) -> Result<String, SecretError> {
    hash_secret_with("steward-dummy-secret", params)
}

/// Lower-case hex SHA-256, the lookup key for stored bearer artefacts (store this, never the
/// token itself).
pub fn sha256_hex(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

const HEX: [u8; 16] = *b"0123456789abcdef";

/// `n_bytes` of OS randomness, base64url without padding (refresh tokens, codes, jti, nonces).
pub fn random_token(n_bytes: usize) -> String {
    let mut bytes = vec![0u8; n_bytes];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Constant-time equality of two byte strings (length may leak, content does not).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn cheap() -> HashParams {
        HashParams::new(8, 1, 1, None).unwrap()
    }

    #[test]
    fn hash_and_verify() {
        let h = hash_secret_with("correct horse", cheap()).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{h}");
        assert!(verify_secret("correct horse", &h));
        assert!(!verify_secret("correct horsf", &h));
        assert!(!verify_secret("", &h));
        // Salted: two hashes of the same secret differ.
        assert_ne!(h, hash_secret_with("correct horse", cheap()).unwrap());
        assert!(!verify_secret("x", "not a hash"));
        assert!(!verify_secret("x", ""));
    }

    #[test]
    fn other_argon2_variants_are_refused() {
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, cheap())
            .hash_password(b"pw", &SaltString::generate(&mut rand::rngs::OsRng))
            .unwrap()
            .to_string();
        assert!(argon2i.starts_with("$argon2i$"));
        assert!(!verify_secret("pw", &argon2i));
    }

    #[test]
    fn rehash_detection() {
        let h = hash_secret_with("pw", cheap()).unwrap();
        assert!(!needs_rehash(&h, &cheap()));
        assert!(needs_rehash(&h, &default_params()));
        assert!(needs_rehash("junk", &cheap()));
        assert_eq!(default_params().m_cost(), 19 * 1024);
        assert!(!verify_secret("pw", &dummy_hash(cheap()).unwrap()));
    }

    #[test]
    fn sha256_hex_vectors() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn random_tokens_and_ct_eq() {
        let t = random_token(32);
        assert_eq!(t.len(), 43);
        assert_ne!(t, random_token(32));
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
