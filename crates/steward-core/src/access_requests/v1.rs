//! Access Requests v1: request types (`/v1/request-types`) and the requests made through them
//! (`/v1/requests`). A v1 request runs on the same [`RequestWorkflow`] as a v2 one: the request
//! type's serial approvals are its steps (decided through the tasks API, v1 has no decision
//! endpoint), and [`RequestV1::refresh`] maps the workflow back onto v1's `requestStatus`,
//! `approvals` and `actions`:
//!
//! | workflow                                         | `requestStatus` |
//! |--------------------------------------------------|-----------------|
//! | SUBMITTED, PENDING (approvals outstanding)       | OPEN            |
//! | APPROVED, grant PENDING or MANUAL_REQUIRED       | PENDING         |
//! | APPROVED and GRANTED or FAILED; DENIED, CANCELED, EXPIRED | RESOLVED |

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::approvers::Directory;
use super::conditions::{ApprovalStep, Approver};
use super::duration::AccessDuration;
use super::workflow::{
    AccessRequestEvent, AccessScopeType, Decision, GrantStatus, NewRequest, RequestStatus,
    RequestWorkflow, Requested, ResourceType,
};
use super::{is_hex_id, new_hex_id, new_uuid_v4, ts, Causes, Principal, PrincipalType, RuleError};
use crate::validation::ValidationError;

/// Okta allows at most this many ACTIVE request types per org (the caller counts).
pub const MAX_ACTIVE_REQUEST_TYPES: usize = 500;

// ---------------------------------------------------------------------------------------------
// Request types

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestTypeStatus {
    Draft,
    Active,
    Disabled,
}

impl RequestTypeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestTypeStatus::Draft => "DRAFT",
            RequestTypeStatus::Active => "ACTIVE",
            RequestTypeStatus::Disabled => "DISABLED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LastUpdateSource {
    Api,
    Web,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    pub resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
}

/// Which resource is requestable (exactly one). `CUSTOM` only describes UI-made types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum ResourceSettings {
    Apps {
        target_resources: Vec<TargetResource>,
    },
    Groups {
        target_resources: Vec<TargetResource>,
    },
    EntitlementBundles {
        target_resources: Vec<TargetResource>,
    },
    Custom,
}

/// v1's `resourceType` of a requested resource (`okta-resource-readable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceKind {
    App,
    Group,
    EntitlementBundle,
}

impl ResourceKind {
    fn id_prefix(self) -> &'static str {
        match self {
            ResourceKind::App => "0oa",
            ResourceKind::Group => "00g",
            ResourceKind::EntitlementBundle => "enb",
        }
    }
    fn action(self) -> ActionType {
        match self {
            ResourceKind::App => ActionType::AssignAppToUser,
            ResourceKind::Group => ActionType::AddUserToGroup,
            ResourceKind::EntitlementBundle => ActionType::GrantAccessToEntitlementBundle,
        }
    }
    fn scope_type(self) -> AccessScopeType {
        match self {
            ResourceKind::App => AccessScopeType::Application,
            ResourceKind::Group => AccessScopeType::Group,
            ResourceKind::EntitlementBundle => AccessScopeType::EntitlementBundle,
        }
    }
}

