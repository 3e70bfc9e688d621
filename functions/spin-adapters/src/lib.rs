//! The core's ports on `spin_sdk` 6: every Spin type the components touch lives here, so
//! moving to another SDK version changes this crate only (SPIN-FACTS.md). On non-wasm
//! targets the crate is empty, so `cargo test --workspace` never builds `spin_sdk` natively.

#[cfg(target_arch = "wasm32")]
mod spin;

#[cfg(target_arch = "wasm32")]
pub use spin::*;
