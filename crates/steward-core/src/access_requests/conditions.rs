//! Access Requests v2 configuration, per resource: request conditions (who may request which
//! access scope, for how long, through which approval sequence), approval sequences, and the
//! org and resource request settings conditions are validated against.
//!
//! Okta's API only lists and deletes sequences (they are built in its UI); Steward also creates
//! and updates them, modelled as ordered serial [`ApprovalStep`]s.

use serde::{Deserialize, Serialize};

use super::duration::{AccessDuration, DurationUnit};
use super::model::Directory;
use super::model::{AccessScopeType, RequestFieldValue, Requested};
pub use super::model::{ApprovalStep, Approver};
use super::{double_option, is_hex_id, new_condition_id, new_hex_id, ts, Causes};
use super::{RuleError, ValidationError};

/// At most this many conditions per resource (Okta's documented limit).
pub const MAX_CONDITIONS_PER_RESOURCE: usize = 100;
/// At most this many steps per sequence (`requestApproval.decisions` holds at most 10).
pub const MAX_SEQUENCE_STEPS: usize = 10;

// ---------------------------------------------------------------------------------------------
// Request conditions

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConditionStatus {
    Active,
    Inactive,
    Invalid,
    Deleted,
}

/// `{ "id": "00g…" }` as conditions list groups, teams and bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    pub id: String,
}

/// Who may request: everyone, members of groups, or members of (v1) teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequesterSettings {
    Everyone,
    Groups { groups: Vec<IdRef> },
    Teams { teams: Vec<IdRef> },
}

/// What may be requested: the resource itself, or some of its entitlement bundles or groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum AccessScopeSettings {
    ResourceDefault,
    EntitlementBundles { entitlement_bundles: Vec<IdRef> },
    Groups { groups: Vec<IdRef> },
}

/// For how long: fixed by the admin, or chosen by the requester up to a maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum AccessDurationSettings {
    AdminFixedDuration { duration: String },
    RequesterSpecifiedDuration { maximum_duration: String },
}

/// The `type` values of the three settings above, as request settings list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequesterSettingsType {
    Everyone,
    Groups,
    Teams,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessScopeSettingsType {
    ResourceDefault,
    EntitlementBundles,
    Groups,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessDurationType {
    AdminFixedDuration,
    RequesterSpecifiedDuration,
}

impl RequesterSettings {
    pub fn kind(&self) -> RequesterSettingsType {
        match self {
            RequesterSettings::Everyone => RequesterSettingsType::Everyone,
            RequesterSettings::Groups { .. } => RequesterSettingsType::Groups,
            RequesterSettings::Teams { .. } => RequesterSettingsType::Teams,
        }
    }
}

impl AccessScopeSettings {
    pub fn kind(&self) -> AccessScopeSettingsType {
        match self {
            AccessScopeSettings::ResourceDefault => AccessScopeSettingsType::ResourceDefault,
            AccessScopeSettings::EntitlementBundles { .. } => {
                AccessScopeSettingsType::EntitlementBundles
            }
            AccessScopeSettings::Groups { .. } => AccessScopeSettingsType::Groups,
        }
    }
}

impl AccessDurationSettings {
    pub fn kind(&self) -> AccessDurationType {
        match self {
            AccessDurationSettings::AdminFixedDuration { .. } => {
                AccessDurationType::AdminFixedDuration
            }
            AccessDurationSettings::RequesterSpecifiedDuration { .. } => {
                AccessDurationType::RequesterSpecifiedDuration
            }
        }
    }

    fn expression(&self) -> &str {
        match self {
            AccessDurationSettings::AdminFixedDuration { duration } => duration,
            AccessDurationSettings::RequesterSpecifiedDuration { maximum_duration } => {
                maximum_duration
            }
        }
    }
}

/// A request condition of one resource (`/v2/resources/{resourceId}/request-conditions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestCondition {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 0 is the highest; priorities of one resource are kept dense and unique.
    pub priority: u32,
    pub status: ConditionStatus,
    pub requester_settings: RequesterSettings,
    pub access_scope_settings: AccessScopeSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_duration_settings: Option<AccessDurationSettings>,
    /// Absent once the sequence was deleted (the condition is then INVALID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_sequence_id: Option<String>,
    #[serde(with = "ts")]
    pub created: i64,
    pub created_by: String,
    #[serde(with = "ts")]
    pub last_updated: i64,
    pub last_updated_by: String,
}

/// `POST …/request-conditions` (missing required properties are reported together).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestConditionCreate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub requester_settings: Option<RequesterSettings>,
    pub access_scope_settings: Option<AccessScopeSettings>,
    pub access_duration_settings: Option<AccessDurationSettings>,
    pub approval_sequence_id: Option<String>,
    pub priority: Option<u32>,
}

/// `PATCH …/request-conditions/{id}`: absent fields are kept; `accessDurationSettings: null` clears.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestConditionPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub requester_settings: Option<RequesterSettings>,
    pub access_scope_settings: Option<AccessScopeSettings>,
    #[serde(default, deserialize_with = "double_option")]
    pub access_duration_settings: Option<Option<AccessDurationSettings>>,
    pub approval_sequence_id: Option<String>,
    pub priority: Option<u32>,
}

/// Okta's summary for every condition validation error.
const CONDITION: &str = "AccessRequestCondition";

/// Creates a condition of a resource (INACTIVE) in `conditions`, the resource's others.
/// Without a `priority` it becomes the lowest; with one, the others move down to make room.
/// Whether `approvalSequenceId` names an existing sequence is the caller's check.
pub fn add_condition(
    conditions: &mut Vec<RequestCondition>,
    body: RequestConditionCreate,
    settings: &ResourceRequestSettings,
    actor: &str,
    now: i64,
) -> Result<RequestCondition, ValidationError> {
    let mut c = Causes::default();
    c.require("", "name", &body.name);
    c.require("", "requesterSettings", &body.requester_settings);
    c.require("", "accessScopeSettings", &body.access_scope_settings);
    c.require("", "approvalSequenceId", &body.approval_sequence_id);
    if conditions.len() >= MAX_CONDITIONS_PER_RESOURCE {
        c.add("", "A resource can have at most 100 request conditions.");
    }
    c.finish_as(CONDITION)?;
    let (Some(name), Some(requester_settings), Some(access_scope_settings), Some(sequence)) = (
        body.name,
        body.requester_settings,
        body.access_scope_settings,
        body.approval_sequence_id,
    ) else {
        return Err(ValidationError::new(CONDITION, "missing required property"));
        // reported above
    };
    let condition = RequestCondition {
        id: new_condition_id(),
        name,
        description: body.description,
        priority: u32::MAX,
        status: ConditionStatus::Inactive,
        requester_settings,
        access_scope_settings,
        access_duration_settings: body.access_duration_settings,
        approval_sequence_id: Some(sequence),
        created: now,
        created_by: actor.to_string(),
        last_updated: now,
        last_updated_by: actor.to_string(),
    };
    condition.validate(settings)?;
    let id = condition.id.clone();
    conditions.push(condition);
    reprioritize(conditions, &id, body.priority);
    Ok(conditions[conditions.len() - 1].clone())
}

