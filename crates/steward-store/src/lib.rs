//! Steward's persistence: one [`Store`] over SQLite (default, embedded) or PostgreSQL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver; the few places where the dialects
//! differ (auto-increment keys, JSON extraction, advisory locks) are chosen by [`Dialect`].
//! Reads are methods on [`Store`]; every write goes through a [`WriteTx`] so that a change, the
//! System Log event describing it and its domain events (the outbox) commit together or not at
//! all.

mod access_requests;
mod activation;
mod app_secrets;
mod apps;
mod connections;
mod console;
mod directory;
mod flow_events;
mod flow_tables;
mod flows;
mod groups;
mod listing;
mod logs;
mod migrations;
mod oauth;
mod outbox;
mod resource_owners;
mod roles;
mod tokens;
mod users;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Transaction};

pub use access_requests::{
    AccessRequests, AccessRequestsTx, RequestListQuery, StoredRequest, TaskListQuery,
};
pub use activation::ActivationToken;
pub use apps::{AppGroupAssignment, AppQuery, AppUserAssignment};
pub use connections::{Connections, ConnectionsTx, SealedTokens, StoredConnection};
pub use console::ConsoleSession;
pub use directory::UserAppLink;
pub use flow_events::EventCursor;
pub use flow_tables::{FlowTables, FlowTablesTx, StoredRow, StoredTable};
pub use flows::{FlowRun, FlowStep, Flows, FlowsTx, RunClaim, RunQuery, RunStatus, StoredFlow};
pub use groups::GroupQuery;
pub use logs::{LogPage, LogQuery, SortOrder};
pub use oauth::{
    AccessRemoved, AppGrant, AuthCode, IssueOutcome, IssueRecord, IssuedToken, RefreshToken,
    Session, StoredKey,
};
pub use outbox::{OutboxEvent, OutboxRow};
pub use resource_owners::{OwnedResource, OwnersChanged, ResourceOwners};
pub use roles::{PrincipalType, RoleAssignment};
pub use steward_core::filter::sql::Dialect;
pub use tokens::{ApiToken, TokenPrincipal};
pub use users::UserQuery;

/// The storage layer's one error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (the string names what collided).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A filter the store cannot run (unknown attribute, bad value).
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// A value the store will not write or search for (the string names the field): one holding
    /// NUL (U+0000), which PostgreSQL's TEXT and jsonb cannot hold. Checked before the query, so
    /// that SQLite (which would store it) answers the same.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// A paging cursor that cannot name a row.
    #[error("invalid paging cursor")]
    InvalidCursor,
    /// PostgreSQL refused a value it cannot represent: an invalid byte sequence or a NUL in a
    /// text parameter (SQLSTATE 22021), or `\u0000` in JSON (22P05; 22P02 before PostgreSQL 13).
    /// Every write checks its values first, so this is a lookup by a key that cannot exist.
    #[error("value the database cannot represent: {0}")]
    Unrepresentable(String),
    /// Any other database failure. Built through `From<sqlx::Error>`, which sorts out the
    /// failures that are the request's (see [`StoreError::from`]).
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    /// The one mapping of database errors: a foreign-key violation means a row the statement
    /// refers to is gone (deleted since the caller looked it up: every foreign key here cascades
    /// on delete), so [`StoreError::NotFound`]; a value PostgreSQL cannot represent is
    /// [`StoreError::Unrepresentable`]; anything else is [`StoreError::Database`].
    fn from(e: sqlx::Error) -> Self {
        let sqlx::Error::Database(db) = &e else {
            return StoreError::Database(e);
        };
        let code = db.code();
        let code = code.as_deref().unwrap_or_default();
        // PostgreSQL 23503; SQLite's extended code 787 (SQLITE_CONSTRAINT_FOREIGNKEY).
        if db.is_foreign_key_violation() || code == "23503" || code == "787" {
            return StoreError::NotFound;
        }
        let message = db.message();
        let nul_in_json = || {
            message.contains("Unicode escape")
                || message.contains("\\u0000")
                || db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .and_then(|pg| pg.detail())
                    .is_some_and(|d| d.contains("\\u0000"))
        };
        match code {
            "22021" | "22P05" => StoreError::Unrepresentable(message.to_string()),
            "22P02" if nul_in_json() => StoreError::Unrepresentable(message.to_string()),
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `sqlite://path/to/file.db` or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    /// Reads.
    pool: AnyPool,
    /// Write transactions. On SQLite, one connection: SQLite has one writer at a time, and a
    /// single writer connection queues writes in order (instead of failing with `SQLITE_BUSY`)
    /// and keeps its page cache warm. On PostgreSQL, the same pool as reads.
    writer: AnyPool,
    dialect: Dialect,
    /// Told of each transaction's domain events after it commits (shared by clones).
    listeners: Arc<outbox::CommitListeners>,
}

/// Page cache of the SQLite writer connection: more of the indexes every token issue touches
/// stay in memory (the default 2 MB re-read them from the OS on every write).
const WRITER_CACHE_KIB: u32 = 8 * 1024;
/// Page cache of each SQLite reader connection (SQLite's default).
const READER_CACHE_KIB: u32 = 2 * 1024;

fn pool_options(dialect: Dialect, max_connections: u32, cache_kib: u32) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(30));
    if dialect != Dialect::Sqlite {
        return options;
    }
    options.after_connect(move |conn, _meta| {
        Box::pin(async move {
            // WAL lets readers run beside the writer. FULL sync makes every commit durable
            // against power loss as well as process crashes (nothing acknowledged is lost); with
            // token issues group-committed it cost no measurable throughput. Statement journals
            // stay in memory (they were temp files written on every multi-row insert).
            // Checkpoints run every 16 MB of WAL instead of 4 MB, so a page that many commits
            // touch is copied back once; after a checkpoint the WAL file is cut back to 32 MB.
            let cache = format!("PRAGMA cache_size = -{cache_kib}");
            for pragma in [
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = FULL",
                "PRAGMA foreign_keys = ON",
                "PRAGMA busy_timeout = 10000",
                "PRAGMA temp_store = MEMORY",
                "PRAGMA wal_autocheckpoint = 4000",
                "PRAGMA journal_size_limit = 33554432",
                cache.as_str(),
            ] {
                sqlx::query(pragma).execute(&mut *conn).await?;
            }
            Ok(())
        })
    })
}

