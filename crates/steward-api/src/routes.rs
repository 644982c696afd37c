//! One declaration per guarded route. Each area (users, groups, apps, …) builds its routes with
//! [`Routes`]: `get(path, need(scope, permission), handler)` registers the axum route and what
//! the guard demands of it in one call. The same builder yields the axum router (each route
//! wrapped in the guard with its own [`Need`] fixed at build time, so a guarded route without one
//! cannot be written) and the route table that `steward routes`, the spec test and the docs read.

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::middleware::{self, Next};
use axum::routing::{self, MethodRouter};
use axum::Router;
use serde::Serialize;
use std::sync::LazyLock;
use steward_core::roles::{least_role_for, Permission, RoleType};
use steward_core::scopes::{OperationInfo, ScopeFamily, ScopeInfo};

use crate::{governance, guard, mgmt, AppState};

/// What a route demands: an Okta API scope of OAuth tokens, and a permission of the principal.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub scope: &'static str,
    pub permission: Permission,
    /// End-user (`/my/…`) routes: user access tokens only, no admin role needed.
    pub self_service: bool,
}

/// An admin route: a token needs `scope`, its principal a role that allows `permission`.
pub const fn need(scope: &'static str, permission: Permission) -> Need {
    Need {
        scope,
        permission,
        self_service: false,
    }
}

/// An end-user route: any signed-in user's access token with the scope; SSWS tokens and
/// client-credentials tokens are refused.
pub const fn my(scope: &'static str) -> Need {
    Need {
        scope,
        // Not consulted for self-service routes; the route table shows none.
        permission: Permission::AccessRequestsRead,
        self_service: true,
    }
}

/// Steward's own routes (no Okta operation); their scope is the one of the same family.
pub static EXTENSIONS: &[(&str, &str)] = &[
    // Okta's Dynamic Client Registration read; the specs have only its `/roles` subpaths.
    ("GET", "/oauth2/v1/clients/{clientId}"),
    // Okta's older single-secret rotation (the Dynamic Client Registration API's
    // `lifecycle/newSecret`), for the Apps API.
    ("POST", "/api/v1/apps/{id}/credentials/lifecycle/newSecret"),
    ("GET", "/governance/api/v2/request-sequences"),
    ("POST", "/governance/api/v2/request-sequences"),
    ("GET", "/governance/api/v2/request-sequences/{sequenceId}"),
    ("PUT", "/governance/api/v2/request-sequences/{sequenceId}"),
    // Workflows (`/workflows/api/v1`): Okta publishes no Workflows API; see docs/workflows.md.
    ("POST", "/workflows/api/v1/flows"),
    ("GET", "/workflows/api/v1/flows"),
    ("GET", "/workflows/api/v1/folders"),
    ("GET", "/workflows/api/v1/flows/{flowId}"),
    ("GET", "/workflows/api/v1/flows/{flowId}/export"),
    ("POST", "/workflows/api/v1/flows/{flowId}/activate"),
    ("POST", "/workflows/api/v1/flows/{flowId}/deactivate"),
    ("POST", "/workflows/api/v1/flows/{flowId}/runs"),
    ("GET", "/workflows/api/v1/executions"),
    ("GET", "/workflows/api/v1/executions/{executionId}"),
    ("POST", "/workflows/api/v1/executions/{executionId}/cancel"),
    ("GET", "/workflows/api/v1/connections"),
    ("POST", "/workflows/api/v1/connections"),
    ("GET", "/workflows/api/v1/connections/{connectionId}"),
    ("DELETE", "/workflows/api/v1/connections/{connectionId}"),
    (
        "POST",
        "/workflows/api/v1/connections/{connectionId}/authorize",
    ),
    (
        "POST",
        "/workflows/api/v1/connections/{connectionId}/reauthorize",
    ),
    ("POST", "/workflows/api/v1/connections/{connectionId}/check"),
    ("GET", "/workflows/api/v1/connections/{connectionId}/status"),
    ("GET", "/workflows/api/v1/flows/{flowId}/preflight"),
    ("GET", "/workflows/api/v1/tables"),
    ("GET", "/workflows/api/v1/tables/{tableId}"),
    ("GET", "/workflows/api/v1/tables/{tableId}/rows"),
];

