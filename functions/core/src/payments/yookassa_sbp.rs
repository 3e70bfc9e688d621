//! YooKassa SBP (Faster Payments System): a redirect payment with
//! `payment_method_data: {type: sbp}`.

use async_trait::async_trait;

use super::{Currency, Customer, Deps, Payment, PaymentMethod, Started, yookassa};
use crate::error::CoreResult;

/// SBP through YooKassa.
pub struct YookassaSbp;

#[async_trait(?Send)]
impl PaymentMethod for YookassaSbp {
    fn id(&self) -> super::Method {
        super::Method::YookassaSbp
    }
    fn currency(&self) -> Currency {
        Currency::Rub
    }
    async fn start(
        &self,
        deps: &Deps<'_>,
        p: &Payment,
        customer: &Customer,
    ) -> CoreResult<Started> {
        let created = yookassa::create(deps, p, "sbp", customer).await?;
        Ok(yookassa::started(created))
    }
}
