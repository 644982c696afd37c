//! The Okta Management API core: users, groups, apps, admin roles and the System Log.

mod api_tokens;
mod app_credentials;
mod apps;
mod clients;
mod grants;
mod groups;
mod logs;
mod roles;
pub(crate) mod users;

use crate::routes::Routes;

/// The Management API routes, each area's from its own module.
pub fn routes() -> Routes {
    users::routes()
        .merge(roles::user_routes())
        .merge(groups::routes())
        .merge(apps::routes())
        .merge(app_credentials::routes())
        .merge(grants::routes())
        .merge(clients::routes())
        .merge(roles::client_routes())
        .merge(logs::routes())
        .merge(api_tokens::routes())
}

use crate::http::scim_filter as scim;
