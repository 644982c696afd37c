//! DPoP proofs (RFC 9449 §4.3) and server nonces.
//!
//! [`verify_proof`] checks one `DPoP` header value: `typ: dpop+jwt`, an asymmetric `alg`, a public
//! `jwk` in the header that verifies the signature, `jti`, `htm` equal to the request method,
//! `htu` equal to the request URL (query and fragment stripped on both sides, scheme and host
//! compared case-insensitively, default ports ignored), `iat` inside a window, `ath` when an
//! access token is presented, and the `nonce` when the caller requires one. It returns the key's
//! RFC 7638 thumbprint (`jkt`, what `cnf.jkt` binds) and the `jti`, which the caller must keep for
//! the acceptance window to reject replays.
//!
//! [`DpopNonces`] mints stateless nonces (HMAC over a time bucket) rotating every 24 hours and
//! honoured for 3 days after rotation, as Okta does.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

use crate::jwk::{Jwk, JwkError, JwsAlg};
use crate::jws::{self, NumericDate};

/// Required `typ` header of a proof.
pub const DPOP_JWT_TYPE: &str = "dpop+jwt";
/// Accept proofs whose `iat` is within this many seconds of now (either side).
pub const DEFAULT_IAT_WINDOW_SECS: i64 = 300;
/// Okta's description for `use_dpop_nonce` at the token endpoint.
pub const AS_NONCE_REQUIRED_DESCRIPTION: &str = "Authorization server requires nonce in DPoP proof";
/// Description for `use_dpop_nonce` at a resource server.
pub const RS_NONCE_REQUIRED_DESCRIPTION: &str = "Resource server requires nonce in DPoP proof";
/// Longest `jti` accepted (bounds the replay cache).
pub use crate::jws::MAX_JTI_LEN;

/// How the proof's `nonce` claim is judged.
#[derive(Clone, Copy)]
pub enum NoncePolicy<'a> {
    /// Nonces are not in use; a `nonce` claim is ignored.
    NotRequired,
    /// The proof must carry one of these nonces.
    OneOf(&'a [&'a str]),
    /// The proof must carry a nonce these minted and still honour.
    Minted(&'a DpopNonces),
}

impl fmt::Debug for NoncePolicy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoncePolicy::NotRequired => f.write_str("NotRequired"),
            NoncePolicy::OneOf(n) => f.debug_tuple("OneOf").field(n).finish(),
            NoncePolicy::Minted(_) => f.write_str("Minted(..)"),
        }
    }
}

/// What a proof must match.
#[derive(Debug, Clone, Copy)]
pub struct ProofCheck<'a> {
    /// The request method, e.g. `POST`.
    pub method: &'a str,
    /// The full request URL as the client addressed it (scheme, host, port, path; any query is
    /// ignored). Behind a proxy, rebuild it from the public base URL.
    pub url: &'a str,
    /// Epoch seconds.
    pub now: i64,
    pub iat_window_secs: i64,
    pub nonce: NoncePolicy<'a>,
    /// The access token presented with the proof (resource requests): `ath` becomes required.
    pub access_token: Option<&'a str>,
    pub algs: &'a [JwsAlg],
}

