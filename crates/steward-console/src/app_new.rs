//! Applications > Create App Integration: an OpenID Connect app of one of Okta's four types
//! (Web, Single-Page, Native, API Services), with the grant types, redirect URIs and client
//! authentication that type allows. The settings are checked by the API's own rules
//! (`OidcClient::from_request`) and the app is made by the API's use case
//! (`steward_app::apps::create`); bad input shows the form again with each error beside its
//! field, and nothing is written. The new app's client secret is shown once, on its General tab.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use steward_app::apps::NewApp;
use steward_app::AppError;
use steward_core::apps::OidcClient;
use steward_core::roles::Permission;
use steward_core::validation::ValidationError;

use crate::apps;
use crate::pages::{self, render};
use crate::session::Admin;
use crate::Console;

/// What one application type offers in the form.
#[derive(Serialize)]
struct AppType {
    /// Okta's `application_type`.
    value: &'static str,
    label: &'static str,
    description: &'static str,
    /// (grant type, label, checked by default) the type may use.
    grants: &'static [(&'static str, &'static str, bool)],
    /// (method, label) of client authentication; one entry means it is fixed.
    auth_methods: &'static [(&'static str, &'static str)],
    redirects: bool,
    /// A public client: PKCE is always required.
    public: bool,
}

const CODE: (&str, &str, bool) = ("authorization_code", "Authorization Code", true);
const REFRESH: (&str, &str, bool) = ("refresh_token", "Refresh Token", false);
const CLIENT_CREDENTIALS: (&str, &str, bool) = ("client_credentials", "Client Credentials", false);
const SECRET_BASIC: (&str, &str) = (
    "client_secret_basic",
    "Client secret (sent in the Authorization header)",
);
const SECRET_POST: (&str, &str) = (
    "client_secret_post",
    "Client secret (sent in the request body)",
);
const KEY_JWT: (&str, &str) = (
    "private_key_jwt",
    "Public key / private key (private_key_jwt)",
);
const NONE: (&str, &str) = ("none", "None: a public client, with PKCE");

const TYPES: [AppType; 4] = [
    AppType {
        value: "web",
        label: "Web Application",
        description: "Server-side apps that keep a secret: the code is exchanged on the server.",
        grants: &[CODE, REFRESH, CLIENT_CREDENTIALS],
        auth_methods: &[SECRET_BASIC, SECRET_POST, KEY_JWT],
        redirects: true,
        public: false,
    },
    AppType {
        value: "browser",
        label: "Single-Page Application",
        description: "Apps running in the browser (React, Angular…): a public client with PKCE.",
        grants: &[CODE, REFRESH],
        auth_methods: &[NONE],
        redirects: true,
        public: true,
    },
    AppType {
        value: "native",
        label: "Native Application",
        description: "Desktop and mobile apps: a public client with PKCE; private-use URI schemes \
                      (com.example.app:/callback) are allowed.",
        grants: &[CODE, REFRESH],
        auth_methods: &[NONE],
        redirects: true,
        public: true,
    },
    AppType {
        value: "service",
        label: "API Services",
        description: "Machine-to-machine: the app signs in as itself with Client Credentials.",
        grants: &[("client_credentials", "Client Credentials", true)],
        auth_methods: &[SECRET_BASIC, SECRET_POST, KEY_JWT],
        redirects: false,
        public: false,
    },
];

fn app_type(value: &str) -> Option<&'static AppType> {
    TYPES.iter().find(|t| t.value == value)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    #[serde(rename = "type")]
    app_type: Option<String>,
}

/// The form as filled in (shown again with its errors).
#[derive(Serialize, Default)]
struct Draft {
    label: String,
    grants: Vec<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    auth_method: String,
    jwks: String,
    pkce_required: bool,
}

impl Draft {
    /// The defaults of `kind`'s form.
    fn blank(kind: &AppType) -> Draft {
        Draft {
            grants: kind
                .grants
                .iter()
                .filter(|g| g.2)
                .map(|g| g.0.to_string())
                .collect(),
            auth_method: kind.auth_methods[0].0.to_string(),
            pkce_required: true,
            ..Draft::default()
        }
    }

