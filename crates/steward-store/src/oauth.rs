//! The authorization server's state: sealed signing keys, app scope grants, sign-in sessions,
//! single-use authorization codes, refresh-token families, issued access tokens (so they can be
//! revoked) and replay caches for assertion and DPoP `jti`s. Secrets are stored only as hashes.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::JsonCol::{Int, Text};
use crate::{json_rows, to_json, Result, Store, StoreError, WriteTx};

/// A signing key as stored: the private key sealed (AES-256-GCM) under the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredKey {
    pub kid: String,
    /// ACTIVE, NEXT or RETIRED.
    pub status: String,
    pub created: i64,
    pub retired: Option<i64>,
    pub n: String,
    pub e: String,
    pub private_sealed: String,
}

/// An Okta API scope granted to an app (`OAuth2ScopeConsentGrant`).
#[derive(Debug, Clone, PartialEq)]
pub struct AppGrant {
    pub id: String,
    pub app_id: String,
    pub issuer: String,
    pub scope_id: String,
    /// ACTIVE or REVOKED.
    pub status: String,
    /// ADMIN or END_USER.
    pub source: String,
    pub created_by_id: String,
    pub created_by_type: String,
    pub created: i64,
    pub last_updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user_id: String,
    pub created: i64,
    pub expires: i64,
    pub auth_time: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    /// Space-separated.
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub dpop_jkt: Option<String>,
    pub created: i64,
    pub expires: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    pub token_hash: String,
    /// Every rotation of one grant shares a family; reuse of a rotated token revokes it whole.
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: String,
    pub auth_time: i64,
    pub jkt: Option<String>,
    pub created: i64,
    pub expires: i64,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IssuedToken {
    pub jti: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub family_id: Option<String>,
    pub code_hash: Option<String>,
    pub scopes: String,
    pub created: i64,
    pub expires: i64,
    pub revoked_at: Option<i64>,
}

fn key_from_row(row: &AnyRow) -> Result<StoredKey> {
    Ok(StoredKey {
        kid: row.try_get("kid")?,
        status: row.try_get("status")?,
        created: row.try_get("created")?,
        retired: row.try_get("retired")?,
        n: row.try_get("n")?,
        e: row.try_get("e")?,
        private_sealed: row.try_get("private_sealed")?,
    })
}

fn grant_from_row(row: &AnyRow) -> Result<AppGrant> {
    Ok(AppGrant {
        id: row.try_get("id")?,
        app_id: row.try_get("app_id")?,
        issuer: row.try_get("issuer")?,
        scope_id: row.try_get("scope_id")?,
        status: row.try_get("status")?,
        source: row.try_get("source")?,
        created_by_id: row.try_get("created_by_id")?,
        created_by_type: row.try_get("created_by_type")?,
        created: row.try_get("created")?,
        last_updated: row.try_get("last_updated")?,
    })
}

fn refresh_from_row(row: &AnyRow) -> Result<RefreshToken> {
    Ok(RefreshToken {
        token_hash: row.try_get("token_hash")?,
        family_id: row.try_get("family_id")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        scopes: row.try_get("scopes")?,
        auth_time: row.try_get("auth_time")?,
        jkt: row.try_get("jkt")?,
        created: row.try_get("created")?,
        expires: row.try_get("expires")?,
        rotated_at: row.try_get("rotated_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn issued_from_row(row: &AnyRow) -> Result<IssuedToken> {
    Ok(IssuedToken {
        jti: row.try_get("jti")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        family_id: row.try_get("family_id")?,
        code_hash: row.try_get("code_hash")?,
        scopes: row.try_get("scopes")?,
        created: row.try_get("created")?,
        expires: row.try_get("expires")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const GRANT_COLUMNS: &str = "id, app_id, issuer, scope_id, status, source, created_by_id, created_by_type, created, last_updated";
const REFRESH_COLUMNS: &str =
    "token_hash, family_id, client_id, user_id, scopes, auth_time, jkt, created, expires, rotated_at, revoked_at";
const ISSUED_COLUMNS: &str =
    "jti, client_id, user_id, family_id, code_hash, scopes, created, expires, revoked_at";

impl Store {
    pub async fn signing_keys(&self) -> Result<Vec<StoredKey>> {
        let rows = sqlx::query("SELECT kid, status, created, retired, n, e, private_sealed FROM signing_keys ORDER BY created, kid")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredKey {
                    kid: row.try_get("kid")?,
                    status: row.try_get("status")?,
                    created: row.try_get("created")?,
                    retired: row.try_get("retired")?,
                    n: row.try_get("n")?,
                    e: row.try_get("e")?,
                    private_sealed: row.try_get("private_sealed")?,
                })
            })
            .collect()
    }

    /// The app's grants, ACTIVE and REVOKED, oldest first.
    pub async fn app_grants(&self, app_id: &str) -> Result<Vec<AppGrant>> {
        let rows = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM app_grants WHERE app_id = $1 ORDER BY created, id"
        ))
        .bind(app_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    pub async fn app_grant(&self, app_id: &str, grant_id: &str) -> Result<AppGrant> {
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM app_grants WHERE app_id = $1 AND id = $2"
        ))
        .bind(app_id)
        .bind(grant_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        grant_from_row(&row)
    }

    /// Scope names ACTIVE-granted to the app by `issuer`.
    pub async fn active_granted_scopes(&self, app_id: &str, issuer: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT scope_id FROM app_grants WHERE app_id = $1 AND issuer = $2 AND status = 'ACTIVE' ORDER BY scope_id",
        )
        .bind(app_id)
        .bind(issuer)
        .fetch_all(self.pool())
        .await?)
    }

    /// A live session by the hash of its cookie value.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Session> {
        let row = sqlx::query("SELECT user_id, created, expires, auth_time FROM sessions WHERE id_hash = $1 AND expires > $2")
            .bind(id_hash)
            .bind(now)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Session {
            user_id: row.try_get("user_id")?,
            created: row.try_get("created")?,
            expires: row.try_get("expires")?,
            auth_time: row.try_get("auth_time")?,
        })
    }

    pub async fn refresh_token(&self, token_hash: &str) -> Result<RefreshToken> {
        let row = sqlx::query(&format!(
            "SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        refresh_from_row(&row)
    }

    pub async fn issued_token(&self, jti: &str) -> Result<IssuedToken> {
        let row = sqlx::query(&format!(
            "SELECT {ISSUED_COLUMNS} FROM issued_tokens WHERE jti = $1"
        ))
        .bind(jti)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        issued_from_row(&row)
    }

    /// Access tokens minted from an authorization code.
    pub async fn jtis_of_code(&self, code_hash: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT jti FROM issued_tokens WHERE code_hash = $1 OR family_id IN \
             (SELECT family_id FROM issued_tokens WHERE code_hash = $1 AND family_id IS NOT NULL)",
        )
        .bind(code_hash)
        .fetch_all(self.pool())
        .await?)
    }

    /// Access tokens minted from a refresh-token family.
    pub async fn jtis_of_family(&self, family_id: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT jti FROM issued_tokens WHERE family_id = $1")
                .bind(family_id)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Access tokens revoked after `since` (ms) that have not yet expired, as `(jti, revoked_at,
    /// expires)`: what each node's guard polls to learn of revocations made anywhere.
    pub async fn revoked_since(&self, since: i64, now: i64) -> Result<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT jti, revoked_at, expires FROM issued_tokens WHERE revoked_at > $1 AND expires > $2",
        )
        .bind(since)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("jti")?,
                    r.try_get("revoked_at")?,
                    r.try_get("expires")?,
                ))
            })
            .collect()
    }
}

