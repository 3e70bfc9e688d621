//! YooKassa redirect payments (bank card, SBP): one [`PaymentMethod`] type, registered once
//! per YooKassa payment method type (`payment_method_data: {type: …}`). Refunds are made in
//! YooKassa's dashboard and arrive as `refund.succeeded` notifications ([`super::webhook`]).

use async_trait::async_trait;

use super::model::{Currency, Customer, Deps, Labels, Method, Payment, PaymentMethod, Started};
use super::{ops, webhook, yookassa};
use crate::error::CoreResult;

/// A YooKassa payment method type as a payment method.
pub struct YooKassa {
    /// Our id of it.
    pub id: Method,
    /// YooKassa's `payment_method_data.type` (`bank_card`, `sbp`, …).
    pub payment_method_type: &'static str,
    /// How the bot labels it.
    pub labels: Labels,
}

#[async_trait(?Send)]
impl PaymentMethod for YooKassa {
    fn id(&self) -> Method {
        self.id
    }
    fn currency(&self) -> Currency {
        Currency::Rub
    }
    fn labels(&self) -> Labels {
        self.labels
    }
    async fn start(
        &self,
        deps: &Deps<'_>,
        p: &Payment,
        customer: &Customer,
    ) -> CoreResult<Started> {
        let created = yookassa::create(deps, p, self.payment_method_type, customer).await?;
        Ok(yookassa::started(created))
    }
    async fn settle_stale(&self, deps: &Deps<'_>, p: &Payment) -> CoreResult<bool> {
        settle_stale(deps, p).await
    }
    fn refundable(&self, _: &Payment) -> bool {
        false
    }
    async fn refund(&self, _: &Deps<'_>, _: Payment, _: Option<&str>) -> CoreResult<Payment> {
        Err(ops::not_refundable())
    }
}

/// Re-fetches a stale payment: `succeeded` is settled as a notification would be (credited,
/// or recorded `refunded` when refunded there); `canceled` is canceled here and the payer
/// told; still `pending` stays (YooKassa cancels it itself, and a later sweep sees that). A
/// payment YooKassa does not know, or that never reached YooKassa, is `canceled`.
async fn settle_stale(deps: &Deps<'_>, p: &Payment) -> CoreResult<bool> {
    let Some(provider_id) = p.provider_payment_id.as_deref() else {
        return ops::cancel_stale(deps, p, "never started at YooKassa").await;
    };
    let Some(fetched) = yookassa::find_payment(deps, provider_id).await? else {
        return ops::cancel_stale(deps, p, "YooKassa has no such payment").await;
    };
    let outcome = match fetched.status.as_str() {
        "succeeded" => webhook::payment_succeeded(deps, provider_id).await?,
        "canceled" => return webhook::settle_canceled(deps, p, &fetched).await,
        _ => "pending",
    };
    tracing::info!(payment_id = %p.id, user_id = p.user_id, outcome, "stale YooKassa payment re-fetched");
    Ok(matches!(outcome, "credited" | "refunded"))
}
