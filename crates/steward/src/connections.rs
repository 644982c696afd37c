//! `steward connections`: Workflows connections. With `--org URL --admin-token T` they act on a
//! running org through `/workflows/api/v1/connections`; without, on the server's own store
//! (`--data-dir` / `--database-url`, the master key beside it, and `--issuer`, the org's URL the
//! connection authorizes against).
//!
//! `authorize` of an authorization-code connection prints the URL to open (signed in as an admin
//! assigned to the app) and waits until the org's callback has stored the token.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use steward_app::flows::connections::{
    Authorization, ConnectionService, NewConnection, SEALING_LABEL,
};
use steward_app::Ctx;
use steward_store::Store;

use crate::remote::{urlencode, Org};
use crate::{print_json, GlobalArgs, Output};

#[derive(Subcommand)]
pub enum ConnectionsAction {
    /// List the connections (status, scopes in their token).
    List,
    /// Create a connection on an app (default: "Okta Workflows OAuth").
    Create {
        name: String,
        /// `okta` or `oig`.
        #[arg(long, default_value = "okta")]
        connector: String,
        /// The app (OAuth client) it authorizes as.
        #[arg(long)]
        app: Option<String>,
        /// The app's client secret (authorization-code apps); without it Steward adds a new
        /// secret to the app.
        #[arg(long, env = "STEWARD_CONNECTION_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
    },
    /// Authorize a connection: prints the URL to open and waits for the callback (a
    /// client-credentials connection gets its token at once).
    Authorize(AuthorizeArgs),
    /// Authorize again, so scopes granted since arrive (the old refresh token is revoked).
    Reauthorize(AuthorizeArgs),
    /// Health: refresh the token if due and introspect it (ACTIVE or BROKEN).
    Check { connection: String },
    /// Scopes: in the token, granted to the app, and what reauthorizing would add.
    Status { connection: String },
    /// Delete a connection.
    Delete { connection: String },
}

#[derive(clap::Args)]
pub struct AuthorizeArgs {
    /// The connection's id or name.
    pub connection: String,
    /// How long to wait for the callback, in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Print the URL and return without waiting.
    #[arg(long)]
    pub no_wait: bool,
}

const V1: &str = "/workflows/api/v1/connections";

/// Where the commands act: a running org, or the store with the connections' service.
enum Target {
    Remote(Org),
    Local {
        store: Store,
        service: ConnectionService,
    },
}

impl Target {
    async fn open(global: &GlobalArgs, issuer: Option<String>) -> Result<Target> {
        if let Some(org) = Org::from_args(&global.remote)? {
            return Ok(Target::Remote(org));
        }
        let store = global.storage.open_existing().await?;
        let key = steward_oauth::keys::derive_key(&global.storage.master_key()?, SEALING_LABEL);
        let issuer = issuer.unwrap_or_default();
        Ok(Target::Local {
            store,
            service: ConnectionService::new(key, &issuer),
        })
    }

    /// The id of the connection named by `id_or_name`.
    async fn id_of(&self, id_or_name: &str) -> Result<String> {
        for c in self.list().await? {
            if c["id"] == id_or_name || c["name"] == id_or_name {
                return Ok(c["id"].as_str().unwrap_or_default().to_string());
            }
        }
        bail!("no connection has the id or name {id_or_name:?}")
    }

    async fn list(&self) -> Result<Vec<Value>> {
        match self {
            Target::Remote(org) => {
                let (_, body) = org.call(reqwest::Method::GET, V1, None).await?;
                Ok(body.as_array().cloned().unwrap_or_default())
            }
            Target::Local { store, service } => {
                let all = service.list(&Ctx::system(store)).await?;
                Ok(all.iter().map(|c| json!(c)).collect())
            }
        }
    }

    async fn get(&self, id: &str) -> Result<Value> {
        match self {
            Target::Remote(org) => {
                let path = format!("{V1}/{}", urlencode(id));
                Ok(org.call(reqwest::Method::GET, &path, None).await?.1)
            }
            Target::Local { store, service } => {
                Ok(json!(service.get(&Ctx::system(store), id).await?))
            }
        }
    }

    async fn post(&self, id: &str, verb: &str) -> Result<Value> {
        match self {
            Target::Remote(org) => {
                let path = format!("{V1}/{}/{verb}", urlencode(id));
                Ok(org.call(reqwest::Method::POST, &path, None).await?.1)
            }
            Target::Local { store, service } => {
                let ctx = Ctx::system(store);
                Ok(match verb {
                    "authorize" | "reauthorize" => match service.authorize(&ctx, id).await? {
                        Authorization::Redirect { authorize_url } => {
                            json!({"authorizeUrl": authorize_url})
                        }
                        Authorization::Authorized(c) => json!(c),
                    },
                    "check" => json!(service.check(&ctx, id).await?),
                    _ => bail!("unknown action {verb}"),
                })
            }
        }
    }
}

