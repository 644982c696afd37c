//! Okta API scope grants of an app (`OAuth2ScopeConsentGrant`): grant and revoke, each with its
//! System Log event and domain event in one transaction. The Management API
//! (`/api/v1/apps/{appId}/grants`) and the Admin Console call these; who may call them (a Super
//! Admin: `AppGrantsManage`) is decided by the caller before. Granting never changes tokens
//! already issued: a client gets a new scope only when it authorizes again.

use steward_core::apps::App;
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, IdKind};
use steward_core::syslog::Target;
use steward_core::validation::ValidationError;
use steward_store::AppGrant;

use crate::{AppError, AppResult, Ctx};

/// Who a grant names as its creator (`createdBy`): `USER`, `CLIENT` or `SYSTEM` and its id.
#[derive(Debug, Clone)]
pub struct GrantedBy {
    pub id: String,
    pub kind: &'static str,
}

/// A new grant of `scope_id` to app `app_id`.
pub struct NewGrant<'a> {
    pub app_id: &'a str,
    pub scope_id: &'a str,
    /// The issuer the caller named; must be the org authorization server, `org_issuer`.
    pub issuer: &'a str,
    pub org_issuer: &'a str,
    pub created_by: GrantedBy,
}

/// The app `id`, or [`AppError::NotFound`] naming it.
pub async fn find_app(ctx: &Ctx<'_>, id: &str) -> AppResult<App> {
    ctx.store
        .app(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (App)")))
}

fn grant_target(g: &AppGrant) -> Target {
    Target::new(&g.id, "OAuth2ScopeConsentGrant", &g.scope_id, &g.scope_id)
}

/// Grants an Okta API scope to an app. Refused (nothing written): an issuer other than the
/// org's, a name that is not an Okta API scope, a scope no route of Steward serves
/// (`scope_is_built` says which are: granting one would allow nothing), and a scope the app
/// already holds.
pub async fn grant(
    ctx: &Ctx<'_>,
    new: NewGrant<'_>,
    scope_is_built: impl Fn(&str) -> bool,
) -> AppResult<(App, AppGrant)> {
    let app = find_app(ctx, new.app_id).await?;
    let issuer = new.org_issuer;
    if new.issuer.trim_end_matches('/') != issuer {
        return Err(ValidationError::new(
            "issuer",
            format!("issuer: must be the org authorization server, {issuer}"),
        )
        .into());
    }
    if !steward_core::scopes::is_okta_scope(new.scope_id) {
        return Err(ValidationError::new(
            "scopeId",
            format!("scopeId: '{}' is not an Okta API scope", new.scope_id),
        )
        .into());
    }
    if !scope_is_built(new.scope_id) {
        return Err(ValidationError::new(
            format!(
                "scopeId: {} is not built yet: Steward does not serve its APIs yet",
                new.scope_id
            ),
            format!(
                "scopeId: no route of Steward takes {}, so a token holding it could call nothing; docs/roles.md lists the scopes not built yet",
                new.scope_id
            ),
        )
        .into());
    }
    let now = ctx.now;
    let grant = AppGrant {
        id: new_id(IdKind::Grant),
        app_id: app.id.clone(),
        issuer: issuer.to_string(),
        scope_id: new.scope_id.to_string(),
        status: "ACTIVE".into(),
        source: "ADMIN".into(),
        created_by_id: new.created_by.id,
        created_by_type: new.created_by.kind.into(),
        created: now,
        last_updated: now,
    };
    let mut tx = ctx.begin().await?;
    if tx
        .active_grant(&app.id, issuer, new.scope_id)
        .await?
        .is_some()
    {
        return Err(ValidationError::new(
            "scopeId",
            format!("scopeId: {} is already granted to this app", new.scope_id),
        )
        .into());
    }
    tx.insert_app_grant(&grant).await?;
    tx.record(
        DomainEvent::AppGrantGiven {
            app_id: app.id.clone(),
            grant_id: grant.id.clone(),
            scope_id: grant.scope_id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::app(&app), grant_target(&grant)],
    )
    .await?;
    tx.commit().await?;
    Ok((app, grant))
}

/// The grant `grant_id` of app `app_id` (any status), or [`AppError::NotFound`].
pub async fn find_grant(ctx: &Ctx<'_>, app_id: &str, grant_id: &str) -> AppResult<AppGrant> {
    ctx.store
        .app_grant(app_id, grant_id)
        .await
        .map_err(AppError::not_found_as(format!(
            "{grant_id} (OAuth2ScopeConsentGrant)"
        )))
}

/// Revokes an ACTIVE grant of an app; a grant already revoked is not found.
pub async fn revoke(ctx: &Ctx<'_>, app_id: &str, grant_id: &str) -> AppResult<AppGrant> {
    let app = find_app(ctx, app_id).await?;
    let grant = find_grant(ctx, &app.id, grant_id).await?;
    if grant.status != "ACTIVE" {
        return Err(AppError::NotFound(format!(
            "{grant_id} (OAuth2ScopeConsentGrant)"
        )));
    }
    let mut tx = ctx.begin().await?;
    tx.revoke_app_grant(&grant.id, ctx.now).await?;
    tx.record(
        DomainEvent::AppGrantRevoked {
            app_id: app.id.clone(),
            grant_id: grant.id.clone(),
            scope_id: grant.scope_id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::app(&app), grant_target(&grant)],
    )
    .await?;
    tx.commit().await?;
    Ok(grant)
}
