//! One edge under test: `spin up` on the project's manifest with its own private Redis, the
//! fake Bot API and the fake YooKassa, random secrets, and the HTTP helpers a test needs
//! (REST with the bearer token, the bot webhook with its secret header, YooKassa
//! notifications from the loopback source), plus log assertions.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use crate::fakes::comfyui::FakeComfy;
use crate::fakes::telegram::{Call, FakeTelegram};
use crate::fakes::yookassa::{FakeYooKassa, SHOP_ID};
use crate::spin::{GpuHost, RedisServer, SpinApp, SpinOptions};
use serde_json::{Map, Value, json};

/// How long a test waits for something asynchronous (a gpu-host delivery, a message).
pub const WAIT: Duration = Duration::from_secs(60);

/// The random secrets of one edge.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// `api_token`.
    pub api_token: String,
    /// `gpu_event_secret`.
    pub gpu_event_secret: String,
    /// `telegram_bot_token` (the fake Bot API expects it).
    pub bot_token: String,
    /// `telegram_webhook_secret`.
    pub webhook_secret: String,
    /// `yookassa_secret_key` (the fake YooKassa expects it).
    pub yookassa_secret_key: String,
}

/// `n` random characters of `A-Z a-z 0-9`.
pub fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < n {
                out.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
            }
        }
    }
    out
}

impl Secrets {
    fn random() -> Secrets {
        let bot_id = 7_000_000_000_u64 + u64::from(uuid::Uuid::new_v4().as_fields().0) % 1_000_000;
        Secrets {
            api_token: format!("apitok{}", random_alnum(26)),
            gpu_event_secret: format!("gpusec{}", random_alnum(26)),
            bot_token: format!("{bot_id}:AA{}", random_alnum(33)),
            webhook_secret: format!("whsec_{}", random_alnum(26)),
            yookassa_secret_key: format!("test_{}", random_alnum(38)),
        }
    }

    /// Every secret with its variable name.
    pub fn all(&self) -> [(&'static str, &str); 5] {
        [
            ("api_token", &self.api_token),
            ("gpu_event_secret", &self.gpu_event_secret),
            ("telegram_bot_token", &self.bot_token),
            ("telegram_webhook_secret", &self.webhook_secret),
            ("yookassa_secret_key", &self.yookassa_secret_key),
        ]
    }
}

/// The edge, its Redis and the fakes it talks to.
pub struct Edge {
    /// `spin up`: instance 0, which the plain helpers talk to.
    pub app: SpinApp,
    /// More `spin up` processes of the same edge (same secrets, Redis and fakes), if it was
    /// started with [`Edge::start_instances`]; [`Edge::on`] talks to any of them.
    pub more: Vec<SpinApp>,
    /// Its private Redis.
    pub redis: RedisServer,
    /// The fake Bot API (`telegram_api_url`).
    pub tg: FakeTelegram,
    /// The fake YooKassa (`yookassa_api_url`).
    pub yk: FakeYooKassa,
    /// The secrets it was started with.
    pub secrets: Secrets,
    http: reqwest::Client,
    next_update: AtomicI64,
}

/// One instance of an edge: the HTTP helpers aimed at that `spin up`.
#[derive(Clone, Copy)]
pub struct On<'a> {
    edge: &'a Edge,
    /// The instance.
    pub app: &'a SpinApp,
}

impl Edge {
    /// Starts the edge with the test defaults (`model_free` workflow, YooKassa allowed from
    /// 127.0.0.1 only) and `extra` variables on top.
    pub async fn start(spin: &Path, extra: &[(&str, &str)]) -> Edge {
        Edge::start_instances(spin, extra, 1, |_, _, opts| opts).await
    }