impl<'a> ProofCheck<'a> {
    /// A check with a ±300 s window, no nonce, no access token and every supported algorithm.
    pub fn new(method: &'a str, url: &'a str, now: i64) -> Self {
        ProofCheck {
            method,
            url,
            now,
            iat_window_secs: DEFAULT_IAT_WINDOW_SECS,
            nonce: NoncePolicy::NotRequired,
            access_token: None,
            algs: &JwsAlg::ALL,
        }
    }
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// RFC 7638 thumbprint of the proof key: compare with / put into `cnf.jkt`.
    pub jkt: String,
    /// Remember for the iat window and reject a second proof with the same value.
    pub jti: String,
    pub iat: i64,
    pub alg: JwsAlg,
    pub jwk: Jwk,
    pub nonce: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    #[error("The DPoP proof is not a well-formed JWT.")]
    Malformed,
    #[error("The DPoP proof uses an unsupported critical header.")]
    CriticalHeader,
    #[error("The DPoP proof 'typ' header must be 'dpop+jwt'.")]
    WrongType,
    #[error("The DPoP proof signature algorithm '{0}' is not supported.")]
    UnsupportedAlgorithm(String),
    #[error("The DPoP proof header has no 'jwk'.")]
    MissingKey,
    #[error("The DPoP proof 'jwk' header contains private key material.")]
    PrivateKeyInHeader,
    #[error("The DPoP proof 'jwk' header is invalid: {0}")]
    InvalidKey(JwkError),
    #[error("The DPoP proof 'jwk' does not match the 'alg'.")]
    KeyMismatch,
    #[error("The DPoP proof signature is invalid.")]
    InvalidSignature,
    #[error("The DPoP proof is missing the '{0}' claim.")]
    MissingClaim(&'static str),
    #[error("The DPoP proof 'htm' does not match the request method.")]
    MethodMismatch,
    #[error("The DPoP proof 'htu' does not match the request URL.")]
    UrlMismatch,
    #[error("The DPoP proof 'iat' is outside the acceptable window.")]
    IatOutOfWindow,
    #[error("The DPoP proof 'ath' does not match the access token.")]
    AthMismatch,
    /// Missing or stale nonce: answer `use_dpop_nonce` with a fresh `DPoP-Nonce` header.
    #[error("{}", AS_NONCE_REQUIRED_DESCRIPTION)]
    UseNonce,
}

impl DpopError {
    /// The OAuth error code: `use_dpop_nonce` or `invalid_dpop_proof`.
    pub fn error(&self) -> &'static str {
        match self {
            DpopError::UseNonce => "use_dpop_nonce",
            _ => "invalid_dpop_proof",
        }
    }

    pub fn description(&self) -> String {
        self.to_string()
    }
}

/// `ath`: base64url(SHA-256(ASCII access token)).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// An `htu`/request URL reduced for comparison: parsed, `http`/`https` only, query and fragment
/// removed; the parser lower-cases scheme and host, drops default ports and normalises an empty
/// path to `/`. `None` if it is not such a URL.
pub fn normalize_htu(u: &str) -> Option<String> {
    let mut url = url::Url::parse(u).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    Some(url.into())
}

