//! Preflight: before a flow runs, the scopes its connector cards need against what their
//! connections can do. A Custom API Action needs the scope of the route its method and relative
//! URL name (resolved by the caller's route table; a URL built when the flow runs is unknown
//! until it runs); other cards the scope they declare. Each is compared with the connection's
//! token scopes and its app's grants:
//!
//! - `ok`: the token carries the scope (or one that implies it);
//! - `needs_reauthorize`: the app holds a grant of it, the token was issued before;
//! - `missing_grant`: the app does not hold it (a Super Admin grants it, then reauthorize);
//! - `not_authorized`: the connection has no token (none of that name, or never authorized);
//! - `unknown`: the scope is known only when the card runs.

use std::collections::BTreeMap;

use serde::Serialize;
use steward_flows::connectors::{scope_needs, ScopeNeed, ScopeResolver};
use steward_flows::Flopack;
use steward_store::StoredFlow;

use super::okta::connection_name;
use super::tokens::TokenSource;
use crate::{AppError, AppResult, Ctx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeState {
    Ok,
    NeedsReauthorize,
    MissingGrant,
    NotAuthorized,
    Unknown,
}

/// What a connection can do, as preflight compares it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectionScopes {
    pub connection_id: String,
    pub app_id: String,
    /// The scopes in its token; `None` when it has none (not authorized).
    pub token_scopes: Option<Vec<String>>,
    /// The scopes ACTIVE-granted to its app.
    pub app_grants: Vec<String>,
    /// Why there is no token, when there is none.
    pub why_not: Option<String>,
}

/// One connector card's scope and its state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    pub flow: String,
    pub card: String,
    pub card_name: String,
    pub card_type: String,
    /// The flopack's connection name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    pub scope: Option<String>,
    pub state: ScopeState,
    /// The state in words, with the fix.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

/// A flow's preflight.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preflight {
    pub flow_id: String,
    /// Every connector card is `ok`.
    pub ready: bool,
    pub warnings: Vec<Warning>,
}

/// Compares each need with its connection (`None`: the card has no connection placeholder,
/// or its connector's only connection is meant). Pure.
pub fn compare(
    needs: &[ScopeNeed],
    connection: &dyn Fn(&ScopeNeed) -> ConnectionScopes,
    name: &dyn Fn(&ScopeNeed) -> Option<String>,
) -> Vec<Warning> {
    needs
        .iter()
        .map(|need| {
            let connection_name = name(need);
            let (state, message) = match &need.scope {
                None => (
                    ScopeState::Unknown,
                    need.unknown_because
                        .clone()
                        .unwrap_or_else(|| "its scope is known only when it runs".into()),
                ),
                Some(scope) => state_of(scope, &connection(need)),
            };
            Warning {
                flow: need.flow.clone(),
                card: need.card.clone(),
                card_name: need.card_name.clone(),
                card_type: need.card_type.clone(),
                connection: connection_name,
                scope: need.scope.clone(),
                state,
                message,
                request: need.request.clone(),
            }
        })
        .collect()
}

fn state_of(scope: &str, c: &ConnectionScopes) -> (ScopeState, String) {
    let implied = |held: &[String]| held.iter().any(|h| steward_core::scopes::implies(h, scope));
    let Some(token) = &c.token_scopes else {
        return (
            ScopeState::NotAuthorized,
            c.why_not
                .clone()
                .unwrap_or_else(|| "the connection is not authorized".into()),
        );
    };
    if implied(token) {
        (
            ScopeState::Ok,
            format!("the connection's token carries {scope}"),
        )
    } else if implied(&c.app_grants) {
        (
            ScopeState::NeedsReauthorize,
            format!(
                "the app {} holds {scope} but the connection's token was issued without it: reauthorize the connection",
                c.app_id
            ),
        )
    } else {
        (
            ScopeState::MissingGrant,
            format!(
                "the app {} is not granted {scope}: a Super Admin grants it on the app's Okta API Scopes tab (/admin/apps/{}/scopes), POST /api/v1/apps/{}/grants, or steward doctor --app {} --scope {scope} --fix; then reauthorize the connection",
                c.app_id, c.app_id, c.app_id, c.app_id
            ),
        )
    }
}

/// The preflight of a stored flow (and its helpers and blocks). Each connection is asked of
/// `tokens` once; without a token source every connection is "not authorized".
pub async fn preflight(
    ctx: &Ctx<'_>,
    flow: &StoredFlow,
    tokens: Option<&dyn TokenSource>,
    resolve: ScopeResolver<'_>,
) -> AppResult<Preflight> {
    let flopack: Flopack = serde_json::from_value(flow.flopack.clone())
        .map_err(|e| AppError::Internal(format!("stored flopack of {}: {e}", flow.id)))?;
    let needs = scope_needs(&flopack, resolve);
    let name_of = |need: &ScopeNeed| {
        need.connection
            .as_deref()
            .and_then(|id| connection_name(flow, id))
    };
    let mut connections: BTreeMap<(String, Option<String>), ConnectionScopes> = BTreeMap::new();
    for need in &needs {
        let key = (need.connector.clone(), name_of(need));
        if connections.contains_key(&key) {
            continue;
        }
        let scopes = match tokens {
            None => ConnectionScopes {
                why_not: Some("no connection is authorized on this server yet".into()),
                ..ConnectionScopes::default()
            },
            Some(tokens) => match tokens.token(&key.0, key.1.as_deref()).await {
                Ok(token) => {
                    let grants = ctx
                        .store
                        .app_grants(&token.app_id)
                        .await?
                        .into_iter()
                        .filter(|g| g.status == "ACTIVE")
                        .map(|g| g.scope_id)
                        .collect();
                    ConnectionScopes {
                        connection_id: token.connection_id,
                        app_id: token.app_id,
                        token_scopes: Some(token.scopes),
                        app_grants: grants,
                        why_not: None,
                    }
                }
                Err(e) => ConnectionScopes {
                    why_not: Some(format!(
                        "the {} connection{} is not authorized: {e}",
                        key.0,
                        key.1
                            .as_deref()
                            .map_or_else(String::new, |n| format!(" {n:?}"))
                    )),
                    ..ConnectionScopes::default()
                },
            },
        };
        connections.insert(key, scopes);
    }
    let lookup = |need: &ScopeNeed| {
        connections
            .get(&(need.connector.clone(), name_of(need)))
            .cloned()
            .unwrap_or_default()
    };
    let warnings = compare(&needs, &lookup, &name_of);
    Ok(Preflight {
        flow_id: flow.id.clone(),
        ready: warnings.iter().all(|w| w.state == ScopeState::Ok),
        warnings,
    })
}

