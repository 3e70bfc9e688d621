//! Stage 2: the job's prompt inside ComfyUI.
//!
//! The runner keeps up to [`IN_COMFY`] of the host's prompts in ComfyUI — the one running
//! and the next one waiting in ComfyUI's own queue — so ComfyUI starts the next the moment
//! the current one ends, with no round trip through the host in between. Each prompt is
//! followed by its own task ([`track`]):
//!
//! 1. until the GPU begins it (ComfyUI's `execution_start`, or `/queue` saying running),
//!    the job is still `queued` at the edge: a cancel (its queued marker gone, confirmed by
//!    the edge) or a lost claim removes the prompt from ComfyUI's queue (`POST /queue`
//!    `delete`) and it never runs;
//! 2. then `started` is reported (the edge answers whether to go on; a refusal interrupts
//!    the run), the status message appears, and the run is followed to its end with its
//!    deadline;
//! 3. the result is delivered (or the failure told) in the same task, while the next prompt
//!    already runs.
//!
//! The GPU lock is held while any of the host's prompts is in ComfyUI. A ComfyUI that
//! restarts and forgets a prompt gets it again (inputs uploaded anew); one that stops
//! answering makes the host give the job back (the entry stays pending) rather than fail it.

use std::rc::Rc;
use std::time::{Duration, Instant};

use qwen_contract::{JobEventKind, comfy_prompt_id};
use serde_json::Value;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::Instrument;

use super::host::Host;
use super::job::{Ctx, Prepared, ProgressBar, fresh_run, reason_of, upload};
use crate::comfy::{ComfyError, Phase, QueueState, RunOutcome, Watch, WsEvent};
use crate::events::EventOutcome;
use crate::lock::{GpuLockGuard, LockError};
use crate::retention::Scope;

/// How many of the host's prompts ComfyUI holds at most: the running one and the next.
pub const IN_COMFY: usize = 2;

/// How often a prompt waiting in ComfyUI's queue looks whether its job is still wanted.
const WANTED_EVERY: Duration = Duration::from_millis(250);

/// Why a job that has not run yet is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unwanted {
    /// It is over at the edge: cancelled by its owner or an operator (and refunded), ended
    /// by the sweep, or unknown.
    Cancelled,
    /// Another attempt owns it now (the claim was lost), or the edge no longer knows it.
    Fenced,
}

/// A prompt in ComfyUI and everything needed to follow it.
struct InComfy {
    ctx: Ctx,
    prompt_id: String,
    graph: Value,
    output_node: String,
    inputs: Vec<(String, Vec<u8>)>,
    events: UnboundedReceiver<WsEvent>,
    submitted: tokio::time::Instant,
    /// Ask ComfyUI before the first message (an adopted or re-sent prompt).
    check_first: bool,
    _gpu: Rc<GpuLockGuard>,
}

/// What following a prompt came to.
enum Followed {
    /// The run ended (well or not).
    Ran(Result<RunOutcome, ComfyError>),
    /// The job was dropped, fenced out or refused; already settled.
    Stopped,
}

/// The GPU lock, shared by every prompt the host has in ComfyUI: taken when the first
/// one goes in, released when the last one is over.
async fn gpu(host: &Host) -> Result<Rc<GpuLockGuard>, LockError> {
    if let Some(guard) = host.gpu.borrow().upgrade() {
        return Ok(guard);
    }
    let guard = Rc::new(host.lock.acquire(host.settings.lock_timeout).await?);
    *host.gpu.borrow_mut() = Rc::downgrade(&guard);
    Ok(guard)
}

/// Puts a prepared job's prompt into ComfyUI (or delivers an earlier attempt's finished
/// run) and leaves it to its own task. `slot` is one of the [`IN_COMFY`] places; it is
/// given back when the run ends.
pub async fn launch(host: &Rc<Host>, p: Prepared, slot: OwnedSemaphorePermit) {
    let span = p.ctx.span();
    let Some(run) = submit(host, p, slot).instrument(span.clone()).await else {
        return;
    };
    let (run, slot) = run;
    let handle = tokio::task::spawn_local(track(host.clone(), run, slot).instrument(span));
    host.track(handle);
}

