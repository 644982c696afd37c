//! Access Requests v1: request types (create, publish, unpublish, delete), teams, and v1
//! requests. A v1 request runs on the same workflow as a v2 one (its approvals are decided
//! through the v2 tasks) and keeps its v1 view beside it.

use serde_json::Value;
use steward_core::access_requests::v1::{
    open_request, RequestSettings, RequestTypeCreate, RequestTypeStatus, RequestV1Create,
    MAX_ACTIVE_REQUEST_TYPES,
};
use steward_core::access_requests::{Principal, RequestType, RequestV1};
use steward_core::events::DomainEvent;
use steward_core::filter::Filter;
use steward_core::syslog::Target;
use steward_core::validation::ValidationError;
use steward_store::{RequestListQuery, Store, StoreError, StoredRequest};

use super::engine::{self, Effects};
use super::{ensure_default_team, requests, Page};
use crate::{AppError, AppResult, Ctx};

/// Okta's words when a type would pass the cap on ACTIVE types.
const TOO_MANY_ACTIVE: &str = "At most 500 request types may be ACTIVE";

/// One page of the org's teams (the default team is created on first use).
pub async fn teams(ctx: &Ctx<'_>, after: Option<&str>, limit: usize) -> AppResult<Page<Value>> {
    ensure_default_team(ctx.store, ctx.now).await?;
    let rows = ctx.store.access_requests().teams(after, limit + 1).await?;
    Ok(Page::of(rows, limit, |t| {
        t["id"].as_str().unwrap_or_default().to_string()
    }))
}

/// One page of request types by id.
pub async fn request_types(
    store: &Store,
    filter: Option<&Filter>,
    after: Option<&str>,
    limit: usize,
) -> AppResult<Page<RequestType>> {
    let rows = store
        .access_requests()
        .request_types(filter, after, limit + 1)
        .await?;
    Ok(Page::of(rows, limit, |t| t.id.clone()))
}

