//! Access Requests v2: request conditions, sequences, settings, catalogs, requests and tasks,
//! admin (`/governance/api/v2/…`) and end-user (`/governance/api/v2/my/…`).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_core::access_requests::catalog::CatalogEntry;
use steward_core::access_requests::conditions::{
    self, AccessDurationSettings, AccessScopeSettings, OrgRequestSettings, OrgRequestSettingsPatch,
    RequestConditionCreate, RequestConditionPatch, RequestSequenceWrite, ResourceRequestSettings,
    ResourceRequestSettingsPatch,
};
use steward_core::access_requests::workflow::{
    Decision, NewRequest, RequestFieldValue, RequestV2, Task,
};
use steward_core::access_requests::{
    build_catalog, from_body, match_condition, new_request_id, CatalogResource, Principal,
    RequestCondition, RequestSequence, RequestWorkflow,
};
use steward_core::directory::UserStatus;
use steward_core::filter::Filter;
use steward_core::syslog::{LogEvent, Target};
use steward_store::{RequestListQuery, StoreError, StoredRequest, TaskListQuery};

use steward_app::governance::tasks::{self, Decider};

use super::engine::{self, Effects};
use super::{found, list_body, not_found};
use crate::error::{ApiError, ApiResult};
use crate::guard::Credential;
use crate::http::{page_limit, Caller, OktaJson, OktaQuery};
use crate::AppState;

const V2: &str = "/governance/api/v2";
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListParams {
    filter: Option<String>,
    after: Option<String>,
    limit: Option<String>,
    #[serde(rename = "match")]
    match_text: Option<String>,
}

/// An optional JSON body: empty is `None`; malformed is `E0000003`.
fn optional_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<Option<T>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(from_body(&v)?))
}

/// A governance list's `filter` (SCIM).
fn parse_filter(text: Option<&str>) -> ApiResult<Option<Filter>> {
    crate::http::scim_filter(text, None)
}

/// The id that acts: the caller's user, else the service app's client id.
pub(crate) fn actor_id(caller: &Caller) -> String {
    match (&caller.principal.user, &caller.principal.credential) {
        (Some(u), _) => u.id.clone(),
        (None, Credential::AccessToken { client_id, .. }) => client_id.clone(),
        (None, _) => caller.actor().id,
    }
}

/// The caller as a typed principal (`requestedBy`, and the decider of a task): the user it acts
/// as (a user's own token, or an SSWS token, which acts as its admin), else the service app
/// (client credentials, by client id; `UNKNOWN` in Okta's principal shape).
pub(crate) fn caller_principal(caller: &Caller) -> Principal {
    match &caller.principal.user {
        Some(u) => Principal::user(&u.id),
        None => Principal::client(&actor_id(caller)),
    }
}

/// The user of a `my` call (the guard admits only user tokens there).
fn my_user_id(caller: &Caller) -> ApiResult<String> {
    caller
        .principal
        .user
        .as_ref()
        .map(|u| u.id.clone())
        .ok_or(ApiError::Forbidden)
}

fn log(caller: &Caller, event_type: &str, message: &str, now: i64) -> LogEvent {
    LogEvent::new(event_type, message, caller.actor(), now).client(caller.client.clone())
}

/// Resources are apps: 404 for anything else.
async fn resource(state: &AppState, id: &str) -> ApiResult<steward_core::apps::App> {
    found(state.store.app(id).await, "Resource", id)
}

// ---------------------------------------------------------------------------------------------
// Request settings

async fn resource_settings(
    state: &AppState,
    resource_id: &str,
) -> ApiResult<ResourceRequestSettings> {
    Ok(state
        .store
        .ar_settings::<ResourceRequestSettings>(resource_id)
        .await?
        .unwrap_or_else(|| ResourceRequestSettings::for_app(true, false)))
}

pub async fn get_resource_settings(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let s = resource_settings(&state, &app.id).await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()))
}

