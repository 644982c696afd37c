//! The default catalog: one entry per app with an ACTIVE request condition and, under it, one
//! requestable entry per access scope its conditions open. Derived on every read (nothing is
//! stored) in three queries, whatever its size: the conditions, their apps, their groups.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use steward_core::access_requests::catalog::CatalogEntry;
use steward_core::access_requests::conditions::{
    AccessDurationSettings, AccessScopeSettings, RequestCondition, DURATION_FIELD_IDS,
};
use steward_core::access_requests::{build_catalog, match_condition, CatalogResource};
use steward_core::directory::{User, UserStatus};
use steward_core::filter::Filter;
use steward_store::{Store, StoreError};

use super::{engine, Page};
use crate::{AppError, AppResult};

/// The catalog; with `memberships`, as the user with those groups sees it.
pub async fn build(store: &Store, memberships: Option<&[String]>) -> AppResult<Vec<CatalogEntry>> {
    let rows = store
        .access_requests()
        .conditions_of_requestable_resources()
        .await?;
    // Resource ids in order (the rows come by resource id), each with its conditions.
    let mut order: Vec<String> = vec![];
    let mut conditions: HashMap<String, Vec<RequestCondition>> = HashMap::new();
    let mut group_ids: HashSet<String> = HashSet::new();
    for (resource_id, c) in rows {
        if let AccessScopeSettings::Groups { groups } = &c.access_scope_settings {
            group_ids.extend(groups.iter().map(|g| g.id.clone()));
        }
        if !conditions.contains_key(&resource_id) {
            order.push(resource_id.clone());
        }
        conditions.entry(resource_id).or_default().push(c);
    }
    let apps: HashMap<String, _> = store
        .apps_by_ids(&order)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let group_ids: Vec<String> = group_ids.into_iter().collect();
    let group_names: HashMap<String, String> = store
        .groups_by_ids(&group_ids)
        .await?
        .into_iter()
        .map(|g| (g.id.clone(), g.name().to_string()))
        .collect();
    let resources: Vec<CatalogResource> = order
        .into_iter()
        .filter_map(|id| {
            let app = apps.get(&id)?;
            Some(CatalogResource {
                id: app.id.clone(),
                name: app.label.clone(),
                description: None,
                conditions: conditions.remove(&id).unwrap_or_default(),
            })
        })
        .collect();
    Ok(build_catalog(&resources, memberships, &|id| {
        group_names.get(id).cloned()
    }))
}

/// The admin's catalog.
pub async fn entries(store: &Store) -> AppResult<Vec<CatalogEntry>> {
    build(store, None).await
}

/// Entry `entry_id` of the admin's catalog.
pub async fn entry(store: &Store, entry_id: &str) -> AppResult<CatalogEntry> {
    find(entries(store).await?, entry_id)
}

/// The catalog as active user `user_id` sees it (another user: 404).
pub async fn for_user(store: &Store, user_id: &str) -> AppResult<Vec<CatalogEntry>> {
    let user = active_user(store, user_id).await?;
    mine(store, &user.id).await
}

/// The catalog as the caller, user `me`, sees it.
pub async fn mine(store: &Store, me: &str) -> AppResult<Vec<CatalogEntry>> {
    let groups = engine::memberships(store, me).await?;
    build(store, Some(&groups)).await
}

/// Entry `entry_id` of the catalog user `me` sees.
pub async fn my_entry(store: &Store, me: &str, entry_id: &str) -> AppResult<CatalogEntry> {
    find(mine(store, me).await?, entry_id)
}

/// The users the caller, user `me`, may request entry `entry_id` for: themselves (on-behalf-of
/// requests go through the admin API in Steward).
pub async fn my_entry_users(store: &Store, me: &str, entry_id: &str) -> AppResult<Vec<User>> {
    my_entry(store, me, entry_id).await?;
    Ok(vec![active_user(store, me).await?])
}

fn find(entries: Vec<CatalogEntry>, entry_id: &str) -> AppResult<CatalogEntry> {
    entries
        .into_iter()
        .find(|e| e.id == entry_id)
        .ok_or_else(|| AppError::NotFound(format!("{entry_id} (CatalogEntry)")))
}

