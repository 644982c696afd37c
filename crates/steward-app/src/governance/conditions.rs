//! Request conditions of a resource (an app): who may request what, approved by which sequence.
//! Create, read, update, delete, activate, deactivate; each change logged in its transaction.

use steward_core::access_requests::conditions::{
    self, RequestConditionCreate, RequestConditionPatch,
};
use steward_core::access_requests::RequestCondition;
use steward_core::apps::App;
use steward_core::events::DomainEvent;
use steward_core::syslog::Target;
use steward_core::validation::ValidationError;
use steward_store::{Store, StoreError};

use super::{resource, settings, Body};
use crate::{AppError, AppResult, Ctx};

/// The conditions of app `resource_id` (no app: 404), by priority, with the app.
pub async fn list(store: &Store, resource_id: &str) -> AppResult<(App, Vec<RequestCondition>)> {
    let app = resource(store, resource_id).await?;
    let all = store.access_requests().conditions(&app.id).await?;
    Ok((app, all))
}

/// One page of the resources conditions apply to (apps, by id, whose label or name starts with
/// `q` when given), each with its conditions by priority (the Admin Console's Resources list).
pub async fn resources(
    store: &Store,
    q: Option<&str>,
    after: Option<String>,
    limit: usize,
) -> AppResult<super::Page<(App, Vec<RequestCondition>)>> {
    let apps = store
        .apps(&steward_store::AppQuery {
            q: q.map(str::to_lowercase),
            after,
            limit: limit + 1,
            ..Default::default()
        })
        .await?;
    let page = super::Page::of(apps, limit, |a| a.id.clone());
    let mut items = Vec::with_capacity(page.items.len());
    for app in page.items {
        let mut conds = store.access_requests().conditions(&app.id).await?;
        conds.sort_by_key(|c| c.priority);
        items.push((app, conds));
    }
    Ok(super::Page {
        items,
        next: page.next,
    })
}

/// Condition `id` of app `resource_id`, with the app.
pub async fn get(store: &Store, resource_id: &str, id: &str) -> AppResult<(App, RequestCondition)> {
    let app = resource(store, resource_id).await?;
    let c = find(store, &app.id, id).await?;
    Ok((app, c))
}

async fn find(store: &Store, resource_id: &str, id: &str) -> AppResult<RequestCondition> {
    store
        .access_requests()
        .conditions(resource_id)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AppError::NotFound(format!("{id} (RequestCondition)")))
}

