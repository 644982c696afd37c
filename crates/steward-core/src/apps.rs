//! OpenID Connect applications: the client settings Okta accepts and the rules that tie
//! application type, grant types, client authentication and redirect URIs together.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validation::ValidationError;

pub const SIGN_ON_MODE_OIDC: &str = "OPENID_CONNECT";

/// An application as stored. Only OIDC apps carry an [`OidcClient`].
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub id: String,
    /// Okta's app name (`oidc_client` for custom OIDC apps).
    pub name: String,
    pub label: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub sign_on_mode: String,
    pub created: i64,
    pub last_updated: i64,
    pub client_id: Option<String>,
    /// The client's secrets are [`ClientSecret`]s, stored beside the app.
    pub oidc: Option<OidcClient>,
}

/// One of an app's client secrets (Okta's `OAuth2ClientSecret`). An app holds at most
/// [`MAX_CLIENT_SECRETS`]; client authentication accepts any ACTIVE one.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSecret {
    /// `ocs…`
    pub id: String,
    pub app_id: String,
    /// argon2id PHC string of the secret: the secret itself is never stored.
    pub hash: String,
    /// The secret with its middle elided, to tell secrets apart; `None` for secrets migrated
    /// from before Steward kept one.
    pub masked: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub created: i64,
    pub last_updated: i64,
}

impl ClientSecret {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// Okta's limit of client secrets per app.
pub const MAX_CLIENT_SECRETS: usize = 2;

/// Shortest and longest secret a caller may bring (Okta's limits).
pub const CLIENT_SECRET_MIN_LEN: usize = 14;
pub const CLIENT_SECRET_MAX_LEN: usize = 100;

/// The secret as list answers show it: a few characters at each end, the rest elided, so that
/// an admin can tell which secret a client holds without the answer disclosing it.
pub fn mask_secret(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let shown = (chars.len() / 8).min(4);
    let head: String = chars.iter().take(shown).collect();
    let tail: String = chars.iter().skip(chars.len() - shown).collect();
    format!("{head}......{tail}")
}

/// Why a secret a caller brings cannot be used, in Okta's words; `None` when it can.
pub fn check_client_secret(secret: &str) -> Option<String> {
    let len = secret.chars().count();
    if !secret.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        Some(
            "client_secret: ''client_secret'' must only contain printable ASCII: [x20-x7E]+".into(),
        )
    } else if len < CLIENT_SECRET_MIN_LEN {
        Some(format!(
            "client_secret: 'client_secret' must be at least '{CLIENT_SECRET_MIN_LEN}' characters long."
        ))
    } else if len > CLIENT_SECRET_MAX_LEN {
        Some(format!(
            "client_secret: 'client_secret' can't be more than '{CLIENT_SECRET_MAX_LEN}' characters long."
        ))
    } else {
        None
    }
}

/// Whether a key of a client's JWK Set may verify its assertions: keys deactivated through
/// `/credentials/jwks` carry `"status": "INACTIVE"`; keys without a status are active.
pub fn jwk_is_active(key: &Value) -> bool {
    key.get("status").and_then(Value::as_str) != Some("INACTIVE")
}

impl App {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// Grant types Steward's authorization server implements.
pub const SUPPORTED_GRANT_TYPES: [&str; 3] =
    ["authorization_code", "refresh_token", "client_credentials"];

/// Response types an app may list (Okta's `OAuthResponseType`), stored and returned as sent.
pub const RESPONSE_TYPES: [&str; 3] = ["code", "token", "id_token"];

/// Client authentication methods at the token endpoint.
pub const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];

/// `settings.oauthClient` and `credentials.oauthClient` of an OIDC app, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcClient {
    pub application_type: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: String,
    /// `REQUIRED` shows a consent screen; `TRUSTED` skips it.
    pub consent_method: String,
    /// Public keys for `private_key_jwt` (a JWK Set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(default)]
    pub pkce_required: bool,
}