/// Whether two URLs are the same `htu` (see [`normalize_htu`]).
pub fn htu_matches(proof_htu: &str, request_url: &str) -> bool {
    match (normalize_htu(proof_htu), normalize_htu(request_url)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Verifies a DPoP proof.
pub fn verify_proof(proof: &str, check: &ProofCheck<'_>) -> Result<VerifiedProof, DpopError> {
    let parsed = jws::parse(proof).map_err(|e| match e {
        jws::JwsError::Malformed => DpopError::Malformed,
        jws::JwsError::Critical => DpopError::CriticalHeader,
    })?;
    let header = &parsed.header;
    if !jws::str_member(header, "typ").is_some_and(|t| t.eq_ignore_ascii_case(DPOP_JWT_TYPE)) {
        return Err(DpopError::WrongType);
    }
    let alg_name = jws::str_member(header, "alg").unwrap_or_default();
    let alg = JwsAlg::parse(alg_name)
        .filter(|a| check.algs.contains(a))
        .ok_or_else(|| DpopError::UnsupportedAlgorithm(alg_name.to_owned()))?;
    let jwk_value = header.get("jwk").ok_or(DpopError::MissingKey)?;
    let jwk = Jwk::from_value(jwk_value).map_err(|e| match e {
        JwkError::PrivateKeyMaterial => DpopError::PrivateKeyInHeader,
        other => DpopError::InvalidKey(other),
    })?;
    if !jwk.compatible_with(alg) {
        return Err(DpopError::KeyMismatch);
    }
    if !jwk.verify(alg, parsed.signing_input.as_bytes(), parsed.signature) {
        return Err(DpopError::InvalidSignature);
    }

    let claims = &parsed.claims;
    let jti = jws::jti_member(claims).ok_or(DpopError::MissingClaim("jti"))?;
    let htm = jws::str_member(claims, "htm").ok_or(DpopError::MissingClaim("htm"))?;
    if htm != check.method {
        return Err(DpopError::MethodMismatch);
    }
    let htu = jws::str_member(claims, "htu").ok_or(DpopError::MissingClaim("htu"))?;
    if !htu_matches(htu, check.url) {
        return Err(DpopError::UrlMismatch);
    }
    let iat = match jws::date_member(claims, "iat") {
        NumericDate::At(iat) => iat,
        _ => return Err(DpopError::MissingClaim("iat")),
    };
    if (check.now.saturating_sub(iat)).abs() > check.iat_window_secs {
        return Err(DpopError::IatOutOfWindow);
    }
    if let Some(token) = check.access_token {
        let presented = jws::str_member(claims, "ath").ok_or(DpopError::MissingClaim("ath"))?;
        let expected = ath(token);
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(DpopError::AthMismatch);
        }
    }
    let nonce = jws::str_member(claims, "nonce");
    let nonce_ok = match check.nonce {
        NoncePolicy::NotRequired => true,
        NoncePolicy::OneOf(accepted) => nonce.is_some_and(|n| accepted.contains(&n)),
        NoncePolicy::Minted(nonces) => nonce.is_some_and(|n| nonces.is_valid(n, check.now)),
    };
    if !nonce_ok {
        return Err(DpopError::UseNonce);
    }

    Ok(VerifiedProof {
        jkt: jwk.thumbprint(),
        jti: jti.to_owned(),
        iat,
        alg,
        jwk,
        nonce: nonce.map(str::to_owned),
    })
}

/// Stateless DPoP nonces: `base64url(bucket ‖ HMAC-SHA256(key, bucket)[..16])`, where the bucket
/// is `now / period`. The same nonce is handed out for a whole period; a nonce is honoured until
/// `validity` after its period ended. Every server instance sharing `key` agrees.
#[derive(Clone)]
pub struct DpopNonces {
    key: [u8; 32],
    pub period_secs: i64,
    pub validity_secs: i64,
}

impl fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopNonces")
            .field("period_secs", &self.period_secs)
            .field("validity_secs", &self.validity_secs)
            .finish_non_exhaustive()
    }
}

const NONCE_TAG_LEN: usize = 16;

impl DpopNonces {
    /// Okta's cadence: rotate every 24 hours, keep an old nonce valid for 3 days.
    pub fn new(key: [u8; 32]) -> Self {
        DpopNonces {
            key,
            period_secs: 24 * 3600,
            validity_secs: 3 * 24 * 3600,
        }
    }

    fn bucket(&self, now: i64) -> i64 {
        now.div_euclid(self.period_secs.max(1))
    }

    fn mac(&self, bucket: i64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; the fallback is unreachable for a 32-byte key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        mac.update(b"steward-dpop-nonce-v1");
        mac.update(&bucket.to_be_bytes());
        mac
    }

