//! A ready-to-use `api` under test: a fresh SQLite file, an isolated Redis stream, a fake
//! clock, the loopback server and a small JSON client.

use std::sync::Arc;

use qwen_core::contract::{JobEvent, JobEventKind};
use qwen_core::ports::Clock;
use qwen_core::settings::Settings;
use qwen_core::signing;
use serde_json::{Value, json};

use crate::api::ApiApp;
use crate::clock::FakeClock;
use crate::redis_util::{cleanup, redis_url, unique_prefix};
use crate::server::TestServer;

/// The bearer token fixtures use.
pub const API_TOKEN: &str = "test-api-token-0123456789";
/// The event secret fixtures use.
pub const EVENT_SECRET: &str = "test-event-secret-0123456789";

/// Posts `body` to `base` + `path` signed like a gpu-host's call (with [`EVENT_SECRET`] at
/// `ts`, Unix seconds); returns status and JSON.
pub async fn signed_post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    body: &[u8],
    ts: i64,
) -> (u16, Value) {
    let sig = signing::sign(EVENT_SECRET.as_bytes(), ts, "POST", path, body);
    let req = client
        .post(format!("{base}{path}"))
        .header(signing::TIMESTAMP_HEADER, ts.to_string())
        .header(signing::SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(body.to_vec());
    send(req).await
}

/// A running `api` with its own database and stream.
pub struct ApiFixture {
    /// Keeps the database directory alive.
    pub dir: tempfile::TempDir,
    /// The app (database path, settings, clock).
    pub app: ApiApp,
    /// The settable clock the app uses.
    pub clock: Arc<FakeClock>,
    /// The loopback server.
    pub server: TestServer,
    /// Redis key prefix of this fixture (the stream is `{prefix}:jobs`).
    pub prefix: String,
    /// HTTP client.
    pub client: reqwest::Client,
}

/// Settings for tests: known secrets, an isolated stream.
pub fn test_settings(prefix: &str) -> Settings {
    Settings {
        api_token: API_TOKEN.into(),
        gpu_event_secret: EVENT_SECRET.into(),
        redis_url: redis_url(),
        jobs_stream: format!("{prefix}:jobs"),
        // Tests of other rules make many jobs per user with no host to finish them; the
        // per-user cap is tested on its own (tests/tests/api_retention.rs).
        max_queued_per_user: 0,
        ..Settings::default()
    }
}

impl ApiFixture {
    /// Starts an `api` named `name` with default test settings.
    pub async fn start(name: &str) -> ApiFixture {
        Self::start_with(name, |_| {}).await
    }

    /// Starts an `api` after `tweak` adjusted its settings.
    ///
    /// # Panics
    /// When the temp dir or the server cannot be created (test setup).
    pub async fn start_with(name: &str, tweak: impl FnOnce(&mut Settings)) -> ApiFixture {
        Self::start_in(name, &std::env::temp_dir(), tweak).await
    }

    /// Starts an `api` whose database lives in a new directory under `parent` (e.g. a tmpfs).
    ///
    /// # Panics
    /// When the temp dir or the server cannot be created (test setup).
    pub async fn start_in(
        name: &str,
        parent: &std::path::Path,
        tweak: impl FnOnce(&mut Settings),
    ) -> ApiFixture {
        let prefix = unique_prefix(name);
        let mut settings = test_settings(&prefix);
        tweak(&mut settings);
        let dir = tempfile::tempdir_in(parent).expect("temp dir");
        let clock = Arc::new(FakeClock::new());
        let app = ApiApp::new(&dir.path().join("app.db"), settings, clock.clone());
        let server = app.serve().expect("server starts");
        ApiFixture {
            dir,
            app,
            clock,
            server,
            prefix,
            client: reqwest::Client::new(),
        }
    }

    /// The jobs stream name.
    pub fn stream(&self) -> String {
        self.app.settings.jobs_stream.clone()
    }

    /// Sends a request with the bearer token; returns status and JSON (Null when not JSON).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.server.url());
        let mut req = self
            .client
            .request(method.parse().unwrap_or(reqwest::Method::GET), url)
            .bearer_auth(API_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    /// Registers a user and returns the profile JSON.
    pub async fn register(&self, telegram_id: i64) -> Value {
        let (status, body) = self
            .call("POST", "/api/users/", Some(json!({"telegram_id": telegram_id, "first_name": "Test", "language_code": "ru"})))
            .await;
        assert!(
            status == 201 || status == 200,
            "register failed: {status} {body}"
        );
        body
    }

    /// Creates a job with a preset for the user; returns status and JSON.
    pub async fn create_job(&self, telegram_id: i64, preset: &str) -> (u16, Value) {
        self.call("POST", "/api/jobs/", Some(json!({"telegram_id": telegram_id, "preset_id": preset, "file_ids": ["AgACAgIAAxkBAAI"]})))
            .await
    }

    /// Posts a signed raw body to an internal route, signed at the fixture clock's time.
    pub async fn signed(&self, path: &str, body: &[u8]) -> (u16, Value) {
        let ts = self.clock.now_ms() / 1000;
        signed_post(&self.client, &self.server.url(), path, body, ts).await
    }

    /// Sends a signed job event.
    pub async fn event(
        &self,
        job_id: &str,
        attempt: u32,
        host: &str,
        kind: JobEventKind,
    ) -> (u16, Value) {
        let ev = JobEvent {
            v: 1,
            attempt,
            host: host.into(),
            at: self.clock.now_ms(),
            kind,
        };
        let body = serde_json::to_vec(&ev).unwrap_or_default();
        self.signed(&format!("/internal/jobs/{job_id}/events"), &body)
            .await
    }

    /// The user's balance via the API.
    pub async fn balance(&self, telegram_id: i64) -> i64 {
        let (_, body) = self
            .call("GET", &format!("/api/balance/{telegram_id}"), None)
            .await;
        body["balance"].as_i64().unwrap_or(i64::MIN)
    }

    /// Deletes this fixture's Redis keys.
    pub async fn cleanup(&self) {
        cleanup(&self.prefix).await;
    }
}

/// Sends a request; returns status and JSON body (Null when empty or not JSON).
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.unwrap_or_default();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        }
        Err(e) => (0, json!({ "transport_error": e.to_string() })),
    }
}
