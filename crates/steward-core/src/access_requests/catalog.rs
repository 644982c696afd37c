//! The default v2 catalog, derived on the fly: one top-level entry per resource with at least one
//! ACTIVE condition (not itself requestable), and under it one requestable entry per access scope
//! those conditions open (the app itself, each entitlement bundle, each group).
//!
//! Entry ids are derived from the resource and scope ids, so the same entry keeps its `cen…` id
//! across rebuilds and nothing has to be stored.

use serde::Serialize;

use super::conditions::{AccessScopeSettings, ConditionStatus, RequestCondition};
use super::workflow::{AccessScopeType, Requested, ResourceType};

/// A resource (an app) and its request conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogResource {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub conditions: Vec<RequestCondition>,
}

/// A catalog entry (`/v2/catalogs/default/entries`, `/v2/my/catalogs/default/entries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogEntry {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Application` on top-level entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The parent entry's id, on child entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub requestable: bool,
    /// The resource behind the entry (for `_links.relatedEntity`); not part of Okta's body.
    #[serde(skip)]
    pub resource_id: String,
    /// What requesting the entry asks for (child entries only); not part of Okta's body.
    #[serde(skip)]
    pub requested: Option<Requested>,
}

/// Builds the catalog. With `memberships` (the requester's group and team ids) only conditions
/// that admit the requester count, which gives `/my/catalogs` and `/catalogs/default/user/{id}`;
/// without, the admin's view. `name_of` names groups and bundles (their id when it returns None).
pub fn build_catalog(
    resources: &[CatalogResource],
    memberships: Option<&[String]>,
    name_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<CatalogEntry> {
    let mut entries = vec![];
    for resource in resources {
        let parent_id = entry_id(&resource.id, None);
        let mut conditions: Vec<&RequestCondition> = resource
            .conditions
            .iter()
            .filter(|c| c.status == ConditionStatus::Active)
            .filter(|c| memberships.is_none_or(|m| c.admits(m)))
            .collect();
        conditions.sort_by_key(|c| c.priority);
        let mut children: Vec<CatalogEntry> = vec![];
        for condition in conditions {
            for (scope_type, scope_id) in scopes(condition, &resource.id) {
                let id = entry_id(&resource.id, Some(&scope_id));
                if children.iter().any(|c| c.id == id) {
                    continue;
                }
                let name = if scope_type == AccessScopeType::Application {
                    resource.name.clone()
                } else {
                    name_of(&scope_id).unwrap_or_else(|| scope_id.clone())
                };
                children.push(CatalogEntry {
                    requested: Some(Requested {
                        entry_id: Some(id.clone()),
                        resource_id: resource.id.clone(),
                        resource_type: ResourceType::Application,
                        access_scope_id: scope_id,
                        access_scope_type: scope_type,
                    }),
                    id,
                    name,
                    description: None,
                    label: None,
                    parent: Some(parent_id.clone()),
                    requestable: true,
                    resource_id: resource.id.clone(),
                });
            }
        }
        if children.is_empty() {
            continue;
        }
        entries.push(CatalogEntry {
            id: parent_id,
            name: resource.name.clone(),
            description: resource.description.clone(),
            label: Some("Application".into()),
            parent: None,
            requestable: false,
            resource_id: resource.id.clone(),
            requested: None,
        });
        entries.extend(children);
    }
    entries
}

/// The access scopes a condition opens, as `requested.accessScopeType`/`accessScopeId`.
fn scopes(condition: &RequestCondition, resource_id: &str) -> Vec<(AccessScopeType, String)> {
    match &condition.access_scope_settings {
        AccessScopeSettings::ResourceDefault => {
            vec![(AccessScopeType::Application, resource_id.to_string())]
        }
        AccessScopeSettings::EntitlementBundles {
            entitlement_bundles,
        } => entitlement_bundles
            .iter()
            .map(|b| (AccessScopeType::EntitlementBundle, b.id.clone()))
            .collect(),
        AccessScopeSettings::Groups { groups } => groups
            .iter()
            .map(|g| (AccessScopeType::Group, g.id.clone()))
            .collect(),
    }
}

/// `cen` and 17 base-62 digits of a 128-bit FNV-1a hash of the resource and scope ids.
pub fn entry_id(resource_id: &str, scope_id: Option<&str>) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let key = format!("{resource_id}/{}", scope_id.unwrap_or_default());
    let fnv = |seed: u64| {
        key.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let mut n =
        (u128::from(fnv(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(fnv(0x8422_2325_cbf2_9ce4));
    let mut id = String::from("cen");
    for _ in 0..17 {
        id.push(char::from(DIGITS[(n % 62) as usize]));
        n /= 62;
    }
    id
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::access_requests::conditions::{IdRef, RequesterSettings};
    use crate::access_requests::is_okta_id;

    fn condition(
        priority: u32,
        status: ConditionStatus,
        requesters: RequesterSettings,
        scope: AccessScopeSettings,
    ) -> RequestCondition {
        RequestCondition {
            id: format!("rco{priority:017}"),
            name: format!("condition {priority}"),
            description: None,
            priority,
            status,
            requester_settings: requesters,
            access_scope_settings: scope,
            access_duration_settings: None,
            approval_sequence_id: Some("61eb0f06c462d20007f051ac".into()),
            created: 0,
            created_by: "00uadmin000000000000".into(),
            last_updated: 0,
            last_updated_by: "00uadmin000000000000".into(),
        }
    }

    fn groups(ids: &[&str]) -> Vec<IdRef> {
        ids.iter().map(|id| IdRef { id: id.to_string() }).collect()
    }

    #[test]
    fn entries_come_from_active_conditions_only() {
        let figma = CatalogResource {
            id: "0oafigma000000000000".into(),
            name: "Figma".into(),
            description: Some("The Figma App".into()),
            conditions: vec![
                condition(
                    0,
                    ConditionStatus::Active,
                    RequesterSettings::Everyone,
                    AccessScopeSettings::ResourceDefault,
                ),
                condition(
                    1,
                    ConditionStatus::Active,
                    RequesterSettings::Groups {
                        groups: groups(&["00gdesigners00000000"]),
                    },
                    AccessScopeSettings::EntitlementBundles {
                        entitlement_bundles: groups(&["enbeditor00000000000"]),
                    },
                ),
                // The default scope again: no duplicate child.
                condition(
                    2,
                    ConditionStatus::Active,
                    RequesterSettings::Everyone,
                    AccessScopeSettings::ResourceDefault,
                ),
            ],
        };
        let dormant = CatalogResource {
            id: "0oadormant0000000000".into(),
            name: "Dormant".into(),
            description: None,
            conditions: vec![condition(
                0,
                ConditionStatus::Inactive,
                RequesterSettings::Everyone,
                AccessScopeSettings::ResourceDefault,
            )],
        };
        let resources = [figma, dormant];
        let name_of = |id: &str| (id == "enbeditor00000000000").then(|| "Figma Editor".to_string());

        let admin = build_catalog(&resources, None, &name_of);
        let names: Vec<&str> = admin.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Figma", "Figma", "Figma Editor"]);
        let (top, children) = (&admin[0], &admin[1..]);
        assert!(
            !top.requestable && top.parent.is_none() && top.label.as_deref() == Some("Application")
        );
        assert!(children
            .iter()
            .all(|c| c.requestable && c.parent.as_ref() == Some(&top.id)));
        let editor = children[1].requested.as_ref().unwrap();
        assert_eq!(editor.access_scope_type, AccessScopeType::EntitlementBundle);
        assert_eq!(editor.entry_id.as_ref(), Some(&children[1].id));
        assert!(admin.iter().all(|e| is_okta_id("cen", &e.id)));

        // A requester outside the designers group only sees the default access.
        let mine = build_catalog(
            &resources,
            Some(&["00gother000000000000".to_string()]),
            &name_of,
        );
        assert_eq!(mine.len(), 2);
        assert_eq!(mine, admin[..2]);

        // Ids are stable and the JSON has Okta's fields only.
        assert_eq!(build_catalog(&resources, None, &name_of), admin);
        let json = serde_json::to_value(&children[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": children[0].id, "name": "Figma", "parent": top.id, "requestable": true})
        );
    }
}
