#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use super::*;
use crate::registry::Inputs;

/// Runs a card against canned replies (one per call, in order); the calls it made and its
/// outputs.
fn run(
    connector: &str,
    action: &str,
    inputs: &Inputs,
    replies: Vec<HttpReply>,
) -> (Vec<HttpCall>, Outputs) {
    let card = find(connector, action).unwrap();
    let mut call = (card.start)(inputs).unwrap();
    let mut calls = Vec::new();
    let mut acc = Vec::new();
    for reply in replies {
        calls.push(call.clone());
        match (card.reply)(inputs, &mut acc, reply).unwrap() {
            Next::Call(next) => call = next,
            Next::Done(out) | Next::Stream { outputs: out, .. } => return (calls, out),
        }
    }
    panic!("{connector}:{action} wanted more replies after {calls:?}");
}

fn ok(body: Value) -> HttpReply {
    HttpReply::new(200, vec![], &body.to_string())
}

fn user(id: &str, login: &str) -> Value {
    json!({
        "id": id, "status": "ACTIVE", "created": "2026-01-01T00:00:00.000Z",
        "activated": null, "statusChanged": null, "lastLogin": null,
        "lastUpdated": "2026-01-02T00:00:00.000Z", "passwordChanged": null,
        "profile": {"login": login, "email": login, "firstName": "Ada", "lastName": "L"},
        "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}}
    })
}

/// `(card, inputs, replies, expected (method, url) of each call, expected outputs)`.
type Case = (
    &'static str,
    Inputs,
    Vec<HttpReply>,
    Vec<(&'static str, &'static str)>,
    Vec<(&'static str, &'static str, Value)>,
);

fn check(connector: &str, cases: Vec<Case>) {
    for (action, inputs, replies, want_calls, want_out) in cases {
        let (calls, out) = run(connector, action, &inputs, replies);
        let got: Vec<(String, String)> =
            calls.iter().map(|c| (c.method.clone(), c.url())).collect();
        let want: Vec<(String, String)> = want_calls
            .iter()
            .map(|(m, u)| (m.to_string(), u.to_string()))
            .collect();
        assert_eq!(got, want, "{connector}:{action} calls");
        for (group, key, value) in want_out {
            assert_eq!(
                out.get_in(Some(group), key),
                Some(&value),
                "{connector}:{action} output {group}.{key} in {out:?}"
            );
        }
    }
}

