//! Telegram Stars (currency `XTR`, no provider token): the invoice whose payload is our
//! payment id, the `pre_checkout_query` check, the credit on `successful_payment` (once per
//! `telegram_payment_charge_id`) and the admin refund through `refundStarPayment`.

use async_trait::async_trait;

use super::model::{
    Currency, Customer, Deps, Invoice, Labels, Method, Payment, PaymentMethod, PaymentStatus,
    Started,
};
use super::{ops, store};
use crate::contract::{Language, UserId};
use crate::error::{CoreError, CoreResult};
use botapi::BotApiError;

/// Telegram Stars.
pub struct Stars;

#[async_trait(?Send)]
impl PaymentMethod for Stars {
    fn id(&self) -> Method {
        Method::Stars
    }
    fn currency(&self) -> Currency {
        Currency::Xtr
    }
    fn labels(&self) -> Labels {
        Labels {
            button: "btn_method_stars",
            packages: "topup_packages_stars",
        }
    }
    async fn start(
        &self,
        deps: &Deps<'_>,
        p: &Payment,
        _customer: &Customer,
    ) -> CoreResult<Started> {
        let lang = super::telegram::payer_language(deps, p.user_id).await;
        Ok(Started {
            invoice: Some(invoice(p, lang)),
            ..Started::default()
        })
    }
    /// The invoice is `canceled`: a pre-checkout is refused from then on, and a charge that
    /// still arrives is refunded at once.
    async fn settle_stale(&self, deps: &Deps<'_>, p: &Payment) -> CoreResult<bool> {
        ops::cancel_stale(deps, p, "the invoice expired unpaid").await
    }
    fn refundable(&self, p: &Payment) -> bool {
        matches!(
            p.status,
            PaymentStatus::Succeeded | PaymentStatus::Refunding
        )
    }
    async fn refund(
        &self,
        deps: &Deps<'_>,
        p: Payment,
        operator: Option<&str>,
    ) -> CoreResult<Payment> {
        refund(deps, p, operator).await
    }
}

/// The invoice for a Stars payment, titled and described in the payer's `lang` (Telegram
/// shows the invoice as sent).
pub fn invoice(p: &Payment, lang: Language) -> Invoice {
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
    /// Another pre-checkout of this invoice was accepted already.
    AlreadyCheckingOut,
}

