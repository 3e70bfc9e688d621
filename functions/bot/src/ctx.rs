//! What the bot needs for one request: the core's ports and the configuration, plus the
//! core's view of a Telegram user. A leaf below the webhook and the effects.

use qwen_core::payments::{self, PaymentSettings};
use qwen_core::ports::{Clock, HttpClient, KeyValue, Queue, Sleep, Sql};
use qwen_core::settings::Settings;
use qwen_core::users;

use crate::settings::BotSettings;

/// What the webhook needs for one request.
pub struct Ctx<'a> {
    /// The database connection for this request.
    pub sql: &'a dyn Sql,
    /// The key-value store (dialog state).
    pub kv: &'a dyn KeyValue,
    /// The jobs stream.
    pub queue: &'a dyn Queue,
    /// Outbound HTTP (the Bot API).
    pub http: &'a dyn HttpClient,
    /// The time.
    pub clock: &'a dyn Clock,
    /// Waiting out Telegram's flood control (`retry_after`).
    pub sleep: &'a dyn Sleep,
    /// Core configuration.
    pub settings: &'a Settings,
    /// Bot configuration.
    pub bot: &'a BotSettings,
    /// Payment configuration (packages, YooKassa, the "topped up" message).
    pub pay: &'a PaymentSettings,
}

/// The payment dependencies of this request.
pub fn deps<'a>(ctx: &'a Ctx<'a>) -> payments::Deps<'a> {
    payments::Deps {
        sql: ctx.sql,
        http: ctx.http,
        clock: ctx.clock,
        settings: ctx.settings,
        pay: ctx.pay,
    }
}

/// The core's view of a Telegram user.
pub fn user_input(from: &botapi::User) -> users::UserInput {
    users::UserInput {
        telegram_id: from.id,
        username: from.username.clone(),
        first_name: Some(from.first_name.clone()),
        last_name: from.last_name.clone(),
        language_code: from.language_code.clone(),
    }
}
