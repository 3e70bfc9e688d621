//! Pushes 200 jobs through a real `gpu-host` process against the fake ComfyUI with a fixed
//! 200 ms run time, and prints the GPU busy ratio, the latency the host adds per job and
//! its peak memory.
//!
//! * busy ratio = ComfyUI run time ÷ wall time from the first run's start to the last run's
//!   end;
//! * added latency of a job = (run start − when the GPU became free for it: the previous
//!   run's end, or the push for the first job) + (`succeeded` accepted by the api − run end):
//!   everything the host adds around the GPU time, the photo's delivery included;
//! * peak RSS = `VmHWM` of the host process;
//! * gap = next run's start − previous run's end, from the fake's own run records: how long
//!   the GPU stood idle between two prompts (a host that submits the next prompt only once
//!   the previous ended shows its reaction time here, and the fake's between-prompt
//!   housekeeping, modelled as ComfyUI's with the gc-freeze start-up tweak, is part of it).

#[path = "../tests/common/mod.rs"]
mod common;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use common::World;
use qwen_contract::comfy_prompt_id;

const JOBS: usize = 200;
const RUN_TIME: Duration = Duration::from_millis(200);
/// ComfyUI's between-prompt collection: every 10 s, about 2 ms with the GC frozen at start
/// (`deploy/comfyui/sitecustomize.py`; 0.3-0.4 s without it).
const HOUSEKEEPING: (Duration, Duration) = (Duration::from_secs(10), Duration::from_millis(2));
/// For all the jobs together: a stuck host ends the bench instead of stalling it.
const DEADLINE: Duration = Duration::from_secs(180);

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("detail: no runtime: {e}");
            println!("bench: pipeline_failed = 1");
            return;
        }
    };
    group("pipeline", || rt.block_on(bench()));
}

/// Runs the figure group `name`; a panic inside is reported on stderr and as
/// `bench: <name>_failed = 1`, and the bench still exits 0 so that `cargo bench --workspace`
/// runs the other bench binaries (this crate does not depend on testkit's helper).
fn group(name: &str, f: impl FnOnce()) {
    if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(f)) {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("bench group {name} failed: {msg}");
        println!("bench: {name}_failed = 1");
    }
}

