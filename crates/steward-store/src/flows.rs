//! Workflows: imported flows, durable runs and their card steps.
//!
//! A run is claimed by one worker at a time: [`Flows::claim`] moves ready runs (queued and due,
//! or running under an expired lease) to RUNNING for the caller in one statement: on
//! PostgreSQL `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so nodes sharing the
//! database never take the same run; on SQLite the same statement without the lock clause (one
//! writer at a time). Each claim increments `attempts`, which fences the writes of a worker
//! whose lease another worker took over: every write of a claimed run names the worker and
//! the attempt it claimed, and changes nothing (answering `false`) when either moved on, or
//! when the run was cancelled.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{clamp_limit, storable_json, to_json, Result, Store, StoreError, WriteTx};

/// An imported flow: a flopack holding it, its helper flows and connection placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFlow {
    /// The flow's id in the flopack (Okta's flow uuid).
    pub id: String,
    pub name: String,
    pub folder: Option<String>,
    /// `helper`, `scheduled`, `api_endpoint`, `delegated`, `event`, `manual`.
    pub kind: String,
    /// Switched on: triggers start it (a manual run works either way).
    pub active: bool,
    /// "Save all data that passes through the flow": keep card inputs and outputs.
    pub save_history: bool,
    pub flopack: Value,
    /// SHA-256 of the API endpoint flow's client token.
    pub client_token_hash: Option<String>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "QUEUED",
            RunStatus::Running => "RUNNING",
            RunStatus::Succeeded => "SUCCEEDED",
            RunStatus::Failed => "FAILED",
            RunStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

/// A run of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRun {
    pub id: String,
    pub flow_id: String,
    pub status: RunStatus,
    /// The trigger's input.
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<Value>,
    /// How many times a worker claimed it; the fence of the current claim.
    pub attempts: i64,
    pub claimed_by: Option<String>,
    pub lease_until: Option<i64>,
    /// Not claimed before this time (epoch ms): a card's retry delay.
    pub run_after: i64,
    /// Card steps recorded so far.
    pub steps: i64,
    /// The interpreter's state after the last finished card.
    pub state: Option<Value>,
    pub created: i64,
    pub started: Option<i64>,
    pub finished: Option<i64>,
}

/// One card that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowStep {
    pub run_id: String,
    /// 0, 1, … in the order the cards finished.
    pub idx: i64,
    pub card: String,
    pub name: String,
    pub card_key: String,
    /// The flow or inline block the card is in.
    pub block: String,
    pub depth: i64,
    /// SUCCEEDED or FAILED.
    pub status: String,
    pub started: i64,
    pub duration_us: i64,
    pub inputs: Option<Value>,
    pub outputs: Option<Value>,
    pub error: Option<String>,
}

/// A history query: newest first.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub flow_id: Option<String>,
    pub status: Option<RunStatus>,
    /// Created at or after (epoch ms).
    pub since: Option<i64>,
    /// Created before (epoch ms).
    pub until: Option<i64>,
    pub limit: usize,
}

/// The claim a worker holds on a run: its writes name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunClaim<'a> {
    pub run_id: &'a str,
    pub worker: &'a str,
    pub attempt: i64,
}

/// Flows, read from the store: `store.flows().flow(id)`.
pub struct Flows<'a> {
    store: &'a Store,
}

/// Flows, written in a transaction: `tx.flows().queue_run(..)`.
pub struct FlowsTx<'a> {
    tx: &'a mut WriteTx,
}

impl Store {
    /// Workflows: flows, runs and steps.
    pub fn flows(&self) -> Flows<'_> {
        Flows { store: self }
    }
}

impl WriteTx {
    /// Workflows, written in this transaction.
    pub fn flows(&mut self) -> FlowsTx<'_> {
        FlowsTx { tx: self }
    }
}

const FLOW_COLUMNS: &str = "id, name, folder, kind, active, save_history, flopack, \
                            client_token_hash, created, updated";
const RUN_COLUMNS: &str = "id, flow_id, status, input, output, error, attempts, claimed_by, \
                           lease_until, run_after, steps, state, created, started, finished";

fn json_column(row: &AnyRow, column: &str) -> Result<Option<Value>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    })
    .transpose()
}

