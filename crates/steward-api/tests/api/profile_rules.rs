//! Okta's base-profile types and length limits (issue 11, items 6 and 10), through HTTP on
//! SQLite and PostgreSQL: every base attribute of users and groups is a string (null where Okta
//! allows it), values and passwords over Okta's limits are refused with `E0000001` on create,
//! full and partial update and at the activation page, and a refused request writes nothing.
use crate::common;

use common::oauth::{browser, hidden};
use common::{assert_error, Backend, TestOrg};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn profile(login: &str, extra: Value) -> Value {
    let mut p = json!({"login": login, "email": login, "firstName": "Pat", "lastName": "Rules"});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// A 400 `E0000001` whose summary names `field` and whose causes include `cause`.
fn assert_cause(status: u16, body: &Value, field: &str, cause: &str) {
    assert_error(status, body, 400, "E0000001");
    assert_eq!(
        body["errorSummary"],
        format!("Api validation failed: {field}"),
        "{body}"
    );
    let causes: Vec<&str> = body["errorCauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["errorSummary"].as_str().unwrap())
        .collect();
    assert!(
        causes.contains(&format!("{field}: {cause}").as_str()),
        "{body}"
    );
}

const INVALID_TYPE: &str = "Property has an invalid type";
const TOO_LONG: &str = "The field is too long";

async fn group_count(org: &TestOrg) -> usize {
    let (s, groups) = org.get("/api/v1/groups?limit=200").await;
    assert_eq!(s, 200);
    groups.as_array().unwrap().len()
}

/// A group's `description` is a string of at most 1024 characters (or null), its `name` a
/// string of at most 255; nothing is stored on a refusal. Failed without the fix: a 1 MB
/// description and `{"a":1}` were stored (200).
async fn group_profiles_are_typed_and_bounded(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let before = group_count(&org).await;
    let long = "d".repeat(1025);
    let huge = "d".repeat(1024 * 1024);
    for (body, field, cause) in [
        (
            json!({"name": "G", "description": {"a": 1}}),
            "description",
            INVALID_TYPE,
        ),
        (
            json!({"name": "G", "description": ["a"]}),
            "description",
            INVALID_TYPE,
        ),
        (
            json!({"name": "G", "description": 7}),
            "description",
            INVALID_TYPE,
        ),
        (json!({"name": 123}), "name", INVALID_TYPE),
        (
            json!({"name": "G", "description": long}),
            "description",
            TOO_LONG,
        ),
        (
            json!({"name": "G", "description": huge}),
            "description",
            TOO_LONG,
        ),
        (json!({"name": "n".repeat(256)}), "name", TOO_LONG),
        (
            json!({"name": "G", "extra": {"nested": true}}),
            "extra",
            INVALID_TYPE,
        ),
    ] {
        let (s, b) = org.post("/api/v1/groups", json!({ "profile": body })).await;
        assert_cause(s, &b, field, cause);
    }
    assert_eq!(group_count(&org).await, before, "nothing was stored");

    // At the limits, and a null description, are fine.
    let (s, g) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "n".repeat(255), "description": "d".repeat(1024)}}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    let (s, g) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Typed", "description": null}}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    let gid = id(&g);

    // A full update is held to the same rules and leaves the group as it was.
    let (s, b) = org
        .put(
            &format!("/api/v1/groups/{gid}"),
            json!({"profile": {"name": "Typed", "description": {"a": 1}}}),
        )
        .await;
    assert_cause(s, &b, "description", INVALID_TYPE);
    let (s, b) = org
        .put(
            &format!("/api/v1/groups/{gid}"),
            json!({"profile": {"name": "Typed", "description": "d".repeat(1025)}}),
        )
        .await;
    assert_cause(s, &b, "description", TOO_LONG);
    let (_, now) = org.get(&format!("/api/v1/groups/{gid}")).await;
    assert_eq!(
        now["profile"],
        json!({"name": "Typed", "description": null})
    );
    let (s, b) = org
        .put(
            &format!("/api/v1/groups/{gid}"),
            json!({"profile": {"name": "Typed", "description": "ok"}}),
        )
        .await;
    assert_eq!(
        (s, &b["profile"]["description"]),
        (200, &json!("ok")),
        "{b}"
    );
}

