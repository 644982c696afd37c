//! Importing a `.flopack`: parse it, resolve helper flows, connections and tables by id, plan
//! each flow, and report card by card what Steward can run and why not (never a silent skip).

use serde::Serialize;
use serde_json::Value;

use crate::address::Address;
use crate::model::{Card, Flopack, FlowData, FlowRef};
use crate::plan::Plan;
use crate::registry::{CardImpl, CardRegistry, Control, Trigger};

#[derive(Debug, thiserror::Error)]
pub enum FlopackError {
    #[error("not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("not a flopack (its type is {0:?})")]
    NotAFlopack(String),
    #[error("a flopack whose structure Steward cannot read: {0}")]
    Malformed(serde_json::Error),
    #[error("cannot write the flopack: {0}")]
    Write(serde_json::Error),
}

pub type ImportError = FlopackError;

/// A flopack and its report.
#[derive(Debug, Clone)]
pub struct Import {
    pub flopack: Flopack,
    pub report: Report,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub version: String,
    /// Top-level flows, then the inline blocks embedded in their cards.
    pub flows: Vec<FlowReport>,
    pub connections: Vec<ConnectionReport>,
    pub tables: Vec<TableReport>,
    pub folders: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    Helper,
    Scheduled,
    ApiEndpoint,
    Delegated,
    /// Started by a connector event (Okta's User Created, …).
    Event,
    /// No trigger: run by hand only.
    Manual,
    /// An inline block (If/ElseIf lane, Try or If Error block, event wrapper body).
    Block,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowReport {
    pub id: String,
    pub name: String,
    pub kind: FlowKind,
    /// For an inline block: the flow and card that hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
    /// Problems of the flow as a whole (its ordering graph, its pins).
    pub problems: Vec<String>,
    /// In execution order when the flow plans, else in file order.
    pub cards: Vec<CardReport>,
}

impl FlowReport {
    pub fn runnable(&self) -> bool {
        self.problems.is_empty() && self.cards.iter().all(|c| c.status != Status::Unsupported)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Function,
    Control,
    Trigger,
    /// A connector action, run through the card's connection.
    Connector,
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardReport {
    pub uuid: String,
    /// The title on the card.
    pub name: String,
    /// The card type without its version (`kernel:string:compose`, `okta:hTTPRequest`).
    pub card: String,
    pub address: String,
    pub status: Status,
    /// What the engine does with a control card or trigger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<Named>,
    /// Helper flows it calls, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Named>,
    /// Why it cannot run (empty when it can).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// A connection placeholder and the cards that use it: on import each is mapped, by name, to
/// a connection of this Steward.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionReport {
    pub id: String,
    pub name: String,
    pub connector: String,
    pub cards: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableReport {
    pub id: String,
    pub name: String,
    pub columns: Vec<String>,
}

impl Report {
    /// Every card of every flow can run.
    pub fn runnable(&self) -> bool {
        self.flows.iter().all(FlowReport::runnable)
    }

    pub fn cards(&self) -> impl Iterator<Item = &CardReport> {
        self.flows.iter().flat_map(|f| f.cards.iter())
    }

    pub fn unsupported(&self) -> impl Iterator<Item = (&FlowReport, &CardReport)> {
        self.flows.iter().flat_map(|f| {
            f.cards
                .iter()
                .filter(|c| c.status == Status::Unsupported)
                .map(move |c| (f, c))
        })
    }
}

/// Reads a `.flopack` and reports on it with the standard registry.
pub fn import(bytes: &[u8]) -> Result<Import, ImportError> {
    import_with(bytes, &CardRegistry::standard())
}

pub fn import_with(bytes: &[u8], registry: &CardRegistry) -> Result<Import, ImportError> {
    let value: Value = serde_json::from_slice(bytes).map_err(FlopackError::NotJson)?;
    let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
    if kind != "flopack" {
        return Err(FlopackError::NotAFlopack(kind.to_string()));
    }
    let flopack: Flopack = serde_json::from_slice(bytes).map_err(FlopackError::Malformed)?;
    let report = report(&flopack, registry);
    Ok(Import { flopack, report })
}

/// The flopack as Okta writes it (keys sorted, indented): it imports again unchanged.
pub fn export(flopack: &Flopack) -> Result<Vec<u8>, FlopackError> {
    let mut bytes = serde_json::to_vec_pretty(flopack).map_err(FlopackError::Write)?;
    bytes.push(b'\n');
    Ok(bytes)
}

pub fn report(flopack: &Flopack, registry: &CardRegistry) -> Report {
    let mut flows: Vec<&crate::model::Flow> = flopack.data.flos.values().collect();
    flows.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let mut reporter = Reporter {
        flopack,
        registry,
        flows: Vec::new(),
        blocks: Vec::new(),
    };
    for flow in flows {
        let mut problems = Vec::new();
        if flow.id != flow.data.uuid {
            problems.push(format!(
                "its id {} differs from its uuid {}",
                flow.id, flow.data.uuid
            ));
        }
        let report = reporter.flow(&flow.id, &flow.name, &flow.data, None, problems);
        reporter.flows.push(report);
    }
    let Reporter {
        mut flows, blocks, ..
    } = reporter;
    flows.extend(blocks);
    let connections = flopack
        .data
        .configs
        .values()
        .map(|c| ConnectionReport {
            id: c.id.clone(),
            name: c.name.clone(),
            connector: c.module.clone(),
            cards: flows
                .iter()
                .flat_map(|f| &f.cards)
                .filter(|card| card.connection.as_ref().is_some_and(|n| n.id == c.id))
                .count(),
        })
        .collect();
    let tables = flopack
        .data
        .tables
        .values()
        .map(|t| TableReport {
            id: t.id.clone(),
            name: t.name.clone(),
            columns: t.data.structure.iter().map(|c| c.name.clone()).collect(),
        })
        .collect();
    Report {
        version: flopack.version.clone(),
        flows,
        connections,
        tables,
        folders: flopack.data.groups.len(),
    }
}

struct Reporter<'a> {
    flopack: &'a Flopack,
    registry: &'a CardRegistry,
    flows: Vec<FlowReport>,
    blocks: Vec<FlowReport>,
}

impl Reporter<'_> {
    fn flow(
        &mut self,
        id: &str,
        name: &str,
        data: &FlowData,
        within: Option<String>,
        mut problems: Vec<String>,
    ) -> FlowReport {
        let plan = Plan::of(data);
        let order: Vec<&Card> = match &plan {
            Ok(plan) => plan.order().iter().filter_map(|u| data.card(u)).collect(),
            Err(e) => {
                problems.push(format!("its cards cannot be ordered: {e}"));
                data.methods.iter().collect()
            }
        };
        problems.extend(pin_problems(data));
        let kind = match (&within, plan.as_ref().ok().and_then(|p| data.card(&p.root))) {
            (Some(_), _) => FlowKind::Block,
            (None, None) => FlowKind::Unknown,
            (None, Some(root)) => flow_kind(data, root),
        };
        let cards = order
            .into_iter()
            .map(|card| self.card(name, card))
            .collect();
        FlowReport {
            id: id.to_string(),
            name: name.to_string(),
            kind,
            within,
            problems,
            cards,
        }
    }

    fn card(&mut self, flow_name: &str, card: &Card) -> CardReport {
        let mut reasons = Vec::new();
        let (status, role) = match self.registry.lookup(card) {
            Some(CardImpl::Function(_)) => (Status::Function, None),
            Some(CardImpl::Control(c)) => (Status::Control, Some(control_role(*c))),
            Some(CardImpl::Trigger(t)) => (Status::Trigger, Some(trigger_role(*t))),
            Some(CardImpl::Connector) => {
                reasons.extend(self.registry.check(card));
                (Status::Connector, Some("connector action".into()))
            }
            None => {
                reasons.push(missing(&card.address));
                (Status::Unsupported, None)
            }
        };
        let connection =
            card.node
                .model
                .config
                .as_ref()
                .map(|id| match self.flopack.data.configs.get(id) {
                    Some(c) => Named {
                        id: id.clone(),
                        name: c.name.clone(),
                    },
                    None => {
                        reasons.push(format!("its connection {id} is not in this flopack"));
                        Named {
                            id: id.clone(),
                            name: String::new(),
                        }
                    }
                });
        let mut calls = Vec::new();
        let mut embedded = Vec::new();
        let inputs = card.node.model.inputs.ordered();
        let refs = inputs
            .iter()
            .filter_map(|f| f.flow_ref().map(|r| (f.path(), r)))
            .chain(
                card.node
                    .model
                    .policy
                    .error
                    .flow_ref()
                    .map(|r| ("If Error".to_string(), r)),
            );
        for (label, flow_ref) in refs {
            match flow_ref {
                FlowRef::Named(uuid) => match self.flopack.data.flos.get(&uuid) {
                    Some(flow) => calls.push(Named {
                        id: uuid,
                        name: flow.name.clone(),
                    }),
                    None => reasons.push(format!(
                        "{label} calls flow {uuid}, which is not in this flopack"
                    )),
                },
                FlowRef::Embedded(flow) => embedded.push((label, flow)),
                FlowRef::Invalid(why) => reasons.push(format!("{label}: {why}")),
            }
        }
        for field in inputs {
            if field.group.as_deref() == Some("parameters") && field.key == "stash" {
                if let Some(table) = field.value.data.as_str() {
                    if !self.flopack.data.tables.contains_key(table) {
                        reasons.push(format!("its table {table} is not in this flopack"));
                    }
                }
            }
        }
        for (label, flow) in embedded {
            let within = format!(
                "{flow_name} › {} ({}) › {label}",
                card.node.data.name, card.uuid
            );
            let block_name = format!("{} › {label}", card.node.data.name);
            let report = self.flow(&flow.uuid, &block_name, &flow, Some(within), Vec::new());
            self.blocks.push(report);
        }
        let status = if reasons.is_empty() {
            status
        } else {
            Status::Unsupported
        };
        CardReport {
            uuid: card.uuid.clone(),
            name: card.node.data.name.clone(),
            card: card.address.card_key().to_string(),
            address: card.address.to_string(),
            status,
            role,
            connection,
            calls,
            reasons,
        }
    }
}

fn missing(address: &Address) -> String {
    match address {
        Address::Kernel { module, key, .. } => {
            format!("Steward has no {module}:{key} card yet")
        }
        Address::Connector {
            connector, action, ..
        } => format!("Steward has no {action} card of the {connector} connector yet"),
        Address::Other(text) => format!("{text:?} is not a card address"),
    }
}

fn control_role(control: Control) -> String {
    let role = match control {
        Control::Noop => "does nothing",
        Control::Comment => "comment",
        Control::Let => "assigns values",
        Control::If => "if/else",
        Control::Join => "closes an if/else",
        Control::Branch => "if/else-if over inline blocks",
        Control::ContinueIf => "stops quietly unless its condition holds",
        Control::TryCatch => "runs a block and its If Error block",
        Control::Return => "returns values to the caller",
        Control::ReturnRaw => "returns an HTTP response",
        Control::ThrowIf => "fails the flow if its condition holds",
        Control::Throw => "fails the flow",
        Control::CallFlow { wait: true } => "calls a helper flow and waits",
        Control::CallFlow { wait: false } => "starts a helper flow",
        Control::Iterate(_) => "runs a helper flow per item",
    };
    role.to_string()
}

fn trigger_role(trigger: Trigger) -> String {
    match trigger {
        Trigger::Callable => "helper or scheduled flow trigger",
        Trigger::ApiEndpoint => "API endpoint trigger",
        Trigger::Delegated => "delegated flow trigger",
        Trigger::Event => "event trigger (started once per matching event)",
    }
    .to_string()
}

fn flow_kind(data: &FlowData, root: &Card) -> FlowKind {
    match root.address.card_key().as_str() {
        "kernel:control:callable" if data.scheduled == Some(true) => FlowKind::Scheduled,
        "kernel:control:callable" => FlowKind::Helper,
        "kernel:http:accept" => FlowKind::ApiEndpoint,
        "kernel:http:delegated" => FlowKind::Delegated,
        "kernel:control:noop" => FlowKind::Manual,
        _ if root.node.model.webhook == Some(true) => FlowKind::Event,
        _ => FlowKind::Unknown,
    }
}

/// Every pin must land on a card of the same flow and on one of its inputs.
fn pin_problems(data: &FlowData) -> Vec<String> {
    let mut problems = Vec::new();
    for card in &data.methods {
        for (output, targets) in &card.pins {
            if !card.node.model.outputs.data.contains_key(output) {
                problems.push(format!(
                    "card {} wires output {output}, which it does not have",
                    card.uuid
                ));
            }
            for (target, pins) in targets {
                let Some(target_card) = data.card(target) else {
                    problems.push(format!(
                        "card {} wires output {output} to card {target}, which is not in the flow",
                        card.uuid
                    ));
                    continue;
                };
                for pin in pins {
                    let inputs = &target_card.node.model.inputs.data;
                    if !inputs.contains_key(&pin.input) {
                        problems.push(format!(
                            "card {} wires output {output} to input {} of card {target}, which it does not have",
                            card.uuid, pin.input
                        ));
                    }
                }
            }
        }
    }
    problems
}
