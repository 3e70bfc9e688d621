//! Ctrl-C (SIGINT) stops everything the playground started: `spin up` (and its `spin
//! trigger` child), the private `redis-server`, the gpu-host. Skips without Spin unless `CI`.

mod common;

use std::time::{Duration, Instant};

use common::{PlaygroundProcess, alive, descendants};

#[test]
fn sigint_stops_spin_redis_and_gpu_host() {
    if testkit::spin::spin_or_skip("the playground shutdown test").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("playground-sigint-{}", std::process::id()));
    // Nothing answers on port 1: the playground starts its own redis-server.
    let mut pg = PlaygroundProcess::start(&["--redis-url", "redis://127.0.0.1:1"], &dir);
    let started = descendants(pg.child.id());
    let names: Vec<&str> = started.iter().map(|(_, n)| n.as_str()).collect();
    for wanted in ["spin", "redis-server", "gpu-host"] {
        assert!(
            names.contains(&wanted),
            "{wanted} runs below the playground: {names:?}"
        );
    }
    let status = pg.interrupt(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "exits cleanly on SIGINT: {status:?}\n{}",
        pg.log()
    );
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let stray: Vec<&(u32, String)> = started.iter().filter(|(p, _)| alive(*p)).collect();
        if stray.is_empty() {
            break;
        }
        assert!(
            Instant::now() < end,
            "stray processes after SIGINT: {stray:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
