//! Rules about admin roles that several use cases share.

use steward_core::roles::RoleType;
use steward_store::{PrincipalType, WriteTx};

use crate::{AppError, AppResult};

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
