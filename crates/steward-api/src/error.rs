//! Every error the HTTP layer can answer, and the one place where each becomes a status code,
//! an Okta error object (`errorCode`, `errorSummary`, `errorLink`, `errorId`, `errorCauses`) and,
//! for authentication failures, a `WWW-Authenticate` challenge.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use steward_app::AppError;
use steward_core::directory::{LifecycleError, NUL_CAUSE};
use steward_core::ids::{new_id, IdKind};
use steward_core::validation::ValidationError;
use steward_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// E0000001: a field failed validation.
    #[error("Api validation failed: {summary}")]
    Validation {
        summary: String,
        causes: Vec<String>,
    },
    /// E0000003: the body is not well-formed JSON of the expected shape.
    #[error("The request body was not well-formed.")]
    MalformedBody(String),
    /// E0000006: authenticated, but the principal's roles do not allow the call.
    #[error("You do not have permission to perform the requested action")]
    Forbidden,
    /// E0000006 with its reason: the change would leave the org without a Super Admin that can
    /// act (the last one suspended, deactivated, deleted or demoted).
    #[error("You do not have permission to perform the requested action")]
    LastSuperAdmin,
    /// E0000007.
    #[error("Not found: Resource not found: {0}")]
    NotFound(String),
    /// E0000016: activating a user who is not STAGED or DEPROVISIONED.
    #[error("Activation failed because the user is already active")]
    AlreadyActive,
    /// E0000038: a lifecycle operation the user's status does not allow (reactivating a user
    /// who is not PROVISIONED).
    #[error("This operation is not allowed in the user's current status.")]
    NotAllowedInStatus,
    /// E0000022.
    #[error("The endpoint does not support the provided HTTP method")]
    MethodNotAllowed,
    /// E0000029: bad `after` or `limit`.
    #[error("Invalid paging request.")]
    InvalidPaging(String),
    /// E0000047.
    #[error("API call exceeded rate limit due to too many requests.")]
    RateLimited,
    /// E0000053: the SCIM filter does not parse or names what cannot be filtered.
    #[error("Invalid SCIM filter.")]
    InvalidFilter(String),
    /// E0000056: deleting an application that is still active.
    #[error("Delete application forbidden.")]
    DeleteActiveApp,
    /// An OAuth 2.0 error at `/oauth2/v1/*` (RFC 6749 §5.2): `{"error", "error_description"}`.
    #[error("{error}: {description}")]
    OAuth {
        status: StatusCode,
        error: &'static str,
        description: String,
        /// `DPoP-Nonce` to send (RFC 9449 §8).
        dpop_nonce: Option<String>,
        /// Answer `WWW-Authenticate: Basic` (the client tried HTTP Basic authentication).
        basic_challenge: bool,
    },
    /// 401/403 from the resource-server guard with its `WWW-Authenticate` value.
    #[error("{summary}")]
    Challenge {
        status: StatusCode,
        challenge: String,
        summary: &'static str,
        code: &'static str,
        dpop_nonce: Option<String>,
    },
    /// E0000015 answered with `501 Not Implemented`: an operation of Okta's API that Steward
    /// has not built yet (rather than a `404` that reads as "no such thing").
    #[error("Not implemented: {0}")]
    NotBuilt(String),
    /// A domain rule refused the change, with its reasons as causes: E0000006 (not allowed, e.g.
    /// a requester deciding their own request), E0000195 (conflicts with the state), E0000002
    /// (refused or rejected by the rules).
    #[error("{summary}")]
    Rule {
        status: StatusCode,
        code: &'static str,
        summary: String,
        causes: Vec<String>,
    },
    /// E0000009: something broke on our side. The detail is logged, never sent.
    #[error("Internal Server Error")]
    Internal(String),
}

/// Why [`ApiError::LastSuperAdmin`] refuses a change.
pub const LAST_SUPER_ADMIN_CAUSE: &str = "The org must keep at least one active Super Admin: \
    this change would leave it with none. Assign SUPER_ADMIN to another active user or service \
    app first (or run `steward admin recover` on the server).";

