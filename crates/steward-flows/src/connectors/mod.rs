//! Connector cards as pure functions: each card turns its inputs into an [`HttpCall`] (relative
//! to the connection's org) and the org's reply into the card's [`Outputs`], with Okta's output
//! groups and keys. The driver (steward-app) sends the calls with the connection's token; the
//! crate stays pure.
//!
//! A card is a [`ConnectorCard`]: `start` gives the first call; `reply` gets each 2xx reply and
//! either asks for another call (the next page) or gives the outputs. A non-2xx reply is a card
//! error ([`http_error`]); 429 and 5xx keep their status so the run's policy retries them.
//!
//! Families: [`okta`] (the Okta connector, module `okta`) and [`oig`] (the Okta Identity
//! Governance connector, module `oig`).

pub mod oig;
pub mod okta;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::exec::ConnectorError;
use crate::model::{Card, Flopack, FlowData, FlowRef};
use crate::registry::{CardError, Inputs, Outputs};
use crate::value::to_text;

/// One HTTP call to the connection's org.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`.
    pub method: String,
    /// Starts with `/`; may carry its own `?query`.
    pub relative_url: String,
    /// Query parameters added to the URL's own, unencoded.
    pub query: Vec<(String, String)>,
    /// Extra headers (the driver adds `Authorization`, `Accept` and `Content-Type`).
    pub headers: Vec<(String, String)>,
    /// A JSON body (POST, PUT, PATCH).
    pub body: Option<Value>,
}

impl HttpCall {
    pub fn new(method: &str, relative_url: impl Into<String>) -> HttpCall {
        HttpCall {
            method: method.to_string(),
            relative_url: relative_url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> HttpCall {
        self.query.push((key.to_string(), value.into()));
        self
    }

    pub fn body(mut self, body: Value) -> HttpCall {
        self.body = Some(body);
        self
    }

    /// The path without its query: what the route table is matched against.
    pub fn path(&self) -> &str {
        self.relative_url
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
    }

    /// The relative URL with [`HttpCall::query`] appended, percent-encoded.
    pub fn url(&self) -> String {
        if self.query.is_empty() {
            return self.relative_url.clone();
        }
        let extra: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let joiner = if self.relative_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{joiner}{}", self.relative_url, extra.join("&"))
    }

    /// `GET /api/v1/users/00u1`: how errors name the call.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.path())
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The org's answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpReply {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The parsed JSON body, else the text (an empty body is `null`).
    pub body: Value,
}

impl HttpReply {
    /// A reply from its raw parts: a JSON body is parsed, anything else kept as text.
    pub fn new(status: u16, headers: Vec<(String, String)>, text: &str) -> HttpReply {
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
        };
        HttpReply {
            status,
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers as an object (a header sent twice keeps its last value).
    pub fn headers_object(&self) -> Value {
        let map: Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        Value::Object(map)
    }

    /// The next page, relative to the org: the `Link: <…>; rel="next"` header (Management
    /// API) or `_links.next.href` (Governance API).
    pub fn next_page(&self) -> Option<String> {
        let from_header = self
            .headers
            .iter()
            .filter(|(k, _)| k == "link")
            .find_map(|(_, v)| {
                v.split(',').find_map(|part| {
                    let (url, params) = part.split_once(';')?;
                    params
                        .contains("rel=\"next\"")
                        .then(|| url.trim().trim_start_matches('<').trim_end_matches('>'))
                        .map(str::to_string)
                })
            });
        let from_body = || {
            self.body
                .pointer("/_links/next/href")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        from_header.or_else(from_body).map(|url| relative(&url))
    }
}

/// `https://org.example.com/api/v1/users?after=x` → `/api/v1/users?after=x`.
fn relative(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".into(),
        },
        None => url.to_string(),
    }
}

/// What a card does after a 2xx reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Another call (the next page).
    Call(HttpCall),
    Done(Outputs),
    /// "Stream Matching Records": run `helper` once per record (its inputs `Record` and
    /// `State`), then the card's outputs (`Result.Records Streamed`).
    Stream {
        helper: String,
        records: Vec<Value>,
        state: Value,
        outputs: Outputs,
    },
}

/// The scope a card needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardScope {
    /// A fixed Okta API scope.
    Declared(&'static str),
    /// Custom API Action: the scope of the route its method and relative URL name.
    FromRequest,
}

pub type StartFn = fn(&Inputs) -> Result<HttpCall, CardError>;
/// `(inputs, items gathered so far, the 2xx reply)`.
pub type ReplyFn = fn(&Inputs, &mut Vec<Value>, HttpReply) -> Result<Next, CardError>;
/// Why a card as configured cannot run (checked at import).
pub type CheckFn = fn(&Card) -> Vec<String>;

/// One connector card.
#[derive(Debug, Clone, Copy)]
pub struct ConnectorCard {
    pub connector: &'static str,
    pub action: &'static str,
    /// Its name in Okta Workflows.
    pub title: &'static str,
    pub scope: CardScope,
    pub start: StartFn,
    pub reply: ReplyFn,
    pub check: CheckFn,
}

impl ConnectorCard {
    pub fn key(&self) -> crate::CardKey {
        crate::CardKey::connector(self.connector, self.action)
    }
}

/// Every connector card Steward implements.
pub fn all() -> impl Iterator<Item = &'static ConnectorCard> {
    okta::CARDS.iter().chain(oig::CARDS.iter())
}

