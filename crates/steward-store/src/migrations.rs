//! Schema migrations, applied in order at start. Each runs in its own transaction and is
//! recorded in `steward_migrations`; on PostgreSQL an advisory lock keeps two nodes that start
//! together from applying the same step twice.

use crate::{Dialect, Result, Store};

/// (version, statements). `{serial}` becomes the dialect's auto-increment primary key.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_directory.sql")),
    (2, include_str!("../migrations/0002_oauth.sql")),
    (3, include_str!("../migrations/0003_access_requests.sql")),
    (4, include_str!("../migrations/0004_replay_index.sql")),
    (5, include_str!("../migrations/0005_resource_owners.sql")),
    (6, include_str!("../migrations/0006_activation_tokens.sql")),
    (
        8,
        include_str!("../migrations/0008_partial_token_indexes.sql"),
    ),
    (
        9,
        include_str!("../migrations/0009_access_request_grants.sql"),
    ),
    (
        11,
        include_str!("../migrations/0011_refresh_tokens_user.sql"),
    ),
    (12, include_str!("../migrations/0012_outbox.sql")),
    (
        13,
        include_str!("../migrations/0013_app_client_secrets.sql"),
    ),
    (14, include_str!("../migrations/0014_flows.sql")),
    (15, include_str!("../migrations/0015_console_sessions.sql")),
    (16, include_str!("../migrations/0016_flow_connections.sql")),
    (
        17,
        include_str!("../migrations/0017_flow_events_tables.sql"),
    ),
    (
        18,
        include_str!("../migrations/0018_requests_inbox_index.sql"),
    ),
];

const PG_LOCK_KEY: i64 = 0x0053_5445_5741_5244; // "STEWARD"

pub(crate) async fn apply(store: &Store) -> Result<()> {
    let mut tx = store.begin().await?;
    if store.dialect() == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(tx.conn())
            .await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS steward_migrations (version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)",
    )
    .execute(tx.conn())
    .await?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM steward_migrations")
        .fetch_all(tx.conn())
        .await?;
    for (version, script) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        let serial = match store.dialect() {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        for statement in script.replace("{serial}", serial).split(';') {
            if statement.trim().is_empty() {
                continue;
            }
            sqlx::query(statement).execute(tx.conn()).await?;
        }
        sqlx::query("INSERT INTO steward_migrations (version, applied) VALUES ($1, $2)")
            .bind(*version)
            .bind(steward_core::timefmt::now_millis())
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await
}
