//! The interpreter: runs a planned flow card by card as a resumable state machine.
//!
//! A [`Program`] is a flopack compiled once: every flow and inline block as a list of
//! instructions (cards, If/Else jumps), with the pins indexed by the input they feed. A run is
//! a [`RunState`]: a stack of frames (the flow or block running, its position, the outputs of
//! the cards that ran so far), plain serde data, so a driver persists it after every card and
//! resumes it anywhere. [`Engine::step`] runs one card and says what happened
//! ([`StepOutcome`]); connector cards are not run here: the step hands the card and its inputs
//! to the driver ([`StepOutcome::Connector`]), which calls the connector and gives the result
//! back with [`Engine::complete`]. Time comes from the driver too (`now`), so limits and cards
//! like Now are testable without a clock.
//!
//! Semantics follow `docs/workflows.md` (engine section): pins then static values, If/Else
//! lanes and joins, If/ElseIf and If Error blocks with wormholes, Call Flow and the list cards
//! over helper flows, Return / Return Raw / Return Error, Continue If, and the per-card error
//! policy (halt, retry on 429 and 5xx only, return values, run a flow, continue).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::address::CardKey;
use crate::model::{Card, Field, Flopack, FlowData, FlowRef, Transform};
use crate::plan::{Plan, Step};
use crate::registry::{
    CardError, CardImpl, CardRegistry, Control, DeclaredOutput, InputValue, Inputs, Iteration,
    Outputs,
};
use crate::value::{get_path, iso, to_bool, to_date, to_number, to_text};

/// Limits on one run; each, when crossed, fails the run with a message that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Cards run (helper flows and blocks included). Okta's limit is 2 million.
    pub max_steps: u64,
    /// From the start of the run to now, in milliseconds.
    pub max_run_ms: i64,
    /// The JSON size of the trigger input and of each card's outputs.
    pub max_payload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 2_000_000,
            max_run_ms: 30 * 60 * 1000,
            max_payload_bytes: 10 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    #[error("flow {0} is not in this flopack")]
    NoFlow(String),
    #[error("flow {flow:?} cannot be ordered: {message}")]
    Plan { flow: String, message: String },
}

/// One instruction of a compiled flow.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Instr {
    Card(String),
    /// If/Else: the condition decides between the next instruction and `otherwise`.
    If {
        uuid: String,
        otherwise: usize,
    },
    Goto(usize),
}

#[derive(Debug, Clone)]
struct Source {
    card: String,
    output: String,
    transform: Option<Transform>,
}

/// A flow or inline block ready to run.
#[derive(Debug, Clone)]
struct Compiled {
    data: FlowData,
    name: String,
    root: String,
    instrs: Vec<Instr>,
    cards: HashMap<String, usize>,
    /// Target card → target input id → the outputs pinned to it.
    inbound: HashMap<String, HashMap<String, Vec<Source>>>,
}

impl Compiled {
    fn card(&self, uuid: &str) -> Option<&Card> {
        self.cards.get(uuid).and_then(|i| self.data.methods.get(*i))
    }
}

/// A flopack compiled for running: every top-level flow by its id, every inline block by
/// `<flow key>/<card uuid>/<input id>` (`…/error` for an If Error block).
#[derive(Debug, Clone)]
pub struct Program {
    flows: HashMap<String, Compiled>,
}

fn compile_instrs(steps: &[Step], out: &mut Vec<Instr>) {
    for step in steps {
        match step {
            Step::Card { uuid } => out.push(Instr::Card(uuid.clone())),
            Step::If {
                uuid,
                then,
                otherwise,
                join,
            } => {
                let at = out.len();
                out.push(Instr::If {
                    uuid: uuid.clone(),
                    otherwise: 0,
                });
                compile_instrs(then, out);
                let goto = out.len();
                out.push(Instr::Goto(0));
                let else_at = out.len();
                compile_instrs(otherwise, out);
                let join_at = out.len();
                out.push(Instr::Card(join.clone()));
                out[at] = Instr::If {
                    uuid: uuid.clone(),
                    otherwise: else_at,
                };
                out[goto] = Instr::Goto(join_at);
            }
        }
    }
}

impl Program {
    /// Compiles every flow of the flopack and every inline block inside them.
    pub fn new(flopack: &Flopack) -> Result<Program, ProgramError> {
        let mut program = Program {
            flows: HashMap::new(),
        };
        for flow in flopack.data.flos.values() {
            program.add(flow.id.clone(), flow.name.clone(), flow.data.clone())?;
        }
        Ok(program)
    }

    fn add(&mut self, key: String, name: String, data: FlowData) -> Result<(), ProgramError> {
        let plan = Plan::of(&data).map_err(|e| ProgramError::Plan {
            flow: name.clone(),
            message: e.to_string(),
        })?;
        let mut instrs = Vec::new();
        compile_instrs(&plan.steps, &mut instrs);
        let mut inbound: HashMap<String, HashMap<String, Vec<Source>>> = HashMap::new();
        let mut blocks = Vec::new();
        for card in &data.methods {
            for (output, targets) in &card.pins {
                for (target, pins) in targets {
                    for pin in pins {
                        let transform = pin
                            .transform
                            .as_ref()
                            .and_then(|t| t.get(output).or_else(|| t.values().next()))
                            .cloned();
                        inbound
                            .entry(target.clone())
                            .or_default()
                            .entry(pin.input.clone())
                            .or_default()
                            .push(Source {
                                card: card.uuid.clone(),
                                output: output.clone(),
                                transform,
                            });
                    }
                }
            }
            for field in card.node.model.inputs.data.values() {
                if let Some(FlowRef::Embedded(block)) = field.flow_ref() {
                    let label = format!("{} › {}", card.node.data.name, field.path());
                    blocks.push((format!("{key}/{}/{}", card.uuid, field.id), label, *block));
                }
            }
            if card.node.model.policy.error.kind == "handler" {
                if let Some(FlowRef::Embedded(block)) = card.node.model.policy.error.flow_ref() {
                    let label = format!("{} › If Error", card.node.data.name);
                    blocks.push((format!("{key}/{}/error", card.uuid), label, *block));
                }
            }
        }
        let cards = data
            .methods
            .iter()
            .enumerate()
            .map(|(i, c)| (c.uuid.clone(), i))
            .collect();
        self.flows.insert(
            key,
            Compiled {
                name,
                root: plan.root,
                instrs,
                cards,
                inbound,
                data,
            },
        );
        for (key, label, block) in blocks {
            self.add(key, label, block)?;
        }
        Ok(())
    }

