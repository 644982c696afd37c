//! The scope decision of the org authorization server (oauth.md §1.6, §1.8, §1.9, §7 item 4):
//! requested scopes against the Okta scope catalogue and the app's ACTIVE grants.
//!
//! * A scope is granted iff it is an OIDC scope, or an Okta API scope in the app's grants. Any
//!   other scope fails the **whole** request with `invalid_scope` — no silent downscoping, and no
//!   downscoping by the user's admin role either (the resource server enforces roles later).
//! * Non-Okta custom scopes: `Custom scopes are not allowed for this request`; unknown `okta.*`
//!   names: `One or more scopes are not configured for the authorization server resource.`
//! * Client credentials: `scope` is mandatory (the org AS has no default scopes) and OIDC scopes
//!   are refused.
//! * Refresh: the request may narrow the original grant's scopes, never widen them (the client
//!   must authorize again); Okta scopes whose grant was revoked since are refused as ungranted.
//!
//! The catalogue is supplied by the caller (`is_okta_scope`), or taken from
//! `steward_core::scopes` by [`decide_with_catalogue`].

/// OIDC scopes the org AS supports (not subject to app grants).
pub const OIDC_SCOPES: [&str; 7] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
    "groups",
];
/// Okta's limit on the `scope` parameter.
pub const MAX_SCOPE_PARAM_LEN: usize = 1024;

/// Okta: `client_credentials` (or any request) without `scope`.
pub const NO_DEFAULT_SCOPES_DESCRIPTION: &str = "The authorization server resource does not have any configured default scopes, 'scope' must be provided.";
/// Okta: a custom (non-Okta, non-OIDC) scope on the org AS.
pub const CUSTOM_SCOPES_DESCRIPTION: &str = "Custom scopes are not allowed for this request";
/// Okta: a scope the authorization server does not know.
pub const NOT_CONFIGURED_DESCRIPTION: &str =
    "One or more scopes are not configured for the authorization server resource.";
/// RFC 6749 wording Okta uses for an invalid scope; also used for malformed and for ungranted
/// Okta scopes (Okta's exact text for the latter is undocumented — swap here if needed).
pub const INVALID_SCOPE_DESCRIPTION: &str =
    "The requested scope is invalid, unknown, or malformed.";
/// For ungranted Okta API scopes (see [`INVALID_SCOPE_DESCRIPTION`]).
pub const UNGRANTED_SCOPE_DESCRIPTION: &str = INVALID_SCOPE_DESCRIPTION;
/// A refresh request asking for more than the original grant.
pub const EXCEEDS_ORIGINAL_DESCRIPTION: &str = "The requested scopes exceed the scopes granted to the refresh token. The client must authorize again to obtain them.";
/// Okta: `scope` parameter longer than 1024 characters.
pub const TOO_LONG_DESCRIPTION: &str = "The 'scope' parameter must not exceed 1024 characters.";

/// Whether `scope` is one of [`OIDC_SCOPES`].
pub fn is_oidc_scope(scope: &str) -> bool {
    OIDC_SCOPES.contains(&scope)
}

/// The grant the scopes are requested for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant<'a> {
    /// A user-delegated grant: authorization code (+PKCE), implicit, password.
    User,
    /// Client credentials (service apps).
    ClientCredentials,
    /// Refresh token; `original` is the scope list of the grant the refresh token belongs to.
    Refresh { original: &'a [String] },
}

/// An `invalid_scope` outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("{}", NO_DEFAULT_SCOPES_DESCRIPTION)]
    Missing,
    #[error("{}", TOO_LONG_DESCRIPTION)]
    TooLong,
    #[error("{}", INVALID_SCOPE_DESCRIPTION)]
    Malformed,
    /// Non-Okta, non-OIDC scopes.
    #[error("{}", CUSTOM_SCOPES_DESCRIPTION)]
    Custom(Vec<String>),
    /// `okta.*` names missing from the catalogue.
    #[error("{}", NOT_CONFIGURED_DESCRIPTION)]
    NotConfigured(Vec<String>),
    /// OIDC scopes with client credentials.
    #[error("Cannot request '{}' scopes using client credentials", .0.first().map(String::as_str).unwrap_or("openid"))]
    OidcNotAllowed(Vec<String>),
    /// Okta API scopes not in the app's ACTIVE grants.
    #[error("{}", UNGRANTED_SCOPE_DESCRIPTION)]
    NotGranted(Vec<String>),
    /// Refresh asking for scopes outside the original grant.
    #[error("{}", EXCEEDS_ORIGINAL_DESCRIPTION)]
    ExceedsOriginal(Vec<String>),
}

impl ScopeError {
    /// Always `invalid_scope`.
    pub fn error(&self) -> &'static str {
        "invalid_scope"
    }

    /// The `error_description`.
    pub fn description(&self) -> String {
        self.to_string()
    }

    /// The offending scopes, where the error is about particular ones.
    pub fn scopes(&self) -> &[String] {
        match self {
            ScopeError::Custom(s)
            | ScopeError::NotConfigured(s)
            | ScopeError::OidcNotAllowed(s)
            | ScopeError::NotGranted(s)
            | ScopeError::ExceedsOriginal(s) => s,
            _ => &[],
        }
    }
}

