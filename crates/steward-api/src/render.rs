//! Domain objects as Okta's JSON.

use serde_json::{json, Value};
use steward_core::apps::App;
use steward_core::directory::{Group, User};
use steward_core::timefmt::format_millis;
use steward_store::{AppGroupAssignment, AppUserAssignment, PrincipalType, RoleAssignment};

/// Okta's id for the default user type, which every Steward user has.
pub const DEFAULT_USER_TYPE_ID: &str = "otyDefaultUserType00";

fn ts(ms: Option<i64>) -> Value {
    ms.map(|m| Value::String(format_millis(m)))
        .unwrap_or(Value::Null)
}

pub fn user(issuer: &str, u: &User) -> Value {
    let href = format!("{issuer}/api/v1/users/{}", u.id);
    let mut links = json!({
        "self": {"href": href},
        "type": {"href": format!("{issuer}/api/v1/meta/types/user/{DEFAULT_USER_TYPE_ID}")},
        "schema": {"href": format!("{issuer}/api/v1/meta/schemas/user/{DEFAULT_USER_TYPE_ID}")},
    });
    let action = |name: &str| json!({"href": format!("{href}/lifecycle/{name}"), "method": "POST"});
    let actions: &[&str] = match u.status.as_str() {
        "ACTIVE" => &["suspend", "deactivate"],
        "SUSPENDED" => &["unsuspend", "deactivate"],
        "DEPROVISIONED" => &["activate"],
        "LOCKED_OUT" => &["unlock", "deactivate"],
        _ => &["activate", "deactivate"],
    };
    if let Some(map) = links.as_object_mut() {
        for name in actions {
            map.insert((*name).to_string(), action(name));
        }
    }
    json!({
        "id": u.id,
        "status": u.status.as_str(),
        "created": format_millis(u.created),
        "activated": ts(u.activated),
        "statusChanged": ts(u.status_changed),
        "lastLogin": ts(u.last_login),
        "lastUpdated": format_millis(u.last_updated),
        "passwordChanged": ts(u.password_changed),
        "type": {"id": DEFAULT_USER_TYPE_ID},
        "profile": u.profile,
        "credentials": {
            "password": if u.password_hash.is_some() { json!({}) } else { Value::Null },
            "provider": {"type": "OKTA", "name": "OKTA"},
        },
        "_links": links,
    })
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
            "apps": {"href": format!("{href}/apps")},
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
            "deactivate": {"href": format!("{href}/lifecycle/deactivate")},
        },
    });
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