    fn flow(&self, key: &str) -> Option<&Compiled> {
        self.flows.get(key)
    }

    /// Whether the flow keeps card inputs and outputs ("save all data").
    pub fn saves_history(&self, flow: &str) -> bool {
        self.flow(flow).is_some_and(|f| f.data.log)
    }
}

/// The outputs of a card that ran, and when (later runs win when two write one input).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardValues {
    pub seq: u64,
    pub outputs: BTreeMap<String, Value>,
}

/// What a frame is running for: the run itself or a card of the frame below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum Role {
    Root,
    /// A helper run by Call Flow.
    Call,
    /// An If/ElseIf arm.
    Arm,
    /// The Try block of If Error.
    Try,
    /// The If Error block.
    Catch,
    /// One item of a list card.
    Item,
}

/// Progress of a list card over its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iterating {
    pub items: Vec<Value>,
    pub index: usize,
    pub results: Vec<Value>,
    pub memo: Value,
    pub failed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub flow: String,
    pub pc: usize,
    pub role: Role,
    pub values: BTreeMap<String, CardValues>,
    /// The list card at `pc` going through its items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterating: Option<Iterating>,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_name: Option<String>,
    /// Return Error's status code, or the connector's HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// What the connector found out about the failure (a 403's missing scope and its fix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Value>,
}

impl RunError {
    fn limit(message: String) -> RunError {
        RunError {
            message,
            card: None,
            card_name: None,
            status_code: None,
            diagnosis: None,
        }
    }

    fn as_context(&self, flow: &str, execution: &str) -> Value {
        serde_json::json!({
            "message": self.message,
            "method": self.card_name.clone().unwrap_or_default(),
            "flo": flow,
            "execution": execution,
            "code": self.status_code,
            "diagnosis": self.diagnosis,
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finish {
    pub succeeded: bool,
    /// Return's `{key: value}`, Return Raw's `{statusCode, headers, body}`, or null.
    pub output: Value,
    /// The output came from Return Raw.
    #[serde(default)]
    pub raw: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
}

/// A helper to start as a run of its own (Call Flow Async, a "run another flow" policy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spawn {
    pub flow: String,
    pub input: Value,
}

/// A run in progress: plain data, persisted after every card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub execution: String,
    pub frames: Vec<Frame>,
    /// Cards run so far.
    pub steps: u64,
    pub started_ms: i64,
    /// Attempts of the current card (connector retries).
    #[serde(default)]
    pub attempt: u32,
    /// Helpers to start as separate runs; the driver drains it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spawned: Vec<Spawn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Finish>,
    #[serde(default)]
    pub seq: u64,
}

/// One card that ran, for the run's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// The flow or block key the card belongs to.
    pub flow: String,
    pub card: String,
    pub name: String,
    pub card_key: String,
    /// 0 for the flow itself, 1 inside a helper or block, …
    pub depth: usize,
    pub succeeded: bool,
    /// Inputs and outputs by `group.key`, secrets redacted.
    pub inputs: Value,
    pub outputs: Value,
    pub error: Option<String>,
}

/// A connector card for the driver to run.
#[derive(Debug, Clone)]
pub struct ConnectorRequest {
    pub card: CardKey,
    pub uuid: String,
    pub name: String,
    /// The flopack's connection id (`node.model.config`).
    pub connection: Option<String>,
    pub inputs: Inputs,
    /// 0 on the first try.
    pub attempt: u32,
}

/// A connector card's failure as the driver saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorError {
    pub message: String,
    /// The HTTP status of the call, when there was one: 429 and 5xx are retried.
    pub status: Option<u16>,
    /// Why, when the connector could tell (a 403 `insufficient_scope`: the scope and the fix).
    pub diagnosis: Option<Value>,
}

/// What one step did.
#[derive(Debug, Clone)]
pub enum StepOutcome {
    /// A card ran (or the run moved into or out of a block): persist the state, step again.
    Progress(Vec<StepRecord>),
    /// Run this connector card and give its result to [`Engine::complete`].
    Connector(ConnectorRequest),
    /// The current card failed with a retryable status: step again after the delay.
    Retry { delay_ms: u64, record: StepRecord },
    /// The run ended (it succeeded or failed); the state holds the same in `done`.
    Finished(Finish),
}

/// A card's failure inside the interpreter.
#[derive(Debug, Clone)]
struct Failure {
    message: String,
    status: Option<u16>,
    diagnosis: Option<Value>,
}

impl From<CardError> for Failure {
    fn from(e: CardError) -> Self {
        Failure {
            message: e.to_string(),
            status: None,
            diagnosis: None,
        }
    }
}

/// The interpreter over one program and registry.
pub struct Engine<'a> {
    pub program: &'a Program,
    pub registry: &'a CardRegistry,
    pub limits: Limits,
}

/// How a frame ended.
enum FrameEnd {
    Returned(Map<String, Value>),
    Raw(Value),
    Quiet,
    Failed(RunError),
}

fn json_size(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, v);
    count.0
}

const SECRET_WORDS: [&str; 6] = [
    "authorization",
    "password",
    "secret",
    "token",
    "apikey",
    "api-key",
];

/// Replaces the values of keys that name secrets (authorization, password, token, …).
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let lower = k.to_ascii_lowercase();
                if SECRET_WORDS.iter().any(|w| lower.contains(w)) && !v.is_null() {
                    *v = Value::String("[redacted]".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn apply_transform(value: Value, transform: &Transform) -> Value {
    let converted = match transform.convert.as_deref() {
        Some("dateTime") => to_date(&value).map_or(value, |t| Value::String(iso(t))),
        Some("isoString") => to_date(&value).map_or(value, |t| Value::String(iso(t))),
        Some("toString") | Some("booleanToString") => Value::String(to_text(&value)),
        Some("parseFloat") => to_number(&value).map_or(Value::Null, crate::value::number),
        Some("parse") => match &value {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            _ => value,
        },
        Some("stringify") => match &value {
            Value::String(_) => value,
            other => Value::String(other.to_string()),
        },
        Some("wrapArray") if !value.is_array() => Value::Array(vec![value]),
        _ => value,
    };
    if transform.force_wrap_array == Some(true) && !converted.is_array() {
        Value::Array(vec![converted])
    } else {
        converted
    }
}

fn field_value(field: &Field, value: Value) -> InputValue {
    InputValue {
        group: field.group.clone(),
        key: field.key.clone(),
        kind: field.value.kind.clone(),
        collection: field.value.collection,
        custom: field.metadata.custom.unwrap_or(false),
        value,
    }
}

/// `{group.key: value}` of some fields.
fn by_path<'a>(fields: impl Iterator<Item = (&'a Option<String>, &'a str, &'a Value)>) -> Value {
    let mut map = Map::new();
    for (group, key, value) in fields {
        let path = match group {
            Some(g) => format!("{g}.{key}"),
            None => key.to_string(),
        };
        map.insert(path, value.clone());
    }
    let mut value = Value::Object(map);
    redact(&mut value);
    value
}

