//! What a YooKassa notification does (the HTTP side, `POST /webhooks/yookassa`, lives in
//! `qwen-http`).
//!
//! YooKassa signs nothing, so a notification is only a hint: the payment (or refund) is
//! always re-fetched from YooKassa; only that answer is trusted.

use serde::Deserialize;
use serde_json::Value;

use super::model::{Deps, Payment};
use super::yookassa::{self, YkPayment};
use super::{ops, store};
use crate::error::CoreResult;

/// A notification body: `{"type":"notification","event":"payment.succeeded","object":{…}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    /// `notification`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `payment.succeeded`, `payment.canceled`, `refund.succeeded`, …
    pub event: String,
    /// The payment or refund object.
    pub object: Value,
}

/// Applies a notification; returns what happened (`credited`, `duplicate`, `canceled`,
/// `refunded`, `unknown`, `mismatch`, `ignored`).
///
/// # Errors
/// Transient failures (YooKassa or storage unreachable) and non-transient upstream errors.
pub async fn process(deps: &Deps<'_>, note: &Notification) -> CoreResult<&'static str> {
    let text = |k: &str| {
        note.object
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if note.kind != "notification" && !note.kind.is_empty() {
        return Ok("ignored");
    }
    match note.event.as_str() {
        "payment.succeeded" => payment_succeeded(deps, &text("id")).await,
        "payment.canceled" => payment_canceled(deps, &text("id")).await,
        "refund.succeeded" => refund_succeeded(deps, &text("id")).await,
        other => {
            tracing::info!(event = %other, "yookassa event ignored");
            Ok("ignored")
        }
    }
}

async fn our_row(deps: &Deps<'_>, provider_id: &str) -> CoreResult<Option<Payment>> {
    let row = store::by_provider_id(deps.sql, provider_id).await?;
    if row.is_none() {
        tracing::warn!(provider_id = %provider_id, "notification for an unknown payment");
    }
    Ok(row)
}

pub(crate) async fn payment_succeeded(
    deps: &Deps<'_>,
    provider_id: &str,
) -> CoreResult<&'static str> {
    let Some(row) = our_row(deps, provider_id).await? else {
        return Ok("unknown");
    };
    let fetched = yookassa::get_payment(deps, provider_id).await?;
    if let Err(reason) = verify_identity(&row, &fetched) {
        tracing::warn!(payment_id = %row.id, user_id = row.user_id, provider_id = %provider_id, %reason, "not credited: re-fetched payment does not confirm the notification");
        return Ok("mismatch");
    }
    if !row.status.is_open() {
        // Already closed: the guarded update would change nothing; skip the write lock.
        tracing::info!(payment_id = %row.id, status = %row.status, "duplicate notification");
        return Ok("duplicate");
    }
    let refunded = fetched.refunded_minor();
    if fetched.status == "succeeded" && refunded > 0 {
        return refunded_before_credit(deps, &row, None, refunded).await;
    }
    if let Err(reason) = verify(&row, &fetched) {
        tracing::warn!(payment_id = %row.id, user_id = row.user_id, provider_id = %provider_id, %reason, "not credited: re-fetched payment does not confirm the notification");
        return Ok("mismatch");
    }
    let credited = ops::credit(deps, &row, &fetched.status, None).await?;
    Ok(if credited { "credited" } else { "duplicate" })
}

/// A payment refunded (in part or whole) at YooKassa before we credited it: recorded as
/// `refunded`, never credited.
async fn refunded_before_credit(
    deps: &Deps<'_>,
    row: &Payment,
    refund_id: Option<&str>,
    refunded: i64,
) -> CoreResult<&'static str> {
    let now = deps.clock.now_ms();
    let done = store::mark_refunded_uncredited(deps.sql, &row.id, refund_id, refunded, now).await?;
    tracing::warn!(payment_id = %row.id, user_id = row.user_id, refunded, changed = done.is_some(), "refunded at YooKassa before it was credited: recorded as refunded, not credited");
    Ok(if done.is_some() {
        "refunded"
    } else {
        "duplicate"
    })
}

