//! What the storage suites share: a fresh SQLite file and a fresh PostgreSQL database per test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use steward_store::{Store, StoreConfig};

pub async fn open(url: &str) -> Store {
    Store::open(&StoreConfig {
        url: url.to_string(),
        max_connections: 4,
    })
    .await
    .unwrap()
}

/// (name, url) of a fresh SQLite file and a fresh PostgreSQL database; `prefix` names both.
pub async fn urls(prefix: &str) -> Vec<(&'static str, String)> {
    let dir =
        std::env::temp_dir().join(format!("{prefix}-{}", steward_core::ids::random_secret(10)));
    std::fs::create_dir_all(&dir).unwrap();
    let admin = std::env::var("STEWARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let pg = steward_store::create_scratch_postgres(&admin, &prefix.replace('-', "_"))
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (set STEWARD_TEST_PG_URL)");
    vec![
        (
            "sqlite",
            format!("sqlite://{}?mode=rwc", dir.join("s.db").display()),
        ),
        ("postgres", pg),
    ]
}
