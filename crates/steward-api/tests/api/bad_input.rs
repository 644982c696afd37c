//! Input the database cannot hold, rows that vanish mid-request and the largest page: Okta's
//! 4xx answers (never a 500), the same on SQLite and PostgreSQL.
use crate::common;

use std::time::Duration;

use common::{assert_error, Backend, TestOrg, BACKENDS};
use serde_json::{json, Value};
use steward_core::directory::{Group, GROUP_TYPE_OKTA};
use steward_core::ids::{new_id, IdKind};
use steward_store::{AppGroupAssignment, AppUserAssignment, StoreError};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn user_body(login: &str, extra: Value) -> Value {
    let mut profile =
        json!({"login": login, "email": "nul@example.com", "firstName": "N", "lastName": "U"});
    for (k, v) in extra.as_object().unwrap() {
        profile[k] = v.clone();
    }
    json!({"profile": profile})
}

fn web_app(label: &str) -> Value {
    json!({
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {"oauthClient": {
            "redirect_uris": ["https://app.example.com/callback"],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "application_type": "web"
        }}
    })
}

/// A 400 E0000001 whose summary and first cause name `field`.
fn assert_refused_field(status: u16, body: &Value, field: &str) {
    assert_error(status, body, 400, "E0000001");
    assert_eq!(
        body["errorSummary"],
        format!("Api validation failed: {field}"),
        "{body}"
    );
    let cause = body["errorCauses"][0]["errorSummary"].as_str().unwrap();
    assert!(cause.starts_with(&format!("{field}: ")), "{body}");
}

