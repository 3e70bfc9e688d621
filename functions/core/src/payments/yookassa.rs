//! A YooKassa API v3 client over the [`HttpClient`](crate::ports::HttpClient) port:
//! `POST /v3/payments` (Basic auth, `Idempotence-Key` = our payment id), `GET
//! /v3/payments/{id}`, `GET /v3/refunds/{id}`, and the lists `GET /v3/payments` and `GET
//! /v3/refunds` (filters, cursor paging). Every failure becomes
//! [`CoreError::Upstream`] with a clear message; `transient` says whether a retry may help.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{Customer, Deps, Payment};
use crate::contract::Language;
use crate::error::{CoreError, CoreResult};
use crate::ports::{HttpError, HttpRequest, HttpResponse};

/// `{"value": "123.00", "currency": "RUB"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Amount {
    /// Decimal string.
    pub value: String,
    /// Currency code.
    pub currency: String,
}

/// The confirmation block of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Confirmation {
    /// `redirect`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where the payer goes.
    #[serde(default)]
    pub confirmation_url: Option<String>,
}

/// A YooKassa payment object (the fields we use).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct YkPayment {
    /// YooKassa's id.
    pub id: String,
    /// `pending`, `waiting_for_capture`, `succeeded`, `canceled`.
    pub status: String,
    /// Whether the money was received.
    #[serde(default)]
    pub paid: bool,
    /// Amount.
    pub amount: Amount,
    /// Confirmation.
    #[serde(default)]
    pub confirmation: Option<Confirmation>,
    /// Our metadata (string values).
    #[serde(default)]
    pub metadata: BTreeMap<String, Value>,
    /// When YooKassa created it (ISO 8601, UTC).
    #[serde(default)]
    pub created_at: Option<String>,
    /// What was refunded of it so far (a succeeded payment stays `succeeded` when refunded).
    #[serde(default)]
    pub refunded_amount: Option<Amount>,
    /// Why it was canceled (`canceled` only).
    #[serde(default)]
    pub cancellation_details: Option<CancellationDetails>,
}

impl YkPayment {
    /// What YooKassa refunded of it, in kopecks (0 when nothing or unreadable).
    pub fn refunded_minor(&self) -> i64 {
        self.refunded_amount
            .as_ref()
            .and_then(|a| parse_value(&a.value))
            .unwrap_or(0)
    }
}

/// Why YooKassa canceled a payment: `party` (`yoo_money`, `payment_network`, `merchant`) and
/// `reason` (`expired_on_confirmation`, `insufficient_funds`, `card_expired`, …).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CancellationDetails {
    /// Who canceled it.
    #[serde(default)]
    pub party: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// A YooKassa refund object (the fields we use).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct YkRefund {
    /// Refund id.
    pub id: String,
    /// The refunded payment.
    pub payment_id: String,
    /// `pending`, `succeeded`, `canceled`.
    pub status: String,
    /// Amount refunded.
    pub amount: Amount,
    /// When YooKassa created it (ISO 8601, UTC).
    #[serde(default)]
    pub created_at: Option<String>,
}

/// One page of a YooKassa list (`{"type":"list","items":[…],"next_cursor":"…"}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListPage<T> {
    /// The objects of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// The largest page YooKassa's lists answer (`limit`).
pub const LIST_LIMIT: u32 = 100;

/// Pages followed at most by one listing (10 000 objects): a guard against a cursor loop.
const MAX_LIST_PAGES: usize = 100;

/// Kopecks as YooKassa's decimal string: 12345 → "123.45".
pub fn amount_value(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// YooKassa's decimal string as kopecks: "123.45" → 12345, "100" → 10000; `None` when malformed.
pub fn parse_value(value: &str) -> Option<i64> {
    let (whole, frac) = value.split_once('.').unwrap_or((value, "0"));
    if whole.is_empty()
        || frac.len() > 2
        || !(whole.chars().chain(frac.chars())).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}").parse::<i64>().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(frac)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn auth_header(deps: &Deps<'_>) -> (String, String) {
    let creds = format!("{}:{}", deps.pay.shop_id, deps.pay.secret_key);
    (
        "Authorization".into(),
        format!("Basic {}", base64(creds.as_bytes())),
    )
}