/// A condition names an existing sequence (the rule `conditions::add_condition` leaves to us).
async fn check_sequence(store: &Store, id: Option<&str>) -> AppResult<()> {
    let Some(id) = id else { return Ok(()) };
    match store.access_requests().sequence(id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(ValidationError::new(
            "AccessRequestCondition",
            format!("/approvalSequenceId {id} is not an approval sequence"),
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// Creates a condition of app `resource_id` (INACTIVE, at its priority, the others moved down),
/// logged `access.request.condition.create`.
pub async fn create(
    ctx: &Ctx<'_>,
    resource_id: &str,
    body: Body<RequestConditionCreate>,
) -> AppResult<(App, RequestCondition)> {
    let app = resource(ctx.store, resource_id).await?;
    let create = body?;
    check_sequence(ctx.store, create.approval_sequence_id.as_deref()).await?;
    let settings = settings::stored_or_default(ctx.store, &app.id).await?;
    let mut tx = ctx.begin().await?;
    let mut all = tx.access_requests().conditions(&app.id).await?;
    let created = conditions::add_condition(&mut all, create, &settings, &ctx.actor.id, ctx.now)?;
    for c in &all {
        tx.access_requests().put_condition(&app.id, c).await?;
    }
    let subject = target(&created.id, &created.name);
    tx.record(changed(ctx, &app.id, &created.id, "created"), &[subject])
        .await?;
    tx.commit().await?;
    Ok((app, created))
}

/// Updates condition `id` of app `resource_id` (never INVALID afterwards), logged
/// `access.request.condition.update`.
pub async fn update(
    ctx: &Ctx<'_>,
    resource_id: &str,
    id: &str,
    body: Body<RequestConditionPatch>,
) -> AppResult<(App, RequestCondition)> {
    let app = resource(ctx.store, resource_id).await?;
    find(ctx.store, &app.id, id).await?;
    let patch = body?;
    check_sequence(ctx.store, patch.approval_sequence_id.as_deref()).await?;
    let settings = settings::stored_or_default(ctx.store, &app.id).await?;
    let mut tx = ctx.begin().await?;
    let mut all = tx.access_requests().conditions(&app.id).await?;
    let updated =
        conditions::update_condition(&mut all, id, patch, &settings, &ctx.actor.id, ctx.now)?;
    for c in &all {
        tx.access_requests().put_condition(&app.id, c).await?;
    }
    let subject = target(id, &updated.name);
    tx.record(changed(ctx, &app.id, id, "updated"), &[subject])
        .await?;
    tx.commit().await?;
    Ok((app, updated))
}

/// Deletes condition `id` of app `resource_id`; the others are renumbered `0..n`. Logged
/// `access.request.condition.delete`.
pub async fn delete(ctx: &Ctx<'_>, resource_id: &str, id: &str) -> AppResult<()> {
    let app = resource(ctx.store, resource_id).await?;
    find(ctx.store, &app.id, id).await?;
    let mut tx = ctx.begin().await?;
    let mut all = tx.access_requests().conditions(&app.id).await?;
    all.retain(|c| c.id != id);
    all.sort_by_key(|c| c.priority);
    tx.access_requests().delete_condition(id).await?;
    for (i, c) in all.iter_mut().enumerate() {
        c.priority = u32::try_from(i).unwrap_or(u32::MAX);
        tx.access_requests().put_condition(&app.id, c).await?;
    }
    // Logged by its id, as Okta names a deleted condition.
    tx.record(changed(ctx, &app.id, id, "deleted"), &[]).await?;
    tx.commit().await?;
    Ok(())
}

/// Activates (`activate`) or deactivates condition `id` of app `resource_id`, logged
/// `access.request.condition.activate` or `.deactivate`.
pub async fn set_status(
    ctx: &Ctx<'_>,
    resource_id: &str,
    id: &str,
    activate: bool,
) -> AppResult<(App, RequestCondition)> {
    let app = resource(ctx.store, resource_id).await?;
    let mut c = find(ctx.store, &app.id, id).await?;
    let actor = &ctx.actor.id;
    let change = if activate {
        c.activate(actor, ctx.now)?;
        "activated"
    } else {
        c.deactivate(actor, ctx.now)?;
        "deactivated"
    };
    let mut tx = ctx.begin().await?;
    tx.access_requests().put_condition(&app.id, &c).await?;
    tx.record(changed(ctx, &app.id, id, change), &[target(id, &c.name)])
        .await?;
    tx.commit().await?;
    Ok((app, c))
}

fn target(id: &str, name: &str) -> Target {
    Target::new(id, "RequestCondition", id, name)
}

/// The domain event of a condition's `change` (its System Log entry is derived from it).
fn changed(ctx: &Ctx<'_>, resource_id: &str, id: &str, change: &str) -> DomainEvent {
    DomainEvent::RequestConditionChanged {
        resource_id: resource_id.to_string(),
        condition_id: id.to_string(),
        change: change.to_string(),
        actor: ctx.actor.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use steward_core::access_requests::conditions::{
        AccessScopeSettings, ApprovalStep, Approver, ConditionStatus, IdRef, RequestSequenceWrite,
        RequesterSettings,
    };
    use steward_core::access_requests::RuleError;

    use super::*;
    use crate::governance::sequences;
    use crate::testing::{self, log_types};

    /// An org with an app, a group to request and a one-step sequence approved by the admin.
    /// Returns the store, the app id, the group id and the sequence id.
    pub(crate) async fn resource_with_sequence() -> (Store, String, String, String) {
        let store = testing::org().await;
        let admin = testing::admin(&store).await;
        let app = testing::app(&store, "Payroll").await;
        let group = testing::group(&store, "Payroll users").await;
        let write = RequestSequenceWrite {
            name: Some("Admin approves".into()),
            steps: vec![ApprovalStep {
                approver: Approver::User { id: admin.id },
                fallback: None,
                label: None,
            }],
            ..Default::default()
        };
        let seq = sequences::create(&Ctx::system(&store), write, "https://steward.test")
            .await
            .unwrap();
        (store, app.id, group.id, seq.id)
    }

    pub(crate) fn for_group(
        name: &str,
        group_id: &str,
        sequence_id: &str,
    ) -> RequestConditionCreate {
        RequestConditionCreate {
            name: Some(name.into()),
            requester_settings: Some(RequesterSettings::Everyone),
            access_scope_settings: Some(AccessScopeSettings::Groups {
                groups: vec![IdRef {
                    id: group_id.into(),
                }],
            }),
            approval_sequence_id: Some(sequence_id.into()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn resources_are_listed_with_their_conditions_and_paged() {
        let (store, app_id, group_id, seq_id) = resource_with_sequence().await;
        testing::app(&store, "Zebra").await;
        let ctx = Ctx::system(&store);
        create(&ctx, &app_id, Ok(for_group("Payroll", &group_id, &seq_id)))
            .await
            .unwrap();

        let payroll = resources(&store, Some("Pay"), None, 10).await.unwrap();
        assert_eq!(payroll.items.len(), 1);
        assert_eq!(payroll.items[0].0.id, app_id);
        assert_eq!(payroll.items[0].1.len(), 1);
        let first = resources(&store, None, None, 1).await.unwrap();
        assert_eq!(first.items.len(), 1);
        let rest = resources(&store, None, first.next, 10).await.unwrap();
        assert!(!rest.items.is_empty());
        assert_ne!(rest.items[0].0.id, first.items[0].0.id);
    }

    #[tokio::test]
    async fn a_condition_is_created_inactive_and_logged() {
        let (store, app_id, group_id, seq_id) = resource_with_sequence().await;
        let ctx = Ctx::system(&store);
        let head = store.outbox_head().await.unwrap();

        let (app, c) = create(&ctx, &app_id, Ok(for_group("Payroll", &group_id, &seq_id)))
            .await
            .unwrap();

        assert_eq!(app.id, app_id);
        assert_eq!(c.status, ConditionStatus::Inactive);
        assert_eq!(c.priority, 0);
        assert_eq!(c.created_by, ctx.actor.id);
        let (_, all) = list(&store, &app_id).await.unwrap();
        assert_eq!(all, vec![c.clone()]);
        assert!(log_types(&store)
            .await
            .contains(&"access.request.condition.create".to_string()));
        let rows = store.outbox_after(head, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].event_type, "request_condition.changed");
        assert_eq!(rows[0].payload["change"], "created");
        assert_eq!(rows[0].payload["condition_id"], c.id.as_str());
    }

    #[tokio::test]
    async fn a_condition_naming_no_sequence_is_refused_and_writes_nothing() {
        let (store, app_id, group_id, _) = resource_with_sequence().await;
        let logs_before = log_types(&store).await.len();
        let head = store.outbox_head().await.unwrap();

        let refused = create(
            &Ctx::system(&store),
            &app_id,
            Ok(for_group("Payroll", &group_id, "0123456789abcdef")),
        )
        .await;

        assert!(
            matches!(refused, Err(AppError::Validation(ref v)) if v.causes[0].contains("is not an approval sequence")),
            "{refused:?}"
        );
        assert!(list(&store, &app_id).await.unwrap().1.is_empty());
        assert_eq!(log_types(&store).await.len(), logs_before);
        assert!(crate::testing::outbox_types(&store, head).await.is_empty());
    }

    #[tokio::test]
    async fn an_unknown_resource_is_not_found_before_the_body_is_read() {
        let store = testing::org().await;
        let bad_body = Err(ValidationError::new("name", "bad"));

        let missing = create(&Ctx::system(&store), "0oaNope", bad_body).await;

        assert!(
            matches!(missing, Err(AppError::NotFound(ref w)) if w == "0oaNope (Resource)"),
            "{missing:?}"
        );
    }

    #[tokio::test]
    async fn priorities_stay_dense_through_create_update_and_delete() {
        let (store, app_id, group_id, seq_id) = resource_with_sequence().await;
        let ctx = Ctx::system(&store);
        let (_, first) = create(&ctx, &app_id, Ok(for_group("First", &group_id, &seq_id)))
            .await
            .unwrap();
        let mut second = for_group("Second", &group_id, &seq_id);
        second.priority = Some(0);
        let (_, second) = create(&ctx, &app_id, Ok(second)).await.unwrap();
        let priorities = |all: Vec<RequestCondition>| -> Vec<(String, u32)> {
            all.into_iter().map(|c| (c.name, c.priority)).collect()
        };
        assert_eq!(
            priorities(list(&store, &app_id).await.unwrap().1),
            [("Second".to_string(), 0), ("First".to_string(), 1)]
        );

        let patch = RequestConditionPatch {
            name: Some("First, renamed".into()),
            priority: Some(0),
            ..Default::default()
        };
        let (_, renamed) = update(&ctx, &app_id, &first.id, Ok(patch)).await.unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.priority),
            ("First, renamed", 0)
        );

        delete(&ctx, &app_id, &renamed.id).await.unwrap();
        let (_, left) = list(&store, &app_id).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(
            (left[0].id.as_str(), left[0].priority),
            (second.id.as_str(), 0)
        );
        let logs = log_types(&store).await;
        for t in [
            "access.request.condition.update",
            "access.request.condition.delete",
        ] {
            assert!(logs.contains(&t.to_string()), "{t} missing from {logs:?}");
        }
        let gone = get(&store, &app_id, &renamed.id).await;
        assert!(matches!(gone, Err(AppError::NotFound(_))), "{gone:?}");
    }

    #[tokio::test]
    async fn only_an_inactive_condition_activates_and_only_an_active_one_deactivates() {
        let (store, app_id, group_id, seq_id) = resource_with_sequence().await;
        let ctx = Ctx::system(&store);
        let (_, c) = create(&ctx, &app_id, Ok(for_group("Payroll", &group_id, &seq_id)))
            .await
            .unwrap();

        let refused = set_status(&ctx, &app_id, &c.id, false).await;
        assert!(
            matches!(refused, Err(AppError::Rule(RuleError::Conflict(_)))),
            "{refused:?}"
        );
        let (_, active) = set_status(&ctx, &app_id, &c.id, true).await.unwrap();
        assert_eq!(active.status, ConditionStatus::Active);
        let again = set_status(&ctx, &app_id, &c.id, true).await;
        assert!(
            matches!(again, Err(AppError::Rule(RuleError::Conflict(_)))),
            "{again:?}"
        );
        let (_, inactive) = set_status(&ctx, &app_id, &c.id, false).await.unwrap();
        assert_eq!(inactive.status, ConditionStatus::Inactive);
        let logs = log_types(&store).await;
        let count = |t: &str| logs.iter().filter(|l| *l == t).count();
        assert_eq!(count("access.request.condition.activate"), 1);
        assert_eq!(count("access.request.condition.deactivate"), 1);
    }

    #[tokio::test]
    async fn deleting_its_sequence_leaves_a_condition_invalid() {
        let (store, app_id, group_id, seq_id) = resource_with_sequence().await;
        let ctx = Ctx::system(&store);
        let (_, c) = create(&ctx, &app_id, Ok(for_group("Payroll", &group_id, &seq_id)))
            .await
            .unwrap();

        sequences::delete(&ctx, &seq_id).await.unwrap();

        let (_, after) = get(&store, &app_id, &c.id).await.unwrap();
        assert_eq!(after.status, ConditionStatus::Invalid);
        assert_eq!(after.approval_sequence_id, None);
        let missing = sequences::get(&store, &seq_id).await;
        assert!(matches!(missing, Err(AppError::NotFound(_))), "{missing:?}");
    }
}
