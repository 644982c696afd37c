//! The Okta Identity Governance connector. Okta's published templates carry no card of it, so
//! its module name is Steward's choice, taken from Okta's help paths
//! (`connector-reference/oig/actions/…`): `root:channels:http:oig:<version>:<action>` with the
//! actions `customApiAction` (Custom API Action), `createRequest` (Create Request) and
//! `listRequest` (Search Requests), against the Access Requests v2 API.

use serde_json::{json, Map, Value};

use super::okta::{custom_reply, custom_start, gather, records, ResultSet};
use super::{
    at, is_empty, no_check, refuse_streaming, streams_to_helper, text_or_null, CardScope,
    ConnectorCard, HttpCall, HttpReply, Next,
};
use crate::registry::{CardError, Inputs, Outputs};
use crate::value::to_text;

pub const CARDS: &[ConnectorCard] = &[
    ConnectorCard {
        connector: "oig",
        action: "customApiAction",
        title: "Custom API Action",
        scope: CardScope::FromRequest,
        start: custom_start,
        reply: custom_reply,
        check: refuse_streaming,
    },
    ConnectorCard {
        connector: "oig",
        action: "createRequest",
        title: "Create Request",
        scope: CardScope::Declared("okta.accessRequests.request.manage"),
        start: create_request,
        reply: create_reply,
        check: no_check,
    },
    ConnectorCard {
        connector: "oig",
        action: "listRequest",
        title: "Search Requests",
        scope: CardScope::Declared("okta.accessRequests.request.read"),
        start: search_requests,
        reply: search_reply,
        check: streams_to_helper,
    },
];

const REQUESTS: &str = "/governance/api/v2/requests";

/// An input by key, in whatever group the card keeps it (Okta's groups for these cards are
/// not recorded in any published export).
fn by_key<'a>(inputs: &'a Inputs, key: &str) -> &'a Value {
    inputs
        .fields
        .iter()
        .find(|f| f.key == key && f.group.as_deref() != Some("parameters"))
        .map(|f| &f.value)
        .unwrap_or(&Value::Null)
}

fn required_key(inputs: &Inputs, key: &str) -> Result<String, CardError> {
    let text = to_text(by_key(inputs, key));
    if text.trim().is_empty() {
        return Err(CardError::input(key, "is required and empty"));
    }
    Ok(text.trim().to_string())
}

/// `POST /governance/api/v2/requests` for a catalog entry, for a user, with the requester
/// fields (group `Requester Fields`, keyed by field id).
fn create_request(inputs: &Inputs) -> Result<HttpCall, CardError> {
    let entry = required_key(inputs, "Catalog Entry ID")?;
    let user = required_key(inputs, "Requested For ID")?;
    let fields: Vec<Value> = inputs
        .fields
        .iter()
        .filter(|f| f.group.as_deref() == Some("Requester Fields") && !is_empty(&f.value))
        .map(|f| json!({"id": f.key, "value": to_text(&f.value)}))
        .collect();
    let mut body = json!({
        "requested": {"type": "CATALOG_ENTRY", "entryId": entry},
        "requestedFor": {"type": "OKTA_USER", "externalId": user},
    });
    if !fields.is_empty() {
        body["requesterFieldValues"] = Value::Array(fields);
    }
    Ok(HttpCall::new("POST", REQUESTS).body(body))
}

/// A v2 request as these cards give it (group `Request`, or an item of `Result.Requests`).
pub fn request_item(r: &Value) -> Value {
    let requested = at(r, "requested");
    json!({
        "Raw Output": r,
        "ID": text_or_null(at(r, "id")),
        "Status": text_or_null(at(r, "status")),
        "Created": text_or_null(at(r, "created")),
        "Created By": text_or_null(at(r, "createdBy")),
        "Last Updated": text_or_null(at(r, "lastUpdated")),
        "Last Updated By": text_or_null(at(r, "lastUpdatedBy")),
        "Requested": {
            "Entry ID": text_or_null(at(requested, "entryId")),
            "Resource ID": text_or_null(at(requested, "resourceId")),
            "Resource Type": text_or_null(at(requested, "resourceType")),
            "Access Scope ID": text_or_null(at(requested, "accessScopeId")),
            "Access Scope Type": text_or_null(at(requested, "accessScopeType")),
        },
        "Requested For": text_or_null(at(at(r, "requestedFor"), "externalId")),
        "Requested By": text_or_null(at(at(r, "requestedBy"), "externalId")),
    })
}

fn request_outputs(r: &Value) -> Outputs {
    let item = request_item(r);
    let mut out = Outputs::new();
    if let Value::Object(map) = item {
        for (k, v) in map {
            out = out.with_in(Some("Request"), &k, v);
        }
    }
    out
}

fn create_reply(_: &Inputs, _: &mut Vec<Value>, reply: HttpReply) -> Result<Next, CardError> {
    Ok(Next::Done(request_outputs(&reply.body)))
}

/// `Submitted` → `SUBMITTED`, `Entitlement Bundle` → `ENTITLEMENT_BUNDLE`.
fn enum_value(text: &str) -> String {
    text.trim().to_ascii_uppercase().replace([' ', '-'], "_")
}

/// The SCIM filter of the card's search inputs.
fn filter_of(inputs: &Inputs) -> String {
    let mut terms = Vec::new();
    let mut eq = |attr: &str, value: String| {
        if !value.is_empty() {
            let v = value.replace('\\', "\\\\").replace('"', "\\\"");
            terms.push(format!("{attr} eq \"{v}\""));
        }
    };
    eq("status", enum_value(&to_text(by_key(inputs, "Status"))));
    eq(
        "requested.resourceId",
        to_text(by_key(inputs, "Resource ID")).trim().to_string(),
    );
    eq(
        "requested.accessScopeId",
        to_text(by_key(inputs, "Access Scope ID"))
            .trim()
            .to_string(),
    );
    eq(
        "requested.accessScopeType",
        enum_value(&to_text(by_key(inputs, "Access Scope Type"))),
    );
    eq(
        "requestedFor.externalId",
        to_text(by_key(inputs, "User Requested For"))
            .trim()
            .to_string(),
    );
    let updated = to_text(by_key(inputs, "Last Updated")).trim().to_string();
    if !updated.is_empty() {
        terms.push(format!("lastUpdated gt \"{}\"", updated.replace('"', "")));
    }
    terms.join(" and ")
}

/// `GET /governance/api/v2/requests?filter=…`: the first match or the first 200.
fn search_requests(inputs: &Inputs) -> Result<HttpCall, CardError> {
    let mut call = HttpCall::new("GET", REQUESTS);
    let filter = filter_of(inputs);
    if !filter.is_empty() {
        call = call.query("filter", filter);
    }
    let limit = match super::okta::result_set(inputs) {
        ResultSet::First => "1",
        _ => "200",
    };
    Ok(call.query("limit", limit))
}

fn search_reply(
    inputs: &Inputs,
    acc: &mut Vec<Value>,
    reply: HttpReply,
) -> Result<Next, CardError> {
    let items = records(&reply)?;
    gather(inputs, acc, &reply, items, |set, requests| match set {
        ResultSet::First => match requests.first() {
            Some(r) => request_outputs(r),
            None => request_outputs(&Value::Object(Map::new())),
        },
        _ => Outputs::new().with_in(
            Some("Result"),
            "Requests",
            Value::Array(requests.iter().map(request_item).collect()),
        ),
    })
}
