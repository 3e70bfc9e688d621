//! The payment handlers on native adapters: the `api` component's routes with payments
//! enabled ([`qwen_http::handle_with_payments`]) and the `payments` component's
//! webhook ([`qwen_http::yookassa::handle`]) on one loopback server (and the operator
//! console under `/console`, with refunds), plus a fixture
//! with a fake YooKassa and a fake Bot API, and the ledger/payments invariant check.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use qwen_core::payments::{Deps, PaymentSettings};
use qwen_core::ports::{Clock, HttpClient, HttpError, HttpRequest, HttpResponse};
use qwen_core::settings::Settings;
use qwen_http::Providers;
use qwen_http::Request;
use qwen_http::yookassa as webhook;
use qwen_http::{self as rest, Ctx};
use serde_json::{Value, json};

use crate::clock::FakeClock;
use crate::fakes::telegram::FakeTelegram;
use crate::fakes::yookassa::{FakeYooKassa, SECRET_KEY, SHOP_ID};
use crate::fixture::{API_TOKEN, send, test_settings};
use crate::queue::RedisQueue;
use crate::redis_util::{cleanup, unique_prefix};
use crate::server::{Handler, HandlerFactory, TestServer};
use crate::sql::SqliteSql;

/// The webhook route of the `payments` component.
pub const WEBHOOK_PATH: &str = "/webhooks/yookassa";

/// Outbound HTTP on reqwest (one client per connection thread).
pub struct ReqwestHttp(reqwest::Client);

impl ReqwestHttp {
    /// A client without a global timeout (each request carries its own).
    pub fn new() -> ReqwestHttp {
        ReqwestHttp(reqwest::Client::new())
    }
}

impl Default for ReqwestHttp {
    fn default() -> Self {
        ReqwestHttp::new()
    }
}

#[async_trait(?Send)]
impl HttpClient for ReqwestHttp {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| HttpError::Other(e.to_string()))?;
        let mut b = self.0.request(method, &req.url).body(req.body);
        for (k, v) in &req.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        if req.timeout_ms > 0 {
            b = b.timeout(Duration::from_millis(req.timeout_ms));
        }
        let resp = b.send().await.map_err(|e| {
            if e.is_timeout() {
                HttpError::Timeout
            } else if e.is_connect() {
                HttpError::Connect(e.to_string())
            } else {
                HttpError::Other(e.to_string())
            }
        })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.bytes().await.map_err(|e| {
            if e.is_timeout() {
                HttpError::Timeout
            } else {
                HttpError::Other(e.to_string())
            }
        })?;
        Ok(HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}

/// Everything the payment handlers need.
#[derive(Clone)]
pub struct PaymentsApp {
    /// The SQLite file.
    pub db: PathBuf,
    /// Core configuration.
    pub settings: Settings,
    /// Payment configuration.
    pub pay: PaymentSettings,
    /// The clock.
    pub clock: Arc<dyn Clock + Send + Sync>,
    /// The operator console's configuration (off by default).
    pub console: Arc<console::ConsoleSettings>,
}

struct PayHandler {
    app: PaymentsApp,
    queue: RedisQueue,
    http: ReqwestHttp,
}

#[async_trait(?Send)]
impl Handler for PayHandler {
    async fn call(&self, req: Request) -> HttpResponse {
        let sql = SqliteSql::open(&self.app.db);
        if req.path == WEBHOOK_PATH {
            let deps = Deps {
                sql: &sql,
                http: &self.http,
                clock: self.app.clock.as_ref(),
                settings: &self.app.settings,
                pay: &self.app.pay,
            };
            return webhook::handle(&deps, &req).await;
        }
        let ctx = Ctx {
            sql: &sql,
            queue: &self.queue,
            clock: self.app.clock.as_ref(),
            settings: &self.app.settings,
        };
        let providers = Providers {
            http: &self.http,
            pay: &self.app.pay,
        };
        if console::is_console_path(&req.path) {
            let console = &self.app.console;
            return crate::api::console_call(&ctx, Some(&providers), console, &req).await;
        }
        rest::handle_with_payments(&ctx, Some(&providers), &req).await
    }
}

impl PaymentsApp {
    /// Serves the app on loopback.
    ///
    /// # Errors
    /// The bind error.
    pub fn serve(&self) -> std::io::Result<TestServer> {
        let app = self.clone();
        let factory: HandlerFactory = Arc::new(move || {
            Box::new(PayHandler {
                queue: RedisQueue::new(&app.settings.redis_url),
                app: app.clone(),
                http: ReqwestHttp::new(),
            })
        });
        TestServer::start(factory, self.settings.max_body_bytes)
    }
}

/// Payment settings pointing at the fakes.
pub fn pay_settings(yk: &FakeYooKassa, tg: &FakeTelegram) -> PaymentSettings {
    PaymentSettings {
        shop_id: SHOP_ID.into(),
        secret_key: SECRET_KEY.into(),
        api_url: yk.base_url(),
        return_url: "https://t.me/qwen_edit_bot".into(),
        timeout_ms: 2_000,
        bot_token: tg.token().into(),
        telegram_api_url: tg.base_url(),
        telegram_timeout_ms: 2_000,
        ..PaymentSettings::default()
    }
}

