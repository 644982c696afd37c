//! Translation of a [`Filter`] into a SQL WHERE fragment for SQLite or PostgreSQL.
//!
//! Only trusted text is ever inlined: the column expressions the caller's resolver returns, JSON
//! keys that pass a strict `[A-Za-z0-9_]+` check, and fixed keywords. Every filter value becomes a
//! bind parameter.
//!
//! NULL handling: a comparison against a NULL column is false (so `ne` does not match rows where
//! the attribute is missing), and `not (...)` is evaluated in two-valued logic by coalescing its
//! operand to FALSE, so `not (a eq "x")` does match rows where `a` is NULL. This is what
//! [`Filter::matches`] does in memory.

use super::{CompareOp, Filter, FilterError, Value};
use crate::timefmt::parse_rfc3339_millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// How a filter attribute maps to SQL. Both forms are inlined into the query text as given, so
/// they must come from the server's own mapping, never from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// A plain column; `kind` tells how to bind values.
    Plain { expr: String, kind: ColumnKind },
    /// A key inside a JSON text column, e.g. profile.department -> json column "profile", key
    /// "department". String values compare case-insensitively; numbers and booleans compare only
    /// with JSON values of the same type.
    JsonText { column: String, key: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Case-sensitive text.
    Text,
    /// Case-insensitive text (`eq`, `ne`, `sw`, `co`, `ew` compare lower-cased).
    TextCi,
    /// An integer; filter values must be integral numbers.
    Integer,
    /// Epoch milliseconds; filter values must be RFC 3339 timestamp strings.
    TimestampMillis,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    Float(f64),
}

/// A WHERE fragment and its bind values, in placeholder order: `binds[i]` is `$(first_param + i)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFragment {
    pub sql: String,
    pub binds: Vec<SqlValue>,
}

/// Translates `filter` into a WHERE fragment with numbered placeholders `$n` starting at
/// `first_param` (both SQLite and PostgreSQL accept `$1` style via sqlx). `resolve` maps an
/// attribute path to a Column or returns None, which yields FilterError("unsupported attribute
/// ..."). The next free placeholder after the fragment is `first_param + binds.len()`.
pub fn to_sql(
    filter: &Filter,
    dialect: Dialect,
    first_param: usize,
    resolve: &dyn Fn(&str) -> Option<Column>,
) -> Result<SqlFragment, FilterError> {
    if first_param == 0 {
        return Err(FilterError::new("SQL placeholders are numbered from 1"));
    }
    let mut builder = Builder {
        dialect,
        next_param: first_param,
        binds: Vec::new(),
        resolve,
    };
    let sql = builder.filter(filter)?;
    Ok(SqlFragment {
        sql,
        binds: builder.binds,
    })
}

struct Builder<'r> {
    dialect: Dialect,
    next_param: usize,
    binds: Vec<SqlValue>,
    resolve: &'r dyn Fn(&str) -> Option<Column>,
}

