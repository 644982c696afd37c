//! Event cards: the connector cards that start a flow when something happens in the org
//! (Okta's User Created, User Added to Group, Access Request Created, …).
//!
//! [`EVENT_CARDS`] is the one table saying which System Log event type starts which card; the
//! registry knows each card as a [`Trigger::Event`]. [`event_output`] shapes one System Log
//! `LogEvent` (Okta's JSON) as the card's `Output` object, the way Okta's event cards expose it
//! (`Date and Time`, `Message`, `Event ID`, `Event Type`, …, `Okta User{…}`, `Event Details`,
//! `Debug Context.Debug Data`); [`trigger_input`] wraps the outputs of one event as a run's
//! trigger input (`collection` holds one item, as a webhook delivery of one event).

use serde_json::{json, Map, Value};

use crate::address::CardKey;
use crate::registry::{CardRegistry, Trigger};

/// One event card: `(connector, action, System Log event type)`.
pub type EventCard = (&'static str, &'static str, &'static str);

/// Every event card Steward runs, with the System Log event type that starts it. The Okta
/// connector's IGA events are `accessRequestCreated` and `accessRequestResolved`; the Okta
/// Identity Governance connector (`oig`) exports its Access Request Created card as
/// `accessRequestCreated` too (its name in Okta's exports is not public: Steward's choice).
pub const EVENT_CARDS: &[EventCard] = &[
    ("okta", "userCreated", "user.lifecycle.create"),
    ("okta", "userActivated", "user.lifecycle.activate"),
    ("okta", "userDeactivated", "user.lifecycle.deactivate"),
    ("okta", "userSuspended", "user.lifecycle.suspend"),
    (
        "okta",
        "userAddedToGroupMembership",
        "group.user_membership.add",
    ),
    (
        "okta",
        "userRemovedFromGroupMembership",
        "group.user_membership.remove",
    ),
    (
        "okta",
        "oktaUserProfileUpdated",
        "user.account.update_profile",
    ),
    (
        "okta",
        "oktaUserPasswordUpdated",
        "user.account.update_password",
    ),
    ("okta", "accessRequestCreated", "access.request.create"),
    ("okta", "accessRequestResolved", "access.request.resolve"),
    ("oig", "accessRequestCreated", "access.request.create"),
];

/// Registers every event card as a trigger.
pub fn register(registry: &mut CardRegistry) {
    for (connector, action, _) in EVENT_CARDS {
        registry.connector_trigger(connector, action, Trigger::Event);
    }
}

/// The System Log event type that starts `card`, if it is an event card.
pub fn event_type_of(card: &CardKey) -> Option<&'static str> {
    EVENT_CARDS
        .iter()
        .find(|(connector, action, _)| CardKey::connector(connector, action) == *card)
        .map(|(_, _, event_type)| *event_type)
}

fn text(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Null) | None => Value::Null,
        Some(other) => Value::String(other.to_string()),
    }
}

/// `{ID, Alternate ID, Display Name, Type}` of an actor or target.
fn party(v: Option<&Value>) -> Value {
    let get = |k: &str| text(v.and_then(|p| p.get(k)));
    json!({
        "ID": get("id"),
        "Alternate ID": get("alternateId"),
        "Display Name": get("displayName"),
        "Type": get("type"),
    })
}

fn target_of<'a>(log: &'a Value, kind: &str) -> Option<&'a Value> {
    log.get("target")
        .and_then(Value::as_array)
        .and_then(|targets| {
            targets
                .iter()
                .find(|t| t.get("type").and_then(Value::as_str) == Some(kind))
        })
}

/// One event card's `Output` for a System Log `LogEvent` (as Okta's API renders it).
pub fn event_output(log: &Value) -> Value {
    let published = text(log.get("published"));
    let debug_data = log
        .pointer("/debugContext/debugData")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut out = json!({
        "Date and Time": published,
        "Message": text(log.get("displayMessage")),
        "Event ID": text(log.get("uuid")),
        "Event Type": text(log.get("eventType")),
        "Event Time": published,
        "Version": text(log.get("version")),
        "Admin": party(log.get("actor")),
        "Actor": party(log.get("actor")),
        "Okta User": party(target_of(log, "User")),
        "UUID": text(log.get("uuid")),
        "Event Details": log.clone(),
        "Headers": {},
        "Source": "steward",
        "Debug Context": {"Debug Data": debug_data},
    });
    if let Some(obj) = out.as_object_mut() {
        if let Some(group) = target_of(log, "UserGroup") {
            obj.insert("Group".into(), party(Some(group)));
        }
        if let Some(request) = target_of(log, "AccessRequest") {
            obj.insert("Access Request".into(), party(Some(request)));
        }
        if let Some(client) = log.get("client") {
            obj.insert("Client".into(), client.clone());
        }
    }
    out
}

/// The trigger input of a run started by one event: the event card's `collection` holds the
/// event (one webhook delivery of one event), so the card's For Each runs its body once.
pub fn trigger_input(log: &Value) -> Value {
    json!({ "collection": [{ "Output": event_output(log) }] })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::registry::CardImpl;

    #[test]
    fn every_event_card_is_a_trigger_with_its_event_type() {
        let registry = CardRegistry::standard();
        for (connector, action, event_type) in EVENT_CARDS {
            let key = CardKey::connector(connector, action);
            assert!(matches!(
                registry.get(&key),
                Some(CardImpl::Trigger(Trigger::Event))
            ));
            assert_eq!(event_type_of(&key), Some(*event_type));
        }
        assert_eq!(
            event_type_of(&CardKey::connector("okta", "hTTPRequest")),
            None
        );
    }

    #[test]
    fn a_log_event_becomes_the_cards_output() {
        let log = json!({
            "uuid": "e1", "published": "2026-12-07T00:00:00.000Z", "eventType": "group.user_membership.add",
            "version": "0", "displayMessage": "Add user to group membership",
            "actor": {"id": "00u1", "type": "User", "alternateId": "admin@x", "displayName": "Ada"},
            "target": [
                {"id": "00u2", "type": "User", "alternateId": "bob@x", "displayName": "Bob"},
                {"id": "00g1", "type": "UserGroup", "alternateId": "unknown", "displayName": "Eng"}
            ],
            "debugContext": {"debugData": {"accessRequestId": "r1"}}
        });
        let out = event_output(&log);
        assert_eq!(out["Event Type"], "group.user_membership.add");
        assert_eq!(out["Event ID"], "e1");
        assert_eq!(out["Okta User"]["ID"], "00u2");
        assert_eq!(out["Okta User"]["Alternate ID"], "bob@x");
        assert_eq!(out["Group"]["Display Name"], "Eng");
        assert_eq!(out["Admin"]["Display Name"], "Ada");
        assert_eq!(out["Debug Context"]["Debug Data"]["accessRequestId"], "r1");
        assert_eq!(out["Event Details"], log);
        let input = trigger_input(&log);
        assert_eq!(input["collection"][0]["Output"]["UUID"], "e1");
    }
}
