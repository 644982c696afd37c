//! Who decides a step: the step's approver resolved against the directory, without the
//! requester (nobody approves their own request), else the step's fallback.

pub use super::model::Directory;
use super::model::{AccessScopeType, ApprovalStep, Approver, RequestParties};
use super::{Principal, RuleError};

/// The assignees of `step` for `request`: active users, first-seen order, never the requester
/// (`requestedFor`, nor `requestedBy` when it is a user). When nobody is left the fallback is
/// tried the same way; when still nobody is left the step cannot be assigned.
pub fn resolve_assignees(
    step: &ApprovalStep,
    request: &dyn RequestParties,
    directory: &dyn Directory,
) -> Result<Vec<String>, RuleError> {
    let eligible = |approver: &Approver| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in candidates(approver, request, directory) {
            if !request.is_requester(&Principal::user(&id))
                && directory.user_is_active(&id)
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
        out
    };
    let assignees = eligible(&step.approver);
    if !assignees.is_empty() {
        return Ok(assignees);
    }
    match step.fallback.as_ref().map(eligible) {
        Some(fallback) if !fallback.is_empty() => Ok(fallback),
        _ => Err(RuleError::refused(
            "Task assignment failed",
            "No eligible approver for this step: the approver and the fallback resolve to nobody \
             but the requester.",
        )),
    }
}

fn candidates(
    approver: &Approver,
    request: &dyn RequestParties,
    directory: &dyn Directory,
) -> Vec<String> {
    match approver {
        Approver::RequesterManager => directory
            .manager_of(request.requested_for_id())
            .into_iter()
            .collect(),
        Approver::User { id } => vec![id.clone()],
        Approver::Group { id } => directory.group_members(id),
        Approver::ResourceOwner => {
            // The owners of the requested group or bundle, else of the resource itself.
            let requested = request.requested();
            let scope_owners = match requested.access_scope_type {
                AccessScopeType::Group | AccessScopeType::EntitlementBundle => {
                    directory.resource_owners(&requested.access_scope_id)
                }
                AccessScopeType::Application | AccessScopeType::RequestType => vec![],
            };
            if scope_owners.is_empty() {
                directory.resource_owners(&requested.resource_id)
            } else {
                scope_owners
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::access_requests::testkit::FakeDirectory;
    use crate::access_requests::workflow::tests::new_request;

    fn step(approver: Approver, fallback: Option<Approver>) -> ApprovalStep {
        ApprovalStep {
            approver,
            fallback,
            label: None,
        }
    }

    fn user(id: &str) -> Approver {
        Approver::User { id: id.into() }
    }

    #[test]
    fn each_approver_kind_resolves_against_the_directory() {
        let dir = FakeDirectory::default()
            .manager("00ualice0000000000a1", "00umanager000000000a")
            .group(
                "00gapprovers0000000a",
                &["00ubob00000000000000", "00ucarol000000000000"],
            )
            .owners("0oaapp00000000000000", &["00uowner000000000000"]);
        let wf = new_request("00ualice0000000000a1");
        let r = &wf.request;
        let resolve = |a: Approver| resolve_assignees(&step(a, None), r, &dir).unwrap();
        assert_eq!(
            resolve(Approver::RequesterManager),
            ["00umanager000000000a"]
        );
        assert_eq!(
            resolve(user("00ubob00000000000000")),
            ["00ubob00000000000000"]
        );
        assert_eq!(
            resolve(Approver::Group {
                id: "00gapprovers0000000a".into()
            }),
            ["00ubob00000000000000", "00ucarol000000000000"]
        );
        assert_eq!(resolve(Approver::ResourceOwner), ["00uowner000000000000"]);
    }

    #[test]
    fn the_requester_is_dropped_and_the_fallback_used() {
        // Alice is in the approvers group with Dave, who is deactivated: nobody is left.
        let dir = FakeDirectory::default()
            .group(
                "00gapprovers0000000a",
                &["00ualice0000000000a1", "00udave0000000000000"],
            )
            .deactivate("00udave0000000000000");
        let wf = new_request("00ualice0000000000a1");
        let group = Approver::Group {
            id: "00gapprovers0000000a".into(),
        };
        let with_fallback = step(group.clone(), Some(user("00ufallback000000000")));
        assert_eq!(
            resolve_assignees(&with_fallback, &wf.request, &dir).unwrap(),
            ["00ufallback000000000"]
        );
        // A user approver who is the requester also goes to the fallback.
        let own = step(
            user("00ualice0000000000a1"),
            Some(user("00ufallback000000000")),
        );
        assert_eq!(
            resolve_assignees(&own, &wf.request, &dir).unwrap(),
            ["00ufallback000000000"]
        );
        // No fallback, or a fallback that is the requester too: the step cannot be assigned.
        assert!(matches!(
            resolve_assignees(&step(group.clone(), None), &wf.request, &dir),
            Err(RuleError::Refused(_))
        ));
        let useless = step(group, Some(user("00ualice0000000000a1")));
        assert!(resolve_assignees(&useless, &wf.request, &dir).is_err());
        // Nobody has a manager here.
        assert!(
            resolve_assignees(&step(Approver::RequesterManager, None), &wf.request, &dir).is_err()
        );
    }
}
