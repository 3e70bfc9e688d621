//! `cargo run -p playground`: brings the whole bot up on 127.0.0.1 and stops everything it
//! started on Ctrl-C (SIGINT) or SIGTERM.

use clap::Parser;
use playground::{Options, Playground};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let opts = Options::parse();
    // A signal during the start drops what was started so far (each piece stops on drop).
    let started = tokio::select! {
        r = Playground::start(&opts) => r,
        _ = stopped() => return std::process::ExitCode::SUCCESS,
    };
    let pg = match started {
        Ok(pg) => pg,
        Err(e) => {
            eprintln!("the playground could not start:\n{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("Playground ready: {}  (edge: {})", pg.url, pg.edge_url());
    let console = pg.console();
    let (url, name, password) = (&console.url, &console.access.name, &console.access.password);
    println!("Operator console: {url}  (name: {name}  password: {password})");
    tracing::info!(
        url,
        name,
        password,
        "operator console: sign in with this name and password"
    );
    println!("Press Ctrl-C to stop everything it started.");
    stopped().await;
    pg.shutdown();
    std::process::ExitCode::SUCCESS
}

/// Waits for SIGINT or SIGTERM.
async fn stopped() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