/// The card `connector:action`.
pub fn find(connector: &str, action: &str) -> Option<&'static ConnectorCard> {
    all().find(|c| c.connector == connector && c.action == action)
}

/// The card with this key (`okta:readUser`).
pub fn by_key(key: &crate::CardKey) -> Option<&'static ConnectorCard> {
    all().find(|c| c.key() == *key)
}

/// The most pages a card follows.
pub const MAX_PAGES: usize = 50;

/// A non-2xx reply as the card's error: Okta's `errorSummary` (and causes) when the body has
/// one; the status is kept, so 429 and 5xx are retried by the run's policy.
pub fn http_error(call: &HttpCall, reply: &HttpReply) -> Option<ConnectorError> {
    if (200..300).contains(&reply.status) {
        return None;
    }
    let summary = match &reply.body {
        Value::Object(body) => {
            let mut text = body
                .get("errorSummary")
                .or_else(|| body.get("error_description"))
                .or_else(|| body.get("error"))
                .map(to_text)
                .unwrap_or_default();
            let causes: Vec<String> = body
                .get("errorCauses")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(|c| c.get("errorSummary").map(to_text))
                        .collect()
                })
                .unwrap_or_default();
            if !causes.is_empty() {
                text = format!("{text} ({})", causes.join("; "));
            }
            text
        }
        Value::Null => String::new(),
        other => to_text(other).chars().take(300).collect(),
    };
    let message = if summary.is_empty() {
        format!("{} answered {}", call.describe(), reply.status)
    } else {
        format!("{} answered {}: {summary}", call.describe(), reply.status)
    };
    Some(ConnectorError {
        message,
        status: Some(reply.status),
        diagnosis: None,
    })
}

/// The value of a card's design-time option (`parameters.<key>`), as stored in the card.
pub fn parameter(card: &Card, key: &str) -> String {
    card.node
        .model
        .inputs
        .by_key(Some("parameters"), key)
        .map(|f| to_text(&f.value.data))
        .unwrap_or_default()
}

/// The inputs of a group as an object `{key: value}`, skipping empty values.
pub(crate) fn group_object(inputs: &Inputs, group: &str) -> Map<String, Value> {
    inputs
        .fields
        .iter()
        .filter(|f| f.group.as_deref() == Some(group) && !is_empty(&f.value))
        .map(|f| (f.key.clone(), f.value.clone()))
        .collect()
}

pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// A required text input `group.key`.
pub(crate) fn required(inputs: &Inputs, group: &str, key: &str) -> Result<String, CardError> {
    let text = to_text(inputs.get_in(group, key));
    if text.trim().is_empty() {
        return Err(CardError::input(
            &format!("{group}.{key}"),
            "is required and empty",
        ));
    }
    Ok(text.trim().to_string())
}

/// A path segment taken from an input: encoded so it cannot change the path.
pub(crate) fn segment(text: &str) -> String {
    encode(text)
}

/// `{"a": {...}}` → the value at `a`, or null.
pub(crate) fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// A Okta date string or null.
pub(crate) fn text_or_null(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        other => Value::String(to_text(other)),
    }
}

// ---------------------------------------------------------------------------------------------
// Scope needs (what preflight compares with a connection's token and its app's grants).

/// One connector card of a flow and the scope it needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeNeed {
    /// The flow (or inline block) the card belongs to.
    pub flow: String,
    pub card: String,
    pub card_name: String,
    /// `okta:hTTPRequest`.
    pub card_type: String,
    /// The flopack's connection id (`node.model.config`).
    pub connection: Option<String>,
    /// Its connector module (`okta`, `oig`).
    pub connector: String,
    /// The scope, when it is known before the run.
    pub scope: Option<String>,
    /// For a Custom API Action: the method and relative URL (a composed one with its
    /// placeholders as `{…}`), or why it is known only when the card runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_because: Option<String>,
}

/// Resolves `(method, path)` to the scope of the route it names (supplied by steward-api from
/// its route table).
pub type ScopeResolver<'a> = &'a (dyn Fn(&str, &str) -> Option<String> + Sync);

/// The connector cards of every flow of `flopack` (and their inline blocks) and the scopes they
/// need: a declared scope, or for a Custom API Action the scope of the route its method and
/// relative URL name, when they are known before the run (typed in, or composed from a template
/// by a Compose card).
pub fn scope_needs(flopack: &Flopack, resolve: ScopeResolver<'_>) -> Vec<ScopeNeed> {
    let mut out = Vec::new();
    for flow in flopack.data.flos.values() {
        needs_of(&flow.id, &flow.data, resolve, &mut out, 0);
    }
    out
}

fn needs_of(
    flow_id: &str,
    flow: &FlowData,
    resolve: ScopeResolver<'_>,
    out: &mut Vec<ScopeNeed>,
    depth: usize,
) {
    for card in &flow.methods {
        if depth < 8 {
            let embedded = card
                .node
                .model
                .inputs
                .data
                .values()
                .filter_map(|f| f.flow_ref())
                .chain(card.node.model.policy.error.flow_ref());
            for r in embedded {
                if let FlowRef::Embedded(block) = r {
                    needs_of(flow_id, &block, resolve, out, depth + 1);
                }
            }
        }
        let key = card.address.card_key();
        let Some(def) = by_key(&key) else {
            continue;
        };
        let mut need = ScopeNeed {
            flow: flow_id.to_string(),
            card: card.uuid.clone(),
            card_name: card.node.data.name.clone(),
            card_type: key.to_string(),
            connection: card.node.model.config.clone(),
            connector: def.connector.to_string(),
            scope: None,
            request: None,
            unknown_because: None,
        };
        match def.scope {
            CardScope::Declared(scope) => need.scope = Some(scope.to_string()),
            CardScope::FromRequest => {
                let method = okta::method_of(&parameter(card, "requestType"));
                match static_url(flow, card) {
                    Ok(url) => {
                        let path = url.split(['?', '#']).next().unwrap_or_default();
                        need.request = Some(format!("{method} {url}"));
                        match resolve(&method, path) {
                            Some(scope) => need.scope = Some(scope),
                            None => {
                                need.unknown_because =
                                    Some(format!("no route of this org serves {method} {path}"))
                            }
                        }
                    }
                    Err(why) => need.unknown_because = Some(why),
                }
            }
        }
        out.push(need);
    }
}

