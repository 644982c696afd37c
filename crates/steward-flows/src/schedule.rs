//! Scheduled flows: Okta's cron (`seconds minutes hours dayOfTheMonth month dayOfTheWeek`, each
//! `*`, `*/n`, `a`, `a-b`, `a-b/n`, `a/n` or a comma list of those) in a time zone, and the next
//! time it fires after a given instant. Time zones: UTC and fixed offsets (`+02:00`); an IANA
//! zone other than UTC is refused with a clear message until a zone database comes in.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::model::Cron;

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    seconds: Vec<bool>,
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    /// Day of month and day of week both restricted: either matches (cron's rule).
    either_day: bool,
    offset: UtcOffset,
}

fn field(text: &str, min: u32, max: u32, what: &str) -> Result<(Vec<bool>, bool), String> {
    let mut set = vec![false; max as usize + 1];
    let text = text.trim();
    let text = if text.is_empty() { "*" } else { text };
    let number = |s: &str| -> Result<u32, String> {
        let names = [
            "sun", "mon", "tue", "wed", "thu", "fri", "sat", "jan", "feb", "mar", "apr", "may",
            "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(if i < 7 { i as u32 } else { i as u32 - 6 });
        }
        s.parse::<u32>()
            .map_err(|_| format!("{what}: {s:?} is not a number"))
    };
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, number(s)?.max(1)),
            None => (part, 1),
        };
        let (low, high) = match range {
            "*" | "?" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None if part.contains('/') => (number(r)?, max),
                None => (number(r)?, number(r)?),
            },
        };
        if low < min || high > max || low > high {
            return Err(format!("{what}: {part:?} is outside {min}-{max}"));
        }
        let mut v = low;
        while v <= high {
            set[v as usize] = true;
            v += step;
        }
    }
    Ok((set, text == "*" || text == "?"))
}

/// The offset of a time zone Steward can use without a zone database.
fn zone(name: Option<&str>) -> Result<UtcOffset, String> {
    let name = name.unwrap_or("").trim();
    if name.is_empty() || ["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z"].contains(&name) {
        return Ok(UtcOffset::UTC);
    }
    let fixed = |s: &str| -> Option<UtcOffset> {
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => return None,
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
        UtcOffset::from_hms(sign * h, sign * m, 0).ok()
    };
    fixed(name).ok_or_else(|| {
        format!(
            "time zone {name:?} is not supported yet: Steward has no zone database; use UTC or a fixed offset such as +02:00"
        )
    })
}