    /// The nonce to send in `DPoP-Nonce` now.
    pub fn current(&self, now: i64) -> String {
        let bucket = self.bucket(now);
        let tag = self.mac(bucket).finalize().into_bytes();
        let mut bytes = bucket.to_be_bytes().to_vec();
        bytes.extend_from_slice(tag.get(..NONCE_TAG_LEN).unwrap_or_default());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Whether `nonce` was minted with this key and is still honoured at `now`.
    pub fn is_valid(&self, nonce: &str, now: i64) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        if bytes.len() != 8 + NONCE_TAG_LEN {
            return false;
        }
        let (b, tag) = bytes.split_at(8);
        let Ok(b) = <[u8; 8]>::try_from(b) else {
            return false;
        };
        let bucket = i64::from_be_bytes(b);
        if self.mac(bucket).verify_truncated_left(tag).is_err() {
            return false;
        }
        let current = self.bucket(now);
        let period_end = bucket.saturating_add(1).saturating_mul(self.period_secs);
        bucket <= current && now < period_end.saturating_add(self.validity_secs)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::testkeys::{self, TestKey};
    use serde_json::{json, Value};

    const URL: &str = "https://acme.okta.com/oauth2/v1/token";
    const API: &str = "https://acme.okta.com/api/v1/users";
    const NOW: i64 = 1_700_000_000;

    fn header(key: &TestKey) -> Value {
        json!({"typ": "dpop+jwt", "alg": key.alg.as_str(), "jwk": key.public})
    }

    fn claims() -> Value {
        json!({"jti": "-BwC3ESc6acc2lTc", "htm": "POST", "htu": URL, "iat": NOW})
    }

    fn proof(key: &TestKey, edit: impl Fn(&mut Value, &mut Value)) -> String {
        let (mut h, mut c) = (header(key), claims());
        edit(&mut h, &mut c);
        key.jws(&h, &c)
    }

    #[test]
    fn good_proofs_for_every_algorithm() {
        let keys = [
            testkeys::es256(),
            testkeys::es384(),
            testkeys::es512(),
            testkeys::rsa(0, JwsAlg::RS256),
            testkeys::rsa(0, JwsAlg::RS512),
        ];
        for key in &keys {
            let p = proof(key, |_, _| {});
            let v = verify_proof(&p, &ProofCheck::new("POST", URL, NOW))
                .unwrap_or_else(|e| panic!("{:?}: {e}", key.alg));
            assert_eq!(v.jti, "-BwC3ESc6acc2lTc");
            assert_eq!(v.iat, NOW);
            assert_eq!(v.alg, key.alg);
            assert_eq!(v.jkt, key.jwk(None).thumbprint());
            assert_eq!(v.jkt.len(), 43);
        }
    }

    #[test]
    fn thumbprint_matches_rfc7638_for_header_jwk() {
        // A proof's jkt is the RFC 7638 thumbprint of its header jwk: with the RFC's example key
        // in the header the computed jkt is the RFC's value (signature is irrelevant to jkt).
        let jwk = Jwk::from_value(&json!({
            "kty": "RSA", "e": "AQAB", "n": crate::jwk::tests::RFC7638_N
        }))
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        // ... and such a proof, not signed by that key, is refused.
        let key = testkeys::rsa(0, JwsAlg::RS256);
        let p = proof(&key, |h, _| h["jwk"] = jwk.to_value());
        assert_eq!(
            verify_proof(&p, &ProofCheck::new("POST", URL, NOW)).unwrap_err(),
            DpopError::InvalidSignature
        );
    }

    #[test]
    fn method_and_url() {
        let key = testkeys::es256();
        let check = ProofCheck::new("POST", URL, NOW);
        let run = |edit: &dyn Fn(&mut Value)| verify_proof(&proof(&key, |_, c| edit(c)), &check);
        assert_eq!(
            run(&|c| c["htm"] = json!("GET")),
            Err(DpopError::MethodMismatch)
        );
        assert_eq!(
            run(&|c| c["htm"] = json!("post")),
            Err(DpopError::MethodMismatch)
        );
        assert_eq!(
            run(&|c| c["htu"] = json!("https://acme.okta.com/oauth2/v1/introspect")),
            Err(DpopError::UrlMismatch)
        );
        assert_eq!(
            run(&|c| c["htu"] = json!("https://evil.example/oauth2/v1/token")),
            Err(DpopError::UrlMismatch)
        );
        assert_eq!(
            run(&|c| c["htu"] = json!("http://acme.okta.com/oauth2/v1/token")),
            Err(DpopError::UrlMismatch)
        );
        // Query and fragment stripped, scheme/host case-insensitive, default port dropped.
        assert!(run(&|c| c["htu"] = json!(format!("{URL}?x=1#frag"))).is_ok());
        assert!(run(&|c| c["htu"] = json!("HTTPS://ACME.okta.com:443/oauth2/v1/token")).is_ok());
        // Path is case-sensitive.
        assert_eq!(
            run(&|c| c["htu"] = json!("https://acme.okta.com/OAUTH2/v1/token")),
            Err(DpopError::UrlMismatch)
        );
        // The request side may carry a query too (Okta Node SDK sends full URLs).
        let with_query = ProofCheck::new("GET", "https://acme.okta.com/api/v1/users?limit=2", NOW);
        let p = proof(&key, |_, c| {
            c["htm"] = json!("GET");
            c["htu"] = json!("https://acme.okta.com/api/v1/users?limit=200&after=x");
        });
        assert!(verify_proof(&p, &with_query).is_ok());
        for missing in ["htm", "htu", "jti", "iat"] {
            assert_eq!(
                run(&|c| {
                    c.as_object_mut().unwrap().remove(missing);
                }),
                Err(DpopError::MissingClaim(match missing {
                    "htm" => "htm",
                    "htu" => "htu",
                    "jti" => "jti",
                    _ => "iat",
                }))
            );
        }
    }

    #[test]
    fn iat_window() {
        let key = testkeys::es256();
        let p = proof(&key, |_, _| {});
        assert!(verify_proof(&p, &ProofCheck::new("POST", URL, NOW + 300)).is_ok());
        assert!(verify_proof(&p, &ProofCheck::new("POST", URL, NOW - 300)).is_ok());
        assert_eq!(
            verify_proof(&p, &ProofCheck::new("POST", URL, NOW + 301)).unwrap_err(),
            DpopError::IatOutOfWindow
        );
        assert_eq!(
            verify_proof(&p, &ProofCheck::new("POST", URL, NOW - 301)).unwrap_err(),
            DpopError::IatOutOfWindow
        );
    }

    #[test]
    fn header_rules() {
        let key = testkeys::es256();
        let check = ProofCheck::new("POST", URL, NOW);
        let run = |edit: &dyn Fn(&mut Value)| verify_proof(&proof(&key, |h, _| edit(h)), &check);
        assert_eq!(run(&|h| h["typ"] = json!("JWT")), Err(DpopError::WrongType));
        assert_eq!(
            run(&|h| {
                h.as_object_mut().unwrap().remove("typ");
            }),
            Err(DpopError::WrongType)
        );
        assert_eq!(
            run(&|h| {
                h.as_object_mut().unwrap().remove("jwk");
            }),
            Err(DpopError::MissingKey)
        );
        // Private key in the header.
        assert_eq!(
            run(&|h| h["jwk"]["d"] = json!("c2VjcmV0")),
            Err(DpopError::PrivateKeyInHeader)
        );
        // Symmetric key / algorithms.
        assert_eq!(
            run(&|h| h["jwk"] = json!({"kty": "oct", "k": "c2VjcmV0"})),
            Err(DpopError::PrivateKeyInHeader)
        );
        assert_eq!(
            run(&|h| h["alg"] = json!("HS256")),
            Err(DpopError::UnsupportedAlgorithm("HS256".into()))
        );
        assert_eq!(
            run(&|h| h["alg"] = json!("none")),
            Err(DpopError::UnsupportedAlgorithm("none".into()))
        );
        // alg that does not fit the key.
        assert_eq!(
            run(&|h| h["alg"] = json!("ES384")),
            Err(DpopError::KeyMismatch)
        );
        assert_eq!(
            run(&|h| h["jwk"]["crv"] = json!("P-999")),
            Err(DpopError::InvalidKey(JwkError::UnsupportedCurve(
                "P-999".into()
            )))
        );
    }

    #[test]
    fn bad_signature() {
        let key = testkeys::es256();
        let other = testkeys::es256();
        // Signed by another key than the header's jwk.
        let p = other.jws(&header(&key), &claims());
        assert_eq!(
            verify_proof(&p, &ProofCheck::new("POST", URL, NOW)).unwrap_err(),
            DpopError::InvalidSignature
        );
        // Claims changed after signing.
        let good = proof(&key, |_, _| {});
        let parts: Vec<&str> = good.split('.').collect();
        let mut c = claims();
        c["htu"] = json!("https://acme.okta.com/api/v1/users");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(c.to_string()),
            parts[2]
        );
        assert_eq!(
            verify_proof(&forged, &ProofCheck::new("GET", API, NOW)).unwrap_err(),
            DpopError::InvalidSignature
        );
        assert_eq!(
            verify_proof("x.y.z", &ProofCheck::new("POST", URL, NOW)).unwrap_err(),
            DpopError::Malformed
        );
    }

