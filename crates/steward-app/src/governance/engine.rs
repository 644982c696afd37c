//! What every access-request path shares: the directory snapshot approvers are resolved against
//! (managers, group members, resource owners), fulfilment and revocation (in the transaction that changes the request), saving a request with
//! its next due time, and turning workflow events into System Log events and bus events.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use steward_core::access_requests::conditions::{ApprovalStep, Approver};
use steward_core::access_requests::workflow::{
    AccessRequestEvent, AccessScopeType, GrantStatus, RequestStatus, Requested, RevocationStatus,
};
use steward_core::access_requests::{Directory, RequestWorkflow};
use steward_core::directory::{User, UserStatus};
use steward_core::events::DomainEvent;
use steward_core::resource_owners::PrincipalKind;
use steward_core::syslog::{Actor, LogEvent, Target};
use steward_store::{AccessRemoved, Store, StoreError, StoredRequest, WriteTx};

use super::GovernanceEvent;
use crate::Ctx;

/// How long a request may wait for its decisions before it expires (7 days).
pub const DECISION_DEADLINE_MS: i64 = 7 * 86_400_000;
/// A failed revocation is retried after this long.
const RETRY_MS: i64 = 60_000;
/// Members of an approver group considered per step.
const GROUP_APPROVERS_MAX: usize = 200;

/// The users and groups one request's approval steps can reach, read before the transaction.
#[derive(Debug, Default)]
pub struct Snapshot {
    managers: HashMap<String, String>,
    groups: HashMap<String, Vec<String>>,
    /// Resource id → the users who own it (group owners expanded to their members).
    owners: HashMap<String, Vec<String>>,
    active: HashSet<String>,
    /// Group id → the users checked exactly for membership ([`check_memberships`]) who are
    /// members.
    checked: HashMap<String, HashSet<String>>,
}

impl Directory for Snapshot {
    fn manager_of(&self, user_id: &str) -> Option<String> {
        self.managers.get(user_id).cloned()
    }
    fn group_members(&self, group_id: &str) -> Vec<String> {
        self.groups.get(group_id).cloned().unwrap_or_default()
    }
    fn resource_owners(&self, resource_id: &str) -> Vec<String> {
        self.owners.get(resource_id).cloned().unwrap_or_default()
    }
    fn user_is_active(&self, id: &str) -> bool {
        self.active.contains(id)
    }
    fn is_group_member(&self, group_id: &str, user_id: &str) -> bool {
        match self.checked.get(group_id) {
            Some(members) => members.contains(user_id),
            None => self
                .groups
                .get(group_id)
                .is_some_and(|m| m.iter().any(|id| id == user_id)),
        }
    }
}

/// Reads exactly which of `users` are members of `groups` (however large the groups), for
/// [`Directory::is_group_member`]; groups not checked answer from the approver candidates.
pub async fn check_memberships(
    store: &Store,
    snapshot: &mut Snapshot,
    groups: &[String],
    users: &[String],
) -> Result<(), StoreError> {
    for g in groups {
        snapshot.checked.entry(g.clone()).or_default();
    }
    for (group_id, user_id) in store
        .access_requests()
        .group_memberships(groups, users)
        .await?
    {
        snapshot
            .checked
            .entry(group_id)
            .or_default()
            .insert(user_id);
    }
    Ok(())
}

