//! Access tokens and ID tokens minted by the org authorization server, and their verification.
//!
//! Shape follows Okta's org AS (oauth.md §1.5): header `{"alg":"RS256","kid":"…"}` (no `typ`),
//! access-token claims `ver, jti ("AT.…"), iss, aud, iat, exp, cid, uid?, scp, auth_time?, sub,
//! cnf.jkt?`; ID tokens `sub, ver, iss, aud (= client_id), iat, exp, jti ("ID.…"), amr?, idp?,
//! nonce?, auth_time, at_hash?` plus profile/email claims the granted scopes allow.
//!
//! Verification accepts **only** RS256 with a `kid` found in the given key set: `none`, HMAC
//! algorithms (the classic "public key as HMAC secret" confusion) and every other algorithm are
//! refused before any key is touched.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::jws::{self, NumericDate};
use crate::keys::{KeyError, RsaPublicJwk, SigningKey};
use crate::secrets::random_token;

/// Access-token lifetime on the org AS (fixed at one hour by Okta).
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 3600;
/// ID-token lifetime on the org AS.
pub const ID_TOKEN_LIFETIME_SECS: i64 = 3600;
/// Clock-skew allowance when verifying `exp` / `nbf` / `iat`.
pub const DEFAULT_LEEWAY_SECS: i64 = 30;

/// `cnf` claim of a DPoP-bound token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// RFC 7638 thumbprint of the DPoP key.
    pub jkt: String,
}

/// The claims of an org-AS access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub ver: u32,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub cid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    pub scp: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

impl AccessTokenClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scp.iter().any(|s| s == scope)
    }

    /// The DPoP key thumbprint the token is bound to, if any.
    pub fn jkt(&self) -> Option<&str> {
        self.cnf.as_ref().map(|c| c.jkt.as_str())
    }

    /// Space-separated scopes (token response `scope`, introspection `scope`).
    pub fn scope_string(&self) -> String {
        self.scp.join(" ")
    }

    /// Whether a user is behind the token (`uid` present) rather than a service app.
    pub fn is_user_token(&self) -> bool {
        self.uid.is_some()
    }
}

/// What to put into a new access token.
#[derive(Debug, Clone)]
pub struct AccessTokenSpec<'a> {
    /// Issuer (the org URL, or the custom domain).
    pub issuer: &'a str,
    /// Audience: the org's Okta URL (oauth.md §1.5), even when the issuer is a custom domain.
    pub audience: &'a str,
    pub client_id: &'a str,
    /// Okta user id (`00u…`); `None` for client credentials.
    pub user_id: Option<&'a str>,
    /// The user's login for user tokens; the client_id for client-credentials tokens.
    pub subject: &'a str,
    pub scopes: &'a [String],
    pub auth_time: Option<i64>,
    /// DPoP key thumbprint to bind the token to.
    pub jkt: Option<&'a str>,
    /// Epoch seconds.
    pub issued_at: i64,
    /// Normally [`ACCESS_TOKEN_LIFETIME_SECS`].
    pub lifetime_secs: i64,
}

