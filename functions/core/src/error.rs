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

impl From<QueueError> for CoreError {
    fn from(e: QueueError) -> Self {
        CoreError::QueueUnavailable(e.0)
    }
}

impl From<SqlError> for CoreError {
    fn from(e: SqlError) -> Self {
        CoreError::Storage(e)
    }
}

/// What a caller outside may be told about an error: never a storage or upstream detail
/// beyond what the message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicError {
    /// The HTTP status the error means.
    pub status: u16,
    /// Machine code, e.g. `insufficient_balance`.
    pub code: &'static str,
    /// Human message.
    pub message: String,
    /// Numbers a client acts on (`needed`, `balance`, `shortfall`, `cap`).
    pub details: Vec<(&'static str, i64)>,
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
    /// Storage or the queue did not answer: worth retrying, and `/health` should probe
    /// again rather than trust its last success (see [`crate::health::forget_after`]).
    pub fn means_unavailable(&self) -> bool {
        matches!(
            self,
            CoreError::QueueUnavailable(_) | CoreError::Storage(SqlError::Unavailable(_))
        )
    }

    /// The HTTP status this error means.
    pub fn status(&self) -> u16 {
        match self {
            CoreError::Invalid { .. } => 422,
            CoreError::NotFound { .. } => 404,
            CoreError::Conflict { .. } => 409,
            CoreError::InsufficientBalance { .. } => 402,
            CoreError::TooManyJobs { .. } => 429,
            CoreError::QueueUnavailable(_) | CoreError::Storage(SqlError::Unavailable(_)) => 503,
            CoreError::Storage(_) | CoreError::Internal(_) => 500,
            CoreError::Upstream { transient, .. } => {
                if *transient {
                    503
                } else {
                    502
                }
            }
        }
    }

    /// The machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Invalid { code, .. }
            | CoreError::NotFound { code, .. }
            | CoreError::Conflict { code, .. } => code,
            CoreError::InsufficientBalance { .. } => "insufficient_balance",
            CoreError::TooManyJobs { .. } => "too_many_jobs",
            CoreError::QueueUnavailable(_) => "queue_unavailable",
            CoreError::Storage(SqlError::Unavailable(_)) => "storage_unavailable",
            CoreError::Storage(_) | CoreError::Internal(_) => "internal",
            CoreError::Upstream { .. } => "upstream_error",
        }
    }

    /// What may be shown outside: status, code, a message without internal detail (a
    /// storage error's text or a bug's is for the log only), and the numbers a client acts on.
    pub fn public(&self) -> PublicError {
        let (message, details) = match self {
            CoreError::Invalid { message, .. }
            | CoreError::NotFound { message, .. }
            | CoreError::Conflict { message, .. } => (message.clone(), Vec::new()),
            CoreError::InsufficientBalance { needed, balance } => (
                format!("balance {balance} is short of the {needed} credits needed"),
                vec![
                    ("needed", *needed),
                    ("balance", *balance),
                    ("shortfall", needed - balance),
                ],
            ),
            CoreError::TooManyJobs { cap } => (
                format!("at most {cap} unfinished edits at a time; wait for one to finish"),
                vec![("cap", *cap)],
            ),
            CoreError::QueueUnavailable(_) => (
                "the job queue is unavailable; the charge was refunded, please retry later".into(),
                Vec::new(),
            ),
            CoreError::Storage(SqlError::Unavailable(_)) => (
                "storage is busy or unavailable, please retry".into(),
                Vec::new(),
            ),
            CoreError::Storage(_) => ("internal storage error".into(), Vec::new()),
            CoreError::Internal(_) => ("internal error".into(), Vec::new()),
            CoreError::Upstream {
                service, message, ..
            } => (format!("{service} failed: {message}"), Vec::new()),
        };
        PublicError {
            status: self.status(),
            code: self.code(),
            message,
            details,
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
