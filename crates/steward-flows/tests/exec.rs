//! The interpreter, one table per card family, over Steward's own fixtures in Okta's format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use steward_flows::exec::{
    ConnectorError, ConnectorRequest, Engine, Finish, Limits, Program, RunState, StepOutcome,
};
use steward_flows::registry::{CardRegistry, Outputs};
use time::OffsetDateTime;

const CARDS: &[u8] = include_bytes!("fixtures/engine_cards.flopack");
const BRANCH: &[u8] = include_bytes!("fixtures/branch_and_call.flopack");
const SCHEDULED: &[u8] = include_bytes!("fixtures/scheduled_helper_over_list.flopack");

const LISTS: &str = "e4e00000-0000-4000-8000-000000000010";
const PARSE: &str = "e4e00000-0000-4000-8000-000000000011";
const HELLO: &str = "e4e00000-0000-4000-8000-000000000012";
const CONNECTOR: &str = "e4e00000-0000-4000-8000-000000000013";

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn registry() -> CardRegistry {
    let mut r = CardRegistry::standard();
    r.connector("okta", "hTTPRequest");
    r
}

fn program(bytes: &[u8]) -> Program {
    Program::new(&steward_flows::import(bytes).unwrap().flopack).unwrap()
}

fn no_connector(_: &ConnectorRequest) -> Result<Outputs, ConnectorError> {
    panic!("no connector expected")
}

