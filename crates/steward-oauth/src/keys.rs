//! The authorization server's RSA-2048 signing keys, their rotation, the published JWKS, and
//! encryption of private keys at rest.
//!
//! A [`KeyRing`] holds one **active** key (signs every new token), at most one **next** key
//! (already published so that verifiers have it cached before it becomes active) and the
//! **retired** keys that still verify tokens minted before the last rotation. The `kid` of a key
//! is its RFC 7638 thumbprint (43 base64url characters, the same shape as Okta's kids).
//!
//! Private keys are stored sealed with [`seal`] (AES-256-GCM under a 32-byte master key, the kid
//! as associated data so a sealed key cannot be swapped onto another key's row).

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use rsa::{
    pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding},
    traits::PublicKeyParts,
    RsaPrivateKey,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;

use crate::jwk::{Jwk, PublicKey};

/// Modulus size of every signing key Steward generates.
pub const RSA_BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key generation failed: {0}")]
    Generate(String),
    #[error("the private key PEM is not a valid PKCS#8 RSA key: {0}")]
    InvalidPem(String),
    #[error("a key ring needs exactly one ACTIVE key (found {0})")]
    ActiveCount(usize),
    #[error("a key ring holds at most one NEXT key (found {0})")]
    NextCount(usize),
    #[error("sealed data is malformed")]
    SealedMalformed,
    #[error("unsupported sealed-data version")]
    SealedVersion,
    #[error("decryption failed (wrong master key, wrong associated data, or tampered data)")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
    #[error("a master key must be 32 bytes encoded as base64url")]
    MasterKey,
}

/// Lifecycle state of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyStatus {
    /// Signs new tokens.
    Active,
    /// Published, becomes active at the next rotation.
    Next,
    /// No longer signs; published while tokens it signed may still be alive.
    Retired,
}

impl KeyStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "ACTIVE",
            KeyStatus::Next => "NEXT",
            KeyStatus::Retired => "RETIRED",
        }
    }
}

/// The public JWK of a signing key, exactly as served at `/oauth2/v1/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsaPublicJwk {
    pub kty: String,
    pub alg: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub key_use: String,
    pub e: String,
    pub n: String,
}

/// A JWK Set document (`{"keys": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<RsaPublicJwk>,
}