#[test]
fn okta_cards() {
    let page2 = HttpReply::new(
        200,
        vec![(
            "Link".into(),
            "<https://org.example/api/v1/users?after=00u2&limit=200>; rel=\"next\"".into(),
        )],
        &json!([user("00u1", "a@x.io")]).to_string(),
    );
    check(
        "okta",
        vec![
            (
                "hTTPRequest",
                Inputs::new()
                    .grouped("parameters", "requestType", json!("POST"))
                    .grouped("Request", "Relative URL", json!("/api/v1/groups?x=1"))
                    .grouped("Request", "Query", json!({"q": "a b", "empty": ""}))
                    .grouped("Request", "Headers", json!({"Authorization": "no", "X-A": "1"}))
                    .grouped("Request", "Body", json!({"profile": {"name": "G"}})),
                vec![HttpReply::new(
                    201,
                    vec![("X-Rate-Limit".into(), "5".into())],
                    "{\"id\":\"00g1\"}",
                )],
                vec![("POST", "/api/v1/groups?x=1&q=a%20b")],
                vec![
                    ("Response", "Status Code", json!(201)),
                    ("Response", "Headers", json!({"x-rate-limit": "5"})),
                    ("Response", "Body", json!({"id": "00g1"})),
                ],
            ),
            (
                // A text body stays text; GET(Streaming) options aside, GET sends no body.
                "hTTPRequest",
                Inputs::new()
                    .grouped("parameters", "requestType", json!("GET"))
                    .grouped("Request", "Relative URL", json!("/api/v1/org"))
                    .grouped("Request", "Body", json!({"ignored": true})),
                vec![HttpReply::new(200, vec![], "plain text")],
                vec![("GET", "/api/v1/org")],
                vec![("Response", "Body", json!("plain text"))],
            ),
            (
                "readUser",
                Inputs::new().grouped("User", "ID or Login", json!("a@x.io")),
                vec![ok(user("00u1", "a@x.io"))],
                vec![("GET", "/api/v1/users/a%40x.io")],
                vec![
                    ("System Properties", "ID", json!("00u1")),
                    ("System Properties", "Status", json!("ACTIVE")),
                    ("System Properties", "Last Login", Value::Null),
                    (
                        "System Properties",
                        "Credentials",
                        json!({"Emails": [], "Password": true, "Recovery Question": null,
                               "Provider": {"Name": "OKTA", "Type": "OKTA"}}),
                    ),
                    ("Profile Properties", "login", json!("a@x.io")),
                    ("Profile Properties", "firstName", json!("Ada")),
                ],
            ),
            (
                "updateUser",
                Inputs::new()
                    .grouped("User", "ID", json!("00u1"))
                    .grouped("parameters", "updateSemantics", json!("PUT"))
                    .grouped("Profile", "firstName", json!("Bea"))
                    .grouped("Profile", "nickName", json!("")),
                vec![ok(user("00u1", "a@x.io"))],
                vec![("PUT", "/api/v1/users/00u1")],
                vec![("System Properties", "ID", json!("00u1"))],
            ),
            (
                "listUsersWithSearch",
                Inputs::new()
                    .grouped("parameters", "resultSet", json!("First 200 Matching Records"))
                    .grouped("Inputs", "status", json!("ACTIVE"))
                    .grouped("Inputs", "profile.department", json!("R&D"))
                    .grouped("Inputs", "created", json!("")),
                vec![page2.clone(), ok(json!([user("00u2", "b@x.io")]))],
                vec![
                    (
                        "GET",
                        "/api/v1/users?search=status%20eq%20%22ACTIVE%22%20and%20profile.department%20eq%20%22R%26D%22&limit=200",
                    ),
                    ("GET", "/api/v1/users?after=00u2&limit=200"),
                ],
                vec![(
                    "Result",
                    "Users",
                    json!([
                        crate::connectors::okta::user_item(&user("00u1", "a@x.io")),
                        crate::connectors::okta::user_item(&user("00u2", "b@x.io")),
                    ]),
                )],
            ),
            (
                "listUsersWithSearch",
                Inputs::new()
                    .grouped("parameters", "resultSet", json!("First Matching Record"))
                    .grouped("Inputs", "Custom Search Criteria", json!("profile.login sw \"a\"")),
                vec![page2],
                vec![(
                    "GET",
                    "/api/v1/users?search=profile.login%20sw%20%22a%22&limit=1",
                )],
                vec![
                    ("Result", "ID", json!("00u1")),
                    ("Result", "Login", json!("a@x.io")),
                    ("Result", "First Name", json!("Ada")),
                ],
            ),
            (
                "searchGroups",
                Inputs::new()
                    .grouped("parameters", "resultSet", json!("First Matching Record"))
                    .grouped("Inputs", "Query", json!("Eng")),
                vec![ok(json!([{"id": "00g1", "type": "OKTA_GROUP",
                    "profile": {"name": "Engineering", "description": null}}]))],
                vec![("GET", "/api/v1/groups?q=Eng&limit=1")],
                vec![
                    ("Result", "ID", json!("00g1")),
                    (
                        "Result",
                        "Profile",
                        json!({"Name": "Engineering", "Description": null}),
                    ),
                ],
            ),
            (
                "searchGroups",
                Inputs::new()
                    .grouped("parameters", "resultSet", json!("All Matching Records"))
                    .grouped("Inputs", "profile.name", json!("Ops")),
                vec![ok(json!([{"id": "00g2", "profile": {"name": "Ops"}}]))],
                vec![(
                    "GET",
                    "/api/v1/groups?search=profile.name%20eq%20%22Ops%22&limit=200",
                )],
                vec![(
                    "Result",
                    "Groups",
                    json!([crate::connectors::okta::group_item(
                        &json!({"id": "00g2", "profile": {"name": "Ops"}})
                    )]),
                )],
            ),
            (
                "addNewUserToGroup",
                Inputs::new()
                    .grouped("Group", "id", json!("00g1"))
                    .grouped("User", "id", json!("00u1")),
                vec![HttpReply::new(204, vec![], "")],
                vec![("PUT", "/api/v1/groups/00g1/users/00u1")],
                vec![("Result", "status", json!(204))],
            ),
            (
                "removeUserFromGroup",
                Inputs::new()
                    .grouped("Group", "id", json!("00g1"))
                    .grouped("User", "id", json!("../00u1")),
                vec![HttpReply::new(204, vec![], "")],
                vec![("DELETE", "/api/v1/groups/00g1/users/..%2F00u1")],
                vec![("Result", "status", json!(204))],
            ),
        ],
    );
}

fn request(id: &str, status: &str) -> Value {
    json!({
        "id": id, "status": status, "created": "2026-01-01T00:00:00.000Z", "createdBy": "00u1",
        "lastUpdated": "2026-01-01T00:00:00.000Z", "lastUpdatedBy": "00u1",
        "requested": {"entryId": "cen1", "resourceId": "0oa1", "resourceType": "APPLICATION",
                      "accessScopeId": "00g1", "accessScopeType": "GROUP"},
        "requestedFor": {"type": "OKTA_USER", "externalId": "00u2"},
        "requestedBy": {"type": "OKTA_USER", "externalId": "00u1"}
    })
}

