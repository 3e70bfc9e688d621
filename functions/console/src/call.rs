//! One signed-in request: who, in which language, the parsed form, and the helpers every
//! page uses.

use qwen_core::CoreError;
use qwen_core::ports::{HttpResponse, Sql};
use qwen_http::Request;

use crate::env::Env;
use crate::html::{self, Frame};
use crate::session::{self, Session};
use crate::texts::{Lang, t};

/// A signed-in request.
pub(crate) struct Call<'a> {
    pub env: &'a Env<'a>,
    pub req: &'a Request,
    pub session: &'a Session,
    pub lang: Lang,
    pub csrf: String,
    form: Vec<(String, String)>,
}

impl<'a> Call<'a> {
    pub fn new(env: &'a Env<'a>, req: &'a Request, session: &'a Session, lang: Lang) -> Self {
        let form = form_urlencoded::parse(&req.body).into_owned().collect();
        Call {
            csrf: session::csrf_token(env.settings, session),
            env,
            req,
            session,
            lang,
            form,
        }
    }

    pub fn sql(&self) -> &dyn Sql {
        self.env.ctx.sql
    }

    /// The jobs stream's backlog (`None` when Redis does not answer).
    pub async fn backlog(&self) -> Option<qwen_core::backlog::QueueBacklog> {
        let ctx = self.env.ctx;
        qwen_core::backlog::QueueBacklog::read(ctx.queue, ctx.settings, self.now()).await
    }

    pub fn now(&self) -> i64 {
        self.env.ctx.clock.now_ms()
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        t(self.lang, key)
    }

    /// A form field of the POST body ("" when absent).
    pub fn field(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// A query parameter, `None` when absent or empty.
    pub fn query(&self, name: &str) -> Option<String> {
        self.req.query_param(name).filter(|v| !v.trim().is_empty())
    }

    /// A signed-in page.
    pub fn page(&self, status: u16, title: &str, body: &str) -> HttpResponse {
        let here = match self.req.query.is_empty() {
            true => self.req.path.clone(),
            false => format!("{}?{}", self.req.path, self.req.query),
        };
        let frame = Frame {
            lang: self.lang,
            operator: &self.session.operator,
            csrf: &self.csrf,
            here: &here,
        };
        let flash = self.flash();
        let body = format!("{flash}{body}");
        html::html(status, html::page(self.lang, Some(&frame), title, &body))
    }

    fn flash(&self) -> String {
        let key = match self.query("done").as_deref() {
            Some("adjusted") => "done_adjusted",
            Some("cancelled") => "done_cancelled",
            Some("refunded") => "done_refunded",
            Some("credited") => "done_credited",
            _ => return String::new(),
        };
        format!("<p class=\"flash ok\">{}</p>", self.t(key))
    }

    /// After a change: back to the page the form named, saying what was done.
    pub fn done(&self, fallback: &str, what: &str) -> HttpResponse {
        let back = safe_back(self.field("back")).unwrap_or(fallback);
        let back = back.split('?').next().unwrap_or(fallback);
        html::redirect(&format!("{back}?done={what}"), &[])
    }

    /// A core error as a page with the REST API's status and (safe) message.
    pub fn failed(&self, e: &CoreError) -> HttpResponse {
        let (status, message) = html::error_text(e);
        let back = safe_back(self.field("back")).unwrap_or("/console/fleet");
        let body = format!(
            "<p class=\"flash bad\">{}: {}</p><p><a href=\"{}\">{}</a></p>",
            self.t("failed_action"),
            html::esc(&message),
            html::esc(back),
            self.t("back")
        );
        self.page(status, self.t("failed_action"), &body)
    }

    /// The `offset` query parameter (≥ 0).
    pub fn offset(&self) -> i64 {
        self.query("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0)
            .max(0)
    }

    /// Newer / older links of a list of `total` items shown `limit` at a time from `offset`.
    pub fn pager(&self, total: i64, limit: i64) -> String {
        let c = self;
        let off = self.offset();
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

    /// A form's hidden fields: the CSRF token and where to come back to.
    pub fn hidden(&self, back: &str) -> String {
        format!(
            "{}<input type=\"hidden\" name=\"back\" value=\"{}\">",
            html::csrf_field(&self.csrf),
            html::esc(back)
        )
    }
}

/// `back` when it is a console path on this site (no scheme, host or `//`).
pub(crate) fn safe_back(back: &str) -> Option<&str> {
    let ok = back.starts_with("/console/")
        && !back.contains("//")
        && !back.contains('\\')
        && !back.chars().any(char::is_control);
    ok.then_some(back)
}
