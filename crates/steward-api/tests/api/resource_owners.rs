//! Resource owners through real HTTP, on SQLite and PostgreSQL: configure, list with and
//! without owners, remove; Okta's errors (and a failed request writes nothing); the guard both
//! ways; and owners deciding a `RESOURCE_OWNER` approval step, which grants the membership.
use crate::common;

use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

const OWNERS: &str = "/governance/api/v1/resource-owners";
const CATALOG: &str = "/governance/api/v1/resource-owners/catalog/resources";
const V2: &str = "/governance/api/v2";

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn user(org: &TestOrg, login: &str) -> String {
    org.user(login).await["id"].as_str().unwrap().to_string()
}

async fn group(org: &TestOrg, name: &str, members: &[&str]) -> String {
    let (s, g) = org
        .post("/api/v1/groups", json!({"profile": {"name": name}}))
        .await;
    assert_eq!(s, 200, "{g}");
    let id = g["id"].as_str().unwrap().to_string();
    for m in members {
        let (s, b) = org
            .put(&format!("/api/v1/groups/{id}/users/{m}"), json!({}))
            .await;
        assert_eq!(s, 204, "{b}");
    }
    id
}

/// An OIDC web app; returns (id, name).
async fn app(org: &TestOrg, label: &str) -> (String, String) {
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
    (
        app["id"].as_str().unwrap().to_string(),
        app["name"].as_str().unwrap().to_string(),
    )
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

/// This org's ORNs.
struct Orns {
    org: String,
}

impl Orns {
    /// The org id comes from `/.well-known/okta-organization`, as Okta's clients read it.
    async fn of(org: &TestOrg) -> Orns {
        let response = org
            .raw(None, Method::GET, "/.well-known/okta-organization", None)
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let id = body["id"].as_str().unwrap().to_string();
        assert_eq!(id, org.store.org_id().await.unwrap());
        assert!(id.starts_with("00o") && id.len() == 20, "{body}");
        assert_eq!(body["_links"]["organization"]["href"], org.base.as_str());
        Orns { org: id }
    }
    fn user(&self, id: &str) -> String {
        format!("orn:okta:directory:{}:users:{id}", self.org)
    }
    fn group(&self, id: &str) -> String {
        format!("orn:okta:directory:{}:groups:{id}", self.org)
    }
    fn app(&self, name: &str, id: &str) -> String {
        format!("orn:okta:idp:{}:apps:{name}:{id}", self.org)
    }
}

fn list_path(path: &str, filter: &str, extra: &str) -> String {
    format!("{path}?filter={}{extra}", enc(filter))
}

async fn owner_events(org: &TestOrg) -> Vec<Value> {
    let (s, events) = org
        .get(&format!(
            "/api/v1/logs?limit=1000&filter={}",
            enc(r#"eventType sw "governance.resource_owner""#)
        ))
        .await;
    assert_eq!(s, 200, "{events}");
    events.as_array().unwrap().clone()
}

async fn configure_list_remove_and_the_catalog_of_unowned_resources(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let o = Orns::of(&org).await;
    let ann = user(&org, "ann@example.com").await;
    let bob = user(&org, "bob@example.com").await;
    let approvers = group(&org, "Approvers", &[&bob]).await;
    let engineering = group(&org, "Engineering", &[]).await;
    let (portal, portal_name) = app(&org, "Portal").await;
    let portal_orn = o.app(&portal_name, &portal);

    // Nobody owns the app yet: the catalog lists it.
    let by_portal = format!(r#"parentResourceOrn eq "{portal_orn}""#);
    let (s, catalog) = org.get(&list_path(CATALOG, &by_portal, "")).await;
    assert_eq!(s, 200, "{backend:?} {catalog}");
    assert_eq!(catalog["parentResourceOrn"], portal_orn.as_str());
    assert_eq!(catalog["data"][0]["id"], portal.as_str());
    assert_eq!(catalog["data"][0]["type"], "apps");
    assert_eq!(catalog["data"][0]["orn"], portal_orn.as_str());
    assert_eq!(catalog["data"][0]["profile"]["name"], "Portal");
    assert!(catalog["_links"]["self"]["href"].is_string());

    // Ann and the Approvers group own the app and Engineering.
    let (s, configured) = org
        .post(
            OWNERS,
            json!({"principalOrns": [o.user(&ann), o.group(&approvers)],
                   "resourceOrns": [portal_orn, o.group(&engineering)]}),
        )
        .await;
    assert_eq!(s, 200, "{backend:?} {configured}");
    let data = configured["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["parentResourceOrn"], portal_orn.as_str());
    assert_eq!(data[0]["resource"]["id"], portal.as_str());
    assert_eq!(data[1]["resource"]["type"], "groups");
    assert_eq!(data[1]["resource"]["profile"]["name"], "Engineering");
    let principals = data[0]["principals"].as_array().unwrap();
    assert_eq!(principals.len(), 2);
    assert_eq!(principals[0]["type"], "users");
    assert_eq!(principals[0]["orn"], o.user(&ann).as_str());
    assert_eq!(
        principals[0]["id"],
        format!("pri{}", &ann[3..]).as_str(),
        "Okta's principal id"
    );
    assert_eq!(principals[0]["profile"]["id"], ann.as_str());
    assert_eq!(principals[0]["profile"]["email"], "ann@example.com");
    assert!(principals[0]["profile"]["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/v1/users/{ann}")));
    assert_eq!(principals[1]["type"], "groups");
    assert_eq!(principals[1]["profile"]["name"], "Approvers");

    // The list shows the parent itself only when asked.
    let (s, list) = org.get(&list_path(OWNERS, &by_portal, "")).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["data"], json!([]));
    assert_eq!(list["metadata"]["total"], 0);
    let response = org
        .raw(
            Some(&format!("SSWS {}", org.token)),
            Method::GET,
            &list_path(OWNERS, &by_portal, "&include=parent_resource_owner&limit=5"),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let links: Vec<String> = response
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(links.len(), 1, "{links:?}");
    assert!(links[0].ends_with("rel=\"self\""), "{links:?}");
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["metadata"]["total"], 1);
    assert_eq!(list["data"][0]["resource"]["orn"], portal_orn.as_str());
    assert_eq!(list["data"][0]["principals"].as_array().unwrap().len(), 2);
    let by_resource = format!(r#"resource.orn eq "{}""#, o.group(&engineering));
    let (s, list) = org.get(&list_path(OWNERS, &by_resource, "")).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["data"][0]["resource"]["id"], engineering.as_str());
    let typed = format!(
        r#"parentResourceOrn eq "{portal_orn}" AND resource.type eq "apps" AND resource.profile.name sw "por""#
    );
    let (s, list) = org
        .get(&list_path(OWNERS, &typed, "&include=parent_resource_owner"))
        .await;
    assert_eq!((s, list["metadata"]["total"].clone()), (200, json!(1)));
    let bundles = format!(
        r#"parentResourceOrn eq "{portal_orn}" AND resource.type eq "entitlement-bundles""#
    );
    let (s, list) = org
        .get(&list_path(
            OWNERS,
            &bundles,
            "&include=parent_resource_owner",
        ))
        .await;
    assert_eq!((s, list["data"].clone()), (200, json!([])));

    // Owned now: the catalog no longer lists the app.
    let (s, catalog) = org.get(&list_path(CATALOG, &by_portal, "")).await;
    assert_eq!((s, catalog["data"].clone()), (200, json!([])));

    // PATCH removes Ann from the app (204); removing a non-owner changes nothing.
    let (s, body) = org
        .send(
            Method::PATCH,
            OWNERS,
            Some(json!({"resourceOrn": portal_orn, "data": [
                {"op": "REMOVE", "path": "/principalOrn", "value": o.user(&ann)},
                {"op": "REMOVE", "path": "/principalOrn", "value": o.user(&bob)}]})),
        )
        .await;
    assert_eq!((s, body), (204, Value::Null), "{backend:?}");
    let (_, list) = org
        .get(&list_path(
            OWNERS,
            &by_portal,
            "&include=parent_resource_owner",
        ))
        .await;
    let left = list["data"][0]["principals"].as_array().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["profile"]["id"], approvers.as_str());

    // `principalOrns: null` removes every owner of Engineering.
    let (s, cleared) = org
        .post(
            OWNERS,
            json!({"principalOrns": null, "resourceOrns": [o.group(&engineering)]}),
        )
        .await;
    assert_eq!(s, 200, "{cleared}");
    assert_eq!(cleared["data"][0]["principals"], Value::Null);
    let by_engineering = format!(r#"parentResourceOrn eq "{}""#, o.group(&engineering));
    let (_, catalog) = org.get(&list_path(CATALOG, &by_engineering, "")).await;
    assert_eq!(catalog["data"][0]["id"], engineering.as_str());

    // Every change is in the System Log, naming the resource and the owner.
    let events = owner_events(&org).await;
    let count = |t: &str| events.iter().filter(|e| e["eventType"] == t).count();
    assert_eq!(count("governance.resource_owner.add"), 4, "{backend:?}");
    assert_eq!(count("governance.resource_owner.remove"), 3, "{backend:?}");
    let removal = events
        .iter()
        .find(|e| {
            e["eventType"] == "governance.resource_owner.remove"
                && e["target"][0]["id"] == portal.as_str()
        })
        .unwrap();
    assert_eq!(removal["target"][1]["id"], ann.as_str());
    assert_eq!(
        removal["debugContext"]["debugData"]["principalOrn"],
        o.user(&ann).as_str()
    );
}

async fn errors_are_oktas_and_a_failed_request_writes_nothing(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let o = Orns::of(&org).await;
    let ann = user(&org, "ann@example.com").await;
    let engineering = group(&org, "Engineering", &[]).await;

    // Validation: E0000001 with a cause per problem.
    let (s, e) = org.post(OWNERS, json!({"principalOrns": []})).await;
    assert_error(s, &e, 400, "E0000001");
    assert_eq!(
        e["errorCauses"][0]["errorSummary"],
        "resourceOrns: The field is required"
    );
    let foreign = "orn:okta:directory:00oSomeOtherOrg0000:users:00u1";
    let (s, e) = org
        .post(
            OWNERS,
            json!({"principalOrns": [foreign, "bob"], "resourceOrns": [o.group(&engineering)]}),
        )
        .await;
    assert_error(s, &e, 400, "E0000001");
    let causes = e["errorCauses"].as_array().unwrap();
    assert_eq!(causes.len(), 2, "{e}");
    assert!(causes[0]["errorSummary"]
        .as_str()
        .unwrap()
        .contains(&format!("this org is {}", o.org)));
    let six: Vec<String> = (0..6).map(|_| o.user(&ann)).collect();
    let (s, _) = org
        .post(
            OWNERS,
            json!({"principalOrns": six, "resourceOrns": [o.group(&engineering)]}),
        )
        .await;
    assert_eq!(s, 200, "duplicates count once");
    let (s, e) = org.post(OWNERS, json!({"resourceOrns": "x"})).await;
    assert_error(s, &e, 400, "E0000001");

    // Unknown principal: 404, and the resource that was valid got no owner.
    let ghost = o.user("00uGhost000000000000");
    let (s, e) = org
        .post(
            OWNERS,
            json!({"principalOrns": [o.user(&ann), ghost], "resourceOrns": [o.group(&engineering)]}),
        )
        .await;
    assert_error(s, &e, 404, "E0000007");
    let others = format!(r#"resource.orn eq "{}""#, o.group(&engineering));
    let (_, list) = org.get(&list_path(OWNERS, &others, "")).await;
    assert_eq!(
        list["data"][0]["principals"].as_array().unwrap().len(),
        1,
        "unchanged: {list}"
    );
    let before = owner_events(&org).await.len();
    // Unknown resources: an app that does not exist, a group, a bundle Steward does not keep.
    let (_, portal_name) = app(&org, "Portal").await;
    for resource in [
        o.app(&portal_name, "0oaGhost000000000000"),
        o.group("00gGhost000000000000"),
        format!("orn:okta:governance:{}:entitlement-bundles:enb1", o.org),
    ] {
        let (s, e) = org
            .post(
                OWNERS,
                json!({"principalOrns": [o.user(&ann)], "resourceOrns": [o.group(&engineering), resource]}),
            )
            .await;
        assert_error(s, &e, 404, "E0000007");
    }
    assert_eq!(owner_events(&org).await.len(), before, "{backend:?}");

    // Lists: the filter is required, must be understood, and must name a known parent.
    let (s, e) = org.get(OWNERS).await;
    assert_error(s, &e, 400, "E0000001");
    let (s, e) = org.get(CATALOG).await;
    assert_error(s, &e, 400, "E0000001");
    let (s, e) = org
        .get(&list_path(OWNERS, r#"resource.type eq "apps""#, ""))
        .await;
    assert_error(s, &e, 400, "E0000053");
    let (s, e) = org
        .get(&list_path(OWNERS, "parentResourceOrn eq", ""))
        .await;
    assert_error(s, &e, 400, "E0000053");
    let ghost_parent = format!(
        r#"parentResourceOrn eq "{}""#,
        o.group("00gGhost000000000000")
    );
    let (s, e) = org.get(&list_path(CATALOG, &ghost_parent, "")).await;
    assert_error(s, &e, 404, "E0000007");
    let by_group = format!(r#"parentResourceOrn eq "{}""#, o.group(&engineering));
    let (s, e) = org
        .get(&list_path(OWNERS, &by_group, "&include=everything"))
        .await;
    assert_error(s, &e, 400, "E0000001");
    let (s, e) = org.get(&list_path(OWNERS, &by_group, "&limit=many")).await;
    assert_error(s, &e, 400, "E0000029");

    // PATCH: only REMOVE of /principalOrn; the resource must exist.
    let (s, e) = org
        .send(
            Method::PATCH,
            OWNERS,
            Some(json!({"resourceOrn": o.group(&engineering),
                        "data": [{"op": "ADD", "path": "/principalOrn", "value": o.user(&ann)}]})),
        )
        .await;
    assert_error(s, &e, 400, "E0000001");
    let (s, e) = org
        .send(
            Method::PATCH,
            OWNERS,
            Some(json!({"resourceOrn": o.group("00gGhost000000000000"),
                        "data": [{"op": "REMOVE", "path": "/principalOrn", "value": o.user(&ann)}]})),
        )
        .await;
    assert_error(s, &e, 404, "E0000007");
    let (s, e) = org.send(Method::PATCH, OWNERS, None).await;
    assert_error(s, &e, 400, "E0000003");
}

async fn the_guard_admits_super_admins_with_the_scope_only(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let o = Orns::of(&org).await;
    let engineering = group(&org, "Engineering", &[]).await;
    let path = list_path(
        OWNERS,
        &format!(r#"parentResourceOrn eq "{}""#, o.group(&engineering)),
        "",
    );

    // An access-requests admin (SSWS) is not enough: E0000006, reading or configuring.
    let ara = user(&org, "ara@example.com").await;
    role(&org, &ara, "ACCESS_REQUESTS_ADMIN").await;
    let ara_token = org.token_for("ara@example.com").await;
    let (s, e) = org.send_as(&ara_token, Method::GET, &path, None).await;
    assert_error(s, &e, 403, "E0000006");
    let (s, e) = org
        .send_as(
            &ara_token,
            Method::POST,
            OWNERS,
            Some(json!({"principalOrns": [], "resourceOrns": [o.group(&engineering)]})),
        )
        .await;
    assert_error(s, &e, 403, "E0000006");
    let (s, e) = org.send_as(&ara_token, Method::GET, CATALOG, None).await;
    assert_error(s, &e, 403, "E0000006");

    // A service app: without the scope, Okta's exact challenge naming it.
    let (app_id, client_id) = org.service_app("Owners Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    org.grant(&app_id, "okta.governance.resourceOwner.manage")
        .await;
    org.client_role(&client_id, "ACCESS_REQUESTS_ADMIN").await;
    let narrow = org.client_credentials(&client_id, "okta.users.read").await;
    let narrow = narrow.body["access_token"].as_str().unwrap().to_string();
    let denied = org.bearer(&narrow, Method::GET, &path).await;
    assert_eq!(denied.status, 403, "{backend:?}");
    let expected = format!(
        "Bearer authorization_uri=\"{b}/oauth2/v1/authorize\", realm=\"{b}\", scope=\"okta.governance.resourceOwner.read\", \
         error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", \
         resource=\"{OWNERS}\", resource_metadata=\"{b}/.well-known/oauth-protected-resource\"",
        b = org.base
    );
    assert_eq!(
        denied.headers["www-authenticate"].to_str().unwrap(),
        expected
    );

    // With the scope but only ACCESS_REQUESTS_ADMIN: E0000006.
    let scoped = org
        .client_credentials(&client_id, "okta.governance.resourceOwner.manage")
        .await;
    let scoped = scoped.body["access_token"].as_str().unwrap().to_string();
    let no_role = org.bearer(&scoped, Method::GET, &path).await;
    assert_error(no_role.status, &no_role.body, 403, "E0000006");

    // A Super Admin service app with the manage scope (which implies read) is admitted.
    org.client_role(&client_id, "SUPER_ADMIN").await;
    let scoped = org
        .client_credentials(&client_id, "okta.governance.resourceOwner.manage")
        .await;
    let scoped = scoped.body["access_token"].as_str().unwrap().to_string();
    let ok = org.bearer(&scoped, Method::GET, &path).await;
    assert_eq!(ok.status, 200, "{backend:?} {}", ok.body);
    let configured = org
        .http
        .post(format!("{}{OWNERS}", org.base))
        .bearer_auth(&scoped)
        .json(&json!({"principalOrns": [o.user(&ara)], "resourceOrns": [o.group(&engineering)]}))
        .send()
        .await
        .unwrap();
    assert_eq!(configured.status(), 200, "{backend:?}");
    // The service app is the actor of the change.
    let events = owner_events(&org).await;
    assert_eq!(events[0]["actor"]["id"], client_id.as_str(), "{events:?}");
}

/// The access-request lifecycle with owners: the Engineering Owners group owns Engineering;
/// Alice requests Engineering through her catalog; the RESOURCE_OWNER step goes to Owen (not
/// to Alice, who is in the owners group too, nor to the fallback); Nina, no owner, cannot
/// resolve it; Owen approves and Alice becomes a member. A group whose only owner is the
/// requester goes to the fallback.
async fn owners_decide_resource_owner_steps_and_approving_grants_the_membership(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let o = Orns::of(&org).await;
    let alice = user(&org, "alice@example.com").await;
    let owen = user(&org, "owen@example.com").await;
    let nina = user(&org, "nina@example.com").await;
    let engineering = group(&org, "Engineering", &[]).await;
    let design = group(&org, "Design", &[]).await;
    let eng_owners = group(&org, "Engineering Owners", &[&owen, &alice]).await;
    let (portal, _) = app(&org, "Portal").await;

    let (s, b) = org
        .post(
            OWNERS,
            json!({"principalOrns": [o.group(&eng_owners)], "resourceOrns": [o.group(&engineering)]}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = org
        .post(
            OWNERS,
            json!({"principalOrns": [o.user(&alice)], "resourceOrns": [o.group(&design)]}),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    let (s, seq) = org
        .post(
            &format!("{V2}/request-sequences"),
            json!({"name": "Owner approval", "steps": [
                {"approver": {"type": "RESOURCE_OWNER"}, "fallback": {"type": "USER", "id": nina},
                 "label": "Owner approval"}]}),
        )
        .await;
    assert_eq!(s, 201, "{seq}");
    let (s, cond) = org
        .post(
            &format!("{V2}/resources/{portal}/request-conditions"),
            json!({"name": "Groups", "approvalSequenceId": seq["id"],
                   "requesterSettings": {"type": "EVERYONE"},
                   "accessScopeSettings": {"type": "GROUPS", "groups": [{"id": engineering}, {"id": design}]},
                   "accessDurationSettings": {"type": "ADMIN_FIXED_DURATION", "duration": "P1D"}}),
        )
        .await;
    assert_eq!(s, 201, "{cond}");
    let (s, _) = org
        .post(
            &format!(
                "{V2}/resources/{portal}/request-conditions/{}/activate",
                cond["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);

    // End-user tokens for Alice, Owen and Nina.
    let redirect = "https://portal.example.com/cb";
    let (web, client_id, secret) = org.web_app("Access Requests", redirect, "TRUSTED").await;
    let scopes = [
        "okta.accessRequests.catalog.read",
        "okta.accessRequests.request.read",
        "okta.accessRequests.request.manage",
        "okta.accessRequests.tasks.read",
        "okta.accessRequests.tasks.manage",
    ];
    for scope in scopes {
        org.grant(&web, scope).await;
    }
    for u in [&alice, &owen, &nina] {
        org.assign(&web, u).await;
    }
    let scope = format!("openid {}", scopes.join(" "));
    let token = |login: &'static str| {
        let (org, client_id, secret, scope) = (&org, &client_id, &secret, &scope);
        async move { common::oauth::user_token(org, client_id, secret, redirect, login, scope).await }
    };
    let alice_token = token("alice@example.com").await;
    let owen_token = token("owen@example.com").await;
    let nina_token = token("nina@example.com").await;

    // Alice finds Engineering and Design in her catalog and requests both.
    let top = org
        .bearer(
            &alice_token,
            Method::GET,
            &format!("{V2}/my/catalogs/default/entries?filter=not(parent%20pr)"),
        )
        .await;
    assert_eq!(top.status, 200, "{backend:?} {}", top.body);
    let parent = top.body["data"][0]["id"].as_str().unwrap();
    let children = org
        .bearer(
            &alice_token,
            Method::GET,
            &format!(
                "{V2}/my/catalogs/default/entries?filter={}",
                enc(&format!(r#"parent eq "{parent}""#))
            ),
        )
        .await;
    let entry = |name: &str| {
        children.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {}", children.body))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let request = |entry: String| {
        let (org, alice_token) = (&org, &alice_token);
        async move {
            let r = org
                .http
                .post(format!(
                    "{}{V2}/my/catalogs/default/entries/{entry}/requests",
                    org.base
                ))
                .bearer_auth(alice_token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
            let r: Value = r.json().await.unwrap();
            r["id"].as_str().unwrap().to_string()
        }
    };
    let eng_request = request(entry("Engineering")).await;
    let design_request = request(entry("Design")).await;

    let open_task = |request_id: &str| {
        let (org, request_id) = (&org, request_id.to_string());
        async move {
            let (s, tasks) = org
                .get(&format!(
                    "{V2}/tasks?filter={}",
                    enc(&format!(
                        r#"requestId eq "{request_id}" and status eq "OPEN""#
                    ))
                ))
                .await;
            assert_eq!(s, 200, "{tasks}");
            assert_eq!(tasks["data"].as_array().unwrap().len(), 1, "{tasks}");
            tasks["data"][0].clone()
        }
    };
    let assignees = |task: &Value| -> Vec<String> {
        task["assignees"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["externalId"].as_str().unwrap().to_string())
            .collect()
    };

    // The Engineering step is Owen's alone: Alice is the requester, Nina the unused fallback.
    let eng_task = open_task(&eng_request).await;
    assert_eq!(
        assignees(&eng_task),
        vec![owen.clone()],
        "{backend:?} {eng_task}"
    );
    let mine = org
        .bearer(&owen_token, Method::GET, &format!("{V2}/my/tasks"))
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let task_id = eng_task["id"].as_str().unwrap().to_string();
    assert!(mine.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == task_id.as_str()));

    // Design's only owner is Alice herself: the fallback (Nina) decides.
    let design_task = open_task(&design_request).await;
    assert_eq!(assignees(&design_task), vec![nina.clone()], "{backend:?}");

    // Nina, no owner of Engineering, cannot resolve its task; Alice cannot either.
    let resolve = |token: &str, task: &str| {
        let (org, url) = (&org, format!("{}{V2}/my/tasks/{task}/resolve", org.base));
        let token = token.to_string();
        async move {
            org.http
                .post(url)
                .bearer_auth(token)
                .json(&json!({"value": "APPROVED"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(resolve(&nina_token, &task_id).await, 404);
    assert_eq!(resolve(&alice_token, &task_id).await, 404);
    let (_, members) = org
        .get(&format!("/api/v1/groups/{engineering}/users"))
        .await;
    assert!(!members
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == alice.as_str()));

    // Owen approves: the request is granted and Alice is in Engineering.
    assert_eq!(resolve(&owen_token, &task_id).await, 200);
    let (s, done) = org.get(&format!("{V2}/requests/{eng_request}")).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(
        (done["status"].as_str(), done["grantStatus"].as_str()),
        (Some("APPROVED"), Some("GRANTED")),
        "{backend:?} {done}"
    );
    let (_, members) = org
        .get(&format!("/api/v1/groups/{engineering}/users"))
        .await;
    assert!(members
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == alice.as_str()));
}

/// Concurrent configurations adding the same owner all succeed (the insert is idempotent) and
/// leave the owner once, on SQLite and PostgreSQL. Twice as many as the test pool's 8
/// connections: on PostgreSQL they queue on the resource's lock holding their connections, so a
/// read from the pool inside that transaction would starve (a 500 after the acquire timeout).
async fn concurrent_configurations_of_the_same_owner_all_succeed(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let o = Orns::of(&org).await;
    let ann = user(&org, "ann@example.com").await;
    let (portal, portal_name) = app(&org, "Portal").await;
    let portal_orn = o.app(&portal_name, &portal);
    let body = json!({"principalOrns": [o.user(&ann)], "resourceOrns": [portal_orn]});
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let request = org
            .http
            .post(format!("{}{OWNERS}", org.base))
            .header("Authorization", format!("SSWS {}", org.token))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body.to_string());
        posts.spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        });
    }
    while let Some(done) = posts.join_next().await {
        let (status, text) = done.unwrap();
        assert_eq!(status, 200, "{backend:?} {text}");
    }
    let by_portal = format!(r#"parentResourceOrn eq "{portal_orn}""#);
    let (s, list) = org
        .get(&list_path(
            OWNERS,
            &by_portal,
            "&include=parent_resource_owner",
        ))
        .await;
    assert_eq!(s, 200, "{backend:?} {list}");
    let principals = list["data"][0]["principals"].as_array().unwrap();
    assert_eq!(principals.len(), 1, "{list}");
    assert_eq!(principals[0]["orn"], o.user(&ann).as_str());
    let adds = owner_events(&org)
        .await
        .into_iter()
        .filter(|e| e["eventType"] == "governance.resource_owner.add")
        .count();
    assert_eq!(adds, 1, "{backend:?}: the owner was added once");
}

on_both_backends!(
    configure_list_remove_and_the_catalog_of_unowned_resources,
    errors_are_oktas_and_a_failed_request_writes_nothing,
    the_guard_admits_super_admins_with_the_scope_only,
    owners_decide_resource_owner_steps_and_approving_grants_the_membership,
    concurrent_configurations_of_the_same_owner_all_succeed,
);
