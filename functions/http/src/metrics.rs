//! Prometheus metrics of the edge in the text exposition format, for `GET /metrics`: jobs
//! by status, the queue, live and stale GPU hosts, payments by status and currency, the
//! newest reconciliation's findings. Each scrape reads the database (a few reads) and
//! Redis (`XLEN`); the instances are stateless, so any of them answers for the whole edge.

use std::fmt::Write as _;

use qwen_core::contract::JobStatus;
use qwen_core::error::CoreResult;
use qwen_core::fleet::{self, Fleet};
use qwen_core::payments::{Currency, PaymentStatus, reconcile};
use qwen_core::ports::{Queue, Sql};
use qwen_core::settings::Settings;

/// The `Content-Type` of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every metric at `now_ms`.
///
/// # Errors
/// Storage (a Redis failure only leaves the `qwen_stream_*` figures out).
pub async fn render(
    sql: &dyn Sql,
    queue: &dyn Queue,
    settings: &Settings,
    now_ms: i64,
) -> CoreResult<String> {
    let mut out = String::new();
    jobs(sql, &mut out).await?;
    let view = fleet::fleet(sql, now_ms).await?;
    fleet_metrics(&view, &mut out);
    if let Some(b) = qwen_core::backlog::QueueBacklog::read(queue, settings, now_ms).await {
        backlog_metrics(&b, &mut out);
    }
    payments(sql, &mut out).await?;
    reconciliation(sql, &mut out).await?;
    Ok(out)
}

/// The findings of the newest reconciliation report, by kind (nothing before the first).
async fn reconciliation(sql: &dyn Sql, out: &mut String) -> CoreResult<()> {
    let (heads, _) = reconcile::store::list(sql, qwen_core::Page::new(1, 0)).await?;
    let Some(newest) = heads.first() else {
        return Ok(());
    };
    let s = &newest.summary;
    gauge(
        out,
        "qwen_reconciliation_items",
        "Findings of the newest reconciliation report, by kind.",
    );
    for (kind, n) in [
        ("matched", s.matched),
        ("missing_ours", s.missing_ours),
        ("missing_theirs", s.missing_theirs),
        ("amount_mismatch", s.amount_mismatch),
        ("refund_not_taken_back", s.refund_not_taken_back),
    ] {
        let _ = writeln!(out, "qwen_reconciliation_items{{kind=\"{kind}\"}} {n}");
    }
    gauge(
        out,
        "qwen_reconciliation_mismatches",
        "Findings of the newest report that need an operator.",
    );
    let bad = s.missing_ours + s.missing_theirs + s.amount_mismatch + s.refund_not_taken_back;
    let _ = writeln!(out, "qwen_reconciliation_mismatches {bad}");
    Ok(())
}

fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

async fn jobs(sql: &dyn Sql, out: &mut String) -> CoreResult<()> {
    let rows = sql
        .execute("SELECT status, COUNT(*) FROM jobs GROUP BY status", &[])
        .await?;
    let mut counts = [0_i64; 5];
    for r in &rows {
        let status: JobStatus = r.word(0)?;
        if let Some(i) = JobStatus::ALL.iter().position(|s| *s == status) {
            counts[i] = r.int(1)?;
        }
    }
    gauge(out, "qwen_jobs", "Jobs by status (all time).");
    for (status, n) in JobStatus::ALL.iter().zip(counts) {
        let _ = writeln!(out, "qwen_jobs{{status=\"{status}\"}} {n}");
    }
    Ok(())
}

