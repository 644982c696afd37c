//! The resource-server guard over real HTTP: HEAD is guarded like GET, DPoP `htu` is the issuer
//! plus the request path whatever form the request target took, every 401 carries a challenge,
//! and a locked-out user's credentials keep working while other inactive users' do not.
use crate::common;

use common::oauth::*;
use common::{assert_error, Backend, TestOrg, ADMIN_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};
use steward_core::directory::UserStatus;

const USERS: &str = "/api/v1/users";

/// Sends `method url` with `headers` through `client` (any client: HTTP/1.1, proxied, …).
async fn send(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    headers: &[(&str, String)],
) -> Answer {
    answer(client.request(method, url), headers).await
}

fn challenge(a: &Answer) -> Option<String> {
    a.headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
}

fn bare_challenge(org: &TestOrg) -> String {
    format!("Bearer realm=\"{}\"", org.base)
}

/// Okta's `invalid_token` challenge in the Bearer scheme.
fn bearer_invalid(org: &TestOrg) -> String {
    format!(
        "Bearer authorization_uri=\"{b}/oauth2/v1/authorize\", realm=\"{b}\", error=\"invalid_token\", error_description=\"The access token is invalid\"",
        b = org.base
    )
}

/// Okta's `invalid_token` challenge in the DPoP scheme.
fn dpop_invalid(org: &TestOrg) -> String {
    format!(
        "DPoP algs=\"RS256 RS384 RS512 ES256 ES384 ES512\", authorization_uri=\"{b}/oauth2/v1/authorize\", realm=\"{b}\", error=\"invalid_token\", error_description=\"The access token is invalid\"",
        b = org.base
    )
}

/// A 401 `E0000011` with exactly `want` as its challenge.
fn assert_401(a: &Answer, want: &str, what: &str) {
    assert_eq!(a.status, 401, "{what}: {}", a.body);
    assert_eq!(a.body["errorCode"], "E0000011", "{what}: {}", a.body);
    assert_eq!(challenge(a).as_deref(), Some(want), "{what}");
}

/// A client-credentials token for `client_id`: DPoP-bound to `key` when given.
async fn service_token(
    org: &TestOrg,
    client_id: &str,
    scope: &str,
    key: Option<&steward_oauth::keys::SigningKey>,
) -> String {
    let Some(key) = key else {
        let r = org.client_credentials(client_id, scope).await;
        assert_eq!(r.status, 200, "{}", r.body);
        return r.body["access_token"].as_str().unwrap().to_string();
    };
    let token_url = format!("{}/oauth2/v1/token", org.base);
    let mut nonce = None;
    for _ in 0..2 {
        let a = assertion(client_key(), client_id, &token_url);
        let proof = dpop_proof(key, "POST", &token_url, nonce.as_deref(), None);
        let r = org
            .form(
                "/oauth2/v1/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", scope),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &a),
                ],
                &[("DPoP", proof)],
            )
            .await;
        if r.status == 200 {
            assert_eq!(r.body["token_type"], "DPoP");
            return r.body["access_token"].as_str().unwrap().to_string();
        }
        assert_eq!(r.body["error"], "use_dpop_nonce", "{}", r.body);
        nonce = Some(r.headers["dpop-nonce"].to_str().unwrap().to_string());
    }
    panic!("no DPoP token for {client_id}")
}

/// `DPoP` and `Authorization` headers for a call with `token` and a proof for `htm` `htu`.
fn dpop_headers(
    key: &steward_oauth::keys::SigningKey,
    token: &str,
    htm: &str,
    htu: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("Authorization", format!("DPoP {token}")),
        ("DPoP", dpop_proof(key, htm, htu, None, Some(token))),
    ]
}

/// Sets a user's status in the store directly (no revocation, as a status change seen before
/// its revocations reach this node) and drops the guard's cached principals.
async fn set_status(org: &TestOrg, user_id: &str, status: UserStatus) {
    let mut user = org.store.user(user_id).await.unwrap();
    user.status = status;
    let mut tx = org.store.begin().await.unwrap();
    tx.update_user(&user).await.unwrap();
    tx.commit().await.unwrap();
    org.state.principals.clear();
}

