//! Signing in and out through the org's own authorization server, for both consoles (the
//! paths below are the Admin Console's; the end-user dashboard's are the same under `/app`).
//!
//! `GET /admin/signin` starts an authorization request (code + PKCE S256, `state`, `nonce`)
//! and keeps what it needs to finish in a sign-in-in-progress row; the authorization server
//! shows its sign-in page and sends the code to `/admin/callback`, which checks `state`,
//! exchanges the code in-process (the OAuth router, through `tower`'s `oneshot`: no network hop,
//! no trust in a certificate, works whatever address the issuer names), verifies the ID token
//! (signature, issuer, audience, nonce) and starts a new session (a new id: the id of the
//! sign-in in progress never becomes a session's). Sign-out ends the console session and then,
//! through RP-initiated logout, the Steward sign-in session.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use steward_app::console::{
    console_post_logout_uri, console_redirect_uri, dashboard_post_logout_uri,
    dashboard_redirect_uri,
};
use steward_core::directory::UserStatus;
use steward_core::ids::random_secret;
use steward_core::syslog::{Actor, LogEvent, Target};
use steward_store::{ConsoleSession, PrincipalType, StoreError};
use tower::ServiceExt;

use crate::pages::{self, encode, see_other};
use crate::session::{self, clear_cookie, set_cookie, SignedIn, ID_LENGTH};
use crate::{Console, Surface};

/// How long a sign-in may take, from the console's redirect to the callback (ms).
const SIGN_IN_WINDOW_MS: i64 = 10 * 60 * 1000;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartQuery {
    next: Option<String>,
}

/// Where to go after signing in: a path of this console only (never another site, never
/// `//host`).
fn safe_next(surface: Surface, next: Option<&str>) -> String {
    let base = surface.base;
    match next {
        Some(n)
            if (n == base || n.starts_with(&format!("{base}/")))
                && !n.contains("//")
                && !n.contains('\\')
                && !n.starts_with(&format!("{base}/signin"))
                && !n.starts_with(&format!("{base}/callback")) =>
        {
            n.to_string()
        }
        _ => format!("{base}/"),
    }
}

/// Where the authorization server sends this console's codes.
fn redirect_uri(surface: Surface, issuer: &str) -> String {
    if surface.admin {
        console_redirect_uri(issuer)
    } else {
        dashboard_redirect_uri(issuer)
    }
}

/// Where the Steward sign-out returns to.
fn post_logout_uri(surface: Surface, issuer: &str) -> String {
    if surface.admin {
        console_post_logout_uri(issuer)
    } else {
        dashboard_post_logout_uri(issuer)
    }
}

