//! One websocket to ComfyUI (`/ws?clientId=…`) per host, shared by all runs.
//!
//! A background task reads frames, keeps the messages that carry a `prompt_id` and hands
//! them to whoever subscribed to that prompt. When the socket drops it reconnects with
//! backoff and tells every subscriber [`WsEvent::Reconnected`], so each run reconciles
//! through `/history` (a message sent while the socket was down is lost for good).
//!
//! ComfyUI sends no pings, so a socket can go silent without closing (a half-open TCP
//! connection, a wedged server). The watcher notes when the last frame arrived
//! ([`ComfyWatcher::silent_for`]); a run that hears nothing for too long asks for a fresh
//! socket ([`ComfyWatcher::reconnect`]) and reconciles.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;

/// What the socket said about one prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum WsEvent {
    /// The prompt began executing (`execution_start`).
    Started,
    /// Sampler progress (`progress {value, max}`).
    Progress {
        /// Steps done.
        value: u64,
        /// Steps in total.
        max: u64,
    },
    /// A node started (`executing {node}`).
    Executing(String),
    /// A node produced output (`executed {node, output}`).
    Executed {
        /// The node id.
        node: String,
        /// Its `output` object.
        output: Value,
    },
    /// `execution_success`.
    Success,
    /// `execution_error` (the payload).
    Error(Value),
    /// `execution_interrupted`.
    Interrupted,
    /// `executing {node: null}`: the one terminal message.
    Done,
    /// The socket was re-opened: messages may have been missed.
    Reconnected,
}

type Subscribers = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<WsEvent>>>>;

/// The socket's shared state: who listens, whether it is open, when it last spoke, and the
/// bell that makes it reconnect.
#[derive(Clone)]
struct Shared {
    subs: Subscribers,
    connected: Arc<AtomicBool>,
    /// Milliseconds after `epoch` of the last frame (or connect).
    last_frame_ms: Arc<AtomicU64>,
    epoch: Instant,
    kick: Arc<Notify>,
}

impl Shared {
    fn heard(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last_frame_ms.store(ms, Ordering::Relaxed);
    }
}

/// The shared websocket; dropping the last handle stops the task.
pub struct ComfyWatcher {
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl ComfyWatcher {
    /// Starts the socket task for `url` (`ws://host/ws?clientId=…`).
    pub fn start(url: String) -> Self {
        let shared = Shared {
            subs: Arc::default(),
            connected: Arc::new(AtomicBool::new(false)),
            last_frame_ms: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
            kick: Arc::new(Notify::new()),
        };
        let task = tokio::spawn(run_socket(url, shared.clone()));
        Self { shared, task }
    }

    /// How long since the socket last received a frame (or connected).
    pub fn silent_for(&self) -> Duration {
        let last = self.shared.last_frame_ms.load(Ordering::Relaxed);
        self.shared
            .epoch
            .elapsed()
            .saturating_sub(Duration::from_millis(last))
    }

    /// Drops the socket and opens a new one (every subscriber then hears
    /// [`WsEvent::Reconnected`]): the cure for a socket that went silent without closing.
    pub fn reconnect(&self) {
        self.shared.heard();
        // Only an open socket is dropped: a bell rung while none is open would be kept and
        // drop the next fresh one.
        if self.connected() {
            self.shared.kick.notify_one();
        }
    }

    /// Messages about `prompt_id` from now on (subscribe before submitting).
    pub fn subscribe(&self, prompt_id: &str) -> mpsc::UnboundedReceiver<WsEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut subs) = self.shared.subs.lock() {
            subs.insert(prompt_id.to_owned(), tx);
        }
        rx
    }

    /// Stops delivering messages about `prompt_id`.
    pub fn unsubscribe(&self, prompt_id: &str) {
        if let Ok(mut subs) = self.shared.subs.lock() {
            subs.remove(prompt_id);
        }
    }

    /// `true` while the socket is open.
    pub fn connected(&self) -> bool {
        self.shared.connected.load(Ordering::Relaxed)
    }
}

impl Drop for ComfyWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run_socket(url: String, shared: Shared) {
    let mut failures: u32 = 0;
    let mut first = true;
    loop {
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((socket, _)) => {
                failures = 0;
                shared.heard();
                shared.connected.store(true, Ordering::Relaxed);
                if !first {
                    tracing::info!("ComfyUI websocket reconnected");
                    broadcast(&shared.subs, WsEvent::Reconnected);
                }
                first = false;
                read_frames(socket, &shared).await;
                shared.connected.store(false, Ordering::Relaxed);
                broadcast(&shared.subs, WsEvent::Reconnected);
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::debug!(error = %e, "ComfyUI websocket connect failed");
            }
        }
        let backoff = Duration::from_millis(100u64 << failures.min(5));
        tokio::time::sleep(backoff).await;
    }
}

/// Reads one socket until it closes or a reconnect is asked for.
async fn read_frames<S>(mut socket: S, shared: &Shared)
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(msg)) => {
                    shared.heard();
                    if let Message::Text(text) = msg {
                        dispatch(&shared.subs, text.as_str());
                    }
                }
                _ => {
                    tracing::warn!("ComfyUI websocket closed");
                    return;
                }
            },
            _ = shared.kick.notified() => {
                tracing::warn!("ComfyUI websocket silent too long: reconnecting");
                return;
            }
        }
    }
}

fn broadcast(subs: &Subscribers, ev: WsEvent) {
    if let Ok(subs) = subs.lock() {
        for tx in subs.values() {
            let _ = tx.send(ev.clone());
        }
    }
}

fn dispatch(subs: &Subscribers, text: &str) {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let data = &v["data"];
    let Some(prompt_id) = data["prompt_id"].as_str() else {
        return;
    };
    let Some(ev) = parse_event(v["type"].as_str().unwrap_or(""), data) else {
        return;
    };
    if let Ok(subs) = subs.lock()
        && let Some(tx) = subs.get(prompt_id)
    {
        let _ = tx.send(ev);
    }
}

/// Turns one message (`type`, `data`) into a [`WsEvent`], `None` for the ones a run ignores.
pub fn parse_event(kind: &str, data: &Value) -> Option<WsEvent> {
    Some(match kind {
        "execution_start" => WsEvent::Started,
        "progress" => WsEvent::Progress {
            value: data["value"].as_u64().unwrap_or(0),
            max: data["max"].as_u64().unwrap_or(0),
        },
        "executing" => match data["node"].as_str() {
            Some(node) => WsEvent::Executing(node.to_owned()),
            None => WsEvent::Done,
        },
        "executed" => WsEvent::Executed {
            node: data["node"].as_str().unwrap_or("").to_owned(),
            output: data["output"].clone(),
        },
        "execution_success" => WsEvent::Success,
        "execution_error" => WsEvent::Error(data.clone()),
        "execution_interrupted" => WsEvent::Interrupted,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn terminal_message_is_executing_with_null_node() {
        let d = json!({"node": null, "prompt_id": "p"});
        assert_eq!(parse_event("executing", &d), Some(WsEvent::Done));
        let d = json!({"node": "3", "display_node": "3", "prompt_id": "p"});
        assert_eq!(
            parse_event("executing", &d),
            Some(WsEvent::Executing("3".into()))
        );
        assert_eq!(parse_event("progress_state", &d), None);
    }
}
