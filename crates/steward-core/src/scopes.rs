//! The catalogue of Okta API scopes and of every Okta API operation's required scopes.
//!
//! [`SCOPES`] and [`OPERATIONS`] are generated from Okta's published OpenAPI specs
//! (`shared/specs/`) by `tools/gen_scopes.py` into `scopes/catalogue.rs`; the integration test
//! `tests/scope_catalogue_matches_specs.rs` re-reads the specs and fails if the checked-in table
//! drifts from them. See `docs/scopes.md`.
//!
//! ## Semantics of an operation's scope list
//!
//! In every spec each operation has at most one OAuth2 security requirement (the generator and the
//! test check this), so [`OperationInfo::scopes`] is that requirement's scope list verbatim. Per
//! OpenAPI, the scopes in one requirement are required *together*. Almost every operation lists
//! exactly one scope; the exceptions are the five management `group-push/mappings` operations,
//! which list an `okta.apps.*` and an `okta.groups.*` scope (both needed).
//!
//! The specs never list a `.manage` scope on a read-only (`GET`) operation next to its `.read`
//! scope, yet Okta accepts a token holding `okta.X.manage` wherever `okta.X.read` is required.
//! [`satisfies`] implements that rule ("manage implies read" for the same scope prefix).

mod catalogue;

pub use catalogue::{OPERATIONS, SCOPES};

use std::cmp::Ordering;

/// Which API family a scope belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeFamily {
    /// Okta Management API scopes (`okta.users.read`, `okta.apps.manage`, ...).
    Management,
    /// Identity Governance scopes (`okta.governance.*`).
    Governance,
    /// Access Requests v2 scopes (`okta.accessRequests.*`).
    AccessRequests,
}

impl ScopeFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeFamily::Management => "Management",
            ScopeFamily::Governance => "Governance",
            ScopeFamily::AccessRequests => "AccessRequests",
        }
    }
}

/// One Okta API scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopeInfo {
    /// The scope string, e.g. `okta.users.read`.
    pub name: &'static str,
    /// The spec's description; empty when the scope is not declared.
    pub description: &'static str,
    pub family: ScopeFamily,
    /// `false` for scopes that operations use but no spec declares in its security scheme
    /// (`okta.governance.admin.read|manage`).
    pub declared: bool,
}

/// One API operation of the Okta specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OperationInfo {
    /// Upper-case HTTP method, e.g. `GET`.
    pub method: &'static str,
    /// Full path template, e.g. `/governance/api/v1/requests/{requestId}` or `/api/v1/users`.
    pub path: &'static str,
    /// The spec's `operationId` (not unique across specs: `getOrgSettings` exists in both the
    /// management and the governance spec).
    pub operation_id: &'static str,
    /// OAuth2 scopes the operation lists (all required, see the module docs). Empty for
    /// operations that take no OAuth2 scope (public `/.well-known/*`, SSWS-only endpoints).
    pub scopes: &'static [&'static str],
    /// `x-okta-iam-admin-roles`, in spec order; empty when the spec does not say.
    pub admin_roles: &'static [&'static str],
    /// `x-okta-lifecycle.lifecycle`: `GA`, `BETA`, `EA`, `LIMITED_GA`, or empty.
    pub lifecycle: &'static str,
    /// Stem of the spec file the operation comes from, e.g. `management-minimal`.
    pub spec: &'static str,
}

/// Okta's end-user scopes for the signed-in user's own record. Okta documents them (and grants
/// them to apps), but no operation of this release of the specs lists them, so the generator does
/// not see them. Steward accepts them, besides the spec's admin scope, on reading
/// (`GET /api/v1/users/{id}`) and updating (`POST`/`PUT`) the caller's own user, `me` included:
/// see [`self_scope`].
pub static SELF_SCOPES: &[ScopeInfo] = &[
    ScopeInfo {
        name: "okta.users.manage.self",
        description: "Allows the app to manage the signed-in user's own profile",
        family: ScopeFamily::Management,
        declared: false,
    },
    ScopeInfo {
        name: "okta.users.read.self",
        description: "Allows the app to read the signed-in user's own profile",
        family: ScopeFamily::Management,
        declared: false,
    },
];

/// Okta's scope for reading OAuth clients through Dynamic Client Registration
/// (`GET /oauth2/v1/clients/{clientId}`). Okta documents it, but the specs of this release have
/// no operation for that path, so the generator does not see it.
pub static CLIENT_SCOPES: &[ScopeInfo] = &[ScopeInfo {
    name: "okta.clients.read",
    description: "Allows the app to read information about OAuth clients in your Okta org",
    family: ScopeFamily::Management,
    declared: false,
}];