/// Why [`ApiError::NotBuilt`] answers: the operation exists in Okta's API, not in Steward yet.
pub const NOT_BUILT_CAUSE: &str = "This operation of Okta's API is not built in Steward yet: \
    the route exists in Okta's specs, but Steward does not serve it (docs/roles.md lists the \
    scopes and roles not built yet).";

impl ApiError {
    /// An OAuth error answered with 400.
    pub fn oauth(error: &'static str, description: impl Into<String>) -> ApiError {
        ApiError::OAuth {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            dpop_nonce: None,
            basic_challenge: false,
        }
    }

    /// `invalid_client`, answered with 401.
    pub fn invalid_client(description: impl Into<String>) -> ApiError {
        ApiError::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            dpop_nonce: None,
            basic_challenge: false,
        }
    }

    /// The same error, with a `WWW-Authenticate: Basic` challenge when it is a 401 (RFC 6749 §5.2:
    /// for clients that authenticated with HTTP Basic).
    pub fn with_basic_challenge(self) -> ApiError {
        match self {
            ApiError::OAuth {
                status,
                error,
                description,
                dpop_nonce,
                ..
            } => ApiError::OAuth {
                status,
                error,
                description,
                dpop_nonce,
                basic_challenge: status == StatusCode::UNAUTHORIZED,
            },
            other => other,
        }
    }

    pub fn validation(field: &str, cause: impl Into<String>) -> ApiError {
        ApiError::Validation {
            summary: field.to_string(),
            causes: vec![cause.into()],
        }
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::NotFound(what.into())
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Vec<String>) {
        use ApiError::*;
        let summary = self.to_string();
        match self {
            Validation { causes, .. } => {
                (StatusCode::BAD_REQUEST, "E0000001", summary, causes.clone())
            }
            MalformedBody(why) => (
                StatusCode::BAD_REQUEST,
                "E0000003",
                summary,
                vec![why.clone()],
            ),
            Forbidden => (StatusCode::FORBIDDEN, "E0000006", summary, vec![]),
            LastSuperAdmin => (
                StatusCode::FORBIDDEN,
                "E0000006",
                summary,
                vec![LAST_SUPER_ADMIN_CAUSE.into()],
            ),
            NotFound(_) => (StatusCode::NOT_FOUND, "E0000007", summary, vec![]),
            Rule {
                status,
                code,
                causes,
                ..
            } => (*status, code, summary, causes.clone()),
            AlreadyActive => (StatusCode::FORBIDDEN, "E0000016", summary, vec![]),
            NotAllowedInStatus => (StatusCode::FORBIDDEN, "E0000038", summary, vec![]),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "E0000022", summary, vec![]),
            InvalidPaging(why) => (
                StatusCode::BAD_REQUEST,
                "E0000029",
                summary,
                vec![why.clone()],
            ),
            RateLimited => (StatusCode::TOO_MANY_REQUESTS, "E0000047", summary, vec![]),
            InvalidFilter(why) => (
                StatusCode::BAD_REQUEST,
                "E0000053",
                summary,
                vec![why.clone()],
            ),
            DeleteActiveApp => (
                StatusCode::FORBIDDEN,
                "E0000056",
                summary,
                vec!["Application must be deactivated before it can be deleted".into()],
            ),
            NotBuilt(_) => (
                StatusCode::NOT_IMPLEMENTED,
                "E0000015",
                summary,
                vec![NOT_BUILT_CAUSE.into()],
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "E0000009",
                summary,
                vec![],
            ),
            OAuth { status, .. } => (*status, "", summary, vec![]),
            Challenge {
                status,
                code,
                summary,
                ..
            } => (*status, code, summary.to_string(), vec![]),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        if let ApiError::OAuth {
            status,
            error,
            description,
            dpop_nonce,
            basic_challenge,
        } = &self
        {
            let body = json!({"error": error, "error_description": description});
            let mut response = (*status, axum::Json(body)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            if *basic_challenge {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"oauth2\""),
                );
            }
            if let Some(nonce) = dpop_nonce
                .as_deref()
                .and_then(|n| HeaderValue::from_str(n).ok())
            {
                headers.insert("dpop-nonce", nonce);
            }
            return response;
        }
        let (status, code, summary, causes) = self.parts();
        let challenge = match &self {
            ApiError::Challenge { challenge, .. } => Some(challenge.clone()),
            _ => None,
        };
        let dpop_nonce = match &self {
            ApiError::Challenge { dpop_nonce, .. } => dpop_nonce.clone(),
            _ => None,
        };
        let mut response = if code.is_empty() {
            // Okta answers a missing scope with the challenge alone and an empty body.
            status.into_response()
        } else {
            let body = json!({
                "errorCode": code,
                "errorSummary": summary,
                "errorLink": code,
                "errorId": new_id(IdKind::ErrorId),
                "errorCauses": causes.iter().map(|c| json!({"errorSummary": c})).collect::<Vec<_>>(),
            });
            (status, axum::Json(body)).into_response()
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(value) = dpop_nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            response.headers_mut().insert("dpop-nonce", value);
        }
        response
    }
}