    /// Starts `n` instances of the edge one after the other (each on its own port and state
    /// directory), sharing the secrets, the Redis and the fakes; `configure(i, redis, opts)`
    /// completes the options of instance `i` (e.g. a runtime config).
    pub async fn start_instances(
        spin: &Path,
        extra: &[(&str, &str)],
        n: usize,
        configure: impl Fn(usize, &RedisServer, SpinOptions) -> SpinOptions,
    ) -> Edge {
        assert!(n >= 1, "an edge has at least one instance");
        let redis = RedisServer::start().await;
        let secrets = Secrets::random();
        let tg = FakeTelegram::start_with_token(&secrets.bot_token).await;
        let yk = FakeYooKassa::start_with(SHOP_ID, &secrets.yookassa_secret_key);
        let mut opts = SpinOptions::default()
            .var("api_token", &secrets.api_token)
            .var("gpu_event_secret", &secrets.gpu_event_secret)
            .var("telegram_bot_token", &secrets.bot_token)
            .var("telegram_webhook_secret", &secrets.webhook_secret)
            .var("yookassa_shop_id", SHOP_ID)
            .var("yookassa_secret_key", &secrets.yookassa_secret_key)
            .var("telegram_api_url", tg.base_url())
            .var("yookassa_api_url", yk.base_url())
            .var("redis_url", redis.url())
            .var("yookassa_allowed_ips", "127.0.0.1/32")
            .var("default_workflow", "model_free")
            // Suites make many jobs per user with no host to finish them; a test of the
            // per-user cap passes its own value in `extra`.
            .var("max_queued_per_user", "0")
            .var("telegram_timeout_ms", "5000")
            .var("yookassa_timeout_ms", "5000");
        for (name, value) in extra {
            opts = opts.var(name, *value);
        }
        let mut apps = Vec::with_capacity(n);
        for i in 0..n {
            apps.push(SpinApp::start(spin, configure(i, &redis, opts.clone())).await);
        }
        let app = apps.remove(0);
        let edge = Edge {
            app,
            more: apps,
            redis,
            tg,
            yk,
            secrets,
            // A fresh connection per request, as Telegram and YooKassa make theirs: a pooled
            // connection that Spin closes while idle fails the next request sent on it.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(0)
                .build()
                .expect("http client"),
            next_update: AtomicI64::new(10_000),
        };
        edge.migrate_in_turn().await;
        edge
    }

    /// Has each instance in turn bring the database to the current schema (its first
    /// storage request migrates it), so a test's first requests do not meet two instances
    /// migrating one database at once — which answers one of them a retryable 503, as it
    /// would on a deploy (Telegram and YooKassa redeliver).
    async fn migrate_in_turn(&self) {
        for i in 0..=self.more.len() {
            for _ in 0..50 {
                match self
                    .on(i)
                    .try_api("GET", "/api/presets/categories", None)
                    .await
                {
                    Ok((200, _)) => break,
                    _ => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
    }

    /// Every instance, instance 0 first.
    pub fn apps(&self) -> impl Iterator<Item = &SpinApp> {
        std::iter::once(&self.app).chain(self.more.iter())
    }

    /// The helpers aimed at instance `i` (0 is [`Edge::app`]).
    pub fn on(&self, i: usize) -> On<'_> {
        let app = if i == 0 { &self.app } else { &self.more[i - 1] };
        On { edge: self, app }
    }

    /// A fresh `update_id`.
    pub fn update_id(&self) -> i64 {
        self.next_update.fetch_add(1, Ordering::SeqCst)
    }

    // ------------------------------------------------------------------ REST

    /// `method path` on the api with the right bearer token and a JSON body.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.on(0).api(method, path, body).await
    }

    /// `method path` with `token` (none: no Authorization header) and raw body bytes.
    pub async fn api_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        self.on(0).api_raw(method, path, token, body).await
    }

    /// Registers a Russian-speaking user through the api.
    pub async fn register(&self, user: i64) -> Value {
        let (status, body) = self
            .api(
                "POST",
                "/api/users/",
                Some(json!({"telegram_id": user, "first_name": "Anna", "language_code": "ru"})),
            )
            .await;
        assert!(
            status == 201 || status == 200,
            "register {user}: {status} {body}"
        );
        body
    }

    /// The user's balance from `GET /api/users/{id}`.
    pub async fn balance(&self, user: i64) -> i64 {
        let (status, body) = self.api("GET", &format!("/api/users/{user}"), None).await;
        assert_eq!(status, 200, "GET /api/users/{user}: {body}");
        body["balance"]
            .as_i64()
            .unwrap_or_else(|| panic!("no balance in {body}"))
    }

    /// The ledger kinds of the user, oldest first.
    pub async fn ledger_kinds(&self, user: i64) -> Vec<String> {
        let (status, body) = self
            .api(
                "GET",
                &format!("/api/balance/{user}/history?limit=100"),
                None,
            )
            .await;
        assert_eq!(status, 200, "history of {user}: {body}");
        let mut kinds: Vec<String> = body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {body}"))
            .iter()
            .map(|e| e["kind"].as_str().unwrap_or("?").to_owned())
            .collect();
        kinds.reverse();
        kinds
    }

