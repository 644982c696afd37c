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
use steward_store::{StoreError, StoredRequest};

use crate::pages::{self, encode, render, see_other, ui};
use crate::request_history::{self, duration_label, request_json, status_class, when, Names};
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
    let (names, history) = match request_history::load(&console, &wf).await {
        Ok(v) => v,
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
                "history": history,
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
    let (names, history) = match request_history::load(console, wf).await {
        Ok(v) => v,
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
                "history": history,
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
