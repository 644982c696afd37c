//! Role assignments on SQLite and PostgreSQL: the org-wide list pages by id over users' and
//! clients' assignments alike.
use crate::common;

use steward_core::ids::{new_id, IdKind};
use steward_core::roles::RoleType;
use steward_store::{PrincipalType, RoleAssignment};

fn assignment(kind: PrincipalType, principal: &str, role: RoleType) -> RoleAssignment {
    RoleAssignment {
        id: new_id(IdKind::RoleAssignment),
        principal_type: kind,
        principal_id: principal.into(),
        role_type: role,
        created: 1,
        last_updated: 1,
    }
}

#[tokio::test]
async fn every_role_assignment_of_the_org_is_listed_in_pages() {
    for (name, url) in common::urls("steward-store-roles").await {
        let store = common::open(&url).await;
        let given = [
            assignment(PrincipalType::User, "00u1", RoleType::SuperAdmin),
            assignment(PrincipalType::User, "00u1", RoleType::ReadOnlyAdmin),
            assignment(PrincipalType::User, "00u2", RoleType::OrgAdmin),
            assignment(PrincipalType::Client, "0oa1", RoleType::AppAdmin),
        ];
        let mut tx = store.begin().await.unwrap();
        for a in &given {
            tx.insert_role_assignment(a).await.unwrap();
        }
        tx.commit().await.unwrap();

        let all = store.all_role_assignments(None, 100).await.unwrap();
        let mut want: Vec<_> = given.to_vec();
        want.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(all, want, "{name}");
        let first = store.all_role_assignments(None, 3).await.unwrap();
        assert_eq!(first, want[..3], "{name}");
        let rest = store
            .all_role_assignments(Some(&first[2].id), 3)
            .await
            .unwrap();
        assert_eq!(rest, want[3..], "{name}");
        assert!(store
            .all_role_assignments(Some("bad\0cursor"), 3)
            .await
            .is_err());
    }
}
