//! Retry policies for flood control (429), independent of any async runtime.

use std::future::Future;
use std::time::Duration;

use crate::error::BotApiError;

/// Runs `op` up to `max_tries` times (at least once), sleeping `retry_after` seconds with
/// `sleep` after each [`BotApiError::TooManyRequests`]. Other errors are returned at once.
///
/// `sleep` comes from the caller's runtime, e.g. `|d| tokio::time::sleep(d)`.
///
/// ```ignore
/// let msg = with_retry_429(3, tokio::time::sleep, || api.send_message(&req)).await?;
/// ```
pub async fn with_retry_429<T, Op, OpFut, Sleep, SleepFut>(
    max_tries: u32,
    mut sleep: Sleep,
    mut op: Op,
) -> Result<T, BotApiError>
where
    Op: FnMut() -> OpFut,
    OpFut: Future<Output = Result<T, BotApiError>>,
    Sleep: FnMut(Duration) -> SleepFut,
    SleepFut: Future<Output = ()>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match op().await {
            Err(BotApiError::TooManyRequests { retry_after }) if tries < max_tries => {
                tracing::info!(retry_after, tries, "telegram flood control, waiting");
                sleep(Duration::from_secs(retry_after)).await;
            }
            other => return other,
        }
    }
}

/// How long one piece of work (one webhook update) may still spend waiting out Telegram's
/// flood control: each 429 whose `retry_after` fits is waited out and retried, the rest are
/// given up, so the work ends before its caller gives up on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodBudget {
    left_ms: u64,
}

impl FloodBudget {
    /// A budget of `ms` milliseconds of waiting.
    pub fn new(ms: u64) -> FloodBudget {
        FloodBudget { left_ms: ms }
    }

    /// What is left, ms.
    pub fn left_ms(&self) -> u64 {
        self.left_ms
    }

    /// The wait before retrying after `e`: `Some` for a 429 whose `retry_after` fits in what
    /// is left (which shrinks by it), `None` for any other error or a wait too long.
    pub fn wait_for(&mut self, e: &BotApiError) -> Option<Duration> {
        let secs = e.retry_after()?;
        let ms = secs.max(1).saturating_mul(1_000);
        if ms > self.left_ms {
            return None;
        }
        self.left_ms -= ms;
        Some(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_fit_in_the_budget_and_use_it_up() {
        let mut b = FloodBudget::new(3_000);
        let flood = |s| BotApiError::TooManyRequests { retry_after: s };
        assert_eq!(b.wait_for(&flood(2)), Some(Duration::from_secs(2)));
        assert_eq!(b.wait_for(&flood(2)), None, "1 s left");
        assert_eq!(b.wait_for(&flood(1)), Some(Duration::from_secs(1)));
        assert_eq!(b.left_ms(), 0);
        let mut fresh = FloodBudget::new(5_000);
        let other = BotApiError::Server { status: 500 };
        assert_eq!(fresh.wait_for(&other), None, "only a 429 is waited out");
    }
}
