//! Signing in and out, the session check of every page, and the checks of every POST: the
//! request comes from the console's own origin and carries the session's CSRF token.

use qwen_core::ports::HttpResponse;
use qwen_http::Request;

use crate::call::safe_back;
use crate::env::Env;
use crate::html::{self, esc};
use crate::password::CheckPermit;
use crate::session::{self, Session};
use crate::texts::{Lang, t};
use crate::throttle;

const LANG_COOKIE: &str = "qc_lang";

/// The language chosen with the switch (Russian by default).
pub(crate) fn lang(req: &Request) -> Lang {
    Lang::from_code(session::cookie(req.header("cookie"), LANG_COOKIE))
}

/// Whether the request came over HTTPS (the cookie is `Secure` then).
pub(crate) fn is_https(req: &Request) -> bool {
    req.header("spin-full-url")
        .is_some_and(|u| u.starts_with("https://"))
        || req
            .last_header("x-forwarded-proto")
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The host the client addressed (`Host`, else the authority of Spin's full URL).
fn own_host(req: &Request) -> Option<String> {
    if let Some(h) = req.header("host") {
        return Some(h.to_owned());
    }
    let url = req.header("spin-full-url")?;
    let rest = url.split_once("://")?.1;
    Some(rest.split('/').next()?.to_owned())
}

/// Whether a state-changing request comes from this site: its `Origin` (or, without one,
/// its `Referer`) is this host over http or https.
pub(crate) fn same_origin(req: &Request) -> bool {
    let Some(host) = own_host(req) else {
        return false;
    };
    let ours = |o: &str| o == format!("http://{host}") || o == format!("https://{host}");
    match req.header("origin") {
        Some(o) => ours(o),
        None => req.header("referer").is_some_and(|r| {
            let origin: String = r.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
            ours(&origin)
        }),
    }
}

/// The client's address from the configured header (the last entry of an
/// `x-forwarded-for` list; the port dropped), at most 64 characters; "unknown" without one.
fn client_ip(env: &Env<'_>, req: &Request) -> String {
    let header = match env.settings.client_ip_header.as_str() {
        "" => crate::settings::DEFAULT_CLIENT_IP_HEADER,
        h => h,
    };
    let value = req.last_header(header).unwrap_or("unknown");
    match qwen_core::payments::allowlist::client_ip(value) {
        Some(ip) => ip.to_string(),
        None => value.trim().chars().take(64).collect(),
    }
}

/// The pages anyone may open: sign-in and the language switch.
pub(crate) async fn public(env: &Env<'_>, req: &Request, lang: Lang) -> Option<HttpResponse> {
    match (req.method.as_str(), req.path.trim_end_matches('/')) {
        ("GET", "/console/login") => Some(login_page(lang, 200, None)),
        ("POST", "/console/login") => Some(login(env, req, lang).await),
        ("GET", "/console/lang") => Some(switch_lang(req)),
        _ => None,
    }
}

fn switch_lang(req: &Request) -> HttpResponse {
    let to = Lang::from_code(req.query_param("to").as_deref());
    let back = req.query_param("back");
    let back = back
        .as_deref()
        .and_then(safe_back)
        .unwrap_or("/console/fleet");
    let secure = if is_https(req) { "; Secure" } else { "" };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/console; Max-Age=31536000; SameSite=Strict{secure}",
        to.code()
    );
    html::redirect(back, &[cookie])
}

fn login_page(lang: Lang, status: u16, problem: Option<String>) -> HttpResponse {
    let problem = problem
        .map(|p| format!("<p class=\"flash bad\">{}</p>", esc(&p)))
        .unwrap_or_default();
    let body = format!(
        "{problem}<form method=\"post\" action=\"/console/login\" class=\"login\">\
         <label>{} <input name=\"name\" autocomplete=\"username\" required maxlength=\"64\"></label>\
         <label>{} <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">{}</button></form>\
         <p><a href=\"/console/lang?to={}&amp;back=%2Fconsole%2Flogin\">{}</a></p>",
        t(lang, "name"),
        t(lang, "password"),
        t(lang, "sign_in"),
        if lang == Lang::En { "ru" } else { "en" },
        if lang == Lang::En { "RU" } else { "EN" },
    );
    html::html(status, html::page(lang, None, t(lang, "sign_in"), &body))
}

async fn login(env: &Env<'_>, req: &Request, lang: Lang) -> HttpResponse {
    if !same_origin(req) {
        return html::message(lang, 403, "forbidden");
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    let field = |n: &str| {
        form.iter()
            .find(|(k, _)| k == n)
            .map_or("", |(_, v)| v.as_str())
    };
    let (name, password) = (field("name").trim(), field("password"));
    let keys = throttle::keys(name, &client_ip(env, req));
    let now = env.ctx.clock.now_ms();
    match throttle::claim(env.ctx.sql, &keys, now).await {
        Ok(throttle::Claim::Granted) => {}
        Ok(throttle::Claim::Wait(wait)) => return too_soon(lang, wait),
        Err(e) => {
            tracing::error!(error = %e, "console sign-in: the database failed");
            return html::message(lang, 503, "failed_action");
        }
    }
    // Past the throttle, but at most a few PBKDF2s at once per instance.
    let Some(_permit) = CheckPermit::try_acquire() else {
        return too_soon(lang, 1_000);
    };
    let operator = verified(env, name, password);
    match operator {
        Some(op) => signed_in_now(env, req, op, &keys).await,
        None => {
            tracing::warn!(ip = %client_ip(env, req), "console sign-in refused: wrong name or password");
            login_page(lang, 401, Some(t(lang, "wrong_password").into()))
        }
    }
}

fn too_soon(lang: Lang, wait_ms: i64) -> HttpResponse {
    let secs = (wait_ms + 999) / 1000;
    let text = format!("{} {secs}", t(lang, "too_soon"));
    let mut resp = login_page(lang, 429, Some(text));
    resp.headers.push(("retry-after".into(), secs.to_string()));
    resp
}

/// The operator `name` if `password` is theirs. An unknown name costs the same hashing (a
/// dummy against the first operator's cost), so the timing does not tell names apart.
fn verified<'s>(
    env: &Env<'s>,
    name: &str,
    password: &str,
) -> Option<&'s crate::settings::Operator> {
    match env.settings.operator(name) {
        Some(op) => op.hash.verify(password).then_some(op),
        None => {
            if let Some(any) = env.settings.operators.first() {
                any.hash.burn(password);
            }
            None
        }
    }
}

