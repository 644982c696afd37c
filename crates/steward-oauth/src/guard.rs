//! The resource-server guard: from the `Authorization` and `DPoP` request headers to verified
//! access-token claims, or to the exact error (status + `WWW-Authenticate`) to answer with.
//!
//! Order (oauth.md §7 item 7, RFC 9449 §7): parse the `Authorization` header (scheme
//! case-insensitive) → verify the JWT → a DPoP-bound token (`cnf.jkt`) must come with the `DPoP`
//! scheme and exactly one valid proof whose key thumbprint equals `cnf.jkt` and whose `ath`
//! hashes this token; a token without `cnf` must come with `Bearer`. Scope and role checks
//! follow in the caller ([`insufficient_scope`] builds the 403).
//!
//! Not done here (state): revocation lookup by `jti`, DPoP `jti` replay cache, the SSWS API-token
//! scheme (returned as [`Credentials::Other`] by [`parse_authorization`]).

use crate::challenge::{self, Scheme};
use crate::dpop::{self, DpopError, NoncePolicy, ProofCheck, VerifiedProof};
use crate::jwk::JwsAlg;
use crate::jwt::{self, AccessTokenClaims, TokenError, VerifyOptions};
use crate::keys::RsaPublicJwk;

/// What the `Authorization` header carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// No `Authorization` header.
    Missing,
    Bearer(&'a str),
    Dpop(&'a str),
    /// Another scheme (e.g. Okta's `SSWS` API tokens); the caller decides.
    Other {
        scheme: &'a str,
        credentials: &'a str,
    },
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// Parses an `Authorization` header value. Scheme names compare case-insensitively; a Bearer or
/// DPoP token must be one RFC 6750 `b64token`.
pub fn parse_authorization(header: Option<&str>) -> Result<Credentials<'_>, GuardError> {
    let Some(value) = header else {
        return Ok(Credentials::Missing);
    };
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let token = rest.trim_start_matches(' ');
    let malformed = |scheme| GuardError::InvalidRequest {
        scheme,
        description: "The Authorization header is malformed.",
    };
    if scheme.eq_ignore_ascii_case("Bearer") {
        if !is_b64token(token) {
            return Err(malformed(TokenScheme::Bearer));
        }
        Ok(Credentials::Bearer(token))
    } else if scheme.eq_ignore_ascii_case("DPoP") {
        if !is_b64token(token) {
            return Err(malformed(TokenScheme::Dpop));
        }
        Ok(Credentials::Dpop(token))
    } else if scheme.is_empty() {
        Ok(Credentials::Missing)
    } else {
        Ok(Credentials::Other {
            scheme,
            credentials: token,
        })
    }
}

/// How the token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScheme {
    Bearer,
    Dpop,
}

impl TokenScheme {
    /// The scheme a verified token is used with (`DPoP` when it is bound by `cnf.jkt`): refusals
    /// after verification (revoked, inactive principal, missing scope) answer in it.
    pub fn of(claims: &AccessTokenClaims) -> TokenScheme {
        if claims.jkt().is_some() {
            TokenScheme::Dpop
        } else {
            TokenScheme::Bearer
        }
    }

    /// The challenge scheme; `DPoP` advertises `dpop_algs`.
    pub fn challenge(self, dpop_algs: &[JwsAlg]) -> Scheme<'_> {
        match self {
            TokenScheme::Bearer => Scheme::Bearer,
            TokenScheme::Dpop => Scheme::Dpop { algs: dpop_algs },
        }
    }
}

/// Static configuration of the guard.
#[derive(Debug, Clone, Copy)]
pub struct GuardConfig<'a> {
    /// Expected `iss` (byte-identical to the discovery `issuer`); also the challenge `realm`.
    pub issuer: &'a str,
    /// Expected `aud` (the org URL).
    pub audience: &'a str,
    /// The AS's published keys (active, next, retained retired).
    pub keys: &'a [RsaPublicJwk],
    pub leeway_secs: i64,
    pub dpop_iat_window_secs: i64,
    /// Okta does not require nonces at its API; keep `NotRequired` unless configured.
    pub dpop_nonce: NoncePolicy<'a>,
    pub dpop_algs: &'a [JwsAlg],
}

