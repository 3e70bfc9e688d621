//! # qwen-http
//!
//! The HTTP edge of QwenEditBot, above the domain crate `qwen-core`: the request model and
//! its JSON error body, the REST router with its route table, the OpenAPI document generated
//! from the routes' types, `/metrics`, the payment and reconciliation routes, and the HTTP
//! side of the YooKassa webhook. What an operation *does* lives in `qwen-core`; this crate
//! only maps HTTP to it and back. The Spin components and the native test servers call the
//! same functions.

pub mod bodies;
pub mod ctx;
pub mod jobs;
pub mod meta;
pub mod metrics;
pub mod openapi;
pub mod payments;
pub mod presets;
pub mod reconcile;
pub mod request;
pub mod router;
pub mod routes;
pub mod users;
pub mod yookassa;

pub use ctx::{Ctx, Providers};
pub use request::{Request, declared_too_large, error, from_core, json, too_large};
pub use router::{handle, handle_with_payments};
pub use routes::{Op, ROUTES, Route};