impl ResourceSettings {
    /// The kind and the target resources; `None` for CUSTOM.
    pub fn targets(&self) -> Option<(ResourceKind, &[TargetResource])> {
        match self {
            ResourceSettings::Apps { target_resources } => {
                Some((ResourceKind::App, target_resources))
            }
            ResourceSettings::Groups { target_resources } => {
                Some((ResourceKind::Group, target_resources))
            }
            ResourceSettings::EntitlementBundles { target_resources } => {
                Some((ResourceKind::EntitlementBundle, target_resources))
            }
            ResourceSettings::Custom => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldType {
    #[default]
    #[serde(rename = "TEXT")]
    Text,
    #[serde(rename = "SELECT")]
    Select,
    #[serde(rename = "DATE-TIME")]
    DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOption {
    pub value: String,
}

/// A question asked of the requester or the approver. `id` (a UUID v4) is minted on create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(rename = "type", default)]
    pub kind: FieldType,
    /// SELECT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<FieldOption>>,
}

fn yes() -> bool {
    true
}

/// Who may use the request type (everyone, or members of one group) and what they must answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum RequestSettings {
    MemberOf {
        #[serde(default)]
        requester_member_of: Vec<String>,
        #[serde(default)]
        requester_fields: Vec<Field>,
    },
    Everyone {
        #[serde(default)]
        requester_fields: Vec<Field>,
    },
    Custom,
}

impl Default for RequestSettings {
    fn default() -> Self {
        RequestSettings::Everyone {
            requester_fields: vec![],
        }
    }
}

impl RequestSettings {
    pub fn requester_fields(&self) -> &[Field] {
        match self {
            RequestSettings::MemberOf {
                requester_fields, ..
            }
            | RequestSettings::Everyone { requester_fields } => requester_fields,
            RequestSettings::Custom => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApproverType {
    MemberOf,
    User,
    Manager,
    ResourceOwner,
}

/// One serial approval of a request type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub approver_type: ApproverType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MEMBER_OF: exactly one group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_member_of: Option<Vec<String>>,
    /// USER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_user_id: Option<String>,
    #[serde(default)]
    pub approver_fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalSettings {
    Serial {
        #[serde(default)]
        approvals: Vec<Approval>,
    },
    None,
    Custom,
}

/// A request type, its full representation minus `_links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestType {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The team that administers the type (24 hex).
    pub owner_id: String,
    pub resource_settings: ResourceSettings,
    pub request_settings: RequestSettings,
    pub approval_settings: ApprovalSettings,
    /// Always present, `null` for permanent access.
    #[serde(default)]
    pub access_duration: Option<String>,
    pub status: RequestTypeStatus,
    pub last_update_source: LastUpdateSource,
    #[serde(with = "ts")]
    pub created: i64,
    pub created_by: String,
    #[serde(with = "ts")]
    pub last_updated: i64,
    pub last_updated_by: String,
}

/// `POST /v1/request-types` (missing required properties are reported together).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestTypeCreate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner_id: Option<String>,
    pub resource_settings: Option<ResourceSettings>,
    pub request_settings: Option<RequestSettings>,
    pub approval_settings: Option<ApprovalSettings>,
    pub access_duration: Option<String>,
    pub status: Option<RequestTypeStatus>,
}

impl RequestType {
    /// Validates the body and creates the type (DRAFT unless asked ACTIVE), minting field ids.
    /// Whether `ownerId` is a team, and the target and groups exist, are the caller's checks.
    pub fn create(
        body: RequestTypeCreate,
        actor: &str,
        now: i64,
    ) -> Result<RequestType, ValidationError> {
        validate_request_type(&body)?;
        let (Some(name), Some(owner_id), Some(resource_settings), Some(mut approval_settings)) = (
            body.name,
            body.owner_id,
            body.resource_settings,
            body.approval_settings,
        ) else {
            // Reported by `validate_request_type`.
            return Err(ValidationError::new(
                "missing required property",
                "missing required property",
            ));
        };
        let mut request_settings = body.request_settings.unwrap_or_default();
        let mint = |fields: &mut Vec<Field>| fields.iter_mut().for_each(|f| f.id = new_uuid_v4());
        match &mut request_settings {
            RequestSettings::MemberOf {
                requester_fields, ..
            }
            | RequestSettings::Everyone { requester_fields } => mint(requester_fields),
            RequestSettings::Custom => {}
        }
        if let ApprovalSettings::Serial { approvals } = &mut approval_settings {
            for a in approvals {
                mint(&mut a.approver_fields);
                // Okta: approver fields are always required.
                a.approver_fields.iter_mut().for_each(|f| f.required = true);
            }
        }
        Ok(RequestType {
            id: new_hex_id(),
            name,
            description: body.description,
            owner_id,
            resource_settings,
            request_settings,
            approval_settings,
            access_duration: body.access_duration,
            status: body.status.unwrap_or(RequestTypeStatus::Draft),
            last_update_source: LastUpdateSource::Api,
            created: now,
            created_by: actor.into(),
            last_updated: now,
            last_updated_by: actor.into(),
        })
    }

    /// `POST …/publish`: DRAFT (or ACTIVE) → ACTIVE; a DISABLED type must be repaired first.
    pub fn publish(&mut self, actor: &str, now: i64) -> Result<(), RuleError> {
        self.set_published(RequestTypeStatus::Active, actor, now)
    }

    /// `POST …/un-publish`: ACTIVE (or DRAFT) → DRAFT.
    pub fn unpublish(&mut self, actor: &str, now: i64) -> Result<(), RuleError> {
        self.set_published(RequestTypeStatus::Draft, actor, now)
    }

    /// Settings became invalid (an approver or group was removed): Okta disables the type.
    pub fn disable(&mut self, now: i64) {
        self.status = RequestTypeStatus::Disabled;
        self.last_updated = now;
    }

    fn set_published(
        &mut self,
        status: RequestTypeStatus,
        actor: &str,
        now: i64,
    ) -> Result<(), RuleError> {
        if self.status == RequestTypeStatus::Disabled {
            return Err(RuleError::conflict(
                "Cannot publish or unpublish a DISABLED request type. Repair the request type using the administrative user interface.",
                "Cannot publish or unpublish a DISABLED request type.",
            ));
        }
        self.status = status;
        self.last_updated = now;
        self.last_updated_by = actor.into();
        Ok(())
    }

    /// The serial approvals as engine steps (none for `NONE`).
    pub fn approval_steps(&self) -> Vec<ApprovalStep> {
        let ApprovalSettings::Serial { approvals } = &self.approval_settings else {
            return vec![];
        };
        approvals
            .iter()
            .map(|a| ApprovalStep {
                approver: match a.approver_type {
                    ApproverType::Manager => Approver::RequesterManager,
                    ApproverType::ResourceOwner => Approver::ResourceOwner,
                    ApproverType::User => Approver::User {
                        id: a.approver_user_id.clone().unwrap_or_default(),
                    },
                    ApproverType::MemberOf => Approver::Group {
                        id: a
                            .approver_member_of
                            .as_ref()
                            .and_then(|g| g.first().cloned())
                            .unwrap_or_default(),
                    },
                },
                fallback: None,
                label: a.description.clone(),
            })
            .collect()
    }

    pub fn access_duration(&self) -> Option<AccessDuration> {
        self.access_duration
            .as_deref()
            .and_then(AccessDuration::parse)
    }
}

fn validate_request_type(body: &RequestTypeCreate) -> Result<(), ValidationError> {
    let mut c = Causes::default();
    c.require("", "name", &body.name);
    c.require("", "ownerId", &body.owner_id);
    c.require("", "resourceSettings", &body.resource_settings);
    c.require("", "approvalSettings", &body.approval_settings);
    if let Some(name) = &body.name {
        c.text("/name", name, 1, 50);
    }
    if let Some(d) = &body.description {
        c.text("/description", d, 1, 2000);
    }
    if let Some(owner) = &body.owner_id {
        if !is_hex_id(owner) {
            c.add("/ownerId", "must match pattern \"^[a-fA-F\\d]{24}$\"");
        }
    }
    match body
        .resource_settings
        .as_ref()
        .map(ResourceSettings::targets)
    {
        Some(Some((kind, targets))) => {
            c.items("/resourceSettings/targetResources", targets, 1, 1);
            for (i, t) in targets.iter().enumerate() {
                let at = format!("/resourceSettings/targetResources/{i}/resourceId");
                c.okta_id(&at, kind.id_prefix(), &t.resource_id);
            }
        }
        Some(None) => c.add(
            "/resourceSettings/type",
            "must be equal to one of the allowed values: APPS, GROUPS, ENTITLEMENT_BUNDLES",
        ),
        None => {}
    }
    match &body.request_settings {
        Some(RequestSettings::MemberOf {
            requester_member_of,
            requester_fields,
        }) => {
            check_groups(
                &mut c,
                "/requestSettings/requesterMemberOf",
                requester_member_of,
            );
            check_fields(&mut c, "/requestSettings/requesterFields", requester_fields);
        }
        Some(RequestSettings::Everyone { requester_fields }) => {
            check_fields(&mut c, "/requestSettings/requesterFields", requester_fields)
        }
        Some(RequestSettings::Custom) => c.add(
            "/requestSettings/type",
            "must be equal to one of the allowed values: MEMBER_OF, EVERYONE",
        ),
        None => {}
    }
    match &body.approval_settings {
        Some(ApprovalSettings::Serial { approvals }) => {
            c.items("/approvalSettings/approvals", approvals, 1, 5);
            for (i, a) in approvals.iter().enumerate() {
                check_approval(&mut c, &format!("/approvalSettings/approvals/{i}"), a);
            }
        }
        Some(ApprovalSettings::Custom) => c.add(
            "/approvalSettings/type",
            "must be equal to one of the allowed values: SERIAL, NONE",
        ),
        Some(ApprovalSettings::None) | None => {}
    }
    if let Some(d) = &body.access_duration {
        if let Err(why) = AccessDuration::parse_v1(d) {
            c.add("/accessDuration", why);
        }
    }
    if body.status == Some(RequestTypeStatus::Disabled) {
        c.add(
            "/status",
            "must be equal to one of the allowed values: DRAFT, ACTIVE",
        );
    }
    c.finish()
}

fn check_groups(c: &mut Causes, at: &str, groups: &[String]) {
    c.items(at, groups, 1, 1);
    for (i, g) in groups.iter().enumerate() {
        c.okta_id(&format!("{at}/{i}"), "00g", g);
    }
}

fn check_fields(c: &mut Causes, at: &str, fields: &[Field]) {
    c.items(at, fields, 0, 5);
    for (i, f) in fields.iter().enumerate() {
        let at = format!("{at}/{i}");
        c.text(&format!("{at}/prompt"), &f.prompt, 1, 100);
        match (&f.kind, &f.options) {
            (FieldType::Select, None) => c.require(&at, "options", &f.options),
            (FieldType::Select, Some(options)) => {
                c.items(&format!("{at}/options"), options, 1, 25);
                for (j, o) in options.iter().enumerate() {
                    c.text(&format!("{at}/options/{j}/value"), &o.value, 1, 280);
                }
            }
            _ => {}
        }
    }
}

fn check_approval(c: &mut Causes, at: &str, a: &Approval) {
    if let Some(d) = &a.description {
        c.text(&format!("{at}/description"), d, 1, 250);
    }
    match a.approver_type {
        ApproverType::MemberOf => match &a.approver_member_of {
            Some(groups) => check_groups(c, &format!("{at}/approverMemberOf"), groups),
            None => c.require(at, "approverMemberOf", &a.approver_member_of),
        },
        ApproverType::User => match &a.approver_user_id {
            Some(id) => c.okta_id(&format!("{at}/approverUserId"), "00u", id),
            None => c.require(at, "approverUserId", &a.approver_user_id),
        },
        ApproverType::Manager | ApproverType::ResourceOwner => {}
    }
    check_fields(c, &format!("{at}/approverFields"), &a.approver_fields);
}

// ---------------------------------------------------------------------------------------------
// Requests

/// `ACCESS_REQUEST` for types the API can represent, `CUSTOM` for UI-made ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestV1Type {
    AccessRequest,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestV1Status {
    Open,
    Pending,
    Resolved,
    Locked,
}

/// The status of an approval or an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemStatus {
    Pending,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionType {
    AddUserToGroup,
    AssignAppToUser,
    GrantAccessToEntitlementBundle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionStatus {
    Succeeded,
    Failed,
}

/// An answer to a field: a string, an array of one option (SELECT) or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<FieldType>,
    #[serde(default)]
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestApprovalV1 {
    pub status: ItemStatus,
    pub approval_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, with = "ts::opt", skip_serializing_if = "Option::is_none")]
    pub decided: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_values: Option<Vec<FieldValue>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestAction {
    pub status: ItemStatus,
    pub action: ActionType,
    pub action_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_status: Option<ActionStatus>,
    #[serde(default, with = "ts::opt", skip_serializing_if = "Option::is_none")]
    pub action_attempted: Option<i64>,
    #[serde(default, with = "ts::opt", skip_serializing_if = "Option::is_none")]
    pub access_removed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<ResourceKind>,
}

/// A v1 request, its full representation minus `_links`. `resolved`, `requesterFieldValues`
/// and `actions` are always present (`null` when empty), as the spec requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestV1 {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: RequestV1Type,
    pub request_type_id: String,
    pub subject: String,
    pub requester_user_ids: Vec<String>,
    #[serde(default)]
    pub requester_field_values: Option<Vec<FieldValue>>,
    pub request_status: RequestV1Status,
    #[serde(default, with = "ts::opt")]
    pub resolved: Option<i64>,
    pub permalink_id: i64,
    #[serde(default)]
    pub approvals: Vec<RequestApprovalV1>,
    #[serde(default)]
    pub actions: Option<Vec<RequestAction>>,
    #[serde(with = "ts")]
    pub created: i64,
    pub created_by: String,
    #[serde(with = "ts")]
    pub last_updated: i64,
    pub last_updated_by: String,
}

/// `POST /v1/requests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestV1Create {
    pub request_type_id: Option<String>,
    pub subject: Option<String>,
    pub requester_user_ids: Option<Vec<String>>,
    pub requester_field_values: Option<Vec<FieldValueWrite>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FieldValueWrite {
    pub id: Option<String>,
    pub value: Option<Value>,
}

/// A v1 request just opened, with the workflow it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedRequest {
    pub request: RequestV1,
    pub workflow: RequestWorkflow,
    pub events: Vec<AccessRequestEvent>,
}

/// `POST /v1/requests`: checks the body against `request_type` (which the caller looked up by
/// `requestTypeId`) and opens the request on the engine. `caller` is the token's principal (a
/// user, or a client-credentials service app, which must then name `requesterUserIds`); `permalink_id` is the
/// org's next request number. `name_of` names users and resources for the v1 representation.
pub fn open_request(
    body: RequestV1Create,
    request_type: &RequestType,
    caller: &Principal,
    permalink_id: i64,
    directory: &dyn Directory,
    name_of: &dyn Fn(&str) -> Option<String>,
    now: i64,
) -> Result<OpenedRequest, RuleError> {
    let caller_is_user = caller.kind == PrincipalType::OktaUser;
    let mut c = Causes::default();
    c.require("", "requestTypeId", &body.request_type_id);
    c.require("", "subject", &body.subject);
    if let Some(id) = &body.request_type_id {
        if !is_hex_id(id) {
            c.add("/requestTypeId", "must match pattern \"^[a-fA-F\\d]{24}$\"");
        }
    }
    if let Some(subject) = &body.subject {
        c.text("/subject", subject, 1, 250);
    }
    match &body.requester_user_ids {
        Some(ids) => {
            c.items("/requesterUserIds", ids, 1, 1);
            for (i, id) in ids.iter().enumerate() {
                c.okta_id(&format!("/requesterUserIds/{i}"), "00u", id);
            }
        }
        None if !caller_is_user => c.require("", "requesterUserIds", &body.requester_user_ids),
        None => {}
    }
    c.finish()?;
    let requester = body
        .requester_user_ids
        .as_ref()
        .and_then(|ids| ids.first().cloned())
        .unwrap_or_else(|| caller.external_id.clone());

    if request_type.status != RequestTypeStatus::Active {
        let why = format!(
            "Request type {} must be ACTIVE. Current status: {}",
            request_type.id,
            request_type.status.as_str()
        );
        return Err(RuleError::conflict(why.clone(), why));
    }
    if let RequestSettings::MemberOf {
        requester_member_of,
        ..
    } = &request_type.request_settings
    {
        let outsider = |u: &String| {
            !requester_member_of
                .iter()
                .any(|g| directory.is_group_member(g, u))
        };
        if outsider(&requester) || (caller_is_user && outsider(&caller.external_id)) {
            return Err(RuleError::forbidden(
                "Authenticated user and contents of /body/requesterUserIds must be members of the \
                 group specified in the request type's /requestSettings/requesterMemberOf array.",
            ));
        }
    }
    let field_values = check_field_values(
        request_type.request_settings.requester_fields(),
        body.requester_field_values.as_deref().unwrap_or_default(),
    )?;
    let Some((kind, [target, ..])) = request_type.resource_settings.targets() else {
        return Err(RuleError::invalid(
            "/requestTypeId",
            "/requestTypeId The request type has no resource the API can request",
        ));
    };

    let new = NewRequest {
        id: new_hex_id(),
        requested: Requested {
            entry_id: None,
            resource_id: target.resource_id.clone(),
            resource_type: ResourceType::RequestType,
            access_scope_id: target.resource_id.clone(),
            access_scope_type: kind.scope_type(),
        },
        requested_by: caller.clone(),
        requested_for: requester.clone(),
        requester_field_values: None,
    };
    let (mut workflow, mut events) = RequestWorkflow::create(new, now);
    events.extend(workflow.start(
        request_type.approval_steps(),
        request_type.access_duration(),
        directory,
        now,
    )?);
    let mut request = RequestV1 {
        id: workflow.request.id.clone(),
        kind: RequestV1Type::AccessRequest,
        request_type_id: request_type.id.clone(),
        subject: body.subject.unwrap_or_default(),
        requester_user_ids: vec![requester],
        requester_field_values: field_values,
        request_status: RequestV1Status::Open,
        resolved: None,
        permalink_id,
        approvals: vec![],
        actions: Some(vec![RequestAction {
            status: ItemStatus::Pending,
            action: kind.action(),
            action_id: new_hex_id(),
            action_status: None,
            action_attempted: None,
            access_removed: None,
            resource_id: None,
            resource_name: None,
            resource_type: None,
        }]),
        created: now,
        created_by: caller.external_id.clone(),
        last_updated: now,
        last_updated_by: caller.external_id.clone(),
    };
    request.refresh(&workflow, request_type, name_of);
    Ok(OpenedRequest {
        request,
        workflow,
        events,
    })
}

/// Checks the requester's answers against the type's fields; the stored values carry each
/// field's prompt, type and required flag, in the type's order.
fn check_field_values(
    fields: &[Field],
    values: &[FieldValueWrite],
) -> Result<Option<Vec<FieldValue>>, RuleError> {
    let mut c = Causes::default();
    let mut answered: Vec<(&Field, Value)> = vec![];
    for (i, v) in values.iter().enumerate() {
        let at = format!("/requesterFieldValues/{i}");
        c.require(&at, "id", &v.id);
        c.require(&at, "value", &v.value);
        let (Some(id), Some(value)) = (&v.id, &v.value) else {
            continue;
        };
        let Some(field) = fields.iter().find(|f| &f.id == id) else {
            c.add(&format!("{at}/id"), format!("{id} not found"));
            continue;
        };
        if answered.iter().any(|(f, _)| f.id == field.id) {
            return Err(RuleError::conflict(
                format!("{at}/id {id} is provided more than once"),
                format!("{id} is provided more than once"),
            ));
        }
        let at = format!("{at}/value");
        match (field.kind, value) {
            (FieldType::Text, Value::String(s)) => c.text(&at, s, 1, 1000),
            (FieldType::DateTime, Value::String(s))
                if crate::timefmt::parse_rfc3339_millis(s).is_some() => {}
            (FieldType::DateTime, _) => c.add(&at, "must be date-time"),
            (FieldType::Select, Value::Array(items)) if items.len() == 1 => {
                let options = field.options.as_deref().unwrap_or_default();
                if !options
                    .iter()
                    .any(|o| items[0].as_str() == Some(o.value.as_str()))
                {
                    c.add(
                        &format!("{at}/0"),
                        "must be equal to one of the allowed values",
                    );
                }
            }
            (FieldType::Select, _) => c.add(&at, "must be an array of one option"),
            (FieldType::Text, _) => c.add(&at, "must be string"),
        }
        answered.push((field, value.clone()));
    }
    if fields
        .iter()
        .any(|f| f.required && !answered.iter().any(|(a, _)| a.id == f.id))
    {
        c.add(
            "/requesterFieldValues",
            "must have all required requesterFields",
        );
    }
    c.finish()?;
    if answered.is_empty() {
        return Ok(None);
    }
    let stored = fields
        .iter()
        .filter_map(|f| {
            let (_, value) = answered.iter().find(|(a, _)| a.id == f.id)?;
            Some(FieldValue {
                id: f.id.clone(),
                prompt: Some(f.prompt.clone()),
                required: Some(f.required),
                kind: Some(f.kind),
                value: value.clone(),
            })
        })
        .collect();
    Ok(Some(stored))
}

impl RequestV1 {
    /// Brings the v1 view up to date with its workflow (after every transition).
    pub fn refresh(
        &mut self,
        wf: &RequestWorkflow,
        request_type: &RequestType,
        name_of: &dyn Fn(&str) -> Option<String>,
    ) {
        let r = &wf.request;
        self.request_status = match (r.status, r.grant_status) {
            (RequestStatus::Submitted | RequestStatus::Pending, _) => RequestV1Status::Open,
            (RequestStatus::Approved, Some(GrantStatus::Granted | GrantStatus::Failed)) => {
                RequestV1Status::Resolved
            }
            (RequestStatus::Approved, _) => RequestV1Status::Pending,
            _ => RequestV1Status::Resolved,
        };
        self.resolved = (self.request_status == RequestV1Status::Resolved)
            .then(|| r.granted.or(r.resolved))
            .flatten();
        self.approvals = wf
            .steps
            .iter()
            .map(|step| {
                let done = wf.task(&step.task_id).and_then(|t| {
                    let decider = t.completed_by.as_ref()?.external_id.clone();
                    let decision = Decision::from_task_value(t.value.as_deref()).ok()?;
                    Some((decider, decision, t.updated_at))
                });
                match done {
                    Some((decider, decision, decided)) => RequestApprovalV1 {
                        status: ItemStatus::Completed,
                        approval_id: step.task_id.clone(),
                        approver_name: Some(name_of(&decider).unwrap_or_else(|| decider.clone())),
                        approver_id: Some(decider),
                        decision: Some(decision),
                        decided: Some(decided),
                        field_values: Some(vec![]),
                    },
                    None => RequestApprovalV1 {
                        status: ItemStatus::Pending,
                        approval_id: step.task_id.clone(),
                        approver_id: None,
                        approver_name: None,
                        decision: None,
                        decided: None,
                        field_values: None,
                    },
                }
            })
            .collect();
        if r.status == RequestStatus::Approved {
            let kind = request_type.resource_settings.targets().map(|(k, _)| k);
            for action in self.actions.iter_mut().flatten() {
                let outcome = match r.grant_status {
                    Some(GrantStatus::Granted) => Some((ActionStatus::Succeeded, r.granted)),
                    Some(GrantStatus::Failed) => Some((ActionStatus::Failed, Some(r.last_updated))),
                    _ => None,
                };
                if let Some((status, attempted)) = outcome {
                    let resource = &r.requested.resource_id;
                    action.status = ItemStatus::Completed;
                    action.action_status = Some(status);
                    action.action_attempted = attempted;
                    action.access_removed = r.revoked;
                    action.resource_name =
                        Some(name_of(resource).unwrap_or_else(|| resource.clone()));
                    action.resource_id = Some(resource.clone());
                    action.resource_type = kind;
                }
            }
        } else if r.status.is_resolved() {
            // "null if there will never be actions for this request".
            self.actions = None;
        }
        self.last_updated = r.last_updated;
        self.last_updated_by = r.last_updated_by.clone();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::access_requests::testkit::{normalise, spec_example, FakeDirectory};
    use crate::access_requests::{from_body, RuleError};

    const V1: &str = "governance-production-requests-admin-v1-reference-minimal";
    const ADMIN: &str = "00uadmin000000000000";
    const ALICE: &str = "00ualice0000000000a1";
    const MANAGER: &str = "00umanager000000000a";
    const BOB: &str = "00ubob00000000000000";
    const T0: i64 = 1_700_000_000_000;

    fn create(body: Value) -> Result<RequestType, ValidationError> {
        RequestType::create(from_body(&body)?, ADMIN, T0)
    }

    fn summary(body: Value) -> String {
        create(body).unwrap_err().summary
    }

    #[test]
    fn the_spec_create_examples_are_accepted() {
        for name in [
            "request-type-creatable-00-minimal-example",
            "request-type-creatable-01-request-anyone-no-questions-example",
            "request-type-creatable-04-app-manager-select-field-example",
            "request-type-creatable-06-app-manager-datetime-field-example",
            "request-type-creatable-07-approval-multi-step-example",
            "request-type-creatable-09-requester-memberof-example",
            "request-type-creatable-11-no-approval-example",
            "request-type-creatable-13-resource-owner-approval-example",
        ] {
            let t = create(spec_example(V1, name)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(is_hex_id(&t.id));
        }
        let t = create(spec_example(
            V1,
            "request-type-creatable-00-minimal-example",
        ))
        .unwrap();
        assert_eq!(t.status, RequestTypeStatus::Draft);
        assert_eq!(t.request_settings, RequestSettings::default());
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(
            json["accessDuration"],
            Value::Null,
            "required, null when permanent"
        );
        assert_eq!(json["lastUpdateSource"], "API");
        assert_eq!(
            json["approvalSettings"]["approvals"][0]["approverType"],
            "MANAGER"
        );
    }

    #[test]
    fn create_errors_read_like_okta() {
        assert_eq!(
            summary(json!({"name": "x", "approvalSettings": {"type": "NONE"}})),
            "must have required property 'ownerId', must have required property 'resourceSettings'"
        );
        let base = |approvals: Value, extra: Value| {
            let mut b = json!({
                "name": "salesforce-01",
                "ownerId": "61eb0f06c462d20007f051ac",
                "resourceSettings": {"type": "APPS", "targetResources": [{"resourceId": "0oafxqCAJWWGELFTYASJ"}]},
                "approvalSettings": {"type": "SERIAL", "approvals": approvals},
            });
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            b
        };
        assert_eq!(
            summary(base(json!([]), json!({}))),
            "/approvalSettings/approvals must NOT have fewer than 1 items"
        );
        assert_eq!(
            summary(base(
                json!([{"approverType": "MEMBER_OF", "approverMemberOf": ["00g1emaKYZTWRYYRRTSK", "00g1emaKYZTWRYYRRTSL"]}]),
                json!({})
            )),
            "/approvalSettings/approvals/0/approverMemberOf must NOT have more than 1 items"
        );
        assert_eq!(
            summary(base(json!([{"approverType": "USER"}]), json!({}))),
            "/approvalSettings/approvals/0 must have required property 'approverUserId'"
        );
        let manager = json!([{"approverType": "MANAGER"}]);
        assert!(
            summary(base(manager.clone(), json!({"accessDuration": "P1Y2M"})))
                .starts_with("/accessDuration")
        );
        assert!(
            summary(base(manager.clone(), json!({"accessDuration": "P1W"})))
                .starts_with("/accessDuration")
        );
        assert!(create(base(manager.clone(), json!({"accessDuration": "PT65H"}))).is_ok());
        assert_eq!(
            summary(base(
                manager.clone(),
                json!({"requestSettings": {"type": "EVERYONE", "requesterFields": [{"prompt": "Why?", "type": "SELECT"}]}})
            )),
            "/requestSettings/requesterFields/0 must have required property 'options'"
        );
        assert!(
            from_body::<RequestTypeCreate>(&base(manager, json!({"status": "ARCHIVED"}))).is_err()
        );
    }

    #[test]
    fn publish_and_unpublish() {
        let mut t = create(spec_example(
            V1,
            "request-type-creatable-00-minimal-example",
        ))
        .unwrap();
        t.publish(ADMIN, T0 + 1).unwrap();
        assert_eq!(t.status, RequestTypeStatus::Active);
        t.unpublish(ADMIN, T0 + 2).unwrap();
        assert_eq!(t.status, RequestTypeStatus::Draft);
        t.disable(T0 + 3);
        let err = t.publish(ADMIN, T0 + 4).unwrap_err();
        assert!(matches!(err, RuleError::Conflict(_)));
        assert!(err.to_string().starts_with(
            "Api validation failed due to conflict: Cannot publish or unpublish a DISABLED"
        ));
        assert!(t.unpublish(ADMIN, T0 + 4).is_err());
    }

    #[test]
    fn request_types_and_requests_serialise_as_the_spec_examples() {
        for name in [
            "request-type-get-published",
            "request-type-get-un-published",
        ] {
            let example = spec_example(V1, name);
            let parsed: RequestType = serde_json::from_value(example.clone()).unwrap();
            assert_eq!(
                normalise(&serde_json::to_value(&parsed).unwrap()),
                normalise(&example),
                "{name}"
            );
        }
        for name in [
            "request-get-fulfilled",
            "request-00-create-no-requester-example-full",
            "request-get-access-duration-expired",
        ] {
            let example = spec_example(V1, name);
            let parsed: RequestV1 =
                serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                normalise(&serde_json::to_value(&parsed).unwrap()),
                normalise(&example),
                "{name}"
            );
        }
    }

    /// An ACTIVE type for app Salesforce: manager, then Bob; a required TEXT and an optional
    /// SELECT question; 40 days of access.
    fn active_type() -> RequestType {
        let mut t = create(json!({
            "name": "salesforce-01",
            "ownerId": "61eb0f06c462d20007f051ac",
            "status": "ACTIVE",
            "resourceSettings": {"type": "APPS", "targetResources": [{"resourceId": "0oafxqCAJWWGELFTYASJ"}]},
            "requestSettings": {"type": "EVERYONE", "requesterFields": [
                {"prompt": "Why?", "type": "TEXT"},
                {"prompt": "Which?", "type": "SELECT", "required": false, "options": [{"value": "Sales"}]},
            ]},
            "approvalSettings": {"type": "SERIAL", "approvals": [
                {"approverType": "MANAGER"},
                {"approverType": "USER", "approverUserId": BOB, "description": "Bob approves"},
            ]},
            "accessDuration": "P40D",
        }))
        .unwrap();
        t.status = RequestTypeStatus::Active;
        t
    }

    fn body(t: &RequestType, values: Value) -> RequestV1Create {
        from_body(&json!({
            "requestTypeId": t.id,
            "subject": "I need access to Salesforce",
            "requesterFieldValues": values,
        }))
        .unwrap()
    }

    fn names(id: &str) -> Option<String> {
        (id == BOB).then(|| "Bob Builder".to_string())
    }

    #[test]
    fn a_v1_request_runs_on_the_engine() {
        let t = active_type();
        let dir = FakeDirectory::default().manager(ALICE, MANAGER);
        let why = &t.request_settings.requester_fields()[0].id;
        let opened = open_request(
            body(&t, json!([{"id": why, "value": "Quarterly report"}])),
            &t,
            &Principal::user(ALICE),
            7,
            &dir,
            &names,
            T0,
        )
        .unwrap();
        let (mut request, mut wf) = (opened.request, opened.workflow);
        assert!(is_hex_id(&request.id) && request.id == wf.request.id);
        assert_eq!(request.request_status, RequestV1Status::Open);
        assert_eq!(request.requester_user_ids, [ALICE]);
        assert_eq!(
            request.approvals.len(),
            2,
            "every approval is listed from the start"
        );
        assert!(request
            .approvals
            .iter()
            .all(|a| a.status == ItemStatus::Pending));
        assert_eq!(
            request.approvals[0].approval_id, wf.tasks[0].id,
            "approvals are tasks"
        );
        let answers = request.requester_field_values.clone().unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(
            (answers[0].prompt.as_deref(), answers[0].kind),
            (Some("Why?"), Some(FieldType::Text))
        );

        let first = wf.tasks[0].id.clone();
        wf.resolve_task(
            &first,
            &Principal::user(MANAGER),
            Decision::Approved,
            &dir,
            T0 + 1,
        )
        .unwrap();
        let second = wf.current_task().unwrap().id.clone();
        assert_eq!(wf.current_task().unwrap().label, "Bob approves");
        wf.resolve_task(
            &second,
            &Principal::user(BOB),
            Decision::Approved,
            &dir,
            T0 + 2,
        )
        .unwrap();
        request.refresh(&wf, &t, &names);
        assert_eq!(
            request.request_status,
            RequestV1Status::Pending,
            "approved, not yet granted"
        );
        assert_eq!(
            request.approvals[1].approver_name.as_deref(),
            Some("Bob Builder")
        );
        assert_eq!(request.approvals[1].decision, Some(Decision::Approved));

        wf.grant_succeeded(T0 + 3).unwrap();
        request.refresh(&wf, &t, &names);
        assert_eq!(request.request_status, RequestV1Status::Resolved);
        assert_eq!(request.resolved, Some(T0 + 3));
        assert_eq!(
            wf.request.revocation_scheduled,
            Some(T0 + 3 + 40 * 86_400_000)
        );
        let action = &request.actions.as_ref().unwrap()[0];
        assert_eq!(action.action, ActionType::AssignAppToUser);
        assert_eq!(
            (action.status, action.action_status),
            (ItemStatus::Completed, Some(ActionStatus::Succeeded))
        );
        assert_eq!(action.resource_type, Some(ResourceKind::App));
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["requestStatus"], "RESOLVED");
        assert_eq!(json["approvals"][0]["status"], "COMPLETED");
        assert_eq!(json["actions"][0]["actionStatus"], "SUCCEEDED");
    }

