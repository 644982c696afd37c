//! Admin roles and the one permission model that decides every Management and Governance call.
//!
//! A principal (a user, a service app, or an SSWS token acting as its admin) holds standard role
//! types; each role allows a fixed set of [`Permission`]s. Scopes say what a *token* may touch;
//! roles say what the *principal* may do. Both must agree.

use serde::{Deserialize, Serialize};

/// Okta's standard admin role types that Steward implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoleType {
    SuperAdmin,
    OrgAdmin,
    AppAdmin,
    ReadOnlyAdmin,
    AccessRequestsAdmin,
    AccessCertificationsAdmin,
}

impl RoleType {
    pub const ALL: [RoleType; 6] = [
        RoleType::SuperAdmin,
        RoleType::OrgAdmin,
        RoleType::AppAdmin,
        RoleType::ReadOnlyAdmin,
        RoleType::AccessRequestsAdmin,
        RoleType::AccessCertificationsAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoleType::SuperAdmin => "SUPER_ADMIN",
            RoleType::OrgAdmin => "ORG_ADMIN",
            RoleType::AppAdmin => "APP_ADMIN",
            RoleType::ReadOnlyAdmin => "READ_ONLY_ADMIN",
            RoleType::AccessRequestsAdmin => "ACCESS_REQUESTS_ADMIN",
            RoleType::AccessCertificationsAdmin => "ACCESS_CERTIFICATIONS_ADMIN",
        }
    }

    pub fn parse(s: &str) -> Option<RoleType> {
        RoleType::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The label Okta shows for the role.
    pub fn label(self) -> &'static str {
        match self {
            RoleType::SuperAdmin => "Super Administrator",
            RoleType::OrgAdmin => "Organizational Administrator",
            RoleType::AppAdmin => "Application Administrator",
            RoleType::ReadOnlyAdmin => "Read Only Administrator",
            RoleType::AccessRequestsAdmin => "Access Requests Administrator",
            RoleType::AccessCertificationsAdmin => "Access Certifications Administrator",
        }
    }

    /// Whether this role allows `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            RoleType::SuperAdmin => true,
            RoleType::OrgAdmin => !permission.is_super_admin_only(),
            RoleType::AppAdmin => matches!(
                permission,
                UsersRead | GroupsRead | AppsRead | AppsManage | AppGrantsRead
            ),
            RoleType::ReadOnlyAdmin => permission.is_read() && !permission.is_super_admin_only(),
            RoleType::AccessRequestsAdmin => matches!(
                permission,
                UsersRead | GroupsRead | AppsRead | AccessRequestsRead | AccessRequestsManage
            ),
            RoleType::AccessCertificationsAdmin => matches!(
                permission,
                UsersRead | GroupsRead | AppsRead | CertificationsRead | CertificationsManage
            ),
        }
    }
}

/// What an admin call needs. Each route names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Permission {
    UsersRead,
    UsersManage,
    GroupsRead,
    GroupsManage,
    AppsRead,
    AppsManage,
    AppGrantsRead,
    AppGrantsManage,
    RolesRead,
    RolesManage,
    LogsRead,
    AccessRequestsRead,
    AccessRequestsManage,
    CertificationsRead,
    CertificationsManage,
    /// Resource owners (`/governance/api/v1/resource-owners`): Okta names only `SUPER_ADMIN`.
    ResourceOwnersRead,
    ResourceOwnersManage,
    ApiTokensRead,
    ApiTokensManage,
    /// Workflows (`/workflows/api/v1`, a Steward extension): flows and their executions. A
    /// flow runs with its connections' tokens, so only a Super Admin manages or reads them.
    WorkflowsRead,
    WorkflowsManage,
}

