//! Resource-owner storage on SQLite and PostgreSQL: the org id is minted once and shared by
//! every node, owners are replaced and removed with the change reported, lists group owners by
//! resource under a parent, a rolled-back change leaves nothing, and deleting a user, a group or
//! an app forgets the ownerships that name it.
use crate::common;

use common::open;

use serde_json::json;
use steward_core::directory::{Group, User, UserStatus, GROUP_TYPE_OKTA};
use steward_core::ids::{looks_like, new_id, IdKind};
use steward_core::resource_owners::{PrincipalName, ResourceKind};
use steward_store::OwnedResource;

fn user(login: &str) -> User {
    User {
        id: new_id(IdKind::User),
        status: UserStatus::Active,
        created: 1,
        activated: Some(1),
        status_changed: Some(1),
        last_login: None,
        last_updated: 1,
        password_changed: None,
        profile: json!({"login": login, "email": login, "firstName": "T", "lastName": "U"})
            .as_object()
            .unwrap()
            .clone(),
        password_hash: None,
    }
}

fn group(name: &str) -> Group {
    Group {
        id: new_id(IdKind::Group),
        group_type: GROUP_TYPE_OKTA.into(),
        created: 1,
        last_updated: 1,
        last_membership_updated: 1,
        profile: json!({"name": name}).as_object().unwrap().clone(),
    }
}

#[tokio::test]
async fn the_org_id_is_minted_once_for_every_node() {
    for (name, url) in common::urls("steward-owners-test").await {
        let a = open(&url).await;
        let b = open(&url).await;
        let (x, y) = tokio::join!(a.org_id(), b.org_id());
        let (x, y) = (x.unwrap(), y.unwrap());
        assert!(looks_like(IdKind::Org, &x), "{name} {x}");
        assert_eq!(x, y, "{name}");
        assert_eq!(a.org_id().await.unwrap(), x, "{name}");
    }
}

#[tokio::test]
async fn owners_are_replaced_removed_and_forgotten_with_what_they_name() {
    for (name, url) in common::urls("steward-owners-test").await {
        let store = open(&url).await;
        let (ann, bob, carl) = (user("ann@x.io"), user("bob@x.io"), user("carl@x.io"));
        let (admins, engineering) = (group("Admins"), group("Engineering"));
        let mut tx = store.begin().await.unwrap();
        for u in [&ann, &bob, &carl] {
            tx.insert_user(u).await.unwrap();
        }
        for g in [&admins, &engineering] {
            tx.insert_group(g).await.unwrap();
        }
        tx.commit().await.unwrap();
        let resource = OwnedResource::top_level(ResourceKind::Group, &engineering.id);

        // First configuration: Ann and the Admins group.
        let first = [
            PrincipalName::user(&ann.id),
            PrincipalName::group(&admins.id),
        ];
        let mut tx = store.begin().await.unwrap();
        let changed = tx.set_resource_owners(&resource, &first, 10).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(changed.added, first, "{name}");
        assert!(changed.removed.is_empty());
        let mut sorted = first.to_vec();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            store.resource_owners(&engineering.id).await.unwrap(),
            sorted
        );

        // Replacing reports only the difference; Ann keeps her row.
        let second = [PrincipalName::user(&ann.id), PrincipalName::user(&bob.id)];
        let mut tx = store.begin().await.unwrap();
        let changed = tx
            .set_resource_owners(&resource, &second, 20)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(changed.added, [PrincipalName::user(&bob.id)], "{name}");
        assert_eq!(changed.removed, [PrincipalName::group(&admins.id)]);

        // A change that is not committed leaves nothing.
        let mut tx = store.begin().await.unwrap();
        tx.set_resource_owners(&resource, &[], 30).await.unwrap();
        drop(tx);
        assert_eq!(
            store.resource_owners(&engineering.id).await.unwrap().len(),
            2
        );

        // Lists find the resource under its parent (itself), with its owners.
        let listed = store.owned_resources(&engineering.id).await.unwrap();
        assert_eq!(listed.len(), 1, "{name}");
        assert_eq!(listed[0].resource, resource);
        assert_eq!(listed[0].principals.len(), 2);
        assert!(store.owned_resources(&admins.id).await.unwrap().is_empty());

        // Removing reports only real owners.
        let mut tx = store.begin().await.unwrap();
        let removed = tx
            .remove_resource_owners(
                &engineering.id,
                &[PrincipalName::user(&bob.id), PrincipalName::user(&carl.id)],
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(removed, [PrincipalName::user(&bob.id)], "{name}");

        // Deleting the owner forgets the ownership; so does deleting the resource.
        let admins_resource = OwnedResource::top_level(ResourceKind::Group, &admins.id);
        let mut tx = store.begin().await.unwrap();
        tx.set_resource_owners(&admins_resource, &[PrincipalName::user(&carl.id)], 40)
            .await
            .unwrap();
        tx.delete_user(&ann.id).await.unwrap();
        tx.delete_group(&admins.id).await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            store
                .resource_owners(&engineering.id)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        assert!(
            store.owned_resources(&admins.id).await.unwrap().is_empty(),
            "{name}"
        );
    }
}
