//! Groups and memberships.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;
use steward_core::directory::{Group, User};
use steward_core::filter::sql::{Column, ColumnKind};
use steward_core::filter::Filter;

use crate::listing::Listing;
use crate::oauth::AccessRemoved;
use crate::{
    check_cursor, check_storable_object, clamp_limit, conflict_on_unique, json_object, storable,
    Result, Store, StoreError, WriteTx,
};

const COLUMNS: &str = "id, group_type, created, last_updated, last_membership_updated, profile";

#[derive(Debug, Default, Clone)]
pub struct GroupQuery {
    /// Prefix match on the group name.
    pub q: Option<String>,
    pub filter: Option<Filter>,
    pub after: Option<String>,
    pub limit: usize,
}

fn group_column(attr: &str) -> Option<Column> {
    let plain = |expr: &str, kind| {
        Some(Column::Plain {
            expr: expr.into(),
            kind,
        })
    };
    match attr {
        "id" => plain("id", ColumnKind::Text),
        "type" => plain("group_type", ColumnKind::Text),
        "created" => plain("created", ColumnKind::TimestampMillis),
        "lastUpdated" => plain("last_updated", ColumnKind::TimestampMillis),
        "lastMembershipUpdated" => plain("last_membership_updated", ColumnKind::TimestampMillis),
        "profile.name" => plain("name", ColumnKind::TextCi),
        "profile.description" => plain("description", ColumnKind::TextCi),
        other => {
            let key = other.strip_prefix("profile.")?;
            Some(Column::JsonText {
                column: "profile".into(),
                key: key.into(),
            })
        }
    }
}

fn from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: row.try_get("id")?,
        group_type: row.try_get("group_type")?,
        created: row.try_get("created")?,
        last_updated: row.try_get("last_updated")?,
        last_membership_updated: row.try_get("last_membership_updated")?,
        profile: json_object(&row.try_get::<String, _>("profile")?)?,
    })
}

impl Store {
    pub async fn group(&self, id: &str) -> Result<Group> {
        if !storable(id) {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM okta_groups WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The groups of `ids` that exist, in one query (in no particular order).
    pub async fn groups_by_ids(&self, ids: &[String]) -> Result<Vec<Group>> {
        crate::rows_by_ids(self, "okta_groups", COLUMNS, ids, from_row).await
    }

    pub async fn groups(&self, query: &GroupQuery) -> Result<Vec<Group>> {
        let rows = Listing::default()
            .after(query.after.as_deref())
            .prefix(query.q.as_deref(), &["name_lower"])
            .filter(self, query.filter.as_ref(), &group_column)?
            .fetch(self, "okta_groups", COLUMNS, query.limit)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Members of a group, ordered by user id, after a cursor.
    pub async fn group_members(
        &self,
        group_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<User>> {
        check_cursor(after)?;
        if !storable(group_id) {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT u.id, u.status, u.created, u.activated, u.status_changed, u.last_login, u.last_updated, \
             u.password_changed, u.profile, u.password_hash FROM group_members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = $1 AND u.id > $2 ORDER BY u.id LIMIT {}",
            clamp_limit(limit)
        );
        let rows = sqlx::query(&sql)
            .bind(group_id)
            .bind(after.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(crate::users::user_from_row).collect()
    }

    /// Groups a user belongs to.
    pub async fn user_groups(&self, user_id: &str) -> Result<Vec<Group>> {
        if !storable(user_id) {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT g.id, g.group_type, g.created, g.last_updated, g.last_membership_updated, g.profile \
             FROM group_members m JOIN okta_groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The built-in Everyone group (created at bootstrap).
    pub async fn everyone_group(&self) -> Result<Group> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM okta_groups WHERE group_type = 'BUILT_IN' AND name_lower = 'everyone'"
        ))
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn is_member(&self, group_id: &str, user_id: &str) -> Result<bool> {
        if !storable(group_id) || !storable(user_id) {
            return Ok(false);
        }
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND user_id = $2",
        )
        .bind(group_id)
        .bind(user_id)
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }
}

impl WriteTx {
    pub async fn insert_group(&mut self, group: &Group) -> Result<()> {
        check_storable_object("", &group.profile)?;
        sqlx::query(
            "INSERT INTO okta_groups (id, name, name_lower, description, created, last_updated, \
             last_membership_updated, profile, group_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&group.id)
        .bind(group.name())
        .bind(group.name().to_lowercase())
        .bind(
            group
                .profile
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        )
        .bind(group.created)
        .bind(group.last_updated)
        .bind(group.last_membership_updated)
        .bind(Value::Object(group.profile.clone()).to_string())
        .bind(&group.group_type)
        .execute(self.conn())
        .await
        .map_err(conflict_on_unique("name"))?;
        Ok(())
    }

    pub async fn update_group(&mut self, group: &Group) -> Result<()> {
        check_storable_object("", &group.profile)?;
        let done = sqlx::query(
            "UPDATE okta_groups SET name = $2, name_lower = $3, description = $4, last_updated = $5, \
             last_membership_updated = $6, profile = $7 WHERE id = $1",
        )
        .bind(&group.id)
        .bind(group.name())
        .bind(group.name().to_lowercase())
        .bind(group.profile.get("description").and_then(Value::as_str).map(str::to_string))
        .bind(group.last_updated)
        .bind(group.last_membership_updated)
        .bind(Value::Object(group.profile.clone()).to_string())
        .execute(self.conn())
        .await
        .map_err(conflict_on_unique("name"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Deletes a group. Its app assignments go first, each revoking the tokens of the members
    /// it leaves unassigned ([`WriteTx::revoke_unassigned_tokens`]): deleting the group itself
    /// would take the memberships that say whose they are.
    pub async fn delete_group(&mut self, id: &str) -> Result<()> {
        let apps: Vec<String> = sqlx::query_scalar(
            "DELETE FROM app_group_assignments WHERE group_id = $1 RETURNING app_id",
        )
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        for app_id in &apps {
            self.revoke_unassigned_tokens(AccessRemoved::AppGroup {
                app_id,
                group_id: id,
            })
            .await?;
        }
        let done = sqlx::query("DELETE FROM okta_groups WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.forget_resource_owners_of(id).await
    }

    /// Adds a member; returns false when they already were one. A group or user that does not
    /// exist (deleted since the caller looked it up) is [`StoreError::NotFound`].
    pub async fn add_member(&mut self, group_id: &str, user_id: &str, now: i64) -> Result<bool> {
        if !storable(group_id) || !storable(user_id) {
            return Err(StoreError::NotFound);
        }
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND user_id = $2",
        )
        .bind(group_id)
        .bind(user_id)
        .fetch_one(self.conn())
        .await?;
        if exists > 0 {
            return Ok(false);
        }
        sqlx::query("INSERT INTO group_members (group_id, user_id, created) VALUES ($1, $2, $3)")
            .bind(group_id)
            .bind(user_id)
            .bind(now)
            .execute(self.conn())
            .await
            .map_err(conflict_on_unique("membership"))?;
        self.touch_membership(group_id, now).await?;
        Ok(true)
    }

    /// Removes a member; returns false when they were not one.
    pub async fn remove_member(&mut self, group_id: &str, user_id: &str, now: i64) -> Result<bool> {
        if !storable(group_id) || !storable(user_id) {
            return Ok(false);
        }
        let done = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.touch_membership(group_id, now).await?;
        Ok(true)
    }

    async fn touch_membership(&mut self, group_id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE okta_groups SET last_membership_updated = $2 WHERE id = $1")
            .bind(group_id)
            .bind(now)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
