//! Directory (`/admin/directory`): People (search, status filter, paging, a person's tabs, the
//! lifecycle actions, Add person) and Groups (search, member counts, a group's tabs, members
//! added and removed, Add group, Delete); who may read and who may change, both ways.
use serde_json::{json, Value};
use steward_core::directory::UserStatus;

use crate::common::{Backend, Browser, TestOrg, ADMIN_LOGIN, ADMIN_PASSWORD};
use crate::on_both_backends;

const PASSWORD: &str = "Us3r-Passw0rd!";

/// A STAGED user without a password (no hashing: quick), by the API; their id.
async fn staged(org: &TestOrg, login: &str, first: &str) -> String {
    let (status, user) = org
        .api(
            reqwest::Method::POST,
            "/api/v1/users?activate=false",
            Some(json!({"profile": {
                "firstName": first, "lastName": "Staged", "email": login, "login": login,
            }})),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    user["id"].as_str().unwrap().to_string()
}

async fn group(org: &TestOrg, name: &str) -> String {
    let (status, g) = org
        .api(
            reqwest::Method::POST,
            "/api/v1/groups",
            Some(json!({"profile": {"name": name, "description": format!("{name} people")}})),
        )
        .await;
    assert_eq!(status, 200, "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn status_of(org: &TestOrg, id: &str) -> Option<UserStatus> {
    org.store.user(id).await.ok().map(|u| u.status)
}

async fn member(org: &TestOrg, group_id: &str, user_id: &str) -> bool {
    org.store.is_member(group_id, user_id).await.unwrap()
}

async fn signed_in(org: &TestOrg, login: &str, password: &str) -> (Browser, String) {
    let browser = org.browser();
    let page = browser
        .sign_in("/admin/directory/users", login, password)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.input("csrf");
    (browser, csrf)
}

async fn people_are_searched_filtered_and_paged(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let mut pagers = Vec::new();
    for i in 0..52 {
        pagers.push(staged(&org, &format!("pager{i:02}@example.com"), "Pager").await);
    }
    let suspended = org.user("sleepy", None).await.0;
    let (status, _) = org
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/users/{suspended}/lifecycle/suspend"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (admin, _) = signed_in(&org, ADMIN_LOGIN, ADMIN_PASSWORD).await;

    let all = admin.get("/admin/directory/users").await;
    assert!(all.body.contains("<h1>People</h1>"), "{}", all.body);
    assert!(all.body.contains("aria-current=\"page\">Directory</a>"));
    // The admin's badge.
    assert!(
        all.body.contains("Super Administrator</span>"),
        "{}",
        all.body
    );

    let first = admin.get("/admin/directory/users?q=PAGER").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body.matches("Staged</a>").count(), 50, "a full page");
    assert!(!first.body.contains("sleepy@example.com"));
    let next = crate::common::unescape(
        first
            .body
            .split("<a href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains("after="))
            .expect("a next page"),
    );
    assert!(next.contains("q=PAGER"), "{next}");
    let second = admin.get(&next).await;
    assert_eq!(second.status, 200);
    assert_eq!(
        second.body.matches("Staged</a>").count(),
        2,
        "52 - 50: {}",
        second.body
    );
    assert!(!second.body.contains("Next page"));

    let sleeping = admin.get("/admin/directory/users?status=SUSPENDED").await;
    assert!(sleeping.body.contains("sleepy@example.com"));
    assert!(!sleeping.body.contains("pager00@example.com"));
    let unknown = admin.get("/admin/directory/users?status=ASLEEP").await;
    assert_eq!(unknown.status, 400);

    // A group's members are paged the same way; the list counts them.
    let crowd = group(&org, "Crowd").await;
    let mut tx = org.store.begin().await.unwrap();
    for id in &pagers {
        tx.add_member(&crowd, id, 1).await.unwrap();
    }
    tx.commit().await.unwrap();
    let groups = admin.get("/admin/directory/groups?q=crowd").await;
    assert!(groups.body.contains("<td>52</td>"), "{}", groups.body);
    let first = admin
        .get(&format!("/admin/directory/groups/{crowd}/people"))
        .await;
    assert_eq!(first.body.matches("aria-label=\"Remove pager").count(), 50);
    let next = crate::common::unescape(
        first
            .body
            .split("<a href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains("after="))
            .expect("a next page"),
    );
    let second = admin.get(&next).await;
    assert_eq!(second.body.matches("aria-label=\"Remove pager").count(), 2);
    assert!(!second.body.contains("Next page"));

    // An App Admin reads people (no badge: roles are not theirs to read), and no Add person.
    let (_, app_admin) = org.user("apps", Some("APP_ADMIN")).await;
    let (other, _) = signed_in(&org, &app_admin, PASSWORD).await;
    let list = other.get("/admin/directory/users?q=sleepy").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("sleepy@example.com"));
    assert!(list
        .body
        .contains("disabled aria-describedby=\"create-reason\""));
    assert_eq!(other.get("/admin/directory/users/new").await.status, 403);
}

async fn a_persons_tabs_show_profile_groups_and_apps(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (user, login) = org.user("tabby", Some("READ_ONLY_ADMIN")).await;
    let eng = group(&org, "Engineering").await;
    let (s, _) = org
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/groups/{eng}/users/{user}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let app = org.app().await;
    let (s, body) = org
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/apps/{app}/groups/{eng}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = org
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{app}/users"),
            Some(json!({"id": user})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (admin, _) = signed_in(&org, ADMIN_LOGIN, ADMIN_PASSWORD).await;

    let profile = admin.get(&format!("/admin/directory/users/{user}")).await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    for text in [
        "tabby Tester",
        login.as_str(),
        "ACTIVE",
        "Last sign-in",
        "Read Only Administrator",
        "/admin/security/administrators?q=tabby%40example.com",
        "/lifecycle/suspend",
        "/confirm/deactivate",
    ] {
        let body = crate::common::unescape(&profile.body);
        assert!(body.contains(text), "{text}: {body}");
    }
    assert!(!profile.body.contains("/lifecycle/unsuspend"));
    assert!(!profile.body.contains("/confirm/delete"));

    let groups = admin
        .get(&format!("/admin/directory/users/{user}/groups"))
        .await;
    assert_eq!(groups.status, 200);
    assert!(groups
        .body
        .contains(&format!("/admin/directory/groups/{eng}\">Engineering")));
    assert!(groups.body.contains("Every person belongs to Everyone."));

    let apps = admin
        .get(&format!("/admin/directory/users/{user}/apps"))
        .await;
    assert_eq!(apps.status, 200);
    assert!(apps.body.contains("Directly"), "{}", apps.body);
    assert!(
        apps.body
            .contains("Through the group <a href=\"/admin/directory/groups/"),
        "{}",
        apps.body
    );
    let group_apps = admin
        .get(&format!("/admin/directory/groups/{eng}/apps"))
        .await;
    assert!(group_apps
        .body
        .contains(&format!("/admin/apps/{app}\">Workflows")));
    let list = admin.get("/admin/directory/groups?q=eng").await;
    assert!(
        list.body.contains("<td>1</td>"),
        "one member: {}",
        list.body
    );
    assert_eq!(
        admin.get("/admin/directory/users/00uNobody").await.status,
        404
    );
    assert_eq!(
        admin.get("/admin/directory/groups/00gNobody").await.status,
        404
    );
}

async fn lifecycle_actions_follow_the_apis_transitions(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (active, _) = org.user("cycle", None).await;
    let fresh = staged(&org, "fresh@example.com", "Fresh").await;
    let (admin, csrf) = signed_in(&org, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let post = |id: &str, op: &str| format!("/admin/directory/users/{id}/lifecycle/{op}");

    // Suspend and unsuspend.
    let done = admin
        .post(&post(&active, "suspend"), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(status_of(&org, &active).await, Some(UserStatus::Suspended));
    let page = admin.follow(done).await;
    assert!(
        page.body.contains("cycle Tester was suspended."),
        "{}",
        page.body
    );
    assert!(page.body.contains("/lifecycle/unsuspend"));
    // Not allowed from SUSPENDED: refused, nothing written.
    let refused = admin
        .post(&post(&active, "suspend"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused
        .body
        .contains("Cannot suspend a user that is not active. Nothing was changed."));
    assert!(!refused.body.contains("Api validation failed"));
    assert_eq!(status_of(&org, &active).await, Some(UserStatus::Suspended));
    let back = admin
        .post(&post(&active, "unsuspend"), &[("csrf", &csrf)])
        .await;
    assert_eq!(back.status, 303);
    assert_eq!(status_of(&org, &active).await, Some(UserStatus::Active));

    // Unlock a locked-out person.
    let mut user = org.store.user(&active).await.unwrap();
    user.status = UserStatus::LockedOut;
    let mut tx = org.store.begin().await.unwrap();
    tx.update_user(&user).await.unwrap();
    tx.commit().await.unwrap();
    let page = admin.get(&format!("/admin/directory/users/{active}")).await;
    assert!(page.body.contains("/lifecycle/unlock"), "{}", page.body);
    let unlocked = admin
        .post(&post(&active, "unlock"), &[("csrf", &csrf)])
        .await;
    assert_eq!(unlocked.status, 303);
    assert_eq!(status_of(&org, &active).await, Some(UserStatus::Active));

    // Activate a staged person without a password: the activation link, once.
    let activated = admin
        .post(&post(&fresh, "activate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(activated.status, 200, "{}", activated.body);
    assert!(activated.body.contains("Activation link"));
    let link = activated.input("link");
    assert!(
        link.starts_with(&format!("{}/welcome/", org.base)),
        "{link}"
    );
    // The link works: its page asks the person for a password.
    let welcome = org.browser().get(&link).await;
    assert_eq!(welcome.status, 200, "{}", welcome.body);
    assert_eq!(status_of(&org, &fresh).await, Some(UserStatus::Provisioned));
    let resent = admin
        .post(&post(&fresh, "reactivate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(resent.status, 200, "{}", resent.body);

    // Deactivate: confirmed on its own page; unconfirmed, refused and nothing written.
    let ask = admin
        .get(&format!(
            "/admin/directory/users/{fresh}/confirm/deactivate"
        ))
        .await;
    assert_eq!(ask.status, 200);
    assert!(ask.body.contains("name=\"confirm\""));
    let unconfirmed = admin
        .post(&post(&fresh, "deactivate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(unconfirmed.status, 400);
    assert_eq!(status_of(&org, &fresh).await, Some(UserStatus::Provisioned));
    let gone = admin
        .post(
            &post(&fresh, "deactivate"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(gone.status, 303, "{}", gone.body);
    assert_eq!(
        status_of(&org, &fresh).await,
        Some(UserStatus::Deprovisioned)
    );
    let page = admin.follow(gone).await;
    assert!(page.body.contains("/confirm/delete"), "{}", page.body);
    assert!(page.body.contains("/lifecycle/activate"));

    // Delete: only once deactivated, confirmed.
    let early = admin
        .post(
            &format!("/admin/directory/users/{active}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(early.status, 409);
    assert_eq!(status_of(&org, &active).await, Some(UserStatus::Active));
    let unconfirmed = admin
        .post(
            &format!("/admin/directory/users/{fresh}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(unconfirmed.status, 400);
    assert!(status_of(&org, &fresh).await.is_some());
    let deleted = admin
        .post(
            &format!("/admin/directory/users/{fresh}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert!(status_of(&org, &fresh).await.is_none());
    let list = admin.follow(deleted).await;
    assert!(
        list.body.contains("fresh@example.com was deleted."),
        "{}",
        list.body
    );

    // The System Log names the admin as the actor, as for the API.
    let (_, log) = org
        .api(
            reqwest::Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.lifecycle.suspend%22",
            None,
        )
        .await;
    assert_eq!(log[0]["actor"]["alternateId"], ADMIN_LOGIN, "{log}");
}

async fn the_last_super_admin_and_super_admins_are_protected(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let admin_id = org.store.user_by_login(ADMIN_LOGIN).await.unwrap().id;
    let (admin, csrf) = signed_in(&org, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let refused = admin
        .post(
            &format!("/admin/directory/users/{admin_id}/lifecycle/suspend"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("last Super Administrator who can sign in and act"),
        "{}",
        refused.body
    );
    assert_eq!(status_of(&org, &admin_id).await, Some(UserStatus::Active));

    // An Org Admin may not change a Super Admin: buttons disabled, a forged POST refused.
    let (_, org_admin) = org.user("orgadmin", Some("ORG_ADMIN")).await;
    let (other, other_csrf) = signed_in(&org, &org_admin, PASSWORD).await;
    let page = other
        .get(&format!("/admin/directory/users/{admin_id}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Only a Super Administrator can change"));
    assert!(page
        .body
        .contains("disabled aria-describedby=\"manage-reason\""));
    let forged = other
        .post(
            &format!("/admin/directory/users/{admin_id}/lifecycle/deactivate"),
            &[("csrf", &other_csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(status_of(&org, &admin_id).await, Some(UserStatus::Active));
    // The Org Admin changes a person without a role.
    let (plain, _) = org.user("plain", None).await;
    let ok = other
        .post(
            &format!("/admin/directory/users/{plain}/lifecycle/suspend"),
            &[("csrf", &other_csrf)],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(status_of(&org, &plain).await, Some(UserStatus::Suspended));
}

async fn memberships_change_from_both_pages(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (user, _) = org.user("joiner", None).await;
    let ops = group(&org, "Operations").await;
    let (admin, csrf) = signed_in(&org, ADMIN_LOGIN, ADMIN_PASSWORD).await;

    // From the person's Groups tab: find the group, add, remove.
    let pick = admin
        .get(&format!("/admin/directory/users/{user}/groups?gq=oper"))
        .await;
    assert!(
        pick.body.contains("aria-label=\"Add to Operations\""),
        "{}",
        pick.body
    );
    let added = admin
        .post(
            &format!("/admin/directory/users/{user}/groups"),
            &[("csrf", &csrf), ("group", &ops)],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert!(member(&org, &ops, &user).await);
    let page = admin.follow(added).await;
    assert!(
        page.body.contains("joiner Tester was added to Operations."),
        "{}",
        page.body
    );
    let removed = admin
        .post(
            &format!("/admin/directory/users/{user}/groups/{ops}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 303);
    assert!(!member(&org, &ops, &user).await);

    // From the group's People tab: search a person, add, remove.
    let pick = admin
        .get(&format!("/admin/directory/groups/{ops}/people?uq=joiner"))
        .await;
    assert!(
        pick.body.contains("aria-label=\"Add joiner@example.com\""),
        "{}",
        pick.body
    );
    let added = admin
        .post(
            &format!("/admin/directory/groups/{ops}/people"),
            &[("csrf", &csrf), ("user", &user)],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert!(member(&org, &ops, &user).await);
    let page = admin.follow(added).await;
    assert!(page.body.contains("Added to Operations."));
    assert!(page
        .body
        .contains(&format!("/admin/directory/users/{user}\">joiner Tester")));
    let person = admin
        .get(&format!("/admin/directory/users/{user}/groups"))
        .await;
    assert!(person.body.contains("Operations</a>"));
    let removed = admin
        .post(
            &format!("/admin/directory/groups/{ops}/people/{user}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 303);
    assert!(!member(&org, &ops, &user).await);

    // Everyone's members follow the org: refused.
    let everyone = org.store.everyone_group().await.unwrap().id;
    let refused = admin
        .post(
            &format!("/admin/directory/users/{user}/groups/{everyone}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(member(&org, &everyone, &user).await);
}

async fn people_and_groups_are_added_from_forms(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, csrf) = signed_in(&org, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let form = admin.get("/admin/directory/users/new").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<label for=\"firstName\">"));

    // No email: the form again, with why; nothing written.
    let bad = admin
        .post(
            "/admin/directory/users",
            &[("csrf", &csrf), ("firstName", "Ann"), ("lastName", "Lee")],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("class=\"error\""), "{}", bad.body);
    assert!(bad.body.contains("value=\"Ann\""));
    // A weak password: refused.
    let weak = admin
        .post(
            "/admin/directory/users",
            &[
                ("csrf", &csrf),
                ("firstName", "Ann"),
                ("lastName", "Lee"),
                ("email", "ann@example.com"),
                ("password", "short"),
                ("activate", "yes"),
            ],
        )
        .await;
    assert_eq!(weak.status, 400);
    assert!(weak.body.contains("Password requirements"), "{}", weak.body);
    assert!(org.store.user_by_login("ann@example.com").await.is_err());

    let made = admin
        .post(
            "/admin/directory/users",
            &[
                ("csrf", &csrf),
                ("firstName", "Ann"),
                ("lastName", "Lee"),
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("activate", "yes"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let ann = org.store.user_by_login("ann@example.com").await.unwrap();
    assert_eq!(ann.status, UserStatus::Active);
    let page = admin.follow(made).await;
    assert!(page.body.contains("Ann Lee was added."), "{}", page.body);
    // The same login again: the form says so.
    let again = admin
        .post(
            "/admin/directory/users",
            &[
                ("csrf", &csrf),
                ("firstName", "Ann"),
                ("lastName", "Again"),
                ("email", "ann@example.com"),
            ],
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("already exists"), "{}", again.body);
    // Not activated: STAGED.
    let staged = admin
        .post(
            "/admin/directory/users",
            &[
                ("csrf", &csrf),
                ("firstName", "Sam"),
                ("lastName", "Wait"),
                ("email", "sam@example.com"),
                ("login", "sam.wait@corp.example"),
            ],
        )
        .await;
    assert_eq!(staged.status, 303, "{}", staged.body);
    let sam = org
        .store
        .user_by_login("sam.wait@corp.example")
        .await
        .unwrap();
    assert_eq!(sam.status, UserStatus::Staged);

    // Groups: add, then delete (confirmed); Everyone cannot be deleted.
    let blank = admin
        .post("/admin/directory/groups", &[("csrf", &csrf), ("name", " ")])
        .await;
    assert_eq!(blank.status, 400, "{}", blank.body);
    let made = admin
        .post(
            "/admin/directory/groups",
            &[
                ("csrf", &csrf),
                ("name", "Finance"),
                ("description", "Money"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let at = made.location();
    let group_id = at
        .trim_start_matches("/admin/directory/groups/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = admin.follow(made).await;
    assert!(
        page.body.contains("The group Finance was added."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Money"));
    let ask = admin
        .get(&format!("/admin/directory/groups/{group_id}/delete"))
        .await;
    assert!(ask.body.contains("name=\"confirm\""));
    let unconfirmed = admin
        .post(
            &format!("/admin/directory/groups/{group_id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(unconfirmed.status, 400);
    assert!(org.store.group(&group_id).await.is_ok());
    let deleted = admin
        .post(
            &format!("/admin/directory/groups/{group_id}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert!(org.store.group(&group_id).await.is_err());
    let everyone = org.store.everyone_group().await.unwrap().id;
    let page = admin
        .get(&format!("/admin/directory/groups/{everyone}"))
        .await;
    assert!(
        page.body.contains("Everyone is a built-in group"),
        "{}",
        page.body
    );
    let refused = admin
        .post(
            &format!("/admin/directory/groups/{everyone}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(org.store.group(&everyone).await.is_ok());
}

/// What a role without the permission sees (disabled, with the reason), and that its forged
/// POSTs (with a valid CSRF token) are refused with 403 and write nothing.
async fn roles_without_the_permission_see_disabled_buttons_and_are_refused(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (target, _) = org.user("target", None).await;
    let team = group(&org, "Team").await;
    for role in ["READ_ONLY_ADMIN", "APP_ADMIN"] {
        let (_, login) = org.user(&role.to_lowercase(), Some(role)).await;
        let (browser, csrf) = signed_in(&org, &login, PASSWORD).await;
        let page = browser
            .get(&format!("/admin/directory/users/{target}"))
            .await;
        assert_eq!(page.status, 200, "{role}: {}", page.body);
        assert!(
            page.body.contains(
                "Changing a person&#x27;s status needs the Organizational Administrator role"
            ),
            "{role}: {}",
            page.body
        );
        assert!(page
            .body
            .contains("disabled aria-describedby=\"manage-reason\">Suspend"));
        let groups = browser
            .get(&format!("/admin/directory/users/{target}/groups?gq=team"))
            .await;
        assert!(
            groups.body.contains("Changing group memberships needs"),
            "{role}"
        );
        assert!(groups
            .body
            .contains("disabled aria-describedby=\"manage-reason\""));
        let group_page = browser
            .get(&format!("/admin/directory/groups/{team}"))
            .await;
        assert!(group_page
            .body
            .contains("disabled aria-describedby=\"delete-reason\""));
        for (path, form) in [
            (
                format!("/admin/directory/users/{target}/lifecycle/suspend"),
                vec![("csrf", csrf.as_str())],
            ),
            (
                format!("/admin/directory/users/{target}/lifecycle/deactivate"),
                vec![("csrf", csrf.as_str()), ("confirm", "yes")],
            ),
            (
                format!("/admin/directory/users/{target}/groups"),
                vec![("csrf", csrf.as_str()), ("group", team.as_str())],
            ),
            (
                format!("/admin/directory/groups/{team}/people"),
                vec![("csrf", csrf.as_str()), ("user", target.as_str())],
            ),
            (
                format!("/admin/directory/groups/{team}/delete"),
                vec![("csrf", csrf.as_str()), ("confirm", "yes")],
            ),
            (
                "/admin/directory/users".to_string(),
                vec![
                    ("csrf", csrf.as_str()),
                    ("firstName", "No"),
                    ("lastName", "Body"),
                    ("email", "nobody@example.com"),
                ],
            ),
            (
                "/admin/directory/groups".to_string(),
                vec![("csrf", csrf.as_str()), ("name", "Forged")],
            ),
        ] {
            let refused = browser.post(&path, &form).await;
            assert_eq!(refused.status, 403, "{role} {path}: {}", refused.body);
        }
        assert_eq!(status_of(&org, &target).await, Some(UserStatus::Active));
        assert!(!member(&org, &team, &target).await);
        assert!(org.store.group(&team).await.is_ok());
        assert!(org.store.user_by_login("nobody@example.com").await.is_err());
        let (_, forged) = org
            .api(reqwest::Method::GET, "/api/v1/groups?q=Forged", None)
            .await;
        assert_eq!(forged, Value::Array(vec![]), "{role}");
    }
    // A form without the session's CSRF token is refused too.
    let (admin, _) = signed_in(&org, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let refused = admin
        .post(
            &format!("/admin/directory/users/{target}/lifecycle/suspend"),
            &[],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(status_of(&org, &target).await, Some(UserStatus::Active));
}

on_both_backends!(
    people_are_searched_filtered_and_paged,
    a_persons_tabs_show_profile_groups_and_apps,
    lifecycle_actions_follow_the_apis_transitions,
    the_last_super_admin_and_super_admins_are_protected,
    memberships_change_from_both_pages,
    people_and_groups_are_added_from_forms,
    roles_without_the_permission_see_disabled_buttons_and_are_refused,
);
