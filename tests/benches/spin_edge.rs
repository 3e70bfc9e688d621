//! Benchmark: the edge inside the real Spin runtime (`spin up` on the project's manifest),
//! loaded by 16 concurrent clients with keep-alive off (a new TCP connection per request,
//! as independent webhook senders do), a few seconds per figure.
//!
//! Two anchor components, built here like the project's, frame the figures:
//! * `tests/spin-bench/trivial` answers `ok`: what Spin itself costs per request, so
//!   `spin_health_ratio` (= `GET /health` ÷ trivial, same run) tells the project's share;
//! * `tests/spin-bench/write-wall` does exactly one SQLite `INSERT` per request into the
//!   `default` database (WAL): no request that commits can go faster on this machine.
//!
//! The project's app gets a private Redis, the fake Bot API and the fake YooKassa on
//! loopback. Figures: `spin_trivial_per_s`, `spin_health_per_s`, `spin_health_ratio`,
//! `spin_job_create_per_s` / `_p99_ms` (`POST /api/jobs/`), `spin_webhook_nav_per_s` /
//! `_p99_ms` (menu and callback updates on `/telegram/webhook`),
//! `spin_notification_per_s` / `_p99_ms` (YooKassa notifications, first deliveries and
//! duplicates), `spin_write_wall_per_s` / `_p99_ms`, and `<figure>_errors` (non-2xx) for
//! each. Without `spin` on `PATH` the bench says so on stderr and exits 0.
//!
//! For measuring one change: `SPIN_EDGE_ONLY=health,job_create` runs only those groups
//! (`trivial`, `health`, `job_create`, `webhook_nav`, `notification`, `write_wall`),
//! `SPIN_EDGE_STATE_DIR=/dev/shm` puts the edge's databases on tmpfs (what the disk's
//! fsyncs cost), `SPIN_EDGE_LOG_LEVEL=debug` changes the components' log filter,
//! `SPIN_EDGE_UP_ARGS="--max-instance-reuse-count 1000"` passes more `spin up` arguments.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use testkit::bench::{figure, group, group_async};
use testkit::fakes::telegram::FakeTelegram;
use testkit::fakes::yookassa::{FakeYooKassa, SECRET_KEY, SHOP_ID};
use testkit::load::{self, Load, Report, Request};
use testkit::spin::{MISSING, RedisServer, SpinApp, SpinOptions, find_spin, workspace_root};
use testkit::updates::{callback, text};

const API_TOKEN: &str = "bench-api-token_0123456789";
const GPU_SECRET: &str = "bench-gpu-event-secret_0123456789";
const WEBHOOK_SECRET: &str = "bench-webhook-secret_0123";
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Users that create jobs (and pay), one per client.
const USERS: i64 = 16;
/// Chats that send navigation updates.
const CHATS: i64 = 64;
/// Payments created before the notification figure.
const PAYMENTS: usize = 1200;
/// Of every `DELIVERIES` notifications, one is a payment's first delivery.
const DELIVERIES: u64 = 4;
const ANCHORS: &[&str] = &["spin-bench-trivial", "spin-bench-write-wall"];

fn main() {
    let Some(spin) = find_spin() else {
        eprintln!("skipping the spin_edge bench: {MISSING}");
        return;
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skipping the spin_edge bench: no runtime: {e}");
            return;
        }
    };
    let started = Instant::now();
    eprintln!(
        "detail: load average before the builds: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let project = group("spin_build", testkit::spin::build_components).is_some();
    let anchors = group("spin_anchor_build", build_anchors).is_some();
    rt.block_on(bench(&spin, project, anchors));
    eprintln!(
        "detail: spin_edge took {:.1} s (builds included)",
        started.elapsed().as_secs_f64()
    );
}

/// Builds the anchor components exactly as the project's are built.
///
/// # Panics
/// When the build fails.
fn build_anchors() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--target", "wasm32-wasip2", "--profile", "wasm"]);
    for p in ANCHORS {
        cmd.args(["-p", p]);
    }
    let status = cmd
        .current_dir(workspace_root())
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
    assert!(status.success(), "building {ANCHORS:?} failed: {status}");
}

fn anchor_manifest(dir: &str) -> PathBuf {
    workspace_root()
        .join("tests/spin-bench")
        .join(dir)
        .join("spin.toml")
}

