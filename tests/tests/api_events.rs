//! The gpu-host's signed job events: attempt fencing, delivery granted once, refunds once.

use qwen_core::contract::{Failure, FailureReason, JobEventKind, OutputMeta, SentAs};
use qwen_core::ports::Clock;
use qwen_core::signing;
use testkit::fixture::{ApiFixture, EVENT_SECRET, send};

fn output() -> JobEventKind {
    JobEventKind::Succeeded(OutputMeta {
        comfy_prompt_id: "p".into(),
        bytes: 1234,
        sent_as: SentAs::Photo,
        run_ms: 900,
    })
}

fn failed(reason: FailureReason) -> JobEventKind {
    JobEventKind::Failed(Failure {
        reason,
        user_message: "Не получилось".into(),
    })
}

async fn job(f: &ApiFixture, user: i64) -> String {
    f.register(user).await;
    let (status, body) = f.create_job(user, "anime").await;
    assert_eq!(status, 201, "{body}");
    body["job_id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn happy_path_started_delivering_succeeded() {
    let f = ApiFixture::start("events_happy").await;
    let id = job(&f, 701).await;
    let (s, r) = f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    assert_eq!(
        (s, r["proceed"].as_bool(), r["status"].as_str()),
        (200, Some(true), Some("running"))
    );
    let (s, r) = f.event(&id, 1, "gpu-a", JobEventKind::Delivering).await;
    assert_eq!((s, r["proceed"].as_bool()), (200, Some(true)));
    let (s, r) = f.event(&id, 1, "gpu-a", output()).await;
    assert_eq!((s, r["status"].as_str()), (200, Some("succeeded")));
    let (_, got) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(got["output"]["bytes"], 1234);
    assert_eq!(f.balance(701).await, 90, "a delivered job stays charged");
    for kind in [JobEventKind::Started, JobEventKind::Delivering, output()] {
        let (s, r) = f.event(&id, 1, "gpu-a", kind.clone()).await;
        let expect_proceed = !matches!(kind, JobEventKind::Started);
        assert_eq!(
            (s, r["proceed"].as_bool()),
            (200, Some(expect_proceed)),
            "repeat of {kind:?}: {r}"
        );
    }
    let (s, r) = f
        .event(&id, 1, "gpu-a", failed(FailureReason::Timeout))
        .await;
    assert_eq!((s, r["error"]["code"].as_str()), (409, Some("job_final")));
    assert_eq!(f.balance(701).await, 90);
    f.cleanup().await;
}

#[tokio::test]
async fn newer_attempt_takes_over_and_older_one_is_fenced_off() {
    let f = ApiFixture::start("events_fencing").await;
    let id = job(&f, 702).await;
    f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    let (s, r) = f.event(&id, 2, "gpu-b", JobEventKind::Started).await;
    assert_eq!(
        (s, r["proceed"].as_bool(), r["attempt"].as_u64()),
        (200, Some(true), Some(2))
    );
    for kind in [
        JobEventKind::Delivering,
        output(),
        failed(FailureReason::BadInput),
        JobEventKind::Started,
    ] {
        let (s, r) = f.event(&id, 1, "gpu-a", kind).await;
        assert_eq!(
            (s, r["error"]["code"].as_str()),
            (409, Some("stale_attempt")),
            "{r}"
        );
    }
    let (s, r) = f.event(&id, 2, "gpu-b", JobEventKind::Delivering).await;
    assert_eq!((s, r["proceed"].as_bool()), (200, Some(true)));
    let (s, r) = f.event(&id, 3, "gpu-c", JobEventKind::Started).await;
    assert_eq!(
        (s, r["proceed"].as_bool()),
        (200, Some(false)),
        "no takeover once the photo is on its way"
    );
    let (s, _) = f.event(&id, 2, "gpu-b", output()).await;
    assert_eq!(s, 200);
    f.cleanup().await;
}

#[tokio::test]
async fn same_attempt_from_another_host_is_a_duplicate_and_skipped() {
    let f = ApiFixture::start("events_duplicate").await;
    let id = job(&f, 703).await;
    let (_, r) = f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    assert_eq!(r["proceed"], true);
    let (s, r) = f.event(&id, 1, "gpu-b", JobEventKind::Started).await;
    assert_eq!((s, r["proceed"].as_bool()), (200, Some(false)));
    let (_, r) = f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    assert_eq!(r["proceed"], true, "the owner's repeat is idempotent");
    f.cleanup().await;
}

#[tokio::test]
async fn failure_refunds_exactly_once() {
    let f = ApiFixture::start("events_failed").await;
    let id = job(&f, 704).await;
    f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    let (s, r) = f
        .event(&id, 1, "gpu-a", failed(FailureReason::ComfyExecution))
        .await;
    assert_eq!((s, r["status"].as_str()), (200, Some("failed")));
    assert_eq!(f.balance(704).await, 100);
    let (s, _) = f
        .event(&id, 1, "gpu-a", failed(FailureReason::ComfyExecution))
        .await;
    assert_eq!(s, 200, "repeating an event changes nothing");
    assert_eq!(f.balance(704).await, 100);
    let (_, got) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(
        (
            got["failure_reason"].as_str(),
            got["failure_message"].as_str()
        ),
        (Some("comfy_execution"), Some("Не получилось"))
    );
    let (s, _) = f.event(&id, 1, "gpu-a", output()).await;
    assert_eq!(s, 409);
    f.cleanup().await;
}

#[tokio::test]
async fn dead_letter_failure_of_a_never_started_job_refunds() {
    let f = ApiFixture::start("events_dead_letter").await;
    let id = job(&f, 705).await;
    let (s, r) = f
        .event(&id, 6, "gpu-a", failed(FailureReason::RedeliveryLimit))
        .await;
    assert_eq!((s, r["status"].as_str()), (200, Some("failed")), "{r}");
    assert_eq!(f.balance(705).await, 100);
    f.cleanup().await;
}

#[tokio::test]
async fn cancelled_job_is_skipped_at_started() {
    let f = ApiFixture::start("events_cancelled").await;
    let id = job(&f, 706).await;
    f.call("POST", &format!("/api/jobs/{id}/cancel"), None)
        .await;
    let (s, r) = f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    assert_eq!(
        (s, r["proceed"].as_bool(), r["status"].as_str()),
        (200, Some(false), Some("cancelled"))
    );
    let (s, _) = f.event(&id, 1, "gpu-a", JobEventKind::Delivering).await;
    assert_eq!(s, 409);
    assert_eq!(f.balance(706).await, 100);
    f.cleanup().await;
}

#[tokio::test]
async fn delivery_before_start_and_success_without_grant_are_refused() {
    let f = ApiFixture::start("events_order").await;
    let id = job(&f, 707).await;
    let (s, r) = f.event(&id, 1, "gpu-a", JobEventKind::Delivering).await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (409, Some("job_not_running"))
    );
    f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    let (s, r) = f.event(&id, 1, "gpu-a", output()).await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (409, Some("delivery_not_granted"))
    );
    let (s, _) = f
        .event("no-such-job", 1, "gpu-a", JobEventKind::Started)
        .await;
    assert_eq!(s, 404);
    f.cleanup().await;
}

