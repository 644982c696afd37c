//! Resource owners (`/governance/api/v1/resource-owners`): configure a resource's owners, list
//! the resources that have owners and those that have none, remove owners.
//!
//! Steward's resources are its apps and groups, each its own parent (Steward keeps no
//! entitlements, bundles or collections: their ORNs are well-formed but name nothing, 404).
//! Owners are users and groups; a group owner's members each decide `RESOURCE_OWNER` approval
//! steps (see `engine::snapshot`). ORNs name this org's id, minted on first use
//! ([`steward_store::Store::org_id`]).
//!
//! * `GET /resource-owners` lists the resources under `parentResourceOrn` that have owners. The
//!   parent itself is listed with `include=parent_resource_owner`, or when `resource.orn` names
//!   it.
//! * `GET /resource-owners/catalog/resources` lists the resources under the parent, the parent
//!   included, that have no owners.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_core::access_requests::from_body;
use steward_core::apps::App;
use steward_core::directory::{Group, User};
use steward_core::resource_owners::{
    ConfigureOwners, OwnersConfiguration, OwnersFilter, OwnersList, OwnersRemoval, PatchOwners,
    PrincipalKind, PrincipalName, ResourceKind, ResourceName,
};
use steward_core::syslog::Target;
use steward_store::{OwnedResource, OwnersChanged, Store, StoreError, WriteTx};

use super::{list_body, not_found, v2_log};
use crate::error::{ApiError, ApiResult};
use crate::http::{link_headers, page_limit, split_page, Caller, OktaJson, OktaQuery};
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
// Handlers

