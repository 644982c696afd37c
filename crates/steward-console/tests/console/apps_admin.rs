//! Applications (create each type, the client secret shown once, activate / deactivate, the
//! console's own app kept, Assignments) and Security > Administrators (list, assign, remove,
//! the last Super Admin kept), each change allowed and refused both ways: a role without the
//! permission sees it disabled with the reason, and its forged POST is refused and writes
//! nothing.

use reqwest::Method;
use serde_json::{json, Value};
use steward_core::roles::RoleType;
use steward_store::{AppQuery, PrincipalType};

use crate::common::{unescape, Backend, Browser, Page, TestOrg, ADMIN_LOGIN, ADMIN_PASSWORD};
use crate::on_both_backends;

const PASSWORD: &str = "Us3r-Passw0rd!";

async fn signed_in_admin(org: &TestOrg, path: &str) -> (Browser, Page, String) {
    let admin = org.browser();
    let page = admin.sign_in(path, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.input("csrf");
    (admin, page, csrf)
}

async fn app_count(org: &TestOrg) -> usize {
    org.store
        .apps(&AppQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

/// The client secret a new app's General tab shows.
fn secret_on(page: &Page) -> String {
    let start = page.body.find("id=\"client-secret\"").expect("a secret");
    let marker = "value=\"";
    let from = page.body[start..].find(marker).unwrap() + start + marker.len();
    let end = page.body[from..].find('"').unwrap() + from;
    unescape(&page.body[from..end])
}

/// The id of the app whose General tab `page` is.
fn app_id_of(page: &Page) -> String {
    let marker = "action=\"/admin/apps/";
    let start = page.body.find(marker).expect("a lifecycle form") + marker.len();
    let end = page.body[start..].find("/lifecycle").unwrap() + start;
    page.body[start..end].to_string()
}

async fn api_app(org: &TestOrg, id: &str) -> Value {
    let (status, app) = org
        .api(Method::GET, &format!("/api/v1/apps/{id}"), None)
        .await;
    assert_eq!(status, 200, "{app}");
    app
}

async fn group(org: &TestOrg, name: &str) -> String {
    let (status, g) = org
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(json!({"profile": {"name": name, "description": "Testers"}})),
        )
        .await;
    assert_eq!(status, 200, "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn service_app(org: &TestOrg, label: &str) -> Value {
    let (status, app) = org
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({
                "name": "oidc_client", "label": label, "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"]}},
            })),
        )
        .await;
    assert_eq!(status, 200, "{app}");
    app
}