/// User `id`, if ACTIVE (else 404).
pub async fn active_user(store: &Store, id: &str) -> AppResult<User> {
    match store.user(id).await {
        Ok(u) if u.status == UserStatus::Active => Ok(u),
        Ok(_) | Err(StoreError::NotFound) => Err(AppError::NotFound(format!("{id} (User)"))),
        Err(e) => Err(e.into()),
    }
}

/// What a catalog list asks for: `filter` (required: `not(parent pr)` or `parent eq "cen…"`),
/// `match` (a case-blind substring of the name), the cursor and the page size.
#[derive(Debug, Clone)]
pub struct EntryQuery {
    pub filter: Filter,
    pub match_text: Option<String>,
    pub after: Option<String>,
    pub limit: usize,
}

/// One page of `entries` for `q`, with the next page's cursor. An `after` that names no entry
/// of the matches is an invalid cursor.
pub fn page(entries: Vec<CatalogEntry>, q: &EntryQuery) -> AppResult<Page<CatalogEntry>> {
    let needle = q.match_text.as_deref().map(str::to_lowercase);
    let mut matched: Vec<CatalogEntry> = entries
        .into_iter()
        .filter(|e| {
            let v = serde_json::to_value(e).unwrap_or_default();
            q.filter.matches(&v)
                && needle
                    .as_deref()
                    .is_none_or(|n| e.name.to_lowercase().contains(n))
        })
        .collect();
    if let Some(after) = &q.after {
        match matched.iter().position(|e| &e.id == after) {
            Some(i) => matched.drain(..=i).for_each(drop),
            None => return Err(StoreError::InvalidCursor.into()),
        }
    }
    Ok(Page::of(matched, q.limit, |e| e.id.clone()))
}

/// A field a request must answer (Okta's `request-field`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestField {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub required: bool,
    pub label: String,
    pub maximum_value: String,
}

/// The fields a request for entry `entry_id` by active user `user_id` must answer (another
/// user: 404).
pub async fn user_request_fields(
    store: &Store,
    entry_id: &str,
    user_id: &str,
) -> AppResult<Vec<RequestField>> {
    let user = active_user(store, user_id).await?;
    request_fields(store, entry_id, &user.id).await
}

