//! Starting a top-up: validate, quote, store it pending, start it at the provider through its
//! method (a retry with the same idempotency key reuses the row, and so the provider's
//! payment).

use serde::{Deserialize, Serialize};

use super::methods::method;
use super::model::{Currency, Customer, Deps, Invoice, Method, Payment, PaymentStatus};
use super::{ops, store};
use crate::error::{CoreError, CoreResult};
use crate::{ledger, users};

/// Input of [`create`] (`POST /api/payments/`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewPayment {
    /// The payer.
    #[schema(minimum = 1)]
    pub telegram_id: i64,
    /// Method id (`yookassa_card`, `yookassa_sbp`, `stars`).
    #[schema(value_type = Method)]
    pub method: String,
    /// A configured package, by its amount in whole roubles or stars.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub package: Option<i64>,
    /// A custom amount in whole roubles or stars (when no package), within the method's
    /// configured limits.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub amount: Option<i64>,
    /// Client key: the same key (for the same user) never creates a second payment.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Receipt contacts (54-FZ), used when receipts are enabled.
    #[serde(flatten)]
    pub customer: Customer,
}

/// What [`create`] produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The payment row.
    pub payment: Payment,
    /// Where the payer confirms (YooKassa).
    pub confirmation_url: Option<String>,
    /// The invoice to send (Stars).
    pub invoice: Option<Invoice>,
    /// False when an earlier request with the same key made it.
    pub created: bool,
}

fn payment_id(input: &NewPayment) -> String {
    match input.idempotency_key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => {
            let name = format!("payment:{}:{key}", input.telegram_id);
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
        }
        None => uuid::Uuid::new_v4().to_string(),
    }
}

fn draft(
    deps: &Deps<'_>,
    input: &NewPayment,
    method: Method,
    cur: Currency,
) -> CoreResult<Payment> {
    let (units, credits) = ops::quote(cur, deps.pay, input.package, input.amount)?;
    let now = deps.clock.now_ms();
    Ok(Payment {
        id: payment_id(input),
        user_id: input.telegram_id,
        method,
        amount: units * cur.minor_per_unit(),
        currency: cur,
        credits,
        bonus: ledger::calculate_bonus(credits, deps.settings.topup_bonus_percent),
        status: PaymentStatus::Pending,
        provider_payment_id: None,
        confirmation_url: None,
        failure: None,
        provider_status: None,
        charge_id: None,
        refund_id: None,
        refunded: 0,
        shortfall: 0,
        created_at: now,
        updated_at: now,
        credited_at: None,
        refunded_at: None,
        refunded_amount: 0,
        chat_id: None,
        message_id: None,
    })
}

/// Creates a payment: validates, stores it pending, starts it at the provider (YooKassa:
/// `POST /v3/payments` with `Idempotence-Key` = payment id; Stars: the invoice). A retry with
/// the same `idempotency_key` reuses the row and therefore the YooKassa payment.
///
/// # Errors
/// [`CoreError::Invalid`], [`CoreError::NotFound`] (user), [`CoreError::Conflict`] (same key,
/// different payment), [`CoreError::Upstream`] (recorded on the row), storage errors.
pub async fn create(deps: &Deps<'_>, input: &NewPayment) -> CoreResult<Created> {
    let method = method(&input.method)?;
    users::get(deps.sql, crate::contract::UserId(input.telegram_id)).await?;
    let wanted = draft(deps, input, method.id(), method.currency())?;
    let (row, created) = store::insert(deps.sql, &wanted).await?;
    if !created
        && (row.user_id, row.method, row.amount) != (wanted.user_id, wanted.method, wanted.amount)
    {
        return Err(CoreError::conflict(
            "idempotency_key_reused",
            "this idempotency_key was used for another payment",
        ));
    }
    if !created && (row.confirmation_url.is_some() || !row.status.is_open()) {
        return Ok(Created {
            confirmation_url: row.confirmation_url.clone(),
            invoice: None,
            payment: row,
            created,
        });
    }
    let started = match method.start(deps, &row, &input.customer).await {
        Ok(s) => s,
        Err(e) => return Err(record_failure(deps, &row, e).await),
    };
    store::record_started(deps.sql, &row.id, &started, deps.clock.now_ms()).await?;
    tracing::info!(payment_id = %row.id, user_id = row.user_id, method = %row.method, amount = row.amount, "payment created");
    Ok(Created {
        payment: store::get(deps.sql, &row.id).await?,
        confirmation_url: started.confirmation_url,
        invoice: started.invoice,
        created,
    })
}

async fn record_failure(deps: &Deps<'_>, row: &Payment, e: CoreError) -> CoreError {
    let final_failure = !matches!(
        e,
        CoreError::Upstream {
            transient: true,
            ..
        }
    );
    tracing::warn!(payment_id = %row.id, user_id = row.user_id, error = %e, final_failure, "payment creation failed");
    if let Err(se) = store::record_failure(
        deps.sql,
        &row.id,
        &e.to_string(),
        final_failure,
        deps.clock.now_ms(),
    )
    .await
    {
        tracing::error!(payment_id = %row.id, error = %se, "could not record the payment failure");
    }
    e
}
