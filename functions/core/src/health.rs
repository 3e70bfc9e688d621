//! `GET /health`: do the database and the queue answer?
//!
//! A probe is one `SELECT 1` and one `XLEN`. Under load (a balancer or an uptime checker
//! polling every instance) probing on every call would cost more than the requests it guards,
//! so a process (a Spin instance) trusts its last *successful* probe of the same database
//! and queue for [`FRESH_MS`]. A failure is never kept: an unhealthy answer is always fresh,
//! and every storage or queue outage answered to a caller ([`forget_after`], called by the
//! HTTP edge for each error it answers) forgets the last success at once, so the next call
//! probes again.

use std::sync::Mutex;

use crate::ports::{Queue, Sql};
use crate::settings::Settings;

/// How long a successful probe is trusted (ms).
pub const FRESH_MS: i64 = 1_000;

/// The last successful probe: what it probed and when (ms).
static LAST_OK: Mutex<Option<(String, i64)>> = Mutex::new(None);

/// What `/health` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// `SELECT 1` answered.
    pub database: bool,
    /// `XLEN` of the jobs stream answered.
    pub queue: bool,
}

impl Health {
    /// Both answer.
    pub fn ok(&self) -> bool {
        self.database && self.queue
    }
}

/// Forgets the last successful probe when `e` says storage or the queue did not answer.
/// The HTTP edge calls this for every error it answers, so the next `/health` probes again.
pub fn forget_after(e: &crate::CoreError) {
    if e.means_unavailable() {
        forget();
    }
}

/// Forgets the last successful probe.
pub fn forget() {
    if let Ok(mut last) = LAST_OK.lock() {
        *last = None;
    }
}

fn target(sql: &dyn Sql, settings: &Settings) -> String {
    format!(
        "{}|{}|{}",
        sql.database_id(),
        settings.redis_url,
        settings.jobs_stream
    )
}

fn fresh(target: &str, now_ms: i64) -> bool {
    LAST_OK.lock().is_ok_and(|last| {
        last.as_ref()
            .is_some_and(|(t, at)| t == target && (0..FRESH_MS).contains(&(now_ms - at)))
    })
}

/// Probes the database and the queue, or answers from a successful probe younger than
/// [`FRESH_MS`].
pub async fn check(sql: &dyn Sql, queue: &dyn Queue, settings: &Settings, now_ms: i64) -> Health {
    let target = target(sql, settings);
    if fresh(&target, now_ms) {
        return Health {
            database: true,
            queue: true,
        };
    }
    let health = Health {
        database: sql.execute("SELECT 1", &[]).await.is_ok(),
        queue: queue.backlog(&settings.jobs_stream).await.is_ok(),
    };
    if let Ok(mut last) = LAST_OK.lock() {
        *last = health.ok().then_some((target, now_ms));
    }
    health
}
