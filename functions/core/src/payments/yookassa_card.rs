//! YooKassa bank card: a redirect payment with `payment_method_data: {type: bank_card}`.

use async_trait::async_trait;

use super::model::{Currency, Customer, Deps, Payment, PaymentMethod, Started};
use super::yookassa;
use crate::error::CoreResult;

/// Bank card through YooKassa.
pub struct YookassaCard;

#[async_trait(?Send)]
impl PaymentMethod for YookassaCard {
    fn id(&self) -> super::model::Method {
        super::model::Method::YookassaCard
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
        let created = yookassa::create(deps, p, "bank_card", customer).await?;
        Ok(yookassa::started(created))
    }
}
