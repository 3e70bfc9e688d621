//! Every payment state has an exit: a payment still `pending` `payment_expiry_minutes` after
//! it was created is settled by the sweep (`POST /internal/jobs/sweep`, which the gpu-hosts
//! call every minute, runs it when the component has payments configured) by its method
//! ([`PaymentMethod::settle_stale`](super::model::PaymentMethod::settle_stale)):
//!
//! * Stars: the invoice is `canceled` (a pre-checkout is refused from then on; a charge that
//!   still arrives is refunded at once).
//! * YooKassa: the payment is re-fetched. `succeeded` is settled as a notification would be
//!   (credited, or recorded `refunded` when refunded there); `canceled` is canceled here and
//!   the payer told; still `pending` stays (YooKassa cancels it itself, and a later sweep
//!   sees that). A payment YooKassa does not know, or that never reached YooKassa, is
//!   `canceled`.

use serde::Serialize;

use super::methods::registered;
use super::model::{Deps, Payment};
use super::store;
use crate::error::CoreResult;

/// Stale payments settled by one sweep at most (each may cost a YooKassa call).
pub const PER_SWEEP: i64 = 20;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settled {
    /// Stale payments looked at.
    pub checked: u64,
    /// Settled: canceled, credited or recorded refunded.
    pub settled: u64,
}

/// Settles the payments pending longer than the configured expiry. A payment that cannot
/// be settled now (YooKassa unreachable) is logged and left for the next sweep.
///
/// # Errors
/// Storage errors reading the stale payments.
pub async fn settle_stale(deps: &Deps<'_>) -> CoreResult<Settled> {
    let now = deps.clock.now_ms();
    let before = now.saturating_sub(deps.pay.expiry_minutes.saturating_mul(60_000));
    let stale = store::stale_pending(deps.sql, before, PER_SWEEP).await?;
    let mut report = Settled::default();
    for p in &stale {
        report.checked += 1;
        match settle(deps, p).await {
            Ok(true) => report.settled += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(payment_id = %p.id, user_id = p.user_id, error = %e, "stale payment not settled; next sweep")
            }
        }
    }
    Ok(report)
}

async fn settle(deps: &Deps<'_>, p: &Payment) -> CoreResult<bool> {
    registered(p.method)?.settle_stale(deps, p).await
}