#[test]
fn oig_cards() {
    check(
        "oig",
        vec![
            (
                "customApiAction",
                Inputs::new()
                    .grouped("parameters", "requestType", json!("GET"))
                    .grouped("Request", "Relative URL", json!("/governance/api/v2/requests/r1")),
                vec![ok(request("r1", "PENDING"))],
                vec![("GET", "/governance/api/v2/requests/r1")],
                vec![("Response", "Status Code", json!(200))],
            ),
            (
                "createRequest",
                Inputs::new()
                    .grouped("Request", "Catalog Entry ID", json!("cen1"))
                    .grouped("Request", "Requested For ID", json!("00u2"))
                    .grouped("Requester Fields", "justification", json!("on call")),
                vec![HttpReply::new(
                    202,
                    vec![],
                    &request("r1", "SUBMITTED").to_string(),
                )],
                vec![("POST", "/governance/api/v2/requests")],
                vec![
                    ("Request", "ID", json!("r1")),
                    ("Request", "Status", json!("SUBMITTED")),
                    ("Request", "Requested For", json!("00u2")),
                    (
                        "Request",
                        "Requested",
                        json!({"Entry ID": "cen1", "Resource ID": "0oa1",
                               "Resource Type": "APPLICATION", "Access Scope ID": "00g1",
                               "Access Scope Type": "GROUP"}),
                    ),
                ],
            ),
            (
                "listRequest",
                Inputs::new()
                    .grouped("parameters", "resultSet", json!("First Matching Record"))
                    .grouped("Search", "Status", json!("Pending"))
                    .grouped("Search", "Access Scope Type", json!("Entitlement Bundle")),
                vec![ok(json!({"data": [request("r1", "PENDING")], "_links": {}}))],
                vec![(
                    "GET",
                    "/governance/api/v2/requests?filter=status%20eq%20%22PENDING%22%20and%20requested.accessScopeType%20eq%20%22ENTITLEMENT_BUNDLE%22&limit=1",
                )],
                vec![("Request", "ID", json!("r1"))],
            ),
            (
                "listRequest",
                Inputs::new()
                    .grouped("parameters", "resultSet", json!("First 200 Matching Records"))
                    .grouped("Search", "User Requested For", json!("00u2")),
                vec![
                    ok(json!({"data": [request("r1", "PENDING")], "_links": {"next":
                        {"href": "https://org.example/governance/api/v2/requests?after=r1&limit=200"}}})),
                    ok(json!({"data": [request("r2", "APPROVED")], "_links": {}})),
                ],
                vec![
                    (
                        "GET",
                        "/governance/api/v2/requests?filter=requestedFor.externalId%20eq%20%2200u2%22&limit=200",
                    ),
                    ("GET", "/governance/api/v2/requests?after=r1&limit=200"),
                ],
                vec![(
                    "Result",
                    "Requests",
                    json!([
                        oig::request_item(&request("r1", "PENDING")),
                        oig::request_item(&request("r2", "APPROVED"))
                    ]),
                )],
            ),
        ],
    );
}

#[test]
fn inputs_that_cannot_make_a_call_are_card_errors() {
    let cases = [
        (
            "okta",
            "hTTPRequest",
            Inputs::new().grouped("Request", "Relative URL", json!("api/v1/users")),
            "must start with a single /",
        ),
        (
            "okta",
            "hTTPRequest",
            Inputs::new().grouped("Request", "Relative URL", json!("//evil.example/x")),
            "must start with a single /",
        ),
        (
            "okta",
            "hTTPRequest",
            Inputs::new()
                .grouped("parameters", "requestType", json!("TRACE"))
                .grouped("Request", "Relative URL", json!("/api/v1/users")),
            "not one of",
        ),
        ("okta", "readUser", Inputs::new(), "User.ID or Login"),
        (
            "okta",
            "updateUser",
            Inputs::new().grouped("User", "ID", json!("00u1")).grouped(
                "parameters",
                "updateSemantics",
                json!("PATCH"),
            ),
            "updateSemantics",
        ),
        ("okta", "addNewUserToGroup", Inputs::new(), "Group.id"),
        ("oig", "createRequest", Inputs::new(), "Catalog Entry ID"),
    ];
    for (connector, action, inputs, fragment) in cases {
        let card = find(connector, action).unwrap();
        let e = (card.start)(&inputs).unwrap_err().to_string();
        assert!(e.contains(fragment), "{connector}:{action}: {e}");
    }
}