/// A signed token and the claims in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued<C> {
    pub token: String,
    pub claims: C,
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("signing failed: {0}")]
    Sign(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Signs any claims as an RS256 JWS with header `{"alg":"RS256","kid":…}` (no `typ`, like Okta).
pub fn sign_rs256<C: Serialize>(key: &SigningKey, claims: &C) -> Result<String, JwtError> {
    let header = serde_json::json!({"alg": "RS256", "kid": key.kid});
    let payload = serde_json::to_vec(claims).map_err(|e| JwtError::Sign(e.to_string()))?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign_rs256(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// A new `jti`: the prefix (`AT.`, `ID.`), the issue time in microseconds as 14 hex digits, then
/// 192 bits of randomness. The time prefix makes successive ids sort in issue order, so the
/// stores' indexes on `jti` grow at their right edge instead of dirtying a random page per token.
pub fn new_jti(prefix: &str) -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{prefix}{micros:014x}{}", random_token(24))
}

/// Mints an access token.
pub fn issue_access_token(
    key: &SigningKey,
    spec: &AccessTokenSpec<'_>,
) -> Result<Issued<AccessTokenClaims>, JwtError> {
    let claims = AccessTokenClaims {
        ver: 1,
        jti: new_jti("AT."),
        iss: spec.issuer.to_owned(),
        aud: spec.audience.to_owned(),
        iat: spec.issued_at,
        exp: spec.issued_at + spec.lifetime_secs,
        cid: spec.client_id.to_owned(),
        uid: spec.user_id.map(str::to_owned),
        scp: spec.scopes.to_vec(),
        auth_time: spec.auth_time,
        sub: spec.subject.to_owned(),
        cnf: spec.jkt.map(|j| Confirmation { jkt: j.to_owned() }),
    };
    Ok(Issued {
        token: sign_rs256(key, &claims)?,
        claims,
    })
}

/// Profile and email claims of a user, as `/userinfo` and ID tokens carry them. Fill in what the
/// directory has; [`UserClaims::for_scopes`] keeps what the granted scopes allow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// Epoch seconds of the last profile update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl UserClaims {
    /// The subset the scopes release: `profile` → name, given/family name, preferred_username,
    /// locale, zoneinfo, updated_at; `email` → email, email_verified.
    pub fn for_scopes<S: AsRef<str>>(&self, scopes: &[S]) -> UserClaims {
        let has = |s: &str| scopes.iter().any(|x| x.as_ref() == s);
        let mut out = UserClaims::default();
        if has("profile") {
            out.name = self.name.clone();
            out.given_name = self.given_name.clone();
            out.family_name = self.family_name.clone();
            out.preferred_username = self.preferred_username.clone();
            out.locale = self.locale.clone();
            out.zoneinfo = self.zoneinfo.clone();
            out.updated_at = self.updated_at;
        }
        if has("email") {
            out.email = self.email.clone();
            out.email_verified = self.email_verified;
        }
        out
    }
}

/// The claims of an ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub sub: String,
    pub ver: u32,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(flatten)]
    pub user: UserClaims,
}

/// What to put into a new ID token.
#[derive(Debug, Clone)]
pub struct IdTokenSpec<'a> {
    pub issuer: &'a str,
    /// Becomes `aud`.
    pub client_id: &'a str,
    /// The user id (`00u…`), Okta's `sub` for ID tokens.
    pub subject: &'a str,
    /// Epoch seconds.
    pub issued_at: i64,
    /// Normally [`ID_TOKEN_LIFETIME_SECS`].
    pub lifetime_secs: i64,
    pub auth_time: i64,
    /// The `nonce` of the authorization request, echoed verbatim.
    pub nonce: Option<&'a str>,
    /// Authentication methods (`pwd`, `mfa`, …); empty to omit.
    pub amr: &'a [String],
    /// Identity provider id (Okta puts the org id here).
    pub idp: Option<&'a str>,
    /// Granted scopes; decide which user claims are released.
    pub scopes: &'a [String],
    pub user: &'a UserClaims,
    /// The access token issued alongside (adds `at_hash`).
    pub access_token: Option<&'a str>,
}

/// Mints an ID token.
pub fn issue_id_token(
    key: &SigningKey,
    spec: &IdTokenSpec<'_>,
) -> Result<Issued<IdTokenClaims>, JwtError> {
    let claims = IdTokenClaims {
        sub: spec.subject.to_owned(),
        ver: 1,
        iss: spec.issuer.to_owned(),
        aud: spec.client_id.to_owned(),
        iat: spec.issued_at,
        exp: spec.issued_at + spec.lifetime_secs,
        jti: new_jti("ID."),
        amr: (!spec.amr.is_empty()).then(|| spec.amr.to_vec()),
        idp: spec.idp.map(str::to_owned),
        nonce: spec.nonce.map(str::to_owned),
        auth_time: spec.auth_time,
        at_hash: spec.access_token.map(at_hash),
        user: spec.user.for_scopes(spec.scopes),
    };
    Ok(Issued {
        token: sign_rs256(key, &claims)?,
        claims,
    })
}

/// OIDC `at_hash`: base64url of the left half of SHA-256 over the access token's ASCII.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

/// Why a token was refused. Every variant means `invalid_token` to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token uses an unsupported critical header")]
    CriticalHeader,
    #[error("unsupported signing algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("the token header has no kid")]
    MissingKeyId,
    #[error("no key with the token's kid")]
    UnknownKeyId,
    #[error("the signature is invalid")]
    InvalidSignature,
    #[error("wrong issuer")]
    InvalidIssuer,
    #[error("wrong audience")]
    InvalidAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not yet valid")]
    NotYetValid,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("required claim {0} is missing or invalid")]
    MissingClaim(&'static str),
    #[error("not an access token")]
    WrongTokenType,
}

