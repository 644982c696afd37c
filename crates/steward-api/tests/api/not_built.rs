//! What Steward has not built yet says so, on SQLite and PostgreSQL, both ways: Okta's paths
//! that no route serves answer `501` `E0000015` naming the operation while built routes answer
//! as before; unbuilt scopes and roles are refused while built ones are granted and assigned;
//! discovery lists only built scopes; the client registration read answers the client metadata.
use crate::common;

use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

fn summary(body: &Value) -> &str {
    body["errorSummary"].as_str().unwrap()
}

async fn unbuilt_routes_answer_501_and_built_ones_are_unaffected(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let user = org.user("ann@example.com").await;
    let user_id = user["id"].as_str().unwrap();
    for (method, path, operation, scope) in [
        (
            Method::GET,
            "/governance/api/v1/campaigns".to_string(),
            "GET /governance/api/v1/campaigns",
            Some("okta.governance.accessCertifications.read"),
        ),
        (
            Method::POST,
            "/governance/api/v1/campaigns/icihx1/launch".to_string(),
            "POST /governance/api/v1/campaigns/{campaignId}/launch",
            Some("okta.governance.accessCertifications.manage"),
        ),
        (
            Method::GET,
            "/governance/api/v1/reviews".to_string(),
            "GET /governance/api/v1/reviews",
            Some("okta.governance.accessCertifications.read"),
        ),
        (
            Method::GET,
            "/governance/api/v1/entitlements".to_string(),
            "GET /governance/api/v1/entitlements",
            Some("okta.governance.entitlements.read"),
        ),
        (
            Method::GET,
            "/governance/api/v1/entitlement-bundles".to_string(),
            "GET /governance/api/v1/entitlement-bundles",
            Some("okta.governance.entitlements.read"),
        ),
        (
            Method::GET,
            "/api/v1/authorizationServers".to_string(),
            "GET /api/v1/authorizationServers",
            Some("okta.authorizationServers.read"),
        ),
        // A method Okta has on a path Steward serves with others.
        (
            Method::POST,
            format!("/api/v1/apps/0oa1/users/{user_id}"),
            "POST /api/v1/apps/{appId}/users/{userId}",
            Some("okta.apps.manage"),
        ),
        // A lifecycle operation of Okta's that the lifecycle route does not serve.
        (
            Method::POST,
            format!("/api/v1/users/{user_id}/lifecycle/expire_password"),
            "POST /api/v1/users/{id}/lifecycle/expire_password",
            Some("okta.users.manage"),
        ),
    ] {
        let (status, body) = org.send(method.clone(), &path, None).await;
        assert_error(status, &body, 501, "E0000015");
        let s = summary(&body);
        assert!(
            s.starts_with("Not implemented: Steward does not serve "),
            "{s}"
        );
        assert!(s.contains(&format!("({operation}")), "{method} {path}: {s}");
        if let Some(scope) = scope {
            assert!(s.contains(scope), "{s}");
        }
        assert!(body["errorCauses"][0]["errorSummary"]
            .as_str()
            .unwrap()
            .contains("not built in Steward yet"));
    }
    // Also without credentials: the answer is about the route, not the caller.
    let response = org
        .raw(None, Method::GET, "/governance/api/v1/campaigns", None)
        .await;
    assert_eq!(response.status(), 501);

    // Built routes answer as before; what Okta does not have is still 404/405.
    let (status, body) = org.get(&format!("/api/v1/users/{user_id}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = org.get("/governance/api/v1/request-types").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = org.get("/api/v1/users/00unobody").await;
    assert_error(status, &body, 404, "E0000007");
    let (status, body) = org.get("/governance/api/v1/nothing-like-this").await;
    assert_error(status, &body, 404, "E0000007");
    let (status, body) = org.get("/governance/api/v1/campaigns/").await;
    assert_error(status, &body, 404, "E0000007");
    let (status, body) = org.send(Method::PATCH, "/api/v1/users", None).await;
    assert_error(status, &body, 405, "E0000022");
    let (status, body) = org
        .send(Method::DELETE, "/governance/api/v1/campaigns", None)
        .await;
    assert_error(status, &body, 405, "E0000022");
    let (status, body) = org
        .post(
            &format!("/api/v1/users/{user_id}/lifecycle/frobnicate"),
            json!({}),
        )
        .await;
    assert_error(status, &body, 404, "E0000007");
}

async fn unbuilt_scopes_are_refused_and_built_ones_granted(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, client_id) = org.service_app("Robot").await;
    for scope in [
        "okta.governance.accessCertifications.read",
        "okta.governance.accessCertifications.manage",
        "okta.governance.entitlements.read",
        "okta.governance.entitlements.manage",
        "okta.authorizationServers.read",
    ] {
        let (status, body) = org
            .post(
                &format!("/api/v1/apps/{app_id}/grants"),
                json!({"scopeId": scope, "issuer": org.base}),
            )
            .await;
        assert_error(status, &body, 400, "E0000001");
        assert_eq!(
            summary(&body),
            format!(
                "Api validation failed: scopeId: {scope} is not built yet: Steward does not serve its APIs yet"
            )
        );
    }
    // Nothing was granted.
    let (status, grants) = org.get(&format!("/api/v1/apps/{app_id}/grants")).await;
    assert_eq!(status, 200);
    assert_eq!(grants, json!([]));
    // A scope of Okta's that Steward does not know is still "not an Okta API scope".
    let (status, body) = org
        .post(
            &format!("/api/v1/apps/{app_id}/grants"),
            json!({"scopeId": "okta.made.up", "issuer": org.base}),
        )
        .await;
    assert_error(status, &body, 400, "E0000001");
    assert!(body["errorCauses"][0]["errorSummary"]
        .as_str()
        .unwrap()
        .contains("is not an Okta API scope"));
    // Built scopes are granted, the client registration read's among them, and work.
    for scope in [
        "okta.users.read",
        "okta.governance.accessRequests.manage",
        "okta.users.read.self",
        "okta.clients.read",
    ] {
        org.grant(&app_id, scope).await;
    }
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let token = org
        .client_credentials(&client_id, "okta.clients.read")
        .await;
    assert_eq!(token.status, 200, "{}", token.body);
    let access = token.body["access_token"].as_str().unwrap();
    let client = org
        .bearer(
            access,
            Method::GET,
            &format!("/oauth2/v1/clients/{client_id}"),
        )
        .await;
    assert_eq!(client.status, 200, "{}", client.body);
    assert_eq!(client.body["client_id"], client_id.as_str());
    assert_eq!(client.body["client_name"], "Robot");
    assert_eq!(client.body["application_type"], "service");
    assert_eq!(client.body["grant_types"], json!(["client_credentials"]));
    assert_eq!(client.body["token_endpoint_auth_method"], "private_key_jwt");
    assert!(client.body["client_id_issued_at"].as_i64().unwrap() > 1_600_000_000);
    assert_eq!(client.body["jwks"]["keys"].as_array().unwrap().len(), 1);
    assert!(client.body.get("client_secret").is_none());
    // The token's scope is the route's: a token without it is refused.
    let other = org.client_credentials(&client_id, "okta.users.read").await;
    let other = other.body["access_token"].as_str().unwrap().to_string();
    let refused = org
        .bearer(
            &other,
            Method::GET,
            &format!("/oauth2/v1/clients/{client_id}"),
        )
        .await;
    assert_eq!(refused.status, 403);
    let (status, body) = org.get("/oauth2/v1/clients/0oanobody").await;
    assert_error(status, &body, 404, "E0000007");

    // Discovery lists the built scopes, and none of the others.
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
    ] {
        let response = org.raw(None, Method::GET, path, None).await;
        let doc: Value = response.json().await.unwrap();
        let scopes: Vec<&str> = doc["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        for built in [
            "okta.users.read",
            "okta.clients.read",
            "okta.governance.accessRequests.read",
            "okta.accessRequests.catalog.read",
        ] {
            assert!(scopes.contains(&built), "{path}: {built}");
        }
        assert!(
            !scopes
                .iter()
                .any(|s| s.starts_with("okta.governance.accessCertifications")
                    || s.starts_with("okta.governance.entitlements")
                    || s.starts_with("okta.authorizationServers")),
            "{path}: {scopes:?}"
        );
    }
}

