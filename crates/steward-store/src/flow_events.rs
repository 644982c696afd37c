//! Event-triggered flows: one cursor per event flow that is on, over the outbox.
//!
//! The dispatcher (steward-app `flows::events`) locks a cursor ([`FlowsTx::lock_event_cursor`]:
//! `FOR UPDATE` on PostgreSQL; SQLite has one writer), reads the outbox after it, queues the
//! runs and moves the cursor ([`FlowsTx::move_event_cursor`], conditional on the cursor it read)
//! in one transaction: an event starts each subscribed flow once, across nodes.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{OutboxRow, Result, Store, StoreError, WriteTx};

/// Where an event flow is in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct EventCursor {
    pub flow_id: String,
    /// The System Log event type its trigger listens to (`user.lifecycle.create`, …).
    pub event_type: String,
    /// The highest outbox seq looked at.
    pub last_seq: i64,
    /// Seqs below `last_seq` not committed when looked at → when first skipped (epoch ms).
    pub gaps: BTreeMap<i64, i64>,
    pub updated: i64,
}

fn cursor_row(row: &AnyRow) -> Result<EventCursor> {
    let gaps: String = row.try_get("gaps")?;
    let gaps: BTreeMap<String, i64> = serde_json::from_str(&gaps)
        .map_err(|e| StoreError::Corrupt(format!("flow_event_cursors.gaps: {e}")))?;
    Ok(EventCursor {
        flow_id: row.try_get("flow_id")?,
        event_type: row.try_get("event_type")?,
        last_seq: row.try_get("last_seq")?,
        gaps: gaps
            .into_iter()
            .filter_map(|(k, v)| k.parse().ok().map(|k| (k, v)))
            .collect(),
        updated: row.try_get("updated")?,
    })
}

fn gaps_json(gaps: &BTreeMap<i64, i64>) -> Result<String> {
    let by_text: BTreeMap<String, i64> = gaps.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    crate::to_json(&by_text)
}

const CURSOR_COLUMNS: &str = "c.flow_id, c.event_type, c.last_seq, c.gaps, c.updated";

impl Store {
    /// The cursors of event flows that are on.
    pub async fn event_cursors(&self) -> Result<Vec<EventCursor>> {
        let rows = sqlx::query(&format!(
            "SELECT {CURSOR_COLUMNS} FROM flow_event_cursors c JOIN flows f ON f.id = c.flow_id \
             WHERE f.active = 1 ORDER BY c.flow_id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(cursor_row).collect()
    }

    /// The ids of event flows that are on but have no cursor yet.
    pub async fn event_flows_without_cursor(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT f.id FROM flows f LEFT JOIN flow_event_cursors c ON c.flow_id = f.id \
             WHERE f.active = 1 AND f.kind = 'event' AND c.flow_id IS NULL ORDER BY f.id",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

impl WriteTx {
    /// The flow's cursor, locked until this transaction ends (PostgreSQL).
    pub async fn lock_event_cursor(&mut self, flow_id: &str) -> Result<Option<EventCursor>> {
        let lock = if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT {CURSOR_COLUMNS} FROM flow_event_cursors c WHERE c.flow_id = $1{lock}"
        ))
        .bind(flow_id)
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(cursor_row).transpose()
    }

    /// Starts (or restarts) a flow's cursor.
    pub async fn put_event_cursor(&mut self, cursor: &EventCursor) -> Result<()> {
        sqlx::query(
            "INSERT INTO flow_event_cursors (flow_id, event_type, last_seq, gaps, updated) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (flow_id) DO UPDATE SET \
             event_type = excluded.event_type, last_seq = excluded.last_seq, \
             gaps = excluded.gaps, updated = excluded.updated",
        )
        .bind(&cursor.flow_id)
        .bind(&cursor.event_type)
        .bind(cursor.last_seq)
        .bind(gaps_json(&cursor.gaps)?)
        .bind(cursor.updated)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Moves a cursor from `from` to `to`; `false` (nothing written) when it is no longer at
    /// `from` (another node moved it first).
    pub async fn move_event_cursor(
        &mut self,
        from: &EventCursor,
        to: &EventCursor,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE flow_event_cursors SET last_seq = $3, gaps = $4, updated = $5 \
             WHERE flow_id = $1 AND last_seq = $2 AND gaps = $6",
        )
        .bind(&from.flow_id)
        .bind(from.last_seq)
        .bind(to.last_seq)
        .bind(gaps_json(&to.gaps)?)
        .bind(to.updated)
        .bind(gaps_json(&from.gaps)?)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_event_cursor(&mut self, flow_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM flow_event_cursors WHERE flow_id = $1")
            .bind(flow_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The highest outbox seq visible to this transaction (0 when empty).
    pub async fn outbox_head_in_tx(&mut self) -> Result<i64> {
        let head: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM outbox")
            .fetch_one(self.conn())
            .await?;
        Ok(head.unwrap_or(0))
    }

    /// Up to `limit` outbox rows with `seq > after` and of the given stored types, in seq order,
    /// as this transaction sees them.
    pub async fn outbox_rows_after(&mut self, after: i64, limit: i64) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
            "SELECT seq, occurred_at, event_type, payload FROM outbox WHERE seq > $1 \
             ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit.max(1))
        .fetch_all(self.conn())
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
}
