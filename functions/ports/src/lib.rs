//! # qwen-ports
//!
//! The small I/O traits the core talks through (SQL, key-value, the jobs queue, outbound
//! HTTP, the clock, configuration) and the outbound HTTP types. Spin components implement
//! them with `spin_sdk` (`spin-adapters`); tests and native tools implement them with
//! rusqlite, Redis and reqwest. `botapi` (the Telegram client) needs nothing but these, so it
//! depends on this crate and not on the domain.
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
///
/// Every accessor checks what it finds: a NULL where a value is required, or a value of
/// another type, is a [`SqlError::Decode`] naming the column, never a silent 0 or "". Schema
/// drift then fails loudly at the first read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlRow(pub Vec<SqlValue>);

impl SqlRow {
    fn cell(&self, idx: usize) -> Result<&SqlValue, SqlError> {
        self.0.get(idx).ok_or_else(|| {
            SqlError::Decode(format!(
                "column {idx} is missing (row has {})",
                self.0.len()
            ))
        })
    }

    fn wrong(idx: usize, want: &str, got: &SqlValue) -> SqlError {
        SqlError::Decode(format!("column {idx}: expected {want}, found {got:?}"))
    }

    /// Integer at `idx`, `None` for NULL.
    ///
    /// # Errors
    /// [`SqlError::Decode`] for a missing column or another type.
    pub fn opt_int(&self, idx: usize) -> Result<Option<i64>, SqlError> {
        match self.cell(idx)? {
            SqlValue::Null => Ok(None),
            SqlValue::Integer(v) => Ok(Some(*v)),
            other => Err(Self::wrong(idx, "an integer", other)),
        }
    }

    /// Integer at `idx`.
    ///
    /// # Errors
    /// [`SqlError::Decode`] for NULL, a missing column or another type.
    pub fn int(&self, idx: usize) -> Result<i64, SqlError> {
        self.opt_int(idx)?
            .ok_or_else(|| Self::wrong(idx, "an integer", &SqlValue::Null))
    }

    /// A number at `idx` (an integer or a real, as `AVG` answers), `None` for NULL.
    ///
    /// # Errors
    /// [`SqlError::Decode`] for a missing column or a non-number.
    pub fn opt_real(&self, idx: usize) -> Result<Option<f64>, SqlError> {
        match self.cell(idx)? {
            SqlValue::Null => Ok(None),
            SqlValue::Integer(v) => Ok(Some(*v as f64)),
            SqlValue::Real(v) => Ok(Some(*v)),
            other => Err(Self::wrong(idx, "a number", other)),
        }
    }

    /// Text at `idx`, `None` for NULL.
    ///
    /// # Errors
    /// [`SqlError::Decode`] for a missing column or another type.
    pub fn opt_text(&self, idx: usize) -> Result<Option<String>, SqlError> {
        match self.cell(idx)? {
            SqlValue::Null => Ok(None),
            SqlValue::Text(v) => Ok(Some(v.clone())),
            other => Err(Self::wrong(idx, "text", other)),
        }
    }

    /// Text at `idx`.
    ///
    /// # Errors
    /// [`SqlError::Decode`] for NULL, a missing column or another type.
    pub fn text(&self, idx: usize) -> Result<String, SqlError> {
        self.opt_text(idx)?
            .ok_or_else(|| Self::wrong(idx, "text", &SqlValue::Null))
    }

    /// Text at `idx` parsed into one of a closed set of words (a status, a currency…).
    ///
    /// # Errors
    /// [`SqlError::Decode`] for NULL, another type or a word the type does not know.
    pub fn word<T>(&self, idx: usize) -> Result<T, SqlError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let text = self.text(idx)?;
        text.parse()
            .map_err(|e| SqlError::Decode(format!("column {idx}: {e}")))
    }

    /// As [`SqlRow::word`], `None` for NULL.
    ///
    /// # Errors
    /// As [`SqlRow::word`].
    pub fn opt_word<T>(&self, idx: usize) -> Result<Option<T>, SqlError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.opt_text(idx)? {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|e| SqlError::Decode(format!("column {idx}: {e}"))),
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
    /// A row did not have the shape the reader expected (NULL, another type, an unknown
    /// word): the schema and the code disagree.
    #[error("sql row: {0}")]
    Decode(String),
    /// The database does not take this kind of statement at all (a libSQL server refuses
    /// `PRAGMA`s): tuning that the backend does its own way, to be skipped, not retried.
    #[error("sql statement not supported by this database: {0}")]
    Unsupported(String),
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
        } else if msg.contains("unsupported statement") {
            SqlError::Unsupported(msg)
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

/// Lua script for [`Queue::add_marked`]: `XADD` the entry, set its marker key and refresh the
/// stream's time to live in one atomic step, so "in the stream" and "marked as enqueued" can
/// never disagree, and a stream nobody adds to any more (a playground run's) expires.
/// KEYS: stream, marker. ARGV: marker TTL (s), stream TTL (s), then field, value pairs.
/// Returns the entry id.
pub const ADD_MARKED_SCRIPT: &str = "local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3)) \
    redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[1])) \
    redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2])) return id";

/// Lua script for [`Queue::backlog`]. KEYS: stream. Returns `{length, lag, pending,
/// oldest pending id or ""}` over every consumer group: the largest lag (entries no consumer of
/// that group has read yet), the sum of pending (read, not yet acked) and the oldest pending
/// entry. With no group yet, every entry is lag. A lag Redis cannot tell (after deletions) is
/// counted from the group's last delivered id, up to 10,000.
pub const BACKLOG_SCRIPT: &str = r#"
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0, ''} end
local len = redis.call('XLEN', KEYS[1])
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return {len, len, 0, ''} end
local lag, pending, oldest = 0, 0, ''
for _, g in ipairs(groups) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  local l = f['lag']
  if type(l) ~= 'number' then
    l = #redis.call('XRANGE', KEYS[1], '(' .. f['last-delivered-id'], '+', 'COUNT', 10000)
  end
  if l > lag then lag = l end
  pending = pending + f['pending']
  if f['pending'] > 0 then
    local p = redis.call('XPENDING', KEYS[1], f['name'])
    if oldest == '' or older(p[2], oldest) then oldest = p[2] end
  end
