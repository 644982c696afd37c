//! Console sessions: the cookie, the signed-in user of a request ([`SignedIn`], on the end-user
//! dashboard) and the signed-in admin ([`Admin`], on the Admin Console), idle and absolute
//! expiry, and the CSRF check of every form.
//!
//! Each console has its own cookie (`steward_console` for `/admin`, `steward_app` for `/app`):
//! a session started on one is not one of the other, so a user without an admin role signed in
//! to `/app` is still asked to sign in at `/admin` (and refused there).
//!
//! The cookie holds a random id (43 alphanumeric characters, about 256 bits); the store keeps
//! only its SHA-256. It is `HttpOnly`, `SameSite=Lax`, `Path=/`, and under https `Secure` with
//! the `__Host-` prefix (a sibling subdomain cannot plant it). Each request re-reads the session,
//! the user (who must still be ACTIVE) and their admin roles: a role taken away or a user
//! suspended takes effect on the next click.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde::Serialize;
use steward_core::directory::{User, UserStatus};
use steward_core::roles::{Permission, RoleType};
use steward_core::syslog::{Actor, ClientInfo};
use steward_oauth::secrets::sha256_hex;
use steward_store::{ConsoleSession, PrincipalType, StoreError};

use crate::pages;
use crate::{Console, Surface, ADMIN, END_USER};

/// The Admin Console's session cookie on plain http; under https it is `__Host-steward_console`.
pub const COOKIE: &str = ADMIN.cookie;
/// The end-user dashboard's session cookie on plain http; under https `__Host-steward_app`.
pub const APP_COOKIE: &str = END_USER.cookie;
/// Characters of a session id.
pub const ID_LENGTH: usize = 43;
/// A session is marked used at most this often (ms): fewer writes, idle expiry barely later.
const TOUCH_EVERY_MS: i64 = 15_000;

fn cookie_name(surface: Surface, issuer: &str) -> &'static str {
    if issuer.starts_with("https://") {
        surface.cookie_host
    } else {
        surface.cookie
    }
}

/// The session id the request's cookie (of `surface`) carries, when it has the right shape.
pub fn session_id<'a>(headers: &'a HeaderMap, surface: Surface, issuer: &str) -> Option<&'a str> {
    let name = cookie_name(surface, issuer);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| v.len() == ID_LENGTH && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The key the store knows a session id by.
pub fn hash(id: &str) -> String {
    sha256_hex(id)
}

/// Sets the session cookie of `surface` (`value` empty and `max_age` 0 clears it).
pub fn set_cookie(
    response: &mut Response,
    surface: Surface,
    issuer: &str,
    value: &str,
    max_age: Option<i64>,
) {
    let secure = if issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let name = cookie_name(surface, issuer);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub fn clear_cookie(response: &mut Response, surface: Surface, issuer: &str) {
    set_cookie(response, surface, issuer, "", Some(0));
}

/// The signed-in user of a request (any ACTIVE user; the end-user dashboard's): their session
/// and user record.
pub struct SignedIn {
    pub session: ConsoleSession,
    pub user: User,
    pub client: ClientInfo,
}

impl SignedIn {
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user.id, self.user.login(), &self.user.display_name())
    }

    pub fn ctx<'a>(&self, console: &'a Console) -> steward_app::Ctx<'a> {
        steward_app::Ctx {
            store: &console.api.store,
            now: console.now(),
            actor: self.actor(),
            client: self.client.clone(),
            bus: Some(&console.api.events),
        }
    }

    pub fn me(&self) -> Me {
        Me {
            name: self.user.display_name(),
            login: self.user.login().to_string(),
            roles: vec![],
            csrf: self.session.csrf_token.clone(),
        }
    }

    /// See [`check_form`].
    pub fn check_form(
        &self,
        console: &Console,
        headers: &HeaderMap,
        form: &HashMap<String, String>,
    ) -> Option<Response> {
        check_form(console, &self.session, headers, form)
    }
}

/// The signed-in admin of a request: a [`SignedIn`] user (its session, user record, actor,
/// context and form check, through `Deref`) holding admin roles.
pub struct Admin {
    pub signed_in: SignedIn,
    pub roles: Vec<RoleType>,
}

impl std::ops::Deref for Admin {
    type Target = SignedIn;

    fn deref(&self) -> &SignedIn {
        &self.signed_in
    }
}

/// What the layout shows of the admin (and the CSRF token its forms carry).
#[derive(Serialize)]
pub struct Me {
    pub name: String,
    pub login: String,
    pub roles: Vec<&'static str>,
    pub csrf: String,
}

