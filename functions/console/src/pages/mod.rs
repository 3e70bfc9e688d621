//! The console's pages and actions, routed by method and path. The pieces pages share live
//! in leaves below them ([`crate::html`], [`crate::call`]), so pages import downward only.

mod fleet;
mod jobs;
mod payments;
mod reconciliation;
mod users;

use qwen_core::ports::HttpResponse;

use crate::call::Call;
use crate::html;

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
