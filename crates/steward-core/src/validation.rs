//! The one validation error of the domain. The API layer renders it as Okta's `E0000001`
//! ("Api validation failed: {summary}") with one `errorCauses` entry per cause.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Api validation failed: {summary}")]
pub struct ValidationError {
    pub summary: String,
    pub causes: Vec<String>,
}

impl ValidationError {
    pub fn new(summary: impl Into<String>, cause: impl Into<String>) -> Self {
        ValidationError {
            summary: summary.into(),
            causes: vec![cause.into()],
        }
    }

    /// Collects causes; `Ok(())` when there are none.
    pub fn check(summary: &str, causes: Vec<String>) -> Result<(), ValidationError> {
        if causes.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                summary: summary.to_string(),
                causes,
            })
        }
    }
}
