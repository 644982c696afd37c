//! Workflows connections (`/workflows/api/v1/connections`, a Steward extension): create, list,
//! read and delete connections, authorize and reauthorize them, check their health and compare
//! the scopes of their token with their app's grants. Reads need `okta.workflows.read`
//! (`WorkflowsRead`), changes `okta.workflows.manage` (`WorkflowsManage`).
//!
//! `GET /workflows/oauth/callback` is where the org sends the admin's browser back with the
//! authorization code: outside the guard, authenticated by the single-use `state` the
//! authorization started with; it answers with a small page (never a 500, never a secret).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_app::flows::connections::{Authorization, Connection, NewConnection};
use steward_core::roles::Permission;
use steward_core::syslog::Actor;

use crate::error::{ApiError, ApiResult};
use crate::http::Caller;
use crate::routes::{need, Need, Routes};
use crate::AppState;

const READ: Need = need("okta.workflows.read", Permission::WorkflowsRead);
const MANAGE: Need = need("okta.workflows.manage", Permission::WorkflowsManage);

pub(crate) fn routes() -> Routes {
    Routes::under("Workflows", "/workflows/api/v1")
        .get("/connections", READ, list)
        .post("/connections", MANAGE, create)
        .get("/connections/{connectionId}", READ, get)
        .delete("/connections/{connectionId}", MANAGE, delete)
        .post("/connections/{connectionId}/authorize", MANAGE, authorize)
        .post(
            "/connections/{connectionId}/reauthorize",
            MANAGE,
            reauthorize,
        )
        .post("/connections/{connectionId}/check", MANAGE, check)
        .get("/connections/{connectionId}/status", READ, status)
}

fn connection_json(issuer: &str, c: &Connection) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        let base = format!("{issuer}/workflows/api/v1/connections/{}", c.id);
        obj.insert(
            "_links".into(),
            json!({
                "self": {"href": base},
                "authorize": {"href": format!("{base}/authorize"), "hints": {"allow": ["POST"]}},
                "reauthorize": {"href": format!("{base}/reauthorize"), "hints": {"allow": ["POST"]}},
                "check": {"href": format!("{base}/check"), "hints": {"allow": ["POST"]}},
                "status": {"href": format!("{base}/status")},
            }),
        );
    }
    v
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let all = state.connections.list(&ctx).await?;
    let issuer = &state.config.issuer;
    Ok(Json(Value::Array(
        all.iter().map(|c| connection_json(issuer, c)).collect(),
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    name: String,
    connector: Option<String>,
    app_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /connections` `{name, connector?, appId?, clientSecret?}`: `201` with the connection
/// (UNAUTHORIZED).
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let body: CreateBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    let ctx = caller.ctx(&state);
    let created = state
        .connections
        .create(
            &ctx,
            NewConnection {
                name: body.name,
                connector: body.connector,
                app_id: body.app_id,
                client_secret: body.client_secret,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(connection_json(&state.config.issuer, &created)),
    )
        .into_response())
}

async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let found = state.connections.get(&ctx, &id).await?;
    Ok(Json(connection_json(&state.config.issuer, &found)))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let ctx = caller.ctx(&state);
    state.connections.delete(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn authorization_json(state: &AppState, a: &Authorization) -> Value {
    match a {
        Authorization::Redirect { authorize_url } => json!({"authorizeUrl": authorize_url}),
        Authorization::Authorized(c) => connection_json(&state.config.issuer, c),
    }
}

/// `POST /connections/{id}/authorize`: `{authorizeUrl}` for an authorization-code connection
/// (open it signed in as an admin assigned to the app), the connection with its new token for
/// a client-credentials one.
async fn authorize(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let done = state.connections.authorize(&ctx, &id).await?;
    Ok(Json(authorization_json(&state, &done)))
}

async fn reauthorize(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let done = state.connections.reauthorize(&ctx, &id).await?;
    Ok(Json(authorization_json(&state, &done)))
}

/// `POST /connections/{id}/check`: refreshes the token if due and introspects it; the
/// connection with its status (ACTIVE or BROKEN) and last error.
async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let checked = state.connections.check(&ctx, &id).await?;
    Ok(Json(connection_json(&state.config.issuer, &checked)))
}

/// `GET /connections/{id}/status`: the scopes of the token, of the app, and what is missing.
async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.ctx(&state);
    let tokens = state.flows.token_source();
    let s = steward_app::flows::preflight::connection_status(
        &ctx,
        &state.connections,
        &id,
        tokens.as_deref(),
        &crate::routes::scope_for,
    )
    .await?;
    Ok(Json(serde_json::to_value(s).unwrap_or(Value::Null)))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn page(status: StatusCode, title: &str, message: &str, issuer: &str) -> Response {
    crate::oauth::pages::render(
        status,
        "notice.html",
        minijinja::context! { title => title, message => message, issuer => issuer },
    )
}

/// `GET /workflows/oauth/callback?code&state`: finishes an authorization. Answers with a page:
/// `200` when the connection is authorized, `400` for an unknown, replayed or expired state or
/// an error from the org, `502` when the code could not be redeemed.
pub async fn callback(
    State(state): State<AppState>,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let issuer = state.config.issuer.clone();
    let Ok(Query(q)) = query else {
        return page(
            StatusCode::BAD_REQUEST,
            "The authorization cannot be completed",
            "The callback's parameters are malformed.",
            &issuer,
        );
    };
    let Some(st) = q.state.filter(|s| !s.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "The authorization cannot be completed",
            "The callback has no state.",
            &issuer,
        );
    };
    let actor = Actor::system();
    let ctx = steward_app::Ctx::system(&state.store)
        .at(state.clock.now())
        .acting_as(actor);
    if let Some(error) = q.error {
        // Spend the state so it cannot be used again, then explain.
        if let Err(e) = state.connections.cancel_authorization(&ctx, &st).await {
            tracing::warn!("forgetting a refused authorization: {e}");
        }
        let message = format!(
            "The org refused the authorization: {error}{}",
            q.error_description
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        );
        return page(
            StatusCode::BAD_REQUEST,
            "The connection was not authorized",
            &message,
            &issuer,
        );
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "The authorization cannot be completed",
            "The callback has no code.",
            &issuer,
        );
    };
    match state
        .connections
        .complete_authorization(&ctx, &st, &code)
        .await
    {
        Ok(c) => page(
            StatusCode::OK,
            "Connection authorized",
            &format!(
                "The connection {} is authorized with the scopes: {}. You can close this page.",
                c.name,
                c.scopes.join(" ")
            ),
            &issuer,
        ),
        Err(e) => {
            let status = match &e {
                steward_app::AppError::Validation(_) => StatusCode::BAD_REQUEST,
                steward_app::AppError::Conflict(_) => StatusCode::BAD_GATEWAY,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            let message = match &e {
                steward_app::AppError::Validation(v) => {
                    format!("{}. {}", v.summary, v.causes.join("; "))
                }
                steward_app::AppError::Conflict(why) => why.clone(),
                other => {
                    tracing::warn!("completing a connection's authorization: {other}");
                    "Steward could not store the connection's tokens; try again.".into()
                }
            };
            page(
                status,
                "The connection was not authorized",
                &message,
                &issuer,
            )
        }
    }
}
