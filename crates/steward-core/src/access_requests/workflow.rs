//! v2 requests and tasks, and [`RequestWorkflow`]: one request, the approval steps it runs
//! through and the tasks they produced, with every transition as a method.
//!
//! ```text
//! create ─► SUBMITTED ─ submit/start ─► PENDING ─ last step approves ─► APPROVED ─► grant…
//!               │  (start without steps: v1 NONE) ───────────────────────▲   grantStatus PENDING → GRANTED | FAILED | MANUAL_REQUIRED
//!               └─ reject ─► REJECTED        ├─ a step denies ─► DENIED         revocationStatus (time-bound) → REVOKED | FAILED
//!                                            ├─ cancel ─► CANCELED
//!                                            └─ expire_if_due ─► EXPIRED
//! ```
//!
//! Steps are serial: each step's APPROVAL task is created when the step is reached; any denial
//! ends the request. A step nobody can be assigned to gets an `ASSIGNING` task with no assignees
//! until an admin reassigns it. Each transition returns the [`AccessRequestEvent`]s it produced.
//!
//! Whoever requested (`requestedFor`, and `requestedBy` whether a user or a service app) never
//! decides: deciders are typed [`Principal`]s, compared by type and id.

use serde::{Deserialize, Serialize};

use super::approvers::resolve_assignees;
use super::conditions::{requested_duration, RequestCondition, RequestSequence};
use super::duration::AccessDuration;
pub use super::model::{
    AccessScopeType, Directory, RequestFieldType, RequestFieldValue, Requested, ResourceType,
};
use super::model::{ApprovalStep, RequestParties};
use super::{new_hex_id, ts, Principal, RuleError};

/// `requestApproval.providerName` of requests Steward decides itself.
pub const PROVIDER_NAME: &str = "Okta Access Requests";
/// At most this many assignees per task (Okta's limit on `PATCH /v2/tasks/{id}`).
pub const MAX_TASK_ASSIGNEES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestStatus {
    Submitted,
    Rejected,
    Pending,
    Approved,
    Denied,
    Canceled,
    Expired,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "SUBMITTED",
            RequestStatus::Rejected => "REJECTED",
            RequestStatus::Pending => "PENDING",
            RequestStatus::Approved => "APPROVED",
            RequestStatus::Denied => "DENIED",
            RequestStatus::Canceled => "CANCELED",
            RequestStatus::Expired => "EXPIRED",
        }
    }

    /// Decided one way or the other (only SUBMITTED and PENDING are still open).
    pub fn is_resolved(self) -> bool {
        !matches!(self, RequestStatus::Submitted | RequestStatus::Pending)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GrantStatus {
    Pending,
    Granted,
    Failed,
    ManualRequired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RevocationStatus {
    Pending,
    Revoked,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalProviderType {
    Okta,
    External,
}

/// An approver's decision: the value of an APPROVAL task and `requestApproval.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Approved,
    Denied,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "APPROVED",
            Decision::Denied => "DENIED",
        }
    }

    /// The `value` of `POST /v2/tasks/{id}/resolve` for an APPROVAL task.
    pub fn from_task_value(value: Option<&str>) -> Result<Decision, RuleError> {
        match value {
            Some("APPROVED") => Ok(Decision::Approved),
            Some("DENIED") => Ok(Decision::Denied),
            _ => Err(RuleError::refused(
                "Task resolve failed",
                "Approval value must be either APPROVED or DENIED.",
            )),
        }
    }
}

/// `requestApproval.decisions[].decision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalDecisionType {
    Approve,
    Deny,
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalDecision {
    pub decider_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decider_name: Option<String>,
    pub decision: ApprovalDecisionType,
    #[serde(with = "ts")]
    pub decided: i64,
}

/// `requestApproval`: the approval system's view of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestApproval {
    #[serde(rename = "type")]
    pub kind: ApprovalProviderType,
    pub provider_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permalink_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Decision>,
    #[serde(default, with = "ts::opt", skip_serializing_if = "Option::is_none")]
    pub decided: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<ApprovalDecision>,
}

/// A v2 access request (`/v2/requests`), its full representation minus `_links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestV2 {
    pub id: String,
    #[serde(with = "ts")]
    pub created: i64,
    pub created_by: String,
    #[serde(with = "ts")]
    pub last_updated: i64,
    pub last_updated_by: String,
    pub status: RequestStatus,
    #[serde(default, with = "ts::opt", skip_serializing_if = "Option::is_none")]
    pub resolved: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_status: Option<GrantStatus>,
    #[serde(default, with = "ts::opt", skip_serializing_if = "Option::is_none")]
    pub granted: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_status: Option<RevocationStatus>,
    #[serde(default, with = "ts::opt", skip_serializing_if = "Option::is_none")]
    pub revoked: Option<i64>,
    #[serde(default, with = "ts::opt", skip_serializing_if = "Option::is_none")]
    pub revocation_scheduled: Option<i64>,
    pub requested_by: Principal,
    pub requested_for: Principal,
    pub requested: Requested,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_field_values: Option<Vec<RequestFieldValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_approval: Option<RequestApproval>,
}

impl RequestV2 {
    /// Whether `principal` requested this request: it is `requestedFor`, or `requestedBy`
    /// (a user, or a service app), compared by type and id. Whoever requested never decides,
    /// whatever kind of principal they are.
    pub fn is_requester(&self, principal: &Principal) -> bool {
        *principal == self.requested_for || *principal == self.requested_by
    }
}

impl RequestParties for RequestV2 {
    fn is_requester(&self, principal: &Principal) -> bool {
        RequestV2::is_requester(self, principal)
    }

    fn requested_for_id(&self) -> &str {
        &self.requested_for.external_id
    }

