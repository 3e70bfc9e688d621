//! One websocket to ComfyUI (`/ws?clientId=…`) per host, shared by all runs.
//!
//! A background task reads frames, keeps the messages that carry a `prompt_id` and hands
//! them to whoever subscribed to that prompt. When the socket drops it reconnects with
//! backoff and tells every subscriber [`WsEvent::Reconnected`], so each run reconciles
//! through `/history` (a message sent while the socket was down is lost for good).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// What the socket said about one prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum WsEvent {
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

/// The shared websocket; dropping the last handle stops the task.
pub struct ComfyWatcher {
    subs: Subscribers,
    connected: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl ComfyWatcher {
    /// Starts the socket task for `url` (`ws://host/ws?clientId=…`).
    pub fn start(url: String) -> Self {
        let subs: Subscribers = Arc::default();
        let connected = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run_socket(url, subs.clone(), connected.clone()));
        Self {
            subs,
            connected,
            task,
        }
    }

    /// Messages about `prompt_id` from now on (subscribe before submitting).
    pub fn subscribe(&self, prompt_id: &str) -> mpsc::UnboundedReceiver<WsEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut subs) = self.subs.lock() {
            subs.insert(prompt_id.to_owned(), tx);
        }
        rx
    }

    /// Stops delivering messages about `prompt_id`.
    pub fn unsubscribe(&self, prompt_id: &str) {
        if let Ok(mut subs) = self.subs.lock() {
            subs.remove(prompt_id);
        }
    }

    /// `true` while the socket is open.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

impl Drop for ComfyWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run_socket(url: String, subs: Subscribers, connected: Arc<AtomicBool>) {
    let mut failures: u32 = 0;
    let mut first = true;
    loop {
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((mut socket, _)) => {
                failures = 0;
                connected.store(true, Ordering::Relaxed);
                if !first {
                    tracing::info!("ComfyUI websocket reconnected");
                    broadcast(&subs, WsEvent::Reconnected);
                }
                first = false;
                while let Some(Ok(msg)) = socket.next().await {
                    if let Message::Text(text) = msg {
                        dispatch(&subs, text.as_str());
                    }
                }
                connected.store(false, Ordering::Relaxed);
                tracing::warn!("ComfyUI websocket closed");
                broadcast(&subs, WsEvent::Reconnected);
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
