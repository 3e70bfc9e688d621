//! The fleet: gpu-host reports (signed), stale hosts, `/api/fleet`, and the wait quote on
//! `GET /api/jobs/{id}` — with a settable clock and synthetic reports from 0, 1 and 3 hosts
//! over an empty and a long queue.

use qwen_core::contract::{HostHeartbeat, JobId};
use qwen_core::fleet::STALE_AFTER_MS;
use qwen_core::ports::Clock;
use serde_json::{Value, json};
use testkit::fixture::{ApiFixture, send};

fn report(host: &str, mean_ms: Option<u64>, comfy_up: bool, at: i64) -> HostHeartbeat {
    HostHeartbeat {
        v: 1,
        host: host.into(),
        version: "0.1.0".into(),
        workflow: "qwen_edit_2511".into(),
        comfy_up,
        current_job: Some(JobId::from("j-now")),
        jobs_done: 12,
        run_ms_mean: mean_ms,
        run_ms_p90: mean_ms.map(|m| m + m / 4),
        busy_ratio: 0.75,
        at,
    }
}

async fn beat(f: &ApiFixture, hb: &HostHeartbeat) -> (u16, Value) {
    let body = serde_json::to_vec(hb).expect("json");
    f.signed("/internal/hosts/heartbeat", &body).await
}

