//! The ledger: the only way money moves. Every change of a balance is one append-only entry
//! here; nothing updates a balance in place.
//!
//! Every movement is an append-only row with a unique `(kind, reference)`: posting the same
//! movement again is a no-op that returns the first entry. A trigger keeps `balances` equal
//! to the sum of the ledger, and its `CHECK (balance >= 0)` refuses any entry that would
//! make a balance negative, inside the same statement — also under concurrent requests.

use serde::{Deserialize, Serialize};

use crate::contract::UserId;
use crate::error::{CoreError, CoreResult};
use crate::ports::{Sql, SqlError, SqlRow};

/// The kinds of money movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// `INITIAL_BALANCE`, once per user (reference: telegram id).
    SignupBonus,
    /// An edit's price (reference: job id).
    JobCharge,
    /// Refund of a failed or cancelled edit (reference: job id).
    JobRefund,
    /// A top-up (reference: payment id).
    Topup,
    /// The bonus on a top-up (reference: payment id).
    TopupBonus,
    /// A refunded top-up taken back (reference: refund id).
    TopupRefund,
    /// A manual correction by an admin (reference: idempotency key).
    AdminAdjustment,
}

impl EntryKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::SignupBonus => "signup_bonus",
            EntryKind::JobCharge => "job_charge",
            EntryKind::JobRefund => "job_refund",
            EntryKind::Topup => "topup",
            EntryKind::TopupBonus => "topup_bonus",
            EntryKind::TopupRefund => "topup_refund",
            EntryKind::AdminAdjustment => "admin_adjustment",
        }
    }

    fn parse(s: &str) -> Option<EntryKind> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    /// Row id (increasing).
    pub id: i64,
    /// Telegram id of the owner.
    pub user_id: i64,
    /// Signed amount in credits.
    pub amount: i64,
    /// What moved the money.
    pub kind: EntryKind,
    /// What it refers to (job id, payment id, …).
    pub reference: String,
    /// Free text (admin reason).
    pub note: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A movement to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry<'a> {
    /// Owner.
    pub user_id: i64,
    /// Signed amount in credits.
    pub amount: i64,
    /// Kind.
    pub kind: EntryKind,
    /// Unique reference within the kind.
    pub reference: &'a str,
    /// Free text.
    pub note: Option<&'a str>,
}

/// What posting did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Posted {
    /// The entry (the earlier one when this was a repeat).
    pub entry: Entry,
    /// False when the same (kind, reference) was posted before.
    pub created: bool,
    /// The balance afterwards.
    pub balance: i64,
}

/// The bonus on a top-up: `amount * percent / 100`, rounded down.
pub fn calculate_bonus(amount: i64, percent: i64) -> i64 {
    amount.max(0).saturating_mul(percent.max(0)) / 100
}

const COLUMNS: &str = "id, user_id, amount, kind, reference, note, created_at";

fn from_row(r: &SqlRow) -> Result<Entry, SqlError> {
    Ok(Entry {
        id: r.int(0)?,
        user_id: r.int(1)?,
        amount: r.int(2)?,
        kind: EntryKind::parse(&r.text(3)?).unwrap_or(EntryKind::AdminAdjustment),
        reference: r.text(4)?,
        note: r.opt_text(5)?,
        created_at: r.int(6)?,
    })
}

/// The user's balance (0 for a user without entries).
///
/// # Errors
/// The storage error.
pub async fn balance(sql: &dyn Sql, user_id: UserId) -> CoreResult<i64> {
    let rows = sql
        .execute(
            "SELECT balance FROM balances WHERE user_id = ?1",
            &[user_id.0.into()],
        )
        .await?;
    Ok(crate::db::count(&rows)?)
}

/// Posts a movement once. A repeat returns the first entry with `created = false`.
///
/// # Errors
/// [`CoreError::InsufficientBalance`] when a debit exceeds the balance; the storage error.
pub async fn post(sql: &dyn Sql, e: &NewEntry<'_>, now_ms: i64) -> CoreResult<Posted> {
    let stmt = format!(
        "INSERT INTO ledger (user_id, amount, kind, reference, note, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(kind, reference) DO NOTHING RETURNING {COLUMNS}"
    );
    let args = [
        e.user_id.into(),
        e.amount.into(),
        e.kind.as_str().into(),
        e.reference.into(),
        e.note.into(),
        now_ms.into(),
    ];
    let rows = match sql.execute(&stmt, &args).await {
        Ok(rows) => rows,
        Err(err) => return Err(balance_error(sql, err, e.user_id, -e.amount).await),
    };
    let (entry, created) = match rows.first() {
        Some(r) => (from_row(r)?, true),
        None => (find(sql, e.kind, e.reference).await?, false),
    };
    let balance = balance(sql, UserId(entry.user_id)).await?;
    Ok(Posted {
        entry,
        created,
        balance,
    })
}

/// Maps a failed debit: the balance CHECK becomes [`CoreError::InsufficientBalance`].
pub(crate) async fn balance_error(
    sql: &dyn Sql,
    err: SqlError,
    user_id: i64,
    needed: i64,
) -> CoreError {
    match &err {
        SqlError::Constraint(msg) if msg.contains("balance") => {
            let balance = balance(sql, UserId(user_id)).await.unwrap_or(0);
            CoreError::InsufficientBalance { needed, balance }
        }
        _ => err.into(),
    }
}

