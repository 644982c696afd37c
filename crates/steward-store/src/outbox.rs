//! The outbox: domain events written in the transaction of the change they describe.
//!
//! [`WriteTx::emit`] inserts the row and remembers the event; after a successful
//! [`WriteTx::commit`] the transaction's events go to the listeners registered with
//! [`Store::on_commit`] (this node reacts at once). A transaction that rolls back or fails to
//! commit leaves no row and tells no listener. Other nodes read the rows with
//! [`Store::outbox_after`].

use std::sync::{Arc, RwLock};

use serde_json::Value;
use sqlx::Row;
use steward_core::audit::{log_entries, Origin};
use steward_core::events::DomainEvent;
use steward_core::syslog::{ClientInfo, Target};
use steward_core::timefmt::now_millis;

use crate::{to_json, Result, Store, StoreError, WriteTx};

/// An event as written to the outbox by this node's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub seq: i64,
    pub occurred_at: i64,
    pub event: DomainEvent,
}

/// A stored outbox row. The payload stays JSON: a node may read an event type that a newer
/// node wrote and it does not know.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub seq: i64,
    pub occurred_at: i64,
    pub event_type: String,
    pub payload: Value,
}

impl OutboxRow {
    /// The event, if this node knows its type.
    pub fn event(&self) -> Option<DomainEvent> {
        serde_json::from_value(self.payload.clone()).ok()
    }
}

type Listener = Arc<dyn Fn(&[OutboxEvent]) + Send + Sync>;

/// Who hears about committed events on this node. Listeners run synchronously inside
/// `commit`, after the database commit: they must be quick and must not block.
#[derive(Default)]
pub(crate) struct CommitListeners {
    listeners: RwLock<Vec<Listener>>,
}

impl CommitListeners {
    fn add(&self, listener: Listener) {
        self.listeners
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(listener);
    }

    pub(crate) fn notify(&self, events: &[OutboxEvent]) {
        if events.is_empty() {
            return;
        }
        let listeners = self
            .listeners
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        for listener in listeners {
            listener(events);
        }
    }
}

impl Store {
    /// Calls `listener` with the events of every transaction of this store (and its clones)
    /// that commits from now on, right after the commit and before `commit` returns.
    pub fn on_commit(&self, listener: impl Fn(&[OutboxEvent]) + Send + Sync + 'static) {
        self.listeners.add(Arc::new(listener));
    }

    /// Up to `limit` rows with `seq > after`, in `seq` order.
    pub async fn outbox_after(&self, after: i64, limit: i64) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
            "SELECT seq, occurred_at, event_type, payload FROM outbox WHERE seq > $1 \
             ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit.max(1))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let payload: String = row.try_get("payload")?;
                Ok(OutboxRow {
                    seq: row.try_get("seq")?,
                    occurred_at: row.try_get("occurred_at")?,
                    event_type: row.try_get("event_type")?,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?,
                })
            })
            .collect()
    }

    /// The highest `seq` written so far (0 when the outbox is empty).
    pub async fn outbox_head(&self) -> Result<i64> {
        let head: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM outbox")
            .fetch_one(self.pool())
            .await?;
        Ok(head.unwrap_or(0))
    }
}

impl WriteTx {
    /// Says where this transaction's changes come from (the caller's address, user agent and
    /// request id) and when they are made, for the System Log entries of [`WriteTx::record`].
    /// Without it they carry no client and the time of the call.
    pub fn set_origin(&mut self, client: ClientInfo, at: i64) {
        self.origin = Origin { client, at };
    }

    /// Records a change: its domain event into the outbox and the System Log entries derived
    /// from it (`steward_core::audit`, the one place that says how each change is logged), in
    /// this transaction. `subjects` names what the event knows only by id, as it is now.
    pub async fn record(&mut self, event: DomainEvent, subjects: &[Target]) -> Result<()> {
        let origin = if self.origin.at > 0 {
            self.origin.clone()
        } else {
            Origin {
                client: self.origin.client.clone(),
                at: now_millis(),
            }
        };
        let entries = log_entries(&event, subjects, &origin);
        self.append_logs(&entries.iter().collect::<Vec<_>>())
            .await?;
        self.emit(event).await
    }

    /// Writes `event` to the outbox in this transaction; listeners hear of it after the commit.
    pub async fn emit(&mut self, event: DomainEvent) -> Result<()> {
        let occurred_at = now_millis();
        let payload = to_json(&event)?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (occurred_at, event_type, payload) VALUES ($1, $2, $3) \
             RETURNING seq",
        )
        .bind(occurred_at)
        .bind(event.name())
        .bind(payload)
        .fetch_one(self.conn())
        .await?;
        self.emitted.push(OutboxEvent {
            seq,
            occurred_at,
            event,
        });
        Ok(())
    }

    /// Deletes outbox rows older than `before` (epoch ms); the number deleted.
    pub async fn prune_outbox(&mut self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM outbox WHERE occurred_at < $1")
            .bind(before)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }
}
