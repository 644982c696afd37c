//! Users: rows, lists with `q` / `filter` / `search`, and lifecycle writes.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;
use steward_core::directory::{User, UserStatus};
use steward_core::filter::sql::{Column, ColumnKind, SqlValue};
use steward_core::filter::Filter;

use crate::listing::Listing;
use crate::{
    conflict_on_unique, json_object, AppUserAssignment, Result, Store, StoreError, WriteTx,
};

const COLUMNS: &str = "id, status, created, activated, status_changed, last_login, last_updated, \
                       password_changed, profile, password_hash";

/// What a user list asks for. `filter` and `search` are parsed SCIM expressions.
#[derive(Debug, Default, Clone)]
pub struct UserQuery {
    /// Prefix match on first name, last name, email or login.
    pub q: Option<String>,
    pub filter: Option<Filter>,
    /// Include DEPROVISIONED users (Okta hides them unless a filter or search names a status).
    pub include_deprovisioned: bool,
    /// Cursor: the last id of the previous page.
    pub after: Option<String>,
    pub limit: usize,
}

/// Maps filter attributes of a user to columns.
fn user_column(attr: &str) -> Option<Column> {
    let plain = |expr: &str, kind| {
        Some(Column::Plain {
            expr: expr.into(),
            kind,
        })
    };
    match attr {
        "id" => plain("id", ColumnKind::Text),
        "status" => plain("status", ColumnKind::Text),
        "created" => plain("created", ColumnKind::TimestampMillis),
        "activated" => plain("activated", ColumnKind::TimestampMillis),
        "statusChanged" => plain("status_changed", ColumnKind::TimestampMillis),
        "lastUpdated" => plain("last_updated", ColumnKind::TimestampMillis),
        "lastLogin" => plain("last_login", ColumnKind::TimestampMillis),
        "passwordChanged" => plain("password_changed", ColumnKind::TimestampMillis),
        "profile.login" => plain("login", ColumnKind::TextCi),
        "profile.email" => plain("email", ColumnKind::TextCi),
        "profile.firstName" => plain("first_name", ColumnKind::TextCi),
        "profile.lastName" => plain("last_name", ColumnKind::TextCi),
        "type.id" => None,
        other => {
            let key = other.strip_prefix("profile.")?;
            Some(Column::JsonText {
                column: "profile".into(),
                key: key.into(),
            })
        }
    }
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User> {
    let status: String = row.try_get("status")?;
    Ok(User {
        id: row.try_get("id")?,
        status: UserStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("user status {status}")))?,
        created: row.try_get("created")?,
        activated: row.try_get("activated")?,
        status_changed: row.try_get("status_changed")?,
        last_login: row.try_get("last_login")?,
        last_updated: row.try_get("last_updated")?,
        password_changed: row.try_get("password_changed")?,
        profile: json_object(&row.try_get::<String, _>("profile")?)?,
        password_hash: row.try_get("password_hash")?,
    })
}

fn text(user: &User, key: &str) -> Option<String> {
    user.profile
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: Vec<SqlValue>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        query = match b {
            SqlValue::Text(s) => query.bind(s),
            SqlValue::Int(i) => query.bind(i),
            SqlValue::Float(f) => query.bind(f),
        };
    }
    query
}

impl Store {
    pub async fn user(&self, id: &str) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    /// The users among `ids` that exist (in no particular order), in one query.
    pub async fn users_by_ids(&self, ids: &[String]) -> Result<Vec<User>> {
        crate::rows_by_ids(self, "users", COLUMNS, ids, user_from_row).await
    }