/// Every base attribute of a user is a string; `null` clears an optional one. Failed without
/// the fix: `department: ["a"]` and `managerId: 123` were stored (200).
async fn user_base_attributes_are_strings(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, b) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile("typed@example.com", json!({"department": ["a"]}))}),
        )
        .await;
    assert_cause(s, &b, "department", INVALID_TYPE);
    let (s, b) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile("typed@example.com", json!({"managerId": 123, "title": {"x": 1}}))}),
        )
        .await;
    assert_cause(s, &b, "managerId", INVALID_TYPE);
    assert_eq!(
        b["errorCauses"][1]["errorSummary"],
        format!("title: {INVALID_TYPE}"),
        "{b}"
    );
    let (s, b) = org.get("/api/v1/users/typed@example.com").await;
    assert_error(s, &b, 404, "E0000007");

    let (s, u) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile("typed@example.com", json!({"department": "Eng", "managerId": "00u1"}))}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let uid = id(&u);
    let path = format!("/api/v1/users/{uid}");

    // Partial update.
    for (attr, bad) in [
        ("managerId", json!(123)),
        ("department", json!(["a"])),
        ("countryCode", json!(true)),
        ("firstName", json!({"given": "Pat"})),
    ] {
        let (s, b) = org.post(&path, json!({"profile": { attr: bad }})).await;
        assert_cause(s, &b, attr, INVALID_TYPE);
    }
    // Full update.
    let (s, b) = org
        .put(
            &path,
            json!({"profile": profile("typed@example.com", json!({"managerId": 123}))}),
        )
        .await;
    assert_cause(s, &b, "managerId", INVALID_TYPE);
    let (_, now) = org.get(&path).await;
    assert_eq!(now["profile"]["department"], "Eng");
    assert_eq!(now["profile"]["managerId"], "00u1");
    assert_eq!(now["lastUpdated"], u["lastUpdated"], "nothing was written");

    // null clears an optional base attribute; a required one cannot be null.
    let (s, b) = org
        .post(&path, json!({"profile": {"managerId": null}}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(b["profile"]["managerId"].is_null(), "{b}");
    let (s, b) = org
        .post(&path, json!({"profile": {"firstName": null}}))
        .await;
    assert_cause(s, &b, "firstName", "The field cannot be left blank");
}

/// User attributes follow Okta's `maxLength`s (and Steward's cap where Okta documents none).
/// Failed without the fix: a 51-character firstName and a 1 MB attribute were stored.
async fn user_attributes_are_bounded(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, b) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile("long@example.com", json!({"firstName": "f".repeat(51)}))}),
        )
        .await;
    assert_cause(s, &b, "firstName", TOO_LONG);
    let (s, u) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile("long@example.com", json!({"firstName": "f".repeat(50), "city": "c".repeat(128)}))}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let path = format!("/api/v1/users/{}", id(&u));
    let (s, b) = org
        .post(&path, json!({"profile": {"city": "c".repeat(129)}}))
        .await;
    assert_cause(s, &b, "city", TOO_LONG);
    let (s, b) = org
        .put(
            &path,
            json!({"profile": profile("long@example.com", json!({"bio": "b".repeat(1024 * 1024)}))}),
        )
        .await;
    assert_cause(s, &b, "bio", TOO_LONG);
    let (s, b) = org
        .post(&path, json!({"profile": {"title": "t".repeat(4097)}}))
        .await;
    assert_cause(s, &b, "title", TOO_LONG);
    let (_, now) = org.get(&path).await;
    assert_eq!(now["profile"], u["profile"], "nothing was written");
}

/// A password is at most 72 characters (the most Okta keeps) on create, partial and full
/// update. Failed without the fix: a 1 MB password was accepted and hashed.
async fn passwords_are_bounded(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let longest = format!("Aa1-{}", "x".repeat(68));
    assert_eq!(longest.chars().count(), 72);
    let too_long = format!("{longest}y");
    let huge = format!("Aa1-{}", "x".repeat(1024 * 1024));
    let (s, b) = org
        .post(
            "/api/v1/users?activate=true",
            json!({"profile": profile("pw@example.com", json!({})), "credentials": {"password": {"value": too_long}}}),
        )
        .await;
    assert_cause(s, &b, "password", "Password requirements were not met. Password requirements: at least 8 characters, at most 72 characters, a lowercase letter, an uppercase letter, a number, no parts of your username.");
    let (s, b) = org.get("/api/v1/users/pw@example.com").await;
    assert_error(s, &b, 404, "E0000007");
    let (s, u) = org
        .post(
            "/api/v1/users?activate=true",
            json!({"profile": profile("pw@example.com", json!({})), "credentials": {"password": {"value": longest}}}),
        )
        .await;
    assert_eq!((s, u["status"].as_str()), (200, Some("ACTIVE")), "{u}");
    let path = format!("/api/v1/users/{}", id(&u));
    let (s, b) = org
        .post(&path, json!({"credentials": {"password": {"value": huge}}}))
        .await;
    assert_error(s, &b, 400, "E0000001");
    assert_eq!(b["errorSummary"], "Api validation failed: password", "{b}");
    let (s, b) = org
        .put(
            &path,
            json!({"profile": profile("pw@example.com", json!({})), "credentials": {"password": {"value": too_long}}}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");
    let (_, now) = org.get(&path).await;
    assert_eq!(now["passwordChanged"], u["passwordChanged"], "{now}");
    assert_eq!(now["lastUpdated"], u["lastUpdated"], "{now}");
}

/// The activation page refuses a password over 72 characters and leaves the user PROVISIONED.
async fn activation_page_bounds_the_password(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, u) = org
        .post(
            "/api/v1/users?activate=false",
            json!({"profile": profile("wel@example.com", json!({}))}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let uid = id(&u);
    let (s, body) = org
        .post(
            &format!("/api/v1/users/{uid}/lifecycle/activate?sendEmail=false"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let url = body["activationUrl"].as_str().unwrap().to_string();
    let b = browser();
    let html = b.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("at most 72 characters"), "{html}");
    let csrf = hidden(&html, "csrf").unwrap();
    let too_long = format!("Aa1-{}", "x".repeat(69));
    let r = b
        .post(&url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", too_long.as_str()),
            ("password_confirm", too_long.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Password requirements were not met"),
        "{html}"
    );
    let (_, now) = org.get(&format!("/api/v1/users/{uid}")).await;
    assert_eq!(now["status"], "PROVISIONED", "{now}");
}

on_both_backends!(
    group_profiles_are_typed_and_bounded,
    user_base_attributes_are_strings,
    user_attributes_are_bounded,
    passwords_are_bounded,
    activation_page_bounds_the_password,
);
