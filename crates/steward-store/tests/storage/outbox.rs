//! The outbox: domain events are written in the transaction of their change, reach this node's
//! listeners only after it commits, and carry increasing sequence numbers.
use std::sync::{Arc, Mutex};

use serde_json::json;
use steward_core::directory::{User, UserStatus};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, IdKind};
use steward_core::syslog::{Actor, ClientInfo, Target};
use steward_store::{LogQuery, OutboxEvent, Store, StoreError};

use crate::common;

fn user(login: &str) -> User {
    User {
        id: new_id(IdKind::User),
        status: UserStatus::Active,
        created: 1000,
        activated: Some(1000),
        status_changed: Some(1000),
        last_login: None,
        last_updated: 1000,
        password_changed: None,
        profile: json!({"login": login, "email": login, "firstName": "Out", "lastName": "Box"})
            .as_object()
            .unwrap()
            .clone(),
        password_hash: None,
    }
}

fn created(user: &User) -> DomainEvent {
    DomainEvent::UserCreated {
        user_id: user.id.clone(),
        activated: true,
        actor: Actor::system(),
    }
}

/// Everything the store's commit listeners were told, in order.
fn listen(store: &Store) -> Arc<Mutex<Vec<OutboxEvent>>> {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    store.on_commit(move |events| sink.lock().unwrap().extend_from_slice(events));
    heard
}

#[tokio::test]
async fn a_committed_change_writes_its_events_in_the_same_transaction() {
    for (name, url) in common::urls("steward-outbox-commit").await {
        let store = common::open(&url).await;
        let heard = listen(&store);
        let ada = user("ada@example.com");
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&ada).await.unwrap();
        tx.emit(created(&ada)).await.unwrap();
        // Not visible, and not announced, before the commit.
        assert!(
            store.outbox_after(0, 100).await.unwrap().is_empty(),
            "{name}"
        );
        assert!(heard.lock().unwrap().is_empty(), "{name}");
        tx.commit().await.unwrap();

        let rows = store.outbox_after(0, 100).await.unwrap();
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!(rows[0].event_type, "user.created", "{name}");
        assert_eq!(rows[0].event(), Some(created(&ada)), "{name}");
        assert!(
            store.user(&ada.id).await.is_ok(),
            "{name}: the change committed with it"
        );
        let heard = heard.lock().unwrap().clone();
        assert_eq!(heard.len(), 1, "{name}");
        assert_eq!(heard[0].seq, rows[0].seq, "{name}");
        assert_eq!(heard[0].occurred_at, rows[0].occurred_at, "{name}");
        assert_eq!(heard[0].event, created(&ada), "{name}");
        assert_eq!(store.outbox_head().await.unwrap(), rows[0].seq, "{name}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_failed_or_abandoned_write_leaves_no_event() {
    for (name, url) in common::urls("steward-outbox-fail").await {
        let store = common::open(&url).await;
        let ada = user("ada@example.com");
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&ada).await.unwrap();
        tx.commit().await.unwrap();
        let heard = listen(&store);

        // The event is written, then the change fails (the login is taken): the caller drops
        // the transaction, as every handler does on an error.
        let twin = user("ada@example.com");
        let mut tx = store.begin().await.unwrap();
        tx.emit(created(&twin)).await.unwrap();
        let failed = tx.insert_user(&twin).await;
        assert!(
            matches!(failed, Err(StoreError::Conflict(_))),
            "{name}: {failed:?}"
        );
        drop(tx);

        // Abandoned without commit.
        let bob = user("bob@example.com");
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&bob).await.unwrap();
        tx.emit(created(&bob)).await.unwrap();
        drop(tx);

        assert!(
            store.outbox_after(0, 100).await.unwrap().is_empty(),
            "{name}"
        );
        assert_eq!(store.outbox_head().await.unwrap(), 0, "{name}");
        assert!(heard.lock().unwrap().is_empty(), "{name}: nobody told");
        assert!(
            matches!(store.user(&bob.id).await, Err(StoreError::NotFound)),
            "{name}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn sequences_increase_in_commit_order_and_within_a_transaction() {
    for (name, url) in common::urls("steward-outbox-seq").await {
        let store = common::open(&url).await;
        let heard = listen(&store);
        let users: Vec<User> = (0..5).map(|i| user(&format!("u{i}@example.com"))).collect();
        // Two events in one transaction, then one per transaction.
        let mut tx = store.begin().await.unwrap();
        tx.emit(created(&users[0])).await.unwrap();
        tx.emit(created(&users[1])).await.unwrap();
        tx.commit().await.unwrap();
        for u in &users[2..] {
            let mut tx = store.begin().await.unwrap();
            tx.emit(created(u)).await.unwrap();
            tx.commit().await.unwrap();
        }
        let rows = store.outbox_after(0, 100).await.unwrap();
        let ids: Vec<DomainEvent> = rows.iter().filter_map(|r| r.event()).collect();
        let want: Vec<DomainEvent> = users.iter().map(created).collect();
        assert_eq!(ids, want, "{name}: read back in the order written");
        assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq), "{name}");
        let heard_seqs: Vec<i64> = heard.lock().unwrap().iter().map(|e| e.seq).collect();
        let row_seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        assert_eq!(heard_seqs, row_seqs, "{name}");

        // Paging by seq.
        let page = store.outbox_after(rows[1].seq, 2).await.unwrap();
        assert_eq!(
            page.iter().map(|r| r.seq).collect::<Vec<_>>(),
            row_seqs[2..4],
            "{name}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn pruning_removes_only_rows_older_than_the_cutoff() {
    for (name, url) in common::urls("steward-outbox-prune").await {
        let store = common::open(&url).await;
        let mut tx = store.begin().await.unwrap();
        tx.emit(created(&user("a@example.com"))).await.unwrap();
        tx.commit().await.unwrap();
        let rows = store.outbox_after(0, 10).await.unwrap();
        let at = rows[0].occurred_at;

        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.prune_outbox(at).await.unwrap(), 0, "{name}: not older");
        tx.commit().await.unwrap();
        assert_eq!(store.outbox_after(0, 10).await.unwrap().len(), 1, "{name}");

        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.prune_outbox(at + 1).await.unwrap(), 1, "{name}");
        tx.commit().await.unwrap();
        assert!(
            store.outbox_after(0, 10).await.unwrap().is_empty(),
            "{name}"
        );
        store.close().await;
    }
}

