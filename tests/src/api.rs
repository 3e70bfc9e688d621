//! The `api` component's handler on native adapters: a fresh SQLite connection per request
//! (as Spin opens one), the thread's Redis connection, and the same [`qwen_core::rest::handle`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use qwen_core::http::Request;
use qwen_core::ports::{Clock, HttpResponse};
use qwen_core::rest::{self, Ctx};
use qwen_core::settings::Settings;

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
        }
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
