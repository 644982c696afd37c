//! The access-request scheduler: expires requests nobody decided in time and revokes time-bound
//! access when it is due. All of its state is in the store (`ar_requests.due_at`), so a restart
//! loses nothing; each due request is claimed with a conditional UPDATE inside the transaction
//! that handles it, so with several nodes on one PostgreSQL database each runs once.

use std::time::Duration;

use steward_core::syslog::{Actor, ClientInfo};
use steward_store::StoreError;

use super::engine::{self, Effects};
use crate::AppState;

/// Requests handled per call at most.
const BATCH: usize = 200;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub expired: usize,
    pub revoked: usize,
}

/// Handles every request due at `now`. Called every few seconds by [`spawn_scheduler`]; tests
/// call it directly with the clock they set.
pub async fn run_due(state: &AppState, now: i64) -> Result<Pass, StoreError> {
    let mut pass = Pass::default();
    loop {
        let due = state.store.ar_due_requests(now, BATCH).await?;
        let n = due.len();
        for id in due {
            let mut tx = state.store.begin().await?;
            if !tx.ar_claim_due(&id, now).await? {
                continue; // another node took it, or it changed meanwhile
            }
            let mut stored = tx.ar_request(&id).await?;
            let actor = Actor::system();
            let mut fx = Effects::default();
            let wf = &mut stored.workflow;
            if !wf.request.status.is_resolved() {
                let events = wf.expire_if_due(now, engine::DECISION_DEADLINE_MS);
                if !events.is_empty() {
                    pass.expired += 1;
                }
                fx.events.extend(events);
            } else if wf.revocation_due(now) {
                engine::revoke(&mut tx, wf, &actor, now, &mut fx).await?;
                pass.revoked += 1;
            }
            if let Some(v1) = stored.v1.as_mut() {
                if let Ok(t) = state.store.ar_request_type(&v1.request_type_id).await {
                    v1.refresh(&stored.workflow, &t, &|_| None);
                }
            }
            let type_id = stored.v1.as_ref().map(|v| v.request_type_id.clone());
            let permalink = stored.v1.as_ref().map(|v| v.permalink_id);
            engine::save_and_commit(
                state,
                tx,
                &mut stored,
                type_id.as_deref(),
                permalink,
                fx,
                &actor,
                &ClientInfo::default(),
                now,
            )
            .await?;
        }
        if n < BATCH {
            return Ok(pass);
        }
    }
}

/// Runs [`run_due`] every `every` on the state's clock, forever.
pub fn spawn_scheduler(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let now = state.clock.now();
            match run_due(&state, now).await {
                Ok(p) if p.expired + p.revoked > 0 => {
                    tracing::info!(expired = p.expired, revoked = p.revoked, "access requests")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "access request scheduler failed"),
            }
        }
    })
}