/// The fields a request for entry `entry_id` by user `user_id` must answer: the access duration
/// when the matching condition lets the requester choose it. An entry the user may not request
/// is 404.
pub async fn request_fields(
    store: &Store,
    entry_id: &str,
    user_id: &str,
) -> AppResult<Vec<RequestField>> {
    let groups = engine::memberships(store, user_id).await?;
    let entries = build(store, Some(&groups)).await?;
    let not_found = || AppError::NotFound(format!("{entry_id} (CatalogEntry)"));
    let entry = entries
        .iter()
        .find(|e| e.id == entry_id && e.requestable)
        .ok_or_else(not_found)?;
    let Some(requested) = &entry.requested else {
        return Err(not_found());
    };
    let conditions = store
        .access_requests()
        .conditions(&requested.resource_id)
        .await?;
    let mut fields = vec![];
    if let Ok(c) = match_condition(&conditions, requested, &groups) {
        if let Some(AccessDurationSettings::RequesterSpecifiedDuration { maximum_duration }) =
            &c.access_duration_settings
        {
            fields.push(RequestField {
                id: DURATION_FIELD_IDS[0].into(),
                kind: "DURATION".into(),
                required: true,
                label: "Access duration".into(),
                maximum_value: maximum_duration.clone(),
            });
        }
    }
    Ok(fields)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use steward_core::access_requests::conditions::{IdRef, RequesterSettings};
    use steward_core::filter;

    use super::*;
    use crate::governance::conditions::{self, tests as fixture};
    use crate::testing;
    use crate::Ctx;

    /// Two apps, each with an ACTIVE condition for a group (the second only for members of
    /// "Engineers", with a duration the requester chooses), and a member of "Engineers".
    /// Returns the store, the two groups and the member.
    async fn two_apps() -> (Store, Vec<String>, User) {
        let (store, app_id, group_id, seq_id) = fixture::resource_with_sequence().await;
        let ctx = Ctx::system(&store);
        let second_app = testing::app(&store, "Ledger").await;
        let second_group = testing::group(&store, "Ledger users").await;
        let engineers = testing::group(&store, "Engineers").await;
        let member = testing::user(&store, "eng@example.com", UserStatus::Active, true).await;
        testing::add_member(&store, &engineers.id, &member.id).await;
        let mut for_engineers = fixture::for_group("Ledger", &second_group.id, &seq_id);
        for_engineers.requester_settings = Some(RequesterSettings::Groups {
            groups: vec![IdRef { id: engineers.id }],
        });
        for_engineers.access_duration_settings =
            Some(AccessDurationSettings::RequesterSpecifiedDuration {
                maximum_duration: "P7D".into(),
            });
        for (app, create) in [
            (app_id, fixture::for_group("Payroll", &group_id, &seq_id)),
            (second_app.id, for_engineers),
        ] {
            let (_, c) = conditions::create(&ctx, &app, Ok(create)).await.unwrap();
            conditions::set_status(&ctx, &app, &c.id, true)
                .await
                .unwrap();
        }
        (store, vec![group_id, second_group.id], member)
    }

    fn names(entries: &[CatalogEntry]) -> Vec<&str> {
        let mut names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn the_catalog_names_apps_and_groups_and_follows_who_asks() {
        let (store, groups, member) = two_apps().await;
        let outsider = testing::user(&store, "out@example.com", UserStatus::Active, true).await;

        let all = entries(&store).await.unwrap();
        let members = for_user(&store, &member.id).await.unwrap();
        let outsiders = mine(&store, &outsider.id).await.unwrap();

        assert_eq!(
            names(&all),
            ["Ledger", "Ledger users", "Payroll", "Payroll users"]
        );
        assert_eq!(names(&members), names(&all));
        assert_eq!(names(&outsiders), ["Payroll", "Payroll users"]);
        let ledger = all
            .iter()
            .find(|e| e.name == "Ledger users")
            .expect("the group's entry");
        assert_eq!(
            ledger
                .requested
                .as_ref()
                .map(|r| r.access_scope_id.as_str()),
            Some(groups[1].as_str())
        );
    }

    #[tokio::test]
    async fn pages_follow_the_filter_the_match_and_the_cursor() {
        let (store, _, _) = two_apps().await;
        let all = entries(&store).await.unwrap();
        let query = |filter: &str, match_text: Option<&str>, after: Option<String>| EntryQuery {
            filter: filter::parse(filter).unwrap(),
            match_text: match_text.map(str::to_string),
            after,
            limit: 1,
        };

        let first = page(all.clone(), &query("not(parent pr)", None, None)).unwrap();
        let next = first.next.clone().expect("a second page");
        let second = page(all.clone(), &query("not(parent pr)", None, Some(next))).unwrap();
        let matched = page(all.clone(), &query("parent pr", Some("LEDGER"), None)).unwrap();
        let bad_cursor = page(all, &query("not(parent pr)", None, Some("cenNope".into())));

        assert_eq!(names(&first.items).len(), 1);
        assert_eq!(second.items.len(), 1);
        assert_ne!(first.items[0].id, second.items[0].id);
        assert!(second.next.is_none());
        assert_eq!(names(&matched.items), ["Ledger users"]);
        assert!(
            matches!(bad_cursor, Err(AppError::Store(StoreError::InvalidCursor))),
            "{bad_cursor:?}"
        );
    }

    #[tokio::test]
    async fn request_fields_ask_for_the_duration_the_requester_chooses() {
        let (store, _, member) = two_apps().await;
        let all = entries(&store).await.unwrap();
        let entry = |name: &str| all.iter().find(|e| e.name == name).unwrap().id.clone();

        let chosen = request_fields(&store, &entry("Ledger users"), &member.id)
            .await
            .unwrap();
        let fixed = request_fields(&store, &entry("Payroll users"), &member.id)
            .await
            .unwrap();
        let parent = request_fields(&store, &entry("Ledger"), &member.id).await;

        assert_eq!(chosen.len(), 1);
        assert_eq!(
            (chosen[0].kind.as_str(), chosen[0].maximum_value.as_str()),
            ("DURATION", "P7D")
        );
        assert!(fixed.is_empty());
        assert!(matches!(parent, Err(AppError::NotFound(_))), "{parent:?}");
    }

    #[tokio::test]
    async fn an_inactive_user_has_no_catalog() {
        let (store, _, _) = two_apps().await;
        let staged = testing::user(&store, "new@example.com", UserStatus::Staged, false).await;

        let missing = for_user(&store, &staged.id).await;

        assert!(
            matches!(missing, Err(AppError::NotFound(ref w)) if w.ends_with("(User)")),
            "{missing:?}"
        );
    }
}