/// One RSA-2048 signing key.
#[derive(Clone, Serialize, Deserialize)]
pub struct SigningKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Never log it; store it [`seal`]ed.
    pub private_pem: String,
    /// Public modulus, base64url.
    pub n: String,
    /// Public exponent, base64url.
    pub e: String,
    /// Creation time, epoch milliseconds.
    pub created: i64,
    pub status: KeyStatus,
    /// When the key was retired, epoch milliseconds (`None` unless [`KeyStatus::Retired`]).
    #[serde(default)]
    pub retired: Option<i64>,
    #[serde(skip)]
    signer: OnceLock<std::sync::Arc<aws_lc_rs::signature::RsaKeyPair>>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("private_pem", &"<redacted>")
            .field("created", &self.created)
            .field("status", &self.status)
            .field("retired", &self.retired)
            .finish_non_exhaustive()
    }
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid
            && self.private_pem == other.private_pem
            && self.created == other.created
            && self.status == other.status
            && self.retired == other.retired
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key. Slow in unoptimised builds (hundreds of ms at best).
    pub fn generate(status: KeyStatus, created_ms: i64) -> Result<SigningKey, KeyError> {
        let private = RsaPrivateKey::new(&mut rand::thread_rng(), RSA_BITS)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        Ok(Self::from_private_key(
            &private,
            pem.to_string(),
            status,
            created_ms,
        ))
    }

    /// Rebuilds a key from its PKCS#8 PEM; `kid`, `n` and `e` are derived from the key itself so
    /// that stored metadata can never disagree with the key material.
    pub fn from_private_pem(
        pem: &str,
        status: KeyStatus,
        created_ms: i64,
    ) -> Result<SigningKey, KeyError> {
        let private =
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| KeyError::InvalidPem(e.to_string()))?;
        Ok(Self::from_private_key(
            &private,
            pem.to_owned(),
            status,
            created_ms,
        ))
    }

    fn from_private_key(
        private: &RsaPrivateKey,
        pem: String,
        status: KeyStatus,
        created_ms: i64,
    ) -> SigningKey {
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        let kid = Jwk {
            kid: None,
            alg: None,
            key_use: None,
            key: PublicKey::Rsa {
                n: n.clone(),
                e: e.clone(),
            },
        }
        .thumbprint();
        SigningKey {
            kid,
            private_pem: pem,
            n,
            e,
            created: created_ms,
            status,
            retired: None,
            signer: OnceLock::new(),
        }
    }

    /// The public JWK: `{kty:"RSA", alg:"RS256", use:"sig", kid, n, e}`.
    pub fn jwk(&self) -> RsaPublicJwk {
        RsaPublicJwk {
            kty: "RSA".into(),
            alg: "RS256".into(),
            kid: self.kid.clone(),
            key_use: "sig".into(),
            e: self.e.clone(),
            n: self.n.clone(),
        }
    }

    /// The parsed private key, once per [`SigningKey`] value: parsing (and its consistency
    /// checks) costs as much as a signature, so it must not happen per token. Signing uses
    /// AWS-LC (OpenSSL's RSA code): about twice ring's signing rate, and RSA signing is most of
    /// what a token costs.
    fn signer(&self) -> Result<&aws_lc_rs::signature::RsaKeyPair, KeyError> {
        if let Some(k) = self.signer.get() {
            return Ok(k);
        }
        let body: String = self
            .private_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|e| KeyError::InvalidPem(e.to_string()))?;
        let pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| KeyError::InvalidPem(e.to_string()))?;
        Ok(self.signer.get_or_init(|| std::sync::Arc::new(pair)))
    }

    /// An RSASSA-PKCS1-v1_5 SHA-256 signature (JWS `RS256`) over `message`.
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let pair = self.signer()?;
        let mut signature = vec![0u8; pair.public_modulus_len()];
        pair.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            message,
            &mut signature,
        )
        .map_err(|_| KeyError::InvalidPem("RSA signing failed".into()))?;
        Ok(signature)
    }

    /// This key with its private PEM sealed under `master_key` (associated data: the kid).
    pub fn seal(&self, master_key: &[u8; 32]) -> Result<SealedSigningKey, KeyError> {
        Ok(SealedSigningKey {
            kid: self.kid.clone(),
            private_sealed: seal(master_key, self.kid.as_bytes(), self.private_pem.as_bytes())?,
            n: self.n.clone(),
            e: self.e.clone(),
            created: self.created,
            status: self.status,
            retired: self.retired,
        })
    }
}

/// The storable form of a [`SigningKey`]: everything public in clear, the private key sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSigningKey {
    pub kid: String,
    /// `v1.<nonce>.<ciphertext>` from [`seal`].
    pub private_sealed: String,
    pub n: String,
    pub e: String,
    pub created: i64,
    pub status: KeyStatus,
    #[serde(default)]
    pub retired: Option<i64>,
}

impl SealedSigningKey {
    /// Decrypts the private key and checks that it is the key the row says it is.
    pub fn open(&self, master_key: &[u8; 32]) -> Result<SigningKey, KeyError> {
        let pem = open(master_key, self.kid.as_bytes(), &self.private_sealed)?;
        let pem = String::from_utf8(pem).map_err(|_| KeyError::InvalidPem("not UTF-8".into()))?;
        let mut key = SigningKey::from_private_pem(&pem, self.status, self.created)?;
        if key.kid != self.kid || key.n != self.n || key.e != self.e {
            return Err(KeyError::InvalidPem(
                "the private key does not match the stored kid".into(),
            ));
        }
        key.retired = self.retired;
        Ok(key)
    }
}

/// What a [`KeyRing::rotate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The next key became active, the active key was retired, and a fresh next key was added.
    Promoted,
    /// The ring had no next key: a fresh one was added (and is published from now on), and the
    /// active key is unchanged. The next rotation promotes it.
    NextCreated,
}

/// Active + next + retired signing keys.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRing {
    active: SigningKey,
    next: Option<SigningKey>,
    /// Most recently retired first.
    retired: Vec<SigningKey>,
}