/// Updates condition `id` of a resource. ACTIVE, INACTIVE and INVALID conditions may be updated;
/// the result is never INVALID (an INVALID condition becomes INACTIVE).
pub fn update_condition(
    conditions: &mut [RequestCondition],
    id: &str,
    patch: RequestConditionPatch,
    settings: &ResourceRequestSettings,
    actor: &str,
    now: i64,
) -> Result<RequestCondition, RuleError> {
    let Some(i) = conditions.iter().position(|c| c.id == id) else {
        return Err(RuleError::invalid(
            CONDITION,
            format!("Request condition {id} not found"),
        ));
    };
    let current = &conditions[i];
    if current.status == ConditionStatus::Deleted {
        return Err(RuleError::conflict(
            "Request Condition",
            "A deleted Request Condition may not be updated",
        ));
    }
    let mut next = current.clone();
    if let Some(name) = patch.name {
        next.name = name;
    }
    // An empty description clears it.
    if let Some(description) = patch.description {
        next.description = (!description.is_empty()).then_some(description);
    }
    if let Some(s) = patch.requester_settings {
        next.requester_settings = s;
    }
    if let Some(s) = patch.access_scope_settings {
        next.access_scope_settings = s;
    }
    if let Some(s) = patch.access_duration_settings {
        next.access_duration_settings = s;
    }
    if let Some(s) = patch.approval_sequence_id {
        next.approval_sequence_id = Some(s);
    }
    if next.approval_sequence_id.is_none() {
        return Err(RuleError::invalid(
            CONDITION,
            "must have required property 'approvalSequenceId'",
        ));
    }
    next.validate(settings)?;
    if next.status == ConditionStatus::Invalid {
        next.status = ConditionStatus::Inactive;
    }
    next.last_updated = now;
    next.last_updated_by = actor.to_string();
    conditions[i] = next;
    if patch.priority.is_some() {
        reprioritize(conditions, id, patch.priority);
    }
    Ok(conditions[i].clone())
}

/// Moves condition `id` to `priority` (`None`: last) and renumbers all `0..n`, keeping the
/// others' order.
pub fn reprioritize(conditions: &mut [RequestCondition], id: &str, priority: Option<u32>) {
    let mut order: Vec<usize> = (0..conditions.len()).collect();
    order.sort_by_key(|&i| (conditions[i].id == id, conditions[i].priority));
    // `order` ends with the moved condition; put it where it was asked to go.
    if let Some(moved) = order.pop() {
        let at = priority.map_or(order.len(), |p| (p as usize).min(order.len()));
        order.insert(at, moved);
    }
    for (rank, i) in order.into_iter().enumerate() {
        conditions[i].priority = u32::try_from(rank).unwrap_or(u32::MAX);
    }
}

impl RequestCondition {
    /// Checks the condition against what the resource supports.
    pub fn validate(&self, settings: &ResourceRequestSettings) -> Result<(), ValidationError> {
        let mut c = Causes::default();
        c.text("/name", &self.name, 1, 255);
        if let Some(d) = &self.description {
            c.text("/description", d, 1, 2000);
        }
        if let Some(s) = &self.approval_sequence_id {
            if !is_hex_id(s) {
                c.add("/approvalSequenceId", "must be a 24-character sequence id");
            }
        }
        if !settings.allows_requester(self.requester_settings.kind())
            || !settings.allows_scope(self.access_scope_settings.kind())
        {
            c.add("", "RequestSettings is invalid for this resource.");
        }
        match &self.requester_settings {
            RequesterSettings::Everyone => {}
            RequesterSettings::Groups { groups } => {
                check_list(&mut c, "/requesterSettings/groups", groups, Some("00g"))
            }
            RequesterSettings::Teams { teams } => {
                check_list(&mut c, "/requesterSettings/teams", teams, None)
            }
        }
        match &self.access_scope_settings {
            AccessScopeSettings::ResourceDefault => {}
            AccessScopeSettings::EntitlementBundles {
                entitlement_bundles,
            } => check_list(
                &mut c,
                "/accessScopeSettings/entitlementBundles",
                entitlement_bundles,
                Some("enb"),
            ),
            AccessScopeSettings::Groups { groups } => {
                check_list(&mut c, "/accessScopeSettings/groups", groups, Some("00g"))
            }
        }
        if let Some(d) = &self.access_duration_settings {
            if let Err(why) = settings.check_duration(d) {
                c.add("", why);
            }
        }
        c.finish_as(CONDITION)
    }

    /// `POST …/activate`: only INACTIVE conditions (with a sequence) may be activated.
    pub fn activate(&mut self, actor: &str, now: i64) -> Result<(), RuleError> {
        if self.status != ConditionStatus::Inactive || self.approval_sequence_id.is_none() {
            return Err(RuleError::conflict(
                "Request Condition",
                "Only Request Condition with status=INACTIVE may be activated",
            ));
        }
        self.set_status(ConditionStatus::Active, actor, now);
        Ok(())
    }

    /// `POST …/deactivate`: only ACTIVE conditions may be deactivated.
    pub fn deactivate(&mut self, actor: &str, now: i64) -> Result<(), RuleError> {
        if self.status != ConditionStatus::Active {
            return Err(RuleError::conflict(
                "Request Condition",
                "Only Request Condition with status=ACTIVE may be deactivated",
            ));
        }
        self.set_status(ConditionStatus::Inactive, actor, now);
        Ok(())
    }

