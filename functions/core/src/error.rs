//! The core's error type: what a business operation can answer besides success.

use crate::ports::{QueueError, SqlError};

/// Why a core operation did not succeed. Each maps to one HTTP status and error code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// Input failed validation (422).
    #[error("{message}")]
    Invalid {
        /// Machine code, e.g. `invalid_prompt`.
        code: &'static str,
        /// Human message.
        message: String,
    },
    /// Something does not exist (404).
    #[error("{message}")]
    NotFound {
        /// Machine code, e.g. `user_not_found`.
        code: &'static str,
        /// Human message.
        message: String,
    },
    /// The balance does not cover the cost (402).
    #[error("insufficient balance: {balance} credits, {needed} needed")]
    InsufficientBalance {
        /// Cost of the operation.
        needed: i64,
        /// Current balance.
        balance: i64,
    },
    /// The operation contradicts the current state (409).
    #[error("{message}")]
    Conflict {
        /// Machine code, e.g. `job_not_queued`, `stale_attempt`.
        code: &'static str,
        /// Human message.
        message: String,
    },
    /// The user already has `cap` unfinished jobs (429).
    #[error("too many unfinished jobs: at most {cap} at a time")]
    TooManyJobs {
        /// The configured cap.
        cap: i64,
    },
    /// The queue (Redis) could not take the job (503).
    #[error("the job queue is unavailable: {0}")]
    QueueUnavailable(String),
    /// Storage failed (503 when transient, else 500).
    #[error("storage: {0}")]
    Storage(SqlError),
    /// A bug or an impossible state (500): serializing a value failed, a stored row the
    /// code cannot read.
    #[error("internal: {0}")]
    Internal(String),
    /// An upstream service (YooKassa, Telegram) failed (502/503).
    #[error("upstream {service}: {message}")]
    Upstream {
        /// Which service.
        service: &'static str,
        /// What happened.
        message: String,
        /// Worth retrying later.
        transient: bool,
    },
}

/// Meeting an unreachable queue also makes `/health` probe again (see [`crate::health`]).
impl From<QueueError> for CoreError {
    fn from(e: QueueError) -> Self {
        crate::health::forget();
        CoreError::QueueUnavailable(e.0)
    }
}

/// Meeting unavailable storage also makes `/health` probe again (see [`crate::health`]).
impl From<SqlError> for CoreError {
    fn from(e: SqlError) -> Self {
        if matches!(e, SqlError::Unavailable(_)) {
            crate::health::forget();
        }
        CoreError::Storage(e)
    }
}

impl CoreError {
    /// A validation error.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            code,
            message: message.into(),
        }
    }
    /// A not-found error.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::NotFound {
            code,
            message: message.into(),
        }
    }
    /// A conflict error.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::Conflict {
            code,
            message: message.into(),
        }
    }
}

/// Result of a core operation.
pub type CoreResult<T> = Result<T, CoreError>;