impl Permission {
    pub const ALL: [Permission; 21] = [
        Permission::UsersRead,
        Permission::UsersManage,
        Permission::GroupsRead,
        Permission::GroupsManage,
        Permission::AppsRead,
        Permission::AppsManage,
        Permission::AppGrantsRead,
        Permission::AppGrantsManage,
        Permission::RolesRead,
        Permission::RolesManage,
        Permission::LogsRead,
        Permission::AccessRequestsRead,
        Permission::AccessRequestsManage,
        Permission::CertificationsRead,
        Permission::CertificationsManage,
        Permission::ResourceOwnersRead,
        Permission::ResourceOwnersManage,
        Permission::ApiTokensRead,
        Permission::ApiTokensManage,
        Permission::WorkflowsRead,
        Permission::WorkflowsManage,
    ];

    /// The permission's name as `steward routes` prints it (the variant's name).
    pub fn as_str(self) -> &'static str {
        use Permission::*;
        match self {
            UsersRead => "UsersRead",
            UsersManage => "UsersManage",
            GroupsRead => "GroupsRead",
            GroupsManage => "GroupsManage",
            AppsRead => "AppsRead",
            AppsManage => "AppsManage",
            AppGrantsRead => "AppGrantsRead",
            AppGrantsManage => "AppGrantsManage",
            RolesRead => "RolesRead",
            RolesManage => "RolesManage",
            LogsRead => "LogsRead",
            AccessRequestsRead => "AccessRequestsRead",
            AccessRequestsManage => "AccessRequestsManage",
            CertificationsRead => "CertificationsRead",
            CertificationsManage => "CertificationsManage",
            ResourceOwnersRead => "ResourceOwnersRead",
            ResourceOwnersManage => "ResourceOwnersManage",
            ApiTokensRead => "ApiTokensRead",
            ApiTokensManage => "ApiTokensManage",
            WorkflowsRead => "WorkflowsRead",
            WorkflowsManage => "WorkflowsManage",
        }
    }

    pub fn is_read(self) -> bool {
        use Permission::*;
        matches!(
            self,
            UsersRead
                | GroupsRead
                | AppsRead
                | AppGrantsRead
                | RolesRead
                | LogsRead
                | AccessRequestsRead
                | CertificationsRead
                | ResourceOwnersRead
                | ApiTokensRead
                | WorkflowsRead
        )
    }

    /// What only a Super Admin may do: manage roles and scope grants, read and configure
    /// resource owners.
    pub fn is_super_admin_only(self) -> bool {
        use Permission::*;
        matches!(
            self,
            RolesManage
                | AppGrantsManage
                | ResourceOwnersRead
                | ResourceOwnersManage
                | ApiTokensRead
                | ApiTokensManage
                | WorkflowsRead
                | WorkflowsManage
        )
    }
}

/// The least-privileged built-in role type that allows `permission`: the one Okta's specs name
/// (`x-okta-iam-admin-roles`) where they name one, else the role with the fewest write
/// permissions, then the fewest permissions (so reads go to `READ_ONLY_ADMIN`, not to a role that
/// may also write something).
///
/// Where the specs disagree with the fewest-privileges rule: every access-request and
/// certification operation names its family's admin role only (`ACCESS_REQUESTS_ADMIN`,
/// `ACCESS_CERTIFICATIONS_ADMIN`), so those reads recommend it although Steward's
/// `READ_ONLY_ADMIN` allows them too. The route-table test in steward-api checks every route
/// whose operation names roles against this function.
pub fn least_role_for(permission: Permission) -> RoleType {
    match permission {
        Permission::AccessRequestsRead => RoleType::AccessRequestsAdmin,
        Permission::CertificationsRead => RoleType::AccessCertificationsAdmin,
        _ => fewest_privileges_role(permission),
    }
}

/// The role that allows `permission` and the fewest writes, then the fewest permissions in all
/// (ties: the first in [`RoleType::ALL`]). `SUPER_ADMIN` allows everything, so one always exists.
pub fn fewest_privileges_role(permission: Permission) -> RoleType {
    let cost = |role: RoleType| {
        let allowed = Permission::ALL.iter().filter(|p| role.allows(**p));
        let writes = allowed.clone().filter(|p| !p.is_read()).count();
        (writes, allowed.count())
    };
    RoleType::ALL
        .into_iter()
        .filter(|r| r.allows(permission))
        .min_by_key(|r| cost(*r))
        .unwrap_or(RoleType::SuperAdmin)
}

