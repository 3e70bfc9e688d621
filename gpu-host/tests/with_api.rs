//! The host against the real `api` handlers (core's REST router on SQLite + Redis): a job
//! created through `POST /api/jobs/` is consumed, run, delivered once and stays charged once;
//! a preset's own workflow is the one that runs, and one the host lacks fails and refunds.

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
    create_for(f, w, user, "anime").await
}

async fn create_for(f: &ApiFixture, w: &World, user: i64, preset: &str) -> String {
    w.tg.add_file("AgACAgIAAxkBAAI", TINY_PNG.to_vec());
    f.register(user).await;
    let (status, body) = f.create_job(user, preset).await;
    assert_eq!(status, 201, "{body}");
    body["job_id"].as_str().unwrap_or_default().to_owned()
}

/// Creates the preset `id` (cost 10) naming `workflow`, through `POST /api/presets/{id}`.
async fn preset_with_workflow(f: &ApiFixture, id: &str, workflow: &str) {
    let body = serde_json::json!({"category": "style", "name_ru": "Поток", "name_en": "Flow",
        "prompt": "recolour it", "cost": 10, "workflow": workflow});
    let (status, created) = f
        .call("POST", &format!("/api/presets/{id}"), Some(body))
        .await;
    assert_eq!(
        (status, created["workflow"].as_str()),
        (201, Some(workflow))
    );
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

#[tokio::test(flavor = "current_thread")]
async fn a_preset_naming_a_workflow_runs_with_that_workflow() {
    let f = ApiFixture::start("gpu_host_preset_workflow").await;
    let w = World::start().await;
    preset_with_workflow(&f, "recolour", "model_free").await;
    let id = create_for(&f, &w, 9103, "recolour").await;
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
    let (_, job) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(job["workflow"], "model_free", "{job}");
    let graph = w.comfy.prompts()[0].graph.to_string();
    assert!(
        graph.contains("ColorTransfer") && !graph.contains("TextEncodeQwenImageEditPlus"),
        "the preset's graph ran, not the default: {graph}"
    );
    assert_eq!(f.balance(9103).await, 90, "charged once");
    f.cleanup().await;
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_workflow_the_host_lacks_fails_the_job_and_refunds_it() {
    let f = ApiFixture::start("gpu_host_unknown_workflow").await;
    let w = World::start().await;
    preset_with_workflow(&f, "ghost", "no_such_flow").await;
    let id = create_for(&f, &w, 9104, "ghost").await;
    assert_eq!(f.balance(9104).await, 90, "charged when queued");
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
    let (_, job) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(job["failure_reason"], "comfy_validation", "{job}");
    assert_eq!(f.balance(9104).await, 100, "refunded once");
    assert!(w.comfy.prompts().is_empty(), "nothing reached ComfyUI");
    let told = w.tg.calls().iter().any(|c| {
        c.param("text")
            .as_str()
            .is_some_and(|t| t.contains("Средства возвращены"))
    });
    assert!(
        told,
        "the user is told, in their language, that the credits came back"
    );
    assert!(w.tg.calls_of("sendPhoto").is_empty());
    f.cleanup().await;
    w.cleanup().await;
}
