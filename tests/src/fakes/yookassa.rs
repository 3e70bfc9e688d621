//! A faithful fake of the YooKassa API v3, on loopback.
//!
//! Real paths and shapes (the `yookassa` Python SDK's models were the cross-check):
//! `POST /v3/payments` (HTTP Basic `shop_id:secret_key`, `Idempotence-Key` required),
//! `GET /v3/payments/{id}`, `GET /v3/refunds/{id}`; payment objects with `id`, `status`,
//! `paid`, `amount {value, currency}`, `confirmation {type: redirect, confirmation_url}`,
//! `created_at`, `description`, `metadata`, `payment_method`, `recipient`, `refundable`,
//! `refunded_amount`, `test`; errors as `{"type":"error","id","code","description","parameter"}`.
//!
//! Lists: `GET /v3/payments` and `GET /v3/refunds` with the filters `created_at.gte`/`gt`/
//! `lte`/`lt` (ISO 8601), `status`, `limit` (1–100, default 10) and `cursor`, newest first,
//! answered as `{"type":"list","items":[…],"next_cursor":"…"}` (no `next_cursor` on the last
//! page); a malformed filter or an unknown cursor is a 400 `invalid_request` naming the
//! parameter. [`FakeYooKassa::set_page_size`] answers fewer per page, to exercise paging;
//! [`FakeYooKassa::add_payment`] plants a payment the app never created, and
//! [`FakeYooKassa::set_created_at`] moves one in time.
//!
//! Idempotence: the same key with the same body answers the same payment; the same key with
//! another body is a 400 `invalid_request` on `Idempotence-Key`. Tests change a payment's
//! status ([`FakeYooKassa::set_status`]), tamper with it ([`FakeYooKassa::set_field`]),
//! refund it, script 429/500/401/slow answers ([`FakeYooKassa::fail_next`]), take the whole
//! service down ([`FakeYooKassa::set_down`]: connections are closed at once), and send
//! notifications to the webhook ([`FakeYooKassa::notify`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

/// The shop id [`FakeYooKassa::start`] expects.
pub const SHOP_ID: &str = "506751";
/// The secret key [`FakeYooKassa::start`] expects.
pub const SECRET_KEY: &str = "test_Fh8hUAVVBGUGbjmlzba6TB0iyUbos_lueTHE-axOwM0";

/// A scripted answer for the next matching requests.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 429 `too_many_requests`.
    TooManyRequests,
    /// 500 `internal_server_error`.
    ServerError,
    /// 401 `invalid_credentials`.
    Unauthorized,
    /// Handles the request normally (a payment is created), then waits this long before
    /// answering: a client timeout after the work was done.
    Slow(Duration),
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `GET` or `POST`.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string (empty when none).
    pub query: String,
    /// `Idempotence-Key` header.
    pub idempotence_key: Option<String>,
    /// Whether Basic auth matched.
    pub authorized: bool,
    /// JSON body (Null when none).
    pub body: Value,
}

#[derive(Default)]
struct State {
    payments: HashMap<String, Value>,
    order: Vec<String>,
    refunds: HashMap<String, Value>,
    keys: HashMap<String, (Value, String)>,
    scripts: Vec<(String, u32, Failure)>,
    requests: Vec<Recorded>,
    refund_order: Vec<String>,
    page_size: Option<usize>,
}

