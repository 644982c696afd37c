//! A readable, diff-friendly rendering of a flopack for review and version control: one block
//! per card, in execution order, If/Else lanes indented, keys and fields in a stable order.
//! It is for people; the `.flopack` written by [`export`](crate::export) is what imports.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use crate::model::{Card, Field, Flopack, FlowData, FlowRef};
use crate::plan::{Plan, Step};

pub fn readable(flopack: &Flopack) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "flopack {}", flopack.version);
    for folder in flopack.data.groups.values() {
        let _ = writeln!(out, "folder {} {:?}", folder.id, folder.data.name);
    }
    for table in flopack.data.tables.values() {
        let columns: Vec<String> = table
            .data
            .structure
            .iter()
            .map(|c| format!("{:?} {}", c.name, c.kind))
            .collect();
        let _ = writeln!(
            out,
            "table {} {:?}: {}",
            table.id,
            table.name,
            columns.join(", ")
        );
    }
    for connection in flopack.data.configs.values() {
        let _ = writeln!(
            out,
            "connection {} {:?} ({})",
            connection.id, connection.name, connection.module
        );
    }
    let mut flows: Vec<_> = flopack.data.flos.values().collect();
    flows.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    for flow in flows {
        let _ = writeln!(out, "\nflow {} {:?}", flow.id, flow.name);
        if !flow.description.is_empty() {
            let _ = writeln!(out, "  description: {:?}", flow.description);
        }
        if flow.data.scheduled == Some(true) {
            if let Some(cron) = &flow.data.cron {
                let _ = writeln!(
                    out,
                    "  schedule: {:?} {}",
                    cron.expression(),
                    cron.time_zone.as_deref().unwrap_or("UTC")
                );
            }
        }
        if let Some(level) = &flow.data.security_level {
            let _ = writeln!(out, "  security: {level}");
        }
        let _ = writeln!(
            out,
            "  save history: {}",
            if flow.data.log { "on" } else { "off" }
        );
        render_flow(&mut out, &flow.data, 1);
    }
    out
}

fn indent(depth: usize) -> String {
    "  ".repeat(depth)
}

/// Incoming pins by (target card, input id): where each pinned input's value comes from, as
/// `<card uuid> <output path>`.
fn sources(data: &FlowData) -> BTreeMap<(&str, &str), Vec<String>> {
    let mut sources: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for card in &data.methods {
        for (output, targets) in &card.pins {
            let output_name = card
                .node
                .model
                .outputs
                .data
                .get(output)
                .map(Field::path)
                .unwrap_or_else(|| output.clone());
            for (target, pins) in targets {
                for pin in pins {
                    let convert = pin
                        .transform
                        .as_ref()
                        .and_then(|t| t.values().find_map(|t| t.convert.clone()))
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default();
                    sources
                        .entry((target.as_str(), pin.input.as_str()))
                        .or_default()
                        .push(format!("{} {output_name}{convert}", card.uuid));
                }
            }
        }
    }
    sources
}

fn render_flow(out: &mut String, data: &FlowData, depth: usize) {
    let names: BTreeMap<&str, &Card> = data.methods.iter().map(|c| (c.uuid.as_str(), c)).collect();
    let sources = sources(data);
    let render = |out: &mut String, uuid: &str, depth: usize| {
        if let Some(card) = names.get(uuid) {
            render_card(out, card, &sources, depth);
        }
    };
    match Plan::of(data) {
        Ok(plan) => {
            render(out, &plan.root, depth);
            render_steps(out, &plan.steps, depth, &render);
        }
        Err(e) => {
            let _ = writeln!(out, "{}(cannot be ordered: {e}; file order)", indent(depth));
            for card in &data.methods {
                render(out, &card.uuid, depth);
            }
        }
    }
}

fn render_steps(
    out: &mut String,
    steps: &[Step],
    depth: usize,
    render: &dyn Fn(&mut String, &str, usize),
) {
    for step in steps {
        match step {
            Step::Card { uuid } => render(out, uuid, depth),
            Step::If {
                uuid,
                then,
                otherwise,
                join,
            } => {
                render(out, uuid, depth);
                let _ = writeln!(out, "{}then:", indent(depth));
                render_steps(out, then, depth + 1, render);
                let _ = writeln!(out, "{}else:", indent(depth));
                render_steps(out, otherwise, depth + 1, render);
                render(out, join, depth);
            }
        }
    }
}

