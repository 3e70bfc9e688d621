//! The service's own routes: health, the OpenAPI document, the fleet, metrics and stats.

use qwen_core::fleet;
use qwen_core::ports::HttpResponse;

use crate::bodies::{FleetView, HealthBody, Overall, Probe};
use crate::ctx::{Answer, Ctx};
use crate::request;

/// `GET /health`.
pub async fn health(ctx: &Ctx<'_>) -> HttpResponse {
    let h = qwen_core::health::check(ctx.sql, ctx.queue, ctx.settings, ctx.clock.now_ms()).await;
    let (status, overall) = match h.ok() {
        true => (200, Overall::Ok),
        false => (503, Overall::Degraded),
    };
    let body = HealthBody {
        status: overall,
        database: Probe::of(h.database),
        queue: Probe::of(h.queue),
    };
    request::json(status, &body)
}

/// `GET /api/openapi.json`.
pub fn openapi() -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: crate::openapi::json().into_bytes(),
    }
}

/// `GET /api/fleet`.
pub async fn fleet_view(ctx: &Ctx<'_>) -> Answer {
    let view = fleet::fleet(ctx.sql, ctx.clock.now_ms()).await?;
    let now = ctx.clock.now_ms();
    let backlog = qwen_core::backlog::QueueBacklog::read(ctx.queue, ctx.settings, now).await;
    let body = FleetView {
        fleet: view,
        backlog,
    };
    Ok(request::json(200, &body))
}

/// `GET /metrics`.
pub async fn metrics(ctx: &Ctx<'_>) -> Answer {
    let text = crate::metrics::render(ctx.sql, ctx.queue, ctx.settings, ctx.clock.now_ms()).await?;
    Ok(HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), crate::metrics::CONTENT_TYPE.into())],
        body: text.into_bytes(),
    })
}

/// `GET /api/stats`.
pub async fn stats(ctx: &Ctx<'_>) -> Answer {
    let s = qwen_core::stats::collect(ctx.sql, ctx.queue, ctx.settings, ctx.clock.now_ms()).await?;
    Ok(request::json(200, &s))
}