async fn user_if_any(store: &Store, id: &str) -> Result<Option<User>, StoreError> {
    match store.user(id).await {
        Ok(u) => Ok(Some(u)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The members of a group (at most [`GROUP_APPROVERS_MAX`]), noting which are active.
async fn members_of(
    store: &Store,
    group_id: &str,
    active: &mut HashSet<String>,
) -> Result<Vec<String>, StoreError> {
    let members = store
        .group_members(group_id, None, GROUP_APPROVERS_MAX)
        .await?;
    for m in &members {
        if m.status == UserStatus::Active {
            active.insert(m.id.clone());
        }
    }
    Ok(members.into_iter().map(|m| m.id).collect())
}

/// The resources whose owners a request's `RESOURCE_OWNER` steps ask: the requested group or
/// bundle, and the app.
pub fn owned_resources(requested: &Requested) -> Vec<String> {
    let mut ids = vec![requested.access_scope_id.clone()];
    if requested.resource_id != requested.access_scope_id {
        ids.push(requested.resource_id.clone());
    }
    ids
}

/// Reads what `steps` need for a request for `requested_for` of `resources` (see
/// [`owned_resources`]), plus the users in `extra`.
pub async fn snapshot(
    store: &Store,
    requested_for: &str,
    resources: &[String],
    steps: &[ApprovalStep],
    extra: &[String],
) -> Result<Snapshot, StoreError> {
    let mut s = Snapshot::default();
    let mut users: Vec<String> = extra.to_vec();
    users.push(requested_for.to_string());
    if let Some(u) = user_if_any(store, requested_for).await? {
        if let Some(m) = u.profile.get("managerId").and_then(Value::as_str) {
            s.managers.insert(u.id.clone(), m.to_string());
            users.push(m.to_string());
        }
    }
    let mut owners_needed = false;
    for step in steps {
        for approver in std::iter::once(&step.approver).chain(step.fallback.as_ref()) {
            match approver {
                Approver::User { id } => users.push(id.clone()),
                Approver::Group { id } if !s.groups.contains_key(id) => {
                    let members = members_of(store, id, &mut s.active).await?;
                    s.groups.insert(id.clone(), members);
                }
                Approver::ResourceOwner => owners_needed = true,
                _ => {}
            }
        }
    }
    if owners_needed {
        // Owners are users, or groups whose members each own the resource (as Okta has it).
        for resource_id in resources {
            let mut owners = vec![];
            for principal in store.resource_owners(resource_id).await? {
                match principal.kind {
                    PrincipalKind::User => {
                        users.push(principal.id.clone());
                        owners.push(principal.id);
                    }
                    PrincipalKind::Group => {
                        owners.extend(members_of(store, &principal.id, &mut s.active).await?);
                    }
                }
            }
            s.owners.insert(resource_id.clone(), owners);
        }
    }
    for id in users {
        if s.active.contains(&id) {
            continue;
        }
        if let Some(u) = user_if_any(store, &id).await? {
            if u.status == UserStatus::Active {
                s.active.insert(u.id);
            }
        }
    }
    Ok(s)
}

/// The snapshot for an existing request (all of its planned steps).
pub async fn snapshot_for(
    store: &Store,
    wf: &RequestWorkflow,
    extra: &[String],
) -> Result<Snapshot, StoreError> {
    let steps: Vec<ApprovalStep> = wf.steps.iter().map(|s| s.approval.clone()).collect();
    snapshot(
        store,
        &wf.request.requested_for.external_id,
        &owned_resources(&wf.request.requested),
        &steps,
        extra,
    )
    .await
}

/// The group ids of a user (what request conditions admit by).
pub async fn memberships(store: &Store, user_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(store
        .user_groups(user_id)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect())
}

/// When the scheduler must next look at a request: its expiry while undecided, its revocation
/// while time-bound access is granted, else never.
pub fn due_at(wf: &RequestWorkflow, now: i64) -> Option<i64> {
    let r = &wf.request;
    if !r.status.is_resolved() {
        return Some(r.created.saturating_add(DECISION_DEADLINE_MS));
    }
    if r.grant_status == Some(GrantStatus::Granted)
        && r.revocation_status != Some(RevocationStatus::Revoked)
    {
        if let Some(at) = r.revocation_scheduled {
            return Some(if r.revocation_status == Some(RevocationStatus::Failed) {
                at.max(now + RETRY_MS)
            } else {
                at
            });
        }
    }
    None
}

/// Side effects of a transition beyond the request itself.
#[derive(Default)]
pub struct Effects {
    pub events: Vec<AccessRequestEvent>,
}

fn user_target(id: &str) -> Target {
    Target::new(id, "User", id, id)
}

fn request_target(wf: &RequestWorkflow) -> Target {
    let id = &wf.request.id;
    Target::new(id, "AccessRequest", id, "Access request")
}

/// Grants an APPROVED request's access (group membership or app assignment) inside `tx`, and
/// records `grantStatus`. Entitlement bundles and request types without a target need a person:
/// `MANUAL_REQUIRED`. The access is given by `ctx.actor` at `ctx.now`.
pub async fn fulfil(
    ctx: &Ctx<'_>,
    tx: &mut WriteTx,
    wf: &mut RequestWorkflow,
    fx: &mut Effects,
) -> Result<(), StoreError> {
    let (store, actor, now) = (ctx.store, &ctx.actor, ctx.now);
    let r = &wf.request;
    if r.status != RequestStatus::Approved || r.grant_status != Some(GrantStatus::Pending) {
        return Ok(());
    }
    let user_id = r.requested_for.external_id.clone();
    let scope_id = r.requested.access_scope_id.clone();
    let user_ok = user_if_any(store, &user_id).await?.is_some();
    // (scope type, scope id, whether this grant created the access)
    let mut granted: Option<(&str, String, bool)> = None;
    let outcome: Option<bool> = match r.requested.access_scope_type {
        AccessScopeType::Group => match store.group(&scope_id).await {
            Ok(group) if user_ok => {
                let added = tx.add_member(&group.id, &user_id, now).await?;
                granted = Some(("GROUP", group.id.clone(), added));
                if added {
                    tx.record(
                        DomainEvent::GroupMembershipAdded {
                            group_id: group.id.clone(),
                            user_id: user_id.clone(),
                            access_request_id: Some(wf.request.id.clone()),
                            actor: actor.clone(),
                        },
                        &[user_target(&user_id), Target::group(&group)],
                    )
                    .await?;
                }
                Some(true)
            }
            Ok(_) | Err(StoreError::NotFound) => Some(false),
            Err(e) => return Err(e),
        },
        AccessScopeType::Application => {
            let app_id = r.requested.resource_id.clone();
            match store.app(&app_id).await {
                Ok(app) if user_ok => {
                    // An existing assignment (its profile, its `created`) is left as it is.
                    let added = tx
                        .access_requests()
                        .assign_app_user_if_absent(&app.id, &user_id, now)
                        .await?;
                    granted = Some(("APPLICATION", app.id.clone(), added));
                    if added {
                        tx.record(
                            DomainEvent::AppUserAssigned {
                                app_id: app.id.clone(),
                                user_id: user_id.clone(),
                                updated: false,
                                access_request_id: Some(wf.request.id.clone()),
                                actor: actor.clone(),
                            },
                            &[user_target(&user_id), Target::app(&app)],
                        )
                        .await?;
                    }
                    Some(true)
                }
                Ok(_) | Err(StoreError::NotFound) => Some(false),
                Err(e) => return Err(e),
            }
        }
        AccessScopeType::EntitlementBundle | AccessScopeType::RequestType => None,
    };
    let events = match outcome {
        Some(true) => wf.grant_succeeded(now),
        Some(false) => wf.grant_failed(false, now),
        None => wf.grant_failed(true, now),
    };
    fx.events.extend(events.unwrap_or_default());
    if let Some((scope_type, scope_id, added)) = granted {
        if wf.request.grant_status == Some(GrantStatus::Granted) {
            // Access that was already there counts as made by a request when a request that
            // made it still holds it: the last request to let go of it removes it.
            let key = (user_id.as_str(), scope_type, scope_id.as_str());
            let created = added
                || tx
                    .access_requests()
                    .other_grant_holders(key, &wf.request.id, now)
                    .await?
                    .contains(&true);
            tx.access_requests()
                .record_grant(
                    &wf.request.id,
                    key,
                    created,
                    wf.request.revocation_scheduled,
                )
                .await?;
        }
    }
    Ok(())
}

/// Whether revoking `request_id`'s grant must remove the access: only when a request made it
/// (not when it was there beside the requests) and no other request still holds it.
async fn access_to_remove(
    tx: &mut WriteTx,
    request_id: &str,
    key: (&str, &str, &str),
    now: i64,
) -> Result<bool, StoreError> {
    // Grants from before grants were recorded keep the old behaviour (removed).
    let created = tx
        .access_requests()
        .grant_created_access(request_id)
        .await?
        .unwrap_or(true);
    let others = tx
        .access_requests()
        .other_grant_holders(key, request_id, now)
        .await?;
    tx.access_requests().release_grant(request_id).await?;
    Ok(created && others.is_empty())
}

/// Removes granted access inside `tx` and records `revocationStatus`, as `ctx.actor` at
/// `ctx.now`.
pub async fn revoke(
    ctx: &Ctx<'_>,
    tx: &mut WriteTx,
    wf: &mut RequestWorkflow,
    fx: &mut Effects,
) -> Result<(), StoreError> {
    let (actor, now) = (&ctx.actor, ctx.now);
    let r = &wf.request;
    let user_id = r.requested_for.external_id.clone();
    let scope_id = r.requested.access_scope_id.clone();
    match r.requested.access_scope_type {
        AccessScopeType::Group => {
            let key = (user_id.as_str(), "GROUP", scope_id.as_str());
            if access_to_remove(tx, &wf.request.id, key, now).await?
                && tx.remove_member(&scope_id, &user_id, now).await?
            {
                tx.record(
                    DomainEvent::GroupMembershipRemoved {
                        group_id: scope_id.clone(),
                        user_id: user_id.clone(),
                        access_request_id: Some(wf.request.id.clone()),
                        actor: actor.clone(),
                    },
                    &[user_target(&user_id)],
                )
                .await?;
            }
            tx.revoke_unassigned_tokens(AccessRemoved::GroupMember {
                group_id: &scope_id,
                user_id: &user_id,
            })
            .await?;
        }
        AccessScopeType::Application => {
            let app_id = r.requested.resource_id.clone();
            let key = (user_id.as_str(), "APPLICATION", app_id.as_str());
            let removed = if access_to_remove(tx, &wf.request.id, key, now).await? {
                tx.delete_app_user(&app_id, &user_id).await
            } else {
                Err(StoreError::NotFound)
            };
            match removed {
                Ok(()) => {
                    tx.record(
                        DomainEvent::AppUserUnassigned {
                            app_id: app_id.clone(),
                            user_id: user_id.clone(),
                            access_request_id: Some(wf.request.id.clone()),
                            actor: actor.clone(),
                        },
                        &[user_target(&user_id)],
                    )
                    .await?
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
            tx.revoke_unassigned_tokens(AccessRemoved::AppUser {
                app_id: &app_id,
                user_id: &user_id,
            })
            .await?;
        }
        AccessScopeType::EntitlementBundle | AccessScopeType::RequestType => {}
    }
    fx.events.extend(wf.revoked(now).unwrap_or_default());
    Ok(())
}

/// The System Log type, message and outcome of a workflow event. Documented in
/// `docs/access-requests.md`.
pub fn describe(e: &AccessRequestEvent) -> (&'static str, &'static str, &'static str) {
    use AccessRequestEvent::*;
    match e {
        Created { .. } => ("access.request.create", "Create access request", "SUCCESS"),
        Rejected { .. } => ("access.request.reject", "Reject access request", "FAILURE"),
        TaskCreated { .. } => (
            "access.request.task.create",
            "Create access request approval task",
            "SUCCESS",
        ),
        TaskResolved { .. } => (
            "access.request.task.resolve",
            "Resolve access request approval task",
            "SUCCESS",
        ),
        TaskReassigned { .. } => (
            "access.request.task.reassign",
            "Reassign access request approval task",
            "SUCCESS",
        ),
        Approved { .. } => ("access.request.resolve", "Approve access request", "ALLOW"),
        Denied { .. } => ("access.request.resolve", "Deny access request", "DENY"),
        Canceled { .. } => ("access.request.cancel", "Cancel access request", "SUCCESS"),
        Expired { .. } => ("access.request.expire", "Expire access request", "SUCCESS"),
        AccessGranted { .. } => ("access.request.grant", "Grant requested access", "SUCCESS"),
        AccessGrantFailed { .. } => ("access.request.grant", "Grant requested access", "FAILURE"),
        AccessRevoked { .. } => (
            "access.request.revoke",
            "Revoke time-bound access",
            "SUCCESS",
        ),
        AccessRevocationFailed { .. } => (
            "access.request.revoke",
            "Revoke time-bound access",
            "FAILURE",
        ),
    }
}

/// The domain event of a workflow event (task events have none: they stay on the bus).
fn domain_event(e: &AccessRequestEvent, actor: &Actor) -> Option<DomainEvent> {
    use AccessRequestEvent::*;
    let actor = actor.clone();
    let decided = |request_id: &String, decision: &str| DomainEvent::AccessRequestDecided {
        request_id: request_id.clone(),
        decision: decision.into(),
        actor: actor.clone(),
    };
    Some(match e {
        Created { request_id } => DomainEvent::AccessRequestCreated {
            request_id: request_id.clone(),
            actor,
        },
        Approved { request_id } => decided(request_id, "APPROVED"),
        Denied { request_id } => decided(request_id, "DENIED"),
        Rejected { request_id, .. } => decided(request_id, "REJECTED"),
        Canceled { request_id } => decided(request_id, "CANCELED"),
        Expired { request_id } => DomainEvent::AccessRequestExpired {
            request_id: request_id.clone(),
            actor,
        },
        AccessGranted { request_id, .. } => DomainEvent::AccessRequestFulfilled {
            request_id: request_id.clone(),
            granted: true,
            actor,
        },
        AccessGrantFailed { request_id, .. } => DomainEvent::AccessRequestFulfilled {
            request_id: request_id.clone(),
            granted: false,
            actor,
        },
        AccessRevoked { request_id } => DomainEvent::AccessRequestAccessRevoked {
            request_id: request_id.clone(),
            revoked: true,
            actor,
        },
        AccessRevocationFailed { request_id } => DomainEvent::AccessRequestAccessRevoked {
            request_id: request_id.clone(),
            revoked: false,
            actor,
        },
        TaskCreated { .. } | TaskResolved { .. } | TaskReassigned { .. } => return None,
    })
}

/// Saves the request (with its next due time; a v1 request with its type and permalink) and
/// writes the System Log events of `fx` and of the transition, as `ctx.actor` from
/// `ctx.client` at `ctx.now`, without committing; returns what to publish once committed.
pub async fn save(
    ctx: &Ctx<'_>,
    tx: &mut WriteTx,
    stored: &mut StoredRequest,
    fx: Effects,
) -> Result<Vec<GovernanceEvent>, StoreError> {
    let (actor, client, now) = (&ctx.actor, &ctx.client, ctx.now);
    stored.due_at = due_at(&stored.workflow, now);
    let request_type_id = stored.v1.as_ref().map(|v| v.request_type_id.clone());
    let permalink = stored.v1.as_ref().map(|v| v.permalink_id);
    tx.access_requests()
        .put_request(stored, request_type_id.as_deref(), permalink)
        .await?;
    let wf = &stored.workflow;
    let mut published = vec![];
    for e in &fx.events {
        let (event_type, message, outcome) = describe(e);
        let mut log = LogEvent::new(event_type, message, actor.clone(), now)
            .client(client.clone())
            .target(request_target(wf))
            .target(user_target(&wf.request.requested_for.external_id))
            .debug("requestStatus", wf.request.status.as_str());
        if let Ok(Value::Object(detail)) = serde_json::to_value(e) {
            for (k, v) in detail {
                log = log.debug(&k, v);
            }
        }
        let reason = match e {
            AccessRequestEvent::Rejected { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        log = log.outcome(outcome, reason);
        tx.append_log(&log).await?;
        if let Some(event) = domain_event(e, actor) {
            tx.emit(event).await?;
        }
        published.push(GovernanceEvent {
            event_type: event_type.to_string(),
            published: now,
            request_id: wf.request.id.clone(),
            event: e.clone(),
        });
    }
    Ok(published)
}

/// [`save`], commit, then publish on `ctx.bus`.
pub async fn save_and_commit(
    ctx: &Ctx<'_>,
    mut tx: WriteTx,
    stored: &mut StoredRequest,
    fx: Effects,
) -> Result<(), StoreError> {
    let published = save(ctx, &mut tx, stored, fx).await?;
    tx.commit().await?;
    if let Some(bus) = ctx.bus {
        bus.publish(published);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;
    use steward_core::access_requests::workflow::{NewRequest, ResourceType};
    use steward_core::access_requests::{new_request_id, Principal};
    use steward_core::apps::App;
    use steward_core::directory::{Group, GROUP_TYPE_OKTA};
    use steward_core::ids::{new_id, IdKind};
    use steward_store::Store;

    use super::*;
    use crate::governance::EventBus;
    use crate::testing::{self, outbox_types};

    const NOW: i64 = 1_700_000_000_000;

    async fn group(store: &Store, name: &str) -> Group {
        let profile = serde_json::from_value(json!({"name": name})).unwrap();
        let group = Group {
            id: new_id(IdKind::Group),
            group_type: GROUP_TYPE_OKTA.into(),
            created: NOW,
            last_updated: NOW,
            last_membership_updated: NOW,
            profile,
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_group(&group).await.unwrap();
        tx.commit().await.unwrap();
        group
    }

    async fn app(store: &Store) -> App {
        let id = new_id(IdKind::App);
        let app = App {
            id: id.clone(),
            name: "oidc_client".into(),
            label: "Expenses".into(),
            status: "ACTIVE".into(),
            sign_on_mode: steward_core::apps::SIGN_ON_MODE_OIDC.into(),
            created: NOW,
            last_updated: NOW,
            client_id: Some(id),
            oidc: None,
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_app(&app).await.unwrap();
        tx.commit().await.unwrap();
        app
    }

    /// A request by `user_id` for `requested`, approved at once (no approval steps).
    fn approved(user_id: &str, requested: Requested) -> (RequestWorkflow, Effects) {
        let (mut wf, mut events) = RequestWorkflow::create(
            NewRequest {
                id: new_request_id(),
                requested,
                requested_by: Principal::user(user_id),
                requested_for: user_id.into(),
                requester_field_values: None,
            },
            NOW,
        );
        events.extend(wf.start(vec![], None, &Snapshot::default(), NOW).unwrap());
        assert_eq!(wf.request.status, RequestStatus::Approved);
        (wf, Effects { events })
    }

    fn for_group(group_id: &str, app_id: &str) -> Requested {
        Requested {
            entry_id: None,
            resource_id: app_id.into(),
            resource_type: ResourceType::Application,
            access_scope_id: group_id.into(),
            access_scope_type: AccessScopeType::Group,
        }
    }

    /// Fulfils and saves `wf` as the system, committing and publishing on `bus`.
    async fn fulfil_and_save(
        store: &Store,
        bus: &EventBus,
        mut wf: RequestWorkflow,
        mut fx: Effects,
    ) -> StoredRequest {
        let ctx = Ctx::system(store).at(NOW).with_bus(bus);
        let mut tx = store.begin().await.unwrap();
        fulfil(&ctx, &mut tx, &mut wf, &mut fx).await.unwrap();
        let mut stored = StoredRequest {
            workflow: wf,
            v1: None,
            due_at: None,
        };
        save_and_commit(&ctx, tx, &mut stored, fx).await.unwrap();
        stored
    }

    fn fulfilled(rows: &[steward_store::OutboxRow]) -> Vec<bool> {
        rows.iter()
            .filter(|r| r.event_type == "access_request.fulfilled")
            .map(|r| r.payload["granted"].as_bool().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn an_approved_group_request_adds_the_membership_and_says_so_in_the_outbox() {
        let store = testing::org().await;
        let user = testing::user(&store, "ana@example.com", UserStatus::Active, true).await;
        let group = group(&store, "On-call").await;
        let head = store.outbox_head().await.unwrap();
        let bus = EventBus::default();
        let mut published = bus.subscribe();
        let (wf, fx) = approved(&user.id, for_group(&group.id, "0oaNone"));

        let stored = fulfil_and_save(&store, &bus, wf, fx).await;

        assert_eq!(
            stored.workflow.request.grant_status,
            Some(GrantStatus::Granted)
        );
        let groups = store.user_groups(&user.id).await.unwrap();
        assert!(groups.iter().any(|g| g.id == group.id));
        let rows = store.outbox_after(head, 100).await.unwrap();
        let types: Vec<&str> = rows.iter().map(|r| r.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "group.membership_added",
                "access_request.created",
                "access_request.decided",
                "access_request.fulfilled",
            ]
        );
        assert_eq!(fulfilled(&rows), [true]);
        let saved = store
            .access_requests()
            .request(&stored.workflow.request.id)
            .await
            .unwrap();
        assert_eq!(
            saved.workflow.request.grant_status,
            Some(GrantStatus::Granted)
        );
        // After the commit, the in-process bus hears the request's events.
        assert_eq!(
            published.recv().await.unwrap().event_type,
            "access.request.create"
        );
    }

    #[tokio::test]
    async fn an_approved_app_request_assigns_the_app() {
        let store = testing::org().await;
        let user = testing::user(&store, "ben@example.com", UserStatus::Active, true).await;
        let app = app(&store).await;
        let head = store.outbox_head().await.unwrap();
        let requested = Requested {
            entry_id: None,
            resource_id: app.id.clone(),
            resource_type: ResourceType::Application,
            access_scope_id: app.id.clone(),
            access_scope_type: AccessScopeType::Application,
        };
        let (wf, fx) = approved(&user.id, requested);

        fulfil_and_save(&store, &EventBus::default(), wf, fx).await;

        assert_eq!(
            store.app_user(&app.id, &user.id).await.unwrap().user_id,
            user.id
        );
        let rows = store.outbox_after(head, 100).await.unwrap();
        assert!(rows.iter().any(|r| r.event_type == "app.user_assigned"));
        assert_eq!(fulfilled(&rows), [true]);
    }

    #[tokio::test]
    async fn a_request_for_a_group_that_is_gone_fails_its_grant_and_changes_nothing_else() {
        let store = testing::org().await;
        let user = testing::user(&store, "cy@example.com", UserStatus::Active, true).await;
        let head = store.outbox_head().await.unwrap();
        let (wf, fx) = approved(&user.id, for_group("00gGone", "0oaNone"));

        let stored = fulfil_and_save(&store, &EventBus::default(), wf, fx).await;

        assert_eq!(
            stored.workflow.request.grant_status,
            Some(GrantStatus::Failed)
        );
        let rows = store.outbox_after(head, 100).await.unwrap();
        assert_eq!(fulfilled(&rows), [false]);
        assert!(!outbox_types(&store, head)
            .await
            .iter()
            .any(|t| t == "group.membership_added"));
    }

    #[tokio::test]
    async fn nothing_is_fulfilled_before_the_request_is_approved() {
        let store = testing::org().await;
        let user = testing::user(&store, "di@example.com", UserStatus::Active, true).await;
        let group = group(&store, "Finance").await;
        let (mut wf, _) = RequestWorkflow::create(
            NewRequest {
                id: new_request_id(),
                requested: for_group(&group.id, "0oaNone"),
                requested_by: Principal::user(&user.id),
                requested_for: user.id.clone(),
                requester_field_values: None,
            },
            NOW,
        );
        let ctx = Ctx::system(&store).at(NOW);
        let mut tx = store.begin().await.unwrap();
        let mut fx = Effects::default();
        fulfil(&ctx, &mut tx, &mut wf, &mut fx).await.unwrap();
        tx.commit().await.unwrap();
        assert!(fx.events.is_empty());
        assert_eq!(wf.request.grant_status, None);
        assert!(!store
            .user_groups(&user.id)
            .await
            .unwrap()
            .iter()
            .any(|g| g.id == group.id));
    }
}
