//! Domain objects as Okta's JSON.

use serde::Serialize;
use serde_json::{json, Map, Value};
use steward_core::apps::{App, ClientSecret};
use steward_core::directory::{self, Group, Lifecycle, User};
use steward_core::timefmt::format_millis;
use steward_store::{AppGroupAssignment, AppUserAssignment, PrincipalType, RoleAssignment};

/// Okta's id for the default user type, which every Steward user has.
pub const DEFAULT_USER_TYPE_ID: &str = "otyDefaultUserType00";

/// A link, optionally with the method to use.
#[derive(Serialize)]
struct Link {
    href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
}

#[derive(Serialize)]
struct UserLinks {
    #[serde(rename = "self")]
    self_: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    activate: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reactivate: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deactivate: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suspend: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unsuspend: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unlock: Option<Link>,
}

#[derive(Serialize)]
struct TypeRef {
    id: &'static str,
}

#[derive(Serialize)]
struct Provider {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct UserCredentials {
    /// `{}` when the user has a password (never the password itself), else null.
    password: Option<Empty>,
    provider: Provider,
}

#[derive(Serialize)]
struct Empty {}

/// Okta's `User`, borrowed from the stored user: rendered straight to JSON without building a
/// `Value` tree (lists of 200 users are a hot path).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView<'a> {
    id: &'a str,
    status: &'static str,
    created: String,
    activated: Option<String>,
    status_changed: Option<String>,
    last_login: Option<String>,
    last_updated: String,
    password_changed: Option<String>,
    #[serde(rename = "type")]
    user_type: TypeRef,
    profile: &'a Map<String, Value>,
    credentials: UserCredentials,
    #[serde(rename = "_links")]
    links: UserLinks,
}

/// A user as `GET /api/v1/users/{id}` and the writes answer it: with the lifecycle operations
/// its status allows.
pub fn user_view<'a>(issuer: &str, u: &'a User) -> UserView<'a> {
    view_with_links(issuer, u, true)
}

/// A user in a collection (lists of users, a group's members): as Okta, only the `self` link.
pub fn user_in_list<'a>(issuer: &str, u: &'a User) -> UserView<'a> {
    view_with_links(issuer, u, false)
}

fn view_with_links<'a>(issuer: &str, u: &'a User, all_links: bool) -> UserView<'a> {
    let href = format!("{issuer}/api/v1/users/{}", u.id);
    // A lifecycle link is offered exactly when that transition would be accepted, so the links
    // and the lifecycle endpoints can never disagree (PROVISIONED users get `reactivate`).
    let action = |name: &str, op: Lifecycle| {
        (all_links && directory::transition(u.status, op, u.password_hash.is_some()).is_ok()).then(
            || Link {
                href: format!("{href}/lifecycle/{name}"),
                method: Some("POST"),
            },
        )
    };
    // No `type` or `schema` link: Okta's point at `/api/v1/meta/…`, which Steward does not serve
    // yet, and a link must resolve.
    let links = UserLinks {
        activate: action("activate", Lifecycle::Activate),
        reactivate: action("reactivate", Lifecycle::Reactivate),
        deactivate: action("deactivate", Lifecycle::Deactivate),
        suspend: action("suspend", Lifecycle::Suspend),
        unsuspend: action("unsuspend", Lifecycle::Unsuspend),
        unlock: action("unlock", Lifecycle::Unlock),
        self_: Link { href, method: None },
    };
    UserView {
        id: &u.id,
        status: u.status.as_str(),
        created: format_millis(u.created),
        activated: u.activated.map(format_millis),
        status_changed: u.status_changed.map(format_millis),
        last_login: u.last_login.map(format_millis),
        last_updated: format_millis(u.last_updated),
        password_changed: u.password_changed.map(format_millis),
        user_type: TypeRef {
            id: DEFAULT_USER_TYPE_ID,
        },
        profile: &u.profile,
        credentials: UserCredentials {
            password: u.password_hash.as_ref().map(|_| Empty {}),
            provider: Provider {
                kind: "OKTA",
                name: "OKTA",
            },
        },
        links,
    }
}

