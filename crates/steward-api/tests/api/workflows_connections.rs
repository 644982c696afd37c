//! Workflows connections (`/workflows/api/v1/connections` and the browser's callback): a Super
//! Admin creates a connection on the "Okta Workflows OAuth" app, authorizes it through the real
//! authorize → sign-in → callback, and its token carries exactly the app's grants; a scope
//! granted later arrives only after Reauthorize (which revokes the old refresh token); the
//! token refreshes and rotates; a service app's connection authorizes with `private_key_jwt`.
//! Every rule allowed and denied.
use crate::common;

use common::oauth::{answer, browser, claims, location, sign_in};
use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::json;
use steward_app::flows::TokenSource;

const V1: &str = "/workflows/api/v1";
const LOGIN: &str = "wf.admin@example.com";
const PASSWORD: &str = "Sup3r-Secret-Pass";

pub(crate) struct Setup {
    pub app_id: String,
    pub client_id: String,
    pub secret: String,
}

/// "Okta Workflows OAuth" with the callback registered, a Super Admin assigned to it, and
/// `okta.users.read` granted.
pub(crate) async fn workflows_app(org: &TestOrg) -> Setup {
    let callback = format!("{}/workflows/oauth/callback", org.base);
    let (app_id, client_id, secret) = org
        .web_app("Okta Workflows OAuth", &callback, "TRUSTED")
        .await;
    let user = org.user(LOGIN).await;
    let user_id = user["id"].as_str().unwrap();
    org.assign(&app_id, user_id).await;
    let (s, b) = org
        .post(
            &format!("/api/v1/users/{user_id}/roles"),
            json!({"type": "SUPER_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    org.grant(&app_id, "okta.users.read").await;
    Setup {
        app_id,
        client_id,
        secret,
    }
}

/// Signs the admin in at `url` in a new browser and follows the org's redirect to the callback:
/// the callback's (status, page).
pub(crate) async fn authorize_in_browser(org: &TestOrg, url: &str) -> (u16, String, String) {
    let b = browser();
    let back = sign_in(org, &b, url, LOGIN, PASSWORD).await;
    assert_eq!(back.status(), 302, "{}", back.text().await.unwrap());
    let callback = location(back.headers());
    assert!(
        callback.starts_with(&format!("{}/workflows/oauth/callback?", org.base)),
        "{callback}"
    );
    let page = b.get(&callback).send().await.unwrap();
    let status = page.status().as_u16();
    (status, page.text().await.unwrap(), callback)
}

fn scopes_of(token: &str) -> Vec<String> {
    let c = claims(token);
    let mut s: Vec<String> = c["scp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    s.sort();
    s
}

async fn token(org: &TestOrg, connector: &str, name: Option<&str>) -> String {
    org.state
        .connection_tokens()
        .token(connector, name)
        .await
        .unwrap()
        .access_token
}

/// The connection's refresh token as stored (unsealed as the server would).
async fn stored_refresh(org: &TestOrg, id: &str) -> String {
    let row = org.store.connections().get(id).await.unwrap();
    let bytes = steward_oauth::keys::open(
        &org.auth.connections_key,
        format!("flow_connection:{id}:refresh_token").as_bytes(),
        row.sealed_refresh_token.as_deref().unwrap(),
    )
    .unwrap();
    String::from_utf8(bytes).unwrap()
}

async fn authorization_code_connection_authorizes_refreshes_and_reauthorizes(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = workflows_app(&org).await;

    // Created on the app with its secret: UNAUTHORIZED, and no secret in the answer.
    let (s, conn) = org
        .post(
            &format!("{V1}/connections"),
            json!({"name": "Okta", "appId": app.app_id, "clientSecret": app.secret}),
        )
        .await;
    assert_eq!(s, 201, "{conn}");
    assert_eq!(conn["status"], "UNAUTHORIZED");
    assert_eq!(conn["authMethod"], "authorization_code");
    assert_eq!(conn["clientId"], app.client_id.as_str());
    assert!(!conn.to_string().contains(&app.secret));
    let id = conn["id"].as_str().unwrap().to_string();
    // A wrong secret and a taken name are refused.
    let (s, e) = org
        .post(
            &format!("{V1}/connections"),
            json!({"name": "Other", "appId": app.app_id, "clientSecret": "not-the-secret-of-this-app-at-all"}),
        )
        .await;
    assert_error(s, &e, 400, "E0000001");
    let (s, e) = org
        .post(
            &format!("{V1}/connections"),
            json!({"name": "Okta", "appId": app.app_id, "clientSecret": app.secret}),
        )
        .await;
    assert_error(s, &e, 400, "E0000001");
    // Before authorizing there is no token for cards.
    let err = org
        .state
        .connection_tokens()
        .token("okta", Some("Okta"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("never authorized"), "{err}");

    // Authorize: the URL asks openid offline_access and the app's grants, with PKCE S256.
    let (s, a) = org
        .post(&format!("{V1}/connections/{id}/authorize"), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    let url = a["authorizeUrl"].as_str().unwrap().to_string();
    let p = |name: &str| common::oauth::param(&url, name).unwrap();
    assert!(url.starts_with(&format!("{}/oauth2/v1/authorize?", org.base)));
    assert_eq!(p("scope"), "openid offline_access okta.users.read");
    assert_eq!(
        p("redirect_uri"),
        format!("{}/workflows/oauth/callback", org.base)
    );
    assert_eq!(p("code_challenge_method"), "S256");
    assert_eq!(p("client_id"), app.client_id);
    let (status, page, callback) = authorize_in_browser(&org, &url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Connection authorized"), "{page}");

    // A replayed callback and an unknown state are refused with a page, never a 500.
    let replay = browser().get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), 400);
    assert!(replay.text().await.unwrap().contains("already used"));
    for query in [
        "?code=x&state=nope",
        "?code=x",
        "?state=s&error=access_denied",
        "",
    ] {
        let r = browser()
            .get(format!("{}/workflows/oauth/callback{query}", org.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
    }

    let (_, conn) = org.get(&format!("{V1}/connections/{id}")).await;
    assert_eq!(conn["status"], "ACTIVE", "{conn}");
    assert!(conn["authorizedBy"].is_string(), "{conn}");
    let (_, listed) = org.get(&format!("{V1}/connections")).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(app.secret.as_str()));

    // The token carries exactly the app's grants (plus openid offline_access) and works.
    let first = token(&org, "okta", Some("Okta")).await;
    assert_eq!(
        scopes_of(&first),
        ["offline_access", "okta.users.read", "openid"]
    );
    assert!(!conn.to_string().contains(&first));
    assert_eq!(
        org.bearer(&first, Method::GET, "/api/v1/users")
            .await
            .status,
        200
    );
    assert_eq!(
        org.bearer(&first, Method::GET, "/api/v1/groups")
            .await
            .status,
        403
    );

    // A scope granted later is not in the token: status says so; the token still lacks it.
    org.grant(&app.app_id, "okta.groups.read").await;
    let (s, st) = org.get(&format!("{V1}/connections/{id}/status")).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(
        st["appScopes"],
        json!(["okta.groups.read", "okta.users.read"])
    );
    assert_eq!(st["notInToken"], json!(["okta.groups.read"]));
    assert_eq!(st["flowsNeed"], json!([]));
    let same = token(&org, "okta", None).await;
    assert_eq!(same, first, "no refresh before expiry");
    assert_eq!(
        org.bearer(&same, Method::GET, "/api/v1/groups")
            .await
            .status,
        403
    );

    // The token refreshes a minute before it expires, and the refresh token rotates.
    let old_refresh = stored_refresh(&org, &id).await;
    org.state.clock.advance(3600 * 1000 - 30_000);
    let refreshed = token(&org, "okta", Some("Okta")).await;
    assert_ne!(refreshed, first);
    assert_ne!(stored_refresh(&org, &id).await, old_refresh);
    assert_eq!(
        scopes_of(&refreshed),
        scopes_of(&first),
        "a refresh never widens"
    );
    assert_eq!(
        org.bearer(&refreshed, Method::GET, "/api/v1/users")
            .await
            .status,
        200
    );

    // Reauthorize: a new token with the new scope; the old refresh token is revoked.
    let before = stored_refresh(&org, &id).await;
    let (s, a) = org
        .post(&format!("{V1}/connections/{id}/reauthorize"), json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    let url = a["authorizeUrl"].as_str().unwrap().to_string();
    assert_eq!(
        common::oauth::param(&url, "scope").unwrap(),
        "openid offline_access okta.groups.read okta.users.read"
    );
    let (status, page, _) = authorize_in_browser(&org, &url).await;
    assert_eq!(status, 200, "{page}");
    let second = token(&org, "okta", Some("Okta")).await;
    assert!(scopes_of(&second).contains(&"okta.groups.read".to_string()));
    assert_eq!(
        org.bearer(&second, Method::GET, "/api/v1/groups")
            .await
            .status,
        200
    );
    let (_, st) = org.get(&format!("{V1}/connections/{id}/status")).await;
    assert_eq!(st["notInToken"], json!([]));
    let reused = org
        .http
        .post(format!("{}/oauth2/v1/token", org.base))
        .basic_auth(&app.client_id, Some(&app.secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &before)])
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 400, "the old refresh token was revoked");

    // Health: ACTIVE; once the admin loses the app, the tokens die and the check says BROKEN.
    let (s, c) = org
        .post(&format!("{V1}/connections/{id}/check"), json!({}))
        .await;
    assert_eq!((s, &c["status"]), (200, &json!("ACTIVE")), "{c}");
    let (_, users) = org.get(&format!("/api/v1/apps/{}/users", app.app_id)).await;
    let user_id = users[0]["id"].as_str().unwrap().to_string();
    let (s, _) = org
        .delete(&format!("/api/v1/apps/{}/users/{user_id}", app.app_id))
        .await;
    assert_eq!(s, 204);
    let (s, c) = org
        .post(&format!("{V1}/connections/{id}/check"), json!({}))
        .await;
    assert_eq!((s, &c["status"]), (200, &json!("BROKEN")), "{c}");
    assert!(
        c["lastError"].as_str().is_some_and(|e| !e.is_empty()),
        "{c}"
    );

    // The System Log names each change.
    let (_, logs) = org
        .get("/api/v1/logs?filter=eventType+sw+%22workflows.user.connection%22")
        .await;
    let types: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    for t in [
        "workflows.user.connection.create",
        "workflows.user.connection.authorize",
        "workflows.user.connection.reauthorize",
    ] {
        assert!(types.contains(&t), "{types:?}");
    }
    assert!(!logs.to_string().contains(&app.secret));

    // Deleted: gone.
    let (s, _) = org.delete(&format!("{V1}/connections/{id}")).await;
    assert_eq!(s, 204);
    let (s, e) = org.get(&format!("{V1}/connections/{id}")).await;
    assert_error(s, &e, 404, "E0000007");
}

async fn an_app_without_the_callback_is_refused_with_the_uri_to_add(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, _, secret) = org
        .web_app("Elsewhere", "https://app.example.com/callback", "TRUSTED")
        .await;
    let (s, e) = org
        .post(
            &format!("{V1}/connections"),
            json!({"name": "Okta", "appId": app_id, "clientSecret": secret}),
        )
        .await;
    assert_error(s, &e, 400, "E0000001");
    let uri = format!("{}/workflows/oauth/callback", org.base);
    assert!(e.to_string().contains(&uri), "{e}");
    // Without an app id, the default app must exist.
    let (s, e) = org
        .post(&format!("{V1}/connections"), json!({"name": "Okta"}))
        .await;
    assert_error(s, &e, 400, "E0000001");
    assert!(e.to_string().contains("Okta Workflows OAuth"), "{e}");
    let (s, e) = org
        .post(
            &format!("{V1}/connections"),
            json!({"name": "X", "appId": app_id, "connector": "slack"}),
        )
        .await;
    assert_error(s, &e, 400, "E0000001");
}

async fn a_service_app_connection_authorizes_with_private_key_jwt(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, client_id) = org.service_app("Workflows service").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "SUPER_ADMIN").await;

    // Steward generates the key pair and adds the public key to the app.
    let (s, conn) = org
        .post(
            &format!("{V1}/connections"),
            json!({"name": "OIG service", "connector": "oig", "appId": app_id}),
        )
        .await;
    assert_eq!(s, 201, "{conn}");
    assert_eq!(conn["authMethod"], "client_credentials");
    let id = conn["id"].as_str().unwrap().to_string();
    let (_, keys) = org
        .get(&format!("/api/v1/apps/{app_id}/credentials/jwks"))
        .await;
    assert_eq!(keys.as_array().unwrap().len(), 2, "{keys}");
    assert!(!keys.to_string().contains("PRIVATE"));

    // Authorize = a token now, with the app's grants.
    let (s, c) = org
        .post(&format!("{V1}/connections/{id}/authorize"), json!({}))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["scopes"], json!(["okta.users.read"]));
    // The connector's only connection answers without a name.
    let t = token(&org, "oig", None).await;
    assert_eq!(scopes_of(&t), ["okta.users.read"]);
    assert_eq!(
        org.bearer(&t, Method::GET, "/api/v1/users").await.status,
        200
    );
    // No connection of another connector.
    assert!(org
        .state
        .connection_tokens()
        .token("okta", None)
        .await
        .is_err());

    // A later grant arrives on reauthorize.
    org.grant(&app_id, "okta.groups.read").await;
    let (s, c) = org
        .post(&format!("{V1}/connections/{id}/reauthorize"), json!({}))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["scopes"], json!(["okta.groups.read", "okta.users.read"]));
    let t = token(&org, "oig", Some("OIG service")).await;
    assert_eq!(
        org.bearer(&t, Method::GET, "/api/v1/groups").await.status,
        200
    );
    // Refresh = a new client-credentials token.
    org.state.clock.advance(3600 * 1000);
    let again = token(&org, "oig", None).await;
    assert_ne!(again, t);
    let (s, c) = org
        .post(&format!("{V1}/connections/{id}/check"), json!({}))
        .await;
    assert_eq!((s, &c["status"]), (200, &json!("ACTIVE")), "{c}");
}

