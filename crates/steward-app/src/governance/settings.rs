//! Request settings: a resource's (what its conditions may offer) and the org's.

use steward_core::access_requests::conditions::{
    OrgRequestSettings, OrgRequestSettingsPatch, ResourceRequestSettings,
    ResourceRequestSettingsPatch,
};
use steward_core::events::DomainEvent;
use steward_core::syslog::Target;
use steward_core::validation::ValidationError;
use steward_store::Store;

use super::{resource, Body};
use crate::{AppResult, Ctx};

/// Where the org's settings are stored (a resource's are under its id).
const ORG: &str = "org";

/// The settings of app `resource_id`, as stored or the defaults (no app: 404).
pub async fn of_resource(store: &Store, resource_id: &str) -> AppResult<ResourceRequestSettings> {
    let app = resource(store, resource_id).await?;
    stored_or_default(store, &app.id).await
}

/// The settings of a resource known to exist.
pub(crate) async fn stored_or_default(
    store: &Store,
    resource_id: &str,
) -> AppResult<ResourceRequestSettings> {
    Ok(store
        .access_requests()
        .settings::<ResourceRequestSettings>(resource_id)
        .await?
        .unwrap_or_else(|| ResourceRequestSettings::for_app(true, false)))
}

/// Applies `patch` to app `resource_id`'s settings, logged `access.request.settings.update`.
pub async fn update_resource(
    ctx: &Ctx<'_>,
    resource_id: &str,
    patch: Body<ResourceRequestSettingsPatch>,
) -> AppResult<ResourceRequestSettings> {
    let app = resource(ctx.store, resource_id).await?;
    let patch = patch?;
    let mut s = stored_or_default(ctx.store, &app.id).await?;
    s.apply(patch)?;
    let mut tx = ctx.begin().await?;
    tx.access_requests().put_settings(&app.id, &s).await?;
    let event = DomainEvent::RequestSettingsUpdated {
        resource_id: Some(app.id.clone()),
        actor: ctx.actor.clone(),
    };
    tx.record(event, &[Target::app(&app)]).await?;
    tx.commit().await?;
    Ok(s)
}

/// The org's settings, as stored or the defaults.
pub async fn of_org(store: &Store) -> AppResult<OrgRequestSettings> {
    Ok(store
        .access_requests()
        .settings::<OrgRequestSettings>(ORG)
        .await?
        .unwrap_or_default())
}

/// Applies `patch` to the org's settings, logged `access.request.settings.update`. Steward has
/// no Slack or other integrations: only an empty list of them is accepted.
pub async fn update_org(
    ctx: &Ctx<'_>,
    patch: OrgRequestSettingsPatch,
) -> AppResult<OrgRequestSettings> {
    if let Some(i) = &patch.integrations {
        let empty = match i.get("settings") {
            None => i.is_object(),
            Some(settings) => settings.as_array().is_some_and(Vec::is_empty),
        };
        if !empty {
            return Err(ValidationError::new(
                "integrations",
                "/integrations Steward supports no Access Requests integrations",
            )
            .into());
        }
    }
    let mut s = of_org(ctx.store).await?;
    s.apply(patch);
    let mut tx = ctx.begin().await?;
    tx.access_requests().put_settings(ORG, &s).await?;
    let event = DomainEvent::RequestSettingsUpdated {
        resource_id: None,
        actor: ctx.actor.clone(),
    };
    tx.record(event, &[]).await?;
    tx.commit().await?;
    Ok(s)
}
