//! `WWW-Authenticate` challenges in Okta's shape (RFC 6750 §3 plus Okta's `authorization_uri`
//! and `resource` parameters, RFC 9728's `resource_metadata`, RFC 9449's `DPoP` scheme).
//!
//! Parameter values are always quoted strings. RFC 6750 restricts them to printable ASCII without
//! `"` and `\`, so instead of escaping, any other character is dropped from a value.
//!
//! Shapes (issuer `https://acme.okta.com`):
//!
//! * no credentials, or none this resource takes (another scheme, a refused `SSWS` API token)
//!   (401): `Bearer realm="https://acme.okta.com"`
//! * invalid token (401): `Bearer authorization_uri="https://acme.okta.com/oauth2/v1/authorize",
//!   realm="https://acme.okta.com", error="invalid_token", error_description="The access token is
//!   invalid"`
//! * insufficient scope (403): `Bearer authorization_uri="…", realm="…", scope="okta.users.read",
//!   error="insufficient_scope", error_description="The access token provided does not contain
//!   the required scopes.", resource="/api/v1/users",
//!   resource_metadata="https://acme.okta.com/.well-known/oauth-protected-resource"`
//! * DPoP-bound token: the same parameters under `DPoP algs="…", …`.

use crate::jwk::{alg_names, JwsAlg};

/// `error_description` for `invalid_token` (Okta's text, no trailing period).
pub const INVALID_TOKEN_DESCRIPTION: &str = "The access token is invalid";
/// `error_description` for `insufficient_scope` (Okta's text).
pub const INSUFFICIENT_SCOPE_DESCRIPTION: &str =
    "The access token provided does not contain the required scopes.";
/// `error_description` Okta's `/userinfo` gives a token without any profile-type scope.
pub const USERINFO_SCOPE_DESCRIPTION: &str =
    "The access token must provide access to at least one of these scopes - profile, email, address or phone";

/// `{issuer}/oauth2/v1/authorize`.
pub fn authorize_url(issuer: &str) -> String {
    format!("{issuer}/oauth2/v1/authorize")
}

/// `{issuer}/.well-known/oauth-protected-resource` (RFC 9728; the org URL has no path).
pub fn resource_metadata_url(issuer: &str) -> String {
    format!("{issuer}/.well-known/oauth-protected-resource")
}

/// The scheme the client used (and the challenge answers with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme<'a> {
    Bearer,
    /// `DPoP`, advertising the accepted proof algorithms.
    Dpop {
        algs: &'a [JwsAlg],
    },
}

/// Keeps the characters RFC 6750 allows in quoted values: `%x20-21 / %x23-5B / %x5D-7E`.
fn clean(value: &str) -> String {
    value
        .chars()
        .filter(|c| matches!(*c, ' '..='~') && *c != '"' && *c != '\\')
        .collect()
}

/// Builds a challenge: the scheme, then `name="value"` pairs separated by `", "`.
#[derive(Debug, Clone)]
pub struct Challenge {
    scheme: &'static str,
    params: Vec<(&'static str, String)>,
}

impl Challenge {
    pub fn new(scheme: Scheme<'_>) -> Self {
        match scheme {
            Scheme::Bearer => Challenge {
                scheme: "Bearer",
                params: Vec::new(),
            },
            Scheme::Dpop { algs } => Challenge {
                scheme: "DPoP",
                params: vec![("algs", alg_names(algs))],
            },
        }
    }

    pub fn param(mut self, name: &'static str, value: &str) -> Self {
        self.params.push((name, clean(value)));
        self
    }
}

impl std::fmt::Display for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.scheme)?;
        for (i, (name, value)) in self.params.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{name}=\"{value}\"")?;
        }
        Ok(())
    }
}

/// 401 without usable credentials: `Bearer realm="{issuer}"`. Also the answer to another
/// scheme (RFC 9110 §11.6.1: every 401 says how to authenticate), where `error="invalid_token"`
/// would wrongly call the credential an access token.
pub fn no_credentials(issuer: &str) -> String {
    Challenge::new(Scheme::Bearer)
        .param("realm", issuer)
        .to_string()
}

/// 401 without credentials where DPoP is also accepted: `Bearer realm="{issuer}", DPoP
/// algs="…"` (two challenges in one header value).
pub fn no_credentials_with_dpop(issuer: &str, algs: &[JwsAlg]) -> String {
    format!(
        "{}, {}",
        no_credentials(issuer),
        Challenge::new(Scheme::Dpop { algs })
    )
}

