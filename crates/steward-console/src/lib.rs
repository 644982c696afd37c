//! The Admin Console, mounted at `/admin`, and the end-user dashboard, mounted at `/app`:
//! server-rendered pages (minijinja templates in this crate, one stylesheet and a few lines of
//! script served as static files, no inline script).
//!
//! * **Sign-in** is the org's own OAuth: the console is the OIDC client "Steward Admin Console"
//!   (authorization code + PKCE S256, redirect URI `{issuer}/admin/callback`); the code is
//!   exchanged in-process through the OAuth router (`tower::ServiceExt::oneshot`), and the ID
//!   token's user becomes the session's principal ([`signin`]).
//! * **Sessions** are server-side (`console_sessions`, only the SHA-256 of the cookie's value
//!   stored), with idle and absolute expiry; every form carries the session's CSRF token
//!   ([`session`]).
//! * **Pages** call `steward-app` use cases and store reads, never the HTTP API; every page
//!   checks the admin's permission (the one model of `steward_core::roles`), and every POST
//!   checks it again.
//! * **The end-user dashboard** (`/app`, [`end_user_router`]) signs in the same way with the same
//!   OIDC client and its own cookie and callback; it needs no admin role. Its pages
//!   ([`enduser`]) are the request catalog, the request form, my requests and my approval tasks,
//!   each showing only what the `/governance/api/v2/my/…` API shows the user.

// Applications (create, Assignments) and Security > Administrators
mod admins;
mod app_assignments;
mod app_new;
mod apps;
mod connections;
mod directory;
mod enduser;
mod governance;
mod home;
mod logs;
mod pages;
mod request_history;
mod session;
mod signin;
mod workflows;

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use steward_api::AppState;
use steward_app::{AppError, Ctx};

pub use session::{APP_COOKIE, COOKIE};

/// One of the two consoles the sign-in machinery serves: where it is mounted, its cookie, its
/// name in pages, and whether it is for administrators only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Surface {
    /// The path it is mounted at (`/admin`, `/app`).
    pub base: &'static str,
    /// Its session cookie on plain http; under https the `__Host-` one.
    pub cookie: &'static str,
    pub cookie_host: &'static str,
    /// Its name in pages ("Admin Console").
    pub name: &'static str,
    /// Whether only a user holding an admin role may use it.
    pub admin: bool,
}

/// The Admin Console at `/admin`.
pub(crate) const ADMIN: Surface = Surface {
    base: "/admin",
    cookie: "steward_console",
    cookie_host: "__Host-steward_console",
    name: "Admin Console",
    admin: true,
};

/// The end-user dashboard at `/app`.
pub(crate) const END_USER: Surface = Surface {
    base: "/app",
    cookie: "steward_app",
    cookie_host: "__Host-steward_app",
    name: "Dashboard",
    admin: false,
};

/// How long console sessions live.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// A session not used for this long ends (ms).
    pub idle_timeout_ms: i64,
    /// A session ends this long after sign-in whatever happens (ms).
    pub absolute_timeout_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle_timeout_ms: 30 * 60 * 1000,
            absolute_timeout_ms: 12 * 3600 * 1000,
        }
    }
}

/// The console's state: the API's state (store, clock, signing keys, issuer), its settings, and
/// the OAuth router the code exchange goes through.
#[derive(Clone)]
pub struct Console {
    pub(crate) api: AppState,
    pub(crate) settings: Settings,
    pub(crate) oauth: Router,
    pub(crate) client_id: Arc<str>,
    pub(crate) surface: Surface,
}

impl Console {
    pub(crate) fn issuer(&self) -> &str {
        &self.api.config.issuer
    }

    pub(crate) fn now(&self) -> i64 {
        self.api.clock.now()
    }

    /// Steward acting (start-up).
    fn system_ctx(&self) -> Ctx<'_> {
        Ctx::system(&self.api.store).at(self.now())
    }
}

/// Makes sure the console's OIDC app exists for this issuer, and returns the console's router,
/// to be mounted at `/admin` (`steward_api::router_with`).
pub async fn router(api: AppState, settings: Settings) -> Result<Router, AppError> {
    let console = console(api, settings, ADMIN).await?;
    Ok(admin_routes().with_state(console))
}

