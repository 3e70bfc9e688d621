//! Parameters of the methods the bot calls. Options are left out of the JSON when unset.

use serde::{Deserialize, Serialize};

use crate::markup::{ChatId, InlineKeyboardMarkup, InputFile, ReplyParameters};

/// How Telegram parses entities in a text or caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParseMode {
    /// `HTML`: `<b>`, `<i>`, `<a href>`, `<code>`…
    #[serde(rename = "HTML")]
    Html,
    /// `MarkdownV2`.
    MarkdownV2,
    /// Legacy `Markdown`.
    Markdown,
}

/// `sendMessage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendMessage {
    /// Target chat.
    pub chat_id: ChatId,
    /// Text, 1–4096 characters after entity parsing.
    pub text: String,
    /// How to parse `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Inline keyboard under the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    /// The message to reply to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyParameters>,
    /// Send silently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_notification: Option<bool>,
}

impl SendMessage {
    /// A plain text message.
    pub fn new(chat_id: impl Into<ChatId>, text: impl Into<String>) -> Self {
        SendMessage {
            chat_id: chat_id.into(),
            text: text.into(),
            parse_mode: None,
            reply_markup: None,
            reply_parameters: None,
            disable_notification: None,
        }
    }

    /// Sets the parse mode.
    pub fn parse_mode(mut self, mode: ParseMode) -> Self {
        self.parse_mode = Some(mode);
        self
    }

    /// Attaches an inline keyboard.
    pub fn reply_markup(mut self, markup: InlineKeyboardMarkup) -> Self {
        self.reply_markup = Some(markup);
        self
    }

    /// Replies to `message_id` (still sent if that message is gone).
    pub fn reply_to(mut self, message_id: i64) -> Self {
        self.reply_parameters = Some(ReplyParameters::to(message_id));
        self
    }
}

/// `editMessageText` of a message in a chat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditMessageText {
    /// Chat of the message.
    pub chat_id: ChatId,
    /// The message to edit.
    pub message_id: i64,
    /// New text.
    pub text: String,
    /// How to parse `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// New inline keyboard (omitted: the keyboard is removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
}

impl EditMessageText {
    /// Replace the text of `message_id` in `chat_id`.
    pub fn new(chat_id: impl Into<ChatId>, message_id: i64, text: impl Into<String>) -> Self {
        EditMessageText {
            chat_id: chat_id.into(),
            message_id,
            text: text.into(),
            parse_mode: None,
            reply_markup: None,
        }
    }

    /// Sets the parse mode.
    pub fn parse_mode(mut self, mode: ParseMode) -> Self {
        self.parse_mode = Some(mode);
        self
    }

    /// Sets the inline keyboard.
    pub fn reply_markup(mut self, markup: InlineKeyboardMarkup) -> Self {
        self.reply_markup = Some(markup);
        self
    }
}

/// `editMessageReplyMarkup` of a message in a chat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditMessageReplyMarkup {
    /// Chat of the message.
    pub chat_id: ChatId,
    /// The message to edit.
    pub message_id: i64,
    /// New keyboard; `None` removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
}

/// `answerCallbackQuery`: stops the button's spinner, optionally with a notice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerCallbackQuery {
    /// `CallbackQuery::id`.
    pub callback_query_id: String,
    /// Notice shown to the user (0–200 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Show an alert box instead of a toast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_alert: Option<bool>,
}

impl AnswerCallbackQuery {
    /// A silent answer.
    pub fn new(callback_query_id: impl Into<String>) -> Self {
        AnswerCallbackQuery {
            callback_query_id: callback_query_id.into(),
            text: None,
            show_alert: None,
        }
    }

    /// Shows `text` as a toast, or as an alert when `alert`.
    pub fn text(mut self, text: impl Into<String>, alert: bool) -> Self {
        self.text = Some(text.into());
        self.show_alert = alert.then_some(true);
        self
    }
}

/// `sendPhoto`. The photo goes by file id/URL in JSON, or as an upload in multipart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendPhoto {
    /// Target chat.
    pub chat_id: ChatId,
    /// The photo (sent under the form field `photo`).
    #[serde(skip)]
    pub photo: InputFile,
    /// Caption, 0–1024 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// How to parse `caption`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Inline keyboard under the photo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    /// The message to reply to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyParameters>,
}

impl SendPhoto {
    /// A photo without caption.
    pub fn new(chat_id: impl Into<ChatId>, photo: InputFile) -> Self {
        SendPhoto {
            chat_id: chat_id.into(),
            photo,
            caption: None,
            parse_mode: None,
            reply_markup: None,
            reply_parameters: None,
        }
    }

    /// Sets the caption.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Attaches an inline keyboard.
    pub fn reply_markup(mut self, markup: InlineKeyboardMarkup) -> Self {
        self.reply_markup = Some(markup);
        self
    }

    /// Replies to `message_id`.
    pub fn reply_to(mut self, message_id: i64) -> Self {
        self.reply_parameters = Some(ReplyParameters::to(message_id));
        self
    }
}

/// `sendDocument`: a file sent as is (no recompression), by file id/URL or upload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendDocument {
    /// Target chat.
    pub chat_id: ChatId,
    /// The file (sent under the form field `document`).
    #[serde(skip)]
    pub document: InputFile,
    /// Caption, 0–1024 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// How to parse `caption`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Inline keyboard under the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    /// The message to reply to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyParameters>,
}