async fn the_certifications_role_is_refused_and_others_assigned(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let user = org.user("ann@example.com").await;
    let user_id = user["id"].as_str().unwrap();
    let (_, client_id) = org.service_app("Robot").await;
    for path in [
        format!("/api/v1/users/{user_id}/roles"),
        format!("/oauth2/v1/clients/{client_id}/roles"),
    ] {
        let (status, body) = org
            .post(&path, json!({"type": "ACCESS_CERTIFICATIONS_ADMIN"}))
            .await;
        assert_error(status, &body, 400, "E0000001");
        assert_eq!(
            summary(&body),
            "Api validation failed: type: ACCESS_CERTIFICATIONS_ADMIN is not built yet: Steward does not serve the APIs this role administers yet"
        );
        assert!(body["errorCauses"][0]["errorSummary"]
            .as_str()
            .unwrap()
            .contains("CertificationsRead"));
        let (status, roles) = org.get(&path).await;
        assert_eq!(status, 200);
        assert_eq!(roles, json!([]), "nothing was assigned");
        let (status, body) = org
            .post(&path, json!({"type": "ACCESS_REQUESTS_ADMIN"}))
            .await;
        assert!(status == 200 || status == 201, "{status} {body}");
        assert_eq!(body["type"], "ACCESS_REQUESTS_ADMIN");
    }
}

on_both_backends!(
    unbuilt_routes_answer_501_and_built_ones_are_unaffected,
    unbuilt_scopes_are_refused_and_built_ones_granted,
    the_certifications_role_is_refused_and_others_assigned,
);
