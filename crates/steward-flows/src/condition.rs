//! The comparison operators shared by If/Else, Continue If, Assign If, Return Error If,
//! Compare, If/ElseIf, Find and Filter. The declared type of the operands decides how they
//! compare: `80 > 9` as numbers, `"80" < "9"` as text.

use std::cmp::Ordering;

use serde_json::Value;

use crate::value::{get_path, is_empty, to_date, to_number, to_text};

/// How operands compare, from the left operand's declared `value.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    Text,
    Number,
    Boolean,
    Date,
    /// Objects, lists and struct schemas: equality of the JSON values.
    Json,
}

impl Compared {
    /// From a field's declared type (`string`, `number`, `boolean`, `Date`, `object`, schema).
    pub fn from_declared(kind: &Value, collection: bool) -> Compared {
        if collection {
            return Compared::Json;
        }
        match kind.as_str() {
            Some("number") => Compared::Number,
            Some("boolean") => Compared::Boolean,
            Some("Date") => Compared::Date,
            Some("string") => Compared::Text,
            _ => Compared::Json,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("unknown operator {0:?}")]
    UnknownOperator(String),
    #[error("{0:?} is not a number")]
    NotANumber(String),
    #[error("{0:?} is not a date")]
    NotADate(String),
}

/// `left OPERATOR right`.
pub fn evaluate(
    left: &Value,
    operator: &str,
    right: &Value,
    compared: Compared,
) -> Result<bool, ConditionError> {
    match operator {
        "==" => Ok(equal(left, right, compared)?),
        "!=" => Ok(!equal(left, right, compared)?),
        "===" => Ok(left == right),
        "!==" => Ok(left != right),
        ">" | ">=" | "<" | "<=" => {
            let ordering = order(left, right, compared)?;
            Ok(match operator {
                ">" => ordering == Ordering::Greater,
                ">=" => ordering != Ordering::Less,
                "<" => ordering == Ordering::Less,
                _ => ordering != Ordering::Greater,
            })
        }
        "%" => {
            let a = num(left)?;
            let b = num(right)?;
            Ok(b != 0.0 && (a % b) == 0.0)
        }
        "in" => Ok(contains(right, left)),
        "not in" => Ok(!contains(right, left)),
        "has" => Ok(has_key(left, right)),
        "doesn't have" => Ok(!has_key(left, right)),
        "is empty" => Ok(is_empty(left)),
        "is not empty" => Ok(!is_empty(left)),
        other => Err(ConditionError::UnknownOperator(other.to_string())),
    }
}

fn num(v: &Value) -> Result<f64, ConditionError> {
    to_number(v).ok_or_else(|| ConditionError::NotANumber(to_text(v)))
}

fn equal(left: &Value, right: &Value, compared: Compared) -> Result<bool, ConditionError> {
    Ok(match compared {
        Compared::Number => num(left)? == num(right)?,
        Compared::Boolean => crate::value::to_bool(left) == crate::value::to_bool(right),
        Compared::Text => to_text(left) == to_text(right),
        Compared::Date => order(left, right, compared)? == Ordering::Equal,
        Compared::Json => match (left, right) {
            (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
                left == right
            }
            _ => to_text(left) == to_text(right),
        },
    })
}

fn order(left: &Value, right: &Value, compared: Compared) -> Result<Ordering, ConditionError> {
    Ok(match compared {
        Compared::Number => num(left)?
            .partial_cmp(&num(right)?)
            .unwrap_or(Ordering::Equal),
        Compared::Date => {
            let date = |v: &Value| to_date(v).ok_or_else(|| ConditionError::NotADate(to_text(v)));
            date(left)?.cmp(&date(right)?)
        }
        Compared::Boolean => crate::value::to_bool(left).cmp(&crate::value::to_bool(right)),
        // Untyped operands that both read as numbers compare as numbers.
        Compared::Json => match (to_number(left), to_number(right)) {
            (Some(a), Some(b)) if !left.is_null() && !right.is_null() => {
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
            _ => to_text(left).cmp(&to_text(right)),
        },
        Compared::Text => to_text(left).cmp(&to_text(right)),
    })
}

/// `needle in haystack`: a substring of text, an element of a list, a key of an object.
fn contains(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::Array(items) => items
            .iter()
            .any(|i| i == needle || to_text(i) == to_text(needle)),
        Value::Object(map) => map.contains_key(&to_text(needle)),
        other => to_text(other).contains(&to_text(needle)),
    }
}

fn has_key(object: &Value, key: &Value) -> bool {
    get_path(object, &to_text(key)).is_some() && object.is_object()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operators_by_declared_type() {
        use Compared::*;
        let cases = [
            (json!(80), ">", json!(9), Number, true),
            (json!("80"), ">", json!("9"), Text, false),
            (json!("80"), ">", json!("9"), Number, true),
            (json!("5"), "==", json!(5), Number, true),
            (json!("a"), "!=", json!("b"), Text, true),
            (json!(10), "%", json!(5), Number, true),
            (json!(10), "%", json!(3), Number, false),
            (json!("ell"), "in", json!("hello"), Text, true),
            (json!("x"), "not in", json!(["x", "y"]), Text, false),
            (json!({"a": 1}), "has", json!("a"), Json, true),
            (json!({"a": 1}), "doesn't have", json!("b"), Json, true),
            (json!(""), "is empty", json!(null), Text, true),
            (json!([1]), "is not empty", json!(null), Json, true),
            (json!("true"), "==", json!(true), Boolean, true),
            (
                json!("2025-01-02T00:00:00Z"),
                ">=",
                json!("2025-01-01"),
                Date,
                true,
            ),
            (json!("5"), "===", json!(5), Json, false),
            (json!([1, 2]), "==", json!([1, 2]), Json, true),
        ];
        for (left, op, right, compared, expected) in cases {
            assert_eq!(
                evaluate(&left, op, &right, compared).unwrap(),
                expected,
                "{left} {op} {right} as {compared:?}"
            );
        }
        assert_eq!(
            evaluate(&json!(1), "~", &json!(1), Number),
            Err(ConditionError::UnknownOperator("~".into()))
        );
        assert!(evaluate(&json!("x"), ">", &json!(1), Number).is_err());
    }
}
