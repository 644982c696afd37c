//! Compact JWS parsing shared by the verifiers (crate-private).
//!
//! Only the structure is handled here: three base64url parts, a JSON-object header and a
//! JSON-object payload. Algorithm policy, key selection and signature checks are the callers'
//! business, so that each verifier states its own rules explicitly.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{Map, Value};

/// Longest compact JWS any verifier accepts (bounds work done on attacker input).
pub(crate) const MAX_JWS_LEN: usize = 16 * 1024;

/// A parsed, not yet verified, compact JWS.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    /// The third part, still base64url-encoded (empty for `alg: none`).
    pub signature: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwsError {
    /// Not three base64url parts with JSON-object header and payload, or too long.
    Malformed,
    /// The header carries `crit`: we understand no extension, so RFC 7515 §4.1.11 says reject.
    Critical,
}

pub(crate) fn parse(token: &str) -> Result<Jws<'_>, JwsError> {
    if token.len() > MAX_JWS_LEN {
        return Err(JwsError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    if h.is_empty() || p.is_empty() {
        return Err(JwsError::Malformed);
    }
    let header = decode_object(h)?;
    let claims = decode_object(p)?;
    if header.contains_key("crit") {
        return Err(JwsError::Critical);
    }
    let signing_input = token
        .get(..h.len() + 1 + p.len())
        .ok_or(JwsError::Malformed)?;
    Ok(Jws {
        header,
        claims,
        signing_input,
        signature: s,
    })
}

fn decode_object(part: &str) -> Result<Map<String, Value>, JwsError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwsError::Malformed)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwsError::Malformed),
    }
}

/// A string member, if present and a string.
pub(crate) fn str_member<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    map.get(name).and_then(Value::as_str)
}

/// The longest `jti` accepted, in bytes.
pub const MAX_JTI_LEN: usize = 512;

/// A usable `jti`: non-empty, at most [`MAX_JTI_LEN`] bytes, no control characters. Stores
/// refuse some of those outright (PostgreSQL has no NUL in text), which would fail a whole
/// group commit instead of this one request.
pub(crate) fn jti_member(map: &Map<String, Value>) -> Option<&str> {
    str_member(map, "jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN && !j.chars().any(char::is_control))
}

/// What a NumericDate member holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumericDate {
    Absent,
    Invalid,
    At(i64),
}

/// A NumericDate member (RFC 7519 §2: seconds, possibly fractional; truncated here).
pub(crate) fn date_member(map: &Map<String, Value>, name: &str) -> NumericDate {
    match map.get(name) {
        None => NumericDate::Absent,
        Some(v) => {
            if let Some(i) = v.as_i64() {
                NumericDate::At(i)
            } else {
                match v.as_f64() {
                    Some(f) if f.is_finite() && f.abs() < 1e15 => NumericDate::At(f.trunc() as i64),
                    _ => NumericDate::Invalid,
                }
            }
        }
    }
}

/// Whether the `aud` claim (a string or an array of strings) names one of `accepted`.
pub(crate) fn audience_matches(map: &Map<String, Value>, accepted: &[&str]) -> bool {
    match map.get("aud") {
        Some(Value::String(s)) => accepted.contains(&s.as_str()),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|s| accepted.contains(&s)),
        _ => false,
    }
}

/// Builds a compact JWS from JSON values and a signing function (used by tests to craft tokens
/// that no honest signer would produce).
#[cfg(test)]
pub(crate) fn assemble(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> String) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{sig}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_three_parts() {
        let t = assemble(&json!({"alg":"RS256"}), &json!({"a":1}), |_| "c2ln".into());
        let jws = parse(&t).unwrap();
        assert_eq!(str_member(&jws.header, "alg"), Some("RS256"));
        assert_eq!(jws.signature, "c2ln");
        assert!(t.starts_with(jws.signing_input));
        assert_eq!(jws.signing_input.len() + 5, t.len());
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(parse("a.b").unwrap_err(), JwsError::Malformed);
        assert_eq!(parse("a.b.c.d").unwrap_err(), JwsError::Malformed);
        assert_eq!(parse("!!.??.x").unwrap_err(), JwsError::Malformed);
        let arr = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode("[1]"),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert_eq!(parse(&arr).unwrap_err(), JwsError::Malformed);
        let crit = assemble(&json!({"alg":"RS256","crit":["x"]}), &json!({}), |_| {
            "s".into()
        });
        assert_eq!(parse(&crit).unwrap_err(), JwsError::Critical);
        assert_eq!(
            parse(&"a".repeat(MAX_JWS_LEN + 1)).unwrap_err(),
            JwsError::Malformed
        );
    }

    #[test]
    fn numeric_dates_and_audiences() {
        let m = json!({"a": 5, "b": 6.9, "c": "x", "aud": ["x", "y"]});
        let m = m.as_object().unwrap();
        assert_eq!(date_member(m, "a"), NumericDate::At(5));
        assert_eq!(date_member(m, "b"), NumericDate::At(6));
        assert_eq!(date_member(m, "c"), NumericDate::Invalid);
        assert_eq!(date_member(m, "z"), NumericDate::Absent);
        assert!(audience_matches(m, &["y"]));
        assert!(!audience_matches(m, &["z"]));
    }
}