struct Inner {
    auth: String,
    checkout: Mutex<Option<String>>,
    state: Mutex<State>,
    down: AtomicBool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake YooKassa; stops when dropped.
pub struct FakeYooKassa {
    addr: SocketAddr,
    inner: Arc<Inner>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    client: reqwest::Client,
}

impl Drop for FakeYooKassa {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn error_body(code: &str, description: &str, parameter: Option<&str>) -> Value {
    let mut v = json!({"type": "error", "id": uuid::Uuid::new_v4().to_string(), "code": code, "description": description});
    if let Some(p) = parameter {
        v["parameter"] = p.into();
    }
    v
}

fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = qwen_core::payments::reconcile::time::civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl FakeYooKassa {
    /// Starts a fake expecting [`SHOP_ID`] and [`SECRET_KEY`].
    pub async fn start() -> FakeYooKassa {
        FakeYooKassa::start_with(SHOP_ID, SECRET_KEY)
    }

    /// Starts a fake expecting `shop_id:secret_key`, on 127.0.0.1 and a free port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start_with(shop_id: &str, secret_key: &str) -> FakeYooKassa {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let creds = format!("{shop_id}:{secret_key}");
        let inner = Arc::new(Inner {
            auth: format!("Basic {}", yookassa::base64(creds.as_bytes())),
            state: Mutex::new(State::default()),
            checkout: Mutex::new(None),
            down: AtomicBool::new(false),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let shared = inner.clone();
        std::thread::spawn(move || {
            super::serve_thread(listener, stopped, move |l| accept_loop(l, shared))
        });
        FakeYooKassa {
            addr,
            inner,
            stop: Some(stop),
            client: reqwest::Client::new(),
        }
    }

    /// `http://127.0.0.1:port` (the client appends `/v3/...`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// New payments' `confirmation_url` becomes `<url>?orderId=<id>` (YooKassa's own
    /// checkout page otherwise): where a stand-in checkout page is served.
    pub fn set_checkout_url(&self, url: &str) {
        if let Ok(mut c) = self.inner.checkout.lock() {
            *c = Some(url.to_owned());
        }
    }

    /// Every payment, in creation order.
    pub fn payments(&self) -> Vec<Value> {
        let st = self.inner.lock();
        st.order
            .iter()
            .filter_map(|id| st.payments.get(id).cloned())
            .collect()
    }

    /// One payment.
    pub fn payment(&self, id: &str) -> Option<Value> {
        self.inner.lock().payments.get(id).cloned()
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().requests.clone()
    }

    /// Moves a payment to `status` as YooKassa would: `succeeded` (paid, captured, card),
    /// `canceled` (with cancellation details), `waiting_for_capture`, `pending`.
    pub fn set_status(&self, id: &str, status: &str) {
        let mut st = self.inner.lock();
        let Some(p) = st.payments.get_mut(id) else {
            return;
        };
        p["status"] = status.into();
        p["paid"] = matches!(status, "succeeded" | "waiting_for_capture").into();
        match status {
            "succeeded" => {
                p["captured_at"] = now_iso().into();
                p["refundable"] = true.into();
                p["income_amount"] = p["amount"].clone();
                p["payment_method"]["saved"] = false.into();
                p["payment_method"]["status"] = "inactive".into();
                p["payment_method"]["title"] = "Bank card *4444".into();
            }
            "canceled" => {
                p["cancellation_details"] =
                    json!({"party": "yoo_money", "reason": "expired_on_confirmation"});
            }
            _ => {}
        }
    }

    /// Sets a field of a payment by JSON pointer (e.g. `/amount/value`): a tampered answer.
    pub fn set_field(&self, id: &str, pointer: &str, value: Value) {
        if let Some(slot) = self
            .inner
            .lock()
            .payments
            .get_mut(id)
            .and_then(|p| p.pointer_mut(pointer))
        {
            *slot = value;
        }
    }

    /// Refunds what is left of a succeeded payment; returns the (succeeded) refund's id.
    pub fn refund(&self, payment_id: &str) -> String {
        let left = {
            let st = self.inner.lock();
            st.payments.get(payment_id).map_or(0, |p| {
                minor(&p["amount"]["value"]) - minor(&p["refunded_amount"]["value"])
            })
        };
        self.refund_part(payment_id, &money(left))
    }

    /// Refunds `value` roubles (e.g. `"20.00"`) of a succeeded payment, as the dashboard's
    /// partial refund does: the payment stays `succeeded` and its `refunded_amount` grows.
    /// Returns the (succeeded) refund's id.
    pub fn refund_part(&self, payment_id: &str, value: &str) -> String {
        let mut st = self.inner.lock();
        let currency = st
            .payments
            .get(payment_id)
            .map(|p| p["amount"]["currency"].clone())
            .unwrap_or(Value::Null);
        let amount = json!({"value": value, "currency": currency});
        let id = uuid::Uuid::new_v4().to_string();
        let refund = json!({"id": id, "payment_id": payment_id, "status": "succeeded", "created_at": now_iso(), "amount": amount});
        if let Some(p) = st.payments.get_mut(payment_id) {
            let total = minor(&p["refunded_amount"]["value"]) + minor(&json!(value));
            p["refunded_amount"] = json!({"value": money(total), "currency": currency});
        }
        st.refunds.insert(id.clone(), refund);
        st.refund_order.push(id.clone());
        id
    }

    /// Cancels a payment as YooKassa does, with `cancellation_details` `{party, reason}`
    /// (e.g. `("payment_network", "insufficient_funds")`).
    pub fn cancel(&self, id: &str, party: &str, reason: &str) {
        self.set_status(id, "canceled");
        if let Some(p) = self.inner.lock().payments.get_mut(id) {
            p["cancellation_details"] = json!({"party": party, "reason": reason});
        }
    }

    /// Lists answer at most `n` objects per page, whatever `limit` asks (YooKassa: 100).
    pub fn set_page_size(&self, n: usize) {
        self.inner.lock().page_size = Some(n.max(1));
    }

    /// Plants a succeeded payment of `amount_value` roubles (e.g. `"100.00"`) with `metadata`
    /// that the app never created; returns its id.
    pub fn add_payment(&self, amount_value: &str, metadata: Value) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let body = json!({"amount": {"value": amount_value, "currency": "RUB"},
            "confirmation": {"return_url": "https://t.me/"}, "metadata": metadata,
            "payment_method_data": {"type": "bank_card"}});
        let payment = new_payment(&id, &body);
        {
            let mut st = self.inner.lock();
            st.payments.insert(id.clone(), payment);
            st.order.push(id.clone());
        }
        self.set_status(&id, "succeeded");
        id
    }

    /// Sets a payment's (or refund's) `created_at` to Unix ms `ms`.
    pub fn set_created_at(&self, id: &str, ms: i64) {
        let at = qwen_core::payments::reconcile::time::iso(ms);
        let mut st = self.inner.lock();
        if let Some(p) = st.payments.get_mut(id) {
            p["created_at"] = at.clone().into();
        }
        if let Some(r) = st.refunds.get_mut(id) {
            r["created_at"] = at.into();
        }
    }

    /// Answers the next `times` requests whose path starts with `path_prefix` with `failure`.
    pub fn fail_next(&self, path_prefix: &str, times: u32, failure: Failure) {
        self.inner
            .lock()
            .scripts
            .push((path_prefix.to_owned(), times, failure));
    }

    /// Down: every connection is closed at once (clients see a connection error).
    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    /// The notification YooKassa would send for `event` about object `id` (a payment, or a
    /// refund for `refund.*`), from the object's current state.
    pub fn notification(&self, event: &str, id: &str) -> Value {
        let st = self.inner.lock();
        let object = if event.starts_with("refund.") {
            st.refunds.get(id)
        } else {
            st.payments.get(id)
        };
        json!({"type": "notification", "event": event, "object": object.cloned().unwrap_or_else(|| json!({"id": id}))})
    }

    /// Posts `body` to `url` as YooKassa's notifier, with the source address header
    /// `(name, value)` when given; returns the status (0 on a transport error).
    pub async fn post_notification(
        &self,
        url: &str,
        body: &Value,
        source: Option<(&str, &str)>,
    ) -> u16 {
        let mut req = self.client.post(url).json(body);
        if let Some((name, value)) = source {
            req = req.header(name, value);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// Sends the notification for `event` about `id` to `url` from a YooKassa address.
    pub async fn notify(&self, url: &str, event: &str, id: &str) -> u16 {
        let body = self.notification(event, id);
        self.post_notification(url, &body, Some(("spin-client-addr", "185.71.76.10:443")))
            .await
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if inner.down.load(Ordering::SeqCst) {
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let inner = inner.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let inner = inner.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(req, &inner).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

fn reply(status: u16, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

async fn handle(req: Request<Incoming>, inner: &Inner) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let header = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let rec = Recorded {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        idempotence_key: header("idempotence-key"),
        authorized: header("authorization").as_deref() == Some(inner.auth.as_str()),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    inner.lock().requests.push(rec.clone());
    let scripted = take_script(inner, &rec.path);
    match scripted {
        Some(Failure::TooManyRequests) => {
            return reply(
                429,
                &error_body(
                    "too_many_requests",
                    "Too many requests. Try again later",
                    None,
                ),
            );
        }
        Some(Failure::ServerError) => {
            return reply(
                500,
                &error_body("internal_server_error", "Internal server error", None),
            );
        }
        Some(Failure::Unauthorized) => return reply(401, &unauthorized()),
        _ => {}
    }
    let (status, value) = if rec.authorized {
        route(inner, &rec)
    } else {
        (401, unauthorized())
    };
    if let Some(Failure::Slow(d)) = scripted {
        tokio::time::sleep(d).await;
    }
    reply(status, &value)
}

fn unauthorized() -> Value {
    error_body(
        "invalid_credentials",
        "Authentication by given credentials failed",
        None,
    )
}

fn take_script(inner: &Inner, path: &str) -> Option<Failure> {
    let mut st = inner.lock();
    let pos = st
        .scripts
        .iter()
        .position(|(p, n, _)| path.starts_with(p.as_str()) && *n > 0)?;
    st.scripts[pos].1 -= 1;
    Some(st.scripts[pos].2.clone())
}

fn route(inner: &Inner, rec: &Recorded) -> (u16, Value) {
    let segs: Vec<&str> = rec.path.trim_matches('/').split('/').collect();
    let not_found = || {
        (
            404,
            error_body(
                "not_found",
                "Incorrect payment_id. Payment doesn't exist or access denied",
                None,
            ),
        )
    };
    match (rec.method.as_str(), segs.as_slice()) {
        ("POST", ["v3", "payments"]) => create(inner, rec),
        ("GET", ["v3", "payments"]) => list(inner, &rec.query, Kind::Payments),
        ("GET", ["v3", "refunds"]) => list(inner, &rec.query, Kind::Refunds),
        ("GET", ["v3", "payments", id]) => inner
            .lock()
            .payments
            .get(*id)
            .cloned()
            .map_or_else(not_found, |p| (200, p)),
        ("GET", ["v3", "refunds", id]) => inner
            .lock()
            .refunds
            .get(*id)
            .cloned()
            .map_or_else(not_found, |r| (200, r)),
        _ => (404, error_body("not_found", "Not found", None)),
    }
}

fn invalid(description: &str, parameter: &str) -> (u16, Value) {
    (
        400,
        error_body("invalid_request", description, Some(parameter)),
    )
}

fn validate(body: &Value) -> Result<(), (u16, Value)> {
    let value = body["amount"]["value"].as_str().unwrap_or("");
    if qwen_core::payments::yookassa::parse_value(value).is_none_or(|v| v <= 0) {
        return Err(invalid("Invalid amount value", "amount.value"));
    }
    if body["amount"]["currency"].as_str() != Some("RUB") {
        return Err(invalid("Invalid currency", "amount.currency"));
    }
    let confirmation = &body["confirmation"];
    if confirmation["type"] == "redirect"
        && confirmation["return_url"]
            .as_str()
            .is_none_or(str::is_empty)
    {
        return Err(invalid(
            "Missing return_url for redirect confirmation",
            "confirmation.return_url",
        ));
    }
    let method = body["payment_method_data"]["type"]
        .as_str()
        .unwrap_or("bank_card");
    if !["bank_card", "sbp", "yoo_money", "sberbank", "tinkoff_bank"].contains(&method) {
        return Err(invalid(
            "Invalid payment method type",
            "payment_method_data.type",
        ));
    }
    Ok(())
}

fn create(inner: &Inner, rec: &Recorded) -> (u16, Value) {
    let Some(key) = rec.idempotence_key.clone().filter(|k| !k.is_empty()) else {
        return invalid("Idempotence key is missing", "Idempotence-Key");
    };
    if let Err(e) = validate(&rec.body) {
        return e;
    }
    let mut st = inner.lock();
    if let Some((body, id)) = st.keys.get(&key).cloned() {
        if body != rec.body {
            return invalid(
                "Idempotence key duplicated with another request body",
                "Idempotence-Key",
            );
        }
        return (200, st.payments.get(&id).cloned().unwrap_or(Value::Null));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut payment = new_payment(&id, &rec.body);
    if let Some(url) = inner.checkout.lock().ok().and_then(|c| c.clone()) {
        payment["confirmation"]["confirmation_url"] = format!("{url}?orderId={id}").into();
    }
    st.keys.insert(key, (rec.body.clone(), id.clone()));
    st.payments.insert(id.clone(), payment.clone());
    st.order.push(id);
    (200, payment)
}

fn new_payment(id: &str, body: &Value) -> Value {
    let method = body["payment_method_data"]["type"]
        .as_str()
        .unwrap_or("bank_card");
    json!({
        "id": id,
        "status": "pending",
        "paid": false,
        "amount": body["amount"],
        "confirmation": {"type": "redirect", "return_url": body["confirmation"]["return_url"],
            "confirmation_url": format!("https://yoomoney.ru/api-pages/v2/payment-confirm/epl?orderId={id}")},
        "created_at": now_iso(),
        "description": body["description"],
        "metadata": body.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "payment_method": {"type": method, "id": id, "saved": false},
        "recipient": {"account_id": SHOP_ID, "gateway_id": "2044214"},
        "refundable": false,
        "refunded_amount": {"value": "0.00", "currency": "RUB"},
        "test": true,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Payments,
    Refunds,
}

const FILTERS: &[&str] = &[
    "created_at.gte",
    "created_at.gt",
    "created_at.lte",
    "created_at.lt",
];

/// The list filters of a query: `(created_at bounds, status, limit, offset from cursor)`.
struct ListQuery {
    bounds: Vec<(String, i64)>,
    status: Option<String>,
    limit: usize,
    offset: usize,
}

fn list_query(query: &str, kind: Kind) -> Result<ListQuery, (u16, Value)> {
    let mut q = ListQuery {
        bounds: Vec::new(),
        status: None,
        limit: 10,
        offset: 0,
    };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let bad = || invalid(&format!("Invalid value of parameter {k}"), &k);
        match k.as_ref() {
            f if FILTERS.contains(&f) => {
                let ms = qwen_core::payments::reconcile::time::parse_iso(&v).ok_or_else(bad)?;
                q.bounds.push((f.to_owned(), ms));
            }
            "status" => {
                let known: &[&str] = match kind {
                    Kind::Payments => &["pending", "waiting_for_capture", "succeeded", "canceled"],
                    Kind::Refunds => &["pending", "succeeded", "canceled"],
                };
                q.status = Some(v.to_string()).filter(|s| known.contains(&s.as_str()));
                q.status.as_ref().ok_or_else(bad)?;
            }
            "limit" => {
                q.limit = v
                    .parse()
                    .ok()
                    .filter(|l| (1..=100).contains(l))
                    .ok_or_else(bad)?
            }
            "cursor" => q.offset = cursor_offset(&v).ok_or_else(bad)?,
            "payment_id" | "payment_method" | "captured_at.gte" | "captured_at.lt" => {}
            _ => return Err(invalid(&format!("Unknown parameter {k}"), &k)),
        }
    }
    Ok(q)
}

/// A cursor is opaque to clients; this fake's spells an offset (hex, masked).
const CURSOR_MASK: u64 = 0x5f3a_9c21_7e4d_b806;

fn cursor_of(offset: usize) -> String {
    format!("{:016x}", offset as u64 ^ CURSOR_MASK)
}

fn cursor_offset(cursor: &str) -> Option<usize> {
    let n = u64::from_str_radix(cursor, 16)
        .ok()
        .filter(|_| cursor.len() == 16)?;
    usize::try_from(n ^ CURSOR_MASK)
        .ok()
        .filter(|o| *o <= 1_000_000)
}

fn matches(q: &ListQuery, obj: &Value) -> bool {
    let Some(at) = obj["created_at"]
        .as_str()
        .and_then(qwen_core::payments::reconcile::time::parse_iso)
    else {
        return false;
    };
    let in_bounds = q.bounds.iter().all(|(f, ms)| match f.as_str() {
        "created_at.gte" => at >= *ms,
        "created_at.gt" => at > *ms,
        "created_at.lte" => at <= *ms,
        _ => at < *ms,
    });
    in_bounds && q.status.as_deref().is_none_or(|s| obj["status"] == s)
}

fn list(inner: &Inner, query: &str, kind: Kind) -> (u16, Value) {
    let q = match list_query(query, kind) {
        Ok(q) => q,
        Err(e) => return e,
    };
    let st = inner.lock();
    let (order, objects) = match kind {
        Kind::Payments => (&st.order, &st.payments),
        Kind::Refunds => (&st.refund_order, &st.refunds),
    };
    let all: Vec<Value> = order
        .iter()
        .rev()
        .filter_map(|id| objects.get(id))
        .filter(|o| matches(&q, o))
        .cloned()
        .collect();
    let size = st.page_size.map_or(q.limit, |n| n.min(q.limit));
    let items: Vec<Value> = all.iter().skip(q.offset).take(size).cloned().collect();
    let mut body = json!({"type": "list", "items": items});
    if q.offset + size < all.len() {
        body["next_cursor"] = cursor_of(q.offset + size).into();
    }
    (200, body)
}

/// A decimal string of roubles as kopecks (0 when absent or malformed).
fn minor(v: &Value) -> i64 {
    v.as_str()
        .and_then(qwen_core::payments::yookassa::parse_value)
        .unwrap_or(0)
}

/// Kopecks as YooKassa's decimal string.
fn money(kopecks: i64) -> String {
    qwen_core::payments::yookassa::amount_value(kopecks)
}