/// The Okta prefix `authorization_uri="…", realm="…"`.
fn okta(issuer: &str, scheme: Scheme<'_>) -> Challenge {
    Challenge::new(scheme)
        .param("authorization_uri", &authorize_url(issuer))
        .param("realm", issuer)
}

/// 401 for an expired, revoked, malformed or otherwise invalid token.
pub fn invalid_token(issuer: &str, scheme: Scheme<'_>) -> String {
    okta(issuer, scheme)
        .param("error", "invalid_token")
        .param("error_description", INVALID_TOKEN_DESCRIPTION)
        .to_string()
}

/// 400 for a malformed request (bad `Authorization` syntax, token sent twice, …).
pub fn invalid_request(issuer: &str, scheme: Scheme<'_>, description: &str) -> String {
    okta(issuer, scheme)
        .param("error", "invalid_request")
        .param("error_description", description)
        .to_string()
}

/// 403 when the token lacks `scope` (space-separated if several) for the resource at `path`.
pub fn insufficient_scope(issuer: &str, scheme: Scheme<'_>, scope: &str, path: &str) -> String {
    insufficient_scope_with(issuer, scheme, scope, path, INSUFFICIENT_SCOPE_DESCRIPTION)
}

/// [`insufficient_scope`] with another description (e.g. [`USERINFO_SCOPE_DESCRIPTION`]).
pub fn insufficient_scope_with(
    issuer: &str,
    scheme: Scheme<'_>,
    scope: &str,
    path: &str,
    description: &str,
) -> String {
    okta(issuer, scheme)
        .param("scope", scope)
        .param("error", "insufficient_scope")
        .param("error_description", description)
        .param("resource", path)
        .param("resource_metadata", &resource_metadata_url(issuer))
        .to_string()
}

/// 401 for a DPoP problem at a resource server: `error` is `invalid_dpop_proof` or
/// `use_dpop_nonce` (send a `DPoP-Nonce` header with the latter).
pub fn dpop_error(issuer: &str, algs: &[JwsAlg], error: &str, description: &str) -> String {
    okta(issuer, Scheme::Dpop { algs })
        .param("error", error)
        .param("error_description", description)
        .to_string()
}

/// A challenge as a client reads it: the scheme and its parameters (names in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedChallenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl ParsedChallenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `error="insufficient_scope"`.
    pub fn is_insufficient_scope(&self) -> bool {
        self.param("error") == Some("insufficient_scope")
    }
}

