//! Access Requests v1: request types, teams, and requests with their messages. A v1 request runs
//! on the same workflow as a v2 one (its approvals are decided through the v2 tasks API) and
//! keeps its v1 view (`requestStatus`, `approvals`, `actions`) beside it.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use steward_app::governance::ensure_default_team;
use steward_core::access_requests::v1::{open_request, RequestSettings, RequestV1Create};
use steward_core::access_requests::v1::{RequestTypeCreate, MAX_ACTIVE_REQUEST_TYPES};
use steward_core::access_requests::{from_body, RequestType, RequestV1};
use steward_core::filter::Filter;
use steward_core::syslog::Target;
use steward_store::{RequestListQuery, StoreError, StoredRequest};

use super::engine::{self, Effects};
use super::v2::{actor_id, caller_principal};
use super::{found, list_body};
use crate::error::{ApiError, ApiResult};
use crate::http::{page_limit, Caller, OktaJson, OktaQuery};
use crate::AppState;

const V1: &str = "/governance/api/v1";

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListParams {
    filter: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

fn render_type(issuer: &str, t: &RequestType) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or_default();
    if v.get("description").is_none_or(Value::is_null) {
        v["description"] = Value::String(String::new());
    }
    // The spec's `request-type-links`: itself and its requests (a filtered list).
    let requests = format!(
        "{issuer}{V1}/requests?filter={}",
        url::form_urlencoded::byte_serialize(format!("requestTypeId eq \"{}\"", t.id).as_bytes())
            .collect::<String>()
    );
    v["_links"] = json!({
        "self": {"href": format!("{issuer}{V1}/request-types/{}", t.id)},
        "requests": {"href": requests},
    });
    v
}

fn render_request(issuer: &str, r: &RequestV1) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["_links"] = json!({
        "self": {"href": format!("{issuer}{V1}/requests/{}", r.id)},
        "requestType": {"href": format!("{issuer}{V1}/request-types/{}", r.request_type_id)},
    });
    v
}

