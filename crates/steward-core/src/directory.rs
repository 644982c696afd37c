//! Users and groups: their states, lifecycle transitions and profile rules.

use serde_json::{Map, Value};

use crate::profiles;
use crate::validation::ValidationError;

/// A user of the org as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub status: UserStatus,
    pub created: i64,
    pub activated: Option<i64>,
    pub status_changed: Option<i64>,
    pub last_login: Option<i64>,
    pub last_updated: i64,
    pub password_changed: Option<i64>,
    pub profile: Map<String, Value>,
    /// argon2id PHC string; never leaves the server.
    pub password_hash: Option<String>,
}

impl User {
    fn profile_str(&self, key: &str) -> &str {
        self.profile
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn login(&self) -> &str {
        self.profile_str("login")
    }
    pub fn email(&self) -> &str {
        self.profile_str("email")
    }
    pub fn display_name(&self) -> String {
        format!(
            "{} {}",
            self.profile_str("firstName"),
            self.profile_str("lastName")
        )
        .trim()
        .to_string()
    }
}

/// A group of the org as stored (Okta-mastered groups only).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: String,
    /// `OKTA_GROUP`, or `BUILT_IN` for the Everyone group every user belongs to.
    pub group_type: String,
    pub created: i64,
    pub last_updated: i64,
    pub last_membership_updated: i64,
    /// `name`, `description` and any custom attributes.
    pub profile: Map<String, Value>,
}

pub const GROUP_TYPE_OKTA: &str = "OKTA_GROUP";
pub const GROUP_TYPE_BUILT_IN: &str = "BUILT_IN";
pub const EVERYONE: &str = "Everyone";

impl Group {
    pub fn is_built_in(&self) -> bool {
        self.group_type == GROUP_TYPE_BUILT_IN
    }

    pub fn name(&self) -> &str {
        self.profile
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// Okta's user statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
}

impl UserStatus {
    /// Whether the user's credentials issued before now (SSWS tokens, access and refresh tokens)
    /// still act. A lockout protects the password, not what was issued before it: were
    /// LOCKED_OUT refused, anyone could disable an admin's API tokens by failing their password
    /// five times. Suspended, deactivated and not-yet-activated users do not act.
    pub fn credentials_act(self) -> bool {
        match self {
            UserStatus::Active
            | UserStatus::LockedOut
            | UserStatus::PasswordExpired
            | UserStatus::Recovery => true,
            UserStatus::Staged
            | UserStatus::Provisioned
            | UserStatus::Suspended
            | UserStatus::Deprovisioned => false,
        }
    }

    pub const ALL: [UserStatus; 8] = [
        UserStatus::Staged,
        UserStatus::Provisioned,
        UserStatus::Active,
        UserStatus::Recovery,
        UserStatus::PasswordExpired,
        UserStatus::LockedOut,
        UserStatus::Suspended,
        UserStatus::Deprovisioned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Staged => "STAGED",
            UserStatus::Provisioned => "PROVISIONED",
            UserStatus::Active => "ACTIVE",
            UserStatus::Recovery => "RECOVERY",
            UserStatus::PasswordExpired => "PASSWORD_EXPIRED",
            UserStatus::LockedOut => "LOCKED_OUT",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Deprovisioned => "DEPROVISIONED",
        }
    }

    pub fn parse(s: &str) -> Option<UserStatus> {
        UserStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Statuses in which the user may sign in.
    pub fn can_sign_in(self) -> bool {
        matches!(
            self,
            UserStatus::Active | UserStatus::PasswordExpired | UserStatus::Recovery
        )
    }
}

/// The lifecycle operations of `/api/v1/users/{id}/lifecycle/*` (and DELETE's first step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Activate,
    Deactivate,
    Suspend,
    Unsuspend,
    Unlock,
    /// Restarts the activation of a PROVISIONED user: a new activation link.
    Reactivate,
}

impl Lifecycle {
    /// Whether the operation hands out an activation token (and supersedes older ones).
    pub fn issues_activation_token(self) -> bool {
        matches!(self, Lifecycle::Activate | Lifecycle::Reactivate)
    }
}

/// How long an activation link stays valid: Okta's default, 7 days.
pub const ACTIVATION_TOKEN_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

