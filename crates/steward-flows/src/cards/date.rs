//! Date and time cards (`kernel:date:*`). Dates travel as ISO-8601 text; Now reads the clock
//! the engine puts in [`Inputs::now`]. Time zones: UTC and fixed offsets (`+02:00`); IANA
//! names other than UTC are refused with a clear error until a zone database comes in.

use serde_json::Value;
use time::{Duration, Month, OffsetDateTime, UtcOffset};

use crate::registry::{CardError, CardRegistry, Inputs, Outputs};
use crate::value::{iso, number, unix_ms};

pub(super) fn register(r: &mut CardRegistry) {
    r.function("date", "now", now);
    r.function("date", "add", |i| shift(i, 1));
    r.function("date", "subtract", |i| shift(i, -1));
    r.function("date", "format", |i| {
        let zone = zone(i, "zone")?;
        let text = format(i.date("start")?.to_offset(zone), &i.text("format"));
        Ok(Outputs::one("output", Value::String(text)))
    });
    r.function("date", "unix", |i| {
        Ok(Outputs::one(
            "output",
            number(unix_ms(i.date("start")?) as f64),
        ))
    });
    r.function("date", "epoch", |i| {
        Ok(Outputs::one(
            "output",
            number(i.date("start")?.unix_timestamp() as f64),
        ))
    });
    r.function("date", "parse", parse);
    r.function("date", "fromISO", from_iso);
    r.function("date", "diff", diff);
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn now(inputs: &Inputs) -> Result<Outputs, CardError> {
    let t = inputs.now.to_offset(UtcOffset::UTC);
    let n = |v: i64| number(v as f64);
    Ok(Outputs::one("date", Value::String(iso(t)))
        .with("iso", Value::String(iso(t)))
        .with(
            "full",
            Value::String(format(t, "ddd MMM DD YYYY HH:mm:ss [GMT]ZZ")),
        )
        .with("time", Value::String(format(t, "HH:mm:ss")))
        .with(
            "month",
            Value::String(MONTHS[t.month() as usize - 1].to_string()),
        )
        .with("year", n(t.year().into()))
        .with("day", n(t.day().into()))
        .with("hour", n(t.hour().into()))
        .with("minute", n(t.minute().into()))
        .with("second", n(t.second().into()))
        .with("millisecond", n(t.millisecond().into())))
}

/// Add (`sign` 1) or Subtract (−1) `scale` `unit`s.
fn shift(inputs: &Inputs, sign: i64) -> Result<Outputs, CardError> {
    let start = inputs.date("start")?;
    let scale = inputs.number("scale")?;
    let unit = inputs.text("unit");
    let ms = |per: f64| Duration::milliseconds((scale * per) as i64 * sign);
    let result = match unit.to_lowercase().trim_end_matches('s') {
        "millisecond" => start + ms(1.0),
        "second" => start + ms(1e3),
        "minute" => start + ms(60e3),
        "hour" => start + ms(3_600e3),
        "day" => start + ms(86_400e3),
        "week" => start + ms(604_800e3),
        "month" => add_months(start, scale as i64 * sign)?,
        "year" => add_months(start, scale as i64 * sign * 12)?,
        _ => return Err(CardError::input("unit", format!("unknown unit {unit:?}"))),
    };
    Ok(Outputs::one("output", Value::String(iso(result))))
}

/// Calendar months; the day is clamped to the target month's length (Jan 31 + 1 = Feb 28).
fn add_months(t: OffsetDateTime, months: i64) -> Result<OffsetDateTime, CardError> {
    let total = t.year() as i64 * 12 + (t.month() as i64 - 1) + months;
    let year = total.div_euclid(12) as i32;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8)
        .map_err(|e| CardError::Failed(e.to_string()))?;
    let day = t.day().min(time::util::days_in_month(month, year));
    let date = time::Date::from_calendar_date(year, month, day)
        .map_err(|e| CardError::Failed(format!("date out of range: {e}")))?;
    Ok(t.replace_date(date))
}

/// Difference: `start` − `end` (the card labels `start` "end date"), with fractions.
fn diff(inputs: &Inputs) -> Result<Outputs, CardError> {
    let later = inputs.date("start")?;
    let earlier = inputs.date("end")?;
    let ms = (unix_ms(later) - unix_ms(earlier)) as f64;
    let months = {
        let whole = (later.year() as i64 * 12 + later.month() as i64)
            - (earlier.year() as i64 * 12 + earlier.month() as i64);
        let anchor = add_months(earlier, whole)?;
        let rest = (unix_ms(later) - unix_ms(anchor)) as f64 / (30.4375 * 86_400e3);
        whole as f64 + rest
    };
    Ok(Outputs::one("milliseconds", number(ms))
        .with("seconds", number(ms / 1e3))
        .with("minutes", number(ms / 60e3))
        .with("hours", number(ms / 3_600e3))
        .with("days", number(ms / 86_400e3))
        .with("months", number(months))
        .with("years", number(months / 12.0)))
}

