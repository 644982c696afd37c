//! Groups, apps, roles and the System Log through real HTTP, on SQLite and PostgreSQL.
use crate::common;

use common::{assert_error, Backend, TestOrg};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn groups_crud_and_members(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, g) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Engineering", "description": "Builders"}}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    assert!(id(&g).starts_with("00g"));
    assert_eq!(g["type"], "OKTA_GROUP");
    let (s, b) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "engineering"}}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");
    let (s, b) = org.post("/api/v1/groups", json!({"profile": {}})).await;
    assert_error(s, &b, 400, "E0000001");
    let path = format!("/api/v1/groups/{}", id(&g));
    let (s, g2) = org
        .put(
            &path,
            json!({"profile": {"name": "Eng", "description": "Renamed"}}),
        )
        .await;
    assert_eq!((s, g2["profile"]["name"].as_str()), (200, Some("Eng")));
    let (_, found) = org.get("/api/v1/groups?q=en").await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{backend:?}");
    let (_, found) = org
        .get("/api/v1/groups?filter=profile.name%20eq%20%22eng%22")
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1);

    let u = org.user("member@example.com").await;
    let member_path = format!("{path}/users/{}", id(&u));
    assert_eq!(org.put(&member_path, json!({})).await.0, 204);
    assert_eq!(org.put(&member_path, json!({})).await.0, 204, "idempotent");
    let (_, members) = org.get(&format!("{path}/users")).await;
    assert_eq!(members[0]["id"], u["id"]);
    let (_, groups) = org.get(&format!("/api/v1/users/{}/groups", id(&u))).await;
    let names: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["profile"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{groups}");
    assert!(
        names.contains(&"Eng") && names.contains(&"Everyone"),
        "{names:?}"
    );

    // Everyone is BUILT_IN: every user is in it, and it cannot be edited by hand.
    let (_, everyone) = org
        .get("/api/v1/groups?filter=type%20eq%20%22BUILT_IN%22")
        .await;
    assert_eq!(everyone[0]["profile"]["name"], "Everyone", "{everyone}");
    let everyone_path = format!("/api/v1/groups/{}", id(&everyone[0]));
    let (_, all) = org.get(&format!("{everyone_path}/users")).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "admin and member: {all}");
    let (s, b) = org
        .delete(&format!("{everyone_path}/users/{}", id(&u)))
        .await;
    assert_error(s, &b, 400, "E0000001");
    let (s, b) = org.delete(&everyone_path).await;
    assert_error(s, &b, 400, "E0000001");
    assert_eq!(org.delete(&member_path).await.0, 204);
    assert_eq!(
        org.get(&format!("{path}/users"))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let (s, b) = org
        .put(&format!("{path}/users/00u00000000000000000"), json!({}))
        .await;
    assert_error(s, &b, 404, "E0000007");

    assert_eq!(org.delete(&path).await.0, 204);
    let (s, b) = org.get(&path).await;
    assert_error(s, &b, 404, "E0000007");
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
            "grant_types": ["authorization_code", "refresh_token"],
            "application_type": "web"
        }}
    })
}

