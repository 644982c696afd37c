//! `steward`: the server binary. `steward serve` runs the org; `steward tokens` manages SSWS
//! API tokens directly on the store.

mod connections;
mod doctor;
mod flows;
mod remote;
mod tls;

/// mimalloc: JSON rendering allocates a lot of small objects; the system allocator spent a third
/// of the time of a 200-user list in malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder as AutoBuilder;
use steward_api::oauth::AuthServer;
use steward_api::ratelimit::RateLimits;
use steward_api::{AppState, Config};
use steward_app::bootstrap::{self, BOOTSTRAP_ADMIN_LOGIN};
use steward_store::{Store, StoreConfig};

#[derive(Parser)]
#[command(
    name = "steward",
    version,
    about = "Self-hosted identity governance that speaks Okta's APIs"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command accepts, before or after its subcommand (`steward --data-dir D tokens
/// list` and `steward tokens list --data-dir D` are the same).
#[derive(Args, Clone)]
struct GlobalArgs {
    #[command(flatten)]
    storage: StorageArgs,
    #[command(flatten)]
    remote: RemoteArgs,
    /// How results are printed: text for people, json for scripts.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    output: Output,
}

/// A running org, for the commands that act over its API instead of on a data dir.
#[derive(Args, Clone)]
pub struct RemoteArgs {
    /// The URL of a running org (e.g. https://steward.example). With it, `tokens` and `keys`
    /// act over the org's API instead of on a data dir.
    #[arg(long, env = "STEWARD_ORG_URL", global = true)]
    pub org: Option<String>,
    /// A Super Admin's SSWS API token for --org (never printed).
    #[arg(long, env = "STEWARD_API_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<String>,
    /// Accept a self-signed certificate (a `serve --tls` org).
    #[arg(long, global = true)]
    pub insecure: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage SSWS API tokens.
    Tokens {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage the authorization server's signing keys.
    Keys {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Explain a failing API call or an app's scope grants, and how to fix them.
    Doctor(doctor::DoctorArgs),
    /// Break-glass administration, run on the server's own store.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Print every guarded API route with its scope, permission and least admin role.
    Routes(RoutesArgs),
    /// Okta Workflows flows (`.flopack` files).
    Flows {
        #[command(subcommand)]
        action: flows::FlowsAction,
    },
    /// Workflows connections: OAuth clients of the org that flows call it with.
    Connections {
        /// The org's URL (its issuer), for commands on the store that talk to the org.
        #[arg(long, env = "STEWARD_ISSUER", global = true)]
        issuer: Option<String>,
        #[command(subcommand)]
        action: connections::ConnectionsAction,
    },
}

#[derive(Args)]
struct RoutesArgs {
    /// One JSON array of routes (what tools/api_coverage.py reads).
    #[arg(long, conflicts_with = "roles_md")]
    json: bool,
    /// `docs/roles.md`: each role type, what it allows, and the least role of every route.
    #[arg(long)]
    roles_md: bool,
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make a user an ACTIVE Super Admin again (or create one) and print a new SSWS API token for
    /// it, once. For an org locked out of its own API; every change goes to the System Log.
    Recover {
        /// The user to recover (created as a Super Admin if no user has this login).
        #[arg(long, default_value = BOOTSTRAP_ADMIN_LOGIN)]
        login: String,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Promote the next key to active, retire the active one, and make a new next key.
    Rotate,
    /// List the keys (kid, status, created).
    List,
}

#[derive(Args, Clone)]
struct StorageArgs {
    /// Directory for the embedded SQLite database (WAL mode).
    #[arg(
        long,
        env = "STEWARD_DATA_DIR",
        default_value = "./steward-data",
        global = true
    )]
    data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; overrides --data-dir (never printed: it may hold a
    /// password).
    #[arg(
        long,
        env = "STEWARD_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    database_url: Option<String>,
    /// Connections in the pool.
    #[arg(
        long,
        env = "STEWARD_DB_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    db_connections: u32,
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "STEWARD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The org URL used in every link, token and challenge (default: http:// + listen address).
    #[arg(long, env = "STEWARD_ISSUER")]
    issuer: Option<String>,
    /// Seed a realistic demo org on an empty store.
    #[arg(long, env = "STEWARD_DEMO")]
    demo: bool,
    /// Serve HTTPS with a self-signed certificate generated into the data dir.
    #[arg(long, env = "STEWARD_TLS")]
    tls: bool,
    /// Rotate the signing keys when the active key is this many days old.
    #[arg(long, env = "STEWARD_KEY_ROTATION_DAYS", default_value_t = 90)]
    key_rotation_days: u64,
    /// Keep domain events in the outbox this many days (nodes read them within seconds; the
    /// rest is for inspection and for consumers that catch up later).
    #[arg(long, env = "STEWARD_OUTBOX_RETENTION_DAYS", default_value_t = 7)]
    outbox_retention_days: u64,
    /// Requests per minute per credential.
    #[arg(long, env = "STEWARD_RATE_LIMIT_PER_TOKEN", default_value_t = 6000)]
    rate_limit_per_token: u32,
    /// Requests per minute per client address.
    #[arg(long, env = "STEWARD_RATE_LIMIT_PER_ADDRESS", default_value_t = 60000)]
    rate_limit_per_address: u32,
    /// Milliseconds a client may take to send a request's headers, and an idle keep-alive
    /// connection may wait for its next request (hidden: tests shorten it).
    #[arg(
        long,
        env = "STEWARD_HEADER_READ_TIMEOUT_MS",
        default_value_t = 30_000,
        hide = true
    )]
    header_read_timeout_ms: u64,
    /// Milliseconds a request may take from its head to its answer, body included (hidden).
    #[arg(
        long,
        env = "STEWARD_REQUEST_TIMEOUT_MS",
        default_value_t = 60_000,
        hide = true
    )]
    request_timeout_ms: u64,
    /// Milliseconds in-flight requests get to finish after SIGINT or SIGTERM (hidden).
    #[arg(
        long,
        env = "STEWARD_SHUTDOWN_TIMEOUT_MS",
        default_value_t = 10_000,
        hide = true
    )]
    shutdown_timeout_ms: u64,
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
    /// The master key that seals signing keys at rest: `STEWARD_MASTER_KEY` (base64url, 32
    /// bytes), else `master.key` in the data dir, created on first use (mode 0600). Nodes that
    /// share a database must share the key.
    fn master_key(&self) -> Result<[u8; 32]> {
        if let Ok(encoded) = std::env::var("STEWARD_MASTER_KEY") {
            return steward_oauth::keys::parse_master_key(encoded.trim())
                .context("STEWARD_MASTER_KEY");
        }
        let path = self.data_dir.join("master.key");
        read_or_create_master_key(&path)
    }

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

