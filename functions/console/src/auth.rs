//! Signing in and out, the session check of every page, and the checks of every POST: the
//! request comes from the console's own origin and carries the session's CSRF token.

use qwen_core::http::Request;
use qwen_core::ports::HttpResponse;

use crate::Env;
use crate::call::safe_back;
use crate::html::{self, esc};
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

fn client_ip(req: &Request) -> String {
    let addr = req.last_header("spin-client-addr").unwrap_or("unknown");
    let ip = match addr.rsplit_once(':') {
        Some((ip, port)) if port.bytes().all(|b| b.is_ascii_digit()) => ip,
        _ => addr,
    };
    ip.trim_matches(['[', ']']).chars().take(64).collect()
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
        return crate::pages::message(lang, 403, "forbidden");
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    let field = |n: &str| {
        form.iter()
            .find(|(k, _)| k == n)
            .map_or("", |(_, v)| v.as_str())
    };
    let (name, password) = (field("name").trim(), field("password"));
    let operator = env.settings.operator(name);
    let keys = throttle::keys(operator.map(|o| o.name.as_str()), &client_ip(req));
    let now = env.ctx.clock.now_ms();
    match throttle::wait_ms(env.kv, &keys, now).await {
        Ok(0) => {}
        Ok(wait) => return too_soon(lang, wait),
        Err(e) => {
            tracing::error!(error = %e, "console sign-in: the key-value store failed");
            return crate::pages::message(lang, 503, "failed_action");
        }
    }
    check_password(env, req, lang, (operator, password), &keys).await
}

fn too_soon(lang: Lang, wait_ms: i64) -> HttpResponse {
    let secs = (wait_ms + 999) / 1000;
    let text = format!("{} {secs}", t(lang, "too_soon"));
    let mut resp = login_page(lang, 429, Some(text));
    resp.headers.push(("retry-after".into(), secs.to_string()));
    resp
}

async fn check_password(
    env: &Env<'_>,
    req: &Request,
    lang: Lang,
    (operator, password): (Option<&crate::Operator>, &str),
    keys: &[String],
) -> HttpResponse {
    let now = env.ctx.clock.now_ms();
    let good = match operator {
        Some(op) => op.hash.verify(password),
        None => {
            if let Some(any) = env.settings.operators.first() {
                any.hash.burn(password);
            }
            false
        }
    };
    let Some(op) = operator.filter(|_| good) else {
        tracing::warn!(ip = %client_ip(req), "console sign-in refused: wrong name or password");
        if let Err(e) = throttle::failed(env.kv, keys, now).await {
            tracing::error!(error = %e, "console sign-in: could not record the failure");
        }
        return login_page(lang, 401, Some(t(lang, "wrong_password").into()));
    };
    if let Err(e) = throttle::succeeded(env.kv, keys).await {
        tracing::warn!(error = %e, "console sign-in: could not clear the failures");
    }
    tracing::info!(operator = %op.name, "console sign-in");
    let s = session::issue(env.settings, op, now);
    html::redirect(
        "/console/fleet",
        &[session::set_cookie(&s, now, is_https(req))],
    )
}

/// The session of a signed-in request. Refuses (sign-in page for a GET, 403 for anything
/// else) without a valid, unexpired session; a POST also needs this site's origin and the
/// session's CSRF token.
pub(crate) fn signed_in(env: &Env<'_>, req: &Request) -> Result<Session, HttpResponse> {
    let lang = lang(req);
    let now = env.ctx.clock.now_ms();
    let value = session::cookie(req.header("cookie"), session::COOKIE);
    let found = value.and_then(|v| session::verify(env.settings, v, now));
    let Some(s) = found else {
        if req.method == "GET" {
            let clear = session::clear_cookie(is_https(req));
            return Err(html::redirect("/console/login", &[clear]));
        }
        return Err(crate::pages::message(lang, 403, "forbidden"));
    };
    if req.method != "GET" && !post_ok(env, req, &s) {
        tracing::warn!(operator = %s.operator, path = %req.path, "console POST refused: origin or CSRF token");
        return Err(crate::pages::message(lang, 403, "forbidden"));
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

/// Signing out: the cookie is removed.
pub(crate) fn logout(req: &Request) -> HttpResponse {
    html::redirect("/console/login", &[session::clear_cookie(is_https(req))])
}
