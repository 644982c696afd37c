//! Engine overhead per card: a helper flow of five function cards (Compose, To Lowercase,
//! Concatenate, Length, Add) run in memory many times; prints the p50 and p99 per card, for the
//! interpreter alone and with the state serialised after every card (what the runner persists).
//!
//! `cargo run --release -p steward-flows --example engine_overhead [-- RUNS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use serde_json::{json, Value};
use steward_flows::exec::{ConnectorError, Engine, Limits, Program, RunState, StepOutcome};
use steward_flows::CardRegistry;

fn field(id: &str, key: &str, kind: &str, data: Value, index: i64) -> Value {
    json!({"id": id, "group": null, "key": key, "value": {"type": kind, "data": data}, "metadata": {"index": index}})
}

fn card(uuid: &str, address: &str, inputs: Vec<Value>, outputs: Vec<Value>, pins: Value) -> Value {
    let map = |fields: Vec<Value>| -> Value {
        let data: serde_json::Map<String, Value> = fields
            .into_iter()
            .map(|f| (f["id"].as_str().unwrap().to_string(), f))
            .collect();
        json!({"data": data})
    };
    json!({
        "uuid": uuid, "address": address, "pins": pins,
        "node": {"key": address.rsplit(':').next().unwrap(), "data": {"name": uuid},
                 "model": {"inputs": map(inputs), "outputs": map(outputs)}}
    })
}

fn flopack() -> Value {
    let k = "root:kernel:";
    let methods = vec![
        card(
            "c0",
            &format!("{k}control:0.0.1:callable"),
            vec![field("c0i", "name", "string", json!(""), 0)],
            vec![field("c0o", "name", "string", json!(null), 0)],
            json!({"c0o": {"c1": [{"input": "c1t"}], "c3": [{"input": "c3b"}]}}),
        ),
        card(
            "c1",
            &format!("{k}string:0.0.1:compose"),
            vec![
                field("c1x", "_text_", "string", json!("Hello, {{{t1}}}!"), 0),
                field("c1t", "t1", "string", json!(""), 1),
            ],
            vec![field("c1o", "output", "string", json!(null), 0)],
            json!({"c1o": {"c2": [{"input": "c2i"}]}}),
        ),
        card(
            "c2",
            &format!("{k}string:0.0.1:toLowerCase"),
            vec![field("c2i", "string", "string", json!(""), 0)],
            vec![field("c2o", "output", "string", json!(null), 0)],
            json!({"c2o": {"c3": [{"input": "c3a"}]}}),
        ),
        card(
            "c3",
            &format!("{k}string:0.0.1:concat"),
            vec![
                field("c3a", "string1", "string", json!(""), 0),
                field("c3b", "string2", "string", json!(""), 1),
            ],
            vec![field("c3o", "output", "string", json!(null), 0)],
            json!({"c3o": {"c4": [{"input": "c4i"}]}}),
        ),
        card(
            "c4",
            &format!("{k}string:0.0.1:length"),
            vec![field("c4i", "string", "string", json!(""), 0)],
            vec![field("c4o", "length", "number", json!(null), 0)],
            json!({"c4o": {"c5": [{"input": "c5a"}]}}),
        ),
        card(
            "c5",
            &format!("{k}math:0.0.1:add"),
            vec![
                field("c5a", "a", "number", json!(0), 0),
                field("c5b", "b", "number", json!(1000), 1),
            ],
            vec![field("c5o", "output", "number", json!(null), 0)],
            json!({"c5o": {"c6": [{"input": "c6i"}]}}),
        ),
        card(
            "c6",
            &format!("{k}control:0.0.1:return"),
            vec![field("c6i", "total", "number", json!(0), 0)],
            vec![],
            json!({}),
        ),
    ];
    let orderings: serde_json::Map<String, Value> = (0..6)
        .map(|i| {
            (
                format!("o{i}"),
                json!([format!("c{i}"), format!("c{}", i + 1)]),
            )
        })
        .collect();
    json!({"type": "flopack", "version": "1.5.0", "data": {"flos": {"bench": {
        "id": "bench", "name": "bench",
        "data": {"uuid": "bench", "methods": methods, "orderings": orderings, "log": true}
    }}}})
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let bytes = serde_json::to_vec(&flopack()).unwrap();
    let import = steward_flows::import(&bytes).unwrap();
    assert!(import.report.runnable(), "{:?}", import.report);
    let program = Program::new(&import.flopack).unwrap();
    let registry = CardRegistry::standard();
    let engine = Engine::new(&program, &registry);
    let now = time::OffsetDateTime::now_utc();
    let input = json!({"name": "Ada"});
    const CARDS: f64 = 5.0;
    for persist in [false, true] {
        let mut per_card = Vec::with_capacity(runs);
        for i in 0..runs + runs / 10 {
            let started = Instant::now();
            let mut state =
                RunState::start(&program, "bench", "x", &input, now, &Limits::default()).unwrap();
            let finish = loop {
                match engine.step(&mut state, now) {
                    StepOutcome::Finished(f) => break f,
                    StepOutcome::Progress(records) => {
                        if persist && !records.is_empty() {
                            std::hint::black_box(serde_json::to_vec(&state).unwrap());
                        }
                    }
                    _ => {
                        let _: Option<ConnectorError> = None;
                        unreachable!("no connector cards")
                    }
                }
            };
            let micros = started.elapsed().as_secs_f64() * 1e6;
            assert_eq!(finish.output, json!({"total": 1014}));
            if i >= runs / 10 {
                per_card.push(micros / CARDS);
            }
        }
        per_card.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{}: {runs} runs of 5 function cards (+ Return): per card p50 {:.2} µs, p99 {:.2} µs",
            if persist {
                "interpreter + state serialised after each card"
            } else {
                "interpreter alone"
            },
            percentile(&per_card, 0.5),
            percentile(&per_card, 0.99)
        );
    }
}
