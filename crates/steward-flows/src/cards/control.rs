//! Flow control (`kernel:control:*`) and the kernel triggers (`kernel:http:accept`,
//! `kernel:http:delegated`). Most are descriptors the engine interprets; Assign If and Lookup
//! only compute a value, so they are plain functions.

use crate::registry::{CardError, CardRegistry, Control, Inputs, Outputs, Trigger};

pub(super) fn register(r: &mut CardRegistry) {
    r.trigger("control", "callable", Trigger::Callable);
    r.trigger("http", "accept", Trigger::ApiEndpoint);
    r.trigger("http", "delegated", Trigger::Delegated);

    r.control("control", "noop", Control::Noop);
    r.control("control", "comment", Control::Comment);
    r.control("control", "let", Control::Let);
    r.control("control", "if", Control::If);
    r.control("control", "join", Control::Join);
    r.control("control", "branch", Control::Branch);
    r.control("control", "continueIf", Control::ContinueIf);
    r.control("control", "tryCatch", Control::TryCatch);
    r.control("control", "return", Control::Return);
    r.control("control", "returnRaw", Control::ReturnRaw);
    r.control("control", "throwIf", Control::ThrowIf);
    r.control("control", "throw", Control::Throw);
    r.control("control", "spawn", Control::CallFlow { wait: true });
    r.control("control", "run", Control::CallFlow { wait: false });

    r.function("control", "assignIf", assign_if);
    r.function("control", "lookup", lookup);
}

/// `valueIfTrue` when the condition holds, else `valueIfFalse`.
fn assign_if(inputs: &Inputs) -> Result<Outputs, CardError> {
    let key = if inputs.condition(None)? {
        "valueIfTrue"
    } else {
        "valueIfFalse"
    };
    Ok(Outputs::one("output", inputs.get(key).clone()))
}

/// Switch: the `options` input whose key is `key`, else `else`.
fn lookup(inputs: &Inputs) -> Result<Outputs, CardError> {
    let key = inputs.text("key");
    let found = inputs
        .fields
        .iter()
        .find(|f| f.group.as_deref() == Some("options") && f.key == key)
        .map(|f| f.value.clone());
    Ok(Outputs::one(
        "result",
        found.unwrap_or_else(|| inputs.get("else").clone()),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::check_table;
    use super::*;
    use crate::address::CardKey;
    use crate::registry::CardImpl;
    use serde_json::{json, Value};

    fn condition(l: Value, kind: &str, op: &str, r: Value) -> Inputs {
        Inputs::new()
            .typed("left-operand", kind, l)
            .with("operator", json!(op))
            .typed("right-operand", kind, r)
    }

    #[test]
    fn assign_if_and_lookup() {
        check_table(
            "control",
            vec![
                (
                    "assignIf",
                    condition(json!(3), "number", ">=", json!(2))
                        .with("valueIfTrue", json!("big"))
                        .with("valueIfFalse", json!("small")),
                    vec![("output", json!("big"))],
                ),
                (
                    "assignIf",
                    condition(json!("b"), "string", "==", json!("a"))
                        .with("valueIfTrue", json!(1))
                        .with("valueIfFalse", json!(0)),
                    vec![("output", json!(0))],
                ),
                (
                    "lookup",
                    Inputs::new()
                        .with("key", json!("Sales"))
                        .grouped("options", "Sales", json!("00gSales"))
                        .with("else", json!("00gAll")),
                    vec![("result", json!("00gSales"))],
                ),
                (
                    "lookup",
                    Inputs::new()
                        .with("key", json!("Legal"))
                        .grouped("options", "Sales", json!("00gSales"))
                        .with("else", json!("00gAll")),
                    vec![("result", json!("00gAll"))],
                ),
            ],
        );
    }

    #[test]
    fn control_cards_are_descriptors_and_their_conditions_evaluate() {
        let registry = CardRegistry::standard();
        let expected = [
            ("noop", Control::Noop),
            ("comment", Control::Comment),
            ("let", Control::Let),
            ("if", Control::If),
            ("join", Control::Join),
            ("branch", Control::Branch),
            ("continueIf", Control::ContinueIf),
            ("tryCatch", Control::TryCatch),
            ("return", Control::Return),
            ("returnRaw", Control::ReturnRaw),
            ("throwIf", Control::ThrowIf),
            ("throw", Control::Throw),
            ("spawn", Control::CallFlow { wait: true }),
            ("run", Control::CallFlow { wait: false }),
        ];
        for (key, control) in expected {
            match registry.get(&CardKey::kernel("control", key)) {
                Some(CardImpl::Control(c)) => assert_eq!(*c, control, "{key}"),
                _ => panic!("control:{key} is not a control card"),
            }
        }
        assert!(matches!(
            registry.get(&CardKey::kernel("http", "accept")),
            Some(CardImpl::Trigger(Trigger::ApiEndpoint))
        ));
        assert!(condition(json!(80), "number", ">", json!(9))
            .condition(None)
            .unwrap());
        assert!(!condition(json!("80"), "string", ">", json!("9"))
            .condition(None)
            .unwrap());
        // If/ElseIf groups carry their own operands.
        let grouped = Inputs::new()
            .grouped("if", "left-operand", json!("a"))
            .grouped("if", "operator", json!("=="))
            .grouped("if", "right-operand", json!("a"));
        assert!(grouped.condition(Some("if")).unwrap());
        assert!(grouped.condition(None).is_err());
    }
}
