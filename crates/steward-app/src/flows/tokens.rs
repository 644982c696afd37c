//! What connector cards need of a connection: an org to call and a bearer token for it.
//!
//! [`TokenSource`] is the seam between the connectors (which send HTTP calls) and the
//! connections (which hold sealed tokens, refresh and reauthorize them).

use std::future::Future;
use std::pin::Pin;

use crate::AppResult;

/// A usable token of one connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionToken {
    pub connection_id: String,
    /// The connection's name (what the flopack's placeholder names).
    pub name: String,
    /// The OAuth client (app) the token was issued to.
    pub app_id: String,
    /// The org the connection calls, e.g. `https://steward.example.com` (no trailing `/`).
    pub org_url: String,
    pub access_token: String,
    /// The scopes in the token, as it was issued.
    pub scopes: Vec<String>,
}

pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = AppResult<ConnectionToken>> + Send + 'a>>;

/// Finds a connection for a card and gives its token, refreshed when it is about to expire.
pub trait TokenSource: Send + Sync {
    /// The connection of `connector` (`okta`, `oig`, …) named `name` (the flopack's connection
    /// placeholder name); with no name, or no connection of that name, the connector's only
    /// connection. `AppError::NotFound` when there is none, `AppError::Conflict` when it was
    /// never authorized.
    fn token<'a>(&'a self, connector: &'a str, name: Option<&'a str>) -> TokenFuture<'a>;
}
