//! Number cards (`kernel:math:*`).

use serde_json::Value;

use crate::registry::{CardError, CardRegistry, Inputs, Outputs};
use crate::value::{number, to_number, to_text};

pub(super) fn register(r: &mut CardRegistry) {
    r.function("math", "add", |i| fold(i, 0.0, |a, b| a + b));
    r.function("math", "multiply", |i| fold(i, 1.0, |a, b| a * b));
    r.function("math", "subtract", |i| {
        Ok(Outputs::one(
            "output",
            number(i.number("a")? - i.number("b")?),
        ))
    });
    r.function("math", "divide", divide);
    r.function("math", "round", |i| {
        Ok(Outputs::one("output", number(i.number("a")?.round())))
    });
    r.function("math", "ceil", |i| {
        Ok(Outputs::one("output", number(i.number("a")?.ceil())))
    });
    r.function("math", "floor", |i| {
        Ok(Outputs::one("output", number(i.number("a")?.floor())))
    });
    r.function("math", "expression", expression);
}

/// `a`, `b`, then the user's extra numbers.
fn fold(inputs: &Inputs, start: f64, op: fn(f64, f64) -> f64) -> Result<Outputs, CardError> {
    let mut total = op(op(start, inputs.number("a")?), inputs.number("b")?);
    for field in inputs.others(&["a", "b"]) {
        let n = to_number(&field.value)
            .ok_or_else(|| CardError::input(&field.key, "is not a number"))?;
        total = op(total, n);
    }
    Ok(Outputs::one("output", number(total)))
}

/// `a / b`, rounded to `decimals` when given, and the same as a percentage text.
fn divide(inputs: &Inputs) -> Result<Outputs, CardError> {
    let b = inputs.number("b")?;
    if b == 0.0 {
        return Err(CardError::input("b", "cannot divide by zero"));
    }
    let mut q = inputs.number("a")? / b;
    let decimals = match inputs.get("decimals") {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        _ => Some(inputs.number("decimals")?.clamp(0.0, 15.0) as i32),
    };
    if let Some(d) = decimals {
        let scale = 10f64.powi(d);
        q = (q * scale).round() / scale;
    }
    let percentage = format!("{}%", to_text(&number(q * 100.0)));
    Ok(Outputs::one("output", number(q)).with("percentage", Value::String(percentage)))
}

/// Formula: `_text_` with `{{{KEY}}}` number placeholders; `+ - * / ^ ( )`.
fn expression(inputs: &Inputs) -> Result<Outputs, CardError> {
    let mut text = inputs.text("_text_");
    for field in inputs.others(&["_text_"]) {
        let n = to_number(&field.value)
            .ok_or_else(|| CardError::input(&field.key, "is not a number"))?;
        text = text.replace(&format!("{{{{{{{}}}}}}}", field.key), &format!("({n})"));
    }
    let mut parser = Formula {
        chars: text.chars().filter(|c| !c.is_whitespace()).collect(),
        at: 0,
    };
    let value = parser.sum()?;
    if parser.at != parser.chars.len() {
        return Err(CardError::input(
            "_text_",
            format!("cannot read the formula {text:?}"),
        ));
    }
    Ok(Outputs::one("output", number(value)))
}

struct Formula {
    chars: Vec<char>,
    at: usize,
}

impl Formula {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn fail(&self) -> CardError {
        let text: String = self.chars.iter().collect();
        CardError::input(
            "_text_",
            format!("cannot read the formula {text:?} at {}", self.at),
        )
    }

    fn sum(&mut self) -> Result<f64, CardError> {
        let mut value = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.at += 1;
            let rhs = self.product()?;
            value = if op == '+' { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    fn product(&mut self) -> Result<f64, CardError> {
        let mut value = self.power()?;
        while let Some(op @ ('*' | '/' | '%')) = self.peek() {
            self.at += 1;
            let rhs = self.power()?;
            value = match op {
                '*' => value * rhs,
                '/' if rhs == 0.0 => return Err(CardError::input("_text_", "division by zero")),
                '/' => value / rhs,
                _ => value % rhs,
            };
        }
        Ok(value)
    }

    /// `^` binds tighter than `*` and to the right.
    fn power(&mut self) -> Result<f64, CardError> {
        let base = self.unary()?;
        if self.peek() == Some('^') {
            self.at += 1;
            return Ok(base.powf(self.power()?));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<f64, CardError> {
        match self.peek() {
            Some('-') => {
                self.at += 1;
                Ok(-self.unary()?)
            }
            Some('+') => {
                self.at += 1;
                self.unary()
            }
            Some('(') => {
                self.at += 1;
                let value = self.sum()?;
                if self.peek() != Some(')') {
                    return Err(self.fail());
                }
                self.at += 1;
                Ok(value)
            }
            _ => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || c == '.' || c == 'e')
                {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                text.parse().map_err(|_| self.fail())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{check_errors, check_table};
    use crate::registry::Inputs;
    use serde_json::json;

    #[test]
    fn number_cards() {
        let i = Inputs::new;
        let ab = |a: serde_json::Value, b: serde_json::Value| i().with("a", a).with("b", b);
        check_table(
            "math",
            vec![
                (
                    "add",
                    ab(json!(2), json!("3")).custom("c", json!(4)),
                    vec![("output", json!(9))],
                ),
                (
                    "subtract",
                    ab(json!(2), json!(0.5)),
                    vec![("output", json!(1.5))],
                ),
                (
                    "multiply",
                    ab(json!(2), json!(3)),
                    vec![("output", json!(6))],
                ),
                (
                    "divide",
                    ab(json!(2), json!(3)).with("decimals", json!(2)),
                    vec![("output", json!(0.67)), ("percentage", json!("67%"))],
                ),
                (
                    "round",
                    i().with("a", json!(2.5)),
                    vec![("output", json!(3))],
                ),
                (
                    "ceil",
                    i().with("a", json!(2.1)),
                    vec![("output", json!(3))],
                ),
                (
                    "floor",
                    i().with("a", json!(2.9)),
                    vec![("output", json!(2))],
                ),
                (
                    "expression",
                    i().with("_text_", json!("{{{a}}} *(256)^3 + {{{b}}}"))
                        .custom("a", json!(1))
                        .custom("b", json!(-1)),
                    vec![("output", json!(16_777_215))],
                ),
                (
                    "expression",
                    i().with("_text_", json!("(1 + 2) * 3 - 4 / 2 ^ 2")),
                    vec![("output", json!(8))],
                ),
            ],
        );
        check_errors(
            "math",
            vec![
                ("divide", ab(json!(1), json!(0)), "zero"),
                ("add", ab(json!("x"), json!(1)), "not a number"),
                ("expression", i().with("_text_", json!("1 +")), "formula"),
            ],
        );
    }
}
