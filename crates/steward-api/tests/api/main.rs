//! Steward's HTTP suites, one module each, in one test binary: one link instead of one per
//! file. Each test starts its own org on a real port over SQLite or PostgreSQL (`common`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

mod access_requests;
mod activation;
mod admin_boundaries;
mod api_tokens;
mod app_credentials;
mod authorize;
mod bad_input;
mod blocking;
mod browser_hardening;
mod directory;
mod governance_decisions;
mod guard;
mod http;
mod last_super_admin;
mod limits;
mod links;
mod not_built;
mod oauth;
mod oauth_endpoints;
mod outbox;
mod profile_rules;
mod rejections;
mod resource_owners;
mod routes;
mod self_scopes;
mod unassignment;
mod user_integrity;
mod users;
mod workflows;
mod workflows_cards;
mod workflows_connections;
mod workflows_events;
mod workflows_seed;
mod workflows_tables;
