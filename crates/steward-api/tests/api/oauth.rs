//! The org authorization server end to end, over real HTTP: the scope-grant scenario, every
//! grant type, PKCE, DPoP, introspection, revocation, discovery, and the security properties.
use crate::common;

use common::oauth::*;
use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::{json, Value};

const CHALLENGE_DESCRIPTION: &str =
    "The access token provided does not contain the required scopes.";

/// The mission: a service app without the grant is refused; a token without the scope gets
/// Okta's exact challenge; granting later does not change the old token; a new token works.
async fn scope_grant_scenario(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, client_id) = org.service_app("Governance Bot").await;
    org.client_role(&client_id, "ACCESS_REQUESTS_ADMIN").await;

    // Not granted: invalid_scope at the token endpoint.
    let refused = org
        .client_credentials(&client_id, "okta.governance.accessRequests.read")
        .await;
    assert_eq!(refused.status, 400, "{backend:?} {}", refused.body);
    assert_eq!(refused.body["error"], "invalid_scope");
    assert_eq!(
        refused.body["error_description"],
        "The requested scope is invalid, unknown, or malformed."
    );

    // A token with another scope gets the exact challenge.
    org.grant(&app_id, "okta.users.read").await;
    let old = org.client_credentials(&client_id, "okta.users.read").await;
    assert_eq!(old.status, 200, "{}", old.body);
    let old_token = old.body["access_token"].as_str().unwrap().to_string();
    let path = "/governance/api/v1/requests/0rq1a2b3c4d5e6f7g8h9";
    let denied = org.bearer(&old_token, Method::GET, path).await;
    assert_eq!(denied.status, 403);
    let expected = format!(
        "Bearer authorization_uri=\"{b}/oauth2/v1/authorize\", realm=\"{b}\", scope=\"okta.governance.accessRequests.read\", \
         error=\"insufficient_scope\", error_description=\"{CHALLENGE_DESCRIPTION}\", resource=\"{path}\", \
         resource_metadata=\"{b}/.well-known/oauth-protected-resource\"",
        b = org.base
    );
    assert_eq!(
        denied.headers["www-authenticate"].to_str().unwrap(),
        expected
    );

    // Granting now does not change the token already issued.
    org.grant(&app_id, "okta.governance.accessRequests.read")
        .await;
    assert_eq!(
        org.bearer(&old_token, Method::GET, path).await.status,
        403,
        "{backend:?}"
    );

    // A new token carries the scope and passes the guard (the request does not exist: 404).
    let new = org
        .client_credentials(&client_id, "okta.governance.accessRequests.read")
        .await;
    assert_eq!(new.status, 200, "{}", new.body);
    let token = new.body["access_token"].as_str().unwrap();
    let through = org.bearer(token, Method::GET, path).await;
    assert_error(through.status, &through.body, 404, "E0000007");
    // A real resource answers 200 to a token with its scope and a role that allows it.
    let users = org.bearer(&old_token, Method::GET, "/api/v1/users").await;
    assert_eq!(users.status, 200, "{}", users.body);
    // Scope present, role missing: E0000006.
    let grants = org
        .bearer(
            &old_token,
            Method::GET,
            &format!("/api/v1/apps/{app_id}/grants"),
        )
        .await;
    assert_eq!(grants.status, 403);
    assert!(grants.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("scope=\"okta.appGrants.read\""));
    org.grant(&app_id, "okta.appGrants.read").await;
    let with_scope = org
        .client_credentials(&client_id, "okta.appGrants.read")
        .await;
    let t = with_scope.body["access_token"].as_str().unwrap();
    let no_role = org
        .bearer(t, Method::GET, &format!("/api/v1/apps/{app_id}/grants"))
        .await;
    assert_error(no_role.status, &no_role.body, 403, "E0000006");
}