    fn requested(&self) -> &Requested {
        &self.requested
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskType {
    Question,
    Approval,
    Todo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Open,
    Completed,
    Assigning,
    Locked,
}

/// A task of a request (`/v2/tasks`, `/v2/my/tasks`), its full representation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub assignees: Vec<Principal>,
    pub status: TaskStatus,
    pub label: String,
    pub request_id: String,
    #[serde(with = "ts")]
    pub created_at: i64,
    #[serde(with = "ts")]
    pub updated_at: i64,
    #[serde(rename = "type")]
    pub kind: TaskType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub is_escalated: bool,
    #[serde(default)]
    pub is_delegated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_assignee_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_by: Option<Principal>,
}

impl Task {
    /// Whether `principal` (compared by type and id) is one of the task's assignees.
    pub fn is_assignee(&self, principal: &Principal) -> bool {
        self.assignees.iter().any(|a| a == principal)
    }
}

/// What a transition did, for the System Log and the event bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum AccessRequestEvent {
    Created {
        request_id: String,
    },
    /// No condition matched, or the request failed its condition's rules.
    Rejected {
        request_id: String,
        reason: String,
    },
    Approved {
        request_id: String,
    },
    Denied {
        request_id: String,
    },
    Expired {
        request_id: String,
    },
    Canceled {
        request_id: String,
    },
    AccessGranted {
        request_id: String,
        revocation_scheduled: Option<i64>,
    },
    /// `grant_status` is FAILED or MANUAL_REQUIRED.
    AccessGrantFailed {
        request_id: String,
        grant_status: GrantStatus,
    },
    AccessRevoked {
        request_id: String,
    },
    AccessRevocationFailed {
        request_id: String,
    },
    /// No assignees: the task is ASSIGNING until an admin reassigns it.
    TaskCreated {
        request_id: String,
        task_id: String,
        assignees: Vec<String>,
    },
    TaskResolved {
        request_id: String,
        task_id: String,
        decider_id: String,
        decision: Decision,
    },
    TaskReassigned {
        request_id: String,
        task_id: String,
        assignees: Vec<String>,
    },
}

/// A step of the request's sequence as it was when the request started. The task id is minted
/// up front so that v1 requests can list every approval from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedStep {
    pub approval: ApprovalStep,
    pub task_id: String,
}

/// What a create call supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    /// [`new_request_id`](super::new_request_id) for v2, [`new_hex_id`] for v1.
    pub id: String,
    pub requested: Requested,
    /// The caller: a user, or a client-credentials principal.
    pub requested_by: Principal,
    /// The user who needs access.
    pub requested_for: String,
    pub requester_field_values: Option<Vec<RequestFieldValue>>,
}

/// One request and its approval state; storage keeps it whole (it serialises as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestWorkflow {
    pub request: RequestV2,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_condition_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_sequence_id: Option<String>,
    #[serde(default)]
    pub steps: Vec<PlannedStep>,
    /// The tasks of the steps reached so far, in step order.
    #[serde(default)]
    pub tasks: Vec<Task>,
}

type Events = Vec<AccessRequestEvent>;

impl RequestWorkflow {
    /// A new request, SUBMITTED (what `POST /v2/requests` answers with 202).
    pub fn create(new: NewRequest, now: i64) -> (RequestWorkflow, Events) {
        let by = new.requested_by.external_id.clone();
        let request = RequestV2 {
            id: new.id,
            created: now,
            created_by: by.clone(),
            last_updated: now,
            last_updated_by: by,
            status: RequestStatus::Submitted,
            resolved: None,
            grant_status: None,
            granted: None,
            revocation_status: None,
            revoked: None,
            revocation_scheduled: None,
            requested_by: new.requested_by,
            requested_for: Principal::user(&new.requested_for),
            requested: new.requested,
            access_duration: None,
            requester_field_values: new.requester_field_values,
            request_approval: Some(RequestApproval {
                kind: ApprovalProviderType::Okta,
                provider_name: PROVIDER_NAME.into(),
                provider_description: Some(PROVIDER_NAME.into()),
                external_request_id: None,
                permalink_id: None,
                status: None,
                decided: None,
                decisions: vec![],
            }),
        };
        let events = vec![AccessRequestEvent::Created {
            request_id: request.id.clone(),
        }];
        let wf = RequestWorkflow {
            request,
            request_condition_id: None,
            approval_sequence_id: None,
            steps: vec![],
            tasks: vec![],
        };
        (wf, events)
    }

    /// SUBMITTED → REJECTED, e.g. when [`match_condition`](super::match_condition) found nothing.
    pub fn reject(&mut self, reason: &str, now: i64) -> Result<Events, RuleError> {
        self.require_status(&[RequestStatus::Submitted], "Request submit failed")?;
        let mut events = vec![];
        self.conclude(RequestStatus::Rejected, now, &mut events);
        events.push(AccessRequestEvent::Rejected {
            request_id: self.request.id.clone(),
            reason: reason.to_string(),
        });
        Ok(events)
    }

    /// Runs the request through the matched `condition` and its `sequence`: the access duration
    /// is settled (a requester-specified one that breaks the condition rejects the request),
    /// then the steps start as in [`start`](Self::start). A sequence without steps rejects the
    /// request: a v2 request is only approved by the approvals its sequence asks for.
    pub fn submit(
        &mut self,
        condition: &RequestCondition,
        sequence: &RequestSequence,
        directory: &dyn Directory,
        now: i64,
    ) -> Result<Events, RuleError> {
        self.require_status(&[RequestStatus::Submitted], "Request submit failed")?;
        if condition.approval_sequence_id.as_deref() != Some(sequence.id.as_str()) {
            return Err(RuleError::invalid(
                "approvalSequenceId",
                format!(
                    "Condition {} does not use sequence {}",
                    condition.id, sequence.id
                ),
            ));
        }
        self.request_condition_id = Some(condition.id.clone());
        self.approval_sequence_id = Some(sequence.id.clone());
        if sequence.steps.is_empty() {
            // Sequences are written with at least one step; one stored without (before that
            // rule) must not grant access that no approval was asked for.
            return self.reject(
                &format!(
                    "The approval sequence {} has no approval steps",
                    sequence.id
                ),
                now,
            );
        }
        let fields = self
            .request
            .requester_field_values
            .as_deref()
            .unwrap_or_default();
        match requested_duration(condition.access_duration_settings.as_ref(), fields) {
            Ok(duration) => self.start(sequence.steps.clone(), duration, directory, now),
            Err(e) => self.reject(&e.causes.join("; "), now),
        }
    }

    /// SUBMITTED → PENDING with the first step's task, or straight to APPROVED without steps.
    /// v1 requests come in here with their request type's approvals.
    pub fn start(
        &mut self,
        steps: Vec<ApprovalStep>,
        duration: Option<AccessDuration>,
        directory: &dyn Directory,
        now: i64,
    ) -> Result<Events, RuleError> {
        self.require_status(&[RequestStatus::Submitted], "Request submit failed")?;
        self.request.access_duration = duration.map(|d| d.to_string());
        self.steps = steps
            .into_iter()
            .map(|approval| PlannedStep {
                approval,
                task_id: new_hex_id(),
            })
            .collect();
        self.request.status = RequestStatus::Pending;
        self.request.last_updated = now;
        let mut events = vec![];
        self.advance(0, directory, now, &mut events);
        Ok(events)
    }

