//! The soak run: many jobs through the real Spin edge, the real `gpu-host` and the ComfyUI
//! fake at a steady rate, with the host killed (`SIGKILL`) a few times on the way, then the
//! figures that tell whether anything grows without bound or waits for ever: every job final,
//! the ledger exact, the jobs stream's length, Redis memory per job, photos left on the GPU
//! host and host rows. `cargo bench -p testkit --bench soak` prints them (N from `SOAK_JOBS`);
//! `tests/tests/spin_soak.rs` runs a small N and checks them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::edge::Edge;
use crate::fakes::comfyui::{FakeComfy, TINY_PNG};
use crate::genuine::GenuineComfy;
use crate::spin::GpuHost;

/// How a soak run goes.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Jobs to create.
    pub jobs: usize,
    /// Jobs created per second (steady).
    pub rate: f64,
    /// How often the host is killed with `SIGKILL` and started again, spread over the run.
    pub kills: usize,
    /// How long one fake ComfyUI run takes.
    pub run_time: Duration,
    /// Longest wait for every job to be final after the last one was created.
    pub drain_timeout: Duration,
}

impl SoakConfig {
    /// `jobs` jobs at 25 a second, three kills, 20 ms runs.
    pub fn new(jobs: usize) -> SoakConfig {
        SoakConfig {
            jobs,
            rate: 25.0,
            kills: 3,
            run_time: Duration::from_millis(20),
            drain_timeout: Duration::from_secs(180),
        }
    }
}

/// What a soak run measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SoakFigures {
    /// Jobs created (201).
    pub jobs: usize,
    /// Share of the created jobs that ended final (succeeded, failed or cancelled).
    pub final_ratio: f64,
    /// Users whose balance differs from their ledger, plus jobs charged or refunded wrongly.
    pub ledger_mismatch: i64,
    /// `XLEN` of the jobs stream once every job was final.
    pub stream_len_after: u64,
    /// Redis memory growth from before the first job to after the drain, per job (bytes).
    pub redis_bytes_per_job: f64,
    /// Keys in the edge's Redis after the drain (the stream; nothing per job).
    pub redis_keys: u64,
    /// Files left in ComfyUI's input and output directories after the drain.
    pub comfy_files_left: usize,
    /// Rows in the edge's `hosts` table.
    pub hosts_rows: i64,
    /// Jobs that ended `succeeded`.
    pub succeeded: i64,
    /// Job creations refused with 429 (the per-user cap) and tried again later.
    pub capped: usize,
    /// Seconds the whole run took.
    pub seconds: f64,
}

impl SoakFigures {
    /// Prints the figures as `bench: <prefix>_<figure>` lines.
    pub fn print(&self, prefix: &str) {
        let figure =
            |name: &str, value: String| crate::bench::figure(&format!("{prefix}_{name}"), value);
        figure("jobs", self.jobs.to_string());
        figure("final_ratio", format!("{:.4}", self.final_ratio));
        figure("ledger_mismatch", self.ledger_mismatch.to_string());
        figure("stream_len_after", self.stream_len_after.to_string());
        figure(
            "redis_bytes_per_job",
            format!("{:.1}", self.redis_bytes_per_job),
        );
        figure("redis_keys", self.redis_keys.to_string());
        figure("comfy_files_left", self.comfy_files_left.to_string());
        figure("hosts_rows", self.hosts_rows.to_string());
        figure("succeeded", self.succeeded.to_string());
        figure("capped_retries", self.capped.to_string());
        figure("seconds", format!("{:.1}", self.seconds));
    }
}

/// ComfyUI's directories as the fake writes them and the host cleans them.
struct ComfyDirs {
    _root: tempfile::TempDir,
    input: PathBuf,
    output: PathBuf,
}

impl ComfyDirs {
    fn new() -> ComfyDirs {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let (input, output) = (root.path().join("input"), root.path().join("output"));
        for d in [&input, &output] {
            std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        }
        ComfyDirs {
            _root: root,
            input,
            output,
        }
    }

    fn files_left(&self) -> usize {
        count_files(&self.input) + count_files(&self.output)
    }
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() { count_files(&p) } else { 1 }
        })
        .sum()
}

