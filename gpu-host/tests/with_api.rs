//! The host against the real `api` handlers (core's REST router on SQLite + Redis): a job
//! created through `POST /api/jobs/` is consumed, run, delivered once and stays charged once.

mod common;

use std::time::{Duration, Instant};

use common::*;
use testkit::fakes::comfyui::{Behaviour, TINY_PNG};
use testkit::fixture::{ApiFixture, EVENT_SECRET};

async fn wait_status(f: &ApiFixture, id: &str, want: &str) -> String {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, got) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
        let status = got["status"].as_str().unwrap_or("").to_owned();
        if status == want || Instant::now() > end {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn create(f: &ApiFixture, w: &World, user: i64) -> String {
    w.tg.add_file("AgACAgIAAxkBAAI", TINY_PNG.to_vec());
    f.register(user).await;
    let (status, body) = f.create_job(user, "anime").await;
    assert_eq!(status, 201, "{body}");
    body["job_id"].as_str().unwrap_or_default().to_owned()
}

fn names_for(f: &ApiFixture) -> gpu_host::queue::StreamNames {
    gpu_host::queue::StreamNames {
        stream: f.stream(),
        group: "gpu-hosts".into(),
        consumer: "host-a".into(),
        dead: format!("{}:dead", f.prefix),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn real_api_job_is_delivered_once_and_charged_once() {
    let f = ApiFixture::start("gpu_host_real_api").await;
    let w = World::start().await;
    let id = create(&f, &w, 9101).await;
    let host = w
        .host_for(
            "host-a",
            settings(),
            names_for(&f),
            &f.server.url(),
            EVENT_SECRET,
        )
        .await;
    let status = with_host(host, wait_status(&f, &id, "succeeded")).await;
    assert_eq!(status, "succeeded");
    assert_eq!(f.balance(9101).await, 90, "charged once, not refunded");
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    let graph = &w.comfy.prompts()[0].graph;
    assert!(
        graph.to_string().contains("TextEncodeQwenImageEditPlus"),
        "the Qwen graph ran"
    );
    f.cleanup().await;
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn real_api_refunds_a_failed_job_once() {
    let f = ApiFixture::start("gpu_host_real_api_fail").await;
    let w = World::start().await;
    w.comfy.push_behaviour(Behaviour::ExecutionError);
    let id = create(&f, &w, 9102).await;
    let host = w
        .host_for(
            "host-a",
            settings(),
            names_for(&f),
            &f.server.url(),
            EVENT_SECRET,
        )
        .await;
    let status = with_host(host, wait_status(&f, &id, "failed")).await;
    assert_eq!(status, "failed");
    assert_eq!(f.balance(9102).await, 100, "refunded once");
    assert!(w.tg.calls_of("sendPhoto").is_empty());
    f.cleanup().await;
    w.cleanup().await;
}