/// The entry posted under `(kind, reference)`.
///
/// # Errors
/// [`CoreError::NotFound`] or the storage error.
pub async fn find(sql: &dyn Sql, kind: EntryKind, reference: &str) -> CoreResult<Entry> {
    let stmt = format!("SELECT {COLUMNS} FROM ledger WHERE kind = ?1 AND reference = ?2");
    let rows = sql
        .execute(&stmt, &[kind.as_str().into(), reference.into()])
        .await?;
    match rows.first() {
        Some(r) => Ok(from_row(r)?),
        None => Err(CoreError::not_found(
            "entry_not_found",
            "no such ledger entry",
        )),
    }
}

/// A page of the user's ledger, newest first, and the total number of entries.
///
/// # Errors
/// The storage error.
pub async fn history(
    sql: &dyn Sql,
    user_id: UserId,
    page: crate::Page,
) -> CoreResult<(Vec<Entry>, i64)> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM ledger WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3"
    );
    let count = "SELECT COUNT(*) FROM ledger WHERE user_id = ?1";
    crate::db::page_of(sql, &stmt, count, user_id.0, page, from_row).await
}

/// Credits a verified top-up and its bonus, each exactly once per payment.
///
/// # Errors
/// The storage error.
pub async fn credit_topup(
    sql: &dyn Sql,
    user_id: UserId,
    payment_id: &str,
    credits: i64,
    bonus: i64,
    now_ms: i64,
) -> CoreResult<Posted> {
    let topup = NewEntry {
        user_id: user_id.0,
        amount: credits,
        kind: EntryKind::Topup,
        reference: payment_id,
        note: None,
    };
    let mut posted = post(sql, &topup, now_ms).await?;
    if bonus > 0 {
        let b = NewEntry {
            user_id: user_id.0,
            amount: bonus,
            kind: EntryKind::TopupBonus,
            reference: payment_id,
            note: None,
        };
        posted.balance = post(sql, &b, now_ms).await?.balance;
    }
    Ok(posted)
}

/// Validates an admin adjustment before posting it.
///
/// # Errors
/// [`CoreError::Invalid`] for a zero amount or an empty reason.
pub fn check_adjustment(amount: i64, reason: &str) -> CoreResult<()> {
    if amount == 0 || amount.unsigned_abs() > 1_000_000_000 {
        return Err(CoreError::invalid(
            "invalid_amount",
            "amount must be a non-zero whole number of credits",
        ));
    }
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(CoreError::invalid(
            "invalid_reason",
            "reason must be 1–500 characters",
        ));
    }
    Ok(())
}

/// An operator's balance adjustment, from the REST API, the bot's `/adjust` or the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment<'a> {
    /// Whose balance.
    pub user_id: UserId,
    /// Signed credits, non-zero.
    pub amount: i64,
    /// Why (1–500 characters), kept as the entry's note.
    pub reason: &'a str,
    /// Idempotency key: the same reference never adjusts twice.
    pub reference: &'a str,
    /// Who did it, recorded in the note ("… (by 42)") when known.
    pub operator: Option<&'a str>,
}

/// Adjusts a balance through the ledger: checks the amount and reason, that the user
/// exists, and posts one `admin_adjustment` entry (a repeat with the same reference
/// returns the first entry). The one rule behind every adjustment.
///
/// # Errors
/// [`CoreError::Invalid`] (`invalid_amount`, `invalid_reason`), [`CoreError::NotFound`]
/// (`user_not_found`), [`CoreError::InsufficientBalance`] when a debit exceeds the balance,
/// [`CoreError::Conflict`] (`reference_reused`) when the reference was used for another user,
/// storage.
pub async fn admin_adjust(sql: &dyn Sql, a: &Adjustment<'_>, now_ms: i64) -> CoreResult<Posted> {
    check_adjustment(a.amount, a.reason)?;
    crate::users::get(sql, a.user_id).await?;
    let note = match a.operator {
        Some(who) => format!("{} (by {who})", a.reason.trim()),
        None => a.reason.trim().to_owned(),
    };
    let entry = NewEntry {
        user_id: a.user_id.0,
        amount: a.amount,
        kind: EntryKind::AdminAdjustment,
        reference: a.reference,
        note: Some(&note),
    };
    let posted = post(sql, &entry, now_ms).await?;
    if posted.entry.user_id != a.user_id.0 {
        tracing::warn!(
            user_id = a.user_id.0,
            other_user_id = posted.entry.user_id,
            "adjustment reference already used for another user"
        );
        return Err(CoreError::conflict(
            "reference_reused",
            "this reference was already used for another user's adjustment",
        ));
    }
    tracing::info!(
        user_id = a.user_id.0,
        amount = a.amount,
        operator = a.operator,
        created = posted.created,
        "admin adjustment"
    );
    Ok(posted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bonus_rounds_down_and_ignores_negatives() {
        assert_eq!(calculate_bonus(1000, 10), 100);
        assert_eq!(calculate_bonus(99, 10), 9);
        assert_eq!(calculate_bonus(-5, 10), 0);
        assert_eq!(calculate_bonus(100, 0), 0);
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            EntryKind::SignupBonus,
            EntryKind::JobCharge,
            EntryKind::TopupRefund,
            EntryKind::AdminAdjustment,
        ] {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
    }
}
