//! Users: search by Telegram id or `@username`; a user's balance, ledger, jobs and payments;
//! a balance adjustment with a reason, posted under the operator's name.

use qwen_core::contract::UserId;
use qwen_core::ledger::{self, Adjustment, Entry};
use qwen_core::payments::store;
use qwen_core::ports::HttpResponse;
use qwen_core::profile::Profile;
use qwen_core::users::{self, User};
use qwen_core::{CoreResult, Page, jobs};

use crate::call::Call;
use crate::html::{self, esc, url, when};

const LIMIT: i64 = 50;

fn user_row(u: &User) -> String {
    let names = [&u.first_name, &u.last_name]
        .iter()
        .filter_map(|n| n.as_deref())
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "<tr><td><a href=\"/console/users/{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(u
            .username
            .as_deref()
            .map(|n| format!("@{n}"))
            .as_deref()
            .unwrap_or("")),
        esc(&names),
        when(u.created_at),
        id = u.telegram_id,
    )
}

/// `GET /console/users?q=…`: one match opens the user.
pub(crate) async fn search(c: &Call<'_>) -> HttpResponse {
    let q = c.query("q").unwrap_or_default();
    let found = match users::search(c.sql(), &q).await {
        Ok(found) => found,
        Err(e) => return c.failed(&e),
    };
    if let [one] = found.as_slice() {
        return html::redirect(&format!("/console/users/{}", one.telegram_id), &[]);
    }
    let form = format!(
        "<form method=\"get\" action=\"/console/users\" class=\"filter\"><input name=\"q\" value=\"{}\" placeholder=\"{}\" autofocus>\
         <button type=\"submit\">{}</button></form>",
        esc(&q),
        c.t("search_hint"),
        c.t("search")
    );
    let rows: Vec<String> = found.iter().map(user_row).collect();
    let empty = if q.is_empty() { "" } else { c.t("no_users") };
    let head = ["user", "@username", "name", "created"]
        .map(|k| if k.starts_with('@') { k } else { c.t(k) });
    let body = format!("{form}{}", html::table(&head, &rows, empty));
    c.page(200, c.t("nav_users"), &body)
}

struct UserView {
    profile: Profile,
    ledger: Vec<Entry>,
    jobs: Vec<jobs::Job>,
    payments: Vec<qwen_core::payments::Payment>,
}

async fn load(c: &Call<'_>, id: i64) -> CoreResult<UserView> {
    let page = Page::new(LIMIT, 0);
    Ok(UserView {
        profile: qwen_core::profile::of(c.sql(), UserId(id)).await?,
        ledger: ledger::history(c.sql(), UserId(id), page).await?.0,
        jobs: jobs::list_for_user(c.sql(), UserId(id), page).await?.0,
        payments: store::list_for_user(c.sql(), UserId(id), page).await?.0,
    })
}

fn ledger_rows(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| {
            format!(
                "<tr class=\"entry\"><td>{}</td><td>{}</td><td class=\"amount\">{:+}</td><td><code>{}</code></td><td class=\"note\">{}</td></tr>",
                when(e.created_at),
                e.kind.as_str(),
                e.amount,
                esc(&e.reference),
                esc(e.note.as_deref().unwrap_or(""))
            )
        })
        .collect()
}

fn adjust_form(c: &Call<'_>, id: i64) -> String {
    let back = format!("/console/users/{id}");
    format!(
        "<form method=\"post\" action=\"/console/users/{id}/adjust\" class=\"adjust\">{}\
         <input type=\"hidden\" name=\"reference\" value=\"console-{}\">\
         <label>{} <input name=\"amount\" type=\"number\" step=\"1\" required></label>\
         <label>{} <input name=\"reason\" required maxlength=\"500\"></label><button type=\"submit\">{}</button></form>",
        c.hidden(&back),
        uuid::Uuid::new_v4().simple(),
        c.t("amount"),
        c.t("reason"),
        c.t("apply")
    )
}

fn profile_html(c: &Call<'_>, p: &Profile) -> String {
    let u = &p.user;
    format!(
        "<div class=\"stats\"><div class=\"stat\"><span>Telegram id</span><b>{}</b></div><div class=\"stat\"><span>@username</span><b>{}</b></div>\
         <div class=\"stat\"><span>{}</span><b id=\"balance\">{}</b></div><div class=\"stat\"><span>{}</span><b>{}</b></div></div>",
        u.telegram_id,
        esc(u.username.as_deref().unwrap_or("—")),
        c.t("balance"),
        p.balance,
        c.t("created"),
        when(u.created_at)
    )
}

/// `GET /console/users/{id}`.
pub(crate) async fn show(c: &Call<'_>, raw: &str) -> HttpResponse {
    let Some(id) = raw.parse::<i64>().ok().filter(|i| *i > 0) else {
        return c.failed(&crate::pages::jobs::bad_id("the Telegram id"));
    };
    let v = match load(c, id).await {
        Ok(v) => v,
        Err(e) => return c.failed(&e),
    };
    let back = format!("/console/users/{id}");
    let ledger_head = ["time", "kind", "amount", "reference", "note"].map(|k| c.t(k));
    let body = format!(
        "{}<h2>{}</h2>{}<h2>{}</h2>{}<h2>{}</h2>{}<h2>{}</h2>{}",
        profile_html(c, &v.profile),
        c.t("adjust"),
        adjust_form(c, id),
        c.t("ledger"),
        html::table(&ledger_head, &ledger_rows(&v.ledger), c.t("nothing")),
        c.t("jobs"),
        html::table(
            &crate::pages::jobs::head(c),
            &crate::pages::jobs::rows(c, &v.jobs, &back),
            c.t("nothing")
        ),
        c.t("payments"),
        html::table(
            &crate::pages::payments::head(c),
            &crate::pages::payments::rows(c, &v.payments, &back),
            c.t("nothing")
        ),
    );
    c.page(200, &format!("{} {id}", c.t("user")), &body)
}

/// `POST /console/users/{id}/adjust`: [`ledger::admin_adjust`] with the operator's name.
pub(crate) async fn adjust(c: &Call<'_>, raw: &str) -> HttpResponse {
    let Some(id) = raw.parse::<i64>().ok().filter(|i| *i > 0) else {
        return c.failed(&crate::pages::jobs::bad_id("the Telegram id"));
    };
    let Ok(amount) = c.field("amount").trim().parse::<i64>() else {
        return c.failed(&qwen_core::CoreError::invalid(
            "invalid_amount",
            "amount must be a whole number of credits",
        ));
    };
    let reference = match c.field("reference") {
        r if r.starts_with("console-") && r.len() <= 64 => r.to_owned(),
        _ => format!("console-{}", uuid::Uuid::new_v4().simple()),
    };
    let a = Adjustment {
        user_id: UserId(id),
        amount,
        reason: c.field("reason"),
        reference: &reference,
        operator: Some(&c.session.operator),
    };
    match ledger::admin_adjust(c.sql(), &a, c.now()).await {
        Ok(_) => c.done(&format!("/console/users/{}", url(raw)), "adjusted"),
        Err(e) => c.failed(&e),
    }
}
