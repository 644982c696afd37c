//! The storage suites, one module each, in one test binary; every test runs on a fresh SQLite
//! file and a fresh PostgreSQL database (`common`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod access_requests;
mod app_secrets;
mod connections;
mod directory;
mod flows;
mod outbox;
mod resource_owners;
mod roles;
mod store;