    #[test]
    fn a_denied_v1_request_is_resolved_without_actions() {
        let t = active_type();
        let dir = FakeDirectory::default().manager(ALICE, MANAGER);
        let why = &t.request_settings.requester_fields()[0].id;
        let opened = open_request(
            body(&t, json!([{"id": why, "value": "x"}])),
            &t,
            &Principal::user(ALICE),
            1,
            &dir,
            &names,
            T0,
        )
        .unwrap();
        let (mut request, mut wf) = (opened.request, opened.workflow);
        let first = wf.tasks[0].id.clone();
        wf.resolve_task(
            &first,
            &Principal::user(MANAGER),
            Decision::Denied,
            &dir,
            T0 + 1,
        )
        .unwrap();
        request.refresh(&wf, &t, &names);
        assert_eq!(request.request_status, RequestV1Status::Resolved);
        assert_eq!(request.resolved, Some(T0 + 1));
        assert_eq!(request.actions, None);
        assert_eq!(
            serde_json::to_value(&request).unwrap()["actions"],
            Value::Null
        );
        assert_eq!(request.approvals[1].status, ItemStatus::Pending);
    }

    #[test]
    fn a_type_without_approvals_is_approved_at_once() {
        let mut t = create(spec_example(
            V1,
            "request-type-creatable-11-no-approval-example",
        ))
        .unwrap();
        t.status = RequestTypeStatus::Active;
        let b = from_body(&json!({"requestTypeId": t.id, "subject": "Please"})).unwrap();
        let opened = open_request(
            b,
            &t,
            &Principal::user(ALICE),
            1,
            &FakeDirectory::default(),
            &names,
            T0,
        )
        .unwrap();
        assert_eq!(opened.request.request_status, RequestV1Status::Pending);
        assert!(opened.request.approvals.is_empty());
        assert!(matches!(
            opened.events.last(),
            Some(AccessRequestEvent::Approved { .. })
        ));
    }

