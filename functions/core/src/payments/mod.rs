//! Top-ups: YooKassa bank card, YooKassa SBP and Telegram Stars, credited exactly once.
//!
//! * A payment method is one file implementing [`PaymentMethod`] (start, stale settling,
//!   operator refunds, labels), registered in [`METHODS`]; YooKassa's types are one
//!   [`yookassa_method::YooKassa`] value each.
//! * Money units: `Payment::amount` is in the currency's smallest unit (kopecks for RUB, stars
//!   for XTR); `credits`, `bonus`, `refunded` and `shortfall` are credits.
//! * Crediting and refunding are guarded updates of the payment row; triggers (migrations 3
//!   and 10) write the ledger entries (the credit unique per payment, each refund unique per
//!   refund id) in the same statement, so the ledger and the payments table cannot disagree,
//!   and duplicates change nothing. A partial refund takes back its share and keeps the
//!   payment `succeeded`; the one completing the amount makes it `refunded`.

pub mod allowlist;
pub mod checkout;
pub mod expiry;
pub mod methods;
pub mod model;
pub mod notify;
pub mod ops;
pub mod reconcile;
pub mod settings;
pub mod stars;
pub mod store;
pub mod telegram;
pub mod webhook;
pub mod yookassa;
pub mod yookassa_method;

pub use methods::{METHODS, method, refund, registered};
pub use model::*;
pub use settings::{Package, PaymentSettings};
