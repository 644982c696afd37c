//! SSWS API tokens. Only a SHA-256 hash of each token is stored; the token itself is shown once.

use sqlx::any::AnyRow;
use sqlx::Row;
use steward_core::directory::User;

use crate::{conflict_on_unique, Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub created: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token together with the admin it acts for.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub token: ApiToken,
    pub user: User,
}

fn from_row(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        user_id: row.try_get("user_id")?,
        created: row.try_get("created")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// The live token with this hash and its user.
    pub async fn api_token_by_hash(&self, token_hash: &str) -> Result<TokenPrincipal> {
        let row = sqlx::query(
            "SELECT id, name, user_id, created, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let token = from_row(&row)?;
        let user = self.user(&token.user_id).await?;
        Ok(TokenPrincipal { token, user })
    }

    /// The token with this id (live or not), or `NotFound`.
    pub async fn api_token(&self, id: &str) -> Result<ApiToken> {
        if !crate::storable(id) {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(
            "SELECT id, name, user_id, created, expires_at, revoked_at FROM api_tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, name, user_id, created, expires_at, revoked_at FROM api_tokens ORDER BY created, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }
}

impl WriteTx {
    pub async fn insert_api_token(&mut self, token: &ApiToken, token_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, user_id, created, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.id)
        .bind(&token.name)
        .bind(token_hash)
        .bind(&token.user_id)
        .bind(token.created)
        .bind(token.expires_at)
        .bind(token.revoked_at)
        .execute(self.conn())
        .await
        .map_err(conflict_on_unique("token"))?;
        Ok(())
    }

    /// Marks a token revoked; returns it.
    pub async fn revoke_api_token(&mut self, id: &str, now: i64) -> Result<ApiToken> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(self.conn())
            .await?;
        let row = sqlx::query(
            "SELECT id, name, user_id, created, expires_at, revoked_at FROM api_tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }
}
