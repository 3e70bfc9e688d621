//! HTML building: escaping (every value that reaches a page goes through [`esc`]), the page
//! frame with the navigation, dates, tables, message and error pages, and the answers'
//! headers. A leaf: it imports no page.

use qwen_core::CoreError;
use qwen_core::ports::HttpResponse;

use crate::texts::{Lang, t};

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a value for a URL query component.
pub fn url(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn days_to_civil(days: i64) -> (i64, i64, i64) {
    qwen_core::payments::reconcile::time::civil_from_days(days)
}

fn civil_to_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// Unix ms as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn when(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = days_to_civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// An optional time, or a dash.
pub fn when_opt(ms: Option<i64>) -> String {
    ms.map(when).unwrap_or_else(|| "—".into())
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM`, UTC) as Unix ms.
pub fn parse_local(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once('T')?;
    let mut ymd = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let mut hm = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min) = (hm.next()??, hm.next()??);
    let ok = (1..=12).contains(&m) && (1..=31).contains(&d) && h < 24 && min < 60;
    ok.then(|| (civil_to_days(y, m, d) * 86_400 + h * 3600 + min * 60) * 1000)
}

/// Unix ms as a `datetime-local` value.
pub fn local_value(ms: i64) -> String {
    when(ms).replacen(' ', "T", 1).chars().take(16).collect()
}

/// Everything the frame of a signed-in page shows.
pub struct Frame<'a> {
    /// Language.
    pub lang: Lang,
    /// Signed-in operator.
    pub operator: &'a str,
    /// The session's CSRF token (for the sign-out form).
    pub csrf: &'a str,
    /// The path of this page (for the language switch).
    pub here: &'a str,
}

const NAV: &[(&str, &str)] = &[
    ("/console/fleet", "nav_fleet"),
    ("/console/users", "nav_users"),
    ("/console/jobs", "nav_jobs"),
    ("/console/payments", "nav_payments"),
    ("/console/reconciliations", "nav_reconciliation"),
];

fn nav(f: &Frame<'_>) -> String {
    let links: String = NAV
        .iter()
        .map(|(href, key)| {
            let cur = if f.here.starts_with(href) {
                " class=\"current\""
            } else {
                ""
            };
            format!("<a href=\"{href}\"{cur}>{}</a>", t(f.lang, key))
        })
        .collect();
    let other = if f.lang == Lang::En {
        Lang::Ru
    } else {
        Lang::En
    };
    let switch = format!(
        "<a class=\"lang\" href=\"/console/lang?to={}&amp;back={}\">{}</a>",
        other.code(),
        url(f.here),
        other.code().to_uppercase()
    );
    let out = format!(
        "<form method=\"post\" action=\"/console/logout\" class=\"inline\">{}<span class=\"who\">{}</span> \
         <button type=\"submit\">{}</button></form>",
        csrf_field(f.csrf),
        esc(f.operator),
        t(f.lang, "sign_out")
    );
    format!("<nav>{links}<span class=\"spacer\"></span>{switch}{out}</nav>")
}

/// The hidden CSRF field every form of a session carries.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token)
    )
}

/// A whole page: head, navigation (when signed in), `body`.
pub fn page(lang: Lang, frame: Option<&Frame<'_>>, title: &str, body: &str) -> String {
    let nav = frame.map(nav).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — QwenEditBot</title><link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
         <script src=\"/console/assets/console.js\" defer></script></head>\
         <body><header><strong>QwenEditBot</strong> · {}</header>{nav}<main><h1>{}</h1>{body}</main></body></html>",
        lang.code(),
        esc(title),
        t(lang, "title"),
        esc(title)
    )
}

/// The headers of every console answer: no caching, no framing, scripts and styles only
/// from the console itself.
pub fn secure_headers(content_type: &str) -> Vec<(String, String)> {
    [
        ("content-type", content_type),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        (
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// An HTML answer.
pub fn html(status: u16, body: String) -> HttpResponse {
    HttpResponse {
        status,
        headers: secure_headers("text/html; charset=utf-8"),
        body: body.into_bytes(),
    }
}

/// A `303 See Other` to `location`, setting `cookies`.
pub fn redirect(location: &str, cookies: &[String]) -> HttpResponse {
    let mut headers = secure_headers("text/plain; charset=utf-8");
    headers.push(("location".into(), location.to_owned()));
    headers.extend(cookies.iter().map(|c| ("set-cookie".to_owned(), c.clone())));
    HttpResponse {
        status: 303,
        headers,
        body: Vec::new(),
    }
}

/// A page with one message and no navigation.
pub fn message(lang: Lang, status: u16, key: &'static str) -> HttpResponse {
    let body = format!(
        "<p class=\"flash bad\">{}</p><p><a href=\"/console/login\">{}</a></p>",
        t(lang, key),
        t(lang, "sign_in")
    );
    html(status, page(lang, None, t(lang, "title"), &body))
}

/// The status and message the REST API gives for `e` (internal detail is logged only).
pub fn error_text(e: &CoreError) -> (u16, String) {
    qwen_core::health::forget_after(e);
    if e.status() >= 500 {
        tracing::error!(error = %e, "console page failed");
    }
    let public = e.public();
    (public.status, public.message)
}

/// A core error as a page without navigation.
pub fn core_error(lang: Lang, e: &CoreError) -> HttpResponse {
    let (status, message) = error_text(e);
    let body = format!("<p class=\"flash bad\">{}</p>", esc(&message));
    html(status, page(lang, None, t(lang, "title"), &body))
}

/// A table: header cells (already text keys translated) and rows of ready HTML cells.
pub fn table(head: &[&str], rows: &[String], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", esc(empty));
    }
    let head: String = head
        .iter()
        .map(|h| format!("<th>{}</th>", esc(h)))
        .collect();
    format!(
        "<table><thead><tr>{head}</tr></thead><tbody>{}</tbody></table>",
        rows.concat()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(when(0), "1970-01-01 00:00:00");
        assert_eq!(when(1_700_000_000_123), "2023-11-14 22:13:20");
        assert_eq!(parse_local("2023-11-14T22:13"), Some(1_699_999_980_000));
        assert_eq!(local_value(1_699_999_980_000), "2023-11-14T22:13");
        assert_eq!(parse_local("2023-13-01T00:00"), None);
        assert_eq!(parse_local("yesterday"), None);
    }
}