    /// The user's jobs, newest first.
    pub async fn jobs(&self, user: i64) -> Vec<Value> {
        let (status, body) = self
            .api("GET", &format!("/api/users/{user}/jobs"), None)
            .await;
        assert_eq!(status, 200, "jobs of {user}: {body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// The user's payments (our rows), newest first as the api lists them.
    pub async fn payments(&self, user: i64) -> Vec<Value> {
        let (status, body) = self
            .api("GET", &format!("/api/users/{user}/payments"), None)
            .await;
        assert_eq!(status, 200, "payments of {user}: {body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// Polls `GET /api/jobs/{id}` until its status is final (or [`WAIT`] passes).
    pub async fn wait_job_final(&self, job_id: &str) -> Value {
        let end = Instant::now() + WAIT;
        loop {
            let (status, job) = self.api("GET", &format!("/api/jobs/{job_id}"), None).await;
            assert_eq!(status, 200, "GET /api/jobs/{job_id}: {job}");
            let st = job["status"].as_str().unwrap_or("");
            if ["succeeded", "failed", "cancelled"].contains(&st) {
                return job;
            }
            assert!(
                Instant::now() < end,
                "job {job_id} still {st} after {WAIT:?}: {job}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // ------------------------------------------------------------------ Telegram

    /// Posts an update to `/telegram/webhook` with the right secret, performs a Bot API call
    /// returned in the answer (as Telegram does) and returns the status.
    pub async fn post_update(&self, update: &Value) -> u16 {
        self.on(0).post_update(update).await
    }

    /// Posts an update with the given secret header (none: no header).
    pub async fn post_update_with(&self, update: &Value, secret: Option<&str>) -> u16 {
        self.on(0).post_update_with(update, secret).await
    }

    /// Posts an update and asserts 200.
    pub async fn send(&self, update: &Value) {
        self.on(0).send(update).await;
    }

    /// Every sendMessage/editMessageText of chat `chat`, in order.
    pub fn shown(&self, chat: i64) -> Vec<Call> {
        self.tg
            .calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage" || c.method == "editMessageText")
            .filter(|c| c.chat_id() == Some(chat) && c.status == 200)
            .collect()
    }

    /// The texts shown to `chat`, in order.
    pub fn texts(&self, chat: i64) -> Vec<String> {
        self.shown(chat)
            .iter()
            .map(|c| c.param("text").as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// The last message shown to `chat`.
    pub fn last(&self, chat: i64) -> Call {
        self.shown(chat)
            .pop()
            .unwrap_or_else(|| panic!("nothing was shown to {chat}"))
    }

    /// The last text shown to `chat`.
    pub fn last_text(&self, chat: i64) -> String {
        self.last(chat)
            .param("text")
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Waits until a text containing `needle` was shown to `chat` `n` times.
    pub async fn wait_text(&self, chat: i64, needle: &str, n: usize) {
        let end = Instant::now() + WAIT;
        loop {
            let count = self
                .texts(chat)
                .iter()
                .filter(|t| t.contains(needle))
                .count();
            if count >= n {
                return;
            }
            assert!(
                Instant::now() < end,
                "{chat} was not shown {needle:?} ×{n}: {:?}",
                self.texts(chat)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `/start` from `user`, asserting the greeting.
    pub async fn start_user(&self, user: i64) {
        self.on(0).start_user(user).await;
    }

    // ------------------------------------------------------------------ YooKassa

    /// Posts a notification to `/webhooks/yookassa` from 127.0.0.1 (the allowlisted source;
    /// Spin sets `spin-client-addr` from the connection).
    pub async fn notify(&self, body: &Value) -> (u16, Value) {
        self.on(0).notify(body).await
    }

    /// Posts a notification from the loopback address `source` with extra headers.
    pub async fn notify_from(
        &self,
        source: Ipv4Addr,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        self.on(0).notify_from(source, body, headers).await
    }

    // ------------------------------------------------------------------ gpu-host

    /// A real `gpu-host` process on this edge's Redis, api and fake Bot API, and `comfy`.
    pub fn gpu_host(&self, comfy: &FakeComfy) -> GpuHost {
        self.gpu_host_with(comfy, &[])
    }

    /// [`Edge::gpu_host`] with more environment (`extra` wins over the defaults).
    pub fn gpu_host_with(&self, comfy: &FakeComfy, extra: &[(&str, String)]) -> GpuHost {
        self.gpu_host_at(&comfy.url(), extra)
    }

    /// A gpu-host on this edge talking to the ComfyUI at `comfy_url` (the fake or a genuine
    /// server), with more environment (`extra` wins over the defaults).
    pub fn gpu_host_at(&self, comfy_url: &str, extra: &[(&str, String)]) -> GpuHost {
        let mut env = vec![
            ("REDIS_URL", self.redis.url()),
            ("JOBS_STREAM", "jobs".to_owned()),
            ("COMFYUI_URL", comfy_url.to_owned()),
            ("TELEGRAM_API_URL", self.tg.base_url()),
            ("TELEGRAM_BOT_TOKEN", self.secrets.bot_token.clone()),
            ("API_BASE_URL", self.app.base_url.clone()),
            ("GPU_EVENT_SECRET", self.secrets.gpu_event_secret.clone()),
        ];
        env.extend(extra.iter().cloned());
        GpuHost::start(&env)
    }

    // ------------------------------------------------------------------ logs

    /// The JSON objects logged by `component` (lines that are not JSON objects are skipped).
    pub fn log_lines(&self, component: &str) -> Vec<Map<String, Value>> {
        self.app
            .component_log(component)
            .lines()
            .filter_map(|l| match serde_json::from_str::<Value>(l) {
                Ok(Value::Object(m)) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// Asserts that `component` logged a JSON line at `levels` for which `pred` holds.
    pub fn assert_logged(
        &self,
        component: &str,
        levels: &[&str],
        what: &str,
        pred: impl Fn(&Map<String, Value>) -> bool,
    ) {
        let lines = self.log_lines(component);
        let found = lines.iter().any(|m| {
            let level = m.get("level").and_then(Value::as_str).unwrap_or("");
            levels.iter().any(|l| l.eq_ignore_ascii_case(level)) && pred(m)
        });
        if found {
            return;
        }
        let raw = self.app.component_log(component);
        let hint = if lines.is_empty() {
            format!(
                "\n({component} logged no JSON line at all{}: component logging has not landed)",
                if raw.trim().is_empty() {
                    ", its stderr is empty"
                } else {
                    ""
                }
            )
        } else {
            String::new()
        };
        let tail: Vec<&str> = raw.lines().rev().take(40).collect();
        panic!(
            "{what}: no {levels:?} JSON line in {component}_stderr.txt matches{hint}\nlast lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    /// Asserts that no secret appears in the component logs (nor in `extra` logs, e.g. a
    /// gpu-host's): neither whole nor any 8-character piece of it. Pieces made of digits
    /// only are not checked: the bot token starts with the bot's public numeric id.
    pub fn assert_no_secrets_in_logs(&self, extra: &[(&str, String)]) {
        let mut logs: Vec<(String, String)> = self
            .apps()
            .enumerate()
            .map(|(i, app)| (format!("spin component logs of instance {i}"), app.logs()))
            .collect();
        logs.extend(extra.iter().map(|(n, l)| ((*n).to_owned(), l.clone())));
        for (name, secret) in self.secrets.all() {
            let chars: Vec<char> = secret.chars().collect();
            for (which, log) in &logs {
                assert!(!log.contains(secret), "{which} contain the whole {name}");
                for (i, w) in chars.windows(8).enumerate() {
                    if w.iter().all(char::is_ascii_digit) {
                        continue;
                    }
                    let piece: String = w.iter().collect();
                    if let Some(line) = log.lines().find(|l| l.contains(&piece)) {
                        panic!(
                            "{which} contain characters {i}..{} of {name} ({piece:?}); a secret is never logged beyond its first 4 characters:\n{line}",
                            i + 8
                        );
                    }
                }
            }
        }
    }
}

impl<'a> On<'a> {
    /// Creates a 300 ₽ card payment for `user` (registered already) through this instance;
    /// returns (our id, YooKassa's id).
    pub async fn card_payment(self, user: i64) -> (String, String) {
        let (status, created) = self
            .api(
                "POST",
                "/api/payments/",
                Some(json!({"telegram_id": user, "method": "yookassa_card", "package": 300})),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let id = |field: &str| {
            created["payment"][field]
                .as_str()
                .unwrap_or_else(|| panic!("no payment.{field} in {created}"))
                .to_owned()
        };
        (id("id"), id("provider_payment_id"))
    }

    /// `user`'s 300 ₽ payment `ours` was credited exactly once (300 + 10 % bonus on the
    /// 100 signup bonus), is `succeeded`, and the user was told once.
    pub async fn assert_credited_once(self, user: i64, ours: &str) {
        let edge = self.edge;
        assert_eq!(edge.balance(user).await, 430, "credited exactly once");
        assert_eq!(
            edge.ledger_kinds(user).await,
            ["signup_bonus", "topup", "topup_bonus"]
        );
        let (status, row) = self
            .api("GET", &format!("/api/payments/{ours}"), None)
            .await;
        assert_eq!(
            (status, row["status"].as_str()),
            (200, Some("succeeded")),
            "{row}"
        );
        edge.wait_text(user, "Баланс пополнен", 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let told = edge
            .texts(user)
            .iter()
            .filter(|t| t.contains("Баланс пополнен"))
            .count();
        assert_eq!(told, 1, "told once: {:?}", edge.texts(user));
    }

    /// `method path` on the api with the right bearer token and a JSON body.
    pub async fn api(self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("json"));
        self.api_raw(method, path, Some(&self.edge.secrets.api_token), bytes)
            .await
    }

    /// `method path` with `token` (none: no Authorization header) and raw body bytes.
    ///
    /// # Panics
    /// When the instance does not answer.
    pub async fn api_raw(
        self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        self.try_api_raw(method, path, token, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: no answer from spin: {e}"))
    }

    /// Like [`On::api`], but a missing answer (e.g. a killed instance) is an `Err`.
    pub async fn try_api(
        self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("json"));
        self.try_api_raw(method, path, Some(&self.edge.secrets.api_token), bytes)
            .await
    }

    async fn try_api_raw(
        self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.edge.http.request(method, self.app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, value))
    }

    /// Posts an update to `/telegram/webhook` with the right secret, performs a Bot API call
    /// returned in the answer (as Telegram does) and returns the status.
    pub async fn post_update(self, update: &Value) -> u16 {
        let secret = self.edge.secrets.webhook_secret.clone();
        self.post_update_with(update, Some(&secret)).await
    }

    /// Posts an update with the given secret header (none: no header).
    pub async fn post_update_with(self, update: &Value, secret: Option<&str>) -> u16 {
        let mut req = self
            .edge
            .http
            .post(self.app.url("/telegram/webhook"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(update).expect("json"));
        if let Some(s) = secret {
            req = req.header("x-telegram-bot-api-secret-token", s);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("webhook: no answer from spin: {e}"));
        let status = resp.status().as_u16();
        let body = resp.bytes().await.expect("webhook body");
        self.edge.tg.execute_webhook_answer(&body).await;
        status
    }

    /// Posts an update and asserts 200.
    pub async fn send(self, update: &Value) {
        let status = self.post_update(update).await;
        assert_eq!(status, 200, "webhook answered {status} to {update}");
    }

    /// `/start` from `user`, asserting the greeting.
    pub async fn start_user(self, user: i64) {
        self.send(&crate::updates::text(self.edge.update_id(), user, "/start"))
            .await;
        let texts = self.edge.texts(user);
        assert!(
            texts
                .iter()
                .any(|t| t.contains("Привет") || t.contains("С возвращением")),
            "no greeting for {user}: {texts:?}"
        );
    }

    /// Posts a notification to `/webhooks/yookassa` from 127.0.0.1 (the allowlisted source;
    /// Spin sets `spin-client-addr` from the connection).
    pub async fn notify(self, body: &Value) -> (u16, Value) {
        self.notify_from(Ipv4Addr::LOCALHOST, body, &[]).await
    }

    /// Posts a notification from the loopback address `source` with extra headers.
    pub async fn notify_from(
        self,
        source: Ipv4Addr,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let client = reqwest::Client::builder()
            .local_address(IpAddr::V4(source))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        let mut req = client.post(self.app.url("/webhooks/yookassa")).json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("yookassa webhook: no answer from spin: {e}"));
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

/// `callback_data` of every button of a recorded call, rows flattened.
pub fn buttons(call: &Call) -> Vec<String> {
    keyboard(call)
        .iter()
        .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
        .collect()
}

/// Every URL button of a recorded call.
pub fn url_buttons(call: &Call) -> Vec<String> {
    keyboard(call)
        .iter()
        .filter_map(|b| b["url"].as_str().map(str::to_owned))
        .collect()
}

fn keyboard(call: &Call) -> Vec<Value> {
    call.inline_buttons()
}

/// Whether a log line's field `key` is the string or number `id`.
pub fn field_is(m: &Map<String, Value>, key: &str, id: &str) -> bool {
    match m.get(key) {
        Some(Value::String(s)) => s == id,
        Some(Value::Number(n)) => n.to_string() == id,
        _ => false,
    }
}

/// Whether any field of a log line (the message included) mentions `word`.
pub fn mentions(m: &Map<String, Value>, word: &str) -> bool {
    m.values().any(|v| match v {
        Value::String(s) => s.contains(word),
        _ => false,
    })
}
