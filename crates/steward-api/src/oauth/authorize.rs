//! `/oauth2/v1/authorize` (authorization code with PKCE), the sign-in form at `/login`, consent,
//! and `/oauth2/v1/logout`.
//!
//! Errors about the client or its redirect URI are shown on a page; every other error is sent back
//! to the client's redirect URI (RFC 6749 §4.1.2.1). Forms carry a CSRF token that must be the
//! HMAC, under a key derived from the master key, of the browser's pre-session id (a random
//! `SameSite=Strict` cookie), and a form posted with another site's `Origin` is refused; the
//! session cookie is `HttpOnly`, `SameSite=Lax` and `Secure` under TLS.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use steward_core::apps::App;
use steward_core::directory::{User, UserStatus};
use steward_core::ids::random_secret;
use steward_core::syslog::{Actor, LogEvent, Target};
use steward_core::timefmt::now_millis;
use steward_oauth::scopes::{self as scope_rules, Grant};
use steward_oauth::secrets::{constant_time_eq, sha256_hex};
use steward_oauth::{jwt, pkce};
use steward_store::{AuthCode, StoreError};

use steward_app::sign_in::{self, PasswordSignIn, SignIn};
use steward_app::Ctx;

use super::pages::{error_page, render, render_for_client};
use super::Form;
use crate::error::ApiError;
use crate::{AppState, RequestClient};

pub const SESSION_COOKIE: &str = "steward_sid";
/// The CSRF cookie on plain http; under TLS it carries the `__Host-` prefix, so that a sibling
/// subdomain cannot plant it (the browser takes it only with `Secure`, `Path=/` and no `Domain`).
const CSRF_COOKIE: &str = "steward_csrf";
const CSRF_COOKIE_HOST: &str = "__Host-steward_csrf";
const SESSION_LIFETIME_MS: i64 = 2 * 3600 * 1000;
const CODE_LIFETIME_MS: i64 = 300 * 1000;
/// Failed sign-ins before the account locks (the rule is `steward_core::lockout`).
pub const LOCKOUT_THRESHOLD: i64 = steward_core::lockout::THRESHOLD;

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(
    response: &mut Response,
    state: &AppState,
    name: &str,
    value: &str,
    same_site: &str,
    max_age: Option<i64>,
) {
    let secure = if state.config.issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}{secure}{age}"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The name of the CSRF cookie for `issuer`: `__Host-` prefixed under https.
fn csrf_cookie_name(issuer: &str) -> &'static str {
    if issuer.starts_with("https://") {
        CSRF_COOKIE_HOST
    } else {
        CSRF_COOKIE
    }
}

/// The CSRF cookie a request carries: only the one the issuer names (`__Host-` under https, so
/// a sibling subdomain cannot plant it).
fn csrf_cookie<'a>(headers: &'a HeaderMap, state: &AppState) -> Option<&'a str> {
    cookie(headers, csrf_cookie_name(&state.config.issuer))
}

