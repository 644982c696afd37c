//! Access Requests v2: request conditions, sequences, settings, catalogs, requests and tasks,
//! admin (`/governance/api/v2/…`) and end-user (`/governance/api/v2/my/…`).

mod catalog;
mod conditions;
mod requests;
mod sequences;
mod settings;
mod tasks;

use crate::error::{ApiError, ApiResult};
use crate::guard::Credential;
use crate::http::Caller;
use serde::Deserialize;
use serde_json::Value;
use steward_core::access_requests::{from_body, Principal};
use steward_core::filter::Filter;

pub(crate) use requests::new_message;

const V2: &str = "/governance/api/v2";
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListParams {
    filter: Option<String>,
    after: Option<String>,
    limit: Option<String>,
    #[serde(rename = "match")]
    match_text: Option<String>,
}

/// An optional JSON body: empty is `None`; malformed is `E0000003`.
fn optional_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<Option<T>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(from_body(&v)?))
}

/// A governance list's `filter` (SCIM).
fn parse_filter(text: Option<&str>) -> ApiResult<Option<Filter>> {
    crate::http::scim_filter(text, None)
}

/// The id that acts: the caller's user, else the service app's client id.
pub(crate) fn actor_id(caller: &Caller) -> String {
    match (&caller.principal.user, &caller.principal.credential) {
        (Some(u), _) => u.id.clone(),
        (None, Credential::AccessToken { client_id, .. }) => client_id.clone(),
        (None, _) => caller.actor().id,
    }
}

/// The caller as a typed principal (`requestedBy`, and the decider of a task): the user it acts
/// as (a user's own token, or an SSWS token, which acts as its admin), else the service app
/// (client credentials, by client id; `UNKNOWN` in Okta's principal shape).
pub(crate) fn caller_principal(caller: &Caller) -> Principal {
    match &caller.principal.user {
        Some(u) => Principal::user(&u.id),
        None => Principal::client(&actor_id(caller)),
    }
}

/// The user of a `my` call (the guard admits only user tokens there).
fn my_user_id(caller: &Caller) -> ApiResult<String> {
    caller
        .principal
        .user
        .as_ref()
        .map(|u| u.id.clone())
        .ok_or(ApiError::Forbidden)
}

