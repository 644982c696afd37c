//! Resource owners (Okta Identity Governance): the users and groups who own a resource and, as
//! `RESOURCE_OWNER` approvers, decide the access requests for it.
//!
//! Resources and owners are named by ORNs (Okta resource names). This module reads and writes
//! them, validates the bodies of `POST` and `PATCH /governance/api/v1/resource-owners` and reads
//! the lists' `filter`. The shapes:
//!
//! * an app: `orn:okta:idp:{orgId}:apps:{appName}:{appId}`
//! * a group: `orn:okta:directory:{orgId}:groups:{groupId}`
//! * a user: `orn:okta:directory:{orgId}:users:{userId}`
//! * an entitlement bundle, an entitlement value, a collection:
//!   `orn:okta:governance:{orgId}:{entitlement-bundles|entitlement-values|collections}:{id}`
//!
//! Owners are users or groups; resources are apps, groups, and (in Okta) entitlements and
//! collections, which Steward does not keep.

use serde::Deserialize;

use crate::filter::{CompareOp, Filter, Value};
use crate::validation::ValidationError;

/// The ORN partition of Steward's org.
pub const PARTITION: &str = "okta";
/// Owners per resource.
pub const MAX_PRINCIPALS: usize = 5;
/// Resources configured by one `POST`.
pub const MAX_RESOURCES: usize = 10;
/// Operations of one `PATCH`.
pub const MAX_PATCH_OPERATIONS: usize = 5;

/// What can be owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    App,
    Group,
    EntitlementBundle,
    EntitlementValue,
    Collection,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 5] = [
        ResourceKind::App,
        ResourceKind::Group,
        ResourceKind::EntitlementBundle,
        ResourceKind::EntitlementValue,
        ResourceKind::Collection,
    ];

    /// The ORN's object type, which answers show as `resource.type`.
    pub fn object_type(self) -> &'static str {
        match self {
            ResourceKind::App => "apps",
            ResourceKind::Group => "groups",
            ResourceKind::EntitlementBundle => "entitlement-bundles",
            ResourceKind::EntitlementValue => "entitlement-values",
            ResourceKind::Collection => "collections",
        }
    }

    fn service(self) -> &'static str {
        match self {
            ResourceKind::App => "idp",
            ResourceKind::Group => "directory",
            _ => "governance",
        }
    }

    pub fn from_object_type(s: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|k| k.object_type() == s)
    }
}

/// A resource as an ORN names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceName {
    pub kind: ResourceKind,
    pub id: String,
    /// An app's name (`oidc_client`, `salesforce`…): the ORN segment before its id.
    pub app_name: Option<String>,
}

impl ResourceName {
    pub fn app(app_name: &str, id: &str) -> ResourceName {
        ResourceName {
            kind: ResourceKind::App,
            id: id.to_string(),
            app_name: Some(app_name.to_string()),
        }
    }

    pub fn group(id: &str) -> ResourceName {
        ResourceName {
            kind: ResourceKind::Group,
            id: id.to_string(),
            app_name: None,
        }
    }

    pub fn orn(&self, org_id: &str) -> String {
        let kind = self.kind;
        match (&self.app_name, kind) {
            (Some(app_name), ResourceKind::App) => format!(
                "orn:{PARTITION}:{}:{org_id}:{}:{app_name}:{}",
                kind.service(),
                kind.object_type(),
                self.id
            ),
            _ => format!(
                "orn:{PARTITION}:{}:{org_id}:{}:{}",
                kind.service(),
                kind.object_type(),
                self.id
            ),
        }
    }

    /// The same resource (an app's name segment aside).
    pub fn same_as(&self, other: &ResourceName) -> bool {
        self.kind == other.kind && self.id == other.id
    }
}

/// Who can own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    User,
    Group,
}

