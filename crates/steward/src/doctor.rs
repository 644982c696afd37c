//! `steward doctor`: explains a failing API call (or an app's grants) and the exact fix.
//!
//! It talks to a running Steward over HTTP, like any client. For a failing call it checks, in one
//! pass and in the guard's order, the credential (valid, expired, revoked, DPoP-bound), the scope
//! (in the token? granted to the app? granted after the token was issued?) and the principal's
//! admin roles against the route's permission, and prints every problem at once with its fix.
//! What each route needs comes from the server's own route table (`steward routes`), so the
//! least-privileged role it names is the one the guard will accept. `--fix` (with a Super
//! Admin's SSWS token) grants the scope and, after confirmation or with `--yes`, assigns the role.
//! The exit status is 0 only when the call succeeds, or would with a token the client can now get.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::Args;
use serde::Serialize;
use serde_json::{json, Value};
use steward_api::routes::RouteInfo;
use steward_core::roles::RoleType;
use steward_core::timefmt::format_millis;

use crate::{print_json, Output, RemoteArgs};

#[derive(Args)]
pub struct DoctorArgs {
    /// The URL of the failing call, e.g. https://org.example/governance/api/v1/requests/abc.
    #[arg(long)]
    url: Option<String>,
    /// The token the call used: an access token (JWT), or an SSWS API token (`SSWS …` or bare).
    #[arg(long, env = "STEWARD_DOCTOR_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The HTTP method of the failing call.
    #[arg(long, default_value = "GET")]
    method: String,
    /// Diagnose an app instead: its app id or client_id.
    #[arg(long)]
    app: Option<String>,
    /// With --app: the scope the app should have.
    #[arg(long)]
    scope: Option<String>,
    /// Fix what can be fixed with --admin-token: grant the missing scope, and (after
    /// confirmation, or with --yes) assign the least-privileged role that allows the call.
    #[arg(long)]
    fix: bool,
    /// With --fix: assign the role without asking.
    #[arg(long)]
    yes: bool,
    /// Send a POST, PUT, PATCH or DELETE call as given (it may change data). Without it doctor
    /// replays only GET and HEAD, and checks other calls without sending them.
    #[arg(long)]
    replay: bool,
}

/// The Super Admin's side: reads grants and roles, and fixes them.
struct Admin<'a> {
    http: &'a reqwest::Client,
    org: &'a str,
    token: &'a str,
}

