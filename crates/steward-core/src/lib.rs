//! Steward's domain: identifiers, timestamps, admin roles and permissions, SCIM filters and the
//! catalogue of Okta API scopes. Everything here is pure (no I/O) so that every rule is unit-tested.

pub mod access_requests;
pub mod apps;
pub mod audit;
pub mod directory;
pub mod events;
pub mod filter;
pub mod ids;
pub mod lockout;
pub mod profiles;
pub mod resource_owners;
pub mod roles;
pub mod scopes;
pub mod syslog;
pub mod timefmt;
pub mod validation;
