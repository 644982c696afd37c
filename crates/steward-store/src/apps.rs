//! Applications and their user and group assignments.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;
use steward_core::apps::{App, OidcClient};
use steward_core::filter::sql::{Column, ColumnKind};
use steward_core::filter::Filter;

use crate::listing::Listing;
use crate::{
    check_cursor, check_storable_object, clamp_limit, conflict_on_unique, json_object, storable,
    storable_json, Result, Store, StoreError, WriteTx,
};

pub(crate) const COLUMNS: &str =
    "id, name, label, status, sign_on_mode, created, last_updated, client_id, oidc";

#[derive(Debug, Default, Clone)]
pub struct AppQuery {
    /// Prefix match on label or name.
    pub q: Option<String>,
    pub filter: Option<Filter>,
    pub after: Option<String>,
    pub limit: usize,
}

/// A user's assignment to an app, direct (`USER`) or through a group (`GROUP`).
#[derive(Debug, Clone, PartialEq)]
pub struct AppUserAssignment {
    pub app_id: String,
    pub user_id: String,
    pub scope: String,
    pub profile: serde_json::Map<String, Value>,
    pub created: i64,
    pub last_updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppGroupAssignment {
    pub app_id: String,
    pub group_id: String,
    pub priority: i64,
    pub profile: serde_json::Map<String, Value>,
    pub created: i64,
    pub last_updated: i64,
}

fn app_column(attr: &str) -> Option<Column> {
    let plain = |expr: &str, kind| {
        Some(Column::Plain {
            expr: expr.into(),
            kind,
        })
    };
    match attr {
        "id" => plain("id", ColumnKind::Text),
        "status" => plain("status", ColumnKind::Text),
        "name" => plain("name", ColumnKind::Text),
        "label" => plain("label", ColumnKind::TextCi),
        "signOnMode" => plain("sign_on_mode", ColumnKind::Text),
        "credentials.oauthClient.client_id" | "client_id" => plain("client_id", ColumnKind::Text),
        "created" => plain("created", ColumnKind::TimestampMillis),
        "lastUpdated" => plain("last_updated", ColumnKind::TimestampMillis),
        _ => None,
    }
}

pub(crate) fn from_row(row: &AnyRow) -> Result<App> {
    let oidc: Option<String> = row.try_get("oidc")?;
    let oidc = match oidc {
        Some(text) => Some(
            serde_json::from_str::<OidcClient>(&text)
                .map_err(|e| StoreError::Corrupt(format!("oidc settings: {e}")))?,
        ),
        None => None,
    };
    Ok(App {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        label: row.try_get("label")?,
        status: row.try_get("status")?,
        sign_on_mode: row.try_get("sign_on_mode")?,
        created: row.try_get("created")?,
        last_updated: row.try_get("last_updated")?,
        client_id: row.try_get("client_id")?,
        oidc,
    })
}

/// Refuses an app with a string that cannot be stored (NUL), naming the field.
fn check_app(app: &App) -> Result<()> {
    let fields = [
        ("name", Some(app.name.as_str())),
        ("label", Some(app.label.as_str())),
        ("status", Some(app.status.as_str())),
        ("signOnMode", Some(app.sign_on_mode.as_str())),
        (
            "credentials.oauthClient.client_id",
            app.client_id.as_deref(),
        ),
    ];
    if let Some((field, _)) = fields.iter().find(|(_, v)| v.is_some_and(|v| !storable(v))) {
        return Err(StoreError::InvalidValue((*field).into()));
    }
    if let Some(oidc) = &app.oidc {
        let value = serde_json::to_value(oidc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Value::Object(map) = &value {
            check_storable_object("settings.oauthClient.", map)?;
        } else if !storable_json(&value) {
            return Err(StoreError::InvalidValue("settings.oauthClient".into()));
        }
    }
    Ok(())
}

fn oidc_text(app: &App) -> Result<Option<String>> {
    app.oidc
        .as_ref()
        .map(|o| serde_json::to_string(o).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

impl Store {
    pub async fn app(&self, id: &str) -> Result<App> {
        if !storable(id) {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM apps WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The apps of `ids` that exist, in one query (in no particular order).
    pub async fn apps_by_ids(&self, ids: &[String]) -> Result<Vec<App>> {
        crate::rows_by_ids(self, "apps", COLUMNS, ids, from_row).await
    }

    pub async fn app_by_client_id(&self, client_id: &str) -> Result<App> {
        if !storable(client_id) {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM apps WHERE client_id = $1"))
            .bind(client_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn apps(&self, query: &AppQuery) -> Result<Vec<App>> {
        let rows = Listing::default()
            .after(query.after.as_deref())
            .prefix(query.q.as_deref(), &["lower(label)", "lower(name)"])
            .filter(self, query.filter.as_ref(), &app_column)?
            .fetch(self, "apps", COLUMNS, query.limit)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Users assigned to an app, directly or through a group, ordered by user id.
    pub async fn app_users(
        &self,
        app_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AppUserAssignment>> {
        check_cursor(after)?;
        if !storable(app_id) {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT user_id, scope, profile, created, last_updated FROM app_user_assignments \
               WHERE app_id = $1 AND user_id > $2 \
             UNION ALL \
             SELECT m.user_id, 'GROUP', '{{}}', MIN(ag.created), MAX(ag.last_updated) \
               FROM app_group_assignments ag JOIN group_members m ON m.group_id = ag.group_id \
               WHERE ag.app_id = $1 AND m.user_id > $2 AND m.user_id NOT IN \
                 (SELECT user_id FROM app_user_assignments WHERE app_id = $1) \
               GROUP BY m.user_id \
             ORDER BY 1 LIMIT {}",
            clamp_limit(limit)
        );
        let rows = sqlx::query(&sql)
            .bind(app_id)
            .bind(after.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AppUserAssignment {
                    app_id: app_id.to_string(),
                    user_id: row.try_get(0)?,
                    scope: row.try_get(1)?,
                    profile: json_object(&row.try_get::<String, _>(2)?)?,
                    created: row.try_get(3)?,
                    last_updated: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// The user's assignment to the app, if any (direct first, then through a group).
    pub async fn app_user(&self, app_id: &str, user_id: &str) -> Result<AppUserAssignment> {
        if !storable(app_id) || !storable(user_id) {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(
            "SELECT user_id, scope, profile, created, last_updated FROM app_user_assignments \
               WHERE app_id = $1 AND user_id = $2 \
             UNION ALL \
             SELECT m.user_id, 'GROUP', '{}', MIN(ag.created), MAX(ag.last_updated) \
               FROM app_group_assignments ag JOIN group_members m ON m.group_id = ag.group_id \
               WHERE ag.app_id = $1 AND m.user_id = $2 GROUP BY m.user_id",
        )
        .bind(app_id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(AppUserAssignment {
            app_id: app_id.to_string(),
            user_id: row.try_get(0)?,
            scope: row.try_get(1)?,
            profile: json_object(&row.try_get::<String, _>(2)?)?,
            created: row.try_get(3)?,
            last_updated: row.try_get(4)?,
        })
    }

    pub async fn app_groups(
        &self,
        app_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AppGroupAssignment>> {
        check_cursor(after)?;
        if !storable(app_id) {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT group_id, priority, profile, created, last_updated FROM app_group_assignments \
             WHERE app_id = $1 AND group_id > $2 ORDER BY group_id LIMIT {}",
            clamp_limit(limit)
        );
        let rows = sqlx::query(&sql)
            .bind(app_id)
            .bind(after.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| group_assignment(app_id, row))
            .collect()
    }

    pub async fn app_group(&self, app_id: &str, group_id: &str) -> Result<AppGroupAssignment> {
        if !storable(app_id) || !storable(group_id) {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(
            "SELECT group_id, priority, profile, created, last_updated FROM app_group_assignments \
             WHERE app_id = $1 AND group_id = $2",
        )
        .bind(app_id)
        .bind(group_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        group_assignment(app_id, &row)
    }
}

fn group_assignment(app_id: &str, row: &AnyRow) -> Result<AppGroupAssignment> {
    Ok(AppGroupAssignment {
        app_id: app_id.to_string(),
        group_id: row.try_get(0)?,
        priority: row.try_get(1)?,
        profile: json_object(&row.try_get::<String, _>(2)?)?,
        created: row.try_get(3)?,
        last_updated: row.try_get(4)?,
    })
}

impl WriteTx {
    pub async fn insert_app(&mut self, app: &App) -> Result<()> {
        check_app(app)?;
        sqlx::query(&format!(
            "INSERT INTO apps ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&app.id)
        .bind(&app.name)
        .bind(&app.label)
        .bind(&app.status)
        .bind(&app.sign_on_mode)
        .bind(app.created)
        .bind(app.last_updated)
        .bind(&app.client_id)
        .bind(oidc_text(app)?)
        .execute(self.conn())
        .await
        .map_err(conflict_on_unique("client_id"))?;
        Ok(())
    }

    pub async fn update_app(&mut self, app: &App) -> Result<()> {
        check_app(app)?;
        let done = sqlx::query(
            "UPDATE apps SET name = $2, label = $3, status = $4, sign_on_mode = $5, last_updated = $6, \
             client_id = $7, oidc = $8 WHERE id = $1",
        )
        .bind(&app.id)
        .bind(&app.name)
        .bind(&app.label)
        .bind(&app.status)
        .bind(&app.sign_on_mode)
        .bind(app.last_updated)
        .bind(&app.client_id)
        .bind(oidc_text(app)?)
        .execute(self.conn())
        .await
        .map_err(conflict_on_unique("client_id"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn delete_app(&mut self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM apps WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "DELETE FROM role_assignments WHERE principal_type = 'CLIENT' AND principal_id = $1",
        )
        .bind(id)
        .execute(self.conn())
        .await?;
        self.forget_resource_owners_of(id).await
    }

    /// Creates or replaces a direct user assignment. An app or user that does not exist (deleted
    /// since the caller looked it up) is [`StoreError::NotFound`].
    pub async fn upsert_app_user(&mut self, a: &AppUserAssignment) -> Result<()> {
        if !storable(&a.app_id) || !storable(&a.user_id) {
            return Err(StoreError::NotFound);
        }
        check_storable_object("profile.", &a.profile)?;
        sqlx::query("DELETE FROM app_user_assignments WHERE app_id = $1 AND user_id = $2")
            .bind(&a.app_id)
            .bind(&a.user_id)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "INSERT INTO app_user_assignments (app_id, user_id, scope, profile, created, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&a.app_id)
        .bind(&a.user_id)
        .bind(&a.scope)
        .bind(Value::Object(a.profile.clone()).to_string())
        .bind(a.created)
        .bind(a.last_updated)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Whether the user is assigned to the app, directly or through a group, as `/authorize`
    /// asks ([`Store::app_user`]), read inside the transaction. On PostgreSQL the assignment
    /// found stays locked (`FOR SHARE`) until the transaction ends: an unassignment deleting it
    /// waits, then revokes what this transaction issued; one that deleted it first makes this
    /// read wait and find nothing. Read it before taking any token row, which that unassignment
    /// will update. (SQLite has one writer: transactions never interleave.)
    pub async fn is_assigned(&mut self, app_id: &str, user_id: &str) -> Result<bool> {
        if !storable(app_id) || !storable(user_id) {
            return Ok(false);
        }
        let lock = if self.is_postgres() { " FOR SHARE" } else { "" };
        for sql in [
            "SELECT 1 FROM app_user_assignments WHERE app_id = $1 AND user_id = $2",
            "SELECT 1 FROM group_members m JOIN app_group_assignments g ON g.group_id = m.group_id \
             WHERE g.app_id = $1 AND m.user_id = $2 LIMIT 1",
        ] {
            let found = sqlx::query(&format!("{sql}{lock}"))
                .bind(app_id)
                .bind(user_id)
                .fetch_optional(self.conn())
                .await?;
            if found.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub async fn delete_app_user(&mut self, app_id: &str, user_id: &str) -> Result<()> {
        if !storable(app_id) || !storable(user_id) {
            return Err(StoreError::NotFound);
        }
        let done =
            sqlx::query("DELETE FROM app_user_assignments WHERE app_id = $1 AND user_id = $2")
                .bind(app_id)
                .bind(user_id)
                .execute(self.conn())
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Creates or replaces a group assignment. An app or group that does not exist (deleted
    /// since the caller looked it up) is [`StoreError::NotFound`].
    pub async fn upsert_app_group(&mut self, a: &AppGroupAssignment) -> Result<()> {
        if !storable(&a.app_id) || !storable(&a.group_id) {
            return Err(StoreError::NotFound);
        }
        check_storable_object("profile.", &a.profile)?;
        sqlx::query("DELETE FROM app_group_assignments WHERE app_id = $1 AND group_id = $2")
            .bind(&a.app_id)
            .bind(&a.group_id)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "INSERT INTO app_group_assignments (app_id, group_id, priority, profile, created, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&a.app_id)
        .bind(&a.group_id)
        .bind(a.priority)
        .bind(Value::Object(a.profile.clone()).to_string())
        .bind(a.created)
        .bind(a.last_updated)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn delete_app_group(&mut self, app_id: &str, group_id: &str) -> Result<()> {
        if !storable(app_id) || !storable(group_id) {
            return Err(StoreError::NotFound);
        }
        let done =
            sqlx::query("DELETE FROM app_group_assignments WHERE app_id = $1 AND group_id = $2")
                .bind(app_id)
                .bind(group_id)
                .execute(self.conn())
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