/// Why a lifecycle operation cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// Okta's `E0000016`: activation of a user who is not STAGED or DEPROVISIONED.
    #[error("Activation failed because the user is already active")]
    AlreadyActive,
    /// Okta's `E0000038`: the operation is not allowed in the user's current status.
    #[error("This operation is not allowed in the user's current status.")]
    NotAllowedInStatus,
    /// Any other refusal, as Okta's `E0000001`.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// The status a lifecycle operation moves a user to, or why it cannot.
/// Activation runs on STAGED and DEPROVISIONED users only (Okta's rule): a user with a password
/// becomes ACTIVE; without one it waits in PROVISIONED until the user sets one through the
/// activation link. Reactivation (a new link) runs on PROVISIONED users only.
pub fn transition(
    from: UserStatus,
    op: Lifecycle,
    has_password: bool,
) -> Result<UserStatus, LifecycleError> {
    use Lifecycle::*;
    use UserStatus::*;
    let refuse = |why: &str| {
        Err(LifecycleError::Invalid(ValidationError::new(
            why.to_string(),
            why.to_string(),
        )))
    };
    match (op, from) {
        (Activate, Staged | Deprovisioned) => Ok(if has_password { Active } else { Provisioned }),
        (Activate, _) => Err(LifecycleError::AlreadyActive),
        (Reactivate, Provisioned) => Ok(Provisioned),
        (Reactivate, _) => Err(LifecycleError::NotAllowedInStatus),
        (Deactivate, Deprovisioned) => refuse("The user is already deactivated"),
        (Deactivate, _) => Ok(Deprovisioned),
        (Suspend, Active) => Ok(Suspended),
        (Suspend, _) => refuse("Cannot suspend a user that is not active"),
        (Unsuspend, Suspended) => Ok(Active),
        (Unsuspend, _) => refuse("Cannot unsuspend a user that is not suspended"),
        (Unlock, LockedOut) => Ok(Active),
        (Unlock, _) => refuse("Cannot unlock a user that is not locked out"),
    }
}

/// The status a user reaches by setting a password through an activation link: only a
/// PROVISIONED user completes activation, and becomes ACTIVE.
pub fn complete_activation(from: UserStatus) -> Option<UserStatus> {
    (from == UserStatus::Provisioned).then_some(UserStatus::Active)
}

/// Why a value holding NUL (U+0000) is refused, after its field name (`"nick: …"`). PostgreSQL
/// cannot store NUL in text or JSON; Steward refuses it on every backend.
pub const NUL_CAUSE: &str = "The field cannot contain the NUL character (U+0000)";

/// Whether `v` (a string, or an array or object of them) holds NUL anywhere, keys included.
pub fn contains_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// One cause per attribute of `profile` whose name or value holds NUL (U+0000), in Okta's
/// `"{field}: {why}"` form. Every profile (user, group, app assignment) is checked with it.
pub fn nul_causes(profile: &Map<String, Value>) -> Vec<String> {
    profile
        .iter()
        .filter(|(k, v)| k.contains('\0') || contains_nul(v))
        .map(|(k, _)| format!("{}: {NUL_CAUSE}", k.replace('\0', "\\u0000")))
        .collect()
}

/// Okta's summary names the first failing field: "Api validation failed: login".
fn summary_of(causes: &[String]) -> String {
    causes
        .first()
        .and_then(|c| c.split(':').next())
        .unwrap_or_default()
        .to_string()
}

/// Checks a user profile: the base attributes' types, lengths and required values
/// ([`profiles::USER_BASE`]: `login`, `email`, `firstName` and `lastName` are required, as in
/// Okta's default user type); login and email must look like email addresses (Okta's default
/// login pattern); custom attributes are scalars or arrays of scalars with valid names; no name
/// or value may hold NUL.
pub fn validate_user_profile(profile: &Map<String, Value>) -> Result<(), ValidationError> {
    let mut causes = profiles::type_and_length_causes(profiles::USER_BASE, profile);
    for field in ["login", "email"] {
        if let Some(Value::String(s)) = profile.get(field) {
            if !s.trim().is_empty() && !looks_like_email(s) {
                causes.push(format!("{field}: Does not match required pattern"));
            }
        }
    }
    for key in profile.keys() {
        if !is_attribute_name(key) {
            causes.push(format!(
                "{}: Property name is not valid",
                key.replace('\0', "\\u0000")
            ));
        }
    }
    causes.extend(nul_causes(profile));
    ValidationError::check(&summary_of(&causes), causes)
}