async fn connections_are_for_workflows_admins_only(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = workflows_app(&org).await;
    let (s, conn) = org
        .post(
            &format!("{V1}/connections"),
            json!({"name": "Okta", "appId": app.app_id, "clientSecret": app.secret}),
        )
        .await;
    assert_eq!(s, 201);
    let id = conn["id"].as_str().unwrap().to_string();

    // An Org Admin holds neither WorkflowsRead nor WorkflowsManage.
    let user = org.user("org.admin@example.com").await;
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{}/roles", user["id"].as_str().unwrap()),
            json!({"type": "ORG_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201);
    let org_admin = org.token_for("org.admin@example.com").await;
    for (method, path) in [
        (Method::GET, format!("{V1}/connections")),
        (Method::POST, format!("{V1}/connections")),
        (Method::GET, format!("{V1}/connections/{id}")),
        (Method::GET, format!("{V1}/connections/{id}/status")),
        (Method::POST, format!("{V1}/connections/{id}/authorize")),
        (Method::POST, format!("{V1}/connections/{id}/reauthorize")),
        (Method::POST, format!("{V1}/connections/{id}/check")),
        (Method::DELETE, format!("{V1}/connections/{id}")),
    ] {
        let (s, b) = org
            .send_as(&org_admin, method, &path, Some(json!({"name": "x"})))
            .await;
        assert_error(s, &b, 403, "E0000006");
    }

    // A Super Admin app with okta.workflows.read reads and may not authorize; manage may.
    let (sa_app, sa_client) = org.service_app("Connections admin").await;
    org.grant(&sa_app, "okta.workflows.read").await;
    org.grant(&sa_app, "okta.workflows.manage").await;
    org.client_role(&sa_client, "SUPER_ADMIN").await;
    let read = org
        .client_credentials(&sa_client, "okta.workflows.read")
        .await;
    let read = read.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        org.bearer(&read, Method::GET, &format!("{V1}/connections/{id}/status"))
            .await
            .status,
        200
    );
    let denied = org
        .bearer(
            &read,
            Method::POST,
            &format!("{V1}/connections/{id}/authorize"),
        )
        .await;
    assert_eq!(denied.status, 403);
    assert!(denied.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"okta.workflows.manage\""));
    let manage = org
        .client_credentials(&sa_client, "okta.workflows.manage")
        .await;
    let manage = manage.body["access_token"].as_str().unwrap().to_string();
    let allowed = org
        .bearer(
            &manage,
            Method::POST,
            &format!("{V1}/connections/{id}/authorize"),
        )
        .await;
    assert_eq!(allowed.status, 200, "{:?}", allowed.body);
    assert!(allowed.body["authorizeUrl"].is_string());

    // Anonymous: 401.
    let anonymous = answer(org.http.get(format!("{}{V1}/connections", org.base)), &[]).await;
    assert_error(anonymous.status, &anonymous.body, 401, "E0000011");
    let (s, e) = org.get(&format!("{V1}/connections/fcnnope")).await;
    assert_error(s, &e, 404, "E0000007");
}

on_both_backends!(
    authorization_code_connection_authorizes_refreshes_and_reauthorizes,
    an_app_without_the_callback_is_refused_with_the_uri_to_add,
    a_service_app_connection_authorizes_with_private_key_jwt,
    connections_are_for_workflows_admins_only,
);