/// The Access Requests v2 routes (admin and `my`), by family.
pub(super) fn routes() -> crate::routes::Routes {
    use crate::routes::{my, need, Need, Routes};
    use steward_core::roles::Permission::{AccessRequestsManage, AccessRequestsRead};
    const V2: &str = "/governance/api/v2";
    const CONDITION_READ: Need = need("okta.accessRequests.condition.read", AccessRequestsRead);
    const CONDITION_MANAGE: Need =
        need("okta.accessRequests.condition.manage", AccessRequestsManage);
    const REQUEST_READ: Need = need("okta.accessRequests.request.read", AccessRequestsRead);
    const REQUEST_MANAGE: Need = need("okta.accessRequests.request.manage", AccessRequestsManage);
    const CATALOG_READ: Need = need("okta.accessRequests.catalog.read", AccessRequestsRead);
    const TASKS_READ: Need = need("okta.accessRequests.tasks.read", AccessRequestsRead);
    const TASKS_MANAGE: Need = need("okta.accessRequests.tasks.manage", AccessRequestsManage);
    let conditions = Routes::under("Request conditions", V2)
        .get(
            "/resources/{resourceId}/request-conditions",
            CONDITION_READ,
            conditions::list_conditions,
        )
        .post(
            "/resources/{resourceId}/request-conditions",
            CONDITION_MANAGE,
            conditions::create_condition,
        )
        .get(
            "/resources/{resourceId}/request-conditions/{requestConditionId}",
            CONDITION_READ,
            conditions::get_condition,
        )
        .patch(
            "/resources/{resourceId}/request-conditions/{requestConditionId}",
            CONDITION_MANAGE,
            conditions::update_condition,
        )
        .delete(
            "/resources/{resourceId}/request-conditions/{requestConditionId}",
            CONDITION_MANAGE,
            conditions::delete_condition,
        )
        .post(
            "/resources/{resourceId}/request-conditions/{requestConditionId}/activate",
            CONDITION_MANAGE,
            conditions::activate_condition,
        )
        .post(
            "/resources/{resourceId}/request-conditions/{requestConditionId}/deactivate",
            CONDITION_MANAGE,
            conditions::deactivate_condition,
        );
    let settings = Routes::under("Request settings", V2)
        .get(
            "/resources/{resourceId}/request-settings",
            CONDITION_READ,
            settings::get_resource_settings,
        )
        .patch(
            "/resources/{resourceId}/request-settings",
            CONDITION_MANAGE,
            settings::update_resource_settings,
        )
        .get(
            "/request-settings",
            CONDITION_READ,
            settings::get_org_settings,
        )
        .patch(
            "/request-settings",
            CONDITION_MANAGE,
            settings::update_org_settings,
        );
    let sequences = Routes::under("Request sequences", V2)
        .get(
            "/resources/{resourceId}/request-sequences",
            CONDITION_READ,
            sequences::list_resource_sequences,
        )
        .get(
            "/resources/{resourceId}/request-sequences/{sequenceId}",
            CONDITION_READ,
            sequences::get_resource_sequence,
        )
        .get(
            "/request-sequences",
            CONDITION_READ,
            sequences::list_sequences,
        )
        .post(
            "/request-sequences",
            CONDITION_MANAGE,
            sequences::create_sequence,
        )
        .get(
            "/request-sequences/{sequenceId}",
            CONDITION_READ,
            sequences::get_sequence,
        )
        .put(
            "/request-sequences/{sequenceId}",
            CONDITION_MANAGE,
            sequences::replace_sequence,
        )
        .delete(
            "/request-sequences/{sequenceId}",
            CONDITION_MANAGE,
            sequences::delete_sequence,
        );
    let requests = Routes::under("Requests (v2)", V2)
        .get("/requests", REQUEST_READ, requests::list_requests)
        .post("/requests", REQUEST_MANAGE, requests::create_request)
        .get("/requests/{requestId}", REQUEST_READ, requests::get_request)
        .post(
            "/requests/{requestId}/messages",
            REQUEST_MANAGE,
            requests::create_request_message,
        );
    let catalog = Routes::under("Catalog", V2)
        .get(
            "/catalogs/default/entries",
            CATALOG_READ,
            catalog::list_entries,
        )
        .get(
            "/catalogs/default/entries/{entryId}",
            CATALOG_READ,
            catalog::get_entry,
        )
        .get(
            "/catalogs/default/user/{userId}/entries",
            CATALOG_READ,
            catalog::list_user_entries,
        )
        .get(
            "/catalogs/default/entries/{entryId}/users/{userId}/request-fields",
            REQUEST_READ,
            catalog::entry_request_fields,
        );
    let tasks = Routes::under("Tasks", V2)
        .get("/tasks", TASKS_READ, tasks::list_tasks)
        .get("/tasks/{taskId}", TASKS_READ, tasks::get_task)
        .patch("/tasks/{taskId}", TASKS_MANAGE, tasks::update_task)
        .post("/tasks/{taskId}/resolve", TASKS_MANAGE, tasks::resolve_task);
    let my_catalog = Routes::under("My catalog and requests", V2)
        .get(
            "/my/catalogs/default/entries",
            my("okta.accessRequests.catalog.read"),
            catalog::my_list_entries,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}",
            my("okta.accessRequests.catalog.read"),
            catalog::my_get_entry,
        )
        .post(
            "/my/catalogs/default/entries/{entryId}/requests",
            my("okta.accessRequests.request.manage"),
            requests::my_create_request,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}/requests/{requestId}",
            my("okta.accessRequests.request.read"),
            requests::my_get_request,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}/request-fields",
            my("okta.accessRequests.request.read"),
            catalog::my_request_fields,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}/users",
            my("okta.accessRequests.catalog.read"),
            catalog::my_entry_users,
        )
        .get(
            "/my/catalogs/default/entries/{entryId}/users/{userId}/request-fields",
            my("okta.accessRequests.catalog.read"),
            catalog::my_user_request_fields,
        );
    let my_tasks = Routes::under("My tasks", V2)
        .get(
            "/my/tasks",
            my("okta.accessRequests.tasks.read"),
            tasks::my_list_tasks,
        )
        .get(
            "/my/tasks/{taskId}",
            my("okta.accessRequests.tasks.read"),
            tasks::my_get_task,
        )
        .post(
            "/my/tasks/{taskId}/resolve",
            my("okta.accessRequests.tasks.manage"),
            tasks::my_resolve_task,
        );
    conditions
        .merge(settings)
        .merge(sequences)
        .merge(requests)
        .merge(catalog)
        .merge(tasks)
        .merge(my_catalog)
        .merge(my_tasks)
}
