//! Rendering: the templates (escaping every value), and the headers every console page carries.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;
use steward_app::AppError;
use steward_core::access_requests::RuleError;
use steward_store::StoreError;

use crate::{Surface, ADMIN};

/// The console's policy: everything from this origin only, no inline script or style, never
/// framed, forms post to this origin only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let templates = [
            ("layout.html", include_str!("../templates/layout.html")),
            ("message.html", include_str!("../templates/message.html")),
            (
                "dashboard.html",
                include_str!("../templates/dashboard.html"),
            ),
            ("apps.html", include_str!("../templates/apps.html")),
            ("logs.html", include_str!("../templates/logs.html")),
            (
                "logs_rows.html",
                include_str!("../templates/logs_rows.html"),
            ),
            ("app_tabs.html", include_str!("../templates/app_tabs.html")),
            (
                "app_general.html",
                include_str!("../templates/app_general.html"),
            ),
            (
                "app_scopes.html",
                include_str!("../templates/app_scopes.html"),
            ),
            // Applications (create, Assignments) and Security > Administrators
            ("app_new.html", include_str!("../templates/app_new.html")),
            (
                "app_assignments.html",
                include_str!("../templates/app_assignments.html"),
            ),
            ("admins.html", include_str!("../templates/admins.html")),
            ("wf_tabs.html", include_str!("../templates/wf_tabs.html")),
            ("wf_runs.html", include_str!("../templates/wf_runs.html")),
            ("wf_flows.html", include_str!("../templates/wf_flows.html")),
            (
                "wf_imported.html",
                include_str!("../templates/wf_imported.html"),
            ),
            ("wf_flow.html", include_str!("../templates/wf_flow.html")),
            (
                "wf_connections.html",
                include_str!("../templates/wf_connections.html"),
            ),
            (
                "wf_executions.html",
                include_str!("../templates/wf_executions.html"),
            ),
            (
                "wf_execution.html",
                include_str!("../templates/wf_execution.html"),
            ),
            (
                "my_catalog.html",
                include_str!("../templates/my_catalog.html"),
            ),
            ("my_entry.html", include_str!("../templates/my_entry.html")),
            (
                "my_requests.html",
                include_str!("../templates/my_requests.html"),
            ),
            (
                "my_request.html",
                include_str!("../templates/my_request.html"),
            ),
            (
                "my_history.html",
                include_str!("../templates/my_history.html"),
            ),
            ("my_tasks.html", include_str!("../templates/my_tasks.html")),
            ("my_task.html", include_str!("../templates/my_task.html")),
            // Directory
            ("dir_nav.html", include_str!("../templates/dir_nav.html")),
            (
                "dir_people.html",
                include_str!("../templates/dir_people.html"),
            ),
            (
                "dir_person_tabs.html",
                include_str!("../templates/dir_person_tabs.html"),
            ),
            (
                "dir_person.html",
                include_str!("../templates/dir_person.html"),
            ),
            (
                "dir_person_groups.html",
                include_str!("../templates/dir_person_groups.html"),
            ),
            (
                "dir_person_apps.html",
                include_str!("../templates/dir_person_apps.html"),
            ),
            (
                "dir_person_new.html",
                include_str!("../templates/dir_person_new.html"),
            ),
            (
                "dir_confirm.html",
                include_str!("../templates/dir_confirm.html"),
            ),
            (
                "dir_activation.html",
                include_str!("../templates/dir_activation.html"),
            ),
            (
                "dir_groups.html",
                include_str!("../templates/dir_groups.html"),
            ),
            (
                "dir_group_tabs.html",
                include_str!("../templates/dir_group_tabs.html"),
            ),
            (
                "dir_group.html",
                include_str!("../templates/dir_group.html"),
            ),
            (
                "dir_group_people.html",
                include_str!("../templates/dir_group_people.html"),
            ),
            (
                "dir_group_apps.html",
                include_str!("../templates/dir_group_apps.html"),
            ),
            (
                "dir_group_new.html",
                include_str!("../templates/dir_group_new.html"),
            ),
            // Identity Governance
            ("gov_tabs.html", include_str!("../templates/gov_tabs.html")),
            (
                "gov_requests.html",
                include_str!("../templates/gov_requests.html"),
            ),
            (
                "gov_request.html",
                include_str!("../templates/gov_request.html"),
            ),
            (
                "gov_resources.html",
                include_str!("../templates/gov_resources.html"),
            ),
            (
                "gov_resource.html",
                include_str!("../templates/gov_resource.html"),
            ),
            (
                "gov_condition.html",
                include_str!("../templates/gov_condition.html"),
            ),
            (
                "gov_sequences.html",
                include_str!("../templates/gov_sequences.html"),
            ),
            (
                "gov_sequence.html",
                include_str!("../templates/gov_sequence.html"),
            ),
            (
                "gov_sequence_form.html",
                include_str!("../templates/gov_sequence_form.html"),
            ),
            (
                "gov_settings.html",
                include_str!("../templates/gov_settings.html"),
            ),
        ];
        for (name, source) in templates {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(%name, error = %e, "console template does not parse");
            }
        }
        env
    })
}

