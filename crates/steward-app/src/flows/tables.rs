//! Workflows Tables: the `stash` cards' I/O, and the tables a flopack brings.
//!
//! [`TableConnectors`] runs Search Rows, Read Row, Create Row, Update Row, Delete Row, Clear
//! Table and Read Table against `flow_tables` / `flow_table_rows`; the filtering, typing and
//! output shapes are `steward_flows::tables` (pure). Each card's write is one transaction.
//! Importing a flopack creates its tables (an existing table keeps its rows); exports carry the
//! tables' structure, no rows, as Okta's.

use serde::Serialize;
use serde_json::Value;
use steward_flows::exec::{ConnectorError, ConnectorRequest};
use steward_flows::model::{Column, Flopack};
use steward_flows::tables::{self as pure, Row, Sort, Where};
use steward_flows::{CardKey, Outputs};
use steward_store::{Store, StoredFlow, StoredRow, StoredTable, WriteTx};

use super::runner::{ConnectorFuture, Connectors};
use crate::governance::Clock;
use crate::{AppError, AppResult, Ctx};

/// The most rows one search returns (Okta's documented limit).
pub const MAX_SEARCH_ROWS: usize = 3_500;

pub const ACTIONS: &[&str] = &[
    "searchRows2",
    "readRow",
    "createRow",
    "updateRow",
    "deleteRow",
    "clearTable",
    "readTable",
];

/// The Tables connector (`stash`): no connection, the org's own tables.
pub struct TableConnectors {
    store: Store,
    clock: Clock,
}

impl TableConnectors {
    pub fn new(store: Store, clock: Clock) -> TableConnectors {
        TableConnectors { store, clock }
    }
}

fn failed(message: impl Into<String>) -> ConnectorError {
    ConnectorError {
        message: message.into(),
        status: None,
        diagnosis: None,
    }
}

fn store_failed(e: steward_store::StoreError) -> ConnectorError {
    match e {
        steward_store::StoreError::NotFound => failed("not found"),
        // A database that did not answer: retried like a 5xx.
        other => ConnectorError {
            message: format!("the table could not be read or written: {other}"),
            status: Some(503),
            diagnosis: None,
        },
    }
}

fn columns_of(table: &StoredTable) -> Vec<Column> {
    serde_json::from_value(table.structure.clone()).unwrap_or_default()
}

fn pure_row(r: StoredRow) -> Row {
    Row {
        id: r.id,
        cells: r.cells,
        created: r.created,
        updated: r.updated,
    }
}

fn row_id(request: &ConnectorRequest, group: &str) -> Result<String, ConnectorError> {
    let id = steward_flows::value::to_text(request.inputs.get_in(group, "Row ID"));
    if id.is_empty() {
        return Err(failed(format!("{group}.Row ID is empty")));
    }
    Ok(id)
}

impl TableConnectors {
    async fn run(&self, request: &ConnectorRequest) -> Result<Outputs, ConnectorError> {
        let action = request
            .card
            .as_str()
            .strip_prefix("stash:")
            .unwrap_or_default()
            .to_string();
        let table_id = pure::table_of(&request.inputs).map_err(|e| failed(e.to_string()))?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await.map_err(store_failed)?;
        let table = tx
            .flow_tables()
            .table(&table_id)
            .await
            .map_err(|e| match e {
                steward_store::StoreError::NotFound => {
                    failed(format!("table {table_id} does not exist"))
                }
                other => store_failed(other),
            })?;
        let columns = columns_of(&table);
        let inputs = &request.inputs;
        let outputs = match action.as_str() {
            "searchRows2" => {
                let filter = Where::parse(inputs.get_in("Filter", "Where Expression"))
                    .map_err(|why| failed(format!("Where Expression: {why}")))?
                    .resolve(|id| inputs.get_in("_expr", id).clone());
                let one = steward_flows::value::to_text(inputs.get_in("parameters", "resultSet"))
                    == "one";
                let rows = tx
                    .flow_tables()
                    .all_rows(&table_id)
                    .await
                    .map_err(store_failed)?;
                let rows: Vec<Row> = rows.into_iter().map(pure_row).collect();
                let found = pure::search(
                    rows,
                    &filter,
                    &Sort::from_inputs(inputs),
                    &columns,
                    MAX_SEARCH_ROWS,
                );
                pure::search_outputs(one, &found, &columns)
            }
            "readRow" => {
                let id = row_id(request, "Read By")?;
                let row = tx
                    .flow_tables()
                    .row(&table_id, &id)
                    .await
                    .map_err(|_| failed(format!("row {id} does not exist")))?;
                pure::search_outputs(true, &[pure_row(row)], &columns)
            }
            "createRow" => {
                let fields =
                    pure::fields_of(inputs, &columns, true).map_err(|e| failed(e.to_string()))?;
                let row = StoredRow {
                    id: steward_core::syslog::uuid_v7(now),
                    table_id: table_id.clone(),
                    cells: pure::new_cells(fields, &columns),
                    created: now,
                    updated: now,
                };
                tx.flow_tables()
                    .insert_row(&row)
                    .await
                    .map_err(store_failed)?;
                Outputs::new().with_in(Some("Output"), pure::ROW_ID, Value::String(row.id))
            }
            "updateRow" => {
                let id = row_id(request, "Update By")?;
                let keep_empty =
                    steward_flows::value::to_text(inputs.get_in("parameters", "updateEmptyInputs"))
                        .eq_ignore_ascii_case("yes");
                let fields = pure::fields_of(inputs, &columns, keep_empty)
                    .map_err(|e| failed(e.to_string()))?;
                let mut row = tx
                    .flow_tables()
                    .row(&table_id, &id)
                    .await
                    .map_err(|_| failed(format!("row {id} does not exist")))?;
                row.cells.extend(fields);
                tx.flow_tables()
                    .update_row(&table_id, &id, &row.cells, now)
                    .await
                    .map_err(store_failed)?;
                Outputs::new()
            }
            "deleteRow" => {
                let id = row_id(request, "Delete By")?;
                if !tx
                    .flow_tables()
                    .delete_row(&table_id, &id)
                    .await
                    .map_err(store_failed)?
                {
                    return Err(failed(format!("row {id} does not exist")));
                }
                Outputs::new()
            }
            "clearTable" => {
                let n = tx
                    .flow_tables()
                    .clear(&table_id)
                    .await
                    .map_err(store_failed)?;
                Outputs::new().with_in(Some("Table"), "Cleared Rows", Value::from(n))
            }
            "readTable" => Outputs::new().with_in(
                Some("Output"),
                "Column Schema",
                pure::column_schema(&columns),
            ),
            other => return Err(failed(format!("Steward has no stash:{other} card"))),
        };
        tx.commit().await.map_err(store_failed)?;
        Ok(outputs)
    }
}

