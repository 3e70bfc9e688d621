//! Benchmark: YooKassa notifications processed per second natively, each one re-fetching the
//! payment from the fake YooKassa on loopback (and, for the first of each payment, crediting
//! it and messaging the fake Bot API), 8 at a time; 1 in 4 is the first delivery, the rest
//! duplicates. Prints `bench: yookassa_notifications_per_s = N` and
//! `bench: yookassa_notification_p99_ms = N`.

use std::time::{Duration, Instant};

use futures::StreamExt;
use testkit::bench::{figure, group_async};
use testkit::payments::{PayFixture, check_invariants};

const PAYMENTS: i64 = 400;
const DELIVERIES: usize = 4;
const CONCURRENCY: usize = 8;

async fn prepare(f: &PayFixture) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..PAYMENTS {
        let uid = 9_100_000 + i;
        f.register(uid).await;
        let (status, created) = f.create(uid, "yookassa_card", 100).await;
        assert_eq!(status, 201, "{created}");
        let pid = created["payment"]["provider_payment_id"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        f.yk.set_status(&pid, "succeeded");
        ids.push(pid);
    }
    ids
}

async fn run() {
    let f = PayFixture::start("bench_yookassa", |p| p.timeout_ms = 5_000).await;
    let ids = prepare(&f).await;
    let url = f.webhook_url();
    let order: Vec<(usize, &String)> = (0..DELIVERIES)
        .flat_map(|round| ids.iter().map(move |id| (round, id)))
        .collect();
    let started = Instant::now();
    let results: Vec<(u16, Duration, usize)> = futures::stream::iter(order)
        .map(|(round, pid)| {
            let url = url.clone();
            let f = &f;
            async move {
                let t = Instant::now();
                let status = f.yk.notify(&url, "payment.succeeded", pid).await;
                (status, t.elapsed(), round)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let failed = results.iter().filter(|(s, _, _)| *s != 200).count();
    let p99 = |first: Option<bool>| {
        let mut lat: Vec<Duration> = results
            .iter()
            .filter(|(_, _, round)| first.is_none_or(|f| f == (*round == 0)))
            .map(|(_, d, _)| *d)
            .collect();
        lat.sort();
        lat[(lat.len() * 99 / 100).min(lat.len() - 1)].as_secs_f64() * 1000.0
    };
    eprintln!(
        "detail: p99 of first deliveries (credit + message) {:.2} ms, of duplicates {:.2} ms",
        p99(Some(true)),
        p99(Some(false))
    );
    let per_s = results.len() as f64 / elapsed.as_secs_f64();
    eprintln!(
        "detail: {} notifications ({} payments x {DELIVERIES}) at concurrency {CONCURRENCY} in {:.2} s",
        results.len(),
        PAYMENTS,
        elapsed.as_secs_f64()
    );
    figure("yookassa_notifications_per_s", format!("{per_s:.0}"));
    figure("yookassa_notification_p99_ms", format!("{:.2}", p99(None)));
    if failed > 0 {
        eprintln!("detail: {failed} notifications did not answer 200");
    }
    figure("yookassa_notifications_errors", failed);
    // Correctness after the figures: a failure here fails the group, the figures stay.
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    assert_eq!(f.balance(9_100_000).await, 100 + 100 + 10, "credited once");
    f.cleanup().await;
}

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("detail: no runtime: {e}");
            figure("yookassa_notifications_failed", 1);
            return;
        }
    };
    rt.block_on(group_async("yookassa_notifications", run()));
}
