//! Steward's use cases, without HTTP. Each takes a [`Ctx`] (the store, the time, who acts and
//! from where) and returns a typed result or an [`AppError`]; its change, the System Log events
//! that describe it and its domain events (`docs/events.md`) commit in one transaction.
//!
//! `steward-api` calls these from its handlers (authorize → parse → one service call → render)
//! and maps [`AppError`] to Okta's errors in one place; the `steward` binary calls them
//! directly. Nothing here knows about axum.

pub mod app_credentials;
pub mod apps;
pub mod bootstrap;
mod ctx;
mod error;
pub mod governance;
pub mod groups;
pub mod roles;
pub mod sign_in;
pub mod users;

#[cfg(test)]
mod testing;

pub use ctx::Ctx;
pub use error::{AppError, AppResult};
