//! Two `spin up` processes of one edge, as a scale-out on one host runs them: different ports
//! and state directories, one SQLite database file (`runtime-config/shared-sqlite.toml`) and
//! the key-value store in a private Redis (the same Redis as the job stream here), requests
//! spread across both. What one instance does, the other must see: charges, payments, albums
//! and dialogs.
//!
//! The runtime configs are the committed files with the deployer's values (the database
//! path, the Redis URL) written in, since Spin does not expand variables in them.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::edge::Edge;
use testkit::spin::{RedisServer, SpinOptions, SqldServer, workspace_root};
use testkit::updates::{callback, photo};

/// The committed runtime config `name` with `replacements` (each must occur) applied,
/// written to `dir`.
fn runtime_config(name: &str, replacements: &[(&str, &str)], dir: &Path) -> PathBuf {
    let committed = workspace_root().join("runtime-config").join(name);
    let mut text = std::fs::read_to_string(&committed)
        .unwrap_or_else(|e| panic!("{}: {e}", committed.display()));
    for (from, to) in replacements {
        assert!(
            text.contains(from),
            "{name} no longer holds {from:?}: update this test"
        );
        text = text.replace(from, to);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write runtime config");
    path
}

/// Where the instances keep their one SQL database.
#[derive(Debug, Clone, Copy)]
enum Backend {
    /// One SQLite file on this host (`runtime-config/shared-sqlite.toml`).
    SharedFile,
    /// A libSQL server (`runtime-config/libsql.toml`), a private `sqld` here.
    Libsql,
}

/// The shared pieces of a two-instance edge: the database (a file's directory, or a libSQL
/// server) and the runtime configs.
struct Shared {
    dir: tempfile::TempDir,
    sqld: Option<SqldServer>,
}

impl Shared {
    /// The shared store for `backend`; `None` (after saying why) when `sqld` is missing.
    async fn new(backend: Backend, what: &str) -> Option<Shared> {
        let dir = tempfile::Builder::new()
            .prefix("spin-shared-")
            .tempdir()
            .expect("temp dir");
        let sqld = match backend {
            Backend::SharedFile => None,
            Backend::Libsql => Some(SqldServer::start(&testkit::spin::sqld_or_skip(what)?).await),
        };
        Some(Shared { dir, sqld })
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("qwen.db")
    }

    /// The runtime config pointing at this database and `redis`.
    fn config(&self, redis: &RedisServer) -> PathBuf {
        let redis_url = redis.url();
        match &self.sqld {
            None => {
                let db = self.db().display().to_string();
                runtime_config(
                    "shared-sqlite.toml",
                    &[
                        ("/var/lib/qwen-edit-bot/qwen.db", &db),
                        ("redis://127.0.0.1:6379", &redis_url),
                    ],
                    self.dir.path(),
                )
            }
            Some(server) => runtime_config(
                "libsql.toml",
                &[
                    ("https://your-database.turso.io", &server.url()),
                    ("your-libsql-auth-token", "no-auth-on-a-private-sqld"),
                    ("redis://127.0.0.1:6379", &redis_url),
                ],
                self.dir.path(),
            ),
        }
    }

    /// What `spin up` says about where it stores SQLite data.
    fn storage_line(&self) -> String {
        match &self.sqld {
            None => "Storing default SQLite data to".to_owned(),
            Some(server) => format!("Storing default SQLite data to libSQL at {}", server.url()),
        }
    }

    /// The rows of `sql` with `params`, read straight from the shared database.
    async fn rows(&self, sql: &str, params: &[Value]) -> Vec<Vec<Value>> {
        if let Some(server) = &self.sqld {
            return server
                .query_values(sql, params)
                .await
                .expect("libSQL query");
        }
        let db = rusqlite::Connection::open(self.db()).expect("open the shared database");
        let args: Vec<Box<dyn rusqlite::ToSql>> = params
            .iter()
            .map(|p| -> Box<dyn rusqlite::ToSql> {
                match p {
                    Value::Number(n) => Box::new(n.as_i64()),
                    other => Box::new(other.as_str().unwrap_or_default().to_owned()),
                }
            })
            .collect();
        let mut stmt = db.prepare(sql).expect("prepare");
        let width = stmt.column_count();
        stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            (0..width)
                .map(|i| Ok(r.get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::from)))
                .collect::<rusqlite::Result<Vec<Value>>>()
        })
        .expect("query")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("rows")
    }

    /// The integers of the first row of `sql` (empty for no row).
    async fn ints(&self, sql: &str, params: &[Value]) -> Vec<i64> {
        self.rows(sql, params)
            .await
            .first()
            .map(|r| r.iter().map(|v| v.as_i64().unwrap_or(i64::MIN)).collect())
            .unwrap_or_default()
    }
}