#[tokio::test]
async fn client_credentials_rules() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    let token_url = format!("{}/oauth2/v1/token", org.base);

    // The token's claims, as Okta's.
    let ok = org.client_credentials(&client_id, "okta.users.read").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["expires_in"], 3600);
    assert_eq!(ok.body["scope"], "okta.users.read");
    assert!(ok.body.get("refresh_token").is_none());
    assert_eq!(ok.headers["cache-control"], "no-store");
    let c = claims(ok.body["access_token"].as_str().unwrap());
    assert_eq!(c["ver"], 1);
    assert!(c["jti"].as_str().unwrap().starts_with("AT."));
    assert_eq!(c["iss"], org.base.as_str());
    assert_eq!(c["aud"], org.base.as_str());
    assert_eq!(c["cid"], client_id.as_str());
    assert_eq!(c["sub"], client_id.as_str());
    assert!(c.get("uid").is_none());
    assert_eq!(c["scp"], json!(["okta.users.read"]));
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );

    // aud may be the issuer too (openid-client sends that).
    let a = assertion(client_key(), &client_id, &org.base);
    let by_issuer = org
        .form(
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
        .await;
    assert_eq!(by_issuer.status, 200, "{}", by_issuer.body);

    // A replayed assertion is refused.
    let replay = org
        .form(
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
        .await;
    assert_eq!(
        (replay.status, replay.body["error"].as_str()),
        (401, Some("invalid_client")),
        "{}",
        replay.body
    );

    // Signed with a key the app does not have; wrong audience.
    let forged = assertion(other_key(), &client_id, &token_url);
    let r = org
        .form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "okta.users.read"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &forged),
            ],
            &[],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_client");
    assert!(
        r.headers.get("www-authenticate").is_none(),
        "no Basic challenge for assertion clients"
    );
    let wrong_aud = assertion(
        client_key(),
        &client_id,
        "https://elsewhere.example.com/oauth2/v1/token",
    );
    let r = org
        .form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "okta.users.read"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &wrong_aud),
            ],
            &[],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_client");

    // No credentials; OIDC scopes; custom scopes; unknown okta scopes; no scope at all.
    let r = org
        .form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "okta.users.read"),
            ],
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_description"].as_str()),
        (401, Some("No client credentials found."))
    );
    for (scope, description) in [
        ("openid", "Cannot request 'openid' scopes using client credentials"),
        ("my.custom", "Custom scopes are not allowed for this request"),
        ("okta.nonexistent.read", "One or more scopes are not configured for the authorization server resource."),
        ("", "The authorization server resource does not have any configured default scopes, 'scope' must be provided."),
    ] {
        let r = org.client_credentials(&client_id, scope).await;
        assert_eq!((r.status, r.body["error"].as_str()), (400, Some("invalid_scope")), "{scope}: {}", r.body);
        assert_eq!(r.body["error_description"], description, "{scope}");
    }

    // A secret-based client may not use client credentials on the org authorization server.
    let (s, secret_app) = org.post("/api/v1/apps", json!({
        "label": "Secret bot", "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
        "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"]}}
    })).await;
    assert_eq!(s, 200);
    let cid = secret_app["credentials"]["oauthClient"]["client_id"]
        .as_str()
        .unwrap();
    let secret = secret_app["credentials"]["oauthClient"]["client_secret"]
        .as_str()
        .unwrap();
    let r = org
        .http
        .post(&token_url)
        .basic_auth(cid, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_description"], "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.");
    let r = org
        .http
        .post(&token_url)
        .basic_auth(cid, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Basic realm=\"oauth2\"",
        "Basic clients get a Basic challenge"
    );

    // Unsupported grants; repeated parameters; a deactivated client.
    let r = org
        .form("/oauth2/v1/token", &[("grant_type", "password")], &[])
        .await;
    assert_eq!(r.body["error"], "unsupported_grant_type");
    let r = org
        .form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_request");
    org.post(
        &format!("/api/v1/apps/{app_id}/lifecycle/deactivate"),
        json!({}),
    )
    .await;
    let r = org.client_credentials(&client_id, "okta.users.read").await;
    assert_eq!(r.body["error"], "invalid_client");

    // Every issue and denial is in the System Log; no token or assertion is.
    let (_, issued) = org
        .get("/api/v1/logs?filter=eventType%20eq%20%22app.oauth2.as.token.grant.access_token%22")
        .await;
    assert!(issued.as_array().unwrap().len() >= 2);
    let (_, denied) = org
        .get("/api/v1/logs?filter=eventType%20eq%20%22app.oauth2.as.token.grant%22")
        .await;
    assert!(denied
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["outcome"]["result"] == "FAILURE"));
    // Each event says who asked: the peer address and the request id of the token call.
    let request_id = ok.headers["x-okta-request-id"].to_str().unwrap();
    let mine: Vec<_> = issued
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["debugContext"]["debugData"]["requestId"] == request_id)
        .collect();
    assert_eq!(mine.len(), 1, "{issued}");
    assert_eq!(mine[0]["client"]["ipAddress"], "127.0.0.1");
    assert_eq!(mine[0]["transaction"]["id"], request_id);
    for e in denied.as_array().unwrap() {
        assert_eq!(e["client"]["ipAddress"], "127.0.0.1", "{e}");
    }
    let (_, all) = org.get("/api/v1/logs?limit=1000").await;
    let text = all.to_string();
    assert!(!text.contains(ok.body["access_token"].as_str().unwrap()));
    assert!(!text.contains(&a) && !text.contains(secret));
}

#[tokio::test]
async fn forged_tokens_are_rejected() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let good = org
        .client_credentials(&client_id, "okta.users.read")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        org.bearer(&good, Method::GET, "/api/v1/users").await.status,
        200
    );
    let parts: Vec<&str> = good.split('.').collect();
    let payload = parts[1];

    // alg none.
    let none = format!(
        "{}.{payload}.",
        base64_url(&json!({"alg": "none"}).to_string())
    );
    // HS256 signed with the server's public key as the HMAC secret.
    let jwk = org.auth.ring().active().jwk();
    let public_pem = serde_json::to_string(&jwk).unwrap();
    let hs_input = format!(
        "{}.{payload}",
        base64_url(&json!({"alg": "HS256", "kid": jwk.kid}).to_string())
    );
    let hs_sig = jsonwebtoken::crypto::sign(
        hs_input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    let hs = format!("{hs_input}.{hs_sig}");
    // Signed by a stranger with our kid; tampered payload; expired; other issuer.
    let stranger = sign(
        other_key(),
        &json!({"alg": "RS256", "kid": jwk.kid}),
        &claims(&good),
    );
    let mut tampered_claims = claims(&good);
    tampered_claims["scp"] = json!(["okta.users.manage"]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        base64_url(&tampered_claims.to_string()),
        parts[2]
    );
    let mut expired_claims = claims(&good);
    expired_claims["exp"] = json!(now() - 600);
    let expired = sign(
        other_key(),
        &json!({"alg": "RS256", "kid": jwk.kid}),
        &expired_claims,
    );
    for (name, token) in [
        ("none", none),
        ("hs256", hs),
        ("stranger", stranger),
        ("tampered", tampered),
        ("expired", expired),
        ("garbage", "abc".to_string()),
    ] {
        let r = org.bearer(&token, Method::GET, "/api/v1/users").await;
        assert_error(r.status, &r.body, 401, "E0000011");
        let challenge = r.headers["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{name}: {challenge}"
        );
    }
}

