//! The YooKassa notification webhook (`POST /webhooks/yookassa`).
//!
//! YooKassa signs nothing, so a notification is only a hint: the source address may be
//! checked against an allowlist, and the payment (or refund) is always re-fetched from
//! YooKassa; only that answer is trusted. Answers: 200 for everything handled or ignored
//! (unknown ids, mismatches, forgeries — logged with `payment_id`), 5xx only when YooKassa or
//! our storage is unreachable, so that YooKassa redelivers.

use serde::Deserialize;
use serde_json::{Value, json};

use super::yookassa::{self, YkPayment};
use super::{Deps, Payment, allowlist, ops, store};
use crate::error::{CoreError, CoreResult};
use crate::http::{self, Request};
use crate::ports::{HttpResponse, SqlError};

/// A notification body: `{"type":"notification","event":"payment.succeeded","object":{…}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    /// `notification`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `payment.succeeded`, `payment.canceled`, `refund.succeeded`, …
    pub event: String,
    /// The payment or refund object.
    pub object: Value,
}

/// Handles one webhook request. Never panics.
pub async fn handle(deps: &Deps<'_>, req: &Request) -> HttpResponse {
    if !req.method.eq_ignore_ascii_case("POST") {
        return http::error(405, "method_not_allowed", "POST only");
    }
    let source = req.last_header(&deps.pay.client_ip_header);
    if !allowlist::allowed(&deps.pay.allowed_ips, source) {
        let claimed = Claimed::of(&req.body);
        tracing::warn!(
            source = source.unwrap_or("-"),
            payment_id = claimed.payment_id,
            provider_id = claimed.provider_id,
            event = claimed.event,
            "yookassa notification from a disallowed address"
        );
        return http::error(403, "forbidden_source", "source address not allowed");
    }
    let note: Notification = match serde_json::from_slice(&req.body) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "malformed yookassa notification");
            return http::error(400, "malformed_notification", "not a YooKassa notification");
        }
    };
    if let Err(e) = crate::db::ensure_ready(deps.sql, deps.clock.now_ms()).await {
        return answer_error(&note, CoreError::Storage(e));
    }
    match process(deps, &note).await {
        Ok(outcome) => http::json(200, &json!({ "status": outcome })),
        Err(e) => answer_error(&note, e),
    }
}

/// The ids an untrusted body claims (for the log line only).
#[derive(Debug, Default)]
struct Claimed {
    payment_id: Option<String>,
    provider_id: Option<String>,
    event: Option<String>,
}

impl Claimed {
    fn of(body: &[u8]) -> Claimed {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return Claimed::default();
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let object = v.get("object");
        Claimed {
            payment_id: text(object.and_then(|o| o.pointer("/metadata/payment_id"))),
            provider_id: text(object.and_then(|o| o.get("id"))),
            event: text(v.get("event")),
        }
    }
}

fn is_transient(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::Upstream {
            transient: true,
            ..
        } | CoreError::Storage(SqlError::Unavailable(_))
            | CoreError::Storage(SqlError::Other(_))
    )
}

fn answer_error(note: &Notification, e: CoreError) -> HttpResponse {
    let id = note.object.get("id").and_then(Value::as_str).unwrap_or("");
    if is_transient(&e) {
        tracing::error!(provider_id = %id, event = %note.event, error = %e, "notification not processed, YooKassa will redeliver");
        return http::error(503, "temporarily_unavailable", "try again later");
    }
    tracing::warn!(provider_id = %id, event = %note.event, error = %e, "notification ignored");
    http::json(200, &json!({ "status": "ignored" }))
}

/// Applies a notification; returns what happened (`credited`, `duplicate`, `canceled`,
/// `refunded`, `unknown`, `mismatch`, `ignored`).
///
/// # Errors
/// Transient failures (YooKassa or storage unreachable) and non-transient upstream errors.
pub async fn process(deps: &Deps<'_>, note: &Notification) -> CoreResult<&'static str> {
    let text = |k: &str| {
        note.object
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if note.kind != "notification" && !note.kind.is_empty() {
        return Ok("ignored");
    }
    match note.event.as_str() {
        "payment.succeeded" => payment_succeeded(deps, &text("id")).await,
        "payment.canceled" => payment_canceled(deps, &text("id")).await,
        "refund.succeeded" => refund_succeeded(deps, &text("id")).await,
        other => {
            tracing::info!(event = %other, "yookassa event ignored");
            Ok("ignored")
        }
    }
}

async fn our_row(deps: &Deps<'_>, provider_id: &str) -> CoreResult<Option<Payment>> {
    let row = store::by_provider_id(deps.sql, provider_id).await?;
    if row.is_none() {
        tracing::warn!(provider_id = %provider_id, "notification for an unknown payment");
    }
    Ok(row)
}

pub(crate) async fn payment_succeeded(
    deps: &Deps<'_>,
    provider_id: &str,
) -> CoreResult<&'static str> {
    let Some(row) = our_row(deps, provider_id).await? else {
        return Ok("unknown");
    };
    let fetched = yookassa::get_payment(deps, provider_id).await?;
    if let Err(reason) = verify_identity(&row, &fetched) {
        tracing::warn!(payment_id = %row.id, user_id = row.user_id, provider_id = %provider_id, %reason, "not credited: re-fetched payment does not confirm the notification");
        return Ok("mismatch");
    }
    if !row.status.is_open() {
        // Already closed: the guarded update would change nothing; skip the write lock.
        tracing::info!(payment_id = %row.id, status = %row.status, "duplicate notification");
        return Ok("duplicate");
    }
    let refunded = fetched.refunded_minor();
    if fetched.status == "succeeded" && refunded > 0 {
        return refunded_before_credit(deps, &row, None, refunded).await;
    }
    if let Err(reason) = verify(&row, &fetched) {
        tracing::warn!(payment_id = %row.id, user_id = row.user_id, provider_id = %provider_id, %reason, "not credited: re-fetched payment does not confirm the notification");
        return Ok("mismatch");
    }
    let credited = ops::credit(deps, &row, &fetched.status, None).await?;
    Ok(if credited { "credited" } else { "duplicate" })
}

/// A payment refunded (in part or whole) at YooKassa before we credited it: recorded as
/// `refunded`, never credited.
async fn refunded_before_credit(
    deps: &Deps<'_>,
    row: &Payment,
    refund_id: Option<&str>,
    refunded: i64,
) -> CoreResult<&'static str> {
    let now = deps.clock.now_ms();
    let done = store::mark_refunded_uncredited(deps.sql, &row.id, refund_id, refunded, now).await?;
    tracing::warn!(payment_id = %row.id, user_id = row.user_id, refunded, changed = done.is_some(), "refunded at YooKassa before it was credited: recorded as refunded, not credited");
    Ok(if done.is_some() {
        "refunded"
    } else {
        "duplicate"
    })
}