/// The plain (group null) values of a single-key return, or the whole object.
fn single(returned: &Map<String, Value>) -> Value {
    if returned.len() == 1 {
        returned.values().next().cloned().unwrap_or(Value::Null)
    } else {
        Value::Object(returned.clone())
    }
}

impl RunState {
    /// A run of `flow` whose trigger outputs take `input`: a plain field `k` reads `input.k`,
    /// a grouped one `(g, k)` reads `input.g.k` (API endpoint: `body`, `query`, `headers`,
    /// `raw`; helpers and schedules: `context`). Missing values are null.
    pub fn start(
        program: &Program,
        flow: &str,
        execution: &str,
        input: &Value,
        now: OffsetDateTime,
        limits: &Limits,
    ) -> Result<RunState, RunError> {
        let compiled = program
            .flow(flow)
            .ok_or_else(|| RunError::limit(format!("flow {flow} is not in this flopack")))?;
        let size = json_size(input);
        if size > limits.max_payload_bytes {
            return Err(RunError::limit(format!(
                "the trigger input is {size} bytes, over the limit of {} bytes",
                limits.max_payload_bytes
            )));
        }
        let mut state = RunState {
            execution: execution.to_string(),
            frames: Vec::new(),
            steps: 0,
            started_ms: crate::value::unix_ms(now),
            attempt: 0,
            spawned: Vec::new(),
            done: None,
            seq: 0,
        };
        let seed = |group: Option<&str>, key: &str| -> Value {
            let at = match group {
                Some(g) => input.get(g).and_then(|v| v.get(key)),
                None => input.get(key),
            };
            at.cloned().unwrap_or(Value::Null)
        };
        state.push_frame(compiled, flow, Role::Root, &seed);
        Ok(state)
    }

    fn push_frame(
        &mut self,
        compiled: &Compiled,
        key: &str,
        role: Role,
        seed: &dyn Fn(Option<&str>, &str) -> Value,
    ) {
        self.seq += 1;
        let mut outputs = BTreeMap::new();
        if let Some(root) = compiled.card(&compiled.root) {
            for field in root.node.model.outputs.data.values() {
                outputs.insert(field.id.clone(), seed(field.group.as_deref(), &field.key));
            }
        }
        let mut values = BTreeMap::new();
        values.insert(
            compiled.root.clone(),
            CardValues {
                seq: self.seq,
                outputs,
            },
        );
        self.frames.push(Frame {
            flow: key.to_string(),
            pc: 0,
            role,
            values,
            iterating: None,
        });
    }

    pub fn is_done(&self) -> bool {
        self.done.is_some()
    }
}

impl<'a> Engine<'a> {
    pub fn new(program: &'a Program, registry: &'a CardRegistry) -> Engine<'a> {
        Engine {
            program,
            registry,
            limits: Limits::default(),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Engine<'a> {
        self.limits = limits;
        self
    }

    /// Runs until the run ends or needs a connector, calling `connectors` for those (tests and
    /// simple drivers); retries are taken at once.
    pub fn run_to_end(
        &self,
        state: &mut RunState,
        now: impl Fn() -> OffsetDateTime,
        mut connectors: impl FnMut(&ConnectorRequest) -> Result<Outputs, ConnectorError>,
    ) -> Finish {
        loop {
            let outcome = self.step(state, now());
            match outcome {
                StepOutcome::Finished(finish) => return finish,
                StepOutcome::Connector(request) => {
                    let result = connectors(&request);
                    if let StepOutcome::Finished(finish) = self.complete(state, result, now()) {
                        return finish;
                    }
                }
                StepOutcome::Progress(_) | StepOutcome::Retry { .. } => {}
            }
        }
    }

    fn finish(&self, state: &mut RunState, finish: Finish) -> StepOutcome {
        state.frames.clear();
        state.done = Some(finish.clone());
        StepOutcome::Finished(finish)
    }

    fn fail_run(&self, state: &mut RunState, error: RunError) -> StepOutcome {
        self.finish(
            state,
            Finish {
                succeeded: false,
                output: Value::Null,
                raw: false,
                error: Some(error),
            },
        )
    }

    /// Runs the next card.
    pub fn step(&self, state: &mut RunState, now: OffsetDateTime) -> StepOutcome {
        if let Some(done) = &state.done {
            return StepOutcome::Finished(done.clone());
        }
        if state.steps >= self.limits.max_steps {
            let message = format!(
                "the run reached the limit of {} steps",
                self.limits.max_steps
            );
            return self.fail_run(state, RunError::limit(message));
        }
        let elapsed = crate::value::unix_ms(now) - state.started_ms;
        if elapsed > self.limits.max_run_ms {
            let message = format!(
                "the run took {elapsed} ms, over the limit of {} ms",
                self.limits.max_run_ms
            );
            return self.fail_run(state, RunError::limit(message));
        }
        loop {
            let Some(frame) = state.frames.last() else {
                return self.fail_run(state, RunError::limit("the run has no frame".into()));
            };
            let Some(flow) = self.program.flow(&frame.flow) else {
                let message = format!("flow {} is not in this flopack", frame.flow);
                return self.fail_run(state, RunError::limit(message));
            };
            let Some(instr) = flow.instrs.get(frame.pc) else {
                return self.end_frame(state, FrameEnd::Quiet, now);
            };
            match instr {
                Instr::Goto(pc) => {
                    let pc = *pc;
                    if let Some(f) = state.frames.last_mut() {
                        f.pc = pc;
                    }
                }
                Instr::If { uuid, otherwise } => {
                    let otherwise = *otherwise;
                    let Some(card) = flow.card(uuid) else {
                        return self.fail_run(state, RunError::limit(format!("no card {uuid}")));
                    };
                    state.steps += 1;
                    let (inputs, _) = self.resolve(flow, frame, card, now);
                    return match inputs.condition(None) {
                        Ok(holds) => {
                            let outputs = Outputs::one("result", Value::Bool(holds));
                            let record = self.store(state, flow, card, &inputs, outputs);
                            if let Some(f) = state.frames.last_mut() {
                                f.pc = if holds { f.pc + 1 } else { otherwise };
                            }
                            self.check_size(state, record)
                        }
                        Err(e) => self.card_failed(state, e.into(), now),
                    };
                }
                Instr::Card(uuid) => {
                    let Some(card) = flow.card(uuid) else {
                        return self.fail_run(state, RunError::limit(format!("no card {uuid}")));
                    };
                    if frame.iterating.is_none() {
                        state.steps += 1;
                    }
                    return self.run_card(state, flow, card, now);
                }
            }
        }
    }