impl KeyRing {
    /// A brand-new ring: a fresh active key and a fresh next key (two RSA key generations).
    pub fn generate(now_ms: i64) -> Result<KeyRing, KeyError> {
        Ok(KeyRing {
            active: SigningKey::generate(KeyStatus::Active, now_ms)?,
            next: Some(SigningKey::generate(KeyStatus::Next, now_ms)?),
            retired: Vec::new(),
        })
    }

    /// Assembles a ring from stored keys: exactly one active, at most one next.
    pub fn from_keys(keys: Vec<SigningKey>) -> Result<KeyRing, KeyError> {
        let mut active = Vec::new();
        let mut next = Vec::new();
        let mut retired = Vec::new();
        for k in keys {
            match k.status {
                KeyStatus::Active => active.push(k),
                KeyStatus::Next => next.push(k),
                KeyStatus::Retired => retired.push(k),
            }
        }
        if next.len() > 1 {
            return Err(KeyError::NextCount(next.len()));
        }
        let count = active.len();
        let (Some(active), true) = (active.pop(), count == 1) else {
            return Err(KeyError::ActiveCount(count));
        };
        retired.sort_by_key(|k| std::cmp::Reverse(k.retired.unwrap_or(k.created)));
        Ok(KeyRing {
            active,
            next: next.pop(),
            retired,
        })
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    pub fn next(&self) -> Option<&SigningKey> {
        self.next.as_ref()
    }

    pub fn retired(&self) -> &[SigningKey] {
        &self.retired
    }

    /// Every key: active, next, retired (newest retirement first).
    pub fn keys(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.active)
            .chain(self.next.iter())
            .chain(self.retired.iter())
    }

    pub fn into_keys(self) -> Vec<SigningKey> {
        let mut all = vec![self.active];
        all.extend(self.next);
        all.extend(self.retired);
        all
    }

    /// The key with this kid, whatever its status.
    pub fn get(&self, kid: &str) -> Option<&SigningKey> {
        self.keys().find(|k| k.kid == kid)
    }

    /// Rotates with a freshly generated next key (see [`KeyRing::rotate_with`]): promotes the
    /// published next key, or, when the ring has none, only creates one.
    pub fn rotate(&mut self, now_ms: i64, retain_retired_ms: i64) -> Result<Rotation, KeyError> {
        let fresh = SigningKey::generate(KeyStatus::Next, now_ms)?;
        Ok(self.rotate_with(fresh, now_ms, retain_retired_ms))
    }

    /// Rotates: next → active, `fresh_next` → next, active → retired (at `now_ms`), then drops
    /// retired keys retired more than `retain_retired_ms` ago.
    ///
    /// Only a next key already in the ring (so already published in the JWKS) is ever made
    /// active: a key verifiers have never seen would make them refuse its tokens until they
    /// refresh their cached JWKS. So with no next key, `fresh_next` only becomes the next key
    /// (published from now on), the active key stays, and a later rotation promotes it
    /// ([`Rotation::NextCreated`]).
    ///
    /// Keep `retain_retired_ms` at least the longest lifetime of a token signed by the old key
    /// (access and ID tokens: 1 hour) plus verifiers' JWKS cache time.
    pub fn rotate_with(
        &mut self,
        mut fresh_next: SigningKey,
        now_ms: i64,
        retain_retired_ms: i64,
    ) -> Rotation {
        fresh_next.status = KeyStatus::Next;
        fresh_next.retired = None;
        let Some(promoted) = self.next.replace(fresh_next) else {
            self.prune(now_ms, retain_retired_ms);
            return Rotation::NextCreated;
        };
        let mut old = std::mem::replace(&mut self.active, promoted);
        self.active.status = KeyStatus::Active;
        self.active.retired = None;
        old.status = KeyStatus::Retired;
        old.retired = Some(now_ms);
        self.retired.insert(0, old);
        self.prune(now_ms, retain_retired_ms);
        Rotation::Promoted
    }

    /// Drops retired keys retired more than `retain_retired_ms` before `now_ms`.
    pub fn prune(&mut self, now_ms: i64, retain_retired_ms: i64) {
        self.retired
            .retain(|k| now_ms.saturating_sub(k.retired.unwrap_or(k.created)) <= retain_retired_ms);
    }

