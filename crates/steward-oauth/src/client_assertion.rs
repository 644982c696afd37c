//! `private_key_jwt` client authentication (RFC 7523 §2.2/§3, OIDC Core §9), the only method the
//! org AS accepts for client credentials.
//!
//! The caller finds the client (by the form's `client_id`, or by [`unverified_client_id`] when
//! the form has none), loads its registered JWK Set, and calls [`verify_client_assertion`]. On
//! success it must record `(client_id, jti)` until `exp` and refuse a second use (replay); this
//! module cannot, being stateless. Every failure is `invalid_client` (HTTP 401).

use crate::jwk::{Jwk, JwsAlg};
use crate::jws::{self, NumericDate};

/// `client_assertion_type` for JWT client authentication.
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Okta: `exp` at most one hour in the future.
pub const MAX_ASSERTION_LIFETIME_SECS: i64 = 3600;
/// Clock-skew allowance for assertion times.
pub const DEFAULT_ASSERTION_LEEWAY_SECS: i64 = 60;
/// The OAuth error code for every assertion failure.
pub const ERROR: &str = "invalid_client";

/// What the assertion must satisfy.
#[derive(Debug, Clone, Copy)]
pub struct AssertionCheck<'a> {
    /// The client being authenticated; `iss` and `sub` must both equal it.
    pub client_id: &'a str,
    /// Accepted `aud` values: the issuer and the token endpoint URL (and, for assertions sent to
    /// introspect/revoke, those endpoints' URLs if desired).
    pub audiences: &'a [&'a str],
    /// Epoch seconds.
    pub now: i64,
    pub leeway_secs: i64,
    pub max_lifetime_secs: i64,
    pub algs: &'a [JwsAlg],
}

impl<'a> AssertionCheck<'a> {
    /// Okta's rules: algorithms RS/ES 256/384/512, `exp` ≤ 1 hour ahead, 60 s leeway.
    pub fn new(client_id: &'a str, audiences: &'a [&'a str], now: i64) -> Self {
        AssertionCheck {
            client_id,
            audiences,
            now,
            leeway_secs: DEFAULT_ASSERTION_LEEWAY_SECS,
            max_lifetime_secs: MAX_ASSERTION_LIFETIME_SECS,
            algs: &JwsAlg::ALL,
        }
    }
}

/// A verified assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub client_id: String,
    /// Store `(client_id, jti)` until `exp` and reject reuse.
    pub jti: String,
    pub exp: i64,
    pub iat: Option<i64>,
    pub alg: JwsAlg,
    /// The `kid` of the key that verified the signature (if the key had one).
    pub kid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("The client_assertion is not a well-formed JWT.")]
    Malformed,
    #[error("The client_assertion uses an unsupported critical header.")]
    CriticalHeader,
    #[error("The client_assertion signature algorithm '{0}' is not supported.")]
    UnsupportedAlgorithm(String),
    #[error("No key registered for the client matches the client_assertion.")]
    NoMatchingKey,
    #[error("The client_assertion signature is invalid.")]
    InvalidSignature,
    #[error("The client_assertion 'iss' claim must be the client_id.")]
    InvalidIssuer,
    #[error("The client_assertion 'sub' claim must be the client_id.")]
    InvalidSubject,
    #[error("The client_assertion 'aud' claim does not identify this authorization server.")]
    InvalidAudience,
    #[error("The client_assertion is missing the '{0}' claim.")]
    MissingClaim(&'static str),
    #[error("The client_assertion has expired.")]
    Expired,
    #[error("The client_assertion 'exp' claim is too far in the future.")]
    LifetimeTooLong,
    #[error("The client_assertion is not yet valid.")]
    NotYetValid,
    #[error("The client_assertion 'iat' claim is in the future.")]
    IssuedInFuture,
    #[error("The client_assertion 'iat' claim is after its 'exp' claim.")]
    IssuedAfterExpiry,
}

impl AssertionError {
    /// `error_description` for the `invalid_client` response.
    pub fn description(&self) -> String {
        self.to_string()
    }
}

/// The client an assertion claims to come from (`iss`, which must equal `sub`), read without
/// verifying anything. Only for finding the client's keys; always verify afterwards.
pub fn unverified_client_id(assertion: &str) -> Option<String> {
    let parsed = jws::parse(assertion).ok()?;
    let iss = jws::str_member(&parsed.claims, "iss")?;
    (jws::str_member(&parsed.claims, "sub") == Some(iss)).then(|| iss.to_owned())
}

