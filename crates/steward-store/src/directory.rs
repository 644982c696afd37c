//! Reads for the Admin Console's Directory pages: a user's app assignments (direct or through
//! their groups), a group's app assignments, and member counts of a page of groups.

use std::collections::HashMap;

use sqlx::Row;

use crate::apps::AppGroupAssignment;
use crate::{placeholders, storable, Result, Store};

/// One way a user reaches an app: assigned directly (`group_id` none) or through a group they
/// belong to (`group_id` names it). A user assigned both ways has one row per way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAppLink {
    pub app_id: String,
    pub group_id: Option<String>,
}

impl Store {
    /// Every way user `user_id` is assigned to an app: direct assignments first for each app,
    /// then one row per group of theirs the app is assigned to; ordered by app id.
    pub async fn user_app_links(&self, user_id: &str) -> Result<Vec<UserAppLink>> {
        if !storable(user_id) {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT app_id, CAST(NULL AS TEXT) AS group_id, 0 AS way FROM app_user_assignments \
               WHERE user_id = $1 \
             UNION ALL \
             SELECT ag.app_id, ag.group_id, 1 AS way FROM app_group_assignments ag \
               JOIN group_members m ON m.group_id = ag.group_id WHERE m.user_id = $1 \
             ORDER BY 1, 3, 2",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UserAppLink {
                    app_id: row.try_get(0)?,
                    group_id: row.try_get(1)?,
                })
            })
            .collect()
    }

    /// The apps group `group_id` is assigned to, ordered by app id.
    pub async fn group_app_assignments(&self, group_id: &str) -> Result<Vec<AppGroupAssignment>> {
        if !storable(group_id) {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT app_id, group_id, priority, profile, created, last_updated \
             FROM app_group_assignments WHERE group_id = $1 ORDER BY app_id",
        )
        .bind(group_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AppGroupAssignment {
                    app_id: row.try_get(0)?,
                    group_id: row.try_get(1)?,
                    priority: row.try_get(2)?,
                    profile: crate::json_object(&row.try_get::<String, _>(3)?)?,
                    created: row.try_get(4)?,
                    last_updated: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// How many members each of `group_ids` has, in one query; a group without members (or
    /// that does not exist) is absent from the map.
    pub async fn group_member_counts(&self, group_ids: &[String]) -> Result<HashMap<String, i64>> {
        let ids: Vec<&String> = group_ids.iter().filter(|id| storable(id)).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT group_id, COUNT(*) FROM group_members WHERE group_id IN ({}) GROUP BY group_id",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id.clone());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }
}
