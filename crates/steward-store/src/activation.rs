//! Activation tokens: the links (`/welcome/{token}`) through which a PROVISIONED user sets a
//! password. Only a SHA-256 hash of each token is stored; a token is single use and expires, and
//! a new activation deletes the user's older tokens. Expired rows go with
//! [`WriteTx::purge_expired`].

use sqlx::Row;

use crate::{Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationToken {
    pub user_id: String,
    pub created: i64,
    pub expires: i64,
    pub used_at: Option<i64>,
}

impl ActivationToken {
    /// Whether the link may still be used at `now`.
    pub fn usable(&self, now: i64) -> bool {
        self.used_at.is_none() && now < self.expires
    }
}

impl Store {
    /// The token with this hash, used or not.
    pub async fn activation_token(&self, token_hash: &str) -> Result<ActivationToken> {
        let row = sqlx::query(
            "SELECT user_id, created, expires, used_at FROM activation_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(ActivationToken {
            user_id: row.try_get("user_id")?,
            created: row.try_get("created")?,
            expires: row.try_get("expires")?,
            used_at: row.try_get("used_at")?,
        })
    }
}

impl WriteTx {
    /// Deletes every activation token of a user: a new activation supersedes older links, and a
    /// user who is deactivated keeps none.
    pub async fn delete_activation_tokens(&mut self, user_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM activation_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Stores a new token (its hash) in place of the user's older ones.
    pub async fn replace_activation_token(
        &mut self,
        token_hash: &str,
        token: &ActivationToken,
    ) -> Result<()> {
        self.delete_activation_tokens(&token.user_id).await?;
        sqlx::query(
            "INSERT INTO activation_tokens (token_hash, user_id, created, expires, used_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(&token.user_id)
        .bind(token.created)
        .bind(token.expires)
        .bind(token.used_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks the token used if it is unused and unexpired at `now`, and returns its user; `None`
    /// when it is unknown, used or expired. The update is conditional, so of two concurrent
    /// uses exactly one wins.
    pub async fn use_activation_token(
        &mut self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<String>> {
        let done = sqlx::query(
            "UPDATE activation_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires > $2",
        )
        .bind(token_hash)
        .bind(now)
        .execute(self.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let user_id =
            sqlx::query_scalar("SELECT user_id FROM activation_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_one(self.conn())
                .await?;
        Ok(Some(user_id))
    }
}
