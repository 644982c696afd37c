//! Workflows connections (`/admin/workflows/connections`): each connection with its scope
//! status (the scopes in its token, those granted to its app, those its flows need) and
//! Authorize / Reauthorize, which send the admin through the org's authorize page and back.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use steward_app::flows;
use steward_core::roles::Permission;

use crate::pages::{self, encode, render, see_other};
use crate::session::Admin;
use crate::Console;

/// `GET /admin/workflows/connections`.
pub async fn list(State(console): State<Console>, admin: Admin) -> Response {
    if let Some(refused) = admin.require(Permission::WorkflowsRead, "Viewing connections") {
        return refused;
    }
    let ctx = admin.ctx(&console);
    let service = &console.api.connections;
    let all = match service.list(&ctx).await {
        Ok(c) => c,
        Err(e) => return pages::app_error(e),
    };
    let tokens = console.api.flows.token_source();
    let mut rows = Vec::new();
    for c in &all {
        let status = match flows::preflight::connection_status(
            &ctx,
            service,
            &c.id,
            tokens.as_deref(),
            &steward_api::routes::scope_for,
        )
        .await
        {
            Ok(s) => serde_json::to_value(s).unwrap_or(Value::Null),
            Err(e) => return pages::app_error(e),
        };
        let app = ctx.store.app(&c.app_id).await.ok();
        rows.push(json!({
            "connection": c,
            "status": status,
            "app_label": app.map(|a| a.label).unwrap_or_else(|| c.app_id.clone()),
        }));
    }
    render(
        StatusCode::OK,
        "wf_connections.html",
        json!({
            "me": admin.me(),
            "section": "connections",
            "connections": rows,
            "may_manage": admin.may(Permission::WorkflowsManage),
        }),
    )
}

/// `POST /admin/workflows/connections/{id}/authorize` (and `reauthorize`): a code connection
/// goes to the org's authorize page (its callback ends on this console's connections page); a
/// client-credentials one has its token at once.
pub async fn authorize(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = admin.change_form(
        &console,
        &headers,
        &body,
        Permission::WorkflowsManage,
        "Authorizing a Workflows connection",
    ) {
        return *refused;
    }
    let ctx = admin.ctx(&console);
    match console.api.connections.reauthorize(&ctx, &id).await {
        Ok(flows::connections::Authorization::Redirect { authorize_url }) => {
            see_other(&authorize_url)
        }
        Ok(flows::connections::Authorization::Authorized(_)) => see_other(&format!(
            "/admin/workflows/connections#connection-{}",
            encode(&id)
        )),
        Err(e) => pages::app_error(e),
    }
}

/// `POST /admin/workflows/connections/{id}/check`: the health check.
pub async fn check(
    State(console): State<Console>,
    admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = admin.change_form(
        &console,
        &headers,
        &body,
        Permission::WorkflowsManage,
        "Checking a connection",
    ) {
        return *refused;
    }
    match console
        .api
        .connections
        .check(&admin.ctx(&console), &id)
        .await
    {
        Ok(_) => see_other(&format!(
            "/admin/workflows/connections#connection-{}",
            encode(&id)
        )),
        Err(e) => pages::app_error(e),
    }
}