impl StorageArgs {
    /// Opens a store that already exists, and refuses anything else: a data dir without
    /// `steward.db`, a SQLite file that is not there, a database without Steward's schema. Nothing
    /// is created (the URL is never printed: it may hold a password).
    async fn open_existing(&self) -> Result<Store> {
        let (url, shown) = match &self.database_url {
            Some(url) => {
                if let Some(rest) = url.strip_prefix("sqlite:") {
                    let rest = rest.trim_start_matches("//");
                    let path = rest.split('?').next().unwrap_or(rest);
                    if !Path::new(path).is_file() {
                        bail!("no SQLite database at {path}: refusing to create one");
                    }
                }
                (url.clone(), "the database of --database-url".to_string())
            }
            None => {
                let db = self.data_dir.join("steward.db");
                if !db.is_file() {
                    bail!(
                        "no Steward store in {} (no steward.db there): refusing to create one",
                        self.data_dir.display()
                    );
                }
                (
                    format!("sqlite://{}?mode=rw", db.display()),
                    db.display().to_string(),
                )
            }
        };
        let config = StoreConfig {
            url,
            max_connections: self.db_connections.min(4),
        };
        match Store::open_existing(&config).await {
            Ok(store) => Ok(store),
            Err(steward_store::StoreError::NotFound) => {
                bail!("{shown} holds no Steward store: refusing to create one")
            }
            Err(e) => Err(e).with_context(|| format!("opening {shown}")),
        }
    }
}