    /// The JWKS served at `/oauth2/v1/keys`: active, next and retained retired keys.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.keys().map(SigningKey::jwk).collect(),
        }
    }

    /// The public keys tokens are verified against (same set as [`KeyRing::jwks`]).
    pub fn verification_keys(&self) -> Vec<RsaPublicJwk> {
        self.jwks().keys
    }
}

const SEAL_VERSION: &str = "v1";

/// Encrypts `plaintext` with AES-256-GCM under `master_key`, binding `aad` (associated data,
/// e.g. the kid). Output: `v1.<base64url nonce (96-bit, random)>.<base64url ciphertext+tag>`.
pub fn seal(master_key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<String, KeyError> {
    let cipher = Aes256Gcm::new(master_key.into());
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| KeyError::Encrypt)?;
    Ok(format!(
        "{SEAL_VERSION}.{}.{}",
        URL_SAFE_NO_PAD.encode(nonce),
        URL_SAFE_NO_PAD.encode(ct)
    ))
}

/// Reverses [`seal`]. Fails on any tampering, a wrong key or different associated data.
pub fn open(master_key: &[u8; 32], aad: &[u8], sealed: &str) -> Result<Vec<u8>, KeyError> {
    let mut parts = sealed.split('.');
    let (Some(version), Some(nonce), Some(ct), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(KeyError::SealedMalformed);
    };
    if version != SEAL_VERSION {
        return Err(KeyError::SealedVersion);
    }
    let nonce = URL_SAFE_NO_PAD
        .decode(nonce)
        .map_err(|_| KeyError::SealedMalformed)?;
    let ct = URL_SAFE_NO_PAD
        .decode(ct)
        .map_err(|_| KeyError::SealedMalformed)?;
    if nonce.len() != 12 {
        return Err(KeyError::SealedMalformed);
    }
    Aes256Gcm::new(master_key.into())
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad })
        .map_err(|_| KeyError::Decrypt)
}

/// A key for one purpose, derived from the master key: HMAC-SHA256(master key, `label`).
pub fn derive_key(master_key: &[u8; 32], label: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut key = [0u8; 32];
    if let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(master_key) {
        mac.update(label);
        key.copy_from_slice(&mac.finalize().into_bytes());
    }
    key
}

/// A fresh random master key.
pub fn generate_master_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    k
}

/// Parses a master key given as base64url (padding optional), e.g. from configuration.
pub fn parse_master_key(b64: &str) -> Result<[u8; 32], KeyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(b64.trim().trim_end_matches('='))
        .map_err(|_| KeyError::MasterKey)?;
    bytes.try_into().map_err(|_| KeyError::MasterKey)
}

