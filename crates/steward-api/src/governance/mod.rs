//! Okta Identity Governance: Access Requests v1 and v2, admin and end-user, and resource owners
//! (`/governance/api`).
//!
//! * [`v2`]: request conditions, sequences (Steward adds create and update), settings, catalogs,
//!   requests and tasks, admin and `my`.
//! * [`v1`]: request types, teams, requests and their messages.
//! * [`resource_owners`]: who owns apps and groups (the `RESOURCE_OWNER` approvers).
//! * [`engine`]: what every path shares: the directory snapshot approvers are resolved against,
//!   fulfilment (group membership or app assignment, in the transaction that approves), saving a
//!   request with its next due time, System Log events and the event bus.
//! * [`scheduler`]: [`run_due`] expires undecided requests and revokes time-bound access.
//! * [`demo`]: conditions, a two-step sequence and a few requests for `--demo`.
//!
//! Time comes from the injectable [`Clock`] in `AppState`, so tests drive expiry without sleeping.

pub mod demo;
pub mod engine;
pub mod resource_owners;
pub mod scheduler;
pub mod v1;
pub mod v2;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};
use steward_core::access_requests::workflow::AccessRequestEvent;
use steward_core::timefmt::now_millis;
use steward_store::StoreError;
use tokio::sync::broadcast;

pub use scheduler::{run_due, spawn_scheduler};

use crate::error::{ApiError, ApiResult};

/// The clock every access-request rule reads: the system clock, unless a test set it.
#[derive(Clone, Default)]
pub struct Clock {
    /// Epoch ms; 0 means "use the system clock".
    fixed: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        match self.fixed.load(Ordering::SeqCst) {
            0 => now_millis(),
            t => t,
        }
    }

    /// Freezes the clock at `ms`.
    pub fn set(&self, ms: i64) {
        self.fixed.store(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward (freezing it at the current time first).
    pub fn advance(&self, ms: i64) {
        let now = self.now();
        self.set(now.saturating_add(ms));
    }
}

/// One access-request event as published on the bus (after its transaction committed).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GovernanceEvent {
    /// The System Log event type it was recorded with, e.g. `access.request.create`.
    pub event_type: String,
    pub published: i64,
    pub request_id: String,
    pub event: AccessRequestEvent,
}

/// The internal event bus (a `tokio::sync::broadcast` channel); Workflows subscribes to it.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<GovernanceEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl EventBus {
    pub fn subscribe(&self) -> broadcast::Receiver<GovernanceEvent> {
        self.sender.subscribe()
    }

    pub fn publish(&self, events: Vec<GovernanceEvent>) {
        for e in events {
            // No subscriber is fine.
            let _ = self.sender.send(e);
        }
    }
}

/// A System Log event for this caller's governance action.
pub(crate) fn v2_log(
    caller: &crate::http::Caller,
    event_type: &str,
    message: &str,
    now: i64,
) -> steward_core::syslog::LogEvent {
    steward_core::syslog::LogEvent::new(event_type, message, caller.actor(), now)
        .client(caller.client.clone())
}

pub(crate) fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("{id} ({what})"))
}

/// Maps a store `NotFound` to Okta's 404 naming the object.
pub(crate) fn found<T>(r: Result<T, StoreError>, what: &str, id: &str) -> ApiResult<T> {
    match r {
        Ok(v) => Ok(v),
        Err(StoreError::NotFound) => Err(not_found(what, id)),
        Err(e) => Err(e.into()),
    }
}

/// `{ "data": [...], "_links": { "self": …, "next": … } }`, the governance list shape.
pub(crate) fn list_body(
    issuer: &str,
    path: &str,
    query: Option<&str>,
    data: Vec<Value>,
    next_after: Option<&str>,
) -> Value {
    let self_href = match query {
        Some(q) if !q.is_empty() => format!("{issuer}{path}?{q}"),
        _ => format!("{issuer}{path}"),
    };
    let mut links = json!({"self": {"href": self_href}});
    if let Some(after) = next_after {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "after");
        pairs.push(("after".into(), after.into()));
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        links["next"] = json!({"href": format!("{issuer}{path}?{q}")});
    }
    json!({"data": data, "_links": links})
}

/// Every governance route, each area's from its own module.
pub fn routes() -> crate::routes::Routes {
    v2::routes()
        .merge(v1::routes())
        .merge(resource_owners::routes())
}
