//! Importing flopacks written in Okta's format (our own fixtures), through the public API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use steward_flows::import::{FlowKind, Status};
use steward_flows::model::FlowRef;
use steward_flows::plan::{Plan, Step};
use steward_flows::{export, import, readable, FlopackError};

const SEED: &[u8] = include_bytes!("fixtures/seed_request_lookup.flopack");
const SCHEDULED: &[u8] = include_bytes!("fixtures/scheduled_helper_over_list.flopack");

#[test]
fn the_seed_flow_imports_card_by_card_and_names_what_cannot_run_yet() {
    let import = import(SEED).unwrap();
    let report = &import.report;
    assert_eq!(report.flows.len(), 1);
    let flow = &report.flows[0];
    assert_eq!(flow.name, "Look up an access request");
    assert_eq!(flow.kind, FlowKind::ApiEndpoint);
    assert!(flow.problems.is_empty(), "{:?}", flow.problems);
    // Execution order, not the file's order (which starts with Return).
    let order: Vec<&str> = flow.cards.iter().map(|c| c.card.as_str()).collect();
    assert_eq!(
        order,
        [
            "kernel:http:accept",
            "kernel:string:compose",
            "okta:hTTPRequest",
            "kernel:control:return"
        ]
    );
    let statuses: Vec<Status> = flow.cards.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Trigger,
            Status::Function,
            Status::Unsupported,
            Status::Control
        ]
    );
    let custom = &flow.cards[2];
    assert_eq!(custom.name, "Custom API Action - get the access request");
    assert_eq!(
        custom.reasons,
        ["Steward has no hTTPRequest card of the okta connector yet"]
    );
    // The connection is resolved by id to its name, for mapping onto a Steward connection.
    assert_eq!(
        custom.connection.as_ref().map(|c| c.name.as_str()),
        Some("Okta Workflows OAuth")
    );
    assert_eq!(report.connections.len(), 1);
    assert_eq!(report.connections[0].cards, 1);
    assert_eq!(report.connections[0].connector, "okta");
    assert!(!report.runnable());
    assert_eq!(report.unsupported().count(), 1);

    // The model reads what the engine will need from the Custom API Action.
    let flo = import.flopack.data.flos.values().next().unwrap();
    assert_eq!(flo.data.security_level.as_deref(), Some("medium"));
    let card = flo.data.card("customH1").unwrap();
    let inputs = &card.node.model.inputs;
    assert_eq!(
        inputs
            .by_key(Some("parameters"), "requestType")
            .unwrap()
            .value
            .data,
        json!("GET")
    );
    assert_eq!(card.node.model.timeout, Some(30000));
    let compose = flo.data.card("composeC1").unwrap();
    let pin = &compose.pins["composed"]["customH1"][0];
    assert_eq!(pin.input, "relUrl");
    assert_eq!(
        inputs.data[&pin.input].path(),
        "Request.Relative URL",
        "the pin lands on the relative URL"
    );
}

#[test]
fn a_scheduled_parent_its_helper_and_their_blocks_all_run_and_resolve() {
    let import = import(SCHEDULED).unwrap();
    let report = &import.report;
    assert!(
        report.runnable(),
        "{:#?}",
        report.unsupported().collect::<Vec<_>>()
    );
    let kinds: Vec<(&str, FlowKind)> = report
        .flows
        .iter()
        .map(|f| (f.name.as_str(), f.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Greet new hires every weekday", FlowKind::Scheduled),
            ("SUB - greet one address", FlowKind::Helper),
            ("If Error › flo", FlowKind::Block),
            ("If Error › If Error", FlowKind::Block),
        ]
    );
    let parent = &report.flows[0];
    let each = parent
        .cards
        .iter()
        .find(|c| c.card == "kernel:list:each")
        .unwrap();
    assert_eq!(each.calls[0].name, "SUB - greet one address");
    assert_eq!(each.role.as_deref(), Some("runs a helper flow per item"));
    assert_eq!(
        report.flows[2].within.as_deref(),
        Some("Greet new hires every weekday › If Error (tryCatchP6) › flo")
    );
    assert_eq!(report.tables[0].columns, ["Email", "At"]);

    let flo = &import.flopack.data.flos["5c4ed000-0000-4000-8000-000000000002"];
    let cron = flo.data.cron.as_ref().unwrap();
    assert_eq!(cron.expression(), "00 0 9 * * 1-5");
    assert_eq!(cron.time_zone.as_deref(), Some("America/Los_Angeles"));
    // Helper inputs: one from each item, one constant across items.
    let each = flo.data.card("eachP5").unwrap();
    let proxies: Vec<_> = each
        .node
        .model
        .inputs
        .ordered()
        .into_iter()
        .filter_map(|f| f.value.proxy_rule())
        .map(|p| (p.dest_key, p.dynamic))
        .collect();
    assert_eq!(
        proxies,
        [("email".to_string(), true), ("stamp".to_string(), false)]
    );
    // The Try block is an embedded flow; the If Error block lives in the error policy.
    let try_catch = flo.data.card("tryCatchP6").unwrap();
    let try_flow = try_catch.node.model.inputs.data["tcFlo"].flow_ref();
    assert!(matches!(try_flow, Some(FlowRef::Embedded(f)) if f.methods.len() == 3));
    assert!(matches!(
        try_catch.node.model.policy.error.flow_ref(),
        Some(FlowRef::Embedded(f)) if f.methods.len() == 2
    ));
}

