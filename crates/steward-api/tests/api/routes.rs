//! The router and the route table agree: every operation of Okta's specs under the guarded
//! prefixes that the router serves is a route of the table (so none is served without a `Need`),
//! and every route of the table answers an anonymous call with the guard's 401, HEAD as GET.
use crate::common;

use common::{Backend, TestOrg};
use reqwest::Method;
use steward_api::routes::{table, RouteInfo};

/// The prefixes whose routes are all guarded.
const GUARDED: [&str; 3] = ["/api/v1/", "/governance/api/", "/oauth2/v1/clients/"];

/// The path template with each `{param}` filled in.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| if seg.starts_with('{') { "x0" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the route's path template matches the concrete `path`.
fn matches(route: &RouteInfo, path: &str) -> bool {
    let want: Vec<&str> = route.path.split('/').collect();
    let got: Vec<&str> = path.split('/').collect();
    want.len() == got.len()
        && want
            .iter()
            .zip(&got)
            .all(|(w, g)| w.starts_with('{') || w == g)
}

async fn anonymous(org: &TestOrg, method: &str, path: &str) -> u16 {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    org.http
        .request(method, format!("{}{path}", org.base))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn every_served_route_has_a_need(backend: Backend) {
    let org = TestOrg::start(backend).await;
    let routes = table();
    // Every declared route is served, and behind the guard.
    for r in &routes {
        let path = concrete(&r.path);
        assert_eq!(
            anonymous(&org, r.method, &path).await,
            401,
            "{} {path}",
            r.method
        );
        if r.method == "GET" {
            assert_eq!(anonymous(&org, "HEAD", &path).await, 401, "HEAD {path}");
        }
    }
    // Every spec operation under a guarded prefix that the router serves (anything but 404,
    // 405, or the 501 of what is not built yet) is a declared route: nothing there answers
    // without the guard.
    let mut probed = 0;
    for op in steward_core::scopes::OPERATIONS {
        if !GUARDED.iter().any(|p| op.path.starts_with(p)) {
            continue;
        }
        let path = concrete(op.path);
        let status = anonymous(&org, op.method, &path).await;
        probed += 1;
        let declared = routes
            .iter()
            .any(|r| r.method == op.method && matches(r, &path));
        if status == 404 || status == 405 {
            continue;
        }
        if status == 501 {
            // The not-built fallback answers only where no route is declared.
            assert!(!declared, "{} {path} is declared but not built", op.method);
            continue;
        }
        assert!(
            declared,
            "{} {path} is served ({status}) but not declared",
            op.method
        );
        assert_eq!(status, 401, "{} {path}", op.method);
    }
    assert!(probed > 700, "{probed}");
}

on_both_backends!(every_served_route_has_a_need);
