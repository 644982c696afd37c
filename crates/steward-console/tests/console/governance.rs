//! Identity Governance in the Admin Console over HTTP: the pages (resources, a resource's
//! conditions and settings, sequences, the org's settings, the requests inbox and a request),
//! a condition created (and refused with its causes, nothing written), edited, activated,
//! deactivated and deleted, settings changed, the inbox filtered, a request approved from the
//! inbox by its assignee (and not by an admin who is not one, nor by the requester), a task
//! reassigned; a read-only admin sees every page with the changes disabled and why, and each
//! change forged from their session is refused with 403 and writes nothing.

use serde_json::{json, Value};

use crate::common::{Backend, Browser, Page, TestOrg, ADMIN_LOGIN, ADMIN_PASSWORD};
use crate::on_both_backends;

const PASSWORD: &str = "Us3r-Passw0rd!";
const V2: &str = "/governance/api/v2";

/// The org: Ann (an Access Requests Administrator) approves "Ann approves" requests; Oscar is an
/// Org Admin, Rob a Read-only Admin, Alice a user; "Portal" is an app, "Engineering" a group.
struct Fixture {
    org: TestOrg,
    app: String,
    engineering: String,
    requesters: String,
    sequence: String,
    ann: String,
    alice: String,
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

async fn fixture(backend: Backend) -> Fixture {
    let org = TestOrg::start(backend).await;
    let (ann, _) = org.user("ann", Some("ACCESS_REQUESTS_ADMIN")).await;
    org.user("oscar", Some("ORG_ADMIN")).await;
    org.user("rob", Some("READ_ONLY_ADMIN")).await;
    let (alice, _) = org.user("alice", None).await;
    let engineering = group(&org, "Engineering").await;
    let requesters = group(&org, "Requesters").await;
    let (status, body) = org
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/groups/{requesters}/users/{alice}"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
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
            Some(json!({"name": "Ann approves", "steps": [
                {"approver": {"type": "USER", "id": ann}, "label": "Ann's approval"}]})),
        )
        .await;
    assert_eq!(status, 201, "{seq}");
    Fixture {
        org,
        app,
        engineering,
        requesters,
        sequence: seq["id"].as_str().unwrap().to_string(),
        ann,
        alice,
    }
}

async fn admin(org: &TestOrg, login: &str, password: &str, path: &str) -> (Browser, Page) {
    let browser = org.browser();
    let page = browser.sign_in(path, login, password).await;
    assert_eq!(page.status, 200, "{}", page.body);
    (browser, page)
}

async fn conditions(org: &TestOrg, app: &str) -> Vec<Value> {
    let (status, list) = org
        .api(
            reqwest::Method::GET,
            &format!("{V2}/resources/{app}/request-conditions"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["data"].as_array().cloned().unwrap_or_default()
}

/// The form of a condition opening Engineering to members of Requesters, approved by Ann's
/// sequence, for a fixed 3 days.
fn condition_form<'a>(f: &'a Fixture, csrf: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", name),
        ("description", "Engineering for requesters"),
        ("requester", "GROUPS"),
        ("requester_group", &f.requesters),
        ("scope", "GROUPS"),
        ("scope_group", &f.engineering),
        ("sequence", &f.sequence),
        ("duration_type", "ADMIN_FIXED_DURATION"),
        ("duration_amount", "3"),
        ("duration_unit", "D"),
        ("priority", ""),
    ]
}

