//! The host's state shared by every stage of the pipeline: its settings, clients, the GPU
//! lock, the entries it holds and the prompts it has in ComfyUI.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::comfy::run::Patience;
use crate::comfy::{ComfyClient, ComfyWatcher};
use crate::events::EventsClient;
use crate::lock::{GpuLock, GpuLockGuard};
use crate::metrics::Metrics;
use crate::queue::JobQueue;
use crate::retention::Retention;
use crate::retry::RetryPolicy;
use crate::telegram::Messenger;
use crate::workflow::Workflows;

/// Timings and limits of the pipeline.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Pending this long on a silent host, an entry is claimed by another.
    pub visibility: Duration,
    /// Deliveries after which an entry is dead-lettered.
    pub max_deliveries: u32,
    /// Deadline of one ComfyUI run.
    pub job_deadline: Duration,
    /// Largest input image, megapixels.
    pub max_megapixels: u32,
    /// `/history` reconcile period.
    pub reconcile: Duration,
    /// Longest wait for the GPU lock.
    pub lock_timeout: Duration,
    /// Backoff for retryable failures.
    pub retry: RetryPolicy,
    /// Sweep period.
    pub sweep_every: Duration,
    /// How long a blocking read waits before looking at stale entries again.
    pub read_block: Duration,
    /// How often the host reports itself to the edge.
    pub report_every: Duration,
    /// Grace period for the running job on shutdown.
    pub grace: Duration,
    /// The watchdog's limits: websocket silence before a reconnect, ComfyUI not answering
    /// before a run gives its job back.
    pub patience: Patience,
}

/// Everything the stages share.
pub struct Host {
    /// Settings.
    pub settings: Settings,
    /// The jobs stream.
    pub queue: JobQueue,
    /// ComfyUI over HTTP.
    pub comfy: ComfyClient,
    /// ComfyUI's websocket.
    pub watcher: ComfyWatcher,
    /// The api's events endpoint.
    pub events: EventsClient,
    /// Telegram.
    pub tg: Rc<dyn Messenger>,
    /// Workflow templates.
    pub workflows: Workflows,
    /// The GPU lock.
    pub lock: GpuLock,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Deletes people's photos from ComfyUI's directories once their job is over.
    pub retention: Retention,
    /// Entries this host holds (renewed by the heartbeat).
    pub held: RefCell<HashSet<String>>,
    /// Prompts being followed and deliveries still running.
    pub deliveries: RefCell<Vec<tokio::task::JoinHandle<()>>>,
    /// The GPU lock while any of the host's prompts is in ComfyUI.
    pub gpu: RefCell<Weak<GpuLockGuard>>,
    /// Final jobs' prompts, dropped from ComfyUI's history a minute later.
    pub history: HistoryTidy,
    /// When the last ComfyUI run ended (a fresh run counts as a health check).
    pub last_run_end: Cell<Option<Instant>>,
    /// When each chat's status message was last edited (progress edits: ≤ 1 per second).
    pub last_edit: RefCell<HashMap<i64, Instant>>,
}

/// Final jobs' prompt ids waiting to be dropped from ComfyUI's in-memory history (which
/// otherwise keeps up to 10,000 of them, each naming a person's prompt and output file).
/// They go a minute after the job ended — nothing of the host needs them then, and whoever
/// watches ComfyUI (an operator, a benchmark) still sees them for a while — at most
/// [`HistoryTidy::MAX`] are remembered.
#[derive(Debug, Default)]
pub struct HistoryTidy {
    due: RefCell<std::collections::VecDeque<(Instant, String)>>,
}

impl HistoryTidy {
    /// How long a final job's runs stay in ComfyUI's history.
    pub const AFTER: Duration = Duration::from_secs(60);
    /// Most prompt ids remembered (older ones are left to ComfyUI's own cap).
    pub const MAX: usize = 10_000;

    /// Notes the prompts of a job that just ended.
    pub fn finished(&self, prompt_ids: impl IntoIterator<Item = String>) {
        let mut due = self.due.borrow_mut();
        for id in prompt_ids {
            if due.len() == Self::MAX {
                due.pop_front();
            }
            due.push_back((Instant::now(), id));
        }
    }

    /// Takes the prompt ids whose time has come.
    pub fn take_due(&self) -> Vec<String> {
        self.take_due_at(Instant::now())
    }

    /// Takes the prompt ids whose time has come at `now`.
    pub fn take_due_at(&self, now: Instant) -> Vec<String> {
        let mut due = self.due.borrow_mut();
        let n = due
            .iter()
            .take_while(|(t, _)| now.saturating_duration_since(*t) >= Self::AFTER)
            .count();
        due.drain(..n).map(|(_, id)| id).collect()
    }
}

impl Host {
    /// `true` (and noted) when chat `chat_id` may get a progress edit now: the first one
    /// waits a second after the status message, then at most one a second.
    pub fn edit_due(&self, chat_id: i64) -> bool {
        let mut edits = self.last_edit.borrow_mut();
        edits.retain(|_, t| t.elapsed() < Duration::from_secs(60));
        let now = Instant::now();
        match edits.get(&chat_id) {
            Some(t) if now.duration_since(*t) < Duration::from_secs(1) => false,
            Some(_) => {
                edits.insert(chat_id, now);
                true
            }
            None => {
                edits.insert(chat_id, now);
                false
            }
        }
    }

    /// Keeps `handle` (a prompt's task or a delivery) for the shutdown to wait on.
    pub fn track(&self, handle: tokio::task::JoinHandle<()>) {
        let mut list = self.deliveries.borrow_mut();
        list.retain(|h| !h.is_finished());
        list.push(handle);
    }

    pub(super) async fn wait_deliveries(&self) {
        loop {
            let next = self.deliveries.borrow_mut().pop();
            match next {
                Some(h) => {
                    let _ = h.await;
                }
                None => return,
            }
        }
    }

    /// Waits until ComfyUI answers its health check, with backoff; `false` if `stop` fired.
    pub async fn wait_comfy(&self, stop: &mut watch::Receiver<bool>) -> bool {
        let mut failed = 0;
        loop {
            let up = self.comfy.healthy().await;
            self.metrics.comfy_up(up);
            if up {
                return true;
            }
            failed += 1;
            let delay = self.settings.retry.delay(failed.min(8));
            tracing::warn!(
                try_no = failed,
                delay_ms = delay.as_millis() as u64,
                "ComfyUI is down: waiting, taking no job"
            );
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.wait_for(|s| *s) => return false,
            }
        }
    }

    /// Stops renewing the claim on stream entry `entry_id` (it stays pending for another
    /// delivery).
    pub fn release(&self, entry_id: &str) {
        self.held.borrow_mut().remove(entry_id);
    }
}
