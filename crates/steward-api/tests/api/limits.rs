//! Rate-limit keys and the bounded per-node maps, over real HTTP: spellings of one credential
//! share one budget, a request the address limit refuses leaves no credential entry behind, and
//! the verified-token cache is keyed by the token, not by how the header was written.
use crate::common;

use common::{assert_error, Backend, TestOrg, ADMIN_TOKEN};
use reqwest::Method;
use steward_api::ratelimit::RateLimits;

const USERS: &str = "/api/v1/users";

#[tokio::test]
async fn header_spellings_of_one_token_share_one_budget() {
    let org = TestOrg::start_with(
        Backend::Sqlite,
        RateLimits {
            per_token: 4,
            per_address: 1000,
        },
    )
    .await;
    let variants = [
        format!("SSWS {ADMIN_TOKEN}"),
        format!("ssws {ADMIN_TOKEN}"),
        format!("SSWS   {ADMIN_TOKEN}"),
        format!("Ssws\t{ADMIN_TOKEN}"),
    ];
    for (i, v) in variants.iter().enumerate() {
        let r = org.raw(Some(v), Method::GET, USERS, None).await;
        assert_eq!(r.status(), 200, "{v:?}");
        assert_eq!(
            r.headers()["x-rate-limit-remaining"],
            (3 - i).to_string().as_str(),
            "{v:?} counts against the same window"
        );
    }
    // A fifth spelling is over the one budget.
    let r = org
        .raw(
            Some(&format!("SSWS {ADMIN_TOKEN}  ")),
            Method::GET,
            USERS,
            None,
        )
        .await;
    assert_eq!(r.status(), 429);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_error(429, &body, 429, "E0000047");
    // One address and one credential: the spellings made no extra entries.
    assert_eq!(org.state.limiter.len(), 2);
}

#[tokio::test]
async fn a_request_refused_by_address_creates_no_credential_entry() {
    let org = TestOrg::start_with(
        Backend::Sqlite,
        RateLimits {
            per_token: 1000,
            per_address: 2,
        },
    )
    .await;
    for _ in 0..2 {
        let r = org
            .raw(
                Some(&format!("SSWS {ADMIN_TOKEN}")),
                Method::GET,
                USERS,
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(org.state.limiter.len(), 2);
    for i in 0..20 {
        let r = org
            .raw(Some(&format!("SSWS junk-{i}")), Method::GET, USERS, None)
            .await;
        assert_eq!(r.status(), 429);
        assert_eq!(
            r.headers()["x-rate-limit-limit"],
            "2",
            "the address's numbers"
        );
    }
    assert_eq!(
        org.state.limiter.len(),
        2,
        "refused requests left no per-credential entries"
    );
}

#[tokio::test]
async fn the_token_cache_is_keyed_by_the_token_not_the_header() {
    let org = TestOrg::start(Backend::Sqlite).await;
    let (app_id, client_id) = org.service_app("Reader").await;
    org.grant(&app_id, "okta.users.read").await;
    org.client_role(&client_id, "READ_ONLY_ADMIN").await;
    let a = org.client_credentials(&client_id, "okta.users.read").await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let token = a.body["access_token"].as_str().unwrap().to_string();
    let key = steward_api::credential_digest("Bearer", &token);
    assert!(org.auth.cached_token(&key).is_none());
    for v in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BEARER    {token}"),
        format!("Bearer {token}   "),
    ] {
        let r = org.raw(Some(&v), Method::GET, USERS, None).await;
        assert_eq!(r.status(), 200, "{v:?}");
        assert!(
            org.auth.cached_token(&key).is_some(),
            "{v:?} is cached under the token's key"
        );
    }
}