fn fleet_metrics(f: &Fleet, out: &mut String) {
    gauge(
        out,
        "qwen_queue_jobs",
        "Jobs waiting for a GPU (queued) or on one (running).",
    );
    let _ = writeln!(
        out,
        "qwen_queue_jobs{{state=\"queued\"}} {}",
        f.queue.queued
    );
    let _ = writeln!(
        out,
        "qwen_queue_jobs{{state=\"running\"}} {}",
        f.queue.running
    );
    gauge(
        out,
        "qwen_queue_oldest_queued_age_seconds",
        "Age of the oldest queued job (0 when none waits).",
    );
    let age = f.queue.oldest_queued_age_ms.unwrap_or(0) as f64 / 1000.0;
    let _ = writeln!(out, "qwen_queue_oldest_queued_age_seconds {age}");
    gauge(
        out,
        "qwen_jobs_finished_per_minute",
        "Jobs finished per minute over the last ten minutes.",
    );
    let _ = writeln!(
        out,
        "qwen_jobs_finished_per_minute {}",
        f.queue.finished_per_minute
    );
    let live = f.hosts.iter().filter(|h| h.is_live()).count();
    let stale = f.hosts.iter().filter(|h| h.stale).count();
    gauge(
        out,
        "qwen_gpu_hosts",
        "GPU hosts: live (reporting, ComfyUI up), stale (missed beats), down (ComfyUI down).",
    );
    let _ = writeln!(out, "qwen_gpu_hosts{{state=\"live\"}} {live}");
    let _ = writeln!(out, "qwen_gpu_hosts{{state=\"stale\"}} {stale}");
    let _ = writeln!(
        out,
        "qwen_gpu_hosts{{state=\"down\"}} {}",
        f.hosts.len() - live - stale
    );
    gauge(
        out,
        "qwen_gpu_host_busy_ratio",
        "Share of its uptime each host's GPU ran ComfyUI, as it last reported.",
    );
    for h in &f.hosts {
        let name = escape(&h.report.host);
        let _ = writeln!(
            out,
            "qwen_gpu_host_busy_ratio{{host=\"{name}\"}} {}",
            h.report.busy_ratio
        );
    }
}

async fn payments(sql: &dyn Sql, out: &mut String) -> CoreResult<()> {
    let rows = sql
        .execute(
            "SELECT currency, status, COUNT(*), COALESCE(SUM(amount), 0) FROM payments \
             GROUP BY currency, status ORDER BY currency, status",
            &[],
        )
        .await?;
    gauge(
        out,
        "qwen_payments",
        "Payments by currency and status (all time).",
    );
    let mut amounts = String::new();
    for r in &rows {
        let (currency, status): (Currency, PaymentStatus) = (r.word(0)?, r.word(1)?);
        let labels = format!("currency=\"{currency}\",status=\"{status}\"");
        let _ = writeln!(out, "qwen_payments{{{labels}}} {}", r.int(2)?);
        let _ = writeln!(
            amounts,
            "qwen_payments_amount_minor{{{labels}}} {}",
            r.int(3)?
        );
    }
    gauge(
        out,
        "qwen_payments_amount_minor",
        "Their amounts in the currency's smallest unit (kopecks, stars).",
    );
    out.push_str(&amounts);
    Ok(())
}

/// A label value with `\`, `"` and newlines escaped as the exposition format wants.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn backlog_metrics(b: &qwen_core::backlog::QueueBacklog, out: &mut String) {
    let figures = [
        (
            "qwen_stream_waiting",
            "Jobs stream entries no GPU host has read yet.",
            b.waiting as f64,
        ),
        (
            "qwen_stream_pending",
            "Jobs stream entries read by a host and not acknowledged.",
            b.pending as f64,
        ),
        (
            "qwen_stream_oldest_pending_age_seconds",
            "Age of the oldest unacknowledged jobs stream entry (0 when none).",
            b.oldest_pending_age_ms.unwrap_or(0) as f64 / 1000.0,
        ),
        (
            "qwen_stream_length",
            "Entries the jobs stream holds, acknowledged ones not yet trimmed included.",
            b.stream_length as f64,
        ),
    ];
    for (name, help, value) in figures {
        gauge(out, name, help);
        let _ = writeln!(out, "{name} {value}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_are_escaped() {
        assert_eq!(super::escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