impl Schedule {
    pub fn parse(cron: &Cron) -> Result<Schedule, String> {
        let get = |f: &Option<String>| f.clone().unwrap_or_else(|| "*".into());
        let (seconds, _) = field(&get(&cron.seconds), 0, 59, "seconds")?;
        let (minutes, _) = field(&get(&cron.minutes), 0, 59, "minutes")?;
        let (hours, _) = field(&get(&cron.hours), 0, 23, "hours")?;
        let (days, any_day) = field(&get(&cron.day_of_the_month), 1, 31, "dayOfTheMonth")?;
        let (months, _) = field(&get(&cron.month), 1, 12, "month")?;
        let (mut weekdays, any_weekday) = field(&get(&cron.day_of_the_week), 0, 7, "dayOfTheWeek")?;
        if weekdays[7] {
            weekdays[0] = true;
        }
        Ok(Schedule {
            seconds,
            minutes,
            hours,
            days,
            months,
            weekdays,
            either_day: !any_day && !any_weekday,
            offset: zone(cron.time_zone.as_deref())?,
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        let dom = self.days[date.day() as usize];
        let dow = self.weekdays[date.weekday().number_days_from_sunday() as usize];
        if self.either_day {
            dom || dow
        } else {
            dom && dow
        }
    }

    /// The first instant strictly after `after` (epoch ms) when the schedule fires, within
    /// five years; epoch ms.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let start = OffsetDateTime::from_unix_timestamp(after.div_euclid(1000) + 1)
            .ok()?
            .to_offset(self.offset);
        let mut t = PrimitiveDateTime::new(start.date(), start.time());
        let limit = t + Duration::days(5 * 366);
        while t < limit {
            if !self.months[u8::from(t.month()) as usize] {
                let (y, m) = match t.month() {
                    Month::December => (t.year() + 1, Month::January),
                    m => (t.year(), m.next()),
                };
                t = PrimitiveDateTime::new(Date::from_calendar_date(y, m, 1).ok()?, Time::MIDNIGHT);
                continue;
            }
            if !self.day_matches(t.date()) {
                t = PrimitiveDateTime::new(t.date().next_day()?, Time::MIDNIGHT);
                continue;
            }
            if !self.hours[t.hour() as usize] {
                t = PrimitiveDateTime::new(t.date(), Time::from_hms(t.hour(), 0, 0).ok()?)
                    + Duration::hours(1);
                continue;
            }
            if !self.minutes[t.minute() as usize] {
                t = PrimitiveDateTime::new(t.date(), Time::from_hms(t.hour(), t.minute(), 0).ok()?)
                    + Duration::minutes(1);
                continue;
            }
            if !self.seconds[t.second() as usize] {
                t += Duration::seconds(1);
                continue;
            }
            let at = t.assume_offset(self.offset);
            return Some((at.unix_timestamp_nanos() / 1_000_000) as i64);
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::value::{iso, to_date, unix_ms};

    fn cron(expr: &str, zone: Option<&str>) -> Cron {
        let f: Vec<Option<String>> = expr.split(' ').map(|s| Some(s.to_string())).collect();
        Cron {
            seconds: f[0].clone(),
            minutes: f[1].clone(),
            hours: f[2].clone(),
            day_of_the_month: f[3].clone(),
            month: f[4].clone(),
            day_of_the_week: f[5].clone(),
            time_zone: zone.map(str::to_string),
            extra: Default::default(),
        }
    }

    fn ms(text: &str) -> i64 {
        unix_ms(to_date(&serde_json::json!(text)).unwrap())
    }

    fn next(expr: &str, zone: Option<&str>, after: &str) -> String {
        let s = Schedule::parse(&cron(expr, zone)).unwrap();
        let at = s.next_after(ms(after)).unwrap();
        iso(OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000).unwrap())
    }

    #[test]
    fn next_fire_times_table() {
        let cases = [
            (
                "0 */15 * * * *",
                None,
                "2026-12-07T10:07:00Z",
                "2026-12-07T10:15:00.000Z",
            ),
            (
                "0 */15 * * * *",
                None,
                "2026-12-07T10:15:00Z",
                "2026-12-07T10:30:00.000Z",
            ),
            (
                "00 0 9 * * 1-5",
                Some("UTC"),
                "2026-12-05T12:00:00Z",
                "2026-12-07T09:00:00.000Z",
            ),
            (
                "0 30 9 * * *",
                Some("+02:00"),
                "2026-12-07T08:00:00Z",
                "2026-12-08T07:30:00.000Z",
            ),
            (
                "0 0 0 1 1,7 *",
                None,
                "2026-12-07T00:00:00Z",
                "2027-01-01T00:00:00.000Z",
            ),
            (
                "0 0 12 * * sun",
                None,
                "2026-12-07T00:00:00Z",
                "2026-12-13T12:00:00.000Z",
            ),
            (
                "0 0 4 29 2 *",
                None,
                "2026-03-01T00:00:00Z",
                "2028-02-29T04:00:00.000Z",
            ),
            (
                "30 * * * * *",
                None,
                "2026-12-07T10:00:30Z",
                "2026-12-07T10:01:30.000Z",
            ),
        ];
        for (expr, zone, after, want) in cases {
            assert_eq!(next(expr, zone, after), want, "{expr} after {after}");
        }
    }

    #[test]
    fn bad_fields_and_zones_are_refused_clearly() {
        for (expr, zone, fragment) in [
            ("0 61 * * * *", None, "minutes"),
            ("0 x * * * *", None, "not a number"),
            (
                "0 0 * * * *",
                Some("America/Los_Angeles"),
                "not supported yet",
            ),
        ] {
            let e = Schedule::parse(&cron(expr, zone)).unwrap_err();
            assert!(e.contains(fragment), "{e}");
        }
    }
}