async fn oidc_apps_lifecycle_and_assignments(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (s, app) = org.post("/api/v1/apps", web_app("Expense Portal")).await;
    assert_eq!(s, 200, "{app}");
    assert!(id(&app).starts_with("0oa"));
    assert_eq!(app["status"], "ACTIVE");
    let secret = app["credentials"]["oauthClient"]["client_secret"]
        .as_str()
        .unwrap();
    assert!(secret.len() >= 40);
    assert_eq!(app["credentials"]["oauthClient"]["client_id"], app["id"]);
    assert_eq!(
        app["settings"]["oauthClient"]["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    let path = format!("/api/v1/apps/{}", id(&app));
    let (_, fetched) = org.get(&path).await;
    assert_eq!(
        fetched["credentials"]["oauthClient"]["client_secret"],
        Value::Null,
        "secret shown only on create"
    );
    let (_, listed) = org.get("/api/v1/apps?q=expense").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{backend:?}");
    let (_, listed) = org
        .get("/api/v1/apps?filter=status%20eq%20%22ACTIVE%22")
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Bad settings are validation errors with a cause per problem.
    let mut bad = web_app("Bad");
    bad["settings"]["oauthClient"]["redirect_uris"] = json!(["not a uri"]);
    bad["settings"]["oauthClient"]["grant_types"] = json!(["password"]);
    let (s, b) = org.post("/api/v1/apps", bad).await;
    assert_error(s, &b, 400, "E0000001");
    assert_eq!(b["errorCauses"].as_array().unwrap().len(), 2, "{b}");
    let (s, b) = org
        .post(
            "/api/v1/apps",
            json!({"label": "Saml", "signOnMode": "SAML_2_0"}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");

    // Replace updates settings.
    let mut changed = web_app("Expense Portal v2");
    changed["settings"]["oauthClient"]["redirect_uris"] = json!(["https://app.example.com/cb2"]);
    let (s, b) = org.put(&path, changed).await;
    assert_eq!(
        (s, b["label"].as_str()),
        (200, Some("Expense Portal v2")),
        "{b}"
    );
    assert_eq!(
        b["settings"]["oauthClient"]["redirect_uris"],
        json!(["https://app.example.com/cb2"])
    );

    // Assignments: direct and through a group.
    let direct = org.user("direct@example.com").await;
    let via_group = org.user("viagroup@example.com").await;
    let (_, g) = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "Expense Users"}}),
        )
        .await;
    org.put(
        &format!("/api/v1/groups/{}/users/{}", id(&g), id(&via_group)),
        json!({}),
    )
    .await;
    let (s, a) = org
        .post(
            &format!("{path}/users"),
            json!({"id": id(&direct), "scope": "USER"}),
        )
        .await;
    assert_eq!((s, a["scope"].as_str()), (200, Some("USER")), "{a}");
    let (s, ga) = org
        .put(&format!("{path}/groups/{}", id(&g)), json!({"priority": 1}))
        .await;
    assert_eq!((s, ga["id"].clone()), (200, g["id"].clone()), "{ga}");
    let (_, users) = org.get(&format!("{path}/users")).await;
    let scopes: Vec<(String, String)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (id(u), u["scope"].as_str().unwrap().to_string()))
        .collect();
    assert!(scopes.contains(&(id(&direct), "USER".into())), "{users}");
    assert!(
        scopes.contains(&(id(&via_group), "GROUP".into())),
        "{users}"
    );
    assert_eq!(
        org.get(&format!("{path}/users/{}", id(&via_group))).await.1["scope"],
        "GROUP"
    );
    assert_eq!(
        org.get(&format!("{path}/groups"))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        org.delete(&format!("{path}/users/{}", id(&direct))).await.0,
        204
    );
    let (s, b) = org.get(&format!("{path}/users/{}", id(&direct))).await;
    assert_error(s, &b, 404, "E0000007");
    assert_eq!(
        org.delete(&format!("{path}/groups/{}", id(&g))).await.0,
        204
    );

    // An active app cannot be deleted; a deactivated one can.
    let (s, b) = org.delete(&path).await;
    assert_error(s, &b, 403, "E0000056");
    assert_eq!(
        org.post(&format!("{path}/lifecycle/deactivate"), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(org.get(&path).await.1["status"], "INACTIVE");
    assert_eq!(org.delete(&path).await.0, 204);
    assert_eq!(org.get(&path).await.0, 404);
}

async fn service_apps_with_keys_and_client_roles(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let body = json!({
        "label": "Governance Bot",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
        "settings": {"oauthClient": {
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "jwks": {"keys": [{"kty": "RSA", "kid": "k1", "e": "AQAB", "n": "xyz"}]}
        }}
    });
    let (s, app) = org.post("/api/v1/apps", body).await;
    assert_eq!(s, 200, "{app}");
    assert_eq!(
        app["credentials"]["oauthClient"]["client_secret"],
        Value::Null,
        "no secret for private_key_jwt"
    );
    assert_eq!(
        app["settings"]["oauthClient"]["jwks"]["keys"][0]["kid"],
        "k1"
    );
    let client_id = app["credentials"]["oauthClient"]["client_id"]
        .as_str()
        .unwrap();
    let roles = format!("/oauth2/v1/clients/{client_id}/roles");
    let (s, r) = org
        .post(&roles, json!({"type": "ACCESS_REQUESTS_ADMIN"}))
        .await;
    assert_eq!(
        (s, r["assignmentType"].as_str()),
        (200, Some("CLIENT")),
        "{r}"
    );
    assert_eq!(
        org.get(&roles).await.1[0]["type"],
        "ACCESS_REQUESTS_ADMIN",
        "{backend:?}"
    );
    assert_eq!(org.get(&format!("{roles}/{}", id(&r))).await.0, 200);
    assert_eq!(org.delete(&format!("{roles}/{}", id(&r))).await.0, 204);
    assert_eq!(org.get(&roles).await.1.as_array().unwrap().len(), 0);
    let (s, b) = org.get("/oauth2/v1/clients/nope/roles").await;
    assert_error(s, &b, 404, "E0000007");
}

async fn user_roles_and_the_permission_model(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let reader = org.user("reader@example.com").await;
    let nobody = org.user("nobody@example.com").await;
    let roles = format!("/api/v1/users/{}/roles", id(&reader));
    let (s, r) = org.post(&roles, json!({"type": "READ_ONLY_ADMIN"})).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["label"], "Read Only Administrator");
    let (s, b) = org.post(&roles, json!({"type": "READ_ONLY_ADMIN"})).await;
    assert_error(s, &b, 400, "E0000001");
    let (s, b) = org.post(&roles, json!({"type": "EMPEROR"})).await;
    assert_error(s, &b, 400, "E0000001");
    assert_eq!(org.get(&roles).await.1.as_array().unwrap().len(), 1);
    assert_eq!(
        org.get(&format!("{roles}/{}", id(&r))).await.1["type"],
        "READ_ONLY_ADMIN"
    );

    // A read-only admin reads but cannot write; a user without roles can do neither.
    let reader_token = org.token_for("reader@example.com").await;
    let nobody_token = org.token_for("nobody@example.com").await;
    use reqwest::Method;
    let (s, _) = org
        .send_as(&reader_token, Method::GET, "/api/v1/users", None)
        .await;
    assert_eq!(s, 200, "{backend:?}");
    let (s, _) = org
        .send_as(&reader_token, Method::GET, "/api/v1/logs", None)
        .await;
    assert_eq!(s, 200);
    let (s, b) = org
        .send_as(
            &reader_token,
            Method::POST,
            "/api/v1/groups",
            Some(json!({"profile": {"name": "X"}})),
        )
        .await;
    assert_error(s, &b, 403, "E0000006");
    let (s, b) = org
        .send_as(
            &reader_token,
            Method::POST,
            &roles,
            Some(json!({"type": "SUPER_ADMIN"})),
        )
        .await;
    assert_error(s, &b, 403, "E0000006");
    let (s, b) = org
        .send_as(
            &nobody_token,
            Method::GET,
            &format!("/api/v1/users/{}", id(&nobody)),
            None,
        )
        .await;
    assert_error(s, &b, 403, "E0000006");

    // Removing the role takes effect at once.
    assert_eq!(org.delete(&format!("{roles}/{}", id(&r))).await.0, 204);
    let (s, b) = org
        .send_as(&reader_token, Method::GET, "/api/v1/users", None)
        .await;
    assert_error(s, &b, 403, "E0000006");

    // Bad, revoked and missing credentials are 401 E0000011.
    let (s, b) = org
        .send_as("not-a-token", Method::GET, "/api/v1/users", None)
        .await;
    assert_error(s, &b, 401, "E0000011");
    let r = org.raw(None, Method::GET, "/api/v1/users", None).await;
    assert_eq!(
        r.headers()["www-authenticate"],
        format!("Bearer realm=\"{}\"", org.base)
    );
    assert_error(
        r.status().as_u16(),
        &r.json().await.unwrap(),
        401,
        "E0000011",
    );
    let tokens = org.store.api_tokens().await.unwrap();
    let reader_id = id(&reader);
    let t = tokens.iter().find(|t| t.user_id == reader_id).unwrap();
    steward_app::bootstrap::revoke_api_token(&steward_app::Ctx::system(&org.store), &t.id)
        .await
        .unwrap();
    org.store.ping().await.unwrap();
    // Revoked outside this server process: its principal cache forgets within 5 s.
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    let (s, b) = org
        .send_as(&reader_token, Method::GET, "/api/v1/users", None)
        .await;
    assert_error(s, &b, 401, "E0000011");

    // A deactivated admin's token stops working.
    let (_, _) = org
        .post(
            &format!("/api/v1/users/{}/lifecycle/deactivate", id(&nobody)),
            json!({}),
        )
        .await;
    let (s, b) = org
        .send_as(&nobody_token, Method::GET, "/api/v1/users", None)
        .await;
    assert_error(s, &b, 401, "E0000011");
}