impl<'a> GuardConfig<'a> {
    pub fn new(issuer: &'a str, audience: &'a str, keys: &'a [RsaPublicJwk]) -> Self {
        GuardConfig {
            issuer,
            audience,
            keys,
            leeway_secs: jwt::DEFAULT_LEEWAY_SECS,
            dpop_iat_window_secs: dpop::DEFAULT_IAT_WINDOW_SECS,
            dpop_nonce: NoncePolicy::NotRequired,
            dpop_algs: &JwsAlg::ALL,
        }
    }
}

/// The parts of the request the guard looks at.
#[derive(Debug, Clone, Copy)]
pub struct ResourceRequest<'a> {
    /// Every `DPoP` header value (RFC 9449 requires exactly one when DPoP is used).
    pub dpop: &'a [&'a str],
    pub method: &'a str,
    /// The request's public URL: the issuer followed by the request path. Build it from the
    /// path alone: the request target is already absolute under HTTP/2 (`:scheme`,
    /// `:authority`) and through proxies. A query is ignored for `htu`.
    pub url: &'a str,
    /// Epoch seconds.
    pub now: i64,
}

/// A request that presented a valid access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub claims: AccessTokenClaims,
    pub scheme: TokenScheme,
    /// The verified proof for DPoP: record `proof.jti` to reject replays.
    pub proof: Option<VerifiedProof>,
}

impl Authenticated {
    /// The challenge scheme for later errors (e.g. insufficient scope) on this request.
    pub fn scheme(&self) -> TokenScheme {
        self.scheme
    }
}

/// Why the guard refused, with the response to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// No credentials, or a scheme other than `Bearer`/`DPoP` (e.g. `Basic`, or an `SSWS` API
    /// token the caller refused): answered with the bare `Bearer realm` challenge.
    #[error("no credentials")]
    NoCredentials,
    #[error("{description}")]
    InvalidRequest {
        scheme: TokenScheme,
        description: &'static str,
    },
    #[error("invalid token: {reason}")]
    InvalidToken { scheme: TokenScheme, reason: String },
    #[error("{0}")]
    InvalidDpopProof(DpopError),
    #[error("DPoP nonce required")]
    UseDpopNonce,
    #[error("insufficient scope: {scope}")]
    InsufficientScope {
        scheme: TokenScheme,
        scope: String,
        resource: String,
    },
}

impl GuardError {
    /// HTTP status: 400 `invalid_request`, 403 `insufficient_scope`, 401 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            GuardError::InvalidRequest { .. } => 400,
            GuardError::InsufficientScope { .. } => 403,
            _ => 401,
        }
    }

    /// The `WWW-Authenticate` header value.
    pub fn www_authenticate(&self, issuer: &str, dpop_algs: &[JwsAlg]) -> String {
        let scheme = |s: &TokenScheme| s.challenge(dpop_algs);
        match self {
            GuardError::NoCredentials => challenge::no_credentials(issuer),
            GuardError::InvalidRequest {
                scheme: s,
                description,
            } => challenge::invalid_request(issuer, scheme(s), description),
            GuardError::InvalidToken { scheme: s, .. } => {
                challenge::invalid_token(issuer, scheme(s))
            }
            GuardError::InvalidDpopProof(e) => {
                challenge::dpop_error(issuer, dpop_algs, e.error(), &e.description())
            }
            GuardError::UseDpopNonce => challenge::dpop_error(
                issuer,
                dpop_algs,
                "use_dpop_nonce",
                dpop::RS_NONCE_REQUIRED_DESCRIPTION,
            ),
            GuardError::InsufficientScope {
                scheme: s,
                scope,
                resource,
            } => challenge::insufficient_scope(issuer, scheme(s), scope, resource),
        }
    }

    /// Whether the response must carry a fresh `DPoP-Nonce` header.
    pub fn needs_dpop_nonce(&self) -> bool {
        matches!(self, GuardError::UseDpopNonce)
    }
}