    fn from_form(kind: &AppType, form: &HashMap<String, String>) -> Draft {
        let text = |k: &str| form.get(k).cloned().unwrap_or_default();
        Draft {
            label: text("label").trim().to_string(),
            grants: kind
                .grants
                .iter()
                .filter(|g| form.contains_key(&format!("grant_{}", g.0)))
                .map(|g| g.0.to_string())
                .collect(),
            redirect_uris: text("redirect_uris"),
            post_logout_redirect_uris: text("post_logout_redirect_uris"),
            auth_method: text("auth_method"),
            jwks: text("jwks"),
            pkce_required: kind.public || form.contains_key("pkce_required"),
        }
    }

    /// The app to create, checked by the API's rules; or the errors.
    fn new_app(&self, kind: &AppType) -> Result<NewApp, ValidationError> {
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let mut causes = Vec::new();
        if self.label.is_empty() {
            causes.push("label: The field cannot be left blank".to_string());
        }
        let auth_method = if kind.auth_methods.len() == 1 {
            kind.auth_methods[0].0
        } else {
            self.auth_method.as_str()
        };
        let jwks = if auth_method == "private_key_jwt" {
            match serde_json::from_str::<Value>(&self.jwks) {
                Ok(v @ Value::Object(_)) => v,
                _ => {
                    causes.push(
                        "jwks: paste the app's public keys as a JWK Set: {\"keys\": [ … ]}".into(),
                    );
                    Value::Null
                }
            }
        } else {
            Value::Null
        };
        let mut settings = json!({
            "application_type": kind.value,
            "grant_types": self.grants,
            "jwks": jwks,
        });
        if kind.redirects {
            settings["redirect_uris"] = json!(lines(&self.redirect_uris));
            settings["post_logout_redirect_uris"] = json!(lines(&self.post_logout_redirect_uris));
        }
        let credentials = json!({
            "token_endpoint_auth_method": auth_method,
            "pkce_required": kind.public || self.pkce_required,
        });
        let oidc = match OidcClient::from_request(&settings, &credentials) {
            Ok(oidc) => Some(oidc),
            Err(v) => {
                // The JWK Set's own message already says what is missing.
                let jwks_said = causes.iter().any(|c| c.starts_with("jwks"));
                causes.extend(
                    v.causes
                        .into_iter()
                        .filter(|c| !(jwks_said && c.starts_with("jwks"))),
                );
                None
            }
        };
        match oidc {
            Some(oidc) if causes.is_empty() => Ok(NewApp {
                name: None,
                label: self.label.clone(),
                oidc,
                client_id: None,
                activate: true,
            }),
            _ => Err(ValidationError {
                summary: "the application's settings".into(),
                causes,
            }),
        }
    }
}

/// The form's fields that errors are shown beside (an error naming another goes to the top).
const FIELDS: [&str; 6] = [
    "label",
    "grant_types",
    "redirect_uris",
    "token_endpoint_auth_method",
    "jwks",
    "pkce_required",
];

/// The errors by field (`errorCauses` are `field: message`), and those of no field of the form.
fn errors_by_field(v: &ValidationError) -> (BTreeMap<&'static str, Vec<String>>, Vec<String>) {
    let mut by_field: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut other = Vec::new();
    for cause in &v.causes {
        let (field, text) = cause.split_once(": ").unwrap_or(("", cause));
        let field = match field {
            "response_types" => "grant_types",
            f => f,
        };
        match FIELDS.iter().find(|f| **f == field) {
            Some(f) => by_field.entry(*f).or_default().push(text.to_string()),
            None => other.push(cause.clone()),
        }
    }
    (by_field, other)
}

fn form_page(
    status: StatusCode,
    admin: &Admin,
    kind: Option<&AppType>,
    draft: &Draft,
    errors: Option<&ValidationError>,
) -> Response {
    let (by_field, other) = errors.map(errors_by_field).unwrap_or_default();
    render(
        status,
        "app_new.html",
        json!({
            "me": admin.me(),
            "section": "apps",
            "types": TYPES,
            "kind": kind,
            "draft": draft,
            "errors": by_field,
            "other_errors": other,
            "has_errors": errors.is_some(),
            // Sent once: a second POST of the same form (a reload of the page that showed the
            // secret, a double click) creates nothing.
            "once": steward_core::ids::random_secret(32),
        }),
    )
}

