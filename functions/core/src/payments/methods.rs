//! The payment methods the bot offers, and the operations that dispatch to a payment's
//! method. A new method is a new file implementing [`PaymentMethod`] plus one line in
//! [`METHODS`]; a new YooKassa payment method type is one line (a [`YooKassa`] value) and its
//! labels in the catalogs.

use super::model::{Deps, Labels, Method, Payment, PaymentMethod, PaymentStatus};
use super::stars::Stars;
use super::store;
use super::yookassa_method::YooKassa;
use crate::error::{CoreError, CoreResult};

/// Every payment method, in the order the bot offers them, each [`Method`] once.
pub const METHODS: &[&dyn PaymentMethod] = &[
    &YooKassa {
        id: Method::YookassaCard,
        payment_method_type: "bank_card",
        labels: Labels {
            button: "btn_method_yookassa_card",
            packages: "topup_packages_yookassa_card",
        },
    },
    &YooKassa {
        id: Method::YookassaSbp,
        payment_method_type: "sbp",
        labels: Labels {
            button: "btn_method_yookassa_sbp",
            packages: "topup_packages_yookassa_sbp",
        },
    },
    &Stars,
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
        .ok_or_else(|| unknown(id))
}

/// The method of a stored payment.
///
/// # Errors
/// [`CoreError::Invalid`] for a method no longer registered.
pub fn registered(id: Method) -> CoreResult<&'static dyn PaymentMethod> {
    method(id.as_str())
}

fn unknown(id: &str) -> CoreError {
    let known: Vec<&str> = METHODS.iter().map(|m| m.id().as_str()).collect();
    CoreError::invalid(
        "invalid_method",
        format!("unknown payment method {id:?}; use one of {known:?}"),
    )
}

/// An operator's refund of payment `payment_id` (`POST /api/payments/{id}/refund`, the
/// console): a `refunded` payment answers itself; any other is refunded by its method
/// ([`PaymentMethod::refund`]), safe to retry.
///
/// # Errors
/// [`CoreError::NotFound`]; [`CoreError::Conflict`] `not_refundable` when its method does
/// not refund it here; the provider's and storage errors.
pub async fn refund(
    deps: &Deps<'_>,
    payment_id: &str,
    operator: Option<&str>,
) -> CoreResult<Payment> {
    let p = store::get(deps.sql, payment_id).await?;
    if p.status == PaymentStatus::Refunded {
        return Ok(p);
    }
    registered(p.method)?.refund(deps, p, operator).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Language;

    #[test]
    fn every_method_id_is_registered_exactly_once() {
        for id in Method::ALL {
            let found = METHODS.iter().filter(|m| m.id() == *id).count();
            assert_eq!(found, 1, "{id} is registered {found} times in METHODS");
            let m = registered(*id).map(|m| m.id());
            assert_eq!(m.ok(), Some(*id), "{id} is found under its own id");
        }
        assert_eq!(
            METHODS.len(),
            Method::ALL.len(),
            "METHODS holds only Method ids"
        );
    }

    #[test]
    fn every_label_exists_in_both_catalogs() {
        for m in METHODS {
            let Labels { button, packages } = m.labels();
            for key in [button, packages] {
                for lang in [Language::Ru, Language::En] {
                    let text = qwen_texts::t(lang, key);
                    assert_ne!(text, key, "{}: {key} is missing in {lang}", m.id());
                }
            }
        }
    }

    #[test]
    fn an_unknown_method_names_the_known_ones() {
        let Err(CoreError::Invalid { code, message }) = method("paypal") else {
            panic!("paypal is no method");
        };
        assert_eq!(code, "invalid_method");
        assert!(message.contains("\"yookassa_card\", \"yookassa_sbp\", \"stars\""));
    }
}
