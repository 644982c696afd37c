//! Timestamps. Stored as milliseconds since the Unix epoch; rendered the way Okta does
//! (`2024-01-31T12:00:00.000Z`).

use time::{format_description::well_known::Rfc3339, OffsetDateTime, UtcOffset};

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Renders epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_millis(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an RFC 3339 timestamp (as clients send in `since`, `until` and filters) into epoch ms.
pub fn parse_rfc3339_millis(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_okta_format() {
        let ms = 1_700_000_000_123;
        let s = format_millis(ms);
        assert_eq!(s, "2023-11-14T22:13:20.123Z");
        assert_eq!(parse_rfc3339_millis(&s), Some(ms));
        assert_eq!(parse_rfc3339_millis("not a date"), None);
    }
}