/// Whether any of `roles` allows `permission`.
pub fn any_allows(roles: &[RoleType], permission: Permission) -> bool {
    roles.iter().any(|r| r.allows(permission))
}

/// A user or app that a Management API write would change, as the privileged-principal rule
/// sees it.
#[derive(Debug, Clone, Copy)]
pub enum WriteTarget<'a> {
    /// A user, with the admin roles assigned to them.
    User { roles: &'a [RoleType] },
    /// An app, with the admin roles assigned to it and whether it holds any ACTIVE Okta API
    /// scope grant.
    App {
        roles: &'a [RoleType],
        active_grants: bool,
    },
}

impl WriteTarget<'_> {
    /// Whether only a Super Admin may change it: a Super Admin user (an Org Admin must not take
    /// over the account above theirs), or an app whose credentials act with an admin role or
    /// Okta API scopes (whoever sets its keys, secret or redirect URIs gets those privileges).
    pub fn is_privileged(self) -> bool {
        match self {
            WriteTarget::User { roles } => roles.contains(&RoleType::SuperAdmin),
            WriteTarget::App {
                roles,
                active_grants,
            } => active_grants || !roles.is_empty(),
        }
    }
}

/// Okta's rule for writes to a privileged principal (see [`WriteTarget::is_privileged`]): only a
/// Super Admin may make them. The route's own permission is checked separately, by the guard.
pub fn may_write(caller: &[RoleType], target: WriteTarget) -> bool {
    caller.contains(&RoleType::SuperAdmin) || !target.is_privileged()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in RoleType::ALL {
            assert_eq!(RoleType::parse(r.as_str()), Some(r));
        }
        assert_eq!(RoleType::parse("KING"), None);
    }

    #[test]
    fn only_super_admin_grants_scopes_and_manages_roles() {
        for r in RoleType::ALL {
            assert_eq!(
                r.allows(Permission::AppGrantsManage),
                r == RoleType::SuperAdmin
            );
            assert_eq!(r.allows(Permission::RolesManage), r == RoleType::SuperAdmin);
        }
    }

    #[test]
    fn only_super_admin_reads_or_configures_resource_owners_and_api_tokens() {
        for r in RoleType::ALL {
            for p in [
                Permission::ResourceOwnersRead,
                Permission::ResourceOwnersManage,
                Permission::ApiTokensRead,
                Permission::ApiTokensManage,
            ] {
                assert_eq!(r.allows(p), r == RoleType::SuperAdmin, "{r:?} {p:?}");
            }
        }
    }

    #[test]
    fn read_only_admin_reads_but_never_writes() {
        let r = RoleType::ReadOnlyAdmin;
        assert!(r.allows(Permission::UsersRead));
        assert!(r.allows(Permission::LogsRead));
        assert!(!r.allows(Permission::UsersManage));
        assert!(!r.allows(Permission::GroupsManage));
    }

    #[test]
    fn only_a_super_admin_writes_to_a_super_admin_user() {
        let target = WriteTarget::User {
            roles: &[RoleType::SuperAdmin],
        };
        for r in RoleType::ALL {
            assert_eq!(may_write(&[r], target), r == RoleType::SuperAdmin, "{r:?}");
        }
        assert!(!may_write(&[], target));
        let org_admin = WriteTarget::User {
            roles: &[RoleType::OrgAdmin],
        };
        assert!(may_write(&[RoleType::OrgAdmin], org_admin));
        assert!(may_write(
            &[RoleType::OrgAdmin],
            WriteTarget::User { roles: &[] }
        ));
    }

    #[test]
    fn only_a_super_admin_writes_to_an_app_with_grants_or_roles() {
        let plain = WriteTarget::App {
            roles: &[],
            active_grants: false,
        };
        let granted = WriteTarget::App {
            roles: &[],
            active_grants: true,
        };
        let with_role = WriteTarget::App {
            roles: &[RoleType::ReadOnlyAdmin],
            active_grants: false,
        };
        assert!(may_write(&[RoleType::AppAdmin], plain));
        for target in [granted, with_role] {
            assert!(target.is_privileged());
            assert!(may_write(&[RoleType::SuperAdmin], target));
            assert!(!may_write(&[RoleType::AppAdmin], target));
            assert!(!may_write(&[RoleType::OrgAdmin], target));
        }
    }

    #[test]
    fn the_least_role_allows_the_permission_and_no_narrower_role_does() {
        for p in Permission::ALL {
            let least = least_role_for(p);
            assert!(least.allows(p), "{p:?}");
            let fewest = fewest_privileges_role(p);
            assert!(fewest.allows(p), "{p:?}");
            // No role that allows `p` allows fewer writes than the fewest-privileges choice.
            let writes = |r: RoleType| {
                Permission::ALL
                    .iter()
                    .filter(|q| !q.is_read() && r.allows(**q))
                    .count()
            };
            for r in RoleType::ALL.into_iter().filter(|r| r.allows(p)) {
                assert!(writes(r) >= writes(fewest), "{p:?}: {r:?} vs {fewest:?}");
            }
        }
    }

    #[test]
    fn least_roles_of_each_permission() {
        use Permission::*;
        use RoleType::*;
        let want = [
            (UsersRead, ReadOnlyAdmin),
            (UsersManage, OrgAdmin),
            (GroupsRead, ReadOnlyAdmin),
            (GroupsManage, OrgAdmin),
            (AppsRead, ReadOnlyAdmin),
            (AppsManage, AppAdmin),
            (AppGrantsRead, ReadOnlyAdmin),
            (AppGrantsManage, SuperAdmin),
            (RolesRead, ReadOnlyAdmin),
            (RolesManage, SuperAdmin),
            (LogsRead, ReadOnlyAdmin),
            (AccessRequestsRead, AccessRequestsAdmin),
            (AccessRequestsManage, AccessRequestsAdmin),
            (CertificationsRead, AccessCertificationsAdmin),
            (CertificationsManage, AccessCertificationsAdmin),
            (ResourceOwnersRead, SuperAdmin),
            (ResourceOwnersManage, SuperAdmin),
            (ApiTokensRead, SuperAdmin),
            (ApiTokensManage, SuperAdmin),
            (WorkflowsRead, SuperAdmin),
            (WorkflowsManage, SuperAdmin),
        ];
        assert_eq!(want.len(), Permission::ALL.len());
        for (p, role) in want {
            assert_eq!(least_role_for(p), role, "{p:?}");
        }
        // The two places the specs' named role wins over the fewest-privileges rule.
        assert_eq!(fewest_privileges_role(AccessRequestsRead), ReadOnlyAdmin);
        assert_eq!(fewest_privileges_role(CertificationsRead), ReadOnlyAdmin);
    }

    #[test]
    fn permission_names_are_unique_and_all_listed() {
        let names: std::collections::HashSet<_> =
            Permission::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names.len(), Permission::ALL.len());
        assert_eq!(
            serde_json::to_string(&Permission::AppsManage)
                .ok()
                .as_deref(),
            Some("\"AppsManage\"")
        );
    }

    #[test]
    fn narrow_admins_stay_in_their_lane() {
        assert!(RoleType::AppAdmin.allows(Permission::AppsManage));
        assert!(!RoleType::AppAdmin.allows(Permission::UsersManage));
        assert!(RoleType::AccessRequestsAdmin.allows(Permission::AccessRequestsManage));
        assert!(!RoleType::AccessRequestsAdmin.allows(Permission::CertificationsManage));
        assert!(!any_allows(&[], Permission::UsersRead));
    }
}