fn read_or_create_master_key(path: &Path) -> Result<[u8; 32]> {
    let read = |path: &Path| -> Result<[u8; 32]> {
        let encoded = std::fs::read_to_string(path)?;
        steward_oauth::keys::parse_master_key(encoded.trim())
            .with_context(|| format!("reading {}", path.display()))
    };
    if path.exists() {
        return read(path);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let key = steward_oauth::keys::generate_master_key();
    match write_private(path, &steward_oauth::keys::encode_master_key(&key)) {
        Ok(()) => Ok(key),
        // Another process created it first: use theirs.
        Err(_) if path.exists() => read(path),
        Err(e) => Err(e),
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "steward=info,warn".into()),
        )
        .init();
    let Cli { global, command } = Cli::parse();
    match command {
        Command::Serve(args) => serve(global.storage, args).await,
        Command::Tokens { action } => tokens(&global, action).await,
        Command::Keys { action } => keys(&global, action).await,
        Command::Doctor(args) => {
            // Exit 1 while the call would still fail, so scripts can tell.
            if !doctor::run(args, &global.remote, global.output).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Admin { action } => admin(&global, action).await,
        Command::Routes(args) => routes(&args, global.output),
        Command::Connections { issuer, action } => connections::run(action, issuer, &global).await,
        Command::Flows { action } => {
            // Exit 1 when a card cannot run, so CI can gate on it.
            if !flows::run(action, &global.remote, global.output).await? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

async fn serve(storage: StorageArgs, args: ServeArgs) -> Result<()> {
    let started = Instant::now();
    let store = storage.open().await?;
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
    let scheme = if args.tls { "https" } else { "http" };
    let issuer = args
        .issuer
        .unwrap_or_else(|| format!("{scheme}://{}", args.listen))
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
        request_timeout: Duration::from_millis(args.request_timeout_ms.max(1)),
    };
    let auth = Arc::new(
        AuthServer::start(&store, storage.master_key()?)
            .await
            .context("loading the signing keys")?,
    );
    spawn_housekeeping(
        store.clone(),
        auth.clone(),
        Duration::from_secs(args.key_rotation_days * 86_400),
        Duration::from_secs(args.outbox_retention_days.saturating_mul(86_400)),
    );
    let demo_apps = if args.demo {
        bootstrap::register_workflows_callback(&store, &issuer).await?;
        bootstrap::demo_client_apps(&store).await?
    } else {
        Vec::new()
    };
    let state = AppState::new(store, config, auth);
    // Changes committed by other nodes reach this node's caches within a second.
    steward_api::outbox::OutboxFollower::new(&state)
        .await
        .context("reading the outbox")?
        .spawn();
    steward_api::governance::spawn_scheduler(state.clone(), Duration::from_secs(5));
    // Queued flow runs (manual runs, Call Flow Async, retries, runs a crashed node left).
    let _flow_worker = state.spawn_flow_worker();
    let console = steward_console::router(state.clone(), steward_console::Settings::default())
        .await
        .context("starting the Admin Console")?;
    let dashboard =
        steward_console::end_user_router(state.clone(), steward_console::Settings::default())
            .await
            .context("starting the end-user dashboard")?;
    let app = steward_api::router_with(state, vec![("/admin", console), ("/app", dashboard)]);
    if report.admin_created {
        println!("Created the org's Super Admin {BOOTSTRAP_ADMIN_LOGIN}.");
    }
    if let Some(password) = report.generated_password {
        println!("Its generated password (shown once): {password}");
    }
    if report.token_created {
        println!("Created the SSWS API token from STEWARD_BOOTSTRAP_API_TOKEN.");
    }
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let header_read_timeout = Duration::from_millis(args.header_read_timeout_ms.max(1));
    let grace = Duration::from_millis(args.shutdown_timeout_ms);
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        let signal = shutdown_signal().await;
        tracing::info!(
            signal,
            grace_ms = grace.as_millis() as u64,
            "shutting down: no new connections, in-flight requests may finish"
        );
        shutdown.graceful_shutdown(Some(grace));
    });
    let served = if args.tls {
        let (config, fingerprint) = tls::self_signed(&storage.data_dir, args.listen).await?;
        println!("TLS certificate SHA-256 fingerprint: {fingerprint}");
        println!(
            "Steward is listening on {issuer} (ready in {} ms).",
            started.elapsed().as_millis()
        );
        print_demo_credentials(&issuer, &demo_apps, true);
        let mut server = axum_server::bind_rustls(args.listen, config)
            .handle(handle)
            .map(|tls| FirstBytes::acceptor(tls, header_read_timeout));
        configure_http(server.http_builder(), header_read_timeout);
        server.serve(service).await
    } else {
        let listener = std::net::TcpListener::bind(args.listen)
            .with_context(|| format!("binding {}", args.listen))?;
        println!(
            "Steward is listening on {issuer} (ready in {} ms).",
            started.elapsed().as_millis()
        );
        println!("Call the API with: curl -H 'Authorization: SSWS <token>' {issuer}/api/v1/users");
        print_demo_credentials(&issuer, &demo_apps, false);
        let mut server = axum_server::from_tcp(listener)
            .handle(handle)
            .map(|plain| FirstBytes::acceptor(plain, header_read_timeout));
        configure_http(server.http_builder(), header_read_timeout);
        server.serve(service).await
    };
    served.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

/// How to get a usable credential for each demo client app (their secrets are never shown).
fn print_demo_credentials(issuer: &str, apps: &[steward_core::apps::App], tls: bool) {
    for app in apps {
        println!("{}", bootstrap::demo_credential_hint(issuer, app, tls));
    }
}

/// HTTP/1.1 only, with hyper's timer so that its header-read timeout applies: a client gets
/// `header_read_timeout` to send each request's headers, counted from the moment the connection
/// is ready for a request (so it also closes idle keep-alive connections). HTTP/2 is not served:
/// hyper has no header or idle timeout for it, and the TLS listener offers no ALPN anyway.
fn configure_http(builder: &mut AutoBuilder<TokioExecutor>, header_read_timeout: Duration) {
    *builder = AutoBuilder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
}

/// hyper-util first reads up to 24 bytes to tell HTTP/1 from HTTP/2, with no timer, before
/// hyper's header-read timeout starts: a client that connects and sends nothing (or a prefix of
/// the HTTP/2 preface) would hold the connection forever. This wrapper fails reads with
/// `TimedOut` once `timeout` has passed since the connection was accepted (after TLS) while
/// fewer than [`FirstBytes::GRACE_BYTES`] bytes have arrived; after that it stays out of the way.
struct FirstBytes<S> {
    inner: S,
    deadline: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    read: usize,
}

#[derive(Clone)]
struct FirstBytesAcceptor<A> {
    inner: A,
    timeout: Duration,
}

impl<S> FirstBytes<S> {
    const GRACE_BYTES: usize = 24;
}

impl FirstBytes<()> {
    fn acceptor<A>(inner: A, timeout: Duration) -> FirstBytesAcceptor<A> {
        FirstBytesAcceptor { inner, timeout }
    }
}

impl<A, I, S> axum_server::accept::Accept<I, S> for FirstBytesAcceptor<A>
where
    A: axum_server::accept::Accept<I, S>,
    A::Future: Send + 'static,
{
    type Stream = FirstBytes<A::Stream>;
    type Service = A::Service;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::io::Result<(Self::Stream, Self::Service)>> + Send,
        >,
    >;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let accepted = self.inner.accept(stream, service);
        let timeout = self.timeout;
        Box::pin(async move {
            let (inner, service) = accepted.await?;
            let stream = FirstBytes {
                inner,
                deadline: Some(Box::pin(tokio::time::sleep(timeout))),
                read: 0,
            };
            Ok((stream, service))
        })
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for FirstBytes<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let before = buf.filled().len();
        let this = &mut *self;
        match std::pin::Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.read += buf.filled().len() - before;
                if this.read >= Self::GRACE_BYTES {
                    this.deadline = None;
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|d| std::future::Future::poll(d.as_mut(), cx).is_ready());
                if expired {
                    Poll::Ready(Err(std::io::ErrorKind::TimedOut.into()))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for FirstBytes<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Waits for SIGINT (Ctrl-C) or, on Unix, SIGTERM (systemd, Docker, Kubernetes); names it.
async fn shutdown_signal() -> &'static str {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                () = interrupt => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                interrupt.await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        interrupt.await;
        "Ctrl-C"
    }
}

/// Background work of every node: learn revocations made elsewhere (every second), pick up keys
/// rotated elsewhere and prune expired records and old outbox events (every minute), and rotate
/// keys when they are due (checked hourly).
fn spawn_housekeeping(
    store: Store,
    auth: Arc<AuthServer>,
    rotate_after: Duration,
    outbox_retention: Duration,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            if let Err(e) = auth.refresh_revocations(&store).await {
                tracing::warn!(error = %e, "polling revocations failed");
            }
            if n.is_multiple_of(60) {
                if let Err(e) = auth.reload_keys(&store).await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
                }
                if let Err(e) = purge_expired(&store).await {
                    tracing::warn!(error = %e, "purging expired OAuth records failed");
                }
                if let Err(e) = prune_outbox(&store, outbox_retention).await {
                    tracing::warn!(error = %e, "pruning old outbox events failed");
                }
            }
            if n % 3600 == 1 {
                match auth.rotate_if_due(&store, rotate_after).await {
                    Ok(Some(kid)) => tracing::info!(%kid, "rotated the signing keys"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "key rotation failed"),
                }
            }
        }
    });
}

