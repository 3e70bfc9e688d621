//! Adapters from the core's ports to `spin_sdk`: key-value, Redis, variables, clock,
//! outbound HTTP and the request/response conversion.

use std::cell::RefCell;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::{Either, select};
use http_body_util::Full;
use qwen_core::ports::{
    ADD_MARKED_SCRIPT, BACKLOG_SCRIPT, Backlog, Clock, Config, HttpClient, HttpError, HttpRequest,
    HttpResponse, KeyValue, KvError, Queue, QueueError,
};
use qwen_core::settings::{Settings, SettingsError};
use qwen_http::{Request, declared_too_large, too_large};
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::{key_value, redis, variables};

/// How long one Redis call may take before the request answers 503 (Spin sets no timeout).
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Races `fut` against a timer; `None` when the timer wins.
pub async fn with_timeout<T>(
    limit: Duration,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    let fut = std::pin::pin!(fut);
    let timer = std::pin::pin!(spin_sdk::time::sleep(limit));
    match select(fut, timer).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(_) => None,
    }
}

thread_local! {
    /// The `default` key-value store, opened once per instance (its operations are
    /// independent: concurrent requests may share the handle).
    static KV: RefCell<Option<std::rc::Rc<key_value::Store>>> = const { RefCell::new(None) };
}

/// The app's `default` key-value store, opened on first use and kept by the instance.
pub struct SpinKv;

impl SpinKv {
    /// The `default` store (opened on the first operation).
    pub fn default_store() -> SpinKv {
        SpinKv
    }

    async fn store(&self) -> Result<std::rc::Rc<key_value::Store>, KvError> {
        if let Some(store) = KV.with(|k| k.borrow().clone()) {
            return Ok(store);
        }
        let store = key_value::Store::open_default()
            .await
            .map(std::rc::Rc::new)
            .map_err(|e| KvError(format!("{e:?}")))?;
        KV.with(|k| *k.borrow_mut() = Some(store.clone()));
        Ok(store)
    }
}

#[async_trait(?Send)]
impl KeyValue for SpinKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let store = self.store().await?;
        store.get(key).await.map_err(|e| KvError(format!("{e:?}")))
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let store = self.store().await?;
        store
            .set(key, value)
            .await
            .map_err(|e| KvError(format!("{e:?}")))
    }
    async fn delete(&self, key: &str) -> Result<(), KvError> {
        let store = self.store().await?;
        store
            .delete(key)
            .await
            .map_err(|e| KvError(format!("{e:?}")))
    }
}

thread_local! {
    /// One Redis connection per instance, shared by its concurrent requests and dropped on
    /// any error (Spin's connection does not reconnect).
    static REDIS: RefCell<Option<std::rc::Rc<redis::Connection>>> = const { RefCell::new(None) };
}

/// The jobs stream in Redis, with a timeout on every call.
pub struct SpinQueue {
    url: String,
}

impl SpinQueue {
    /// A queue on `url`.
    pub fn new(url: &str) -> SpinQueue {
        SpinQueue {
            url: url.to_owned(),
        }
    }

    async fn connection(&self) -> Result<std::rc::Rc<redis::Connection>, QueueError> {
        if let Some(c) = REDIS.with(|r| r.borrow().clone()) {
            return Ok(c);
        }
        let conn = with_timeout(REDIS_TIMEOUT, redis::Connection::open(&self.url))
            .await
            .ok_or_else(|| QueueError("redis connect timed out".into()))?
            .map_err(|e| QueueError(format!("{e:?}")))?;
        let conn = std::rc::Rc::new(conn);
        REDIS.with(|r| *r.borrow_mut() = Some(conn.clone()));
        Ok(conn)
    }

    async fn execute(
        &self,
        cmd: &str,
        args: Vec<redis::RedisParameter>,
    ) -> Result<Vec<redis::RedisResult>, QueueError> {
        let conn = self.connection().await?;
        let outcome = match with_timeout(REDIS_TIMEOUT, conn.execute(cmd, args)).await {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(QueueError(format!("{e:?}"))),
            None => Err(QueueError("redis call timed out".into())),
        };
        if outcome.is_err() {
            REDIS.with(|r| r.borrow_mut().take());
        }
        outcome
    }
}

fn bin(s: &str) -> redis::RedisParameter {
    redis::RedisParameter::Binary(s.as_bytes().to_vec())
}

#[async_trait(?Send)]
impl Queue for SpinQueue {
    async fn add_marked(
        &self,
        stream: &str,
        marker: &str,
        fields: &[(&str, &str)],
        marker_ttl_secs: u64,
        stream_ttl_secs: u64,
    ) -> Result<String, QueueError> {
        let (marker_ttl, stream_ttl) = (marker_ttl_secs.to_string(), stream_ttl_secs.to_string());
        let mut args: Vec<redis::RedisParameter> = [
            ADD_MARKED_SCRIPT,
            "2",
            stream,
            marker,
            &marker_ttl,
            &stream_ttl,
        ]
        .map(bin)
        .to_vec();
        args.extend(fields.iter().flat_map(|(k, v)| [bin(k), bin(v)]));
        match self.execute("EVAL", args).await?.into_iter().next() {
            Some(redis::RedisResult::Binary(id)) => Ok(String::from_utf8_lossy(&id).into_owned()),
            Some(redis::RedisResult::Status(id)) => Ok(id),
            other => Err(QueueError(format!("unexpected EVAL reply {other:?}"))),
        }
    }

