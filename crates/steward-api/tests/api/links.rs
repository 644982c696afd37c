//! Every link Steward returns resolves, on SQLite and PostgreSQL: the test creates the main
//! resources (users, a group, apps, app assignments, a grant, user and client role assignments,
//! the System Log, governance v1 and v2 objects, resource owners), then follows every
//! `_links.*.href` (and `_links.*[].href`) of their JSON and every `Link` header of the lists,
//! and of what those answer in turn, with the admin's SSWS token.
//!
//! Links that are HTTP-method hints (a `method` or `hints.allow` without `GET`, and Okta's
//! `…/lifecycle/{op}` links, which are `POST`-only) are not called on the resources under test
//! (that would change them while they are walked): a `GET` must answer `405` there, which proves
//! the route exists (an unserved path answers `404`, or `501` for Okta's paths not built yet).
//! Each kind of lifecycle link is then called with its method on a throwaway user or app and
//! must answer 2xx.
use crate::common;

use std::collections::{BTreeSet, VecDeque};

use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

const V1: &str = "/governance/api/v1";
const V2: &str = "/governance/api/v2";

/// One link found in a response.
#[derive(Debug, Clone)]
struct Found {
    /// Where it was found, for failure messages.
    origin: String,
    name: String,
    href: String,
    /// An HTTP-method hint other than `GET`.
    action: bool,
}

/// A response's status, JSON and `Link` header targets.
struct Answer {
    status: u16,
    body: Value,
    link_headers: Vec<String>,
}

async fn call(
    org: &TestOrg,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let response = org
        .raw(
            Some(&format!("SSWS {token}")),
            method,
            path,
            body.map(|b| b.to_string()),
        )
        .await;
    let status = response.status().as_u16();
    let link_headers = response
        .headers()
        .get_all("link")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .filter_map(|part| {
            let start = part.find('<')?;
            let end = part.find('>')?;
            Some(part[start + 1..end].to_string())
        })
        .collect();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        link_headers,
    }
}

fn is_action(name: &str, link: &Value) -> bool {
    let method_hint = link["method"].as_str().is_some_and(|m| m != "GET");
    let allow_hint = link["hints"]["allow"]
        .as_array()
        .is_some_and(|allow| !allow.iter().any(|m| m == "GET"));
    let lifecycle = link["href"]
        .as_str()
        .is_some_and(|h| h.contains("/lifecycle/"));
    method_hint || allow_hint || lifecycle || name == "createRequest"
}

/// Every `_links` entry anywhere in `value` (embedded objects and list items included).
fn links_in(origin: &str, value: &Value, out: &mut Vec<Found>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "_links" {
                    for (name, link) in v.as_object().into_iter().flatten() {
                        let each: Vec<&Value> = match link {
                            Value::Array(items) => items.iter().collect(),
                            other => vec![other],
                        };
                        for l in each {
                            let href = l["href"].as_str().unwrap_or_else(|| {
                                panic!("{origin}: _links.{name} has no href: {l}")
                            });
                            out.push(Found {
                                origin: origin.to_string(),
                                name: name.clone(),
                                href: href.to_string(),
                                action: is_action(name, l),
                            });
                        }
                    }
                } else {
                    links_in(origin, v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| links_in(origin, v, out)),
        _ => {}
    }
}

/// The path and query of an org URL (every link is absolute, under the org's URL).
fn local(org: &TestOrg, found: &Found) -> String {
    let path = found.href.strip_prefix(&org.base).unwrap_or_else(|| {
        panic!(
            "{}: _links.{} is not under the org URL: {}",
            found.origin, found.name, found.href
        )
    });
    assert!(path.starts_with('/'), "{found:?}");
    path.to_string()
}

/// Walks the links of `seeds` (responses by where they came from) and of everything they lead
/// to; returns how many links were followed and the action links seen.
async fn follow_everything(org: &TestOrg, seeds: Vec<(String, Answer)>) -> (usize, Vec<Found>) {
    let mut queue: VecDeque<Found> = VecDeque::new();
    let enqueue = |origin: &str, answer: &Answer, queue: &mut VecDeque<Found>| {
        let mut found = Vec::new();
        links_in(origin, &answer.body, &mut found);
        for href in &answer.link_headers {
            found.push(Found {
                origin: origin.to_string(),
                name: "Link header".into(),
                href: href.clone(),
                action: false,
            });
        }
        queue.extend(found);
    };
    for (origin, answer) in &seeds {
        enqueue(origin, answer, &mut queue);
    }
    let mut seen: BTreeSet<(String, bool)> = BTreeSet::new();
    let mut actions = Vec::new();
    let mut followed = 0;
    while let Some(link) = queue.pop_front() {
        let path = local(org, &link);
        if !seen.insert((path.clone(), link.action)) {
            continue;
        }
        assert!(followed < 2000, "the links do not end: {link:?}");
        followed += 1;
        let answer = call(org, &org.token, Method::GET, &path, None).await;
        if link.action {
            // The route exists for another method: not 404, not 501.
            assert_error(answer.status, &answer.body, 405, "E0000022");
            actions.push(link);
            continue;
        }
        assert!(
            (200..300).contains(&answer.status),
            "{}: _links.{} = {} answers {}: {}",
            link.origin,
            link.name,
            link.href,
            answer.status,
            answer.body
        );
        enqueue(&format!("GET {path}"), &answer, &mut queue);
    }
    (followed, actions)
}

