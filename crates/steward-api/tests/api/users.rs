//! `/api/v1/users` through real HTTP, on SQLite and PostgreSQL.
use crate::common;

use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::json;

fn profile(login: &str) -> serde_json::Value {
    json!({"login": login, "email": login, "firstName": "Jane", "lastName": "Doe", "department": "Eng"})
}

async fn create_with_and_without_activation(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let active = org.user("jane@example.com").await;
    assert_eq!(active["status"], "ACTIVE", "{backend:?}");
    assert_eq!(active["id"].as_str().unwrap().len(), 20);
    assert!(active["id"].as_str().unwrap().starts_with("00u"));
    assert_eq!(active["profile"]["department"], serde_json::Value::Null);
    assert!(active["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .starts_with(&org.base));
    assert!(
        active["credentials"]["password"].is_object(),
        "password never echoed, only its presence"
    );

    let (s, staged) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile("staged@example.com")}),
        )
        .await;
    assert_eq!(
        (s, staged["status"].as_str()),
        (200, Some("STAGED")),
        "{staged}"
    );
    let (s, provisioned) = org
        .post(
            "/api/v1/users",
            json!({"profile": profile("prov@example.com")}),
        )
        .await;
    assert_eq!(
        (s, provisioned["status"].as_str()),
        (200, Some("PROVISIONED"))
    );

    // One user carries its allowed lifecycle links; users in a list carry only `self`, as in
    // Okta. Okta's `type` and `schema` links are left out: `/api/v1/meta` is not built, and a
    // link must resolve (the type's id is in `type`).
    let id = active["id"].as_str().unwrap();
    let (_, one) = org.get(&format!("/api/v1/users/{id}")).await;
    let links = one["_links"].as_object().unwrap();
    for rel in ["self", "deactivate", "suspend"] {
        assert!(links.contains_key(rel), "{backend:?}: {rel} in {one}");
    }
    for rel in ["type", "schema"] {
        assert!(!links.contains_key(rel), "{backend:?}: {rel} in {one}");
    }
    assert!(one["type"]["id"].is_string(), "{one}");
    assert!(!links.contains_key("activate"), "{backend:?}: {one}");
    let (_, list) = org.get("/api/v1/users?limit=200").await;
    for u in list.as_array().unwrap() {
        let keys: Vec<_> = u["_links"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["self"], "{backend:?}: {u}");
    }

    // Group ids on create add memberships.
    let (_, group) = org
        .post("/api/v1/groups", json!({"profile": {"name": "Starters"}}))
        .await;
    let (s, with_group) = org
        .post(
            "/api/v1/users",
            json!({"profile": profile("grouped@example.com"), "groupIds": [group["id"]]}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, groups) = org
        .get(&format!(
            "/api/v1/users/{}/groups",
            with_group["id"].as_str().unwrap()
        ))
        .await;
    let names: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["profile"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Starters") && names.contains(&"Everyone"),
        "{names:?}"
    );
}

