//! Okta Access Requests, v1 and v2: the domain model and its rules, without storage or HTTP.
//!
//! * [`v1`]: request types (`/v1/request-types`) and the requests made through them (`/v1/requests`).
//! * [`conditions`]: v2 request conditions, approval sequences and request settings.
//! * [`catalog`]: the v2 catalog, derived from resources and their ACTIVE conditions.
//! * [`approvers`]: who is asked to decide a step ([`Directory`] is the view of users and groups).
//! * [`workflow`]: v2 requests, tasks and the [`RequestWorkflow`] state machine both versions run on.
//! * [`duration`]: the ISO-8601 durations Access Requests accept.
//!
//! Every type serialises with the field names and enum spellings of Okta's specs; timestamps are
//! epoch milliseconds in memory and Okta date-times on the wire. `_links` are left to the HTTP layer.
//! Every rule takes the clock (`now`, epoch ms) as an argument.

use std::fmt::Display;

use rand::{distributions::Alphanumeric, Rng};
use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::validation::ValidationError;

pub mod approvers;
pub mod catalog;
pub mod conditions;
pub mod duration;
pub mod model;
pub mod v1;
pub mod workflow;

pub use approvers::{resolve_assignees, Directory};
pub use catalog::{build_catalog, CatalogEntry, CatalogResource};
pub use conditions::{match_condition, ApprovalStep, Approver, RequestCondition, RequestSequence};
pub use duration::AccessDuration;
pub use v1::{RequestType, RequestV1};
pub use workflow::{AccessRequestEvent, RequestV2, RequestWorkflow, Task};

/// Why a rule refused. Each kind is one of Okta's answers; the payload carries the summary and
/// causes to render.
///
/// | kind        | Okta answer                                                              |
/// |-------------|--------------------------------------------------------------------------|
/// | `Invalid`   | 400 `E0000001` "Api validation failed: {summary}"                        |
/// | `Conflict`  | 409 `E0000195` "Api validation failed due to conflict: {summary}"        |
/// | `Refused`   | 400 `E0000002` "{summary}" (v2 tasks and request updates in a closed state) |
/// | `Forbidden` | 403 `E0000006` "You do not have permission to perform the requested action" |
/// | `Rejected`  | no HTTP error: the v2 request is recorded with status `REJECTED`         |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("Api validation failed: {}", .0.summary)]
    Invalid(ValidationError),
    #[error("Api validation failed due to conflict: {}", .0.summary)]
    Conflict(ValidationError),
    #[error("{}", .0.summary)]
    Refused(ValidationError),
    #[error("You do not have permission to perform the requested action")]
    Forbidden(ValidationError),
    #[error("{}", .0.summary)]
    Rejected(ValidationError),
}

impl RuleError {
    /// The summary and causes, whatever the kind.
    pub fn detail(&self) -> &ValidationError {
        match self {
            RuleError::Invalid(v)
            | RuleError::Conflict(v)
            | RuleError::Refused(v)
            | RuleError::Forbidden(v)
            | RuleError::Rejected(v) => v,
        }
    }

    pub(crate) fn invalid(summary: impl Into<String>, cause: impl Into<String>) -> RuleError {
        RuleError::Invalid(ValidationError::new(summary, cause))
    }
    pub(crate) fn conflict(summary: impl Into<String>, cause: impl Into<String>) -> RuleError {
        RuleError::Conflict(ValidationError::new(summary, cause))
    }
    /// `E0000002`: Okta repeats the cause in the summary, after `prefix`.
    pub(crate) fn refused(prefix: &str, cause: impl Into<String>) -> RuleError {
        let cause = cause.into();
        RuleError::Refused(ValidationError::new(format!("{prefix}: {cause}"), cause))
    }
    pub(crate) fn forbidden(cause: impl Into<String>) -> RuleError {
        RuleError::Forbidden(ValidationError::new(
            "You do not have permission to perform the requested action",
            cause,
        ))
    }
    pub(crate) fn rejected(cause: impl Into<String>) -> RuleError {
        let cause = cause.into();
        RuleError::Rejected(ValidationError::new(cause.clone(), cause))
    }
}

impl From<ValidationError> for RuleError {
    fn from(e: ValidationError) -> Self {
        RuleError::Invalid(e)
    }
}

