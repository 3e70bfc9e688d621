//! The job routes (`/api/jobs/…`) and the GPU hosts' signed calls (`/internal/…`).

use qwen_core::contract::{HostHeartbeat, JobEvent, JobId};
use qwen_core::{fleet, jobs, ledger};

use crate::bodies::{JobCancelled, JobCreated, JobView, Recorded};
use crate::ctx::{Answer, Ctx, Providers};
use crate::request::{self, Request};

/// `POST /api/jobs/`.
pub async fn create_job(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let input: jobs::NewJob = req.json()?;
    let created =
        jobs::create(ctx.sql, ctx.queue, ctx.settings, &input, ctx.clock.now_ms()).await?;
    Ok(request::json(
        201,
        &JobCreated {
            job_id: created.job.id.to_string(),
            status: created.job.status,
            cost: created.cost,
            balance_after: created.balance_after,
            queue_position: created.queue_position,
            job: created.job,
        },
    ))
}

/// `GET /api/jobs/{id}`.
pub async fn get_job(ctx: &Ctx<'_>, id: &str) -> Answer {
    let id = &JobId::from(id);
    let job = jobs::get(ctx.sql, id).await?;
    let position = jobs::queue_position(ctx.sql, &job).await?;
    let wait = match job.is_final() {
        true => None,
        false => Some(fleet::wait_for(ctx.sql, position, ctx.clock.now_ms()).await?),
    };
    let view = JobView {
        job,
        queue_position: position,
        wait,
    };
    Ok(request::json(200, &view))
}

/// `POST /api/jobs/{id}/cancel`.
pub async fn cancel_job(ctx: &Ctx<'_>, id: &str) -> Answer {
    let id = &JobId::from(id);
    let job = jobs::cancel(
        ctx.sql,
        ctx.queue,
        ctx.settings,
        id,
        jobs::Canceller::Api,
        ctx.clock.now_ms(),
    )
    .await?;
    let balance = ledger::balance(ctx.sql, job.user_id).await?;
    Ok(request::json(
        200,
        &JobCancelled {
            refunded: job.cost,
            job,
            balance,
        },
    ))
}

/// `POST /internal/jobs/{id}/events`.
pub async fn job_event(ctx: &Ctx<'_>, req: &Request, id: &str) -> Answer {
    let id = &JobId::from(id);
    let event: JobEvent = req.json()?;
    let reply = jobs::apply_event(ctx.sql, id, &event, ctx.clock.now_ms()).await?;
    if reply.status != qwen_core::contract::JobStatus::Queued {
        jobs::forget_marker(ctx.queue, ctx.settings, id).await;
    }
    Ok(request::json(200, &reply))
}

/// `POST /internal/jobs/sweep`.
pub async fn sweep(ctx: &Ctx<'_>, payments: Option<&Providers<'_>>) -> Answer {
    let report = jobs::sweep(ctx.sql, ctx.queue, ctx.settings, ctx.clock.now_ms()).await?;
    tell_ended(payments, &report.ended).await;
    Ok(request::json(200, &report))
}

/// Most owners of swept jobs told per sweep (each a Bot API call inside the request).
const MAX_SWEEP_MESSAGES: usize = 50;

/// Tells the owners of the jobs the sweep ended, in their language (the refund is said); stops
/// at the first Bot API failure (the refund is what matters; it is in their history).
pub async fn tell_ended(payments: Option<&Providers<'_>>, ended: &[jobs::Job]) {
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

/// `POST /internal/hosts/heartbeat`.
pub async fn host_report(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let report: HostHeartbeat = req.json()?;
    fleet::record(ctx.sql, &report, ctx.clock.now_ms()).await?;
    Ok(request::json(200, &Recorded { recorded: true }))
}
