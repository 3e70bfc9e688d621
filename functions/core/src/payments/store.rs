//! The `payments` table: every read and status change. Status changes that move money
//! (`succeeded`, `refunded`) are single guarded `UPDATE … RETURNING` statements whose
//! triggers write the ledger, so concurrent duplicates change nothing.

use serde::Serialize;

use super::model::{Payment, Started};
use crate::contract::{ChatId, UserId};
use crate::error::{CoreError, CoreResult};
use crate::ports::{Sql, SqlError, SqlRow, SqlValue};

const COLUMNS: &str = "id, user_id, method, amount, currency, credits, bonus, status, \
    provider_payment_id, confirmation_url, failure, provider_status, charge_id, refund_id, \
    refunded, shortfall, created_at, updated_at, credited_at, refunded_at, refunded_amount, \
    chat_id, message_id";

fn from_row(r: &SqlRow) -> Result<Payment, SqlError> {
    Ok(Payment {
        id: r.text(0)?,
        user_id: r.int(1)?,
        method: r.word(2)?,
        amount: r.int(3)?,
        currency: r.word(4)?,
        credits: r.int(5)?,
        bonus: r.int(6)?,
        status: r.word(7)?,
        provider_payment_id: r.opt_text(8)?,
        confirmation_url: r.opt_text(9)?,
        failure: r.opt_text(10)?,
        provider_status: r.opt_text(11)?,
        charge_id: r.opt_text(12)?,
        refund_id: r.opt_text(13)?,
        refunded: r.int(14)?,
        shortfall: r.int(15)?,
        created_at: r.int(16)?,
        updated_at: r.int(17)?,
        credited_at: r.opt_int(18)?,
        refunded_at: r.opt_int(19)?,
        refunded_amount: r.int(20)?,
        chat_id: r.opt_int(21)?,
        message_id: r.opt_int(22)?,
    })
}

async fn one(sql: &dyn Sql, stmt: &str, args: &[SqlValue]) -> CoreResult<Option<Payment>> {
    let rows = sql.execute(stmt, args).await?;
    Ok(crate::db::first(&rows, from_row)?)
}

/// Inserts a pending payment; returns `(row, created)` — the existing row when the id exists.
///
/// # Errors
/// The storage error.
pub async fn insert(sql: &dyn Sql, p: &Payment) -> CoreResult<(Payment, bool)> {
    let stmt = format!(
        "INSERT INTO payments (id, user_id, method, amount, currency, credits, bonus, status, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8) \
         ON CONFLICT(id) DO NOTHING RETURNING {COLUMNS}"
    );
    let args = [
        p.id.as_str().into(),
        p.user_id.into(),
        p.method.as_str().into(),
        p.amount.into(),
        p.currency.as_str().into(),
        p.credits.into(),
        p.bonus.into(),
        p.created_at.into(),
    ];
    match one(sql, &stmt, &args).await? {
        Some(row) => Ok((row, true)),
        None => Ok((get(sql, &p.id).await?, false)),
    }
}

/// The payment `id`.
///
/// # Errors
/// [`CoreError::NotFound`] or the storage error.
pub async fn get(sql: &dyn Sql, id: &str) -> CoreResult<Payment> {
    find(sql, id)
        .await?
        .ok_or_else(|| CoreError::not_found("payment_not_found", format!("no payment {id}")))
}

/// The payment `id`, if any.
///
/// # Errors
/// The storage error.
pub async fn find(sql: &dyn Sql, id: &str) -> CoreResult<Option<Payment>> {
    let stmt = format!("SELECT {COLUMNS} FROM payments WHERE id = ?1");
    one(sql, &stmt, &[id.into()]).await
}

/// The payment with YooKassa id `provider_id`, if any.
///
/// # Errors
/// The storage error.
pub async fn by_provider_id(sql: &dyn Sql, provider_id: &str) -> CoreResult<Option<Payment>> {
    let stmt = format!("SELECT {COLUMNS} FROM payments WHERE provider_payment_id = ?1");
    one(sql, &stmt, &[provider_id.into()]).await
}

/// The payment charged under Telegram's `charge_id` (Stars), if any.
///
/// # Errors
/// The storage error.
pub async fn by_charge_id(sql: &dyn Sql, charge_id: &str) -> CoreResult<Option<Payment>> {
    let stmt = format!("SELECT {COLUMNS} FROM payments WHERE charge_id = ?1");
    one(sql, &stmt, &[charge_id.into()]).await
}

