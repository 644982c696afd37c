//! Group commit for the token endpoint. Every client-credentials token writes a few rows (its
//! replay records, its access-token record, its System Log event; a refused request of any grant
//! only its event; the code and refresh grants write in a transaction of their own);
//! one writer task commits the records that are waiting in one transaction, with one multi-row
//! statement per table.
//!
//! A commit costs far more than a row (a transaction, a WAL write, and on SQLite several
//! hand-offs to sqlx's worker thread), so batches are worth waiting for, briefly: token requests
//! announce themselves when they start ([`Ledger::announce`]), and while some are still being
//! signed the writer holds its batch open for at most [`MAX_LINGER`]. A lone request never
//! waits. A handler answers only after its batch has committed: nothing acknowledged is lost.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use steward_store::{IssueOutcome, IssueRecord, Store, StoreError};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;

use crate::error::{ApiError, ApiResult};

/// The most issues one transaction carries.
const MAX_BATCH: usize = 256;
/// Issues waiting for the writer; senders wait when it is full (backpressure).
const QUEUE: usize = 4096;
/// The longest a batch waits for requests that are still being signed.
pub const MAX_LINGER: Duration = Duration::from_millis(2);

struct Job {
    record: IssueRecord,
    done: oneshot::Sender<Result<IssueOutcome, String>>,
}

/// Token requests between their start and their record.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    changed: Notify,
}

/// The handle handlers write through. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    jobs: mpsc::Sender<Job>,
    in_flight: Arc<InFlight>,
}

/// A token request that may record an issue soon. Dropping it (the request failed, or it
/// recorded) tells the writer not to wait for it.
pub struct Expected {
    in_flight: Arc<InFlight>,
}

impl Drop for Expected {
    fn drop(&mut self) {
        // The writer waits for "nobody left" (new records wake it through the queue), so only
        // the last one out needs to say so.
        if self.in_flight.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.in_flight.changed.notify_one();
        }
    }
}

impl Ledger {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store) -> Ledger {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let in_flight = Arc::new(InFlight::default());
        tokio::spawn(write_batches(store, queue, in_flight.clone()));
        Ledger { jobs, in_flight }
    }

    /// Announces a token request; hold the guard until [`Ledger::record`].
    pub fn announce(&self) -> Expected {
        self.in_flight.count.fetch_add(1, Ordering::AcqRel);
        Expected {
            in_flight: self.in_flight.clone(),
        }
    }

    /// Records one issue and waits until its batch has committed.
    pub async fn record(&self, record: IssueRecord, expected: Expected) -> ApiResult<IssueOutcome> {
        let (done, answer) = oneshot::channel();
        let gone = || ApiError::Internal("the token ledger has stopped".into());
        let sent = self.jobs.send(Job { record, done }).await;
        drop(expected);
        sent.map_err(|_| gone())?;
        answer
            .await
            .map_err(|_| gone())?
            .map_err(ApiError::Internal)
    }
}

async fn write_batches(store: Store, mut queue: mpsc::Receiver<Job>, in_flight: Arc<InFlight>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let deadline = Instant::now() + MAX_LINGER;
        while batch.len() < MAX_BATCH && in_flight.count.load(Ordering::Acquire) > 0 {
            let room = MAX_BATCH - batch.len();
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => break,
                _ = in_flight.changed.notified() => {}
                _ = queue.recv_many(&mut batch, room) => {}
            }
        }
        let (records, answers): (Vec<IssueRecord>, Vec<_>) =
            batch.drain(..).map(|job| (job.record, job.done)).unzip();
        match commit(&store, &records).await {
            Ok(outcomes) => {
                for (done, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = done.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, issues = records.len(), "token batch failed");
                for done in answers {
                    let _ = done.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn commit(store: &Store, records: &[IssueRecord]) -> Result<Vec<IssueOutcome>, StoreError> {
    let mut tx = store.begin().await?;
    let outcomes = tx.record_issues(records).await?;
    tx.commit().await?;
    tracing::debug!(issues = records.len(), "token batch committed");
    Ok(outcomes)
}
