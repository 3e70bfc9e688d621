//! Test support for QwenEditBot: native adapters of the core's ports (rusqlite for SQL and
//! key-value, a real Redis for the queue, a settable clock), a loopback HTTP server that runs
//! the very handlers the Spin components run, and faithful fakes of the outside services.
//!
//! This is test support, not a second product: the Spin components are the product.

pub mod api;
pub mod bench;
pub mod browser;
pub mod clock;
pub mod edge;
pub mod fakes;
pub mod fixture;
pub mod genuine;
pub mod kv;
pub mod load;
pub mod payments;
pub mod queue;
pub mod redis_util;
pub mod server;
pub mod soak;
pub mod spin;
pub mod sql;
pub mod updates;
