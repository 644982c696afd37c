//! Imports every `.flopack` under a directory (Okta's published templates:
//! `git clone https://github.com/okta/workflows-templates`) and prints the coverage table of
//! docs/workflows.md: how many import, how many runnable, and each card type's support.
//!
//! `cargo run -p steward-flows --example coverage -- DIR`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use steward_flows::import::Status;

fn flopacks(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            flopacks(&path, found);
        } else if path.extension().is_some_and(|e| e == "flopack") {
            found.push(path);
        }
    }
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: coverage DIR");
    let mut files = Vec::new();
    flopacks(Path::new(&dir), &mut files);
    let (mut imported, mut runnable, mut lossless, mut flows, mut planned) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    // card type → (uses, supported uses, status, a reason)
    let mut cards: BTreeMap<String, (usize, usize, Status, String)> = BTreeMap::new();
    // The standard cards and the Tables cards (steward-app's `TableConnectors`), which need no
    // connection.
    let mut registry = steward_flows::CardRegistry::standard();
    for action in [
        "searchRows2",
        "readRow",
        "createRow",
        "updateRow",
        "deleteRow",
        "clearTable",
        "readTable",
    ] {
        registry.connector("stash", action);
    }
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        match steward_flows::import::import_with(&bytes, &registry) {
            Err(e) => failures.push(format!("{}: {e}", file.display())),
            Ok(import) => {
                imported += 1;
                let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let again = steward_flows::import(&steward_flows::export(&import.flopack).unwrap())
                    .unwrap();
                if serde_json::to_value(&import.flopack).unwrap() == original
                    && again.flopack == import.flopack
                {
                    lossless += 1;
                }
                if import.report.runnable() {
                    runnable += 1;
                }
                for flow in &import.report.flows {
                    flows += 1;
                    if !flow.problems.iter().any(|p| p.contains("ordered")) {
                        planned += 1;
                    }
                    for problem in &flow.problems {
                        eprintln!("{}: {}: {problem}", file.display(), flow.name);
                    }
                    for card in &flow.cards {
                        let entry = cards.entry(card.card.clone()).or_insert((
                            0,
                            0,
                            card.status,
                            String::new(),
                        ));
                        entry.0 += 1;
                        if card.status == Status::Unsupported {
                            entry.2 = Status::Unsupported;
                            if entry.3.is_empty() {
                                entry.3 = card.reasons.join("; ");
                            }
                        } else {
                            entry.1 += 1;
                        }
                    }
                }
            }
        }
    }
    println!("| | count |\n|---|---|");
    println!("| flopacks | {} |", files.len());
    println!("| import | {imported} |");
    println!("| export and import again unchanged (lossless) | {lossless} |");
    println!("| every card runnable | {runnable} |");
    println!("| flows and inline blocks | {flows} |");
    println!("| ordered into a plan | {planned} |");
    let total: usize = cards.values().map(|c| c.0).sum();
    let supported: usize = cards.values().map(|c| c.1).sum();
    let types_supported = cards.values().filter(|c| c.1 == c.0).count();
    println!("| card uses supported | {supported} of {total} |");
    println!(
        "| card types fully supported | {types_supported} of {} |",
        cards.len()
    );
    for failure in &failures {
        println!("\nfailed: {failure}");
    }
    let mut rows: Vec<_> = cards.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    let status = |status: &Status, reason: &str| match status {
        Status::Unsupported => reason.to_string(),
        other => format!("{other:?}").to_lowercase(),
    };
    println!("\n### Function, control and trigger cards (`root:kernel:…`)\n");
    println!("| card | uses | supported | status / reason |\n|---|---|---|---|");
    for (card, (uses, ok, st, reason)) in rows.iter().filter(|r| r.0.starts_with("kernel:")) {
        println!("| `{card}` | {uses} | {ok} | {} |", status(st, reason));
    }
    // Connector cards: one row per connector, then the actions of Okta, Tables and HTTP.
    let mut connectors: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for (card, (uses, ok, _, _)) in rows.iter().filter(|r| !r.0.starts_with("kernel:")) {
        let connector = card.split(':').next().unwrap_or("");
        let entry = connectors.entry(connector).or_default();
        entry.0 += 1;
        entry.1 += uses;
        entry.2 += ok;
    }
    let mut connectors: Vec<_> = connectors.into_iter().collect();
    connectors.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(b.0)));
    println!("\n### Connector cards (`root:channels:http:…`), by connector\n");
    println!("| connector | card types | uses | supported |\n|---|---|---|---|");
    for (connector, (types, uses, ok)) in connectors {
        println!("| `{connector}` | {types} | {uses} | {ok} |");
    }
    for connector in ["okta", "stash", "httpfunctions"] {
        println!("\n### `{connector}` actions\n");
        println!("| card | uses | supported | status / reason |\n|---|---|---|---|");
        for (card, (uses, ok, st, reason)) in rows
            .iter()
            .filter(|r| r.0.starts_with(&format!("{connector}:")))
        {
            // Every connector card has the same reason today: the doc says it once.
            let reason = if reason.contains(" connector yet") {
                "not yet"
            } else {
                reason
            };
            println!("| `{card}` | {uses} | {ok} | {} |", status(st, reason));
        }
    }
}
