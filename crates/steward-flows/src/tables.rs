//! Workflows Tables (module `stash`), the pure parts: a row as cards see it, the Search Rows
//! filter (`Filter."Where Expression"`) and sort, cell types, and the cards' output shapes.
//! The rows themselves live in the database (steward-app's `TableConnectors`).
//!
//! A Where Expression is `{"expr": [{"lhs": <column>, "op": "=", "join": "AND", "rhs": <literal>}
//! | {…, "rhd": {"methodId", "outputId"}}]}`; an `rhd` value arrives on the card's hidden input
//! of group `_expr` keyed by that `outputId`. Conditions are combined left to right, each with
//! the one before it by its own `join` (`AND` or `OR`; the first one's is ignored), without
//! precedence. Values are compared by the column's type: `dec` as numbers, `dte` as instants,
//! `bln` as booleans, `str` (and the system column `Row ID`) as text.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use crate::model::Column;
use crate::registry::{CardError, Inputs, Outputs};
use crate::value::{iso, number, to_bool, to_date, to_number, to_text};

/// The system columns every row has besides its table's structure.
pub const ROW_ID: &str = "Row ID";
pub const CREATED: &str = "Created";
pub const UPDATED: &str = "Updated";

/// One stored row: its cells keyed by column name, and its system columns (epoch ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub cells: Map<String, Value>,
    pub created: i64,
    pub updated: i64,
}

fn date_text(ms: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| Value::String(iso(t)))
        .unwrap_or(Value::Null)
}

impl Row {
    /// The row as Search Rows returns it: every column, then `Row ID`, `Created`, `Updated`.
    pub fn to_object(&self, columns: &[Column]) -> Value {
        let mut out = Map::new();
        for c in columns {
            out.insert(
                c.name.clone(),
                self.cells.get(&c.name).cloned().unwrap_or(Value::Null),
            );
        }
        out.insert(ROW_ID.into(), Value::String(self.id.clone()));
        out.insert(CREATED.into(), date_text(self.created));
        out.insert(UPDATED.into(), date_text(self.updated));
        Value::Object(out)
    }

    fn cell(&self, column: &str) -> Value {
        match column {
            ROW_ID => Value::String(self.id.clone()),
            CREATED => date_text(self.created),
            UPDATED => date_text(self.updated),
            _ => self.cells.get(column).cloned().unwrap_or(Value::Null),
        }
    }
}

/// The type a column's values are compared and stored as.
fn kind_of<'a>(columns: &'a [Column], column: &str) -> &'a str {
    match column {
        CREATED | UPDATED => "dte",
        ROW_ID => "str",
        _ => columns
            .iter()
            .find(|c| c.name == column)
            .map_or("str", |c| c.kind.as_str()),
    }
}

/// A value as a cell of a column of type `kind` stores it (null and "" stay null).
pub fn cell_value(kind: &str, v: &Value) -> Value {
    if v.is_null() || v.as_str().is_some_and(|s| s.is_empty()) {
        return Value::Null;
    }
    match kind {
        "dec" => to_number(v).map_or(Value::Null, number),
        "bln" => Value::Bool(to_bool(v)),
        "dte" => to_date(v).map_or_else(|| Value::String(to_text(v)), |t| Value::String(iso(t))),
        _ => Value::String(to_text(v)),
    }
}

