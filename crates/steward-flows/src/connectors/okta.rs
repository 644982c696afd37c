//! The Okta connector (`root:channels:http:okta:<version>:<action>`): Custom API Action and the
//! user and group cards, against the Management API (`/api/v1`), with the output groups and keys
//! Okta's exports record.

use serde_json::{json, Map, Value};

use super::{
    at, group_object, is_empty, no_check, refuse_streaming, required, segment, streams_to_helper,
    text_or_null, CardScope, ConnectorCard, HttpCall, HttpReply, Next, MAX_PAGES,
};
use crate::registry::{CardError, Inputs, Outputs};
use crate::value::to_text;

pub const CARDS: &[ConnectorCard] = &[
    ConnectorCard {
        connector: "okta",
        action: "hTTPRequest",
        title: "Custom API Action",
        scope: CardScope::FromRequest,
        start: custom_start,
        reply: custom_reply,
        check: refuse_streaming,
    },
    ConnectorCard {
        connector: "okta",
        action: "readUser",
        title: "Read User",
        scope: CardScope::Declared("okta.users.read"),
        start: read_user,
        reply: user_reply,
        check: no_check,
    },
    ConnectorCard {
        connector: "okta",
        action: "updateUser",
        title: "Update User",
        scope: CardScope::Declared("okta.users.manage"),
        start: update_user,
        reply: user_reply,
        check: no_check,
    },
    ConnectorCard {
        connector: "okta",
        action: "listUsersWithSearch",
        title: "List Users with Search",
        scope: CardScope::Declared("okta.users.read"),
        start: list_users,
        reply: list_users_reply,
        check: streams_to_helper,
    },
    ConnectorCard {
        connector: "okta",
        action: "searchGroups",
        title: "Search Groups",
        scope: CardScope::Declared("okta.groups.read"),
        start: search_groups,
        reply: search_groups_reply,
        check: streams_to_helper,
    },
    ConnectorCard {
        connector: "okta",
        action: "addNewUserToGroup",
        title: "Add User to Group",
        scope: CardScope::Declared("okta.groups.manage"),
        start: add_to_group,
        reply: status_reply,
        check: no_check,
    },
    ConnectorCard {
        connector: "okta",
        action: "removeUserFromGroup",
        title: "Remove User from Group",
        scope: CardScope::Declared("okta.groups.manage"),
        start: remove_from_group,
        reply: status_reply,
        check: no_check,
    },
];

/// `parameters.requestType` as an HTTP method: `GET(Streaming)` is a GET, empty is GET.
pub fn method_of(request_type: &str) -> String {
    let t = request_type.trim().to_ascii_uppercase();
    if t.is_empty() || t.starts_with("GET") {
        "GET".into()
    } else {
        t
    }
}

// ---------------------------------------------------------------------------------------------
// Custom API Action (shared with the OIG connector's).

/// Headers the connector sets itself.
const OWN_HEADERS: [&str; 3] = ["authorization", "content-type", "host"];

pub(crate) fn custom_start(inputs: &Inputs) -> Result<HttpCall, CardError> {
    let method = method_of(&to_text(inputs.get_in("parameters", "requestType")));
    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        return Err(CardError::input(
            "parameters.requestType",
            format!("{method} is not one of GET, POST, PUT, PATCH, DELETE"),
        ));
    }
    let url = to_text(inputs.get_in("Request", "Relative URL"))
        .trim()
        .to_string();
    if !url.starts_with('/') || url.starts_with("//") {
        return Err(CardError::input(
            "Request.Relative URL",
            format!("{url:?} must start with a single / (for example /api/v1/users)"),
        ));
    }
    let mut call = HttpCall::new(&method, url);
    for (k, v) in object_of(inputs.get_in("Request", "Query"), "Request.Query")? {
        if !is_empty(&v) {
            call.query.push((k, to_text(&v)));
        }
    }
    for (k, v) in object_of(inputs.get_in("Request", "Headers"), "Request.Headers")? {
        if !OWN_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
            call.headers.push((k, to_text(&v)));
        }
    }
    if ["POST", "PUT", "PATCH"].contains(&method.as_str()) {
        call.body = match inputs.get_in("Request", "Body") {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(serde_json::from_str(s).unwrap_or(Value::String(s.clone()))),
            other => Some(other.clone()),
        };
    }
    Ok(call)
}

fn object_of(v: &Value, key: &str) -> Result<Map<String, Value>, CardError> {
    match v {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m.clone()),
        Value::String(s) if s.trim().is_empty() => Ok(Map::new()),
        Value::String(s) => serde_json::from_str(s)
            .map_err(|e| CardError::input(key, format!("is not an object: {e}"))),
        other => Err(CardError::input(key, format!("{other} is not an object"))),
    }
}

