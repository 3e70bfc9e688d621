//! The core's [`Queue`] port on a real Redis, with timeouts (a silent Redis must not hang a
//! request) and one cached connection that is dropped on any error, as the Spin adapter does.

use std::cell::RefCell;
use std::time::Duration;

use async_trait::async_trait;
use qwen_core::ports::{ADD_MARKED_SCRIPT, BACKLOG_SCRIPT, Backlog, Queue, QueueError};
use redis::aio::MultiplexedConnection;

/// How long one Redis call may take.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// A Redis stream client for one thread (its connection lives on that thread's runtime).
pub struct RedisQueue {
    url: String,
    conn: RefCell<Option<MultiplexedConnection>>,
}

impl RedisQueue {
    /// A queue on `url` (connects on first use).
    pub fn new(url: &str) -> RedisQueue {
        RedisQueue {
            url: url.to_owned(),
            conn: RefCell::new(None),
        }
    }

    async fn connection(&self) -> Result<MultiplexedConnection, QueueError> {
        if let Some(c) = self.conn.borrow().as_ref() {
            return Ok(c.clone());
        }
        let client =
            redis::Client::open(self.url.as_str()).map_err(|e| QueueError(e.to_string()))?;
        let conn = tokio::time::timeout(REDIS_TIMEOUT, client.get_multiplexed_async_connection())
            .await
            .map_err(|_| QueueError("redis connect timed out".into()))?
            .map_err(|e| QueueError(e.to_string()))?;
        *self.conn.borrow_mut() = Some(conn.clone());
        Ok(conn)
    }

    async fn call<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, QueueError> {
        let mut conn = self.connection().await?;
        let result = tokio::time::timeout(REDIS_TIMEOUT, cmd.query_async::<T>(&mut conn)).await;
        let outcome = match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(QueueError(e.to_string())),
            Err(_) => Err(QueueError("redis call timed out".into())),
        };
        if outcome.is_err() {
            self.conn.borrow_mut().take();
        }
        outcome
    }
}

#[async_trait(?Send)]
impl Queue for RedisQueue {
    async fn add_marked(
        &self,
        stream: &str,
        marker: &str,
        fields: &[(&str, &str)],
        marker_ttl_secs: u64,
        stream_ttl_secs: u64,
    ) -> Result<String, QueueError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(ADD_MARKED_SCRIPT)
            .arg(2)
            .arg(stream)
            .arg(marker)
            .arg(marker_ttl_secs)
            .arg(stream_ttl_secs);
        for (k, v) in fields {
            cmd.arg(*k).arg(*v);
        }
        self.call(cmd).await
    }

    async fn exist(&self, keys: &[String]) -> Result<Vec<bool>, QueueError> {
        let mut cmd = redis::cmd("MGET");
        cmd.arg(keys);
        let values: Vec<Option<String>> = self.call(cmd).await?;
        Ok(values.iter().map(Option::is_some).collect())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), QueueError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("DEL");
        cmd.arg(keys);
        self.call::<i64>(cmd).await.map(drop)
    }

    async fn backlog(&self, stream: &str) -> Result<Backlog, QueueError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(BACKLOG_SCRIPT).arg(1).arg(stream);
        let (length, lag, pending, oldest): (u64, u64, u64, String) = self.call(cmd).await?;
        Ok(Backlog {
            length,
            lag,
            pending,
            oldest_pending_ms: Backlog::entry_time_ms(&oldest),
        })
    }
}
