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
use steward_core::syslog::{Actor, ClientInfo, LogEvent, Target};
use steward_store::{AccessRemoved, Store, StoreError, StoredRequest, WriteTx};

use super::GovernanceEvent;
use crate::AppState;

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
    for (group_id, user_id) in store.ar_group_memberships(groups, users).await? {
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
    /// Membership and assignment events written beside the request's own.
    pub logs: Vec<LogEvent>,
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
/// `MANUAL_REQUIRED`.
pub async fn fulfil(
    store: &Store,
    tx: &mut WriteTx,
    wf: &mut RequestWorkflow,
    actor: &Actor,
    now: i64,
    fx: &mut Effects,
) -> Result<(), StoreError> {
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
                    tx.emit(DomainEvent::GroupMembershipAdded {
                        group_id: group.id.clone(),
                        user_id: user_id.clone(),
                        actor: actor.clone(),
                    })
                    .await?;
                    fx.logs.push(
                        LogEvent::new(
                            "group.user_membership.add",
                            "Add user to group membership",
                            actor.clone(),
                            now,
                        )
                        .target(user_target(&user_id))
                        .target(Target::new(
                            &group.id,
                            "UserGroup",
                            group.name(),
                            group.name(),
                        ))
                        .debug("accessRequestId", wf.request.id.clone()),
                    );
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
                        .ar_assign_app_user_if_absent(&app.id, &user_id, now)
                        .await?;
                    granted = Some(("APPLICATION", app.id.clone(), added));
                    if added {
                        tx.emit(DomainEvent::AppUserAssigned {
                            app_id: app.id.clone(),
                            user_id: user_id.clone(),
                            actor: actor.clone(),
                        })
                        .await?;
                        fx.logs.push(
                            LogEvent::new(
                                "application.user_membership.add",
                                "Add user to application membership",
                                actor.clone(),
                                now,
                            )
                            .target(user_target(&user_id))
                            .target(Target::new(&app.id, "AppInstance", &app.name, &app.label))
                            .debug("accessRequestId", wf.request.id.clone()),
                        );
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
                    .ar_other_grant_holders(key, &wf.request.id, now)
                    .await?
                    .contains(&true);
            tx.ar_record_grant(
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
        .ar_grant_created_access(request_id)
        .await?
        .unwrap_or(true);
    let others = tx.ar_other_grant_holders(key, request_id, now).await?;
    tx.ar_release_grant(request_id).await?;
    Ok(created && others.is_empty())
}

/// Removes granted access inside `tx` and records `revocationStatus`.
pub async fn revoke(
    tx: &mut WriteTx,
    wf: &mut RequestWorkflow,
    actor: &Actor,
    now: i64,
    fx: &mut Effects,
) -> Result<(), StoreError> {
    let r = &wf.request;
    let user_id = r.requested_for.external_id.clone();
    let scope_id = r.requested.access_scope_id.clone();
    match r.requested.access_scope_type {
        AccessScopeType::Group => {
            let key = (user_id.as_str(), "GROUP", scope_id.as_str());
            if access_to_remove(tx, &wf.request.id, key, now).await?
                && tx.remove_member(&scope_id, &user_id, now).await?
            {
                tx.emit(DomainEvent::GroupMembershipRemoved {
                    group_id: scope_id.clone(),
                    user_id: user_id.clone(),
                    actor: actor.clone(),
                })
                .await?;
                fx.logs.push(
                    LogEvent::new(
                        "group.user_membership.remove",
                        "Remove user from group membership",
                        actor.clone(),
                        now,
                    )
                    .target(user_target(&user_id))
                    .target(Target::new(&scope_id, "UserGroup", &scope_id, &scope_id))
                    .debug("accessRequestId", wf.request.id.clone()),
                );
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
            if removed.is_ok() {
                tx.emit(DomainEvent::AppUserUnassigned {
                    app_id: app_id.clone(),
                    user_id: user_id.clone(),
                    actor: actor.clone(),
                })
                .await?;
            }
            match removed {
                Ok(()) => fx.logs.push(
                    LogEvent::new(
                        "application.user_membership.remove",
                        "Remove user from application membership",
                        actor.clone(),
                        now,
                    )
                    .target(user_target(&user_id))
                    .target(Target::new(&app_id, "AppInstance", &app_id, &app_id))
                    .debug("accessRequestId", wf.request.id.clone()),
                ),
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

/// Saves the request (with its next due time) and writes the System Log events of `fx` and of
/// the transition, without committing; returns what to publish once committed.
#[allow(clippy::too_many_arguments)]
pub async fn save(
    tx: &mut WriteTx,
    stored: &mut StoredRequest,
    request_type_id: Option<&str>,
    permalink: Option<i64>,
    fx: Effects,
    actor: &Actor,
    client: &ClientInfo,
    now: i64,
) -> Result<Vec<GovernanceEvent>, StoreError> {
    stored.due_at = due_at(&stored.workflow, now);
    tx.ar_put_request(stored, request_type_id, permalink)
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
    for log in &fx.logs {
        tx.append_log(&log.clone().client(client.clone())).await?;
    }
    Ok(published)
}

/// [`save`], commit, then publish on the bus.
#[allow(clippy::too_many_arguments)]
pub async fn save_and_commit(
    state: &AppState,
    mut tx: WriteTx,
    stored: &mut StoredRequest,
    request_type_id: Option<&str>,
    permalink: Option<i64>,
    fx: Effects,
    actor: &Actor,
    client: &ClientInfo,
    now: i64,
) -> Result<(), StoreError> {
    let published = save(
        &mut tx,
        stored,
        request_type_id,
        permalink,
        fx,
        actor,
        client,
        now,
    )
    .await?;
    tx.commit().await?;
    state.events.publish(published);
    Ok(())
}