    /// Drops a deleted group, team, bundle or sequence from the condition. A condition left
    /// without a sequence, or with an empty list, becomes INVALID. Returns whether it changed.
    pub fn forget(&mut self, deleted_id: &str, actor: &str, now: i64) -> bool {
        let before = self.clone();
        let remove = |list: &mut Vec<IdRef>| list.retain(|r| r.id != deleted_id);
        let mut broken = false;
        match &mut self.requester_settings {
            RequesterSettings::Everyone => {}
            RequesterSettings::Groups { groups: l } | RequesterSettings::Teams { teams: l } => {
                remove(l);
                broken |= l.is_empty();
            }
        }
        match &mut self.access_scope_settings {
            AccessScopeSettings::ResourceDefault => {}
            AccessScopeSettings::EntitlementBundles {
                entitlement_bundles: l,
            }
            | AccessScopeSettings::Groups { groups: l } => {
                remove(l);
                broken |= l.is_empty();
            }
        }
        if self.approval_sequence_id.as_deref() == Some(deleted_id) {
            self.approval_sequence_id = None;
        }
        broken |= self.approval_sequence_id.is_none();
        if *self == before {
            return false;
        }
        if broken {
            self.status = ConditionStatus::Invalid;
        }
        self.last_updated = now;
        self.last_updated_by = actor.to_string();
        true
    }

    /// Whether someone with these group (and team) ids may request through this condition.
    pub fn admits(&self, memberships: &[String]) -> bool {
        match &self.requester_settings {
            RequesterSettings::Everyone => true,
            RequesterSettings::Groups { groups: l } | RequesterSettings::Teams { teams: l } => {
                l.iter().any(|r| memberships.contains(&r.id))
            }
        }
    }

    /// Whether this condition makes `requested`'s access scope requestable.
    pub fn covers(&self, requested: &Requested) -> bool {
        let listed = |l: &[IdRef]| l.iter().any(|r| r.id == requested.access_scope_id);
        match (&self.access_scope_settings, requested.access_scope_type) {
            (AccessScopeSettings::ResourceDefault, AccessScopeType::Application) => true,
            (
                AccessScopeSettings::EntitlementBundles {
                    entitlement_bundles,
                },
                AccessScopeType::EntitlementBundle,
            ) => listed(entitlement_bundles),
            (AccessScopeSettings::Groups { groups }, AccessScopeType::Group) => listed(groups),
            _ => false,
        }
    }

    fn set_status(&mut self, status: ConditionStatus, actor: &str, now: i64) {
        self.status = status;
        self.last_updated = now;
        self.last_updated_by = actor.to_string();
    }
}

/// A list of ids in a condition: 1 to 100 of them, each `prefix…` (Okta id) or 24-hex (team).
fn check_list(c: &mut Causes, location: &str, ids: &[IdRef], prefix: Option<&str>) {
    c.items(location, ids, 1, 100);
    for (i, r) in ids.iter().enumerate() {
        let at = format!("{location}/{i}/id");
        match prefix {
            Some(prefix) => c.okta_id(&at, prefix, &r.id),
            None if !is_hex_id(&r.id) => c.add(&at, "must be a 24-character team id"),
            None => {}
        }
    }
}

/// The highest-priority ACTIVE condition that makes `requested` requestable by someone with these
/// group (and team) ids. None: the request is `REJECTED`.
pub fn match_condition<'a>(
    conditions: &'a [RequestCondition],
    requested: &Requested,
    memberships: &[String],
) -> Result<&'a RequestCondition, RuleError> {
    conditions
        .iter()
        .filter(|c| c.status == ConditionStatus::Active)
        .filter(|c| c.covers(requested) && c.admits(memberships))
        .min_by_key(|c| c.priority)
        .ok_or_else(|| {
            RuleError::rejected(format!(
                "No active request condition allows the requester to request {}",
                requested.access_scope_id
            ))
        })
}

/// Reserved requester field ids that carry a requester-specified duration.
pub const DURATION_FIELD_IDS: [&str; 2] = ["OKTA_ACCESS_DURATION", "ACCESS_DURATION"];