/// Parses a `WWW-Authenticate` value (RFC 9110 §11.6.1, RFC 6750 §3): the first challenge and
/// its `name=value` / `name="quoted value"` parameters, as Okta and Steward send them. `None`
/// when it has no scheme.
pub fn parse(header: &str) -> Option<ParsedChallenge> {
    let header = header.trim();
    let (scheme, rest) = match header.find(char::is_whitespace) {
        Some(i) => (&header[..i], &header[i..]),
        None => (header, ""),
    };
    if scheme.is_empty() || scheme.contains('=') {
        return None;
    }
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            // A second challenge's scheme (or a token68): the first challenge ends here.
            break;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => break,
                    other => value.push(other),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.push((name.to_ascii_lowercase(), value));
    }
    Some(ParsedChallenge {
        scheme: scheme.to_string(),
        params,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const ISS: &str = "https://acme.okta.com";

    #[test]
    fn no_credentials_is_bare_realm() {
        assert_eq!(
            no_credentials(ISS),
            r#"Bearer realm="https://acme.okta.com""#
        );
        assert_eq!(
            no_credentials_with_dpop(ISS, &[JwsAlg::ES256, JwsAlg::RS256]),
            r#"Bearer realm="https://acme.okta.com", DPoP algs="ES256 RS256""#
        );
    }

    #[test]
    fn invalid_token_matches_okta() {
        assert_eq!(
            invalid_token(ISS, Scheme::Bearer),
            r#"Bearer authorization_uri="https://acme.okta.com/oauth2/v1/authorize", realm="https://acme.okta.com", error="invalid_token", error_description="The access token is invalid""#
        );
        assert_eq!(
            invalid_token(
                ISS,
                Scheme::Dpop {
                    algs: &[JwsAlg::ES256, JwsAlg::RS256]
                }
            ),
            r#"DPoP algs="ES256 RS256", authorization_uri="https://acme.okta.com/oauth2/v1/authorize", realm="https://acme.okta.com", error="invalid_token", error_description="The access token is invalid""#
        );
    }

    #[test]
    fn insufficient_scope_matches_okta_plus_rfc9728() {
        assert_eq!(
            insufficient_scope(ISS, Scheme::Bearer, "okta.groups.read", "/api/v1/groups"),
            concat!(
                r#"Bearer authorization_uri="https://acme.okta.com/oauth2/v1/authorize", "#,
                r#"realm="https://acme.okta.com", scope="okta.groups.read", "#,
                r#"error="insufficient_scope", "#,
                r#"error_description="The access token provided does not contain the required scopes.", "#,
                r#"resource="/api/v1/groups", "#,
                r#"resource_metadata="https://acme.okta.com/.well-known/oauth-protected-resource""#
            )
        );
        assert_eq!(
            insufficient_scope(
                ISS,
                Scheme::Dpop { algs: &JwsAlg::ALL },
                "openid",
                "/oauth2/v1/userinfo"
            ),
            concat!(
                r#"DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", "#,
                r#"authorization_uri="https://acme.okta.com/oauth2/v1/authorize", "#,
                r#"realm="https://acme.okta.com", scope="openid", "#,
                r#"error="insufficient_scope", "#,
                r#"error_description="The access token provided does not contain the required scopes.", "#,
                r#"resource="/oauth2/v1/userinfo", "#,
                r#"resource_metadata="https://acme.okta.com/.well-known/oauth-protected-resource""#
            )
        );
    }

    #[test]
    fn dpop_and_request_errors() {
        assert_eq!(
            dpop_error(
                ISS,
                &[JwsAlg::ES256],
                "use_dpop_nonce",
                "Resource server requires nonce in DPoP proof"
            ),
            r#"DPoP algs="ES256", authorization_uri="https://acme.okta.com/oauth2/v1/authorize", realm="https://acme.okta.com", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#
        );
        assert_eq!(
            invalid_request(ISS, Scheme::Bearer, "Malformed"),
            r#"Bearer authorization_uri="https://acme.okta.com/oauth2/v1/authorize", realm="https://acme.okta.com", error="invalid_request", error_description="Malformed""#
        );
    }

    #[test]
    fn values_are_sanitised_not_escaped() {
        let c = insufficient_scope(ISS, Scheme::Bearer, "a\"b", "/api/v1/users/\\x\u{e9}\n");
        assert!(c.contains(r#"scope="ab""#));
        assert!(c.contains(r#"resource="/api/v1/users/x""#));
    }

    #[test]
    fn parses_what_okta_and_steward_send() {
        // Steward's own challenge round-trips.
        let built = insufficient_scope(ISS, Scheme::Bearer, "okta.users.read", "/api/v1/users");
        let c = parse(&built).unwrap();
        assert_eq!(c.scheme, "Bearer");
        assert!(c.is_insufficient_scope());
        assert_eq!(c.param("scope"), Some("okta.users.read"));
        assert_eq!(c.param("resource"), Some("/api/v1/users"));
        assert_eq!(
            c.param("error_description"),
            Some(INSUFFICIENT_SCOPE_DESCRIPTION)
        );
        // Okta's, as a support article records it (lower-case header, no resource_metadata).
        let okta = r#"Bearer authorization_uri="https://acme.okta.com/oauth2/v1/authorize", realm="https://acme.okta.com", scope="okta.logs.read", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="/api/v1/logs""#;
        let c = parse(okta).unwrap();
        assert_eq!(c.param("scope"), Some("okta.logs.read"));
        assert_eq!(c.param("REALM"), Some("https://acme.okta.com"));
        // DPoP with unquoted and escaped values; a second challenge is not read into the first.
        let c = parse(r#"DPoP algs="ES256 RS256", error=invalid_token, error_description="a \"b\"" , Bearer realm="x""#).unwrap();
        assert_eq!(c.scheme, "DPoP");
        assert_eq!(c.param("algs"), Some("ES256 RS256"));
        assert_eq!(c.param("error"), Some("invalid_token"));
        assert_eq!(c.param("error_description"), Some("a \"b\""));
        assert_eq!(c.param("realm"), None);
        assert!(!c.is_insufficient_scope());
        // Nothing to read.
        assert_eq!(parse(""), None);
        assert_eq!(parse("error=x"), None);
        assert_eq!(parse("Bearer").unwrap().params, vec![]);
    }
}
