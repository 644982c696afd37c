//! Okta Workflows flows as Steward models them. Pure: no I/O, no database, no HTTP.
//!
//! - [`model`]: the `.flopack` format (folders, tables, connections, flows, cards, fields,
//!   pins), lossless: what a struct does not name it keeps.
//! - [`import()`](import::import): parse a flopack, resolve helper flows, connections and
//!   tables, and report card by card what can run; [`export`](import::export) writes it back;
//!   [`readable`](readable::readable) renders it for review and version control.
//! - [`registry`]: the card registry: each function card is one small function, control cards
//!   and triggers are descriptors the engine interprets.
//! - [`connectors`]: the Okta and Okta Identity Governance connector cards, each a pure pair
//!   (inputs → HTTP call, reply → outputs) with the scope it needs.
//! - [`plan`]: a flow's execution order (If/Else lanes and joins) from its ordering graph;
//!   [`blocks`]: the inline blocks and helpers of If/ElseIf, If Error, Call Flow and list cards.

pub mod address;
pub mod blocks;
mod cards;
pub mod condition;
pub mod connectors;
pub mod events;
pub mod exec;
pub mod import;
pub mod model;
pub mod plan;
pub mod readable;
pub mod registry;
pub mod schedule;
pub mod tables;
pub mod value;

pub use address::{Address, CardKey};
pub use exec::{Engine, Program, RunState, StepOutcome};
pub use import::{export, import, FlopackError, Import, ImportError, Report};
pub use model::Flopack;
pub use readable::readable;
pub use registry::{CardError, CardFn, CardRegistry, Inputs, Outputs};