impl Builder<'_> {
    /// Adds a bind value and returns its placeholder.
    fn bind(&mut self, value: SqlValue) -> String {
        let placeholder = format!("${}", self.next_param);
        self.next_param += 1;
        self.binds.push(value);
        placeholder
    }

    fn filter(&mut self, filter: &Filter) -> Result<String, FilterError> {
        // Operands are translated left to right so placeholders number in reading order.
        match filter {
            Filter::And(a, b) => {
                let a = self.filter(a)?;
                let b = self.filter(b)?;
                Ok(format!("({a} AND {b})"))
            }
            Filter::Or(a, b) => {
                let a = self.filter(a)?;
                let b = self.filter(b)?;
                Ok(format!("({a} OR {b})"))
            }
            Filter::Not(inner) => {
                let inner = self.filter(inner)?;
                Ok(format!("(NOT COALESCE({inner}, FALSE))"))
            }
            Filter::Present(attr) => {
                let column = self.column(attr)?;
                let expr = self.expr(&column)?;
                Ok(match column {
                    Column::Plain { .. } => format!("({expr} IS NOT NULL)"),
                    Column::JsonText { .. } => format!("({expr} IS NOT NULL AND {expr} <> '')"),
                })
            }
            Filter::Compare { attr, op, value } => self.compare(attr, *op, value),
        }
    }

    fn column(&self, attr: &str) -> Result<Column, FilterError> {
        (self.resolve)(attr)
            .ok_or_else(|| FilterError::new(format!("unsupported attribute '{attr}' in filter")))
    }

    /// The SQL expression reading the column's value (as text, for JSON keys).
    fn expr(&self, column: &Column) -> Result<String, FilterError> {
        match column {
            Column::Plain { expr, .. } => Ok(expr.clone()),
            Column::JsonText { column, key } => {
                check_json_key(key)?;
                Ok(match self.dialect {
                    Dialect::Sqlite => format!("json_extract({column}, '$.{key}')"),
                    Dialect::Postgres => format!("({column}::jsonb ->> '{key}')"),
                })
            }
        }
    }

    fn compare(&mut self, attr: &str, op: CompareOp, value: &Value) -> Result<String, FilterError> {
        let column = self.column(attr)?;
        let expr = self.expr(&column)?;
        match (&column, value) {
            (_, Value::Null) => match op {
                CompareOp::Eq => Ok(format!("({expr} IS NULL)")),
                CompareOp::Ne => Ok(format!("({expr} IS NOT NULL)")),
                _ => Err(mismatch(attr, op, value, "a non-null value")),
            },
            (Column::JsonText { .. }, Value::String(s)) => Ok(self.text(&expr, op, s, true)),
            (Column::JsonText { column, key }, Value::Number(n)) => {
                self.json_number(column, key, attr, op, *n)
            }
            (Column::JsonText { column, key }, Value::Bool(b)) => {
                self.json_bool(column, key, attr, op, *b)
            }
            (Column::Plain { kind, .. }, _) => match (kind, value) {
                (ColumnKind::Text, Value::String(s)) => Ok(self.text(&expr, op, s, false)),
                (ColumnKind::TextCi, Value::String(s)) => Ok(self.text(&expr, op, s, true)),
                (ColumnKind::Integer, Value::Number(n)) => {
                    let n = integral(*n).ok_or_else(|| mismatch(attr, op, value, "an integer"))?;
                    self.ordered(&expr, attr, op, SqlValue::Int(n))
                }
                (ColumnKind::TimestampMillis, Value::String(s)) => {
                    let ms = parse_rfc3339_millis(s)
                        .ok_or_else(|| mismatch(attr, op, value, "an RFC 3339 timestamp"))?;
                    self.ordered(&expr, attr, op, SqlValue::Int(ms))
                }
                (ColumnKind::Text | ColumnKind::TextCi, _) => {
                    Err(mismatch(attr, op, value, "a string"))
                }
                (ColumnKind::Integer, _) => Err(mismatch(attr, op, value, "an integer")),
                (ColumnKind::TimestampMillis, _) => {
                    Err(mismatch(attr, op, value, "an RFC 3339 timestamp"))
                }
            },
        }
    }

    /// A string comparison. Equality (and substring matches) ignore case when `ci`; ordering is
    /// always plain, which keeps ISO timestamps in text comparing correctly.
    fn text(&mut self, expr: &str, op: CompareOp, value: &str, ci: bool) -> String {
        if op.is_substring() {
            if !ci && self.dialect == Dialect::Sqlite {
                // SQLite's LIKE ignores ASCII case; GLOB is its case-sensitive counterpart.
                let p = self.bind(SqlValue::Text(wrap_pattern(op, &glob_escape(value), "*")));
                return format!("({expr} GLOB {p})");
            }
            let p = self.bind(SqlValue::Text(wrap_pattern(op, &like_escape(value), "%")));
            return if ci {
                format!("(lower({expr}) LIKE lower({p}) ESCAPE '\\')")
            } else {
                format!("({expr} LIKE {p} ESCAPE '\\')")
            };
        }
        let p = self.bind(SqlValue::Text(value.to_owned()));
        let sym = symbol(op);
        if ci && matches!(op, CompareOp::Eq | CompareOp::Ne) {
            format!("(lower({expr}) {sym} lower({p}))")
        } else {
            format!("({expr} {sym} {p})")
        }
    }

    /// `eq`..`le` on a numeric column.
    fn ordered(
        &mut self,
        expr: &str,
        attr: &str,
        op: CompareOp,
        value: SqlValue,
    ) -> Result<String, FilterError> {
        if op.is_substring() {
            return Err(FilterError::new(format!(
                "operator '{}' needs a string attribute; '{attr}' is not one",
                op.keyword()
            )));
        }
        let p = self.bind(value);
        Ok(format!("({expr} {} {p})", symbol(op)))
    }

    /// A number compared with a JSON key, only where the JSON value is a number (so that a
    /// string value neither matches nor, on PostgreSQL, breaks the cast).
    fn json_number(
        &mut self,
        column: &str,
        key: &str,
        attr: &str,
        op: CompareOp,
        n: f64,
    ) -> Result<String, FilterError> {
        if op.is_substring() {
            return Err(mismatch(attr, op, &Value::Number(n), "a string"));
        }
        let p = self.bind(SqlValue::Float(n));
        let sym = symbol(op);
        Ok(match self.dialect {
            Dialect::Sqlite => format!(
                "(json_type({column}, '$.{key}') IN ('integer', 'real') \
                 AND json_extract({column}, '$.{key}') {sym} {p})"
            ),
            // CASE guarantees the cast only runs on numbers.
            Dialect::Postgres => format!(
                "(CASE WHEN jsonb_typeof({column}::jsonb -> '{key}') = 'number' \
                 THEN ({column}::jsonb ->> '{key}')::float8 END {sym} {p})"
            ),
        })
    }

    /// `eq`/`ne` with a boolean on a JSON key; matches only JSON booleans.
    fn json_bool(
        &mut self,
        column: &str,
        key: &str,
        attr: &str,
        op: CompareOp,
        b: bool,
    ) -> Result<String, FilterError> {
        let wanted = match op {
            CompareOp::Eq => b,
            CompareOp::Ne => !b,
            _ => return Err(mismatch(attr, op, &Value::Bool(b), "a number or string")),
        };
        Ok(match self.dialect {
            Dialect::Sqlite => format!("(json_type({column}, '$.{key}') = '{wanted}')"),
            Dialect::Postgres => format!("(({column}::jsonb -> '{key}') = '{wanted}'::jsonb)"),
        })
    }
}

