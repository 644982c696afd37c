//! Resource owners (`/governance/api/v1/resource-owners`): configure a resource's owners, list
//! the resources that have owners and those that have none, remove owners.
//!
//! Steward's resources are its apps and groups, each its own parent (Steward keeps no
//! entitlements, bundles or collections: their ORNs are well-formed but name nothing, 404).
//! Owners are users and groups; a group owner's members each decide `RESOURCE_OWNER` approval
//! steps (see `engine::snapshot`). ORNs name this org's id, minted on first use
//! ([`steward_store::Store::org_id`]). The use cases are `steward_app::governance::resource_owners`.
//!
//! * `GET /resource-owners` lists the resources under `parentResourceOrn` that have owners. The
//!   parent itself is listed with `include=parent_resource_owner`, or when `resource.orn` names
//!   it.
//! * `GET /resource-owners/catalog/resources` lists the resources under the parent, the parent
//!   included, that have no owners.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_app::governance::resource_owners::{self, Ownable, Owner};
use steward_core::access_requests::from_body;
use steward_core::resource_owners::{ConfigureOwners, OwnersFilter, OwnersList, PatchOwners};

use super::list_body;
use crate::error::{ApiError, ApiResult};
use crate::http::{link_headers, page_limit, Caller, OktaJson, OktaQuery};
use crate::AppState;