fn invalid(scheme: TokenScheme, e: impl ToString) -> GuardError {
    GuardError::InvalidToken {
        scheme,
        reason: e.to_string(),
    }
}

/// Authenticates a resource request from its parsed credentials.
pub fn authenticate(
    cfg: &GuardConfig<'_>,
    credentials: Credentials<'_>,
    req: &ResourceRequest<'_>,
) -> Result<Authenticated, GuardError> {
    let (token, scheme) = match credentials {
        Credentials::Missing | Credentials::Other { .. } => return Err(GuardError::NoCredentials),
        Credentials::Bearer(t) => (t, TokenScheme::Bearer),
        Credentials::Dpop(t) => (t, TokenScheme::Dpop),
    };
    let claims = jwt::verify_access_token(
        token,
        cfg.keys,
        &VerifyOptions {
            issuer: cfg.issuer,
            audience: cfg.audience,
            now: req.now,
            leeway_secs: cfg.leeway_secs,
        },
    )
    .map_err(|e: TokenError| invalid(scheme, e))?;

    match (scheme, claims.jkt()) {
        (TokenScheme::Bearer, None) => Ok(Authenticated {
            claims,
            scheme,
            proof: None,
        }),
        (TokenScheme::Bearer, Some(_)) => Err(invalid(
            TokenScheme::Dpop,
            "a DPoP-bound token was presented as a bearer token",
        )),
        (TokenScheme::Dpop, None) => Err(invalid(TokenScheme::Dpop, "the token is not DPoP-bound")),
        (TokenScheme::Dpop, Some(jkt)) => {
            let [proof] = req.dpop else {
                return Err(GuardError::InvalidDpopProof(DpopError::Malformed));
            };
            let check = ProofCheck {
                method: req.method,
                url: req.url,
                now: req.now,
                iat_window_secs: cfg.dpop_iat_window_secs,
                nonce: cfg.dpop_nonce,
                access_token: Some(token),
                algs: cfg.dpop_algs,
            };
            let verified = dpop::verify_proof(proof, &check).map_err(|e| match e {
                DpopError::UseNonce => GuardError::UseDpopNonce,
                other => GuardError::InvalidDpopProof(other),
            })?;
            if verified.jkt != jkt {
                return Err(invalid(
                    TokenScheme::Dpop,
                    "the DPoP proof key does not match the token binding",
                ));
            }
            Ok(Authenticated {
                claims,
                scheme,
                proof: Some(verified),
            })
        }
    }
}

