//! True/False cards (`kernel:boolean:*`).

use serde_json::Value;

use crate::registry::{CardError, CardRegistry, Inputs, Outputs};
use crate::value::to_bool;

pub(super) fn register(r: &mut CardRegistry) {
    r.function("boolean", "and", |i| fold(i, |a, b| a && b));
    r.function("boolean", "or", |i| fold(i, |a, b| a || b));
    r.function("boolean", "xor", |i| fold(i, |a, b| a != b));
    r.function("boolean", "not", |i| {
        Ok(Outputs::one("output", Value::Bool(!i.boolean("a"))))
    });
    r.function("boolean", "compare", |i| {
        Ok(Outputs::one("result", Value::Bool(i.condition(None)?)))
    });
}

/// `a`, `b`, then the user's extra values.
fn fold(inputs: &Inputs, op: fn(bool, bool) -> bool) -> Result<Outputs, CardError> {
    let mut result = op(inputs.boolean("a"), inputs.boolean("b"));
    for field in inputs.others(&["a", "b"]) {
        result = op(result, to_bool(&field.value));
    }
    Ok(Outputs::one("output", Value::Bool(result)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{check_errors, check_table};
    use crate::registry::Inputs;
    use serde_json::json;

    #[test]
    fn boolean_cards() {
        let i = Inputs::new;
        let ab = |a: bool, b: bool| i().with("a", json!(a)).with("b", json!(b));
        let compare = |l: serde_json::Value, kind: &str, op: &str, r: serde_json::Value| {
            i().typed("left-operand", kind, l)
                .with("operator", json!(op))
                .typed("right-operand", kind, r)
        };
        check_table(
            "boolean",
            vec![
                ("and", ab(true, true), vec![("output", json!(true))]),
                (
                    "and",
                    ab(true, true).custom("c", json!("false")),
                    vec![("output", json!(false))],
                ),
                ("or", ab(false, false), vec![("output", json!(false))]),
                ("or", ab(false, true), vec![("output", json!(true))]),
                ("xor", ab(true, true), vec![("output", json!(false))]),
                (
                    "not",
                    i().with("a", json!(false)),
                    vec![("output", json!(true))],
                ),
                (
                    "compare",
                    compare(json!(80), "number", ">", json!(9)),
                    vec![("result", json!(true))],
                ),
                (
                    "compare",
                    compare(json!("80"), "string", ">", json!("9")),
                    vec![("result", json!(false))],
                ),
            ],
        );
        check_errors(
            "boolean",
            vec![(
                "compare",
                compare(json!(1), "number", "~=", json!(1)),
                "operator",
            )],
        );
    }
}
