//! The dashboard (`/admin/`): counts, pending access requests and the recent System Log, each
//! shown to an admin whose roles may read it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use steward_core::roles::Permission;
use steward_store::{AppQuery, LogQuery, RequestListQuery, SortOrder};

use crate::pages::{self, render};
use crate::session::Admin;
use crate::Console;

/// Events the dashboard shows.
const RECENT_EVENTS: usize = 10;
/// Pending access requests the dashboard lists.
const PENDING_SHOWN: usize = 10;
/// Counts the dashboard shows exactly; more is "N+".
const COUNT_UP_TO: usize = 500;

fn shown_count(n: usize) -> String {
    if n > COUNT_UP_TO {
        format!("{COUNT_UP_TO}+")
    } else {
        n.to_string()
    }
}

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
    let apps = if admin.may(Permission::AppsRead) {
        match store
            .apps(&AppQuery {
                limit: COUNT_UP_TO + 1,
                ..Default::default()
            })
            .await
        {
            Ok(a) => Some(shown_count(a.len())),
            Err(e) => return pages::app_error(e.into()),
        }
    } else {
        None
    };
    let pending: Option<Vec<Value>> = if admin.may(Permission::AccessRequestsRead) {
        let filter = match steward_core::filter::parse("status eq \"PENDING\"") {
            Ok(f) => f,
            Err(e) => {
                return pages::message(StatusCode::INTERNAL_SERVER_ERROR, "Error", &e.message)
            }
        };
        match store
            .access_requests()
            .requests(&RequestListQuery {
                v1: false,
                filter: Some(filter),
                after: None,
                limit: PENDING_SHOWN,
            })
            .await
        {
            Ok(rs) => Some(
                rs.iter()
                    .map(|r| {
                        let req = &r.workflow.request;
                        json!({
                            "id": req.id,
                            "requested_for": req.requested_for.external_id,
                            "resource_id": req.requested.resource_id,
                            "created": steward_core::timefmt::format_millis(req.created),
                        })
                    })
                    .collect(),
            ),
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
        Some(page.events.iter().map(crate::logs::row).collect())
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
            "apps": apps,
            "pending": pending,
            "recent": recent,
            "may_apps": admin.may(Permission::AppsRead),
        }),
    )
}
