//! The default catalog: admin, per user and `my`, with the request fields of an entry.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};
use steward_core::access_requests::catalog::CatalogEntry;
use steward_core::access_requests::conditions::{
    self, AccessDurationSettings, AccessScopeSettings,
};
use steward_core::access_requests::{build_catalog, match_condition, CatalogResource};
use steward_core::directory::UserStatus;
use steward_store::StoreError;

use crate::error::{ApiError, ApiResult};
use crate::governance::engine::{self};
use crate::governance::{list_body, not_found};
use crate::http::{page_limit, Caller, OktaQuery};
use crate::AppState;

use super::{my_user_id, parse_filter, ListParams, DEFAULT_LIMIT, MAX_LIMIT, V2};

/// The catalog; with `memberships`, as the user with those groups sees it.
pub(super) async fn catalog(
    state: &AppState,
    memberships: Option<&[String]>,
) -> ApiResult<Vec<CatalogEntry>> {
    let mut resources = vec![];
    let mut group_names = std::collections::HashMap::new();
    for id in state
        .store
        .access_requests()
        .resources_with_active_conditions()
        .await?
    {
        let app = match state.store.app(&id).await {
            Ok(a) => a,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let conditions = state.store.access_requests().conditions(&id).await?;
        for c in &conditions {
            if let AccessScopeSettings::Groups { groups } = &c.access_scope_settings {
                for g in groups {
                    if !group_names.contains_key(&g.id) {
                        if let Ok(group) = state.store.group(&g.id).await {
                            group_names.insert(g.id.clone(), group.name().to_string());
                        }
                    }
                }
            }
        }
        resources.push(CatalogResource {
            id: app.id.clone(),
            name: app.label.clone(),
            description: None,
            conditions,
        });
    }
    Ok(build_catalog(&resources, memberships, &|id| {
        group_names.get(id).cloned()
    }))
}

fn render_entry(issuer: &str, base: &str, e: &CatalogEntry, my: bool) -> Value {
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

/// `filter` (required: `not(parent pr)` or `parent eq "cen…"`), `match`, `after`, `limit`.
fn page_entries(
    state: &AppState,
    entries: Vec<CatalogEntry>,
    params: &ListParams,
    path: &str,
    raw: Option<&str>,
    my: bool,
) -> ApiResult<Json<Value>> {
    let Some(f) = parse_filter(params.filter.as_deref())? else {
        return Err(ApiError::validation(
            "filter",
            "filter: The filter parameter is required and must reference parent",
        ));
    };
    let limit = page_limit(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let needle = params.match_text.as_deref().map(str::to_lowercase);
    let base = format!(
        "{V2}{}",
        if my {
            "/my/catalogs/default/entries"
        } else {
            "/catalogs/default/entries"
        }
    );
    let mut matched: Vec<&CatalogEntry> = entries
        .iter()
        .filter(|e| {
            let v = serde_json::to_value(e).unwrap_or_default();
            f.matches(&v)
                && needle
                    .as_deref()
                    .is_none_or(|n| e.name.to_lowercase().contains(n))
        })
        .collect();
    if let Some(after) = &params.after {
        match matched.iter().position(|e| &e.id == after) {
            Some(i) => matched.drain(..=i).for_each(drop),
            None => {
                return Err(ApiError::InvalidPaging(
                    "after: INVALID_AFTER_PARAMETER".into(),
                ))
            }
        }
    }
    let next = (matched.len() > limit).then(|| matched[limit - 1].id.clone());
    matched.truncate(limit);
    let issuer = &state.config.issuer;
    let data = matched
        .into_iter()
        .map(|e| render_entry(issuer, &base, e, my))
        .collect();
    Ok(Json(list_body(issuer, path, raw, data, next.as_deref())))
}

pub async fn list_entries(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let entries = catalog(&state, None).await?;
    let path = format!("{V2}/catalogs/default/entries");
    page_entries(&state, entries, &params, &path, raw.as_deref(), false)
}

pub async fn get_entry(
    State(state): State<AppState>,
    Path(entry_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let entries = catalog(&state, None).await?;
    let e = entries
        .iter()
        .find(|e| e.id == entry_id)
        .ok_or_else(|| not_found("CatalogEntry", &entry_id))?;
    let base = format!("{V2}/catalogs/default/entries");
    Ok(Json(render_entry(&state.config.issuer, &base, e, false)))
}

async fn active_user(state: &AppState, id: &str) -> ApiResult<steward_core::directory::User> {
    match state.store.user(id).await {
        Ok(u) if u.status == UserStatus::Active => Ok(u),
        Ok(_) | Err(StoreError::NotFound) => Err(not_found("User", id)),
        Err(e) => Err(e.into()),
    }
}

pub async fn list_user_entries(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let user = active_user(&state, &user_id).await?;
    let groups = engine::memberships(&state.store, &user.id).await?;
    let entries = catalog(&state, Some(&groups)).await?;
    let path = format!("{V2}/catalogs/default/user/{}/entries", user.id);
    page_entries(&state, entries, &params, &path, raw.as_deref(), false)
}

/// The fields a request for `entry` by `user_id` must answer: the access duration when the
/// matching condition lets the requester choose it.
async fn request_fields(state: &AppState, entry_id: &str, user_id: &str) -> ApiResult<Json<Value>> {
    let groups = engine::memberships(&state.store, user_id).await?;
    let entries = catalog(state, Some(&groups)).await?;
    let entry = entries
        .iter()
        .find(|e| e.id == entry_id && e.requestable)
        .ok_or_else(|| not_found("CatalogEntry", entry_id))?;
    let Some(requested) = &entry.requested else {
        return Err(not_found("CatalogEntry", entry_id));
    };
    let conditions = state
        .store
        .access_requests()
        .conditions(&requested.resource_id)
        .await?;
    let mut data = vec![];
    if let Ok(c) = match_condition(&conditions, requested, &groups) {
        if let Some(AccessDurationSettings::RequesterSpecifiedDuration { maximum_duration }) =
            &c.access_duration_settings
        {
            data.push(json!({
                "id": conditions::DURATION_FIELD_IDS[0],
                "type": "DURATION",
                "required": true,
                "label": "Access duration",
                "maximumValue": maximum_duration,
            }));
        }
    }
    Ok(Json(json!({"data": data, "metadata": {}})))
}

pub async fn entry_request_fields(
    State(state): State<AppState>,
    Path((entry_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let user = active_user(&state, &user_id).await?;
    request_fields(&state, &entry_id, &user.id).await
}

pub async fn my_list_entries(
    State(state): State<AppState>,
    caller: Caller,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let groups = engine::memberships(&state.store, &me).await?;
    let entries = catalog(&state, Some(&groups)).await?;
    let path = format!("{V2}/my/catalogs/default/entries");
    page_entries(&state, entries, &params, &path, raw.as_deref(), true)
}

pub(super) async fn my_entry(
    state: &AppState,
    me: &str,
    entry_id: &str,
) -> ApiResult<CatalogEntry> {
    let groups = engine::memberships(&state.store, me).await?;
    catalog(state, Some(&groups))
        .await?
        .into_iter()
        .find(|e| e.id == entry_id)
        .ok_or_else(|| not_found("CatalogEntry", entry_id))
}

pub async fn my_get_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(entry_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let e = my_entry(&state, &me, &entry_id).await?;
    let base = format!("{V2}/my/catalogs/default/entries");
    Ok(Json(render_entry(&state.config.issuer, &base, &e, true)))
}

pub async fn my_request_fields(
    State(state): State<AppState>,
    caller: Caller,
    Path(entry_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    request_fields(&state, &entry_id, &me).await
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
    request_fields(&state, &entry_id, &me).await
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
    my_entry(&state, &me, &entry_id).await?;
    let user = active_user(&state, &me).await?;
    let profile = |k: &str| user.profile.get(k).cloned().unwrap_or(Value::Null);
    let mut entry = json!({"id": user.id, "email": user.email()});
    for k in ["firstName", "lastName"] {
        if profile(k).is_string() {
            entry[k] = profile(k);
        }
    }
    let path = format!("{V2}/my/catalogs/default/entries/{entry_id}/users");
    Ok(Json(list_body(
        &state.config.issuer,
        &path,
        raw.as_deref(),
        vec![entry],
        None,
    )))
}