    /// The card's inputs: pinned values (the latest card to write wins), else static values.
    fn resolve(
        &self,
        flow: &Compiled,
        frame: &Frame,
        card: &Card,
        now: OffsetDateTime,
    ) -> (Inputs, Vec<String>) {
        let inbound = flow.inbound.get(&card.uuid);
        let mut fields = Vec::new();
        let mut ids = Vec::new();
        for field in card.node.model.inputs.ordered() {
            let pinned = inbound
                .and_then(|m| m.get(&field.id))
                .and_then(|sources| {
                    sources
                        .iter()
                        .filter_map(|s| {
                            let ran = frame.values.get(&s.card)?;
                            Some((ran.seq, s, ran.outputs.get(&s.output)?))
                        })
                        .max_by_key(|(seq, _, _)| *seq)
                })
                .map(|(_, source, value)| match &source.transform {
                    Some(t) => apply_transform(value.clone(), t),
                    None => value.clone(),
                });
            let value = pinned.unwrap_or_else(|| field.value.data.clone());
            fields.push(field_value(field, value));
            ids.push(field.id.clone());
        }
        let outputs = card
            .node
            .model
            .outputs
            .ordered()
            .into_iter()
            .map(|f| DeclaredOutput {
                group: f.group.clone(),
                key: f.key.clone(),
                data: f.value.data.clone(),
            })
            .collect();
        (
            Inputs {
                fields,
                outputs,
                now,
            },
            ids,
        )
    }

    /// Records the card's outputs in the top frame (mapped to output ids) and moves on.
    fn store(
        &self,
        state: &mut RunState,
        flow: &Compiled,
        card: &Card,
        inputs: &Inputs,
        outputs: Outputs,
    ) -> StepRecord {
        let depth = state.frames.len().saturating_sub(1);
        state.seq += 1;
        let mut by_id = BTreeMap::new();
        for (group, key, value) in &outputs.values {
            if let Some(field) = card.node.model.outputs.by_key(group.as_deref(), key) {
                by_id.insert(field.id.clone(), value.clone());
            }
        }
        let record = StepRecord {
            flow: flow.name.clone(),
            card: card.uuid.clone(),
            name: card.node.data.name.clone(),
            card_key: card.address.card_key().to_string(),
            depth,
            succeeded: true,
            inputs: by_path(
                inputs
                    .fields
                    .iter()
                    .map(|f| (&f.group, f.key.as_str(), &f.value)),
            ),
            outputs: by_path(outputs.values.iter().map(|(g, k, v)| (g, k.as_str(), v))),
            error: None,
        };
        let seq = state.seq;
        if let Some(frame) = state.frames.last_mut() {
            frame.values.insert(
                card.uuid.clone(),
                CardValues {
                    seq,
                    outputs: by_id,
                },
            );
        }
        state.attempt = 0;
        record
    }

    fn advance(state: &mut RunState) {
        if let Some(frame) = state.frames.last_mut() {
            frame.pc += 1;
            frame.iterating = None;
        }
    }

    /// Fails the run when the card's outputs are over the payload limit.
    fn check_size(&self, state: &mut RunState, record: StepRecord) -> StepOutcome {
        let size = json_size(&record.outputs);
        if size > self.limits.max_payload_bytes {
            let message = format!(
                "card {:?} produced {size} bytes, over the payload limit of {} bytes",
                record.name, self.limits.max_payload_bytes
            );
            let error = RunError {
                message,
                card: Some(record.card.clone()),
                card_name: Some(record.name.clone()),
                status_code: None,
                diagnosis: None,
            };
            return self.fail_run(state, error);
        }
        StepOutcome::Progress(vec![record])
    }

    fn mirrored(inputs: &Inputs) -> Outputs {
        Outputs {
            values: inputs
                .fields
                .iter()
                .map(|f| (f.group.clone(), f.key.clone(), f.value.clone()))
                .collect(),
        }
    }

    fn done_card(
        &self,
        state: &mut RunState,
        flow: &Compiled,
        card: &Card,
        inputs: &Inputs,
        outputs: Outputs,
    ) -> StepOutcome {
        let record = self.store(state, flow, card, inputs, outputs);
        Self::advance(state);
        self.check_size(state, record)
    }

    fn run_card(
        &self,
        state: &mut RunState,
        flow: &Compiled,
        card: &Card,
        now: OffsetDateTime,
    ) -> StepOutcome {
        let Some(frame) = state.frames.last() else {
            return self.fail_run(state, RunError::limit("the run has no frame".into()));
        };
        let (inputs, ids) = self.resolve(flow, frame, card, now);
        let implementation = self.registry.lookup(card).copied();
        match implementation {
            None => {
                let failure = Failure {
                    message: format!("Steward cannot run card {}", card.address.card_key()),
                    status: None,
                    diagnosis: None,
                };
                self.card_failed(state, failure, now)
            }
            Some(CardImpl::Function(f)) => match f(&inputs) {
                Ok(outputs) => self.done_card(state, flow, card, &inputs, outputs),
                Err(e) => self.card_failed(state, e.into(), now),
            },
            Some(CardImpl::Trigger(_)) => {
                let outputs = Self::mirrored(&inputs);
                self.done_card(state, flow, card, &inputs, outputs)
            }
            Some(CardImpl::Connector) => StepOutcome::Connector(ConnectorRequest {
                card: card.address.card_key(),
                uuid: card.uuid.clone(),
                name: card.node.data.name.clone(),
                connection: card.node.model.config.clone(),
                inputs,
                attempt: state.attempt,
            }),
            Some(CardImpl::Control(control)) => {
                self.control(state, flow, card, control, inputs, &ids, now)
            }
        }
    }

