//! Configuration from CLI flags, the environment and `.env` (12-factor).
//!
//! Every option has a flag and an environment variable (the names the deployment's
//! configuration uses); `--help` explains each. Secrets (`TELEGRAM_BOT_TOKEN`, `GPU_EVENT_SECRET`) are never printed: the
//! `Debug` impl redacts them to their first 4 characters, and the password inside
//! `REDIS_URL` likewise ([`redact_url`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// The gpu-host's settings.
#[derive(Clone, Parser)]
#[command(
    name = "gpu-host",
    version,
    about = "QwenEditBot GPU daemon: consumes the Redis jobs stream, runs ComfyUI under a GPU lock, delivers results to Telegram."
)]
pub struct Config {
    /// Redis connection URL holding the jobs stream.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Name of the jobs stream.
    #[arg(long, env = "JOBS_STREAM", default_value = "jobs")]
    pub stream: String,
    /// Consumer group all gpu-hosts share (created with MKSTREAM when missing).
    #[arg(long, env = "CONSUMER_GROUP", default_value = "gpu-hosts")]
    pub group: String,
    /// Dead-letter stream for entries delivered too often or unreadable.
    #[arg(long, env = "DEAD_LETTER_STREAM", default_value = "jobs:dead")]
    pub dead_stream: String,
    /// Largest dead-letter stream, entries (`XADD … MAXLEN ~`); it also expires 30 days after
    /// its last entry.
    #[arg(long, env = "DEAD_LETTER_MAX", default_value_t = crate::queue::DEAD_LETTER_MAX)]
    pub dead_letter_max: u64,
    /// This host's consumer name (unique per host and GPU); defaults to hostname-pid.
    #[arg(long, env = "CONSUMER_NAME")]
    pub consumer_name: Option<String>,
    /// ComfyUI base URL (HTTP; the websocket URL is derived from it).
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub comfyui_url: String,
    /// Health check URL; defaults to `{COMFYUI_URL}/system_stats`.
    #[arg(long, env = "COMFYUI_HEALTH_CHECK_URL")]
    pub comfyui_health_check_url: Option<String>,
    /// File to `flock` while a job runs on ComfyUI; all daemons of one GPU share it.
    #[arg(long, env = "GPU_LOCK_PATH", default_value = "/tmp/gpu.lock")]
    pub gpu_lock_path: PathBuf,
    /// Longest wait for the GPU lock, seconds.
    #[arg(long, env = "GPU_LOCK_TIMEOUT_SECS", default_value_t = 600.0)]
    pub gpu_lock_timeout_secs: f64,
    /// Telegram bot token (secret; never logged beyond 4 characters).
    #[arg(
        long,
        env = "TELEGRAM_BOT_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    pub telegram_bot_token: String,
    /// Telegram Bot API base URL.
    #[arg(
        long,
        env = "TELEGRAM_API_URL",
        default_value = "https://api.telegram.org"
    )]
    pub telegram_api_url: String,
    /// Base URL of the edge `api` (job events and sweep go to `{API_BASE_URL}/internal/...`).
    #[arg(long, env = "API_BASE_URL", default_value = "http://127.0.0.1:3000")]
    pub api_base_url: String,
    /// Shared secret signing job events (HMAC-SHA256; never logged).
    #[arg(
        long,
        env = "GPU_EVENT_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub gpu_event_secret: String,
    /// Directory of workflow templates (`<name>.json` + `<name>.roles.json`).
    #[arg(long, env = "WORKFLOWS_DIR", default_value = "workflows")]
    pub workflows_dir: PathBuf,
    /// Run every job with this workflow instead of the job's own (smoke runs on a CPU-only
    /// ComfyUI, e.g. `--workflow model_free`).
    #[arg(long, env = "WORKFLOW_OVERRIDE")]
    pub workflow: Option<String>,
    /// Visibility timeout, seconds: an entry pending this long on a silent host is claimed.
    #[arg(long, env = "VISIBILITY_TIMEOUT_SECS", default_value_t = 60.0)]
    pub visibility_timeout_secs: f64,
    /// Deliveries after which an entry goes to the dead-letter stream (and the job fails).
    #[arg(long, env = "MAX_DELIVERIES", default_value_t = 5)]
    pub max_deliveries: u32,
    /// Largest input image, megapixels: a bigger one fails the job (`input_too_many_pixels`)
    /// before it reaches the GPU.
    #[arg(long, env = "MAX_MEGAPIXELS", default_value_t = 40)]
    pub max_megapixels: u32,
    /// Per-job ComfyUI deadline, seconds: past it the run is interrupted and the job fails.
    #[arg(long, env = "JOB_DEADLINE_SECS", default_value_t = 600.0)]
    pub job_deadline_secs: f64,
    /// Attempts for retryable failures (ComfyUI 5xx, connection errors, Telegram 5xx).
    #[arg(long, env = "RETRY_ATTEMPTS", default_value_t = 5)]
    pub retry_attempts: u32,
    /// Attempts for a job event while the api is unreachable (5xx, connection errors, 401);
    /// the entry stays pending and claimed meanwhile, then is left for a later delivery.
    #[arg(long, env = "EVENT_RETRY_ATTEMPTS", default_value_t = 20)]
    pub event_retry_attempts: u32,
    /// First retry delay, milliseconds (doubles each time, with jitter).
    #[arg(long, env = "RETRY_BASE_MS", default_value_t = 500)]
    pub retry_base_ms: u64,
    /// Largest retry delay, milliseconds.
    #[arg(long, env = "RETRY_MAX_MS", default_value_t = 30_000)]
    pub retry_max_ms: u64,
    /// How often to reconcile a running prompt through `/history`, milliseconds.
    #[arg(long, env = "RECONCILE_MS", default_value_t = 5_000)]
    pub reconcile_ms: u64,
    /// The watchdog: no websocket message for this long while a prompt is queued or runs
    /// → the socket is replaced and the run reconciled through `/queue` and `/history`.
    #[arg(long, env = "COMFY_SILENCE_SECS", default_value_t = 60.0)]
    pub comfy_silence_secs: f64,
    /// ComfyUI answering no HTTP call for this long during a run → the job is given back
    /// (its entry stays pending) and the host takes no job until ComfyUI answers again.
    #[arg(long, env = "COMFY_UNREACHABLE_SECS", default_value_t = 30.0)]
    pub comfy_unreachable_secs: f64,
    /// How often to call the api's sweep, seconds.
    #[arg(long, env = "SWEEP_SECS", default_value_t = 60.0)]
    pub sweep_secs: f64,
    /// How often to report this host to the edge (the fleet view, the wait quotes), seconds.
    #[arg(long, env = "REPORT_SECS", default_value_t = 5.0)]
    pub report_secs: f64,
    /// Grace period on SIGTERM/SIGINT for the running job, seconds.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 30.0)]
    pub shutdown_grace_secs: f64,
    /// Address for `/metrics` and `/healthz` (empty: no server).
    #[arg(long, env = "METRICS_ADDR", default_value = "127.0.0.1:9108")]
    pub metrics_addr: String,
    /// ComfyUI's `input/` directory on this machine: the host deletes the inputs it uploaded
    /// once a job is final (unset, with `COMFY_OUTPUT_DIR`: retention off).
    #[arg(long, env = "COMFY_INPUT_DIR")]
    pub comfy_input_dir: Option<PathBuf>,
    /// ComfyUI's `output/` directory on this machine: the host deletes a job's outputs
    /// (`qwen_edit/<job id>_*`) once the job is final.
    #[arg(long, env = "COMFY_OUTPUT_DIR")]
    pub comfy_output_dir: Option<PathBuf>,
    /// Leftovers of the host's own (its inputs, `qwen_edit/` outputs) older than this many
    /// seconds are removed by a periodic sweep; 0 = as soon as no retry can need them
    /// (`VISIBILITY_TIMEOUT_SECS` × `MAX_DELIVERIES` + `JOB_DEADLINE_SECS`, the floor of any
    /// value). A final job's files are deleted at once whatever this is.
    #[arg(long, env = "RETENTION_SECS", default_value_t = 86_400)]
    pub retention_secs: u64,
    /// Turn on the Lightning 4-step LoRA in workflows that have the switch.
    #[arg(long, env = "LIGHTNING_LORA", default_value_t = false)]
    pub lightning_lora: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("redis_url", &redact_url(&self.redis_url))
            .field("stream", &self.stream)
            .field("group", &self.group)
            .field("consumer_name", &self.consumer_name)
            .field("comfyui_url", &self.comfyui_url)
            .field("gpu_lock_path", &self.gpu_lock_path)
            .field(
                "telegram_bot_token",
                &qwen_contract::signing::redact(&self.telegram_bot_token),
            )
            .field("api_base_url", &self.api_base_url)
            .field(
                "gpu_event_secret",
                &qwen_contract::signing::redact(&self.gpu_event_secret),
            )
            .field("workflow", &self.workflow)
            .field("comfy_input_dir", &self.comfy_input_dir)
            .field("comfy_output_dir", &self.comfy_output_dir)
            .field("retention_secs", &self.retention_secs)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The consumer name, `hostname-pid` when not configured.
    pub fn consumer(&self) -> String {
        self.consumer_name.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            format!("{}-{}", host.trim(), std::process::id())
        })
    }

    /// The health check URL.
    pub fn health_url(&self) -> String {
        self.comfyui_health_check_url
            .clone()
            .unwrap_or_else(|| format!("{}/system_stats", self.comfyui_url.trim_end_matches('/')))
    }

    /// Parsed metrics address, `None` when empty or invalid.
    pub fn metrics_socket(&self) -> Option<SocketAddr> {
        self.metrics_addr.parse().ok()
    }

    /// Seconds (as configured) to a [`Duration`], negative values as zero.
    pub fn secs(v: f64) -> Duration {
        Duration::from_secs_f64(v.max(0.0))
    }
}

/// `url` with the password of its user-info part (`scheme://user:password@host…`) cut to its
/// first 4 characters, so a URL can be logged; a URL without one is returned as is.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let shown = match user_info.split_once(':') {
        Some((user, password)) => format!("{user}:{}", qwen_contract::signing::redact(password)),
        None => qwen_contract::signing::redact(user_info),
    };
    format!("{scheme}://{shown}@{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_url_password_is_redacted_everywhere_it_is_shown() {
        let url = "redis://:s3cretpass@127.0.0.1:6379/0";
        assert_eq!(redact_url(url), "redis://:s3cr…@127.0.0.1:6379/0");
        assert_eq!(
            redact_url("rediss://app:p@ss:word@redis.example:6380"),
            "rediss://app:p@ss…@redis.example:6380"
        );
        assert_eq!(redact_url("redis://tokenonly@h"), "redis://toke…@h");
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        let cfg = Config::parse_from([
            "gpu-host",
            "--redis-url",
            url,
            "--gpu-event-secret",
            "abcdefgh",
        ]);
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("s3cretpass") && !shown.contains("abcdefgh"),
            "{shown}"
        );
    }
}