    /// An admin decides the open task `task_id` (`POST /v2/tasks/{id}/resolve`): an admin who is
    /// not an assignee decides as an override and is added to the task's assignees, recorded as
    /// the principal it is (a user, or a service app). Otherwise as
    /// [`resolve_task`](Self::resolve_task): whoever requested is refused, and a refused call
    /// changes nothing.
    pub fn resolve_task_as_admin(
        &mut self,
        task_id: &str,
        decider: &Principal,
        decision: Decision,
        directory: &dyn Directory,
        now: i64,
    ) -> Result<Events, RuleError> {
        self.decide(task_id, decider, decision, true, directory, now)
    }

    /// An assignee decides the open task `task_id`. A denial ends the request; an approval opens
    /// the next step's task or, after the last step, approves the request. `decider` is the
    /// caller as a typed principal: a user (their own token, or an SSWS token, which acts as
    /// its admin) or a service app (client credentials, by client id). Whoever requested the
    /// request (see [`RequestV2::is_requester`]) is refused with a 403 that says so.
    pub fn resolve_task(
        &mut self,
        task_id: &str,
        decider: &Principal,
        decision: Decision,
        directory: &dyn Directory,
        now: i64,
    ) -> Result<Events, RuleError> {
        self.decide(task_id, decider, decision, false, directory, now)
    }

    fn decide(
        &mut self,
        task_id: &str,
        decider: &Principal,
        decision: Decision,
        as_admin: bool,
        directory: &dyn Directory,
        now: i64,
    ) -> Result<Events, RuleError> {
        const FAILED: &str = "Task resolve failed";
        let index = self.task_index(task_id)?;
        match self.tasks[index].status {
            TaskStatus::Open => {}
            TaskStatus::Completed => {
                return Err(RuleError::refused(FAILED, "Task is already closed."))
            }
            TaskStatus::Assigning | TaskStatus::Locked => {
                return Err(RuleError::refused(
                    FAILED,
                    "Task is not open: it has no assignees yet.",
                ))
            }
        }
        self.require_status(&[RequestStatus::Pending], FAILED)?;
        if self.request.is_requester(decider) {
            return Err(RuleError::forbidden(
                "A requester cannot decide their own request: whoever requested it (requestedBy \
                 or requestedFor) never decides it.",
            ));
        }
        if !self.tasks[index].is_assignee(decider) {
            if !as_admin {
                return Err(RuleError::forbidden(
                    "Only an assignee of the task can resolve it.",
                ));
            }
            // The admin's override: it decides as an assignee, recorded as what it is.
            self.tasks[index].assignees.push(decider.clone());
        }
        let decider_id = decider.external_id.as_str();
        let task = &mut self.tasks[index];
        task.status = TaskStatus::Completed;
        task.value = Some(decision.as_str().into());
        task.completed_by = Some(decider.clone());
        task.updated_at = now;
        if let Some(approval) = &mut self.request.request_approval {
            approval.decisions.push(ApprovalDecision {
                decider_id: decider_id.into(),
                decider_name: None,
                decision: match decision {
                    Decision::Approved => ApprovalDecisionType::Approve,
                    Decision::Denied => ApprovalDecisionType::Deny,
                },
                decided: now,
            });
        }
        self.request.last_updated = now;
        self.request.last_updated_by = decider_id.into();
        let mut events = vec![AccessRequestEvent::TaskResolved {
            request_id: self.request.id.clone(),
            task_id: task_id.into(),
            decider_id: decider_id.into(),
            decision,
        }];
        match decision {
            Decision::Denied => self.conclude(RequestStatus::Denied, now, &mut events),
            Decision::Approved => {
                let step = self.steps.iter().position(|s| s.task_id == task_id);
                self.advance(
                    step.map_or(usize::MAX, |i| i + 1),
                    directory,
                    now,
                    &mut events,
                );
            }
        }
        Ok(events)
    }

    /// `PATCH /v2/tasks/{id}`: replaces the assignees of an unresolved task. Ids that are not
    /// active users, or are the requester, are dropped (Okta's partial success); an ASSIGNING
    /// task becomes OPEN.
    pub fn reassign_task(
        &mut self,
        task_id: &str,
        assignees: &[String],
        directory: &dyn Directory,
        now: i64,
    ) -> Result<Events, RuleError> {
        const FAILED: &str = "Task update failed";
        let index = self.task_index(task_id)?;
        if self.tasks[index].status == TaskStatus::Completed || self.request.status.is_resolved() {
            return Err(RuleError::refused(FAILED, "Task is already closed."));
        }
        if assignees.is_empty() || assignees.len() > MAX_TASK_ASSIGNEES {
            return Err(RuleError::invalid(
                "assignees",
                format!("assignees: must have between 1 and {MAX_TASK_ASSIGNEES} items"),
            ));
        }
        let mut valid: Vec<String> = vec![];
        for id in assignees {
            if directory.user_is_active(id)
                && !self.request.is_requester(&Principal::user(id))
                && !valid.contains(id)
            {
                valid.push(id.clone());
            }
        }
        if valid.is_empty() {
            return Err(RuleError::refused(
                FAILED,
                "All provided assignee ids are invalid.",
            ));
        }
        let task = &mut self.tasks[index];
        task.assignees = valid.iter().map(|id| Principal::user(id)).collect();
        if task.status == TaskStatus::Assigning {
            task.status = TaskStatus::Open;
        }
        task.updated_at = now;
        self.request.last_updated = now;
        Ok(vec![AccessRequestEvent::TaskReassigned {
            request_id: self.request.id.clone(),
            task_id: task_id.into(),
            assignees: valid,
        }])
    }

    /// SUBMITTED or PENDING → CANCELED, as long as no task has been resolved.
    pub fn cancel(&mut self, actor: &str, now: i64) -> Result<Events, RuleError> {
        const FAILED: &str = "Request update failed";
        self.require_status(&[RequestStatus::Submitted, RequestStatus::Pending], FAILED)?;
        if self.tasks.iter().any(|t| t.completed_by.is_some()) {
            return Err(RuleError::refused(
                FAILED,
                "one or more tasks are already resolved.",
            ));
        }
        self.request.last_updated_by = actor.into();
        let mut events = vec![];
        self.conclude(RequestStatus::Canceled, now, &mut events);
        Ok(events)
    }

    /// SUBMITTED or PENDING → EXPIRED once `decision_deadline_ms` has passed since the request
    /// was created. Nothing happens (no events) otherwise.
    pub fn expire_if_due(&mut self, now: i64, decision_deadline_ms: i64) -> Events {
        let mut events = vec![];
        if !self.request.status.is_resolved()
            && now >= self.request.created.saturating_add(decision_deadline_ms)
        {
            self.conclude(RequestStatus::Expired, now, &mut events);
        }
        events
    }

