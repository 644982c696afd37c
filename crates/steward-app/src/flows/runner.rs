//! The runner: claims queued runs from the store and runs them card by card.
//!
//! Each card's record and the interpreter's state after it commit in one short transaction,
//! fenced by the claim (worker id and attempt): a run cancelled meanwhile, or taken over by
//! another worker after this one's lease expired, stops at its next card without writing. A
//! worker that dies leaves its runs RUNNING under a lease; when the lease expires any worker
//! (on any node sharing the database) claims them and resumes each from its last finished
//! card. Connector cards go to [`Connectors`]; retries wait in the queue (`run_after`), not in
//! a worker.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use steward_flows::exec::{
    ConnectorError, ConnectorRequest, Engine, Finish, Limits, Program, RunState, StepOutcome,
    StepRecord,
};
use steward_flows::model::Flopack;
use steward_flows::{CardRegistry, Outputs};
use steward_store::{FlowRun, FlowStep, RunClaim, RunStatus, Store, StoredFlow, WriteTx};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::governance::Clock;
use crate::{AppError, AppResult, Ctx};

/// A connector call's future.
pub type ConnectorFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Outputs, ConnectorError>> + Send + 'a>>;

/// Runs connector cards (`okta:hTTPRequest`, …) through the flow's connections.
pub trait Connectors: Send + Sync {
    /// The cards it runs, as `(connector, action)`: they join the card registry.
    fn cards(&self) -> Vec<(String, String)>;
    fn call<'a>(
        &'a self,
        flow: &'a StoredFlow,
        request: &'a ConnectorRequest,
    ) -> ConnectorFuture<'a>;
    /// Where its connections' tokens come from (preflight reads their scopes).
    fn token_source(&self) -> Option<Arc<dyn super::tokens::TokenSource>> {
        None
    }
}

/// No connector cards (flows that use one are refused at import).
pub struct NoConnectors;

impl Connectors for NoConnectors {
    fn cards(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn call<'a>(&'a self, _: &'a StoredFlow, request: &'a ConnectorRequest) -> ConnectorFuture<'a> {
        let message = format!("Steward has no {} card", request.card);
        Box::pin(async move {
            Err(ConnectorError {
                message,
                status: None,
                diagnosis: None,
            })
        })
    }
}

/// Several connector families as one: each call goes to the family that runs its card.
pub struct ConnectorSet(pub Vec<Arc<dyn Connectors>>);

impl Connectors for ConnectorSet {
    fn cards(&self) -> Vec<(String, String)> {
        self.0.iter().flat_map(|c| c.cards()).collect()
    }

    fn call<'a>(
        &'a self,
        flow: &'a StoredFlow,
        request: &'a ConnectorRequest,
    ) -> ConnectorFuture<'a> {
        let family = self.0.iter().find(|c| {
            c.cards().iter().any(|(connector, action)| {
                request.card == steward_flows::CardKey::connector(connector, action)
            })
        });
        match family {
            Some(family) => family.call(flow, request),
            None => NoConnectors.call(flow, request),
        }
    }

    fn token_source(&self) -> Option<Arc<dyn super::tokens::TokenSource>> {
        self.0.iter().find_map(|c| c.token_source())
    }
}

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Names this worker in claims (unique per process).
    pub worker_id: String,
    /// Runs claimed and run at once.
    pub concurrency: usize,
    /// How long a claim holds without news from its worker (ms); each card extends it.
    pub lease_ms: i64,
    /// How long an idle worker waits before looking for runs again.
    pub poll: Duration,
    pub limits: Limits,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            worker_id: format!("worker-{}", steward_core::ids::random_secret(8)),
            concurrency: 8,
            lease_ms: 60_000,
            poll: Duration::from_millis(500),
            limits: Limits::default(),
        }
    }
}

struct Inner {
    store: Store,
    registry: CardRegistry,
    connectors: Arc<dyn Connectors>,
    config: RunnerConfig,
    clock: Clock,
    /// Compiled flows by id, with the `updated` they were compiled at.
    programs: Mutex<HashMap<String, (i64, Arc<Program>)>>,
}

/// Runs flows; cheap to clone.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A running worker; [`Worker::stop`] lets it finish the runs it holds.
pub struct Worker {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Stops claiming and waits for the runs in hand to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }

    /// Stops at once, as a crash would: runs in hand stay RUNNING until their lease expires.
    pub fn abort(&self) {
        self.handle.abort();
    }
}

