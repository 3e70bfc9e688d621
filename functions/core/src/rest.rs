//! The REST API (`/api/*`, `/internal/*`, `/health`): routing, authentication and the thin
//! mapping from HTTP to core operations. The `api` Spin component and the native test server
//! both call [`handle`].

use serde::Deserialize;

use crate::contract::{HostHeartbeat, JobEvent};
use crate::http::{self, Request};
use crate::payments::api::{PaymentOp, Providers};
use crate::payments::reconcile::api::ReconcileOp;
use crate::ports::{Clock, HttpResponse, Queue, Sql};
use crate::settings::Settings;
use crate::{CoreError, Page, db, fleet, jobs, ledger, presets, signing, users};

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

/// The operations behind the routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET /health`
    Health,
    /// `GET /api/openapi.json`
    OpenApi,
    /// `POST /api/users/`
    UpsertUser,
    /// `GET /api/users/{telegram_id}`
    GetUser,
    /// `GET /api/users/{telegram_id}/jobs`
    UserJobs,
    /// `GET /api/balance/{telegram_id}`
    GetBalance,
    /// `GET /api/balance/{telegram_id}/history`
    BalanceHistory,
    /// `POST /api/balance/{telegram_id}/adjust`
    AdjustBalance,
    /// `GET /api/presets/`
    ListPresets,
    /// `GET /api/presets/categories`
    Categories,
    /// `GET /api/presets/{id}`
    GetPreset,
    /// `POST /api/presets/{id}`
    CreatePreset,
    /// `PUT /api/presets/{id}`
    UpdatePreset,
    /// `DELETE /api/presets/{id}`
    DeletePreset,
    /// `POST /api/jobs/`
    CreateJob,
    /// `GET /api/jobs/{id}`
    GetJob,
    /// `POST /api/jobs/{id}/cancel`
    CancelJob,
    /// `POST /internal/jobs/{id}/events`
    JobEvent,
    /// `POST /internal/jobs/sweep`
    Sweep,
    /// `POST /internal/hosts/heartbeat`
    HostReport,
    /// `GET /api/fleet`
    Fleet,
    /// `GET /metrics`
    Metrics,
    /// `GET /api/stats`
    Stats,
    /// `/api/payments/…` and `GET /api/users/{telegram_id}/payments`
    Payments(PaymentOp),
    /// `/api/reconciliations…`
    Reconciliations(ReconcileOp),
}

/// One route: method, path pattern (`{name}` = one segment), operation.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path pattern as in the OpenAPI document.
    pub path: &'static str,
    /// Operation.
    pub op: Op,
}

const fn route(method: &'static str, path: &'static str, op: Op) -> Route {
    Route { method, path, op }
}

