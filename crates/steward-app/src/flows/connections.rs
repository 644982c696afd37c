//! Workflows connections: OAuth clients of this org that connector cards call it with (by
//! default the demo's "Okta Workflows OAuth" app).
//!
//! A connection authorizes in one of two ways:
//! - **authorization code + PKCE S256** (a web app, `client_secret_basic`): [`ConnectionService::authorize`]
//!   gives the URL of the org's `/oauth2/v1/authorize` for a signed-in admin to open; the org
//!   redirects to `{issuer}/workflows/oauth/callback`, whose handler calls
//!   [`ConnectionService::complete_authorization`], which redeems the code at the org's token
//!   endpoint over HTTP. The scopes asked are `openid offline_access` and every scope granted to
//!   the app now, so a scope granted later arrives only when the connection is reauthorized.
//! - **client credentials with `private_key_jwt`** (a service app): Steward generates the key
//!   pair, registers the public key on the app and seals the private key; authorizing is an
//!   immediate token request for the app's granted scopes.
//!
//! Secrets (client secret, private key, tokens, the pending PKCE verifier) are sealed with
//! AES-256-GCM under a key derived from the master key ([`SEALING_LABEL`]); the connection id and
//! the field are the associated data, so a sealed value cannot be moved to another row or
//! column. Tokens are refreshed 60 s before they expire, by one node at a time (a claim in the
//! store; the others wait for its result), since the org's refresh-token reuse detection would
//! revoke the whole family if two nodes sent the same refresh token.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Map, Value};
use steward_core::apps::App;
use steward_core::events::DomainEvent;
use steward_core::timefmt::{format_millis, now_millis};
use steward_core::validation::ValidationError;
use steward_oauth::keys::{KeyStatus, SigningKey};
use steward_oauth::secrets::sha256_hex;
use steward_store::{SealedTokens, Store, StoreError, StoredConnection};

use super::tokens::{ConnectionToken, TokenFuture, TokenSource};
use crate::governance::Clock;
use crate::{AppError, AppResult, Ctx};

/// The label the connections' sealing key is derived from the master key with.
pub const SEALING_LABEL: &[u8] = b"steward workflows connections";
/// Where the org sends the browser back with the code.
pub const CALLBACK_PATH: &str = "/workflows/oauth/callback";
/// The label of the demo's app that connections use by default.
pub const DEFAULT_APP_LABEL: &str = "Okta Workflows OAuth";
/// Scopes every authorization-code connection asks for besides the app's grants.
pub const BASE_SCOPES: [&str; 2] = ["openid", "offline_access"];
/// How long an authorization may wait for its callback.
const PENDING_MS: i64 = 10 * 60_000;
/// Tokens are refreshed this long before they expire.
pub const REFRESH_MARGIN_MS: i64 = 60_000;
/// How long one node's refresh claim holds.
const CLAIM_MS: i64 = 30_000;
/// How long a node waits for another node's refresh (in steps of [`WAIT_STEP`]).
const WAIT_STEPS: u32 = 50;
const WAIT_STEP: Duration = Duration::from_millis(200);
const CONNECTORS: [&str; 2] = ["okta", "oig"];

/// A connection as the API, the CLI and the console show it: never a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub id: String,
    pub name: String,
    pub connector: String,
    pub app_id: String,
    pub client_id: String,
    pub org_url: String,
    /// `authorization_code` or `client_credentials`.
    pub auth_method: String,
    /// `UNAUTHORIZED`, `ACTIVE` or `BROKEN`.
    pub status: String,
    /// The scopes in the current token.
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
    pub authorized_by: Option<String>,
    pub authorized_at: Option<String>,
    pub last_check: Option<String>,
    pub last_error: Option<String>,
    /// An authorization is waiting for its callback.
    pub pending: bool,
    pub created: String,
    pub last_updated: String,
}

impl From<&StoredConnection> for Connection {
    fn from(c: &StoredConnection) -> Self {
        Connection {
            id: c.id.clone(),
            name: c.name.clone(),
            connector: c.connector.clone(),
            app_id: c.app_id.clone(),
            client_id: c.client_id.clone(),
            org_url: c.org_url.clone(),
            auth_method: c.auth_method.clone(),
            status: c.status.clone(),
            scopes: c.token_scopes.clone(),
            expires_at: c.token_expires.map(format_millis),
            authorized_by: c.authorized_by.clone(),
            authorized_at: c.authorized_at.map(format_millis),
            last_check: c.last_check.map(format_millis),
            last_error: c.last_error.clone(),
            pending: c.pending_state_hash.is_some(),
            created: format_millis(c.created),
            last_updated: format_millis(c.updated),
        }
    }
}