impl PrincipalKind {
    /// The ORN's object type, which answers show as the principal's `type`.
    pub fn object_type(self) -> &'static str {
        match self {
            PrincipalKind::User => "users",
            PrincipalKind::Group => "groups",
        }
    }

    pub fn from_object_type(s: &str) -> Option<PrincipalKind> {
        [PrincipalKind::User, PrincipalKind::Group]
            .into_iter()
            .find(|k| k.object_type() == s)
    }
}

/// An owner as an ORN names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrincipalName {
    pub kind: PrincipalKind,
    pub id: String,
}

impl PrincipalName {
    pub fn user(id: &str) -> PrincipalName {
        PrincipalName {
            kind: PrincipalKind::User,
            id: id.to_string(),
        }
    }

    pub fn group(id: &str) -> PrincipalName {
        PrincipalName {
            kind: PrincipalKind::Group,
            id: id.to_string(),
        }
    }

    pub fn orn(&self, org_id: &str) -> String {
        format!(
            "orn:{PARTITION}:directory:{org_id}:{}:{}",
            self.kind.object_type(),
            self.id
        )
    }

    /// The principal's `id` in answers: Okta's `pri…` form of the user or group id
    /// (`00u10sfroCwbHQO4a0g4` → `pri10sfroCwbHQO4a0g4`).
    pub fn principal_id(&self) -> String {
        format!("pri{}", self.id.get(3..).unwrap_or(&self.id))
    }
}

/// The parts of an ORN of this org: (service, object type, the segments after it).
fn orn_parts<'a>(text: &'a str, org_id: &str) -> Result<(&'a str, &'a str, Vec<&'a str>), String> {
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["orn", partition, service, org, object_type, rest @ ..] if !rest.is_empty() => {
            if *partition != PARTITION {
                return Err(format!(
                    "{text} is not in partition {PARTITION} (orn:{PARTITION}:…)"
                ));
            }
            if *org != org_id {
                return Err(format!(
                    "{text} names org {org}; this org is {org_id} (orn:{PARTITION}:{service}:{org_id}:…)"
                ));
            }
            if rest.iter().any(|s| !is_segment(s)) {
                return Err(format!("{text} has an empty or malformed segment"));
            }
            Ok((service, object_type, rest.to_vec()))
        }
        _ => Err(format!(
            "{text} is not an ORN (orn:{PARTITION}:{{service}}:{org_id}:{{objectType}}:{{id}})"
        )),
    }
}

fn is_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// Reads a resource ORN of this org (`org_id`).
pub fn parse_resource_orn(text: &str, org_id: &str) -> Result<ResourceName, String> {
    let (service, object_type, rest) = orn_parts(text, org_id)?;
    let Some(kind) = ResourceKind::from_object_type(object_type) else {
        return Err(format!(
            "{text} is not a resource ORN: the object type must be one of apps, groups, \
             entitlement-bundles, entitlement-values, collections"
        ));
    };
    if service != kind.service() {
        return Err(format!(
            "{text} is not a resource ORN: {object_type} are in service {}",
            kind.service()
        ));
    }
    match (kind, rest.as_slice()) {
        (ResourceKind::App, [app_name, id]) => Ok(ResourceName::app(app_name, id)),
        (ResourceKind::App, _) => Err(format!(
            "{text} is not an app ORN (orn:{PARTITION}:idp:{org_id}:apps:{{appName}}:{{appId}})"
        )),
        (_, [id]) => Ok(ResourceName {
            kind,
            id: id.to_string(),
            app_name: None,
        }),
        _ => Err(format!(
            "{text} is not a resource ORN (orn:{PARTITION}:{}:{org_id}:{object_type}:{{id}})",
            kind.service()
        )),
    }
}