async fn fleet(f: &ApiFixture) -> Value {
    let (status, body) = f.call("GET", "/api/fleet", None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn jobs(f: &ApiFixture, user: i64, n: usize) -> Vec<String> {
    f.register(user).await;
    let mut ids = Vec::new();
    for _ in 0..n {
        let (status, body) = f.create_job(user, "anime").await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["job_id"].as_str().expect("job id").to_owned());
    }
    ids
}

async fn wait_of(f: &ApiFixture, id: &str) -> Value {
    let (status, job) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(status, 200, "{job}");
    job["wait"].clone()
}

#[tokio::test]
async fn no_host_pauses_the_queue() {
    let f = ApiFixture::start("fleet_empty").await;
    let view = fleet(&f).await;
    assert_eq!(view["hosts"], json!([]));
    assert_eq!(view["queue"]["queued"], 0);
    assert_eq!(view["queue"]["oldest_queued_age_ms"], Value::Null);
    assert_eq!(view["wait_for_new_job"], json!({"state": "paused"}));
    let ids = jobs(&f, 8101, 2).await;
    assert_eq!(wait_of(&f, &ids[1]).await, json!({"state": "paused"}));
    f.cleanup().await;
}

#[tokio::test]
async fn one_host_quotes_the_queue_and_goes_stale() {
    let f = ApiFixture::start("fleet_one").await;
    let now = f.clock.now_ms();
    assert_eq!(
        beat(&f, &report("gpu-a", Some(20_000), true, now)).await.0,
        200
    );
    let ids = jobs(&f, 8102, 3).await;
    // Two ahead of the third, and itself, at one job per 20 s.
    assert_eq!(
        wait_of(&f, &ids[2]).await,
        json!({"state": "about", "seconds": 60})
    );
    assert_eq!(
        wait_of(&f, &ids[0]).await,
        json!({"state": "about", "seconds": 20})
    );
    f.clock.advance(5_000);
    let view = fleet(&f).await;
    let host = &view["hosts"][0];
    assert_eq!(
        (host["host"].as_str(), host["stale"].as_bool()),
        (Some("gpu-a"), Some(false))
    );
    assert_eq!(host["current_job"], "j-now");
    assert_eq!(host["age_ms"], 5_000);
    assert_eq!(view["queue"]["queued"], 3);
    assert_eq!(view["queue"]["oldest_queued_age_ms"], 5_000);
    assert_eq!(
        view["wait_for_new_job"],
        json!({"state": "about", "seconds": 80})
    );
    // Three beats missed: stale, so no capacity and no number.
    f.clock.advance(STALE_AFTER_MS);
    let view = fleet(&f).await;
    assert_eq!(view["hosts"][0]["stale"], true);
    assert_eq!(wait_of(&f, &ids[2]).await, json!({"state": "paused"}));
    f.cleanup().await;
}

#[tokio::test]
async fn three_hosts_share_a_long_queue_and_a_down_comfyui_does_not_count() {
    let f = ApiFixture::start_with("fleet_three", |s| s.initial_balance = 1_000).await;
    let now = f.clock.now_ms();
    for (name, up) in [
        ("gpu-a", true),
        ("gpu-b", true),
        ("gpu-c", true),
        ("gpu-d", false),
    ] {
        assert_eq!(beat(&f, &report(name, Some(30_000), up, now)).await.0, 200);
    }
    let ids = jobs(&f, 8103, 20).await;
    // The 20th has 19 ahead: 20 jobs at 3 per 30 s.
    assert_eq!(
        wait_of(&f, &ids[19]).await,
        json!({"state": "about", "seconds": 200})
    );
    let view = fleet(&f).await;
    assert_eq!(view["hosts"].as_array().map(Vec::len), Some(4));
    assert_eq!(view["queue"]["queued"], 20);
    // A report replaces the host's previous one.
    assert_eq!(
        beat(&f, &report("gpu-a", Some(10_000), true, now)).await.0,
        200
    );
    let view = fleet(&f).await;
    assert_eq!(view["hosts"].as_array().map(Vec::len), Some(4));
    assert_eq!(view["hosts"][0]["run_ms_mean"], 10_000);
    // A cancelled job waits for nothing.
    let (status, _) = f
        .call("POST", &format!("/api/jobs/{}/cancel", ids[19]), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(wait_of(&f, &ids[19]).await, Value::Null);
    f.cleanup().await;
}

#[tokio::test]
async fn bad_reports_are_refused_and_change_nothing() {
    let f = ApiFixture::start("fleet_bad").await;
    let now = f.clock.now_ms();
    let mut hb = report("gpu-a", None, true, now);
    hb.busy_ratio = 1.5;
    assert_eq!(beat(&f, &hb).await.0, 422);
    hb.busy_ratio = 0.5;
    hb.host = " ".into();
    assert_eq!(beat(&f, &hb).await.0, 422);
    hb.host = "gpu-a".into();
    hb.v = 2;
    assert_eq!(beat(&f, &hb).await.0, 422);
    let (status, _) = f.signed("/internal/hosts/heartbeat", b"{not json").await;
    assert_eq!(status, 400);
    let unsigned = f
        .client
        .post(format!("{}/internal/hosts/heartbeat", f.server.url()))
        .json(&report("gpu-a", None, true, now));
    assert_eq!(send(unsigned).await.0, 401);
    assert_eq!(fleet(&f).await["hosts"], json!([]));
    f.cleanup().await;
}

#[tokio::test]
async fn metrics_expose_jobs_queue_hosts_and_payments_behind_the_token() {
    let f = ApiFixture::start("fleet_metrics").await;
    let now = f.clock.now_ms();
    // gpu-b's last report reached the edge long ago; gpu-a's just now.
    assert_eq!(beat(&f, &report("gpu-b", None, true, now)).await.0, 200);
    f.clock.advance(STALE_AFTER_MS);
    assert_eq!(
        beat(&f, &report("gpu-a", Some(20_000), true, now)).await.0,
        200
    );
    let ids = jobs(&f, 8104, 3).await;
    let (status, _) = f
        .call("POST", &format!("/api/jobs/{}/cancel", ids[2]), None)
        .await;
    assert_eq!(status, 200);
    f.clock.advance(7_000);
    let anonymous = f.client.get(format!("{}/metrics", f.server.url()));
    assert_eq!(send(anonymous).await.0, 401);
    let resp = f
        .client
        .get(format!("{}/metrics", f.server.url()))
        .bearer_auth(testkit::fixture::API_TOKEN)
        .send()
        .await
        .expect("metrics");
    assert_eq!(resp.status(), 200);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = resp.text().await.expect("body");
    for line in [
        "qwen_jobs{status=\"queued\"} 2",
        "qwen_jobs{status=\"cancelled\"} 1",
        "qwen_jobs{status=\"succeeded\"} 0",
        "qwen_queue_jobs{state=\"queued\"} 2",
        "qwen_queue_oldest_queued_age_seconds 7",
        "qwen_gpu_hosts{state=\"live\"} 1",
        "qwen_gpu_hosts{state=\"stale\"} 1",
        "qwen_gpu_host_busy_ratio{host=\"gpu-a\"} 0.75",
        "# TYPE qwen_payments gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    f.cleanup().await;
}