impl Admin<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.org))
            .header("Authorization", format!("SSWS {}", self.token))
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request
            .send()
            .await
            .with_context(|| format!("calling {}", self.org))?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> Result<(u16, Value)> {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn app(&self, id_or_client: &str) -> Result<Value> {
        let (status, app) = self
            .get(&format!("/api/v1/apps/{}", urlencode(id_or_client)))
            .await?;
        if status == 200 {
            return Ok(app);
        }
        let filter = format!("client_id eq \"{id_or_client}\"");
        let (_, apps) = self
            .get(&format!("/api/v1/apps?filter={}", urlencode(&filter)))
            .await?;
        apps.get(0)
            .cloned()
            .with_context(|| format!("no app with id or client_id {id_or_client}"))
    }

    async fn grants(&self, app_id: &str) -> Result<Vec<Value>> {
        let (status, grants) = self.get(&format!("/api/v1/apps/{app_id}/grants")).await?;
        if status != 200 {
            bail!("reading the app's grants answered {status}: {grants} (is the admin token a Super Admin's?)");
        }
        Ok(grants.as_array().cloned().unwrap_or_default())
    }

    async fn grant(&self, app_id: &str, scope: &str) -> Result<Value> {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/apps/{app_id}/grants"),
                Some(json!({"scopeId": scope, "issuer": self.org})),
            )
            .await?;
        if status != 201 && status != 200 {
            bail!("granting {scope} answered {status}: {body}");
        }
        Ok(body)
    }

    /// The role types of a principal, by its roles path.
    async fn roles(&self, roles_path: &str) -> Result<Vec<String>> {
        let (status, roles) = self.get(roles_path).await?;
        if status != 200 {
            bail!("reading {roles_path} answered {status}: {roles}");
        }
        Ok(roles
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|x| x["type"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn assign(&self, roles_path: &str, role: RoleType) -> Result<()> {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                roles_path,
                Some(json!({"type": role.as_str()})),
            )
            .await?;
        if !(200..300).contains(&status) {
            bail!("assigning {} answered {status}: {body}", role.as_str());
        }
        Ok(())
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The payload of a JWT, unverified (this is a diagnosis, not an authorization).
fn claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn parse_time(s: &str) -> Option<i64> {
    steward_core::timefmt::parse_rfc3339_millis(s).map(|ms| ms / 1000)
}

fn iso(seconds: i64) -> String {
    format_millis(seconds.saturating_mul(1000))
}

/// The route a concrete path was served by: `/api/v1/users/00u1` matches `/api/v1/users/{id}`.
/// A literal segment wins over a parameter (`/users/me/…` style routes).
fn route_of<'a>(table: &'a [RouteInfo], method: &str, path: &str) -> Option<&'a RouteInfo> {
    let method = if method == "HEAD" { "GET" } else { method };
    let want: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    table
        .iter()
        .filter(|r| r.method == method)
        .filter_map(|r| {
            let have: Vec<&str> = r.path.split('/').collect();
            if have.len() != want.len() {
                return None;
            }
            let mut literals = 0;
            for (h, w) in have.iter().zip(&want) {
                if h.starts_with('{') && h.ends_with('}') {
                    if w.is_empty() {
                        return None;
                    }
                } else if h == w {
                    literals += 1;
                } else {
                    return None;
                }
            }
            Some((literals, r))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, r)| r)
}

/// How the failing call authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum CredentialKind {
    /// `Authorization: SSWS …`: unscoped, acts with its admin's roles.
    Ssws,
    /// An access token of a service app (client credentials): acts with the app's roles.
    ServiceAppToken,
    /// An access token issued to a user (authorization code, refresh): acts with the user's roles.
    UserToken,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Credential {
    kind: CredentialKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    /// The user the call acts as (user tokens and SSWS tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    dpop_bound: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Need {
    path: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    permission: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    least_role: Option<String>,
    self_service: bool,
}

/// One thing that stands between the call and a 2xx.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Problem {
    /// `token`, `scope` or `role`.
    check: &'static str,
    message: String,
    fix: String,
    /// Whether `--fix` took care of it (the client may still need a new token: `nextSteps`).
    fixed: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    method: String,
    url: String,
    /// The answer to the replayed call; none when it was not sent (see `--replay`).
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<Need>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<Credential>,
    /// What was checked and found right.
    passed: Vec<String>,
    problems: Vec<Problem>,
    /// What the client must do after the fixes (get a new token…).
    next_steps: Vec<String>,
    /// Whether the call succeeds now, or would with a token the client can now get.
    would_succeed: bool,
}

/// `remote` holds the global `--org` (default: taken from --url), `--admin-token` (a Super
/// Admin's SSWS token, to read the app's grants and roles and to fix them) and `--insecure`.
/// Returns whether the call succeeds (or would with a new token): the process's exit status.
pub async fn run(args: DoctorArgs, remote: &RemoteArgs, output: Output) -> Result<bool> {
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(remote.insecure)
        .build()?;
    let org = match (&remote.org, &args.url) {
        (Some(org), _) => org.trim_end_matches('/').to_string(),
        (None, Some(url)) => {
            let parsed = url::Url::parse(url).context("--url is not a URL")?;
            parsed.origin().ascii_serialization()
        }
        (None, None) => bail!("give --url (with --token) to diagnose a call, or --org with --app"),
    };
    let admin = remote.admin_token.as_deref().map(|token| Admin {
        http: &http,
        org: &org,
        token,
    });
    if let Some(app) = &args.app {
        diagnose_app(admin.as_ref(), app, args.scope.as_deref(), args.fix).await?;
        return Ok(true);
    }
    let (Some(url), Some(token)) = (&args.url, &args.token) else {
        bail!("give --url and --token of the failing call");
    };
    let report = diagnose_call(&http, admin.as_ref(), &org, &args, url, token).await?;
    match output {
        Output::Json => print_json(&serde_json::to_value(&report)?),
        Output::Text => print_report(&report),
    }
    Ok(report.would_succeed)
}