pub async fn update_resource_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(resource_id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let patch: ResourceRequestSettingsPatch = from_body(&body)?;
    let mut s = resource_settings(&state, &app.id).await?;
    s.apply(patch)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.ar_put_settings(&app.id, &s).await?;
    tx.append_log(
        &log(
            &caller,
            "access.request.settings.update",
            "Update resource request settings",
            now,
        )
        .target(Target::new(&app.id, "AppInstance", &app.name, &app.label)),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()))
}

async fn org_settings(state: &AppState) -> ApiResult<OrgRequestSettings> {
    Ok(state
        .store
        .ar_settings::<OrgRequestSettings>("org")
        .await?
        .unwrap_or_default())
}

pub async fn get_org_settings(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(
        serde_json::to_value(org_settings(&state).await?).unwrap_or_default(),
    ))
}

pub async fn update_org_settings(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let patch: OrgRequestSettingsPatch = from_body(&body)?;
    // Steward has no Slack or other integrations: only an empty list of them is accepted.
    if let Some(i) = &patch.integrations {
        let empty = match i.get("settings") {
            None => i.is_object(),
            Some(settings) => settings.as_array().is_some_and(Vec::is_empty),
        };
        if !empty {
            return Err(ApiError::validation(
                "integrations",
                "/integrations Steward supports no Access Requests integrations",
            ));
        }
    }
    let mut s = org_settings(&state).await?;
    s.apply(patch);
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.ar_put_settings("org", &s).await?;
    tx.append_log(&log(
        &caller,
        "access.request.settings.update",
        "Update org request settings",
        now,
    ))
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()))
}

// ---------------------------------------------------------------------------------------------
// Request conditions

fn render_condition(issuer: &str, resource_id: &str, c: &RequestCondition) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["_links"] = json!({"self": {"href": format!(
        "{issuer}{V2}/resources/{resource_id}/request-conditions/{}", c.id)}});
    v
}