/// What `create` is given.
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    pub name: String,
    /// `okta` (default) or `oig`.
    pub connector: Option<String>,
    /// The app (client) it authorizes as; default: the app labelled "Okta Workflows OAuth".
    pub app_id: Option<String>,
    /// For an authorization-code connection: the app's client secret. Without it Steward adds
    /// a new secret to the app (an app holds at most two).
    pub client_secret: Option<String>,
}

/// What authorizing did.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization {
    /// Open this URL (as an admin assigned to the app) to finish at the callback.
    Redirect { authorize_url: String },
    /// Authorized at once (client credentials).
    Authorized(Box<Connection>),
}

/// The scopes of a connection: in its token, granted to its app, needed by its flows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeStatus {
    pub connection_id: String,
    pub name: String,
    pub app_id: String,
    pub status: String,
    /// In the current token.
    pub token_scopes: Vec<String>,
    /// Granted to the app now (Okta API Scopes tab).
    pub app_scopes: Vec<String>,
    /// Granted to the app but not in the token: reauthorize to get them.
    pub not_in_token: Vec<String>,
    /// Needed by the flows that use the connection (filled by preflight; may be empty).
    pub flows_need: Vec<String>,
    /// Needed by flows, not granted to the app: a Super Admin grants them, then reauthorize.
    pub needs_grant: Vec<String>,
    /// Needed by flows, granted, not in the token: reauthorize.
    pub needs_reauthorize: Vec<String>,
}

/// The connections' use cases: sealing, the org's endpoints and HTTP. Cheap to clone.
#[derive(Clone)]
pub struct ConnectionService {
    key: [u8; 32],
    issuer: String,
    http: reqwest::Client,
}

fn invalid(summary: &str, cause: impl Into<String>) -> AppError {
    AppError::Validation(ValidationError::new(summary, cause))
}

fn not_found(id: &str) -> impl FnOnce(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::NotFound => AppError::NotFound(format!("{id} (Connection)")),
        other => other.into(),
    }
}

/// The token endpoint's answer.
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    scopes: Vec<String>,
    expires_in: i64,
}

fn sorted(set: BTreeSet<String>) -> Vec<String> {
    set.into_iter().collect()
}

impl ConnectionService {
    /// `key`: derived from the master key with [`SEALING_LABEL`]; `issuer`: this org's URL.
    pub fn new(key: [u8; 32], issuer: &str) -> ConnectionService {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self::with_client(key, issuer, http)
    }

    /// The same with a given HTTP client (e.g. one that trusts a self-signed certificate).
    pub fn with_client(key: [u8; 32], issuer: &str, http: reqwest::Client) -> ConnectionService {
        ConnectionService {
            key,
            issuer: issuer.trim_end_matches('/').to_string(),
            http,
        }
    }

