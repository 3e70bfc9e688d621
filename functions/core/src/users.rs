//! Users: registration from a Telegram user, profile, language.

use serde::{Deserialize, Serialize};

use crate::contract::{JobStatus, Language, UserId};
use crate::error::{CoreError, CoreResult};
use crate::ports::{Sql, SqlError, SqlRow};
use crate::settings::Settings;

/// The Telegram user as the bot or an operator knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct UserInput {
    /// Telegram user id.
    #[schema(minimum = 1)]
    pub telegram_id: i64,
    /// `@username` without the `@`.
    #[serde(default)]
    #[schema(max_length = 256)]
    pub username: Option<String>,
    /// First name.
    #[serde(default)]
    #[schema(max_length = 256)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    #[schema(max_length = 256)]
    pub last_name: Option<String>,
    /// Telegram's `language_code` (IETF tag).
    #[serde(default)]
    #[schema(max_length = 256)]
    pub language_code: Option<String>,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// Telegram user id.
    pub telegram_id: i64,
    /// `@username`.
    pub username: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Telegram's language code.
    pub language_code: Option<String>,
    /// Language the user chose in the bot (`ru`/`en`), if any.
    pub lang: Option<String>,
    /// Signup bonus granted.
    pub signup_bonus: i64,
    /// When the user blocked the bot (Telegram 403), Unix ms.
    pub blocked_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
}

impl User {
    /// The language to talk to this user in: their choice, else Telegram's `language_code`
    /// when it is English, else Russian.
    pub fn language(&self) -> Language {
        resolve_language(self.lang.as_deref(), self.language_code.as_deref())
    }
}

/// Picks the language: explicit choice first, then Telegram's code, then Russian.
pub fn resolve_language(choice: Option<&str>, language_code: Option<&str>) -> Language {
    match (choice, language_code) {
        (Some(c), _) if !c.is_empty() => Language::from_tag(c),
        (_, Some(code)) if !code.is_empty() => Language::from_tag(code),
        _ => Language::Ru,
    }
}

/// Job counts of a user by status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct JobCounts {
    /// All jobs.
    pub total: i64,
    /// Waiting for a GPU.
    pub queued: i64,
    /// Running.
    pub running: i64,
    /// Delivered.
    pub succeeded: i64,
    /// Failed (refunded).
    pub failed: i64,
    /// Cancelled (refunded).
    pub cancelled: i64,
}

impl JobCounts {
    /// Counts `n` more jobs in `status`.
    pub fn add(&mut self, status: JobStatus, n: i64) {
        self.total += n;
        let slot = match status {
            JobStatus::Queued => &mut self.queued,
            JobStatus::Running => &mut self.running,
            JobStatus::Succeeded => &mut self.succeeded,
            JobStatus::Failed => &mut self.failed,
            JobStatus::Cancelled => &mut self.cancelled,
        };
        *slot += n;
    }
}

/// The columns [`from_row`] reads, in order.
pub(crate) const COLUMNS: &str = "telegram_id, username, first_name, last_name, language_code, lang, signup_bonus, blocked_at, created_at";

/// How many columns [`COLUMNS`] lists.
pub(crate) const COLUMN_COUNT: usize = count_columns(COLUMNS);

const fn count_columns(list: &str) -> usize {
    let bytes = list.as_bytes();
    let (mut i, mut n) = (0, 1);
    while i < bytes.len() {
        if bytes[i] == b',' {
            n += 1;
        }
        i += 1;
    }
    n
}

/// A user from a row of [`COLUMNS`].
pub(crate) fn from_row(r: &SqlRow) -> Result<User, SqlError> {
    Ok(User {
        telegram_id: r.int(0)?,
        username: r.opt_text(1)?,
        first_name: r.opt_text(2)?,
        last_name: r.opt_text(3)?,
        language_code: r.opt_text(4)?,
        lang: r.opt_text(5)?,
        signup_bonus: r.int(6)?,
        blocked_at: r.opt_int(7)?,
        created_at: r.int(8)?,
    })
}

fn check_input(u: &UserInput) -> CoreResult<()> {
    if u.telegram_id <= 0 {
        return Err(CoreError::invalid(
            "invalid_user",
            "telegram_id must be a positive Telegram user id",
        ));
    }
    let too_long = [&u.username, &u.first_name, &u.last_name, &u.language_code]
        .iter()
        .any(|f| f.as_ref().is_some_and(|s| s.chars().count() > 256));
    if too_long {
        return Err(CoreError::invalid(
            "invalid_user",
            "name fields are at most 256 characters",
        ));
    }
    Ok(())
}

