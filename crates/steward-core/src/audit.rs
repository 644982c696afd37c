//! The System Log entries of domain events: the one place that says how a change is logged.
//!
//! A change is recorded once, as its [`DomainEvent`] (`WriteTx::record` in steward-store); the
//! outbox row and the System Log entries both come from that event in the same transaction, so
//! a change cannot be logged differently in two places, nor logged without its event. What the
//! event names only by id (a user, a group, an app) the caller describes with the [`Target`]s
//! it has at hand (`subjects`): the names as they were when the change was made, which a later
//! lookup could not give for something deleted.
//!
//! Not every System Log entry is a change: sign-ins, token issues and refusals are audit
//! records without a domain event, and are appended directly.

use crate::events::DomainEvent;
use crate::syslog::{ClientInfo, LogEvent, Target};

/// Where and when a change was made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    pub client: ClientInfo,
    /// Epoch ms.
    pub at: i64,
}

/// The System Log entries of `event` (most events have one; a user created active has two,
/// creation then activation, as Okta logs it).
pub fn log_entries(event: &DomainEvent, subjects: &[Target], origin: &Origin) -> Vec<LogEvent> {
    let named = |id: &str, kind: &str| subject(subjects, id, kind);
    let user = |id: &str| named(id, "User");
    let group = |id: &str| named(id, "UserGroup");
    let app = |id: &str| named(id, "AppInstance");
    let entry = |event_type: &str, message: &str| {
        LogEvent::new(event_type, message, event.actor().clone(), origin.at)
            .client(origin.client.clone())
    };
    use DomainEvent as E;
    match event {
        E::UserCreated {
            user_id, activated, ..
        } => {
            let mut entries =
                vec![entry("user.lifecycle.create", "Create Okta user").target(user(user_id))];
            if *activated {
                entries.push(
                    entry("user.lifecycle.activate", "Activate Okta user").target(user(user_id)),
                );
            }
            entries
        }
        E::UserUpdated {
            user_id,
            profile,
            password,
            ..
        } => {
            let mut entries = Vec::new();
            if *password {
                entries.push(
                    entry("user.account.update_password", "Update password for user")
                        .target(user(user_id)),
                );
            }
            if *profile || !*password {
                entries.push(
                    entry(
                        "user.account.update_profile",
                        "Update user profile for Okta",
                    )
                    .target(user(user_id)),
                );
            }
            entries
        }
        E::UserStatusChanged {
            user_id,
            from,
            to,
            send_email,
            ..
        } => {
            let (event_type, message) = status_change(from, to);
            let mut logged = entry(event_type, message).target(user(user_id));
            if (from.as_str(), to.as_str()) == ("PROVISIONED", "ACTIVE") {
                logged = logged.debug("activation", "completed");
            }
            vec![activation_email(logged, *send_email)]
        }
        E::UserActivationReissued {
            user_id,
            send_email,
            ..
        } => vec![activation_email(
            entry("user.lifecycle.reactivate", "Reactivate Okta user").target(user(user_id)),
            Some(*send_email),
        )],
        E::UserDeleted { user_id, .. } => {
            vec![entry("user.lifecycle.delete.initiated", "Delete Okta user").target(user(user_id))]
        }
        E::UserRolesChanged {
            user_id,
            role,
            assigned,
            ..
        } => vec![privilege(entry, user(user_id), role, *assigned)],
        E::ClientRolesChanged {
            app_id,
            role,
            assigned,
            ..
        } => vec![privilege(entry, app(app_id), role, *assigned)],
        E::GroupCreated { group_id, .. } => {
            vec![entry("group.lifecycle.create", "Create Okta group").target(group(group_id))]
        }
        E::GroupUpdated { group_id, .. } => {
            vec![entry("group.profile.update", "Update group profile").target(group(group_id))]
        }
        E::GroupDeleted { group_id, .. } => {
            vec![entry("group.lifecycle.delete", "Delete Okta group").target(group(group_id))]
        }
        E::GroupMembershipAdded {
            group_id, user_id, ..
        } => vec![
            entry("group.user_membership.add", "Add user to group membership")
                .target(user(user_id))
                .target(group(group_id)),
        ],
        E::GroupMembershipRemoved {
            group_id, user_id, ..
        } => vec![entry(
            "group.user_membership.remove",
            "Remove user from group membership",
        )
        .target(user(user_id))
        .target(group(group_id))],
        E::AppCreated { app_id, .. } => {
            vec![entry("application.lifecycle.create", "Add application").target(app(app_id))]
        }
        E::AppUpdated { app_id, .. } => {
            vec![entry("application.lifecycle.update", "Update application").target(app(app_id))]
        }
        E::AppLifecycleChanged { app_id, status, .. } => {
            let (event_type, message) = if status == "ACTIVE" {
                ("application.lifecycle.activate", "Activate application")
            } else {
                ("application.lifecycle.deactivate", "Deactivate application")
            };
            vec![entry(event_type, message).target(app(app_id))]
        }
        E::AppDeleted { app_id, .. } => {
            vec![entry("application.lifecycle.delete", "Delete application").target(app(app_id))]
        }
        E::AppCredentialChanged {
            app_id,
            credential_id,
            credential,
            change,
            ..
        } => {
            let (event_type, message) = credential_change(credential, change);
            vec![entry(event_type, message)
                .target(app(app_id))
                .target(named(credential_id, credential_kind(credential)))]
        }
        E::AppUserAssigned {
            app_id,
            user_id,
            updated,
            access_request_id,
            ..
        } => {
            let (event_type, message) = if *updated {
                (
                    "application.user_membership.update",
                    "Updated user application property",
                )
            } else {
                (
                    "application.user_membership.add",
                    "Add user to application membership",
                )
            };
            vec![by_request(
                entry(event_type, message)
                    .target(user(user_id))
                    .target(app(app_id)),
                access_request_id,
            )]
        }
        E::AppUserUnassigned {
            app_id,
            user_id,
            access_request_id,
            ..
        } => vec![by_request(
            entry(
                "application.user_membership.remove",
                "Remove user from application membership",
            )
            .target(user(user_id))
            .target(app(app_id)),
            access_request_id,
        )],
        E::AppGroupAssigned {
            app_id, group_id, ..
        } => vec![entry(
            "group.application_assignment.add",
            "Add assigned application to group",
        )
        .target(group(group_id))
        .target(app(app_id))],
        E::AppGroupUnassigned {
            app_id, group_id, ..
        } => vec![entry(
            "group.application_assignment.remove",
            "Remove assigned application from group",
        )
        .target(group(group_id))
        .target(app(app_id))],
        E::AppGrantGiven {
            app_id,
            grant_id,
            scope_id,
            ..
        } => vec![consent(
            entry(
                "app.oauth2.as.consent.grant",
                "Grant an Okta API scope to an app",
            ),
            app(app_id),
            grant_id,
            scope_id,
        )],
        E::AppGrantRevoked {
            app_id,
            grant_id,
            scope_id,
            ..
        } => vec![consent(
            entry(
                "app.oauth2.as.consent.revoke",
                "Revoke an Okta API scope from an app",
            ),
            app(app_id),
            grant_id,
            scope_id,
        )],
        E::ApiTokenRevoked { token_id, .. } => {
            vec![entry("system.api_token.revoke", "Revoke API token")
                .target(named(token_id, "Token"))]
        }
        E::FlowImported { flow_id, name, .. } => {
            vec![entry("workflows.user.flow.import", "Import flow")
                .target(Target::new(flow_id, "Flow", name, name))]
        }
        E::FlowSwitched {
            flow_id,
            name,
            active,
            ..
        } => {
            let (event_type, message) = if *active {
                ("workflows.user.flow.activate", "Activate flow")
            } else {
                ("workflows.user.flow.deactivate", "Deactivate flow")
            };
            vec![entry(event_type, message).target(Target::new(flow_id, "Flow", name, name))]
        }
        E::FlowConnectionChanged {
            connection_id,
            name,
            change,
            ..
        } => {
            let (event_type, message) = match change.as_str() {
                "created" => ("workflows.user.connection.create", "Create connection"),
                "authorized" => (
                    "workflows.user.connection.authorize",
                    "Authorize connection",
                ),
                "reauthorized" => (
                    "workflows.user.connection.reauthorize",
                    "Reauthorize connection",
                ),
                _ => ("workflows.user.connection.delete", "Delete connection"),
            };
            vec![entry(event_type, message).target(Target::new(
                connection_id,
                "Connection",
                name,
                name,
            ))]
        }
        E::RequestMessageAdded { request_id, .. } => vec![entry(
            "access.request.message.create",
            "Add message to access request",
        )
        .target(Target::new(
            request_id,
            "AccessRequest",
            request_id,
            "Access request",
        ))],
        E::RequestConditionChanged {
            condition_id,
            change,
            ..
        } => {
            let (event_type, message) = condition_change(change);
            vec![entry(event_type, message).target(named(condition_id, "RequestCondition"))]
        }
        E::RequestSequenceChanged {
            sequence_id,
            change,
            ..
        } => {
            let (event_type, message) = match change.as_str() {
                "created" => ("access.request.sequence.create", "Create request sequence"),
                "deleted" => ("access.request.sequence.delete", "Delete request sequence"),
                _ => ("access.request.sequence.update", "Update request sequence"),
            };
            vec![entry(event_type, message).target(named(sequence_id, "RequestSequence"))]
        }
        E::RequestSettingsUpdated { resource_id, .. } => vec![match resource_id {
            Some(id) => entry(
                "access.request.settings.update",
                "Update resource request settings",
            )
            .target(app(id)),
            None => entry(
                "access.request.settings.update",
                "Update org request settings",
            ),
        }],
        E::RequestTypeChanged {
            request_type_id,
            change,
            ..
        } => {
            let (event_type, message) = match change.as_str() {
                "created" => ("access.request.type.create", "Create request type"),
                "published" => ("access.request.type.publish", "Publish request type"),
                "unpublished" => ("access.request.type.unpublish", "Unpublish request type"),
                _ => ("access.request.type.delete", "Delete request type"),
            };
            vec![entry(event_type, message).target(named(request_type_id, "RequestType"))]
        }
        E::ResourceOwnerAdded {
            resource_id,
            resource_type,
            resource_orn,
            principal_id,
            principal_type,
            principal_orn,
            ..
        }
        | E::ResourceOwnerRemoved {
            resource_id,
            resource_type,
            resource_orn,
            principal_id,
            principal_type,
            principal_orn,
            ..
        } => {
            let (event_type, message) = if matches!(event, E::ResourceOwnerAdded { .. }) {
                ("governance.resource_owner.add", "Add resource owner")
            } else {
                ("governance.resource_owner.remove", "Remove resource owner")
            };
            // The resource and the owner as the caller named them; an owner it could not name
            // (gone from the directory) by its id.
            let resource_kind = if resource_type == "groups" {
                "UserGroup"
            } else {
                "AppInstance"
            };
            let owner_kind = if principal_type == "groups" {
                "UserGroup"
            } else {
                "User"
            };
            vec![entry(event_type, message)
                .target(named(resource_id, resource_kind))
                .target(named(principal_id, owner_kind))
                .debug("resourceOrn", resource_orn.clone())
                .debug("principalOrn", principal_orn.clone())]
        }
        // Access requests are logged by the governance services, which know the request's
        // resource and requester (a later change moves them here).
        E::AccessRequestCreated { .. }
        | E::AccessRequestDecided { .. }
        | E::AccessRequestFulfilled { .. }
        | E::AccessRequestExpired { .. }
        | E::AccessRequestAccessRevoked { .. } => Vec::new(),
    }
}

