//! The host's main loop: three stages that keep the GPU busy.
//!
//! 1. **prepare** (one job ahead of ComfyUI): claim a stale entry or read a new one, report
//!    `claimed` (the job stays queued and cancellable), look for an earlier attempt's run,
//!    download the photo(s), check and upload them — while other jobs run;
//! 2. **in ComfyUI** ([`run`]): up to two of the host's prompts — the running one and the
//!    next, waiting in ComfyUI's own queue so the GPU goes from one to the next without a
//!    round trip; `started` is reported when ComfyUI begins a prompt, and a job cancelled
//!    before that is taken out of ComfyUI's queue and never runs;
//! 3. **deliver** (in the prompt's task, while the next one runs): fetch the output, ask
//!    `delivering`, send it, report `succeeded`, `XACK`.
//!
//! Failures end in [`job::Ctx::fail`]: `failed` with a reason and the user's words, then the
//! user is told and the entry acked. While any of this goes on, a heartbeat renews the claim on
//! every entry the host holds.

mod admit;
mod host;
mod job;
mod run;

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};

use crate::metrics::Identity;

pub use host::{HistoryTidy, Host, Settings};
pub use job::Prepared;

impl Host {
    /// Runs until `stop` turns `true`, then drains within the grace period. Must run inside
    /// a [`tokio::task::LocalSet`].
    pub async fn run(self: Rc<Self>, mut stop: watch::Receiver<bool>) {
        let beat = tokio::task::spawn_local(heartbeat(self.clone()));
        let sweep = tokio::task::spawn_local(sweep(self.clone()));
        let report = tokio::task::spawn_local(report(self.clone()));
        let tidy = tokio::task::spawn_local(retention_sweep(self.clone()));
        let history = tokio::task::spawn_local(history_tidy(self.clone()));
        let (tx, rx) = mpsc::channel::<Prepared>(1);
        let prep = tokio::task::spawn_local(prepare_loop(self.clone(), tx, stop.clone()));
        let runner = tokio::task::spawn_local(run_loop(self.clone(), rx, stop.clone()));
        let _ = stop.wait_for(|s| *s).await;
        tracing::info!("stopping: no new jobs; finishing the current one");
        let grace = self.settings.grace;
        let drained = tokio::time::timeout(grace, async {
            let _ = prep.await;
            let _ = runner.await;
            self.wait_deliveries().await;
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                ?grace,
                "grace period over: leaving unfinished entries pending"
            );
        }
        sweep.abort();
        report.abort();
        tidy.abort();
        history.abort();
        beat.abort();
    }
}

async fn prepare_loop(host: Rc<Host>, tx: mpsc::Sender<Prepared>, mut stop: watch::Receiver<bool>) {
    loop {
        let Ok(permit) = tx.reserve().await else {
            return;
        };
        if *stop.borrow() || !host.wait_comfy(&mut stop).await {
            return;
        }
        let entry = tokio::select! {
            e = job::next_entry(&host) => e,
            _ = stop.wait_for(|s| *s) => return,
        };
        let Some(entry) = entry else { continue };
        if let Some(prepared) = job::prepare(&host, entry).await {
            permit.send(prepared);
        }
    }
}

/// Puts prepared jobs into ComfyUI, keeping at most [`run::IN_COMFY`] of them there: a
/// place is taken before the next prepared job is received, so one more waits prepared.
async fn run_loop(host: Rc<Host>, mut rx: mpsc::Receiver<Prepared>, stop: watch::Receiver<bool>) {
    let places = Arc::new(Semaphore::new(run::IN_COMFY));
    loop {
        let Ok(place) = places.clone().acquire_owned().await else {
            return;
        };
        let Some(prepared) = rx.recv().await else {
            return;
        };
        if *stop.borrow() {
            host.release(&prepared.ctx.entry_id);
            host.retention.forget(prepared.ctx.msg.job_id.as_str());
            tracing::info!(job_id = %prepared.ctx.msg.job_id, "stopping: leaving a prepared job pending");
            continue;
        }
        run::launch(&host, prepared, place).await;
    }
}

async fn heartbeat(host: Rc<Host>) {
    let every = (host.settings.visibility / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let ids: Vec<String> = host.held.borrow().iter().cloned().collect();
        for id in ids {
            match host.queue.renew(&id).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(entry = %id, "lost the claim on an entry to another host");
                    // Its prompt, if still waiting in ComfyUI, is dropped (run::unwanted).
                    host.held.borrow_mut().remove(&id);
                }
                Err(e) => tracing::warn!(entry = %id, error = %e, "heartbeat failed"),
            }
        }
    }
}

/// Reports the host to the edge every [`Settings::report_every`]; a failed report is
/// logged and the next beat tries again.
async fn report(host: Rc<Host>) {
    let identity = Identity {
        host: host.events.host().to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        workflow: host.workflows.describe(),
    };
    loop {
        let hb = host.metrics.heartbeat(&identity, crate::events::now_ms());
        if let Err(e) = host.events.report(&hb).await {
            tracing::warn!(error = %e, "reporting to the edge failed");
        }
        tokio::time::sleep(host.settings.report_every).await;
    }
}

async fn sweep(host: Rc<Host>) {
    loop {
        tokio::time::sleep(host.settings.sweep_every).await;
        if let Err(e) = host.events.sweep().await {
            tracing::warn!(error = %e, "sweep call failed");
        }
    }
}

/// Removes the host's leftovers from ComfyUI's directories every
/// [`Retention::sweep_every`] (nothing when retention is off).
async fn retention_sweep(host: Rc<Host>) {
    if !host.retention.enabled() {
        return;
    }
    loop {
        let swept = host.retention.sweep(std::time::SystemTime::now());
        if swept.inputs + swept.outputs > 0 {
            tracing::info!(
                inputs = swept.inputs,
                outputs = swept.outputs,
                "retention sweep removed leftovers"
            );
        }
        tokio::time::sleep(host.retention.sweep_every()).await;
    }
}

/// Drops final jobs' prompts from ComfyUI's history once [`HistoryTidy::AFTER`] has passed
/// (a failed call keeps nothing back: ComfyUI's own cap bounds what is left).
async fn history_tidy(host: Rc<Host>) {
    loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let due = host.history.take_due();
        if due.is_empty() {
            continue;
        }
        if let Err(e) = host.comfy.forget(&due).await {
            tracing::debug!(error = %e, "could not drop finished runs from ComfyUI's history");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn finished_runs_leave_the_history_a_minute_later_and_the_list_is_bounded() {
        let tidy = HistoryTidy::default();
        tidy.finished(["a".to_owned(), "b".to_owned()]);
        assert!(tidy.take_due().is_empty(), "not yet");
        let later = Instant::now() + HistoryTidy::AFTER;
        assert_eq!(tidy.take_due_at(later), ["a", "b"]);
        assert!(tidy.take_due_at(later).is_empty(), "taken once");
        tidy.finished((0..HistoryTidy::MAX + 5).map(|i| i.to_string()));
        let all = tidy.take_due_at(later + HistoryTidy::AFTER);
        assert_eq!(all.len(), HistoryTidy::MAX);
        assert_eq!(all[0], "5", "the oldest were let go");
    }
}