/// Text to Date: `format` `x` (Unix ms), `X` (Unix s), otherwise ISO-8601 text.
fn parse(inputs: &Inputs) -> Result<Outputs, CardError> {
    let text = inputs.text("start");
    let date = match inputs.text("format").trim() {
        "x" => crate::value::to_date(&Value::from(inputs.number("start")?)),
        "X" => crate::value::to_date(&Value::from(inputs.number("start")? * 1000.0)),
        _ => crate::value::to_date(&Value::String(text.clone())),
    }
    .ok_or_else(|| CardError::input("start", format!("{text:?} is not a date")))?;
    Ok(Outputs::one("output", Value::String(iso(date))))
}

/// Convert: one date in many forms.
fn from_iso(inputs: &Inputs) -> Result<Outputs, CardError> {
    let t = inputs.date("start")?;
    let zone = zone(inputs, "zone")?;
    let format_text = inputs.text("format");
    let custom = if format_text.is_empty() {
        iso(t)
    } else {
        format(t.to_offset(zone), &format_text)
    };
    let text = |s: String| Value::String(s);
    Ok(Outputs::one("date", text(iso(t)))
        .with(
            "iso",
            text(format(
                t.to_offset(UtcOffset::UTC),
                "YYYY-MM-DD[T]HH:mm:ss[Z]",
            )),
        )
        .with("epoch", text(t.unix_timestamp().to_string()))
        .with("unix", text(unix_ms(t).to_string()))
        .with(
            "human",
            text(format(t.to_offset(zone), "dddd, MMMM D, YYYY h:mm A")),
        )
        .with("custom", text(custom)))
}

fn zone(inputs: &Inputs, key: &str) -> Result<UtcOffset, CardError> {
    let name = inputs.text(key);
    let name = name.trim();
    if name.is_empty() || ["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z"].contains(&name) {
        return Ok(UtcOffset::UTC);
    }
    let unsupported = || {
        CardError::input(
            key,
            format!(
                "time zone {name:?} is not supported yet (UTC or a fixed offset such as +02:00)"
            ),
        )
    };
    let (sign, rest) = match name.as_bytes().first() {
        Some(b'+') => (1, &name[1..]),
        Some(b'-') => (-1, &name[1..]),
        _ => return Err(unsupported()),
    };
    let digits: String = rest.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != 4 && digits.len() != 2 {
        return Err(unsupported());
    }
    let hours: i8 = digits[..2].parse().map_err(|_| unsupported())?;
    let minutes: i8 = digits.get(2..).unwrap_or("0").parse().unwrap_or(0);
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| unsupported())
}

/// Moment-style formatting: YYYY YY Y MMMM MMM MM M DD D dddd ddd HH H hh h mm m ss s SSS A a
/// Z ZZ z X x, and `[literal text]`.
pub(crate) fn format(t: OffsetDateTime, pattern: &str) -> String {
    const TOKENS: [&str; 28] = [
        "YYYY", "MMMM", "dddd", "SSS", "MMM", "ddd", "YY", "MM", "DD", "Do", "HH", "hh", "mm",
        "ss", "ZZ", "Y", "M", "D", "H", "h", "m", "s", "A", "a", "Z", "z", "X", "x",
    ];
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let offset = |colon: bool| {
        let (h, m, _) = t.offset().as_hms();
        let sign = if t.offset().is_negative() { '-' } else { '+' };
        if colon {
            format!("{sign}{:02}:{:02}", h.abs(), m.abs())
        } else {
            format!("{sign}{:02}{:02}", h.abs(), m.abs())
        }
    };
    let mut out = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']').unwrap_or(inner.len());
            out.push_str(&inner[..end]);
            rest = inner.get(end + 1..).unwrap_or("");
            continue;
        }
        let Some(token) = TOKENS.iter().find(|tok| rest.starts_with(**tok)) else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        let month = t.month() as u8;
        let day_name = DAYS[t.weekday().number_days_from_monday() as usize];
        out.push_str(&match *token {
            "YYYY" | "Y" => format!("{:04}", t.year()),
            "YY" => format!("{:02}", t.year().rem_euclid(100)),
            "MMMM" => MONTHS[month as usize - 1].to_string(),
            "MMM" => MONTHS[month as usize - 1][..3].to_string(),
            "MM" => format!("{month:02}"),
            "M" => month.to_string(),
            "DD" => format!("{:02}", t.day()),
            "D" => t.day().to_string(),
            "Do" => ordinal(t.day()),
            "dddd" => day_name.to_string(),
            "ddd" => day_name[..3].to_string(),
            "HH" => format!("{:02}", t.hour()),
            "H" => t.hour().to_string(),
            "hh" => format!("{hour12:02}"),
            "h" => hour12.to_string(),
            "mm" => format!("{:02}", t.minute()),
            "m" => t.minute().to_string(),
            "ss" => format!("{:02}", t.second()),
            "s" => t.second().to_string(),
            "SSS" => format!("{:03}", t.millisecond()),
            "A" => if t.hour() < 12 { "AM" } else { "PM" }.to_string(),
            "a" => if t.hour() < 12 { "am" } else { "pm" }.to_string(),
            "Z" => offset(true),
            "ZZ" => offset(false),
            "z" => {
                if t.offset().is_utc() {
                    "UTC".to_string()
                } else {
                    offset(true)
                }
            }
            "X" => t.unix_timestamp().to_string(),
            _ => unix_ms(t).to_string(),
        });
        rest = &rest[token.len()..];
    }
    out
}