/// The `Link` headers of a GET.
async fn get_with_links(org: &TestOrg, url: &str) -> (Vec<Value>, Vec<String>) {
    let r = org
        .http
        .get(url)
        .header("Authorization", format!("SSWS {}", org.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{url}");
    let links = r
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    (r.json().await.unwrap(), links)
}

fn next_link(links: &[String]) -> Option<String> {
    links.iter().find(|l| l.ends_with("rel=\"next\"")).map(|l| {
        l.trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_string()
    })
}

/// NUL (U+0000) in a user's profile is refused with Okta's 400 naming the field, so it can never
/// be stored (on PostgreSQL it was a 500, or worse, an escaped `\u0000` in the profile text that
/// broke every `profile.<custom>` filter for everyone); NUL in a cursor, search, filter or login
/// is a 400 or 404, never a 500.
async fn nul_in_user_input_is_a_client_error(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, b) = org
        .post("/api/v1/users", user_body("a\0b@x.co", json!({})))
        .await;
    assert_refused_field(s, &b, "login");
    let (s, b) = org
        .post(
            "/api/v1/users",
            user_body("nick@x.co", json!({"nick": "\0"})),
        )
        .await;
    assert_refused_field(s, &b, "nick");
    let (s, b) = org
        .post(
            "/api/v1/users",
            user_body("tags@x.co", json!({"tags": ["ok", "a\0"]})),
        )
        .await;
    assert_refused_field(s, &b, "tags");

    let (s, ace) = org
        .post(
            "/api/v1/users",
            user_body("ace@x.co", json!({"nick": "Ace"})),
        )
        .await;
    assert_eq!(s, 200, "{backend:?}: {ace}");
    let path = format!("/api/v1/users/{}", id(&ace));
    let (s, b) = org.post(&path, json!({"profile": {"nick": "x\0y"}})).await;
    assert_refused_field(s, &b, "nick");
    let (s, b) = org
        .put(
            &path,
            user_body("ace@x.co", json!({"nick": "Ace", "team": "\0"})),
        )
        .await;
    assert_refused_field(s, &b, "team");

    // Nothing with NUL was stored: custom-attribute filters and searches still run.
    for list in [
        "/api/v1/users?filter=profile.nick%20eq%20%22Ace%22",
        "/api/v1/users?search=profile.nick%20eq%20%22Ace%22",
    ] {
        let (s, b) = org.get(list).await;
        assert_eq!(s, 200, "{backend:?} {list}: {b}");
        assert_eq!(b.as_array().unwrap().len(), 1, "{backend:?} {list}: {b}");
    }

    let (s, b) = org.get("/api/v1/users?after=%00").await;
    assert_error(s, &b, 400, "E0000029");
    let (s, b) = org.get("/api/v1/users?after=00u%00").await;
    assert_error(s, &b, 400, "E0000029");
    let (s, b) = org.get("/api/v1/users?q=a%00").await;
    assert_refused_field(s, &b, "q");
    // A filter value with NUL, raw or as a JSON escape.
    for filter in [
        "profile.nick%20eq%20%22%00%22",
        "profile.nick%20eq%20%22%5Cu0000%22",
        "profile.login%20sw%20%22a%00%22",
    ] {
        let (s, b) = org.get(&format!("/api/v1/users?filter={filter}")).await;
        assert_error(s, &b, 400, "E0000053");
        let (s, b) = org.get(&format!("/api/v1/users?search={filter}")).await;
        assert_error(s, &b, 400, "E0000053");
    }
    // A login (or id) that cannot exist is not found.
    for missing in [
        "/api/v1/users/a%00b@x.co",
        "/api/v1/users/%00",
        "/api/v1/users/a%00b@x.co/groups",
    ] {
        let (s, b) = org.get(missing).await;
        assert_error(s, &b, 404, "E0000007");
    }
    // groupIds naming a group that cannot exist.
    let mut body = user_body("grp@x.co", json!({}));
    body["groupIds"] = json!(["00g\0"]);
    let (s, b) = org.post("/api/v1/users", body).await;
    assert_refused_field(s, &b, "groupIds");
}

/// The same for groups, their members and apps with their assignments.
async fn nul_in_group_and_app_input_is_a_client_error(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, b) = org
        .post("/api/v1/groups", json!({"profile": {"name": "a\0b"}}))
        .await;
    assert_refused_field(s, &b, "name");
    let (s, b) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Eng", "description": "\0"}}),
        )
        .await;
    assert_refused_field(s, &b, "description");
    let (s, b) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Eng", "costCenter": ["\0"]}}),
        )
        .await;
    assert_refused_field(s, &b, "costCenter");
    let (s, g) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Eng", "costCenter": "CC1"}}),
        )
        .await;
    assert_eq!(s, 200, "{backend:?}: {g}");
    let gpath = format!("/api/v1/groups/{}", id(&g));
    let (s, b) = org
        .put(
            &gpath,
            json!({"profile": {"name": "Eng", "costCenter": "x\0"}}),
        )
        .await;
    assert_refused_field(s, &b, "costCenter");
    let (s, b) = org
        .get("/api/v1/groups?filter=profile.costCenter%20eq%20%22CC1%22")
        .await;
    assert_eq!(
        (s, b.as_array().map(Vec::len)),
        (200, Some(1)),
        "{backend:?}: {b}"
    );

    let (s, b) = org.get("/api/v1/groups?after=%00").await;
    assert_error(s, &b, 400, "E0000029");
    let (s, b) = org.get("/api/v1/groups?q=%00").await;
    assert_refused_field(s, &b, "q");
    let (s, b) = org
        .get("/api/v1/groups?filter=profile.name%20eq%20%22%00%22")
        .await;
    assert_error(s, &b, 400, "E0000053");
    let (s, b) = org.get(&format!("{gpath}/users?after=%00")).await;
    assert_error(s, &b, 400, "E0000029");
    for missing in ["/api/v1/groups/00g%00", "/api/v1/groups/%00/users"] {
        let (s, b) = org.get(missing).await;
        assert_error(s, &b, 404, "E0000007");
    }
    let (s, b) = org
        .put(&format!("{gpath}/users/a%00b@x.co"), json!({}))
        .await;
    assert_error(s, &b, 404, "E0000007");

    // Apps: every string of the app and of its assignments' profiles.
    let (s, b) = org.post("/api/v1/apps", web_app("Port\0al")).await;
    assert_refused_field(s, &b, "label");
    let mut bad = web_app("Portal");
    bad["settings"]["oauthClient"]["redirect_uris"] = json!(["https://app.example.com/\0"]);
    let (s, b) = org.post("/api/v1/apps", bad).await;
    assert_error(s, &b, 400, "E0000001");
    let (s, app) = org.post("/api/v1/apps", web_app("Portal")).await;
    assert_eq!(s, 200, "{backend:?}: {app}");
    let apath = format!("/api/v1/apps/{}", id(&app));
    let user = org.user("assignee@x.co").await;
    let (s, b) = org
        .post(
            &format!("{apath}/users"),
            json!({"id": id(&user), "profile": {"role": "\0"}}),
        )
        .await;
    assert_refused_field(s, &b, "profile.role");
    let (s, b) = org
        .put(
            &format!("{apath}/groups/{}", id(&g)),
            json!({"profile": {"role": "a\0"}}),
        )
        .await;
    assert_refused_field(s, &b, "profile.role");
    for url in [
        "/api/v1/apps?after=%00".to_string(),
        format!("{apath}/users?after=%00"),
        format!("{apath}/groups?after=%00"),
    ] {
        let (s, b) = org.get(&url).await;
        assert_error(s, &b, 400, "E0000029");
    }
    for missing in [
        "/api/v1/apps/0oa%00".to_string(),
        format!("{apath}/groups/00g%00"),
        format!("{apath}/users/a%00b@x.co"),
    ] {
        let (s, b) = org.get(&missing).await;
        assert_error(s, &b, 404, "E0000007");
    }
}

