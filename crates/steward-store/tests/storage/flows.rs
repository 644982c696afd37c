//! Workflows storage: flows, runs claimed exactly once across stores, leases that expire and
//! fence the worker that lost them, steps, cancellation and history queries.
use std::collections::BTreeSet;

use serde_json::json;
use steward_store::{FlowStep, RunClaim, RunQuery, RunStatus, Store, StoredFlow};

use crate::common;

fn flow(id: &str) -> StoredFlow {
    StoredFlow {
        id: id.into(),
        name: format!("flow {id}"),
        folder: Some("Steward".into()),
        kind: "helper".into(),
        active: false,
        save_history: true,
        flopack: json!({"type": "flopack", "data": {"flos": {}}}),
        client_token_hash: Some("h1".into()),
        created: 1000,
        updated: 1000,
    }
}

async fn queue(store: &Store, flow_id: &str, n: usize, created: i64) -> Vec<String> {
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("run{created}x{i:04}");
        tx.flows()
            .queue_run(&id, flow_id, &json!({"i": i}), created)
            .await
            .unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    ids
}

fn step(run: &str, name: &str) -> FlowStep {
    FlowStep {
        run_id: run.into(),
        idx: 0,
        card: "c1".into(),
        name: name.into(),
        card_key: "kernel:string:compose".into(),
        block: "flow".into(),
        depth: 0,
        status: "SUCCEEDED".into(),
        started: 5000,
        duration_us: 12,
        inputs: Some(json!({"a": 1})),
        outputs: None,
        error: None,
    }
}

#[tokio::test]
async fn flows_are_stored_switched_and_reimported() {
    for (name, url) in common::urls("steward-flows-put").await {
        let store = common::open(&url).await;
        let mut tx = store.begin().await.unwrap();
        tx.flows().put_flow(&flow("f1")).await.unwrap();
        tx.flows().set_active("f1", true, 2000).await.unwrap();
        assert!(tx.flows().set_active("nope", true, 2000).await.is_err());
        tx.commit().await.unwrap();
        let stored = store.flows().flow("f1").await.unwrap();
        assert!(stored.active, "{name}");
        assert_eq!(stored.flopack["type"], "flopack", "{name}");
        // A re-import replaces the flopack, keeps the switch and the client token.
        let mut again = flow("f1");
        again.name = "renamed".into();
        again.client_token_hash = None;
        let mut tx = store.begin().await.unwrap();
        tx.flows().put_flow(&again).await.unwrap();
        tx.commit().await.unwrap();
        let stored = store.flows().flow("f1").await.unwrap();
        assert_eq!(
            (
                stored.name.as_str(),
                stored.active,
                stored.client_token_hash.as_deref()
            ),
            ("renamed", true, Some("h1")),
            "{name}"
        );
        assert_eq!(store.flows().list().await.unwrap().len(), 1, "{name}");
        store.close().await;
    }
}

