//! The Admin Console's Directory reads: a user's app assignments (direct or through a group),
//! a group's app assignments, member counts of several groups.
use crate::common;

use serde_json::json;
use steward_core::apps::{App, OidcClient, SIGN_ON_MODE_OIDC};
use steward_core::directory::{Group, User, UserStatus};
use steward_core::ids::{new_id, IdKind};
use steward_store::{AppGroupAssignment, AppUserAssignment, Store, UserAppLink};

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
        profile: json!({"login": login, "email": login, "firstName": "A", "lastName": "B"})
            .as_object()
            .unwrap()
            .clone(),
        password_hash: None,
    }
}

fn group(name: &str) -> Group {
    Group {
        id: new_id(IdKind::Group),
        group_type: "OKTA_GROUP".into(),
        created: 1,
        last_updated: 1,
        last_membership_updated: 1,
        profile: json!({"name": name}).as_object().unwrap().clone(),
    }
}

fn app(label: &str) -> App {
    let oidc =
        OidcClient::from_request(&json!({"application_type": "service"}), &json!({})).unwrap();
    let id = new_id(IdKind::App);
    App {
        id: id.clone(),
        name: "oidc_client".into(),
        label: label.into(),
        status: "ACTIVE".into(),
        sign_on_mode: SIGN_ON_MODE_OIDC.into(),
        created: 1,
        last_updated: 1,
        client_id: Some(id),
        oidc: Some(oidc),
    }
}

async fn check(name: &str, store: &Store) {
    let (pat, sam) = (user("pat@example.com"), user("sam@example.com"));
    let (eng, ops, empty) = (group("Eng"), group("Ops"), group("Empty"));
    let (wiki, crm) = (app("Wiki"), app("CRM"));
    let mut tx = store.begin().await.unwrap();
    for u in [&pat, &sam] {
        tx.insert_user(u).await.unwrap();
    }
    for g in [&eng, &ops, &empty] {
        tx.insert_group(g).await.unwrap();
    }
    for a in [&wiki, &crm] {
        tx.insert_app(a).await.unwrap();
    }
    tx.add_member(&eng.id, &pat.id, 2).await.unwrap();
    tx.add_member(&ops.id, &pat.id, 2).await.unwrap();
    tx.add_member(&eng.id, &sam.id, 2).await.unwrap();
    // Wiki: directly and through Eng and Ops; CRM: through Eng only.
    tx.upsert_app_user(&AppUserAssignment {
        app_id: wiki.id.clone(),
        user_id: pat.id.clone(),
        scope: "USER".into(),
        profile: Default::default(),
        created: 3,
        last_updated: 3,
    })
    .await
    .unwrap();
    for (a, g) in [(&wiki, &eng), (&wiki, &ops), (&crm, &eng)] {
        tx.upsert_app_group(&AppGroupAssignment {
            app_id: a.id.clone(),
            group_id: g.id.clone(),
            priority: 0,
            profile: Default::default(),
            created: 4,
            last_updated: 4,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let links = store.user_app_links(&pat.id).await.unwrap();
    let mut want = vec![
        UserAppLink {
            app_id: wiki.id.clone(),
            group_id: None,
        },
        UserAppLink {
            app_id: wiki.id.clone(),
            group_id: Some(eng.id.clone()),
        },
        UserAppLink {
            app_id: wiki.id.clone(),
            group_id: Some(ops.id.clone()),
        },
        UserAppLink {
            app_id: crm.id.clone(),
            group_id: Some(eng.id.clone()),
        },
    ];
    // By app id, the direct assignment first, then by group id.
    want.sort_by(|a, b| {
        (&a.app_id, a.group_id.is_some(), &a.group_id).cmp(&(
            &b.app_id,
            b.group_id.is_some(),
            &b.group_id,
        ))
    });
    assert_eq!(links, want, "{name}");
    assert_eq!(
        store.user_app_links(&sam.id).await.unwrap().len(),
        2,
        "{name}"
    );
    assert!(store.user_app_links("00uNobody").await.unwrap().is_empty());

    let mut apps: Vec<String> = store
        .group_app_assignments(&eng.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.app_id)
        .collect();
    let mut both = vec![wiki.id.clone(), crm.id.clone()];
    both.sort();
    assert_eq!(apps, both, "{name}");
    apps = store
        .group_app_assignments(&empty.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.app_id)
        .collect();
    assert!(apps.is_empty(), "{name}");

    let counts = store
        .group_member_counts(&[eng.id.clone(), ops.id.clone(), empty.id.clone()])
        .await
        .unwrap();
    assert_eq!(counts.get(&eng.id), Some(&2), "{name}");
    assert_eq!(counts.get(&ops.id), Some(&1), "{name}");
    assert_eq!(counts.get(&empty.id), None, "{name}");
    assert!(store.group_member_counts(&[]).await.unwrap().is_empty());

    // Users by ids, in one query: the ones that exist; an id that cannot be stored matches none.
    let mut found: Vec<String> = store
        .users_by_ids(&[
            sam.id.clone(),
            "00uNope".into(),
            "bad\0id".into(),
            pat.id.clone(),
        ])
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.login().to_string())
        .collect();
    found.sort();
    assert_eq!(found, ["pat@example.com", "sam@example.com"], "{name}");
    assert!(store.users_by_ids(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn directory_reads_on_both_backends() {
    for (name, url) in common::urls("steward-store-directory").await {
        let store = common::open(&url).await;
        check(name, &store).await;
    }
}
