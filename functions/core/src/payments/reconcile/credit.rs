//! "Credit now" for a `missing_ours` item: the payment is credited through the one credit
//! path, so calling it twice (or twice at once) credits once.
//!
//! * YooKassa: the payment is fetched again and verified exactly as a notification would be
//!   (succeeded, paid, amount, currency, metadata), then [`ops::credit`].
//! * Stars: the recorded incoming transaction is replayed as Telegram's
//!   `successful_payment` ([`stars::successful_payment`], keyed by the charge id).

use super::model::{Credited, Item, ItemKind, Provider};
use super::store;
use crate::error::{CoreError, CoreResult};
use crate::payments::model::{Deps, Payment, PaymentStatus, Started};
use crate::payments::stars::{self, StarsPayment};
use crate::payments::{ops, store as payments, webhook, yookassa};

fn not_creditable(message: impl Into<String>) -> CoreError {
    CoreError::conflict("not_creditable", message)
}

/// Credits item `n` of report `id` once; answers the item, the payment and whether this call
/// credited it.
///
/// # Errors
/// [`CoreError::NotFound`] (report, item); [`CoreError::Conflict`] (`not_creditable`) for an
/// item that is not a `missing_ours` naming a payment of ours, or that YooKassa no longer
/// confirms; [`CoreError::Upstream`]; storage errors.
pub async fn credit(deps: &Deps<'_>, id: &str, n: i64) -> CoreResult<Credited> {
    let item = store::item(deps.sql, id, n).await?;
    if item.kind != ItemKind::MissingOurs {
        return Err(not_creditable(format!(
            "item {n} is {}, not missing_ours",
            item.kind
        )));
    }
    let Some(payment_id) = item.payment_id.clone() else {
        return Err(not_creditable(
            "no payment of ours to credit: the provider's payment names none",
        ));
    };
    let row = payments::get(deps.sql, &payment_id).await?;
    let credited = match row.status {
        PaymentStatus::Succeeded | PaymentStatus::Refunding | PaymentStatus::Refunded => false,
        PaymentStatus::Canceled => return Err(not_creditable("the payment is canceled here")),
        _ => match item.provider {
            Provider::Yookassa => credit_yookassa(deps, &item, &row).await?,
            Provider::Stars => credit_stars(deps, &item, &row).await?,
        },
    };
    store::resolve(deps.sql, id, n, deps.clock.now_ms()).await?;
    tracing::info!(payment_id = %payment_id, reconciliation_id = %id, item = n, credited, "reconciliation item credited");
    Ok(Credited {
        item: store::item(deps.sql, id, n).await?,
        payment: payments::get(deps.sql, &payment_id).await?,
        credited,
    })
}

async fn credit_yookassa(deps: &Deps<'_>, item: &Item, row: &Payment) -> CoreResult<bool> {
    let provider_id = item.provider_payment_id.as_deref().unwrap_or("");
    let fetched = yookassa::get_payment(deps, provider_id).await?;
    let mut row = row.clone();
    if row.provider_payment_id.is_none() {
        // The creation's answer was lost: record the id YooKassa gave the payment.
        let started = Started {
            provider_payment_id: Some(fetched.id.clone()),
            ..Started::default()
        };
        payments::record_started(deps.sql, &row.id, &started, deps.clock.now_ms()).await?;
        row = payments::get(deps.sql, &row.id).await?;
    }
    if let Err(reason) = webhook::verify(&row, &fetched) {
        tracing::warn!(payment_id = %row.id, provider_id = %provider_id, %reason, "not credited: YooKassa does not confirm the payment");
        return Err(not_creditable(format!(
            "YooKassa does not confirm it: {reason}"
        )));
    }
    ops::credit(deps, &row, &fetched.status, None).await
}

async fn credit_stars(deps: &Deps<'_>, item: &Item, row: &Payment) -> CoreResult<bool> {
    let (Some(charge), Some(user_id), Some(amount)) = (
        item.provider_payment_id.as_deref(),
        item.user_id,
        item.their_amount,
    ) else {
        return Err(not_creditable("the item lacks the Stars charge"));
    };
    let paid = StarsPayment {
        user_id,
        currency: "XTR",
        total_amount: amount,
        payload: &row.id,
    };
    stars::successful_payment(deps, &paid, charge).await
}
