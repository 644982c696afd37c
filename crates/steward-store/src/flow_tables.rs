//! Workflows Tables: a table's structure (from its flopack) and its rows, JSON objects keyed
//! by column name. Each card's write is one transaction of its own.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{clamp_limit, to_json, Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredTable {
    pub id: String,
    pub name: String,
    pub description: String,
    pub folder: Option<String>,
    /// The flopack's `structure`: `[{name, type, default}]`.
    pub structure: Value,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    pub id: String,
    pub table_id: String,
    pub cells: Map<String, Value>,
    pub created: i64,
    pub updated: i64,
}

const TABLE_COLUMNS: &str = "id, name, description, folder, structure, created, updated";
const ROW_COLUMNS: &str = "id, table_id, cells, created, updated";

fn table_row(row: &AnyRow) -> Result<StoredTable> {
    let structure: String = row.try_get("structure")?;
    Ok(StoredTable {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        folder: row.try_get("folder")?,
        structure: serde_json::from_str(&structure)
            .map_err(|e| StoreError::Corrupt(format!("flow_tables.structure: {e}")))?,
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

fn row_row(row: &AnyRow) -> Result<StoredRow> {
    let cells: String = row.try_get("cells")?;
    let cells: Value = serde_json::from_str(&cells)
        .map_err(|e| StoreError::Corrupt(format!("flow_table_rows.cells: {e}")))?;
    Ok(StoredRow {
        id: row.try_get("id")?,
        table_id: row.try_get("table_id")?,
        cells: match cells {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        created: row.try_get("created")?,
        updated: row.try_get("updated")?,
    })
}

/// Tables, read.
pub struct FlowTables<'a> {
    store: &'a Store,
}

/// Tables, written in a transaction.
pub struct FlowTablesTx<'a> {
    tx: &'a mut WriteTx,
}

impl Store {
    pub fn flow_tables(&self) -> FlowTables<'_> {
        FlowTables { store: self }
    }
}

impl WriteTx {
    pub fn flow_tables(&mut self) -> FlowTablesTx<'_> {
        FlowTablesTx { tx: self }
    }
}

impl FlowTables<'_> {
    pub async fn list(&self) -> Result<Vec<StoredTable>> {
        let rows = sqlx::query(&format!(
            "SELECT {TABLE_COLUMNS} FROM flow_tables ORDER BY name, id"
        ))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(table_row).collect()
    }

    pub async fn table(&self, id: &str) -> Result<StoredTable> {
        let row = sqlx::query(&format!(
            "SELECT {TABLE_COLUMNS} FROM flow_tables WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        table_row(&row)
    }

    /// A page of rows in id order, after the row id `after`.
    pub async fn rows(
        &self,
        table_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM flow_table_rows WHERE table_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        ))
        .bind(table_id)
        .bind(after.unwrap_or(""))
        .bind(clamp_limit(limit))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(row_row).collect()
    }

    pub async fn count(&self, table_id: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM flow_table_rows WHERE table_id = $1")
                .bind(table_id)
                .fetch_one(self.store.pool())
                .await?,
        )
    }
}

impl FlowTablesTx<'_> {
    /// Creates a table, or updates its name, description, folder and structure and keeps its
    /// rows (a re-import).
    pub async fn put_table(&mut self, table: &StoredTable) -> Result<()> {
        sqlx::query(
            "INSERT INTO flow_tables (id, name, description, folder, structure, created, updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, description = excluded.description, \
             folder = excluded.folder, structure = excluded.structure, updated = excluded.updated",
        )
        .bind(&table.id)
        .bind(&table.name)
        .bind(&table.description)
        .bind(table.folder.clone())
        .bind(to_json(&table.structure)?)
        .bind(table.created)
        .bind(table.updated)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// The table, as this transaction sees it.
    pub async fn table(&mut self, id: &str) -> Result<StoredTable> {
        let row = sqlx::query(&format!(
            "SELECT {TABLE_COLUMNS} FROM flow_tables WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        table_row(&row)
    }

    /// Every row of the table (Search Rows filters them in memory).
    pub async fn all_rows(&mut self, table_id: &str) -> Result<Vec<StoredRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM flow_table_rows WHERE table_id = $1 ORDER BY id"
        ))
        .bind(table_id)
        .fetch_all(self.tx.conn())
        .await?;
        rows.iter().map(row_row).collect()
    }

    pub async fn row(&mut self, table_id: &str, id: &str) -> Result<StoredRow> {
        let row = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM flow_table_rows WHERE table_id = $1 AND id = $2"
        ))
        .bind(table_id)
        .bind(id)
        .fetch_optional(self.tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        row_row(&row)
    }

    pub async fn insert_row(&mut self, row: &StoredRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO flow_table_rows (id, table_id, cells, created, updated) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.table_id)
        .bind(to_json(&row.cells)?)
        .bind(row.created)
        .bind(row.updated)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// Replaces a row's cells; `false` when there is no such row.
    pub async fn update_row(
        &mut self,
        table_id: &str,
        id: &str,
        cells: &Map<String, Value>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE flow_table_rows SET cells = $3, updated = $4 WHERE table_id = $1 AND id = $2",
        )
        .bind(table_id)
        .bind(id)
        .bind(to_json(cells)?)
        .bind(now)
        .execute(self.tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `false` when there is no such row.
    pub async fn delete_row(&mut self, table_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM flow_table_rows WHERE table_id = $1 AND id = $2")
            .bind(table_id)
            .bind(id)
            .execute(self.tx.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes every row; how many.
    pub async fn clear(&mut self, table_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM flow_table_rows WHERE table_id = $1")
            .bind(table_id)
            .execute(self.tx.conn())
            .await?;
        Ok(done.rows_affected())
    }
}
