//! The client: one typed method per Bot API call, over the core's `HttpClient` port.

use std::fmt;
use std::ops::Deref;

use qwen_ports::{HttpClient, HttpRequest, HttpResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{BotApiError, error_from_answer, redact_http_error, redact_token, token_hint};
use crate::markup::{ChatId, InputFile};
use crate::multipart::{self, FilePart};
use crate::requests::{
    AnswerCallbackQuery, AnswerPreCheckoutQuery, BotCommand, ChatAction, EditMessageReplyMarkup,
    EditMessageText, SendDocument, SendInvoice, SendMessage, SendPhoto, SetMyCommands, SetWebhook,
};
use crate::types::{File, Message, StarTransactions, User, WebhookInfo};

/// Telegram's public Bot API server.
pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";

/// The largest file a bot may download from Telegram's cloud (20 MB).
pub const TELEGRAM_DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// Default timeout of a method call, milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Default timeout of an upload or a download, milliseconds.
pub const DEFAULT_FILE_TIMEOUT_MS: u64 = 120_000;

/// Outcome of an edit. A [`BotApiError::NotModified`] answer is folded into
/// [`Edited::NotModified`], so callers that do not care can treat every `Ok` alike.
#[derive(Debug, Clone, PartialEq)]
pub enum Edited {
    /// The edited message.
    Message(Box<Message>),
    /// Telegram answered `true` (messages sent via inline mode).
    Done,
    /// The new content equals the current one; nothing changed.
    NotModified,
}

/// A Bot API client for one bot.
///
/// `H` is anything that dereferences to an [`HttpClient`]: `&dyn HttpClient`, `&MyClient`,
/// `Box<MyClient>`, `Arc<dyn HttpClient>`… Futures are not `Send`, like the port's.
///
/// The token is kept private: `Debug` shows only its first characters, and every error is
/// redacted before it is returned or logged.
pub struct BotApi<H> {
    base: String,
    token: String,
    http: H,
    timeout_ms: u64,
    file_timeout_ms: u64,
}

impl<H> fmt::Debug for BotApi<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotApi")
            .field("base", &self.base)
            .field("token", &token_hint(&self.token))
            .field("timeout_ms", &self.timeout_ms)
            .field("file_timeout_ms", &self.file_timeout_ms)
            .finish_non_exhaustive()
    }
}