impl From<jws::JwsError> for TokenError {
    fn from(e: jws::JwsError) -> Self {
        match e {
            jws::JwsError::Malformed => TokenError::Malformed,
            jws::JwsError::Critical => TokenError::CriticalHeader,
        }
    }
}

/// Expectations for verifying an access token.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    /// Epoch seconds.
    pub now: i64,
    pub leeway_secs: i64,
}

impl<'a> VerifyOptions<'a> {
    pub fn new(issuer: &'a str, audience: &'a str, now: i64) -> Self {
        VerifyOptions {
            issuer,
            audience,
            now,
            leeway_secs: DEFAULT_LEEWAY_SECS,
        }
    }
}

/// Checks the RS256 signature against `keys` and returns the payload.
fn verify_signature(token: &str, keys: &[RsaPublicJwk]) -> Result<Map<String, Value>, TokenError> {
    let parsed = jws::parse(token)?;
    let alg = jws::str_member(&parsed.header, "alg").unwrap_or_default();
    if alg != "RS256" {
        return Err(TokenError::UnsupportedAlgorithm(alg.to_owned()));
    }
    let kid = jws::str_member(&parsed.header, "kid").ok_or(TokenError::MissingKeyId)?;
    let jwk = keys
        .iter()
        .find(|k| k.kid == kid && k.kty == "RSA")
        .ok_or(TokenError::UnknownKeyId)?;
    let key = jsonwebtoken::DecodingKey::from_rsa_components(&jwk.n, &jwk.e)
        .map_err(|_| TokenError::UnknownKeyId)?;
    let ok = jsonwebtoken::crypto::verify(
        parsed.signature,
        parsed.signing_input.as_bytes(),
        &key,
        jsonwebtoken::Algorithm::RS256,
    )
    .unwrap_or(false);
    if !ok {
        return Err(TokenError::InvalidSignature);
    }
    Ok(parsed.claims)
}

/// Time checks: `exp` required (unless `allow_expired`), `nbf` and `iat` not in the future.
fn check_times(
    claims: &Map<String, Value>,
    now: i64,
    leeway: i64,
    allow_expired: bool,
) -> Result<(), TokenError> {
    match jws::date_member(claims, "exp") {
        NumericDate::At(exp) => {
            if !allow_expired && now >= exp.saturating_add(leeway) {
                return Err(TokenError::Expired);
            }
        }
        _ => return Err(TokenError::MissingClaim("exp")),
    }
    match jws::date_member(claims, "nbf") {
        NumericDate::At(nbf) if nbf > now.saturating_add(leeway) => {
            return Err(TokenError::NotYetValid)
        }
        NumericDate::Invalid => return Err(TokenError::MissingClaim("nbf")),
        _ => {}
    }
    match jws::date_member(claims, "iat") {
        NumericDate::At(iat) if iat > now.saturating_add(leeway) => Err(TokenError::IssuedInFuture),
        NumericDate::At(_) => Ok(()),
        _ => Err(TokenError::MissingClaim("iat")),
    }
}

/// Verifies an access token minted by this server: RS256 only, known `kid`, exact `iss`, `aud`
/// (string or array) containing the expected audience, `exp`/`nbf`/`iat` with leeway, and the
/// access-token claim set (`jti` starting with `AT.`, `cid`, `scp`, `sub`).
///
/// Revocation is not checked here (the caller looks the `jti` up).
pub fn verify_access_token(
    token: &str,
    keys: &[RsaPublicJwk],
    opts: &VerifyOptions<'_>,
) -> Result<AccessTokenClaims, TokenError> {
    let claims = verify_signature(token, keys)?;
    if jws::str_member(&claims, "iss") != Some(opts.issuer) {
        return Err(TokenError::InvalidIssuer);
    }
    if !jws::audience_matches(&claims, &[opts.audience]) {
        return Err(TokenError::InvalidAudience);
    }
    check_times(&claims, opts.now, opts.leeway_secs, false)?;
    if !jws::str_member(&claims, "jti").is_some_and(|j| j.starts_with("AT.")) {
        return Err(TokenError::WrongTokenType);
    }
    // Our tokens carry a string `aud`; normalise an array form to the expected audience.
    let mut claims = claims;
    claims.insert("aud".into(), Value::String(opts.audience.to_owned()));
    for name in ["cid", "sub"] {
        if jws::str_member(&claims, name).is_none() {
            return Err(TokenError::MissingClaim(name));
        }
    }
    serde_json::from_value(Value::Object(claims)).map_err(|_| TokenError::MissingClaim("scp"))
}

