//! At-most-once claims of Telegram `update_id`s: a unique insert in SQLite is atomic, which
//! Spin's key-value store is not (no compare-and-set). Old claims are pruned by age.
//!
//! Claims are volatile writes ([`Sql::execute_volatile`]): a power failure can lose only the
//! claims made since the last durable commit — updates that moved no money and made no job
//! (those commit durably, persisting earlier claims with them) — and Telegram redelivers only
//! updates it got no answer for. A claim without its own fsync is worth that.

use crate::error::CoreResult;
use crate::ports::Sql;

/// How long a claim is kept (ms). Telegram gives up redelivering long before.
pub const KEEP_MS: i64 = 48 * 3_600_000;

/// Claims `update_id`; true when this call is the first to see it.
///
/// # Errors
/// The storage error (the update was not claimed: let Telegram redeliver it).
pub async fn claim(sql: &dyn Sql, update_id: i64, now_ms: i64) -> CoreResult<bool> {
    let rows = sql
        .execute_volatile(
            "INSERT INTO processed_updates (update_id, claimed_at) VALUES (?1, ?2) \
             ON CONFLICT(update_id) DO NOTHING RETURNING update_id",
            &[update_id.into(), now_ms.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Gives a claim back after a transient failure, so Telegram's redelivery is handled.
///
/// # Errors
/// The storage error.
pub async fn release(sql: &dyn Sql, update_id: i64) -> CoreResult<()> {
    // Durable: a lost release would drop Telegram's redelivery as a duplicate.
    sql.execute(
        "DELETE FROM processed_updates WHERE update_id = ?1",
        &[update_id.into()],
    )
    .await?;
    Ok(())
}

/// Deletes claims older than [`KEEP_MS`]; returns how many.
///
/// # Errors
/// The storage error.
pub async fn prune(sql: &dyn Sql, now_ms: i64) -> CoreResult<u64> {
    let rows = sql
        .execute(
            "DELETE FROM processed_updates WHERE claimed_at < ?1 RETURNING update_id",
            &[(now_ms - KEEP_MS).into()],
        )
        .await?;
    Ok(rows.len() as u64)
}
