//! Test support for gpu-host: the real `api` (the edge's REST handler on SQLite and Redis)
//! behind a recording front, unique Redis stream names, and a harness running a host
//! in-process or as a child process against the fake ComfyUI, the fake Bot API and that api.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gpu_host::comfy::{ComfyClient, ComfyWatcher};
use gpu_host::events::EventsClient;
use gpu_host::lock::GpuLock;
use gpu_host::metrics::Metrics;
use gpu_host::pipeline::{Host, Settings};
use gpu_host::queue::{JobQueue, StreamNames};
use gpu_host::retention::Retention;
use gpu_host::retry::RetryPolicy;
use gpu_host::telegram::BotMessenger;
use gpu_host::workflow::Workflows;
use qwen_contract::{JobEvent, JobEventKind, JobMessage};
use qwen_core::ports::{HttpResponse, Sql, SqlValue};
use qwen_core::settings::Settings as ApiSettings;
use qwen_http::Request as ApiRequest;
use serde_json::{Value, json};
use testkit::api::ApiApp;
use testkit::clock::SystemClock;
use testkit::fakes::comfyui::FakeComfy;
use testkit::fakes::telegram::FakeTelegram;
use testkit::server::{Handler, HandlerFactory, TestServer};
use testkit::sql::SqliteSql;
use tokio::sync::watch;

/// The event secret the api is configured with.
pub const SECRET: &str = "test-event-secret";
/// The user every test job belongs to (the one [`job`] names).
pub const USER: i64 = 7001;
/// What a test job costs: charged when the row is written, refunded if it fails.
pub const JOB_COST: i64 = 10;
/// Credits the test user gets, enough for the bench's jobs.
const CREDIT: i64 = 1_000_000;
/// How long a test's "reached the stream" markers live (the edge keeps its own for days).
const MARKER_TTL_SECS: u64 = 3600;
/// The api's bearer token (used only by the test itself, in-process).
const API_TOKEN: &str = "test-api-token-0123456789";

