//! Approval tasks: deciding one (an assignee, or an admin as an override) and reassigning one,
//! with fulfilment of the approval that completes a request, in one transaction.

use steward_core::access_requests::workflow::{AccessRequestEvent, Decision, Task};
use steward_core::access_requests::{Principal, RequestWorkflow, RuleError};
use steward_core::syslog::Actor;

use super::engine::{self, Effects, Snapshot};
use crate::{AppError, AppResult, Ctx};

/// Who decides a task.
#[derive(Debug, Clone)]
pub enum Decider {
    /// One of the task's assignees.
    Assignee(Principal),
    /// An admin: one who is not an assignee decides as an override and joins the assignees.
    Admin(Principal),
}

/// The refusal's prefix when a decision is refused.
pub const RESOLVE_FAILED: &str = "Task resolve failed";
/// The refusal's prefix when a reassignment is refused.
pub const UPDATE_FAILED: &str = "Task update failed";

/// Decides task `task_id` for `decider` (`ctx.actor` in the System Log); answers the task as it
/// is afterwards. The request's requester never decides ([`AppError::Rule`], forbidden).
pub async fn resolve(
    ctx: &Ctx<'_>,
    task_id: &str,
    decider: &Decider,
    decision: Decision,
) -> AppResult<Task> {
    change_task(
        ctx,
        task_id,
        &[],
        RESOLVE_FAILED,
        |wf, dir, now| match decider {
            Decider::Assignee(p) => wf.resolve_task(task_id, p, decision, dir, now),
            Decider::Admin(p) => wf.resolve_task_as_admin(task_id, p, decision, dir, now),
        },
    )
    .await
}

/// Task `task_id` as user `me` sees it: one they are an assignee of or completed (another: 404,
/// as `GET /v2/my/tasks/{id}` answers).
pub async fn my_task(store: &steward_store::Store, me: &str, task_id: &str) -> AppResult<Task> {
    let not_found = || AppError::NotFound(format!("{task_id} (Task)"));
    let task = store
        .access_requests()
        .task(task_id)
        .await
        .map_err(AppError::not_found_as(format!("{task_id} (Task)")))?;
    let me = Principal::user(me);
    if !task.is_assignee(&me) && task.completed_by.as_ref() != Some(&me) {
        return Err(not_found());
    }
    Ok(task)
}

/// The tasks user `me` is an assignee of, open ones first, each group newest first (at most
/// `limit` of the first [`MINE_SCANNED`] by id).
pub async fn mine(store: &steward_store::Store, me: &str, limit: usize) -> AppResult<Vec<Task>> {
    let mut tasks = store
        .access_requests()
        .tasks(&steward_store::TaskListQuery {
            assignee: Some(me.to_string()),
            filter: None,
            after: None,
            limit: MINE_SCANNED,
        })
        .await?;
    tasks.sort_by(|a, b| {
        let open = |t: &Task| t.status != steward_core::access_requests::workflow::TaskStatus::Open;
        open(a).cmp(&open(b)).then(b.created_at.cmp(&a.created_at))
    });
    tasks.truncate(limit);
    Ok(tasks)
}

/// Tasks of one user [`mine`] reads at most.
pub const MINE_SCANNED: usize = 500;

/// Gives task `task_id` to the users `assignees`; answers the task as it is afterwards.
pub async fn reassign(ctx: &Ctx<'_>, task_id: &str, assignees: &[String]) -> AppResult<Task> {
    change_task(ctx, task_id, assignees, UPDATE_FAILED, |wf, dir, now| {
        wf.reassign_task(task_id, assignees, dir, now)
    })
    .await
}

