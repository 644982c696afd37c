//! What the Admin Console's requests inbox and the end-user dashboard both show of an access
//! request: its status in words, its summary (what, for whom, how long) and its **history**
//! (submitted, each approval step and who it waits for, each decision, comments, the outcome,
//! the grant and its end), rendered by `my_history.html`.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use steward_core::access_requests::duration::AccessDuration;
use steward_core::access_requests::workflow::{AccessScopeType, RequestStatus, TaskStatus};
use steward_core::access_requests::RequestWorkflow;
use steward_core::timefmt::{format_millis, parse_rfc3339_millis};
use steward_store::StoreError;

use crate::Console;

/// The names a request's page shows and its history, read once: the request's messages, its
/// people (requester, assignees, deciders, the messages' authors), app and group.
pub(crate) async fn load(
    console: &Console,
    wf: &RequestWorkflow,
) -> Result<(Names, Vec<Value>), StoreError> {
    let messages = console
        .api
        .store
        .access_requests()
        .messages(&wf.request.id)
        .await?;
    let authors: Vec<String> = messages
        .iter()
        .filter_map(|m| m["createdBy"].as_str().map(str::to_string))
        .collect();
    let names = Names::load(console, &[wf], &authors).await?;
    let items = history(wf, &messages, &names);
    Ok((names, items))
}

/// A time as people read it (UTC, to the minute), and its machine form for `<time>`.
pub(crate) fn when(ms: i64) -> Value {
    let iso = format_millis(ms);
    let shown = format!("{} UTC", iso.get(..16).unwrap_or(&iso).replace('T', " "));
    json!({"iso": iso, "shown": shown})
}

/// `P7D` as "7 days", `PT4H` as "4 hours", `P2W` as "2 weeks".
pub(crate) fn duration_label(iso: &str) -> String {
    use steward_core::access_requests::duration::DurationUnit;
    let Some(d) = AccessDuration::parse(iso) else {
        return iso.to_string();
    };
    let unit = match d.unit {
        DurationUnit::Minutes => "minute",
        DurationUnit::Hours => "hour",
        DurationUnit::Days => "day",
        DurationUnit::Weeks => "week",
    };
    let plural = if d.amount == 1 { "" } else { "s" };
    format!("{} {unit}{plural}", d.amount)
}

pub(crate) fn status_class(status: &str) -> String {
    status.to_lowercase().replace('_', "-")
}

/// What people call the statuses.
pub(crate) fn request_status_label(wf: &RequestWorkflow) -> &'static str {
    let r = &wf.request;
    match (r.status, r.grant_status, r.revocation_status) {
        (_, _, Some(steward_core::access_requests::workflow::RevocationStatus::Revoked)) => {
            "Access ended"
        }
        (
            RequestStatus::Approved,
            Some(steward_core::access_requests::workflow::GrantStatus::Granted),
            _,
        ) => "Granted",
        (
            RequestStatus::Approved,
            Some(steward_core::access_requests::workflow::GrantStatus::Failed),
            _,
        ) => "Approved, grant failed",
        (
            RequestStatus::Approved,
            Some(steward_core::access_requests::workflow::GrantStatus::ManualRequired),
            _,
        ) => "Approved, to be granted by hand",
        (RequestStatus::Approved, _, _) => "Approved",
        (RequestStatus::Submitted, _, _) => "Submitted",
        (RequestStatus::Pending, _, _) => "Pending approval",
        (RequestStatus::Rejected, _, _) => "Rejected",
        (RequestStatus::Denied, _, _) => "Denied",
        (RequestStatus::Canceled, _, _) => "Canceled",
        (RequestStatus::Expired, _, _) => "Expired",
    }
}

pub(crate) fn request_status_class(wf: &RequestWorkflow) -> &'static str {
    match request_status_label(wf) {
        "Granted" => "granted",
        "Approved" => "approved",
        "Submitted" | "Pending approval" => "pending",
        "Rejected" | "Denied" | "Approved, grant failed" => "denied",
        _ => "",
    }
}

/// Names of users, apps and groups that pages show, read once per page.
#[derive(Default)]
pub(crate) struct Names {
    users: HashMap<String, String>,
    apps: HashMap<String, String>,
    groups: HashMap<String, String>,
}

impl Names {
    pub(crate) async fn load(
        console: &Console,
        workflows: &[&RequestWorkflow],
        extra_users: &[String],
    ) -> Result<Names, StoreError> {
        let store = &console.api.store;
        let mut user_ids: HashSet<String> = extra_users.iter().cloned().collect();
        let mut app_ids: HashSet<String> = HashSet::new();
        let mut group_ids: HashSet<String> = HashSet::new();
        for wf in workflows {
            let r = &wf.request;
            user_ids.insert(r.requested_for.external_id.clone());
            user_ids.insert(r.requested_by.external_id.clone());
            for t in &wf.tasks {
                user_ids.extend(t.assignees.iter().map(|p| p.external_id.clone()));
                user_ids.extend(t.completed_by.iter().map(|p| p.external_id.clone()));
            }
            app_ids.insert(r.requested.resource_id.clone());
            if r.requested.access_scope_type == AccessScopeType::Group {
                group_ids.insert(r.requested.access_scope_id.clone());
            }
        }
        let mut names = Names::default();
        let user_ids: Vec<String> = user_ids.into_iter().collect();
        for u in store.users_by_ids(&user_ids).await? {
            names.users.insert(u.id.clone(), u.display_name());
        }
        let app_ids: Vec<String> = app_ids.into_iter().collect();
        for app in store.apps_by_ids(&app_ids).await? {
            names.apps.insert(app.id.clone(), app.label.clone());
        }
        let group_ids: Vec<String> = group_ids.into_iter().collect();
        for g in store.groups_by_ids(&group_ids).await? {
            names.groups.insert(g.id.clone(), g.name().to_string());
        }
        Ok(names)
    }

