//! # qwen-core
//!
//! The domain of QwenEditBot: users, the money ledger, presets, jobs, payments, the edge–GPU
//! contract and every business operation. No Spin types live here: the core talks to
//! storage, the queue, outbound HTTP, the clock and configuration through the small traits
//! in [`ports`]. The Spin components adapt those traits to `spin_sdk`; tests adapt them to
//! rusqlite, a real Redis and reqwest, and drive the very same handlers.

pub mod contract;
pub mod ports;
pub mod signing;
