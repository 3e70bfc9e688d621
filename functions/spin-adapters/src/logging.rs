//! Logs at the edge: one `tracing` subscriber per Spin instance, writing JSON lines to
//! stderr (Spin keeps each component's stderr in `<state dir>/logs/<component>_stderr.txt`).
//! Event fields (`user_id`, `job_id`, `payment_id`, `update_id`…) sit at the top level of
//! each line. Without a subscriber every `tracing` event of the core would be dropped.

use std::cell::Cell;

use spin_sdk::variables;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;

/// The Spin variable holding the filter (`info`, `warn`, `info,qwen_core=debug`…).
pub const LOG_LEVEL_VARIABLE: &str = "log_level";

/// The filter when the variable is unset or does not parse.
pub const DEFAULT_LEVEL: &str = "info";

thread_local! {
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
}

/// Installs this instance's subscriber on its first request; later calls return at once.
pub async fn init_logging() {
    if INSTALLED.with(|i| i.replace(true)) {
        return;
    }
    let wanted = variables::get("log_level")
        .await
        .ok()
        .filter(|v| !v.trim().is_empty());
    let default = || Targets::new().with_default(tracing::Level::INFO);
    let (filter, bad) = match wanted.as_deref().map(str::parse::<Targets>) {
        Some(Ok(f)) => (f, None),
        Some(Err(e)) => (default(), Some(e)),
        None => (default(), None),
    };
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .finish()
        .with(filter);
    if tracing::subscriber::set_global_default(subscriber).is_ok()
        && let Some(e) = bad
    {
        tracing::warn!(variable = LOG_LEVEL_VARIABLE, error = %e, "log level does not parse; using {DEFAULT_LEVEL}");
    }
}
