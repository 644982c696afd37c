//! Keys shared by the unit tests, generated once per test binary (RSA generation is slow).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use serde_json::{json, Value};

use crate::jwk::{Jwk, JwsAlg};
use crate::keys::{KeyStatus, SigningKey};

/// Number of RSA keys generated for the whole test binary.
const RSA_KEYS: usize = 4;

/// RSA signing key `i` (0..4), status Active, created at 0.
pub(crate) fn server_key(i: usize) -> &'static SigningKey {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..RSA_KEYS)
            .map(|_| SigningKey::generate(KeyStatus::Active, 0).unwrap())
            .collect()
    });
    &keys[i]
}

enum Signer {
    Ring(jsonwebtoken::EncodingKey, jsonwebtoken::Algorithm),
    P521(Box<p521::ecdsa::SigningKey>),
}

/// A client or DPoP key pair.
pub(crate) struct TestKey {
    pub alg: JwsAlg,
    /// Public JWK (no kid).
    pub public: Value,
    signer: Signer,
}

impl TestKey {
    pub fn sign(&self, input: &[u8]) -> String {
        match &self.signer {
            Signer::Ring(key, alg) => jsonwebtoken::crypto::sign(input, key, *alg).unwrap(),
            Signer::P521(sk) => {
                use p521::ecdsa::signature::Signer as _;
                let sig: p521::ecdsa::Signature = sk.sign(input);
                URL_SAFE_NO_PAD.encode(sig.to_bytes())
            }
        }
    }

    /// A compact JWS with exactly this header and these claims, signed by this key.
    pub fn jws(&self, header: &Value, claims: &Value) -> String {
        crate::jws::assemble(header, claims, |input| self.sign(input))
    }

    /// The public JWK with a kid.
    pub fn public_with_kid(&self, kid: &str) -> Value {
        let mut v = self.public.clone();
        v["kid"] = Value::String(kid.to_owned());
        v
    }

    pub fn jwk(&self, kid: Option<&str>) -> Jwk {
        match kid {
            Some(k) => Jwk::from_value(&self.public_with_kid(k)).unwrap(),
            None => Jwk::from_value(&self.public).unwrap(),
        }
    }
}

/// The RSA test key `i` as a client key signing with `alg` (RS256/384/512).
pub(crate) fn rsa(i: usize, alg: JwsAlg) -> TestKey {
    let k = server_key(i);
    let algorithm = match alg {
        JwsAlg::RS384 => jsonwebtoken::Algorithm::RS384,
        JwsAlg::RS512 => jsonwebtoken::Algorithm::RS512,
        _ => jsonwebtoken::Algorithm::RS256,
    };
    TestKey {
        alg,
        public: json!({"kty": "RSA", "n": k.n, "e": k.e}),
        signer: Signer::Ring(
            jsonwebtoken::EncodingKey::from_rsa_pem(k.private_pem.as_bytes()).unwrap(),
            algorithm,
        ),
    }
}

fn xy(x: &[u8], y: &[u8]) -> (String, String) {
    (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y))
}

/// A fresh P-256 key (ES256).
pub(crate) fn es256() -> TestKey {
    let sk = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let point = sk.public_key().to_encoded_point(false);
    let (x, y) = xy(point.x().unwrap(), point.y().unwrap());
    let pem = sk.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap();
    TestKey {
        alg: JwsAlg::ES256,
        public: json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
        signer: Signer::Ring(
            jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            jsonwebtoken::Algorithm::ES256,
        ),
    }
}

/// A fresh P-384 key (ES384).
pub(crate) fn es384() -> TestKey {
    let sk = p384::SecretKey::random(&mut rand::rngs::OsRng);
    let point = sk.public_key().to_encoded_point(false);
    let (x, y) = xy(point.x().unwrap(), point.y().unwrap());
    let pem = sk.to_pkcs8_pem(p384::pkcs8::LineEnding::LF).unwrap();
    TestKey {
        alg: JwsAlg::ES384,
        public: json!({"kty": "EC", "crv": "P-384", "x": x, "y": y}),
        signer: Signer::Ring(
            jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            jsonwebtoken::Algorithm::ES384,
        ),
    }
}

/// A fresh P-521 key (ES512).
pub(crate) fn es512() -> TestKey {
    let sk = p521::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let point = p521::ecdsa::VerifyingKey::from(&sk).to_encoded_point(false);
    let (x, y) = xy(point.x().unwrap(), point.y().unwrap());
    TestKey {
        alg: JwsAlg::ES512,
        public: json!({"kty": "EC", "crv": "P-521", "x": x, "y": y}),
        signer: Signer::P521(Box::new(sk)),
    }
}