    /// Gives a connector card's result back to the run.
    pub fn complete(
        &self,
        state: &mut RunState,
        result: Result<Outputs, ConnectorError>,
        now: OffsetDateTime,
    ) -> StepOutcome {
        let Some(frame) = state.frames.last() else {
            return self.fail_run(state, RunError::limit("the run has no frame".into()));
        };
        let Some(flow) = self.program.flow(&frame.flow) else {
            return self.fail_run(state, RunError::limit("the run's flow is gone".into()));
        };
        let Some(Instr::Card(uuid)) = flow.instrs.get(frame.pc) else {
            return self.fail_run(
                state,
                RunError::limit("no connector card is running".into()),
            );
        };
        let Some(card) = flow.card(uuid) else {
            return self.fail_run(state, RunError::limit(format!("no card {uuid}")));
        };
        match result {
            Ok(outputs) => {
                let (inputs, _) = self.resolve(flow, frame, card, now);
                self.done_card(state, flow, card, &inputs, outputs)
            }
            Err(e) => self.card_failed(
                state,
                Failure {
                    message: e.message,
                    status: e.status,
                    diagnosis: e.diagnosis,
                },
                now,
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn control(
        &self,
        state: &mut RunState,
        flow: &Compiled,
        card: &Card,
        control: Control,
        inputs: Inputs,
        ids: &[String],
        now: OffsetDateTime,
    ) -> StepOutcome {
        match control {
            Control::Noop | Control::Comment => {
                self.done_card(state, flow, card, &inputs, Outputs::new())
            }
            Control::Let => {
                let outputs = Self::mirrored(&inputs);
                self.done_card(state, flow, card, &inputs, outputs)
            }
            // Reached only when an If is not planned as one (it then runs no lane).
            Control::If => match inputs.condition(None) {
                Ok(holds) => {
                    let outputs = Outputs::one("result", Value::Bool(holds));
                    self.done_card(state, flow, card, &inputs, outputs)
                }
                Err(e) => self.card_failed(state, e.into(), now),
            },
            Control::Join => {
                let mut outputs = Outputs::new();
                for (input_id, targets) in &card.joins {
                    let Some(at) = ids.iter().position(|id| id == input_id) else {
                        continue;
                    };
                    let value = inputs.fields[at].value.clone();
                    for target in targets {
                        if let Some(out) = card.node.model.outputs.data.get(&target.output) {
                            outputs =
                                outputs.with_in(out.group.as_deref(), &out.key, value.clone());
                        }
                    }
                }
                self.done_card(state, flow, card, &inputs, outputs)
            }
            Control::ContinueIf => match inputs.condition(None) {
                Ok(true) => self.done_card(state, flow, card, &inputs, Outputs::new()),
                Ok(false) => {
                    let message = inputs.get_in("otherwise", "message").clone();
                    let record =
                        self.store(state, flow, card, &inputs, Outputs::one("message", message));
                    self.end_with_record(state, record, FrameEnd::Quiet, now)
                }
                Err(e) => self.card_failed(state, e.into(), now),
            },
            Control::Return => {
                let mut returned = Map::new();
                for f in inputs.fields.iter().filter(|f| f.group.is_none()) {
                    returned.insert(f.key.clone(), f.value.clone());
                }
                let outputs = Self::mirrored(&inputs);
                let record = self.store(state, flow, card, &inputs, outputs);
                self.end_with_record(state, record, FrameEnd::Returned(returned), now)
            }
            Control::ReturnRaw => {
                let status = to_number(inputs.get("statusCode"))
                    .filter(|n| *n > 0.0)
                    .unwrap_or(200.0);
                let raw = serde_json::json!({
                    "statusCode": status as u16,
                    "headers": inputs.get("headers"),
                    "body": inputs.get("body"),
                });
                let record = self.store(state, flow, card, &inputs, Outputs::new());
                self.end_with_record(state, record, FrameEnd::Raw(raw), now)
            }
            Control::ThrowIf | Control::Throw => {
                let holds = if control == Control::Throw {
                    Ok(true)
                } else {
                    inputs.condition(None)
                };
                match holds {
                    Ok(false) => self.done_card(state, flow, card, &inputs, Outputs::new()),
                    Ok(true) => {
                        let message = match to_text(inputs.get("message")) {
                            m if m.is_empty() => "the flow returned an error".to_string(),
                            m => m,
                        };
                        let status = to_number(inputs.get("statusCode"))
                            .filter(|n| *n >= 100.0 && *n < 600.0)
                            .map(|n| n as u16)
                            .or(Some(400));
                        // Return Error is meant to fail: no retry, whatever its status.
                        let failure = Failure {
                            message,
                            status,
                            diagnosis: None,
                        };
                        self.fail_no_retry(state, failure, now)
                    }
                    Err(e) => self.card_failed(state, e.into(), now),
                }
            }
            Control::CallFlow { wait } => {
                let helper = match card.helper() {
                    Some(FlowRef::Named(id)) => id,
                    _ => {
                        let failure = Failure {
                            message: "Call Flow names no helper flow".into(),
                            status: None,
                            diagnosis: None,
                        };
                        return self.card_failed(state, failure, now);
                    }
                };
                let Some(compiled) = self.program.flow(&helper) else {
                    let failure = Failure {
                        message: format!("helper flow {helper} is not in this flopack"),
                        status: None,
                        diagnosis: None,
                    };
                    return self.card_failed(state, failure, now);
                };
                let passed: Vec<(String, Value)> = card
                    .helper_inputs()
                    .into_iter()
                    .map(|h| {
                        let at = ids.iter().position(|id| *id == h.input_id);
                        let value = at.map_or(Value::Null, |i| inputs.fields[i].value.clone());
                        (h.key, value)
                    })
                    .collect();
                if !wait {
                    let input: Map<String, Value> = passed.into_iter().collect();
                    state.spawned.push(Spawn {
                        flow: helper,
                        input: Value::Object(input),
                    });
                    return self.done_card(state, flow, card, &inputs, Outputs::new());
                }
                let parent = serde_json::json!({
                    "id": flow.name, "method": card.node.data.name, "execution_id": state.execution,
                });
                let seed = move |group: Option<&str>, key: &str| match group {
                    None => passed
                        .iter()
                        .find(|(k, _)| k == key)
                        .map_or(Value::Null, |(_, v)| v.clone()),
                    Some("context") if key == "parent" => parent.clone(),
                    _ => Value::Null,
                };
                state.push_frame(compiled, &helper, Role::Call, &seed);
                StepOutcome::Progress(Vec::new())
            }
            Control::Branch => {
                for arm in card.branch_arms() {
                    let holds = if arm.is_else {
                        true
                    } else {
                        match inputs.condition(Some(&arm.group)) {
                            Ok(h) => h,
                            Err(e) => return self.card_failed(state, e.into(), now),
                        }
                    };
                    if !holds {
                        continue;
                    }
                    let Some(field) = card.node.model.inputs.by_key(Some(&arm.group), "flo") else {
                        continue;
                    };
                    let key = format!("{}/{}/{}", flow_key(state), card.uuid, field.id);
                    return self.enter_block(state, card, &inputs, ids, &key, Role::Arm, None);
                }
                self.done_card(state, flow, card, &inputs, Outputs::new())
            }
            Control::TryCatch => {
                let Some(field) = card.node.model.inputs.by_key(None, "flo") else {
                    let failure = Failure {
                        message: "If Error has no Try block".into(),
                        status: None,
                        diagnosis: None,
                    };
                    return self.card_failed(state, failure, now);
                };
                let key = format!("{}/{}/{}", flow_key(state), card.uuid, field.id);
                self.enter_block(state, card, &inputs, ids, &key, Role::Try, None)
            }
            Control::Iterate(kind) => self.iterate(state, flow, card, kind, inputs, ids, now),
        }
    }

    /// Pushes an inline block whose callable takes the container's wormhole values (and, for
    /// If Error, `context.error`).
    #[allow(clippy::too_many_arguments)]
    fn enter_block(
        &self,
        state: &mut RunState,
        card: &Card,
        inputs: &Inputs,
        ids: &[String],
        key: &str,
        role: Role,
        error: Option<Value>,
    ) -> StepOutcome {
        let Some(compiled) = self.program.flow(key) else {
            let message = format!(
                "the block {key} of card {:?} is missing",
                card.node.data.name
            );
            return self.fail_run(state, RunError::limit(message));
        };
        let wormholes: Vec<(String, Value)> = card
            .wormholes()
            .into_iter()
            .filter(|w| w.callable == compiled.root)
            .map(|w| {
                let at = ids.iter().position(|id| *id == w.input_id);
                let value = at.map_or(Value::Null, |i| inputs.fields[i].value.clone());
                (w.key, value)
            })
            .collect();
        let seed = move |group: Option<&str>, k: &str| match group {
            Some("context") if k == "error" && error.is_some() => {
                error.clone().unwrap_or(Value::Null)
            }
            Some("context") => wormholes
                .iter()
                .find(|(w, _)| w == k)
                .map_or(Value::Null, |(_, v)| v.clone()),
            _ => Value::Null,
        };
        state.push_frame(compiled, key, role, &seed);
        StepOutcome::Progress(Vec::new())
    }

    #[allow(clippy::too_many_arguments)]
    fn iterate(
        &self,
        state: &mut RunState,
        flow: &Compiled,
        card: &Card,
        kind: Iteration,
        inputs: Inputs,
        ids: &[String],
        now: OffsetDateTime,
    ) -> StepOutcome {
        let iterating = match state.frames.last().and_then(|f| f.iterating.clone()) {
            Some(it) => it,
            None => match inputs.list("list") {
                Ok(items) => Iterating {
                    items,
                    index: 0,
                    results: Vec::new(),
                    memo: inputs.get("memo").clone(),
                    failed: 0,
                },
                Err(e) => return self.card_failed(state, e.into(), now),
            },
        };
        if iterating.index >= iterating.items.len() {
            let result = match kind {
                Iteration::Each | Iteration::EachIgnoringErrors => None,
                Iteration::Map | Iteration::Filter => Some(Value::Array(iterating.results)),
                Iteration::Reduce => Some(iterating.memo),
            };
            let mut outputs = Outputs::new();
            if let Some(result) = result {
                let preferred = if kind == Iteration::Reduce {
                    "item"
                } else {
                    "list"
                };
                let out = card
                    .node
                    .model
                    .outputs
                    .by_key(None, preferred)
                    .or_else(|| card.node.model.outputs.ordered().into_iter().next());
                if let Some(out) = out {
                    outputs = outputs.with_in(out.group.as_deref(), &out.key, result);
                }
            }
            return self.done_card(state, flow, card, &inputs, outputs);
        }
        let helper = match card.helper() {
            Some(FlowRef::Named(id)) => id,
            // An inline body (the For Each of an event card): compiled as a block of this flow.
            Some(FlowRef::Embedded(_)) => {
                let frame_flow = state.frames.last().map(|f| f.flow.clone());
                match (frame_flow, card.node.model.inputs.by_key(None, "flo")) {
                    (Some(key), Some(field)) => format!("{key}/{}/{}", card.uuid, field.id),
                    _ => {
                        let failure = Failure {
                            message: "the list card's inline flow cannot be found".into(),
                            status: None,
                            diagnosis: None,
                        };
                        return self.card_failed(state, failure, now);
                    }
                }
            }
            _ => {
                let failure = Failure {
                    message: "the list card names no helper flow".into(),
                    status: None,
                    diagnosis: None,
                };
                return self.card_failed(state, failure, now);
            }
        };
        let Some(compiled) = self.program.flow(&helper) else {
            let failure = Failure {
                message: format!("helper flow {helper} is not in this flopack"),
                status: None,
                diagnosis: None,
            };
            return self.card_failed(state, failure, now);
        };
        let item = iterating.items[iterating.index].clone();
        let index = iterating.index;
        let mut passed: Vec<(String, Value)> = Vec::new();
        for h in card.helper_inputs() {
            let own = || {
                ids.iter()
                    .position(|id| *id == h.input_id)
                    .map_or(Value::Null, |i| inputs.fields[i].value.clone())
            };
            let (key, value) = match &h.proxy {
                Some(p) if p.dynamic => {
                    let path = p.path.as_deref().unwrap_or("");
                    let value = get_path(&item, path).cloned().unwrap_or(Value::Null);
                    let key = if p.dest_key.is_empty() {
                        h.key.clone()
                    } else {
                        p.dest_key.clone()
                    };
                    (key, value)
                }
                Some(p) if !p.dest_key.is_empty() => (p.dest_key.clone(), own()),
                _ => (h.key.clone(), own()),
            };
            passed.push((key, value));
        }
        if kind == Iteration::Reduce {
            passed.retain(|(k, _)| k != "memo");
            passed.push(("memo".into(), iterating.memo.clone()));
        }
        // The event wrapper's helper reads `Output.*` of each item.
        let whole_item = item.clone();
        let seed = move |group: Option<&str>, key: &str| match group {
            None => passed
                .iter()
                .find(|(k, _)| k == key)
                .map_or(Value::Null, |(_, v)| v.clone()),
            Some("context") if key == "index" => Value::from(index),
            Some(g) => whole_item
                .get(g)
                .and_then(|v| v.get(key))
                .cloned()
                .unwrap_or(Value::Null),
        };
        if let Some(frame) = state.frames.last_mut() {
            frame.iterating = Some(iterating);
        }
        state.push_frame(compiled, &helper, Role::Item, &seed);
        StepOutcome::Progress(Vec::new())
    }

    fn end_with_record(
        &self,
        state: &mut RunState,
        record: StepRecord,
        end: FrameEnd,
        now: OffsetDateTime,
    ) -> StepOutcome {
        prepend(record, self.end_frame(state, end, now))
    }

    /// Pops the top frame and gives its end to the card that pushed it (or ends the run).
    fn end_frame(&self, state: &mut RunState, end: FrameEnd, now: OffsetDateTime) -> StepOutcome {
        let Some(frame) = state.frames.pop() else {
            return self.fail_run(state, RunError::limit("the run has no frame".into()));
        };
        if frame.role == Role::Root {
            let finish = match end {
                FrameEnd::Returned(values) => Finish {
                    succeeded: true,
                    output: Value::Object(values),
                    raw: false,
                    error: None,
                },
                FrameEnd::Raw(raw) => Finish {
                    succeeded: true,
                    output: raw,
                    raw: true,
                    error: None,
                },
                FrameEnd::Quiet => Finish {
                    succeeded: true,
                    output: Value::Null,
                    raw: false,
                    error: None,
                },
                FrameEnd::Failed(error) => Finish {
                    succeeded: false,
                    output: Value::Null,
                    raw: false,
                    error: Some(error),
                },
            };
            return self.finish(state, finish);
        }
        // The container card in the frame below.
        let Some(parent) = state.frames.last() else {
            return self.fail_run(state, RunError::limit("a block without its flow".into()));
        };
        let Some(flow) = self.program.flow(&parent.flow) else {
            return self.fail_run(state, RunError::limit("the run's flow is gone".into()));
        };
        let Some(Instr::Card(uuid)) = flow.instrs.get(parent.pc) else {
            return self.fail_run(state, RunError::limit("a block without its card".into()));
        };
        let Some(card) = flow.card(uuid) else {
            return self.fail_run(state, RunError::limit(format!("no card {uuid}")));
        };
        let (inputs, ids) = self.resolve(flow, parent, card, now);
        let returned = match end {
            FrameEnd::Returned(values) => values,
            FrameEnd::Raw(Value::Object(raw)) => raw,
            FrameEnd::Raw(_) | FrameEnd::Quiet => Map::new(),
            FrameEnd::Failed(error) => {
                return match frame.role {
                    Role::Try => {
                        let context = error.as_context(&flow.name, &state.execution);
                        let key = format!("{}/{}/error", parent.flow, card.uuid);
                        self.enter_block(
                            state,
                            card,
                            &inputs,
                            &ids,
                            &key,
                            Role::Catch,
                            Some(context),
                        )
                    }
                    Role::Item
                        if matches!(
                            self.registry.lookup(card),
                            Some(CardImpl::Control(Control::Iterate(
                                Iteration::EachIgnoringErrors
                            )))
                        ) =>
                    {
                        if let Some(it) = state.frames.last_mut().and_then(|f| f.iterating.as_mut())
                        {
                            it.index += 1;
                            it.failed += 1;
                        }
                        StepOutcome::Progress(Vec::new())
                    }
                    _ => self.card_failed(
                        state,
                        Failure {
                            message: error.message,
                            status: error.status_code,
                            diagnosis: error.diagnosis,
                        },
                        now,
                    ),
                };
            }
        };
        if frame.role == Role::Item {
            let kind = match self.registry.lookup(card) {
                Some(CardImpl::Control(Control::Iterate(kind))) => *kind,
                _ => Iteration::Each,
            };
            if let Some(it) = state.frames.last_mut().and_then(|f| f.iterating.as_mut()) {
                let value = single(&returned);
                match kind {
                    Iteration::Map => it.results.push(value),
                    Iteration::Filter => {
                        if to_bool(&value) {
                            let item = it.items.get(it.index).cloned().unwrap_or(Value::Null);
                            it.results.push(item);
                        }
                    }
                    Iteration::Reduce => it.memo = value,
                    Iteration::Each | Iteration::EachIgnoringErrors => {}
                }
                it.index += 1;
            }
            return StepOutcome::Progress(Vec::new());
        }
        // Call Flow, an If/ElseIf arm, a Try or If Error block: outputs by key.
        let mut outputs = Outputs::new();
        for out in card.node.model.outputs.ordered() {
            if out.group.is_none() {
                if let Some(v) = returned.get(&out.key) {
                    outputs = outputs.with(&out.key, v.clone());
                }
            }
        }
        self.done_card(state, flow, card, &inputs, outputs)
    }

    fn fail_no_retry(
        &self,
        state: &mut RunState,
        failure: Failure,
        now: OffsetDateTime,
    ) -> StepOutcome {
        state.attempt = u32::MAX;
        self.card_failed(state, failure, now)
    }

    /// The card at the top frame failed: retry, or apply its error policy, or unwind.
    fn card_failed(
        &self,
        state: &mut RunState,
        failure: Failure,
        now: OffsetDateTime,
    ) -> StepOutcome {
        let Some(frame) = state.frames.last() else {
            return self.fail_run(state, RunError::limit("the run has no frame".into()));
        };
        let Some(flow) = self.program.flow(&frame.flow) else {
            return self.fail_run(state, RunError::limit("the run's flow is gone".into()));
        };
        let uuid = match flow.instrs.get(frame.pc) {
            Some(Instr::Card(uuid)) | Some(Instr::If { uuid, .. }) => uuid,
            _ => return self.fail_run(state, RunError::limit(failure.message)),
        };
        let Some(card) = flow.card(uuid) else {
            return self.fail_run(state, RunError::limit(format!("no card {uuid}")));
        };
        let (inputs, _) = self.resolve(flow, frame, card, now);
        let policy = &card.node.model.policy.error;
        let record = StepRecord {
            flow: flow.name.clone(),
            card: card.uuid.clone(),
            name: card.node.data.name.clone(),
            card_key: card.address.card_key().to_string(),
            depth: state.frames.len().saturating_sub(1),
            succeeded: false,
            inputs: by_path(
                inputs
                    .fields
                    .iter()
                    .map(|f| (&f.group, f.key.as_str(), &f.value)),
            ),
            outputs: Value::Object(Map::new()),
            error: Some(failure.message.clone()),
        };
        let retryable = failure
            .status
            .is_some_and(|s| s == 429 || (500..600).contains(&s));
        let attempt = state.attempt;
        if retryable && attempt != u32::MAX && attempt < policy.retry.unwrap_or(0) {
            state.attempt = attempt + 1;
            return StepOutcome::Retry {
                delay_ms: backoff(policy.delay.as_ref(), attempt),
                record,
            };
        }
        state.attempt = 0;
        let error = RunError {
            message: failure.message,
            card: Some(card.uuid.clone()),
            card_name: Some(card.node.data.name.clone()),
            status_code: failure.status,
            diagnosis: failure.diagnosis,
        };
        match policy.kind.as_str() {
            // A Steward extension: record the failure and go on with empty outputs.
            "continue" => {
                state.seq += 1;
                let seq = state.seq;
                if let Some(frame) = state.frames.last_mut() {
                    frame.values.insert(
                        card.uuid.clone(),
                        CardValues {
                            seq,
                            outputs: BTreeMap::new(),
                        },
                    );
                }
                Self::advance(state);
                StepOutcome::Progress(vec![record])
            }
            // Halt, giving the caller the card's custom values.
            "return" => {
                let mut values = Map::new();
                for f in inputs
                    .fields
                    .iter()
                    .filter(|f| f.group.is_none() && f.custom)
                {
                    values.insert(f.key.clone(), f.value.clone());
                }
                if state.frames.len() == 1 {
                    let finish = Finish {
                        succeeded: false,
                        output: Value::Object(values),
                        raw: false,
                        error: Some(error),
                    };
                    self.finish(state, finish);
                    return StepOutcome::Progress(vec![record]);
                }
                self.end_with_record(state, record, FrameEnd::Returned(values), now)
            }
            kind => {
                if kind == "flo" {
                    if let Some(FlowRef::Named(helper)) = policy.flow_ref() {
                        let mut input = Map::new();
                        for f in inputs
                            .fields
                            .iter()
                            .filter(|f| f.group.is_none() && f.custom)
                        {
                            input.insert(f.key.clone(), f.value.clone());
                        }
                        input.insert(
                            "context".into(),
                            serde_json::json!({"error": error.as_context(&flow.name, &state.execution)}),
                        );
                        state.spawned.push(Spawn {
                            flow: helper,
                            input: Value::Object(input),
                        });
                    }
                }
                prepend(record, self.end_frame(state, FrameEnd::Failed(error), now))
            }
        }
    }
}

/// The card's record first, then those of what its end caused. A run that ended at this card
/// is still `done` in the state: the driver records the card, then the next step finishes.
fn prepend(record: StepRecord, outcome: StepOutcome) -> StepOutcome {
    match outcome {
        StepOutcome::Progress(mut records) => {
            records.insert(0, record);
            StepOutcome::Progress(records)
        }
        StepOutcome::Finished(_) => StepOutcome::Progress(vec![record]),
        other => other,
    }
}

fn flow_key(state: &RunState) -> String {
    state
        .frames
        .last()
        .map(|f| f.flow.clone())
        .unwrap_or_default()
}

/// Milliseconds before retry `attempt` (0-based): the policy's delay (or the low end of its
/// range), doubled per attempt, within the range's high end when there is one; 1 s by default.
fn backoff(delay: Option<&Value>, attempt: u32) -> u64 {
    let (base, cap) = match delay {
        Some(Value::Number(n)) => (n.as_u64().unwrap_or(1000), None),
        Some(Value::Array(range)) => {
            let low = range.first().and_then(Value::as_u64).unwrap_or(1000);
            (low, range.get(1).and_then(Value::as_u64))
        }
        _ => (1000, None),
    };
    let delay = base.saturating_mul(1u64 << attempt.min(16));
    cap.map_or(delay, |c| delay.min(c.max(base)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_doubles_within_the_range() {
        assert_eq!(backoff(None, 0), 1000);
        assert_eq!(backoff(Some(&json!(200)), 2), 800);
        assert_eq!(backoff(Some(&json!([100, 250])), 0), 100);
        assert_eq!(backoff(Some(&json!([100, 250])), 3), 250);
    }

    #[test]
    fn secrets_are_redacted_in_records() {
        let mut v =
            json!({"headers": {"Authorization": "SSWS x", "Accept": "json"}, "clientToken": "t"});
        redact(&mut v);
        assert_eq!(
            v,
            json!({"headers": {"Authorization": "[redacted]", "Accept": "json"}, "clientToken": "[redacted]"})
        );
    }

    #[test]
    fn transforms_convert_as_their_names_say() {
        let t = |c: &str| Transform {
            convert: Some(c.into()),
            force_wrap_array: None,
            dest: None,
            extra: Default::default(),
        };
        assert_eq!(apply_transform(json!(3), &t("toString")), json!("3"));
        assert_eq!(apply_transform(json!("2.5"), &t("parseFloat")), json!(2.5));
        assert_eq!(
            apply_transform(json!("{\"a\":1}"), &t("parse")),
            json!({"a": 1})
        );
        assert_eq!(
            apply_transform(json!({"a": 1}), &t("stringify")),
            json!("{\"a\":1}")
        );
        assert_eq!(apply_transform(json!("x"), &t("wrapArray")), json!(["x"]));
        assert_eq!(
            apply_transform(json!("2025-03-20"), &t("dateTime")),
            json!("2025-03-20T00:00:00.000Z")
        );
    }
}