#[test]
fn if_else_lanes_and_their_join_come_out_of_the_ordering_graph() {
    let import = import(SCHEDULED).unwrap();
    let helper = &import.flopack.data.flos["4e1fe000-0000-4000-8000-000000000003"];
    let plan = Plan::of(&helper.data).unwrap();
    assert_eq!(plan.root, "helpH1");
    assert_eq!(
        plan.steps,
        [
            Step::Card {
                uuid: "lowerH2".into()
            },
            Step::If {
                uuid: "ifH3".into(),
                then: vec![
                    Step::Card {
                        uuid: "laneYes".into()
                    },
                    Step::Card {
                        uuid: "concatH5".into()
                    }
                ],
                otherwise: vec![Step::Card {
                    uuid: "laneNo".into()
                }],
                join: "joinH6".into(),
            },
            Step::Card {
                uuid: "retH7".into()
            },
        ]
    );
    assert_eq!(plan.order().len(), helper.data.methods.len());
    // A redundant edge (trigger → UNIX beside trigger → comment → UNIX) does not reorder.
    let parent = &import.flopack.data.flos["5c4ed000-0000-4000-8000-000000000002"];
    let order = Plan::of(&parent.data).unwrap().order().join(" ");
    assert_eq!(order, "schedP1 noteP2 unixP3 listP4 eachP5 tryCatchP6");
}

#[test]
fn export_imports_again_unchanged_and_loses_nothing() {
    let branch: &[u8] = include_bytes!("fixtures/branch_and_call.flopack");
    for bytes in [SEED, SCHEDULED, branch] {
        let first = import(bytes).unwrap();
        let exported = export(&first.flopack).unwrap();
        let second = import(&exported).unwrap();
        assert_eq!(second.flopack, first.flopack);
        assert_eq!(second.report, first.report);
        // Every key of the file, UI-only ones included, survives.
        let original: Value = serde_json::from_slice(bytes).unwrap();
        let written: Value = serde_json::from_slice(&exported).unwrap();
        assert_eq!(written, original);
        // And the export is stable: writing it again gives the same bytes.
        assert_eq!(export(&second.flopack).unwrap(), exported);
    }
}

#[test]
fn the_readable_form_is_one_block_per_card_in_execution_order() {
    let import = import(SCHEDULED).unwrap();
    let text = readable(&import.flopack);
    assert_eq!(text, readable(&import.flopack), "stable");
    assert!(text.contains("schedule: \"00 0 9 * * 1-5\" America/Los_Angeles"));
    let positions: Vec<usize> = [
        "card helpH1 kernel:control:callable",
        "card lowerH2 kernel:string:toLowerCase",
        "card ifH3 kernel:control:if",
        "then:",
        "card concatH5",
        "else:",
        "card laneNo",
        "card joinH6",
        "card retH7",
    ]
    .iter()
    .map(|needle| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} in\n{text}"))
    })
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains("in right-operand [ifR]: string <- lowerH2 output"));
    assert!(text.contains("in email [eEmail]: string <- each item\n"));
    assert!(text.contains("in start [uStart]: Date <- schedP1 context.execution_time (dateTime)"));
    // One block per card, embedded blocks included: 6 + 8 + 3 (Try) + 2 (If Error).
    let blocks = text
        .lines()
        .filter(|l| l.trim_start().starts_with("card "))
        .count();
    assert_eq!(blocks, 19);
}

#[test]
fn unresolved_references_and_unknown_cards_are_reported_never_skipped() {
    let mut value: Value = serde_json::from_slice(SCHEDULED).unwrap();
    let flos = value["data"]["flos"].as_object_mut().unwrap();
    // Drop the helper: the For Each now calls a flow that is not in the file.
    flos.remove("4e1fe000-0000-4000-8000-000000000003");
    let parent = flos
        .get_mut("5c4ed000-0000-4000-8000-000000000002")
        .unwrap();
    let methods = parent["data"]["methods"].as_array_mut().unwrap();
    let comment = methods.iter_mut().find(|m| m["uuid"] == "noteP2").unwrap();
    comment["address"] = json!("root:kernel:string:0.0.1:soundex");
    let import = import(&serde_json::to_vec(&value).unwrap()).unwrap();
    let unsupported: Vec<(String, Vec<String>)> = import
        .report
        .unsupported()
        .map(|(_, c)| (c.uuid.clone(), c.reasons.clone()))
        .collect();
    assert_eq!(
        unsupported,
        [
            (
                "noteP2".to_string(),
                vec!["Steward has no string:soundex card yet".to_string()]
            ),
            (
                "eachP5".to_string(),
                vec!["flo calls flow 4e1fe000-0000-4000-8000-000000000003, which is not in this flopack".to_string()]
            ),
        ]
    );
}

#[test]
fn broken_files_fail_with_a_reason() {
    assert!(matches!(import(b"{nope"), Err(FlopackError::NotJson(_))));
    assert!(matches!(
        import(br#"{"type":"flow","data":{}}"#),
        Err(FlopackError::NotAFlopack(kind)) if kind == "flow"
    ));
    let err = import(br#"{"type":"flopack","version":"1.5.0","data":{"flos":{"x":{"id":"x"}}}}"#)
        .unwrap_err();
    assert!(matches!(err, FlopackError::Malformed(_)), "{err}");
    assert!(err.to_string().contains("missing field"), "{err}");
}