/// HEAD is answered by the GET handler, so the guard must decide it as it decides GET: same
/// status and same challenge, for allowed and denied calls alike.
async fn head_is_guarded_like_get(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, client_id) = org.service_app("Reader").await;
    org.grant(&app_id, "okta.users.read").await;
    org.grant(&app_id, "okta.logs.read").await;
    // Reads users, not the System Log.
    org.client_role(&client_id, "ACCESS_REQUESTS_ADMIN").await;
    let token = service_token(&org, &client_id, "okta.users.read okta.logs.read", None).await;
    let key = other_key();
    let bound = service_token(&org, &client_id, "okta.users.read", Some(key)).await;
    let ssws = format!("SSWS {ADMIN_TOKEN}");
    let bearer = format!("Bearer {token}");
    let cases: Vec<(&str, Option<&str>, &str, u16)> = vec![
        ("admin SSWS", Some(&ssws), USERS, 200),
        ("scoped token", Some(&bearer), USERS, 200),
        ("no credentials", None, USERS, 401),
        ("bad SSWS", Some("SSWS nope"), USERS, 401),
        ("bad bearer", Some("Bearer abc.def.ghi"), USERS, 401),
        ("scope missing", Some(&bearer), "/api/v1/groups", 403),
        ("role missing", Some(&bearer), "/api/v1/logs", 403),
        (
            "SSWS at /my",
            Some(&ssws),
            "/governance/api/v2/my/tasks",
            401,
        ),
    ];
    for (what, auth, path, want) in cases {
        let headers: Vec<(&str, String)> = auth
            .map(|a| vec![("Authorization", a.to_string())])
            .unwrap_or_default();
        let url = format!("{}{path}", org.base);
        let get = send(&org.http, Method::GET, &url, &headers).await;
        assert_eq!(get.status, want, "{backend:?} GET {what}: {}", get.body);
        let head = send(&org.http, Method::HEAD, &url, &headers).await;
        assert_eq!(head.status, want, "{backend:?} HEAD {what}");
        assert_eq!(challenge(&head), challenge(&get), "{backend:?} {what}");
        assert_eq!(head.body, Value::String(String::new()), "HEAD has no body");
        if what == "role missing" {
            assert_error(get.status, &get.body, 403, "E0000006");
        }
        if what == "scope missing" {
            assert!(challenge(&head)
                .unwrap()
                .contains("scope=\"okta.groups.read\""));
        }
    }
    // DPoP on HEAD: the proof names HEAD (`htm` is the request's method).
    let url = format!("{}{USERS}", org.base);
    let ok = send(
        &org.http,
        Method::HEAD,
        &url,
        &dpop_headers(key, &bound, "HEAD", &url),
    )
    .await;
    assert_eq!(ok.status, 200, "{backend:?} DPoP HEAD");
    let wrong = send(
        &org.http,
        Method::HEAD,
        &url,
        &dpop_headers(key, &bound, "GET", &url),
    )
    .await;
    assert_eq!(wrong.status, 401, "{backend:?} DPoP HEAD with a GET proof");
    assert!(challenge(&wrong)
        .unwrap()
        .contains("error=\"invalid_dpop_proof\""));
}

/// The `htu` a DPoP proof must carry is the issuer plus the request path (RFC 9449 §4.3: no
/// query, no fragment), whether the request target came in origin form (HTTP/1.1) or absolute
/// form (HTTP/2 gives the server `:scheme` and `:authority`, and so an absolute URI; so does an
/// HTTP/1.1 request through a proxy).
async fn dpop_htu_is_the_issuer_and_the_path(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let key = other_key();
    let token = service_token(&org, &client_id, "okta.users.read", Some(key)).await;
    let url = format!("{}{USERS}", org.base);
    let with_query = format!("{url}?limit=1");
    let elsewhere = format!("{}/api/v1/groups", org.base);
    // The request target in absolute form: the client believes the server is its proxy.
    let absolute = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(&org.base).unwrap())
        .build()
        .unwrap();
    for (form, client) in [("origin", &org.http), ("absolute", &absolute)] {
        for (request, htu) in [
            (&url, &url),
            (&with_query, &url),
            (&with_query, &with_query),
        ] {
            let r = send(
                client,
                Method::GET,
                request,
                &dpop_headers(key, &token, "GET", htu),
            )
            .await;
            assert_eq!(
                r.status, 200,
                "{backend:?} {form} form, {request} with htu {htu}: {:?} {}",
                r.headers, r.body
            );
        }
        let r = send(
            client,
            Method::GET,
            &url,
            &dpop_headers(key, &token, "GET", &elsewhere),
        )
        .await;
        assert_eq!(
            r.status, 401,
            "{backend:?} {form} form, proof for another URL"
        );
        let c = challenge(&r).unwrap();
        assert!(
            c.starts_with("DPoP ") && c.contains("error=\"invalid_dpop_proof\""),
            "{c}"
        );
    }
    // What hyper's HTTP/2 server hands the router: version 2, an absolute URI.
    for (htu, want) in [(&url, 200), (&elsewhere, 401)] {
        let mut req = axum::http::Request::builder()
            .method("GET")
            .uri(&with_query)
            .version(axum::http::Version::HTTP_2);
        for (k, v) in dpop_headers(key, &token, "GET", htu) {
            req = req.header(k, v);
        }
        let req = req.body(axum::body::Body::empty()).unwrap();
        let r = tower::ServiceExt::oneshot(steward_api::router(org.state.clone()), req)
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            want,
            "{backend:?} HTTP/2 with htu {htu}"
        );
    }
}