/// One guarded route as `steward routes` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteInfo {
    /// The route family it belongs to (`Users`, `Request conditions`, …).
    pub family: &'static str,
    pub method: &'static str,
    /// The path as routed, e.g. `/api/v1/users/{id}`.
    pub path: String,
    /// The Okta API scope an access token needs.
    pub scope: &'static str,
    /// The admin permission the principal needs; none on self-service (`/my/…`) routes.
    pub permission: Option<Permission>,
    pub self_service: bool,
    /// The least-privileged built-in role that allows the call; none on self-service routes.
    pub role: Option<RoleType>,
}

struct Entry {
    family: &'static str,
    method: &'static str,
    path: String,
    need: Need,
    endpoint: MethodRouter<AppState>,
}

/// Guarded routes under construction. Every way to add one takes its [`Need`].
pub struct Routes {
    family: &'static str,
    prefix: &'static str,
    entries: Vec<Entry>,
}

impl Routes {
    /// Routes of one family; paths are given in full.
    pub fn new(family: &'static str) -> Routes {
        Routes::under(family, "")
    }

    /// Routes of one family whose paths all start with `prefix`.
    pub fn under(family: &'static str, prefix: &'static str) -> Routes {
        Routes {
            family,
            prefix,
            entries: Vec::new(),
        }
    }

    fn add(
        mut self,
        method: &'static str,
        path: &str,
        need: Need,
        endpoint: MethodRouter<AppState>,
    ) -> Routes {
        self.entries.push(Entry {
            family: self.family,
            method,
            path: format!("{}{path}", self.prefix),
            need,
            endpoint,
        });
        self
    }

    /// A `GET` route (axum answers `HEAD` with it too, under the same guard).
    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        need: Need,
        handler: H,
    ) -> Routes {
        self.add("GET", path, need, routing::get(handler))
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        need: Need,
        handler: H,
    ) -> Routes {
        self.add("POST", path, need, routing::post(handler))
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        need: Need,
        handler: H,
    ) -> Routes {
        self.add("PUT", path, need, routing::put(handler))
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        need: Need,
        handler: H,
    ) -> Routes {
        self.add("PATCH", path, need, routing::patch(handler))
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        need: Need,
        handler: H,
    ) -> Routes {
        self.add("DELETE", path, need, routing::delete(handler))
    }

    /// Adds another family's routes.
    pub fn merge(mut self, other: Routes) -> Routes {
        self.entries.extend(other.entries);
        self
    }

    /// The route table, in declaration order.
    pub fn info(&self) -> Vec<RouteInfo> {
        self.entries
            .iter()
            .map(|e| RouteInfo {
                family: e.family,
                method: e.method,
                path: e.path.clone(),
                scope: e.need.scope,
                permission: (!e.need.self_service).then_some(e.need.permission),
                self_service: e.need.self_service,
                role: (!e.need.self_service).then(|| least_role_for(e.need.permission)),
            })
            .collect()
    }

    /// The axum router: each route behind the guard, which gets the route's own [`Need`] (and
    /// `.self` scope) as arguments rather than looking them up.
    pub fn into_router(self, state: &AppState) -> Router<AppState> {
        let mut router = Router::new();
        for entry in self.entries {
            let need = entry.need;
            let self_scope = steward_core::scopes::self_scope(entry.method, &entry.path);
            let guard = middleware::from_fn_with_state(
                state.clone(),
                move |State(state): State<AppState>, req: Request, next: Next| {
                    guard::enforce(state, need, self_scope, req, next)
                },
            );
            // Routes on one path merge into one method router; each method keeps its guard.
            router = router.route(&entry.path, entry.endpoint.route_layer(guard));
        }
        router
    }
}

/// Every guarded route of the API: the Management API core, client roles, and governance.
pub fn api() -> Routes {
    mgmt::routes()
        .merge(governance::routes())
        .merge(crate::workflows::routes())
        .merge(crate::workflows_connections::routes())
}