fn upstream(message: impl Into<String>, transient: bool) -> CoreError {
    CoreError::Upstream {
        service: "yookassa",
        message: message.into(),
        transient,
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
    let req = HttpRequest {
        method: "POST".into(),
        url: format!("{}/v3/payments", deps.pay.api_url),
        headers: vec![
            auth_header(deps),
            ("Idempotence-Key".into(), p.id.clone()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: body.to_string().into_bytes(),
        timeout_ms: deps.pay.timeout_ms,
    };
    call(deps, req).await
}

/// `GET /v3/payments/{id}`: the payment as YooKassa knows it.
///
/// # Errors
/// [`CoreError::Upstream`] as for [`create`]; a 404 is not transient.
pub async fn get_payment(deps: &Deps<'_>, id: &str) -> CoreResult<YkPayment> {
    call(deps, get_request(deps, "payments", id)).await
}

/// `GET /v3/refunds/{id}`.
///
/// # Errors
/// [`CoreError::Upstream`] as for [`get_payment`].
pub async fn get_refund(deps: &Deps<'_>, id: &str) -> CoreResult<YkRefund> {
    call(deps, get_request(deps, "refunds", id)).await
}

/// `GET /v3/payments` created in `[from_iso, to_iso)`, every page (cursor paging).
///
/// # Errors
/// [`CoreError::Upstream`] as for [`get_payment`], or when the cursors never end.
pub async fn list_payments(
    deps: &Deps<'_>,
    from_iso: &str,
    to_iso: &str,
) -> CoreResult<Vec<YkPayment>> {
    list(
        deps,
        "payments",
        &[("created_at.gte", from_iso), ("created_at.lt", to_iso)],
    )
    .await
}

/// `GET /v3/refunds` that succeeded, created in `[from_iso, to_iso)`, every page.
///
/// # Errors
/// As for [`list_payments`].
pub async fn list_refunds(
    deps: &Deps<'_>,
    from_iso: &str,
    to_iso: &str,
) -> CoreResult<Vec<YkRefund>> {
    let filters = [
        ("created_at.gte", from_iso),
        ("created_at.lt", to_iso),
        ("status", "succeeded"),
    ];
    list(deps, "refunds", &filters).await
}

async fn list<T: serde::de::DeserializeOwned>(
    deps: &Deps<'_>,
    kind: &str,
    filters: &[(&str, &str)],
) -> CoreResult<Vec<T>> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_LIST_PAGES {
        let req = list_request(deps, kind, filters, cursor.as_deref());
        let page: ListPage<T> = call(deps, req).await?;
        all.extend(page.items);
        cursor = page.next_cursor.filter(|c| !c.is_empty());
        if cursor.is_none() {
            return Ok(all);
        }
    }
    Err(upstream(
        format!("the {kind} list did not end after {MAX_LIST_PAGES} pages"),
        false,
    ))
}

fn list_request(
    deps: &Deps<'_>,
    kind: &str,
    filters: &[(&str, &str)],
    cursor: Option<&str>,
) -> HttpRequest {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(filters.iter().copied());
    query.append_pair("limit", &LIST_LIMIT.to_string());
    if let Some(c) = cursor {
        query.append_pair("cursor", c);
    }
    HttpRequest {
        method: "GET".into(),
        url: format!("{}/v3/{kind}?{}", deps.pay.api_url, query.finish()),
        headers: vec![auth_header(deps)],
        body: Vec::new(),
        timeout_ms: deps.pay.timeout_ms,
    }
}

fn get_request(deps: &Deps<'_>, kind: &str, id: &str) -> HttpRequest {
    let safe: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    HttpRequest {
        method: "GET".into(),
        url: format!("{}/v3/{kind}/{safe}", deps.pay.api_url),
        headers: vec![auth_header(deps)],
        body: Vec::new(),
        timeout_ms: deps.pay.timeout_ms,
    }
}

async fn send(deps: &Deps<'_>, req: HttpRequest) -> CoreResult<HttpResponse> {
    deps.http.send(req).await.map_err(|e| match e {
        HttpError::Timeout => upstream("YooKassa did not answer in time", true),
        HttpError::Connect(m) => upstream(format!("YooKassa is unreachable: {m}"), true),
        HttpError::Other(m) => upstream(format!("request to YooKassa failed: {m}"), true),
    })
}

fn parse<T: serde::de::DeserializeOwned>(resp: &HttpResponse) -> CoreResult<T> {
    if resp.status != 200 {
        return Err(status_error(resp));
    }
    serde_json::from_slice(&resp.body)
        .map_err(|e| upstream(format!("YooKassa answered an unexpected body: {e}"), false))
}

async fn call<T: serde::de::DeserializeOwned>(deps: &Deps<'_>, req: HttpRequest) -> CoreResult<T> {
    parse(&send(deps, req).await?)
}

/// `GET /v3/payments/{id}`, `None` when YooKassa answers 404 (no such payment).
///
/// # Errors
/// [`CoreError::Upstream`] as for [`get_payment`], except for the 404.
pub async fn find_payment(deps: &Deps<'_>, id: &str) -> CoreResult<Option<YkPayment>> {
    let resp = send(deps, get_request(deps, "payments", id)).await?;
    if resp.status == 404 {
        return Ok(None);
    }
    parse(&resp).map(Some)
}

/// Maps a non-200 answer (YooKassa's `{"type":"error","id","code","description","parameter"}`).
pub fn status_error(resp: &HttpResponse) -> CoreError {
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let detail = match (text("code"), text("description"), text("parameter")) {
        (c, d, p) if !p.is_empty() => format!("{c}: {d} (parameter {p})"),
        (c, d, _) if !c.is_empty() => format!("{c}: {d}"),
        _ => format!("HTTP {}", resp.status),
    };
    match resp.status {
        401 => upstream(
            format!("authentication failed, check the shop id and secret key ({detail})"),
            false,
        ),
        403 => upstream(
            format!("operation forbidden for this shop ({detail})"),
            false,
        ),
        404 => upstream(format!("not found ({detail})"), false),
        429 => upstream(format!("too many requests, retry later ({detail})"), true),
        s if s >= 500 => upstream(format!("YooKassa server error ({detail})"), true),
        _ => upstream(format!("request refused ({detail})"), false),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_strings_round_trip() {
        assert_eq!(amount_value(12345), "123.45");
        assert_eq!(amount_value(10000), "100.00");
        assert_eq!(parse_value("123.45"), Some(12345));
        assert_eq!(parse_value("100"), Some(10000));
        assert_eq!(parse_value("100.5"), Some(10050));
        assert_eq!(parse_value("1.234"), None);
        assert_eq!(parse_value("-1.00"), None);
        assert_eq!(parse_value(""), None);
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn error_bodies_become_clear_messages() {
        let resp = HttpResponse {
            status: 400,
            headers: vec![],
            body: br#"{"type":"error","id":"x","code":"invalid_request","description":"Bad amount","parameter":"amount.value"}"#.to_vec(),
        };
        let e = status_error(&resp);
        assert!(e.to_string().contains("amount.value"), "{e}");
        assert!(matches!(
            status_error(&HttpResponse {
                status: 503,
                ..Default::default()
            }),
            CoreError::Upstream {
                transient: true,
                ..
            }
        ));
    }
}
