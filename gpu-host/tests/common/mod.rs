//! Test support for gpu-host: a fake of the api's events endpoint (with the edge's fencing
//! rules), unique Redis stream names, and a harness running a host in-process or as a
//! child process against the fake ComfyUI, the fake Bot API and the fake api.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gpu_host::comfy::{ComfyClient, ComfyWatcher};
use gpu_host::events::EventsClient;
use gpu_host::lock::GpuLock;
use gpu_host::metrics::Metrics;
use gpu_host::pipeline::{Host, Settings};
use gpu_host::queue::{JobQueue, StreamNames};
use gpu_host::retry::RetryPolicy;
use gpu_host::telegram::BotMessenger;
use gpu_host::workflow::Workflows;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::TokioIo;
use qwen_contract::{JobEvent, JobEventKind, JobMessage};
use serde_json::{Value, json};
use testkit::fakes::comfyui::FakeComfy;
use testkit::fakes::telegram::FakeTelegram;
use tokio::sync::watch;

/// The secret the fake api checks.
pub const SECRET: &str = "test-event-secret";

/// One job as the fake api sees it.
#[derive(Debug, Clone, Default)]
pub struct JobState {
    /// Current attempt.
    pub attempt: u32,
    /// Host of the current attempt.
    pub host: String,
    /// `queued`, `running`, `delivering`, `succeeded`, `failed`, `cancelled`.
    pub status: String,
    /// Attempt the delivery was granted to.
    pub granted: Option<u32>,
    /// Refunds made.
    pub refunds: u32,
}

#[derive(Default)]
struct ApiState {
    jobs: HashMap<String, JobState>,
    events: Vec<(String, JobEvent, u16, Instant)>,
    sweeps: u32,
    fail_next: u32,
}