/// Runs `change` on the workflow of task `task_id` inside one transaction, fulfils an approval,
/// saves, and answers the task as it is afterwards. `extra_users` are users the change names
/// (new assignees), read into the directory snapshot with the request's approvers.
///
/// Past the request's decision deadline nothing is decided or reassigned: the request expires
/// in this transaction (as the scheduler would have expired it, and in its name) and the change
/// is refused, prefixed `failed`.
async fn change_task<F>(
    ctx: &Ctx<'_>,
    task_id: &str,
    extra_users: &[String],
    failed: &str,
    change: F,
) -> AppResult<Task>
where
    F: FnOnce(&mut RequestWorkflow, &Snapshot, i64) -> Result<Vec<AccessRequestEvent>, RuleError>,
{
    let store = ctx.store;
    let task = store
        .access_requests()
        .task(task_id)
        .await
        .map_err(AppError::not_found_as(format!("{task_id} (Task)")))?;
    let request_id = &task.request_id;
    let before = store
        .access_requests()
        .request(request_id)
        .await
        .map_err(AppError::not_found_as(format!("{request_id} (Request)")))?;
    let dir = engine::snapshot_for(store, &before.workflow, extra_users).await?;
    let now = ctx.now;
    let mut tx = store.begin().await?;
    let mut stored = tx.access_requests().request(request_id).await?;
    let mut refusal = None;
    let mut fx = Effects::default();
    match stored
        .workflow
        .expire_past_deadline(now, engine::DECISION_DEADLINE_MS, failed)
    {
        Some((events, err)) => {
            fx.events = events;
            refusal = Some(err);
        }
        None => {
            fx.events = change(&mut stored.workflow, &dir, now)?;
            engine::fulfil(ctx, &mut tx, &mut stored.workflow, &mut fx).await?;
        }
    }
    // The expiry is the scheduler's doing, not the caller's.
    let ctx = if refusal.is_some() {
        ctx.clone().acting_as(Actor::system())
    } else {
        ctx.clone()
    };
    if let Some(v1) = stored.v1.as_mut() {
        if let Ok(t) = store
            .access_requests()
            .request_type(&v1.request_type_id)
            .await
        {
            v1.refresh(&stored.workflow, &t, &|_| None);
        }
    }
    let after = stored
        .workflow
        .task(task_id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("{task_id} (Task)")))?;
    engine::save_and_commit(&ctx, tx, &mut stored, fx).await?;
    match refusal {
        Some(err) => Err(err.into()),
        None => Ok(after),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use steward_core::access_requests::conditions::{ApprovalStep, Approver};
    use steward_core::access_requests::new_request_id;
    use steward_core::access_requests::workflow::{
        AccessScopeType, GrantStatus, NewRequest, RequestStatus, Requested, ResourceType,
        TaskStatus,
    };
    use steward_core::directory::{Group, User, UserStatus, GROUP_TYPE_OKTA};
    use steward_core::ids::{new_id, IdKind};
    use steward_store::{Store, StoredRequest};

    use super::*;
    use crate::testing::{self, log_types, outbox_types};

    const NOW: i64 = 1_700_000_000_000;

    fn as_user<'a>(store: &'a Store, user: &User, now: i64) -> Ctx<'a> {
        Ctx::system(store).at(now).acting_as(Actor::user(
            &user.id,
            user.login(),
            &user.display_name(),
        ))
    }

    /// An org with a requester, an approver and a group; a request by the requester for the
    /// group, PENDING at the approver's task. Returns the store, requester, approver, group id,
    /// request id and task id.
    async fn pending() -> (Store, User, User, String, String, String) {
        let store = testing::org().await;
        let requester = testing::user(&store, "rae@example.com", UserStatus::Active, true).await;
        let approver = testing::user(&store, "apo@example.com", UserStatus::Active, true).await;
        let group = Group {
            id: new_id(IdKind::Group),
            group_type: GROUP_TYPE_OKTA.into(),
            created: NOW,
            last_updated: NOW,
            last_membership_updated: NOW,
            profile: serde_json::from_value(serde_json::json!({"name": "Ops"})).unwrap(),
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_group(&group).await.unwrap();
        tx.commit().await.unwrap();
        let requested = Requested {
            entry_id: None,
            resource_id: "0oaNone".into(),
            resource_type: ResourceType::Application,
            access_scope_id: group.id.clone(),
            access_scope_type: AccessScopeType::Group,
        };
        let steps = vec![ApprovalStep {
            approver: Approver::User {
                id: approver.id.clone(),
            },
            fallback: None,
            label: None,
        }];
        let (mut wf, mut events) = RequestWorkflow::create(
            NewRequest {
                id: new_request_id(),
                requested: requested.clone(),
                requested_by: Principal::user(&requester.id),
                requested_for: requester.id.clone(),
                requester_field_values: None,
            },
            NOW,
        );
        let dir = engine::snapshot(
            &store,
            &requester.id,
            &engine::owned_resources(&requested),
            &steps,
            &[],
        )
        .await
        .unwrap();
        events.extend(wf.start(steps, None, &dir, NOW).unwrap());
        assert_eq!(wf.request.status, RequestStatus::Pending);
        let task_id = wf.current_task().unwrap().id.clone();
        let request_id = wf.request.id.clone();
        let ctx = as_user(&store, &requester, NOW);
        let tx = store.begin().await.unwrap();
        let mut stored = StoredRequest {
            workflow: wf,
            v1: None,
            due_at: None,
        };
        let fx = Effects { events };
        engine::save_and_commit(&ctx, tx, &mut stored, fx)
            .await
            .unwrap();
        (store, requester, approver, group.id, request_id, task_id)
    }

    fn is_member(groups: &[Group], group_id: &str) -> bool {
        groups.iter().any(|g| g.id == group_id)
    }

    #[tokio::test]
    async fn the_approver_approves_and_the_access_is_granted_in_the_same_transaction() {
        let (store, requester, approver, group_id, request_id, task_id) = pending().await;
        let head = store.outbox_head().await.unwrap();
        let ctx = as_user(&store, &approver, NOW + 60_000);
        let decider = Decider::Assignee(Principal::user(&approver.id));

        let task = resolve(&ctx, &task_id, &decider, Decision::Approved)
            .await
            .unwrap();

        assert_eq!(task.status, TaskStatus::Completed);
        let saved = store
            .access_requests()
            .request(&request_id)
            .await
            .unwrap()
            .workflow
            .request;
        assert_eq!(saved.status, RequestStatus::Approved);
        assert_eq!(saved.grant_status, Some(GrantStatus::Granted));
        let groups = store.user_groups(&requester.id).await.unwrap();
        assert!(is_member(&groups, &group_id));
        let rows = store.outbox_after(head, 100).await.unwrap();
        let decided: Vec<_> = rows
            .iter()
            .filter(|r| r.event_type == "access_request.decided")
            .collect();
        assert_eq!(decided.len(), 1);
        assert_eq!(decided[0].payload["decision"], "APPROVED");
        assert_eq!(decided[0].payload["actor"]["id"], approver.id.as_str());
        assert!(rows
            .iter()
            .any(|r| r.event_type == "access_request.fulfilled"));
        assert!(log_types(&store)
            .await
            .contains(&"access.request.task.resolve".to_string()));
    }

    #[tokio::test]
    async fn the_requester_cannot_decide_and_a_refused_decision_writes_nothing() {
        let (store, requester, _, group_id, request_id, task_id) = pending().await;
        let head = store.outbox_head().await.unwrap();
        let ctx = as_user(&store, &requester, NOW + 60_000);
        let admin = Decider::Admin(Principal::user(&requester.id));

        let refused = resolve(&ctx, &task_id, &admin, Decision::Approved).await;

        assert!(
            matches!(refused, Err(AppError::Rule(RuleError::Forbidden(_)))),
            "{refused:?}"
        );
        let saved = store
            .access_requests()
            .request(&request_id)
            .await
            .unwrap()
            .workflow
            .request;
        assert_eq!(saved.status, RequestStatus::Pending);
        assert!(!is_member(
            &store.user_groups(&requester.id).await.unwrap(),
            &group_id
        ));
        assert!(outbox_types(&store, head).await.is_empty());
    }

    #[tokio::test]
    async fn past_the_deadline_the_request_expires_as_steward_and_the_decision_is_refused() {
        let (store, requester, approver, group_id, request_id, task_id) = pending().await;
        let head = store.outbox_head().await.unwrap();
        let late = NOW + engine::DECISION_DEADLINE_MS + 1;
        let ctx = as_user(&store, &approver, late);
        let decider = Decider::Assignee(Principal::user(&approver.id));

        let refused = resolve(&ctx, &task_id, &decider, Decision::Approved).await;

        assert!(
            matches!(refused, Err(AppError::Rule(RuleError::Refused(ref v))) if v.summary.starts_with(RESOLVE_FAILED)),
            "{refused:?}"
        );
        let saved = store
            .access_requests()
            .request(&request_id)
            .await
            .unwrap()
            .workflow
            .request;
        assert_eq!(saved.status, RequestStatus::Expired);
        assert!(!is_member(
            &store.user_groups(&requester.id).await.unwrap(),
            &group_id
        ));
        let rows = store.outbox_after(head, 100).await.unwrap();
        let expired: Vec<_> = rows
            .iter()
            .filter(|r| r.event_type == "access_request.expired")
            .collect();
        assert_eq!(expired.len(), 1);
        assert_eq!(
            expired[0].payload["actor"]["id"],
            Actor::system().id.as_str()
        );
    }

    #[tokio::test]
    async fn an_unknown_task_is_not_found() {
        let store = testing::org().await;
        let decider = Decider::Admin(Principal::user("00uSomeone"));
        let missing = resolve(&Ctx::system(&store), "nope", &decider, Decision::Denied).await;
        assert!(matches!(missing, Err(AppError::NotFound(ref w)) if w == "nope (Task)"));
    }
}
