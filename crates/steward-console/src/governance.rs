//! Identity Governance > Access Requests, the admin's side: the requests inbox (every v2 request,
//! newest first, by status and words) and a request with its history and tasks, where an admin
//! who is an assignee of the open task approves or denies it and an access requests admin
//! reassigns it; the resources (apps) with their request conditions (create, edit, activate,
//! deactivate, delete) and request settings; the approval sequences; the org's request settings.
//!
//! Pages need `AccessRequestsRead`, changes `AccessRequestsManage` (checked again on every POST,
//! with the session's CSRF token). Every change goes through the use cases of
//! `steward_app::governance` that the Access Requests API calls, so the rules (and the System Log
//! entries) are the API's: a decision is an assignee's (`Decider::Assignee`, as on `/app`: only
//! an assignee decides, never the requester).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_app::governance::requests::{self, ApiVersion, InboxQuery, NewMessage};
use steward_app::governance::tasks::{self, Decider};
use steward_app::governance::{conditions, sequences, settings};
use steward_app::AppError;
use steward_core::access_requests::conditions::{
    AccessDurationSettings, AccessScopeSettings, ApprovalStep, Approver, ConditionStatus, IdRef,
    OnBehalfOfType, OrgRequestSettingsPatch, RequestConditionCreate, RequestConditionPatch,
    RequestOnBehalfOfSettings, RequestSequence, RequesterSettings, ResourceRequestSettings,
    ResourceRequestSettingsPatch,
};
use steward_core::access_requests::workflow::{Decision, RequestStatus, Task, TaskStatus};
use steward_core::access_requests::{Principal, RequestCondition, RequestWorkflow};
use steward_core::apps::App;
use steward_core::roles::Permission;
use steward_core::validation::ValidationError;
use steward_store::{GroupQuery, StoreError};

use crate::pages::{self, encode, render, see_other};
use crate::request_history::{self, duration_label, request_json, when, Names};
use crate::session::Admin;
use crate::Console;

/// Requests and resources per page.
const PAGE: usize = 25;
/// Groups a condition's form offers at most.
const GROUP_CHOICES: usize = 200;
/// The longest comment an approver may leave (a request message's limit).
const COMMENT_MAX_CHARS: usize = requests::MESSAGE_MAX_CHARS;

const READ: Permission = Permission::AccessRequestsRead;
const MANAGE: Permission = Permission::AccessRequestsManage;

/// The statuses the inbox filters by, in the order a request goes through them.
const STATUSES: [RequestStatus; 7] = [
    RequestStatus::Submitted,
    RequestStatus::Pending,
    RequestStatus::Approved,
    RequestStatus::Denied,
    RequestStatus::Rejected,
    RequestStatus::Canceled,
    RequestStatus::Expired,
];

/// The common context of a governance page: the admin, the section and the tab.
fn page(admin: &Admin, tab: &str, mut extra: Value) -> Value {
    extra["me"] = serde_json::to_value(admin.me()).unwrap_or_default();
    extra["section"] = json!("governance");
    extra["tab"] = json!(tab);
    extra["may_manage"] = json!(admin.may(MANAGE));
    extra
}

/// Why the admin's changes are disabled, when they are.
fn manage_reason(admin: &Admin, what: &str) -> Option<String> {
    (!admin.may(MANAGE)).then(|| {
        format!(
            "{what} needs the {} role or one above it; your roles: {}.",
            steward_core::roles::least_role_for(MANAGE).label(),
            admin.role_labels()
        )
    })
}

/// A refusal in words: the summary and causes of a rule or validation error.
fn explain(e: &AppError) -> String {
    let v = match e {
        AppError::Validation(v) => v,
        AppError::Rule(r) => r.detail(),
        other => return other.to_string(),
    };
    let mut text = v.summary.clone();
    for cause in v.causes.iter().filter(|c| **c != v.summary) {
        text.push_str(". ");
        text.push_str(cause);
    }
    text
}

/// Whether a use case refused what was asked (the page says why), rather than failing.
fn refused(e: &AppError) -> bool {
    matches!(e, AppError::Validation(_) | AppError::Rule(_))
}

fn store_error(e: StoreError) -> Response {
    pages::app_error(e.into())
}

/// Every field of a form, in order (a multiple select sends one per choice).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// `GET /admin/governance`: the requests inbox.
pub async fn home() -> Response {
    see_other("/admin/governance/requests")
}

// ---------------------------------------------------------------------------------------------
// The requests inbox and a request

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InboxParams {
    status: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

fn parse_status(s: &str) -> Option<RequestStatus> {
    STATUSES.into_iter().find(|st| st.as_str() == s)
}

/// `GET /admin/governance/requests?status=&q=&after=`: every v2 request, newest first.
pub async fn inbox(
    State(console): State<Console>,
    admin: Admin,
    Query(p): Query<InboxParams>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing access requests") {
        return refused;
    }
    let status_text = p.status.as_deref().map(str::trim).unwrap_or_default();
    let status = match status_text {
        "" => None,
        s => match parse_status(s) {
            Some(st) => Some(st),
            None => {
                return pages::message(
                    StatusCode::BAD_REQUEST,
                    "Unknown status",
                    &format!("{s} is not a status of access requests."),
                )
            }
        },
    };
    let q = p.q.as_deref().map(str::trim).unwrap_or_default();
    let store = &console.api.store;
    let query = InboxQuery {
        status,
        q: Some(q.to_string()),
        after: p.after.clone(),
        limit: PAGE,
    };
    let found = match requests::inbox(store, &query).await {
        Ok(p) => p,
        Err(e) => return pages::app_error(e),
    };
    let refs: Vec<&RequestWorkflow> = found.items.iter().collect();
    let names = match Names::load(&console, &refs, &[]).await {
        Ok(n) => n,
        Err(e) => return store_error(e),
    };
    let rows: Vec<Value> = found
        .items
        .iter()
        .map(|wf| {
            let mut row = request_json(wf, &names);
            row["waiting_for"] = json!(wf.current_task().map(|t| assignee_names(t, &names)));
            row
        })
        .collect();
    let next = found.next.map(|after| {
        format!(
            "/admin/governance/requests?status={}&q={}&after={}",
            encode(status_text),
            encode(q),
            encode(&after)
        )
    });
    let statuses: Vec<Value> = STATUSES
        .iter()
        .map(|s| json!({"value": s.as_str(), "label": status_word(*s), "selected": Some(*s) == status}))
        .collect();
    render(
        StatusCode::OK,
        "gov_requests.html",
        page(
            &admin,
            "requests",
            json!({"requests": rows, "q": q, "statuses": statuses, "next": next, "filtered": status.is_some() || !q.is_empty()}),
        ),
    )
}