fn flow_row(row: &AnyRow) -> Result<StoredFlow> {
    let active: i64 = row.try_get("active")?;
    let save_history: i64 = row.try_get("save_history")?;
    Ok(StoredFlow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        folder: row.try_get("folder")?,
        kind: row.try_get("kind")?,
        active: active != 0,
        save_history: save_history != 0,
        flopack: json_column(row, "flopack")?.unwrap_or(Value::Null),
        client_token_hash: row.try_get("client_token_hash")?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

fn run_row(row: &AnyRow) -> Result<FlowRun> {
    let status: String = row.try_get("status")?;
    Ok(FlowRun {
        id: row.try_get("id")?,
        flow_id: row.try_get("flow_id")?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("run status {status}")))?,
        input: json_column(row, "input")?.unwrap_or(Value::Null),
        output: json_column(row, "output")?,
        error: json_column(row, "error")?,
        attempts: row.try_get("attempts")?,
        claimed_by: row.try_get("claimed_by")?,
        lease_until: row.try_get("lease_until")?,
        run_after: row.try_get("run_after")?,
        steps: row.try_get("steps")?,
        state: json_column(row, "state")?,
        created: row.try_get("created")?,
        started: row.try_get("started")?,
        finished: row.try_get("finished")?,
    })
}

fn step_row(row: &AnyRow) -> Result<FlowStep> {
    Ok(FlowStep {
        run_id: row.try_get("run_id")?,
        idx: row.try_get("idx")?,
        card: row.try_get("card")?,
        name: row.try_get("name")?,
        card_key: row.try_get("card_key")?,
        block: row.try_get("block")?,
        depth: row.try_get("depth")?,
        status: row.try_get("status")?,
        started: row.try_get("started")?,
        duration_us: row.try_get("duration_us")?,
        inputs: json_column(row, "inputs")?,
        outputs: json_column(row, "outputs")?,
        error: row.try_get("error")?,
    })
}

fn check(what: &str, v: &Value) -> Result<()> {
    if storable_json(v) {
        Ok(())
    } else {
        Err(StoreError::InvalidValue(what.into()))
    }
}

fn opt_json(v: Option<&Value>) -> Result<Option<String>> {
    v.map(to_json).transpose()
}

