//! Draft images of the bot: the photos a chat has sent for the edit it is preparing.
//!
//! Each image is a row, added with one conditional insert, so the photos of an album that
//! arrive as concurrent webhook updates are all kept (Spin's key-value store has no
//! compare-and-set; `SPIN-FACTS.md`). Starting a job *takes* the rows in one `DELETE …
//! RETURNING`, so two presses of "Start" cannot both use them.

use crate::error::CoreResult;
use crate::jobs::MAX_IMAGES;
use crate::ports::Sql;

/// Drafts older than this are pruned (ms).
pub const KEEP_MS: i64 = 24 * 3_600_000;

/// What adding an image did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Stored; `count` images are in the draft now, `group_first` is true for the first
    /// image of its album (or for an image without album).
    Stored {
        /// Images in the draft.
        count: usize,
        /// First of its media group.
        group_first: bool,
    },
    /// The same file was added before (a redelivered update); nothing changed.
    Duplicate {
        /// Images in the draft.
        count: usize,
    },
    /// The draft already holds [`MAX_IMAGES`] images.
    Full,
}

/// Adds an image to the chat's draft unless it already holds [`MAX_IMAGES`].
///
/// # Errors
/// The storage error.
pub async fn add(
    sql: &dyn Sql,
    chat_id: i64,
    file_id: &str,
    media_group_id: Option<&str>,
    now_ms: i64,
) -> CoreResult<Added> {
    let inserted = sql
        .execute(
            "INSERT INTO draft_images (chat_id, file_id, media_group_id, added_at) \
             SELECT ?1, ?2, ?3, ?4 WHERE (SELECT COUNT(*) FROM draft_images WHERE chat_id = ?1) < ?5 \
             ON CONFLICT(chat_id, file_id) DO NOTHING RETURNING file_id",
            &[
                chat_id.into(),
                file_id.into(),
                media_group_id.into(),
                now_ms.into(),
                (MAX_IMAGES as i64).into(),
            ],
        )
        .await?;
    let files = list(sql, chat_id).await?;
    let count = files.len();
    if inserted.is_empty() {
        return Ok(if files.iter().any(|f| f == file_id) {
            Added::Duplicate { count }
        } else {
            Added::Full
        });
    }
    let group_first = match media_group_id {
        Some(group) => group_size(sql, chat_id, group).await? == 1,
        None => true,
    };
    Ok(Added::Stored { count, group_first })
}

async fn group_size(sql: &dyn Sql, chat_id: i64, group: &str) -> CoreResult<i64> {
    let rows = sql
        .execute(
            "SELECT COUNT(*) FROM draft_images WHERE chat_id = ?1 AND media_group_id = ?2",
            &[chat_id.into(), group.into()],
        )
        .await?;
    Ok(rows.first().map(|r| r.int(0)).unwrap_or(0))
}

/// The chat's draft images, oldest first.
///
/// # Errors
/// The storage error.
pub async fn list(sql: &dyn Sql, chat_id: i64) -> CoreResult<Vec<String>> {
    let rows = sql
        .execute(
            "SELECT file_id FROM draft_images WHERE chat_id = ?1 ORDER BY rowid",
            &[chat_id.into()],
        )
        .await?;
    Ok(rows.iter().map(|r| r.text(0)).collect())
}

/// Removes and returns the chat's draft images, oldest first (empty when another request
/// took them first).
///
/// # Errors
/// The storage error.
pub async fn take(sql: &dyn Sql, chat_id: i64) -> CoreResult<Vec<String>> {
    let mut rows = sql
        .execute(
            "DELETE FROM draft_images WHERE chat_id = ?1 RETURNING rowid, file_id",
            &[chat_id.into()],
        )
        .await?;
    rows.sort_by_key(|r| r.int(0));
    Ok(rows.iter().map(|r| r.text(1)).collect())
}

/// Puts taken images back (after a transient failure, so the redelivered update finds them).
///
/// # Errors
/// The storage error.
pub async fn restore(sql: &dyn Sql, chat_id: i64, files: &[String], now_ms: i64) -> CoreResult<()> {
    for f in files {
        add(sql, chat_id, f, None, now_ms).await?;
    }
    Ok(())
}

/// Empties the chat's draft.
///
/// # Errors
/// The storage error.
pub async fn clear(sql: &dyn Sql, chat_id: i64) -> CoreResult<()> {
    sql.execute(
        "DELETE FROM draft_images WHERE chat_id = ?1",
        &[chat_id.into()],
    )
    .await?;
    Ok(())
}

/// Deletes drafts older than [`KEEP_MS`]; returns how many.
///
/// # Errors
/// The storage error.
pub async fn prune(sql: &dyn Sql, now_ms: i64) -> CoreResult<u64> {
    let rows = sql
        .execute(
            "DELETE FROM draft_images WHERE added_at < ?1 RETURNING chat_id",
            &[(now_ms - KEEP_MS).into()],
        )
        .await?;
    Ok(rows.len() as u64)
}
