//! The payment methods the bot offers: a new method is a new file implementing
//! [`PaymentMethod`] plus one line in [`METHODS`].

use super::model::PaymentMethod;
use super::{stars, yookassa_card, yookassa_sbp};
use crate::error::{CoreError, CoreResult};

/// Every payment method, in the order the bot offers them. A new method is a new file plus
/// one line here.
pub const METHODS: &[&dyn PaymentMethod] = &[
    &yookassa_card::YookassaCard,
    &yookassa_sbp::YookassaSbp,
    &stars::Stars,
];

/// The method registered under `id`.
///
/// # Errors
/// [`CoreError::Invalid`] for an unknown method.
pub fn method(id: &str) -> CoreResult<&'static dyn PaymentMethod> {
    METHODS
        .iter()
        .copied()
        .find(|m| m.id().as_str() == id)
        .ok_or_else(|| {
            let known: Vec<&str> = METHODS.iter().map(|m| m.id().as_str()).collect();
            CoreError::invalid(
                "invalid_method",
                format!("unknown payment method {id:?}; use one of {known:?}"),
            )
        })
}