/// The 403 for a token lacking `scope` on the resource at `path` (answer in the same scheme).
pub fn insufficient_scope(auth: &Authenticated, scope: &str, path: &str) -> GuardError {
    GuardError::InsufficientScope {
        scheme: auth.scheme,
        scope: scope.to_owned(),
        resource: path.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::jwt::{issue_access_token, AccessTokenSpec};
    use crate::keys::{KeyRing, KeyStatus};
    use crate::testkeys::{self, TestKey};
    use serde_json::json;

    const ISS: &str = "https://acme.okta.com";
    const URL: &str = "https://acme.okta.com/api/v1/users";
    const NOW: i64 = 1_700_000_000;

    fn ring() -> KeyRing {
        let mut a = testkeys::server_key(0).clone();
        a.status = KeyStatus::Active;
        KeyRing::from_keys(vec![a]).unwrap()
    }

    fn token(ring: &KeyRing, jkt: Option<&str>) -> String {
        let scp = vec!["okta.users.read".to_string()];
        issue_access_token(
            ring.active(),
            &AccessTokenSpec {
                issuer: ISS,
                audience: ISS,
                client_id: "0oa1",
                user_id: None,
                subject: "0oa1",
                scopes: &scp,
                auth_time: None,
                jkt,
                issued_at: NOW,
                lifetime_secs: 3600,
            },
        )
        .unwrap()
        .token
    }

    fn proof(key: &TestKey, at: &str, method: &str, url: &str) -> String {
        key.jws(
            &json!({"typ": "dpop+jwt", "alg": key.alg.as_str(), "jwk": key.public}),
            &json!({"jti": crate::secrets::random_token(12), "htm": method, "htu": url,
                    "iat": NOW, "ath": dpop::ath(at)}),
        )
    }

    fn req<'a>(dpop: &'a [&'a str]) -> ResourceRequest<'a> {
        ResourceRequest {
            dpop,
            method: "GET",
            url: URL,
            now: NOW,
        }
    }

    #[test]
    fn parses_authorization_headers() {
        assert_eq!(parse_authorization(None).unwrap(), Credentials::Missing);
        assert_eq!(
            parse_authorization(Some("Bearer abc.def-_~+/==")).unwrap(),
            Credentials::Bearer("abc.def-_~+/==")
        );
        assert_eq!(
            parse_authorization(Some("bearer   abc")).unwrap(),
            Credentials::Bearer("abc")
        );
        assert_eq!(
            parse_authorization(Some("DPOP abc")).unwrap(),
            Credentials::Dpop("abc")
        );
        assert_eq!(
            parse_authorization(Some("SSWS 00abc")).unwrap(),
            Credentials::Other {
                scheme: "SSWS",
                credentials: "00abc"
            }
        );
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer ===",
        ] {
            let e = parse_authorization(Some(bad)).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
        }
    }

    #[test]
    fn bearer_flow() {
        let ring = ring();
        let keys = ring.verification_keys();
        let cfg = GuardConfig::new(ISS, ISS, &keys);
        let at = token(&ring, None);
        let header = format!("Bearer {at}");
        let creds = parse_authorization(Some(&header)).unwrap();
        let auth = authenticate(&cfg, creds, &req(&[])).unwrap();
        assert_eq!(auth.scheme(), TokenScheme::Bearer);
        assert_eq!(TokenScheme::of(&auth.claims), TokenScheme::Bearer);
        assert!(auth.claims.has_scope("okta.users.read"));

        let e = insufficient_scope(&auth, "okta.users.manage", "/api/v1/users");
        assert_eq!(e.status(), 403);
        assert_eq!(
            e.www_authenticate(ISS, &JwsAlg::ALL),
            challenge::insufficient_scope(
                ISS,
                Scheme::Bearer,
                "okta.users.manage",
                "/api/v1/users"
            )
        );
    }

    #[test]
    fn missing_and_invalid() {
        let ring = ring();
        let keys = ring.verification_keys();
        let cfg = GuardConfig::new(ISS, ISS, &keys);
        let e = authenticate(&cfg, Credentials::Missing, &req(&[])).unwrap_err();
        assert_eq!(e, GuardError::NoCredentials);
        assert_eq!(e.status(), 401);
        assert_eq!(
            e.www_authenticate(ISS, &[]),
            r#"Bearer realm="https://acme.okta.com""#
        );

        // Another scheme is no credentials for this guard: the same bare challenge.
        let basic = parse_authorization(Some("Basic Zm9v")).unwrap();
        let e = authenticate(&cfg, basic, &req(&[])).unwrap_err();
        assert_eq!(e, GuardError::NoCredentials);
        assert_eq!(parse_authorization(Some("")).unwrap(), Credentials::Missing);

        let e = authenticate(&cfg, Credentials::Bearer("abc.def.ghi"), &req(&[])).unwrap_err();
        assert_eq!(e.status(), 401);
        assert_eq!(
            e.www_authenticate(ISS, &[]),
            challenge::invalid_token(ISS, Scheme::Bearer)
        );
        let mut late = req(&[]);
        late.now = NOW + 4000;
        let at = token(&ring, None);
        assert!(matches!(
            authenticate(&cfg, Credentials::Bearer(&at), &late),
            Err(GuardError::InvalidToken { .. })
        ));
    }

    #[test]
    fn dpop_flow() {
        let ring = ring();
        let keys = ring.verification_keys();
        let cfg = GuardConfig::new(ISS, ISS, &keys);
        let key = testkeys::es256();
        let jkt = key.jwk(None).thumbprint();
        let at = token(&ring, Some(&jkt));
        let p = proof(&key, &at, "GET", URL);

        let auth = authenticate(&cfg, Credentials::Dpop(&at), &req(&[&p])).unwrap();
        assert_eq!(auth.scheme, TokenScheme::Dpop);
        assert_eq!(TokenScheme::of(&auth.claims), TokenScheme::Dpop);
        assert_eq!(auth.proof.as_ref().unwrap().jkt, jkt);

        // Bound token with the Bearer scheme.
        let e = authenticate(&cfg, Credentials::Bearer(&at), &req(&[])).unwrap_err();
        assert!(matches!(
            e,
            GuardError::InvalidToken {
                scheme: TokenScheme::Dpop,
                ..
            }
        ));
        assert!(e
            .www_authenticate(ISS, &[JwsAlg::ES256])
            .starts_with("DPoP algs=\"ES256\", "));

        // No proof, two proofs.
        for proofs in [&[][..], &[p.as_str(), p.as_str()][..]] {
            let e = authenticate(&cfg, Credentials::Dpop(&at), &req(proofs)).unwrap_err();
            assert_eq!(e, GuardError::InvalidDpopProof(DpopError::Malformed));
        }

        // Proof by another key.
        let other = testkeys::es256();
        let p2 = proof(&other, &at, "GET", URL);
        let e = authenticate(&cfg, Credentials::Dpop(&at), &req(&[&p2])).unwrap_err();
        assert!(matches!(e, GuardError::InvalidToken { .. }));

        // Proof for another URL / method.
        let p3 = proof(&key, &at, "GET", "https://acme.okta.com/api/v1/groups");
        let e = authenticate(&cfg, Credentials::Dpop(&at), &req(&[&p3])).unwrap_err();
        assert_eq!(e, GuardError::InvalidDpopProof(DpopError::UrlMismatch));
        assert_eq!(
            e.www_authenticate(ISS, &[JwsAlg::ES256]),
            challenge::dpop_error(
                ISS,
                &[JwsAlg::ES256],
                "invalid_dpop_proof",
                "The DPoP proof 'htu' does not match the request URL."
            )
        );

        // Proof whose ath is for another token.
        let p4 = proof(&key, "other-token", "GET", URL);
        let e = authenticate(&cfg, Credentials::Dpop(&at), &req(&[&p4])).unwrap_err();
        assert_eq!(e, GuardError::InvalidDpopProof(DpopError::AthMismatch));

        // Unbound token with the DPoP scheme.
        let plain = token(&ring, None);
        let p5 = proof(&key, &plain, "GET", URL);
        assert!(matches!(
            authenticate(&cfg, Credentials::Dpop(&plain), &req(&[&p5])),
            Err(GuardError::InvalidToken { .. })
        ));

        // Nonce required at the RS.
        let nonces = ["n1"];
        let mut cfg2 = cfg;
        cfg2.dpop_nonce = NoncePolicy::OneOf(&nonces);
        let e = authenticate(&cfg2, Credentials::Dpop(&at), &req(&[&p])).unwrap_err();
        assert_eq!(e, GuardError::UseDpopNonce);
        assert!(e.needs_dpop_nonce());
        assert!(e
            .www_authenticate(ISS, &[JwsAlg::ES256])
            .contains(r#"error="use_dpop_nonce""#));
    }
}
