//! The `reconciliations` and `reconciliation_items` tables. A report is written whole in one
//! `BEGIN IMMEDIATE` transaction (the header, then every item in one statement from a JSON
//! array), so a reader sees a complete report or none.

use super::model::{Head, Item, Range, Report, Summary};
use crate::error::{CoreError, CoreResult};
use crate::ports::{Sql, SqlError, SqlRow};

const HEAD: &str = "id, range_from, range_to, run, created_at";

const ITEM: &str = "n, kind, provider, payment_id, provider_payment_id, refund_id, user_id, \
    our_amount, their_amount, currency, our_status, their_status, their_at, note, creditable, resolved_at";

fn head_row(r: &SqlRow) -> Result<Head, SqlError> {
    Ok(Head {
        id: r.text(0)?,
        from: r.int(1)?,
        to: r.int(2)?,
        run: r.int(3)?,
        created_at: r.int(4)?,
        summary: Summary::default(),
    })
}

fn item_row(r: &SqlRow) -> Result<Item, SqlError> {
    let resolved_at = r.opt_int(15)?;
    Ok(Item {
        n: r.int(0)?,
        kind: r.word(1)?,
        provider: r.word(2)?,
        payment_id: r.opt_text(3)?,
        provider_payment_id: r.opt_text(4)?,
        refund_id: r.opt_text(5)?,
        user_id: r.opt_int(6)?,
        our_amount: r.opt_int(7)?,
        their_amount: r.opt_int(8)?,
        currency: r.word(9)?,
        our_status: r.opt_word(10)?,
        their_status: r.opt_text(11)?,
        their_at: r.opt_int(12)?,
        note: r.text(13)?,
        creditable: r.int(14)? == 1 && resolved_at.is_none(),
        resolved_at,
    })
}

/// The report `id` with its items.
///
/// # Errors
/// [`CoreError::NotFound`] (`reconciliation_not_found`) or the storage error.
pub async fn get(sql: &dyn Sql, id: &str) -> CoreResult<Report> {
    let rows = sql
        .execute(
            &format!("SELECT {HEAD} FROM reconciliations WHERE id = ?1"),
            &[id.into()],
        )
        .await?;
    let head = crate::db::first(&rows, head_row)?.ok_or_else(|| {
        CoreError::not_found(
            "reconciliation_not_found",
            format!("no reconciliation {id}"),
        )
    })?;
    let stmt =
        format!("SELECT {ITEM} FROM reconciliation_items WHERE reconciliation_id = ?1 ORDER BY n");
    let items = crate::db::all(&sql.execute(&stmt, &[id.into()]).await?, item_row)?;
    Ok(Report {
        summary: Summary::of(&items),
        id: head.id,
        from: head.from,
        to: head.to,
        run: head.run,
        created_at: head.created_at,
        items,
    })
}

/// The latest report of exactly `range`, if any.
///
/// # Errors
/// The storage error.
pub async fn latest(sql: &dyn Sql, range: Range) -> CoreResult<Option<Report>> {
    let rows = sql
        .execute(
            "SELECT id FROM reconciliations WHERE range_from = ?1 AND range_to = ?2 ORDER BY run DESC LIMIT 1",
            &[range.from.into(), range.to.into()],
        )
        .await?;
    match rows.first() {
        Some(r) => Ok(Some(get(sql, &r.text(0)?).await?)),
        None => Ok(None),
    }
}

/// A page of reports, newest first, with their item counts, and their number.
///
/// # Errors
/// The storage error.
pub async fn list(sql: &dyn Sql, page: crate::Page) -> CoreResult<(Vec<Head>, i64)> {
    let stmt = format!(
        "SELECT {HEAD} FROM reconciliations ORDER BY created_at DESC, range_from DESC, run DESC LIMIT ?1 OFFSET ?2"
    );
    let rows = sql
        .execute(&stmt, &[page.limit.into(), page.offset.into()])
        .await?;
    let mut heads = crate::db::all(&rows, head_row)?;
    for h in &mut heads {
        h.summary = summary(sql, &h.id).await?;
    }
    let total = sql
        .execute("SELECT COUNT(*) FROM reconciliations", &[])
        .await?;
    Ok((heads, crate::db::count(&total)?))
}

async fn summary(sql: &dyn Sql, id: &str) -> CoreResult<Summary> {
    let rows = sql
        .execute(
            "SELECT kind, COUNT(*) FROM reconciliation_items WHERE reconciliation_id = ?1 GROUP BY kind",
            &[id.into()],
        )
        .await?;
    let mut s = Summary::default();
    for r in &rows {
        s.add(r.word(0)?, r.int(1)?);
    }
    Ok(s)
}

