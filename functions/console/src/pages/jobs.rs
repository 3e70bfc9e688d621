//! Jobs: every user's, filtered by status and creation time, each with its timeline and,
//! for a failed one, the reason; a queued job can be cancelled (and is refunded).

use qwen_core::contract::{JobId, JobStatus};
use qwen_core::jobs::{self, Job, JobFilter};
use qwen_core::ports::HttpResponse;
use qwen_core::{CoreError, Page};

use crate::call::Call;
use crate::html::{self, esc, when, when_opt};

const LIMIT: i64 = 50;

/// The rows of a jobs table; `back` is where a cancel returns to.
pub(crate) fn rows(c: &Call<'_>, jobs: &[Job], back: &str) -> Vec<String> {
    jobs.iter().map(|j| row(c, j, back)).collect()
}

fn row(c: &Call<'_>, j: &Job, back: &str) -> String {
    let what = j
        .preset_id
        .clone()
        .unwrap_or_else(|| j.prompt.chars().take(60).collect());
    let failure = match (&j.failure_reason, &j.failure_message) {
        (Some(r), m) => format!(
            "{}{}",
            r.as_str(),
            m.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
        ),
        (None, _) => String::new(),
    };
    let cancel = match j.status {
        JobStatus::Queued => format!(
            "<form method=\"post\" action=\"/console/jobs/{}/cancel\">{}<button type=\"submit\" class=\"danger\">{}</button></form>",
            html::url(j.id.as_str()),
            c.hidden(back),
            c.t("cancel")
        ),
        _ => String::new(),
    };
    format!(
        "<tr class=\"job {status}\" data-job=\"{id}\"><td><code>{id}</code></td><td><a href=\"/console/users/{u}\">{u}</a></td>\
         <td class=\"status\">{status}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"failure\">{}</td><td>{cancel}</td></tr>",
        esc(&what),
        j.cost,
        when(j.created_at),
        when_opt(j.started_at),
        when_opt(j.finished_at),
        esc(&failure),
        id = esc(j.id.as_str()),
        u = j.user_id.0,
        status = j.status.as_str(),
    )
}

/// The header of a jobs table.
pub(crate) fn head(c: &Call<'_>) -> Vec<&'static str> {
    [
        "jobs", "user", "status", "what", "cost", "created", "started", "finished", "failure", "",
    ]
    .iter()
    .map(|k| if k.is_empty() { "" } else { c.t(k) })
    .collect()
}

fn filter(c: &Call<'_>) -> JobFilter {
    JobFilter {
        status: c.query("status").and_then(|s| s.parse().ok()),
        from: c.query("from").and_then(|v| html::parse_local(&v)),
        to: c.query("to").and_then(|v| html::parse_local(&v)),
    }
}

/// The filter form of a list page: a status `<select>` of `statuses` and a time window.
pub(crate) fn filter_form(c: &Call<'_>, action: &str, statuses: &[&str]) -> String {
    let current = c.query("status").unwrap_or_default();
    let options: String = statuses
        .iter()
        .map(|s| {
            let sel = if *s == current { " selected" } else { "" };
            format!("<option value=\"{s}\"{sel}>{s}</option>")
        })
        .collect();
    let value = |name| esc(&c.query(name).unwrap_or_default());
    format!(
        "<form method=\"get\" action=\"{action}\" class=\"filter\"><label>{} <select name=\"status\"><option value=\"\">{}</option>{options}</select></label>\
         <label>{} <input type=\"datetime-local\" name=\"from\" value=\"{}\"></label><label>{} <input type=\"datetime-local\" name=\"to\" value=\"{}\"></label>\
         <button type=\"submit\">{}</button> <small>UTC</small></form>",
        c.t("status"),
        c.t("any"),
        c.t("from"),
        value("from"),
        c.t("to"),
        value("to"),
        c.t("filter")
    )
}

/// `GET /console/jobs`.
pub(crate) async fn list(c: &Call<'_>) -> HttpResponse {
    let page = Page::new(LIMIT, c.offset());
    let (items, total) = match jobs::admin_list(c.sql(), &filter(c), page).await {
        Ok(found) => found,
        Err(e) => return c.failed(&e),
    };
    let statuses: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
    let body = format!(
        "{}{}{}",
        filter_form(c, "/console/jobs", &statuses),
        html::table(&head(c), &rows(c, &items, "/console/jobs"), c.t("nothing")),
        c.pager(total, LIMIT)
    );
    c.page(200, c.t("nav_jobs"), &body)
}

/// `POST /console/jobs/{id}/cancel`: [`jobs::cancel`] as an operator.
pub(crate) async fn cancel(c: &Call<'_>, id: &str) -> HttpResponse {
    let by = jobs::Canceller::Operator(&c.session.operator);
    let ctx = c.env.ctx;
    match jobs::cancel(
        ctx.sql,
        ctx.queue,
        ctx.settings,
        &JobId::from(id),
        by,
        c.now(),
    )
    .await
    {
        Ok(job) => {
            tracing::info!(operator = %c.session.operator, job_id = %id, user_id = job.user_id.0, "console: job cancelled");
            c.done("/console/jobs", "cancelled")
        }
        Err(e) => c.failed(&e),
    }
}

/// A 422 for a bad path id.
pub(crate) fn bad_id(what: &str) -> CoreError {
    CoreError::invalid("invalid_id", format!("{what} is not a valid id"))
}
