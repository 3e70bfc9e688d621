//! Objects Telegram sends: webhook updates and method results.
//!
//! Field names follow the Bot API documentation. Unknown fields are ignored, and kinds of
//! content this bot does not handle (stickers, voice…) are kept as opaque JSON so that
//! every update parses.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::markup::InlineKeyboardMarkup;

/// One incoming update, as posted to the webhook. At most one of the optional fields is set;
/// an update of a kind not listed here parses with all of them `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Update {
    /// Unique, increasing update id (use it to drop duplicates).
    pub update_id: i64,
    /// A new message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// A new version of a message that was edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_message: Option<Message>,
    /// A new channel post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_post: Option<Message>,
    /// A pressed inline keyboard button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_query: Option<CallbackQuery>,
    /// A checkout about to be paid: answer it within 10 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_checkout_query: Option<PreCheckoutQuery>,
    /// The bot's own membership changed (e.g. the user blocked or unblocked it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_chat_member: Option<ChatMemberUpdated>,
    /// Another member's status changed (only when asked for in `allowed_updates`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_member: Option<ChatMemberUpdated>,
    /// An inline query, kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_query: Option<Value>,
}

impl Update {
    /// The chat this update happened in, when it has one.
    pub fn chat_id(&self) -> Option<i64> {
        if let Some(m) = self.any_message() {
            return Some(m.chat.id);
        }
        if let Some(q) = &self.callback_query {
            return q.message.as_ref().map(|m| m.chat.id);
        }
        self.my_chat_member
            .as_ref()
            .or(self.chat_member.as_ref())
            .map(|m| m.chat.id)
    }

    /// The user who caused this update, when known.
    pub fn from(&self) -> Option<&User> {
        if let Some(m) = self.any_message() {
            return m.from.as_ref();
        }
        if let Some(q) = &self.callback_query {
            return Some(&q.from);
        }
        if let Some(q) = &self.pre_checkout_query {
            return Some(&q.from);
        }
        self.my_chat_member
            .as_ref()
            .or(self.chat_member.as_ref())
            .map(|m| &m.from)
    }

    /// `message`, `edited_message` or `channel_post`, whichever is set.
    pub fn any_message(&self) -> Option<&Message> {
        self.message
            .as_ref()
            .or(self.edited_message.as_ref())
            .or(self.channel_post.as_ref())
    }
}

/// A Telegram user or bot.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct User {
    /// Unique identifier.
    pub id: i64,
    /// Whether this is a bot.
    #[serde(default)]
    pub is_bot: bool,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Username, without `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// IETF language tag of the user's client (e.g. `ru`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
}

/// A chat: private, group, supergroup or channel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Chat {
    /// Unique identifier.
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Title, for groups and channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Username, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// First name of the other party in a private chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name of the other party in a private chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// One size of a photo.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PhotoSize {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Id that is the same over time and across bots; cannot be used to download.
    #[serde(default)]
    pub file_unique_id: String,
    /// Width in pixels.
    #[serde(default)]
    pub width: u32,
    /// Height in pixels.
    #[serde(default)]
    pub height: u32,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
}

/// A general file (a photo sent "as a file" arrives as one).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Document {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Id that is the same over time and across bots.
    #[serde(default)]
    pub file_unique_id: String,
    /// Original file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// MIME type as given by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
}

/// A message. Content this bot does not use is kept as opaque JSON.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Message {
    /// Identifier inside the chat.
    pub message_id: i64,
    /// Sender; empty for channel posts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<User>,
    /// Unix time it was sent (0 for an inaccessible message in a callback query).
    #[serde(default)]
    pub date: i64,
    /// The chat it belongs to.
    pub chat: Chat,
    /// Unix time it was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_date: Option<i64>,
    /// The message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_message: Option<Box<Message>>,
    /// Shared by the messages of one album.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_group_id: Option<String>,
    /// Text of a text message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Caption of a photo, document…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Available sizes of a photo, smallest first (empty when not a photo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photo: Vec<PhotoSize>,
    /// A general file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    /// A completed payment (service message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_payment: Option<SuccessfulPayment>,
    /// An invoice (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<Value>,
    /// Inline keyboard attached to the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    /// Special entities in the text (commands, links…), opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entities: Option<Value>,
    /// A sticker (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<Value>,
    /// A voice note (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<Value>,
    /// A video (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<Value>,
    /// An animation/GIF (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animation: Option<Value>,
    /// An audio file (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Value>,
    /// A round video note (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_note: Option<Value>,
    /// A shared contact (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Value>,
    /// A shared location (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Value>,
}

impl Message {
    /// The `file_id` of the largest size of the photo, when this is a photo.
    pub fn largest_photo(&self) -> Option<&PhotoSize> {
        self.photo
            .iter()
            .max_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.file_size))
    }

    /// The command at the start of the text (`/start@bot arg` → `start`), when any.
    pub fn command(&self) -> Option<&str> {
        let first = self.text.as_deref()?.split_whitespace().next()?;
        let cmd = first.strip_prefix('/')?;
        Some(cmd.split('@').next().unwrap_or(cmd))
    }
}

/// A pressed inline keyboard button.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallbackQuery {
    /// Id to pass to `answerCallbackQuery`.
    pub id: String,
    /// Who pressed it.
    pub from: User,
    /// The message the button belongs to (an inaccessible one has `date` 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// For buttons of inline-mode messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_message_id: Option<String>,
    /// Global identifier of the chat the message was in.
    #[serde(default)]
    pub chat_instance: String,
    /// The button's `callback_data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// A checkout about to be paid.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PreCheckoutQuery {
    /// Id to pass to `answerPreCheckoutQuery`.
    pub id: String,
    /// The paying user.
    pub from: User,
    /// Three-letter currency code, `XTR` for Telegram Stars.
    pub currency: String,
    /// Total in the smallest units (for XTR: stars).
    pub total_amount: i64,
    /// The bot's `payload` of the invoice.
    pub invoice_payload: String,
    /// Chosen shipping option, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_option_id: Option<String>,
    /// Order info the user gave (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_info: Option<Value>,
}