/// Okta's `User` as a JSON value (for the few places that need a `Value`).
pub fn user(issuer: &str, u: &User) -> Value {
    serde_json::to_value(user_view(issuer, u)).unwrap_or(Value::Null)
}

pub fn group(issuer: &str, g: &Group) -> Value {
    let href = format!("{issuer}/api/v1/groups/{}", g.id);
    json!({
        "id": g.id,
        "created": format_millis(g.created),
        "lastUpdated": format_millis(g.last_updated),
        "lastMembershipUpdated": format_millis(g.last_membership_updated),
        "objectClass": ["okta:user_group"],
        "type": g.group_type,
        "profile": g.profile,
        "_links": {
            "self": {"href": href},
            "users": {"href": format!("{href}/users")},
            // No `apps` link: `/api/v1/groups/{id}/apps` is not built yet.
            "logo": [],
        },
    })
}

/// An application; `client_secret` is included only in the response to its creation.
pub fn app(issuer: &str, a: &App, client_secret: Option<&str>) -> Value {
    let href = format!("{issuer}/api/v1/apps/{}", a.id);
    let mut out = json!({
        "id": a.id,
        "name": a.name,
        "label": a.label,
        "status": a.status,
        "created": format_millis(a.created),
        "lastUpdated": format_millis(a.last_updated),
        "signOnMode": a.sign_on_mode,
        "features": [],
        "accessibility": {"selfService": false, "errorRedirectUrl": Value::Null, "loginRedirectUrl": Value::Null},
        "visibility": {
            "autoLaunch": false,
            "autoSubmitToolbar": false,
            "hide": {"iOS": false, "web": false},
            "appLinks": {format!("{}_link", a.name): true},
        },
        "_links": {
            "self": {"href": href},
            "users": {"href": format!("{href}/users")},
            "groups": {"href": format!("{href}/groups")},
            "appLinks": [],
        },
    });
    // The one lifecycle operation the app's status allows, as Okta links it.
    let lifecycle = if a.is_active() {
        "deactivate"
    } else {
        "activate"
    };
    if let Some(links) = out.get_mut("_links").and_then(Value::as_object_mut) {
        links.insert(
            lifecycle.into(),
            json!({"href": format!("{href}/lifecycle/{lifecycle}")}),
        );
    }
    if let (Some(oidc), Some(map)) = (&a.oidc, out.as_object_mut()) {
        let mut oauth_credentials = json!({
            "autoKeyRotation": true,
            "client_id": a.client_id,
            "token_endpoint_auth_method": oidc.token_endpoint_auth_method,
            "pkce_required": oidc.pkce_required,
        });
        if let (Some(secret), Some(c)) = (client_secret, oauth_credentials.as_object_mut()) {
            c.insert("client_secret".into(), Value::String(secret.to_string()));
        }
        map.insert(
            "credentials".into(),
            json!({
                "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
                "signing": {"kid": Value::Null},
                "oauthClient": oauth_credentials,
            }),
        );
        let mut settings = json!({
            "client_uri": Value::Null,
            "logo_uri": Value::Null,
            "redirect_uris": oidc.redirect_uris,
            "post_logout_redirect_uris": oidc.post_logout_redirect_uris,
            "response_types": oidc.response_types,
            "grant_types": oidc.grant_types,
            "application_type": oidc.application_type,
            "consent_method": oidc.consent_method,
            "issuer_mode": "ORG_URL",
        });
        if let (Some(jwks), Some(s)) = (&oidc.jwks, settings.as_object_mut()) {
            s.insert("jwks".into(), jwks.clone());
        }
        map.insert(
            "settings".into(),
            json!({
                "app": {},
                "notifications": {"vpn": {"network": {"connection": "DISABLED"}, "message": Value::Null, "helpUrl": Value::Null}},
                "manualProvisioning": false,
                "implicitAssignment": false,
                "notes": {"admin": Value::Null, "enduser": Value::Null},
                "oauthClient": settings,
            }),
        );
    }
    out
}

/// A POST link with Okta's `hints`.
fn post_link(href: String) -> Value {
    json!({"href": href, "hints": {"allow": ["POST"]}})
}

