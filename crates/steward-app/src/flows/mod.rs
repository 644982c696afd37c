//! Workflows: importing flopacks, queueing runs (manual and API endpoint triggers), the
//! workers that run them durably, cancellation and history.
//!
//! A flow is stored with a flopack of its own (the flow, the helper flows it calls, the
//! connection placeholders, tables and folders), so a run needs nothing else. Runs live in the
//! store (`flow_runs`); [`runner::Runner`] claims them, runs them card by card with the pure
//! interpreter of `steward-flows`, and records each card in its own short transaction.

pub mod connections;
pub mod events;
pub mod okta;
pub mod preflight;
pub mod runner;
pub mod tables;
pub mod tokens;

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Value};
use steward_core::events::DomainEvent;
use steward_core::validation::ValidationError;
use steward_flows::import::{FlowKind, Report};
use steward_flows::model::Flopack;
use steward_flows::CardRegistry;
use steward_store::{FlowRun, FlowStep, RunQuery, RunStatus, StoredFlow};

use crate::{AppError, AppResult, Ctx};

pub use okta::OktaConnectors;
pub use preflight::{preflight, Preflight, ScopeState};
pub use runner::{ConnectorSet, Connectors, NoConnectors, Runner, RunnerConfig};
pub use tables::TableConnectors;
pub use tokens::{ConnectionToken, TokenSource};

/// What an import did: the report, card by card, and the flows saved.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub report: Report,
    pub flows: Vec<FlowSummary>,
    /// The client token of each API endpoint flow imported for the first time: shown once
    /// (only its hash is kept).
    pub client_tokens: Vec<ClientToken>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientToken {
    pub flow_id: String,
    pub client_token: String,
}

/// A flow as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowSummary {
    pub id: String,
    pub name: String,
    pub folder: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub active: bool,
    pub save_history: bool,
    pub created: i64,
    pub updated: i64,
}

impl From<&StoredFlow> for FlowSummary {
    fn from(f: &StoredFlow) -> Self {
        FlowSummary {
            id: f.id.clone(),
            name: f.name.clone(),
            folder: f.folder.clone(),
            kind: f.kind.clone(),
            active: f.active,
            save_history: f.save_history,
            created: f.created,
            updated: f.updated,
        }
    }
}

fn kind_name(kind: FlowKind) -> &'static str {
    match kind {
        FlowKind::Helper => "helper",
        FlowKind::Scheduled => "scheduled",
        FlowKind::ApiEndpoint => "api_endpoint",
        FlowKind::Delegated => "delegated",
        FlowKind::Event => "event",
        FlowKind::Manual => "manual",
        FlowKind::Block => "block",
        FlowKind::Unknown => "unknown",
    }
}

/// The ids of the flows `flow` calls, directly or through its helpers.
fn helpers_of(flopack: &Flopack, flow: &str) -> BTreeSet<String> {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            Value::Object(map) => map.values().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    let mut todo = vec![flow.to_string()];
    while let Some(id) = todo.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(f) = flopack.data.flos.get(&id) else {
            continue;
        };
        let Ok(data) = serde_json::to_value(&f.data) else {
            continue;
        };
        let mut found = Vec::new();
        strings(&data, &mut found);
        todo.extend(
            found
                .into_iter()
                .filter(|s| flopack.data.flos.contains_key(s)),
        );
    }
    seen
}

/// The cards a Steward server runs: the function cards, the Okta and OIG connector cards, and
/// Tables (what `steward flows check` checks a flopack against).
pub fn server_registry() -> CardRegistry {
    let mut registry = CardRegistry::standard();
    for card in steward_flows::connectors::all() {
        registry.connector(card.connector, card.action);
    }
    for action in tables::ACTIONS {
        registry.connector("stash", action);
    }
    registry
}

/// Every card of the report that cannot run, as error causes.
fn refusals(report: &Report) -> Vec<String> {
    let mut causes = Vec::new();
    for flow in &report.flows {
        for problem in &flow.problems {
            causes.push(format!("flow {:?}: {problem}", flow.name));
        }
        for (f, card) in report.unsupported().filter(|(f, _)| f.id == flow.id) {
            causes.push(format!(
                "flow {:?}: card {:?} ({}): {}",
                f.name,
                card.name,
                card.card,
                card.reasons.join("; ")
            ));
        }
    }
    causes
}

