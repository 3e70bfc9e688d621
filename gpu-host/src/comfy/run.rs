//! Following one ComfyUI prompt from the queue to its end: websocket messages first,
//! `/queue` and `/history` as the truth after a reconnect and on a timer, a watchdog for a
//! socket gone silent, and deadlines.
//!
//! A [`Watch`] has two phases: [`Watch::started`] waits until the GPU begins the prompt (it
//! may sit behind another one in ComfyUI's queue), [`Watch::ended`] until it ends.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::client::{ComfyClient, ComfyError, HistoryEntry, ImageRef, QueueState, output_images};
use super::ws::{ComfyWatcher, WsEvent};

/// How a run ended well.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The output images (the preferred output node's first).
    pub images: Vec<ImageRef>,
}

/// Settings of one wait.
#[derive(Debug, Clone)]
pub struct WaitSpec<'a> {
    /// The prompt being waited for.
    pub prompt_id: &'a str,
    /// The node whose images are the result.
    pub output_node: Option<&'a str>,
    /// When to give up and interrupt.
    pub deadline: Instant,
    /// How often to ask `/history` anyway.
    pub reconcile_every: Duration,
    /// Ask `/history` before waiting (for a run adopted from an earlier attempt, whose
    /// messages may all be gone).
    pub check_first: bool,
}

/// How long a watch tolerates: socket silence before it reconnects, ComfyUI not answering
/// before it gives up with [`ComfyError::Unavailable`].
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    /// No websocket frame for this long while the prompt is queued or running: reconnect
    /// and reconcile.
    pub silence: Duration,
    /// ComfyUI answering no HTTP call for this long: the watch ends `Unavailable`.
    pub unreachable: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            silence: Duration::from_secs(60),
            unreachable: Duration::from_secs(30),
        }
    }
}

/// How often the watchdog looks at the socket's silence: a quarter of the limit.
fn watchdog_interval(p: Patience) -> tokio::time::Interval {
    let every = (p.silence / 4).max(Duration::from_millis(25));
    let mut i = tokio::time::interval_at(Instant::now() + every, every);
    i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    i
}

/// Where a prompt stood when [`Watch::started`] returned.
#[derive(Debug)]
pub enum Phase {
    /// The GPU began it.
    Started,
    /// It is over already (ended before a start was seen, lost, or ComfyUI gone).
    Ended(Result<RunOutcome, ComfyError>),
}

/// What ComfyUI said about the prompt when asked.
enum Where {
    /// Pending or running.
    Queued(QueueState),
    /// Finished, failed, lost, or ComfyUI gone for too long.
    Over(Result<RunOutcome, ComfyError>),
    /// ComfyUI did not answer this time.
    Unknown,
}

/// What the next step of a watch brought.
enum Step {
    Event(WsEvent),
    /// Time to ask ComfyUI itself (timer, reconnect, closed channel).
    Check,
    Deadline,
}

/// One prompt being followed.
pub struct Watch<'a> {
    client: &'a ComfyClient,
    watcher: Option<&'a ComfyWatcher>,
    events: &'a mut mpsc::UnboundedReceiver<WsEvent>,
    prompt_id: &'a str,
    output_node: Option<&'a str>,
    tick: tokio::time::Interval,
    dog: tokio::time::Interval,
    patience: Patience,
    seen: Seen,
    unreachable_since: Option<Instant>,
    check_now: bool,
}

impl<'a> Watch<'a> {
    /// Follows `prompt_id` with the messages of `events` (subscribed before it was queued).
    pub fn new(
        client: &'a ComfyClient,
        events: &'a mut mpsc::UnboundedReceiver<WsEvent>,
        prompt_id: &'a str,
        output_node: Option<&'a str>,
        reconcile_every: Duration,
    ) -> Self {
        let every = reconcile_every.max(Duration::from_millis(10));
        Self {
            client,
            watcher: None,
            events,
            prompt_id,
            output_node,
            tick: tokio::time::interval_at(Instant::now() + every, every),
            dog: watchdog_interval(Patience::default()),
            patience: Patience::default(),
            seen: Seen::default(),
            unreachable_since: None,
            check_now: false,
        }
    }

