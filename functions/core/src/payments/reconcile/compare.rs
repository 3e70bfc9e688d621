//! Compares the providers' records ([`Theirs`]) with our payments and turns every difference
//! (and every match) into an [`Item`]. Ours are the payments created in the range; a record
//! of one side missing from the other side's range is looked up by id before it is reported
//! missing, so a payment made across midnight is matched, not reported twice.

use std::collections::HashSet;

use botapi::StarTransaction;

use super::fetch::Theirs;
use super::model::{Item, ItemKind, Provider, Range};
use super::time;
use crate::error::CoreResult;
use crate::payments::model::{Currency, Deps, Method, Payment, PaymentStatus};
use crate::payments::store;
use crate::payments::yookassa::{self, YkPayment, YkRefund};

/// Every finding for `range`, numbered in order.
///
/// # Errors
/// Storage errors; [`crate::CoreError::Upstream`] when a look-up at YooKassa fails.
pub async fn compare(deps: &Deps<'_>, range: Range, theirs: &Theirs) -> CoreResult<Vec<Item>> {
    let ours = store::created_between(deps.sql, range.from, range.to).await?;
    let mut items = yookassa_payments(deps, &ours, &theirs.payments).await?;
    items.extend(yookassa_ours(deps, &ours, &theirs.payments).await?);
    items.extend(yookassa_refunds(deps, &theirs.refunds).await?);
    items.extend(stars_incoming(deps, range, &theirs.stars).await?);
    items.extend(stars_ours(&ours, &theirs.stars));
    items.extend(stars_refunds(deps, range, &theirs.stars).await?);
    for (n, item) in items.iter_mut().enumerate() {
        item.n = n as i64;
    }
    Ok(items)
}

fn credited(p: &Payment) -> bool {
    match p.status {
        PaymentStatus::Succeeded | PaymentStatus::Refunding => true,
        PaymentStatus::Refunded => p.credited_at.is_some(),
        _ => false,
    }
}

fn is_yookassa(p: &Payment) -> bool {
    p.method != Method::Stars
}

/// An item about our payment `p` (any field may be overwritten by the caller).
fn about(kind: ItemKind, provider: Provider, p: Option<&Payment>, note: String) -> Item {
    Item {
        n: 0,
        kind,
        provider,
        payment_id: p.map(|p| p.id.clone()),
        provider_payment_id: p.and_then(|p| p.provider_payment_id.clone().or(p.charge_id.clone())),
        refund_id: None,
        user_id: p.map(|p| p.user_id),
        our_amount: p.map(|p| p.amount),
        their_amount: None,
        currency: p.map_or(Currency::Rub, |p| p.currency),
        our_status: p.map(|p| p.status),
        their_status: None,
        their_at: None,
        creditable: kind == ItemKind::MissingOurs && p.is_some_and(|p| p.status.is_open()),
        note,
        resolved_at: None,
    }
}

/// Our row for a YooKassa payment: by its id, else by the `payment_id` in its metadata (a
/// creation whose answer was lost has no provider id recorded).
async fn our_row(deps: &Deps<'_>, ours: &[Payment], p: &YkPayment) -> CoreResult<Option<Payment>> {
    if let Some(row) = ours
        .iter()
        .find(|o| o.provider_payment_id.as_deref() == Some(&p.id))
    {
        return Ok(Some(row.clone()));
    }
    if let Some(row) = store::by_provider_id(deps.sql, &p.id).await? {
        return Ok(Some(row));
    }
    match p.metadata.get("payment_id").and_then(|v| v.as_str()) {
        Some(id) => Ok(store::find(deps.sql, id)
            .await?
            .filter(|r| r.provider_payment_id.is_none())),
        None => Ok(None),
    }
}

/// A YooKassa payment that succeeded, judged against our row.
fn judge_yookassa(row: Option<&Payment>, p: &YkPayment) -> Item {
    let theirs = yookassa::parse_value(&p.amount.value);
    let (kind, note) = refunded_verdict(row, p).unwrap_or_else(|| verdict(row, p, theirs));
    let mut item = about(kind, Provider::Yookassa, row, note);
    item.provider_payment_id = Some(p.id.clone());
    item.their_amount = theirs;
    item.their_status = Some(p.status.clone());
    item.their_at = p.created_at.as_deref().and_then(time::parse_iso);
    item
}

/// The verdict on a YooKassa payment refunded (in part or whole) that we never credited:
/// never creditable. `None` when nothing was refunded or ours was credited (its refunds are
/// judged from the refunds list).
fn refunded_verdict(row: Option<&Payment>, p: &YkPayment) -> Option<(ItemKind, String)> {
    let refunded = yookassa::amount_value(p.refunded_minor());
    match row {
        _ if p.refunded_minor() == 0 => None,
        None => Some((
            ItemKind::RefundNotTakenBack,
            format!("succeeded and refunded {refunded} at YooKassa; no payment of ours"),
        )),
        Some(r) if r.status.is_open() => Some((
            ItemKind::RefundNotTakenBack,
            format!(
                "refunded {refunded} at YooKassa before it was credited; {} here: never credit it",
                r.status
            ),
        )),
        Some(r) if r.status == PaymentStatus::Refunded && r.credited_at.is_none() => Some((
            ItemKind::Matched,
            "refunded at YooKassa before it was credited; refunded here, never credited".into(),
        )),
        Some(_) => None,
    }
}

