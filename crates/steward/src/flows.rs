//! `steward flows`: Okta Workflows flows. `check` imports a `.flopack` locally and reports,
//! card by card, what Steward can run and why not. The others act on a running org
//! (`--org URL --admin-token T`) through `/workflows/api/v1`: `import`, `export`, `list`, `on`,
//! `off`, `run` and `history`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use steward_flows::import::{FlowReport, Status};

use crate::remote::{urlencode, Org};
use crate::{print_json, Output, RemoteArgs};

#[derive(Subcommand)]
pub enum FlowsAction {
    /// Import a `.flopack` without saving it and print what can run, card by card. Exits 1
    /// when any card cannot run.
    Check {
        /// The `.flopack` file (an Okta Workflows export).
        file: PathBuf,
    },
    /// Import a `.flopack` into the org (refused, card by card, when a card cannot run). Prints
    /// the client token of each new API endpoint flow once.
    Import { file: PathBuf },
    /// Write a flow as a `.flopack` (imports again unchanged), or with --readable the
    /// review-friendly form.
    Export {
        flow_id: String,
        /// The file to write (standard output when absent).
        #[arg(long)]
        out: Option<PathBuf>,
        /// One block per card, in execution order, for review and version control.
        #[arg(long)]
        readable: bool,
    },
    /// List the org's flows.
    List,
    /// Switch a flow on.
    On { flow_id: String },
    /// Switch a flow off.
    Off { flow_id: String },
    /// Run a flow now with a JSON input (its trigger's fields); prints the queued execution.
    Run {
        flow_id: String,
        /// The input, a JSON object.
        #[arg(long, default_value = "{}")]
        input: String,
    },
    /// Workflows Tables: every table with its row count, or with a table id that table's
    /// rows (every page), one JSON object a line.
    Tables { table_id: Option<String> },
    /// Executions, newest first.
    History {
        /// Only this flow's.
        #[arg(long)]
        flow: Option<String>,
        /// QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED.
        #[arg(long)]
        status: Option<String>,
        /// Created at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// One execution, with its cards.
        #[arg(long)]
        id: Option<String>,
    },
}

const V1: &str = "/workflows/api/v1";

fn org(remote: &RemoteArgs) -> Result<Org> {
    Org::from_args(remote)?
        .context("this command acts on a running org: give --org and --admin-token")
}