/// A principal as the v2 APIs write it: `{ "externalId": "00u…", "type": "OKTA_USER" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    pub external_id: String,
    #[serde(rename = "type")]
    pub kind: PrincipalType,
}

/// `UNKNOWN` is a client-credentials caller (`pca…`), only ever seen in `requestedBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PrincipalType {
    OktaUser,
    Unknown,
}

impl Principal {
    pub fn user(id: &str) -> Principal {
        Principal {
            external_id: id.to_string(),
            kind: PrincipalType::OktaUser,
        }
    }

    /// A client-credentials caller (`pca…` id).
    pub fn client(id: &str) -> Principal {
        Principal {
            external_id: id.to_string(),
            kind: PrincipalType::Unknown,
        }
    }
}

/// A Mongo-style id, 24 lowercase hex digits: v1 request types, requests, approvals and actions,
/// v2 tasks and approval sequences.
pub fn new_hex_id() -> String {
    let mut rng = rand::thread_rng();
    (0..24)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

/// 24 hex digits (Okta's patterns accept either case).
pub fn is_hex_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A v2 request id: `req` and 17 alphanumerics.
pub fn new_request_id() -> String {
    new_prefixed_id("req")
}

/// A request condition id: `rco` and 17 alphanumerics.
pub fn new_condition_id() -> String {
    new_prefixed_id("rco")
}

fn new_prefixed_id(prefix: &str) -> String {
    let rest: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20 - prefix.len())
        .map(char::from)
        .collect();
    format!("{prefix}{rest}")
}

