//! The payment routes of the REST API (`/api/payments/…`), called from [`crate::rest`].
//! Amounts in the API: `package`/`amount` in whole roubles or stars; stored and returned
//! `amount` in kopecks (RUB) or stars (XTR).

use serde_json::json;

use super::{Deps, PaymentSettings, ops, stars, store};
use crate::error::CoreError;
use crate::http::{self, Request};
use crate::ports::{HttpClient, HttpResponse};
use crate::rest::Ctx;
use crate::users;

/// What creating and refunding payments needs beyond the REST context.
pub struct Providers<'a> {
    /// Outbound HTTP (YooKassa, Bot API).
    pub http: &'a dyn HttpClient,
    /// Payment configuration.
    pub pay: &'a PaymentSettings,
}

/// A payment route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOp {
    /// `POST /api/payments/`
    Create,
    /// `GET /api/payments/`
    List,
    /// `GET /api/payments/{id}`
    Get,
    /// `POST /api/payments/{id}/refund`
    Refund,
    /// `GET /api/users/{telegram_id}/payments`
    ForUser,
}

pub(crate) type Answer = Result<HttpResponse, HttpResponse>;

pub(crate) fn core(e: CoreError) -> HttpResponse {
    http::from_core(&e)
}

/// The payment dependencies of a request; 503 `payments_unavailable` in a component that
/// has no payment configuration.
pub(crate) fn deps<'a>(
    ctx: &'a Ctx<'a>,
    prov: Option<&'a Providers<'a>>,
) -> Result<Deps<'a>, HttpResponse> {
    let prov = prov.ok_or_else(|| {
        http::error(
            503,
            "payments_unavailable",
            "payments are not configured in this component",
        )
    })?;
    Ok(Deps {
        sql: ctx.sql,
        http: prov.http,
        clock: ctx.clock,
        settings: ctx.settings,
        pay: prov.pay,
    })
}

/// Answers one payment route (`arg` is the path capture, if any).
pub async fn dispatch(
    ctx: &Ctx<'_>,
    prov: Option<&Providers<'_>>,
    req: &Request,
    op: PaymentOp,
    arg: &str,
) -> HttpResponse {
    let answer = match op {
        PaymentOp::Create => create(ctx, prov, req).await,
        PaymentOp::List => list(ctx, req).await,
        PaymentOp::Get => store::get(ctx.sql, arg)
            .await
            .map(|p| http::json(200, &p))
            .map_err(core),
        PaymentOp::Refund => refund(ctx, prov, req, arg).await,
        PaymentOp::ForUser => for_user(ctx, req, arg).await,
    };
    match answer {
        Ok(r) | Err(r) => r,
    }
}

async fn create(ctx: &Ctx<'_>, prov: Option<&Providers<'_>>, req: &Request) -> Answer {
    let input: ops::NewPayment = req.json()?;
    let deps = deps(ctx, prov)?;
    let created = ops::create(&deps, &input).await.map_err(core)?;
    Ok(http::json(
        if created.created { 201 } else { 200 },
        &created,
    ))
}

async fn for_user(ctx: &Ctx<'_>, req: &Request, raw: &str) -> Answer {
    let id = crate::rest::telegram_id(raw)?;
    users::get(ctx.sql, id).await.map_err(core)?;
    let p = crate::rest::page(req)?;
    let (items, total) = store::list_for_user(ctx.sql, id, p).await.map_err(core)?;
    Ok(http::json(
        200,
        &json!({ "items": items, "total": total, "limit": p.limit, "offset": p.offset }),
    ))
}

fn admin_check(ctx: &Ctx<'_>, admin: Option<String>) -> Result<(), HttpResponse> {
    match admin.map(|a| http::int_text(&a).ok_or(())) {
        Some(Ok(a)) if !ctx.settings.is_admin(a) => Err(http::error(
            403,
            "not_admin",
            "admin_id is not in ADMIN_IDS",
        )),
        Some(Err(_)) => Err(http::error(
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
            .map(|v| http::int_text(&v).ok_or(()))
            .transpose()
            .map_err(|_| http::error(422, "invalid_period", "from and to are Unix milliseconds"))
    };
    let status = req.query_param("status").filter(|s| !s.is_empty());
    if let Some(word) = &status {
        word.parse::<super::PaymentStatus>()
            .map_err(|e| http::error(422, "invalid_status", &e.to_string()))?;
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
    let p = crate::rest::page(req)?;
    let (items, total, totals) = store::admin_list(ctx.sql, &filter, p).await.map_err(core)?;
    Ok(http::json(
        200,
        &json!({ "items": items, "total": total, "totals": totals, "limit": p.limit, "offset": p.offset }),
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
    let p = stars::refund(&deps, id, admin.as_deref())
        .await
        .map_err(core)?;
    Ok(http::json(200, &p))
}

/// Settles stale pending payments (see [`super::expiry`]) as part of the jobs sweep, when
/// this component has payments configured; failures are logged, never answered.
pub async fn settle_stale(ctx: &Ctx<'_>, prov: Option<&Providers<'_>>) {
    let Ok(deps) = deps(ctx, prov) else {
        return;
    };
    match super::expiry::settle_stale(&deps).await {
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
