//! Telegram Stars (currency `XTR`, no provider token): the invoice whose payload is our
//! payment id, the `pre_checkout_query` check, the credit on `successful_payment` (once per
//! `telegram_payment_charge_id`) and the admin refund through `refundStarPayment`.

use async_trait::async_trait;

use super::{
    Currency, Customer, Deps, Invoice, Payment, PaymentMethod, Started, ops, store, telegram,
};
use crate::error::{CoreError, CoreResult};

/// Telegram Stars.
pub struct Stars;

#[async_trait(?Send)]
impl PaymentMethod for Stars {
    fn id(&self) -> &'static str {
        "stars"
    }
    fn currency(&self) -> Currency {
        Currency::Xtr
    }
    async fn start(
        &self,
        _deps: &Deps<'_>,
        p: &Payment,
        _customer: &Customer,
    ) -> CoreResult<Started> {
        Ok(Started {
            invoice: Some(invoice(p)),
            ..Started::default()
        })
    }
}

/// The invoice for a Stars payment.
pub fn invoice(p: &Payment) -> Invoice {
    Invoice {
        title: format!("{} credits", p.credits + p.bonus),
        description: format!(
            "QwenEditBot top-up: {} credits + {} bonus",
            p.credits, p.bonus
        ),
        payload: p.id.clone(),
        currency: "XTR".into(),
        amount: p.amount,
    }
}

/// Why a pre-checkout is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such payment (bad payload).
    Unknown,
    /// Paid, canceled or refunded already.
    NotPending,
    /// Amount, currency or payer differ.
    Mismatch,
}

impl Refusal {
    /// The reason shown to the user (`ru` or `en`).
    pub fn message(self, lang: &str) -> &'static str {
        match (self, lang == "en") {
            (Refusal::Unknown, true) => "This invoice is not valid. Please open “Top up” again.",
            (Refusal::Unknown, false) => "Этот счёт недействителен. Откройте «Пополнить» ещё раз.",
            (Refusal::NotPending, true) => "This invoice has already been paid or has expired.",
            (Refusal::NotPending, false) => "Этот счёт уже оплачен или больше не действует.",
            (Refusal::Mismatch, true) => {
                "The invoice does not match the order. Please create a new one."
            }
            (Refusal::Mismatch, false) => "Счёт не совпадает с заказом. Создайте новый.",
        }
    }
}

/// What Telegram tells us about a Stars payment (pre-checkout or successful payment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsPayment<'a> {
    /// The payer.
    pub user_id: i64,
    /// Must be `XTR`.
    pub currency: &'a str,
    /// Stars.
    pub total_amount: i64,
    /// The invoice payload (our payment id).
    pub payload: &'a str,
}

async fn matching(deps: &Deps<'_>, q: &StarsPayment<'_>) -> CoreResult<Result<Payment, Refusal>> {
    let Some(p) = store::find(deps.sql, q.payload).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    if p.method != "stars"
        || p.currency != q.currency
        || p.amount != q.total_amount
        || p.user_id != q.user_id
    {
        return Ok(Err(Refusal::Mismatch));
    }
    Ok(Ok(p))
}

/// Checks a `pre_checkout_query`: the payment exists, is pending, and matches.
///
/// # Errors
/// Storage errors (answer `ok: false` with a generic reason then).
pub async fn pre_checkout(
    deps: &Deps<'_>,
    q: &StarsPayment<'_>,
) -> CoreResult<Result<Payment, Refusal>> {
    let verdict = match matching(deps, q).await? {
        Ok(p) if p.status != "pending" => Err(Refusal::NotPending),
        other => other,
    };
    if let Err(r) = &verdict {
        tracing::warn!(payment_id = %q.payload, user_id = q.user_id, refusal = ?r, "pre-checkout refused");
    }
    Ok(verdict)
}

/// Credits a `successful_payment` once (keyed by the payment and `telegram_payment_charge_id`).
/// True when this call credited it.
///
/// # Errors
/// [`CoreError::Conflict`] when the payload does not match; storage errors.
pub async fn successful_payment(
    deps: &Deps<'_>,
    q: &StarsPayment<'_>,
    charge_id: &str,
) -> CoreResult<bool> {
    let p = match matching(deps, q).await? {
        Ok(p) => p,
        Err(r) => {
            tracing::error!(payment_id = %q.payload, user_id = q.user_id, charge = %charge_id, refusal = ?r, "successful_payment does not match a payment");
            return Err(CoreError::conflict(
                "payment_mismatch",
                "successful_payment does not match our payment",
            ));
        }
    };
    if p.charge_id.as_deref().is_some_and(|c| c != charge_id) {
        tracing::error!(payment_id = %p.id, "a second charge for a Stars payment");
        return Err(CoreError::conflict(
            "payment_mismatch",
            "payment already charged under another charge id",
        ));
    }
    ops::credit(deps, &p, "succeeded", Some(charge_id)).await
}

/// Admin refund of a credited Stars payment: `refundStarPayment`, then the credits are taken
/// back (at most the balance; the rest recorded as shortfall).
///
/// # Errors
/// [`CoreError::Conflict`] for a payment that is not a credited Stars payment;
/// [`CoreError::Upstream`] when Telegram refuses; storage errors.
pub async fn refund(deps: &Deps<'_>, payment_id: &str) -> CoreResult<Payment> {
    let p = store::get(deps.sql, payment_id).await?;
    let charge = match (&p.charge_id, p.method.as_str(), p.status.as_str()) {
        (Some(c), "stars", "succeeded") => c.clone(),
        (_, _, "refunded") => return Ok(p),
        _ => {
            return Err(CoreError::conflict(
                "not_refundable",
                "only a credited Stars payment can be refunded here",
            ));
        }
    };
    telegram::refund_star_payment(deps, p.user_id, &charge).await?;
    ops::take_back(deps, &p, &format!("stars:{charge}")).await?;
    store::get(deps.sql, payment_id).await
}
