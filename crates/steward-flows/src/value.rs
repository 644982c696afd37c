//! Loose coercion (every flopack sets `looseBooleans`, `looseStrings`, `looseNulls`), dotted
//! paths into objects, and Dates as ISO-8601 text.

use serde_json::{Map, Number, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Text of any value: numbers without a trailing `.0`, objects and lists as JSON, null as "".
pub fn to_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        other => other.to_string(),
    }
}

fn number_text(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => n.to_string(),
    }
}

/// A number from a number, numeric text, a boolean, or null/"" (0).
pub fn to_number(value: &Value) -> Option<f64> {
    match value {
        Value::Null => Some(0.0),
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) if s.trim().is_empty() => Some(0.0),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn to_bool(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => {
            let s = s.trim();
            !(s.is_empty() || s.eq_ignore_ascii_case("false") || s == "0")
        }
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// A JSON number; integral values become integers (`3`, not `3.0`).
pub fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Empty as Okta's "is empty": null, "", [], {}.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The value at a dotted path (`debugContext.debugData.factor`, `0.type`: a number indexes a
/// list). Keys may themselves hold dots (`Raw Output`'s keys do not, but users' keys can), so
/// the longest key that matches at each level wins. An empty path is the value itself.
pub fn get_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    let segments: Vec<&str> = path.split('.').collect();
    get_segments(value, &segments)
}

fn get_segments<'a>(value: &'a Value, segments: &[&str]) -> Option<&'a Value> {
    if segments.is_empty() {
        return Some(value);
    }
    match value {
        Value::Object(map) => (1..=segments.len()).rev().find_map(|n| {
            map.get(&segments[..n].join("."))
                .and_then(|inner| get_segments(inner, &segments[n..]))
        }),
        Value::Array(items) => {
            let index: usize = segments[0].parse().ok()?;
            get_segments(items.get(index)?, &segments[1..])
        }
        _ => None,
    }
}

/// Sets `value` at a dotted path, creating objects on the way (Construct's `a.b` keys, Set).
pub fn set_path(target: &mut Map<String, Value>, path: &str, value: Value) {
    let mut segments = path.split('.').peekable();
    let mut map = target;
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            map.insert(segment.to_string(), value);
            return;
        }
        let slot = map
            .entry(segment.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(inner) = slot else { return };
        map = inner;
    }
}

/// A Date from ISO-8601 text (with or without time, fraction, offset), `YYYY-MM-DD`, or a
/// number of Unix milliseconds.
pub fn to_date(value: &Value) -> Option<OffsetDateTime> {
    match value {
        Value::Number(n) => {
            let ms = n.as_f64()?;
            OffsetDateTime::from_unix_timestamp_nanos((ms * 1_000_000.0) as i128).ok()
        }
        Value::String(s) => parse_date_text(s.trim()),
        _ => None,
    }
}

fn parse_date_text(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    // `2025-03-20T17:36:15` (no zone: UTC) and `2025-03-20`.
    let (date_part, time_part) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t.trim_end_matches('Z'))),
        None => (s, None),
    };
    let mut ymd = date_part.split('-');
    let year: i32 = ymd.next()?.parse().ok()?;
    let month: u8 = ymd.next()?.parse().ok()?;
    let day: u8 = ymd.next()?.parse().ok()?;
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = match time_part {
        None => Time::MIDNIGHT,
        Some(t) => {
            let (hms, fraction) = t.split_once('.').unwrap_or((t, ""));
            let mut parts = hms.split(':');
            let h: u8 = parts.next()?.parse().ok()?;
            let m: u8 = parts.next().unwrap_or("0").parse().ok()?;
            let sec: u8 = parts.next().unwrap_or("0").parse().ok()?;
            let digits: String = fraction.chars().take(3).collect();
            let ms: u16 = if digits.is_empty() {
                0
            } else {
                format!("{digits:0<3}").parse().ok()?
            };
            Time::from_hms_milli(h, m, sec, ms).ok()?
        }
    };
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// `2025-03-20T17:36:15.143Z`, as JavaScript's `toISOString` writes it.
pub fn iso(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Unix milliseconds.
pub fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coercion_is_loose_as_flopack_flags_ask() {
        assert_eq!(to_text(&json!(3.0)), "3");
        assert_eq!(to_text(&json!(2.5)), "2.5");
        assert_eq!(to_text(&json!(null)), "");
        assert_eq!(to_text(&json!({"a":1})), r#"{"a":1}"#);
        assert_eq!(to_number(&json!(" 42 ")), Some(42.0));
        assert_eq!(to_number(&json!("")), Some(0.0));
        assert_eq!(to_number(&json!("x")), None);
        assert!(to_bool(&json!("true")) && !to_bool(&json!("false")) && !to_bool(&json!(0)));
        assert_eq!(number(4.0), json!(4));
        assert_eq!(number(0.5), json!(0.5));
    }

    #[test]
    fn paths_read_nested_objects_lists_and_dotted_keys() {
        let v = json!({"a": {"b": [{"c": 1}]}, "x.y": 2});
        assert_eq!(get_path(&v, "a.b.0.c"), Some(&json!(1)));
        assert_eq!(get_path(&v, "x.y"), Some(&json!(2)));
        assert_eq!(get_path(&v, ""), Some(&v));
        assert_eq!(get_path(&v, "a.z"), None);
        let mut m = Map::new();
        set_path(&mut m, "requesterSettings.type", json!("EVERYONE"));
        set_path(&mut m, "priority", json!(0));
        assert_eq!(
            Value::Object(m),
            json!({"requesterSettings": {"type": "EVERYONE"}, "priority": 0})
        );
    }

    #[test]
    fn dates_parse_from_iso_text_day_text_and_unix_ms() {
        let t = to_date(&json!("2025-03-20T17:36:15.143Z")).unwrap();
        assert_eq!(iso(t), "2025-03-20T17:36:15.143Z");
        assert_eq!(unix_ms(t), 1_742_492_175_143);
        assert_eq!(iso(to_date(&json!(1_742_492_175_143_i64)).unwrap()), iso(t));
        assert_eq!(
            iso(to_date(&json!("2025-03-20")).unwrap()),
            "2025-03-20T00:00:00.000Z"
        );
        assert_eq!(
            iso(to_date(&json!("2025-03-20T19:36:15+02:00")).unwrap()),
            "2025-03-20T17:36:15.000Z"
        );
        assert!(to_date(&json!("yesterday")).is_none());
    }
}
