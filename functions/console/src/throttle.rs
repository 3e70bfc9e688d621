//! Slowing down password guessing. Every try claims, before any password is hashed, one
//! row per key — the client's address and the submitted name, known or not — in a single
//! SQLite statement: it counts the try and sets the wait before the next one (1 s, 2 s,
//! 4 s … at most [`MAX_DELAY_MS`]) for every key at once, or for none when one of them
//! must still wait. SQLite runs one writing statement at a time, so N parallel guesses
//! cannot all pass (the key-value store has no compare-and-set, which is why this lives in
//! the database). A good sign-in clears its keys; a key with no try for [`FORGET_MS`] is
//! forgotten and its row pruned.

use qwen_core::ports::{Sql, SqlError, SqlValue};

/// The longest wait after many failures.
pub const MAX_DELAY_MS: i64 = 60_000;

/// A key with no try for this long starts again from its first try.
pub const FORGET_MS: i64 = 15 * 60_000;

/// The longest part of a key taken from the request (a longer name is cut).
pub const MAX_KEY_CHARS: usize = 64;

/// The wait after `failures` tries in a row that did not sign in.
pub fn delay_ms(failures: u32) -> i64 {
    if failures == 0 {
        return 0;
    }
    (1_000_i64 << (failures - 1).min(6)).min(MAX_DELAY_MS)
}

/// The keys of a try: the client's address and the submitted name (cut to
/// [`MAX_KEY_CHARS`]), whether or not an operator has that name.
pub fn keys(name: &str, ip: &str) -> [String; 2] {
    let cut = |s: &str| s.chars().take(MAX_KEY_CHARS).collect::<String>();
    [format!("ip:{}", cut(ip)), format!("name:{}", cut(name))]
}

/// Whether a try may go on to the password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Counted; check the password.
    Granted,
    /// Refused before any hashing; wait this many ms.
    Wait(i64),
}

const CLAIM: &str = "INSERT INTO console_throttle (key, failures, until_ms, expires_ms) \
     SELECT column1, 1, ?1 + 1000, ?1 + ?2 FROM (VALUES (?3), (?4)) \
     WHERE NOT EXISTS (SELECT 1 FROM console_throttle \
                       WHERE key IN (?3, ?4) AND until_ms > ?1 AND expires_ms > ?1) \
     ON CONFLICT(key) DO UPDATE SET \
       failures = CASE WHEN console_throttle.expires_ms <= ?1 THEN 1 \
                  ELSE console_throttle.failures + 1 END, \
       until_ms = ?1 + CASE WHEN console_throttle.expires_ms <= ?1 THEN 1000 \
                  ELSE MIN(1000 << MIN(console_throttle.failures, 6), ?5) END, \
       expires_ms = ?1 + ?2 \
     RETURNING key";

/// Claims a try under `keys` at `now_ms` (prunes forgotten rows first).
///
/// # Errors
/// The database's error (the caller refuses the sign-in then).
pub async fn claim(sql: &dyn Sql, keys: &[String; 2], now_ms: i64) -> Result<Claim, SqlError> {
    prune(sql, now_ms).await?;
    let [ip, name] = keys;
    let params = [
        SqlValue::Integer(now_ms),
        SqlValue::Integer(FORGET_MS),
        SqlValue::Text(ip.clone()),
        SqlValue::Text(name.clone()),
        SqlValue::Integer(MAX_DELAY_MS),
    ];
    if !sql.execute(CLAIM, &params).await?.is_empty() {
        return Ok(Claim::Granted);
    }
    let rows = sql
        .execute(
            "SELECT COALESCE(MAX(until_ms), 0) FROM console_throttle \
             WHERE key IN (?2, ?3) AND expires_ms > ?1",
            &[params[0].clone(), params[2].clone(), params[3].clone()],
        )
        .await?;
    let until = qwen_core::db::count(&rows)?;
    Ok(Claim::Wait((until - now_ms).max(1)))
}

/// Clears `keys` after a good sign-in.
///
/// # Errors
/// The database's error.
pub async fn succeeded(sql: &dyn Sql, keys: &[String; 2]) -> Result<(), SqlError> {
    let [ip, name] = keys;
    sql.execute(
        "DELETE FROM console_throttle WHERE key IN (?1, ?2)",
        &[SqlValue::Text(ip.clone()), SqlValue::Text(name.clone())],
    )
    .await?;
    Ok(())
}

/// Deletes the rows of keys forgotten by `now_ms`.
///
/// # Errors
/// The database's error.
pub async fn prune(sql: &dyn Sql, now_ms: i64) -> Result<(), SqlError> {
    sql.execute(
        "DELETE FROM console_throttle WHERE expires_ms <= ?1",
        &[SqlValue::Integer(now_ms)],
    )
    .await?;
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
