//! Benchmark: `POST /api/jobs/` natively over loopback HTTP, on an SQLite file in WAL mode
//! (synchronous=FULL, as Spin) and a real Redis. Prints job creations per second and the
//! p50/p99 latency as `bench:` lines.

use std::time::{Duration, Instant};

use serde_json::json;
use testkit::fixture::{API_TOKEN, ApiFixture};

const WARMUP: usize = 200;
const JOBS: usize = 4000;
const CONCURRENCY: usize = 4;

async fn one(f: &ApiFixture, url: &str, body: &serde_json::Value) -> Duration {
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
    assert!(ok, "job creation failed during the benchmark");
    start.elapsed()
}

async fn worker(f: &ApiFixture, user: i64, n: usize) -> Vec<Duration> {
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

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let f = ApiFixture::start("bench_job_create").await;
        for u in 0..CONCURRENCY as i64 {
            f.register(1000 + u).await;
            f.call(
                "POST",
                &format!("/api/balance/{}/adjust", 1000 + u),
                Some(json!({"amount": 100_000_000, "reason": "bench"})),
            )
            .await;
        }
        worker(&f, 1000, WARMUP).await;
        let start = Instant::now();
        let runs = (0..CONCURRENCY).map(|u| worker(&f, 1000 + u as i64, JOBS / CONCURRENCY));
        let mut lat: Vec<Duration> = futures::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect();
        let wall = start.elapsed();
        lat.sort();
        println!(
            "bench: job_create_per_s = {:.0}",
            lat.len() as f64 / wall.as_secs_f64()
        );
        println!("bench: job_create_p50_ms = {:.3}", percentile(&lat, 0.50));
        println!("bench: job_create_p99_ms = {:.3}", percentile(&lat, 0.99));
        println!("bench: job_create_concurrency = {CONCURRENCY}");
        f.cleanup().await;
    });
}