impl Store {
    /// Connects and applies pending migrations.
    pub async fn open(config: &StoreConfig) -> Result<Store> {
        let store = Store::connect(config).await?;
        migrations::apply(&store).await?;
        Ok(store)
    }

    /// Opens a store that Steward has already created: [`StoreError::NotFound`] when the database
    /// holds no Steward schema, before anything is written to it. (A database that does not
    /// exist fails to connect; give SQLite a URL without `mode=rwc`.) Pending migrations are then
    /// applied, as `serve` would.
    pub async fn open_existing(config: &StoreConfig) -> Result<Store> {
        let store = Store::connect(config).await?;
        let versions: std::result::Result<i64, sqlx::Error> =
            sqlx::query_scalar("SELECT COUNT(*) FROM steward_migrations")
                .fetch_one(&store.pool)
                .await;
        if !matches!(versions, Ok(n) if n > 0) {
            store.close().await;
            return Err(StoreError::NotFound);
        }
        migrations::apply(&store).await?;
        Ok(store)
    }

    async fn connect(config: &StoreConfig) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = if config.url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if config.url.starts_with("postgres:") || config.url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                "database URL must start with sqlite:// or postgres://".into(),
            )));
        };
        let options: AnyConnectOptions = config.url.parse()?;
        let pool = pool_options(dialect, config.max_connections, READER_CACHE_KIB)
            .connect_with(options.clone())
            .await?;
        let writer = match dialect {
            Dialect::Sqlite => {
                pool_options(dialect, 1, WRITER_CACHE_KIB)
                    .min_connections(1)
                    .connect_with(options)
                    .await?
            }
            Dialect::Postgres => pool.clone(),
        };
        Ok(Store {
            pool,
            writer,
            dialect,
            listeners: Arc::default(),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<WriteTx> {
        let tx = self.writer.begin().await?;
        Ok(WriteTx {
            tx,
            dialect: self.dialect,
            emitted: Vec::new(),
            origin: steward_core::audit::Origin::default(),
            listeners: self.listeners.clone(),
        })
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// One write transaction. Dropping it without [`WriteTx::commit`] rolls everything back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    dialect: Dialect,
    /// Domain events written by [`WriteTx::emit`], for the listeners once committed.
    emitted: Vec<OutboxEvent>,
    /// Where the changes come from, for the System Log entries [`WriteTx::record`] derives.
    origin: steward_core::audit::Origin,
    listeners: Arc<outbox::CommitListeners>,
}

impl WriteTx {
    /// Commits; then, and only if the commit succeeded, tells this store's listeners of the
    /// domain events the transaction emitted.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.listeners.notify(&self.emitted);
        Ok(())
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// Creates an empty PostgreSQL database next to `admin_url` (which names an existing one) and
/// returns its URL. Tests use it to run in isolation on a shared server.
pub async fn create_scratch_postgres(admin_url: &str, prefix: &str) -> Result<String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!(
        "{prefix}_{}",
        steward_core::ids::random_secret(12).to_lowercase()
    );
    let mut conn = sqlx::AnyConnection::connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    Ok(format!("{base}/{name}"))
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] naming `what`; any other
/// error as every database error is mapped.
pub(crate) fn conflict_on_unique(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.into()),
        _ => StoreError::from(e),
    }
}