/// Whether `s` is a 20-character Okta id starting with `prefix` (`00u`, `00g`, `0oa`, `enb`…).
pub fn is_okta_id(prefix: &str, s: &str) -> bool {
    s.len() == 20 && s.starts_with(prefix) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A random UUID v4 (v1 field ids).
fn new_uuid_v4() -> String {
    let mut b: [u8; 16] = rand::thread_rng().gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Deserialises a JSON body into one of the `…Create`/`…Patch` types. A shape or enum mismatch
/// becomes `E0000001` with serde's explanation as the cause.
pub fn from_body<T: DeserializeOwned>(body: &Value) -> Result<T, ValidationError> {
    serde_json::from_value(body.clone()).map_err(|e| {
        let cause = e.to_string();
        ValidationError::new(cause.clone(), cause)
    })
}

/// `Some(None)` for an explicit `null`, `None` for an absent field (PATCH semantics).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Collects Okta-style causes (`"/approvalSettings/approvals must NOT have fewer than 1 items"`).
#[derive(Debug, Default)]
struct Causes(Vec<String>);

impl Causes {
    fn add(&mut self, location: &str, message: impl Display) {
        self.0.push(if location.is_empty() {
            message.to_string()
        } else {
            format!("{location} {message}")
        });
    }

    /// Records a missing property of the object at `parent` ("" for the body itself).
    fn require<T>(&mut self, parent: &str, name: &str, value: &Option<T>) {
        if value.is_none() {
            self.add(parent, format!("must have required property '{name}'"));
        }
    }

    fn text(&mut self, location: &str, s: &str, min: usize, max: usize) {
        let n = s.chars().count();
        if n < min {
            self.add(
                location,
                format!("must NOT have fewer than {min} characters"),
            );
        } else if n > max {
            self.add(
                location,
                format!("must NOT have more than {max} characters"),
            );
        }
    }

    fn items<T>(&mut self, location: &str, items: &[T], min: usize, max: usize) {
        if items.len() < min {
            self.add(location, format!("must NOT have fewer than {min} items"));
        } else if items.len() > max {
            self.add(location, format!("must NOT have more than {max} items"));
        }
    }

    fn okta_id(&mut self, location: &str, prefix: &str, s: &str) {
        if !is_okta_id(prefix, s) {
            self.add(
                location,
                format!("must match pattern \"{prefix}[0-9a-zA-Z]+\""),
            );
        }
    }

    /// Okta's governance summary joins the causes.
    fn finish(self) -> Result<(), ValidationError> {
        let summary = self.0.join(", ");
        ValidationError::check(&summary, self.0)
    }

    fn finish_as(self, summary: &str) -> Result<(), ValidationError> {
        ValidationError::check(summary, self.0)
    }
}

/// Okta date-times on the wire, epoch milliseconds in memory.
mod ts {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    use crate::timefmt::{format_millis, parse_rfc3339_millis};

    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_millis(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        parse_rfc3339_millis(&s).ok_or_else(|| D::Error::custom(format!("must be date-time: {s}")))
    }

    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            match ms {
                Some(ms) => s.serialize_str(&format_millis(*ms)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| {
                    parse_rfc3339_millis(&s)
                        .ok_or_else(|| D::Error::custom(format!("must be date-time: {s}")))
                })
                .transpose()
        }
    }
}

/// A fake [`Directory`] and spec-example loading shared by the tests of every submodule.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod testkit {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::PathBuf;

    use serde_json::Value;

    use super::Directory;

    #[derive(Default)]
    pub struct FakeDirectory {
        pub managers: BTreeMap<String, String>,
        pub groups: BTreeMap<String, Vec<String>>,
        pub owners: BTreeMap<String, Vec<String>>,
        pub inactive: BTreeSet<String>,
    }

    impl FakeDirectory {
        pub fn manager(mut self, user: &str, manager: &str) -> Self {
            self.managers.insert(user.into(), manager.into());
            self
        }
        pub fn group(mut self, group: &str, members: &[&str]) -> Self {
            self.groups.insert(
                group.into(),
                members.iter().map(|m| m.to_string()).collect(),
            );
            self
        }
        pub fn owners(mut self, resource: &str, owners: &[&str]) -> Self {
            self.owners.insert(
                resource.into(),
                owners.iter().map(|m| m.to_string()).collect(),
            );
            self
        }
        pub fn deactivate(mut self, user: &str) -> Self {
            self.inactive.insert(user.into());
            self
        }
    }

    impl Directory for FakeDirectory {
        fn manager_of(&self, user_id: &str) -> Option<String> {
            self.managers.get(user_id).cloned()
        }
        fn group_members(&self, group_id: &str) -> Vec<String> {
            self.groups.get(group_id).cloned().unwrap_or_default()
        }
        fn resource_owners(&self, resource_id: &str) -> Vec<String> {
            self.owners.get(resource_id).cloned().unwrap_or_default()
        }
        fn user_is_active(&self, id: &str) -> bool {
            !self.inactive.contains(id)
        }
    }

    /// `components.examples.{name}.value` of a spec in `$STEWARD_SPECS_DIR`, else
    /// `<workspace>/../shared/specs` (as `tests/scope_catalogue_matches_specs.rs` finds them).
    pub fn spec_example(spec: &str, name: &str) -> Value {
        let dir = std::env::var_os("STEWARD_SPECS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs")
            });
        let path = dir.join(format!("{spec}.yaml"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        let value = &yaml["components"]["examples"][name]["value"];
        assert!(!value.is_null(), "{name} is not an example of {spec}");
        serde_json::to_value(value).unwrap()
    }

    /// Drops `_links` (the HTTP layer's) and turns every date-time into epoch ms, so that
    /// `2019-08-24T14:15:22Z` and `2019-08-24T14:15:22.000Z` compare equal.
    pub fn normalise(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| k.as_str() != "_links")
                    .map(|(k, v)| (k.clone(), normalise(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
            Value::String(s) if s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T') => {
                crate::timefmt::parse_rfc3339_millis(s)
                    .map(Value::from)
                    .unwrap_or_else(|| v.clone())
            }
            other => other.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_spec_shapes() {
        let hex = new_hex_id();
        assert!(
            is_hex_id(&hex) && hex.bytes().all(|b| !b.is_ascii_uppercase()),
            "{hex}"
        );
        let req = new_request_id();
        assert!(is_okta_id("req", &req), "{req}");
        assert!(is_okta_id("rco", &new_condition_id()));
        let uuid = new_uuid_v4();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert_ne!(new_hex_id(), new_hex_id());
    }

    #[test]
    fn bodies_that_do_not_deserialise_are_validation_errors() {
        let err = from_body::<Principal>(&serde_json::json!({"externalId": "x", "type": "ROBOT"}))
            .unwrap_err();
        assert!(err.causes[0].contains("unknown variant `ROBOT`"), "{err:?}");
    }
}