    /// Watches the socket's silence through `watcher` with `patience`.
    #[must_use]
    pub fn guarded(mut self, watcher: &'a ComfyWatcher, patience: Patience) -> Self {
        self.watcher = Some(watcher);
        self.patience = patience;
        self.dog = watchdog_interval(patience);
        self
    }

    /// Asks ComfyUI before the first message (an adopted prompt's messages may be gone).
    #[must_use]
    pub fn check_first(mut self) -> Self {
        self.check_now = true;
        self
    }

    /// Waits until the GPU begins the prompt; past `deadline` it ends
    /// [`ComfyError::Timeout`] (the caller removes the prompt).
    pub async fn started(&mut self, deadline: Instant) -> Phase {
        loop {
            match self.step(deadline).await {
                Step::Event(WsEvent::Started | WsEvent::Executing(_)) => return Phase::Started,
                Step::Event(WsEvent::Progress { .. }) => return Phase::Started,
                Step::Event(WsEvent::Done) => return Phase::Ended(self.finish().await),
                Step::Event(other) => self.seen.note(other),
                Step::Deadline => return Phase::Ended(Err(self.past_deadline().await)),
                Step::Check => match self.where_is().await {
                    Where::Queued(QueueState::Running) => return Phase::Started,
                    Where::Over(end) => return Phase::Ended(end),
                    Where::Queued(_) | Where::Unknown => {}
                },
            }
        }
    }

