//! Identity Governance routes. Access requests are not stored yet, so every request id is
//! unknown: the route exists (and is guarded by its scope) so that clients get Okta's real
//! answers, `403 insufficient_scope` or `404`, while the access-requests work fills it in.

use axum::extract::Path;

use crate::error::ApiError;

pub async fn get_request_v1(Path(request_id): Path<String>) -> ApiError {
    ApiError::not_found(format!("{request_id} (Request)"))
}