#[tokio::test]
async fn two_stores_claiming_at_once_take_each_run_exactly_once() {
    for (name, url) in common::urls("steward-flows-claim").await {
        let a = common::open(&url).await;
        let b = common::open(&url).await;
        let mut tx = a.begin().await.unwrap();
        tx.flows().put_flow(&flow("f1")).await.unwrap();
        tx.commit().await.unwrap();
        let queued: BTreeSet<String> = queue(&a, "f1", 300, 1000).await.into_iter().collect();
        let claimer = |store: Store, worker: &'static str| {
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let runs = store.flows().claim(worker, 2000, 60_000, 7).await.unwrap();
                    if runs.is_empty() {
                        return got;
                    }
                    got.extend(runs.into_iter().map(|r| (r.id, r.attempts)));
                }
            })
        };
        let (x, y, z) = tokio::join!(
            claimer(a.clone(), "a1"),
            claimer(a.clone(), "a2"),
            claimer(b.clone(), "b1")
        );
        let all: Vec<(String, i64)> = [x.unwrap(), y.unwrap(), z.unwrap()].concat();
        assert_eq!(all.len(), 300, "{name}: every run claimed once");
        let ids: BTreeSet<String> = all.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(ids, queued, "{name}");
        assert!(all.iter().all(|(_, attempts)| *attempts == 1), "{name}");
        a.close().await;
        b.close().await;
    }
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_fences_the_old_worker() {
    for (name, url) in common::urls("steward-flows-lease").await {
        let store = common::open(&url).await;
        let mut tx = store.begin().await.unwrap();
        tx.flows().put_flow(&flow("f1")).await.unwrap();
        tx.commit().await.unwrap();
        let ids = queue(&store, "f1", 1, 1000).await;
        // Not claimable before it is due.
        assert!(store
            .flows()
            .claim("w1", 999, 100, 10)
            .await
            .unwrap()
            .is_empty());
        let first = store.flows().claim("w1", 1000, 100, 10).await.unwrap();
        assert_eq!(first.len(), 1, "{name}");
        let old = RunClaim {
            run_id: &ids[0],
            worker: "w1",
            attempt: first[0].attempts,
        };
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .flows()
            .record_step(&old, Some(&step(&ids[0], "one")), &json!({"pc": 1}), 1150)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        // The lease runs to 1150: nobody else gets it before.
        assert!(store
            .flows()
            .claim("w2", 1100, 100, 10)
            .await
            .unwrap()
            .is_empty());
        let second = store.flows().claim("w2", 1151, 100, 10).await.unwrap();
        assert_eq!(second.len(), 1, "{name}");
        assert_eq!(second[0].attempts, 2, "{name}");
        assert_eq!(second[0].state, Some(json!({"pc": 1})), "{name}: resumes");
        // The old worker's writes change nothing now.
        let mut tx = store.begin().await.unwrap();
        assert!(!tx
            .flows()
            .record_step(&old, Some(&step(&ids[0], "stale")), &json!({"pc": 9}), 9999)
            .await
            .unwrap());
        assert!(!tx
            .flows()
            .finish_run(&old, RunStatus::Succeeded, None, None, 1200)
            .await
            .unwrap());
        let new = RunClaim {
            run_id: &ids[0],
            worker: "w2",
            attempt: 2,
        };
        assert!(tx
            .flows()
            .record_step(&new, Some(&step(&ids[0], "two")), &json!({"pc": 2}), 1300)
            .await
            .unwrap());
        assert!(tx
            .flows()
            .finish_run(
                &new,
                RunStatus::Succeeded,
                Some(&json!({"ok": true})),
                None,
                1250
            )
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let run = store.flows().run(&ids[0]).await.unwrap();
        assert_eq!(run.status, RunStatus::Succeeded, "{name}");
        assert_eq!(run.output, Some(json!({"ok": true})), "{name}");
        assert_eq!(run.steps, 2, "{name}");
        let steps = store.flows().steps(&ids[0]).await.unwrap();
        let names: Vec<(i64, &str)> = steps.iter().map(|s| (s.idx, s.name.as_str())).collect();
        assert_eq!(names, [(0, "one"), (1, "two")], "{name}");
        assert_eq!(steps[0].inputs, Some(json!({"a": 1})), "{name}");
        store.close().await;
    }
}

#[tokio::test]
async fn requeue_cancel_and_history_queries() {
    for (name, url) in common::urls("steward-flows-history").await {
        let store = common::open(&url).await;
        let mut tx = store.begin().await.unwrap();
        tx.flows().put_flow(&flow("f1")).await.unwrap();
        tx.flows().put_flow(&flow("f2")).await.unwrap();
        tx.commit().await.unwrap();
        let early = queue(&store, "f1", 2, 1000).await;
        let late = queue(&store, "f2", 1, 3000).await;
        let claimed = store.flows().claim("w", 1000, 100, 1).await.unwrap();
        assert_eq!(claimed[0].id, early[0], "{name}: oldest first");
        let claim = RunClaim {
            run_id: &early[0],
            worker: "w",
            attempt: 1,
        };
        // A retry delay: back in the queue, not due before 5000.
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .flows()
            .requeue(&claim, Some(&json!({"pc": 3})), 5000)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let next = store.flows().claim("w", 4000, 100, 10).await.unwrap();
        let ids: Vec<&str> = next.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, [early[1].as_str(), late[0].as_str()], "{name}");
        // Cancel a running run: its worker's next write is refused.
        let mut tx = store.begin().await.unwrap();
        assert!(tx.flows().cancel_run(&early[1], 4100).await.unwrap());
        assert!(!tx.flows().cancel_run(&early[1], 4100).await.unwrap());
        assert!(tx.flows().cancel_run("nope", 4100).await.is_err());
        let cancelled = RunClaim {
            run_id: &early[1],
            worker: "w",
            attempt: 1,
        };
        assert!(!tx
            .flows()
            .record_step(&cancelled, None, &json!({}), 9000)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let by = |q: RunQuery| {
            let store = store.clone();
            async move {
                store
                    .flows()
                    .runs(&RunQuery { limit: 10, ..q })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            by(RunQuery {
                flow_id: Some("f1".into()),
                ..Default::default()
            })
            .await,
            [early[1].clone(), early[0].clone()],
            "{name}: newest first"
        );
        assert_eq!(
            by(RunQuery {
                status: Some(RunStatus::Cancelled),
                ..Default::default()
            })
            .await,
            [early[1].clone()],
            "{name}"
        );
        assert_eq!(
            by(RunQuery {
                since: Some(2000),
                ..Default::default()
            })
            .await,
            [late[0].clone()],
            "{name}"
        );
        let counts = store.flows().count_by_status(Some("f1")).await.unwrap();
        assert!(counts.contains(&(RunStatus::Cancelled, 1)), "{name}");
        assert!(counts.contains(&(RunStatus::Queued, 1)), "{name}");
        store.close().await;
    }
}
