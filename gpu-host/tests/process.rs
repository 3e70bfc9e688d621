//! The host as a real process: killed mid-job, stopped by SIGTERM mid-job, and two
//! processes sharing one GPU lock.

mod common;

use std::time::{Duration, Instant};

use common::*;
use testkit::fakes::comfyui::FakeComfy;

const WAIT: Duration = Duration::from_secs(40);

async fn wait_run_started(comfy: &FakeComfy, n: usize) {
    let end = Instant::now() + WAIT;
    while comfy.runs().len() < n {
        assert!(Instant::now() < end, "no run started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_exit(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn host_killed_mid_job_another_finishes_it_once() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(3000));
    let mut a = w.spawn_child("host-a");
    w.submit("job-kill", "ru").await;
    wait_run_started(&w.comfy, 1).await;
    a.kill().expect("kill");
    let _ = a.wait();
    let mut b = w.spawn_child("host-b");
    let state = w.api.wait_final("job-kill", WAIT).await;
    assert_eq!(state.status, "succeeded");
    assert_eq!(state.attempt, 2, "the second host took over with attempt 2");
    assert_eq!(state.refunds, 0, "one charge, no refund");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1, "one photo");
    assert_eq!(
        w.comfy.prompts().len(),
        1,
        "the second host waited for the first run instead of paying for another"
    );
    assert_eq!(pending(&w.names).await, 0);
    sigterm(&b);
    let _ = wait_exit(&mut b, Duration::from_secs(15)).await;
    let _ = b.kill();
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn sigterm_mid_job_finishes_it_within_grace() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(1200));
    let mut a = w.spawn_child("host-a");
    w.submit("job-term", "en").await;
    wait_run_started(&w.comfy, 1).await;
    sigterm(&a);
    let status = wait_exit(&mut a, Duration::from_secs(20)).await;
    let _ = a.kill();
    assert!(
        status.is_some_and(|s| s.success()),
        "clean exit after SIGTERM: {status:?}"
    );
    assert_eq!(w.api.job("job-term").await.status, "succeeded");
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    assert_eq!(pending(&w.names).await, 0);
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn two_processes_on_one_lock_never_run_at_once() {
    let w = World::start().await;
    let other = FakeComfy::start().await;
    for c in [&w.comfy, &other] {
        c.set_run_time(Duration::from_millis(300));
    }
    let mut a = w.spawn_child("host-a");
    let mut b = w.spawn_child_with("host-b", &[("COMFYUI_URL", other.url())]);
    let ids: Vec<String> = (0..6).map(|i| format!("job-lock-{i}")).collect();
    for id in &ids {
        w.submit(id, "en").await;
    }
    for id in &ids {
        assert_eq!(w.api.wait_final(id, WAIT).await.status, "succeeded");
    }
    for c in [&a, &b] {
        sigterm(c);
    }
    let _ = (
        wait_exit(&mut a, Duration::from_secs(15)).await,
        wait_exit(&mut b, Duration::from_secs(15)).await,
    );
    let _ = (a.kill(), b.kill());
    let mut runs: Vec<_> = w.comfy.runs().into_iter().chain(other.runs()).collect();
    assert_eq!(runs.len(), ids.len());
    assert!(
        !w.comfy.runs().is_empty() && !other.runs().is_empty(),
        "both hosts worked"
    );
    runs.sort_by_key(|r| r.started);
    for pair in runs.windows(2) {
        assert!(
            pair[0].finished.expect("finished") <= pair[1].started,
            "GPU runs overlapped"
        );
    }
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn metrics_healthz_and_no_token_in_logs() {
    let w = World::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let log = std::env::temp_dir().join(format!(
        "gpu-host-log-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    let file = std::fs::File::create(&log).expect("log file");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-host"));
    cmd.env_clear()
        .envs(w.child_args("host-m"))
        .env("METRICS_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "debug")
        .stderr(file);
    let mut child = cmd.spawn().expect("spawn");
    w.submit("job-metrics", "en").await;
    assert_eq!(
        w.api.wait_final("job-metrics", WAIT).await.status,
        "succeeded"
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let end = Instant::now() + WAIT;
    let text = loop {
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if text.contains("gpu_host_jobs_total{outcome=\"succeeded\"} 1") || Instant::now() > end {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for needle in [
        "gpu_host_jobs_total{outcome=\"succeeded\"} 1",
        "gpu_host_job_duration_seconds_count 1",
        "gpu_host_comfyui_run_seconds_count 1",
        "gpu_host_queue_lag_seconds",
        "gpu_host_comfyui_up 1",
        "gpu_host_gpu_busy_ratio",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    sigterm(&child);
    let _ = wait_exit(&mut child, Duration::from_secs(15)).await;
    let _ = child.kill();
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logs.contains("job-metrics"), "logs carry the job id");
    assert!(
        !logs.contains(w.tg.token()),
        "the bot token never appears in logs"
    );
    let _ = std::fs::remove_file(log);
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn sigterm_past_grace_leaves_the_job_pending_for_another_host() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(3000));
    let mut a = w.spawn_child_with("host-a", &[("SHUTDOWN_GRACE_SECS", "0.3".into())]);
    w.submit("job-grace", "en").await;
    wait_run_started(&w.comfy, 1).await;
    sigterm(&a);
    let status = wait_exit(&mut a, Duration::from_secs(10)).await;
    let _ = a.kill();
    assert!(status.is_some(), "the host stops after its grace period");
    assert_ne!(w.api.job("job-grace").await.status, "succeeded");
    assert_eq!(pending(&w.names).await, 1, "the entry stays pending");
    let mut b = w.spawn_child("host-b");
    let state = w.api.wait_final("job-grace", WAIT).await;
    assert_eq!(state.status, "succeeded");
    assert_eq!(state.attempt, 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    sigterm(&b);
    let _ = wait_exit(&mut b, Duration::from_secs(15)).await;
    let _ = b.kill();
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_stale_host_that_wakes_up_late_sends_no_second_photo() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(2500));
    let mut a = w.spawn_child("host-a");
    w.submit("job-stale", "en").await;
    wait_run_started(&w.comfy, 1).await;
    let pid = a.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status();
    // Host B is another GPU machine: its own ComfyUI and GPU lock.
    let other = FakeComfy::start().await;
    let lock_b = format!("{}.b", w.lock_path.display());
    let mut b = w.spawn_child_with(
        "host-b",
        &[
            ("COMFYUI_URL", other.url()),
            ("GPU_LOCK_PATH", lock_b.clone()),
        ],
    );
    let state = w.api.wait_final("job-stale", WAIT).await;
    assert_eq!(state.status, "succeeded");
    assert_eq!(state.attempt, 2);
    let _ = std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        w.tg.calls_of("sendPhoto").len(),
        1,
        "the woken host was fenced off"
    );
    let refused = w
        .api
        .events("job-stale")
        .iter()
        .filter(|e| e.1 == 1 && e.2 == 409)
        .count();
    assert!(
        refused >= 1,
        "host A's late event was refused: {:?}",
        w.api.events("job-stale")
    );
    for c in [&a, &b] {
        sigterm(c);
    }
    let _ = (
        wait_exit(&mut a, Duration::from_secs(15)).await,
        wait_exit(&mut b, Duration::from_secs(15)).await,
    );
    let _ = (a.kill(), b.kill());
    assert_eq!(pending(&w.names).await, 0);
    let _ = std::fs::remove_file(lock_b);
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_redis_password_never_reaches_the_logs() {
    let w = World::start().await;
    let log = std::env::temp_dir().join(format!(
        "gpu-host-log-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    let file = std::fs::File::create(&log).expect("log file");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-host"))
        .env_clear()
        .envs(w.child_args("host-p"))
        .env("REDIS_URL", "redis://:s3cretpass@127.0.0.1:6379")
        .env("RUST_LOG", "trace")
        .stderr(file)
        .spawn()
        .expect("spawn");
    // This Redis has no password: the host logs its start, fails to authenticate and stops.
    let status = wait_exit(&mut child, Duration::from_secs(30)).await;
    let _ = child.kill();
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(status.is_some(), "the host stops when Redis refuses it");
    assert!(logs.contains("gpu-host starting"), "{logs}");
    assert!(logs.contains("redis://:s3cr…@127.0.0.1:6379"), "{logs}");
    assert!(!logs.contains("s3cretpass"), "the password leaked:\n{logs}");
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_binary_deletes_a_delivered_jobs_files_from_comfyui_dirs() {
    let w = World::start().await;
    let root = tempfile::tempdir().expect("dir");
    let (input, output) = (root.path().join("input"), root.path().join("output"));
    w.comfy.set_dirs(&input, &output);
    let mut child = w.spawn_child_with(
        "host-r",
        &[
            ("COMFY_INPUT_DIR", input.display().to_string()),
            ("COMFY_OUTPUT_DIR", output.display().to_string()),
            ("RETENTION_SECS", "3600".into()),
        ],
    );
    w.submit("job-retained", "en").await;
    let state = w.api.wait_final("job-retained", WAIT).await;
    let empty = |d: &std::path::Path| std::fs::read_dir(d).map_or(0, |r| r.count()) == 0;
    let end = Instant::now() + Duration::from_secs(10);
    while !(empty(&input) && empty(&output.join("qwen_edit"))) && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sigterm(&child);
    let _ = wait_exit(&mut child, Duration::from_secs(15)).await;
    let _ = child.kill();
    assert_eq!(state.status, "succeeded");
    assert_eq!(w.comfy.uploads().len(), 1, "the input was uploaded");
    assert!(empty(&input), "the input is deleted");
    assert!(empty(&output.join("qwen_edit")), "the output is deleted");
    w.cleanup().await;
}