impl WriteTx {
    pub async fn insert_signing_key(&mut self, key: &StoredKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, status, created, retired, n, e, private_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.kid)
        .bind(&key.status)
        .bind(key.created)
        .bind(key.retired)
        .bind(&key.n)
        .bind(&key.e)
        .bind(&key.private_sealed)
        .execute(self.conn())
        .await
        .map_err(crate::conflict_on_unique("kid"))?;
        Ok(())
    }

    pub async fn update_signing_key_status(
        &mut self,
        kid: &str,
        status: &str,
        retired: Option<i64>,
    ) -> Result<()> {
        sqlx::query("UPDATE signing_keys SET status = $2, retired = $3 WHERE kid = $1")
            .bind(kid)
            .bind(status)
            .bind(retired)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn delete_signing_key(&mut self, kid: &str) -> Result<()> {
        sqlx::query("DELETE FROM signing_keys WHERE kid = $1")
            .bind(kid)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Serialises key rotation across nodes (PostgreSQL); SQLite already has one writer.
    pub async fn lock_signing_keys(&mut self) -> Result<()> {
        if self.is_postgres() {
            sqlx::query("SELECT pg_advisory_xact_lock(7355608)")
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// The stored keys, read inside the transaction (after [`WriteTx::lock_signing_keys`]).
    pub async fn signing_keys(&mut self) -> Result<Vec<StoredKey>> {
        let rows = sqlx::query(
            "SELECT kid, status, created, retired, n, e, private_sealed FROM signing_keys ORDER BY created, kid",
        )
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    pub async fn insert_app_grant(&mut self, g: &AppGrant) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO app_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&g.id)
        .bind(&g.app_id)
        .bind(&g.issuer)
        .bind(&g.scope_id)
        .bind(&g.status)
        .bind(&g.source)
        .bind(&g.created_by_id)
        .bind(&g.created_by_type)
        .bind(g.created)
        .bind(g.last_updated)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn revoke_app_grant(&mut self, grant_id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE app_grants SET status = 'REVOKED', last_updated = $2 WHERE id = $1")
            .bind(grant_id)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The ACTIVE grant of `scope` to the app, if any (read inside the transaction).
    pub async fn active_grant(
        &mut self,
        app_id: &str,
        issuer: &str,
        scope: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM app_grants WHERE app_id = $1 AND issuer = $2 AND scope_id = $3 AND status = 'ACTIVE'",
        )
        .bind(app_id)
        .bind(issuer)
        .bind(scope)
        .fetch_optional(self.conn())
        .await?)
    }

    pub async fn insert_session(&mut self, id_hash: &str, s: &Session) -> Result<()> {
        sqlx::query("INSERT INTO sessions (id_hash, user_id, created, expires, auth_time) VALUES ($1, $2, $3, $4, $5)")
            .bind(id_hash)
            .bind(&s.user_id)
            .bind(s.created)
            .bind(s.expires)
            .bind(s.auth_time)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn delete_session(&mut self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn delete_user_sessions(&mut self, user_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn insert_auth_code(&mut self, c: &AuthCode) -> Result<()> {
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, nonce, \
             auth_time, dpop_jkt, created, expires, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&c.code_hash)
        .bind(&c.client_id)
        .bind(&c.user_id)
        .bind(&c.redirect_uri)
        .bind(&c.scopes)
        .bind(&c.code_challenge)
        .bind(&c.nonce)
        .bind(c.auth_time)
        .bind(&c.dpop_jkt)
        .bind(c.created)
        .bind(c.expires)
        .bind(c.used_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks a code used and returns it as it was before (its `used_at` tells a replay).
    /// The conditional UPDATE makes two concurrent redemptions see one winner.
    pub async fn take_auth_code(&mut self, code_hash: &str, now: i64) -> Result<(AuthCode, bool)> {
        let row = sqlx::query(
            "SELECT code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, nonce, auth_time, dpop_jkt, \
             created, expires, used_at FROM auth_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(self.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        let code = AuthCode {
            code_hash: row.try_get("code_hash")?,
            client_id: row.try_get("client_id")?,
            user_id: row.try_get("user_id")?,
            redirect_uri: row.try_get("redirect_uri")?,
            scopes: row.try_get("scopes")?,
            code_challenge: row.try_get("code_challenge")?,
            nonce: row.try_get("nonce")?,
            auth_time: row.try_get("auth_time")?,
            dpop_jkt: row.try_get("dpop_jkt")?,
            created: row.try_get("created")?,
            expires: row.try_get("expires")?,
            used_at: row.try_get("used_at")?,
        };
        let won = sqlx::query(
            "UPDATE auth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL",
        )
        .bind(code_hash)
        .bind(now)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1;
        Ok((code, won))
    }

    pub async fn insert_refresh_token(&mut self, t: &RefreshToken) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO refresh_tokens ({REFRESH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&t.token_hash)
        .bind(&t.family_id)
        .bind(&t.client_id)
        .bind(&t.user_id)
        .bind(&t.scopes)
        .bind(t.auth_time)
        .bind(&t.jkt)
        .bind(t.created)
        .bind(t.expires)
        .bind(t.rotated_at)
        .bind(t.revoked_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Serialises this transaction with every other one that rotates or revokes the refresh-token
    /// family: a revocation then sees the tokens a concurrent rotation writes, instead of
    /// missing rows committed after its statement began. SQLite has one writer at a time already.
    async fn lock_family(&mut self, family_id: &str) -> Result<()> {
        if self.is_postgres() {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
                .bind(family_id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Marks a refresh token of `family_id` rotated; false when it already was (a reuse) or is
    /// revoked.
    pub async fn rotate_refresh_token(
        &mut self,
        token_hash: &str,
        family_id: &str,
        now: i64,
    ) -> Result<bool> {
        self.lock_family(family_id).await?;
        Ok(sqlx::query("UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL")
            .bind(token_hash)
            .bind(now)
            .execute(self.conn())
            .await?
            .rows_affected()
            == 1)
    }

    /// Revokes every refresh token of a family and every access token minted from it.
    pub async fn revoke_family(&mut self, family_id: &str, now: i64) -> Result<()> {
        self.lock_family(family_id).await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
        )
        .bind(family_id)
        .bind(now)
        .execute(self.conn())
        .await?;
        sqlx::query(
            "UPDATE issued_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
        )
        .bind(family_id)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn revoke_issued_token(&mut self, jti: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE issued_tokens SET revoked_at = $2 WHERE jti = $1 AND revoked_at IS NULL",
        )
        .bind(jti)
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Revokes what a replayed authorization code issued: its access tokens and refresh family.
    pub async fn revoke_by_code(&mut self, code_hash: &str, now: i64) -> Result<()> {
        let families: Vec<Option<String>> =
            sqlx::query_scalar("SELECT family_id FROM issued_tokens WHERE code_hash = $1")
                .bind(code_hash)
                .fetch_all(self.conn())
                .await?;
        sqlx::query(
            "UPDATE issued_tokens SET revoked_at = $2 WHERE code_hash = $1 AND revoked_at IS NULL",
        )
        .bind(code_hash)
        .bind(now)
        .execute(self.conn())
        .await?;
        for family in families.into_iter().flatten() {
            self.revoke_family(&family, now).await?;
        }
        Ok(())
    }

    /// Revokes every token of a user (deactivation) or of a client (app deactivation).
    pub async fn revoke_tokens_of(
        &mut self,
        user_id: Option<&str>,
        client_id: Option<&str>,
        now: i64,
    ) -> Result<()> {
        if let Some(user) = user_id {
            sqlx::query("UPDATE issued_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user)
                .bind(now)
                .execute(self.conn())
                .await?;
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user)
                .bind(now)
                .execute(self.conn())
                .await?;
        }
        if let Some(client) = client_id {
            sqlx::query("UPDATE issued_tokens SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL")
                .bind(client)
                .bind(now)
                .execute(self.conn())
                .await?;
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL")
                .bind(client)
                .bind(now)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Revokes the tokens of every user whose access to an app `removed` may have taken away
    /// and who is no longer assigned to that app, directly or through any group: their refresh
    /// tokens for it and every access token it issued them. Call it after the change, in its
    /// transaction; a user still assigned another way keeps their tokens, so calling it when
    /// nothing was lost revokes nothing. Returns how many tokens it revoked.
    ///
    /// Stamped with the wall clock, whatever clock the caller runs on: every node polls
    /// revocations by `revoked_at` ([`Store::revoked_since`]).
    pub async fn revoke_unassigned_tokens(&mut self, removed: AccessRemoved<'_>) -> Result<u64> {
        // (app_id, client_id, user_id) of each pair the change may have cut.
        let (candidates, first, second) = match removed {
            AccessRemoved::AppUser { app_id, user_id } => (
                "SELECT a.id AS app_id, a.client_id, $2 AS user_id FROM apps a WHERE a.id = $1",
                app_id,
                user_id,
            ),
            AccessRemoved::AppGroup { app_id, group_id } => (
                "SELECT a.id AS app_id, a.client_id, m.user_id FROM apps a \
                 JOIN group_members m ON m.group_id = $2 WHERE a.id = $1",
                app_id,
                group_id,
            ),
            AccessRemoved::GroupMember { group_id, user_id } => (
                "SELECT a.id AS app_id, a.client_id, $2 AS user_id FROM app_group_assignments g \
                 JOIN apps a ON a.id = g.app_id WHERE g.group_id = $1",
                group_id,
                user_id,
            ),
        };
        // The same test as `/authorize`'s (`Store::app_user`): a direct or a group assignment.
        let lost = format!(
            "SELECT c.user_id, c.client_id FROM ({candidates}) c \
             WHERE c.client_id IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM app_user_assignments d \
                 WHERE d.app_id = c.app_id AND d.user_id = c.user_id) \
               AND NOT EXISTS (SELECT 1 FROM group_members m2 \
                 JOIN app_group_assignments g2 ON g2.group_id = m2.group_id \
                 WHERE m2.user_id = c.user_id AND g2.app_id = c.app_id)"
        );
        let now = steward_core::timefmt::now_millis();
        let mut revoked = 0;
        // `user_id IS NOT NULL` lets both databases use the partial index on issued tokens.
        for table in ["refresh_tokens", "issued_tokens"] {
            revoked += sqlx::query(&format!(
                "UPDATE {table} SET revoked_at = $3 WHERE revoked_at IS NULL \
                 AND user_id IS NOT NULL AND (user_id, client_id) IN ({lost})"
            ))
            .bind(first)
            .bind(second)
            .bind(now)
            .execute(self.conn())
            .await?
            .rows_affected();
        }
        Ok(revoked)
    }

    /// Records a one-time `jti` (client assertion, DPoP proof); false when it was seen before.
    /// Expired entries are purged by [`WriteTx::purge_expired`], not here: this runs on every
    /// token request.
    pub async fn use_jti(&mut self, kind: &str, jti: &str, expires: i64) -> Result<bool> {
        // ON CONFLICT keeps the transaction usable on PostgreSQL, where a failed INSERT would
        // abort it.
        let inserted = sqlx::query(
            "INSERT INTO used_jtis (kind, jti, expires) VALUES ($1, $2, $3) ON CONFLICT (kind, jti) DO NOTHING",
        )
        .bind(kind)
        .bind(jti)
        .bind(expires)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Deletes what has expired: replay-cache entries, codes, sessions (the console's too), refresh tokens,
    /// activation links, and access-token records an hour after their tokens expired.
    pub async fn purge_expired(&mut self, now: i64) -> Result<()> {
        for (sql, cutoff) in [
            ("DELETE FROM used_jtis WHERE expires < $1", now),
            ("DELETE FROM auth_codes WHERE expires < $1", now - 3_600_000),
            ("DELETE FROM sessions WHERE expires < $1", now),
            ("DELETE FROM console_sessions WHERE expires < $1", now),
            ("DELETE FROM refresh_tokens WHERE expires < $1", now),
            ("DELETE FROM activation_tokens WHERE expires < $1", now),
            (
                "DELETE FROM issued_tokens WHERE expires < $1",
                now - 3_600_000,
            ),
        ] {
            sqlx::query(sql).bind(cutoff).execute(self.conn()).await?;
        }
        Ok(())
    }
}

/// A change after which users may no longer be assigned to an app, for
/// [`WriteTx::revoke_unassigned_tokens`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessRemoved<'a> {
    /// The user's direct assignment to the app was deleted.
    AppUser { app_id: &'a str, user_id: &'a str },
    /// The group's assignment to the app was deleted: each member may have lost the app.
    AppGroup { app_id: &'a str, group_id: &'a str },
    /// The user left the group: they may have lost each app assigned to it.
    GroupMember { group_id: &'a str, user_id: &'a str },
}

/// Everything one token response writes: its one-time `jti`s (client assertion, DPoP proof),
/// its refresh token, its access-token record and its System Log event. A refused request
/// writes only its event (`issued: None`), through the same group commit.
#[derive(Debug, Clone)]
pub struct IssueRecord {
    /// (kind, key, expires ms) of each one-time value the request used.
    pub replays: Vec<(&'static str, String, i64)>,
    pub refresh: Option<RefreshToken>,
    pub issued: Option<IssuedToken>,
    pub log: steward_core::syslog::LogEvent,
}

/// What became of one [`IssueRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOutcome {
    Written,
    /// A one-time value of this kind (`client_assertion`, `dpop`) was used before.
    Replayed(&'static str),
}

impl WriteTx {
    /// Writes a batch of token issues with a handful of statements, whatever the batch's size.
    /// Returns, per record, whether it was written: [`IssueOutcome::Replayed`] names the kind
    /// of a `jti` used before (earlier in the batch or in the store), and then nothing of that
    /// record is written.
    pub async fn record_issues(&mut self, records: &[IssueRecord]) -> Result<Vec<IssueOutcome>> {
        use std::collections::HashSet;
        // A key claimed twice within the batch belongs to the first record that claims it.
        let mut claimed: HashSet<(&str, &str)> = HashSet::new();
        let mut outcomes: Vec<IssueOutcome> = records
            .iter()
            .map(|r| {
                for (kind, jti, _) in &r.replays {
                    if !claimed.insert((kind, jti.as_str())) {
                        return IssueOutcome::Replayed(kind);
                    }
                }
                IssueOutcome::Written
            })
            .collect();
        let wanted: Vec<&(&'static str, String, i64)> = records
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| **o == IssueOutcome::Written)
            .flat_map(|(r, _)| r.replays.iter())
            .collect();
        let mut inserted: HashSet<(String, String)> = HashSet::new();
        if !wanted.is_empty() {
            let sql = format!(
                "INSERT INTO used_jtis (kind, jti, expires) {} \
                 ON CONFLICT (kind, jti) DO NOTHING RETURNING kind, jti",
                json_rows(self.is_postgres(), &[Text, Text, Int])
            );
            let rows: Vec<_> = wanted.iter().map(|(k, j, e)| (k, j, e)).collect();
            for row in sqlx::query(&sql)
                .bind(to_json(&rows)?)
                .fetch_all(self.conn())
                .await?
            {
                inserted.insert((row.try_get("kind")?, row.try_get("jti")?));
            }
        }
        for (record, outcome) in records.iter().zip(outcomes.iter_mut()) {
            if *outcome != IssueOutcome::Written {
                continue;
            }
            let used_before = record
                .replays
                .iter()
                .find(|(k, j, _)| !inserted.contains(&(k.to_string(), j.clone())));
            let Some((kind, _, _)) = used_before else {
                continue;
            };
            *outcome = IssueOutcome::Replayed(kind);
            // Some of its keys were new: take them back, so a refused request writes nothing.
            for (kind, jti, _) in &record.replays {
                if inserted.contains(&(kind.to_string(), jti.clone())) {
                    sqlx::query("DELETE FROM used_jtis WHERE kind = $1 AND jti = $2")
                        .bind(*kind)
                        .bind(jti)
                        .execute(self.conn())
                        .await?;
                }
            }
        }
        let written: Vec<&IssueRecord> = records
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| **o == IssueOutcome::Written)
            .map(|(r, _)| r)
            .collect();
        for record in &written {
            if let Some(refresh) = &record.refresh {
                self.insert_refresh_token(refresh).await?;
            }
        }
        let tokens: Vec<&IssuedToken> = written.iter().filter_map(|r| r.issued.as_ref()).collect();
        if !tokens.is_empty() {
            self.insert_issued_tokens(&tokens).await?;
        }
        let events: Vec<&steward_core::syslog::LogEvent> = written.iter().map(|r| &r.log).collect();
        self.append_logs(&events).await?;
        Ok(outcomes)
    }

    async fn insert_issued_tokens(&mut self, tokens: &[&IssuedToken]) -> Result<()> {
        let sql = format!(
            "INSERT INTO issued_tokens ({ISSUED_COLUMNS}) {}",
            json_rows(
                self.is_postgres(),
                &[Text, Text, Text, Text, Text, Text, Int, Int, Int]
            )
        );
        let rows: Vec<_> = tokens
            .iter()
            .map(|t| {
                (
                    &t.jti,
                    &t.client_id,
                    &t.user_id,
                    &t.family_id,
                    &t.code_hash,
                    &t.scopes,
                    t.created,
                    t.expires,
                    t.revoked_at,
                )
            })
            .collect();
        sqlx::query(&sql)
            .bind(to_json(&rows)?)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