/// The verdict on a YooKassa payment that succeeded, nothing refunded before our credit.
fn verdict(row: Option<&Payment>, p: &YkPayment, theirs: Option<i64>) -> (ItemKind, String) {
    let same =
        row.is_some_and(|r| Some(r.amount) == theirs && r.currency.as_str() == p.amount.currency);
    match row {
        None => (
            ItemKind::MissingOurs,
            "succeeded at YooKassa; no payment of ours".to_owned(),
        ),
        Some(_) if !same => (
            ItemKind::AmountMismatch,
            format!("YooKassa has {} {}", p.amount.value, p.amount.currency),
        ),
        Some(r) if credited(r) => (
            ItemKind::Matched,
            "succeeded at YooKassa and credited here".to_owned(),
        ),
        Some(r) => (
            ItemKind::MissingOurs,
            format!("succeeded at YooKassa; {} here", r.status),
        ),
    }
}

async fn yookassa_payments(
    deps: &Deps<'_>,
    ours: &[Payment],
    theirs: &[YkPayment],
) -> CoreResult<Vec<Item>> {
    let mut items = Vec::new();
    for p in theirs.iter().filter(|p| p.status == "succeeded") {
        let row = our_row(deps, ours, p).await?;
        let item = judge_yookassa(row.as_ref(), p);
        if item.kind != ItemKind::Matched {
            tracing::warn!(payment_id = item.payment_id.as_deref().unwrap_or("-"), provider_id = %p.id, kind = %item.kind, "reconciliation finding");
        }
        items.push(item);
    }
    Ok(items)
}

/// Our credited YooKassa payments the range's list does not show succeeded: looked up one by
/// one (one made just before midnight may be listed under the next day).
async fn yookassa_ours(
    deps: &Deps<'_>,
    ours: &[Payment],
    theirs: &[YkPayment],
) -> CoreResult<Vec<Item>> {
    let succeeded: HashSet<&str> = theirs
        .iter()
        .filter(|p| p.status == "succeeded")
        .map(|p| p.id.as_str())
        .collect();
    let mut items = Vec::new();
    for row in ours.iter().filter(|p| is_yookassa(p) && credited(p)) {
        let id = row.provider_payment_id.as_deref().unwrap_or("");
        if succeeded.contains(id) {
            continue;
        }
        let found = match theirs.iter().find(|p| p.id == id) {
            Some(p) => Some(p.clone()),
            None if id.is_empty() => None,
            None => yookassa::find_payment(deps, id).await?,
        };
        items.push(missing_theirs(row, found.as_ref()));
    }
    Ok(items)
}

fn missing_theirs(row: &Payment, found: Option<&YkPayment>) -> Item {
    if let Some(p) = found.filter(|p| p.status == "succeeded") {
        return judge_yookassa(Some(row), p);
    }
    let note = match found {
        Some(p) => format!("credited here; {} at YooKassa", p.status),
        None => "credited here; YooKassa has no such payment".to_owned(),
    };
    tracing::warn!(payment_id = %row.id, "reconciliation finding: credited here, not paid at YooKassa");
    let mut item = about(ItemKind::MissingTheirs, Provider::Yookassa, Some(row), note);
    item.their_status = found.map(|p| p.status.clone());
    item.their_amount = found.and_then(|p| yookassa::parse_value(&p.amount.value));
    item
}

async fn yookassa_refunds(deps: &Deps<'_>, refunds: &[YkRefund]) -> CoreResult<Vec<Item>> {
    let mut items = Vec::new();
    for r in refunds.iter().filter(|r| r.status == "succeeded") {
        let Some(row) = store::by_provider_id(deps.sql, &r.payment_id).await? else {
            tracing::warn!(provider_id = %r.payment_id, refund_id = %r.id, "refund of a payment we do not know");
            continue;
        };
        let applied = store::refund_recorded(deps.sql, &r.id).await?;
        let kind = match row.status {
            PaymentStatus::Refunded => ItemKind::Matched,
            PaymentStatus::Succeeded | PaymentStatus::Refunding if applied => ItemKind::Matched,
            PaymentStatus::Succeeded | PaymentStatus::Refunding => ItemKind::RefundNotTakenBack,
            _ => continue,
        };
        let note = format!("refund succeeded at YooKassa; {} here", row.status);
        let mut item = about(kind, Provider::Yookassa, Some(&row), note);
        item.refund_id = Some(r.id.clone());
        item.their_amount = yookassa::parse_value(&r.amount.value);
        item.their_status = Some(r.status.clone());
        item.their_at = r.created_at.as_deref().and_then(time::parse_iso);
        items.push(item);
    }
    Ok(items)
}

