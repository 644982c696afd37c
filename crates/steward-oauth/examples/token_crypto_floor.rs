//! The ceiling of client-credentials token issuance on this machine: the work every such token
//! needs besides HTTP and storage (verify the client's RS256 assertion, build and sign the RS256
//! access token), with Steward's own code, on one thread, per CPU-second of that thread.
//!
//!   cargo run --release -p steward-oauth --example token_crypto_floor -- [SECONDS]
//!
//! Prints `+FLOOR:<tokens per CPU-s>:<signatures per CPU-s>` (the second: RS256 signing alone,
//! to set beside `openssl speed rsa2048`). bench/tokens.sh runs it beside openssl: no server,
//! whatever it does, can issue more tokens per CPU-second than the first figure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::json;
use steward_oauth::client_assertion::{verify_client_assertion, AssertionCheck};
use steward_oauth::jwk::Jwk;
use steward_oauth::jwt::{self, AccessTokenSpec};
use steward_oauth::keys::{KeyStatus, SigningKey};

const ISSUER: &str = "http://127.0.0.1:18190";
const CLIENT_ID: &str = "0oabenchfloorclient01";

/// Nanoseconds this thread has run (first field of /proc/thread-self/schedstat).
fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    stat.split_whitespace().next().unwrap().parse().unwrap()
}

/// Runs `op` for about `seconds` and returns operations per CPU-second of this thread.
fn per_cpu_second(seconds: f64, mut op: impl FnMut(usize)) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = thread_cpu_ns();
    let mut done = 0;
    while Instant::now() < deadline {
        for _ in 0..16 {
            op(done);
            done += 1;
        }
    }
    done as f64 / ((thread_cpu_ns() - start) as f64 / 1e9)
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SECONDS"))
        .unwrap_or(5.0);
    let server = SigningKey::generate(KeyStatus::Active, 0).unwrap();
    let client = SigningKey::generate(KeyStatus::Active, 0).unwrap();
    let client_keys = [Jwk::from_value(&serde_json::to_value(client.jwk()).unwrap()).unwrap()];
    let endpoint = format!("{ISSUER}/oauth2/v1/token");
    let audiences = [ISSUER, endpoint.as_str()];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    // Fresh assertions, signed before the timed loop (as the load generator does).
    let assertions: Vec<String> = (0..4096)
        .map(|i| {
            let claims = json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": endpoint,
                "jti": format!("floor-{i}"), "iat": now, "exp": now + 300});
            jwt::sign_rs256(&client, &claims).unwrap()
        })
        .collect();
    let scopes = ["okta.users.read".to_string()];

    let tokens = per_cpu_second(seconds, |i| {
        let check = AssertionCheck::new(CLIENT_ID, &audiences, now);
        let verified =
            verify_client_assertion(&assertions[i % assertions.len()], &client_keys, &check)
                .unwrap();
        let access = jwt::issue_access_token(
            &server,
            &AccessTokenSpec {
                issuer: ISSUER,
                audience: ISSUER,
                client_id: &verified.client_id,
                user_id: None,
                subject: &verified.client_id,
                scopes: &scopes,
                auth_time: None,
                jkt: None,
                issued_at: now,
                lifetime_secs: jwt::ACCESS_TOKEN_LIFETIME_SECS,
            },
        )
        .unwrap();
        std::hint::black_box(access.token);
    });
    let input = [b'x'; 600];
    let signatures = per_cpu_second(seconds, |_| {
        std::hint::black_box(server.sign_rs256(&input).unwrap());
    });
    println!("+FLOOR:{tokens:.0}:{signatures:.0}");
}
