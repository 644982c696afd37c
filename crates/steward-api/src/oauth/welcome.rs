//! The activation link, `/welcome/{token}` (Okta's classic welcome flow). A PROVISIONED user
//! sets a password (typed twice, checked against the password policy, stored as argon2id); that
//! makes them ACTIVE and uses the token up, in one transaction. Then they go on to sign in: to
//! `fromURI` when it is an authorization request of this server, else to a page that says so.
//!
//! The form carries a CSRF token bound to the browser's pre-session cookie and is refused from
//! another origin, as the sign-in form is. An unknown token (also one that a newer activation or a deactivation deleted)
//! answers 404; a used or expired one, or one whose user is no longer PROVISIONED, answers 410.
//! Both show the same page, which names no user.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use steward_core::directory::{self, User};
use steward_store::StoreError;

use super::authorize::{csrf_ok_for, csrf_token_for, query_map, with_csrf};
use super::pages::{render, render_for_client};
use super::Form;
use crate::error::{ApiError, ApiResult};
use crate::secrets::{
    check_password_policy, hash_password_blocking, sha256_hex, PASSWORD_RULES as RULES,
};
use crate::AppState;

/// The link a user activates their account with.
pub fn activation_url(issuer: &str, token: &str) -> String {
    format!("{issuer}/welcome/{token}")
}

/// `GET /welcome/{token}`: the form.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let user = match user_of_link(&state, &token).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let params = query_map(raw.as_deref());
    let from_uri = sign_in_uri(&params);
    form_page(&state, &headers, &user, from_uri, None, StatusCode::OK)
}

/// `POST /welcome/{token}`: sets the password and activates the user.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form,
) -> Response {
    let user = match user_of_link(&state, &token).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let from_uri = sign_in_uri(&form);
    let retry = |error: &str, status: StatusCode| {
        form_page(&state, &headers, &user, from_uri, Some(error), status)
    };
    if !csrf_ok_for(&state, &headers, &form) {
        return retry(
            "The form has expired. Please try again.",
            StatusCode::FORBIDDEN,
        );
    }
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let password = get("password");
    if password != get("password_confirm") {
        return retry("The passwords do not match.", StatusCode::BAD_REQUEST);
    }
    if check_password_policy(password, user.login()).is_err() {
        return retry(
            &format!("Password requirements were not met. Password requirements: {RULES}"),
            StatusCode::BAD_REQUEST,
        );
    }
    let hash = match hash_password_blocking(password).await {
        Ok(hash) => hash,
        Err(e) => return e.into_response(),
    };
    match complete(&state, &token, hash).await {
        Ok(Some(user)) => match from_uri {
            Some(uri) => no_referrer(Redirect::to(uri).into_response()),
            None => notice(
                &state,
                StatusCode::OK,
                "Your account is active",
                &format!(
                    "Your password is set. Sign in to your applications as {} with it.",
                    user.login()
                ),
            ),
        },
        Ok(None) => invalid(&state, StatusCode::GONE),
        Err(e) => e.into_response(),
    }
}

/// The PROVISIONED user a usable link belongs to, or the page to show instead.
async fn user_of_link(state: &AppState, token: &str) -> Result<User, Response> {
    // Tokens are short and alphanumeric; anything else was never issued.
    if token.is_empty() || token.len() > 64 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(state, StatusCode::NOT_FOUND));
    }
    let record = match state.store.activation_token(&sha256_hex(token)).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Err(invalid(state, StatusCode::NOT_FOUND)),
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    if !record.usable(state.clock.now()) {
        return Err(invalid(state, StatusCode::GONE));
    }
    match state.store.user(&record.user_id).await {
        Ok(user) if directory::complete_activation(user.status).is_some() => Ok(user),
        Ok(_) | Err(StoreError::NotFound) => Err(invalid(state, StatusCode::GONE)),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// Uses the token up and activates its user with the password `hash`, in one transaction;
/// `None` when the token or the user no longer allows it (a concurrent use won).
async fn complete(state: &AppState, token: &str, hash: String) -> ApiResult<Option<User>> {
    // The user completes their own activation: the use case names them as the actor.
    let ctx = steward_app::Ctx::system(&state.store).at(state.clock.now());
    Ok(steward_app::users::complete_activation(&ctx, &sha256_hex(token), hash).await?)
}

/// Where to send the user after activation: an authorization request of this server (the
/// sign-in form of an app), never anywhere else.
fn sign_in_uri(params: &HashMap<String, String>) -> Option<&str> {
    params
        .get("fromURI")
        .map(String::as_str)
        .filter(|uri| uri.starts_with("/oauth2/v1/authorize?"))
        .filter(|uri| !uri.chars().any(|c| c.is_control() || c == '\\'))
}

fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    from_uri: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let csrf = csrf_token_for(state, headers);
    // The sign-in that follows may redirect straight to the client (a browser with a session).
    let client = from_uri
        .and_then(|uri| uri.split_once('?'))
        .and_then(|(_, query)| query_map(Some(query)).remove("redirect_uri"));
    let page = render_for_client(
        status,
        "welcome.html",
        minijinja::context! {
            login => user.login(),
            csrf => csrf.token.clone(),
            from_uri => from_uri,
            error => error,
            rules => RULES,
            issuer => state.config.issuer.clone(),
        },
        client.as_deref(),
    );
    with_csrf(page, state, &csrf)
}

/// The page for a link that cannot be used; it says nothing about whose link it was.
fn invalid(state: &AppState, status: StatusCode) -> Response {
    notice(
        state,
        status,
        "This activation link is not valid",
        "The link has expired, has already been used, or was replaced by a newer one. \
         Ask your administrator for a new activation link.",
    )
}

fn notice(state: &AppState, status: StatusCode, title: &str, message: &str) -> Response {
    no_referrer(render(
        status,
        "notice.html",
        minijinja::context! { title => title, message => message, issuer => state.config.issuer.clone() },
    ))
}

/// The page's URL holds the token: browsers must not send it on as a `Referer`. (The form page
/// itself has the pages' `same-origin` policy, which sends it to this server only: under
/// `no-referrer` browsers would post the form with `Origin: null`, which is refused.)
fn no_referrer(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}
