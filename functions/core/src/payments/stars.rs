//! Telegram Stars (currency `XTR`, no provider token): the invoice whose payload is our
//! payment id, the `pre_checkout_query` check, the credit on `successful_payment` (once per
//! `telegram_payment_charge_id`) and the admin refund through `refundStarPayment`.

use async_trait::async_trait;

use super::{
    Currency, Customer, Deps, Invoice, Method, Payment, PaymentMethod, PaymentStatus, Started, ops,
    store,
};
use crate::contract::Language;
use crate::error::{CoreError, CoreResult};

/// Telegram Stars.
pub struct Stars;

#[async_trait(?Send)]
impl PaymentMethod for Stars {
    fn id(&self) -> super::Method {
        super::Method::Stars
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

/// The invoice for a Stars payment. Its title and description are in English: starting a
/// payment does not know the payer's language, and Telegram shows the invoice as sent.
pub fn invoice(p: &Payment) -> Invoice {
    let lang = Language::En;
    let total = [("credits", (p.credits + p.bonus).to_string())];
    let parts = [
        ("credits", p.credits.to_string()),
        ("bonus", p.bonus.to_string()),
    ];
    Invoice {
        title: qwen_texts::tf(lang, "stars_invoice_title", &total),
        description: qwen_texts::tf(lang, "stars_invoice_description", &parts),
        payload: p.id.clone(),
        currency: Currency::Xtr.as_str().into(),
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
    /// The reason shown to the user.
    pub fn message(self, lang: Language) -> String {
        let key = match self {
            Refusal::Unknown => "precheckout_unknown",
            Refusal::NotPending => "precheckout_not_pending",
            Refusal::Mismatch => "precheckout_mismatch",
        };
        qwen_texts::t(lang, key)
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
    if p.method != Method::Stars
        || p.currency.as_str() != q.currency
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
        Ok(p) if p.status != PaymentStatus::Pending => Err(Refusal::NotPending),
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
pub async fn refund(
    deps: &Deps<'_>,
    payment_id: &str,
    operator: Option<&str>,
) -> CoreResult<Payment> {
    let p = store::get(deps.sql, payment_id).await?;
    let charge = match (&p.charge_id, p.method, p.status) {
        (Some(c), Method::Stars, PaymentStatus::Succeeded) => c.clone(),
        (_, _, PaymentStatus::Refunded) => return Ok(p),
        _ => {
            return Err(CoreError::conflict(
                "not_refundable",
                "only a credited Stars payment can be refunded here",
            ));
        }
    };
    super::telegram(deps)?
        .refund_star_payment(p.user_id, &charge)
        .await
        .map_err(|e| super::from_bot_api("refundStarPayment", &e))?;
    ops::take_back(deps, &p, &format!("stars:{charge}"), operator).await?;
    store::get(deps.sql, payment_id).await
}
