//! The user and balance routes: `/api/users/…` and `/api/balance/…`.

use serde::Deserialize;

use qwen_core::{jobs, ledger, profile, users};

use crate::bodies::{Balance, EntryPage, JobPage};
use crate::ctx::{Answer, Ctx, page, telegram_id};
use crate::request::{self, Request};

/// `POST /api/users/`.
pub async fn upsert_user(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let input: users::UserInput = req.json()?;
    let (profile, created) =
        profile::register(ctx.sql, ctx.settings, &input, ctx.clock.now_ms()).await?;
    Ok(request::json(if created { 201 } else { 200 }, &profile))
}

/// `GET /api/users/{telegram_id}`.
pub async fn get_user(ctx: &Ctx<'_>, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    Ok(request::json(200, &profile::of(ctx.sql, id).await?))
}

/// `GET /api/users/{telegram_id}/jobs`.
pub async fn user_jobs(ctx: &Ctx<'_>, req: &Request, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    users::get(ctx.sql, id).await?;
    let p = page(req)?;
    let (items, total) = jobs::list_for_user(ctx.sql, id, p).await?;
    Ok(request::json(200, &JobPage::new(items, total, p)))
}

/// `GET /api/balance/{telegram_id}`.
pub async fn get_balance(ctx: &Ctx<'_>, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    users::get(ctx.sql, id).await?;
    let balance = ledger::balance(ctx.sql, id).await?;
    Ok(request::json(
        200,
        &Balance {
            telegram_id: id.0,
            balance,
        },
    ))
}

/// `GET /api/balance/{telegram_id}/history`.
pub async fn balance_history(ctx: &Ctx<'_>, req: &Request, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    users::get(ctx.sql, id).await?;
    let p = page(req)?;
    let (items, total) = ledger::history(ctx.sql, id, p).await?;
    Ok(request::json(200, &EntryPage::new(items, total, p)))
}

/// Body of `POST /api/balance/{telegram_id}/adjust`.
#[derive(Debug, Deserialize)]
struct Adjust {
    amount: i64,
    reason: String,
    /// Idempotency key: the same key never adjusts twice. Generated when absent.
    #[serde(default)]
    reference: Option<String>,
    /// The admin acting (must be in `ADMIN_IDS` when given).
    #[serde(default)]
    admin_id: Option<i64>,
}

/// `POST /api/balance/{telegram_id}/adjust`.
pub async fn adjust_balance(ctx: &Ctx<'_>, req: &Request, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    let body: Adjust = req.json()?;
    ledger::check_adjustment(body.amount, &body.reason)?;
    if body.admin_id.is_some_and(|a| !ctx.settings.is_admin(a)) {
        return Err(request::error(403, "not_admin", "admin_id is not in ADMIN_IDS").into());
    }
    let reference = body
        .reference
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let operator = body.admin_id.map(|a| a.to_string());
    let adjustment = ledger::Adjustment {
        user_id: id,
        amount: body.amount,
        reason: &body.reason,
        reference: &reference,
        operator: operator.as_deref(),
    };
    let posted = ledger::admin_adjust(ctx.sql, &adjustment, ctx.clock.now_ms()).await?;
    Ok(request::json(
        if posted.created { 201 } else { 200 },
        &posted,
    ))
}