    pub async fn user_by_login(&self, login: &str) -> Result<User> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM users WHERE login_lower = $1"
        ))
        .bind(login.to_lowercase())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    /// A page of users ordered by id, starting after `query.after`.
    pub async fn users(&self, query: &UserQuery) -> Result<Vec<User>> {
        let rows = Listing::default()
            .after(query.after.as_deref())
            .prefix(
                query.q.as_deref(),
                &[
                    "lower(first_name)",
                    "lower(last_name)",
                    "lower(email)",
                    "login_lower",
                ],
            )
            .filter(self, query.filter.as_ref(), &user_column)?
            .when(!query.include_deprovisioned, "status <> 'DEPROVISIONED'")
            .fetch(self, "users", COLUMNS, query.limit)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }

    /// Failed sign-in bookkeeping: (failed attempts, locked until).
    pub async fn user_lockout(&self, id: &str) -> Result<(i64, Option<i64>)> {
        let row = sqlx::query("SELECT failed_logins, locked_until FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((row.try_get("failed_logins")?, row.try_get("locked_until")?))
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl WriteTx {
    pub async fn insert_user(&mut self, user: &User) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, login, login_lower, email, first_name, last_name, status, created, \
             activated, status_changed, last_login, last_updated, password_changed, profile, password_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&user.id)
        .bind(user.login())
        .bind(user.login().to_lowercase())
        .bind(text(user, "email"))
        .bind(text(user, "firstName"))
        .bind(text(user, "lastName"))
        .bind(user.status.as_str())
        .bind(user.created)
        .bind(user.activated)
        .bind(user.status_changed)
        .bind(user.last_login)
        .bind(user.last_updated)
        .bind(user.password_changed)
        .bind(Value::Object(user.profile.clone()).to_string())
        .bind(&user.password_hash)
        .execute(self.conn())
        .await
        .map_err(conflict_on_unique("login"))?;
        Ok(())
    }

    /// Writes every mutable field of `user` back.
    pub async fn update_user(&mut self, user: &User) -> Result<()> {
        let done = sqlx::query(
            "UPDATE users SET login = $2, login_lower = $3, email = $4, first_name = $5, last_name = $6, \
             status = $7, activated = $8, status_changed = $9, last_login = $10, last_updated = $11, \
             password_changed = $12, profile = $13, password_hash = $14 WHERE id = $1",
        )
        .bind(&user.id)
        .bind(user.login())
        .bind(user.login().to_lowercase())
        .bind(text(user, "email"))
        .bind(text(user, "firstName"))
        .bind(text(user, "lastName"))
        .bind(user.status.as_str())
        .bind(user.activated)
        .bind(user.status_changed)
        .bind(user.last_login)
        .bind(user.last_updated)
        .bind(user.password_changed)
        .bind(Value::Object(user.profile.clone()).to_string())
        .bind(&user.password_hash)
        .execute(self.conn())
        .await
        .map_err(conflict_on_unique("login"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Reads a user inside the transaction, for read-modify-write: on PostgreSQL the row stays
    /// locked (`FOR UPDATE`) until the transaction ends, so a concurrent write to the same user
    /// waits and then reads what this one wrote; SQLite has a single writer already. Write the
    /// change to this fresh copy, never to one read before the transaction began.
    pub async fn user(&mut self, id: &str) -> Result<User> {
        let lock = if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1{lock}"))
            .bind(id)
            .fetch_optional(self.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    /// Failed sign-in bookkeeping read inside the transaction: (failed attempts, locked until).
    /// Read it after [`WriteTx::user`], which holds the row.
    pub async fn user_lockout(&mut self, id: &str) -> Result<(i64, Option<i64>)> {
        let row = sqlx::query("SELECT failed_logins, locked_until FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((row.try_get("failed_logins")?, row.try_get("locked_until")?))
    }

    /// The user's direct assignment to the app (not one through a group), read inside the
    /// transaction and locked on PostgreSQL, so that a re-assignment keeps what it finds.
    pub async fn direct_app_user(
        &mut self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<AppUserAssignment>> {
        let lock = if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT scope, profile, created, last_updated FROM app_user_assignments \
             WHERE app_id = $1 AND user_id = $2{lock}"
        ))
        .bind(app_id)
        .bind(user_id)
        .fetch_optional(self.conn())
        .await?;
        row.map(|row| {
            Ok(AppUserAssignment {
                app_id: app_id.to_string(),
                user_id: user_id.to_string(),
                scope: row.try_get("scope")?,
                profile: json_object(&row.try_get::<String, _>("profile")?)?,
                created: row.try_get("created")?,
                last_updated: row.try_get("last_updated")?,
            })
        })
        .transpose()
    }

    pub async fn delete_user(&mut self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Role assignments name principals by type, without a foreign key.
        sqlx::query(
            "DELETE FROM role_assignments WHERE principal_type = 'USER' AND principal_id = $1",
        )
        .bind(id)
        .execute(self.conn())
        .await?;
        // So do resource owners.
        self.forget_resource_owners_of(id).await
    }

    pub async fn set_user_lockout(
        &mut self,
        id: &str,
        failed: i64,
        locked_until: Option<i64>,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1")
            .bind(id)
            .bind(failed)
            .bind(locked_until)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
