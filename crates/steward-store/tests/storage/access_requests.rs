//! Access-request storage on SQLite and PostgreSQL: requests round-trip with their tasks, lists
//! filter by status, tasks by assignee, and a due request is claimed exactly once, also by two
//! stores (two nodes) on one PostgreSQL database.
use crate::common;

use common::open;

use steward_core::access_requests::conditions::{ApprovalStep, Approver};
use steward_core::access_requests::workflow::{
    AccessScopeType, NewRequest, Requested, ResourceType,
};
use steward_core::access_requests::{new_request_id, Directory, Principal, RequestWorkflow};
use steward_core::filter;
use steward_store::{RequestListQuery, StoredRequest, TaskListQuery};

struct Dir;
impl Directory for Dir {
    fn manager_of(&self, _: &str) -> Option<String> {
        Some("00umanager0000000000".into())
    }
    fn group_members(&self, _: &str) -> Vec<String> {
        vec![]
    }
    fn resource_owners(&self, _: &str) -> Vec<String> {
        vec![]
    }
    fn user_is_active(&self, _: &str) -> bool {
        true
    }
}

fn pending(now: i64) -> RequestWorkflow {
    let (mut wf, _) = RequestWorkflow::create(
        NewRequest {
            id: new_request_id(),
            requested: Requested {
                entry_id: None,
                resource_id: "0oaapp00000000000000".into(),
                resource_type: ResourceType::Application,
                access_scope_id: "0oaapp00000000000000".into(),
                access_scope_type: AccessScopeType::Application,
            },
            requested_by: Principal::user("00ualice000000000000"),
            requested_for: "00ualice000000000000".into(),
            requester_field_values: None,
        },
        now,
    );
    wf.start(
        vec![ApprovalStep {
            approver: Approver::RequesterManager,
            fallback: None,
            label: None,
        }],
        None,
        &Dir,
        now,
    )
    .unwrap();
    wf
}

