//! Operator statistics: users, today's jobs by status, the queue, today's top-ups.

use serde::Serialize;

use crate::backlog::QueueBacklog;
use crate::error::CoreResult;
use crate::ports::{Queue, Sql};
use crate::settings::Settings;
use crate::users::JobCounts;

const DAY_MS: i64 = 86_400_000;

/// A snapshot for `/stats` and `GET /api/stats`. "Today" is the current UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default, utoipa::ToSchema)]
pub struct Stats {
    /// Start of the UTC day counted as "today", Unix ms.
    pub day_start: i64,
    /// Registered users.
    pub users: i64,
    /// Users registered today.
    pub users_today: i64,
    /// Jobs created today, by status.
    pub jobs_today: JobCounts,
    /// Jobs waiting for a GPU now (any day).
    pub queued_now: i64,
    /// The jobs stream's backlog (`None` when Redis did not answer).
    pub backlog: Option<QueueBacklog>,
    /// Top-ups credited today.
    pub topups_today: i64,
    /// Credits topped up today (without bonuses).
    pub topup_credits_today: i64,
}

/// Collects the statistics. A Redis failure leaves `backlog` empty rather than failing.
///
/// # Errors
/// The storage error.
pub async fn collect(
    sql: &dyn Sql,
    queue: &dyn Queue,
    settings: &Settings,
    now_ms: i64,
) -> CoreResult<Stats> {
    let day_start = now_ms - now_ms.rem_euclid(DAY_MS);
    let mut s = Stats {
        day_start,
        users: count(sql, "SELECT COUNT(*) FROM users", &[]).await?,
        users_today: count(
            sql,
            "SELECT COUNT(*) FROM users WHERE created_at >= ?1",
            &[day_start],
        )
        .await?,
        jobs_today: jobs_since(sql, day_start).await?,
        queued_now: count(
            sql,
            "SELECT COUNT(*) FROM jobs WHERE status = 'queued'",
            &[],
        )
        .await?,
        ..Stats::default()
    };
    let topups = sql
        .execute(
            "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM ledger WHERE kind = 'topup' AND created_at >= ?1",
            &[day_start.into()],
        )
        .await?;
    if let Some(r) = topups.first() {
        s.topups_today = r.int(0)?;
        s.topup_credits_today = r.int(1)?;
    }
    s.backlog = QueueBacklog::read(queue, settings, now_ms).await;
    Ok(s)
}

const HOUR_MS: i64 = 3_600_000;

/// Jobs created in each of the last `hours` whole hours (UTC), oldest first; the last
/// bucket is the current, unfinished hour.
///
/// # Errors
/// The storage error.
pub async fn jobs_per_hour(sql: &dyn Sql, now_ms: i64, hours: usize) -> CoreResult<Vec<i64>> {
    let start = hour_start(now_ms) - (hours as i64 - 1) * HOUR_MS;
    let rows = sql
        .execute(
            "SELECT (created_at - ?1) / ?2, COUNT(*) FROM jobs WHERE created_at >= ?1 GROUP BY 1",
            &[start.into(), HOUR_MS.into()],
        )
        .await?;
    let mut out = vec![0; hours];
    for r in &rows {
        if let Some(slot) = usize::try_from(r.int(0)?).ok().and_then(|i| out.get_mut(i)) {
            *slot = r.int(1)?;
        }
    }
    Ok(out)
}

/// How many jobs waited for a GPU at the end of each of the last `hours` hours (the last
/// point is now), oldest first, as the jobs' own times tell it: created by then, not yet
/// started and not finished.
///
/// # Errors
/// The storage error.
pub async fn queue_per_hour(sql: &dyn Sql, now_ms: i64, hours: usize) -> CoreResult<Vec<i64>> {
    let first = now_ms - (hours as i64 - 1) * HOUR_MS;
    let rows = sql
        .execute(
            "WITH RECURSIVE t(x) AS (SELECT ?1 UNION ALL SELECT x + ?2 FROM t WHERE x + ?2 <= ?3) \
             SELECT (SELECT COUNT(*) FROM jobs WHERE created_at <= t.x \
               AND (started_at IS NULL OR started_at > t.x) \
               AND (finished_at IS NULL OR finished_at > t.x)) FROM t ORDER BY t.x",
            &[first.into(), HOUR_MS.into(), now_ms.into()],
        )
        .await?;
    rows.iter().map(|r| Ok(r.int(0)?)).collect()
}

fn hour_start(ms: i64) -> i64 {
    ms - ms.rem_euclid(HOUR_MS)
}

async fn count(sql: &dyn Sql, stmt: &str, args: &[i64]) -> CoreResult<i64> {
    let params: Vec<_> = args.iter().map(|a| (*a).into()).collect();
    let rows = sql.execute(stmt, &params).await?;
    Ok(crate::db::count(&rows)?)
}

async fn jobs_since(sql: &dyn Sql, since: i64) -> CoreResult<JobCounts> {
    let rows = sql
        .execute(
            "SELECT status, COUNT(*) FROM jobs WHERE created_at >= ?1 GROUP BY status",
            &[since.into()],
        )
        .await?;
    let mut c = JobCounts::default();
    for r in &rows {
        c.add(r.word(0)?, r.int(1)?);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn day_start_is_utc_midnight() {
        let now = 1_700_000_000_123_i64;
        let start = now - now.rem_euclid(super::DAY_MS);
        assert_eq!(start % super::DAY_MS, 0);
        assert!(now - start < super::DAY_MS);
    }
}
