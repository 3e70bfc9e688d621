//! Test harness: the real webhook handler on real SQLite files, a real Redis stream, the
//! fake Bot API on loopback and a fake clock; plus builders of real Telegram update JSON.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bot::{BotSettings, Ctx};
use botapi::ReqwestHttp;
use qwen_core::jobs::Job;
use qwen_core::payments::PaymentSettings;
use qwen_core::ports::{HttpResponse, KeyValue};
use qwen_core::settings::Settings;
use qwen_http::Request;
use serde_json::Value;
use testkit::clock::FakeClock;
use testkit::fakes::telegram::{Call, FakeTelegram};
use testkit::fakes::yookassa::FakeYooKassa;
use testkit::fixture::test_settings;
use testkit::kv::SqliteKv;
use testkit::queue::RedisQueue;
use testkit::redis_util::{cleanup, unique_prefix};
use testkit::sql::SqliteSql;
use testkit::updates;

/// The webhook secret tests use.
pub const SECRET: &str = "test-webhook-secret_0123";

/// Everything one handler call needs; `Clone + Send` so threads can share it.
#[derive(Clone)]
pub struct Env {
    /// SQLite file.
    pub db: PathBuf,
    /// Key-value SQLite file.
    pub kv: PathBuf,
    /// Core settings.
    pub settings: Settings,
    /// Bot settings.
    pub bot: BotSettings,
    /// Payment settings (pointing at the fake YooKassa and Bot API).
    pub pay: PaymentSettings,
    /// Clock.
    pub clock: Arc<FakeClock>,
}

impl Env {
    /// Runs the webhook handler once with fresh adapters (as Spin opens them per request).
    pub async fn call(&self, req: &Request) -> HttpResponse {
        let queue = RedisQueue::new(&self.settings.redis_url);
        self.call_with(req, &queue, &ReqwestHttp::new()).await
    }

    /// Runs the handler with a long-lived queue and HTTP client (as a warm Spin instance
    /// keeps its Redis connection), and a fresh SQLite connection and store.
    pub async fn call_with(
        &self,
        req: &Request,
        queue: &RedisQueue,
        http: &ReqwestHttp,
    ) -> HttpResponse {
        let sql = SqliteSql::open(&self.db);
        let kv = SqliteKv::new(&self.kv);
        let ctx = Ctx {
            sql: &sql,
            kv: &kv,
            queue,
            http,
            clock: self.clock.as_ref(),
            sleep: &testkit::clock::TokioSleep,
            settings: &self.settings,
            bot: &self.bot,
            pay: &self.pay,
        };
        bot::handle(&ctx, req).await
    }
}

/// A webhook request with `body` and the secret header (when given).
pub fn request(body: Vec<u8>, secret: Option<&str>) -> Request {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(s) = secret {
        headers.push((bot::webhook::SECRET_HEADER.to_owned(), s.to_owned()));
    }
    Request {
        method: "POST".into(),
        path: "/telegram/webhook".into(),
        query: String::new(),
        headers,
        body,
    }
}

/// A bot under test.
pub struct Bot {
    /// Keeps the files alive.
    pub dir: tempfile::TempDir,
    /// Handler environment.
    pub env: Env,
    /// The fake Bot API.
    pub tg: FakeTelegram,
    /// The fake YooKassa.
    pub yk: FakeYooKassa,
    /// Redis prefix.
    pub prefix: String,
    next_update: AtomicI64,
}

impl Bot {
    /// A bot with test settings.
    pub async fn start(name: &str) -> Bot {
        Bot::start_with(name, |_| {}).await
    }

    /// A bot after `tweak` adjusted the core settings.
    pub async fn start_with(name: &str, tweak: impl FnOnce(&mut Settings)) -> Bot {
        Bot::start_in(name, &std::env::temp_dir(), tweak).await
    }

    /// A bot whose SQLite files live under `base` (e.g. a tmpfs, to measure the handler
    /// without the disk's fsync cost).
    pub async fn start_in(name: &str, base: &Path, tweak: impl FnOnce(&mut Settings)) -> Bot {
        let prefix = unique_prefix(name);
        let mut settings = test_settings(&prefix);
        tweak(&mut settings);
        let tg = FakeTelegram::start().await;
        let yk = FakeYooKassa::start().await;
        let pay = testkit::payments::pay_settings(&yk, &tg);
        let dir = tempfile::tempdir_in(base).expect("temp dir");
        let bot = BotSettings {
            bot_token: tg.token().to_owned(),
            webhook_secret: SECRET.into(),
            api_url: tg.base_url(),
            timeout_ms: 5_000,
        };
        let env = Env {
            db: dir.path().join("app.db"),
            kv: dir.path().join("kv.db"),
            settings,
            bot,
            pay,
            clock: Arc::new(FakeClock::new()),
        };
        Bot {
            dir,
            env,
            tg,
            yk,
            prefix,
            next_update: AtomicI64::new(1000),
        }
    }

    /// A fresh update id.
    pub fn id(&self) -> i64 {
        self.next_update.fetch_add(1, Ordering::SeqCst)
    }