/// The route table of the whole API (what `steward routes` prints).
pub fn table() -> Vec<RouteInfo> {
    api().info()
}

/// The route table, built once: what is built and what is not is read from it at run time.
fn served() -> &'static [RouteInfo] {
    static SERVED: LazyLock<Vec<RouteInfo>> = LazyLock::new(table);
    &SERVED
}

/// Whether a token holding `scope` can call anything Steward serves: a route demands it (or,
/// for a `.manage` scope, its `.read`), or admits it on the caller's own record. The rest of
/// the catalogue is "not built yet": granting it is refused and discovery does not list it.
pub fn scope_is_built(scope: &str) -> bool {
    // Taken outside the route table: the invoke URL of API endpoint flows.
    if scope == crate::workflows::INVOKE_SCOPE {
        return true;
    }
    served().iter().any(|r| {
        steward_core::scopes::implies(scope, r.scope)
            || steward_core::scopes::self_scope(r.method, &r.path) == Some(scope)
    })
}

/// The scopes of the catalogue that no served route takes, in catalogue order.
pub fn unbuilt_scopes() -> Vec<&'static ScopeInfo> {
    steward_core::scopes::all_scopes()
        .filter(|s| !scope_is_built(s.name))
        .collect()
}

/// Whether some served route has `role` as its least role. A role that is the least role of
/// nothing Steward serves (`ACCESS_CERTIFICATIONS_ADMIN`: no certification route exists) would
/// administer nothing of its own, so assigning it is refused.
pub fn role_is_built(role: RoleType) -> bool {
    served().iter().any(|r| r.role == Some(role))
}

/// The permissions a role allows that no served route needs (what it is "not built yet" for).
pub fn unbuilt_permissions(role: RoleType) -> Vec<Permission> {
    Permission::ALL
        .into_iter()
        .filter(|p| role.allows(*p) && !served().iter().any(|r| r.permission == Some(*p)))
        .collect()
}

/// Whether a concrete request path fits a spec path template: as many segments, literal
/// segments equal, `{param}` segments non-empty.
fn fits(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) => {
                let param = ts.starts_with('{') && ts.ends_with('}');
                if (param && ps.is_empty()) || (!param && ts != ps) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The scope a call of `method` on the concrete `path` (no query) needs: the served route whose
/// template it fits (the most literal first), else the Okta operation it names. A segment of
/// `path` written `{name}` (a placeholder filled when a flow runs) fits only a parameter.
/// Preflight resolves Custom API Actions with it.
pub fn scope_for(method: &str, path: &str) -> Option<String> {
    let method = if method.eq_ignore_ascii_case("HEAD") {
        "GET".to_string()
    } else {
        method.to_ascii_uppercase()
    };
    let fits_param = |template: &str| {
        let (t, p): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len()
            && t.iter().zip(&p).all(|(ts, ps)| {
                let param = ts.starts_with('{') && ts.ends_with('}');
                let placeholder = ps.starts_with('{') && ps.ends_with('}');
                if param {
                    !ps.is_empty()
                } else {
                    !placeholder && ts == ps
                }
            })
    };
    let literal = |template: &str| template.split('/').filter(|s| !s.starts_with('{')).count();
    let route = served()
        .iter()
        .filter(|r| r.method == method && fits_param(&r.path))
        .max_by_key(|r| literal(&r.path));
    if let Some(r) = route {
        return Some(r.scope.to_string());
    }
    steward_core::scopes::OPERATIONS
        .iter()
        .filter(|op| op.method == method && fits_param(op.path))
        .max_by_key(|op| literal(op.path))
        .and_then(|op| op.scopes.first())
        .map(|s| s.to_string())
}

/// The operations of Okta's specs whose path template `path` fits, the most literal template
/// first (`…/lifecycle/activate` before `…/lifecycle/{op}`).
pub fn spec_operations(path: &str) -> Vec<&'static OperationInfo> {
    let mut found: Vec<&'static OperationInfo> = steward_core::scopes::OPERATIONS
        .iter()
        .filter(|op| fits(op.path, path))
        .collect();
    found.sort_by_key(|op| {
        std::cmp::Reverse(op.path.split('/').filter(|s| !s.starts_with('{')).count())
    });
    found
}