#[tokio::test]
async fn requests_tasks_and_claims() {
    for (name, url) in common::urls("steward-ar-test").await {
        let store = open(&url).await;
        let now = 1_800_000_000_000;
        let mut ids = vec![];
        for i in 0..5 {
            let wf = pending(now + i);
            ids.push(wf.request.id.clone());
            let mut tx = store.begin().await.unwrap();
            tx.access_requests()
                .put_request(
                    &StoredRequest {
                        workflow: wf,
                        v1: None,
                        due_at: Some(now + 100),
                    },
                    None,
                    None,
                )
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let got = store.access_requests().request(&ids[0]).await.unwrap();
        assert_eq!(got.workflow.request.id, ids[0], "{name}");
        assert_eq!(got.workflow.tasks.len(), 1);

        let list = store
            .access_requests()
            .requests(&RequestListQuery {
                v1: false,
                filter: Some(filter::parse("status eq \"PENDING\"").unwrap()),
                after: None,
                limit: 3,
            })
            .await
            .unwrap();
        assert_eq!(list.len(), 3, "{name}");
        let none = store
            .access_requests()
            .requests(&RequestListQuery {
                v1: false,
                filter: Some(filter::parse("status eq \"APPROVED\"").unwrap()),
                after: None,
                limit: 3,
            })
            .await
            .unwrap();
        assert!(none.is_empty());

        // Newest first, paged by (created, id); a filter still applies.
        let ar = store.access_requests();
        let first = ar.requests_newest_first(None, None, 2).await.unwrap();
        let created = |l: &[StoredRequest]| -> Vec<i64> {
            l.iter().map(|r| r.workflow.request.created).collect()
        };
        assert_eq!(created(&first), [now + 4, now + 3], "{name}");
        let last = &first[1].workflow.request;
        let rest = ar
            .requests_newest_first(None, Some((last.created, &last.id)), 10)
            .await
            .unwrap();
        assert_eq!(created(&rest), [now + 2, now + 1, now], "{name}");
        let pending_only = filter::parse("status eq \"PENDING\"").unwrap();
        let filtered = ar
            .requests_newest_first(Some(&pending_only), Some((now + 1, &ids[1])), 10)
            .await
            .unwrap();
        assert_eq!(created(&filtered), [now], "{name}");
        let approved = filter::parse("status eq \"APPROVED\"").unwrap();
        assert!(ar
            .requests_newest_first(Some(&approved), None, 10)
            .await
            .unwrap()
            .is_empty());

        let tasks = store
            .access_requests()
            .tasks(&TaskListQuery {
                filter: Some(
                    filter::parse("assigneeId eq \"00umanager0000000000\" and status eq \"OPEN\"")
                        .unwrap(),
                ),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(tasks.len(), 5, "{name}");

        // Nothing is due before its time; then each due request is claimed once, even by a
        // second store (node) on the same database.
        assert!(store
            .access_requests()
            .due_requests(now + 99, 10)
            .await
            .unwrap()
            .is_empty());
        let due = store
            .access_requests()
            .due_requests(now + 100, 10)
            .await
            .unwrap();
        assert_eq!(due.len(), 5);
        let other = open(&url).await;
        let mut claimed = 0;
        for id in &due {
            let mut a = store.begin().await.unwrap();
            let claim_a = a.access_requests().claim_due(id, now + 100).await.unwrap();
            a.commit().await.unwrap();
            let mut tx = other.begin().await.unwrap();
            let claim_b = tx.access_requests().claim_due(id, now + 100).await.unwrap();
            tx.commit().await.unwrap();
            assert!(claim_a && !claim_b, "{name}: {id}");
            claimed += 1;
        }
        assert_eq!(claimed, 5);
        assert!(store
            .access_requests()
            .due_requests(now + 1_000, 10)
            .await
            .unwrap()
            .is_empty());
    }
}

fn condition(
    id: &str,
    status: steward_core::access_requests::conditions::ConditionStatus,
    priority: u32,
) -> steward_core::access_requests::RequestCondition {
    use steward_core::access_requests::conditions::{AccessScopeSettings, RequesterSettings};
    steward_core::access_requests::RequestCondition {
        id: id.into(),
        name: id.into(),
        description: None,
        priority,
        status,
        requester_settings: RequesterSettings::Everyone,
        access_scope_settings: AccessScopeSettings::ResourceDefault,
        access_duration_settings: None,
        approval_sequence_id: Some("seq".into()),
        created: 0,
        created_by: "00uadmin".into(),
        last_updated: 0,
        last_updated_by: "00uadmin".into(),
    }
}

/// What the catalog reads, one query each: the conditions of the resources with an ACTIVE one
/// (all of their conditions, by resource then priority), and apps and groups by ids (unknown
/// and unstorable ids are skipped).
#[tokio::test]
async fn catalog_reads_by_ids() {
    use steward_core::access_requests::conditions::ConditionStatus::{Active, Inactive};
    use steward_core::apps::App;
    use steward_core::directory::{Group, GROUP_TYPE_OKTA};
    for (name, url) in common::urls("steward-catalog-test").await {
        let store = open(&url).await;
        let mut tx = store.begin().await.unwrap();
        let mut apps = vec![];
        for id in ["0oaone00000000000000", "0oatwo00000000000000"] {
            let app = App {
                id: id.into(),
                name: "oidc_client".into(),
                label: id.into(),
                status: "ACTIVE".into(),
                sign_on_mode: steward_core::apps::SIGN_ON_MODE_OIDC.into(),
                created: 0,
                last_updated: 0,
                client_id: Some(id.into()),
                oidc: None,
            };
            tx.insert_app(&app).await.unwrap();
            apps.push(app);
        }
        let group = Group {
            id: "00gone00000000000000".into(),
            group_type: GROUP_TYPE_OKTA.into(),
            created: 0,
            last_updated: 0,
            last_membership_updated: 0,
            profile: serde_json::from_value(serde_json::json!({"name": "One"})).unwrap(),
        };
        tx.insert_group(&group).await.unwrap();
        let ar = &mut tx.access_requests();
        ar.put_condition(&apps[1].id, &condition("c3", Active, 0))
            .await
            .unwrap();
        ar.put_condition(&apps[0].id, &condition("c2", Active, 1))
            .await
            .unwrap();
        ar.put_condition(&apps[0].id, &condition("c1", Inactive, 0))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        // A resource with no ACTIVE condition is not requestable.
        tx.access_requests()
            .put_condition("0oathree000000000000", &condition("c4", Inactive, 0))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let rows = store
            .access_requests()
            .conditions_of_requestable_resources()
            .await
            .unwrap();
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|(r, c)| (r.as_str(), c.id.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("0oaone00000000000000", "c1"),
                ("0oaone00000000000000", "c2"),
                ("0oatwo00000000000000", "c3"),
            ],
            "{name}"
        );

        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut found: Vec<String> = store
            .apps_by_ids(&ids(&[
                "0oatwo00000000000000",
                "0oaNope",
                "bad\0id",
                "0oaone00000000000000",
            ]))
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        found.sort();
        assert_eq!(
            found,
            ids(&["0oaone00000000000000", "0oatwo00000000000000"]),
            "{name}"
        );
        assert!(store.apps_by_ids(&[]).await.unwrap().is_empty());
        let groups = store
            .groups_by_ids(&ids(&["00gone00000000000000", "00gNope", "bad\0id"]))
            .await
            .unwrap();
        assert_eq!(groups.len(), 1, "{name}");
        assert_eq!(groups[0].name(), "One");
    }
}