async fn submit(
    host: &Rc<Host>,
    p: Prepared,
    slot: OwnedSemaphorePermit,
) -> Option<(InComfy, OwnedSemaphorePermit)> {
    let Prepared {
        ctx,
        graph,
        output_node,
        finished,
        adopt,
        inputs,
    } = p;
    if let Some((pid, outcome)) = finished {
        drop(slot);
        let me = host.clone();
        let handle = tokio::task::spawn_local(
            async move {
                if ctx.event_says_go(&me, JobEventKind::Started).await {
                    ctx.deliver(&me, &pid, &outcome).await;
                }
            }
            .instrument(tracing::Span::current()),
        );
        host.track(handle);
        return None;
    }
    if let Some(why) = unwanted_now(host, &ctx).await {
        drop_unrun(host, &ctx, why).await;
        return None;
    }
    let gpu = match gpu(host).await {
        Ok(g) => g,
        Err(e) => {
            // Another process holds the GPU: nothing the user did; the job waits for a
            // later delivery (here or on another host) instead of failing.
            tracing::error!(error = %e, "no GPU lock");
            ctx.give_back(host, "the GPU lock stayed busy");
            return None;
        }
    };
    let check_first = adopt.is_some();
    let prompt_id = adopt.unwrap_or_else(|| comfy_prompt_id(&ctx.msg.job_id, ctx.attempt));
    let events = host.watcher.subscribe(&prompt_id);
    if !check_first && let Err(e) = send_prompt(host, &ctx, &graph, &prompt_id).await {
        host.watcher.unsubscribe(&prompt_id);
        settle_unrun(host, &ctx, e).await;
        return None;
    }
    let run = InComfy {
        ctx,
        prompt_id,
        graph,
        output_node,
        inputs,
        events,
        submitted: tokio::time::Instant::now(),
        check_first,
        _gpu: gpu,
    };
    Some((run, slot))
}

/// `POST /prompt`, with a health check first unless a run just ended well, and retries of
/// a ComfyUI that does not answer.
async fn send_prompt(
    host: &Host,
    ctx: &Ctx,
    graph: &Value,
    prompt_id: &str,
) -> Result<(), ComfyError> {
    let job_id = ctx.msg.job_id.as_str();
    host.settings
        .retry
        .run("submit", job_id, || async {
            if !fresh_run(host) {
                let up = host.comfy.healthy().await;
                host.metrics.comfy_up(up);
                if !up {
                    return Err(ComfyError::Unavailable("health check failed".into()));
                }
            }
            host.comfy.submit(graph, prompt_id).await
        })
        .await
}

/// A prompt that could not be put into ComfyUI: a ComfyUI that does not answer gives the
/// job back (pending, for a later delivery); a refusal fails it.
async fn settle_unrun(host: &Host, ctx: &Ctx, e: ComfyError) {
    if matches!(e, ComfyError::Unavailable(_)) {
        host.metrics.comfy_up(false);
        ctx.give_back(host, "ComfyUI does not answer");
        return;
    }
    tracing::error!(error = %e, "ComfyUI refused the prompt");
    ctx.fail(host, reason_of(&e)).await;
}

