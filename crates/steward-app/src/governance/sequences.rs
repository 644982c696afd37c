//! Request sequences: the approval steps a condition runs (Okta: list, get, delete; Steward adds
//! create and replace).

use steward_core::access_requests::conditions::RequestSequenceWrite;
use steward_core::access_requests::RequestSequence;
use steward_core::events::DomainEvent;
use steward_core::syslog::Target;
use steward_store::Store;

use super::{resource, Body};
use crate::{AppError, AppResult, Ctx};

/// Every sequence, oldest first.
pub async fn list(store: &Store) -> AppResult<Vec<RequestSequence>> {
    Ok(store.access_requests().sequences().await?)
}

/// Every sequence, as listed under app `resource_id` (no app: 404).
pub async fn list_for_resource(
    store: &Store,
    resource_id: &str,
) -> AppResult<Vec<RequestSequence>> {
    resource(store, resource_id).await?;
    list(store).await
}

/// Sequence `id`.
pub async fn get(store: &Store, id: &str) -> AppResult<RequestSequence> {
    store
        .access_requests()
        .sequence(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (RequestSequence)")))
}

/// Sequence `id`, as read under app `resource_id` (no app: 404).
pub async fn get_for_resource(
    store: &Store,
    resource_id: &str,
    id: &str,
) -> AppResult<RequestSequence> {
    resource(store, resource_id).await?;
    get(store, id).await
}

/// Creates a sequence (its `link` under `org_url`), logged `access.request.sequence.create`.
pub async fn create(
    ctx: &Ctx<'_>,
    write: RequestSequenceWrite,
    org_url: &str,
) -> AppResult<RequestSequence> {
    let s = RequestSequence::create(write, org_url)?;
    let mut tx = ctx.begin().await?;
    tx.access_requests().put_sequence(&s, ctx.now).await?;
    tx.record(changed(ctx, &s.id, "created"), &[target(&s)])
        .await?;
    tx.commit().await?;
    Ok(s)
}

/// Replaces sequence `id`'s definition (requests in flight keep their steps), logged
/// `access.request.sequence.update`.
pub async fn replace(
    ctx: &Ctx<'_>,
    id: &str,
    write: Body<RequestSequenceWrite>,
) -> AppResult<RequestSequence> {
    let mut s = get(ctx.store, id).await?;
    s.update(write?)?;
    let mut tx = ctx.begin().await?;
    tx.access_requests().put_sequence(&s, ctx.now).await?;
    tx.record(changed(ctx, &s.id, "updated"), &[target(&s)])
        .await?;
    tx.commit().await?;
    Ok(s)
}

/// Deletes sequence `id`; the conditions that used it become INVALID in the same transaction.
pub async fn delete(ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
    let s = get(ctx.store, id).await?;
    let actor = &ctx.actor.id;
    let mut tx = ctx.begin().await?;
    for (resource_id, mut c) in tx.access_requests().conditions_using(id).await? {
        if c.forget(id, actor, ctx.now) {
            tx.access_requests().put_condition(&resource_id, &c).await?;
        }
    }
    tx.access_requests().delete_sequence(id).await?;
    tx.record(changed(ctx, id, "deleted"), &[target(&s)])
        .await?;
    tx.commit().await?;
    Ok(())
}

fn target(s: &RequestSequence) -> Target {
    Target::new(&s.id, "RequestSequence", &s.id, &s.name)
}

/// The domain event of a sequence's `change` (its System Log entry is derived from it).
fn changed(ctx: &Ctx<'_>, id: &str, change: &str) -> DomainEvent {
    DomainEvent::RequestSequenceChanged {
        sequence_id: id.to_string(),
        change: change.to_string(),
        actor: ctx.actor.clone(),
    }
}