pub(crate) fn custom_reply(
    _: &Inputs,
    _: &mut Vec<Value>,
    reply: HttpReply,
) -> Result<Next, CardError> {
    Ok(Next::Done(
        Outputs::new()
            .with_in(Some("Response"), "Status Code", json!(reply.status))
            .with_in(Some("Response"), "Headers", reply.headers_object())
            .with_in(Some("Response"), "Body", reply.body),
    ))
}

// ---------------------------------------------------------------------------------------------
// Users.

fn read_user(inputs: &Inputs) -> Result<HttpCall, CardError> {
    let id = required(inputs, "User", "ID or Login")?;
    Ok(HttpCall::new(
        "GET",
        format!("/api/v1/users/{}", segment(&id)),
    ))
}

/// Partial (`POST`, merges the profile) or Strict (`PUT`, replaces it): `parameters.updateSemantics`.
fn update_user(inputs: &Inputs) -> Result<HttpCall, CardError> {
    let id = required(inputs, "User", "ID")?;
    let semantics = to_text(inputs.get_in("parameters", "updateSemantics")).to_ascii_uppercase();
    let method = match semantics.as_str() {
        "" | "POST" => "POST",
        "PUT" => "PUT",
        other => {
            return Err(CardError::input(
                "parameters.updateSemantics",
                format!("{other} is not POST (partial) or PUT (strict)"),
            ))
        }
    };
    let profile = group_object(inputs, "Profile");
    Ok(
        HttpCall::new(method, format!("/api/v1/users/{}", segment(&id)))
            .body(json!({ "profile": profile })),
    )
}

/// Read User's outputs: `System Properties.*` and `Profile Properties.<attribute>`.
pub fn user_outputs(user: &Value) -> Outputs {
    let system = Some("System Properties");
    let creds = at(user, "credentials");
    let credentials = json!({
        "Emails": creds.get("emails").cloned().unwrap_or(json!([])),
        "Password": creds.get("password").is_some(),
        "Recovery Question": text_or_null(at(at(creds, "recovery_question"), "question")),
        "Provider": {
            "Name": text_or_null(at(at(creds, "provider"), "name")),
            "Type": text_or_null(at(at(creds, "provider"), "type")),
        },
    });
    let mut out = Outputs::new()
        .with_in(system, "ID", text_or_null(at(user, "id")))
        .with_in(system, "Status", text_or_null(at(user, "status")))
        .with_in(system, "Created", text_or_null(at(user, "created")))
        .with_in(system, "Activated", text_or_null(at(user, "activated")))
        .with_in(
            system,
            "Status Changed",
            text_or_null(at(user, "statusChanged")),
        )
        .with_in(system, "Last Login", text_or_null(at(user, "lastLogin")))
        .with_in(
            system,
            "Last Updated",
            text_or_null(at(user, "lastUpdated")),
        )
        .with_in(
            system,
            "Password Changed",
            text_or_null(at(user, "passwordChanged")),
        )
        .with_in(system, "Credentials", credentials);
    if let Some(profile) = user.get("profile").and_then(Value::as_object) {
        for (k, v) in profile {
            out = out.with_in(Some("Profile Properties"), k, v.clone());
        }
    }
    out
}

fn user_reply(_: &Inputs, _: &mut Vec<Value>, reply: HttpReply) -> Result<Next, CardError> {
    Ok(Next::Done(user_outputs(&reply.body)))
}

/// One item of List Users with Search's `Result.Users`.
pub fn user_item(user: &Value) -> Value {
    let profile = at(user, "profile");
    json!({
        "Raw Output": user,
        "ID": text_or_null(at(user, "id")),
        "Status": text_or_null(at(user, "status")),
        "Created": text_or_null(at(user, "created")),
        "Activated": text_or_null(at(user, "activated")),
        "Status Changed": text_or_null(at(user, "statusChanged")),
        "Last Login": text_or_null(at(user, "lastLogin")),
        "Last Updated": text_or_null(at(user, "lastUpdated")),
        "Password Changed": text_or_null(at(user, "passwordChanged")),
        "First Name": text_or_null(at(profile, "firstName")),
        "Last Name": text_or_null(at(profile, "lastName")),
        "Mobile Phone": text_or_null(at(profile, "mobilePhone")),
        "Second Email": text_or_null(at(profile, "secondEmail")),
        "Login": text_or_null(at(profile, "login")),
        "Email": text_or_null(at(profile, "email")),
    })
}

/// How many records a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultSet {
    First,
    First200,
    All,
    /// "Stream Matching Records": each record to a helper flow.
    Stream,
}

