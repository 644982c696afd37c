//! OAuth helpers for tests: client keys, client assertions, DPoP proofs, the sign-in form.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use steward_oauth::keys::{KeyStatus, SigningKey};

use super::TestOrg;

/// An RSA key a client signs assertions and DPoP proofs with (generated once per test binary).
pub fn client_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(KeyStatus::Active, 0).unwrap())
}

/// A second key, for "wrong key" cases.
pub fn other_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(KeyStatus::Active, 0).unwrap())
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn random(n: usize) -> String {
    steward_core::ids::random_secret(n)
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Signs `header.payload` with RS256.
pub fn sign(key: &SigningKey, header: &Value, payload: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let encoding = jsonwebtoken::EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap();
    let sig =
        jsonwebtoken::crypto::sign(input.as_bytes(), &encoding, jsonwebtoken::Algorithm::RS256)
            .unwrap();
    format!("{input}.{sig}")
}

/// A `private_key_jwt` client assertion.
pub fn assertion(key: &SigningKey, client_id: &str, aud: &str) -> String {
    let now = now();
    sign(
        key,
        &json!({"alg": "RS256", "kid": key.kid}),
        &json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 300, "jti": random(24)}),
    )
}

/// A DPoP proof for `method` `url`, with an optional nonce and access token hash.
pub fn dpop_proof(
    key: &SigningKey,
    method: &str,
    url: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> String {
    let mut payload = json!({"jti": random(24), "htm": method, "htu": url, "iat": now()});
    if let Some(n) = nonce {
        payload["nonce"] = json!(n);
    }
    if let Some(at) = access_token {
        payload["ath"] = json!(steward_oauth::dpop::ath(at));
    }
    sign(
        key,
        &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": {"kty": "RSA", "n": key.n, "e": key.e}}),
        &payload,
    )
}

pub fn jwks(key: &SigningKey) -> Value {
    json!({"keys": [serde_json::to_value(key.jwk()).unwrap()]})
}

/// The claims of a JWT, unverified.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

/// Sends `req` with `headers` added; the body as JSON, or as a string when it is not JSON.
pub async fn answer(mut req: reqwest::RequestBuilder, headers: &[(&str, String)]) -> Answer {
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

impl TestOrg {
    /// Creates a service app with the test client key; returns (app id, client_id).
    pub async fn service_app(&self, label: &str) -> (String, String) {
        let (s, app) = self
            .post(
                "/api/v1/apps",
                json!({
                    "label": label,
                    "signOnMode": "OPENID_CONNECT",
                    "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
                    "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"], "jwks": jwks(client_key())}}
                }),
            )
            .await;
        assert_eq!(s, 200, "{app}");
        (
            app["id"].as_str().unwrap().into(),
            app["credentials"]["oauthClient"]["client_id"]
                .as_str()
                .unwrap()
                .into(),
        )
    }

    /// Grants an Okta API scope to an app as the Super Admin.
    pub async fn grant(&self, app_id: &str, scope: &str) -> Value {
        let (s, g) = self
            .post(
                &format!("/api/v1/apps/{app_id}/grants"),
                json!({"scopeId": scope, "issuer": self.base}),
            )
            .await;
        assert_eq!(s, 201, "{g}");
        g
    }

    pub async fn client_role(&self, client_id: &str, role: &str) {
        let (s, r) = self
            .post(
                &format!("/oauth2/v1/clients/{client_id}/roles"),
                json!({"type": role}),
            )
            .await;
        assert_eq!(s, 200, "{r}");
    }

    /// POSTs a form to an OAuth endpoint.
    pub async fn form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, String)],
    ) -> Answer {
        answer(
            self.http.post(format!("{}{path}", self.base)).form(form),
            headers,
        )
        .await
    }

    /// Client credentials with `private_key_jwt`.
    pub async fn client_credentials(&self, client_id: &str, scope: &str) -> Answer {
        let a = assertion(
            client_key(),
            client_id,
            &format!("{}/oauth2/v1/token", self.base),
        );
        self.form(
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
            &[],
        )
        .await
    }

    /// Calls the API with a Bearer token.
    pub async fn bearer(&self, token: &str, method: reqwest::Method, path: &str) -> Answer {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    /// A web app (client_secret_basic, PKCE) with `redirect_uri`; returns (client_id, secret).
    pub async fn web_app(
        &self,
        label: &str,
        redirect_uri: &str,
        consent: &str,
    ) -> (String, String, String) {
        let (s, app) = self
            .post(
                "/api/v1/apps",
                json!({
                    "label": label,
                    "signOnMode": "OPENID_CONNECT",
                    "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                    "settings": {"oauthClient": {
                        "application_type": "web",
                        "grant_types": ["authorization_code", "refresh_token"],
                        "redirect_uris": [redirect_uri],
                        "post_logout_redirect_uris": ["https://app.example.com/bye"],
                        "consent_method": consent
                    }}
                }),
            )
            .await;
        assert_eq!(s, 200, "{app}");
        (
            app["id"].as_str().unwrap().into(),
            app["credentials"]["oauthClient"]["client_id"]
                .as_str()
                .unwrap()
                .into(),
            app["credentials"]["oauthClient"]["client_secret"]
                .as_str()
                .unwrap()
                .into(),
        )
    }

    pub async fn assign(&self, app_id: &str, user_id: &str) {
        let (s, b) = self
            .post(
                &format!("/api/v1/apps/{app_id}/users"),
                json!({"id": user_id, "scope": "USER"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
}

/// A browser: keeps cookies, never follows redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of `<input name="{name}" value="...">` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let rest = &html[start..];
    Some(unescape(&rest[..rest.find('"')?]))
}

pub fn location(headers: &HeaderMap) -> String {
    headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

/// A query parameter of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// PKCE verifier and S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = random(64);
    let challenge = steward_oauth::pkce::challenge_s256(&verifier);
    (verifier, challenge)
}

/// Signs `login` in through the real sign-in form of `client_id` (a web app created with
/// [`TestOrg::web_app`], the user assigned to it) and redeems the code: a user access token.
pub async fn user_token(
    org: &TestOrg,
    client_id: &str,
    secret: &str,
    redirect: &str,
    login: &str,
    scope: &str,
) -> String {
    let browser = browser();
    let (verifier, challenge) = pkce();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let url = format!(
        "{}/oauth2/v1/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope={}&state=s&code_challenge={challenge}&code_challenge_method=S256",
        org.base,
        enc(redirect),
        enc(scope)
    );
    let html = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", hidden(&html, "csrf").unwrap()),
        ("return_to", hidden(&html, "return_to").unwrap()),
        ("username", login.to_string()),
        ("password", "Sup3r-Secret-Pass".to_string()),
    ];
    let posted = browser
        .post(format!("{}/login", org.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303, "sign-in of {login}");
    let done = browser
        .get(format!("{}{}", org.base, location(posted.headers())))
        .send()
        .await
        .unwrap();
    let back = location(done.headers());
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let r = org
        .http
        .post(format!("{}/oauth2/v1/token", org.base))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string()
}

pub fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// Signs in through the real form and returns the authorization code's redirect.
pub async fn sign_in(
    org: &TestOrg,
    browser: &reqwest::Client,
    authorize_url: &str,
    login: &str,
    password: &str,
) -> reqwest::Response {
    let page = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf").expect("csrf field");
    let return_to = hidden(&html, "return_to").expect("return_to field");
    let posted = browser
        .post(format!("{}/login", org.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("return_to", return_to.as_str()),
            ("username", login),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    if posted.status() != 303 {
        return posted;
    }
    let next = location(posted.headers());
    browser
        .get(format!("{}{next}", org.base))
        .send()
        .await
        .unwrap()
}

pub struct WebApp {
    pub app_id: String,
    pub client_id: String,
    pub secret: String,
    pub redirect: String,
}

pub async fn web_app_with_user(org: &TestOrg, consent: &str) -> (WebApp, String) {
    let redirect = "https://app.example.com/callback".to_string();
    let (app_id, client_id, secret) = org.web_app("Portal", &redirect, consent).await;
    let user = org.user("jane@example.com").await;
    org.assign(&app_id, user["id"].as_str().unwrap()).await;
    org.grant(&app_id, "okta.users.read").await;
    let (s, _) = org
        .post(
            &format!("/api/v1/users/{}/roles", user["id"].as_str().unwrap()),
            json!({"type": "READ_ONLY_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201);
    (
        WebApp {
            app_id,
            client_id,
            secret,
            redirect,
        },
        user["id"].as_str().unwrap().to_string(),
    )
}

pub fn authorize_url(
    org: &TestOrg,
    app: &WebApp,
    scope: &str,
    challenge: &str,
    extra: &str,
) -> String {
    format!(
        "{}/oauth2/v1/authorize?client_id={}&redirect_uri={}&response_type=code&scope={}&state=st-123&nonce=n-456&code_challenge={challenge}&code_challenge_method=S256{extra}",
        org.base,
        app.client_id,
        urlencode(&app.redirect),
        urlencode(scope)
    )
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn redeem(org: &TestOrg, app: &WebApp, code: &str, verifier: &str) -> Answer {
    let r = org
        .http
        .post(format!("{}/oauth2/v1/token", org.base))
        .basic_auth(&app.client_id, Some(&app.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &app.redirect),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Answer {
        status,
        headers,
        body: r.json().await.unwrap_or(Value::Null),
    }
}