/// `501` `E0000015` naming the operation Steward does not serve yet.
pub fn not_built(op: &OperationInfo) -> crate::error::ApiError {
    let scope = match op.scopes {
        [] => String::new(),
        scopes => format!(", scope {}", scopes.join(" ")),
    };
    crate::error::ApiError::NotBuilt(format!(
        "Steward does not serve {} ({} {}{scope}) yet",
        op.operation_id, op.method, op.path
    ))
}

/// The operation of Okta's specs that `method` on `path` names, if any. Asked only when no
/// route of Steward matched the request, so what it finds is not built yet (answered `501`).
pub fn okta_operation(method: &str, path: &str) -> Option<&'static OperationInfo> {
    // `HEAD` is a `GET` without the body.
    let method = if method.eq_ignore_ascii_case("HEAD") {
        "GET"
    } else {
        method
    };
    spec_operations(path)
        .into_iter()
        .find(|op| op.method.eq_ignore_ascii_case(method))
}

/// What each role allows, in the words of `docs/roles.md`.
fn allowed_list(role: RoleType) -> String {
    let allowed: Vec<&str> = Permission::ALL
        .into_iter()
        .filter(|p| role.allows(*p))
        .map(|p| p.as_str())
        .collect();
    if allowed.len() == Permission::ALL.len() {
        "everything".into()
    } else {
        allowed.join(", ")
    }
}

fn role_cell(info: &RouteInfo) -> String {
    match info.role {
        Some(role) => format!("`{}`", role.as_str()),
        None => "none: the signed-in user's own token".into(),
    }
}