fn ordinal(day: u8) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::{check_errors, check_table};
    use crate::registry::Inputs;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn date_cards() {
        let i = Inputs::new;
        let clock = datetime!(2025-03-20 17:36:15.143 UTC);
        let start = json!("2025-01-31T09:05:07.000Z");
        let add = |scale: i64, unit: &str| {
            i().typed("start", "Date", start.clone())
                .with("scale", json!(scale))
                .with("unit", json!(unit))
        };
        check_table(
            "date",
            vec![
                (
                    "now",
                    i().at(clock),
                    vec![
                        ("date", json!("2025-03-20T17:36:15.143Z")),
                        ("iso", json!("2025-03-20T17:36:15.143Z")),
                        ("year", json!(2025)),
                        ("month", json!("March")),
                        ("day", json!(20)),
                        ("hour", json!(17)),
                        ("millisecond", json!(143)),
                        ("time", json!("17:36:15")),
                        ("full", json!("Thu Mar 20 2025 17:36:15 GMT+0000")),
                    ],
                ),
                (
                    "add",
                    add(90, "minutes"),
                    vec![("output", json!("2025-01-31T10:35:07.000Z"))],
                ),
                (
                    "add",
                    add(1, "months"),
                    vec![("output", json!("2025-02-28T09:05:07.000Z"))],
                ),
                (
                    "add",
                    add(2, "weeks"),
                    vec![("output", json!("2025-02-14T09:05:07.000Z"))],
                ),
                (
                    "subtract",
                    add(1, "years"),
                    vec![("output", json!("2024-01-31T09:05:07.000Z"))],
                ),
                (
                    "subtract",
                    add(31, "days"),
                    vec![("output", json!("2024-12-31T09:05:07.000Z"))],
                ),
                (
                    "format",
                    i().with("start", start.clone())
                        .with("format", json!("MM/DD/YYYY"))
                        .with("zone", json!("")),
                    vec![("output", json!("01/31/2025"))],
                ),
                (
                    "format",
                    i().with("start", start.clone())
                        .with("format", json!("dddd, MMMM D, Y h:mm a z"))
                        .with("zone", json!("-05:00")),
                    vec![("output", json!("Friday, January 31, 2025 4:05 am -05:00"))],
                ),
                (
                    "unix",
                    i().with("start", json!("2025-03-20T17:36:15.143Z")),
                    vec![("output", json!(1_742_492_175_143_i64))],
                ),
                (
                    "epoch",
                    i().with("start", json!("2025-03-20T17:36:15.143Z")),
                    vec![("output", json!(1_742_492_175))],
                ),
                (
                    "parse",
                    i().with("start", json!("1742492175"))
                        .with("format", json!("X")),
                    vec![("output", json!("2025-03-20T17:36:15.000Z"))],
                ),
                (
                    "fromISO",
                    i().with("start", json!("2025-03-20T17:36:15.143Z"))
                        .with("format", json!("YYYY"))
                        .with("zone", json!("UTC")),
                    vec![
                        ("iso", json!("2025-03-20T17:36:15Z")),
                        ("epoch", json!("1742492175")),
                        ("unix", json!("1742492175143")),
                        ("custom", json!("2025")),
                    ],
                ),
                (
                    "diff",
                    i().with("start", json!("2025-03-02T12:00:00Z"))
                        .with("end", json!("2025-03-01T00:00:00Z")),
                    vec![
                        ("days", json!(1.5)),
                        ("hours", json!(36)),
                        ("months", json!(1.5 / 30.4375)),
                    ],
                ),
            ],
        );
        check_errors(
            "date",
            vec![
                ("add", add(1, "fortnights"), "unknown unit"),
                (
                    "format",
                    i().with("start", start.clone())
                        .with("format", json!("Y"))
                        .with("zone", json!("America/Los_Angeles")),
                    "not supported yet",
                ),
                ("unix", i().with("start", json!("soon")), "not a date"),
            ],
        );
    }
}