/// Follows one prompt to its end, sends it again when ComfyUI lost it, then delivers or
/// tells the failure. The ComfyUI place is given back as soon as the run is over.
async fn track(host: Rc<Host>, mut run: InComfy, slot: OwnedSemaphorePermit) {
    let mut resent = 0;
    let result = loop {
        match follow(&host, &mut run).await {
            Followed::Stopped => {
                host.watcher.unsubscribe(&run.prompt_id);
                return;
            }
            Followed::Ran(Err(ComfyError::Lost))
                if resent + 1 < host.settings.retry.max_attempts =>
            {
                resent += 1;
                tracing::warn!(
                    resent,
                    "ComfyUI lost the prompt (restarted?): sending it again"
                );
                if let Err(e) = resend(&host, &mut run).await {
                    break Err(e);
                }
            }
            Followed::Ran(r) => break r,
        }
    };
    host.watcher.unsubscribe(&run.prompt_id);
    drop(slot);
    let InComfy { ctx, prompt_id, .. } = run;
    match result {
        Ok(outcome) => ctx.deliver(&host, &prompt_id, &outcome).await,
        Err(ComfyError::Unavailable(_)) => {
            host.metrics.comfy_up(false);
            ctx.give_back(&host, "ComfyUI stopped answering during the run");
        }
        Err(e) => {
            tracing::error!(error = %e, "ComfyUI run failed");
            ctx.fail(&host, reason_of(&e)).await;
        }
    }
}

/// Waits for ComfyUI to answer again, uploads the inputs anew and queues the prompt again.
async fn resend(host: &Host, run: &mut InComfy) -> Result<(), ComfyError> {
    let job_id = run.ctx.msg.job_id.as_str();
    for (name, png) in &run.inputs {
        upload(host, job_id, name, png).await?;
    }
    send_prompt(host, &run.ctx, &run.graph, &run.prompt_id).await?;
    run.submitted = tokio::time::Instant::now();
    run.check_first = true;
    Ok(())
}

/// One pass: waits for the GPU to begin (dropping the prompt if its job is no longer
/// wanted), reports `started`, then waits for the end.
async fn follow(host: &Rc<Host>, run: &mut InComfy) -> Followed {
    let deadline = host.settings.job_deadline;
    let mut watch = Watch::new(
        &host.comfy,
        &mut run.events,
        &run.prompt_id,
        Some(run.output_node.as_str()),
        host.settings.reconcile,
    )
    .guarded(&host.watcher, host.settings.patience);
    if run.check_first {
        watch = watch.check_first();
    }
    let start_by = run.submitted + deadline * 2;
    let phase = tokio::select! {
        p = watch.started(start_by) => p,
        why = unwanted(host, &run.ctx) => {
            drop(watch);
            remove_unstarted(host, &run.ctx, &run.prompt_id, why).await;
            return Followed::Stopped;
        }
    };
    match phase {
        Phase::Started => {}
        Phase::Ended(Err(ComfyError::Timeout)) => {
            tracing::warn!("the prompt never began within its time: removing it");
            let _ = host.comfy.delete_pending(&run.prompt_id).await;
            return Followed::Ran(Err(ComfyError::Timeout));
        }
        Phase::Ended(Ok(outcome)) => {
            // It ran and ended before its start was seen: it did start.
            if !run.ctx.event_says_go(host, JobEventKind::Started).await {
                return Followed::Stopped;
            }
            return Followed::Ran(Ok(outcome));
        }
        Phase::Ended(other) => return Followed::Ran(other),
    }
    let began = Instant::now();
    if !begun(host, &run.ctx, &run.prompt_id).await {
        return Followed::Stopped;
    }
    let job_id = run.ctx.msg.job_id.as_str().to_owned();
    host.metrics.running(Some(&job_id));
    let progress = ProgressBar::new(host.clone(), &run.ctx);
    let ended = watch
        .ended(tokio::time::Instant::now() + deadline, |v, m| {
            progress.update(v, m)
        })
        .await;
    host.metrics.ran(&job_id);
    host.metrics.comfy_run(began.elapsed());
    if ended.is_ok() {
        host.last_run_end.set(Some(Instant::now()));
    }
    Followed::Ran(ended)
}

/// The GPU began the prompt: `started` to the edge (a refusal interrupts the run), then the
/// status message. `false` when the job stops here.
async fn begun(host: &Host, ctx: &Ctx, prompt_id: &str) -> bool {
    if !ctx.event_says_go(host, JobEventKind::Started).await {
        tracing::info!("the edge refused the start: interrupting the run");
        let _ = host.comfy.interrupt(prompt_id).await;
        return false;
    }
    if let Err(why) = ctx.status(host, 0).await {
        let _ = host.comfy.interrupt(prompt_id).await;
        ctx.fail(host, why.0).await;
        return false;
    }
    true
}

