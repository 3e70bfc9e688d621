//! The messenger port of the host, and its implementation over the shared `botapi` client.
//!
//! The pipeline only needs five things from Telegram; [`Messenger`] names them so tests
//! and the pipeline stay independent of the wire. [`BotMessenger`] implements them with
//! [`botapi::BotApi`], honouring 429 `retry_after` and retrying 5xx and transport errors.

use std::rc::Rc;
use std::time::Duration;

use async_trait::async_trait;
use botapi::{BotApi, BotApiError, EditMessageText, Edited, InputFile, ReqwestHttp};
use botapi::{SendDocument, SendMessage, SendPhoto};
use qwen_contract::SentAs;

use crate::retry::{RetryPolicy, Retryable};

/// Telegram's download limit for bots: inputs above it are refused.
pub const MAX_DOWNLOAD_BYTES: u64 = 20 * 1024 * 1024;
/// Largest file `sendPhoto` takes; bigger results go as documents.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// Why a Telegram call failed, as the pipeline cares.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TgError {
    /// 403: the user blocked the bot. Permanent; the job still refunds.
    #[error("telegram: bot blocked by the user")]
    Blocked,
    /// The input file is over the 20 MB limit (its size; 0 when Telegram's `getFile` only
    /// answered "file is too big").
    #[error("telegram: file of {0} bytes is too large")]
    TooLarge(u64),
    /// 429, 5xx, transport: may work later.
    #[error("telegram (retryable): {0}")]
    Transient(String),
    /// Anything else (bad request…).
    #[error("telegram: {0}")]
    Permanent(String),
}

impl Retryable for TgError {
    fn is_retryable(&self) -> bool {
        matches!(self, TgError::Transient(_))
    }
}

impl From<BotApiError> for TgError {
    fn from(e: BotApiError) -> Self {
        match e {
            BotApiError::Forbidden { .. } => TgError::Blocked,
            BotApiError::FileTooLarge { size, .. } => TgError::TooLarge(size),
            // What `getFile` answers for a file over the bots' 20 MB download limit.
            BotApiError::BadRequest { description } if description.contains("file is too big") => {
                TgError::TooLarge(0)
            }
            e if e.is_retryable() => TgError::Transient(e.to_string()),
            e => TgError::Permanent(e.to_string()),
        }
    }
}

/// What the pipeline asks of Telegram.
#[async_trait(?Send)]
pub trait Messenger {
    /// `getFile` + download, refusing more than `max_bytes`.
    async fn download(&self, file_id: &str, max_bytes: u64) -> Result<Vec<u8>, TgError>;
    /// Sends a text message; returns its id.
    async fn send_text(&self, chat_id: i64, text: &str) -> Result<i64, TgError>;
    /// Edits a text message ("not modified" is fine).
    async fn edit_text(&self, chat_id: i64, message_id: i64, text: &str) -> Result<(), TgError>;
    /// Sends the result as a photo.
    async fn send_photo(
        &self,
        chat_id: i64,
        name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<(), TgError>;
    /// Sends the result as a document (for files too large for a photo).
    async fn send_document(
        &self,
        chat_id: i64,
        name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<(), TgError>;
}

/// [`Messenger`] over `botapi` and reqwest.
pub struct BotMessenger {
    api: BotApi<Rc<ReqwestHttp>>,
    retry: RetryPolicy,
}

impl BotMessenger {
    /// A messenger for the bot `token` at `base_url`.
    pub fn new(base_url: &str, token: &str, retry: RetryPolicy) -> Self {
        let http = Rc::new(ReqwestHttp::new());
        Self {
            api: BotApi::new(base_url, token, http),
            retry,
        }
    }

    /// Runs one call: a 429 waits `retry_after` (up to 5 times); other transient errors
    /// are retried with backoff; permanent ones return at once.
    async fn call<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, TgError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, BotApiError>>,
    {
        let (mut flood, mut failed) = (0u32, 0u32);
        loop {
            let err = match op().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if let Some(secs) = err.retry_after().filter(|_| flood < 5) {
                flood += 1;
                tracing::info!(what, retry_after = secs, "telegram flood control: waiting");
                tokio::time::sleep(Duration::from_secs(secs)).await;
                continue;
            }
            let err = TgError::from(err);
            failed += 1;
            if !err.is_retryable() || failed >= self.retry.max_attempts {
                return Err(err);
            }
            tracing::warn!(what, try_no = failed, error = %err, "telegram call failed: retrying");
            tokio::time::sleep(self.retry.delay(failed)).await;
        }
    }
}

fn png(name: &str, bytes: Vec<u8>) -> InputFile {
    InputFile::upload(name, "image/png", bytes)
}

#[async_trait(?Send)]
impl Messenger for BotMessenger {
    async fn download(&self, file_id: &str, max_bytes: u64) -> Result<Vec<u8>, TgError> {
        self.call("getFile", || {
            self.api.download_file_by_id(file_id, max_bytes)
        })
        .await
    }

    async fn send_text(&self, chat_id: i64, text: &str) -> Result<i64, TgError> {
        let req = SendMessage::new(chat_id, text);
        let msg = self
            .call("sendMessage", || self.api.send_message(&req))
            .await?;
        Ok(msg.message_id)
    }

    async fn edit_text(&self, chat_id: i64, message_id: i64, text: &str) -> Result<(), TgError> {
        let req = EditMessageText::new(chat_id, message_id, text);
        // Progress edits are best effort: one try, a 429 is not waited for.
        match self.api.edit_message_text(&req).await {
            Ok(Edited::Message(_) | Edited::Done | Edited::NotModified) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn send_photo(
        &self,
        chat_id: i64,
        name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<(), TgError> {
        let req = SendPhoto::new(chat_id, png(name, bytes)).caption(caption);
        self.call("sendPhoto", || self.api.send_photo(&req))
            .await
            .map(|_| ())
    }

    async fn send_document(
        &self,
        chat_id: i64,
        name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<(), TgError> {
        let req = SendDocument::new(chat_id, png(name, bytes)).caption(caption);
        self.call("sendDocument", || self.api.send_document(&req))
            .await
            .map(|_| ())
    }
}

/// Sends the result: a photo when small enough, else (or when Telegram refuses the photo)
/// a document.
///
/// # Errors
/// [`TgError::Blocked`] and the errors of the document fallback.
pub async fn send_result(
    tg: &dyn Messenger,
    chat_id: i64,
    name: &str,
    bytes: Vec<u8>,
    caption: &str,
) -> Result<SentAs, TgError> {
    if bytes.len() <= MAX_PHOTO_BYTES {
        match tg.send_photo(chat_id, name, bytes.clone(), caption).await {
            Ok(()) => return Ok(SentAs::Photo),
            Err(TgError::Permanent(e)) => {
                tracing::warn!(chat_id, error = %e, "sendPhoto refused; sending as a document");
            }
            Err(e) => return Err(e),
        }
    }
    tg.send_document(chat_id, name, bytes, caption).await?;
    Ok(SentAs::Document)
}
