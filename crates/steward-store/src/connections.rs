//! Workflows connections (`flow_connections`, migration 0016): OAuth clients of this org that
//! connector cards call it with. Secrets arrive here sealed; this module never sees them in
//! clear.
//!
//! Two rules live in the SQL: an authorization's `state` is spent once
//! ([`ConnectionsTx::take_pending`] clears it in a conditional `UPDATE`), and one node at a time
//! refreshes a connection's tokens ([`ConnectionsTx::claim_refresh`]: a lease taken by a
//! conditional `UPDATE` on the token version; the tokens it then stores are fenced by the
//! claim), so two nodes never send the same refresh token.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{conflict_on_unique, to_json, Result, Store, StoreError, WriteTx};

/// A connection as stored: the secrets are sealed (`sealed_*`) or hashed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredConnection {
    /// `fcn…`
    pub id: String,
    /// Unique; what a flopack's connection placeholder names.
    pub name: String,
    /// `okta` or `oig`.
    pub connector: String,
    pub app_id: String,
    pub client_id: String,
    /// The org the connection calls (no trailing `/`).
    pub org_url: String,
    /// `authorization_code` or `client_credentials`.
    pub auth_method: String,
    /// The client secret (authorization code connections).
    pub sealed_secret: Option<String>,
    /// The PKCS#8 private key whose public JWK is on the app (client credentials connections).
    pub sealed_private_key: Option<String>,
    /// The `kid` of that key.
    pub key_id: Option<String>,
    pub sealed_access_token: Option<String>,
    pub sealed_refresh_token: Option<String>,
    /// The scopes of the access token, as issued.
    pub token_scopes: Vec<String>,
    /// When the access token expires (epoch ms).
    pub token_expires: Option<i64>,
    /// Who authorized it last (a user id).
    pub authorized_by: Option<String>,
    pub authorized_at: Option<i64>,
    /// `UNAUTHORIZED`, `ACTIVE` or `BROKEN`.
    pub status: String,
    pub last_check: Option<i64>,
    pub last_error: Option<String>,
    /// SHA-256 of the pending authorization's `state`.
    pub pending_state_hash: Option<String>,
    /// The pending authorization's PKCE verifier, sealed.
    pub pending_verifier: Option<String>,
    pub pending_expires: Option<i64>,
    /// Who started the pending authorization.
    pub pending_by: Option<String>,
    /// How many times tokens were stored; a refresh claim names the version it refreshes.
    pub token_version: i64,
    pub refresh_claim: Option<String>,
    pub refresh_claim_until: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

/// New tokens of a connection (all sealed).
#[derive(Debug, Clone, PartialEq)]
pub struct SealedTokens {
    pub sealed_access_token: String,
    /// `None` keeps none (client credentials give no refresh token).
    pub sealed_refresh_token: Option<String>,
    pub scopes: Vec<String>,
    pub expires: i64,
    /// Set on an authorization (who, when); `None` on a refresh keeps the previous ones.
    pub authorized: Option<(String, i64)>,
}

/// Connections, read from the store: `store.connections().by_name(..)`.
pub struct Connections<'a> {
    store: &'a Store,
}

/// Connections, written in a transaction: `tx.connections().insert(..)`.
pub struct ConnectionsTx<'a> {
    tx: &'a mut WriteTx,
}

impl Store {
    /// Workflows connections.
    pub fn connections(&self) -> Connections<'_> {
        Connections { store: self }
    }
}

impl WriteTx {
    /// Workflows connections, written in this transaction.
    pub fn connections(&mut self) -> ConnectionsTx<'_> {
        ConnectionsTx { tx: self }
    }
}

const COLUMNS: &str = "id, name, connector, app_id, client_id, org_url, auth_method, \
    sealed_secret, sealed_private_key, key_id, sealed_access_token, sealed_refresh_token, \
    token_scopes, token_expires, authorized_by, authorized_at, status, last_check, last_error, \
    pending_state_hash, pending_verifier, pending_expires, pending_by, token_version, \
    refresh_claim, refresh_claim_until, created, updated";

