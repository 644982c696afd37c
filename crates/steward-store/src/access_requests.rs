//! Access Requests: request conditions, approval sequences, request settings, v1 request types
//! and teams, v1 and v2 requests with their tasks, and request messages.
//!
//! Every object is stored whole as JSON (the domain types of `steward_core::access_requests`)
//! with the columns lists filter and sort on beside it. A request's tasks live inside its
//! workflow and are mirrored, with their assignees, into `ar_tasks` so tasks can be listed
//! without loading requests. `due_at` tells the scheduler when a request next needs it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::Row;
use steward_core::access_requests::conditions::RequestSequence;
use steward_core::access_requests::v1::RequestV1;
use steward_core::access_requests::workflow::Task;
use steward_core::access_requests::{RequestCondition, RequestType, RequestWorkflow};
use steward_core::filter::sql::{to_sql, Column, ColumnKind, SqlValue};
use steward_core::filter::{CompareOp, Filter};

use crate::to_json;
use crate::users::bind_all;
use crate::{clamp_limit, Dialect, Result, Store, StoreError, WriteTx};

const PERMALINK_LOCK_KEY: i64 = 0x0053_5445_5750_4c4b; // "STEWPLK"
const REQUEST_TYPES_LOCK_KEY: i64 = 0x0053_5445_5752_5459; // "STEWRTY"

/// The access a request grants, as (user id, scope type, scope id): a user's membership of a
/// group (scope type "GROUP") or assignment to an app ("APPLICATION").
pub type GrantKey<'a> = (&'a str, &'a str, &'a str);

/// A request as stored: its workflow and, for v1 requests, the v1 view.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRequest {
    pub workflow: RequestWorkflow,
    pub v1: Option<RequestV1>,
    pub due_at: Option<i64>,
}

impl StoredRequest {
    pub fn is_v1(&self) -> bool {
        self.v1.is_some()
    }
}

/// A list of v1 or v2 requests (ordered by id, after a cursor).
#[derive(Debug, Clone, Default)]
pub struct RequestListQuery {
    pub v1: bool,
    pub filter: Option<Filter>,
    pub after: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct TaskListQuery {
    /// Only tasks with this assignee (`/my/tasks`, or `assigneeId eq` in the filter).
    pub assignee: Option<String>,
    pub filter: Option<Filter>,
    pub after: Option<String>,
    pub limit: usize,
}

fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn enum_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn plain(expr: &str, kind: ColumnKind) -> Option<Column> {
    Some(Column::Plain {
        expr: expr.into(),
        kind,
    })
}

fn v2_request_column(attr: &str) -> Option<Column> {
    match attr {
        "id" => plain("id", ColumnKind::Text),
        "status" => plain("status", ColumnKind::Text),
        "created" => plain("created", ColumnKind::TimestampMillis),
        "lastUpdated" => plain("last_updated", ColumnKind::TimestampMillis),
        "requestedFor" | "requestedFor.externalId" => plain("requested_for", ColumnKind::Text),
        "resourceId" | "requested.resourceId" => plain("resource_id", ColumnKind::Text),
        "accessScopeId" | "requested.accessScopeId" => plain("access_scope_id", ColumnKind::Text),
        "accessScopeType" | "requested.accessScopeType" => {
            plain("access_scope_type", ColumnKind::Text)
        }
        _ => None,
    }
}

fn v1_request_column(attr: &str) -> Option<Column> {
    match attr {
        "id" => plain("id", ColumnKind::Text),
        "requestStatus" => plain("v1_status", ColumnKind::Text),
        "created" => plain("created", ColumnKind::TimestampMillis),
        "lastUpdated" => plain("last_updated", ColumnKind::TimestampMillis),
        "requestTypeId" => plain("request_type_id", ColumnKind::Text),
        _ => None,
    }
}

fn task_column(attr: &str) -> Option<Column> {
    match attr {
        "id" => plain("id", ColumnKind::Text),
        "status" => plain("status", ColumnKind::Text),
        "type" => plain("task_type", ColumnKind::Text),
        "requestId" => plain("request_id", ColumnKind::Text),
        "createdAt" => plain("created", ColumnKind::TimestampMillis),
        "updatedAt" => plain("updated", ColumnKind::TimestampMillis),
        _ => None,
    }
}

/// Takes the top-level `assigneeId eq "…"` conjuncts out of a task filter.
fn split_assignee(filter: Filter, assignees: &mut Vec<String>) -> Option<Filter> {
    match filter {
        Filter::Compare {
            ref attr,
            op: CompareOp::Eq,
            ref value,
        } if attr == "assigneeId" => {
            if let steward_core::filter::Value::String(v) = value {
                assignees.push(v.clone());
            }
            None
        }
        Filter::And(a, b) => {
            let a = split_assignee(*a, assignees);
            let b = split_assignee(*b, assignees);
            match (a, b) {
                (Some(a), Some(b)) => Some(Filter::And(Box::new(a), Box::new(b))),
                (a, b) => a.or(b),
            }
        }
        other => Some(other),
    }
}

/// The WHERE clause of a list: the cursor, extra clauses and a SCIM filter.
fn where_clause(
    dialect: Dialect,
    mut clauses: Vec<String>,
    mut binds: Vec<SqlValue>,
    after: Option<&str>,
    filter: Option<&Filter>,
    resolve: &dyn Fn(&str) -> Option<Column>,
) -> Result<(String, Vec<SqlValue>)> {
    if let Some(after) = after {
        binds.push(SqlValue::Text(after.to_string()));
        clauses.push(format!("id > ${}", binds.len()));
    }
    if let Some(filter) = filter {
        let fragment = to_sql(filter, dialect, binds.len() + 1, resolve)
            .map_err(|e| StoreError::InvalidFilter(e.message))?;
        clauses.push(fragment.sql);
        binds.extend(fragment.binds);
    }
    Ok((clauses.join(" AND "), binds))
}

/// The access-request area of a [`Store`], for reads: `store.access_requests().request(id)`.
pub struct AccessRequests<'a> {
    store: &'a Store,
}