fn print_connection(c: &Value) {
    let scopes: Vec<&str> = c["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!(
        "{}\t{}\t{}\t{}\t{}\t{}{}",
        c["id"].as_str().unwrap_or_default(),
        c["name"].as_str().unwrap_or_default(),
        c["connector"].as_str().unwrap_or_default(),
        c["authMethod"].as_str().unwrap_or_default(),
        c["status"].as_str().unwrap_or_default(),
        scopes.join(" "),
        c["lastError"]
            .as_str()
            .map(|e| format!("\terror: {e}"))
            .unwrap_or_default()
    );
}

fn show(c: &Value, output: Output) {
    match output {
        Output::Json => print_json(c),
        Output::Text => print_connection(c),
    }
}

pub async fn run(
    action: ConnectionsAction,
    issuer: Option<String>,
    global: &GlobalArgs,
) -> Result<()> {
    let output = global.output;
    let local_issuer = issuer.is_some();
    let target = Target::open(global, issuer).await?;
    let needs_issuer = matches!(
        action,
        ConnectionsAction::Create { .. }
            | ConnectionsAction::Authorize(_)
            | ConnectionsAction::Reauthorize(_)
    );
    if needs_issuer && !local_issuer && matches!(target, Target::Local { .. }) {
        bail!("on the store, give --issuer (the org's URL, where the callback is) or --org");
    }
    match action {
        ConnectionsAction::List => {
            let all = target.list().await?;
            match output {
                Output::Json => print_json(&Value::Array(all)),
                Output::Text => all.iter().for_each(print_connection),
            }
        }
        ConnectionsAction::Create {
            name,
            connector,
            app,
            client_secret,
        } => {
            let created = match &target {
                Target::Remote(org) => {
                    let mut body = json!({"name": name, "connector": connector});
                    if let Some(app) = app {
                        body["appId"] = json!(app);
                    }
                    if let Some(secret) = client_secret {
                        body["clientSecret"] = json!(secret);
                    }
                    org.call(reqwest::Method::POST, V1, Some(serde_json::to_vec(&body)?))
                        .await?
                        .1
                }
                Target::Local { store, service } => {
                    json!(
                        service
                            .create(
                                &Ctx::system(store),
                                NewConnection {
                                    name,
                                    connector: Some(connector),
                                    app_id: app,
                                    client_secret,
                                },
                            )
                            .await?
                    )
                }
            };
            show(&created, output);
        }
        ConnectionsAction::Authorize(args) => authorize(&target, args, "authorize", output).await?,
        ConnectionsAction::Reauthorize(args) => {
            authorize(&target, args, "reauthorize", output).await?
        }
        ConnectionsAction::Check { connection } => {
            let id = target.id_of(&connection).await?;
            let checked = target.post(&id, "check").await?;
            show(&checked, output);
            if checked["status"] != "ACTIVE" {
                std::process::exit(1);
            }
        }
        ConnectionsAction::Status { connection } => {
            let id = target.id_of(&connection).await?;
            let status = match &target {
                Target::Remote(org) => {
                    let path = format!("{V1}/{}/status", urlencode(&id));
                    org.call(reqwest::Method::GET, &path, None).await?.1
                }
                Target::Local { store, service } => {
                    json!(service.status(&Ctx::system(store), &id).await?)
                }
            };
            match output {
                Output::Json => print_json(&status),
                Output::Text => {
                    let list = |k: &str| -> String {
                        status[k]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    println!("connection {}", status["name"].as_str().unwrap_or_default());
                    println!("  in its token:      {}", list("tokenScopes"));
                    println!("  granted to app:    {}", list("appScopes"));
                    println!("  reauthorize adds:  {}", list("notInToken"));
                    println!("  flows need:        {}", list("flowsNeed"));
                }
            }
        }
        ConnectionsAction::Delete { connection } => {
            let id = target.id_of(&connection).await?;
            match &target {
                Target::Remote(org) => {
                    let path = format!("{V1}/{}", urlencode(&id));
                    org.call(reqwest::Method::DELETE, &path, None).await?;
                }
                Target::Local { store, service } => {
                    service.delete(&Ctx::system(store), &id).await?;
                }
            }
            if output == Output::Text {
                println!("deleted {id}");
            }
        }
    }
    Ok(())
}

async fn authorize(target: &Target, args: AuthorizeArgs, verb: &str, output: Output) -> Result<()> {
    let id = target.id_of(&args.connection).await?;
    let before = target.get(&id).await?;
    let answer = target.post(&id, verb).await?;
    let Some(url) = answer["authorizeUrl"].as_str() else {
        show(&answer, output);
        return Ok(());
    };
    match output {
        Output::Json if args.no_wait => print_json(&answer),
        Output::Json => {}
        Output::Text => {
            println!("Open this URL signed in as an admin assigned to the connection's app:");
            println!("{url}");
        }
    }
    if args.no_wait {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    loop {
        let now = target.get(&id).await?;
        let done = now["pending"] == false && now["authorizedAt"] != before["authorizedAt"];
        if done {
            show(&now, output);
            return Ok(());
        }
        if now["pending"] == false {
            bail!("the authorization ended without a token (refused or failed at the callback)");
        }
        if Instant::now() >= deadline {
            bail!(
                "no callback within {} s: the authorization is still waiting",
                args.timeout
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
