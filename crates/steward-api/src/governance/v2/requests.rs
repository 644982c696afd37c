//! Access requests (v2): submission, reads, lists and messages, admin and `my`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_core::access_requests::catalog::CatalogEntry;
use steward_core::access_requests::workflow::{NewRequest, RequestFieldValue, RequestV2};
use steward_core::access_requests::{
    from_body, match_condition, new_request_id, Principal, RequestWorkflow,
};
use steward_core::directory::UserStatus;
use steward_core::syslog::Target;
use steward_store::{RequestListQuery, StoreError, StoredRequest};

use crate::error::{ApiError, ApiResult};
use crate::governance::engine::{self, Effects};
use crate::governance::{found, list_body, not_found};
use crate::http::{page_limit, Caller, OktaJson, OktaQuery};
use crate::AppState;

use super::catalog::{catalog, my_entry};
use super::{
    actor_id, caller_principal, log, my_user_id, optional_body, parse_filter, ListParams,
    DEFAULT_LIMIT, MAX_LIMIT, V2,
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

/// Creates a request for `entry` and runs it: the matching condition's sequence starts (or the
/// request is REJECTED), approval without steps grants at once. Answers the SUBMITTED request.
async fn submit(
    state: &AppState,
    caller: &Caller,
    entry: &CatalogEntry,
    requested_for: &str,
    fields: Option<Vec<RequestFieldValue>>,
) -> ApiResult<Value> {
    let Some(requested) = entry.requested.clone() else {
        return Err(ApiError::validation(
            "requested",
            "requested.entryId: The catalog entry is not requestable",
        ));
    };
    let ctx = caller.ctx(state);
    let now = ctx.now;
    let new = NewRequest {
        id: new_request_id(),
        requested: requested.clone(),
        requested_by: caller_principal(caller),
        requested_for: requested_for.to_string(),
        requester_field_values: fields,
    };
    let (mut wf, mut events) = RequestWorkflow::create(new, now);
    let submitted = render_request(&state.config.issuer, &wf);
    let groups = engine::memberships(&state.store, requested_for).await?;
    let conds = state
        .store
        .access_requests()
        .conditions(&requested.resource_id)
        .await?;
    let matched = match match_condition(&conds, &requested, &groups) {
        Ok(c) => match state
            .store
            .access_requests()
            .sequence(c.approval_sequence_id.as_deref().unwrap_or_default())
            .await
        {
            Ok(s) => Ok((c.clone(), s)),
            Err(StoreError::NotFound) => {
                Err("The request condition has no approval sequence".to_string())
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => Err(e.detail().summary.clone()),
    };
    let mut fx = Effects::default();
    let mut tx;
    match matched {
        Ok((condition, sequence)) => {
            let dir = engine::snapshot(
                &state.store,
                requested_for,
                &engine::owned_resources(&requested),
                &sequence.steps,
                &[],
            )
            .await?;
            events.extend(wf.submit(&condition, &sequence, &dir, now)?);
            tx = state.store.begin().await?;
            fx.events = events;
            engine::fulfil(&ctx, &mut tx, &mut wf, &mut fx).await?;
        }
        Err(reason) => {
            events.extend(wf.reject(&reason, now)?);
            tx = state.store.begin().await?;
            fx.events = events;
        }
    }
    let mut stored = StoredRequest {
        workflow: wf,
        v1: None,
        due_at: None,
    };
    engine::save_and_commit(&ctx, tx, &mut stored, fx).await?;
    Ok(submitted)
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
    let user = match state.store.user(&requested_for.external_id).await {
        Ok(u) if u.status == UserStatus::Active => u,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(ApiError::validation(
                "requestedFor",
                "requestedFor.externalId: must be an active user",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let entry = catalog(&state, None)
        .await?
        .into_iter()
        .find(|e| e.id == entry_id)
        .ok_or_else(|| {
            ApiError::validation(
                "requested",
                format!("requested.entryId: {entry_id} is not a catalog entry"),
            )
        })?;
    let body = submit(&state, &caller, &entry, &user.id, b.requester_field_values).await?;
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
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
    if r.is_v1() {
        return Err(not_found("Request", &id));
    }
    Ok(Json(render_request(&state.config.issuer, &r.workflow)))
}

pub async fn list_requests(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let rows = state
        .store
        .access_requests()
        .requests(&RequestListQuery {
            v1: false,
            filter: parse_filter(params.filter.as_deref())?,
            after: params.after.clone(),
            limit: limit + 1,
        })
        .await?;
    let (rows, next) = crate::http::split_page(rows, limit, |r| r.workflow.request.id.clone());
    let issuer = &state.config.issuer;
    let data = rows
        .iter()
        .map(|r| render_request(issuer, &r.workflow))
        .collect();
    Ok(Json(list_body(
        issuer,
        &format!("{V2}/requests"),
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
) -> ApiResult<StatusCode> {
    // A v1 request is not a v2 one (v2 GET of its id is 404 too).
    let r = found(
        state.store.access_requests().request(&id).await,
        "Request",
        &id,
    )?;
    if r.is_v1() {
        return Err(not_found("Request", &id));
    }
    add_message(&state, &caller, &id, body).await?;
    Ok(StatusCode::CREATED)
}

/// The spec's `maxLength` of a request message.
const MESSAGE_MAX_CHARS: usize = 5000;

/// Stores a message on a request (v1 and v2).
pub(crate) async fn add_message(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
    body: Value,
) -> ApiResult<Value> {
    let Some(text) = body
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
    else {
        return Err(ApiError::validation(
            "message",
            "must have required property 'message'",
        ));
    };
    if text.chars().count() > MESSAGE_MAX_CHARS {
        return Err(ApiError::validation(
            "message",
            format!("/message must NOT have more than {MESSAGE_MAX_CHARS} characters"),
        ));
    }
    let now = state.clock.now();
    let id = steward_core::access_requests::new_hex_id();
    let message = json!({
        "id": id,
        "requestId": request_id,
        "message": text,
        "audience": body.get("audience").cloned().unwrap_or(Value::String("ALL".into())),
        "created": steward_core::timefmt::format_millis(now),
        "createdBy": actor_id(caller),
    });
    let mut tx = state.store.begin().await?;
    tx.access_requests()
        .insert_message(&id, request_id, now, &message)
        .await?;
    tx.append_log(
        &log(
            caller,
            "access.request.message.create",
            "Add message to access request",
            now,
        )
        .target(Target::new(
            request_id,
            "AccessRequest",
            request_id,
            "Access request",
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(message)
}

pub async fn my_create_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(entry_id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let me = my_user_id(&caller)?;
    let b: MyCreateRequestBody = optional_body(&body)?.unwrap_or_default();
    let entry = my_entry(&state, &me, &entry_id).await?;
    let body = submit(&state, &caller, &entry, &me, b.requester_field_values).await?;
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

pub async fn my_get_request(
    State(state): State<AppState>,
    caller: Caller,
    Path((entry_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let r = found(
        state.store.access_requests().request(&id).await,
        "Request",
        &id,
    )?;
    let req = &r.workflow.request;
    let mine = req.requested_for.external_id == me || req.requested_by.external_id == me;
    if r.is_v1() || !mine || req.requested.entry_id.as_deref() != Some(entry_id.as_str()) {
        return Err(not_found("Request", &id));
    }
    Ok(Json(render_request(&state.config.issuer, &r.workflow)))
}