#[test]
fn non_2xx_replies_are_card_errors_that_keep_their_status() {
    let call = HttpCall::new("GET", "/api/v1/users/x?y=1");
    let cases = [
        (
            HttpReply::new(
                404,
                vec![],
                &json!({"errorCode": "E0000007", "errorSummary": "Not found: Resource not found: x (User)", "errorCauses": []}).to_string(),
            ),
            Some(404),
            "GET /api/v1/users/x answered 404: Not found: Resource not found: x (User)",
        ),
        (
            HttpReply::new(
                400,
                vec![],
                &json!({"errorSummary": "Api validation failed: profile", "errorCauses": [{"errorSummary": "login: required"}]}).to_string(),
            ),
            Some(400),
            "Api validation failed: profile (login: required)",
        ),
        (
            HttpReply::new(429, vec![], ""),
            Some(429),
            "GET /api/v1/users/x answered 429",
        ),
        (
            HttpReply::new(503, vec![], "<html>down</html>"),
            Some(503),
            "answered 503: <html>down</html>",
        ),
    ];
    for (reply, status, fragment) in cases {
        let e = http_error(&call, &reply).unwrap();
        assert_eq!(e.status, status);
        assert!(e.message.contains(fragment), "{}", e.message);
        assert!(e.diagnosis.is_none());
    }
    assert!(http_error(&call, &HttpReply::new(204, vec![], "")).is_none());
}

#[test]
fn every_card_declares_its_scope_and_is_found_by_key() {
    for card in all() {
        assert_eq!(by_key(&card.key()).map(|c| c.action), Some(card.action));
        match card.scope {
            CardScope::Declared(s) => assert!(s.starts_with("okta."), "{s}"),
            CardScope::FromRequest => assert!(
                ["hTTPRequest", "customApiAction"].contains(&card.action),
                "{}",
                card.action
            ),
        }
    }
    assert!(placeholders_as_params("/a/{{{x-1}}}/b/{{{y}}}") == "/a/{x-1}/b/{y}");
}

#[test]
fn streaming_to_a_helper_flow_is_refused_at_import_with_the_reason() {
    const SEED: &str = include_str!("../../tests/fixtures/seed_request_lookup.flopack");
    let mut registry = crate::CardRegistry::standard();
    for card in all() {
        registry.connector(card.connector, card.action);
    }
    let report = crate::import::import_with(SEED.as_bytes(), &registry)
        .unwrap()
        .report;
    assert_eq!(report.unsupported().count(), 0, "{report:?}");

    let streaming = SEED.replacen("\"data\": \"GET\"", "\"data\": \"GET(Streaming)\"", 1);
    assert_ne!(streaming, SEED);
    let report = crate::import::import_with(streaming.as_bytes(), &registry)
        .unwrap()
        .report;
    let refused: Vec<_> = report.unsupported().collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].1.card, "okta:hTTPRequest");
    assert!(
        refused[0].1.reasons[0].contains("streaming records to a helper flow is not supported"),
        "{:?}",
        refused[0].1.reasons
    );
}

#[test]
fn stream_matching_records_hands_each_record_to_the_helper_flow() {
    let card = find("oig", "listRequest").unwrap();
    let inputs = Inputs::new()
        .grouped("parameters", "resultSet", json!("Stream Matching Records"))
        .grouped("Search", "Status", json!("Pending"))
        .grouped("Streaming", "Flow", json!("helper-flow-id"))
        .grouped("Streaming", "Record Limit", json!(2))
        .grouped("Streaming", "State", json!({"ticket": "T-1"}));
    let call = (card.start)(&inputs).unwrap();
    assert!(call.url().ends_with("limit=200"), "{}", call.url());
    let mut acc = Vec::new();
    let reply = ok(
        json!({"data": [request("r1", "PENDING"), request("r2", "PENDING"),
                                   request("r3", "PENDING")], "_links": {}}),
    );
    match (card.reply)(&inputs, &mut acc, reply).unwrap() {
        Next::Stream {
            helper,
            records,
            state,
            outputs,
        } => {
            assert_eq!(helper, "helper-flow-id");
            assert_eq!(records.len(), 2, "the record limit holds");
            assert_eq!(records[0]["id"], "r1");
            assert_eq!(state, json!({"ticket": "T-1"}));
            assert_eq!(
                outputs.get_in(Some("Result"), "Records Streamed"),
                Some(&json!(2))
            );
        }
        other => panic!("not a stream: {other:?}"),
    }
    // Without a helper flow the card cannot stream.
    let no_helper =
        Inputs::new().grouped("parameters", "resultSet", json!("Stream Matching Records"));
    let mut acc = Vec::new();
    let reply = ok(json!({"data": [request("r1", "PENDING")], "_links": {}}));
    assert!((card.reply)(&no_helper, &mut acc, reply).is_err());
}
