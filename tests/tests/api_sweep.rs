//! The sweep: a job committed but never enqueued (the instance died between commit and
//! `XADD`) is found and enqueued; deliveries never confirmed are closed.

use std::future::pending;

use async_trait::async_trait;
use qwen_core::contract::JobEventKind;
use qwen_core::jobs::{self, NewJob};
use qwen_core::ports::{Backlog, Clock, Queue, QueueError};
use testkit::fixture::ApiFixture;
use testkit::redis_util::stream_jobs;
use testkit::sql::SqliteSql;

/// A Redis that accepts the call and never answers: the request dies with its instance.
struct HangingQueue;

#[async_trait(?Send)]
impl Queue for HangingQueue {
    async fn add_marked(
        &self,
        _: &str,
        _: &str,
        _: &[(&str, &str)],
        _: u64,
        _: u64,
    ) -> Result<String, QueueError> {
        pending().await
    }
    async fn exist(&self, _: &[String]) -> Result<Vec<bool>, QueueError> {
        pending().await
    }
    async fn delete(&self, _: &[String]) -> Result<(), QueueError> {
        pending().await
    }
    async fn backlog(&self, _: &str) -> Result<Backlog, QueueError> {
        pending().await
    }
}

async fn die_between_commit_and_xadd(f: &ApiFixture, user: i64) {
    let sql = SqliteSql::open(&f.app.db);
    let input = NewJob {
        telegram_id: user,
        preset_id: Some("anime".into()),
        file_ids: vec!["f1".into()],
        ..NewJob::default()
    };
    let create = jobs::create(
        &sql,
        &HangingQueue,
        &f.app.settings,
        &input,
        f.clock.now_ms(),
    );
    let died = tokio::time::timeout(std::time::Duration::from_millis(200), create).await;
    assert!(died.is_err(), "the request must have been cut off mid-XADD");
}

#[tokio::test]
async fn sweep_enqueues_a_charged_job_that_never_reached_the_stream() {
    let f = ApiFixture::start("sweep_orphan").await;
    f.register(801).await;
    die_between_commit_and_xadd(&f, 801).await;
    assert_eq!(f.balance(801).await, 90, "the job is charged");
    assert!(stream_jobs(&f.stream()).await.is_empty());
    let (s, r) = f.signed("/internal/jobs/sweep", b"{}").await;
    assert_eq!(
        (s, r["enqueued"].as_u64()),
        (200, Some(0)),
        "too young: the request may still be running"
    );
    f.clock.advance(jobs::SWEEP_GRACE_MS + 1);
    let (s, r) = f.signed("/internal/jobs/sweep", b"{}").await;
    assert_eq!((s, r["enqueued"].as_u64()), (200, Some(1)), "{r}");
    let (s, r) = f.signed("/internal/jobs/sweep", b"{}").await;
    assert_eq!((s, r["enqueued"].as_u64()), (200, Some(0)), "enqueued once");
    let raw = stream_jobs(&f.stream()).await;
    assert_eq!(raw.len(), 1);
    f.cleanup().await;
}

#[tokio::test]
async fn sweep_recovers_queued_jobs_after_redis_lost_its_data() {
    let f = ApiFixture::start("sweep_redis_lost").await;
    f.register(804).await;
    let (_, a) = f.create_job(804, "anime").await;
    let (_, b) = f.create_job(804, "smile").await;
    f.event(
        b["job_id"].as_str().unwrap_or_default(),
        1,
        "gpu-a",
        JobEventKind::Started,
    )
    .await;
    f.clock.advance(jobs::SWEEP_GRACE_MS + 1);
    let (_, r) = f.signed("/internal/jobs/sweep", b"{}").await;
    assert_eq!(
        (r["checked"].as_u64(), r["enqueued"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    testkit::redis_util::cleanup(&f.prefix).await;
    let (s, r) = f.signed("/internal/jobs/sweep", b"{}").await;
    assert_eq!(
        (s, r["enqueued"].as_u64()),
        (200, Some(1)),
        "only the never-started job: {r}"
    );
    let raw = stream_jobs(&f.stream()).await;
    assert_eq!(raw.len(), 1);
    assert!(raw[0].contains(a["job_id"].as_str().unwrap_or("?")));
    f.cleanup().await;
}

#[tokio::test]
async fn sweep_with_redis_down_is_503_and_keeps_the_job_for_later() {
    let f =
        ApiFixture::start_with("sweep_down", |s| s.redis_url = "redis://127.0.0.1:1".into()).await;
    f.register(802).await;
    die_between_commit_and_xadd(&f, 802).await;
    f.clock.advance(jobs::SWEEP_GRACE_MS + 1);
    let (s, r) = f.signed("/internal/jobs/sweep", b"{}").await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (503, Some("queue_unavailable"))
    );
    let (_, list) = f.call("GET", "/api/users/802/jobs", None).await;
    assert_eq!(
        list["items"][0]["status"], "queued",
        "a later sweep still finds it"
    );
    assert_eq!(f.balance(802).await, 90);
}

#[tokio::test]
async fn sweep_closes_an_unconfirmed_delivery_without_refund() {
    let f = ApiFixture::start("sweep_delivery").await;
    f.register(803).await;
    let (_, created) = f.create_job(803, "anime").await;
    let id = created["job_id"].as_str().unwrap_or_default().to_owned();
    f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    f.event(&id, 1, "gpu-a", JobEventKind::Delivering).await;
    f.clock.advance(jobs::DELIVERY_CONFIRM_TIMEOUT_MS + 1);
    let (s, r) = f.signed("/internal/jobs/sweep", b"{}").await;
    assert_eq!((s, r["closed"].as_u64()), (200, Some(1)));
    let (_, job) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(job["status"], "succeeded");
    assert_eq!(f.balance(803).await, 90);
    f.cleanup().await;
}

#[tokio::test]
async fn sweep_requires_a_signature() {
    let f = ApiFixture::start("sweep_auth").await;
    let (s, _) = testkit::fixture::send(
        f.client
            .post(format!("{}/internal/jobs/sweep", f.server.url()))
            .body("{}"),
    )
    .await;
    assert_eq!(s, 401);
    f.cleanup().await;
}