/// Every payment created in `[from, to)` (Unix ms), oldest first.
///
/// # Errors
/// The storage error.
pub async fn created_between(sql: &dyn Sql, from: i64, to: i64) -> CoreResult<Vec<Payment>> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM payments WHERE created_at >= ?1 AND created_at < ?2 ORDER BY created_at, rowid"
    );
    let rows = sql.execute(&stmt, &[from.into(), to.into()]).await?;
    Ok(crate::db::all(&rows, from_row)?)
}

/// Records what the provider answered on creation (clears an earlier failure).
///
/// # Errors
/// The storage error.
pub async fn record_started(sql: &dyn Sql, id: &str, s: &Started, now: i64) -> CoreResult<()> {
    sql.execute(
        "UPDATE payments SET provider_payment_id = COALESCE(?2, provider_payment_id), \
         provider_status = COALESCE(?3, provider_status), confirmation_url = COALESCE(?4, confirmation_url), \
         failure = NULL, status = CASE WHEN status = 'failed' THEN 'pending' ELSE status END, updated_at = ?5 WHERE id = ?1",
        &[
            id.into(),
            s.provider_payment_id.clone().into(),
            s.provider_status.clone().into(),
            s.confirmation_url.clone().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Records a failure; `final_failure` also marks a pending payment `failed`.
///
/// # Errors
/// The storage error.
pub async fn record_failure(
    sql: &dyn Sql,
    id: &str,
    message: &str,
    final_failure: bool,
    now: i64,
) -> CoreResult<()> {
    sql.execute(
        "UPDATE payments SET failure = ?2, updated_at = ?4, \
         status = CASE WHEN ?3 = 1 AND status = 'pending' THEN 'failed' ELSE status END WHERE id = ?1",
        &[
            id.into(),
            message.into(),
            i64::from(final_failure).into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Marks a pending (or failed-at-creation) payment succeeded, which credits it (trigger).
/// `Some` only for the one call that made the change.
///
/// # Errors
/// The storage error (a `charge_id` already used by another payment is a constraint error).
pub async fn mark_succeeded(
    sql: &dyn Sql,
    id: &str,
    provider_status: &str,
    charge_id: Option<&str>,
    now: i64,
) -> CoreResult<Option<Payment>> {
    let stmt = format!(
        "UPDATE payments SET status = 'succeeded', provider_status = ?2, charge_id = COALESCE(?3, charge_id), \
         failure = NULL, credited_at = ?4, updated_at = ?4 \
         WHERE id = ?1 AND status IN ('pending', 'failed') RETURNING {COLUMNS}"
    );
    let args = [
        id.into(),
        provider_status.into(),
        charge_id.into(),
        now.into(),
    ];
    one(sql, &stmt, &args).await
}

/// Marks a pending payment canceled; true when this call changed it.
///
/// # Errors
/// The storage error.
pub async fn mark_canceled(sql: &dyn Sql, id: &str, reason: &str, now: i64) -> CoreResult<bool> {
    let rows = sql
        .execute(
            "UPDATE payments SET status = 'canceled', provider_status = 'canceled', failure = ?2, updated_at = ?3 \
             WHERE id = ?1 AND status IN ('pending', 'failed') RETURNING id",
            &[id.into(), reason.into(), now.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// What is left to take back of a payment (credits + bonus, less what refunds took or
/// recorded as shortfall).
const REST: &str = "(credits + bonus - refunded - shortfall)";

/// A partial refund's share: the cumulative refunded fraction of credits + bonus, rounded
/// down, less what earlier refunds accounted for (`?3` is the refund's amount).
const SHARE: &str = "((credits + bonus) * (refunded_amount + ?3) / amount - (credits + bonus) * refunded_amount / amount)";

/// The payer's balance.
const BALANCE: &str =
    "COALESCE((SELECT balance FROM balances b WHERE b.user_id = payments.user_id), 0)";

/// A refund id applied to no payment yet.
const NEW_REFUND: &str = "NOT EXISTS (SELECT 1 FROM payment_refunds r WHERE r.refund_id = ?2)";

/// Applies refund `refund_id` of `amount` (smallest unit) to a credited payment, once per
/// refund id: takes back its share of credits + bonus, at most the balance, and records the
/// rest as `shortfall` (the trigger writes the ledger entry and the `payment_refunds` row).
/// A refund reaching the whole amount makes the payment `refunded` and takes back all that
/// is left; a partial one keeps it `succeeded`. `Some` only for the call that applied it.
///
/// # Errors
/// The storage error.
pub async fn apply_refund(
    sql: &dyn Sql,
    id: &str,
    refund_id: &str,
    amount: i64,
    operator: Option<&str>,
    now: i64,
) -> CoreResult<Option<Payment>> {
    let whole = format!(
        "UPDATE payments SET status = 'refunded', refund_id = ?2, refunded_amount = amount, refunded_at = ?4, \
         updated_at = ?4, refunded_by = ?5, refunded = refunded + MIN({REST}, {BALANCE}), \
         shortfall = shortfall + {REST} - MIN({REST}, {BALANCE}) \
         WHERE id = ?1 AND status IN ('succeeded', 'refunding') AND refunded_amount + ?3 >= amount AND {NEW_REFUND} \
         RETURNING {COLUMNS}"
    );
    let partial = format!(
        "UPDATE payments SET refund_id = ?2, refunded_amount = refunded_amount + ?3, refunded_at = ?4, \
         updated_at = ?4, refunded_by = ?5, refunded = refunded + MIN({SHARE}, {BALANCE}), \
         shortfall = shortfall + {SHARE} - MIN({SHARE}, {BALANCE}) \
         WHERE id = ?1 AND status = 'succeeded' AND refunded_amount + ?3 < amount AND ?3 > 0 AND {NEW_REFUND} \
         RETURNING {COLUMNS}"
    );
    let args = [
        id.into(),
        refund_id.into(),
        amount.into(),
        now.into(),
        operator.into(),
    ];
    match one(sql, &whole, &args).await? {
        Some(p) => Ok(Some(p)),
        None => one(sql, &partial, &args).await,
    }
}

/// Records a payment refunded at the provider before we credited it: `refunded` without
/// any credit (nothing to take back). `refund_id` (when known) is counted as applied.
/// `Some` only for the call that changed it.
///
/// # Errors
/// The storage error.
pub async fn mark_refunded_uncredited(
    sql: &dyn Sql,
    id: &str,
    refund_id: Option<&str>,
    refunded_amount: i64,
    now: i64,
) -> CoreResult<Option<Payment>> {
    let stmt = format!(
        "UPDATE payments SET status = 'refunded', provider_status = 'succeeded', refund_id = ?2, \
         refunded_amount = MIN(?3, amount), failure = 'refunded at the provider before it was credited', \
         refunded_at = ?4, updated_at = ?4 WHERE id = ?1 AND status IN ('pending', 'failed') RETURNING {COLUMNS}"
    );
    let args = [
        id.into(),
        refund_id.into(),
        refunded_amount.into(),
        now.into(),
    ];
    one(sql, &stmt, &args).await
}

/// Marks a credited Stars payment `refunding` before Telegram is asked to refund it (true when
/// it is refunding now, whether this call or an earlier one marked it).
///
/// # Errors
/// The storage error.
pub async fn mark_refunding(sql: &dyn Sql, id: &str, now: i64) -> CoreResult<bool> {
    sql.execute(
        "UPDATE payments SET status = 'refunding', updated_at = ?2 WHERE id = ?1 AND status = 'succeeded'",
        &[id.into(), now.into()],
    )
    .await?;
    Ok(get(sql, id).await?.status == super::model::PaymentStatus::Refunding)
}

/// Puts a `refunding` payment back to `succeeded` (Telegram refused the refund for good).
///
/// # Errors
/// The storage error.
pub async fn unmark_refunding(sql: &dyn Sql, id: &str, reason: &str, now: i64) -> CoreResult<()> {
    sql.execute(
        "UPDATE payments SET status = 'succeeded', failure = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'refunding'",
        &[id.into(), reason.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// Records a Stars charge refunded without any credit (it could not be credited): once per
/// charge. True when this call recorded it.
///
/// # Errors
/// The storage error.
pub async fn record_uncredited_refund(
    sql: &dyn Sql,
    refund_id: &str,
    payment_id: &str,
    user_id: UserId,
    amount: i64,
    now: i64,
) -> CoreResult<bool> {
    let rows = sql
        .execute(
            "INSERT INTO payment_refunds (refund_id, payment_id, user_id, amount, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(refund_id) DO NOTHING RETURNING refund_id",
            &[
                refund_id.into(),
                payment_id.into(),
                user_id.0.into(),
                amount.into(),
                now.into(),
            ],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Whether refund `refund_id` was recorded (applied or refunded without credit).
///
/// # Errors
/// The storage error.
pub async fn refund_recorded(sql: &dyn Sql, refund_id: &str) -> CoreResult<bool> {
    let rows = sql
        .execute(
            "SELECT 1 FROM payment_refunds WHERE refund_id = ?1",
            &[refund_id.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Claims the one accepted pre-checkout of a pending Stars payment for `query_id` (true
/// also for the same query again: Telegram may ask twice for one query).
///
/// # Errors
/// The storage error.
pub async fn claim_checkout(sql: &dyn Sql, id: &str, query_id: &str, now: i64) -> CoreResult<bool> {
    let rows = sql
        .execute(
            "UPDATE payments SET checkout_id = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'pending' \
             AND (checkout_id IS NULL OR checkout_id = ?2) RETURNING id",
            &[id.into(), query_id.into(), now.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Records the chat message that offers the payment (to edit it when the payment ends).
///
/// # Errors
/// The storage error.
pub async fn record_message(
    sql: &dyn Sql,
    id: &str,
    chat_id: ChatId,
    message_id: i64,
) -> CoreResult<()> {
    sql.execute(
        "UPDATE payments SET chat_id = ?2, message_id = ?3 WHERE id = ?1",
        &[id.into(), chat_id.0.into(), message_id.into()],
    )
    .await?;
    Ok(())
}

/// Pending payments created before `before` (Unix ms), oldest first, at most `limit`.
///
/// # Errors
/// The storage error.
pub async fn stale_pending(sql: &dyn Sql, before: i64, limit: i64) -> CoreResult<Vec<Payment>> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM payments WHERE status = 'pending' AND created_at < ?1 ORDER BY created_at, rowid LIMIT ?2"
    );
    let rows = sql.execute(&stmt, &[before.into(), limit.into()]).await?;
    Ok(crate::db::all(&rows, from_row)?)
}

/// A page of the user's payments, newest first, and their number.
///
/// # Errors
/// The storage error.
pub async fn list_for_user(
    sql: &dyn Sql,
    user_id: UserId,
    page: crate::Page,
) -> CoreResult<(Vec<Payment>, i64)> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM payments WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2 OFFSET ?3"
    );
    let count = "SELECT COUNT(*) FROM payments WHERE user_id = ?1";
    crate::db::page_of(sql, &stmt, count, user_id.0, page, from_row).await
}

/// Admin filter: status and a `[from, to)` window of creation time (Unix ms).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this status.
    pub status: Option<String>,
    /// Created at or after (ms).
    pub from: Option<i64>,
    /// Created before (ms).
    pub to: Option<i64>,
}

/// Totals of one currency and status in an admin listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Total {
    /// `RUB` or `XTR`.
    pub currency: String,
    /// Status.
    pub status: String,
    /// Payments.
    pub count: i64,
    /// Sum of amounts (kopecks or stars).
    pub amount: i64,
    /// Sum of credits.
    pub credits: i64,
    /// Sum of bonuses.
    pub bonus: i64,
    /// Sum of credits taken back.
    pub refunded: i64,
    /// Sum of refund shortfalls.
    pub shortfall: i64,
}

const WHERE_FILTER: &str = "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR created_at >= ?2) \
    AND (?3 IS NULL OR created_at < ?3)";

/// Payments matching `f`, newest first, their number, and totals per currency and status.
///
/// # Errors
/// The storage error.
pub async fn admin_list(
    sql: &dyn Sql,
    f: &Filter,
    page: crate::Page,
) -> CoreResult<(Vec<Payment>, i64, Vec<Total>)> {
    let args = [f.status.clone().into(), f.from.into(), f.to.into()];
    let stmt = format!(
        "SELECT {COLUMNS} FROM payments {WHERE_FILTER} ORDER BY created_at DESC, rowid DESC LIMIT {} OFFSET {}",
        page.limit, page.offset
    );
    let rows = sql.execute(&stmt, &args).await?;
    let totals = sql
        .execute(
            &format!(
                "SELECT currency, status, COUNT(*), SUM(amount), SUM(credits), SUM(bonus), SUM(refunded), \
                 SUM(shortfall) FROM payments {WHERE_FILTER} GROUP BY currency, status ORDER BY currency, status"
            ),
            &args,
        )
        .await?;
    let totals: Vec<Total> = totals
        .iter()
        .map(|r| {
            Ok(Total {
                currency: r.word(0)?,
                status: r.word(1)?,
                count: r.int(2)?,
                amount: r.int(3)?,
                credits: r.int(4)?,
                bonus: r.int(5)?,
                refunded: r.int(6)?,
                shortfall: r.int(7)?,
            })
        })
        .collect::<Result<Vec<Total>, SqlError>>()?;
    let count = totals.iter().map(|t| t.count).sum();
    let items = rows
        .iter()
        .map(from_row)
        .collect::<Result<Vec<Payment>, SqlError>>()?;
    Ok((items, count, totals))
}