    /// The redirect URI every authorization-code connection uses; its app must list it.
    pub fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.issuer)
    }

    fn seal(&self, id: &str, field: &str, clear: &str) -> AppResult<String> {
        steward_oauth::keys::seal(
            &self.key,
            format!("flow_connection:{id}:{field}").as_bytes(),
            clear.as_bytes(),
        )
        .map_err(|e| AppError::Internal(format!("sealing: {e}")))
    }

    fn open(&self, id: &str, field: &str, sealed: Option<&String>) -> AppResult<String> {
        let sealed = sealed
            .ok_or_else(|| AppError::Conflict(format!("the connection {id} holds no {field}")))?;
        let bytes = steward_oauth::keys::open(
            &self.key,
            format!("flow_connection:{id}:{field}").as_bytes(),
            sealed,
        )
        .map_err(|e| AppError::Internal(format!("opening the connection's {field}: {e}")))?;
        String::from_utf8(bytes).map_err(|_| AppError::Internal(format!("{field}: not UTF-8")))
    }

    /// Creates a connection (UNAUTHORIZED) on `new.app_id` (default: "Okta Workflows OAuth").
    /// Its kind follows the app: a service app with `private_key_jwt` gets client credentials
    /// (Steward generates the key pair and adds the public key to the app), a web app with
    /// `client_secret_basic` the authorization code (the app must list the redirect URI).
    pub async fn create(&self, ctx: &Ctx<'_>, new: NewConnection) -> AppResult<Connection> {
        let name = new.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid(
                "Api validation failed: name",
                "name: required, at most 100 characters",
            ));
        }
        let connector = new.connector.unwrap_or_else(|| "okta".into());
        if !CONNECTORS.contains(&connector.as_str()) {
            return Err(invalid(
                "Api validation failed: connector",
                format!("connector: '{connector}' is not one of okta, oig"),
            ));
        }
        if ctx.store.connections().by_name(&name).await.is_ok() {
            return Err(invalid(
                "Api validation failed: name",
                format!("name: a connection named '{name}' already exists"),
            ));
        }
        let app = match &new.app_id {
            Some(id) => crate::apps::find(ctx, id).await?,
            None => default_app(ctx).await?,
        };
        let oidc = app.oidc.as_ref().ok_or_else(|| {
            invalid(
                "Api validation failed: appId",
                format!("appId: the app {} is not an OAuth 2.0 client", app.id),
            )
        })?;
        let client_id = app.client_id.clone().unwrap_or_else(|| app.id.clone());
        let id = format!("fcn{}", steward_core::ids::random_secret(17));
        let mut row = StoredConnection {
            id: id.clone(),
            name,
            connector,
            app_id: app.id.clone(),
            client_id,
            org_url: self.issuer.clone(),
            status: "UNAUTHORIZED".into(),
            created: ctx.now,
            updated: ctx.now,
            ..StoredConnection::default()
        };
        let has = |g: &str| oidc.grant_types.iter().any(|t| t == g);
        if oidc.application_type == "service" {
            if !has("client_credentials") || oidc.token_endpoint_auth_method != "private_key_jwt" {
                return Err(invalid(
                    "Api validation failed: appId",
                    format!(
                        "appId: the service app {} must use the client_credentials grant with token_endpoint_auth_method private_key_jwt (the org authorization server takes client credentials only from private_key_jwt clients)",
                        app.label
                    ),
                ));
            }
            if new.client_secret.is_some() {
                return Err(invalid(
                    "Api validation failed: clientSecret",
                    "clientSecret: a private_key_jwt connection has no secret: Steward generates its key",
                ));
            }
            let key = tokio::task::spawn_blocking(|| SigningKey::generate(KeyStatus::Active, 0))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let jwk =
                serde_json::to_value(key.jwk()).map_err(|e| AppError::Internal(e.to_string()))?;
            let jwk: Map<String, Value> = jwk.as_object().cloned().unwrap_or_default();
            crate::app_credentials::add_key(ctx, &app.id, jwk).await?;
            row.auth_method = "client_credentials".into();
            row.key_id = Some(key.kid.clone());
            row.sealed_private_key = Some(self.seal(&id, "private_key", &key.private_pem)?);
        } else {
            if !has("authorization_code") || !has("refresh_token") {
                return Err(invalid(
                    "Api validation failed: appId",
                    format!(
                        "appId: the app {} must allow the authorization_code and refresh_token grants",
                        app.label
                    ),
                ));
            }
            if oidc.token_endpoint_auth_method != "client_secret_basic" {
                return Err(invalid(
                    "Api validation failed: appId",
                    format!(
                        "appId: the app {} must authenticate with client_secret_basic (it uses {})",
                        app.label, oidc.token_endpoint_auth_method
                    ),
                ));
            }
            self.check_redirect(&app)?;
            let secret = match new.client_secret {
                Some(secret) => {
                    check_secret(ctx, &app, &secret).await?;
                    secret
                }
                None => {
                    crate::app_credentials::create_secret(ctx, &app.id, None, "ACTIVE")
                        .await?
                        .1
                }
            };
            row.auth_method = "authorization_code".into();
            row.sealed_secret = Some(self.seal(&id, "client_secret", &secret)?);
        }
        let mut tx = ctx.begin().await?;
        tx.connections().insert(&row).await.map_err(|e| match e {
            StoreError::Conflict(_) => invalid(
                "Api validation failed: name",
                format!("name: a connection named '{}' already exists", row.name),
            ),
            other => other.into(),
        })?;
        record(&mut tx, ctx, &row, "created").await?;
        tx.commit().await?;
        Ok(Connection::from(&row))
    }

    /// The app must list the callback exactly.
    fn check_redirect(&self, app: &App) -> AppResult<()> {
        let uri = self.redirect_uri();
        let listed = app
            .oidc
            .as_ref()
            .is_some_and(|o| o.redirect_uris.contains(&uri));
        if listed {
            return Ok(());
        }
        Err(invalid(
            "Api validation failed: redirect_uri",
            format!(
                "redirect_uris: the app {} ({}) does not list the redirect URI {uri}: add it to the app's sign-in redirect URIs, then try again",
                app.label, app.id
            ),
        ))
    }

    pub async fn list(&self, ctx: &Ctx<'_>) -> AppResult<Vec<Connection>> {
        Ok(ctx
            .store
            .connections()
            .list(None)
            .await?
            .iter()
            .map(Connection::from)
            .collect())
    }

    pub async fn get(&self, ctx: &Ctx<'_>, id: &str) -> AppResult<Connection> {
        Ok(Connection::from(&self.stored(ctx.store, id).await?))
    }

    async fn stored(&self, store: &Store, id: &str) -> AppResult<StoredConnection> {
        store.connections().get(id).await.map_err(not_found(id))
    }

    /// Deletes a connection; its refresh token is revoked at the org first (best effort).
    pub async fn delete(&self, ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
        let found = self.stored(ctx.store, id).await?;
        self.revoke_refresh(&found).await;
        let mut tx = ctx.begin().await?;
        let gone = tx.connections().delete(id).await.map_err(not_found(id))?;
        record(&mut tx, ctx, &gone, "deleted").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Authorizes the connection (again): the authorize URL for an authorization-code
    /// connection, or new tokens at once for a client-credentials one. The previous tokens stay
    /// until the new ones arrive; then the old refresh token is revoked.
    pub async fn authorize(&self, ctx: &Ctx<'_>, id: &str) -> AppResult<Authorization> {
        let conn = self.stored(ctx.store, id).await?;
        if conn.auth_method == "client_credentials" {
            let answer = self.client_credentials(ctx, &conn).await?;
            let done = self
                .save_authorization(ctx, &conn, answer, &ctx.actor.id)
                .await?;
            return Ok(Authorization::Authorized(Box::new(done)));
        }
        let app = crate::apps::find(ctx, &conn.app_id).await?;
        self.check_redirect(&app)?;
        let scopes = self.scopes_to_ask(ctx.store, &conn).await?;
        let state = steward_core::ids::random_secret(43);
        let verifier = steward_core::ids::random_secret(64);
        let challenge = steward_oauth::pkce::challenge_s256(&verifier);
        let sealed = self.seal(&conn.id, "pkce_verifier", &verifier)?;
        let mut tx = ctx.begin().await?;
        tx.connections()
            .set_pending(
                &conn.id,
                &sha256_hex(&state),
                &sealed,
                ctx.now + PENDING_MS,
                &ctx.actor.id,
                ctx.now,
            )
            .await
            .map_err(not_found(id))?;
        tx.commit().await?;
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &conn.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.redirect_uri())
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        Ok(Authorization::Redirect {
            authorize_url: format!("{}/oauth2/v1/authorize?{query}", conn.org_url),
        })
    }

    /// Reauthorizes: the same as [`Self::authorize`] (a new token, so newly granted scopes
    /// arrive; the old refresh token is revoked once the new one is stored).
    pub async fn reauthorize(&self, ctx: &Ctx<'_>, id: &str) -> AppResult<Authorization> {
        self.authorize(ctx, id).await
    }

    /// `openid offline_access` and the app's ACTIVE grants.
    async fn scopes_to_ask(
        &self,
        store: &Store,
        conn: &StoredConnection,
    ) -> AppResult<Vec<String>> {
        let mut scopes: Vec<String> = BASE_SCOPES.iter().map(|s| s.to_string()).collect();
        for s in self.app_scopes(store, conn).await? {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        Ok(scopes)
    }

    async fn app_scopes(&self, store: &Store, conn: &StoredConnection) -> AppResult<Vec<String>> {
        let mut scopes = store
            .active_granted_scopes(&conn.app_id, &conn.org_url)
            .await?;
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// The callback: spends the pending authorization named by `state` (once; an unknown,
    /// replayed or expired state is refused), redeems `code` at the org's token endpoint with
    /// the PKCE verifier and the client secret, and seals the tokens.
    pub async fn complete_authorization(
        &self,
        ctx: &Ctx<'_>,
        state: &str,
        code: &str,
    ) -> AppResult<Connection> {
        let mut tx = ctx.begin().await?;
        let taken = tx.connections().take_pending(&sha256_hex(state)).await;
        tx.commit().await?;
        let conn = taken.map_err(|e| match e {
            StoreError::NotFound => invalid(
                "The authorization is unknown or was already used",
                "state: no authorization is waiting for this state; start again from the connection's Authorize",
            ),
            other => other.into(),
        })?;
        if conn.pending_expires.is_none_or(|t| t <= ctx.now) {
            return Err(invalid(
                "The authorization expired",
                "state: the authorization waited too long; start again from the connection's Authorize",
            ));
        }
        let verifier = self.open(&conn.id, "pkce_verifier", conn.pending_verifier.as_ref())?;
        let redirect = self.redirect_uri();
        let answer = self
            .token_request(
                &conn,
                vec![
                    ("grant_type", "authorization_code".into()),
                    ("code", code.to_string()),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                ],
            )
            .await?;
        let by = conn
            .pending_by
            .clone()
            .unwrap_or_else(|| ctx.actor.id.clone());
        // The change is the admin's who started it (the callback itself carries no credential).
        let actor = match ctx.store.user(&by).await {
            Ok(u) => steward_core::syslog::Actor::user(&u.id, u.login(), &u.display_name()),
            Err(_) => ctx.actor.clone(),
        };
        let ctx = ctx.clone().acting_as(actor);
        self.save_authorization(&ctx, &conn, answer, &by).await
    }

    /// Spends the pending authorization named by `state` without redeeming anything (the org
    /// answered the callback with an error).
    pub async fn cancel_authorization(&self, ctx: &Ctx<'_>, state: &str) -> AppResult<()> {
        let mut tx = ctx.begin().await?;
        let taken = tx.connections().take_pending(&sha256_hex(state)).await;
        tx.commit().await?;
        match taken {
            Ok(_) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores the tokens of an authorization, records it, then revokes the previous refresh
    /// token.
    async fn save_authorization(
        &self,
        ctx: &Ctx<'_>,
        conn: &StoredConnection,
        answer: TokenAnswer,
        by: &str,
    ) -> AppResult<Connection> {
        let previous = self.stored(ctx.store, &conn.id).await?;
        let tokens = self.sealed_tokens(conn, &answer, ctx.now, Some((by.to_string(), ctx.now)))?;
        let mut tx = ctx.begin().await?;
        tx.connections()
            .store_tokens(&conn.id, &tokens, None, ctx.now)
            .await?;
        let change = if previous.sealed_access_token.is_some() {
            "reauthorized"
        } else {
            "authorized"
        };
        record(&mut tx, ctx, conn, change).await?;
        tx.commit().await?;
        self.revoke_refresh(&previous).await;
        self.get(ctx, &conn.id).await
    }

    fn sealed_tokens(
        &self,
        conn: &StoredConnection,
        answer: &TokenAnswer,
        now: i64,
        authorized: Option<(String, i64)>,
    ) -> AppResult<SealedTokens> {
        Ok(SealedTokens {
            sealed_access_token: self.seal(&conn.id, "access_token", &answer.access_token)?,
            sealed_refresh_token: answer
                .refresh_token
                .as_deref()
                .map(|r| self.seal(&conn.id, "refresh_token", r))
                .transpose()?,
            scopes: answer.scopes.clone(),
            expires: now + answer.expires_in.saturating_mul(1000),
            authorized,
        })
    }

    /// Revokes the connection's refresh token at the org (best effort: a failure is logged,
    /// without the token).
    async fn revoke_refresh(&self, conn: &StoredConnection) {
        let Ok(refresh) = self.open(
            &conn.id,
            "refresh_token",
            conn.sealed_refresh_token.as_ref(),
        ) else {
            return;
        };
        let endpoint = format!("{}/oauth2/v1/revoke", conn.org_url);
        let form = vec![
            ("token", refresh),
            ("token_type_hint", "refresh_token".to_string()),
        ];
        let sent = match self.client_auth(conn, &endpoint, form) {
            Ok(request) => request.send().await.map(|r| r.status()),
            Err(e) => {
                tracing::warn!(connection = %conn.id, "revoking the old refresh token: {e}");
                return;
            }
        };
        match sent {
            Ok(s) if s.is_success() => {}
            Ok(s) => {
                tracing::warn!(connection = %conn.id, status = %s, "revoking the old refresh token")
            }
            Err(e) => tracing::warn!(connection = %conn.id, "revoking the old refresh token: {e}"),
        }
    }

    /// A POST to `endpoint` with `form` and the connection's client authentication.
    fn client_auth(
        &self,
        conn: &StoredConnection,
        endpoint: &str,
        mut form: Vec<(&'static str, String)>,
    ) -> AppResult<reqwest::RequestBuilder> {
        let mut request = self.http.post(endpoint);
        if conn.auth_method == "client_credentials" {
            let pem = self.open(&conn.id, "private_key", conn.sealed_private_key.as_ref())?;
            let key = SigningKey::from_private_pem(&pem, KeyStatus::Active, 0)
                .map_err(|e| AppError::Internal(format!("the connection's key: {e}")))?;
            let now = now_millis() / 1000;
            let claims = json!({
                "iss": conn.client_id, "sub": conn.client_id, "aud": endpoint,
                "iat": now, "exp": now + 300,
                "jti": steward_core::ids::random_secret(32),
            });
            let assertion = steward_oauth::jwt::sign_rs256(&key, &claims)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            form.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ));
            form.push(("client_assertion", assertion));
        } else {
            let secret = self.open(&conn.id, "client_secret", conn.sealed_secret.as_ref())?;
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(enc(&conn.client_id), Some(enc(&secret)));
        }
        Ok(request.form(&form))
    }

    /// A token request to the org; an error names what the org answered (never a secret).
    async fn token_request(
        &self,
        conn: &StoredConnection,
        form: Vec<(&'static str, String)>,
    ) -> AppResult<TokenAnswer> {
        let endpoint = format!("{}/oauth2/v1/token", conn.org_url);
        let response = self
            .client_auth(conn, &endpoint, form)?
            .send()
            .await
            .map_err(|e| AppError::Conflict(format!("the org's token endpoint: {e}")))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let error = body["error"].as_str().unwrap_or("error");
            let description = body["error_description"].as_str().unwrap_or_default();
            return Err(AppError::Conflict(format!(
                "the org's token endpoint answered {}: {error}: {description}",
                status.as_u16()
            )));
        }
        let access_token = body["access_token"]
            .as_str()
            .ok_or_else(|| AppError::Conflict("the token endpoint gave no access_token".into()))?
            .to_string();
        Ok(TokenAnswer {
            access_token,
            refresh_token: body["refresh_token"].as_str().map(str::to_string),
            scopes: body["scope"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            expires_in: body["expires_in"].as_i64().unwrap_or(3600),
        })
    }

    /// Client credentials with `private_key_jwt`, for the app's granted scopes.
    async fn client_credentials(
        &self,
        ctx: &Ctx<'_>,
        conn: &StoredConnection,
    ) -> AppResult<TokenAnswer> {
        let scopes = self.app_scopes(ctx.store, conn).await?;
        if scopes.is_empty() {
            return Err(invalid(
                "The connection's app holds no scope",
                format!(
                    "scope: grant the app {} at least one Okta API scope (its Okta API Scopes tab), then authorize",
                    conn.app_id
                ),
            ));
        }
        self.token_request(
            conn,
            vec![
                ("grant_type", "client_credentials".into()),
                ("scope", scopes.join(" ")),
            ],
        )
        .await
    }

    /// The connection with a token valid for at least [`REFRESH_MARGIN_MS`], refreshed if
    /// needed by one node only: the others wait for its result.
    async fn fresh(&self, ctx: &Ctx<'_>, id: &str) -> AppResult<StoredConnection> {
        for _ in 0..WAIT_STEPS {
            let conn = self.stored(ctx.store, id).await?;
            if conn.sealed_access_token.is_none() {
                return Err(AppError::Conflict(format!(
                    "The connection {} was never authorized: authorize it first",
                    conn.name
                )));
            }
            if conn
                .token_expires
                .is_some_and(|t| t > ctx.now + REFRESH_MARGIN_MS)
            {
                return Ok(conn);
            }
            let claimer = steward_core::ids::random_secret(24);
            let mut tx = ctx.store.begin().await?;
            let won = tx
                .connections()
                .claim_refresh(
                    id,
                    conn.token_version,
                    &claimer,
                    ctx.now,
                    ctx.now + CLAIM_MS,
                )
                .await?;
            tx.commit().await?;
            if !won {
                tokio::time::sleep(WAIT_STEP).await;
                continue;
            }
            let answer = if conn.auth_method == "client_credentials" {
                self.client_credentials(ctx, &conn).await
            } else {
                match self.open(
                    &conn.id,
                    "refresh_token",
                    conn.sealed_refresh_token.as_ref(),
                ) {
                    Ok(refresh) => {
                        self.token_request(
                            &conn,
                            vec![
                                ("grant_type", "refresh_token".into()),
                                ("refresh_token", refresh),
                                ("scope", conn.token_scopes.join(" ")),
                            ],
                        )
                        .await
                    }
                    Err(e) => Err(e),
                }
            };
            let mut tx = ctx.store.begin().await?;
            match answer {
                Ok(answer) => {
                    let tokens = self.sealed_tokens(&conn, &answer, ctx.now, None)?;
                    tx.connections()
                        .store_tokens(id, &tokens, Some(&claimer), ctx.now)
                        .await?;
                    tx.commit().await?;
                    return self.stored(ctx.store, id).await;
                }
                Err(e) => {
                    tx.connections().release_claim(id, &claimer).await?;
                    tx.connections()
                        .set_check(id, "BROKEN", Some(&format!("refresh failed: {e}")), ctx.now)
                        .await?;
                    tx.commit().await?;
                    return Err(e);
                }
            }
        }
        Err(AppError::Conflict(
            "another node is refreshing the connection's token; try again".into(),
        ))
    }

    /// Health: refreshes the token if due, then introspects it at the org. ACTIVE when the org
    /// says it is active, else BROKEN with the reason; an UNAUTHORIZED connection stays so.
    pub async fn check(&self, ctx: &Ctx<'_>, id: &str) -> AppResult<Connection> {
        let conn = self.stored(ctx.store, id).await?;
        let outcome = if conn.sealed_access_token.is_none() {
            Err("never authorized: authorize the connection".to_string())
        } else {
            match self.fresh(ctx, id).await {
                Ok(conn) => self.introspect(&conn).await,
                Err(e) => Err(e.to_string()),
            }
        };
        let status = match (&outcome, conn.sealed_access_token.is_some()) {
            (_, false) => "UNAUTHORIZED",
            (Ok(()), true) => "ACTIVE",
            (Err(_), true) => "BROKEN",
        };
        let mut tx = ctx.begin().await?;
        tx.connections()
            .set_check(
                id,
                status,
                outcome.as_ref().err().map(String::as_str),
                ctx.now,
            )
            .await?;
        tx.commit().await?;
        self.get(ctx, id).await
    }

    async fn introspect(&self, conn: &StoredConnection) -> Result<(), String> {
        let token = self
            .open(&conn.id, "access_token", conn.sealed_access_token.as_ref())
            .map_err(|e| e.to_string())?;
        let endpoint = format!("{}/oauth2/v1/introspect", conn.org_url);
        let form = vec![
            ("token", token),
            ("token_type_hint", "access_token".to_string()),
        ];
        let response = self
            .client_auth(conn, &endpoint, form)
            .map_err(|e| e.to_string())?
            .send()
            .await
            .map_err(|e| format!("the org's introspection endpoint: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!(
                "the org's introspection endpoint answered {}: {}",
                status.as_u16(),
                body["error_description"].as_str().unwrap_or_default()
            ));
        }
        if body["active"] == true {
            Ok(())
        } else {
            Err("the org says the access token is not active (revoked or expired): reauthorize the connection".into())
        }
    }

    /// The scopes of a connection's token and of its app (no flows' needs).
    pub async fn status(&self, ctx: &Ctx<'_>, id: &str) -> AppResult<ScopeStatus> {
        self.status_with(ctx, id, &[]).await
    }

    /// The scopes of a connection's token, of its app, and what `flows_need` (preflight's
    /// scopes of the flows using it) lacks.
    pub async fn status_with(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        flows_need: &[String],
    ) -> AppResult<ScopeStatus> {
        let conn = self.stored(ctx.store, id).await?;
        let token: BTreeSet<String> = conn.token_scopes.iter().cloned().collect();
        let app: BTreeSet<String> = self
            .app_scopes(ctx.store, &conn)
            .await?
            .into_iter()
            .collect();
        let need: BTreeSet<String> = flows_need.iter().cloned().collect();
        Ok(ScopeStatus {
            connection_id: conn.id.clone(),
            name: conn.name.clone(),
            app_id: conn.app_id.clone(),
            status: conn.status.clone(),
            token_scopes: conn.token_scopes.clone(),
            not_in_token: sorted(app.difference(&token).cloned().collect()),
            needs_grant: sorted(need.difference(&app).cloned().collect()),
            needs_reauthorize: sorted(
                need.intersection(&app)
                    .filter(|s| !token.contains(*s))
                    .cloned()
                    .collect(),
            ),
            app_scopes: sorted(app),
            flows_need: sorted(need),
        })
    }

    /// The connection of `connector` named `name`, else the connector's only connection.
    pub async fn resolve(
        &self,
        store: &Store,
        connector: &str,
        name: Option<&str>,
    ) -> AppResult<StoredConnection> {
        if let Some(name) = name {
            if let Ok(c) = store.connections().by_name(name).await {
                if c.connector == connector {
                    return Ok(c);
                }
            }
        }
        let mut all = store.connections().list(Some(connector)).await?;
        match all.len() {
            1 => Ok(all.remove(0)),
            0 => Err(AppError::NotFound(format!(
                "{} ({connector} Connection)",
                name.unwrap_or("any")
            ))),
            _ => Err(AppError::NotFound(format!(
                "{} ({connector} Connection; the connector has several, name one)",
                name.unwrap_or("any")
            ))),
        }
    }

    /// A usable token of the connection: refreshed when it expires within a minute.
    pub async fn token(
        &self,
        ctx: &Ctx<'_>,
        connector: &str,
        name: Option<&str>,
    ) -> AppResult<ConnectionToken> {
        let found = self.resolve(ctx.store, connector, name).await?;
        if found.sealed_access_token.is_none() {
            return Err(AppError::Conflict(format!(
                "The connection {} was never authorized: authorize it (steward connections authorize {})",
                found.name, found.id
            )));
        }
        let conn = self.fresh(ctx, &found.id).await?;
        Ok(ConnectionToken {
            connection_id: conn.id.clone(),
            name: conn.name.clone(),
            app_id: conn.app_id.clone(),
            org_url: conn.org_url.clone(),
            access_token: self.open(&conn.id, "access_token", conn.sealed_access_token.as_ref())?,
            scopes: conn.token_scopes.clone(),
        })
    }
}

/// The connections as connector cards see them: [`TokenSource`] over the store, on the
/// server's clock.
#[derive(Clone)]
pub struct ConnectionTokenSource {
    pub store: Store,
    pub service: Arc<ConnectionService>,
    pub clock: Clock,
}

impl TokenSource for ConnectionTokenSource {
    fn token<'a>(&'a self, connector: &'a str, name: Option<&'a str>) -> TokenFuture<'a> {
        Box::pin(async move {
            let ctx = Ctx::system(&self.store).at(self.clock.now());
            self.service.token(&ctx, connector, name).await
        })
    }
}

