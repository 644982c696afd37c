//! The System Log: an append-only table of events, read in `seq` order.
//!
//! Time bounds and the cursor run in SQL; `filter` and `q` run on each event's JSON in memory,
//! so every attribute of Okta's `LogEvent` (including `target.id`, an array) can be filtered.
//! A single request scans a bounded number of rows; when it stops early it still returns a
//! cursor, as Okta does for polling queries.

use serde_json::Value;
use sqlx::Row;
use steward_core::filter::Filter;
use steward_core::syslog::LogEvent;

use crate::{Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Cursor: the `seq` of the last event already returned.
    pub after: Option<i64>,
    pub filter: Option<Filter>,
    /// Keywords that must all occur (case-insensitive) in the event.
    pub q: Vec<String>,
    pub limit: usize,
    pub order: SortOrder,
    /// Events published before this (epoch ms) are settled: a transaction still open is not
    /// expected to hold one. A live tail reads on from the settled part (see [`LogPage`]).
    pub settled_before: Option<i64>,
}

/// A page of events, the `seq` of the last row scanned, whether more rows may match, and where a
/// live tail may read on from without missing an event.
///
/// On PostgreSQL `seq` comes from a sequence, so a transaction can commit an event numbered
/// below one already read; a tail that moved past it would never show it. `settled_seq` stays
/// below every event published at or after `settled_before`: read in ascending order, the last
/// row scanned before the first unsettled one; read newest first, the newest settled row
/// scanned. The tail reads again from there and drops the events it already shows.
#[derive(Debug, Clone)]
pub struct LogPage {
    pub events: Vec<Value>,
    pub last_seq: Option<i64>,
    pub settled_seq: Option<i64>,
    pub more: bool,
}

/// Rows read from the database per batch, and at most per request.
const BATCH: i64 = 500;
const SCAN_LIMIT: usize = 20_000;

impl Store {
    pub async fn log_events(&self, query: &LogQuery) -> Result<LogPage> {
        let (cmp, order) = match query.order {
            SortOrder::Ascending => (">", "ASC"),
            SortOrder::Descending => ("<", "DESC"),
        };
        let mut cursor = query.after;
        let mut settled_seq = None;
        // Ascending: whether an unsettled row was scanned (the settled part ends before it).
        let mut unsettled_seen = false;
        let mut events = Vec::new();
        let mut scanned = 0usize;
        let keywords: Vec<String> = query.q.iter().map(|k| k.to_lowercase()).collect();
        loop {
            let sql = format!(
                "SELECT seq, published, body FROM log_events WHERE published >= $1 AND published < $2 \
                 AND ($3 = 0 OR seq {cmp} $4) ORDER BY seq {order} LIMIT {BATCH}"
            );
            let rows = sqlx::query(&sql)
                .bind(query.since.unwrap_or(i64::MIN))
                .bind(query.until.unwrap_or(i64::MAX))
                .bind(i64::from(cursor.is_some()))
                .bind(cursor.unwrap_or(0))
                .fetch_all(self.pool())
                .await?;
            let exhausted = (rows.len() as i64) < BATCH;
            for row in &rows {
                let seq: i64 = row.try_get("seq")?;
                let body: String = row.try_get("body")?;
                let published: i64 = row.try_get("published")?;
                cursor = Some(seq);
                let settled = query.settled_before.is_none_or(|t| published < t);
                match query.order {
                    SortOrder::Ascending if settled && !unsettled_seen => settled_seq = cursor,
                    SortOrder::Ascending => unsettled_seen = true,
                    SortOrder::Descending if settled && settled_seq.is_none() => {
                        settled_seq = cursor
                    }
                    SortOrder::Descending => {}
                }
                scanned += 1;
                let event: Value = serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("log event {seq}: {e}")))?;
                if query.filter.as_ref().is_some_and(|f| !f.matches(&event)) {
                    continue;
                }
                if !keywords.is_empty() {
                    let haystack = body.to_lowercase();
                    if !keywords.iter().all(|k| haystack.contains(k.as_str())) {
                        continue;
                    }
                }
                events.push(event);
                if events.len() >= query.limit {
                    return Ok(LogPage {
                        events,
                        settled_seq,
                        last_seq: cursor,
                        more: true,
                    });
                }
            }
            if exhausted {
                return Ok(LogPage {
                    events,
                    settled_seq,
                    last_seq: cursor,
                    more: false,
                });
            }
            if scanned >= SCAN_LIMIT {
                return Ok(LogPage {
                    events,
                    settled_seq,
                    last_seq: cursor,
                    more: true,
                });
            }
        }
    }
}

impl WriteTx {
    pub async fn append_log(&mut self, event: &LogEvent) -> Result<()> {
        self.append_logs(&[event]).await
    }

    /// Appends events in order, many per statement.
    pub async fn append_logs(&mut self, events: &[&LogEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        use crate::JsonCol::{Int, Text};
        let sql = format!(
            "INSERT INTO log_events (uuid, published, event_type, actor_id, outcome, body) {}",
            crate::json_rows(self.is_postgres(), &[Text, Int, Text, Text, Text, Text])
        );
        let rows: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    &e.uuid,
                    e.published,
                    &e.event_type,
                    &e.actor.id,
                    e.outcome,
                    e,
                )
            })
            .collect();
        sqlx::query(&sql)
            .bind(crate::to_json(&rows)?)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