/// Verifies a client assertion against the client's registered public keys.
///
/// Key selection: with a `kid` header only keys with that kid are tried; without one, every key
/// compatible with the header `alg` is tried.
pub fn verify_client_assertion(
    assertion: &str,
    client_keys: &[Jwk],
    check: &AssertionCheck<'_>,
) -> Result<VerifiedAssertion, AssertionError> {
    let parsed = jws::parse(assertion).map_err(|e| match e {
        jws::JwsError::Malformed => AssertionError::Malformed,
        jws::JwsError::Critical => AssertionError::CriticalHeader,
    })?;
    let alg_name = jws::str_member(&parsed.header, "alg").unwrap_or_default();
    let alg = JwsAlg::parse(alg_name)
        .filter(|a| check.algs.contains(a))
        .ok_or_else(|| AssertionError::UnsupportedAlgorithm(alg_name.to_owned()))?;

    let kid = jws::str_member(&parsed.header, "kid");
    let candidates: Vec<&Jwk> = client_keys
        .iter()
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .filter(|k| k.compatible_with(alg))
        .collect();
    if candidates.is_empty() {
        return Err(AssertionError::NoMatchingKey);
    }
    let key = candidates
        .into_iter()
        .find(|k| k.verify(alg, parsed.signing_input.as_bytes(), parsed.signature))
        .ok_or(AssertionError::InvalidSignature)?;

    let claims = &parsed.claims;
    if jws::str_member(claims, "iss") != Some(check.client_id) {
        return Err(AssertionError::InvalidIssuer);
    }
    if jws::str_member(claims, "sub") != Some(check.client_id) {
        return Err(AssertionError::InvalidSubject);
    }
    if !jws::audience_matches(claims, check.audiences) {
        return Err(AssertionError::InvalidAudience);
    }
    let leeway = check.leeway_secs;
    let exp = match jws::date_member(claims, "exp") {
        NumericDate::At(exp) => exp,
        _ => return Err(AssertionError::MissingClaim("exp")),
    };
    if check.now >= exp.saturating_add(leeway) {
        return Err(AssertionError::Expired);
    }
    if exp
        > check
            .now
            .saturating_add(check.max_lifetime_secs)
            .saturating_add(leeway)
    {
        return Err(AssertionError::LifetimeTooLong);
    }
    match jws::date_member(claims, "nbf") {
        NumericDate::At(nbf) if nbf > check.now.saturating_add(leeway) => {
            return Err(AssertionError::NotYetValid)
        }
        NumericDate::Invalid => return Err(AssertionError::MissingClaim("nbf")),
        _ => {}
    }
    let iat = match jws::date_member(claims, "iat") {
        NumericDate::At(iat) if iat > check.now.saturating_add(leeway) => {
            return Err(AssertionError::IssuedInFuture)
        }
        NumericDate::At(iat) if iat > exp => return Err(AssertionError::IssuedAfterExpiry),
        NumericDate::At(iat) => Some(iat),
        NumericDate::Absent => None,
        NumericDate::Invalid => return Err(AssertionError::MissingClaim("iat")),
    };
    let jti = jws::jti_member(claims).ok_or(AssertionError::MissingClaim("jti"))?;

    Ok(VerifiedAssertion {
        client_id: check.client_id.to_owned(),
        jti: jti.to_owned(),
        exp,
        iat,
        alg,
        kid: key.kid.clone(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::testkeys::{self, TestKey};
    use serde_json::{json, Value};

    const CID: &str = "0oar95zt9zIpYuz6A0h7";
    const ISS: &str = "https://acme.okta.com";
    const TOKEN_URL: &str = "https://acme.okta.com/oauth2/v1/token";
    const NOW: i64 = 1_700_000_000;
    const AUDS: [&str; 2] = [ISS, TOKEN_URL];

    fn claims() -> Value {
        json!({
            "iss": CID, "sub": CID, "aud": TOKEN_URL,
            "iat": NOW, "exp": NOW + 300, "jti": "4f1c0f7e-1d2b-4f3c-9a6e-0d1f2e3a4b5c"
        })
    }

    fn header(key: &TestKey, kid: Option<&str>) -> Value {
        let mut h = json!({"alg": key.alg.as_str(), "typ": "JWT"});
        if let Some(k) = kid {
            h["kid"] = json!(k);
        }
        h
    }

    fn verify(token: &str, keys: &[Jwk]) -> Result<VerifiedAssertion, AssertionError> {
        verify_client_assertion(token, keys, &AssertionCheck::new(CID, &AUDS, NOW))
    }

    #[test]
    fn every_algorithm_verifies() {
        let keys = [
            testkeys::rsa(0, JwsAlg::RS256),
            testkeys::rsa(0, JwsAlg::RS384),
            testkeys::rsa(0, JwsAlg::RS512),
            testkeys::es256(),
            testkeys::es384(),
            testkeys::es512(),
        ];
        for key in &keys {
            let token = key.jws(&header(key, Some("k1")), &claims());
            let v = verify(&token, &[key.jwk(Some("k1"))]).unwrap_or_else(|e| {
                panic!("{:?}: {e}", key.alg);
            });
            assert_eq!(v.alg, key.alg);
            assert_eq!(v.jti, "4f1c0f7e-1d2b-4f3c-9a6e-0d1f2e3a4b5c");
            assert_eq!(v.exp, NOW + 300);
            assert_eq!(v.iat, Some(NOW));
            assert_eq!(v.kid.as_deref(), Some("k1"));
            assert_eq!(v.client_id, CID);
        }
    }

    #[test]
    fn key_selection_by_kid_or_trial() {
        let a = testkeys::es256();
        let b = testkeys::rsa(1, JwsAlg::RS256);
        let c = testkeys::es256();
        let registered = [a.jwk(Some("a")), b.jwk(Some("b")), c.jwk(Some("c"))];
        // kid picks the key.
        let t = c.jws(&header(&c, Some("c")), &claims());
        assert_eq!(verify(&t, &registered).unwrap().kid.as_deref(), Some("c"));
        // No kid: every compatible key is tried.
        let t = c.jws(&header(&c, None), &claims());
        assert_eq!(verify(&t, &registered).unwrap().kid.as_deref(), Some("c"));
        // kid names another key: signature fails against it.
        let t = c.jws(&header(&c, Some("a")), &claims());
        assert_eq!(
            verify(&t, &registered).unwrap_err(),
            AssertionError::InvalidSignature
        );
        // Unknown kid.
        let t = c.jws(&header(&c, Some("zzz")), &claims());
        assert_eq!(
            verify(&t, &registered).unwrap_err(),
            AssertionError::NoMatchingKey
        );
        // kid of an RSA key with an ES256 header: no compatible key.
        let t = c.jws(&header(&c, Some("b")), &claims());
        assert_eq!(
            verify(&t, &registered).unwrap_err(),
            AssertionError::NoMatchingKey
        );
        // Unregistered key, no kid.
        let stranger = testkeys::es256();
        let t = stranger.jws(&header(&stranger, None), &claims());
        assert_eq!(
            verify(&t, &registered).unwrap_err(),
            AssertionError::InvalidSignature
        );
    }

    #[test]
    fn rejects_symmetric_and_none() {
        let key = testkeys::rsa(0, JwsAlg::RS256);
        let registered = [key.jwk(None)];
        for alg in ["none", "HS256", "PS256", "EdDSA", ""] {
            let t = crate::jws::assemble(&json!({"alg": alg}), &claims(), |_| "AAAA".into());
            assert_eq!(
                verify(&t, &registered).unwrap_err(),
                AssertionError::UnsupportedAlgorithm(alg.into()),
                "{alg}"
            );
        }
        // Restricting the algorithms.
        let t = key.jws(&header(&key, None), &claims());
        let mut check = AssertionCheck::new(CID, &AUDS, NOW);
        check.algs = &[JwsAlg::ES256];
        assert_eq!(
            verify_client_assertion(&t, &registered, &check).unwrap_err(),
            AssertionError::UnsupportedAlgorithm("RS256".into())
        );
    }

    #[test]
    fn claim_rules() {
        let key = testkeys::es256();
        let registered = [key.jwk(None)];
        let run = |edit: &dyn Fn(&mut Value)| {
            let mut c = claims();
            edit(&mut c);
            verify(&key.jws(&header(&key, None), &c), &registered)
        };
        assert!(run(&|_| {}).is_ok());
        // aud: issuer, token endpoint, arrays.
        assert!(run(&|c| c["aud"] = json!(ISS)).is_ok());
        assert!(run(&|c| c["aud"] = json!(["https://x", TOKEN_URL])).is_ok());
        assert_eq!(
            run(&|c| c["aud"] = json!("https://acme.okta.com/oauth2/default/v1/token")),
            Err(AssertionError::InvalidAudience)
        );
        assert_eq!(
            run(&|c| c["aud"] = json!(["https://x"])),
            Err(AssertionError::InvalidAudience)
        );
        assert_eq!(
            run(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
            Err(AssertionError::InvalidAudience)
        );
        // iss / sub.
        assert_eq!(
            run(&|c| c["iss"] = json!("0oaother")),
            Err(AssertionError::InvalidIssuer)
        );
        assert_eq!(
            run(&|c| c["sub"] = json!("0oaother")),
            Err(AssertionError::InvalidSubject)
        );
        // exp: required, not expired, at most an hour (+ leeway) ahead.
        assert_eq!(
            run(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            Err(AssertionError::MissingClaim("exp"))
        );
        assert_eq!(
            run(&|c| c["exp"] = json!(NOW - 61)),
            Err(AssertionError::Expired)
        );
        assert!(run(&|c| {
            c["exp"] = json!(NOW - 59);
            c["iat"] = json!(NOW - 300);
        })
        .is_ok());
        // iat after exp is not sane.
        assert_eq!(
            run(&|c| c["exp"] = json!(NOW - 59)),
            Err(AssertionError::IssuedAfterExpiry)
        );
        assert!(
            run(&|c| c["exp"] = json!(NOW + 3600)).is_ok(),
            "old Okta SDK"
        );
        assert!(
            run(&|c| c["exp"] = json!(NOW + 3000)).is_ok(),
            "Okta Python SDK"
        );
        assert_eq!(
            run(&|c| c["exp"] = json!(NOW + 3600 + 61)),
            Err(AssertionError::LifetimeTooLong)
        );
        // jti required.
        assert_eq!(
            run(&|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            Err(AssertionError::MissingClaim("jti"))
        );
        assert_eq!(
            run(&|c| c["jti"] = json!("")),
            Err(AssertionError::MissingClaim("jti"))
        );
        // No control characters (PostgreSQL cannot store NUL in text).
        assert_eq!(
            run(&|c| c["jti"] = json!("a\u{0}b")),
            Err(AssertionError::MissingClaim("jti"))
        );
        // iat optional but sane; nbf honoured (oauth4webapi sends it).
        assert!(run(&|c| {
            c.as_object_mut().unwrap().remove("iat");
        })
        .is_ok());
        assert_eq!(
            run(&|c| c["iat"] = json!(NOW + 120)),
            Err(AssertionError::IssuedInFuture)
        );
        assert!(run(&|c| c["nbf"] = json!(NOW)).is_ok());
        assert_eq!(
            run(&|c| c["nbf"] = json!(NOW + 120)),
            Err(AssertionError::NotYetValid)
        );
    }

    #[test]
    fn tampering_and_shape() {
        let key = testkeys::rsa(2, JwsAlg::RS256);
        let registered = [key.jwk(None)];
        let t = key.jws(&header(&key, None), &claims());
        let parts: Vec<&str> = t.split('.').collect();
        let mut c = claims();
        c["sub"] = json!("0oaother");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                c.to_string()
            ),
            parts[2]
        );
        assert_eq!(
            verify(&forged, &registered).unwrap_err(),
            AssertionError::InvalidSignature
        );
        assert_eq!(
            verify("abc", &registered).unwrap_err(),
            AssertionError::Malformed
        );
        assert_eq!(verify(&t, &[]).unwrap_err(), AssertionError::NoMatchingKey);
    }

    #[test]
    fn peeks_client_id() {
        let key = testkeys::es256();
        let t = key.jws(&header(&key, None), &claims());
        assert_eq!(unverified_client_id(&t).as_deref(), Some(CID));
        let mut c = claims();
        c["sub"] = json!("x");
        assert_eq!(
            unverified_client_id(&key.jws(&header(&key, None), &c)),
            None
        );
        assert_eq!(unverified_client_id("junk"), None);
    }
}
