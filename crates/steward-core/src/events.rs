//! Domain events: what a committed change did, in Steward's own terms.
//!
//! A write emits its events into the outbox table in the same transaction as the change
//! (`WriteTx::emit` in steward-store), so an event exists exactly when its change does. Each node
//! applies them to its caches at once after its own commits, and other nodes learn them by
//! polling the outbox. [`DomainEvent::invalidates`] is the one rule saying which caches an event
//! makes stale; `docs/events.md` is the catalogue.
//!
//! Names are stable (`user.status_changed`): they are stored, and nodes of different versions may
//! read each other's rows. A name a node does not know is treated as invalidating everything.

use serde::{Deserialize, Serialize};

use crate::syslog::Actor;

/// One thing that happened, with the ids it concerns and who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DomainEvent {
    /// A user was created through the API (bootstrap and the demo seed write no events).
    #[serde(rename = "user.created")]
    UserCreated {
        user_id: String,
        /// Created already activated (ACTIVE or PROVISIONED), not STAGED.
        #[serde(default)]
        activated: bool,
        actor: Actor,
    },
    /// A user's profile or password changed (not their status).
    #[serde(rename = "user.updated")]
    UserUpdated {
        user_id: String,
        #[serde(default)]
        profile: bool,
        #[serde(default)]
        password: bool,
        actor: Actor,
    },
    /// A user's lifecycle status changed (activation, suspension, deactivation, lockout, …).
    #[serde(rename = "user.status_changed")]
    UserStatusChanged {
        user_id: String,
        /// Okta's status names (`ACTIVE`, `SUSPENDED`, …).
        from: String,
        to: String,
        /// For an activation: whether the activation link was to be emailed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        send_email: Option<bool>,
        actor: Actor,
    },
    /// A PROVISIONED user's activation link was issued again (reactivation; no status change).
    #[serde(rename = "user.activation_reissued")]
    UserActivationReissued {
        user_id: String,
        send_email: bool,
        actor: Actor,
    },
    #[serde(rename = "user.deleted")]
    UserDeleted { user_id: String, actor: Actor },
    /// An admin role was assigned to (`assigned`) or taken from a user.
    #[serde(rename = "user.roles_changed")]
    UserRolesChanged {
        user_id: String,
        role: String,
        assigned: bool,
        actor: Actor,
    },
    /// An admin role was assigned to or taken from a service app (a client).
    #[serde(rename = "client.roles_changed")]
    ClientRolesChanged {
        app_id: String,
        role: String,
        assigned: bool,
        actor: Actor,
    },
    #[serde(rename = "group.created")]
    GroupCreated { group_id: String, actor: Actor },
    #[serde(rename = "group.updated")]
    GroupUpdated { group_id: String, actor: Actor },
    #[serde(rename = "group.deleted")]
    GroupDeleted { group_id: String, actor: Actor },
    #[serde(rename = "group.membership_added")]
    GroupMembershipAdded {
        group_id: String,
        user_id: String,
        /// The access request whose fulfilment or revocation made the change, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_request_id: Option<String>,
        actor: Actor,
    },
    #[serde(rename = "group.membership_removed")]
    GroupMembershipRemoved {
        group_id: String,
        user_id: String,
        /// The access request whose fulfilment or revocation made the change, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_request_id: Option<String>,
        actor: Actor,
    },
    #[serde(rename = "app.created")]
    AppCreated { app_id: String, actor: Actor },
    /// The app's label or OIDC registration (redirect URIs, keys, auth method) changed.
    #[serde(rename = "app.updated")]
    AppUpdated { app_id: String, actor: Actor },
    /// Activated or deactivated (`status` is the new one).
    #[serde(rename = "app.lifecycle_changed")]
    AppLifecycleChanged {
        app_id: String,
        status: String,
        actor: Actor,
    },
    #[serde(rename = "app.deleted")]
    AppDeleted { app_id: String, actor: Actor },
    /// An OAuth client secret or JSON Web Key of the app was created, rotated, activated,
    /// deactivated or deleted.
    #[serde(rename = "app.credential_changed")]
    AppCredentialChanged {
        app_id: String,
        credential_id: String,
        /// `secret` or `key`.
        credential: String,
        /// `created`, `rotated`, `activated`, `deactivated` or `deleted`.
        change: String,
        actor: Actor,
    },
    /// A user was assigned to the app, or (`updated`) their assignment's profile changed.
    #[serde(rename = "app.user_assigned")]
    AppUserAssigned {
        app_id: String,
        user_id: String,
        #[serde(default)]
        updated: bool,
        /// The access request whose fulfilment or revocation made the change, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_request_id: Option<String>,
        actor: Actor,
    },
    #[serde(rename = "app.user_unassigned")]
    AppUserUnassigned {
        app_id: String,
        user_id: String,
        /// The access request whose fulfilment or revocation made the change, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_request_id: Option<String>,
        actor: Actor,
    },
    #[serde(rename = "app.group_assigned")]
    AppGroupAssigned {
        app_id: String,
        group_id: String,
        actor: Actor,
    },
    #[serde(rename = "app.group_unassigned")]
    AppGroupUnassigned {
        app_id: String,
        group_id: String,
        actor: Actor,
    },
    /// An Okta API scope was granted to an app.
    #[serde(rename = "app.grant_given")]
    AppGrantGiven {
        app_id: String,
        grant_id: String,
        scope_id: String,
        actor: Actor,
    },
    #[serde(rename = "app.grant_revoked")]
    AppGrantRevoked {
        app_id: String,
        grant_id: String,
        scope_id: String,
        actor: Actor,
    },
    /// An SSWS API token was revoked (by the API or `steward tokens revoke`).
    #[serde(rename = "api_token.revoked")]
    ApiTokenRevoked {
        token_id: String,
        user_id: String,
        actor: Actor,
    },
    /// A flow was imported from a `.flopack` (new, or replacing the flow with its id).
    #[serde(rename = "flow.imported")]
    FlowImported {
        flow_id: String,
        name: String,
        actor: Actor,
    },
    /// A flow was switched on (`active`) or off.
    #[serde(rename = "flow.switched")]
    FlowSwitched {
        flow_id: String,
        name: String,
        active: bool,
        actor: Actor,
    },
    /// A Workflows connection changed: `created`, `authorized`, `reauthorized` or `deleted`.
    #[serde(rename = "flow_connection.changed")]
    FlowConnectionChanged {
        connection_id: String,
        name: String,
        change: String,
        actor: Actor,
    },
    /// An access request was submitted.
    #[serde(rename = "access_request.created")]
    AccessRequestCreated { request_id: String, actor: Actor },
    /// An access request was decided: `APPROVED`, `DENIED`, `REJECTED` (no condition or rule
    /// allowed it) or `CANCELED`.
    #[serde(rename = "access_request.decided")]
    AccessRequestDecided {
        request_id: String,
        decision: String,
        actor: Actor,
    },
    /// Fulfilment of an approved request ran: the access was `granted`, or could not be.
    #[serde(rename = "access_request.fulfilled")]
    AccessRequestFulfilled {
        request_id: String,
        granted: bool,
        actor: Actor,
    },
    /// An undecided request ran out of time.
    #[serde(rename = "access_request.expired")]
    AccessRequestExpired { request_id: String, actor: Actor },
    /// Time-bound access ended: `revoked`, or the revocation failed.
    #[serde(rename = "access_request.access_revoked")]
    AccessRequestAccessRevoked {
        request_id: String,
        revoked: bool,
        actor: Actor,
    },
    /// A message was added to an access request (v1 or v2).
    #[serde(rename = "request_message.added")]
    RequestMessageAdded {
        request_id: String,
        message_id: String,
        actor: Actor,
    },
    /// A request condition of a resource (an app) was `created`, `updated`, `deleted`,
    /// `activated` or `deactivated`.
    #[serde(rename = "request_condition.changed")]
    RequestConditionChanged {
        resource_id: String,
        condition_id: String,
        change: String,
        actor: Actor,
    },
    /// A request sequence was `created`, `updated` or `deleted` (deleting one leaves the
    /// conditions that used it INVALID, in the same transaction).
    #[serde(rename = "request_sequence.changed")]
    RequestSequenceChanged {
        sequence_id: String,
        change: String,
        actor: Actor,
    },
    /// Request settings were updated: a resource's (an app's), or the org's (`resource_id`
    /// absent).
    #[serde(rename = "request_settings.updated")]
    RequestSettingsUpdated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource_id: Option<String>,
        actor: Actor,
    },
    /// A v1 request type was `created`, `published`, `unpublished` or `deleted`.
    #[serde(rename = "request_type.changed")]
    RequestTypeChanged {
        request_type_id: String,
        change: String,
        actor: Actor,
    },
    /// A principal (`principal_type`: `users` or `groups`, as its ORN names it) became an owner
    /// of a resource (an app or a group).
    #[serde(rename = "resource_owner.added")]
    ResourceOwnerAdded {
        resource_id: String,
        /// `apps` or `groups`, as the resource's ORN names it.
        resource_type: String,
        resource_orn: String,
        principal_id: String,
        principal_type: String,
        principal_orn: String,
        actor: Actor,
    },
    /// A principal stopped owning a resource (replaced by a configuration, or removed).
    #[serde(rename = "resource_owner.removed")]
    ResourceOwnerRemoved {
        resource_id: String,
        /// `apps` or `groups`, as the resource's ORN names it.
        resource_type: String,
        resource_orn: String,
        principal_id: String,
        principal_type: String,
        principal_orn: String,
        actor: Actor,
    },
}