fn symbol(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        // Substring operators never reach here; LIKE is the closest meaning if they did.
        CompareOp::Sw | CompareOp::Co | CompareOp::Ew => "LIKE",
    }
}

fn mismatch(attr: &str, op: CompareOp, value: &Value, expected: &str) -> FilterError {
    FilterError::new(format!(
        "cannot compare '{attr}' {} {}: expected {expected}",
        op.keyword(),
        value.describe()
    ))
}

/// JSON keys are inlined into the SQL, so they are restricted to a set that needs no quoting.
fn check_json_key(key: &str) -> Result<(), FilterError> {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(FilterError::new(format!(
            "unsupported JSON attribute key '{key}'"
        )))
    }
}

/// The value as an i64 if it is a whole number in range.
fn integral(n: f64) -> Option<i64> {
    // 2^63 is exactly representable; anything at or above it does not fit.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n)).then_some(n as i64)
}

/// Surrounds an escaped pattern with the wildcard the operator needs.
fn wrap_pattern(op: CompareOp, escaped: &str, any: &str) -> String {
    match op {
        CompareOp::Sw => format!("{escaped}{any}"),
        CompareOp::Ew => format!("{any}{escaped}"),
        _ => format!("{any}{escaped}{any}"),
    }
}

/// Escapes LIKE wildcards for `ESCAPE '\'`.
fn like_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes GLOB wildcards by putting each in a one-character set.
fn glob_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filter::parse;

    /// The kind of mapping a user list endpoint would use.
    fn resolve(attr: &str) -> Option<Column> {
        let plain = |expr: &str, kind| {
            Some(Column::Plain {
                expr: expr.to_owned(),
                kind,
            })
        };
        match attr {
            "id" => plain("u.id", ColumnKind::Text),
            "status" => plain("u.status", ColumnKind::TextCi),
            "created" | "lastUpdated" => plain("u.created_ms", ColumnKind::TimestampMillis),
            "loginCount" => plain("u.login_count", ColumnKind::Integer),
            _ => attr.strip_prefix("profile.").map(|key| Column::JsonText {
                column: "u.profile".to_owned(),
                key: key.to_owned(),
            }),
        }
    }

    fn sql_with(filter: &str, dialect: Dialect, first: usize) -> SqlFragment {
        to_sql(&parse(filter).unwrap(), dialect, first, &resolve).unwrap()
    }

    fn lite(filter: &str) -> SqlFragment {
        sql_with(filter, Dialect::Sqlite, 1)
    }

    fn pg(filter: &str) -> SqlFragment {
        sql_with(filter, Dialect::Postgres, 1)
    }

    fn err(filter: &str) -> String {
        to_sql(&parse(filter).unwrap(), Dialect::Sqlite, 1, &resolve)
            .unwrap_err()
            .message
    }

    fn text(s: &str) -> SqlValue {
        SqlValue::Text(s.to_owned())
    }

    #[test]
    fn case_sensitive_text() {
        let f = lite(r#"id eq "00uA""#);
        assert_eq!(f.sql, "(u.id = $1)");
        assert_eq!(f.binds, vec![text("00uA")]);
        assert_eq!(pg(r#"id ne "x""#).sql, "(u.id <> $1)");
        assert_eq!(pg(r#"id gt "x""#).sql, "(u.id > $1)");
        assert_eq!(pg(r#"id le "x""#).sql, "(u.id <= $1)");
    }

    #[test]
    fn case_insensitive_text() {
        let f = pg(r#"status eq "active""#);
        assert_eq!(f.sql, "(lower(u.status) = lower($1))");
        assert_eq!(f.binds, vec![text("active")]);
        assert_eq!(
            lite(r#"status ne "x""#).sql,
            "(lower(u.status) <> lower($1))"
        );
        assert_eq!(lite(r#"status ge "x""#).sql, "(u.status >= $1)");
    }

    #[test]
    fn substring_operators_escape_like_wildcards() {
        let f = pg(r#"status sw "50%_off\\now""#);
        assert_eq!(f.sql, "(lower(u.status) LIKE lower($1) ESCAPE '\\')");
        assert_eq!(f.binds, vec![text("50\\%\\_off\\\\now%")]);
        assert_eq!(lite(r#"status co "a""#).binds, vec![text("%a%")]);
        assert_eq!(lite(r#"status ew "a""#).binds, vec![text("%a")]);
        // Case-sensitive: LIKE on PostgreSQL, GLOB on SQLite (whose LIKE ignores case).
        let f = pg(r#"id co "a_b""#);
        assert_eq!(f.sql, "(u.id LIKE $1 ESCAPE '\\')");
        assert_eq!(f.binds, vec![text("%a\\_b%")]);
        let f = lite(r#"id sw "a*b?[c]%""#);
        assert_eq!(f.sql, "(u.id GLOB $1)");
        assert_eq!(f.binds, vec![text("a[*]b[?][[]c]%*")]);
    }

    #[test]
    fn json_keys_per_dialect() {
        let f = lite(r#"profile.department eq "R&D""#);
        assert_eq!(
            f.sql,
            "(lower(json_extract(u.profile, '$.department')) = lower($1))"
        );
        assert_eq!(f.binds, vec![text("R&D")]);
        let f = pg(r#"profile.department eq "R&D""#);
        assert_eq!(
            f.sql,
            "(lower((u.profile::jsonb ->> 'department')) = lower($1))"
        );
        assert_eq!(
            pg(r#"profile.login sw "ada""#).sql,
            "(lower((u.profile::jsonb ->> 'login')) LIKE lower($1) ESCAPE '\\')"
        );
        assert_eq!(
            lite(r#"profile.created gt "2024""#).sql,
            "(json_extract(u.profile, '$.created') > $1)"
        );
    }

    #[test]
    fn json_numbers_and_booleans() {
        let f = lite("profile.age ge 18");
        assert_eq!(
            f.sql,
            "(json_type(u.profile, '$.age') IN ('integer', 'real') \
             AND json_extract(u.profile, '$.age') >= $1)"
        );
        assert_eq!(f.binds, vec![SqlValue::Float(18.0)]);
        assert_eq!(
            pg("profile.age lt 1.5").sql,
            "(CASE WHEN jsonb_typeof(u.profile::jsonb -> 'age') = 'number' \
             THEN (u.profile::jsonb ->> 'age')::float8 END < $1)"
        );
        let f = lite("profile.admin eq true");
        assert_eq!(f.sql, "(json_type(u.profile, '$.admin') = 'true')");
        assert!(f.binds.is_empty());
        assert_eq!(
            pg("profile.admin ne true").sql,
            "((u.profile::jsonb -> 'admin') = 'false'::jsonb)"
        );
        assert_eq!(
            err("profile.admin gt true"),
            "cannot compare 'profile.admin' gt true: expected a number or string"
        );
        assert_eq!(
            err("profile.age sw 1"),
            "cannot compare 'profile.age' sw number 1: expected a string"
        );
    }

    #[test]
    fn presence_and_null() {
        assert_eq!(lite("id pr").sql, "(u.id IS NOT NULL)");
        assert_eq!(
            lite("profile.mobile pr").sql,
            "(json_extract(u.profile, '$.mobile') IS NOT NULL \
             AND json_extract(u.profile, '$.mobile') <> '')"
        );
        assert_eq!(
            pg("profile.mobile pr").sql,
            "((u.profile::jsonb ->> 'mobile') IS NOT NULL AND (u.profile::jsonb ->> 'mobile') <> '')"
        );
        let f = pg("lastUpdated eq null");
        assert_eq!(f.sql, "(u.created_ms IS NULL)");
        assert!(f.binds.is_empty());
        assert_eq!(
            pg("profile.x ne null").sql,
            "((u.profile::jsonb ->> 'x') IS NOT NULL)"
        );
        assert_eq!(
            err("id gt null"),
            "cannot compare 'id' gt null: expected a non-null value"
        );
    }

    #[test]
    fn timestamps_become_epoch_millis() {
        let f = pg(r#"lastUpdated gt "2023-11-14T22:13:20.123Z""#);
        assert_eq!(f.sql, "(u.created_ms > $1)");
        assert_eq!(f.binds, vec![SqlValue::Int(1_700_000_000_123)]);
        let f = lite(r#"created le "2023-11-15T00:13:20+02:00""#);
        assert_eq!(f.binds, vec![SqlValue::Int(1_700_000_000_000)]);
        assert_eq!(
            err(r#"created gt "yesterday""#),
            "cannot compare 'created' gt string \"yesterday\": expected an RFC 3339 timestamp"
        );
        assert_eq!(
            err(r#"created gt "2024-01-01""#),
            "cannot compare 'created' gt string \"2024-01-01\": expected an RFC 3339 timestamp"
        );
        assert_eq!(
            err("created gt 1700000000000"),
            "cannot compare 'created' gt number 1700000000000: expected an RFC 3339 timestamp"
        );
        assert_eq!(
            err(r#"created sw "2024-01-01T00:00:00Z""#),
            "operator 'sw' needs a string attribute; 'created' is not one"
        );
    }

    #[test]
    fn integers() {
        let f = lite("loginCount ge 3");
        assert_eq!(f.sql, "(u.login_count >= $1)");
        assert_eq!(f.binds, vec![SqlValue::Int(3)]);
        assert_eq!(lite("loginCount eq -2").binds, vec![SqlValue::Int(-2)]);
        assert_eq!(
            err("loginCount eq 2.5"),
            "cannot compare 'loginCount' eq number 2.5: expected an integer"
        );
        assert_eq!(
            err(r#"loginCount eq "3""#),
            "cannot compare 'loginCount' eq string \"3\": expected an integer"
        );
        assert_eq!(
            err("loginCount eq 1e19"),
            "cannot compare 'loginCount' eq number 10000000000000000000: expected an integer"
        );
    }

    #[test]
    fn type_mismatches_on_text() {
        assert_eq!(
            err("status gt true"),
            "cannot compare 'status' gt true: expected a string"
        );
        assert_eq!(
            err("id eq 5"),
            "cannot compare 'id' eq number 5: expected a string"
        );
    }

    #[test]
    fn logic_precedence_and_placeholder_numbering() {
        let f = sql_with(
            r#"status eq "ACTIVE" or profile.login sw "a" and not (loginCount gt 2)"#,
            Dialect::Postgres,
            3,
        );
        assert_eq!(
            f.sql,
            "((lower(u.status) = lower($3)) OR \
             ((lower((u.profile::jsonb ->> 'login')) LIKE lower($4) ESCAPE '\\') AND \
             (NOT COALESCE((u.login_count > $5), FALSE))))"
        );
        assert_eq!(f.binds, vec![text("ACTIVE"), text("a%"), SqlValue::Int(2)]);
        let f = sql_with(
            r#"(id eq "a" or id eq "b") and lastUpdated pr"#,
            Dialect::Sqlite,
            3,
        );
        assert_eq!(
            f.sql,
            "(((u.id = $3) OR (u.id = $4)) AND (u.created_ms IS NOT NULL))"
        );
        assert_eq!(f.binds, vec![text("a"), text("b")]);
    }

    #[test]
    fn unsupported_attribute() {
        assert_eq!(
            err(r#"password eq "x""#),
            "unsupported attribute 'password' in filter"
        );
        assert_eq!(err("secret pr"), "unsupported attribute 'secret' in filter");
        assert_eq!(
            to_sql(&parse("id pr").unwrap(), Dialect::Sqlite, 0, &resolve)
                .unwrap_err()
                .message,
            "SQL placeholders are numbered from 1"
        );
    }

    #[test]
    fn rejects_injection_in_json_key() {
        // The parser only lets `[A-Za-z0-9_.$]` through, but keys are checked again here
        // because Filters can be built directly and resolvers may pass any suffix on.
        assert_eq!(
            err("profile.a.b pr"),
            "unsupported JSON attribute key 'a.b'"
        );
        assert_eq!(err("profile.$x pr"), "unsupported JSON attribute key '$x'");
        let hostile = Filter::Compare {
            attr: "profile.x') OR 1=1 --".to_owned(),
            op: CompareOp::Eq,
            value: Value::String("y".to_owned()),
        };
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(
                to_sql(&hostile, dialect, 1, &resolve).unwrap_err().message,
                "unsupported JSON attribute key 'x') OR 1=1 --'"
            );
        }
        // Values are always bound, never inlined.
        let f = lite(r#"profile.x eq "') OR 1=1 --""#);
        assert_eq!(f.binds, vec![text("') OR 1=1 --")]);
        assert!(!f.sql.contains("OR 1=1"));
    }
}
