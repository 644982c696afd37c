//! Access requests (v2): submission, reads, lists and messages, admin and `my`
//! (`steward_app::governance::requests`).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_app::governance::requests::{self, ApiVersion, NewMessage, Submission};
use steward_core::access_requests::workflow::{RequestFieldValue, RequestV2};
use steward_core::access_requests::{from_body, Principal, RequestWorkflow};

use crate::error::{ApiError, ApiResult};
use crate::governance::list_body;
use crate::http::{page_limit, Caller, OktaJson, OktaQuery};
use crate::AppState;

use super::{
    caller_principal, my_user_id, optional_body, parse_filter, ListParams, DEFAULT_LIMIT,
    MAX_LIMIT, V2,
};

pub(crate) fn render_request(issuer: &str, wf: &RequestWorkflow) -> Value {
    render_request_view(issuer, &wf.request, wf)
}

fn render_request_view(issuer: &str, r: &RequestV2, wf: &RequestWorkflow) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    let mut links = json!({"self": {"href": format!("{issuer}{V2}/requests/{}", r.id)}});
    if let Some(entry) = &r.requested.entry_id {
        links["catalogEntry"] =
            json!({"href": format!("{issuer}{V2}/catalogs/default/entries/{entry}")});
    }
    if let Some(c) = &wf.request_condition_id {
        links["approvalCondition"] = json!({"href": format!(
            "{issuer}{V2}/resources/{}/request-conditions/{c}", r.requested.resource_id)});
    }
    if let Some(s) = &wf.approval_sequence_id {
        links["approvalSequence"] = json!({"href": format!("{issuer}{V2}/request-sequences/{s}")});
    }
    v["_links"] = links;
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestedEntry {
    #[serde(rename = "type")]
    kind: Option<String>,
    entry_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequestBody {
    requested: Option<RequestedEntry>,
    requested_for: Option<Principal>,
    #[serde(default)]
    requester_field_values: Option<Vec<RequestFieldValue>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MyCreateRequestBody {
    #[serde(default)]
    requester_field_values: Option<Vec<RequestFieldValue>>,
}

pub async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let b: CreateRequestBody = from_body(&body)?;
    let (Some(requested), Some(requested_for)) = (b.requested, b.requested_for) else {
        return Err(ApiError::validation(
            "request",
            "must have required properties 'requested' and 'requestedFor'",
        ));
    };
    if requested.kind.as_deref() != Some("CATALOG_ENTRY") {
        return Err(ApiError::validation(
            "requested",
            "requested.type: must be equal to one of the allowed values: CATALOG_ENTRY",
        ));
    }
    let entry_id = requested.entry_id.unwrap_or_default();
    let submission = Submission {
        requested_by: caller_principal(&caller),
        requested_for: requested_for.external_id,
        requester_field_values: b.requester_field_values,
    };
    let wf = requests::submit_entry(&caller.ctx(&state), &entry_id, submission).await?;
    let body = render_request(&state.config.issuer, &wf);
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

pub async fn get_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let wf = requests::get(&state.store, &id).await?;
    Ok(Json(render_request(&state.config.issuer, &wf)))
}

pub async fn list_requests(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let filter = parse_filter(params.filter.as_deref())?;
    let page = requests::list(&state.store, filter, params.after, limit).await?;
    let issuer = &state.config.issuer;
    let data = page
        .items
        .iter()
        .map(|wf| render_request(issuer, wf))
        .collect();
    Ok(Json(list_body(
        issuer,
        &format!("{V2}/requests"),
        raw.as_deref(),
        data,
        page.next.as_deref(),
    )))
}

/// A message as the body gives it (its rules are the use case's).
pub(crate) fn new_message(body: &Value) -> NewMessage {
    NewMessage {
        message: body
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string),
        audience: body.get("audience").cloned(),
    }
}

pub async fn create_request_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<StatusCode> {
    // A v1 request is not a v2 one (v2 GET of its id is 404 too).
    let ctx = caller.ctx(&state);
    requests::add_message(&ctx, &id, ApiVersion::V2, new_message(&body)).await?;
    Ok(StatusCode::CREATED)
}

pub async fn my_create_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(entry_id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let me = my_user_id(&caller)?;
    let b: MyCreateRequestBody = optional_body(&body)?.unwrap_or_default();
    let ctx = caller.ctx(&state);
    let wf = requests::submit_mine(&ctx, &me, &entry_id, b.requester_field_values).await?;
    let body = render_request(&state.config.issuer, &wf);
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

pub async fn my_get_request(
    State(state): State<AppState>,
    caller: Caller,
    Path((entry_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let wf = requests::get_mine(&state.store, &me, &entry_id, &id).await?;
    Ok(Json(render_request(&state.config.issuer, &wf)))
}
