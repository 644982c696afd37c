//! Argon2 (19 MiB, t=2) runs on tokio's blocking pool, not on the two worker threads: a burst of
//! unauthenticated token requests with wrong client secrets is answered correctly while the rest
//! of the server (here `/healthz`) keeps answering.
use crate::common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::oauth::*;
use common::{TestOrg, BACKENDS};

fn basic(client_id: &str, secret: &str) -> (&'static str, String) {
    (
        "Authorization",
        format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}"))),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_client_secrets_do_not_stall_the_server() {
    for backend in BACKENDS {
        let org = TestOrg::start(backend).await;
        let (_, client_id, secret) = org
            .web_app("Portal", "https://app.example.com/callback", "REQUIRED")
            .await;
        let token_url = format!("{}/oauth2/v1/token", org.base);
        let form = [("grant_type", "client_credentials"), ("scope", "openid")];

        // 8 wrong secrets at once: half for the real client (its own hash), half for clients
        // that do not exist (the dummy hash), over Basic and in the body.
        let mut tasks = Vec::new();
        for i in 0..8 {
            let http = org.http.clone();
            let url = token_url.clone();
            let client = if i % 2 == 0 {
                client_id.clone()
            } else {
                format!("0oa-unknown-{i}")
            };
            tasks.push(tokio::spawn(async move {
                let wrong = format!("wrong-secret-{i}");
                let req = if i < 4 {
                    http.post(&url).form(&form)
                } else {
                    http.post(&url).form(&[
                        ("grant_type", "client_credentials"),
                        ("scope", "openid"),
                        ("client_id", client.as_str()),
                        ("client_secret", wrong.as_str()),
                    ])
                };
                let headers = if i < 4 {
                    vec![basic(&client, &wrong)]
                } else {
                    vec![]
                };
                answer(req, &headers).await
            }));
        }
        // Meanwhile the server still answers other requests.
        let health = org
            .http
            .get(format!("{}/healthz", org.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200, "{backend:?}: /healthz");

        for (i, task) in tasks.into_iter().enumerate() {
            let a = task.await.unwrap();
            assert_eq!(a.status, 401, "{backend:?} request {i}: {}", a.body);
            assert_eq!(a.body["error"], "invalid_client", "{backend:?} {i}");
        }

        // The right secret still authenticates (the grant itself is not this client's).
        let ok = answer(
            org.http.post(&token_url).form(&form),
            &[basic(&client_id, &secret)],
        )
        .await;
        assert_ne!(
            ok.body["error"], "invalid_client",
            "{backend:?}: {}",
            ok.body
        );
    }
}