/// A completed payment, in a service message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SuccessfulPayment {
    /// Three-letter currency code, `XTR` for Telegram Stars.
    pub currency: String,
    /// Total in the smallest units (for XTR: stars).
    pub total_amount: i64,
    /// The bot's `payload` of the invoice.
    pub invoice_payload: String,
    /// Telegram's payment id (needed to refund Stars).
    pub telegram_payment_charge_id: String,
    /// The provider's payment id (empty for Stars).
    #[serde(default)]
    pub provider_payment_charge_id: String,
    /// Expiry of a subscription, Unix time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_expiration_date: Option<i64>,
    /// Whether this is a recurring payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_recurring: Option<bool>,
    /// Whether this is the first payment of a subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_first_recurring: Option<bool>,
}

/// A member's status in a chat.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatMember {
    /// `creator`, `administrator`, `member`, `restricted`, `left` or `kicked`.
    pub status: String,
    /// The member.
    pub user: User,
    /// Until when a restriction or ban lasts, Unix time (0 = forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_date: Option<i64>,
}

/// A change of a chat member's status (`my_chat_member`: the bot's own, e.g. `kicked` when a
/// user blocks the bot, `member` when they unblock it).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatMemberUpdated {
    /// The chat.
    pub chat: Chat,
    /// Who made the change.
    pub from: User,
    /// Unix time of the change.
    pub date: i64,
    /// Status before.
    pub old_chat_member: ChatMember,
    /// Status after.
    pub new_chat_member: ChatMember,
}

/// A file ready to download with `download_file` (the link is valid for at least an hour).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct File {
    /// Id to download or resend the file.
    pub file_id: String,
    /// Id that is the same over time and across bots.
    #[serde(default)]
    pub file_unique_id: String,
    /// Size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    /// Path for `{base}/file/bot<token>/<file_path>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
}

/// The current webhook's status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WebhookInfo {
    /// Webhook URL; empty when none is set.
    #[serde(default)]
    pub url: String,
    /// Whether a self-signed certificate was given.
    #[serde(default)]
    pub has_custom_certificate: bool,
    /// Updates waiting to be delivered.
    #[serde(default)]
    pub pending_update_count: i64,
    /// IP address used for the webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Unix time of the last delivery error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_date: Option<i64>,
    /// Text of the last delivery error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_message: Option<String>,
    /// Maximum simultaneous connections for delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Update kinds subscribed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_updates: Option<Vec<String>>,
}

/// A page of the bot's Telegram Star transactions (`getStarTransactions`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StarTransactions {
    /// The transactions, in chronological order.
    pub transactions: Vec<StarTransaction>,
}

/// One Telegram Star transaction. An incoming payment's `id` is the payment's
/// `telegram_payment_charge_id`; a refund carries the id of the transaction it refunds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StarTransaction {
    /// Unique id (see above).
    pub id: String,
    /// Whole stars transferred.
    pub amount: i64,
    /// Billionths of a star on top of `amount` (0–999999999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nanostar_amount: Option<i64>,
    /// When it was made, Unix time (seconds).
    pub date: i64,
    /// Who paid (incoming transactions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<TransactionPartner>,
    /// Who was paid (outgoing transactions only, e.g. a refund to a user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<TransactionPartner>,
}

/// The other side of a Star transaction. Only the `user` kind is read field by field; the
/// others (`fragment`, `telegram_ads`, `other`, …) keep just their `type`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TransactionPartner {
    /// `user`, `chat`, `affiliate_program`, `fragment`, `telegram_ads`, `telegram_api`, `other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `user`: `invoice_payment`, `paid_media_payment`, `gift_purchase`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_type: Option<String>,
    /// For `user`: the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// For `user` and `invoice_payment`: the bot's invoice payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_payload: Option<String>,
}