/// Okta Workflows' scopes. Okta documents `okta.workflows.read`, `okta.workflows.manage` and
/// `okta.workflows.invoke.manage` (calling an API endpoint flow with an org access token); the
/// specs have no Workflows API. Steward takes them on its `/workflows/api/v1` extension and on
/// `POST /api/flo/{flowId}/invoke` (see `docs/workflows.md`).
pub static WORKFLOWS_SCOPES: &[ScopeInfo] = &[
    ScopeInfo {
        name: "okta.workflows.invoke.manage",
        description: "Allows the app to invoke API endpoint flows in your Okta org",
        family: ScopeFamily::Management,
        declared: false,
    },
    ScopeInfo {
        name: "okta.workflows.manage",
        description: "Allows the app to import, switch on and off, and run flows in your Okta org",
        family: ScopeFamily::Management,
        declared: false,
    },
    ScopeInfo {
        name: "okta.workflows.read",
        description: "Allows the app to read flows and their executions in your Okta org",
        family: ScopeFamily::Management,
        declared: false,
    },
];

/// The `.self` scope that also admits a user's token to the operation on its own record, if any.
pub fn self_scope(method: &str, path_template: &str) -> Option<&'static str> {
    match (method, path_template) {
        ("GET", "/api/v1/users/{id}") => Some("okta.users.read.self"),
        ("POST" | "PUT", "/api/v1/users/{id}") => Some("okta.users.manage.self"),
        _ => None,
    }
}

/// The catalogued scope called `name` (or one of the [`SELF_SCOPES`] or [`CLIENT_SCOPES`]).
pub fn lookup(name: &str) -> Option<&'static ScopeInfo> {
    SCOPES
        .binary_search_by(|s| s.name.cmp(name))
        .ok()
        .and_then(|i| SCOPES.get(i))
        .or_else(|| extra_scopes().find(|s| s.name == name))
}

/// The scopes Okta documents beyond the specs' ([`SELF_SCOPES`], [`CLIENT_SCOPES`],
/// [`WORKFLOWS_SCOPES`]).
pub fn extra_scopes() -> impl Iterator<Item = &'static ScopeInfo> {
    SELF_SCOPES
        .iter()
        .chain(CLIENT_SCOPES)
        .chain(WORKFLOWS_SCOPES)
}

/// Every scope [`lookup`] knows: the generated catalogue, then the documented extras.
pub fn all_scopes() -> impl Iterator<Item = &'static ScopeInfo> {
    SCOPES.iter().chain(extra_scopes())
}

/// Whether `name` is an Okta API scope known to the catalogue (declared or used by the specs).
pub fn is_okta_scope(name: &str) -> bool {
    lookup(name).is_some()
}

/// Compares an upper-case catalogue method with a caller's method, ignoring ASCII case.
fn cmp_method(catalogued: &str, wanted: &str) -> Ordering {
    catalogued
        .bytes()
        .cmp(wanted.bytes().map(|b| b.to_ascii_uppercase()))
}

/// The operation for `method` (any case) on the exact path template `path_template`.
pub fn operation(method: &str, path_template: &str) -> Option<&'static OperationInfo> {
    OPERATIONS
        .binary_search_by(|op| {
            op.path
                .cmp(path_template)
                .then_with(|| cmp_method(op.method, method))
        })
        .ok()
        .and_then(|i| OPERATIONS.get(i))
}

/// The first scope the operation lists (for all but five operations, the only one).
pub fn required_scope(method: &str, path_template: &str) -> Option<&'static str> {
    accepted_scopes(method, path_template).first().copied()
}

/// The scopes the operation lists, verbatim from the spec; empty for unknown operations and for
/// operations that take no OAuth2 scope. When more than one is listed they are all required (see
/// the module docs); use [`satisfies`] to check a token.
pub fn accepted_scopes(method: &str, path_template: &str) -> &'static [&'static str] {
    operation(method, path_template).map_or(&[], |op| op.scopes)
}

/// Whether holding scope `held` satisfies a requirement for scope `required`: the same scope, or
/// the `.manage` scope of the same prefix for a `.read` requirement
/// (`okta.users.manage` satisfies `okta.users.read`, `okta.users.manage.self` satisfies
/// `okta.users.read.self`; the reverse does not hold, and a `.self` scope never satisfies an
/// admin scope).
pub fn implies(held: &str, required: &str) -> bool {
    if held == required {
        return true;
    }
    if let (Some(required), Some(held)) = (
        required.strip_suffix(".read.self"),
        held.strip_suffix(".manage.self"),
    ) {
        return required == held;
    }
    match (required.strip_suffix(".read"), held.strip_suffix(".manage")) {
        (Some(required_prefix), Some(held_prefix)) => required_prefix == held_prefix,
        _ => false,
    }
}

