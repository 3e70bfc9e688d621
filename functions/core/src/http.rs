//! The inbound HTTP model shared by every component and by the native test adapter: a plain
//! request struct, JSON answers, and the JSON error body `{"error":{"code","message"}}`.

use serde::Serialize;

use crate::error::CoreError;
use crate::ports::{HttpResponse, SqlError};

/// An inbound request, already read (the adapter enforces the body limit while reading).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// `GET`, `POST`…
    pub method: String,
    /// Path without the query, e.g. `/api/jobs/`.
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The last header named `name` (case-insensitive): where a client may send a header
    /// the server also sets (Spin's `spin-client-addr`, a proxy's `x-forwarded-for`), the
    /// server's copy comes last.
    pub fn last_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Parses the JSON body, which must be an object.
    ///
    /// # Errors
    /// A 400 `malformed_json` response naming the problem.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpResponse> {
        let malformed = |e: &dyn std::fmt::Display| {
            error(
                400,
                "malformed_json",
                &format!("request body is not valid JSON for this route: {e}"),
            )
        };
        let value: serde_json::Value =
            serde_json::from_slice(&self.body).map_err(|e| malformed(&e))?;
        if !value.is_object() {
            return Err(malformed(&"expected a JSON object"));
        }
        serde_json::from_value(value).map_err(|e| malformed(&e))
    }
}

/// Whether a declared `content-length` is over `limit` (a missing or bad header is not).
pub fn declared_too_large(headers: &[(String, String)], limit: usize) -> bool {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64)
}

/// The 413 answer.
pub fn too_large(limit: usize) -> HttpResponse {
    error(
        413,
        "payload_too_large",
        &format!("request body is larger than {limit} bytes"),
    )
}

/// A JSON answer.
pub fn json<T: Serialize>(status: u16, value: &T) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => HttpResponse {
            status,
            headers: vec![json_header()],
            body,
        },
        Err(_) => error(500, "internal", "response could not be encoded"),
    }
}

fn json_header() -> (String, String) {
    ("content-type".into(), "application/json".into())
}

/// A JSON error answer `{"error":{"code","message"}}`.
pub fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    HttpResponse {
        status,
        headers: vec![json_header()],
        body: body.to_string().into_bytes(),
    }
}

/// Maps a core error to its status and JSON body (internal detail is logged, not shown).
pub fn from_core(e: &CoreError) -> HttpResponse {
    match e {
        CoreError::Invalid { code, message } => error(422, code, message),
        CoreError::NotFound { code, message } => error(404, code, message),
        CoreError::Conflict { code, message } => error(409, code, message),
        CoreError::InsufficientBalance { needed, balance } => {
            let body = serde_json::json!({ "error": {
                "code": "insufficient_balance",
                "message": format!("balance {balance} is short of the {needed} credits needed"),
                "needed": needed, "balance": balance, "shortfall": needed - balance } });
            HttpResponse {
                status: 402,
                headers: vec![json_header()],
                body: body.to_string().into_bytes(),
            }
        }
        CoreError::QueueUnavailable(detail) => {
            tracing::error!(%detail, "queue unavailable");
            error(
                503,
                "queue_unavailable",
                "the job queue is unavailable; the charge was refunded, please retry later",
            )
        }
        CoreError::Storage(SqlError::Unavailable(detail)) => {
            tracing::error!(%detail, "storage unavailable");
            error(
                503,
                "storage_unavailable",
                "storage is busy or unavailable, please retry",
            )
        }
        CoreError::Storage(detail) => {
            tracing::error!(%detail, "storage error");
            error(500, "internal", "internal storage error")
        }
        CoreError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            error(500, "internal", "internal error")
        }
        CoreError::Upstream {
            service,
            message,
            transient,
        } => {
            tracing::error!(%service, %message, "upstream error");
            let status = if *transient { 503 } else { 502 };
            error(
                status,
                "upstream_error",
                &format!("{service} failed: {message}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_header_takes_the_servers_copy() {
        let req = Request {
            headers: vec![
                ("spin-client-addr".into(), "127.0.0.1:443".into()),
                ("Content-Type".into(), "application/json".into()),
                ("Spin-Client-Addr".into(), "10.0.0.9:5555".into()),
            ],
            ..Request::default()
        };
        assert_eq!(req.last_header("spin-client-addr"), Some("10.0.0.9:5555"));
        assert_eq!(req.header("spin-client-addr"), Some("127.0.0.1:443"));
        assert_eq!(req.last_header("x-missing"), None);
    }
}
