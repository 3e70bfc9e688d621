//! The `api` component's handler on native adapters: a fresh SQLite connection per request
//! (as Spin opens one), the thread's Redis connection, and the same [`qwen_http::handle`]
//! — and, under `/console`, the operator console ([`console::handle`]) as the `api`
//! component serves it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use console::ConsoleSettings;
use qwen_core::ports::{Clock, HttpResponse};
use qwen_core::settings::Settings;
use qwen_http::Providers;
use qwen_http::Request;
use qwen_http::{self as rest, Ctx};

use crate::queue::RedisQueue;
use crate::server::{Handler, HandlerFactory, TestServer};
use crate::sql::SqliteSql;

/// Everything an `api` instance needs.
#[derive(Clone)]
pub struct ApiApp {
    /// The SQLite file.
    pub db: PathBuf,
    /// Configuration.
    pub settings: Settings,
    /// The clock.
    pub clock: Arc<dyn Clock + Send + Sync>,
    /// The operator console's configuration (off by default).
    pub console: Arc<ConsoleSettings>,
}

/// Answers a `/console` request on `ctx`.
pub async fn console_call(
    ctx: &Ctx<'_>,
    providers: Option<&Providers<'_>>,
    settings: &ConsoleSettings,
    req: &Request,
) -> HttpResponse {
    let env = console::Env {
        ctx,
        providers,
        settings,
    };
    console::handle(&env, req).await
}

struct ApiHandler {
    app: ApiApp,
    queue: RedisQueue,
}

#[async_trait(?Send)]
impl Handler for ApiHandler {
    async fn call(&self, req: Request) -> HttpResponse {
        let sql = SqliteSql::open(&self.app.db);
        let ctx = Ctx {
            sql: &sql,
            queue: &self.queue,
            clock: self.app.clock.as_ref(),
            settings: &self.app.settings,
        };
        if console::is_console_path(&req.path) {
            return console_call(&ctx, None, &self.app.console, &req).await;
        }
        rest::handle(&ctx, &req).await
    }
}

impl ApiApp {
    /// An app on `db` with `settings` and `clock`.
    pub fn new(db: &Path, settings: Settings, clock: Arc<dyn Clock + Send + Sync>) -> ApiApp {
        ApiApp {
            db: db.to_owned(),
            settings,
            clock,
            console: Arc::new(ConsoleSettings::default()),
        }
    }

    /// The same app with the operator console configured.
    pub fn with_console(mut self, console: ConsoleSettings) -> ApiApp {
        self.console = Arc::new(console);
        self
    }

    /// Serves the app on loopback.
    ///
    /// # Errors
    /// The bind error.
    pub fn serve(&self) -> std::io::Result<TestServer> {
        let app = self.clone();
        let factory: HandlerFactory = Arc::new(move || {
            Box::new(ApiHandler {
                queue: RedisQueue::new(&app.settings.redis_url),
                app: app.clone(),
            })
        });
        TestServer::start(factory, self.settings.max_body_bytes)
    }

    /// Runs one request in-process (no HTTP), on the caller's runtime.
    pub async fn call(&self, req: Request) -> HttpResponse {
        ApiHandler {
            queue: RedisQueue::new(&self.settings.redis_url),
            app: self.clone(),
        }
        .call(req)
        .await
    }
}