async fn default_app(ctx: &Ctx<'_>) -> AppResult<App> {
    let apps = ctx
        .store
        .apps(&steward_store::AppQuery {
            q: Some(DEFAULT_APP_LABEL.to_lowercase()),
            limit: 20,
            ..Default::default()
        })
        .await?;
    apps.into_iter()
        .find(|a| a.label == DEFAULT_APP_LABEL)
        .ok_or_else(|| {
            invalid(
                "Api validation failed: appId",
                format!("appId: required (there is no app labelled {DEFAULT_APP_LABEL})"),
            )
        })
}

/// The secret must be one of the app's ACTIVE secrets.
async fn check_secret(ctx: &Ctx<'_>, app: &App, secret: &str) -> AppResult<()> {
    let hashes: Vec<String> = ctx
        .store
        .client_secrets(&app.id)
        .await?
        .into_iter()
        .filter(|s| s.is_active())
        .map(|s| s.hash)
        .collect();
    let secret = secret.to_string();
    let ok = tokio::task::spawn_blocking(move || {
        hashes
            .iter()
            .any(|h| steward_oauth::secrets::verify_secret(&secret, h))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "Api validation failed: clientSecret",
            format!(
                "clientSecret: not an active client secret of the app {}",
                app.label
            ),
        ))
    }
}

async fn record(
    tx: &mut steward_store::WriteTx,
    ctx: &Ctx<'_>,
    conn: &StoredConnection,
    change: &str,
) -> AppResult<()> {
    tx.record(
        DomainEvent::FlowConnectionChanged {
            connection_id: conn.id.clone(),
            name: conn.name.clone(),
            change: change.into(),
            actor: ctx.actor.clone(),
        },
        &[],
    )
    .await?;
    Ok(())
}