#[tokio::test]
async fn signatures_good_bad_stale_missing_and_replayed() {
    let f = ApiFixture::start("events_signature").await;
    let id = job(&f, 708).await;
    let path = format!("/internal/jobs/{id}/events");
    let url = format!("{}{path}", f.server.url());
    let body = r#"{"v":1,"attempt":1,"host":"gpu-a","at":0,"kind":{"type":"started"}}"#.to_string();
    let now = f.clock.now_ms() / 1000;
    let post = |ts: i64, sig: String| {
        f.client
            .post(&url)
            .header(signing::TIMESTAMP_HEADER, ts.to_string())
            .header(signing::SIGNATURE_HEADER, sig)
            .body(body.clone())
    };
    let (s, r) = send(post(
        now,
        signing::sign(b"wrong-secret", now, "POST", &path, body.as_bytes()),
    ))
    .await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (401, Some("bad_signature"))
    );
    let stale = now - 301;
    let (s, r) = send(post(
        stale,
        signing::sign(
            EVENT_SECRET.as_bytes(),
            stale,
            "POST",
            &path,
            body.as_bytes(),
        ),
    ))
    .await;
    assert_eq!(
        (s, r["error"]["message"].as_str()),
        (401, Some("stale signature timestamp"))
    );
    let (s, _) = send(f.client.post(&url).body(body.clone())).await;
    assert_eq!(s, 401);
    let (_, job) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(job["status"], "queued", "refused events change nothing");
    let good = signing::sign(EVENT_SECRET.as_bytes(), now, "POST", &path, body.as_bytes());
    let (s, first) = send(post(now, good.clone())).await;
    assert_eq!((s, first["proceed"].as_bool()), (200, Some(true)));
    let (s, replay) = send(post(now, good)).await;
    assert_eq!(
        (s, &replay),
        (200, &first),
        "a replay is harmless: same answer, no change"
    );
    let (s, _) = f
        .signed(&format!("/internal/jobs/{id}/events"), b"{not json")
        .await;
    assert_eq!(s, 400);
    f.cleanup().await;
}

