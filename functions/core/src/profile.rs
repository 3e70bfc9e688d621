//! A user as people and operators see them: the user, their balance and their job counts.
//! Above `users` and `ledger`, which do not need each other for it.

use serde::{Deserialize, Serialize};

use crate::contract::UserId;
use crate::error::CoreResult;
use crate::ledger;
use crate::ports::Sql;
use crate::settings::Settings;
use crate::users::{self, JobCounts, User, UserInput};

/// A user with balance and job counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Profile {
    /// The user.
    #[serde(flatten)]
    pub user: User,
    /// Balance in credits.
    pub balance: i64,
    /// Job counts.
    pub jobs: JobCounts,
}

/// The user with balance and job counts.
///
/// # Errors
/// [`CoreError::NotFound`] or the storage error.
pub async fn of(sql: &dyn Sql, telegram_id: UserId) -> CoreResult<Profile> {
    let user = users::get(sql, telegram_id).await?;
    let balance = ledger::balance(sql, telegram_id).await?;
    let rows = sql
        .execute(
            "SELECT status, COUNT(*) FROM jobs WHERE user_id = ?1 GROUP BY status",
            &[telegram_id.0.into()],
        )
        .await?;
    let mut jobs = JobCounts::default();
    for r in &rows {
        jobs.add(r.word(0)?, r.int(1)?);
    }
    Ok(Profile {
        user,
        balance,
        jobs,
    })
}

/// Registers a user or refreshes their names ([`users::upsert`]) and returns their profile
/// and whether they are new.
///
/// # Errors
/// [`crate::CoreError::Invalid`] for a bad id or overlong names; the storage error.
pub async fn register(
    sql: &dyn Sql,
    settings: &Settings,
    input: &UserInput,
    now_ms: i64,
) -> CoreResult<(Profile, bool)> {
    let (_, created) = users::upsert(sql, settings, input, now_ms).await?;
    Ok((of(sql, UserId(input.telegram_id)).await?, created))
}