impl From<steward_core::access_requests::RuleError> for ApiError {
    fn from(e: steward_core::access_requests::RuleError) -> Self {
        use steward_core::access_requests::RuleError;
        let summary = e.to_string();
        let rule = |status, code, causes| ApiError::Rule {
            status,
            code,
            summary: summary.clone(),
            causes,
        };
        match e {
            RuleError::Invalid(v) => v.into(),
            // The rule's reason is the cause: a requester deciding their own request is told why.
            RuleError::Forbidden(v) => rule(StatusCode::FORBIDDEN, "E0000006", v.causes),
            RuleError::Conflict(v) => rule(StatusCode::CONFLICT, "E0000195", v.causes),
            RuleError::Refused(v) | RuleError::Rejected(v) => {
                rule(StatusCode::BAD_REQUEST, "E0000002", v.causes)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("resource".into()),
            StoreError::Conflict(field) => ApiError::validation(
                &field,
                format!(
                    "{field}: An object with this field already exists in the current organization"
                ),
            ),
            StoreError::InvalidFilter(why) => ApiError::InvalidFilter(why),
            StoreError::InvalidValue(field) => {
                let cause = format!("{field}: {NUL_CAUSE}");
                ApiError::validation(&field, cause)
            }
            StoreError::InvalidCursor => {
                ApiError::InvalidPaging("after: INVALID_AFTER_PARAMETER".into())
            }
            // Every write checks its values before the database, so what PostgreSQL still cannot
            // represent is a lookup (by id, login, client id, ...) for a key that cannot exist:
            // Okta's answer to an unknown key. SQLite, which finds nothing, answers the same.
            StoreError::Unrepresentable(_) => ApiError::NotFound("resource".into()),
            other @ (StoreError::Database(_) | StoreError::Corrupt(_)) => {
                ApiError::Internal(other.to_string())
            }
        }
    }
}

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::AlreadyActive => ApiError::AlreadyActive,
            LifecycleError::NotAllowedInStatus => ApiError::NotAllowedInStatus,
            LifecycleError::Invalid(v) => v.into(),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Validation {
            summary: e.summary,
            causes: e.causes,
        }
    }
}

/// The use cases' errors (`steward-app`), as Okta answers them.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Store(e) => e.into(),
            AppError::Validation(e) => e.into(),
            AppError::Lifecycle(e) => e.into(),
            // Okta's codes for a rule's refusal: E0000006, E0000195, E0000002 (see `Rule`).
            AppError::Rule(e) => e.into(),
            AppError::NotFound(what) => ApiError::NotFound(what),
            AppError::Forbidden => ApiError::Forbidden,
            AppError::LastSuperAdmin => ApiError::LastSuperAdmin,
            AppError::InvalidFilter(why) => ApiError::InvalidFilter(why),
            AppError::Conflict(summary) => ApiError::Rule {
                status: StatusCode::CONFLICT,
                code: "E0000195",
                summary,
                causes: vec![],
            },
            AppError::Invalid(why) => ApiError::Validation {
                summary: why.clone(),
                causes: vec![why],
            },
            AppError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
