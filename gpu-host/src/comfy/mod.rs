//! The ComfyUI client: HTTP calls ([`client`]), the websocket watcher ([`ws`]) and the
//! wait for one run's end ([`run`]).

pub mod client;
pub mod run;
pub mod ws;

pub use client::{ComfyClient, ComfyError, HistoryEntry, ImageRef, QueueState};
pub use run::{Phase, RunOutcome, Watch, wait_for_run};
pub use ws::{ComfyWatcher, WsEvent};