pub(crate) fn result_set(inputs: &Inputs) -> ResultSet {
    let set = to_text(inputs.get_in("parameters", "resultSet")).to_ascii_lowercase();
    if set.contains("stream") {
        ResultSet::Stream
    } else if set.contains("200") {
        ResultSet::First200
    } else if set.starts_with("all") {
        ResultSet::All
    } else if set.is_empty() || set.contains("first") {
        ResultSet::First
    } else {
        ResultSet::First200
    }
}

/// A SCIM expression from the `Inputs` group: `key eq "value"` for each non-empty input, joined
/// with `and`; `Custom Search Criteria` replaces it when given.
fn search_expression(inputs: &Inputs, skip: &[&str]) -> String {
    let custom = to_text(inputs.get_in("Inputs", "Custom Search Criteria"));
    if !custom.trim().is_empty() {
        return custom.trim().to_string();
    }
    inputs
        .fields
        .iter()
        .filter(|f| f.group.as_deref() == Some("Inputs"))
        .filter(|f| f.key != "Custom Search Criteria" && !skip.contains(&f.key.as_str()))
        .filter(|f| !is_empty(&f.value))
        .map(|f| {
            let v = to_text(&f.value).replace('\\', "\\\\").replace('"', "\\\"");
            format!("{} eq \"{v}\"", f.key)
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

fn list_users(inputs: &Inputs) -> Result<HttpCall, CardError> {
    let mut call = HttpCall::new("GET", "/api/v1/users");
    let search = search_expression(inputs, &[]);
    if !search.is_empty() {
        call = call.query("search", search);
    }
    let sort_by = to_text(inputs.get_in("Sort", "sortBy"));
    if !sort_by.is_empty() {
        call = call.query("sortBy", sort_by);
        let order = to_text(inputs.get_in("Sort", "sortOrder"));
        if !order.is_empty() {
            call = call.query("sortOrder", order);
        }
    }
    let limit = if result_set(inputs) == ResultSet::First {
        "1"
    } else {
        "200"
    };
    Ok(call.query("limit", limit))
}

/// Gathers a page of records and decides: another page, or the outputs from `finish`.
pub(crate) fn gather(
    inputs: &Inputs,
    acc: &mut Vec<Value>,
    reply: &HttpReply,
    items: Vec<Value>,
    finish: fn(ResultSet, &[Value]) -> Outputs,
) -> Result<Next, CardError> {
    let set = result_set(inputs);
    acc.extend(items);
    let limit = stream_limit(inputs);
    let enough = match set {
        ResultSet::First => !acc.is_empty(),
        ResultSet::First200 => acc.len() >= 200,
        ResultSet::All => false,
        ResultSet::Stream => acc.len() >= limit,
    };
    if !enough && acc.len() < MAX_PAGES * 200 {
        if let Some(next) = reply.next_page() {
            return Ok(Next::Call(HttpCall::new("GET", next)));
        }
    }
    match set {
        ResultSet::First200 => acc.truncate(200),
        ResultSet::Stream => {
            acc.truncate(limit);
            let records = std::mem::take(acc);
            let outputs = Outputs::new().with_in(
                Some("Result"),
                "Records Streamed",
                Value::from(records.len()),
            );
            return Ok(Next::Stream {
                helper: stream_helper(inputs)?,
                records,
                state: inputs.get_in("Streaming", "State").clone(),
                outputs,
            });
        }
        _ => {}
    }
    Ok(Next::Done(finish(set, acc)))
}

/// The most records a stream sends (`Streaming."Record Limit"`; at most what paging reaches).
fn stream_limit(inputs: &Inputs) -> usize {
    let cap = MAX_PAGES * 200;
    match inputs.get_in("Streaming", "Record Limit") {
        Value::Number(n) => n.as_u64().map_or(cap, |n| (n as usize).clamp(1, cap)),
        Value::String(s) => s.trim().parse::<usize>().map_or(cap, |n| n.clamp(1, cap)),
        _ => cap,
    }
}

/// The helper flow a stream runs (`Streaming.Flow`: its id, or `{id}`).
fn stream_helper(inputs: &Inputs) -> Result<String, CardError> {
    let flow = inputs.get_in("Streaming", "Flow");
    let id = match flow {
        Value::String(id) => id.clone(),
        Value::Object(o) => o.get("id").map(to_text).unwrap_or_default(),
        _ => String::new(),
    };
    if id.trim().is_empty() {
        return Err(CardError::input(
            "Streaming.Flow",
            "names no helper flow to stream the records to",
        ));
    }
    Ok(id)
}

/// The records of a list reply: a JSON array, or `data` of a Governance list.
pub(crate) fn records(reply: &HttpReply) -> Result<Vec<Value>, CardError> {
    match &reply.body {
        Value::Array(items) => Ok(items.clone()),
        Value::Object(o) => match o.get("data") {
            Some(Value::Array(items)) => Ok(items.clone()),
            _ => Err(CardError::Failed("the reply is not a list".into())),
        },
        Value::Null => Ok(Vec::new()),
        _ => Err(CardError::Failed("the reply is not a list".into())),
    }
}

fn list_users_reply(
    inputs: &Inputs,
    acc: &mut Vec<Value>,
    reply: HttpReply,
) -> Result<Next, CardError> {
    let items = records(&reply)?;
    gather(inputs, acc, &reply, items, |set, users| {
        let result = Some("Result");
        match set {
            ResultSet::First => {
                let item = users.first().map(user_item).unwrap_or(Value::Null);
                let mut out = Outputs::new();
                for key in USER_ITEM_KEYS {
                    out = out.with_in(result, key, at(&item, key).clone());
                }
                out
            }
            _ => Outputs::new().with_in(
                result,
                "Users",
                Value::Array(users.iter().map(user_item).collect()),
            ),
        }
    })
}

const USER_ITEM_KEYS: [&str; 15] = [
    "Raw Output",
    "ID",
    "Status",
    "Created",
    "Activated",
    "Status Changed",
    "Last Login",
    "Last Updated",
    "Password Changed",
    "First Name",
    "Last Name",
    "Mobile Phone",
    "Second Email",
    "Login",
    "Email",
];

// ---------------------------------------------------------------------------------------------
// Groups.

fn search_groups(inputs: &Inputs) -> Result<HttpCall, CardError> {
    let mut call = HttpCall::new("GET", "/api/v1/groups");
    let q = to_text(inputs.get_in("Inputs", "Query"));
    if !q.trim().is_empty() {
        call = call.query("q", q.trim());
    } else {
        let search = search_expression(inputs, &["Query"]);
        if !search.is_empty() {
            call = call.query("search", search);
        }
    }
    let limit = if result_set(inputs) == ResultSet::First {
        "1"
    } else {
        "200"
    };
    Ok(call.query("limit", limit))
}

/// One group as Search Groups gives it.
pub fn group_item(group: &Value) -> Value {
    let profile = at(group, "profile");
    json!({
        "ID": text_or_null(at(group, "id")),
        "Created": text_or_null(at(group, "created")),
        "Last Updated": text_or_null(at(group, "lastUpdated")),
        "Last Membership Updated": text_or_null(at(group, "lastMembershipUpdated")),
        "Object Class": group.get("objectClass").cloned().unwrap_or(json!([])),
        "Type": text_or_null(at(group, "type")),
        "Profile": {
            "Name": text_or_null(at(profile, "name")),
            "Description": text_or_null(at(profile, "description")),
        },
        "Raw Object": group,
    })
}

fn search_groups_reply(
    inputs: &Inputs,
    acc: &mut Vec<Value>,
    reply: HttpReply,
) -> Result<Next, CardError> {
    let items = records(&reply)?;
    gather(inputs, acc, &reply, items, |set, groups| {
        let result = Some("Result");
        match set {
            ResultSet::First => {
                let item = groups.first().map(group_item).unwrap_or(Value::Null);
                let mut out = Outputs::new();
                for key in [
                    "ID",
                    "Created",
                    "Last Updated",
                    "Last Membership Updated",
                    "Object Class",
                    "Type",
                    "Profile",
                    "Raw Object",
                ] {
                    out = out.with_in(result, key, at(&item, key).clone());
                }
                out
            }
            _ => Outputs::new().with_in(
                result,
                "Groups",
                Value::Array(groups.iter().map(group_item).collect()),
            ),
        }
    })
}

fn membership(inputs: &Inputs, method: &str) -> Result<HttpCall, CardError> {
    let group = required(inputs, "Group", "id")?;
    let user = required(inputs, "User", "id")?;
    Ok(HttpCall::new(
        method,
        format!(
            "/api/v1/groups/{}/users/{}",
            segment(&group),
            segment(&user)
        ),
    ))
}

fn add_to_group(inputs: &Inputs) -> Result<HttpCall, CardError> {
    membership(inputs, "PUT")
}

fn remove_from_group(inputs: &Inputs) -> Result<HttpCall, CardError> {
    membership(inputs, "DELETE")
}

/// `Result.status`: the reply's HTTP status (204).
fn status_reply(_: &Inputs, _: &mut Vec<Value>, reply: HttpReply) -> Result<Next, CardError> {
    Ok(Next::Done(Outputs::new().with_in(
        Some("Result"),
        "status",
        json!(reply.status),
    )))
}