    /// Before a decision or a reassignment: once `decision_deadline_ms` has passed since the
    /// request was created, an undecided request can no longer be acted on. It expires now (as
    /// the scheduler would have expired it) and the change is refused (`E0000002`, prefixed
    /// `failed`); the expiry's events come with the refusal, to be saved in the same
    /// transaction. `None` while the request may still be decided.
    pub fn expire_past_deadline(
        &mut self,
        now: i64,
        decision_deadline_ms: i64,
        failed: &str,
    ) -> Option<(Events, RuleError)> {
        let events = self.expire_if_due(now, decision_deadline_ms);
        if events.is_empty() {
            return None;
        }
        Some((
            events,
            RuleError::refused(
                failed,
                "request status is already EXPIRED: its decision deadline has passed.",
            ),
        ))
    }

    /// The access was provisioned: `grantStatus` GRANTED, `granted` now and, for time-bound
    /// access, `revocationScheduled` = granted + duration.
    pub fn grant_succeeded(&mut self, now: i64) -> Result<Events, RuleError> {
        self.require_grant_outcome_pending()?;
        let duration = self
            .request
            .access_duration
            .as_deref()
            .and_then(AccessDuration::parse);
        let r = &mut self.request;
        r.grant_status = Some(GrantStatus::Granted);
        r.granted = Some(now);
        r.revocation_scheduled = duration.map(|d| now.saturating_add(d.millis()));
        r.last_updated = now;
        Ok(vec![AccessRequestEvent::AccessGranted {
            request_id: r.id.clone(),
            revocation_scheduled: r.revocation_scheduled,
        }])
    }

    /// Provisioning failed, or needs a person (`manual_required`). Either may be retried.
    pub fn grant_failed(&mut self, manual_required: bool, now: i64) -> Result<Events, RuleError> {
        self.require_grant_outcome_pending()?;
        let status = if manual_required {
            GrantStatus::ManualRequired
        } else {
            GrantStatus::Failed
        };
        self.request.grant_status = Some(status);
        self.request.last_updated = now;
        Ok(vec![AccessRequestEvent::AccessGrantFailed {
            request_id: self.request.id.clone(),
            grant_status: status,
        }])
    }

    /// Whether time-bound access should be revoked now (from `revocationScheduled` on, until
    /// revoked; a failed revocation stays due).
    pub fn revocation_due(&self, now: i64) -> bool {
        let r = &self.request;
        r.grant_status == Some(GrantStatus::Granted)
            && r.revocation_status != Some(RevocationStatus::Revoked)
            && r.revocation_scheduled.is_some_and(|at| now >= at)
    }

    /// Granted access was removed (on schedule, or earlier by an admin).
    pub fn revoked(&mut self, now: i64) -> Result<Events, RuleError> {
        self.require_revocable()?;
        let r = &mut self.request;
        r.revocation_status = Some(RevocationStatus::Revoked);
        r.revoked = Some(now);
        r.last_updated = now;
        Ok(vec![AccessRequestEvent::AccessRevoked {
            request_id: r.id.clone(),
        }])
    }

    pub fn revocation_failed(&mut self, now: i64) -> Result<Events, RuleError> {
        self.require_revocable()?;
        self.request.revocation_status = Some(RevocationStatus::Failed);
        self.request.last_updated = now;
        Ok(vec![AccessRequestEvent::AccessRevocationFailed {
            request_id: self.request.id.clone(),
        }])
    }