pub async fn list_teams(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    ensure_default_team(&state.store, state.clock.now()).await?;
    let limit = page_limit(params.limit.as_deref(), 20, 200)?;
    let rows = state
        .store
        .access_requests()
        .teams(params.after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = crate::http::split_page(rows, limit, |t| {
        t["id"].as_str().unwrap_or_default().to_string()
    });
    Ok(Json(list_body(
        &state.config.issuer,
        &format!("{V1}/teams"),
        raw.as_deref(),
        rows,
        next.as_deref(),
    )))
}

/// A governance list's `filter` (SCIM).
fn parse_filter(text: Option<&str>) -> ApiResult<Option<Filter>> {
    crate::http::scim_filter(text, None)
}

pub async fn list_request_types(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(params.limit.as_deref(), 20, 200)?;
    let f = parse_filter(params.filter.as_deref())?;
    let rows = state
        .store
        .access_requests()
        .request_types(f.as_ref(), params.after.as_deref(), limit + 1)
        .await?;
    let (rows, next) = crate::http::split_page(rows, limit, |t| t.id.clone());
    let issuer = &state.config.issuer;
    let data = rows.iter().map(|t| render_type(issuer, t)).collect();
    Ok(Json(list_body(
        issuer,
        &format!("{V1}/request-types"),
        raw.as_deref(),
        data,
        next.as_deref(),
    )))
}

pub async fn create_request_type(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let create: RequestTypeCreate = from_body(&body)?;
    let now = state.clock.now();
    let t = RequestType::create(create, &actor_id(&caller), now)?;
    if !state
        .store
        .access_requests()
        .team_exists(&t.owner_id)
        .await?
    {
        return Err(ApiError::validation(
            "ownerId",
            format!("/ownerId {} is not a team", t.owner_id),
        ));
    }
    if let Some((_, targets)) = t.resource_settings.targets() {
        for target in targets {
            let exists = if target.resource_id.starts_with("00g") {
                state.store.group(&target.resource_id).await.is_ok()
            } else {
                state.store.app(&target.resource_id).await.is_ok()
            };
            if !exists {
                return Err(ApiError::validation(
                    "resourceSettings",
                    format!(
                        "/resourceSettings/targetResources {} not found",
                        target.resource_id
                    ),
                ));
            }
        }
    }
    let mut tx = state.store.begin().await?;
    // Counted inside the transaction that stores the type, so concurrent creates cannot pass
    // the cap together.
    if t.status == steward_core::access_requests::v1::RequestTypeStatus::Active
        && tx.access_requests().count_active_request_types().await?
            >= MAX_ACTIVE_REQUEST_TYPES as i64
    {
        return Err(ApiError::validation(
            "status",
            "At most 500 request types may be ACTIVE",
        ));
    }
    tx.access_requests().put_request_type(&t).await?;
    tx.append_log(
        &super::v2_log(
            &caller,
            "access.request.type.create",
            "Create request type",
            now,
        )
        .target(Target::new(&t.id, "RequestType", &t.id, &t.name)),
    )
    .await?;
    tx.commit().await?;
    let body = render_type(&state.config.issuer, &t);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn get_request_type(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = found(
        state.store.access_requests().request_type(&id).await,
        "RequestType",
        &id,
    )?;
    Ok(Json(render_type(&state.config.issuer, &t)))
}

pub async fn delete_request_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let t = found(
        state.store.access_requests().request_type(&id).await,
        "RequestType",
        &id,
    )?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.access_requests().delete_request_type(&id).await?;
    tx.append_log(
        &super::v2_log(
            &caller,
            "access.request.type.delete",
            "Delete request type",
            now,
        )
        .target(Target::new(&t.id, "RequestType", &t.id, &t.name)),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_published(
    state: &AppState,
    caller: &Caller,
    id: &str,
    publish: bool,
) -> ApiResult<Json<Value>> {
    let mut t = found(
        state.store.access_requests().request_type(id).await,
        "RequestType",
        id,
    )?;
    let now = state.clock.now();
    let actor = actor_id(caller);
    // The cap is counted inside the transaction that stores the type.
    let mut tx = state.store.begin().await?;
    if publish {
        if t.status != steward_core::access_requests::v1::RequestTypeStatus::Active
            && tx.access_requests().count_active_request_types().await?
                >= MAX_ACTIVE_REQUEST_TYPES as i64
        {
            return Err(ApiError::Rule {
                status: StatusCode::CONFLICT,
                code: "E0000195",
                summary: "At most 500 request types may be ACTIVE".into(),
                causes: vec![],
            });
        }
        t.publish(&actor, now)?;
    } else {
        t.unpublish(&actor, now)?;
    }
    let (event_type, message) = if publish {
        ("access.request.type.publish", "Publish request type")
    } else {
        ("access.request.type.unpublish", "Unpublish request type")
    };
    tx.access_requests().put_request_type(&t).await?;
    tx.append_log(
        &super::v2_log(caller, event_type, message, now).target(Target::new(
            &t.id,
            "RequestType",
            &t.id,
            &t.name,
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(render_type(&state.config.issuer, &t)))
}

pub async fn publish_request_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_published(&state, &caller, &id, true).await
}

pub async fn unpublish_request_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_published(&state, &caller, &id, false).await
}

pub async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let create: RequestV1Create = from_body(&body)?;
    let type_id = create.request_type_id.clone().unwrap_or_default();
    let t = match state.store.access_requests().request_type(&type_id).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            return Err(ApiError::validation(
                "requestTypeId",
                format!("/requestTypeId {type_id} not found"),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let caller_id = actor_id(&caller);
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
        &state.store,
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
        engine::check_memberships(&state.store, &mut dir, requester_member_of, &users).await?;
    }
    let ctx = caller.ctx(&state);
    let now = ctx.now;
    // The permalink is taken inside the transaction that inserts the request.
    let mut tx = state.store.begin().await?;
    let permalink = tx.access_requests().next_permalink().await?;
    let opened = open_request(
        create,
        &t,
        &caller_principal(&caller),
        permalink,
        &dir,
        &|_| None,
        now,
    )?;
    let mut wf = opened.workflow;
    let mut v1 = opened.request;
    let mut fx = Effects {
        events: opened.events,
        logs: vec![],
    };
    engine::fulfil(&ctx, &mut tx, &mut wf, &mut fx).await?;
    v1.refresh(&wf, &t, &|_| None);
    let body = render_request(&state.config.issuer, &v1);
    let mut stored = StoredRequest {
        workflow: wf,
        v1: Some(v1),
        due_at: None,
    };
    engine::save_and_commit(&ctx, tx, &mut stored, fx).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn get_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = found(
        state.store.access_requests().request(&id).await,
        "Request",
        &id,
    )?;
    let Some(v1) = r.v1 else {
        return Err(super::not_found("Request", &id));
    };
    Ok(Json(render_request(&state.config.issuer, &v1)))
}

pub async fn list_requests(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(params.limit.as_deref(), 20, 200)?;
    let rows = state
        .store
        .access_requests()
        .requests(&RequestListQuery {
            v1: true,
            filter: parse_filter(params.filter.as_deref())?,
            after: params.after.clone(),
            limit: limit + 1,
        })
        .await?;
    let (rows, next) = crate::http::split_page(rows, limit, |r| r.workflow.request.id.clone());
    let issuer = &state.config.issuer;
    let data = rows
        .iter()
        .filter_map(|r| r.v1.as_ref())
        .map(|v| render_request(issuer, v))
        .collect();
    Ok(Json(list_body(
        issuer,
        &format!("{V1}/requests"),
        raw.as_deref(),
        data,
        next.as_deref(),
    )))
}

pub async fn create_request_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let r = found(
        state.store.access_requests().request(&id).await,
        "Request",
        &id,
    )?;
    if !r.is_v1() {
        return Err(super::not_found("Request", &id));
    }
    let message = super::v2::add_message(&state, &caller, &id, body).await?;
    Ok((StatusCode::CREATED, Json(message)).into_response())
}

/// The Access Requests v1 routes: request types, teams, requests and their messages.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Need, Routes};
    use steward_core::roles::Permission::{AccessRequestsManage, AccessRequestsRead};
    const V1: &str = "/governance/api/v1";
    const READ: Need = need("okta.governance.accessRequests.read", AccessRequestsRead);
    const MANAGE: Need = need(
        "okta.governance.accessRequests.manage",
        AccessRequestsManage,
    );
    let request_types = Routes::under("Request types", V1)
        .get("/request-types", READ, list_request_types)
        .post("/request-types", MANAGE, create_request_type)
        .get("/request-types/{requestTypeId}", READ, get_request_type)
        .delete(
            "/request-types/{requestTypeId}",
            MANAGE,
            delete_request_type,
        )
        .post(
            "/request-types/{requestTypeId}/publish",
            MANAGE,
            publish_request_type,
        )
        .post(
            "/request-types/{requestTypeId}/un-publish",
            MANAGE,
            unpublish_request_type,
        );
    let teams = Routes::under("Teams", V1).get("/teams", READ, list_teams);
    let requests = Routes::under("Requests (v1)", V1)
        .get("/requests", READ, list_requests)
        .post("/requests", MANAGE, create_request)
        .get("/requests/{requestId}", READ, get_request)
        .post(
            "/requests/{requestId}/messages",
            MANAGE,
            create_request_message,
        );
    request_types.merge(teams).merge(requests)
}