fn type_name(field: &Field) -> String {
    let base = match &field.value.kind {
        Value::String(s) => s.clone(),
        Value::Object(schema) => format!(
            "struct({})",
            schema.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    };
    if field.value.collection {
        format!("list of {base}")
    } else {
        base
    }
}

fn render_card(
    out: &mut String,
    card: &Card,
    sources: &BTreeMap<(&str, &str), Vec<String>>,
    depth: usize,
) {
    let pad = indent(depth);
    let model = &card.node.model;
    let _ = writeln!(
        out,
        "\n{pad}card {} {} {:?}{}",
        card.uuid,
        card.address.card_key(),
        card.node.data.name,
        if model.displayed { "" } else { " (hidden)" }
    );
    if let Some(config) = &model.config {
        let _ = writeln!(out, "{pad}  connection: {config}");
    }
    let policy = &model.policy.error;
    if policy.kind != "finish" || policy.retry.is_some() {
        let mut text = format!("on error: {}", policy.kind);
        if let Some(retry) = policy.retry {
            let _ = write!(text, ", retry {retry}");
        }
        if let Some(Value::String(helper)) = &policy.flo {
            let _ = write!(text, ", run flow {helper}");
        }
        let _ = writeln!(out, "{pad}  {text}");
    }
    if let Some(Value::Object(comment)) = &model.comments {
        if card.address.card_key().as_str() == "kernel:control:comment" {
            let title = comment.get("title").and_then(Value::as_str).unwrap_or("");
            let _ = writeln!(out, "{pad}  comment: {title:?}");
        }
    }
    for (label, branch) in &card.branches {
        let _ = writeln!(out, "{pad}  lane {label}: {branch}");
    }
    for field in model.inputs.ordered() {
        let mut line = format!(
            "{pad}  in {} [{}]: {}",
            field.path(),
            field.id,
            type_name(field)
        );
        match sources.get(&(card.uuid.as_str(), field.id.as_str())) {
            Some(from) => {
                let _ = write!(line, " <- {}", from.join(" | "));
            }
            None if field.value.proxy_rule().is_some_and(|p| p.dynamic) => {
                let path = field
                    .value
                    .proxy_rule()
                    .and_then(|p| p.path)
                    .unwrap_or_default();
                if path.is_empty() {
                    line.push_str(" <- each item");
                } else {
                    let _ = write!(line, " <- each item's {path}");
                }
            }
            None => match field.flow_ref() {
                Some(FlowRef::Named(uuid)) => {
                    let _ = write!(line, " = flow {uuid}");
                }
                Some(FlowRef::Embedded(_)) => line.push_str(" = inline block:"),
                _ if !crate::value::is_empty(&field.value.data) => {
                    let _ = write!(line, " = {}", field.value.data);
                }
                _ => {}
            },
        }
        let _ = writeln!(out, "{line}");
        if let Some(FlowRef::Embedded(flow)) = field.flow_ref() {
            render_flow(out, &flow, depth + 2);
        }
    }
    for field in model.outputs.ordered() {
        let _ = writeln!(
            out,
            "{pad}  out {} [{}]: {}",
            field.path(),
            field.id,
            type_name(field)
        );
    }
    if let Some(FlowRef::Embedded(flow)) = policy.flow_ref() {
        let _ = writeln!(out, "{pad}  if error:");
        render_flow(out, &flow, depth + 2);
    }
}

/// One card as a page draws it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CardView {
    pub uuid: String,
    pub name: String,
    /// `kernel:string:compose`, `okta:hTTPRequest`, …
    pub card: String,
    /// 0 in the flow, 1 in an If lane, …
    pub depth: usize,
    /// `then` or `else` for the first card of an If lane.
    pub lane: Option<&'static str>,
    pub connection: Option<String>,
    pub hidden: bool,
    pub inputs: Vec<FieldView>,
    pub outputs: Vec<FieldView>,
}