fn status_word(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::Submitted => "Submitted",
        RequestStatus::Pending => "Pending approval",
        RequestStatus::Approved => "Approved",
        RequestStatus::Denied => "Denied",
        RequestStatus::Rejected => "Rejected",
        RequestStatus::Canceled => "Canceled",
        RequestStatus::Expired => "Expired",
    }
}

fn assignee_names(t: &Task, names: &Names) -> String {
    t.assignees
        .iter()
        .map(|p| names.user(&p.external_id))
        .collect::<Vec<_>>()
        .join(", ")
}

fn task_state(t: &Task) -> (&'static str, &'static str) {
    match (t.status, t.value.as_deref()) {
        (TaskStatus::Open, _) => ("Open", "open"),
        (TaskStatus::Assigning, _) => ("Waiting for an assignee", "pending"),
        (TaskStatus::Locked, _) => ("Locked", ""),
        (TaskStatus::Completed, Some("APPROVED")) => ("Approved", "approved"),
        (TaskStatus::Completed, Some("DENIED")) => ("Denied", "denied"),
        (TaskStatus::Completed, _) => ("Closed", ""),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestParams {
    decided: Option<String>,
    reassigned: Option<String>,
}

/// `GET /admin/governance/requests/{requestId}`: the request, its tasks and its history.
pub async fn request(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(p): Query<RequestParams>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing access requests") {
        return refused;
    }
    let notice = match (p.decided.as_deref(), p.reassigned.is_some()) {
        (Some("APPROVED"), _) => Some("You approved it."),
        (Some("DENIED"), _) => Some("You denied it."),
        (_, true) => Some("The task was reassigned."),
        _ => None,
    };
    render_request(&console, &admin, &id, StatusCode::OK, notice, None, "").await
}

async fn render_request(
    console: &Console,
    admin: &Admin,
    id: &str,
    status: StatusCode,
    notice: Option<&str>,
    problem: Option<String>,
    assignees_typed: &str,
) -> Response {
    let wf = match requests::get(&console.api.store, id).await {
        Ok(wf) => wf,
        Err(e) => return pages::app_error(e),
    };
    let (names, history) = match request_history::load(console, &wf).await {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let me = Principal::user(&admin.user.id);
    let task_rows: Vec<Value> = wf
        .tasks
        .iter()
        .map(|t| {
            let (state, class) = task_state(t);
            json!({
                "id": t.id,
                "label": t.label,
                "state": state,
                "state_class": class,
                "assignees": assignee_names(t, &names),
                "completed_by": t.completed_by.as_ref().map(|p| names.user(&p.external_id)),
                "created": when(t.created_at),
                "updated": when(t.updated_at),
            })
        })
        .collect();
    let open = wf.current_task();
    let may_manage = admin.may(MANAGE);
    let is_requester = wf.request.is_requester(&me);
    let decide_reason = open.and_then(|t| {
        if let Some(why) = manage_reason(admin, "Deciding a request here") {
            Some(format!(
                "{why} As an assignee you can decide it in your dashboard, under My tasks."
            ))
        } else if is_requester {
            Some("You requested this access: a requester never decides their own request.".into())
        } else if t.status != TaskStatus::Open {
            Some("Nobody is assigned to this step yet: reassign it first.".into())
        } else if !t.is_assignee(&me) {
            Some(format!(
                "Only the task's assignees decide it ({}). An access requests administrator may \
                 reassign it.",
                assignee_names(t, &names)
            ))
        } else {
            None
        }
    });
    let reassign_reason = manage_reason(admin, "Reassigning a task");
    render(
        status,
        "gov_request.html",
        page(
            admin,
            "requests",
            json!({
                "request": request_json(&wf, &names),
                "tasks": task_rows,
                "open_task": open.map(|t| json!({"id": t.id, "label": t.label, "assignees": assignee_names(t, &names)})),
                "decide_reason": decide_reason,
                "reassign_reason": reassign_reason,
                "may_manage": may_manage,
                "history": history,
                "notice": notice,
                "problem": problem,
                "assignees_typed": assignees_typed,
                "comment_max": COMMENT_MAX_CHARS,
            }),
        ),
    )
}

/// The task `task_id` of request `request_id` (another request's task: 404).
async fn task_of(console: &Console, request_id: &str, task_id: &str) -> Result<Task, Response> {
    match console.api.store.access_requests().task(task_id).await {
        Ok(t) if t.request_id == request_id => Ok(t),
        Ok(_) | Err(StoreError::NotFound) => Err(pages::app_error(AppError::NotFound(format!(
            "{task_id} (Task)"
        )))),
        Err(e) => Err(store_error(e)),
    }
}

/// `POST /admin/governance/requests/{requestId}/tasks/{taskId}/resolve` (`csrf`, `decision`
/// APPROVED or DENIED, `comment`): the admin decides the task as its assignee, as on `/app`
/// (only an assignee decides, never the requester); the comment is then added to the request's
/// messages.
pub async fn resolve(
    State(console): State<Console>,
    admin: Admin,
    Path((id, task_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Deciding an access request",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let t = match task_of(&console, &id, &task_id).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let me = Principal::user(&admin.user.id);
    if !t.is_assignee(&me) {
        return pages::message(
            StatusCode::FORBIDDEN,
            "You may not do this",
            "Only the task's assignees decide it. Reassign it first if you should decide it.",
        );
    }
    let decision = match Decision::from_task_value(form.get("decision").map(String::as_str)) {
        Ok(d) => d,
        Err(e) => return pages::app_error(e.into()),
    };
    let comment = form
        .get("comment")
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > COMMENT_MAX_CHARS)
    {
        let why = format!("A comment has at most {COMMENT_MAX_CHARS} characters.");
        return render_request(
            &console,
            &admin,
            &id,
            StatusCode::BAD_REQUEST,
            None,
            Some(why),
            "",
        )
        .await;
    }
    let ctx = admin.ctx(&console);
    if let Err(e) = tasks::resolve(&ctx, &task_id, &Decider::Assignee(me), decision).await {
        return pages::app_error(e);
    }
    if let Some(text) = comment {
        let message = NewMessage {
            message: Some(text),
            audience: None,
        };
        if let Err(e) = requests::add_message(&ctx, &id, ApiVersion::V2, message).await {
            return pages::app_error(e);
        }
    }
    see_other(&format!(
        "/admin/governance/requests/{}?decided={}",
        encode(&id),
        decision.as_str()
    ))
}

/// `POST /admin/governance/requests/{requestId}/tasks/{taskId}/reassign` (`csrf`, `assignees`:
/// logins or user ids, separated by commas, spaces or lines): gives the open task to those users
/// (`tasks::reassign`, as `PATCH /v2/tasks/{taskId}`).
pub async fn reassign(
    State(console): State<Console>,
    admin: Admin,
    Path((id, task_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(&console, &headers, &body, MANAGE, "Reassigning a task") {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    if let Err(r) = task_of(&console, &id, &task_id).await {
        return r;
    }
    let typed = form.get("assignees").cloned().unwrap_or_default();
    let store = &console.api.store;
    let mut ids = vec![];
    let mut unknown = vec![];
    for word in typed
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let found = if word.contains('@') {
            store.user_by_login(word).await
        } else {
            store.user(word).await
        };
        match found {
            Ok(u) => ids.push(u.id),
            Err(StoreError::NotFound) => unknown.push(word.to_string()),
            Err(e) => return store_error(e),
        }
    }
    let problem = if !unknown.is_empty() {
        Some(format!(
            "No user has the login or id {}.",
            unknown.join(", ")
        ))
    } else if ids.is_empty() {
        Some("Name at least one user to assign the task to.".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        return render_request(
            &console,
            &admin,
            &id,
            StatusCode::BAD_REQUEST,
            None,
            Some(problem),
            &typed,
        )
        .await;
    }
    match tasks::reassign(&admin.ctx(&console), &task_id, &ids).await {
        Ok(_) => see_other(&format!(
            "/admin/governance/requests/{}?reassigned=1",
            encode(&id)
        )),
        Err(e) if refused(&e) => {
            render_request(
                &console,
                &admin,
                &id,
                StatusCode::CONFLICT,
                None,
                Some(explain(&e)),
                &typed,
            )
            .await
        }
        Err(e) => pages::app_error(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Resources and their request conditions

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResourcesParams {
    q: Option<String>,
    after: Option<String>,
}

/// `GET /admin/governance/resources?q=&after=`: the apps that carry request conditions (the
/// only resources Steward's conditions apply to), with their conditions and whether requests
/// are on (an ACTIVE condition puts the app in the catalog).
pub async fn resources(
    State(console): State<Console>,
    admin: Admin,
    Query(p): Query<ResourcesParams>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing access request resources") {
        return refused;
    }
    let search = p.q.as_deref().map(str::trim).unwrap_or_default();
    let after = p.after.clone().filter(|a| !a.is_empty());
    let found = match conditions::resources(
        &console.api.store,
        (!search.is_empty()).then_some(search),
        after,
        PAGE,
    )
    .await
    {
        Ok(f) => f,
        Err(e) => return pages::app_error(e),
    };
    let rows: Vec<Value> = found
        .items
        .iter()
        .map(|(app, conds)| {
            let active = conds
                .iter()
                .filter(|c| c.status == ConditionStatus::Active)
                .count();
            json!({
                "id": app.id,
                "label": app.label,
                "conditions": conds.len(),
                "active": active,
            })
        })
        .collect();
    let next = found.next.map(|last| {
        format!(
            "/admin/governance/resources?q={}&after={}",
            encode(search),
            encode(&last)
        )
    });
    render(
        StatusCode::OK,
        "gov_resources.html",
        page(
            &admin,
            "resources",
            json!({"resources": rows, "q": search, "next": next}),
        ),
    )
}

/// Names of groups and sequences a resource's conditions show.
struct ConditionNames {
    groups: HashMap<String, String>,
    sequences: Vec<RequestSequence>,
}

impl ConditionNames {
    async fn load(console: &Console, conds: &[RequestCondition]) -> Result<Self, StoreError> {
        let store = &console.api.store;
        let mut ids: Vec<String> = vec![];
        for c in conds {
            if let RequesterSettings::Groups { groups } = &c.requester_settings {
                ids.extend(groups.iter().map(|g| g.id.clone()));
            }
            if let AccessScopeSettings::Groups { groups } = &c.access_scope_settings {
                ids.extend(groups.iter().map(|g| g.id.clone()));
            }
        }
        ids.sort();
        ids.dedup();
        let groups = store
            .groups_by_ids(&ids)
            .await?
            .into_iter()
            .map(|g| (g.id.clone(), g.name().to_string()))
            .collect();
        let sequences = store.access_requests().sequences().await?;
        Ok(ConditionNames { groups, sequences })
    }

    fn groups(&self, list: &[IdRef]) -> String {
        list.iter()
            .map(|r| {
                self.groups
                    .get(&r.id)
                    .cloned()
                    .unwrap_or_else(|| r.id.clone())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn sequence(&self, id: Option<&str>) -> Option<String> {
        let id = id?;
        Some(
            self.sequences
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| id.to_string()),
        )
    }
}

fn condition_json(c: &RequestCondition, app: &App, names: &ConditionNames) -> Value {
    let requesters = match &c.requester_settings {
        RequesterSettings::Everyone => "Everyone".to_string(),
        RequesterSettings::Groups { groups } => format!("Members of {}", names.groups(groups)),
        RequesterSettings::Teams { teams } => format!("{} team(s)", teams.len()),
    };
    let scope = match &c.access_scope_settings {
        AccessScopeSettings::ResourceDefault => format!("Access to {}", app.label),
        AccessScopeSettings::Groups { groups } => format!("Groups: {}", names.groups(groups)),
        AccessScopeSettings::EntitlementBundles {
            entitlement_bundles,
        } => format!("{} entitlement bundle(s)", entitlement_bundles.len()),
    };
    let duration = match &c.access_duration_settings {
        None => "Until revoked".to_string(),
        Some(AccessDurationSettings::AdminFixedDuration { duration }) => {
            format!("{} (set by the admin)", duration_label(duration))
        }
        Some(AccessDurationSettings::RequesterSpecifiedDuration { maximum_duration }) => {
            format!(
                "Chosen by the requester, at most {}",
                duration_label(maximum_duration)
            )
        }
    };
    let status = match c.status {
        ConditionStatus::Active => "ACTIVE",
        ConditionStatus::Inactive => "INACTIVE",
        ConditionStatus::Invalid => "INVALID",
        ConditionStatus::Deleted => "DELETED",
    };
    json!({
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "priority": c.priority,
        "status": status,
        "active": c.status == ConditionStatus::Active,
        "may_activate": c.status == ConditionStatus::Inactive && c.approval_sequence_id.is_some(),
        "requesters": requesters,
        "scope": scope,
        "sequence": names.sequence(c.approval_sequence_id.as_deref()),
        "sequence_id": c.approval_sequence_id,
        "duration": duration,
    })
}

fn settings_json(s: &ResourceRequestSettings) -> Value {
    let on_behalf = s.request_on_behalf_of_settings.as_ref();
    let d = &s.valid_access_duration_settings;
    json!({
        "requesters": s.valid_requester_settings.iter().map(|t| match t.kind {
            steward_core::access_requests::conditions::RequesterSettingsType::Everyone => "Everyone",
            steward_core::access_requests::conditions::RequesterSettingsType::Groups => "Groups",
            steward_core::access_requests::conditions::RequesterSettingsType::Teams => "Teams",
        }).collect::<Vec<_>>().join(", "),
        "scopes": s.valid_access_scope_settings.iter().map(|t| match t.kind {
            steward_core::access_requests::conditions::AccessScopeSettingsType::ResourceDefault => "The app itself",
            steward_core::access_requests::conditions::AccessScopeSettingsType::Groups => "Groups",
            steward_core::access_requests::conditions::AccessScopeSettingsType::EntitlementBundles => "Entitlement bundles",
        }).collect::<Vec<_>>().join(", "),
        "durations": format!(
            "Fixed or chosen by the requester; at most {} days, {} hours or {} weeks{}",
            d.maximum_days, d.maximum_hours, d.maximum_weeks,
            if d.required { " (required)" } else { "" }
        ),
        "on_behalf": on_behalf.is_some_and(|o| o.allowed),
        "direct_reports_only": on_behalf
            .and_then(|o| o.only_for.as_ref())
            .is_some_and(|o| o.contains(&OnBehalfOfType::DirectReport)),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResourceParams {
    done: Option<String>,
}

/// `GET /admin/governance/resources/{resourceId}`: the app's request conditions, by priority,
/// and its request settings.
pub async fn resource(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(p): Query<ResourceParams>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing access request resources") {
        return refused;
    }
    let store = &console.api.store;
    let (app, mut conds) = match conditions::list(store, &id).await {
        Ok(v) => v,
        Err(e) => return pages::app_error(e),
    };
    conds.sort_by_key(|c| c.priority);
    let s = match settings::of_resource(store, &app.id).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(e),
    };
    let names = match ConditionNames::load(&console, &conds).await {
        Ok(n) => n,
        Err(e) => return store_error(e),
    };
    let rows: Vec<Value> = conds
        .iter()
        .map(|c| condition_json(c, &app, &names))
        .collect();
    let notice = match p.done.as_deref() {
        Some("created") => Some("The condition was created. It is INACTIVE until you activate it."),
        Some("updated") => Some("The condition was saved."),
        Some("activated") => Some("The condition is active: its access is in the catalog."),
        Some("deactivated") => Some("The condition was deactivated."),
        Some("deleted") => Some("The condition was deleted."),
        Some("settings") => Some("The request settings were saved."),
        _ => None,
    };
    render(
        StatusCode::OK,
        "gov_resource.html",
        page(
            &admin,
            "resources",
            json!({
                "app": {"id": app.id, "label": app.label, "status": app.status},
                "conditions": rows,
                "settings": settings_json(&s),
                "notice": notice,
                "disabled_reason": manage_reason(&admin, "Changing request conditions and settings"),
            }),
        ),
    )
}

/// A condition's form as typed (kept to show it again with what was wrong).
#[derive(Default)]
struct ConditionForm {
    name: String,
    description: String,
    requester: String,
    requester_groups: Vec<String>,
    scope: String,
    scope_groups: Vec<String>,
    sequence: String,
    duration_type: String,
    duration_amount: String,
    duration_unit: String,
    priority: String,
}

impl ConditionForm {
    fn read(pairs: &[(String, String)]) -> ConditionForm {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let all = |k: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(key, v)| key == k && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect()
        };
        ConditionForm {
            name: one("name"),
            description: one("description"),
            requester: one("requester"),
            requester_groups: all("requester_group"),
            scope: one("scope"),
            scope_groups: all("scope_group"),
            sequence: one("sequence"),
            duration_type: one("duration_type"),
            duration_amount: one("duration_amount"),
            duration_unit: one("duration_unit"),
            priority: one("priority"),
        }
    }

    fn of(c: &RequestCondition) -> ConditionForm {
        let ids = |l: &[IdRef]| l.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        let (requester, requester_groups) = match &c.requester_settings {
            RequesterSettings::Groups { groups } => ("GROUPS", ids(groups)),
            _ => ("EVERYONE", vec![]),
        };
        let (scope, scope_groups) = match &c.access_scope_settings {
            AccessScopeSettings::Groups { groups } => ("GROUPS", ids(groups)),
            _ => ("RESOURCE_DEFAULT", vec![]),
        };
        let (duration_type, expr) = match &c.access_duration_settings {
            None => ("NONE", ""),
            Some(AccessDurationSettings::AdminFixedDuration { duration }) => {
                ("ADMIN_FIXED_DURATION", duration.as_str())
            }
            Some(AccessDurationSettings::RequesterSpecifiedDuration { maximum_duration }) => {
                ("REQUESTER_SPECIFIED_DURATION", maximum_duration.as_str())
            }
        };
        let (amount, unit) = split_duration(expr);
        ConditionForm {
            name: c.name.clone(),
            description: c.description.clone().unwrap_or_default(),
            requester: requester.into(),
            requester_groups,
            scope: scope.into(),
            scope_groups,
            sequence: c.approval_sequence_id.clone().unwrap_or_default(),
            duration_type: duration_type.into(),
            duration_amount: amount,
            duration_unit: unit,
            priority: c.priority.to_string(),
        }
    }

    /// The settings the form names, or what is wrong with it (the use case checks the rest).
    #[allow(clippy::type_complexity)]
    fn settings(
        &self,
    ) -> Result<
        (
            RequesterSettings,
            AccessScopeSettings,
            Option<AccessDurationSettings>,
            Option<u32>,
        ),
        ValidationError,
    > {
        let mut causes = vec![];
        let refs =
            |l: &[String]| -> Vec<IdRef> { l.iter().map(|id| IdRef { id: id.clone() }).collect() };
        let requester = match self.requester.as_str() {
            "" | "EVERYONE" => RequesterSettings::Everyone,
            "GROUPS" => RequesterSettings::Groups {
                groups: refs(&self.requester_groups),
            },
            other => {
                causes.push(format!("Who may request: {other} is not a choice."));
                RequesterSettings::Everyone
            }
        };
        let scope = match self.scope.as_str() {
            "" | "RESOURCE_DEFAULT" => AccessScopeSettings::ResourceDefault,
            "GROUPS" => AccessScopeSettings::Groups {
                groups: refs(&self.scope_groups),
            },
            other => {
                causes.push(format!("What may be requested: {other} is not a choice."));
                AccessScopeSettings::ResourceDefault
            }
        };
        let expr = || -> Option<String> {
            let amount: u32 = self.duration_amount.parse().ok().filter(|a| *a > 0)?;
            let unit = match self.duration_unit.as_str() {
                "H" => "PT{}H",
                "W" => "P{}W",
                _ => "P{}D",
            };
            Some(unit.replace("{}", &amount.to_string()))
        };
        let duration = match self.duration_type.as_str() {
            "" | "NONE" => None,
            kind @ ("ADMIN_FIXED_DURATION" | "REQUESTER_SPECIFIED_DURATION") => match expr() {
                None => {
                    causes.push(
                        "Access duration: give a whole number of days, hours or weeks above 0."
                            .to_string(),
                    );
                    None
                }
                Some(e) if kind == "ADMIN_FIXED_DURATION" => {
                    Some(AccessDurationSettings::AdminFixedDuration { duration: e })
                }
                Some(e) => Some(AccessDurationSettings::RequesterSpecifiedDuration {
                    maximum_duration: e,
                }),
            },
            other => {
                causes.push(format!("Access duration: {other} is not a choice."));
                None
            }
        };
        let priority = match self.priority.as_str() {
            "" => None,
            p => match p.parse::<u32>() {
                Ok(p) => Some(p),
                Err(_) => {
                    causes.push("Priority: give a whole number, 0 being the highest.".to_string());
                    None
                }
            },
        };
        if !causes.is_empty() {
            return Err(ValidationError {
                summary: "The condition's form".to_string(),
                causes,
            });
        }
        Ok((requester, scope, duration, priority))
    }
}

/// `P7D` as (7, D), `PT8H` as (8, H), `P2W` as (2, W).
fn split_duration(expr: &str) -> (String, String) {
    let digits: String = expr.chars().filter(char::is_ascii_digit).collect();
    let unit = expr
        .chars()
        .last()
        .map(|c| c.to_string())
        .unwrap_or_default();
    (digits, unit)
}

async fn render_condition_form(
    console: &Console,
    admin: &Admin,
    resource_id: &str,
    condition_id: Option<&str>,
    form: Option<ConditionForm>,
    status: StatusCode,
    errors: Option<ValidationError>,
) -> Response {
    let store = &console.api.store;
    let (app, conds) = match conditions::list(store, resource_id).await {
        Ok(v) => v,
        Err(e) => return pages::app_error(e),
    };
    let existing = match condition_id {
        None => None,
        Some(cid) => match conds.iter().find(|c| c.id == cid) {
            Some(c) => Some(c),
            None => {
                return pages::app_error(AppError::NotFound(format!("{cid} (RequestCondition)")))
            }
        },
    };
    let form = form
        .or_else(|| existing.map(ConditionForm::of))
        .unwrap_or_else(|| ConditionForm {
            requester: "EVERYONE".into(),
            scope: "GROUPS".into(),
            duration_type: "NONE".into(),
            duration_unit: "D".into(),
            ..Default::default()
        });
    let groups = match choosable_groups(&console.api.store).await {
        Ok(g) => g,
        Err(e) => return store_error(e),
    };
    let seqs = match sequences::list(store).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(e),
    };
    let group_rows: Vec<Value> = groups
        .iter()
        .map(|g| {
            json!({
                "id": g.id,
                "name": g.name(),
                "requester": form.requester_groups.contains(&g.id),
                "scope": form.scope_groups.contains(&g.id),
            })
        })
        .collect();
    let seq_rows: Vec<Value> = seqs
        .iter()
        .map(|s| json!({"id": s.id, "name": s.name, "selected": s.id == form.sequence, "steps": steps_summary(s)}))
        .collect();
    render(
        status,
        "gov_condition.html",
        page(
            admin,
            "resources",
            json!({
                "app": {"id": app.id, "label": app.label},
                "condition": existing.map(|c| json!({"id": c.id, "name": c.name})),
                "form": {
                    "name": form.name, "description": form.description,
                    "requester": form.requester, "scope": form.scope,
                    "duration_type": form.duration_type, "duration_amount": form.duration_amount,
                    "duration_unit": form.duration_unit, "priority": form.priority,
                },
                "groups": group_rows,
                "sequences": seq_rows,
                "errors": errors.map(|v| json!({"summary": v.summary, "causes": v.causes})),
                "disabled_reason": manage_reason(admin, "Changing request conditions"),
            }),
        ),
    )
}

/// `GET /admin/governance/resources/{resourceId}/conditions/new`: the form of a new condition.
pub async fn new_condition(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing request conditions") {
        return refused;
    }
    render_condition_form(&console, &admin, &id, None, None, StatusCode::OK, None).await
}

/// `GET /admin/governance/resources/{resourceId}/conditions/{conditionId}`: a condition's form.
pub async fn condition(
    State(console): State<Console>,
    admin: Admin,
    Path((id, cid)): Path<(String, String)>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing request conditions") {
        return refused;
    }
    render_condition_form(
        &console,
        &admin,
        &id,
        Some(&cid),
        None,
        StatusCode::OK,
        None,
    )
    .await
}

fn back_to_resource(resource_id: &str, done: &str) -> Response {
    see_other(&format!(
        "/admin/governance/resources/{}?done={done}",
        encode(resource_id)
    ))
}

/// A refused condition: its form again with the error causes (nothing was written).
async fn condition_refused(
    console: &Console,
    admin: &Admin,
    resource_id: &str,
    condition_id: Option<&str>,
    form: ConditionForm,
    e: AppError,
) -> Response {
    let v = match e {
        AppError::Validation(v) => v,
        AppError::Rule(r) => r.detail().clone(),
        other => return pages::app_error(other),
    };
    render_condition_form(
        console,
        admin,
        resource_id,
        condition_id,
        Some(form),
        StatusCode::BAD_REQUEST,
        Some(v),
    )
    .await
}

/// `POST /admin/governance/resources/{resourceId}/conditions`: creates a condition (INACTIVE),
/// through `conditions::create` (`POST …/request-conditions`).
pub async fn create_condition(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Creating a request condition",
    ) {
        return *refused;
    }
    let form = ConditionForm::read(&form_pairs(&body));
    let create =
        form.settings().map(
            |(requester, scope, duration, priority)| RequestConditionCreate {
                name: (!form.name.is_empty()).then(|| form.name.clone()),
                description: (!form.description.is_empty()).then(|| form.description.clone()),
                requester_settings: Some(requester),
                access_scope_settings: Some(scope),
                access_duration_settings: duration,
                approval_sequence_id: (!form.sequence.is_empty()).then(|| form.sequence.clone()),
                priority,
            },
        );
    match conditions::create(&admin.ctx(&console), &id, create).await {
        Ok((app, _)) => back_to_resource(&app.id, "created"),
        Err(e) => condition_refused(&console, &admin, &id, None, form, e).await,
    }
}

/// `POST /admin/governance/resources/{resourceId}/conditions/{conditionId}`: saves the form
/// (`conditions::update`, `PATCH …/request-conditions/{id}`).
pub async fn update_condition(
    State(console): State<Console>,
    admin: Admin,
    Path((id, cid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Changing a request condition",
    ) {
        return *refused;
    }
    let form = ConditionForm::read(&form_pairs(&body));
    let patch =
        form.settings().map(
            |(requester, scope, duration, priority)| RequestConditionPatch {
                name: Some(form.name.clone()),
                description: Some(form.description.clone()),
                requester_settings: Some(requester),
                access_scope_settings: Some(scope),
                access_duration_settings: Some(duration),
                approval_sequence_id: (!form.sequence.is_empty()).then(|| form.sequence.clone()),
                priority,
            },
        );
    match conditions::update(&admin.ctx(&console), &id, &cid, patch).await {
        Ok((app, _)) => back_to_resource(&app.id, "updated"),
        Err(e) => condition_refused(&console, &admin, &id, Some(&cid), form, e).await,
    }
}

/// `POST …/conditions/{conditionId}/activate`, `…/deactivate`.
async fn set_status(
    console: Console,
    admin: Admin,
    id: String,
    cid: String,
    headers: HeaderMap,
    body: Bytes,
    activate: bool,
) -> Response {
    let what = if activate {
        "Activating a request condition"
    } else {
        "Deactivating a request condition"
    };
    if let Err(refused) = admin.change_form(&console, &headers, &body, MANAGE, what) {
        return *refused;
    }
    match conditions::set_status(&admin.ctx(&console), &id, &cid, activate).await {
        Ok((app, _)) => {
            back_to_resource(&app.id, if activate { "activated" } else { "deactivated" })
        }
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/governance/resources/{resourceId}/conditions/{conditionId}/activate`.
pub async fn activate(
    State(console): State<Console>,
    admin: Admin,
    Path((id, cid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    set_status(console, admin, id, cid, headers, body, true).await
}

/// `POST /admin/governance/resources/{resourceId}/conditions/{conditionId}/deactivate`.
pub async fn deactivate(
    State(console): State<Console>,
    admin: Admin,
    Path((id, cid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    set_status(console, admin, id, cid, headers, body, false).await
}

/// `POST /admin/governance/resources/{resourceId}/conditions/{conditionId}/delete`.
pub async fn delete_condition(
    State(console): State<Console>,
    admin: Admin,
    Path((id, cid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Deleting a request condition",
    ) {
        return *refused;
    }
    match conditions::delete(&admin.ctx(&console), &id, &cid).await {
        Ok(()) => back_to_resource(&id, "deleted"),
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/governance/resources/{resourceId}/settings` (`on_behalf`, `direct_reports_only`
/// checkboxes): whether the app may be requested for someone else
/// (`settings::update_resource`, `PATCH …/request-settings`).
pub async fn update_resource_settings(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Changing a resource's request settings",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let on_behalf = form.contains_key("on_behalf");
    let direct = form.contains_key("direct_reports_only");
    let patch = ResourceRequestSettingsPatch {
        request_on_behalf_of_settings: Some(on_behalf.then(|| RequestOnBehalfOfSettings {
            allowed: true,
            only_for: direct.then(|| vec![OnBehalfOfType::DirectReport]),
        })),
        risk_settings: None,
    };
    match settings::update_resource(&admin.ctx(&console), &id, Ok(patch)).await {
        Ok(_) => back_to_resource(&id, "settings"),
        Err(e) => pages::app_error(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Sequences

/// Names of the users and groups sequences' steps name.
async fn approver_names(
    console: &Console,
    seqs: &[RequestSequence],
) -> Result<HashMap<String, String>, StoreError> {
    let store = &console.api.store;
    let mut names = HashMap::new();
    let (mut user_ids, mut group_ids) = (vec![], vec![]);
    for step in seqs.iter().flat_map(|s| s.steps.iter()) {
        for a in [Some(&step.approver), step.fallback.as_ref()]
            .into_iter()
            .flatten()
        {
            match a {
                Approver::User { id } => user_ids.push(id.clone()),
                Approver::Group { id } => group_ids.push(id.clone()),
                _ => {}
            }
        }
    }
    for u in store.users_by_ids(&user_ids).await? {
        names.insert(u.id.clone(), u.display_name());
    }
    for g in store.groups_by_ids(&group_ids).await? {
        names.insert(g.id.clone(), g.name().to_string());
    }
    Ok(names)
}

fn approver_words(a: &Approver, names: &HashMap<String, String>) -> String {
    let name = |id: &String| names.get(id).cloned().unwrap_or_else(|| id.clone());
    match a {
        Approver::RequesterManager => "The requester's manager".to_string(),
        Approver::User { id } => name(id),
        Approver::Group { id } => format!("Any member of {}", name(id)),
        Approver::ResourceOwner => "The owners of what is requested".to_string(),
    }
}

fn steps_json(s: &RequestSequence, names: &HashMap<String, String>) -> Vec<Value> {
    s.steps
        .iter()
        .enumerate()
        .map(|(i, step)| step_json(i, step, names))
        .collect()
}

fn step_json(i: usize, step: &ApprovalStep, names: &HashMap<String, String>) -> Value {
    json!({
        "number": i + 1,
        "label": step.label,
        "approver": approver_words(&step.approver, names),
        "fallback": step.fallback.as_ref().map(|f| approver_words(f, names)),
    })
}

/// "2 steps", "1 step": what a sequence's option says beside its name.
fn steps_summary(s: &RequestSequence) -> String {
    match s.steps.len() {
        1 => "1 step".to_string(),
        n => format!("{n} steps"),
    }
}

/// `GET /admin/governance/sequences`: every approval sequence with its steps in words, and the
/// form of a new one.
pub async fn sequence_list(
    State(console): State<Console>,
    admin: Admin,
    Query(p): Query<SequenceParams>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing approval sequences") {
        return refused;
    }
    let notice = p.deleted.is_some().then_some(
        "The sequence was deleted; the conditions that used it are INVALID until they name another.",
    );
    render_sequences(
        &console,
        &admin,
        StatusCode::OK,
        notice,
        SequenceForm::default(),
        None,
    )
    .await
}

/// Steps a sequence's form offers at least (a sequence with more shows them all).
const FORM_STEPS: usize = 3;
/// Steps a form is read for at most.
const MAX_FORM_STEPS: usize = 20;

/// A sequence's form as typed (new, or an existing one to edit).
#[derive(Default)]
struct SequenceForm {
    name: String,
    description: String,
    /// Per step: the approver type, a user's login, a group id, the label.
    steps: Vec<[String; 4]>,
}

impl SequenceForm {
    fn read(form: &HashMap<String, String>) -> SequenceForm {
        let get = |k: String| {
            form.get(&k)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        SequenceForm {
            name: get("name".into()),
            description: get("description".into()),
            steps: (0..(0..MAX_FORM_STEPS)
                .take_while(|i| form.contains_key(&format!("step{i}_approver")))
                .count()
                .max(FORM_STEPS))
                .map(|i| {
                    [
                        get(format!("step{i}_approver")),
                        get(format!("step{i}_user")),
                        get(format!("step{i}_group")),
                        get(format!("step{i}_label")),
                    ]
                })
                .collect(),
        }
    }

    /// The form of an existing sequence: its steps with users by login, and one more empty
    /// step to add.
    async fn of(console: &Console, s: &RequestSequence) -> Result<SequenceForm, StoreError> {
        let user_ids: Vec<String> = s
            .steps
            .iter()
            .filter_map(|step| match &step.approver {
                Approver::User { id } => Some(id.clone()),
                _ => None,
            })
            .collect();
        let logins: HashMap<String, String> = console
            .api
            .store
            .users_by_ids(&user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u.login().to_string()))
            .collect();
        let mut steps: Vec<[String; 4]> = s
            .steps
            .iter()
            .map(|step| {
                let label = step.label.clone().unwrap_or_default();
                match &step.approver {
                    Approver::RequesterManager => [
                        "REQUESTER_MANAGER".into(),
                        String::new(),
                        String::new(),
                        label,
                    ],
                    Approver::ResourceOwner => {
                        ["RESOURCE_OWNER".into(), String::new(), String::new(), label]
                    }
                    Approver::User { id } => [
                        "USER".into(),
                        logins.get(id).cloned().unwrap_or_else(|| id.clone()),
                        String::new(),
                        label,
                    ],
                    Approver::Group { id } => ["GROUP".into(), String::new(), id.clone(), label],
                }
            })
            .collect();
        let wanted = (steps.len() + 1).clamp(FORM_STEPS, MAX_FORM_STEPS);
        steps.resize_with(wanted.max(steps.len()), Default::default);
        Ok(SequenceForm {
            name: s.name.clone(),
            description: s.description.clone(),
            steps,
        })
    }

    /// The sequence the form describes (users named by login), or what is wrong with it. A
    /// step whose approver is the one `before` had at that place keeps its fallback (the form
    /// does not show fallbacks).
    async fn write(
        &self,
        console: &Console,
        before: Option<&RequestSequence>,
    ) -> Result<steward_core::access_requests::conditions::RequestSequenceWrite, AppError> {
        let mut causes = vec![];
        let mut steps = vec![];
        for (i, [kind, login, group, label]) in self.steps.iter().enumerate() {
            let approver = match kind.as_str() {
                "" => continue,
                "REQUESTER_MANAGER" => Approver::RequesterManager,
                "RESOURCE_OWNER" => Approver::ResourceOwner,
                "USER" => match console.api.store.user_by_login(login).await {
                    Ok(u) => Approver::User { id: u.id },
                    Err(StoreError::NotFound) => {
                        causes.push(format!("Step {}: no user has the login {login:?}.", i + 1));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                },
                "GROUP" if !group.is_empty() => Approver::Group { id: group.clone() },
                "GROUP" => {
                    causes.push(format!("Step {}: choose the group.", i + 1));
                    continue;
                }
                other => {
                    causes.push(format!("Step {}: {other} is not a choice.", i + 1));
                    continue;
                }
            };
            let fallback = before
                .and_then(|b| b.steps.get(i))
                .filter(|old| old.approver == approver)
                .and_then(|old| old.fallback.clone());
            steps.push(ApprovalStep {
                approver,
                fallback,
                label: (!label.is_empty()).then(|| label.clone()),
            });
        }
        if !causes.is_empty() {
            return Err(AppError::Validation(ValidationError {
                summary: "The sequence's form".into(),
                causes,
            }));
        }
        Ok(
            steward_core::access_requests::conditions::RequestSequenceWrite {
                name: (!self.name.is_empty()).then(|| self.name.clone()),
                description: (!self.description.is_empty()).then(|| self.description.clone()),
                compatible_resource_types: None,
                steps,
            },
        )
    }
}

impl SequenceForm {
    fn json(&self) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, [approver, user, group, label])| {
                json!({
                    "i": i,
                    "number": i + 1,
                    "approver": approver,
                    "user": user,
                    "group": group,
                    "label": label,
                })
            })
            .collect();
        json!({"name": self.name, "description": self.description, "steps": steps})
    }
}

/// The groups a form offers (the first [`GROUP_CHOICES`] by name).
async fn choosable_groups(
    store: &steward_store::Store,
) -> Result<Vec<steward_core::directory::Group>, StoreError> {
    store
        .groups(&GroupQuery {
            limit: GROUP_CHOICES,
            ..Default::default()
        })
        .await
}

fn group_choices(groups: &[steward_core::directory::Group]) -> Vec<Value> {
    groups
        .iter()
        .map(|g| json!({"id": g.id, "name": g.name()}))
        .collect()
}

async fn render_sequences(
    console: &Console,
    admin: &Admin,
    status: StatusCode,
    notice: Option<&str>,
    form: SequenceForm,
    errors: Option<ValidationError>,
) -> Response {
    let store = &console.api.store;
    let seqs = match sequences::list(store).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(e),
    };
    let names = match approver_names(console, &seqs).await {
        Ok(n) => n,
        Err(e) => return store_error(e),
    };
    let groups = match choosable_groups(&console.api.store).await {
        Ok(g) => g,
        Err(e) => return store_error(e),
    };
    let rows: Vec<Value> = seqs
        .iter()
        .map(|s| json!({"id": s.id, "name": s.name, "description": s.description, "steps": steps_json(s, &names)}))
        .collect();
    render(
        status,
        "gov_sequences.html",
        page(
            admin,
            "sequences",
            json!({
                "sequences": rows,
                "notice": notice,
                "form": form.json(),
                "groups": group_choices(&groups),
                "errors": errors.map(|v| json!({"summary": v.summary, "causes": v.causes})),
                "disabled_reason": manage_reason(admin, "Creating a sequence"),
            }),
        ),
    )
}

/// `POST /admin/governance/sequences` (`name`, `description`, `step{0..2}_approver`,
/// `_user` (a login), `_group`, `_label`): creates a sequence (`sequences::create`, Steward's
/// `POST /v2/request-sequences`); a refused form comes back with its causes.
pub async fn create_sequence(
    State(console): State<Console>,
    admin: Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Creating an approval sequence",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let typed = SequenceForm::read(&form);
    let created = match typed.write(&console, None).await {
        Ok(write) => sequences::create(&admin.ctx(&console), write, console.issuer()).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(s) => see_other(&format!("/admin/governance/sequences/{}", encode(&s.id))),
        Err(AppError::Validation(v)) => {
            render_sequences(
                &console,
                &admin,
                StatusCode::BAD_REQUEST,
                None,
                typed,
                Some(v),
            )
            .await
        }
        Err(e) => pages::app_error(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SequenceParams {
    deleted: Option<String>,
    saved: Option<String>,
}

/// `GET /admin/governance/sequences/{sequenceId}`: a sequence's steps, its edit form and
/// Delete.
pub async fn sequence(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    Query(p): Query<SequenceParams>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing approval sequences") {
        return refused;
    }
    let s = match sequences::get(&console.api.store, &id).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(e),
    };
    let form = match SequenceForm::of(&console, &s).await {
        Ok(f) => f,
        Err(e) => return store_error(e),
    };
    let notice = p
        .saved
        .is_some()
        .then_some("The sequence was saved. Requests in flight keep the steps they started with.");
    render_sequence(&console, &admin, StatusCode::OK, &s, form, notice, None).await
}

async fn render_sequence(
    console: &Console,
    admin: &Admin,
    status: StatusCode,
    s: &RequestSequence,
    form: SequenceForm,
    notice: Option<&str>,
    errors: Option<ValidationError>,
) -> Response {
    let names = match approver_names(console, std::slice::from_ref(s)).await {
        Ok(n) => n,
        Err(e) => return store_error(e),
    };
    let groups = match choosable_groups(&console.api.store).await {
        Ok(g) => g,
        Err(e) => return store_error(e),
    };
    render(
        status,
        "gov_sequence.html",
        page(
            admin,
            "sequences",
            json!({
                "sequence": {"id": s.id, "name": s.name, "description": s.description, "steps": steps_json(s, &names)},
                "form": form.json(),
                "groups": group_choices(&groups),
                "notice": notice,
                "errors": errors.map(|v| json!({"summary": v.summary, "causes": v.causes})),
                "disabled_reason": manage_reason(admin, "Changing or deleting a sequence"),
            }),
        ),
    )
}

/// `POST /admin/governance/sequences/{sequenceId}` (the fields of the new sequence's form):
/// replaces the sequence's definition (`sequences::replace`, Steward's
/// `PUT /v2/request-sequences/{id}`); a refused form comes back with its causes.
pub async fn update_sequence(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Changing an approval sequence",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let before = match sequences::get(&console.api.store, &id).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(e),
    };
    let typed = SequenceForm::read(&form);
    let saved = match typed.write(&console, Some(&before)).await {
        Ok(write) => sequences::replace(&admin.ctx(&console), &id, Ok(write)).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(s) => see_other(&format!(
            "/admin/governance/sequences/{}?saved=1",
            encode(&s.id)
        )),
        Err(AppError::Validation(v)) => {
            render_sequence(
                &console,
                &admin,
                StatusCode::BAD_REQUEST,
                &before,
                typed,
                None,
                Some(v),
            )
            .await
        }
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/governance/sequences/{sequenceId}/delete`: the conditions that used it become
/// INVALID (`sequences::delete`).
pub async fn delete_sequence(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Deleting an approval sequence",
    ) {
        return *refused;
    }
    match sequences::delete(&admin.ctx(&console), &id).await {
        Ok(()) => see_other("/admin/governance/sequences?deleted=1"),
        Err(e) => pages::app_error(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The org's settings

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsParams {
    saved: Option<String>,
}

/// `GET /admin/governance/settings`: the org's request settings.
pub async fn org_settings(
    State(console): State<Console>,
    admin: Admin,
    Query(p): Query<SettingsParams>,
) -> Response {
    if let Some(refused) = admin.require(READ, "Viewing the request settings") {
        return refused;
    }
    let s = match settings::of_org(&console.api.store).await {
        Ok(s) => s,
        Err(e) => return pages::app_error(e),
    };
    let value = serde_json::to_value(&s).unwrap_or_default();
    render(
        StatusCode::OK,
        "gov_settings.html",
        page(
            &admin,
            "settings",
            json!({
                "settings": {
                    "subprocessors_acknowledged": s.subprocessors_acknowledged,
                    "provisioning_status": value["provisioningStatus"],
                    "experiences": value["requestExperiences"],
                },
                "notice": p.saved.is_some().then_some("The request settings were saved."),
                "disabled_reason": manage_reason(&admin, "Changing the request settings"),
            }),
        ),
    )
}

/// `POST /admin/governance/settings` (`subprocessors_acknowledged` checkbox):
/// `settings::update_org` (`PATCH /v2/request-settings`).
pub async fn update_org_settings(
    State(console): State<Console>,
    admin: Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        MANAGE,
        "Changing the request settings",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let patch = OrgRequestSettingsPatch {
        subprocessors_acknowledged: Some(form.contains_key("subprocessors_acknowledged")),
        integrations: None,
    };
    match settings::update_org(&admin.ctx(&console), patch).await {
        Ok(_) => see_other("/admin/governance/settings?saved=1"),
        Err(e) => pages::app_error(e),
    }
}