impl OidcClient {
    /// Builds and checks the client from the `settings.oauthClient` and
    /// `credentials.oauthClient` objects a caller sent, filling Okta's defaults.
    pub fn from_request(
        settings: &Value,
        credentials: &Value,
    ) -> Result<OidcClient, ValidationError> {
        let strings = |v: &Value, key: &str| -> Option<Vec<String>> {
            v.get(key).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
        };
        let application_type = settings
            .get("application_type")
            .and_then(Value::as_str)
            .unwrap_or("web")
            .to_string();
        let grant_types = strings(settings, "grant_types").unwrap_or_else(|| {
            if application_type == "service" {
                vec!["client_credentials".into()]
            } else {
                vec!["authorization_code".into()]
            }
        });
        let response_types = strings(settings, "response_types").unwrap_or_else(|| {
            if grant_types.iter().any(|g| g == "authorization_code") {
                vec!["code".into()]
            } else {
                vec![]
            }
        });
        let default_auth = match application_type.as_str() {
            "browser" | "native" => "none",
            _ => "client_secret_basic",
        };
        let client = OidcClient {
            token_endpoint_auth_method: credentials
                .get("token_endpoint_auth_method")
                .and_then(Value::as_str)
                .unwrap_or(default_auth)
                .to_string(),
            redirect_uris: strings(settings, "redirect_uris").unwrap_or_default(),
            post_logout_redirect_uris: strings(settings, "post_logout_redirect_uris")
                .unwrap_or_default(),
            consent_method: settings
                .get("consent_method")
                .and_then(Value::as_str)
                .unwrap_or("TRUSTED")
                .to_string(),
            jwks: settings.get("jwks").filter(|v| !v.is_null()).cloned(),
            // PKCE is required unless an app opts out (public clients cannot).
            pkce_required: credentials
                .get("pkce_required")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            application_type,
            grant_types,
            response_types,
        };
        client.validate()?;
        Ok(client)
    }

    /// Whether the client authenticates with a secret we must mint and store.
    pub fn uses_secret(&self) -> bool {
        matches!(
            self.token_endpoint_auth_method.as_str(),
            "client_secret_basic" | "client_secret_post"
        )
    }

    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        let mut causes = Vec::new();
        let app_type = self.application_type.as_str();
        if !matches!(app_type, "web" | "browser" | "native" | "service") {
            causes.push("application_type: must be one of web, browser, native, service".into());
        }
        for g in &self.grant_types {
            if !SUPPORTED_GRANT_TYPES.contains(&g.as_str()) {
                causes.push(format!("grant_types: '{g}' is not supported"));
            }
        }
        if self.grant_types.is_empty() {
            causes.push("grant_types: at least one grant type is required".into());
        }
        if !AUTH_METHODS.contains(&self.token_endpoint_auth_method.as_str()) {
            causes.push(format!(
                "token_endpoint_auth_method: '{}' is not supported",
                self.token_endpoint_auth_method
            ));
        }
        // Okta stores `token` and `id_token` as sent (Terraform's provider and many examples give a
        // service app `["token"]`); `/authorize` still answers only `response_type=code`, so the
        // implicit flow itself is refused there, as Okta refuses a response type it does not serve.
        for r in &self.response_types {
            if !RESPONSE_TYPES.contains(&r.as_str()) {
                causes.push(format!("response_types: '{r}' is not supported"));
            }
        }
        if !matches!(self.consent_method.as_str(), "REQUIRED" | "TRUSTED") {
            causes.push("consent_method: must be REQUIRED or TRUSTED".into());
        }
        let has = |g: &str| self.allows_grant(g);
        match app_type {
            "service" => {
                if self.grant_types.iter().any(|g| g != "client_credentials") {
                    causes.push("grant_types: a service app only uses client_credentials".into());
                }
                if self.token_endpoint_auth_method == "none" {
                    causes
                        .push("token_endpoint_auth_method: a service app must authenticate".into());
                }
            }
            "browser" => {
                if self.token_endpoint_auth_method != "none" {
                    causes.push(
                        "token_endpoint_auth_method: a browser app is a public client (none)"
                            .into(),
                    );
                }
                if has("client_credentials") {
                    causes
                        .push("grant_types: client_credentials needs a confidential client".into());
                }
            }
            _ => {
                if has("client_credentials") && self.token_endpoint_auth_method == "none" {
                    causes
                        .push("grant_types: client_credentials needs a confidential client".into());
                }
            }
        }
        if has("refresh_token") && !has("authorization_code") {
            causes.push("grant_types: refresh_token requires authorization_code".into());
        }
        if has("authorization_code") {
            if self.redirect_uris.is_empty() {
                causes.push("redirect_uris: required for authorization_code".into());
            }
            if !self.response_types.iter().any(|r| r == "code") {
                causes.push(
                    "response_types: authorization_code requires the code response type".into(),
                );
            }
        }
        for uri in self
            .redirect_uris
            .iter()
            .chain(&self.post_logout_redirect_uris)
        {
            if let Err(why) = check_redirect_uri(uri, app_type == "native") {
                causes.push(format!("redirect_uris: {why}"));
            }
        }
        if self.token_endpoint_auth_method == "private_key_jwt" {
            let keys = self
                .jwks
                .as_ref()
                .and_then(|j| j.get("keys"))
                .and_then(Value::as_array);
            if keys.is_none_or(|k| !k.iter().any(jwk_is_active)) {
                causes.push(
                    "jwks: private_key_jwt needs a JWK Set with at least one active key".into(),
                );
            }
        }
        let summary = causes
            .first()
            .and_then(|c: &String| c.split(':').next())
            .unwrap_or_default()
            .to_string();
        ValidationError::check(&summary, causes)
    }
}

