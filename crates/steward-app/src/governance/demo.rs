//! `--demo` data for Access Requests: a two-step approval sequence (the requester's manager,
//! then the Security group), two ACTIVE request conditions on the first demo app (the app for
//! 30 days; a group for up to 7 days), resource owners for the app and two groups, and requests
//! in different states.

use steward_core::access_requests::conditions::{
    self, AccessDurationSettings, AccessScopeSettings, ApprovalStep, Approver, IdRef,
    RequestConditionCreate, RequestSequenceWrite, RequesterSettings, ResourceRequestSettings,
};
use steward_core::access_requests::workflow::{
    AccessScopeType, Decision, NewRequest, RequestFieldValue, Requested, ResourceType,
};
use steward_core::access_requests::{
    catalog::entry_id, new_request_id, Principal, RequestSequence, RequestWorkflow,
};
use steward_core::directory::User;
use steward_core::resource_owners::{PrincipalName, ResourceKind};
use steward_core::timefmt::now_millis;
use steward_store::{
    AppQuery, GroupQuery, OwnedResource, Store, StoreError, StoredRequest, UserQuery,
};

use super::engine::{self, Effects};
use crate::Ctx;

/// Seeds the demo access requests; does nothing without at least one app, three groups and
/// users with managers.
pub async fn seed(store: &Store) -> Result<(), StoreError> {
    let now = now_millis();
    super::ensure_default_team(store, now).await?;
    let apps = store
        .apps(&AppQuery {
            limit: 10,
            ..Default::default()
        })
        .await?;
    let Some(app) = apps.iter().find(|a| a.label != "Okta Workflows OAuth") else {
        return Ok(());
    };
    let groups: Vec<_> = store
        .groups(&GroupQuery {
            limit: 20,
            ..Default::default()
        })
        .await?
        .into_iter()
        // Not the group every demo user is in: requesting it would grant nobody anything.
        .filter(|g| !g.is_built_in() && g.name() != "All Employees")
        .collect();
    let (Some(security), Some(requestable)) = (groups.first(), groups.get(1)) else {
        return Ok(());
    };
    let users = store
        .users(&UserQuery {
            limit: 60,
            ..Default::default()
        })
        .await?;
    let with_manager: Vec<&User> = users
        .iter()
        .filter(|u| u.profile.get("managerId").is_some())
        .collect();
    if with_manager.len() < 5 {
        return Ok(());
    }
    // Two Security members who are nobody's requester here.
    let approvers: Vec<&User> = users.iter().rev().take(2).collect();
    let mut tx = store.begin().await?;
    for a in &approvers {
        tx.add_member(&security.id, &a.id, now).await?;
    }
    let sequence = RequestSequence::create(
        RequestSequenceWrite {
            name: Some("Manager, then Security".into()),
            description: Some(
                "The requester's manager approves, then one member of Security.".into(),
            ),
            compatible_resource_types: None,
            steps: vec![
                ApprovalStep {
                    approver: Approver::RequesterManager,
                    fallback: Some(Approver::Group {
                        id: security.id.clone(),
                    }),
                    label: Some("Manager approval".into()),
                },
                ApprovalStep {
                    approver: Approver::Group {
                        id: security.id.clone(),
                    },
                    fallback: None,
                    label: Some("Security approval".into()),
                },
            ],
        },
        "",
    )
    .map_err(|e| StoreError::Corrupt(e.summary))?;
    tx.access_requests().put_sequence(&sequence, now).await?;
    let settings = ResourceRequestSettings::for_app(true, false);
    let mut conds = vec![];
    for create in [
        RequestConditionCreate {
            name: Some(format!("Everyone may request {} for 30 days", app.label)),
            description: Some("Manager and Security approve.".into()),
            requester_settings: Some(RequesterSettings::Everyone),
            access_scope_settings: Some(AccessScopeSettings::ResourceDefault),
            access_duration_settings: Some(AccessDurationSettings::AdminFixedDuration {
                duration: "P30D".into(),
            }),
            approval_sequence_id: Some(sequence.id.clone()),
            priority: None,
        },
        RequestConditionCreate {
            name: Some(format!("{} membership, up to a week", requestable.name())),
            description: None,
            requester_settings: Some(RequesterSettings::Everyone),
            access_scope_settings: Some(AccessScopeSettings::Groups {
                groups: vec![IdRef {
                    id: requestable.id.clone(),
                }],
            }),
            access_duration_settings: Some(AccessDurationSettings::RequesterSpecifiedDuration {
                maximum_duration: "P7D".into(),
            }),
            approval_sequence_id: Some(sequence.id.clone()),
            priority: None,
        },
    ] {
        conditions::add_condition(&mut conds, create, &settings, "steward", now)
            .map_err(|e| StoreError::Corrupt(e.summary))?;
    }
    for c in &mut conds {
        let _ = c.activate("steward", now);
        tx.access_requests().put_condition(&app.id, c).await?;
    }
    // Owners: Security owns the app (each member decides for it), one approver owns the
    // requestable group, the other owns Security.
    let mut owned = vec![(
        ResourceKind::App,
        &app.id,
        PrincipalName::group(&security.id),
    )];
    for (group, approver) in [&requestable.id, &security.id].into_iter().zip(&approvers) {
        owned.push((
            ResourceKind::Group,
            group,
            PrincipalName::user(&approver.id),
        ));
    }
    for (kind, id, owner) in owned {
        tx.set_resource_owners(&OwnedResource::top_level(kind, id), &[owner], now)
            .await?;
    }
    tx.commit().await?;

    // Requests: pending at the manager, pending at Security, approved and granted, denied.
    let app_scope = Requested {
        entry_id: Some(entry_id(&app.id, Some(&app.id))),
        resource_id: app.id.clone(),
        resource_type: ResourceType::Application,
        access_scope_id: app.id.clone(),
        access_scope_type: AccessScopeType::Application,
    };
    let group_scope = Requested {
        entry_id: Some(entry_id(&app.id, Some(&requestable.id))),
        resource_id: app.id.clone(),
        resource_type: ResourceType::Application,
        access_scope_id: requestable.id.clone(),
        access_scope_type: AccessScopeType::Group,
    };
    let duration = Some(vec![RequestFieldValue {
        id: conditions::DURATION_FIELD_IDS[0].into(),
        label: None,
        kind: None,
        value: Some("P3D".into()),
        values: None,
    }]);
    let plans: [(&User, &Requested, usize, Option<Decision>); 4] = [
        (with_manager[0], &app_scope, 0, None),
        (with_manager[1], &group_scope, 1, None),
        (with_manager[2], &app_scope, 2, None),
        (with_manager[3], &group_scope, 0, Some(Decision::Denied)),
    ];
    for (i, (user, requested, approvals, deny)) in plans.into_iter().enumerate() {
        let t = now - (4 - i as i64) * 3_600_000;
        let condition = if requested.access_scope_type == AccessScopeType::Group {
            &conds[1]
        } else {
            &conds[0]
        };
        let (mut wf, mut events) = RequestWorkflow::create(
            NewRequest {
                id: new_request_id(),
                requested: requested.clone(),
                requested_by: Principal::user(&user.id),
                requested_for: user.id.clone(),
                requester_field_values: (requested.access_scope_type == AccessScopeType::Group)
                    .then(|| duration.clone())
                    .flatten(),
            },
            t,
        );
        let dir = engine::snapshot(
            store,
            &user.id,
            &engine::owned_resources(requested),
            &sequence.steps,
            &[],
        )
        .await?;
        events.extend(wf.submit(condition, &sequence, &dir, t).unwrap_or_default());
        for step in 0..approvals {
            let Some(task) = wf.current_task().cloned() else {
                break;
            };
            let Some(decider) = task.assignees.first() else {
                break;
            };
            let _ = step;
            events.extend(
                wf.resolve_task(&task.id, decider, Decision::Approved, &dir, t + 60_000)
                    .unwrap_or_default(),
            );
        }
        if let (Some(d), Some(task)) = (deny, wf.current_task().cloned()) {
            if let Some(decider) = task.assignees.first() {
                events.extend(
                    wf.resolve_task(&task.id, decider, d, &dir, t + 60_000)
                        .unwrap_or_default(),
                );
            }
        }
        let mut tx = store.begin().await?;
        let mut fx = Effects { events };
        let ctx = Ctx::system(store).at(t);
        engine::fulfil(&ctx.clone().at(t + 120_000), &mut tx, &mut wf, &mut fx).await?;
        let mut stored = StoredRequest {
            workflow: wf,
            v1: None,
            due_at: None,
        };
        engine::save(&ctx, &mut tx, &mut stored, fx).await?;
        tx.commit().await?;
    }
    seed_v1(store, requestable, with_manager[4], now).await
}