async fn system_log_records_writes_and_pages(backend: Backend) {
    let org = TestOrg::start(backend).await;
    for i in 0..5 {
        org.user(&format!("logged{i}@example.com")).await;
    }
    let (_, g) = org
        .post("/api/v1/groups", json!({"profile": {"name": "Logged"}}))
        .await;
    let (s, events) = org.get("/api/v1/logs?filter=eventType%20eq%20%22user.lifecycle.create%22&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z").await;
    assert_eq!(s, 200, "{events}");
    // The bootstrap admin and the five users.
    assert_eq!(events.as_array().unwrap().len(), 6, "{backend:?}");
    let e = &events[1];
    for key in [
        "uuid",
        "published",
        "eventType",
        "actor",
        "target",
        "outcome",
        "client",
        "debugContext",
    ] {
        assert!(!e[key].is_null(), "{key} in {e}");
    }
    assert_eq!(e["actor"]["alternateId"], "admin@steward.local");
    assert_eq!(e["target"][0]["alternateId"], "logged0@example.com");
    assert_eq!(e["outcome"]["result"], "SUCCESS");
    assert!(e["debugContext"]["debugData"]["requestId"].is_string());

    let (_, by_target) = org
        .get(&format!(
            "/api/v1/logs?filter=target.id%20eq%20%22{}%22",
            id(&g)
        ))
        .await;
    assert_eq!(by_target[0]["eventType"], "group.lifecycle.create");
    let (_, q) = org.get("/api/v1/logs?q=logged3").await;
    assert!(q
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e.to_string().contains("logged3")));
    assert!(!q.as_array().unwrap().is_empty());

    // Paging with limit follows the Link header; a bounded query ends.
    let mut url = format!(
        "{}/api/v1/logs?limit=2&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z",
        org.base
    );
    let mut total = 0;
    for _ in 0..50 {
        let r = org
            .http
            .get(&url)
            .header("Authorization", format!("SSWS {}", org.token))
            .send()
            .await
            .unwrap();
        let next = r
            .headers()
            .get_all("link")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|l| l.ends_with("rel=\"next\""));
        total += r.json::<Vec<Value>>().await.unwrap().len();
        match next {
            Some(n) => {
                url = n
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string()
            }
            None => break,
        }
    }
    assert!(total >= 13, "{total} events");

    let (_, desc) = org.get("/api/v1/logs?sortOrder=DESCENDING&limit=1").await;
    assert_eq!(desc[0]["eventType"], "group.lifecycle.create");
    let (_, none) = org.get("/api/v1/logs?since=2999-01-01T00:00:00Z").await;
    assert_eq!(none.as_array().unwrap().len(), 0);
    let (s, b) = org.get("/api/v1/logs?since=yesterday").await;
    assert_error(s, &b, 400, "E0000001");
    let (s, b) = org.get("/api/v1/logs?filter=eventType%20eq").await;
    assert_error(s, &b, 400, "E0000053");
    let (s, b) = org.get("/api/v1/logs?after=xyz").await;
    assert_error(s, &b, 400, "E0000029");
}

on_both_backends!(
    groups_crud_and_members,
    oidc_apps_lifecycle_and_assignments,
    service_apps_with_keys_and_client_roles,
    user_roles_and_the_permission_model,
    system_log_records_writes_and_pages,
);
