//! Bringing an org to life: the first Super Admin, SSWS API tokens, and the demo org.
//! Used by `steward serve` and `steward tokens`, outside any HTTP request.

use serde_json::{json, Map, Value};
use steward_core::apps::{App, ClientSecret, OidcClient, SIGN_ON_MODE_OIDC};
use steward_core::directory::{
    Group, User, UserStatus, EVERYONE, GROUP_TYPE_BUILT_IN, GROUP_TYPE_OKTA,
};
use steward_core::ids::{new_id, random_secret, IdKind};
use steward_core::roles::RoleType;
use steward_core::syslog::{Actor, LogEvent, Target};
use steward_core::timefmt::now_millis;
use steward_store::{
    ApiToken, AppUserAssignment, PrincipalType, RoleAssignment, Store, StoreError,
};

use steward_oauth::secrets::sha256_hex;

use crate::{AppError, Ctx};

/// An argon2id hash of a password (blocking: start-up and the CLI only).
fn hash_password(password: &str) -> Result<String, String> {
    steward_oauth::secrets::hash_secret(password).map_err(|e| e.to_string())
}

pub const BOOTSTRAP_ADMIN_LOGIN: &str = "admin@steward.local";

/// What start-up did to the org.
#[derive(Debug, Default)]
pub struct BootstrapReport {
    pub admin_created: bool,
    /// Set when the admin's password was generated (print it once).
    pub generated_password: Option<String>,
    pub token_created: bool,
}