/// Every 401 says how to authenticate: the bare `Bearer realm` when there is no usable
/// credential (none, another scheme, an SSWS token that does not work), Okta's `invalid_token`
/// challenge in the token's own scheme when a presented access token is refused.
async fn every_401_carries_a_challenge(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let url = format!("{}{USERS}", org.base);
    let bare = bare_challenge(&org);
    let call = |auth: Option<String>| {
        let headers: Vec<(&str, String)> =
            auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        let org = &org;
        let url = url.clone();
        async move { send(&org.http, Method::GET, &url, &headers).await }
    };

    // No usable credentials: the bare challenge.
    for (what, auth) in [
        ("no header", None),
        ("empty header", Some(String::new())),
        ("Basic", Some("Basic Zm9v".to_string())),
        ("unknown scheme", Some("Negotiate abc".to_string())),
        ("SSWS without a token", Some("SSWS".to_string())),
        (
            "unknown SSWS token",
            Some("SSWS 00not-a-real-token".to_string()),
        ),
    ] {
        assert_401(&call(auth).await, &bare, &format!("{backend:?} {what}"));
    }
    // An SSWS token at an end-user route, which takes user access tokens only.
    let r = send(
        &org.http,
        Method::GET,
        &format!("{}/governance/api/v2/my/tasks", org.base),
        &[("Authorization", format!("SSWS {ADMIN_TOKEN}"))],
    )
    .await;
    assert_401(&r, &bare, "SSWS at /my");

    // Presented access tokens that are refused: invalid_token in the token's scheme.
    let (app_id, client_id) = org.service_app("Bot").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let key = other_key();
    let plain = service_token(&org, &client_id, "okta.users.read", None).await;
    let bound = service_token(&org, &client_id, "okta.users.read", Some(key)).await;
    assert_eq!(call(Some(format!("Bearer {plain}"))).await.status, 200);
    let dpop_call = |token: String| {
        let org = &org;
        let url = url.clone();
        async move {
            send(
                &org.http,
                Method::GET,
                &url,
                &dpop_headers(key, &token, "GET", &url),
            )
            .await
        }
    };
    assert_eq!(dpop_call(bound.clone()).await.status, 200);
    assert_401(
        &call(Some("Bearer abc.def.ghi".into())).await,
        &bearer_invalid(&org),
        "garbage bearer",
    );
    assert_401(
        &dpop_call("abc.def.ghi".into()).await,
        &dpop_invalid(&org),
        "garbage DPoP token",
    );
    // A token of another issuer.
    let mut foreign = claims(&plain);
    foreign["iss"] = json!("https://elsewhere.example.com");
    let foreign = sign(other_key(), &json!({"alg": "RS256", "kid": "x"}), &foreign);
    assert_401(
        &call(Some(format!("Bearer {foreign}"))).await,
        &bearer_invalid(&org),
        "foreign token",
    );

    // The app behind the tokens stops being active (seen before its revocations are).
    let mut app = org.store.app(&app_id).await.unwrap();
    app.status = "INACTIVE".into();
    let mut tx = org.store.begin().await.unwrap();
    tx.update_app(&app).await.unwrap();
    tx.commit().await.unwrap();
    org.state.principals.clear();
    assert_401(
        &call(Some(format!("Bearer {plain}"))).await,
        &bearer_invalid(&org),
        &format!("{backend:?} bearer token of an inactive app"),
    );
    assert_401(
        &dpop_call(bound.clone()).await,
        &dpop_invalid(&org),
        &format!("{backend:?} DPoP token of an inactive app"),
    );

    // Revoked tokens.
    for t in [&plain, &bound] {
        let c = claims(t);
        org.auth
            .note_revoked(c["jti"].as_str().unwrap(), c["exp"].as_i64().unwrap());
    }
    assert_401(
        &call(Some(format!("Bearer {plain}"))).await,
        &bearer_invalid(&org),
        "revoked bearer token",
    );
    assert_401(
        &dpop_call(bound).await,
        &dpop_invalid(&org),
        "revoked DPoP token",
    );
}

