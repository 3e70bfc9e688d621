//! YooKassa as the domain uses it: the body of a new payment (its description in the
//! payer's language, the 54-FZ receipt), the client built from the payment configuration
//! (the wire protocol is the `yookassa` crate's), and its failures as
//! [`CoreError::Upstream`].

use serde_json::{Value, json};

use super::model::{Customer, Deps, Payment};
use crate::contract::Language;
use crate::error::{CoreError, CoreResult};
use crate::ports::HttpClient;
pub use yookassa::{
    Amount, CancellationDetails, Client, Confirmation, LIST_LIMIT, ListPage, YkError, YkPayment,
    YkRefund, amount_value, parse_value,
};

/// The client for this deployment's shop.
pub fn client<'a>(deps: &'a Deps<'a>) -> Client<&'a dyn HttpClient> {
    Client {
        api_url: deps.pay.api_url.clone(),
        shop_id: deps.pay.shop_id.clone(),
        secret_key: deps.pay.secret_key.clone(),
        timeout_ms: deps.pay.timeout_ms,
        http: deps.http,
    }
}

/// A YooKassa failure as a core error.
pub fn upstream(e: YkError) -> CoreError {
    CoreError::Upstream {
        service: "yookassa",
        message: e.message,
        transient: e.transient,
    }
}

/// A payment text in `lang` with `credits`.
fn text(lang: Language, key: &str, credits: i64) -> String {
    qwen_texts::tf(lang, key, &[("credits", credits.to_string())])
}

/// The request body of `POST /v3/payments` for `payment`, paid with `method_type`
/// (`bank_card`, `sbp`); the description (YooKassa's page) in the payer's `lang`, the 54-FZ
/// receipt in Russian.
pub fn create_body(
    deps: &Deps<'_>,
    p: &Payment,
    method_type: &str,
    customer: &Customer,
    lang: Language,
) -> Value {
    let amount = json!({ "value": amount_value(p.amount), "currency": p.currency });
    let description = text(lang, "yookassa_description", p.credits + p.bonus);
    let mut body = json!({
        "amount": amount,
        "capture": true,
        "payment_method_data": { "type": method_type },
        "confirmation": { "type": "redirect", "return_url": deps.pay.return_url },
        "description": description,
        "metadata": { "payment_id": p.id, "telegram_id": p.user_id.to_string() },
    });
    if deps.pay.receipt {
        body["receipt"] = receipt(deps, p, customer, amount);
    }
    body
}

fn receipt(deps: &Deps<'_>, p: &Payment, customer: &Customer, amount: Value) -> Value {
    let mut who = serde_json::Map::new();
    if let Some(e) = customer.email.as_deref().filter(|e| !e.is_empty()) {
        who.insert("email".into(), e.into());
    }
    if let Some(ph) = customer.phone.as_deref().filter(|p| !p.is_empty()) {
        who.insert("phone".into(), ph.into());
    }
    json!({
        "customer": who,
        "items": [{
            "description": text(Language::Ru, "yookassa_receipt_item", p.credits),
            "quantity": "1.00",
            "amount": amount,
            "vat_code": deps.pay.vat_code,
            "payment_mode": "full_payment",
            "payment_subject": "service",
        }],
    })
}

/// Creates the payment at YooKassa (`Idempotence-Key` = our id: a retry returns the same
/// payment), described in the payer's language.
///
/// # Errors
/// [`CoreError::Upstream`]; `transient` for timeouts, connection failures, 429 and 5xx.
pub async fn create(
    deps: &Deps<'_>,
    p: &Payment,
    method_type: &str,
    customer: &Customer,
) -> CoreResult<YkPayment> {
    let lang = super::telegram::payer_language(deps, p.user_id).await;
    let body = create_body(deps, p, method_type, customer, lang);
    client(deps).create(&p.id, &body).await.map_err(upstream)
}

/// `GET /v3/payments/{id}`: the payment as YooKassa knows it.
///
/// # Errors
/// [`CoreError::Upstream`] as for [`create`]; a 404 is not transient.
pub async fn get_payment(deps: &Deps<'_>, id: &str) -> CoreResult<YkPayment> {
    client(deps).get_payment(id).await.map_err(upstream)
}

/// `GET /v3/refunds/{id}`.
///
/// # Errors
/// [`CoreError::Upstream`] as for [`get_payment`].
pub async fn get_refund(deps: &Deps<'_>, id: &str) -> CoreResult<YkRefund> {
    client(deps).get_refund(id).await.map_err(upstream)
}

/// `GET /v3/payments/{id}`, `None` when YooKassa answers 404.
///
/// # Errors
/// [`CoreError::Upstream`] as for [`get_payment`], except for the 404.
pub async fn find_payment(deps: &Deps<'_>, id: &str) -> CoreResult<Option<YkPayment>> {
    client(deps).find_payment(id).await.map_err(upstream)
}

/// Every payment created in `[from_iso, to_iso)`.
///
/// # Errors
/// [`CoreError::Upstream`], also when the cursors never end.
pub async fn list_payments(
    deps: &Deps<'_>,
    from_iso: &str,
    to_iso: &str,
) -> CoreResult<Vec<YkPayment>> {
    client(deps)
        .list_payments(from_iso, to_iso)
        .await
        .map_err(upstream)
}

/// Every succeeded refund created in `[from_iso, to_iso)`.
///
/// # Errors
/// As for [`list_payments`].
pub async fn list_refunds(
    deps: &Deps<'_>,
    from_iso: &str,
    to_iso: &str,
) -> CoreResult<Vec<YkRefund>> {
    client(deps)
        .list_refunds(from_iso, to_iso)
        .await
        .map_err(upstream)
}

/// What a created YooKassa payment means for our row.
pub fn started(p: YkPayment) -> super::model::Started {
    super::model::Started {
        confirmation_url: p.confirmation.and_then(|c| c.confirmation_url),
        provider_payment_id: Some(p.id),
        provider_status: Some(p.status),
        invoice: None,
    }
}
