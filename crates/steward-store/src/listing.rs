//! One builder for every cursor-paged list of the directory: the cursor, a prefix search over
//! some columns (`q`), a SCIM filter translated with the table's attribute map, and fixed
//! conditions, all with numbered binds. A cursor, search or filter value holding NUL (which
//! PostgreSQL cannot take as text, and SQLite would compare in its own way) is refused before
//! the query, so that both backends answer alike.

use sqlx::any::AnyRow;
use steward_core::filter::sql::{to_sql, Column, SqlValue};
use steward_core::filter::Filter;

use crate::users::{bind_all, like_escape};
use crate::{check_cursor, clamp_limit, storable, Result, Store, StoreError};

#[derive(Default)]
pub(crate) struct Listing {
    clauses: Vec<String>,
    binds: Vec<SqlValue>,
    /// The first refused input, answered by [`Listing::fetch`].
    refused: Option<StoreError>,
}

impl Listing {
    fn bind(&mut self, value: SqlValue) -> usize {
        self.binds.push(value);
        self.binds.len()
    }

    fn refuse(&mut self, error: StoreError) {
        self.refused.get_or_insert(error);
    }

    /// Rows after the cursor (ids sort stably).
    pub fn after(mut self, after: Option<&str>) -> Self {
        if let Err(e) = check_cursor(after) {
            self.refuse(e);
            return self;
        }
        if let Some(after) = after {
            let n = self.bind(SqlValue::Text(after.to_string()));
            self.clauses.push(format!("id > ${n}"));
        }
        self
    }

    /// A case-insensitive prefix match on any of `columns` (each already lower-cased or wrapped
    /// in `lower(…)` by the caller).
    pub fn prefix(mut self, q: Option<&str>, columns: &[&str]) -> Self {
        if let Some(q) = q.filter(|q| !q.is_empty()) {
            if !storable(q) {
                self.refuse(StoreError::InvalidValue("q".into()));
                return self;
            }
            let n = self.bind(SqlValue::Text(format!(
                "{}%",
                like_escape(&q.to_lowercase())
            )));
            let any: Vec<String> = columns
                .iter()
                .map(|c| format!("{c} LIKE ${n} ESCAPE '\\'"))
                .collect();
            self.clauses.push(format!("({})", any.join(" OR ")));
        }
        self
    }

    /// A SCIM filter over the table's attributes.
    pub fn filter(
        mut self,
        store: &Store,
        filter: Option<&Filter>,
        columns: &dyn Fn(&str) -> Option<Column>,
    ) -> Result<Self> {
        if let Some(filter) = filter {
            let fragment = to_sql(filter, store.dialect(), self.binds.len() + 1, columns)
                .map_err(|e| StoreError::InvalidFilter(e.message))?;
            let nul = fragment
                .binds
                .iter()
                .any(|b| matches!(b, SqlValue::Text(t) if !storable(t)));
            if nul {
                return Err(StoreError::InvalidFilter(
                    "a filter value cannot contain the NUL character (U+0000)".into(),
                ));
            }
            self.clauses.push(fragment.sql);
            self.binds.extend(fragment.binds);
        }
        Ok(self)
    }

    /// A fixed condition (no binds).
    pub fn when(mut self, condition: bool, clause: &str) -> Self {
        if condition {
            self.clauses.push(clause.to_string());
        }
        self
    }

    /// Runs `SELECT {columns} FROM {table} WHERE … ORDER BY id LIMIT {limit}`.
    pub async fn fetch(
        self,
        store: &Store,
        table: &str,
        columns: &str,
        limit: usize,
    ) -> Result<Vec<AnyRow>> {
        if let Some(refused) = self.refused {
            return Err(refused);
        }
        let where_sql = if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {columns} FROM {table} {where_sql} ORDER BY id LIMIT {}",
            clamp_limit(limit)
        );
        Ok(bind_all(sqlx::query(&sql), self.binds)
            .fetch_all(store.pool())
            .await?)
    }
}
