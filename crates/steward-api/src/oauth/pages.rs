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

/// Renders a page whose forms post to this server only.
pub fn render(status: StatusCode, name: &str, context: impl Serialize) -> Response {
    render_for_client(status, name, context, None)
}

/// Renders a page whose form may end at the client's `redirect_uri` (the sign-in form, consent,
/// `form_post`): browsers apply `form-action` to the redirects that follow a form post too, so
/// the client's origin (or private-use scheme) is allowed besides this server.
///
/// Pages are never cached, framed or sniffed, send the `Referer` to this server only
/// (`same-origin`, under which a same-origin form post carries its real `Origin`), and run no
/// script or style but the templates' own inline blocks, allowed by their SHA-256 in the
/// `Content-Security-Policy`.
pub fn render_for_client(
    status: StatusCode,
    name: &str,
    context: impl Serialize,
    redirect_uri: Option<&str>,
) -> Response {
    let rendered = env().get_template(name).and_then(|t| t.render(context));
    let mut response = match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = %name, error = %e, "page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    };
    let csp = content_security_policy(redirect_uri.and_then(form_target_source).as_deref());
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert("content-security-policy", v);
    }
    response
}

/// The templates whose inline `<style>` and `<script>` blocks the policy allows.
const INLINE_SOURCES: [&str; 2] = [
    include_str!("../../templates/layout.html"),
    include_str!("../../templates/form_post.html"),
];

/// `'sha256-…'` of every inline `<tag>` block of the templates (their text is static: no
/// template expression inside).
fn inline_hashes(tag: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut hashes = Vec::new();
    for source in INLINE_SOURCES {
        let mut rest = source;
        while let Some((_, after)) = rest.split_once(open.as_str()) {
            let Some((block, tail)) = after.split_once(close.as_str()) else {
                break;
            };
            let digest = Sha256::digest(block.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
            rest = tail;
        }
    }
    if hashes.is_empty() {
        "'none'".to_string()
    } else {
        hashes.join(" ")
    }
}

/// The pages' policy; `form_target` is a client's origin or scheme that forms may reach.
fn content_security_policy(form_target: Option<&str>) -> String {
    static HASHES: OnceLock<(String, String)> = OnceLock::new();
    let (styles, scripts) =
        HASHES.get_or_init(|| (inline_hashes("style"), inline_hashes("script")));
    let form_action = match form_target {
        Some(target) => format!("'self' {target}"),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'none'; style-src {styles}; script-src {scripts}; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The CSP source of a redirect URI: the origin of an http(s) URI, the scheme of a native
/// app's private-use URI; none for anything else (a script scheme, something unparsable).
fn form_target_source(redirect_uri: &str) -> Option<String> {
    let url = url::Url::parse(redirect_uri).ok()?;
    let scheme = url.scheme();
    if steward_core::apps::SCRIPT_SCHEMES.contains(&scheme) {
        return None;
    }
    if scheme == "http" || scheme == "https" {
        let origin = url.origin();
        return origin.is_tuple().then(|| origin.ascii_serialization());
    }
    scheme
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        .then(|| format!("{scheme}:"))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_templates_inline_blocks() {
        let csp = content_security_policy(None);
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("form-action 'self';"), "{csp}");
        // One style block (the layout), one script (form_post's auto-submit).
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        let page = env()
            .get_template("form_post.html")
            .unwrap()
            .render(minijinja::context! { redirect_uri => "https://a.example/cb", params => vec![("code", "x")] })
            .unwrap();
        assert!(page.contains("<script>"), "{page}");
        assert!(
            !page.contains("onload"),
            "inline handlers cannot be hashed: {page}"
        );
    }

    #[test]
    fn form_targets() {
        assert_eq!(
            form_target_source("https://app.example.com:8443/cb?x=1").as_deref(),
            Some("https://app.example.com:8443")
        );
        assert_eq!(
            form_target_source("http://localhost/cb").as_deref(),
            Some("http://localhost")
        );
        assert_eq!(
            form_target_source("com.example.app:/cb").as_deref(),
            Some("com.example.app:")
        );
        for bad in ["javascript:alert(1)", "data:text/html,x", "not a uri"] {
            assert_eq!(form_target_source(bad), None, "{bad}");
        }
        assert!(content_security_policy(Some("https://a.example"))
            .contains("form-action 'self' https://a.example;"));
    }
}
