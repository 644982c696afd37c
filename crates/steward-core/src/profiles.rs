//! The base profiles of Okta users and groups: which attributes they declare, that each is a
//! string, which may be `null` and how long each may be, and the limits Steward puts on custom
//! attributes and passwords. `docs/validation.md` explains where each number comes from; the
//! user table is checked against Okta's `UserProfile` schema by
//! `tests/profile_schema_matches_specs.rs`.
//!
//! Lengths count characters (Unicode scalar values), as JSON Schema's `maxLength` does.

use serde_json::{Map, Value};

/// One attribute of a base profile. Every base attribute of Okta's user and group profiles is a
/// string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    /// The longest value, in characters, where Okta documents one.
    pub max_length: Option<usize>,
    /// Required attributes can be neither missing, blank nor `null`; every other base attribute
    /// may be `null` (which clears it).
    pub required: bool,
}

const fn attr(name: &'static str, max_length: Option<usize>) -> Attribute {
    Attribute {
        name,
        max_length,
        required: false,
    }
}

const fn required(name: &'static str, max_length: usize) -> Attribute {
    Attribute {
        name,
        max_length: Some(max_length),
        required: true,
    }
}

/// Okta's `UserProfile` (management API spec): every property a string, with the spec's
/// `maxLength`. `login`, `email`, `firstName` and `lastName` are required, as in Okta's default
/// user type.
pub const USER_BASE: &[Attribute] = &[
    required("login", 100),
    required("email", 100),
    required("firstName", 50),
    required("lastName", 50),
    attr("city", Some(128)),
    attr("costCenter", None),
    attr("countryCode", Some(2)),
    attr("department", None),
    attr("displayName", None),
    attr("division", None),
    attr("employeeNumber", None),
    attr("honorificPrefix", None),
    attr("honorificSuffix", None),
    attr("locale", None),
    attr("manager", None),
    attr("managerId", None),
    attr("middleName", None),
    attr("mobilePhone", Some(100)),
    attr("nickName", None),
    attr("organization", None),
    attr("postalAddress", Some(4096)),
    attr("preferredLanguage", None),
    attr("primaryPhone", Some(100)),
    attr("profileUrl", None),
    attr("secondEmail", Some(100)),
    attr("state", Some(128)),
    attr("streetAddress", Some(1024)),
    attr("timezone", None),
    attr("title", None),
    attr("userType", None),
    attr("zipCode", Some(50)),
];

/// Okta's `OktaUserGroupProfile`: `name` (required, at most 255 characters) and `description`
/// (at most 1024), the limits Okta documents for a group's name and description.
pub const GROUP_BASE: &[Attribute] = &[required("name", 255), attr("description", Some(1024))];

/// The longest string Steward keeps in a base attribute without a documented limit or in a
/// custom attribute (the longest documented base-attribute limit, `postalAddress`'s).
pub const MAX_STRING_LENGTH: usize = 4096;
/// The most values an array-valued custom attribute holds.
pub const MAX_ARRAY_ITEMS: usize = 1000;
/// The longest password Okta keeps: it "stores and verifies only the first 72 characters".
/// Steward refuses a longer one instead of cutting it silently.
pub const MAX_PASSWORD_LENGTH: usize = 72;

/// Okta's cause for a value of the wrong JSON type.
pub const INVALID_TYPE: &str = "Property has an invalid type";
/// Okta's cause for a value over its attribute's length limit.
pub const TOO_LONG: &str = "The field is too long";
/// Okta's cause for a required attribute that is missing, blank or `null`.
pub const BLANK: &str = "The field cannot be left blank";

/// The base attribute `name` of `base`, if it is one.
pub fn base_attribute(base: &[Attribute], name: &str) -> Option<Attribute> {
    base.iter().find(|a| a.name == name).copied()
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// One `"{attribute}: {why}"` cause for each attribute of `profile` that breaks the type and
/// length rules of `base` (base attributes) or of custom attributes (a scalar or an array of at
/// most [`MAX_ARRAY_ITEMS`] scalars; strings at most [`MAX_STRING_LENGTH`] characters), and for
/// each required attribute that is missing. Required attributes come first, in `base`'s order.
pub fn type_and_length_causes(base: &[Attribute], profile: &Map<String, Value>) -> Vec<String> {
    let mut causes = Vec::new();
    for a in base.iter().filter(|a| a.required) {
        match profile.get(a.name) {
            None | Some(Value::Null) => causes.push(format!("{}: {BLANK}", a.name)),
            Some(Value::String(s)) if s.trim().is_empty() => {
                causes.push(format!("{}: {BLANK}", a.name))
            }
            Some(_) => {}
        }
    }
    for (key, value) in profile {
        let why = match base_attribute(base, key) {
            Some(a) => base_value_cause(a, value),
            None => custom_value_cause(value),
        };
        if let Some(why) = why {
            causes.push(format!("{}: {why}", key.replace('\0', "\\u0000")));
        }
    }
    causes
}

/// Why a base attribute's value is refused (a blank or missing required value is reported
/// separately).
fn base_value_cause(a: Attribute, value: &Value) -> Option<&'static str> {
    match value {
        Value::Null => None,
        Value::String(s) => {
            let limit = a.max_length.unwrap_or(MAX_STRING_LENGTH);
            (chars(s) > limit).then_some(TOO_LONG)
        }
        _ => Some(INVALID_TYPE),
    }
}

/// Why a custom attribute's value is refused.
fn custom_value_cause(value: &Value) -> Option<&'static str> {
    match value {
        Value::Array(items) => items
            .iter()
            .find_map(scalar_cause)
            .or((items.len() > MAX_ARRAY_ITEMS).then_some(TOO_LONG)),
        v => scalar_cause(v),
    }
}

