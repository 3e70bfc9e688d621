//! `gpu-host`: the GPU daemon binary. See the crate docs of `gpu_host` and the README.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use gpu_host::comfy::run::Patience;
use gpu_host::comfy::{ComfyClient, ComfyWatcher};
use gpu_host::config::Config;
use gpu_host::events::EventsClient;
use gpu_host::lock::GpuLock;
use gpu_host::metrics::{self, Metrics};
use gpu_host::pipeline::{Host, Settings};
use gpu_host::queue::{JobQueue, STALE_CONSUMER_IDLE, StreamNames};
use gpu_host::retention::Retention;
use gpu_host::retry::RetryPolicy;
use gpu_host::telegram::BotMessenger;
use gpu_host::workflow::Workflows;
use tokio::sync::watch;

fn main() -> std::process::ExitCode {
    let _ = dotenvy::dotenv();
    let cfg = Config::parse();
    init_tracing();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gpu-host: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&rt, run(cfg)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "gpu-host stopped with an error");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn settings(cfg: &Config) -> Settings {
    Settings {
        visibility: Config::secs(cfg.visibility_timeout_secs),
        max_deliveries: cfg.max_deliveries,
        job_deadline: Config::secs(cfg.job_deadline_secs),
        max_megapixels: cfg.max_megapixels.max(1),
        reconcile: Duration::from_millis(cfg.reconcile_ms.max(50)),
        lock_timeout: Config::secs(cfg.gpu_lock_timeout_secs),
        retry: RetryPolicy {
            max_attempts: cfg.retry_attempts.max(1),
            base_delay: Duration::from_millis(cfg.retry_base_ms),
            max_delay: Duration::from_millis(cfg.retry_max_ms),
        },
        sweep_every: Config::secs(cfg.sweep_secs).max(Duration::from_secs(1)),
        read_block: Config::secs(cfg.visibility_timeout_secs / 4.0)
            .clamp(Duration::from_millis(100), Duration::from_secs(5)),
        grace: Config::secs(cfg.shutdown_grace_secs),
        report_every: Config::secs(cfg.report_secs).max(Duration::from_millis(200)),
        patience: Patience {
            silence: Config::secs(cfg.comfy_silence_secs).max(Duration::from_millis(100)),
            unreachable: Config::secs(cfg.comfy_unreachable_secs).max(Duration::from_millis(100)),
        },
    }
}

async fn run(cfg: Config) -> Result<(), String> {
    let host = build_host(&cfg).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::task::spawn_local(async move {
        wait_for_signal().await;
        tracing::info!("signal received: shutting down");
        let _ = stop_tx.send(true);
    });
    host.run(stop_rx).await;
    tracing::info!("gpu-host stopped");
    Ok(())
}

/// Loads the workflows, connects to Redis and wires every part of the host.
async fn build_host(cfg: &Config) -> Result<Rc<Host>, String> {
    let consumer = cfg.consumer();
    tracing::info!(config = ?cfg, consumer = %consumer, "gpu-host starting");
    let mut workflows = Workflows::load_dir(&cfg.workflows_dir, cfg.workflow.as_deref())
        .map_err(|e| e.to_string())?;
    workflows.set_switch("lightning", cfg.lightning_lora);
    let names = StreamNames {
        stream: cfg.stream.clone(),
        group: cfg.group.clone(),
        consumer: consumer.clone(),
        dead: cfg.dead_stream.clone(),
    };
    let queue = JobQueue::connect(&cfg.redis_url, names)
        .await
        .map_err(|e| e.to_string())?
        .with_dead_letter_max(cfg.dead_letter_max);
    prune_consumers(&queue).await;
    let settings = settings(cfg);
    let client_id = format!("{consumer}-{}", uuid::Uuid::new_v4());
    let comfy = ComfyClient::new(&cfg.comfyui_url, &cfg.health_url(), &client_id);
    let events_retry = RetryPolicy {
        max_attempts: cfg.event_retry_attempts.max(1),
        ..settings.retry
    };
    Ok(Rc::new(Host {
        events: EventsClient::new(
            &cfg.api_base_url,
            &cfg.gpu_event_secret,
            &consumer,
            events_retry,
        ),
        tg: Rc::new(BotMessenger::new(
            &cfg.telegram_api_url,
            &cfg.telegram_bot_token,
            settings.retry,
        )),
        lock: GpuLock::new(&cfg.gpu_lock_path),
        watcher: ComfyWatcher::start(comfy.ws_url()),
        metrics: spawn_metrics(cfg),
        retention: retention(cfg),
        settings,
        queue,
        comfy,
        workflows,
        held: RefCell::default(),
        deliveries: RefCell::default(),
        gpu: Default::default(),
        history: Default::default(),
        last_run_end: Default::default(),
        last_edit: Default::default(),
    }))
}

