//! Benchmark: the soak run (see `testkit::soak`): `SOAK_JOBS` jobs (default 2,000) through the
//! real Spin edge, the real gpu-host and the ComfyUI fake at `SOAK_RATE` jobs a second
//! (default 25), the host killed with SIGKILL `SOAK_KILLS` times (default 3) on the way.
//! Prints `bench: soak_*` lines: every job final, the ledger exact, the stream's length and
//! Redis memory per job after the drain, photos left on the GPU host, host rows. Without the
//! Spin CLI it says why and prints no figures.
//!
//! With `COMFYUI_DIR` naming a genuine ComfyUI 0.33 installed by its install script
//! (`comfyui/` and `venv/`), the same soak runs once more against that server on CPU (the
//! model-free workflow; `SOAK_GENUINE_JOBS` jobs, default 200, at `SOAK_GENUINE_RATE`, default
//! 2 a second) and prints the figures as `soak_genuine_*`.

use testkit::bench::group_async;
use testkit::soak::{self, Comfy, SoakConfig};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let Some(spin) = testkit::spin::spin_or_skip("the soak bench") else {
        return;
    };
    testkit::spin::build_components();
    let mut cfg = SoakConfig::new(env_or("SOAK_JOBS", 2_000));
    cfg.rate = env_or("SOAK_RATE", cfg.rate);
    cfg.kills = env_or("SOAK_KILLS", cfg.kills);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let Ok(runtime) = runtime else {
        eprintln!("soak: no tokio runtime");
        return;
    };
    runtime.block_on(async {
        if let Some(figures) = group_async("soak", soak::run(&spin, &cfg)).await {
            figures.print("soak");
        }
        let Some(dir) = std::env::var_os("COMFYUI_DIR").filter(|d| !d.is_empty()) else {
            println!("soak on the genuine ComfyUI skipped: COMFYUI_DIR is not set");
            return;
        };
        let mut real = SoakConfig::new(env_or("SOAK_GENUINE_JOBS", 200));
        real.rate = env_or("SOAK_GENUINE_RATE", 2.0);
        real.kills = 2;
        real.drain_timeout = std::time::Duration::from_secs(600);
        let genuine = Comfy::Genuine(dir.into());
        let run = soak::run_with(&spin, &real, &genuine);
        if let Some(figures) = group_async("soak_genuine", run).await {
            figures.print("soak_genuine");
        }
    });
}
