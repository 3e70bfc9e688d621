//! The reconciliation model: a range, the items of a report, its summary and head, and what
//! "credit now" answered.

use serde::{Deserialize, Serialize};

use super::time;
use crate::error::{CoreError, CoreResult};
use crate::payments::model::{Currency, Payment, PaymentStatus};

/// The longest range one report covers.
pub const MAX_RANGE_MS: i64 = 31 * 86_400_000;

/// The latest time a range may end (the end of year 9999, as ISO 8601 can spell it).
pub const MAX_TIME_MS: i64 = 253_402_300_800_000;

qwen_contract::wire_words! {
    /// What a reconciliation found about one payment or refund.
    pub enum ItemKind ("reconciliation item kind") {
        /// Paid at the provider and credited here, same amount (or a refund taken back).
        Matched = "matched",
        /// Paid at the provider (succeeded at YooKassa, an incoming Stars payment) but not
        /// credited here; creditable when it names a payment of ours.
        MissingOurs = "missing_ours",
        /// Credited here, but the provider does not show it paid.
        MissingTheirs = "missing_theirs",
        /// Both sides know it, with different amounts or currencies.
        AmountMismatch = "amount_mismatch",
        /// Refunded at the provider, but not here: our payment is still `succeeded` or
        /// `refunding` with less taken back, or still open (refunded before it was credited:
        /// never creditable).
        RefundNotTakenBack = "refund_not_taken_back",
    }
}

qwen_contract::wire_words! {
    /// Who took the money.
    pub enum Provider ("payment provider") {
        /// YooKassa (bank card, SBP).
        Yookassa = "yookassa",
        /// Telegram Stars.
        Stars = "stars",
    }
}

qwen_contract::word_schema!(
    ItemKind,
    "What a reconciliation found about one payment or refund."
);
qwen_contract::word_schema!(Provider, "Who took the money.");

/// A `[from, to)` range in Unix ms, validated: `from < to`, at most [`MAX_RANGE_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Start, inclusive.
    pub from: i64,
    /// End, exclusive.
    pub to: i64,
}

impl Range {
    /// A validated range.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] (`invalid_range`) unless `0 ≤ from < to ≤` [`MAX_TIME_MS`]
    /// and `to - from ≤` [`MAX_RANGE_MS`].
    pub fn new(from: i64, to: i64) -> CoreResult<Range> {
        let bad = |m: &str| Err(CoreError::invalid("invalid_range", m));
        if from < 0 || to > MAX_TIME_MS {
            return bad("from and to are Unix ms between 1970 and 9999");
        }
        if from >= to {
            return bad("from must be before to");
        }
        if to - from > MAX_RANGE_MS {
            return bad("a range covers at most 31 days");
        }
        Ok(Range { from, to })
    }

    /// The UTC day `YYYY-MM-DD`.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] (`invalid_day`) for anything but a real date.
    pub fn day(day: &str) -> CoreResult<Range> {
        let (from, to) = time::day_range(day)
            .ok_or_else(|| CoreError::invalid("invalid_day", "day must be a date YYYY-MM-DD"))?;
        Range::new(from, to)
    }

    /// Whether `ms` lies in the range.
    pub fn contains(&self, ms: i64) -> bool {
        (self.from..self.to).contains(&ms)
    }
}

/// One finding of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    /// Position in the report, from 0 (the `{n}` of the credit route).
    pub n: i64,
    /// What was found.
    pub kind: ItemKind,
    /// Whose record it is.
    pub provider: Provider,
    /// Our payment id, when a payment of ours is involved.
    pub payment_id: Option<String>,
    /// YooKassa's payment id, or the Stars charge id (`telegram_payment_charge_id`).
    pub provider_payment_id: Option<String>,
    /// YooKassa's refund id, or `stars:<charge>`, for refund findings.
    pub refund_id: Option<String>,
    /// The payer's Telegram id, when known.
    pub user_id: Option<i64>,
    /// Our amount (kopecks or stars).
    pub our_amount: Option<i64>,
    /// The provider's amount (kopecks or stars).
    pub their_amount: Option<i64>,
    /// The currency of the amounts.
    pub currency: Currency,
    /// Our payment's status when the report was made.
    pub our_status: Option<PaymentStatus>,
    /// The provider's status (`succeeded`, `canceled`, `pending`…; `paid`/`refunded` for Stars).
    pub their_status: Option<String>,
    /// When the provider created it (Unix ms).
    pub their_at: Option<i64>,
    /// What was found, in words.
    pub note: String,
    /// Whether `POST …/items/{n}/credit` may credit it (a `missing_ours` item naming a
    /// payment of ours, not yet resolved).
    pub creditable: bool,
    /// When "credit now" resolved it (Unix ms).
    pub resolved_at: Option<i64>,
}

/// Items per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    /// `matched` items.
    pub matched: i64,
    /// `missing_ours` items.
    pub missing_ours: i64,
    /// `missing_theirs` items.
    pub missing_theirs: i64,
    /// `amount_mismatch` items.
    pub amount_mismatch: i64,
    /// `refund_not_taken_back` items.
    pub refund_not_taken_back: i64,
}

impl Summary {
    /// Counts `items` per kind.
    pub fn of(items: &[Item]) -> Summary {
        let mut s = Summary::default();
        for i in items {
            s.add(i.kind, 1);
        }
        s
    }

    /// Adds `count` items of `kind`.
    pub fn add(&mut self, kind: ItemKind, count: i64) {
        let slot = match kind {
            ItemKind::Matched => &mut self.matched,
            ItemKind::MissingOurs => &mut self.missing_ours,
            ItemKind::MissingTheirs => &mut self.missing_theirs,
            ItemKind::AmountMismatch => &mut self.amount_mismatch,
            ItemKind::RefundNotTakenBack => &mut self.refund_not_taken_back,
        };
        *slot += count;
    }
}

/// A stored report without its items (the listing's entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Head {
    /// Report id (UUID).
    pub id: String,
    /// Range start, Unix ms, inclusive.
    pub from: i64,
    /// Range end, Unix ms, exclusive.
    pub to: i64,
    /// 1 for the first report of the range, 2… for reruns.
    pub run: i64,
    /// When it was made (Unix ms).
    pub created_at: i64,
    /// Items per kind.
    pub summary: Summary,
}

/// A stored report with every item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    /// Report id (UUID).
    pub id: String,
    /// Range start, Unix ms, inclusive.
    pub from: i64,
    /// Range end, Unix ms, exclusive.
    pub to: i64,
    /// 1 for the first report of the range, 2… for reruns.
    pub run: i64,
    /// When it was made (Unix ms).
    pub created_at: i64,
    /// Items per kind.
    pub summary: Summary,
    /// The findings, in order.
    pub items: Vec<Item>,
}

/// What [`credit`] answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Credited {
    /// The item, resolved.
    pub item: Item,
    /// Our payment after the call.
    pub payment: Payment,
    /// True only for the call that credited it; false when it was credited before.
    pub credited: bool,
}