async fn authorization_code_with_pkce_refresh_and_reuse_detection(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, user_id) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let (verifier, challenge) = pkce();
    let scope = "openid profile email offline_access okta.users.read";
    let done = sign_in(
        &org,
        &browser,
        &authorize_url(&org, &app, scope, &challenge, ""),
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(done.status(), 302, "{backend:?}");
    let back = location(done.headers());
    assert!(back.starts_with(&app.redirect), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&back, "iss").as_deref(), Some(org.base.as_str()));
    let code = param(&back, "code").unwrap();

    // A wrong verifier, and another client presenting the code, are refused without
    // spending it (a refused request writes nothing); the right client and verifier then win.
    let bad = redeem(&org, &app, &code, &pkce().0).await;
    assert_eq!(bad.body["error"], "invalid_grant", "{}", bad.body);
    let (_, other_id, other_secret) = org.web_app("Other", &app.redirect, "TRUSTED").await;
    let other = WebApp {
        app_id: String::new(),
        client_id: other_id,
        secret: other_secret,
        redirect: app.redirect.clone(),
    };
    let stolen = redeem(&org, &other, &code, &verifier).await;
    assert_eq!(stolen.body["error"], "invalid_grant", "{}", stolen.body);
    let first = redeem(&org, &app, &code, &verifier).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = redeem(&org, &app, &code, &verifier).await;
    assert_eq!(again.body["error"], "invalid_grant", "single use");

    // A fresh code, redeemed properly.
    let (verifier, challenge) = pkce();
    let done = browser
        .get(authorize_url(&org, &app, scope, &challenge, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 302, "the session signs the user in silently");
    let code = param(&location(done.headers()), "code").unwrap();
    let tokens = redeem(&org, &app, &code, &verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = tokens.body["access_token"].as_str().unwrap().to_string();
    let refresh = tokens.body["refresh_token"].as_str().unwrap().to_string();
    let id = claims(tokens.body["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], user_id.as_str());
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["aud"], app.client_id.as_str());
    assert_eq!(id["email"], "jane@example.com");
    let at = claims(&access);
    assert_eq!(at["uid"], user_id.as_str());
    assert_eq!(at["sub"], "jane@example.com");
    assert!(at["auth_time"].is_i64());
    // The user token acts with the user's role.
    assert_eq!(
        org.bearer(&access, Method::GET, "/api/v1/users")
            .await
            .status,
        200
    );
    assert_error(
        org.bearer(
            &access,
            Method::GET,
            &format!("/api/v1/apps/{}/grants", app.app_id),
        )
        .await
        .status,
        &json!({"errorCode": "E0000006", "errorLink": "E0000006", "errorSummary": "x", "errorId": "oae", "errorCauses": []}),
        403,
        "E0000006",
    );
    // Userinfo.
    let info = org
        .bearer(&access, Method::GET, "/oauth2/v1/userinfo")
        .await;
    assert_eq!(
        (info.status, info.body["sub"].as_str()),
        (200, Some(user_id.as_str())),
        "{}",
        info.body
    );
    assert_eq!(info.body["preferred_username"], "jane@example.com");

    // Replaying the code revokes what it issued.
    let replay = redeem(&org, &app, &code, &verifier).await;
    assert_eq!(replay.body["error"], "invalid_grant");
    let r = org.bearer(&access, Method::GET, "/api/v1/users").await;
    assert_error(r.status, &r.body, 401, "E0000011");
    let r = org
        .http
        .post(format!("{}/oauth2/v1/token", org.base))
        .basic_auth(&app.client_id, Some(&app.secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "the refresh token of a replayed code is revoked too"
    );

    // Refresh: rotation, narrowing, widening refused, reuse revokes the family.
    let (verifier, challenge) = pkce();
    let done = browser
        .get(authorize_url(&org, &app, scope, &challenge, ""))
        .send()
        .await
        .unwrap();
    let tokens = redeem(
        &org,
        &app,
        &param(&location(done.headers()), "code").unwrap(),
        &verifier,
    )
    .await;
    let rt1 = tokens.body["refresh_token"].as_str().unwrap().to_string();
    let refresh_with = |rt: String, scope: Option<&'static str>| {
        let org = &org;
        let app = &app;
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", rt),
            ];
            if let Some(s) = scope {
                form.push(("scope", s.to_string()));
            }
            let r = org
                .http
                .post(format!("{}/oauth2/v1/token", org.base))
                .basic_auth(&app.client_id, Some(&app.secret))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (s, widened) = refresh_with(rt1.clone(), Some("openid okta.users.manage")).await;
    assert_eq!(
        (s, widened["error"].as_str()),
        (400, Some("invalid_scope")),
        "{widened}"
    );
    assert!(widened["error_description"]
        .as_str()
        .unwrap()
        .contains("authorize again"));
    let (s, narrowed) = refresh_with(rt1.clone(), Some("okta.users.read")).await;
    assert_eq!(s, 200, "{narrowed}");
    assert_eq!(narrowed["scope"], "okta.users.read");
    let rt2 = narrowed["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2, "rotated");
    let at2 = narrowed["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        org.bearer(&at2, Method::GET, "/api/v1/users").await.status,
        200
    );
    // The rotated refresh token kept the original scope (RFC 6749 §6): a narrow access
    // token does not narrow what the next refresh may ask for.
    let (s, restored) = refresh_with(rt2.clone(), Some("openid okta.users.read")).await;
    assert_eq!(s, 200, "{restored}");
    assert_eq!(restored["scope"], "openid okta.users.read");
    let rt3 = restored["refresh_token"].as_str().unwrap().to_string();
    let at3 = restored["access_token"].as_str().unwrap().to_string();
    // rt1 comes back: reuse. The family (rt2, rt3 and their access tokens) is revoked.
    let (s, reused) = refresh_with(rt1, None).await;
    assert_eq!((s, reused["error"].as_str()), (400, Some("invalid_grant")));
    for rt in [rt2, rt3] {
        let (s, _) = refresh_with(rt, None).await;
        assert_eq!(s, 400);
    }
    for at in [&at2, &at3] {
        assert_eq!(
            org.bearer(at, Method::GET, "/api/v1/users").await.status,
            401
        );
    }
    let (_, log) = org.get("/api/v1/logs?q=reuse").await;
    assert!(!log.as_array().unwrap().is_empty(), "reuse is logged");
}

/// Two holders of one refresh token race: whoever loses revokes the family, and that must reach
/// the tokens the winner is issuing at the same moment (they are written in the rotation's
/// transaction, which the revocation waits for).
async fn a_refresh_race_leaves_no_live_token(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let scope = "openid offline_access okta.users.read";
    for round in 0..3 {
        let (verifier, challenge) = pkce();
        let done = if round == 0 {
            sign_in(
                &org,
                &browser,
                &authorize_url(&org, &app, scope, &challenge, ""),
                "jane@example.com",
                "Sup3r-Secret-Pass",
            )
            .await
        } else {
            browser
                .get(authorize_url(&org, &app, scope, &challenge, ""))
                .send()
                .await
                .unwrap()
        };
        let code = param(&location(done.headers()), "code").unwrap();
        let tokens = redeem(&org, &app, &code, &verifier).await;
        let rt1 = tokens.body["refresh_token"].as_str().unwrap().to_string();
        let attempts = (0..6).map(|_| {
            let http = org.http.clone();
            let url = format!("{}/oauth2/v1/token", org.base);
            let (id, secret, rt) = (app.client_id.clone(), app.secret.clone(), rt1.clone());
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .basic_auth(id, Some(secret))
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)])
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            })
        });
        let mut winners = Vec::new();
        for attempt in attempts.collect::<Vec<_>>() {
            let (status, body) = attempt.await.unwrap();
            match status {
                200 => winners.push(body),
                400 => assert_eq!(body["error"], "invalid_grant", "{body}"),
                other => panic!("{backend:?}: {other} {body}"),
            }
        }
        assert!(winners.len() <= 1, "{backend:?}: one rotation wins at most");
        for won in winners {
            let at = won["access_token"].as_str().unwrap();
            let r = org.bearer(at, Method::GET, "/api/v1/users").await;
            assert_eq!(
                r.status, 401,
                "{backend:?}: the winner's access token is revoked"
            );
            let rt = won["refresh_token"].as_str().unwrap();
            let r = org
                .http
                .post(format!("{}/oauth2/v1/token", org.base))
                .basic_auth(&app.client_id, Some(&app.secret))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                400,
                "{backend:?}: the winner's refresh token is revoked"
            );
        }
    }
}

