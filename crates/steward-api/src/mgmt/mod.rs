//! The Okta Management API core: users, groups, apps, admin roles and the System Log.

mod apps;
pub mod bootstrap_org;
mod grants;
mod groups;
mod logs;
mod roles;
pub(crate) mod users;

use axum::routing::{get, post, put};
use axum::Router;
use steward_core::filter::{self, Filter};
use steward_core::syslog::LogEvent;
use steward_core::timefmt::now_millis;

pub use bootstrap_org as bootstrap;

use crate::error::ApiError;
use crate::http::Caller;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(users::list).post(users::create))
        .route(
            "/api/v1/users/{id}",
            get(users::get)
                .post(users::update)
                .put(users::replace)
                .delete(users::delete),
        )
        .route("/api/v1/users/{id}/lifecycle/{op}", post(users::lifecycle))
        .route("/api/v1/users/{id}/groups", get(users::groups))
        .route(
            "/api/v1/users/{id}/roles",
            get(roles::list_for_user).post(roles::assign_to_user),
        )
        .route(
            "/api/v1/users/{id}/roles/{roleId}",
            get(roles::get_for_user).delete(roles::unassign_from_user),
        )
        .route("/api/v1/groups", get(groups::list).post(groups::create))
        .route(
            "/api/v1/groups/{id}",
            get(groups::get).put(groups::replace).delete(groups::delete),
        )
        .route("/api/v1/groups/{id}/users", get(groups::members))
        .route(
            "/api/v1/groups/{id}/users/{userId}",
            put(groups::add_member).delete(groups::remove_member),
        )
        .route("/api/v1/apps", get(apps::list).post(apps::create))
        .route(
            "/api/v1/apps/{id}",
            get(apps::get).put(apps::replace).delete(apps::delete),
        )
        .route("/api/v1/apps/{id}/lifecycle/{op}", post(apps::lifecycle))
        .route(
            "/api/v1/apps/{id}/users",
            get(apps::list_users).post(apps::assign_user),
        )
        .route(
            "/api/v1/apps/{id}/users/{userId}",
            get(apps::get_user).delete(apps::unassign_user),
        )
        .route("/api/v1/apps/{id}/groups", get(apps::list_groups))
        .route(
            "/api/v1/apps/{id}/groups/{groupId}",
            get(apps::get_group)
                .put(apps::assign_group)
                .delete(apps::unassign_group),
        )
        .route(
            "/oauth2/v1/clients/{clientId}/roles",
            get(roles::list_for_client).post(roles::assign_to_client),
        )
        .route(
            "/oauth2/v1/clients/{clientId}/roles/{roleId}",
            get(roles::get_for_client).delete(roles::unassign_from_client),
        )
        .route(
            "/api/v1/apps/{id}/grants",
            get(grants::list).post(grants::grant),
        )
        .route(
            "/api/v1/apps/{id}/grants/{grantId}",
            get(grants::get).delete(grants::revoke),
        )
        .route("/api/v1/logs", get(logs::list))
}

/// A System Log event for this caller's action.
fn event(caller: &Caller, event_type: &str, message: &str) -> LogEvent {
    LogEvent::new(event_type, message, caller.actor(), now_millis()).client(caller.client.clone())
}

/// Parses `filter` and `search` (both SCIM) and joins them with `and`.
fn scim(filter_text: Option<&str>, search_text: Option<&str>) -> Result<Option<Filter>, ApiError> {
    let parse = |text: Option<&str>| -> Result<Option<Filter>, ApiError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => filter::parse(t)
                .map(Some)
                .map_err(|e| ApiError::InvalidFilter(e.message)),
            None => Ok(None),
        }
    };
    Ok(match (parse(filter_text)?, parse(search_text)?) {
        (Some(a), Some(b)) => Some(Filter::And(Box::new(a), Box::new(b))),
        (a, b) => a.or(b),
    })
}
