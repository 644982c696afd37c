//! Approval tasks: lists, reads, resolution and reassignment, admin and `my`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_core::access_requests::workflow::{Decision, Task};
use steward_core::access_requests::{from_body, Principal};
use steward_store::TaskListQuery;

use steward_app::governance::tasks::{self, Decider};

use crate::error::ApiResult;
use crate::governance::{found, list_body, not_found};
use crate::http::{page_limit, Caller, OktaJson, OktaQuery};
use crate::AppState;

use super::{
    caller_principal, my_user_id, optional_body, parse_filter, ListParams, DEFAULT_LIMIT,
    MAX_LIMIT, V2,
};

/// A task; on the admin routes its `request` link names the request under its own API version
/// (a v1 request is not served under `/v2/requests`). A `my` task has no `request` link: the
/// request routes are an admin's, which an approver's token cannot follow (the end-user
/// dashboard's `/app/tasks/{taskId}` shows an approver the request).
fn render_task(issuer: &str, t: &Task, my: bool, v1_request: bool) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or_default();
    let base = if my { "/my/tasks" } else { "/tasks" };
    let mut links = json!({"self": {"href": format!("{issuer}{V2}{base}/{}", t.id)}});
    if !my {
        let requests = if v1_request {
            "/governance/api/v1/requests"
        } else {
            "/governance/api/v2/requests"
        };
        links["request"] = json!({"href": format!("{issuer}{requests}/{}", t.request_id)});
    }
    v["_links"] = links;
    v
}

/// Whether the task's request is a v1 request.
async fn of_v1_request(state: &AppState, t: &Task) -> ApiResult<bool> {
    let ids = [t.request_id.clone()];
    Ok(!state
        .store
        .access_requests()
        .v1_request_ids(&ids)
        .await?
        .is_empty())
}

async fn list_tasks_for(
    state: &AppState,
    assignee: Option<String>,
    params: ListParams,
    raw: Option<&str>,
    my: bool,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let rows = state
        .store
        .access_requests()
        .tasks(&TaskListQuery {
            assignee,
            filter: parse_filter(params.filter.as_deref())?,
            after: params.after,
            limit: limit + 1,
        })
        .await?;
    let (rows, next) = crate::http::split_page(rows, limit, |t| t.id.clone());
    let issuer = &state.config.issuer;
    let request_ids: Vec<String> = rows.iter().map(|t| t.request_id.clone()).collect();
    let v1 = state
        .store
        .access_requests()
        .v1_request_ids(&request_ids)
        .await?;
    let data = rows
        .iter()
        .map(|t| render_task(issuer, t, my, v1.contains(&t.request_id)))
        .collect();
    let path = format!("{V2}{}", if my { "/my/tasks" } else { "/tasks" });
    Ok(Json(list_body(issuer, &path, raw, data, next.as_deref())))
}

pub async fn list_tasks(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    list_tasks_for(&state, None, params, raw.as_deref(), false).await
}

pub async fn my_list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    list_tasks_for(&state, Some(me), params, raw.as_deref(), true).await
}

pub async fn get_task(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = found(state.store.access_requests().task(&id).await, "Task", &id)?;
    let v1 = of_v1_request(&state, &t).await?;
    Ok(Json(render_task(&state.config.issuer, &t, false, v1)))
}

pub async fn my_get_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let t = tasks::my_task(&state.store, &me, &id).await?;
    let v1 = of_v1_request(&state, &t).await?;
    Ok(Json(render_task(&state.config.issuer, &t, true, v1)))
}

#[derive(Deserialize, Default)]
struct ResolveBody {
    value: Option<String>,
}

#[derive(Deserialize, Default)]
struct TaskPatch {
    #[serde(default)]
    assignees: Vec<Principal>,
}

/// Admin resolve. The decider is the caller, as the principal it is; an admin who is not an
/// assignee decides as an override (added to the task's assignees). Whoever requested never
/// decides (`RequestWorkflow::resolve_task_as_admin`).
pub async fn resolve_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let b: ResolveBody = optional_body(&body)?.unwrap_or_default();
    let decision = Decision::from_task_value(b.value.as_deref())?;
    let decider = Decider::Admin(caller_principal(&caller));
    let task = tasks::resolve(&caller.ctx(&state), &id, &decider, decision).await?;
    let v1 = of_v1_request(&state, &task).await?;
    Ok(Json(render_task(&state.config.issuer, &task, false, v1)))
}

pub async fn my_resolve_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let me = Principal::user(&my_user_id(&caller)?);
    let t = found(state.store.access_requests().task(&id).await, "Task", &id)?;
    if !t.is_assignee(&me) {
        return Err(not_found("Task", &id));
    }
    let b: ResolveBody = optional_body(&body)?.unwrap_or_default();
    let decision = Decision::from_task_value(b.value.as_deref())?;
    let task = tasks::resolve(&caller.ctx(&state), &id, &Decider::Assignee(me), decision).await?;
    let v1 = of_v1_request(&state, &task).await?;
    Ok(Json(render_task(&state.config.issuer, &task, true, v1)))
}

pub async fn update_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let patch: TaskPatch = from_body(&body)?;
    let ids: Vec<String> = patch.assignees.into_iter().map(|p| p.external_id).collect();
    let task = tasks::reassign(&caller.ctx(&state), &id, &ids).await?;
    let v1 = of_v1_request(&state, &task).await?;
    Ok(Json(render_task(&state.config.issuer, &task, false, v1)))
}
