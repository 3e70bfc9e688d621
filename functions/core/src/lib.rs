//! # qwen-core
//!
//! The domain of QwenEditBot: users, the money ledger, presets, jobs, payments, the edge–GPU
//! contract and every business operation. No Spin types live here: the core talks to
//! storage, the queue, outbound HTTP, the clock and configuration through the small traits
//! in [`ports`]. The Spin components adapt those traits to `spin_sdk`; tests adapt them to
//! rusqlite, a real Redis and reqwest, and drive the very same handlers.

pub mod backlog;
pub mod db;
pub mod drafts;
pub mod error;
pub mod fleet;
pub mod health;
pub mod jobs;
pub mod ledger;
pub mod payments;
pub mod presets;
pub mod price;
pub mod profile;
pub mod prompt;
pub mod settings;
pub mod setup;
pub mod stats;
pub mod updates;
pub mod users;

pub use error::{CoreError, CoreResult};
/// The edge–GPU contract (its own crate, shared with the GPU host).
pub use qwen_contract as contract;
/// HMAC signing of the GPU host's calls (part of the contract crate).
pub use qwen_contract::signing;
/// The I/O traits (their own crate, shared with `botapi`).
pub use qwen_ports as ports;

/// A page of a list: at most `limit` items (1–100) after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items per page, 1–100.
    pub limit: i64,
    /// Items skipped.
    pub offset: i64,
}

impl Page {
    /// A page with `limit` clamped to 1–100 and `offset` to ≥ 0.
    pub fn new(limit: i64, offset: i64) -> Page {
        Page {
            limit: limit.clamp(1, 100),
            offset: offset.max(0),
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::new(20, 0)
    }
}
