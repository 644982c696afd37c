//! The default catalog: admin, per user and `my`, with the request fields of an entry
//! (`steward_app::governance::catalog`).

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};
use steward_app::governance::catalog::{self, EntryQuery, RequestField};
use steward_core::access_requests::catalog::CatalogEntry;

use crate::error::{ApiError, ApiResult};
use crate::governance::{list_body, not_found};
use crate::http::{page_limit, Caller, OktaQuery};
use crate::AppState;

use super::{my_user_id, parse_filter, ListParams, DEFAULT_LIMIT, MAX_LIMIT, V2};

const ENTRIES: &str = "/catalogs/default/entries";
const MY_ENTRIES: &str = "/my/catalogs/default/entries";

fn render_entry(issuer: &str, e: &CatalogEntry, my: bool) -> Value {
    let base = format!("{V2}{}", if my { MY_ENTRIES } else { ENTRIES });
    let mut v = serde_json::to_value(e).unwrap_or_default();
    let mut links = json!({
        "self": {"href": format!("{issuer}{base}/{}", e.id)},
        "relatedEntity": {"href": format!("{issuer}/api/v1/apps/{}", e.resource_id)},
    });
    if let Some(parent) = &e.parent {
        links["parent"] = json!({"href": format!("{issuer}{base}/{parent}")});
    }
    if my && e.requestable {
        links["createRequest"] = json!({"href": format!("{issuer}{base}/{}/requests", e.id)});
    }
    v["_links"] = links;
    v
}

fn render_fields(fields: &[RequestField]) -> Json<Value> {
    Json(json!({"data": fields, "metadata": {}}))
}

/// `filter` (required: `not(parent pr)` or `parent eq "cen…"`), `match`, `after`, `limit`.
fn entry_query(params: ListParams) -> ApiResult<EntryQuery> {
    let Some(filter) = parse_filter(params.filter.as_deref())? else {
        return Err(ApiError::validation(
            "filter",
            "filter: The filter parameter is required and must reference parent",
        ));
    };
    Ok(EntryQuery {
        filter,
        limit: page_limit(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?,
        match_text: params.match_text,
        after: params.after,
    })
}

/// One page of `entries` (read first: an unknown user is 404 before a bad query is 400).
fn page_entries(
    state: &AppState,
    entries: Vec<CatalogEntry>,
    params: ListParams,
    path: &str,
    raw: Option<&str>,
    my: bool,
) -> ApiResult<Json<Value>> {
    let page = catalog::page(entries, &entry_query(params)?)?;
    let issuer = &state.config.issuer;
    let data = page
        .items
        .iter()
        .map(|e| render_entry(issuer, e, my))
        .collect();
    Ok(Json(list_body(
        issuer,
        path,
        raw,
        data,
        page.next.as_deref(),
    )))
}

pub async fn list_entries(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let entries = catalog::entries(&state.store).await?;
    let path = format!("{V2}{ENTRIES}");
    page_entries(&state, entries, params, &path, raw.as_deref(), false)
}

pub async fn get_entry(
    State(state): State<AppState>,
    Path(entry_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let e = catalog::entry(&state.store, &entry_id).await?;
    Ok(Json(render_entry(&state.config.issuer, &e, false)))
}

pub async fn list_user_entries(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let entries = catalog::for_user(&state.store, &user_id).await?;
    let path = format!("{V2}/catalogs/default/user/{user_id}/entries");
    page_entries(&state, entries, params, &path, raw.as_deref(), false)
}

pub async fn entry_request_fields(
    State(state): State<AppState>,
    Path((entry_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let fields = catalog::user_request_fields(&state.store, &entry_id, &user_id).await?;
    Ok(render_fields(&fields))
}

pub async fn my_list_entries(
    State(state): State<AppState>,
    caller: Caller,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let entries = catalog::mine(&state.store, &me).await?;
    let path = format!("{V2}{MY_ENTRIES}");
    page_entries(&state, entries, params, &path, raw.as_deref(), true)
}

pub async fn my_get_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(entry_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let e = catalog::my_entry(&state.store, &me, &entry_id).await?;
    Ok(Json(render_entry(&state.config.issuer, &e, true)))
}

pub async fn my_request_fields(
    State(state): State<AppState>,
    caller: Caller,
    Path(entry_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let fields = catalog::request_fields(&state.store, &entry_id, &me).await?;
    Ok(render_fields(&fields))
}

pub async fn my_user_request_fields(
    State(state): State<AppState>,
    caller: Caller,
    Path((entry_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    if user_id != me {
        return Err(not_found("User", &user_id));
    }
    let fields = catalog::request_fields(&state.store, &entry_id, &me).await?;
    Ok(render_fields(&fields))
}

/// Users the caller may request the entry for: themselves (on-behalf-of requests go through
/// the admin API in Steward).
pub async fn my_entry_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(entry_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let users = catalog::my_entry_users(&state.store, &me, &entry_id).await?;
    let data = users
        .iter()
        .map(|user| {
            let profile = |k: &str| user.profile.get(k).cloned().unwrap_or(Value::Null);
            let mut entry = json!({"id": user.id, "email": user.email()});
            for k in ["firstName", "lastName"] {
                if profile(k).is_string() {
                    entry[k] = profile(k);
                }
            }
            entry
        })
        .collect();
    let path = format!("{V2}{MY_ENTRIES}/{entry_id}/users");
    Ok(Json(list_body(
        &state.config.issuer,
        &path,
        raw.as_deref(),
        data,
        None,
    )))
}
