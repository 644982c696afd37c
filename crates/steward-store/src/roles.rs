//! Admin role assignments to users and to service apps (clients).

use sqlx::any::AnyRow;
use sqlx::Row;
use steward_core::directory::UserStatus;
use steward_core::roles::RoleType;

use crate::{check_cursor, clamp_limit, conflict_on_unique, Result, Store, StoreError, WriteTx};

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

    /// Every admin role assignment of the org, users' and clients' alike, ordered by id: at most
    /// `limit` after the assignment id `after` (the Admin Console's Administrators page).
    pub async fn all_role_assignments(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RoleAssignment>> {
        check_cursor(after)?;
        let sql = format!(
            "SELECT id, principal_type, principal_id, role_type, created, last_updated FROM role_assignments \
             WHERE id > $1 ORDER BY id LIMIT {}",
            clamp_limit(limit)
        );
        let rows = sqlx::query(&sql)
            .bind(after.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
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

/// The PostgreSQL advisory lock that every change which may take a Super Admin away holds while
/// it counts the ones left ("STEWSAD").
const SUPER_ADMINS_LOCK_KEY: i64 = 0x0053_5445_5753_4144;

impl WriteTx {
    /// Whether the principal holds `role`, read inside the transaction.
    pub async fn holds_role(
        &mut self,
        kind: PrincipalType,
        principal_id: &str,
        role: RoleType,
    ) -> Result<bool> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM role_assignments WHERE principal_type = $1 AND principal_id = $2 AND role_type = $3",
        )
        .bind(kind.as_str())
        .bind(principal_id)
        .bind(role.as_str())
        .fetch_optional(self.conn())
        .await?;
        Ok(found.is_some())
    }

    /// The Super Admins that can still act on the org, counted inside the transaction: users
    /// holding SUPER_ADMIN in a status whose credentials act ([`UserStatus::credentials_act`]:
    /// ACTIVE, LOCKED_OUT, PASSWORD_EXPIRED, RECOVERY), and ACTIVE service apps (OIDC
    /// `application_type` `service`) holding it.
    ///
    /// Every change that may take one away calls this first and decides on what it returns, so on
    /// PostgreSQL it first takes a transaction-scoped advisory lock: two such changes count one
    /// after the other, and the second sees what the first committed (two admins demoting each
    /// other cannot both pass). SQLite has one writer at a time.
    pub async fn lock_acting_super_admins(&mut self) -> Result<Vec<(PrincipalType, String)>> {
        if self.is_postgres() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SUPER_ADMINS_LOCK_KEY)
                .execute(self.conn())
                .await?;
        }
        let users = sqlx::query(
            "SELECT u.id, u.status FROM users u JOIN role_assignments r \
             ON r.principal_type = 'USER' AND r.principal_id = u.id \
             WHERE r.role_type = 'SUPER_ADMIN' ORDER BY u.id",
        )
        .fetch_all(self.conn())
        .await?;
        let apps = sqlx::query(
            "SELECT a.id, a.status, a.oidc FROM apps a JOIN role_assignments r \
             ON r.principal_type = 'CLIENT' AND r.principal_id = a.id \
             WHERE r.role_type = 'SUPER_ADMIN' ORDER BY a.id",
        )
        .fetch_all(self.conn())
        .await?;
        let mut acting = Vec::new();
        for row in users {
            let status: String = row.try_get("status")?;
            let status = UserStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("user status {status}")))?;
            if status.credentials_act() {
                acting.push((PrincipalType::User, row.try_get("id")?));
            }
        }
        for row in apps {
            let status: String = row.try_get("status")?;
            let oidc: Option<String> = row.try_get("oidc")?;
            let service = oidc
                .as_deref()
                .and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok())
                .is_some_and(|o| o["application_type"] == "service");
            if status == "ACTIVE" && service {
                acting.push((PrincipalType::Client, row.try_get("id")?));
            }
        }
        Ok(acting)
    }

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

    /// The principal's role assignment with this id, read inside the transaction.
    pub async fn role_assignment(
        &mut self,
        kind: PrincipalType,
        principal_id: &str,
        id: &str,
    ) -> Result<Option<RoleAssignment>> {
        let row = sqlx::query(
            "SELECT id, principal_type, principal_id, role_type, created, last_updated FROM role_assignments \
             WHERE principal_type = $1 AND principal_id = $2 AND id = $3",
        )
        .bind(kind.as_str())
        .bind(principal_id)
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn delete_role_assignment(
        &mut self,
        kind: PrincipalType,
        principal_id: &str,
        id: &str,
    ) -> Result<RoleAssignment> {
        let found = self
            .role_assignment(kind, principal_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query("DELETE FROM role_assignments WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(found)
    }
}
