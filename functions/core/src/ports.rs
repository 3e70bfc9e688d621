//! The small I/O traits the core talks through. Spin components implement them with
//! `spin_sdk`; tests and native tools implement them with rusqlite, Redis and reqwest.
//!
//! Futures are not `Send`: Spin runs components single-threaded, and native adapters drive
//! handlers on a current-thread runtime.

use async_trait::async_trait;

/// An SQL value, as SQLite knows them.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// `NULL`.
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// A double.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Raw bytes.
    Blob(Vec<u8>),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Integer(v)
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_owned())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// One result row; columns are read by index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlRow(pub Vec<SqlValue>);

impl SqlRow {
    /// Integer at `idx` (0 for NULL or another type).
    pub fn int(&self, idx: usize) -> i64 {
        match self.0.get(idx) {
            Some(SqlValue::Integer(v)) => *v,
            Some(SqlValue::Real(v)) => *v as i64,
            _ => 0,
        }
    }
    /// Integer at `idx`, `None` for NULL.
    pub fn opt_int(&self, idx: usize) -> Option<i64> {
        match self.0.get(idx) {
            Some(SqlValue::Integer(v)) => Some(*v),
            _ => None,
        }
    }
    /// Text at `idx` ("" for NULL or another type).
    pub fn text(&self, idx: usize) -> String {
        self.opt_text(idx).unwrap_or_default()
    }
    /// Text at `idx`, `None` for NULL.
    pub fn opt_text(&self, idx: usize) -> Option<String> {
        match self.0.get(idx) {
            Some(SqlValue::Text(v)) => Some(v.clone()),
            _ => None,
        }
    }
}

/// Errors from the SQL store.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SqlError {
    /// A constraint refused the write (message from SQLite, e.g. "UNIQUE constraint failed: …").
    #[error("constraint: {0}")]
    Constraint(String),
    /// The database is locked or unreachable: worth a retry later.
    #[error("sql unavailable: {0}")]
    Unavailable(String),
    /// Any other failure (bad SQL, I/O).
    #[error("sql: {0}")]
    Other(String),
}

impl SqlError {
    /// Classifies an SQLite error message (Spin reports every error as a string).
    pub fn from_message(msg: impl Into<String>) -> Self {
        let msg = msg.into();
        if msg.contains("constraint failed") {
            SqlError::Constraint(msg)
        } else if msg.contains("locked") || msg.contains("busy") || msg.contains("unable to open") {
            SqlError::Unavailable(msg)
        } else {
            SqlError::Other(msg)
        }
    }
}

/// A connection to the app's SQLite database, for the length of one request.
#[async_trait(?Send)]
pub trait Sql {
    /// Runs one statement with positional parameters (`?1`, `?2`…) and returns every row.
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError>;

    /// Runs a write whose loss in a power failure (not a crash: the process dying loses
    /// nothing) would be harmless, with relaxed durability where the store offers it. Never
    /// for money or jobs. On SQLite in WAL mode this is a commit without its own fsync; a
    /// later durable commit persists it too, since the log is written in order. By default
    /// the same as [`Sql::execute`].
    async fn execute_volatile(
        &self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<SqlRow>, SqlError> {
        self.execute(sql, params).await
    }

    /// Identifies the database (so per-process caches such as "schema is current" are kept
    /// per database). Spin's single `default` database needs no more than the default.
    fn database_id(&self) -> String {
        "default".to_owned()
    }
}

/// Errors from the key-value store.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("key-value store: {0}")]
pub struct KvError(pub String);

/// The app's key-value store (dialog state). No compare-and-set, no expiry.
#[async_trait(?Send)]
pub trait KeyValue {
    /// The value under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Stores `value` under `key`.
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;
    /// Removes `key` (absent is fine).
    async fn delete(&self, key: &str) -> Result<(), KvError>;
}

/// Errors from the queue.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("queue unavailable: {0}")]
pub struct QueueError(pub String);

/// Lua script for [`Queue::add_marked`]: `XADD` the entry and set its marker key in one atomic
/// step, so "in the stream" and "marked as enqueued" can never disagree.
/// KEYS: stream, marker. ARGV: field, value, marker TTL in seconds. Returns the entry id.
pub const ADD_MARKED_SCRIPT: &str = "local id = redis.call('XADD', KEYS[1], '*', ARGV[1], ARGV[2]) \
    redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[3])) return id";

/// The jobs stream in Redis.
#[async_trait(?Send)]
pub trait Queue {
    /// Runs [`ADD_MARKED_SCRIPT`]: appends `field = value` to `stream` and sets `marker` (with
    /// `ttl_secs`) atomically; returns the entry id.
    async fn add_marked(
        &self,
        stream: &str,
        marker: &str,
        field: &str,
        value: &str,
        ttl_secs: u64,
    ) -> Result<String, QueueError>;
    /// For each key, whether it exists (`MGET`).
    async fn exist(&self, keys: &[String]) -> Result<Vec<bool>, QueueError>;
    /// `XLEN stream`.
    async fn len(&self, stream: &str) -> Result<u64, QueueError>;
}

/// An outbound HTTP request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// Body bytes (empty for none).
    pub body: Vec<u8>,
    /// Whole-request timeout, milliseconds.
    pub timeout_ms: u64,
}

/// An HTTP response, inbound or outbound.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header name/value pairs (names lowercase).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Errors from outbound HTTP.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpError {
    /// Connecting failed or was refused.
    #[error("connect: {0}")]
    Connect(String),
    /// The request ran past its timeout.
    #[error("timeout")]
    Timeout,
    /// Anything else (denied host, bad URL, broken body).
    #[error("http: {0}")]
    Other(String),
}

/// Outbound HTTP.
#[async_trait(?Send)]
pub trait HttpClient {
    /// Sends a request and reads the whole response.
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError>;
}

/// The time, injectable for tests.
pub trait Clock {
    /// Now, Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// Configuration lookup (Spin variables, env, a map in tests).
#[async_trait(?Send)]
pub trait Config {
    /// The value of variable `name` (lowercase snake_case), `None` when unset or empty.
    async fn get(&self, name: &str) -> Option<String>;
}