async fn prune_outbox(store: &Store, retention: Duration) -> Result<(), steward_store::StoreError> {
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let before = steward_core::timefmt::now_millis().saturating_sub(retention_ms);
    let mut tx = store.begin().await?;
    tx.prune_outbox(before).await?;
    tx.commit().await
}

async fn purge_expired(store: &Store) -> Result<(), steward_store::StoreError> {
    let mut tx = store.begin().await?;
    tx.purge_expired(steward_core::timefmt::now_millis())
        .await?;
    tx.commit().await
}

async fn keys(global: &GlobalArgs, action: KeyAction) -> Result<()> {
    if let Some(org) = remote::Org::from_args(&global.remote)? {
        return match action {
            KeyAction::List => remote::list_keys(&org, global.output).await,
            KeyAction::Rotate => bail!(
                "keys rotate works on the server's store only (--data-dir or --database-url): \
                 Okta's API has no call to rotate the org authorization server's keys"
            ),
        };
    }
    // Only `serve` creates a store: a mistyped --data-dir must not yield an empty org.
    let store = global.storage.open_existing().await?;
    let master = global.storage.master_key()?;
    let auth = AuthServer::start(&store, master)
        .await
        .context("loading the signing keys")?;
    match action {
        KeyAction::Rotate => {
            let (kid, promoted) = auth.rotate(&store).await?;
            match global.output {
                Output::Json => print_json(&serde_json::json!({"activeKid": kid, "promoted": promoted})),
                Output::Text if promoted => println!("Rotated. The active signing key is now {kid}; running servers pick it up within a minute."),
                Output::Text => println!("No next key was published, so one was created: it becomes active at the next rotation. The active signing key is still {kid}."),
            }
        }
        KeyAction::List => {
            let keys = store.signing_keys().await?;
            match global.output {
                Output::Json => print_json(&serde_json::Value::Array(
                    keys.iter()
                        .map(|k| {
                            serde_json::json!({
                                "kid": k.kid,
                                "status": k.status,
                                "created": steward_core::timefmt::format_millis(k.created),
                            })
                        })
                        .collect(),
                )),
                Output::Text => {
                    for k in keys {
                        println!(
                            "{}\t{}\t{}",
                            k.kid,
                            k.status,
                            steward_core::timefmt::format_millis(k.created)
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

async fn admin(global: &GlobalArgs, action: AdminAction) -> Result<()> {
    match action {
        AdminAction::Recover { login } => {
            let store = global.storage.open_existing().await?;
            let recovered = bootstrap::recover_super_admin(&store, &login).await;
            store.close().await;
            let r = recovered?;
            if global.output == Output::Json {
                print_json(&serde_json::json!({
                    "userId": r.user.id,
                    "login": r.user.login(),
                    "changes": r.changes,
                    "password": r.password,
                    "tokenId": r.token_id,
                    "token": r.token,
                }));
                return Ok(());
            }
            let what = if r.changes.is_empty() {
                "already an active Super Admin".to_string()
            } else {
                r.changes.join(", ")
            };
            println!(
                "Recovered the Super Admin {} ({}): {what}. Logged to the System Log.",
                r.user.login(),
                r.user.id
            );
            if let Some(password) = r.password {
                println!("Its generated password (shown once): {password}");
            }
            println!(
                "A new SSWS API token ({}) for it, shown once; revoke it with `steward tokens revoke {}` when done:",
                r.token_id, r.token_id
            );
            println!("{}", r.token);
        }
    }
    Ok(())
}

async fn tokens(global: &GlobalArgs, action: TokenAction) -> Result<()> {
    if let Some(org) = remote::Org::from_args(&global.remote)? {
        return match action {
            TokenAction::List => remote::list_tokens(&org, global.output).await,
            TokenAction::Revoke { id } => remote::revoke_token(&org, &id, global.output).await,
            TokenAction::Create { .. } => bail!(
                "tokens create works on the server's store only (--data-dir or --database-url): \
                 Okta's API has no call that creates an API token"
            ),
        };
    }
    let store = global.storage.open_existing().await?;
    match action {
        TokenAction::Create { name, user } => {
            let (token, value) = bootstrap::create_api_token(&store, &name, &user).await?;
            match global.output {
                Output::Json => print_json(&serde_json::json!({
                    "id": token.id, "name": token.name, "userId": token.user_id, "token": value,
                })),
                Output::Text => {
                    println!(
                        "Created token {} ({}) for {user}. Its value, shown once:",
                        token.id, token.name
                    );
                    println!("{value}");
                }
            }
        }
        TokenAction::List => {
            let tokens = store.api_tokens().await?;
            match global.output {
                Output::Json => print_json(&serde_json::Value::Array(
                    tokens.iter().map(token_json).collect(),
                )),
                Output::Text => {
                    for t in tokens {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!("{}\t{}\t{}\t{state}", t.id, t.name, t.user_id);
                    }
                }
            }
        }
        TokenAction::Revoke { id } => {
            let t = bootstrap::revoke_api_token(&steward_app::Ctx::system(&store), &id).await?;
            match global.output {
                Output::Json => print_json(&token_json(&t)),
                Output::Text => println!("Revoked token {} ({}).", t.id, t.name),
            }
        }
    }
    Ok(())
}

/// A token as Okta's ApiToken object names its fields (never its value), plus its state.
fn token_json(t: &steward_store::ApiToken) -> serde_json::Value {
    use steward_core::timefmt::format_millis;
    serde_json::json!({
        "id": t.id,
        "name": t.name,
        "userId": t.user_id,
        "created": format_millis(t.created),
        "expiresAt": t.expires_at.map(format_millis),
        "status": if t.revoked_at.is_some() { "REVOKED" } else { "ACTIVE" },
    })
}

/// `steward routes`: the route table the server is built from, as text, JSON or `docs/roles.md`.
fn routes(args: &RoutesArgs, output: Output) -> Result<()> {
    let table = steward_api::routes::table();
    if args.json || output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&table)?);
    } else if args.roles_md {
        print!("{}", steward_api::routes::roles_markdown(&table));
    } else {
        let width = table.iter().map(|r| r.path.len()).max().unwrap_or_default();
        for r in &table {
            let permission = r.permission.map_or("-", |p| p.as_str());
            let role = r.role.map_or("(signed-in user)", |role| role.as_str());
            println!(
                "{:<6} {:<width$}  {:<40}  {:<20}  {role}",
                r.method, r.path, r.scope, permission
            );
        }
    }
    Ok(())
}
