//! Clocks for tests: the system clock and a settable one.

use std::sync::atomic::{AtomicI64, Ordering};

use qwen_core::ports::Clock;

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that starts at the real time and moves only when told.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    /// A fake clock at the current real time.
    pub fn new() -> FakeClock {
        FakeClock(AtomicI64::new(SystemClock.now_ms()))
    }
    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        FakeClock::new()
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Waiting on tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleep;

#[async_trait::async_trait(?Send)]
impl qwen_core::ports::Sleep for TokioSleep {
    async fn sleep(&self, ms: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}
