//! `steward`: the server binary. `steward serve` runs the org; `steward tokens` manages SSWS
//! API tokens directly on the store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use steward_api::bootstrap::{self, BOOTSTRAP_ADMIN_LOGIN};
use steward_api::ratelimit::RateLimits;
use steward_api::{AppState, Config};
use steward_store::{Store, StoreConfig};

#[derive(Parser)]
#[command(
    name = "steward",
    version,
    about = "Self-hosted identity governance that speaks Okta's APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage SSWS API tokens.
    Tokens {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Args, Clone)]
struct StorageArgs {
    /// Directory for the embedded SQLite database (WAL mode).
    #[arg(long, env = "STEWARD_DATA_DIR", default_value = "./steward-data")]
    data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; overrides --data-dir.
    #[arg(long, env = "STEWARD_DATABASE_URL")]
    database_url: Option<String>,
    /// Connections in the pool.
    #[arg(long, env = "STEWARD_DB_CONNECTIONS", default_value_t = 16)]
    db_connections: u32,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Address and port to listen on.
    #[arg(long, env = "STEWARD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The org URL used in every link, token and challenge (default: http:// + listen address).
    #[arg(long, env = "STEWARD_ISSUER")]
    issuer: Option<String>,
    /// Seed a realistic demo org on an empty store.
    #[arg(long, env = "STEWARD_DEMO")]
    demo: bool,
    /// Requests per minute per credential.
    #[arg(long, env = "STEWARD_RATE_LIMIT_PER_TOKEN", default_value_t = 6000)]
    rate_limit_per_token: u32,
    /// Requests per minute per client address.
    #[arg(long, env = "STEWARD_RATE_LIMIT_PER_ADDRESS", default_value_t = 60000)]
    rate_limit_per_address: u32,
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token for an admin; prints it once.
    Create {
        #[arg(long)]
        name: String,
        /// The admin the token acts as.
        #[arg(long, default_value = BOOTSTRAP_ADMIN_LOGIN)]
        user: String,
    },
    /// List tokens (never their values).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

impl StorageArgs {
    async fn open(&self) -> Result<Store> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("creating {}", self.data_dir.display()))?;
                format!(
                    "sqlite://{}?mode=rwc",
                    self.data_dir.join("steward.db").display()
                )
            }
        };
        Store::open(&StoreConfig {
            url,
            max_connections: self.db_connections,
        })
        .await
        .context("opening the store")
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "steward=info,warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::Tokens { storage, action } => tokens(storage, action).await,
    }
}

async fn serve(args: ServeArgs) -> Result<()> {
    let started = Instant::now();
    let store = args.storage.open().await?;
    let admin_password = std::env::var("STEWARD_BOOTSTRAP_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let api_token = std::env::var("STEWARD_BOOTSTRAP_API_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let report =
        bootstrap::ensure_org(&store, admin_password.as_deref(), api_token.as_deref()).await?;
    if args.demo && bootstrap::seed_demo(&store).await? {
        println!("Seeded the demo org: 50 users (password DemoPassw0rd!), 12 groups, 4 apps.");
    }
    let issuer = args
        .issuer
        .unwrap_or_else(|| format!("http://{}", args.listen))
        .trim_end_matches('/')
        .to_string();
    if !issuer.starts_with("http://") && !issuer.starts_with("https://") {
        bail!("--issuer must be an http(s) URL");
    }
    let config = Config {
        issuer: issuer.clone(),
        rate_limits: RateLimits {
            per_token: args.rate_limit_per_token,
            per_address: args.rate_limit_per_address,
        },
    };
    let app = steward_api::router(AppState::new(store, config));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    if report.admin_created {
        println!("Created the org's Super Admin {BOOTSTRAP_ADMIN_LOGIN}.");
    }
    if let Some(password) = report.generated_password {
        println!("Its generated password (shown once): {password}");
    }
    if report.token_created {
        println!("Created the SSWS API token from STEWARD_BOOTSTRAP_API_TOKEN.");
    }
    println!(
        "Steward is listening on {issuer} (ready in {} ms).",
        started.elapsed().as_millis()
    );
    println!("Call the API with: curl -H 'Authorization: SSWS <token>' {issuer}/api/v1/users");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving")
}

async fn tokens(storage: StorageArgs, action: TokenAction) -> Result<()> {
    let store = storage.open().await?;
    match action {
        TokenAction::Create { name, user } => {
            let (token, value) = bootstrap::create_api_token(&store, &name, &user).await?;
            println!(
                "Created token {} ({}) for {user}. Its value, shown once:",
                token.id, token.name
            );
            println!("{value}");
        }
        TokenAction::List => {
            for t in store.api_tokens().await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}\t{state}", t.id, t.name, t.user_id);
            }
        }
        TokenAction::Revoke { id } => {
            let t = bootstrap::revoke_api_token(&store, &id).await?;
            println!("Revoked token {} ({}).", t.id, t.name);
        }
    }
    Ok(())
}