impl Connectors for TableConnectors {
    fn cards(&self) -> Vec<(String, String)> {
        ACTIONS
            .iter()
            .map(|a| ("stash".to_string(), (*a).to_string()))
            .collect()
    }

    fn call<'a>(
        &'a self,
        _flow: &'a StoredFlow,
        request: &'a ConnectorRequest,
    ) -> ConnectorFuture<'a> {
        Box::pin(self.run(request))
    }
}

/// Whether `card` is a Tables card.
pub fn is_table_card(card: &CardKey) -> bool {
    card.as_str().starts_with("stash:")
}

/// Creates the tables of `flopack` in `tx`; an existing table keeps its rows and takes the
/// flopack's name, description and structure.
pub async fn import_tables(tx: &mut WriteTx, flopack: &Flopack, now: i64) -> AppResult<usize> {
    for table in flopack.data.tables.values() {
        let folder = table
            .data
            .group_id
            .as_ref()
            .and_then(|g| flopack.data.groups.get(g))
            .map(|g| g.data.name.clone());
        let created = match tx.flow_tables().table(&table.id).await {
            Ok(existing) => existing.created,
            Err(steward_store::StoreError::NotFound) => now,
            Err(e) => return Err(e.into()),
        };
        let stored = StoredTable {
            id: table.id.clone(),
            name: table.name.clone(),
            description: table.description.clone(),
            folder,
            structure: serde_json::to_value(&table.data.structure)
                .map_err(|e| AppError::Internal(format!("table structure: {e}")))?,
            created,
            updated: now,
        };
        tx.flow_tables().put_table(&stored).await?;
    }
    Ok(flopack.data.tables.len())
}

/// A table as the API and CLI show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub folder: Option<String>,
    pub columns: Value,
    pub row_count: i64,
    pub created: String,
    pub updated: String,
}

fn summary(t: StoredTable, row_count: i64) -> TableSummary {
    TableSummary {
        id: t.id,
        name: t.name,
        description: t.description,
        folder: t.folder,
        columns: t.structure,
        row_count,
        created: steward_core::timefmt::format_millis(t.created),
        updated: steward_core::timefmt::format_millis(t.updated),
    }
}

pub async fn list_tables(ctx: &Ctx<'_>) -> AppResult<Vec<TableSummary>> {
    let mut out = Vec::new();
    for t in ctx.store.flow_tables().list().await? {
        let n = ctx.store.flow_tables().count(&t.id).await?;
        out.push(summary(t, n));
    }
    Ok(out)
}

pub async fn get_table(ctx: &Ctx<'_>, id: &str) -> AppResult<TableSummary> {
    let t = ctx
        .store
        .flow_tables()
        .table(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (Table)")))?;
    let n = ctx.store.flow_tables().count(id).await?;
    Ok(summary(t, n))
}

/// A page of a table's rows (each as Search Rows returns it) and the cursor of the next page.
pub async fn table_rows(
    ctx: &Ctx<'_>,
    id: &str,
    after: Option<&str>,
    limit: usize,
) -> AppResult<(Vec<Value>, Option<String>)> {
    let t = ctx
        .store
        .flow_tables()
        .table(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (Table)")))?;
    let columns = columns_of(&t);
    let limit = limit.max(1);
    let mut rows = ctx.store.flow_tables().rows(id, after, limit + 1).await?;
    let mut next = None;
    if rows.len() > limit {
        rows.truncate(limit);
        next = rows.last().map(|r| r.id.clone());
    }
    let out = rows
        .into_iter()
        .map(|r| pure_row(r).to_object(&columns))
        .collect();
    Ok((out, next))
}