/// `POST /resource-owners`: each resource's owners become exactly the principals given.
pub async fn configure(
    State(state): State<AppState>,
    caller: Caller,
    OktaJson(body): OktaJson<Value>,
) -> ApiResult<Json<Value>> {
    let org_id = state.store.org_id().await?;
    let wanted = from_body::<ConfigureOwners>(&body)?.validate(&org_id)?;
    let configured = configure_owners(&state, &caller, &org_id, wanted).await?;
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
    remove_owners(&state, &caller, &org_id, removal).await?;
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
    let page = owned_page(&state.store, &org_id, &filter, include_parent, after, limit).await?;
    let issuer = &state.config.issuer;
    let data = page
        .items
        .iter()
        .map(|(resource, owners)| render_owned(issuer, &org_id, &page.parent, resource, owners))
        .collect();
    let mut body = list_body(issuer, PATH, raw.as_deref(), data, page.next.as_deref());
    body["metadata"] = json!({ "total": page.total });
    let headers = link_headers(issuer, PATH, raw.as_deref(), page.next.as_deref());
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
    let (parent, items, next) = unowned_page(&state.store, &org_id, &filter, after, limit).await?;
    let issuer = &state.config.issuer;
    let data = items.iter().map(|r| r.render(&org_id)).collect();
    let mut body = list_body(issuer, CATALOG_PATH, raw.as_deref(), data, next.as_deref());
    body["parentResourceOrn"] = json!(parent.name().orn(&org_id));
    let headers = link_headers(issuer, CATALOG_PATH, raw.as_deref(), next.as_deref());
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
// The directory objects behind ORNs

/// A resource Steward keeps that can have owners.
#[derive(Clone)]
enum Ownable {
    App(Box<App>),
    Group(Group),
}

impl Ownable {
    fn name(&self) -> ResourceName {
        match self {
            Ownable::App(a) => ResourceName::app(&a.name, &a.id),
            Ownable::Group(g) => ResourceName::group(&g.id),
        }
    }

    fn id(&self) -> &str {
        match self {
            Ownable::App(a) => &a.id,
            Ownable::Group(g) => &g.id,
        }
    }

    fn display_name(&self) -> &str {
        match self {
            Ownable::App(a) => &a.label,
            Ownable::Group(g) => g.name(),
        }
    }

    /// Apps and groups are their own parents.
    fn stored(&self) -> OwnedResource {
        let kind = match self {
            Ownable::App(_) => ResourceKind::App,
            Ownable::Group(_) => ResourceKind::Group,
        };
        OwnedResource::top_level(kind, self.id())
    }

    fn target(&self) -> Target {
        match self {
            Ownable::App(a) => Target::app(a),
            Ownable::Group(g) => Target::group(g),
        }
    }

    /// Okta's `resource-owner-resource`.
    fn render(&self, org_id: &str) -> Value {
        let name = self.name();
        let mut profile = json!({ "id": self.id(), "name": self.display_name() });
        if let Ownable::Group(g) = self {
            if let Some(d) = g.profile.get("description").and_then(Value::as_str) {
                if !d.is_empty() {
                    profile["description"] = json!(d);
                }
            }
        }
        json!({
            "id": self.id(),
            "type": name.kind.object_type(),
            "orn": name.orn(org_id),
            "profile": profile,
        })
    }
}

/// An owner.
#[derive(Clone)]
enum Owner {
    User(User),
    Group(Group),
}

impl Owner {
    fn name(&self) -> PrincipalName {
        match self {
            Owner::User(u) => PrincipalName::user(&u.id),
            Owner::Group(g) => PrincipalName::group(&g.id),
        }
    }

    fn target(&self) -> Target {
        match self {
            Owner::User(u) => Target::user(u),
            Owner::Group(g) => Target::group(g),
        }
    }

    /// Okta's `resource-owner-principal`.
    fn render(&self, issuer: &str, org_id: &str) -> Value {
        let name = self.name();
        let profile = match self {
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
        owners.iter().map(|o| o.render(issuer, org_id)).collect()
    };
    json!({
        "parentResourceOrn": parent.name().orn(org_id),
        "resource": resource.render(org_id),
        "principals": principals,
    })
}

/// `Some` when found, `None` for `NotFound`.
fn if_found<T>(r: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The app or group `name` names, if Steward has it (an app's ORN must carry its name).
async fn ownable(store: &Store, name: &ResourceName) -> Result<Option<Ownable>, StoreError> {
    Ok(match name.kind {
        ResourceKind::App => if_found(store.app(&name.id).await)?
            .filter(|a| name.app_name.as_deref() == Some(a.name.as_str()))
            .map(|a| Ownable::App(Box::new(a))),
        ResourceKind::Group => if_found(store.group(&name.id).await)?.map(Ownable::Group),
        // Steward keeps no entitlements, bundles or collections.
        ResourceKind::EntitlementBundle
        | ResourceKind::EntitlementValue
        | ResourceKind::Collection => None,
    })
}

async fn known_resource(store: &Store, org_id: &str, name: &ResourceName) -> ApiResult<Ownable> {
    ownable(store, name)
        .await?
        .ok_or_else(|| not_found("Resource", &name.orn(org_id)))
}

async fn owner(store: &Store, name: &PrincipalName) -> Result<Option<Owner>, StoreError> {
    Ok(match name.kind {
        PrincipalKind::User => if_found(store.user(&name.id).await)?.map(Owner::User),
        PrincipalKind::Group => if_found(store.group(&name.id).await)?.map(Owner::Group),
    })
}

/// The owners that still exist, in order.
async fn owners(store: &Store, names: &[PrincipalName]) -> Result<Vec<Owner>, StoreError> {
    let mut out = vec![];
    for name in names {
        out.extend(owner(store, name).await?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The operations

/// Replaces the owners of every resource of `wanted` in one transaction, logging each owner
/// added and removed. Every ORN must name an existing resource or principal (else 404, and
/// nothing is written). Returns each resource with its owners.
async fn configure_owners(
    state: &AppState,
    caller: &Caller,
    org_id: &str,
    wanted: OwnersConfiguration,
) -> ApiResult<Vec<(Ownable, Vec<Owner>)>> {
    let store = &state.store;
    let mut resources = vec![];
    for name in &wanted.resources {
        resources.push(known_resource(store, org_id, name).await?);
    }
    let mut principals = vec![];
    for name in &wanted.principals {
        let found = owner(store, name).await?.ok_or_else(|| {
            let what = match name.kind {
                PrincipalKind::User => "User",
                PrincipalKind::Group => "Group",
            };
            not_found(what, &name.orn(org_id))
        })?;
        principals.push(found);
    }
    // Every name the log may need is read before the transaction: inside it, on PostgreSQL,
    // configurations of one resource queue on its lock while holding their connections, and a
    // read from the pool there could wait for a connection none of them will give back.
    let mut targets = owner_targets(&principals);
    for resource in &resources {
        let current = store.resource_owners(resource.id()).await?;
        targets.extend(owner_targets(&owners(store, &current).await?));
    }
    let now = state.clock.now();
    let mut tx = store.begin().await?;
    for resource in &resources {
        let changed = tx
            .set_resource_owners(&resource.stored(), &wanted.principals, now)
            .await?;
        log_changes(&mut tx, &targets, caller, org_id, resource, &changed, now).await?;
    }
    tx.commit().await?;
    Ok(resources
        .into_iter()
        .map(|r| (r, principals.clone()))
        .collect())
}

/// Removes owners from one resource; removing a principal that is no owner changes nothing.
async fn remove_owners(
    state: &AppState,
    caller: &Caller,
    org_id: &str,
    removal: OwnersRemoval,
) -> ApiResult<()> {
    let store = &state.store;
    let resource = known_resource(store, org_id, &removal.resource).await?;
    let targets = owner_targets(&owners(store, &removal.principals).await?);
    let now = state.clock.now();
    let mut tx = store.begin().await?;
    let removed = tx
        .remove_resource_owners(resource.id(), &removal.principals)
        .await?;
    let changed = OwnersChanged {
        added: vec![],
        removed,
    };
    log_changes(&mut tx, &targets, caller, org_id, &resource, &changed, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The System Log targets of these owners, by principal id.
fn owner_targets(owners: &[Owner]) -> HashMap<String, Target> {
    owners.iter().map(|o| (o.name().id, o.target())).collect()
}

/// One System Log event per owner added (`governance.resource_owner.add`) or removed
/// (`governance.resource_owner.remove`), targeting the resource and the owner.
async fn log_changes(
    tx: &mut WriteTx,
    targets: &HashMap<String, Target>,
    caller: &Caller,
    org_id: &str,
    resource: &Ownable,
    changed: &OwnersChanged,
    now: i64,
) -> ApiResult<()> {
    let added = changed
        .added
        .iter()
        .map(|p| ("governance.resource_owner.add", "Add resource owner", p));
    let removed = changed.removed.iter().map(|p| {
        (
            "governance.resource_owner.remove",
            "Remove resource owner",
            p,
        )
    });
    for (event_type, message, principal) in added.chain(removed) {
        let principal_target = match targets.get(&principal.id) {
            Some(t) => t.clone(),
            None => {
                let kind = match principal.kind {
                    PrincipalKind::User => "User",
                    PrincipalKind::Group => "UserGroup",
                };
                Target::new(&principal.id, kind, &principal.id, &principal.id)
            }
        };
        let event = v2_log(caller, event_type, message, now)
            .target(resource.target())
            .target(principal_target)
            .debug("resourceOrn", resource.name().orn(org_id))
            .debug("principalOrn", principal.orn(org_id));
        tx.append_log(&event).await?;
    }
    Ok(())
}

/// One page of the resources under `parent` that have owners, with their owners; `total`
/// counts every match, `next` is the next page's cursor.
struct OwnedPage {
    parent: Ownable,
    items: Vec<(Ownable, Vec<Owner>)>,
    total: usize,
    next: Option<String>,
}

async fn owned_page(
    store: &Store,
    org_id: &str,
    filter: &OwnersFilter,
    include_parent: bool,
    after: Option<&str>,
    limit: usize,
) -> ApiResult<OwnedPage> {
    let parent = known_resource(store, org_id, filter_parent(filter)?).await?;
    // The parent is listed on request: `include=parent_resource_owner`, or `resource.orn`.
    let parent_asked = include_parent
        || filter
            .resource
            .as_ref()
            .is_some_and(|r| r.same_as(&parent.name()));
    let mut matched = vec![];
    for row in store.owned_resources(parent.id()).await? {
        let resource = if row.resource.id == parent.id() {
            if !parent_asked {
                continue;
            }
            parent.clone()
        } else {
            match stored_ownable(store, &row.resource).await? {
                Some(r) => r,
                None => continue,
            }
        };
        if filter.admits(&resource.name(), resource.display_name()) {
            matched.push((resource, row.principals));
        }
    }
    let total = matched.len();
    let rest: Vec<_> = matched
        .into_iter()
        .filter(|(r, _)| after.is_none_or(|a| r.id() > a))
        .take(limit + 1)
        .collect();
    let (rows, next) = split_page(rest, limit, |(r, _)| r.id().to_string());
    let mut items = vec![];
    for (resource, principals) in rows {
        items.push((resource, owners(store, &principals).await?));
    }
    Ok(OwnedPage {
        parent,
        items,
        total,
        next,
    })
}

fn filter_parent(filter: &OwnersFilter) -> ApiResult<&ResourceName> {
    filter
        .parent()
        .ok_or_else(|| ApiError::InvalidFilter("the filter must name parentResourceOrn".into()))
}

/// The directory object of a stored resource (apps and groups; others are not kept).
async fn stored_ownable(store: &Store, r: &OwnedResource) -> Result<Option<Ownable>, StoreError> {
    Ok(match r.kind {
        ResourceKind::App => if_found(store.app(&r.id).await)?.map(|a| Ownable::App(Box::new(a))),
        ResourceKind::Group => if_found(store.group(&r.id).await)?.map(Ownable::Group),
        _ => None,
    })
}

/// The resources under the filter's parent that have no owners. In Steward that is at most the
/// parent itself: apps and groups have no child resources. Returns (parent, page, next cursor).
async fn unowned_page(
    store: &Store,
    org_id: &str,
    filter: &OwnersFilter,
    after: Option<&str>,
    limit: usize,
) -> ApiResult<(Ownable, Vec<Ownable>, Option<String>)> {
    let parent = known_resource(store, org_id, filter_parent(filter)?).await?;
    let family = [parent.clone()];
    let mut unowned = vec![];
    for resource in family {
        if after.is_none_or(|a| resource.id() > a)
            && filter.admits(&resource.name(), resource.display_name())
            && store.resource_owners(resource.id()).await?.is_empty()
        {
            unowned.push(resource);
        }
    }
    let (page, next) = split_page(unowned, limit, |r| r.id().to_string());
    Ok((parent, page, next))
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