/// One job as the api's database holds it.
#[derive(Debug, Clone, Default)]
pub struct JobState {
    /// Current attempt.
    pub attempt: u32,
    /// Host of the current attempt.
    pub host: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled` (empty: no such job).
    pub status: String,
    /// Attempt the delivery was granted to.
    pub granted: Option<u32>,
    /// Refund entries of the job in the ledger.
    pub refunds: u32,
}

/// An event request the host made: job id, event, the answer's HTTP status, when answered.
type Recorded = (String, JobEvent, u16, Instant);

#[derive(Default)]
struct Traffic {
    events: Vec<Recorded>,
    sweeps: u32,
    reports: u32,
    fail_next: u32,
}

/// What the host talks to: records each request and injects 503s, and otherwise hands the
/// request to the real `api` handler.
struct Recorder {
    app: ApiApp,
    traffic: Arc<Mutex<Traffic>>,
}

#[async_trait::async_trait(?Send)]
impl Handler for Recorder {
    async fn call(&self, req: ApiRequest) -> HttpResponse {
        let path = req.path.clone();
        let event = path
            .strip_prefix("/internal/jobs/")
            .and_then(|p| p.strip_suffix("/events"))
            .and_then(|id| Some((id.to_owned(), serde_json::from_slice(&req.body).ok()?)));
        // Reports keep their own pace; the injected outages are for the job's calls.
        let report = path == "/internal/hosts/heartbeat";
        let injected = !report && {
            let mut t = self.traffic.lock().expect("lock");
            let inject = t.fail_next > 0;
            t.fail_next = t.fail_next.saturating_sub(1);
            inject
        };
        let resp = if injected {
            qwen_http::error(503, "unavailable", "try later")
        } else {
            self.app.call(req).await
        };
        let mut t = self.traffic.lock().expect("lock");
        if let Some((id, ev)) = event {
            t.events.push((id, ev, resp.status, Instant::now()));
        }
        if path == "/internal/jobs/sweep" && resp.status == 200 {
            t.sweeps += 1;
        }
        if report && resp.status == 200 {
            t.reports += 1;
        }
        resp
    }
}

/// The real `api` (core's REST handler on a fresh SQLite file and Redis) behind a
/// recording front that the host calls.
pub struct EdgeApi {
    app: ApiApp,
    traffic: Arc<Mutex<Traffic>>,
    server: TestServer,
    _dir: tempfile::TempDir,
}

impl EdgeApi {
    /// Starts on a free loopback port, with `stream` as the api's jobs stream, and registers
    /// [`USER`] with enough credits.
    pub async fn start(stream: &str) -> EdgeApi {
        EdgeApi::start_in(stream, &std::env::temp_dir()).await
    }

    /// As [`EdgeApi::start`], with the database in a directory under `parent`.
    pub async fn start_in(stream: &str, parent: &std::path::Path) -> EdgeApi {
        let dir = tempfile::tempdir_in(parent).expect("temp dir");
        let settings = ApiSettings {
            api_token: API_TOKEN.into(),
            gpu_event_secret: SECRET.into(),
            redis_url: redis_url(),
            jobs_stream: stream.into(),
            ..ApiSettings::default()
        };
        let app = ApiApp::new(&dir.path().join("app.db"), settings, Arc::new(SystemClock));
        let traffic: Arc<Mutex<Traffic>> = Arc::default();
        let (front, shared) = (app.clone(), traffic.clone());
        let factory: HandlerFactory = Arc::new(move || {
            Box::new(Recorder {
                app: front.clone(),
                traffic: shared.clone(),
            })
        });
        let server =
            TestServer::start(factory, app.settings.max_body_bytes).expect("server starts");
        let api = EdgeApi {
            app,
            traffic,
            server,
            _dir: dir,
        };
        let user = json!({"telegram_id": USER, "first_name": "Test", "language_code": "en"});
        let (status, body) = api.call("POST", "/api/users/", Some(user)).await;
        assert!(status == 201 || status == 200, "register: {status} {body}");
        let credit = json!({"amount": CREDIT, "reason": "gpu-host tests"});
        let (status, body) = api
            .call("POST", &format!("/api/balance/{USER}/adjust"), Some(credit))
            .await;
        assert_eq!(status, 201, "credit: {body}");
        api
    }

    /// Base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// One request to the api in-process, with the bearer token (neither recorded nor
    /// subject to [`EdgeApi::fail_next`]); returns status and JSON (Null when not JSON).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let resp = self
            .app
            .call(ApiRequest {
                method: method.into(),
                path: path.into(),
                query: String::new(),
                headers: vec![
                    ("authorization".into(), format!("Bearer {API_TOKEN}")),
                    ("content-type".into(), "application/json".into()),
                ],
                body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            })
            .await;
        let json = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        (resp.status, json)
    }

    /// Writes a queued job row for `msg` (same id, user, chat, prompt, photos, seed), charged
    /// [`JOB_COST`] by the schema's trigger as a created job is.
    pub async fn add(&self, msg: &JobMessage) {
        let files = serde_json::to_string(&msg.file_ids).expect("file ids");
        let args: Vec<SqlValue> = vec![
            msg.job_id.as_str().into(),
            msg.user_id.0.into(),
            msg.chat_id.0.into(),
            msg.prompt.as_str().into(),
            files.into(),
            JOB_COST.into(),
            (msg.seed as i64).into(),
            msg.workflow.as_str().into(),
            msg.lang.to_string().into(),
            gpu_host::events::now_ms().into(),
        ];
        SqliteSql::open(&self.app.db)
            .execute(
                "INSERT INTO jobs (id, user_id, chat_id, prompt, file_ids, cost, seed, workflow, lang, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                &args,
            )
            .await
            .expect("insert job");
    }

    /// Writes a queued job row with id `job_id` (for [`job`]`(job_id, "file-{job_id}", "en")`).
    pub async fn add_job(&self, job_id: &str) {
        self.add(&job(job_id, &format!("file-{job_id}"), "en"))
            .await;
    }

    /// Cancels a queued job through `POST /api/jobs/{id}/cancel`.
    pub async fn cancel(&self, job_id: &str) {
        let (status, body) = self
            .call("POST", &format!("/api/jobs/{job_id}/cancel"), None)
            .await;
        assert_eq!(status, 200, "cancel: {body}");
    }

    /// Answers the next `n` requests from the host with 503, without calling the api.
    pub fn fail_next(&self, n: u32) {
        self.traffic.lock().expect("lock").fail_next = n;
    }

    /// A job's row and its refunds in the ledger (default when there is no such job).
    pub async fn job(&self, job_id: &str) -> JobState {
        let rows = SqliteSql::open(&self.app.db)
            .execute(
                "SELECT status, attempt, host, delivery_attempt, \
                 (SELECT COUNT(*) FROM ledger WHERE kind = 'job_refund' AND reference = jobs.id) \
                 FROM jobs WHERE id = ?1",
                &[job_id.into()],
            )
            .await
            .expect("read job");
        let Some(r) = rows.first() else {
            return JobState::default();
        };
        let small = |v: i64| u32::try_from(v).expect("fits u32");
        JobState {
            status: r.text(0).expect("status"),
            attempt: small(r.int(1).expect("attempt")),
            host: r.opt_text(2).expect("host").unwrap_or_default(),
            granted: r.opt_int(3).expect("delivery attempt").map(small),
            refunds: small(r.int(4).expect("refunds")),
        }
    }

    /// Balances that differ from their ledger, plus jobs charged other than once or refunded
    /// other than exactly when they ended failed or cancelled (0 when the books are right).
    pub async fn ledger_mismatch(&self) -> i64 {
        let rows = SqliteSql::open(&self.app.db)
            .execute(testkit::soak::LEDGER_MISMATCH_SQL, &[])
            .await
            .expect("read ledger");
        rows.first().and_then(|r| r.int(0).ok()).unwrap_or(-1)
    }

    /// Event requests of a job, in order: (type, attempt, http status).
    pub fn events(&self, job_id: &str) -> Vec<(String, u32, u16)> {
        let t = self.traffic.lock().expect("lock");
        t.events
            .iter()
            .filter(|(j, _, _, _)| j == job_id)
            .map(|(_, e, s, _)| (e.kind.name().to_owned(), e.attempt, *s))
            .collect()
    }

    /// The accepted `failed` event's reason and words of a job, if any.
    pub fn failure(&self, job_id: &str) -> Option<(qwen_contract::FailureReason, String)> {
        let t = self.traffic.lock().expect("lock");
        t.events.iter().find_map(|(j, e, s, _)| match &e.kind {
            JobEventKind::Failed(f) if j == job_id && *s == 200 => {
                Some((f.reason, f.user_message.clone()))
            }
            _ => None,
        })
    }

    /// When the api accepted the job's event `kind` (e.g. `succeeded`).
    pub fn event_time(&self, job_id: &str, kind: &str) -> Option<Instant> {
        let t = self.traffic.lock().expect("lock");
        t.events
            .iter()
            .find(|(j, e, s, _)| j == job_id && e.kind.name() == kind && *s == 200)
            .map(|(_, _, _, t)| *t)
    }

    /// Sweep calls the api answered 200 so far.
    pub fn sweeps(&self) -> u32 {
        self.traffic.lock().expect("lock").sweeps
    }

    /// Host reports the edge accepted so far.
    pub fn reports(&self) -> u32 {
        self.traffic.lock().expect("lock").reports
    }

    /// Waits until the job succeeded or failed (or `timeout`); returns its state.
    pub async fn wait_final(&self, job_id: &str, timeout: Duration) -> JobState {
        let end = Instant::now() + timeout;
        loop {
            let j = self.job(job_id).await;
            if ["succeeded", "failed"].contains(&j.status.as_str()) || Instant::now() > end {
                return j;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Unique stream names for one test (cleaned by [`cleanup`]).
pub fn names(consumer: &str) -> StreamNames {
    let p = format!("test:gpu:{}", uuid::Uuid::new_v4().simple());
    StreamNames {
        stream: format!("{p}:jobs"),
        group: "gpu-hosts".into(),
        consumer: consumer.into(),
        dead: format!("{p}:dead"),
    }
}

/// Redis URL for tests.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A plain Redis connection.
pub async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("redis")
}

/// Deletes a test's streams and its jobs' markers.
pub async fn cleanup(names: &StreamNames) {
    let mut r = redis().await;
    let pattern =
        qwen_core::jobs::marker_key(&names.stream, &qwen_core::contract::JobId::from("*"));
    let mut markers: Vec<String> = Vec::new();
    if let Ok(mut keys) = redis::AsyncCommands::scan_match::<_, String>(&mut r, pattern).await {
        while let Some(Ok(k)) = futures::StreamExt::next(&mut keys).await {
            markers.push(k);
        }
    }
    let _: redis::RedisResult<()> = redis::cmd("DEL")
        .arg(&names.stream)
        .arg(&names.dead)
        .arg(markers)
        .query_async(&mut r)
        .await;
}

/// A job message for `file_id`.
pub fn job(job_id: &str, file_id: &str, lang: &str) -> JobMessage {
    JobMessage {
        v: 1,
        job_id: job_id.into(),
        user_id: qwen_contract::UserId(7001),
        chat_id: qwen_contract::ChatId(7001),
        file_ids: vec![file_id.into()],
        prompt: "make the sky pink".into(),
        preset_id: None,
        seed: 42,
        workflow: "model_free".into(),
        lang: lang.parse().expect("ru or en"),
        created_at: 1,
    }
}

/// `XADD`s a job message, signed with [`SECRET`] as the edge signs it, and sets its "reached
/// the stream" marker, in one script as the edge enqueues (so the api's sweep does not enqueue
/// the job again).
pub async fn push(names: &StreamNames, msg: &JobMessage) -> String {
    let json = msg.to_json().expect("json");
    let sig = qwen_contract::signing::sign_job(SECRET.as_bytes(), &json);
    push_fields(
        names,
        msg.job_id.as_str(),
        &[
            (qwen_contract::JOB_FIELD, json.as_str()),
            (qwen_contract::signing::JOB_SIG_FIELD, sig.as_str()),
        ],
    )
    .await
}

/// `XADD`s an entry of `fields` as the edge does (marker for `job_id`, stream TTL refreshed).
pub async fn push_fields(names: &StreamNames, job_id: &str, fields: &[(&str, &str)]) -> String {
    let mut r = redis().await;
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(qwen_core::ports::ADD_MARKED_SCRIPT)
        .arg(2)
        .arg(&names.stream)
        .arg(qwen_core::jobs::marker_key(
            &names.stream,
            &qwen_core::contract::JobId::from(job_id),
        ))
        .arg(MARKER_TTL_SECS)
        .arg(MARKER_TTL_SECS);
    for (k, v) in fields {
        cmd.arg(*k).arg(*v);
    }
    cmd.query_async(&mut r).await.expect("xadd")
}

/// Entries pending in the group.
pub async fn pending(names: &StreamNames) -> u64 {
    let mut r = redis().await;
    let v: redis::Value = redis::cmd("XPENDING")
        .arg(&names.stream)
        .arg(&names.group)
        .query_async(&mut r)
        .await
        .expect("xpending");
    match v {
        redis::Value::Array(items) => match items.first() {
            Some(redis::Value::Int(n)) => *n as u64,
            _ => 0,
        },
        _ => 0,
    }
}

/// `XLEN` of a stream.
pub async fn xlen(stream: &str) -> u64 {
    let mut r = redis().await;
    redis::cmd("XLEN")
        .arg(stream)
        .query_async(&mut r)
        .await
        .expect("xlen")
}

/// Fast settings for tests.
pub fn settings() -> Settings {
    Settings {
        visibility: Duration::from_millis(1500),
        max_deliveries: 3,
        job_deadline: Duration::from_secs(20),
        max_megapixels: 40,
        reconcile: Duration::from_millis(500),
        lock_timeout: Duration::from_secs(20),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(400),
        },
        sweep_every: Duration::from_millis(300),
        read_block: Duration::from_millis(200),
        grace: Duration::from_secs(10),
        report_every: Duration::from_millis(300),
        patience: gpu_host::comfy::run::Patience {
            silence: Duration::from_secs(2),
            unreachable: Duration::from_secs(3),
        },
    }
}

/// The fakes one test talks to.
pub struct World {
    /// Fake ComfyUI.
    pub comfy: FakeComfy,
    /// Fake Bot API.
    pub tg: FakeTelegram,
    /// The real api.
    pub api: EdgeApi,
    /// Stream names.
    pub names: StreamNames,
    /// GPU lock file.
    pub lock_path: std::path::PathBuf,
    /// Another ComfyUI the hosts talk to instead of the fake (see [`World::use_comfy`]).
    comfy_url: Option<String>,
}

impl World {
    /// Starts the fakes.
    pub async fn start() -> World {
        World::start_with_db_in(&std::env::temp_dir()).await
    }

    /// As [`World::start`], with the edge's database under `parent` (a bench puts it on
    /// tmpfs to measure the host rather than the disk's fsync).
    pub async fn start_with_db_in(parent: &std::path::Path) -> World {
        let lock_path =
            std::env::temp_dir().join(format!("gpu-test-{}.lock", uuid::Uuid::new_v4().simple()));
        let names = names("host-a");
        World {
            comfy: FakeComfy::start().await,
            tg: FakeTelegram::start().await,
            api: EdgeApi::start_in(&names.stream, parent).await,
            names,
            lock_path,
            comfy_url: None,
        }
    }

    /// Points the hosts built or spawned from now on at the ComfyUI at `url` (e.g. the
    /// genuine server) instead of the fake, which keeps running unused.
    pub fn use_comfy(&mut self, url: &str) {
        self.comfy_url = Some(url.to_owned());
    }

    /// The ComfyUI the hosts talk to: the one given to [`World::use_comfy`], else the fake.
    pub fn comfy_url(&self) -> String {
        self.comfy_url.clone().unwrap_or_else(|| self.comfy.url())
    }

    /// Registers a job with the api, gives Telegram its photo and pushes it.
    pub async fn submit(&self, job_id: &str, lang: &str) -> JobMessage {
        let msg = job(job_id, &format!("file-{job_id}"), lang);
        self.tg
            .add_file(&msg.file_ids[0], testkit::fakes::comfyui::TINY_PNG.to_vec());
        self.api.add(&msg).await;
        push(&self.names, &msg).await;
        msg
    }

    /// Builds an in-process host named `consumer`.
    pub async fn host(&self, consumer: &str, settings: Settings) -> Rc<Host> {
        self.host_for(
            consumer,
            settings,
            self.names.clone(),
            &self.api.url(),
            SECRET,
        )
        .await
    }

    /// Builds an in-process host on other stream names and another api (e.g. the real one).
    pub async fn host_for(
        &self,
        consumer: &str,
        settings: Settings,
        names: StreamNames,
        api_url: &str,
        secret: &str,
    ) -> Rc<Host> {
        let (api, retention) = ((api_url, secret), Retention::off());
        self.host_built(consumer, settings, names, api, retention)
            .await
    }

    /// Gives the fake ComfyUI real `input/` and `output/` directories under `root` and builds
    /// a host that deletes its files there ([`Retention`], leftovers kept `keep`).
    pub async fn host_retaining(
        &self,
        consumer: &str,
        settings: Settings,
        root: &std::path::Path,
        keep: Duration,
    ) -> Rc<Host> {
        let (input, output) = (root.join("input"), root.join("output"));
        self.comfy.set_dirs(&input, &output);
        let retention = Retention::new(&input, &output, keep);
        let api = (self.api.url(), SECRET);
        self.host_built(
            consumer,
            settings,
            self.names.clone(),
            (&api.0, api.1),
            retention,
        )
        .await
    }

    async fn host_built(
        &self,
        consumer: &str,
        settings: Settings,
        mut names: StreamNames,
        (api_url, secret): (&str, &str),
        retention: Retention,
    ) -> Rc<Host> {
        names.consumer = consumer.into();
        let queue = JobQueue::connect(&redis_url(), names).await.expect("queue");
        let comfy = ComfyClient::new(
            &self.comfy_url(),
            &format!("{}/system_stats", self.comfy_url()),
            &format!("{consumer}-{}", uuid::Uuid::new_v4()),
        );
        let watcher = ComfyWatcher::start(comfy.ws_url());
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../workflows");
        Rc::new(Host {
            events: EventsClient::new(api_url, secret, consumer, settings.retry),
            tg: Rc::new(BotMessenger::new(
                &self.tg.base_url(),
                self.tg.token(),
                settings.retry,
            )),
            lock: GpuLock::new(&self.lock_path),
            workflows: Workflows::load_dir(&dir, None).expect("workflows"),
            metrics: Arc::new(Metrics::default()),
            retention,
            held: RefCell::default(),
            deliveries: RefCell::default(),
            gpu: Default::default(),
            history: Default::default(),
            last_run_end: Default::default(),
            last_edit: Default::default(),
            settings,
            queue,
            comfy,
            watcher,
        })
    }

    /// Deletes the streams and the lock file.
    pub async fn cleanup(&self) {
        cleanup(&self.names).await;
        let _ = std::fs::remove_file(&self.lock_path);
    }

    /// Arguments for a child `gpu-host` process named `consumer`.
    pub fn child_args(&self, consumer: &str) -> Vec<(String, String)> {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../workflows");
        vec![
            ("REDIS_URL".into(), redis_url()),
            ("JOBS_STREAM".into(), self.names.stream.clone()),
            ("CONSUMER_GROUP".into(), self.names.group.clone()),
            ("DEAD_LETTER_STREAM".into(), self.names.dead.clone()),
            ("CONSUMER_NAME".into(), consumer.into()),
            ("COMFYUI_URL".into(), self.comfy_url()),
            ("GPU_LOCK_PATH".into(), self.lock_path.display().to_string()),
            ("TELEGRAM_BOT_TOKEN".into(), self.tg.token().into()),
            ("TELEGRAM_API_URL".into(), self.tg.base_url()),
            ("API_BASE_URL".into(), self.api.url()),
            ("GPU_EVENT_SECRET".into(), SECRET.into()),
            ("WORKFLOWS_DIR".into(), dir.display().to_string()),
            ("VISIBILITY_TIMEOUT_SECS".into(), "1.5".into()),
            ("RECONCILE_MS".into(), "500".into()),
            ("RETRY_BASE_MS".into(), "50".into()),
            ("RETRY_MAX_MS".into(), "400".into()),
            ("METRICS_ADDR".into(), String::new()),
            ("SHUTDOWN_GRACE_SECS".into(), "10".into()),
            ("RUST_LOG".into(), "info".into()),
        ]
    }

    /// Spawns a child `gpu-host` process.
    pub fn spawn_child(&self, consumer: &str) -> std::process::Child {
        self.spawn_child_with(consumer, &[])
    }

    /// Spawns a child `gpu-host` process with extra environment.
    pub fn spawn_child_with(
        &self,
        consumer: &str,
        extra: &[(&str, String)],
    ) -> std::process::Child {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-host"));
        cmd.env_clear()
            .envs(self.child_args(consumer))
            .stderr(std::process::Stdio::null());
        cmd.envs(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        if std::env::var("GPU_TEST_LOGS").is_ok() {
            cmd.stderr(std::process::Stdio::inherit());
        }
        cmd.spawn().expect("spawn gpu-host")
    }
}

/// Runs `host` on a LocalSet until `body` finishes, then stops it (grace included).
pub async fn with_host<F: std::future::Future<Output = T>, T>(host: Rc<Host>, body: F) -> T {
    let local = tokio::task::LocalSet::new();
    let (tx, rx) = watch::channel(false);
    local
        .run_until(async move {
            let running = tokio::task::spawn_local(host.run(rx));
            let out = body.await;
            let _ = tx.send(true);
            let _ = running.await;
            out
        })
        .await
}

/// Sends SIGTERM to a child.
pub fn sigterm(child: &std::process::Child) {
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}