/// How long after a crash a job's files may still be needed: until every redelivery of its
/// entry (one per visibility timeout) has had its run, with the run's deadline on top.
fn recovery_window(cfg: &Config) -> Duration {
    let visibility = Config::secs(cfg.visibility_timeout_secs);
    visibility * cfg.max_deliveries.max(1) + Config::secs(cfg.job_deadline_secs)
}

/// Retention over ComfyUI's directories, or off (with one warning) when they are not set.
/// Leftovers are kept at least [`recovery_window`]: a host restarted after a crash recovers
/// its earlier attempt's finished run from ComfyUI's history and needs that run's files.
fn retention(cfg: &Config) -> Retention {
    match (&cfg.comfy_input_dir, &cfg.comfy_output_dir) {
        (Some(input), Some(output)) => {
            let keep = Duration::from_secs(cfg.retention_secs).max(recovery_window(cfg));
            Retention::new(input, output, keep)
        }
        _ => {
            tracing::warn!(
                "COMFY_INPUT_DIR / COMFY_OUTPUT_DIR not set: retention is off, ComfyUI keeps every input and output"
            );
            Retention::off()
        }
    }
}

/// Deletes the consumers earlier rollouts left behind (idle a week, nothing pending).
async fn prune_consumers(queue: &JobQueue) {
    match queue.prune_consumers(STALE_CONSUMER_IDLE).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "deleted idle consumers of earlier hosts"),
        Err(e) => tracing::warn!(error = %e, "could not prune idle consumers"),
    }
}

/// The metrics registry, served on `METRICS_ADDR` when set.
fn spawn_metrics(cfg: &Config) -> Arc<Metrics> {
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = cfg.metrics_socket() {
        let m = metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = metrics::serve(addr, m).await {
                tracing::error!(error = %e, "metrics server failed");
            }
        });
    }
    metrics
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &[&str]) -> Config {
        let dirs = [
            "--comfy-input-dir",
            "/nonexistent/in",
            "--comfy-output-dir",
            "/nonexistent/out",
        ];
        Config::parse_from(["gpu-host"].iter().chain(&dirs).chain(extra))
    }

    #[test]
    fn leftovers_outlive_every_retry_whatever_the_retention_says() {
        // 60 s visibility × 5 deliveries + 600 s deadline = 900 s; the sweep runs every half.
        let at_once = retention(&cfg(&["--retention-secs", "0"]));
        assert_eq!(at_once.sweep_every(), Duration::from_secs(450));
        let quick = cfg(&[
            "--retention-secs",
            "0",
            "--visibility-timeout-secs",
            "2",
            "--max-deliveries",
            "3",
            "--job-deadline-secs",
            "10",
        ]);
        assert_eq!(retention(&quick).sweep_every(), Duration::from_secs(8));
        let day = retention(&cfg(&["--retention-secs", "86400"]));
        assert_eq!(day.sweep_every(), Duration::from_secs(600));
    }
}