end
return {len, lag, pending, oldest}
"#;

/// The jobs stream's backlog: what is waiting, not what the stream happens to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Entries the stream holds (`XLEN`): waiting, pending, and acked ones not trimmed yet.
    pub length: u64,
    /// Entries no host has read yet (the consumer group's lag).
    pub lag: u64,
    /// Entries read by a host and not yet acknowledged (running or being delivered).
    pub pending: u64,
    /// When the oldest pending entry was added, Unix milliseconds (from its id).
    pub oldest_pending_ms: Option<i64>,
}

impl Backlog {
    /// Parses the oldest pending entry id (`<ms>-<seq>`) into its time.
    pub fn entry_time_ms(id: &str) -> Option<i64> {
        id.split('-').next().and_then(|ms| ms.parse().ok())
    }
}

/// The jobs stream in Redis.
#[async_trait(?Send)]
pub trait Queue {
    /// Runs [`ADD_MARKED_SCRIPT`]: appends an entry of `fields` (name, value pairs) to
    /// `stream`, sets `marker` (for `marker_ttl_secs`) and gives the stream a time to live of
    /// `stream_ttl_secs`, atomically; returns the entry id.
    async fn add_marked(
        &self,
        stream: &str,
        marker: &str,
        fields: &[(&str, &str)],
        marker_ttl_secs: u64,
        stream_ttl_secs: u64,
    ) -> Result<String, QueueError>;
    /// For each key, whether it exists (`MGET`).
    async fn exist(&self, keys: &[String]) -> Result<Vec<bool>, QueueError>;
    /// Removes `keys` (`DEL`; absent ones are fine).
    async fn delete(&self, keys: &[String]) -> Result<(), QueueError>;
    /// The stream's backlog ([`BACKLOG_SCRIPT`]).
    async fn backlog(&self, stream: &str) -> Result<Backlog, QueueError>;
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

/// Waiting (honouring a Bot API `retry_after`), on the caller's runtime.
#[async_trait(?Send)]
pub trait Sleep {
    /// Returns after `ms` milliseconds.
    async fn sleep(&self, ms: u64);
}

/// Configuration lookup (Spin variables, env, a map in tests).
#[async_trait(?Send)]
pub trait Config {
    /// The value of variable `name` (lowercase snake_case), `None` when unset or empty.
    async fn get(&self, name: &str) -> Option<String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_refuse_null_and_other_types() {
        let row = SqlRow(vec![
            SqlValue::Integer(3),
            SqlValue::Null,
            SqlValue::Text("queued".into()),
            SqlValue::Real(1.5),
        ]);
        assert_eq!(row.int(0), Ok(3));
        assert_eq!(row.opt_int(1), Ok(None));
        assert!(matches!(row.int(1), Err(SqlError::Decode(_))));
        assert!(matches!(row.int(2), Err(SqlError::Decode(_))));
        assert!(matches!(row.text(0), Err(SqlError::Decode(_))));
        assert_eq!(row.text(2).as_deref(), Ok("queued"));
        assert_eq!(row.opt_text(1), Ok(None));
        assert_eq!(row.opt_real(3), Ok(Some(1.5)));
        assert_eq!(row.opt_real(0), Ok(Some(3.0)));
        assert!(matches!(row.int(9), Err(SqlError::Decode(_))));
        assert_eq!(row.word::<u8>(0).ok(), None);
        assert_eq!(row.opt_word::<u8>(1), Ok(None));
    }

    #[test]
    fn messages_are_classified() {
        let e = |m: &str| SqlError::from_message(m);
        assert!(matches!(
            e("UNIQUE constraint failed: t.k"),
            SqlError::Constraint(_)
        ));
        assert!(matches!(e("database is locked"), SqlError::Unavailable(_)));
        assert!(matches!(
            e("SQL string could not be parsed: unsupported statement"),
            SqlError::Unsupported(_)
        ));
        assert!(matches!(e("no such table: x"), SqlError::Other(_)));
    }
}