/// The access-request area of a [`WriteTx`]: `tx.access_requests().put_condition(..)`.
pub struct AccessRequestsTx<'a> {
    tx: &'a mut WriteTx,
}

impl Store {
    /// Access requests: conditions, sequences, settings, request types, teams, requests, tasks.
    pub fn access_requests(&self) -> AccessRequests<'_> {
        AccessRequests { store: self }
    }
}

impl WriteTx {
    /// Access requests, written in this transaction.
    pub fn access_requests(&mut self) -> AccessRequestsTx<'_> {
        AccessRequestsTx { tx: self }
    }
}

impl AccessRequests<'_> {
    // --- sequences ---------------------------------------------------------------------------

    pub async fn sequences(&self) -> Result<Vec<RequestSequence>> {
        let rows = sqlx::query("SELECT body FROM ar_sequences ORDER BY created, id")
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| from_json("sequence", &r.try_get::<String, _>("body")?))
            .collect()
    }

    pub async fn sequence(&self, id: &str) -> Result<RequestSequence> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM ar_sequences WHERE id = $1")
                .bind(id)
                .fetch_optional(self.store.pool())
                .await?;
        from_json("sequence", &body.ok_or(StoreError::NotFound)?)
    }

    // --- conditions --------------------------------------------------------------------------

    /// The conditions of a resource (DELETED ones included), by priority.
    pub async fn conditions(&self, resource_id: &str) -> Result<Vec<RequestCondition>> {
        let rows = sqlx::query(
            "SELECT body FROM ar_conditions WHERE resource_id = $1 ORDER BY priority, id",
        )
        .bind(resource_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| from_json("condition", &r.try_get::<String, _>("body")?))
            .collect()
    }

    /// Every condition (DELETED ones included) of the resources with at least one ACTIVE
    /// condition, in one query: (resource id, condition), by resource id, then priority.
    pub async fn conditions_of_requestable_resources(
        &self,
    ) -> Result<Vec<(String, RequestCondition)>> {
        let rows = sqlx::query(
            "SELECT resource_id, body FROM ar_conditions WHERE resource_id IN \
             (SELECT resource_id FROM ar_conditions WHERE status = 'ACTIVE') \
             ORDER BY resource_id, priority, id",
        )
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("resource_id")?,
                    from_json("condition", &r.try_get::<String, _>("body")?)?,
                ))
            })
            .collect()
    }

    // --- settings ----------------------------------------------------------------------------

    /// Settings stored under `scope` ('org' or a resource id), as JSON.
    pub async fn settings<T: DeserializeOwned>(&self, scope: &str) -> Result<Option<T>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM ar_settings WHERE scope = $1")
                .bind(scope)
                .fetch_optional(self.store.pool())
                .await?;
        body.map(|b| from_json("settings", &b)).transpose()
    }

    // --- request types and teams -------------------------------------------------------------

    pub async fn request_types(
        &self,
        filter: Option<&Filter>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RequestType>> {
        let resolve = |attr: &str| match attr {
            "status" => plain("status", ColumnKind::Text),
            "id" => plain("id", ColumnKind::Text),
            _ => None,
        };
        let (w, binds) = where_clause(
            self.store.dialect(),
            vec![],
            vec![],
            after,
            filter,
            &resolve,
        )?;
        let w = if w.is_empty() {
            String::new()
        } else {
            format!("WHERE {w}")
        };
        let sql = format!(
            "SELECT body FROM ar_request_types {w} ORDER BY id LIMIT {}",
            clamp_limit(limit)
        );
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| from_json("request type", &r.try_get::<String, _>("body")?))
            .collect()
    }

    pub async fn request_type(&self, id: &str) -> Result<RequestType> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM ar_request_types WHERE id = $1")
                .bind(id)
                .fetch_optional(self.store.pool())
                .await?;
        from_json("request type", &body.ok_or(StoreError::NotFound)?)
    }

    /// Teams as JSON objects, by id.
    pub async fn teams(&self, after: Option<&str>, limit: usize) -> Result<Vec<serde_json::Value>> {
        let sql = format!(
            "SELECT body FROM ar_teams WHERE id > $1 ORDER BY id LIMIT {}",
            clamp_limit(limit)
        );
        let rows = sqlx::query(&sql)
            .bind(after.unwrap_or(""))
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| from_json("team", &r.try_get::<String, _>("body")?))
            .collect()
    }

    pub async fn team_exists(&self, id: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ar_teams WHERE id = $1")
            .bind(id)
            .fetch_one(self.store.pool())
            .await?;
        Ok(n > 0)
    }

    // --- requests ----------------------------------------------------------------------------

    pub async fn request(&self, id: &str) -> Result<StoredRequest> {
        let row = sqlx::query("SELECT body, v1_body, due_at FROM ar_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        stored_request(&row)
    }

    /// Which of `ids` are v1 requests (a task links to its request under its API version).
    pub async fn v1_request_ids(&self, ids: &[String]) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let params: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id FROM ar_requests WHERE api_version = 1 AND id IN ({})",
            params.join(", ")
        );
        let mut query = sqlx::query_scalar(&sql);
        for id in ids {
            query = query.bind(id.clone());
        }
        Ok(query.fetch_all(self.store.pool()).await?)
    }

    /// v1 or v2 requests by id after the cursor, at most `limit`.
    pub async fn requests(&self, query: &RequestListQuery) -> Result<Vec<StoredRequest>> {
        let resolve: &dyn Fn(&str) -> Option<Column> = if query.v1 {
            &v1_request_column
        } else {
            &v2_request_column
        };
        let (w, binds) = where_clause(
            self.store.dialect(),
            vec![format!("api_version = {}", if query.v1 { 1 } else { 2 })],
            vec![],
            query.after.as_deref(),
            query.filter.as_ref(),
            resolve,
        )?;
        let sql = format!(
            "SELECT body, v1_body, due_at FROM ar_requests WHERE {w} ORDER BY id LIMIT {}",
            clamp_limit(query.limit)
        );
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(stored_request).collect()
    }

    /// v2 requests newest first (by `created`, then id, both descending), those matching
    /// `filter`, after the cursor `before` (the `(created, id)` of the previous page's last
    /// request), at most `limit`: the Admin Console's requests inbox.
    pub async fn requests_newest_first(
        &self,
        filter: Option<&Filter>,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<StoredRequest>> {
        let mut clauses = vec!["api_version = 2".to_string()];
        let mut binds = vec![];
        if let Some((created, id)) = before {
            binds.push(SqlValue::Int(created));
            binds.push(SqlValue::Text(id.to_string()));
            clauses.push("(created < $1 OR (created = $1 AND id < $2))".to_string());
        }
        let (w, binds) = where_clause(
            self.store.dialect(),
            clauses,
            binds,
            None,
            filter,
            &v2_request_column,
        )?;
        let sql = format!(
            "SELECT body, v1_body, due_at FROM ar_requests WHERE {w} \
             ORDER BY created DESC, id DESC LIMIT {}",
            clamp_limit(limit)
        );
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(stored_request).collect()
    }

    /// Which of `users` are members of which of `groups`, read exactly (no page limit):
    /// (group id, user id) pairs.
    pub async fn group_memberships(
        &self,
        groups: &[String],
        users: &[String],
    ) -> Result<Vec<(String, String)>> {
        if groups.is_empty() || users.is_empty() {
            return Ok(vec![]);
        }
        let group_params: Vec<String> = (1..=groups.len()).map(|i| format!("${i}")).collect();
        let user_params: Vec<String> = (groups.len() + 1..=groups.len() + users.len())
            .map(|i| format!("${i}"))
            .collect();
        let sql = format!(
            "SELECT group_id, user_id FROM group_members WHERE group_id IN ({}) AND user_id IN ({})",
            group_params.join(", "),
            user_params.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in groups.iter().chain(users) {
            query = query.bind(id.clone());
        }
        let rows = query.fetch_all(self.store.pool()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("group_id")?, r.try_get("user_id")?)))
            .collect()
    }

    /// Requests the scheduler must look at (`due_at <= now`), oldest first.
    pub async fn due_requests(&self, now: i64, limit: usize) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT id FROM ar_requests WHERE due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at LIMIT {}",
            clamp_limit(limit)
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(now)
            .fetch_all(self.store.pool())
            .await?)
    }

    // --- tasks -------------------------------------------------------------------------------

    pub async fn tasks(&self, query: &TaskListQuery) -> Result<Vec<Task>> {
        let mut assignees: Vec<String> = query.assignee.iter().cloned().collect();
        let filter = query
            .filter
            .clone()
            .and_then(|f| split_assignee(f, &mut assignees));
        let mut clauses = vec![];
        let mut binds = vec![];
        for a in assignees {
            binds.push(SqlValue::Text(a));
            clauses.push(format!(
                "id IN (SELECT task_id FROM ar_task_assignees WHERE user_id = ${})",
                binds.len()
            ));
        }
        let (w, binds) = where_clause(
            self.store.dialect(),
            clauses,
            binds,
            query.after.as_deref(),
            filter.as_ref(),
            &task_column,
        )?;
        let w = if w.is_empty() {
            String::new()
        } else {
            format!("WHERE {w}")
        };
        let sql = format!(
            "SELECT body FROM ar_tasks {w} ORDER BY id LIMIT {}",
            clamp_limit(query.limit)
        );
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| from_json("task", &r.try_get::<String, _>("body")?))
            .collect()
    }

    pub async fn task(&self, id: &str) -> Result<Task> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM ar_tasks WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        from_json("task", &body.ok_or(StoreError::NotFound)?)
    }

    // --- messages ----------------------------------------------------------------------------

    pub async fn messages(&self, request_id: &str) -> Result<Vec<serde_json::Value>> {
        let rows =
            sqlx::query("SELECT body FROM ar_messages WHERE request_id = $1 ORDER BY created, id")
                .bind(request_id)
                .fetch_all(self.store.pool())
                .await?;
        rows.iter()
            .map(|r| from_json("message", &r.try_get::<String, _>("body")?))
            .collect()
    }
}

