//! Helpers for tests that use the shared Redis: unique key prefixes and cleanup.

/// The Redis every test uses (`REDIS_URL` overrides).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A unique prefix for one test's keys.
pub fn unique_prefix(name: &str) -> String {
    format!("test:{name}:{}", uuid::Uuid::new_v4().simple())
}

/// Deletes every key under `prefix` (best effort).
pub async fn cleanup(prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url()) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}

/// Reads every job message on `stream` (field `job`), oldest first.
pub async fn stream_jobs(stream: &str) -> Vec<String> {
    let Ok(client) = redis::Client::open(redis_url()) else {
        return Vec::new();
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return Vec::new();
    };
    let reply: redis::streams::StreamRangeReply = match redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
    {
        Ok(r) => r,
        Err(_) => return Vec::new(),
    };
    reply
        .ids
        .iter()
        .filter_map(|id| id.get::<String>(qwen_core::contract::JOB_FIELD))
        .collect()
}

/// Whether `key` exists in the shared Redis.
///
/// # Panics
/// When Redis cannot be reached (test setup).
pub async fn key_exists(key: &str) -> bool {
    let client = redis::Client::open(redis_url()).unwrap_or_else(|e| panic!("redis url: {e}"));
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("redis: {e}"));
    let n: i64 = redis::cmd("EXISTS")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("EXISTS: {e}"));
    n == 1
}