    #[test]
    fn v1_create_rules() {
        let t = active_type();
        let dir = FakeDirectory::default().manager(ALICE, MANAGER);
        let fields = t.request_settings.requester_fields();
        let (why, which) = (&fields[0].id, &fields[1].id);
        let open = |t: &RequestType, b: RequestV1Create| {
            open_request(b, t, &Principal::user(ALICE), 1, &dir, &names, T0)
        };
        let cause = |r: Result<OpenedRequest, RuleError>| r.unwrap_err().detail().causes[0].clone();

        assert_eq!(
            cause(open(&t, body(&t, json!([])))),
            "/requesterFieldValues must have all required requesterFields"
        );
        assert_eq!(
            cause(open(
                &t,
                body(
                    &t,
                    json!([{"id": why, "value": "x"}, {"id": which, "value": ["Marketing"]}])
                )
            )),
            "/requesterFieldValues/1/value/0 must be equal to one of the allowed values"
        );
        assert!(open(
            &t,
            body(
                &t,
                json!([{"id": why, "value": "x"}, {"id": which, "value": ["Sales"]}])
            )
        )
        .is_ok());
        let unknown = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed";
        assert_eq!(
            cause(open(
                &t,
                body(
                    &t,
                    json!([{"id": why, "value": "x"}, {"id": unknown, "value": "y"}])
                )
            )),
            format!("/requesterFieldValues/1/id {unknown} not found")
        );
        let dup = open(
            &t,
            body(
                &t,
                json!([{"id": why, "value": "x"}, {"id": why, "value": "y"}]),
            ),
        );
        assert!(matches!(dup, Err(RuleError::Conflict(_))));
        let missing = open(&t, from_body(&json!({"requestTypeId": t.id})).unwrap());
        assert_eq!(
            missing.unwrap_err().detail().summary,
            "must have required property 'subject'"
        );

        let mut draft = t.clone();
        draft.status = RequestTypeStatus::Draft;
        let err = open(&draft, body(&draft, json!([{"id": why, "value": "x"}]))).unwrap_err();
        assert!(matches!(err, RuleError::Conflict(_)));
        assert_eq!(
            err.detail().summary,
            format!(
                "Request type {} must be ACTIVE. Current status: DRAFT",
                t.id
            )
        );

        let mut members_only = t.clone();
        members_only.request_settings = RequestSettings::MemberOf {
            requester_member_of: vec!["00gsales000000000000".into()],
            requester_fields: vec![],
        };
        let b = from_body(&json!({"requestTypeId": t.id, "subject": "s"})).unwrap();
        assert!(matches!(
            open(&members_only, b),
            Err(RuleError::Forbidden(_))
        ));
    }
}
