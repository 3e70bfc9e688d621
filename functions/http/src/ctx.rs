//! What every handler shares: the request context, the payment providers, the answer type
//! and the parsers of path and query values.

use qwen_core::contract::UserId;
use qwen_core::payments::{Deps, PaymentSettings};
use qwen_core::ports::{Clock, HttpClient, HttpResponse, Queue, Sql};
use qwen_core::settings::Settings;
use qwen_core::{CoreError, Page};

use crate::request::{self, Request};

/// The largest page a list route returns.
pub const MAX_LIMIT: i64 = 100;

/// What a request handler needs.
pub struct Ctx<'a> {
    /// The database connection for this request.
    pub sql: &'a dyn Sql,
    /// The jobs stream.
    pub queue: &'a dyn Queue,
    /// The time.
    pub clock: &'a dyn Clock,
    /// Configuration.
    pub settings: &'a Settings,
}

/// What creating and refunding payments needs beyond the REST context.
pub struct Providers<'a> {
    /// Outbound HTTP (YooKassa, Bot API).
    pub http: &'a dyn HttpClient,
    /// Payment configuration.
    pub pay: &'a PaymentSettings,
}

/// A handler's answer: the response, or why it was refused.
pub type Answer = Result<HttpResponse, Refusal>;

/// Why a request did not succeed: a core error (answered by [`request::from_core`]) or an
/// answer the HTTP layer made itself (a malformed body, a bad path value, a refused
/// signature). Both convert with `?`, so a handler reads as its happy path.
#[derive(Debug)]
pub enum Refusal {
    /// A core operation refused.
    Core(CoreError),
    /// The HTTP layer refused, with this answer.
    Response(HttpResponse),
}

impl From<CoreError> for Refusal {
    fn from(e: CoreError) -> Self {
        Refusal::Core(e)
    }
}

impl From<HttpResponse> for Refusal {
    fn from(r: HttpResponse) -> Self {
        Refusal::Response(r)
    }
}

impl Refusal {
    /// The answer to send.
    pub fn into_response(self) -> HttpResponse {
        match self {
            Refusal::Core(e) => request::from_core(&e),
            Refusal::Response(r) => r,
        }
    }
}

/// A `telegram_id` path segment: a positive integer.
///
/// # Errors
/// A 422 `invalid_user` answer.
pub fn telegram_id(raw: &str) -> Result<UserId, HttpResponse> {
    request::int_text(raw)
        .filter(|id| *id > 0)
        .map(UserId)
        .ok_or_else(|| {
            request::error(
                422,
                "invalid_user",
                "telegram_id must be a positive integer",
            )
        })
}

/// The `limit` (1–100, default 20) and `offset` (≥ 0, default 0) query parameters.
///
/// # Errors
/// A 422 `invalid_page` answer for a value that is not an integer in its range.
pub fn page(req: &Request) -> Result<Page, HttpResponse> {
    let num = |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| {
        let Some(raw) = req.query_param(name) else {
            return Ok(default);
        };
        request::int_text(&raw)
            .filter(|v| range.contains(v))
            .ok_or_else(|| {
                request::error(
                    422,
                    "invalid_page",
                    "limit is an integer 1–100 and offset an integer ≥ 0",
                )
            })
    };
    let limit = num("limit", 20, 1..=MAX_LIMIT)?;
    Ok(Page::new(limit, num("offset", 0, 0..=i64::MAX)?))
}

/// The `i`-th path capture, or `""`.
pub fn cap<'a>(caps: &[&'a str], i: usize) -> &'a str {
    caps.get(i).copied().unwrap_or("")
}

/// The payment dependencies of a request; 503 `payments_unavailable` in a component that
/// has no payment configuration.
pub fn deps<'a>(
    ctx: &'a Ctx<'a>,
    prov: Option<&'a Providers<'a>>,
) -> Result<Deps<'a>, HttpResponse> {
    let prov = prov.ok_or_else(|| {
        request::error(
            503,
            "payments_unavailable",
            "payments are not configured in this component",
        )
    })?;
    Ok(Deps {
        sql: ctx.sql,
        http: prov.http,
        clock: ctx.clock,
        settings: ctx.settings,
        pay: prov.pay,
    })
}