/// A grant's entry names the app and the grant (by its scope).
fn consent(entry: LogEvent, app: Target, grant_id: &str, scope_id: &str) -> LogEvent {
    let grant = Target::new(grant_id, "OAuth2ScopeConsentGrant", scope_id, scope_id);
    entry
        .target(app)
        .target(grant)
        .debug("scopeId", scope_id.to_string())
}

/// An entry of a change an access request made names the request.
fn by_request(entry: LogEvent, access_request_id: &Option<String>) -> LogEvent {
    match access_request_id {
        Some(id) => entry.debug("accessRequestId", id.clone()),
        None => entry,
    }
}

/// The subject with this id as the caller described it, or one known only by its id.
fn subject(subjects: &[Target], id: &str, kind: &str) -> Target {
    subjects
        .iter()
        .find(|t| t.id == id)
        .cloned()
        .unwrap_or_else(|| Target::new(id, kind, id, id))
}

/// Okta's event type and message for a user's status going `from` → `to`.
fn status_change(from: &str, to: &str) -> (&'static str, &'static str) {
    match (from, to) {
        (_, "DEPROVISIONED") => ("user.lifecycle.deactivate", "Deactivate Okta user"),
        (_, "SUSPENDED") => ("user.lifecycle.suspend", "Suspend Okta user"),
        ("SUSPENDED", _) => ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
        (_, "LOCKED_OUT") => ("user.account.lock", "Max sign in attempts exceeded"),
        ("LOCKED_OUT", _) => ("user.account.unlock", "Unlock user account"),
        // Setting a password through an activation link completes activation.
        ("PROVISIONED", "ACTIVE") => ("user.account.update_password", "Update password for user"),
        _ => ("user.lifecycle.activate", "Activate Okta user"),
    }
}

