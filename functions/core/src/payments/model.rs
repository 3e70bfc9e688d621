//! The payment model every payment module shares: the row, its status, currencies, methods
//! ids, what starting a payment needs and answers, and the method trait.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::settings::{Package, PaymentSettings};
use crate::error::CoreResult;
use crate::ports::{Clock, HttpClient, Sql};
use crate::settings::Settings;

/// What a payment needs from the outside world.
pub struct Deps<'a> {
    /// The database connection of this request.
    pub sql: &'a dyn Sql,
    /// Outbound HTTP (YooKassa, Bot API).
    pub http: &'a dyn HttpClient,
    /// The time.
    pub clock: &'a dyn Clock,
    /// Core configuration (bonus percent, admins).
    pub settings: &'a Settings,
    /// Payment configuration.
    pub pay: &'a PaymentSettings,
}

qwen_contract::wire_words! {
    /// A currency the app accepts.
    pub enum Currency ("currency") {
        /// Russian rouble (stored in kopecks).
        Rub = "RUB",
        /// Telegram Stars (stored in stars).
        Xtr = "XTR",
    }
}

qwen_contract::wire_words! {
    /// How a payment is made: the id of a [`PaymentMethod`] in
    /// [`METHODS`](super::methods::METHODS).
    pub enum Method ("payment method") {
        /// A bank card through YooKassa (RUB).
        YookassaCard = "yookassa_card",
        /// The Faster Payments System through YooKassa (RUB).
        YookassaSbp = "yookassa_sbp",
        /// Telegram Stars (XTR).
        Stars = "stars",
    }
}

qwen_contract::wire_words! {
    /// Where a payment is. Money moves when it becomes `succeeded` (credited) and with every
    /// refund (taken back: partial refunds keep it `succeeded`, the whole makes it `refunded`).
    pub enum PaymentStatus ("payment status") {
        /// Created, waiting for the payer or the provider.
        Pending = "pending",
        /// Paid and credited once.
        Succeeded = "succeeded",
        /// The payer or the provider cancelled it.
        Canceled = "canceled",
        /// Creating it at the provider failed; it may be retried.
        Failed = "failed",
        /// A Stars refund was asked of Telegram; it ends `refunded` (a retry completes it) or,
        /// when Telegram refuses for good, `succeeded` again.
        Refunding = "refunding",
        /// Refunded in whole: what was credited is taken back (or it was never credited).
        Refunded = "refunded",
    }
}

qwen_contract::word_schema!(Currency, "A currency the app accepts.");
qwen_contract::word_schema!(Method, "How a payment is made.");
qwen_contract::word_schema!(PaymentStatus, "Where a payment is.");

impl PaymentStatus {
    /// Whether the payment may still be paid (pending, or failed at creation).
    pub fn is_open(self) -> bool {
        matches!(self, PaymentStatus::Pending | PaymentStatus::Failed)
    }
}

impl Currency {
    /// ISO-style code: `RUB` or `XTR`.
    pub fn code(self) -> &'static str {
        self.as_str()
    }
    /// Smallest units per whole unit (100 kopecks, 1 star).
    pub fn minor_per_unit(self) -> i64 {
        match self {
            Currency::Rub => 100,
            Currency::Xtr => 1,
        }
    }
    /// Configured packages.
    pub fn packages(self, s: &PaymentSettings) -> &[Package] {
        match self {
            Currency::Rub => &s.rub_packages,
            Currency::Xtr => &s.stars_packages,
        }
    }
    /// Smallest and largest top-up in whole units.
    pub fn limits(self, s: &PaymentSettings) -> (i64, i64) {
        match self {
            Currency::Rub => (s.min_rub, s.max_rub),
            Currency::Xtr => (s.min_stars, s.max_stars),
        }
    }
    /// Credits per whole unit of a custom amount.
    pub fn credits_per_unit(self, s: &PaymentSettings) -> i64 {
        match self {
            Currency::Rub => s.credits_per_rub,
            Currency::Xtr => s.credits_per_star,
        }
    }
}

