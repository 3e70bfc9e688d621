//! Slowing down password guessing: each wrong password for an operator name, and from a
//! client address, doubles how long that name and address must wait before the next try
//! (1 s, 2 s, 4 s … at most [`MAX_DELAY_MS`]), recorded in the key-value store so every
//! instance sees it. A good sign-in clears the name's and the address's record.

use qwen_core::ports::{KeyValue, KvError};
use serde::{Deserialize, Serialize};

/// The longest wait after many failures.
pub const MAX_DELAY_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Record {
    failures: u32,
    until_ms: i64,
}

/// The wait after `failures` wrong passwords in a row.
pub fn delay_ms(failures: u32) -> i64 {
    if failures == 0 {
        return 0;
    }
    (1_000_i64 << (failures - 1).min(6)).min(MAX_DELAY_MS)
}

/// The store keys of an operator name and a client address.
pub fn keys(name: Option<&str>, ip: &str) -> Vec<String> {
    let mut keys = vec![format!("console:throttle:ip:{ip}")];
    if let Some(n) = name {
        keys.push(format!("console:throttle:name:{n}"));
    }
    keys
}

async fn read(kv: &dyn KeyValue, key: &str) -> Result<Record, KvError> {
    Ok(kv
        .get(key)
        .await?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default())
}

/// How long (ms) the caller must still wait before a try under `keys`; 0 when it may try.
///
/// # Errors
/// The store's error (the caller refuses the sign-in then).
pub async fn wait_ms(kv: &dyn KeyValue, keys: &[String], now_ms: i64) -> Result<i64, KvError> {
    let mut wait = 0;
    for k in keys {
        wait = wait.max(read(kv, k).await?.until_ms - now_ms);
    }
    Ok(wait.max(0))
}

/// Records a wrong password under `keys`.
///
/// # Errors
/// The store's error.
pub async fn failed(kv: &dyn KeyValue, keys: &[String], now_ms: i64) -> Result<(), KvError> {
    for k in keys {
        let mut r = read(kv, k).await?;
        r.failures = r.failures.saturating_add(1);
        r.until_ms = now_ms + delay_ms(r.failures);
        let bytes = serde_json::to_vec(&r).map_err(|e| KvError(e.to_string()))?;
        kv.set(k, &bytes).await?;
    }
    Ok(())
}

/// Clears the records under `keys` after a good sign-in.
///
/// # Errors
/// The store's error.
pub async fn succeeded(kv: &dyn KeyValue, keys: &[String]) -> Result<(), KvError> {
    for k in keys {
        kv.delete(k).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn delays_double_up_to_the_cap() {
        let d: Vec<i64> = (0..9).map(super::delay_ms).collect();
        assert_eq!(
            d,
            [
                0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000
            ]
        );
    }
}