/// Every route of the `api` component, matched in order (literal segments before captures).
pub const ROUTES: &[Route] = &[
    route("GET", "/health", Op::Health),
    route("GET", "/api/openapi.json", Op::OpenApi),
    route("POST", "/api/users/", Op::UpsertUser),
    route("GET", "/api/users/{telegram_id}", Op::GetUser),
    route("GET", "/api/users/{telegram_id}/jobs", Op::UserJobs),
    route("GET", "/api/balance/{telegram_id}", Op::GetBalance),
    route(
        "GET",
        "/api/balance/{telegram_id}/history",
        Op::BalanceHistory,
    ),
    route(
        "POST",
        "/api/balance/{telegram_id}/adjust",
        Op::AdjustBalance,
    ),
    route("GET", "/api/presets/", Op::ListPresets),
    route("GET", "/api/presets/categories", Op::Categories),
    route("GET", "/api/presets/{id}", Op::GetPreset),
    route("POST", "/api/presets/{id}", Op::CreatePreset),
    route("PUT", "/api/presets/{id}", Op::UpdatePreset),
    route("DELETE", "/api/presets/{id}", Op::DeletePreset),
    route("POST", "/api/jobs/", Op::CreateJob),
    route("GET", "/api/jobs/{id}", Op::GetJob),
    route("POST", "/api/jobs/{id}/cancel", Op::CancelJob),
    route("GET", "/api/stats", Op::Stats),
    route("POST", "/api/payments/", Op::Payments(PaymentOp::Create)),
    route("GET", "/api/payments/", Op::Payments(PaymentOp::List)),
    route("GET", "/api/payments/{id}", Op::Payments(PaymentOp::Get)),
    route(
        "POST",
        "/api/payments/{id}/refund",
        Op::Payments(PaymentOp::Refund),
    ),
    route(
        "GET",
        "/api/users/{telegram_id}/payments",
        Op::Payments(PaymentOp::ForUser),
    ),
    route("POST", "/internal/jobs/sweep", Op::Sweep),
    route("POST", "/internal/hosts/heartbeat", Op::HostReport),
    route("GET", "/api/fleet", Op::Fleet),
    route("GET", "/metrics", Op::Metrics),
    route("POST", "/internal/jobs/{id}/events", Op::JobEvent),
    route(
        "POST",
        "/api/reconciliations",
        Op::Reconciliations(ReconcileOp::Run),
    ),
    route(
        "GET",
        "/api/reconciliations",
        Op::Reconciliations(ReconcileOp::List),
    ),
    route(
        "GET",
        "/api/reconciliations/{id}",
        Op::Reconciliations(ReconcileOp::Get),
    ),
    route(
        "POST",
        "/api/reconciliations/{id}/items/{n}/credit",
        Op::Reconciliations(ReconcileOp::Credit),
    ),
];

fn segments(path: &str) -> Vec<&str> {
    path.trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Matches a path against a pattern; returns the captured segments.
pub fn match_path<'p>(pattern: &str, path: &'p str) -> Option<Vec<&'p str>> {
    let (pat, got) = (segments(pattern), segments(path));
    if pat.len() != got.len() {
        return None;
    }
    let mut captures = Vec::new();
    for (p, g) in pat.iter().zip(&got) {
        if p.starts_with('{') {
            captures.push(*g);
        } else if p != g {
            return None;
        }
    }
    Some(captures)
}

