//! Rules about admin roles that several use cases share.

use steward_core::events::DomainEvent;
use steward_core::ids::{new_id, IdKind};
use steward_core::roles::RoleType;
use steward_core::syslog::{Actor, Target};
use steward_core::validation::ValidationError;
use steward_store::{PrincipalType, RoleAssignment, StoreError, WriteTx};

use crate::{AppError, AppResult, Ctx};

/// Refuses ([`AppError::LastSuperAdmin`]) a change that takes the principal out of the org's
/// acting Super Admins when no other one would be left. Called inside the transaction that
/// makes the change, before the change: on PostgreSQL it serialises with every other such change
/// (see `WriteTx::lock_acting_super_admins`), so two concurrent demotions cannot both pass. A
/// principal that holds no SUPER_ADMIN, or no longer acts, is never refused.
pub async fn keep_a_super_admin(
    tx: &mut WriteTx,
    kind: PrincipalType,
    principal_id: &str,
) -> AppResult<()> {
    if !tx
        .holds_role(kind, principal_id, RoleType::SuperAdmin)
        .await?
    {
        return Ok(());
    }
    let acting = tx.lock_acting_super_admins().await?;
    let is = |(k, id): &(PrincipalType, String)| *k == kind && id == principal_id;
    if acting.iter().any(is) && acting.iter().all(is) {
        return Err(AppError::LastSuperAdmin);
    }
    Ok(())
}

/// The domain event of `role` assigned to (or taken from) a user or a client (by app id).
fn roles_changed(
    actor: &Actor,
    kind: PrincipalType,
    principal_id: &str,
    role: RoleType,
    assigned: bool,
) -> DomainEvent {
    let role = role.as_str().to_string();
    let actor = actor.clone();
    match kind {
        PrincipalType::User => DomainEvent::UserRolesChanged {
            user_id: principal_id.into(),
            role,
            assigned,
            actor,
        },
        PrincipalType::Client => DomainEvent::ClientRolesChanged {
            app_id: principal_id.into(),
            role,
            assigned,
            actor,
        },
    }
}

/// Assigns admin role `role` to a user or a client (`principal_id`: the user's or the app's
/// id; `subject` names it in the System Log). A role held already is refused.
pub async fn assign(
    ctx: &Ctx<'_>,
    kind: PrincipalType,
    principal_id: &str,
    subject: Target,
    role: RoleType,
) -> AppResult<RoleAssignment> {
    let assignment = RoleAssignment {
        id: new_id(IdKind::RoleAssignment),
        principal_type: kind,
        principal_id: principal_id.to_string(),
        role_type: role,
        created: ctx.now,
        last_updated: ctx.now,
    };
    let mut tx = ctx.begin().await?;
    tx.insert_role_assignment(&assignment)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::Validation(ValidationError::new(
                "type",
                format!("type: The role {} is already assigned", role.as_str()),
            )),
            other => other.into(),
        })?;
    tx.record(
        roles_changed(&ctx.actor, kind, principal_id, role, true),
        &[subject],
    )
    .await?;
    tx.commit().await?;
    Ok(assignment)
}

/// Takes the role assignment `role_id` (its id or role type) from the principal; the last
/// acting Super Admin keeps theirs ([`AppError::LastSuperAdmin`]).
pub async fn unassign(
    ctx: &Ctx<'_>,
    kind: PrincipalType,
    principal_id: &str,
    subject: Target,
    role_id: &str,
) -> AppResult<RoleAssignment> {
    let mut tx = ctx.begin().await?;
    let held = tx.role_assignment(kind, principal_id, role_id).await?;
    if held.as_ref().map(|a| a.role_type) == Some(RoleType::SuperAdmin) {
        keep_a_super_admin(&mut tx, kind, principal_id).await?;
    }
    let removed = tx
        .delete_role_assignment(kind, principal_id, role_id)
        .await
        .map_err(AppError::not_found_as(format!("{role_id} (Role)")))?;
    tx.record(
        roles_changed(&ctx.actor, kind, principal_id, removed.role_type, false),
        &[subject],
    )
    .await?;
    tx.commit().await?;
    Ok(removed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use steward_core::directory::UserStatus;

    use super::*;
    use crate::testing::{self, log_types};

    #[tokio::test]
    async fn a_role_is_assigned_once_and_the_last_super_admin_keeps_theirs() {
        let store = testing::org().await;
        let ctx = Ctx::system(&store);
        let admin = testing::admin(&store).await;
        let pat = testing::user(&store, "pat@example.com", UserStatus::Active, true).await;
        let kind = PrincipalType::User;
        let given = assign(&ctx, kind, &pat.id, Target::user(&pat), RoleType::OrgAdmin)
            .await
            .unwrap();
        let again = assign(&ctx, kind, &pat.id, Target::user(&pat), RoleType::OrgAdmin).await;
        assert!(matches!(again, Err(AppError::Validation(_))), "{again:?}");
        let logged = log_types(&store).await;
        assert_eq!(logged.last().unwrap(), "user.account.privilege.grant");

        unassign(&ctx, kind, &pat.id, Target::user(&pat), &given.id)
            .await
            .unwrap();
        assert_eq!(
            log_types(&store).await.last().unwrap(),
            "user.account.privilege.revoke"
        );
        let held = store.role_assignments(kind, &admin.id).await.unwrap();
        let super_admin = held
            .iter()
            .find(|a| a.role_type == RoleType::SuperAdmin)
            .unwrap();
        let last = unassign(&ctx, kind, &admin.id, Target::user(&admin), &super_admin.id).await;
        assert!(matches!(last, Err(AppError::LastSuperAdmin)), "{last:?}");
    }
}
