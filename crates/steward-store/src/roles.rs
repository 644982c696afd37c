//! Admin role assignments to users and to service apps (clients).

use sqlx::any::AnyRow;
use sqlx::Row;
use steward_core::roles::RoleType;

use crate::{conflict_on_unique, Result, Store, StoreError, WriteTx};

/// Who holds a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    User,
    /// A service app, named by its app id.
    Client,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "USER",
            PrincipalType::Client => "CLIENT",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleAssignment {
    pub id: String,
    pub principal_type: PrincipalType,
    pub principal_id: String,
    pub role_type: RoleType,
    pub created: i64,
    pub last_updated: i64,
}

fn from_row(row: &AnyRow) -> Result<RoleAssignment> {
    let kind: String = row.try_get("principal_type")?;
    let role: String = row.try_get("role_type")?;
    Ok(RoleAssignment {
        id: row.try_get("id")?,
        principal_type: if kind == "CLIENT" {
            PrincipalType::Client
        } else {
            PrincipalType::User
        },
        principal_id: row.try_get("principal_id")?,
        role_type: RoleType::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        created: row.try_get("created")?,
        last_updated: row.try_get("last_updated")?,
    })
}

impl Store {
    pub async fn role_assignments(
        &self,
        kind: PrincipalType,
        principal_id: &str,
    ) -> Result<Vec<RoleAssignment>> {
        let rows = sqlx::query(
            "SELECT id, principal_type, principal_id, role_type, created, last_updated FROM role_assignments \
             WHERE principal_type = $1 AND principal_id = $2 ORDER BY created, id",
        )
        .bind(kind.as_str())
        .bind(principal_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn roles_of(&self, kind: PrincipalType, principal_id: &str) -> Result<Vec<RoleType>> {
        Ok(self
            .role_assignments(kind, principal_id)
            .await?
            .into_iter()
            .map(|a| a.role_type)
            .collect())
    }

    /// Ids of users holding `role`.
    pub async fn users_with_role(&self, role: RoleType) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT principal_id FROM role_assignments WHERE principal_type = 'USER' AND role_type = $1 ORDER BY principal_id",
        )
        .bind(role.as_str())
        .fetch_all(self.pool())
        .await?)
    }
}

impl WriteTx {
    pub async fn insert_role_assignment(&mut self, a: &RoleAssignment) -> Result<()> {
        sqlx::query(
            "INSERT INTO role_assignments (id, principal_type, principal_id, role_type, created, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&a.id)
        .bind(a.principal_type.as_str())
        .bind(&a.principal_id)
        .bind(a.role_type.as_str())
        .bind(a.created)
        .bind(a.last_updated)
        .execute(self.conn())
        .await
        .map_err(conflict_on_unique("role"))?;
        Ok(())
    }

    pub async fn delete_role_assignment(
        &mut self,
        kind: PrincipalType,
        principal_id: &str,
        id: &str,
    ) -> Result<RoleAssignment> {
        let row = sqlx::query(
            "SELECT id, principal_type, principal_id, role_type, created, last_updated FROM role_assignments \
             WHERE principal_type = $1 AND principal_id = $2 AND id = $3",
        )
        .bind(kind.as_str())
        .bind(principal_id)
        .bind(id)
        .fetch_optional(self.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        let found = from_row(&row)?;
        sqlx::query("DELETE FROM role_assignments WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(found)
    }
}