/// Finds the route for a method and path: `Ok((op, captures))`, or `Err(allowed methods)`
/// when the path exists under other methods (empty when it does not exist at all).
pub fn find_route<'p>(
    method: &str,
    path: &'p str,
) -> Result<(Op, Vec<&'p str>), Vec<&'static str>> {
    // The first pattern that matches the path is the path's resource (literal segments are
    // listed before captures): `/api/presets/categories` is not `/api/presets/{id}`.
    let Some(pattern) = ROUTES.iter().find(|r| match_path(r.path, path).is_some()) else {
        return Err(Vec::new());
    };
    let mut allowed = Vec::new();
    for r in ROUTES.iter().filter(|r| r.path == pattern.path) {
        if r.method.eq_ignore_ascii_case(method) {
            return Ok((r.op, match_path(r.path, path).unwrap_or_default()));
        }
        allowed.push(r.method);
    }
    Err(allowed)
}

/// Handles one request of the `api` component. Never panics; every failure is a JSON error.
/// Payment routes that call out (create, refund) answer 503 here; see [`handle_with_payments`].
pub async fn handle(ctx: &Ctx<'_>, req: &Request) -> HttpResponse {
    handle_with_payments(ctx, None, req).await
}

/// [`handle`] with what creating and refunding payments needs (outbound HTTP, payment
/// configuration).
pub async fn handle_with_payments(
    ctx: &Ctx<'_>,
    payments: Option<&Providers<'_>>,
    req: &Request,
) -> HttpResponse {
    if req.body.len() > ctx.settings.max_body_bytes {
        return http::too_large(ctx.settings.max_body_bytes);
    }
    let (op, caps) = match find_route(&req.method, &req.path) {
        Ok(found) => found,
        Err(allowed) if allowed.is_empty() => {
            return http::error(404, "not_found", "no such route");
        }
        Err(allowed) => {
            let mut resp = http::error(
                405,
                "method_not_allowed",
                "method not allowed on this route",
            );
            resp.headers.push(("allow".into(), allowed.join(", ")));
            return resp;
        }
    };
    if let Err(resp) = authorize(ctx, req, op) {
        return resp;
    }
    if !matches!(op, Op::Health | Op::OpenApi)
        && let Err(e) = db::ensure_ready(ctx.sql, ctx.clock.now_ms()).await
    {
        return http::from_core(&CoreError::Storage(e));
    }
    if op == Op::Sweep {
        crate::payments::api::settle_stale(ctx, payments).await;
        return match sweep(ctx, payments).await {
            Ok(resp) | Err(resp) => resp,
        };
    }
    if let Op::Payments(pay_op) = op {
        return crate::payments::api::dispatch(ctx, payments, req, pay_op, cap(&caps, 0)).await;
    }
    if let Op::Reconciliations(rec_op) = op {
        return crate::payments::reconcile::api::dispatch(ctx, payments, req, rec_op, &caps).await;
    }
    match dispatch(ctx, req, op, &caps).await {
        Ok(resp) | Err(resp) => resp,
    }
}

fn authorize(ctx: &Ctx<'_>, req: &Request, op: Op) -> Result<(), HttpResponse> {
    match op {
        Op::Health | Op::OpenApi => Ok(()),
        Op::JobEvent | Op::Sweep | Op::HostReport => verify_signature(ctx, req),
        _ => {
            let token = req
                .header("authorization")
                .and_then(|h| h.strip_prefix("Bearer "))
                .unwrap_or("");
            if signing::secret_eq(token.trim(), &ctx.settings.api_token) {
                Ok(())
            } else {
                Err(http::error(
                    401,
                    "unauthorized",
                    "missing or wrong bearer token",
                ))
            }
        }
    }
}

fn verify_signature(ctx: &Ctx<'_>, req: &Request) -> Result<(), HttpResponse> {
    if ctx.settings.gpu_event_secret.is_empty() {
        return Err(http::error(
            401,
            "unauthorized",
            "gpu_event_secret is not configured",
        ));
    }
    let now_secs = ctx.clock.now_ms().div_euclid(1000);
    signing::verify(
        ctx.settings.gpu_event_secret.as_bytes(),
        req.header(signing::TIMESTAMP_HEADER),
        req.header(signing::SIGNATURE_HEADER),
        (&req.method, &req.path, &req.body),
        now_secs,
    )
    .map_err(|e| {
        tracing::warn!(error = %e, path = %req.path, "refused internal call");
        http::error(401, "bad_signature", &e.to_string())
    })
}

type Answer = Result<HttpResponse, HttpResponse>;

fn core(e: CoreError) -> HttpResponse {
    http::from_core(&e)
}

pub(crate) fn telegram_id(raw: &str) -> Result<i64, HttpResponse> {
    http::int_text(raw).filter(|id| *id > 0).ok_or_else(|| {
        http::error(
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
pub(crate) fn page(req: &Request) -> Result<Page, HttpResponse> {
    let num = |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| {
        let Some(raw) = req.query_param(name) else {
            return Ok(default);
        };
        http::int_text(&raw)
            .filter(|v| range.contains(v))
            .ok_or_else(|| {
                http::error(
                    422,
                    "invalid_page",
                    "limit is an integer 1–100 and offset an integer ≥ 0",
                )
            })
    };
    let limit = num("limit", 20, 1..=crate::openapi::MAX_LIMIT)?;
    Ok(Page::new(limit, num("offset", 0, 0..=i64::MAX)?))
}

fn cap<'a>(caps: &[&'a str], i: usize) -> &'a str {
    caps.get(i).copied().unwrap_or("")
}

async fn dispatch(ctx: &Ctx<'_>, req: &Request, op: Op, caps: &[&str]) -> Answer {
    match op {
        Op::Health => Ok(health(ctx).await),
        Op::OpenApi => Ok(openapi()),
        Op::UpsertUser => upsert_user(ctx, req).await,
        Op::GetUser => get_user(ctx, cap(caps, 0)).await,
        Op::UserJobs => user_jobs(ctx, req, cap(caps, 0)).await,
        Op::GetBalance => get_balance(ctx, cap(caps, 0)).await,
        Op::BalanceHistory => balance_history(ctx, req, cap(caps, 0)).await,
        Op::AdjustBalance => adjust_balance(ctx, req, cap(caps, 0)).await,
        Op::ListPresets => list_presets(ctx, req).await,
        Op::Categories => categories(ctx).await,
        Op::GetPreset => Ok(http::json(
            200,
            &presets::get(ctx.sql, cap(caps, 0)).await.map_err(core)?,
        )),
        Op::CreatePreset | Op::UpdatePreset => {
            save_preset(ctx, req, cap(caps, 0), op == Op::CreatePreset).await
        }
        Op::DeletePreset => delete_preset(ctx, cap(caps, 0)).await,
        Op::CreateJob => create_job(ctx, req).await,
        Op::GetJob => get_job(ctx, cap(caps, 0)).await,
        Op::CancelJob => cancel_job(ctx, cap(caps, 0)).await,
        Op::JobEvent => job_event(ctx, req, cap(caps, 0)).await,
        Op::Sweep => sweep(ctx, None).await,
        Op::HostReport => host_report(ctx, req).await,
        Op::Fleet => fleet_view(ctx).await,
        Op::Metrics => metrics(ctx).await,
        Op::Stats => stats(ctx).await,
        Op::Payments(_) => Err(http::error(500, "internal", "payment route not dispatched")),
        Op::Reconciliations(_) => Err(http::error(
            500,
            "internal",
            "reconciliation route not dispatched",
        )),
    }
}

async fn health(ctx: &Ctx<'_>) -> HttpResponse {
    let h = crate::health::check(ctx.sql, ctx.queue, ctx.settings, ctx.clock.now_ms()).await;
    let (db_ok, queue_ok) = (h.database, h.queue);
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let status = if h.ok() { 200 } else { 503 };
    let overall = if status == 200 { "ok" } else { "degraded" };
    http::json(
        status,
        &serde_json::json!({ "status": overall, "database": word(db_ok), "queue": word(queue_ok) }),
    )
}

fn openapi() -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: crate::openapi::json().into_bytes(),
    }
}