fn host(edge: &Edge, comfy_url: &str, dirs: &ComfyDirs) -> GpuHost {
    edge.gpu_host_at(
        comfy_url,
        &[
            ("CONSUMER_NAME", "soak-host".to_owned()),
            ("VISIBILITY_TIMEOUT_SECS", "3".to_owned()),
            ("SWEEP_SECS", "2".to_owned()),
            ("COMFY_INPUT_DIR", dirs.input.display().to_string()),
            ("COMFY_OUTPUT_DIR", dirs.output.display().to_string()),
            ("RETENTION_SECS", "0".to_owned()),
        ],
    )
}

/// The variables the soak's edge runs with: a delivery cut by a kill is settled in seconds,
/// not a quarter of an hour.
pub const SOAK_EDGE_VARIABLES: &[(&str, &str)] =
    &[("delivery_confirm_secs", "5"), ("max_queued_per_user", "5")];

/// Which ComfyUI a soak runs against.
#[derive(Debug, Clone)]
pub enum Comfy {
    /// The fake (`testkit::fakes::comfyui`), each run taking [`SoakConfig::run_time`].
    Fake,
    /// The genuine server installed in this directory (the layout of the ComfyUI install
    /// script: `comfyui/main.py` and `venv/`), started on CPU on a free loopback port with
    /// the model-free workflow.
    Genuine(PathBuf),
}

/// A running ComfyUI for the soak: the fake, or a genuine server process.
enum Running {
    Fake(FakeComfy),
    Genuine(GenuineComfy),
}

impl Running {
    fn url(&self) -> String {
        match self {
            Running::Fake(f) => f.url(),
            Running::Genuine(g) => g.url(),
        }
    }
}

async fn start_comfy(which: &Comfy, cfg: &SoakConfig, dirs: &ComfyDirs) -> Running {
    match which {
        Comfy::Fake => {
            let comfy = FakeComfy::start().await;
            comfy.set_run_time(cfg.run_time);
            comfy.set_dirs(&dirs.input, &dirs.output);
            Running::Fake(comfy)
        }
        Comfy::Genuine(install) => {
            Running::Genuine(GenuineComfy::start(install, &dirs.input, &dirs.output).await)
        }
    }
}

/// Runs a soak on `spin` against the ComfyUI fake and returns its figures.
///
/// # Panics
/// When a part cannot be started (test setup).
pub async fn run(spin: &Path, cfg: &SoakConfig) -> SoakFigures {
    run_with(spin, cfg, &Comfy::Fake).await
}

/// Runs a soak on `spin` against `which` ComfyUI and returns its figures.
///
/// # Panics
/// When a part cannot be started (test setup).
pub async fn run_with(spin: &Path, cfg: &SoakConfig, which: &Comfy) -> SoakFigures {
    let started = Instant::now();
    let edge = Edge::start(spin, SOAK_EDGE_VARIABLES).await;
    let dirs = ComfyDirs::new();
    let comfy = start_comfy(which, cfg, &dirs).await;
    let url = comfy.url();
    edge.tg.add_file("SOAK-PHOTO", TINY_PNG.to_vec());
    let users = register_users(&edge, cfg.jobs).await;
    let mut gpu = host(&edge, &url, &dirs);
    wait_for_group(&edge).await;
    let memory_before = redis_memory(&edge).await;
    let (created, capped) = submit(&edge, cfg, &users, || {
        gpu.kill();
        gpu = host(&edge, &url, &dirs);
    })
    .await;
    let db = edge.app.sqlite_path();
    drain(&db, created, cfg.drain_timeout).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let counts = job_counts(&db);
    let figures = SoakFigures {
        jobs: created,
        final_ratio: counts.0 as f64 / created.max(1) as f64,
        ledger_mismatch: ledger_mismatch(&db),
        stream_len_after: stream_len(&edge).await,
        redis_bytes_per_job: (redis_memory(&edge).await - memory_before) as f64
            / created.max(1) as f64,
        redis_keys: dbsize(&edge).await,
        comfy_files_left: dirs.files_left(),
        hosts_rows: scalar(&db, "SELECT COUNT(*) FROM hosts"),
        succeeded: counts.1,
        capped,
        seconds: started.elapsed().as_secs_f64(),
    };
    gpu.stop(Duration::from_secs(5));
    drop(comfy);
    figures
}

