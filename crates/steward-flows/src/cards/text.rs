//! Text cards (`kernel:string:*`, `kernel:url:encodeComponent`).

use base64::Engine;
use serde_json::Value;

use crate::registry::{CardError, CardRegistry, Inputs, Outputs};
use crate::value::{number, to_text};

pub(super) fn register(r: &mut CardRegistry) {
    r.function("string", "compose", compose);
    r.function("string", "concat", concat);
    r.function("string", "length", length);
    r.function("string", "split", split);
    r.function("string", "replace", replace);
    r.function("string", "toLowerCase", |i| {
        Ok(out(i.text("string").to_lowercase()))
    });
    r.function("string", "toUpperCase", |i| {
        Ok(out(i.text("string").to_uppercase()))
    });
    r.function("string", "trim", |i| {
        Ok(out(i.text("string").trim().to_string()))
    });
    r.function("string", "substr", substr);
    r.function("string", "find", find);
    r.function("string", "lastIndexOf", last_index_of);
    r.function("string", "contains", contains);
    r.function("string", "base64", |i| {
        Ok(out(
            base64::engine::general_purpose::STANDARD.encode(i.text("string"))
        ))
    });
    r.function("string", "base64Decode", base64_decode);
    r.function("url", "encodeComponent", |i| {
        Ok(out(encode_component(&i.text("string"))))
    });
}

fn out(text: String) -> Outputs {
    Outputs::one("output", Value::String(text))
}

/// `_text_` with `{{{KEY}}}` placeholders, each the key of another input of the card.
fn compose(inputs: &Inputs) -> Result<Outputs, CardError> {
    let mut text = inputs.text("_text_");
    for field in inputs.others(&["_text_"]) {
        text = text.replace(
            &format!("{{{{{{{}}}}}}}", field.key),
            &to_text(&field.value),
        );
    }
    Ok(out(text))
}

/// `string1`, `string2`, then the user's extra strings in display order.
fn concat(inputs: &Inputs) -> Result<Outputs, CardError> {
    let mut text = inputs.text("string1") + &inputs.text("string2");
    for field in inputs.others(&["string1", "string2"]) {
        text.push_str(&to_text(&field.value));
    }
    Ok(out(text))
}

fn length(inputs: &Inputs) -> Result<Outputs, CardError> {
    let n = inputs.text("string").encode_utf16().count();
    Ok(Outputs::one("length", number(n as f64)))
}

fn split(inputs: &Inputs) -> Result<Outputs, CardError> {
    let text = inputs.text("string");
    let delimiter = inputs.text("delimiter");
    let parts: Vec<Value> = if delimiter.is_empty() {
        text.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        text.split(delimiter.as_str())
            .map(|s| Value::String(s.to_string()))
            .collect()
    };
    Ok(Outputs::one("output", Value::Array(parts)))
}

/// `src` → `dest` in `string`; `global` replaces every instance, `sensitive` matches case.
fn replace(inputs: &Inputs) -> Result<Outputs, CardError> {
    let text = inputs.text("string");
    let src = inputs.text("src");
    let dest = inputs.text("dest");
    if src.is_empty() {
        return Ok(out(text));
    }
    let global = inputs.boolean("global");
    let sensitive = inputs
        .field("sensitive")
        .is_none_or(|f| crate::value::to_bool(&f.value));
    let mut result = String::new();
    let mut rest = text.as_str();
    let needle = if sensitive {
        src.clone()
    } else {
        src.to_lowercase()
    };
    loop {
        let haystack = if sensitive {
            rest.to_string()
        } else {
            rest.to_lowercase()
        };
        // Lowercasing can change byte lengths; fall back to case-sensitive search then.
        let found = if haystack.len() == rest.len() {
            haystack.find(&needle)
        } else {
            rest.find(&src)
        };
        match found {
            Some(at) => {
                result.push_str(&rest[..at]);
                result.push_str(&dest);
                rest = &rest[at + src.len()..];
                if !global {
                    break;
                }
            }
            None => break,
        }
    }
    result.push_str(rest);
    Ok(out(result))
}

/// Text Segment: characters `start` to `end` (exclusive; null or missing: to the end).
fn substr(inputs: &Inputs) -> Result<Outputs, CardError> {
    let chars: Vec<char> = inputs.text("string").chars().collect();
    let clamp = |n: f64| {
        let n = if n < 0.0 { chars.len() as f64 + n } else { n };
        n.clamp(0.0, chars.len() as f64) as usize
    };
    let start = clamp(inputs.number("start")?);
    let end = match inputs.get("end") {
        Value::Null => chars.len(),
        Value::String(s) if s.is_empty() => chars.len(),
        _ => clamp(inputs.number("end")?),
    };
    Ok(out(chars[start..end.max(start)].iter().collect()))
}

fn char_index(text: &str, byte: Option<usize>) -> Value {
    match byte {
        Some(b) => number(text[..b].chars().count() as f64),
        None => number(-1.0),
    }
}

/// Position of `substr` in `string`, −1 when absent.
fn find(inputs: &Inputs) -> Result<Outputs, CardError> {
    let text = inputs.text("string");
    let at = text.find(&inputs.text("substr"));
    Ok(Outputs::one("output", char_index(&text, at)))
}

