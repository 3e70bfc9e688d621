//! Pushes N jobs (`COMFY_REAL_JOBS`, default 16) of a few-second CPU workflow at once through
//! a real `gpu-host` process against the genuine ComfyUI 0.33.0 (started as production runs
//! it: with `deploy/comfyui`'s `sitecustomize.py`, or without it when `COMFY_REAL_NO_FREEZE=1`),
//! then takes each prompt's `execution_start` and `execution_success` timestamps from
//! ComfyUI's own `GET /history` and prints:
//!
//! * `comfy_real_busy_ratio` = sum of run spans ÷ (last success − first start);
//! * `comfy_real_gap_p50_ms` / `comfy_real_gap_max_ms` = next run's start − previous run's
//!   success, in ComfyUI's own clock;
//! * `comfy_real_run_ms_mean` and `comfy_real_jobs`.
//!
//! The host deletes a delivered job's history entry, so `/history` is read every 20 ms while
//! the jobs run and each entry kept when first seen (`detail:` says how many runs were seen).
//! One warm-up prompt runs first (ComfyUI's first run also pays for lazy imports). Without
//! an install it prints `comfy_real_skipped = 1`; a panic prints `comfy_real_failed = 1`;
//! it exits 0 either way.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::World;
use serde_json::{Value, json};
use testkit::bench::{figure, group};
use testkit::fakes::comfyui::TINY_PNG;
use testkit::genuine::{self, GenuineComfy};

const DEFAULT_JOBS: usize = 16;
/// Per job on top of a minute: a stuck host ends the bench instead of stalling it.
const PER_JOB: Duration = Duration::from_secs(30);
const WORKFLOW: &str = "cpu_blur";

fn main() {
    let Some(install) = genuine::installed() else {
        println!(
            "detail: genuine ComfyUI not installed at {} ({})",
            genuine::install_dir().display(),
            genuine::INSTALL_HINT
        );
        figure("comfy_real_skipped", 1);
        return;
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!("detail: no runtime: {e}");
            figure("comfy_real_failed", 1);
            return;
        }
    };
    group("comfy_real", || rt.block_on(bench(&install)));
}

fn jobs() -> usize {
    std::env::var("COMFY_REAL_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_JOBS)
}

fn workflows() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workflows")
}

