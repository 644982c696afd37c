//! Who may decide an access request, through real HTTP on SQLite and PostgreSQL (issue 11,
//! items 1, 3 and 7):
//!
//! * whoever requested never decides, whatever kind of principal requested: a user with
//!   ACCESS_REQUESTS_ADMIN calling with their own access token, a service app with the role and
//!   the scopes (client credentials), an SSWS token (acting as its admin); in v1 and v2. The
//!   requester gets an Okta-shaped 403 that says why, nothing changes, and another principal
//!   decides;
//! * a decider is recorded as the principal it is (`UNKNOWN` for a service app, as Okta writes a
//!   client-credentials principal), in `assignees` and `completedBy`;
//! * a request sequence asks for at least one approval; one stored without steps rejects the
//!   requests that reach it instead of granting them.
use crate::common;

use common::{assert_error, Backend, TestOrg, ADMIN_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};
use steward_core::access_requests::conditions::{CompatibleResourceType, RequestSequence};

const V1: &str = "/governance/api/v1";
const V2: &str = "/governance/api/v2";
const PASSWORD: &str = "Sup3r-Secret-Pass";

/// A principal that calls the API: its `Authorization` header, and how a request records it.
#[derive(Clone)]
struct Who {
    what: &'static str,
    authorization: String,
    principal: Value,
}

struct Org {
    org: TestOrg,
    alice: String,
    sam: String,
    engineering: String,
    entry: String,
    request_type: String,
    /// The Super Admin's SSWS token.
    admin: Who,
    /// A user with ACCESS_REQUESTS_ADMIN, with an access token of their own.
    ara: Who,
    /// Two service apps with ACCESS_REQUESTS_ADMIN and the request and task scopes.
    bot_a: Who,
    bot_b: Who,
}