fn last_index_of(inputs: &Inputs) -> Result<Outputs, CardError> {
    let text = inputs.text("string");
    let at = text.rfind(&inputs.text("substr"));
    Ok(Outputs::one("output", char_index(&text, at)))
}

fn contains(inputs: &Inputs) -> Result<Outputs, CardError> {
    let found = inputs.text("string").contains(&inputs.text("substr"));
    Ok(Outputs::one("output", Value::Bool(found)))
}

fn base64_decode(inputs: &Inputs) -> Result<Outputs, CardError> {
    let text = inputs.text("string");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()))
        .map_err(|e| CardError::input("string", format!("is not Base64: {e}")))?;
    let decoded = String::from_utf8(bytes)
        .map_err(|_| CardError::input("string", "does not decode to UTF-8 text"))?;
    Ok(out(decoded))
}

/// JavaScript's `encodeURIComponent`.
fn encode_component(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => encoded.push(byte as char),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{check_errors, check_table};
    use crate::registry::Inputs;
    use serde_json::json;

    #[test]
    fn text_cards() {
        let i = Inputs::new;
        check_table(
            "string",
            vec![
                (
                    "compose",
                    i().with(
                        "_text_",
                        json!("/governance/api/v2/resources/{{{ku-r-Wx1x}}}/request-conditions"),
                    )
                    .custom("ku-r-Wx1x", json!("0oak8vzkfzaGpB3D11d7")),
                    vec![(
                        "output",
                        json!(
                            "/governance/api/v2/resources/0oak8vzkfzaGpB3D11d7/request-conditions"
                        ),
                    )],
                ),
                (
                    "compose",
                    i().with("_text_", json!("{{{a}}} has {{{n}}} {{{o}}}"))
                        .custom("a", json!("Ann"))
                        .custom("n", json!(2.0))
                        .custom("o", json!({"k": 1})),
                    vec![("output", json!(r#"Ann has 2 {"k":1}"#))],
                ),
                (
                    "concat",
                    i().with("string1", json!("a"))
                        .with("string2", json!("b"))
                        .custom("string3", json!(3)),
                    vec![("output", json!("ab3"))],
                ),
                (
                    "length",
                    i().with("string", json!("héllo")),
                    vec![("length", json!(5))],
                ),
                (
                    "split",
                    i().with("string", json!("a,b,,c"))
                        .with("delimiter", json!(",")),
                    vec![("output", json!(["a", "b", "", "c"]))],
                ),
                (
                    "replace",
                    i().with("string", json!("Aa-aA"))
                        .with("src", json!("a"))
                        .with("dest", json!("x"))
                        .with("global", json!(true))
                        .with("sensitive", json!(false)),
                    vec![("output", json!("xx-xx"))],
                ),
                (
                    "replace",
                    i().with("string", json!("Aa-aA"))
                        .with("src", json!("a"))
                        .with("dest", json!("x"))
                        .with("global", json!(false))
                        .with("sensitive", json!(true)),
                    vec![("output", json!("Ax-aA"))],
                ),
                (
                    "toLowerCase",
                    i().with("string", json!("ÄbC")),
                    vec![("output", json!("äbc"))],
                ),
                (
                    "toUpperCase",
                    i().with("string", json!("abc")),
                    vec![("output", json!("ABC"))],
                ),
                (
                    "trim",
                    i().with("string", json!("  x \n")),
                    vec![("output", json!("x"))],
                ),
                (
                    "substr",
                    i().with("string", json!("governance"))
                        .with("start", json!(2))
                        .with("end", json!(null)),
                    vec![("output", json!("vernance"))],
                ),
                (
                    "substr",
                    i().with("string", json!("governance"))
                        .with("start", json!(0))
                        .with("end", json!(3)),
                    vec![("output", json!("gov"))],
                ),
                (
                    "find",
                    i().with("string", json!("a.b.c"))
                        .with("substr", json!(".")),
                    vec![("output", json!(1))],
                ),
                (
                    "find",
                    i().with("string", json!("abc")).with("substr", json!("z")),
                    vec![("output", json!(-1))],
                ),
                (
                    "lastIndexOf",
                    i().with("string", json!("a.b.c"))
                        .with("substr", json!(".")),
                    vec![("output", json!(3))],
                ),
                (
                    "contains",
                    i().with("string", json!("okta.com"))
                        .with("substr", json!("okta")),
                    vec![("output", json!(true))],
                ),
                (
                    "base64",
                    i().with("string", json!("user:pw")),
                    vec![("output", json!("dXNlcjpwdw=="))],
                ),
                (
                    "base64Decode",
                    i().with("string", json!("dXNlcjpwdw==")),
                    vec![("output", json!("user:pw"))],
                ),
            ],
        );
        check_table(
            "url",
            vec![(
                "encodeComponent",
                i().with("string", json!("a b&c/é")),
                vec![("output", json!("a%20b%26c%2F%C3%A9"))],
            )],
        );
        check_errors(
            "string",
            vec![("base64Decode", i().with("string", json!("***")), "Base64")],
        );
    }
}
