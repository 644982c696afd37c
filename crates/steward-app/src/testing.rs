//! What the use cases' unit tests share: a fresh org on a temporary SQLite file, users, and
//! what a change wrote (System Log types, outbox types). No HTTP anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value};
use steward_core::directory::{User, UserStatus};
use steward_core::ids::{new_id, random_secret, IdKind};
use steward_core::timefmt::now_millis;
use steward_store::{LogQuery, Store, StoreConfig};

use crate::bootstrap::{self, BOOTSTRAP_ADMIN_LOGIN};

/// A new store on a temporary SQLite file, holding an org whose only user is its Super Admin.
pub async fn org() -> Store {
    let dir = std::env::temp_dir().join(format!("steward-app-{}", random_secret(10)));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&StoreConfig {
        url: format!("sqlite://{}?mode=rwc", dir.join("s.db").display()),
        max_connections: 4,
    })
    .await
    .unwrap();
    bootstrap::ensure_org(&store, Some("Adm1nPassword!"), None)
        .await
        .unwrap();
    store
}

/// The org's Super Admin.
pub async fn admin(store: &Store) -> User {
    store.user_by_login(BOOTSTRAP_ADMIN_LOGIN).await.unwrap()
}

/// Inserts a user with `status` (with a password hash unless `password` is false).
pub async fn user(store: &Store, login: &str, status: UserStatus, password: bool) -> User {
    let now = now_millis();
    let mut profile = Map::new();
    for (k, v) in [
        ("login", login),
        ("email", login),
        ("firstName", "Test"),
        ("lastName", "User"),
    ] {
        profile.insert(k.into(), Value::String(v.into()));
    }
    let user = User {
        id: new_id(IdKind::User),
        status,
        created: now,
        activated: (status != UserStatus::Staged).then_some(now),
        status_changed: Some(now),
        last_login: None,
        last_updated: now,
        password_changed: password.then_some(now),
        profile,
        // Any PHC-shaped string: these tests never verify it.
        password_hash: password.then(|| "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA".to_string()),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user).await.unwrap();
    tx.commit().await.unwrap();
    user
}

/// The outbox's event types after `seq`, in order.
pub async fn outbox_types(store: &Store, after: i64) -> Vec<String> {
    store
        .outbox_after(after, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event_type)
        .collect()
}

/// The System Log events, in order.
pub async fn logs(store: &Store) -> Vec<Value> {
    store
        .log_events(&LogQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .events
}

/// The System Log's event types, in order.
pub async fn log_types(store: &Store) -> Vec<String> {
    logs(store)
        .await
        .iter()
        .map(|e| e["eventType"].as_str().unwrap_or_default().to_string())
        .collect()
}
