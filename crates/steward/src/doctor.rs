//! `steward doctor`: explains a failing API call (or an app's grants) and the exact fix.
//!
//! It talks to a running Steward over HTTP, like any client: the failing call is replayed with
//! the given token, the `WWW-Authenticate` challenge says which scope is missing, the token's own
//! claims say which app it belongs to and when it was issued, and (with a Super Admin's SSWS
//! token) the app's grants say whether the scope is granted and since when. `--fix` grants it.

use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::Args;
use serde_json::{json, Value};

#[derive(Args)]
pub struct DoctorArgs {
    /// The URL of the failing call, e.g. https://org.example/governance/api/v1/requests/abc.
    #[arg(long)]
    url: Option<String>,
    /// The access token the call used.
    #[arg(long, env = "STEWARD_DOCTOR_TOKEN")]
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
    /// Grant the missing scope to the app.
    #[arg(long)]
    fix: bool,
}

struct Admin<'a> {
    http: &'a reqwest::Client,
    org: &'a str,
    token: &'a str,
}

impl Admin<'_> {
    async fn get(&self, path: &str) -> Result<(u16, Value)> {
        let r = self
            .http
            .get(format!("{}{path}", self.org))
            .header("Authorization", format!("SSWS {}", self.token))
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    async fn app(&self, id_or_client: &str) -> Result<Value> {
        let (status, app) = self.get(&format!("/api/v1/apps/{id_or_client}")).await?;
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
        let r = self
            .http
            .post(format!("{}/api/v1/apps/{app_id}/grants", self.org))
            .header("Authorization", format!("SSWS {}", self.token))
            .json(&json!({"scopeId": scope, "issuer": self.org}))
            .send()
            .await?;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status != 201 {
            bail!("granting {scope} answered {status}: {body}");
        }
        Ok(body)
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The payload of a JWT, unverified (this is a diagnosis, not an authorization).
fn claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `key="value"` from a WWW-Authenticate header.
fn challenge_param(header: &str, key: &str) -> Option<String> {
    let start = header.find(&format!("{key}=\""))? + key.len() + 2;
    let rest = &header[start..];
    Some(rest[..rest.find('"')?].to_string())
}

fn parse_time(s: &str) -> Option<i64> {
    steward_core::timefmt::parse_rfc3339_millis(s).map(|ms| ms / 1000)
}

/// `remote` holds the global `--org` (default: taken from --url), `--admin-token` (a Super
/// Admin's SSWS token, to read the app's grants and to grant with --fix) and `--insecure`.
pub async fn run(args: DoctorArgs, remote: &crate::RemoteArgs) -> Result<()> {
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
        return diagnose_app(admin.as_ref(), app, args.scope.as_deref(), args.fix).await;
    }
    let (Some(url), Some(token)) = (&args.url, &args.token) else {
        bail!("give --url and --token of the failing call");
    };
    let method = reqwest::Method::from_bytes(args.method.to_uppercase().as_bytes())?;
    let response = http
        .request(method, url)
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await?;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let claims = claims(token);
    println!("{} {url} -> {status}", args.method.to_uppercase());
    if (200..300).contains(&status) {
        println!("The call succeeds: nothing to fix.");
        return Ok(());
    }
    if status == 401 {
        println!("The token is not accepted ({}): it is malformed, expired, revoked, or from another org.", challenge);
        println!("Fix: get a new access token from {org}/oauth2/v1/token.");
        return Ok(());
    }
    let Some(claims) = claims else {
        println!("The token is not a JWT access token of this org; answer: {body}");
        return Ok(());
    };
    let client_id = claims["cid"].as_str().unwrap_or_default().to_string();
    let held: Vec<&str> = claims["scp"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    println!(
        "Token: client {client_id}, scopes [{}], issued at {}",
        held.join(" "),
        claims["iat"]
    );
    if status == 403 && challenge.contains("insufficient_scope") {
        let needed = challenge_param(&challenge, "scope").unwrap_or_default();
        println!("Missing scope: {needed} (the token does not carry it).");
        let Some(admin) = admin else {
            println!("Fix: a Super Admin grants {needed} to the app (Admin Console: Applications > the app > Okta API Scopes > Grant,");
            println!("     or: POST {org}/api/v1/apps/<appId>/grants {{\"scopeId\":\"{needed}\",\"issuer\":\"{org}\"}}),");
            println!("     then the client authorizes again to get a new token. Pass --admin-token to check the app's grants.");
            return Ok(());
        };
        let app = admin.app(&client_id).await?;
        let app_id = app["id"].as_str().unwrap_or_default().to_string();
        let label = app["label"].as_str().unwrap_or_default();
        let grants = admin.grants(&app_id).await?;
        match grants.iter().find(|g| g["scopeId"] == needed.as_str()) {
            Some(grant) => {
                let granted = grant["created"].as_str().and_then(parse_time).unwrap_or(0);
                let issued = claims["iat"].as_i64().unwrap_or(0);
                println!(
                    "The app \"{label}\" ({app_id}) has {needed} granted since {}.",
                    grant["created"].as_str().unwrap_or("?")
                );
                if issued <= granted {
                    println!("The token predates the grant: tokens keep the scopes they were issued with.");
                } else {
                    println!("The token was issued after the grant without this scope: the client must ask for it in its 'scope' parameter.");
                }
                println!("Fix: the client authorizes again (a new /oauth2/v1/token request) to get a token with {needed}.");
            }
            None => {
                println!("The app \"{label}\" ({app_id}) does not have {needed} granted.");
                if args.fix {
                    let grant = admin.grant(&app_id, &needed).await?;
                    println!(
                        "Granted {needed} to \"{label}\" (grant {}).",
                        grant["id"].as_str().unwrap_or("?")
                    );
                    println!("Now the client authorizes again to get a token with {needed}.");
                } else {
                    println!("Fix: steward doctor --app {app_id} --scope {needed} --fix --org {org} --admin-token <super admin SSWS token>");
                    println!("     (or Admin Console: Applications > {label} > Okta API Scopes > Grant {needed}), then authorize again.");
                }
            }
        }
        return Ok(());
    }
    if status == 403 && body["errorCode"] == "E0000006" {
        println!("The token has the scope, but its principal's admin roles do not allow this call (E0000006).");
        match claims["uid"].as_str() {
            Some(uid) => println!("Fix: assign the user {uid} a role that allows it: POST {org}/api/v1/users/{uid}/roles {{\"type\":\"…\"}}."),
            None => println!("Fix: assign the service app a role that allows it: POST {org}/oauth2/v1/clients/{client_id}/roles {{\"type\":\"…\"}}."),
        }
        return Ok(());
    }
    println!("Steward answered: {body}");
    Ok(())
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
    let grants = admin.grants(&app_id).await?;
    let scopes: Vec<&str> = grants
        .iter()
        .filter_map(|g| g["scopeId"].as_str())
        .collect();
    println!(
        "App \"{label}\" ({app_id}), client_id {}",
        app["credentials"]["oauthClient"]["client_id"]
            .as_str()
            .unwrap_or("?")
    );
    println!(
        "Granted Okta API scopes: {}",
        if scopes.is_empty() {
            "none".to_string()
        } else {
            scopes.join(" ")
        }
    );
    let (_, roles) = admin
        .get(&format!(
            "/oauth2/v1/clients/{}/roles",
            app["credentials"]["oauthClient"]["client_id"]
                .as_str()
                .unwrap_or(&app_id)
        ))
        .await?;
    let role_types: Vec<&str> = roles
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["type"].as_str()).collect())
        .unwrap_or_default();
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
