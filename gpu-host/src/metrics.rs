//! Prometheus metrics in the text exposition format, and the `/metrics` + `/healthz` server.
//!
//! Hand-written (a few atomics and fixed-bucket histograms) rather than a metrics crate:
//! the host exports a handful of series and stays small.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use std::collections::VecDeque;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use qwen_contract::{CONTRACT_VERSION, HEARTBEAT_WINDOW, HostHeartbeat, JobId};

const BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 600.0,
];

/// Who a host is, as its reports say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// Its consumer name.
    pub host: String,
    /// The gpu-host version.
    pub version: String,
    /// The workflow it runs (the forced one, or the loaded ones).
    pub workflow: String,
}

/// Job outcomes counted by `gpu_host_jobs_total{outcome}`.
pub const OUTCOMES: [&str; 6] = [
    "succeeded",
    "failed",
    "skipped",
    "dead_lettered",
    "abandoned",
    "cancelled",
];

/// Why a stream entry was refused before it could run, counted by
/// `gpu_host_rejected_entries_total{reason}`.
pub const REJECTIONS: [&str; 2] = ["unsigned", "bad_signature"];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, name: &str, out: &mut String) {
        out.push_str(&format!("# TYPE {name} histogram\n"));
        for (i, b) in BUCKETS.iter().enumerate() {
            out.push_str(&format!("{name}_bucket{{le=\"{b}\"}} {}\n", self.counts[i]));
        }
        out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {}\n", self.count));
        out.push_str(&format!(
            "{name}_sum {}\n{name}_count {}\n",
            self.sum, self.count
        ));
    }
}

