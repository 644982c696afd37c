//! The types the access-request rules share (what is requested, approval steps, the directory
//! view), so that conditions, approvers and the workflow depend on this module and not on each
//! other.

use serde::{Deserialize, Serialize};

use super::Principal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceType {
    Application,
    RequestType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessScopeType {
    EntitlementBundle,
    Group,
    Application,
    RequestType,
}

/// What is requested: a catalog entry, resolved to a resource and an access scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requested {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    pub resource_id: String,
    pub resource_type: ResourceType,
    /// The resource's own id for `APPLICATION`.
    pub access_scope_id: String,
    pub access_scope_type: AccessScopeType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestFieldType {
    Text,
    Select,
    Multiselect,
    IsoDate,
    Duration,
    OktaUserId,
}

/// A requester's answer. `value` for every type but `MULTISELECT`, which uses `values`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestFieldValue {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<RequestFieldType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// One serial step: who is asked, and who instead when nobody eligible is left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalStep {
    pub approver: Approver,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Approver>,
    /// The task label; a default is used when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Approver {
    /// The manager of the user access is requested for.
    RequesterManager,
    User {
        id: String,
    },
    /// Any one member of the group.
    Group {
        id: String,
    },
    /// Any one owner of the requested access scope (else of the resource).
    ResourceOwner,
}

/// The view of users, groups and resource owners the rules need; storage implements it.
pub trait Directory {
    fn manager_of(&self, user_id: &str) -> Option<String>;
    fn group_members(&self, group_id: &str) -> Vec<String>;
    fn resource_owners(&self, resource_id: &str) -> Vec<String>;
    fn user_is_active(&self, id: &str) -> bool;
    /// Whether `user_id` is a member of `group_id`. Directories that hold only some members of
    /// a group (approver candidates) answer this exactly.
    fn is_group_member(&self, group_id: &str, user_id: &str) -> bool {
        self.group_members(group_id).iter().any(|m| m == user_id)
    }
}

/// What approver rules read of a request: who it is for and by, and what it asks.
pub trait RequestParties {
    /// Whether `principal` requested the access or is who it is for.
    fn is_requester(&self, principal: &Principal) -> bool;
    /// The user the access is for.
    fn requested_for_id(&self) -> &str;
    fn requested(&self) -> &Requested;
}
