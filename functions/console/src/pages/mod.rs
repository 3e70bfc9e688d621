//! The console's pages and actions, routed by method and path.

mod fleet;
mod jobs;
mod payments;
mod reconciliation;
mod users;

use qwen_core::CoreError;
use qwen_core::ports::HttpResponse;
use qwen_http::Request;

use crate::call::Call;
use crate::html;
use crate::texts::{Lang, t};

const CSS: &str = include_str!("../../assets/console.css");
const JS: &str = include_str!("../../assets/console.js");

/// The embedded stylesheet and script.
pub(crate) fn asset(req: &Request) -> Option<HttpResponse> {
    let (body, kind) = match req.path.as_str() {
        "/console/assets/console.css" => (CSS, "text/css; charset=utf-8"),
        "/console/assets/console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return None,
    };
    Some(HttpResponse {
        status: 200,
        headers: html::secure_headers(kind),
        body: body.as_bytes().to_vec(),
    })
}

/// A page with one message and no navigation.
pub(crate) fn message(lang: Lang, status: u16, key: &'static str) -> HttpResponse {
    let body = format!(
        "<p class=\"flash bad\">{}</p><p><a href=\"/console/login\">{}</a></p>",
        t(lang, key),
        t(lang, "sign_in")
    );
    html::html(status, html::page(lang, None, t(lang, "title"), &body))
}

/// The status and message the REST API gives for `e` (internal detail is logged only).
pub(crate) fn error_text(e: &CoreError) -> (u16, String) {
    let resp = qwen_http::from_core(e);
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or("error")
        .to_owned();
    (resp.status, message)
}

/// A core error as a page without navigation.
pub(crate) fn core_error(lang: Lang, e: &CoreError) -> HttpResponse {
    let (status, message) = error_text(e);
    let body = format!("<p class=\"flash bad\">{}</p>", html::esc(&message));
    html::html(status, html::page(lang, None, t(lang, "title"), &body))
}

/// Answers a signed-in request.
pub(crate) async fn route(c: &Call<'_>) -> HttpResponse {
    let path = c.req.path.trim_end_matches('/').to_owned();
    let segs: Vec<&str> = path.split('/').skip(2).collect();
    match (c.req.method.as_str(), segs.as_slice()) {
        ("GET", []) => html::redirect("/console/fleet", &[]),
        ("POST", ["logout"]) => crate::auth::logout(c.env, c.req, c.session).await,
        ("GET", ["fleet"]) => fleet::page(c).await,
        ("GET", ["fleet", "live"]) => fleet::live(c).await,
        ("GET", ["users"]) => users::search(c).await,
        ("GET", ["users", id]) => users::show(c, id).await,
        ("POST", ["users", id, "adjust"]) => users::adjust(c, id).await,
        ("GET", ["jobs"]) => jobs::list(c).await,
        ("POST", ["jobs", id, "cancel"]) => jobs::cancel(c, id).await,
        ("GET", ["payments"]) => payments::list(c).await,
        ("POST", ["payments", id, "refund"]) => payments::refund(c, id).await,
        ("GET", ["reconciliations"]) => reconciliation::list(c).await,
        ("POST", ["reconciliations"]) => reconciliation::run(c).await,
        ("GET", ["reconciliations", id]) => reconciliation::show(c, id).await,
        ("POST", ["reconciliations", id, "items", n, "credit"]) => {
            reconciliation::credit(c, id, n).await
        }
        _ => c.page(404, c.t("not_found"), ""),
    }
}

/// A table: header cells (already text keys translated) and rows of ready HTML cells.
pub(crate) fn table(head: &[&str], rows: &[String], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", html::esc(empty));
    }
    let head: String = head
        .iter()
        .map(|h| format!("<th>{}</th>", html::esc(h)))
        .collect();
    format!(
        "<table><thead><tr>{head}</tr></thead><tbody>{}</tbody></table>",
        rows.concat()
    )
}

/// The `offset` query parameter (≥ 0).
pub(crate) fn offset(c: &Call<'_>) -> i64 {
    c.query("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0)
        .max(0)
}

/// Newer / older links of a list of `total` items shown `limit` at a time from `offset`.
pub(crate) fn pager(c: &Call<'_>, total: i64, limit: i64) -> String {
    let off = offset(c);
    let query: String = form_urlencoded::parse(c.req.query.as_bytes())
        .filter(|(k, _)| k != "offset" && k != "done")
        .map(|(k, v)| format!("&{}={}", html::url(&k), html::url(&v)))
        .collect();
    let link = |o: i64, key| {
        format!(
            "<a href=\"{}?offset={o}{}\">{}</a>",
            c.req.path,
            html::esc(&query),
            c.t(key)
        )
    };
    let newer = if off > 0 {
        link((off - limit).max(0), "newer")
    } else {
        String::new()
    };
    let older = if off + limit < total {
        link(off + limit, "older")
    } else {
        String::new()
    };
    format!(
        "<p class=\"pager\">{}: {total} {newer} {older}</p>",
        c.t("total")
    )
}