/// Runs to the end, serialising and reloading the state after every step (a restart each
/// time), and returns the end and the names of the cards that ran.
fn run(bytes: &[u8], flow: &str, input: Value) -> (Finish, Vec<String>) {
    let program = program(bytes);
    let registry = registry();
    let engine = Engine::new(&program, &registry);
    let mut state =
        RunState::start(&program, flow, "exec1", &input, t0(), &Limits::default()).unwrap();
    let mut cards = Vec::new();
    loop {
        let text = serde_json::to_string(&state).unwrap();
        state = serde_json::from_str(&text).unwrap();
        match engine.step(&mut state, t0()) {
            StepOutcome::Progress(records) => {
                cards.extend(records.into_iter().map(|r| r.name));
            }
            StepOutcome::Finished(finish) => return (finish, cards),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn list_cards_run_their_helper_per_item() {
    let (finish, cards) = run(CARDS, LISTS, json!({}));
    assert!(finish.succeeded, "{finish:?}");
    assert_eq!(
        finish.output,
        json!({"doubled": [2, 4, 6, 8], "big": [3, 4], "sum": 110})
    );
    // Each helper card ran once per item: 4 items × 3 helpers × 2 cards (Multiply/Compare/Add
    // and Return), plus the flow's own five cards.
    assert_eq!(cards.iter().filter(|c| *c == "Return").count(), 13);
    assert_eq!(cards.len(), 4 * 3 * 2 + 5);
}

#[test]
fn control_cards_table() {
    // (case, flopack, flow, input, succeeded, output, error fragment)
    type Case<'a> = (&'a str, &'a [u8], &'a str, Value, bool, Value, &'a str);
    let cases: Vec<Case> = vec![
        // Let, If/ElseIf with a wormhole (gold is "in" "gold silver"), Call Flow, Compose.
        (
            "if/elseif + call flow",
            BRANCH,
            "b4a2c400-0000-4000-8000-000000000005",
            json!({}),
            true,
            json!({"ticket": "ticket for fast"}),
            "",
        ),
        // If Error: the Try block parses.
        (
            "try ok",
            CARDS,
            PARSE,
            json!({"text": "{\"a\":1}", "limit": 1}),
            true,
            json!({"parsed": {"a": 1}, "why": ""}),
            "",
        ),
        // If Error: JSON Parse fails, the If Error block returns the fallback and the message.
        (
            "try fails",
            CARDS,
            PARSE,
            json!({"text": "not json", "limit": 1}),
            true,
            json!({"parsed": {"fallback": true}, "why": "JSON Parse: invalid JSON: expected ident at line 1 column 2"}),
            "",
        ),
        // Continue If false: the run stops quietly, no output.
        (
            "continue if",
            CARDS,
            PARSE,
            json!({"text": "1", "limit": 0}),
            true,
            Value::Null,
            "",
        ),
        // Return Error If: fails the run with its message and status.
        (
            "return error if",
            CARDS,
            PARSE,
            json!({"text": "1", "limit": 11}),
            false,
            Value::Null,
            "limit too high",
        ),
        // API endpoint: the query field, Compose, Return Raw.
        (
            "return raw",
            CARDS,
            HELLO,
            json!({"query": {"name": "Ada"}}),
            true,
            json!({"statusCode": 201, "headers": {"x-steward": "yes"}, "body": "hello Ada"}),
            "",
        ),
    ];
    for (name, bytes, flow, input, succeeded, output, error) in cases {
        let (finish, _) = run(bytes, flow, input);
        assert_eq!(finish.succeeded, succeeded, "{name}: {finish:?}");
        assert_eq!(finish.output, output, "{name}");
        if !error.is_empty() {
            let e = finish.error.unwrap();
            assert!(e.message.contains(error), "{name}: {}", e.message);
            assert_eq!(e.status_code, Some(422), "{name}");
            assert_eq!(e.card_name.as_deref(), Some("Return Error If"));
        }
    }
}

#[test]
fn if_else_lanes_joins_and_for_each_over_a_scheduled_list() {
    let (finish, cards) = run(
        SCHEDULED,
        "5c4ed000-0000-4000-8000-000000000002",
        json!({"context": {"execution_time": "2026-12-07T09:00:00.000Z"}}),
    );
    assert!(finish.succeeded, "{finish:?}");
    // The helper ran per address; the example.com one took the true lane (Concatenate).
    assert_eq!(cards.iter().filter(|c| *c == "To Lowercase").count(), 2);
    assert_eq!(cards.iter().filter(|c| *c == "Concatenate").count(), 1);
    assert_eq!(cards.iter().filter(|c| *c == "join").count(), 2);
    assert!(cards.contains(&"If Error".to_string()));
}

#[test]
fn connector_cards_go_to_the_driver_and_retry_only_on_429_and_5xx() {
    let program = program(CARDS);
    let registry = registry();
    let engine = Engine::new(&program, &registry);
    let input = json!({"userId": "00u1"});
    // (statuses answered in order, succeeded, calls made)
    let cases: Vec<(Vec<Option<u16>>, bool, usize)> = vec![
        (vec![None], true, 1),
        (vec![Some(429), Some(503), None], true, 3),
        (vec![Some(429), Some(429), Some(429)], false, 3),
        (vec![Some(403)], false, 1),
        (vec![Some(404)], false, 1),
    ];
    for (answers, succeeded, calls) in cases {
        let mut state =
            RunState::start(&program, CONNECTOR, "x", &input, t0(), &Limits::default()).unwrap();
        let mut made = 0;
        let mut delays = Vec::new();
        let finish = loop {
            match engine.step(&mut state, t0()) {
                StepOutcome::Connector(request) => {
                    assert_eq!(request.card.as_str(), "okta:hTTPRequest");
                    assert_eq!(
                        request.connection.as_deref(),
                        Some("c0ffee00-0000-4000-8000-00000000000b")
                    );
                    assert_eq!(request.inputs.get_in("Request", "Relative URL"), "00u1");
                    assert_eq!(request.attempt as usize, made);
                    let result = match answers[made] {
                        None => {
                            Ok(Outputs::new().with_in(Some("Response"), "Status Code", json!(200)))
                        }
                        Some(status) => Err(ConnectorError {
                            message: format!("HTTP {status}"),
                            status: Some(status),
                            diagnosis: None,
                        }),
                    };
                    made += 1;
                    match engine.complete(&mut state, result, t0()) {
                        StepOutcome::Retry { delay_ms, .. } => delays.push(delay_ms),
                        StepOutcome::Finished(f) => break f,
                        _ => {}
                    }
                }
                StepOutcome::Finished(f) => break f,
                StepOutcome::Progress(_) => {}
                StepOutcome::Retry { .. } => panic!("retry comes from complete"),
            }
        };
        assert_eq!(finish.succeeded, succeeded, "{answers:?}: {finish:?}");
        assert_eq!(made, calls, "{answers:?}");
        if succeeded {
            assert_eq!(finish.output, json!({"status": 200}));
        }
        // Backoff within the policy's [10, 30] range.
        assert!(delays.iter().all(|d| (10..=30).contains(d)), "{delays:?}");
    }
    // The flow's "save history" is off; the others' on.
    assert!(!program.saves_history(CONNECTOR));
    assert!(program.saves_history(LISTS));
}

#[test]
fn limits_fail_the_run_with_a_clear_message() {
    let program = program(CARDS);
    let registry = CardRegistry::standard();
    let run = |limits: Limits, later: i64| {
        let engine = Engine::new(&program, &registry).with_limits(limits);
        let mut state = RunState::start(&program, LISTS, "x", &json!({}), t0(), &limits).unwrap();
        let at = t0() + time::Duration::milliseconds(later);
        engine.run_to_end(&mut state, || at, no_connector)
    };
    let steps = run(
        Limits {
            max_steps: 5,
            ..Limits::default()
        },
        0,
    );
    assert!(steps.error.unwrap().message.contains("limit of 5 steps"));
    let slow = run(
        Limits {
            max_run_ms: 1000,
            ..Limits::default()
        },
        1001,
    );
    assert!(slow
        .error
        .unwrap()
        .message
        .contains("over the limit of 1000 ms"));
    let big = run(
        Limits {
            max_payload_bytes: 8,
            ..Limits::default()
        },
        0,
    );
    let e = big.error.unwrap();
    assert!(
        e.message.contains("over the payload limit of 8 bytes"),
        "{}",
        e.message
    );
    assert_eq!(e.card_name.as_deref(), Some("List Construct"));
    let input = json!({"text": "x".repeat(100)});
    let refused = RunState::start(
        &program,
        PARSE,
        "x",
        &input,
        t0(),
        &Limits {
            max_payload_bytes: 50,
            ..Limits::default()
        },
    );
    assert!(refused.unwrap_err().message.contains("trigger input"));
}

/// The error policy of the connector card, rewritten per case: halt, return values, run a
/// flow (queued as a run of its own), continue (a Steward extension).
#[test]
fn error_policies_table() {
    let cases = [
        (json!({"type": "finish"}), false, Value::Null, 0),
        (json!({"type": "continue"}), true, json!({"status": 0}), 0),
        (
            json!({"type": "return"}),
            false,
            json!({"note": "gave up"}),
            0,
        ),
        (
            json!({"type": "flo", "flo": "e4e00000-0000-4000-8000-000000000001"}),
            false,
            Value::Null,
            1,
        ),
    ];
    for (policy, succeeded, output, spawned) in cases {
        let mut flopack: Value = serde_json::from_slice(CARDS).unwrap();
        let cards = flopack["data"]["flos"][CONNECTOR]["data"]["methods"]
            .as_array_mut()
            .unwrap();
        let card = cards.iter_mut().find(|c| c["uuid"] == "cnK").unwrap();
        card["node"]["model"]["policy"]["error"] = policy.clone();
        card["node"]["model"]["inputs"]["data"]["cnKnote"] = json!({
            "id": "cnKnote", "group": null, "key": "note",
            "value": {"type": "string", "data": "gave up"}, "metadata": {"custom": true, "index": 5}
        });
        let bytes = serde_json::to_vec(&flopack).unwrap();
        let program = program(&bytes);
        let registry = registry();
        let engine = Engine::new(&program, &registry);
        let mut state = RunState::start(
            &program,
            CONNECTOR,
            "x",
            &json!({}),
            t0(),
            &Limits::default(),
        )
        .unwrap();
        let finish = engine.run_to_end(&mut state, t0, |_| {
            Err(ConnectorError {
                message: "HTTP 400".into(),
                status: Some(400),
                diagnosis: None,
            })
        });
        assert_eq!(finish.succeeded, succeeded, "{policy}: {finish:?}");
        assert_eq!(finish.output, output, "{policy}");
        assert_eq!(state.spawned.len(), spawned, "{policy}");
        if spawned > 0 {
            assert_eq!(
                state.spawned[0].input["context"]["error"]["message"],
                json!("HTTP 400")
            );
        }
    }
}

/// An event flow: the trigger's `collection` (one event) feeds the For Each, whose inline body
/// gets the event card's `Output` fields and hands its Create Row card to the driver.
#[test]
fn an_event_flow_runs_its_inline_body_with_the_event() {
    let bytes = include_bytes!("fixtures/events_tables.flopack");
    let program = program(bytes);
    let mut registry = registry();
    registry.connector("stash", "createRow");
    let engine = Engine::new(&program, &registry);
    let log = json!({
        "uuid": "ev1", "eventType": "user.lifecycle.create", "published": "2026-12-07T00:00:00.000Z",
        "displayMessage": "Create Okta user",
        "actor": {"id": "00uA", "type": "User", "alternateId": "admin@x", "displayName": "Admin"},
        "target": [{"id": "00uB", "type": "User", "alternateId": "bo@x", "displayName": "Bo"}]
    });
    let input = steward_flows::events::trigger_input(&log);
    let flow = "e7e00000-0000-4000-8000-000000000001";
    let mut state =
        RunState::start(&program, flow, "exec1", &input, t0(), &Limits::default()).unwrap();
    let mut written = Vec::new();
    loop {
        let mut outcome = engine.step(&mut state, t0());
        while let StepOutcome::Connector(request) = &outcome {
            assert_eq!(request.card.as_str(), "stash:createRow");
            written.push((
                request.inputs.get_in("Fields", "value").clone(),
                request.inputs.get_in("Fields", "eventType").clone(),
            ));
            let out = Outputs::new().with_in(Some("Output"), "Row ID", json!("row1"));
            outcome = engine.complete(&mut state, Ok(out), t0());
        }
        match outcome {
            StepOutcome::Progress(_) => {}
            StepOutcome::Finished(finish) => {
                assert!(finish.succeeded, "{finish:?}");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        written,
        vec![(json!("00uB"), json!("user.lifecycle.create"))],
        "the body ran once, with the event's user and type"
    );
}
