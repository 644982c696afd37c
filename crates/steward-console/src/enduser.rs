//! The end-user dashboard (`/app`): the request catalog, the request form, my requests and my
//! approval tasks. Any signed-in ACTIVE user ([`SignedIn`]); each page shows only what the
//! `/governance/api/v2/my/…` API shows that user, through the same use cases
//! (`steward_app::governance`): the catalog as the user's groups open it, requests submitted with
//! `requests::submit_mine`, tasks read and decided as an assignee (`tasks::my_task`,
//! `tasks::resolve` with `Decider::Assignee`), so the rules (a requester never decides; only an
//! assignee decides) are the API's.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_app::governance::requests::{self, ApiVersion, NewMessage};
use steward_app::governance::tasks::{self, Decider};
use steward_app::governance::{catalog, catalog::RequestField};
use steward_app::AppError;
use steward_core::access_requests::catalog::CatalogEntry;
use steward_core::access_requests::duration::AccessDuration;
use steward_core::access_requests::workflow::{
    AccessScopeType, Decision, RequestFieldType, RequestFieldValue, RequestStatus, Task, TaskStatus,
};
use steward_core::access_requests::{Principal, RequestWorkflow};
use steward_core::timefmt::{format_millis, parse_rfc3339_millis};
use steward_store::{StoreError, StoredRequest};

use crate::pages::{self, encode, render, see_other, ui};
use crate::session::{parse_form, SignedIn};
use crate::{Console, END_USER};

/// Requests and tasks a list shows.
const LIST_LIMIT: usize = 100;
/// The longest comment an approver may leave (a request message's limit).
const COMMENT_MAX_CHARS: usize = requests::MESSAGE_MAX_CHARS;

fn error(e: AppError) -> Response {
    pages::app_error_in(END_USER, e)
}

fn store_error(e: StoreError) -> Response {
    error(e.into())
}

/// The common context of a dashboard page.
fn page(me: &SignedIn, section: &str, open_tasks: usize, mut extra: Value) -> Value {
    extra["me"] = serde_json::to_value(me.me()).unwrap_or_default();
    extra["ui"] = ui(END_USER);
    extra["section"] = json!(section);
    extra["open_tasks"] = json!(open_tasks);
    extra
}

/// How many open tasks wait for `me` (the count beside "My tasks").
async fn open_task_count(console: &Console, me: &str) -> usize {
    tasks::mine(&console.api.store, me, tasks::MINE_SCANNED)
        .await
        .map(|ts| ts.iter().filter(|t| t.status == TaskStatus::Open).count())
        .unwrap_or_default()
}

/// A time as people read it (UTC, to the minute), and its machine form for `<time>`.
fn when(ms: i64) -> Value {
    let iso = format_millis(ms);
    let shown = format!("{} UTC", iso.get(..16).unwrap_or(&iso).replace('T', " "));
    json!({"iso": iso, "shown": shown})
}

/// `P7D` as "7 days", `PT4H` as "4 hours", `P2W` as "2 weeks".
fn duration_label(iso: &str) -> String {
    use steward_core::access_requests::duration::DurationUnit;
    let Some(d) = AccessDuration::parse(iso) else {
        return iso.to_string();
    };
    let unit = match d.unit {
        DurationUnit::Minutes => "minute",
        DurationUnit::Hours => "hour",
        DurationUnit::Days => "day",
        DurationUnit::Weeks => "week",
    };
    let plural = if d.amount == 1 { "" } else { "s" };
    format!("{} {unit}{plural}", d.amount)
}

/// The durations a requester may choose under `maximum`: the usual ones that fit, and the
/// maximum itself.
fn duration_choices(maximum: &str) -> Vec<Value> {
    let max = AccessDuration::parse(maximum).map_or(0, AccessDuration::millis);
    let mut choices: Vec<&str> = ["PT1H", "PT4H", "PT8H", "P1D", "P3D", "P7D", "P14D", "P30D"]
        .into_iter()
        .filter(|c| AccessDuration::parse(c).is_some_and(|d| d.millis() < max))
        .collect();
    if max > 0 {
        choices.push(maximum);
    }
    choices
        .into_iter()
        .map(|c| json!({"value": c, "label": duration_label(c)}))
        .collect()
}

