//! The REST router of the `api` component: finds the route, authorizes, checks storage and
//! hands the request to the route's handler.

use qwen_core::ports::HttpResponse;
use qwen_core::{CoreError, setup, signing};

use crate::ctx::{Answer, Ctx, Providers, Refusal, cap};
use crate::request::{self, Request};
use crate::routes::{Op, find_route};
use crate::{jobs, meta, payments, presets, reconcile, users};

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
        return request::too_large(ctx.settings.max_body_bytes);
    }
    let (op, caps) = match find_route(&req.method, &req.path) {
        Ok(found) => found,
        Err(allowed) if allowed.is_empty() => {
            return request::error(404, "not_found", "no such route");
        }
        Err(allowed) => {
            let mut resp = request::error(
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
        && let Err(e) = setup::ensure_ready(ctx.sql, ctx.clock.now_ms()).await
    {
        return request::from_core(&CoreError::Storage(e));
    }
    dispatch(ctx, payments, req, op, &caps)
        .await
        .unwrap_or_else(Refusal::into_response)
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
                Err(request::error(
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
        return Err(request::error(
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
        request::error(401, "bad_signature", &e.to_string())
    })
}

async fn dispatch(
    ctx: &Ctx<'_>,
    payments: Option<&Providers<'_>>,
    req: &Request,
    op: Op,
    caps: &[&str],
) -> Answer {
    match op {
        Op::Health => Ok(meta::health(ctx).await),
        Op::OpenApi => Ok(meta::openapi()),
        Op::UpsertUser => users::upsert_user(ctx, req).await,
        Op::GetUser => users::get_user(ctx, cap(caps, 0)).await,
        Op::UserJobs => users::user_jobs(ctx, req, cap(caps, 0)).await,
        Op::GetBalance => users::get_balance(ctx, cap(caps, 0)).await,
        Op::BalanceHistory => users::balance_history(ctx, req, cap(caps, 0)).await,
        Op::AdjustBalance => users::adjust_balance(ctx, req, cap(caps, 0)).await,
        Op::ListPresets => presets::list_presets(ctx, req).await,
        Op::Categories => presets::categories(ctx).await,
        Op::GetPreset => presets::get_preset(ctx, cap(caps, 0)).await,
        Op::CreatePreset | Op::UpdatePreset => {
            presets::save_preset(ctx, req, cap(caps, 0), op == Op::CreatePreset).await
        }
        Op::DeletePreset => presets::delete_preset(ctx, cap(caps, 0)).await,
        Op::CreateJob => jobs::create_job(ctx, req).await,
        Op::GetJob => jobs::get_job(ctx, cap(caps, 0)).await,
        Op::CancelJob => jobs::cancel_job(ctx, cap(caps, 0)).await,
        Op::JobEvent => jobs::job_event(ctx, req, cap(caps, 0)).await,
        Op::Sweep => {
            payments::settle_stale(ctx, payments).await;
            jobs::sweep(ctx, payments).await
        }
        Op::HostReport => jobs::host_report(ctx, req).await,
        Op::Fleet => meta::fleet_view(ctx).await,
        Op::Metrics => meta::metrics(ctx).await,
        Op::Stats => meta::stats(ctx).await,
        Op::Payments(p) => payments::dispatch(ctx, payments, req, p, cap(caps, 0)).await,
        Op::Reconciliations(r) => reconcile::dispatch(ctx, payments, req, r, caps).await,
    }
}