impl SendDocument {
    /// A document without caption.
    pub fn new(chat_id: impl Into<ChatId>, document: InputFile) -> Self {
        SendDocument {
            chat_id: chat_id.into(),
            document,
            caption: None,
            parse_mode: None,
            reply_markup: None,
            reply_parameters: None,
        }
    }

    /// Sets the caption.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Attaches an inline keyboard.
    pub fn reply_markup(mut self, markup: InlineKeyboardMarkup) -> Self {
        self.reply_markup = Some(markup);
        self
    }

    /// Replies to `message_id`.
    pub fn reply_to(mut self, message_id: i64) -> Self {
        self.reply_parameters = Some(ReplyParameters::to(message_id));
        self
    }
}

/// What `sendChatAction` shows ("typing…", "sending photo…") for up to 5 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatAction {
    /// "typing…"
    Typing,
    /// "sending photo…"
    UploadPhoto,
    /// "sending file…"
    UploadDocument,
}

/// `setWebhook`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SetWebhook {
    /// HTTPS URL updates are posted to.
    pub url: String,
    /// Sent back in `X-Telegram-Bot-Api-Secret-Token` with every update (1–256 of
    /// `A-Z a-z 0-9 _ -`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_token: Option<String>,
    /// Update kinds to receive (e.g. `message`, `callback_query`, `pre_checkout_query`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_updates: Option<Vec<String>>,
    /// Drop updates that are waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_pending_updates: Option<bool>,
    /// Simultaneous HTTPS connections for delivery, 1–100 (default 40).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
}

/// A command in the bot's menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotCommand {
    /// 1–32 characters: lowercase letters, digits and underscores, without `/`.
    pub command: String,
    /// 1–256 characters.
    pub description: String,
}

impl BotCommand {
    /// A command and its description.
    pub fn new(command: impl Into<String>, description: impl Into<String>) -> Self {
        BotCommand {
            command: command.into(),
            description: description.into(),
        }
    }
}

/// Where a command list applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BotCommandScope {
    /// Every chat without a narrower list.
    Default,
    /// All private chats.
    AllPrivateChats,
    /// All groups and supergroups.
    AllGroupChats,
    /// All group administrators.
    AllChatAdministrators,
    /// One chat.
    Chat {
        /// The chat.
        chat_id: ChatId,
    },
}

/// `setMyCommands`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetMyCommands {
    /// The commands, at most 100.
    pub commands: Vec<BotCommand>,
    /// Where they apply (default: everywhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<BotCommandScope>,
    /// Two-letter language code; empty means all users without a dedicated list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
}

/// A price line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabeledPrice {
    /// Label of the line.
    pub label: String,
    /// Amount in the smallest units (for XTR: stars).
    pub amount: i64,
}

/// `sendInvoice`. For Telegram Stars use [`SendInvoice::stars`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendInvoice {
    /// Target chat.
    pub chat_id: ChatId,
    /// Product name, 1–32 characters.
    pub title: String,
    /// Product description, 1–255 characters.
    pub description: String,
    /// Bot-defined payload, 1–128 bytes, returned in the pre-checkout and payment.
    pub payload: String,
    /// Payment provider token; omitted for Telegram Stars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_token: Option<String>,
    /// Three-letter currency code; `XTR` for Stars.
    pub currency: String,
    /// Price lines (exactly one for Stars).
    pub prices: Vec<LabeledPrice>,
    /// Deep-link parameter; when set, forwarded invoices get a "Pay" button.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_parameter: Option<String>,
    /// Product photo URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    /// Inline keyboard; its first button must be a pay button.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
}

impl SendInvoice {
    /// An invoice of `stars` Telegram Stars (currency `XTR`, no provider token).
    pub fn stars(
        chat_id: impl Into<ChatId>,
        title: impl Into<String>,
        description: impl Into<String>,
        payload: impl Into<String>,
        stars: i64,
    ) -> Self {
        let title = title.into();
        SendInvoice {
            chat_id: chat_id.into(),
            prices: vec![LabeledPrice {
                label: title.clone(),
                amount: stars,
            }],
            title,
            description: description.into(),
            payload: payload.into(),
            provider_token: None,
            currency: "XTR".to_owned(),
            start_parameter: None,
            photo_url: None,
            reply_markup: None,
        }
    }
}

/// `answerPreCheckoutQuery`: must be sent within 10 seconds of the query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerPreCheckoutQuery {
    /// `PreCheckoutQuery::id`.
    pub pre_checkout_query_id: String,
    /// Whether the order may proceed.
    pub ok: bool,
    /// Why not, shown to the user (required when `ok` is false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl AnswerPreCheckoutQuery {
    /// Accept the checkout.
    pub fn accept(id: impl Into<String>) -> Self {
        AnswerPreCheckoutQuery {
            pre_checkout_query_id: id.into(),
            ok: true,
            error_message: None,
        }
    }

    /// Refuse the checkout, telling the user why.
    pub fn refuse(id: impl Into<String>, message: impl Into<String>) -> Self {
        AnswerPreCheckoutQuery {
            pre_checkout_query_id: id.into(),
            ok: false,
            error_message: Some(message.into()),
        }
    }
}