fn compare(kind: &str, a: &Value, b: &Value) -> Option<Ordering> {
    match (a.is_null(), b.is_null()) {
        (true, true) => return Some(Ordering::Equal),
        (true, false) => return Some(Ordering::Less),
        (false, true) => return Some(Ordering::Greater),
        _ => {}
    }
    match kind {
        "dec" => to_number(a)?.partial_cmp(&to_number(b)?),
        "dte" => Some(to_date(a)?.cmp(&to_date(b)?)),
        "bln" => Some(to_bool(a).cmp(&to_bool(b))),
        _ => Some(to_text(a).cmp(&to_text(b))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s.trim() {
            "=" | "==" => Op::Eq,
            "!=" | "<>" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            _ => return None,
        })
    }

    fn holds(self, ordering: Option<Ordering>) -> bool {
        match (self, ordering) {
            (Op::Ne, None) => true,
            (_, None) => false,
            (Op::Eq, Some(o)) => o == Ordering::Equal,
            (Op::Ne, Some(o)) => o != Ordering::Equal,
            (Op::Lt, Some(o)) => o == Ordering::Less,
            (Op::Le, Some(o)) => o != Ordering::Greater,
            (Op::Gt, Some(o)) => o == Ordering::Greater,
            (Op::Ge, Some(o)) => o != Ordering::Less,
        }
    }
}

/// The right-hand side of a condition: a literal, or another card's output (`rhd`).
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    Literal(Value),
    Output(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub column: String,
    pub op: Op,
    /// Combines this condition with the ones before it: true for `OR`.
    pub or: bool,
    pub rhs: Rhs,
}

/// A parsed Where Expression; empty matches every row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Where {
    pub conditions: Vec<Condition>,
}

impl Where {
    /// Parses `{"expr": [...]}`, `{}`, null, or the same as JSON text.
    pub fn parse(v: &Value) -> Result<Where, String> {
        let v = match v {
            Value::String(s) if s.trim().is_empty() => return Ok(Where::default()),
            Value::String(s) => serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))?,
            other => other.clone(),
        };
        let items = match v.get("expr") {
            None | Some(Value::Null) => return Ok(Where::default()),
            Some(Value::Array(items)) => items.clone(),
            Some(other) => return Err(format!("expr must be a list, not {other}")),
        };
        let mut conditions = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let column = item
                .get("lhs")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("condition {}: lhs names no column", i + 1))?;
            let op_text = item.get("op").and_then(Value::as_str).unwrap_or("=");
            let op = Op::parse(op_text)
                .ok_or_else(|| format!("condition {}: unknown operator {op_text:?}", i + 1))?;
            let or = item
                .get("join")
                .and_then(Value::as_str)
                .is_some_and(|j| j.eq_ignore_ascii_case("OR"));
            let rhs = match item.get("rhd").and_then(|r| r.get("outputId")) {
                Some(Value::String(id)) => Rhs::Output(id.clone()),
                _ => Rhs::Literal(item.get("rhs").cloned().unwrap_or(Value::Null)),
            };
            conditions.push(Condition {
                column: column.to_string(),
                op,
                or,
                rhs,
            });
        }
        Ok(Where { conditions })
    }

    /// Replaces each `rhd` by the value of the card's `_expr` input of that output id.
    pub fn resolve(mut self, lookup: impl Fn(&str) -> Value) -> Where {
        for c in &mut self.conditions {
            if let Rhs::Output(id) = &c.rhs {
                c.rhs = Rhs::Literal(lookup(id));
            }
        }
        self
    }

    /// Whether `row` matches (an unresolved `rhd` compares as null).
    pub fn matches(&self, row: &Row, columns: &[Column]) -> bool {
        let mut result = true;
        for (i, c) in self.conditions.iter().enumerate() {
            let kind = kind_of(columns, &c.column);
            let right = match &c.rhs {
                Rhs::Literal(v) => cell_value(kind, v),
                Rhs::Output(_) => Value::Null,
            };
            let left = cell_value(kind, &row.cell(&c.column));
            let holds = c.op.holds(compare(kind, &left, &right));
            result = match i {
                0 => holds,
                _ if c.or => result || holds,
                _ => result && holds,
            };
        }
        result
    }
}

/// Search Rows' `Sort` group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sort {
    pub column: Option<String>,
    pub descending: bool,
    pub limit: Option<usize>,
    pub offset: usize,
}

