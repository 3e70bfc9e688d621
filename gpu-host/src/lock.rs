//! The GPU lock: an exclusive `flock` on `GPU_LOCK_PATH`.
//!
//! Taken by polling a non-blocking `flock` from async code, so the runtime never blocks,
//! with a timeout. The guard releases it on drop (every path, panics included), and the
//! kernel releases it when the process dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a waiting host re-tries the lock.
const POLL: Duration = Duration::from_millis(10);

/// Errors taking the GPU lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process held the lock for the whole timeout.
    #[error("GPU lock {0} still busy after {1:?}")]
    Timeout(PathBuf, Duration),
    /// The lock file could not be opened or locked.
    #[error("GPU lock {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// The lock file's path; cheap to clone.
#[derive(Debug, Clone)]
pub struct GpuLock {
    path: PathBuf,
}

/// Proof of holding the GPU lock; dropping it unlocks.
#[derive(Debug)]
pub struct GpuLockGuard {
    file: File,
    acquired: Instant,
}

impl GpuLock {
    /// A lock on `path` (created on first use).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the lock, waiting at most `timeout`.
    ///
    /// # Errors
    /// [`LockError::Timeout`] when still busy after `timeout`, [`LockError::Io`] when the file
    /// cannot be opened or locked.
    pub async fn acquire(&self, timeout: Duration) -> Result<GpuLockGuard, LockError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.path)
            .map_err(|e| LockError::Io(self.path.clone(), e))?;
        let deadline = Instant::now() + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(GpuLockGuard {
                        file,
                        acquired: Instant::now(),
                    });
                }
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await;
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Timeout(self.path.clone(), timeout));
                }
                Err(TryLockError::Error(e)) => return Err(LockError::Io(self.path.clone(), e)),
            }
        }
    }
}

impl GpuLockGuard {
    /// How long the lock has been held.
    pub fn held_for(&self) -> Duration {
        self.acquired.elapsed()
    }
}

impl Drop for GpuLockGuard {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it immediate.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn second_acquire_times_out_until_first_is_dropped() {
        let path = std::env::temp_dir().join(format!("gpu-lock-test-{}", uuid::Uuid::new_v4()));
        let lock = GpuLock::new(&path);
        let first = lock
            .acquire(Duration::from_millis(50))
            .await
            .expect("first");
        let second = lock.acquire(Duration::from_millis(50)).await;
        assert!(matches!(second, Err(LockError::Timeout(..))));
        drop(first);
        let third = lock.acquire(Duration::from_millis(500)).await;
        assert!(third.is_ok());
        let _ = std::fs::remove_file(path);
    }
}
