//! Signed job events and the sweep call to the edge's `api`.
//!
//! `POST {API_BASE_URL}/internal/jobs/{job_id}/events` with a [`JobEvent`] body, signed as
//! [`qwen_contract::signing`] says. The answer decides what the host does next (see
//! [`EventOutcome`]). Connection errors, 5xx and 401 are retried with backoff by
//! [`EventsClient::send`]; while that goes on the stream entry stays pending.

use std::time::Duration;

use qwen_contract::signing;
use qwen_contract::{CONTRACT_VERSION, EventReply, JobEvent, JobEventKind};

use crate::retry::{RetryPolicy, Retryable};

/// What the edge said about an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// 200: recorded; `proceed` tells whether to go on.
    Accepted(EventReply),
    /// 409 `stale_attempt` / `job_final`: another attempt owns the job, or it is over.
    Refused(String),
    /// 404 `job_not_found`: drop the entry.
    NotFound,
}

/// Errors sending an event (all of them leave the entry pending).
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The api could not be reached or answered 5xx.
    #[error("api unavailable: {0}")]
    Unavailable(String),
    /// 401: the event secret does not match the api's: a misconfiguration.
    #[error("api refused the signature (401): check GPU_EVENT_SECRET")]
    Unauthorized,
    /// Any other answer.
    #[error("unexpected api answer {0}: {1}")]
    Unexpected(u16, String),
}

impl Retryable for EventError {
    fn is_retryable(&self) -> bool {
        matches!(self, EventError::Unavailable(_) | EventError::Unauthorized)
    }
}

/// Client of the api's internal endpoints.
#[derive(Clone)]
pub struct EventsClient {
    http: reqwest::Client,
    base: String,
    secret: String,
    host: String,
    retry: RetryPolicy,
}

impl EventsClient {
    /// A client for `base` (the api's base URL), signing with `secret`, naming itself `host`.
    pub fn new(base: &str, secret: &str, host: &str, retry: RetryPolicy) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            secret: secret.to_owned(),
            host: host.to_owned(),
            retry,
        }
    }

    /// Sends `kind` for `job_id` at `attempt`, retrying transient failures.
    ///
    /// # Errors
    /// The last [`EventError`] once the retry budget is spent.
    pub async fn send(
        &self,
        job_id: &str,
        attempt: u32,
        kind: JobEventKind,
    ) -> Result<EventOutcome, EventError> {
        let event = JobEvent {
            v: CONTRACT_VERSION,
            attempt,
            host: self.host.clone(),
            at: now_ms(),
            kind,
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let url = format!("{}/internal/jobs/{job_id}/events", self.base);
        let name = event.kind.name();
        self.retry
            .run(name, job_id, || self.post_once(&url, &body))
            .await
            .map(|(status, text)| classify(status, &text))?
    }

    /// Sends this host's report to `POST /internal/hosts/heartbeat` once (the next beat is
    /// the retry).
    ///
    /// # Errors
    /// [`EventError`] when the api is unreachable or refuses.
    pub async fn report(&self, hb: &qwen_contract::HostHeartbeat) -> Result<(), EventError> {
        let url = format!("{}/internal/hosts/heartbeat", self.base);
        let body = serde_json::to_vec(hb).map_err(|e| EventError::Unexpected(0, e.to_string()))?;
        let (status, text) = self.post_once(&url, &body).await?;
        if status == 200 {
            Ok(())
        } else {
            Err(EventError::Unexpected(
                status,
                text.chars().take(200).collect(),
            ))
        }
    }

    /// Checks a stream entry's job signature (`sig`) with the shared secret: only the edge,
    /// which holds the same secret, can have made it.
    ///
    /// # Errors
    /// [`signing::SignatureError::Missing`] / [`signing::SignatureError::Bad`].
    pub fn verify_job(
        &self,
        job_json: &str,
        sig: Option<&str>,
    ) -> Result<(), signing::SignatureError> {
        signing::verify_job(self.secret.as_bytes(), job_json, sig)
    }

    /// The host name this client signs for.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Calls `POST /internal/jobs/sweep` once.
    ///
    /// # Errors
    /// [`EventError`] when the api is unreachable or refuses.
    pub async fn sweep(&self) -> Result<(), EventError> {
        let url = format!("{}/internal/jobs/sweep", self.base);
        let (status, text) = self.post_once(&url, b"{}").await?;
        if status == 200 {
            Ok(())
        } else {
            Err(EventError::Unexpected(status, text))
        }
    }

    async fn post_once(&self, url: &str, body: &[u8]) -> Result<(u16, String), EventError> {
        let ts = now_ms() / 1000;
        let path = url_path(url);
        let sig = signing::sign(self.secret.as_bytes(), ts, "POST", path, body);
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(signing::TIMESTAMP_HEADER, ts.to_string())
            .header(signing::SIGNATURE_HEADER, sig)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| EventError::Unavailable(e.to_string()))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        match status {
            401 => {
                tracing::error!(
                    url,
                    "api answered 401 to a signed call: GPU_EVENT_SECRET does not match the api's"
                );
                Err(EventError::Unauthorized)
            }
            s if s >= 500 => Err(EventError::Unavailable(format!("HTTP {s}"))),
            s => Ok((s, text)),
        }
    }
}

fn classify(status: u16, text: &str) -> Result<EventOutcome, EventError> {
    match status {
        200 => serde_json::from_str::<EventReply>(text)
            .map(EventOutcome::Accepted)
            .map_err(|e| EventError::Unexpected(200, e.to_string())),
        409 => Ok(EventOutcome::Refused(error_code(text))),
        404 => Ok(EventOutcome::NotFound),
        s => Err(EventError::Unexpected(s, text.chars().take(200).collect())),
    }
}

fn error_code(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "conflict".to_owned())
}

/// Now, Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The path of an absolute URL (`http://host:port/a/b?q` → `/a/b`), as the edge sees it.
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_answers() {
        let ok = classify(200, r#"{"status":"running","proceed":true,"attempt":2}"#);
        assert!(matches!(ok, Ok(EventOutcome::Accepted(r)) if r.proceed && r.attempt == 2));
        let stale = classify(409, r#"{"error":{"code":"stale_attempt","message":"x"}}"#);
        assert!(matches!(stale, Ok(EventOutcome::Refused(c)) if c == "stale_attempt"));
        assert!(matches!(classify(404, "{}"), Ok(EventOutcome::NotFound)));
        assert!(classify(418, "").is_err());
    }

    #[test]
    fn signs_the_path_the_edge_sees() {
        assert_eq!(
            url_path("http://127.0.0.1:3000/internal/jobs/a/events"),
            "/internal/jobs/a/events"
        );
        assert_eq!(url_path("https://edge/x/y?q=1#f"), "/x/y");
        assert_eq!(url_path("http://edge"), "/");
    }
}
