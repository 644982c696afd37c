//! The structure of the control cards that hold or call other flows, read from the card as the
//! engine will need it: the arms of an If/ElseIf, the Try and If Error blocks, the values that
//! enter a block through wormholes, and the helper (with its inputs) a Call Flow or list card
//! runs.

use crate::model::{Card, Field, FlowData, FlowRef, Proxy};

/// One arm of an If/ElseIf (`control:branch`): a condition group and its inline flow.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchArm {
    /// `if`, a random id per "else if", or `else`.
    pub group: String,
    /// `else` runs when no condition held; the others test their group's operands.
    pub is_else: bool,
    pub flow: Option<FlowData>,
}

/// A value entering an inline block: the container's input `(context, key)` becomes the output
/// `(context, key)` of the callable `callable` inside the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wormhole {
    pub input_id: String,
    pub key: String,
    pub callable: String,
}

/// An input a Call Flow or list card passes to its helper, by key.
#[derive(Debug, Clone, PartialEq)]
pub struct HelperInput {
    pub input_id: String,
    pub key: String,
    /// List cards: how each item reaches it; `None` on Call Flow (the input's own value).
    pub proxy: Option<Proxy>,
}

fn embedded(field: &Field) -> Option<FlowData> {
    match field.flow_ref() {
        Some(FlowRef::Embedded(flow)) => Some(*flow),
        _ => None,
    }
}

impl Card {
    /// If/ElseIf arms in evaluation order (display order, `else` last).
    pub fn branch_arms(&self) -> Vec<BranchArm> {
        let mut groups: Vec<(i64, String)> = Vec::new();
        for field in self.node.model.inputs.ordered() {
            let Some(group) = &field.group else { continue };
            if group == "context" || groups.iter().any(|(_, g)| g == group) {
                continue;
            }
            groups.push((field.metadata.index.unwrap_or(i64::MAX), group.clone()));
        }
        let is_else = |g: &str| g.eq_ignore_ascii_case("else");
        groups.sort_by_key(|(index, group)| (is_else(group), *index));
        groups
            .into_iter()
            .map(|(_, group)| BranchArm {
                is_else: is_else(&group),
                flow: self
                    .node
                    .model
                    .inputs
                    .by_key(Some(&group), "flo")
                    .and_then(embedded),
                group,
            })
            .collect()
    }

    /// If Error (`control:tryCatch`): the Try block.
    pub fn try_block(&self) -> Option<FlowData> {
        self.node
            .model
            .inputs
            .by_key(None, "flo")
            .and_then(embedded)
    }

    /// If Error: the block that runs when a card of the Try block fails.
    pub fn error_block(&self) -> Option<FlowData> {
        match self.node.model.policy.error.flow_ref() {
            Some(FlowRef::Embedded(flow)) if self.node.model.policy.error.kind == "handler" => {
                Some(*flow)
            }
            _ => None,
        }
    }

    /// The container's `context` inputs that feed a callable inside one of its blocks.
    pub fn wormholes(&self) -> Vec<Wormhole> {
        self.node
            .model
            .inputs
            .ordered()
            .into_iter()
            .filter(|f| f.group.as_deref() == Some("context"))
            .filter_map(|f| {
                Some(Wormhole {
                    input_id: f.id.clone(),
                    key: f.key.clone(),
                    callable: f.metadata.wormhole_method_id.clone()?,
                })
            })
            .collect()
    }

    /// The helper a Call Flow, Call Flow Async or list card runs (its `flo` input).
    pub fn helper(&self) -> Option<FlowRef> {
        self.node
            .model
            .inputs
            .by_key(None, "flo")
            .and_then(Field::flow_ref)
    }

    /// What a Call Flow or list card passes to its helper, by key: its plain inputs other than
    /// `flo`, `list` and `concurrency` (Reduce's `memo` is one of them: the helper gets it).
    pub fn helper_inputs(&self) -> Vec<HelperInput> {
        self.node
            .model
            .inputs
            .ordered()
            .into_iter()
            .filter(|f| f.group.is_none() && !["flo", "list", "concurrency"].contains(&&*f.key))
            .map(|f| HelperInput {
                input_id: f.id.clone(),
                key: f.key.clone(),
                proxy: f.value.proxy_rule(),
            })
            .collect()
    }
}
