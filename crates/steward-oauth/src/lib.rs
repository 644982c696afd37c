//! The pure core of Steward's OAuth 2.0 / OpenID Connect **org authorization server**
//! (`/oauth2/v1/*`) and of the **resource-server guard** in front of the Okta-compatible API.
//!
//! # Design
//!
//! Everything here is a function of its arguments: no HTTP, no database, no clock, no global
//! state. Callers pass the current time (epoch seconds for JWT claims, epoch milliseconds for
//! stored timestamps, as in `steward_core::timefmt`), the keys, the client's registered JWKS, the
//! app's grants, and get back a value or a typed error that knows its OAuth `error` code and
//! `error_description`. State that the protocols need — replay caches, nonces in use, revoked
//! token ids, single-use codes — is the HTTP layer's job; each module's docs say what to keep.
//!
//! Crypto comes from maintained crates, never hand-rolled: `rsa` (key generation, PKCS#8),
//! `jsonwebtoken`/ring (RS256 signing; RS* and ES256/ES384 verification), `p521` (ES512),
//! `aes-gcm` (keys at rest), `argon2` (secrets), `hmac`/`sha2` (DPoP nonces, hashes), `subtle`
//! (constant-time comparison). JWS parsing is strict and shared (a crate-private `jws`
//! module): the algorithm is always checked against an explicit allow-list *before* a key is
//! chosen, so `alg: none` and HMAC/public-key confusion cannot reach signature code.
//!
//! # Modules
//!
//! * [`keys`] — RSA-2048 signing keys (`kid` = RFC 7638 thumbprint), the [`keys::KeyRing`]
//!   (active / next / retired) with rotation and the published JWKS; AES-256-GCM sealing of
//!   private keys at rest.
//! * [`jwt`] — Okta-shaped access tokens (`ver, jti "AT.", iss, aud, iat, exp, cid, uid, scp, sub,
//!   auth_time, cnf.jkt`) and ID tokens; strict RS256-only verification.
//! * [`client_assertion`] — `private_key_jwt` (RFC 7523) with RS/ES 256/384/512 client keys.
//! * [`pkce`] — RFC 7636, `S256` only, downgrade-safe.
//! * [`dpop`] — RFC 9449 proofs (`htm`, `htu`, `iat`, `ath`, `nonce`), JWK thumbprints, stateless
//!   rotating nonces.
//! * [`challenge`] — `WWW-Authenticate` values exactly as Okta words them, plus RFC 9728's
//!   `resource_metadata` and the DPoP scheme.
//! * [`scopes`] — the issuance decision: requested scopes vs the catalogue and the app's ACTIVE
//!   grants, with Okta's `invalid_scope` texts.
//! * [`secrets`] — argon2id hashing, SHA-256 lookup keys, random tokens.
//! * [`guard`] — the resource-server pipeline tying [`jwt`], [`dpop`] and [`challenge`]
//!   together: `Authorization` + `DPoP` headers in, claims or a ready challenge out.
//! * [`jwk`] — public JWKs and the accepted asymmetric algorithms.

pub mod challenge;
pub mod client_assertion;
pub mod dpop;
pub mod guard;
pub mod jwk;
mod jws;
pub mod jwt;
pub mod keys;
pub mod pkce;
pub mod scopes;
pub mod secrets;

#[cfg(test)]
mod testkeys;