async fn register_users(edge: &Edge, jobs: usize) -> Vec<i64> {
    let users: Vec<i64> = (0..(jobs / 4).max(1) as i64)
        .map(|i| 7_000_000 + i)
        .collect();
    for chunk in users.chunks(16) {
        futures::future::join_all(chunk.iter().map(|u| edge.register(*u))).await;
    }
    users
}

/// Creates `cfg.jobs` jobs at `cfg.rate` per second, round-robin over `users`, calling `kill`
/// at evenly spread points; a 429 (the per-user cap) is tried again with the next user.
async fn submit(
    edge: &Edge,
    cfg: &SoakConfig,
    users: &[i64],
    mut kill: impl FnMut(),
) -> (usize, usize) {
    let every = Duration::from_secs_f64(1.0 / cfg.rate.max(0.1));
    let kill_at: Vec<usize> = (1..=cfg.kills)
        .map(|k| k * cfg.jobs / (cfg.kills + 1))
        .collect();
    let (mut created, mut capped, mut turn) = (0usize, 0usize, 0usize);
    let mut tick = tokio::time::interval(every);
    while created < cfg.jobs {
        tick.tick().await;
        let user = users[turn % users.len()];
        turn += 1;
        let body = json!({"telegram_id": user, "preset_id": "anime", "file_ids": ["SOAK-PHOTO"]});
        match edge.api("POST", "/api/jobs/", Some(body)).await {
            (201, _) => {
                created += 1;
                if kill_at.contains(&created) {
                    kill();
                }
            }
            (429, _) => capped += 1,
            (status, body) => panic!("job creation answered {status}: {body}"),
        }
    }
    (created, capped)
}

async fn wait_for_group(edge: &Edge) {
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        let groups: redis::RedisResult<Vec<redis::Value>> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg("jobs")
            .query_async(&mut redis_conn(edge).await)
            .await;
        if groups.is_ok_and(|g| !g.is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the gpu-host never created its consumer group");
}

async fn redis_conn(edge: &Edge) -> redis::aio::MultiplexedConnection {
    redis::Client::open(edge.redis.url())
        .unwrap_or_else(|e| panic!("redis url: {e}"))
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("redis: {e}"))
}

async fn redis_memory(edge: &Edge) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut redis_conn(edge).await)
        .await
        .unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn dbsize(edge: &Edge) -> u64 {
    redis::cmd("DBSIZE")
        .query_async(&mut redis_conn(edge).await)
        .await
        .unwrap_or(u64::MAX)
}

async fn stream_len(edge: &Edge) -> u64 {
    redis::cmd("XLEN")
        .arg("jobs")
        .query_async(&mut redis_conn(edge).await)
        .await
        .unwrap_or(u64::MAX)
}

fn scalar(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or(-1)
}

/// (final jobs, succeeded jobs).
fn job_counts(db: &Path) -> (i64, i64) {
    (
        scalar(
            db,
            "SELECT COUNT(*) FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled')",
        ),
        scalar(db, "SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'"),
    )
}

async fn drain(db: &Path, created: usize, timeout: Duration) {
    let end = Instant::now() + timeout;
    while Instant::now() < end && job_counts(db).0 < created as i64 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One number: balances that differ from their ledger, plus jobs charged other than once or
/// refunded other than exactly when they ended failed or cancelled (0 when the books are
/// right).
pub const LEDGER_MISMATCH_SQL: &str = "SELECT (SELECT COUNT(*) FROM balances b WHERE b.balance != \
     (SELECT COALESCE(SUM(amount), 0) FROM ledger l WHERE l.user_id = b.user_id)) + \
     (SELECT COUNT(*) FROM jobs j WHERE j.cost > 0 AND ( \
       (SELECT COUNT(*) FROM ledger WHERE kind = 'job_charge' AND reference = j.id) != 1 OR \
       (SELECT COUNT(*) FROM ledger WHERE kind = 'job_refund' AND reference = j.id) != \
       (CASE WHEN j.status IN ('failed', 'cancelled') THEN 1 ELSE 0 END)))";

/// [`LEDGER_MISMATCH_SQL`] on the database at `db`.
fn ledger_mismatch(db: &Path) -> i64 {
    scalar(db, LEDGER_MISMATCH_SQL)
}
