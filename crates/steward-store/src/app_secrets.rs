//! Apps' client secrets (`/api/v1/apps/{appId}/credentials/secrets`).

use sqlx::any::AnyRow;
use sqlx::Row;
use steward_core::apps::{App, ClientSecret};

use crate::{storable, Result, Store, StoreError, WriteTx};

const COLUMNS: &str = "id, app_id, hash, masked, status, created, last_updated";

fn from_row(row: &AnyRow) -> Result<ClientSecret> {
    Ok(ClientSecret {
        id: row.try_get("id")?,
        app_id: row.try_get("app_id")?,
        hash: row.try_get("hash")?,
        masked: row.try_get("masked")?,
        status: row.try_get("status")?,
        created: row.try_get("created")?,
        last_updated: row.try_get("last_updated")?,
    })
}

fn check_secret(secret: &ClientSecret) -> Result<()> {
    for (field, value) in [
        ("id", secret.id.as_str()),
        ("hash", secret.hash.as_str()),
        ("status", secret.status.as_str()),
        (
            "client_secret",
            secret.masked.as_deref().unwrap_or_default(),
        ),
    ] {
        if !storable(value) {
            return Err(StoreError::InvalidValue(field.into()));
        }
    }
    Ok(())
}

/// Oldest first, as Okta lists them.
const ORDER: &str = "ORDER BY created, id";

impl Store {
    /// The app's client secrets, oldest first.
    pub async fn client_secrets(&self, app_id: &str) -> Result<Vec<ClientSecret>> {
        if !storable(app_id) {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM app_client_secrets WHERE app_id = $1 {ORDER}"
        ))
        .bind(app_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// One of the app's client secrets; another app's secret is [`StoreError::NotFound`].
    pub async fn client_secret(&self, app_id: &str, id: &str) -> Result<ClientSecret> {
        if !storable(app_id) || !storable(id) {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM app_client_secrets WHERE app_id = $1 AND id = $2"
        ))
        .bind(app_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }
}

impl WriteTx {
    /// Reads an app inside the transaction for read-modify-write of it or of its credentials:
    /// on PostgreSQL the row stays locked (`FOR UPDATE`) until the transaction ends, so two
    /// concurrent changes to the app's secrets or keys take turns and each sees the other's
    /// result (the two-secret limit, the last active secret or key). SQLite has one writer.
    pub async fn app(&mut self, id: &str) -> Result<App> {
        if !storable(id) {
            return Err(StoreError::NotFound);
        }
        let lock = if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT {} FROM apps WHERE id = $1{lock}",
            crate::apps::COLUMNS
        ))
        .bind(id)
        .fetch_optional(self.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        crate::apps::from_row(&row)
    }

    /// The app's client secrets, read inside the transaction (after [`WriteTx::app`]).
    pub async fn client_secrets(&mut self, app_id: &str) -> Result<Vec<ClientSecret>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM app_client_secrets WHERE app_id = $1 {ORDER}"
        ))
        .bind(app_id)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn insert_client_secret(&mut self, secret: &ClientSecret) -> Result<()> {
        check_secret(secret)?;
        sqlx::query(&format!(
            "INSERT INTO app_client_secrets ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&secret.id)
        .bind(&secret.app_id)
        .bind(&secret.hash)
        .bind(&secret.masked)
        .bind(&secret.status)
        .bind(secret.created)
        .bind(secret.last_updated)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Sets a secret's status and `last_updated`.
    pub async fn update_client_secret(&mut self, secret: &ClientSecret) -> Result<()> {
        check_secret(secret)?;
        let done = sqlx::query(
            "UPDATE app_client_secrets SET status = $3, last_updated = $4 \
             WHERE app_id = $1 AND id = $2",
        )
        .bind(&secret.app_id)
        .bind(&secret.id)
        .bind(&secret.status)
        .bind(secret.last_updated)
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn delete_client_secret(&mut self, app_id: &str, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM app_client_secrets WHERE app_id = $1 AND id = $2")
            .bind(app_id)
            .bind(id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Deletes every secret of the app (it stops using secrets, or gets a new one in their place).
    pub async fn delete_client_secrets_of(&mut self, app_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM app_client_secrets WHERE app_id = $1")
            .bind(app_id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }
}
