//! Jobs: what a worker does with a claimed job ([`worker`]) and the pull request flow
//! ([`evaluate_pr`]). Failures say whether trying again can help ([`JobError`]).

pub mod evaluate_pr;
pub mod worker;

use crate::github::client::ApiError;

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Rate limited: try again after this long.
    #[error("rate limited for {after_ms} ms: {reason}")]
    RateLimited {
        /// Milliseconds to wait.
        after_ms: i64,
        /// What GitHub said.
        reason: String,
    },
    /// A passing failure (5xx, timeout): try again with backoff.
    #[error("{0}")]
    Transient(String),
    /// Trying again cannot help: straight to the dead letters.
    #[error("{0}")]
    Permanent(String),
}

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::RateLimited {
                retry_after_secs, ..
            } => JobError::RateLimited {
                after_ms: i64::try_from(retry_after_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
                reason: e.to_string(),
            },
            ApiError::Transient(_) => JobError::Transient(e.to_string()),
            ApiError::Rejected { .. } => JobError::Permanent(e.to_string()),
        }
    }
}
