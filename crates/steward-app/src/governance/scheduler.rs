//! The access-request scheduler: expires requests nobody decided in time and revokes time-bound
//! access when it is due. All of its state is in the store (`ar_requests.due_at`), so a restart
//! loses nothing; each due request is claimed with a conditional UPDATE inside the transaction
//! that handles it, so with several nodes on one PostgreSQL database each runs once.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use steward_store::{Store, StoreError};

use super::engine::{self, Effects};
use super::{Clock, EventBus};
use crate::Ctx;

/// Requests handled per call at most.
const BATCH: usize = 200;

/// The first retry of a request the scheduler failed on comes this long after the failure
/// (ms); each further failure doubles it, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 30_000;
const MAX_BACKOFF_MS: i64 = 60 * 60 * 1000;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub expired: usize,
    pub revoked: usize,
    /// Due requests that could not be handled (each logged with its id). They stay due, and
    /// are retried on a later pass.
    pub failed: usize,
}

/// Requests the scheduler failed on, and when to try each again: a request that keeps failing
/// (an undecodable row, say) is retried with an exponential backoff instead of on every pass.
/// In memory only: after a restart each is tried once more, then backs off again.
#[derive(Debug, Default)]
struct Backoff {
    /// Request id → (consecutive failures, earliest retry in ms).
    failing: HashMap<String, (u32, i64)>,
}

impl Backoff {
    fn waiting(&self, id: &str, now: i64) -> bool {
        self.failing
            .get(id)
            .is_some_and(|(_, retry_at)| *retry_at > now)
    }

    fn failed(&mut self, id: &str, now: i64) {
        let entry = self.failing.entry(id.to_string()).or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        let delay = FIRST_BACKOFF_MS
            .saturating_mul(1i64 << entry.0.saturating_sub(1).min(20))
            .min(MAX_BACKOFF_MS);
        entry.1 = now.saturating_add(delay);
    }

    fn succeeded(&mut self, id: &str) {
        self.failing.remove(id);
    }

    /// Forgets requests not retried for a long while (no longer due: fixed or deleted).
    fn prune(&mut self, now: i64) {
        self.failing
            .retain(|_, (_, retry_at)| now.saturating_sub(*retry_at) <= MAX_BACKOFF_MS);
    }
}

/// What handling one due request did.
enum Outcome {
    Expired,
    Revoked,
    Nothing,
}

/// Handles every request due at `ctx.now`, as Steward (`ctx.actor` is normally
/// [`Actor::system`](steward_core::syslog::Actor::system)). Called every few seconds by
/// [`spawn_scheduler`]; tests call it directly with the clock they set.
///
/// Each request is handled in its own transaction. One that fails (its row does not decode,
/// a write fails) is logged with its id, rolled back (so it stays due) and skipped for the rest
/// of the pass; the others are still handled. Only a failure to list the due requests fails
/// the pass.
pub async fn run_due(ctx: &Ctx<'_>) -> Result<Pass, StoreError> {
    run_due_with(ctx, &mut Backoff::default()).await
}

async fn run_due_with(ctx: &Ctx<'_>, backoff: &mut Backoff) -> Result<Pass, StoreError> {
    let now = ctx.now;
    backoff.prune(now);
    let mut pass = Pass::default();
    // Requests this pass already handled or failed on, and those still backing off: all stay
    // out of the rest of the pass. Failed ones stay due (first in `due_at` order), so each
    // query asks for as many more rows as it may skip, and none of them starves the others.
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let limit = BATCH.saturating_add(seen.len() + backoff.failing.len());
        let due = ctx.store.access_requests().due_requests(now, limit).await?;
        let exhausted = due.len() < limit;
        let todo: Vec<String> = due
            .into_iter()
            .filter(|id| !seen.contains(id) && !backoff.waiting(id, now))
            .collect();
        if todo.is_empty() {
            return Ok(pass);
        }
        for id in todo {
            seen.insert(id.clone());
            match handle(ctx, &id).await {
                Ok(outcome) => {
                    backoff.succeeded(&id);
                    match outcome {
                        Outcome::Expired => pass.expired += 1,
                        Outcome::Revoked => pass.revoked += 1,
                        Outcome::Nothing => {}
                    }
                }
                Err(e) => {
                    backoff.failed(&id, now);
                    pass.failed += 1;
                    tracing::error!(
                        request_id = %id,
                        error = %e,
                        "access request scheduler could not handle a due request; it stays due and is retried later"
                    );
                }
            }
        }
        if exhausted {
            return Ok(pass);
        }
    }
}

/// Expires or revokes one due request, in its own transaction (dropped, so rolled back, on
/// error).
async fn handle(ctx: &Ctx<'_>, id: &str) -> Result<Outcome, StoreError> {
    let now = ctx.now;
    let mut tx = ctx.store.begin().await?;
    if !tx.access_requests().claim_due(id, now).await? {
        return Ok(Outcome::Nothing); // another node took it, or it changed meanwhile
    }
    let mut stored = tx.access_requests().request(id).await?;
    let mut fx = Effects::default();
    let mut outcome = Outcome::Nothing;
    let wf = &mut stored.workflow;
    if !wf.request.status.is_resolved() {
        let events = wf.expire_if_due(now, engine::DECISION_DEADLINE_MS);
        if !events.is_empty() {
            outcome = Outcome::Expired;
        }
        fx.events.extend(events);
    } else if wf.revocation_due(now) {
        engine::revoke(ctx, &mut tx, wf, &mut fx).await?;
        outcome = Outcome::Revoked;
    }
    if let Some(v1) = stored.v1.as_mut() {
        if let Ok(t) = ctx
            .store
            .access_requests()
            .request_type(&v1.request_type_id)
            .await
        {
            v1.refresh(&stored.workflow, &t, &|_| None);
        }
    }
    engine::save_and_commit(ctx, tx, &mut stored, fx).await?;
    Ok(outcome)
}

/// Runs [`run_due`] as Steward every `every` on `clock`, publishing on `bus`, forever.
pub fn spawn_scheduler(
    store: Store,
    bus: EventBus,
    clock: Clock,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut backoff = Backoff::default();
        loop {
            tick.tick().await;
            let ctx = Ctx::system(&store).at(clock.now()).with_bus(&bus);
            match run_due_with(&ctx, &mut backoff).await {
                Ok(p) if p.expired + p.revoked + p.failed > 0 => {
                    tracing::info!(
                        expired = p.expired,
                        revoked = p.revoked,
                        failed = p.failed,
                        "access requests"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "access request scheduler failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_forgets() {
        let mut b = Backoff::default();
        assert!(!b.waiting("r", 0));
        b.failed("r", 0);
        assert!(b.waiting("r", FIRST_BACKOFF_MS - 1));
        assert!(!b.waiting("r", FIRST_BACKOFF_MS));
        b.failed("r", FIRST_BACKOFF_MS);
        assert!(b.waiting("r", 3 * FIRST_BACKOFF_MS - 1));
        assert!(!b.waiting("r", 3 * FIRST_BACKOFF_MS));
        for _ in 0..100 {
            b.failed("r", 0);
        }
        assert!(b.waiting("r", MAX_BACKOFF_MS - 1));
        assert!(!b.waiting("r", MAX_BACKOFF_MS));
        b.succeeded("r");
        assert!(!b.waiting("r", 0));
        b.failed("s", 0);
        b.prune(FIRST_BACKOFF_MS + MAX_BACKOFF_MS);
        assert_eq!(b.failing.len(), 1);
        b.prune(FIRST_BACKOFF_MS + MAX_BACKOFF_MS + 1);
        assert!(b.failing.is_empty());
    }
}