impl Flows<'_> {
    pub async fn flow(&self, id: &str) -> Result<StoredFlow> {
        let row = sqlx::query(&format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        flow_row(&row)
    }

    /// Every flow, by folder and name.
    pub async fn list(&self) -> Result<Vec<StoredFlow>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLOW_COLUMNS} FROM flows ORDER BY folder, name, id"
        ))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(flow_row).collect()
    }

    pub async fn run(&self, id: &str) -> Result<FlowRun> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM flow_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        run_row(&row)
    }

    /// Runs by flow, status and creation time, newest first.
    pub async fn runs(&self, query: &RunQuery) -> Result<Vec<FlowRun>> {
        let mut sql = format!("SELECT {RUN_COLUMNS} FROM flow_runs WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if query.flow_id.is_some() {
            sql.push_str(&format!(" AND flow_id = {}", next()));
        }
        if query.status.is_some() {
            sql.push_str(&format!(" AND status = {}", next()));
        }
        if query.since.is_some() {
            sql.push_str(&format!(" AND created >= {}", next()));
        }
        if query.until.is_some() {
            sql.push_str(&format!(" AND created < {}", next()));
        }
        sql.push_str(&format!(" ORDER BY created DESC, id DESC LIMIT {}", next()));
        let mut q = sqlx::query(&sql);
        if let Some(flow) = &query.flow_id {
            q = q.bind(flow.clone());
        }
        if let Some(status) = query.status {
            q = q.bind(status.as_str());
        }
        if let Some(since) = query.since {
            q = q.bind(since);
        }
        if let Some(until) = query.until {
            q = q.bind(until);
        }
        let rows = q
            .bind(clamp_limit(query.limit))
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(run_row).collect()
    }

    /// How many runs have each status (of one flow, or all).
    pub async fn count_by_status(&self, flow_id: Option<&str>) -> Result<Vec<(RunStatus, i64)>> {
        let rows = match flow_id {
            Some(flow) => {
                sqlx::query(
                    "SELECT status, COUNT(*) AS n FROM flow_runs WHERE flow_id = $1 \
                     GROUP BY status",
                )
                .bind(flow)
                .fetch_all(self.store.pool())
                .await?
            }
            None => {
                sqlx::query("SELECT status, COUNT(*) AS n FROM flow_runs GROUP BY status")
                    .fetch_all(self.store.pool())
                    .await?
            }
        };
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                let n: i64 = row.try_get("n")?;
                Ok((
                    RunStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("run status {status}")))?,
                    n,
                ))
            })
            .collect()
    }

    /// Scheduled flows that are on and due at `now`: (flow id, the fire time due).
    pub async fn due_schedules(&self, now: i64) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT id, next_fire FROM flows WHERE active = 1 AND next_fire IS NOT NULL \
             AND next_fire <= $1 ORDER BY next_fire, id",
        )
        .bind(now)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("next_fire")?)))
            .collect()
    }

    /// When a scheduled flow fires next, if it does.
    pub async fn next_fire(&self, id: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT next_fire FROM flows WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("next_fire")?)
    }

    /// A run's card steps in order.
    pub async fn steps(&self, run_id: &str) -> Result<Vec<FlowStep>> {
        let rows = sqlx::query(
            "SELECT run_id, idx, card, name, card_key, block, depth, status, started, \
             duration_us, inputs, outputs, error FROM flow_steps WHERE run_id = $1 ORDER BY idx",
        )
        .bind(run_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(step_row).collect()
    }

    /// Claims up to `limit` ready runs for `worker` until `now + lease_ms`: queued runs whose
    /// `run_after` has come, and running ones whose lease expired (their worker is gone).
    /// Oldest first. Each run goes to one claimer only.
    pub async fn claim(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<FlowRun>> {
        let mut tx = self.store.begin().await?;
        let lock = if tx.is_postgres() {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE flow_runs SET status = 'RUNNING', claimed_by = $1, lease_until = $2, \
             attempts = attempts + 1, started = COALESCE(started, $3) \
             WHERE id IN (SELECT id FROM flow_runs \
               WHERE (status = 'QUEUED' AND run_after <= $3) \
                  OR (status = 'RUNNING' AND lease_until < $3) \
               ORDER BY run_after, created, id LIMIT $4{lock}) \
             RETURNING {RUN_COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(now + lease_ms)
            .bind(now)
            .bind(clamp_limit(limit))
            .fetch_all(tx.conn())
            .await?;
        tx.commit().await?;
        let mut runs = rows.iter().map(run_row).collect::<Result<Vec<_>>>()?;
        runs.sort_by(|a, b| (a.run_after, a.created, &a.id).cmp(&(b.run_after, b.created, &b.id)));
        Ok(runs)
    }
}

const FENCE: &str = "id = $1 AND claimed_by = $2 AND attempts = $3 AND status = 'RUNNING'";

impl FlowsTx<'_> {
    /// Inserts or replaces a flow (a re-import keeps its on/off switch and client token when
    /// the new row has none).
    pub async fn put_flow(&mut self, flow: &StoredFlow) -> Result<()> {
        check("flopack", &flow.flopack)?;
        sqlx::query(
            "INSERT INTO flows (id, name, folder, kind, active, save_history, flopack, \
             client_token_hash, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, folder = excluded.folder, \
             kind = excluded.kind, save_history = excluded.save_history, \
             flopack = excluded.flopack, updated = excluded.updated, \
             client_token_hash = COALESCE(flows.client_token_hash, excluded.client_token_hash)",
        )
        .bind(&flow.id)
        .bind(&flow.name)
        .bind(flow.folder.clone())
        .bind(&flow.kind)
        .bind(i64::from(flow.active))
        .bind(i64::from(flow.save_history))
        .bind(to_json(&flow.flopack)?)
        .bind(flow.client_token_hash.clone())
        .bind(flow.created)
        .bind(flow.updated)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// Switches a flow on or off.
    pub async fn set_active(&mut self, id: &str, active: bool, now: i64) -> Result<()> {
        let done = sqlx::query("UPDATE flows SET active = $2, updated = $3 WHERE id = $1")
            .bind(id)
            .bind(i64::from(active))
            .bind(now)
            .execute(self.tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Sets when a scheduled flow fires next (`None`: never). With `expected`, only if the
    /// stored time is still that one: `false` when another node fired it first.
    pub async fn set_next_fire(
        &mut self,
        id: &str,
        expected: Option<i64>,
        next: Option<i64>,
    ) -> Result<bool> {
        let done = match expected {
            Some(expected) => {
                sqlx::query("UPDATE flows SET next_fire = $3 WHERE id = $1 AND next_fire = $2")
                    .bind(id)
                    .bind(expected)
                    .bind(next)
                    .execute(self.tx.conn())
                    .await?
            }
            None => {
                sqlx::query("UPDATE flows SET next_fire = $2 WHERE id = $1")
                    .bind(id)
                    .bind(next)
                    .execute(self.tx.conn())
                    .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    /// Queues a run of `flow_id` with its trigger input.
    pub async fn queue_run(
        &mut self,
        id: &str,
        flow_id: &str,
        input: &Value,
        created: i64,
    ) -> Result<()> {
        check("input", input)?;
        sqlx::query(
            "INSERT INTO flow_runs (id, flow_id, status, input, attempts, run_after, steps, created) \
             VALUES ($1, $2, 'QUEUED', $3, 0, $4, 0, $4)",
        )
        .bind(id)
        .bind(flow_id)
        .bind(to_json(input)?)
        .bind(created)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// Inserts a run already claimed by `worker` (attempt 1, lease until `lease_until`): an
    /// API endpoint call runs its run at once, and no other worker may take it first.
    pub async fn start_claimed_run(
        &mut self,
        id: &str,
        flow_id: &str,
        input: &Value,
        now: i64,
        worker: &str,
        lease_until: i64,
    ) -> Result<()> {
        check("input", input)?;
        sqlx::query(
            "INSERT INTO flow_runs (id, flow_id, status, input, attempts, claimed_by, lease_until, \
             run_after, steps, created, started) \
             VALUES ($1, $2, 'RUNNING', $3, 1, $4, $5, $6, 0, $6, $6)",
        )
        .bind(id)
        .bind(flow_id)
        .bind(to_json(input)?)
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// Records a finished card and the state after it, and extends the lease; `false` (and
    /// nothing written) when the claim was lost or the run cancelled.
    pub async fn record_step(
        &mut self,
        claim: &RunClaim<'_>,
        step: Option<&FlowStep>,
        state: &Value,
        lease_until: i64,
    ) -> Result<bool> {
        check("state", state)?;
        let done = sqlx::query(&format!(
            "UPDATE flow_runs SET state = $4, lease_until = $5, steps = steps + $6 WHERE {FENCE}"
        ))
        .bind(claim.run_id)
        .bind(claim.worker)
        .bind(claim.attempt)
        .bind(to_json(state)?)
        .bind(lease_until)
        .bind(i64::from(step.is_some()))
        .execute(self.tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(step) = step {
            self.insert_step(step).await?;
        }
        Ok(true)
    }

    async fn insert_step(&mut self, step: &FlowStep) -> Result<()> {
        for v in [&step.inputs, &step.outputs].into_iter().flatten() {
            check("step", v)?;
        }
        sqlx::query(
            "INSERT INTO flow_steps (run_id, idx, card, name, card_key, block, depth, status, \
             started, duration_us, inputs, outputs, error) \
             VALUES ($1, (SELECT COUNT(*) FROM flow_steps WHERE run_id = $1), $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12)",
        )
        .bind(&step.run_id)
        .bind(&step.card)
        .bind(&step.name)
        .bind(&step.card_key)
        .bind(&step.block)
        .bind(step.depth)
        .bind(&step.status)
        .bind(step.started)
        .bind(step.duration_us)
        .bind(opt_json(step.inputs.as_ref())?)
        .bind(opt_json(step.outputs.as_ref())?)
        .bind(step.error.clone())
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// Ends a claimed run; `false` when the claim was lost or the run cancelled.
    pub async fn finish_run(
        &mut self,
        claim: &RunClaim<'_>,
        status: RunStatus,
        output: Option<&Value>,
        error: Option<&Value>,
        finished: i64,
    ) -> Result<bool> {
        let done = sqlx::query(&format!(
            "UPDATE flow_runs SET status = $4, output = $5, error = $6, finished = $7, \
             lease_until = NULL WHERE {FENCE}"
        ))
        .bind(claim.run_id)
        .bind(claim.worker)
        .bind(claim.attempt)
        .bind(status.as_str())
        .bind(opt_json(output)?)
        .bind(opt_json(error)?)
        .bind(finished)
        .execute(self.tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a claimed run back to the queue, to be claimed again from `run_after` (a retry
    /// delay, or now when a worker stops); `false` when the claim was already lost.
    pub async fn requeue(
        &mut self,
        claim: &RunClaim<'_>,
        state: Option<&Value>,
        run_after: i64,
    ) -> Result<bool> {
        let done = sqlx::query(&format!(
            "UPDATE flow_runs SET status = 'QUEUED', claimed_by = NULL, lease_until = NULL, \
             run_after = $4, state = COALESCE($5, state) WHERE {FENCE}"
        ))
        .bind(claim.run_id)
        .bind(claim.worker)
        .bind(claim.attempt)
        .bind(run_after)
        .bind(opt_json(state)?)
        .execute(self.tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Cancels a queued or running run (a running one stops at its next card). `false` when it
    /// had already ended; [`StoreError::NotFound`] when there is no such run.
    pub async fn cancel_run(&mut self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE flow_runs SET status = 'CANCELLED', finished = $2, lease_until = NULL \
             WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')",
        )
        .bind(id)
        .bind(now)
        .execute(self.tx.conn())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM flow_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.tx.conn())
            .await?;
        exists.map(|_| false).ok_or(StoreError::NotFound)
    }
}
