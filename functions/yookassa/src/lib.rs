//! # yookassa
//!
//! A YooKassa API v3 client over the `HttpClient` port of `qwen-ports` (the same seam as
//! `botapi` for Telegram): `POST /v3/payments` (Basic auth, `Idempotence-Key`), `GET
//! /v3/payments/{id}`, `GET /v3/refunds/{id}`, and the lists `GET /v3/payments` and `GET
//! /v3/refunds` (filters, cursor paging). It speaks the wire and nothing else: what a
//! payment's body says (description, receipt) and what an answer means for the ledger is the
//! domain's (`qwen-core`). Every failure is a [`YkError`] with a clear message; `transient`
//! says whether a retry may help.

use std::collections::BTreeMap;

use qwen_ports::{HttpClient, HttpError, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

/// A failed call: what happened and whether a retry may help (timeouts, connection
/// failures, 429 and 5xx are transient).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YkError {
    /// What happened, without secrets.
    pub message: String,
    /// Worth retrying later.
    pub transient: bool,
}

fn failed(message: impl Into<String>, transient: bool) -> YkError {
    YkError {
        message: message.into(),
        transient,
    }
}

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

/// Where and as whom to call YooKassa.
pub struct Client<H> {
    /// `https://api.yookassa.ru` (a fake's address in tests).
    pub api_url: String,
    /// The shop id (Basic auth user).
    pub shop_id: String,
    /// The secret key (Basic auth password).
    pub secret_key: String,
    /// Per-call timeout.
    pub timeout_ms: u64,
    /// Outbound HTTP: anything that dereferences to an `HttpClient` (`&dyn HttpClient`,
    /// `Box<MyClient>`…).
    pub http: H,
}

impl<H> Client<H>
where
    H: std::ops::Deref,
    H::Target: HttpClient,
{
    fn auth_header(&self) -> (String, String) {
        let creds = format!("{}:{}", self.shop_id, self.secret_key);
        (
            "Authorization".into(),
            format!("Basic {}", base64(creds.as_bytes())),
        )
    }

    /// Creates a payment with `body` (`Idempotence-Key` = `key`: a retry with the same key
    /// returns the same payment).
    ///
    /// # Errors
    /// [`YkError`]; transient for timeouts, connection failures, 429 and 5xx.
    pub async fn create(&self, key: &str, body: &Value) -> Result<YkPayment, YkError> {
        let req = HttpRequest {
            method: "POST".into(),
            url: format!("{}/v3/payments", self.api_url),
            headers: vec![
                self.auth_header(),
                ("Idempotence-Key".into(), key.to_owned()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: body.to_string().into_bytes(),
            timeout_ms: self.timeout_ms,
        };
        self.call(req).await
    }

    /// `GET /v3/payments/{id}`: the payment as YooKassa knows it.
    ///
    /// # Errors
    /// As for [`Client::create`]; a 404 is not transient.
    pub async fn get_payment(&self, id: &str) -> Result<YkPayment, YkError> {
        self.call(self.get_request("payments", id)).await
    }

    /// `GET /v3/refunds/{id}`.
    ///
    /// # Errors
    /// As for [`Client::get_payment`].
    pub async fn get_refund(&self, id: &str) -> Result<YkRefund, YkError> {
        self.call(self.get_request("refunds", id)).await
    }

    /// `GET /v3/payments/{id}`, `None` when YooKassa answers 404 (no such payment).
    ///
    /// # Errors
    /// As for [`Client::get_payment`], except for the 404.
    pub async fn find_payment(&self, id: &str) -> Result<Option<YkPayment>, YkError> {
        let resp = self.send(self.get_request("payments", id)).await?;
        if resp.status == 404 {
            return Ok(None);
        }
        parse(&resp).map(Some)
    }

    /// `GET /v3/payments` created in `[from_iso, to_iso)`, every page (cursor paging).
    ///
    /// # Errors
    /// As for [`Client::get_payment`], or when the cursors never end.
    pub async fn list_payments(
        &self,
        from_iso: &str,
        to_iso: &str,
    ) -> Result<Vec<YkPayment>, YkError> {
        let filters = [("created_at.gte", from_iso), ("created_at.lt", to_iso)];
        self.list("payments", &filters).await
    }

    /// `GET /v3/refunds` that succeeded, created in `[from_iso, to_iso)`, every page.
    ///
    /// # Errors
    /// As for [`Client::list_payments`].
    pub async fn list_refunds(
        &self,
        from_iso: &str,
        to_iso: &str,
    ) -> Result<Vec<YkRefund>, YkError> {
        let filters = [
            ("created_at.gte", from_iso),
            ("created_at.lt", to_iso),
            ("status", "succeeded"),
        ];
        self.list("refunds", &filters).await
    }

    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        filters: &[(&str, &str)],
    ) -> Result<Vec<T>, YkError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let req = self.list_request(kind, filters, cursor.as_deref());
            let page: ListPage<T> = self.call(req).await?;
            all.extend(page.items);
            cursor = page.next_cursor.filter(|c| !c.is_empty());
            if cursor.is_none() {
                return Ok(all);
            }
        }
        Err(failed(
            format!("the {kind} list did not end after {MAX_LIST_PAGES} pages"),
            false,
        ))
    }

    fn list_request(
        &self,
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
            url: format!("{}/v3/{kind}?{}", self.api_url, query.finish()),
            headers: vec![self.auth_header()],
            body: Vec::new(),
            timeout_ms: self.timeout_ms,
        }
    }

    fn get_request(&self, kind: &str, id: &str) -> HttpRequest {
        let safe: String = id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        HttpRequest {
            method: "GET".into(),
            url: format!("{}/v3/{kind}/{safe}", self.api_url),
            headers: vec![self.auth_header()],
            body: Vec::new(),
            timeout_ms: self.timeout_ms,
        }
    }

    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, YkError> {
        self.http.send(req).await.map_err(|e| match e {
            HttpError::Timeout => failed("YooKassa did not answer in time", true),
            HttpError::Connect(m) => failed(format!("YooKassa is unreachable: {m}"), true),
            HttpError::Other(m) => failed(format!("request to YooKassa failed: {m}"), true),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(&self, req: HttpRequest) -> Result<T, YkError> {
        parse(&self.send(req).await?)
    }
}

fn parse<T: serde::de::DeserializeOwned>(resp: &HttpResponse) -> Result<T, YkError> {
    if resp.status != 200 {
        return Err(status_error(resp));
    }
    serde_json::from_slice(&resp.body)
        .map_err(|e| failed(format!("YooKassa answered an unexpected body: {e}"), false))
}

/// Maps a non-200 answer (YooKassa's `{"type":"error","id","code","description","parameter"}`).
pub fn status_error(resp: &HttpResponse) -> YkError {
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let detail = match (text("code"), text("description"), text("parameter")) {
        (c, d, p) if !p.is_empty() => format!("{c}: {d} (parameter {p})"),
        (c, d, _) if !c.is_empty() => format!("{c}: {d}"),
        _ => format!("HTTP {}", resp.status),
    };
    match resp.status {
        401 => failed(
            format!("authentication failed, check the shop id and secret key ({detail})"),
            false,
        ),
        403 => failed(
            format!("operation forbidden for this shop ({detail})"),
            false,
        ),
        404 => failed(format!("not found ({detail})"), false),
        429 => failed(format!("too many requests, retry later ({detail})"), true),
        s if s >= 500 => failed(format!("YooKassa server error ({detail})"), true),
        _ => failed(format!("request refused ({detail})"), false),
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
            YkError {
                transient: true,
                ..
            }
        ));
    }
}