impl Runner {
    pub fn new(
        store: Store,
        connectors: Arc<dyn Connectors>,
        config: RunnerConfig,
        clock: Clock,
    ) -> Runner {
        let mut registry = CardRegistry::standard();
        for (connector, action) in connectors.cards() {
            registry.connector(&connector, &action);
        }
        Runner {
            inner: Arc::new(Inner {
                store,
                registry,
                connectors,
                config,
                clock,
                programs: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The same runner (store, configuration, clock) with other connectors.
    pub fn with_connectors(&self, connectors: Arc<dyn Connectors>) -> Runner {
        Runner::new(
            self.inner.store.clone(),
            connectors,
            self.inner.config.clone(),
            self.inner.clock.clone(),
        )
    }

    /// Where the connector cards' tokens come from, when they come from anywhere.
    pub fn token_source(&self) -> Option<Arc<dyn super::tokens::TokenSource>> {
        self.inner.connectors.token_source()
    }

    /// What this runner can run: imports are checked against it.
    pub fn registry(&self) -> &CardRegistry {
        &self.inner.registry
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    fn program(&self, flow: &StoredFlow) -> AppResult<Arc<Program>> {
        let mut cache = self
            .inner
            .programs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((updated, program)) = cache.get(&flow.id) {
            if *updated == flow.updated {
                return Ok(program.clone());
            }
        }
        let flopack: Flopack = serde_json::from_value(flow.flopack.clone())
            .map_err(|e| AppError::Internal(format!("stored flopack of {}: {e}", flow.id)))?;
        let program = Arc::new(
            Program::new(&flopack)
                .map_err(|e| AppError::Internal(format!("flow {}: {e}", flow.id)))?,
        );
        cache.insert(flow.id.clone(), (flow.updated, program.clone()));
        Ok(program)
    }

    /// Claims up to `concurrency` ready runs and runs them side by side; how many it ran.
    pub async fn run_pending(&self) -> AppResult<usize> {
        let config = &self.inner.config;
        let runs = self
            .inner
            .store
            .flows()
            .claim(
                &config.worker_id,
                self.inner.clock.now(),
                config.lease_ms,
                config.concurrency.max(1),
            )
            .await?;
        let n = runs.len();
        let mut tasks = JoinSet::new();
        for run in runs {
            let runner = self.clone();
            tasks.spawn(async move {
                let id = run.id.clone();
                if let Err(e) = runner.execute(run).await {
                    tracing::warn!(run = %id, error = %e, "flow run failed to execute");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        Ok(n)
    }

    /// A worker loop: claims and runs until stopped.
    pub fn spawn(&self) -> Worker {
        let (stop, mut stopped) = watch::channel(false);
        let runner = self.clone();
        let handle = tokio::spawn(async move {
            loop {
                if *stopped.borrow() {
                    return;
                }
                let now = runner.inner.clock.now();
                let ctx = Ctx::system(&runner.inner.store).at(now);
                if let Err(e) = super::fire_schedules(&ctx).await {
                    tracing::warn!(error = %e, "flow schedules could not fire");
                }
                if let Err(e) = super::events::dispatch_events(&ctx).await {
                    tracing::warn!(error = %e, "flow events could not be dispatched");
                }
                let idle = match runner.run_pending().await {
                    Ok(n) => n == 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "flow worker could not claim runs");
                        true
                    }
                };
                if idle {
                    tokio::select! {
                        _ = tokio::time::sleep(runner.inner.config.poll) => {}
                        _ = stopped.changed() => {}
                    }
                }
            }
        });
        Worker { stop, handle }
    }

    /// Runs a flow now and waits for its end (an API endpoint call): the run is stored already
    /// claimed by this worker, durably like any other (if this node dies, another resumes it
    /// when the lease expires). The run and how it ended (`None` if it was cancelled).
    pub async fn invoke(
        &self,
        ctx: &Ctx<'_>,
        flow_id: &str,
        input: &Value,
    ) -> AppResult<(FlowRun, Option<Finish>)> {
        super::get_flow(ctx, flow_id).await?;
        let id = super::new_run_id();
        let config = &self.inner.config;
        let now = self.inner.clock.now();
        let mut tx = self.inner.store.begin().await?;
        tx.flows()
            .start_claimed_run(
                &id,
                flow_id,
                input,
                now,
                &config.worker_id,
                now + config.lease_ms,
            )
            .await?;
        tx.commit().await?;
        let run = super::get_run(ctx, &id).await?;
        let finish = self.execute(run).await?;
        Ok((super::get_run(ctx, &id).await?, finish))
    }

    /// Runs a claimed run until it ends, waits for a retry, or loses its claim.
    pub async fn execute(&self, run: FlowRun) -> AppResult<Option<Finish>> {
        let inner = &self.inner;
        let claim = RunClaim {
            run_id: &run.id,
            worker: &inner.config.worker_id,
            attempt: run.attempts,
        };
        let flow = inner.store.flows().flow(&run.flow_id).await?;
        let program = self.program(&flow)?;
        let engine = Engine::new(&program, &inner.registry).with_limits(inner.config.limits);
        let mut state: RunState = match &run.state {
            Some(state) => serde_json::from_value(state.clone())
                .map_err(|e| AppError::Internal(format!("run state of {}: {e}", run.id)))?,
            None => {
                let mut input = run.input.clone();
                if let Some(obj) = input.as_object_mut() {
                    let context = obj.entry("context").or_insert_with(|| json!({}));
                    if let Some(c) = context.as_object_mut() {
                        c.insert("execution_id".into(), json!(run.id));
                    }
                }
                let now = at(inner.clock.now());
                match RunState::start(
                    &program,
                    &run.flow_id,
                    &run.id,
                    &input,
                    now,
                    &inner.config.limits,
                ) {
                    Ok(state) => state,
                    Err(error) => {
                        let finish = Finish {
                            succeeded: false,
                            output: Value::Null,
                            raw: false,
                            error: Some(error),
                        };
                        let tx = inner.store.begin().await?;
                        return self.end(tx, &claim, finish, Vec::new()).await;
                    }
                }
            }
        };
        loop {
            let started = inner.clock.now();
            let timer = Instant::now();
            let mut outcome = engine.step(&mut state, at(started));
            while let StepOutcome::Connector(request) = &outcome {
                let result = inner.connectors.call(&flow, request).await;
                outcome = engine.complete(&mut state, result, at(inner.clock.now()));
            }
            let micros = i64::try_from(timer.elapsed().as_micros()).unwrap_or(i64::MAX);
            match outcome {
                StepOutcome::Progress(records) => {
                    if records.is_empty() {
                        continue;
                    }
                    let spawned = std::mem::take(&mut state.spawned);
                    let state_json = to_value(&state)?;
                    let mut tx = inner.store.begin().await?;
                    let n = records.len() as i64;
                    let lease = inner.clock.now() + inner.config.lease_ms;
                    let mut kept = true;
                    for record in records {
                        let step = self.step_row(&run.id, &flow, record, started, micros / n);
                        kept &= tx
                            .flows()
                            .record_step(&claim, Some(&step), &state_json, lease)
                            .await?;
                    }
                    if !kept {
                        return Ok(None);
                    }
                    self.queue_spawned(&mut tx, spawned).await?;
                    tx.commit().await?;
                }
                StepOutcome::Retry { delay_ms, record } => {
                    let state_json = to_value(&state)?;
                    let step = self.step_row(&run.id, &flow, record, started, micros);
                    let mut tx = inner.store.begin().await?;
                    let lease = inner.clock.now() + inner.config.lease_ms;
                    if !tx
                        .flows()
                        .record_step(&claim, Some(&step), &state_json, lease)
                        .await?
                    {
                        return Ok(None);
                    }
                    let delay = i64::try_from(delay_ms).unwrap_or(i64::MAX);
                    let due = inner.clock.now().saturating_add(delay);
                    tx.flows().requeue(&claim, Some(&state_json), due).await?;
                    tx.commit().await?;
                    return Ok(None);
                }
                StepOutcome::Finished(finish) => {
                    let spawned = std::mem::take(&mut state.spawned);
                    let tx = inner.store.begin().await?;
                    return self.end(tx, &claim, finish, spawned).await;
                }
                StepOutcome::Connector(_) => {}
            }
        }
    }

    async fn end(
        &self,
        mut tx: WriteTx,
        claim: &RunClaim<'_>,
        finish: Finish,
        spawned: Vec<steward_flows::exec::Spawn>,
    ) -> AppResult<Option<Finish>> {
        let status = if finish.succeeded {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        };
        let error = finish.error.as_ref().map(to_value).transpose()?;
        let output = (!finish.output.is_null()).then_some(&finish.output);
        let now = self.inner.clock.now();
        if !tx
            .flows()
            .finish_run(claim, status, output, error.as_ref(), now)
            .await?
        {
            return Ok(None);
        }
        self.queue_spawned(&mut tx, spawned).await?;
        tx.commit().await?;
        Ok(Some(finish))
    }

    /// Call Flow Async and "run another flow" policies: runs of their own, queued in the
    /// transaction that records the card (exactly once).
    async fn queue_spawned(
        &self,
        tx: &mut WriteTx,
        spawned: Vec<steward_flows::exec::Spawn>,
    ) -> AppResult<()> {
        let now = self.inner.clock.now();
        for spawn in spawned {
            if self.inner.store.flows().flow(&spawn.flow).await.is_err() {
                tracing::warn!(flow = %spawn.flow, "a spawned helper flow is not imported on its own");
                continue;
            }
            tx.flows()
                .queue_run(&super::new_run_id(), &spawn.flow, &spawn.input, now)
                .await?;
        }
        Ok(())
    }

    fn step_row(
        &self,
        run_id: &str,
        flow: &StoredFlow,
        record: StepRecord,
        started: i64,
        micros: i64,
    ) -> FlowStep {
        let keep = flow.save_history;
        FlowStep {
            run_id: run_id.to_string(),
            idx: 0,
            card: record.card,
            name: record.name,
            card_key: record.card_key,
            block: record.flow,
            depth: record.depth as i64,
            status: if record.succeeded {
                "SUCCEEDED".into()
            } else {
                "FAILED".into()
            },
            started,
            duration_us: micros,
            inputs: keep.then_some(record.inputs),
            outputs: keep.then_some(record.outputs),
            error: record.error,
        }
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> AppResult<Value> {
    serde_json::to_value(v).map_err(|e| AppError::Internal(format!("run state: {e}")))
}