/// An input or output: its path, type, and where an input's value comes from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldView {
    pub path: String,
    pub kind: String,
    /// `<card name> <output path>` for each pin into this input.
    pub from: Vec<String>,
    /// The literal value, when the input is not pinned.
    pub value: Option<String>,
}

/// A flow's cards in execution order (file order when it cannot be planned), with their inputs,
/// outputs and pins: what the Workflows console draws.
pub fn view(data: &FlowData) -> Vec<CardView> {
    let names: BTreeMap<&str, &Card> = data.methods.iter().map(|c| (c.uuid.as_str(), c)).collect();
    let pins = sources(data);
    let name_of = |uuid: &str| {
        names
            .get(uuid)
            .map(|c| c.node.data.name.clone())
            .unwrap_or_else(|| uuid.to_string())
    };
    let mut order: Vec<(String, usize, Option<&'static str>)> = Vec::new();
    fn walk(steps: &[Step], depth: usize, out: &mut Vec<(String, usize, Option<&'static str>)>) {
        for step in steps {
            match step {
                Step::Card { uuid } => out.push((uuid.clone(), depth, None)),
                Step::If {
                    uuid,
                    then,
                    otherwise,
                    join,
                } => {
                    out.push((uuid.clone(), depth, None));
                    let at = out.len();
                    walk(then, depth + 1, out);
                    if let Some(first) = out.get_mut(at) {
                        first.2 = Some("then");
                    }
                    let at = out.len();
                    walk(otherwise, depth + 1, out);
                    if let Some(first) = out.get_mut(at) {
                        first.2 = Some("else");
                    }
                    out.push((join.clone(), depth, None));
                }
            }
        }
    }
    match Plan::of(data) {
        Ok(plan) => {
            order.push((plan.root.clone(), 0, None));
            walk(&plan.steps, 0, &mut order);
        }
        Err(_) => order.extend(data.methods.iter().map(|c| (c.uuid.clone(), 0, None))),
    }
    order
        .into_iter()
        .filter_map(|(uuid, depth, lane)| {
            let card = names.get(uuid.as_str())?;
            let model = &card.node.model;
            let inputs = model
                .inputs
                .ordered()
                .into_iter()
                .map(|f| {
                    let from: Vec<String> = pins
                        .get(&(card.uuid.as_str(), f.id.as_str()))
                        .map(|list| {
                            list.iter()
                                .map(|s| match s.split_once(' ') {
                                    Some((uuid, rest)) => format!("{} {rest}", name_of(uuid)),
                                    None => s.clone(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let value = (from.is_empty() && !crate::value::is_empty(&f.value.data)).then(
                        || match &f.value.data {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                    );
                    FieldView {
                        path: f.path(),
                        kind: type_name(f),
                        from,
                        value,
                    }
                })
                .collect();
            let outputs = model
                .outputs
                .ordered()
                .into_iter()
                .map(|f| FieldView {
                    path: f.path(),
                    kind: type_name(f),
                    from: Vec::new(),
                    value: None,
                })
                .collect();
            Some(CardView {
                uuid: card.uuid.clone(),
                name: card.node.data.name.clone(),
                card: card.address.card_key().as_str().to_string(),
                depth,
                lane,
                connection: model.config.clone(),
                hidden: !model.displayed,
                inputs,
                outputs,
            })
        })
        .collect()
}

#[cfg(test)]
mod view_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_seed_flow_is_drawn_in_order_with_its_pins() {
        let bytes = include_bytes!("../tests/fixtures/seed_request_lookup.flopack");
        let flopack: Flopack = serde_json::from_slice(bytes).unwrap();
        let flow = flopack.data.flos.values().next().unwrap();
        let cards = view(&flow.data);
        let keys: Vec<&str> = cards.iter().map(|c| c.card.as_str()).collect();
        assert_eq!(
            keys,
            [
                "kernel:http:accept",
                "kernel:string:compose",
                "okta:hTTPRequest",
                "kernel:control:return"
            ]
        );
        let compose = &cards[1];
        let token = compose.inputs.iter().find(|f| !f.from.is_empty()).unwrap();
        assert_eq!(token.from, ["API Endpoint query.requestId"]);
        assert!(cards[2].connection.is_some());
        assert!(compose.outputs.iter().any(|o| o.path == "output"));
    }
}