/// Encodes a master key as base64url (the form [`parse_master_key`] reads).
pub fn encode_master_key(key: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::testkeys;

    const MASTER: [u8; 32] = [7u8; 32];

    #[test]
    fn generated_key_has_okta_shaped_jwk() {
        let k = testkeys::server_key(0);
        let jwk = k.jwk();
        assert_eq!(jwk.kty, "RSA");
        assert_eq!(jwk.alg, "RS256");
        assert_eq!(jwk.key_use, "sig");
        assert_eq!(jwk.e, "AQAB");
        assert_eq!(jwk.kid.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(&jwk.n).unwrap().len(), 256);
        let v = serde_json::to_value(&jwk).unwrap();
        let mut names: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        names.sort();
        assert_eq!(names, ["alg", "e", "kid", "kty", "n", "use"]);
        assert!(k.private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(!format!("{k:?}").contains("PRIVATE KEY"));
        // kid is the RFC 7638 thumbprint, and reloading the PEM reproduces everything.
        let again = SigningKey::from_private_pem(&k.private_pem, k.status, k.created).unwrap();
        assert_eq!(again, *k);
    }

    #[test]
    fn seal_round_trip_and_tamper_detection() {
        let sealed = seal(&MASTER, b"kid-1", b"secret material").unwrap();
        assert!(sealed.starts_with("v1."));
        assert_eq!(sealed.split('.').count(), 3);
        assert_eq!(
            open(&MASTER, b"kid-1", &sealed).unwrap(),
            b"secret material"
        );
        // Fresh nonce every time.
        assert_ne!(sealed, seal(&MASTER, b"kid-1", b"secret material").unwrap());

        // Wrong associated data (another key's row).
        assert!(matches!(
            open(&MASTER, b"kid-2", &sealed),
            Err(KeyError::Decrypt)
        ));
        // Wrong master key.
        assert!(matches!(
            open(&[8u8; 32], b"kid-1", &sealed),
            Err(KeyError::Decrypt)
        ));
        // Flip one ciphertext byte.
        let parts: Vec<&str> = sealed.split('.').collect();
        let mut ct = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        ct[0] ^= 1;
        let tampered = format!("v1.{}.{}", parts[1], URL_SAFE_NO_PAD.encode(&ct));
        assert!(matches!(
            open(&MASTER, b"kid-1", &tampered),
            Err(KeyError::Decrypt)
        ));
        // Swap the nonce.
        let other = seal(&MASTER, b"kid-1", b"secret material").unwrap();
        let other_nonce = other.split('.').nth(1).unwrap();
        let swapped = format!("v1.{other_nonce}.{}", parts[2]);
        assert!(matches!(
            open(&MASTER, b"kid-1", &swapped),
            Err(KeyError::Decrypt)
        ));
        // Truncated tag, bad version, bad shape.
        let short = format!("v1.{}.{}", parts[1], URL_SAFE_NO_PAD.encode(&ct[..4]));
        assert!(open(&MASTER, b"kid-1", &short).is_err());
        assert!(matches!(
            open(&MASTER, b"kid-1", &sealed.replacen("v1", "v2", 1)),
            Err(KeyError::SealedVersion)
        ));
        assert!(matches!(
            open(&MASTER, b"kid-1", "v1.abc"),
            Err(KeyError::SealedMalformed)
        ));
    }

    #[test]
    fn sealed_signing_key_round_trip() {
        let k = testkeys::server_key(0);
        let sealed = k.seal(&MASTER).unwrap();
        assert!(!sealed.private_sealed.contains("PRIVATE"));
        let json = serde_json::to_string(&sealed).unwrap();
        let back: SealedSigningKey = serde_json::from_str(&json).unwrap();
        assert_eq!(back.open(&MASTER).unwrap(), *k);
        // A sealed key moved onto another kid's row does not open.
        let mut moved = sealed.clone();
        moved.kid = testkeys::server_key(1).kid.clone();
        assert!(moved.open(&MASTER).is_err());
        assert!(sealed.open(&[0u8; 32]).is_err());
    }

    #[test]
    fn master_key_encoding() {
        let k = generate_master_key();
        assert_eq!(parse_master_key(&encode_master_key(&k)).unwrap(), k);
        assert!(parse_master_key("c2hvcnQ").is_err());
    }

    fn key(i: usize, status: KeyStatus) -> SigningKey {
        let mut k = testkeys::server_key(i).clone();
        k.status = status;
        k
    }

    #[test]
    fn ring_rotation() {
        let mut ring =
            KeyRing::from_keys(vec![key(0, KeyStatus::Active), key(1, KeyStatus::Next)]).unwrap();
        let (k0, k1, k2) = (
            ring.active().kid.clone(),
            ring.next().unwrap().kid.clone(),
            testkeys::server_key(2).kid.clone(),
        );
        let kids = |r: &KeyRing| r.jwks().keys.into_iter().map(|j| j.kid).collect::<Vec<_>>();
        assert_eq!(kids(&ring), [k0.clone(), k1.clone()]);

        let hour = 3_600_000;
        ring.rotate_with(key(2, KeyStatus::Retired), 10 * hour, 24 * hour);
        assert_eq!(ring.active().kid, k1);
        assert_eq!(ring.active().status, KeyStatus::Active);
        assert_eq!(ring.next().unwrap().kid, k2);
        assert_eq!(ring.next().unwrap().status, KeyStatus::Next);
        assert_eq!(ring.retired()[0].kid, k0);
        assert_eq!(ring.retired()[0].retired, Some(10 * hour));
        assert_eq!(kids(&ring), [k1.clone(), k2.clone(), k0.clone()]);
        assert!(ring.get(&k0).is_some());

        // Second rotation a day later keeps k0 (retired exactly 24 h ago), a third drops it.
        ring.rotate_with(key(0, KeyStatus::Next), 34 * hour, 24 * hour);
        assert_eq!(ring.active().kid, k2);
        assert_eq!(
            kids(&ring),
            [k2.clone(), k0.clone(), k1.clone(), k0.clone()]
        );
        ring.prune(34 * hour + 1, 24 * hour);
        assert_eq!(kids(&ring), [k2.clone(), k0.clone(), k1.clone()]);

        // Store and reload.
        let reloaded = KeyRing::from_keys(ring.clone().into_keys()).unwrap();
        assert_eq!(reloaded, ring);
    }

    #[test]
    fn ring_shape_is_enforced() {
        assert!(matches!(
            KeyRing::from_keys(vec![key(0, KeyStatus::Next)]),
            Err(KeyError::ActiveCount(0))
        ));
        assert!(matches!(
            KeyRing::from_keys(vec![key(0, KeyStatus::Active), key(1, KeyStatus::Active)]),
            Err(KeyError::ActiveCount(2))
        ));
        assert!(matches!(
            KeyRing::from_keys(vec![
                key(0, KeyStatus::Active),
                key(1, KeyStatus::Next),
                key(2, KeyStatus::Next)
            ]),
            Err(KeyError::NextCount(2))
        ));
    }

    #[test]
    fn rotation_without_a_next_key_only_publishes_one() {
        let (k0, k1, k2) = (
            testkeys::server_key(0).kid.clone(),
            testkeys::server_key(1).kid.clone(),
            testkeys::server_key(2).kid.clone(),
        );
        let mut ring = KeyRing::from_keys(vec![key(0, KeyStatus::Active)]).unwrap();
        // The fresh key is never promoted unpublished: it becomes the next key, whatever the
        // status it came with, and the active key stays.
        assert_eq!(
            ring.rotate_with(key(1, KeyStatus::Retired), 5, 10),
            Rotation::NextCreated
        );
        assert_eq!(ring.active().kid, k0);
        assert_eq!(ring.active().status, KeyStatus::Active);
        assert_eq!(ring.next().unwrap().kid, k1);
        assert_eq!(ring.next().unwrap().status, KeyStatus::Next);
        assert_eq!(ring.next().unwrap().retired, None);
        assert!(ring.retired().is_empty());
        let kids = |r: &KeyRing| r.jwks().keys.into_iter().map(|j| j.kid).collect::<Vec<_>>();
        assert_eq!(kids(&ring), [k0.clone(), k1.clone()], "published");

        // The next rotation promotes the (now published) key.
        assert_eq!(
            ring.rotate_with(key(2, KeyStatus::Next), 6, 10),
            Rotation::Promoted
        );
        assert_eq!(ring.active().kid, k1);
        assert_eq!(ring.active().status, KeyStatus::Active);
        assert_eq!(ring.next().unwrap().kid, k2);
        assert_eq!(ring.retired()[0].kid, k0);
        assert_eq!(ring.retired()[0].retired, Some(6));
        let reloaded = KeyRing::from_keys(ring.clone().into_keys()).unwrap();
        assert_eq!(reloaded, ring);
    }

    #[test]
    fn generate_and_rotate_for_real() {
        // One real end-to-end generation (three RSA keys) to cover `generate`/`rotate`.
        let mut ring = KeyRing::generate(1_000).unwrap();
        let before = ring.next().unwrap().kid.clone();
        assert_eq!(ring.rotate(2_000, 10_000).unwrap(), Rotation::Promoted);
        assert_eq!(ring.active().kid, before);
        assert!(ring.next().is_some());
        assert_eq!(ring.jwks().keys.len(), 3);
    }

    #[test]
    fn rotate_without_a_next_key_keeps_the_active_key() {
        let mut ring = KeyRing::from_keys(vec![key(0, KeyStatus::Active)]).unwrap();
        let active = ring.active().kid.clone();
        assert_eq!(ring.rotate(2_000, 10_000).unwrap(), Rotation::NextCreated);
        assert_eq!(ring.active().kid, active, "no unpublished key signs");
        let next = ring.next().unwrap().kid.clone();
        assert_ne!(next, active);
        assert!(ring.retired().is_empty());
        assert_eq!(ring.rotate(3_000, 10_000).unwrap(), Rotation::Promoted);
        assert_eq!(ring.active().kid, next, "the former next key is active");
        assert_eq!(ring.retired()[0].kid, active);
        assert!(ring.next().is_some());
    }
}
