//! Reconciliation: run a day against YooKassa and Telegram, list the reports, show one
//! report's findings, and credit a payment that was paid there but not credited here —
//! through the same core functions as `POST /api/reconciliations` and its credit route.

use qwen_core::Page;
use qwen_core::payments::Deps;
use qwen_core::payments::reconcile::{self, Head, Item, Range, store};
use qwen_core::ports::HttpResponse;

use crate::call::Call;
use crate::html::{self, esc, when, when_opt};
use crate::pages::payments::money;

const LIMIT: i64 = 30;

fn deps<'a>(c: &'a Call<'a>) -> Option<Deps<'a>> {
    let prov = c.env.providers?;
    let ctx = c.env.ctx;
    Some(Deps {
        sql: ctx.sql,
        http: prov.http,
        clock: ctx.clock,
        settings: ctx.settings,
        pay: prov.pay,
    })
}

fn unavailable() -> qwen_core::CoreError {
    qwen_core::CoreError::conflict(
        "payments_unavailable",
        "payments are not configured in this component",
    )
}

fn run_form(c: &Call<'_>) -> String {
    let yesterday = html::local_value(c.now() - 86_400_000);
    let day = yesterday.get(..10).unwrap_or("");
    format!(
        "<form method=\"post\" action=\"/console/reconciliations\" class=\"inline\">{}\
         <label>{} <input type=\"date\" name=\"day\" value=\"{}\" required></label>\
         <label><input type=\"checkbox\" name=\"rerun\" value=\"true\"> {}</label>\
         <button type=\"submit\">{}</button></form>",
        c.hidden("/console/reconciliations"),
        c.t("rec_day"),
        esc(day),
        c.t("rec_rerun"),
        c.t("rec_run")
    )
}

fn head_row(h: &Head) -> String {
    let s = &h.summary;
    let bad = s.missing_ours + s.missing_theirs + s.amount_mismatch + s.refund_not_taken_back;
    format!(
        "<tr class=\"{}\" data-report=\"{id}\"><td><a href=\"/console/reconciliations/{url}\">{}</a></td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        if bad > 0 { "stale" } else { "" },
        when(h.from),
        when(h.to),
        h.run,
        when(h.created_at),
        s.matched,
        s.missing_ours,
        s.missing_theirs,
        s.amount_mismatch,
        s.refund_not_taken_back,
        id = esc(&h.id),
        url = html::url(&h.id),
    )
}

const HEAD: [&str; 9] = [
    "from",
    "to",
    "rec_run_no",
    "created",
    "rec_matched",
    "rec_missing_ours",
    "rec_missing_theirs",
    "rec_amount_mismatch",
    "rec_refund_not_taken_back",
];

/// `GET /console/reconciliations`: the run form and the reports, newest first.
pub(crate) async fn list(c: &Call<'_>) -> HttpResponse {
    let page = Page::new(LIMIT, c.offset());
    let (heads, total) = match store::list(c.sql(), page).await {
        Ok(found) => found,
        Err(e) => return c.failed(&e),
    };
    let rows: Vec<String> = heads.iter().map(head_row).collect();
    let head: Vec<&str> = HEAD.iter().map(|k| c.t(k)).collect();
    let body = format!(
        "{}<h2>{}</h2>{}{}",
        run_form(c),
        c.t("rec_reports"),
        html::table(&head, &rows, c.t("nothing")),
        c.pager(total, LIMIT)
    );
    c.page(200, c.t("nav_reconciliation"), &body)
}

/// `POST /console/reconciliations`: reconciles the UTC day of the form (the stored report
/// unless "again" is ticked), then shows it.
pub(crate) async fn run(c: &Call<'_>) -> HttpResponse {
    let Some(deps) = deps(c) else {
        return c.failed(&unavailable());
    };
    let range = match Range::day(c.field("day").trim()) {
        Ok(r) => r,
        Err(e) => return c.failed(&e),
    };
    match reconcile::run(&deps, range, c.field("rerun") == "true").await {
        Ok(out) => {
            tracing::info!(operator = %c.session.operator, reconciliation_id = %out.report.id, created = out.created, "console: reconciliation");
            html::redirect(
                &format!("/console/reconciliations/{}", html::url(&out.report.id)),
                &[],
            )
        }
        Err(e) => c.failed(&e),
    }
}

fn credit_button(c: &Call<'_>, report: &str, i: &Item) -> String {
    if !i.creditable || i.resolved_at.is_some() {
        return when_opt(i.resolved_at);
    }
    let back = format!("/console/reconciliations/{}", html::url(report));
    format!(
        "<form method=\"post\" action=\"{back}/items/{}/credit\">{}<button type=\"submit\">{}</button></form>",
        i.n,
        c.hidden(&back),
        c.t("rec_credit_now")
    )
}

fn item_row(c: &Call<'_>, report: &str, i: &Item) -> String {
    let amount = |a: Option<i64>| a.map(|a| money(a, i.currency)).unwrap_or_default();
    format!(
        "<tr class=\"item {kind}\" data-kind=\"{kind}\"><td>{kind}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        i.provider.as_str(),
        esc(i.payment_id.as_deref().unwrap_or("")),
        esc(i
            .provider_payment_id
            .as_deref()
            .or(i.refund_id.as_deref())
            .unwrap_or("")),
        i.user_id.map(|u| u.to_string()).unwrap_or_default(),
        amount(i.our_amount),
        amount(i.their_amount),
        esc(i.their_status.as_deref().unwrap_or("")),
        esc(&i.note),
        credit_button(c, report, i),
        kind = i.kind.as_str(),
    )
}

const ITEM_HEAD: [&str; 10] = [
    "rec_kind",
    "rec_provider",
    "payments",
    "rec_their_id",
    "user",
    "rec_ours",
    "rec_theirs",
    "status",
    "rec_note",
    "",
];

/// `GET /console/reconciliations/{id}`: one report's findings, the ones that need a hand
/// first.
pub(crate) async fn show(c: &Call<'_>, id: &str) -> HttpResponse {
    let report = match store::get(c.sql(), id).await {
        Ok(r) => r,
        Err(e) => return c.failed(&e),
    };
    let mut items: Vec<&Item> = report.items.iter().collect();
    items.sort_by_key(|i| (i.kind == reconcile::ItemKind::Matched, i.n));
    let rows: Vec<String> = items.iter().map(|i| item_row(c, &report.id, i)).collect();
    let head: Vec<&str> = ITEM_HEAD
        .iter()
        .map(|k| if k.is_empty() { "" } else { c.t(k) })
        .collect();
    let title = format!(
        "{} {} — {}",
        c.t("nav_reconciliation"),
        when(report.from),
        when(report.to)
    );
    let body = format!(
        "<p><a href=\"/console/reconciliations\">{}</a></p>{}",
        c.t("back"),
        html::table(&head, &rows, c.t("nothing"))
    );
    c.page(200, &title, &body)
}

/// `POST /console/reconciliations/{id}/items/{n}/credit`: "credit now", once.
pub(crate) async fn credit(c: &Call<'_>, id: &str, n: &str) -> HttpResponse {
    let Some(deps) = deps(c) else {
        return c.failed(&unavailable());
    };
    let Ok(n) = n.parse::<i64>() else {
        return c.page(404, c.t("not_found"), "");
    };
    match reconcile::credit(&deps, id, n).await {
        Ok(done) => {
            tracing::info!(operator = %c.session.operator, reconciliation_id = %id, payment_id = %done.payment.id, credited = done.credited, "console: credited from a reconciliation");
            c.done("/console/reconciliations", "credited")
        }
        Err(e) => c.failed(&e),
    }
}
