//! The reconciliation routes (`/api/reconciliations…`), called from [`crate::rest`]:
//!
//! * `POST /api/reconciliations` with `{"day":"YYYY-MM-DD"}` (UTC) or `{"from","to"}` (Unix
//!   ms, `from < to`, at most 31 days): 201 and the new report, or 200 and the range's stored
//!   report; `?rerun=true` makes a new run of the range (201).
//! * `GET /api/reconciliations` (a page, newest first), `GET /api/reconciliations/{id}`.
//! * `POST /api/reconciliations/{id}/items/{n}/credit`: "credit now" (200, idempotent).

use serde::Deserialize;

use crate::bodies::ReportPage;
use crate::ctx::{Answer, Ctx, Providers, cap, deps, page};
use crate::request::{self, Request};
use crate::routes::ReconcileOp;
use qwen_core::error::CoreError;
use qwen_core::payments::reconcile::{self as rec, Range};
use qwen_core::ports::HttpResponse;

/// The body of `POST /api/reconciliations`: `day`, or `from` and `to`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReconciliation {
    /// A UTC day, `YYYY-MM-DD`.
    #[serde(default)]
    pub day: Option<String>,
    /// Range start, Unix ms, inclusive.
    #[serde(default)]
    pub from: Option<i64>,
    /// Range end, Unix ms, exclusive.
    #[serde(default)]
    pub to: Option<i64>,
}

impl NewReconciliation {
    /// The validated range.
    ///
    /// # Errors
    /// [`CoreError::Invalid`]: neither or both forms, a bad day, a bad range.
    pub fn range(&self) -> Result<Range, CoreError> {
        match (&self.day, self.from, self.to) {
            (Some(day), None, None) => Range::day(day),
            (None, Some(from), Some(to)) => Range::new(from, to),
            _ => Err(CoreError::invalid(
                "invalid_range",
                "give either day, or from and to",
            )),
        }
    }
}

/// Answers one reconciliation route (`caps` are the path captures).
pub async fn dispatch(
    ctx: &Ctx<'_>,
    prov: Option<&Providers<'_>>,
    req: &Request,
    op: ReconcileOp,
    caps: &[&str],
) -> Answer {
    match op {
        ReconcileOp::Run => run(ctx, prov, req).await,
        ReconcileOp::List => list(ctx, req).await,
        ReconcileOp::Get => Ok(request::json(
            200,
            &rec::store::get(ctx.sql, cap(caps, 0)).await?,
        )),
        ReconcileOp::Credit => credit(ctx, prov, cap(caps, 0), cap(caps, 1)).await,
    }
}

fn rerun(req: &Request) -> Result<bool, HttpResponse> {
    match req.query_param("rerun").as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(request::error(
            422,
            "invalid_rerun",
            "rerun is true or false",
        )),
    }
}

async fn run(ctx: &Ctx<'_>, prov: Option<&Providers<'_>>, req: &Request) -> Answer {
    let rerun = rerun(req)?;
    let body: NewReconciliation = req.json()?;
    let range = body.range()?;
    let deps = deps(ctx, prov)?;
    let outcome = rec::run(&deps, range, rerun).await?;
    Ok(request::json(
        if outcome.created { 201 } else { 200 },
        &outcome.report,
    ))
}

async fn list(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let p = page(req)?;
    let (items, total) = rec::store::list(ctx.sql, p).await?;
    Ok(request::json(200, &ReportPage::new(items, total, p)))
}

async fn credit(ctx: &Ctx<'_>, prov: Option<&Providers<'_>>, id: &str, raw_n: &str) -> Answer {
    let n = request::int_text(raw_n)
        .filter(|n| *n >= 0)
        .ok_or_else(|| request::error(422, "invalid_item", "n is an integer ≥ 0"))?;
    let deps = deps(ctx, prov)?;
    let done = rec::credit(&deps, id, n).await?;
    Ok(request::json(200, &done))
}