#[tokio::test]
async fn a_signature_made_for_one_job_is_refused_on_another_and_on_heartbeats() {
    let f = ApiFixture::start("events_replay_across").await;
    let a = job(&f, 709).await;
    let b = job(&f, 710).await;
    let body = r#"{"v":1,"attempt":1,"host":"gpu-a","at":0,"kind":{"type":"started"}}"#;
    let now = f.clock.now_ms() / 1000;
    let path_a = format!("/internal/jobs/{a}/events");
    let sig = signing::sign(
        EVENT_SECRET.as_bytes(),
        now,
        "POST",
        &path_a,
        body.as_bytes(),
    );
    let replay = |path: String| {
        f.client
            .post(format!("{}{path}", f.server.url()))
            .header(signing::TIMESTAMP_HEADER, now.to_string())
            .header(signing::SIGNATURE_HEADER, sig.clone())
            .body(body.to_owned())
    };
    let (s, r) = send(replay(format!("/internal/jobs/{b}/events"))).await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (401, Some("bad_signature"))
    );
    let (_, job_b) = f.call("GET", &format!("/api/jobs/{b}"), None).await;
    assert_eq!(job_b["status"], "queued", "the other job did not move");
    let (s, _) = send(replay("/internal/hosts/heartbeat".to_owned())).await;
    assert_eq!(s, 401);
    let (s, _) = send(replay("/internal/jobs/sweep".to_owned())).await;
    assert_eq!(s, 401);
    let (s, r) = send(replay(path_a)).await;
    assert_eq!(
        (s, r["status"].as_str()),
        (200, Some("running")),
        "valid on its own path"
    );
    f.cleanup().await;
}

/// `claimed` fences older attempts out but leaves the job `queued` — with its position and
/// its Cancel — until the same attempt reports `started` (the GPU began it), which makes it
/// `running` with `started_at` then. A cancel in between refunds it and deletes its queued
/// marker (what the host watches); the host's repeated `claimed` is then told to stop.
#[tokio::test]
async fn claimed_keeps_the_job_queued_and_cancellable_until_started() {
    let f = ApiFixture::start("events_claimed").await;
    let id = job(&f, 731).await;
    let (s, r) = f.event(&id, 1, "gpu-a", JobEventKind::Claimed).await;
    assert_eq!(
        (s, r["proceed"].as_bool(), r["status"].as_str()),
        (200, Some(true), Some("queued"))
    );
    let (_, got) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(
        (got["status"].as_str(), got["started_at"].as_i64()),
        (Some("queued"), None)
    );
    let (s, r) = f.event(&id, 1, "gpu-b", JobEventKind::Claimed).await;
    assert_eq!(
        (s, r["proceed"].as_bool()),
        (200, Some(false)),
        "same attempt, other host: {r}"
    );
    let (s, r) = f.event(&id, 1, "gpu-b", JobEventKind::Started).await;
    assert_eq!(
        (s, r["proceed"].as_bool()),
        (200, Some(false)),
        "only the claiming host starts it: {r}"
    );
    let (s, r) = f.event(&id, 1, "gpu-a", JobEventKind::Started).await;
    assert_eq!(
        (s, r["status"].as_str(), r["proceed"].as_bool()),
        (200, Some("running"), Some(true))
    );
    let (_, got) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert!(
        got["started_at"].as_i64().is_some(),
        "started_at is the GPU's start: {got}"
    );

    let other = job(&f, 732).await;
    let marker = qwen_core::jobs::marker_key(
        &f.stream(),
        &qwen_core::contract::JobId::from(other.as_str()),
    );
    let exists = testkit::redis_util::key_exists;
    assert!(exists(&marker).await, "a new job has its marker");
    f.event(&other, 1, "gpu-a", JobEventKind::Claimed).await;
    assert!(exists(&marker).await, "claimed keeps it");
    let (s, body) = f
        .call("POST", &format!("/api/jobs/{other}/cancel"), None)
        .await;
    assert_eq!(
        (s, body["job"]["status"].as_str()),
        (200, Some("cancelled")),
        "{body}"
    );
    assert_eq!(f.balance(732).await, 100, "refunded");
    assert!(!exists(&marker).await, "the cancel deleted the marker");
    let (s, r) = f.event(&other, 1, "gpu-a", JobEventKind::Claimed).await;
    assert_eq!(
        (s, r["proceed"].as_bool(), r["status"].as_str()),
        (200, Some(false), Some("cancelled"))
    );
    let (s, r) = f.event(&other, 1, "gpu-a", JobEventKind::Started).await;
    assert_eq!(
        (s, r["proceed"].as_bool()),
        (200, Some(false)),
        "a cancelled job never starts"
    );
    f.cleanup().await;
}