async fn call(
    org: &TestOrg,
    who: &Who,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let r = org
        .raw(
            Some(&who.authorization),
            method,
            path,
            body.map(|b| b.to_string()),
        )
        .await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn user(org: &TestOrg, login: &str) -> String {
    let (s, u) = org
        .post(
            "/api/v1/users?activate=true",
            json!({"profile": {"login": login, "email": login, "firstName": "T", "lastName": "U"},
                   "credentials": {"password": {"value": PASSWORD}}}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    u["id"].as_str().unwrap().to_string()
}

async fn group(org: &TestOrg, name: &str) -> String {
    let (s, g) = org
        .post("/api/v1/groups", json!({"profile": {"name": name}}))
        .await;
    assert_eq!(s, 200, "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn oidc_app(org: &TestOrg, label: &str) -> String {
    let (s, app) = org
        .post(
            "/api/v1/apps",
            json!({"label": label, "signOnMode": "OPENID_CONNECT",
                   "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                   "settings": {"oauthClient": {"application_type": "web", "grant_types": ["authorization_code"],
                                                "redirect_uris": ["https://app.example.com/cb"]}}}),
        )
        .await;
    assert_eq!(s, 200, "{app}");
    app["id"].as_str().unwrap().to_string()
}

/// Creates and activates a condition on `app` that opens Engineering through `sequence`.
async fn condition(org: &TestOrg, app: &str, name: &str, sequence: &str, engineering: &str) {
    let (s, cond) = org
        .post(
            &format!("{V2}/resources/{app}/request-conditions"),
            json!({"name": name, "approvalSequenceId": sequence,
                   "requesterSettings": {"type": "EVERYONE"},
                   "accessScopeSettings": {"type": "GROUPS", "groups": [{"id": engineering}]},
                   "accessDurationSettings": {"type": "ADMIN_FIXED_DURATION", "duration": "P1D"}}),
        )
        .await;
    assert_eq!(s, 201, "{cond}");
    let (s, cond) = org
        .post(
            &format!(
                "{V2}/resources/{app}/request-conditions/{}/activate",
                cond["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{cond}");
}

/// The catalog entry `name` (an access scope) under the app labelled `app`.
async fn entry(org: &TestOrg, app: &str, name: &str) -> String {
    let (s, top) = org
        .get(&format!(
            "{V2}/catalogs/default/entries?filter=not(parent%20pr)"
        ))
        .await;
    assert_eq!(s, 200, "{top}");
    for parent in top["data"].as_array().unwrap() {
        if parent["name"] != app {
            continue;
        }
        let (s, children) = org
            .get(&format!(
                "{V2}/catalogs/default/entries?filter=parent%20eq%20%22{}%22",
                parent["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(s, 200, "{children}");
        if let Some(e) = children["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
        {
            return e["id"].as_str().unwrap().to_string();
        }
    }
    panic!("no catalog entry {app}/{name}: {top}");
}

async fn service_app(org: &TestOrg, label: &str) -> Who {
    let (app_id, client_id) = org.service_app(label).await;
    let scopes = [
        "okta.accessRequests.request.read",
        "okta.accessRequests.request.manage",
        "okta.accessRequests.tasks.read",
        "okta.accessRequests.tasks.manage",
        "okta.governance.accessRequests.read",
        "okta.governance.accessRequests.manage",
    ];
    for scope in scopes {
        org.grant(&app_id, scope).await;
    }
    org.client_role(&client_id, "ACCESS_REQUESTS_ADMIN").await;
    let token = org.client_credentials(&client_id, &scopes.join(" ")).await;
    assert_eq!(token.status, 200, "{}", token.body);
    Who {
        what: "a service app",
        authorization: format!("Bearer {}", token.body["access_token"].as_str().unwrap()),
        principal: json!({"externalId": client_id, "type": "UNKNOWN"}),
    }
}

/// Alice needs Engineering; Sam (in Approvers) is the one approver of the v2 sequence and of the
/// v1 request type; the requesters and deciders are the admin, Ara and the two bots.
async fn setup(backend: Backend) -> Org {
    let org = TestOrg::start(backend).await;
    let alice = user(&org, "alice@example.com").await;
    let sam = user(&org, "sam@example.com").await;
    let ara = user(&org, "ara@example.com").await;
    let (s, b) = org
        .post(
            &format!("/api/v1/users/{ara}/roles"),
            json!({"type": "ACCESS_REQUESTS_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let approvers = group(&org, "Approvers").await;
    let engineering = group(&org, "Engineering").await;
    let (s, _) = org
        .put(
            &format!("/api/v1/groups/{approvers}/users/{sam}"),
            json!({}),
        )
        .await;
    assert_eq!(s, 204);

    // v2: one condition on Portal, one step (any member of Approvers).
    let portal = oidc_app(&org, "Portal").await;
    let (s, seq) = org
        .post(
            &format!("{V2}/request-sequences"),
            json!({"name": "Approvers", "steps": [{"approver": {"type": "GROUP", "id": approvers}}]}),
        )
        .await;
    assert_eq!(s, 201, "{seq}");
    condition(
        &org,
        &portal,
        "Engineering",
        seq["id"].as_str().unwrap(),
        &engineering,
    )
    .await;
    let entry = entry(&org, "Portal", "Engineering").await;

    // v1: a published request type with the same approval.
    let (s, teams) = org.get(&format!("{V1}/teams")).await;
    assert_eq!(s, 200, "{teams}");
    let (s, t) = org
        .post(
            &format!("{V1}/request-types"),
            json!({"name": "Engineering access", "ownerId": teams["data"][0]["id"],
                   "resourceSettings": {"type": "GROUPS", "targetResources": [{"resourceId": engineering}]},
                   "approvalSettings": {"type": "SERIAL", "approvals": [
                       {"approverType": "MEMBER_OF", "approverMemberOf": [approvers]}]}}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let request_type = t["id"].as_str().unwrap().to_string();
    let (s, t) = org
        .post(
            &format!("{V1}/request-types/{request_type}/publish"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{t}");

    // Ara's own access token, from an app she is assigned to that holds the admin scopes.
    let redirect = "https://console.example.com/cb";
    let (console, client_id, secret) = org.web_app("Console", redirect, "TRUSTED").await;
    let scopes = [
        "okta.accessRequests.request.read",
        "okta.accessRequests.request.manage",
        "okta.accessRequests.tasks.read",
        "okta.accessRequests.tasks.manage",
        "okta.governance.accessRequests.read",
        "okta.governance.accessRequests.manage",
    ];
    for scope in scopes {
        org.grant(&console, scope).await;
    }
    org.assign(&console, &ara).await;
    let ara_token = common::oauth::user_token(
        &org,
        &client_id,
        &secret,
        redirect,
        "ara@example.com",
        &format!("openid {}", scopes.join(" ")),
    )
    .await;

    let (s, me) = org.get("/api/v1/users/me").await;
    assert_eq!(s, 200, "{me}");
    let admin = Who {
        what: "an SSWS token",
        authorization: format!("SSWS {ADMIN_TOKEN}"),
        principal: json!({"externalId": me["id"], "type": "OKTA_USER"}),
    };
    let ara = Who {
        what: "a user with ACCESS_REQUESTS_ADMIN",
        authorization: format!("Bearer {ara_token}"),
        principal: json!({"externalId": ara, "type": "OKTA_USER"}),
    };
    let bot_a = service_app(&org, "Bot A").await;
    let bot_b = service_app(&org, "Bot B").await;
    Org {
        org,
        alice,
        sam,
        engineering,
        entry,
        request_type,
        admin,
        ara,
        bot_a,
        bot_b,
    }
}

#[derive(Clone, Copy, Debug)]
enum Version {
    V1,
    V2,
}

/// `requester` raises a request for Alice (v1 or v2) and answers its id.
async fn raise(o: &Org, requester: &Who, version: Version) -> String {
    let org = &o.org;
    match version {
        Version::V2 => {
            let (s, r) = call(
                org,
                requester,
                Method::POST,
                &format!("{V2}/requests"),
                Some(
                    json!({"requested": {"type": "CATALOG_ENTRY", "entryId": o.entry},
                            "requestedFor": {"externalId": o.alice, "type": "OKTA_USER"}}),
                ),
            )
            .await;
            assert_eq!(s, 202, "{}: {r}", requester.what);
            assert_eq!(r["requestedBy"], requester.principal, "{r}");
            r["id"].as_str().unwrap().to_string()
        }
        Version::V1 => {
            let (s, r) = call(
                org,
                requester,
                Method::POST,
                &format!("{V1}/requests"),
                Some(
                    json!({"requestTypeId": o.request_type, "subject": "Engineering, please",
                            "requesterUserIds": [o.alice]}),
                ),
            )
            .await;
            assert_eq!(s, 201, "{}: {r}", requester.what);
            r["id"].as_str().unwrap().to_string()
        }
    }
}

async fn open_task(org: &TestOrg, request_id: &str) -> Value {
    let (s, tasks) = org
        .get(&format!(
            "{V2}/tasks?filter=requestId%20eq%20%22{request_id}%22%20and%20status%20eq%20%22OPEN%22"
        ))
        .await;
    assert_eq!(s, 200, "{tasks}");
    assert_eq!(tasks["data"].as_array().unwrap().len(), 1, "{tasks}");
    tasks["data"][0].clone()
}

async fn resolve(org: &TestOrg, who: &Who, task_id: &str, value: &str) -> (u16, Value) {
    call(
        org,
        who,
        Method::POST,
        &format!("{V2}/tasks/{task_id}/resolve"),
        Some(json!({"value": value})),
    )
    .await
}

async fn is_member(org: &TestOrg, group: &str, user: &str) -> bool {
    let (_, members) = org.get(&format!("/api/v1/groups/{group}/users")).await;
    members.as_array().unwrap().iter().any(|m| m["id"] == user)
}

/// The request's status as its own version shows it.
async fn status(org: &TestOrg, request_id: &str, version: Version) -> Value {
    let path = match version {
        Version::V1 => format!("{V1}/requests/{request_id}"),
        Version::V2 => format!("{V2}/requests/{request_id}"),
    };
    let (s, r) = org.get(&path).await;
    assert_eq!(s, 200, "{r}");
    match version {
        Version::V1 => r["requestStatus"].clone(),
        Version::V2 => r["status"].clone(),
    }
}

/// `requester` raises a request for Alice and may not decide it, either way; `decider` then
/// approves it as an admin override, recorded as the principal it is, and access is granted.
async fn requester_refused_other_decides(o: &Org, requester: &Who, decider: &Who, v: Version) {
    let org = &o.org;
    let case = format!(
        "{v:?}: {} requests, {} decides",
        requester.what, decider.what
    );
    let id = raise(o, requester, v).await;
    let task = open_task(org, &id).await;
    let task_id = task["id"].as_str().unwrap();
    let sam = json!([{"externalId": o.sam, "type": "OKTA_USER"}]);
    assert_eq!(task["assignees"], sam, "{case}");
    for value in ["APPROVED", "DENIED"] {
        let (s, b) = resolve(org, requester, task_id, value).await;
        assert_error(s, &b, 403, "E0000006");
        let why = b["errorCauses"][0]["errorSummary"].as_str().unwrap_or("");
        assert!(
            why.contains("cannot decide their own request"),
            "{case}: {b}"
        );
    }
    // Nothing changed: the task is open with its assignees, the request undecided.
    let (s, after) = org.get(&format!("{V2}/tasks/{task_id}")).await;
    assert_eq!(s, 200, "{after}");
    assert_eq!(after["status"], "OPEN", "{case}: {after}");
    assert_eq!(after["assignees"], sam, "{case}: {after}");
    assert!(after.get("completedBy").is_none(), "{case}: {after}");
    let pending = match v {
        Version::V1 => "OPEN",
        Version::V2 => "PENDING",
    };
    assert_eq!(status(org, &id, v).await, pending, "{case}");
    assert!(!is_member(org, &o.engineering, &o.alice).await, "{case}");

    // Another principal decides, as an override, and is recorded as what it is.
    let (s, done) = resolve(org, decider, task_id, "APPROVED").await;
    assert_eq!(s, 200, "{case}: {done}");
    assert_eq!(done["status"], "COMPLETED", "{case}: {done}");
    assert_eq!(done["completedBy"], decider.principal, "{case}: {done}");
    assert_eq!(
        done["assignees"],
        json!([sam[0], decider.principal]),
        "{case}: {done}"
    );
    let (_, stored) = org.get(&format!("{V2}/tasks/{task_id}")).await;
    assert_eq!(stored["completedBy"], decider.principal, "{case}: {stored}");
    let resolved = match v {
        Version::V1 => "RESOLVED",
        Version::V2 => "APPROVED",
    };
    assert_eq!(status(org, &id, v).await, resolved, "{case}");
    if let Version::V2 = v {
        let (_, r) = org.get(&format!("{V2}/requests/{id}")).await;
        assert_eq!(r["grantStatus"], "GRANTED", "{case}: {r}");
        assert_eq!(
            r["requestApproval"]["decisions"][0]["deciderId"], decider.principal["externalId"],
            "{case}: {r}"
        );
    }
    assert!(is_member(org, &o.engineering, &o.alice).await, "{case}");
    // Next case starts without the access.
    let (s, _) = org
        .delete(&format!(
            "/api/v1/groups/{}/users/{}",
            o.engineering, o.alice
        ))
        .await;
    assert_eq!(s, 204);
}

/// Issue 11 item 1: a service app approved the request it raised (200, APPROVED and GRANTED
/// with the app as every decider). Every kind of requester is now refused, in v1 and v2.
async fn whoever_requested_never_decides(backend: Backend) {
    let o = setup(backend).await;
    for v in [Version::V2, Version::V1] {
        // A service app with the role and scopes: refused; another app decides.
        requester_refused_other_decides(&o, &o.bot_a, &o.bot_b, v).await;
        // A user with ACCESS_REQUESTS_ADMIN and their own token: refused; an SSWS token decides.
        requester_refused_other_decides(&o, &o.ara, &o.admin, v).await;
        // An SSWS token's admin: refused; the user decides.
        requester_refused_other_decides(&o, &o.admin, &o.ara, v).await;
        // Mixed: a user's request decided by a service app, and the other way round.
        requester_refused_other_decides(&o, &o.ara, &o.bot_a, v).await;
        requester_refused_other_decides(&o, &o.bot_b, &o.ara, v).await;
    }
}

/// Issue 11 item 3: an app's override was recorded as `{"type": "OKTA_USER", "externalId":
/// "0oa…"}`. It is recorded as Okta writes a client-credentials principal (`UNKNOWN`), in the
/// task's `assignees` and `completedBy`, and the System Log names the decision.
async fn an_app_decider_is_recorded_as_an_app(backend: Backend) {
    let o = setup(backend).await;
    let org = &o.org;
    let id = raise(&o, &o.admin, Version::V2).await;
    let task = open_task(org, &id).await;
    let task_id = task["id"].as_str().unwrap();
    let (s, done) = resolve(org, &o.bot_a, task_id, "DENIED").await;
    assert_eq!(s, 200, "{done}");
    let client_id = o.bot_a.principal["externalId"].as_str().unwrap();
    assert!(client_id.starts_with("0oa"), "{client_id}");
    let app = json!({"externalId": client_id, "type": "UNKNOWN"});
    assert_eq!(done["completedBy"], app, "{done}");
    assert_eq!(
        done["assignees"],
        json!([{"externalId": o.sam, "type": "OKTA_USER"}, app]),
        "{done}"
    );
    assert!(
        !done.to_string().contains(&format!(
            r#"{{"externalId":"{client_id}","type":"OKTA_USER"}}"#
        )),
        "{done}"
    );
    let (_, r) = org.get(&format!("{V2}/requests/{id}")).await;
    assert_eq!(r["status"], "DENIED", "{r}");
    assert_eq!(r["lastUpdatedBy"], client_id, "{r}");
}

/// Issue 11 item 7: a sequence with `steps: []` was accepted, and a condition using it granted
/// access with no approval. Creating or emptying one is refused (`E0000001`, nothing written);
/// one stored without steps before that rule rejects the request that reaches it.
async fn a_sequence_asks_for_at_least_one_approval(backend: Backend) {
    let o = setup(backend).await;
    let org = &o.org;
    let (_, before) = org.get(&format!("{V2}/request-sequences")).await;
    let count = before["data"].as_array().unwrap().len();
    for body in [
        json!({"name": "Nobody", "steps": []}),
        json!({"name": "Nobody"}),
    ] {
        let (s, b) = org.post(&format!("{V2}/request-sequences"), body).await;
        assert_error(s, &b, 400, "E0000001");
        assert_eq!(
            b["errorCauses"][0]["errorSummary"], "/steps must NOT have fewer than 1 items",
            "{b}"
        );
    }
    let (_, after) = org.get(&format!("{V2}/request-sequences")).await;
    assert_eq!(after["data"].as_array().unwrap().len(), count, "{after}");

    // Emptying the sequence in use is refused, and it keeps its step.
    let seq = before["data"][0].clone();
    let seq_id = seq["id"].as_str().unwrap();
    let (s, b) = org
        .put(
            &format!("{V2}/request-sequences/{seq_id}"),
            json!({"name": "Approvers", "steps": []}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");
    assert_eq!(
        b["errorCauses"][0]["errorSummary"],
        "/steps must NOT have fewer than 1 items"
    );
    let (_, kept) = org.get(&format!("{V2}/request-sequences/{seq_id}")).await;
    assert_eq!(kept["steps"], seq["steps"], "{kept}");
    let (_, logs) = org
        .get("/api/v1/logs?filter=eventType%20eq%20%22access.request.sequence.update%22")
        .await;
    assert_eq!(logs.as_array().unwrap().len(), 0, "{logs}");

    // A sequence stored without steps (as one could be before): a request that reaches it is
    // REJECTED, and nothing is granted.
    let empty = RequestSequence {
        id: "0123456789abcdef01234567".into(),
        name: "Legacy, no steps".into(),
        description: String::new(),
        compatible_resource_types: vec![CompatibleResourceType::App, CompatibleResourceType::Group],
        link: String::new(),
        steps: vec![],
    };
    let mut tx = org.store.begin().await.unwrap();
    tx.access_requests()
        .put_sequence(&empty, steward_core::timefmt::now_millis())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let legacy = oidc_app(org, "Legacy").await;
    condition(org, &legacy, "Legacy", &empty.id, &o.engineering).await;
    let entry = entry(org, "Legacy", "Engineering").await;
    let (s, r) = org
        .post(
            &format!("{V2}/requests"),
            json!({"requested": {"type": "CATALOG_ENTRY", "entryId": entry},
                   "requestedFor": {"externalId": o.alice, "type": "OKTA_USER"}}),
        )
        .await;
    assert_eq!(s, 202, "{r}");
    let (_, r) = org
        .get(&format!("{V2}/requests/{}", r["id"].as_str().unwrap()))
        .await;
    assert_eq!(r["status"], "REJECTED", "{r}");
    assert!(r.get("grantStatus").is_none(), "{r}");
    assert!(!is_member(org, &o.engineering, &o.alice).await);
}

on_both_backends!(
    whoever_requested_never_decides,
    an_app_decider_is_recorded_as_an_app,
    a_sequence_asks_for_at_least_one_approval,
);
