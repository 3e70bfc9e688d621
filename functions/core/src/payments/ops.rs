//! Payment operations: the price of a top-up, credit a verified payment once and tell the
//! user, take a refund back (creating one is [`super::checkout`]), cancel a stale payment.

use super::model::{Currency, Deps, Payment};
use super::store;
use crate::error::{CoreError, CoreResult};

use crate::ledger;

/// `(amount in whole units, credits)` for a package or custom amount, within the limits.
///
/// # Errors
/// [`CoreError::Invalid`] for no/both choices, an unknown package, or an amount out of range.
pub fn quote(
    cur: Currency,
    s: &super::settings::PaymentSettings,
    package: Option<i64>,
    amount: Option<i64>,
) -> CoreResult<(i64, i64)> {
    let (units, credits) = match (package, amount) {
        (Some(p), None) => cur
            .packages(s)
            .iter()
            .find(|k| k.amount == p)
            .map(|k| (k.amount, k.credits))
            .ok_or_else(|| {
                CoreError::invalid(
                    "invalid_package",
                    format!("no {} package of {p}", cur.code()),
                )
            })?,
        (None, Some(a)) => (a, a.saturating_mul(cur.credits_per_unit(s))),
        _ => {
            return Err(CoreError::invalid(
                "invalid_amount",
                "give either package or amount",
            ));
        }
    };
    let (min, max) = cur.limits(s);
    if units < min || units > max {
        return Err(CoreError::invalid(
            "amount_out_of_range",
            format!("amount must be between {min} and {max} {}", cur.code()),
        ));
    }
    Ok((units, credits))
}

/// Credits a verified payment (top-up + bonus, once) and tells the user. True when this call
/// credited it; false when it was credited (or closed) before.
///
/// # Errors
/// Storage errors (the caller answers 5xx so the provider redelivers).
pub async fn credit(
    deps: &Deps<'_>,
    p: &Payment,
    provider_status: &str,
    charge_id: Option<&str>,
) -> CoreResult<bool> {
    let now = deps.clock.now_ms();
    let Some(done) =
        store::mark_succeeded(deps.sql, &p.id, provider_status, charge_id, now).await?
    else {
        tracing::info!(payment_id = %p.id, user_id = p.user_id, "payment already credited, nothing to do");
        return Ok(false);
    };
    let balance = ledger::balance(deps.sql, crate::contract::UserId(done.user_id)).await?;
    tracing::info!(payment_id = %done.id, user_id = done.user_id, credits = done.credits, bonus = done.bonus, balance, "payment credited");
    super::notify::credited(deps, &done, balance).await;
    Ok(true)
}

pub use super::notify::topped_up_text;

/// Takes back refund `refund_id` of `amount` (smallest unit) of a credited payment: its
/// share of credits + bonus (all that is left when it completes the whole), at most the
/// balance; the rest is recorded as shortfall. True when this call did it (a refund id
/// counts once).
///
/// # Errors
/// Storage errors.
pub async fn take_back(
    deps: &Deps<'_>,
    p: &Payment,
    refund_id: &str,
    amount: i64,
    operator: Option<&str>,
) -> CoreResult<bool> {
    let now = deps.clock.now_ms();
    let applied = store::apply_refund(deps.sql, &p.id, refund_id, amount, operator, now).await?;
    let Some(done) = applied else {
        tracing::info!(payment_id = %p.id, status = %p.status, refund_id, "refund ignored: already applied or payment not credited");
        return Ok(false);
    };
    if done.shortfall > 0 {
        tracing::warn!(payment_id = %done.id, user_id = done.user_id, refunded = done.refunded, shortfall = done.shortfall, "refund exceeds the balance: shortfall recorded");
    } else {
        tracing::info!(payment_id = %done.id, user_id = done.user_id, refunded = done.refunded, "refund taken back");
    }
    Ok(true)
}

/// Cancels a stale pending payment quietly (the sweep; the payer is not told): true when
/// this call canceled it.
///
/// # Errors
/// Storage errors.
pub async fn cancel_stale(deps: &Deps<'_>, p: &Payment, reason: &str) -> CoreResult<bool> {
    let changed = store::mark_canceled(deps.sql, &p.id, reason, deps.clock.now_ms()).await?;
    tracing::info!(payment_id = %p.id, user_id = p.user_id, changed, reason, "stale payment canceled");
    Ok(changed)
}

/// The answer to an operator's refund that the payment's method does not make here.
pub fn not_refundable() -> CoreError {
    CoreError::conflict(
        "not_refundable",
        "only a credited Stars payment can be refunded here",
    )
}
