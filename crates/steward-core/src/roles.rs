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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
}

impl Permission {
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
        )
    }

    /// What only a Super Admin may do: manage roles and scope grants, read and configure
    /// resource owners.
    pub fn is_super_admin_only(self) -> bool {
        use Permission::*;
        matches!(
            self,
            RolesManage | AppGrantsManage | ResourceOwnersRead | ResourceOwnersManage
        )
    }
}

/// Whether any of `roles` allows `permission`.
pub fn any_allows(roles: &[RoleType], permission: Permission) -> bool {
    roles.iter().any(|r| r.allows(permission))
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
    fn only_super_admin_reads_or_configures_resource_owners() {
        for r in RoleType::ALL {
            for p in [
                Permission::ResourceOwnersRead,
                Permission::ResourceOwnersManage,
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
    fn narrow_admins_stay_in_their_lane() {
        assert!(RoleType::AppAdmin.allows(Permission::AppsManage));
        assert!(!RoleType::AppAdmin.allows(Permission::UsersManage));
        assert!(RoleType::AccessRequestsAdmin.allows(Permission::AccessRequestsManage));
        assert!(!RoleType::AccessRequestsAdmin.allows(Permission::CertificationsManage));
        assert!(!any_allows(&[], Permission::UsersRead));
    }
}
