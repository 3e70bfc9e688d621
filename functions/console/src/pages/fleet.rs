//! The live queue and hosts, refreshed by the page's script every few seconds, with the
//! charts: jobs per hour and queue length over 24 hours, GPU busy per host.

use qwen_core::fleet::{self, Fleet, HostView, Wait};
use qwen_core::ports::HttpResponse;
use qwen_core::{CoreResult, stats};

use crate::call::Call;
use crate::charts;
use crate::html::{self, esc};

/// `GET /console/fleet`.
pub(crate) async fn page(c: &Call<'_>) -> HttpResponse {
    match live_html(c).await {
        Ok(inner) => {
            let body = format!("<div id=\"live\" data-live=\"/console/fleet/live\">{inner}</div>");
            c.page(200, c.t("nav_fleet"), &body)
        }
        Err(e) => c.failed(&e),
    }
}

/// `GET /console/fleet/live`: the page's live part alone.
pub(crate) async fn live(c: &Call<'_>) -> HttpResponse {
    match live_html(c).await {
        Ok(inner) => html::html(200, inner),
        Err(e) => c.failed(&e),
    }
}

async fn live_html(c: &Call<'_>) -> CoreResult<String> {
    let now = c.now();
    let f = fleet::fleet(c.sql(), now).await?;
    let per_hour = stats::jobs_per_hour(c.sql(), now, 24).await?;
    let queue = stats::queue_per_hour(c.sql(), now, 24).await?;
    let backlog = c.backlog().await;
    let busy: Vec<(String, f64, bool)> = f
        .hosts
        .iter()
        .map(|h| (h.report.host.clone(), h.report.busy_ratio, h.stale))
        .collect();
    Ok(format!(
        "{}{}<h2>{}</h2>{}<div class=\"charts\">{}{}{}</div>",
        summary(c, &f),
        stream(c, backlog.as_ref()),
        c.t("hosts"),
        hosts_table(c, &f.hosts),
        charts::bars(c.t("chart_queue"), &queue, "−24 h", "now"),
        charts::bars(c.t("chart_jobs"), &per_hour, "−24 h", "now"),
        charts::hosts(c.t("chart_busy"), &busy),
    ))
}

fn secs(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".into(), |m| format!("{:.1}", m as f64 / 1000.0))
}

fn summary(c: &Call<'_>, f: &Fleet) -> String {
    let wait = match f.wait_for_new_job {
        Wait::Paused => format!("<span class=\"bad\">{}</span>", c.t("paused")),
        Wait::About { seconds } => format!("≈ {seconds} s"),
    };
    let q = &f.queue;
    let cell = |k, v: String| stat(c, k, &v);
    format!(
        "<div class=\"stats\">{}{}{}{}{}</div>",
        cell("queued", q.queued.to_string()),
        cell("running", q.running.to_string()),
        cell("oldest", format!("{} s", secs(q.oldest_queued_age_ms))),
        cell("per_minute", format!("{:.1}", q.finished_per_minute)),
        cell("wait_new", wait),
    )
}

/// One figure of a summary row.
fn stat(c: &Call<'_>, key: &'static str, value: &str) -> String {
    format!(
        "<div class=\"stat\"><span>{}</span><b>{value}</b></div>",
        c.t(key)
    )
}

/// The Redis stream's side of the queue: unread, held by hosts, the oldest held.
fn stream(c: &Call<'_>, b: Option<&qwen_core::backlog::QueueBacklog>) -> String {
    let Some(b) = b else {
        return format!("<p class=\"bad\">{}</p>", c.t("stream_down"));
    };
    let cell = |k, v: String| stat(c, k, &v);
    format!(
        "<div class=\"stats\" id=\"stream\">{}{}{}{}</div>",
        cell("stream_waiting", b.waiting.to_string()),
        cell("stream_pending", b.pending.to_string()),
        cell(
            "stream_oldest",
            format!("{} s", secs(b.oldest_pending_age_ms))
        ),
        cell("stream_length", b.stream_length.to_string()),
    )
}

fn host_row(c: &Call<'_>, h: &HostView) -> String {
    let (class, state) = match (h.stale, h.report.comfy_up) {
        (true, _) => ("stale", c.t("stale")),
        (false, false) => ("down", c.t("down")),
        (false, true) => ("live", c.t("live")),
    };
    let r = &h.report;
    let current = r.current_job.as_ref().map_or("—", |j| j.as_str());
    format!(
        "<tr class=\"{class}\"><td>{}</td><td>{state}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td>{:.0}%</td><td>{} s</td></tr>",
        esc(&r.host),
        esc(&r.version),
        esc(&r.workflow),
        if r.comfy_up { "✓" } else { "✗" },
        esc(current),
        r.jobs_done,
        secs(r.run_ms_mean.map(|m| m as i64)),
        secs(r.run_ms_p90.map(|m| m as i64)),
        r.busy_ratio * 100.0,
        h.age_ms / 1000,
    )
}

fn hosts_table(c: &Call<'_>, hosts: &[HostView]) -> String {
    let head = [
        "host",
        "state",
        "version",
        "workflow",
        "comfy",
        "current_job",
        "jobs_done",
        "run_mean",
        "run_p90",
        "busy",
        "seen",
    ]
    .map(|k| c.t(k));
    let rows: Vec<String> = hosts.iter().map(|h| host_row(c, h)).collect();
    html::table(&head, &rows, c.t("no_hosts"))
}
