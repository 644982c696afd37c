//! The end-user dashboard (`/app`) over HTTP: any active user signs in (and only admins get the
//! Admin Console), the catalog shows what the user may request, the request form submits
//! through the v2 use case, approvers see and decide only their own tasks (with a comment), a
//! requester never decides their own request, and every form needs the session's CSRF token.

use serde_json::{json, Value};

use crate::common::{Backend, Browser, Page, TestOrg};

const PASSWORD: &str = "Us3r-Passw0rd!";
const V2: &str = "/governance/api/v2";

/// The org: Alice (requester) reports to Manny; Sam and Sue are in Security; none holds an admin
/// role. "Portal" opens Engineering to everyone (Manny, then Security, approve; up to 7 days,
/// the requester chooses) and Ledger only to members of Finance.
struct Fixture {
    org: TestOrg,
    alice: String,
    engineering: String,
    security: String,
}

async fn user(org: &TestOrg, name: &str, manager: Option<&str>) -> String {
    let login = format!("{name}@example.com");
    let mut profile =
        json!({"firstName": name, "lastName": "Tester", "email": login, "login": login});
    if let Some(m) = manager {
        profile["managerId"] = json!(m);
    }
    let (status, u) = org
        .api(
            reqwest::Method::POST,
            "/api/v1/users?activate=true",
            Some(json!({"profile": profile, "credentials": {"password": {"value": PASSWORD}}})),
        )
        .await;
    assert_eq!(status, 200, "{u}");
    u["id"].as_str().unwrap().to_string()
}

async fn group(org: &TestOrg, name: &str) -> String {
    let (status, g) = org
        .api(
            reqwest::Method::POST,
            "/api/v1/groups",
            Some(json!({"profile": {"name": name}})),
        )
        .await;
    assert_eq!(status, 200, "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn add_member(org: &TestOrg, group: &str, user: &str) {
    let (status, b) = org
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/groups/{group}/users/{user}"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{b}");
}

async fn condition(org: &TestOrg, app: &str, body: Value) {
    let (status, cond) = org
        .api(
            reqwest::Method::POST,
            &format!("{V2}/resources/{app}/request-conditions"),
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{cond}");
    let (status, cond) = org
        .api(
            reqwest::Method::POST,
            &format!(
                "{V2}/resources/{app}/request-conditions/{}/activate",
                cond["id"].as_str().unwrap()
            ),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{cond}");
}

async fn fixture(backend: Backend) -> Fixture {
    let org = TestOrg::start(backend).await;
    let manny = user(&org, "manny", None).await;
    let alice = user(&org, "alice", Some(&manny)).await;
    let sam = user(&org, "sam", None).await;
    let sue = user(&org, "sue", None).await;
    let security = group(&org, "Security").await;
    let engineering = group(&org, "Engineering").await;
    let ledger = group(&org, "Ledger").await;
    let finance = group(&org, "Finance").await;
    for u in [&sam, &sue] {
        add_member(&org, &security, u).await;
    }
    let (status, app) = org
        .api(
            reqwest::Method::POST,
            "/api/v1/apps",
            Some(json!({"label": "Portal", "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                "settings": {"oauthClient": {"application_type": "web", "grant_types": ["authorization_code"],
                                             "redirect_uris": ["https://portal.example.com/cb"]}}})),
        )
        .await;
    assert_eq!(status, 200, "{app}");
    let app = app["id"].as_str().unwrap().to_string();
    let (status, seq) = org
        .api(
            reqwest::Method::POST,
            &format!("{V2}/request-sequences"),
            Some(json!({"name": "Manager, then Security", "steps": [
                {"approver": {"type": "REQUESTER_MANAGER"}, "label": "Manager approval"},
                {"approver": {"type": "GROUP", "id": security}, "label": "Security approval"}]})),
        )
        .await;
    assert_eq!(status, 201, "{seq}");
    condition(
        &org,
        &app,
        json!({"name": "Engineering", "approvalSequenceId": seq["id"],
               "requesterSettings": {"type": "EVERYONE"},
               "accessScopeSettings": {"type": "GROUPS", "groups": [{"id": engineering}]},
               "accessDurationSettings": {"type": "REQUESTER_SPECIFIED_DURATION", "maximumDuration": "P7D"}}),
    )
    .await;
    condition(
        &org,
        &app,
        json!({"name": "Ledger", "approvalSequenceId": seq["id"],
               "requesterSettings": {"type": "GROUPS", "groups": [{"id": finance}]},
               "accessScopeSettings": {"type": "GROUPS", "groups": [{"id": ledger}]}}),
    )
    .await;
    Fixture {
        org,
        alice,
        engineering,
        security,
    }
}

