//! # console
//!
//! The operator console at `/console`, served by the `api` component: server-rendered HTML
//! pages over the core (the fleet, users, jobs, payments), with a small stylesheet and
//! script embedded in the binary. Operators sign in with a name and password (hashes in the
//! `console_operators` variable); a session is an HMAC-signed, expiring, `HttpOnly`,
//! `SameSite=Strict` cookie. Every change is a POST carrying the session's CSRF token from
//! the same origin, and goes through the same core function as the REST API.

pub mod assets;
pub mod charts;
pub mod env;
pub mod html;
pub mod password;
pub mod session;
pub mod settings;
pub mod texts;
pub mod throttle;

mod auth;
mod call;
mod pages;

use qwen_core::ports::HttpResponse;
use qwen_http::Request;

pub use env::Env;
pub use settings::{ConsoleSettings, Operator};

/// Whether `path` is the console's (`/console` and below).
pub fn is_console_path(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// Answers one console request. Never panics; every failure is a page.
pub async fn handle(env: &Env<'_>, req: &Request) -> HttpResponse {
    let lang = auth::lang(req);
    if let Some(asset) = assets::asset(req) {
        return asset;
    }
    if !env.settings.enabled() {
        return html::message(lang, 503, "not_configured");
    }
    if let Err(e) = qwen_core::setup::ensure_ready(env.ctx.sql, env.ctx.clock.now_ms()).await {
        return html::core_error(lang, &qwen_core::CoreError::Storage(e));
    }
    if let Some(public) = auth::public(env, req, lang).await {
        return public;
    }
    match auth::signed_in(env, req).await {
        Ok(session) => pages::route(&call::Call::new(env, req, &session, lang)).await,
        Err(refusal) => refusal,
    }
}