/// Imports every flow of a `.flopack`. Refused, with every card that cannot run as a cause,
/// unless the whole file can run with `registry`; then each top-level flow is saved (replacing
/// a flow with the same id, which keeps its on/off switch and client token), switched off.
pub async fn import_flopack(
    ctx: &Ctx<'_>,
    registry: &CardRegistry,
    bytes: &[u8],
) -> AppResult<Imported> {
    let import = steward_flows::import::import_with(bytes, registry).map_err(|e| {
        AppError::Validation(ValidationError::new(
            "The flopack cannot be read",
            e.to_string(),
        ))
    })?;
    let report = import.report;
    let flopack = import.flopack;
    let causes = refusals(&report);
    if !causes.is_empty() {
        return Err(AppError::Validation(ValidationError {
            summary: "The flopack has cards Steward cannot run".into(),
            causes,
        }));
    }
    if flopack.data.flos.is_empty() {
        return Err(AppError::Validation(ValidationError::new(
            "The flopack has no flows",
            "data.flos is empty",
        )));
    }
    let mut tx = ctx.begin().await?;
    tables::import_tables(&mut tx, &flopack, ctx.now).await?;
    let mut flows = Vec::new();
    let mut client_tokens = Vec::new();
    for flow in flopack.data.flos.values() {
        let kind = report
            .flows
            .iter()
            .find(|r| r.id == flow.id && r.within.is_none())
            .map_or("unknown", |r| kind_name(r.kind));
        let keep = helpers_of(&flopack, &flow.id);
        let mut own = flopack.clone();
        own.data.flos.retain(|id, _| keep.contains(id));
        let folder = flow
            .data
            .group
            .as_ref()
            .and_then(|g| flopack.data.groups.get(g))
            .map(|g| g.data.name.clone());
        let existing = ctx.store.flows().flow(&flow.id).await.ok();
        let mut token_hash = None;
        if kind == "api_endpoint"
            && existing
                .as_ref()
                .is_none_or(|e| e.client_token_hash.is_none())
        {
            let token = steward_core::ids::random_secret(40);
            token_hash = Some(steward_oauth::secrets::sha256_hex(&token));
            client_tokens.push(ClientToken {
                flow_id: flow.id.clone(),
                client_token: token,
            });
        }
        let stored = StoredFlow {
            id: flow.id.clone(),
            name: flow.name.clone(),
            folder,
            kind: kind.to_string(),
            active: existing.as_ref().is_some_and(|e| e.active),
            save_history: flow.data.log,
            flopack: serde_json::to_value(&own)
                .map_err(|e| AppError::Internal(format!("flopack: {e}")))?,
            client_token_hash: token_hash,
            created: existing.as_ref().map_or(ctx.now, |e| e.created),
            updated: ctx.now,
        };
        tx.flows().put_flow(&stored).await?;
        tx.record(
            DomainEvent::FlowImported {
                flow_id: stored.id.clone(),
                name: stored.name.clone(),
                actor: ctx.actor.clone(),
            },
            &[],
        )
        .await?;
        // A flow that stays on follows its new schedule (a bad one stops it firing).
        if stored.active {
            let next = first_fire(&stored, ctx.now).ok().flatten();
            tx.flows().set_next_fire(&stored.id, None, next).await?;
        }
        flows.push(FlowSummary::from(&stored));
    }
    tx.commit().await?;
    Ok(Imported {
        report,
        flows,
        client_tokens,
    })
}

pub async fn list_flows(ctx: &Ctx<'_>) -> AppResult<Vec<FlowSummary>> {
    Ok(ctx
        .store
        .flows()
        .list()
        .await?
        .iter()
        .map(FlowSummary::from)
        .collect())
}

/// A folder of flows (the flopack's `data.groups`, by name); flows without one are in the
/// "Default Folder", as in Okta Workflows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    pub name: String,
    pub flows: Vec<FlowSummary>,
}