/// Whether a token holding `token_scopes` may call the operation, as far as scopes go: every scope
/// the operation lists must be implied (see [`implies`]) by one of the token's scopes. Unknown
/// operations are never satisfied; operations listing no scope are always satisfied (whether they
/// accept an OAuth2 token at all is for the caller's routing to decide).
pub fn satisfies(token_scopes: &[&str], method: &str, path_template: &str) -> bool {
    match operation(method, path_template) {
        None => false,
        Some(op) => op
            .scopes
            .iter()
            .all(|required| token_scopes.iter().any(|held| implies(held, required))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        assert!(SCOPES.windows(2).all(|w| w[0].name < w[1].name));
        assert!(OPERATIONS
            .windows(2)
            .all(|w| (w[0].path, w[0].method) < (w[1].path, w[1].method)));
    }

    #[test]
    fn every_operation_scope_with_okta_prefix_is_catalogued() {
        for op in OPERATIONS {
            for s in op.scopes {
                if s.starts_with("okta.") {
                    assert!(is_okta_scope(s), "{s} used by {} {}", op.method, op.path);
                }
            }
            assert!(op.path.starts_with('/'));
            assert_eq!(op.method, op.method.to_ascii_uppercase());
        }
    }

    #[test]
    fn lookup_finds_known_scopes() {
        let users = lookup("okta.users.read").unwrap();
        assert_eq!(users.family, ScopeFamily::Management);
        assert!(users.declared);
        assert!(!users.description.is_empty());

        let certs = lookup("okta.governance.accessCertifications.manage").unwrap();
        assert_eq!(certs.family, ScopeFamily::Governance);

        let catalog = lookup("okta.accessRequests.catalog.read").unwrap();
        assert_eq!(catalog.family, ScopeFamily::AccessRequests);
        assert_eq!(catalog.family.as_str(), "AccessRequests");

        assert!(lookup("okta.users.write").is_none());
        assert!(lookup("").is_none());
        assert!(lookup("ssf.read").is_none());
    }

    #[test]
    fn undeclared_governance_admin_scopes_are_catalogued() {
        for name in ["okta.governance.admin.read", "okta.governance.admin.manage"] {
            let s = lookup(name).unwrap();
            assert!(!s.declared);
            assert_eq!(s.description, "");
            assert_eq!(s.family, ScopeFamily::Governance);
        }
        assert!(SCOPES.iter().filter(|s| !s.declared).count() >= 2);
    }

    #[test]
    fn is_okta_scope_checks_the_catalogue() {
        assert!(is_okta_scope("okta.groups.manage"));
        assert!(is_okta_scope("okta.accessRequests.tasks.read"));
        assert!(!is_okta_scope("okta.groups"));
        assert!(!is_okta_scope("openid"));
        assert!(!is_okta_scope("OKTA.USERS.READ"));
    }

    #[test]
    fn self_scopes_are_known_and_only_imply_their_own_read() {
        for s in extra_scopes() {
            assert!(is_okta_scope(s.name) && !s.description.is_empty());
            // The specs do not list them; if a release does, the catalogue must take over.
            assert!(SCOPES.iter().all(|c| c.name != s.name), "{}", s.name);
        }
        assert!(implies("okta.users.manage.self", "okta.users.read.self"));
        assert!(!implies("okta.users.read.self", "okta.users.manage.self"));
        assert!(!implies("okta.users.manage.self", "okta.users.read"));
        assert!(!implies("okta.users.read.self", "okta.users.read"));
        assert!(!implies("okta.users.manage", "okta.users.read.self"));
        assert!(!implies("okta.groups.manage.self", "okta.users.read.self"));
        assert_eq!(
            self_scope("GET", "/api/v1/users/{id}"),
            Some("okta.users.read.self")
        );
        assert_eq!(
            self_scope("PUT", "/api/v1/users/{id}"),
            Some("okta.users.manage.self")
        );
        assert_eq!(self_scope("DELETE", "/api/v1/users/{id}"), None);
        assert_eq!(self_scope("GET", "/api/v1/users"), None);
    }

    #[test]
    fn operation_lookup_uses_full_paths_and_any_method_case() {
        let op = operation("GET", "/governance/api/v1/requests/{requestId}").unwrap();
        assert_eq!(op.scopes, &["okta.governance.accessRequests.read"]);
        assert_eq!(
            op.spec,
            "governance-production-requests-admin-v1-reference-minimal"
        );
        assert_eq!(op.lifecycle, "BETA");
        assert_eq!(
            operation("get", "/governance/api/v1/requests/{requestId}"),
            Some(op)
        );

        let users = operation("GET", "/api/v1/users").unwrap();
        assert_eq!(users.operation_id, "listUsers");
        assert_eq!(users.spec, "management-minimal");

        assert!(operation("GET", "/v1/requests/{requestId}").is_none());
        assert!(operation("GET", "/api/v1/users/").is_none());
        assert!(operation("PURGE", "/api/v1/users").is_none());
    }

    #[test]
    fn campaigns_carry_admin_roles_and_lifecycle() {
        let op = operation("POST", "/governance/api/v1/campaigns").unwrap();
        assert_eq!(op.scopes, &["okta.governance.accessCertifications.manage"]);
        assert!(op.admin_roles.contains(&"ACCESS_CERTIFICATIONS_ADMIN"));
        assert_eq!(op.lifecycle, "GA");
    }

    #[test]
    fn required_and_accepted_scopes() {
        assert_eq!(
            required_scope("DELETE", "/api/v1/users/{id}"),
            Some("okta.users.manage")
        );
        assert_eq!(required_scope("GET", "/nope"), None);
        assert!(accepted_scopes("GET", "/nope").is_empty());

        let push = "/api/v1/apps/{appId}/group-push/mappings";
        assert_eq!(
            accepted_scopes("GET", push),
            &["okta.apps.read", "okta.groups.read"]
        );
        assert_eq!(required_scope("GET", push), Some("okta.apps.read"));

        // Public endpoint: known, but no scope.
        assert!(operation("GET", "/.well-known/okta-organization").is_some());
        assert_eq!(
            required_scope("GET", "/.well-known/okta-organization"),
            None
        );
    }

    #[test]
    fn manage_implies_read_of_the_same_prefix_only() {
        assert!(implies("okta.users.read", "okta.users.read"));
        assert!(implies("okta.users.manage", "okta.users.read"));
        assert!(!implies("okta.users.read", "okta.users.manage"));
        assert!(!implies("okta.groups.manage", "okta.users.read"));
        assert!(!implies(
            "okta.apps.manage",
            "okta.apps.interclientTrust.read"
        ));
        assert!(implies(
            "okta.governance.securityAccessReviews.admin.manage",
            "okta.governance.securityAccessReviews.admin.read"
        ));
        assert!(!implies(".manage", "okta.users.read"));
    }

    #[test]
    fn satisfies_applies_manage_implies_read() {
        let get = ("GET", "/governance/api/v1/campaigns");
        assert!(satisfies(
            &["okta.governance.accessCertifications.read"],
            get.0,
            get.1
        ));
        assert!(satisfies(
            &["okta.governance.accessCertifications.manage"],
            get.0,
            get.1
        ));
        assert!(!satisfies(&["okta.governance.reviewer.read"], get.0, get.1));
        assert!(!satisfies(&[], get.0, get.1));

        let post = ("POST", "/governance/api/v1/campaigns");
        assert!(satisfies(
            &["okta.governance.accessCertifications.manage"],
            post.0,
            post.1
        ));
        assert!(!satisfies(
            &["okta.governance.accessCertifications.read"],
            post.0,
            post.1
        ));

        assert!(satisfies(&["okta.users.manage"], "GET", "/api/v1/users"));
        assert!(!satisfies(
            &["okta.users.manage"],
            "GET",
            "/api/v1/no-such-route"
        ));
    }

    #[test]
    fn satisfies_requires_every_listed_scope() {
        let push = "/api/v1/apps/{appId}/group-push/mappings";
        assert!(!satisfies(&["okta.apps.read"], "GET", push));
        assert!(!satisfies(&["okta.groups.read"], "GET", push));
        assert!(satisfies(
            &["okta.apps.read", "okta.groups.read"],
            "GET",
            push
        ));
        assert!(satisfies(
            &["okta.apps.manage", "okta.groups.read"],
            "GET",
            push
        ));
        assert!(!satisfies(
            &["okta.apps.manage", "okta.groups.read"],
            "POST",
            push
        ));
    }

    #[test]
    fn operations_without_scopes_need_none() {
        assert!(satisfies(&[], "GET", "/.well-known/okta-organization"));
    }

    #[test]
    fn no_get_lists_read_and_manage_together() {
        // The reason `satisfies` implements "manage implies read" itself.
        for op in OPERATIONS.iter().filter(|op| op.method == "GET") {
            let has_read = op.scopes.iter().any(|s| s.ends_with(".read"));
            let has_manage = op.scopes.iter().any(|s| s.ends_with(".manage"));
            assert!(!(has_read && has_manage), "{} {}", op.method, op.path);
        }
    }
}
