//! Resource owners: which users and groups own which apps and groups (migration `0005`), and
//! the org id that ORNs name.
//!
//! A row is one (resource, owner). Each row also names the resource's parent, which the lists of
//! `/governance/api/v1/resource-owners` are filtered by. Owners are replaced or removed inside a
//! [`WriteTx`], which reports what changed so that the System Log can say it.

use sqlx::any::AnyRow;
use sqlx::Row;
use steward_core::ids::{new_id, IdKind};
use steward_core::resource_owners::{PrincipalKind, PrincipalName, ResourceKind};

use crate::{Result, Store, StoreError, WriteTx};

const ORG_ID_SETTING: &str = "org_id";

/// A resource that has (or may have) owners, with the parent that lists find it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedResource {
    pub kind: ResourceKind,
    pub id: String,
    pub parent_kind: ResourceKind,
    pub parent_id: String,
}

impl OwnedResource {
    /// A resource that is its own parent (an app, a group).
    pub fn top_level(kind: ResourceKind, id: &str) -> OwnedResource {
        OwnedResource {
            kind,
            id: id.to_string(),
            parent_kind: kind,
            parent_id: id.to_string(),
        }
    }
}

/// A resource with its owners (ordered by principal id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceOwners {
    pub resource: OwnedResource,
    pub principals: Vec<PrincipalName>,
}

/// What a change did to one resource's owners.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnersChanged {
    pub added: Vec<PrincipalName>,
    pub removed: Vec<PrincipalName>,
}

const COLUMNS: &str =
    "resource_id, resource_type, parent_id, parent_type, principal_id, principal_type";

fn resource_kind(text: &str) -> Result<ResourceKind> {
    ResourceKind::from_object_type(text)
        .ok_or_else(|| StoreError::Corrupt(format!("resource type {text}")))
}

fn principal_from_row(row: &AnyRow) -> Result<PrincipalName> {
    let kind: String = row.try_get("principal_type")?;
    Ok(PrincipalName {
        kind: PrincipalKind::from_object_type(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("principal type {kind}")))?,
        id: row.try_get("principal_id")?,
    })
}

fn resource_from_row(row: &AnyRow) -> Result<OwnedResource> {
    Ok(OwnedResource {
        kind: resource_kind(&row.try_get::<String, _>("resource_type")?)?,
        id: row.try_get("resource_id")?,
        parent_kind: resource_kind(&row.try_get::<String, _>("parent_type")?)?,
        parent_id: row.try_get("parent_id")?,
    })
}

/// Groups rows (ordered by resource id, then principal id) by resource.
fn group_rows(rows: &[AnyRow]) -> Result<Vec<ResourceOwners>> {
    let mut out: Vec<ResourceOwners> = vec![];
    for row in rows {
        let resource = resource_from_row(row)?;
        let principal = principal_from_row(row)?;
        match out.last_mut() {
            Some(last) if last.resource.id == resource.id => last.principals.push(principal),
            _ => out.push(ResourceOwners {
                resource,
                principals: vec![principal],
            }),
        }
    }
    Ok(out)
}

impl Store {
    /// The org's id (`00o…`), as ORNs name it: created on first use, the same on every node.
    pub async fn org_id(&self) -> Result<String> {
        let read = || {
            sqlx::query_scalar::<_, String>("SELECT value FROM org_settings WHERE name = $1")
                .bind(ORG_ID_SETTING)
                .fetch_optional(self.pool())
        };
        if let Some(id) = read().await? {
            return Ok(id);
        }
        // Two nodes may race here: the first insert wins and both read it back.
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO org_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(ORG_ID_SETTING)
        .bind(new_id(IdKind::Org))
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        read().await?.ok_or(StoreError::NotFound)
    }

    /// The owners of one resource (empty when it has none).
    pub async fn resource_owners(&self, resource_id: &str) -> Result<Vec<PrincipalName>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM resource_owners WHERE resource_id = $1 ORDER BY principal_id"
        ))
        .bind(resource_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(principal_from_row).collect()
    }

    /// The resources under `parent_id` that have owners, with their owners, by resource id.
    pub async fn owned_resources(&self, parent_id: &str) -> Result<Vec<ResourceOwners>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM resource_owners WHERE parent_id = $1 ORDER BY resource_id, principal_id"
        ))
        .bind(parent_id)
        .fetch_all(self.pool())
        .await?;
        group_rows(&rows)
    }
}

impl WriteTx {
    async fn owners_in_tx(&mut self, resource_id: &str) -> Result<Vec<PrincipalName>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM resource_owners WHERE resource_id = $1 ORDER BY principal_id"
        ))
        .bind(resource_id)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(principal_from_row).collect()
    }

    async fn delete_owner(&mut self, resource_id: &str, principal_id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM resource_owners WHERE resource_id = $1 AND principal_id = $2")
                .bind(resource_id)
                .bind(principal_id)
                .execute(self.conn())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Makes `principals` exactly the owners of `resource` (none: no owners); owners kept keep
    /// their rows. Returns who was added and who removed.
    pub async fn set_resource_owners(
        &mut self,
        resource: &OwnedResource,
        principals: &[PrincipalName],
        now: i64,
    ) -> Result<OwnersChanged> {
        if self.is_postgres() {
            // Configurations of one resource run one after the other, so each sees the owners
            // the one before it left.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 5))")
                .bind(&resource.id)
                .execute(self.conn())
                .await?;
        }
        let before = self.owners_in_tx(&resource.id).await?;
        let mut changed = OwnersChanged::default();
        for old in &before {
            if !principals.contains(old) && self.delete_owner(&resource.id, &old.id).await? {
                changed.removed.push(old.clone());
            }
        }
        for new in principals {
            if before.contains(new) {
                continue;
            }
            // Idempotent: an owner another transaction added meanwhile is kept, not an error.
            let done = sqlx::query(&format!(
                "INSERT INTO resource_owners ({COLUMNS}, created) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (resource_id, principal_id) DO NOTHING"
            ))
            .bind(&resource.id)
            .bind(resource.kind.object_type())
            .bind(&resource.parent_id)
            .bind(resource.parent_kind.object_type())
            .bind(&new.id)
            .bind(new.kind.object_type())
            .bind(now)
            .execute(self.conn())
            .await
            .map_err(crate::conflict_on_unique("resource owner"))?;
            if done.rows_affected() == 1 {
                changed.added.push(new.clone());
            }
        }
        Ok(changed)
    }

    /// Removes these owners of `resource_id`; returns the ones that were owners.
    pub async fn remove_resource_owners(
        &mut self,
        resource_id: &str,
        principals: &[PrincipalName],
    ) -> Result<Vec<PrincipalName>> {
        let mut removed = vec![];
        for p in principals {
            if self.delete_owner(resource_id, &p.id).await? {
                removed.push(p.clone());
            }
        }
        Ok(removed)
    }

    /// Forgets every ownership that names `id`, as resource, parent or owner: called in the
    /// transaction that deletes a user, a group or an app.
    pub async fn forget_resource_owners_of(&mut self, id: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM resource_owners WHERE resource_id = $1 OR parent_id = $1 OR principal_id = $1",
        )
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