fn status_class(status: &str) -> String {
    status.to_lowercase().replace('_', "-")
}

/// What people call the statuses.
fn request_status_label(wf: &RequestWorkflow) -> &'static str {
    let r = &wf.request;
    match (r.status, r.grant_status, r.revocation_status) {
        (_, _, Some(steward_core::access_requests::workflow::RevocationStatus::Revoked)) => {
            "Access ended"
        }
        (
            RequestStatus::Approved,
            Some(steward_core::access_requests::workflow::GrantStatus::Granted),
            _,
        ) => "Granted",
        (
            RequestStatus::Approved,
            Some(steward_core::access_requests::workflow::GrantStatus::Failed),
            _,
        ) => "Approved, grant failed",
        (
            RequestStatus::Approved,
            Some(steward_core::access_requests::workflow::GrantStatus::ManualRequired),
            _,
        ) => "Approved, to be granted by hand",
        (RequestStatus::Approved, _, _) => "Approved",
        (RequestStatus::Submitted, _, _) => "Submitted",
        (RequestStatus::Pending, _, _) => "Pending approval",
        (RequestStatus::Rejected, _, _) => "Rejected",
        (RequestStatus::Denied, _, _) => "Denied",
        (RequestStatus::Canceled, _, _) => "Canceled",
        (RequestStatus::Expired, _, _) => "Expired",
    }
}

fn request_status_class(wf: &RequestWorkflow) -> &'static str {
    match request_status_label(wf) {
        "Granted" => "granted",
        "Approved" => "approved",
        "Submitted" | "Pending approval" => "pending",
        "Rejected" | "Denied" | "Approved, grant failed" => "denied",
        _ => "",
    }
}

/// Names of users, apps and groups that pages show, read once per page.
#[derive(Default)]
struct Names {
    users: HashMap<String, String>,
    apps: HashMap<String, String>,
    groups: HashMap<String, String>,
}

