//! [`ReqwestHttp`]: the core's `HttpClient` port over reqwest, for native hosts.

use std::time::Duration;

use async_trait::async_trait;
use qwen_ports::{HttpClient, HttpError, HttpRequest, HttpResponse};

/// An `HttpClient` backed by reqwest (rustls). Needs a tokio runtime at call time.
///
/// Error messages never contain the request URL (which holds the bot token).
#[derive(Debug, Clone, Default)]
pub struct ReqwestHttp {
    client: reqwest::Client,
}

impl ReqwestHttp {
    /// A client with reqwest's defaults (connection pooling, rustls).
    pub fn new() -> Self {
        ReqwestHttp::default()
    }

    /// Wraps an existing reqwest client.
    pub fn with_client(client: reqwest::Client) -> Self {
        ReqwestHttp { client }
    }
}

#[async_trait(?Send)]
impl HttpClient for ReqwestHttp {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| HttpError::Other(format!("bad method: {e}")))?;
        let mut builder = self.client.request(method, &req.url).body(req.body);
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        if req.timeout_ms > 0 {
            builder = builder.timeout(Duration::from_millis(req.timeout_ms));
        }
        let resp = builder.send().await.map_err(map_error)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_ascii_lowercase(), value)
            })
            .collect();
        let body = resp.bytes().await.map_err(map_error)?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Maps a reqwest error to the port's, dropping the URL from the message.
fn map_error(e: reqwest::Error) -> HttpError {
    let timeout = e.is_timeout();
    let connect = e.is_connect();
    let text = error_chain(&e.without_url());
    if timeout {
        HttpError::Timeout
    } else if connect {
        HttpError::Connect(text)
    } else {
        HttpError::Other(text)
    }
}

/// The error and its sources, joined with `: `.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