fn row_to(row: &AnyRow) -> Result<StoredConnection> {
    let scopes: Option<String> = row.try_get("token_scopes")?;
    let token_scopes = match scopes {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("token_scopes: {e}")))?,
        None => Vec::new(),
    };
    Ok(StoredConnection {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        connector: row.try_get("connector")?,
        app_id: row.try_get("app_id")?,
        client_id: row.try_get("client_id")?,
        org_url: row.try_get("org_url")?,
        auth_method: row.try_get("auth_method")?,
        sealed_secret: row.try_get("sealed_secret")?,
        sealed_private_key: row.try_get("sealed_private_key")?,
        key_id: row.try_get("key_id")?,
        sealed_access_token: row.try_get("sealed_access_token")?,
        sealed_refresh_token: row.try_get("sealed_refresh_token")?,
        token_scopes,
        token_expires: row.try_get("token_expires")?,
        authorized_by: row.try_get("authorized_by")?,
        authorized_at: row.try_get("authorized_at")?,
        status: row.try_get("status")?,
        last_check: row.try_get("last_check")?,
        last_error: row.try_get("last_error")?,
        pending_state_hash: row.try_get("pending_state_hash")?,
        pending_verifier: row.try_get("pending_verifier")?,
        pending_expires: row.try_get("pending_expires")?,
        pending_by: row.try_get("pending_by")?,
        token_version: row.try_get("token_version")?,
        refresh_claim: row.try_get("refresh_claim")?,
        refresh_claim_until: row.try_get("refresh_claim_until")?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

impl Connections<'_> {
    pub async fn get(&self, id: &str) -> Result<StoredConnection> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM flow_connections WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row_to(&row)
    }

    pub async fn by_name(&self, name: &str) -> Result<StoredConnection> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM flow_connections WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        row_to(&row)
    }

    /// Every connection (of one connector, or all), by name.
    pub async fn list(&self, connector: Option<&str>) -> Result<Vec<StoredConnection>> {
        let rows = match connector {
            Some(c) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM flow_connections WHERE connector = $1 ORDER BY name"
                ))
                .bind(c)
                .fetch_all(self.store.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM flow_connections ORDER BY name"
                ))
                .fetch_all(self.store.pool())
                .await?
            }
        };
        rows.iter().map(row_to).collect()
    }
}

