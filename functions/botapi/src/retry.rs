//! A retry policy for flood control (429), independent of any async runtime.

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
