//! App credentials as Okta has them: client secrets (`/credentials/secrets`, at most two, the
//! last ACTIVE one kept, only INACTIVE ones deleted, `lifecycle/newSecret`) and JSON Web Keys
//! (`/credentials/jwks`), checked where they matter: at the token endpoint.
use crate::common;

use common::oauth::{
    assertion, authorize_url, browser, client_key, location, other_key, param, pkce, redeem,
    sign_in, web_app_with_user, Answer, WebApp,
};
use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A web app authenticating with `client_secret_basic` (granted `okta.users.read`, so
/// privileged), with the user jane@example.com assigned.
async fn secret_app(org: &TestOrg) -> WebApp {
    web_app_with_user(org, "TRUSTED").await.0
}

/// The authorization code flow of `app`'s user, the code redeemed with `secret`
/// (`client_secret_basic`): a token when the secret authenticates the client.
async fn token_with_secret(org: &TestOrg, app: &WebApp, secret: &str) -> Answer {
    let browser = browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(org, app, "openid", &challenge, "");
    let done = sign_in(org, &browser, &url, "jane@example.com", "Sup3r-Secret-Pass").await;
    let back = location(done.headers());
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let with_secret = WebApp {
        app_id: app.app_id.clone(),
        client_id: app.client_id.clone(),
        secret: secret.to_string(),
        redirect: app.redirect.clone(),
    };
    redeem(org, &with_secret, &code, &verifier).await
}

/// Client credentials with a `private_key_jwt` assertion signed by `key`.
async fn token_with_key(
    org: &TestOrg,
    client_id: &str,
    key: &steward_oauth::keys::SigningKey,
) -> Answer {
    let a = assertion(key, client_id, &format!("{}/oauth2/v1/token", org.base));
    org.form(
        "/oauth2/v1/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &a),
        ],
        &[],
    )
    .await
}

fn assert_cause(status: u16, body: &Value, cause: &str) {
    assert_error(status, body, 400, "E0000001");
    assert_eq!(body["errorCauses"][0]["errorSummary"], cause, "{body}");
}

/// Follows each `_links` entry of `object`: each names a path that exists (an allowed method on
/// it does not answer 404).
async fn assert_links_resolve(org: &TestOrg, object: &Value) {
    for (name, link) in object["_links"].as_object().unwrap() {
        let href = link["href"].as_str().unwrap();
        let path = href.strip_prefix(&org.base).expect(href);
        // A GET of the object (or, for lifecycle links, of the object they act on) exists.
        let object_path = path.split("/lifecycle/").next().unwrap();
        let (s, b) = org.get(object_path).await;
        assert_eq!(s, 200, "{name} {href}: {b}");
    }
}

async fn event_count(org: &TestOrg, event_type: &str, target_id: &str) -> usize {
    let filter = url::form_urlencoded::byte_serialize(
        format!("eventType eq \"{event_type}\" and target.id eq \"{target_id}\"").as_bytes(),
    )
    .collect::<String>();
    let (s, events) = org
        .get(&format!("/api/v1/logs?limit=1000&filter={filter}"))
        .await;
    assert_eq!(s, 200, "{events}");
    events.as_array().unwrap().len()
}

