//! `/api/v1/api-tokens`: a Super Admin lists, reads and revokes SSWS tokens (never their values);
//! any other admin is refused; a revoked token stops working at once.
use crate::common;

use common::{assert_error, Backend, TestOrg};
use reqwest::Method;
use serde_json::json;

async fn super_admin_manages_tokens_and_others_may_not(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let user = org.user("org.admin@example.com").await;
    let user_id = user["id"].as_str().unwrap();
    let (s, r) = org
        .post(
            &format!("/api/v1/users/{user_id}/roles"),
            json!({"type": "ORG_ADMIN"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let org_admin = org.token_for("org.admin@example.com").await;

    // Allowed: the Super Admin sees both tokens' metadata, never a value.
    let (s, list) = org.get("/api/v1/api-tokens").await;
    assert_eq!(s, 200, "{list}");
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["userId"] == user_id)
        .unwrap_or_else(|| panic!("{list}"))
        .clone();
    assert!(
        !list.to_string().contains(&org_admin),
        "values are never shown"
    );
    let id = mine["id"].as_str().unwrap();
    let (s, one) = org.get(&format!("/api/v1/api-tokens/{id}")).await;
    assert_eq!((s, &one["name"]), (200, &mine["name"]));
    assert_eq!(one["network"]["connection"], "ANYWHERE");
    // Its links resolve.
    for link in ["self", "user"] {
        let href = one["_links"][link]["href"].as_str().unwrap();
        let path = href.strip_prefix(&org.base).unwrap();
        assert_eq!(org.get(path).await.0, 200, "{link}: {href}");
    }

    // Denied: an Org Admin may not list, read or revoke tokens (not even their own).
    for (method, path) in [
        (Method::GET, "/api/v1/api-tokens".to_string()),
        (Method::GET, format!("/api/v1/api-tokens/{id}")),
        (Method::DELETE, format!("/api/v1/api-tokens/{id}")),
    ] {
        let (s, b) = org.send_as(&org_admin, method.clone(), &path, None).await;
        assert_error(s, &b, 403, "E0000006");
    }

    // Revocation: 204, the token stops working, then it is not found.
    let (s, _) = org.delete(&format!("/api/v1/api-tokens/{id}")).await;
    assert_eq!(s, 204);
    let (s, _) = org
        .send_as(&org_admin, Method::GET, "/api/v1/users/me", None)
        .await;
    assert_eq!(s, 401);
    let (s, b) = org.get(&format!("/api/v1/api-tokens/{id}")).await;
    assert_error(s, &b, 404, "E0000007");
    let (s, b) = org.delete(&format!("/api/v1/api-tokens/{id}")).await;
    assert_error(s, &b, 404, "E0000007");
    let (s, b) = org.get("/api/v1/api-tokens/00Tnosuchtoken000000").await;
    assert_error(s, &b, 404, "E0000007");
    let (_, list) = org.get("/api/v1/api-tokens").await;
    assert!(
        list.as_array().unwrap().iter().all(|t| t["id"] != id),
        "{list}"
    );
}

on_both_backends!(super_admin_manages_tokens_and_others_may_not);