impl Sort {
    pub fn from_inputs(inputs: &Inputs) -> Sort {
        let column = to_text(inputs.get_in("Sort", "Column"));
        let count = |key: &str| {
            to_number(inputs.get_in("Sort", key))
                .filter(|n| *n > 0.0)
                .map(|n| n as usize)
        };
        Sort {
            column: (!column.is_empty()).then_some(column),
            descending: to_text(inputs.get_in("Sort", "Direction")).eq_ignore_ascii_case("desc"),
            limit: count("Limit"),
            offset: count("Offset").unwrap_or(0),
        }
    }
}

/// The rows that match, sorted, after `offset`, at most `limit` (and at most `cap`).
pub fn search(
    rows: Vec<Row>,
    filter: &Where,
    sort: &Sort,
    columns: &[Column],
    cap: usize,
) -> Vec<Row> {
    let mut found: Vec<Row> = rows
        .into_iter()
        .filter(|r| filter.matches(r, columns))
        .collect();
    if let Some(column) = &sort.column {
        let kind = kind_of(columns, column);
        found.sort_by(|a, b| {
            let o = compare(
                kind,
                &cell_value(kind, &a.cell(column)),
                &cell_value(kind, &b.cell(column)),
            )
            .unwrap_or(Ordering::Equal);
            if sort.descending {
                o.reverse()
            } else {
                o
            }
        });
    }
    found
        .into_iter()
        .skip(sort.offset)
        .take(sort.limit.unwrap_or(usize::MAX).min(cap))
        .collect()
}

/// The table id a stash card names (`parameters.stash`).
pub fn table_of(inputs: &Inputs) -> Result<String, CardError> {
    let id = to_text(inputs.get_in("parameters", "stash"));
    if id.is_empty() {
        return Err(CardError::input("stash", "the card names no table"));
    }
    Ok(id)
}

/// The `Fields` group of a card as cells, typed by the table's columns; with `keep_empty`
/// false, empty inputs are left out (Update Row's `updateEmptyInputs: No`). Fields that are
/// not columns of the table are refused.
pub fn fields_of(
    inputs: &Inputs,
    columns: &[Column],
    keep_empty: bool,
) -> Result<Map<String, Value>, CardError> {
    let mut cells = Map::new();
    for f in inputs
        .fields
        .iter()
        .filter(|f| f.group.as_deref() == Some("Fields"))
    {
        let Some(column) = columns.iter().find(|c| c.name == f.key) else {
            return Err(CardError::input(&f.key, "is not a column of the table"));
        };
        let value = cell_value(&column.kind, &f.value);
        if value.is_null() && !keep_empty {
            continue;
        }
        cells.insert(f.key.clone(), value);
    }
    Ok(cells)
}

/// A new row's cells: the given fields, and each other column's default.
pub fn new_cells(fields: Map<String, Value>, columns: &[Column]) -> Map<String, Value> {
    let mut cells = Map::new();
    for c in columns {
        let value = match fields.get(&c.name) {
            Some(v) => v.clone(),
            None => cell_value(&c.kind, &c.default),
        };
        cells.insert(c.name.clone(), value);
    }
    cells
}

/// Search Rows' outputs: `one` gives `Row.{Row ID, Created, Updated}` and `Fields.<column>`
/// (nulls when nothing matched); all rows give `Result.Rows`.
pub fn search_outputs(one: bool, found: &[Row], columns: &[Column]) -> Outputs {
    if !one {
        let rows: Vec<Value> = found.iter().map(|r| r.to_object(columns)).collect();
        return Outputs::new().with_in(Some("Result"), "Rows", Value::Array(rows));
    }
    let first = found.first();
    let mut out = Outputs::new()
        .with_in(
            Some("Row"),
            ROW_ID,
            first.map_or(Value::Null, |r| json!(r.id)),
        )
        .with_in(
            Some("Row"),
            CREATED,
            first.map_or(Value::Null, |r| date_text(r.created)),
        )
        .with_in(
            Some("Row"),
            UPDATED,
            first.map_or(Value::Null, |r| date_text(r.updated)),
        );
    for c in columns {
        let v = first.map_or(Value::Null, |r| r.cell(&c.name));
        out = out.with_in(Some("Fields"), &c.name, v);
    }
    out
}

