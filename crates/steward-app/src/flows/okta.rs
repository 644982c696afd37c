//! The Okta and Okta Identity Governance connectors: [`OktaConnectors`] runs their cards
//! (`steward_flows::connectors`) against the org of the card's connection, with its token.
//!
//! A card's connection is the flopack's placeholder (`data.configs[config].name`), resolved by
//! the [`TokenSource`]. Each call goes to `{org_url}{relative URL}` with `Authorization: Bearer`.
//! A `403` with `error="insufficient_scope"` is diagnosed ([`diagnose`]): the missing scope, the
//! connection and its app, and whether the app already holds a grant of the scope (then the fix
//! is to reauthorize the connection) or not (then a Super Admin grants it first). A 403 is not
//! retried; 429 and 5xx keep their status so the run's error policy retries them.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use steward_flows::connectors::{self, http_error, HttpCall, HttpReply, Next, MAX_PAGES};
use steward_flows::exec::{ConnectorError, ConnectorRequest};
use steward_store::{Store, StoredFlow};

use super::runner::{ConnectorFuture, Connectors};
use super::tokens::{ConnectionToken, TokenSource};
use crate::AppError;

/// How long one call to the org may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest reply body a card reads.
const MAX_REPLY_BYTES: usize = 10 * 1024 * 1024;

/// Runs the `okta` and `oig` connector cards.
pub struct OktaConnectors {
    store: Store,
    tokens: Arc<dyn TokenSource>,
    http: reqwest::Client,
    /// When streamed records' helper runs are queued.
    clock: crate::governance::Clock,
}

impl OktaConnectors {
    /// `store` is read for the diagnosis of a 403 (the app's label and grants).
    pub fn new(store: Store, tokens: Arc<dyn TokenSource>) -> OktaConnectors {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        OktaConnectors {
            store,
            tokens,
            http,
            clock: crate::governance::Clock::default(),
        }
    }

    /// The org's clock (tests move it), for the runs a stream queues.
    pub fn with_clock(mut self, clock: crate::governance::Clock) -> OktaConnectors {
        self.clock = clock;
        self
    }
}

fn failed(message: impl Into<String>) -> ConnectorError {
    ConnectorError {
        message: message.into(),
        status: None,
        diagnosis: None,
    }
}

/// The flopack's name for connection `id` (`data.configs[id].name`).
pub fn connection_name(flow: &StoredFlow, id: &str) -> Option<String> {
    flow.flopack
        .get("data")
        .and_then(|d| d.get("configs"))
        .and_then(|c| c.get(id))
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl Connectors for OktaConnectors {
    fn cards(&self) -> Vec<(String, String)> {
        connectors::all()
            .map(|c| (c.connector.to_string(), c.action.to_string()))
            .collect()
    }

    fn call<'a>(
        &'a self,
        flow: &'a StoredFlow,
        request: &'a ConnectorRequest,
    ) -> ConnectorFuture<'a> {
        Box::pin(async move { self.run(flow, request).await })
    }

    fn token_source(&self) -> Option<Arc<dyn TokenSource>> {
        Some(self.tokens.clone())
    }
}

