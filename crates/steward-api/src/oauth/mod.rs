//! The org authorization server (`/oauth2/v1/*`, `/.well-known/*`), its sign-in pages, and the
//! activation page (`/welcome/{token}`).

mod authorize;
pub mod client_auth;
mod clients;
mod endpoints;
mod ledger;
pub(crate) mod pages;
pub mod server;
mod tokens;
mod welcome;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::routing::{get, post};
use axum::Router;

pub use authorize::{LOCKOUT_THRESHOLD, SESSION_COOKIE};
pub use clients::{ClientCache, Registration};
pub use ledger::Ledger;
pub use server::AuthServer;
pub use welcome::activation_url;

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(endpoints::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(endpoints::authorization_server),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(endpoints::protected_resource),
        )
        .route(
            "/.well-known/okta-organization",
            get(endpoints::okta_organization),
        )
        .route("/oauth2/v1/keys", get(endpoints::keys))
        .route(
            "/oauth2/v1/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/login", post(authorize::login))
        .route("/oauth2/v1/token", post(tokens::token))
        .route("/oauth2/v1/introspect", post(endpoints::introspect))
        .route("/oauth2/v1/revoke", post(endpoints::revoke))
        .route(
            "/oauth2/v1/userinfo",
            get(endpoints::userinfo).post(endpoints::userinfo),
        )
        .route("/oauth2/v1/logout", get(authorize::logout))
        .route("/welcome/{token}", get(welcome::show).post(welcome::submit))
}

/// An `application/x-www-form-urlencoded` body as a map. A parameter sent twice is refused
/// (RFC 6749 §3.1), as is a body that does not parse.
pub struct Form(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::oauth("invalid_request", "The request body could not be read.")
        })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            ApiError::oauth("invalid_request", "The request body is not a valid form.")
        })?;
        let mut map = HashMap::with_capacity(pairs.len());
        for (k, v) in pairs {
            if map.insert(k.clone(), v).is_some() {
                return Err(ApiError::oauth(
                    "invalid_request",
                    format!("The '{k}' parameter was repeated."),
                ));
            }
        }
        Ok(Form(map))
    }
}