async fn upsert_user(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let input: users::UserInput = req.json()?;
    let (profile, created) = users::upsert(ctx.sql, ctx.settings, &input, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    Ok(http::json(if created { 201 } else { 200 }, &profile))
}

async fn get_user(ctx: &Ctx<'_>, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    Ok(http::json(
        200,
        &users::profile(ctx.sql, id).await.map_err(core)?,
    ))
}

async fn user_jobs(ctx: &Ctx<'_>, req: &Request, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    users::get(ctx.sql, id).await.map_err(core)?;
    let p = page(req)?;
    let (items, total) = jobs::list_for_user(ctx.sql, id, p).await.map_err(core)?;
    Ok(http::json(
        200,
        &serde_json::json!({ "items": items, "total": total, "limit": p.limit, "offset": p.offset }),
    ))
}

async fn get_balance(ctx: &Ctx<'_>, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    users::get(ctx.sql, id).await.map_err(core)?;
    let balance = ledger::balance(ctx.sql, id).await.map_err(core)?;
    Ok(http::json(
        200,
        &serde_json::json!({ "telegram_id": id, "balance": balance }),
    ))
}

async fn balance_history(ctx: &Ctx<'_>, req: &Request, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    users::get(ctx.sql, id).await.map_err(core)?;
    let p = page(req)?;
    let (items, total) = ledger::history(ctx.sql, id, p).await.map_err(core)?;
    Ok(http::json(
        200,
        &serde_json::json!({ "items": items, "total": total, "limit": p.limit, "offset": p.offset }),
    ))
}

