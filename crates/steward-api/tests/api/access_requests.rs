//! Access Requests through real HTTP, on SQLite and PostgreSQL: two-step serial approval that
//! grants a group membership, a denial that ends the request, time-bound access revoked by the
//! scheduler at expiry, an undecided request that expires, a restart in the middle, and the
//! guard's scope and role denials. Time is driven through the server's clock, never slept.
use crate::common;

use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};
use steward_api::governance::run_due;

const V2: &str = "/governance/api/v2";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

pub(crate) struct Setup {
    pub(crate) alice: String,
    manager_token: String,
    security_token: String,
    alice_token: String,
    engineering: String,
    app: String,
    entry: String,
}

async fn user_with(org: &TestOrg, login: &str, manager: Option<&str>) -> String {
    let mut profile = json!({"login": login, "email": login, "firstName": "T", "lastName": login.split('@').next().unwrap()});
    if let Some(m) = manager {
        profile["managerId"] = json!(m);
    }
    let (s, u) = org
        .post(
            "/api/v1/users?activate=true",
            json!({"profile": profile, "credentials": {"password": {"value": "Sup3r-Secret-Pass"}}}),
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

async fn role(org: &TestOrg, user: &str, role: &str) {
    let (s, b) = org
        .post(
            &format!("/api/v1/users/{user}/roles"),
            json!({"type": role}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// Alice (requester) reports to Manager; Sam is in Security; the condition opens Engineering
/// membership for `duration` through "manager, then Security".
pub(crate) async fn setup(org: &TestOrg, duration: &str) -> Setup {
    org.state.clock.set(1_800_000_000_000);
    let manager = user_with(org, "manager@example.com", None).await;
    let alice = user_with(org, "alice@example.com", Some(&manager)).await;
    let sam = user_with(org, "sam@example.com", None).await;
    let security = group(org, "Security").await;
    let engineering = group(org, "Engineering").await;
    assert_eq!(
        org.put(&format!("/api/v1/groups/{security}/users/{sam}"), json!({}))
            .await
            .0,
        204
    );
    for u in [&manager, &sam, &alice] {
        role(org, u, "ACCESS_REQUESTS_ADMIN").await;
    }
    let (s, app) = org
        .post(
            "/api/v1/apps",
            json!({"label": "Portal", "signOnMode": "OPENID_CONNECT",
                   "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                   "settings": {"oauthClient": {"application_type": "web", "grant_types": ["authorization_code"],
                                                "redirect_uris": ["https://app.example.com/cb"]}}}),
        )
        .await;
    assert_eq!(s, 200, "{app}");
    let app = app["id"].as_str().unwrap().to_string();

    let (s, seq) = org
        .post(
            &format!("{V2}/request-sequences"),
            json!({"name": "Manager, then Security", "steps": [
                {"approver": {"type": "REQUESTER_MANAGER"}},
                {"approver": {"type": "GROUP", "id": security}, "label": "Security approval"}]}),
        )
        .await;
    assert_eq!(s, 201, "{seq}");
    let (s, cond) = org
        .post(
            &format!("{V2}/resources/{app}/request-conditions"),
            json!({"name": "Engineering", "approvalSequenceId": seq["id"],
                   "requesterSettings": {"type": "EVERYONE"},
                   "accessScopeSettings": {"type": "GROUPS", "groups": [{"id": engineering}]},
                   "accessDurationSettings": {"type": "ADMIN_FIXED_DURATION", "duration": duration}}),
        )
        .await;
    assert_eq!(s, 201, "{cond}");
    assert_eq!(cond["status"], "INACTIVE");
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
    assert_eq!(cond["status"], "ACTIVE");

    let (s, top) = org
        .get(&format!(
            "{V2}/catalogs/default/entries?filter=not(parent%20pr)"
        ))
        .await;
    assert_eq!(s, 200, "{top}");
    let parent = top["data"][0]["id"].as_str().unwrap().to_string();
    let (s, children) = org
        .get(&format!(
            "{V2}/catalogs/default/entries?filter=parent%20eq%20%22{parent}%22"
        ))
        .await;
    assert_eq!(s, 200, "{children}");
    assert_eq!(children["data"][0]["name"], "Engineering");
    let entry = children["data"][0]["id"].as_str().unwrap().to_string();
    Setup {
        manager_token: org.token_for("manager@example.com").await,
        security_token: org.token_for("sam@example.com").await,
        alice_token: org.token_for("alice@example.com").await,
        alice,
        engineering,
        app,
        entry,
    }
}

pub(crate) async fn create_request(org: &TestOrg, s: &Setup) -> String {
    let (status, r) = org
        .post(
            &format!("{V2}/requests"),
            json!({"requested": {"type": "CATALOG_ENTRY", "entryId": s.entry},
                   "requestedFor": {"externalId": s.alice, "type": "OKTA_USER"}}),
        )
        .await;
    assert_eq!(status, 202, "{r}");
    assert_eq!(r["status"], "SUBMITTED");
    r["id"].as_str().unwrap().to_string()
}

async fn request(org: &TestOrg, id: &str) -> Value {
    let (s, r) = org.get(&format!("{V2}/requests/{id}")).await;
    assert_eq!(s, 200, "{r}");
    r
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

async fn resolve(org: &TestOrg, token: &str, task: &Value, value: &str) -> (u16, Value) {
    org.send_as(
        token,
        Method::POST,
        &format!("{V2}/tasks/{}/resolve", task["id"].as_str().unwrap()),
        Some(json!({"value": value})),
    )
    .await
}

async fn is_member(org: &TestOrg, group: &str, user: &str) -> bool {
    let (_, members) = org.get(&format!("/api/v1/groups/{group}/users")).await;
    members.as_array().unwrap().iter().any(|m| m["id"] == user)
}

async fn log_types(org: &TestOrg) -> Vec<String> {
    let (_, events) = org.get("/api/v1/logs?limit=1000").await;
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap().to_string())
        .collect()
}

async fn two_serial_approvals_grant_and_the_scheduler_revokes_at_expiry(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let mut bus = org.state.events.subscribe();
    let s = setup(&org, "PT2H").await;
    let id = create_request(&org, &s).await;
    let r = request(&org, &id).await;
    assert_eq!(r["status"], "PENDING", "{backend:?}");

    // Step 1: the manager. The requester may not decide, nor may Security yet.
    let task = open_task(&org, &id).await;
    assert_eq!(task["assignees"].as_array().unwrap().len(), 1, "{task}");
    assert_ne!(task["assignees"][0]["externalId"], s.alice.as_str());
    let (st, b) = resolve(&org, &s.alice_token, &task, "APPROVED").await;
    assert_error(st, &b, 403, "E0000006");
    let (st, b) = resolve(&org, &s.manager_token, &task, "APPROVED").await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["status"], "COMPLETED");
    assert_eq!(request(&org, &id).await["status"], "PENDING");
    assert!(!is_member(&org, &s.engineering, &s.alice).await);

    // Step 2: Security.
    let task = open_task(&org, &id).await;
    assert_eq!(task["label"], "Security approval");
    let (st, b) = resolve(&org, &s.security_token, &task, "APPROVED").await;
    assert_eq!(st, 200, "{b}");
    let r = request(&org, &id).await;
    assert_eq!(r["status"], "APPROVED");
    assert_eq!(r["grantStatus"], "GRANTED");
    assert!(r["revocationScheduled"].is_string(), "{r}");
    assert!(is_member(&org, &s.engineering, &s.alice).await);

    // Not yet due; then due.
    org.state.clock.advance(2 * HOUR - 1);
    assert_eq!(
        run_due(&org.state, org.state.clock.now())
            .await
            .unwrap()
            .revoked,
        0
    );
    org.state.clock.advance(1);
    let pass = run_due(&org.state, org.state.clock.now()).await.unwrap();
    assert_eq!(pass.revoked, 1);
    assert_eq!(
        run_due(&org.state, org.state.clock.now())
            .await
            .unwrap()
            .revoked,
        0,
        "once"
    );
    let r = request(&org, &id).await;
    assert_eq!(r["revocationStatus"], "REVOKED");
    assert!(!is_member(&org, &s.engineering, &s.alice).await);

    let types = log_types(&org).await;
    for t in [
        "access.request.create",
        "access.request.task.resolve",
        "access.request.resolve",
        "access.request.grant",
        "group.user_membership.add",
        "access.request.revoke",
        "group.user_membership.remove",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} missing from {types:?}");
    }
    let mut seen = vec![];
    while let Ok(e) = bus.try_recv() {
        seen.push(e.event_type);
    }
    assert!(
        seen.contains(&"access.request.grant".to_string()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"access.request.revoke".to_string()),
        "{seen:?}"
    );
    // The same changes as domain events in the outbox, in the order they were written.
    let outbox: Vec<String> = org
        .store
        .outbox_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.event_type)
        .filter(|t| t.starts_with("access_request.") || t.starts_with("group.membership_"))
        .collect();
    let alice_joins_engineering = outbox
        .iter()
        .position(|t| t == "access_request.created")
        .map(|at| &outbox[at..]);
    assert_eq!(
        alice_joins_engineering,
        Some(
            &[
                "access_request.created",
                "group.membership_added",
                "access_request.decided",
                "access_request.fulfilled",
                "group.membership_removed",
                "access_request.access_revoked",
            ]
            .map(String::from)[..]
        ),
        "{outbox:?}"
    );
}