/// A payment row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    /// Our id (UUID); YooKassa's Idempotence-Key and the Stars invoice payload.
    pub id: String,
    /// Telegram id of the payer.
    pub user_id: i64,
    /// How it is paid.
    pub method: Method,
    /// Amount in the smallest unit (kopecks, stars).
    pub amount: i64,
    /// The currency of `amount`.
    pub currency: Currency,
    /// Credits paid for.
    pub credits: i64,
    /// Bonus credits.
    pub bonus: i64,
    /// Where the payment is.
    pub status: PaymentStatus,
    /// YooKassa's payment id.
    pub provider_payment_id: Option<String>,
    /// Where the payer confirms (YooKassa page).
    pub confirmation_url: Option<String>,
    /// Why creation or verification failed.
    pub failure: Option<String>,
    /// The provider's last verified status.
    pub provider_status: Option<String>,
    /// Telegram's `telegram_payment_charge_id` (Stars).
    pub charge_id: Option<String>,
    /// The last refund's id (YooKassa refund or `stars:<charge>`).
    pub refund_id: Option<String>,
    /// Credits taken back by refunds.
    pub refunded: i64,
    /// Credits a refund could not take back (the balance was short): for admins.
    pub shortfall: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Unix ms of the credit.
    pub credited_at: Option<i64>,
    /// Unix ms of the (last) refund.
    pub refunded_at: Option<i64>,
    /// What the provider refunded, in the smallest unit (several partial refunds add up).
    #[serde(default)]
    pub refunded_amount: i64,
    /// The chat of the message that offers the payment.
    #[serde(default)]
    pub chat_id: Option<i64>,
    /// The message that offers the payment ("Pay" button or Stars invoice).
    #[serde(default)]
    pub message_id: Option<i64>,
}

/// A Stars invoice for `sendInvoice` (currency `XTR`, no provider token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Invoice {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Our payment id.
    pub payload: String,
    /// `XTR`.
    pub currency: String,
    /// Stars.
    pub amount: i64,
}

/// What starting a payment at its provider produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Started {
    /// Provider payment id.
    pub provider_payment_id: Option<String>,
    /// Provider status.
    pub provider_status: Option<String>,
    /// Confirmation URL.
    pub confirmation_url: Option<String>,
    /// Stars invoice.
    pub invoice: Option<Invoice>,
}

/// Optional payer contacts for a 54-FZ receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct Customer {
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone, digits.
    #[serde(default)]
    pub phone: Option<String>,
}

/// The text keys a method is shown with; each exists in both catalogs of `qwen_texts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels {
    /// Its button on the bot's top-up screen (`btn_method_…`).
    pub button: &'static str,
    /// The heading of its packages screen in the bot (`topup_packages_…`).
    pub packages: &'static str,
}

/// A way to pay: everything that differs between methods. Implementations are registered in
/// [`METHODS`](super::methods::METHODS), one line each; nothing outside the implementation
/// matches on its [`Method`].
#[async_trait(?Send)]
pub trait PaymentMethod: Sync {
    /// Stable id used in the API and stored on the row.
    fn id(&self) -> Method;
    /// The currency it charges.
    fn currency(&self) -> Currency;
    /// How the bot labels it.
    fn labels(&self) -> Labels;
    /// Starts the (already stored, pending) payment at the provider.
    ///
    /// # Errors
    /// [`CoreError::Upstream`](crate::error::CoreError::Upstream) when the provider refuses
    /// or is unreachable.
    async fn start(
        &self,
        deps: &Deps<'_>,
        payment: &Payment,
        customer: &Customer,
    ) -> CoreResult<Started>;
    /// Settles a payment of this method still `pending` after the configured expiry (the
    /// sweep): true when it changed (canceled, credited or recorded refunded).
    ///
    /// # Errors
    /// The provider unreachable or storage errors: the next sweep tries again.
    async fn settle_stale(&self, deps: &Deps<'_>, payment: &Payment) -> CoreResult<bool>;
    /// Whether an operator may refund `payment` here (the console offers it then).
    fn refundable(&self, payment: &Payment) -> bool;
    /// An operator's refund of `payment` (not `refunded` yet): `POST
    /// /api/payments/{id}/refund` and the console's refund. Answers the payment as it is
    /// afterwards.
    ///
    /// # Errors
    /// [`CoreError::Conflict`](crate::error::CoreError::Conflict) `not_refundable` when this
    /// method does not refund it here; the provider's and storage errors.
    async fn refund(
        &self,
        deps: &Deps<'_>,
        payment: Payment,
        operator: Option<&str>,
    ) -> CoreResult<Payment>;
}
