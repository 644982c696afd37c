//! Public JSON Web Keys (RFC 7517) of clients and DPoP proofs, the asymmetric JWS algorithms
//! Steward accepts from them, RFC 7638 thumbprints, and signature verification.
//!
//! Signature maths is delegated: RSA PKCS#1 v1.5 and ECDSA P-256/P-384 go through
//! `jsonwebtoken` (ring), ECDSA P-521 (which `jsonwebtoken` 9 lacks) through the `p521` crate.
//! Symmetric algorithms and `none` are not representable here at all, so no client-supplied key
//! can ever be used as an HMAC secret.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The asymmetric JWS algorithms accepted for client assertions and DPoP proofs (the values Okta
/// advertises in `dpop_signing_alg_values_supported` and for `private_key_jwt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlg {
    RS256,
    RS384,
    RS512,
    ES256,
    ES384,
    ES512,
}

impl JwsAlg {
    /// Every supported algorithm, in the order Okta lists them in metadata.
    pub const ALL: [JwsAlg; 6] = [
        JwsAlg::RS256,
        JwsAlg::RS384,
        JwsAlg::RS512,
        JwsAlg::ES256,
        JwsAlg::ES384,
        JwsAlg::ES512,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            JwsAlg::RS256 => "RS256",
            JwsAlg::RS384 => "RS384",
            JwsAlg::RS512 => "RS512",
            JwsAlg::ES256 => "ES256",
            JwsAlg::ES384 => "ES384",
            JwsAlg::ES512 => "ES512",
        }
    }

    /// The algorithm named exactly `s` (JOSE names are case-sensitive).
    pub fn parse(s: &str) -> Option<JwsAlg> {
        JwsAlg::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The curve an ECDSA algorithm requires; `None` for RSA.
    pub const fn curve(self) -> Option<Curve> {
        match self {
            JwsAlg::ES256 => Some(Curve::P256),
            JwsAlg::ES384 => Some(Curve::P384),
            JwsAlg::ES512 => Some(Curve::P521),
            _ => None,
        }
    }

    const fn jsonwebtoken(self) -> Option<jsonwebtoken::Algorithm> {
        match self {
            JwsAlg::RS256 => Some(jsonwebtoken::Algorithm::RS256),
            JwsAlg::RS384 => Some(jsonwebtoken::Algorithm::RS384),
            JwsAlg::RS512 => Some(jsonwebtoken::Algorithm::RS512),
            JwsAlg::ES256 => Some(jsonwebtoken::Algorithm::ES256),
            JwsAlg::ES384 => Some(jsonwebtoken::Algorithm::ES384),
            JwsAlg::ES512 => None,
        }
    }
}

/// Space-separated algorithm names, as in a DPoP challenge's `algs` parameter.
pub fn alg_names(algs: &[JwsAlg]) -> String {
    algs.iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// NIST curves for EC keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub const fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Length in bytes of one coordinate (`x` or `y`).
    pub const fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    fn parse(s: &str) -> Option<Curve> {
        [Curve::P256, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.name() == s)
    }
}

/// The public part of a key, members kept as the base64url strings that were given (RFC 7638
/// thumbprints are computed over them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa { n: String, e: String },
    Ec { crv: Curve, x: String, y: String },
}

/// One public JWK with the metadata that matters for key selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The `alg` member, if the key restricts itself to one algorithm.
    pub alg: Option<String>,
    /// The `use` member (`sig` / `enc`).
    pub key_use: Option<String>,
    pub key: PublicKey,
}

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Members that only private (or symmetric) JWKs carry.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    #[error("a JWK must be a JSON object")]
    NotAnObject,
    #[error("a JWK Set must be an object with a \"keys\" array")]
    NotAKeySet,
    #[error("the JWK has no \"{0}\" member")]
    MissingMember(&'static str),
    #[error("the JWK member \"{0}\" is not valid")]
    InvalidMember(&'static str),
    #[error("unsupported key type \"{0}\"")]
    UnsupportedKeyType(String),
    #[error("unsupported curve \"{0}\"")]
    UnsupportedCurve(String),
    #[error("the JWK contains private key material")]
    PrivateKeyMaterial,
    #[error("the RSA key is {0} bits; at least 2048 are required")]
    RsaKeyTooSmall(usize),
}

fn b64_member<'m>(
    map: &'m Map<String, Value>,
    name: &'static str,
) -> Result<(&'m str, Vec<u8>), JwkError> {
    let s = map
        .get(name)
        .ok_or(JwkError::MissingMember(name))?
        .as_str()
        .ok_or(JwkError::InvalidMember(name))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JwkError::InvalidMember(name))?;
    if bytes.is_empty() {
        return Err(JwkError::InvalidMember(name));
    }
    Ok((s, bytes))
}