/// Request type `id`.
pub async fn request_type(store: &Store, id: &str) -> AppResult<RequestType> {
    store
        .access_requests()
        .request_type(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (RequestType)")))
}

/// Creates a request type (DRAFT unless asked ACTIVE), logged `access.request.type.create`. Its
/// owner must be a team and its targets existing apps or groups (`E0000001`); at most
/// [`MAX_ACTIVE_REQUEST_TYPES`] are ACTIVE, counted in the transaction that stores it.
pub async fn create_request_type(
    ctx: &Ctx<'_>,
    create: RequestTypeCreate,
) -> AppResult<RequestType> {
    let store = ctx.store;
    let t = RequestType::create(create, &ctx.actor.id, ctx.now)?;
    if !store.access_requests().team_exists(&t.owner_id).await? {
        return Err(ValidationError::new(
            "ownerId",
            format!("/ownerId {} is not a team", t.owner_id),
        )
        .into());
    }
    if let Some((_, targets)) = t.resource_settings.targets() {
        for target in targets {
            let exists = if target.resource_id.starts_with("00g") {
                store.group(&target.resource_id).await.is_ok()
            } else {
                store.app(&target.resource_id).await.is_ok()
            };
            if !exists {
                return Err(ValidationError::new(
                    "resourceSettings",
                    format!(
                        "/resourceSettings/targetResources {} not found",
                        target.resource_id
                    ),
                )
                .into());
            }
        }
    }
    let mut tx = ctx.begin().await?;
    // Counted inside the transaction that stores the type, so concurrent creates cannot pass
    // the cap together.
    if t.status == RequestTypeStatus::Active && at_cap(&mut tx).await? {
        return Err(ValidationError::new("status", TOO_MANY_ACTIVE).into());
    }
    tx.access_requests().put_request_type(&t).await?;
    tx.record(type_changed(ctx, &t.id, "created"), &[type_target(&t)])
        .await?;
    tx.commit().await?;
    Ok(t)
}

async fn at_cap(tx: &mut steward_store::WriteTx) -> AppResult<bool> {
    Ok(tx.access_requests().count_active_request_types().await? >= MAX_ACTIVE_REQUEST_TYPES as i64)
}

/// Deletes request type `id`, logged `access.request.type.delete`.
pub async fn delete_request_type(ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
    let t = request_type(ctx.store, id).await?;
    let mut tx = ctx.begin().await?;
    tx.access_requests().delete_request_type(id).await?;
    tx.record(type_changed(ctx, id, "deleted"), &[type_target(&t)])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes (`publish`: ACTIVE, within the cap, else a conflict) or unpublishes request type
/// `id`, logged `access.request.type.publish` or `.unpublish`.
pub async fn set_published(ctx: &Ctx<'_>, id: &str, publish: bool) -> AppResult<RequestType> {
    let mut t = request_type(ctx.store, id).await?;
    let actor = &ctx.actor.id;
    // The cap is counted inside the transaction that stores the type.
    let mut tx = ctx.begin().await?;
    let change = if publish {
        if t.status != RequestTypeStatus::Active && at_cap(&mut tx).await? {
            return Err(AppError::Conflict(TOO_MANY_ACTIVE.into()));
        }
        t.publish(actor, ctx.now)?;
        "published"
    } else {
        t.unpublish(actor, ctx.now)?;
        "unpublished"
    };
    tx.access_requests().put_request_type(&t).await?;
    tx.record(type_changed(ctx, &t.id, change), &[type_target(&t)])
        .await?;
    tx.commit().await?;
    Ok(t)
}

fn type_target(t: &RequestType) -> Target {
    Target::new(&t.id, "RequestType", &t.id, &t.name)
}

/// The domain event of a request type's `change` (its System Log entry is derived from it).
fn type_changed(ctx: &Ctx<'_>, id: &str, change: &str) -> DomainEvent {
    DomainEvent::RequestTypeChanged {
        request_type_id: id.to_string(),
        change: change.to_string(),
        actor: ctx.actor.clone(),
    }
}

/// Opens a v1 request of the type `create` names (unknown: `E0000001`) by `requested_by` (the
/// caller; `ctx.actor`), for its first `requesterUserIds` or else the caller, and runs it: an
/// approval without steps grants at once. The permalink is taken in the transaction that
/// inserts the request. Answers the v1 request as saved.
pub async fn create_request(
    ctx: &Ctx<'_>,
    create: RequestV1Create,
    requested_by: &Principal,
) -> AppResult<RequestV1> {
    let store = ctx.store;
    let type_id = create.request_type_id.clone().unwrap_or_default();
    let t = match store.access_requests().request_type(&type_id).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            return Err(ValidationError::new(
                "requestTypeId",
                format!("/requestTypeId {type_id} not found"),
            )
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    let caller_id = requested_by.external_id.clone();
    let requester = create
        .requester_user_ids
        .as_ref()
        .and_then(|ids| ids.first().cloned())
        .unwrap_or_else(|| caller_id.clone());
    // The directory must cover the approvals, and the requester groups of the type for the
    // requester and the caller (checked exactly, however large the groups).
    let steps = t.approval_steps();
    // A v1 request is for the type's first target resource: its owners are the owners asked.
    let targets: Vec<String> = t
        .resource_settings
        .targets()
        .and_then(|(_, targets)| targets.first())
        .map(|target| vec![target.resource_id.clone()])
        .unwrap_or_default();
    let mut dir = engine::snapshot(
        store,
        &requester,
        &targets,
        &steps,
        std::slice::from_ref(&caller_id),
    )
    .await?;
    if let RequestSettings::MemberOf {
        requester_member_of,
        ..
    } = &t.request_settings
    {
        let users = [requester.clone(), caller_id.clone()];
        engine::check_memberships(store, &mut dir, requester_member_of, &users).await?;
    }
    let mut tx = store.begin().await?;
    let permalink = tx.access_requests().next_permalink().await?;
    let opened = open_request(
        create,
        &t,
        requested_by,
        permalink,
        &dir,
        &|_| None,
        ctx.now,
    )?;
    let mut wf = opened.workflow;
    let mut v1 = opened.request;
    let mut fx = Effects {
        events: opened.events,
    };
    engine::fulfil(ctx, &mut tx, &mut wf, &mut fx).await?;
    v1.refresh(&wf, &t, &|_| None);
    let mut stored = StoredRequest {
        workflow: wf,
        v1: Some(v1),
        due_at: None,
    };
    engine::save_and_commit(ctx, tx, &mut stored, fx).await?;
    stored
        .v1
        .ok_or_else(|| AppError::Internal("a v1 request saved without its v1 view".into()))
}

/// v1 request `id` (a v2 request is not one: 404).
pub async fn request(store: &Store, id: &str) -> AppResult<RequestV1> {
    requests::stored(store, id)
        .await?
        .v1
        .ok_or_else(|| AppError::NotFound(format!("{id} (Request)")))
}

/// One page of v1 requests by id.
pub async fn list_requests(
    store: &Store,
    filter: Option<Filter>,
    after: Option<String>,
    limit: usize,
) -> AppResult<Page<RequestV1>> {
    let rows = store
        .access_requests()
        .requests(&RequestListQuery {
            v1: true,
            filter,
            after,
            limit: limit + 1,
        })
        .await?;
    let page = Page::of(rows, limit, |r| r.workflow.request.id.clone());
    Ok(Page {
        items: page.items.into_iter().filter_map(|r| r.v1).collect(),
        next: page.next,
    })
}