fn addr(app: &SpinApp) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], app.port))
}

/// Runs the load, prints `<name>_per_s` (and `<name>_p99_ms` when `p99`) and
/// `<name>_errors`, with the detail on stderr.
async fn measure<F>(app: &SpinApp, name: &str, p99: bool, factory: F) -> Report
where
    F: Fn(u64) -> Request + Send + Sync + 'static,
{
    let report = load::run(addr(app), &Load::default(), factory).await;
    eprintln!(
        "detail: {name}: {} (load average {})",
        report.summary(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    figure(&format!("{name}_per_s"), format!("{:.0}", report.per_s()));
    if p99 {
        figure(&format!("{name}_p99_ms"), format!("{:.2}", report.p99_ms()));
    }
    eprintln!("detail: {name}: non-2xx = {}", report.errors());
    figure(&format!("{name}_errors"), report.errors());
    report
}

/// Whether figure group `name` runs: all by default, else those listed in `SPIN_EDGE_ONLY`
/// (comma-separated, e.g. `trivial,health`), for measuring one change at a time.
fn wanted(name: &str) -> bool {
    match std::env::var("SPIN_EDGE_ONLY") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|w| w.trim() == name),
        _ => true,
    }
}

/// The groups that need the project's app.
const EDGE_GROUPS: &[&str] = &["health", "job_create", "webhook_nav", "notification"];

async fn bench(spin: &Path, project: bool, anchors: bool) {
    let trivial = if anchors && wanted("trivial") {
        group_async("spin_trivial", trivial(spin)).await
    } else {
        None
    };
    if !EDGE_GROUPS.iter().any(|g| wanted(g)) {
        eprintln!("detail: no edge figures asked for");
    } else if !project {
        eprintln!("detail: the project's components did not build: no edge figures");
    } else if let Some(edge) = group_async("spin_edge_start", Edge::start(spin)).await {
        edge_figures(&edge, trivial).await;
        edge.report_logs();
    }
    if anchors && wanted("write_wall") {
        group_async("spin_write_wall", write_wall(spin)).await;
    }
}

async fn edge_figures(edge: &Edge, trivial: Option<f64>) {
    if wanted("health") {
        let health = group_async("spin_health", async {
            measure(&edge.app, "spin_health", false, |_| Request::get("/health"))
                .await
                .per_s()
        })
        .await;
        if let (Some(t), Some(h)) = (trivial, health) {
            figure(
                "spin_health_ratio",
                format!("{:.3}", h / t.max(f64::MIN_POSITIVE)),
            );
        }
    }
    if wanted("job_create") {
        group_async("spin_job_create", job_create(edge)).await;
    }
    if wanted("webhook_nav") {
        group_async("spin_webhook_nav", webhook_nav(edge)).await;
    }
    if wanted("notification") {
        group_async("spin_notification", notifications(edge)).await;
    }
}

async fn trivial(spin: &Path) -> f64 {
    let opts = SpinOptions {
        manifest: Some(anchor_manifest("trivial")),
        ..SpinOptions::default()
    };
    let app = SpinApp::start(spin, opts).await;
    measure(&app, "spin_trivial", false, |_| Request::get("/"))
        .await
        .per_s()
}

/// The write wall on the default state directory (a disk: each commit waits for an fsync),
/// then, as detail on stderr, on `/dev/shm` (what Spin's SQLite costs without the fsync).
async fn write_wall(spin: &Path) {
    write_wall_in(spin, None, "spin_write_wall").await;
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        let dir = tempfile::Builder::new()
            .prefix("spin-write-wall-")
            .tempdir_in(shm)
            .expect("temp dir on /dev/shm");
        let report = write_wall_in(spin, Some(dir.path().to_path_buf()), "").await;
        eprintln!("detail: spin_write_wall on tmpfs: {}", report.summary());
    }
}

