//! Event-triggered flows: each matching outbox event starts each subscribed flow once.
//!
//! An event flow that is on has a cursor (`flow_event_cursors`) naming the System Log event
//! type of its trigger card (`steward_flows::events::EVENT_CARDS`). [`dispatch_events`], run by
//! the worker loop next to `fire_schedules`, takes each cursor under a row lock, reads the
//! outbox after it, turns each new domain event into its System Log entries
//! ([`log_events`]: `steward_core::audit::log_entries`, and for access requests the entries the
//! governance services write), queues one run per entry of the flow's type, and moves the
//! cursor, all in one transaction: two nodes never queue the same event twice, and an event is
//! queued once or (if the transaction fails) not at all and read again.
//!
//! PostgreSQL takes an outbox seq at insert, not at commit: a change may commit seq 11 while 10
//! is still open. As the outbox follower does (`steward-api` `outbox.rs`), the cursor keeps
//! every seq it skipped over as a gap and reads again from below the lowest until the gap fills
//! or [`GAP_WAIT_MS`] passes (a rolled-back insert never fills its gap). Switching a flow on
//! starts its cursor at the outbox's current end: no backfill.

use std::collections::BTreeMap;

use serde_json::Value;
use steward_core::audit::{log_entries, Origin};
use steward_core::events::DomainEvent;
use steward_core::syslog::{LogEvent, Target};
use steward_flows::model::Flopack;
use steward_store::{EventCursor, OutboxRow, StoredFlow, WriteTx};

use crate::{AppResult, Ctx};

/// How long a skipped seq is waited for before it is taken for a rolled-back insert (the
/// outbox follower's wait).
pub const GAP_WAIT_MS: i64 = 60_000;
/// Skipped seqs remembered at most per cursor; past it the oldest are given up.
const MAX_GAPS: usize = 10_000;
/// Outbox rows read per cursor and pass.
const PAGE: i64 = 500;

/// The cursor's rules, pure: which seqs are new, where to read from, when to give up a gap.
pub mod cursor {
    use super::*;

    /// Read from above this seq: everything at or below it is settled.
    pub fn floor(c: &EventCursor) -> i64 {
        c.gaps.keys().next().map_or(c.last_seq, |lowest| lowest - 1)
    }

    /// Records `seq`, read at `now`; true when it is new (its event should start the flow).
    pub fn accept(c: &mut EventCursor, seq: i64, now: i64) -> bool {
        if seq > c.last_seq {
            for gap in (c.last_seq + 1)..seq {
                c.gaps.insert(gap, now);
            }
            while c.gaps.len() > MAX_GAPS {
                c.gaps.pop_first();
            }
            c.last_seq = seq;
            return true;
        }
        c.gaps.remove(&seq).is_some()
    }

    /// Stops waiting for seqs skipped before `now - GAP_WAIT_MS`.
    pub fn expire(c: &mut EventCursor, now: i64) {
        c.gaps
            .retain(|_, skipped_at| now - *skipped_at < GAP_WAIT_MS);
    }
}

/// The System Log event type an event flow's trigger listens to, if `flow` is one.
pub fn trigger_event_type(flow: &StoredFlow) -> Option<&'static str> {
    let flopack: Flopack = serde_json::from_value(flow.flopack.clone()).ok()?;
    let data = &flopack.data.flos.get(&flow.id)?.data;
    let plan = steward_flows::plan::Plan::of(data).ok()?;
    let root = data.methods.iter().find(|c| c.uuid == plan.root)?;
    steward_flows::events::event_type_of(&root.address.card_key())
}

/// Starts (`Some`) or stops (`None`) a flow's subscription in `tx`: a new cursor starts at the
/// outbox's current end.
pub async fn subscribe(
    tx: &mut WriteTx,
    flow_id: &str,
    event_type: Option<&str>,
    now: i64,
) -> AppResult<()> {
    match event_type {
        Some(event_type) => {
            let head = tx.outbox_head_in_tx().await?;
            tx.put_event_cursor(&EventCursor {
                flow_id: flow_id.to_string(),
                event_type: event_type.to_string(),
                last_seq: head,
                gaps: BTreeMap::new(),
                updated: now,
            })
            .await?;
        }
        None => tx.delete_event_cursor(flow_id).await?,
    }
    Ok(())
}

