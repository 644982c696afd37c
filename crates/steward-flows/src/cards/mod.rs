//! The function cards, one small function each, grouped by family, and the control and trigger
//! descriptors. Each family registers itself and tests itself with one table.

mod boolean;
mod control;
mod date;
mod list;
mod math;
mod object;
mod text;

use crate::registry::CardRegistry;

pub(crate) fn register_all(registry: &mut CardRegistry) {
    control::register(registry);
    text::register(registry);
    math::register(registry);
    boolean::register(registry);
    object::register(registry);
    list::register(registry);
    date::register(registry);
    crate::events::register(registry);
}

/// One case of a card table: the card's key, its inputs, the outputs expected.
#[cfg(test)]
pub(crate) type Case<'a> = (
    &'a str,
    crate::registry::Inputs,
    Vec<(&'a str, serde_json::Value)>,
);

/// Runs one table of `(card, inputs, expected outputs)` against the standard registry.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) fn check_table(module: &str, cases: Vec<Case<'_>>) {
    let registry = CardRegistry::standard();
    for (key, inputs, expected) in cases {
        let card = crate::address::CardKey::kernel(module, key);
        let outputs = registry
            .call(&card, &inputs)
            .unwrap_or_else(|e| panic!("{card} with {inputs:?}: {e}"));
        for (output, value) in expected {
            assert_eq!(
                outputs.get(output),
                Some(&value),
                "{card} output {output} with {:?}",
                inputs.fields
            );
        }
    }
}

/// Cases that must fail: `(card, inputs, a fragment of the error)`.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) fn check_errors(module: &str, cases: Vec<(&str, crate::registry::Inputs, &str)>) {
    let registry = CardRegistry::standard();
    for (key, inputs, fragment) in cases {
        let card = crate::address::CardKey::kernel(module, key);
        match registry.call(&card, &inputs) {
            Ok(out) => panic!("{card} should fail, gave {out:?}"),
            Err(e) => assert!(
                e.to_string().contains(fragment),
                "{card}: {e} should mention {fragment}"
            ),
        }
    }
}
