//! Identifiers in Okta's formats: 20 characters, a three-character type prefix followed by 17
//! random alphanumerics (`00u…` users, `00g…` groups, `0oa…` apps). Okta's SDKs and specs validate
//! these shapes, so every id Steward mints follows them.

use rand::{distributions::Alphanumeric, Rng};

/// The kinds of object that carry an Okta-style id, each with its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    User,
    Group,
    App,
    RoleAssignment,
    ApiToken,
    Grant,
    LogEvent,
    ErrorId,
    Client,
    Key,
    /// An app's client secret.
    ClientSecret,
    /// A public key in an app's JWK Set.
    ClientJwk,
    /// The org itself (ORNs name it).
    Org,
}

impl IdKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            IdKind::User => "00u",
            IdKind::Group => "00g",
            IdKind::App => "0oa",
            IdKind::RoleAssignment => "ra1",
            IdKind::ApiToken => "00T",
            IdKind::Grant => "oag",
            IdKind::LogEvent => "evt",
            IdKind::ErrorId => "oae",
            IdKind::Client => "0oa",
            IdKind::Key => "key",
            IdKind::ClientSecret => "ocs",
            IdKind::ClientJwk => "pks",
            IdKind::Org => "00o",
        }
    }
}

/// Total length of an Okta id.
pub const ID_LEN: usize = 20;

/// Mints a fresh id of the given kind.
pub fn new_id(kind: IdKind) -> String {
    let prefix = kind.prefix();
    let rest: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(ID_LEN - prefix.len())
        .map(char::from)
        .collect();
    format!("{prefix}{rest}")
}

/// Whether `s` has the shape of an id of `kind` (used to tell ids from logins in paths).
pub fn looks_like(kind: IdKind, s: &str) -> bool {
    s.len() == ID_LEN
        && s.starts_with(kind.prefix())
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A random URL-safe secret of `len` characters (client secrets, API tokens, codes).
pub fn random_secret(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_okta_shape() {
        for kind in [IdKind::User, IdKind::Group, IdKind::App] {
            let id = new_id(kind);
            assert_eq!(id.len(), 20);
            assert!(looks_like(kind, &id), "{id}");
        }
        assert!(!looks_like(IdKind::User, "00g0123456789abcdefg"));
        assert!(!looks_like(IdKind::User, "jane@example.com"));
        assert_ne!(new_id(IdKind::User), new_id(IdKind::User));
    }
}
