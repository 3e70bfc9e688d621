//! The GPU fleet as the edge sees it: the last report of each host, which hosts are live,
//! the queue, and the wait a new or queued job can expect.
//!
//! Hosts report every few seconds ([`HostHeartbeat`]); one that missed
//! [`STALE_AFTER_MS`] worth of beats is stale. The wait is the jobs ahead divided by the
//! live hosts' throughput (each host: one job per its mean run time); with no live host
//! the queue is paused and no number is given.

use serde::Serialize;

use crate::contract::{CONTRACT_VERSION, HostHeartbeat};
use crate::error::{CoreError, CoreResult};
use crate::ports::{Sql, SqlError, SqlRow};

/// A host whose last report is older than this (three missed beats of 5 s) is stale.
pub const STALE_AFTER_MS: i64 = 15_000;
/// The run time assumed for a live host that has not finished a job yet.
pub const DEFAULT_RUN_MS: u64 = 30_000;
/// The window of finished jobs the queue's throughput is measured over.
pub const THROUGHPUT_WINDOW_MS: i64 = 10 * 60_000;

/// A host's last report and how fresh it is.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HostView {
    /// What the host said.
    #[serde(flatten)]
    pub report: HostHeartbeat,
    /// When the edge received it, Unix ms.
    pub received_at: i64,
    /// Milliseconds since then.
    pub age_ms: i64,
    /// Missed too many beats: not counted as capacity.
    pub stale: bool,
}

impl HostView {
    /// Reporting, and its ComfyUI is up: it takes jobs.
    pub fn is_live(&self) -> bool {
        !self.stale && self.report.comfy_up
    }
}

/// The queue right now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default, utoipa::ToSchema)]
pub struct QueueView {
    /// Jobs waiting for a GPU.
    pub queued: i64,
    /// Jobs a host is running.
    pub running: i64,
    /// Age of the oldest queued job, ms (`None` when nothing waits).
    pub oldest_queued_age_ms: Option<i64>,
    /// Jobs finished (succeeded or failed) over the last ten minutes, per minute.
    pub finished_per_minute: f64,
}

/// How long a job will wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Wait {
    /// No live host: the queue does not move, so no number is given.
    Paused,
    /// About this many seconds until the job is done.
    About {
        /// Seconds, rounded up.
        seconds: u64,
    },
}

/// The hosts and the queue, for `/api/fleet` and the console.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Fleet {
    /// Every host that ever reported, by name.
    pub hosts: Vec<HostView>,
    /// The queue.
    pub queue: QueueView,
    /// What a job submitted now would wait.
    pub wait_for_new_job: Wait,
}

/// Forgets the hosts whose last report came before `before` (Unix ms): each pod rollout or
/// renamed host leaves a row otherwise, and every wait quote reads them all. Returns how many.
///
/// # Errors
/// Storage.
pub async fn forget_silent(sql: &dyn Sql, before: i64) -> CoreResult<u64> {
    let gone = sql
        .execute(
            "DELETE FROM hosts WHERE received_at < ?1 RETURNING name",
            &[before.into()],
        )
        .await?;
    for row in &gone {
        tracing::info!(host = %row.text(0)?, "forgot a GPU host silent for days");
    }
    Ok(gone.len() as u64)
}

/// Checks and stores a host's report (a relaxed-durability write: losing the last beat
/// in a power failure only makes the host look stale a few seconds early).
///
/// # Errors
/// [`CoreError::Invalid`] for an unknown version, an empty or long name, a busy ratio
/// outside 0–1; storage.
pub async fn record(sql: &dyn Sql, hb: &HostHeartbeat, now_ms: i64) -> CoreResult<()> {
    check(hb)?;
    let report = serde_json::to_string(hb).map_err(|e| CoreError::Internal(e.to_string()))?;
    sql.execute_volatile(
        "INSERT INTO hosts (name, report, received_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT(name) DO UPDATE SET report = excluded.report, received_at = excluded.received_at",
        &[hb.host.as_str().into(), report.into(), now_ms.into()],
    )
    .await?;
    tracing::debug!(host = %hb.host, comfy_up = hb.comfy_up, jobs_done = hb.jobs_done, "host report");
    Ok(())
}

fn check(hb: &HostHeartbeat) -> CoreResult<()> {
    if hb.v != CONTRACT_VERSION {
        return Err(CoreError::invalid(
            "invalid_report",
            "unsupported report version",
        ));
    }
    let name = hb.host.trim();
    if name.is_empty() || hb.host.chars().count() > 128 {
        return Err(CoreError::invalid(
            "invalid_report",
            "host is 1 to 128 characters",
        ));
    }
    if !(0.0..=1.0).contains(&hb.busy_ratio) {
        return Err(CoreError::invalid(
            "invalid_report",
            "busy_ratio is between 0 and 1",
        ));
    }
    Ok(())
}

/// Every host's last report, by name, with its freshness at `now_ms`.
///
/// # Errors
/// Storage, or a stored report the code cannot read.
pub async fn hosts(sql: &dyn Sql, now_ms: i64) -> CoreResult<Vec<HostView>> {
    let rows = sql
        .execute("SELECT report, received_at FROM hosts ORDER BY name", &[])
        .await?;
    rows.iter().map(|r| Ok(view(r, now_ms)?)).collect()
}