/// Reads an owner's ORN (a user or a group of this org).
pub fn parse_principal_orn(text: &str, org_id: &str) -> Result<PrincipalName, String> {
    let (service, object_type, rest) = orn_parts(text, org_id)?;
    match (
        service,
        PrincipalKind::from_object_type(object_type),
        rest.as_slice(),
    ) {
        ("directory", Some(kind), [id]) => Ok(PrincipalName {
            kind,
            id: id.to_string(),
        }),
        _ => Err(format!(
            "{text} is not a user or group ORN (orn:{PARTITION}:directory:{org_id}:users|groups:{{id}})"
        )),
    }
}

/// The body of `POST /resource-owners`: these resources' owners become exactly these
/// principals (none removes them all).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigureOwners {
    #[serde(default)]
    pub principal_orns: Option<Vec<String>>,
    #[serde(default)]
    pub resource_orns: Option<Vec<String>>,
}

/// A valid configuration: each resource is owned by exactly `principals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnersConfiguration {
    pub resources: Vec<ResourceName>,
    pub principals: Vec<PrincipalName>,
}

impl ConfigureOwners {
    /// Checks sizes and ORNs (duplicates count once); every problem is one cause.
    pub fn validate(self, org_id: &str) -> Result<OwnersConfiguration, ValidationError> {
        let mut causes = vec![];
        let mut resources: Vec<ResourceName> = vec![];
        match self.resource_orns {
            None => causes.push("resourceOrns: The field is required".to_string()),
            Some(orns) if orns.is_empty() || orns.len() > MAX_RESOURCES => causes.push(format!(
                "resourceOrns: must have between 1 and {MAX_RESOURCES} items"
            )),
            Some(orns) => {
                for (i, orn) in orns.iter().enumerate() {
                    match parse_resource_orn(orn, org_id) {
                        Ok(r) if !resources.iter().any(|seen| seen.same_as(&r)) => {
                            resources.push(r)
                        }
                        Ok(_) => {}
                        Err(why) => causes.push(format!("resourceOrns[{i}]: {why}")),
                    }
                }
            }
        }
        let orns = self.principal_orns.unwrap_or_default();
        let principals = principals_of(&orns, "principalOrns", org_id, &mut causes);
        if principals.len() > MAX_PRINCIPALS {
            causes.push(format!(
                "principalOrns: must have at most {MAX_PRINCIPALS} items"
            ));
        }
        ValidationError::check(&summary_of(&causes), causes)?;
        Ok(OwnersConfiguration {
            resources,
            principals,
        })
    }
}

fn principals_of(
    orns: &[String],
    field: &str,
    org_id: &str,
    causes: &mut Vec<String>,
) -> Vec<PrincipalName> {
    let mut principals: Vec<PrincipalName> = vec![];
    for (i, orn) in orns.iter().enumerate() {
        match parse_principal_orn(orn, org_id) {
            Ok(p) if !principals.contains(&p) => principals.push(p),
            Ok(_) => {}
            Err(why) => causes.push(format!("{field}[{i}]: {why}")),
        }
    }
    principals
}

/// The summary names the first field at fault, as Okta's do.
fn summary_of(causes: &[String]) -> String {
    causes
        .first()
        .and_then(|c| c.split([':', '[']).next())
        .unwrap_or("resourceOwners")
        .to_string()
}

/// The body of `PATCH /resource-owners`: owners to remove from one resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchOwners {
    #[serde(default)]
    pub resource_orn: Option<String>,
    #[serde(default)]
    pub data: Option<Vec<PatchOwnersOperation>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PatchOwnersOperation {
    #[serde(default)]
    pub op: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// A valid `PATCH`: these principals stop owning the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnersRemoval {
    pub resource: ResourceName,
    pub principals: Vec<PrincipalName>,
}

