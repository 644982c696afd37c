//! List cards (`kernel:list:*`). For Each, Map, Filter Custom and Reduce run a helper flow per
//! item: they are registered as iteration descriptors for the engine.

use serde_json::Value;

use crate::condition::{evaluate, Compared};
use crate::registry::{CardError, CardRegistry, Control, Inputs, Iteration, Outputs};
use crate::value::{get_path, number, to_text};

pub(super) fn register(r: &mut CardRegistry) {
    r.control("list", "each", Control::Iterate(Iteration::Each));
    r.control(
        "list",
        "asyncEach",
        Control::Iterate(Iteration::EachIgnoringErrors),
    );
    r.control("list", "map", Control::Iterate(Iteration::Map));
    r.control("list", "filter", Control::Iterate(Iteration::Filter));
    r.control("list", "reduce", Control::Iterate(Iteration::Reduce));

    r.function("list", "construct", |i| {
        let items = i.others(&[]).map(|f| f.value.clone()).collect();
        Ok(Outputs::one("list", Value::Array(items)))
    });
    r.function("list", "length", |i| {
        Ok(Outputs::one("length", number(i.list("list")?.len() as f64)))
    });
    r.function("list", "at", at);
    r.function("list", "pluck", |i| {
        let key = i.text("key");
        let values = i
            .list("list")?
            .iter()
            .map(|item| get_path(item, &key).cloned().unwrap_or(Value::Null))
            .collect();
        Ok(Outputs::one("values", Value::Array(values)))
    });
    r.function("list", "join", |i| {
        let parts: Vec<String> = i.list("list")?.iter().map(to_text).collect();
        Ok(Outputs::one(
            "string",
            Value::String(parts.join(&i.text("delimiter"))),
        ))
    });
    r.function("list", "push", |i| {
        let mut list = i.list("list")?;
        list.push(i.get("item").clone());
        Ok(Outputs::one("list", Value::Array(list)))
    });
    r.function("list", "shift", |i| {
        let mut list = i.list("list")?;
        let item = if list.is_empty() {
            Value::Null
        } else {
            list.remove(0)
        };
        Ok(Outputs::one("item", item).with("list", Value::Array(list)))
    });
    r.function("list", "pop", |i| {
        let mut list = i.list("list")?;
        let item = list.pop().unwrap_or(Value::Null);
        Ok(Outputs::one("item", item).with("list", Value::Array(list)))
    });
    r.function("list", "flatten", |i| {
        let mut flat = Vec::new();
        for item in i.list("lists")? {
            match item {
                Value::Array(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        Ok(Outputs::one("list", Value::Array(flat)))
    });
    r.function("list", "union", union);
    r.function("list", "intersection", |i| {
        let other = i.list("list2")?;
        let list = unique(i.list("list1")?.into_iter().filter(|v| other.contains(v)));
        Ok(Outputs::one("list", Value::Array(list)))
    });
    r.function("list", "difference", |i| {
        let other = i.list("list2")?;
        let list = i
            .list("list1")?
            .into_iter()
            .filter(|v| !other.contains(v))
            .collect();
        Ok(Outputs::one("list", Value::Array(list)))
    });
    r.function("list", "includes", |i| {
        let needle = i.get("value");
        let found = i
            .list("list")?
            .iter()
            .any(|v| v == needle || to_text(v) == to_text(needle));
        Ok(Outputs::one("result", Value::Bool(found)))
    });
    r.function("list", "filterBy", filter_by);
    r.function("list", "findBy", find_by);
    r.function("list", "uniqueBy", |i| {
        let path = i.text("path");
        let mut seen = Vec::new();
        let mut kept = Vec::new();
        for item in i.list("list")? {
            let key = get_path(&item, &path).cloned().unwrap_or(Value::Null);
            if !seen.contains(&key) {
                seen.push(key);
                kept.push(item);
            }
        }
        Ok(Outputs::one("unique list", Value::Array(kept)))
    });
    r.function("list", "sortBy", |i| {
        let path = i.text("path");
        let mut list = i.list("list")?;
        list.sort_by(|a, b| {
            let (a, b) = (get_path(a, &path), get_path(b, &path));
            match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                _ => a.map(to_text).cmp(&b.map(to_text)),
            }
        });
        Ok(Outputs::one("sorted list", Value::Array(list)))
    });
}

fn unique(items: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut kept: Vec<Value> = Vec::new();
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept
}

/// 0-based; a negative index counts from the end.
fn at(inputs: &Inputs) -> Result<Outputs, CardError> {
    let list = inputs.list("list")?;
    let index = inputs.number("index")? as i64;
    let position = if index < 0 {
        list.len() as i64 + index
    } else {
        index
    };
    let item = usize::try_from(position)
        .ok()
        .and_then(|p| list.get(p))
        .cloned();
    Ok(Outputs::one("item", item.unwrap_or(Value::Null)))
}

fn union(inputs: &Inputs) -> Result<Outputs, CardError> {
    let mut all = inputs.list("list1")?;
    all.extend(inputs.list("list2")?);
    for field in inputs.others(&["list1", "list2"]) {
        if let Value::Array(items) = &field.value {
            all.extend(items.iter().cloned());
        }
    }
    Ok(Outputs::one("union", Value::Array(unique(all.into_iter()))))
}

/// Items for which `item[path] OPERATOR comparison` holds (`path` blank: the item itself).
fn matching(inputs: &Inputs) -> Result<Vec<(usize, Value)>, CardError> {
    let path = inputs.text("path");
    let operator = inputs.text("operator");
    let comparison = inputs.field("comparison");
    let compared = comparison
        .map(|f| Compared::from_declared(&f.kind, f.collection))
        .unwrap_or(Compared::Json);
    let target = inputs.get("comparison");
    let mut found = Vec::new();
    for (index, item) in inputs.list("list")?.into_iter().enumerate() {
        let value = get_path(&item, &path).cloned().unwrap_or(Value::Null);
        if evaluate(&value, &operator, target, compared)? {
            found.push((index, item));
        }
    }
    Ok(found)
}

fn filter_by(inputs: &Inputs) -> Result<Outputs, CardError> {
    let items = matching(inputs)?
        .into_iter()
        .map(|(_, item)| item)
        .collect();
    Ok(Outputs::one("list", Value::Array(items)))
}

/// The first match and its index; null and −1 when nothing matches.
fn find_by(inputs: &Inputs) -> Result<Outputs, CardError> {
    Ok(match matching(inputs)?.into_iter().next() {
        Some((index, item)) => Outputs::one("item", item).with("index", number(index as f64)),
        None => Outputs::one("item", Value::Null).with("index", number(-1.0)),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{check_errors, check_table};
    use crate::registry::{CardImpl, CardRegistry, Control, Inputs, Iteration};
    use serde_json::json;

    #[test]
    fn list_cards() {
        let i = Inputs::new;
        let users = json!([
            {"id": "00u1", "profile": {"dept": "Sales"}, "age": 30},
            {"id": "00u2", "profile": {"dept": "Ops"}, "age": 9},
            {"id": "00u3", "profile": {"dept": "Sales"}, "age": 80}
        ]);
        let by = |path: &str, op: &str, cmp: serde_json::Value, kind: &str| {
            i().with("list", users.clone())
                .with("path", json!(path))
                .with("operator", json!(op))
                .typed("comparison", kind, cmp)
        };
        check_table(
            "list",
            vec![
                (
                    "construct",
                    i().custom("item", json!("a")).custom("item2", json!(2)),
                    vec![("list", json!(["a", 2]))],
                ),
                (
                    "length",
                    i().with("list", users.clone()),
                    vec![("length", json!(3))],
                ),
                (
                    "length",
                    i().with("list", json!(null)),
                    vec![("length", json!(0))],
                ),
                (
                    "at",
                    i().with("list", json!(["a", "b"])).with("index", json!(1)),
                    vec![("item", json!("b"))],
                ),
                (
                    "at",
                    i().with("list", json!(["a", "b"])).with("index", json!(-1)),
                    vec![("item", json!("b"))],
                ),
                (
                    "at",
                    i().with("list", json!(["a"])).with("index", json!(5)),
                    vec![("item", json!(null))],
                ),
                (
                    "pluck",
                    i().with("list", users.clone())
                        .with("key", json!("profile.dept")),
                    vec![("values", json!(["Sales", "Ops", "Sales"]))],
                ),
                (
                    "join",
                    i().with("list", json!(["a", 1, true]))
                        .with("delimiter", json!(", ")),
                    vec![("string", json!("a, 1, true"))],
                ),
                (
                    "push",
                    i().with("list", json!([1])).with("item", json!(2)),
                    vec![("list", json!([1, 2]))],
                ),
                (
                    "shift",
                    i().with("list", json!([1, 2])),
                    vec![("item", json!(1)), ("list", json!([2]))],
                ),
                (
                    "pop",
                    i().with("list", json!([1, 2])),
                    vec![("item", json!(2)), ("list", json!([1]))],
                ),
                (
                    "flatten",
                    i().with("lists", json!([[1], [2, 3], 4])),
                    vec![("list", json!([1, 2, 3, 4]))],
                ),
                (
                    "union",
                    i().with("list1", json!([1, 2]))
                        .with("list2", json!([2, 3])),
                    vec![("union", json!([1, 2, 3]))],
                ),
                (
                    "intersection",
                    i().with("list1", json!([1, 2, 2]))
                        .with("list2", json!([2, 3])),
                    vec![("list", json!([2]))],
                ),
                (
                    "difference",
                    i().with("list1", json!([1, 2]))
                        .with("list2", json!([2, 3])),
                    vec![("list", json!([1]))],
                ),
                (
                    "includes",
                    i().with("list", json!(["a", "b"]))
                        .with("value", json!("b")),
                    vec![("result", json!(true))],
                ),
                (
                    "filterBy",
                    by("profile.dept", "==", json!("Sales"), "string"),
                    vec![("list", json!([users[0], users[2]]))],
                ),
                (
                    "filterBy",
                    by("age", ">", json!(9), "number"),
                    vec![("list", json!([users[0], users[2]]))],
                ),
                (
                    "findBy",
                    by("id", "==", json!("00u2"), "string"),
                    vec![("item", users[1].clone()), ("index", json!(1))],
                ),
                (
                    "findBy",
                    by("id", "==", json!("none"), "string"),
                    vec![("item", json!(null)), ("index", json!(-1))],
                ),
                (
                    "uniqueBy",
                    i().with("list", users.clone())
                        .with("path", json!("profile.dept")),
                    vec![("unique list", json!([users[0], users[1]]))],
                ),
                (
                    "sortBy",
                    i().with("list", users.clone()).with("path", json!("age")),
                    vec![("sorted list", json!([users[1], users[0], users[2]]))],
                ),
            ],
        );
        check_errors(
            "list",
            vec![
                ("length", i().with("list", json!(3)), "not a list"),
                ("filterBy", by("age", "≈", json!(1), "number"), "operator"),
            ],
        );
        let registry = CardRegistry::standard();
        for (key, mode) in [
            ("each", Iteration::Each),
            ("asyncEach", Iteration::EachIgnoringErrors),
            ("map", Iteration::Map),
            ("filter", Iteration::Filter),
            ("reduce", Iteration::Reduce),
        ] {
            assert!(matches!(
                registry.get(&crate::address::CardKey::kernel("list", key)),
                Some(CardImpl::Control(Control::Iterate(m))) if *m == mode
            ));
        }
    }
}
