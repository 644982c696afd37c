//! System Log events, shaped like Okta's `LogEvent`. Every write, sign-in, token issue and
//! denial records one, in the same transaction as the change it describes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::timefmt::format_millis;

/// Who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

    /// A user, as Okta names one: alternateId is the login.
    pub fn user(u: &crate::directory::User) -> Target {
        Target::new(&u.id, "User", u.login(), &u.display_name())
    }

    /// A group (`UserGroup`): named by its name.
    pub fn group(g: &crate::directory::Group) -> Target {
        Target::new(&g.id, "UserGroup", g.name(), g.name())
    }

    /// An app (`AppInstance`). The one rule for its alternateId, as Okta's System Log has it:
    /// the app's label (its `name`, `oidc_client` for every OIDC app, tells apps apart for
    /// nobody).
    pub fn app(a: &crate::apps::App) -> Target {
        Target::new(&a.id, "AppInstance", &a.label, &a.label)
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
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Okta's `LogEvent` JSON, written straight from the event (every token issue stores one, so
/// no intermediate `Value` tree).
impl Serialize for LogEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ip_chain: Vec<IpView<'_>> = self
            .client
            .ip_address
            .iter()
            .map(|ip| IpView { ip })
            .collect();
        EventView {
            uuid: &self.uuid,
            published: format_millis(self.published),
            event_type: &self.event_type,
            version: "0",
            severity: self.severity,
            legacy_event_type: None,
            display_message: &self.display_message,
            actor: PartyView {
                id: &self.actor.id,
                kind: &self.actor.kind,
                alternate_id: &self.actor.alternate_id,
                display_name: &self.actor.display_name,
                detail_entry: None,
            },
            client: ClientView {
                user_agent: UserAgentView {
                    raw_user_agent: self.client.user_agent.as_deref(),
                    os: None,
                    browser: None,
                },
                zone: "null",
                device: None,
                id: None,
                ip_address: self.client.ip_address.as_deref(),
                geographical_context: None,
            },
            outcome: OutcomeView {
                result: self.outcome,
                reason: self.reason.as_deref(),
            },
            target: self
                .targets
                .iter()
                .map(|t| PartyView {
                    id: &t.id,
                    kind: &t.kind,
                    alternate_id: &t.alternate_id,
                    display_name: &t.display_name,
                    detail_entry: None,
                })
                .collect(),
            transaction: TransactionView {
                kind: "WEB",
                id: self.client.request_id.as_deref(),
                detail: Empty {},
            },
            debug_context: DebugContextView {
                debug_data: DebugDataView {
                    data: &self.debug_data,
                    request_id: self.client.request_id.as_deref(),
                },
            },
            authentication_context: AuthenticationContextView {
                external_session_id: None,
            },
            security_context: Empty {},
            request: RequestView { ip_chain },
        }
        .serialize(serializer)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventView<'a> {
    uuid: &'a str,
    published: String,
    event_type: &'a str,
    version: &'static str,
    severity: &'static str,
    legacy_event_type: Option<&'static str>,
    display_message: &'a str,
    actor: PartyView<'a>,
    client: ClientView<'a>,
    outcome: OutcomeView<'a>,
    target: Vec<PartyView<'a>>,
    transaction: TransactionView<'a>,
    debug_context: DebugContextView<'a>,
    authentication_context: AuthenticationContextView,
    security_context: Empty,
    request: RequestView<'a>,
}

/// An actor or a target.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PartyView<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    alternate_id: &'a str,
    display_name: &'a str,
    detail_entry: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientView<'a> {
    user_agent: UserAgentView<'a>,
    zone: &'static str,
    device: Option<&'static str>,
    id: Option<&'static str>,
    ip_address: Option<&'a str>,
    geographical_context: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserAgentView<'a> {
    raw_user_agent: Option<&'a str>,
    os: Option<&'static str>,
    browser: Option<&'static str>,
}

#[derive(Serialize)]
struct OutcomeView<'a> {
    result: &'static str,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct TransactionView<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Option<&'a str>,
    detail: Empty,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DebugContextView<'a> {
    debug_data: DebugDataView<'a>,
}

/// The event's debug data, with the request id beside it when there is one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DebugDataView<'a> {
    #[serde(flatten)]
    data: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthenticationContextView {
    external_session_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestView<'a> {
    ip_chain: Vec<IpView<'a>>,
}

#[derive(Serialize)]
struct IpView<'a> {
    ip: &'a str,
}

#[derive(Serialize)]
struct Empty {}

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
    fn event_json_is_oktas_whole_shape() {
        let e = LogEvent::new(
            "app.oauth2.as.token.grant",
            "OAuth2 token request denied",
            Actor::client("0oa1", "Bot"),
            1_000,
        )
        .target(Target::new("AT.1", "access_token", "0oa1", "Bot"))
        .outcome("DENY", Some("invalid_client".into()))
        .debug("grantType", "client_credentials")
        .client(ClientInfo {
            ip_address: Some("127.0.0.1".into()),
            user_agent: Some("curl/8".into()),
            request_id: Some("req-1".into()),
        });
        let want = serde_json::json!({
            "uuid": e.uuid,
            "published": "1970-01-01T00:00:01.000Z",
            "eventType": "app.oauth2.as.token.grant",
            "version": "0",
            "severity": "WARN",
            "legacyEventType": null,
            "displayMessage": "OAuth2 token request denied",
            "actor": {"id": "0oa1", "type": "PublicClientApp", "alternateId": "0oa1", "displayName": "Bot", "detailEntry": null},
            "client": {
                "userAgent": {"rawUserAgent": "curl/8", "os": null, "browser": null},
                "zone": "null", "device": null, "id": null, "ipAddress": "127.0.0.1", "geographicalContext": null,
            },
            "outcome": {"result": "DENY", "reason": "invalid_client"},
            "target": [{"id": "AT.1", "type": "access_token", "alternateId": "0oa1", "displayName": "Bot", "detailEntry": null}],
            "transaction": {"type": "WEB", "id": "req-1", "detail": {}},
            "debugContext": {"debugData": {"grantType": "client_credentials", "requestId": "req-1"}},
            "authenticationContext": {"externalSessionId": null},
            "securityContext": {},
            "request": {"ipChain": [{"ip": "127.0.0.1"}]},
        });
        assert_eq!(e.to_json(), want);
        // Without a caller: nulls, and no request id in the debug data.
        let bare = LogEvent::new("x", "y", Actor::system(), 0).to_json();
        assert_eq!(bare["client"]["ipAddress"], Value::Null);
        assert_eq!(bare["request"]["ipChain"], serde_json::json!([]));
        assert_eq!(bare["debugContext"]["debugData"], serde_json::json!({}));
        assert_eq!(bare["transaction"]["id"], Value::Null);
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
