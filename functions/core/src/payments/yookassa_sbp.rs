//! YooKassa SBP (Faster Payments System): a redirect payment with
//! `payment_method_data: {type: sbp}`.

use async_trait::async_trait;

use super::model::{Currency, Customer, Deps, Payment, PaymentMethod, Started};
use super::yookassa;
use crate::error::CoreResult;

/// SBP through YooKassa.
pub struct YookassaSbp;

#[async_trait(?Send)]
impl PaymentMethod for YookassaSbp {
    fn id(&self) -> super::model::Method {
        super::model::Method::YookassaSbp
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
