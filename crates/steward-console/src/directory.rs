//! Directory: People (`/admin/directory/users`) and Groups (`/admin/directory/groups`), as an
//! Okta admin finds them under Directory. Pages read the store (`UserQuery`, `GroupQuery`,
//! memberships, app assignments); changes go through the same use cases as the Management API
//! (`steward_app::users`, `steward_app::groups`), so the rules (lifecycle transitions, the last
//! Super Admin, built-in groups, a Super Admin changed only by a Super Admin) and the System Log
//! entries are the API's.

pub mod groups;
pub mod users;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use steward_app::AppError;
use steward_core::directory::LifecycleError;
use steward_core::timefmt::format_millis;

use crate::pages;
use crate::Console;

/// Rows per page of a list.
const PAGE: usize = 50;
/// Candidates a "find a group / person to add" search shows.
const PICK: usize = 10;

/// A time as people read it (UTC, to the minute) and its machine form, or "Never".
fn when(ms: Option<i64>) -> Value {
    match ms {
        Some(ms) => {
            let iso = format_millis(ms);
            let shown = format!("{} UTC", iso.get(..16).unwrap_or(&iso).replace('T', " "));
            json!({"iso": iso, "shown": shown})
        }
        None => Value::Null,
    }
}

/// The sentence a form shows for a refused change it can be corrected from (a field left
/// blank, a login taken), or `None` for errors that deserve their own page.
fn form_problem(e: &AppError) -> Option<String> {
    match e {
        AppError::Validation(v) => {
            let causes: Vec<&str> = v.causes.iter().map(String::as_str).collect();
            Some(if causes.is_empty() {
                v.summary.clone()
            } else {
                causes.join(" ")
            })
        }
        AppError::Store(steward_store::StoreError::Conflict(what)) => Some(format!(
            "{what}: An object with this field already exists in the current organization"
        )),
        AppError::Conflict(text) | AppError::Invalid(text) => Some(text.clone()),
        _ => None,
    }
}

/// Once a change that may have revoked tokens committed, this node learns of them at once
/// (other nodes poll every second), as the Management API does after the same change.
async fn learn_revocations(console: &Console) {
    console.api.auth.learn_revocations(&console.api.store).await;
}

/// A refused status change as a page that says why in plain words (the last Super Admin, a
/// transition the status does not allow); other errors as [`pages::app_error`] shows them.
fn status_change_error(e: AppError) -> Response {
    match e {
        AppError::LastSuperAdmin => pages::message(
            StatusCode::FORBIDDEN,
            "The change was refused",
            "This person is the org's last Super Administrator who can sign in and act: \
             suspending or deactivating them would lock everyone out. Make someone else a \
             Super Administrator first. Nothing was changed.",
        ),
        AppError::Lifecycle(LifecycleError::Invalid(v)) => pages::message(
            StatusCode::CONFLICT,
            "The change was refused",
            &format!("{}. Nothing was changed.", v.causes.join(" ")),
        ),
        other => pages::app_error(other),
    }
}
