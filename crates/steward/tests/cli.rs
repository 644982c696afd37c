//! The `steward` binary as a user runs it: `serve`, `tokens`, restarts, and two nodes on one
//! PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_steward");

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_dir() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("steward-cli-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `steward serve` with `args` and waits for `/healthz`.
async fn serve(storage: &[&str], env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .arg("--listen")
        .arg(&listen)
        .args(storage)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server {
        child: cmd.spawn().unwrap(),
        base: format!("http://{listen}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await {
            if r.status() == 200 {
                return server;
            }
        }
        assert!(
            Instant::now() < deadline,
            "steward serve did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn call(
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("Authorization", format!("SSWS {token}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn new_user(login: &str) -> Value {
    json!({"profile": {"login": login, "email": login, "firstName": "Cli", "lastName": "User"}})
}

#[tokio::test]
async fn tokens_created_by_the_cli_work_and_revoked_ones_do_not() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    // Bootstrap the org once so the admin exists.
    drop(
        serve(
            &["--data-dir", data],
            &[("STEWARD_BOOTSTRAP_ADMIN_PASSWORD", "Adm1n-Password")],
        )
        .await,
    );

    let out = Command::new(BIN)
        .args(["tokens", "--data-dir", data, "create", "--name", "ci"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("00") && token.len() == 42, "{stdout}");
    let listed = Command::new(BIN)
        .args(["tokens", "--data-dir", data, "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("\tci\t") && !listed.contains(&token),
        "values are never listed: {listed}"
    );
    let token_id = listed
        .lines()
        .find(|l| l.contains("\tci\t"))
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();

    let server = serve(&["--data-dir", data], &[]).await;
    let (s, me) = call(
        &server.base,
        &token,
        reqwest::Method::GET,
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(
        (s, me["profile"]["login"].as_str()),
        (200, Some("admin@steward.local"))
    );
    drop(server);

    let out = Command::new(BIN)
        .args(["tokens", "--data-dir", data, "revoke", &token_id])
        .output()
        .unwrap();
    assert!(out.status.success());
    let server = serve(&["--data-dir", data], &[]).await;
    let (s, body) = call(
        &server.base,
        &token,
        reqwest::Method::GET,
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!((s, body["errorCode"].as_str()), (401, Some("E0000011")));
}

/// Only `serve` creates a store: `tokens` and `keys` on a data dir that holds none fail with an
/// error naming the path, and create nothing there (issue 12 item 3).
#[test]
fn tokens_and_keys_refuse_a_data_dir_without_a_store() {
    let dir = temp_dir();
    let missing = dir.join("not-here");
    let data = missing.to_str().unwrap();
    for args in [
        vec!["tokens", "--data-dir", data, "list"],
        vec!["tokens", "--data-dir", data, "create", "--name", "x"],
        vec!["keys", "--data-dir", data, "list"],
        vec!["tokens", "list", "--data-dir", data],
        vec!["--data-dir", data, "admin", "recover"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(data) && stderr.contains("refusing to create"),
            "{args:?}: {stderr}"
        );
        assert!(
            !missing.join("steward.db").exists(),
            "{args:?} created a store"
        );
    }
}

/// Global flags are accepted before the subcommand, between, or after it (issue 12 item 3), and
/// `--output json` prints what scripts can parse.
#[tokio::test]
async fn global_flags_go_anywhere_and_json_output_parses() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    drop(serve(&["--data-dir", data], &[]).await);
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let created: Value = serde_json::from_str(&run(&[
        "tokens",
        "create",
        "--name",
        "anywhere",
        "--data-dir",
        data,
        "--output",
        "json",
    ]))
    .unwrap();
    let id = created["id"].as_str().unwrap();
    assert!(created["token"].as_str().unwrap().len() > 20, "{created}");
    for args in [
        vec!["--data-dir", data, "--output", "json", "tokens", "list"],
        vec!["tokens", "--data-dir", data, "list", "--output", "json"],
        vec!["tokens", "list", "--output", "json", "--data-dir", data],
    ] {
        let listed: Value = serde_json::from_str(&run(&args)).unwrap();
        let row = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("{args:?}: {listed}"));
        assert_eq!(
            (row["name"].as_str(), row["status"].as_str()),
            (Some("anywhere"), Some("ACTIVE"))
        );
        assert!(
            row.get("token").is_none(),
            "a listing never shows a value: {row}"
        );
    }
    let text = run(&["tokens", "list", "--data-dir", data]);
    assert!(text.contains(id) && text.contains("active"), "{text}");
    let keys: Value = serde_json::from_str(&run(&[
        "keys",
        "list",
        "--data-dir",
        data,
        "--output",
        "json",
    ]))
    .unwrap();
    let statuses: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["status"].as_str())
        .collect();
    assert!(statuses.contains(&"ACTIVE"), "{keys}");
    let revoked: Value = serde_json::from_str(&run(&[
        "tokens",
        "revoke",
        id,
        "--data-dir",
        data,
        "--output",
        "json",
    ]))
    .unwrap();
    assert_eq!(revoked["status"], "REVOKED");
}

/// `tokens list` and `tokens revoke` act on a running org over `/api/v1/api-tokens` with
/// `--org URL --admin-token T`; a revoked token stops working at once.
#[tokio::test]
async fn tokens_act_on_a_running_org_over_its_api() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    let admin = "remote-admin-token-0123456789";
    let server = serve(
        &["--data-dir", data],
        &[("STEWARD_BOOTSTRAP_API_TOKEN", admin)],
    )
    .await;
    let out = Command::new(BIN)
        .args([
            "tokens",
            "create",
            "--name",
            "doomed",
            "--data-dir",
            data,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (id, doomed) = (
        created["id"].as_str().unwrap(),
        created["token"].as_str().unwrap(),
    );
    let remote = |args: &[&str]| {
        let mut all = vec![
            "--org",
            server.base.as_str(),
            "--admin-token",
            admin,
            "--output",
            "json",
        ];
        all.extend_from_slice(args);
        Command::new(BIN).args(&all).output().unwrap()
    };
    let out = remote(&["tokens", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"doomed"), "{listed}");
    assert!(
        listed.to_string().find(doomed).is_none(),
        "values are never listed"
    );
    let (s, _) = call(
        &server.base,
        doomed,
        reqwest::Method::GET,
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(s, 200);
    let out = remote(&["tokens", "revoke", id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (s, _) = call(
        &server.base,
        doomed,
        reqwest::Method::GET,
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(s, 401, "a revoked token stops working");
    // Revoking it again: the org says it is not found, and the CLI fails saying so.
    let out = remote(&["tokens", "revoke", id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0000007"));
    // Without --admin-token, --org is refused with a clear message; create is store-only.
    let out = Command::new(BIN)
        .args(["tokens", "list", "--org", &server.base])
        .env_remove("STEWARD_API_TOKEN")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--org needs --admin-token"));
    let out = remote(&["tokens", "create", "--name", "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("store only"));
    // The remote key listing is the published JWKS.
    let out = remote(&["keys", "list"]);
    let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(keys.as_array().is_some_and(|k| !k.is_empty()), "{keys}");
}

#[tokio::test]
async fn restart_keeps_everything_and_is_ready_fast() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    let env = [("STEWARD_BOOTSTRAP_API_TOKEN", "restart-token-0123456789")];
    let server = serve(&["--data-dir", data, "--demo"], &env).await;
    let (s, _) = call(
        &server.base,
        env[0].1,
        reqwest::Method::POST,
        "/api/v1/users",
        Some(new_user("kept@example.com")),
    )
    .await;
    assert_eq!(s, 200);
    drop(server);
    let server = serve(&["--data-dir", data, "--demo"], &env).await;
    let (s, u) = call(
        &server.base,
        env[0].1,
        reqwest::Method::GET,
        "/api/v1/users/kept@example.com",
        None,
    )
    .await;
    assert_eq!(
        (s, u["profile"]["login"].as_str()),
        (200, Some("kept@example.com"))
    );
    // The demo seeds once: 50 demo users + admin + kept.
    let (_, all) = call(
        &server.base,
        env[0].1,
        reqwest::Method::GET,
        "/api/v1/users?limit=200",
        None,
    )
    .await;
    assert_eq!(
        all.as_array().unwrap().len(),
        52,
        "50 demo users, the admin and kept@"
    );
    // The support article's call works on the demo org: it seeds one v1 request.
    let (s, listed) = call(
        &server.base,
        env[0].1,
        reqwest::Method::GET,
        "/governance/api/v1/requests",
        None,
    )
    .await;
    assert_eq!(s, 200, "{listed}");
    let rows = listed["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "one demo v1 request: {listed}");
    let id = rows[0]["id"].as_str().unwrap();
    let (s, one) = call(
        &server.base,
        env[0].1,
        reqwest::Method::GET,
        &format!("/governance/api/v1/requests/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{one}");
    let type_link = one["_links"]["requestType"]["href"].as_str().unwrap();
    let type_path = type_link.strip_prefix(&server.base).unwrap();
    let (s, request_type) = call(
        &server.base,
        env[0].1,
        reqwest::Method::GET,
        type_path,
        None,
    )
    .await;
    assert_eq!(
        (s, request_type["status"].as_str()),
        (200, Some("ACTIVE")),
        "{request_type}"
    );
}

#[tokio::test]
async fn two_nodes_on_one_postgres_database_serve_one_org() {
    let admin = std::env::var("STEWARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let url = steward_store::create_scratch_postgres(&admin, "steward_cli_test")
        .await
        .unwrap();
    // Nodes that share a database share the master key that seals the signing keys.
    let env = [
        ("STEWARD_BOOTSTRAP_API_TOKEN", "two-nodes-token-0123456789"),
        (
            "STEWARD_MASTER_KEY",
            "c3Rld2FyZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXM",
        ),
    ];
    let dir = temp_dir();
    let storage = [
        "--database-url",
        url.as_str(),
        "--data-dir",
        dir.to_str().unwrap(),
    ];
    // Both nodes start at once on the empty database.
    let (a, b) = tokio::join!(serve(&storage, &env), serve(&storage, &env));
    let token = env[0].1;
    let (s, created) = call(
        &a.base,
        token,
        reqwest::Method::POST,
        "/api/v1/users",
        Some(new_user("shared@example.com")),
    )
    .await;
    assert_eq!(s, 200, "{created}");
    let (s, read) = call(
        &b.base,
        token,
        reqwest::Method::GET,
        &format!("/api/v1/users/{}", created["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(
        (s, read["profile"]["login"].as_str()),
        (200, Some("shared@example.com"))
    );
    let (s, g) = call(
        &b.base,
        token,
        reqwest::Method::POST,
        "/api/v1/groups",
        Some(json!({"profile": {"name": "Shared"}})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &a.base,
        token,
        reqwest::Method::PUT,
        &format!(
            "/api/v1/groups/{}/users/{}",
            g["id"].as_str().unwrap(),
            created["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (_, members) = call(
        &b.base,
        token,
        reqwest::Method::GET,
        &format!("/api/v1/groups/{}/users", g["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(members[0]["id"], created["id"]);
    // One org: one admin and one Everyone group, whichever node won the bootstrap.
    let (_, everyone) = call(
        &a.base,
        token,
        reqwest::Method::GET,
        "/api/v1/groups?q=Everyone",
        None,
    )
    .await;
    assert_eq!(everyone.as_array().unwrap().len(), 1);
    let (_, admins) = call(
        &b.base,
        token,
        reqwest::Method::GET,
        "/api/v1/users?q=admin",
        None,
    )
    .await;
    assert_eq!(admins.as_array().unwrap().len(), 1);
}

/// Starts `steward serve --tls` and waits for its https health check.
async fn serve_tls(data: &str, env: &[(&str, &str)]) -> (Server, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--tls", "--listen", &listen, "--data-dir", data])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server {
        child,
        base: format!("https://{listen}"),
    };
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(http.get(format!("{}/healthz", server.base)).send().await, Ok(r) if r.status() == 200)
    {
        assert!(
            Instant::now() < deadline,
            "steward serve --tls did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first).unwrap();
    (server, first)
}

#[tokio::test]
async fn tls_serves_https_with_a_self_signed_certificate() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    let env = [("STEWARD_BOOTSTRAP_API_TOKEN", "tls-token-0123456789abcdef")];
    let (server, first_line) = serve_tls(data, &env).await;
    assert!(
        first_line.contains("fingerprint") || std::fs::metadata(dir.join("tls-cert.pem")).is_ok(),
        "{first_line}"
    );
    let key_mode = std::fs::metadata(dir.join("tls-key.pem")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        key_mode.permissions().mode() & 0o777,
        0o600,
        "the private key is readable by its owner only"
    );
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let d: Value = http
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], server.base.as_str());
    // A client that checks certificates refuses the self-signed one.
    assert!(reqwest::get(format!("{}/healthz", server.base))
        .await
        .is_err());
    // The same certificate is reused on restart.
    let cert = std::fs::read(dir.join("tls-cert.pem")).unwrap();
    drop(server);
    let (_again, _) = serve_tls(data, &env).await;
    assert_eq!(std::fs::read(dir.join("tls-cert.pem")).unwrap(), cert);
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn doctor_finds_every_problem_in_one_pass_and_fixes_them_in_one_command() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    let admin = "doctor-admin-token-0123456789";
    let server = serve(
        &["--data-dir", data],
        &[("STEWARD_BOOTSTRAP_API_TOKEN", admin)],
    )
    .await;
    let base = server.base.clone();
    // A service app with a key, granted only okta.users.read (a client-credentials token needs
    // one granted scope), with no admin role: the newcomer's app.
    let key = steward_oauth::keys::SigningKey::generate(steward_oauth::keys::KeyStatus::Active, 0)
        .unwrap();
    let jwk = serde_json::to_value(key.jwk()).unwrap();
    let (s, app) = call(&base, admin, reqwest::Method::POST, "/api/v1/apps", Some(json!({
        "label": "Automation", "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
        "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"], "jwks": {"keys": [jwk]}}}
    }))).await;
    assert_eq!(s, 200, "{app}");
    let app_id = app["id"].as_str().unwrap().to_string();
    let client_id = app["credentials"]["oauthClient"]["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        &base,
        admin,
        reqwest::Method::POST,
        &format!("/api/v1/apps/{app_id}/grants"),
        Some(json!({"scopeId": "okta.users.read", "issuer": base})),
    )
    .await;
    let token_for = |scope: &'static str| {
        let key = &key;
        let client_id = client_id.clone();
        let base = base.clone();
        async move {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let input = format!(
                "{}.{}",
                b64(&json!({"alg": "RS256", "kid": key.kid})),
                b64(&json!({
                    "iss": client_id, "sub": client_id, "aud": format!("{base}/oauth2/v1/token"), "iat": now, "exp": now + 300,
                    "jti": format!("{now}-{}", std::process::id()) + scope,
                }))
            );
            let sig = jsonwebtoken::crypto::sign(
                input.as_bytes(),
                &jsonwebtoken::EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap(),
                jsonwebtoken::Algorithm::RS256,
            )
            .unwrap();
            let form = [
                ("grant_type", "client_credentials"),
                ("scope", scope),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &format!("{input}.{sig}")),
            ];
            let body: Value = reqwest::Client::new()
                .post(format!("{base}/oauth2/v1/token"))
                .form(&form)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_string()
        }
    };
    let old = token_for("okta.users.read").await;
    // The support article's call: the exact 403.
    let url = format!("{base}/governance/api/v1/requests");
    let r = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&old)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let doctor = |extra: &[&str]| {
        let mut args = vec![
            "doctor",
            "--url",
            url.as_str(),
            "--token",
            old.as_str(),
            "--admin-token",
            admin,
        ];
        args.extend_from_slice(extra);
        let out = Command::new(BIN).args(&args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // One pass names both problems: the scope (not granted) and the role (none), with the
    // least-privileged role from the route table; it exits 1 while the call would fail.
    let (code, report, err) = doctor(&[]);
    assert_eq!(code, Some(1), "{report}{err}");
    assert!(
        report.contains("PROBLEM (scope)")
            && report.contains("okta.governance.accessRequests.read")
            && report.contains("has not been granted it"),
        "{report}"
    );
    assert!(
        report.contains("PROBLEM (role)") && report.contains("ACCESS_REQUESTS_ADMIN"),
        "{report}"
    );
    assert!(report.contains("Automation"), "names the app: {report}");
    // The same as JSON, for scripts.
    let (code, json_report, _) = doctor(&["--output", "json"]);
    assert_eq!(code, Some(1));
    let parsed: Value = serde_json::from_str(&json_report).unwrap();
    assert_eq!(parsed["wouldSucceed"], false);
    assert_eq!(parsed["credential"]["kind"], "SERVICE_APP_TOKEN");
    assert_eq!(parsed["route"]["leastRole"], "ACCESS_REQUESTS_ADMIN");
    let checks: Vec<&str> = parsed["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["check"].as_str())
        .collect();
    assert_eq!(checks, ["scope", "role"], "{parsed}");
    // One command fixes both.
    let (code, fixed, err) = doctor(&["--fix", "--yes"]);
    assert_eq!(code, Some(0), "{fixed}{err}");
    assert!(
        fixed.contains("Fixed: granted okta.governance.accessRequests.read"),
        "{fixed}"
    );
    assert!(
        fixed.contains("Fixed: assigned ACCESS_REQUESTS_ADMIN"),
        "{fixed}"
    );
    assert!(
        fixed.contains("Next: request a new token") && fixed.contains("client_credentials"),
        "{fixed}"
    );
    // The old token still lacks the scope (tokens keep what they were issued with): doctor
    // says the grant came after it, and that a new token fixes it.
    let (code, after, _) = doctor(&[]);
    assert_eq!(code, Some(0), "{after}");
    assert!(after.contains("after the token was issued"), "{after}");
    assert!(
        after.contains("holds a role that allows AccessRequestsRead"),
        "{after}"
    );
    // A new client-credentials token: 200.
    let new = token_for("okta.governance.accessRequests.read").await;
    let r = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // SSWS tokens are diagnosed too (unscoped: roles only).
    let out = Command::new(BIN)
        .args([
            "doctor",
            "--url",
            &url,
            "--token",
            &format!("SSWS {admin}"),
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            parsed["credential"]["kind"].as_str(),
            parsed["status"].as_u64()
        ),
        (Some("SSWS"), Some(200))
    );
    // A call that changes data is checked, not sent: the user survives a diagnosed DELETE.
    let (s, victim) = call(
        &base,
        admin,
        reqwest::Method::POST,
        "/api/v1/users?activate=false",
        Some(new_user("kept.by.doctor@example.com")),
    )
    .await;
    assert_eq!(s, 200, "{victim}");
    let victim_url = format!("{base}/api/v1/users/{}", victim["id"].as_str().unwrap());
    let out = Command::new(BIN)
        .args([
            "doctor",
            "--url",
            &victim_url,
            "--method",
            "DELETE",
            "--token",
            admin,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(parsed.get("status").is_none(), "not sent: {parsed}");
    assert_eq!(parsed["wouldSucceed"], true);
    let path = victim_url.strip_prefix(&base).unwrap();
    assert_eq!(
        call(&base, admin, reqwest::Method::GET, path, None).await.0,
        200,
        "doctor deleted nothing"
    );
    // Diagnosing the app directly.
    let out = Command::new(BIN)
        .args([
            "doctor",
            "--org",
            &base,
            "--app",
            &client_id,
            "--admin-token",
            admin,
        ])
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains("okta.users.read")
            && out.contains("okta.governance.accessRequests.read")
            && out.contains("ACCESS_REQUESTS_ADMIN"),
        "{out}"
    );
}

/// `steward serve` with stdout kept (the log goes there), ready on `/healthz`. The caller waits
/// for the child (see `exits_within`).
#[allow(clippy::zombie_processes)]
async fn serve_logged(data: &str, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", &listen, "--data-dir", data])
        .env("RUST_LOG", "steward=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("http://{listen}/healthz")).await {
            if r.status() == 200 {
                return (child, listen);
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("steward serve did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends `signal` (`INT`, `TERM`) to the child.
fn signal(child: &std::process::Child, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal}");
}

/// Waits up to `limit` for the child to exit; its status and stderr, or a panic (after killing
/// it) when it did not.
fn exits_within(mut child: std::process::Child, limit: Duration) -> (Duration, bool, String) {
    use std::io::Read;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut log = String::new();
            if let Some(mut err) = child.stdout.take() {
                let _ = err.read_to_string(&mut log);
            }
            return (started.elapsed(), status.success(), log);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads until the peer closes (Ok(0)) or resets; None when it is still open after `limit`.
fn closed_within(stream: &mut std::net::TcpStream, limit: Duration) -> Option<Duration> {
    use std::io::Read;
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

/// Slowloris: a client that never finishes its headers, or that idles on a keep-alive
/// connection, is disconnected after the header-read timeout (shortened here to 500 ms).
#[tokio::test]
async fn partial_headers_and_idle_connections_are_cut_off() {
    use std::io::Write;
    let dir = temp_dir();
    let (child, listen) = serve_logged(
        dir.to_str().unwrap(),
        &[("STEWARD_HEADER_READ_TIMEOUT_MS", "500")],
    )
    .await;
    // Never sends a byte.
    let mut silent = std::net::TcpStream::connect(&listen).unwrap();
    // Sends half a request head.
    let mut partial = std::net::TcpStream::connect(&listen).unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let took = closed_within(&mut partial, Duration::from_secs(5)).expect("partial head cut off");
    assert!(took < Duration::from_secs(3), "{took:?}");
    closed_within(&mut silent, Duration::from_secs(5)).expect("silent connection cut off");
    // A complete request is answered; the connection then idles and is closed.
    let mut idle = std::net::TcpStream::connect(&listen).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    std::io::Read::read_exact(&mut idle, &mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    closed_within(&mut idle, Duration::from_secs(5)).expect("idle keep-alive connection closed");
    signal(&child, "INT");
    let (_, ok, _) = exits_within(child, Duration::from_secs(12));
    assert!(ok);
}

/// A client that sends a request's head and then trickles (here: stops sending) its body gets
/// a 408 in Okta's error shape once the request timeout passes.
#[tokio::test]
async fn a_body_that_never_arrives_times_out() {
    use std::io::{Read, Write};
    let dir = temp_dir();
    let (child, listen) = serve_logged(
        dir.to_str().unwrap(),
        &[
            ("STEWARD_REQUEST_TIMEOUT_MS", "500"),
            (
                "STEWARD_BOOTSTRAP_API_TOKEN",
                "cli-timeout-token-0123456789",
            ),
        ],
    )
    .await;
    let mut slow = std::net::TcpStream::connect(&listen).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(
        b"POST /api/v1/groups HTTP/1.1\r\nHost: x\r\nAuthorization: SSWS cli-timeout-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"profile\":",
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("errorCode") {
        let n = slow
            .read(&mut buf)
            .expect("an answer before the read timeout");
        assert!(
            n > 0,
            "closed without an answer: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"errorCode\":\"E0000003\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("x-okta-request-id"),
        "{answer}"
    );
    signal(&child, "INT");
    let (_, ok, _) = exits_within(child, Duration::from_secs(12));
    assert!(ok);
}

/// Ctrl-C while a client holds a half-sent request open: the server still stops, within the
/// shutdown deadline (10 s by default; the header timeout is left at its 30 s default).
#[tokio::test]
async fn sigint_exits_within_the_deadline_despite_a_half_sent_request() {
    use std::io::Write;
    let dir = temp_dir();
    let (child, listen) = serve_logged(dir.to_str().unwrap(), &[]).await;
    let mut partial = std::net::TcpStream::connect(&listen).unwrap();
    partial
        .write_all(b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&child, "INT");
    let (took, ok, log) = exits_within(child, Duration::from_secs(13));
    assert!(ok, "exit status; log: {log}");
    assert!(took <= Duration::from_secs(12), "{took:?}");
    assert!(log.contains("SIGINT"), "{log}");
    drop(partial);
}

/// SIGTERM (systemd, Docker, Kubernetes) is a graceful stop: a request in flight when it arrives
/// is completed, then the process exits 0 and says so.
#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_and_exits_cleanly() {
    use std::io::{Read, Write};
    let dir = temp_dir();
    let token = "sigterm-token-0123456789abcdef";
    let (child, listen) = serve_logged(
        dir.to_str().unwrap(),
        &[("STEWARD_BOOTSTRAP_API_TOKEN", token)],
    )
    .await;
    let body = new_user("sigterm@example.com").to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut conn = std::net::TcpStream::connect(&listen).unwrap();
    write!(
        conn,
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: SSWS {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(&child, "TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    conn.write_all(rest.as_bytes()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("sigterm@example.com"), "{response}");
    let (took, ok, log) = exits_within(child, Duration::from_secs(12));
    assert!(ok, "exit status; log: {log}");
    assert!(took < Duration::from_secs(11), "{took:?}");
    assert!(log.contains("SIGTERM") && log.contains("stopped"), "{log}");
}

/// `steward admin recover` on a store whose only Super Admin was suspended (the API refuses that
/// now; the store is edited directly, as an older Steward or a database edit would leave it):
/// the admin is active again, the printed one-time token works against the running server, and
/// the System Log says what the recovery did. A store that does not exist is refused, not made.
async fn admin_recover_revives_a_locked_out_org(postgres: bool) {
    let dir = temp_dir();
    let data = dir.to_str().unwrap().to_string();
    let (url, storage): (String, Vec<String>) = if postgres {
        let admin = std::env::var("STEWARD_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let url = steward_store::create_scratch_postgres(&admin, "steward_cli_test")
            .await
            .unwrap();
        let storage = vec![
            "--database-url".into(),
            url.clone(),
            "--data-dir".into(),
            data.clone(),
        ];
        (url, storage)
    } else {
        let url = format!("sqlite://{data}/steward.db");
        (url, vec!["--data-dir".into(), data.clone()])
    };
    let storage: Vec<&str> = storage.iter().map(String::as_str).collect();
    let env = [("STEWARD_BOOTSTRAP_API_TOKEN", "recover-token-0123456789")];
    let old_token = env[0].1;

    let server = serve(&storage, &env).await;
    let (s, me) = call(
        &server.base,
        old_token,
        reqwest::Method::GET,
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(s, 200, "{me}");
    let admin_id = me["id"].as_str().unwrap().to_string();
    // Through the API, the only Super Admin cannot suspend itself.
    let (s, refused) = call(
        &server.base,
        old_token,
        reqwest::Method::POST,
        &format!("/api/v1/users/{admin_id}/lifecycle/suspend"),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, refused["errorCode"].as_str()), (403, Some("E0000006")));
    drop(server);

    // The store says otherwise: the only Super Admin is suspended.
    let store = steward_store::Store::open(&steward_store::StoreConfig {
        url: url.clone(),
        max_connections: 2,
    })
    .await
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let mut user = tx.user(&admin_id).await.unwrap();
    user.status = steward_core::directory::UserStatus::Suspended;
    tx.update_user(&user).await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    let server = serve(&storage, &env).await;
    let (s, _) = call(
        &server.base,
        old_token,
        reqwest::Method::GET,
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(s, 401, "the suspended admin's token no longer acts");

    // Break glass, beside the running server.
    let out = Command::new(BIN)
        .args(["admin", "recover"])
        .args(&storage)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("admin@steward.local") && stdout.contains("unsuspended"),
        "{stdout}"
    );
    let token = stdout.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("00") && token.len() == 42, "{stdout}");
    let (s, me) = call(
        &server.base,
        &token,
        reqwest::Method::GET,
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!((s, me["status"].as_str()), (200, Some("ACTIVE")), "{me}");
    let (s, roles) = call(
        &server.base,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/users/{admin_id}/roles"),
        None,
    )
    .await;
    assert_eq!((s, roles[0]["type"].as_str()), (200, Some("SUPER_ADMIN")));

    // The System Log says who did what, and how.
    let filter: String =
        url::form_urlencoded::byte_serialize(b"eventType eq \"user.lifecycle.unsuspend\"")
            .collect();
    let (s, events) = call(
        &server.base,
        &token,
        reqwest::Method::GET,
        &format!("/api/v1/logs?filter={filter}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{events}");
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"][0]["id"] == admin_id.as_str())
        .unwrap_or_else(|| panic!("no unsuspend event: {events}"));
    assert_eq!(event["actor"]["type"], "SystemPrincipal", "{event}");
    assert_eq!(
        event["debugContext"]["debugData"]["recovery"], "steward admin recover",
        "{event}"
    );
    let (s, events) = call(
        &server.base,
        &token,
        reqwest::Method::GET,
        "/api/v1/logs?filter=eventType%20eq%20%22system.api_token.create%22",
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["debugContext"]["debugData"]["recovery"] == "steward admin recover"),
        "{events}"
    );
    assert!(
        !events.to_string().contains(&token),
        "the token is not logged"
    );
    drop(server);

    // A store that is not there is refused, and not created.
    let missing = dir.join("nowhere");
    let out = Command::new(BIN)
        .args(["admin", "recover", "--data-dir", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to create one"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!missing.exists(), "the data dir was created");
    let empty = temp_dir();
    let out = Command::new(BIN)
        .args(["admin", "recover", "--data-dir", empty.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!empty.join("steward.db").exists(), "a database was created");
    let absent = format!("sqlite://{}/absent.db", empty.display());
    let out = Command::new(BIN)
        .args(["admin", "recover", "--database-url", &absent])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!empty.join("absent.db").exists(), "a database was created");
    if postgres {
        // A PostgreSQL database without Steward's schema is refused before anything is written.
        let admin = std::env::var("STEWARD_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let bare = steward_store::create_scratch_postgres(&admin, "steward_cli_test")
            .await
            .unwrap();
        let out = Command::new(BIN)
            .args(["admin", "recover", "--database-url", &bare])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("holds no Steward store"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn admin_recover_revives_a_locked_out_org_on_sqlite() {
    admin_recover_revives_a_locked_out_org(false).await
}

#[tokio::test]
async fn admin_recover_revives_a_locked_out_org_on_postgres() {
    admin_recover_revives_a_locked_out_org(true).await
}

/// `admin recover --login` for a login no user has creates a Super Admin with a generated
/// password, printed once, that signs in; its token acts.
#[tokio::test]
async fn admin_recover_creates_a_super_admin() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    drop(serve(&["--data-dir", data], &[]).await);
    let out = Command::new(BIN)
        .args([
            "admin",
            "recover",
            "--data-dir",
            data,
            "--login",
            "rescue@example.com",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("created") && stdout.contains("generated password"),
        "{stdout}"
    );
    let token = stdout.lines().last().unwrap().trim().to_string();
    let server = serve(&["--data-dir", data], &[]).await;
    let (s, me) = call(
        &server.base,
        &token,
        reqwest::Method::GET,
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(
        (s, me["profile"]["login"].as_str()),
        (200, Some("rescue@example.com"))
    );
    let (s, roles) = call(
        &server.base,
        &token,
        reqwest::Method::GET,
        "/api/v1/users/me/roles",
        None,
    )
    .await;
    assert_eq!((s, roles[0]["type"].as_str()), (200, Some("SUPER_ADMIN")));
}

/// `steward routes` prints the route table the server is built from: as text, as JSON (what
/// tools/api_coverage.py reads) and as `docs/roles.md`.
#[test]
fn routes_prints_the_route_table_as_text_json_and_the_roles_doc() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("routes").args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let routes: Vec<Value> = serde_json::from_str(&run(&["--json"])).unwrap();
    let article = routes
        .iter()
        .find(|r| r["method"] == "GET" && r["path"] == "/governance/api/v1/requests/{requestId}")
        .unwrap();
    assert_eq!(article["scope"], "okta.governance.accessRequests.read");
    assert_eq!(article["permission"], "AccessRequestsRead");
    assert_eq!(article["role"], "ACCESS_REQUESTS_ADMIN");
    assert_eq!(article["selfService"], false);
    let mine = routes
        .iter()
        .find(|r| r["path"] == "/governance/api/v2/my/tasks")
        .unwrap();
    assert_eq!(
        (&mine["selfService"], &mine["role"]),
        (&json!(true), &Value::Null)
    );

    let text = run(&[]);
    assert_eq!(text.lines().count(), routes.len());
    assert!(text.lines().any(|l| l.starts_with("POST ")
        && l.contains("/api/v1/apps/{id}/grants ")
        && l.ends_with("SUPER_ADMIN")));

    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/roles.md"))
        .unwrap();
    assert_eq!(run(&["--roles-md"]), doc);
}

/// `steward serve --demo` says how to get a usable credential for the demo's client apps (issue
/// 12 item 4) without ever printing a secret: the printed calls work as printed.
#[tokio::test]
async fn the_demo_prints_how_to_get_a_usable_credential() {
    use std::io::BufRead;
    let dir = temp_dir();
    let token = "demo-credentials-token-0123456789";
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &listen, "--demo", "--data-dir"])
        .arg(&dir)
        .env("STEWARD_BOOTSTRAP_API_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server {
        child,
        base: format!("http://{listen}"),
    };
    // Read the start-up lines until both demo apps are described.
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while printed
        .iter()
        .filter(|l: &&String| l.trim_start().starts_with("curl"))
        .count()
        < 2
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => printed.push(line),
            Err(_) => panic!("no credential hints in {printed:?}"),
        }
    }
    let hint = |label: &str| -> (String, String) {
        let at = printed
            .iter()
            .position(|l| l.contains(&format!("Demo app \"{label}\"")))
            .unwrap_or_else(|| panic!("{label}: {printed:?}"));
        (printed[at].clone(), printed[at + 1].trim().to_string())
    };

    // Okta Workflows OAuth: the printed call mints a secret that authenticates the client.
    let (about, curl) = hint("Okta Workflows OAuth");
    let client_id = about
        .split("client_id ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .to_string();
    assert!(
        curl.starts_with("curl -X POST -H 'Authorization: SSWS <token>' "),
        "{curl}"
    );
    let url = curl.rsplit(' ').next().unwrap();
    assert!(url.starts_with(&server.base) && url.ends_with("/credentials/secrets"));
    let r = reqwest::Client::new()
        .post(url)
        .header("Authorization", format!("SSWS {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let minted: Value = r.json().await.unwrap();
    let secret = minted["client_secret"].as_str().unwrap().to_string();
    assert!(!printed.iter().any(|l| l.contains(&secret)), "{printed:?}");
    let redeem = |secret: String| {
        let (base, client_id) = (server.base.clone(), client_id.clone());
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/oauth2/v1/token"))
                .basic_auth(client_id, Some(secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", "no-such-code"),
                    (
                        "redirect_uri",
                        "http://localhost:3000/okta-workflows-oauth/callback",
                    ),
                    ("code_verifier", "v".repeat(43).as_str()),
                ])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // The client is authenticated: only the (made-up) code is refused.
    let (s, b) = redeem(secret).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "{b}"
    );
    let (s, b) = redeem("not-the-secret-0123456789".into()).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("invalid_client")),
        "{b}"
    );

    // Governance Automation: the printed call, given a public key, makes it a private_key_jwt
    // client whose assertions get tokens.
    let (about, curl) = hint("Governance Automation");
    let client_id = about
        .split("client_id ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .to_string();
    let url = curl
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap();
    let body = curl.split(" -d '").nth(1).unwrap().trim_end_matches('\'');
    let key = steward_oauth::keys::SigningKey::generate(steward_oauth::keys::KeyStatus::Active, 0)
        .unwrap();
    let body = body.replace(
        "<your public JWK>",
        &serde_json::to_string(&key.jwk()).unwrap(),
    );
    let (s, app) = call(
        &server.base,
        token,
        reqwest::Method::PUT,
        url.strip_prefix(&server.base).unwrap(),
        Some(serde_json::from_str(&body).unwrap()),
    )
    .await;
    assert_eq!(s, 200, "{app}");
    let app_id = app["id"].as_str().unwrap();
    let (s, g) = call(
        &server.base,
        token,
        reqwest::Method::POST,
        &format!("/api/v1/apps/{app_id}/grants"),
        Some(json!({"scopeId": "okta.users.read", "issuer": server.base})),
    )
    .await;
    assert_eq!(s, 201, "{g}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    let assertion = jsonwebtoken::encode(
        &header,
        &json!({"iss": client_id, "sub": client_id, "aud": format!("{}/oauth2/v1/token", server.base),
                "iat": now, "exp": now + 300, "jti": format!("jti-{now}")}),
        &jsonwebtoken::EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/oauth2/v1/token", server.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let answer: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(answer["access_token"].is_string());
}

/// `steward flows check FILE.flopack` prints the import report card by card, as text or JSON,
/// and exits 1 when any card cannot run.
#[test]
fn flows_check_reports_every_card_and_fails_when_one_cannot_run() {
    let fixture = |name: &str| {
        format!(
            "{}/../steward-flows/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let check = |args: &[&str]| {
        Command::new(BIN)
            .args(["flows", "check"])
            .args(args)
            .output()
            .unwrap()
    };

    // The seed flow runs: its Okta Custom API Action is a card Steward has.
    let seed = fixture("seed_request_lookup.flopack");
    let out = check(&[&seed]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("  ok customH1 okta:hTTPRequest \"Custom API Action - get the access request\": connector action [connection \"Okta Workflows OAuth\"]"),
        "{text}"
    );
    assert!(text.contains("4 of 4 cards can run; 0 cannot"), "{text}");

    // The same flow with an Okta card Steward does not have yet: it says which, and why.
    let dir = temp_dir();
    let other = dir.join("read_application.flopack");
    let bytes = std::fs::read_to_string(&seed)
        .unwrap()
        .replace("1.0.685:hTTPRequest", "1.0.685:readApplication")
        .replace("\"key\": \"hTTPRequest\"", "\"key\": \"readApplication\"");
    std::fs::write(&other, bytes).unwrap();
    let other = other.to_str().unwrap().to_string();
    let out = check(&[&other]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..6],
        [
            "flow \"Look up an access request\" (api_endpoint, 5eed0000-0000-4000-8000-000000000001)",
            "  ok acceptA1 kernel:http:accept \"API Endpoint\": API endpoint trigger",
            "  ok composeC1 kernel:string:compose \"Compose relative URL\"",
            "  NO customH1 okta:readApplication \"Custom API Action - get the access request\" [connection \"Okta Workflows OAuth\"]",
            "     why: Steward has no readApplication card of the okta connector yet",
            "  ok returnR1 kernel:control:return \"Return\": returns values to the caller",
        ]
    );
    assert!(text.contains("3 of 4 cards can run; 1 cannot"), "{text}");

    let out = check(&[&other, "--output", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["runnable"], json!(false));
    let cards = report["flows"][0]["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 4);
    assert_eq!(cards[2]["status"], "unsupported");
    assert_eq!(cards[2]["connection"]["name"], "Okta Workflows OAuth");

    // A scheduled parent, its helper over a list, an If/Else and an If Error block: all run.
    let scheduled = fixture("scheduled_helper_over_list.flopack");
    let out = Command::new(BIN)
        .args(["--output", "json", "flows", "check", &scheduled])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["runnable"], json!(true));
    let kinds: Vec<&str> = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["scheduled", "helper", "block", "block"]);

    // Not a flopack: an error, not a report.
    let bogus = dir.join("bogus.flopack");
    std::fs::write(&bogus, br#"{"type":"flow"}"#).unwrap();
    let out = check(&[bogus.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a flopack"));
}

/// `steward flows import|list|on|off|run|history|export` on a running org: the served worker
/// runs what `run` queues; a flopack with a card the org cannot run is refused card by card.
#[tokio::test]
async fn flows_are_imported_run_and_read_back_over_the_api() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    let admin = "flows-admin-token-0123456789";
    let server = serve(
        &["--data-dir", data],
        &[("STEWARD_BOOTSTRAP_API_TOKEN", admin)],
    )
    .await;
    let fixture = |name: &str| {
        format!(
            "{}/../steward-flows/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let flows = |args: &[&str]| {
        let mut all = vec![
            "--org",
            server.base.as_str(),
            "--admin-token",
            admin,
            "--output",
            "json",
            "flows",
        ];
        all.extend_from_slice(args);
        Command::new(BIN).args(&all).output().unwrap()
    };
    let ok = |out: &std::process::Output| -> Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };

    // Refused: a card Steward does not have (an Okta action not built yet) is named.
    let unbuilt = temp_dir().join("unbuilt.flopack");
    std::fs::write(
        &unbuilt,
        std::fs::read_to_string(fixture("seed_request_lookup.flopack"))
            .unwrap()
            .replace("1.0.685:hTTPRequest", "1.0.685:readApplication")
            .replace("\"key\": \"hTTPRequest\"", "\"key\": \"readApplication\""),
    )
    .unwrap();
    let out = flows(&["import", unbuilt.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("okta:readApplication"), "{err}");

    let imported = ok(&flows(&["import", &fixture("branch_and_call.flopack")]));
    assert_eq!(imported["flows"].as_array().unwrap().len(), 2);
    let main = "b4a2c400-0000-4000-8000-000000000005";
    let listed = ok(&flows(&["list"]));
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let on = ok(&flows(&["on", main]));
    assert_eq!(on["active"], true);

    let run = ok(&flows(&["run", main, "--input", "{}"]));
    let id = run["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let run = ok(&flows(&["history", "--id", &id]));
        if run["status"] == "SUCCEEDED" {
            break run;
        }
        assert!(Instant::now() < deadline, "the run did not end: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["output"], json!({"ticket": "ticket for fast"}));
    assert!(!done["cards"].as_array().unwrap().is_empty());
    let history = ok(&flows(&[
        "history",
        "--flow",
        main,
        "--status",
        "SUCCEEDED",
    ]));
    assert_eq!(history.as_array().unwrap().len(), 1);

    // Export: a flopack `flows check` accepts, and the readable form.
    let file = dir.join("exported.flopack");
    ok(&flows(&["export", main, "--out", file.to_str().unwrap()]));
    let out = Command::new(BIN)
        .args(["flows", "check", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let readable = flows(&["export", main, "--readable"]);
    assert!(
        String::from_utf8_lossy(&readable.stdout).contains("card branchB2 kernel:control:branch")
    );

    let off = ok(&flows(&["off", main]));
    assert_eq!(off["active"], false);
}

/// The value of `<input name="{name}" value="...">` in a page (HTML-escaped `/` undone).
fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    let rest = &html[start..];
    rest[..rest.find('"').unwrap()]
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
}

/// A browser without a cookie jar of its own: keeps the cookies it was given, follows nothing.
struct Browser {
    http: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
        }
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.insert(k.to_string(), v.to_string());
        }
    }

    fn cookie(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let r = self
            .http
            .get(url)
            .header("cookie", self.cookie())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }
}

#[tokio::test]
async fn connections_authorize_through_the_demo_app_and_wait_for_the_callback() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    let admin = "connections-admin-token-0123456789";
    let server = serve(
        &["--data-dir", data, "--demo"],
        &[("STEWARD_BOOTSTRAP_API_TOKEN", admin)],
    )
    .await;
    let base = server.base.clone();
    // `serve --demo` registered the callback on "Okta Workflows OAuth".
    let (_, apps) = call(
        &base,
        admin,
        reqwest::Method::GET,
        "/api/v1/apps?q=Okta%20Workflows",
        None,
    )
    .await;
    let app = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["label"] == "Okta Workflows OAuth")
        .unwrap()
        .clone();
    let app_id = app["id"].as_str().unwrap().to_string();
    let callback = format!("{base}/workflows/oauth/callback");
    assert!(
        app["settings"]["oauthClient"]["redirect_uris"]
            .as_array()
            .unwrap()
            .contains(&json!(callback)),
        "{app}"
    );
    let (s, g) = call(
        &base,
        admin,
        reqwest::Method::POST,
        &format!("/api/v1/apps/{app_id}/grants"),
        Some(json!({"scopeId": "okta.users.read", "issuer": base})),
    )
    .await;
    assert_eq!(s, 201, "{g}");
    let (_, assigned) = call(
        &base,
        admin,
        reqwest::Method::GET,
        &format!("/api/v1/apps/{app_id}/users"),
        None,
    )
    .await;
    let user_id = assigned[0]["id"].as_str().unwrap();
    let (_, user) = call(
        &base,
        admin,
        reqwest::Method::GET,
        &format!("/api/v1/users/{user_id}"),
        None,
    )
    .await;
    let login = user["profile"]["login"].as_str().unwrap().to_string();

    let cli = |args: &[&str]| {
        let mut all = vec!["--org", base.as_str(), "--admin-token", admin];
        all.extend_from_slice(args);
        let mut cmd = Command::new(BIN);
        cmd.args(&all);
        cmd
    };
    // Created on the default app; Steward mints the secret it keeps sealed.
    let out = cli(&["connections", "create", "Okta", "--output", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["status"], "UNAUTHORIZED");
    assert_eq!(created["appId"], app_id.as_str());

    // authorize prints the URL and waits for the callback.
    let mut child = cli(&["connections", "authorize", "Okta", "--timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let url = loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        if line.starts_with("http") {
            break line;
        }
    };
    let mut browser = Browser::new();
    let page = browser.get(&url).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let form = [
        ("csrf", hidden_field(&html, "csrf")),
        ("return_to", hidden_field(&html, "return_to")),
        ("username", login.clone()),
        ("password", "DemoPassw0rd!".to_string()),
    ];
    let posted = browser
        .http
        .post(format!("{base}/login"))
        .header("cookie", browser.cookie())
        .header("origin", base.as_str())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    browser.keep(&posted);
    let next = posted.headers()["location"].to_str().unwrap().to_string();
    let back = browser.get(&format!("{base}{next}")).await;
    assert_eq!(back.status(), 302);
    let to = back.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(&callback), "{to}");
    let done = browser.get(&to).await;
    assert_eq!(done.status(), 200);
    let status = child.wait().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(status.success(), "{rest:?}");
    assert!(rest.join("\n").contains("ACTIVE"), "{rest:?}");

    // status and check, over the API; list on the store itself.
    let out = cli(&["connections", "status", "Okta", "--output", "json"])
        .output()
        .unwrap();
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(st["tokenScopes"]
        .as_array()
        .unwrap()
        .contains(&json!("okta.users.read")));
    let out = cli(&["connections", "check", "Okta"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(BIN)
        .args([
            "connections",
            "list",
            "--data-dir",
            data,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["name"], "Okta");
    assert_eq!(listed[0]["status"], "ACTIVE");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("v1."),
        "nothing sealed leaks"
    );
}

/// `steward serve` runs event flows: a user created through the API starts the active User
/// Created flow through the served worker, whose For Each body writes a table row that
/// `steward flows tables` reads back.
#[tokio::test]
async fn the_served_worker_runs_event_flows_and_tables_are_read_over_the_cli() {
    let dir = temp_dir();
    let data = dir.to_str().unwrap();
    let admin = "events-admin-token-0123456789";
    let server = serve(
        &["--data-dir", data],
        &[("STEWARD_BOOTSTRAP_API_TOKEN", admin)],
    )
    .await;
    let flows = |args: &[&str]| {
        let mut all = vec![
            "--org",
            server.base.as_str(),
            "--admin-token",
            admin,
            "--output",
            "json",
            "flows",
        ];
        all.extend_from_slice(args);
        let out = Command::new(BIN).args(&all).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null)
    };
    let fixture = format!(
        "{}/../steward-flows/tests/fixtures/events_tables.flopack",
        env!("CARGO_MANIFEST_DIR")
    );
    flows(&["import", &fixture]);
    let table = "7ab1e000-0000-4000-8000-000000000001";
    let tables = flows(&["tables"]);
    assert_eq!(tables[0]["id"], table, "{tables}");
    assert_eq!(tables[0]["rowCount"], 0);
    flows(&["on", "e7e00000-0000-4000-8000-000000000001"]);

    let (s, user) = call(
        &server.base,
        admin,
        reqwest::Method::POST,
        "/api/v1/users?activate=false",
        Some(new_user("evented@example.com")),
    )
    .await;
    assert_eq!(s, 200, "{user}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let rows = flows(&["tables", table]);
        if !rows.as_array().unwrap().is_empty() {
            break rows;
        }
        assert!(Instant::now() < deadline, "the event flow did not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["value"], user["id"]);
    assert_eq!(rows[0]["eventType"], "user.lifecycle.create");
}