/// Okta's event type and message for a request condition's change.
fn condition_change(change: &str) -> (&'static str, &'static str) {
    match change {
        "created" => (
            "access.request.condition.create",
            "Create request condition",
        ),
        "deleted" => (
            "access.request.condition.delete",
            "Delete request condition",
        ),
        "activated" => (
            "access.request.condition.activate",
            "Activate request condition",
        ),
        "deactivated" => (
            "access.request.condition.deactivate",
            "Deactivate request condition",
        ),
        _ => (
            "access.request.condition.update",
            "Update request condition",
        ),
    }
}

/// Activation and reactivation say whether the link was to be emailed (Steward sends none).
fn activation_email(entry: LogEvent, send_email: Option<bool>) -> LogEvent {
    match send_email {
        None => entry,
        Some(false) => entry.debug("sendEmail", "false"),
        Some(true) => entry.debug("sendEmail", "true").debug(
            "activationEmail",
            "NOT_SENT: Steward sends no email; ask for the link with sendEmail=false",
        ),
    }
}

fn privilege<F: Fn(&str, &str) -> LogEvent>(
    entry: F,
    target: Target,
    role: &str,
    assigned: bool,
) -> LogEvent {
    if assigned {
        entry("user.account.privilege.grant", "Grant user privilege")
            .target(target)
            .debug("privilegeGranted", role)
    } else {
        entry("user.account.privilege.revoke", "Revoke user privilege")
            .target(target)
            .debug("privilegeRevoked", role)
    }
}

