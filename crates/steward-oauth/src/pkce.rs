//! PKCE (RFC 7636), `S256` only — Okta advertises `code_challenge_methods_supported: ["S256"]`.
//!
//! `plain`, and an absent `code_challenge_method` (which RFC 7636 defines as `plain`), are
//! refused. Comparisons are constant-time. The authorization endpoint stores the challenge with
//! the code ([`check_authorization_request`]); the token endpoint calls [`check_token_request`],
//! which also refuses the downgrade of a verifier sent for a code that had no challenge
//! (RFC 9700 §2.1.1).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The only supported `code_challenge_method`.
pub const S256: &str = "S256";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `code_verifier` syntax: 43–128 characters of `[A-Za-z0-9-._~]`.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && verifier.bytes().all(is_unreserved)
}

/// An `S256` challenge: exactly 43 base64url characters (a SHA-256 digest, unpadded).
pub fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `BASE64URL(SHA256(ASCII(verifier)))`.
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` is well-formed and hashes to `challenge` (constant-time comparison).
pub fn verify(verifier: &str, challenge: &str) -> bool {
    if !is_valid_verifier(verifier) {
        return false;
    }
    let computed = challenge_s256(verifier);
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

/// A PKCE failure with the OAuth error code to return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error(
        "PKCE code challenge is required when the token endpoint authentication method is 'NONE'."
    )]
    ChallengeRequired,
    #[error("PKCE code challenge is required: this client's settings require PKCE (pkce_required is true).")]
    ChallengeRequiredByClient,
    #[error("'code_challenge_method' is required and must be 'S256'.")]
    MethodRequired,
    #[error("'code_challenge_method' must be 'S256'.")]
    UnsupportedMethod,
    #[error("'code_challenge' is invalid.")]
    InvalidChallenge,
    #[error("'code_challenge_method' was sent without a 'code_challenge'.")]
    MethodWithoutChallenge,
    #[error("PKCE verification failed: 'code_verifier' is required.")]
    VerifierMissing,
    #[error("PKCE verification failed: 'code_verifier' is malformed.")]
    VerifierMalformed,
    #[error("PKCE verification failed.")]
    Mismatch,
    #[error(
        "PKCE verification failed: no code challenge was sent with the authorization request."
    )]
    UnexpectedVerifier,
}

impl PkceError {
    /// `invalid_request` at the authorization endpoint, `invalid_grant` at the token endpoint.
    pub fn error(&self) -> &'static str {
        match self {
            PkceError::ChallengeRequired
            | PkceError::ChallengeRequiredByClient
            | PkceError::MethodRequired
            | PkceError::UnsupportedMethod
            | PkceError::InvalidChallenge
            | PkceError::MethodWithoutChallenge => "invalid_request",
            PkceError::VerifierMissing
            | PkceError::VerifierMalformed
            | PkceError::Mismatch
            | PkceError::UnexpectedVerifier => "invalid_grant",
        }
    }

    pub fn description(&self) -> String {
        self.to_string()
    }
}

/// Whether a client must send a code challenge, and why (the error names the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceRule {
    Optional,
    /// A public client (token endpoint authentication `none`) always uses PKCE.
    PublicClient,
    /// A confidential client whose settings say `pkce_required`.
    ClientRequires,
}

impl PkceRule {
    pub fn of(token_endpoint_auth_method: &str, pkce_required: bool) -> PkceRule {
        if token_endpoint_auth_method == "none" {
            PkceRule::PublicClient
        } else if pkce_required {
            PkceRule::ClientRequires
        } else {
            PkceRule::Optional
        }
    }
}

/// Validates `code_challenge` / `code_challenge_method` at `/authorize`. Returns the challenge
/// to store with the code (`None` when PKCE is not used and the [`PkceRule`] allows that).
pub fn check_authorization_request(
    challenge: Option<&str>,
    method: Option<&str>,
    rule: PkceRule,
) -> Result<Option<String>, PkceError> {
    match (challenge, method) {
        (None, None) => match rule {
            PkceRule::Optional => Ok(None),
            PkceRule::PublicClient => Err(PkceError::ChallengeRequired),
            PkceRule::ClientRequires => Err(PkceError::ChallengeRequiredByClient),
        },
        (None, Some(_)) => Err(PkceError::MethodWithoutChallenge),
        (Some(_), None) => Err(PkceError::MethodRequired),
        (Some(_), Some(m)) if m != S256 => Err(PkceError::UnsupportedMethod),
        (Some(c), Some(_)) if !is_valid_challenge(c) => Err(PkceError::InvalidChallenge),
        (Some(c), Some(_)) => Ok(Some(c.to_owned())),
    }
}

/// Checks the `code_verifier` at `/token` against the challenge stored with the code.
pub fn check_token_request(
    stored_challenge: Option<&str>,
    verifier: Option<&str>,
) -> Result<(), PkceError> {
    match (stored_challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(PkceError::UnexpectedVerifier),
        (Some(_), None) => Err(PkceError::VerifierMissing),
        (Some(_), Some(v)) if !is_valid_verifier(v) => Err(PkceError::VerifierMalformed),
        (Some(c), Some(v)) if verify(v, c) => Ok(()),
        (Some(_), Some(_)) => Err(PkceError::Mismatch),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(challenge_s256(VERIFIER), CHALLENGE);
        assert!(verify(VERIFIER, CHALLENGE));
        assert!(!verify(
            VERIFIER,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!verify(VERIFIER, ""));
        // `plain`: the verifier itself as challenge never matches S256.
        assert!(!verify(VERIFIER, VERIFIER));
    }

    #[test]
    fn verifier_syntax() {
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(is_valid_verifier(&"~._-".repeat(32)));
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(42))));
        assert!(!is_valid_verifier(&format!("{}é", "a".repeat(42))));
        // A verifier that is syntactically invalid fails even if its hash matched.
        let bad = format!("{} ", "a".repeat(42));
        assert!(!verify(&bad, &challenge_s256(&bad)));
        assert!(is_valid_challenge(CHALLENGE));
        assert!(!is_valid_challenge(&CHALLENGE[1..]));
        assert!(!is_valid_challenge(&format!("{}=", &CHALLENGE[1..])));
    }

    #[test]
    fn authorization_request_rules() {
        assert_eq!(
            check_authorization_request(Some(CHALLENGE), Some("S256"), PkceRule::PublicClient),
            Ok(Some(CHALLENGE.to_owned()))
        );
        assert_eq!(
            check_authorization_request(None, None, PkceRule::Optional),
            Ok(None)
        );
        assert_eq!(
            check_authorization_request(None, None, PkceRule::PublicClient),
            Err(PkceError::ChallengeRequired)
        );
        let confidential = PkceRule::of("client_secret_basic", true);
        assert_eq!(confidential, PkceRule::ClientRequires);
        let refused = check_authorization_request(None, None, confidential).unwrap_err();
        assert!(!refused.description().contains("'NONE'"), "{refused}");
        assert_eq!(PkceRule::of("none", false), PkceRule::PublicClient);
        assert_eq!(PkceRule::of("private_key_jwt", false), PkceRule::Optional);
        assert_eq!(
            check_authorization_request(Some(CHALLENGE), Some("plain"), PkceRule::Optional),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            check_authorization_request(Some(CHALLENGE), Some("s256"), PkceRule::Optional),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            check_authorization_request(Some(CHALLENGE), None, PkceRule::Optional),
            Err(PkceError::MethodRequired)
        );
        assert_eq!(
            check_authorization_request(None, Some("S256"), PkceRule::Optional),
            Err(PkceError::MethodWithoutChallenge)
        );
        assert_eq!(
            check_authorization_request(Some("short"), Some("S256"), PkceRule::Optional),
            Err(PkceError::InvalidChallenge)
        );
        assert_eq!(PkceError::UnsupportedMethod.error(), "invalid_request");
    }

    #[test]
    fn token_request_rules() {
        assert_eq!(check_token_request(Some(CHALLENGE), Some(VERIFIER)), Ok(()));
        assert_eq!(check_token_request(None, None), Ok(()));
        assert_eq!(
            check_token_request(None, Some(VERIFIER)),
            Err(PkceError::UnexpectedVerifier)
        );
        assert_eq!(
            check_token_request(Some(CHALLENGE), None),
            Err(PkceError::VerifierMissing)
        );
        assert_eq!(
            check_token_request(Some(CHALLENGE), Some("short")),
            Err(PkceError::VerifierMalformed)
        );
        let other = "a".repeat(43);
        assert_eq!(
            check_token_request(Some(CHALLENGE), Some(&other)),
            Err(PkceError::Mismatch)
        );
        assert_eq!(PkceError::Mismatch.error(), "invalid_grant");
    }
}
