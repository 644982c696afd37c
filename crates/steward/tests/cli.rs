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