/// Verifies an ID token minted by this server (e.g. a logout `id_token_hint`): RS256, known
/// `kid`, exact `iss`, `aud` equal to `client_id` when given. With `allow_expired` an expired
/// token is still accepted (OIDC RP-initiated logout allows expired hints).
pub fn verify_id_token(
    token: &str,
    keys: &[RsaPublicJwk],
    issuer: &str,
    client_id: Option<&str>,
    now: i64,
    leeway_secs: i64,
    allow_expired: bool,
) -> Result<IdTokenClaims, TokenError> {
    let claims = verify_signature(token, keys)?;
    if jws::str_member(&claims, "iss") != Some(issuer) {
        return Err(TokenError::InvalidIssuer);
    }
    if let Some(cid) = client_id {
        if jws::str_member(&claims, "aud") != Some(cid) {
            return Err(TokenError::InvalidAudience);
        }
    }
    check_times(&claims, now, leeway_secs, allow_expired)?;
    if !jws::str_member(&claims, "jti").is_some_and(|j| j.starts_with("ID.")) {
        return Err(TokenError::WrongTokenType);
    }
    serde_json::from_value(Value::Object(claims)).map_err(|_| TokenError::MissingClaim("sub"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::keys::{KeyRing, KeyStatus};
    use crate::testkeys;
    use hmac::{Hmac, Mac};
    use serde_json::json;

    const ISS: &str = "https://acme.okta.com";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn jtis_are_unguessable_and_sort_in_issue_order() {
        let a = new_jti("AT.");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_jti("AT.");
        assert!(a.starts_with("AT.") && a.len() == 3 + 14 + 32, "{a}");
        assert!(a[3..17].chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert!(b > a, "{a} {b}");
        assert_ne!(a[17..], new_jti("AT.")[17..]);
    }

    fn ring() -> KeyRing {
        let mut a = testkeys::server_key(0).clone();
        a.status = KeyStatus::Active;
        let mut n = testkeys::server_key(1).clone();
        n.status = KeyStatus::Next;
        KeyRing::from_keys(vec![a, n]).unwrap()
    }

    fn scopes() -> Vec<String> {
        vec!["okta.users.read".into(), "okta.groups.manage".into()]
    }

    fn spec<'a>(scopes: &'a [String]) -> AccessTokenSpec<'a> {
        AccessTokenSpec {
            issuer: ISS,
            audience: ISS,
            client_id: "0oar95zt9zIpYuz6A0h7",
            user_id: Some("00u1abcdefghijklmno"),
            subject: "jane@example.com",
            scopes,
            auth_time: Some(NOW - 10),
            jkt: None,
            issued_at: NOW,
            lifetime_secs: ACCESS_TOKEN_LIFETIME_SECS,
        }
    }

    fn b64json(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn access_token_has_okta_shape_and_verifies() {
        let ring = ring();
        let scp = scopes();
        let issued = issue_access_token(ring.active(), &spec(&scp)).unwrap();
        let parts: Vec<&str> = issued.token.split('.').collect();
        assert_eq!(
            b64json(parts[0]),
            json!({"alg": "RS256", "kid": ring.active().kid})
        );
        let payload = b64json(parts[1]);
        assert_eq!(payload["ver"], 1);
        assert_eq!(payload["iss"], ISS);
        assert_eq!(payload["aud"], ISS);
        assert_eq!(payload["exp"], NOW + 3600);
        assert_eq!(payload["cid"], "0oar95zt9zIpYuz6A0h7");
        assert_eq!(payload["uid"], "00u1abcdefghijklmno");
        assert_eq!(
            payload["scp"],
            json!(["okta.users.read", "okta.groups.manage"])
        );
        assert_eq!(payload["sub"], "jane@example.com");
        assert!(payload.get("cnf").is_none());
        let jti = payload["jti"].as_str().unwrap();
        assert!(jti.starts_with("AT.") && jti.len() == 49, "{jti}");

        let keys = ring.verification_keys();
        let claims =
            verify_access_token(&issued.token, &keys, &VerifyOptions::new(ISS, ISS, NOW + 5))
                .unwrap();
        assert_eq!(claims, issued.claims);
        assert!(claims.has_scope("okta.users.read"));
        assert_eq!(claims.scope_string(), "okta.users.read okta.groups.manage");
        assert!(claims.is_user_token());
    }

    #[test]
    fn service_token_and_dpop_binding() {
        let ring = ring();
        let scp = vec!["okta.users.manage".to_string()];
        let mut s = spec(&scp);
        s.user_id = None;
        s.subject = s.client_id;
        s.auth_time = None;
        s.jkt = Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        let issued = issue_access_token(ring.active(), &s).unwrap();
        let payload = b64json(issued.token.split('.').nth(1).unwrap());
        assert!(payload.get("uid").is_none());
        assert!(payload.get("auth_time").is_none());
        assert_eq!(payload["sub"], payload["cid"]);
        assert_eq!(
            payload["cnf"],
            json!({"jkt": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"})
        );
        let claims = verify_access_token(
            &issued.token,
            &ring.verification_keys(),
            &VerifyOptions::new(ISS, ISS, NOW),
        )
        .unwrap();
        assert_eq!(
            claims.jkt(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert!(!claims.is_user_token());
    }

    #[test]
    fn custom_domain_issuer_keeps_org_audience() {
        let ring = ring();
        let scp = scopes();
        let mut s = spec(&scp);
        s.issuer = "https://login.acme.com";
        let t = issue_access_token(ring.active(), &s).unwrap().token;
        let keys = ring.verification_keys();
        assert!(verify_access_token(
            &t,
            &keys,
            &VerifyOptions::new("https://login.acme.com", ISS, NOW)
        )
        .is_ok());
        assert_eq!(
            verify_access_token(&t, &keys, &VerifyOptions::new(ISS, ISS, NOW)).unwrap_err(),
            TokenError::InvalidIssuer
        );
    }

    #[test]
    fn rejections() {
        let ring = ring();
        let keys = ring.verification_keys();
        let scp = scopes();
        let good = issue_access_token(ring.active(), &spec(&scp))
            .unwrap()
            .token;
        let opts = VerifyOptions::new(ISS, ISS, NOW);
        let check = |t: &str, o: &VerifyOptions| verify_access_token(t, &keys, o).unwrap_err();

        // Wrong issuer / audience.
        assert_eq!(
            check(
                &good,
                &VerifyOptions::new("https://evil.okta.com", ISS, NOW)
            ),
            TokenError::InvalidIssuer
        );
        assert_eq!(
            check(&good, &VerifyOptions::new(ISS, "https://other", NOW)),
            TokenError::InvalidAudience
        );
        // Trailing slash is a different issuer (byte equality).
        assert_eq!(
            check(
                &good,
                &VerifyOptions::new("https://acme.okta.com/", ISS, NOW)
            ),
            TokenError::InvalidIssuer
        );

        // Expired, with leeway.
        let exp = NOW + 3600;
        assert!(verify_access_token(&good, &keys, &VerifyOptions::new(ISS, ISS, exp + 29)).is_ok());
        assert_eq!(
            check(&good, &VerifyOptions::new(ISS, ISS, exp + 30)),
            TokenError::Expired
        );
        // Issued in the future beyond leeway.
        assert_eq!(
            check(&good, &VerifyOptions::new(ISS, ISS, NOW - 31)),
            TokenError::IssuedInFuture
        );

        // Unknown kid: signed by a key not in the set.
        let outsider = testkeys::server_key(3);
        let foreign = issue_access_token(outsider, &spec(&scp)).unwrap().token;
        assert_eq!(check(&foreign, &opts), TokenError::UnknownKeyId);

        // Foreign key but claiming a known kid: bad signature.
        let parts: Vec<&str> = foreign.split('.').collect();
        let header =
            URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": ring.active().kid}).to_string());
        let input = format!("{header}.{}", parts[1]);
        let sig = URL_SAFE_NO_PAD.encode(outsider.sign_rs256(input.as_bytes()).unwrap());
        assert_eq!(
            check(&format!("{input}.{sig}"), &opts),
            TokenError::InvalidSignature
        );

        // Tampered payload.
        let gp: Vec<&str> = good.split('.').collect();
        let mut payload = b64json(gp[1]);
        payload["scp"] = json!(["okta.users.manage"]);
        let forged = format!(
            "{}.{}.{}",
            gp[0],
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            gp[2]
        );
        assert_eq!(check(&forged, &opts), TokenError::InvalidSignature);

        // Missing kid.
        let no_kid = crate::jws::assemble(&json!({"alg": "RS256"}), &b64json(gp[1]), |_| {
            gp[2].to_owned()
        });
        assert_eq!(check(&no_kid, &opts), TokenError::MissingKeyId);

        // Garbage.
        assert_eq!(check("not.a.jwt", &opts), TokenError::Malformed);
        assert_eq!(check("", &opts), TokenError::Malformed);
    }

    #[test]
    fn rejects_alg_none() {
        let ring = ring();
        let claims = json!({
            "ver": 1, "jti": "AT.x", "iss": ISS, "aud": ISS, "iat": NOW, "exp": NOW + 3600,
            "cid": "0oa1", "scp": ["okta.users.manage"], "sub": "0oa1"
        });
        for alg in ["none", "None", "NONE"] {
            let header = json!({"alg": alg, "kid": ring.active().kid});
            let token = crate::jws::assemble(&header, &claims, |_| String::new());
            assert!(token.ends_with('.'));
            assert_eq!(
                verify_access_token(
                    &token,
                    &ring.verification_keys(),
                    &VerifyOptions::new(ISS, ISS, NOW)
                )
                .unwrap_err(),
                TokenError::UnsupportedAlgorithm(alg.into())
            );
        }
    }

    #[test]
    fn rejects_hs256_signed_with_public_key() {
        // The classic confusion attack: HMAC keyed with the server's public key bytes.
        let ring = ring();
        let public_pem = {
            use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
            let private = rsa::RsaPrivateKey::from_pkcs8_pem(&ring.active().private_pem).unwrap();
            private
                .to_public_key()
                .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
                .unwrap()
        };
        let claims = json!({
            "ver": 1, "jti": "AT.x", "iss": ISS, "aud": ISS, "iat": NOW, "exp": NOW + 3600,
            "cid": "0oa1", "scp": ["okta.users.manage"], "sub": "0oa1"
        });
        let keys = ring.verification_keys();
        let secrets: [Vec<u8>; 3] = [
            public_pem.into_bytes(),
            keys[0].n.clone().into_bytes(),
            serde_json::to_vec(&keys[0]).unwrap(),
        ];
        for secret in secrets {
            let header = json!({"alg": "HS256", "typ": "JWT", "kid": ring.active().kid});
            let token = crate::jws::assemble(&header, &claims, |input| {
                let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
                mac.update(input);
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            });
            assert_eq!(
                verify_access_token(&token, &keys, &VerifyOptions::new(ISS, ISS, NOW)).unwrap_err(),
                TokenError::UnsupportedAlgorithm("HS256".into())
            );
        }
    }

    #[test]
    fn nbf_and_audience_arrays() {
        let ring = ring();
        let key = ring.active();
        let base = json!({
            "ver": 1, "jti": "AT.x", "iss": ISS, "aud": ["https://other", ISS],
            "iat": NOW, "exp": NOW + 3600, "cid": "0oa1", "scp": [], "sub": "0oa1"
        });
        let keys = ring.verification_keys();
        let opts = VerifyOptions::new(ISS, ISS, NOW);
        let t = sign_rs256(key, &base).unwrap();
        assert_eq!(
            verify_access_token(&t, &keys, &opts).unwrap().aud,
            ISS.to_string()
        );
        let mut future = base.clone();
        future["nbf"] = json!(NOW + 60);
        let t = sign_rs256(key, &future).unwrap();
        assert_eq!(
            verify_access_token(&t, &keys, &opts).unwrap_err(),
            TokenError::NotYetValid
        );
        let mut no_exp = base.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        let t = sign_rs256(key, &no_exp).unwrap();
        assert_eq!(
            verify_access_token(&t, &keys, &opts).unwrap_err(),
            TokenError::MissingClaim("exp")
        );
        let mut crit = base.clone();
        crit["jti"] = json!("ID.x");
        let t = sign_rs256(key, &crit).unwrap();
        assert_eq!(
            verify_access_token(&t, &keys, &opts).unwrap_err(),
            TokenError::WrongTokenType
        );
    }

    #[test]
    fn retired_key_still_verifies_after_rotation() {
        let mut ring = ring();
        let scp = scopes();
        let old = issue_access_token(ring.active(), &spec(&scp))
            .unwrap()
            .token;
        let mut fresh = testkeys::server_key(2).clone();
        fresh.status = KeyStatus::Next;
        ring.rotate_with(fresh, 1_000, 86_400_000);
        let keys = ring.verification_keys();
        assert!(verify_access_token(&old, &keys, &VerifyOptions::new(ISS, ISS, NOW)).is_ok());
        ring.prune(86_400_000 + 1_001, 86_400_000);
        assert_eq!(
            verify_access_token(
                &old,
                &ring.verification_keys(),
                &VerifyOptions::new(ISS, ISS, NOW)
            )
            .unwrap_err(),
            TokenError::UnknownKeyId
        );
    }

    #[test]
    fn id_token() {
        let ring = ring();
        let user = UserClaims {
            name: Some("Jane Doe".into()),
            given_name: Some("Jane".into()),
            family_name: Some("Doe".into()),
            preferred_username: Some("jane@example.com".into()),
            email: Some("jane@example.com".into()),
            email_verified: Some(true),
            ..UserClaims::default()
        };
        let scopes: Vec<String> = vec!["openid".into(), "email".into()];
        let amr = vec!["pwd".to_string()];
        let spec = IdTokenSpec {
            issuer: ISS,
            client_id: "0oaclient",
            subject: "00u1abcdefghijklmno",
            issued_at: NOW,
            lifetime_secs: ID_TOKEN_LIFETIME_SECS,
            auth_time: NOW - 100,
            nonce: Some("n-0S6_WzA2Mj"),
            amr: &amr,
            idp: Some("00oorgid"),
            scopes: &scopes,
            user: &user,
            access_token: Some("at-value"),
        };
        let issued = issue_id_token(ring.active(), &spec).unwrap();
        let payload = b64json(issued.token.split('.').nth(1).unwrap());
        assert_eq!(payload["aud"], "0oaclient");
        assert_eq!(payload["sub"], "00u1abcdefghijklmno");
        assert_eq!(payload["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(payload["amr"], json!(["pwd"]));
        assert_eq!(payload["email"], "jane@example.com");
        assert_eq!(payload["email_verified"], true);
        assert!(payload.get("name").is_none(), "no profile scope");
        assert!(payload.get("preferred_username").is_none());
        assert_eq!(payload["at_hash"], at_hash("at-value"));
        assert!(payload["jti"].as_str().unwrap().starts_with("ID."));

        let keys = ring.verification_keys();
        let claims =
            verify_id_token(&issued.token, &keys, ISS, Some("0oaclient"), NOW, 30, false).unwrap();
        assert_eq!(claims, issued.claims);
        assert_eq!(
            verify_id_token(&issued.token, &keys, ISS, Some("0oaother"), NOW, 30, false)
                .unwrap_err(),
            TokenError::InvalidAudience
        );
        let later = NOW + 7200;
        assert_eq!(
            verify_id_token(&issued.token, &keys, ISS, None, later, 30, false).unwrap_err(),
            TokenError::Expired
        );
        assert!(verify_id_token(&issued.token, &keys, ISS, None, later, 30, true).is_ok());
        // An ID token is not an access token (wrong audience first, wrong type if aud matched).
        assert_eq!(
            verify_access_token(&issued.token, &keys, &VerifyOptions::new(ISS, ISS, NOW))
                .unwrap_err(),
            TokenError::InvalidAudience
        );
        assert_eq!(
            verify_access_token(
                &issued.token,
                &keys,
                &VerifyOptions::new(ISS, "0oaclient", NOW)
            )
            .unwrap_err(),
            TokenError::WrongTokenType
        );
    }

    #[test]
    fn user_claims_follow_scopes() {
        let user = UserClaims {
            name: Some("Jane".into()),
            email: Some("j@e.com".into()),
            ..UserClaims::default()
        };
        assert_eq!(user.for_scopes(&["openid"]), UserClaims::default());
        assert_eq!(user.for_scopes(&["profile"]).name.as_deref(), Some("Jane"));
        assert_eq!(user.for_scopes(&["profile"]).email, None);
        assert_eq!(user.for_scopes(&["email", "profile"]), user);
    }

    #[test]
    fn at_hash_vector() {
        // Left 128 bits of SHA-256, base64url (value cross-checked with Python's hashlib).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNmfSCXfkRevise"),
            "N_PpAdQrR-FXYJuWSBUBfw"
        );
    }
}