/// How long access is granted under `settings`: the admin's fixed duration, or the requester's
/// `OKTA_ACCESS_DURATION` field within the maximum; `None` for permanent access.
pub fn requested_duration(
    settings: Option<&AccessDurationSettings>,
    fields: &[RequestFieldValue],
) -> Result<Option<AccessDuration>, ValidationError> {
    let invalid = |why: String| ValidationError::new("requesterFieldValues", why);
    match settings {
        None => Ok(None),
        Some(AccessDurationSettings::AdminFixedDuration { duration }) => {
            AccessDuration::parse(duration)
                .map(Some)
                .ok_or_else(|| invalid(format!("The condition's duration {duration} is not valid")))
        }
        Some(AccessDurationSettings::RequesterSpecifiedDuration { maximum_duration }) => {
            let Some(value) = fields
                .iter()
                .find(|f| DURATION_FIELD_IDS.contains(&f.id.as_str()))
                .and_then(|f| f.value.as_deref())
            else {
                return Err(invalid(
                    "OKTA_ACCESS_DURATION: The field cannot be left blank".into(),
                ));
            };
            let max = AccessDuration::parse(maximum_duration).map_or(0, AccessDuration::millis);
            match AccessDuration::parse(value) {
                Some(d) if value.len() <= 5 && d.millis() <= max => Ok(Some(d)),
                _ => Err(invalid(format!(
                    "OKTA_ACCESS_DURATION: {value} is not a duration of at most {maximum_duration}"
                ))),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Approval sequences

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibleResourceType {
    App,
    Group,
}

/// An approval sequence. `id`, `name`, `description`, `compatibleResourceTypes` and `link` are
/// Okta's read fields; `steps` is Steward's extension (serial: each step must approve in turn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestSequence {
    pub id: String,
    pub name: String,
    pub description: String,
    pub compatible_resource_types: Vec<CompatibleResourceType>,
    /// Okta: "Link to edit the request sequence"; Steward points it at the sequence's API URL.
    pub link: String,
    #[serde(default)]
    pub steps: Vec<ApprovalStep>,
}

/// Steward's `POST`/`PUT` body for a sequence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestSequenceWrite {
    pub name: Option<String>,
    pub description: Option<String>,
    pub compatible_resource_types: Option<Vec<CompatibleResourceType>>,
    #[serde(default)]
    pub steps: Vec<ApprovalStep>,
}

impl RequestSequence {
    /// A new sequence; `org_url` (no trailing slash) builds its `link`.
    pub fn create(
        body: RequestSequenceWrite,
        org_url: &str,
    ) -> Result<RequestSequence, ValidationError> {
        let id = new_hex_id();
        let mut s = RequestSequence {
            link: format!("{org_url}/governance/api/v2/request-sequences/{id}"),
            id,
            name: String::new(),
            description: String::new(),
            compatible_resource_types: vec![],
            steps: vec![],
        };
        s.update(body)?;
        Ok(s)
    }

    /// Replaces the definition. Requests already in flight keep the steps they started with.
    pub fn update(&mut self, body: RequestSequenceWrite) -> Result<(), ValidationError> {
        let mut c = Causes::default();
        c.require("", "name", &body.name);
        if let Some(name) = &body.name {
            c.text("/name", name, 1, 255);
        }
        if let Some(d) = &body.description {
            c.text("/description", d, 0, 1000);
        }
        if let Some(types) = &body.compatible_resource_types {
            c.items("/compatibleResourceTypes", types, 1, 2);
        }
        // A sequence asks for at least one approval: an empty one would let every condition
        // that uses it grant access that nobody approved.
        c.items("/steps", &body.steps, 1, MAX_SEQUENCE_STEPS);
        for (i, step) in body.steps.iter().enumerate() {
            let at = format!("/steps/{i}");
            for (approver, loc) in [
                (Some(&step.approver), "approver"),
                (step.fallback.as_ref(), "fallback"),
            ] {
                match approver {
                    Some(Approver::User { id }) => c.okta_id(&format!("{at}/{loc}/id"), "00u", id),
                    Some(Approver::Group { id }) => c.okta_id(&format!("{at}/{loc}/id"), "00g", id),
                    _ => {}
                }
            }
            if let Some(label) = &step.label {
                c.text(&format!("{at}/label"), label, 1, 255);
            }
        }
        c.finish()?;
        self.name = body.name.unwrap_or_default();
        self.description = body.description.unwrap_or_default();
        self.compatible_resource_types = body
            .compatible_resource_types
            .unwrap_or_else(|| vec![CompatibleResourceType::App, CompatibleResourceType::Group]);
        self.steps = body.steps;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Request settings

/// `{ "type": … }`, the shape of every entry of the `valid…Settings` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typed<T> {
    #[serde(rename = "type")]
    pub kind: T,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OnBehalfOfType {
    Everyone,
    DirectReport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskSettingsType {
    DefaultSetting,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidAccessDurationSettings {
    pub supported_types: Vec<Typed<AccessDurationType>>,
    pub required: bool,
    pub maximum_days: u32,
    pub maximum_hours: u32,
    pub maximum_weeks: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidRiskSettings {
    pub supported_types: Vec<Typed<RiskSettingsType>>,
}

/// Whether users who may request the resource may also request it for someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestOnBehalfOfSettings {
    pub allowed: bool,
    /// Only `DIRECT_REPORT`; absent means anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_for: Option<Vec<OnBehalfOfType>>,
}

/// `/v2/resources/{resourceId}/request-settings`: what conditions of the resource may say.
/// Steward supports no risk (SoD) settings, so `validRiskSettings.supportedTypes` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequestSettings {
    pub valid_access_scope_settings: Vec<Typed<AccessScopeSettingsType>>,
    pub valid_requester_settings: Vec<Typed<RequesterSettingsType>>,
    pub valid_access_duration_settings: ValidAccessDurationSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_on_behalf_of_settings: Option<RequestOnBehalfOfSettings>,
    #[serde(default)]
    pub valid_risk_settings: ValidRiskSettings,
    #[serde(default)]
    pub valid_request_on_behalf_of_settings: Vec<Typed<OnBehalfOfType>>,
}

/// `PATCH /v2/resources/{resourceId}/request-settings`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequestSettingsPatch {
    #[serde(default, deserialize_with = "double_option")]
    pub request_on_behalf_of_settings: Option<Option<RequestOnBehalfOfSettings>>,
    #[serde(default)]
    pub risk_settings: Option<serde_json::Value>,
}

impl ResourceRequestSettings {
    /// What Steward supports for an app: everyone or groups may request; the app itself, plus
    /// its groups and entitlement bundles when it has any; fixed or requester-chosen durations of
    /// at most 365 days, 72 hours or 52 weeks (not required: access may be permanent).
    pub fn for_app(has_groups: bool, has_bundles: bool) -> ResourceRequestSettings {
        let mut scopes = vec![Typed {
            kind: AccessScopeSettingsType::ResourceDefault,
        }];
        if has_bundles {
            scopes.push(Typed {
                kind: AccessScopeSettingsType::EntitlementBundles,
            });
        }
        if has_groups {
            scopes.push(Typed {
                kind: AccessScopeSettingsType::Groups,
            });
        }
        ResourceRequestSettings {
            valid_access_scope_settings: scopes,
            valid_requester_settings: vec![
                Typed {
                    kind: RequesterSettingsType::Everyone,
                },
                Typed {
                    kind: RequesterSettingsType::Groups,
                },
            ],
            valid_access_duration_settings: ValidAccessDurationSettings {
                supported_types: vec![
                    Typed {
                        kind: AccessDurationType::AdminFixedDuration,
                    },
                    Typed {
                        kind: AccessDurationType::RequesterSpecifiedDuration,
                    },
                ],
                required: false,
                maximum_days: 365,
                maximum_hours: 72,
                maximum_weeks: 52,
            },
            request_on_behalf_of_settings: None,
            valid_risk_settings: ValidRiskSettings {
                supported_types: vec![],
            },
            valid_request_on_behalf_of_settings: vec![
                Typed {
                    kind: OnBehalfOfType::Everyone,
                },
                Typed {
                    kind: OnBehalfOfType::DirectReport,
                },
            ],
        }
    }

    pub fn allows_requester(&self, kind: RequesterSettingsType) -> bool {
        self.valid_requester_settings.iter().any(|t| t.kind == kind)
    }

    pub fn allows_scope(&self, kind: AccessScopeSettingsType) -> bool {
        self.valid_access_scope_settings
            .iter()
            .any(|t| t.kind == kind)
    }

    /// A condition's duration: a supported type, a day, hour or week expression within the maxima.
    pub fn check_duration(&self, d: &AccessDurationSettings) -> Result<(), String> {
        let v = &self.valid_access_duration_settings;
        if !v.supported_types.iter().any(|t| t.kind == d.kind()) {
            return Err("RequestSettings is invalid for this resource.".into());
        }
        let expr = d.expression();
        let Some(parsed) = AccessDuration::parse(expr) else {
            return Err(format!("{expr} is not a valid access duration."));
        };
        let (max, unit) = match parsed.unit {
            DurationUnit::Days => (v.maximum_days, "days"),
            DurationUnit::Hours => (v.maximum_hours, "hours"),
            DurationUnit::Weeks => (v.maximum_weeks, "weeks"),
            DurationUnit::Minutes => {
                return Err(format!(
                    "{expr}: access durations are in days, hours or weeks."
                ))
            }
        };
        if parsed.amount > max {
            return Err(format!(
                "Maximum {unit} for access duration is {max} {unit}."
            ));
        }
        Ok(())
    }

    pub fn apply(&mut self, patch: ResourceRequestSettingsPatch) -> Result<(), ValidationError> {
        let mut c = Causes::default();
        if patch.risk_settings.is_some() {
            c.add(
                "/riskSettings",
                "Risk settings are not supported for this resource.",
            );
        }
        if let Some(Some(robo)) = &patch.request_on_behalf_of_settings {
            if !robo.allowed {
                c.add(
                    "/requestOnBehalfOfSettings/allowed",
                    "must be true; set requestOnBehalfOfSettings to null to disallow",
                );
            }
            if let Some(only) = &robo.only_for {
                c.items("/requestOnBehalfOfSettings/onlyFor", only, 1, 1);
                if only.iter().any(|t| *t != OnBehalfOfType::DirectReport) {
                    c.add(
                        "/requestOnBehalfOfSettings/onlyFor",
                        "must be equal to one of the allowed values: DIRECT_REPORT",
                    );
                }
            }
        }
        c.finish()?;
        if let Some(robo) = patch.request_on_behalf_of_settings {
            self.request_on_behalf_of_settings = robo;
        }
        Ok(())
    }

    /// Whether `requested_by` may request the resource for `requested_for`.
    pub fn check_on_behalf_of(
        &self,
        requested_by: &str,
        requested_for: &str,
        directory: &dyn Directory,
    ) -> Result<(), RuleError> {
        if requested_by == requested_for {
            return Ok(());
        }
        let refuse = |why: &str| Err(RuleError::invalid("requestedFor", why.to_string()));
        match &self.request_on_behalf_of_settings {
            Some(s) if s.allowed => {
                let direct_reports_only = s
                    .only_for
                    .as_ref()
                    .is_some_and(|o| o.contains(&OnBehalfOfType::DirectReport));
                if direct_reports_only
                    && directory.manager_of(requested_for).as_deref() != Some(requested_by)
                {
                    return refuse("requestedFor: Requests on behalf of others are limited to direct reports");
                }
                Ok(())
            }
            _ => refuse("requestedFor: Requesting on behalf of another user is not enabled for this resource"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProvisioningStatus {
    NotProvisioned,
    ProvisioningFailed,
    Provisioned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestExperience {
    AdminRoles,
    Catalog,
}

/// `/v2/request-settings`, the org's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgRequestSettings {
    pub subprocessors_acknowledged: bool,
    pub provisioning_status: ProvisioningStatus,
    pub request_experiences: Vec<RequestExperience>,
    pub long_time_past_provisioned: bool,
    /// Slack and other integrations: kept as sent, Steward does not act on them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrations: Option<serde_json::Value>,
}

/// Steward needs no provisioning: it is always ready with the catalog experience.
impl Default for OrgRequestSettings {
    fn default() -> Self {
        OrgRequestSettings {
            subprocessors_acknowledged: true,
            provisioning_status: ProvisioningStatus::Provisioned,
            request_experiences: vec![RequestExperience::Catalog],
            long_time_past_provisioned: true,
            integrations: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgRequestSettingsPatch {
    pub subprocessors_acknowledged: Option<bool>,
    pub integrations: Option<serde_json::Value>,
}

impl OrgRequestSettings {
    pub fn apply(&mut self, patch: OrgRequestSettingsPatch) {
        if let Some(ack) = patch.subprocessors_acknowledged {
            self.subprocessors_acknowledged = ack;
        }
        if patch.integrations.is_some() {
            self.integrations = patch.integrations;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::access_requests::catalog::{build_catalog, CatalogResource};
    use crate::access_requests::testkit::{normalise, spec_example, FakeDirectory};
    use crate::access_requests::workflow::{
        NewRequest, RequestStatus, RequestWorkflow, ResourceType, TaskStatus,
    };
    use crate::access_requests::{from_body, Principal};

    const V2: &str = "governance-production-requests-admin-v2-reference-minimal";
    const ADMIN: &str = "00uadmin000000000000";
    const APP: &str = "0oaapp00000000000000";
    const SEQUENCE: &str = "61eb0f06c462d20007f051ac";
    const ENGINEERS: &str = "00gengineers00000000";
    const T0: i64 = 1_700_000_000_000;

    fn settings() -> ResourceRequestSettings {
        ResourceRequestSettings::for_app(true, true)
    }

    fn add(
        conditions: &mut Vec<RequestCondition>,
        body: Value,
    ) -> Result<RequestCondition, ValidationError> {
        add_condition(conditions, from_body(&body)?, &settings(), ADMIN, T0)
    }

    fn everyone(name: &str) -> Value {
        json!({"name": name, "approvalSequenceId": SEQUENCE,
               "requesterSettings": {"type": "EVERYONE"}, "accessScopeSettings": {"type": "RESOURCE_DEFAULT"}})
    }

    fn engineers(name: &str) -> Value {
        json!({"name": name, "approvalSequenceId": SEQUENCE,
               "requesterSettings": {"type": "GROUPS", "groups": [{"id": ENGINEERS}]},
               "accessScopeSettings": {"type": "RESOURCE_DEFAULT"}})
    }

    fn names(conditions: &[RequestCondition]) -> Vec<(&str, u32)> {
        let mut v: Vec<_> = conditions
            .iter()
            .map(|c| (c.name.as_str(), c.priority))
            .collect();
        v.sort_by_key(|(_, p)| *p);
        v
    }

    fn app_default() -> Requested {
        Requested {
            entry_id: None,
            resource_id: APP.into(),
            resource_type: ResourceType::Application,
            access_scope_id: APP.into(),
            access_scope_type: AccessScopeType::Application,
        }
    }

    #[test]
    fn the_spec_create_examples_are_accepted_inactive() {
        let mut all = vec![];
        for name in [
            "request-condition-creatable-00-app-everyone",
            "request-condition-creatable-01-app-group-requesters",
            "request-condition-creatable-02-app-group-requesters-fixed-duration",
            "request-condition-creatable-05-app-everyone-requester-duration",
            "request-condition-creatable-07-group-access-scope-group-requesters",
            "request-condition-creatable-14-entitlement-bundle-access-scope-group-requesters-fixed-duration",
        ] {
            let c = add(&mut all, spec_example(V2, name)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(c.status, ConditionStatus::Inactive);
            assert!(crate::access_requests::is_okta_id("rco", &c.id));
        }
        // Teams are valid in Okta's model but Steward's resources do not offer them.
        let err = add(
            &mut all,
            spec_example(V2, "request-condition-creatable-18-team-requesters"),
        )
        .unwrap_err();
        assert_eq!(err.summary, "AccessRequestCondition");
        assert_eq!(
            err.causes,
            ["RequestSettings is invalid for this resource."]
        );
    }

    #[test]
    fn conditions_serialise_as_the_spec_examples() {
        for name in [
            "request-condition-get-full-success",
            "request-condition-get-invalid-sequence-full-success",
            "request-condition-get-requester-specified-access-duration-full-success",
            "request-condition-creatable-01-app-group-requesters-full",
            "request-condition-get-invalid-access-scope-settings-full-success",
        ] {
            let example = spec_example(V2, name);
            let parsed: RequestCondition =
                serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                normalise(&serde_json::to_value(&parsed).unwrap()),
                normalise(&example),
                "{name}"
            );
        }
        for name in [
            "request-settings-get-bundles-enabled",
            "request-settings-get-resource-requester-settings-robo-enabled-direct-report",
        ] {
            let example = spec_example(V2, name);
            let parsed: ResourceRequestSettings = serde_json::from_value(example.clone()).unwrap();
            assert_eq!(serde_json::to_value(&parsed).unwrap(), example, "{name}");
        }
        let example = spec_example(
            V2,
            "org-request-settings-get-acknowledged-and-provisioned-with-request-experiences",
        );
        let parsed: OrgRequestSettings = serde_json::from_value(example.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), example);
        // Sequences: Okta's read fields, plus Steward's `steps`.
        let example = spec_example(V2, "request-sequence-success");
        let parsed: RequestSequence = serde_json::from_value(example.clone()).unwrap();
        let mut back = serde_json::to_value(&parsed).unwrap();
        assert_eq!(
            back.as_object_mut().unwrap().remove("steps"),
            Some(json!([]))
        );
        assert_eq!(back, example);
    }

    #[test]
    fn priorities_stay_dense_and_unique() {
        let mut all = vec![];
        add(&mut all, everyone("a")).unwrap();
        add(&mut all, everyone("b")).unwrap();
        assert_eq!(names(&all), [("a", 0), ("b", 1)], "new conditions go last");
        let mut first = engineers("c");
        first["priority"] = json!(0);
        add(&mut all, first).unwrap();
        assert_eq!(
            names(&all),
            [("c", 0), ("a", 1), ("b", 2)],
            "the others move down"
        );
        let id = all.iter().find(|c| c.name == "c").unwrap().id.clone();
        let patch = from_body(&json!({"priority": 99})).unwrap();
        update_condition(&mut all, &id, patch, &settings(), ADMIN, T0).unwrap();
        assert_eq!(
            names(&all),
            [("a", 0), ("b", 1), ("c", 2)],
            "past the end means last"
        );
    }

    #[test]
    fn an_empty_description_clears_it() {
        let mut all = vec![];
        add(&mut all, everyone("a")).unwrap();
        let id = all[0].id.clone();
        let set = from_body(&json!({"description": "Who may ask"})).unwrap();
        update_condition(&mut all, &id, set, &settings(), ADMIN, T0).unwrap();
        assert_eq!(all[0].description.as_deref(), Some("Who may ask"));
        let untouched = from_body(&json!({"name": "a2"})).unwrap();
        update_condition(&mut all, &id, untouched, &settings(), ADMIN, T0).unwrap();
        assert_eq!(
            all[0].description.as_deref(),
            Some("Who may ask"),
            "absent keeps it"
        );
        let cleared = from_body(&json!({"description": ""})).unwrap();
        update_condition(&mut all, &id, cleared, &settings(), ADMIN, T0).unwrap();
        assert_eq!(all[0].description, None);
    }

    #[test]
    fn condition_rules() {
        let mut all = vec![];
        let err = add(&mut all, json!({"name": "x"})).unwrap_err();
        assert_eq!(err.causes.len(), 3, "{err:?}");
        let mut body = engineers("bad group");
        body["requesterSettings"]["groups"] = json!([{"id": "nope"}]);
        assert!(add(&mut all, body).unwrap_err().causes[0]
            .starts_with("/requesterSettings/groups/0/id"));
        let mut body = everyone("too long");
        body["accessDurationSettings"] =
            json!({"type": "ADMIN_FIXED_DURATION", "duration": "P53W"});
        assert_eq!(
            add(&mut all, body).unwrap_err().causes,
            ["Maximum weeks for access duration is 52 weeks."]
        );
        let mut body = everyone("minutes");
        body["accessDurationSettings"] =
            json!({"type": "ADMIN_FIXED_DURATION", "duration": "PT90M"});
        assert!(add(&mut all, body).is_err());
        let mut body = everyone("no bundles here");
        body["accessScopeSettings"] = json!({"type": "ENTITLEMENT_BUNDLES", "entitlementBundles": [{"id": "enbeditor00000000000"}]});
        let no_bundles = ResourceRequestSettings::for_app(true, false);
        assert!(
            add_condition(&mut all, from_body(&body).unwrap(), &no_bundles, ADMIN, T0).is_err()
        );
        assert!(all.is_empty());

        let mut c = add(&mut all, everyone("ok")).unwrap();
        assert!(matches!(
            c.deactivate(ADMIN, T0),
            Err(RuleError::Conflict(_))
        ));
        c.activate(ADMIN, T0 + 1).unwrap();
        assert_eq!(
            (c.status, c.last_updated),
            (ConditionStatus::Active, T0 + 1)
        );
        let err = c.activate(ADMIN, T0 + 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Api validation failed due to conflict: Request Condition"
        );
        assert_eq!(
            err.detail().causes,
            ["Only Request Condition with status=INACTIVE may be activated"]
        );
        c.deactivate(ADMIN, T0 + 3).unwrap();
        assert_eq!(c.status, ConditionStatus::Inactive);
    }

    #[test]
    fn deleted_references_invalidate_and_updates_repair() {
        let mut all = vec![];
        add(&mut all, engineers("eng")).unwrap();
        all[0].activate(ADMIN, T0).unwrap();
        assert!(!all[0].forget("00gsomethingelse0000", ADMIN, T0));
        assert!(all[0].forget(ENGINEERS, ADMIN, T0 + 1));
        assert_eq!(all[0].status, ConditionStatus::Invalid);
        assert!(all[0].activate(ADMIN, T0).is_err());
        let id = all[0].id.clone();
        let patch = from_body(&json!({"requesterSettings": {"type": "EVERYONE"}})).unwrap();
        let repaired = update_condition(&mut all, &id, patch, &settings(), ADMIN, T0 + 2).unwrap();
        assert_eq!(repaired.status, ConditionStatus::Inactive);

        assert!(all[0].forget(SEQUENCE, ADMIN, T0 + 3));
        assert_eq!(
            (all[0].status, all[0].approval_sequence_id.as_ref()),
            (ConditionStatus::Invalid, None)
        );
        let patch = from_body(&json!({"name": "renamed"})).unwrap();
        assert!(update_condition(&mut all, &id, patch, &settings(), ADMIN, T0).is_err());
        all[0].status = ConditionStatus::Deleted;
        let patch = from_body(&json!({"approvalSequenceId": SEQUENCE})).unwrap();
        assert!(matches!(
            update_condition(&mut all, &id, patch, &settings(), ADMIN, T0),
            Err(RuleError::Conflict(_))
        ));
    }

    #[test]
    fn the_highest_priority_active_condition_that_admits_the_requester_wins() {
        let mut all = vec![];
        let mut eng = engineers("engineers, fixed 30 days");
        eng["accessDurationSettings"] = json!({"type": "ADMIN_FIXED_DURATION", "duration": "P30D"});
        add(&mut all, eng).unwrap();
        add(&mut all, everyone("everyone")).unwrap();
        let mut bundles = everyone("bundle");
        bundles["accessScopeSettings"] = json!({"type": "ENTITLEMENT_BUNDLES", "entitlementBundles": [{"id": "enbeditor00000000000"}]});
        add(&mut all, bundles).unwrap();
        let engineer = [ENGINEERS.to_string()];
        let outsider = ["00gother000000000000".to_string()];

        // Nothing is ACTIVE yet.
        assert!(matches!(
            match_condition(&all, &app_default(), &engineer),
            Err(RuleError::Rejected(_))
        ));
        for c in &mut all {
            c.activate(ADMIN, T0).unwrap();
        }
        assert_eq!(
            match_condition(&all, &app_default(), &engineer)
                .unwrap()
                .name,
            "engineers, fixed 30 days"
        );
        assert_eq!(
            match_condition(&all, &app_default(), &outsider)
                .unwrap()
                .name,
            "everyone"
        );
        all[0].deactivate(ADMIN, T0).unwrap();
        assert_eq!(
            match_condition(&all, &app_default(), &engineer)
                .unwrap()
                .name,
            "everyone"
        );

        // A scope only a condition that lists it covers.
        let mut bundle = app_default();
        bundle.access_scope_type = AccessScopeType::EntitlementBundle;
        bundle.access_scope_id = "enbeditor00000000000".into();
        assert_eq!(
            match_condition(&all, &bundle, &outsider).unwrap().name,
            "bundle"
        );
        bundle.access_scope_id = "enbviewer00000000000".into();
        assert!(match_condition(&all, &bundle, &outsider).is_err());
    }

    #[test]
    fn durations_come_from_the_condition_or_the_requester() {
        let field = |v: &str| RequestFieldValue {
            id: "OKTA_ACCESS_DURATION".into(),
            label: None,
            kind: None,
            value: Some(v.into()),
            values: None,
        };
        let fixed = AccessDurationSettings::AdminFixedDuration {
            duration: "P30D".into(),
        };
        assert_eq!(
            requested_duration(Some(&fixed), &[])
                .unwrap()
                .unwrap()
                .to_string(),
            "P30D"
        );
        assert_eq!(requested_duration(None, &[field("P1D")]).unwrap(), None);
        let chosen = AccessDurationSettings::RequesterSpecifiedDuration {
            maximum_duration: "P2W".into(),
        };
        assert_eq!(
            requested_duration(Some(&chosen), &[field("P14D")])
                .unwrap()
                .unwrap()
                .to_string(),
            "P14D"
        );
        assert_eq!(
            requested_duration(Some(&chosen), &[field("PT12H")])
                .unwrap()
                .unwrap()
                .to_string(),
            "PT12H"
        );
        assert!(requested_duration(Some(&chosen), &[field("P15D")]).is_err());
        assert!(requested_duration(Some(&chosen), &[field("P1Y")]).is_err());
        assert!(requested_duration(Some(&chosen), &[]).is_err());
    }

    #[test]
    fn requesting_on_behalf_of_others() {
        let dir = FakeDirectory::default().manager("00ureport000000000000", "00umanager000000000a");
        let mut s = settings();
        assert!(s
            .check_on_behalf_of("00ua00000000000000000", "00ua00000000000000000", &dir)
            .is_ok());
        assert!(s
            .check_on_behalf_of("00umanager000000000a", "00ureport000000000000", &dir)
            .is_err());
        s.apply(from_body(&json!({"requestOnBehalfOfSettings": {"allowed": true, "onlyFor": ["DIRECT_REPORT"]}})).unwrap()).unwrap();
        assert!(s
            .check_on_behalf_of("00umanager000000000a", "00ureport000000000000", &dir)
            .is_ok());
        assert!(s
            .check_on_behalf_of("00ustranger000000000", "00ureport000000000000", &dir)
            .is_err());
        s.apply(from_body(&json!({"requestOnBehalfOfSettings": {"allowed": true}})).unwrap())
            .unwrap();
        assert!(s
            .check_on_behalf_of("00ustranger000000000", "00ureport000000000000", &dir)
            .is_ok());
        s.apply(from_body(&json!({"requestOnBehalfOfSettings": null})).unwrap())
            .unwrap();
        assert_eq!(s.request_on_behalf_of_settings, None);
        assert!(s
            .apply(from_body(&json!({"requestOnBehalfOfSettings": {"allowed": false}})).unwrap())
            .is_err());
        assert!(s.apply(from_body(&json!({"riskSettings": {"defaultSetting": {"requestSubmissionType": "RESTRICTED"}}})).unwrap()).is_err());
    }

    #[test]
    fn sequences_are_validated_and_keep_okta_read_fields() {
        let body = json!({"name": "Manager then security", "steps": [
            {"approver": {"type": "REQUESTER_MANAGER"}, "fallback": {"type": "USER", "id": "00usecurity000000000"}},
            {"approver": {"type": "GROUP", "id": "00gsecurity000000000"}, "label": "Security review"},
        ]});
        let s =
            RequestSequence::create(from_body(&body).unwrap(), "https://steward.example").unwrap();
        assert!(is_hex_id(&s.id));
        assert_eq!(
            s.link,
            format!(
                "https://steward.example/governance/api/v2/request-sequences/{}",
                s.id
            )
        );
        assert_eq!(
            s.compatible_resource_types,
            [CompatibleResourceType::App, CompatibleResourceType::Group]
        );
        assert_eq!(s.steps.len(), 2);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["description"], "", "required on read");
        assert_eq!(
            json["steps"][0]["fallback"],
            json!({"type": "USER", "id": "00usecurity000000000"})
        );

        let bad = json!({"steps": [{"approver": {"type": "USER", "id": "bob"}}]});
        let err = RequestSequence::create(from_body(&bad).unwrap(), "").unwrap_err();
        assert_eq!(err.causes.len(), 2, "{err:?}"); // name, and the user id
        let eleven = json!({"name": "long", "steps": vec![json!({"approver": {"type": "RESOURCE_OWNER"}}); 11]});
        assert!(RequestSequence::create(from_body(&eleven).unwrap(), "").is_err());
    }

    #[test]
    fn a_sequence_asks_for_at_least_one_approval() {
        for body in [
            json!({"name": "Nobody", "steps": []}),
            json!({"name": "Nobody"}),
        ] {
            let err = RequestSequence::create(from_body(&body).unwrap(), "").unwrap_err();
            assert_eq!(
                err.causes,
                ["/steps must NOT have fewer than 1 items"],
                "{body}"
            );
        }
        // Nor can an update empty it: the sequence is left as it was.
        let body =
            json!({"name": "Manager", "steps": [{"approver": {"type": "REQUESTER_MANAGER"}}]});
        let mut s = RequestSequence::create(from_body(&body).unwrap(), "").unwrap();
        let before = s.clone();
        let err = s
            .update(from_body(&json!({"name": "Manager", "steps": []})).unwrap())
            .unwrap_err();
        assert_eq!(err.causes, ["/steps must NOT have fewer than 1 items"]);
        assert_eq!(s, before);
    }

    #[test]
    fn from_catalog_entry_to_first_task() {
        let alice = "00ualice0000000000a1";
        let manager = "00umanager000000000a";
        let dir = FakeDirectory::default().manager(alice, manager);
        let sequence_body =
            json!({"name": "Manager", "steps": [{"approver": {"type": "REQUESTER_MANAGER"}}]});
        let mut sequence = RequestSequence::create(from_body(&sequence_body).unwrap(), "").unwrap();
        sequence.id = SEQUENCE.into();
        let mut all = vec![];
        let mut body = everyone("everyone, up to two weeks");
        body["accessDurationSettings"] =
            json!({"type": "REQUESTER_SPECIFIED_DURATION", "maximumDuration": "P2W"});
        add(&mut all, body).unwrap();
        all[0].activate(ADMIN, T0).unwrap();
        let resource = CatalogResource {
            id: APP.into(),
            name: "App".into(),
            description: None,
            conditions: all.clone(),
        };
        let catalog = build_catalog(&[resource], Some(&[]), &|_| None);
        let requested = catalog[1].requested.clone().unwrap();

        let submit_to = |sequence: &RequestSequence, duration: &str| {
            let new = NewRequest {
                id: crate::access_requests::new_request_id(),
                requested: requested.clone(),
                requested_by: Principal::user(alice),
                requested_for: alice.into(),
                requester_field_values: Some(vec![RequestFieldValue {
                    id: "OKTA_ACCESS_DURATION".into(),
                    label: None,
                    kind: None,
                    value: Some(duration.into()),
                    values: None,
                }]),
            };
            let (mut wf, _) = RequestWorkflow::create(new, T0);
            let condition = match_condition(&all, &wf.request.requested, &[]).unwrap();
            wf.submit(condition, sequence, &dir, T0 + 1).unwrap();
            wf
        };
        let submit = |duration: &str| submit_to(&sequence, duration);
        let wf = submit("P7D");
        assert_eq!(wf.request.status, RequestStatus::Pending);
        assert_eq!(wf.request.access_duration.as_deref(), Some("P7D"));
        assert_eq!(wf.request_condition_id.as_ref(), Some(&all[0].id));
        assert_eq!(wf.current_task().unwrap().status, TaskStatus::Open);
        assert_eq!(wf.request.requested.entry_id.as_ref(), Some(&catalog[1].id));

        let wf = submit("P3W");
        assert_eq!(wf.request.status, RequestStatus::Rejected);
        assert!(wf.tasks.is_empty());

        // A sequence stored without steps (before sequences needed one) never approves: the
        // request is REJECTED, not APPROVED without the approval its condition asked for.
        let mut empty = sequence.clone();
        empty.steps.clear();
        let wf = submit_to(&empty, "P7D");
        assert_eq!(wf.request.status, RequestStatus::Rejected);
        assert_eq!(wf.request.grant_status, None);
        assert!(wf.tasks.is_empty());
    }
}