async fn create_rejects_bad_input_and_writes_nothing(backend: Backend) {
    let org = TestOrg::start(backend).await;
    org.user("dup@example.com").await;
    let (s, b) = org
        .post(
            "/api/v1/users",
            json!({"profile": profile("DUP@example.com")}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");
    assert!(
        b["errorCauses"][0]["errorSummary"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{b}"
    );

    let (s, b) = org
        .post(
            "/api/v1/users",
            json!({"profile": {"login": "not-an-email", "firstName": "A"}}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");
    assert!(b["errorCauses"].as_array().unwrap().len() >= 3, "{b}");

    let weak = json!({"profile": profile("weak@example.com"), "credentials": {"password": {"value": "abc"}}});
    let (s, b) = org.post("/api/v1/users", weak).await;
    assert_error(s, &b, 400, "E0000001");

    let r = org
        .raw(
            Some(&format!("SSWS {}", org.token)),
            Method::POST,
            "/api/v1/users",
            Some("{not json".into()),
        )
        .await;
    let status = r.status().as_u16();
    assert_error(status, &r.json().await.unwrap(), 400, "E0000003");

    let (s, b) = org.post("/api/v1/users", json!({"profile": profile("badgroup@example.com"), "groupIds": ["00gdoesnotexist00000"]})).await;
    assert_error(s, &b, 400, "E0000001");
    // The failed request wrote nothing: the user does not exist.
    let (s, _) = org.get("/api/v1/users/badgroup@example.com").await;
    assert_eq!(s, 404, "{backend:?}");
}

async fn get_by_id_login_and_me(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let u = org.user("find.me@example.com").await;
    let id = u["id"].as_str().unwrap();
    assert_eq!(org.get(&format!("/api/v1/users/{id}")).await.1["id"], id);
    assert_eq!(
        org.get("/api/v1/users/FIND.ME@example.com").await.1["id"],
        id
    );
    assert_eq!(
        org.get("/api/v1/users/me").await.1["profile"]["login"],
        "admin@steward.local"
    );
    let (s, b) = org.get("/api/v1/users/00u00000000000000000").await;
    assert_error(s, &b, 404, "E0000007");
}

async fn list_search_filter_and_page(backend: Backend) {
    let org = TestOrg::start(backend).await;
    for i in 0..7 {
        org.user(&format!("pager{i}@example.com")).await;
    }
    // q matches name/email prefixes.
    let (_, hits) = org.get("/api/v1/users?q=pager").await;
    assert_eq!(hits.as_array().unwrap().len(), 7, "{backend:?}");
    let (_, hits) = org
        .get("/api/v1/users?filter=profile.login%20eq%20%22pager3%40example.com%22")
        .await;
    assert_eq!(hits.as_array().unwrap().len(), 1);
    let (_, hits) = org.get("/api/v1/users?search=profile.lastName%20sw%20%22pager%22%20and%20status%20eq%20%22ACTIVE%22").await;
    assert_eq!(hits.as_array().unwrap().len(), 7);
    let (s, b) = org.get("/api/v1/users?filter=profile.login%20eq").await;
    assert_error(s, &b, 400, "E0000053");
    let (s, b) = org.get("/api/v1/users?search=secret%20eq%20%22x%22").await;
    assert_error(s, &b, 400, "E0000053");
    let (s, b) = org.get("/api/v1/users?limit=abc").await;
    assert_error(s, &b, 400, "E0000029");

    // Follow Link rel="next" until it disappears: every user once (7 + admin).
    let mut url = format!("{}/api/v1/users?limit=3", org.base);
    let mut seen = Vec::new();
    loop {
        let r = org
            .http
            .get(&url)
            .header("Authorization", format!("SSWS {}", org.token))
            .send()
            .await
            .unwrap();
        let links: Vec<String> = r
            .headers()
            .get_all("link")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert!(links.iter().any(|l| l.ends_with("rel=\"self\"")));
        let page: Vec<serde_json::Value> = r.json().await.unwrap();
        seen.extend(page.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        match links.iter().find(|l| l.ends_with("rel=\"next\"")) {
            Some(next) => {
                url = next
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string()
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "{backend:?}");
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 8);
    // Paging past the end is an empty page, not an error.
    let (s, b) = org.get("/api/v1/users?after=zzzzzzzzzzzzzzzzzzzz").await;
    assert_eq!((s, b.as_array().unwrap().len()), (200, 0));
}

async fn update_partial_and_full(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let u = org.user("upd@example.com").await;
    let path = format!("/api/v1/users/{}", u["id"].as_str().unwrap());
    let (s, b) = org
        .post(&path, json!({"profile": {"title": "Engineer"}}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["profile"]["title"], "Engineer");
    assert_eq!(
        b["profile"]["firstName"], "Test",
        "partial update keeps other attributes"
    );
    let (s, b) = org.put(&path, json!({"profile": {"login": "upd@example.com", "email": "upd@example.com", "firstName": "New", "lastName": "Name"}})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["profile"]["title"],
        serde_json::Value::Null,
        "PUT replaces the profile"
    );
    let (s, b) = org
        .put(&path, json!({"profile": {"login": "upd@example.com"}}))
        .await;
    assert_error(s, &b, 400, "E0000001");
    let (s, b) = org
        .post(
            &path,
            json!({"credentials": {"password": {"value": "An0ther-Good-One"}}}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_ne!(b["passwordChanged"], u["passwordChanged"]);
}

async fn lifecycle_and_delete(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let u = org.user("life@example.com").await;
    let base = format!("/api/v1/users/{}", u["id"].as_str().unwrap());
    let (s, _) = org
        .post(&format!("{base}/lifecycle/suspend"), json!({}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(org.get(&base).await.1["status"], "SUSPENDED");
    let (s, b) = org
        .post(&format!("{base}/lifecycle/suspend"), json!({}))
        .await;
    assert_error(s, &b, 400, "E0000001");
    assert_eq!(
        org.post(&format!("{base}/lifecycle/unsuspend"), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(org.get(&base).await.1["status"], "ACTIVE");
    let (s, b) = org
        .post(&format!("{base}/lifecycle/explode"), json!({}))
        .await;
    assert_error(s, &b, 404, "E0000007");

    // Deactivated users are hidden from plain lists but found by a status filter.
    assert_eq!(
        org.post(&format!("{base}/lifecycle/deactivate"), json!({}))
            .await
            .0,
        200
    );
    let (_, all) = org.get("/api/v1/users?q=life").await;
    assert_eq!(all.as_array().unwrap().len(), 0, "{backend:?}");
    let (_, gone) = org
        .get("/api/v1/users?filter=status%20eq%20%22DEPROVISIONED%22")
        .await;
    assert_eq!(gone.as_array().unwrap().len(), 1);
    assert_eq!(
        org.post(&format!("{base}/lifecycle/activate"), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(org.get(&base).await.1["status"], "ACTIVE");

    // DELETE deactivates first, then deletes.
    assert_eq!(org.delete(&base).await.0, 204);
    assert_eq!(org.get(&base).await.1["status"], "DEPROVISIONED");
    assert_eq!(org.delete(&base).await.0, 204);
    let (s, b) = org.get(&base).await;
    assert_error(s, &b, 404, "E0000007");
}

on_both_backends!(
    create_with_and_without_activation,
    create_rejects_bad_input_and_writes_nothing,
    get_by_id_login_and_me,
    list_search_filter_and_page,
    update_partial_and_full,
    lifecycle_and_delete,
);