/// Every folder with its flows, by name.
pub async fn folders(ctx: &Ctx<'_>) -> AppResult<Vec<Folder>> {
    let mut folders: Vec<Folder> = Vec::new();
    for flow in list_flows(ctx).await? {
        let name = flow
            .folder
            .clone()
            .unwrap_or_else(|| "Default Folder".to_string());
        match folders.iter_mut().find(|f| f.name == name) {
            Some(f) => f.flows.push(flow),
            None => folders.push(Folder {
                name,
                flows: vec![flow],
            }),
        }
    }
    folders.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(folders)
}

pub async fn get_flow(ctx: &Ctx<'_>, id: &str) -> AppResult<StoredFlow> {
    ctx.store
        .flows()
        .flow(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (Flow)")))
}

/// The flow's flopack as a `.flopack` file (keys sorted, indented): it imports again.
pub async fn export_flow(ctx: &Ctx<'_>, id: &str) -> AppResult<Vec<u8>> {
    let flow = get_flow(ctx, id).await?;
    let flopack: Flopack = serde_json::from_value(flow.flopack)
        .map_err(|e| AppError::Internal(format!("stored flopack: {e}")))?;
    steward_flows::export(&flopack).map_err(|e| AppError::Internal(e.to_string()))
}

/// The schedule of a scheduled flow (its cron and time zone).
fn schedule_of(flow: &StoredFlow) -> AppResult<steward_flows::schedule::Schedule> {
    let cron: steward_flows::model::Cron = flow
        .flopack
        .pointer(&format!("/data/flos/{}/data/cron", flow.id))
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    steward_flows::schedule::Schedule::parse(&cron).map_err(|why| {
        AppError::Validation(ValidationError::new(
            "Api validation failed: cron",
            format!("cron: {why}"),
        ))
    })
}

/// When a scheduled flow switched on at `now` fires first.
fn first_fire(flow: &StoredFlow, now: i64) -> AppResult<Option<i64>> {
    if flow.kind != "scheduled" {
        return Ok(None);
    }
    Ok(schedule_of(flow)?.next_after(now))
}

/// Switches a flow on or off. A scheduled flow whose schedule Steward cannot run (an
/// unsupported time zone) is refused with the reason.
pub async fn set_active(ctx: &Ctx<'_>, id: &str, active: bool) -> AppResult<FlowSummary> {
    let flow = get_flow(ctx, id).await?;
    let next = if active {
        first_fire(&flow, ctx.now)?
    } else {
        None
    };
    let mut tx = ctx.begin().await?;
    tx.flows()
        .set_active(id, active, ctx.now)
        .await
        .map_err(AppError::not_found_as(format!("{id} (Flow)")))?;
    tx.flows().set_next_fire(id, None, next).await?;
    // An event flow switched on listens from now on (no backfill); switched off, it stops.
    if !active {
        events::subscribe(&mut tx, id, None, ctx.now).await?;
    } else if !flow.active {
        if let Some(event_type) = events::trigger_event_type(&flow) {
            events::subscribe(&mut tx, id, Some(event_type), ctx.now).await?;
        }
    }
    if flow.active != active {
        tx.record(
            DomainEvent::FlowSwitched {
                flow_id: flow.id.clone(),
                name: flow.name.clone(),
                active,
                actor: ctx.actor.clone(),
            },
            &[],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(FlowSummary::from(&get_flow(ctx, id).await?))
}

/// Queues a run of every scheduled flow that is on and due at `ctx.now`, once per fire time
/// across every node (the next fire time moves in the transaction that queues the run, only if
/// no other node moved it first). A fire time missed while nothing ran fires once, late; the
/// next is the first after now. The scheduled flow's trigger gets `context.execution_time`.
pub async fn fire_schedules(ctx: &Ctx<'_>) -> AppResult<usize> {
    let mut fired = 0;
    for (id, due) in ctx.store.flows().due_schedules(ctx.now).await? {
        let flow = get_flow(ctx, &id).await?;
        let next = schedule_of(&flow)
            .ok()
            .and_then(|s| s.next_after(ctx.now.max(due)));
        let mut tx = ctx.store.begin().await?;
        if !tx.flows().set_next_fire(&id, Some(due), next).await? {
            continue;
        }
        let input =
            json!({"context": {"execution_time": steward_core::timefmt::format_millis(due)}});
        tx.flows()
            .queue_run(&new_run_id(), &id, &input, ctx.now)
            .await?;
        tx.commit().await?;
        fired += 1;
    }
    Ok(fired)
}

/// A new execution id.
pub fn new_run_id() -> String {
    format!("fex{}", steward_core::ids::random_secret(17))
}

/// Queues a run of the flow with its trigger input (a manual run, or an API endpoint call);
/// the run id. Helper flows and flows switched off can be run by hand too, as Okta's "Test".
pub async fn queue_run(ctx: &Ctx<'_>, flow_id: &str, input: &Value) -> AppResult<String> {
    get_flow(ctx, flow_id).await?;
    if !input.is_object() {
        return Err(AppError::Validation(ValidationError::new(
            "Api validation failed: input",
            "input: the run's input must be a JSON object",
        )));
    }
    let id = new_run_id();
    let mut tx = ctx.store.begin().await?;
    tx.flows().queue_run(&id, flow_id, input, ctx.now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Cancels a queued or running run; a running one stops before its next card. Cancelling a
/// run that has ended changes nothing.
pub async fn cancel_run(ctx: &Ctx<'_>, run_id: &str) -> AppResult<FlowRun> {
    let mut tx = ctx.store.begin().await?;
    tx.flows()
        .cancel_run(run_id, ctx.now)
        .await
        .map_err(AppError::not_found_as(format!("{run_id} (Execution)")))?;
    tx.commit().await?;
    get_run(ctx, run_id).await
}

pub async fn get_run(ctx: &Ctx<'_>, run_id: &str) -> AppResult<FlowRun> {
    ctx.store
        .flows()
        .run(run_id)
        .await
        .map_err(AppError::not_found_as(format!("{run_id} (Execution)")))
}

pub async fn run_steps(ctx: &Ctx<'_>, run_id: &str) -> AppResult<Vec<FlowStep>> {
    get_run(ctx, run_id).await?;
    Ok(ctx.store.flows().steps(run_id).await?)
}

/// History: runs by flow, status and time, newest first.
pub async fn history(ctx: &Ctx<'_>, query: &RunQuery) -> AppResult<Vec<FlowRun>> {
    Ok(ctx.store.flows().runs(query).await?)
}

/// A run as the API and CLI show it.
pub fn run_json(run: &FlowRun, steps: Option<&[FlowStep]>) -> Value {
    let mut v = json!({
        "id": run.id,
        "flowId": run.flow_id,
        "status": run.status.as_str(),
        "input": run.input,
        "output": run.output,
        "error": run.error,
        "attempts": run.attempts,
        "steps": run.steps,
        "created": steward_core::timefmt::format_millis(run.created),
        "started": run.started.map(steward_core::timefmt::format_millis),
        "finished": run.finished.map(steward_core::timefmt::format_millis),
    });
    if let (Some(steps), Some(obj)) = (steps, v.as_object_mut()) {
        let list: Vec<Value> = steps
            .iter()
            .map(|s| {
                json!({
                    "index": s.idx,
                    "card": s.card,
                    "name": s.name,
                    "cardType": s.card_key,
                    "flow": s.block,
                    "depth": s.depth,
                    "status": s.status,
                    "started": steward_core::timefmt::format_millis(s.started),
                    "durationMicros": s.duration_us,
                    "inputs": s.inputs,
                    "outputs": s.outputs,
                    "error": s.error,
                })
            })
            .collect();
        obj.insert("cards".into(), Value::Array(list));
    }
    v
}

/// Parses a status filter (`SUCCEEDED`, …).
pub fn parse_status(s: &str) -> AppResult<RunStatus> {
    RunStatus::parse(s).ok_or_else(|| {
        AppError::Validation(ValidationError::new(
            "Api validation failed: status",
            format!("status: {s:?} is not one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED"),
        ))
    })
}

#[cfg(test)]
mod tests;
