//! Resource owners: who owns apps and groups (a group owner's members each decide
//! `RESOURCE_OWNER` approval steps). Configure a resource's owners, remove owners, list the
//! resources under a parent that have owners and those that have none.
//!
//! Steward's resources are its apps and groups, each its own parent (Steward keeps no
//! entitlements, bundles or collections: their ORNs are well-formed but name nothing, 404).
//! ORNs name the org's id ([`Store::org_id`]), which callers read to parse ORNs and filters.

use std::collections::HashMap;

use steward_core::apps::App;
use steward_core::directory::{Group, User};
use steward_core::events::DomainEvent;
use steward_core::resource_owners::{
    OwnersConfiguration, OwnersFilter, OwnersRemoval, PrincipalKind, PrincipalName, ResourceKind,
    ResourceName,
};
use steward_core::syslog::Target;
use steward_store::{OwnedResource, OwnersChanged, Store, StoreError, WriteTx};

use super::Page;
use crate::{AppError, AppResult, Ctx};

/// A resource Steward keeps that can have owners.
#[derive(Debug, Clone)]
pub enum Ownable {
    App(Box<App>),
    Group(Group),
}

impl Ownable {
    pub fn name(&self) -> ResourceName {
        match self {
            Ownable::App(a) => ResourceName::app(&a.name, &a.id),
            Ownable::Group(g) => ResourceName::group(&g.id),
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Ownable::App(a) => &a.id,
            Ownable::Group(g) => &g.id,
        }
    }

    pub fn display_name(&self) -> &str {
        match self {
            Ownable::App(a) => &a.label,
            Ownable::Group(g) => g.name(),
        }
    }

    /// Apps and groups are their own parents.
    fn stored(&self) -> OwnedResource {
        let kind = match self {
            Ownable::App(_) => ResourceKind::App,
            Ownable::Group(_) => ResourceKind::Group,
        };
        OwnedResource::top_level(kind, self.id())
    }

    fn target(&self) -> Target {
        match self {
            Ownable::App(a) => Target::app(a),
            Ownable::Group(g) => Target::group(g),
        }
    }
}

/// An owner: a user, or a group whose members each own.
#[derive(Debug, Clone)]
pub enum Owner {
    User(User),
    Group(Group),
}

impl Owner {
    pub fn name(&self) -> PrincipalName {
        match self {
            Owner::User(u) => PrincipalName::user(&u.id),
            Owner::Group(g) => PrincipalName::group(&g.id),
        }
    }

    fn target(&self) -> Target {
        match self {
            Owner::User(u) => Target::user(u),
            Owner::Group(g) => Target::group(g),
        }
    }
}

