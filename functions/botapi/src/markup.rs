//! Values shared by requests and incoming objects: chat ids, inline keyboards, input files.

use serde::{Deserialize, Serialize};

/// Target chat: a numeric id, or `@channelusername`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatId {
    /// Numeric chat id (users are positive, groups negative).
    Id(i64),
    /// `@channelusername`.
    Username(String),
}

impl From<i64> for ChatId {
    fn from(id: i64) -> Self {
        ChatId::Id(id)
    }
}

impl From<&str> for ChatId {
    fn from(name: &str) -> Self {
        ChatId::Username(name.to_owned())
    }
}

/// One button of an inline keyboard: it sends `callback_data` back, or opens `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineKeyboardButton {
    /// Label shown on the button.
    pub text: String,
    /// Data (1–64 bytes) sent back in a callback query when pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// URL opened when pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `true` on the first button of an invoice message: the "Pay" button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay: Option<bool>,
}

impl InlineKeyboardButton {
    /// A button that sends `data` back as a callback query.
    pub fn callback(text: impl Into<String>, data: impl Into<String>) -> Self {
        InlineKeyboardButton {
            text: text.into(),
            callback_data: Some(data.into()),
            url: None,
            pay: None,
        }
    }

    /// A button that opens `url`.
    pub fn url(text: impl Into<String>, url: impl Into<String>) -> Self {
        InlineKeyboardButton {
            text: text.into(),
            callback_data: None,
            url: Some(url.into()),
            pay: None,
        }
    }
}

/// An inline keyboard attached to a message: rows of buttons.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InlineKeyboardMarkup {
    /// Rows, top to bottom; each row left to right.
    pub inline_keyboard: Vec<Vec<InlineKeyboardButton>>,
}

impl InlineKeyboardMarkup {
    /// A keyboard with the given rows.
    pub fn new(rows: Vec<Vec<InlineKeyboardButton>>) -> Self {
        InlineKeyboardMarkup {
            inline_keyboard: rows,
        }
    }

    /// A keyboard with one button per row.
    pub fn column(buttons: Vec<InlineKeyboardButton>) -> Self {
        InlineKeyboardMarkup::new(buttons.into_iter().map(|b| vec![b]).collect())
    }
}

/// Which message a new one replies to (`reply_parameters`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyParameters {
    /// The message replied to.
    pub message_id: i64,
    /// Send anyway if that message is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_sending_without_reply: Option<bool>,
}

impl ReplyParameters {
    /// Reply to `message_id`, and still send when it was deleted.
    pub fn to(message_id: i64) -> Self {
        ReplyParameters {
            message_id,
            allow_sending_without_reply: Some(true),
        }
    }
}

/// A file to send: one Telegram already has, one it should fetch, or bytes to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFile {
    /// A `file_id` of a file on Telegram's servers.
    FileId(String),
    /// An HTTP URL Telegram downloads itself.
    Url(String),
    /// Bytes uploaded with multipart/form-data.
    Upload {
        /// File name shown to the user (documents) and sent in the form part.
        filename: String,
        /// MIME type of the part, e.g. `image/png`.
        content_type: String,
        /// The file's content.
        bytes: Vec<u8>,
    },
}

impl InputFile {
    /// Upload `bytes` as `filename` with MIME type `content_type`.
    pub fn upload(
        filename: impl Into<String>,
        content_type: impl Into<String>,
        bytes: Vec<u8>,
    ) -> Self {
        InputFile::Upload {
            filename: filename.into(),
            content_type: content_type.into(),
            bytes,
        }
    }

    /// The string Telegram expects in a JSON request, when this is not an upload.
    pub(crate) fn as_reference(&self) -> Option<&str> {
        match self {
            InputFile::FileId(s) | InputFile::Url(s) => Some(s),
            InputFile::Upload { .. } => None,
        }
    }
}