/// Runs the scenario `$name` once on each backend: `$name::shared_file` and `$name::libsql`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn shared_file() {
                super::$name(super::Backend::SharedFile).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn libsql() {
                super::$name(super::Backend::Libsql).await;
            }
        }
    )+};
}

on_both_backends!(
    fifty_concurrent_jobs_on_two_instances_against_a_balance_for_ten_accept_exactly_ten,
    one_yookassa_notification_delivered_ten_times_to_two_instances_credits_once,
    albums_whose_photos_arrive_at_both_instances_keep_their_message_order,
    a_dialog_hopping_between_instances_keeps_its_state,
    one_instance_killed_mid_load_the_other_serves_and_nothing_is_lost_or_doubled,
);

/// Two instances of one edge on the shared database and the Redis key-value store; the first
/// request (which migrates the schema) reaches instance 0 before instance 1 gets any.
async fn two_instances(spin: &Path, shared: &Shared, extra: &[(&str, &str)]) -> Edge {
    let edge = Edge::start_instances(spin, extra, 2, |_, redis, opts| SpinOptions {
        runtime_config: Some(shared.config(redis)),
        ..opts
    })
    .await;
    for (i, app) in edge.apps().enumerate() {
        assert!(
            app.spin_output()
                .contains("Storing default key-value data to Redis"),
            "instance {i} does not keep its key-value store in Redis:\n{}",
            app.spin_output()
        );
        let (status, health) = edge.on(i).api_raw("GET", "/health", None, None).await;
        assert_eq!(status, 200, "instance {i}: {health}");
    }
    assert_ne!(edge.app.state_dir, edge.more[0].state_dir);
    for app in edge.apps() {
        assert!(
            app.spin_output().contains(&shared.storage_line()),
            "{}",
            app.spin_output()
        );
    }
    edge
}

