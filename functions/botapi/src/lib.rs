//! A typed Telegram Bot API client for QwenEditBot.
//!
//! It talks HTTP only through the core's [`qwen_ports::HttpClient`] port, so the same
//! code runs in the Spin components (wasm32-wasip2, `spin_sdk` outbound HTTP) and in the
//! native gpu-host (feature `native`: [`ReqwestHttp`]).
//!
//! ```ignore
//! let http = botapi::ReqwestHttp::new();
//! let api = botapi::BotApi::new(botapi::DEFAULT_BASE_URL, token, &http);
//! let sent = api.send_message(&SendMessage::new(chat_id, "Hello")).await?;
//! ```
//!
//! * Outgoing: [`BotApi`] with one method per call, parameters in [`requests`].
//! * Incoming: [`Update`] and the objects in [`types`], as posted to the webhook.
//! * Errors: [`BotApiError`], never containing the token.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod client;
pub mod error;
pub mod markup;
mod multipart;
#[cfg(feature = "native")]
pub mod native;
pub mod requests;
pub mod retry;
pub mod types;

pub use client::{
    BotApi, DEFAULT_BASE_URL, DEFAULT_FILE_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, Edited,
    TELEGRAM_DOWNLOAD_LIMIT,
};
pub use error::{BotApiError, redact_token, token_hint};
pub use markup::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ReplyParameters};
#[cfg(feature = "native")]
pub use native::ReqwestHttp;
pub use requests::{
    AnswerCallbackQuery, AnswerPreCheckoutQuery, BotCommand, BotCommandScope, ChatAction,
    EditMessageReplyMarkup, EditMessageText, LabeledPrice, ParseMode, SendDocument, SendInvoice,
    SendMessage, SendPhoto, SetMyCommands, SetWebhook,
};
pub use retry::{FloodBudget, with_retry_429};
pub use types::{
    CallbackQuery, Chat, ChatMember, ChatMemberUpdated, Document, File, Message, PhotoSize,
    PreCheckoutQuery, StarTransaction, StarTransactions, SuccessfulPayment, TransactionPartner,
    Update, User, WebhookInfo,
};
