//! SCIM filter expressions, the `filter=` / `search=` syntax of Okta's list endpoints
//! (RFC 7644 §3.4.2.2): `profile.login sw "a" and (status eq "ACTIVE" or not (type.id pr))`.
//!
//! [`parse`] turns the text into a [`Filter`] tree with a small tokenizer and a recursive-descent
//! parser; [`Filter::matches`] evaluates it in memory and [`sql::to_sql`] turns it into a WHERE
//! fragment. Every list endpoint goes through this one parser so that they all accept and reject
//! the same inputs.

pub mod sql;

use std::cmp::Ordering;
use std::iter::Peekable;
use std::str::CharIndices;

use serde_json::Value as Json;

use crate::timefmt::parse_rfc3339_millis;

/// Filters longer than this are rejected before tokenizing (they are never legitimate and would
/// only cost CPU).
pub const MAX_FILTER_LEN: usize = 4096;
/// Maximum parenthesis nesting; bounds the parser's recursion.
pub const MAX_DEPTH: usize = 32;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attr op value`
    Compare {
        attr: String,
        op: CompareOp,
        value: Value,
    },
    /// `attr pr`
    Present(String),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// The comparison operators of RFC 7644.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Sw,
    Co,
    Ew,
}

impl CompareOp {
    /// The operator's keyword as written in filters (`eq`, `sw`, …).
    pub const fn keyword(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
            CompareOp::Sw => "sw",
            CompareOp::Co => "co",
            CompareOp::Ew => "ew",
        }
    }

    fn from_keyword(word: &str) -> Option<CompareOp> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
            CompareOp::Sw,
            CompareOp::Co,
            CompareOp::Ew,
        ];
        ALL.into_iter()
            .find(|op| op.keyword().eq_ignore_ascii_case(word))
    }

    /// Whether the operator is one of the substring matches `sw`, `co`, `ew`.
    pub const fn is_substring(self) -> bool {
        matches!(self, CompareOp::Sw | CompareOp::Co | CompareOp::Ew)
    }

    /// Whether `ordering` (actual compared with expected) satisfies the operator. Substring
    /// operators have no ordering meaning and never hold here.
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            CompareOp::Eq => ordering == Ordering::Equal,
            CompareOp::Ne => ordering != Ordering::Equal,
            CompareOp::Gt => ordering == Ordering::Greater,
            CompareOp::Ge => ordering != Ordering::Less,
            CompareOp::Lt => ordering == Ordering::Less,
            CompareOp::Le => ordering != Ordering::Greater,
            CompareOp::Sw | CompareOp::Co | CompareOp::Ew => false,
        }
    }
}

/// A literal on the right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Number(f64),
    Bool(bool),
    Null,
}

impl Value {
    /// A short description for error messages.
    fn describe(&self) -> String {
        match self {
            Value::String(s) => format!("string {s:?}"),
            Value::Number(n) => format!("number {n}"),
            Value::Bool(b) => format!("{b}"),
            Value::Null => "null".to_owned(),
        }
    }
}

/// Why a filter was rejected. The message is meant for the API client (it names the problem and,
/// for syntax errors, the byte offset).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    pub message: String,
}

impl FilterError {
    pub fn new(message: impl Into<String>) -> FilterError {
        FilterError {
            message: message.into(),
        }
    }

    fn at(offset: usize, what: impl std::fmt::Display) -> FilterError {
        FilterError::new(format!("{what} at byte {offset}"))
    }
}

/// Parses a filter expression.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(FilterError::new(format!(
            "filter is {} bytes long; the limit is {MAX_FILTER_LEN}",
            input.len()
        )));
    }
    if input.trim().is_empty() {
        return Err(FilterError::new("empty filter"));
    }
    let tokens = Lexer::new(input).tokenize()?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        end: input.len(),
    };
    let filter = parser.parse_or()?;
    if let Some(token) = parser.peek() {
        return Err(FilterError::at(
            token.at,
            format!(
                "unexpected {} after a complete expression",
                token.tok.describe()
            ),
        ));
    }
    Ok(filter)
}

impl Filter {
    /// All attribute paths referenced, in order of first appearance, without duplicates (to
    /// validate against an allow-list before querying).
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_attributes(&mut out);
        out
    }

    fn collect_attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::Compare { attr, .. } | Filter::Present(attr) => {
                if !out.contains(&attr.as_str()) {
                    out.push(attr);
                }
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.collect_attributes(out);
                b.collect_attributes(out);
            }
            Filter::Not(inner) => inner.collect_attributes(out),
        }
    }

    /// In-memory evaluation against a JSON object. Attribute paths are dotted lookups into the
    /// object (exact key first, then case-insensitively, as SCIM attribute names are); arrays met
    /// on the way are searched element by element and a comparison holds if any element matches.
    ///
    /// String `eq`/`ne`/`sw`/`co`/`ew` ignore case (Okta semantics); `gt`/`ge`/`lt`/`le` compare
    /// numbers numerically and strings lexically. Two strings that both parse as RFC 3339 are
    /// compared as instants, so `...00Z` equals `...00.000Z`, as it does in SQL on timestamp
    /// columns. A comparison against a missing or null attribute, or a value of another JSON
    /// type, is false (also for `ne`, matching SQL), except `eq null` / `ne null`.
    /// `pr` means present and non-empty: not null, not `""`, not `[]`, not `{}`.
    pub fn matches(&self, object: &Json) -> bool {
        match self {
            Filter::And(a, b) => a.matches(object) && b.matches(object),
            Filter::Or(a, b) => a.matches(object) || b.matches(object),
            Filter::Not(inner) => !inner.matches(object),
            Filter::Present(attr) => lookup(object, attr).into_iter().any(is_present),
            Filter::Compare { attr, op, value } => {
                let found = lookup(object, attr);
                match (op, value) {
                    (CompareOp::Eq, Value::Null) => found.iter().all(|v| v.is_null()),
                    (CompareOp::Ne, Value::Null) => found.iter().any(|v| !v.is_null()),
                    (_, Value::Null) => false,
                    _ => found.into_iter().any(|actual| compare(actual, *op, value)),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// In-memory evaluation

/// The values at `path`, with arrays flattened so that multi-valued attributes match per element.
fn lookup<'a>(object: &'a Json, path: &str) -> Vec<&'a Json> {
    let mut current = vec![object];
    for segment in path.split('.') {
        current = current
            .into_iter()
            .filter_map(|value| member(value, segment))
            .flat_map(|value| match value {
                Json::Array(items) => items.iter().collect(),
                other => vec![other],
            })
            .collect();
    }
    current
}

fn member<'a>(value: &'a Json, key: &str) -> Option<&'a Json> {
    let object = value.as_object()?;
    object.get(key).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn is_present(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::String(s) => !s.is_empty(),
        Json::Array(items) => !items.is_empty(),
        Json::Object(map) => !map.is_empty(),
        Json::Bool(_) | Json::Number(_) => true,
    }
}

fn compare(actual: &Json, op: CompareOp, expected: &Value) -> bool {
    match (actual, expected) {
        (Json::String(a), Value::String(e)) => compare_strings(a, op, e),
        (Json::Number(a), Value::Number(e)) => a
            .as_f64()
            .and_then(|a| a.partial_cmp(e))
            .is_some_and(|ordering| op.holds(ordering)),
        (Json::Bool(a), Value::Bool(e)) => match op {
            CompareOp::Eq => a == e,
            CompareOp::Ne => a != e,
            _ => false,
        },
        _ => false,
    }
}

fn compare_strings(actual: &str, op: CompareOp, expected: &str) -> bool {
    let lower = |s: &str| s.to_lowercase();
    match op {
        CompareOp::Sw => lower(actual).starts_with(&lower(expected)),
        CompareOp::Co => lower(actual).contains(&lower(expected)),
        CompareOp::Ew => lower(actual).ends_with(&lower(expected)),
        _ => {
            if let (Some(a), Some(e)) =
                (parse_rfc3339_millis(actual), parse_rfc3339_millis(expected))
            {
                return op.holds(a.cmp(&e));
            }
            match op {
                CompareOp::Eq | CompareOp::Ne => op.holds(lower(actual).cmp(&lower(expected))),
                _ => op.holds(actual.cmp(expected)),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    /// Attribute paths, operators and keywords (`and`, `true`, …); told apart by the parser.
    Word(String),
    Str(String),
    Num(f64),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::Word(w) => format!("'{w}'"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Num(n) => format!("number {n}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Byte offset of the token's first character, for error messages.
    at: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')
}

struct Lexer<'a> {
    input: &'a str,
    chars: Peekable<CharIndices<'a>>,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str) -> Lexer<'a> {
        Lexer {
            input,
            chars: input.char_indices().peekable(),
        }
    }

    fn tokenize(mut self) -> Result<Vec<Token>, FilterError> {
        let mut tokens = Vec::new();
        while let Some(&(at, c)) = self.chars.peek() {
            let tok = match c {
                c if c.is_whitespace() => {
                    self.chars.next();
                    continue;
                }
                '(' => {
                    self.chars.next();
                    Tok::LParen
                }
                ')' => {
                    self.chars.next();
                    Tok::RParen
                }
                '"' => {
                    self.chars.next();
                    Tok::Str(self.string(at)?)
                }
                '-' | '0'..='9' => self.number(at)?,
                c if c.is_ascii_alphabetic() || c == '_' || c == '$' => {
                    Tok::Word(self.run(is_word_char).to_owned())
                }
                other => {
                    return Err(FilterError::at(
                        at,
                        format!("unexpected character {other:?}"),
                    ))
                }
            };
            tokens.push(Token { tok, at });
        }
        Ok(tokens)
    }

    /// Consumes the longest run of characters satisfying `accept` and returns it.
    fn run(&mut self, accept: impl Fn(char) -> bool) -> &'a str {
        let start = self.chars.peek().map_or(self.input.len(), |&(i, _)| i);
        let mut end = start;
        while let Some(&(i, c)) = self.chars.peek() {
            if !accept(c) {
                break;
            }
            end = i + c.len_utf8();
            self.chars.next();
        }
        &self.input[start..end]
    }

    /// A JSON number. The whole run of word-like characters is taken first so that `12abc` is
    /// reported as one bad number rather than as a number followed by something confusing.
    fn number(&mut self, at: usize) -> Result<Tok, FilterError> {
        let text = self.run(|c| is_word_char(c) || c == '+' || c == '-');
        if !is_json_number(text) {
            return Err(FilterError::at(at, format!("invalid number '{text}'")));
        }
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Tok::Num(n)),
            _ => Err(FilterError::at(
                at,
                format!("number '{text}' is out of range"),
            )),
        }
    }

    /// The rest of a string literal whose opening quote is at `start`; JSON escapes apply.
    fn string(&mut self, start: usize) -> Result<String, FilterError> {
        let unterminated = || FilterError::at(start, "unterminated string starting");
        let mut out = String::new();
        loop {
            let (at, c) = self.chars.next().ok_or_else(unterminated)?;
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let (_, escaped) = self.chars.next().ok_or_else(unterminated)?;
                    out.push(match escaped {
                        '"' => '"',
                        '\\' => '\\',
                        '/' => '/',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'u' => self.unicode_escape(at)?,
                        other => {
                            return Err(FilterError::at(
                                at,
                                format!("invalid escape sequence '\\{other}' in string"),
                            ))
                        }
                    });
                }
                c => out.push(c),
            }
        }
    }

    /// `\uXXXX` (the `\u` already consumed), including a following low surrogate if needed.
    fn unicode_escape(&mut self, at: usize) -> Result<char, FilterError> {
        let invalid = || FilterError::at(at, "invalid \\u escape in string");
        let high = self.hex4().ok_or_else(invalid)?;
        let mut units = vec![high];
        if (0xD800..0xDC00).contains(&high) {
            // A high surrogate must be followed by `\uDC00`..`\uDFFF`.
            if self.chars.next().map(|(_, c)| c) != Some('\\')
                || self.chars.next().map(|(_, c)| c) != Some('u')
            {
                return Err(invalid());
            }
            units.push(self.hex4().ok_or_else(invalid)?);
        }
        match char::decode_utf16(units).collect::<Vec<_>>().as_slice() {
            [Ok(c)] => Ok(*c),
            _ => Err(invalid()),
        }
    }

    fn hex4(&mut self) -> Option<u16> {
        let mut value: u16 = 0;
        for _ in 0..4 {
            let (_, c) = self.chars.next()?;
            value = value * 16 + u16::try_from(c.to_digit(16)?).ok()?;
        }
        Some(value)
    }
}

/// `-?digits(.digits)?([eE][+-]?digits)?`
fn is_json_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if bytes.first() == Some(&b'-') {
        i += 1;
    }
    if !digits(&mut i) {
        return false;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == bytes.len()
}

// ---------------------------------------------------------------------------------------------
// Parser
//
//   or    := and ("or" and)*
//   and   := unary ("and" unary)*
//   unary := "not" "(" or ")" | "(" or ")" | attr "pr" | attr op value

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Input length, the offset reported for "unexpected end" errors.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    /// The next token, consumed (cloned, so the parser stays free to recurse).
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(keyword))
    }

    fn parse_or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.parse_and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.parse_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.parse_unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.parse_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Filter, FilterError> {
        let end = self.end;
        let Some(token) = self.next() else {
            return Err(FilterError::at(
                end,
                "unexpected end of filter: expected an attribute, '(' or 'not'",
            ));
        };
        let at = token.at;
        match token.tok {
            Tok::LParen => self.parse_group(at),
            Tok::Word(w) if w.eq_ignore_ascii_case("not") => match self.next() {
                Some(Token {
                    tok: Tok::LParen,
                    at,
                }) => Ok(Filter::Not(Box::new(self.parse_group(at)?))),
                _ => Err(FilterError::at(at, "expected '(' after 'not'")),
            },
            Tok::Word(w) if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") => Err(
                FilterError::at(at, format!("expected an attribute, found '{w}'")),
            ),
            Tok::Word(attr) => self.parse_attr_expr(attr, at),
            other => Err(FilterError::at(
                at,
                format!(
                    "expected an attribute, '(' or 'not', found {}",
                    other.describe()
                ),
            )),
        }
    }

    /// The inside of a parenthesised group whose `(` (at `open`) was just consumed.
    fn parse_group(&mut self, open: usize) -> Result<Filter, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError::at(
                open,
                format!("parentheses nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let inner = self.parse_or()?;
        match self.next() {
            Some(Token {
                tok: Tok::RParen, ..
            }) => {
                self.depth -= 1;
                Ok(inner)
            }
            Some(token) => Err(FilterError::at(
                token.at,
                format!(
                    "expected ')' to close the '(' at byte {open}, found {}",
                    token.tok.describe()
                ),
            )),
            None => Err(FilterError::new(format!(
                "missing ')' to close the '(' at byte {open}"
            ))),
        }
    }

    /// `attr pr` or `attr op value`, the attribute (at byte `at`) already consumed.
    fn parse_attr_expr(&mut self, attr: String, at: usize) -> Result<Filter, FilterError> {
        if attr.split('.').any(str::is_empty) {
            return Err(FilterError::at(
                at,
                format!("invalid attribute path '{attr}'"),
            ));
        }
        let end = self.end;
        let op = match self.next() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) if w.eq_ignore_ascii_case("pr") => return Ok(Filter::Present(attr)),
            Some(Token {
                tok: Tok::Word(w),
                at,
            }) => CompareOp::from_keyword(&w)
                .ok_or_else(|| FilterError::at(at, format!("unknown operator '{w}'")))?,
            Some(token) => {
                return Err(FilterError::at(
                    token.at,
                    format!(
                        "expected an operator after '{attr}', found {}",
                        token.tok.describe()
                    ),
                ))
            }
            None => {
                return Err(FilterError::at(
                    end,
                    format!("unexpected end of filter: expected an operator after '{attr}'"),
                ))
            }
        };
        let expected_value = || {
            format!(
                "expected a value (string, number, true, false or null) after '{}'",
                op.keyword()
            )
        };
        let value = match self.next() {
            Some(Token {
                tok: Tok::Str(s), ..
            }) => Value::String(s),
            Some(Token {
                tok: Tok::Num(n), ..
            }) => Value::Number(n),
            Some(Token {
                tok: Tok::Word(w),
                at,
            }) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => {
                    return Err(FilterError::at(
                        at,
                        format!("{}, found '{w}'", expected_value()),
                    ))
                }
            },
            Some(token) => {
                return Err(FilterError::at(
                    token.at,
                    format!("{}, found {}", expected_value(), token.tok.describe()),
                ))
            }
            None => {
                return Err(FilterError::at(
                    end,
                    format!("unexpected end of filter: {}", expected_value()),
                ))
            }
        };
        Ok(Filter::Compare { attr, op, value })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cmp(attr: &str, op: CompareOp, value: Value) -> Filter {
        Filter::Compare {
            attr: attr.to_owned(),
            op,
            value,
        }
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Filter) -> Filter {
        Filter::Not(Box::new(a))
    }

    fn err(input: &str) -> String {
        parse(input).unwrap_err().message
    }

    #[test]
    fn parses_a_simple_comparison() {
        assert_eq!(
            parse(r#"status eq "ACTIVE""#).unwrap(),
            cmp("status", CompareOp::Eq, s("ACTIVE"))
        );
    }

    #[test]
    fn parses_every_operator_case_insensitively() {
        for (word, op) in [
            ("eq", CompareOp::Eq),
            ("NE", CompareOp::Ne),
            ("Gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("LE", CompareOp::Le),
            ("sw", CompareOp::Sw),
            ("co", CompareOp::Co),
            ("eW", CompareOp::Ew),
        ] {
            assert_eq!(
                parse(&format!(r#"profile.login {word} "x""#)).unwrap(),
                cmp("profile.login", op, s("x")),
                "{word}"
            );
        }
        assert_eq!(
            parse("type.id PR").unwrap(),
            Filter::Present("type.id".into())
        );
    }

    #[test]
    fn parses_value_kinds() {
        assert_eq!(
            parse("a eq 42").unwrap(),
            cmp("a", CompareOp::Eq, Value::Number(42.0))
        );
        assert_eq!(
            parse("a gt -1.5").unwrap(),
            cmp("a", CompareOp::Gt, Value::Number(-1.5))
        );
        assert_eq!(
            parse("a lt 1e3").unwrap(),
            cmp("a", CompareOp::Lt, Value::Number(1000.0))
        );
        assert_eq!(
            parse("a eq true").unwrap(),
            cmp("a", CompareOp::Eq, Value::Bool(true))
        );
        assert_eq!(
            parse("a ne FALSE").unwrap(),
            cmp("a", CompareOp::Ne, Value::Bool(false))
        );
        assert_eq!(
            parse("a eq null").unwrap(),
            cmp("a", CompareOp::Eq, Value::Null)
        );
    }

    #[test]
    fn attribute_paths_allow_letters_digits_underscore_dot_dollar() {
        for attr in [
            "lastUpdated",
            "profile.login",
            "target.externalId",
            "a_1.$ref",
            "_x",
        ] {
            assert_eq!(
                parse(&format!("{attr} pr")).unwrap(),
                Filter::Present(attr.into())
            );
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let expected = or(
            cmp("a", CompareOp::Eq, s("1")),
            and(
                cmp("b", CompareOp::Eq, s("2")),
                cmp("c", CompareOp::Eq, s("3")),
            ),
        );
        assert_eq!(
            parse(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap(),
            expected
        );
        let expected = or(
            and(
                cmp("a", CompareOp::Eq, s("1")),
                cmp("b", CompareOp::Eq, s("2")),
            ),
            cmp("c", CompareOp::Eq, s("3")),
        );
        assert_eq!(
            parse(r#"a eq "1" AND b eq "2" OR c eq "3""#).unwrap(),
            expected
        );
    }

    #[test]
    fn and_or_are_left_associative() {
        assert_eq!(
            parse("a pr and b pr and c pr").unwrap(),
            and(
                and(Filter::Present("a".into()), Filter::Present("b".into())),
                Filter::Present("c".into())
            )
        );
        assert_eq!(
            parse("a pr or b pr or c pr").unwrap(),
            or(
                or(Filter::Present("a".into()), Filter::Present("b".into())),
                Filter::Present("c".into())
            )
        );
    }

    #[test]
    fn parentheses_and_not() {
        let expected = and(
            or(
                cmp("a", CompareOp::Eq, s("1")),
                cmp("b", CompareOp::Eq, s("2")),
            ),
            not(cmp("c", CompareOp::Eq, s("3"))),
        );
        assert_eq!(
            parse(r#"(a eq "1" or b eq "2") and not (c eq "3")"#).unwrap(),
            expected
        );
        assert_eq!(
            parse(r#"(a eq "1" or b eq "2")and not(c eq "3")"#).unwrap(),
            expected
        );
        assert_eq!(
            parse(" ( ( a pr ) ) ").unwrap(),
            Filter::Present("a".into())
        );
        assert_eq!(
            parse("NOT (not (a pr))").unwrap(),
            not(not(Filter::Present("a".into())))
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            parse(r#"a eq "say \"hi\" \\ back\/slash""#).unwrap(),
            cmp("a", CompareOp::Eq, s(r#"say "hi" \ back/slash"#))
        );
        assert_eq!(
            parse(r#"a eq "tab\there\nline""#).unwrap(),
            cmp("a", CompareOp::Eq, s("tab\there\nline"))
        );
        assert_eq!(
            parse(r#"a eq "\u00e9\ud83d\ude00""#).unwrap(),
            cmp("a", CompareOp::Eq, s("é😀"))
        );
        assert_eq!(
            parse(r#"a eq "héllo ) and ( or""#).unwrap(),
            cmp("a", CompareOp::Eq, s("héllo ) and ( or"))
        );
        assert_eq!(parse(r#"a eq """#).unwrap(), cmp("a", CompareOp::Eq, s("")));
    }

    #[test]
    fn rejects_empty_input() {
        assert_eq!(err(""), "empty filter");
        assert_eq!(err("   \t"), "empty filter");
    }

    #[test]
    fn rejects_unbalanced_parentheses() {
        assert_eq!(err("(a pr"), "missing ')' to close the '(' at byte 0");
        assert_eq!(
            err("((a pr) and b pr"),
            "missing ')' to close the '(' at byte 0"
        );
        assert_eq!(
            err("a pr)"),
            "unexpected ')' after a complete expression at byte 4"
        );
        assert_eq!(
            err("()"),
            "expected an attribute, '(' or 'not', found ')' at byte 1"
        );
        assert_eq!(
            err("(a pr b pr)"),
            "expected ')' to close the '(' at byte 0, found 'b' at byte 6"
        );
    }

    #[test]
    fn rejects_unterminated_strings_and_bad_escapes() {
        assert_eq!(
            err(r#"a eq "abc"#),
            "unterminated string starting at byte 5"
        );
        assert_eq!(
            err(r#"a eq "abc\"#),
            "unterminated string starting at byte 5"
        );
        assert_eq!(
            err(r#"a eq "abc\""#),
            "unterminated string starting at byte 5"
        );
        assert_eq!(
            err(r#"a eq "\x""#),
            "invalid escape sequence '\\x' in string at byte 6"
        );
        assert_eq!(
            err(r#"a eq "\u12""#),
            "invalid \\u escape in string at byte 6"
        );
        assert_eq!(
            err(r#"a eq "\ud83d""#),
            "invalid \\u escape in string at byte 6"
        );
        assert_eq!(
            err(r#"a eq "\ude00""#),
            "invalid \\u escape in string at byte 6"
        );
    }

    #[test]
    fn rejects_unknown_operators_and_missing_parts() {
        assert_eq!(err(r#"a like "x""#), "unknown operator 'like' at byte 2");
        assert_eq!(err(r#"a == "x""#), "unexpected character '=' at byte 2");
        assert_eq!(
            err("a"),
            "unexpected end of filter: expected an operator after 'a' at byte 1"
        );
        assert_eq!(
            err("a eq"),
            "unexpected end of filter: expected a value (string, number, true, false or null) after 'eq' at byte 4"
        );
        assert_eq!(
            err("a eq b"),
            "expected a value (string, number, true, false or null) after 'eq', found 'b' at byte 5"
        );
        assert_eq!(
            err("a eq (1)"),
            "expected a value (string, number, true, false or null) after 'eq', found '(' at byte 5"
        );
        assert_eq!(
            err(r#"a "x""#),
            "expected an operator after 'a', found string \"x\" at byte 2"
        );
        assert_eq!(
            err("a pr and"),
            "unexpected end of filter: expected an attribute, '(' or 'not' at byte 8"
        );
        assert_eq!(
            err("a pr and or b pr"),
            "expected an attribute, found 'or' at byte 9"
        );
        assert_eq!(err("not a pr"), "expected '(' after 'not' at byte 0");
        assert_eq!(
            err(r#""x" eq a"#),
            "expected an attribute, '(' or 'not', found string \"x\" at byte 0"
        );
    }

    #[test]
    fn rejects_bad_attribute_paths_and_characters() {
        assert_eq!(err("a..b pr"), "invalid attribute path 'a..b' at byte 0");
        assert_eq!(err("a. pr"), "invalid attribute path 'a.' at byte 0");
        assert_eq!(
            err("emails[type eq \"work\"]"),
            "unexpected character '[' at byte 6"
        );
        assert_eq!(err("a eq 'x'"), "unexpected character '\\'' at byte 5");
        assert_eq!(
            err("a pr; drop table users"),
            "unexpected character ';' at byte 4"
        );
    }

    #[test]
    fn rejects_bad_numbers() {
        assert_eq!(err("a eq 12abc"), "invalid number '12abc' at byte 5");
        assert_eq!(err("a eq 1."), "invalid number '1.' at byte 5");
        assert_eq!(err("a eq --1"), "invalid number '--1' at byte 5");
        assert_eq!(err("a eq -"), "invalid number '-' at byte 5");
        assert_eq!(
            err("a eq 1e999"),
            "number '1e999' is out of range at byte 5"
        );
    }

    #[test]
    fn rejects_trailing_garbage() {
        assert_eq!(
            err(r#"a eq "1" b eq "2""#),
            "unexpected 'b' after a complete expression at byte 9"
        );
        assert_eq!(
            err(r#"a eq "1" "2""#),
            "unexpected string \"2\" after a complete expression at byte 9"
        );
    }

    #[test]
    fn rejects_deep_nesting() {
        let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse(&ok).unwrap(), Filter::Present("a".into()));
        let too_deep = format!(
            "{}a pr{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(
            err(&too_deep),
            "parentheses nested deeper than 32 levels at byte 32"
        );
        let nots = format!(
            "{}a pr{}",
            "not (".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(err(&nots).starts_with("parentheses nested deeper than 32 levels"));
        // Sequential groups do not add up.
        let wide = vec!["(a pr)"; 100].join(" or ");
        assert!(parse(&wide).is_ok());
    }

    #[test]
    fn rejects_overlong_input() {
        let padded = format!("a pr{}", " ".repeat(MAX_FILTER_LEN - 4));
        assert!(parse(&padded).is_ok());
        let long = format!("a pr{}", " ".repeat(MAX_FILTER_LEN - 3));
        assert_eq!(err(&long), "filter is 4097 bytes long; the limit is 4096");
    }

    #[test]
    fn lists_attributes_once_in_order() {
        let f = parse(r#"b eq "1" and (a pr or not (b ne "2")) or profile.login sw "x""#).unwrap();
        assert_eq!(f.attributes(), vec!["b", "a", "profile.login"]);
    }

    fn user() -> Json {
        json!({
            "id": "00u1",
            "status": "ACTIVE",
            "created": "2024-01-31T12:00:00.000Z",
            "lastLogin": null,
            "profile": {
                "login": "Ada.Lovelace@Example.com",
                "firstName": "Ada",
                "department": "",
                "age": 36,
                "admin": false,
                "emails": ["ada@example.com", "countess@example.org"],
                "manager": { "id": "00u2", "name": "Babbage" }
            },
            "groups": [ { "name": "Everyone" }, { "name": "Engineering" } ]
        })
    }

    fn matches(filter: &str) -> bool {
        parse(filter).unwrap().matches(&user())
    }

    #[test]
    fn matches_string_operators_case_insensitively() {
        assert!(matches(r#"status eq "active""#));
        assert!(!matches(r#"status ne "Active""#));
        assert!(matches(r#"status ne "SUSPENDED""#));
        assert!(matches(r#"profile.login sw "ada.""#));
        assert!(matches(r#"profile.login co "LOVELACE""#));
        assert!(matches(r#"profile.login ew "@example.COM""#));
        assert!(!matches(r#"profile.login ew "@example.org""#));
        assert!(matches(r#"profile.login sw """#));
    }

    #[test]
    fn matches_nested_and_multivalued_paths() {
        assert!(matches(r#"profile.manager.name eq "babbage""#));
        assert!(matches(r#"profile.emails ew ".org""#));
        assert!(matches(r#"groups.name eq "engineering""#));
        assert!(!matches(r#"groups.name eq "Admins""#));
        assert!(matches(r#"PROFILE.FirstName eq "ada""#));
        assert!(!matches(r#"profile.nope eq "x""#));
        assert!(!matches(r#"status.deeper eq "x""#));
    }

    #[test]
    fn matches_ordering() {
        assert!(matches("profile.age gt 35"));
        assert!(matches("profile.age ge 36.0"));
        assert!(!matches("profile.age lt 36"));
        assert!(matches("profile.age le 36"));
        assert!(matches("profile.age eq 36"));
        assert!(!matches(r#"profile.age eq "36""#));
        assert!(!matches("profile.age sw 3"));
        assert!(matches(r#"created gt "2024-01-01T00:00:00.000Z""#));
        assert!(!matches(r#"created gt "2024-02-01T00:00:00Z""#));
        assert!(matches(r#"created lt "2025-01-01""#)); // not RFC 3339: lexical
                                                        // Equal instants in different RFC 3339 spellings.
        assert!(matches(r#"created eq "2024-01-31T12:00:00Z""#));
        assert!(matches(r#"created ge "2024-01-31T13:00:00+01:00""#));
        assert!(!matches(r#"created gt "2024-01-31T13:00:00+01:00""#));
        // Lexical comparisons are case-sensitive.
        assert!(matches(r#"status lt "active""#));
    }

    #[test]
    fn matches_bool_null_and_presence() {
        assert!(matches("profile.admin eq false"));
        assert!(matches("profile.admin ne true"));
        assert!(!matches("profile.admin gt false"));
        assert!(matches("lastLogin eq null"));
        assert!(matches("missing eq null"));
        assert!(!matches("status eq null"));
        assert!(matches("status ne null"));
        assert!(!matches("lastLogin ne null"));
        assert!(matches("status pr"));
        assert!(matches("profile.manager pr"));
        assert!(matches("profile.admin pr"));
        assert!(!matches("lastLogin pr"));
        assert!(!matches("profile.department pr"));
        assert!(!matches("missing pr"));
        // A missing attribute satisfies neither `ne` nor `eq` (as in SQL), but does satisfy `not`.
        assert!(!matches(r#"missing ne "x""#));
        assert!(matches(r#"not (missing eq "x")"#));
    }

    #[test]
    fn matches_logic() {
        assert!(matches(
            r#"status eq "ACTIVE" and profile.firstName eq "Ada""#
        ));
        assert!(!matches(
            r#"status eq "ACTIVE" and profile.firstName eq "Bob""#
        ));
        assert!(matches(r#"status eq "X" or profile.firstName eq "Ada""#));
        assert!(matches(
            r#"status eq "ACTIVE" or status eq "X" and id eq "nope""#
        ));
        assert!(!matches(
            r#"(status eq "ACTIVE" or status eq "X") and id eq "nope""#
        ));
        assert!(matches(r#"not (status eq "SUSPENDED")"#));
        assert!(!matches(r#"not (status eq "ACTIVE")"#));
    }

    #[test]
    fn non_objects_match_nothing() {
        let f = parse(r#"a eq "x""#).unwrap();
        assert!(!f.matches(&json!("x")));
        assert!(!f.matches(&json!(null)));
        assert!(parse("a eq null").unwrap().matches(&json!([])));
    }
}