async fn a_super_admin_creates_each_app_type(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, list, csrf) = signed_in_admin(&org, "/admin/apps").await;
    assert!(
        list.body.contains("href=\"/admin/apps/new\""),
        "{}",
        list.body
    );
    let choose = admin.get("/admin/apps/new").await;
    assert_eq!(choose.status, 200, "{}", choose.body);
    for t in [
        "Web Application",
        "Single-Page Application",
        "Native Application",
        "API Services",
    ] {
        assert!(choose.body.contains(t), "{t}");
    }
    let web_form = admin.get("/admin/apps/new?type=web").await;
    assert!(web_form.body.contains("Sign-in redirect URIs"));
    assert!(web_form.body.contains("name=\"grant_client_credentials\""));
    let spa_form = admin.get("/admin/apps/new?type=browser").await;
    assert!(!spa_form.body.contains("name=\"grant_client_credentials\""));
    assert!(!spa_form.body.contains("name=\"auth_method\""));
    let service_form = admin.get("/admin/apps/new?type=service").await;
    assert!(!service_form.body.contains("Sign-in redirect URIs"));

    // Web: a secret, shown on the answer and never again.
    let created = admin
        .post(
            "/admin/apps/new",
            &[
                ("csrf", &csrf),
                ("type", "web"),
                ("label", "Payroll"),
                ("grant_authorization_code", "on"),
                ("grant_refresh_token", "on"),
                (
                    "redirect_uris",
                    "https://payroll.example/cb\r\nhttps://payroll.example/cb2\r\n",
                ),
                ("auth_method", "client_secret_post"),
                ("pkce_required", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(
        created.body.contains("Created Payroll."),
        "{}",
        created.body
    );
    assert!(created.body.contains("shown only this once"));
    let secret = secret_on(&created);
    assert!(secret.len() >= 40, "{secret}");
    let id = app_id_of(&created);
    let stored = org.store.client_secrets(&id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].hash, secret, "stored hashed");
    assert!(steward_oauth::secrets::verify_secret(
        &secret,
        &stored[0].hash
    ));
    let again = admin.get(&format!("/admin/apps/{id}")).await;
    assert_eq!(again.status, 200);
    assert!(!again.body.contains(&secret), "shown once");
    assert!(!again.body.contains("client-secret"));
    let app = api_app(&org, &id).await;
    let oauth = &app["settings"]["oauthClient"];
    assert_eq!(oauth["application_type"], "web");
    assert_eq!(
        oauth["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        oauth["redirect_uris"],
        json!(["https://payroll.example/cb", "https://payroll.example/cb2"])
    );
    assert_eq!(
        app["credentials"]["oauthClient"]["token_endpoint_auth_method"],
        "client_secret_post"
    );
    assert_eq!(app["status"], "ACTIVE");
    let (_, log) = org
        .api(
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22application.lifecycle.create%22",
            None,
        )
        .await;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"]["alternateId"] == ADMIN_LOGIN));

    // Single-page and native: public clients, no secret, PKCE.
    for (kind, uri) in [
        ("browser", "https://spa.example/cb"),
        ("native", "com.example.app:/callback"),
    ] {
        let page = admin
            .post(
                "/admin/apps/new",
                &[
                    ("csrf", &csrf),
                    ("type", kind),
                    ("label", &format!("A {kind} app")),
                    ("grant_authorization_code", "on"),
                    ("redirect_uris", uri),
                ],
            )
            .await;
        assert_eq!(page.status, 200, "{kind}: {}", page.body);
        assert!(!page.body.contains("client-secret"), "{kind}: no secret");
        let app = api_app(&org, &app_id_of(&page)).await;
        assert_eq!(app["settings"]["oauthClient"]["application_type"], kind);
        assert_eq!(
            app["settings"]["oauthClient"]["redirect_uris"],
            json!([uri])
        );
        let creds = &app["credentials"]["oauthClient"];
        assert_eq!(creds["token_endpoint_auth_method"], "none", "{kind}");
        assert_eq!(creds["pkce_required"], true, "{kind}");
    }

    // API Services: client credentials, and a secret.
    let page = admin
        .post(
            "/admin/apps/new",
            &[
                ("csrf", &csrf),
                ("type", "service"),
                ("label", "Reports job"),
                ("grant_client_credentials", "on"),
                ("auth_method", "client_secret_basic"),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let secret = secret_on(&page);
    let id = app_id_of(&page);
    let app = api_app(&org, &id).await;
    assert_eq!(
        app["settings"]["oauthClient"]["application_type"],
        "service"
    );
    assert_eq!(
        app["settings"]["oauthClient"]["grant_types"],
        json!(["client_credentials"])
    );
    let stored = org.store.client_secrets(&id).await.unwrap();
    assert!(steward_oauth::secrets::verify_secret(
        &secret,
        &stored[0].hash
    ));
}

async fn bad_input_shows_the_form_again_and_writes_nothing(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, _, csrf) = signed_in_admin(&org, "/admin/apps/new?type=web").await;
    let before = app_count(&org).await;
    let page = admin
        .post(
            "/admin/apps/new",
            &[
                ("csrf", &csrf),
                ("type", "web"),
                ("label", "  "),
                ("grant_authorization_code", "on"),
                ("redirect_uris", "not a uri\njavascript:alert(1)"),
                ("auth_method", "client_secret_basic"),
            ],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    let body = unescape(&page.body);
    assert!(body.contains("The application was not created"), "{body}");
    assert!(body.contains("id=\"label-error\""), "{body}");
    assert!(body.contains("The field cannot be left blank"), "{body}");
    assert!(body.contains("id=\"redirect_uris-error\""), "{body}");
    assert!(
        body.contains("'not a uri' is not an absolute URI"),
        "{body}"
    );
    assert!(
        body.contains("scheme 'javascript' is not allowed"),
        "{body}"
    );
    assert!(body.contains("aria-invalid=\"true\""));
    // What was typed is kept.
    assert!(
        body.contains(">not a uri\njavascript:alert(1)</textarea>"),
        "{body}"
    );

    // No redirect URI for the code flow; a service app's private_key_jwt without keys; a
    // refresh token without the code flow; an unknown type.
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("type", "web"),
                ("label", "X"),
                ("grant_authorization_code", "on"),
            ],
            "required for authorization_code",
        ),
        (
            &[
                ("type", "service"),
                ("label", "X"),
                ("grant_client_credentials", "on"),
                ("auth_method", "private_key_jwt"),
                ("jwks", "{}"),
            ],
            "private_key_jwt needs a JWK Set",
        ),
        (
            &[
                ("type", "browser"),
                ("label", "X"),
                ("grant_refresh_token", "on"),
                ("redirect_uris", "https://x.example/cb"),
            ],
            "refresh_token requires authorization_code",
        ),
    ];
    for (fields, error) in cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let page = admin.post("/admin/apps/new", &form).await;
        assert_eq!(page.status, 400, "{fields:?}");
        assert!(
            unescape(&page.body).contains(error),
            "{error}: {}",
            page.body
        );
    }
    let unknown = admin
        .post(
            "/admin/apps/new",
            &[("csrf", &csrf), ("type", "saml"), ("label", "X")],
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(app_count(&org).await, before, "nothing written");
}

async fn activate_deactivate_and_the_console_app_is_kept(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = org.app().await;
    let (admin, page, csrf) = signed_in_admin(&org, &format!("/admin/apps/{app}")).await;
    assert!(page.body.contains("Deactivate</button>"), "{}", page.body);
    let path = format!("/admin/apps/{app}/lifecycle");
    let off = admin
        .post(&path, &[("csrf", &csrf), ("op", "deactivate")])
        .await;
    assert_eq!(off.status, 303, "{}", off.body);
    let page = admin.follow(off).await;
    assert!(page.body.contains("Deactivated Workflows"), "{}", page.body);
    assert!(page.body.contains("Activate</button>"));
    assert_eq!(org.store.app(&app).await.unwrap().status, "INACTIVE");
    let on = admin
        .post(&path, &[("csrf", &csrf), ("op", "activate")])
        .await;
    assert_eq!(on.status, 303);
    assert!(admin.follow(on).await.body.contains("Activated Workflows"));
    assert_eq!(org.store.app(&app).await.unwrap().status, "ACTIVE");
    let bad = admin
        .post(&path, &[("csrf", &csrf), ("op", "explode")])
        .await;
    assert_eq!(bad.status, 400);

    // The console's own app: Deactivate disabled with the reason, and refused.
    let console_app = org
        .store
        .app_by_client_id("steward-admin-console")
        .await
        .unwrap();
    let page = admin.get(&format!("/admin/apps/{}", console_app.id)).await;
    assert!(page
        .body
        .contains("disabled aria-describedby=\"lifecycle-reason\""));
    assert!(
        page.body.contains("Admin Console&#x27;s own app"),
        "{}",
        page.body
    );
    let refused = admin
        .post(
            &format!("/admin/apps/{}/lifecycle", console_app.id),
            &[("csrf", &csrf), ("op", "deactivate")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        org.store.app(&console_app.id).await.unwrap().status,
        "ACTIVE"
    );
    assert_eq!(admin.get("/admin/").await.status, 200, "still signed in");
}

async fn assignments_add_and_remove_people_and_groups(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = org.app().await;
    let (pat, _) = org.user("pat", None).await;
    let (quinn, _) = org.user("quinn", None).await;
    let testers = group(&org, "Testers").await;
    let (status, _) = org
        .api(
            Method::PUT,
            &format!("/api/v1/groups/{testers}/users/{quinn}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let here = format!("/admin/apps/{app}/assignments");
    let (admin, page, csrf) = signed_in_admin(&org, &here).await;
    assert!(page.body.contains("No one is assigned."), "{}", page.body);
    assert!(page.body.contains("aria-current=\"page\">Assignments</a>"));

    // Find Pat, assign.
    let found = admin.get(&format!("{here}?user_q=pat")).await;
    assert!(found.body.contains("pat@example.com"), "{}", found.body);
    assert!(found.body.contains("aria-label=\"Assign pat@example.com\""));
    let assigned = admin
        .post(
            &format!("{here}/users"),
            &[("csrf", &csrf), ("user_id", &pat)],
        )
        .await;
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    let page = admin.follow(assigned).await;
    assert!(
        page.body.contains("Assigned pat@example.com to Workflows."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Individually"));
    let (_, users) = org
        .api(Method::GET, &format!("/api/v1/apps/{app}/users"), None)
        .await;
    assert_eq!(users[0]["id"], pat.as_str());
    assert_eq!(users[0]["scope"], "USER");

    // Find Testers, assign: Quinn is assigned through it.
    let found = admin.get(&format!("{here}?group_q=test")).await;
    assert!(found
        .body
        .contains("aria-label=\"Assign the group Testers\""));
    let assigned = admin
        .post(
            &format!("{here}/groups"),
            &[("csrf", &csrf), ("group_id", &testers)],
        )
        .await;
    assert_eq!(assigned.status, 303);
    let page = admin.follow(assigned).await;
    assert!(page
        .body
        .contains("Assigned the group Testers to Workflows."));
    assert!(page.body.contains("Through a group"), "{}", page.body);
    let (_, groups) = org
        .api(Method::GET, &format!("/api/v1/apps/{app}/groups"), None)
        .await;
    assert_eq!(groups[0]["id"], testers.as_str());
    assert!(org.store.app_user(&app, &quinn).await.is_ok());
    // Searching again shows them assigned.
    let found = admin.get(&format!("{here}?user_q=pat&group_q=test")).await;
    assert!(!found.body.contains("aria-label=\"Assign pat@example.com\""));
    assert!(!found
        .body
        .contains("aria-label=\"Assign the group Testers\""));

    // Unassign both.
    let removed = admin
        .post(&format!("{here}/users/{pat}/remove"), &[("csrf", &csrf)])
        .await;
    assert_eq!(removed.status, 303);
    assert!(admin
        .follow(removed)
        .await
        .body
        .contains("Unassigned pat@example.com from Workflows."));
    let removed = admin
        .post(
            &format!("{here}/groups/{testers}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 303);
    let page = admin.follow(removed).await;
    assert!(page
        .body
        .contains("Unassigned the group Testers from Workflows."));
    assert!(page.body.contains("No one is assigned."));
    assert!(page.body.contains("No group is assigned."));
    let (_, users) = org
        .api(Method::GET, &format!("/api/v1/apps/{app}/users"), None)
        .await;
    assert_eq!(users, json!([]));
    // Removing what is not assigned says so.
    let missing = admin
        .post(&format!("{here}/users/{pat}/remove"), &[("csrf", &csrf)])
        .await;
    assert_eq!(missing.status, 404);

    // Everyone stays assigned to the console's own app.
    let console_app = org
        .store
        .app_by_client_id("steward-admin-console")
        .await
        .unwrap();
    let everyone = org.store.everyone_group().await.unwrap();
    let page = admin
        .get(&format!("/admin/apps/{}/assignments", console_app.id))
        .await;
    assert!(
        page.body.contains("it is not removed here"),
        "{}",
        page.body
    );
    let refused = admin
        .post(
            &format!(
                "/admin/apps/{}/assignments/groups/{}/remove",
                console_app.id, everyone.id
            ),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(org
        .store
        .app_group(&console_app.id, &everyone.id)
        .await
        .is_ok());
}

async fn administrators_are_listed_assigned_and_removed(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (pat, _) = org.user("pat", None).await;
    let service = service_app(&org, "Nightly sync").await;
    let service_id = service["id"].as_str().unwrap().to_string();
    let here = "/admin/security/administrators";
    let (admin, page, csrf) = signed_in_admin(&org, here).await;
    assert!(page.body.contains("<h1>Administrators</h1>"));
    assert!(page.body.contains("aria-current=\"page\">Security</a>"));
    assert!(page.body.contains(ADMIN_LOGIN));
    assert!(page.body.contains("<code>SUPER_ADMIN</code>"));
    assert!(page.body.contains("What it allows"));
    assert!(page.body.contains("assign and remove admin roles"));

    // A user by login.
    let assigned = admin
        .post(
            &format!("{here}/assign"),
            &[
                ("csrf", &csrf),
                ("kind", "user"),
                ("principal", "PAT@example.com"),
                ("role", "READ_ONLY_ADMIN"),
            ],
        )
        .await;
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    let page = admin.follow(assigned).await;
    assert!(
        page.body
            .contains("Assigned Read Only Administrator to pat@example.com."),
        "{}",
        page.body
    );
    assert_eq!(
        org.store.roles_of(PrincipalType::User, &pat).await.unwrap(),
        vec![RoleType::ReadOnlyAdmin]
    );
    // Again: refused, beside the form.
    let again = admin
        .post(
            &format!("{here}/assign"),
            &[
                ("csrf", &csrf),
                ("kind", "user"),
                ("principal", "pat@example.com"),
                ("role", "READ_ONLY_ADMIN"),
            ],
        )
        .await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("already holds Read Only Administrator"));

    // A service app by label.
    let assigned = admin
        .post(
            &format!("{here}/assign"),
            &[
                ("csrf", &csrf),
                ("kind", "client"),
                ("principal", "nightly sync"),
                ("role", "APP_ADMIN"),
            ],
        )
        .await;
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    let page = admin.follow(assigned).await;
    assert!(page
        .body
        .contains("Assigned Application Administrator to Nightly sync."));
    assert!(page.body.contains("Service app"));
    let (_, roles) = org
        .api(
            Method::GET,
            &format!(
                "/oauth2/v1/clients/{}/roles",
                service["credentials"]["oauthClient"]["client_id"]
                    .as_str()
                    .unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(roles[0]["type"], "APP_ADMIN");

    // Search.
    let found = admin.get(&format!("{here}?q=nightly")).await;
    assert!(found.body.contains("Nightly sync"));
    assert!(!found.body.contains("pat@example.com"), "{}", found.body);

    // Nobody, a web app, a role that is not one: refused, nothing written.
    org.app().await; // "Workflows", a web app
    for (kind, principal, role, why) in [
        (
            "user",
            "nobody@example.com",
            "ORG_ADMIN",
            "No user has the login",
        ),
        ("client", "Workflows", "ORG_ADMIN", "No service app"),
        ("user", "pat@example.com", "KING", "Choose a role."),
    ] {
        let refused = admin
            .post(
                &format!("{here}/assign"),
                &[
                    ("csrf", &csrf),
                    ("kind", kind),
                    ("principal", principal),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(refused.status, 400, "{principal}");
        assert!(refused.body.contains(why), "{why}: {}", refused.body);
    }
    for role in RoleType::ALL {
        if !steward_api::routes::role_is_built(role) {
            let refused = admin
                .post(
                    &format!("{here}/assign"),
                    &[
                        ("csrf", &csrf),
                        ("kind", "user"),
                        ("principal", "pat@example.com"),
                        ("role", role.as_str()),
                    ],
                )
                .await;
            assert_eq!(refused.status, 400);
            assert!(refused.body.contains("not built yet"));
        }
    }
    assert_eq!(
        org.store.roles_of(PrincipalType::User, &pat).await.unwrap(),
        vec![RoleType::ReadOnlyAdmin]
    );

    // Remove both.
    for (kind, id) in [("user", pat.as_str()), ("client", service_id.as_str())] {
        let pk = if kind == "user" {
            PrincipalType::User
        } else {
            PrincipalType::Client
        };
        let held = org.store.role_assignments(pk, id).await.unwrap();
        let removed = admin
            .post(
                &format!("{here}/remove"),
                &[
                    ("csrf", &csrf),
                    ("kind", kind),
                    ("principal_id", id),
                    ("role_id", &held[0].id),
                ],
            )
            .await;
        assert_eq!(removed.status, 303, "{}", removed.body);
        let page = admin.follow(removed).await;
        assert!(page.body.contains("Removed "), "{}", page.body);
        assert!(org.store.roles_of(pk, id).await.unwrap().is_empty());
    }
    let (_, log) = org
        .api(
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.account.privilege.revoke%22",
            None,
        )
        .await;
    assert!(!log.as_array().unwrap().is_empty());
}

async fn the_last_super_admin_is_kept(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let here = "/admin/security/administrators";
    let (admin, _, csrf) = signed_in_admin(&org, here).await;
    let me = org.store.user_by_login(ADMIN_LOGIN).await.unwrap();
    let held = org
        .store
        .role_assignments(PrincipalType::User, &me.id)
        .await
        .unwrap();
    let refused = admin
        .post(
            &format!("{here}/remove"),
            &[
                ("csrf", &csrf),
                ("kind", "user"),
                ("principal_id", &me.id),
                ("role_id", &held[0].id),
            ],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("last Super Administrator who can act"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("role=\"alert\""));
    assert_eq!(
        org.store
            .roles_of(PrincipalType::User, &me.id)
            .await
            .unwrap(),
        vec![RoleType::SuperAdmin]
    );
}

async fn roles_and_apps_are_changed_only_by_who_may(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let app = org.app().await;
    let (pat, _) = org.user("pat", None).await;
    let testers = group(&org, "Testers").await;
    let admins = "/admin/security/administrators";

    // An Org Admin sees the administrators, every change disabled with the reason; forged
    // POSTs are refused and write nothing.
    let (_, org_admin_login) = org.user("orgadmin", Some("ORG_ADMIN")).await;
    let org_admin = org.browser();
    let page = org_admin.sign_in(admins, &org_admin_login, PASSWORD).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("Only a Super Administrator can assign or remove admin roles"));
    assert!(page
        .body
        .contains("disabled aria-describedby=\"manage-reason\">Add"));
    assert!(page
        .body
        .contains("disabled aria-describedby=\"manage-reason\" aria-label=\"Remove"));
    let csrf = page.input("csrf");
    let forged = org_admin
        .post(
            &format!("{admins}/assign"),
            &[
                ("csrf", &csrf),
                ("kind", "user"),
                ("principal", "pat@example.com"),
                ("role", "SUPER_ADMIN"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(org
        .store
        .roles_of(PrincipalType::User, &pat)
        .await
        .unwrap()
        .is_empty());
    let org_admin_id = org.store.user_by_login(&org_admin_login).await.unwrap().id;
    let held = org
        .store
        .role_assignments(PrincipalType::User, &org_admin_id)
        .await
        .unwrap();
    let forged = org_admin
        .post(
            &format!("{admins}/remove"),
            &[
                ("csrf", &csrf),
                ("kind", "user"),
                ("principal_id", &org_admin_id),
                ("role_id", &held[0].id),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        org.store
            .roles_of(PrincipalType::User, &org_admin_id)
            .await
            .unwrap(),
        vec![RoleType::OrgAdmin]
    );

    // A Read-only Admin sees apps and their assignments but changes nothing.
    let (_, read_only_login) = org.user("readonly", Some("READ_ONLY_ADMIN")).await;
    let read_only = org.browser();
    let list = read_only
        .sign_in("/admin/apps", &read_only_login, PASSWORD)
        .await;
    assert_eq!(list.status, 200);
    assert!(list
        .body
        .contains("disabled aria-describedby=\"create-reason\""));
    assert!(list
        .body
        .contains("Changing applications needs the Application Administrator role"));
    assert_eq!(read_only.get("/admin/apps/new").await.status, 403);
    let general = read_only.get(&format!("/admin/apps/{app}")).await;
    assert!(general
        .body
        .contains("disabled aria-describedby=\"lifecycle-reason\""));
    let page = read_only
        .get(&format!(
            "/admin/apps/{app}/assignments?user_q=pat&group_q=test"
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"manage-reason\""));
    assert!(page.body.contains(
        "disabled aria-describedby=\"manage-reason\" aria-label=\"Assign pat@example.com\""
    ));
    let csrf = page.input("csrf");
    let before = app_count(&org).await;
    let forged = read_only
        .post(
            "/admin/apps/new",
            &[
                ("csrf", &csrf),
                ("type", "service"),
                ("label", "Sneaky"),
                ("grant_client_credentials", "on"),
                ("auth_method", "client_secret_basic"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(app_count(&org).await, before);
    let forged = read_only
        .post(
            &format!("/admin/apps/{app}/lifecycle"),
            &[("csrf", &csrf), ("op", "deactivate")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(org.store.app(&app).await.unwrap().status, "ACTIVE");
    for (path, field, value) in [
        (
            format!("/admin/apps/{app}/assignments/users"),
            "user_id",
            &pat,
        ),
        (
            format!("/admin/apps/{app}/assignments/groups"),
            "group_id",
            &testers,
        ),
    ] {
        let forged = read_only
            .post(&path, &[("csrf", &csrf), (field, value)])
            .await;
        assert_eq!(forged.status, 403, "{path}");
    }
    assert!(org.store.app_user(&app, &pat).await.is_err());
    assert!(org.store.app_group(&app, &testers).await.is_err());
    // The Read-only Admin sees the administrators too, and changes none.
    let page = read_only.get(admins).await;
    assert_eq!(page.status, 200);
    let forged = read_only
        .post(
            &format!("{admins}/assign"),
            &[
                ("csrf", &csrf),
                ("kind", "user"),
                ("principal", "pat@example.com"),
                ("role", "ORG_ADMIN"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(org
        .store
        .roles_of(PrincipalType::User, &pat)
        .await
        .unwrap()
        .is_empty());

    // An App Admin changes apps, but not one acting with scopes, and sees no administrators.
    let (_, app_admin_login) = org.user("appadmin", Some("APP_ADMIN")).await;
    let app_admin = org.browser();
    let page = app_admin
        .sign_in(&format!("/admin/apps/{app}"), &app_admin_login, PASSWORD)
        .await;
    assert!(page.body.contains("Deactivate</button>"));
    assert!(!page.body.contains("lifecycle-reason"), "{}", page.body);
    let csrf = page.input("csrf");
    let (status, _) = org
        .api(
            Method::POST,
            &format!("/api/v1/apps/{app}/grants"),
            Some(json!({"scopeId": "okta.users.read", "issuer": org.base})),
        )
        .await;
    assert_eq!(status, 201);
    let page = app_admin.get(&format!("/admin/apps/{app}")).await;
    assert!(
        page.body.contains("only a Super Administrator can"),
        "{}",
        page.body
    );
    let forged = app_admin
        .post(
            &format!("/admin/apps/{app}/lifecycle"),
            &[("csrf", &csrf), ("op", "deactivate")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(org.store.app(&app).await.unwrap().status, "ACTIVE");
    assert_eq!(app_admin.get(admins).await.status, 403);
}

/// The create form is sent once: posting it again (a reload of the page that showed the
/// secret, a double click) creates nothing and says so; a refused form comes back with a new
/// one-time value.
async fn the_create_form_is_sent_once(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let (admin, _, csrf) = signed_in_admin(&org, "/admin/apps").await;
    let form = admin.get("/admin/apps/new?type=web").await;
    let once = form.input("once");
    assert!(once.len() >= 32, "{once}");
    let fields = |label: &'static str, uri: &'static str, once: String| {
        vec![
            ("csrf", csrf.clone()),
            ("once", once),
            ("type", "web".to_string()),
            ("label", label.to_string()),
            ("grant_authorization_code", "on".to_string()),
            ("redirect_uris", uri.to_string()),
            ("auth_method", "client_secret_basic".to_string()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let admin = &admin;
        async move {
            let borrowed: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.post("/admin/apps/new", &borrowed).await
        }
    };
    // Refused (not an absolute URI): the form comes back with another one-time value.
    let refused = post(fields("Once", "once.example/cb", once.clone())).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let fresh = refused.input("once");
    assert_ne!(fresh, once);
    let created = post(fields("Once", "https://once.example/cb", fresh.clone())).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(created.body.contains("Created Once."), "{}", created.body);
    let again = post(fields("Once", "https://once.example/cb", fresh)).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already sent"), "{}", again.body);
    let (_, apps) = org.api(Method::GET, "/api/v1/apps?q=Once", None).await;
    let labels: Vec<&str> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["label"].as_str())
        .filter(|l| *l == "Once")
        .collect();
    assert_eq!(labels, ["Once"], "created once");
}

on_both_backends!(
    a_super_admin_creates_each_app_type,
    the_create_form_is_sent_once,
    bad_input_shows_the_form_again_and_writes_nothing,
    activate_deactivate_and_the_console_app_is_kept,
    assignments_add_and_remove_people_and_groups,
    administrators_are_listed_assigned_and_removed,
    the_last_super_admin_is_kept,
    roles_and_apps_are_changed_only_by_who_may,
);
