//! Reconciliation reports (the payments as the providers report them, against ours). The
//! core has no reconciliation module in this tree yet: this page is where its reports are
//! listed once it does (`list` then calls it and renders the rows).

use qwen_core::ports::HttpResponse;

use crate::call::Call;

/// `GET /console/reconciliations`.
pub(crate) async fn list(c: &Call<'_>) -> HttpResponse {
    let body = format!("<p class=\"seam\">{}</p>", c.t("reconciliation_seam"));
    c.page(200, c.t("nav_reconciliation"), &body)
}
