//! The Admin Console's server-side sessions (`console_sessions`): sign-ins in progress and
//! signed-in sessions, keyed by the SHA-256 of the cookie's value. Expired rows go with
//! [`WriteTx::purge_expired`]; idle expiry is the console's rule (it deletes the row it finds
//! idle).

use sqlx::Row;

use crate::{Result, Store, StoreError, WriteTx};

/// One console session row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// SHA-256 (hex) of the cookie's value.
    pub id_hash: String,
    /// The signed-in user; `None` while the sign-in is in progress.
    pub user_id: Option<String>,
    /// The token every form of this session carries.
    pub csrf_token: String,
    /// The authorization request's `state` (a sign-in in progress).
    pub login_state: Option<String>,
    /// The authorization request's `nonce` (a sign-in in progress).
    pub nonce: Option<String>,
    /// The PKCE verifier of the authorization request (a sign-in in progress).
    pub code_verifier: Option<String>,
    /// The console page to show once signed in.
    pub return_to: Option<String>,
    /// The ID token the sign-in got, the sign-out's `id_token_hint`.
    pub id_token: Option<String>,
    pub created: i64,
    pub last_seen: i64,
    /// Absolute expiry (epoch ms).
    pub expires: i64,
}

const COLUMNS: &str =
    "id_hash, user_id, csrf_token, login_state, nonce, code_verifier, return_to, \
                       id_token, created, last_seen, expires";

impl Store {
    /// The session with this hash that has not reached its absolute expiry at `now`.
    pub async fn console_session(&self, id_hash: &str, now: i64) -> Result<ConsoleSession> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM console_sessions WHERE id_hash = $1 AND expires > $2"
        ))
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(ConsoleSession {
            id_hash: row.try_get("id_hash")?,
            user_id: row.try_get("user_id")?,
            csrf_token: row.try_get("csrf_token")?,
            login_state: row.try_get("login_state")?,
            nonce: row.try_get("nonce")?,
            code_verifier: row.try_get("code_verifier")?,
            return_to: row.try_get("return_to")?,
            id_token: row.try_get("id_token")?,
            created: row.try_get("created")?,
            last_seen: row.try_get("last_seen")?,
            expires: row.try_get("expires")?,
        })
    }
}

impl WriteTx {
    pub async fn insert_console_session(&mut self, s: &ConsoleSession) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO console_sessions ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&s.id_hash)
        .bind(&s.user_id)
        .bind(&s.csrf_token)
        .bind(&s.login_state)
        .bind(&s.nonce)
        .bind(&s.code_verifier)
        .bind(&s.return_to)
        .bind(&s.id_token)
        .bind(s.created)
        .bind(s.last_seen)
        .bind(s.expires)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Records that the session was used at `now` (its idle expiry starts again).
    pub async fn touch_console_session(&mut self, id_hash: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE console_sessions SET last_seen = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Deletes the session; whether there was one.
    pub async fn delete_console_session(&mut self, id_hash: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.conn())
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }
}
