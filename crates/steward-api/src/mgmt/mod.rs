//! The Okta Management API core: users, groups, apps, admin roles and the System Log.

mod app_credentials;
mod apps;
pub mod bootstrap_org;
mod grants;
mod groups;
mod logs;
mod roles;
pub(crate) mod users;

use steward_core::filter::{self, Filter};
use steward_core::syslog::LogEvent;
use steward_core::timefmt::now_millis;

pub use bootstrap_org as bootstrap;

use crate::error::ApiError;
use crate::http::Caller;
use crate::routes::Routes;

/// The Management API routes, each area's from its own module.
pub fn routes() -> Routes {
    users::routes()
        .merge(roles::user_routes())
        .merge(groups::routes())
        .merge(apps::routes())
        .merge(app_credentials::routes())
        .merge(grants::routes())
        .merge(roles::client_routes())
        .merge(logs::routes())
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