async fn check_sequence(state: &AppState, id: Option<&str>) -> ApiResult<()> {
    if let Some(id) = id {
        match state.store.ar_sequence(id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::validation(
                    "AccessRequestCondition",
                    format!("/approvalSequenceId {id} is not an approval sequence"),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub async fn list_conditions(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let issuer = &state.config.issuer;
    let data = state
        .store
        .ar_conditions(&app.id)
        .await?
        .iter()
        .map(|c| render_condition(issuer, &app.id, c))
        .collect();
    let path = format!("{V2}/resources/{}/request-conditions", app.id);
    Ok(Json(list_body(issuer, &path, raw.as_deref(), data, None)))
}

pub async fn create_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path(resource_id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let app = resource(&state, &resource_id).await?;
    let create: RequestConditionCreate = from_body(&body)?;
    check_sequence(&state, create.approval_sequence_id.as_deref()).await?;
    let settings = resource_settings(&state, &app.id).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut all = tx.ar_conditions(&app.id).await?;
    let created = conditions::add_condition(&mut all, create, &settings, &actor_id(&caller), now)?;
    for c in &all {
        tx.ar_put_condition(&app.id, c).await?;
    }
    tx.append_log(
        &log(
            &caller,
            "access.request.condition.create",
            "Create request condition",
            now,
        )
        .target(Target::new(
            &created.id,
            "RequestCondition",
            &created.id,
            &created.name,
        )),
    )
    .await?;
    tx.commit().await?;
    let body = render_condition(&state.config.issuer, &app.id, &created);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn find_condition(
    state: &AppState,
    resource_id: &str,
    id: &str,
) -> ApiResult<RequestCondition> {
    state
        .store
        .ar_conditions(resource_id)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| not_found("RequestCondition", id))
}

pub async fn get_condition(
    State(state): State<AppState>,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let c = find_condition(&state, &app.id, &id).await?;
    Ok(Json(render_condition(&state.config.issuer, &app.id, &c)))
}

pub async fn update_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    find_condition(&state, &app.id, &id).await?;
    let patch: RequestConditionPatch = from_body(&body)?;
    check_sequence(&state, patch.approval_sequence_id.as_deref()).await?;
    let settings = resource_settings(&state, &app.id).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut all = tx.ar_conditions(&app.id).await?;
    let updated =
        conditions::update_condition(&mut all, &id, patch, &settings, &actor_id(&caller), now)?;
    for c in &all {
        tx.ar_put_condition(&app.id, c).await?;
    }
    tx.append_log(
        &log(
            &caller,
            "access.request.condition.update",
            "Update request condition",
            now,
        )
        .target(Target::new(&id, "RequestCondition", &id, &updated.name)),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(render_condition(
        &state.config.issuer,
        &app.id,
        &updated,
    )))
}

pub async fn delete_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let app = resource(&state, &resource_id).await?;
    find_condition(&state, &app.id, &id).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut all = tx.ar_conditions(&app.id).await?;
    all.retain(|c| c.id != id);
    all.sort_by_key(|c| c.priority);
    tx.ar_delete_condition(&id).await?;
    for (i, c) in all.iter_mut().enumerate() {
        c.priority = u32::try_from(i).unwrap_or(u32::MAX);
        tx.ar_put_condition(&app.id, c).await?;
    }
    tx.append_log(
        &log(
            &caller,
            "access.request.condition.delete",
            "Delete request condition",
            now,
        )
        .target(Target::new(&id, "RequestCondition", &id, &id)),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_condition_status(
    state: &AppState,
    caller: &Caller,
    resource_id: &str,
    id: &str,
    activate: bool,
) -> ApiResult<Json<Value>> {
    let app = resource(state, resource_id).await?;
    let mut c = find_condition(state, &app.id, id).await?;
    let now = state.clock.now();
    let actor = actor_id(caller);
    if activate {
        c.activate(&actor, now)?;
    } else {
        c.deactivate(&actor, now)?;
    }
    let (event_type, message) = if activate {
        (
            "access.request.condition.activate",
            "Activate request condition",
        )
    } else {
        (
            "access.request.condition.deactivate",
            "Deactivate request condition",
        )
    };
    let mut tx = state.store.begin().await?;
    tx.ar_put_condition(&app.id, &c).await?;
    tx.append_log(&log(caller, event_type, message, now).target(Target::new(
        id,
        "RequestCondition",
        id,
        &c.name,
    )))
    .await?;
    tx.commit().await?;
    Ok(Json(render_condition(&state.config.issuer, &app.id, &c)))
}

pub async fn activate_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    set_condition_status(&state, &caller, &resource_id, &id, true).await
}

pub async fn deactivate_condition(
    State(state): State<AppState>,
    caller: Caller,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    set_condition_status(&state, &caller, &resource_id, &id, false).await
}

// ---------------------------------------------------------------------------------------------
// Request sequences (Okta: list, get, delete; Steward adds create, replace and an org-wide list)

fn render_sequence(issuer: &str, s: &RequestSequence) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["link"] = Value::String(format!("{issuer}{V2}/request-sequences/{}", s.id));
    v
}

pub async fn list_resource_sequences(
    State(state): State<AppState>,
    Path(resource_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let app = resource(&state, &resource_id).await?;
    let issuer = &state.config.issuer;
    let data = state
        .store
        .ar_sequences()
        .await?
        .iter()
        .map(|s| render_sequence(issuer, s))
        .collect();
    let path = format!("{V2}/resources/{}/request-sequences", app.id);
    Ok(Json(list_body(issuer, &path, raw.as_deref(), data, None)))
}

pub async fn get_resource_sequence(
    State(state): State<AppState>,
    Path((resource_id, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    resource(&state, &resource_id).await?;
    let s = found(state.store.ar_sequence(&id).await, "RequestSequence", &id)?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

pub async fn list_sequences(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let issuer = &state.config.issuer;
    let data = state
        .store
        .ar_sequences()
        .await?
        .iter()
        .map(|s| render_sequence(issuer, s))
        .collect();
    let path = format!("{V2}/request-sequences");
    Ok(Json(list_body(issuer, &path, raw.as_deref(), data, None)))
}

pub async fn get_sequence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = found(state.store.ar_sequence(&id).await, "RequestSequence", &id)?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

pub async fn create_sequence(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Response> {
    let write: RequestSequenceWrite = from_body(&body)?;
    let s = RequestSequence::create(write, &state.config.issuer)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.ar_put_sequence(&s, now).await?;
    tx.append_log(
        &log(
            &caller,
            "access.request.sequence.create",
            "Create request sequence",
            now,
        )
        .target(Target::new(&s.id, "RequestSequence", &s.id, &s.name)),
    )
    .await?;
    tx.commit().await?;
    let body = render_sequence(&state.config.issuer, &s);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn replace_sequence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let mut s = found(state.store.ar_sequence(&id).await, "RequestSequence", &id)?;
    let write: RequestSequenceWrite = from_body(&body)?;
    s.update(write)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.ar_put_sequence(&s, now).await?;
    tx.append_log(
        &log(
            &caller,
            "access.request.sequence.update",
            "Update request sequence",
            now,
        )
        .target(Target::new(&s.id, "RequestSequence", &s.id, &s.name)),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(render_sequence(&state.config.issuer, &s)))
}

/// Deleting a sequence leaves the conditions that used it INVALID.
pub async fn delete_sequence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let s = found(state.store.ar_sequence(&id).await, "RequestSequence", &id)?;
    let now = state.clock.now();
    let actor = actor_id(&caller);
    let mut tx = state.store.begin().await?;
    for (resource_id, mut c) in tx.ar_conditions_using(&id).await? {
        if c.forget(&id, &actor, now) {
            tx.ar_put_condition(&resource_id, &c).await?;
        }
    }
    tx.ar_delete_sequence(&id).await?;
    tx.append_log(
        &log(
            &caller,
            "access.request.sequence.delete",
            "Delete request sequence",
            now,
        )
        .target(Target::new(&id, "RequestSequence", &id, &s.name)),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Catalogs

/// The catalog; with `memberships`, as the user with those groups sees it.
async fn catalog(state: &AppState, memberships: Option<&[String]>) -> ApiResult<Vec<CatalogEntry>> {
    let mut resources = vec![];
    let mut group_names = std::collections::HashMap::new();
    for id in state.store.ar_resources_with_active_conditions().await? {
        let app = match state.store.app(&id).await {
            Ok(a) => a,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let conditions = state.store.ar_conditions(&id).await?;
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
    let conditions = state.store.ar_conditions(&requested.resource_id).await?;
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

async fn my_entry(state: &AppState, me: &str, entry_id: &str) -> ApiResult<CatalogEntry> {
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

// ---------------------------------------------------------------------------------------------
// Requests

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
    let conds = state.store.ar_conditions(&requested.resource_id).await?;
    let matched = match match_condition(&conds, &requested, &groups) {
        Ok(c) => match state
            .store
            .ar_sequence(c.approval_sequence_id.as_deref().unwrap_or_default())
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
    let r = found(state.store.ar_request(&id).await, "Request", &id)?;
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
        .ar_requests(&RequestListQuery {
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
    let r = found(state.store.ar_request(&id).await, "Request", &id)?;
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
    tx.ar_insert_message(&id, request_id, now, &message).await?;
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
    let r = found(state.store.ar_request(&id).await, "Request", &id)?;
    let req = &r.workflow.request;
    let mine = req.requested_for.external_id == me || req.requested_by.external_id == me;
    if r.is_v1() || !mine || req.requested.entry_id.as_deref() != Some(entry_id.as_str()) {
        return Err(not_found("Request", &id));
    }
    Ok(Json(render_request(&state.config.issuer, &r.workflow)))
}

// ---------------------------------------------------------------------------------------------
// Tasks

/// A task; its `request` link names the request under its own API version (a v1 request is
/// not served under `/v2/requests`).
fn render_task(issuer: &str, t: &Task, my: bool, v1_request: bool) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or_default();
    let base = if my { "/my/tasks" } else { "/tasks" };
    let requests = if v1_request {
        "/governance/api/v1/requests"
    } else {
        "/governance/api/v2/requests"
    };
    v["_links"] = json!({
        "self": {"href": format!("{issuer}{V2}{base}/{}", t.id)},
        "request": {"href": format!("{issuer}{requests}/{}", t.request_id)},
    });
    v
}

/// Whether the task's request is a v1 request.
async fn of_v1_request(state: &AppState, t: &Task) -> ApiResult<bool> {
    let ids = [t.request_id.clone()];
    Ok(!state.store.ar_v1_request_ids(&ids).await?.is_empty())
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
        .ar_tasks(&TaskListQuery {
            assignee,
            filter: parse_filter(params.filter.as_deref())?,
            after: params.after,
            limit: limit + 1,
        })
        .await?;
    let (rows, next) = crate::http::split_page(rows, limit, |t| t.id.clone());
    let issuer = &state.config.issuer;
    let request_ids: Vec<String> = rows.iter().map(|t| t.request_id.clone()).collect();
    let v1 = state.store.ar_v1_request_ids(&request_ids).await?;
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
    let t = found(state.store.ar_task(&id).await, "Task", &id)?;
    let v1 = of_v1_request(&state, &t).await?;
    Ok(Json(render_task(&state.config.issuer, &t, false, v1)))
}

pub async fn my_get_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = my_user_id(&caller)?;
    let t = found(state.store.ar_task(&id).await, "Task", &id)?;
    let me = Principal::user(&me);
    if !t.is_assignee(&me) && t.completed_by.as_ref() != Some(&me) {
        return Err(not_found("Task", &id));
    }
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
    let t = found(state.store.ar_task(&id).await, "Task", &id)?;
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

/// The Access Requests v2 routes (admin and `my`), by family.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{my, need, Need, Routes};
    use steward_core::roles::Permission::{AccessRequestsManage, AccessRequestsRead};
    const V2: &str = "/governance/api/v2";
    const CONDITION_READ: Need = need("okta.accessRequests.condition.read", AccessRequestsRead);
    const CONDITION_MANAGE: Need =
        need("okta.accessRequests.condition.manage", AccessRequestsManage);
    const REQUEST_READ: Need = need("okta.accessRequests.request.read", AccessRequestsRead);
    const REQUEST_MANAGE: Need = need("okta.accessRequests.request.manage", AccessRequestsManage);
    const CATALOG_READ: Need = need("okta.accessRequests.catalog.read", AccessRequestsRead);
    const TASKS_READ: Need = need("okta.accessRequests.tasks.read", AccessRequestsRead);
    const TASKS_MANAGE: Need = need("okta.accessRequests.tasks.manage", AccessRequestsManage);
    let conditions = Routes::under("Request conditions", V2)
        .get(
            "/resources/{resourceId}/request-conditions",
            CONDITION_READ,
            list_conditions,
        )
        .post(
            "/resources/{resourceId}/request-conditions",
            CONDITION_MANAGE,
            create_condition,
        )
        .get(
            "/resources/{resourceId}/request-conditions/{requestConditionId}",
            CONDITION_READ,
            get_condition,
        )
        .patch(
            "/resources/{resourceId}/request-conditions/{requestConditionId}",
            CONDITION_MANAGE,
            update_condition,
        )
        .delete(
            "/resources/{resourceId}/request-conditions/{requestConditionId}",
            CONDITION_MANAGE,
            delete_condition,
        )
        .post(
            "/resources/{resourceId}/request-conditions/{requestConditionId}/activate",
            CONDITION_MANAGE,
            activate_condition,
        )
        .post(
            "/resources/{resourceId}/request-conditions/{requestConditionId}/deactivate",
            CONDITION_MANAGE,
            deactivate_condition,
        );
    let settings = Routes::under("Request settings", V2)
        .get(
            "/resources/{resourceId}/request-settings",
            CONDITION_READ,
            get_resource_settings,
        )
        .patch(
            "/resources/{resourceId}/request-settings",
            CONDITION_MANAGE,
            update_resource_settings,
        )
        .get("/request-settings", CONDITION_READ, get_org_settings)
        .patch("/request-settings", CONDITION_MANAGE, update_org_settings);
    let sequences = Routes::under("Request sequences", V2)
        .get(
            "/resources/{resourceId}/request-sequences",
            CONDITION_READ,
            list_resource_sequences,
        )
        .get(
            "/resources/{resourceId}/request-sequences/{sequenceId}",
            CONDITION_READ,
            get_resource_sequence,
        )
        .get("/request-sequences", CONDITION_READ, list_sequences)
        .post("/request-sequences", CONDITION_MANAGE, create_sequence)
        .get(
            "/request-sequences/{sequenceId}",
            CONDITION_READ,
            get_sequence,
        )
        .put(
            "/request-sequences/{sequenceId}",
            CONDITION_MANAGE,
            replace_sequence,
        )
        .delete(
            "/request-sequences/{sequenceId}",
            CONDITION_MANAGE,
            delete_sequence,
        );
    let requests = Routes::under("Requests (v2)", V2)
        .get("/requests", REQUEST_READ, list_requests)
        .post("/requests", REQUEST_MANAGE, create_request)
        .get("/requests/{requestId}", REQUEST_READ, get_request)
        .post(
            "/requests/{requestId}/messages",
            REQUEST_MANAGE,
            create_request_message,
        );
    let catalog = Routes::under("Catalog", V2)
        .get("/catalogs/default/entries", CATALOG_READ, list_entries)
        .get(
            "/catalogs/default/entries/{entryId}",
            CATALOG_READ,
            get_entry,
        )
        .get(
            "/catalogs/default/user/{userId}/entries",
            CATALOG_READ,
            list_user_entries,
        )
        .get(
            "/catalogs/default/entries/{entryId}/users/{userId}/request-fields",
            REQUEST_READ,
            entry_request_fields,
        );
    let tasks = Routes::under("Tasks", V2)
        .get("/tasks", TASKS_READ, list_tasks)
        .get("/tasks/{taskId}", TASKS_READ, get_task)
        .patch("/tasks/{taskId}", TASKS_MANAGE, update_task)
        .post("/tasks/{taskId}/resolve", TASKS_MANAGE, resolve_task);
    let my_catalog = Routes::under("My catalog and requests", V2)
        .get(
            "/my/catalogs/default/entries",
            my("okta.accessRequests.catalog.read"),
            my_list_entries,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}",
            my("okta.accessRequests.catalog.read"),
            my_get_entry,
        )
        .post(
            "/my/catalogs/default/entries/{entryId}/requests",
            my("okta.accessRequests.request.manage"),
            my_create_request,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}/requests/{requestId}",
            my("okta.accessRequests.request.read"),
            my_get_request,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}/request-fields",
            my("okta.accessRequests.request.read"),
            my_request_fields,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}/users",
            my("okta.accessRequests.catalog.read"),
            my_entry_users,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}/users/{userId}/request-fields",
            my("okta.accessRequests.catalog.read"),
            my_user_request_fields,
        );
    let my_tasks = Routes::under("My tasks", V2)
        .get(
            "/my/tasks",
            my("okta.accessRequests.tasks.read"),
            my_list_tasks,
        )
        .get(
            "/my/tasks/{taskId}",
            my("okta.accessRequests.tasks.read"),
            my_get_task,
        )
        .post(
            "/my/tasks/{taskId}/resolve",
            my("okta.accessRequests.tasks.manage"),
            my_resolve_task,
        );
    conditions
        .merge(settings)
        .merge(sequences)
        .merge(requests)
        .merge(catalog)
        .merge(tasks)
        .merge(my_catalog)
        .merge(my_tasks)
}