/// The CSRF token of a browser's pre-session id (the CSRF cookie's value): base64url of
/// HMAC-SHA256 under the server's CSRF key. Only the server can make it, so a cookie planted with
/// a matching form field (plain double submit) does not pass.
fn csrf_token(key: &[u8; 32], pre_session: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes a key of any length: this does not happen.
        Err(_) => return String::new(),
    };
    mac.update(pre_session.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether `token` is the CSRF token of the pre-session id `pre_session`.
fn csrf_matches(key: &[u8; 32], pre_session: Option<&str>, token: Option<&str>) -> bool {
    match (pre_session, token) {
        (Some(id), Some(token)) if id.len() == PRE_SESSION_ID_LENGTH => {
            let expected = csrf_token(key, id);
            !expected.is_empty() && constant_time_eq(expected.as_bytes(), token.as_bytes())
        }
        _ => false,
    }
}

/// The origin of the issuer (`https://id.example.com`), as browsers send it in `Origin`.
fn issuer_origin(issuer: &str) -> Option<String> {
    let origin = url::Url::parse(issuer).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Whether the request's `Origin`, when the browser sent one, is the issuer's: a form posted from
/// another site (or from an opaque origin, `null`) is refused. Every page this server renders
/// has `Referrer-Policy: same-origin`, under which browsers send the real origin with a
/// same-origin POST (`no-referrer` would make them send `null`).
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

/// Whether a form post may act: its `Origin` (when sent) is the issuer's, and its CSRF token is
/// the one derived from the CSRF cookie `state`'s issuer names.
pub(super) fn csrf_ok_for(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> bool {
    origin_ok(&state.config.issuer, headers)
        && csrf_matches(
            &state.auth.csrf_key,
            csrf_cookie(headers, state),
            form.get("csrf").map(String::as_str),
        )
}

/// Characters of a pre-session id (alphanumeric: about 190 bits).
const PRE_SESSION_ID_LENGTH: usize = 32;

/// A form's CSRF token, and the new pre-session id to set as the cookie when the browser had
/// none.
pub(super) struct Csrf {
    pub token: String,
    new_cookie: Option<String>,
}

/// The CSRF token for the browser's pre-session id (the cookie `state`'s issuer names), or for
/// a new one.
pub(super) fn csrf_token_for(state: &AppState, headers: &HeaderMap) -> Csrf {
    let (id, new_cookie) = match csrf_cookie(headers, state).filter(|c| {
        c.len() == PRE_SESSION_ID_LENGTH && c.bytes().all(|b| b.is_ascii_alphanumeric())
    }) {
        Some(c) => (c.to_string(), None),
        None => {
            let id = random_secret(PRE_SESSION_ID_LENGTH);
            (id.clone(), Some(id))
        }
    };
    Csrf {
        token: csrf_token(&state.auth.csrf_key, &id),
        new_cookie,
    }
}

/// Sets the CSRF cookie when `csrf` made a new pre-session id.
pub(super) fn with_csrf(mut response: Response, state: &AppState, csrf: &Csrf) -> Response {
    if let Some(id) = &csrf.new_cookie {
        let name = csrf_cookie_name(&state.config.issuer);
        set_cookie(&mut response, state, name, id, "Strict", None);
    }
    response
}

/// An error sent back to the client (RFC 6749 §4.1.2.1).
fn redirect_error(
    redirect_uri: &str,
    mode: &str,
    state_param: Option<&str>,
    error: &str,
    description: &str,
    issuer: &str,
) -> Response {
    let mut params = vec![
        ("error", error.to_string()),
        ("error_description", description.to_string()),
    ];
    if let Some(s) = state_param {
        params.push(("state", s.to_string()));
    }
    params.push(("iss", issuer.to_string()));
    respond_to_client(redirect_uri, mode, &params)
}

/// Whether a `form_post` page may be rendered for `redirect_uri`: an http(s) URI or a native
/// app's private-use scheme, never a script or local scheme.
fn form_post_target_ok(redirect_uri: &str) -> bool {
    match url::Url::parse(redirect_uri) {
        Ok(url) => !steward_core::apps::SCRIPT_SCHEMES.contains(&url.scheme()),
        Err(_) => false,
    }
}

fn respond_to_client(redirect_uri: &str, mode: &str, params: &[(&str, String)]) -> Response {
    if mode == "form_post" {
        if !form_post_target_ok(redirect_uri) {
            return error_page(
                "invalid_request",
                "The redirect URI cannot receive a form_post response.",
            );
        }
        return render_for_client(
            StatusCode::OK,
            "form_post.html",
            minijinja::context! { redirect_uri => redirect_uri, params => params },
            Some(redirect_uri),
        );
    }
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            let mut response = Redirect::to(url.as_str()).into_response();
            *response.status_mut() = StatusCode::FOUND;
            response
        }
        Err(_) => error_page("invalid_request", "The redirect URI is not valid."),
    }
}

/// The query parameters, and the names of those sent more than once (RFC 6749 §3.1). A query
/// that does not parse gives no parameters.
fn query_params(raw: Option<&str>) -> (HashMap<String, String>, Vec<String>) {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or_default())
        .unwrap_or_default();
    let mut map = HashMap::with_capacity(pairs.len());
    let mut repeated = Vec::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() && !repeated.contains(&k) {
            repeated.push(k);
        }
    }
    (map, repeated)
}