fn file_ids(job: &Value) -> Vec<String> {
    job["file_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("no file_ids in {job}"))
        .iter()
        .map(|f| f.as_str().unwrap_or("").to_owned())
        .collect()
}

fn job_body(user: i64) -> Value {
    json!({"telegram_id": user, "file_ids": ["AgACAgIAAxkBAAIBY2Vf"], "preset_id": "anime"})
}

async fn fifty_concurrent_jobs_on_two_instances_against_a_balance_for_ten_accept_exactly_ten(
    backend: Backend,
) {
    let what = format!(
        "fifty_concurrent_jobs_on_two_instances_against_a_balance_for_ten_accept_exactly_ten on {backend:?}"
    );
    let Some(spin) = testkit::spin::spin_for_test(&what) else {
        return;
    };
    let Some(shared) = Shared::new(backend, &what).await else {
        return;
    };
    let edge = two_instances(&spin, &shared, &[]).await;
    let user = 6001;
    edge.register(user).await;
    assert_eq!(edge.on(1).api("GET", "/api/users/6001", None).await.0, 200);
    assert_eq!(edge.balance(user).await, 100, "a balance for ten edits");
    // The two instances' charges meet in SQLite's lock, not in one write queue.
    let answers = futures::future::join_all((0..50).map(|i| {
        edge.on(i % 2)
            .api("POST", "/api/jobs/", Some(job_body(user)))
    }))
    .await;
    let accepted = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers.iter().filter(|(s, _)| *s == 402).count();
    assert_eq!((accepted, refused), (10, 40), "{answers:?}");
    for i in 0..2 {
        let (status, profile) = edge.on(i).api("GET", "/api/users/6001", None).await;
        assert_eq!(status, 200);
        assert_eq!(
            (
                profile["balance"].as_i64(),
                profile["jobs"]["total"].as_i64()
            ),
            (Some(0), Some(10)),
            "instance {i}: {profile}"
        );
    }
    edge.assert_no_secrets_in_logs(&[]);
}

async fn one_yookassa_notification_delivered_ten_times_to_two_instances_credits_once(
    backend: Backend,
) {
    let what = format!(
        "one_yookassa_notification_delivered_ten_times_to_two_instances_credits_once on {backend:?}"
    );
    let Some(spin) = testkit::spin::spin_for_test(&what) else {
        return;
    };
    let Some(shared) = Shared::new(backend, &what).await else {
        return;
    };
    let edge = two_instances(&spin, &shared, &[]).await;
    let user = 6101;
    edge.register(user).await;
    let (ours, theirs) = edge.on(1).card_payment(user).await;
    edge.yk.set_status(&theirs, "succeeded");
    let note = edge.yk.notification("payment.succeeded", &theirs);
    let answers = futures::future::join_all((0..10).map(|i| edge.on(i % 2).notify(&note))).await;
    assert!(
        answers.iter().all(|a| a.0 == 200),
        "every delivery answered 200: {answers:?}"
    );
    edge.on(1).assert_credited_once(user, &ours).await;
    edge.assert_no_secrets_in_logs(&[]);
}

async fn albums_whose_photos_arrive_at_both_instances_keep_their_message_order(backend: Backend) {
    let what = format!(
        "albums_whose_photos_arrive_at_both_instances_keep_their_message_order on {backend:?}"
    );
    let Some(spin) = testkit::spin::spin_for_test(&what) else {
        return;
    };
    let Some(shared) = Shared::new(backend, &what).await else {
        return;
    };
    let edge = two_instances(&spin, &shared, &[]).await;
    const ORDERS: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut wrong = Vec::new();
    for (round, order) in ORDERS.iter().enumerate() {
        let round = round as i64;
        let user = 6200 + round;
        edge.on(0).start_user(user).await;
        edge.on(1)
            .send(&callback(edge.update_id(), user, "preset:anime", 1))
            .await;
        let files: Vec<String> = (101..=103).map(|m| format!("TWO{round}-{m}")).collect();
        let group = format!("two-album-{round}");
        // Photo k of the delivery goes to instance k % 2 (and the next round starts on the
        // other one), all three at once.
        let updates: Vec<(usize, Value)> = order
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let update = photo(
                    edge.update_id(),
                    101 + i as i64,
                    user,
                    &files[i],
                    Some(&group),
                );
                ((k + round as usize) % 2, update)
            })
            .collect();
        let statuses = futures::future::join_all(
            updates
                .iter()
                .map(|(instance, u)| edge.on(*instance).post_update(u)),
        )
        .await;
        assert!(
            statuses.iter().all(|s| *s == 200),
            "album {round} in order {order:?}: {statuses:?}"
        );
        let album_replies = edge
            .texts(user)
            .iter()
            .filter(|t| t.contains("Альбом получен"))
            .count();
        assert_eq!(
            album_replies,
            1,
            "album {round}: one reply for the whole album: {:?}",
            edge.texts(user)
        );
        edge.on(round as usize % 2)
            .send(&callback(edge.update_id(), user, "go", 2))
            .await;
        let jobs = edge.jobs(user).await;
        assert_eq!(jobs.len(), 1, "album {round}: one job: {jobs:?}");
        let got = file_ids(&jobs[0]);
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, files, "album {round}: every photo kept");
        if got != files {
            wrong.push(format!("album {round} in order {order:?} became {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "albums lost their message order (101, 102, 103):\n{}",
        wrong.join("\n")
    );
    edge.assert_no_secrets_in_logs(&[]);
}

async fn a_dialog_hopping_between_instances_keeps_its_state(backend: Backend) {
    let what = format!("a_dialog_hopping_between_instances_keeps_its_state on {backend:?}");
    let Some(spin) = testkit::spin::spin_for_test(&what) else {
        return;
    };
    let Some(shared) = Shared::new(backend, &what).await else {
        return;
    };
    let edge = two_instances(&spin, &shared, &[]).await;
    let user = 6301;
    edge.on(0).start_user(user).await;
    edge.on(1)
        .send(&callback(edge.update_id(), user, "preset:anime", 1))
        .await;
    assert!(
        edge.last_text(user).contains("Отправьте фото"),
        "instance 1 asks for the photo: {}",
        edge.last_text(user)
    );
    edge.on(0)
        .send(&photo(edge.update_id(), 101, user, "HOP-101", None))
        .await;
    edge.on(1)
        .send(&callback(edge.update_id(), user, "go", 2))
        .await;
    let jobs = edge.jobs(user).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = &jobs[0];
    let id = job["id"].as_str().expect("job id");
    assert!(
        edge.last_text(user).contains("Задание принято") && edge.last_text(user).contains(id),
        "{}",
        edge.last_text(user)
    );
    assert_eq!(
        (job["preset_id"].as_str(), job["cost"].as_i64()),
        (Some("anime"), Some(10)),
        "{job}"
    );
    assert_eq!(file_ids(job), ["HOP-101"]);
    assert_eq!(edge.balance(user).await, 90);
    edge.assert_no_secrets_in_logs(&[]);
}

async fn one_instance_killed_mid_load_the_other_serves_and_nothing_is_lost_or_doubled(
    backend: Backend,
) {
    let what = format!(
        "one_instance_killed_mid_load_the_other_serves_and_nothing_is_lost_or_doubled on {backend:?}"
    );
    let Some(spin) = testkit::spin::spin_for_test(&what) else {
        return;
    };
    let Some(shared) = Shared::new(backend, &what).await else {
        return;
    };
    let edge = two_instances(&spin, &shared, &[("initial_balance", "100000")]).await;
    let users: Vec<i64> = (6401..=6404).collect();
    for &u in &users {
        edge.register(u).await;
    }
    // (instance, user, job id) of every 201, and what each instance answered after the kill.
    let accepted = Mutex::new(Vec::<(usize, i64, String)>::new());
    let killed_at = Mutex::new(None::<Instant>);
    let after_kill = Mutex::new([0_usize; 2]);
    let retried = Mutex::new([0_usize; 2]);
    let started = Instant::now();
    let load = futures::future::join_all(users.iter().enumerate().map(|(c, &user)| {
        let (accepted, killed_at, after_kill) = (&accepted, &killed_at, &after_kill);
        let retried = &retried;
        let edge = &edge;
        async move {
            let mut n = c;
            while started.elapsed() < Duration::from_millis(2500) {
                let instance = n % 2;
                n += 1;
                let sent = Instant::now();
                let Ok((status, body)) = edge
                    .on(instance)
                    .try_api("POST", "/api/jobs/", Some(job_body(user)))
                    .await
                else {
                    continue;
                };
                // On libSQL the killed instance's open transaction keeps the server's write
                // lock until the server drops its stream; meanwhile the survivor answers a
                // retryable 503 (nothing written). A local file's lock dies with the process.
                if matches!(backend, Backend::Libsql)
                    && status == 503
                    && body["error"]["code"] == "storage_unavailable"
                {
                    retried.lock().unwrap()[instance] += 1;
                    continue;
                }
                assert_eq!(status, 201, "instance {instance}: {body}");
                let id = body["job_id"].as_str().expect("job_id").to_owned();
                accepted.lock().unwrap().push((instance, user, id));
                if killed_at.lock().unwrap().is_some_and(|k| sent > k) {
                    after_kill.lock().unwrap()[instance] += 1;
                }
            }
        }
    }));
    let kill = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        *killed_at.lock().unwrap() = Some(Instant::now());
        edge.app.kill();
    };
    futures::future::join(load, kill).await;
    let accepted = accepted.into_inner().unwrap();
    let after_kill = after_kill.into_inner().unwrap();
    assert!(
        accepted.iter().any(|(i, ..)| *i == 0),
        "instance 0 served before it was killed"
    );
    assert_eq!(after_kill[0], 0, "instance 0 is dead");
    assert!(
        after_kill[1] >= 10,
        "instance 1 kept serving after the kill: {} jobs",
        after_kill[1]
    );

    // The survivor answers, and the database holds what the clients were told.
    let survivor = edge.on(1);
    let (status, health) = survivor.api_raw("GET", "/health", None, None).await;
    assert_eq!(status, 200, "{health}");
    for &user in &users {
        let (status, profile) = survivor
            .api("GET", &format!("/api/users/{user}"), None)
            .await;
        assert_eq!(status, 200, "{profile}");
        let u = [json!(user)];
        let ledger = shared
            .ints(
                "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE user_id = ?1",
                &u,
            )
            .await[0];
        let balance = shared
            .ints("SELECT balance FROM balances WHERE user_id = ?1", &u)
            .await[0];
        assert_eq!(
            ledger, balance,
            "user {user}: the ledger equals the balance"
        );
        assert_eq!(
            profile["balance"].as_i64(),
            Some(balance),
            "user {user}: {profile}"
        );
        let counts = shared
            .ints(
                "SELECT COUNT(*), \
                    (SELECT COUNT(*) FROM ledger WHERE user_id = ?1 AND kind = 'job_charge'), \
                    (SELECT -COALESCE(SUM(amount), 0) FROM ledger \
                       WHERE user_id = ?1 AND kind IN ('job_charge', 'job_refund')), \
                    (SELECT COALESCE(SUM(cost), 0) FROM jobs WHERE user_id = ?1 AND status IN ('failed', 'cancelled')), \
                    (SELECT COALESCE(SUM(cost), 0) FROM jobs WHERE user_id = ?1) \
                 FROM jobs WHERE user_id = ?1",
                &u,
            )
            .await;
        let [jobs, charges, charged, refunded, costs] = counts[..] else {
            panic!("user {user}: {counts:?}");
        };
        assert_eq!(jobs, charges, "user {user}: one charge per job");
        assert_eq!(
            charged,
            costs - refunded,
            "user {user}: every job charged its cost once (refunded ones given back)"
        );
        assert_eq!(
            balance,
            100_000 - charged,
            "user {user}: nothing but the signup bonus and the jobs moved money"
        );
    }
    let mut missing = Vec::new();
    for (instance, user, id) in &accepted {
        let found = shared
            .ints(
                "SELECT user_id, \
                    (SELECT COUNT(*) FROM ledger WHERE kind = 'job_charge' AND reference = jobs.id) \
                 FROM jobs WHERE id = ?1",
                &[json!(id)],
            )
            .await;
        if found != [*user, 1] {
            missing.push(format!(
                "{id} (instance {instance}, user {user}): {found:?}"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} accepted jobs are not one charged job in the database:\n{}",
        missing.len(),
        accepted.len(),
        missing.join("\n")
    );
    eprintln!(
        "{} jobs accepted ({} by instance 1 after the kill), {:?} retryable 503s",
        accepted.len(),
        after_kill[1],
        retried.into_inner().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libsql_runtime_config_is_accepted_by_spin_up() {
    let Some(spin) = testkit::spin::spin_for_test("libsql_runtime_config_is_accepted_by_spin_up")
    else {
        return;
    };
    let redis = RedisServer::start().await;
    let dir = tempfile::Builder::new()
        .prefix("spin-libsql-")
        .tempdir()
        .expect("temp dir");
    // No libSQL server: a closed loopback port (Spin connects lazily, so it starts anyway).
    let nobody = format!("http://127.0.0.1:{}", testkit::spin::free_port());
    let config = runtime_config(
        "libsql.toml",
        &[
            ("https://your-database.turso.io", &nobody),
            ("redis://127.0.0.1:6379", &redis.url()),
        ],
        dir.path(),
    );
    let opts = SpinOptions {
        runtime_config: Some(config),
        ..SpinOptions::default()
    }
    .var("api_token", "t")
    .var("gpu_event_secret", "g")
    .var("telegram_bot_token", "1:x")
    .var("telegram_webhook_secret", "w")
    .var("yookassa_shop_id", "1")
    .var("yookassa_secret_key", "k")
    .var("telegram_api_url", "http://127.0.0.1:9")
    .var("yookassa_api_url", "http://127.0.0.1:9")
    .var("redis_url", redis.url());
    let app = testkit::spin::SpinApp::start(&spin, opts).await;
    let out = app.spin_output();
    assert!(
        out.contains(&format!(
            "Storing default SQLite data to libSQL at {nobody}"
        )),
        "{out}"
    );
    let health: Value = reqwest::get(app.url("/health"))
        .await
        .expect("health")
        .json()
        .await
        .expect("health json");
    assert_eq!(
        (health["database"].as_str(), health["queue"].as_str()),
        (Some("unavailable"), Some("ok")),
        "the database is the (absent) libSQL server: {health}"
    );
}
