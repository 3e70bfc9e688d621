//! The payment routes of the REST API (`/api/payments/…`), called from [`crate::rest`].
//! Amounts in the API: `package`/`amount` in whole roubles or stars; stored and returned
//! `amount` in kopecks (RUB) or stars (XTR).

use serde_json::json;

use crate::bodies::{PaymentListing, PaymentPage};
use crate::ctx::{Answer, Ctx, Providers, deps, page, telegram_id};
use crate::request::{self, Request};
use crate::routes::PaymentOp;
use qwen_core::payments::{self, checkout, store};
use qwen_core::ports::HttpResponse;
use qwen_core::users;

/// Answers one payment route (`arg` is the path capture, if any).
pub async fn dispatch(
    ctx: &Ctx<'_>,
    prov: Option<&Providers<'_>>,
    req: &Request,
    op: PaymentOp,
    arg: &str,
) -> Answer {
    match op {
        PaymentOp::Create => create(ctx, prov, req).await,
        PaymentOp::List => list(ctx, req).await,
        PaymentOp::Get => Ok(request::json(200, &store::get(ctx.sql, arg).await?)),
        PaymentOp::Refund => refund(ctx, prov, req, arg).await,
        PaymentOp::ForUser => for_user(ctx, req, arg).await,
    }
}

async fn create(ctx: &Ctx<'_>, prov: Option<&Providers<'_>>, req: &Request) -> Answer {
    let input: checkout::NewPayment = req.json()?;
    let deps = deps(ctx, prov)?;
    let created = checkout::create(&deps, &input).await?;
    Ok(request::json(
        if created.created { 201 } else { 200 },
        &created,
    ))
}

async fn for_user(ctx: &Ctx<'_>, req: &Request, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    users::get(ctx.sql, id).await?;
    let p = page(req)?;
    let (items, total) = store::list_for_user(ctx.sql, id, p).await?;
    Ok(request::json(200, &PaymentPage::new(items, total, p)))
}

fn admin_check(ctx: &Ctx<'_>, admin: Option<String>) -> Result<(), HttpResponse> {
    match admin.map(|a| request::int_text(&a).ok_or(())) {
        Some(Ok(a)) if !ctx.settings.is_admin(a) => Err(request::error(
            403,
            "not_admin",
            "admin_id is not in ADMIN_IDS",
        )),
        Some(Err(_)) => Err(request::error(
            422,
            "invalid_admin",
            "admin_id must be a Telegram id",
        )),
        _ => Ok(()),
    }
}

/// The admin listing's filter: `status` (a payment status), `from`/`to` (Unix ms); empty
/// values mean no filter.
fn filter(req: &Request) -> Result<store::Filter, HttpResponse> {
    let ms = |name: &str| -> Result<Option<i64>, HttpResponse> {
        req.query_param(name)
            .filter(|v| !v.is_empty())
            .map(|v| request::int_text(&v).ok_or(()))
            .transpose()
            .map_err(|_| request::error(422, "invalid_period", "from and to are Unix milliseconds"))
    };
    let status = req.query_param("status").filter(|s| !s.is_empty());
    if let Some(word) = &status {
        word.parse::<qwen_core::payments::PaymentStatus>()
            .map_err(|e| request::error(422, "invalid_status", &e.to_string()))?;
    }
    Ok(store::Filter {
        status,
        from: ms("from")?,
        to: ms("to")?,
    })
}

async fn list(ctx: &Ctx<'_>, req: &Request) -> Answer {
    admin_check(ctx, req.query_param("admin_id"))?;
    let filter = filter(req)?;
    let p = page(req)?;
    let (items, total, totals) = store::admin_list(ctx.sql, &filter, p).await?;
    Ok(request::json(
        200,
        &PaymentListing {
            page: PaymentPage::new(items, total, p),
            totals,
        },
    ))
}

async fn refund(ctx: &Ctx<'_>, prov: Option<&Providers<'_>>, req: &Request, id: &str) -> Answer {
    let body: serde_json::Value = if req.body.is_empty() {
        json!({})
    } else {
        req.json()?
    };
    let admin = body
        .get("admin_id")
        .map(|v| v.to_string().trim_matches('"').to_owned());
    admin_check(ctx, admin.clone())?;
    let deps = deps(ctx, prov)?;
    let p = payments::refund(&deps, id, admin.as_deref()).await?;
    Ok(request::json(200, &p))
}

/// Settles stale pending payments (see [`qwen_core::payments::expiry`]) as part of the jobs sweep, when
/// this component has payments configured; failures are logged, never answered.
pub async fn settle_stale(ctx: &Ctx<'_>, prov: Option<&Providers<'_>>) {
    let Ok(deps) = deps(ctx, prov) else {
        return;
    };
    match qwen_core::payments::expiry::settle_stale(&deps).await {
        Ok(s) if s.checked > 0 => {
            tracing::info!(
                checked = s.checked,
                settled = s.settled,
                "stale payments swept"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "stale payments not swept"),
    }
}