/// `GET /admin/signin`: starts the authorization request.
pub async fn start(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Response {
    let issuer = console.issuer().to_string();
    let surface = console.surface;
    let now = console.now();
    let id = random_secret(ID_LENGTH);
    let pending = ConsoleSession {
        id_hash: session::hash(&id),
        user_id: None,
        csrf_token: random_secret(43),
        login_state: Some(random_secret(32)),
        nonce: Some(random_secret(32)),
        code_verifier: Some(random_secret(64)),
        return_to: Some(safe_next(surface, q.next.as_deref())),
        id_token: None,
        created: now,
        last_seen: now,
        expires: now + SIGN_IN_WINDOW_MS,
    };
    let saved = async {
        let mut tx = console.api.store.begin().await?;
        // A browser starting again drops the sign-in it had in progress.
        if let Some(old) = session::session_id(&headers, surface, &issuer) {
            if let Ok(s) = console
                .api
                .store
                .console_session(&session::hash(old), now)
                .await
            {
                if s.user_id.is_none() {
                    tx.delete_console_session(&s.id_hash).await?;
                }
            }
        }
        tx.insert_console_session(&pending).await?;
        tx.commit().await
    };
    if let Err(e) = saved.await {
        return pages::app_error_in(surface, e.into());
    }
    let params = [
        ("client_id", console.client_id.to_string()),
        ("response_type", "code".into()),
        ("scope", "openid profile".into()),
        ("redirect_uri", redirect_uri(surface, &issuer)),
        ("state", pending.login_state.clone().unwrap_or_default()),
        ("nonce", pending.nonce.clone().unwrap_or_default()),
        (
            "code_challenge",
            steward_oauth::pkce::challenge_s256(
                pending.code_verifier.as_deref().unwrap_or_default(),
            ),
        ),
        ("code_challenge_method", "S256".into()),
    ];
    let query = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut response = see_other(&format!("{issuer}/oauth2/v1/authorize?{query}"));
    set_cookie(
        &mut response,
        surface,
        &issuer,
        &id,
        Some(SIGN_IN_WINDOW_MS / 1000),
    );
    response
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn sign_in_failed(surface: Surface, text: &str) -> Response {
    pages::message_in(surface, StatusCode::BAD_REQUEST, "Sign-in failed", text)
}

/// `GET /admin/callback`: finishes the sign-in.
pub async fn callback(
    State(console): State<Console>,
    steward_api::RequestClient(client): steward_api::RequestClient,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let issuer = console.issuer().to_string();
    let surface = console.surface;
    let failed = |text: &str| sign_in_failed(surface, text);
    let now = console.now();
    let store = &console.api.store;
    let pending = match session::session_id(&headers, surface, &issuer) {
        Some(id) => match store.console_session(&session::hash(id), now).await {
            Ok(s) if s.user_id.is_none() => Some(s),
            Ok(_) | Err(StoreError::NotFound) => None,
            Err(e) => return pages::app_error_in(surface, e.into()),
        },
        None => None,
    };
    let state_ok = |p: &ConsoleSession| match (&p.login_state, &q.state) {
        (Some(ours), Some(theirs)) => {
            subtle::ConstantTimeEq::ct_eq(ours.as_bytes(), theirs.as_bytes()).into()
        }
        _ => false,
    };
    let Some(pending) = pending.filter(state_ok) else {
        return failed(&format!(
            "This sign-in is not the one this browser started, or it took too long. \
             Open the {} again to sign in.",
            surface.name
        ));
    };
    // The sign-in in progress is used once, whatever happens next.
    let consumed = async {
        let mut tx = store.begin().await?;
        let deleted = tx.delete_console_session(&pending.id_hash).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(deleted)
    };
    match consumed.await {
        Ok(true) => {}
        Ok(false) => return failed("This sign-in was already used."),
        Err(e) => return pages::app_error_in(surface, e.into()),
    }
    if let Some(error) = &q.error {
        let text = q.error_description.as_deref().unwrap_or(error);
        return failed(&format!("The authorization server said: {text}"));
    }
    if q.iss.as_deref().is_some_and(|iss| iss != issuer) {
        return failed("The answer came from another authorization server.");
    }
    let Some(code) = q.code.as_deref() else {
        return failed("The authorization server sent no code.");
    };
    let id_token = match exchange(&console, code, &pending).await {
        Ok(t) => t,
        Err(why) => {
            tracing::warn!(%why, "console code exchange failed");
            return failed(&why);
        }
    };
    let claims = match steward_oauth::jwt::verify_id_token(
        &id_token,
        &console.api.auth.verification_keys(),
        &issuer,
        Some(&console.client_id),
        now / 1000,
        steward_oauth::jwt::DEFAULT_LEEWAY_SECS,
        false,
    ) {
        Ok(c) if c.nonce.is_some() && c.nonce == pending.nonce => c,
        _ => return failed("The ID token is not valid for this sign-in."),
    };
    let user = match store.user(&claims.sub).await {
        Ok(u) if u.status == UserStatus::Active => u,
        Ok(_) | Err(StoreError::NotFound) => return failed("Your account is not active."),
        Err(e) => return pages::app_error_in(surface, e.into()),
    };
    // The Admin Console needs an admin role; the end-user dashboard only an active user the
    // console's app is assigned to (Everyone), which `/authorize` has checked.
    if surface.admin {
        match store.roles_of(PrincipalType::User, &user.id).await {
            Ok(roles) if !roles.is_empty() => {}
            Ok(_) => {
                return pages::message(
                    StatusCode::FORBIDDEN,
                    "No admin role",
                    &format!(
                        "You signed in as {}, who holds no admin role. The Admin Console is for \
                         administrators; your requests and approvals are on your dashboard at \
                         /app.",
                        user.login()
                    ),
                )
            }
            Err(e) => return pages::app_error(e.into()),
        }
    }
    let id = random_secret(ID_LENGTH);
    let signed_in = ConsoleSession {
        id_hash: session::hash(&id),
        user_id: Some(user.id.clone()),
        csrf_token: random_secret(43),
        login_state: None,
        nonce: None,
        code_verifier: None,
        return_to: None,
        id_token: Some(id_token),
        created: now,
        last_seen: now,
        expires: now + console.settings.absolute_timeout_ms,
    };
    let saved = async {
        let mut tx = store.begin().await?;
        tx.insert_console_session(&signed_in).await?;
        let (event_type, message) = if surface.admin {
            (
                "user.session.access_admin_app",
                "User accessing Steward Admin Console",
            )
        } else {
            (
                "user.authentication.sso",
                "User single sign on to app: Steward dashboard",
            )
        };
        tx.append_log(
            &LogEvent::new(
                event_type,
                message,
                Actor::user(&user.id, user.login(), &user.display_name()),
                now,
            )
            .client(client)
            .target(Target::user(&user)),
        )
        .await?;
        tx.commit().await
    };
    if let Err(e) = saved.await {
        return pages::app_error_in(surface, e.into());
    }
    let mut response = see_other(&safe_next(surface, pending.return_to.as_deref()));
    set_cookie(&mut response, surface, &issuer, &id, None);
    response
}

/// Exchanges the code at the token endpoint, in-process; the ID token.
async fn exchange(
    console: &Console,
    code: &str,
    pending: &ConsoleSession,
) -> Result<String, String> {
    let issuer = console.issuer();
    let body = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &redirect_uri(console.surface, issuer)),
        ("client_id", &console.client_id),
        (
            "code_verifier",
            pending.code_verifier.as_deref().unwrap_or_default(),
        ),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", encode(v)))
    .collect::<Vec<_>>()
    .join("&");
    let request = Request::post("/oauth2/v1/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body))
        .map_err(|e| e.to_string())?;
    let response = console
        .oauth
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| e.to_string())?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if !status.is_success() {
        let why = json["error_description"]
            .as_str()
            .or(json["error"].as_str())
            .unwrap_or("the token endpoint refused the code");
        return Err(format!("The code could not be exchanged: {why}"));
    }
    json["id_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "The token endpoint sent no ID token.".to_string())
}

/// `POST /admin/signout`: ends the console session, then the Steward sign-in session
/// (`/oauth2/v1/logout` with the session's ID token as the hint), which returns to
/// `/admin/signed-out`. Any signed-in user may sign out (one whose admin role was taken away
/// too).
pub async fn sign_out(
    State(console): State<Console>,
    admin: SignedIn,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = session::parse_form(&body);
    if let Some(refused) = admin.check_form(&console, &headers, &form) {
        return refused;
    }
    let issuer = console.issuer().to_string();
    let surface = console.surface;
    let ended = async {
        let mut tx = console.api.store.begin().await?;
        tx.delete_console_session(&admin.session.id_hash).await?;
        tx.append_log(
            &LogEvent::new(
                "user.session.end",
                if surface.admin {
                    "User logout from Steward Admin Console"
                } else {
                    "User logout from Steward dashboard"
                },
                admin.actor(),
                console.now(),
            )
            .client(admin.client.clone()),
        )
        .await?;
        tx.commit().await
    };
    if let Err(e) = ended.await {
        return pages::app_error_in(surface, e.into());
    }
    let mut response = match &admin.session.id_token {
        Some(hint) => see_other(&format!(
            "{issuer}/oauth2/v1/logout?id_token_hint={}&post_logout_redirect_uri={}",
            encode(hint),
            encode(&post_logout_uri(surface, &issuer))
        )),
        None => see_other(&format!("{}/signed-out", surface.base)),
    };
    clear_cookie(&mut response, surface, &issuer);
    response
}

/// `GET /admin/signed-out`.
pub async fn signed_out(State(console): State<Console>) -> Response {
    pages::message_in(
        console.surface,
        StatusCode::OK,
        "You have signed out",
        &format!(
            "Your {} session and your Steward sign-in have ended.",
            console.surface.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_returned_to() {
        use crate::{ADMIN, END_USER};
        let safe_next = |n| safe_next(ADMIN, n);
        assert_eq!(safe_next(Some("/admin/apps?q=x")), "/admin/apps?q=x");
        assert_eq!(safe_next(Some("/admin")), "/admin");
        assert_eq!(safe_next(Some("/app/tasks")), "/admin/");
        for bad in [
            "https://evil.example/",
            "//evil.example/admin/",
            "/admin//evil",
            "/admin/\\evil",
            "/adminx",
            "/api/v1/users",
            "/admin/signin?next=/admin/",
        ] {
            assert_eq!(safe_next(Some(bad)), "/admin/", "{bad}");
        }
        assert_eq!(safe_next(None), "/admin/");
        let app_next = |n| super::safe_next(END_USER, n);
        assert_eq!(app_next(Some("/app/tasks/abc")), "/app/tasks/abc");
        assert_eq!(app_next(Some("/admin/apps")), "/app/");
        assert_eq!(app_next(Some("/app/signin")), "/app/");
        assert_eq!(app_next(Some("//evil.example/app/")), "/app/");
    }
}