async fn diagnose_call(
    http: &reqwest::Client,
    admin: Option<&Admin<'_>>,
    org: &str,
    args: &DoctorArgs,
    url: &str,
    raw_token: &str,
) -> Result<Report> {
    let method = args.method.to_uppercase();
    let parsed = url::Url::parse(url).context("--url is not a URL")?;
    // A pasted header value is fine: `Bearer eyJ…`, `SSWS 00…`, `DPoP eyJ…`.
    let (scheme, token) = match raw_token.trim().split_once(' ') {
        Some((s, t)) if ["bearer", "ssws", "dpop"].contains(&s.to_lowercase().as_str()) => {
            (Some(s.to_lowercase()), t.trim())
        }
        _ => (None, raw_token.trim()),
    };
    let jwt = claims(token).filter(|_| scheme.as_deref() != Some("ssws"));
    let table = steward_api::routes::table();
    let route = route_of(&table, &method, parsed.path());

    // Replay the call as the client made it (a DPoP-bound token cannot be replayed without the
    // client's key: its answer then says nothing about scopes or roles).
    let dpop_bound = jwt.as_ref().is_some_and(|c| c["cnf"]["jkt"].is_string());
    let header = match &jwt {
        Some(_) => format!("Bearer {token}"),
        None => format!("SSWS {token}"),
    };
    // A call that changes data is not sent (unless --replay): the credential is probed with a
    // harmless read of the caller itself, and scope and roles are checked from the route table.
    let replayed = method == "GET" || method == "HEAD" || args.replay;
    let (send_method, send_url) = if replayed {
        (
            reqwest::Method::from_bytes(method.as_bytes())?,
            url.to_string(),
        )
    } else {
        (reqwest::Method::GET, format!("{org}/api/v1/users/me"))
    };
    let response = http
        .request(send_method, &send_url)
        .header("Authorization", header)
        .header("Accept", "application/json")
        .send()
        .await
        .with_context(|| format!("calling {send_url}"))?;
    let status = response.status().as_u16();
    let succeeded = replayed && (200..300).contains(&status);
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: Value = response.json().await.unwrap_or(Value::Null);

    let mut report = Report {
        method: method.clone(),
        url: url.to_string(),
        status: replayed.then_some(status),
        route: route.map(|r| Need {
            path: r.path.clone(),
            scope: r.scope.to_string(),
            permission: r.permission.map(|p| p.as_str().to_string()),
            least_role: r.role.map(|role| role.as_str().to_string()),
            self_service: r.self_service,
        }),
        credential: None,
        passed: vec![],
        problems: vec![],
        next_steps: vec![],
        would_succeed: false,
    };
    let Some(route) = route else {
        if succeeded {
            report.passed.push(format!("the call answers {status}"));
            report.would_succeed = true;
            return Ok(report);
        }
        report.problems.push(Problem {
            check: "route",
            message: format!(
                "{method} {} is not a guarded route of this org",
                parsed.path(),
            ),
            fix: "check the method and path against `steward routes`".into(),
            fixed: false,
        });
        return Ok(report);
    };

    // 1. The credential.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let credential = match &jwt {
        Some(c) => {
            let client_id = c["cid"].as_str().map(String::from);
            let subject = c["sub"].as_str().unwrap_or_default();
            let user_id = c["uid"].as_str().map(String::from);
            let kind = if user_id.is_none() && client_id.as_deref() == Some(subject) {
                CredentialKind::ServiceAppToken
            } else {
                CredentialKind::UserToken
            };
            Credential {
                kind,
                client_id,
                user_id,
                scopes: c["scp"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
                issued_at: c["iat"].as_i64().map(iso),
                expires_at: c["exp"].as_i64().map(iso),
                dpop_bound,
            }
        }
        None => Credential {
            kind: CredentialKind::Ssws,
            client_id: None,
            user_id: ssws_user(http, org, token).await,
            scopes: vec![],
            issued_at: None,
            expires_at: None,
            dpop_bound: false,
        },
    };
    if succeeded {
        report.passed.push(format!("the call answers {status}"));
        report.would_succeed = true;
        report.credential = Some(credential);
        return Ok(report);
    }
    let expired = jwt
        .as_ref()
        .and_then(|c| c["exp"].as_i64())
        .is_some_and(|exp| exp <= now);
    // A DPoP-bound token replayed without its proof is refused whatever its state.
    let token_refused = status == 401 && (expired || !dpop_bound);
    if expired {
        report.problems.push(Problem {
            check: "token",
            message: format!(
                "the access token expired at {}",
                report_time(&credential.expires_at)
            ),
            fix: new_token_step(&credential, org, route.scope),
            fixed: false,
        });
    } else if token_refused {
        let why = match credential.kind {
            CredentialKind::Ssws => {
                "the SSWS token is unknown, revoked or expired, or its user is not an active admin"
            }
            _ => "the access token is revoked, malformed, or was issued by another org",
        };
        report.problems.push(Problem {
            check: "token",
            message: format!("{why} ({})", challenge.trim()),
            fix: match credential.kind {
                CredentialKind::Ssws => {
                    "create a new API token (`steward tokens create`) for an active admin".into()
                }
                _ => new_token_step(&credential, org, route.scope),
            },
            fixed: false,
        });
    } else if dpop_bound && status == 401 {
        report.passed.push(
            "the token is DPoP-bound: doctor cannot replay it without the client's key, so scope and roles are checked from its claims"
                .into(),
        );
    } else {
        report.passed.push("the token is valid".into());
    }

    // 2. Self-service routes take user tokens only.
    if route.self_service && credential.kind != CredentialKind::UserToken {
        report.problems.push(Problem {
            check: "token",
            message: format!(
                "{} is an end-user route: it acts as the signed-in user, so it takes a user's access token (not an SSWS token, not a client-credentials token)",
                route.path
            ),
            fix: "sign the user in with the authorization code flow and call with that token".into(),
            fixed: false,
        });
    }

    // 3. The scope (OAuth tokens only: SSWS tokens are unscoped).
    let app = match (&credential.client_id, admin) {
        (Some(client_id), Some(admin)) => Some(admin.app(client_id).await?),
        _ => None,
    };
    let app_id = app
        .as_ref()
        .and_then(|a| a["id"].as_str())
        .map(String::from)
        .or_else(|| credential.client_id.clone());
    let label = app
        .as_ref()
        .and_then(|a| a["label"].as_str())
        .unwrap_or("the app")
        .to_string();
    let mut scope_fix_needs_new_token = false;
    if credential.kind != CredentialKind::Ssws {
        let needed = route.scope;
        let held = credential
            .scopes
            .iter()
            .any(|s| steward_core::scopes::implies(s, needed));
        if held {
            report.passed.push(format!("the token carries {needed}"));
        } else {
            scope_fix_needs_new_token = true;
            let app_id = app_id.clone().unwrap_or_default();
            let grant = match (admin, &app) {
                (Some(admin), Some(_)) => Some(
                    admin
                        .grants(&app_id)
                        .await?
                        .into_iter()
                        .find(|g| g["scopeId"] == needed && g["status"] != "REVOKED"),
                ),
                _ => None,
            };
            let issued = jwt.as_ref().and_then(|c| c["iat"].as_i64()).unwrap_or(0);
            match grant {
                Some(Some(grant)) => {
                    let since = grant["created"].as_str().unwrap_or("?").to_string();
                    let after = parse_time(&since).is_some_and(|granted| granted >= issued);
                    report.problems.push(Problem {
                        check: "scope",
                        message: if after {
                            format!("the token does not carry {needed}: \"{label}\" was granted it at {since}, after the token was issued at {} (a token keeps the scopes it was issued with)", report_time(&credential.issued_at))
                        } else {
                            format!("the token does not carry {needed}, although \"{label}\" has had it granted since {since}: the client did not ask for it in its `scope` parameter")
                        },
                        fix: new_token_step(&credential, org, needed),
                        fixed: true,
                    });
                }
                Some(None) => {
                    let mut fixed = false;
                    if args.fix {
                        if let Some(admin) = admin {
                            admin.grant(&app_id, needed).await?;
                            fixed = true;
                        }
                    }
                    report.problems.push(Problem {
                        check: "scope",
                        message: format!("the token does not carry {needed}, and \"{label}\" ({app_id}) has not been granted it"),
                        fix: if fixed {
                            format!("granted {needed} to \"{label}\"")
                        } else {
                            format!("grant it: Admin Console > Applications > {label} > Okta API Scopes > Grant {needed}, or POST {org}/api/v1/apps/{app_id}/grants {{\"scopeId\":\"{needed}\",\"issuer\":\"{org}\"}} (or rerun with --fix and a Super Admin's --admin-token)")
                        },
                        fixed,
                    });
                }
                None => report.problems.push(Problem {
                    check: "scope",
                    message: format!("the token does not carry {needed}"),
                    fix: format!("a Super Admin grants {needed} to the app {app_id} (Applications > the app > Okta API Scopes > Grant), then the client gets a new token; rerun with --admin-token to check the app's grants"),
                    fixed: false,
                }),
            }
        }
    }

    // 4. The principal's roles against the route's permission.
    let mut role_fixed = false;
    if let (false, Some(permission), Some(least)) =
        (route.self_service, route.permission, route.role)
    {
        let roles_path = match credential.kind {
            CredentialKind::ServiceAppToken => credential
                .client_id
                .as_ref()
                .map(|c| format!("/oauth2/v1/clients/{}/roles", urlencode(c))),
            _ => credential
                .user_id
                .as_ref()
                .map(|u| format!("/api/v1/users/{}/roles", urlencode(u))),
        };
        let who = match credential.kind {
            CredentialKind::ServiceAppToken => format!("the service app \"{label}\""),
            _ => format!(
                "the user {}",
                credential.user_id.as_deref().unwrap_or("the token acts as")
            ),
        };
        let held = match (admin, &roles_path) {
            (Some(admin), Some(path)) => Some(admin.roles(path).await?),
            _ => None,
        };
        let allowed = held.as_ref().map(|roles| {
            roles
                .iter()
                .filter_map(|r| RoleType::parse(r))
                .any(|r| r.allows(permission))
        });
        let refused_by_role = replayed && status == 403 && body["errorCode"] == "E0000006";
        match allowed {
            Some(true) if refused_by_role => report.problems.push(Problem {
                check: "role",
                message: format!("{who} holds a role that allows {} in general, but this target is privileged (a Super Admin, or an app with grants or roles): only a Super Admin may change it", permission.as_str()),
                fix: "make the change as a Super Admin".into(),
                fixed: false,
            }),
            Some(true) => report
                .passed
                .push(format!("{who} holds a role that allows {}", permission.as_str())),
            Some(false) => {
                let holds = held.clone().unwrap_or_default();
                let mut fixed = false;
                if args.fix {
                    if let (Some(admin), Some(path)) = (admin, &roles_path) {
                        if args.yes || confirm(&format!("Assign {} to {who}?", least.as_str()))? {
                            admin.assign(path, least).await?;
                            fixed = true;
                            role_fixed = true;
                        }
                    }
                }
                let path = roles_path.clone().unwrap_or_default();
                report.problems.push(Problem {
                    check: "role",
                    message: format!(
                        "{who} has no admin role that allows {} (holds: {}); the least-privileged role that does is {} ({})",
                        permission.as_str(),
                        if holds.is_empty() { "none".into() } else { holds.join(", ") },
                        least.as_str(),
                        least.label(),
                    ),
                    fix: if fixed {
                        format!("assigned {} to {who}; roles apply to tokens already issued", least.as_str())
                    } else {
                        format!("assign the role: POST {org}{path} {{\"type\":\"{}\"}} (or rerun with --fix --yes and a Super Admin's --admin-token)", least.as_str())
                    },
                    fixed,
                });
            }
            None if refused_by_role => report.problems.push(Problem {
                check: "role",
                message: format!("{who} has no admin role that allows {} (E0000006)", permission.as_str()),
                fix: format!(
                    "assign {} ({}); rerun with a Super Admin's --admin-token to check and fix the roles",
                    least.as_str(),
                    least.label()
                ),
                fixed: false,
            }),
            None => report.passed.push(format!(
                "roles not checked (needs --admin-token); the route needs {}, which {} allows",
                permission.as_str(),
                least.as_str()
            )),
        }
    }

    // What remains: a new token when the scope was the problem; nothing else if all is fixed.
    let unfixed = report.problems.iter().filter(|p| !p.fixed).count();
    if report.problems.is_empty() {
        if !replayed {
            report.passed.push(format!(
                "the credential, its scope and its roles allow the call (not sent: {method} may change data; --replay sends it)"
            ));
            report.would_succeed = true;
        } else if status == 401 || status == 403 {
            report.problems.push(Problem {
                check: "unknown",
                message: format!(
                    "refused with {status} {} ({}) for a reason doctor cannot see",
                    body["errorCode"].as_str().unwrap_or_default(),
                    body["errorSummary"].as_str().unwrap_or_default()
                ),
                fix: "see the org's System Log for the refusal".into(),
                fixed: false,
            });
        } else {
            report.passed.push(format!(
                "authorized: the answer {status} {} is about the request itself, not its credentials",
                body["errorCode"].as_str().unwrap_or_default()
            ));
            report.would_succeed = true;
        }
    } else {
        report.would_succeed = unfixed == 0;
        if report.would_succeed {
            if scope_fix_needs_new_token {
                report
                    .next_steps
                    .push(new_token_step(&credential, org, route.scope));
            } else if role_fixed {
                report
                    .next_steps
                    .push("call again: role changes apply to tokens already issued".into());
            }
        }
    }
    report.credential = Some(credential);
    Ok(report)
}