impl ConnectionsTx<'_> {
    /// Inserts a connection; [`StoreError::Conflict`] when its name is taken.
    pub async fn insert(&mut self, c: &StoredConnection) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO flow_connections ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, \
             $27, $28)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.connector)
        .bind(&c.app_id)
        .bind(&c.client_id)
        .bind(&c.org_url)
        .bind(&c.auth_method)
        .bind(c.sealed_secret.clone())
        .bind(c.sealed_private_key.clone())
        .bind(c.key_id.clone())
        .bind(c.sealed_access_token.clone())
        .bind(c.sealed_refresh_token.clone())
        .bind(to_json(&c.token_scopes)?)
        .bind(c.token_expires)
        .bind(c.authorized_by.clone())
        .bind(c.authorized_at)
        .bind(&c.status)
        .bind(c.last_check)
        .bind(c.last_error.clone())
        .bind(c.pending_state_hash.clone())
        .bind(c.pending_verifier.clone())
        .bind(c.pending_expires)
        .bind(c.pending_by.clone())
        .bind(c.token_version)
        .bind(c.refresh_claim.clone())
        .bind(c.refresh_claim_until)
        .bind(c.created)
        .bind(c.updated)
        .execute(self.tx.conn())
        .await
        .map_err(conflict_on_unique("name"))?;
        Ok(())
    }

    /// Deletes a connection; the row as it was.
    pub async fn delete(&mut self, id: &str) -> Result<StoredConnection> {
        let row = sqlx::query(&format!(
            "DELETE FROM flow_connections WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .fetch_optional(self.tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        row_to(&row)
    }

    /// Starts an authorization: its `state` hash, sealed PKCE verifier, expiry and who started
    /// it (a previous pending authorization is forgotten).
    pub async fn set_pending(
        &mut self,
        id: &str,
        state_hash: &str,
        sealed_verifier: &str,
        expires: i64,
        by: &str,
        now: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE flow_connections SET pending_state_hash = $2, pending_verifier = $3, \
             pending_expires = $4, pending_by = $5, updated = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(state_hash)
        .bind(sealed_verifier)
        .bind(expires)
        .bind(by)
        .bind(now)
        .execute(self.tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Spends the pending authorization whose `state` hashes to `state_hash`: the connection as
    /// it was (with the pending fields), once. A second call with the same state, or an unknown
    /// one, is [`StoreError::NotFound`]. The caller checks the expiry.
    pub async fn take_pending(&mut self, state_hash: &str) -> Result<StoredConnection> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM flow_connections WHERE pending_state_hash = $1"
        ))
        .bind(state_hash)
        .fetch_optional(self.tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        let found = row_to(&row)?;
        let done = sqlx::query(
            "UPDATE flow_connections SET pending_state_hash = NULL, pending_verifier = NULL, \
             pending_expires = NULL, pending_by = NULL WHERE id = $1 AND pending_state_hash = $2",
        )
        .bind(&found.id)
        .bind(state_hash)
        .execute(self.tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        Ok(found)
    }

    /// Claims the refresh of the tokens at `version` for `claimer` until `until`: `true` for
    /// one caller only while the lease holds and the tokens have not changed since.
    pub async fn claim_refresh(
        &mut self,
        id: &str,
        version: i64,
        claimer: &str,
        now: i64,
        until: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE flow_connections SET refresh_claim = $3, refresh_claim_until = $4 \
             WHERE id = $1 AND token_version = $2 \
             AND (refresh_claim IS NULL OR refresh_claim_until < $5)",
        )
        .bind(id)
        .bind(version)
        .bind(claimer)
        .bind(until)
        .bind(now)
        .execute(self.tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a refresh claim back without new tokens (the refresh failed).
    pub async fn release_claim(&mut self, id: &str, claimer: &str) -> Result<()> {
        sqlx::query(
            "UPDATE flow_connections SET refresh_claim = NULL, refresh_claim_until = NULL \
             WHERE id = $1 AND refresh_claim = $2",
        )
        .bind(id)
        .bind(claimer)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// Stores new tokens (ACTIVE, no error, the next token version, no claim). With `claimer`,
    /// only while that claim holds (`false`, nothing written, when it was lost).
    pub async fn store_tokens(
        &mut self,
        id: &str,
        tokens: &SealedTokens,
        claimer: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let fence = if claimer.is_some() {
            " AND refresh_claim = $9"
        } else {
            ""
        };
        let (by, at) = match &tokens.authorized {
            Some((by, at)) => (Some(by.clone()), Some(*at)),
            None => (None, None),
        };
        let sql = format!(
            "UPDATE flow_connections SET sealed_access_token = $2, sealed_refresh_token = $3, \
             token_scopes = $4, token_expires = $5, \
             authorized_by = COALESCE($6, authorized_by), authorized_at = COALESCE($7, authorized_at), \
             status = 'ACTIVE', last_error = NULL, token_version = token_version + 1, \
             refresh_claim = NULL, refresh_claim_until = NULL, updated = $8 WHERE id = $1{fence}"
        );
        let mut q = sqlx::query(&sql)
            .bind(id)
            .bind(&tokens.sealed_access_token)
            .bind(tokens.sealed_refresh_token.clone())
            .bind(to_json(&tokens.scopes)?)
            .bind(tokens.expires)
            .bind(by)
            .bind(at)
            .bind(now);
        if let Some(c) = claimer {
            q = q.bind(c.to_string());
        }
        let done = q.execute(self.tx.conn()).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a health check (or a failed refresh): the status and the error, if any.
    pub async fn set_check(
        &mut self,
        id: &str,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE flow_connections SET status = $2, last_error = $3, last_check = $4 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(error.map(str::to_string))
        .bind(now)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }
}
