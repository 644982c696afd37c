//! Access requests (v2): submission (the matching condition's sequence starts, or the request is
//! REJECTED; an approval without steps grants at once), reads, and messages (v1 and v2).

use serde::Serialize;
use serde_json::Value;
use steward_core::access_requests::catalog::CatalogEntry;
use steward_core::access_requests::workflow::{NewRequest, RequestFieldValue, RequestStatus};
use steward_core::access_requests::{
    match_condition, new_hex_id, new_request_id, Principal, RequestWorkflow,
};
use steward_core::directory::UserStatus;
use steward_core::events::DomainEvent;
use steward_core::filter::Filter;
use steward_core::timefmt::format_millis;
use steward_core::validation::ValidationError;
use steward_store::{RequestListQuery, Store, StoreError, StoredRequest};

use super::engine::{self, Effects};
use super::{catalog, Page};
use crate::{AppError, AppResult, Ctx};

/// A v2 request to submit: who asks, for whom, with which answers to the entry's fields.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The caller (a user, or a service app by client id).
    pub requested_by: Principal,
    /// The user the access is for.
    pub requested_for: String,
    pub requester_field_values: Option<Vec<RequestFieldValue>>,
}

/// An admin's submission of catalog entry `entry_id` (`POST /v2/requests`). The user it is for
/// must be ACTIVE and the entry must be in the admin's catalog (both `E0000001`). Answers the
/// request as submitted.
pub async fn submit_entry(
    ctx: &Ctx<'_>,
    entry_id: &str,
    submission: Submission,
) -> AppResult<RequestWorkflow> {
    let user = match ctx.store.user(&submission.requested_for).await {
        Ok(u) if u.status == UserStatus::Active => u,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(ValidationError::new(
                "requestedFor",
                "requestedFor.externalId: must be an active user",
            )
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    let entry = catalog::entries(ctx.store)
        .await?
        .into_iter()
        .find(|e| e.id == entry_id)
        .ok_or_else(|| {
            ValidationError::new(
                "requested",
                format!("requested.entryId: {entry_id} is not a catalog entry"),
            )
        })?;
    submit(
        ctx,
        &entry,
        Submission {
            requested_for: user.id,
            ..submission
        },
    )
    .await
}

/// A user's request for themselves, `me`, of entry `entry_id` of the catalog they see (another
/// entry: 404). Answers the request as submitted.
pub async fn submit_mine(
    ctx: &Ctx<'_>,
    me: &str,
    entry_id: &str,
    requester_field_values: Option<Vec<RequestFieldValue>>,
) -> AppResult<RequestWorkflow> {
    let entry = catalog::my_entry(ctx.store, me, entry_id).await?;
    let submission = Submission {
        requested_by: Principal::user(me),
        requested_for: me.to_string(),
        requester_field_values,
    };
    submit(ctx, &entry, submission).await
}

/// Creates a request for `entry` and runs it in one transaction: the highest-priority ACTIVE
/// condition that covers the entry and admits the user starts its sequence (an approval
/// without steps grants at once); without one (or when its sequence is gone) the request is
/// REJECTED, saying why. Answers the request as submitted (SUBMITTED), as Okta answers `202`.
pub async fn submit(
    ctx: &Ctx<'_>,
    entry: &CatalogEntry,
    submission: Submission,
) -> AppResult<RequestWorkflow> {
    let Some(requested) = entry.requested.clone() else {
        return Err(ValidationError::new(
            "requested",
            "requested.entryId: The catalog entry is not requestable",
        )
        .into());
    };
    let (store, now) = (ctx.store, ctx.now);
    let requested_for = submission.requested_for;
    let new = NewRequest {
        id: new_request_id(),
        requested: requested.clone(),
        requested_by: submission.requested_by,
        requested_for: requested_for.clone(),
        requester_field_values: submission.requester_field_values,
    };
    let (mut wf, mut events) = RequestWorkflow::create(new, now);
    let submitted = wf.clone();
    let groups = engine::memberships(store, &requested_for).await?;
    let conds = store
        .access_requests()
        .conditions(&requested.resource_id)
        .await?;
    let matched = match match_condition(&conds, &requested, &groups) {
        Ok(c) => match store
            .access_requests()
            .sequence(c.approval_sequence_id.as_deref().unwrap_or_default())
            .await
        {
            Ok(s) => Ok((c.clone(), s)),
            Err(StoreError::NotFound) => {
                Err("The request condition has no approval sequence".to_string())
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => Err(e.detail().summary.clone()),
    };
    let mut fx = Effects::default();
    let mut tx;
    match matched {
        Ok((condition, sequence)) => {
            let dir = engine::snapshot(
                store,
                &requested_for,
                &engine::owned_resources(&requested),
                &sequence.steps,
                &[],
            )
            .await?;
            events.extend(wf.submit(&condition, &sequence, &dir, now)?);
            tx = store.begin().await?;
            fx.events = events;
            engine::fulfil(ctx, &mut tx, &mut wf, &mut fx).await?;
        }
        Err(reason) => {
            events.extend(wf.reject(&reason, now)?);
            tx = store.begin().await?;
            fx.events = events;
        }
    }
    let mut stored = StoredRequest {
        workflow: wf,
        v1: None,
        due_at: None,
    };
    engine::save_and_commit(ctx, tx, &mut stored, fx).await?;
    Ok(submitted)
}

/// v2 request `id` (a v1 request is not one: 404).
pub async fn get(store: &Store, id: &str) -> AppResult<RequestWorkflow> {
    let r = stored(store, id).await?;
    if r.is_v1() {
        return Err(not_found(id));
    }
    Ok(r.workflow)
}

/// v2 request `id` of entry `entry_id`, as user `me` reads it: one they asked for or that is for
/// them (another: 404).
pub async fn get_mine(
    store: &Store,
    me: &str,
    entry_id: &str,
    id: &str,
) -> AppResult<RequestWorkflow> {
    let r = stored(store, id).await?;
    let req = &r.workflow.request;
    let mine = req.requested_for.external_id == me || req.requested_by.external_id == me;
    if r.is_v1() || !mine || req.requested.entry_id.as_deref() != Some(entry_id) {
        return Err(not_found(id));
    }
    Ok(r.workflow)
}

/// The v2 requests for user `me` (theirs, or asked for them by an admin), newest first: at most
/// `limit` of the most recent [`MINE_SCANNED`] (the end-user dashboard's "My requests").
pub async fn mine(store: &Store, me: &str, limit: usize) -> AppResult<Vec<RequestWorkflow>> {
    let filter = Filter::Compare {
        attr: "requestedFor".into(),
        op: steward_core::filter::CompareOp::Eq,
        value: steward_core::filter::Value::String(me.to_string()),
    };
    let rows = store
        .access_requests()
        .requests(&RequestListQuery {
            v1: false,
            filter: Some(filter),
            after: None,
            limit: MINE_SCANNED,
        })
        .await?;
    let mut mine: Vec<RequestWorkflow> = rows.into_iter().map(|r| r.workflow).collect();
    mine.sort_by_key(|wf| std::cmp::Reverse(wf.request.created));
    mine.truncate(limit);
    Ok(mine)
}

/// Requests of one user [`mine`] reads at most.
pub const MINE_SCANNED: usize = 500;

/// v2 request `id` as user `me` reads it, whatever its entry: one they asked for or that is for
/// them (another, or a v1 request: 404).
pub async fn get_own(store: &Store, me: &str, id: &str) -> AppResult<RequestWorkflow> {
    let r = stored(store, id).await?;
    let req = &r.workflow.request;
    let mine = req.requested_for.external_id == me || req.requested_by.external_id == me;
    if r.is_v1() || !mine {
        return Err(not_found(id));
    }
    Ok(r.workflow)
}

/// One page of v2 requests by id, after the cursor, with the next page's cursor.
pub async fn list(
    store: &Store,
    filter: Option<Filter>,
    after: Option<String>,
    limit: usize,
) -> AppResult<Page<RequestWorkflow>> {
    let rows = store
        .access_requests()
        .requests(&RequestListQuery {
            v1: false,
            filter,
            after,
            limit: limit + 1,
        })
        .await?;
    let page = Page::of(rows, limit, |r| r.workflow.request.id.clone());
    Ok(page.map(|r| r.workflow))
}

/// What the Admin Console's requests inbox asks for: a status, words naming the requester, the
/// app or the group requested (a prefix of a name, login or label), and the page after a
/// cursor of [`inbox`]'s.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    pub status: Option<RequestStatus>,
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: usize,
}

/// Users, apps and groups a search of the inbox names at most, each.
pub const INBOX_MATCHES: usize = 50;

/// One page of v2 requests, newest first (the admin's view): of `query.status`, and when
/// `query.q` is given, for a user, of an app or for a group whose name starts with it. The
/// page's `next` is the cursor of the page after it; a cursor that is not one is a 400.
pub async fn inbox(store: &Store, query: &InboxQuery) -> AppResult<Page<RequestWorkflow>> {
    use steward_core::filter::{CompareOp, Value as FilterValue};
    let eq = |attr: &str, value: &str| Filter::Compare {
        attr: attr.into(),
        op: CompareOp::Eq,
        value: FilterValue::String(value.to_string()),
    };
    let any = |filters: Vec<Filter>| {
        filters
            .into_iter()
            .reduce(|a, b| Filter::Or(Box::new(a), Box::new(b)))
    };
    let mut filter = query.status.map(|s| eq("status", s.as_str()));
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let q = q.to_lowercase();
        let users = store
            .users(&steward_store::UserQuery {
                q: Some(q.clone()),
                include_deprovisioned: true,
                limit: INBOX_MATCHES,
                ..Default::default()
            })
            .await?;
        let apps = store
            .apps(&steward_store::AppQuery {
                q: Some(q.clone()),
                limit: INBOX_MATCHES,
                ..Default::default()
            })
            .await?;
        let groups = store
            .groups(&steward_store::GroupQuery {
                q: Some(q),
                limit: INBOX_MATCHES,
                ..Default::default()
            })
            .await?;
        let named = users
            .iter()
            .map(|u| eq("requestedFor", &u.id))
            .chain(apps.iter().map(|a| eq("resourceId", &a.id)))
            .chain(groups.iter().map(|g| eq("accessScopeId", &g.id)));
        let Some(named) = any(named.collect()) else {
            return Ok(Page {
                items: vec![],
                next: None,
            });
        };
        filter = Some(match filter {
            Some(f) => Filter::And(Box::new(f), Box::new(named)),
            None => named,
        });
    }
    let before = match query.after.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(cursor) => Some(
            cursor
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .ok_or_else(|| ValidationError::new("after", "after: not a cursor of this list"))?,
        ),
    };
    let rows = store
        .access_requests()
        .requests_newest_first(filter.as_ref(), before, query.limit + 1)
        .await?;
    let page = Page::of(rows, query.limit, |r| {
        format!("{}.{}", r.workflow.request.created, r.workflow.request.id)
    });
    Ok(page.map(|r| r.workflow))
}

pub(crate) async fn stored(store: &Store, id: &str) -> AppResult<StoredRequest> {
    store
        .access_requests()
        .request(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (Request)")))
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("{id} (Request)"))
}

/// The API a request belongs to: a v1 request's messages go through v1, a v2's through v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    V2,
}