fn view(r: &SqlRow, now_ms: i64) -> Result<HostView, SqlError> {
    let report: HostHeartbeat = serde_json::from_str(&r.text(0)?)
        .map_err(|e| SqlError::Decode(format!("host report: {e}")))?;
    let received_at = r.int(1)?;
    let age_ms = (now_ms - received_at).max(0);
    Ok(HostView {
        report,
        received_at,
        age_ms,
        stale: age_ms > STALE_AFTER_MS,
    })
}

/// The queue's counts, its oldest waiting job and its recent throughput, in one read.
///
/// # Errors
/// Storage.
pub async fn queue(sql: &dyn Sql, now_ms: i64) -> CoreResult<QueueView> {
    let rows = sql
        .execute(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE status = 'queued'), \
                    (SELECT COUNT(*) FROM jobs WHERE status = 'running'), \
                    (SELECT MIN(created_at) FROM jobs WHERE status = 'queued'), \
                    (SELECT COUNT(*) FROM jobs WHERE finished_at >= ?1 \
                       AND status IN ('succeeded', 'failed'))",
            &[(now_ms - THROUGHPUT_WINDOW_MS).into()],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(QueueView::default());
    };
    let minutes = THROUGHPUT_WINDOW_MS as f64 / 60_000.0;
    Ok(QueueView {
        queued: r.int(0)?,
        running: r.int(1)?,
        oldest_queued_age_ms: r.opt_int(2)?.map(|t| (now_ms - t).max(0)),
        finished_per_minute: r.int(3)? as f64 / minutes,
    })
}

/// The hosts, the queue and the wait for a new job.
///
/// # Errors
/// As [`hosts`] and [`queue`].
pub async fn fleet(sql: &dyn Sql, now_ms: i64) -> CoreResult<Fleet> {
    let hosts = hosts(sql, now_ms).await?;
    let queue = queue(sql, now_ms).await?;
    let wait_for_new_job = wait(queue.queued + queue.running, &hosts);
    Ok(Fleet {
        hosts,
        queue,
        wait_for_new_job,
    })
}

/// The wait of a job with `ahead` jobs before it: those and itself, at the live hosts'
/// combined rate (each finishes one job per its mean run time).
pub fn wait(ahead: i64, hosts: &[HostView]) -> Wait {
    let per_second: f64 = hosts
        .iter()
        .filter(|h| h.is_live())
        .map(|h| 1000.0 / h.report.run_ms_mean.unwrap_or(DEFAULT_RUN_MS).max(1) as f64)
        .sum();
    if per_second <= 0.0 {
        return Wait::Paused;
    }
    let jobs = (ahead.max(0) + 1) as f64;
    Wait::About {
        seconds: (jobs / per_second).ceil() as u64,
    }
}

/// The wait for a new job (everything queued or running is ahead of it), in one read of
/// the queue and one of the hosts.
///
/// # Errors
/// As [`fleet`].
pub async fn wait_for_new_job(sql: &dyn Sql, now_ms: i64) -> CoreResult<Wait> {
    Ok(fleet(sql, now_ms).await?.wait_for_new_job)
}

/// The wait of a job with `ahead` jobs before it, `None` for a job that no longer waits.
///
/// # Errors
/// As [`hosts`].
pub async fn wait_for(sql: &dyn Sql, ahead: i64, now_ms: i64) -> CoreResult<Wait> {
    Ok(wait(ahead, &hosts(sql, now_ms).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, mean: Option<u64>, age_ms: i64, comfy_up: bool) -> HostView {
        HostView {
            report: HostHeartbeat {
                v: 1,
                host: name.into(),
                version: "0.1.0".into(),
                workflow: "qwen_edit_2511".into(),
                comfy_up,
                current_job: None,
                jobs_done: 0,
                run_ms_mean: mean,
                run_ms_p90: mean,
                busy_ratio: 0.5,
                at: 0,
            },
            received_at: 0,
            age_ms,
            stale: age_ms > STALE_AFTER_MS,
        }
    }

    #[test]
    fn no_live_host_pauses_the_queue() {
        assert_eq!(wait(0, &[]), Wait::Paused);
        let stale = host("a", Some(10_000), STALE_AFTER_MS + 1, true);
        let down = host("b", Some(10_000), 0, false);
        assert_eq!(wait(5, &[stale, down]), Wait::Paused);
    }

    #[test]
    fn one_host_the_queue_ahead_at_its_mean_run_time() {
        let a = host("a", Some(20_000), 1_000, true);
        assert_eq!(
            wait(0, std::slice::from_ref(&a)),
            Wait::About { seconds: 20 }
        );
        assert_eq!(wait(8, &[a]), Wait::About { seconds: 180 });
    }

    #[test]
    fn three_hosts_share_a_long_queue() {
        let hosts = [
            host("a", Some(30_000), 0, true),
            host("b", Some(30_000), 0, true),
            host("c", None, 0, true),
        ];
        // 100 ahead + this one at 3 jobs / 30 s = 1,010 s.
        assert_eq!(wait(100, &hosts), Wait::About { seconds: 1_010 });
        assert_eq!(wait(-3, &hosts), Wait::About { seconds: 10 });
    }

    #[test]
    fn reports_are_checked() {
        let mut hb = host("a", None, 0, true).report;
        assert!(check(&hb).is_ok());
        hb.busy_ratio = 1.5;
        assert!(check(&hb).is_err());
        hb.busy_ratio = f64::NAN;
        assert!(check(&hb).is_err());
        hb.busy_ratio = 0.1;
        hb.host = " ".into();
        assert!(check(&hb).is_err());
        hb.host = "a".into();
        hb.v = 2;
        assert!(check(&hb).is_err());
    }
}