/// The answer to a good sign-in: the throttle keys cleared, a session under the operator's
/// current generation.
async fn signed_in_now(
    env: &Env<'_>,
    req: &Request,
    op: &crate::settings::Operator,
    keys: &[String; 2],
) -> HttpResponse {
    let lang = lang(req);
    if let Err(e) = throttle::succeeded(env.ctx.sql, keys).await {
        tracing::warn!(error = %e, "console sign-in: could not clear the failures");
    }
    let generation = match session::generation(env.ctx.sql, &op.name).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "console sign-in: the database failed");
            return html::message(lang, 503, "failed_action");
        }
    };
    tracing::info!(operator = %op.name, "console sign-in");
    let now = env.ctx.clock.now_ms();
    let s = session::issue(env.settings, op, now, generation);
    html::redirect(
        "/console/fleet",
        &[session::set_cookie(&s, now, is_https(req))],
    )
}

/// The session of a signed-in request. Refuses (sign-in page for a GET, 403 for anything
/// else) without a valid, unexpired session; a POST also needs this site's origin and the
/// session's CSRF token.
pub(crate) async fn signed_in(env: &Env<'_>, req: &Request) -> Result<Session, HttpResponse> {
    let lang = lang(req);
    let now = env.ctx.clock.now_ms();
    let value = session::cookie(req.header("cookie"), session::COOKIE);
    let found = value.and_then(|v| session::verify(env.settings, v, now));
    let found = match found {
        Some(s) => match session::current(env.ctx.sql, &s).await {
            Ok(true) => Some(s),
            Ok(false) => None,
            Err(e) => {
                tracing::error!(error = %e, "console session check: the database failed");
                return Err(html::message(lang, 503, "failed_action"));
            }
        },
        None => None,
    };
    let Some(s) = found else {
        if req.method == "GET" {
            let clear = session::clear_cookie(is_https(req));
            return Err(html::redirect("/console/login", &[clear]));
        }
        return Err(html::message(lang, 403, "forbidden"));
    };
    if req.method != "GET" && !post_ok(env, req, &s) {
        tracing::warn!(operator = %s.operator, path = %req.path, "console POST refused: origin or CSRF token");
        return Err(html::message(lang, 403, "forbidden"));
    }
    Ok(s)
}

fn post_ok(env: &Env<'_>, req: &Request, s: &Session) -> bool {
    let token = form_urlencoded::parse(&req.body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    req.method == "POST" && same_origin(req) && session::csrf_ok(env.settings, s, &token)
}

/// Signing out: the operator's session generation goes up (every session of theirs issued
/// so far, this cookie included, stops working) and the cookie is removed.
pub(crate) async fn logout(env: &Env<'_>, req: &Request, session: &Session) -> HttpResponse {
    if let Err(e) = session::revoke(env.ctx.sql, &session.operator).await {
        tracing::error!(error = %e, "console sign-out: the database failed");
        return html::message(lang(req), 503, "failed_action");
    }
    tracing::info!(operator = %session.operator, "console sign-out");
    html::redirect("/console/login", &[session::clear_cookie(is_https(req))])
}
