//! The Playground: the whole bot on one machine, on 127.0.0.1 only.
//!
//! * the real edge: `spin up` on the project's `spin.toml` (components built when stale),
//! * Redis on `--redis-url` when it answers, else a private `redis-server`,
//! * a Telegram stand-in (the testkit's Bot API fake) with a chat page that plays the users,
//! * a YooKassa stand-in (the testkit's fake) with a checkout page,
//! * a ComfyUI stand-in (the testkit's fake, speaking ComfyUI's recorded protocol) that
//!   really edits the picture with a visible filter, or a real ComfyUI (`--comfyui-url`),
//! * a real `gpu-host` process between Redis, ComfyUI and the Telegram stand-in,
//! * the edge's operator console at `/console/`, with an operator whose password is made
//!   for the run ([`Playground::console`]).
//!
//! [`Playground::start`] brings everything up; [`Playground::shutdown`] stops what it started.

pub mod chat;
pub mod editor;
pub mod operator;
pub mod services;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

pub use services::Options;

/// A running playground.
pub struct Playground {
    /// The chat page, `http://127.0.0.1:<port>/`.
    pub url: String,
    stack: services::Stack,
    server: tokio::task::JoinHandle<()>,
    hub: Arc<chat::Hub>,
}

impl Playground {
    /// Starts every piece; the error says which one failed and how to fix it.
    pub async fn start(opts: &Options) -> Result<Playground, String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", opts.port))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?;
        let url = format!("http://{addr}/");
        let (stack, hub) = services::start(opts, &url).await?;
        let hub = Arc::new(hub);
        let server = tokio::spawn(web::serve(listener, hub.clone()));
        Ok(Playground {
            url,
            stack,
            server,
            hub,
        })
    }

    /// The edge's base URL (`spin up`).
    pub fn edge_url(&self) -> &str {
        &self.hub.edge_url
    }

    /// The operator console and how to sign in to it.
    pub fn console(&self) -> &chat::ConsoleLink {
        &self.hub.console
    }

    /// Stops the gpu-host (letting it finish within a few seconds), `spin up` with the
    /// processes it started, the private Redis (if any) and the stand-ins.
    pub fn shutdown(mut self) {
        tracing::info!("stopping the playground");
        if let Some(gpu) = self.stack.gpu.as_mut() {
            gpu.stop(Duration::from_secs(5));
        }
        self.stack.spin.kill();
        if let Some(redis) = self.stack.redis.as_mut() {
            redis.stop();
        }
        if let Some(dir) = &self.stack.comfy_files {
            let _ = std::fs::remove_dir_all(dir);
        }
        self.server.abort();
    }
}