fn stored_request(row: &sqlx::any::AnyRow) -> Result<StoredRequest> {
    let body: String = row.try_get("body")?;
    let v1: Option<String> = row.try_get("v1_body")?;
    Ok(StoredRequest {
        workflow: from_json("request", &body)?,
        v1: v1.map(|b| from_json("v1 request", &b)).transpose()?,
        due_at: row.try_get("due_at")?,
    })
}

impl AccessRequestsTx<'_> {
    pub async fn put_sequence(&mut self, s: &RequestSequence, created: i64) -> Result<()> {
        let body = to_json(s)?;
        sqlx::query(
            "INSERT INTO ar_sequences (id, created, body) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        )
        .bind(&s.id)
        .bind(created)
        .bind(body)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    pub async fn delete_sequence(&mut self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM ar_sequences WHERE id = $1")
            .bind(id)
            .execute(self.tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Conditions that use sequence `id`, for every resource.
    pub async fn conditions_using(
        &mut self,
        sequence_id: &str,
    ) -> Result<Vec<(String, RequestCondition)>> {
        let rows =
            sqlx::query("SELECT resource_id, body FROM ar_conditions WHERE sequence_id = $1")
                .bind(sequence_id)
                .fetch_all(self.tx.conn())
                .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("resource_id")?,
                    from_json("condition", &r.try_get::<String, _>("body")?)?,
                ))
            })
            .collect()
    }

    /// The conditions of a resource, read inside the transaction (locked on PostgreSQL).
    pub async fn conditions(&mut self, resource_id: &str) -> Result<Vec<RequestCondition>> {
        let lock = if self.tx.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "SELECT body FROM ar_conditions WHERE resource_id = $1 ORDER BY priority, id{lock}"
        ))
        .bind(resource_id)
        .fetch_all(self.tx.conn())
        .await?;
        rows.iter()
            .map(|r| from_json("condition", &r.try_get::<String, _>("body")?))
            .collect()
    }

    pub async fn put_condition(&mut self, resource_id: &str, c: &RequestCondition) -> Result<()> {
        let body = to_json(c)?;
        sqlx::query(
            "INSERT INTO ar_conditions (id, resource_id, status, priority, sequence_id, body) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             priority = excluded.priority, sequence_id = excluded.sequence_id, body = excluded.body",
        )
        .bind(&c.id)
        .bind(resource_id)
        .bind(enum_str(&c.status))
        .bind(i64::from(c.priority))
        .bind(c.approval_sequence_id.clone())
        .bind(body)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    pub async fn delete_condition(&mut self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM ar_conditions WHERE id = $1")
            .bind(id)
            .execute(self.tx.conn())
            .await?;
        Ok(())
    }

    pub async fn put_settings<T: Serialize>(&mut self, scope: &str, settings: &T) -> Result<()> {
        let body = to_json(settings)?;
        sqlx::query(
            "INSERT INTO ar_settings (scope, body) VALUES ($1, $2) \
             ON CONFLICT (scope) DO UPDATE SET body = excluded.body",
        )
        .bind(scope)
        .bind(body)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// The number of ACTIVE request types, counted inside the transaction. On PostgreSQL the
    /// transaction first takes an advisory lock, so two transactions that may each activate a
    /// type count one after the other (SQLite has one writer at a time).
    pub async fn count_active_request_types(&mut self) -> Result<i64> {
        if self.tx.is_postgres() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(REQUEST_TYPES_LOCK_KEY)
                .execute(self.tx.conn())
                .await?;
        }
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM ar_request_types WHERE status = 'ACTIVE'")
                .fetch_one(self.tx.conn())
                .await?,
        )
    }

    /// The next v1 `permalinkId`, computed inside the transaction that inserts the request: on
    /// PostgreSQL an advisory lock held until commit serialises the creates (SQLite has one
    /// writer at a time); a unique index backs it.
    pub async fn next_permalink(&mut self) -> Result<i64> {
        if self.tx.is_postgres() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PERMALINK_LOCK_KEY)
                .execute(self.tx.conn())
                .await?;
        }
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(permalink) FROM ar_requests")
            .fetch_one(self.tx.conn())
            .await?;
        Ok(max.unwrap_or(0) + 1)
    }

    /// Assigns a user to an app (scope USER, empty profile) unless they already are; an existing
    /// assignment is left as it is. Returns whether this call created it.
    pub async fn assign_app_user_if_absent(
        &mut self,
        app_id: &str,
        user_id: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO app_user_assignments (app_id, user_id, scope, profile, created, last_updated) \
             VALUES ($1, $2, 'USER', '{}', $3, $3) ON CONFLICT (app_id, user_id) DO NOTHING",
        )
        .bind(app_id)
        .bind(user_id)
        .bind(now)
        .execute(self.tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The `created_access` flags of the grants of requests other than `except` that still hold
    /// `user_id`'s access to `scope_id` at `now` (not revoked, not past their revocation time).
    pub async fn other_grant_holders(
        &mut self,
        grant: GrantKey<'_>,
        except: &str,
        now: i64,
    ) -> Result<Vec<bool>> {
        let flags: Vec<i64> = sqlx::query_scalar(
            "SELECT created_access FROM ar_grants WHERE user_id = $1 AND scope_type = $2 \
             AND scope_id = $3 AND request_id <> $4 AND held = 1 \
             AND (expires_at IS NULL OR expires_at > $5)",
        )
        .bind(grant.0)
        .bind(grant.1)
        .bind(grant.2)
        .bind(except)
        .bind(now)
        .fetch_all(self.tx.conn())
        .await?;
        Ok(flags.into_iter().map(|f| f != 0).collect())
    }

    /// Records what request `request_id` granted: whether the access was created by a request,
    /// and until when it holds it (NULL: for good).
    pub async fn record_grant(
        &mut self,
        request_id: &str,
        grant: GrantKey<'_>,
        created_access: bool,
        expires_at: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO ar_grants (request_id, user_id, scope_type, scope_id, created_access, held, expires_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (request_id) DO UPDATE SET \
             user_id = excluded.user_id, scope_type = excluded.scope_type, scope_id = excluded.scope_id, \
             created_access = excluded.created_access, held = 1, expires_at = excluded.expires_at",
        )
        .bind(request_id)
        .bind(grant.0)
        .bind(grant.1)
        .bind(grant.2)
        .bind(i64::from(created_access))
        .bind(expires_at)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// Whether a request created the access `request_id` granted; `None` when the grant was not
    /// recorded (granted before grants were).
    pub async fn grant_created_access(&mut self, request_id: &str) -> Result<Option<bool>> {
        let flag: Option<i64> =
            sqlx::query_scalar("SELECT created_access FROM ar_grants WHERE request_id = $1")
                .bind(request_id)
                .fetch_optional(self.tx.conn())
                .await?;
        Ok(flag.map(|f| f != 0))
    }

    /// Request `request_id` no longer holds the access it granted.
    pub async fn release_grant(&mut self, request_id: &str) -> Result<()> {
        sqlx::query("UPDATE ar_grants SET held = 0 WHERE request_id = $1")
            .bind(request_id)
            .execute(self.tx.conn())
            .await?;
        Ok(())
    }

    pub async fn put_request_type(&mut self, t: &RequestType) -> Result<()> {
        let body = to_json(t)?;
        sqlx::query(
            "INSERT INTO ar_request_types (id, status, created, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body",
        )
        .bind(&t.id)
        .bind(t.status.as_str())
        .bind(t.created)
        .bind(body)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    pub async fn delete_request_type(&mut self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM ar_request_types WHERE id = $1")
            .bind(id)
            .execute(self.tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn put_team(&mut self, id: &str, name: &str, body: &serde_json::Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO ar_teams (id, name, body) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body",
        )
        .bind(id)
        .bind(name)
        .bind(body.to_string())
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// A request read inside the transaction; on PostgreSQL the row stays locked until commit,
    /// so two nodes deciding the same request run one after the other.
    pub async fn request(&mut self, id: &str) -> Result<StoredRequest> {
        let lock = if self.tx.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT body, v1_body, due_at FROM ar_requests WHERE id = $1{lock}"
        ))
        .bind(id)
        .fetch_optional(self.tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        stored_request(&row)
    }

    /// Claims a due request for the scheduler: succeeds for exactly one caller while the request
    /// is due (the claim clears `due_at`; saving the request sets the next one).
    pub async fn claim_due(&mut self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE ar_requests SET due_at = NULL WHERE id = $1 AND due_at IS NOT NULL AND due_at <= $2",
        )
        .bind(id)
        .bind(now)
        .execute(self.tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Inserts or updates a request and mirrors its tasks. `permalink` is set for v1 requests.
    pub async fn put_request(
        &mut self,
        r: &StoredRequest,
        request_type_id: Option<&str>,
        permalink: Option<i64>,
    ) -> Result<()> {
        let wf = &r.workflow;
        let req = &wf.request;
        let v1_status = r.v1.as_ref().map(|v| enum_str(&v.request_status));
        sqlx::query(
            "INSERT INTO ar_requests (id, api_version, status, v1_status, requested_for, resource_id, \
             access_scope_id, access_scope_type, request_type_id, permalink, created, last_updated, \
             due_at, body, v1_body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, v1_status = excluded.v1_status, \
             last_updated = excluded.last_updated, due_at = excluded.due_at, body = excluded.body, \
             v1_body = excluded.v1_body",
        )
        .bind(&req.id)
        .bind(if r.is_v1() { 1i64 } else { 2i64 })
        .bind(req.status.as_str())
        .bind(v1_status)
        .bind(&req.requested_for.external_id)
        .bind(&req.requested.resource_id)
        .bind(&req.requested.access_scope_id)
        .bind(enum_str(&req.requested.access_scope_type))
        .bind(request_type_id.map(str::to_string))
        .bind(permalink)
        .bind(req.created)
        .bind(req.last_updated)
        .bind(r.due_at)
        .bind(to_json(wf)?)
        .bind(r.v1.as_ref().map(to_json).transpose()?)
        .execute(self.tx.conn())
        .await?;
        self.put_tasks(&req.id, &wf.tasks).await
    }

    async fn put_tasks(&mut self, request_id: &str, tasks: &[Task]) -> Result<()> {
        sqlx::query(
            "DELETE FROM ar_task_assignees WHERE task_id IN (SELECT id FROM ar_tasks WHERE request_id = $1)",
        )
        .bind(request_id)
        .execute(self.tx.conn())
        .await?;
        sqlx::query("DELETE FROM ar_tasks WHERE request_id = $1")
            .bind(request_id)
            .execute(self.tx.conn())
            .await?;
        for t in tasks {
            sqlx::query(
                "INSERT INTO ar_tasks (id, request_id, status, task_type, created, updated, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&t.id)
            .bind(request_id)
            .bind(enum_str(&t.status))
            .bind(enum_str(&t.kind))
            .bind(t.created_at)
            .bind(t.updated_at)
            .bind(to_json(t)?)
            .execute(self.tx.conn())
            .await?;
            for a in &t.assignees {
                sqlx::query(
                    "INSERT INTO ar_task_assignees (user_id, task_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(&a.external_id)
                .bind(&t.id)
                .execute(self.tx.conn())
                .await?;
            }
        }
        Ok(())
    }

    pub async fn insert_message(
        &mut self,
        id: &str,
        request_id: &str,
        created: i64,
        body: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO ar_messages (id, request_id, created, body) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(request_id)
        .bind(created)
        .bind(body.to_string())
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }
}
