//! `steward flows`: Okta Workflows flows. `check` imports a `.flopack` and reports, card by
//! card, what Steward can run and why not.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use steward_flows::import::{FlowReport, Status};

use crate::{print_json, Output};

#[derive(Subcommand)]
pub enum FlowsAction {
    /// Import a `.flopack` without saving it and print what can run, card by card. Exits 1
    /// when any card cannot run.
    Check {
        /// The `.flopack` file (an Okta Workflows export).
        file: PathBuf,
    },
}

/// Whether every card can run.
pub fn run(action: FlowsAction, output: Output) -> Result<bool> {
    match action {
        FlowsAction::Check { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let import = steward_flows::import(&bytes)
                .with_context(|| format!("importing {}", file.display()))?;
            let report = &import.report;
            match output {
                Output::Json => {
                    let mut value = serde_json::to_value(report)?;
                    if let Some(object) = value.as_object_mut() {
                        object.insert("runnable".into(), report.runnable().into());
                    }
                    print_json(&value);
                }
                Output::Text => print_text(report),
            }
            Ok(report.runnable())
        }
    }
}

fn print_text(report: &steward_flows::Report) {
    for flow in &report.flows {
        print_flow(flow);
    }
    for connection in &report.connections {
        println!(
            "connection {:?} ({}): {} card(s); map it to a Steward connection on import",
            connection.name, connection.connector, connection.cards
        );
    }
    for table in &report.tables {
        println!("table {:?}: {}", table.name, table.columns.join(", "));
    }
    let total = report.cards().count();
    let blocked = report.unsupported().count();
    let problems: usize = report.flows.iter().map(|f| f.problems.len()).sum();
    println!(
        "{} of {total} cards can run; {blocked} cannot; {problems} flow problem(s).",
        total - blocked
    );
}

fn print_flow(flow: &FlowReport) {
    let kind = serde_json::to_value(flow.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match &flow.within {
        Some(within) => println!("block {within}"),
        None => println!("flow {:?} ({kind}, {})", flow.name, flow.id),
    }
    for problem in &flow.problems {
        println!("  PROBLEM {problem}");
    }
    for card in &flow.cards {
        let mark = if card.status == Status::Unsupported {
            "NO"
        } else {
            "ok"
        };
        let mut line = format!("  {mark} {} {} {:?}", card.uuid, card.card, card.name);
        if let Some(role) = &card.role {
            line.push_str(&format!(": {role}"));
        }
        for called in &card.calls {
            line.push_str(&format!(" → {:?}", called.name));
        }
        if let Some(connection) = &card.connection {
            line.push_str(&format!(" [connection {:?}]", connection.name));
        }
        println!("{line}");
        for reason in &card.reasons {
            println!("     why: {reason}");
        }
    }
}