/// `Some` when found, `None` for `NotFound`.
fn if_found<T>(r: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The app or group `name` names, if Steward has it (an app's ORN must carry its name).
async fn ownable(store: &Store, name: &ResourceName) -> Result<Option<Ownable>, StoreError> {
    Ok(match name.kind {
        ResourceKind::App => if_found(store.app(&name.id).await)?
            .filter(|a| name.app_name.as_deref() == Some(a.name.as_str()))
            .map(|a| Ownable::App(Box::new(a))),
        ResourceKind::Group => if_found(store.group(&name.id).await)?.map(Ownable::Group),
        // Steward keeps no entitlements, bundles or collections.
        ResourceKind::EntitlementBundle
        | ResourceKind::EntitlementValue
        | ResourceKind::Collection => None,
    })
}

async fn known_resource(store: &Store, org_id: &str, name: &ResourceName) -> AppResult<Ownable> {
    ownable(store, name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{} (Resource)", name.orn(org_id))))
}

async fn owner(store: &Store, name: &PrincipalName) -> Result<Option<Owner>, StoreError> {
    Ok(match name.kind {
        PrincipalKind::User => if_found(store.user(&name.id).await)?.map(Owner::User),
        PrincipalKind::Group => if_found(store.group(&name.id).await)?.map(Owner::Group),
    })
}

/// The owners that still exist, in order.
async fn owners(store: &Store, names: &[PrincipalName]) -> Result<Vec<Owner>, StoreError> {
    let mut out = vec![];
    for name in names {
        out.extend(owner(store, name).await?);
    }
    Ok(out)
}

/// Replaces the owners of every resource of `wanted` in one transaction, logging each owner
/// added and removed. Every ORN must name an existing resource or principal (else 404, and
/// nothing is written). Returns each resource with its owners.
pub async fn configure(
    ctx: &Ctx<'_>,
    org_id: &str,
    wanted: OwnersConfiguration,
) -> AppResult<Vec<(Ownable, Vec<Owner>)>> {
    let store = ctx.store;
    let mut resources = vec![];
    for name in &wanted.resources {
        resources.push(known_resource(store, org_id, name).await?);
    }
    let mut principals = vec![];
    for name in &wanted.principals {
        let found = owner(store, name).await?.ok_or_else(|| {
            let what = match name.kind {
                PrincipalKind::User => "User",
                PrincipalKind::Group => "Group",
            };
            AppError::NotFound(format!("{} ({what})", name.orn(org_id)))
        })?;
        principals.push(found);
    }
    // Every name the log may need is read before the transaction: inside it, on PostgreSQL,
    // configurations of one resource queue on its lock while holding their connections, and a
    // read from the pool there could wait for a connection none of them will give back.
    let mut targets = owner_targets(&principals);
    for resource in &resources {
        let current = store.resource_owners(resource.id()).await?;
        targets.extend(owner_targets(&owners(store, &current).await?));
    }
    let mut tx = ctx.begin().await?;
    for resource in &resources {
        let changed = tx
            .set_resource_owners(&resource.stored(), &wanted.principals, ctx.now)
            .await?;
        record_changes(ctx, &mut tx, &targets, org_id, resource, &changed).await?;
    }
    tx.commit().await?;
    Ok(resources
        .into_iter()
        .map(|r| (r, principals.clone()))
        .collect())
}

/// Removes owners from one resource; removing a principal that is no owner changes nothing.
pub async fn remove(ctx: &Ctx<'_>, org_id: &str, removal: OwnersRemoval) -> AppResult<()> {
    let store = ctx.store;
    let resource = known_resource(store, org_id, &removal.resource).await?;
    let targets = owner_targets(&owners(store, &removal.principals).await?);
    let mut tx = ctx.begin().await?;
    let removed = tx
        .remove_resource_owners(resource.id(), &removal.principals)
        .await?;
    let changed = OwnersChanged {
        added: vec![],
        removed,
    };
    record_changes(ctx, &mut tx, &targets, org_id, &resource, &changed).await?;
    tx.commit().await?;
    Ok(())
}

/// The System Log targets of these owners, by principal id.
fn owner_targets(owners: &[Owner]) -> HashMap<String, Target> {
    owners.iter().map(|o| (o.name().id, o.target())).collect()
}

/// One domain event per owner added (`resource_owner.added`) or removed
/// (`resource_owner.removed`); each is logged (`governance.resource_owner.add` / `.remove`)
/// naming the resource and the owner as `targets` has them (an owner gone from the directory
/// by its id).
async fn record_changes(
    ctx: &Ctx<'_>,
    tx: &mut WriteTx,
    targets: &HashMap<String, Target>,
    org_id: &str,
    resource: &Ownable,
    changed: &OwnersChanged,
) -> AppResult<()> {
    let resource_name = resource.name();
    let added = changed.added.iter().map(|p| (true, p));
    let removed = changed.removed.iter().map(|p| (false, p));
    for (added, principal) in added.chain(removed) {
        let (resource_id, resource_type, resource_orn, principal_id, principal_type, principal_orn) = (
            resource.id().to_string(),
            resource_name.kind.object_type().to_string(),
            resource_name.orn(org_id),
            principal.id.clone(),
            principal.kind.object_type().to_string(),
            principal.orn(org_id),
        );
        let actor = ctx.actor.clone();
        let event = if added {
            DomainEvent::ResourceOwnerAdded {
                resource_id,
                resource_type,
                resource_orn,
                principal_id,
                principal_type,
                principal_orn,
                actor,
            }
        } else {
            DomainEvent::ResourceOwnerRemoved {
                resource_id,
                resource_type,
                resource_orn,
                principal_id,
                principal_type,
                principal_orn,
                actor,
            }
        };
        let mut subjects = vec![resource.target()];
        subjects.extend(targets.get(&principal.id).cloned());
        tx.record(event, &subjects).await?;
    }
    Ok(())
}

/// One page of the resources under a parent that have owners, with their owners; `total`
/// counts every match.
#[derive(Debug)]
pub struct OwnedPage {
    pub parent: Ownable,
    pub page: Page<(Ownable, Vec<Owner>)>,
    pub total: usize,
}

/// The resources under the filter's parent that have owners (the parent itself when
/// `include_parent`, or when the filter's `resource.orn` names it), after `after`, at most
/// `limit`.
pub async fn owned(
    store: &Store,
    org_id: &str,
    filter: &OwnersFilter,
    include_parent: bool,
    after: Option<&str>,
    limit: usize,
) -> AppResult<OwnedPage> {
    let parent = known_resource(store, org_id, filter_parent(filter)?).await?;
    let parent_asked = include_parent
        || filter
            .resource
            .as_ref()
            .is_some_and(|r| r.same_as(&parent.name()));
    let mut matched = vec![];
    for row in store.owned_resources(parent.id()).await? {
        let resource = if row.resource.id == parent.id() {
            if !parent_asked {
                continue;
            }
            parent.clone()
        } else {
            match stored_ownable(store, &row.resource).await? {
                Some(r) => r,
                None => continue,
            }
        };
        if filter.admits(&resource.name(), resource.display_name()) {
            matched.push((resource, row.principals));
        }
    }
    let total = matched.len();
    let rest: Vec<_> = matched
        .into_iter()
        .filter(|(r, _)| after.is_none_or(|a| r.id() > a))
        .take(limit + 1)
        .collect();
    let rows = Page::of(rest, limit, |(r, _)| r.id().to_string());
    let mut items = vec![];
    for (resource, principals) in rows.items {
        items.push((resource, owners(store, &principals).await?));
    }
    Ok(OwnedPage {
        parent,
        page: Page {
            items,
            next: rows.next,
        },
        total,
    })
}

fn filter_parent(filter: &OwnersFilter) -> AppResult<&ResourceName> {
    filter
        .parent()
        .ok_or_else(|| AppError::InvalidFilter("the filter must name parentResourceOrn".into()))
}

/// The directory object of a stored resource (apps and groups; others are not kept).
async fn stored_ownable(store: &Store, r: &OwnedResource) -> Result<Option<Ownable>, StoreError> {
    Ok(match r.kind {
        ResourceKind::App => if_found(store.app(&r.id).await)?.map(|a| Ownable::App(Box::new(a))),
        ResourceKind::Group => if_found(store.group(&r.id).await)?.map(Ownable::Group),
        _ => None,
    })
}

/// The resources under the filter's parent, the parent included, that have no owners: in
/// Steward at most the parent itself (apps and groups have no child resources). Returns the
/// parent and the page.
pub async fn unowned(
    store: &Store,
    org_id: &str,
    filter: &OwnersFilter,
    after: Option<&str>,
    limit: usize,
) -> AppResult<(Ownable, Page<Ownable>)> {
    let parent = known_resource(store, org_id, filter_parent(filter)?).await?;
    let family = [parent.clone()];
    let mut unowned = vec![];
    for resource in family {
        if after.is_none_or(|a| resource.id() > a)
            && filter.admits(&resource.name(), resource.display_name())
            && store.resource_owners(resource.id()).await?.is_empty()
        {
            unowned.push(resource);
        }
    }
    Ok((parent, Page::of(unowned, limit, |r| r.id().to_string())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use steward_core::directory::UserStatus;

    use super::*;
    use crate::testing::{self, logs};

    /// The owner events in the System Log: (type, resource id, owner id).
    async fn owner_logs(store: &Store) -> Vec<(String, String, String)> {
        logs(store)
            .await
            .iter()
            .filter(|e| {
                e["eventType"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("governance.resource_owner."))
            })
            .map(|e| {
                let target = |i: usize| {
                    e["target"][i]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                };
                (
                    e["eventType"].as_str().unwrap_or_default().to_string(),
                    target(0),
                    target(1),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn configuring_owners_adds_and_replaces_them_with_one_event_each() {
        let store = testing::org().await;
        let org_id = store.org_id().await.unwrap();
        let group = testing::group(&store, "Finance").await;
        let ann = testing::user(&store, "ann@example.com", UserStatus::Active, true).await;
        let bob = testing::user(&store, "bob@example.com", UserStatus::Active, true).await;
        let ctx = Ctx::system(&store);
        let owned_by = |ids: &[&str]| OwnersConfiguration {
            resources: vec![ResourceName::group(&group.id)],
            principals: ids.iter().map(|id| PrincipalName::user(id)).collect(),
        };

        let configured = configure(&ctx, &org_id, owned_by(&[&ann.id]))
            .await
            .unwrap();
        assert_eq!(configured.len(), 1);
        assert_eq!(configured[0].0.id(), group.id);
        assert!(matches!(&configured[0].1[..], [Owner::User(u)] if u.id == ann.id));

        let head = store.outbox_head().await.unwrap();
        configure(&ctx, &org_id, owned_by(&[&bob.id]))
            .await
            .unwrap();
        assert_eq!(
            testing::outbox_types(&store, head).await,
            ["resource_owner.added", "resource_owner.removed"]
        );

        let owners = store.resource_owners(&group.id).await.unwrap();
        assert_eq!(owners, vec![PrincipalName::user(&bob.id)]);
        let add = "governance.resource_owner.add".to_string();
        let remove = "governance.resource_owner.remove".to_string();
        let mut events = owner_logs(&store).await;
        events.sort();
        let mut expected = vec![
            (add.clone(), group.id.clone(), ann.id.clone()),
            (add, group.id.clone(), bob.id.clone()),
            (remove, group.id.clone(), ann.id.clone()),
        ];
        expected.sort();
        assert_eq!(events, expected);
    }

    #[tokio::test]
    async fn removing_an_owner_logs_it_and_removing_a_stranger_changes_nothing() {
        let store = testing::org().await;
        let org_id = store.org_id().await.unwrap();
        let app = testing::app(&store, "Ledger").await;
        let ann = testing::user(&store, "ann@example.com", UserStatus::Active, true).await;
        let ctx = Ctx::system(&store);
        let resource = ResourceName::app(&app.name, &app.id);
        let wanted = OwnersConfiguration {
            resources: vec![resource.clone()],
            principals: vec![PrincipalName::user(&ann.id)],
        };
        configure(&ctx, &org_id, wanted).await.unwrap();
        let removal = |id: &str| OwnersRemoval {
            resource: resource.clone(),
            principals: vec![PrincipalName::user(id)],
        };

        remove(&ctx, &org_id, removal("00uStranger")).await.unwrap();
        assert_eq!(owner_logs(&store).await.len(), 1);

        remove(&ctx, &org_id, removal(&ann.id)).await.unwrap();

        assert!(store.resource_owners(&app.id).await.unwrap().is_empty());
        let events = owner_logs(&store).await;
        assert_eq!(events.len(), 2);
        assert!(events.contains(&(
            "governance.resource_owner.remove".to_string(),
            app.id.clone(),
            ann.id.clone()
        )));
        let entry = logs(&store)
            .await
            .into_iter()
            .find(|e| e["eventType"] == "governance.resource_owner.remove");
        let entry = entry.expect("the removal's event");
        assert_eq!(
            entry["debugContext"]["debugData"]["principalOrn"],
            PrincipalName::user(&ann.id).orn(&org_id).as_str()
        );
    }

    #[tokio::test]
    async fn an_unknown_resource_or_owner_is_not_found_and_nothing_is_written() {
        let store = testing::org().await;
        let org_id = store.org_id().await.unwrap();
        let group = testing::group(&store, "Finance").await;
        let ann = testing::user(&store, "ann@example.com", UserStatus::Active, true).await;
        let ctx = Ctx::system(&store);

        let no_owner = configure(
            &ctx,
            &org_id,
            OwnersConfiguration {
                resources: vec![ResourceName::group(&group.id)],
                principals: vec![PrincipalName::user(&ann.id), PrincipalName::user("00uGone")],
            },
        )
        .await;
        let no_resource = configure(
            &ctx,
            &org_id,
            OwnersConfiguration {
                resources: vec![ResourceName::group("00gGone")],
                principals: vec![PrincipalName::user(&ann.id)],
            },
        )
        .await;

        assert!(
            matches!(no_owner, Err(AppError::NotFound(ref w)) if w.ends_with("(User)")),
            "{no_owner:?}"
        );
        assert!(
            matches!(no_resource, Err(AppError::NotFound(ref w)) if w.ends_with("(Resource)")),
            "{no_resource:?}"
        );
        assert!(store.resource_owners(&group.id).await.unwrap().is_empty());
        assert!(owner_logs(&store).await.is_empty());
    }

    #[tokio::test]
    async fn the_owned_list_shows_the_parent_only_when_asked() {
        let store = testing::org().await;
        let org_id = store.org_id().await.unwrap();
        let group = testing::group(&store, "Finance").await;
        let ann = testing::user(&store, "ann@example.com", UserStatus::Active, true).await;
        let ctx = Ctx::system(&store);
        let name = ResourceName::group(&group.id);
        let filter_text = format!("parentResourceOrn eq \"{}\"", name.orn(&org_id));
        let parsed = steward_core::filter::parse(&filter_text).unwrap();
        let filter = OwnersFilter::read(
            &parsed,
            &org_id,
            steward_core::resource_owners::OwnersList::Owned,
        )
        .unwrap();
        let unowned_filter = OwnersFilter::read(
            &parsed,
            &org_id,
            steward_core::resource_owners::OwnersList::Unowned,
        )
        .unwrap();
        let (_, before) = unowned(&store, &org_id, &unowned_filter, None, 20)
            .await
            .unwrap();
        assert_eq!(before.items.len(), 1);

        configure(
            &ctx,
            &org_id,
            OwnersConfiguration {
                resources: vec![name],
                principals: vec![PrincipalName::user(&ann.id)],
            },
        )
        .await
        .unwrap();

        let hidden = owned(&store, &org_id, &filter, false, None, 20)
            .await
            .unwrap();
        let shown = owned(&store, &org_id, &filter, true, None, 20)
            .await
            .unwrap();
        assert!(hidden.page.items.is_empty());
        assert_eq!(shown.total, 1);
        assert_eq!(shown.page.items[0].0.id(), group.id);
        let (_, after) = unowned(&store, &org_id, &unowned_filter, None, 20)
            .await
            .unwrap();
        assert!(after.items.is_empty());
    }
}