/// RFC 6749 `scope-token = 1*NQCHAR` (`%x21 / %x23-5B / %x5D-7E`).
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// Splits a `scope` parameter on spaces, checks each token's syntax, drops duplicates (keeping
/// first occurrences in order). An empty or all-space parameter yields an empty list.
pub fn parse_scope_param(scope: &str) -> Result<Vec<&str>, ScopeError> {
    if scope.len() > MAX_SCOPE_PARAM_LEN {
        return Err(ScopeError::TooLong);
    }
    let mut out: Vec<&str> = Vec::new();
    for token in scope.split(' ').filter(|t| !t.is_empty()) {
        if !is_scope_token(token) {
            return Err(ScopeError::Malformed);
        }
        if !out.contains(&token) {
            out.push(token);
        }
    }
    Ok(out)
}

/// Decides the scopes of a new token. `requested` is the raw `scope` parameter (`None` if
/// absent), `granted` the app's ACTIVE Okta-scope grants, `is_okta_scope` the catalogue.
/// Returns the scopes to put into the token, in request order.
pub fn decide<S: AsRef<str>>(
    requested: Option<&str>,
    grant: Grant<'_>,
    granted: &[S],
    is_okta_scope: impl Fn(&str) -> bool,
) -> Result<Vec<String>, ScopeError> {
    let parsed = parse_scope_param(requested.unwrap_or_default())?;
    let wanted: Vec<&str> = match (parsed.is_empty(), grant) {
        (true, Grant::Refresh { original }) => original.iter().map(String::as_str).collect(),
        (true, _) => return Err(ScopeError::Missing),
        (false, _) => parsed,
    };

    if let Grant::Refresh { original } = grant {
        let extra = collect(&wanted, |s| !original.iter().any(|o| o == s));
        if !extra.is_empty() {
            return Err(ScopeError::ExceedsOriginal(extra));
        }
    }

    let okta_or_oidc = |s: &str| is_oidc_scope(s) || is_okta_scope(s);
    let custom = collect(&wanted, |s| !okta_or_oidc(s) && !s.starts_with("okta."));
    if !custom.is_empty() {
        return Err(ScopeError::Custom(custom));
    }
    let unknown = collect(&wanted, |s| !okta_or_oidc(s));
    if !unknown.is_empty() {
        return Err(ScopeError::NotConfigured(unknown));
    }
    if grant == Grant::ClientCredentials {
        let oidc = collect(&wanted, is_oidc_scope);
        if !oidc.is_empty() {
            return Err(ScopeError::OidcNotAllowed(oidc));
        }
    }
    let ungranted = collect(&wanted, |s| {
        !is_oidc_scope(s) && !granted.iter().any(|g| g.as_ref() == s)
    });
    if !ungranted.is_empty() {
        return Err(ScopeError::NotGranted(ungranted));
    }
    Ok(wanted.into_iter().map(str::to_owned).collect())
}

fn collect(scopes: &[&str], pred: impl Fn(&str) -> bool) -> Vec<String> {
    scopes
        .iter()
        .filter(|s| pred(s))
        .map(|s| (*s).to_owned())
        .collect()
}

/// [`decide`] with Steward's generated catalogue (`steward_core::scopes::is_okta_scope`).
pub fn decide_with_catalogue<S: AsRef<str>>(
    requested: Option<&str>,
    grant: Grant<'_>,
    granted: &[S],
) -> Result<Vec<String>, ScopeError> {
    decide(
        requested,
        grant,
        granted,
        steward_core::scopes::is_okta_scope,
    )
}