/// Body of `POST /api/balance/{telegram_id}/adjust`.
#[derive(Debug, Deserialize)]
struct Adjust {
    amount: i64,
    reason: String,
    /// Idempotency key: the same key never adjusts twice. Generated when absent.
    #[serde(default)]
    reference: Option<String>,
    /// The admin acting (must be in `ADMIN_IDS` when given).
    #[serde(default)]
    admin_id: Option<i64>,
}

async fn adjust_balance(ctx: &Ctx<'_>, req: &Request, raw: &str) -> Answer {
    let id = telegram_id(raw)?;
    let body: Adjust = req.json()?;
    ledger::check_adjustment(body.amount, &body.reason).map_err(core)?;
    if body.admin_id.is_some_and(|a| !ctx.settings.is_admin(a)) {
        return Err(http::error(
            403,
            "not_admin",
            "admin_id is not in ADMIN_IDS",
        ));
    }
    let reference = body
        .reference
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let operator = body.admin_id.map(|a| a.to_string());
    let adjustment = ledger::Adjustment {
        user_id: id,
        amount: body.amount,
        reason: &body.reason,
        reference: &reference,
        operator: operator.as_deref(),
    };
    let posted = ledger::admin_adjust(ctx.sql, &adjustment, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    Ok(http::json(if posted.created { 201 } else { 200 }, &posted))
}

async fn list_presets(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let category = req.query_param("category");
    let items = presets::list(ctx.sql, category.as_deref())
        .await
        .map_err(core)?;
    Ok(http::json(200, &serde_json::json!({ "items": items })))
}

async fn categories(ctx: &Ctx<'_>) -> Answer {
    let cats = presets::categories(ctx.sql).await.map_err(core)?;
    let items: Vec<_> = cats
        .into_iter()
        .map(|(c, n)| serde_json::json!({ "id": c.id, "name_ru": c.name_ru, "name_en": c.name_en, "sort": c.sort, "presets": n }))
        .collect();
    Ok(http::json(200, &serde_json::json!({ "items": items })))
}

async fn save_preset(ctx: &Ctx<'_>, req: &Request, id: &str, create: bool) -> Answer {
    let mut body: serde_json::Value = req.json()?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".into(), serde_json::Value::String(id.to_owned()));
    }
    let preset: presets::Preset = serde_json::from_value(body)
        .map_err(|e| http::error(422, "invalid_preset", &format!("invalid preset: {e}")))?;
    let now = ctx.clock.now_ms();
    if create {
        Ok(http::json(
            201,
            &presets::create(ctx.sql, &preset, now).await.map_err(core)?,
        ))
    } else {
        Ok(http::json(
            200,
            &presets::update(ctx.sql, &preset, now).await.map_err(core)?,
        ))
    }
}