/// Checks a re-fetched payment against our row: same id, amount, currency and metadata.
///
/// # Errors
/// What does not match, for the log.
pub fn verify_identity(row: &Payment, f: &YkPayment) -> Result<(), String> {
    let meta = |k: &str| {
        f.metadata
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if row.provider_payment_id.as_deref() != Some(f.id.as_str()) {
        return Err(format!("provider id {}", f.id));
    }
    if yookassa::parse_value(&f.amount.value) != Some(row.amount)
        || f.amount.currency != row.currency.as_str()
    {
        return Err(format!(
            "amount {} {} but ours is {} {}",
            f.amount.value,
            f.amount.currency,
            yookassa::amount_value(row.amount),
            row.currency
        ));
    }
    if meta("payment_id") != row.id || meta("telegram_id") != row.user_id.to_string() {
        return Err("metadata differs".into());
    }
    Ok(())
}

/// Checks a re-fetched payment before crediting it: succeeded, paid, nothing refunded, and
/// [`verify_identity`].
///
/// # Errors
/// What does not match, for the log.
pub fn verify(row: &Payment, f: &YkPayment) -> Result<(), String> {
    if f.status != "succeeded" || !f.paid {
        return Err(format!("status {} paid {}", f.status, f.paid));
    }
    if f.refunded_minor() > 0 {
        return Err(format!(
            "refunded {} at YooKassa",
            yookassa::amount_value(f.refunded_minor())
        ));
    }
    verify_identity(row, f)
}

async fn payment_canceled(deps: &Deps<'_>, provider_id: &str) -> CoreResult<&'static str> {
    let Some(row) = our_row(deps, provider_id).await? else {
        return Ok("unknown");
    };
    let fetched = yookassa::get_payment(deps, provider_id).await?;
    if fetched.status != "canceled" {
        tracing::warn!(payment_id = %row.id, status = %fetched.status, "cancel notification not confirmed by YooKassa");
        return Ok("mismatch");
    }
    settle_canceled(deps, &row, &fetched).await?;
    Ok("canceled")
}

/// Marks our payment canceled as YooKassa confirmed it, and tells the payer why (once: only
/// the call that changed it).
///
/// # Errors
/// Storage errors.
pub async fn settle_canceled(
    deps: &Deps<'_>,
    row: &Payment,
    fetched: &YkPayment,
) -> CoreResult<bool> {
    let reason = fetched
        .cancellation_details
        .as_ref()
        .map(|d| d.reason.clone())
        .unwrap_or_default();
    let note = format!("canceled by YooKassa ({reason})");
    let changed = store::mark_canceled(deps.sql, &row.id, &note, deps.clock.now_ms()).await?;
    tracing::info!(payment_id = %row.id, user_id = row.user_id, changed, reason = %reason, "payment canceled");
    if changed {
        super::notify::canceled(deps, row, &reason).await;
    }
    Ok(changed)
}

async fn refund_succeeded(deps: &Deps<'_>, refund_id: &str) -> CoreResult<&'static str> {
    let refund = yookassa::get_refund(deps, refund_id).await?;
    if refund.status != "succeeded" {
        tracing::warn!(refund_id = %refund_id, status = %refund.status, "refund notification not confirmed by YooKassa");
        return Ok("mismatch");
    }
    let Some(row) = our_row(deps, &refund.payment_id).await? else {
        return Ok("unknown");
    };
    let Some(amount) = yookassa::parse_value(&refund.amount.value) else {
        tracing::warn!(payment_id = %row.id, refund_id = %refund.id, "refund amount unreadable");
        return Ok("mismatch");
    };
    if row.status.is_open() {
        return refunded_before_credit(deps, &row, Some(&refund.id), amount).await;
    }
    let done = ops::take_back(deps, &row, &refund.id, amount, None).await?;
    Ok(if done { "refunded" } else { "duplicate" })
}