impl Names {
    async fn load(
        console: &Console,
        workflows: &[&RequestWorkflow],
        extra_users: &[String],
    ) -> Result<Names, StoreError> {
        let store = &console.api.store;
        let mut user_ids: HashSet<String> = extra_users.iter().cloned().collect();
        let mut app_ids: HashSet<String> = HashSet::new();
        let mut group_ids: HashSet<String> = HashSet::new();
        for wf in workflows {
            let r = &wf.request;
            user_ids.insert(r.requested_for.external_id.clone());
            user_ids.insert(r.requested_by.external_id.clone());
            for t in &wf.tasks {
                user_ids.extend(t.assignees.iter().map(|p| p.external_id.clone()));
                user_ids.extend(t.completed_by.iter().map(|p| p.external_id.clone()));
            }
            app_ids.insert(r.requested.resource_id.clone());
            if r.requested.access_scope_type == AccessScopeType::Group {
                group_ids.insert(r.requested.access_scope_id.clone());
            }
        }
        let mut names = Names::default();
        for id in user_ids {
            match store.user(&id).await {
                Ok(u) => {
                    names.users.insert(id, u.display_name());
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let app_ids: Vec<String> = app_ids.into_iter().collect();
        for app in store.apps_by_ids(&app_ids).await? {
            names.apps.insert(app.id.clone(), app.label.clone());
        }
        let group_ids: Vec<String> = group_ids.into_iter().collect();
        for g in store.groups_by_ids(&group_ids).await? {
            names.groups.insert(g.id.clone(), g.name().to_string());
        }
        Ok(names)
    }

    fn user(&self, id: &str) -> String {
        self.users
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// "Payroll users (Payroll)", or the app's name for the app itself.
    fn what(&self, wf: &RequestWorkflow) -> (String, String) {
        let r = &wf.request.requested;
        let app = self
            .apps
            .get(&r.resource_id)
            .cloned()
            .unwrap_or_else(|| r.resource_id.clone());
        let scope = match r.access_scope_type {
            AccessScopeType::Application => app.clone(),
            AccessScopeType::Group => self
                .groups
                .get(&r.access_scope_id)
                .cloned()
                .unwrap_or_else(|| r.access_scope_id.clone()),
            _ => r.access_scope_id.clone(),
        };
        (scope, app)
    }
}

/// A request as a list row or a detail's summary.
fn request_json(wf: &RequestWorkflow, names: &Names) -> Value {
    let r = &wf.request;
    let (what, app) = names.what(wf);
    let kind = match r.requested.access_scope_type {
        AccessScopeType::Application => "Access to the app",
        AccessScopeType::Group => "Membership of the group",
        AccessScopeType::EntitlementBundle => "Entitlement bundle",
        AccessScopeType::RequestType => "Request type",
    };
    json!({
        "id": r.id,
        "what": what,
        "app": app,
        "kind": kind,
        "status": request_status_label(wf),
        "status_class": request_status_class(wf),
        "created": when(r.created),
        "requested_for": names.user(&r.requested_for.external_id),
        "requested_by": names.user(&r.requested_by.external_id),
        "duration": r.access_duration.as_deref().map(duration_label),
        "until": r.revocation_scheduled.map(when),
    })
}

/// The request's history, oldest first: submitted, each approval step reached and decided,
/// comments, the outcome, the grant and its end.
fn history(wf: &RequestWorkflow, messages: &[Value], names: &Names) -> Vec<Value> {
    let r = &wf.request;
    let mut items: Vec<(i64, Value)> = vec![];
    let by = names.user(&r.requested_by.external_id);
    let for_ = names.user(&r.requested_for.external_id);
    let text = if r.requested_by == r.requested_for {
        format!("{by} requested it.")
    } else {
        format!("{by} requested it for {for_}.")
    };
    items.push((r.created, json!({"text": text})));
    // A decision's comment (saved with the decision's time) follows it.
    let mut messages: Vec<(i64, &Value)> = messages
        .iter()
        .map(|m| {
            let at = m["created"]
                .as_str()
                .and_then(parse_rfc3339_millis)
                .unwrap_or(r.last_updated);
            (at, m)
        })
        .collect();
    let comment = |at: i64, m: &Value| {
        let who = names.user(m["createdBy"].as_str().unwrap_or_default());
        (
            at,
            json!({"text": format!("{who} commented:"), "quote": m["message"]}),
        )
    };
    for t in &wf.tasks {
        let waiting = t
            .assignees
            .iter()
            .map(|p| names.user(&p.external_id))
            .collect::<Vec<_>>()
            .join(", ");
        let text = if waiting.is_empty() {
            format!(
                "{}: nobody can approve it yet; an administrator will assign it.",
                t.label
            )
        } else {
            format!("{}: waiting for {waiting}.", t.label)
        };
        items.push((t.created_at, json!({"text": text})));
        if t.status == TaskStatus::Completed {
            let who = t
                .completed_by
                .as_ref()
                .map(|p| names.user(&p.external_id))
                .unwrap_or_else(|| "Steward".into());
            let verb = match t.value.as_deref() {
                Some("APPROVED") => "approved",
                Some("DENIED") => "denied",
                _ => "closed",
            };
            items.push((
                t.updated_at,
                json!({"text": format!("{who} {verb} it ({}).", t.label)}),
            ));
            let decider = t.completed_by.as_ref().map(|p| p.external_id.as_str());
            if let Some(i) = messages
                .iter()
                .position(|(at, m)| *at == t.updated_at && m["createdBy"].as_str() == decider)
            {
                let (at, m) = messages.remove(i);
                items.push(comment(at, m));
            }
        }
    }
    for (at, m) in messages {
        items.push(comment(at, m));
    }
    if let Some(at) = r.resolved {
        let text = match r.status {
            RequestStatus::Approved => "The request was approved.".to_string(),
            RequestStatus::Denied => "The request was denied.".to_string(),
            RequestStatus::Rejected => "The request was rejected: no request condition admits \
                 it as asked."
                .to_string(),
            RequestStatus::Expired => "The request expired: nobody decided it in time.".into(),
            RequestStatus::Canceled => "The request was canceled.".into(),
            _ => String::new(),
        };
        if !text.is_empty() {
            items.push((at, json!({"text": text})));
        }
    }
    if let Some(at) = r.granted {
        items.push((at, json!({"text": "Access was granted."})));
    }
    if let Some(at) = r.revoked {
        items.push((at, json!({"text": "Access ended."})));
    }
    // Stable: what happened at the same time keeps its order.
    items.sort_by_key(|(at, _)| *at);
    items
        .into_iter()
        .map(|(at, mut v)| {
            v["at"] = when(at);
            v
        })
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CatalogQuery {
    q: Option<String>,
}

/// `GET /app/`: the catalog the user may request from, by app, with a search box.
pub async fn catalog(
    State(console): State<Console>,
    me: SignedIn,
    Query(q): Query<CatalogQuery>,
) -> Response {
    let store = &console.api.store;
    let entries = match catalog::mine(store, &me.user.id).await {
        Ok(e) => e,
        Err(e) => return error(e),
    };
    let pending: HashSet<String> = match requests::mine(store, &me.user.id, LIST_LIMIT).await {
        Ok(rs) => rs
            .iter()
            .filter(|wf| !wf.request.status.is_resolved())
            .filter_map(|wf| wf.request.requested.entry_id.clone())
            .collect(),
        Err(e) => return error(e),
    };
    let search = q.q.as_deref().map(str::trim).unwrap_or_default();
    let needle = search.to_lowercase();
    let matches = |e: &CatalogEntry| needle.is_empty() || e.name.to_lowercase().contains(&needle);
    let groups: Vec<Value> = entries
        .iter()
        .filter(|e| e.parent.is_none())
        .filter_map(|parent| {
            let children: Vec<Value> = entries
                .iter()
                .filter(|c| c.parent.as_deref() == Some(&parent.id) && c.requestable)
                .filter(|c| matches(parent) || matches(c))
                .map(|c| {
                    json!({
                        "id": c.id,
                        "name": c.name,
                        "kind": match c.requested.as_ref().map(|r| r.access_scope_type) {
                            Some(AccessScopeType::Group) => "Group membership",
                            Some(AccessScopeType::Application) => "App access",
                            _ => "Access",
                        },
                        "pending": pending.contains(&c.id),
                    })
                })
                .collect();
            (!children.is_empty()).then(|| {
                json!({"id": parent.id, "name": parent.name, "description": parent.description, "children": children})
            })
        })
        .collect();
    let open = open_task_count(&console, &me.user.id).await;
    render(
        StatusCode::OK,
        "my_catalog.html",
        page(&me, "catalog", open, json!({"q": search, "groups": groups})),
    )
}

/// The entry `entry_id` of the user's catalog, its app's entry, and the fields a request asks.
async fn entry_and_fields(
    console: &Console,
    me: &str,
    entry_id: &str,
) -> Result<(CatalogEntry, Option<CatalogEntry>, Vec<RequestField>), AppError> {
    let store = &console.api.store;
    let entries = catalog::mine(store, me).await?;
    let entry = entries
        .iter()
        .find(|e| e.id == entry_id && e.requestable)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("{entry_id} (CatalogEntry)")))?;
    let parent = entries
        .iter()
        .find(|e| Some(&e.id) == entry.parent.as_ref())
        .cloned();
    let fields = catalog::request_fields(store, entry_id, me).await?;
    Ok((entry, parent, fields))
}

fn fields_json(fields: &[RequestField], chosen: &HashMap<String, String>) -> Vec<Value> {
    fields
        .iter()
        .map(|f| {
            let choices = if f.kind == "DURATION" {
                duration_choices(&f.maximum_value)
            } else {
                vec![]
            };
            json!({
                "id": f.id,
                "kind": f.kind,
                "label": f.label,
                "required": f.required,
                "maximum": duration_label(&f.maximum_value),
                "choices": choices,
                "chosen": chosen.get(&format!("field.{}", f.id)),
            })
        })
        .collect()
}

async fn render_entry(
    console: &Console,
    me: &SignedIn,
    entry_id: &str,
    status: StatusCode,
    problem: Option<String>,
    chosen: &HashMap<String, String>,
) -> Response {
    let (entry, parent, fields) = match entry_and_fields(console, &me.user.id, entry_id).await {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    let open = open_task_count(console, &me.user.id).await;
    render(
        status,
        "my_entry.html",
        page(
            me,
            "catalog",
            open,
            json!({
                "entry": {"id": entry.id, "name": entry.name, "description": entry.description},
                "app": parent.map(|p| json!({"name": p.name, "description": p.description})),
                "fields": fields_json(&fields, chosen),
                "problem": problem,
            }),
        ),
    )
}

/// `GET /app/catalog/{entryId}`: the request form of an entry of the user's catalog (another
/// entry: 404): the condition's fields (the access duration, when the requester chooses it).
pub async fn entry(
    State(console): State<Console>,
    me: SignedIn,
    Path(entry_id): Path<String>,
) -> Response {
    render_entry(
        &console,
        &me,
        &entry_id,
        StatusCode::OK,
        None,
        &HashMap::new(),
    )
    .await
}

/// `POST /app/catalog/{entryId}/requests` (`csrf`, `field.{id}` per request field): submits a
/// request for the user, as `POST /v2/my/catalogs/default/entries/{entryId}/requests` does.
pub async fn submit(
    State(console): State<Console>,
    me: SignedIn,
    Path(entry_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    if let Some(refused) = me.check_form(&console, &headers, &form) {
        return refused;
    }
    let fields = match catalog::request_fields(&console.api.store, &entry_id, &me.user.id).await {
        Ok(f) => f,
        Err(e) => return error(e),
    };
    // Only the entry's own fields are read from the form.
    let values: Vec<RequestFieldValue> = fields
        .iter()
        .filter_map(|f| {
            let value = form
                .get(&format!("field.{}", f.id))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())?;
            Some(RequestFieldValue {
                id: f.id.clone(),
                label: None,
                kind: (f.kind == "DURATION").then_some(RequestFieldType::Duration),
                value: Some(value.to_string()),
                values: None,
            })
        })
        .collect();
    let values = (!values.is_empty()).then_some(values);
    match requests::submit_mine(&me.ctx(&console), &me.user.id, &entry_id, values).await {
        Ok(wf) => see_other(&format!(
            "/app/requests/{}?submitted=1",
            encode(&wf.request.id)
        )),
        // A wrong answer: the form again, saying what is wrong.
        Err(AppError::Validation(v)) => {
            let why = if v.causes.is_empty() {
                v.summary.clone()
            } else {
                v.causes.join(" ")
            };
            render_entry(
                &console,
                &me,
                &entry_id,
                StatusCode::BAD_REQUEST,
                Some(why),
                &form,
            )
            .await
        }
        Err(e) => error(e),
    }
}

/// `GET /app/requests`: the user's requests, newest first.
pub async fn requests(State(console): State<Console>, me: SignedIn) -> Response {
    let mine = match requests::mine(&console.api.store, &me.user.id, LIST_LIMIT).await {
        Ok(m) => m,
        Err(e) => return error(e),
    };
    let refs: Vec<&RequestWorkflow> = mine.iter().collect();
    let names = match Names::load(&console, &refs, &[]).await {
        Ok(n) => n,
        Err(e) => return store_error(e),
    };
    let rows: Vec<Value> = mine.iter().map(|wf| request_json(wf, &names)).collect();
    let open = open_task_count(&console, &me.user.id).await;
    render(
        StatusCode::OK,
        "my_requests.html",
        page(&me, "requests", open, json!({"requests": rows})),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestQuery {
    submitted: Option<String>,
}

/// `GET /app/requests/{requestId}`: one of the user's requests (asked by them or for them;
/// another: 404) with its history.
pub async fn request(
    State(console): State<Console>,
    me: SignedIn,
    Path(request_id): Path<String>,
    Query(q): Query<RequestQuery>,
) -> Response {
    let store = &console.api.store;
    let wf = match requests::get_own(store, &me.user.id, &request_id).await {
        Ok(wf) => wf,
        Err(e) => return error(e),
    };
    let messages = match store.access_requests().messages(&wf.request.id).await {
        Ok(m) => m,
        Err(e) => return store_error(e),
    };
    let authors: Vec<String> = messages
        .iter()
        .filter_map(|m| m["createdBy"].as_str().map(str::to_string))
        .collect();
    let names = match Names::load(&console, &[&wf], &authors).await {
        Ok(n) => n,
        Err(e) => return store_error(e),
    };
    let notice = q.submitted.is_some().then_some(match wf.request.status {
        RequestStatus::Rejected => "Your request was submitted, and rejected.",
        RequestStatus::Approved => "Your request was submitted and approved.",
        _ => "Your request was submitted. You will find it here while it is decided.",
    });
    let open = open_task_count(&console, &me.user.id).await;
    render(
        StatusCode::OK,
        "my_request.html",
        page(
            &me,
            "requests",
            open,
            json!({
                "request": request_json(&wf, &names),
                "history": history(&wf, &messages, &names),
                "notice": notice,
            }),
        ),
    )
}

/// The request of a task (v1 or v2), read as the task's assignee.
async fn request_of(console: &Console, t: &Task) -> Result<StoredRequest, StoreError> {
    console
        .api
        .store
        .access_requests()
        .request(&t.request_id)
        .await
}

fn task_status_label(t: &Task) -> &'static str {
    match (t.status, t.value.as_deref()) {
        (TaskStatus::Open, _) => "Waiting for you",
        (TaskStatus::Completed, Some("APPROVED")) => "Approved",
        (TaskStatus::Completed, Some("DENIED")) => "Denied",
        (TaskStatus::Completed, _) => "Closed",
        (TaskStatus::Assigning, _) => "Being assigned",
        (TaskStatus::Locked, _) => "Locked",
    }
}

fn task_json(t: &Task, wf: Option<&RequestWorkflow>, names: &Names) -> Value {
    let label = task_status_label(t);
    json!({
        "id": t.id,
        "label": t.label,
        "status": label,
        "status_class": status_class(match label { "Waiting for you" => "open", "Approved" => "approved", "Denied" => "denied", _ => "" }),
        "open": t.status == TaskStatus::Open,
        "created": when(t.created_at),
        "request": wf.map(|wf| request_json(wf, names)),
    })
}

/// `GET /app/tasks`: the approval tasks assigned to the user, open ones first.
pub async fn tasks(State(console): State<Console>, me: SignedIn) -> Response {
    let mine = match tasks::mine(&console.api.store, &me.user.id, LIST_LIMIT).await {
        Ok(m) => m,
        Err(e) => return error(e),
    };
    let mut workflows: HashMap<String, RequestWorkflow> = HashMap::new();
    for t in &mine {
        if workflows.contains_key(&t.request_id) {
            continue;
        }
        match request_of(&console, t).await {
            Ok(r) => {
                workflows.insert(t.request_id.clone(), r.workflow);
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return store_error(e),
        }
    }
    let refs: Vec<&RequestWorkflow> = workflows.values().collect();
    let names = match Names::load(&console, &refs, &[]).await {
        Ok(n) => n,
        Err(e) => return store_error(e),
    };
    let rows: Vec<Value> = mine
        .iter()
        .map(|t| task_json(t, workflows.get(&t.request_id), &names))
        .collect();
    let open = mine.iter().filter(|t| t.status == TaskStatus::Open).count();
    render(
        StatusCode::OK,
        "my_tasks.html",
        page(&me, "tasks", open, json!({"tasks": rows})),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TaskQuery {
    decided: Option<String>,
}

/// `GET /app/tasks/{taskId}`: a task assigned to the user or that they completed (another: 404),
/// its request and history, and Approve / Deny with a comment while it is open.
pub async fn task(
    State(console): State<Console>,
    me: SignedIn,
    Path(task_id): Path<String>,
    Query(q): Query<TaskQuery>,
) -> Response {
    render_task(
        &console,
        &me,
        &task_id,
        q.decided.as_deref(),
        StatusCode::OK,
        None,
    )
    .await
}

async fn render_task(
    console: &Console,
    me: &SignedIn,
    task_id: &str,
    decided: Option<&str>,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let store = &console.api.store;
    let t = match tasks::my_task(store, &me.user.id, task_id).await {
        Ok(t) => t,
        Err(e) => return error(e),
    };
    let stored = match request_of(console, &t).await {
        Ok(r) => r,
        Err(e) => return store_error(e),
    };
    let wf = &stored.workflow;
    let messages = match store.access_requests().messages(&wf.request.id).await {
        Ok(m) => m,
        Err(e) => return store_error(e),
    };
    let authors: Vec<String> = messages
        .iter()
        .filter_map(|m| m["createdBy"].as_str().map(str::to_string))
        .collect();
    let names = match Names::load(console, &[wf], &authors).await {
        Ok(n) => n,
        Err(e) => return store_error(e),
    };
    let may_decide = t.status == TaskStatus::Open
        && t.is_assignee(&Principal::user(&me.user.id))
        && !wf.request.is_requester(&Principal::user(&me.user.id));
    let notice = match decided {
        Some("APPROVED") if t.value.as_deref() == Some("APPROVED") => Some("You approved it."),
        Some("DENIED") if t.value.as_deref() == Some("DENIED") => Some("You denied it."),
        _ => None,
    };
    let open = open_task_count(console, &me.user.id).await;
    render(
        status,
        "my_task.html",
        page(
            me,
            "tasks",
            open,
            json!({
                "task": task_json(&t, Some(wf), &names),
                "history": history(wf, &messages, &names),
                "may_decide": may_decide,
                "notice": notice,
                "problem": problem,
                "comment_max": COMMENT_MAX_CHARS,
            }),
        ),
    )
}

/// `POST /app/tasks/{taskId}/resolve` (`csrf`, `decision` APPROVED or DENIED, `comment`): the
/// user decides a task as its assignee (`POST /v2/my/tasks/{taskId}/resolve`); a task they are
/// not an assignee of is 404, and a requester never decides their own request (403). The comment,
/// when given, is added to the request's messages once the decision is saved.
pub async fn resolve(
    State(console): State<Console>,
    me: SignedIn,
    Path(task_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    if let Some(refused) = me.check_form(&console, &headers, &form) {
        return refused;
    }
    let store = &console.api.store;
    let me_principal = Principal::user(&me.user.id);
    let t = match tasks::my_task(store, &me.user.id, &task_id).await {
        Ok(t) if t.is_assignee(&me_principal) => t,
        Ok(_) => return error(AppError::NotFound(format!("{task_id} (Task)"))),
        Err(e) => return error(e),
    };
    let decision = match Decision::from_task_value(form.get("decision").map(String::as_str)) {
        Ok(d) => d,
        Err(e) => return error(e.into()),
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
        return render_task(
            &console,
            &me,
            &task_id,
            None,
            StatusCode::BAD_REQUEST,
            Some(why),
        )
        .await;
    }
    let version = match request_of(&console, &t).await {
        Ok(r) if r.is_v1() => ApiVersion::V1,
        Ok(_) => ApiVersion::V2,
        Err(e) => return store_error(e),
    };
    let ctx = me.ctx(&console);
    let decided = tasks::resolve(&ctx, &task_id, &Decider::Assignee(me_principal), decision).await;
    if let Err(e) = decided {
        return error(e);
    }
    if let Some(text) = comment {
        let message = NewMessage {
            message: Some(text),
            audience: None,
        };
        if let Err(e) = requests::add_message(&ctx, &t.request_id, version, message).await {
            return error(e);
        }
    }
    see_other(&format!(
        "/app/tasks/{}?decided={}",
        encode(&task_id),
        decision.as_str()
    ))
}

/// Any other path under `/app`.
pub async fn not_found() -> Response {
    pages::message_in(
        END_USER,
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no such page on your dashboard.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_label("P7D"), "7 days");
        assert_eq!(duration_label("PT1H"), "1 hour");
        assert_eq!(duration_label("P2W"), "2 weeks");
        assert_eq!(duration_label("nonsense"), "nonsense");
    }

    #[test]
    fn a_requester_chooses_durations_up_to_the_maximum() {
        let values = |max| -> Vec<String> {
            duration_choices(max)
                .iter()
                .map(|c| c["value"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(values("P7D"), ["PT1H", "PT4H", "PT8H", "P1D", "P3D", "P7D"]);
        assert_eq!(values("PT2H"), ["PT1H", "PT2H"]);
        assert!(values("bad").is_empty());
    }
}
