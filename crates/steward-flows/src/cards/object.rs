//! Object and JSON cards (`kernel:object:*`, `kernel:json:*`).

use serde_json::{Map, Value};

use crate::registry::{CardError, CardRegistry, Inputs, Outputs};
use crate::value::{get_path, is_empty, set_path, to_text};

pub(super) fn register(r: &mut CardRegistry) {
    r.function("object", "construct", construct);
    r.function("object", "get", get);
    r.function("object", "pick", pick);
    r.function("object", "set", set);
    r.function("object", "merge", merge);
    r.function("object", "expand", expand);
    r.function("object", "keys", |i| {
        let keys = i
            .object("object")?
            .keys()
            .cloned()
            .map(Value::String)
            .collect();
        Ok(Outputs::one("keys", Value::Array(keys)))
    });
    r.function("object", "values", |i| {
        let values = i.object("object")?.values().cloned().collect();
        Ok(Outputs::one("values", Value::Array(values)))
    });
    r.function("object", "clearEmpty", |i| {
        let mut object = i.object("object")?;
        object.retain(|_, v| !is_empty(v));
        Ok(Outputs::one("output", Value::Object(object)))
    });
    r.function("json", "parse", parse);
    r.function("json", "stringify", |i| {
        let text = match i.get("object") {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Ok(Outputs::one("output", Value::String(text)))
    });
}

/// The user's inputs as an object; dotted keys nest (`requesterSettings.type`).
fn construct(inputs: &Inputs) -> Result<Outputs, CardError> {
    let mut object = Map::new();
    for field in inputs.others(&[]) {
        set_path(&mut object, &field.key, field.value.clone());
    }
    Ok(Outputs::one("output", Value::Object(object)))
}

fn get(inputs: &Inputs) -> Result<Outputs, CardError> {
    let object = Value::Object(inputs.object("object")?);
    let found = get_path(&object, &inputs.text("path")).cloned();
    Ok(Outputs::one("output", found.unwrap_or(Value::Null)))
}

/// Get Multiple: each declared output's key is a path into `object`.
fn pick(inputs: &Inputs) -> Result<Outputs, CardError> {
    let object = Value::Object(inputs.object("object")?);
    let mut outputs = Outputs::new();
    for declared in inputs.outputs.iter().filter(|o| o.group.is_none()) {
        let found = get_path(&object, &declared.key)
            .cloned()
            .unwrap_or(Value::Null);
        outputs = outputs.with(&declared.key, found);
    }
    Ok(outputs)
}

/// A copy of `object` with `path` set to `value`.
fn set(inputs: &Inputs) -> Result<Outputs, CardError> {
    let mut object = inputs.object("object")?;
    set_path(
        &mut object,
        &inputs.text("path"),
        inputs.get("value").clone(),
    );
    Ok(Outputs::one("output", Value::Object(object)))
}

/// `start`, `sink`, then the user's objects; later keys win.
fn merge(inputs: &Inputs) -> Result<Outputs, CardError> {
    let mut merged = inputs.object("start")?;
    merged.extend(inputs.object("sink")?);
    for field in inputs.others(&["start", "sink"]) {
        match &field.value {
            Value::Object(map) => merged.extend(map.clone()),
            Value::Null => {}
            other => {
                return Err(CardError::input(
                    &field.key,
                    format!("{other} is not an object"),
                ))
            }
        }
    }
    Ok(Outputs::one("output", Value::Object(merged)))
}

/// The hidden card the UI inserts when a sub-field is dragged: outputs in pairs sharing a
/// group, `key` (its static data: the path as a list) and `value` (what is at that path).
fn expand(inputs: &Inputs) -> Result<Outputs, CardError> {
    let object = inputs.get("object");
    let mut outputs = Outputs::new();
    for declared in inputs.outputs.iter().filter(|o| o.key == "key") {
        let Some(group) = declared.group.as_deref() else {
            continue;
        };
        let segments: Vec<String> = match &declared.data {
            Value::Array(parts) => parts.iter().map(to_text).collect(),
            other => vec![to_text(other)],
        };
        let mut at = Some(object);
        for segment in &segments {
            at = at.and_then(|v| match v {
                Value::Object(map) => map.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|n| items.get(n)),
                _ => None,
            });
        }
        outputs = outputs
            .with_in(Some(group), "key", declared.data.clone())
            .with_in(Some(group), "value", at.cloned().unwrap_or(Value::Null));
    }
    Ok(outputs)
}