async fn user_target(ctx: &Ctx<'_>, id: &str) -> Target {
    match ctx.store.user(id).await {
        Ok(u) => Target::user(&u),
        Err(_) => Target::new(id, "User", id, id),
    }
}

async fn group_target(ctx: &Ctx<'_>, id: &str) -> Target {
    match ctx.store.group(id).await {
        Ok(g) => Target::group(&g),
        Err(_) => Target::new(id, "UserGroup", id, id),
    }
}

/// The access-request entries: governance logs them itself (it knows the request), so they
/// are built here the same way, with the request id in `debugData.accessRequestId`.
async fn request_log(
    ctx: &Ctx<'_>,
    request_id: &str,
    event_type: &str,
    message: &str,
    actor: &steward_core::syslog::Actor,
    at: i64,
) -> LogEvent {
    let mut log = LogEvent::new(event_type, message, actor.clone(), at).target(Target::new(
        request_id,
        "AccessRequest",
        request_id,
        "Access request",
    ));
    if let Ok(stored) = ctx.store.access_requests().request(request_id).await {
        let r = &stored.workflow.request;
        log = log
            .target(user_target(ctx, &r.requested_for.external_id).await)
            .debug("requestStatus", r.status.as_str());
    }
    log.debug("accessRequestId", request_id)
}

/// The System Log entries of a domain event, the targets named as they are now: what an event
/// card sees. Access-request events: `access_request.created` → `access.request.create`;
/// `access_request.decided` → `access.request.resolve` (APPROVED, DENIED), `.reject`,
/// `.cancel`.
pub async fn log_events(ctx: &Ctx<'_>, event: &DomainEvent, at: i64) -> Vec<LogEvent> {
    use DomainEvent as E;
    let actor = event.actor();
    match event {
        E::AccessRequestCreated { request_id, .. } => {
            vec![
                request_log(
                    ctx,
                    request_id,
                    "access.request.create",
                    "Create access request",
                    actor,
                    at,
                )
                .await,
            ]
        }
        E::AccessRequestDecided {
            request_id,
            decision,
            ..
        } => {
            let (event_type, message) = match decision.as_str() {
                "APPROVED" => ("access.request.resolve", "Approve access request"),
                "DENIED" => ("access.request.resolve", "Deny access request"),
                "REJECTED" => ("access.request.reject", "Reject access request"),
                _ => ("access.request.cancel", "Cancel access request"),
            };
            vec![request_log(ctx, request_id, event_type, message, actor, at)
                .await
                .debug("decision", decision.as_str())]
        }
        _ => {
            let mut subjects = Vec::new();
            if let Ok(Value::Object(fields)) = serde_json::to_value(event) {
                if let Some(Value::String(id)) = fields.get("user_id") {
                    subjects.push(user_target(ctx, id).await);
                }
                if let Some(Value::String(id)) = fields.get("group_id") {
                    subjects.push(group_target(ctx, id).await);
                }
            }
            let origin = Origin {
                at,
                ..Origin::default()
            };
            log_entries(event, &subjects, &origin)
        }
    }
}

/// Queues, once across every node, a run of each event flow that is on for each new outbox
/// event of its type (see the module comment); how many runs it queued.
pub async fn dispatch_events(ctx: &Ctx<'_>) -> AppResult<usize> {
    for flow_id in ctx.store.event_flows_without_cursor().await? {
        let flow = super::get_flow(ctx, &flow_id).await?;
        let mut tx = ctx.store.begin().await?;
        if tx.lock_event_cursor(&flow_id).await?.is_none() {
            subscribe(&mut tx, &flow_id, trigger_event_type(&flow), ctx.now).await?;
        }
        tx.commit().await?;
    }
    let mut queued = 0;
    let head = ctx.store.outbox_head().await?;
    for listed in ctx.store.event_cursors().await? {
        // Nothing new and no gap to wait for: no transaction, no lock.
        if listed.gaps.is_empty() && listed.last_seq >= head {
            continue;
        }
        match dispatch_one(ctx, &listed.flow_id).await {
            Ok(n) => queued += n,
            Err(e) => {
                tracing::warn!(flow = %listed.flow_id, error = %e, "event flow could not be dispatched")
            }
        }
    }
    Ok(queued)
}

