//! The two Bot API calls payments make: `sendMessage` ("balance topped up") and
//! `refundStarPayment`. They are written against the HttpClient port directly because the
//! `botapi` crate depends on this crate (using it here would be a dependency cycle); the
//! token never appears in logs or errors.

use serde_json::{Value, json};

use super::Deps;
use crate::error::{CoreError, CoreResult};
use crate::ports::HttpRequest;

fn telegram_error(message: impl Into<String>, transient: bool) -> CoreError {
    CoreError::Upstream {
        service: "telegram",
        message: message.into(),
        transient,
    }
}

/// Calls Bot API `method` with JSON `params`; returns `result`.
///
/// # Errors
/// [`CoreError::Upstream`] with Telegram's description (never the token).
pub async fn call(deps: &Deps<'_>, method: &str, params: &Value) -> CoreResult<Value> {
    if deps.pay.bot_token.is_empty() {
        return Err(telegram_error(
            "telegram_bot_token is not configured",
            false,
        ));
    }
    let req = HttpRequest {
        method: "POST".into(),
        url: format!(
            "{}/bot{}/{method}",
            deps.pay.telegram_api_url, deps.pay.bot_token
        ),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: params.to_string().into_bytes(),
        timeout_ms: deps.pay.telegram_timeout_ms,
    };
    let resp = deps.http.send(req).await.map_err(|e| {
        telegram_error(
            format!(
                "{method}: {}",
                e.to_string().replace(&deps.pay.bot_token, "<token>")
            ),
            true,
        )
    })?;
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if body["ok"].as_bool() == Some(true) {
        return Ok(body["result"].clone());
    }
    let description = body["description"].as_str().unwrap_or("no description");
    Err(telegram_error(
        format!("{method}: HTTP {} {description}", resp.status),
        resp.status == 429 || resp.status >= 500,
    ))
}

/// Sends `text` to `chat_id`.
///
/// # Errors
/// As [`call`].
pub async fn send_message(deps: &Deps<'_>, chat_id: i64, text: &str) -> CoreResult<()> {
    call(
        deps,
        "sendMessage",
        &json!({ "chat_id": chat_id, "text": text }),
    )
    .await?;
    Ok(())
}

/// Refunds a Stars payment to `user_id`.
///
/// # Errors
/// As [`call`] (e.g. `CHARGE_ALREADY_REFUNDED`).
pub async fn refund_star_payment(deps: &Deps<'_>, user_id: i64, charge_id: &str) -> CoreResult<()> {
    let params = json!({ "user_id": user_id, "telegram_payment_charge_id": charge_id });
    call(deps, "refundStarPayment", &params).await?;
    Ok(())
}