/// Registers a user or refreshes their names; the signup bonus is granted once, in the same
/// statement as the insert. Returns the user and whether they are new (with balance and job
/// counts: [`crate::profile::register`]).
///
/// # Errors
/// [`CoreError::Invalid`] for a bad id or overlong names; the storage error.
pub async fn upsert(
    sql: &dyn Sql,
    settings: &Settings,
    u: &UserInput,
    now_ms: i64,
) -> CoreResult<(User, bool)> {
    check_input(u)?;
    let args = [
        u.telegram_id.into(),
        u.username.clone().into(),
        u.first_name.clone().into(),
        u.last_name.clone().into(),
        u.language_code.clone().into(),
        settings.initial_balance.into(),
        now_ms.into(),
    ];
    let inserted = sql
        .execute(
            "INSERT INTO users (telegram_id, username, first_name, last_name, language_code, signup_bonus, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
             ON CONFLICT(telegram_id) DO NOTHING RETURNING telegram_id",
            &args,
        )
        .await?;
    let created = !inserted.is_empty();
    if !created {
        sql.execute(
            "UPDATE users SET username = ?2, first_name = ?3, last_name = ?4, \
             language_code = COALESCE(?5, language_code), blocked_at = NULL, updated_at = ?7 WHERE telegram_id = ?1",
            &args,
        )
        .await?;
    } else {
        tracing::info!(
            user_id = u.telegram_id,
            bonus = settings.initial_balance,
            "user registered"
        );
    }
    Ok((get(sql, UserId(u.telegram_id)).await?, created))
}

/// A user by Telegram id.
///
/// # Errors
/// [`CoreError::NotFound`] (`user_not_found`) or the storage error.
pub async fn get(sql: &dyn Sql, telegram_id: UserId) -> CoreResult<User> {
    let stmt = format!("SELECT {COLUMNS} FROM users WHERE telegram_id = ?1");
    let rows = sql.execute(&stmt, &[telegram_id.0.into()]).await?;
    crate::db::first(&rows, from_row)?.ok_or_else(|| user_not_found(telegram_id))
}

/// Users an operator looks for: the one with Telegram id `query` (digits), or those whose
/// `@username` is `query` (with or without the `@`, any case), at most 20.
///
/// # Errors
/// The storage error.
pub async fn search(sql: &dyn Sql, query: &str) -> CoreResult<Vec<User>> {
    let q = query.trim().trim_start_matches('@');
    if q.is_empty() {
        return Ok(Vec::new());
    }
    if let Ok(id) = q.parse::<i64>() {
        let stmt = format!("SELECT {COLUMNS} FROM users WHERE telegram_id = ?1");
        let rows = sql.execute(&stmt, &[id.into()]).await?;
        return Ok(crate::db::all(&rows, from_row)?);
    }
    let stmt = format!(
        "SELECT {COLUMNS} FROM users WHERE username = ?1 COLLATE NOCASE ORDER BY telegram_id LIMIT 20"
    );
    let rows = sql.execute(&stmt, &[q.into()]).await?;
    Ok(crate::db::all(&rows, from_row)?)
}

/// The "user does not exist" error.
pub fn user_not_found(telegram_id: UserId) -> CoreError {
    CoreError::not_found(
        "user_not_found",
        format!("user {} is not registered", telegram_id.0),
    )
}

/// Stores the language the user chose (`ru` or `en`).
///
/// # Errors
/// [`CoreError::Invalid`] for another language, [`CoreError::NotFound`], the storage error.
pub async fn set_language(
    sql: &dyn Sql,
    telegram_id: UserId,
    lang: &str,
    now_ms: i64,
) -> CoreResult<()> {
    if lang != "ru" && lang != "en" {
        return Err(CoreError::invalid(
            "invalid_language",
            "language must be ru or en",
        ));
    }
    let rows = sql
        .execute(
            "UPDATE users SET lang = ?2, updated_at = ?3 WHERE telegram_id = ?1 RETURNING telegram_id",
            &[telegram_id.0.into(), lang.into(), now_ms.into()],
        )
        .await?;
    if rows.is_empty() {
        Err(user_not_found(telegram_id))
    } else {
        Ok(())
    }
}

/// Records that the user blocked the bot (Telegram answered 403).
///
/// # Errors
/// The storage error.
pub async fn mark_blocked(sql: &dyn Sql, telegram_id: UserId, now_ms: i64) -> CoreResult<()> {
    sql.execute(
        "UPDATE users SET blocked_at = ?2 WHERE telegram_id = ?1 AND blocked_at IS NULL",
        &[telegram_id.0.into(), now_ms.into()],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_prefers_choice_then_code_then_russian() {
        assert_eq!(resolve_language(Some("en"), Some("ru")), Language::En);
        assert_eq!(resolve_language(None, Some("en-US")), Language::En);
        assert_eq!(resolve_language(None, Some("de")), Language::Ru);
        assert_eq!(resolve_language(None, None), Language::Ru);
    }
}
