//! Keeping this node's caches right from domain events.
//!
//! One subscriber turns committed events into cache invalidations
//! ([`DomainEvent::invalidates`]): on this node at once, through the store's commit listener
//! ([`subscribe`], installed by `AppState::new`); for changes made on other nodes, by an
//! [`OutboxFollower`] that polls the outbox once a second, as revocations are polled.
//!
//! PostgreSQL hands out `seq` at insert, not at commit: a transaction may commit seq 11 while 10
//! is still open. The follower therefore remembers every seq it skipped over (a gap) and keeps
//! reading from below the lowest until that gap fills or [`GAP_WAIT_MS`] passes (a rolled-back
//! insert never fills its gap). Events this node wrote itself are marked as seen when they
//! commit, so the follower does not apply them again (if it does, clearing a cache twice is
//! harmless).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use steward_core::events::{DomainEvent, Invalidation};
use steward_core::timefmt::now_millis;
use steward_store::{Store, StoreError};

use crate::guard::PrincipalCache;
use crate::oauth::ClientCache;
use crate::AppState;

/// How long a skipped seq is waited for before it is taken for a rolled-back insert.
pub const GAP_WAIT_MS: i64 = 60_000;
/// Skipped seqs remembered at most; past it, the follower stops waiting for the oldest and
/// clears every cache once instead, so nothing is missed.
const MAX_GAPS: usize = 10_000;
/// Rows read per query.
const PAGE: i64 = 500;
/// How far below the outbox's head a new follower starts: a change committing late with a seq
/// below the head is still applied.
const STARTUP_LOOKBACK: i64 = 100;
/// How often the follower polls.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// The caches that domain events invalidate.
#[derive(Clone)]
pub struct Caches {
    pub principals: Arc<PrincipalCache>,
    pub clients: Arc<ClientCache>,
}

impl Caches {
    pub fn of(state: &AppState) -> Caches {
        Caches {
            principals: state.principals.clone(),
            clients: state.clients.clone(),
        }
    }

    /// The one place where an invalidation reaches the caches.
    pub fn apply(&self, invalidation: Invalidation) {
        if invalidation.principals {
            self.principals.clear();
        }
        if invalidation.clients {
            self.clients.forget();
        }
    }
}

/// Applies the invalidations of every transaction that commits through `store` (or a clone of
/// it) to `caches`, before `commit` returns: the next request on this node sees the change.
pub fn subscribe(store: &Store, caches: Caches) {
    store.on_commit(move |events| {
        let invalidation = events.iter().fold(Invalidation::NONE, |acc, e| {
            acc.union(e.event.invalidates())
        });
        caches.apply(invalidation);
    });
}

/// Which outbox seqs a follower has applied, and which it skipped over and still waits for.
/// Pure (the caller passes the time), so its rules are unit-tested.
#[derive(Debug, Default)]
pub struct OutboxCursor {
    /// The highest seq seen.
    high: i64,
    /// Seqs below `high` not seen yet → when they were first skipped (epoch ms).
    gaps: BTreeMap<i64, i64>,
    /// Seqs above [`OutboxCursor::floor`] already applied.
    seen: BTreeSet<i64>,
    /// Gaps were dropped unfilled because there were too many: the caller should invalidate
    /// everything once.
    overflowed: bool,
}

impl OutboxCursor {
    /// A cursor that has seen everything up to `high`.
    pub fn starting_at(high: i64) -> OutboxCursor {
        OutboxCursor {
            high,
            ..OutboxCursor::default()
        }
    }

    /// Read from above this seq: everything at or below it is settled.
    pub fn floor(&self) -> i64 {
        self.gaps
            .keys()
            .next()
            .map_or(self.high, |lowest| lowest - 1)
    }

    /// Records `seq`, read at `now`; true when it is new (its event should be applied).
    pub fn accept(&mut self, seq: i64, now: i64) -> bool {
        if seq <= self.floor() {
            return false;
        }
        if seq > self.high {
            let skipped = (self.high + 1)..seq;
            if self.gaps.len() + skipped.clone().count() > MAX_GAPS {
                self.overflowed = true;
                self.gaps.clear();
                self.seen.clear();
            } else {
                for gap in skipped {
                    self.gaps.insert(gap, now);
                }
            }
            self.high = seq;
            self.seen.insert(seq);
            self.forget_settled();
            return true;
        }
        self.gaps.remove(&seq);
        let new = self.seen.insert(seq);
        self.forget_settled();
        new
    }

    /// Stops waiting for seqs skipped before `now - GAP_WAIT_MS`.
    pub fn expire(&mut self, now: i64) {
        self.gaps
            .retain(|_, skipped_at| now - *skipped_at < GAP_WAIT_MS);
        self.forget_settled();
    }