/// The System Log entries of the store, oldest first: (eventType, first target's alternateId).
async fn logged(store: &Store) -> Vec<(String, String, String)> {
    let page = store
        .log_events(&LogQuery {
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    page.events
        .iter()
        .map(|e| {
            (
                e["eventType"].as_str().unwrap_or_default().to_string(),
                e["target"][0]["alternateId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["client"]["ipAddress"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_recorded_change_writes_its_event_and_its_log_entries_together_or_not_at_all() {
    for (name, url) in common::urls("steward-outbox-record").await {
        let store = common::open(&url).await;
        let logs_before = logged(&store).await.len();
        let head = store.outbox_head().await.unwrap();
        let ada = user("ada@example.com");
        let client = ClientInfo {
            ip_address: Some("203.0.113.7".into()),
            ..ClientInfo::default()
        };

        // Abandoned: neither the event nor its entries exist.
        let mut tx = store.begin().await.unwrap();
        tx.set_origin(client.clone(), 5_000);
        tx.insert_user(&ada).await.unwrap();
        tx.record(created(&ada), &[Target::user(&ada)])
            .await
            .unwrap();
        drop(tx);
        assert_eq!(
            store.outbox_after(head, 10).await.unwrap().len(),
            0,
            "{name}"
        );
        assert_eq!(logged(&store).await.len(), logs_before, "{name}");

        // Committed: one event, and the two entries Okta writes for a user created active.
        let mut tx = store.begin().await.unwrap();
        tx.set_origin(client, 5_000);
        tx.insert_user(&ada).await.unwrap();
        tx.record(created(&ada), &[Target::user(&ada)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let rows = store.outbox_after(head, 10).await.unwrap();
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!(rows[0].event_type, "user.created", "{name}");
        let entries = logged(&store).await;
        let new: Vec<_> = entries[logs_before..].to_vec();
        let ip = "203.0.113.7".to_string();
        assert_eq!(
            new,
            vec![
                (
                    "user.lifecycle.create".into(),
                    "ada@example.com".into(),
                    ip.clone()
                ),
                (
                    "user.lifecycle.activate".into(),
                    "ada@example.com".into(),
                    ip
                ),
            ],
            "{name}"
        );
    }
}