async fn a_denial_ends_the_serial_sequence(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let id = create_request(&org, &s).await;
    let task = open_task(&org, &id).await;
    let (st, b) = resolve(&org, &s.manager_token, &task, "DENIED").await;
    assert_eq!(st, 200, "{b}");
    let r = request(&org, &id).await;
    assert_eq!(r["status"], "DENIED", "{backend:?}");
    assert!(r.get("grantStatus").is_none());
    let (_, tasks) = org
        .get(&format!("{V2}/tasks?filter=requestId%20eq%20%22{id}%22"))
        .await;
    assert_eq!(
        tasks["data"].as_array().unwrap().len(),
        1,
        "step 2 never opens"
    );
    let (st, b) = resolve(&org, &s.security_token, &task, "APPROVED").await;
    assert_error(st, &b, 400, "E0000002");
    assert!(!is_member(&org, &s.engineering, &s.alice).await);
    let (_, list) = org
        .get(&format!("{V2}/requests?filter=status%20eq%20%22DENIED%22"))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (_, list) = org
        .get(&format!("{V2}/requests?filter=status%20eq%20%22PENDING%22"))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

async fn an_undecided_request_expires_and_a_restart_loses_nothing(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let expiring = create_request(&org, &s).await;
    let surviving = create_request(&org, &s).await;
    let task = open_task(&org, &surviving).await;
    assert_eq!(
        resolve(&org, &s.manager_token, &task, "APPROVED").await.0,
        200
    );

    // Restart: a new server on the same store, with the clock where it was.
    let now = org.state.clock.now();
    let store = org.store.clone();
    drop(org);
    let org = TestOrg::start_on(backend, store).await;
    org.state.clock.set(now);
    let r = request(&org, &surviving).await;
    assert_eq!(r["status"], "PENDING", "{backend:?}");
    let task = open_task(&org, &surviving).await;
    assert_eq!(task["label"], "Security approval");
    assert_eq!(
        resolve(&org, &s.security_token, &task, "APPROVED").await.0,
        200
    );
    assert!(is_member(&org, &s.engineering, &s.alice).await);

    org.state.clock.advance(7 * DAY);
    let pass = run_due(&org.state, org.state.clock.now()).await.unwrap();
    assert_eq!(pass.expired, 1);
    let r = request(&org, &expiring).await;
    assert_eq!(r["status"], "EXPIRED");
    assert!(log_types(&org)
        .await
        .iter()
        .any(|t| t == "access.request.expire"));
    // The granted one (1 day) is revoked on the same pass or the next.
    run_due(&org.state, org.state.clock.now()).await.unwrap();
    assert_eq!(
        request(&org, &surviving).await["revocationStatus"],
        "REVOKED"
    );
    let _ = &s.app;
}

#[tokio::test]
async fn guard_denials_both_ways() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let s = setup(&org, "P1D").await;
    // A user without an access-requests role: 403 on admin routes.
    user_with(&org, "nobody@example.com", None).await;
    let nobody = org.token_for("nobody@example.com").await;
    let (st, b) = org
        .send_as(&nobody, Method::GET, &format!("{V2}/requests"), None)
        .await;
    assert_error(st, &b, 403, "E0000006");
    let (st, b) = org
        .send_as(
            &nobody,
            Method::GET,
            "/governance/api/v1/request-types",
            None,
        )
        .await;
    assert_error(st, &b, 403, "E0000006");
    // SSWS tokens are refused on `my` routes.
    let (st, b) = org.get(&format!("{V2}/my/tasks")).await;
    assert_error(st, &b, 401, "E0000011");
    // The access-requests admin role is enough.
    let (st, _) = org
        .send_as(
            &s.manager_token,
            Method::GET,
            &format!("{V2}/requests"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    // An unknown request is 404.
    let (st, b) = org
        .get(&format!("{V2}/requests/reqUnknown0000000000"))
        .await;
    assert_error(st, &b, 404, "E0000007");
}

#[tokio::test]
async fn v1_request_types_and_requests() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let s = setup(&org, "P1D").await;
    let (st, teams) = org.get("/governance/api/v1/teams").await;
    assert_eq!(st, 200, "{teams}");
    let team = teams["data"][0]["id"].as_str().unwrap().to_string();
    let (st, t) = org
        .post(
            "/governance/api/v1/request-types",
            json!({"name": "Engineering access", "ownerId": team,
                   "resourceSettings": {"type": "GROUPS", "targetResources": [{"resourceId": s.engineering}]},
                   "approvalSettings": {"type": "SERIAL", "approvals": [{"approverType": "MANAGER"}]}}),
        )
        .await;
    assert_eq!(st, 201, "{t}");
    assert_eq!(t["status"], "DRAFT");
    let tid = t["id"].as_str().unwrap();
    let (st, t) = org
        .post(
            &format!("/governance/api/v1/request-types/{tid}/publish"),
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["status"], "ACTIVE");
    let (st, r) = org
        .send_as(
            &s.alice_token,
            Method::POST,
            "/governance/api/v1/requests",
            Some(json!({"requestTypeId": tid, "subject": "Need Engineering"})),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["requestStatus"], "OPEN");
    let rid = r["id"].as_str().unwrap().to_string();
    let task = open_task(&org, &rid).await;
    assert_eq!(
        resolve(&org, &s.manager_token, &task, "APPROVED").await.0,
        200
    );
    let (st, r) = org.get(&format!("/governance/api/v1/requests/{rid}")).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["requestStatus"], "RESOLVED", "{r}");
    assert!(is_member(&org, &s.engineering, &s.alice).await);
    let (st, list) = org
        .get("/governance/api/v1/requests?filter=requestStatus%20eq%20%22RESOLVED%22")
        .await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (st, _) = org
        .post(
            &format!("/governance/api/v1/requests/{rid}/messages"),
            json!({"message": "done"}),
        )
        .await;
    assert_eq!(st, 201);
}

