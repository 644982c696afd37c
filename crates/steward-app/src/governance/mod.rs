//! Access-request use cases that every path shares (v1, v2, the scheduler, the demo seed).
//!
//! * [`engine`]: the directory snapshot approvers are resolved against, fulfilment (group
//!   membership or app assignment, in the transaction that approves), revocation, and saving a
//!   request with its next due time, its System Log events and its domain events.
//! * [`scheduler`]: [`run_due`] expires undecided requests and revokes time-bound access.
//! * [`tasks`]: deciding and reassigning approval tasks.
//! * [`demo`]: conditions, a two-step sequence and a few requests for `--demo`.
//! * [`conditions`], [`sequences`], [`settings`]: what a resource offers and who approves it.
//! * [`catalog`]: the catalog of requestable entries (admin, per user, `my`) and their fields.
//! * [`requests`]: v2 submission (a condition matched, or the request rejected) and messages.
//! * [`v1`]: request types, teams and v1 requests.
//! * [`resource_owners`]: who owns apps and groups (the `RESOURCE_OWNER` approvers).
//!
//! Time comes from the injectable [`Clock`], so tests drive expiry without sleeping.

pub mod catalog;
pub mod conditions;
pub mod demo;
pub mod engine;
pub mod requests;
pub mod resource_owners;
pub mod scheduler;
pub mod sequences;
pub mod settings;
pub mod tasks;
pub mod v1;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use steward_core::access_requests::new_hex_id;
use steward_core::access_requests::workflow::AccessRequestEvent;
use steward_core::apps::App;
use steward_core::timefmt::{format_millis, now_millis};
use steward_core::validation::ValidationError;
use steward_store::{Store, StoreError};
use tokio::sync::broadcast;

pub use scheduler::{run_due, spawn_scheduler, Pass};

use crate::{AppError, AppResult};

/// A request body as the caller parsed it. A use case that reads an object named in the path
/// first reports that object's 404, then the body's error: the order Okta answers in.
pub type Body<T> = Result<T, ValidationError>;

/// One page of a list, with the cursor of the next page (`None` on the last).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// The page of `rows` (read with `limit + 1`, to know whether more follow).
    pub fn of(mut rows: Vec<T>, limit: usize, cursor: impl Fn(&T) -> String) -> Page<T> {
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(cursor)
        } else {
            None
        };
        Page { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// The resource (an app) `id` names: `NotFound` for anything else.
pub async fn resource(store: &Store, id: &str) -> AppResult<App> {
    store
        .app(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (Resource)")))
}

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

/// The org's default team, created on first use (Okta's teams are made in its UI).
pub async fn ensure_default_team(store: &Store, now: i64) -> Result<(), StoreError> {
    if !store.access_requests().teams(None, 1).await?.is_empty() {
        return Ok(());
    }
    let id = new_hex_id();
    let team = json!({
        "id": id, "name": "Access Requests",
        "created": format_millis(now), "lastUpdated": format_millis(now),
    });
    let mut tx = store.begin().await?;
    tx.access_requests()
        .put_team(&id, "Access Requests", &team)
        .await?;
    tx.commit().await
}
