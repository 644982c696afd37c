//! The storage suite: every test runs on SQLite and on PostgreSQL.
use serde_json::json;
use steward_core::directory::{Group, User, UserStatus};
use steward_core::filter;
use steward_core::ids::{new_id, IdKind};
use steward_core::syslog::{Actor, LogEvent};
use steward_store::{
    GroupQuery, IssueOutcome, IssueRecord, IssuedToken, LogQuery, SortOrder, Store, StoreConfig,
    StoreError, UserQuery,
};

fn pg_admin_url() -> String {
    std::env::var("STEWARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn stores() -> Vec<(&'static str, Store)> {
    let dir = std::env::temp_dir().join(format!(
        "steward-store-{}",
        steward_core::ids::random_secret(10)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = Store::open(&StoreConfig {
        url: format!("sqlite://{}?mode=rwc", dir.join("steward.db").display()),
        max_connections: 4,
    })
    .await
    .unwrap();
    let pg_url = steward_store::create_scratch_postgres(&pg_admin_url(), "steward_store_test")
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (set STEWARD_TEST_PG_URL)");
    let pg = Store::open(&StoreConfig {
        url: pg_url,
        max_connections: 4,
    })
    .await
    .unwrap();
    vec![("sqlite", sqlite), ("postgres", pg)]
}

fn user(login: &str, first: &str, dept: &str) -> User {
    User {
        id: new_id(IdKind::User),
        status: UserStatus::Active,
        created: 1000,
        activated: Some(1000),
        status_changed: Some(1000),
        last_login: None,
        last_updated: 1000,
        password_changed: None,
        profile: json!({"login": login, "email": login, "firstName": first, "lastName": "Test", "department": dept})
            .as_object()
            .unwrap()
            .clone(),
        password_hash: None,
    }
}

#[tokio::test]
async fn users_round_trip_filter_and_page() {
    for (name, store) in stores().await {
        let mut tx = store.begin().await.unwrap();
        let mut ids = Vec::new();
        for i in 0..25 {
            let u = user(
                &format!("user{i}@example.com"),
                if i % 2 == 0 { "Even" } else { "Odd" },
                if i < 5 { "Sales" } else { "Eng" },
            );
            ids.push(u.id.clone());
            tx.insert_user(&u).await.unwrap();
        }
        tx.commit().await.unwrap();
        ids.sort();

        let first = store.user(&ids[0]).await.unwrap();
        assert_eq!(
            store
                .user_by_login(&first.login().to_uppercase())
                .await
                .unwrap()
                .id,
            first.id,
            "{name}"
        );

        // Paging by cursor visits every user exactly once.
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .users(&UserQuery {
                    after: after.clone(),
                    limit: 10,
                    ..Default::default()
                })
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|u| u.id.clone());
            seen.extend(page.into_iter().map(|u| u.id));
        }
        assert_eq!(seen, ids, "{name}");

        let f = filter::parse(r#"profile.department eq "sales" and profile.firstName sw "ev""#)
            .unwrap();
        let hits = store
            .users(&UserQuery {
                filter: Some(f),
                limit: 200,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(hits.len(), 3, "{name}: users 0, 2, 4");

        let hits = store
            .users(&UserQuery {
                q: Some("user1".into()),
                limit: 200,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(hits.len(), 11, "{name}: user1 and user10..19");

        let bad = filter::parse(r#"password eq "x""#).unwrap();
        assert!(matches!(
            store
                .users(&UserQuery {
                    filter: Some(bad),
                    limit: 5,
                    ..Default::default()
                })
                .await,
            Err(StoreError::InvalidFilter(_))
        ));
    }
}

#[tokio::test]
async fn unique_login_and_rollback() {
    for (name, store) in stores().await {
        let u = user("dup@example.com", "A", "X");
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&u).await.unwrap();
        tx.commit().await.unwrap();

        let mut again = user("DUP@example.com", "B", "X");
        again.id = new_id(IdKind::User);
        let mut tx = store.begin().await.unwrap();
        assert!(
            matches!(tx.insert_user(&again).await, Err(StoreError::Conflict(_))),
            "{name}"
        );
        drop(tx);

        // A transaction dropped before commit writes nothing.
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&user("ghost@example.com", "G", "X"))
            .await
            .unwrap();
        tx.append_log(&LogEvent::new(
            "user.lifecycle.create",
            "x",
            Actor::system(),
            1,
        ))
        .await
        .unwrap();
        drop(tx);
        assert!(
            matches!(
                store.user_by_login("ghost@example.com").await,
                Err(StoreError::NotFound)
            ),
            "{name}"
        );
        let page = store
            .log_events(&LogQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.events.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn groups_and_memberships() {
    for (name, store) in stores().await {
        let u = user("member@example.com", "M", "X");
        let g = Group {
            id: new_id(IdKind::Group),
            group_type: "OKTA_GROUP".into(),
            created: 1,
            last_updated: 1,
            last_membership_updated: 1,
            profile: json!({"name": "Engineering", "description": "Builders"})
                .as_object()
                .unwrap()
                .clone(),
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&u).await.unwrap();
        tx.insert_group(&g).await.unwrap();
        assert!(tx.add_member(&g.id, &u.id, 5).await.unwrap());
        assert!(
            !tx.add_member(&g.id, &u.id, 6).await.unwrap(),
            "{name}: idempotent"
        );
        tx.commit().await.unwrap();
        assert_eq!(
            store.group_members(&g.id, None, 10).await.unwrap()[0].id,
            u.id
        );
        assert_eq!(store.user_groups(&u.id).await.unwrap()[0].id, g.id);
        assert_eq!(store.group(&g.id).await.unwrap().last_membership_updated, 5);
        let hits = store
            .groups(&GroupQuery {
                q: Some("eng".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "{name}");

        let mut tx = store.begin().await.unwrap();
        tx.delete_user(&u.id).await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            store
                .group_members(&g.id, None, 10)
                .await
                .unwrap()
                .is_empty(),
            "{name}: cascade"
        );
    }
}

#[tokio::test]
async fn system_log_filters_and_pages() {
    for (name, store) in stores().await {
        let mut tx = store.begin().await.unwrap();
        for i in 0..30 {
            let kind = if i % 3 == 0 {
                "group.lifecycle.create"
            } else {
                "user.lifecycle.create"
            };
            tx.append_log(&LogEvent::new(
                kind,
                &format!("event {i}"),
                Actor::system(),
                1000 + i,
            ))
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let f = filter::parse(r#"eventType eq "group.lifecycle.create""#).unwrap();
        let page = store
            .log_events(&LogQuery {
                filter: Some(f.clone()),
                limit: 4,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.events.len(), 4, "{name}");
        let next = store
            .log_events(&LogQuery {
                filter: Some(f),
                after: page.last_seq,
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(next.events.len(), 6, "{name}");
        assert!(!next.more);
        let desc = store
            .log_events(&LogQuery {
                limit: 1,
                order: SortOrder::Descending,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(desc.events[0]["displayMessage"], "event 29", "{name}");
        let window = store
            .log_events(&LogQuery {
                since: Some(1010),
                until: Some(1020),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(window.events.len(), 10, "{name}");
        let q = store
            .log_events(&LogQuery {
                q: vec!["EVENT 2".into()],
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(q.events.len(), 11, "{name}: event 2 and 20..29");
    }
}

#[tokio::test]
async fn migrations_are_idempotent_across_reopen() {
    let url = steward_store::create_scratch_postgres(&pg_admin_url(), "steward_store_test")
        .await
        .unwrap();
    let config = StoreConfig {
        url,
        max_connections: 2,
    };
    let (a, b) = tokio::join!(Store::open(&config), Store::open(&config));
    a.unwrap();
    b.unwrap();
    Store::open(&config).await.unwrap().ping().await.unwrap();
}

#[tokio::test]
async fn replay_cache_refuses_reuse_until_purged() {
    for (name, store) in stores().await {
        let mut tx = store.begin().await.unwrap();
        assert!(
            tx.use_jti("client_assertion", "c:1", 1_000).await.unwrap(),
            "{name}"
        );
        assert!(
            !tx.use_jti("client_assertion", "c:1", 1_000).await.unwrap(),
            "{name}: replay"
        );
        assert!(
            tx.use_jti("dpop", "c:1", 1_000).await.unwrap(),
            "{name}: kinds are separate"
        );
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.purge_expired(999).await.unwrap();
        assert!(
            !tx.use_jti("client_assertion", "c:1", 1_000).await.unwrap(),
            "{name}: not yet expired"
        );
        tx.purge_expired(1_001).await.unwrap();
        assert!(
            tx.use_jti("client_assertion", "c:1", 5_000).await.unwrap(),
            "{name}: purged after expiry"
        );
        tx.commit().await.unwrap();
    }
}

fn issue(jti: &str, replays: &[(&'static str, &str)]) -> IssueRecord {
    IssueRecord {
        replays: replays
            .iter()
            .map(|(kind, key)| (*kind, key.to_string(), 10_000))
            .collect(),
        refresh: None,
        issued: Some(IssuedToken {
            jti: jti.into(),
            client_id: "client".into(),
            user_id: None,
            family_id: None,
            code_hash: None,
            scopes: "okta.users.read".into(),
            created: 1_000,
            expires: 4_600_000,
            revoked_at: None,
        }),
        log: LogEvent::new(
            "app.oauth2.as.token.grant.access_token",
            "OAuth2 access token is granted",
            Actor::client("client", "Client"),
            1_000,
        ),
    }
}

#[tokio::test]
async fn a_batch_of_issues_writes_each_once_and_refuses_replays_whole() {
    for (name, store) in stores().await {
        let mut tx = store.begin().await.unwrap();
        assert!(tx.use_jti("dpop", "k:old", 10_000).await.unwrap());
        tx.commit().await.unwrap();
        let mut batch = [
            issue("a", &[("client_assertion", "c:1")]),
            // The same assertion again, in the same batch: refused.
            issue("b", &[("client_assertion", "c:1")]),
            // A fresh assertion with a DPoP proof used before: refused, and its fresh
            // assertion is not consumed.
            issue("c", &[("client_assertion", "c:2"), ("dpop", "k:old")]),
            issue("d", &[("client_assertion", "c:3"), ("dpop", "k:new")]),
            issue("e", &[]),
            // A refused request: its event only.
            IssueRecord {
                issued: None,
                log: LogEvent::new(
                    "app.oauth2.as.token.grant",
                    "OAuth2 token request denied",
                    Actor::client("client", "Client"),
                    1_000,
                ),
                ..issue("unused", &[])
            },
        ];
        // One record with every optional column set, to see each survive the JSON parameter.
        if let Some(t) = batch[3].issued.as_mut() {
            t.user_id = Some("00uUser".into());
            t.family_id = Some("family-1".into());
            t.code_hash = Some("code-hash-1".into());
            t.revoked_at = Some(2_000);
        }
        let mut tx = store.begin().await.unwrap();
        let outcomes = tx.record_issues(&batch).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            outcomes,
            [
                IssueOutcome::Written,
                IssueOutcome::Replayed("client_assertion"),
                IssueOutcome::Replayed("dpop"),
                IssueOutcome::Written,
                IssueOutcome::Written,
                IssueOutcome::Written,
            ],
            "{name}"
        );
        assert!(store.issued_token("unused").await.is_err(), "{name}");
        // Every column survives the trip through the batch's JSON parameter.
        let stored = store.issued_token("d").await.unwrap();
        assert_eq!(Some(&stored), batch[3].issued.as_ref(), "{name}");
        for (jti, kept) in [
            ("a", true),
            ("b", false),
            ("c", false),
            ("d", true),
            ("e", true),
        ] {
            assert_eq!(store.issued_token(jti).await.is_ok(), kept, "{name}: {jti}");
        }
        let log = store
            .log_events(&LogQuery {
                limit: 100,
                ..LogQuery::default()
            })
            .await
            .unwrap();
        let count = |event_type: &str| {
            log.events
                .iter()
                .filter(|e| e["eventType"] == event_type)
                .count()
        };
        assert_eq!(
            count("app.oauth2.as.token.grant.access_token"),
            3,
            "{name}: one event per written issue"
        );
        assert_eq!(
            count("app.oauth2.as.token.grant"),
            1,
            "{name}: the refused request's event"
        );
        let mut tx = store.begin().await.unwrap();
        assert!(
            tx.use_jti("client_assertion", "c:2", 10_000).await.unwrap(),
            "{name}: a refused issue consumes nothing"
        );
        assert!(!tx.use_jti("client_assertion", "c:3", 10_000).await.unwrap());
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn events_appended_together_keep_their_order_and_bodies() {
    for (name, store) in stores().await {
        // Same millisecond: only the append order tells them apart.
        let events: Vec<LogEvent> = (0..5)
            .map(|i| {
                LogEvent::new(
                    "user.lifecycle.create",
                    "Create okta user",
                    Actor::system(),
                    7_000,
                )
                .debug("n", i)
                .debug("text", "quotes \" and \\ and ünïcode and {\"json\": [1]}")
            })
            .collect();
        let refs: Vec<&LogEvent> = events.iter().collect();
        let mut tx = store.begin().await.unwrap();
        tx.append_logs(&refs).await.unwrap();
        tx.commit().await.unwrap();
        let page = store
            .log_events(&LogQuery {
                filter: Some(filter::parse("eventType eq \"user.lifecycle.create\"").unwrap()),
                limit: 100,
                ..LogQuery::default()
            })
            .await
            .unwrap();
        let stored: Vec<_> = page
            .events
            .iter()
            .filter(|e| e["published"] == events[0].to_json()["published"])
            .collect();
        assert_eq!(stored.len(), 5, "{name}");
        for (got, want) in stored.iter().zip(&events) {
            assert_eq!(**got, want.to_json(), "{name}");
        }
    }
}

#[tokio::test]
async fn activation_tokens_are_single_use_superseded_and_purged() {
    use steward_store::ActivationToken;
    for (name, store) in stores().await {
        let u = user(&format!("act-{name}@example.com"), "Act", "Eng");
        let record = |expires| ActivationToken {
            user_id: u.id.clone(),
            created: 1_000,
            expires,
            used_at: None,
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&u).await.unwrap();
        tx.replace_activation_token("hash-1", &record(10_000))
            .await
            .unwrap();
        tx.replace_activation_token("hash-2", &record(10_000))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            matches!(
                store.activation_token("hash-1").await,
                Err(StoreError::NotFound)
            ),
            "{name}: superseded"
        );
        let found = store.activation_token("hash-2").await.unwrap();
        assert!(found.usable(9_999) && !found.usable(10_000), "{name}");

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.use_activation_token("hash-2", 10_000).await.unwrap(),
            None,
            "{name}: expired"
        );
        assert_eq!(
            tx.use_activation_token("hash-2", 5_000).await.unwrap(),
            Some(u.id.clone()),
            "{name}"
        );
        assert_eq!(
            tx.use_activation_token("hash-2", 5_001).await.unwrap(),
            None,
            "{name}: single use"
        );
        tx.commit().await.unwrap();
        assert_eq!(
            store.activation_token("hash-2").await.unwrap().used_at,
            Some(5_000)
        );

        let mut tx = store.begin().await.unwrap();
        tx.purge_expired(10_001).await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            matches!(
                store.activation_token("hash-2").await,
                Err(StoreError::NotFound)
            ),
            "{name}: purged"
        );
    }
}