/// `GET /admin/apps/new[?type=web|browser|native|service]`: the type to create, then its form.
pub async fn form(admin: Admin, Query(q): Query<NewQuery>) -> Response {
    if let Some(refused) = admin.require(Permission::AppsManage, "Creating an application") {
        return refused;
    }
    let kind = q.app_type.as_deref().and_then(app_type);
    let draft = kind.map(Draft::blank).unwrap_or_default();
    form_page(StatusCode::OK, &admin, kind, &draft, None)
}

/// `POST /admin/apps/new` (`csrf`, `type`, `label`, `grant_{type}`, `redirect_uris`,
/// `post_logout_redirect_uris`, `auth_method`, `jwks`, `pkce_required`): `apps::create`, as
/// `POST /api/v1/apps`; then the new app's General tab with its client secret, shown once.
pub async fn create(
    State(console): State<Console>,
    admin: Admin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match admin.change_form(
        &console,
        &headers,
        &body,
        Permission::AppsManage,
        "Creating an application",
    ) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some(kind) = form.get("type").and_then(|t| app_type(t)) else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "The change was refused",
            "Choose the application's type: Web, Single-Page, Native or API Services.",
        );
    };
    let draft = Draft::from_form(kind, &form);
    let new = match draft.new_app(kind) {
        Ok(new) => new,
        Err(v) => {
            return form_page(
                StatusCode::BAD_REQUEST,
                &admin,
                Some(kind),
                &draft,
                Some(&v),
            )
        }
    };
    if let Some(once) = form.get("once").filter(|o| !o.is_empty()) {
        match first_send(&console, once).await {
            Ok(true) => {}
            Ok(false) => {
                return pages::message(
                    StatusCode::CONFLICT,
                    "Already created",
                    "This form was already sent, so the application was created once. Its client \
                     secret was shown then and is not shown again; find the app in Applications.",
                )
            }
            Err(e) => return pages::app_error(e.into()),
        }
    }
    match steward_app::apps::create(&admin.ctx(&console), new).await {
        Ok((app, secret)) => {
            let notice = format!("Created {}.", app.label);
            apps::general_page(&console, &admin, &app, Some(notice), secret).await
        }
        Err(AppError::Validation(v)) => form_page(
            StatusCode::BAD_REQUEST,
            &admin,
            Some(kind),
            &draft,
            Some(&v),
        ),
        Err(e) => pages::app_error(e),
    }
}

/// How long a create form's one-time value is remembered.
const ONCE_TTL_MS: i64 = 24 * 3600 * 1000;

/// Records the form's one-time value; false when it was sent before.
async fn first_send(console: &Console, once: &str) -> Result<bool, steward_store::StoreError> {
    let mut tx = console.api.store.begin().await?;
    let first = tx
        .use_jti("console-form", once, console.now() + ONCE_TTL_MS)
        .await?;
    tx.commit().await?;
    Ok(first)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_goes_beside_its_field() {
        let v = ValidationError {
            summary: "x".into(),
            causes: vec![
                "redirect_uris: 'nope' is not an absolute URI".into(),
                "label: The field cannot be left blank".into(),
                "response_types: authorization_code requires the code response type".into(),
                "consent_method: must be REQUIRED or TRUSTED".into(),
            ],
        };
        let (by_field, other) = errors_by_field(&v);
        assert_eq!(
            by_field["redirect_uris"],
            vec!["'nope' is not an absolute URI"]
        );
        assert_eq!(by_field["label"].len(), 1);
        assert_eq!(by_field["grant_types"].len(), 1);
        assert_eq!(other, vec!["consent_method: must be REQUIRED or TRUSTED"]);
    }

    #[test]
    fn a_public_client_always_requires_pkce_and_authenticates_with_none() {
        let spa = app_type("browser").unwrap();
        let mut form = HashMap::new();
        form.insert("label".to_string(), "Portal".to_string());
        form.insert("grant_authorization_code".to_string(), "on".to_string());
        form.insert(
            "redirect_uris".to_string(),
            "https://portal.example/cb\n\n".to_string(),
        );
        form.insert("auth_method".to_string(), "client_secret_basic".to_string());
        let new = Draft::from_form(spa, &form).new_app(spa).unwrap();
        assert_eq!(new.oidc.token_endpoint_auth_method, "none");
        assert!(new.oidc.pkce_required);
        assert_eq!(new.oidc.redirect_uris, vec!["https://portal.example/cb"]);
    }
}