/// The remote actions; `Ok(true)` when done.
async fn run_remote(action: FlowsAction, remote: &RemoteArgs, output: Output) -> Result<bool> {
    use reqwest::Method;
    let org = org(remote)?;
    match action {
        FlowsAction::Check { .. } => anyhow::bail!("check runs locally"),
        FlowsAction::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let (_, body) = org
                .call(Method::POST, &format!("{V1}/flows"), Some(bytes))
                .await?;
            match output {
                Output::Json => print_json(&body),
                Output::Text => {
                    for f in body["flows"].as_array().into_iter().flatten() {
                        println!(
                            "imported {}\t{}\t{}",
                            f["id"].as_str().unwrap_or_default(),
                            f["type"].as_str().unwrap_or_default(),
                            f["name"].as_str().unwrap_or_default()
                        );
                    }
                    for t in body["clientTokens"].as_array().into_iter().flatten() {
                        println!(
                            "client token of {} (shown once): {}",
                            t["flowId"].as_str().unwrap_or_default(),
                            t["clientToken"].as_str().unwrap_or_default()
                        );
                    }
                }
            }
        }
        FlowsAction::Export {
            flow_id,
            out,
            readable,
        } => {
            let path = format!("{V1}/flows/{}/export", urlencode(&flow_id));
            let (_, body) = org.call(Method::GET, &path, None).await?;
            let flopack: steward_flows::Flopack =
                serde_json::from_value(body).context("the org's export is not a flopack")?;
            let bytes = if readable {
                steward_flows::readable(&flopack).into_bytes()
            } else {
                steward_flows::export(&flopack)?
            };
            match out {
                Some(file) => std::fs::write(&file, bytes)
                    .with_context(|| format!("writing {}", file.display()))?,
                None => print!("{}", String::from_utf8_lossy(&bytes)),
            }
        }
        FlowsAction::List => {
            let flows = org.list_all(&format!("{V1}/flows")).await?;
            match output {
                Output::Json => print_json(&serde_json::Value::Array(flows)),
                Output::Text => {
                    if flows.is_empty() {
                        println!("no flows");
                    }
                    for f in flows {
                        println!(
                            "{}\t{}\t{}\t{}",
                            f["id"].as_str().unwrap_or_default(),
                            if f["active"] == true { "on" } else { "off" },
                            f["type"].as_str().unwrap_or_default(),
                            f["name"].as_str().unwrap_or_default()
                        );
                    }
                }
            }
        }
        FlowsAction::Tables { table_id: None } => {
            let tables = org.list_all(&format!("{V1}/tables")).await?;
            match output {
                Output::Json => print_json(&serde_json::Value::Array(tables)),
                Output::Text => {
                    for t in tables {
                        println!(
                            "{}\t{} rows\t{}",
                            t["id"].as_str().unwrap_or_default(),
                            t["rowCount"].as_i64().unwrap_or_default(),
                            t["name"].as_str().unwrap_or_default()
                        );
                    }
                }
            }
        }
        FlowsAction::Tables { table_id: Some(id) } => {
            let rows = org
                .list_all(&format!(
                    "{V1}/tables/{}/rows",
                    crate::remote::urlencode(&id)
                ))
                .await?;
            match output {
                Output::Json => print_json(&serde_json::Value::Array(rows)),
                Output::Text => {
                    for r in rows {
                        println!("{r}");
                    }
                }
            }
        }
        FlowsAction::On { flow_id } => switch(&org, &flow_id, true, output).await?,
        FlowsAction::Off { flow_id } => switch(&org, &flow_id, false, output).await?,
        FlowsAction::Run { flow_id, input } => {
            let value: serde_json::Value =
                serde_json::from_str(&input).context("--input is not JSON")?;
            let path = format!("{V1}/flows/{}/runs", urlencode(&flow_id));
            let (_, run) = org
                .call(Method::POST, &path, Some(serde_json::to_vec(&value)?))
                .await?;
            match output {
                Output::Json => print_json(&run),
                Output::Text => println!(
                    "execution {} {}",
                    run["id"].as_str().unwrap_or_default(),
                    run["status"].as_str().unwrap_or_default()
                ),
            }
        }
        FlowsAction::History {
            flow,
            status,
            since,
            limit,
            id,
        } => {
            if let Some(id) = id {
                let path = format!("{V1}/executions/{}", urlencode(&id));
                let (_, run) = org.call(Method::GET, &path, None).await?;
                match output {
                    Output::Json => print_json(&run),
                    Output::Text => {
                        print_run(&run);
                        for c in run["cards"].as_array().into_iter().flatten() {
                            println!(
                                "  {}\t{}\t{}µs\t{}{}",
                                c["index"],
                                c["status"].as_str().unwrap_or_default(),
                                c["durationMicros"],
                                c["name"].as_str().unwrap_or_default(),
                                c["error"]
                                    .as_str()
                                    .map(|e| format!(": {e}"))
                                    .unwrap_or_default()
                            );
                        }
                    }
                }
                return Ok(true);
            }
            let mut query = vec![format!("limit={limit}")];
            for (key, value) in [("flowId", flow), ("status", status), ("since", since)] {
                if let Some(v) = value {
                    query.push(format!("{key}={}", urlencode(&v)));
                }
            }
            let path = format!("{V1}/executions?{}", query.join("&"));
            let (_, runs) = org.call(Method::GET, &path, None).await?;
            match output {
                Output::Json => print_json(&runs),
                Output::Text => {
                    for run in runs.as_array().into_iter().flatten() {
                        print_run(run);
                    }
                }
            }
        }
    }
    Ok(true)
}

fn print_run(run: &serde_json::Value) {
    println!(
        "{}\t{}\t{}\t{}\t{}",
        run["id"].as_str().unwrap_or_default(),
        run["status"].as_str().unwrap_or_default(),
        run["flowId"].as_str().unwrap_or_default(),
        run["created"].as_str().unwrap_or_default(),
        run["error"]["message"].as_str().unwrap_or_default()
    );
}

async fn switch(org: &Org, flow_id: &str, on: bool, output: Output) -> Result<()> {
    let verb = if on { "activate" } else { "deactivate" };
    let path = format!("{V1}/flows/{}/{verb}", urlencode(flow_id));
    let (_, flow) = org.call(reqwest::Method::POST, &path, None).await?;
    match output {
        Output::Json => print_json(&flow),
        Output::Text => println!(
            "{} is {}",
            flow["name"].as_str().unwrap_or_default(),
            if on { "on" } else { "off" }
        ),
    }
    Ok(())
}

/// Whether every card can run (`check`), or the remote action was done.
pub async fn run(action: FlowsAction, remote: &RemoteArgs, output: Output) -> Result<bool> {
    match action {
        FlowsAction::Check { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let import =
                steward_flows::import::import_with(&bytes, &steward_app::flows::server_registry())
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
        other => run_remote(other, remote, output).await,
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