/// Prints the figures as `name` unless `name` is empty.
async fn write_wall_in(spin: &Path, state_dir: Option<PathBuf>, name: &str) -> Report {
    let opts = SpinOptions {
        manifest: Some(anchor_manifest("write-wall")),
        state_dir,
        ..SpinOptions::default()
    };
    let app = SpinApp::start(spin, opts).await;
    let status = load::exchange(
        addr(&app),
        &Request::post_json("/setup", &json!({})),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(status, 200, "write-wall setup: {}", app.logs());
    eprintln!(
        "detail: write wall database {}",
        app.sqlite_path().display()
    );
    let hit = |_| Request::post_json("/hit", &json!({}));
    if name.is_empty() {
        load::run(addr(&app), &Load::default(), hit).await
    } else {
        measure(&app, name, true, hit).await
    }
}

/// The project's app with its outside world.
struct Edge {
    app: SpinApp,
    tg: FakeTelegram,
    yk: FakeYooKassa,
    _redis: RedisServer,
    client: reqwest::Client,
}

impl Edge {
    async fn start(spin: &Path) -> Edge {
        let redis = RedisServer::start().await;
        let tg = FakeTelegram::start().await;
        let yk = FakeYooKassa::start().await;
        let opts = SpinOptions::default()
            .var("api_token", API_TOKEN)
            .var("gpu_event_secret", GPU_SECRET)
            .var("telegram_bot_token", tg.token())
            .var("telegram_webhook_secret", WEBHOOK_SECRET)
            .var("telegram_api_url", tg.base_url())
            .var("yookassa_shop_id", SHOP_ID)
            .var("yookassa_secret_key", SECRET_KEY)
            .var("yookassa_api_url", yk.base_url())
            .var("yookassa_allowed_ips", "127.0.0.1/32")
            .var("redis_url", redis.url())
            .var("initial_balance", "1000000000")
            // Job creation is measured, not the per-user cap (nothing runs the jobs).
            .var("max_queued_per_user", "0")
            .var(
                "log_level",
                std::env::var("SPIN_EDGE_LOG_LEVEL").unwrap_or_else(|_| "info".into()),
            );
        // SPIN_EDGE_STATE_DIR (e.g. under /dev/shm) shows what the fsyncs of a disk cost.
        let opts = SpinOptions {
            state_dir: std::env::var_os("SPIN_EDGE_STATE_DIR")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join(format!("edge-{}", std::process::id()))),
            // SPIN_EDGE_UP_ARGS: more `spin up` arguments, e.g. instance reuse limits.
            extra_args: std::env::var("SPIN_EDGE_UP_ARGS")
                .map(|a| a.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            ..opts
        };
        let app = SpinApp::start(spin, opts).await;
        eprintln!("detail: edge state in {}", app.state_dir.display());
        Edge {
            app,
            tg,
            yk,
            _redis: redis,
            client: reqwest::Client::new(),
        }
    }

    /// An authenticated API call; status and JSON.
    async fn call(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .client
            .request(method, self.app.url(path))
            .bearer_auth(API_TOKEN)
            .json(body)
            .send()
            .await;
        match resp {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({"transport": e.to_string()})),
        }
    }

    /// Registers users `first..first + n`.
    ///
    /// # Panics
    /// When one cannot be registered.
    async fn register(&self, first: i64, n: i64) {
        for uid in first..first + n {
            let body = json!({"telegram_id": uid, "first_name": "Bench", "language_code": "ru"});
            let (status, answer) = self.call(reqwest::Method::POST, "/api/users/", &body).await;
            assert!(
                status == 200 || status == 201,
                "register {uid}: {status} {answer}\n{}",
                self.app.logs()
            );
        }
    }

    /// Prints how much each component logged (errors show up there first).
    fn report_logs(&self) {
        for c in ["api", "telegram", "payments"] {
            let log = self.app.component_log(c);
            let errors = log.lines().filter(|l| l.contains("ERROR")).count();
            eprintln!(
                "detail: {c} logged {} lines, {errors} with ERROR{}",
                log.lines().count(),
                log.lines()
                    .find(|l| l.contains("ERROR"))
                    .map(|l| format!("; first: {l}"))
                    .unwrap_or_default()
            );
        }
        eprintln!(
            "detail: fake Bot API got {} calls, fake YooKassa {} requests",
            self.tg.calls().len(),
            self.yk.requests().len()
        );
    }
}

