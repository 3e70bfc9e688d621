//! The bot's Telegram client as payments use it, and the payer's language.

use botapi::{BotApi, BotApiError};

use super::model::Deps;
use crate::error::{CoreError, CoreResult};
use crate::ports::HttpClient;

/// The bot's Telegram client (the one Bot API client, `botapi`, over the HTTP port) for the
/// two calls payments make: the "balance topped up" message and Stars refunds.
///
/// # Errors
/// [`CoreError::Upstream`] when no bot token is configured.
pub(crate) fn bot<'a>(deps: &'a Deps<'a>) -> CoreResult<BotApi<&'a dyn HttpClient>> {
    if deps.pay.bot_token.is_empty() {
        return Err(telegram_error(
            "telegram_bot_token is not configured",
            false,
        ));
    }
    Ok(
        BotApi::new(&deps.pay.telegram_api_url, &deps.pay.bot_token, deps.http)
            .with_timeout_ms(deps.pay.telegram_timeout_ms),
    )
}

/// A Bot API failure as a core error (the client redacts the token from every message).
pub(crate) fn from_bot_api(method: &str, e: &BotApiError) -> CoreError {
    telegram_error(format!("{method}: {e}"), e.is_retryable())
}

/// The payer's language (Russian when the user is unknown or unreadable).
pub(crate) async fn payer_language(deps: &Deps<'_>, user_id: i64) -> crate::contract::Language {
    match crate::users::get(deps.sql, crate::contract::UserId(user_id)).await {
        Ok(u) => u.language(),
        Err(_) => crate::contract::Language::Ru,
    }
}

fn telegram_error(message: impl Into<String>, transient: bool) -> CoreError {
    CoreError::Upstream {
        service: "telegram",
        message: message.into(),
        transient,
    }
}