#[tokio::test]
async fn authorize_errors_are_shown_or_redirected() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let (_, challenge) = pkce();
    // Redirect URI variants are refused on a page, never redirected to.
    for variant in [
        "https://app.example.com/callback/",
        "https://APP.example.com/callback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/call",
        "http://app.example.com/callback",
        "https://app.example.com/callback#f",
    ] {
        let url = format!("{}/oauth2/v1/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&code_challenge={challenge}&code_challenge_method=S256", org.base, app.client_id, urlencode(variant));
        let r = browser.get(url).send().await.unwrap();
        assert_eq!(r.status(), 400, "{variant}");
        assert!(r.headers().get("location").is_none());
    }
    let r = browser
        .get(format!(
            "{}/oauth2/v1/authorize?client_id=nope&redirect_uri=x",
            org.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Errors after the redirect URI is known go back to the client with state.
    let cases = [
        ("&response_type=token", "unsupported_response_type"),
        ("&scope=okta.users.manage", "invalid_scope"),
        ("&code_challenge_method=plain", "invalid_request"),
        ("&prompt=none", "login_required"),
    ];
    for (extra, error) in cases {
        let mut url = authorize_url(&org, &app, "openid", &challenge, "");
        for part in extra.trim_start_matches('&').split('&') {
            let key = part.split('=').next().unwrap();
            url = url
                .split('&')
                .filter(|p| !p.starts_with(&format!("{key}=")))
                .collect::<Vec<_>>()
                .join("&");
        }
        url.push_str(extra);
        let r = browser.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 302, "{extra}");
        let back = location(r.headers());
        assert!(back.starts_with(&app.redirect));
        assert_eq!(
            param(&back, "error").as_deref(),
            Some(error),
            "{extra}: {back}"
        );
        assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    }
    // PKCE is required, and the error says why: this web app (client_secret_basic) requires it
    // in its settings; it is not a public client.
    let url = authorize_url(&org, &app, "openid", "", "")
        .replace("&code_challenge=&code_challenge_method=S256", "");
    let r = browser.get(&url).send().await.unwrap();
    let back = location(r.headers());
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    let why = param(&back, "error_description").unwrap_or_default();
    assert!(
        why.contains("pkce_required") && !why.contains("'NONE'"),
        "{why}"
    );
    // A user not assigned to the app is refused with access_denied.
    org.user("stranger@example.com").await;
    let stranger = common::oauth::browser();
    let r = sign_in(
        &org,
        &stranger,
        &authorize_url(&org, &app, "openid", &challenge, ""),
        "stranger@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(r.status(), 302);
    let back = location(r.headers());
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        param(&back, "error_description").as_deref(),
        Some("User is not assigned to the client application.")
    );
}