impl<H> BotApi<H>
where
    H: Deref,
    H::Target: HttpClient,
{
    /// A client for the bot `token` at `base_url` (e.g. [`DEFAULT_BASE_URL`], or a loopback
    /// fake in tests). A trailing `/` on the base is ignored.
    pub fn new(base_url: impl Into<String>, token: impl Into<String>, http: H) -> Self {
        let base = base_url.into().trim_end_matches('/').to_owned();
        BotApi {
            base,
            token: token.into(),
            http,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            file_timeout_ms: DEFAULT_FILE_TIMEOUT_MS,
        }
    }

    /// Sets the timeout of method calls (milliseconds).
    pub fn with_timeout_ms(mut self, ms: u64) -> Self {
        self.timeout_ms = ms;
        self
    }

    /// Sets the timeout of uploads and downloads (milliseconds).
    pub fn with_file_timeout_ms(mut self, ms: u64) -> Self {
        self.file_timeout_ms = ms;
        self
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `getMe`: the bot's own user.
    pub async fn get_me(&self) -> Result<User, BotApiError> {
        self.call("getMe", &Map::new()).await
    }

    /// `sendMessage`.
    pub async fn send_message(&self, req: &SendMessage) -> Result<Message, BotApiError> {
        self.call("sendMessage", req).await
    }

    /// `editMessageText`. "Message is not modified" is `Ok(Edited::NotModified)`.
    pub async fn edit_message_text(&self, req: &EditMessageText) -> Result<Edited, BotApiError> {
        self.edit("editMessageText", req).await
    }

    /// `editMessageReplyMarkup`. "Message is not modified" is `Ok(Edited::NotModified)`.
    pub async fn edit_message_reply_markup(
        &self,
        req: &EditMessageReplyMarkup,
    ) -> Result<Edited, BotApiError> {
        self.edit("editMessageReplyMarkup", req).await
    }

    /// `deleteMessage`.
    pub async fn delete_message(
        &self,
        chat_id: impl Into<ChatId>,
        message_id: i64,
    ) -> Result<bool, BotApiError> {
        let params = serde_json::json!({ "chat_id": chat_id.into(), "message_id": message_id });
        self.call("deleteMessage", &params).await
    }

    /// `answerCallbackQuery`.
    pub async fn answer_callback_query(
        &self,
        req: &AnswerCallbackQuery,
    ) -> Result<bool, BotApiError> {
        self.call("answerCallbackQuery", req).await
    }

    /// `sendPhoto`: JSON for a file id/URL, multipart/form-data for an upload.
    pub async fn send_photo(&self, req: &SendPhoto) -> Result<Message, BotApiError> {
        self.call_with_file("sendPhoto", req, "photo", &req.photo)
            .await
    }

    /// `sendDocument`: JSON for a file id/URL, multipart/form-data for an upload.
    pub async fn send_document(&self, req: &SendDocument) -> Result<Message, BotApiError> {
        self.call_with_file("sendDocument", req, "document", &req.document)
            .await
    }

    /// `getFile`: the file's size and download path.
    pub async fn get_file(&self, file_id: &str) -> Result<File, BotApiError> {
        self.call("getFile", &serde_json::json!({ "file_id": file_id }))
            .await
    }

    /// `sendChatAction`.
    pub async fn send_chat_action(
        &self,
        chat_id: impl Into<ChatId>,
        action: ChatAction,
    ) -> Result<bool, BotApiError> {
        let params = serde_json::json!({ "chat_id": chat_id.into(), "action": action });
        self.call("sendChatAction", &params).await
    }

    /// `setWebhook`.
    pub async fn set_webhook(&self, req: &SetWebhook) -> Result<bool, BotApiError> {
        self.call("setWebhook", req).await
    }

    /// `deleteWebhook`, optionally dropping pending updates.
    pub async fn delete_webhook(&self, drop_pending_updates: bool) -> Result<bool, BotApiError> {
        let params = serde_json::json!({ "drop_pending_updates": drop_pending_updates });
        self.call("deleteWebhook", &params).await
    }

    /// `getWebhookInfo`.
    pub async fn get_webhook_info(&self) -> Result<WebhookInfo, BotApiError> {
        self.call("getWebhookInfo", &Map::new()).await
    }

    /// `setMyCommands`.
    pub async fn set_my_commands(&self, req: &SetMyCommands) -> Result<bool, BotApiError> {
        self.call("setMyCommands", req).await
    }

    /// `getMyCommands` for the default scope and all languages.
    pub async fn get_my_commands(&self) -> Result<Vec<BotCommand>, BotApiError> {
        self.call("getMyCommands", &Map::new()).await
    }

    /// `sendInvoice` (see [`SendInvoice::stars`] for Telegram Stars).
    pub async fn send_invoice(&self, req: &SendInvoice) -> Result<Message, BotApiError> {
        self.call("sendInvoice", req).await
    }

    /// `answerPreCheckoutQuery`.
    pub async fn answer_pre_checkout_query(
        &self,
        req: &AnswerPreCheckoutQuery,
    ) -> Result<bool, BotApiError> {
        self.call("answerPreCheckoutQuery", req).await
    }

    /// `refundStarPayment`.
    pub async fn refund_star_payment(
        &self,
        user_id: i64,
        telegram_payment_charge_id: &str,
    ) -> Result<bool, BotApiError> {
        let params = serde_json::json!({
            "user_id": user_id,
            "telegram_payment_charge_id": telegram_payment_charge_id,
        });
        self.call("refundStarPayment", &params).await
    }

    /// `getStarTransactions`: at most `limit` (1–100) of the bot's Star transactions after
    /// skipping `offset`, oldest first.
    pub async fn get_star_transactions(
        &self,
        offset: u64,
        limit: u32,
    ) -> Result<StarTransactions, BotApiError> {
        let params = serde_json::json!({ "offset": offset, "limit": limit });
        self.call("getStarTransactions", &params).await
    }

    /// Downloads `file_path` (from [`File::file_path`]), refusing more than `max_bytes`
    /// with [`BotApiError::FileTooLarge`].
    ///
    /// The limit is checked against `Content-Length` and the body read; the port reads
    /// whole bodies, so call [`BotApi::download_file_by_id`] to refuse before downloading.
    pub async fn download_file(
        &self,
        file_path: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, BotApiError> {
        let req = HttpRequest {
            method: "GET".to_owned(),
            url: format!(
                "{}/file/bot{}/{}",
                self.base,
                self.token,
                file_path.trim_start_matches('/')
            ),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: self.file_timeout_ms,
        };
        let resp = self.send("download", req).await?;
        if !(200..300).contains(&resp.status) {
            return Err(error_from_answer(resp.status, &resp.body, &self.token));
        }
        check_size(&resp, max_bytes)?;
        Ok(resp.body)
    }

    /// `getFile`, then [`BotApi::download_file`]; refuses before downloading when
    /// Telegram reports a size over `max_bytes`.
    pub async fn download_file_by_id(
        &self,
        file_id: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, BotApiError> {
        let file = self.get_file(file_id).await?;
        if let Some(size) = file.file_size.filter(|s| *s > max_bytes) {
            return Err(BotApiError::FileTooLarge {
                size,
                max: max_bytes,
            });
        }
        let path = file
            .file_path
            .ok_or_else(|| BotApiError::Decode("getFile returned no file_path".to_owned()))?;
        self.download_file(&path, max_bytes).await
    }

    /// Calls any method with JSON parameters, for methods this crate has no wrapper for.
    pub async fn call<P, R>(&self, method: &str, params: &P) -> Result<R, BotApiError>
    where
        P: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let body = serde_json::to_vec(params)
            .map_err(|e| BotApiError::Decode(format!("encoding {method}: {e}")))?;
        let req = self.post(method, "application/json".to_owned(), body, self.timeout_ms);
        let resp = self.send(method, req).await?;
        self.parse_result(method, &resp)
    }

    async fn edit<P: Serialize>(&self, method: &str, req: &P) -> Result<Edited, BotApiError> {
        match self.call::<P, MessageOrTrue>(method, req).await {
            Ok(MessageOrTrue::Message(m)) => Ok(Edited::Message(m)),
            Ok(MessageOrTrue::Flag(_)) => Ok(Edited::Done),
            Err(BotApiError::NotModified) => Ok(Edited::NotModified),
            Err(e) => Err(e),
        }
    }

    /// JSON when `file` is a reference, multipart/form-data when it is an upload.
    async fn call_with_file<P, R>(
        &self,
        method: &str,
        params: &P,
        field: &str,
        file: &InputFile,
    ) -> Result<R, BotApiError>
    where
        P: Serialize,
        R: DeserializeOwned,
    {
        let mut obj = to_object(method, params)?;
        let (filename, content_type, bytes) = match file {
            InputFile::Upload {
                filename,
                content_type,
                bytes,
            } => (filename, content_type, bytes),
            other => {
                let reference = other.as_reference().unwrap_or_default().to_owned();
                obj.insert(field.to_owned(), Value::String(reference));
                return self.call(method, &obj).await;
            }
        };
        let fields: Vec<(String, String)> =
            obj.into_iter().map(|(k, v)| (k, form_value(v))).collect();
        let part = FilePart {
            field,
            filename,
            content_type,
            bytes,
        };
        let enc = multipart::encode(&fields, part);
        let req = self.post(method, enc.content_type, enc.body, self.file_timeout_ms);
        let resp = self.send(method, req).await?;
        self.parse_result(method, &resp)
    }

    fn post(&self, method: &str, content_type: String, body: Vec<u8>, timeout: u64) -> HttpRequest {
        HttpRequest {
            method: "POST".to_owned(),
            url: format!("{}/bot{}/{}", self.base, self.token, method),
            headers: vec![("content-type".to_owned(), content_type)],
            body,
            timeout_ms: timeout,
        }
    }

    /// Sends through the port; transport errors come back with the token redacted.
    async fn send(&self, method: &str, req: HttpRequest) -> Result<HttpResponse, BotApiError> {
        tracing::debug!(method, bytes = req.body.len(), "telegram call");
        match self.http.send(req).await {
            Ok(resp) => Ok(resp),
            Err(e) => {
                let e = BotApiError::Transport(redact_http_error(e, &self.token));
                tracing::warn!(method, error = %e, "telegram call failed");
                Err(e)
            }
        }
    }

    fn parse_result<R: DeserializeOwned>(
        &self,
        method: &str,
        resp: &HttpResponse,
    ) -> Result<R, BotApiError> {
        let result = decode_answer(resp, &self.token);
        if let Err(e) = &result {
            tracing::debug!(method, status = resp.status, error = %e, "telegram error answer");
        }
        result
    }
}

/// A successful answer's `result`, or the typed error of a failed one.
fn decode_answer<R: DeserializeOwned>(resp: &HttpResponse, token: &str) -> Result<R, BotApiError> {
    if !(200..300).contains(&resp.status) {
        return Err(error_from_answer(resp.status, &resp.body, token));
    }
    let envelope: Envelope = serde_json::from_slice(&resp.body)
        .map_err(|e| BotApiError::Decode(redact_token(&e.to_string(), token)))?;
    if !envelope.ok {
        return Err(error_from_answer(resp.status, &resp.body, token));
    }
    let result = envelope
        .result
        .ok_or_else(|| BotApiError::Decode("answer has no result".to_owned()))?;
    serde_json::from_value(result)
        .map_err(|e| BotApiError::Decode(redact_token(&e.to_string(), token)))
}

/// Refuses a download over `max` bytes.
fn check_size(resp: &HttpResponse, max: u64) -> Result<(), BotApiError> {
    let announced = resp
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let size = announced
        .unwrap_or(0)
        .max(u64::try_from(resp.body.len()).unwrap_or(u64::MAX));
    if size > max {
        return Err(BotApiError::FileTooLarge { size, max });
    }
    Ok(())
}

/// The parameters as a JSON object.
fn to_object<P: Serialize>(method: &str, params: &P) -> Result<Map<String, Value>, BotApiError> {
    match serde_json::to_value(params) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(BotApiError::Decode(format!(
            "{method}: parameters are not an object"
        ))),
        Err(e) => Err(BotApiError::Decode(format!("encoding {method}: {e}"))),
    }
}

/// A form field's text: strings as they are, anything else as JSON (numbers, markup…).
fn form_value(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Telegram's answer envelope.
#[derive(serde::Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Option<Value>,
}

/// Edits answer the message, or `true` for inline messages.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum MessageOrTrue {
    Message(Box<Message>),
    Flag(#[allow(dead_code)] bool),
}
