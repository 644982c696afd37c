//! The runner over SQLite and PostgreSQL: imports, manual and API endpoint runs, retries
//! waiting in the queue, cancellation, and 1,000 runs surviving a worker that dies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use steward_flows::exec::{ConnectorError, ConnectorRequest};
use steward_flows::Outputs;
use steward_store::{RunQuery, RunStatus, Store, StoreConfig, StoredFlow};

use super::runner::ConnectorFuture;
use super::*;
use crate::governance::Clock;

const CARDS: &[u8] = include_bytes!("../../../steward-flows/tests/fixtures/engine_cards.flopack");
const SEED: &[u8] =
    include_bytes!("../../../steward-flows/tests/fixtures/seed_request_lookup.flopack");
const LISTS: &str = "e4e00000-0000-4000-8000-000000000010";
const HELLO: &str = "e4e00000-0000-4000-8000-000000000012";
const CONNECTOR: &str = "e4e00000-0000-4000-8000-000000000013";

async fn backends(prefix: &str) -> Vec<(&'static str, String)> {
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

async fn open(url: &str) -> Store {
    Store::open(&StoreConfig {
        url: url.to_string(),
        max_connections: 8,
    })
    .await
    .unwrap()
}

/// Answers the Custom API Action with the statuses queued (None: 200), then 200s; may cancel
/// the run it is called for.
#[derive(Default)]
struct Fake {
    answers: Mutex<VecDeque<Option<u16>>>,
    calls: Mutex<usize>,
    cancel_with: Mutex<Option<Store>>,
}

impl Connectors for Fake {
    fn cards(&self) -> Vec<(String, String)> {
        vec![("okta".into(), "hTTPRequest".into())]
    }

    fn call<'a>(&'a self, _: &'a StoredFlow, request: &'a ConnectorRequest) -> ConnectorFuture<'a> {
        Box::pin(async move {
            *self.calls.lock().unwrap() += 1;
            let cancel = self.cancel_with.lock().unwrap().clone();
            if let Some(store) = cancel {
                let execution = request.inputs.get_in("Request", "Relative URL").clone();
                let ctx = Ctx::system(&store);
                cancel_run(&ctx, execution.as_str().unwrap()).await.unwrap();
            }
            match self.answers.lock().unwrap().pop_front().flatten() {
                None => Ok(Outputs::new().with_in(Some("Response"), "Status Code", json!(200))),
                Some(status) => Err(ConnectorError {
                    message: format!("HTTP {status}"),
                    status: Some(status),
                    diagnosis: None,
                }),
            }
        })
    }
}

fn runner(store: &Store, fake: Arc<Fake>, clock: &Clock, worker: &str) -> Runner {
    Runner::new(
        store.clone(),
        fake,
        RunnerConfig {
            worker_id: worker.into(),
            concurrency: 8,
            lease_ms: 60_000,
            poll: Duration::from_millis(20),
            ..RunnerConfig::default()
        },
        clock.clone(),
    )
}