/// The per-node caches an event makes stale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invalidation {
    /// Verified principals (SSWS tokens and access tokens → user or client with roles): a
    /// user's status or roles, or a client's status or roles, changed.
    pub principals: bool,
    /// OAuth client registrations and granted scopes, as the token endpoint reads them.
    pub clients: bool,
}

impl Invalidation {
    pub const NONE: Invalidation = Invalidation {
        principals: false,
        clients: false,
    };
    pub const ALL: Invalidation = Invalidation {
        principals: true,
        clients: true,
    };
    const PRINCIPALS: Invalidation = Invalidation {
        principals: true,
        clients: false,
    };
    const CLIENTS: Invalidation = Invalidation {
        principals: false,
        clients: true,
    };

    /// Both invalidations: what a batch of events makes stale.
    pub fn union(self, other: Invalidation) -> Invalidation {
        Invalidation {
            principals: self.principals || other.principals,
            clients: self.clients || other.clients,
        }
    }

    pub fn is_none(self) -> bool {
        self == Invalidation::NONE
    }
}

impl DomainEvent {
    /// The stable dotted name (`user.status_changed`), as stored in the outbox's `type` column.
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::UserCreated { .. } => "user.created",
            DomainEvent::UserUpdated { .. } => "user.updated",
            DomainEvent::UserStatusChanged { .. } => "user.status_changed",
            DomainEvent::UserActivationReissued { .. } => "user.activation_reissued",
            DomainEvent::UserDeleted { .. } => "user.deleted",
            DomainEvent::UserRolesChanged { .. } => "user.roles_changed",
            DomainEvent::ClientRolesChanged { .. } => "client.roles_changed",
            DomainEvent::GroupCreated { .. } => "group.created",
            DomainEvent::GroupUpdated { .. } => "group.updated",
            DomainEvent::GroupDeleted { .. } => "group.deleted",
            DomainEvent::GroupMembershipAdded { .. } => "group.membership_added",
            DomainEvent::GroupMembershipRemoved { .. } => "group.membership_removed",
            DomainEvent::AppCreated { .. } => "app.created",
            DomainEvent::AppUpdated { .. } => "app.updated",
            DomainEvent::AppLifecycleChanged { .. } => "app.lifecycle_changed",
            DomainEvent::AppDeleted { .. } => "app.deleted",
            DomainEvent::AppCredentialChanged { .. } => "app.credential_changed",
            DomainEvent::AppUserAssigned { .. } => "app.user_assigned",
            DomainEvent::AppUserUnassigned { .. } => "app.user_unassigned",
            DomainEvent::AppGroupAssigned { .. } => "app.group_assigned",
            DomainEvent::AppGroupUnassigned { .. } => "app.group_unassigned",
            DomainEvent::AppGrantGiven { .. } => "app.grant_given",
            DomainEvent::AppGrantRevoked { .. } => "app.grant_revoked",
            DomainEvent::ApiTokenRevoked { .. } => "api_token.revoked",
            DomainEvent::FlowImported { .. } => "flow.imported",
            DomainEvent::FlowSwitched { .. } => "flow.switched",
            DomainEvent::FlowConnectionChanged { .. } => "flow_connection.changed",
            DomainEvent::AccessRequestCreated { .. } => "access_request.created",
            DomainEvent::AccessRequestDecided { .. } => "access_request.decided",
            DomainEvent::AccessRequestFulfilled { .. } => "access_request.fulfilled",
            DomainEvent::AccessRequestExpired { .. } => "access_request.expired",
            DomainEvent::AccessRequestAccessRevoked { .. } => "access_request.access_revoked",
            DomainEvent::RequestMessageAdded { .. } => "request_message.added",
            DomainEvent::RequestConditionChanged { .. } => "request_condition.changed",
            DomainEvent::RequestSequenceChanged { .. } => "request_sequence.changed",
            DomainEvent::RequestSettingsUpdated { .. } => "request_settings.updated",
            DomainEvent::RequestTypeChanged { .. } => "request_type.changed",
            DomainEvent::ResourceOwnerAdded { .. } => "resource_owner.added",
            DomainEvent::ResourceOwnerRemoved { .. } => "resource_owner.removed",
        }
    }

    /// Who did it.
    pub fn actor(&self) -> &Actor {
        match self {
            DomainEvent::UserCreated { actor, .. }
            | DomainEvent::UserUpdated { actor, .. }
            | DomainEvent::UserStatusChanged { actor, .. }
            | DomainEvent::UserActivationReissued { actor, .. }
            | DomainEvent::UserDeleted { actor, .. }
            | DomainEvent::UserRolesChanged { actor, .. }
            | DomainEvent::ClientRolesChanged { actor, .. }
            | DomainEvent::GroupCreated { actor, .. }
            | DomainEvent::GroupUpdated { actor, .. }
            | DomainEvent::GroupDeleted { actor, .. }
            | DomainEvent::GroupMembershipAdded { actor, .. }
            | DomainEvent::GroupMembershipRemoved { actor, .. }
            | DomainEvent::AppCreated { actor, .. }
            | DomainEvent::AppUpdated { actor, .. }
            | DomainEvent::AppLifecycleChanged { actor, .. }
            | DomainEvent::AppDeleted { actor, .. }
            | DomainEvent::AppCredentialChanged { actor, .. }
            | DomainEvent::AppUserAssigned { actor, .. }
            | DomainEvent::AppUserUnassigned { actor, .. }
            | DomainEvent::AppGroupAssigned { actor, .. }
            | DomainEvent::AppGroupUnassigned { actor, .. }
            | DomainEvent::AppGrantGiven { actor, .. }
            | DomainEvent::AppGrantRevoked { actor, .. }
            | DomainEvent::ApiTokenRevoked { actor, .. }
            | DomainEvent::FlowImported { actor, .. }
            | DomainEvent::FlowSwitched { actor, .. }
            | DomainEvent::FlowConnectionChanged { actor, .. }
            | DomainEvent::AccessRequestCreated { actor, .. }
            | DomainEvent::AccessRequestDecided { actor, .. }
            | DomainEvent::AccessRequestFulfilled { actor, .. }
            | DomainEvent::AccessRequestExpired { actor, .. }
            | DomainEvent::AccessRequestAccessRevoked { actor, .. }
            | DomainEvent::RequestMessageAdded { actor, .. }
            | DomainEvent::RequestConditionChanged { actor, .. }
            | DomainEvent::RequestSequenceChanged { actor, .. }
            | DomainEvent::RequestSettingsUpdated { actor, .. }
            | DomainEvent::RequestTypeChanged { actor, .. }
            | DomainEvent::ResourceOwnerAdded { actor, .. }
            | DomainEvent::ResourceOwnerRemoved { actor, .. } => actor,
        }
    }

    /// Which caches this event makes stale. A cached principal holds the user (or app) with its
    /// status and roles; a cached client holds the app's registration and its granted scopes.
    pub fn invalidates(&self) -> Invalidation {
        match self {
            // A principal holds the user's status and roles; a deleted user's token must stop.
            DomainEvent::UserStatusChanged { .. }
            | DomainEvent::UserDeleted { .. }
            | DomainEvent::UserRolesChanged { .. }
            | DomainEvent::ClientRolesChanged { .. }
            | DomainEvent::ApiTokenRevoked { .. } => Invalidation::PRINCIPALS,
            // A client-credentials principal holds the app's status; the token endpoint its
            // registration.
            DomainEvent::AppLifecycleChanged { .. } | DomainEvent::AppDeleted { .. } => {
                Invalidation::ALL
            }
            DomainEvent::AppCreated { .. }
            | DomainEvent::AppUpdated { .. }
            | DomainEvent::AppCredentialChanged { .. }
            | DomainEvent::AppUserAssigned { .. }
            | DomainEvent::AppUserUnassigned { .. }
            | DomainEvent::AppGroupAssigned { .. }
            | DomainEvent::AppGroupUnassigned { .. }
            | DomainEvent::AppGrantGiven { .. }
            | DomainEvent::AppGrantRevoked { .. } => Invalidation::CLIENTS,
            // Profiles, groups, memberships and requests are read from the store on every
            // request. (What fulfilment changes has its own event: a membership, an assignment.)
            DomainEvent::UserCreated { .. }
            | DomainEvent::UserUpdated { .. }
            | DomainEvent::UserActivationReissued { .. }
            | DomainEvent::GroupCreated { .. }
            | DomainEvent::GroupUpdated { .. }
            | DomainEvent::GroupDeleted { .. }
            | DomainEvent::GroupMembershipAdded { .. }
            | DomainEvent::GroupMembershipRemoved { .. }
            | DomainEvent::AccessRequestCreated { .. }
            | DomainEvent::AccessRequestDecided { .. }
            | DomainEvent::AccessRequestFulfilled { .. }
            | DomainEvent::AccessRequestExpired { .. }
            | DomainEvent::AccessRequestAccessRevoked { .. }
            // Access-request configuration and owners are read from the store on every request.
            | DomainEvent::RequestMessageAdded { .. }
            | DomainEvent::RequestConditionChanged { .. }
            | DomainEvent::RequestSequenceChanged { .. }
            | DomainEvent::RequestSettingsUpdated { .. }
            | DomainEvent::RequestTypeChanged { .. }
            | DomainEvent::ResourceOwnerAdded { .. }
            | DomainEvent::ResourceOwnerRemoved { .. }
            | DomainEvent::FlowImported { .. }
            | DomainEvent::FlowSwitched { .. }
            | DomainEvent::FlowConnectionChanged { .. } => Invalidation::NONE,
        }
    }

    /// What a stored event of type `name` with JSON `payload` invalidates: [`Invalidation::ALL`]
    /// when the payload is not an event this node knows (a newer node wrote it), so that no
    /// change is missed.
    pub fn invalidation_of_stored(payload: &serde_json::Value) -> Invalidation {
        match serde_json::from_value::<DomainEvent>(payload.clone()) {
            Ok(event) => event.invalidates(),
            Err(_) => Invalidation::ALL,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn admin() -> Actor {
        Actor::user("00u1", "admin@example.com", "Ada Admin")
    }

    fn app_event() -> DomainEvent {
        DomainEvent::AppLifecycleChanged {
            app_id: "0oa1".into(),
            status: "INACTIVE".into(),
            actor: admin(),
        }
    }

    #[test]
    fn serialises_with_its_dotted_name_as_type_and_round_trips() {
        let event = DomainEvent::UserStatusChanged {
            user_id: "00u2".into(),
            from: "ACTIVE".into(),
            to: "SUSPENDED".into(),
            send_email: None,
            actor: admin(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "user.status_changed");
        assert_eq!(json["type"], event.name());
        assert_eq!(json["user_id"], "00u2");
        assert_eq!(json["actor"]["id"], "00u1");
        let back: DomainEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    /// One event of every type, by `admin()` (the audit tests use them too).
    pub(crate) fn examples() -> Vec<DomainEvent> {
        let a = admin;
        let s = |v: &str| v.to_string();
        vec![
            DomainEvent::UserCreated {
                user_id: s("u"),
                activated: true,
                actor: a(),
            },
            DomainEvent::UserUpdated {
                user_id: s("u"),
                profile: true,
                password: false,
                actor: a(),
            },
            DomainEvent::UserStatusChanged {
                user_id: s("u"),
                from: s("STAGED"),
                to: s("ACTIVE"),
                send_email: Some(true),
                actor: a(),
            },
            DomainEvent::UserActivationReissued {
                user_id: s("u"),
                send_email: false,
                actor: a(),
            },
            DomainEvent::AppCredentialChanged {
                app_id: s("a"),
                credential_id: s("k"),
                credential: s("key"),
                change: s("deactivated"),
                actor: a(),
            },
            DomainEvent::ApiTokenRevoked {
                token_id: s("t"),
                user_id: s("u"),
                actor: a(),
            },
            DomainEvent::FlowImported {
                flow_id: s("f"),
                name: s("Get request"),
                actor: a(),
            },
            DomainEvent::FlowSwitched {
                flow_id: s("f"),
                name: s("Get request"),
                active: true,
                actor: a(),
            },
            DomainEvent::FlowConnectionChanged {
                connection_id: s("c"),
                name: s("Okta"),
                change: s("authorized"),
                actor: a(),
            },
            DomainEvent::UserDeleted {
                user_id: s("u"),
                actor: a(),
            },
            DomainEvent::UserRolesChanged {
                user_id: s("u"),
                role: s("SUPER_ADMIN"),
                assigned: true,
                actor: a(),
            },
            DomainEvent::ClientRolesChanged {
                app_id: s("a"),
                role: s("ORG_ADMIN"),
                assigned: false,
                actor: a(),
            },
            DomainEvent::GroupCreated {
                group_id: s("g"),
                actor: a(),
            },
            DomainEvent::GroupUpdated {
                group_id: s("g"),
                actor: a(),
            },
            DomainEvent::GroupDeleted {
                group_id: s("g"),
                actor: a(),
            },
            DomainEvent::GroupMembershipAdded {
                group_id: s("g"),
                user_id: s("u"),
                access_request_id: None,
                actor: a(),
            },
            DomainEvent::GroupMembershipRemoved {
                group_id: s("g"),
                user_id: s("u"),
                access_request_id: None,
                actor: a(),
            },
            DomainEvent::AppCreated {
                app_id: s("a"),
                actor: a(),
            },
            DomainEvent::AppUpdated {
                app_id: s("a"),
                actor: a(),
            },
            app_event(),
            DomainEvent::AppDeleted {
                app_id: s("a"),
                actor: a(),
            },
            DomainEvent::AppUserAssigned {
                app_id: s("a"),
                user_id: s("u"),
                updated: false,
                access_request_id: None,
                actor: a(),
            },
            DomainEvent::AppUserUnassigned {
                app_id: s("a"),
                user_id: s("u"),
                access_request_id: None,
                actor: a(),
            },
            DomainEvent::AppGroupAssigned {
                app_id: s("a"),
                group_id: s("g"),
                actor: a(),
            },
            DomainEvent::AppGroupUnassigned {
                app_id: s("a"),
                group_id: s("g"),
                actor: a(),
            },
            DomainEvent::AppGrantGiven {
                app_id: s("a"),
                grant_id: s("x"),
                scope_id: s("okta.users.read"),
                actor: a(),
            },
            DomainEvent::AppGrantRevoked {
                app_id: s("a"),
                grant_id: s("x"),
                scope_id: s("okta.users.read"),
                actor: a(),
            },
            DomainEvent::AccessRequestCreated {
                request_id: s("r"),
                actor: a(),
            },
            DomainEvent::AccessRequestDecided {
                request_id: s("r"),
                decision: s("APPROVED"),
                actor: a(),
            },
            DomainEvent::AccessRequestFulfilled {
                request_id: s("r"),
                granted: true,
                actor: a(),
            },
            DomainEvent::AccessRequestExpired {
                request_id: s("r"),
                actor: a(),
            },
            DomainEvent::AccessRequestAccessRevoked {
                request_id: s("r"),
                revoked: true,
                actor: a(),
            },
            DomainEvent::RequestMessageAdded {
                request_id: s("r"),
                message_id: s("m"),
                actor: a(),
            },
            DomainEvent::RequestConditionChanged {
                resource_id: s("a"),
                condition_id: s("c"),
                change: s("activated"),
                actor: a(),
            },
            DomainEvent::RequestSequenceChanged {
                sequence_id: s("q"),
                change: s("created"),
                actor: a(),
            },
            DomainEvent::RequestSettingsUpdated {
                resource_id: Some(s("a")),
                actor: a(),
            },
            DomainEvent::RequestTypeChanged {
                request_type_id: s("t"),
                change: s("published"),
                actor: a(),
            },
            DomainEvent::ResourceOwnerAdded {
                resource_id: s("g"),
                resource_type: s("groups"),
                resource_orn: s("orn:okta:directory:o:groups:g"),
                principal_id: s("u"),
                principal_type: s("users"),
                principal_orn: s("orn:okta:directory:o:users:u"),
                actor: a(),
            },
            DomainEvent::ResourceOwnerRemoved {
                resource_id: s("g"),
                resource_type: s("groups"),
                resource_orn: s("orn:okta:directory:o:groups:g"),
                principal_id: s("u"),
                principal_type: s("users"),
                principal_orn: s("orn:okta:directory:o:users:u"),
                actor: a(),
            },
        ]
    }

    #[test]
    fn name_matches_the_serialised_type_for_every_variant() {
        let all = examples();
        for event in all {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], event.name(), "{event:?}");
            assert_eq!(event.actor(), &admin());
            assert_eq!(serde_json::from_value::<DomainEvent>(json).unwrap(), event);
        }
    }

    #[test]
    fn status_and_role_changes_make_principals_stale_not_clients() {
        let suspended = DomainEvent::UserStatusChanged {
            user_id: "u".into(),
            from: "ACTIVE".into(),
            to: "SUSPENDED".into(),
            send_email: None,
            actor: admin(),
        };
        assert_eq!(
            suspended.invalidates(),
            Invalidation {
                principals: true,
                clients: false
            }
        );
        let role = DomainEvent::ClientRolesChanged {
            app_id: "a".into(),
            role: "ORG_ADMIN".into(),
            assigned: false,
            actor: admin(),
        };
        assert!(role.invalidates().principals && !role.invalidates().clients);
    }

    #[test]
    fn app_changes_make_clients_stale_and_deactivation_principals_too() {
        let grant = DomainEvent::AppGrantRevoked {
            app_id: "a".into(),
            grant_id: "g".into(),
            scope_id: "okta.users.read".into(),
            actor: admin(),
        };
        assert!(grant.invalidates().clients && !grant.invalidates().principals);
        assert_eq!(app_event().invalidates(), Invalidation::ALL);
    }

    #[test]
    fn directory_changes_read_fresh_invalidate_nothing() {
        let joined = DomainEvent::GroupMembershipAdded {
            group_id: "g".into(),
            user_id: "u".into(),
            access_request_id: None,
            actor: admin(),
        };
        assert!(joined.invalidates().is_none());
    }

    #[test]
    fn union_keeps_every_stale_cache() {
        let principals = Invalidation {
            principals: true,
            clients: false,
        };
        let clients = Invalidation {
            principals: false,
            clients: true,
        };
        assert_eq!(principals.union(clients), Invalidation::ALL);
        assert_eq!(Invalidation::NONE.union(clients), clients);
        assert!(Invalidation::NONE.union(Invalidation::NONE).is_none());
    }

    #[test]
    fn an_unknown_stored_event_invalidates_everything() {
        let newer = serde_json::json!({"type": "app.renamed_in_the_future", "app_id": "a"});
        assert_eq!(
            DomainEvent::invalidation_of_stored(&newer),
            Invalidation::ALL
        );
        let known = serde_json::to_value(app_event()).unwrap();
        assert_eq!(
            DomainEvent::invalidation_of_stored(&known),
            Invalidation::ALL
        );
        let joined = serde_json::to_value(DomainEvent::GroupDeleted {
            group_id: "g".into(),
            actor: admin(),
        })
        .unwrap();
        assert!(DomainEvent::invalidation_of_stored(&joined).is_none());
    }
}