async fn created(org: &TestOrg, method: Method, path: &str, body: Value) -> Answer {
    let answer = call(org, &org.token, method.clone(), path, Some(body)).await;
    assert!(
        (200..300).contains(&answer.status),
        "{method} {path}: {} {}",
        answer.status,
        answer.body
    );
    answer
}

async fn read(org: &TestOrg, path: &str) -> Answer {
    let answer = call(org, &org.token, Method::GET, path, None).await;
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
    answer
}

fn id(answer: &Answer) -> String {
    answer.body["id"].as_str().unwrap().to_string()
}

fn new_user(login: &str, manager: Option<&str>) -> Value {
    let mut profile = json!({"login": login, "email": login, "firstName": "T", "lastName": login.split('@').next().unwrap()});
    if let Some(m) = manager {
        profile["managerId"] = json!(m);
    }
    json!({"profile": profile, "credentials": {"password": {"value": "Sup3r-Secret-Pass"}}})
}

fn web_app(label: &str) -> Value {
    json!({"label": label, "signOnMode": "OPENID_CONNECT",
           "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
           "settings": {"oauthClient": {"application_type": "web", "grant_types": ["authorization_code"],
                                        "redirect_uris": ["https://app.example.com/cb"]}}})
}

async fn every_link_of_the_main_resources_resolves(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let mut seeds: Vec<(String, Answer)> = Vec::new();

    // Directory: users (one staged, so other lifecycle links show), a group, apps.
    let manager = created(
        &org,
        Method::POST,
        "/api/v1/users?activate=true",
        new_user("manager@example.com", None),
    )
    .await;
    let manager_id = id(&manager);
    let alice = created(
        &org,
        Method::POST,
        "/api/v1/users?activate=true",
        new_user("alice@example.com", Some(&manager_id)),
    )
    .await;
    let alice_id = id(&alice);
    let staged = created(
        &org,
        Method::POST,
        "/api/v1/users?activate=false",
        new_user("staged@example.com", None),
    )
    .await;
    let group = created(
        &org,
        Method::POST,
        "/api/v1/groups",
        json!({"profile": {"name": "Engineering"}}),
    )
    .await;
    let group_id = id(&group);
    let member = call(
        &org,
        &org.token,
        Method::PUT,
        &format!("/api/v1/groups/{group_id}/users/{alice_id}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(member.status, 204);
    let app = created(&org, Method::POST, "/api/v1/apps", web_app("Portal")).await;
    let app_id = id(&app);
    let app_name = app.body["name"].as_str().unwrap().to_string();
    // An inactive app links the operation its status allows: activate, not deactivate.
    let dormant = created(
        &org,
        Method::POST,
        "/api/v1/apps?activate=false",
        web_app("Dormant"),
    )
    .await;
    assert!(
        dormant.body["_links"]["activate"].is_object(),
        "{}",
        dormant.body
    );
    assert!(
        dormant.body["_links"]["deactivate"].is_null(),
        "{}",
        dormant.body
    );
    assert!(app.body["_links"]["activate"].is_null(), "{}", app.body);
    seeds.push(("POST /api/v1/apps?activate=false".into(), dormant));
    let (service_id, client_id) = org.service_app("Robot").await;

    // App assignments, a grant, role assignments of a user and of a client.
    let app_user = created(
        &org,
        Method::POST,
        &format!("/api/v1/apps/{app_id}/users"),
        json!({"id": alice_id, "scope": "USER"}),
    )
    .await;
    let app_group = created(
        &org,
        Method::PUT,
        &format!("/api/v1/apps/{app_id}/groups/{group_id}"),
        json!({}),
    )
    .await;
    let grant = created(
        &org,
        Method::POST,
        &format!("/api/v1/apps/{service_id}/grants"),
        json!({"scopeId": "okta.users.read", "issuer": org.base}),
    )
    .await;
    assert!(
        grant.body["_links"]["client"]["href"].is_string(),
        "{}",
        grant.body
    );
    let mut user_roles = Vec::new();
    for u in [&manager_id, &alice_id] {
        user_roles.push(
            created(
                &org,
                Method::POST,
                &format!("/api/v1/users/{u}/roles"),
                json!({"type": "ACCESS_REQUESTS_ADMIN"}),
            )
            .await,
        );
    }
    let client_role = created(
        &org,
        Method::POST,
        &format!("/oauth2/v1/clients/{client_id}/roles"),
        json!({"type": "READ_ONLY_ADMIN"}),
    )
    .await;
    assert!(client_role.body["_links"]["assignee"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/oauth2/v1/clients/{client_id}")));

    // Governance v1: a published request type and a request.
    let teams = read(&org, &format!("{V1}/teams")).await;
    let request_type = created(
        &org,
        Method::POST,
        &format!("{V1}/request-types"),
        json!({"name": "Engineering access", "ownerId": teams.body["data"][0]["id"],
               "resourceSettings": {"type": "GROUPS", "targetResources": [{"resourceId": group_id}]},
               "approvalSettings": {"type": "SERIAL", "approvals": [{"approverType": "MANAGER"}]}}),
    )
    .await;
    let type_id = id(&request_type);
    let published = created(
        &org,
        Method::POST,
        &format!("{V1}/request-types/{type_id}/publish"),
        json!({}),
    )
    .await;
    let alice_token = org.token_for("alice@example.com").await;
    let v1_request = call(
        &org,
        &alice_token,
        Method::POST,
        &format!("{V1}/requests"),
        Some(json!({"requestTypeId": type_id, "subject": "Need Engineering"})),
    )
    .await;
    assert_eq!(v1_request.status, 201, "{}", v1_request.body);

    // Governance v2: a sequence, an active condition, the catalog, a request and its task.
    let sequence = created(
        &org,
        Method::POST,
        &format!("{V2}/request-sequences"),
        json!({"name": "Manager", "steps": [{"approver": {"type": "REQUESTER_MANAGER"}}]}),
    )
    .await;
    let condition = created(
        &org,
        Method::POST,
        &format!("{V2}/resources/{app_id}/request-conditions"),
        json!({"name": "Engineering", "approvalSequenceId": sequence.body["id"],
               "requesterSettings": {"type": "EVERYONE"},
               "accessScopeSettings": {"type": "GROUPS", "groups": [{"id": group_id}]},
               "accessDurationSettings": {"type": "ADMIN_FIXED_DURATION", "duration": "P1D"}}),
    )
    .await;
    let activated = created(
        &org,
        Method::POST,
        &format!(
            "{V2}/resources/{app_id}/request-conditions/{}/activate",
            id(&condition)
        ),
        json!({}),
    )
    .await;
    let entries = read(
        &org,
        &format!("{V2}/catalogs/default/entries?filter=not(parent%20pr)"),
    )
    .await;
    let parent = entries.body["data"][0]["id"].as_str().unwrap().to_string();
    let children = read(
        &org,
        &format!("{V2}/catalogs/default/entries?filter=parent%20eq%20%22{parent}%22"),
    )
    .await;
    let entry_id = children.body["data"][0]["id"].as_str().unwrap().to_string();
    let entry = read(&org, &format!("{V2}/catalogs/default/entries/{entry_id}")).await;
    let v2_request = created(
        &org,
        Method::POST,
        &format!("{V2}/requests"),
        json!({"requested": {"type": "CATALOG_ENTRY", "entryId": entry_id},
               "requestedFor": {"externalId": alice_id, "type": "OKTA_USER"}}),
    )
    .await;
    let tasks = read(
        &org,
        &format!(
            "{V2}/tasks?filter=requestId%20eq%20%22{}%22",
            id(&v2_request)
        ),
    )
    .await;
    let task_id = tasks.body["data"][0]["id"].as_str().unwrap().to_string();
    let task = read(&org, &format!("{V2}/tasks/{task_id}")).await;

    // Resource owners: Alice owns the app.
    let org_id = org.store.org_id().await.unwrap();
    let app_orn = format!("orn:okta:idp:{org_id}:apps:{app_name}:{app_id}");
    let owners = created(
        &org,
        Method::POST,
        &format!("{V1}/resource-owners"),
        json!({"principalOrns": [format!("orn:okta:directory:{org_id}:users:{alice_id}"),
                                 format!("orn:okta:directory:{org_id}:groups:{group_id}")],
               "resourceOrns": [app_orn]}),
    )
    .await;
    let by_app: String = url::form_urlencoded::byte_serialize(
        format!(r#"parentResourceOrn eq "{app_orn}""#).as_bytes(),
    )
    .collect();

    for (what, answer) in [
        ("created manager", manager),
        ("created alice", alice),
        ("created staged user", staged),
        ("created group", group),
        ("created app", app),
        ("app user", app_user),
        ("app group", app_group),
        ("grant", grant),
        ("client role", client_role),
        ("published request type", published),
        ("v1 request", v1_request),
        ("sequence", sequence),
        ("activated condition", activated),
        ("catalog entry", entry),
        ("catalog entries", children),
        ("v2 request", v2_request),
        ("task", task),
        ("resource owners", owners),
    ] {
        seeds.push((what.to_string(), answer));
    }
    for (n, role) in user_roles.into_iter().enumerate() {
        seeds.push((format!("user role {n}"), role));
    }
    // Lists, with a page size that leaves a `next` link, and single reads.
    for path in [
        "/api/v1/users?limit=1".to_string(),
        format!("/api/v1/users/{manager_id}"),
        format!("/api/v1/users/{alice_id}/groups"),
        format!("/api/v1/users/{alice_id}/roles"),
        "/api/v1/groups?limit=1".to_string(),
        format!("/api/v1/groups/{group_id}"),
        format!("/api/v1/groups/{group_id}/users?limit=1"),
        "/api/v1/apps?limit=1".to_string(),
        format!("/api/v1/apps/{app_id}/users?limit=1"),
        format!("/api/v1/apps/{app_id}/groups?limit=1"),
        format!("/api/v1/apps/{service_id}/grants?expand=scope"),
        format!("/oauth2/v1/clients/{client_id}"),
        format!("/oauth2/v1/clients/{client_id}/roles"),
        "/api/v1/logs?limit=2".to_string(),
        format!("{V1}/request-types?limit=1"),
        format!("{V1}/requests?limit=1"),
        format!("{V1}/teams"),
        format!("{V2}/request-sequences?limit=1"),
        format!("{V2}/resources/{app_id}/request-conditions"),
        format!("{V2}/requests?limit=1"),
        format!("{V2}/tasks?limit=1"),
        format!("{V2}/catalogs/default/entries?filter=not(parent%20pr)&limit=1"),
        format!("{V1}/resource-owners?filter={by_app}&include=parent_resource_owner&limit=1"),
        format!("{V1}/resource-owners/catalog/resources?filter={by_app}"),
    ] {
        let answer = read(&org, &path).await;
        seeds.push((format!("GET {path}"), answer));
    }

    let (followed, actions) = follow_everything(&org, seeds).await;
    assert!(followed >= 60, "followed only {followed} links");

    // The action links, called with their method on throwaway users and apps.
    let kinds: BTreeSet<String> = actions
        .iter()
        .map(|a| {
            let path = local(&org, a);
            let op = path.rsplit('/').next().unwrap().to_string();
            let kind = if path.starts_with("/api/v1/users/") {
                "user"
            } else if path.starts_with("/api/v1/apps/") {
                "app"
            } else {
                panic!("an action link nothing here calls: {a:?}")
            };
            format!("{kind} {op}")
        })
        .collect();
    for expected in [
        "user deactivate",
        "user suspend",
        "user activate",
        "app deactivate",
        "app activate",
    ] {
        assert!(kinds.contains(expected), "{expected}: {kinds:?}");
    }
    for (n, kind) in kinds.iter().enumerate() {
        let (kind, op) = kind.split_once(' ').unwrap();
        let throwaway = match kind {
            "user" => {
                let activate = op != "activate";
                created(
                    &org,
                    Method::POST,
                    &format!("/api/v1/users?activate={activate}"),
                    new_user(&format!("throwaway{n}@example.com"), None),
                )
                .await
            }
            _ => {
                let activate = op != "activate";
                created(
                    &org,
                    Method::POST,
                    &format!("/api/v1/apps?activate={activate}"),
                    web_app(&format!("Throwaway {n}")),
                )
                .await
            }
        };
        let mut links = Vec::new();
        links_in(kind, &throwaway.body, &mut links);
        let link = links
            .iter()
            .find(|l| l.name == op)
            .unwrap_or_else(|| panic!("a throwaway {kind} has no {op} link: {}", throwaway.body));
        let path = local(&org, link);
        let answer = call(&org, &org.token, Method::POST, &path, None).await;
        assert!(
            (200..300).contains(&answer.status),
            "POST {path}: {} {}",
            answer.status,
            answer.body
        );
    }
}

on_both_backends!(every_link_of_the_main_resources_resolves);