#[tokio::test]
async fn imports_are_refused_with_the_cards_that_cannot_run() {
    let (_, url) = backends("steward-app-flows-import").await.remove(0);
    let store = open(&url).await;
    let ctx = Ctx::system(&store);
    let plain = Runner::new(
        store.clone(),
        Arc::new(NoConnectors),
        RunnerConfig::default(),
        Clock::default(),
    );
    let Err(AppError::Validation(e)) = import_flopack(&ctx, plain.registry(), SEED).await else {
        panic!("the seed flow has a connector card Steward cannot run without connectors");
    };
    assert!(
        e.causes.iter().any(|c| c.contains("okta:hTTPRequest")),
        "{e:?}"
    );
    assert!(list_flows(&ctx).await.unwrap().is_empty(), "nothing saved");
    let Err(AppError::Validation(e)) = import_flopack(&ctx, plain.registry(), b"{}").await else {
        panic!("not a flopack");
    };
    assert!(e.summary.contains("cannot be read"));
    // With the connector, everything imports; the API endpoint flow gets a client token.
    let fake = runner(&store, Arc::new(Fake::default()), &Clock::default(), "w");
    let imported = import_flopack(&ctx, fake.registry(), CARDS).await.unwrap();
    assert_eq!(imported.flows.len(), 7);
    assert_eq!(imported.client_tokens.len(), 1);
    assert_eq!(imported.client_tokens[0].flow_id, HELLO);
    let lists = get_flow(&ctx, LISTS).await.unwrap();
    // The flow's own flopack holds it and its three helpers.
    assert_eq!(lists.flopack["data"]["flos"].as_object().unwrap().len(), 4);
    assert!(!lists.active);
    assert!(set_active(&ctx, LISTS, true).await.unwrap().active);
    assert!(
        set_active(&ctx, LISTS, true).await.unwrap().active,
        "already on"
    );
    // Each flow's import and the one real switch are recorded, and logged as Okta names them.
    let recorded = store.outbox_after(0, 100).await.unwrap();
    let kinds: Vec<&str> = recorded.iter().map(|r| r.event_type.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "flow.imported").count(), 7);
    assert_eq!(kinds.last(), Some(&"flow.switched"));
    let page = store
        .log_events(&steward_store::LogQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let last = page.events.last().unwrap();
    assert_eq!(last["eventType"], "workflows.user.flow.activate");
    assert_eq!(last["target"][0]["id"], LISTS);
    // A re-import keeps the switch and issues no new token.
    let again = import_flopack(&ctx, fake.registry(), CARDS).await.unwrap();
    assert!(again.client_tokens.is_empty());
    assert!(get_flow(&ctx, LISTS).await.unwrap().active);
    // Export gives a flopack that imports again.
    let bytes = export_flow(&ctx, LISTS).await.unwrap();
    assert!(steward_flows::import(&bytes).unwrap().report.runnable());
}