/// Schemes a browser runs or reads locally instead of sending a request: never a redirect URI,
/// never a place to auto-submit a form to.
pub const SCRIPT_SCHEMES: [&str; 7] = [
    "javascript",
    "data",
    "vbscript",
    "file",
    "blob",
    "about",
    "filesystem",
];

/// A redirect URI must be absolute, without a fragment; https or http (any host: Steward runs
/// locally), or a private-use scheme for native apps. A scheme the browser runs or reads locally
/// (`javascript:`, `data:`, `vbscript:`, `file:`...) is never a redirect URI: the authorization
/// response would run in, or be read from, the browser itself.
fn check_redirect_uri(uri: &str, native: bool) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|_| format!("'{uri}' is not an absolute URI"))?;
    if parsed.fragment().is_some() {
        return Err(format!("'{uri}' must not contain a fragment"));
    }
    match parsed.scheme() {
        "https" | "http" => Ok(()),
        s if SCRIPT_SCHEMES.contains(&s) => Err(format!("scheme '{s}' is not allowed")),
        _ if native => Ok(()),
        s => Err(format!("scheme '{s}' is only allowed for native apps")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masked_secrets_keep_at_most_four_characters_each_end() {
        let secret = "abcdEFGHijklMNOPqrstUVWXyzABCDEFghijKLMNopqrSTUV";
        assert_eq!(mask_secret(secret), "abcd......STUV");
        assert_eq!(mask_secret("0123456789abcdef"), "01......ef");
        assert_eq!(mask_secret("short"), "......");
    }

    #[test]
    fn brought_secrets_follow_oktas_limits() {
        assert_eq!(check_client_secret(&"a".repeat(14)), None);
        assert_eq!(check_client_secret(&"a".repeat(100)), None);
        assert!(check_client_secret(&"a".repeat(13)).is_some_and(|e| e.contains("at least '14'")));
        assert!(
            check_client_secret(&"a".repeat(101)).is_some_and(|e| e.contains("more than '100'"))
        );
        assert!(check_client_secret("tab\there-is-long-enough")
            .is_some_and(|e| e.contains("printable ASCII")));
    }

    #[test]
    fn a_private_key_jwt_client_needs_an_active_key() {
        let inactive = json!({"keys":[{"kty":"RSA","n":"x","e":"AQAB","status":"INACTIVE"}]});
        let refused = OidcClient::from_request(
            &json!({"application_type":"service","jwks": inactive}),
            &json!({"token_endpoint_auth_method":"private_key_jwt"}),
        );
        assert!(refused.unwrap_err().causes[0].contains("active key"));
        assert!(jwk_is_active(&json!({"kty":"RSA"})));
        assert!(jwk_is_active(&json!({"status":"ACTIVE"})));
        assert!(!jwk_is_active(&json!({"status":"INACTIVE"})));
    }

    #[test]
    fn web_app_defaults() {
        let c = OidcClient::from_request(
            &json!({"redirect_uris": ["https://app.example.com/cb"]}),
            &json!({}),
        )
        .unwrap();
        assert_eq!(c.application_type, "web");
        assert_eq!(c.grant_types, vec!["authorization_code"]);
        assert_eq!(c.response_types, vec!["code"]);
        assert_eq!(c.token_endpoint_auth_method, "client_secret_basic");
        assert!(c.uses_secret());
    }

    #[test]
    fn service_app_rules() {
        let jwks = json!({"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]});
        let ok = OidcClient::from_request(
            &json!({"application_type":"service","grant_types":["client_credentials"],"jwks": jwks}),
            &json!({"token_endpoint_auth_method":"private_key_jwt"}),
        );
        assert!(ok.is_ok());
        let no_keys = OidcClient::from_request(
            &json!({"application_type":"service"}),
            &json!({"token_endpoint_auth_method":"private_key_jwt"}),
        );
        assert!(no_keys.unwrap_err().causes[0].starts_with("jwks"));
        let code = OidcClient::from_request(
            &json!({"application_type":"service","grant_types":["authorization_code"],"redirect_uris":["https://x.y/cb"]}),
            &json!({}),
        );
        assert!(code.is_err());
    }

    #[test]
    fn a_service_app_may_list_the_token_response_type_as_terraform_sends_it() {
        let jwks = json!({"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]});
        let c = OidcClient::from_request(
            &json!({"application_type":"service","grant_types":["client_credentials"],
                    "response_types":["token"],"jwks": jwks}),
            &json!({"token_endpoint_auth_method":"private_key_jwt"}),
        )
        .unwrap();
        assert_eq!(c.response_types, vec!["token"]);
        let odd = OidcClient::from_request(
            &json!({"application_type":"service","response_types":["code id_token", "device"]}),
            &json!({}),
        )
        .unwrap_err();
        assert_eq!(
            odd.causes,
            vec![
                "response_types: 'code id_token' is not supported",
                "response_types: 'device' is not supported"
            ]
        );
    }

    #[test]
    fn redirect_uris_are_checked() {
        let bad = OidcClient::from_request(
            &json!({"redirect_uris": ["https://a.example/cb#frag", "relative/path"]}),
            &json!({}),
        )
        .unwrap_err();
        assert_eq!(bad.causes.len(), 2);
        let native = OidcClient::from_request(
            &json!({"application_type":"native","redirect_uris": ["com.example.app:/callback"]}),
            &json!({}),
        );
        assert!(native.is_ok());
    }

    #[test]
    fn unsupported_grants_and_public_confidential_mixups() {
        assert!(OidcClient::from_request(
            &json!({"grant_types":["implicit"],"redirect_uris":["https://a.b/c"]}),
            &json!({})
        )
        .is_err());
        assert!(OidcClient::from_request(
            &json!({"application_type":"browser","redirect_uris":["https://a.b/c"]}),
            &json!({"token_endpoint_auth_method":"client_secret_basic"})
        )
        .is_err());
    }
}
