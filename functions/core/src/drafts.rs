//! Draft images of the bot: the photos a chat has sent for the edit it is preparing.
//!
//! Each image is a row, added with one conditional insert, so the photos of an album that
//! arrive as concurrent webhook updates are all kept (Spin's key-value store has no
//! compare-and-set). Images are ordered by their message's id, so an album comes out in the
//! album's order whatever order its updates arrived in. Starting a job *takes* the rows in one
//! `DELETE … RETURNING`, so two presses of "Start" cannot both use them.

use crate::contract::ChatId;
use crate::error::CoreResult;
use crate::jobs::MAX_IMAGES;
use crate::ports::{Sql, SqlError};

/// Drafts older than this are pruned (ms).
pub const KEEP_MS: i64 = 24 * 3_600_000;

/// One image of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Telegram file id.
    pub file_id: String,
    /// The id of the message that carried it (the draft's order).
    pub message_id: i64,
}

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
    chat_id: ChatId,
    image: &Image,
    media_group_id: Option<&str>,
    now_ms: i64,
) -> CoreResult<Added> {
    let inserted = sql
        .execute(
            "INSERT INTO draft_images (chat_id, file_id, media_group_id, added_at, message_id, album_first) \
             SELECT ?1, ?2, ?3, ?4, ?6, NOT EXISTS \
                 (SELECT 1 FROM draft_images WHERE chat_id = ?1 AND media_group_id = ?3) \
             WHERE (SELECT COUNT(*) FROM draft_images WHERE chat_id = ?1) < ?5 \
             ON CONFLICT(chat_id, file_id) DO NOTHING RETURNING album_first",
            &[
                chat_id.0.into(),
                image.file_id.as_str().into(),
                media_group_id.into(),
                now_ms.into(),
                (MAX_IMAGES as i64).into(),
                image.message_id.into(),
            ],
        )
        .await?;
    let files = list(sql, chat_id).await?;
    let count = files.len();
    match inserted.first() {
        // Decided inside the insert, so of an album's photos arriving at once exactly one
        // is first, however their writes were ordered or batched.
        Some(row) => Ok(Added::Stored {
            count,
            group_first: row.int(0)? == 1,
        }),
        None if files.contains(&image.file_id) => Ok(Added::Duplicate { count }),
        None => Ok(Added::Full),
    }
}

/// The chat's draft images' file ids, in message order.
///
/// # Errors
/// The storage error.
pub async fn list(sql: &dyn Sql, chat_id: ChatId) -> CoreResult<Vec<String>> {
    let rows = sql
        .execute(
            "SELECT file_id FROM draft_images WHERE chat_id = ?1 ORDER BY message_id, rowid",
            &[chat_id.0.into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<Vec<String>, _>>()?)
}

/// Removes and returns the chat's draft images in message order (empty when another
/// request took them first).
///
/// # Errors
/// The storage error.
pub async fn take(sql: &dyn Sql, chat_id: ChatId) -> CoreResult<Vec<Image>> {
    let rows = sql
        .execute(
            "DELETE FROM draft_images WHERE chat_id = ?1 RETURNING message_id, rowid, file_id",
            &[chat_id.0.into()],
        )
        .await?;
    let mut images = rows
        .iter()
        .map(|r| Ok((r.int(0)?, r.int(1)?, r.text(2)?)))
        .collect::<Result<Vec<_>, SqlError>>()?;
    images.sort();
    Ok(images
        .into_iter()
        .map(|(message_id, _, file_id)| Image {
            file_id,
            message_id,
        })
        .collect())
}

/// Puts taken images back (after a transient failure, so the redelivered update finds them).
///
/// # Errors
/// The storage error.
pub async fn restore(
    sql: &dyn Sql,
    chat_id: ChatId,
    images: &[Image],
    now_ms: i64,
) -> CoreResult<()> {
    for image in images {
        add(sql, chat_id, image, None, now_ms).await?;
    }
    Ok(())
}

/// Empties the chat's draft.
///
/// # Errors
/// The storage error.
pub async fn clear(sql: &dyn Sql, chat_id: ChatId) -> CoreResult<()> {
    sql.execute(
        "DELETE FROM draft_images WHERE chat_id = ?1",
        &[chat_id.0.into()],
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
