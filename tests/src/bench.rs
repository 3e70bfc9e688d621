//! Benchmark plumbing: figure lines and figure groups that survive a panic.
//!
//! A bench binary runs each group of figures under [`group`] (or [`group_async`]): a panic
//! inside is reported on stderr and as `bench: <group>_failed = 1`, the figures printed
//! before it stay, and the binary goes on and exits 0, so `cargo bench --workspace` still
//! runs every other bench binary.

use std::any::Any;
use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

/// Prints `bench: <name> = <value>` on stdout.
pub fn figure(name: &str, value: impl Display) {
    println!("bench: {name} = {value}");
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

fn failed(name: &str, payload: &(dyn Any + Send)) {
    eprintln!("bench group {name} failed: {}", panic_message(payload));
    figure(&format!("{name}_failed"), 1);
}

/// Runs the figure group `name`; `None` (reported) when it panicked.
pub fn group<R>(name: &str, f: impl FnOnce() -> R) -> Option<R> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            failed(name, payload.as_ref());
            None
        }
    }
}

/// [`group`] for a future, inside a running runtime.
pub async fn group_async<R>(name: &str, fut: impl Future<Output = R>) -> Option<R> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => Some(r),
        Err(payload) => {
            failed(name, payload.as_ref());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_group_is_reported_and_the_next_one_runs() {
        assert_eq!(
            group("boom", || -> i32 { panic!("expected in this test") }),
            None
        );
        assert_eq!(group("fine", || 7), Some(7));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let r = rt.block_on(group_async("boom_async", async {
            if std::hint::black_box(true) {
                panic!("expected in this test");
            }
            1
        }));
        assert_eq!(r, None);
    }
}
