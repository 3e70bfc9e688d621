//! The soak run, small: 60 jobs through the real Spin edge, a real gpu-host killed twice
//! with SIGKILL on the way, and the ComfyUI fake keeping real files, then the figures the
//! long run reports (`cargo bench -p testkit --bench soak`), checked: every job final, the
//! ledger exact, nothing left in the stream, in Redis or on the GPU host's disk, one host row.

use std::time::Duration;

use testkit::soak::{self, SoakConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_jobs_with_two_host_kills_leave_nothing_behind() {
    let Some(spin) =
        testkit::spin::spin_for_test("sixty_jobs_with_two_host_kills_leave_nothing_behind")
    else {
        return;
    };
    let mut cfg = SoakConfig::new(60);
    cfg.rate = 20.0;
    cfg.kills = 2;
    cfg.drain_timeout = Duration::from_secs(120);
    let f = soak::run(&spin, &cfg).await;
    f.print("soak");
    assert_eq!(f.jobs, 60);
    assert!(
        (f.final_ratio - 1.0).abs() < f64::EPSILON,
        "every job final: {f:?}"
    );
    assert_eq!(f.ledger_mismatch, 0, "{f:?}");
    assert!(
        f.succeeded >= 55,
        "nearly all delivered despite the kills: {f:?}"
    );
    assert!(
        f.stream_len_after <= 5,
        "acknowledged entries are trimmed: {f:?}"
    );
    assert!(
        f.redis_keys <= 2,
        "no key per job stays (the stream, a dead letter at most): {f:?}"
    );
    // At this N the growth is the fixed part (client buffers, cached scripts, one stream
    // node); the per-job figure is the soak bench's, at thousands of jobs.
    assert!(
        f.redis_bytes_per_job * (f.jobs as f64) < 1_000_000.0,
        "Redis grew by less than 1 MB: {f:?}"
    );
    assert_eq!(f.comfy_files_left, 0, "retention 0: no photo stays: {f:?}");
    assert_eq!(f.hosts_rows, 1, "{f:?}");
}
