//! Benchmark: `POST /api/jobs/` natively over loopback HTTP, on an SQLite file in WAL mode
//! (synchronous=FULL, as Spin) and a real Redis. Prints job creations per second and the
//! p50/p99 latency as `bench:` lines. Every job is one SQLite commit, so on a disk the fsync
//! bounds the figures: the `_tmpfs` lines repeat the run on `/dev/shm` to show the code's own cost.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::bench::{figure, group_async};
use testkit::fixture::{API_TOKEN, ApiFixture};

const WARMUP: usize = 200;
const JOBS: usize = 4000;
const CONCURRENCY: usize = 4;

/// One creation: its latency and whether it answered 201.
async fn one(f: &ApiFixture, url: &str, body: &serde_json::Value) -> (Duration, bool) {
    let start = Instant::now();
    let resp = f
        .client
        .post(url)
        .bearer_auth(API_TOKEN)
        .json(body)
        .send()
        .await;
    let ok = match resp {
        Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
        Err(_) => false,
    };
    (start.elapsed(), ok)
}

async fn worker(f: &ApiFixture, user: i64, n: usize) -> Vec<(Duration, bool)> {
    let url = format!("{}/api/jobs/", f.server.url());
    let body = json!({"telegram_id": user, "preset_id": "anime", "file_ids": ["AgACAgIAAxkBAAI"]});
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(one(f, &url, &body).await);
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(idx)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(f64::NAN)
}

struct Figures {
    per_s: f64,
    p50: f64,
    p99: f64,
    /// Creations that did not answer 201.
    errors: usize,
}

async fn run(parent: &Path) -> Figures {
    let f = ApiFixture::start_in("bench_job_create", parent, |_| {}).await;
    for u in 0..CONCURRENCY as i64 {
        f.register(1000 + u).await;
        let body = json!({"amount": 100_000_000, "reason": "bench"});
        f.call(
            "POST",
            &format!("/api/balance/{}/adjust", 1000 + u),
            Some(body),
        )
        .await;
    }
    worker(&f, 1000, WARMUP).await;
    let start = Instant::now();
    let runs = (0..CONCURRENCY).map(|u| worker(&f, 1000 + u as i64, JOBS / CONCURRENCY));
    let results: Vec<(Duration, bool)> = futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    let wall = start.elapsed();
    let errors = results.iter().filter(|(_, ok)| !ok).count();
    let mut lat: Vec<Duration> = results.into_iter().map(|(d, _)| d).collect();
    lat.sort();
    f.cleanup().await;
    Figures {
        per_s: lat.len() as f64 / wall.as_secs_f64(),
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
        errors,
    }
}

fn print(f: &Figures, suffix: &str) {
    figure(
        &format!("job_create_per_s{suffix}"),
        format!("{:.0}", f.per_s),
    );
    figure(
        &format!("job_create_p50_ms{suffix}"),
        format!("{:.3}", f.p50),
    );
    figure(
        &format!("job_create_p99_ms{suffix}"),
        format!("{:.3}", f.p99),
    );
    if f.errors > 0 {
        eprintln!("detail: {} job creations did not answer 201", f.errors);
    }
    figure(&format!("job_create_errors{suffix}"), f.errors);
}

fn main() {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("detail: no runtime: {e}");
            figure("job_create_failed", 1);
            return;
        }
    };
    rt.block_on(async {
        if let Some(disk) = group_async("job_create", run(&std::env::temp_dir())).await {
            print(&disk, "");
            figure("job_create_concurrency", CONCURRENCY);
        }
        let shm = Path::new("/dev/shm");
        if shm.is_dir()
            && let Some(mem) = group_async("job_create_tmpfs", run(shm)).await
        {
            print(&mem, "_tmpfs");
        }
    });
}