pub(super) fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    query_params(raw).0
}

pub async fn authorize_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let (p, repeated) = query_params(raw.as_deref());
    authorize(&state, &headers, p, &repeated, None).await
}

/// A form POST to `/authorize`: either an OIDC authorization request sent as a form, or the
/// user's answer on the consent page (then `consent` is set and the CSRF token must match).
pub async fn authorize_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form,
) -> Response {
    let consent = match form.get("consent").map(String::as_str) {
        None => None,
        Some(answer) => {
            if !csrf_ok_for(&state, &headers, &form) {
                return error_page(
                    "invalid_request",
                    "The form has expired. Go back and try again.",
                );
            }
            Some(answer == "allow")
        }
    };
    // A repeated form parameter is refused by the `Form` extractor.
    authorize(&state, &headers, form, &[], consent).await
}

/// The request parameters that are echoed into forms (consent) and the sign-in `return_to`.
/// `max_age` is not: like `prompt=login`, it is met by the sign-in (or was met by the session)
/// before either form is shown, and carrying `max_age=0` on would ask for a sign-in forever.
const REQUEST_PARAMS: [&str; 12] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "login_hint",
    "dpop_jkt",
];

fn request_params(p: &HashMap<String, String>, drop_login_prompt: bool) -> Vec<(String, String)> {
    REQUEST_PARAMS
        .iter()
        .filter_map(|k| p.get(*k).map(|v| ((*k).to_string(), v.clone())))
        .map(|(k, v)| {
            if k == "prompt" && drop_login_prompt {
                let rest: Vec<&str> = v.split(' ').filter(|x| *x != "login").collect();
                (k, rest.join(" "))
            } else {
                (k, v)
            }
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    p: HashMap<String, String>,
    repeated: &[String],
    consent: Option<bool>,
) -> Response {
    let issuer = state.config.issuer.as_str();
    let is_repeated = |k: &str| repeated.iter().any(|r| r == k);
    // Repeated parameters are ambiguous (RFC 6749 §3.1): when they name the client or where to
    // answer, the error can only be shown.
    if is_repeated("client_id") || is_repeated("redirect_uri") {
        return error_page(
            "invalid_request",
            "The 'client_id' and 'redirect_uri' parameters must not be repeated.",
        );
    }
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // 1. The client and its redirect URI: errors here are shown, never redirected.
    let Some(client_id) = get("client_id") else {
        return error_page("invalid_request", "The 'client_id' parameter is required.");
    };
    let app = match state.store.app_by_client_id(client_id).await {
        Ok(app) if app.is_active() && app.oidc.is_some() => app,
        Ok(_) | Err(StoreError::NotFound) => {
            return error_page("invalid_client", "The client is invalid or deactivated.")
        }
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let Some(oidc) = app.oidc.clone() else {
        return error_page("invalid_client", "The client is invalid.");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return error_page(
            "invalid_request",
            "The 'redirect_uri' parameter is required.",
        );
    };
    // Exact string match: no prefix, case or trailing-slash leniency.
    if !oidc.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(
            "invalid_request",
            "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
        );
    }
    let mode = if is_repeated("response_mode") {
        "query"
    } else {
        get("response_mode").unwrap_or("query")
    };
    // An ambiguous state is not echoed.
    let state_param = get("state").filter(|_| !is_repeated("state"));
    let fail = |error: &str, description: &str| {
        redirect_error(
            redirect_uri,
            if mode == "form_post" {
                "form_post"
            } else {
                "query"
            },
            state_param,
            error,
            description,
            issuer,
        )
    };
    if mode != "query" && mode != "form_post" {
        return fail(
            "unsupported_response_mode",
            "The response mode is not supported by the authorization server.",
        );
    }
    if let Some(name) = repeated.first() {
        return fail(
            "invalid_request",
            &format!("The '{name}' parameter was repeated."),
        );
    }
    // 2. The request itself.
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type", "The response type is not supported by the authorization server. Configured response types: [code].");
    }
    if !oidc.allows_grant("authorization_code") {
        return fail(
            "unauthorized_client",
            "The client is not authorized to use the provided grant type.",
        );
    }
    let granted = match state.store.active_granted_scopes(&app.id, issuer).await {
        Ok(g) => g,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let scopes = match scope_rules::decide_with_catalogue(get("scope"), Grant::User, &granted) {
        Ok(s) => s,
        Err(e) => {
            log_denial(state, &app, &e.description()).await;
            return fail(e.error(), &e.description());
        }
    };
    let challenge = match pkce::check_authorization_request(
        get("code_challenge"),
        get("code_challenge_method"),
        pkce::PkceRule::of(&oidc.token_endpoint_auth_method, oidc.pkce_required),
    ) {
        Ok(c) => c,
        Err(e) => return fail(e.error(), &e.description()),
    };
    let prompt: Vec<&str> = get("prompt")
        .map(|v| v.split(' ').filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    // OIDC Core §3.1.2.1: `none` with any other value is an error.
    if prompt.contains(&"none") && prompt.len() > 1 {
        return fail(
            "invalid_request",
            "The 'prompt' value 'none' must not be combined with other values.",
        );
    }
    let max_age = match get("max_age").map(parse_max_age) {
        None => None,
        Some(Some(secs)) => Some(secs),
        Some(None) => {
            return fail(
                "invalid_request",
                "The 'max_age' parameter must be a non-negative integer.",
            )
        }
    };
    // 3. Who is signing in.
    let now = now_millis();
    let session = match cookie(headers, SESSION_COOKIE) {
        Some(sid) => state.store.session(&sha256_hex(sid), now).await.ok(),
        None => None,
    };
    let user = match &session {
        Some(s) => state
            .store
            .user(&s.user_id)
            .await
            .ok()
            .filter(|u| u.status == UserStatus::Active),
        None => None,
    };
    let (Some(user), Some(session)) = (user, session) else {
        if prompt.contains(&"none") {
            return fail(
                "login_required",
                "The client specified not to prompt, but the user is not logged in.",
            );
        }
        return sign_in_page(state, headers, &app, &p, None, StatusCode::OK, "");
    };
    // OIDC Core §3.1.2.1: a session older than max_age seconds signs in again; max_age=0 acts
    // like prompt=login. The new session's auth_time goes into the code (and the ID token).
    let too_old = max_age.is_some_and(|secs| {
        secs == 0 || now.saturating_sub(session.auth_time) > secs.saturating_mul(1000)
    });
    if too_old && prompt.contains(&"none") {
        return fail(
            "login_required",
            "The client specified not to prompt, but the user must sign in again.",
        );
    }
    if prompt.contains(&"login") || too_old {
        return sign_in_page(state, headers, &app, &p, None, StatusCode::OK, user.login());
    }
    // 4. The user must be assigned to the app.
    match state.store.app_user(&app.id, &user.id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            log_denial(
                state,
                &app,
                "User is not assigned to the client application.",
            )
            .await;
            return fail(
                "access_denied",
                "User is not assigned to the client application.",
            );
        }
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    }
    // 5. Consent, when the app asks for it.
    if oidc.consent_method == "REQUIRED" || prompt.contains(&"consent") {
        match consent {
            Some(true) => {}
            Some(false) => {
                return fail(
                    "access_denied",
                    "The resource owner or authorization server denied the request.",
                )
            }
            None if prompt.contains(&"none") => {
                return fail(
                    "consent_required",
                    "The client specified not to prompt, but consent is required.",
                )
            }
            None => return consent_page(state, headers, &app, &user, &scopes, &p),
        }
    }
    // 6. The code.
    let code = random_secret(43);
    let record = AuthCode {
        code_hash: sha256_hex(&code),
        client_id: client_id.to_string(),
        user_id: user.id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scopes: scopes.join(" "),
        code_challenge: challenge,
        nonce: get("nonce").map(str::to_string),
        auth_time: session.auth_time,
        dpop_jkt: get("dpop_jkt").map(str::to_string),
        created: now,
        expires: now + CODE_LIFETIME_MS,
        used_at: None,
    };
    let saved = async {
        let mut tx = state.store.begin().await?;
        tx.insert_auth_code(&record).await?;
        tx.append_log(
            &LogEvent::new(
                "app.oauth2.authorize.code",
                "OAuth2 authorization code request",
                Actor::user(&user.id, user.login(), &user.display_name()),
                now,
            )
            .target(Target::app(&app))
            .debug("requestedScopes", scopes.join(" ")),
        )
        .await?;
        tx.commit().await
    };
    if let Err(e) = saved.await {
        return crate::error::ApiError::from(e).into_response();
    }
    let mut params = vec![("code", code)];
    if let Some(s) = state_param {
        params.push(("state", s.to_string()));
    }
    params.push(("iss", issuer.to_string()));
    respond_to_client(redirect_uri, mode, &params)
}

/// `max_age` in seconds: digits only (no sign), a value past i64 counting as forever.
fn parse_max_age(v: &str) -> Option<i64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse::<i64>().unwrap_or(i64::MAX))
}