impl PatchOwners {
    pub fn validate(self, org_id: &str) -> Result<OwnersRemoval, ValidationError> {
        let mut causes = vec![];
        let resource = match self.resource_orn.as_deref() {
            None => {
                causes.push("resourceOrn: The field is required".to_string());
                None
            }
            Some(orn) => match parse_resource_orn(orn, org_id) {
                Ok(r) => Some(r),
                Err(why) => {
                    causes.push(format!("resourceOrn: {why}"));
                    None
                }
            },
        };
        let mut removed = vec![];
        match self.data {
            None => causes.push("data: The field is required".to_string()),
            Some(ops) if ops.is_empty() || ops.len() > MAX_PATCH_OPERATIONS => causes.push(
                format!("data: must have between 1 and {MAX_PATCH_OPERATIONS} items"),
            ),
            Some(ops) => {
                for (i, op) in ops.iter().enumerate() {
                    if op.op.as_deref() != Some("REMOVE") {
                        causes.push(format!(
                            "data[{i}].op: must be equal to one of the allowed values: REMOVE"
                        ));
                    }
                    if op.path.as_deref() != Some("/principalOrn") {
                        causes.push(format!("data[{i}].path: only /principalOrn can be updated"));
                    }
                    match op.value.as_deref() {
                        None => causes.push(format!("data[{i}].value: The field is required")),
                        Some(orn) => match parse_principal_orn(orn, org_id) {
                            Ok(p) if !removed.contains(&p) => removed.push(p),
                            Ok(_) => {}
                            Err(why) => causes.push(format!("data[{i}].value: {why}")),
                        },
                    }
                }
            }
        }
        ValidationError::check(&summary_of(&causes), causes)?;
        match resource {
            Some(resource) => Ok(OwnersRemoval {
                resource,
                principals: removed,
            }),
            None => Err(ValidationError::new(
                "resourceOrn",
                "resourceOrn: The field is required",
            )),
        }
    }
}

/// Which list a filter is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnersList {
    /// `GET /resource-owners`: resources with owners.
    Owned,
    /// `GET /resource-owners/catalog/resources`: resources without owners.
    Unowned,
}

/// A list's `filter`, read: conjuncts of `parentResourceOrn eq`, `resource.orn eq`,
/// `resource.type eq`, `resource.profile.name sw|co` (and, for the catalog,
/// `resource.profile.parent.id eq`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnersFilter {
    pub parent: Option<ResourceName>,
    pub resource: Option<ResourceName>,
    pub resource_type: Option<String>,
    pub name: Option<(CompareOp, String)>,
    pub profile_parent_id: Option<String>,
}

impl OwnersFilter {
    /// Reads `filter` for `list`; the error is the reason the filter cannot be served.
    pub fn read(filter: &Filter, org_id: &str, list: OwnersList) -> Result<OwnersFilter, String> {
        let mut f = OwnersFilter::default();
        let mut conjuncts = vec![];
        flatten_and(filter, &mut conjuncts)?;
        for (attr, op, value) in conjuncts {
            let text = match value {
                Value::String(s) => s.clone(),
                other => return Err(format!("{attr} compares with a string, not {other:?}")),
            };
            let once = |taken: bool| {
                if taken {
                    Err(format!("{attr} appears more than once"))
                } else {
                    Ok(())
                }
            };
            match (attr.as_str(), op) {
                ("parentResourceOrn", CompareOp::Eq) => {
                    once(f.parent.is_some())?;
                    f.parent = Some(parse_resource_orn(&text, org_id)?);
                }
                ("resource.orn", CompareOp::Eq) if list == OwnersList::Owned => {
                    once(f.resource.is_some())?;
                    f.resource = Some(parse_resource_orn(&text, org_id)?);
                }
                ("resource.type", CompareOp::Eq) => {
                    once(f.resource_type.is_some())?;
                    f.resource_type = Some(text);
                }
                ("resource.profile.name", CompareOp::Sw | CompareOp::Co) => {
                    once(f.name.is_some())?;
                    f.name = Some((op, text));
                }
                ("resource.profile.parent.id", CompareOp::Eq) if list == OwnersList::Unowned => {
                    once(f.profile_parent_id.is_some())?;
                    f.profile_parent_id = Some(text);
                }
                _ => {
                    return Err(format!(
                        "{attr} {} is not supported here; supported: {}",
                        op.keyword(),
                        match list {
                            OwnersList::Owned =>
                                "parentResourceOrn eq, resource.orn eq, resource.type eq, resource.profile.name sw|co",
                            OwnersList::Unowned =>
                                "parentResourceOrn eq, resource.type eq, resource.profile.name sw|co, resource.profile.parent.id eq",
                        }
                    ))
                }
            }
        }
        match list {
            OwnersList::Owned if f.parent.is_none() && f.resource.is_none() => {
                return Err("the filter must name parentResourceOrn or resource.orn".into())
            }
            OwnersList::Unowned if f.parent.is_none() => {
                return Err("the filter must name parentResourceOrn".into())
            }
            _ => {}
        }
        if f.name.is_some() && (f.parent.is_none() || f.resource_type.is_none()) {
            return Err(
                "resource.profile.name needs both parentResourceOrn and resource.type".into(),
            );
        }
        Ok(f)
    }