/// Okta's `OAuth2ClientSecret`. `client_secret` is the secret itself only in the answer that
/// created it; otherwise its masked form (absent for secrets from before Steward kept one).
/// `secret_hash` tells secrets apart: a digest of the stored argon2id hash, which discloses
/// nothing about the secret (a fast digest of the secret itself could be brute-forced).
pub fn client_secret(issuer: &str, s: &ClientSecret, shown: Option<&str>) -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(s.hash.as_bytes());
    let href = format!(
        "{issuer}/api/v1/apps/{}/credentials/secrets/{}",
        s.app_id, s.id
    );
    let links = if s.is_active() {
        json!({"deactivate": post_link(format!("{href}/lifecycle/deactivate"))})
    } else {
        json!({
            "activate": post_link(format!("{href}/lifecycle/activate")),
            "delete": {"href": href, "hints": {"allow": ["DELETE"]}},
        })
    };
    let mut out = json!({
        "id": s.id,
        "status": s.status,
        "secret_hash": URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default()),
        "created": format_millis(s.created),
        "lastUpdated": format_millis(s.last_updated),
        "_links": links,
    });
    if let (Some(secret), Some(map)) = (shown.or(s.masked.as_deref()), out.as_object_mut()) {
        map.insert("client_secret".into(), Value::String(secret.to_string()));
    }
    out
}

/// Okta's `OAuth2ClientJsonSigningKeyResponse`: the stored key (its `id`, `status` and
/// timestamps included) with the links its status allows.
pub fn client_jwk(issuer: &str, app_id: &str, key: &Value) -> Value {
    let id = key.get("id").and_then(Value::as_str).unwrap_or_default();
    let href = format!("{issuer}/api/v1/apps/{app_id}/credentials/jwks/{id}");
    let links = if key.get("status").and_then(Value::as_str) == Some("INACTIVE") {
        json!({
            "activate": post_link(format!("{href}/lifecycle/activate")),
            "delete": {"href": href, "hints": {"allow": ["DELETE"]}},
        })
    } else {
        json!({"deactivate": post_link(format!("{href}/lifecycle/deactivate"))})
    };
    let mut out = key.clone();
    if let Some(map) = out.as_object_mut() {
        map.insert("_links".into(), links);
    }
    out
}

pub fn app_user(issuer: &str, a: &AppUserAssignment, u: &User) -> Value {
    json!({
        "id": a.user_id,
        "externalId": Value::Null,
        "created": format_millis(a.created),
        "lastUpdated": format_millis(a.last_updated),
        "scope": a.scope,
        "status": "ACTIVE",
        "statusChanged": format_millis(a.last_updated),
        "passwordChanged": Value::Null,
        "syncState": "DISABLED",
        "credentials": {"userName": u.login()},
        "profile": a.profile,
        "_links": {
            "app": {"href": format!("{issuer}/api/v1/apps/{}", a.app_id)},
            "user": {"href": format!("{issuer}/api/v1/users/{}", a.user_id)},
        },
    })
}

pub fn app_group(issuer: &str, a: &AppGroupAssignment) -> Value {
    json!({
        "id": a.group_id,
        "lastUpdated": format_millis(a.last_updated),
        "priority": a.priority,
        "profile": a.profile,
        "_links": {
            "app": {"href": format!("{issuer}/api/v1/apps/{}", a.app_id)},
            "group": {"href": format!("{issuer}/api/v1/groups/{}", a.group_id)},
        },
    })
}

pub fn role(issuer: &str, r: &RoleAssignment) -> Value {
    let (assignment_type, assignee) = match r.principal_type {
        PrincipalType::User => ("USER", format!("{issuer}/api/v1/users/{}", r.principal_id)),
        PrincipalType::Client => (
            "CLIENT",
            format!("{issuer}/oauth2/v1/clients/{}", r.principal_id),
        ),
    };
    json!({
        "id": r.id,
        "label": r.role_type.label(),
        "type": r.role_type.as_str(),
        "status": "ACTIVE",
        "created": format_millis(r.created),
        "lastUpdated": format_millis(r.last_updated),
        "assignmentType": assignment_type,
        "_links": {"assignee": {"href": assignee}},
    })
}