impl Admin {
    pub fn may(&self, permission: Permission) -> bool {
        steward_core::roles::any_allows(&self.roles, permission)
    }

    pub fn me(&self) -> Me {
        Me {
            name: self.user.display_name(),
            login: self.user.login().to_string(),
            roles: self.roles.iter().map(|r| r.label()).collect(),
            csrf: self.session.csrf_token.clone(),
        }
    }

    /// The labels of the admin's roles, for the reason a button is disabled.
    pub fn role_labels(&self) -> String {
        self.roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The refusal (403 page) of a page or action the admin's roles do not allow.
    pub fn require(&self, permission: Permission, what: &str) -> Option<Response> {
        if self.may(permission) {
            return None;
        }
        let least = steward_core::roles::least_role_for(permission);
        Some(pages::message(
            StatusCode::FORBIDDEN,
            "You may not do this",
            &format!(
                "{what} needs the {} role or one above it; your roles: {}.",
                least.label(),
                self.role_labels()
            ),
        ))
    }

    /// A change's form, once it carries the session's CSRF token from this origin and the admin
    /// may `permission` (`what` names the change in the refusal); else the refusal page.
    pub fn change_form(
        &self,
        console: &Console,
        headers: &HeaderMap,
        body: &[u8],
        permission: Permission,
        what: &str,
    ) -> Result<HashMap<String, String>, Box<Response>> {
        let form = parse_form(body);
        if let Some(refused) = self.check_form(console, headers, &form) {
            return Err(Box::new(refused));
        }
        if let Some(refused) = self.require(permission, what) {
            return Err(Box::new(refused));
        }
        Ok(form)
    }
}

/// The refusal (403 page) of a form that does not carry `session`'s CSRF token, or that a
/// browser sent from another origin.
pub fn check_form(
    console: &Console,
    session: &ConsoleSession,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<Response> {
    let token_ok = form.get("csrf").is_some_and(|sent| {
        subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), session.csrf_token.as_bytes()).into()
    });
    if token_ok && origin_ok(console.issuer(), headers) {
        return None;
    }
    Some(pages::message_in(
        console.surface,
        StatusCode::FORBIDDEN,
        "The form was refused",
        &format!(
            "This form did not come from your {} session (its security token is missing or \
             wrong). Reload the page and try again.",
            console.surface.name
        ),
    ))
}

/// The issuer's origin (`https://id.example.com`), as browsers send it in `Origin`.
fn issuer_origin(issuer: &str) -> Option<String> {
    let origin = url::Url::parse(issuer).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Whether the request's `Origin`, when sent, is the issuer's.
fn origin_ok(issuer: &str, headers: &HeaderMap) -> bool {
    let mut sent = headers.get_all(header::ORIGIN).iter();
    match (sent.next(), sent.next()) {
        (None, _) => true,
        (Some(origin), None) => {
            issuer_origin(issuer).is_some_and(|ours| origin.to_str().is_ok_and(|o| o == ours))
        }
        _ => false,
    }
}

/// A form body as a map; a field sent twice keeps its first value.
pub fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut map = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

/// Why a request has no session: sign in (a page) or refuse (a form).
fn no_session(parts: &Parts, surface: Surface) -> Response {
    let base = surface.base;
    if parts.method == Method::GET || parts.method == Method::HEAD {
        // Nested at /admin or /app: the original URI has the prefix.
        let next = match parts.extensions.get::<axum::extract::OriginalUri>() {
            Some(original) => original
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| format!("{base}/")),
            None => parts
                .uri
                .path_and_query()
                .map(|p| format!("{base}{}", p.as_str()))
                .unwrap_or_else(|| format!("{base}/")),
        };
        return pages::see_other(&format!("{base}/signin?next={}", pages::encode(&next)));
    }
    pages::message_in(
        surface,
        StatusCode::FORBIDDEN,
        "Your session has ended",
        "Sign in again, then repeat what you were doing.",
    )
}

/// Deletes a session that may no longer act (idle, its user gone or without a role).
async fn end_session(store: &steward_store::Store, id_hash: &str) {
    if let Ok(mut tx) = store.begin().await {
        let _ = tx.delete_console_session(id_hash).await;
        let _ = tx.commit().await;
    }
}

