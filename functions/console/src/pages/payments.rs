//! Payments: filtered by status and time, with totals per currency and status; a payment its
//! method refunds here (a credited Stars payment) can be refunded through the same core
//! function as the REST API's refund.

use qwen_core::Page;
use qwen_core::payments::{self, Currency, Deps, Payment, PaymentStatus, store};
use qwen_core::ports::HttpResponse;

use crate::call::Call;
use crate::html::{self, esc, when, when_opt};

const LIMIT: i64 = 50;

/// An amount in its currency (kopecks shown as roubles).
pub(crate) fn money(amount: i64, currency: Currency) -> String {
    match currency {
        Currency::Rub => format!("{}.{:02} RUB", amount / 100, (amount % 100).abs()),
        Currency::Xtr => format!("{amount} XTR"),
    }
}

fn refund_button(c: &Call<'_>, p: &Payment, back: &str) -> String {
    let refundable = payments::registered(p.method).is_ok_and(|m| m.refundable(p));
    if !refundable {
        return String::new();
    }
    format!(
        "<form method=\"post\" action=\"/console/payments/{}/refund\">{}<button type=\"submit\" class=\"danger\">{}</button></form>",
        html::url(&p.id),
        c.hidden(back),
        c.t("refund")
    )
}

/// The rows of a payments table; `back` is where a refund returns to.
pub(crate) fn rows(c: &Call<'_>, items: &[Payment], back: &str) -> Vec<String> {
    items
        .iter()
        .map(|p| {
            format!(
                "<tr class=\"payment {status}\" data-payment=\"{id}\"><td><code>{id}</code></td><td><a href=\"/console/users/{u}\">{u}</a></td>\
                 <td>{}</td><td>{}</td><td>{} + {}</td><td class=\"status\">{status}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                p.method.as_str(),
                money(p.amount, p.currency),
                p.credits,
                p.bonus,
                when(p.created_at),
                when_opt(p.credited_at),
                when_opt(p.refunded_at),
                esc(p.failure.as_deref().unwrap_or("")),
                refund_button(c, p, back),
                id = esc(&p.id),
                u = p.user_id,
                status = p.status.as_str(),
            )
        })
        .collect()
}

/// The header of a payments table.
pub(crate) fn head(c: &Call<'_>) -> Vec<&'static str> {
    [
        "payments", "user", "method", "amount", "credits", "status", "created", "credited",
        "refunded", "failure", "",
    ]
    .iter()
    .map(|k| if k.is_empty() { "" } else { c.t(k) })
    .collect()
}

fn totals(c: &Call<'_>, totals: &[store::Total]) -> String {
    let rows: Vec<String> = totals
        .iter()
        .map(|t| {
            let cur = t.currency.parse().unwrap_or(Currency::Xtr);
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.currency),
                esc(&t.status),
                t.count,
                money(t.amount, cur),
                t.credits + t.bonus,
                t.refunded
            )
        })
        .collect();
    let head = [
        "currency", "status", "count", "amount", "credits", "refunded",
    ]
    .map(|k| c.t(k));
    format!(
        "<h2>{}</h2>{}",
        c.t("totals"),
        html::table(&head, &rows, c.t("nothing"))
    )
}

/// `GET /console/payments`.
pub(crate) async fn list(c: &Call<'_>) -> HttpResponse {
    let f = store::Filter {
        status: c
            .query("status")
            .filter(|s| s.parse::<PaymentStatus>().is_ok()),
        from: c.query("from").and_then(|v| html::parse_local(&v)),
        to: c.query("to").and_then(|v| html::parse_local(&v)),
    };
    let page = Page::new(LIMIT, c.offset());
    let (items, total, sums) = match store::admin_list(c.sql(), &f, page).await {
        Ok(found) => found,
        Err(e) => return c.failed(&e),
    };
    let statuses: Vec<&str> = PaymentStatus::ALL.iter().map(|s| s.as_str()).collect();
    let body = format!(
        "{}{}<h2>{}</h2>{}{}",
        crate::pages::jobs::filter_form(c, "/console/payments", &statuses),
        totals(c, &sums),
        c.t("payments"),
        html::table(
            &head(c),
            &rows(c, &items, "/console/payments"),
            c.t("nothing")
        ),
        c.pager(total, LIMIT)
    );
    c.page(200, c.t("nav_payments"), &body)
}

/// `POST /console/payments/{id}/refund`: [`payments::refund`], as `POST /api/payments/{id}/refund`.
pub(crate) async fn refund(c: &Call<'_>, id: &str) -> HttpResponse {
    let Some(prov) = c.env.providers else {
        let e = qwen_core::CoreError::conflict(
            "payments_unavailable",
            "payments are not configured in this component",
        );
        return c.failed(&e);
    };
    let ctx = c.env.ctx;
    let deps = Deps {
        sql: ctx.sql,
        http: prov.http,
        clock: ctx.clock,
        settings: ctx.settings,
        pay: prov.pay,
    };
    match payments::refund(&deps, id, Some(&c.session.operator)).await {
        Ok(p) => {
            tracing::info!(operator = %c.session.operator, payment_id = %p.id, "console: payment refunded");
            c.done("/console/payments", "refunded")
        }
        Err(e) => c.failed(&e),
    }
}
