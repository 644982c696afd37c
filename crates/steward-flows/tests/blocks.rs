//! The structure of control cards: If/ElseIf arms, If Error blocks, wormholes, helper calls.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use steward_flows::import;
use steward_flows::model::{FlowRef, Proxy};
use steward_flows::plan::Plan;

const BRANCH: &[u8] = include_bytes!("fixtures/branch_and_call.flopack");
const SCHEDULED: &[u8] = include_bytes!("fixtures/scheduled_helper_over_list.flopack");

#[test]
fn if_elseif_arms_come_in_evaluation_order_with_their_blocks_and_wormholes() {
    let import = import(BRANCH).unwrap();
    assert!(import.report.runnable());
    let main = &import.flopack.data.flos["b4a2c400-0000-4000-8000-000000000005"];
    let branch = main.data.card("branchB2").unwrap();
    let arms = branch.branch_arms();
    let groups: Vec<(&str, bool)> = arms.iter().map(|a| (a.group.as_str(), a.is_else)).collect();
    assert_eq!(groups, [("if", false), ("k7Qx2", false), ("else", true)]);
    // Each arm's block plans on its own and returns its own queue.
    let queues: Vec<serde_json::Value> = arms
        .iter()
        .map(|arm| {
            let flow = arm.flow.as_ref().unwrap();
            let plan = Plan::of(flow).unwrap();
            let ret = flow.card(plan.order()[1]).unwrap();
            ret.node
                .model
                .inputs
                .by_key(None, "queue")
                .unwrap()
                .value
                .data
                .clone()
        })
        .collect();
    assert_eq!(
        queues,
        [json!("priority"), json!("fast"), json!("standard")]
    );
    // The Assign's tier reaches the else-if block through a wormhole.
    let wormholes = branch.wormholes();
    assert_eq!(wormholes.len(), 1);
    assert_eq!(wormholes[0].key, "wTier");
    assert_eq!(wormholes[0].callable, "armElif");
    let elif = arms[1].flow.as_ref().unwrap();
    let callable = elif.card("armElif").unwrap();
    assert!(callable
        .node
        .model
        .outputs
        .by_key(Some("context"), "wTier")
        .is_some());
    // Conditions are read from each group's operands.
    let operator = |g: &str| {
        branch
            .node
            .model
            .inputs
            .by_key(Some(g), "operator")
            .unwrap()
            .value
            .data
            .clone()
    };
    assert_eq!(
        (operator("if"), operator("k7Qx2")),
        (json!("=="), json!("in"))
    );
}

#[test]
fn call_flow_and_for_each_name_their_helper_and_what_they_pass_it() {
    let branch = import(BRANCH).unwrap();
    let main = &branch.flopack.data.flos["b4a2c400-0000-4000-8000-000000000005"];
    let spawn = main.data.card("spawnB3").unwrap();
    assert_eq!(
        spawn.helper(),
        Some(FlowRef::Named(
            "b4a2c400-0000-4000-8000-000000000006".into()
        ))
    );
    let passed: Vec<(String, Option<Proxy>)> = spawn
        .helper_inputs()
        .into_iter()
        .map(|i| (i.key, i.proxy))
        .collect();
    assert_eq!(passed, [("queue".to_string(), None)]);

    let scheduled = import(SCHEDULED).unwrap();
    let parent = &scheduled.flopack.data.flos["5c4ed000-0000-4000-8000-000000000002"];
    let each = parent.data.card("eachP5").unwrap();
    let passed: Vec<(String, bool, String)> = each
        .helper_inputs()
        .into_iter()
        .map(|i| {
            let p = i.proxy.unwrap();
            (i.key, p.dynamic, p.path.unwrap_or_default())
        })
        .collect();
    assert_eq!(
        passed,
        [
            ("email".to_string(), true, String::new()),
            ("stamp".to_string(), false, String::new())
        ]
    );
    // If Error: the Try block and the If Error block, each a flow of its own.
    let try_catch = parent.data.card("tryCatchP6").unwrap();
    let try_block = try_catch.try_block().unwrap();
    assert_eq!(
        Plan::of(&try_block).unwrap().order(),
        ["tryCall", "tryParse", "tryRet"]
    );
    let error_block = try_catch.error_block().unwrap();
    assert_eq!(
        Plan::of(&error_block).unwrap().order(),
        ["catchCall", "catchRet"]
    );
    assert_eq!(try_catch.wormholes()[0].callable, "tryCall");
    // Cards without blocks have none.
    assert!(each.try_block().is_none() && each.error_block().is_none());
    assert!(each.branch_arms().is_empty());
}