    /// Whether gaps were dropped since the last call (then everything must be invalidated).
    pub fn take_overflow(&mut self) -> bool {
        std::mem::take(&mut self.overflowed)
    }

    fn forget_settled(&mut self) {
        let floor = self.floor();
        self.seen = self.seen.split_off(&(floor + 1));
    }
}

/// Applies the invalidations of events committed by other nodes (see the module comment).
pub struct OutboxFollower {
    store: Store,
    caches: Caches,
    cursor: Arc<Mutex<OutboxCursor>>,
}

impl OutboxFollower {
    /// A follower for this node's caches. It starts a little below the outbox's head (caches
    /// start empty, so older events matter to no one) and marks the events this node commits
    /// as seen.
    pub async fn new(state: &AppState) -> Result<OutboxFollower, StoreError> {
        let head = state.store.outbox_head().await?;
        let cursor = Arc::new(Mutex::new(OutboxCursor::starting_at(
            (head - STARTUP_LOOKBACK).max(0),
        )));
        let own = cursor.clone();
        state.store.on_commit(move |events| {
            let now = now_millis();
            let mut cursor = own.lock().unwrap_or_else(|p| p.into_inner());
            for e in events {
                cursor.accept(e.seq, now);
            }
        });
        Ok(OutboxFollower {
            store: state.store.clone(),
            caches: Caches::of(state),
            cursor,
        })
    }

    /// Reads what was committed since the last poll and applies what this node has not seen.
    pub async fn poll(&self) -> Result<(), StoreError> {
        let mut after = self.lock().floor();
        let mut invalidation = Invalidation::NONE;
        loop {
            let rows = self.store.outbox_after(after, PAGE).await?;
            let now = now_millis();
            {
                let mut cursor = self.lock();
                for row in &rows {
                    if cursor.accept(row.seq, now) {
                        invalidation =
                            invalidation.union(DomainEvent::invalidation_of_stored(&row.payload));
                    }
                }
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == PAGE => after = last.seq,
                _ => break,
            }
        }
        let mut cursor = self.lock();
        cursor.expire(now_millis());
        if cursor.take_overflow() {
            invalidation = Invalidation::ALL;
        }
        drop(cursor);
        self.caches.apply(invalidation);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutboxCursor> {
        self.cursor.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Polls every [`POLL_EVERY`] until the runtime stops.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = self.poll().await {
                    tracing::warn!(error = %e, "polling the outbox failed");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_seqs_are_applied_once() {
        let mut c = OutboxCursor::starting_at(10);
        assert!(c.accept(11, 0));
        assert!(c.accept(12, 0));
        assert!(!c.accept(12, 0), "seen");
        assert!(!c.accept(9, 0), "below the start");
        assert_eq!(c.floor(), 12);
    }

    #[test]
    fn a_late_lower_seq_is_applied_and_the_floor_waits_for_it() {
        let mut c = OutboxCursor::starting_at(10);
        assert!(c.accept(13, 0), "11 and 12 are still open");
        assert_eq!(c.floor(), 10, "read again from above 10");
        assert!(!c.accept(13, 100), "read again: not applied twice");
        assert!(c.accept(12, 200), "committed late");
        assert_eq!(c.floor(), 10);
        assert!(c.accept(11, 300));
        assert_eq!(c.floor(), 13, "every gap filled");
        assert!(!c.accept(12, 300));
    }

    #[test]
    fn a_gap_never_filled_is_given_up_after_the_wait() {
        let mut c = OutboxCursor::starting_at(0);
        assert!(c.accept(2, 1_000));
        c.expire(1_000 + GAP_WAIT_MS - 1);
        assert_eq!(c.floor(), 0, "still waiting for 1");
        c.expire(1_000 + GAP_WAIT_MS);
        assert_eq!(c.floor(), 2, "1 was rolled back");
        assert!(!c.accept(1, 1_000 + GAP_WAIT_MS), "below the floor now");
    }

    #[test]
    fn too_many_gaps_ask_for_a_full_invalidation() {
        let mut c = OutboxCursor::starting_at(0);
        assert!(!c.take_overflow());
        assert!(c.accept(MAX_GAPS as i64 + 5, 0));
        assert!(c.take_overflow());
        assert!(!c.take_overflow(), "once");
        assert_eq!(c.floor(), MAX_GAPS as i64 + 5);
    }

    #[test]
    fn own_commits_marked_seen_are_not_applied_again() {
        let mut c = OutboxCursor::starting_at(5);
        // This node committed 7 (its listener marks it); another node's 6 is read later.
        c.accept(7, 0);
        assert!(c.accept(6, 10));
        assert!(!c.accept(7, 10));
        assert_eq!(c.floor(), 7);
    }
}