impl Refusal {
    /// The reason shown to the user.
    pub fn message(self, lang: Language) -> String {
        let key = match self {
            Refusal::Unknown => "precheckout_unknown",
            Refusal::NotPending => "precheckout_not_pending",
            Refusal::Mismatch => "precheckout_mismatch",
            Refusal::AlreadyCheckingOut => "precheckout_already",
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

/// Checks a `pre_checkout_query`: the payment exists, is pending, matches, and no other
/// pre-checkout of it was accepted (one per invoice; the same `query_id` again is accepted
/// again).
///
/// # Errors
/// Storage errors (answer `ok: false` with a generic reason then).
pub async fn pre_checkout(
    deps: &Deps<'_>,
    q: &StarsPayment<'_>,
    query_id: &str,
) -> CoreResult<Result<Payment, Refusal>> {
    let verdict = match matching(deps, q).await? {
        Ok(p) if p.status != PaymentStatus::Pending => Err(Refusal::NotPending),
        Ok(p) => {
            let now = deps.clock.now_ms();
            if store::claim_checkout(deps.sql, &p.id, query_id, now).await? {
                Ok(p)
            } else {
                Err(Refusal::AlreadyCheckingOut)
            }
        }
        other => other,
    };
    if let Err(r) = &verdict {
        tracing::warn!(payment_id = %q.payload, user_id = q.user_id, refusal = ?r, "pre-checkout refused");
    }
    Ok(verdict)
}

/// Credits a `successful_payment` once (keyed by the payment and `telegram_payment_charge_id`).
/// True when this call credited it. A charge that cannot be credited (no matching payment,
/// a second charge of one invoice, a payment no longer pending) is refunded at once
/// (`refundStarPayment`), recorded, and the payer told; false then.
///
/// # Errors
/// [`CoreError::Upstream`] when that refund fails (Telegram redelivers nothing, so the
/// caller logs it and reconciliation reports the charge); storage errors.
pub async fn successful_payment(
    deps: &Deps<'_>,
    q: &StarsPayment<'_>,
    charge_id: &str,
) -> CoreResult<bool> {
    let p = match matching(deps, q).await? {
        Ok(p) => p,
        Err(r) => {
            tracing::error!(payment_id = %q.payload, user_id = q.user_id, charge = %charge_id, refusal = ?r, "successful_payment does not match a payment: refunding");
            return refund_uncredited(deps, q, charge_id).await.map(|_| false);
        }
    };
    if p.charge_id.as_deref() == Some(charge_id) {
        tracing::info!(payment_id = %p.id, user_id = p.user_id, "successful_payment already credited");
        return Ok(false);
    }
    if p.charge_id.is_some() || !p.status.is_open() {
        tracing::error!(payment_id = %p.id, user_id = p.user_id, charge = %charge_id, status = %p.status, "a charge for a payment that is not open: refunding");
        return refund_uncredited(deps, q, charge_id).await.map(|_| false);
    }
    ops::credit(deps, &p, "succeeded", Some(charge_id)).await
}

/// Refunds a Stars charge that was not credited, once per charge, and tells the payer.
async fn refund_uncredited(
    deps: &Deps<'_>,
    q: &StarsPayment<'_>,
    charge_id: &str,
) -> CoreResult<()> {
    let refund_id = format!("stars:{charge_id}");
    if store::refund_recorded(deps.sql, &refund_id).await? {
        return Ok(());
    }
    ask_refund(deps, q.user_id, charge_id).await?;
    let now = deps.clock.now_ms();
    let recorded = store::record_uncredited_refund(
        deps.sql,
        &refund_id,
        q.payload,
        UserId(q.user_id),
        q.total_amount,
        now,
    )
    .await?;
    tracing::warn!(payment_id = %q.payload, user_id = q.user_id, charge = %charge_id, recorded, "uncredited Stars charge refunded");
    if recorded {
        super::notify::stars_refunded(deps, UserId(q.user_id), q.payload, q.total_amount).await;
    }
    Ok(())
}

/// `refundStarPayment`; Telegram's `CHARGE_ALREADY_REFUNDED` counts as done (an earlier
/// attempt refunded it).
async fn ask_refund(deps: &Deps<'_>, user_id: i64, charge: &str) -> CoreResult<()> {
    match super::telegram::bot(deps)?
        .refund_star_payment(user_id, charge)
        .await
    {
        Ok(_) => Ok(()),
        Err(BotApiError::BadRequest { description })
            if description.contains("CHARGE_ALREADY_REFUNDED") =>
        {
            tracing::info!(user_id, charge = %charge, "charge already refunded at Telegram");
            Ok(())
        }
        Err(e) => Err(super::telegram::from_bot_api("refundStarPayment", &e)),
    }
}

/// Admin refund of a credited Stars payment ([`PaymentMethod::refund`] of [`Stars`]), safe
/// to retry: the payment is marked `refunding`, Telegram is asked (`refundStarPayment`;
/// `CHARGE_ALREADY_REFUNDED` counts as done), then the credits are taken back (at most the
/// balance; the rest recorded as shortfall). A failure after Telegram refunded leaves it
/// `refunding`, and calling this again completes it; a permanent refusal by Telegram puts it
/// back to `succeeded`.
///
/// A `refunded` payment answers itself.
///
/// # Errors
/// [`CoreError::Conflict`] `not_refundable` for a payment that is not a credited Stars
/// payment; [`CoreError::Upstream`] when Telegram refuses or is unreachable; storage errors.
pub async fn refund(deps: &Deps<'_>, p: Payment, operator: Option<&str>) -> CoreResult<Payment> {
    let charge = match p.charge_id.clone() {
        Some(c) if p.method == Method::Stars && Stars.refundable(&p) => c,
        _ if p.status == PaymentStatus::Refunded => return Ok(p),
        _ => return Err(ops::not_refundable()),
    };
    if !store::mark_refunding(deps.sql, &p.id, deps.clock.now_ms()).await? {
        return store::get(deps.sql, &p.id).await;
    }
    refund_at_telegram(deps, &p, &charge).await?;
    ops::take_back(deps, &p, &format!("stars:{charge}"), p.amount, operator).await?;
    store::get(deps.sql, &p.id).await
}

/// Asks Telegram to refund a `refunding` payment's charge. A transient failure leaves it
/// `refunding` (Telegram may have refunded: the retry finds out); a permanent refusal puts
/// it back to `succeeded`.
async fn refund_at_telegram(deps: &Deps<'_>, p: &Payment, charge: &str) -> CoreResult<()> {
    let Err(e) = ask_refund(deps, p.user_id, charge).await else {
        return Ok(());
    };
    let transient = matches!(
        e,
        CoreError::Upstream {
            transient: true,
            ..
        }
    );
    if !transient {
        store::unmark_refunding(deps.sql, &p.id, &e.to_string(), deps.clock.now_ms()).await?;
    }
    tracing::warn!(payment_id = %p.id, user_id = p.user_id, error = %e, transient, "Stars refund failed");
    Err(e)
}