/// One item of report `id`.
///
/// # Errors
/// [`CoreError::NotFound`] (`reconciliation_item_not_found`) or the storage error.
pub async fn item(sql: &dyn Sql, id: &str, n: i64) -> CoreResult<Item> {
    let stmt =
        format!("SELECT {ITEM} FROM reconciliation_items WHERE reconciliation_id = ?1 AND n = ?2");
    let rows = sql.execute(&stmt, &[id.into(), n.into()]).await?;
    crate::db::first(&rows, item_row)?.ok_or_else(|| {
        CoreError::not_found(
            "reconciliation_item_not_found",
            format!("no item {n} in reconciliation {id}"),
        )
    })
}

/// Marks an item resolved at `now` (the first resolution stays).
///
/// # Errors
/// The storage error.
pub async fn resolve(sql: &dyn Sql, id: &str, n: i64, now: i64) -> CoreResult<()> {
    sql.execute(
        "UPDATE reconciliation_items SET resolved_at = COALESCE(resolved_at, ?3) WHERE reconciliation_id = ?1 AND n = ?2",
        &[id.into(), n.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// The id of run `run` of `range`: the same on every instance, so two first runs racing
/// write one report.
pub fn report_id(range: Range, run: i64) -> String {
    let name = format!("reconciliation:{}:{}:{run}", range.from, range.to);
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

/// Stores `items` as a new report of `range` and answers it with `created = true`; without
/// `rerun`, a report of the range stored meanwhile is answered instead (`created = false`).
///
/// # Errors
/// The storage error (the transaction is rolled back: nothing is stored).
pub async fn save(
    sql: &dyn Sql,
    range: Range,
    items: &[Item],
    rerun: bool,
    now: i64,
) -> CoreResult<(Report, bool)> {
    sql.execute("BEGIN IMMEDIATE", &[]).await?;
    match write(sql, range, items, rerun, now).await {
        Ok(Some(id)) => {
            sql.execute("COMMIT", &[]).await?;
            Ok((get(sql, &id).await?, true))
        }
        Ok(None) => {
            sql.execute("ROLLBACK", &[]).await?;
            let stored = latest(sql, range).await?;
            stored
                .map(|r| (r, false))
                .ok_or_else(|| CoreError::Internal("reconciliation vanished".into()))
        }
        Err(e) => {
            if let Err(re) = sql.execute("ROLLBACK", &[]).await {
                tracing::error!(error = %re, "reconciliation rollback failed");
            }
            Err(e)
        }
    }
}

/// Inside the transaction: the new report's id, or `None` when one exists and no rerun.
async fn write(
    sql: &dyn Sql,
    range: Range,
    items: &[Item],
    rerun: bool,
    now: i64,
) -> CoreResult<Option<String>> {
    let rows = sql
        .execute(
            "SELECT MAX(run) FROM reconciliations WHERE range_from = ?1 AND range_to = ?2",
            &[range.from.into(), range.to.into()],
        )
        .await?;
    let last = rows.first().map(|r| r.opt_int(0)).transpose()?.flatten();
    if last.is_some() && !rerun {
        return Ok(None);
    }
    let run = last.unwrap_or(0) + 1;
    let id = report_id(range, run);
    sql.execute(
        "INSERT INTO reconciliations (id, range_from, range_to, run, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[id.as_str().into(), range.from.into(), range.to.into(), run.into(), now.into()],
    )
    .await?;
    insert_items(sql, &id, items).await?;
    Ok(Some(id))
}

async fn insert_items(sql: &dyn Sql, id: &str, items: &[Item]) -> CoreResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(items).map_err(|e| CoreError::Internal(e.to_string()))?;
    let pick: Vec<String> = ITEM
        .split(", ")
        .map(|c| match c.trim() {
            "creditable" => {
                "CASE WHEN json_extract(value, '$.creditable') THEN 1 ELSE 0 END".to_owned()
            }
            col => format!("json_extract(value, '$.{col}')"),
        })
        .collect();
    let stmt = format!(
        "INSERT INTO reconciliation_items (reconciliation_id, {ITEM}) SELECT ?1, {} FROM json_each(?2)",
        pick.join(", ")
    );
    sql.execute(&stmt, &[id.into(), json.into()]).await?;
    Ok(())
}