async fn job_create(edge: &Edge) {
    const FIRST: i64 = 600_000;
    edge.register(FIRST, USERS).await;
    let auth = format!("Bearer {API_TOKEN}");
    measure(&edge.app, "spin_job_create", true, move |seq| {
        let body = json!({
            "telegram_id": FIRST + (seq as i64 % USERS),
            "preset_id": "anime",
            "file_ids": [format!("AgACAgIAAxkBAAI{seq}")],
        });
        Request::post_json("/api/jobs/", &body).header("authorization", &auth)
    })
    .await;
}

/// The navigation mix of `functions/bot/benches/webhook.rs`: categories, a category, /help,
/// the main menu; a unique `update_id` each.
fn navigation(seq: u64) -> Value {
    let user = 700_000 + (seq as i64 % CHATS);
    let id = 5_000_000 + seq as i64;
    match seq % 4 {
        0 => callback(id, user, "cats", 5),
        1 => callback(id, user, "cat:style:0", 5),
        2 => text(id, user, "/help"),
        _ => callback(id, user, "menu", 5),
    }
}

async fn webhook_nav(edge: &Edge) {
    measure(&edge.app, "spin_webhook_nav", true, |seq| {
        Request::post_json("/telegram/webhook", &navigation(seq))
            .header(SECRET_HEADER, WEBHOOK_SECRET)
    })
    .await;
}

/// Which payment the `seq`-th notification is about, and whether it is its first delivery:
/// one in [`DELIVERIES`] is a new payment's, the others repeat payments delivered about 16
/// requests earlier (YooKassa redelivers until it gets a 200).
fn delivery(seq: u64, payments: usize) -> (usize, bool) {
    let (round, slot) = (seq / DELIVERIES, seq % DELIVERIES);
    let n = payments as u64;
    if slot == 0 {
        ((round % n) as usize, round < n)
    } else {
        ((round.saturating_sub(3 + slot) % n) as usize, false)
    }
}

/// Creates `PAYMENTS` card payments (16 at a time) and marks them succeeded in the fake;
/// the notification body of each.
async fn paid_payments(edge: &Edge, first_user: i64) -> Vec<Vec<u8>> {
    let t = Instant::now();
    let created: Vec<(u16, Value)> = futures::stream::iter(0..PAYMENTS)
        .map(|i| {
            let body = json!({
                "telegram_id": first_user + (i as i64 % USERS),
                "method": "yookassa_card",
                "package": 100,
            });
            async move {
                edge.call(reqwest::Method::POST, "/api/payments/", &body)
                    .await
            }
        })
        .buffer_unordered(USERS as usize)
        .collect()
        .await;
    let mut bodies = Vec::with_capacity(created.len());
    let mut failed = 0;
    for (status, answer) in &created {
        let pid = answer["payment"]["provider_payment_id"].as_str();
        match (status, pid) {
            (201, Some(pid)) => {
                edge.yk.set_status(pid, "succeeded");
                let n = edge.yk.notification("payment.succeeded", pid);
                bodies.push(serde_json::to_vec(&n).unwrap_or_default());
            }
            _ => {
                if failed == 0 {
                    eprintln!("detail: payment creation failed: {status} {answer}");
                }
                failed += 1;
            }
        }
    }
    eprintln!(
        "detail: {} payments created in {:.2} s ({failed} failed)",
        bodies.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(!bodies.is_empty(), "no payment could be created");
    bodies
}

async fn notifications(edge: &Edge) {
    const FIRST: i64 = 800_000;
    edge.register(FIRST, USERS).await;
    let bodies = Arc::new(paid_payments(edge, FIRST).await);
    let n = bodies.len();
    let shared = bodies.clone();
    let report = measure(&edge.app, "spin_notification", true, move |seq| {
        let (index, _) = delivery(seq, n);
        Request {
            method: "POST",
            path: "/webhooks/yookassa".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: shared[index].clone(),
        }
    })
    .await;
    let first = |o: &load::Outcome| delivery(o.seq, n).1;
    let firsts = report.outcomes.iter().filter(|o| first(o)).count();
    eprintln!(
        "detail: spin_notification: {firsts} first deliveries (p99 {:.2} ms), {} duplicates (p99 {:.2} ms)",
        report.quantile_ms_of(0.99, first),
        report.count() - firsts,
        report.quantile_ms_of(0.99, |o| !first(o))
    );
}