async fn delete_preset(ctx: &Ctx<'_>, id: &str) -> Answer {
    presets::delete(ctx.sql, id, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    Ok(HttpResponse {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

async fn create_job(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let input: jobs::NewJob = req.json()?;
    let created = jobs::create(ctx.sql, ctx.queue, ctx.settings, &input, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    Ok(http::json(
        201,
        &serde_json::json!({
            "job_id": created.job.id, "status": created.job.status, "cost": created.cost,
            "balance_after": created.balance_after, "queue_position": created.queue_position, "job": created.job,
        }),
    ))
}

async fn get_job(ctx: &Ctx<'_>, id: &str) -> Answer {
    let job = jobs::get(ctx.sql, id).await.map_err(core)?;
    let position = jobs::queue_position(ctx.sql, &job).await.map_err(core)?;
    let wait = match job.is_final() {
        true => None,
        false => Some(
            fleet::wait_for(ctx.sql, position, ctx.clock.now_ms())
                .await
                .map_err(core)?,
        ),
    };
    let mut value = serde_json::to_value(&job).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("queue_position".into(), position.into());
        obj.insert(
            "wait".into(),
            serde_json::to_value(wait).unwrap_or_default(),
        );
    }
    Ok(http::json(200, &value))
}

async fn cancel_job(ctx: &Ctx<'_>, id: &str) -> Answer {
    let job = jobs::cancel(
        ctx.sql,
        ctx.queue,
        ctx.settings,
        id,
        jobs::Canceller::Api,
        ctx.clock.now_ms(),
    )
    .await
    .map_err(core)?;
    let balance = ledger::balance(ctx.sql, job.user_id.0)
        .await
        .map_err(core)?;
    Ok(http::json(
        200,
        &serde_json::json!({ "job": job, "refunded": job.cost, "balance": balance }),
    ))
}

async fn job_event(ctx: &Ctx<'_>, req: &Request, id: &str) -> Answer {
    let event: JobEvent = req.json()?;
    let reply = jobs::apply_event(ctx.sql, id, &event, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    if reply.status != crate::contract::JobStatus::Queued {
        jobs::forget_marker(ctx.queue, ctx.settings, id).await;
    }
    Ok(http::json(200, &reply))
}

async fn sweep(ctx: &Ctx<'_>, payments: Option<&Providers<'_>>) -> Answer {
    let report = jobs::sweep(ctx.sql, ctx.queue, ctx.settings, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    tell_ended(payments, &report.ended).await;
    Ok(http::json(200, &report))
}

/// Most owners of swept jobs told per sweep (each a Bot API call inside the request).
const MAX_SWEEP_MESSAGES: usize = 50;

/// Tells the owners of the jobs the sweep ended, in their language (the refund is said); stops
/// at the first Bot API failure (the refund is what matters; it is in their history).
async fn tell_ended(payments: Option<&Providers<'_>>, ended: &[jobs::Job]) {
    let Some(p) = payments.filter(|p| !p.pay.bot_token.is_empty()) else {
        if !ended.is_empty() {
            tracing::warn!(
                jobs = ended.len(),
                "no bot token here: owners of swept jobs not told"
            );
        }
        return;
    };
    let bot = botapi::BotApi::new(&p.pay.telegram_api_url, &p.pay.bot_token, p.http)
        .with_timeout_ms(p.pay.telegram_timeout_ms);
    for job in ended.iter().take(MAX_SWEEP_MESSAGES) {
        let text = job.failure_message.clone().unwrap_or_default();
        let msg = botapi::SendMessage::new(job.chat_id.0, text);
        if let Err(e) = bot.send_message(&msg).await {
            tracing::warn!(job_id = %job.id, user_id = job.user_id.0, error = %e, "could not tell the owner of a swept job");
            return;
        }
    }
}

async fn host_report(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let report: HostHeartbeat = req.json()?;
    fleet::record(ctx.sql, &report, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    Ok(http::json(200, &serde_json::json!({ "recorded": true })))
}

async fn fleet_view(ctx: &Ctx<'_>) -> Answer {
    let view = fleet::fleet(ctx.sql, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    let now = ctx.clock.now_ms();
    let backlog = crate::backlog::QueueBacklog::read(ctx.queue, ctx.settings, now).await;
    let mut value = serde_json::to_value(&view).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        let backlog = serde_json::to_value(backlog).unwrap_or_default();
        obj.insert("backlog".into(), backlog);
    }
    Ok(http::json(200, &value))
}

async fn metrics(ctx: &Ctx<'_>) -> Answer {
    let text = crate::metrics::render(ctx.sql, ctx.queue, ctx.settings, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    Ok(HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), crate::metrics::CONTENT_TYPE.into())],
        body: text.into_bytes(),
    })
}

async fn stats(ctx: &Ctx<'_>) -> Answer {
    let s = crate::stats::collect(ctx.sql, ctx.queue, ctx.settings, ctx.clock.now_ms())
        .await
        .map_err(core)?;
    Ok(http::json(200, &s))
}
