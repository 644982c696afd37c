//! Access Requests v1: request types, teams, and requests with their messages
//! (`steward_app::governance::v1`). A v1 request runs on the same workflow as a v2 one (its
//! approvals are decided through the v2 tasks API) and keeps its v1 view (`requestStatus`,
//! `approvals`, `actions`) beside it.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use steward_app::governance::requests::{self, ApiVersion};
use steward_app::governance::v1;
use steward_core::access_requests::v1::{RequestTypeCreate, RequestV1Create};
use steward_core::access_requests::{from_body, RequestType, RequestV1};
use steward_core::filter::Filter;

use super::list_body;
use super::v2::{caller_principal, new_message};
use crate::error::ApiResult;
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
    caller: Caller,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(params.limit.as_deref(), 20, 200)?;
    let page = v1::teams(&caller.ctx(&state), params.after.as_deref(), limit).await?;
    Ok(Json(list_body(
        &state.config.issuer,
        &format!("{V1}/teams"),
        raw.as_deref(),
        page.items,
        page.next.as_deref(),
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
    let page = v1::request_types(&state.store, f.as_ref(), params.after.as_deref(), limit).await?;
    let issuer = &state.config.issuer;
    let data = page.items.iter().map(|t| render_type(issuer, t)).collect();
    Ok(Json(list_body(
        issuer,
        &format!("{V1}/request-types"),
        raw.as_deref(),
        data,
        page.next.as_deref(),
    )))
}

pub async fn create_request_type(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let create: RequestTypeCreate = from_body(&body)?;
    let t = v1::create_request_type(&caller.ctx(&state), create).await?;
    let body = render_type(&state.config.issuer, &t);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn get_request_type(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = v1::request_type(&state.store, &id).await?;
    Ok(Json(render_type(&state.config.issuer, &t)))
}

pub async fn delete_request_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    v1::delete_request_type(&caller.ctx(&state), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn publish_request_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = v1::set_published(&caller.ctx(&state), &id, true).await?;
    Ok(Json(render_type(&state.config.issuer, &t)))
}

pub async fn unpublish_request_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = v1::set_published(&caller.ctx(&state), &id, false).await?;
    Ok(Json(render_type(&state.config.issuer, &t)))
}

pub async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let create: RequestV1Create = from_body(&body)?;
    let by = caller_principal(&caller);
    let r = v1::create_request(&caller.ctx(&state), create, &by).await?;
    let body = render_request(&state.config.issuer, &r);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn get_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = v1::request(&state.store, &id).await?;
    Ok(Json(render_request(&state.config.issuer, &r)))
}

pub async fn list_requests(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(params.limit.as_deref(), 20, 200)?;
    let filter = parse_filter(params.filter.as_deref())?;
    let page = v1::list_requests(&state.store, filter, params.after, limit).await?;
    let issuer = &state.config.issuer;
    let data = page
        .items
        .iter()
        .map(|v| render_request(issuer, v))
        .collect();
    Ok(Json(list_body(
        issuer,
        &format!("{V1}/requests"),
        raw.as_deref(),
        data,
        page.next.as_deref(),
    )))
}

pub async fn create_request_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let ctx = caller.ctx(&state);
    let message = requests::add_message(&ctx, &id, ApiVersion::V1, new_message(&body)).await?;
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