/// The host process, killed if the bench panics before it stops it.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn bench() {
    // The edge's database on tmpfs when there is one: the figures are the host's overhead
    // around a run (and the edge's handlers), not this disk's fsync latency.
    let shm = std::path::Path::new("/dev/shm");
    let parent = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let w = World::start_with_db_in(&parent).await;
    w.comfy.set_run_time(RUN_TIME);
    w.comfy.set_steps(4);
    w.comfy.set_housekeeping(HOUSEKEEPING.0, HOUSEKEEPING.1);
    // Retention on, as in production: ComfyUI's files on the same fast disk as the database.
    let files = tempfile::tempdir_in(&parent).expect("comfy dirs");
    let (input, output) = (files.path().join("input"), files.path().join("output"));
    w.comfy.set_dirs(&input, &output);
    let env = [
        ("RUST_LOG", "warn".to_owned()),
        ("COMFY_INPUT_DIR", input.display().to_string()),
        ("COMFY_OUTPUT_DIR", output.display().to_string()),
    ];
    let mut host = Child(w.spawn_child_with("bench-host", &env));
    let up_by = Instant::now() + Duration::from_secs(30);
    while w.comfy.health_calls() == 0 {
        assert!(
            Instant::now() < up_by,
            "the host did not reach ComfyUI in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pushed = Instant::now();
    let ids: Vec<String> = (0..JOBS).map(|i| format!("bench-{i:03}")).collect();
    for id in &ids {
        w.submit(id, "en").await;
    }
    let deadline = Instant::now() + DEADLINE;
    for id in &ids {
        let left = deadline.saturating_duration_since(Instant::now());
        let st = w.api.wait_final(id, left).await;
        if st.status != "succeeded" {
            eprintln!("detail: job {id} ended as {:?}", st.status);
        }
    }
    let rss = peak_rss_mb(host.0.id());
    common::sigterm(&host.0);
    let _ = host.0.wait();
    report(&w, &ids, pushed, rss);
    let kept = std::fs::read_dir(&input).map_or(0, |d| d.count())
        + std::fs::read_dir(output.join("qwen_edit")).map_or(0, |d| d.count());
    println!("bench: files_kept_after_jobs = {kept}");
    println!(
        "bench: jobs_stream_len_after_jobs = {}",
        common::xlen(&w.names.stream).await
    );
    w.cleanup().await;
}

fn report(w: &World, ids: &[String], pushed: Instant, rss: f64) {
    let runs = w.comfy.runs();
    let run_of = |id: &str| {
        let pid = comfy_prompt_id(&id.into(), 1);
        runs.iter().find(|r| r.prompt_id == pid).cloned()
    };
    let mut busy = Duration::ZERO;
    let mut added = Vec::with_capacity(ids.len());
    let (mut befores, mut afters) = (Vec::new(), Vec::new());
    let mut free_at = pushed;
    let (mut first, mut last) = (None, None);
    let mut ordered: Vec<_> = ids
        .iter()
        .filter_map(|id| run_of(id).map(|r| (id.clone(), r)))
        .collect();
    ordered.sort_by_key(|(_, r)| r.started);
    for (id, run) in &ordered {
        let Some(end) = run.finished else { continue };
        busy += end - run.started;
        first.get_or_insert(run.started);
        last = Some(end);
        let before = run.started.saturating_duration_since(free_at);
        let after = w
            .api
            .event_time(id, "succeeded")
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(end));
        added.push((before + after).as_secs_f64() * 1000.0);
        befores.push(before.as_secs_f64() * 1000.0);
        afters.push(after.as_secs_f64() * 1000.0);
        free_at = end;
    }
    let wall = match (first, last) {
        (Some(a), Some(b)) => b - a,
        _ => Duration::from_secs(1),
    };
    added.sort_by(|a, b| a.total_cmp(b));
    befores.sort_by(|a, b| a.total_cmp(b));
    afters.sort_by(|a, b| a.total_cmp(b));
    eprintln!(
        "detail: jobs delivered = {} of {}",
        ordered.len(),
        ids.len()
    );
    eprintln!(
        "detail: gap_before_run_ms p50/p99/max = {:.2}/{:.2}/{:.2}, delivery_after_run_ms p50/p99/max = {:.2}/{:.2}/{:.2}",
        percentile(&befores, 0.5),
        percentile(&befores, 0.99),
        befores.last().copied().unwrap_or(0.0),
        percentile(&afters, 0.5),
        percentile(&afters, 0.99),
        afters.last().copied().unwrap_or(0.0)
    );
    println!(
        "bench: gpu_busy_ratio = {:.4}",
        busy.as_secs_f64() / wall.as_secs_f64().max(1e-9)
    );
    println!(
        "bench: added_latency_p50_ms = {:.2}",
        percentile(&added, 0.50)
    );
    println!(
        "bench: added_latency_p99_ms = {:.2}",
        percentile(&added, 0.99)
    );
    println!("bench: peak_rss_mb = {rss:.1}");
    let mut gaps = run_gaps(&runs);
    gaps.sort_by(|a, b| a.total_cmp(b));
    println!(
        "bench: pipeline_gap_p50_ms = {:.2}",
        percentile(&gaps, 0.50)
    );
    println!(
        "bench: pipeline_gap_max_ms = {:.2}",
        gaps.last().copied().unwrap_or(0.0)
    );
}

/// Next run's start − previous run's end (ms) over the fake's finished runs, in start order.
fn run_gaps(runs: &[testkit::fakes::comfyui::RunRecord]) -> Vec<f64> {
    let mut done: Vec<_> = runs
        .iter()
        .filter_map(|r| r.finished.map(|f| (r.started, f)))
        .collect();
    done.sort_by_key(|(s, _)| *s);
    done.windows(2)
        .map(|p| p[1].0.saturating_duration_since(p[0].1).as_secs_f64() * 1000.0)
        .collect()
}
