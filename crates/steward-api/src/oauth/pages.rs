//! Server-rendered pages of the authorization server (sign-in, consent, errors, form_post) and
//! of activation, from minijinja templates that escape every value.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let templates = [
            ("layout.html", include_str!("../../templates/layout.html")),
            ("signin.html", include_str!("../../templates/signin.html")),
            ("consent.html", include_str!("../../templates/consent.html")),
            ("error.html", include_str!("../../templates/error.html")),
            (
                "form_post.html",
                include_str!("../../templates/form_post.html"),
            ),
            (
                "signed_out.html",
                include_str!("../../templates/signed_out.html"),
            ),
            ("welcome.html", include_str!("../../templates/welcome.html")),
            ("notice.html", include_str!("../../templates/notice.html")),
        ];
        for (name, source) in templates {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(%name, error = %e, "template does not parse");
            }
        }
        env
    })
}

/// Renders a page; pages are never cached and never framed.
pub fn render(status: StatusCode, name: &str, context: impl Serialize) -> Response {
    let rendered = env().get_template(name).and_then(|t| t.render(context));
    let mut response = match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = %name, error = %e, "page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action *; frame-ancestors 'none'"),
    );
    response
}

/// A page that explains an error which cannot be redirected to the client (a bad client or
/// redirect URI).
pub fn error_page(error: &str, description: &str) -> Response {
    render(
        StatusCode::BAD_REQUEST,
        "error.html",
        minijinja::context! { title => "The request cannot be completed", error => error, description => description },
    )
}