/// A published v1 request type for the requestable group (approved without a review) and one
/// request on it, so that the support article's call,
/// `GET /governance/api/v1/requests/{requestId}`, can be tried on the demo org.
async fn seed_v1(
    store: &Store,
    group: &steward_core::directory::Group,
    requester: &User,
    now: i64,
) -> Result<(), StoreError> {
    use steward_core::access_requests::v1::{
        open_request, RequestType, RequestTypeCreate, RequestV1Create,
    };
    let invalid = |summary: String| StoreError::Corrupt(summary);
    let Some(team_id) = store
        .access_requests()
        .teams(None, 1)
        .await?
        .into_iter()
        .find_map(|t| t["id"].as_str().map(str::to_string))
    else {
        return Ok(());
    };
    let create: RequestTypeCreate = serde_json::from_value(serde_json::json!({
        "name": format!("{} membership", group.name()),
        "description": "Demo v1 request type: approved without a review.",
        "ownerId": team_id,
        "resourceSettings": {"type": "GROUPS", "targetResources": [{"resourceId": group.id}]},
        // No approval step: a v1 request's approval task would be served by the v2 tasks API,
        // whose spec allows only v2 (20-character) request ids there.
        "approvalSettings": {"type": "NONE"},
        "status": "ACTIVE",
    }))
    .map_err(|e| invalid(e.to_string()))?;
    let request_type =
        RequestType::create(create, "steward", now).map_err(|e| invalid(e.summary))?;
    let targets = vec![group.id.clone()];
    let dir = engine::snapshot(
        store,
        &requester.id,
        &targets,
        &request_type.approval_steps(),
        std::slice::from_ref(&requester.id),
    )
    .await?;
    let mut tx = store.begin().await?;
    tx.access_requests().put_request_type(&request_type).await?;
    let permalink = tx.access_requests().next_permalink().await?;
    let opened = open_request(
        RequestV1Create {
            request_type_id: Some(request_type.id.clone()),
            subject: Some(format!("Please add me to {}", group.name())),
            requester_user_ids: None,
            requester_field_values: None,
        },
        &request_type,
        &Principal::user(&requester.id),
        permalink,
        &dir,
        &|_| None,
        now,
    )
    .map_err(|e| invalid(format!("{e:?}")))?;
    let mut workflow = opened.workflow;
    let mut v1 = opened.request;
    let mut fx = Effects {
        events: opened.events,
    };
    let ctx = Ctx::system(store).at(now);
    engine::fulfil(&ctx, &mut tx, &mut workflow, &mut fx).await?;
    v1.refresh(&workflow, &request_type, &|_| None);
    let mut stored = StoredRequest {
        workflow,
        v1: Some(v1),
        due_at: None,
    };
    engine::save(&ctx, &mut tx, &mut stored, fx).await?;
    tx.commit().await
}
