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

/// Inserts a group named `name`.
pub async fn group(store: &Store, name: &str) -> steward_core::directory::Group {
    let now = now_millis();
    let group = steward_core::directory::Group {
        id: new_id(IdKind::Group),
        group_type: steward_core::directory::GROUP_TYPE_OKTA.into(),
        created: now,
        last_updated: now,
        last_membership_updated: now,
        profile: serde_json::from_value(serde_json::json!({ "name": name })).unwrap(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_group(&group).await.unwrap();
    tx.commit().await.unwrap();
    group
}

/// Makes `user_id` a member of `group_id`.
pub async fn add_member(store: &Store, group_id: &str, user_id: &str) {
    let mut tx = store.begin().await.unwrap();
    tx.add_member(group_id, user_id, now_millis())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Inserts an OIDC app labelled `label`.
pub async fn app(store: &Store, label: &str) -> steward_core::apps::App {
    let now = now_millis();
    let id = new_id(IdKind::App);
    let app = steward_core::apps::App {
        id: id.clone(),
        name: "oidc_client".into(),
        label: label.into(),
        status: "ACTIVE".into(),
        sign_on_mode: steward_core::apps::SIGN_ON_MODE_OIDC.into(),
        created: now,
        last_updated: now,
        client_id: Some(id),
        oidc: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();
    app
}

/// A context acting as `user`, now.
pub fn as_user<'a>(store: &'a Store, user: &User) -> crate::Ctx<'a> {
    crate::Ctx::system(store).acting_as(steward_core::syslog::Actor::user(
        &user.id,
        user.login(),
        &user.display_name(),
    ))
}
