//! ISO-8601 durations as Access Requests accept them: a single positive number of a single unit.
//! v1 request types take days, hours or minutes (`P40D`, `PT65H`, `PT90M`); v2 conditions take
//! days, hours or weeks (`P30D`, `PT24H`, `P2W`). Years, months, fractions and mixes
//! (`P1Y2M`, `P40DT65H`) are refused everywhere.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl DurationUnit {
    pub const fn millis(self) -> i64 {
        match self {
            DurationUnit::Minutes => 60_000,
            DurationUnit::Hours => 3_600_000,
            DurationUnit::Days => 86_400_000,
            DurationUnit::Weeks => 604_800_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessDuration {
    pub amount: u32,
    pub unit: DurationUnit,
}

impl AccessDuration {
    /// Parses `PnW`, `PnD`, `PTnH` or `PTnM` (n ≥ 1, at most 6 digits).
    pub fn parse(s: &str) -> Option<AccessDuration> {
        let (rest, time) = match s.strip_prefix("PT") {
            Some(rest) => (rest, true),
            None => (s.strip_prefix('P')?, false),
        };
        let designator = rest.chars().last()?;
        let digits = &rest[..rest.len() - designator.len_utf8()];
        if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let unit = match (time, designator) {
            (false, 'W') => DurationUnit::Weeks,
            (false, 'D') => DurationUnit::Days,
            (true, 'H') => DurationUnit::Hours,
            (true, 'M') => DurationUnit::Minutes,
            _ => return None,
        };
        let amount: u32 = digits.parse().ok()?;
        (amount > 0).then_some(AccessDuration { amount, unit })
    }

    /// The v1 flavour (request types' `accessDuration`): days, hours or minutes only.
    pub fn parse_v1(s: &str) -> Result<AccessDuration, String> {
        match AccessDuration::parse(s) {
            Some(d) if d.unit != DurationUnit::Weeks => Ok(d),
            _ => Err(format!(
                "{s} is not a supported duration: use a single unit of days, hours or minutes, \
                 such as P40D, PT65H or PT90M"
            )),
        }
    }

    pub fn millis(self) -> i64 {
        i64::from(self.amount) * self.unit.millis()
    }

    /// The coarsest exact rendering in days, hours or minutes (never weeks, which v1 refuses);
    /// `None` unless `ms` is a positive whole number of minutes.
    pub fn from_millis(ms: i64) -> Option<AccessDuration> {
        [
            DurationUnit::Days,
            DurationUnit::Hours,
            DurationUnit::Minutes,
        ]
        .into_iter()
        .find(|u| ms > 0 && ms % u.millis() == 0)
        .and_then(|unit| {
            let amount = u32::try_from(ms / unit.millis()).ok()?;
            Some(AccessDuration { amount, unit })
        })
    }
}

impl fmt::Display for AccessDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.amount;
        match self.unit {
            DurationUnit::Weeks => write!(f, "P{n}W"),
            DurationUnit::Days => write!(f, "P{n}D"),
            DurationUnit::Hours => write!(f, "PT{n}H"),
            DurationUnit::Minutes => write!(f, "PT{n}M"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_examples_parse_to_millis_and_back() {
        for (s, ms) in [
            ("P40D", 40 * 86_400_000),
            ("PT65H", 65 * 3_600_000),
            ("PT90M", 90 * 60_000),
        ] {
            let d = AccessDuration::parse_v1(s).unwrap();
            assert_eq!(d.millis(), ms, "{s}");
            assert_eq!(d.to_string(), s);
            assert_eq!(AccessDuration::from_millis(ms).unwrap().to_string(), s);
        }
        assert_eq!(
            AccessDuration::parse("P2W").unwrap().millis(),
            14 * 86_400_000
        );
        // The coarsest exact unit wins: 48 hours render as two days.
        assert_eq!(
            AccessDuration::from_millis(48 * 3_600_000)
                .unwrap()
                .to_string(),
            "P2D"
        );
        assert_eq!(AccessDuration::from_millis(90_001), None);
        assert_eq!(AccessDuration::from_millis(0), None);
    }

    #[test]
    fn mixed_units_calendar_units_and_garbage_are_refused() {
        for s in [
            "P1Y2M",
            "P1Y",
            "P40M",
            "P40DT65H",
            "PT1H30M",
            "P1W2D",
            "P0D",
            "P-1D",
            "P1.5D",
            "PT",
            "P",
            "",
            "40D",
            "p40d",
            "P40d",
            "PT40D",
            "P40H",
            "garbage",
            "P1234567D",
        ] {
            assert_eq!(AccessDuration::parse(s), None, "{s}");
            assert!(AccessDuration::parse_v1(s).is_err(), "{s}");
        }
        // Weeks exist for v2 conditions, not for v1 request types.
        assert!(AccessDuration::parse("P1W").is_some());
        assert!(AccessDuration::parse_v1("P1W").is_err());
    }
}