/// Checks a re-fetched payment against our row: same id, amount, currency and metadata.
///
/// # Errors
/// What does not match, for the log.
pub fn verify_identity(row: &Payment, f: &YkPayment) -> Result<(), String> {
    let meta = |k: &str| {
        f.metadata
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if row.provider_payment_id.as_deref() != Some(f.id.as_str()) {
        return Err(format!("provider id {}", f.id));
    }
    if yookassa::parse_value(&f.amount.value) != Some(row.amount)
        || f.amount.currency != row.currency.as_str()
    {
        return Err(format!(
            "amount {} {} but ours is {} {}",
            f.amount.value,
            f.amount.currency,
            yookassa::amount_value(row.amount),
            row.currency
        ));
    }
    if meta("payment_id") != row.id || meta("telegram_id") != row.user_id.to_string() {
        return Err("metadata differs".into());
    }
    Ok(())
}

/// Checks a re-fetched payment before crediting it: succeeded, paid, nothing refunded, and
/// [`verify_identity`].
///
/// # Errors
/// What does not match, for the log.
pub fn verify(row: &Payment, f: &YkPayment) -> Result<(), String> {
    if f.status != "succeeded" || !f.paid {
        return Err(format!("status {} paid {}", f.status, f.paid));
    }
    if f.refunded_minor() > 0 {
        return Err(format!(
            "refunded {} at YooKassa",
            yookassa::amount_value(f.refunded_minor())
        ));
    }
    verify_identity(row, f)
}

async fn payment_canceled(deps: &Deps<'_>, provider_id: &str) -> CoreResult<&'static str> {
    let Some(row) = our_row(deps, provider_id).await? else {
        return Ok("unknown");
    };
    let fetched = yookassa::get_payment(deps, provider_id).await?;
    if fetched.status != "canceled" {
        tracing::warn!(payment_id = %row.id, status = %fetched.status, "cancel notification not confirmed by YooKassa");
        return Ok("mismatch");
    }
    settle_canceled(deps, &row, &fetched).await?;
    Ok("canceled")
}

/// Marks our payment canceled as YooKassa confirmed it, and tells the payer why (once: only
/// the call that changed it).
///
/// # Errors
/// Storage errors.
pub async fn settle_canceled(
    deps: &Deps<'_>,
    row: &Payment,
    fetched: &YkPayment,
) -> CoreResult<bool> {
    let reason = fetched
        .cancellation_details
        .as_ref()
        .map(|d| d.reason.clone())
        .unwrap_or_default();
    let note = format!("canceled by YooKassa ({reason})");
    let changed = store::mark_canceled(deps.sql, &row.id, &note, deps.clock.now_ms()).await?;
    tracing::info!(payment_id = %row.id, user_id = row.user_id, changed, reason = %reason, "payment canceled");
    if changed {
        super::notify::canceled(deps, row, &reason).await;
    }
    Ok(changed)
}

async fn refund_succeeded(deps: &Deps<'_>, refund_id: &str) -> CoreResult<&'static str> {
    let refund = yookassa::get_refund(deps, refund_id).await?;
    if refund.status != "succeeded" {
        tracing::warn!(refund_id = %refund_id, status = %refund.status, "refund notification not confirmed by YooKassa");
        return Ok("mismatch");
    }
    let Some(row) = our_row(deps, &refund.payment_id).await? else {
        return Ok("unknown");
    };
    let Some(amount) = yookassa::parse_value(&refund.amount.value) else {
        tracing::warn!(payment_id = %row.id, refund_id = %refund.id, "refund amount unreadable");
        return Ok("mismatch");
    };
    if row.status.is_open() {
        return refunded_before_credit(deps, &row, Some(&refund.id), amount).await;
    }
    let done = ops::take_back(deps, &row, &refund.id, amount, None).await?;
    Ok(if done { "refunded" } else { "duplicate" })
}