/// Why a custom scalar (or one value of a custom array) is refused.
fn scalar_cause(value: &Value) -> Option<&'static str> {
    match value {
        Value::Object(_) | Value::Array(_) => Some(INVALID_TYPE),
        Value::String(s) if chars(s) > MAX_STRING_LENGTH => Some(TOO_LONG),
        _ => None,
    }
}

/// Whether a password is over [`MAX_PASSWORD_LENGTH`] characters.
pub fn password_too_long(password: &str) -> bool {
    chars(password) > MAX_PASSWORD_LENGTH
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn causes(base: &[Attribute], v: Value) -> Vec<String> {
        type_and_length_causes(base, v.as_object().unwrap())
    }

    fn user(extra: Value) -> Value {
        let mut p = json!({"login":"a@b.co","email":"a@b.co","firstName":"A","lastName":"B"});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    }

    #[test]
    fn tables_name_each_attribute_once() {
        for base in [USER_BASE, GROUP_BASE] {
            for (i, a) in base.iter().enumerate() {
                assert!(base[i + 1..].iter().all(|b| b.name != a.name), "{}", a.name);
                assert!(!a.required || a.max_length.is_some(), "{}", a.name);
            }
        }
        assert_eq!(USER_BASE.len(), 31);
    }

    #[test]
    fn every_base_user_attribute_is_a_string_or_null() {
        assert!(causes(USER_BASE, user(json!({}))).is_empty());
        for a in USER_BASE {
            for bad in [json!(123), json!(true), json!(["a"]), json!({"a": 1})] {
                let got = causes(USER_BASE, user(json!({ a.name: bad })));
                assert!(
                    got.contains(&format!("{}: {INVALID_TYPE}", a.name)),
                    "{}: {got:?}",
                    a.name
                );
            }
            let null = causes(USER_BASE, user(json!({ a.name: null })));
            if a.required {
                assert_eq!(null, vec![format!("{}: {BLANK}", a.name)]);
            } else {
                assert!(null.is_empty(), "{}: {null:?}", a.name);
            }
        }
    }

    #[test]
    fn lengths_follow_the_table() {
        let at = |n: usize| "x".repeat(n);
        assert!(causes(
            USER_BASE,
            user(json!({"firstName": at(50), "city": at(128)}))
        )
        .is_empty());
        assert_eq!(
            causes(USER_BASE, user(json!({"firstName": at(51)}))),
            vec![format!("firstName: {TOO_LONG}")]
        );
        assert_eq!(
            causes(USER_BASE, user(json!({"countryCode": "USA"}))),
            vec![format!("countryCode: {TOO_LONG}")]
        );
        // Characters, not bytes: 50 two-byte characters fit.
        assert!(causes(USER_BASE, user(json!({"lastName": "é".repeat(50)}))).is_empty());
        // A base attribute without a documented limit, and custom attributes, get Steward's.
        assert!(causes(USER_BASE, user(json!({"title": at(MAX_STRING_LENGTH)}))).is_empty());
        assert_eq!(
            causes(USER_BASE, user(json!({"title": at(MAX_STRING_LENGTH + 1)}))),
            vec![format!("title: {TOO_LONG}")]
        );
        assert_eq!(
            causes(USER_BASE, user(json!({"nick": at(MAX_STRING_LENGTH + 1)}))),
            vec![format!("nick: {TOO_LONG}")]
        );
        assert_eq!(
            causes(
                USER_BASE,
                user(json!({"tags": [at(MAX_STRING_LENGTH + 1)]}))
            ),
            vec![format!("tags: {TOO_LONG}")]
        );
        let many = vec![json!("a"); MAX_ARRAY_ITEMS + 1];
        assert_eq!(
            causes(USER_BASE, user(json!({ "tags": many }))),
            vec![format!("tags: {TOO_LONG}")]
        );
    }

    #[test]
    fn custom_attributes_are_scalars_or_arrays_of_scalars() {
        assert!(causes(
            USER_BASE,
            user(json!({"n": 1, "b": true, "s": "x", "z": null, "l": ["a", 1]}))
        )
        .is_empty());
        assert_eq!(
            causes(USER_BASE, user(json!({"o": {"a": 1}, "l": [[1]]}))),
            vec![format!("l: {INVALID_TYPE}"), format!("o: {INVALID_TYPE}")]
        );
    }

    #[test]
    fn group_base_profile() {
        assert!(causes(GROUP_BASE, json!({"name": "Eng", "description": null})).is_empty());
        assert_eq!(
            causes(GROUP_BASE, json!({"name": "Eng", "description": {"a": 1}})),
            vec![format!("description: {INVALID_TYPE}")]
        );
        assert_eq!(
            causes(GROUP_BASE, json!({"name": 5})),
            vec![format!("name: {INVALID_TYPE}")]
        );
        assert_eq!(
            causes(GROUP_BASE, json!({"description": "x"})),
            vec![format!("name: {BLANK}")]
        );
        assert_eq!(
            causes(
                GROUP_BASE,
                json!({"name": "n", "description": "d".repeat(1025)})
            ),
            vec![format!("description: {TOO_LONG}")]
        );
        assert!(causes(
            GROUP_BASE,
            json!({"name": "n".repeat(255), "description": "d".repeat(1024)})
        )
        .is_empty());
        assert_eq!(
            causes(GROUP_BASE, json!({"name": "n".repeat(256)})),
            vec![format!("name: {TOO_LONG}")]
        );
    }

    #[test]
    fn password_length() {
        assert!(!password_too_long(&"a".repeat(MAX_PASSWORD_LENGTH)));
        assert!(password_too_long(&"a".repeat(MAX_PASSWORD_LENGTH + 1)));
        assert!(!password_too_long(&"é".repeat(MAX_PASSWORD_LENGTH)));
    }
}