/// Sets the headers of every console answer: never cached, framed or sniffed, the strict policy.
pub fn harden(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
}

/// Renders template `name` with `context`.
pub fn render(status: StatusCode, name: &str, context: impl Serialize) -> Response {
    let rendered = env().get_template(name).and_then(|t| t.render(context));
    let mut response = match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = %name, error = %e, "console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("Internal Server Error"),
            )
                .into_response()
        }
    };
    harden(&mut response);
    response
}

/// A page of the Admin Console that only says something (an error, a refusal, signed out),
/// with a way back.
pub fn message(status: StatusCode, title: &str, text: &str) -> Response {
    message_in(ADMIN, status, title, text)
}

/// What the layout needs to know of the console a page belongs to.
pub fn ui(surface: Surface) -> serde_json::Value {
    serde_json::json!({"base": surface.base, "name": surface.name, "admin": surface.admin})
}

/// A page of `surface` that only says something, with a way back to it.
pub fn message_in(surface: Surface, status: StatusCode, title: &str, text: &str) -> Response {
    render(
        status,
        "message.html",
        minijinja::context! { title => title, text => text, ui => ui(surface) },
    )
}

/// A redirect (`303 See Other`) within the console or to the authorization server.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    harden(&mut response);
    response
}

/// A use case's error as a page of the Admin Console.
pub fn app_error(e: AppError) -> Response {
    app_error_in(ADMIN, e)
}

/// A use case's error as a page of `surface`.
pub fn app_error_in(surface: Surface, e: AppError) -> Response {
    let (status, title) = match &e {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        AppError::Rule(RuleError::Forbidden(_)) => (StatusCode::FORBIDDEN, "You may not do this"),
        AppError::Validation(_)
        | AppError::Invalid(_)
        | AppError::Rule(_)
        | AppError::InvalidFilter(_) => (StatusCode::BAD_REQUEST, "The change was refused"),
        AppError::Lifecycle(_) | AppError::Conflict(_) => {
            (StatusCode::CONFLICT, "The change was refused")
        }
        AppError::Forbidden | AppError::LastSuperAdmin => {
            (StatusCode::FORBIDDEN, "You may not do this")
        }
        // A unique field taken (a login, a group name): the API's 400, in words.
        AppError::Store(StoreError::Conflict(field)) => {
            return message_in(
                surface,
                StatusCode::BAD_REQUEST,
                "The change was refused",
                &format!("{field}: an object with this value already exists in the org."),
            );
        }
        AppError::Store(_) | AppError::Internal(_) => {
            tracing::error!(error = %e, "console request failed");
            return message_in(
                surface,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The request could not be completed. Try again.",
            );
        }
    };
    let text = match &e {
        // A bare field name as the summary (`scopeId`) says nothing its causes do not.
        AppError::Validation(v) if !v.summary.contains(' ') && !v.causes.is_empty() => {
            v.causes.join(" ")
        }
        AppError::Validation(v) => {
            let mut text = v.summary.clone();
            for cause in v.causes.iter().filter(|c| **c != v.summary) {
                text.push_str(". ");
                text.push_str(cause);
            }
            text
        }
        // A rule's refusal says why in its summary and causes.
        AppError::Rule(r) => {
            let v = r.detail();
            let mut text = v.summary.clone();
            for cause in v.causes.iter().filter(|c| **c != v.summary) {
                text.push_str(". ");
                text.push_str(cause);
            }
            text
        }
        other => other.to_string(),
    };
    message_in(surface, status, title, &text)
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_unique_field_is_refused_not_a_server_error() {
        let page = app_error(AppError::Store(StoreError::Conflict("login".into())));
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        let broken = app_error(AppError::Internal("lost".into()));
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
