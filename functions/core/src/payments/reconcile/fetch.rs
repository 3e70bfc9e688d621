//! What the providers say about a range: YooKassa's payments and succeeded refunds created
//! in it (every cursor page) and the bot's Star transactions up to a little past its end
//! (offset pages, oldest first, so a charge made just before the end is still seen).

use botapi::StarTransaction;

use super::model::Range;
use super::time;
use crate::error::{CoreError, CoreResult};
use crate::payments::model::Deps;
use crate::payments::telegram::{bot, from_bot_api};
use crate::payments::yookassa::{self, YkPayment, YkRefund};

/// Star transactions per `getStarTransactions` call (Telegram's largest page).
pub const STARS_PAGE: u32 = 100;

/// How far past the range's end Star transactions are still read (1 hour).
pub const GRACE_MS: i64 = 3_600_000;

/// Pages of Star transactions read at most (a million transactions).
const MAX_STARS_PAGES: u64 = 10_000;

/// The providers' records for a range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Theirs {
    /// YooKassa payments created in the range, any status (none when YooKassa is not configured).
    pub payments: Vec<YkPayment>,
    /// YooKassa refunds created in the range that succeeded.
    pub refunds: Vec<YkRefund>,
    /// Every Star transaction from the first up to [`GRACE_MS`] past the range's end (none
    /// when no bot token is configured).
    pub stars: Vec<StarTransaction>,
}

/// Fetches both providers; the first failure is the answer.
///
/// # Errors
/// [`CoreError::Upstream`] (YooKassa or Telegram refused, failed or was unreachable).
pub async fn fetch(deps: &Deps<'_>, range: Range) -> CoreResult<Theirs> {
    let mut theirs = Theirs::default();
    if deps.pay.shop_id.is_empty() {
        tracing::warn!("reconciliation without YooKassa: no shop id configured");
    } else {
        let (from, to) = (time::iso(range.from), time::iso(range.to));
        theirs.payments = yookassa::list_payments(deps, &from, &to).await?;
        theirs.refunds = yookassa::list_refunds(deps, &from, &to).await?;
    }
    if deps.pay.bot_token.is_empty() {
        tracing::warn!("reconciliation without Telegram Stars: no bot token configured");
    } else {
        theirs.stars = star_transactions(deps, range.to.saturating_add(GRACE_MS)).await?;
    }
    Ok(theirs)
}

/// Star transactions, oldest first, until one dated at or after `until_ms` or the end.
async fn star_transactions(deps: &Deps<'_>, until_ms: i64) -> CoreResult<Vec<StarTransaction>> {
    let bot = bot(deps)?;
    let mut all: Vec<StarTransaction> = Vec::new();
    for _ in 0..MAX_STARS_PAGES {
        let page = bot
            .get_star_transactions(all.len() as u64, STARS_PAGE)
            .await
            .map_err(|e| from_bot_api("getStarTransactions", &e))?;
        let past = page
            .transactions
            .last()
            .is_none_or(|t| t.date.saturating_mul(1000) >= until_ms);
        all.extend(page.transactions);
        if past {
            return Ok(all);
        }
    }
    Err(CoreError::Upstream {
        service: "telegram",
        message: format!("getStarTransactions did not end after {MAX_STARS_PAGES} pages"),
        transient: false,
    })
}
