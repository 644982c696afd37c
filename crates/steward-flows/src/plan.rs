//! From a flow's ordering graph to its structure: the trigger, then a sequence of steps where
//! each If/Else holds its two lanes and its closing join. Okta's method list is not the
//! execution order; `orderings` (plus the If → lane-head edges, which it never lists) is.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::address::CardKey;
use crate::model::FlowData;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Step {
    Card {
        uuid: String,
    },
    /// `control:if`: `then` runs when the condition holds, `otherwise` when not; both lanes
    /// start with their hidden noop head and end before `join`.
    If {
        uuid: String,
        then: Vec<Step>,
        otherwise: Vec<Step>,
        join: String,
    },
}

/// A flow in execution order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The root card: the trigger (or a noop in a flow without one).
    pub root: String,
    /// Every card after the root, each exactly once.
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the flow has no cards")]
    Empty,
    #[error("the flow has {0} cards that nothing precedes (one trigger expected): {1}")]
    Roots(usize, String),
    #[error("If/Else card {0} has no closing join")]
    NoJoin(String),
    #[error("after card {0} the next card is ambiguous")]
    Ambiguous(String),
    #[error("card {0} is reached twice (a cycle or a shared lane)")]
    Revisited(String),
    #[error("cards {0} are not reachable from the trigger")]
    Unreached(String),
}

struct Graph<'a> {
    flow: &'a FlowData,
    successors: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> Graph<'a> {
    fn new(flow: &'a FlowData) -> Graph<'a> {
        let known: BTreeSet<&str> = flow.methods.iter().map(|c| c.uuid.as_str()).collect();
        let mut successors: BTreeMap<&str, BTreeSet<&str>> =
            known.iter().map(|u| (*u, BTreeSet::new())).collect();
        for edge in flow.orderings.values() {
            let (from, to) = (edge.0.as_str(), edge.1.as_str());
            if from != to && known.contains(from) && known.contains(to) {
                successors.entry(from).or_default().insert(to);
            }
        }
        for card in &flow.methods {
            for head in card.branches.keys() {
                if known.contains(head.as_str()) {
                    successors
                        .entry(card.uuid.as_str())
                        .or_default()
                        .insert(head.as_str());
                }
            }
        }
        Graph { flow, successors }
    }

    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut stack = vec![from];
        let mut seen = BTreeSet::new();
        while let Some(at) = stack.pop() {
            if at == to {
                return true;
            }
            if seen.insert(at) {
                stack.extend(self.successors.get(at).into_iter().flatten().copied());
            }
        }
        false
    }

    fn key(&self, uuid: &str) -> Option<CardKey> {
        self.flow.card(uuid).map(|c| c.address.card_key())
    }

    fn is(&self, uuid: &str, key: &str) -> bool {
        self.key(uuid).is_some_and(|k| k.as_str() == key)
    }

    /// The join every lane head reaches that no other such join reaches (the innermost).
    fn closing_join(&self, heads: &[&str], closing: &[&'a str]) -> Option<&'a str> {
        let candidates: Vec<&str> = self
            .successors
            .keys()
            .copied()
            .filter(|u| self.is(u, "kernel:control:join") && !closing.contains(u))
            .filter(|j| heads.iter().all(|h| self.reaches(h, j)))
            .collect();
        candidates
            .iter()
            .copied()
            .find(|j| !candidates.iter().any(|o| o != j && self.reaches(o, j)))
    }

    fn parse(
        &self,
        start: &'a str,
        closing: &[&'a str],
        seen: &mut BTreeSet<&'a str>,
    ) -> Result<Vec<Step>, PlanError> {
        let mut steps = Vec::new();
        let mut at = start;
        loop {
            if !seen.insert(at) {
                return Err(PlanError::Revisited(at.to_string()));
            }
            if self.is(at, "kernel:control:if") {
                let card = self.flow.card(at).ok_or(PlanError::Empty)?;
                let heads: Vec<&str> = card.branches.keys().map(String::as_str).collect();
                let join = self
                    .closing_join(&heads, closing)
                    .ok_or_else(|| PlanError::NoJoin(at.to_string()))?;
                let mut inner = closing.to_vec();
                inner.push(join);
                let mut then = Vec::new();
                let mut otherwise = Vec::new();
                for (head, outcome) in &card.branches {
                    let lane = self.parse(head, &inner, seen)?;
                    if *outcome {
                        then.extend(lane);
                    } else {
                        otherwise.extend(lane);
                    }
                }
                if !seen.insert(join) {
                    return Err(PlanError::Revisited(join.to_string()));
                }
                steps.push(Step::If {
                    uuid: at.to_string(),
                    then,
                    otherwise,
                    join: join.to_string(),
                });
                at = join;
            } else {
                steps.push(Step::Card {
                    uuid: at.to_string(),
                });
            }
            let next: Vec<&str> = self
                .successors
                .get(at)
                .into_iter()
                .flatten()
                .copied()
                .filter(|n| !closing.contains(n))
                .collect();
            if next.is_empty() {
                return Ok(steps);
            }
            // Redundant edges exist (callable → expand → pick and callable → pick): follow the
            // successor from which all the others are reachable.
            at = next
                .iter()
                .copied()
                .find(|n| next.iter().all(|o| o == n || self.reaches(n, o)))
                .ok_or_else(|| PlanError::Ambiguous(at.to_string()))?;
        }
    }
}

impl Plan {
    pub fn of(flow: &FlowData) -> Result<Plan, PlanError> {
        if flow.methods.is_empty() {
            return Err(PlanError::Empty);
        }
        let graph = Graph::new(flow);
        let targets: BTreeSet<&str> = graph.successors.values().flatten().copied().collect();
        let roots: Vec<&str> = flow
            .methods
            .iter()
            .map(|c| c.uuid.as_str())
            .filter(|u| !targets.contains(u))
            .collect();
        let [root] = roots.as_slice() else {
            return Err(PlanError::Roots(roots.len(), roots.join(", ")));
        };
        let mut seen = BTreeSet::new();
        let mut steps = graph.parse(root, &[], &mut seen)?;
        if matches!(steps.first(), Some(Step::Card { uuid }) if uuid == root) {
            steps.remove(0);
        }
        let unreached: Vec<&str> = flow
            .methods
            .iter()
            .map(|c| c.uuid.as_str())
            .filter(|u| !seen.contains(u))
            .collect();
        if !unreached.is_empty() {
            return Err(PlanError::Unreached(unreached.join(", ")));
        }
        Ok(Plan {
            root: root.to_string(),
            steps,
        })
    }

    /// Every card uuid in execution order (If lanes: then, otherwise, join).
    pub fn order(&self) -> Vec<&str> {
        fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a str>) {
            for step in steps {
                match step {
                    Step::Card { uuid } => out.push(uuid),
                    Step::If {
                        uuid,
                        then,
                        otherwise,
                        join,
                    } => {
                        out.push(uuid);
                        walk(then, out);
                        walk(otherwise, out);
                        out.push(join);
                    }
                }
            }
        }
        let mut out = vec![self.root.as_str()];
        walk(&self.steps, &mut out);
        out
    }
}