/// Read Table's `Output.Column Schema`: the table's structure.
pub fn column_schema(columns: &[Column]) -> Value {
    Value::Array(
        columns
            .iter()
            .map(|c| json!({"name": c.name, "type": c.kind, "default": c.default}))
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column> {
        serde_json::from_value(json!([
            {"name": "name", "type": "str", "default": ""},
            {"name": "score", "type": "dec", "default": "0"},
            {"name": "due", "type": "dte", "default": ""},
            {"name": "done", "type": "bln", "default": "false"}
        ]))
        .unwrap()
    }

    fn row(id: &str, name: &str, score: f64, due: &str, done: bool) -> Row {
        let mut cells = Map::new();
        cells.insert("name".into(), json!(name));
        cells.insert("score".into(), number(score));
        cells.insert("due".into(), json!(due));
        cells.insert("done".into(), json!(done));
        Row {
            id: id.into(),
            cells,
            created: 1_700_000_000_000,
            updated: 1_700_000_000_000,
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            row("r1", "ada", 10.0, "2026-01-01T00:00:00.000Z", false),
            row("r2", "bob", 2.0, "2026-03-01T00:00:00.000Z", true),
            row("r3", "cy", 30.0, "2026-02-01T00:00:00.000Z", false),
        ]
    }

    fn ids(filter: Value, sort: Sort) -> Vec<String> {
        let filter = Where::parse(&filter).unwrap();
        search(rows(), &filter, &sort, &columns(), 3_500)
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    #[test]
    fn where_expressions_compare_by_column_type() {
        let cases = [
            (json!({}), vec!["r1", "r2", "r3"]),
            (
                json!({"expr": [{"lhs": "name", "op": "=", "rhs": "bob"}]}),
                vec!["r2"],
            ),
            (
                json!({"expr": [{"lhs": "name", "op": "!=", "rhs": "bob"}]}),
                vec!["r1", "r3"],
            ),
            (
                json!({"expr": [{"lhs": "score", "op": ">", "rhs": "9"}]}),
                vec!["r1", "r3"],
            ),
            (
                json!({"expr": [{"lhs": "score", "op": ">=", "rhs": 10}]}),
                vec!["r1", "r3"],
            ),
            (
                json!({"expr": [{"lhs": "score", "op": "<", "rhs": 10}]}),
                vec!["r2"],
            ),
            (
                json!({"expr": [{"lhs": "score", "op": "<=", "rhs": 10}]}),
                vec!["r1", "r2"],
            ),
            (
                json!({"expr": [{"lhs": "due", "op": "<", "rhs": "2026-02-15T00:00:00Z"}]}),
                vec!["r1", "r3"],
            ),
            (
                json!({"expr": [{"lhs": "done", "op": "=", "rhs": false}]}),
                vec!["r1", "r3"],
            ),
            (
                json!({"expr": [{"lhs": "Row ID", "op": "=", "rhs": "r3"}]}),
                vec!["r3"],
            ),
            (
                json!({"expr": [{"lhs": "score", "op": ">", "rhs": 5, "join": "AND"}, {"lhs": "done", "op": "=", "rhs": false, "join": "AND"}, {"lhs": "name", "op": "=", "rhs": "ada", "join": "AND"}]}),
                vec!["r1"],
            ),
            (
                json!({"expr": [{"lhs": "name", "op": "=", "rhs": "ada", "join": "AND"}, {"lhs": "name", "op": "=", "rhs": "bob", "join": "OR"}]}),
                vec!["r1", "r2"],
            ),
            (
                json!(r#"{"expr": [{"lhs": "name", "op": "=", "rhs": "cy"}]}"#),
                vec!["r3"],
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(ids(filter.clone(), Sort::default()), expected, "{filter}");
        }
    }

    #[test]
    fn an_rhd_takes_the_value_of_its_hidden_input() {
        let filter = Where::parse(&json!({"expr": [{"lhs": "score", "op": "<", "join": "AND", "rhd": {"methodId": "m", "outputId": "o1"}}]}))
            .unwrap();
        assert_eq!(filter.conditions[0].rhs, Rhs::Output("o1".into()));
        let unresolved = search(rows(), &filter, &Sort::default(), &columns(), 10);
        assert!(unresolved.is_empty(), "null compares below every number");
        let filter = filter.resolve(|id| if id == "o1" { json!(11) } else { Value::Null });
        let found: Vec<_> = search(rows(), &filter, &Sort::default(), &columns(), 10)
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(found, vec!["r1", "r2"]);
    }

    #[test]
    fn bad_expressions_are_refused() {
        assert!(Where::parse(&json!({"expr": [{"op": "="}]})).is_err());
        assert!(Where::parse(&json!({"expr": [{"lhs": "a", "op": "~"}]})).is_err());
        assert!(Where::parse(&json!({"expr": 3})).is_err());
    }

    #[test]
    fn sort_limit_and_offset() {
        let by = |column: &str, descending, limit, offset| Sort {
            column: Some(column.into()),
            descending,
            limit,
            offset,
        };
        assert_eq!(
            ids(json!({}), by("score", false, None, 0)),
            vec!["r2", "r1", "r3"]
        );
        assert_eq!(
            ids(json!({}), by("score", true, None, 0)),
            vec!["r3", "r1", "r2"]
        );
        assert_eq!(
            ids(json!({}), by("due", false, Some(2), 0)),
            vec!["r1", "r3"]
        );
        assert_eq!(ids(json!({}), by("name", false, Some(1), 1)), vec!["r2"]);
        let inputs = Inputs::new()
            .grouped("Sort", "Column", json!("score"))
            .grouped("Sort", "Direction", json!("desc"))
            .grouped("Sort", "Limit", json!(2))
            .grouped("Sort", "Offset", json!(""));
        assert_eq!(Sort::from_inputs(&inputs), by("score", true, Some(2), 0));
    }

    #[test]
    fn outputs_have_okta_shapes() {
        let found = vec![rows()[1].clone()];
        let one = search_outputs(true, &found, &columns());
        assert_eq!(one.get_in(Some("Row"), "Row ID"), Some(&json!("r2")));
        assert_eq!(one.get_in(Some("Fields"), "name"), Some(&json!("bob")));
        assert_eq!(
            one.get_in(Some("Row"), "Created"),
            Some(&json!("2023-11-14T22:13:20.000Z"))
        );
        let none = search_outputs(true, &[], &columns());
        assert_eq!(none.get_in(Some("Row"), "Row ID"), Some(&Value::Null));
        let all = search_outputs(false, &rows(), &columns());
        let list = all.get_in(Some("Result"), "Rows").unwrap();
        assert_eq!(list[2]["Row ID"], "r3");
        assert_eq!(list[2]["score"], 30);
        assert_eq!(column_schema(&columns())[1]["type"], "dec");
    }

    #[test]
    fn fields_are_typed_and_empty_ones_kept_only_when_asked() {
        let inputs = Inputs::new()
            .grouped("Fields", "name", json!("dee"))
            .grouped("Fields", "score", json!("7"))
            .grouped("Fields", "done", json!(""));
        let kept = fields_of(&inputs, &columns(), true).unwrap();
        assert_eq!(kept["score"], json!(7));
        assert_eq!(kept["done"], Value::Null);
        let skipped = fields_of(&inputs, &columns(), false).unwrap();
        assert!(!skipped.contains_key("done"));
        let cells = new_cells(skipped, &columns());
        assert_eq!(cells["done"], json!(false), "the column's default");
        assert_eq!(cells["due"], Value::Null);
        let bad = Inputs::new().grouped("Fields", "nope", json!(1));
        assert!(fields_of(&bad, &columns(), true).is_err());
    }
}