/// Whether `s` can be stored and looked up alike on both backends: PostgreSQL's TEXT and jsonb
/// cannot hold NUL (U+0000), which SQLite would store.
/// `$from, $from+1, …` for `n` bound values (an `IN (…)` list).
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of `table` whose `id` is one of `ids`, in one query (in no particular order);
/// ids that cannot be stored match nothing.
pub(crate) async fn rows_by_ids<T>(
    store: &Store,
    table: &str,
    columns: &str,
    ids: &[String],
    from_row: fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    let ids: Vec<&String> = ids.iter().filter(|id| storable(id)).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id.clone());
    }
    let rows = query.fetch_all(store.pool()).await?;
    rows.iter().map(from_row).collect()
}

pub(crate) fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// Whether every key and string in `v` is [`storable`].
pub(crate) fn storable_json(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => storable(s),
        Value::Array(items) => items.iter().all(storable_json),
        Value::Object(map) => map.iter().all(|(k, v)| storable(k) && storable_json(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Refuses a JSON object (a profile) with a key or string that is not [`storable`], with
/// [`StoreError::InvalidValue`] naming the first such attribute under `prefix`.
pub(crate) fn check_storable_object(
    prefix: &str,
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    match object
        .iter()
        .find(|(k, v)| !storable(k) || !storable_json(v))
    {
        Some((key, _)) => Err(StoreError::InvalidValue(format!(
            "{prefix}{}",
            key.replace('\0', "\\u0000")
        ))),
        None => Ok(()),
    }
}

/// Refuses a paging cursor that cannot name a row.
pub(crate) fn check_cursor(after: Option<&str>) -> Result<()> {
    match after {
        Some(a) if !storable(a) => Err(StoreError::InvalidCursor),
        _ => Ok(()),
    }
}

/// Decodes a JSON object stored as text.
pub(crate) fn json_object(text: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(StoreError::Corrupt("expected a JSON object".into())),
    }
}

/// `v` as JSON text (for JSON columns and [`json_rows`] parameters). PostgreSQL cannot turn a
/// `\u0000` escape into text anywhere in a JSON value it reads, so one NUL that reached a value
/// (the client id a refused request claimed, say) would fail every row written with it: NUL
/// becomes U+FFFD, on both backends alike.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    let text = serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(if text.contains("\\u0000") {
        scrub_nul_escapes(&text)
    } else {
        text
    })
}

/// Replaces each `\u0000` escape of serialised JSON with `\ufffd`, leaving an escaped backslash
/// followed by `u0000` (`\\u0000`, literal text) alone.
fn scrub_nul_escapes(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let escape = &rest[i..];
        if let Some(after) = escape.strip_prefix("\\u0000") {
            out.push_str("\\ufffd");
            rest = after;
        } else {
            // Any other escape is two characters (`\uXXXX` keeps its digits as plain text).
            let len = escape.chars().nth(1).map_or(1, |c| 1 + c.len_utf8());
            out.push_str(&escape[..len]);
            rest = &escape[len..];
        }
    }
    out.push_str(rest);
    out
}

/// The type of one column of [`json_rows`].
#[derive(Clone, Copy)]
pub(crate) enum JsonCol {
    Text,
    Int,
}

/// `SELECT … FROM <rows>`: the rows of a multi-row `INSERT … SELECT`, passed as one JSON array
/// of arrays in the single parameter `$1` (element `i` of each inner array is column `i`; JSON
/// `null` is SQL NULL; an object or array element arrives as its JSON text). One parameter
/// whatever the batch size means one statement per table per batch, always the same prepared
/// statement. Rows come in array order; `WHERE true` lets SQLite parse an `ON CONFLICT` clause
/// after the `SELECT`.
pub(crate) fn json_rows(postgres: bool, columns: &[JsonCol]) -> String {
    let mut sql = String::from("SELECT ");
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&match (postgres, col) {
            (false, _) => format!("value->>{i}"),
            (true, JsonCol::Text) => format!("x->>{i}"),
            (true, JsonCol::Int) => format!("(x->>{i})::bigint"),
        });
    }
    sql.push_str(if postgres {
        " FROM json_array_elements($1::json) WITH ORDINALITY AS t (x, n) WHERE true ORDER BY n"
    } else {
        " FROM json_each($1) WHERE true ORDER BY key"
    });
    sql
}

/// The largest page any list answers.
pub const MAX_PAGE_SIZE: usize = 10_000;

/// Row count bounds shared by every list query. Lists fetch one row more than the page (whose
/// size is at most [`MAX_PAGE_SIZE`]) to learn whether there is a next page, so the bound lets
/// that extra row through.
pub(crate) fn clamp_limit(limit: usize) -> i64 {
    limit.clamp(1, MAX_PAGE_SIZE + 1) as i64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::to_json;

    #[test]
    fn nul_escapes_become_replacement_characters_and_nothing_else_changes() {
        let v = serde_json::json!({"a": "x\0y", "b": "\\u0000 stays", "c": ["\0", "\u{e9}\\"]});
        let text = to_json(&v).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["a"], "x\u{FFFD}y");
        assert_eq!(back["b"], "\\u0000 stays");
        assert_eq!(back["c"], serde_json::json!(["\u{FFFD}", "\u{e9}\\"]));
    }
}