/// A running app with its own database, a fake YooKassa and a fake Bot API.
pub struct PayFixture {
    /// Keeps the database directory alive.
    pub dir: tempfile::TempDir,
    /// The app.
    pub app: PaymentsApp,
    /// The loopback server (API and webhook).
    pub server: TestServer,
    /// Fake YooKassa.
    pub yk: FakeYooKassa,
    /// Fake Bot API.
    pub tg: FakeTelegram,
    /// Redis key prefix.
    pub prefix: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The settable clock the app uses.
    pub clock: Arc<FakeClock>,
}

impl PayFixture {
    /// Starts a fixture named `name`; `tweak` may adjust the payment settings.
    ///
    /// # Panics
    /// When the temp dir or the server cannot be created (test setup).
    pub async fn start(name: &str, tweak: impl FnOnce(&mut PaymentSettings)) -> PayFixture {
        PayFixture::start_with_console(name, tweak, console::ConsoleSettings::default()).await
    }

    /// [`PayFixture::start`] with the operator console configured.
    ///
    /// # Panics
    /// When the temp dir or the server cannot be created (test setup).
    pub async fn start_with_console(
        name: &str,
        tweak: impl FnOnce(&mut PaymentSettings),
        console: console::ConsoleSettings,
    ) -> PayFixture {
        let prefix = unique_prefix(name);
        let (yk, tg) = (FakeYooKassa::start().await, FakeTelegram::start().await);
        let mut pay = pay_settings(&yk, &tg);
        tweak(&mut pay);
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(FakeClock::new());
        let app = PaymentsApp {
            db: dir.path().join("app.db"),
            settings: test_settings(&prefix),
            pay,
            clock: clock.clone(),
            console: Arc::new(console),
        };
        let server = app.serve().expect("server starts");
        PayFixture {
            dir,
            app,
            server,
            yk,
            tg,
            prefix,
            client: reqwest::Client::new(),
            clock,
        }
    }

    /// The webhook URL.
    pub fn webhook_url(&self) -> String {
        format!("{}{WEBHOOK_PATH}", self.server.url())
    }

    /// Sends an API request with the bearer token; returns status and JSON.
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

    /// Registers a user (signup bonus 100 by default).
    ///
    /// # Panics
    /// When registration fails.
    pub async fn register(&self, telegram_id: i64) {
        let (status, body) = self
            .call(
                "POST",
                "/api/users/",
                Some(
                    json!({"telegram_id": telegram_id, "first_name": "Pay", "language_code": "ru"}),
                ),
            )
            .await;
        assert!(
            status == 201 || status == 200,
            "register failed: {status} {body}"
        );
    }

    /// Creates a payment; returns status and JSON.
    pub async fn create(&self, telegram_id: i64, method: &str, package: i64) -> (u16, Value) {
        self.call(
            "POST",
            "/api/payments/",
            Some(json!({"telegram_id": telegram_id, "method": method, "package": package})),
        )
        .await
    }

    /// The user's balance.
    pub async fn balance(&self, telegram_id: i64) -> i64 {
        let (_, body) = self
            .call("GET", &format!("/api/balance/{telegram_id}"), None)
            .await;
        body["balance"].as_i64().unwrap_or(i64::MIN)
    }

    /// Our payment row.
    pub async fn payment(&self, id: &str) -> Value {
        self.call("GET", &format!("/api/payments/{id}"), None)
            .await
            .1
    }

    /// Deletes this fixture's Redis keys.
    pub async fn cleanup(&self) {
        cleanup(&self.prefix).await;
    }
}

/// Checks that the ledger agrees with the payments table and balances with the ledger.
///
/// # Errors
/// A description of the first disagreement.
pub fn check_invariants(db: &Path) -> Result<(), String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    let mut stmt = conn
        .prepare(
            "SELECT p.id, p.status, p.credits, p.bonus, p.refunded, p.shortfall, \
             COALESCE((SELECT SUM(amount) FROM ledger WHERE kind = 'topup' AND reference = p.id), 0), \
             COALESCE((SELECT SUM(amount) FROM ledger WHERE kind = 'topup_bonus' AND reference = p.id), 0), \
             COALESCE((SELECT SUM(amount) FROM ledger WHERE kind = 'topup_refund' \
             AND (reference = p.id OR reference LIKE p.id || ':%')), 0), p.credited_at IS NOT NULL FROM payments p",
        )
        .map_err(|e| e.to_string())?;
    let rows: Vec<(String, String, [i64; 8])> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                [
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ],
            ))
        })
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for (
        id,
        status,
        [
            credits,
            bonus,
            refunded,
            shortfall,
            topup,
            got_bonus,
            taken,
            was_credited,
        ],
    ) in rows
    {
        let credited = matches!(status.as_str(), "succeeded" | "refunding")
            || (status == "refunded" && was_credited == 1);
        let want = if credited { (credits, bonus) } else { (0, 0) };
        if (topup, got_bonus) != want {
            return Err(format!(
                "payment {id} ({status}): ledger has {topup}+{got_bonus}, expected {want:?}"
            ));
        }
        let whole = if credited { credits + bonus } else { 0 };
        if taken != -refunded
            || refunded + shortfall > whole
            || (status == "refunded" && refunded + shortfall != whole)
        {
            return Err(format!(
                "payment {id} ({status}): refund {taken}, refunded {refunded}, shortfall {shortfall}"
            ));
        }
    }
    let bad: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM balances b WHERE b.balance < 0 OR b.balance != (SELECT COALESCE(SUM(amount), 0) FROM ledger l WHERE l.user_id = b.user_id)",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if bad > 0 {
        return Err(format!("{bad} balances disagree with the ledger"));
    }
    Ok(())
}
