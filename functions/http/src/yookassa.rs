//! The HTTP side of the YooKassa notification webhook (`POST /webhooks/yookassa`; what a
//! notification does is `qwen_core::payments::webhook::process`).
//!
//! YooKassa signs nothing, so a notification is only a hint: the source address may be
//! checked against an allowlist, and the payment (or refund) is always re-fetched from
//! YooKassa; only that answer is trusted. Answers: 200 for everything handled or ignored
//! (unknown ids, mismatches, forgeries — logged with `payment_id`), 5xx only when YooKassa or
//! our storage is unreachable, so that YooKassa redelivers.

use serde_json::Value;

use crate::bodies::NotificationOutcome;
use crate::request::{self, Request};
use qwen_core::error::CoreError;
use qwen_core::payments::webhook::{Notification, process};
use qwen_core::payments::{Deps, allowlist};
use qwen_core::ports::{HttpResponse, SqlError};

/// Handles one webhook request. Never panics.
pub async fn handle(deps: &Deps<'_>, req: &Request) -> HttpResponse {
    if !req.method.eq_ignore_ascii_case("POST") {
        return request::error(405, "method_not_allowed", "POST only");
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
        return request::error(403, "forbidden_source", "source address not allowed");
    }
    let note: Notification = match serde_json::from_slice(&req.body) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "malformed yookassa notification");
            return request::error(400, "malformed_notification", "not a YooKassa notification");
        }
    };
    if let Err(e) = qwen_core::setup::ensure_ready(deps.sql, deps.clock.now_ms()).await {
        return answer_error(&note, CoreError::Storage(e));
    }
    match process(deps, &note).await {
        Ok(outcome) => request::json(200, &NotificationOutcome { status: outcome }),
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
        return request::error(503, "temporarily_unavailable", "try again later");
    }
    tracing::warn!(provider_id = %id, event = %note.event, error = %e, "notification ignored");
    request::json(200, &NotificationOutcome { status: "ignored" })
}
