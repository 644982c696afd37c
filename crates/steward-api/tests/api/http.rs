//! Behaviour every response shares: headers, 404/405, rate limits.
use crate::common;

use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use steward_api::ratelimit::RateLimits;

#[tokio::test]
async fn every_response_has_request_id_date_and_rate_headers() {
    let org = TestOrg::start(Backend::Sqlite).await;
    for path in ["/api/v1/users", "/api/v1/nothing-here", "/api/v1/groups"] {
        let r = org
            .raw(
                Some(&format!("SSWS {}", org.token)),
                Method::GET,
                path,
                None,
            )
            .await;
        for h in [
            "x-okta-request-id",
            "date",
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
        ] {
            assert!(r.headers().contains_key(h), "{h} on {path}");
        }
    }
    let a = org.raw(None, Method::GET, "/healthz", None).await;
    assert_eq!(a.status(), 200);
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (s, b) = org.get("/api/v1/unknown").await;
    assert_error(s, &b, 404, "E0000007");
    let (s, b) = org.send(Method::PATCH, "/api/v1/users", None).await;
    assert_error(s, &b, 405, "E0000022");
    let (s, b) = org.send(Method::DELETE, "/api/v1/logs", None).await;
    assert_error(s, &b, 405, "E0000022");
}

#[tokio::test]
async fn rate_limit_refuses_with_e0000047_and_recovers_per_token() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let org = TestOrg::start_with(
            backend,
            RateLimits {
                per_token: 3,
                per_address: 1000,
            },
        )
        .await;
        for expected_remaining in [2, 1, 0] {
            let r = org
                .raw(
                    Some(&format!("SSWS {}", org.token)),
                    Method::GET,
                    "/api/v1/users",
                    None,
                )
                .await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["x-rate-limit-limit"], "3");
            assert_eq!(
                r.headers()["x-rate-limit-remaining"],
                expected_remaining.to_string().as_str()
            );
        }
        let r = org
            .raw(
                Some(&format!("SSWS {}", org.token)),
                Method::GET,
                "/api/v1/users",
                None,
            )
            .await;
        assert_eq!(r.status(), 429);
        let reset: u64 = r.headers()["x-rate-limit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(reset > now && reset <= now + 60);
        assert!(r.headers().contains_key("date"));
        let body: serde_json::Value = r.json().await.unwrap();
        assert_error(429, &body, 429, "E0000047");
        // Another credential from the same address is not limited by this token's window.
        let r = org
            .raw(
                Some("SSWS someone-else"),
                Method::GET,
                "/api/v1/users",
                None,
            )
            .await;
        assert_eq!(r.status(), 401);
    }
}
