//! The core's ports on `spin_sdk` 6: every Spin type the components touch lives here, so
//! moving to another SDK version changes this crate only. On non-wasm targets only the
//! plain-Rust parts are built, so `cargo test --workspace` never builds `spin_sdk` natively.

pub mod group_commit;
pub mod response;
pub mod statement;

#[cfg(target_arch = "wasm32")]
mod instance;
#[cfg(target_arch = "wasm32")]
mod logging;
#[cfg(target_arch = "wasm32")]
mod spin;
#[cfg(target_arch = "wasm32")]
mod sql;

#[cfg(target_arch = "wasm32")]
pub use instance::once_per_instance;
#[cfg(target_arch = "wasm32")]
pub use logging::init_logging;
#[cfg(target_arch = "wasm32")]
pub use spin::*;
#[cfg(target_arch = "wasm32")]
pub use sql::SpinSql;