/// A browser signed in to the dashboard as `name`, and the page it lands on.
async fn signed_in(org: &TestOrg, name: &str, path: &str) -> (Browser, Page) {
    let browser = org.browser();
    let page = browser
        .sign_in(path, &format!("{name}@example.com"), PASSWORD)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    (browser, page)
}

/// Every value of attribute `attr` in the page, in order.
fn attrs(body: &str, attr: &str) -> Vec<String> {
    let marker = format!("{attr}=\"");
    body.match_indices(&marker)
        .map(|(i, _)| {
            let rest = &body[i + marker.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// The catalog entry of group `name` as the dashboard lists it.
fn entry_id(catalog: &Page, name: &str) -> String {
    let at = catalog
        .body
        .find(&format!("aria-label=\"Request {name}\""))
        .unwrap_or_else(|| panic!("no {name} in {}", catalog.body));
    let before = &catalog.body[..at];
    let href = before.rfind("/app/catalog/").unwrap() + "/app/catalog/".len();
    before[href..href + before[href..].find('"').unwrap()].to_string()
}

/// Alice requests Engineering for `duration` from the form; the request's id.
async fn alice_requests(alice: &Browser, duration: &str) -> String {
    let catalog = alice.get("/app/").await;
    let entry = entry_id(&catalog, "Engineering");
    let form = alice.get(&format!("/app/catalog/{entry}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.input("csrf");
    let posted = alice
        .post(
            &format!("/app/catalog/{entry}/requests"),
            &[("csrf", &csrf), ("field.OKTA_ACCESS_DURATION", duration)],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let location = posted.location();
    let id = location
        .strip_prefix("/app/requests/")
        .and_then(|r| r.strip_suffix("?submitted=1"))
        .unwrap_or_else(|| panic!("{location}"))
        .to_string();
    id
}

async fn request_json(org: &TestOrg, id: &str) -> Value {
    let (status, r) = org
        .api(reqwest::Method::GET, &format!("{V2}/requests/{id}"), None)
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

async fn members(org: &TestOrg, group: &str) -> Vec<String> {
    let (status, users) = org
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/groups/{group}/users"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{users}");
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

/// The open task of `browser`'s user: its id (from My tasks).
async fn only_task(browser: &Browser) -> String {
    let tasks = browser.get("/app/tasks").await;
    assert_eq!(tasks.status, 200, "{}", tasks.body);
    let ids = attrs(&tasks.body, "data-task");
    assert_eq!(ids.len(), 1, "{}", tasks.body);
    ids[0].clone()
}

async fn any_user_signs_in_to_the_dashboard_and_only_admins_to_the_console(backend: Backend) {
    let f = fixture(backend).await;
    let org = &f.org;
    let first = org.browser().get("/app/requests").await;
    assert_eq!(first.status, 303);
    assert_eq!(first.location(), "/app/signin?next=%2Fapp%2Frequests");

    let (alice, page) = signed_in(org, "alice", "/app/requests").await;
    assert!(page.body.contains("<h1>My requests</h1>"), "{}", page.body);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!page.body.contains("<script>"), "no inline script");
    // Its own cookie, stored hashed; none for the Admin Console.
    let id = alice
        .cookie(steward_console::APP_COOKIE)
        .expect("dashboard cookie");
    let hash = steward_oauth::secrets::sha256_hex(&id);
    let session = org
        .store
        .console_session(&hash, org.state.clock.now())
        .await
        .unwrap();
    assert_eq!(session.user_id.as_deref(), Some(f.alice.as_str()));
    assert!(alice.cookie(steward_console::COOKIE).is_none());
    let (_, log) = org
        .api(
            reqwest::Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.authentication.sso%22",
            None,
        )
        .await;
    assert_eq!(log[0]["actor"]["alternateId"], "alice@example.com");

    // The Admin Console is another session, which a user without an admin role never gets.
    let admin = alice.follow(alice.get("/admin/").await).await;
    assert_eq!(admin.status, 403, "{}", admin.body);
    assert!(admin.body.contains("No admin role"), "{}", admin.body);
    // What the console's cookie holds (the sign-in it started) is no session.
    if let Some(left) = alice.cookie(steward_console::COOKIE) {
        let left = steward_oauth::secrets::sha256_hex(&left);
        assert!(org
            .store
            .console_session(&left, org.state.clock.now())
            .await
            .is_err());
    }
    assert_eq!(alice.get("/admin/apps").await.status, 303);
    // The dashboard session is untouched.
    assert_eq!(alice.get("/app/tasks").await.status, 200);

    // Sign-out ends the dashboard's session; the old cookie opens nothing.
    let csrf = alice.get("/app/").await.input("csrf");
    let out = alice.post("/app/signout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(
        out.location().contains("/oauth2/v1/logout"),
        "{}",
        out.location()
    );
    assert!(org
        .store
        .console_session(&hash, org.state.clock.now())
        .await
        .is_err());
}

async fn the_catalog_shows_only_what_the_user_may_request(backend: Backend) {
    let f = fixture(backend).await;
    let org = &f.org;
    let (alice, catalog) = signed_in(org, "alice", "/app/").await;
    assert!(catalog.body.contains("<h1>Request access</h1>"));
    assert!(catalog.body.contains("Portal"), "{}", catalog.body);
    let engineering = entry_id(&catalog, "Engineering");
    assert!(
        !catalog.body.contains("Request Ledger"),
        "Ledger is for Finance: {}",
        catalog.body
    );
    // The admin's catalog has Ledger; Alice may not open its form.
    let (_, all) = org
        .api(
            reqwest::Method::GET,
            &format!("{V2}/catalogs/default/entries?filter=parent%20pr"),
            None,
        )
        .await;
    let ledger = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Ledger")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        alice.get(&format!("/app/catalog/{ledger}")).await.status,
        404
    );

    // Search (a GET form).
    let found = alice.get("/app/?q=ENGIN").await;
    assert!(found.body.contains("Request Engineering"), "{}", found.body);
    let none = alice.get("/app/?q=nothing-like-it").await;
    assert!(!none.body.contains("Request Engineering"));
    assert!(
        none.body.contains("Nothing in your catalog matches"),
        "{}",
        none.body
    );

    // The form asks for the duration, up to the condition's maximum.
    let form = alice.get(&format!("/app/catalog/{engineering}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("name=\"field.OKTA_ACCESS_DURATION\""),
        "{}",
        form.body
    );
    let options = attrs(&form.body, "option value");
    assert_eq!(options, ["PT1H", "PT4H", "PT8H", "P1D", "P3D", "P7D"]);
}

async fn a_request_from_the_form_is_submitted_as_the_v2_api_submits_it(backend: Backend) {
    let f = fixture(backend).await;
    let org = &f.org;
    let (alice, catalog) = signed_in(org, "alice", "/app/").await;
    let entry = entry_id(&catalog, "Engineering");
    let path = format!("/app/catalog/{entry}/requests");
    let csrf = alice
        .get(&format!("/app/catalog/{entry}"))
        .await
        .input("csrf");
    // Without the session's token, or from another origin: refused, nothing submitted.
    for (form, origin) in [
        (
            vec![("field.OKTA_ACCESS_DURATION", "P3D")],
            Some(org.base.as_str()),
        ),
        (
            vec![("field.OKTA_ACCESS_DURATION", "P3D"), ("csrf", "forged")],
            Some(org.base.as_str()),
        ),
        (
            vec![
                ("field.OKTA_ACCESS_DURATION", "P3D"),
                ("csrf", csrf.as_str()),
            ],
            Some("https://evil.example"),
        ),
    ] {
        let refused = alice.post_from(&path, &form, origin).await;
        assert_eq!(refused.status, 403, "{form:?}");
        assert!(refused.body.contains("security token"), "{}", refused.body);
    }
    let (_, none) = org
        .api(reqwest::Method::GET, &format!("{V2}/requests"), None)
        .await;
    assert!(none["data"].as_array().unwrap().is_empty(), "{none}");

    let id = alice_requests(&alice, "P3D").await;
    let r = request_json(org, &id).await;
    assert_eq!(r["status"], "PENDING", "{r}");
    assert_eq!(r["requestedBy"]["externalId"], f.alice.as_str());
    assert_eq!(r["requestedFor"]["externalId"], f.alice.as_str());
    assert_eq!(r["accessDuration"], "P3D");
    let page = alice.get(&format!("/app/requests/{id}?submitted=1")).await;
    assert!(
        page.body.contains("Your request was submitted"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Pending approval"), "{}", page.body);
    assert!(
        page.body
            .contains("Manager approval: waiting for manny Tester"),
        "{}",
        page.body
    );
    let list = alice.get("/app/requests").await;
    assert_eq!(attrs(&list.body, "data-request"), vec![id.as_str()]);
    // The catalog says it is pending.
    assert!(alice.get("/app/").await.body.contains("Request pending"));
    // Another user does not see it.
    let (sam, _) = signed_in(org, "sam", "/app/").await;
    assert_eq!(sam.get(&format!("/app/requests/{id}")).await.status, 404);
}

async fn approvers_see_and_decide_only_their_tasks(backend: Backend) {
    let f = fixture(backend).await;
    let org = &f.org;
    let (alice, _) = signed_in(org, "alice", "/app/").await;
    let id = alice_requests(&alice, "P1D").await;
    let (manny, _) = signed_in(org, "manny", "/app/tasks").await;
    let (sam, _) = signed_in(org, "sam", "/app/tasks").await;
    let task = only_task(&manny).await;
    let page = manny.get(&format!("/app/tasks/{task}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Waiting for you"), "{}", page.body);
    assert!(page.body.contains("value=\"APPROVED\""), "{}", page.body);
    let manny_csrf = page.input("csrf");

    // Sam (Security) has no task yet: he neither sees nor decides Manny's.
    assert!(attrs(&sam.get("/app/tasks").await.body, "data-task").is_empty());
    assert_eq!(sam.get(&format!("/app/tasks/{task}")).await.status, 404);
    let sam_csrf = sam.get("/app/tasks").await.input("csrf");
    let resolve = format!("/app/tasks/{task}/resolve");
    let refused = sam
        .post(&resolve, &[("csrf", &sam_csrf), ("decision", "APPROVED")])
        .await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    // Manny without the token: refused.
    let refused = manny.post(&resolve, &[("decision", "APPROVED")]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(request_json(org, &id).await["status"], "PENDING");
    assert!(request_json(org, &id).await["requestApproval"]["decisions"]
        .as_array()
        .is_none_or(|d| d.is_empty()));

    // Manny approves with a comment.
    let approved = manny
        .post(
            &resolve,
            &[
                ("csrf", &manny_csrf),
                ("decision", "APPROVED"),
                ("comment", "Welcome to the team."),
            ],
        )
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    let page = manny.follow(approved).await;
    assert!(page.body.contains("You approved it."), "{}", page.body);
    assert!(!page.body.contains("value=\"APPROVED\""), "decided once");
    let again = manny
        .post(&resolve, &[("csrf", &manny_csrf), ("decision", "DENIED")])
        .await;
    assert_eq!(again.status, 400, "a closed task: {}", again.body);

    // Now Security's step: Sam approves; the request is granted and Alice is a member.
    let step2 = only_task(&sam).await;
    assert_ne!(step2, task);
    let approved = sam
        .post(
            &format!("/app/tasks/{step2}/resolve"),
            &[("csrf", &sam_csrf), ("decision", "APPROVED")],
        )
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    let r = request_json(org, &id).await;
    assert_eq!(r["status"], "APPROVED", "{r}");
    assert_eq!(r["grantStatus"], "GRANTED", "{r}");
    assert!(members(org, &f.engineering).await.contains(&f.alice));
    let mine = alice.get(&format!("/app/requests/{id}")).await;
    assert!(mine.body.contains(">Granted<"), "{}", mine.body);
    assert!(mine.body.contains("Welcome to the team."), "{}", mine.body);
    assert!(
        mine.body.contains("manny Tester approved it"),
        "{}",
        mine.body
    );
    // The comment follows the decision it was left with, before the next step.
    let comment_at = mine.body.find("Welcome to the team.").unwrap();
    let next_step_at = mine.body.find("Security approval: waiting").unwrap();
    assert!(comment_at < next_step_at, "{}", mine.body);
    // Sue, also in Security, was an assignee of step 2: she sees it decided, without buttons.
    let sue_tasks = signed_in(org, "sue", "/app/tasks").await.0;
    let sue_page = sue_tasks.get(&format!("/app/tasks/{step2}")).await;
    assert_eq!(sue_page.status, 200, "{}", sue_page.body);
    assert!(!sue_page.body.contains("value=\"APPROVED\""));
}

async fn a_denial_with_a_comment_grants_nothing(backend: Backend) {
    let f = fixture(backend).await;
    let org = &f.org;
    let (alice, _) = signed_in(org, "alice", "/app/").await;
    let id = alice_requests(&alice, "PT4H").await;
    let (manny, _) = signed_in(org, "manny", "/app/tasks").await;
    let task = only_task(&manny).await;
    let csrf = manny.get(&format!("/app/tasks/{task}")).await.input("csrf");
    let denied = manny
        .post(
            &format!("/app/tasks/{task}/resolve"),
            &[
                ("csrf", &csrf),
                ("decision", "DENIED"),
                ("comment", "Not this quarter."),
            ],
        )
        .await;
    assert_eq!(denied.status, 303, "{}", denied.body);
    assert_eq!(request_json(org, &id).await["status"], "DENIED");
    assert!(!members(org, &f.engineering).await.contains(&f.alice));
    let mine = alice.get(&format!("/app/requests/{id}")).await;
    assert!(mine.body.contains(">Denied<"), "{}", mine.body);
    assert!(mine.body.contains("Not this quarter."), "{}", mine.body);
    // A decision that is neither: refused.
    let other = alice_requests(&alice, "P1D").await;
    // Open tasks come first.
    let listed = attrs(&manny.get("/app/tasks").await.body, "data-task");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1], task, "the decided one last");
    let task2 = listed[0].clone();
    let odd = manny
        .post(
            &format!("/app/tasks/{task2}/resolve"),
            &[("csrf", &csrf), ("decision", "MAYBE")],
        )
        .await;
    assert_eq!(odd.status, 400, "{}", odd.body);
    assert_eq!(request_json(org, &other).await["status"], "PENDING");
}

async fn a_requester_never_decides_their_own_request(backend: Backend) {
    let f = fixture(backend).await;
    let org = &f.org;
    // Alice is in Security too: Security's step would be hers, but the rules take the requester
    // out of her own request's assignees.
    add_member(org, &f.security, &f.alice).await;
    let (alice, _) = signed_in(org, "alice", "/app/").await;
    let id = alice_requests(&alice, "P1D").await;
    let (manny, _) = signed_in(org, "manny", "/app/tasks").await;
    let task = only_task(&manny).await;
    let csrf = manny.get(&format!("/app/tasks/{task}")).await.input("csrf");
    let approved = manny
        .post(
            &format!("/app/tasks/{task}/resolve"),
            &[("csrf", &csrf), ("decision", "APPROVED")],
        )
        .await;
    assert_eq!(approved.status, 303);
    let (_, tasks) = org
        .api(
            reqwest::Method::GET,
            &format!("{V2}/tasks?filter=status%20eq%20%22OPEN%22"),
            None,
        )
        .await;
    let open = &tasks["data"][0];
    let step2 = open["id"].as_str().unwrap().to_string();
    let assignees: Vec<&str> = open["assignees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["externalId"].as_str().unwrap())
        .collect();
    assert!(!assignees.contains(&f.alice.as_str()), "{assignees:?}");
    // Her dashboard shows her no task, and her forged decision is refused and writes nothing.
    assert!(attrs(&alice.get("/app/tasks").await.body, "data-task").is_empty());
    assert_eq!(alice.get(&format!("/app/tasks/{step2}")).await.status, 404);
    let alice_csrf = alice.get("/app/").await.input("csrf");
    let forged = alice
        .post(
            &format!("/app/tasks/{step2}/resolve"),
            &[("csrf", &alice_csrf), ("decision", "APPROVED")],
        )
        .await;
    assert_eq!(forged.status, 404, "{}", forged.body);
    let r = request_json(org, &id).await;
    assert_eq!(r["status"], "PENDING", "{r}");
    assert!(!members(org, &f.engineering).await.contains(&f.alice));
}

crate::on_both_backends!(
    any_user_signs_in_to_the_dashboard_and_only_admins_to_the_console,
    the_catalog_shows_only_what_the_user_may_request,
    a_request_from_the_form_is_submitted_as_the_v2_api_submits_it,
    approvers_see_and_decide_only_their_tasks,
    a_denial_with_a_comment_grants_nothing,
    a_requester_never_decides_their_own_request,
);