const PATH: &str = "/governance/api/v1/resource-owners";
const CATALOG_PATH: &str = "/governance/api/v1/resource-owners/catalog/resources";
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;
const INCLUDE_PARENT: &str = "parent_resource_owner";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListParams {
    filter: Option<String>,
    after: Option<String>,
    limit: Option<String>,
    include: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Handlers (ORNs name the org's id: it is read first, to parse the body or the filter)

/// `POST /resource-owners`: each resource's owners become exactly the principals given.
pub async fn configure(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let org_id = state.store.org_id().await?;
    let wanted = from_body::<ConfigureOwners>(&body)?.validate(&org_id)?;
    let configured = resource_owners::configure(&caller.ctx(&state), &org_id, wanted).await?;
    let issuer = &state.config.issuer;
    let data: Vec<Value> = configured
        .iter()
        .map(|(resource, owners)| render_owned(issuer, &org_id, resource, resource, owners))
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// `PATCH /resource-owners`: removes owners from one resource (204).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<StatusCode> {
    let org_id = state.store.org_id().await?;
    let removal = from_body::<PatchOwners>(&body)?.validate(&org_id)?;
    resource_owners::remove(&caller.ctx(&state), &org_id, removal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /resource-owners`: the resources under a parent that have owners.
pub async fn list_owned(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    let org_id = state.store.org_id().await?;
    let filter = read_filter(params.filter.as_deref(), &org_id, OwnersList::Owned)?;
    let include_parent = includes_parent(params.include.as_deref())?;
    let limit = page_limit(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = params.after.as_deref();
    let owned =
        resource_owners::owned(&state.store, &org_id, &filter, include_parent, after, limit)
            .await?;
    let issuer = &state.config.issuer;
    let data = owned
        .page
        .items
        .iter()
        .map(|(resource, owners)| render_owned(issuer, &org_id, &owned.parent, resource, owners))
        .collect();
    let next = owned.page.next.as_deref();
    let mut body = list_body(issuer, PATH, raw.as_deref(), data, next);
    body["metadata"] = json!({ "total": owned.total });
    let headers = link_headers(issuer, PATH, raw.as_deref(), next);
    Ok((headers, Json(body)))
}

/// `GET /resource-owners/catalog/resources`: the resources under a parent without owners.
pub async fn list_unowned(
    State(state): State<AppState>,
    OktaQuery(params): OktaQuery<ListParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    let org_id = state.store.org_id().await?;
    let filter = read_filter(params.filter.as_deref(), &org_id, OwnersList::Unowned)?;
    let limit = page_limit(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = params.after.as_deref();
    let (parent, page) =
        resource_owners::unowned(&state.store, &org_id, &filter, after, limit).await?;
    let issuer = &state.config.issuer;
    let data = page
        .items
        .iter()
        .map(|r| render_resource(r, &org_id))
        .collect();
    let next = page.next.as_deref();
    let mut body = list_body(issuer, CATALOG_PATH, raw.as_deref(), data, next);
    body["parentResourceOrn"] = json!(parent.name().orn(&org_id));
    let headers = link_headers(issuer, CATALOG_PATH, raw.as_deref(), next);
    Ok((headers, Json(body)))
}

fn read_filter(text: Option<&str>, org_id: &str, list: OwnersList) -> ApiResult<OwnersFilter> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(ApiError::validation(
            "filter",
            "filter: The filter parameter is required and must name parentResourceOrn",
        ));
    };
    let Some(parsed) = crate::http::scim_filter(Some(text), None)? else {
        return Err(ApiError::InvalidFilter("empty filter".into()));
    };
    OwnersFilter::read(&parsed, org_id, list).map_err(ApiError::InvalidFilter)
}

/// `include` (comma-separated): only `parent_resource_owner` is known.
fn includes_parent(include: Option<&str>) -> ApiResult<bool> {
    let mut parent = false;
    for value in include.unwrap_or_default().split(',').map(str::trim) {
        match value {
            "" => {}
            INCLUDE_PARENT => parent = true,
            other => {
                return Err(ApiError::validation(
                    "include",
                    format!(
                    "include: {other} must be equal to one of the allowed values: {INCLUDE_PARENT}"
                ),
                ))
            }
        }
    }
    Ok(parent)
}

// ---------------------------------------------------------------------------------------------
// Renderers

/// Okta's `resource-owner-resource`.
fn render_resource(resource: &Ownable, org_id: &str) -> Value {
    let name = resource.name();
    let mut profile = json!({ "id": resource.id(), "name": resource.display_name() });
    if let Ownable::Group(g) = resource {
        if let Some(d) = g.profile.get("description").and_then(Value::as_str) {
            if !d.is_empty() {
                profile["description"] = json!(d);
            }
        }
    }
    json!({
        "id": resource.id(),
        "type": name.kind.object_type(),
        "orn": name.orn(org_id),
        "profile": profile,
    })
}

/// Okta's `resource-owner-principal`.
fn render_owner(owner: &Owner, issuer: &str, org_id: &str) -> Value {
    let name = owner.name();
    let profile = match owner {
        Owner::User(u) => {
            let mut p = json!({
                "id": u.id,
                "name": u.display_name(),
                // Okta links its Admin Console page; Steward has none, so the API resource.
                "_links": {"self": {"href": format!("{issuer}/api/v1/users/{}", u.id)}},
            });
            if let Some(email) = u.profile.get("email").and_then(Value::as_str) {
                p["email"] = json!(email);
            }
            p
        }
        Owner::Group(g) => json!({
            "id": g.id,
            "name": g.name(),
            "_links": {"self": {"href": format!("{issuer}/api/v1/groups/{}", g.id)}},
        }),
    };
    json!({
        "id": name.principal_id(),
        "type": name.kind.object_type(),
        "orn": name.orn(org_id),
        "profile": profile,
    })
}

/// Okta's `resource-owner`: the resource, its parent's ORN and its owners (`null` for none).
fn render_owned(
    issuer: &str,
    org_id: &str,
    parent: &Ownable,
    resource: &Ownable,
    owners: &[Owner],
) -> Value {
    let principals = if owners.is_empty() {
        Value::Null
    } else {
        owners
            .iter()
            .map(|o| render_owner(o, issuer, org_id))
            .collect()
    };
    json!({
        "parentResourceOrn": parent.name().orn(org_id),
        "resource": render_resource(resource, org_id),
        "principals": principals,
    })
}

/// The resource-owner routes.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{need, Need, Routes};
    use steward_core::roles::Permission::{ResourceOwnersManage, ResourceOwnersRead};
    const READ: Need = need("okta.governance.resourceOwner.read", ResourceOwnersRead);
    const MANAGE: Need = need("okta.governance.resourceOwner.manage", ResourceOwnersManage);
    Routes::under("Resource owners", "/governance/api/v1")
        .get("/resource-owners", READ, list_owned)
        .post("/resource-owners", MANAGE, configure)
        .patch("/resource-owners", MANAGE, update)
        .get("/resource-owners/catalog/resources", READ, list_unowned)
}