/// On an empty store, creates the Super Admin; with `api_token`, makes sure an SSWS token with
/// that value exists for them.
pub async fn ensure_org(
    store: &Store,
    admin_password: Option<&str>,
    api_token: Option<&str>,
) -> Result<BootstrapReport, AppError> {
    // Two nodes starting together on one empty database race to create the org; the loser's
    // insert hits a unique constraint, and another pass finds what the winner made.
    let mut attempt = 0;
    loop {
        match ensure_org_once(store, admin_password, api_token).await {
            Err(AppError::Store(StoreError::Conflict(_))) if attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn ensure_org_once(
    store: &Store,
    admin_password: Option<&str>,
    api_token: Option<&str>,
) -> Result<BootstrapReport, AppError> {
    let mut report = BootstrapReport::default();
    ensure_everyone(store).await?;
    let admin = match store.user_by_login(BOOTSTRAP_ADMIN_LOGIN).await {
        Ok(admin) => admin,
        Err(StoreError::NotFound) if store.count_users().await? == 0 => {
            let password = match admin_password {
                Some(p) => p.to_string(),
                None => {
                    let p = format!("St{}-9", random_secret(18));
                    report.generated_password = Some(p.clone());
                    p
                }
            };
            report.admin_created = true;
            create_admin(store, &password).await?
        }
        Err(StoreError::NotFound) => {
            return Ok(report); // the org exists and its admin was renamed: nothing to do
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(value) = api_token {
        if store.api_token_by_hash(&sha256_hex(value)).await.is_err() {
            insert_token(store, &admin, "bootstrap", value).await?;
            report.token_created = true;
        }
    }
    Ok(report)
}

/// The built-in Everyone group, which every user belongs to.
async fn ensure_everyone(store: &Store) -> Result<Group, AppError> {
    match store.everyone_group().await {
        Ok(group) => return Ok(group),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let now = now_millis();
    let group = Group {
        id: new_id(IdKind::Group),
        group_type: GROUP_TYPE_BUILT_IN.into(),
        created: now,
        last_updated: now,
        last_membership_updated: now,
        profile: object(json!({"name": EVERYONE, "description": "All users in your organization"})),
    };
    let mut tx = store.begin().await?;
    tx.insert_group(&group).await?;
    tx.commit().await?;
    Ok(group)
}

async fn create_admin(store: &Store, password: &str) -> Result<User, AppError> {
    let now = now_millis();
    let hash = hash_password(password).map_err(AppError::Internal)?;
    let admin = User {
        id: new_id(IdKind::User),
        status: UserStatus::Active,
        created: now,
        activated: Some(now),
        status_changed: Some(now),
        last_login: None,
        last_updated: now,
        password_changed: Some(now),
        profile: object(json!({
            "login": BOOTSTRAP_ADMIN_LOGIN,
            "email": BOOTSTRAP_ADMIN_LOGIN,
            "firstName": "Steward",
            "lastName": "Admin",
        })),
        password_hash: Some(hash),
    };
    let everyone = ensure_everyone(store).await?;
    let mut tx = store.begin().await?;
    tx.insert_user(&admin).await?;
    tx.add_member(&everyone.id, &admin.id, now).await?;
    tx.insert_role_assignment(&RoleAssignment {
        id: new_id(IdKind::RoleAssignment),
        principal_type: PrincipalType::User,
        principal_id: admin.id.clone(),
        role_type: RoleType::SuperAdmin,
        created: now,
        last_updated: now,
    })
    .await?;
    let target = Target::user(&admin);
    tx.append_log(
        &LogEvent::new(
            "user.lifecycle.create",
            "Create Okta user",
            Actor::system(),
            now,
        )
        .target(target.clone()),
    )
    .await?;
    tx.append_log(
        &LogEvent::new(
            "user.account.privilege.grant",
            "Grant user privilege",
            Actor::system(),
            now,
        )
        .target(target)
        .debug("privilegeGranted", "SUPER_ADMIN"),
    )
    .await?;
    tx.commit().await?;
    Ok(admin)
}

async fn insert_token(
    store: &Store,
    user: &User,
    name: &str,
    value: &str,
) -> Result<ApiToken, AppError> {
    let now = now_millis();
    let token = ApiToken {
        id: new_id(IdKind::ApiToken),
        name: name.to_string(),
        user_id: user.id.clone(),
        created: now,
        expires_at: None,
        revoked_at: None,
    };
    let mut tx = store.begin().await?;
    tx.insert_api_token(&token, &sha256_hex(value)).await?;
    tx.append_log(
        &LogEvent::new(
            "system.api_token.create",
            "Create API token",
            Actor::user(&user.id, user.login(), &user.display_name()),
            now,
        )
        .target(Target::new(&token.id, "Token", name, name)),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Creates an SSWS token for the user with `login`; returns it with its value (shown once).
pub async fn create_api_token(
    store: &Store,
    name: &str,
    login: &str,
) -> Result<(ApiToken, String), AppError> {
    let user = store
        .user_by_login(login)
        .await
        .map_err(|_| AppError::Invalid(format!("no user with login {login}")))?;
    // Okta's tokens are 42 characters starting with 00.
    let value = format!("00{}", random_secret(40));
    let token = insert_token(store, &user, name, &value).await?;
    Ok((token, value))
}

/// What `steward admin recover` did.
#[derive(Debug)]
pub struct Recovery {
    /// The Super Admin, as it is now.
    pub user: User,
    /// What changed, in words (`"created"`, `"unsuspended"`, `"granted SUPER_ADMIN"`...).
    pub changes: Vec<&'static str>,
    /// A generated password, set when the user was created or had none (shown once).
    pub password: Option<String>,
    /// A new SSWS API token for the user (shown once; only its hash is stored).
    pub token: String,
    pub token_id: String,
}

/// Where every System Log event of a recovery says it came from.
pub const RECOVERY_MARK: &str = "steward admin recover";

/// Break-glass recovery, run on the server's own store (not over HTTP): makes the user with
/// `login` an ACTIVE Super Admin (creating them if there is no such user), and mints a new SSWS
/// token for them. A suspended, deactivated, locked-out or never-activated user becomes ACTIVE; a
/// user without a password gets a generated one. Everything is one transaction, and every change
/// is written to the System Log with the system as actor and `debugData.recovery` saying how.
pub async fn recover_super_admin(store: &Store, login: &str) -> Result<Recovery, AppError> {
    let everyone = match store.everyone_group().await {
        Ok(group) => group,
        Err(StoreError::NotFound) => {
            return Err(AppError::Invalid(
                "this store holds no Steward org (start `steward serve` on it once)".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let now = now_millis();
    let event = |event_type: &str, message: &str, user: &User| {
        LogEvent::new(event_type, message, Actor::system(), now)
            .target(Target::new(
                &user.id,
                "User",
                user.login(),
                &user.display_name(),
            ))
            .debug("recovery", RECOVERY_MARK)
    };
    let generated_password = || format!("St{}-9", random_secret(18));
    let found = match store.user_by_login(login).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let mut changes = Vec::new();
    let mut password = None;
    let mut tx = store.begin().await?;
    let user = match found {
        None => {
            let profile = object(json!({
                "login": login,
                "email": login,
                "firstName": "Recovered",
                "lastName": "Admin",
            }));
            steward_core::directory::validate_user_profile(&profile)
                .map_err(|e| AppError::Invalid(e.causes.join("; ")))?;
            let value = generated_password();
            let user = User {
                id: new_id(IdKind::User),
                status: UserStatus::Active,
                created: now,
                activated: Some(now),
                status_changed: Some(now),
                last_login: None,
                last_updated: now,
                password_changed: Some(now),
                profile,
                password_hash: Some(hash_password(&value).map_err(AppError::Internal)?),
            };
            tx.insert_user(&user).await?;
            tx.add_member(&everyone.id, &user.id, now).await?;
            tx.append_log(&event("user.lifecycle.create", "Create Okta user", &user))
                .await?;
            tx.append_log(&event(
                "user.lifecycle.activate",
                "Activate Okta user",
                &user,
            ))
            .await?;
            password = Some(value);
            changes.push("created");
            user
        }
        Some(found) => {
            // Re-read under lock (PostgreSQL): a server may be running on this store.
            let mut user = tx.user(&found.id).await?;
            let before = user.status;
            if user.password_hash.is_none() {
                let value = generated_password();
                user.password_hash = Some(hash_password(&value).map_err(AppError::Internal)?);
                user.password_changed = Some(now);
                password = Some(value);
                tx.append_log(&event(
                    "user.account.update_password",
                    "Update password for user",
                    &user,
                ))
                .await?;
                changes.push("set a generated password");
            }
            if before != UserStatus::Active {
                let (event_type, message, change) = match before {
                    UserStatus::Suspended => (
                        "user.lifecycle.unsuspend",
                        "Unsuspend Okta user",
                        "unsuspended",
                    ),
                    UserStatus::LockedOut => {
                        ("user.account.unlock", "Unlock user account", "unlocked")
                    }
                    _ => ("user.lifecycle.activate", "Activate Okta user", "activated"),
                };
                user.status = UserStatus::Active;
                user.status_changed = Some(now);
                if user.activated.is_none() || before == UserStatus::Deprovisioned {
                    user.activated = Some(now);
                }
                tx.append_log(
                    &event(event_type, message, &user).debug("previousStatus", before.as_str()),
                )
                .await?;
                changes.push(change);
            }
            user.last_updated = now;
            tx.update_user(&user).await?;
            tx.set_user_lockout(&user.id, 0, None).await?;
            user
        }
    };
    if !tx
        .holds_role(PrincipalType::User, &user.id, RoleType::SuperAdmin)
        .await?
    {
        tx.insert_role_assignment(&RoleAssignment {
            id: new_id(IdKind::RoleAssignment),
            principal_type: PrincipalType::User,
            principal_id: user.id.clone(),
            role_type: RoleType::SuperAdmin,
            created: now,
            last_updated: now,
        })
        .await?;
        tx.append_log(
            &event(
                "user.account.privilege.grant",
                "Grant user privilege",
                &user,
            )
            .debug("privilegeGranted", "SUPER_ADMIN"),
        )
        .await?;
        changes.push("granted SUPER_ADMIN");
    }
    // Okta's tokens are 42 characters starting with 00.
    let token = format!("00{}", random_secret(40));
    let record = ApiToken {
        id: new_id(IdKind::ApiToken),
        name: "recovery".into(),
        user_id: user.id.clone(),
        created: now,
        expires_at: None,
        revoked_at: None,
    };
    tx.insert_api_token(&record, &sha256_hex(&token)).await?;
    tx.append_log(
        &LogEvent::new(
            "system.api_token.create",
            "Create API token",
            Actor::system(),
            now,
        )
        .target(Target::new(&record.id, "Token", &record.name, &record.name))
        .target(Target::new(
            &user.id,
            "User",
            user.login(),
            &user.display_name(),
        ))
        .debug("recovery", RECOVERY_MARK),
    )
    .await?;
    tx.commit().await?;
    Ok(Recovery {
        user,
        changes,
        password,
        token,
        token_id: record.id,
    })
}

/// Revokes a token by id, as `ctx.actor` (Steward itself from the CLI, an admin over the API).
pub async fn revoke_api_token(ctx: &Ctx<'_>, id: &str) -> Result<ApiToken, AppError> {
    let mut tx = ctx.begin().await?;
    let token = tx.revoke_api_token(id, ctx.now).await?;
    // A running server may have the token's principal cached: its outbox follower sees this.
    tx.record(
        steward_core::events::DomainEvent::ApiTokenRevoked {
            token_id: token.id.clone(),
            user_id: token.user_id.clone(),
            actor: ctx.actor.clone(),
        },
        &[Target::new(&token.id, "Token", &token.name, &token.name)],
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

const FIRST: [&str; 25] = [
    "Ava", "Ben", "Chloe", "Diego", "Elena", "Farah", "Gabriel", "Hana", "Ivan", "Julia", "Kenji",
    "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tara", "Uma", "Victor",
    "Wen", "Yusuf", "Zoe",
];
const CITIES: [&str; 5] = ["Lisbon", "Toronto", "Berlin", "Osaka", "Austin"];
const LAST: [&str; 10] = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Silva",
    "Novak",
    "Haddad",
    "Keller",
    "Reyes",
    "Chen",
];
const DEPARTMENTS: [(&str, &str); 6] = [
    ("Engineering", "Software Engineer"),
    ("Sales", "Account Executive"),
    ("Finance", "Financial Analyst"),
    ("Marketing", "Marketing Manager"),
    ("Support", "Support Specialist"),
    ("People", "HR Partner"),
];

/// The demo apps a newcomer signs in to Okta Workflows or automates with, by label.
pub const DEMO_CLIENT_APPS: [&str; 2] = ["Okta Workflows OAuth", "Governance Automation"];

/// The demo's client apps that exist in this org (see [`DEMO_CLIENT_APPS`]), for `steward serve
/// --demo` to say how to get a credential for each: their secrets are never shown.
pub async fn demo_client_apps(store: &Store) -> Result<Vec<App>, AppError> {
    let mut found = Vec::new();
    for label in DEMO_CLIENT_APPS {
        let apps = store
            .apps(&steward_store::AppQuery {
                q: Some(label.to_lowercase()),
                limit: 20,
                ..Default::default()
            })
            .await?;
        found.extend(apps.into_iter().filter(|a| a.label == label));
    }
    Ok(found)
}

/// How to get a usable credential for a demo client app, as `steward serve --demo` prints it.
/// An app that signs users in with a secret gets the call that mints one (answered with the
/// secret, shown once). A service app gets the call that gives it your public key: the org
/// authorization server takes client credentials only from `private_key_jwt` clients.
pub fn demo_credential_hint(issuer: &str, app: &App, tls: bool) -> String {
    let insecure = if tls { "-k " } else { "" };
    let client_id = app.client_id.as_deref().unwrap_or(&app.id);
    let auth = "-H 'Authorization: SSWS <token>'";
    let service = app
        .oidc
        .as_ref()
        .is_some_and(|o| o.application_type == "service");
    if service {
        let body = json!({
            "label": app.label,
            "signOnMode": SIGN_ON_MODE_OIDC,
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
            "settings": {"oauthClient": {
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "jwks": {"keys": ["PUBLIC_JWK"]},
            }},
        })
        .to_string()
        .replace("\"PUBLIC_JWK\"", "<your public JWK>");
        format!(
            "Demo app \"{}\" (client_id {client_id}): give it your public key, then request \
             tokens with client assertions signed by its private key:\n  curl {insecure}-X PUT \
             {auth} -H 'Content-Type: application/json' {issuer}/api/v1/apps/{} -d '{body}'",
            app.label, app.id
        )
    } else {
        format!(
            "Demo app \"{}\" (client_id {client_id}): mint a client secret (shown once) with:\n  \
             curl {insecure}-X POST {auth} {issuer}/api/v1/apps/{}/credentials/secrets",
            app.label, app.id
        )
    }
}

/// Registers the Workflows connections' callback, `{issuer}/workflows/oauth/callback`, on the
/// demo's "Okta Workflows OAuth" app (exact match, as `/authorize` compares it), so that a
/// connection on it can authorize. `steward serve --demo` calls it once the issuer is known;
/// `true` when it added the URI.
pub async fn register_workflows_callback(store: &Store, issuer: &str) -> Result<bool, AppError> {
    let uri = format!(
        "{}{}",
        issuer.trim_end_matches('/'),
        crate::flows::connections::CALLBACK_PATH
    );
    let found = store
        .apps(&steward_store::AppQuery {
            q: Some(crate::flows::connections::DEFAULT_APP_LABEL.to_lowercase()),
            limit: 20,
            ..Default::default()
        })
        .await?
        .into_iter()
        .find(|a| a.label == crate::flows::connections::DEFAULT_APP_LABEL);
    let Some(app) = found else {
        return Ok(false);
    };
    let mut tx = store.begin().await?;
    let mut app = tx.app(&app.id).await?;
    let Some(mut oidc) = app.oidc.clone() else {
        return Ok(false);
    };
    if oidc.redirect_uris.contains(&uri) {
        return Ok(false);
    }
    oidc.redirect_uris.push(uri);
    app.oidc = Some(oidc);
    app.last_updated = now_millis();
    tx.update_app(&app).await?;
    tx.record(
        steward_core::events::DomainEvent::AppUpdated {
            app_id: app.id.clone(),
            actor: Actor::system(),
        },
        &[],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Seeds a realistic org on an empty directory (only the bootstrap admin present): 50 users with
/// managers and departments, a dozen groups, and a few OIDC apps including "Okta Workflows OAuth".
/// Demo users' password is `DemoPassw0rd!`.
pub async fn seed_demo(store: &Store) -> Result<bool, AppError> {
    if store.count_users().await? > 1 {
        return Ok(false);
    }
    let now = now_millis();
    let password = hash_password("DemoPassw0rd!").map_err(AppError::Internal)?;
    let mut users: Vec<User> = Vec::new();
    for i in 0..50usize {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i * 7 + i / FIRST.len()) % LAST.len()];
        let (department, title) = DEPARTMENTS[i % DEPARTMENTS.len()];
        let login = format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase(),
            if i >= 25 { "2" } else { "" }
        );
        // The first user of each department leads it; the others report to them.
        let manager = users
            .get(i % DEPARTMENTS.len())
            .filter(|_| i >= DEPARTMENTS.len());
        let mut profile = object(json!({
            "login": login, "email": login, "firstName": first, "lastName": last,
            "department": department,
            "title": if i < DEPARTMENTS.len() { format!("Head of {department}") } else { title.to_string() },
            "employeeNumber": format!("{:05}", 1000 + i),
            "city": CITIES[i % CITIES.len()],
        }));
        if let Some(m) = manager {
            profile.insert("managerId".into(), Value::String(m.id.clone()));
            profile.insert("manager".into(), Value::String(m.login().to_string()));
        }
        users.push(User {
            id: new_id(IdKind::User),
            status: if i == 47 {
                UserStatus::Suspended
            } else if i == 48 {
                UserStatus::Staged
            } else {
                UserStatus::Active
            },
            created: now,
            activated: (i != 48).then_some(now),
            status_changed: Some(now),
            last_login: None,
            last_updated: now,
            password_changed: Some(now),
            profile,
            password_hash: Some(password.clone()),
        });
    }
    let group_names = [
        ("Engineering", "Everyone who builds the product"),
        ("Sales", "Sales organisation"),
        ("Finance", "Finance team"),
        ("Marketing", "Marketing team"),
        ("Support", "Customer support"),
        ("People", "People operations"),
        ("Managers", "People managers"),
        ("All Employees", "Every employee"),
        ("Contractors", "External contractors"),
        ("AWS Admins", "Administrators of the AWS accounts"),
        ("Salesforce Users", "Users of Salesforce"),
        ("On-call", "Production on-call rotation"),
    ];
    let groups: Vec<Group> = group_names
        .iter()
        .map(|(name, description)| Group {
            id: new_id(IdKind::Group),
            group_type: GROUP_TYPE_OKTA.into(),
            created: now,
            last_updated: now,
            last_membership_updated: now,
            profile: object(json!({"name": name, "description": description})),
        })
        .collect();
    let everyone = ensure_everyone(store).await?;
    let mut tx = store.begin().await?;
    for u in &users {
        tx.insert_user(u).await?;
        tx.add_member(&everyone.id, &u.id, now).await?;
    }
    for g in &groups {
        tx.insert_group(g).await?;
    }
    for (i, u) in users.iter().enumerate() {
        tx.add_member(&groups[i % DEPARTMENTS.len()].id, &u.id, now)
            .await?;
        tx.add_member(&groups[7].id, &u.id, now).await?;
        if i < DEPARTMENTS.len() {
            tx.add_member(&groups[6].id, &u.id, now).await?;
        }
        if i % DEPARTMENTS.len() == 0 && i % 4 == 0 {
            tx.add_member(&groups[11].id, &u.id, now).await?;
        }
    }
    let apps = [
        (
            "Okta Workflows OAuth",
            "web",
            vec!["authorization_code", "refresh_token"],
        ),
        ("Expense Portal", "web", vec!["authorization_code"]),
        ("Team Dashboard", "browser", vec!["authorization_code"]),
        (
            "Governance Automation",
            "service",
            vec!["client_credentials"],
        ),
    ];
    for (label, app_type, grants) in apps {
        let settings = json!({
            "application_type": app_type,
            "grant_types": grants,
            "redirect_uris": if app_type == "service" { json!([]) } else { json!([format!("http://localhost:3000/{}/callback", label.to_lowercase().replace(' ', "-"))]) },
        });
        let credentials = if app_type == "service" {
            json!({"token_endpoint_auth_method": "client_secret_basic"})
        } else {
            json!({})
        };
        let oidc = OidcClient::from_request(&settings, &credentials)
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let id = new_id(IdKind::App);
        // Demo secrets are never shown: `steward serve --demo` prints how to mint one
        // (POST /api/v1/apps/{appId}/credentials/secrets), shown once in its answer.
        let secret = match oidc.uses_secret() {
            true => Some(ClientSecret {
                id: new_id(IdKind::ClientSecret),
                app_id: id.clone(),
                hash: hash_password(&random_secret(48)).map_err(AppError::Internal)?,
                masked: None,
                status: "ACTIVE".into(),
                created: now,
                last_updated: now,
            }),
            false => None,
        };
        let app = App {
            id: id.clone(),
            name: "oidc_client".into(),
            label: label.into(),
            status: "ACTIVE".into(),
            sign_on_mode: SIGN_ON_MODE_OIDC.into(),
            created: now,
            last_updated: now,
            client_id: Some(id),
            oidc: Some(oidc),
        };
        tx.insert_app(&app).await?;
        if let Some(secret) = &secret {
            tx.insert_client_secret(secret).await?;
        }
        if app_type != "service" {
            for u in users.iter().take(10) {
                tx.upsert_app_user(&AppUserAssignment {
                    app_id: app.id.clone(),
                    user_id: u.id.clone(),
                    scope: "USER".into(),
                    profile: Map::new(),
                    created: now,
                    last_updated: now,
                })
                .await?;
            }
        }
    }
    tx.append_log(&LogEvent::new(
        "system.org.seed",
        "Seed the demo org",
        Actor::system(),
        now,
    ))
    .await?;
    tx.commit().await?;
    crate::governance::demo::seed(store).await?;
    Ok(true)
}