fn report_time(t: &Option<String>) -> String {
    t.clone().unwrap_or_else(|| "?".into())
}

/// How this client gets a token with the scope: depends on how it got this one.
fn new_token_step(credential: &Credential, org: &str, scope: &str) -> String {
    match credential.kind {
        CredentialKind::ServiceAppToken => format!(
            "request a new token: POST {org}/oauth2/v1/token with grant_type=client_credentials and scope={scope} (the client's own credentials)"
        ),
        CredentialKind::UserToken => format!(
            "authorize again: the client sends the user through {org}/oauth2/v1/authorize with scope={scope} (a refresh never widens scopes); for an Okta Workflows connection: Connections > the connection > Reauthorize"
        ),
        CredentialKind::Ssws => "SSWS tokens are unscoped: nothing to renew".into(),
    }
}

/// The user an SSWS token acts as (`GET /api/v1/users/me` with the token itself).
async fn ssws_user(http: &reqwest::Client, org: &str, token: &str) -> Option<String> {
    let r = http
        .get(format!("{org}/api/v1/users/me"))
        .header("Authorization", format!("SSWS {token}"))
        .send()
        .await
        .ok()?;
    let body: Value = r.json().await.ok()?;
    body["id"].as_str().map(String::from)
}

/// Asks on the terminal; without one (a script), the answer is no: pass --yes.
fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn print_report(r: &Report) {
    match r.status {
        Some(status) => println!("{} {} -> {status}", r.method, r.url),
        None => println!("{} {} (not sent: checked without calling)", r.method, r.url),
    }
    if let Some(route) = &r.route {
        match (&route.permission, &route.least_role) {
            (Some(p), Some(role)) => println!(
                "Route {} needs scope {} and permission {p} (least role: {role}).",
                route.path, route.scope
            ),
            _ => println!(
                "Route {} needs scope {} and a user's token (end-user route).",
                route.path, route.scope
            ),
        }
    }
    if let Some(c) = &r.credential {
        let who = match c.kind {
            CredentialKind::Ssws => format!(
                "SSWS API token of user {}",
                c.user_id.as_deref().unwrap_or("?")
            ),
            CredentialKind::ServiceAppToken => format!(
                "access token of service app {} (client credentials)",
                c.client_id.as_deref().unwrap_or("?")
            ),
            CredentialKind::UserToken => format!(
                "access token of user {} via client {}",
                c.user_id.as_deref().unwrap_or("?"),
                c.client_id.as_deref().unwrap_or("?")
            ),
        };
        println!("Credential: {who}");
        if c.kind != CredentialKind::Ssws {
            println!(
                "  scopes [{}], issued {}, expires {}{}",
                c.scopes.join(" "),
                report_time(&c.issued_at),
                report_time(&c.expires_at),
                if c.dpop_bound { ", DPoP-bound" } else { "" }
            );
        }
    }
    for p in &r.passed {
        println!("  ok: {p}");
    }
    for p in &r.problems {
        println!("  PROBLEM ({}): {}", p.check, p.message);
        if p.fixed {
            println!("    Fixed: {}", p.fix);
        } else {
            println!("    Fix: {}", p.fix);
        }
    }
    for step in &r.next_steps {
        println!("Next: {step}");
    }
    if r.would_succeed && !r.problems.is_empty() {
        println!("With that, the call will succeed.");
    } else if !r.would_succeed {
        let open = r.problems.iter().filter(|p| !p.fixed).count();
        println!("The call still fails: {open} problem(s) to fix.");
    }
}

