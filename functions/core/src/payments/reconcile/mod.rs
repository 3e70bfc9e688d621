//! Reconciliation: what YooKassa and Telegram say was paid in a UTC range, compared with our
//! `payments` table (whose status changes write the ledger), stored as a report.
//!
//! * [`run`] lists YooKassa's payments and succeeded refunds created in the range (cursor
//!   paging) and the bot's Star transactions (offset paging until past the range), compares
//!   them with our payments ([`compare`]) and stores the report with every item
//!   ([`store`]). Nothing is stored when a provider fails: the caller answers 502/503.
//! * The same range answers the stored report (the latest run) without calling the
//!   providers; `rerun` builds a new run of the range, keeping the older ones.
//! * [`credit`] credits a `missing_ours` item through the one credit path
//!   ([`super::ops::credit`], or the Stars `successful_payment` logic): the guarded status
//!   change credits once however often, and however concurrently, it is called.
//!
//! Money units as on payments: `amount`s in kopecks (RUB) or stars (XTR).

pub mod compare;
pub mod credit;
pub mod fetch;
pub mod model;
pub mod store;
pub mod time;

use super::model::Deps;
use crate::error::CoreResult;

pub use model::*;

/// What [`run`] answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The report.
    pub report: Report,
    /// False when the range's stored report was answered.
    pub created: bool,
}

/// Reconciles `range`: answers its stored report unless `rerun`, else fetches both
/// providers, compares and stores a new report.
///
/// # Errors
/// [`CoreError::Upstream`] when a provider fails (nothing stored); storage errors.
pub async fn run(deps: &Deps<'_>, range: Range, rerun: bool) -> CoreResult<Outcome> {
    if !rerun && let Some(report) = store::latest(deps.sql, range).await? {
        return Ok(Outcome {
            report,
            created: false,
        });
    }
    let theirs = fetch::fetch(deps, range).await?;
    let items = compare::compare(deps, range, &theirs).await?;
    let (report, created) =
        store::save(deps.sql, range, &items, rerun, deps.clock.now_ms()).await?;
    tracing::info!(reconciliation_id = %report.id, from = range.from, to = range.to, run = report.run, created, items = report.items.len(), "reconciliation stored");
    Ok(Outcome { report, created })
}

pub use credit::credit;

/// Deletes the reports made before `before` (Unix ms) with their items; returns how many
/// reports. A range whose report is gone is compared afresh when asked again.
///
/// # Errors
/// Storage.
pub async fn prune(sql: &dyn crate::ports::Sql, before: i64) -> CoreResult<u64> {
    sql.execute(
        "DELETE FROM reconciliation_items WHERE reconciliation_id IN \
         (SELECT id FROM reconciliations WHERE created_at < ?1)",
        &[before.into()],
    )
    .await?;
    let gone = sql
        .execute(
            "DELETE FROM reconciliations WHERE created_at < ?1 RETURNING id",
            &[before.into()],
        )
        .await?;
    if !gone.is_empty() {
        tracing::info!(
            reports = gone.len(),
            "deleted reconciliation reports past their retention"
        );
    }
    Ok(gone.len() as u64)
}