fn opt_str(map: &Map<String, Value>, name: &'static str) -> Result<Option<String>, JwkError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwkError::InvalidMember(name)),
    }
}

fn bit_len(be: &[u8]) -> usize {
    let trimmed: &[u8] = match be.iter().position(|b| *b != 0) {
        Some(i) => be.get(i..).unwrap_or_default(),
        None => &[],
    };
    match trimmed.first() {
        Some(first) => (trimmed.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

impl Jwk {
    /// Parses a public JWK. Private or symmetric material, unknown key types and curves, bad
    /// base64url and RSA moduli under 2048 bits are errors.
    pub fn from_value(value: &Value) -> Result<Jwk, JwkError> {
        let map = value.as_object().ok_or(JwkError::NotAnObject)?;
        if PRIVATE_MEMBERS.iter().any(|m| map.contains_key(*m)) {
            return Err(JwkError::PrivateKeyMaterial);
        }
        let kty = map
            .get("kty")
            .ok_or(JwkError::MissingMember("kty"))?
            .as_str()
            .ok_or(JwkError::InvalidMember("kty"))?;
        let key = match kty {
            "RSA" => {
                let (n, n_bytes) = b64_member(map, "n")?;
                let (e, _) = b64_member(map, "e")?;
                let bits = bit_len(&n_bytes);
                if bits < MIN_RSA_BITS {
                    return Err(JwkError::RsaKeyTooSmall(bits));
                }
                PublicKey::Rsa {
                    n: n.to_owned(),
                    e: e.to_owned(),
                }
            }
            "EC" => {
                let crv_name = map
                    .get("crv")
                    .ok_or(JwkError::MissingMember("crv"))?
                    .as_str()
                    .ok_or(JwkError::InvalidMember("crv"))?;
                let crv = Curve::parse(crv_name)
                    .ok_or_else(|| JwkError::UnsupportedCurve(crv_name.to_owned()))?;
                let (x, xb) = b64_member(map, "x")?;
                let (y, yb) = b64_member(map, "y")?;
                if xb.len() != crv.coordinate_len() {
                    return Err(JwkError::InvalidMember("x"));
                }
                if yb.len() != crv.coordinate_len() {
                    return Err(JwkError::InvalidMember("y"));
                }
                PublicKey::Ec {
                    crv,
                    x: x.to_owned(),
                    y: y.to_owned(),
                }
            }
            other => return Err(JwkError::UnsupportedKeyType(other.to_owned())),
        };
        Ok(Jwk {
            kid: opt_str(map, "kid")?,
            alg: opt_str(map, "alg")?,
            key_use: opt_str(map, "use")?,
            key,
        })
    }

    /// The RFC 7638 JWK thumbprint: base64url(SHA-256(canonical JSON of the required members)).
    /// This is the `jkt` of DPoP (`cnf.jkt`, `dpop_jkt`).
    pub fn thumbprint(&self) -> String {
        // Required members only, lexicographic order, no whitespace (RFC 7638 §3.2–3.3).
        let canonical = match &self.key {
            PublicKey::Rsa { n, e } => format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, q(e), q(n)),
            PublicKey::Ec { crv, x, y } => format!(
                r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
                q(crv.name()),
                q(x),
                q(y)
            ),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// Whether this key may verify a signature made with `alg`: matching key type and curve, no
    /// conflicting `alg` member, and not an encryption-only key.
    pub fn compatible_with(&self, alg: JwsAlg) -> bool {
        if self.key_use.as_deref().is_some_and(|u| u != "sig") {
            return false;
        }
        if self.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
            return false;
        }
        match (&self.key, alg.curve()) {
            (PublicKey::Rsa { .. }, None) => true,
            (PublicKey::Ec { crv, .. }, Some(wanted)) => *crv == wanted,
            _ => false,
        }
    }

    /// The key as a public JWK JSON object.
    pub fn to_value(&self) -> Value {
        let mut v = match &self.key {
            PublicKey::Rsa { n, e } => json!({"kty": "RSA", "n": n, "e": e}),
            PublicKey::Ec { crv, x, y } => json!({"kty": "EC", "crv": crv.name(), "x": x, "y": y}),
        };
        if let Some(obj) = v.as_object_mut() {
            for (name, member) in [
                ("kid", &self.kid),
                ("alg", &self.alg),
                ("use", &self.key_use),
            ] {
                if let Some(s) = member {
                    obj.insert(name.to_owned(), Value::String(s.clone()));
                }
            }
        }
        v
    }

    /// Verifies a JWS signature (`signature` still base64url-encoded) over `signing_input`.
    /// Returns `false` for incompatible keys, malformed signatures and bad signatures alike.
    pub(crate) fn verify(&self, alg: JwsAlg, signing_input: &[u8], signature: &str) -> bool {
        if !self.compatible_with(alg) {
            return false;
        }
        match (&self.key, alg.jsonwebtoken()) {
            (PublicKey::Rsa { n, e }, Some(algorithm)) => {
                jsonwebtoken::DecodingKey::from_rsa_components(n, e)
                    .and_then(|key| {
                        jsonwebtoken::crypto::verify(signature, signing_input, &key, algorithm)
                    })
                    .unwrap_or(false)
            }
            (PublicKey::Ec { x, y, .. }, Some(algorithm)) => {
                jsonwebtoken::DecodingKey::from_ec_components(x, y)
                    .and_then(|key| {
                        jsonwebtoken::crypto::verify(signature, signing_input, &key, algorithm)
                    })
                    .unwrap_or(false)
            }
            (
                PublicKey::Ec {
                    crv: Curve::P521,
                    x,
                    y,
                },
                None,
            ) => verify_p521(x, y, signing_input, signature),
            _ => false,
        }
    }
}

fn verify_p521(x: &str, y: &str, signing_input: &[u8], signature: &str) -> bool {
    use p521::ecdsa::signature::Verifier;
    let (Ok(xb), Ok(yb), Ok(sig)) = (
        URL_SAFE_NO_PAD.decode(x),
        URL_SAFE_NO_PAD.decode(y),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return false;
    };
    let mut sec1 = Vec::with_capacity(1 + xb.len() + yb.len());
    sec1.push(0x04);
    sec1.extend_from_slice(&xb);
    sec1.extend_from_slice(&yb);
    let (Ok(key), Ok(sig)) = (
        p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1),
        p521::ecdsa::Signature::from_slice(&sig),
    ) else {
        return false;
    };
    key.verify(signing_input, &sig).is_ok()
}

/// JSON string literal for thumbprint input (base64url and curve names need no escaping, but
/// serialising keeps this correct for any string).
fn q(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// Parses a JWK Set (`{"keys": [...]}`) strictly: every key must be a valid public key. Use when
/// a client registers its keys.
pub fn parse_jwk_set(value: &Value) -> Result<Vec<Jwk>, JwkError> {
    keys_array(value)?.iter().map(Jwk::from_value).collect()
}

/// Parses a JWK Set leniently, skipping keys that are not usable public signature keys (for
/// verifying against a set fetched from a client's `jwks_uri`).
pub fn parse_jwk_set_lenient(value: &Value) -> Result<Vec<Jwk>, JwkError> {
    Ok(keys_array(value)?
        .iter()
        .filter_map(|k| Jwk::from_value(k).ok())
        .collect())
}

fn keys_array(value: &Value) -> Result<&Vec<Value>, JwkError> {
    value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(JwkError::NotAKeySet)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;

    /// RFC 7638 §3.1's example key.
    pub(crate) const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    #[test]
    fn rfc7638_thumbprint() {
        let jwk = Jwk::from_value(&json!({
            "kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"
        }))
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(jwk.kid.as_deref(), Some("2011-04-29"));
        assert!(jwk.compatible_with(JwsAlg::RS256));
        assert!(!jwk.compatible_with(JwsAlg::RS384), "alg member restricts");
        assert!(!jwk.compatible_with(JwsAlg::ES256));
    }

    #[test]
    fn rejects_private_symmetric_and_weak_keys() {
        let mut private = json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "d": "AQAB"});
        assert_eq!(
            Jwk::from_value(&private).unwrap_err(),
            JwkError::PrivateKeyMaterial
        );
        private["d"] = Value::Null;
        assert_eq!(
            Jwk::from_value(&private).unwrap_err(),
            JwkError::PrivateKeyMaterial
        );
        assert_eq!(
            Jwk::from_value(&json!({"kty": "oct", "k": "c2VjcmV0"})).unwrap_err(),
            JwkError::PrivateKeyMaterial
        );
        assert_eq!(
            Jwk::from_value(&json!({"kty": "OKP", "crv": "Ed25519", "x": "AQAB"})).unwrap_err(),
            JwkError::UnsupportedKeyType("OKP".into())
        );
        let small = URL_SAFE_NO_PAD.encode([0xffu8; 128]);
        assert_eq!(
            Jwk::from_value(&json!({"kty": "RSA", "n": small, "e": "AQAB"})).unwrap_err(),
            JwkError::RsaKeyTooSmall(1024)
        );
        assert_eq!(
            Jwk::from_value(&json!({"kty": "EC", "crv": "P-256", "x": "AQAB", "y": "AQAB"}))
                .unwrap_err(),
            JwkError::InvalidMember("x")
        );
        assert_eq!(
            Jwk::from_value(&json!({"kty": "EC", "crv": "secp256k1", "x": "AQAB", "y": "AQAB"}))
                .unwrap_err(),
            JwkError::UnsupportedCurve("secp256k1".into())
        );
        // Standard-alphabet or padded base64 is not base64url.
        assert_eq!(
            Jwk::from_value(&json!({"kty": "RSA", "n": format!("{RFC7638_N}=="), "e": "AQAB"}))
                .unwrap_err(),
            JwkError::InvalidMember("n")
        );
    }

    #[test]
    fn jwk_sets() {
        let set = json!({"keys": [
            {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "kid": "a"},
            {"kty": "oct", "k": "c2VjcmV0"}
        ]});
        assert!(parse_jwk_set(&set).is_err());
        let lenient = parse_jwk_set_lenient(&set).unwrap();
        assert_eq!(lenient.len(), 1);
        assert_eq!(lenient[0].to_value()["kid"], "a");
        assert_eq!(
            parse_jwk_set(&json!([1])).unwrap_err(),
            JwkError::NotAKeySet
        );
    }

    #[test]
    fn encryption_keys_do_not_verify() {
        let mut jwk = Jwk::from_value(&json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB"})).unwrap();
        assert!(jwk.compatible_with(JwsAlg::RS512));
        jwk.key_use = Some("enc".into());
        assert!(!jwk.compatible_with(JwsAlg::RS512));
    }

    #[test]
    fn alg_names_round_trip() {
        for a in JwsAlg::ALL {
            assert_eq!(JwsAlg::parse(a.as_str()), Some(a));
        }
        assert_eq!(JwsAlg::parse("none"), None);
        assert_eq!(JwsAlg::parse("HS256"), None);
        assert_eq!(JwsAlg::parse("rs256"), None);
        assert_eq!(alg_names(&[JwsAlg::ES256, JwsAlg::RS256]), "ES256 RS256");
    }
}