/// A foreign key whose row is gone is NotFound, from every store write that refers to one.
async fn foreign_key_violations_are_not_found(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let user = org.user("fk@x.co").await;
    let (_, g) = org
        .post("/api/v1/groups", json!({"profile": {"name": "FK"}}))
        .await;
    let (_, app) = org.post("/api/v1/apps", web_app("FK app")).await;
    let missing_group = new_id(IdKind::Group);
    let missing_user = new_id(IdKind::User);
    let missing_app = new_id(IdKind::App);

    let mut tx = org.store.begin().await.unwrap();
    let r = tx.add_member(&missing_group, &id(&user), 1).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{backend:?}: {r:?}");
    drop(tx);
    let mut tx = org.store.begin().await.unwrap();
    let r = tx.add_member(&id(&g), &missing_user, 1).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{backend:?}: {r:?}");
    drop(tx);
    let user_assignment = |app_id: String, user_id: String| AppUserAssignment {
        app_id,
        user_id,
        scope: "USER".into(),
        profile: Default::default(),
        created: 1,
        last_updated: 1,
    };
    let mut tx = org.store.begin().await.unwrap();
    let r = tx
        .upsert_app_user(&user_assignment(missing_app.clone(), id(&user)))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{backend:?}: {r:?}");
    drop(tx);
    let mut tx = org.store.begin().await.unwrap();
    let r = tx
        .upsert_app_user(&user_assignment(id(&app), missing_user.clone()))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{backend:?}: {r:?}");
    drop(tx);
    let mut tx = org.store.begin().await.unwrap();
    let r = tx
        .upsert_app_group(&AppGroupAssignment {
            app_id: id(&app),
            group_id: missing_group.clone(),
            priority: 0,
            profile: Default::default(),
            created: 1,
            last_updated: 1,
        })
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{backend:?}: {r:?}");
    drop(tx);
    // Nothing was written: the real rows still work.
    let (s, _) = org
        .put(
            &format!("/api/v1/groups/{}/users/{}", id(&g), id(&user)),
            json!({}),
        )
        .await;
    assert_eq!(s, 204, "{backend:?}");
}