fn credential_kind(credential: &str) -> &'static str {
    if credential == "key" {
        "JsonWebKey"
    } else {
        "OAuth2ClientSecret"
    }
}

fn credential_change(credential: &str, change: &str) -> (&'static str, &'static str) {
    let key = credential == "key";
    match change {
        "created" if key => (
            "app.oauth2.credentials.lifecycle.create",
            "Add OAuth 2.0 client JSON Web Key",
        ),
        "created" => (
            "app.oauth2.credentials.lifecycle.create",
            "Create OAuth 2.0 client secret",
        ),
        "rotated" => (
            "app.oauth2.credentials.lifecycle.create",
            "Generate a new OAuth 2.0 client secret, replacing the previous ones",
        ),
        "activated" if key => (
            "app.oauth2.credentials.lifecycle.activate",
            "Activate OAuth 2.0 client JSON Web Key",
        ),
        "activated" => (
            "app.oauth2.credentials.lifecycle.activate",
            "Activate OAuth 2.0 client secret",
        ),
        "deactivated" if key => (
            "app.oauth2.credentials.lifecycle.deactivate",
            "Deactivate OAuth 2.0 client JSON Web Key",
        ),
        "deactivated" => (
            "app.oauth2.credentials.lifecycle.deactivate",
            "Deactivate OAuth 2.0 client secret",
        ),
        _ if key => (
            "app.oauth2.credentials.lifecycle.delete",
            "Delete OAuth 2.0 client JSON Web Key",
        ),
        _ => (
            "app.oauth2.credentials.lifecycle.delete",
            "Delete OAuth 2.0 client secret",
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::events::tests::{admin, examples};

    fn origin() -> Origin {
        Origin {
            client: ClientInfo {
                ip_address: Some("203.0.113.9".into()),
                ..ClientInfo::default()
            },
            at: 1_700_000_000_000,
        }
    }

    #[test]
    fn every_change_but_access_requests_is_logged_with_its_actor_client_and_time() {
        for event in examples() {
            let entries = log_entries(&event, &[], &origin());
            if event.name().starts_with("access_request.") {
                assert!(entries.is_empty(), "{event:?}");
                continue;
            }
            assert!(
                !entries.is_empty(),
                "{} has no System Log entry",
                event.name()
            );
            for entry in entries {
                assert_eq!(entry.actor, admin());
                assert_eq!(entry.client, origin().client);
                assert_eq!(entry.published, origin().at);
                assert_eq!(entry.outcome, "SUCCESS");
                assert!(!entry.targets.is_empty(), "{}", entry.event_type);
            }
        }
    }

    #[test]
    fn subjects_name_the_targets_and_unknown_ids_fall_back_to_the_id() {
        let joined = DomainEvent::GroupMembershipAdded {
            group_id: "00g1".into(),
            user_id: "00u1".into(),
            access_request_id: None,
            actor: admin(),
        };
        let pat = Target::new("00u1", "User", "pat@example.com", "Pat Doe");
        let entries = log_entries(&joined, std::slice::from_ref(&pat), &origin());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].event_type, "group.user_membership.add");
        assert_eq!(entries[0].targets[0], pat);
        assert_eq!(
            entries[0].targets[1],
            Target::new("00g1", "UserGroup", "00g1", "00g1")
        );
    }

    #[test]
    fn governance_changes_are_logged_as_before_their_events() {
        let org = DomainEvent::RequestSettingsUpdated {
            resource_id: None,
            actor: admin(),
        };
        let entries = log_entries(&org, &[], &origin());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].event_type, "access.request.settings.update");
        assert_eq!(entries[0].display_message, "Update org request settings");
        assert!(entries[0].targets.is_empty());

        let deleted = DomainEvent::RequestConditionChanged {
            resource_id: "0oa1".into(),
            condition_id: "rc1".into(),
            change: "deleted".into(),
            actor: admin(),
        };
        let entry = &log_entries(&deleted, &[], &origin())[0];
        assert_eq!(entry.event_type, "access.request.condition.delete");
        assert_eq!(
            entry.targets,
            [Target::new("rc1", "RequestCondition", "rc1", "rc1")]
        );

        let gone_owner = DomainEvent::ResourceOwnerRemoved {
            resource_id: "00g1".into(),
            resource_type: "groups".into(),
            resource_orn: "orn:okta:directory:o1:groups:00g1".into(),
            principal_id: "00g2".into(),
            principal_type: "groups".into(),
            principal_orn: "orn:okta:directory:o1:groups:00g2".into(),
            actor: admin(),
        };
        let finance = Target::new("00g1", "UserGroup", "Finance", "Finance");
        let entry = &log_entries(&gone_owner, std::slice::from_ref(&finance), &origin())[0];
        assert_eq!(entry.event_type, "governance.resource_owner.remove");
        assert_eq!(
            entry.targets,
            [finance, Target::new("00g2", "UserGroup", "00g2", "00g2")]
        );
        assert_eq!(
            entry.debug_data["principalOrn"],
            "orn:okta:directory:o1:groups:00g2"
        );
    }

    #[test]
    fn a_status_change_is_logged_as_okta_names_the_operation() {
        let cases = [
            ("STAGED", "ACTIVE", "user.lifecycle.activate"),
            ("DEPROVISIONED", "PROVISIONED", "user.lifecycle.activate"),
            ("ACTIVE", "DEPROVISIONED", "user.lifecycle.deactivate"),
            ("ACTIVE", "SUSPENDED", "user.lifecycle.suspend"),
            ("SUSPENDED", "ACTIVE", "user.lifecycle.unsuspend"),
            ("ACTIVE", "LOCKED_OUT", "user.account.lock"),
            ("LOCKED_OUT", "ACTIVE", "user.account.unlock"),
            ("PROVISIONED", "ACTIVE", "user.account.update_password"),
        ];
        for (from, to, expected) in cases {
            let event = DomainEvent::UserStatusChanged {
                user_id: "00u1".into(),
                from: from.into(),
                to: to.into(),
                send_email: None,
                actor: admin(),
            };
            let entries = log_entries(&event, &[], &origin());
            assert_eq!(entries[0].event_type, expected, "{from} -> {to}");
        }
    }

    #[test]
    fn a_user_created_active_logs_creation_then_activation_and_an_email_not_sent() {
        let created = DomainEvent::UserCreated {
            user_id: "00u1".into(),
            activated: true,
            actor: admin(),
        };
        let types: Vec<_> = log_entries(&created, &[], &origin())
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(types, ["user.lifecycle.create", "user.lifecycle.activate"]);

        let activated = DomainEvent::UserStatusChanged {
            user_id: "00u1".into(),
            from: "STAGED".into(),
            to: "PROVISIONED".into(),
            send_email: Some(true),
            actor: admin(),
        };
        let entry = &log_entries(&activated, &[], &origin())[0];
        assert_eq!(entry.debug_data["sendEmail"], "true");
        assert!(entry.debug_data["activationEmail"]
            .as_str()
            .unwrap()
            .starts_with("NOT_SENT"));
    }
}