    #[test]
    fn access_token_hash() {
        let key = testkeys::es256();
        let at = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        let mut check = ProofCheck::new("GET", API, NOW);
        check.access_token = Some(at);
        let base = |c: &mut Value| {
            c["htm"] = json!("GET");
            c["htu"] = json!(API);
        };
        let p = proof(&key, |_, c| {
            base(c);
            c["ath"] = json!(ath(at));
        });
        assert!(verify_proof(&p, &check).is_ok());
        let p = proof(&key, |_, c| base(c));
        assert_eq!(
            verify_proof(&p, &check).unwrap_err(),
            DpopError::MissingClaim("ath")
        );
        let p = proof(&key, |_, c| {
            base(c);
            c["ath"] = json!(ath("another token"));
        });
        assert_eq!(
            verify_proof(&p, &check).unwrap_err(),
            DpopError::AthMismatch
        );
        // RFC 9449 §7.1 example.
        assert_eq!(
            ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn nonces() {
        let key = testkeys::es256();
        let nonces = DpopNonces::new([9u8; 32]);
        let current = nonces.current(NOW);
        assert_eq!(current, nonces.current(NOW + 1));
        let mut check = ProofCheck::new("POST", URL, NOW);
        check.nonce = NoncePolicy::Minted(&nonces);

        let without = proof(&key, |_, _| {});
        let err = verify_proof(&without, &check).unwrap_err();
        assert_eq!(err, DpopError::UseNonce);
        assert_eq!(err.error(), "use_dpop_nonce");
        assert_eq!(
            err.description(),
            "Authorization server requires nonce in DPoP proof"
        );

        let with = proof(&key, |_, c| c["nonce"] = json!(current));
        assert_eq!(
            verify_proof(&with, &check).unwrap().nonce.as_deref(),
            Some(current.as_str())
        );
        let wrong = proof(&key, |_, c| c["nonce"] = json!("abc"));
        assert_eq!(
            verify_proof(&wrong, &check).unwrap_err(),
            DpopError::UseNonce
        );

        // Explicit list.
        let list = ["n1", "n2"];
        check.nonce = NoncePolicy::OneOf(&list);
        let p = proof(&key, |_, c| c["nonce"] = json!("n2"));
        assert!(verify_proof(&p, &check).is_ok());
        // Not required: a nonce claim is ignored.
        check.nonce = NoncePolicy::NotRequired;
        assert!(verify_proof(&wrong, &check).is_ok());
    }

    #[test]
    fn nonce_rotation_and_expiry() {
        let nonces = DpopNonces::new([1u8; 32]);
        let day = 86_400;
        let t0 = 100 * day; // start of a period
        let n = nonces.current(t0 + 10);
        assert!(nonces.is_valid(&n, t0));
        assert_ne!(nonces.current(t0 + day), n, "rotates daily");
        // Honoured for three days after its period ended.
        assert!(nonces.is_valid(&n, t0 + day + 3 * day - 1));
        assert!(!nonces.is_valid(&n, t0 + day + 3 * day));
        // Not before its period, not under another key, not tampered.
        assert!(!nonces.is_valid(&n, t0 - 1));
        assert!(!DpopNonces::new([2u8; 32]).is_valid(&n, t0));
        let mut bytes = URL_SAFE_NO_PAD.decode(&n).unwrap();
        bytes[7] ^= 1;
        assert!(!nonces.is_valid(&URL_SAFE_NO_PAD.encode(&bytes), t0));
        assert!(!nonces.is_valid("", t0));
        assert!(!format!("{nonces:?}").contains("key"));
    }

    #[test]
    fn htu_normalisation() {
        assert_eq!(
            normalize_htu("HTTPS://Example.COM:443/a/b?q#f").as_deref(),
            Some("https://example.com/a/b")
        );
        assert_eq!(
            normalize_htu("http://example.com").as_deref(),
            Some("http://example.com/")
        );
        assert_eq!(
            normalize_htu("http://127.0.0.1:8080/x").as_deref(),
            Some("http://127.0.0.1:8080/x")
        );
        assert_eq!(normalize_htu("urn:x:y"), None);
        assert_eq!(normalize_htu("/relative"), None);
        assert!(!htu_matches("https://a.com:8443/x", "https://a.com/x"));
    }
}
