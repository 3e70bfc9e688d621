//! The jobs stream's backlog as operators read it: what waits for a host, what hosts hold
//! unacknowledged, and how old the oldest of those is — not the stream's length, which also
//! counts acknowledged entries not trimmed yet.

use serde::Serialize;

use crate::ports::Queue;
use crate::settings::Settings;

/// The queue in Redis, as `/api/fleet`, `/api/stats`, `/metrics` and the console show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, utoipa::ToSchema)]
pub struct QueueBacklog {
    /// Entries no GPU host has read yet (the consumer group's lag).
    pub waiting: u64,
    /// Entries a host has read and not acknowledged yet (preparing, running, delivering).
    pub pending: u64,
    /// Age of the oldest pending entry, milliseconds (none when nothing is pending).
    pub oldest_pending_age_ms: Option<i64>,
    /// Entries the stream holds now, acknowledged ones not yet trimmed included; bounded by
    /// the trim rule, so it is no backlog figure.
    pub stream_length: u64,
}

impl QueueBacklog {
    /// Reads the backlog of the jobs stream; `None` when Redis does not answer.
    pub async fn read(queue: &dyn Queue, settings: &Settings, now_ms: i64) -> Option<Self> {
        let b = queue.backlog(&settings.jobs_stream).await.ok()?;
        Some(Self {
            waiting: b.lag,
            pending: b.pending,
            oldest_pending_age_ms: b.oldest_pending_ms.map(|t| (now_ms - t).max(0)),
            stream_length: b.length,
        })
    }
}