/// Whether a refresh token is issued: `offline_access` was granted and the flow went through
/// the token endpoint with a code (or refresh / password) — Okta ignores `offline_access` on
/// implicit responses and client credentials.
pub fn issues_refresh_token<S: AsRef<str>>(scopes: &[S], code_or_refresh_flow: bool) -> bool {
    code_or_refresh_flow && scopes.iter().any(|s| s.as_ref() == "offline_access")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn catalogue(s: &str) -> bool {
        matches!(
            s,
            "okta.users.read" | "okta.users.manage" | "okta.groups.read" | "okta.apps.read"
        )
    }

    const GRANTED: [&str; 2] = ["okta.users.read", "okta.groups.read"];

    fn run(req: Option<&str>, grant: Grant<'_>) -> Result<Vec<String>, ScopeError> {
        decide(req, grant, &GRANTED, catalogue)
    }

    #[test]
    fn granted_scopes_pass_in_request_order() {
        assert_eq!(
            run(
                Some("okta.groups.read okta.users.read"),
                Grant::ClientCredentials
            )
            .unwrap(),
            ["okta.groups.read", "okta.users.read"]
        );
        assert_eq!(
            run(
                Some("openid profile okta.users.read offline_access okta.users.read"),
                Grant::User
            )
            .unwrap(),
            ["openid", "profile", "okta.users.read", "offline_access"]
        );
        // Extra spaces are tolerated.
        assert_eq!(
            run(Some("  okta.users.read   "), Grant::User).unwrap(),
            ["okta.users.read"]
        );
    }

    #[test]
    fn missing_scope() {
        for req in [None, Some(""), Some("   ")] {
            let e = run(req, Grant::ClientCredentials).unwrap_err();
            assert_eq!(e, ScopeError::Missing);
            assert_eq!(e.error(), "invalid_scope");
            assert_eq!(
                e.description(),
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided."
            );
        }
    }

    #[test]
    fn ungranted_fails_the_whole_request() {
        let e = run(
            Some("okta.users.read okta.users.manage"),
            Grant::ClientCredentials,
        )
        .unwrap_err();
        assert_eq!(e, ScopeError::NotGranted(vec!["okta.users.manage".into()]));
        assert_eq!(
            e.description(),
            "The requested scope is invalid, unknown, or malformed."
        );
        assert_eq!(e.scopes(), ["okta.users.manage"]);
        // Same for user flows: no downscoping.
        assert!(matches!(
            run(Some("openid okta.apps.read"), Grant::User),
            Err(ScopeError::NotGranted(_))
        ));
    }

    #[test]
    fn custom_and_unknown_scopes() {
        let e = run(Some("okta.users.read api:read"), Grant::User).unwrap_err();
        assert_eq!(e, ScopeError::Custom(vec!["api:read".into()]));
        assert_eq!(
            e.description(),
            "Custom scopes are not allowed for this request"
        );
        let e = run(Some("okta.users.read okta.unicorns.manage"), Grant::User).unwrap_err();
        assert_eq!(
            e,
            ScopeError::NotConfigured(vec!["okta.unicorns.manage".into()])
        );
        assert_eq!(
            e.description(),
            "One or more scopes are not configured for the authorization server resource."
        );
        // Scope names are case-sensitive.
        assert!(matches!(
            run(Some("OKTA.users.read"), Grant::User),
            Err(ScopeError::Custom(_))
        ));
    }

    #[test]
    fn oidc_scopes_refused_for_client_credentials() {
        let e = run(Some("openid okta.users.read"), Grant::ClientCredentials).unwrap_err();
        assert_eq!(e, ScopeError::OidcNotAllowed(vec!["openid".into()]));
        assert_eq!(
            e.description(),
            "Cannot request 'openid' scopes using client credentials"
        );
        assert!(matches!(
            run(
                Some("offline_access okta.users.read"),
                Grant::ClientCredentials
            ),
            Err(ScopeError::OidcNotAllowed(_))
        ));
    }

    #[test]
    fn malformed_and_too_long() {
        assert_eq!(
            run(Some("okta.users.read \"x\""), Grant::User).unwrap_err(),
            ScopeError::Malformed
        );
        assert_eq!(
            run(Some("okta.users.read\tokta.groups.read"), Grant::User).unwrap_err(),
            ScopeError::Malformed
        );
        assert_eq!(
            run(Some("okta.users.r\u{e9}ad"), Grant::User).unwrap_err(),
            ScopeError::Malformed
        );
        let long = "okta.users.read ".repeat(70);
        assert!(long.len() > 1024);
        assert_eq!(
            run(Some(&long), Grant::User).unwrap_err(),
            ScopeError::TooLong
        );
    }

    #[test]
    fn refresh_narrows_never_widens() {
        let original: Vec<String> = vec![
            "openid".into(),
            "offline_access".into(),
            "okta.users.read".into(),
            "okta.groups.read".into(),
        ];
        let grant = Grant::Refresh {
            original: &original,
        };
        // No scope: the original scopes.
        assert_eq!(run(None, grant).unwrap(), original);
        // Narrowing.
        assert_eq!(
            run(Some("okta.users.read"), grant).unwrap(),
            ["okta.users.read"]
        );
        // Widening, even to a scope the app has been granted since.
        let e = run(Some("okta.users.read okta.apps.read"), grant).unwrap_err();
        assert_eq!(
            e,
            ScopeError::ExceedsOriginal(vec!["okta.apps.read".into()])
        );
        assert!(e.description().contains("authorize again"));
        // A grant revoked since the original authorization.
        let e = decide(None, grant, &["okta.users.read"], catalogue).unwrap_err();
        assert_eq!(e, ScopeError::NotGranted(vec!["okta.groups.read".into()]));
    }

    #[test]
    fn refresh_token_issuance() {
        assert!(issues_refresh_token(&["openid", "offline_access"], true));
        assert!(!issues_refresh_token(&["openid", "offline_access"], false));
        assert!(!issues_refresh_token(&["openid"], true));
    }

    #[test]
    fn uses_the_steward_catalogue() {
        assert_eq!(
            decide_with_catalogue(
                Some("okta.users.read"),
                Grant::ClientCredentials,
                &["okta.users.read"]
            )
            .unwrap(),
            ["okta.users.read"]
        );
        assert!(matches!(
            decide_with_catalogue(Some("okta.nope.read"), Grant::ClientCredentials, &GRANTED),
            Err(ScopeError::NotConfigured(_))
        ));
    }
}