impl OktaConnectors {
    /// "Stream Matching Records": one run of the helper flow per record (inputs `Record` and
    /// `State`), all queued in one transaction. The helper must be a flow of Steward (imported
    /// with the flopack that calls it).
    async fn stream(
        &self,
        flow: &StoredFlow,
        helper: &str,
        records: Vec<serde_json::Value>,
        state: &serde_json::Value,
    ) -> Result<(), ConnectorError> {
        let store_failed =
            |e: steward_store::StoreError| failed(format!("queueing the stream: {e}"));
        if self.store.flows().flow(helper).await.is_err() {
            return Err(failed(format!(
                "the stream's helper flow {helper} (called by {:?}) is not a flow of this org: import it",
                flow.name
            )));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await.map_err(store_failed)?;
        for record in records {
            let input = serde_json::json!({"Record": record, "State": state});
            tx.flows()
                .queue_run(&super::new_run_id(), helper, &input, now)
                .await
                .map_err(store_failed)?;
        }
        tx.commit().await.map_err(store_failed)
    }

    async fn run(
        &self,
        flow: &StoredFlow,
        request: &ConnectorRequest,
    ) -> Result<steward_flows::Outputs, ConnectorError> {
        let card = connectors::by_key(&request.card)
            .ok_or_else(|| failed(format!("Steward has no {} card", request.card)))?;
        let name = request
            .connection
            .as_deref()
            .and_then(|id| connection_name(flow, id));
        let token = self
            .tokens
            .token(card.connector, name.as_deref())
            .await
            .map_err(|e| {
                let which = name
                    .as_deref()
                    .map_or_else(String::new, |n| format!(" {n:?}"));
                failed(match e {
                    AppError::NotFound(_) => format!(
                        "no {} connection{which}: create one and authorize it",
                        card.connector
                    ),
                    AppError::Conflict(_) => format!(
                        "the {} connection{which} was never authorized: authorize it",
                        card.connector
                    ),
                    other => format!("the {} connection{which}: {other}", card.connector),
                })
            })?;
        let mut call = (card.start)(&request.inputs).map_err(|e| failed(e.to_string()))?;
        let mut gathered = Vec::new();
        for _ in 0..MAX_PAGES {
            let reply = self.send(&token, &call).await?;
            if reply.status == 403 {
                if let Some(e) = self.diagnose(&token, &call, &reply).await {
                    return Err(e);
                }
            }
            if let Some(e) = http_error(&call, &reply) {
                return Err(e);
            }
            match (card.reply)(&request.inputs, &mut gathered, reply) {
                Ok(Next::Done(outputs)) => return Ok(outputs),
                Ok(Next::Call(next)) => call = next,
                Ok(Next::Stream {
                    helper,
                    records,
                    state,
                    outputs,
                }) => {
                    self.stream(flow, &helper, records, &state).await?;
                    return Ok(outputs);
                }
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        Err(failed(format!(
            "{} gave more than {MAX_PAGES} pages",
            call.describe()
        )))
    }

    async fn send(
        &self,
        token: &ConnectionToken,
        call: &HttpCall,
    ) -> Result<HttpReply, ConnectorError> {
        let method = reqwest::Method::from_bytes(call.method.as_bytes())
            .map_err(|_| failed(format!("{} is not an HTTP method", call.method)))?;
        let url = format!("{}{}", token.org_url.trim_end_matches('/'), call.url());
        let mut req = self
            .http
            .request(method, &url)
            .bearer_auth(&token.access_token)
            .header(reqwest::header::ACCEPT, "application/json");
        for (k, v) in &call.headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| failed(format!("Request.Headers: {k:?} is not a header name")))?;
            let value = reqwest::header::HeaderValue::from_str(v).map_err(|_| {
                failed(format!(
                    "Request.Headers: the value of {k:?} is not a header value"
                ))
            })?;
            req = req.header(name, value);
        }
        if let Some(body) = &call.body {
            req = req.json(body);
        }
        let res = req.send().await.map_err(|e| ConnectorError {
            message: format!(
                "{} could not reach {}: {}",
                call.describe(),
                token.org_url,
                without_url(&e)
            ),
            // A connection that failed or timed out is worth another try.
            status: Some(503),
            diagnosis: None,
        })?;
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let bytes = res.bytes().await.map_err(|e| ConnectorError {
            message: format!(
                "{} reply could not be read: {}",
                call.describe(),
                without_url(&e)
            ),
            status: Some(503),
            diagnosis: None,
        })?;
        if bytes.len() > MAX_REPLY_BYTES {
            return Err(failed(format!(
                "{} replied with more than {MAX_REPLY_BYTES} bytes",
                call.describe()
            )));
        }
        Ok(HttpReply::new(
            status,
            headers,
            &String::from_utf8_lossy(&bytes),
        ))
    }

    /// A 403 `insufficient_scope`: the error whose message says what is missing and the fix,
    /// with the diagnosis; `None` for any other 403.
    async fn diagnose(
        &self,
        token: &ConnectionToken,
        call: &HttpCall,
        reply: &HttpReply,
    ) -> Option<ConnectorError> {
        let challenge = reply
            .header("www-authenticate")
            .and_then(steward_oauth::challenge::parse)?;
        if !challenge.is_insufficient_scope() {
            return None;
        }
        let scope = challenge.param("scope").unwrap_or_default().to_string();
        let resource = challenge
            .param("resource")
            .map_or_else(|| call.path().to_string(), str::to_string);
        let label = self
            .store
            .app(&token.app_id)
            .await
            .map(|a| a.label)
            .unwrap_or_default();
        let held = match self.store.app_grants(&token.app_id).await {
            Ok(grants) => grants.iter().any(|g| {
                g.status == "ACTIVE" && steward_core::scopes::implies(&g.scope_id, &scope)
            }),
            Err(e) => {
                tracing::warn!(error = %e, app = %token.app_id, "could not read the app's grants");
                false
            }
        };
        let d = Diagnosis {
            scope: &scope,
            resource: &resource,
            request: &call.describe(),
            connection_id: &token.connection_id,
            connection_name: &token.name,
            app_id: &token.app_id,
            app_label: &label,
            token_scopes: &token.scopes,
            app_holds_grant: held,
        };
        Some(ConnectorError {
            message: d.message(),
            status: Some(403),
            diagnosis: Some(d.to_json()),
        })
    }
}

/// A reqwest error's text without the URL (it may carry a query the flow built).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "");
    }
    text
}

