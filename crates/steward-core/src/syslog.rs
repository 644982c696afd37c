//! System Log events, shaped like Okta's `LogEvent`. Every write, sign-in, token issue and
//! denial records one, in the same transaction as the change it describes.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::timefmt::format_millis;

/// Who did it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub alternate_id: String,
    pub display_name: String,
}

impl Actor {
    pub fn user(id: &str, login: &str, display_name: &str) -> Actor {
        Actor {
            id: id.into(),
            kind: "User".into(),
            alternate_id: login.into(),
            display_name: display_name.into(),
        }
    }

    pub fn client(client_id: &str, label: &str) -> Actor {
        Actor {
            id: client_id.into(),
            kind: "PublicClientApp".into(),
            alternate_id: client_id.into(),
            display_name: label.into(),
        }
    }

    /// Steward itself (bootstrap, scheduler).
    pub fn system() -> Actor {
        Actor {
            id: "steward".into(),
            kind: "SystemPrincipal".into(),
            alternate_id: "system@steward".into(),
            display_name: "Steward".into(),
        }
    }
}

/// What it was done to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub alternate_id: String,
    pub display_name: String,
}

impl Target {
    pub fn new(id: &str, kind: &str, alternate_id: &str, display_name: &str) -> Target {
        Target {
            id: id.into(),
            kind: kind.into(),
            alternate_id: alternate_id.into(),
            display_name: display_name.into(),
        }
    }
}

/// Where the call came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientInfo {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// One System Log event.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub uuid: String,
    pub published: i64,
    pub event_type: String,
    pub severity: &'static str,
    pub display_message: String,
    pub actor: Actor,
    pub targets: Vec<Target>,
    /// SUCCESS, FAILURE, ALLOW, DENY, ...
    pub outcome: &'static str,
    pub reason: Option<String>,
    pub client: ClientInfo,
    pub debug_data: Map<String, Value>,
}

impl LogEvent {
    pub fn new(event_type: &str, display_message: &str, actor: Actor, now_ms: i64) -> LogEvent {
        LogEvent {
            uuid: uuid_v7(now_ms),
            published: now_ms,
            event_type: event_type.into(),
            severity: "INFO",
            display_message: display_message.into(),
            actor,
            targets: Vec::new(),
            outcome: "SUCCESS",
            reason: None,
            client: ClientInfo::default(),
            debug_data: Map::new(),
        }
    }

    pub fn target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    pub fn outcome(mut self, result: &'static str, reason: Option<String>) -> Self {
        if matches!(result, "FAILURE" | "DENY") {
            self.severity = "WARN";
        }
        self.outcome = result;
        self.reason = reason;
        self
    }

    pub fn client(mut self, client: ClientInfo) -> Self {
        self.client = client;
        self
    }

    pub fn debug(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.debug_data.insert(key.into(), value.into());
        self
    }

    /// The event as Okta's `LogEvent` JSON.
    pub fn to_json(&self) -> Value {
        let mut debug = self.debug_data.clone();
        if let Some(rid) = &self.client.request_id {
            debug.insert("requestId".into(), Value::String(rid.clone()));
        }
        json!({
            "uuid": self.uuid,
            "published": format_millis(self.published),
            "eventType": self.event_type,
            "version": "0",
            "severity": self.severity,
            "legacyEventType": Value::Null,
            "displayMessage": self.display_message,
            "actor": {
                "id": self.actor.id,
                "type": self.actor.kind,
                "alternateId": self.actor.alternate_id,
                "displayName": self.actor.display_name,
                "detailEntry": Value::Null,
            },
            "client": {
                "userAgent": {
                    "rawUserAgent": self.client.user_agent,
                    "os": Value::Null,
                    "browser": Value::Null,
                },
                "zone": "null",
                "device": Value::Null,
                "id": Value::Null,
                "ipAddress": self.client.ip_address,
                "geographicalContext": Value::Null,
            },
            "outcome": { "result": self.outcome, "reason": self.reason },
            "target": self.targets.iter().map(|t| json!({
                "id": t.id,
                "type": t.kind,
                "alternateId": t.alternate_id,
                "displayName": t.display_name,
                "detailEntry": Value::Null,
            })).collect::<Vec<_>>(),
            "transaction": {
                "type": "WEB",
                "id": self.client.request_id,
                "detail": {},
            },
            "debugContext": { "debugData": debug },
            "authenticationContext": { "externalSessionId": Value::Null },
            "securityContext": {},
            "request": { "ipChain": self.client.ip_address.as_ref().map(|ip| vec![json!({"ip": ip})]).unwrap_or_default() },
        })
    }
}

/// A time-ordered (version 7) UUID for the event published at `now_ms`: 48 bits of Unix
/// milliseconds, then 74 random bits. Okta's event ids are time-based UUIDs too; ordering by
/// time means that the System Log's unique index grows at its right edge instead of dirtying a
/// random page per event (every token issue writes one).
pub fn uuid_v7(now_ms: i64) -> String {
    let mut b: [u8; 16] = rand::random();
    let ms = u64::try_from(now_ms).unwrap_or(0).to_be_bytes();
    b[..6].copy_from_slice(&ms[2..]);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_has_okta_fields() {
        let e = LogEvent::new(
            "user.lifecycle.create",
            "Create okta user",
            Actor::system(),
            0,
        )
        .target(Target::new("00u1", "User", "a@b.co", "A B"))
        .outcome("FAILURE", Some("nope".into()));
        let j = e.to_json();
        for key in [
            "uuid",
            "published",
            "eventType",
            "actor",
            "target",
            "outcome",
            "client",
            "debugContext",
        ] {
            assert!(j.get(key).is_some(), "{key}");
        }
        assert_eq!(j["target"][0]["id"], "00u1");
        assert_eq!(j["severity"], "WARN");
        assert_eq!(j["published"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn uuids_are_v7_and_ordered_by_time() {
        let u = uuid_v7(1_764_000_000_000);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "7");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        // The first 48 bits are the milliseconds, big-endian.
        assert_eq!(&u[..13], "019ab697-e800");
        assert_ne!(u, uuid_v7(1_764_000_000_000));
        assert!(uuid_v7(1_764_000_000_001) > u);
        assert!(uuid_v7(1_764_000_001_000) > uuid_v7(1_764_000_000_999));
    }
}