/// A fake of `POST /internal/jobs/{id}/events` and `/internal/jobs/sweep`.
pub struct FakeApi {
    addr: SocketAddr,
    state: Arc<Mutex<ApiState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApi {
    /// Starts on a free loopback port.
    pub async fn start() -> FakeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state: Arc<Mutex<ApiState>> = Arc::default();
        let task = tokio::spawn(serve_api(listener, state.clone()));
        FakeApi { addr, state, task }
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers a queued job.
    pub fn add_job(&self, job_id: &str) {
        let st = JobState {
            status: "queued".into(),
            ..JobState::default()
        };
        self.state
            .lock()
            .expect("lock")
            .jobs
            .insert(job_id.to_owned(), st);
    }

    /// Marks a job cancelled.
    pub fn cancel(&self, job_id: &str) {
        if let Some(j) = self.state.lock().expect("lock").jobs.get_mut(job_id) {
            j.status = "cancelled".into();
        }
    }

    /// Answers the next `n` calls with 503.
    pub fn fail_next(&self, n: u32) {
        self.state.lock().expect("lock").fail_next = n;
    }

    /// A job's state.
    pub fn job(&self, job_id: &str) -> JobState {
        self.state
            .lock()
            .expect("lock")
            .jobs
            .get(job_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Accepted/refused events of a job: (type, attempt, http status).
    pub fn events(&self, job_id: &str) -> Vec<(String, u32, u16)> {
        let st = self.state.lock().expect("lock");
        st.events
            .iter()
            .filter(|(j, _, _, _)| j == job_id)
            .map(|(_, e, s, _)| (e.kind.name().to_owned(), e.attempt, *s))
            .collect()
    }

    /// The `failed` event's reason of a job, if any.
    pub fn failure(&self, job_id: &str) -> Option<(qwen_contract::FailureReason, String)> {
        let st = self.state.lock().expect("lock");
        st.events.iter().find_map(|(j, e, s, _)| match &e.kind {
            JobEventKind::Failed(f) if j == job_id && *s == 200 => {
                Some((f.reason, f.user_message.clone()))
            }
            _ => None,
        })
    }

    /// When the api accepted the job's event `kind` (e.g. `succeeded`).
    pub fn event_time(&self, job_id: &str, kind: &str) -> Option<Instant> {
        let st = self.state.lock().expect("lock");
        st.events
            .iter()
            .find(|(j, e, s, _)| j == job_id && e.kind.name() == kind && *s == 200)
            .map(|(_, _, _, t)| *t)
    }

    /// Sweep calls so far.
    pub fn sweeps(&self) -> u32 {
        self.state.lock().expect("lock").sweeps
    }

    /// Waits until the job is final (or `timeout`); returns its state.
    pub async fn wait_final(&self, job_id: &str, timeout: Duration) -> JobState {
        let end = Instant::now() + timeout;
        loop {
            let j = self.job(job_id);
            if ["succeeded", "failed"].contains(&j.status.as_str()) || Instant::now() > end {
                return j;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn serve_api(listener: tokio::net::TcpListener, state: Arc<Mutex<ApiState>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| api_handle(req, state.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn api_reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    r
}

async fn api_handle(
    req: Request<Incoming>,
    state: Arc<Mutex<ApiState>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_owned();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (ts, sig) = (
        header(qwen_contract::signing::TIMESTAMP_HEADER),
        header(qwen_contract::signing::SIGNATURE_HEADER),
    );
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let now = gpu_host::events::now_ms() / 1000;
    if qwen_contract::signing::verify(SECRET.as_bytes(), ts.as_deref(), sig.as_deref(), &body, now)
        .is_err()
    {
        return Ok(api_reply(
            401,
            json!({"error": {"code": "bad_signature", "message": "bad signature"}}),
        ));
    }
    let mut st = state.lock().expect("lock");
    if st.fail_next > 0 {
        st.fail_next -= 1;
        return Ok(api_reply(
            503,
            json!({"error": {"code": "unavailable", "message": "try later"}}),
        ));
    }
    if path == "/internal/jobs/sweep" {
        st.sweeps += 1;
        return Ok(api_reply(200, json!({"requeued": 0})));
    }
    let Some(job_id) = path
        .strip_prefix("/internal/jobs/")
        .and_then(|p| p.strip_suffix("/events"))
    else {
        return Ok(api_reply(
            404,
            json!({"error": {"code": "not_found", "message": "no route"}}),
        ));
    };
    let Ok(event) = serde_json::from_slice::<JobEvent>(&body) else {
        return Ok(api_reply(
            400,
            json!({"error": {"code": "bad_request", "message": "bad event"}}),
        ));
    };
    let (status, reply) = match st.jobs.get_mut(job_id) {
        None => (
            404,
            json!({"error": {"code": "job_not_found", "message": "no such job"}}),
        ),
        Some(job) => apply(job, &event),
    };
    st.events
        .push((job_id.to_owned(), event, status, Instant::now()));
    Ok(api_reply(status, reply))
}

fn conflict(code: &str) -> (u16, Value) {
    (409, json!({"error": {"code": code, "message": code}}))
}

fn ok(job: &JobState, proceed: bool) -> (u16, Value) {
    (
        200,
        json!({"status": job.status, "proceed": proceed, "attempt": job.attempt}),
    )
}

/// The edge's fencing rules, as the brief states them.
fn apply(job: &mut JobState, e: &JobEvent) -> (u16, Value) {
    let is_final = ["succeeded", "failed", "cancelled"].contains(&job.status.as_str());
    match &e.kind {
        JobEventKind::Started => {
            if is_final || job.granted.is_some() {
                return ok(job, false);
            }
            if e.attempt > job.attempt || (e.attempt == job.attempt && e.host == job.host) {
                job.attempt = e.attempt;
                job.host = e.host.clone();
                job.status = "running".into();
                return ok(job, true);
            }
            conflict("stale_attempt")
        }
        JobEventKind::Delivering => {
            if e.attempt < job.attempt {
                return conflict("stale_attempt");
            }
            if is_final {
                return conflict("job_final");
            }
            let granted = *job.granted.get_or_insert(e.attempt) == e.attempt;
            job.status = "running".into();
            ok(job, granted)
        }
        JobEventKind::Succeeded(_) => {
            if e.attempt != job.attempt {
                return conflict("stale_attempt");
            }
            job.status = "succeeded".into();
            ok(job, true)
        }
        JobEventKind::Failed(_) => {
            if job.status == "failed" {
                return ok(job, true);
            }
            if is_final {
                return conflict("job_final");
            }
            if e.attempt < job.attempt {
                return conflict("stale_attempt");
            }
            job.attempt = e.attempt;
            job.status = "failed".into();
            job.refunds += 1;
            ok(job, true)
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

/// Deletes a test's streams.
pub async fn cleanup(names: &StreamNames) {
    let mut r = redis().await;
    let _: redis::RedisResult<()> = redis::cmd("DEL")
        .arg(&names.stream)
        .arg(&names.dead)
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

/// `XADD`s a job message.
pub async fn push(names: &StreamNames, msg: &JobMessage) -> String {
    let mut r = redis().await;
    redis::cmd("XADD")
        .arg(&names.stream)
        .arg("*")
        .arg("job")
        .arg(msg.to_json().expect("json"))
        .query_async(&mut r)
        .await
        .expect("xadd")
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
    }
}

/// The fakes one test talks to.
pub struct World {
    /// Fake ComfyUI.
    pub comfy: FakeComfy,
    /// Fake Bot API.
    pub tg: FakeTelegram,
    /// Fake api.
    pub api: FakeApi,
    /// Stream names.
    pub names: StreamNames,
    /// GPU lock file.
    pub lock_path: std::path::PathBuf,
}

impl World {
    /// Starts the fakes.
    pub async fn start() -> World {
        let lock_path =
            std::env::temp_dir().join(format!("gpu-test-{}.lock", uuid::Uuid::new_v4().simple()));
        World {
            comfy: FakeComfy::start().await,
            tg: FakeTelegram::start().await,
            api: FakeApi::start().await,
            names: names("host-a"),
            lock_path,
        }
    }

    /// Registers a job with the api, gives Telegram its photo and pushes it.
    pub async fn submit(&self, job_id: &str, lang: &str) -> JobMessage {
        let msg = job(job_id, &format!("file-{job_id}"), lang);
        self.tg
            .add_file(&msg.file_ids[0], testkit::fakes::comfyui::TINY_PNG.to_vec());
        self.api.add_job(job_id);
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
        mut names: StreamNames,
        api_url: &str,
        secret: &str,
    ) -> Rc<Host> {
        names.consumer = consumer.into();
        let queue = JobQueue::connect(&redis_url(), names).await.expect("queue");
        let comfy = ComfyClient::new(
            &self.comfy.url(),
            &format!("{}/system_stats", self.comfy.url()),
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
            held: RefCell::default(),
            deliveries: RefCell::default(),
            gate: Default::default(),
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
            ("COMFYUI_URL".into(), self.comfy.url()),
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