/// A connection's scopes beside what its flows need: the scope of every connector card (from
/// each flow's preflight) that runs through this connection, by the flopack's connection name,
/// or by its connector when the name matches no connection and this is the connector's only one
/// (as [`TokenSource`] resolves them).
pub async fn connection_status(
    ctx: &Ctx<'_>,
    service: &super::connections::ConnectionService,
    id: &str,
    tokens: Option<&dyn TokenSource>,
    resolve: ScopeResolver<'_>,
) -> AppResult<super::connections::ScopeStatus> {
    let conn = service.get(ctx, id).await?;
    let all = service.list(ctx).await?;
    let only = all.iter().filter(|c| c.connector == conn.connector).count() == 1;
    let mut need = Vec::new();
    for summary in super::list_flows(ctx).await? {
        let flow = super::get_flow(ctx, &summary.id).await?;
        let Ok(report) = preflight(ctx, &flow, tokens, resolve).await else {
            continue;
        };
        for w in report.warnings {
            if w.card_type.split(':').next() != Some(conn.connector.as_str()) {
                continue;
            }
            let mine = match &w.connection {
                Some(name) => *name == conn.name || (only && !all.iter().any(|c| c.name == *name)),
                None => only,
            };
            if let (true, Some(scope)) = (mine, w.scope) {
                need.push(scope);
            }
        }
    }
    need.sort();
    need.dedup();
    service.status_with(ctx, id, &need).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use steward_flows::model::Flopack;

    const SEED: &[u8] =
        include_bytes!("../../../steward-flows/tests/fixtures/seed_request_lookup.flopack");

    fn resolve(method: &str, path: &str) -> Option<String> {
        (method == "GET" && path.starts_with("/governance/api/v1/requests/"))
            .then(|| "okta.governance.accessRequests.read".to_string())
    }

    #[test]
    fn the_seed_flow_needs_the_scope_of_the_route_its_composed_url_names() {
        let flopack: Flopack = serde_json::from_slice(SEED).unwrap();
        let needs = scope_needs(&flopack, &resolve);
        assert_eq!(needs.len(), 1);
        let need = &needs[0];
        assert_eq!(need.card_type, "okta:hTTPRequest");
        assert_eq!(need.connector, "okta");
        assert_eq!(
            need.scope.as_deref(),
            Some("okta.governance.accessRequests.read")
        );
        assert_eq!(
            need.request.as_deref(),
            Some("GET /governance/api/v1/requests/{rq-Id1x}")
        );
        // A resolver that knows no route leaves it unknown, with the reason.
        let none = scope_needs(&flopack, &|_, _| None);
        assert_eq!(none[0].scope, None);
        assert!(none[0]
            .unknown_because
            .as_deref()
            .unwrap()
            .contains("no route"));

        let scope = "okta.governance.accessRequests.read";
        let with = |token: Option<&[&str]>, grants: &[&str]| {
            let c = ConnectionScopes {
                connection_id: "c1".into(),
                app_id: "0oa1".into(),
                token_scopes: token.map(|t| t.iter().map(|s| s.to_string()).collect()),
                app_grants: grants.iter().map(|s| s.to_string()).collect(),
                why_not: None,
            };
            compare(&needs, &|_| c.clone(), &|_| {
                Some("Okta Workflows OAuth".into())
            })[0]
                .clone()
        };
        /// (the token's scopes, none when not authorized; the app's grants; the state).
        type Case<'a> = (Option<&'a [&'a str]>, &'a [&'a str], ScopeState);
        let cases: [Case<'_>; 5] = [
            (Some(&["okta.users.read"]), &[], ScopeState::MissingGrant),
            (
                Some(&["okta.users.read"]),
                &[scope],
                ScopeState::NeedsReauthorize,
            ),
            (Some(&[scope]), &[scope], ScopeState::Ok),
            // manage implies read.
            (
                Some(&["okta.governance.accessRequests.manage"]),
                &[],
                ScopeState::Ok,
            ),
            (None, &[scope], ScopeState::NotAuthorized),
        ];
        for (token, grants, state) in cases {
            let w = with(token, grants);
            assert_eq!(w.state, state, "{token:?} {grants:?}: {}", w.message);
            assert_eq!(w.connection.as_deref(), Some("Okta Workflows OAuth"));
        }
        assert!(with(Some(&[]), &[])
            .message
            .contains("/admin/apps/0oa1/scopes"));
    }
}