    /// Posts an update with the right secret and, as Telegram does, performs the Bot API
    /// call the answer may carry; returns the status.
    pub async fn post(&self, update: &Value) -> u16 {
        self.post_via(&self.env, update).await
    }

    /// Posts an update through another environment (e.g. a broken database), performing the
    /// call its answer may carry.
    pub async fn post_via(&self, env: &Env, update: &Value) -> u16 {
        let resp = env.call(&request(body(update), Some(SECRET))).await;
        if resp.status == 200 {
            self.tg.execute_webhook_answer(&resp.body).await;
        }
        resp.status
    }

    /// The texts of every sendMessage/editMessageText call, in order.
    pub fn texts(&self) -> Vec<String> {
        self.shown()
            .iter()
            .map(|c| c.param("text").as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// Every sendMessage/editMessageText call, in order.
    pub fn shown(&self) -> Vec<Call> {
        self.tg
            .calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage" || c.method == "editMessageText")
            .collect()
    }

    /// The last message shown.
    pub fn last(&self) -> Call {
        self.shown().pop().expect("a message was shown")
    }

    /// The last text shown.
    pub fn last_text(&self) -> String {
        self.last().param("text").as_str().unwrap_or("").to_owned()
    }

    /// The stored dialog state of `chat` as JSON.
    pub async fn state(&self, chat: i64) -> Option<Value> {
        let raw = SqliteKv::new(&self.env.kv)
            .get(&bot::state::key(chat))
            .await
            .expect("kv");
        raw.and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Writes raw bytes as `chat`'s state.
    pub async fn set_raw_state(&self, chat: i64, bytes: &[u8]) {
        SqliteKv::new(&self.env.kv)
            .set(&bot::state::key(chat), bytes)
            .await
            .expect("kv");
    }

    /// The user's balance.
    pub async fn balance(&self, user: i64) -> i64 {
        qwen_core::ledger::balance(
            &SqliteSql::open(&self.env.db),
            qwen_core::contract::UserId(user),
        )
        .await
        .expect("balance")
    }

    /// The user's jobs, newest first.
    pub async fn jobs(&self, user: i64) -> Vec<Job> {
        let sql = SqliteSql::open(&self.env.db);
        qwen_core::jobs::list_for_user(
            &sql,
            qwen_core::contract::UserId(user),
            qwen_core::Page::new(100, 0),
        )
        .await
        .expect("jobs")
        .0
    }

    /// How many jobs the user has.
    pub async fn job_count(&self, user: i64) -> i64 {
        let sql = SqliteSql::open(&self.env.db);
        let stmt = "SELECT COUNT(*) FROM jobs WHERE user_id = ?1";
        let rows = qwen_core::ports::Sql::execute(&sql, stmt, &[user.into()])
            .await
            .expect("count");
        rows.first().map(|r| r.int(0).expect("column")).unwrap_or(0)
    }

    /// The stored user.
    pub async fn user(&self, user: i64) -> Option<qwen_core::users::User> {
        qwen_core::users::get(
            &SqliteSql::open(&self.env.db),
            qwen_core::contract::UserId(user),
        )
        .await
        .ok()
    }

    /// The jobs stream's length.
    pub async fn stream_len(&self) -> usize {
        testkit::redis_util::stream_jobs(&self.env.settings.jobs_stream)
            .await
            .len()
    }

    /// An environment whose database cannot be opened.
    pub fn broken_db(&self) -> Env {
        Env {
            db: self.dir.path().join("missing-dir").join("app.db"),
            ..self.env.clone()
        }
    }

    /// An environment whose key-value store cannot be opened.
    pub fn broken_kv(&self) -> Env {
        Env {
            kv: self.dir.path().join("missing-dir").join("kv.db"),
            ..self.env.clone()
        }
    }

    /// An environment whose Redis refuses connections.
    pub fn broken_redis(&self) -> Env {
        let mut env = self.env.clone();
        env.settings.redis_url = "redis://127.0.0.1:1".into();
        env
    }

    /// Deletes the Redis keys.
    pub async fn cleanup(&self) {
        cleanup(&self.prefix).await;
    }
}

/// JSON bytes.
pub fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

/// `callback_data` of every button of a recorded call, row by row flattened.
pub fn buttons(call: &Call) -> Vec<String> {
    call.inline_buttons()
        .iter()
        .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
        .collect()
}

/// A message update with `fields` merged into the message (its id is the update id).
pub fn message(id: i64, user: i64, lang: &str, fields: Value) -> Value {
    updates::message_in(id, id, user, lang, fields)
}

/// A photo in three sizes; `group` makes it part of an album (its id is the update id).
pub fn photo(id: i64, user: i64, file: &str, group: Option<&str>) -> Value {
    updates::photo(id, id, user, file, group)
}

// Each test binary uses some of them.
#[allow(unused_imports)]
pub use updates::{callback, document, text};

/// Sends `/start` and returns after it was handled.
pub async fn started(bot: &Bot, user: i64) {
    assert_eq!(bot.post(&text(bot.id(), user, "/start")).await, 200);
}

/// Path helper for assertions.
pub fn exists(p: &Path) -> bool {
    p.exists()
}