/// The end-user dashboard's router, to be mounted at `/app`: any ACTIVE user the console's app
/// is assigned to (Everyone) may sign in; no admin role is needed.
pub async fn end_user_router(api: AppState, settings: Settings) -> Result<Router, AppError> {
    let console = console(api, settings, END_USER).await?;
    Ok(enduser_routes().with_state(console))
}

async fn console(api: AppState, settings: Settings, surface: Surface) -> Result<Console, AppError> {
    let oauth = steward_api::oauth::routes().with_state(api.clone());
    let mut console = Console {
        api,
        settings,
        oauth,
        client_id: Arc::from(""),
        surface,
    };
    let app =
        steward_app::console::ensure_console_app(&console.system_ctx(), console.issuer()).await?;
    console.client_id = Arc::from(
        app.client_id
            .as_deref()
            .unwrap_or(steward_app::console::CONSOLE_CLIENT_ID),
    );
    Ok(console)
}

/// Sign-in, sign-out and the static files: the same on both consoles.
fn common_routes() -> Router<Console> {
    Router::new()
        .route("/signin", get(signin::start))
        .route("/callback", get(signin::callback))
        .route("/signout", post(signin::sign_out))
        .route("/signed-out", get(signin::signed_out))
        .route("/static/console.css", get(stylesheet))
        .route("/static/console.js", get(script))
}

fn enduser_routes() -> Router<Console> {
    common_routes()
        .route("/", get(enduser::catalog))
        .route("/catalog/{entry_id}", get(enduser::entry))
        .route("/catalog/{entry_id}/requests", post(enduser::submit))
        .route("/requests", get(enduser::requests))
        .route("/requests/{request_id}", get(enduser::request))
        .route("/tasks", get(enduser::tasks))
        .route("/tasks/{task_id}", get(enduser::task))
        .route("/tasks/{task_id}/resolve", post(enduser::resolve))
        .fallback(enduser::not_found)
}