    pub fn task(&self, task_id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == task_id)
    }

    /// The task waiting for a decision or an assignment, if any.
    pub fn current_task(&self) -> Option<&Task> {
        self.tasks
            .iter()
            .find(|t| matches!(t.status, TaskStatus::Open | TaskStatus::Assigning))
    }

    /// Opens step `i`'s task, or approves when there is no step `i`.
    fn advance(&mut self, i: usize, directory: &dyn Directory, now: i64, events: &mut Events) {
        let Some(step) = self.steps.get(i) else {
            self.conclude(RequestStatus::Approved, now, events);
            return;
        };
        let assignees =
            resolve_assignees(&step.approval, &self.request, directory).unwrap_or_default();
        let label = step.approval.label.clone().unwrap_or_else(|| {
            format!(
                "Approve access request (step {} of {})",
                i + 1,
                self.steps.len()
            )
        });
        let task = Task {
            id: step.task_id.clone(),
            assignees: assignees.iter().map(|id| Principal::user(id)).collect(),
            status: if assignees.is_empty() {
                TaskStatus::Assigning
            } else {
                TaskStatus::Open
            },
            label,
            request_id: self.request.id.clone(),
            created_at: now,
            updated_at: now,
            kind: TaskType::Approval,
            value: None,
            is_escalated: false,
            is_delegated: false,
            original_assignee_id: None,
            completed_by: None,
        };
        events.push(AccessRequestEvent::TaskCreated {
            request_id: self.request.id.clone(),
            task_id: task.id.clone(),
            assignees,
        });
        self.tasks.push(task);
    }

    /// Moves to a resolved status: tasks still open are closed, the approval records the outcome.
    fn conclude(&mut self, status: RequestStatus, now: i64, events: &mut Events) {
        for t in &mut self.tasks {
            if t.status != TaskStatus::Completed {
                t.status = TaskStatus::Completed;
                t.updated_at = now;
            }
        }
        let r = &mut self.request;
        r.status = status;
        r.resolved = Some(now);
        r.last_updated = now;
        let decided = match status {
            RequestStatus::Approved => Some(Decision::Approved),
            RequestStatus::Denied => Some(Decision::Denied),
            _ => None,
        };
        if let (Some(decision), Some(approval)) = (decided, &mut r.request_approval) {
            approval.status = Some(decision);
            approval.decided = Some(now);
        }
        let request_id = r.id.clone();
        match status {
            RequestStatus::Approved => {
                r.grant_status = Some(GrantStatus::Pending);
                events.push(AccessRequestEvent::Approved { request_id });
            }
            RequestStatus::Denied => events.push(AccessRequestEvent::Denied { request_id }),
            RequestStatus::Canceled => events.push(AccessRequestEvent::Canceled { request_id }),
            RequestStatus::Expired => events.push(AccessRequestEvent::Expired { request_id }),
            // REJECTED reports its own reason; SUBMITTED and PENDING are never concluded.
            RequestStatus::Rejected | RequestStatus::Submitted | RequestStatus::Pending => {}
        }
    }

    fn task_index(&self, task_id: &str) -> Result<usize, RuleError> {
        self.tasks
            .iter()
            .position(|t| t.id == task_id)
            .ok_or_else(|| {
                RuleError::invalid(
                    "taskId",
                    format!(
                        "Task {task_id} is not a task of request {}",
                        self.request.id
                    ),
                )
            })
    }

    fn require_status(&self, allowed: &[RequestStatus], failed: &str) -> Result<(), RuleError> {
        let status = self.request.status;
        if allowed.contains(&status) {
            Ok(())
        } else if status.is_resolved() {
            Err(RuleError::refused(
                failed,
                format!("request status is already {}.", status.as_str()),
            ))
        } else {
            Err(RuleError::refused(
                failed,
                format!("request status is {}.", status.as_str()),
            ))
        }
    }

    fn require_grant_outcome_pending(&self) -> Result<(), RuleError> {
        self.require_status(&[RequestStatus::Approved], "Access grant failed")?;
        match self.request.grant_status {
            Some(GrantStatus::Granted) => Err(RuleError::refused(
                "Access grant failed",
                "access is already granted.",
            )),
            _ => Ok(()),
        }
    }

    fn require_revocable(&self) -> Result<(), RuleError> {
        let r = &self.request;
        if r.grant_status != Some(GrantStatus::Granted) {
            return Err(RuleError::refused(
                "Access revocation failed",
                "access was never granted.",
            ));
        }
        if r.revocation_status == Some(RevocationStatus::Revoked) {
            return Err(RuleError::refused(
                "Access revocation failed",
                "access is already revoked.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
pub(crate) mod tests {
    use serde_json::Value;

    use super::*;
    use crate::access_requests::conditions::Approver;
    use crate::access_requests::testkit::{normalise, spec_example, FakeDirectory};

    pub const ALICE: &str = "00ualice0000000000a1";
    const MANAGER: &str = "00umanager000000000a";
    const BOB: &str = "00ubob00000000000000";
    const CAROL: &str = "00ucarol000000000000";
    const APP: &str = "0oaapp00000000000000";
    const T0: i64 = 1_700_000_000_000;
    const DAY: i64 = 86_400_000;

    /// A SUBMITTED request by `requested_for` for itself, for app `APP`.
    pub fn new_request(requested_for: &str) -> RequestWorkflow {
        let new = NewRequest {
            id: crate::access_requests::new_request_id(),
            requested: Requested {
                entry_id: None,
                resource_id: APP.into(),
                resource_type: ResourceType::Application,
                access_scope_id: APP.into(),
                access_scope_type: AccessScopeType::Application,
            },
            requested_by: Principal::user(requested_for),
            requested_for: requested_for.into(),
            requester_field_values: None,
        };
        RequestWorkflow::create(new, T0).0
    }

    fn directory() -> FakeDirectory {
        FakeDirectory::default()
            .manager(ALICE, MANAGER)
            .group("00gapprovers0000000a", &[BOB, CAROL])
    }

    fn step(approver: Approver) -> ApprovalStep {
        ApprovalStep {
            approver,
            fallback: None,
            label: None,
        }
    }

    /// Alice's request through manager, then the approvers group.
    fn two_steps(dir: &FakeDirectory, duration: Option<&str>) -> RequestWorkflow {
        let mut wf = new_request(ALICE);
        let steps = vec![
            step(Approver::RequesterManager),
            step(Approver::Group {
                id: "00gapprovers0000000a".into(),
            }),
        ];
        let duration = duration.and_then(AccessDuration::parse);
        wf.start(steps, duration, dir, T0 + 1).unwrap();
        wf
    }

    fn open_task_id(wf: &RequestWorkflow) -> String {
        wf.current_task().unwrap().id.clone()
    }

    #[test]
    fn two_step_serial_approval() {
        let dir = directory();
        let mut wf = two_steps(&dir, None);
        assert_eq!(wf.request.status, RequestStatus::Pending);
        assert_eq!(wf.tasks.len(), 1, "only the first step has a task");
        let first = open_task_id(&wf);
        assert_eq!(wf.tasks[0].assignees, [Principal::user(MANAGER)]);

        let events = wf
            .resolve_task(
                &first,
                &Principal::user(MANAGER),
                Decision::Approved,
                &dir,
                T0 + 2,
            )
            .unwrap();
        assert_eq!(wf.request.status, RequestStatus::Pending);
        let second = open_task_id(&wf);
        assert_ne!(first, second);
        assert!(matches!(&events[..], [
            AccessRequestEvent::TaskResolved { decision: Decision::Approved, .. },
            AccessRequestEvent::TaskCreated { assignees, .. },
        ] if assignees == &[BOB, CAROL]));

        let events = wf
            .resolve_task(
                &second,
                &Principal::user(CAROL),
                Decision::Approved,
                &dir,
                T0 + 3,
            )
            .unwrap();
        assert!(matches!(
            events.last(),
            Some(AccessRequestEvent::Approved { .. })
        ));
        let r = &wf.request;
        assert_eq!(r.status, RequestStatus::Approved);
        assert_eq!(r.grant_status, Some(GrantStatus::Pending));
        assert_eq!(r.resolved, Some(T0 + 3));
        assert_eq!(r.last_updated_by, CAROL);
        let approval = r.request_approval.as_ref().unwrap();
        assert_eq!(approval.status, Some(Decision::Approved));
        let deciders: Vec<_> = approval
            .decisions
            .iter()
            .map(|d| d.decider_id.as_str())
            .collect();
        assert_eq!(deciders, [MANAGER, CAROL]);
        assert!(wf.tasks.iter().all(|t| t.status == TaskStatus::Completed));
        assert_eq!(wf.tasks[1].completed_by, Some(Principal::user(CAROL)));
        // The request is decided: nothing more to resolve.
        let err = wf
            .resolve_task(
                &second,
                &Principal::user(BOB),
                Decision::Denied,
                &dir,
                T0 + 4,
            )
            .unwrap_err();
        assert_eq!(
            err.detail().summary,
            "Task resolve failed: Task is already closed."
        );
    }

    #[test]
    fn a_denial_at_step_one_ends_the_request() {
        let dir = directory();
        let mut wf = two_steps(&dir, None);
        let first = open_task_id(&wf);
        let events = wf
            .resolve_task(
                &first,
                &Principal::user(MANAGER),
                Decision::Denied,
                &dir,
                T0 + 2,
            )
            .unwrap();
        assert!(matches!(
            events.last(),
            Some(AccessRequestEvent::Denied { .. })
        ));
        assert_eq!(wf.request.status, RequestStatus::Denied);
        assert_eq!(wf.request.grant_status, None);
        assert_eq!(wf.tasks.len(), 1, "the second step is never reached");
        assert_eq!(wf.tasks[0].value.as_deref(), Some("DENIED"));
        assert!(wf.grant_succeeded(T0 + 3).is_err());
        assert!(wf.cancel(ALICE, T0 + 3).is_err());
    }

    #[test]
    fn no_steps_approves_immediately() {
        let mut wf = new_request(ALICE);
        let events = wf.start(vec![], None, &directory(), T0).unwrap();
        assert!(matches!(&events[..], [AccessRequestEvent::Approved { .. }]));
        assert_eq!(wf.request.status, RequestStatus::Approved);
        assert!(wf.tasks.is_empty());
    }

    #[test]
    fn requesters_and_strangers_cannot_decide() {
        // Alice manages herself here, so the manager step falls back to Bob.
        let dir = FakeDirectory::default().manager(ALICE, ALICE);
        let mut wf = new_request(ALICE);
        let steps = vec![ApprovalStep {
            approver: Approver::RequesterManager,
            fallback: Some(Approver::User { id: BOB.into() }),
            label: Some("Manager approval".into()),
        }];
        wf.start(steps, None, &dir, T0).unwrap();
        let task = wf.current_task().unwrap().clone();
        assert_eq!(task.assignees, [Principal::user(BOB)]);
        assert_eq!(task.label, "Manager approval");

        let err = wf
            .resolve_task(
                &task.id,
                &Principal::user(ALICE),
                Decision::Approved,
                &dir,
                T0,
            )
            .unwrap_err();
        assert!(matches!(err, RuleError::Forbidden(_)), "{err:?}");
        assert!(err.detail().causes[0].contains("own request"));
        let err = wf
            .resolve_task(
                &task.id,
                &Principal::user(CAROL),
                Decision::Approved,
                &dir,
                T0,
            )
            .unwrap_err();
        assert!(matches!(err, RuleError::Forbidden(_)));
        assert!(err.detail().causes[0].contains("assignee"));
        assert!(wf
            .resolve_task(
                "000000000000000000000000",
                &Principal::user(BOB),
                Decision::Approved,
                &dir,
                T0
            )
            .is_err());
        assert_eq!(wf.request.status, RequestStatus::Pending);
        wf.resolve_task(
            &task.id,
            &Principal::user(BOB),
            Decision::Approved,
            &dir,
            T0,
        )
        .unwrap();
        assert_eq!(wf.request.status, RequestStatus::Approved);
    }

    /// Alice's request raised by `requested_by`, one step: the approvers group (Bob, Carol).
    fn raised_by(requested_by: Principal, dir: &FakeDirectory) -> RequestWorkflow {
        let mut wf = new_request(ALICE);
        wf.request.requested_by = requested_by;
        let steps = vec![step(Approver::Group {
            id: "00gapprovers0000000a".into(),
        })];
        wf.start(steps, None, dir, T0).unwrap();
        wf
    }

    #[test]
    fn whoever_requested_never_decides_whatever_kind_of_principal() {
        const BOT: &str = "0oabot00000000000000";
        const OTHER_BOT: &str = "0oaotherbot000000000";
        let dir = directory();
        // A user with an admin role (their own token, or an SSWS token acting as them), and a
        // service app with client credentials.
        for requester in [Principal::user(MANAGER), Principal::client(BOT)] {
            let mut wf = raised_by(requester.clone(), &dir);
            let before = wf.clone();
            let task = open_task_id(&wf);
            for decision in [Decision::Approved, Decision::Denied] {
                let err = wf
                    .resolve_task_as_admin(&task, &requester, decision, &dir, T0 + 1)
                    .unwrap_err();
                assert!(matches!(err, RuleError::Forbidden(_)), "{err:?}");
                assert!(
                    err.detail().causes[0].contains("cannot decide their own request"),
                    "{err:?}"
                );
                assert_eq!(wf, before, "a refused decision changes nothing");
            }
            // Nor as the one the request is for.
            assert!(matches!(
                wf.resolve_task_as_admin(
                    &task,
                    &Principal::user(ALICE),
                    Decision::Approved,
                    &dir,
                    T0
                ),
                Err(RuleError::Forbidden(_))
            ));
            assert_eq!(wf, before);
        }
        // Types are compared, not just ids: a service app does not pass for a user of the same
        // id, nor the other way round.
        let wf = raised_by(Principal::client(BOT), &dir);
        assert!(wf.request.is_requester(&Principal::client(BOT)));
        assert!(!wf.request.is_requester(&Principal::user(BOT)));
        assert!(!wf.request.is_requester(&Principal::client(OTHER_BOT)));
        assert!(wf.request.is_requester(&Principal::user(ALICE)));
        assert!(!wf.request.is_requester(&Principal::client(ALICE)));
    }

    #[test]
    fn another_principal_decides_and_is_recorded_as_what_it_is() {
        const BOT: &str = "0oabot00000000000000";
        const OTHER_BOT: &str = "0oaotherbot000000000";
        let dir = directory();
        // An app's request, decided by another app's override.
        let mut wf = raised_by(Principal::client(BOT), &dir);
        let task = open_task_id(&wf);
        wf.resolve_task_as_admin(
            &task,
            &Principal::client(OTHER_BOT),
            Decision::Approved,
            &dir,
            T0 + 1,
        )
        .unwrap();
        assert_eq!(wf.request.status, RequestStatus::Approved);
        let json = serde_json::to_value(&wf.tasks[0]).unwrap();
        let app = serde_json::json!({"externalId": OTHER_BOT, "type": "UNKNOWN"});
        assert_eq!(json["completedBy"], app);
        assert_eq!(
            json["assignees"],
            serde_json::json!([
                {"externalId": BOB, "type": "OKTA_USER"},
                {"externalId": CAROL, "type": "OKTA_USER"},
                app,
            ])
        );
        assert_eq!(wf.request.last_updated_by, OTHER_BOT);

        // An app's request, decided by a user's override (an admin outside the group); and a
        // user's request decided by an app: each recorded as the principal it is.
        let mut wf = raised_by(Principal::client(BOT), &dir);
        let task = open_task_id(&wf);
        wf.resolve_task_as_admin(&task, &Principal::user(MANAGER), Decision::Denied, &dir, T0)
            .unwrap();
        assert_eq!(wf.request.status, RequestStatus::Denied);
        assert_eq!(wf.tasks[0].completed_by, Some(Principal::user(MANAGER)));
        let mut wf = raised_by(Principal::user(MANAGER), &dir);
        let task = open_task_id(&wf);
        wf.resolve_task_as_admin(&task, &Principal::client(BOT), Decision::Approved, &dir, T0)
            .unwrap();
        assert_eq!(wf.tasks[0].completed_by, Some(Principal::client(BOT)));
        // An assignee needs no override: it is not added twice.
        let mut wf = raised_by(Principal::client(BOT), &dir);
        let task = open_task_id(&wf);
        wf.resolve_task_as_admin(&task, &Principal::user(BOB), Decision::Approved, &dir, T0)
            .unwrap();
        assert_eq!(wf.tasks[0].assignees.len(), 2);
        // Without the override (an end user's resolve), a stranger is still refused.
        let mut wf = raised_by(Principal::client(BOT), &dir);
        let task = open_task_id(&wf);
        let err = wf
            .resolve_task(
                &task,
                &Principal::client(OTHER_BOT),
                Decision::Approved,
                &dir,
                T0,
            )
            .unwrap_err();
        assert!(err.detail().causes[0].contains("assignee"));
    }

    #[test]
    fn the_requester_on_behalf_of_someone_cannot_decide_either() {
        let dir = FakeDirectory::default().group("00gapprovers0000000a", &[MANAGER, BOB]);
        let mut wf = new_request(ALICE);
        wf.request.requested_by = Principal::user(MANAGER);
        wf.start(
            vec![step(Approver::Group {
                id: "00gapprovers0000000a".into(),
            })],
            None,
            &dir,
            T0,
        )
        .unwrap();
        assert_eq!(wf.tasks[0].assignees, [Principal::user(BOB)]);
    }

    #[test]
    fn an_unassignable_step_waits_in_assigning_until_reassigned() {
        let dir = directory();
        let mut wf = new_request(CAROL); // Carol has no manager
        let events = wf
            .start(vec![step(Approver::RequesterManager)], None, &dir, T0)
            .unwrap();
        assert!(
            matches!(&events[..], [AccessRequestEvent::TaskCreated { assignees, .. }] if assignees.is_empty())
        );
        let task = wf.current_task().unwrap().id.clone();
        assert_eq!(wf.tasks[0].status, TaskStatus::Assigning);
        assert!(wf
            .resolve_task(&task, &Principal::user(BOB), Decision::Approved, &dir, T0)
            .is_err());

        let err = wf
            .reassign_task(&task, &[CAROL.into()], &dir, T0)
            .unwrap_err();
        assert_eq!(
            err.detail().summary,
            "Task update failed: All provided assignee ids are invalid."
        );
        wf.reassign_task(&task, &[CAROL.into(), BOB.into(), BOB.into()], &dir, T0 + 1)
            .unwrap();
        assert_eq!(wf.tasks[0].assignees, [Principal::user(BOB)]);
        assert_eq!(wf.tasks[0].status, TaskStatus::Open);
        wf.resolve_task(
            &task,
            &Principal::user(BOB),
            Decision::Approved,
            &dir,
            T0 + 2,
        )
        .unwrap();
        assert_eq!(wf.request.status, RequestStatus::Approved);
    }

    #[test]
    fn cancel_only_before_any_decision() {
        let dir = directory();
        let mut wf = two_steps(&dir, None);
        let events = wf.cancel(ALICE, T0 + 5).unwrap();
        assert!(matches!(&events[..], [AccessRequestEvent::Canceled { .. }]));
        assert_eq!(wf.request.status, RequestStatus::Canceled);
        assert_eq!(wf.tasks[0].status, TaskStatus::Completed);
        let err = wf.cancel(ALICE, T0 + 6).unwrap_err();
        assert_eq!(
            err.detail().summary,
            "Request update failed: request status is already CANCELED."
        );

        let mut wf = two_steps(&dir, None);
        let first = open_task_id(&wf);
        wf.resolve_task(
            &first,
            &Principal::user(MANAGER),
            Decision::Approved,
            &dir,
            T0 + 2,
        )
        .unwrap();
        let err = wf.cancel(ALICE, T0 + 3).unwrap_err();
        assert!(matches!(err, RuleError::Refused(_)));
        assert!(err.detail().causes[0].contains("already resolved"));
    }

    #[test]
    fn pending_requests_expire_at_the_deadline() {
        let dir = directory();
        let mut wf = two_steps(&dir, None);
        let deadline = 7 * DAY;
        assert!(wf.expire_if_due(T0 + deadline - 1, deadline).is_empty());
        assert_eq!(wf.request.status, RequestStatus::Pending);
        let events = wf.expire_if_due(T0 + deadline, deadline);
        assert!(matches!(&events[..], [AccessRequestEvent::Expired { .. }]));
        assert_eq!(wf.request.status, RequestStatus::Expired);
        assert_eq!(wf.request.resolved, Some(T0 + deadline));
        assert_eq!(wf.current_task(), None);
        assert!(
            wf.expire_if_due(T0 + 2 * deadline, deadline).is_empty(),
            "expires once"
        );
        let first = wf.tasks[0].id.clone();
        assert!(wf
            .resolve_task(
                &first,
                &Principal::user(MANAGER),
                Decision::Approved,
                &dir,
                T0 + deadline
            )
            .is_err());
    }

    #[test]
    fn a_decision_after_the_deadline_expires_the_request_and_is_refused() {
        let dir = directory();
        let mut wf = two_steps(&dir, None);
        let deadline = 7 * 86_400_000;
        assert!(wf
            .expire_past_deadline(T0 + deadline - 1, deadline, "Task resolve failed")
            .is_none());
        assert_eq!(wf.request.status, RequestStatus::Pending);
        let (events, err) = wf
            .expire_past_deadline(T0 + deadline, deadline, "Task resolve failed")
            .unwrap();
        assert!(matches!(&events[..], [AccessRequestEvent::Expired { .. }]));
        assert!(matches!(err, RuleError::Refused(_)), "{err:?}");
        assert_eq!(wf.request.status, RequestStatus::Expired);
        assert!(wf.tasks.iter().all(|t| t.status == TaskStatus::Completed));
        assert!(wf.request.grant_status.is_none());
        // Already concluded: nothing more to expire, and the task is closed.
        assert!(wf
            .expire_past_deadline(T0 + 2 * deadline, deadline, "x")
            .is_none());
        let task = wf.tasks[0].id.clone();
        assert!(matches!(
            wf.resolve_task(
                &task,
                &Principal::user(MANAGER),
                Decision::Approved,
                &dir,
                T0 + deadline
            ),
            Err(RuleError::Refused(_))
        ));
    }

    #[test]
    fn time_bound_grants_schedule_their_revocation() {
        let dir = directory();
        let mut wf = two_steps(&dir, Some("PT90M"));
        assert_eq!(wf.request.access_duration.as_deref(), Some("PT90M"));
        assert!(wf.grant_succeeded(T0).is_err(), "not approved yet");
        for approver in [MANAGER, BOB] {
            let task = open_task_id(&wf);
            wf.resolve_task(
                &task,
                &Principal::user(approver),
                Decision::Approved,
                &dir,
                T0 + 10,
            )
            .unwrap();
        }
        // A failed grant can be retried.
        wf.grant_failed(false, T0 + 20).unwrap();
        assert_eq!(wf.request.grant_status, Some(GrantStatus::Failed));
        let granted = T0 + 1_000;
        let events = wf.grant_succeeded(granted).unwrap();
        let due = granted + 90 * 60_000;
        assert_eq!(
            events,
            [AccessRequestEvent::AccessGranted {
                request_id: wf.request.id.clone(),
                revocation_scheduled: Some(due)
            }]
        );
        assert_eq!(wf.request.granted, Some(granted));
        assert_eq!(wf.request.revocation_scheduled, Some(due));
        assert!(wf.grant_succeeded(granted).is_err(), "granted once");

        assert!(!wf.revocation_due(due - 1));
        assert!(wf.revocation_due(due));
        wf.revocation_failed(due).unwrap();
        assert!(wf.revocation_due(due + 1), "a failed revocation stays due");
        wf.revoked(due + 2).unwrap();
        assert_eq!(
            wf.request.revocation_status,
            Some(RevocationStatus::Revoked)
        );
        assert_eq!(wf.request.revoked, Some(due + 2));
        assert!(!wf.revocation_due(due + 3));
        assert!(wf.revoked(due + 3).is_err());
    }

    #[test]
    fn permanent_grants_are_never_due() {
        let mut wf = new_request(ALICE);
        wf.start(vec![], None, &directory(), T0).unwrap();
        wf.grant_succeeded(T0).unwrap();
        assert_eq!(wf.request.revocation_scheduled, None);
        assert!(!wf.revocation_due(i64::MAX));
        // An admin may still revoke it.
        wf.revoked(T0 + DAY).unwrap();
    }

    #[test]
    fn task_values_parse_as_okta_accepts_them() {
        assert_eq!(
            Decision::from_task_value(Some("APPROVED")),
            Ok(Decision::Approved)
        );
        assert_eq!(
            Decision::from_task_value(Some("DENIED")),
            Ok(Decision::Denied)
        );
        let err = Decision::from_task_value(Some("approve")).unwrap_err();
        assert_eq!(
            err.detail().summary,
            "Task resolve failed: Approval value must be either APPROVED or DENIED."
        );
        assert!(Decision::from_task_value(None).is_err());
    }

    /// Deserialising each example and serialising it back gives the example (minus `_links`,
    /// with date-times compared as instants).
    fn round_trips<T: serde::de::DeserializeOwned + Serialize>(spec: &str, examples: &[&str]) {
        for name in examples {
            let example = spec_example(spec, name);
            let parsed: T =
                serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            let back: Value = serde_json::to_value(&parsed).unwrap();
            assert_eq!(normalise(&back), normalise(&example), "{name}");
        }
    }

    #[test]
    fn requests_and_tasks_serialise_as_the_spec_examples() {
        let v2 = "governance-production-requests-admin-v2-reference-minimal";
        round_trips::<RequestV2>(
            v2,
            &[
                "request-00-create-no-fields-client-credential-example-full",
                "request-get-submitted",
                "request-get-pending",
                "request-get-rejected",
                "request-get-pending-with-client-credentials",
                "request-update-status-canceled",
            ],
        );
        round_trips::<Task>(
            v2,
            &[
                "task-get-open-task",
                "task-get-completed-task",
                "task-get-assigning-task",
                "task-get-locked-task",
                "task-get-escalated-task",
            ],
        );
        let enduser = "governance-production-enduser-reference-minimal";
        round_trips::<RequestV2>(enduser, &["request-get-pending"]);
        round_trips::<Task>(enduser, &["task-get-open-task"]);
    }

    #[test]
    fn a_workflow_request_uses_the_spec_field_names() {
        let dir = directory();
        let mut wf = two_steps(&dir, Some("P40D"));
        let task = open_task_id(&wf);
        wf.resolve_task(
            &task,
            &Principal::user(MANAGER),
            Decision::Approved,
            &dir,
            T0 + 2,
        )
        .unwrap();
        let task = open_task_id(&wf);
        wf.resolve_task(
            &task,
            &Principal::user(BOB),
            Decision::Approved,
            &dir,
            T0 + 3,
        )
        .unwrap();
        wf.grant_succeeded(T0 + 4).unwrap();
        let json = serde_json::to_value(&wf.request).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "id",
            "created",
            "createdBy",
            "lastUpdated",
            "lastUpdatedBy",
            "status",
            "resolved",
            "grantStatus",
            "granted",
            "revocationScheduled",
            "requestedBy",
            "requestedFor",
            "requested",
            "accessDuration",
            "requestApproval",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        assert_eq!(json["status"], "APPROVED");
        assert_eq!(json["grantStatus"], "GRANTED");
        assert_eq!(json["accessDuration"], "P40D");
        assert_eq!(
            json["requestedFor"],
            serde_json::json!({"externalId": ALICE, "type": "OKTA_USER"})
        );
        assert_eq!(json["requested"]["accessScopeType"], "APPLICATION");
        assert_eq!(
            json["requestApproval"]["decisions"][1]["decision"],
            "APPROVE"
        );
        assert_eq!(json["requestApproval"]["decisions"][1]["deciderId"], BOB);
        assert_eq!(json["granted"], crate::timefmt::format_millis(T0 + 4));
        let task = serde_json::to_value(&wf.tasks[1]).unwrap();
        assert_eq!(task["type"], "APPROVAL");
        assert_eq!(task["value"], "APPROVED");
        assert_eq!(task["completedBy"]["externalId"], BOB);
        assert_eq!(task["requestId"], wf.request.id.as_str());
        // The whole workflow round-trips for storage.
        let stored = serde_json::to_string(&wf).unwrap();
        assert_eq!(
            serde_json::from_str::<RequestWorkflow>(&stored).unwrap(),
            wf
        );
    }
}