/// A message as given: its text and audience (`ALL` when absent), read from the body as is.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub message: Option<String>,
    pub audience: Option<Value>,
}

/// A message on a request, as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestMessage {
    pub id: String,
    pub request_id: String,
    pub message: String,
    pub audience: Value,
    pub created: String,
    pub created_by: String,
}

/// The spec's `maxLength` of a request message.
pub const MESSAGE_MAX_CHARS: usize = 5000;

/// Adds a message to request `request_id` of API `version` (a request of the other version:
/// 404), by `ctx.actor`, logged `access.request.message.create`.
pub async fn add_message(
    ctx: &Ctx<'_>,
    request_id: &str,
    version: ApiVersion,
    new: NewMessage,
) -> AppResult<RequestMessage> {
    let r = stored(ctx.store, request_id).await?;
    if r.is_v1() != (version == ApiVersion::V1) {
        return Err(not_found(request_id));
    }
    let Some(text) = new.message.filter(|m| !m.is_empty()) else {
        return Err(
            ValidationError::new("message", "must have required property 'message'").into(),
        );
    };
    if text.chars().count() > MESSAGE_MAX_CHARS {
        return Err(ValidationError::new(
            "message",
            format!("/message must NOT have more than {MESSAGE_MAX_CHARS} characters"),
        )
        .into());
    }
    let now = ctx.now;
    let message = RequestMessage {
        id: new_hex_id(),
        request_id: request_id.to_string(),
        message: text,
        audience: new.audience.unwrap_or(Value::String("ALL".into())),
        created: format_millis(now),
        created_by: ctx.actor.id.clone(),
    };
    let body = serde_json::to_value(&message).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut tx = ctx.begin().await?;
    tx.access_requests()
        .insert_message(&message.id, request_id, now, &body)
        .await?;
    let event = DomainEvent::RequestMessageAdded {
        request_id: request_id.to_string(),
        message_id: message.id.clone(),
        actor: ctx.actor.clone(),
    };
    tx.record(event, &[]).await?;
    tx.commit().await?;
    Ok(message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use steward_core::access_requests::conditions::{IdRef, RequesterSettings};
    use steward_core::access_requests::workflow::RequestStatus;
    use steward_core::directory::User;

    use super::*;
    use crate::governance::conditions::{self, tests as fixture};
    use crate::testing::{self, log_types, outbox_types};

    /// An app whose ACTIVE condition lets members of "Engineers" request "Payroll users"
    /// (approved by the admin). Returns the store, the requestable entry, the group to request
    /// and a member of "Engineers".
    async fn requestable() -> (Store, CatalogEntry, String, User) {
        let (store, app_id, group_id, seq_id) = fixture::resource_with_sequence().await;
        let engineers = testing::group(&store, "Engineers").await;
        let member = testing::user(&store, "eng@example.com", UserStatus::Active, true).await;
        testing::add_member(&store, &engineers.id, &member.id).await;
        let mut create = fixture::for_group("Engineers", &group_id, &seq_id);
        create.requester_settings = Some(RequesterSettings::Groups {
            groups: vec![IdRef {
                id: engineers.id.clone(),
            }],
        });
        let ctx = Ctx::system(&store);
        let (_, c) = conditions::create(&ctx, &app_id, Ok(create)).await.unwrap();
        conditions::set_status(&ctx, &app_id, &c.id, true)
            .await
            .unwrap();
        let entry = catalog::entries(&store)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.requestable)
            .expect("a requestable entry");
        (store, entry, group_id, member)
    }

    async fn saved(store: &Store, id: &str) -> RequestWorkflow {
        store.access_requests().request(id).await.unwrap().workflow
    }

    #[tokio::test]
    async fn a_request_a_condition_admits_starts_its_sequence() {
        let (store, entry, _, member) = requestable().await;
        let head = store.outbox_head().await.unwrap();
        let ctx = testing::as_user(&store, &member);

        let submitted = submit_mine(&ctx, &member.id, &entry.id, None)
            .await
            .unwrap();

        assert_eq!(submitted.request.status, RequestStatus::Submitted);
        let wf = saved(&store, &submitted.request.id).await;
        assert_eq!(wf.request.status, RequestStatus::Pending);
        assert!(wf.request_condition_id.is_some());
        let admin = testing::admin(&store).await;
        let task = wf.current_task().expect("an approval task");
        assert!(task.is_assignee(&Principal::user(&admin.id)));
        assert_eq!(outbox_types(&store, head).await, ["access_request.created"]);
        let logs = log_types(&store).await;
        assert!(logs.contains(&"access.request.create".to_string()));
        assert!(logs.contains(&"access.request.task.create".to_string()));
    }

    #[tokio::test]
    async fn a_request_no_condition_admits_is_rejected_and_grants_nothing() {
        let (store, entry, group_id, _) = requestable().await;
        let outsider = testing::user(&store, "out@example.com", UserStatus::Active, true).await;
        let admin = testing::admin(&store).await;
        let head = store.outbox_head().await.unwrap();
        let ctx = testing::as_user(&store, &admin);
        let submission = Submission {
            requested_by: Principal::user(&admin.id),
            requested_for: outsider.id.clone(),
            requester_field_values: None,
        };

        let submitted = submit_entry(&ctx, &entry.id, submission).await.unwrap();

        let wf = saved(&store, &submitted.request.id).await;
        assert_eq!(wf.request.status, RequestStatus::Rejected);
        assert!(wf.current_task().is_none());
        let groups = store.user_groups(&outsider.id).await.unwrap();
        assert!(!groups.iter().any(|g| g.id == group_id));
        assert_eq!(
            outbox_types(&store, head).await,
            ["access_request.created", "access_request.decided"]
        );
        let rows = store.outbox_after(head, 10).await.unwrap();
        assert_eq!(rows[1].payload["decision"], "REJECTED");
        assert!(log_types(&store)
            .await
            .contains(&"access.request.reject".to_string()));
    }

    #[tokio::test]
    async fn a_user_outside_the_condition_does_not_see_the_entry() {
        let (store, entry, _, _) = requestable().await;
        let outsider = testing::user(&store, "out@example.com", UserStatus::Active, true).await;
        let head = store.outbox_head().await.unwrap();
        let ctx = testing::as_user(&store, &outsider);

        let refused = submit_mine(&ctx, &outsider.id, &entry.id, None).await;

        assert!(matches!(refused, Err(AppError::NotFound(_))), "{refused:?}");
        assert!(outbox_types(&store, head).await.is_empty());
    }

    #[tokio::test]
    async fn an_admin_cannot_submit_for_an_inactive_user_or_an_unknown_entry() {
        let (store, entry, _, member) = requestable().await;
        let staged = testing::user(&store, "new@example.com", UserStatus::Staged, false).await;
        let ctx = Ctx::system(&store);
        let by = Principal::user(&testing::admin(&store).await.id);
        let submission = |user: &User| Submission {
            requested_by: by.clone(),
            requested_for: user.id.clone(),
            requester_field_values: None,
        };

        let inactive = submit_entry(&ctx, &entry.id, submission(&staged)).await;
        let unknown = submit_entry(&ctx, "cenNope", submission(&member)).await;

        assert!(
            matches!(inactive, Err(AppError::Validation(ref v)) if v.summary == "requestedFor"),
            "{inactive:?}"
        );
        assert!(
            matches!(unknown, Err(AppError::Validation(ref v)) if v.summary == "requested"),
            "{unknown:?}"
        );
        let page = list(&store, None, None, 10).await.unwrap();
        assert!(page.items.is_empty());
    }

    #[tokio::test]
    async fn messages_go_to_a_request_of_their_own_api_version() {
        let (store, entry, _, member) = requestable().await;
        let ctx = testing::as_user(&store, &member);
        let id = submit_mine(&ctx, &member.id, &entry.id, None)
            .await
            .unwrap()
            .request
            .id;
        let text = |t: &str| NewMessage {
            message: Some(t.into()),
            audience: None,
        };

        let message = add_message(&ctx, &id, ApiVersion::V2, text("Please"))
            .await
            .unwrap();
        let as_v1 = add_message(&ctx, &id, ApiVersion::V1, text("Please")).await;
        let empty = add_message(&ctx, &id, ApiVersion::V2, text("")).await;

        assert_eq!(message.created_by, member.id);
        assert_eq!(message.audience, "ALL");
        assert!(matches!(as_v1, Err(AppError::NotFound(_))), "{as_v1:?}");
        assert!(matches!(empty, Err(AppError::Validation(_))), "{empty:?}");
        let stored = store.access_requests().messages(&id).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0]["message"], "Please");
    }

    #[tokio::test]
    async fn the_inbox_lists_newest_first_by_status_and_words_with_a_cursor() {
        let (store, entry, _, member) = requestable().await;
        let mut ids = vec![];
        for at in [1_000, 2_000, 3_000] {
            let ctx = testing::as_user(&store, &member).at(1_800_000_000_000 + at);
            let wf = submit_mine(&ctx, &member.id, &entry.id, None)
                .await
                .unwrap();
            ids.push(wf.request.id);
        }
        let query = |status, q: &str, after: Option<String>| InboxQuery {
            status,
            q: Some(q.to_string()),
            after,
            limit: 2,
        };
        let of = |p: &Page<RequestWorkflow>| -> Vec<String> {
            p.items.iter().map(|wf| wf.request.id.clone()).collect()
        };

        let first = inbox(&store, &query(Some(RequestStatus::Pending), "eng", None))
            .await
            .unwrap();
        assert_eq!(of(&first), [ids[2].clone(), ids[1].clone()]);
        let second = inbox(
            &store,
            &query(Some(RequestStatus::Pending), "eng", first.next),
        )
        .await
        .unwrap();
        assert_eq!(of(&second), [ids[0].clone()]);
        assert!(second.next.is_none());
        let approved = inbox(&store, &query(Some(RequestStatus::Approved), "", None))
            .await
            .unwrap();
        assert!(approved.items.is_empty());
        let nobody = inbox(&store, &query(None, "zzz", None)).await.unwrap();
        assert!(nobody.items.is_empty());
        let by_app = inbox(&store, &query(None, "payroll", None)).await.unwrap();
        assert_eq!(by_app.items.len(), 2);
        let bad = inbox(&store, &query(None, "", Some("nonsense".into()))).await;
        assert!(matches!(bad, Err(AppError::Validation(_))), "{bad:?}");
    }
}
