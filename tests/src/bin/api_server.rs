//! Serves the real `api` handlers on a free loopback port (a temporary SQLite file, the
//! local Redis) with seed data, for contract fuzzing (`scripts/schemathesis.sh`). Payments
//! are enabled and point at a loopback fake YooKassa and fake Bot API, as in the payment
//! suites. Prints `URL=…`, `TOKEN=…` and `JOB=…` lines, then serves until killed.

use std::io::Write;

use serde_json::json;
use testkit::fixture::API_TOKEN;
use testkit::payments::PayFixture;

/// The seeded user: path parameters `telegram_id` may name it.
const USER: i64 = 42;

#[tokio::main]
async fn main() {
    let f = PayFixture::start("schemathesis", |_| {}).await;
    f.register(USER).await;
    let new_job =
        json!({"telegram_id": USER, "preset_id": "anime", "file_ids": ["AgACAgIAAxkBAAI"]});
    let (status, job) = f.call("POST", "/api/jobs/", Some(new_job)).await;
    let job_id = job["job_id"].as_str().unwrap_or_default().to_owned();
    let mut out = std::io::stdout();
    let _ = writeln!(out, "URL={}", f.server.url());
    let _ = writeln!(out, "TOKEN={API_TOKEN}");
    let _ = writeln!(out, "JOB={job_id} (status {status})");
    let _ = out.flush();
    std::future::pending::<()>().await;
}
