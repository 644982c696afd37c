//! Groups and their members: create, replace, delete, add and remove a member. The HTTP API,
//! and next the workflow engine's Okta connector cards, call these.

use serde_json::{Map, Value};
use steward_core::directory::{self, Group, User, GROUP_TYPE_OKTA};
use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, IdKind};
use steward_core::syslog::Target;
use steward_core::validation::ValidationError;
use steward_store::AccessRemoved;

use crate::{AppError, AppResult, Ctx};

/// Built-in groups (Everyone) are managed by Steward: their profile and members follow the org.
pub fn refuse_built_in(group: &Group) -> AppResult<()> {
    if group.is_built_in() {
        let cause = format!(
            "type: {} is a BUILT_IN group; its profile and members cannot be changed",
            group.name()
        );
        return Err(ValidationError::new("type", cause).into());
    }
    Ok(())
}

/// The group `id`, or `NotFound` naming it.
pub async fn find(ctx: &Ctx<'_>, id: &str) -> AppResult<Group> {
    ctx.store
        .group(id)
        .await
        .map_err(AppError::not_found_as(format!("{id} (UserGroup)")))
}

/// Creates an OKTA_GROUP with `profile`, recorded as `group.created`.
pub async fn create(ctx: &Ctx<'_>, profile: Map<String, Value>) -> AppResult<Group> {
    directory::validate_group_profile(&profile)?;
    let group = Group {
        id: new_id(IdKind::Group),
        group_type: GROUP_TYPE_OKTA.into(),
        created: ctx.now,
        last_updated: ctx.now,
        last_membership_updated: ctx.now,
        profile,
    };
    let mut tx = ctx.begin().await?;
    tx.insert_group(&group).await?;
    tx.record(
        DomainEvent::GroupCreated {
            group_id: group.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::group(&group)],
    )
    .await?;
    tx.commit().await?;
    Ok(group)
}

/// Replaces the profile of group `id` (not a built-in one), recorded as `group.updated`.
pub async fn replace(ctx: &Ctx<'_>, id: &str, profile: Map<String, Value>) -> AppResult<Group> {
    directory::validate_group_profile(&profile)?;
    let mut group = find(ctx, id).await?;
    refuse_built_in(&group)?;
    group.profile = profile;
    group.last_updated = ctx.now;
    let mut tx = ctx.begin().await?;
    tx.update_group(&group).await?;
    tx.record(
        DomainEvent::GroupUpdated {
            group_id: group.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::group(&group)],
    )
    .await?;
    tx.commit().await?;
    Ok(group)
}

/// Deletes group `id` (not a built-in one), recorded as `group.deleted`. Its members' tokens for
/// apps it was assigned to may be revoked: callers that cache revocations refresh them.
pub async fn delete(ctx: &Ctx<'_>, id: &str) -> AppResult<Group> {
    let group = find(ctx, id).await?;
    refuse_built_in(&group)?;
    let mut tx = ctx.begin().await?;
    tx.delete_group(&group.id).await?;
    tx.record(
        DomainEvent::GroupDeleted {
            group_id: group.id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::group(&group)],
    )
    .await?;
    tx.commit().await?;
    Ok(group)
}

/// Adds `user` to `group` (not a built-in one); whether they were not a member already (only
/// then is `group.membership_added` recorded). A group or user deleted meanwhile is NotFound.
pub async fn add_member(ctx: &Ctx<'_>, group: &Group, user: &User) -> AppResult<bool> {
    refuse_built_in(group)?;
    let mut tx = ctx.begin().await?;
    let added = tx.add_member(&group.id, &user.id, ctx.now).await?;
    if added {
        tx.record(
            DomainEvent::GroupMembershipAdded {
                group_id: group.id.clone(),
                user_id: user.id.clone(),
                access_request_id: None,
                actor: ctx.actor.clone(),
            },
            &[Target::user(user), Target::group(group)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// Removes `user` from `group` (not a built-in one), revoking the tokens the membership gave
/// them; how many were revoked (callers that cache revocations refresh them when any were).
pub async fn remove_member(ctx: &Ctx<'_>, group: &Group, user: &User) -> AppResult<u64> {
    refuse_built_in(group)?;
    let mut tx = ctx.begin().await?;
    let mut revoked = 0;
    if tx.remove_member(&group.id, &user.id, ctx.now).await? {
        revoked = tx
            .revoke_unassigned_tokens(AccessRemoved::GroupMember {
                group_id: &group.id,
                user_id: &user.id,
            })
            .await?;
        tx.record(
            DomainEvent::GroupMembershipRemoved {
                group_id: group.id.clone(),
                user_id: user.id.clone(),
                access_request_id: None,
                actor: ctx.actor.clone(),
            },
            &[Target::user(user), Target::group(group)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;
    use steward_core::directory::UserStatus;

    use super::*;
    use crate::testing::{self, log_types, outbox_types};

    fn profile(name: &str) -> Map<String, Value> {
        json!({ "name": name }).as_object().unwrap().clone()
    }

    #[tokio::test]
    async fn membership_changes_are_recorded_once_and_built_in_groups_refused() {
        let store = testing::org().await;
        let ctx = Ctx::system(&store);
        let user = testing::user(&store, "pat@example.com", UserStatus::Active, true).await;
        let group = create(&ctx, profile("Engineering")).await.unwrap();

        assert!(add_member(&ctx, &group, &user).await.unwrap());
        assert!(
            !add_member(&ctx, &group, &user).await.unwrap(),
            "already a member"
        );
        assert_eq!(remove_member(&ctx, &group, &user).await.unwrap(), 0);

        let logged = log_types(&store).await;
        let adds = logged.iter().filter(|t| *t == "group.user_membership.add");
        assert_eq!(adds.count(), 1);
        assert_eq!(logged.last().unwrap(), "group.user_membership.remove");
        let events = outbox_types(&store, 0).await;
        assert!(events.ends_with(&[
            "group.created".to_string(),
            "group.membership_added".to_string(),
            "group.membership_removed".to_string(),
        ]));

        let everyone = store.everyone_group().await.unwrap();
        let refused = add_member(&ctx, &everyone, &user).await.unwrap_err();
        assert!(matches!(refused, AppError::Validation(_)), "{refused:?}");
        let refused = replace(&ctx, &everyone.id, profile("All"))
            .await
            .unwrap_err();
        assert!(matches!(refused, AppError::Validation(_)), "{refused:?}");
        assert_eq!(
            outbox_types(&store, 0).await,
            events,
            "a refusal records nothing"
        );
    }

    #[tokio::test]
    async fn a_deleted_group_is_logged_by_its_name_and_is_gone() {
        let store = testing::org().await;
        let ctx = Ctx::system(&store);
        let group = create(&ctx, profile("Temporary")).await.unwrap();
        delete(&ctx, &group.id).await.unwrap();
        assert!(matches!(
            find(&ctx, &group.id).await,
            Err(AppError::NotFound(_))
        ));
        let page = store
            .log_events(&steward_store::LogQuery {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let last = page.events.last().unwrap();
        assert_eq!(last["eventType"], "group.lifecycle.delete");
        assert_eq!(last["target"][0]["displayName"], "Temporary");
    }
}