async fn diagnose_app(
    admin: Option<&Admin<'_>>,
    app: &str,
    scope: Option<&str>,
    fix: bool,
) -> Result<()> {
    let Some(admin) = admin else {
        bail!("--app needs --admin-token (a Super Admin's SSWS token)")
    };
    let app = admin.app(app).await?;
    let app_id = app["id"].as_str().unwrap_or_default().to_string();
    let label = app["label"].as_str().unwrap_or_default().to_string();
    let client_id = app["credentials"]["oauthClient"]["client_id"]
        .as_str()
        .unwrap_or(&app_id)
        .to_string();
    let grants = admin.grants(&app_id).await?;
    let scopes: Vec<&str> = grants
        .iter()
        .filter_map(|g| g["scopeId"].as_str())
        .collect();
    println!("App \"{label}\" ({app_id}), client_id {client_id}");
    println!(
        "Granted Okta API scopes: {}",
        if scopes.is_empty() {
            "none".to_string()
        } else {
            scopes.join(" ")
        }
    );
    let role_types = admin
        .roles(&format!(
            "/oauth2/v1/clients/{}/roles",
            urlencode(&client_id)
        ))
        .await?;
    println!(
        "Admin roles of the app (for client-credentials tokens): {}",
        if role_types.is_empty() {
            "none".to_string()
        } else {
            role_types.join(" ")
        }
    );
    if let Some(scope) = scope {
        if scopes.contains(&scope) {
            println!("{scope} is granted. A client that lacks it must authorize again.");
        } else if fix {
            let grant = admin.grant(&app_id, scope).await?;
            println!(
                "Granted {scope} (grant {}). The client must authorize again to get it.",
                grant["id"].as_str().unwrap_or("?")
            );
        } else {
            println!("{scope} is not granted. Fix: add --fix, or Admin Console: Applications > {label} > Okta API Scopes > Grant.");
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn info(method: &'static str, path: &str) -> RouteInfo {
        RouteInfo {
            family: "test",
            method,
            path: path.into(),
            scope: "okta.users.read",
            permission: None,
            self_service: false,
            role: None,
        }
    }

    #[test]
    fn a_concrete_path_finds_its_route_and_literals_win() {
        let table = vec![
            info("GET", "/api/v1/users/{id}"),
            info("GET", "/api/v1/users/{id}/groups"),
            info(
                "GET",
                "/governance/api/v2/catalogs/default/entries/{entryId}",
            ),
            info(
                "GET",
                "/governance/api/v2/catalogs/{catalogId}/entries/{entryId}",
            ),
        ];
        let hit = |m, p| route_of(&table, m, p).map(|r| r.path.as_str());
        assert_eq!(hit("GET", "/api/v1/users/00u1"), Some("/api/v1/users/{id}"));
        assert_eq!(
            hit("HEAD", "/api/v1/users/00u1/"),
            Some("/api/v1/users/{id}")
        );
        assert_eq!(
            hit("GET", "/api/v1/users/00u1/groups"),
            Some("/api/v1/users/{id}/groups")
        );
        assert_eq!(hit("POST", "/api/v1/users/00u1"), None);
        assert_eq!(hit("GET", "/api/v1/users"), None);
        assert_eq!(
            hit("GET", "/governance/api/v2/catalogs/default/entries/x"),
            Some("/governance/api/v2/catalogs/default/entries/{entryId}")
        );
    }

    #[test]
    fn a_pasted_jwt_has_claims_and_an_ssws_token_has_none() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"cid":"0oa1","scp":["a"]}"#);
        assert_eq!(
            claims(&format!("e30.{payload}.sig")).unwrap()["cid"],
            "0oa1"
        );
        assert!(claims("00abcdefghijklmnopqrstuvwxyz0123456789ABCD").is_none());
    }
}