/// Five failed sign-ins lock a user out of signing in with their password; the credentials
/// they already hold keep working (or anyone could disable an admin's API tokens by failing
/// their password). Users who may not act (suspended, deactivated, not yet active) are refused.
async fn lockout_keeps_issued_credentials_working(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let admin = org
        .store
        .user_by_login("admin@steward.local")
        .await
        .unwrap();
    let redirect = "https://app.example.com/callback".to_string();
    let (app_id, client_id, secret) = org.web_app("Portal", &redirect, "TRUSTED").await;
    org.grant(&app_id, "okta.users.read").await;
    let reader = org.user("reader@example.com").await;
    let reader_id = reader["id"].as_str().unwrap().to_string();
    for user in [&admin.id, &reader_id] {
        org.assign(&app_id, user).await;
    }
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{reader_id}/roles"),
            json!({"type": "READ_ONLY_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201);
    let reader_ssws = org.token_for("reader@example.com").await;
    let reader_at = user_token(
        &org,
        &client_id,
        &secret,
        &redirect,
        "reader@example.com",
        "openid okta.users.read",
    )
    .await;
    let web = WebApp {
        app_id,
        client_id,
        secret,
        redirect,
    };
    let (_, pkce_challenge) = pkce();
    let authorize = authorize_url(&org, &web, "openid", &pkce_challenge, "");

    // Lock the Super Admin and the reader out through the real sign-in form.
    for login in ["admin@steward.local", "reader@example.com"] {
        let browser = browser();
        for i in 0..steward_api::oauth::LOCKOUT_THRESHOLD {
            let r = sign_in(&org, &browser, &authorize, login, "wrong-password").await;
            assert_eq!(r.status(), 401, "{login} attempt {i}");
        }
    }
    for id in [&admin.id, &reader_id] {
        let user = org.store.user(id).await.unwrap();
        assert_eq!(user.status, UserStatus::LockedOut, "{backend:?} {id}");
    }

    // Their SSWS tokens and access tokens still work.
    let (s, b) = org.get(USERS).await;
    assert_eq!(
        s, 200,
        "{backend:?} locked-out Super Admin's SSWS token: {b}"
    );
    let (s, b) = org.send_as(&reader_ssws, Method::GET, USERS, None).await;
    assert_eq!(s, 200, "{backend:?} locked-out reader's SSWS token: {b}");
    let r = org.bearer(&reader_at, Method::GET, USERS).await;
    assert_eq!(
        r.status, 200,
        "{backend:?} locked-out reader's token: {}",
        r.body
    );

    // So do those of users whose password expired or who are recovering it.
    for status in [UserStatus::PasswordExpired, UserStatus::Recovery] {
        set_status(&org, &reader_id, status).await;
        let (s, b) = org.send_as(&reader_ssws, Method::GET, USERS, None).await;
        assert_eq!(s, 200, "{backend:?} {status:?} SSWS: {b}");
        let r = org.bearer(&reader_at, Method::GET, USERS).await;
        assert_eq!(r.status, 200, "{backend:?} {status:?} token: {}", r.body);
    }

    // Users who may not act are refused, with the challenge of what they presented.
    for status in [
        UserStatus::Suspended,
        UserStatus::Deprovisioned,
        UserStatus::Staged,
        UserStatus::Provisioned,
    ] {
        set_status(&org, &reader_id, status).await;
        let r = send(
            &org.http,
            Method::GET,
            &format!("{}{USERS}", org.base),
            &[("Authorization", format!("SSWS {reader_ssws}"))],
        )
        .await;
        assert_401(
            &r,
            &bare_challenge(&org),
            &format!("{backend:?} {status:?} SSWS"),
        );
        let r = org.bearer(&reader_at, Method::GET, USERS).await;
        assert_401(
            &r,
            &bearer_invalid(&org),
            &format!("{backend:?} {status:?} token"),
        );
    }

    // Suspended through the API (the locked-out Super Admin's token does it): refused.
    set_status(&org, &reader_id, UserStatus::Active).await;
    let (s, b) = org
        .post(
            &format!("/api/v1/users/{reader_id}/lifecycle/suspend"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{backend:?} suspend: {b}");
    let (s, b) = org.send_as(&reader_ssws, Method::GET, USERS, None).await;
    assert_error(s, &b, 401, "E0000011");
    let r = org.bearer(&reader_at, Method::GET, USERS).await;
    assert_401(
        &r,
        &bearer_invalid(&org),
        &format!("{backend:?} suspended token"),
    );
}

on_both_backends!(
    head_is_guarded_like_get,
    dpop_htu_is_the_issuer_and_the_path,
    every_401_carries_a_challenge,
    lockout_keeps_issued_credentials_working,
);