/// The relative URL of a Custom API Action when it is known before the run: typed in, or
/// pinned from a Compose card whose template is typed in (its placeholders become `{name}`).
fn static_url(flow: &FlowData, card: &Card) -> Result<String, String> {
    let Some(field) = card
        .node
        .model
        .inputs
        .by_key(Some("Request"), "Relative URL")
    else {
        return Err("the card has no Relative URL".into());
    };
    let source = pinned_from(flow, &card.uuid, &field.id);
    match source {
        None => {
            let url = to_text(&field.value.data);
            if url.starts_with('/') {
                Ok(url)
            } else {
                Err("its Relative URL is empty".into())
            }
        }
        Some((from, _)) => {
            if from.address.card_key() != crate::CardKey::kernel("string", "compose") {
                return Err(format!(
                    "its Relative URL comes from {:?} when the flow runs: unknown until it runs",
                    from.node.data.name
                ));
            }
            let Some(template) = from.node.model.inputs.by_key(None, "_text_") else {
                return Err("its Relative URL is composed from an empty template".into());
            };
            if pinned_from(flow, &from.uuid, &template.id).is_some() {
                return Err(
                    "its Relative URL is composed from a template built when the flow runs: unknown until it runs"
                        .into(),
                );
            }
            let url = placeholders_as_params(&to_text(&template.value.data));
            if url.starts_with('/') {
                Ok(url)
            } else {
                Err("its composed Relative URL does not start with /".into())
            }
        }
    }
}

/// The card (and its output id) whose pin feeds `input` of card `target`.
fn pinned_from<'a>(flow: &'a FlowData, target: &str, input: &str) -> Option<(&'a Card, String)> {
    flow.methods.iter().find_map(|c| {
        c.pins.iter().find_map(|(output, targets)| {
            targets
                .get(target)
                .filter(|pins| pins.iter().any(|p| p.input == input))
                .map(|_| (c, output.clone()))
        })
    })
}

/// `/requests/{{{rq-Id}}}` → `/requests/{rq-Id}`.
fn placeholders_as_params(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        match after.find("}}}") {
            Some(end) => {
                out.push('{');
                out.push_str(&after[..end]);
                out.push('}');
                rest = &after[end + 3..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Import-time refusals of connector cards by key (streaming result sets, …).
pub fn checks() -> BTreeMap<crate::CardKey, CheckFn> {
    all().map(|c| (c.key(), c.check)).collect()
}

pub(crate) fn no_check(_: &Card) -> Vec<String> {
    Vec::new()
}

/// A search card may stream its records to a helper flow ("Stream Matching Records") when it
/// names one (group `Streaming`, input `Flow`).
pub(crate) fn streams_to_helper(card: &Card) -> Vec<String> {
    let streaming = parameter(card, "resultSet")
        .to_ascii_lowercase()
        .contains("stream");
    let helper = card.node.model.inputs.data.values().any(|f| {
        f.group.as_deref() == Some("Streaming") && matches!(f.flow_ref(), Some(FlowRef::Named(_)))
    });
    if streaming && !helper {
        vec!["Stream Matching Records names no helper flow (Streaming.Flow)".into()]
    } else {
        Vec::new()
    }
}

/// Refuses the streaming result set (`Stream Matching Records`, `GET(Streaming)`).
pub(crate) fn refuse_streaming(card: &Card) -> Vec<String> {
    let set = parameter(card, "resultSet");
    let request = parameter(card, "requestType");
    let streaming = set.to_ascii_lowercase().contains("stream")
        || request.to_ascii_lowercase().contains("streaming")
        || card.node.model.inputs.data.values().any(|f| {
            f.group.as_deref() == Some("Streaming")
                && matches!(f.flow_ref(), Some(FlowRef::Named(_)))
        });
    if streaming {
        vec![
            "streaming records to a helper flow is not supported yet: choose First Matching Record or First 200 Matching Records".into(),
        ]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