    /// The parent the list is about: `parentResourceOrn`, else the resource `resource.orn`
    /// names (each of Steward's resources is its own parent).
    pub fn parent(&self) -> Option<&ResourceName> {
        self.parent.as_ref().or(self.resource.as_ref())
    }

    /// Whether a resource with this display name is in the list.
    pub fn admits(&self, resource: &ResourceName, display_name: &str) -> bool {
        if self.resource.as_ref().is_some_and(|r| !r.same_as(resource)) {
            return false;
        }
        if self
            .resource_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case(resource.kind.object_type()))
        {
            return false;
        }
        if let Some((op, text)) = &self.name {
            let name = display_name.to_lowercase();
            let text = text.to_lowercase();
            let hit = match op {
                CompareOp::Sw => name.starts_with(&text),
                _ => name.contains(&text),
            };
            if !hit {
                return false;
            }
        }
        // Steward's resources (apps and groups) have no parent in their profile.
        self.profile_parent_id.is_none()
    }
}

fn flatten_and<'a>(
    filter: &'a Filter,
    out: &mut Vec<(&'a String, CompareOp, &'a Value)>,
) -> Result<(), String> {
    match filter {
        Filter::And(a, b) => {
            flatten_and(a, out)?;
            flatten_and(b, out)
        }
        Filter::Compare { attr, op, value } => {
            out.push((attr, *op, value));
            Ok(())
        }
        _ => Err("only comparisons joined by AND are supported".into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filter;

    const ORG: &str = "00o11edPwGqbUrsDm0g4";

    #[test]
    fn orns_round_trip() {
        let app = "orn:okta:idp:00o11edPwGqbUrsDm0g4:apps:salesforce:0oafxqCAJWWGELFTYASJ";
        let r = parse_resource_orn(app, ORG).unwrap();
        assert_eq!(r, ResourceName::app("salesforce", "0oafxqCAJWWGELFTYASJ"));
        assert_eq!(r.orn(ORG), app);
        let group = "orn:okta:directory:00o11edPwGqbUrsDm0g4:groups:00g10ctakVI6XlTdk0g4";
        assert_eq!(
            parse_resource_orn(group, ORG).unwrap(),
            ResourceName::group("00g10ctakVI6XlTdk0g4")
        );
        let bundle =
            "orn:okta:governance:00o11edPwGqbUrsDm0g4:entitlement-bundles:enbogpaj3XUzcM62u1d6";
        let b = parse_resource_orn(bundle, ORG).unwrap();
        assert_eq!(b.kind, ResourceKind::EntitlementBundle);
        assert_eq!(b.orn(ORG), bundle);
        let user = "orn:okta:directory:00o11edPwGqbUrsDm0g4:users:00u10sfroCwbHQO4a0g4";
        let p = parse_principal_orn(user, ORG).unwrap();
        assert_eq!(p, PrincipalName::user("00u10sfroCwbHQO4a0g4"));
        assert_eq!(p.orn(ORG), user);
        assert_eq!(p.principal_id(), "pri10sfroCwbHQO4a0g4");
        assert_eq!(
            parse_principal_orn(group, ORG).unwrap(),
            PrincipalName::group("00g10ctakVI6XlTdk0g4")
        );
    }

    #[test]
    fn foreign_or_malformed_orns_are_refused_with_the_reason() {
        let other_org = "orn:okta:directory:00oOTHERxxxxxxxxxxxx:users:00u1";
        assert!(parse_principal_orn(other_org, ORG)
            .unwrap_err()
            .contains("this org is 00o11edPwGqbUrsDm0g4"));
        let preview = "orn:oktapreview:directory:00o11edPwGqbUrsDm0g4:users:00u1";
        assert!(parse_principal_orn(preview, ORG).is_err());
        for bad in [
            "",
            "00u10sfroCwbHQO4a0g4",
            "orn:okta:directory:00o11edPwGqbUrsDm0g4:users",
            "orn:okta:directory:00o11edPwGqbUrsDm0g4:users:",
            "orn:okta:directory:00o11edPwGqbUrsDm0g4:users:a b",
            "orn:okta:directory:00o11edPwGqbUrsDm0g4:apps:x:0oa1",
        ] {
            assert!(parse_principal_orn(bad, ORG).is_err(), "{bad}");
        }
        for bad in [
            "orn:okta:directory:00o11edPwGqbUrsDm0g4:users:00u1",
            "orn:okta:idp:00o11edPwGqbUrsDm0g4:apps:0oa1",
            "orn:okta:directory:00o11edPwGqbUrsDm0g4:apps:x:0oa1",
            "orn:okta:idp:00o11edPwGqbUrsDm0g4:groups:00g1",
            "orn:okta:governance:00o11edPwGqbUrsDm0g4:widgets:w1",
        ] {
            assert!(parse_resource_orn(bad, ORG).is_err(), "{bad}");
        }
    }

    fn orn_user(id: &str) -> String {
        PrincipalName::user(id).orn(ORG)
    }

    #[test]
    fn configure_bodies_are_validated_whole() {
        let group = ResourceName::group("00g1").orn(ORG);
        let ok = ConfigureOwners {
            principal_orns: Some(vec![orn_user("00u1"), orn_user("00u2"), orn_user("00u1")]),
            resource_orns: Some(vec![group.clone(), group.clone()]),
        }
        .validate(ORG)
        .unwrap();
        assert_eq!(ok.resources, [ResourceName::group("00g1")]);
        assert_eq!(
            ok.principals,
            [PrincipalName::user("00u1"), PrincipalName::user("00u2")]
        );
        // `principalOrns: null` removes every owner.
        let none = ConfigureOwners {
            principal_orns: None,
            resource_orns: Some(vec![group.clone()]),
        }
        .validate(ORG)
        .unwrap();
        assert!(none.principals.is_empty());

        let e = ConfigureOwners::default().validate(ORG).unwrap_err();
        assert_eq!(e.summary, "resourceOrns");
        let six: Vec<String> = (0..6).map(|i| orn_user(&format!("00u{i}"))).collect();
        let e = ConfigureOwners {
            principal_orns: Some(six),
            resource_orns: Some(vec!["nonsense".into()]),
        }
        .validate(ORG)
        .unwrap_err();
        assert_eq!(e.causes.len(), 2, "{e:?}");
        assert!(e.causes[0].starts_with("resourceOrns[0]: nonsense"));
        assert_eq!(e.causes[1], "principalOrns: must have at most 5 items");
        let eleven: Vec<String> = (0..11)
            .map(|i| ResourceName::group(&format!("00g{i}")).orn(ORG))
            .collect();
        assert!(ConfigureOwners {
            principal_orns: None,
            resource_orns: Some(eleven),
        }
        .validate(ORG)
        .is_err());
    }

    #[test]
    fn patch_bodies_remove_principals_only() {
        let resource = ResourceName::group("00g1").orn(ORG);
        let op = |op: &str, path: &str, value: &str| PatchOwnersOperation {
            op: Some(op.into()),
            path: Some(path.into()),
            value: Some(value.into()),
        };
        let ok = PatchOwners {
            resource_orn: Some(resource.clone()),
            data: Some(vec![op("REMOVE", "/principalOrn", &orn_user("00u1"))]),
        }
        .validate(ORG)
        .unwrap();
        assert_eq!(ok.resource, ResourceName::group("00g1"));
        assert_eq!(ok.principals, [PrincipalName::user("00u1")]);
        let e = PatchOwners {
            resource_orn: Some(resource.clone()),
            data: Some(vec![op("ADD", "/owner", "x")]),
        }
        .validate(ORG)
        .unwrap_err();
        assert_eq!(e.causes.len(), 3, "{e:?}");
        assert_eq!(e.summary, "data");
        let e = PatchOwners {
            resource_orn: None,
            data: Some(vec![]),
        }
        .validate(ORG)
        .unwrap_err();
        assert_eq!(e.causes.len(), 2, "{e:?}");
    }

    fn read(text: &str, list: OwnersList) -> Result<OwnersFilter, String> {
        OwnersFilter::read(&filter::parse(text).unwrap(), ORG, list)
    }

    #[test]
    fn filters_name_a_parent_and_narrow_it() {
        let app = ResourceName::app("salesforce", "0oa1");
        let text = format!(
            r#"parentResourceOrn eq "{}" AND resource.type eq "apps" AND resource.profile.name sw "sales""#,
            app.orn(ORG)
        );
        let f = read(&text, OwnersList::Owned).unwrap();
        assert_eq!(f.parent(), Some(&app));
        assert!(f.admits(&app, "Salesforce"));
        assert!(!f.admits(&app, "Workday"));
        assert!(!f.admits(&ResourceName::group("00g1"), "Sales"));
        // `resource.orn` alone names its own parent.
        let f = read(
            &format!(r#"resource.orn eq "{}""#, app.orn(ORG)),
            OwnersList::Owned,
        )
        .unwrap();
        assert_eq!(f.parent(), Some(&app));
        assert!(f.admits(&app, "x"));
        assert!(!f.admits(&ResourceName::app("salesforce", "0oa2"), "x"));
    }

    #[test]
    fn unsupported_filters_say_why() {
        let app = ResourceName::app("salesforce", "0oa1").orn(ORG);
        for (text, list) in [
            (r#"resource.type eq "apps""#.to_string(), OwnersList::Owned),
            (format!(r#"resource.orn eq "{app}""#), OwnersList::Unowned),
            (
                format!(r#"parentResourceOrn eq "{app}" or resource.type eq "apps""#),
                OwnersList::Owned,
            ),
            (
                format!(r#"parentResourceOrn sw "{app}""#),
                OwnersList::Owned,
            ),
            (
                format!(r#"parentResourceOrn eq "{app}" and resource.profile.name co "x""#),
                OwnersList::Owned,
            ),
            (
                format!(r#"parentResourceOrn eq "{app}" and parentResourceOrn eq "{app}""#),
                OwnersList::Owned,
            ),
            (
                r#"parentResourceOrn eq "orn:okta:idp:00oElsewhere:apps:x:0oa1""#.to_string(),
                OwnersList::Owned,
            ),
            (
                format!(r#"parentResourceOrn eq "{app}" and status eq "ACTIVE""#),
                OwnersList::Unowned,
            ),
        ] {
            assert!(read(&text, list).is_err(), "{text}");
        }
        assert!(read(
            &format!(r#"parentResourceOrn eq "{app}" and resource.profile.parent.id eq "esp1""#),
            OwnersList::Unowned
        )
        .is_ok());
    }
}