/// The end-user flow with real user access tokens: Alice finds the entry in her catalog and
/// requests it; her manager and then Security approve from their own task lists.
async fn end_users_request_and_approve_with_their_own_tokens(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P30D").await;
    let redirect = "https://portal.example.com/cb";
    let (portal, client_id, secret) = org.web_app("Access Requests", redirect, "TRUSTED").await;
    for scope in [
        "okta.accessRequests.catalog.read",
        "okta.accessRequests.request.read",
        "okta.accessRequests.request.manage",
        "okta.accessRequests.tasks.read",
        "okta.accessRequests.tasks.manage",
    ] {
        org.grant(&portal, scope).await;
    }
    let (_, everyone) = org
        .get("/api/v1/groups?filter=type%20eq%20%22BUILT_IN%22")
        .await;
    let (st, _) = org
        .put(
            &format!(
                "/api/v1/apps/{portal}/groups/{}",
                everyone[0]["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(st, 200);
    let scope = "openid okta.accessRequests.catalog.read okta.accessRequests.request.read okta.accessRequests.request.manage okta.accessRequests.tasks.read okta.accessRequests.tasks.manage";
    let alice = common::oauth::user_token(
        &org,
        &client_id,
        &secret,
        redirect,
        "alice@example.com",
        scope,
    )
    .await;
    let manager = common::oauth::user_token(
        &org,
        &client_id,
        &secret,
        redirect,
        "manager@example.com",
        scope,
    )
    .await;
    let sam = common::oauth::user_token(
        &org,
        &client_id,
        &secret,
        redirect,
        "sam@example.com",
        scope,
    )
    .await;

    // Alice's catalog shows the entry; she requests it for herself.
    let top = org
        .bearer(
            &alice,
            Method::GET,
            &format!("{V2}/my/catalogs/default/entries?filter=not(parent%20pr)"),
        )
        .await;
    assert_eq!(top.status, 200, "{backend:?} {}", top.body);
    let created = org
        .http
        .post(format!(
            "{}{V2}/my/catalogs/default/entries/{}/requests",
            org.base, s.entry
        ))
        .bearer_auth(&alice)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 202);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["requestedFor"]["externalId"], s.alice.as_str());
    let id = created["id"].as_str().unwrap().to_string();
    let mine = org
        .bearer(
            &alice,
            Method::GET,
            &format!("{V2}/my/catalogs/default/entries/{}/requests/{id}", s.entry),
        )
        .await;
    assert_eq!(
        (mine.status, mine.body["status"].as_str()),
        (200, Some("PENDING")),
        "{}",
        mine.body
    );

    // Alice has nothing to approve; her manager has the first task.
    let alice_tasks = org
        .bearer(&alice, Method::GET, &format!("{V2}/my/tasks"))
        .await;
    assert_eq!(
        alice_tasks.body["data"].as_array().unwrap().len(),
        0,
        "{}",
        alice_tasks.body
    );
    let tasks = org
        .bearer(
            &manager,
            Method::GET,
            &format!("{V2}/my/tasks?filter=status%20eq%20%22OPEN%22"),
        )
        .await;
    assert_eq!(tasks.status, 200, "{}", tasks.body);
    let task = tasks.body["data"][0]["id"].as_str().unwrap().to_string();
    // A `my` task links only to what its reader may follow: no admin request route.
    let links = &tasks.body["data"][0]["_links"];
    assert!(
        links["self"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{V2}/my/tasks/{task}")),
        "{links}"
    );
    assert!(links.get("request").is_none(), "{links}");
    let one = org
        .bearer(&manager, Method::GET, &format!("{V2}/my/tasks/{task}"))
        .await;
    assert!(one.body["_links"].get("request").is_none(), "{}", one.body);
    let refused = org
        .http
        .post(format!("{}{V2}/my/tasks/{task}/resolve", org.base))
        .bearer_auth(&alice)
        .json(&json!({"value": "APPROVED"}))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(refused.status().as_u16(), 403 | 404),
        "the requester cannot approve: {}",
        refused.status()
    );
    let approved = org
        .http
        .post(format!("{}{V2}/my/tasks/{task}/resolve", org.base))
        .bearer_auth(&manager)
        .json(&json!({"value": "APPROVED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 200);
    // Then Security (Sam) approves the second step and the membership is granted.
    let tasks = org
        .bearer(
            &sam,
            Method::GET,
            &format!("{V2}/my/tasks?filter=status%20eq%20%22OPEN%22"),
        )
        .await;
    let task = tasks.body["data"][0]["id"].as_str().unwrap().to_string();
    let approved = org
        .http
        .post(format!("{}{V2}/my/tasks/{task}/resolve", org.base))
        .bearer_auth(&sam)
        .json(&json!({"value": "APPROVED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 200);
    assert!(
        is_member(&org, &s.engineering, &s.alice).await,
        "{backend:?}"
    );
    let done = request(&org, &id).await;
    assert_eq!(
        (done["status"].as_str(), done["grantStatus"].as_str()),
        (Some("APPROVED"), Some("GRANTED"))
    );

    // A user token without the scope gets the challenge; SSWS cannot use `my` routes.
    let narrow = common::oauth::user_token(
        &org,
        &client_id,
        &secret,
        redirect,
        "alice@example.com",
        "openid okta.accessRequests.catalog.read",
    )
    .await;
    let r = org
        .bearer(&narrow, Method::GET, &format!("{V2}/my/tasks"))
        .await;
    assert_eq!(r.status, 403);
    assert!(r.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"okta.accessRequests.tasks.read\""));
    let (st, _) = org
        .send_as(&s.alice_token, Method::GET, &format!("{V2}/my/tasks"), None)
        .await;
    assert_eq!(st, 401);
}

const V1: &str = "/governance/api/v1";

/// A published v1 request type: `resource_settings`, approved by the requester's manager,
/// `extra` merged into the body (accessDuration, requestSettings).
async fn v1_type(org: &TestOrg, name: &str, resource_settings: Value, extra: Value) -> String {
    let (st, teams) = org.get(&format!("{V1}/teams")).await;
    assert_eq!(st, 200, "{teams}");
    let mut body = json!({"name": name, "ownerId": teams["data"][0]["id"],
        "resourceSettings": resource_settings,
        "approvalSettings": {"type": "SERIAL", "approvals": [{"approverType": "MANAGER"}]}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, t) = org.post(&format!("{V1}/request-types"), body).await;
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_str().unwrap().to_string();
    let (st, t) = org
        .post(&format!("{V1}/request-types/{id}/publish"), json!({}))
        .await;
    assert_eq!(st, 200, "{t}");
    id
}

/// Alice asks for `type_id` (v1) and her manager approves it; returns the request id.
async fn v1_granted(org: &TestOrg, s: &Setup, type_id: &str) -> String {
    let (st, r) = org
        .send_as(
            &s.alice_token,
            Method::POST,
            &format!("{V1}/requests"),
            Some(json!({"requestTypeId": type_id, "subject": "Please"})),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let task = open_task(org, &id).await;
    let (st, b) = resolve(org, &s.manager_token, &task, "APPROVED").await;
    assert_eq!(st, 200, "{b}");
    let (st, r) = org.get(&format!("{V1}/requests/{id}")).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["requestStatus"], "RESOLVED", "{r}");
    id
}

/// After the 7-day decision deadline nobody decides or reassigns: the request expires in that
/// same transaction, the caller gets E0000002, no access is granted, and the scheduler finds
/// nothing left to expire.
async fn a_decision_after_the_deadline_expires_the_request_and_grants_nothing(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let decided = create_request(&org, &s).await;
    let reassigned = create_request(&org, &s).await;
    // The manager approves step 1 in time; Security's step would grant.
    let task = open_task(&org, &decided).await;
    assert_eq!(
        resolve(&org, &s.manager_token, &task, "APPROVED").await.0,
        200
    );
    let last = open_task(&org, &decided).await;
    let other = open_task(&org, &reassigned).await;

    org.state.clock.advance(7 * DAY);
    let (st, b) = resolve(&org, &s.security_token, &last, "APPROVED").await;
    assert_error(st, &b, 400, "E0000002");
    let r = request(&org, &decided).await;
    assert_eq!(r["status"], "EXPIRED", "{backend:?} {r}");
    assert!(r.get("grantStatus").is_none(), "{r}");
    assert!(!is_member(&org, &s.engineering, &s.alice).await);

    let sam = last["assignees"][0]["externalId"].clone();
    let (st, b) = org
        .send(
            Method::PATCH,
            &format!("{V2}/tasks/{}", other["id"].as_str().unwrap()),
            Some(json!({"assignees": [{"externalId": sam, "type": "OKTA_USER"}]})),
        )
        .await;
    assert_error(st, &b, 400, "E0000002");
    assert_eq!(request(&org, &reassigned).await["status"], "EXPIRED");

    let pass = run_due(&org.state, org.state.clock.now()).await.unwrap();
    assert_eq!(pass.expired, 0, "{backend:?}: both already expired");
    let expiries = log_types(&org)
        .await
        .into_iter()
        .filter(|t| t == "access.request.expire")
        .count();
    assert_eq!(expiries, 2);
}

/// `requesterMemberOf` is checked exactly: a member of a group of 201+ whose id sorts last is
/// admitted; a non-member is refused.
async fn v1_requester_member_of_admits_members_of_large_groups(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let big = group(&org, "Everyone at Big").await;
    let mut tx = org.store.begin().await.unwrap();
    let now = org.state.clock.now();
    for i in 0..210 {
        let mut profile = serde_json::Map::new();
        for (k, v) in [
            ("login", format!("filler{i}@example.com")),
            ("email", format!("filler{i}@example.com")),
            ("firstName", "F".to_string()),
            ("lastName", format!("Filler{i}")),
        ] {
            profile.insert(k.into(), json!(v));
        }
        let id = format!("00u00000000000{i:06}");
        assert!(id < s.alice);
        tx.insert_user(&steward_core::directory::User {
            id: id.clone(),
            status: steward_core::directory::UserStatus::Active,
            created: now,
            activated: Some(now),
            status_changed: Some(now),
            last_login: None,
            last_updated: now,
            password_changed: None,
            profile,
            password_hash: None,
        })
        .await
        .unwrap();
        tx.add_member(&big, &id, now).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        org.put(
            &format!("/api/v1/groups/{big}/users/{}", s.alice),
            json!({})
        )
        .await
        .0,
        204
    );
    let tid = v1_type(
        &org,
        "Members of Big",
        json!({"type": "GROUPS", "targetResources": [{"resourceId": s.engineering}]}),
        json!({"requestSettings": {"type": "MEMBER_OF", "requesterMemberOf": [big]}}),
    )
    .await;
    let (st, r) = org
        .send_as(
            &s.alice_token,
            Method::POST,
            &format!("{V1}/requests"),
            Some(json!({"requestTypeId": tid, "subject": "Member"})),
        )
        .await;
    assert_eq!(st, 201, "{backend:?} {r}");
    // The manager is no member of Big.
    let (st, b) = org
        .send_as(
            &s.manager_token,
            Method::POST,
            &format!("{V1}/requests"),
            Some(json!({"requestTypeId": tid, "subject": "Outsider"})),
        )
        .await;
    assert_error(st, &b, 403, "E0000006");
}

/// An app assignment the user already had (with its profile) is neither replaced by the grant
/// nor removed at the grant's expiry.
async fn granting_an_app_keeps_an_existing_assignment_through_grant_and_expiry(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let (st, b) = org
        .post(
            &format!("/api/v1/apps/{}/users", s.app),
            json!({"id": s.alice, "profile": {"nickName": "Ali"}}),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let path = format!("/api/v1/apps/{}/users/{}", s.app, s.alice);
    let (st, before) = org.get(&path).await;
    assert_eq!(st, 200, "{before}");
    assert_eq!(before["profile"]["nickName"], "Ali");
    let tid = v1_type(
        &org,
        "Portal access",
        json!({"type": "APPS", "targetResources": [{"resourceId": s.app}]}),
        json!({"accessDuration": "PT2H"}),
    )
    .await;
    org.state.clock.advance(HOUR);
    v1_granted(&org, &s, &tid).await;
    let (st, granted) = org.get(&path).await;
    assert_eq!(st, 200, "{granted}");
    assert_eq!(granted, before, "{backend:?}: the grant changed nothing");

    org.state.clock.advance(2 * HOUR);
    let pass = run_due(&org.state, org.state.clock.now()).await.unwrap();
    assert_eq!(pass.revoked, 1);
    let (st, after) = org.get(&path).await;
    assert_eq!(st, 200, "{backend:?}: expiry kept the assignment {after}");
    assert_eq!(after, before);
}

/// Two overlapping time-bound grants of one membership: the first's expiry keeps it (the
/// second still holds it), the second's removes it.
async fn overlapping_grants_keep_the_membership_until_the_last_expires(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let tid = v1_type(
        &org,
        "Engineering for 2h",
        json!({"type": "GROUPS", "targetResources": [{"resourceId": s.engineering}]}),
        json!({"accessDuration": "PT2H"}),
    )
    .await;
    v1_granted(&org, &s, &tid).await;
    assert!(is_member(&org, &s.engineering, &s.alice).await);
    org.state.clock.advance(HOUR);
    v1_granted(&org, &s, &tid).await;

    org.state.clock.advance(HOUR);
    let pass = run_due(&org.state, org.state.clock.now()).await.unwrap();
    assert_eq!(pass.revoked, 1);
    assert!(
        is_member(&org, &s.engineering, &s.alice).await,
        "{backend:?}: the second request still holds it"
    );
    org.state.clock.advance(HOUR);
    let pass = run_due(&org.state, org.state.clock.now()).await.unwrap();
    assert_eq!(pass.revoked, 1);
    assert!(!is_member(&org, &s.engineering, &s.alice).await);
}

/// Ten v1 requests created at once get ten distinct permalinks.
async fn concurrent_v1_creates_get_distinct_permalinks(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let tid = v1_type(
        &org,
        "Engineering",
        json!({"type": "GROUPS", "targetResources": [{"resourceId": s.engineering}]}),
        json!({}),
    )
    .await;
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..10 {
        let request = org
            .http
            .post(format!("{}{V1}/requests", org.base))
            .header("Authorization", format!("SSWS {}", org.token))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(
                json!({"requestTypeId": tid, "subject": format!("Request {i}"),
                       "requesterUserIds": [s.alice]})
                .to_string(),
            );
        creates.spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        });
    }
    let mut permalinks = vec![];
    while let Some(done) = creates.join_next().await {
        let (status, r) = done.unwrap();
        assert_eq!(status, 201, "{backend:?} {r}");
        permalinks.push(r["permalinkId"].as_i64().unwrap());
    }
    permalinks.sort();
    permalinks.dedup();
    assert_eq!(permalinks.len(), 10, "{backend:?} {permalinks:?}");
}

/// The v2 messages endpoint knows only v2 requests, and holds messages to 5000 characters.
async fn v2_messages_refuse_v1_requests_and_overlong_messages(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let tid = v1_type(
        &org,
        "Engineering",
        json!({"type": "GROUPS", "targetResources": [{"resourceId": s.engineering}]}),
        json!({}),
    )
    .await;
    let v1 = v1_granted(&org, &s, &tid).await;
    let (st, b) = org.get(&format!("{V2}/requests/{v1}")).await;
    assert_error(st, &b, 404, "E0000007");
    let (st, b) = org
        .post(
            &format!("{V2}/requests/{v1}/messages"),
            json!({"message": "hello"}),
        )
        .await;
    assert_error(st, &b, 404, "E0000007");

    let v2 = create_request(&org, &s).await;
    let (st, b) = org
        .post(
            &format!("{V2}/requests/{v2}/messages"),
            json!({"message": "x".repeat(5001)}),
        )
        .await;
    assert_error(st, &b, 400, "E0000001");
    assert!(
        b["errorCauses"][0]["errorSummary"]
            .as_str()
            .unwrap_or_default()
            .contains("5000"),
        "{b}"
    );
    let (st, b) = org
        .post(
            &format!("{V2}/requests/{v2}/messages"),
            json!({"message": "x".repeat(5000)}),
        )
        .await;
    assert_eq!(st, 201, "{backend:?} {b}");
    let messages = org
        .store
        .access_requests()
        .messages(&v2)
        .await
        .unwrap()
        .len();
    assert_eq!(messages, 1, "the refused message wrote nothing");
}

/// A due request whose stored row no longer decodes does not stop the scheduler: it is reported
/// as failed and stays due (for a later retry), while the other due requests, handled after it
/// (it is the oldest due), are still expired and revoked.
async fn an_undecodable_request_does_not_stop_the_scheduler(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let s = setup(&org, "P1D").await;
    let expiring = create_request(&org, &s).await;
    let granted = create_request(&org, &s).await;
    let task = open_task(&org, &granted).await;
    assert_eq!(
        resolve(&org, &s.manager_token, &task, "APPROVED").await.0,
        200
    );
    let task = open_task(&org, &granted).await;
    assert_eq!(
        resolve(&org, &s.security_token, &task, "APPROVED").await.0,
        200
    );
    assert!(is_member(&org, &s.engineering, &s.alice).await);

    // The bad one: due first of all, with a creation date its stored JSON cannot carry (a
    // year before 0 is written, but is no RFC 3339 date-time, so the row fails to decode).
    let bad = create_request(&org, &s).await;
    let mut stored = org.store.access_requests().request(&bad).await.unwrap();
    stored.workflow.request.created = -100_000_000_000_000;
    stored.due_at = Some(1);
    let mut tx = org.store.begin().await.unwrap();
    tx.access_requests()
        .put_request(&stored, None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        matches!(
            org.store.access_requests().request(&bad).await,
            Err(steward_store::StoreError::Corrupt(_))
        ),
        "{backend:?}: the row must be undecodable for this test"
    );

    org.state.clock.advance(7 * DAY);
    let now = org.state.clock.now();
    let first = run_due(&org.state, now).await.unwrap();
    assert_eq!(first.expired, 1, "{backend:?}: {first:?}");
    assert_eq!(first.failed, 1, "{backend:?}: {first:?}");
    assert_eq!(request(&org, &expiring).await["status"], "EXPIRED");
    // The grant (1 day) is revoked on the same pass or the next; the bad one fails again.
    let second = run_due(&org.state, now).await.unwrap();
    assert_eq!(second.failed, 1, "{backend:?}: {second:?}");
    assert_eq!(first.revoked + second.revoked, 1, "{backend:?}");
    assert_eq!(request(&org, &granted).await["revocationStatus"], "REVOKED");
    assert!(!is_member(&org, &s.engineering, &s.alice).await);

    // The bad one is kept, still due, for a retry once it is repaired.
    let due = org
        .store
        .access_requests()
        .due_requests(now, 10)
        .await
        .unwrap();
    assert_eq!(due, vec![bad.clone()], "{backend:?}");
}

on_both_backends!(
    two_serial_approvals_grant_and_the_scheduler_revokes_at_expiry,
    a_denial_ends_the_serial_sequence,
    an_undecided_request_expires_and_a_restart_loses_nothing,
    end_users_request_and_approve_with_their_own_tokens,
    a_decision_after_the_deadline_expires_the_request_and_grants_nothing,
    v1_requester_member_of_admits_members_of_large_groups,
    granting_an_app_keeps_an_existing_assignment_through_grant_and_expiry,
    overlapping_grants_keep_the_membership_until_the_last_expires,
    concurrent_v1_creates_get_distinct_permalinks,
    v2_messages_refuse_v1_requests_and_overlong_messages,
    an_undecodable_request_does_not_stop_the_scheduler,
);