/// Resolves when the job is no longer wanted: its queued marker is gone and the edge
/// confirms (cancelled, final, another attempt's), or the host lost its claim. Never
/// resolves for a job the edge says is still this attempt's.
async fn unwanted(host: &Host, ctx: &Ctx) -> Unwanted {
    loop {
        tokio::time::sleep(WANTED_EVERY).await;
        match ask_marker(host, ctx).await {
            Some(true) => continue,
            Some(false) => {}
            None => continue,
        }
        match confirm(host, ctx).await {
            Some(why) => return why,
            // Queued at the edge without a marker (it expired, or Redis lost it): the
            // edge's answer to `started` is the last word.
            None => return std::future::pending().await,
        }
    }
}

/// The same question once, right before a prepared job goes into ComfyUI.
async fn unwanted_now(host: &Host, ctx: &Ctx) -> Option<Unwanted> {
    if !host.held.borrow().contains(&ctx.entry_id) {
        return Some(Unwanted::Fenced);
    }
    match ask_marker(host, ctx).await {
        Some(false) => confirm(host, ctx).await,
        _ => None,
    }
}

/// Whether the job's queued marker is still there (`None`: Redis did not answer); a lost
/// claim counts as gone.
async fn ask_marker(host: &Host, ctx: &Ctx) -> Option<bool> {
    if !host.held.borrow().contains(&ctx.entry_id) {
        return Some(false);
    }
    host.queue
        .still_queued(ctx.msg.job_id.as_str())
        .await
        .map_err(|e| tracing::debug!(error = %e, "cannot read the queued marker"))
        .ok()
}

/// Asks the edge (a repeated `claimed`) whether this attempt still owns a queued job.
async fn confirm(host: &Host, ctx: &Ctx) -> Option<Unwanted> {
    if !host.held.borrow().contains(&ctx.entry_id) {
        return Some(Unwanted::Fenced);
    }
    let sent = host
        .events
        .send(ctx.msg.job_id.as_str(), ctx.attempt, JobEventKind::Claimed)
        .await;
    match sent {
        Ok(EventOutcome::Accepted(r)) if r.proceed => None,
        Ok(EventOutcome::Accepted(r)) if r.status.is_final() => Some(Unwanted::Cancelled),
        // The edge does not know the job (any more): nobody needs its files.
        Ok(EventOutcome::NotFound) => Some(Unwanted::Cancelled),
        Ok(_) => Some(Unwanted::Fenced),
        Err(e) => {
            tracing::debug!(error = %e, "cannot ask the edge about the job");
            None
        }
    }
}

/// Takes a not-yet-begun prompt out of ComfyUI's queue (interrupting it should it have
/// begun in the meantime), then settles the job.
async fn remove_unstarted(host: &Host, ctx: &Ctx, prompt_id: &str, why: Unwanted) {
    let _ = host.comfy.delete_pending(prompt_id).await;
    if let Ok(QueueState::Running) = host.comfy.queue_state(prompt_id).await {
        let _ = host.comfy.interrupt(prompt_id).await;
    }
    drop_unrun(host, ctx, why).await;
}

/// Settles a job dropped before its run: a cancelled job is over (its files go, the entry
/// is acked); a fenced-out one belongs to another attempt (only this attempt's files go).
async fn drop_unrun(host: &Host, ctx: &Ctx, why: Unwanted) {
    tracing::info!(
        ?why,
        "job no longer wanted before its run: dropped, never run"
    );
    let scope = match why {
        Unwanted::Cancelled => Scope::Job,
        Unwanted::Fenced => Scope::Attempt,
    };
    ctx.settle(host, "cancelled", scope).await;
}