async fn log_denial(state: &AppState, app: &App, reason: &str) {
    let event = LogEvent::new(
        "app.oauth2.authorize",
        "OAuth2 authorization request denied",
        Actor::client(app.client_id.as_deref().unwrap_or_default(), &app.label),
        now_millis(),
    )
    .outcome("DENY", Some(reason.to_string()));
    if let Ok(mut tx) = state.store.begin().await {
        if tx.append_log(&event).await.is_ok() {
            let _ = tx.commit().await;
        }
    }
}

fn return_to(p: &HashMap<String, String>) -> String {
    let params = request_params(p, true);
    format!(
        "/oauth2/v1/authorize?{}",
        serde_urlencoded::to_string(&params).unwrap_or_default()
    )
}

fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    app: &App,
    p: &HashMap<String, String>,
    error: Option<&str>,
    status: StatusCode,
    username: &str,
) -> Response {
    let csrf = csrf_token_for(state, headers);
    let login_hint = p.get("login_hint").map(String::as_str).unwrap_or_default();
    let page = render_for_client(
        status,
        "signin.html",
        minijinja::context! {
            app_label => app.label.clone(),
            csrf => csrf.token.clone(),
            return_to => return_to(p),
            username => if username.is_empty() { login_hint } else { username },
            error => error,
            issuer => state.config.issuer.clone(),
        },
        p.get("redirect_uri").map(String::as_str),
    );
    with_csrf(page, state, &csrf)
}

