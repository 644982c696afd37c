//! The base-profile tables of `steward_core::profiles` must match Okta's management spec: every
//! property of `UserProfile` is in `USER_BASE` (and nothing else is), each is a string, with the
//! spec's `maxLength`; `OktaUserGroupProfile`'s properties are `GROUP_BASE`'s, strings; and the
//! group limits are the ones the spec gives a group's name and description elsewhere
//! (`IdentitySourceGroupProfileForUpsert`).
//!
//! Specs are read from `$STEWARD_SPECS_DIR`, else `<workspace root>/../shared/specs`. A missing
//! file is a failure, never a silent pass.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;
use steward_core::profiles::{GROUP_BASE, USER_BASE};

fn specs_dir() -> PathBuf {
    match std::env::var_os("STEWARD_SPECS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs"),
    }
}

fn schemas() -> Value {
    let path = specs_dir().join("management-minimal.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read spec {}: {e} (set STEWARD_SPECS_DIR)",
            path.display()
        )
    });
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
    doc["components"]["schemas"].clone()
}

/// name → (type, maxLength) of a schema's properties.
fn properties(schema: &Value) -> BTreeMap<String, (String, Option<u64>)> {
    schema["properties"]
        .as_mapping()
        .expect("properties")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                (
                    v["type"].as_str().unwrap_or_default().to_string(),
                    v.get("maxLength").and_then(Value::as_u64),
                ),
            )
        })
        .collect()
}

#[test]
fn user_base_profile_is_oktas_user_profile() {
    let spec = properties(&schemas()["UserProfile"]);
    let ours: BTreeMap<String, (String, Option<u64>)> = USER_BASE
        .iter()
        .map(|a| {
            (
                a.name.to_string(),
                ("string".to_string(), a.max_length.map(|n| n as u64)),
            )
        })
        .collect();
    assert_eq!(ours, spec);
}

#[test]
fn group_base_profile_is_oktas_group_profile() {
    let schemas = schemas();
    let spec = properties(&schemas["OktaUserGroupProfile"]);
    let names: Vec<&str> = GROUP_BASE.iter().map(|a| a.name).collect();
    assert_eq!(spec.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut n = names.clone();
        n.sort();
        n
    });
    assert!(spec.values().all(|(t, _)| t == "string"), "{spec:?}");
    let limits = properties(&schemas["IdentitySourceGroupProfileForUpsert"]);
    let limit = |name: &str| {
        GROUP_BASE
            .iter()
            .find(|a| a.name == name)
            .unwrap()
            .max_length
    };
    assert_eq!(limit("name").map(|n| n as u64), limits["displayName"].1);
    assert_eq!(
        limit("description").map(|n| n as u64),
        limits["description"].1
    );
}