fn parse(inputs: &Inputs) -> Result<Outputs, CardError> {
    let value = match inputs.get("string") {
        Value::String(text) => serde_json::from_str(text)
            .map_err(|e| CardError::Failed(format!("JSON Parse: invalid JSON: {e}")))?,
        // Already parsed upstream (an object pinned into a text input).
        other => other.clone(),
    };
    Ok(Outputs::one("output", value))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{check_errors, check_table};
    use crate::registry::Inputs;
    use serde_json::json;

    #[test]
    fn object_and_json_cards() {
        let i = Inputs::new;
        let user = json!({"profile": {"email": "a@x.io"}, "groups": [{"type": "OKTA_GROUP"}]});
        check_table(
            "object",
            vec![
                (
                    // flopack.md §5.2 step 3.
                    "construct",
                    i().custom("name", json!("Groups Assigned | Fixed duration | Everyone"))
                        .custom("approvalSequenceId", json!("seq1"))
                        .custom("requesterSettings.type", json!("EVERYONE"))
                        .custom("accessScopeSettings.type", json!("GROUPS"))
                        .custom("priority", json!(0))
                        .custom("accessScopeSettings.groups", json!(["00g1", "00g2"]))
                        .custom("accessDurationSettings.type", json!("ADMIN_FIXED_DURATION"))
                        .custom("accessDurationSettings.duration", json!("P30D")),
                    vec![(
                        "output",
                        json!({
                            "name": "Groups Assigned | Fixed duration | Everyone",
                            "approvalSequenceId": "seq1",
                            "requesterSettings": {"type": "EVERYONE"},
                            "accessScopeSettings": {"type": "GROUPS", "groups": ["00g1", "00g2"]},
                            "priority": 0,
                            "accessDurationSettings": {"type": "ADMIN_FIXED_DURATION", "duration": "P30D"}
                        }),
                    )],
                ),
                (
                    "get",
                    i().with("object", user.clone())
                        .with("path", json!("profile.email")),
                    vec![("output", json!("a@x.io"))],
                ),
                (
                    "get",
                    i().with("object", user.clone())
                        .with("path", json!("profile.none")),
                    vec![("output", json!(null))],
                ),
                (
                    "pick",
                    i().with("object", user.clone())
                        .declare_output(None, "profile.email", json!(null))
                        .declare_output(None, "groups.0.type", json!(null)),
                    vec![
                        ("profile.email", json!("a@x.io")),
                        ("groups.0.type", json!("OKTA_GROUP")),
                    ],
                ),
                (
                    "set",
                    i().with("object", json!({"a": 1}))
                        .with("path", json!("b.c"))
                        .with("value", json!("v")),
                    vec![("output", json!({"a": 1, "b": {"c": "v"}}))],
                ),
                (
                    "merge",
                    i().with("start", json!({"a": 1, "b": 1}))
                        .with("sink", json!({"b": 2}))
                        .custom("third", json!({"c": 3})),
                    vec![("output", json!({"a": 1, "b": 2, "c": 3}))],
                ),
                (
                    "keys",
                    i().with("object", json!({"b": 1, "a": 2})),
                    vec![("keys", json!(["a", "b"]))],
                ),
                (
                    "values",
                    i().with("object", json!({"a": 1})),
                    vec![("values", json!([1]))],
                ),
                (
                    "clearEmpty",
                    i().with("object", json!({"a": "", "b": 0, "c": null, "d": []})),
                    vec![("output", json!({"b": 0}))],
                ),
            ],
        );
        let expanded = crate::registry::CardRegistry::standard()
            .call(
                &crate::address::CardKey::kernel("object", "expand"),
                &i().with("object", json!({"body": {"errorSummary": "nope"}}))
                    .declare_output(Some("g1"), "key", json!(["body", "errorSummary"]))
                    .declare_output(Some("g1"), "value", json!(null)),
            )
            .unwrap();
        assert_eq!(expanded.get_in(Some("g1"), "value"), Some(&json!("nope")));
        check_table(
            "json",
            vec![
                (
                    "parse",
                    i().with("string", json!(r#"{"a":[1]}"#)),
                    vec![("output", json!({"a": [1]}))],
                ),
                (
                    "parse",
                    i().with("string", json!("[1,2]")),
                    vec![("output", json!([1, 2]))],
                ),
                (
                    "stringify",
                    i().with("object", json!({"a": 1})),
                    vec![("output", json!(r#"{"a":1}"#))],
                ),
            ],
        );
        check_errors(
            "json",
            vec![("parse", i().with("string", json!("{nope")), "invalid JSON")],
        );
        check_errors(
            "object",
            vec![(
                "merge",
                i().with("start", json!({})).custom("x", json!(3)),
                "not an object",
            )],
        );
    }
}