/// Checks a group profile: `name` (required, at most 255 characters) and `description` (at most
/// 1024) are strings ([`profiles::GROUP_BASE`]); custom attributes are scalars or arrays of
/// scalars; no name or value may hold NUL.
pub fn validate_group_profile(profile: &Map<String, Value>) -> Result<(), ValidationError> {
    let mut causes = profiles::type_and_length_causes(profiles::GROUP_BASE, profile);
    causes.extend(nul_causes(profile));
    ValidationError::check(&summary_of(&causes), causes)
}

/// Profile attribute names: letters, digits and `_`, starting with a letter.
pub fn is_attribute_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

/// A deliberately simple address check: one `@`, something before it and a dot after it.
pub fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Merges a partial profile into an existing one (POST semantics); `null` clears a field.
pub fn merge_profile(base: &mut Map<String, Value>, partial: &Map<String, Value>) {
    for (k, v) in partial {
        base.insert(k.clone(), v.clone());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn lifecycle_follows_okta() {
        use Lifecycle::*;
        use UserStatus::*;
        assert_eq!(transition(Staged, Activate, true), Ok(Active));
        assert_eq!(transition(Staged, Activate, false), Ok(Provisioned));
        assert_eq!(transition(Deprovisioned, Activate, false), Ok(Provisioned));
        assert_eq!(transition(Deprovisioned, Activate, true), Ok(Active));
        for from in [
            Active,
            Provisioned,
            Suspended,
            LockedOut,
            PasswordExpired,
            Recovery,
        ] {
            assert_eq!(
                transition(from, Activate, false),
                Err(LifecycleError::AlreadyActive),
                "{from:?}"
            );
        }
        assert_eq!(transition(Provisioned, Reactivate, false), Ok(Provisioned));
        for from in [Staged, Active, Suspended, Deprovisioned] {
            assert_eq!(
                transition(from, Reactivate, false),
                Err(LifecycleError::NotAllowedInStatus),
                "{from:?}"
            );
        }
        assert_eq!(complete_activation(Provisioned), Some(Active));
        assert_eq!(complete_activation(Active), None);
        assert_eq!(complete_activation(Deprovisioned), None);
        assert_eq!(transition(Active, Suspend, true), Ok(Suspended));
        assert!(transition(Staged, Suspend, true).is_err());
        assert_eq!(transition(Suspended, Unsuspend, true), Ok(Active));
        assert!(transition(Active, Unsuspend, true).is_err());
        assert_eq!(transition(Suspended, Deactivate, true), Ok(Deprovisioned));
        assert!(transition(Deprovisioned, Deactivate, true).is_err());
        assert_eq!(transition(LockedOut, Unlock, true), Ok(Active));
    }

    #[test]
    fn user_profile_rules() {
        let good = profile(
            json!({"login":"a@b.co","email":"a@b.co","firstName":"A","lastName":"B","department":"Eng"}),
        );
        assert!(validate_user_profile(&good).is_ok());
        let bad = profile(json!({"login":"nope","email":"a@b.co","firstName":"","nested":{"x":1}}));
        let err = validate_user_profile(&bad).unwrap_err();
        assert!(err
            .causes
            .iter()
            .any(|c| c.starts_with("login: Does not match")));
        assert!(err
            .causes
            .iter()
            .any(|c| c.starts_with("firstName: The field cannot be left blank")));
        assert!(err.causes.iter().any(|c| c.starts_with("lastName:")));
        assert!(err.causes.iter().any(|c| c.starts_with("nested:")));
    }

    #[test]
    fn group_profile_needs_a_name() {
        assert!(validate_group_profile(&profile(json!({"name":"Eng"}))).is_ok());
        assert!(validate_group_profile(&profile(json!({"description":"x"}))).is_err());
    }

    #[test]
    fn nul_is_refused_everywhere_in_a_profile() {
        let user = profile(
            json!({"login":"a\0b@x.co","email":"a@b.co","firstName":"A","lastName":"B","tags":["ok","\0"]}),
        );
        let err = validate_user_profile(&user).unwrap_err();
        assert!(err
            .causes
            .iter()
            .any(|c| c == &format!("login: {NUL_CAUSE}")));
        assert!(err
            .causes
            .iter()
            .any(|c| c == &format!("tags: {NUL_CAUSE}")));
        let group = profile(json!({"name":"Eng","description":"x\0"}));
        let err = validate_group_profile(&group).unwrap_err();
        assert_eq!(err.summary, "description");
    }

    #[test]
    fn email_shapes() {
        assert!(looks_like_email("jane.doe@example.com"));
        assert!(!looks_like_email("jane"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("a b@c.d"));
    }
}