    /// Waits for the end of a started prompt; `progress(value, max)` sees sampler steps.
    /// Past `deadline` the prompt is interrupted and the watch ends [`ComfyError::Timeout`].
    ///
    /// # Errors
    /// [`ComfyError::Execution`] / [`ComfyError::Interrupted`] for failed runs, `Timeout`,
    /// [`ComfyError::Lost`] when ComfyUI forgot the prompt, `Unavailable` when it stopped
    /// answering for longer than [`Patience::unreachable`].
    pub async fn ended(
        &mut self,
        deadline: Instant,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<RunOutcome, ComfyError> {
        loop {
            match self.step(deadline).await {
                Step::Event(WsEvent::Progress { value, max }) => progress(value, max),
                Step::Event(WsEvent::Done) => return self.finish().await,
                Step::Event(other) => self.seen.note(other),
                Step::Deadline => {
                    let why = self.past_deadline().await;
                    if matches!(why, ComfyError::Timeout) {
                        tracing::warn!(
                            prompt_id = self.prompt_id,
                            "run passed its deadline: interrupting"
                        );
                        let _ = self.client.interrupt(self.prompt_id).await;
                    }
                    return Err(why);
                }
                Step::Check => {
                    if let Where::Over(end) = self.where_is().await {
                        return end;
                    }
                }
            }
        }
    }

    async fn step(&mut self, deadline: Instant) -> Step {
        if std::mem::take(&mut self.check_now) {
            return Step::Check;
        }
        loop {
            tokio::select! {
                ev = self.events.recv(), if !self.events.is_closed() => return match ev {
                    Some(WsEvent::Reconnected) | None => Step::Check,
                    Some(ev) => Step::Event(ev),
                },
                _ = self.tick.tick() => return Step::Check,
                // A replaced socket is announced as `Reconnected`, which checks.
                _ = self.dog.tick() => self.watchdog(),
                _ = tokio::time::sleep_until(deadline) => return Step::Deadline,
            }
        }
    }

    /// A socket silent for longer than [`Patience::silence`] is replaced.
    fn watchdog(&self) {
        if let Some(w) = self.watcher
            && w.silent_for() > self.patience.silence
        {
            tracing::warn!(
                prompt_id = self.prompt_id,
                silent_ms = w.silent_for().as_millis() as u64,
                "no websocket message for too long: reconnecting and reconciling"
            );
            w.reconnect();
        }
    }

    /// Past a deadline: `Timeout`, unless ComfyUI is not answering at all (`Unavailable`:
    /// the job is not ComfyUI's fault, and not lost).
    async fn past_deadline(&self) -> ComfyError {
        match self.client.queue_state(self.prompt_id).await {
            Err(e) => e,
            Ok(_) => ComfyError::Timeout,
        }
    }

    /// Asks `/queue`, and `/history` once the prompt is not queued; ComfyUI not answering
    /// for longer than [`Patience::unreachable`] ends the watch `Unavailable`.
    async fn where_is(&mut self) -> Where {
        let state = match self.client.queue_state(self.prompt_id).await {
            Ok(s) => s,
            Err(e) => return self.unanswered(e),
        };
        self.unreachable_since = None;
        if state != QueueState::Absent {
            return Where::Queued(state);
        }
        match self.client.history(self.prompt_id).await {
            Ok(Some(entry)) => Where::Over(from_history(&entry, self.output_node)),
            Ok(None) => Where::Over(Err(ComfyError::Lost)),
            Err(e) => self.unanswered(e),
        }
    }

    fn unanswered(&mut self, e: ComfyError) -> Where {
        let since = *self.unreachable_since.get_or_insert_with(Instant::now);
        tracing::debug!(prompt_id = self.prompt_id, error = %e, "ComfyUI not answering");
        if since.elapsed() > self.patience.unreachable {
            tracing::warn!(prompt_id = self.prompt_id, error = %e, "ComfyUI stopped answering");
            return Where::Over(Err(ComfyError::Unavailable(e.to_string())));
        }
        Where::Unknown
    }

    /// The end the socket announced: its failure, its outputs, else the history's.
    async fn finish(&mut self) -> Result<RunOutcome, ComfyError> {
        let seen = std::mem::take(&mut self.seen);
        if let Some(err) = seen.failure {
            return Err(err);
        }
        let images = output_images(&Value::Object(seen.outputs), self.output_node);
        if !images.is_empty() {
            return Ok(RunOutcome { images });
        }
        // An `executed` message may have been missed: the history has the outputs.
        match self.client.history(self.prompt_id).await? {
            Some(entry) => from_history(&entry, self.output_node),
            None => Err(ComfyError::Other("run ended without outputs".into())),
        }
    }
}

/// Waits for the run of `spec.prompt_id` to end (queued or running); `progress(value, max)`
/// sees sampler steps.
///
/// # Errors
/// As [`Watch::ended`].
pub async fn wait_for_run(
    client: &ComfyClient,
    events: &mut mpsc::UnboundedReceiver<WsEvent>,
    spec: &WaitSpec<'_>,
    progress: impl FnMut(u64, u64),
) -> Result<RunOutcome, ComfyError> {
    let mut watch = Watch::new(
        client,
        events,
        spec.prompt_id,
        spec.output_node,
        spec.reconcile_every,
    );
    if spec.check_first {
        watch = watch.check_first();
    }
    match watch.started(spec.deadline).await {
        Phase::Ended(end) => end,
        Phase::Started => watch.ended(spec.deadline, progress).await,
    }
}

/// What the socket said about a run so far.
#[derive(Default)]
struct Seen {
    outputs: serde_json::Map<String, Value>,
    failure: Option<ComfyError>,
}

impl Seen {
    fn note(&mut self, ev: WsEvent) {
        match ev {
            WsEvent::Executed { node, output } => {
                self.outputs.insert(node, output);
            }
            WsEvent::Error(v) => self.failure = Some(execution_error(&v)),
            WsEvent::Interrupted => self.failure = Some(ComfyError::Interrupted),
            _ => {}
        }
    }
}

/// The outcome a history entry records.
///
/// # Errors
/// The failure the entry records.
pub fn from_history(
    entry: &HistoryEntry,
    output_node: Option<&str>,
) -> Result<RunOutcome, ComfyError> {
    if entry.succeeded() {
        let images = output_images(&entry.outputs, output_node);
        if images.is_empty() {
            return Err(ComfyError::Other("run finished without images".into()));
        }
        return Ok(RunOutcome { images });
    }
    if entry.interrupted() {
        return Err(ComfyError::Interrupted);
    }
    Err(entry
        .error
        .as_ref()
        .map(execution_error)
        .unwrap_or_else(|| ComfyError::Execution(entry.status_str.clone())))
}

fn execution_error(v: &Value) -> ComfyError {
    let node = v["node_type"].as_str().unwrap_or("?");
    let kind = v["exception_type"].as_str().unwrap_or("?");
    let msg = v["exception_message"].as_str().unwrap_or("").trim();
    ComfyError::Execution(format!("{node}: {kind}: {msg}"))
}
