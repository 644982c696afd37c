//! Okta Identity Governance: Access Requests v1 and v2, admin and end-user, and resource owners
//! (`/governance/api`).
//!
//! * [`v2`]: request conditions, sequences (Steward adds create and update), settings, catalogs,
//!   requests and tasks, admin and `my`.
//! * [`v1`]: request types, teams, requests and their messages.
//! * [`resource_owners`]: who owns apps and groups (the `RESOURCE_OWNER` approvers).
//! * Their use cases live in `steward_app::governance` (one module per area: conditions,
//!   sequences, settings, catalog, requests, tasks, v1, resource owners, with the engine, the
//!   scheduler and the demo seed): each handler authorizes, parses, makes one call and renders.
//!
//! Time comes from the injectable [`Clock`] in `AppState`, so tests drive expiry without sleeping.

pub mod resource_owners;
pub mod v1;
pub mod v2;

use serde_json::{json, Value};
use steward_app::Ctx;
use steward_store::StoreError;

pub use steward_app::governance::{engine, Clock, EventBus, GovernanceEvent, Pass};

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Handles every access request due at `now` as Steward, publishing on the state's bus (what
/// the scheduler does every few seconds; tests call it with the clock they set).
pub async fn run_due(state: &AppState, now: i64) -> Result<Pass, StoreError> {
    let ctx = Ctx::system(&state.store).at(now).with_bus(&state.events);
    steward_app::governance::run_due(&ctx).await
}

/// Runs the access-request scheduler on the state's store, bus and clock every `every`.
pub fn spawn_scheduler(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    steward_app::governance::spawn_scheduler(state.store, state.events, state.clock, every)
}

pub(crate) fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("{id} ({what})"))
}

/// Maps a store `NotFound` to Okta's 404 naming the object.
pub(crate) fn found<T>(r: Result<T, StoreError>, what: &str, id: &str) -> ApiResult<T> {
    match r {
        Ok(v) => Ok(v),
        Err(StoreError::NotFound) => Err(not_found(what, id)),
        Err(e) => Err(e.into()),
    }
}

/// `{ "data": [...], "_links": { "self": …, "next": … } }`, the governance list shape.
pub(crate) fn list_body(
    issuer: &str,
    path: &str,
    query: Option<&str>,
    data: Vec<Value>,
    next_after: Option<&str>,
) -> Value {
    let self_href = match query {
        Some(q) if !q.is_empty() => format!("{issuer}{path}?{q}"),
        _ => format!("{issuer}{path}"),
    };
    let mut links = json!({"self": {"href": self_href}});
    if let Some(after) = next_after {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "after");
        pairs.push(("after".into(), after.into()));
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        links["next"] = json!({"href": format!("{issuer}{path}?{q}")});
    }
    json!({"data": data, "_links": links})
}

/// Every governance route, each area's from its own module.
pub fn routes() -> crate::routes::Routes {
    v2::routes()
        .merge(v1::routes())
        .merge(resource_owners::routes())
}