/// What a 403 `insufficient_scope` means for a connection, and its fix.
#[derive(Debug, Clone)]
pub struct Diagnosis<'a> {
    pub scope: &'a str,
    pub resource: &'a str,
    pub request: &'a str,
    pub connection_id: &'a str,
    pub connection_name: &'a str,
    pub app_id: &'a str,
    pub app_label: &'a str,
    pub token_scopes: &'a [String],
    pub app_holds_grant: bool,
}

impl Diagnosis<'_> {
    fn app_name(&self) -> String {
        if self.app_label.is_empty() {
            self.app_id.to_string()
        } else {
            format!("{:?} ({})", self.app_label, self.app_id)
        }
    }

    /// The card's error in one sentence.
    pub fn message(&self) -> String {
        if self.app_holds_grant {
            format!(
                "{} needs scope {}, which the app {} already holds but the connection {:?}'s token was issued without: reauthorize the connection",
                self.request,
                self.scope,
                self.app_name(),
                self.connection_name
            )
        } else {
            format!(
                "{} needs scope {}, which the app {} of connection {:?} is not granted: a Super Admin grants it on the app's Okta API Scopes tab (/admin/apps/{}/scopes), then reauthorize the connection",
                self.request,
                self.scope,
                self.app_name(),
                self.connection_name,
                self.app_id
            )
        }
    }

    pub fn to_json(&self) -> Value {
        let scopes_tab = format!("/admin/apps/{}/scopes", self.app_id);
        let grants = format!("/api/v1/apps/{}/grants", self.app_id);
        let reauthorize = format!(
            "/workflows/api/v1/connections/{}/reauthorize",
            self.connection_id
        );
        let steps = if self.app_holds_grant {
            vec![format!(
                "Reauthorize the connection {:?} (POST {reauthorize}, or steward connections reauthorize) so that its token carries {}",
                self.connection_name, self.scope
            )]
        } else {
            vec![
                format!(
                    "A Super Admin grants {} to the app {}: its Okta API Scopes tab ({scopes_tab}), POST {grants} {{\"scopeId\": \"{}\", \"issuer\": <org URL>}}, or steward doctor --app {} --scope {} --fix",
                    self.scope,
                    self.app_name(),
                    self.scope,
                    self.app_id,
                    self.scope
                ),
                format!(
                    "Then reauthorize the connection {:?} (POST {reauthorize}, or steward connections reauthorize): a token keeps the scopes it was issued with",
                    self.connection_name
                ),
            ]
        };
        json!({
            "error": "insufficient_scope",
            "missingScope": self.scope,
            "resource": self.resource,
            "request": self.request,
            "connection": {"id": self.connection_id, "name": self.connection_name},
            "app": {"id": self.app_id, "label": self.app_label},
            "tokenScopes": self.token_scopes,
            "appHoldsGrant": self.app_holds_grant,
            "fix": if self.app_holds_grant { "reauthorize" } else { "grant_then_reauthorize" },
            "steps": steps,
            "links": {
                "appScopes": scopes_tab,
                "grants": grants,
                "reauthorize": reauthorize,
                "doctor": format!("steward doctor --app {} --scope {} --fix", self.app_id, self.scope),
            },
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_diagnosis_names_the_scope_the_app_and_the_fix() {
        let scopes = vec!["okta.users.read".to_string()];
        let mut d = Diagnosis {
            scope: "okta.governance.accessRequests.read",
            resource: "/governance/api/v1/requests/r1",
            request: "GET /governance/api/v1/requests/r1",
            connection_id: "wfc1",
            connection_name: "Okta Workflows OAuth",
            app_id: "0oa1",
            app_label: "Okta Workflows OAuth",
            token_scopes: &scopes,
            app_holds_grant: false,
        };
        let grant = d.to_json();
        assert_eq!(grant["fix"], "grant_then_reauthorize");
        assert_eq!(grant["missingScope"], "okta.governance.accessRequests.read");
        assert_eq!(grant["links"]["appScopes"], "/admin/apps/0oa1/scopes");
        assert_eq!(grant["links"]["grants"], "/api/v1/apps/0oa1/grants");
        assert!(d.message().contains("is not granted"), "{}", d.message());
        assert!(d.message().contains("/admin/apps/0oa1/scopes"));
        d.app_holds_grant = true;
        assert_eq!(d.to_json()["fix"], "reauthorize");
        assert!(d.message().ends_with("reauthorize the connection"));
    }
}
