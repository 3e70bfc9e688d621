//! Exponential backoff with jitter, applied only to retryable failures.

use std::future::Future;
use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (at least 1).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles after each failure.
    pub base_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt number `failed` (1-based): `base * 2^(failed-1)`,
    /// capped at `max_delay`, with "equal jitter" (a random half of it added to the other half).
    pub fn delay(&self, failed: u32) -> Duration {
        let exp = failed.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = full / 2;
        let jitter_ms = fastrand::u64(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter_ms)
    }

    /// Runs `op` until it succeeds, fails permanently, or the attempts are used up.
    /// `what`, `job_id` and the attempt number are logged on every retry.
    ///
    /// # Errors
    /// The last error: a permanent one at once, a retryable one after `max_attempts`.
    pub async fn run<T, E, F, Fut>(&self, what: &str, job_id: &str, mut op: F) -> Result<T, E>
    where
        E: Retryable + std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut failed = 0;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if !e.is_retryable() => return Err(e),
                Err(e) => {
                    failed += 1;
                    if failed >= self.max_attempts.max(1) {
                        tracing::warn!(job_id, what, try_no = failed, error = %e, "giving up");
                        return Err(e);
                    }
                    let delay = self.delay(failed);
                    tracing::warn!(job_id, what, try_no = failed, delay_ms = delay.as_millis() as u64, error = %e, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// Errors that know whether trying again may help.
pub trait Retryable {
    /// `true` for transient failures (connection refused, 5xx, timeouts).
    fn is_retryable(&self) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(bool);
    impl Retryable for E {
        fn is_retryable(&self) -> bool {
            self.0
        }
    }
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "e{}", self.0)
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    #[test]
    fn delay_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 9,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for n in 1..12 {
            let d = p.delay(n);
            let full = (100u64 << (n - 1).min(20)).min(1000);
            assert!(d.as_millis() as u64 >= full / 2 && d.as_millis() as u64 <= full);
        }
    }

    #[tokio::test]
    async fn retries_only_retryable_errors() {
        let mut calls = 0;
        let r: Result<(), E> = fast()
            .run("x", "j", || {
                calls += 1;
                async { Err(E(true)) }
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls, 3);
        let mut calls = 0;
        let r: Result<(), E> = fast()
            .run("x", "j", || {
                calls += 1;
                async { Err(E(false)) }
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls, 1);
    }
}