    pub(crate) fn user(&self, id: &str) -> String {
        self.users
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// "Payroll users (Payroll)", or the app's name for the app itself.
    pub(crate) fn what(&self, wf: &RequestWorkflow) -> (String, String) {
        let r = &wf.request.requested;
        let app = self
            .apps
            .get(&r.resource_id)
            .cloned()
            .unwrap_or_else(|| r.resource_id.clone());
        let scope = match r.access_scope_type {
            AccessScopeType::Application => app.clone(),
            AccessScopeType::Group => self
                .groups
                .get(&r.access_scope_id)
                .cloned()
                .unwrap_or_else(|| r.access_scope_id.clone()),
            _ => r.access_scope_id.clone(),
        };
        (scope, app)
    }
}

/// A request as a list row or a detail's summary.
pub(crate) fn request_json(wf: &RequestWorkflow, names: &Names) -> Value {
    let r = &wf.request;
    let (what, app) = names.what(wf);
    let kind = match r.requested.access_scope_type {
        AccessScopeType::Application => "Access to the app",
        AccessScopeType::Group => "Membership of the group",
        AccessScopeType::EntitlementBundle => "Entitlement bundle",
        AccessScopeType::RequestType => "Request type",
    };
    json!({
        "id": r.id,
        "what": what,
        "app": app,
        "kind": kind,
        "status": request_status_label(wf),
        "status_class": request_status_class(wf),
        "created": when(r.created),
        "requested_for": names.user(&r.requested_for.external_id),
        "requested_by": names.user(&r.requested_by.external_id),
        "duration": r.access_duration.as_deref().map(duration_label),
        "until": r.revocation_scheduled.map(when),
    })
}

/// The request's history, oldest first: submitted, each approval step reached and decided,
/// comments, the outcome, the grant and its end.
pub(crate) fn history(wf: &RequestWorkflow, messages: &[Value], names: &Names) -> Vec<Value> {
    let r = &wf.request;
    let mut items: Vec<(i64, Value)> = vec![];
    let by = names.user(&r.requested_by.external_id);
    let for_ = names.user(&r.requested_for.external_id);
    let text = if r.requested_by == r.requested_for {
        format!("{by} requested it.")
    } else {
        format!("{by} requested it for {for_}.")
    };
    items.push((r.created, json!({"text": text})));
    // A decision's comment (saved with the decision's time) follows it.
    let mut messages: Vec<(i64, &Value)> = messages
        .iter()
        .map(|m| {
            let at = m["created"]
                .as_str()
                .and_then(parse_rfc3339_millis)
                .unwrap_or(r.last_updated);
            (at, m)
        })
        .collect();
    let comment = |at: i64, m: &Value| {
        let who = names.user(m["createdBy"].as_str().unwrap_or_default());
        (
            at,
            json!({"text": format!("{who} commented:"), "quote": m["message"]}),
        )
    };
    for t in &wf.tasks {
        let waiting = t
            .assignees
            .iter()
            .map(|p| names.user(&p.external_id))
            .collect::<Vec<_>>()
            .join(", ");
        let text = if waiting.is_empty() {
            format!(
                "{}: nobody can approve it yet; an administrator will assign it.",
                t.label
            )
        } else {
            format!("{}: waiting for {waiting}.", t.label)
        };
        items.push((t.created_at, json!({"text": text})));
        if t.status == TaskStatus::Completed {
            let who = t
                .completed_by
                .as_ref()
                .map(|p| names.user(&p.external_id))
                .unwrap_or_else(|| "Steward".into());
            let verb = match t.value.as_deref() {
                Some("APPROVED") => "approved",
                Some("DENIED") => "denied",
                _ => "closed",
            };
            items.push((
                t.updated_at,
                json!({"text": format!("{who} {verb} it ({}).", t.label)}),
            ));
            let decider = t.completed_by.as_ref().map(|p| p.external_id.as_str());
            if let Some(i) = messages
                .iter()
                .position(|(at, m)| *at == t.updated_at && m["createdBy"].as_str() == decider)
            {
                let (at, m) = messages.remove(i);
                items.push(comment(at, m));
            }
        }
    }
    for (at, m) in messages {
        items.push(comment(at, m));
    }
    if let Some(at) = r.resolved {
        let text = match r.status {
            RequestStatus::Approved => "The request was approved.".to_string(),
            RequestStatus::Denied => "The request was denied.".to_string(),
            RequestStatus::Rejected => "The request was rejected: no request condition admits \
                 it as asked."
                .to_string(),
            RequestStatus::Expired => "The request expired: nobody decided it in time.".into(),
            RequestStatus::Canceled => "The request was canceled.".into(),
            _ => String::new(),
        };
        if !text.is_empty() {
            items.push((at, json!({"text": text})));
        }
    }
    if let Some(at) = r.granted {
        items.push((at, json!({"text": "Access was granted."})));
    }
    if let Some(at) = r.revoked {
        items.push((at, json!({"text": "Access ended."})));
    }
    // Stable: what happened at the same time keeps its order.
    items.sort_by_key(|(at, _)| *at);
    items
        .into_iter()
        .map(|(at, mut v)| {
            v["at"] = when(at);
            v
        })
        .collect()
}