/// The host's metrics; shared by every stage.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    jobs: [AtomicU64; OUTCOMES.len()],
    rejected: [AtomicU64; REJECTIONS.len()],
    job_seconds: Mutex<Histogram>,
    comfy_seconds: Mutex<Histogram>,
    queue_lag_ms: AtomicU64,
    busy_us: AtomicU64,
    comfy_up: AtomicBool,
    recent_runs_ms: Mutex<VecDeque<u64>>,
    current_job: Mutex<Option<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            jobs: Default::default(),
            rejected: Default::default(),
            job_seconds: Mutex::default(),
            comfy_seconds: Mutex::default(),
            queue_lag_ms: AtomicU64::new(0),
            busy_us: AtomicU64::new(0),
            comfy_up: AtomicBool::new(false),
            recent_runs_ms: Mutex::default(),
            current_job: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Counts a finished job under `outcome` (one of [`OUTCOMES`]).
    pub fn job(&self, outcome: &str, took: Duration) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.jobs[i].fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut h) = self.job_seconds.lock() {
            h.observe(took.as_secs_f64());
        }
    }

    /// How many jobs ended with `outcome`.
    pub fn jobs(&self, outcome: &str) -> u64 {
        OUTCOMES
            .iter()
            .position(|o| *o == outcome)
            .map_or(0, |i| self.jobs[i].load(Ordering::Relaxed))
    }

    /// Counts a stream entry refused for `reason` (one of [`REJECTIONS`]).
    pub fn rejected(&self, reason: &str) {
        if let Some(i) = REJECTIONS.iter().position(|r| *r == reason) {
            self.rejected[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many entries were refused for `reason`.
    pub fn rejections(&self, reason: &str) -> u64 {
        REJECTIONS
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |i| self.rejected[i].load(Ordering::Relaxed))
    }

    /// Records one ComfyUI run (the GPU was busy that long).
    pub fn comfy_run(&self, took: Duration) {
        self.busy_us
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        if let Ok(mut h) = self.comfy_seconds.lock() {
            h.observe(took.as_secs_f64());
        }
        if let Ok(mut recent) = self.recent_runs_ms.lock() {
            if recent.len() == HEARTBEAT_WINDOW {
                recent.pop_front();
            }
            recent.push_back(took.as_millis() as u64);
        }
    }

    /// Notes the job the GPU runs now (`None` when it is idle).
    pub fn running(&self, job_id: Option<&str>) {
        if let Ok(mut current) = self.current_job.lock() {
            *current = job_id.map(str::to_owned);
        }
    }

    /// Clears the running job if it is still `job_id` (the next one may have begun already).
    pub fn ran(&self, job_id: &str) {
        if let Ok(mut current) = self.current_job.lock()
            && current.as_deref() == Some(job_id)
        {
            *current = None;
        }
    }

    /// The mean and 90th percentile of the recent runs (up to [`HEARTBEAT_WINDOW`]), ms.
    pub fn recent_run_ms(&self) -> (Option<u64>, Option<u64>) {
        let Ok(recent) = self.recent_runs_ms.lock() else {
            return (None, None);
        };
        if recent.is_empty() {
            return (None, None);
        }
        let mut sorted: Vec<u64> = recent.iter().copied().collect();
        sorted.sort_unstable();
        let mean = sorted.iter().sum::<u64>() / sorted.len() as u64;
        let p90 = sorted[(sorted.len() * 9).div_ceil(10).saturating_sub(1)];
        (Some(mean), Some(p90))
    }

    /// This host's report for the edge.
    pub fn heartbeat(&self, identity: &Identity, at: i64) -> HostHeartbeat {
        let (run_ms_mean, run_ms_p90) = self.recent_run_ms();
        let current_job = self
            .current_job
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .map(JobId);
        HostHeartbeat {
            v: CONTRACT_VERSION,
            host: identity.host.clone(),
            version: identity.version.clone(),
            workflow: identity.workflow.clone(),
            comfy_up: self.comfy_up.load(Ordering::Relaxed),
            current_job,
            jobs_done: self.jobs("succeeded") + self.jobs("failed"),
            run_ms_mean,
            run_ms_p90,
            busy_ratio: self.busy_ratio().clamp(0.0, 1.0),
            at,
        }
    }

    /// The age of the last entry read, milliseconds.
    pub fn queue_lag(&self, ms: i64) {
        self.queue_lag_ms.store(ms.max(0) as u64, Ordering::Relaxed);
    }

    /// Whether ComfyUI answered its last health check.
    pub fn comfy_up(&self, up: bool) {
        self.comfy_up.store(up, Ordering::Relaxed);
    }

    /// What the next heartbeat says about ComfyUI.
    pub fn heartbeat_comfy_up(&self) -> bool {
        self.comfy_up.load(Ordering::Relaxed)
    }

    /// ComfyUI run time divided by uptime.
    pub fn busy_ratio(&self) -> f64 {
        let up = self.started.elapsed().as_micros().max(1) as f64;
        self.busy_us.load(Ordering::Relaxed) as f64 / up
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::from("# TYPE gpu_host_jobs_total counter\n");
        for (i, o) in OUTCOMES.iter().enumerate() {
            let n = self.jobs[i].load(Ordering::Relaxed);
            out.push_str(&format!("gpu_host_jobs_total{{outcome=\"{o}\"}} {n}\n"));
        }
        out.push_str("# TYPE gpu_host_rejected_entries_total counter\n");
        for (i, r) in REJECTIONS.iter().enumerate() {
            let n = self.rejected[i].load(Ordering::Relaxed);
            out.push_str(&format!(
                "gpu_host_rejected_entries_total{{reason=\"{r}\"}} {n}\n"
            ));
        }
        if let Ok(h) = self.job_seconds.lock() {
            h.render("gpu_host_job_duration_seconds", &mut out);
        }
        if let Ok(h) = self.comfy_seconds.lock() {
            h.render("gpu_host_comfyui_run_seconds", &mut out);
        }
        let lag = self.queue_lag_ms.load(Ordering::Relaxed) as f64 / 1000.0;
        let up = u8::from(self.comfy_up.load(Ordering::Relaxed));
        out.push_str(&format!(
            "# TYPE gpu_host_queue_lag_seconds gauge\ngpu_host_queue_lag_seconds {lag}\n"
        ));
        out.push_str(&format!(
            "# TYPE gpu_host_comfyui_up gauge\ngpu_host_comfyui_up {up}\n"
        ));
        out.push_str(&format!(
            "# TYPE gpu_host_gpu_busy_ratio gauge\ngpu_host_gpu_busy_ratio {:.4}\n",
            self.busy_ratio()
        ));
        out
    }
}

/// Serves `/metrics` and `/healthz` on `addr` until the task is dropped.
///
/// # Errors
/// The bind error.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "metrics listening");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let body = answer(req.uri().path(), &metrics);
                async move { Ok::<_, std::convert::Infallible>(body) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            let _ = conn.await;
        });
    }
}

fn answer(path: &str, metrics: &Metrics) -> Response<Full<Bytes>> {
    let (status, body) = match path {
        "/metrics" => (200, metrics.render()),
        "/healthz" => (200, "ok\n".to_owned()),
        _ => (404, "not found\n".to_owned()),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    resp
}