fn admin_routes() -> Router<Console> {
    common_routes()
        .route("/", get(home::dashboard))
        .route("/logs", get(logs::list))
        .route("/logs/tail", get(logs::tail))
        .route("/apps", get(apps::list))
        .route("/apps/{id}", get(apps::general))
        .route("/apps/{id}/scopes", get(apps::scopes))
        .route("/apps/{id}/grants", post(apps::grant))
        .route("/apps/{id}/grants/{grant_id}/revoke", post(apps::revoke))
        // Applications: create, lifecycle, Assignments; Security > Administrators
        .route("/apps/new", get(app_new::form).post(app_new::create))
        .route("/apps/{id}/lifecycle", post(apps::lifecycle))
        .route("/apps/{id}/assignments", get(app_assignments::page))
        .route(
            "/apps/{id}/assignments/users",
            post(app_assignments::assign_user),
        )
        .route(
            "/apps/{id}/assignments/users/{user_id}/remove",
            post(app_assignments::unassign_user),
        )
        .route(
            "/apps/{id}/assignments/groups",
            post(app_assignments::assign_group),
        )
        .route(
            "/apps/{id}/assignments/groups/{group_id}/remove",
            post(app_assignments::unassign_group),
        )
        .route("/security/administrators", get(admins::list))
        .route("/security/administrators/assign", post(admins::assign))
        .route("/security/administrators/remove", post(admins::unassign))
        .route("/workflows", get(workflows::flows_page))
        .route("/workflows/import", post(workflows::import))
        .route("/workflows/flows/{id}", get(workflows::flow_page))
        .route("/workflows/flows/{id}/switch", post(workflows::switch))
        .route("/workflows/flows/{id}/run", post(workflows::run_now))
        .route("/workflows/flows/{id}/export", get(workflows::export))
        .route("/workflows/executions", get(workflows::executions))
        .route("/workflows/executions/{id}", get(workflows::execution))
        .route("/workflows/connections", get(connections::list))
        .route(
            "/workflows/connections/{id}/authorize",
            post(connections::authorize),
        )
        .route(
            "/workflows/connections/{id}/check",
            post(connections::check),
        )
        // Directory
        .route(
            "/directory/users",
            get(directory::users::list).post(directory::users::create),
        )
        .route("/directory/users/new", get(directory::users::new_form))
        .route("/directory/users/{id}", get(directory::users::profile))
        .route(
            "/directory/users/{id}/groups",
            get(directory::users::groups).post(directory::users::add_group),
        )
        .route(
            "/directory/users/{id}/groups/{group_id}/remove",
            post(directory::users::remove_group),
        )
        .route("/directory/users/{id}/apps", get(directory::users::apps))
        .route(
            "/directory/users/{id}/confirm/{op}",
            get(directory::users::confirm),
        )
        .route(
            "/directory/users/{id}/lifecycle/{op}",
            post(directory::users::lifecycle),
        )
        .route(
            "/directory/users/{id}/delete",
            post(directory::users::delete),
        )
        .route(
            "/directory/groups",
            get(directory::groups::list).post(directory::groups::create),
        )
        .route("/directory/groups/new", get(directory::groups::new_form))
        .route("/directory/groups/{id}", get(directory::groups::profile))
        .route(
            "/directory/groups/{id}/people",
            get(directory::groups::people).post(directory::groups::add_member),
        )
        .route(
            "/directory/groups/{id}/people/{user_id}/remove",
            post(directory::groups::remove_member),
        )
        .route("/directory/groups/{id}/apps", get(directory::groups::apps))
        .route(
            "/directory/groups/{id}/delete",
            get(directory::groups::confirm_delete).post(directory::groups::delete),
        )
        // Identity Governance
        .route("/governance", get(governance::home))
        .route("/governance/requests", get(governance::inbox))
        .route("/governance/requests/{id}", get(governance::request))
        .route(
            "/governance/requests/{id}/tasks/{task_id}/resolve",
            post(governance::resolve),
        )
        .route(
            "/governance/requests/{id}/tasks/{task_id}/reassign",
            post(governance::reassign),
        )
        .route("/governance/resources", get(governance::resources))
        .route("/governance/resources/{id}", get(governance::resource))
        .route(
            "/governance/resources/{id}/settings",
            post(governance::update_resource_settings),
        )
        .route(
            "/governance/resources/{id}/conditions",
            post(governance::create_condition),
        )
        .route(
            "/governance/resources/{id}/conditions/new",
            get(governance::new_condition),
        )
        .route(
            "/governance/resources/{id}/conditions/{cid}",
            get(governance::condition).post(governance::update_condition),
        )
        .route(
            "/governance/resources/{id}/conditions/{cid}/activate",
            post(governance::activate),
        )
        .route(
            "/governance/resources/{id}/conditions/{cid}/deactivate",
            post(governance::deactivate),
        )
        .route(
            "/governance/resources/{id}/conditions/{cid}/delete",
            post(governance::delete_condition),
        )
        .route(
            "/governance/sequences",
            get(governance::sequence_list).post(governance::create_sequence),
        )
        .route(
            "/governance/sequences/{id}",
            get(governance::sequence).post(governance::update_sequence),
        )
        .route(
            "/governance/sequences/{id}/delete",
            post(governance::delete_sequence),
        )
        .route(
            "/governance/settings",
            get(governance::org_settings).post(governance::update_org_settings),
        )
        .fallback(not_found)
}

const CSS: &str = include_str!("../static/console.css");
const JS: &str = include_str!("../static/console.js");

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn stylesheet() -> Response {
    static_file("text/css; charset=utf-8", CSS)
}

async fn script() -> Response {
    static_file("text/javascript; charset=utf-8", JS)
}

async fn not_found() -> Response {
    pages::message(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no such page in the Admin Console.",
    )
}

#[cfg(test)]
mod tests {
    /// An unclosed block swallows every rule after it (a lost `}` once put half the stylesheet
    /// inside the phone-width media query).
    #[test]
    fn the_stylesheet_closes_every_block() {
        let mut depth = 0i32;
        for (n, c) in super::CSS.chars().enumerate() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            assert!(depth >= 0, "an unmatched }} at character {n}");
        }
        assert_eq!(depth, 0, "a block of console.css is not closed");
    }
}
