//! The dashboard (`/admin/`): counts and, for an admin who may read it, the recent System Log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use steward_core::roles::Permission;
use steward_store::{LogQuery, SortOrder};

use crate::pages::{self, render};
use crate::session::Admin;
use crate::Console;

/// Events the dashboard shows.
const RECENT_EVENTS: usize = 10;

/// `GET /admin/`.
pub async fn dashboard(State(console): State<Console>, admin: Admin) -> Response {
    let store = &console.api.store;
    let users = if admin.may(Permission::UsersRead) {
        match store.count_users().await {
            Ok(n) => Some(n),
            Err(e) => return pages::app_error(e.into()),
        }
    } else {
        None
    };
    let recent: Option<Vec<Value>> = if admin.may(Permission::LogsRead) {
        let page = match store
            .log_events(&LogQuery {
                limit: RECENT_EVENTS,
                order: SortOrder::Descending,
                ..Default::default()
            })
            .await
        {
            Ok(p) => p,
            Err(e) => return pages::app_error(e.into()),
        };
        Some(
            page.events
                .iter()
                .map(|e| {
                    json!({
                        "published": e["published"],
                        "event_type": e["eventType"],
                        "message": e["displayMessage"],
                        "actor": e["actor"]["displayName"],
                        "outcome": e["outcome"]["result"],
                    })
                })
                .collect(),
        )
    } else {
        None
    };
    render(
        StatusCode::OK,
        "dashboard.html",
        json!({
            "me": admin.me(),
            "section": "dashboard",
            "users": users,
            "recent": recent,
            "may_apps": admin.may(Permission::AppsRead),
        }),
    )
}
