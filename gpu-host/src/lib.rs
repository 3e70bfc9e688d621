//! # gpu-host
//!
//! The GPU daemon of QwenEditBot: it consumes the Redis jobs stream as a consumer group
//! member, runs each job's workflow on ComfyUI under an exclusive GPU file lock, delivers the
//! result to the user's Telegram chat and reports job events to the edge's `api`.
//!
//! The parts, each behind a small type so tests can drive them one by one:
//! [`queue`] (Redis Streams), [`lock`] (flock), [`comfy`] (HTTP + websocket client),
//! [`workflow`] (template builder), [`events`] (signed job events), [`telegram`] (the
//! messenger port over `botapi`), [`retry`] (backoff), [`pipeline`] (the three stages that
//! keep the GPU busy), [`metrics`] (Prometheus text and `/healthz`), [`config`] (clap + env).

#![warn(missing_docs)]

pub mod comfy;
pub mod config;
pub mod events;
pub mod input;
pub mod lock;
pub mod metrics;
pub mod pipeline;
pub mod queue;
pub mod retention;
pub mod retry;
pub mod telegram;
pub mod text;
pub mod workflow;