/// `DELETE /api/v1/groups/{gid}` racing `PUT /api/v1/groups/{gid}/users/{uid}`: the group is
/// deleted (in a transaction the test holds open) after the handler has found it and before its
/// insert commits. The membership insert then breaks the foreign key: 404, not 500.
async fn membership_put_racing_a_group_delete_is_not_found(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let user = org.user("racer@x.co").await;
    let (_, g) = org
        .post("/api/v1/groups", json!({"profile": {"name": "Doomed"}}))
        .await;
    let gid = id(&g);
    // Warm the caches of the guard (principal, rate limits) so that the racing request only
    // writes in the handler.
    assert_eq!(org.get(&format!("/api/v1/groups/{gid}")).await.0, 200);

    // The delete takes the write lock first: on SQLite the one writer connection, on
    // PostgreSQL the group's row (the membership insert's foreign-key check waits for it).
    let mut tx = org.store.begin().await.unwrap();
    tx.delete_group(&gid).await.unwrap();
    let request = org
        .http
        .put(format!(
            "{}/api/v1/groups/{gid}/users/{}",
            org.base,
            id(&user)
        ))
        .header("Authorization", format!("SSWS {}", org.token))
        .header("Content-Type", "application/json")
        .body("{}")
        .send();
    let racing = tokio::spawn(async move {
        let r = request.await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    // The handler reads the group (still there for it), then waits on the lock.
    tokio::time::sleep(Duration::from_millis(700)).await;
    tx.commit().await.unwrap();
    let (s, text) = racing.await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    assert_error(s, &body, 404, "E0000007");
    // And after it, plainly: the group is gone.
    let (s, b) = org
        .put(
            &format!("/api/v1/groups/{gid}/users/{}", id(&user)),
            json!({}),
        )
        .await;
    assert_error(s, &b, 404, "E0000007");
}

/// A full page of groups (the default and largest, 10,000) still learns that there is more:
/// the extra row that signals a next page is fetched, `Link rel="next"` is sent, and the next
/// page holds the rest.
#[tokio::test]
async fn a_full_page_of_groups_links_to_the_next() {
    const GROUPS: usize = 10_001;
    for backend in BACKENDS {
        let org = TestOrg::start(backend).await;
        let mut ids = Vec::with_capacity(GROUPS + 1);
        let mut tx = org.store.begin().await.unwrap();
        for n in 0..GROUPS {
            let group = Group {
                id: new_id(IdKind::Group),
                group_type: GROUP_TYPE_OKTA.into(),
                created: 1,
                last_updated: 1,
                last_membership_updated: 1,
                profile: json!({"name": format!("g{n:05}")})
                    .as_object()
                    .unwrap()
                    .clone(),
            };
            tx.insert_group(&group).await.unwrap();
            ids.push(group.id);
        }
        tx.commit().await.unwrap();
        ids.push(org.store.everyone_group().await.unwrap().id);
        ids.sort();
        let last = ids.last().unwrap().clone();

        for first in [
            "/api/v1/groups",
            "/api/v1/groups?limit=10000",
            "/api/v1/groups?limit=20000",
        ] {
            let (page, links) = get_with_links(&org, &format!("{}{first}", org.base)).await;
            assert_eq!(page.len(), 10_000, "{backend:?} {first}");
            let next = next_link(&links)
                .unwrap_or_else(|| panic!("{backend:?} {first}: no next link in {links:?}"));
            assert!(next.contains(&format!("after={}", ids[9_999])), "{next}");
            let (rest, links) = get_with_links(&org, &next).await;
            let rest: Vec<String> = rest.iter().map(id).collect();
            assert_eq!(rest, ids[10_000..].to_vec(), "{backend:?} {first}");
            assert!(rest.contains(&last));
            assert_eq!(next_link(&links), None, "{backend:?} {first}: {links:?}");
        }
        // A page that ends exactly at the last group has no next link.
        let (page, links) = get_with_links(
            &org,
            &format!("{}/api/v1/groups?after={}", org.base, ids[GROUPS - 10_000]),
        )
        .await;
        assert_eq!(page.len(), 10_000, "{backend:?}");
        assert_eq!(next_link(&links), None, "{backend:?}: {links:?}");
    }
}

on_both_backends!(
    nul_in_user_input_is_a_client_error,
    nul_in_group_and_app_input_is_a_client_error,
    foreign_key_violations_are_not_found,
    membership_put_racing_a_group_delete_is_not_found,
);