async fn a_secret_rotates_without_downtime(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = secret_app(&org).await;
    let (app_id, first) = (app.app_id.clone(), app.secret.clone());
    let secrets = format!("/api/v1/apps/{app_id}/credentials/secrets");

    // The app's secret is listed, masked: never the secret itself.
    let (s, list) = org.get(&secrets).await;
    assert_eq!(s, 200, "{list}");
    let listed = list.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{list}");
    let old = &listed[0];
    let old_id = id(old);
    assert!(old_id.starts_with("ocs") && old_id.len() == 20, "{old}");
    assert_eq!(old["status"], "ACTIVE");
    let masked = old["client_secret"].as_str().unwrap();
    assert!(masked.contains("......") && masked != first, "{old}");
    assert!(old["secret_hash"].as_str().is_some_and(|h| h.len() == 22));
    assert!(old["_links"]["deactivate"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{old_id}/lifecycle/deactivate")));
    assert_links_resolve(&org, old).await;
    let t = token_with_secret(&org, &app, &first).await;
    assert_eq!(t.status, 200, "{backend:?} {}", t.body);

    // A second secret: shown in full once, then both authenticate.
    let (s, created) = org.post(&secrets, json!({})).await;
    assert_eq!(s, 201, "{created}");
    let second = created["client_secret"].as_str().unwrap().to_string();
    assert!(second.len() >= 40, "{created}");
    assert_eq!(created["status"], "ACTIVE");
    let new_id = id(&created);
    let (s, fetched) = org.get(&format!("{secrets}/{new_id}")).await;
    assert_eq!(s, 200);
    assert_ne!(fetched["client_secret"], second.as_str(), "shown once");
    assert_eq!(fetched["secret_hash"], created["secret_hash"]);
    for secret in [&first, &second] {
        let t = token_with_secret(&org, &app, secret).await;
        assert_eq!(t.status, 200, "{backend:?} {}", t.body);
    }

    // At most two.
    let (s, b) = org.post(&secrets, json!({})).await;
    assert_cause(
        s,
        &b,
        "You've reached the maximum number of client secrets per client.",
    );
    assert_eq!(
        b["errorSummary"],
        "Api validation failed: OAuth2ClientSecretMediated"
    );

    // An ACTIVE secret cannot be deleted.
    let (s, b) = org.delete(&format!("{secrets}/{old_id}")).await;
    assert_cause(
        s,
        &b,
        "You can't delete an active client secret. Deactivate the secret before deleting it.",
    );

    // Deactivating the old secret: it stops working at once, the new one keeps working.
    let (s, b) = org
        .post(
            &format!("{secrets}/{old_id}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "INACTIVE");
    assert!(b["_links"]["activate"].is_object() && b["_links"]["delete"].is_object());
    assert_links_resolve(&org, &b).await;
    let t = token_with_secret(&org, &app, &first).await;
    assert_eq!(t.status, 401, "{backend:?} {}", t.body);
    assert_eq!(t.body["error"], "invalid_client");
    let t = token_with_secret(&org, &app, &second).await;
    assert_eq!(t.status, 200, "{}", t.body);

    // The only ACTIVE secret stays.
    let (s, b) = org
        .post(
            &format!("{secrets}/{new_id}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_cause(s, &b, "You can't deactivate the only active client secret.");
    assert_eq!(token_with_secret(&org, &app, &second).await.status, 200);

    // Reactivated, the old secret works again; deactivated and deleted, it is gone.
    let (s, b) = org
        .post(&format!("{secrets}/{old_id}/lifecycle/activate"), json!({}))
        .await;
    assert_eq!((s, &b["status"]), (200, &json!("ACTIVE")), "{b}");
    assert_eq!(token_with_secret(&org, &app, &first).await.status, 200);
    let (s, _) = org
        .post(
            &format!("{secrets}/{old_id}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(org.delete(&format!("{secrets}/{old_id}")).await.0, 204);
    let (s, b) = org.get(&format!("{secrets}/{old_id}")).await;
    assert_error(s, &b, 404, "E0000007");
    assert_eq!(org.get(&secrets).await.1.as_array().unwrap().len(), 1);
    assert_eq!(token_with_secret(&org, &app, &first).await.status, 401);

    // Each change is in the System Log, and no event carries a secret.
    for (event_type, target) in [
        ("app.oauth2.credentials.lifecycle.create", &new_id),
        ("app.oauth2.credentials.lifecycle.deactivate", &old_id),
        ("app.oauth2.credentials.lifecycle.activate", &old_id),
        ("app.oauth2.credentials.lifecycle.delete", &old_id),
    ] {
        assert!(
            event_count(&org, event_type, target).await >= 1,
            "{event_type} {target}"
        );
    }
    let (_, log) = org.get("/api/v1/logs?limit=1000").await;
    let log = log.to_string();
    assert!(!log.contains(&first) && !log.contains(&second));
}

async fn a_secret_can_be_brought_and_regenerated(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = secret_app(&org).await;
    let (app_id, first) = (app.app_id.clone(), app.secret.clone());
    let secrets = format!("/api/v1/apps/{app_id}/credentials/secrets");

    // Okta's limits on a secret the caller brings, in Okta's words.
    for (secret, cause) in [
        (
            "short".to_string(),
            "client_secret: 'client_secret' must be at least '14' characters long.",
        ),
        (
            "x".repeat(101),
            "client_secret: 'client_secret' can't be more than '100' characters long.",
        ),
        (
            "née-secret-longer-than-14".to_string(),
            "client_secret: ''client_secret'' must only contain printable ASCII: [x20-x7E]+",
        ),
    ] {
        let (s, b) = org.post(&secrets, json!({"client_secret": secret})).await;
        assert_cause(s, &b, cause);
    }
    let (s, b) = org.post(&secrets, json!({"status": "EXPIRED"})).await;
    assert_error(s, &b, 400, "E0000001");

    // A brought secret, created INACTIVE: it does not authenticate until activated.
    let mine = "my-own-secret-0123456789";
    let (s, created) = org
        .post(
            &secrets,
            json!({"client_secret": mine, "status": "INACTIVE"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["client_secret"], mine);
    assert_eq!(created["status"], "INACTIVE");
    assert_eq!(token_with_secret(&org, &app, mine).await.status, 401);
    let (s, _) = org
        .post(
            &format!("{secrets}/{}/lifecycle/activate", id(&created)),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(token_with_secret(&org, &app, mine).await.status, 200);

    // newSecret replaces every secret at once and answers with the app and its new secret.
    let (s, regenerated) = org
        .post(
            &format!("/api/v1/apps/{app_id}/credentials/lifecycle/newSecret"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{regenerated}");
    assert_eq!(regenerated["id"], app_id.as_str());
    let fresh = regenerated["credentials"]["oauthClient"]["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(org.get(&secrets).await.1.as_array().unwrap().len(), 1);
    for (secret, want) in [(first.as_str(), 401), (mine, 401), (fresh.as_str(), 200)] {
        let t = token_with_secret(&org, &app, secret).await;
        assert_eq!(t.status, want, "{backend:?} {}", t.body);
    }

    // A client that authenticates with keys has no secrets.
    let (keyed, _) = org.service_app("Keyed").await;
    let (s, b) = org
        .post(
            &format!("/api/v1/apps/{keyed}/credentials/secrets"),
            json!({}),
        )
        .await;
    assert_cause(
        s,
        &b,
        "'client_secret' can't be used when 'token_endpoint_auth_method' is 'private_key_jwt'.",
    );
    let (s, list) = org
        .get(&format!("/api/v1/apps/{keyed}/credentials/secrets"))
        .await;
    assert_eq!((s, list), (200, json!([])));
    let (s, b) = org
        .get("/api/v1/apps/0oaNoSuchApp0000000/credentials/secrets")
        .await;
    assert_error(s, &b, 404, "E0000007");
}

/// A user holding `role`, and an SSWS token that acts as them.
async fn admin_token(org: &TestOrg, login: &str, role: &str) -> String {
    let user = org.user(login).await;
    let (s, r) = org
        .post(
            &format!("/api/v1/users/{}/roles", id(&user)),
            json!({ "type": role }),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    org.token_for(login).await
}

async fn only_a_super_admin_changes_a_privileged_apps_credentials(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app_admin = admin_token(&org, "apps@example.com", "APP_ADMIN").await;
    // `secret_app` grants an Okta API scope: the app is privileged.
    let web = secret_app(&org).await;
    let privileged = web.app_id.clone();
    let (keyed, _) = org.service_app("Keyed and Granted").await;
    org.grant(&keyed, "okta.users.read").await;
    let secrets = format!("/api/v1/apps/{privileged}/credentials/secrets");
    let (_, list) = org.get(&secrets).await;
    let secret_id = id(&list[0]);
    let (_, keys) = org
        .get(&format!("/api/v1/apps/{keyed}/credentials/jwks"))
        .await;
    let key_id = id(&keys[0]);
    let other = json!(other_key().jwk());
    for (method, path, body) in [
        (Method::POST, secrets.clone(), Some(json!({}))),
        (
            Method::POST,
            format!("{secrets}/{secret_id}/lifecycle/deactivate"),
            Some(json!({})),
        ),
        (Method::DELETE, format!("{secrets}/{secret_id}"), None),
        (
            Method::POST,
            format!("/api/v1/apps/{privileged}/credentials/lifecycle/newSecret"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/apps/{keyed}/credentials/jwks"),
            Some(other.clone()),
        ),
        (
            Method::POST,
            format!("/api/v1/apps/{keyed}/credentials/jwks/{key_id}/lifecycle/deactivate"),
            Some(json!({})),
        ),
    ] {
        let (s, b) = org.send_as(&app_admin, method, &path, body).await;
        assert_error(s, &b, 403, "E0000006");
    }
    // Reading is allowed, and nothing changed.
    let (s, list) = org.send_as(&app_admin, Method::GET, &secrets, None).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["status"], "ACTIVE");

    // On an ordinary app the App Admin manages secrets.
    let (s, app) = org
        .send_as(
            &app_admin,
            Method::POST,
            "/api/v1/apps",
            Some(json!({
                "label": "Ordinary",
                "signOnMode": "OPENID_CONNECT",
                "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"]}}
            })),
        )
        .await;
    assert_eq!(s, 200, "{app}");
    let (s, b) = org
        .send_as(
            &app_admin,
            Method::POST,
            &format!("/api/v1/apps/{}/credentials/secrets", id(&app)),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    // A read-only admin reads but does not write.
    let read_only = admin_token(&org, "ro@example.com", "READ_ONLY_ADMIN").await;
    let ordinary = format!("/api/v1/apps/{}/credentials/secrets", id(&app));
    assert_eq!(
        org.send_as(&read_only, Method::GET, &ordinary, None)
            .await
            .0,
        200
    );
    let (s, b) = org
        .send_as(&read_only, Method::POST, &ordinary, Some(json!({})))
        .await;
    assert_error(s, &b, 403, "E0000006");
}

async fn only_active_keys_verify_client_assertions(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, client_id) = org.service_app("Key Rotation").await;
    org.grant(&app_id, "okta.users.read").await;
    let keys_path = format!("/api/v1/apps/{app_id}/credentials/jwks");

    // The key given with the app is listed with an id and ACTIVE.
    let (s, keys) = org.get(&keys_path).await;
    assert_eq!(s, 200, "{keys}");
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    let first = keys[0].clone();
    let first_id = id(&first);
    assert!(
        first_id.starts_with("pks") && first_id.len() == 20,
        "{first}"
    );
    assert_eq!(first["status"], "ACTIVE");
    assert_eq!(first["kid"], client_key().kid.as_str());
    assert_eq!(org.get(&format!("{keys_path}/{first_id}")).await.1, first);
    assert_links_resolve(&org, &first).await;
    let t = token_with_key(&org, &client_id, client_key()).await;
    assert_eq!(t.status, 200, "{backend:?} {}", t.body);

    // The only ACTIVE key of a private_key_jwt client stays; an ACTIVE key cannot be deleted.
    let (s, b) = org
        .post(
            &format!("{keys_path}/{first_id}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_cause(s, &b, "Can't deactivate the only active JSON Web Key when the value for `token_endpoint_auth_method` is `private_key_jwt`.");
    let (s, b) = org.delete(&format!("{keys_path}/{first_id}")).await;
    assert_cause(
        s,
        &b,
        "You can't delete an active JSON Web Key. Deactivate the key before deleting it.",
    );

    // Bad keys are refused: a duplicate kid, private material, a weak RSA key, an encryption key.
    let mut duplicate = json!(other_key().jwk());
    duplicate["kid"] = first["kid"].clone();
    let (s, b) = org.post(&keys_path, duplicate).await;
    assert_cause(s, &b, "All keys in the 'jwks' must have a unique `kid`.");
    let mut private = json!(other_key().jwk());
    private["d"] = json!("AQAB");
    let (s, b) = org.post(&keys_path, private).await;
    assert_error(s, &b, 400, "E0000001");
    let mut enc = json!(other_key().jwk());
    enc["use"] = json!("enc");
    let (s, b) = org.post(&keys_path, enc).await;
    assert_error(s, &b, 400, "E0000001");
    assert_eq!(org.get(&keys_path).await.1.as_array().unwrap().len(), 1);

    // A second key: an assertion it signs is accepted once the key is added.
    assert_eq!(
        token_with_key(&org, &client_id, other_key()).await.status,
        401
    );
    let (s, added) = org.post(&keys_path, json!(other_key().jwk())).await;
    assert_eq!(s, 201, "{added}");
    let second_id = id(&added);
    assert!(second_id.starts_with("pks"), "{added}");
    assert_eq!(added["status"], "ACTIVE");
    let t = token_with_key(&org, &client_id, other_key()).await;
    assert_eq!(t.status, 200, "{backend:?} {}", t.body);

    // Deactivating the first key: assertions it signs are refused, the second key's accepted.
    let (s, b) = org
        .post(
            &format!("{keys_path}/{first_id}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "INACTIVE");
    assert!(b["_links"]["activate"].is_object() && b["_links"]["delete"].is_object());
    let t = token_with_key(&org, &client_id, client_key()).await;
    assert_eq!(t.status, 401, "{backend:?} {}", t.body);
    assert_eq!(t.body["error"], "invalid_client");
    assert_eq!(
        token_with_key(&org, &client_id, other_key()).await.status,
        200
    );

    // The app's own JWK Set says the same.
    let (_, app) = org.get(&format!("/api/v1/apps/{app_id}")).await;
    let set = app["settings"]["oauthClient"]["jwks"]["keys"]
        .as_array()
        .unwrap()
        .clone();
    let status_of = |key_id: &str| {
        set.iter()
            .find(|k| k["id"] == key_id)
            .map(|k| k["status"].clone())
    };
    assert_eq!(status_of(&first_id), Some(json!("INACTIVE")), "{app}");
    assert_eq!(status_of(&second_id), Some(json!("ACTIVE")), "{app}");

    // Reactivated it works again; deactivated and deleted it is gone.
    let (s, _) = org
        .post(
            &format!("{keys_path}/{first_id}/lifecycle/activate"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        token_with_key(&org, &client_id, client_key()).await.status,
        200
    );
    let (s, _) = org
        .post(
            &format!("{keys_path}/{first_id}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(org.delete(&format!("{keys_path}/{first_id}")).await.0, 204);
    let (s, b) = org.get(&format!("{keys_path}/{first_id}")).await;
    assert_error(s, &b, 404, "E0000007");
    assert_eq!(org.get(&keys_path).await.1.as_array().unwrap().len(), 1);
    for (event_type, target) in [
        ("app.oauth2.credentials.lifecycle.create", &second_id),
        ("app.oauth2.credentials.lifecycle.deactivate", &first_id),
        ("app.oauth2.credentials.lifecycle.delete", &first_id),
    ] {
        assert!(
            event_count(&org, event_type, target).await >= 1,
            "{event_type} {target}"
        );
    }
}

on_both_backends!(
    a_secret_rotates_without_downtime,
    a_secret_can_be_brought_and_regenerated,
    only_a_super_admin_changes_a_privileged_apps_credentials,
    only_active_keys_verify_client_assertions,
);
