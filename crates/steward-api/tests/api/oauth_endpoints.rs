//! The org authorization server's endpoints at their edges: DPoP at `/oauth2/v1/userinfo`
//! (method binding, single-use proofs), RP-initiated logout with someone else's `id_token_hint`,
//! and requests that authenticate the client more than one way (RFC 6749 §2.3).
use crate::common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::oauth::*;
use common::{Backend, TestOrg};
use serde_json::{json, Value};

const PASSWORD: &str = "Sup3r-Secret-Pass";
const MULTIPLE: &str = "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn basic(client_id: &str, secret: &str) -> (&'static str, String) {
    (
        "Authorization",
        format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}"))),
    )
}

/// The header `name` of an answer, or "".
fn header(answer: &Answer, name: &str) -> String {
    answer
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Signs `login` in with a fresh browser and redeems the code: (browser, token response).
async fn signed_in(
    org: &TestOrg,
    app: &WebApp,
    login: &str,
    scope: &str,
) -> (reqwest::Client, Value) {
    let browser = browser();
    let (verifier, challenge) = pkce();
    let done = sign_in(
        org,
        &browser,
        &authorize_url(org, app, scope, &challenge, ""),
        login,
        PASSWORD,
    )
    .await;
    assert_eq!(done.status(), 302, "sign-in of {login}");
    let code = param(&location(done.headers()), "code").unwrap();
    let tokens = redeem(org, app, &code, &verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    (browser, tokens.body)
}

/// A DPoP-bound access token for jane (`openid profile`), redeemed with `key`'s proofs.
async fn dpop_user_token(
    org: &TestOrg,
    app: &WebApp,
    key: &steward_oauth::keys::SigningKey,
) -> String {
    let browser = browser();
    let (verifier, challenge) = pkce();
    let done = sign_in(
        org,
        &browser,
        &authorize_url(org, app, "openid profile", &challenge, ""),
        "jane@example.com",
        PASSWORD,
    )
    .await;
    let code = param(&location(done.headers()), "code").unwrap();
    let token_url = format!("{}/oauth2/v1/token", org.base);
    let exchange = |proof: String| {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", app.redirect.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        let headers = [basic(&app.client_id, &app.secret), ("DPoP", proof)];
        async move { org.form("/oauth2/v1/token", &form, &headers).await }
    };
    // The first proof earns the server's nonce; the code is only spent by the second request.
    let first = exchange(dpop_proof(key, "POST", &token_url, None, None)).await;
    assert_eq!(first.body["error"], "use_dpop_nonce", "{}", first.body);
    let nonce = header(&first, "dpop-nonce");
    let ok = exchange(dpop_proof(key, "POST", &token_url, Some(&nonce), None)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["token_type"], "DPoP");
    ok.body["access_token"].as_str().unwrap().to_string()
}

/// `/oauth2/v1/userinfo` with a DPoP-bound token: the proof's `htm` must be the method actually
/// used (the route answers GET and POST), and a proof is good for one request only.
async fn userinfo_dpop_proofs_are_method_bound_and_single_use(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, user_id) = web_app_with_user(&org, "TRUSTED").await;
    let key = other_key();
    let token = dpop_user_token(&org, &app, key).await;
    let url = format!("{}/oauth2/v1/userinfo", org.base);
    let call = |method: reqwest::Method, proof: String| {
        let req = org
            .http
            .request(method, &url)
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", proof);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let challenge = r
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, challenge, body)
        }
    };
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    // GET with a GET proof: allowed once.
    let proof = dpop_proof(key, "GET", &url, None, Some(&token));
    let (s, _, body) = call(get.clone(), proof.clone()).await;
    assert_eq!(
        (s, body["sub"].as_str()),
        (200, Some(user_id.as_str())),
        "{backend:?} {body}"
    );
    // The same Authorization + DPoP pair again: a replay, refused as the API guard does.
    let (s, challenge, body) = call(get.clone(), proof).await;
    assert_eq!(s, 401, "{backend:?} replayed proof: {body}");
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    // POST with a POST proof: allowed (the route takes POST, so must the proof check).
    let (s, _, body) = call(
        post.clone(),
        dpop_proof(key, "POST", &url, None, Some(&token)),
    )
    .await;
    assert_eq!(
        (s, body["sub"].as_str()),
        (200, Some(user_id.as_str())),
        "{backend:?} {body}"
    );
    // POST with a proof made for GET, and GET with one made for POST: refused.
    let (s, challenge, _) = call(
        post.clone(),
        dpop_proof(key, "GET", &url, None, Some(&token)),
    )
    .await;
    assert_eq!(s, 401, "{backend:?} POST with an htm=GET proof");
    assert!(
        challenge.contains("error=\"invalid_dpop_proof\""),
        "{challenge}"
    );
    let (s, _, _) = call(
        get.clone(),
        dpop_proof(key, "POST", &url, None, Some(&token)),
    )
    .await;
    assert_eq!(s, 401, "{backend:?} GET with an htm=POST proof");
    // A POST proof replayed is refused too.
    let proof = dpop_proof(key, "POST", &url, None, Some(&token));
    assert_eq!(
        call(post.clone(), proof.clone()).await.0,
        200,
        "{backend:?}"
    );
    assert_eq!(
        call(post, proof).await.0,
        401,
        "{backend:?} replayed POST proof"
    );
    // A DPoP-bound token that no longer acts (its user suspended) is refused in the DPoP
    // scheme, as the API guard refuses it.
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{user_id}/lifecycle/suspend"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{backend:?}");
    let (s, challenge, _) = call(get, dpop_proof(key, "GET", &url, None, Some(&token))).await;
    assert_eq!(s, 401, "{backend:?} suspended user");
    assert!(challenge.starts_with("DPoP "), "{backend:?} {challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

/// Whether `browser` is still signed in: authorize answers with a code, not the sign-in form.
async fn still_signed_in(org: &TestOrg, app: &WebApp, browser: &reqwest::Client) -> bool {
    let (_, challenge) = pkce();
    let r = browser
        .get(authorize_url(org, app, "openid", &challenge, ""))
        .send()
        .await
        .unwrap();
    match r.status().as_u16() {
        302 => {
            assert!(param(&location(r.headers()), "code").is_some());
            true
        }
        200 => {
            assert!(r.text().await.unwrap().contains("name=\"password\""));
            false
        }
        other => panic!("authorize answered {other}"),
    }
}

/// The `user.session.end` events in the System Log.
async fn logouts(org: &TestOrg) -> Vec<Value> {
    let filter = urlencode("eventType eq \"user.session.end\"");
    let (s, body) = org
        .get(&format!(
            "/api/v1/logs?filter={filter}&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(s, 200, "{body}");
    body.as_array().unwrap().clone()
}

/// Re-signs the claims of `id_token`, changed by `edit`, with `key` under the server's `kid`.
fn resigned(
    org: &TestOrg,
    id_token: &str,
    key: &steward_oauth::keys::SigningKey,
    edit: impl Fn(&mut Value),
) -> String {
    let mut c = claims(id_token);
    edit(&mut c);
    let kid = org.auth.ring().active().kid.clone();
    sign(key, &json!({"alg": "RS256", "kid": kid}), &c)
}

/// RP-initiated logout ends the session only for the hint's own user: another user's valid ID
/// token leaves the session (and its cookie) alone and logs no logout; a forged hint is an
/// error; the user's own hint, fresh or expired, signs them out.
async fn logout_ends_only_the_hint_users_session(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, jane_id) = web_app_with_user(&org, "TRUSTED").await;
    let bob = org.user("bob@example.com").await;
    let bob_id = bob["id"].as_str().unwrap().to_string();
    org.assign(&app.app_id, &bob_id).await;
    let (jane, jane_tokens) = signed_in(&org, &app, "jane@example.com", "openid").await;
    let (bob, bob_tokens) = signed_in(&org, &app, "bob@example.com", "openid").await;
    let jane_hint = jane_tokens["id_token"].as_str().unwrap().to_string();
    let bob_hint = bob_tokens["id_token"].as_str().unwrap().to_string();
    let logout = |browser: &reqwest::Client, hint: &str| {
        let req = browser.get(format!(
            "{}/oauth2/v1/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=bye",
            org.base,
            urlencode("https://app.example.com/bye")
        ));
        async move { req.send().await.unwrap() }
    };

    // Bob's valid hint in Jane's browser: still the redirect the RP asked for, but Jane's
    // session stays, her cookie is not cleared and no logout is logged.
    let r = logout(&jane, &bob_hint).await;
    assert_eq!(r.status(), 302, "{backend:?}");
    assert_eq!(
        location(r.headers()),
        "https://app.example.com/bye?state=bye"
    );
    assert!(
        r.headers().get("set-cookie").is_none(),
        "{backend:?} the session cookie is left alone: {:?}",
        r.headers().get("set-cookie")
    );
    assert!(still_signed_in(&org, &app, &jane).await, "{backend:?}");
    assert!(logouts(&org).await.is_empty(), "{backend:?}");
    // Without a post-logout URI the same: the page, and Jane still signed in.
    let r = jane
        .get(format!(
            "{}/oauth2/v1/logout?id_token_hint={bob_hint}",
            org.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{backend:?}");
    assert!(still_signed_in(&org, &app, &jane).await, "{backend:?}");
    assert!(logouts(&org).await.is_empty(), "{backend:?}");

    // Jane's own claims signed by someone else's key: an error, nothing ends.
    let forged = resigned(&org, &jane_hint, other_key(), |_| {});
    assert_eq!(logout(&jane, &forged).await.status(), 400, "{backend:?}");
    assert!(still_signed_in(&org, &app, &jane).await, "{backend:?}");

    // Jane's own hint, expired (OIDC allows that), signs Jane out and only Jane.
    let ring = org.auth.ring();
    let expired = resigned(&org, &jane_hint, ring.active(), |c| {
        c["iat"] = json!(now() - 3 * 3600);
        c["exp"] = json!(now() - 2 * 3600);
    });
    let r = logout(&jane, &expired).await;
    assert_eq!(r.status(), 302, "{backend:?}");
    assert_eq!(
        location(r.headers()),
        "https://app.example.com/bye?state=bye"
    );
    assert!(!still_signed_in(&org, &app, &jane).await, "{backend:?}");
    assert!(still_signed_in(&org, &app, &bob).await, "{backend:?}");
    let events = logouts(&org).await;
    assert_eq!(events.len(), 1, "{backend:?} {events:?}");
    assert_eq!(events[0]["actor"]["id"], jane_id.as_str());
    assert_eq!(events[0]["actor"]["alternateId"], "jane@example.com");

    // Bob's own fresh hint signs Bob out.
    let r = logout(&bob, &bob_hint).await;
    assert_eq!(r.status(), 302, "{backend:?}");
    assert!(!still_signed_in(&org, &app, &bob).await, "{backend:?}");
    let events = logouts(&org).await;
    assert_eq!(events.len(), 2, "{backend:?} {events:?}");
    assert!(events.iter().any(|e| e["actor"]["id"] == bob_id.as_str()));
}

/// RFC 6749 §2.3: one client authentication method per request, at every endpoint that
/// authenticates clients; and a body `client_id` must name the client the Basic header proves.
async fn one_client_authentication_method_per_request(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (app, _) = web_app_with_user(&org, "TRUSTED").await;
    let (_, service_id) = org.service_app("Bot").await;
    let (other_id, other_secret) = {
        let (_, id, secret) = org
            .web_app("Other", "https://other.example.com/cb", "TRUSTED")
            .await;
        (id, secret)
    };
    let good_basic = basic(&app.client_id, &app.secret);
    let token = user_token(
        &org,
        &app.client_id,
        &app.secret,
        &app.redirect,
        "jane@example.com",
        "openid okta.users.read",
    )
    .await;
    let assertion_for = |client_id: &str, path: &str| {
        assertion(client_key(), client_id, &format!("{}{path}", org.base))
    };

    // A code to redeem at the end: refused attempts must not spend it.
    let (verifier, challenge) = pkce();
    let done = sign_in(
        &org,
        &browser(),
        &authorize_url(&org, &app, "openid", &challenge, ""),
        "jane@example.com",
        PASSWORD,
    )
    .await;
    let code = param(&location(done.headers()), "code").unwrap();
    let code_form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", app.redirect.as_str()),
        ("code_verifier", verifier.as_str()),
    ];

    for path in [
        "/oauth2/v1/token",
        "/oauth2/v1/introspect",
        "/oauth2/v1/revoke",
    ] {
        let form_with = |extra: &[(&'static str, String)]| {
            let mut f: Vec<(&str, String)> = if path == "/oauth2/v1/token" {
                code_form.iter().map(|(k, v)| (*k, v.to_string())).collect()
            } else {
                vec![("token", token.clone())]
            };
            f.extend(extra.iter().cloned());
            f
        };
        let send = |form: Vec<(&'static str, String)>, headers: Vec<(&'static str, String)>| {
            let org = &org;
            async move {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                org.form(path, &form, &headers).await
            }
        };
        let refused_multiple = |a: &Answer, what: &str| {
            assert_eq!(
                (a.status, a.body["error"].as_str()),
                (400, Some("invalid_request")),
                "{backend:?} {path} {what}: {}",
                a.body
            );
            assert_eq!(a.body["error_description"], MULTIPLE, "{path} {what}");
        };

        // Basic + client_secret in the body (even the right one): refused.
        let a = send(
            form_with(&[
                ("client_id", app.client_id.clone()),
                ("client_secret", app.secret.clone()),
            ]),
            vec![good_basic.clone()],
        )
        .await;
        refused_multiple(&a, "Basic + client_secret");
        // Basic + another client's secret in the body: refused, not settled by Basic.
        let a = send(
            form_with(&[
                ("client_id", other_id.clone()),
                ("client_secret", other_secret.clone()),
            ]),
            vec![good_basic.clone()],
        )
        .await;
        refused_multiple(&a, "Basic + another client's client_secret");
        // Basic + client_assertion: refused.
        let a = send(
            form_with(&[
                ("client_assertion_type", ASSERTION_TYPE.to_string()),
                ("client_assertion", assertion_for(&app.client_id, path)),
            ]),
            vec![good_basic.clone()],
        )
        .await;
        refused_multiple(&a, "Basic + client_assertion");
        // client_secret + client_assertion in the body: refused.
        let a = send(
            form_with(&[
                ("client_id", service_id.clone()),
                ("client_secret", "whatever".to_string()),
                ("client_assertion_type", ASSERTION_TYPE.to_string()),
                ("client_assertion", assertion_for(&service_id, path)),
            ]),
            vec![],
        )
        .await;
        refused_multiple(&a, "client_secret + client_assertion");

        // Basic for this client, body client_id naming another: invalid_client with the
        // Basic challenge.
        let a = send(
            form_with(&[("client_id", other_id.clone())]),
            vec![good_basic.clone()],
        )
        .await;
        assert_eq!(
            (a.status, a.body["error"].as_str()),
            (401, Some("invalid_client")),
            "{backend:?} {path} mismatched client_id: {}",
            a.body
        );
        assert!(
            header(&a, "www-authenticate").starts_with("Basic"),
            "{path} {:?}",
            a.headers
        );

        // A Basic header that does not decode is refused, not ignored in favour of the body.
        for bad in ["Basic !!!not-base64", "Basic", "Basic bm8tY29sb24"] {
            let a = send(
                form_with(&[
                    ("client_id", app.client_id.clone()),
                    ("client_secret", app.secret.clone()),
                ]),
                vec![("authorization", bad.to_string())],
            )
            .await;
            assert_eq!(
                (a.status, a.body["error"].as_str()),
                (401, Some("invalid_client")),
                "{backend:?} {path} {bad}: {}",
                a.body
            );
        }

        // Allowed: Basic alone, with the same client_id in the body, or with an empty
        // client_secret (which proves nothing). Introspection comes first and revocation
        // last, so the token is active throughout; the token endpoint spends the code once.
        match path {
            "/oauth2/v1/token" => {
                let a = send(
                    form_with(&[
                        ("client_id", app.client_id.clone()),
                        ("client_secret", String::new()),
                    ]),
                    vec![good_basic.clone()],
                )
                .await;
                assert_eq!(a.status, 200, "{backend:?} {path}: {}", a.body);
                assert!(a.body["access_token"].is_string());
            }
            "/oauth2/v1/introspect" => {
                for extra in [
                    vec![],
                    vec![("client_id", app.client_id.clone())],
                    vec![("client_secret", String::new())],
                ] {
                    let a = send(form_with(&extra), vec![good_basic.clone()]).await;
                    assert_eq!(a.status, 200, "{backend:?} {path}: {}", a.body);
                    assert_eq!(a.body["active"], true, "{backend:?} {extra:?}: {}", a.body);
                }
            }
            _ => {
                let a = send(
                    form_with(&[("client_id", app.client_id.clone())]),
                    vec![good_basic.clone()],
                )
                .await;
                assert_eq!(a.status, 200, "{backend:?} {path}: {}", a.body);
            }
        }
    }

    // The revocation went through: the token is inactive now.
    let a = org
        .form(
            "/oauth2/v1/introspect",
            &[("token", token.as_str())],
            std::slice::from_ref(&good_basic),
        )
        .await;
    assert_eq!(a.body, json!({"active": false}), "{backend:?}");
    // And a private_key_jwt client alone still authenticates (the assertion path is intact).
    let a = org
        .form(
            "/oauth2/v1/introspect",
            &[
                ("token", token.as_str()),
                ("client_id", service_id.as_str()),
                ("client_assertion_type", ASSERTION_TYPE),
                (
                    "client_assertion",
                    &assertion_for(&service_id, "/oauth2/v1/introspect"),
                ),
            ],
            &[],
        )
        .await;
    assert_eq!(a.status, 200, "{backend:?} {}", a.body);

    // A refused token request is logged under the client it authenticated as (Basic), not
    // under a body client_id naming someone else.
    let a = org
        .form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &other_id),
            ],
            &[basic(&app.client_id, "wrong-secret")],
        )
        .await;
    assert_eq!(a.status, 401, "{backend:?} {}", a.body);
    let (_, log) = org
        .get("/api/v1/logs?filter=outcome.result%20eq%20%22FAILURE%22&sortOrder=DESCENDING&limit=1")
        .await;
    assert_eq!(
        log[0]["actor"]["id"],
        app.client_id.as_str(),
        "{backend:?} {log}"
    );
}

on_both_backends!(
    userinfo_dpop_proofs_are_method_bound_and_single_use,
    logout_ends_only_the_hint_users_session,
    one_client_authentication_method_per_request,
);