/// An incoming Stars payment for an invoice: `(payer, payload)`.
fn invoice_payment(t: &StarTransaction) -> Option<(i64, &str)> {
    let s = t.source.as_ref().filter(|s| s.kind == "user")?;
    if s.transaction_type
        .as_deref()
        .is_some_and(|k| k != "invoice_payment")
    {
        return None;
    }
    Some((s.user.as_ref()?.id, s.invoice_payload.as_deref()?))
}

/// A refund to a user: the refunded charge id.
fn refund_to_user(t: &StarTransaction) -> Option<&str> {
    t.receiver
        .as_ref()
        .filter(|r| r.kind == "user")
        .map(|_| t.id.as_str())
}

fn in_range(range: Range, t: &StarTransaction) -> bool {
    range.contains(t.date.saturating_mul(1000))
}

async fn stars_incoming(
    deps: &Deps<'_>,
    range: Range,
    txs: &[StarTransaction],
) -> CoreResult<Vec<Item>> {
    let mut items = Vec::new();
    for t in txs.iter().filter(|t| in_range(range, t)) {
        let Some((user, payload)) = invoice_payment(t) else {
            continue;
        };
        let row = match store::by_charge_id(deps.sql, &t.id).await? {
            Some(r) => Some(r),
            None => store::find(deps.sql, payload)
                .await?
                .filter(|r| r.method == Method::Stars),
        };
        let mut item = judge_stars(row.as_ref(), t, user);
        if item.kind != ItemKind::Matched
            && store::refund_recorded(deps.sql, &format!("stars:{}", t.id)).await?
        {
            item.kind = ItemKind::Matched;
            item.creditable = false;
            item.note = "paid in Stars; could not be credited, refunded at once".into();
        }
        items.push(item);
    }
    Ok(items)
}

fn judge_stars(row: Option<&Payment>, t: &StarTransaction, user: i64) -> Item {
    let same = row.is_some_and(|r| r.amount == t.amount && r.user_id == user);
    let charged = row.is_some_and(|r| r.charge_id.as_deref() == Some(&t.id));
    let (kind, note) = match row {
        None => (
            ItemKind::MissingOurs,
            "paid in Stars; no payment of ours".to_owned(),
        ),
        Some(_) if !same => (
            ItemKind::AmountMismatch,
            format!("Telegram has {} stars from {user}", t.amount),
        ),
        Some(r) if credited(r) && charged => (
            ItemKind::Matched,
            "paid in Stars and credited here".to_owned(),
        ),
        Some(r) => (
            ItemKind::MissingOurs,
            format!("paid in Stars; {} here", r.status),
        ),
    };
    if kind != ItemKind::Matched {
        tracing::warn!(payment_id = row.map_or("-", |r| r.id.as_str()), charge = %t.id, %kind, "reconciliation finding");
    }
    let mut item = about(kind, Provider::Stars, row, note);
    item.currency = Currency::Xtr;
    item.provider_payment_id = Some(t.id.clone());
    item.user_id = Some(user);
    item.their_amount = Some(t.amount);
    item.their_status = Some("paid".into());
    item.their_at = Some(t.date.saturating_mul(1000));
    item
}

/// Our credited Stars payments whose charge Telegram does not list at all.
fn stars_ours(ours: &[Payment], txs: &[StarTransaction]) -> Vec<Item> {
    let charges: HashSet<&str> = txs
        .iter()
        .filter(|t| invoice_payment(t).is_some())
        .map(|t| t.id.as_str())
        .collect();
    ours.iter()
        .filter(|p| p.method == Method::Stars && credited(p))
        .filter(|p| !p.charge_id.as_deref().is_some_and(|c| charges.contains(c)))
        .map(|p| {
            tracing::warn!(payment_id = %p.id, "reconciliation finding: credited here, no Stars payment");
            about(ItemKind::MissingTheirs, Provider::Stars, Some(p), "credited here; Telegram lists no such Stars payment".into())
        })
        .collect()
}

async fn stars_refunds(
    deps: &Deps<'_>,
    range: Range,
    txs: &[StarTransaction],
) -> CoreResult<Vec<Item>> {
    let mut items = Vec::new();
    for t in txs.iter().filter(|t| in_range(range, t)) {
        let Some(charge) = refund_to_user(t) else {
            continue;
        };
        let Some(row) = store::by_charge_id(deps.sql, charge).await? else {
            continue;
        };
        let kind = match row.status {
            PaymentStatus::Refunded => ItemKind::Matched,
            PaymentStatus::Succeeded | PaymentStatus::Refunding => ItemKind::RefundNotTakenBack,
            _ => continue,
        };
        let mut item = about(
            kind,
            Provider::Stars,
            Some(&row),
            format!("refunded in Stars; {} here", row.status),
        );
        item.refund_id = Some(format!("stars:{charge}"));
        item.their_amount = Some(t.amount);
        item.their_status = Some("refunded".into());
        item.their_at = Some(t.date.saturating_mul(1000));
        items.push(item);
    }
    Ok(items)
}
