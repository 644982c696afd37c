//! The one error type of the use cases. `steward-api` turns each into Okta's error object in
//! one place (`From<AppError> for ApiError`); the CLI prints it.

use steward_core::access_requests::RuleError;
use steward_core::directory::LifecycleError;
use steward_core::validation::ValidationError;
use steward_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The input broke a rule (Okta's `E0000001`).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A lifecycle transition the user's status does not allow.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// An access-request rule refused the change (invalid, forbidden, conflict, refused).
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// What was named does not exist; the text names it, e.g. `00u1 (User)`.
    #[error("Not found: {0}")]
    NotFound(String),
    /// The actor may not make this change.
    #[error("You do not have permission to perform the requested action")]
    Forbidden,
    /// The change would leave the org without a Super Admin that can act.
    #[error("The org must keep at least one active Super Admin")]
    LastSuperAdmin,
    /// A filter the use case cannot apply (Okta's `E0000053`), and why.
    #[error("Invalid filter: {0}")]
    InvalidFilter(String),
    /// The change conflicts with the state (Okta's `E0000195`, 409), in words, without causes.
    #[error("{0}")]
    Conflict(String),
    /// A request the use case cannot carry out, in words (a CLI argument naming nobody, …).
    #[error("{0}")]
    Invalid(String),
    /// Something broke on our side (a hashing task lost, …).
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A store `NotFound` becomes [`AppError::NotFound`] naming `what`; other errors pass.
    pub fn not_found_as(what: impl Into<String>) -> impl FnOnce(StoreError) -> AppError {
        move |e| match e {
            StoreError::NotFound => AppError::NotFound(what.into()),
            other => other.into(),
        }
    }
}
