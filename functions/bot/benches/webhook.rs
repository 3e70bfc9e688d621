//! Webhook throughput and latency, natively: the real handler on SQLite files, a real Redis
//! stream and the fake Bot API on loopback.
//!
//! Prints `bench: telegram_updates_per_s = N` (mixed navigation updates from 4 threads) and
//! `bench: telegram_update_p50_ms` / `bench: telegram_update_p99_ms` for the update that
//! turns a photo into a queued job ("Start" after a photo). SQLite runs with Spin's settings
//! (`synchronous=FULL`, one connection per request), so on a disk every commit waits for an
//! fsync: the `_tmpfs` figures repeat the run on `/dev/shm` to show the handler's own cost.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use botapi::ReqwestHttp;
use common::{Bot, Env, SECRET, body, callback, photo, request, text};
use testkit::bench::{figure, group};
use testkit::queue::RedisQueue;

const THREADS: usize = 4;
const UPDATES_PER_THREAD: i64 = 250;
const LATENCY_SAMPLES: usize = 150;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn navigation(thread: usize, i: i64) -> serde_json::Value {
    let user = 10_000 + thread as i64;
    let id = 1_000_000 * (thread as i64 + 1) + i;
    match i % 4 {
        0 => callback(id, user, "cats", 5),
        1 => callback(id, user, "cat:style:0", 5),
        2 => text(id, user, "/help"),
        _ => callback(id, user, "menu", 5),
    }
}

/// Updates per second, and how many did not answer 200.
fn throughput(env: &Env) -> (f64, usize) {
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let env = env.clone();
            std::thread::spawn(move || {
                let rt = runtime();
                rt.block_on(async {
                    let (queue, http) =
                        (RedisQueue::new(&env.settings.redis_url), ReqwestHttp::new());
                    let mut errors = 0;
                    for i in 0..UPDATES_PER_THREAD {
                        let req = request(body(&navigation(t, i)), Some(SECRET));
                        if env.call_with(&req, &queue, &http).await.status != 200 {
                            errors += 1;
                        }
                    }
                    errors
                })
            })
        })
        .collect();
    let errors = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    let per_s = (THREADS as i64 * UPDATES_PER_THREAD) as f64 / start.elapsed().as_secs_f64();
    (per_s, errors)
}

/// The sorted latencies of "Start" after a photo, and how many did not answer 200.
async fn photo_to_job(bot: &Bot, queue: &RedisQueue, http: &ReqwestHttp) -> (Vec<Duration>, usize) {
    let user = 20_000;
    let call = |v: serde_json::Value| request(body(&v), Some(SECRET));
    bot.env
        .call_with(&call(text(bot.id(), user, "/start")), queue, http)
        .await;
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    let mut errors = 0;
    for i in 0..LATENCY_SAMPLES {
        bot.env
            .call_with(
                &call(callback(bot.id(), user, "preset:anime", 7)),
                queue,
                http,
            )
            .await;
        bot.env
            .call_with(
                &call(photo(bot.id(), user, &format!("BENCH-{i}"), None)),
                queue,
                http,
            )
            .await;
        let go = call(callback(bot.id(), user, "go", 8));
        let start = Instant::now();
        let status = bot.env.call_with(&go, queue, http).await.status;
        samples.push(start.elapsed());
        if status != 200 {
            errors += 1;
        }
    }
    samples.sort();
    (samples, errors)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the updates on SQLite files under `base` and prints the figures, their names
/// ending in `suffix`.
fn run(base: &Path, suffix: &str) {
    let rt = runtime();
    let tweak = |s: &mut qwen_core::settings::Settings| s.initial_balance = 1_000_000;
    let bot = rt.block_on(Bot::start_in("bench-telegram", base, tweak));
    let (per_s, nav_errors) = throughput(&bot.env);
    let (samples, go_errors) = rt.block_on(async {
        let (queue, http) = (
            RedisQueue::new(&bot.env.settings.redis_url),
            ReqwestHttp::new(),
        );
        photo_to_job(&bot, &queue, &http).await
    });
    let pct = |p: f64| ms(samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)]);
    figure(
        &format!("telegram_updates_per_s{suffix}"),
        format!("{per_s:.0}"),
    );
    figure(
        &format!("telegram_update_p50_ms{suffix}"),
        format!("{:.2}", pct(0.50)),
    );
    figure(
        &format!("telegram_update_p99_ms{suffix}"),
        format!("{:.2}", pct(0.99)),
    );
    if nav_errors + go_errors > 0 {
        eprintln!(
            "detail: non-200 answers: {nav_errors} navigation updates, {go_errors} Start updates"
        );
    }
    figure(
        &format!("telegram_updates_errors{suffix}"),
        nav_errors + go_errors,
    );
    // Correctness after the figures: a failure here fails the group, the figures stay.
    let jobs = rt.block_on(bot.job_count(20_000)) as usize;
    assert_eq!(jobs, LATENCY_SAMPLES, "every Start created one job");
    rt.block_on(bot.cleanup());
}

fn main() {
    group("telegram_updates", || run(&std::env::temp_dir(), ""));
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        group("telegram_updates_tmpfs", || run(shm, "_tmpfs"));
    }
}
