//! Typed errors of the Bot API, and the token redaction that keeps secrets out of them.

use qwen_ports::HttpError;
use serde::Deserialize;

/// Everything a Bot API call can fail with.
///
/// No variant ever carries the bot token: descriptions and transport messages are redacted
/// before they are stored (see [`redact_token`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BotApiError {
    /// 429: flood control. Wait `retry_after` seconds before calling again.
    #[error("telegram: too many requests, retry after {retry_after}s")]
    TooManyRequests {
        /// Seconds to wait, from `parameters.retry_after` (1 when Telegram gave none).
        retry_after: u64,
    },
    /// 403: the bot may not write there (blocked by the user, kicked from the group…).
    #[error("telegram: {description}")]
    Forbidden {
        /// Telegram's text, e.g. "Forbidden: bot was blocked by the user".
        description: String,
    },
    /// 400 "message is not modified": the edit would change nothing. Harmless.
    #[error("telegram: message is not modified")]
    NotModified,
    /// 400 with `parameters.migrate_to_chat_id`: the group became a supergroup.
    #[error("telegram: chat migrated to {migrate_to_chat_id}")]
    ChatMigrated {
        /// The supergroup's id, to use from now on.
        migrate_to_chat_id: i64,
    },
    /// 400: any other bad request (chat not found, message to edit not found, bad markup…).
    #[error("telegram: {description}")]
    BadRequest {
        /// Telegram's text, e.g. "Bad Request: chat not found".
        description: String,
    },
    /// 401: the token is wrong or revoked.
    #[error("telegram: unauthorized (bad bot token)")]
    Unauthorized,
    /// Another 4xx answer (404 unknown method or file, 409 conflict…).
    #[error("telegram: error {code}: {description}")]
    Api {
        /// `error_code` (or the HTTP status).
        code: u16,
        /// Telegram's text.
        description: String,
    },
    /// 5xx, with or without a JSON body (a 502 HTML page from a proxy lands here too).
    #[error("telegram: server error {status}")]
    Server {
        /// HTTP status.
        status: u16,
    },
    /// The request did not get an answer (connect failure, timeout…).
    #[error("telegram: transport: {0}")]
    Transport(HttpError),
    /// A 2xx answer whose body was not what the method returns.
    #[error("telegram: undecodable answer: {0}")]
    Decode(String),
    /// A file is larger than the caller allowed (Telegram's bot download limit is 20 MB).
    #[error("telegram: file of {size} bytes is over the limit of {max} bytes")]
    FileTooLarge {
        /// The file's size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
}

impl BotApiError {
    /// Whether the same call may succeed later: 429, 5xx, connect failures and timeouts.
    pub fn is_retryable(&self) -> bool {
        match self {
            BotApiError::TooManyRequests { .. } | BotApiError::Server { .. } => true,
            BotApiError::Transport(e) => matches!(e, HttpError::Connect(_) | HttpError::Timeout),
            _ => false,
        }
    }

    /// Seconds Telegram asked to wait, for [`BotApiError::TooManyRequests`].
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            BotApiError::TooManyRequests { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// True when the user blocked the bot (or it otherwise may not write to the chat).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, BotApiError::Forbidden { .. })
    }
}

/// `parameters` of an error answer.
#[derive(Debug, Default, Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
    migrate_to_chat_id: Option<i64>,
}

/// An `{"ok":false,…}` answer.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    error_code: Option<u16>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<ResponseParameters>,
}

/// Builds the typed error for a non-successful answer (`status`, raw `body`).
///
/// Never panics: a body that is not Telegram's JSON falls back to the HTTP status.
pub(crate) fn error_from_answer(status: u16, body: &[u8], token: &str) -> BotApiError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    if status >= 500 {
        return BotApiError::Server { status };
    }
    let parsed = parsed.unwrap_or_else(|| ErrorBody {
        description: snippet(body),
        ..ErrorBody::default()
    });
    let code = parsed.error_code.unwrap_or(status);
    let params = parsed.parameters.unwrap_or_default();
    let description = redact_token(&parsed.description, token);
    classify(code, description, params)
}

fn classify(code: u16, description: String, params: ResponseParameters) -> BotApiError {
    match code {
        429 => BotApiError::TooManyRequests {
            retry_after: params.retry_after.unwrap_or(1),
        },
        403 => BotApiError::Forbidden { description },
        401 => BotApiError::Unauthorized,
        400 if description.contains("message is not modified") => BotApiError::NotModified,
        400 => match params.migrate_to_chat_id {
            Some(id) => BotApiError::ChatMigrated {
                migrate_to_chat_id: id,
            },
            None => BotApiError::BadRequest { description },
        },
        500..=599 => BotApiError::Server { status: code },
        _ => BotApiError::Api { code, description },
    }
}

/// The first 200 characters of a body, as text.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

/// The token as it may appear in logs: its first 4 characters at most, then `…`.
pub fn token_hint(token: &str) -> String {
    let keep = token.chars().count().min(8) / 2;
    let head: String = token.chars().take(keep).collect();
    format!("{head}…")
}

/// `text` with every occurrence of `token` replaced by [`token_hint`].
pub fn redact_token(text: &str, token: &str) -> String {
    if token.is_empty() || !text.contains(token) {
        return text.to_owned();
    }
    text.replace(token, &token_hint(token))
}

/// A transport error with the token redacted out of its message.
pub(crate) fn redact_http_error(e: HttpError, token: &str) -> HttpError {
    match e {
        HttpError::Connect(m) => HttpError::Connect(redact_token(&m, token)),
        HttpError::Other(m) => HttpError::Other(redact_token(&m, token)),
        HttpError::Timeout => HttpError::Timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:ABC-secret";

    #[test]
    fn classifies_telegram_error_shapes() {
        let b = br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#;
        assert_eq!(
            error_from_answer(429, b, TOKEN),
            BotApiError::TooManyRequests { retry_after: 7 }
        );
        let b = br#"{"ok":false,"error_code":400,"description":"Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}"#;
        assert_eq!(error_from_answer(400, b, TOKEN), BotApiError::NotModified);
        let b = br#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}}"#;
        assert_eq!(
            error_from_answer(400, b, TOKEN),
            BotApiError::ChatMigrated {
                migrate_to_chat_id: -1001234
            }
        );
        let e = error_from_answer(502, b"<html>Bad Gateway</html>", TOKEN);
        assert_eq!(e, BotApiError::Server { status: 502 });
        assert!(e.is_retryable());
    }

    #[test]
    fn non_json_client_error_falls_back_to_status() {
        let e = error_from_answer(401, b"nope", TOKEN);
        assert_eq!(e, BotApiError::Unauthorized);
        let e = error_from_answer(404, b"not here", TOKEN);
        assert!(matches!(e, BotApiError::Api { code: 404, .. }));
    }

    #[test]
    fn redaction_keeps_at_most_four_characters() {
        let s = redact_token(&format!("GET /bot{TOKEN}/getMe failed"), TOKEN);
        assert!(!s.contains(TOKEN));
        assert!(!s.contains("secret"));
        assert!(s.contains("/bot1234…/getMe"));
        assert_eq!(redact_token("x", ""), "x");
        assert_eq!(token_hint("ab"), "a…");
    }
}