fn consent_page(
    state: &AppState,
    headers: &HeaderMap,
    app: &App,
    user: &User,
    scopes: &[String],
    p: &HashMap<String, String>,
) -> Response {
    let csrf = csrf_token_for(state, headers);
    let described: Vec<Value> = scopes
        .iter()
        .map(|s| {
            let description = steward_core::scopes::lookup(s)
                .map(|i| i.description)
                .unwrap_or_default();
            serde_json::json!({"name": s, "description": description})
        })
        .collect();
    let page = render_for_client(
        StatusCode::OK,
        "consent.html",
        minijinja::context! {
            app_label => app.label.clone(),
            scopes => described,
            login => user.login(),
            csrf => csrf.token.clone(),
            params => request_params(p, true),
        },
        p.get("redirect_uri").map(String::as_str),
    );
    with_csrf(page, state, &csrf)
}

/// `POST /login`: checks the password (argon2id), locks the account after repeated failures,
/// opens a session and returns to the authorization request.
pub async fn login(
    State(state): State<AppState>,
    RequestClient(caller): RequestClient,
    headers: HeaderMap,
    Form(form): Form,
) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let return_to = get("return_to");
    // Only visible ASCII: anything else (a control character, a space, non-ASCII) cannot go in
    // a Location header, and is never in a return_to this server wrote.
    if !return_to.starts_with("/oauth2/v1/authorize?")
        || !return_to.bytes().all(|b| b.is_ascii_graphic())
    {
        return error_page(
            "invalid_request",
            "The sign-in form was not started from an authorization request.",
        );
    }
    let original = query_map(return_to.split_once('?').map(|(_, q)| q));
    let app = match original.get("client_id") {
        Some(id) => state.store.app_by_client_id(id).await.ok(),
        None => None,
    };
    let Some(app) = app else {
        return error_page("invalid_client", "The client is invalid or deactivated.");
    };
    if !csrf_ok_for(&state, &headers, &form) {
        return sign_in_page(
            &state,
            &headers,
            &app,
            &original,
            Some("The form has expired. Please sign in again."),
            StatusCode::FORBIDDEN,
            get("username"),
        );
    }
    let username = get("username").trim();
    let now = now_millis();
    let sid = random_secret(43);
    let ctx = Ctx {
        store: &state.store,
        now,
        actor: Actor::system(),
        client: caller,
        bus: None,
    };
    let sid_hash = sha256_hex(&sid);
    let attempt = PasswordSignIn {
        username,
        password: get("password"),
        session_id_hash: &sid_hash,
        session_lifetime_ms: SESSION_LIFETIME_MS,
        dummy_hash: &state.auth.dummy_hash,
    };
    match sign_in::with_password(&ctx, &attempt).await {
        Ok(SignIn::Done { .. }) => {
            let mut response = Redirect::to(return_to).into_response();
            set_cookie(
                &mut response,
                &state,
                SESSION_COOKIE,
                &sid,
                "Lax",
                Some(SESSION_LIFETIME_MS / 1000),
            );
            response
        }
        Ok(SignIn::Refused { .. }) => sign_in_page(
            &state,
            &headers,
            &app,
            &original,
            Some(GENERIC_FAILURE),
            StatusCode::UNAUTHORIZED,
            username,
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The one message of every refused sign-in (unknown login, wrong password, locked or inactive
/// account), so that the answer does not tell which logins exist; the System Log has the reason.
const GENERIC_FAILURE: &str = "Unable to sign in.";

/// `GET /oauth2/v1/logout`: ends the session if it is the `id_token_hint` user's; returns to a
/// registered post-logout URI.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let p = query_map(raw.as_deref());
    let issuer = state.config.issuer.as_str();
    let keys = state.auth.verification_keys();
    let now = now_millis();
    let hint = p
        .get("id_token_hint")
        .map(String::as_str)
        .unwrap_or_default();
    let claims = match jwt::verify_id_token(
        hint,
        &keys,
        issuer,
        None,
        now / 1000,
        jwt::DEFAULT_LEEWAY_SECS,
        true,
    ) {
        Ok(c) => c,
        Err(_) => {
            return error_page(
                "invalid_request",
                "The 'id_token_hint' parameter is missing or invalid.",
            )
        }
    };
    let app = state.store.app_by_client_id(&claims.aud).await.ok();
    let target = match p.get("post_logout_redirect_uri") {
        Some(uri) => match app.as_ref().and_then(|a| a.oidc.as_ref()) {
            Some(o) if o.post_logout_redirect_uris.iter().any(|r| r == uri) => Some(uri.clone()),
            _ => return error_page("invalid_request", "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings."),
        },
        None => None,
    };
    // Only the hint's own user may end the session: any valid ID token (another user's, leaked
    // or found) must not sign out whoever the cookie names, nor log a logout in their name.
    let ended = match cookie(&headers, SESSION_COOKIE) {
        None => true,
        Some(sid) => {
            let sid_hash = sha256_hex(sid);
            match state.store.session(&sid_hash, now).await {
                Ok(session) if session.user_id == claims.sub => {
                    let actor = match state.store.user(&session.user_id).await {
                        Ok(u) => Actor::user(&u.id, u.login(), &u.display_name()),
                        Err(_) => Actor::user(&claims.sub, &claims.sub, &claims.sub),
                    };
                    if let Ok(mut tx) = state.store.begin().await {
                        let _ = tx.delete_session(&sid_hash).await;
                        let _ = tx
                            .append_log(&LogEvent::new(
                                "user.session.end",
                                "User logout from Okta",
                                actor,
                                now,
                            ))
                            .await;
                        let _ = tx.commit().await;
                    }
                    true
                }
                // No live session behind the cookie: nothing to end, the stale cookie may go.
                Err(StoreError::NotFound) => true,
                // Someone else's session (or it could not be read): leave it and its cookie.
                _ => false,
            }
        }
    };
    let mut response = match target {
        Some(uri) => {
            let mut params = Vec::new();
            if let Some(s) = p.get("state") {
                params.push(("state", s.clone()));
            }
            respond_to_client(&uri, "query", &params)
        }
        None => render(
            StatusCode::OK,
            "signed_out.html",
            minijinja::context! { issuer => issuer },
        ),
    };
    if ended {
        set_cookie(&mut response, &state, SESSION_COOKIE, "", "Lax", Some(0));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_cookie_is_host_prefixed_under_tls_only() {
        assert_eq!(
            csrf_cookie_name("https://id.example.com"),
            "__Host-steward_csrf"
        );
        assert_eq!(csrf_cookie_name("http://127.0.0.1:8080"), "steward_csrf");
    }

    #[test]
    fn csrf_cookie_for_an_https_issuer_ignores_the_plain_name() {
        // A sibling subdomain can plant `steward_csrf`, never `__Host-steward_csrf`.
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("steward_csrf=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        );
        let https = csrf_cookie_name("https://id.example.com");
        assert_eq!(cookie(&headers, https), None);
        assert_eq!(
            cookie(&headers, csrf_cookie_name("http://localhost")),
            Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        );
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_pre_session_and_the_key() {
        let (key, other_key) = ([1u8; 32], [2u8; 32]);
        let id = "a".repeat(PRE_SESSION_ID_LENGTH);
        let token = csrf_token(&key, &id);
        assert_eq!(token.len(), 43);
        assert!(csrf_matches(&key, Some(&id), Some(&token)));
        // Plain double submit: the cookie's value as the field.
        assert!(!csrf_matches(&key, Some(&id), Some(&id)));
        // Another browser's token, another server's key, no cookie, no field.
        let other = "b".repeat(PRE_SESSION_ID_LENGTH);
        assert!(!csrf_matches(&key, Some(&other), Some(&token)));
        assert!(!csrf_matches(&other_key, Some(&id), Some(&token)));
        assert!(!csrf_matches(&key, None, Some(&token)));
        assert!(!csrf_matches(&key, Some(&id), None));
        assert!(!csrf_matches(&key, Some(""), Some(&csrf_token(&key, ""))));
    }

    #[test]
    fn origin_must_be_the_issuers_when_sent() {
        let issuer = "https://id.example.com";
        let with = |origins: &[&'static str]| {
            let mut h = HeaderMap::new();
            for o in origins {
                h.append(header::ORIGIN, HeaderValue::from_static(o));
            }
            origin_ok(issuer, &h)
        };
        assert!(with(&[]));
        assert!(with(&["https://id.example.com"]));
        for bad in [
            "https://evil.example",
            "null",
            "http://id.example.com",
            "https://id.example.com.evil.example",
            "https://sub.id.example.com",
        ] {
            assert!(!with(&[bad]), "{bad}");
        }
        assert!(!with(&["https://id.example.com", "https://evil.example"]));
        assert!(origin_ok(
            "http://127.0.0.1:8080/",
            &HeaderMap::from_iter([(
                header::ORIGIN,
                HeaderValue::from_static("http://127.0.0.1:8080")
            )])
        ));
    }

    #[test]
    fn form_post_only_to_http_or_private_use_schemes() {
        assert!(form_post_target_ok("https://app.example.com/cb"));
        assert!(form_post_target_ok("http://localhost:8080/cb"));
        assert!(form_post_target_ok("com.example.app:/cb"));
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "file:///etc/passwd",
            "not a uri",
        ] {
            assert!(!form_post_target_ok(bad), "{bad}");
        }
        let page = respond_to_client("javascript:alert(1)", "form_post", &[]);
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        assert_eq!(parse_max_age("0"), Some(0));
        assert_eq!(parse_max_age("3600"), Some(3600));
        assert_eq!(parse_max_age("99999999999999999999999"), Some(i64::MAX));
        for bad in ["-1", "+1", "1.5", "abc", " 1", ""] {
            assert_eq!(parse_max_age(bad), None, "{bad}");
        }
    }
}