async fn dispatch_one(ctx: &Ctx<'_>, flow_id: &str) -> AppResult<usize> {
    let mut tx = ctx.store.begin().await?;
    let Some(from) = tx.lock_event_cursor(flow_id).await? else {
        return Ok(0);
    };
    let mut to = from.clone();
    let mut inputs = Vec::new();
    let mut after = cursor::floor(&from);
    loop {
        let rows = tx.outbox_rows_after(after, PAGE).await?;
        for row in &rows {
            if !cursor::accept(&mut to, row.seq, ctx.now) {
                continue;
            }
            inputs.extend(matching(ctx, row, &from.event_type).await);
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    cursor::expire(&mut to, ctx.now);
    if to == from {
        return Ok(0);
    }
    to.updated = ctx.now;
    if !tx.move_event_cursor(&from, &to).await? {
        return Ok(0);
    }
    let n = inputs.len();
    for input in inputs {
        tx.flows()
            .queue_run(&super::new_run_id(), flow_id, &input, ctx.now)
            .await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// The trigger inputs one outbox row gives a flow listening to `event_type`.
async fn matching(ctx: &Ctx<'_>, row: &OutboxRow, event_type: &str) -> Vec<Value> {
    let Some(event) = row.event() else {
        return Vec::new();
    };
    log_events(ctx, &event, row.occurred_at)
        .await
        .into_iter()
        .filter(|log| log.event_type == event_type)
        .map(|log| steward_flows::events::trigger_input(&log.to_json()))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::cursor::*;
    use super::*;

    fn at(last_seq: i64) -> EventCursor {
        EventCursor {
            flow_id: "f".into(),
            event_type: "user.lifecycle.create".into(),
            last_seq,
            gaps: BTreeMap::new(),
            updated: 0,
        }
    }

    #[test]
    fn new_seqs_start_the_flow_once() {
        let mut c = at(10);
        assert!(accept(&mut c, 11, 0));
        assert!(accept(&mut c, 12, 0));
        assert!(!accept(&mut c, 12, 0), "seen");
        assert!(!accept(&mut c, 9, 0), "before the flow was switched on");
        assert_eq!(floor(&c), 12);
    }

    #[test]
    fn a_late_committing_seq_is_not_skipped() {
        let mut c = at(10);
        assert!(accept(&mut c, 13, 0), "11 and 12 are still open");
        assert_eq!(floor(&c), 10, "read again from above 10");
        assert!(!accept(&mut c, 13, 100), "read again: not queued twice");
        assert!(accept(&mut c, 12, 200), "committed late");
        assert!(accept(&mut c, 11, 300));
        assert_eq!(floor(&c), 13, "every gap filled");
        assert!(!accept(&mut c, 12, 300));
    }

    #[test]
    fn a_gap_never_filled_is_given_up_after_the_wait() {
        let mut c = at(0);
        assert!(accept(&mut c, 2, 1_000));
        expire(&mut c, 1_000 + GAP_WAIT_MS - 1);
        assert_eq!(floor(&c), 0, "still waiting for 1");
        expire(&mut c, 1_000 + GAP_WAIT_MS);
        assert_eq!(floor(&c), 2, "1 was rolled back");
        assert!(!accept(&mut c, 1, 1_000 + GAP_WAIT_MS));
    }

    #[test]
    fn too_many_gaps_give_up_the_oldest() {
        let mut c = at(0);
        assert!(accept(&mut c, MAX_GAPS as i64 + 5, 0));
        assert_eq!(c.gaps.len(), MAX_GAPS);
        assert_eq!(floor(&c), 4);
    }
}