#[tokio::test]
async fn consent_csrf_and_form_post() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "REQUIRED").await;
    let browser = browser();
    let (_, challenge) = pkce();
    let url = authorize_url(
        &org,
        &app,
        "openid okta.users.read",
        &challenge,
        "&response_mode=form_post",
    );
    let page = sign_in(
        &org,
        &browser,
        &url,
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(page.status(), 200, "consent page");
    let html = page.text().await.unwrap();
    assert!(html.contains("okta.users.read") && html.contains("Allow access"));
    let csrf = hidden(&html, "csrf").unwrap();
    let mut form: Vec<(String, String)> = [
        "client_id",
        "redirect_uri",
        "response_type",
        "response_mode",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    ]
    .iter()
    .filter_map(|k| hidden(&html, k).map(|v| ((*k).to_string(), v)))
    .collect();
    // Without the CSRF token the answer is refused.
    let mut forged = form.clone();
    forged.push(("consent".into(), "allow".into()));
    forged.push(("csrf".into(), "wrong".into()));
    let r = browser
        .post(format!("{}/oauth2/v1/authorize", org.base))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Deny, then allow; form_post answers with an auto-submitting form.
    let mut deny = form.clone();
    deny.push(("consent".into(), "deny".into()));
    deny.push(("csrf".into(), csrf.clone()));
    let r = browser
        .post(format!("{}/oauth2/v1/authorize", org.base))
        .form(&deny)
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(
        body.contains("access_denied") && body.contains(&app.redirect.replace('/', "&#x2f;")),
        "{body}"
    );
    form.push(("consent".into(), "allow".into()));
    form.push(("csrf".into(), csrf));
    let r = browser
        .post(format!("{}/oauth2/v1/authorize", org.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("name=\"code\"") && body.contains("st-123"),
        "{body}"
    );
    // The sign-in form itself refuses a missing CSRF token.
    let r = common::oauth::browser()
        .post(format!("{}/login", org.base))
        .form(&[
            ("return_to", "/oauth2/v1/authorize?client_id=x"),
            ("username", "jane@example.com"),
            ("password", "Sup3r-Secret-Pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 303);
}

#[tokio::test]
async fn sign_in_lockout_after_repeated_failures() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, user_id) = web_app_with_user(&org, "TRUSTED").await;
    // Tokens issued before the lockout (another browser).
    let (verifier, challenge) = pkce();
    let scope = "openid offline_access okta.users.read";
    let done = sign_in(
        &org,
        &browser(),
        &authorize_url(&org, &app, scope, &challenge, ""),
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    let code = param(&location(done.headers()), "code").unwrap();
    let issued = redeem(&org, &app, &code, &verifier).await;
    let access = issued.body["access_token"].as_str().unwrap().to_string();
    let refresh = |rt: String| {
        let org = &org;
        let app = &app;
        async move {
            let r = org
                .http
                .post(format!("{}/oauth2/v1/token", org.base))
                .basic_auth(&app.client_id, Some(&app.secret))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };

    let (_, challenge) = pkce();
    let url = authorize_url(&org, &app, "openid", &challenge, "");
    let browser = browser();
    for i in 0..steward_api::oauth::LOCKOUT_THRESHOLD {
        let r = sign_in(&org, &browser, &url, "jane@example.com", "wrong-password").await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let (_, user) = org.get(&format!("/api/v1/users/{user_id}")).await;
    assert_eq!(user["status"], "LOCKED_OUT");
    // The right password no longer helps.
    let r = sign_in(
        &org,
        &browser,
        &url,
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Unable to sign in."));
    // The lockout guards the password, not what was issued before it.
    let info = org
        .bearer(&access, Method::GET, "/oauth2/v1/userinfo")
        .await;
    assert_eq!(info.status, 200, "{}", info.body);
    let (s, refreshed) = refresh(issued.body["refresh_token"].as_str().unwrap().into()).await;
    assert_eq!(s, 200, "{refreshed}");
    let rt = refreshed["refresh_token"].as_str().unwrap().to_string();
    // An admin unlocks; the user signs in.
    assert_eq!(
        org.post(
            &format!("/api/v1/users/{user_id}/lifecycle/unlock"),
            json!({})
        )
        .await
        .0,
        200
    );
    let r = sign_in(
        &org,
        &browser,
        &url,
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    assert_eq!(r.status(), 302);
    let (_, log) = org
        .get("/api/v1/logs?filter=eventType%20eq%20%22user.account.lock%22")
        .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    // A suspended user's credentials stop acting: userinfo and refresh refuse them.
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{user_id}/lifecycle/suspend"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let info = org
        .bearer(&access, Method::GET, "/oauth2/v1/userinfo")
        .await;
    assert_eq!(info.status, 401, "{}", info.body);
    let (s, refused) = refresh(rt).await;
    assert_eq!((s, refused["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(log[0]["client"]["ipAddress"], "127.0.0.1", "{log}");
    let (_, failures) = org.get("/api/v1/logs?filter=eventType%20eq%20%22user.session.start%22%20and%20outcome.result%20eq%20%22FAILURE%22").await;
    assert!(failures.as_array().unwrap().len() >= 6);
    // Sign-in attempts carry the address they came from (what brute-force analysis needs).
    for e in failures.as_array().unwrap() {
        assert_eq!(e["client"]["ipAddress"], "127.0.0.1", "{e}");
        assert!(
            e["debugContext"]["debugData"]["requestId"].is_string(),
            "{e}"
        );
    }
    let (_, successes) = org.get("/api/v1/logs?filter=eventType%20eq%20%22user.session.start%22%20and%20outcome.result%20eq%20%22SUCCESS%22").await;
    assert_eq!(
        successes[0]["client"]["ipAddress"], "127.0.0.1",
        "{successes}"
    );
    assert!(
        !failures.to_string().contains("wrong-password"),
        "no password in the log"
    );
}

#[tokio::test]
async fn introspection_revocation_and_discovery() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let token = org
        .client_credentials(&client_id, "okta.users.read")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = |path: &str| {
        let a = assertion(client_key(), &client_id, &format!("{}{path}", org.base));
        vec![
            (
                "client_assertion_type".to_string(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
            ),
            ("client_assertion".to_string(), a),
        ]
    };
    let mut form = auth("/oauth2/v1/introspect");
    form.push(("token".into(), token.clone()));
    let r: Value = org
        .http
        .post(format!("{}/oauth2/v1/introspect", org.base))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], true, "{r}");
    assert_eq!(r["client_id"], client_id.as_str());
    assert_eq!(r["scope"], "okta.users.read");
    let mut form = auth("/oauth2/v1/introspect");
    form.push(("token".into(), "garbage".into()));
    let r: Value = org
        .http
        .post(format!("{}/oauth2/v1/introspect", org.base))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"active": false}));
    // Revoke: 200, then the token is inactive and refused by the API.
    assert_eq!(
        org.bearer(&token, Method::GET, "/api/v1/users")
            .await
            .status,
        200
    );
    let mut form = auth("/oauth2/v1/revoke");
    form.push(("token".into(), token.clone()));
    let r = org
        .http
        .post(format!("{}/oauth2/v1/revoke", org.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut form = auth("/oauth2/v1/introspect");
    form.push(("token".into(), token.clone()));
    let r: Value = org
        .http
        .post(format!("{}/oauth2/v1/introspect", org.base))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["active"], false);
    assert_eq!(
        org.bearer(&token, Method::GET, "/api/v1/users")
            .await
            .status,
        401
    );
    // Unknown tokens revoke "successfully" (RFC 7009); unauthenticated callers do not.
    let mut form = auth("/oauth2/v1/revoke");
    form.push(("token".into(), "whatever".into()));
    assert_eq!(
        org.http
            .post(format!("{}/oauth2/v1/revoke", org.base))
            .form(&form)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = org.form("/oauth2/v1/revoke", &[("token", "x")], &[]).await;
    assert_eq!(r.status, 401);

    // Discovery: one issuer string everywhere.
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let (_, d) = org.get(path).await;
        assert_eq!(d["issuer"], org.base.as_str());
        assert_eq!(d["token_endpoint"], format!("{}/oauth2/v1/token", org.base));
        assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
        assert!(d["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "okta.governance.accessRequests.read"));
        assert!(d["dpop_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "ES256"));
    }
    let (_, prm) = org.get("/.well-known/oauth-protected-resource").await;
    assert_eq!(prm["resource"], org.base.as_str());
    assert_eq!(prm["authorization_servers"], json!([org.base]));
    let (_, keys) = org.get("/oauth2/v1/keys").await;
    let keys = keys["keys"].as_array().unwrap();
    assert!(keys.len() >= 2, "active and next");
    assert!(keys
        .iter()
        .all(|k| k["kty"] == "RSA" && k["alg"] == "RS256" && k["use"] == "sig"));
    assert!(
        keys.iter().all(|k| k.get("d").is_none()),
        "no private parts"
    );
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid() {
    let org = TestOrg::start(Backend::Postgres).await;
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let before = org
        .client_credentials(&client_id, "okta.users.read")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let old_kid = org.auth.ring().active().kid.clone();
    let next_kid = org.auth.ring().next().unwrap().kid.clone();
    let (new_kid, promoted) = org.auth.rotate(&org.store).await.unwrap();
    assert!(promoted, "the published next key became active");
    assert_eq!(new_kid, next_kid, "the announced next key becomes active");
    let after = org
        .client_credentials(&client_id, "okta.users.read")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let kid = |t: &str| {
        use base64::Engine;
        let h: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        h["kid"].as_str().unwrap().to_string()
    };
    assert_eq!(kid(&before), old_kid);
    assert_eq!(kid(&after), new_kid);
    assert_eq!(
        org.bearer(&before, Method::GET, "/api/v1/users")
            .await
            .status,
        200
    );
    assert_eq!(
        org.bearer(&after, Method::GET, "/api/v1/users")
            .await
            .status,
        200
    );
    let (_, keys) = org.get("/oauth2/v1/keys").await;
    let kids: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()) && kids.len() == 3,
        "{kids:?}"
    );
    // Keys are sealed at rest: the private key never appears in the store in clear.
    let stored = org.store.signing_keys().await.unwrap();
    assert!(stored
        .iter()
        .all(|k| k.private_sealed.starts_with("v1.") && !k.private_sealed.contains("PRIVATE KEY")));
}

#[tokio::test]
async fn dpop_bound_tokens() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let token_url = format!("{}/oauth2/v1/token", org.base);
    let key = other_key();
    let request = |proof: String| {
        let a = assertion(client_key(), &client_id, &token_url);
        let org = &org;
        async move {
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
                &[("DPoP", proof)],
            )
            .await
        }
    };
    // First the server asks for its nonce.
    let first = request(dpop_proof(key, "POST", &token_url, None, None)).await;
    assert_eq!(
        (first.status, first.body["error"].as_str()),
        (400, Some("use_dpop_nonce")),
        "{}",
        first.body
    );
    let nonce = first.headers["dpop-nonce"].to_str().unwrap().to_string();
    let ok = request(dpop_proof(key, "POST", &token_url, Some(&nonce), None)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["token_type"], "DPoP");
    let token = ok.body["access_token"].as_str().unwrap().to_string();
    let jkt = claims(&token)["cnf"]["jkt"].as_str().unwrap().to_string();
    assert_eq!(jkt.len(), 43);
    // At the API: the DPoP scheme with a proof bound to the token (ath).
    let api = format!("{}/api/v1/users", org.base);
    let call = |scheme: &str, proof: Option<String>| {
        let mut req = org
            .http
            .get(&api)
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(p) = proof {
            req = req.header("DPoP", p);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        call(
            "DPoP",
            Some(dpop_proof(key, "GET", &api, None, Some(&token)))
        )
        .await,
        200
    );
    assert_eq!(
        call("Bearer", None).await,
        401,
        "a bound token is not a bearer token"
    );
    assert_eq!(call("DPoP", None).await, 401, "proof required");
    assert_eq!(
        call("DPoP", Some(dpop_proof(key, "GET", &api, None, None))).await,
        401,
        "ath required"
    );
    assert_eq!(
        call(
            "DPoP",
            Some(dpop_proof(client_key(), "GET", &api, None, Some(&token)))
        )
        .await,
        401,
        "wrong key"
    );
    assert_eq!(
        call(
            "DPoP",
            Some(dpop_proof(key, "POST", &api, None, Some(&token)))
        )
        .await,
        401,
        "wrong method"
    );
    let proof = dpop_proof(key, "GET", &api, None, Some(&token));
    assert_eq!(call("DPoP", Some(proof.clone())).await, 200);
    assert_eq!(call("DPoP", Some(proof)).await, 401, "replayed proof");
}

async fn grants_api_is_for_super_admins(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, _) = org.service_app("Bot").await;
    let g = org.grant(&app_id, "okta.groups.read").await;
    for field in [
        "id",
        "issuer",
        "scopeId",
        "status",
        "source",
        "clientId",
        "created",
        "createdBy",
        "lastUpdated",
        "_links",
    ] {
        assert!(!g[field].is_null(), "{field} in {g}");
    }
    assert!(g["id"].as_str().unwrap().starts_with("oag"));
    assert_eq!(
        (g["status"].as_str(), g["source"].as_str()),
        (Some("ACTIVE"), Some("ADMIN"))
    );
    let path = format!("/api/v1/apps/{app_id}/grants");
    let (s, b) = org
        .post(
            &path,
            json!({"scopeId": "okta.groups.read", "issuer": org.base}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");
    let (s, b) = org
        .post(
            &path,
            json!({"scopeId": "okta.made.up", "issuer": org.base}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");
    let (s, b) = org
        .post(
            &path,
            json!({"scopeId": "okta.users.read", "issuer": "https://other.example.com"}),
        )
        .await;
    assert_error(s, &b, 400, "E0000001");
    let (_, list) = org.get(&format!("{path}?expand=scope")).await;
    assert_eq!(list[0]["_embedded"]["scope"]["id"], "okta.groups.read");
    assert_eq!(
        org.get(&format!("{path}/{}", g["id"].as_str().unwrap()))
            .await
            .0,
        200
    );

    // An org admin can read grants but not grant or revoke.
    let u = org.user("orgadmin@example.com").await;
    org.post(
        &format!("/api/v1/users/{}/roles", u["id"].as_str().unwrap()),
        json!({"type": "ORG_ADMIN"}),
    )
    .await;
    let t = org.token_for("orgadmin@example.com").await;
    let (s, _) = org.send_as(&t, Method::GET, &path, None).await;
    assert_eq!(s, 200);
    let (s, b) = org
        .send_as(
            &t,
            Method::POST,
            &path,
            Some(json!({"scopeId": "okta.users.read", "issuer": org.base})),
        )
        .await;
    assert_error(s, &b, 403, "E0000006");
    let (s, b) = org
        .send_as(
            &t,
            Method::DELETE,
            &format!("{path}/{}", g["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_error(s, &b, 403, "E0000006");

    assert_eq!(
        org.delete(&format!("{path}/{}", g["id"].as_str().unwrap()))
            .await
            .0,
        204,
        "{backend:?}"
    );
    assert_eq!(org.get(&path).await.1.as_array().unwrap().len(), 0);
    let (_, events) = org
        .get("/api/v1/logs?filter=eventType%20sw%20%22app.oauth2.as.consent%22")
        .await;
    assert_eq!(events.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let (verifier, challenge) = pkce();
    let r = sign_in(
        &org,
        &browser,
        &authorize_url(&org, &app, "openid", &challenge, ""),
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    let tokens = redeem(
        &org,
        &app,
        &param(&location(r.headers()), "code").unwrap(),
        &verifier,
    )
    .await;
    let id_token = tokens.body["id_token"].as_str().unwrap();
    let r = browser
        .get(format!(
            "{}/oauth2/v1/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
            org.base,
            urlencode("https://app.example.com/bye")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(
        location(r.headers()),
        "https://app.example.com/bye?state=bye"
    );
    // The session is gone: authorize asks for a sign-in again.
    let (_, challenge) = pkce();
    let r = browser
        .get(authorize_url(&org, &app, "openid", &challenge, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("name=\"password\""));
    let r = browser.get(format!("{}/oauth2/v1/logout?id_token_hint={id_token}&post_logout_redirect_uri=https://evil.example.com/", org.base)).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn deactivation_revokes_tokens_for_good() {
    let org = TestOrg::start(Backend::Postgres).await;
    // A service app's token dies with the app and stays dead after reactivation.
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let token = org
        .client_credentials(&client_id, "okta.users.read")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        org.bearer(&token, Method::GET, "/api/v1/users")
            .await
            .status,
        200
    );
    org.post(
        &format!("/api/v1/apps/{app_id}/lifecycle/deactivate"),
        json!({}),
    )
    .await;
    org.post(
        &format!("/api/v1/apps/{app_id}/lifecycle/activate"),
        json!({}),
    )
    .await;
    let r = org.bearer(&token, Method::GET, "/api/v1/users").await;
    assert_error(r.status, &r.body, 401, "E0000011");
    assert_eq!(
        org.client_credentials(&client_id, "okta.users.read")
            .await
            .status,
        200,
        "new tokens are fine"
    );

    // A user's tokens and sessions die when the user is suspended.
    let (app, user_id) = web_app_with_user(&org, "TRUSTED").await;
    let browser = browser();
    let (verifier, challenge) = pkce();
    let r = sign_in(
        &org,
        &browser,
        &authorize_url(
            &org,
            &app,
            "openid offline_access okta.users.read",
            &challenge,
            "",
        ),
        "jane@example.com",
        "Sup3r-Secret-Pass",
    )
    .await;
    let tokens = redeem(
        &org,
        &app,
        &param(&location(r.headers()), "code").unwrap(),
        &verifier,
    )
    .await;
    let access = tokens.body["access_token"].as_str().unwrap().to_string();
    let refresh = tokens.body["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        org.bearer(&access, Method::GET, "/api/v1/users")
            .await
            .status,
        200
    );
    org.post(
        &format!("/api/v1/users/{user_id}/lifecycle/suspend"),
        json!({}),
    )
    .await;
    org.post(
        &format!("/api/v1/users/{user_id}/lifecycle/unsuspend"),
        json!({}),
    )
    .await;
    assert_eq!(
        org.bearer(&access, Method::GET, "/api/v1/users")
            .await
            .status,
        401
    );
    let r = org
        .http
        .post(format!("{}/oauth2/v1/token", org.base))
        .basic_auth(&app.client_id, Some(&app.secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // The browser session is gone too: authorize asks for a password again.
    let (_, challenge) = pkce();
    let r = browser
        .get(authorize_url(&org, &app, "openid", &challenge, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Code and refresh grants hold a transaction (a pooled connection on PostgreSQL): they read
/// through the pool before it, never while holding it, so a burst larger than the pool cannot
/// deadlock it.
async fn a_burst_of_refresh_requests_does_not_exhaust_the_pool(backend: Backend) {
    let org = std::sync::Arc::new(TestOrg::start(backend).await);
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    // Before, each request held a transaction and waited for a second connection: with more
    // requests than connections they all timed out acquiring one (500).
    let burst = (0..48).map(|i| {
        let org = org.clone();
        let (id, secret) = (app.client_id.clone(), app.secret.clone());
        tokio::spawn(async move {
            let r = org
                .http
                .post(format!("{}/oauth2/v1/token", org.base))
                .basic_auth(id, Some(secret))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &format!("no-such-token-{i}")),
                ])
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        })
    });
    for task in burst.collect::<Vec<_>>() {
        assert_eq!(task.await.unwrap(), 400, "{backend:?}");
    }
}

/// A refused request's System Log event names the client it claimed to be, which may be any
/// string: one that PostgreSQL cannot store (NUL) must not fail the tokens committed with it.
async fn a_refused_request_with_an_unstorable_client_id_fails_nobody_else(backend: Backend) {
    let org = std::sync::Arc::new(TestOrg::start(backend).await);
    let (app_id, client_id) = org.service_app("Neighbour").await;
    org.grant(&app_id, "okta.users.read").await;
    let good = (0..16).map(|_| {
        let (org, client_id) = (org.clone(), client_id.clone());
        tokio::spawn(async move { org.client_credentials(&client_id, "okta.users.read").await })
    });
    let bad = (0..16).map(|_| {
        let org = org.clone();
        tokio::spawn(async move {
            org.form(
                "/oauth2/v1/token",
                &[("grant_type", "client_credentials"), ("client_id", "a\0b")],
                &[],
            )
            .await
        })
    });
    let (good, bad): (Vec<_>, Vec<_>) = (good.collect(), bad.collect());
    for task in bad {
        let answer = task.await.unwrap();
        assert!(
            matches!(answer.status, 400 | 401),
            "{backend:?}: {}",
            answer.body
        );
    }
    for task in good {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{backend:?}: {}", answer.body);
    }
    let (_, log) = org
        .get("/api/v1/logs?filter=outcome.result%20eq%20%22FAILURE%22")
        .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"]["id"] == "a\u{FFFD}b"),
        "{backend:?}: the refusal is logged, NUL replaced"
    );
}

/// Token issues are committed in batches: many at once each get their own token, each is
/// logged once, and one assertion sent many times at once yields exactly one token.
async fn concurrent_token_requests_are_each_recorded_once(backend: Backend) {
    let org = std::sync::Arc::new(TestOrg::start(backend).await);
    let (app_id, client_id) = org.service_app("Batch").await;
    org.grant(&app_id, "okta.users.read").await;
    let distinct = (0..24).map(|_| {
        let (org, client_id) = (org.clone(), client_id.clone());
        tokio::spawn(async move { org.client_credentials(&client_id, "okta.users.read").await })
    });
    let shared = assertion(
        client_key(),
        &client_id,
        &format!("{}/oauth2/v1/token", org.base),
    );
    let replays = (0..8).map(|_| {
        let (org, shared) = (org.clone(), shared.clone());
        tokio::spawn(async move {
            org.form(
                "/oauth2/v1/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "okta.users.read"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &shared),
                ],
                &[],
            )
            .await
        })
    });
    let distinct: Vec<_> = distinct.collect();
    let replays: Vec<_> = replays.collect();
    let mut jtis = std::collections::HashSet::new();
    for task in distinct {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{backend:?}: {}", answer.body);
        let c = claims(answer.body["access_token"].as_str().unwrap());
        assert!(jtis.insert(c["jti"].as_str().unwrap().to_string()));
    }
    let mut won = 0;
    for task in replays {
        let answer = task.await.unwrap();
        match answer.status {
            200 => won += 1,
            401 => assert_eq!(answer.body["error"], "invalid_client", "{backend:?}"),
            other => panic!("{backend:?}: {other} {}", answer.body),
        }
    }
    assert_eq!(won, 1, "{backend:?}: one assertion, one token");
    // Every issued token is known to introspection's store and to the System Log.
    let log = org
        .get(&format!(
            "/api/v1/logs?limit=1000&filter={}",
            urlencode("eventType eq \"app.oauth2.as.token.grant.access_token\"")
        ))
        .await;
    assert_eq!(log.1.as_array().unwrap().len(), 25, "{backend:?}");
}

/// A `jti` that a store could not hold (a NUL character) fails its own request as a bad
/// assertion; the tokens committed beside it are unaffected.
async fn an_unstorable_jti_fails_only_its_own_request(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    let token_url = format!("{}/oauth2/v1/token", org.base);
    let now = now();
    let bad = sign(
        client_key(),
        &json!({"alg": "RS256", "kid": client_key().kid}),
        &json!({"iss": client_id, "sub": client_id, "aud": token_url, "iat": now, "exp": now + 300, "jti": "nul\u{0}jti"}),
    );
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "okta.users.read"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", bad.as_str()),
    ];
    let with_bad = org.form("/oauth2/v1/token", &form, &[]);
    let good = || org.client_credentials(&client_id, "okta.users.read");
    let (bad, g1, g2, g3, g4) = tokio::join!(with_bad, good(), good(), good(), good());
    let goods = [g1, g2, g3, g4];
    assert_eq!(bad.status, 401, "{backend:?}: {}", bad.body);
    assert_eq!(bad.body["error"], "invalid_client", "{backend:?}");
    for good in goods {
        assert_eq!(good.status, 200, "{backend:?}: {}", good.body);
    }
}

/// A service app created as Terraform's Okta provider creates one (`response_types: ["token"]`,
/// issue 10 item 6) is accepted, keeps what was sent, and gets tokens by client credentials with
/// `private_key_jwt`; the implicit flow itself stays refused at `/authorize`.
async fn a_terraform_style_service_app_gets_tokens(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (status, app) = org
        .post(
            "/api/v1/apps",
            json!({
                "name": "oidc_client",
                "label": "terraform-service",
                "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {
                    "token_endpoint_auth_method": "private_key_jwt",
                    "autoKeyRotation": true
                }},
                "settings": {"oauthClient": {
                    "application_type": "service",
                    "grant_types": ["client_credentials"],
                    "response_types": ["token"],
                    "jwks": jwks(client_key())
                }}
            }),
        )
        .await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(
        app["settings"]["oauthClient"]["response_types"],
        json!(["token"])
    );
    let app_id = app["id"].as_str().unwrap();
    let client_id = app["credentials"]["oauthClient"]["client_id"]
        .as_str()
        .unwrap();
    let (status, again) = org.get(&format!("/api/v1/apps/{app_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        again["settings"]["oauthClient"]["response_types"],
        json!(["token"])
    );

    org.grant(app_id, "okta.users.read").await;
    org.client_role(client_id, "READ_ONLY_ADMIN").await;
    let token = org.client_credentials(client_id, "okta.users.read").await;
    assert_eq!(token.status, 200, "{}", token.body);
    let access = token.body["access_token"].as_str().unwrap();
    let users = org.bearer(access, Method::GET, "/api/v1/users").await;
    assert_eq!(users.status, 200, "{}", users.body);

    let (status, refused) = org
        .post(
            "/api/v1/apps",
            json!({
                "label": "not-a-response-type",
                "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
                "settings": {"oauthClient": {
                    "application_type": "service",
                    "response_types": ["device"],
                    "jwks": jwks(client_key())
                }}
            }),
        )
        .await;
    assert_error(status, &refused, 400, "E0000001");
}

on_both_backends!(
    scope_grant_scenario,
    a_terraform_style_service_app_gets_tokens,
    authorization_code_with_pkce_refresh_and_reuse_detection,
    a_refresh_race_leaves_no_live_token,
    grants_api_is_for_super_admins,
    a_burst_of_refresh_requests_does_not_exhaust_the_pool,
    a_refused_request_with_an_unstorable_client_id_fails_nobody_else,
    concurrent_token_requests_are_each_recorded_once,
    an_unstorable_jti_fails_only_its_own_request,
);