/// The session of the request's cookie, if it may still act: found, signed in, not idle, its
/// user ACTIVE (else the session ends). Marks it used.
async fn signed_in(parts: &Parts, console: &Console) -> Result<SignedIn, Response> {
    let surface = console.surface;
    let issuer = console.issuer();
    let Some(id) = session_id(&parts.headers, surface, issuer) else {
        return Err(no_session(parts, surface));
    };
    let id_hash = hash(id);
    let now = console.now();
    let store = &console.api.store;
    let session = match store.console_session(&id_hash, now).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Err(no_session(parts, surface)),
        Err(e) => return Err(pages::app_error_in(surface, e.into())),
    };
    let Some(user_id) = session.user_id.clone() else {
        return Err(no_session(parts, surface)); // a sign-in still in progress
    };
    if now.saturating_sub(session.last_seen) > console.settings.idle_timeout_ms {
        end_session(store, &id_hash).await;
        return Err(no_session(parts, surface));
    }
    let user = match store.user(&user_id).await {
        Ok(u) if u.status == UserStatus::Active => u,
        Ok(_) | Err(StoreError::NotFound) => {
            end_session(store, &id_hash).await;
            return Err(no_session(parts, surface));
        }
        Err(e) => return Err(pages::app_error_in(surface, e.into())),
    };
    if now.saturating_sub(session.last_seen) > TOUCH_EVERY_MS {
        let touched = async {
            let mut tx = store.begin().await?;
            tx.touch_console_session(&session.id_hash, now).await?;
            tx.commit().await
        };
        if let Err(e) = touched.await {
            return Err(pages::app_error_in(surface, e.into()));
        }
    }
    Ok(SignedIn {
        client: steward_api::RequestClient::of(&parts.headers, &parts.extensions),
        session,
        user,
    })
}

impl FromRequestParts<Console> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        signed_in(parts, console).await
    }
}

impl FromRequestParts<Console> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        let signed_in = signed_in(parts, console).await?;
        let store = &console.api.store;
        let roles = match store
            .roles_of(PrincipalType::User, &signed_in.user.id)
            .await
        {
            Ok(r) => r,
            Err(e) => return Err(pages::app_error(e.into())),
        };
        if roles.is_empty() {
            end_session(store, &signed_in.session.id_hash).await;
            return Err(pages::message(
                StatusCode::FORBIDDEN,
                "No admin role",
                "The Admin Console is for administrators, and you hold no admin role.",
            ));
        }
        Ok(Admin { signed_in, roles })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[test]
    fn the_cookie_is_secure_and_host_prefixed_under_https_only() {
        let mut https = ().into_response();
        set_cookie(&mut https, ADMIN, "https://id.example.com", "abc", None);
        assert_eq!(
            https.headers()[header::SET_COOKIE],
            "__Host-steward_console=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let mut http = ().into_response();
        clear_cookie(&mut http, ADMIN, "http://127.0.0.1:8080");
        assert_eq!(
            http.headers()[header::SET_COOKIE],
            "steward_console=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }

    #[test]
    fn each_console_reads_its_own_cookie() {
        let id = "a".repeat(ID_LENGTH);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("steward_app={id}")).unwrap(),
        );
        assert_eq!(
            session_id(&headers, END_USER, "http://h"),
            Some(id.as_str())
        );
        assert_eq!(session_id(&headers, ADMIN, "http://h"), None);
        let mut https = ().into_response();
        set_cookie(&mut https, END_USER, "https://id.example.com", "abc", None);
        assert_eq!(
            https.headers()[header::SET_COOKIE],
            "__Host-steward_app=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
    }

    #[test]
    fn under_https_only_the_host_prefixed_cookie_is_read() {
        let id = "a".repeat(ID_LENGTH);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("steward_console={id}")).unwrap(),
        );
        assert_eq!(session_id(&headers, ADMIN, "http://h"), Some(id.as_str()));
        assert_eq!(
            session_id(&headers, ADMIN, "https://h"),
            None,
            "planted plain cookie"
        );
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("__Host-steward_console={id}")).unwrap(),
        );
        assert_eq!(session_id(&headers, ADMIN, "https://h"), Some(id.as_str()));
        // Malformed ids are not looked up.
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("steward_console=short"),
        );
        assert_eq!(session_id(&headers, ADMIN, "http://h"), None);
    }

    #[test]
    fn a_form_from_another_origin_is_refused() {
        let mut headers = HeaderMap::new();
        assert!(
            origin_ok("https://id.example.com", &headers),
            "no Origin sent"
        );
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://id.example.com"),
        );
        assert!(origin_ok("https://id.example.com", &headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!origin_ok("https://id.example.com", &headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!origin_ok("https://id.example.com", &headers));
    }
}