    async fn exist(&self, keys: &[String]) -> Result<Vec<bool>, QueueError> {
        let args = keys.iter().map(|k| bin(k)).collect();
        let values = self.execute("MGET", args).await?;
        Ok(values
            .iter()
            .map(|v| !matches!(v, redis::RedisResult::Nil))
            .collect())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), QueueError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.execute("DEL", keys.iter().map(|k| bin(k)).collect())
            .await
            .map(drop)
    }

    async fn backlog(&self, stream: &str) -> Result<Backlog, QueueError> {
        let args = [BACKLOG_SCRIPT, "1", stream].map(bin).to_vec();
        let reply = self.execute("EVAL", args).await?;
        let int = |i: usize| match reply.get(i) {
            Some(redis::RedisResult::Int64(n)) => Ok((*n).max(0) as u64),
            other => Err(QueueError(format!("unexpected backlog reply {other:?}"))),
        };
        let oldest = match reply.get(3) {
            Some(redis::RedisResult::Binary(id)) => {
                Backlog::entry_time_ms(&String::from_utf8_lossy(id))
            }
            Some(redis::RedisResult::Status(id)) => Backlog::entry_time_ms(id),
            _ => None,
        };
        Ok(Backlog {
            length: int(0)?,
            lag: int(1)?,
            pending: int(2)?,
            oldest_pending_ms: oldest,
        })
    }
}

/// Spin variables.
pub struct SpinConfig;

#[async_trait(?Send)]
impl Config for SpinConfig {
    async fn get(&self, name: &str) -> Option<String> {
        variables::get(name).await.ok().filter(|v| !v.is_empty())
    }
}

/// The core [`Settings`] from Spin variables, loaded once per instance (variables do not
/// change while an instance lives).
///
/// # Errors
/// The [`SettingsError`] of a variable that does not parse.
pub async fn settings() -> Result<std::rc::Rc<Settings>, SettingsError> {
    crate::once_per_instance(|| Settings::load(&SpinConfig)).await
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// Waiting on Spin's timer.
pub struct SpinSleep;

#[async_trait(?Send)]
impl qwen_core::ports::Sleep for SpinSleep {
    async fn sleep(&self, ms: u64) {
        spin_sdk::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// Outbound HTTP through Spin (hosts must be in `allowed_outbound_hosts`).
pub struct SpinHttp;

fn build_request(req: HttpRequest) -> Result<spin_sdk::http::Request<Full<Bytes>>, HttpError> {
    let mut builder = spin_sdk::http::Request::builder()
        .method(req.method.as_str())
        .uri(req.url.as_str());
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(Bytes::from(req.body)))
        .map_err(|e| HttpError::Other(e.to_string()))
}

#[async_trait(?Send)]
impl HttpClient for SpinHttp {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let limit = Duration::from_millis(req.timeout_ms.max(1));
        let request = build_request(req)?;
        let exchange = async {
            let resp = spin_sdk::http::send(request)
                .await
                .map_err(|e| HttpError::Connect(format!("{e:?}")))?;
            let status = resp.status().as_u16();
            let headers = header_pairs(resp.headers());
            let body = resp
                .into_body()
                .bytes()
                .await
                .map_err(|e| HttpError::Other(format!("{e:?}")))?;
            Ok(HttpResponse {
                status,
                headers,
                body: body.to_vec(),
            })
        };
        with_timeout(limit, exchange)
            .await
            .unwrap_or(Err(HttpError::Timeout))
    }
}

fn header_pairs(headers: &spin_sdk::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Reads an incoming Spin request into the core's [`Request`], refusing bodies over `limit`
/// bytes with 413 — on `content-length` first, then while counting streamed chunks (Spin
/// itself sets no body limit).
///
/// # Errors
/// The 413 answer, or 400 when the body cannot be read.
pub async fn read_request(
    req: spin_sdk::http::Request,
    limit: usize,
) -> Result<Request, HttpResponse> {
    let (parts, body) = req.into_parts();
    let headers = header_pairs(&parts.headers);
    let mut request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body: Vec::new(),
    };
    let headers = &request.headers;
    if declared_too_large(headers, limit) {
        return Err(too_large(limit));
    }
    // HTTP/1.1: a request without content-length or transfer-encoding has no body (a GET,
    // most often); skip the stream and its host calls.
    let has_body = headers
        .iter()
        .any(|(k, _)| k == "content-length" || k == "transfer-encoding");
    if !has_body {
        return Ok(request);
    }
    let mut bytes = Vec::new();
    let mut stream = body.stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|_| qwen_http::error(400, "bad_body", "the request body could not be read"))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    request.body = bytes;
    Ok(request)
}

/// Turns the core's answer into a Spin response. An answer the HTTP library would refuse
/// (see [`crate::response::checked`]) becomes a logged 500; a valid one keeps every header.
pub fn into_response(resp: HttpResponse) -> spin_sdk::http::Response<Full<Bytes>> {
    let resp = crate::response::checked(resp);
    let mut builder = spin_sdk::http::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(Bytes::from(resp.body)))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "response refused by the HTTP library; answering 500");
            let mut r = spin_sdk::http::Response::new(Full::new(Bytes::from_static(
                b"{\"error\":{\"code\":\"internal\",\"message\":\"bad response\"}}",
            )));
            *r.status_mut() = 500u16.try_into().unwrap_or_default();
            r
        })
}