/// The host process, killed if the bench panics before it stops it.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn bench(install: &Path) {
    let n = jobs();
    let freeze = std::env::var("COMFY_REAL_NO_FREEZE").as_deref() != Ok("1");
    println!("detail: ComfyUI gc freeze (deploy/comfyui/sitecustomize.py) = {freeze}");
    let comfy = GenuineComfy::start_with(install, None, freeze).await;
    let warm_up = warm_up(&comfy.url()).await;
    let mut w = World::start().await;
    w.use_comfy(&comfy.url());
    let env = [
        ("WORKFLOWS_DIR", workflows().display().to_string()),
        ("VISIBILITY_TIMEOUT_SECS", "10".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let seen = Spans::default();
    let watching = tokio::spawn(watch_history(comfy.url(), warm_up, seen.clone()));
    let mut host = Child(w.spawn_child_with("comfy-real-host", &env));
    let ids: Vec<String> = (0..n).map(|i| format!("comfy-real-{i:03}")).collect();
    for id in &ids {
        submit(&w, id).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60) + PER_JOB * n as u32;
    for id in &ids {
        let st = w
            .api
            .wait_final(id, deadline.saturating_duration_since(Instant::now()))
            .await;
        if st.status != "succeeded" {
            println!("detail: job {id} ended as {:?}", st.status);
        }
    }
    common::sigterm(&host.0);
    let _ = host.0.wait();
    seen.done.store(true, Ordering::Relaxed);
    let _ = watching.await;
    report(&seen.sorted(), n);
    w.cleanup().await;
}

async fn submit(w: &World, job_id: &str) {
    let mut msg = common::job(job_id, &format!("file-{job_id}"), "en");
    msg.workflow = WORKFLOW.into();
    w.tg.add_file(&msg.file_ids[0], TINY_PNG.to_vec());
    w.api.add(&msg).await;
    common::push(&w.names, &msg).await;
}

async fn get_json(url: &str) -> Value {
    let resp = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    resp.json()
        .await
        .unwrap_or_else(|e| panic!("{url}: not JSON: {e}"))
}

/// Runs one prompt of the workflow straight on ComfyUI and waits for it; returns its id.
async fn warm_up(url: &str) -> String {
    let part = reqwest::multipart::Part::bytes(TINY_PNG.to_vec()).file_name("warm-up.png");
    let form = reqwest::multipart::Form::new()
        .part("image", part)
        .text("overwrite", "true");
    let client = reqwest::Client::new();
    let up = client.post(format!("{url}/upload/image")).multipart(form);
    up.send().await.expect("warm-up upload");
    let text = std::fs::read_to_string(workflows().join(format!("{WORKFLOW}.json")))
        .expect("the workflow");
    let mut graph: Value = serde_json::from_str(&text).expect("workflow JSON");
    graph["1"]["inputs"]["image"] = json!("warm-up.png");
    let pid = uuid::Uuid::new_v4().to_string();
    let body = json!({"prompt": graph, "prompt_id": pid, "client_id": "comfy-real-warm-up"});
    let resp = client
        .post(format!("{url}/prompt"))
        .json(&body)
        .send()
        .await;
    assert!(
        resp.is_ok_and(|r| r.status().is_success()),
        "warm-up prompt refused"
    );
    let end = Instant::now() + Duration::from_secs(120);
    while get_json(&format!("{url}/history/{pid}")).await[&pid].is_null() {
        assert!(Instant::now() < end, "the warm-up run did not end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pid
}

/// (execution_start, execution_success) in ms of the successful prompts seen so far, by id.
#[derive(Clone, Default)]
struct Spans {
    by_id: Arc<Mutex<HashMap<String, (u64, u64)>>>,
    done: Arc<AtomicBool>,
}

impl Spans {
    /// Keeps the successful entries of a `/history` answer not seen before, but `warm_up`.
    fn keep(&self, history: &Value, warm_up: &str) {
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        for (id, entry) in history.as_object().into_iter().flatten() {
            if id == warm_up || by_id.contains_key(id) {
                continue;
            }
            if let Some(span) = span_of(entry) {
                by_id.insert(id.clone(), span);
            }
        }
    }

    fn sorted(&self) -> Vec<(u64, u64)> {
        let by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        let mut spans: Vec<(u64, u64)> = by_id.values().copied().collect();
        spans.sort_unstable();
        spans
    }
}

/// Reads `/history` every 20 ms until `spans.done`, keeping every successful prompt but the
/// warm-up (once more after `done`, for the last one).
async fn watch_history(url: String, warm_up: String, spans: Spans) {
    loop {
        let last = spans.done.load(Ordering::Relaxed);
        let history = get_json(&format!("{url}/history")).await;
        spans.keep(&history, &warm_up);
        if last {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A history entry's (execution_start, execution_success) timestamps, if it succeeded.
fn span_of(entry: &Value) -> Option<(u64, u64)> {
    let messages = entry["status"]["messages"].as_array()?;
    let at = |kind: &str| {
        messages
            .iter()
            .find(|m| m[0] == kind)
            .and_then(|m| m[1]["timestamp"].as_u64())
    };
    Some((at("execution_start")?, at("execution_success")?))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn report(spans: &[(u64, u64)], jobs: usize) {
    assert!(!spans.is_empty(), "no successful run in ComfyUI's history");
    println!(
        "detail: {} successful runs seen in ComfyUI's history for {jobs} jobs",
        spans.len()
    );
    let busy: u64 = spans.iter().map(|(s, e)| e.saturating_sub(*s)).sum();
    let first = spans.iter().map(|(s, _)| *s).min().unwrap_or(0);
    let last = spans.iter().map(|(_, e)| *e).max().unwrap_or(0);
    let mut gaps: Vec<f64> = spans
        .windows(2)
        .map(|p| p[1].0.saturating_sub(p[0].1) as f64)
        .collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    let wall = last.saturating_sub(first).max(1) as f64;
    figure(
        "comfy_real_busy_ratio",
        format!("{:.4}", busy as f64 / wall),
    );
    figure(
        "comfy_real_gap_p50_ms",
        format!("{:.1}", percentile(&gaps, 0.5)),
    );
    figure(
        "comfy_real_gap_max_ms",
        format!("{:.1}", gaps.last().copied().unwrap_or(0.0)),
    );
    figure(
        "comfy_real_run_ms_mean",
        format!("{:.1}", busy as f64 / spans.len() as f64),
    );
    figure("comfy_real_jobs", jobs);
}