#[tokio::test]
async fn runs_record_their_cards_retry_in_the_queue_and_stop_when_cancelled() {
    for (name, url) in backends("steward-app-flows-run").await {
        let store = open(&url).await;
        let ctx = Ctx::system(&store);
        let clock = Clock::default();
        clock.set(1_800_000_000_000);
        let fake = Arc::new(Fake::default());
        let runner = runner(&store, fake.clone(), &clock, "w1");
        import_flopack(&ctx, runner.registry(), CARDS)
            .await
            .unwrap();

        // A manual run of the list flow: every card recorded, with inputs and outputs.
        let ctx = ctx.at(clock.now());
        let id = queue_run(&ctx, LISTS, &json!({})).await.unwrap();
        assert_eq!(runner.run_pending().await.unwrap(), 1, "{name}");
        let run = get_run(&ctx, &id).await.unwrap();
        assert_eq!(run.status, RunStatus::Succeeded, "{name}");
        assert_eq!(
            run.output,
            Some(json!({"doubled": [2, 4, 6, 8], "big": [3, 4], "sum": 110})),
            "{name}"
        );
        let steps = run_steps(&ctx, &id).await.unwrap();
        assert_eq!(steps.len(), 29, "{name}");
        assert!(
            steps.iter().all(|s| s.inputs.is_some()),
            "{name}: history on"
        );

        // An API endpoint flow runs at once and answers with Return Raw.
        let (run, finish) = runner
            .invoke(&ctx, HELLO, &json!({"query": {"name": "Ada"}}))
            .await
            .unwrap();
        assert_eq!(run.status, RunStatus::Succeeded, "{name}");
        let finish = finish.unwrap();
        assert!(finish.raw);
        assert_eq!(finish.output["body"], "hello Ada", "{name}");

        // 429 then 503: each retry waits in the queue until its delay has passed.
        fake.answers
            .lock()
            .unwrap()
            .extend([Some(429), Some(503), None]);
        let id = queue_run(&ctx, CONNECTOR, &json!({"userId": "00u1"}))
            .await
            .unwrap();
        assert_eq!(runner.run_pending().await.unwrap(), 1, "{name}");
        assert_eq!(get_run(&ctx, &id).await.unwrap().status, RunStatus::Queued);
        assert_eq!(
            runner.run_pending().await.unwrap(),
            0,
            "{name}: not due yet"
        );
        clock.advance(10);
        assert_eq!(runner.run_pending().await.unwrap(), 1, "{name}");
        clock.advance(20);
        assert_eq!(runner.run_pending().await.unwrap(), 1, "{name}");
        let run = get_run(&ctx, &id).await.unwrap();
        assert_eq!(run.status, RunStatus::Succeeded, "{name}");
        assert_eq!(run.output, Some(json!({"status": 200})), "{name}");
        assert_eq!(run.attempts, 3, "{name}");
        let steps = run_steps(&ctx, &id).await.unwrap();
        let statuses: Vec<&str> = steps.iter().map(|s| s.status.as_str()).collect();
        assert_eq!(
            statuses,
            ["FAILED", "FAILED", "SUCCEEDED", "SUCCEEDED"],
            "{name}"
        );
        // History off: no inputs or outputs kept.
        assert!(steps
            .iter()
            .all(|s| s.inputs.is_none() && s.outputs.is_none()));

        // Cancelled while its connector card runs: it stops before recording anything more.
        *fake.cancel_with.lock().unwrap() = Some(store.clone());
        let id = new_run_id();
        let mut tx = store.begin().await.unwrap();
        tx.flows()
            .queue_run(&id, CONNECTOR, &json!({"userId": id}), clock.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(runner.run_pending().await.unwrap(), 1, "{name}");
        let run = get_run(&ctx, &id).await.unwrap();
        assert_eq!(run.status, RunStatus::Cancelled, "{name}");
        assert!(run_steps(&ctx, &id).await.unwrap().is_empty(), "{name}");
        *fake.cancel_with.lock().unwrap() = None;

        // History by flow and status.
        let failed_or_not = history(
            &ctx,
            &RunQuery {
                flow_id: Some(CONNECTOR.into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(failed_or_not.len(), 2, "{name}");
        let cancelled = history(
            &ctx,
            &RunQuery {
                status: Some(RunStatus::Cancelled),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(cancelled.len(), 1, "{name}");
        store.close().await;
    }
}

async fn counts(store: &Store) -> (i64, i64) {
    let counts = store.flows().count_by_status(None).await.unwrap();
    let of = |s: RunStatus| {
        counts
            .iter()
            .find(|(st, _)| *st == s)
            .map_or(0, |(_, n)| *n)
    };
    (
        of(RunStatus::Succeeded),
        of(RunStatus::Queued) + of(RunStatus::Running),
    )
}

/// 1,000 queued runs; the first worker dies in the middle; a second worker, on a second store
/// over the same database, reclaims the runs whose lease expired and finishes them all: none
/// lost, none run twice (each run has exactly its two card steps).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_runs_survive_a_worker_that_dies() {
    for (name, url) in backends("steward-app-flows-crash").await {
        let first = open(&url).await;
        let second = open(&url).await;
        let ctx = Ctx::system(&first);
        let fake = Arc::new(Fake::default());
        let clock = Clock::default();
        let one = runner(&first, fake.clone(), &clock, "node-1");
        import_flopack(&ctx, one.registry(), CARDS).await.unwrap();
        let mut tx = first.begin().await.unwrap();
        for i in 0..1000 {
            tx.flows()
                .queue_run(
                    &format!("fexcrash{i:04}"),
                    HELLO,
                    &json!({"query": {"name": format!("n{i}")}}),
                    ctx.now,
                )
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();

        let worker = one.spawn();
        while counts(&first).await.0 < 200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        worker.abort();
        let (done, left) = counts(&first).await;
        assert!(
            left > 0,
            "{name}: the first worker died in the middle ({done} done)"
        );

        // The second node's clock is past the first one's leases.
        let later = Clock::default();
        later.set(steward_core::timefmt::now_millis() + 60_001);
        let two = runner(&second, fake.clone(), &later, "node-2");
        let worker = two.spawn();
        while counts(&second).await.1 > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        worker.stop().await;

        let runs = second
            .flows()
            .runs(&RunQuery {
                limit: 2000,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(runs.len(), 1000, "{name}");
        for run in &runs {
            assert_eq!(run.status, RunStatus::Succeeded, "{name}: {}", run.id);
            let i = run.id.trim_start_matches("fexcrash");
            let body: Value = json!(format!("hello n{}", i.parse::<usize>().unwrap()));
            assert_eq!(run.output.as_ref().unwrap()["body"], body, "{name}");
            assert!(
                run.attempts <= 2,
                "{name}: {} claimed {} times",
                run.id,
                run.attempts
            );
            let steps = second.flows().steps(&run.id).await.unwrap();
            let cards: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(cards, ["Compose", "Return Raw"], "{name}: {}", run.id);
        }
        first.close().await;
        second.close().await;
    }
}

const SCHEDULED: &[u8] =
    include_bytes!("../../../steward-flows/tests/fixtures/scheduled_helper_over_list.flopack");
const WEEKDAYS: &str = "5c4ed000-0000-4000-8000-000000000002";

/// A scheduled flow fires once per fire time, whichever node asks; a zone Steward cannot use
/// is refused when the flow is switched on.
#[tokio::test]
async fn schedules_fire_once_per_time_across_stores() {
    for (name, url) in backends("steward-app-flows-cron").await {
        let first = open(&url).await;
        let second = open(&url).await;
        let clock = Clock::default();
        // Monday 2026-12-07 08:00 UTC.
        clock.set(1_796_630_400_000);
        let ctx = Ctx::system(&first).at(clock.now());
        let runner = runner(&first, Arc::new(Fake::default()), &clock, "w1");
        import_flopack(&ctx, runner.registry(), SCHEDULED)
            .await
            .unwrap();
        // America/Los_Angeles: no zone database yet, so it cannot be switched on.
        let Err(AppError::Validation(e)) = set_active(&ctx, WEEKDAYS, true).await else {
            panic!("{name}: an unsupported zone is refused");
        };
        assert!(e.causes[0].contains("America/Los_Angeles"), "{e:?}");
        // The same flow in UTC: weekdays at 09:00.
        let mut flopack: Value = serde_json::from_slice(SCHEDULED).unwrap();
        flopack["data"]["flos"][WEEKDAYS]["data"]["cron"]["timeZone"] = json!("UTC");
        import_flopack(
            &ctx,
            runner.registry(),
            &serde_json::to_vec(&flopack).unwrap(),
        )
        .await
        .unwrap();
        set_active(&ctx, WEEKDAYS, true).await.unwrap();
        let nine = 1_796_634_000_000;
        assert_eq!(first.flows().next_fire(WEEKDAYS).await.unwrap(), Some(nine));
        assert_eq!(fire_schedules(&ctx).await.unwrap(), 0, "{name}: not yet");

        clock.set(nine);
        let (on_first, on_second) = (Ctx::system(&first).at(nine), Ctx::system(&second).at(nine));
        let (a, b) = tokio::join!(fire_schedules(&on_first), fire_schedules(&on_second));
        assert_eq!(
            a.unwrap() + b.unwrap(),
            1,
            "{name}: one run for one fire time"
        );
        assert_eq!(
            fire_schedules(&Ctx::system(&first).at(nine)).await.unwrap(),
            0
        );
        assert_eq!(
            first.flows().next_fire(WEEKDAYS).await.unwrap(),
            Some(nine + 86_400_000),
            "{name}: Tuesday 09:00"
        );
        assert_eq!(runner.run_pending().await.unwrap(), 1, "{name}");
        let runs = history(
            &ctx,
            &RunQuery {
                flow_id: Some(WEEKDAYS.into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(runs.len(), 1, "{name}");
        assert_eq!(
            runs[0].status,
            RunStatus::Succeeded,
            "{name}: {:?}",
            runs[0].error
        );
        assert_eq!(
            runs[0].input["context"]["execution_time"],
            "2026-12-07T09:00:00.000Z"
        );
        // Off: it never fires again.
        set_active(&ctx, WEEKDAYS, false).await.unwrap();
        assert_eq!(first.flows().next_fire(WEEKDAYS).await.unwrap(), None);
        first.close().await;
        second.close().await;
    }
}