/// An ACTIVE condition made over the API; its id.
async fn active_condition(f: &Fixture) -> String {
    let (status, c) = f
        .org
        .api(
            reqwest::Method::POST,
            &format!("{V2}/resources/{}/request-conditions", f.app),
            Some(
                json!({"name": "Engineering", "approvalSequenceId": f.sequence,
                   "requesterSettings": {"type": "EVERYONE"},
                   "accessScopeSettings": {"type": "GROUPS", "groups": [{"id": f.engineering}]}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    let (status, c) = f
        .org
        .api(
            reqwest::Method::POST,
            &format!("{V2}/resources/{}/request-conditions/{id}/activate", f.app),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    id
}

/// Alice requests Engineering on her dashboard; the request's id.
async fn alice_requests(org: &TestOrg) -> String {
    let alice = org.browser();
    let catalog = alice.sign_in("/app/", "alice@example.com", PASSWORD).await;
    assert_eq!(catalog.status, 200, "{}", catalog.body);
    let at = catalog
        .body
        .find("aria-label=\"Request Engineering\"")
        .unwrap_or_else(|| panic!("no Engineering in {}", catalog.body));
    let before = &catalog.body[..at];
    let href = before.rfind("/app/catalog/").unwrap() + "/app/catalog/".len();
    let entry = &before[href..href + before[href..].find('"').unwrap()];
    let form = alice.get(&format!("/app/catalog/{entry}")).await;
    let csrf = form.input("csrf");
    let posted = alice
        .post(
            &format!("/app/catalog/{entry}/requests"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    posted
        .location()
        .strip_prefix("/app/requests/")
        .and_then(|r| r.strip_suffix("?submitted=1"))
        .unwrap()
        .to_string()
}

async fn request_json(org: &TestOrg, id: &str) -> Value {
    let (status, r) = org
        .api(reqwest::Method::GET, &format!("{V2}/requests/{id}"), None)
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

/// The open task of request `id`.
async fn open_task(org: &TestOrg, id: &str) -> String {
    let wf = org
        .store
        .access_requests()
        .request(id)
        .await
        .unwrap()
        .workflow;
    wf.current_task().expect("an open task").id.clone()
}

async fn every_page_shows_what_it_should(backend: Backend) {
    let f = fixture(backend).await;
    let cond = active_condition(&f).await;
    let (admin, home) = admin(&f.org, ADMIN_LOGIN, ADMIN_PASSWORD, "/admin/governance").await;
    assert!(
        home.body.contains("<h1>Identity Governance</h1>"),
        "{}",
        home.body
    );
    assert!(home.body.contains("Nobody has requested access yet."));
    let resources = admin.get("/admin/governance/resources?q=port").await;
    assert_eq!(resources.status, 200);
    assert!(resources.body.contains(">Portal</a>"), "{}", resources.body);
    assert!(resources.body.contains("(1 active)"), "{}", resources.body);
    let none = admin.get("/admin/governance/resources?q=zzz").await;
    assert!(none.body.contains("No app matches."));
    let resource = admin
        .get(&format!("/admin/governance/resources/{}", f.app))
        .await;
    assert_eq!(resource.status, 200, "{}", resource.body);
    for text in [
        "Engineering",
        "ACTIVE",
        "Everyone",
        "Groups: Engineering",
        "Ann approves",
        "Until revoked",
    ] {
        assert!(resource.body.contains(text), "{text}: {}", resource.body);
    }
    let form = admin
        .get(&format!(
            "/admin/governance/resources/{}/conditions/{cond}",
            f.app
        ))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("value=\"Engineering\""), "{}", form.body);
    let missing = admin
        .get(&format!(
            "/admin/governance/resources/{}/conditions/rcoNope",
            f.app
        ))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        admin
            .get("/admin/governance/resources/0oaNope")
            .await
            .status,
        404
    );
    let seqs = admin.get("/admin/governance/sequences").await;
    assert!(seqs.body.contains("Ann approves"), "{}", seqs.body);
    assert!(seqs.body.contains("ann Tester"), "{}", seqs.body);
    let seq = admin
        .get(&format!("/admin/governance/sequences/{}", f.sequence))
        .await;
    assert_eq!(seq.status, 200);
    assert!(seq.body.contains("Ann&#x27;s approval"), "{}", seq.body);
    let settings = admin.get("/admin/governance/settings").await;
    assert_eq!(settings.status, 200);
    assert!(settings.body.contains("PROVISIONED"), "{}", settings.body);
    let bad = admin.get("/admin/governance/requests?status=NOPE").await;
    assert_eq!(bad.status, 400);
}

async fn a_condition_is_created_edited_switched_and_deleted(backend: Backend) {
    let f = fixture(backend).await;
    let new = format!("/admin/governance/resources/{}/conditions/new", f.app);
    let (admin, page) = admin(&f.org, ADMIN_LOGIN, ADMIN_PASSWORD, &new).await;
    assert!(page.body.contains("Ann approves"), "{}", page.body);
    let csrf = page.input("csrf");
    let post = format!("/admin/governance/resources/{}/conditions", f.app);

    // Invalid: no sequence, requester groups without a group, a duration over the maximum.
    let mut bad = condition_form(&f, &csrf, "Broken");
    bad.retain(|(k, _)| *k != "requester_group" && *k != "sequence");
    bad.push(("duration_amount", "400"));
    bad.retain(|(k, v)| *k != "duration_amount" || *v == "400");
    let refused = admin.post(&post, &bad).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("The condition was not saved"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("approvalSequenceId"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"Broken\""),
        "the form keeps what was typed"
    );
    assert!(
        conditions(&f.org, &f.app).await.is_empty(),
        "nothing written"
    );
    let not_a_number = admin
        .post(
            &post,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Odd"),
                ("sequence", &f.sequence),
                ("scope_group", &f.engineering),
                ("priority", "first"),
            ],
        )
        .await;
    assert_eq!(not_a_number.status, 400);
    assert!(not_a_number.body.contains("Priority: give a whole number"));
    assert!(conditions(&f.org, &f.app).await.is_empty());

    // Valid.
    let created = admin
        .post(&post, &condition_form(&f, &csrf, "Requesters"))
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let list = conditions(&f.org, &f.app).await;
    assert_eq!(list.len(), 1);
    let c = &list[0];
    assert_eq!(c["status"], "INACTIVE");
    assert_eq!(
        c["requesterSettings"]["groups"][0]["id"],
        f.requesters.as_str()
    );
    assert_eq!(
        c["accessScopeSettings"]["groups"][0]["id"],
        f.engineering.as_str()
    );
    assert_eq!(c["approvalSequenceId"], f.sequence.as_str());
    assert_eq!(c["accessDurationSettings"]["duration"], "P3D");
    let id = c["id"].as_str().unwrap().to_string();
    let page = admin.follow(created).await;
    assert!(
        page.body.contains("The condition was created"),
        "{}",
        page.body
    );

    // Edited: renamed, the requester chooses up to 2 weeks.
    let mut edit = condition_form(&f, &csrf, "Requesters, renamed");
    for field in edit.iter_mut() {
        match field.0 {
            "duration_type" => field.1 = "REQUESTER_SPECIFIED_DURATION",
            "duration_amount" => field.1 = "2",
            "duration_unit" => field.1 = "W",
            _ => {}
        }
    }
    let path = format!("/admin/governance/resources/{}/conditions/{id}", f.app);
    let saved = admin.post(&path, &edit).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let c = &conditions(&f.org, &f.app).await[0];
    assert_eq!(c["name"], "Requesters, renamed");
    assert_eq!(
        c["accessDurationSettings"]["type"],
        "REQUESTER_SPECIFIED_DURATION"
    );
    assert_eq!(c["accessDurationSettings"]["maximumDuration"], "P2W");
    assert_eq!(c["description"], "Engineering for requesters");
    // An emptied description is cleared.
    let mut no_description = edit.clone();
    no_description.retain(|(k, _)| *k != "description");
    no_description.push(("description", ""));
    let saved = admin.post(&path, &no_description).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let c = &conditions(&f.org, &f.app).await[0];
    assert_eq!(c["description"].as_str().unwrap_or_default(), "", "{c}");
    let mut empty_name = edit.clone();
    empty_name.retain(|(k, _)| *k != "name");
    empty_name.push(("name", ""));
    let refused = admin.post(&path, &empty_name).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        conditions(&f.org, &f.app).await[0]["name"],
        "Requesters, renamed"
    );

    // Activated, deactivated (twice: the second is refused), deleted.
    let csrf_only = [("csrf", csrf.as_str())];
    assert_eq!(
        admin
            .post(&format!("{path}/activate"), &csrf_only)
            .await
            .status,
        303
    );
    assert_eq!(conditions(&f.org, &f.app).await[0]["status"], "ACTIVE");
    assert_eq!(
        admin
            .post(&format!("{path}/deactivate"), &csrf_only)
            .await
            .status,
        303
    );
    assert_eq!(conditions(&f.org, &f.app).await[0]["status"], "INACTIVE");
    assert_eq!(
        admin
            .post(&format!("{path}/deactivate"), &csrf_only)
            .await
            .status,
        400
    );
    let deleted = admin.post(&format!("{path}/delete"), &csrf_only).await;
    assert_eq!(deleted.status, 303);
    assert!(conditions(&f.org, &f.app).await.is_empty());

    // The resource's settings, then the org's.
    let settings = format!("/admin/governance/resources/{}/settings", f.app);
    let saved = admin
        .post(
            &settings,
            &[
                ("csrf", csrf.as_str()),
                ("on_behalf", "1"),
                ("direct_reports_only", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, s) = f
        .org
        .api(
            reqwest::Method::GET,
            &format!("{V2}/resources/{}/request-settings", f.app),
            None,
        )
        .await;
    assert_eq!(s["requestOnBehalfOfSettings"]["allowed"], true, "{s}");
    assert_eq!(
        s["requestOnBehalfOfSettings"]["onlyFor"][0], "DIRECT_REPORT",
        "{s}"
    );
    let org_saved = admin
        .post("/admin/governance/settings", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(org_saved.status, 303);
    let (_, s) = f
        .org
        .api(
            reqwest::Method::GET,
            &format!("{V2}/request-settings"),
            None,
        )
        .await;
    assert_eq!(s["subprocessorsAcknowledged"], false, "{s}");
}

async fn sequences(org: &TestOrg) -> Vec<Value> {
    let (status, list) = org
        .api(
            reqwest::Method::GET,
            &format!("{V2}/request-sequences"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["data"].as_array().cloned().unwrap_or_default()
}

async fn a_sequence_is_created_and_deleted(backend: Backend) {
    let f = fixture(backend).await;
    let (admin, page) = admin(
        &f.org,
        ADMIN_LOGIN,
        ADMIN_PASSWORD,
        "/admin/governance/sequences",
    )
    .await;
    let csrf = page.input("csrf");
    let path = "/admin/governance/sequences";
    let empty = admin
        .post(path, &[("csrf", csrf.as_str()), ("name", "No steps")])
        .await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert!(
        empty.body.contains("The sequence was not created"),
        "{}",
        empty.body
    );
    assert!(
        empty
            .body
            .contains("steps must NOT have fewer than 1 items"),
        "{}",
        empty.body
    );
    assert!(empty.body.contains("value=\"No steps\""));
    let unknown = admin
        .post(
            path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Nobody"),
                ("step0_approver", "USER"),
                ("step0_user", "nobody@example.com"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body.contains("no user has the login"),
        "{}",
        unknown.body
    );
    assert_eq!(sequences(&f.org).await.len(), 1, "nothing written");

    let created = admin
        .post(
            path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Manager, then Engineering"),
                ("step0_approver", "REQUESTER_MANAGER"),
                ("step0_label", "Manager"),
                ("step1_approver", "GROUP"),
                ("step1_group", &f.engineering),
                ("step2_approver", ""),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let list = sequences(&f.org).await;
    let s = list
        .iter()
        .find(|s| s["name"] == "Manager, then Engineering")
        .expect("created");
    assert_eq!(
        s["steps"][0]["approver"]["type"], "REQUESTER_MANAGER",
        "{s}"
    );
    assert_eq!(
        s["steps"][1]["approver"]["id"],
        f.engineering.as_str(),
        "{s}"
    );
    let page = admin.follow(created).await;
    assert!(
        page.body.contains("The requester&#x27;s manager"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Any member of Engineering"),
        "{}",
        page.body
    );
    let id = s["id"].as_str().unwrap();
    let deleted = admin
        .post(
            &format!("/admin/governance/sequences/{id}/delete"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(sequences(&f.org).await.len(), 1);
}

async fn the_inbox_filters_and_the_assignee_approves_from_it(backend: Backend) {
    let f = fixture(backend).await;
    active_condition(&f).await;
    let id = alice_requests(&f.org).await;
    let task = open_task(&f.org, &id).await;

    let (oscar, inbox) = admin(
        &f.org,
        "oscar@example.com",
        PASSWORD,
        "/admin/governance/requests?status=PENDING",
    )
    .await;
    assert!(
        inbox
            .body
            .contains(&format!("/admin/governance/requests/{id}")),
        "{}",
        inbox.body
    );
    assert!(
        inbox.body.contains("ann Tester"),
        "waiting for Ann: {}",
        inbox.body
    );
    for (query, shown) in [
        ("status=APPROVED", false),
        ("q=alice", true),
        ("q=portal", true),
        ("q=engineering", true),
        ("q=zzz", false),
    ] {
        let page = oscar
            .get(&format!("/admin/governance/requests?{query}"))
            .await;
        assert_eq!(page.status, 200);
        assert_eq!(page.body.contains(&id), shown, "{query}: {}", page.body);
    }

    // Oscar (Org Admin) is not an assignee: Approve is disabled with why; forged, refused.
    let detail = oscar.get(&format!("/admin/governance/requests/{id}")).await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert!(
        detail
            .body
            .contains("Only the task&#x27;s assignees decide it"),
        "{}",
        detail.body
    );
    assert!(detail
        .body
        .contains("disabled aria-describedby=\"decide-reason\""));
    assert!(
        detail.body.contains("alice Tester requested it."),
        "{}",
        detail.body
    );
    let csrf = detail.input("csrf");
    let resolve = format!("/admin/governance/requests/{id}/tasks/{task}/resolve");
    let forged = oscar
        .post(
            &resolve,
            &[("csrf", csrf.as_str()), ("decision", "APPROVED")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(request_json(&f.org, &id).await["status"], "PENDING");

    // Ann approves with a comment; the history shows it and Alice is in Engineering.
    let (ann, detail) = admin(
        &f.org,
        "ann@example.com",
        PASSWORD,
        &format!("/admin/governance/requests/{id}"),
    )
    .await;
    assert!(!detail.body.contains("decide-reason"), "{}", detail.body);
    let csrf = detail.input("csrf");
    let no_token = ann.post(&resolve, &[("decision", "APPROVED")]).await;
    assert_eq!(no_token.status, 403);
    let approved = ann
        .post(
            &resolve,
            &[
                ("csrf", csrf.as_str()),
                ("decision", "APPROVED"),
                ("comment", "Welcome aboard"),
            ],
        )
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert_eq!(request_json(&f.org, &id).await["status"], "APPROVED");
    let page = ann.follow(approved).await;
    assert!(page.body.contains("You approved it."), "{}", page.body);
    assert!(page.body.contains("Welcome aboard"), "{}", page.body);
    assert!(
        page.body.contains("ann Tester approved it"),
        "{}",
        page.body
    );
    let (_, members) = f
        .org
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/groups/{}/users", f.engineering),
            None,
        )
        .await;
    assert!(members.to_string().contains(&f.alice), "{members}");
    let again = ann
        .post(&resolve, &[("csrf", csrf.as_str()), ("decision", "DENIED")])
        .await;
    assert_eq!(
        again.status, 400,
        "a closed task is refused: {}",
        again.body
    );
    let approved_only = ann.get("/admin/governance/requests?status=APPROVED").await;
    assert!(approved_only.body.contains(&id));
}

async fn a_task_is_reassigned_and_the_new_assignee_decides(backend: Backend) {
    let f = fixture(backend).await;
    active_condition(&f).await;
    let id = alice_requests(&f.org).await;
    let task = open_task(&f.org, &id).await;
    let (oscar, detail) = admin(
        &f.org,
        "oscar@example.com",
        PASSWORD,
        &format!("/admin/governance/requests/{id}"),
    )
    .await;
    let csrf = detail.input("csrf");
    let reassign = format!("/admin/governance/requests/{id}/tasks/{task}/reassign");
    let unknown = oscar
        .post(
            &reassign,
            &[("csrf", csrf.as_str()), ("assignees", "nobody@example.com")],
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown
        .body
        .contains("No user has the login or id nobody@example.com"));
    // The requester is never assigned.
    let requester = oscar
        .post(
            &reassign,
            &[("csrf", csrf.as_str()), ("assignees", "alice@example.com")],
        )
        .await;
    assert_eq!(requester.status, 409, "{}", requester.body);
    let t = f.org.store.access_requests().task(&task).await.unwrap();
    assert_eq!(t.assignees[0].external_id, f.ann, "nothing written");

    let moved = oscar
        .post(
            &reassign,
            &[("csrf", csrf.as_str()), ("assignees", "oscar@example.com")],
        )
        .await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let page = oscar.follow(moved).await;
    assert!(
        page.body.contains("The task was reassigned."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("decide-reason"), "{}", page.body);
    let denied = oscar
        .post(
            &format!("/admin/governance/requests/{id}/tasks/{task}/resolve"),
            &[("csrf", csrf.as_str()), ("decision", "DENIED")],
        )
        .await;
    assert_eq!(denied.status, 303, "{}", denied.body);
    assert_eq!(request_json(&f.org, &id).await["status"], "DENIED");
}

async fn a_read_only_admin_sees_everything_and_changes_nothing(backend: Backend) {
    let f = fixture(backend).await;
    let cond = active_condition(&f).await;
    let id = alice_requests(&f.org).await;
    let task = open_task(&f.org, &id).await;
    let (rob, page) = admin(
        &f.org,
        "rob@example.com",
        PASSWORD,
        &format!("/admin/governance/resources/{}", f.app),
    )
    .await;
    assert!(page.body.contains("id=\"manage-reason\""), "{}", page.body);
    assert!(
        page.body.contains("Access Requests Administrator role"),
        "{}",
        page.body
    );
    assert!(page.body.contains(
        "disabled aria-describedby=\"manage-reason\" aria-label=\"Deactivate Engineering\""
    ));
    let csrf = page.input("csrf");
    for path in [
        format!("/admin/governance/resources/{}/conditions/new", f.app),
        "/admin/governance/sequences".to_string(),
        format!("/admin/governance/sequences/{}", f.sequence),
        "/admin/governance/settings".to_string(),
        "/admin/governance/requests".to_string(),
    ] {
        let page = rob.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
    }
    let detail = rob.get(&format!("/admin/governance/requests/{id}")).await;
    assert!(
        detail.body.contains("id=\"decide-reason\""),
        "{}",
        detail.body
    );
    assert!(
        detail.body.contains("id=\"reassign-reason\""),
        "{}",
        detail.body
    );

    let head = f.org.store.outbox_head().await.unwrap();
    let csrf = csrf.as_str();
    let resource = format!("/admin/governance/resources/{}", f.app);
    let forged: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("{resource}/conditions"),
            condition_form(&f, csrf, "Forged"),
        ),
        (
            format!("{resource}/conditions/{cond}"),
            condition_form(&f, csrf, "Forged"),
        ),
        (
            format!("{resource}/conditions/{cond}/deactivate"),
            vec![("csrf", csrf)],
        ),
        (
            format!("{resource}/conditions/{cond}/delete"),
            vec![("csrf", csrf)],
        ),
        (
            format!("{resource}/settings"),
            vec![("csrf", csrf), ("on_behalf", "1")],
        ),
        (
            "/admin/governance/settings".to_string(),
            vec![("csrf", csrf)],
        ),
        (
            "/admin/governance/sequences".to_string(),
            vec![
                ("csrf", csrf),
                ("name", "Forged"),
                ("step0_approver", "REQUESTER_MANAGER"),
            ],
        ),
        (
            format!("/admin/governance/sequences/{}", f.sequence),
            vec![
                ("csrf", csrf),
                ("name", "Forged"),
                ("step0_approver", "REQUESTER_MANAGER"),
            ],
        ),
        (
            format!("/admin/governance/sequences/{}/delete", f.sequence),
            vec![("csrf", csrf)],
        ),
        (
            format!("/admin/governance/requests/{id}/tasks/{task}/resolve"),
            vec![("csrf", csrf), ("decision", "APPROVED")],
        ),
        (
            format!("/admin/governance/requests/{id}/tasks/{task}/reassign"),
            vec![("csrf", csrf), ("assignees", "rob@example.com")],
        ),
    ];
    for (path, form) in forged {
        let refused = rob.post(&path, &form).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    let written = f.org.store.outbox_after(head, 10).await.unwrap();
    assert!(written.is_empty(), "nothing written: {written:?}");
    let list = conditions(&f.org, &f.app).await;
    assert_eq!(
        (list.len(), list[0]["status"].as_str()),
        (1, Some("ACTIVE"))
    );
    assert_eq!(request_json(&f.org, &id).await["status"], "PENDING");
    // An App Admin may not even look.
    let (_, app_admin) = f.org.user("appadmin", Some("APP_ADMIN")).await;
    let other = f.org.browser();
    let refused = other
        .sign_in("/admin/governance/requests", &app_admin, PASSWORD)
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
}

/// Editing a sequence: the form shows its steps (a user by login); a save replaces them, keeps
/// the fallback of a step whose approver stays, and a refused form changes nothing.
async fn a_sequence_is_edited(backend: Backend) {
    let f = fixture(backend).await;
    // Ann's step gets a fallback through the API (the form does not show fallbacks).
    let (status, seq) = f
        .org
        .api(
            reqwest::Method::PUT,
            &format!("{V2}/request-sequences/{}", f.sequence),
            Some(json!({"name": "Ann approves", "steps": [
                {"approver": {"type": "USER", "id": f.ann}, "label": "Ann's approval",
                 "fallback": {"type": "GROUP", "id": f.engineering}}]})),
        )
        .await;
    assert_eq!(status, 200, "{seq}");
    let path = format!("/admin/governance/sequences/{}", f.sequence);
    let (admin, page) = admin(&f.org, ADMIN_LOGIN, ADMIN_PASSWORD, &path).await;
    let csrf = page.input("csrf");
    assert_eq!(page.input("name"), "Ann approves");
    assert_eq!(page.input("step0_user"), "ann@example.com");
    assert_eq!(page.input("step0_label"), "Ann's approval");
    assert!(
        page.body.contains("name=\"step2_approver\""),
        "room for more steps: {}",
        page.body
    );

    // Refused: an unknown login; nothing changes.
    let refused = admin
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Ann, then nobody"),
                ("step0_approver", "USER"),
                ("step0_user", "ann@example.com"),
                ("step1_approver", "USER"),
                ("step1_user", "nobody@example.com"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("The sequence was not saved"));
    assert!(refused.body.contains("value=\"Ann, then nobody\""));
    let (_, unchanged) = f
        .org
        .api(
            reqwest::Method::GET,
            &format!("{V2}/request-sequences/{}", f.sequence),
            None,
        )
        .await;
    assert_eq!(unchanged["name"], "Ann approves", "{unchanged}");

    // Saved: renamed, Ann stays first (her fallback kept), the requester's manager second.
    let saved = admin
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Ann, then the manager"),
                ("description", "Two steps"),
                ("step0_approver", "USER"),
                ("step0_user", "ann@example.com"),
                ("step0_label", "Ann's approval"),
                ("step1_approver", "REQUESTER_MANAGER"),
                ("step2_approver", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, s) = f
        .org
        .api(
            reqwest::Method::GET,
            &format!("{V2}/request-sequences/{}", f.sequence),
            None,
        )
        .await;
    assert_eq!(s["name"], "Ann, then the manager", "{s}");
    assert_eq!(s["description"], "Two steps", "{s}");
    assert_eq!(s["steps"][0]["approver"]["id"], f.ann.as_str(), "{s}");
    assert_eq!(
        s["steps"][0]["fallback"]["id"],
        f.engineering.as_str(),
        "{s}"
    );
    assert_eq!(
        s["steps"][1]["approver"]["type"], "REQUESTER_MANAGER",
        "{s}"
    );
    assert_eq!(s["steps"].as_array().unwrap().len(), 2, "{s}");
    let page = admin.follow(saved).await;
    assert!(
        page.body.contains("The sequence was saved"),
        "{}",
        page.body
    );
    // A sequence of two steps offers a third.
    assert!(page.body.contains("name=\"step2_approver\""));
}

on_both_backends!(
    every_page_shows_what_it_should,
    a_condition_is_created_edited_switched_and_deleted,
    the_inbox_filters_and_the_assignee_approves_from_it,
    a_task_is_reassigned_and_the_new_assignee_decides,
    a_sequence_is_created_and_deleted,
    a_sequence_is_edited,
    a_read_only_admin_sees_everything_and_changes_nothing,
);