/// `docs/roles.md`: each role type and what it allows, the least role for each permission, and
/// for each route family the least role of each of its routes. Generated from the route table
/// (`steward routes --roles-md`); a test compares it with the checked-in file.
pub fn roles_markdown(routes: &[RouteInfo]) -> String {
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    line("# Admin roles");
    line("");
    line("Generated by `steward routes --roles-md` from the route table that the server is built from");
    line(
        "(`crates/steward-api/src/routes.rs`); a test fails when this file and the code disagree.",
    );
    line("");
    line(
        "A call needs two things: its token's **scope** (OAuth access tokens only; SSWS tokens are",
    );
    line("unscoped) and a **role** of the principal that allows the route's permission. The principal is");
    line("the signed-in user (user tokens), the service app (client-credentials tokens), or the admin an");
    line(
        "SSWS token acts as. A Super Admin assigns a role with `POST /api/v1/users/{id}/roles` or",
    );
    line(
        "`POST /oauth2/v1/clients/{clientId}/roles` and the body `{\"type\": \"ROLE_TYPE\"}`. The",
    );
    line(
        "self-service routes (`/governance/api/v2/my/…`) need no role: any signed-in user's access",
    );
    line("token with the scope acts on the user's own requests and tasks.");
    line("");
    line("## Role types");
    line("");
    line("| role type | label | allows |");
    line("| --- | --- | --- |");
    for role in RoleType::ALL {
        line(&format!(
            "| `{}` | {} | {} |",
            role.as_str(),
            role.label(),
            allowed_list(role)
        ));
    }
    line("");
    line("## The least role for each permission");
    line("");
    line("The least-privileged role that allows a permission is the one Okta's specs name for its");
    line(
        "operations (`x-okta-iam-admin-roles`) where they name one, else the role with the fewest",
    );
    line("write permissions, then the fewest permissions in all (`roles::least_role_for`).");
    line("");
    line("| permission | least role | also allowed by |");
    line("| --- | --- | --- |");
    for p in Permission::ALL {
        let least = least_role_for(p);
        let others: Vec<String> = RoleType::ALL
            .into_iter()
            .filter(|r| *r != least && r.allows(p))
            .map(|r| format!("`{}`", r.as_str()))
            .collect();
        line(&format!(
            "| {} | `{}` | {} |",
            p.as_str(),
            least.as_str(),
            others.join(", ")
        ));
    }
    line("");
    let differences: Vec<Permission> = Permission::ALL
        .into_iter()
        .filter(|p| steward_core::roles::fewest_privileges_role(*p) != least_role_for(*p))
        .collect();
    if !differences.is_empty() {
        line("Where the specs' named role is not the one with the fewest privileges:");
        line("");
        for p in differences {
            line(&format!(
                "- {}: Steward's `{}` allows it too, but Okta's specs name only `{}` on its operations, so that is the role to assign.",
                p.as_str(),
                steward_core::roles::fewest_privileges_role(p).as_str(),
                least_role_for(p).as_str()
            ));
        }
        line("");
    }
    line("## Routes by family");
    line("");
    let mut families: Vec<&'static str> = Vec::new();
    for r in routes {
        if !families.contains(&r.family) {
            families.push(r.family);
        }
    }
    line("| family | routes | least role to read | least role to write |");
    line("| --- | --- | --- | --- |");
    for family in &families {
        let of_family: Vec<&RouteInfo> = routes.iter().filter(|r| r.family == *family).collect();
        let least = |reads: bool| {
            let mut cells: Vec<String> = Vec::new();
            for r in of_family.iter().filter(|r| (r.method == "GET") == reads) {
                let cell = role_cell(r);
                if !cells.contains(&cell) {
                    cells.push(cell);
                }
            }
            if cells.is_empty() {
                "—".to_string()
            } else {
                cells.join(", ")
            }
        };
        line(&format!(
            "| {family} | {} | {} | {} |",
            of_family.len(),
            least(true),
            least(false)
        ));
    }
    line("");
    for family in &families {
        line(&format!("### {family}"));
        line("");
        line("| method | path | scope | permission | least role |");
        line("| --- | --- | --- | --- | --- |");
        for r in routes.iter().filter(|r| r.family == *family) {
            let scope = match steward_core::scopes::self_scope(r.method, &r.path) {
                Some(own) => format!("`{}` (or `{own}` on one's own record, no role)", r.scope),
                None => format!("`{}`", r.scope),
            };
            line(&format!(
                "| {} | `{}` | {scope} | {} | {} |",
                r.method,
                r.path,
                r.permission.map_or("—", Permission::as_str),
                role_cell(r)
            ));
        }
        line("");
    }
    not_built_markdown(&mut line);
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// The "not built yet" section of `docs/roles.md`, derived from the route table and the scope
/// catalogue.
fn not_built_markdown(line: &mut impl FnMut(&str)) {
    line("## Not built yet");
    line("");
    line(
        "What Okta's API has and Steward does not serve yet, derived from the route table and the",
    );
    line("scope catalogue. Nothing here is granted or assigned silently:");
    line("");
    line(
        "- a request to a path of Okta's specs that no route serves answers `501 Not Implemented`,",
    );
    line("  `E0000015`, naming the operation, its method and path template and its scope (`404`");
    line("  stays for what Okta does not have either);");
    line("- granting one of these scopes (`POST /api/v1/apps/{appId}/grants`) answers `400`");
    line("  `E0000001`, \"scopeId: … is not built yet\"; discovery (`scopes_supported`) lists only built");
    line("  scopes;");
    line(
        "- assigning one of these roles answers `400` `E0000001`, \"type: … is not built yet\" (a",
    );
    line("  role is built when it is the least role of some route). Assignments made before stay and");
    line("  can be listed and removed.");
    line("");
    line("| role type | what it administers that Steward does not serve |");
    line("| --- | --- |");
    for role in RoleType::ALL.into_iter().filter(|r| !role_is_built(*r)) {
        let unbuilt: Vec<&str> = unbuilt_permissions(role)
            .into_iter()
            .map(Permission::as_str)
            .collect();
        line(&format!("| `{}` | {} |", role.as_str(), unbuilt.join(", ")));
    }
    line("");
    let unbuilt = unbuilt_scopes();
    line(&format!(
        "{} scopes of the catalogue are not built yet:",
        unbuilt.len()
    ));
    line("");
    line("| family | scopes not built yet |");
    line("| --- | --- |");
    for family in [
        ScopeFamily::Governance,
        ScopeFamily::AccessRequests,
        ScopeFamily::Management,
    ] {
        let names: Vec<String> = unbuilt
            .iter()
            .filter(|s| s.family == family)
            .map(|s| format!("`{}`", s.name))
            .collect();
        if !names.is_empty() {
            line(&format!("| {} | {} |", family.as_str(), names.join(", ")));
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The path with its parameters' names erased, as the specs and Steward name them apart.
    fn normalise(p: &str) -> String {
        p.split('/')
            .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The `.self` scopes reach only the routes that read or update one user's record, and
    /// never the `/my/…` ones.
    #[test]
    fn self_scopes_reach_only_a_users_own_record() {
        let mut reached = Vec::new();
        for r in table() {
            if let Some(scope) = steward_core::scopes::self_scope(r.method, &r.path) {
                assert!(
                    !r.self_service && r.path.ends_with("/users/{id}"),
                    "{}",
                    r.path
                );
                assert!(steward_core::scopes::lookup(scope).is_some(), "{scope}");
                reached.push(r.method);
            }
        }
        assert_eq!(reached, ["GET", "POST", "PUT"]);
    }

    /// Every declared scope is the one Okta's spec gives the same operation; the routes the specs
    /// do not have are exactly Steward's [`EXTENSIONS`].
    #[test]
    fn route_scopes_match_the_specs() {
        let mut extensions = Vec::new();
        for r in table() {
            let (method, path) = (r.method, r.path.as_str());
            if path.contains("/lifecycle/{op}") {
                continue; // one route serves several spec operations; checked below
            }
            if EXTENSIONS.contains(&(method, path)) {
                assert!(steward_core::scopes::lookup(r.scope).is_some(), "{path}");
                extensions.push((method, path.to_string()));
                continue; // Steward's own; its scope is the family's
            }
            let op = steward_core::scopes::OPERATIONS
                .iter()
                .find(|o| o.method == method && normalise(o.path) == normalise(path));
            let Some(op) = op else {
                panic!("{method} {path} is not in the specs")
            };
            assert_eq!(op.scopes.first().copied(), Some(r.scope), "{method} {path}");
        }
        let mut want: Vec<(&str, String)> = EXTENSIONS
            .iter()
            .map(|(m, p)| (*m, p.to_string()))
            .collect();
        extensions.sort();
        want.sort();
        assert_eq!(extensions, want, "every extension is a route");
        for op in [
            "activate",
            "reactivate",
            "deactivate",
            "suspend",
            "unsuspend",
            "unlock",
        ] {
            let path = format!("/api/v1/users/{{id}}/lifecycle/{op}");
            assert_eq!(
                steward_core::scopes::required_scope("POST", &path),
                Some("okta.users.manage"),
                "{path}"
            );
        }
        for op in ["activate", "deactivate"] {
            let path = format!("/api/v1/apps/{{appId}}/lifecycle/{op}");
            assert_eq!(
                steward_core::scopes::required_scope("POST", &path),
                Some("okta.apps.manage"),
                "{path}"
            );
        }
    }

    /// Where the spec names the admin roles of a route's operation, the route's least role is
    /// one of them (SUPER_ADMIN, which Okta allows everything, counts too).
    #[test]
    fn least_roles_are_among_the_specs_admin_roles() {
        let mut checked = 0;
        for r in table() {
            let op = steward_core::scopes::OPERATIONS
                .iter()
                .find(|o| o.method == r.method && normalise(o.path) == normalise(&r.path));
            let Some(op) = op.filter(|o| !o.admin_roles.is_empty()) else {
                continue;
            };
            match r.role {
                Some(role) => assert!(
                    op.admin_roles.contains(&role.as_str()),
                    "{} {}: {role:?} not in {:?}",
                    r.method,
                    r.path,
                    op.admin_roles
                ),
                None => panic!("{} {}: the spec names roles", r.method, r.path),
            }
            checked += 1;
        }
        // The v1 and v2 admin routes and the resource owners' all name their roles.
        assert!(checked >= 40, "{checked}");
    }

    /// Certifications and entitlements are not built: their scopes and role are marked so;
    /// every scope a route takes is built, and so is every role some route needs.
    #[test]
    fn what_is_not_built_is_derived_from_the_route_table() {
        let unbuilt: Vec<&str> = unbuilt_scopes().iter().map(|s| s.name).collect();
        for scope in [
            "okta.governance.accessCertifications.read",
            "okta.governance.accessCertifications.manage",
            "okta.governance.entitlements.read",
            "okta.governance.entitlements.manage",
            "okta.authorizationServers.read",
        ] {
            assert!(unbuilt.contains(&scope), "{scope}");
            assert!(!scope_is_built(scope), "{scope}");
        }
        for r in table() {
            assert!(scope_is_built(r.scope), "{} {}", r.method, r.path);
        }
        for scope in [
            "okta.users.manage",
            "okta.users.read.self",
            "okta.users.manage.self",
            "okta.clients.read",
            "okta.governance.resourceOwner.read",
        ] {
            assert!(scope_is_built(scope), "{scope}");
        }
        assert!(!scope_is_built("okta.made.up"));
        let unbuilt_roles: Vec<RoleType> = RoleType::ALL
            .into_iter()
            .filter(|r| !role_is_built(*r))
            .collect();
        assert_eq!(unbuilt_roles, [RoleType::AccessCertificationsAdmin]);
        assert_eq!(
            unbuilt_permissions(RoleType::AccessCertificationsAdmin),
            [
                Permission::CertificationsRead,
                Permission::CertificationsManage
            ]
        );
    }

    /// A request names a spec operation by its path's shape; the most literal template wins.
    #[test]
    fn requests_name_the_spec_operation_they_fit() {
        let op = okta_operation("GET", "/governance/api/v1/campaigns").unwrap();
        assert_eq!(op.scopes, ["okta.governance.accessCertifications.read"]);
        let op = okta_operation("HEAD", "/governance/api/v1/campaigns/abc").unwrap();
        assert_eq!(op.method, "GET");
        let op = okta_operation("POST", "/api/v1/users/00u1/lifecycle/expire_password").unwrap();
        assert!(
            op.path.ends_with("/lifecycle/expire_password"),
            "{}",
            op.path
        );
        assert!(okta_operation("DELETE", "/governance/api/v1/campaigns").is_none());
        assert!(!spec_operations("/governance/api/v1/campaigns").is_empty());
        for nothing in [
            "/governance/api/v1/campaigns/",
            "/governance/api/v1/campaigns//launch",
            "/api/v1/nothing",
            "/",
        ] {
            assert!(spec_operations(nothing).is_empty(), "{nothing}");
        }
    }

    #[test]
    fn each_route_is_declared_once() {
        let routes = table();
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            assert!(
                seen.insert((r.method, r.path.clone())),
                "{} {}",
                r.method,
                r.path
            );
        }
        assert!(routes.len() > 90, "{}", routes.len());
    }

    /// A self-service route has no permission and no role; an admin route has both.
    #[test]
    fn only_self_service_routes_go_without_a_role() {
        for r in table() {
            assert_eq!(r.permission.is_none(), r.self_service, "{}", r.path);
            assert_eq!(r.role.is_none(), r.self_service, "{}", r.path);
            assert_eq!(r.self_service, r.path.contains("/my/"), "{}", r.path);
        }
    }

    /// `docs/roles.md` is what the route table generates (regenerate it with
    /// `steward routes --roles-md > docs/roles.md`).
    #[test]
    fn the_roles_doc_matches_the_route_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/roles.md");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        let generated = roles_markdown(&table());
        assert!(
            committed == generated,
            "docs/roles.md is stale: run `cargo run -p steward -- routes --roles-md > docs/roles.md`"
        );
    }
}
