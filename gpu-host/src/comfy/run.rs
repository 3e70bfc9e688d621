//! Waiting for one ComfyUI run to end: websocket messages first, `/history` as the truth
//! after a reconnect and on a timer, and a deadline past which the run is interrupted.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::client::{ComfyClient, ComfyError, HistoryEntry, ImageRef, output_images};
use super::ws::WsEvent;

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

/// Waits for the run of `spec.prompt_id` to end; `progress(value, max)` sees sampler steps.
///
/// # Errors
/// [`ComfyError::Execution`] / [`ComfyError::Interrupted`] for failed runs,
/// [`ComfyError::Timeout`] past the deadline (after `POST /interrupt`), [`ComfyError::Lost`]
/// when ComfyUI forgot the prompt.
pub async fn wait_for_run(
    client: &ComfyClient,
    events: &mut mpsc::UnboundedReceiver<WsEvent>,
    spec: &WaitSpec<'_>,
    mut progress: impl FnMut(u64, u64),
) -> Result<RunOutcome, ComfyError> {
    let mut seen = Seen::default();
    if spec.check_first
        && let Some(done) = reconcile(client, spec).await
    {
        return done;
    }
    let every = spec.reconcile_every;
    let mut tick = tokio::time::interval_at(Instant::now() + every, every);
    loop {
        let ev = tokio::select! {
            ev = events.recv(), if !events.is_closed() => ev,
            _ = tick.tick() => Some(WsEvent::Reconnected),
            _ = tokio::time::sleep_until(spec.deadline) => {
                tracing::warn!(prompt_id = spec.prompt_id, "run passed its deadline: interrupting");
                let _ = client.interrupt(spec.prompt_id).await;
                return Err(ComfyError::Timeout);
            }
        };
        match ev {
            Some(WsEvent::Progress { value, max }) => progress(value, max),
            Some(WsEvent::Done) => return finish(client, spec, seen).await,
            Some(WsEvent::Reconnected) | None => {
                if let Some(done) = reconcile(client, spec).await {
                    return done;
                }
            }
            Some(other) => seen.note(other),
        }
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

async fn finish(
    client: &ComfyClient,
    spec: &WaitSpec<'_>,
    seen: Seen,
) -> Result<RunOutcome, ComfyError> {
    if let Some(err) = seen.failure {
        return Err(err);
    }
    let images = output_images(&Value::Object(seen.outputs), spec.output_node);
    if !images.is_empty() {
        return Ok(RunOutcome { images });
    }
    // An `executed` message may have been missed: the history has the outputs.
    match client.history(spec.prompt_id).await? {
        Some(entry) => from_history(&entry, spec.output_node),
        None => Err(ComfyError::Other("run ended without outputs".into())),
    }
}

/// Checks `/history` (and `/queue`): `Some` when the run is over or lost, `None` while it
/// is still queued or running, or when ComfyUI cannot be asked right now.
async fn reconcile(
    client: &ComfyClient,
    spec: &WaitSpec<'_>,
) -> Option<Result<RunOutcome, ComfyError>> {
    match client.history(spec.prompt_id).await {
        Ok(Some(entry)) => return Some(from_history(&entry, spec.output_node)),
        Ok(None) => {}
        Err(e) => {
            tracing::debug!(prompt_id = spec.prompt_id, error = %e, "reconcile: ComfyUI unreachable");
            return None;
        }
    }
    match client.in_queue(spec.prompt_id).await {
        Ok(true) | Err(_) => None,
        // It may have finished between the two calls: ask the history once more.
        Ok(false) => match client.history(spec.prompt_id).await {
            Ok(Some(entry)) => Some(from_history(&entry, spec.output_node)),
            Ok(None) => Some(Err(ComfyError::Lost)),
            Err(_) => None,
        },
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
