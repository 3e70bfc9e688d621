//! Nothing waits for ever and nothing grows without bound on the edge: the sweep ends stalled
//! and expired jobs (refunded once, owners told in their language), forgets silent hosts and
//! old reconciliation reports; a user has at most `max_queued_per_user` unfinished jobs; the
//! jobs stream reports its backlog, carries signed entries and has a time to live.

use qwen_core::contract::signing;
use qwen_core::contract::{HostHeartbeat, JobEventKind};
use qwen_core::jobs;
use qwen_core::ports::{Clock, Sql};
use redis::AsyncCommands;
use serde_json::{Value, json};
use testkit::fixture::{ApiFixture, EVENT_SECRET, signed_post};
use testkit::payments::PayFixture;
use testkit::redis_util::redis_url;
use testkit::sql::SqliteSql;

async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis is running")
}

fn id_of(created: &Value) -> String {
    created["job_id"].as_str().unwrap_or_default().to_owned()
}

async fn status(f: &ApiFixture, created: &Value) -> Value {
    let id = id_of(created);
    f.call("GET", &format!("/api/jobs/{id}"), None).await.1["status"].clone()
}

async fn sweep(f: &ApiFixture) -> Value {
    let (s, r) = f.signed("/internal/jobs/sweep", b"{}").await;
    assert_eq!(s, 200, "{r}");
    r
}

#[tokio::test]
async fn a_running_job_silent_past_its_limit_is_failed_refunded_and_its_owner_told() {
    let f = PayFixture::start("retention_stalled", |_| {}).await;
    f.register(901).await;
    let (s, created) = f
        .call(
            "POST",
            "/api/jobs/",
            Some(json!({"telegram_id": 901, "preset_id": "anime", "file_ids": ["AgAC"]})),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let id = id_of(&created);
    let event = |kind: JobEventKind, at_ms: i64| {
        let ev = qwen_core::contract::JobEvent {
            v: 1,
            attempt: 1,
            host: "gpu-a".into(),
            at: at_ms,
            kind,
        };
        serde_json::to_vec(&ev).unwrap_or_default()
    };
    let url = f.server.url();
    let path = format!("/internal/jobs/{id}/events");
    let now = || f.clock.now_ms();
    let (s, _) = signed_post(
        &f.client,
        &url,
        &path,
        &event(JobEventKind::Started, now()),
        now() / 1000,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(f.balance(901).await, 90);

    f.clock.advance(f.app.settings.job_stall_ms - 1000);
    let (_, r) = signed_post(&f.client, &url, "/internal/jobs/sweep", b"{}", now() / 1000).await;
    assert_eq!(r["stalled"], 0, "not yet: {r}");

    f.clock.advance(2000);
    let (s, r) = signed_post(&f.client, &url, "/internal/jobs/sweep", b"{}", now() / 1000).await;
    assert_eq!((s, r["stalled"].as_u64()), (200, Some(1)), "{r}");
    let job = f.call("GET", &format!("/api/jobs/{id}"), None).await.1;
    assert_eq!(
        (job["status"].as_str(), job["failure_reason"].as_str()),
        (Some("failed"), Some("stalled"))
    );
    assert_eq!(f.balance(901).await, 100, "refunded");
    let told = f.tg.calls_of("sendMessage");
    let text = told
        .iter()
        .filter(|c| c.chat_id() == Some(901))
        .map(|c| c.param("text").as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(text.len(), 1, "told once: {text:?}");
    assert!(
        text[0].contains("Средства возвращены"),
        "in Russian: {}",
        text[0]
    );

    // The host wakes up: it may not deliver, and its failure refunds nothing twice.
    let (s, r) = signed_post(
        &f.client,
        &url,
        &path,
        &event(JobEventKind::Delivering, now()),
        now() / 1000,
    )
    .await;
    assert_eq!((s, r["error"]["code"].as_str()), (409, Some("job_final")));
    let (_, r) = signed_post(&f.client, &url, "/internal/jobs/sweep", b"{}", now() / 1000).await;
    assert_eq!(r["stalled"], 0, "ended once: {r}");
    assert_eq!(f.balance(901).await, 100);
    testkit::payments::check_invariants(&f.app.db).expect("ledger and balances agree");
    f.cleanup().await;
}

#[tokio::test]
async fn a_job_nobody_took_is_failed_after_the_queue_limit_and_a_busy_one_is_left_alone() {
    let f = ApiFixture::start("retention_expired").await;
    f.register(902).await;
    let (_, waiting) = f.create_job(902, "anime").await;
    let (_, running) = f.create_job(902, "anime").await;
    let (_, delivering) = f.create_job(902, "anime").await;
    f.event(&id_of(&running), 1, "gpu-a", JobEventKind::Started)
        .await;
    f.event(&id_of(&delivering), 1, "gpu-a", JobEventKind::Started)
        .await;
    f.event(&id_of(&delivering), 1, "gpu-a", JobEventKind::Delivering)
        .await;
    assert_eq!(f.balance(902).await, 70);
    f.clock.advance(f.app.settings.job_stall_ms + 1);
    let r = sweep(&f).await;
    assert_eq!(
        (r["stalled"].as_u64(), r["expired"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    f.clock.advance(f.app.settings.job_queue_max_ms);
    let r = sweep(&f).await;
    assert_eq!(r["expired"], 1, "{r}");
    assert_eq!(status(&f, &waiting).await, "failed");
    assert_eq!(status(&f, &running).await, "failed");
    assert_eq!(
        status(&f, &delivering).await,
        "succeeded",
        "a granted delivery is closed as delivered, never refunded"
    );
    assert_eq!(f.balance(902).await, 90);
    f.cleanup().await;
}

#[tokio::test]
async fn silent_hosts_and_old_reconciliation_reports_are_forgotten() {
    let f = ApiFixture::start("retention_prune").await;
    let beat = |host: &str| HostHeartbeat {
        v: 1,
        host: host.into(),
        version: "t".into(),
        workflow: "model_free".into(),
        comfy_up: true,
        current_job: None,
        jobs_done: 0,
        run_ms_mean: None,
        run_ms_p90: None,
        busy_ratio: 0.0,
        at: 0,
    };
    let body = serde_json::to_vec(&beat("gpu-old")).unwrap_or_default();
    assert_eq!(f.signed("/internal/hosts/heartbeat", &body).await.0, 200);
    let sql = SqliteSql::open(&f.app.db);
    let old = f.clock.now_ms();
    sql.execute(
        "INSERT INTO reconciliations (id, range_from, range_to, run, created_at) VALUES ('r-old', 0, 1, 1, ?1)",
        &[old.into()],
    )
    .await
    .expect("report");
    sql.execute(
        "INSERT INTO reconciliation_items (reconciliation_id, n, kind, provider, currency, note) VALUES ('r-old', 0, 'matched', 'stars', 'XTR', '')",
        &[],
    )
    .await
    .expect("item");
    f.clock.advance(f.app.settings.hosts_keep_ms + 1);
    let body = serde_json::to_vec(&beat("gpu-new")).unwrap_or_default();
    assert_eq!(f.signed("/internal/hosts/heartbeat", &body).await.0, 200);
    let r = sweep(&f).await;
    assert_eq!(
        (r["hosts_forgotten"].as_u64(), r["reports_deleted"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    let (_, fleet) = f.call("GET", "/api/fleet", None).await;
    let hosts: Vec<&str> = fleet["hosts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["host"].as_str())
        .collect();
    assert_eq!(hosts, ["gpu-new"], "{fleet}");
    f.clock.advance(f.app.settings.reconciliation_keep_ms);
    let r = sweep(&f).await;
    assert_eq!(r["reports_deleted"], 1, "{r}");
    let left = sql
        .execute("SELECT COUNT(*) FROM reconciliation_items", &[])
        .await
        .expect("count");
    assert_eq!(left[0].int(0).ok(), Some(0), "its items went with it");
    f.cleanup().await;
}

#[tokio::test]
async fn a_user_has_at_most_the_cap_of_unfinished_jobs_even_when_asking_at_once() {
    let f = ApiFixture::start_with("retention_cap", |s| s.max_queued_per_user = 3).await;
    f.register(903).await;
    let tries = (0..12).map(|_| f.create_job(903, "smile"));
    let answers = futures::future::join_all(tries).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, b)| b)
        .collect();
    assert_eq!((created, refused.len()), (3, 9), "{answers:?}");
    assert_eq!(refused[0]["error"]["code"], "too_many_jobs");
    assert_eq!(refused[0]["error"]["cap"], 3);
    assert_eq!(
        f.balance(903).await,
        100 - 3 * 10,
        "nothing charged for a refusal"
    );
    let first = answers
        .iter()
        .find(|(s, _)| *s == 201)
        .map(|(_, b)| id_of(b))
        .unwrap_or_default();
    let (s, _) = f
        .call("POST", &format!("/api/jobs/{first}/cancel"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        f.create_job(903, "smile").await.0,
        201,
        "room again once one ended"
    );
    assert_eq!(f.create_job(903, "smile").await.0, 429);
    f.cleanup().await;
}

#[tokio::test]
async fn the_stream_reports_its_backlog_carries_signed_entries_and_expires() {
    let f = ApiFixture::start("retention_backlog").await;
    f.register(904).await;
    for _ in 0..3 {
        assert_eq!(f.create_job(904, "anime").await.0, 201);
    }
    let stream = f.stream();
    let (_, fleet) = f.call("GET", "/api/fleet", None).await;
    assert_eq!(
        fleet["backlog"]["waiting"], 3,
        "no host yet: all waiting: {fleet}"
    );
    let mut r = redis().await;
    let ttl: i64 = r.ttl(&stream).await.expect("ttl");
    assert!(ttl > 0 && ttl <= jobs::STREAM_TTL_SECS as i64, "ttl {ttl}");
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("hosts")
        .arg("0")
        .query_async(&mut r)
        .await
        .expect("group");
    let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("hosts")
        .arg("gpu-a")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut r)
        .await
        .expect("read");
    let entry = &read.keys[0].ids[0];
    let job: String = entry.get("job").expect("job field");
    let sig: String = entry.get("sig").expect("sig field");
    assert_eq!(
        signing::verify_job(EVENT_SECRET.as_bytes(), &job, Some(&sig)),
        Ok(())
    );
    assert!(signing::verify_job(b"another secret", &job, Some(&sig)).is_err());
    f.clock.advance(5_000);
    let (_, fleet) = f.call("GET", "/api/fleet", None).await;
    let b = &fleet["backlog"];
    assert_eq!(
        (
            b["waiting"].as_u64(),
            b["pending"].as_u64(),
            b["stream_length"].as_u64()
        ),
        (Some(2), Some(1), Some(3)),
        "{fleet}"
    );
    assert!(b["oldest_pending_age_ms"].as_i64().is_some());
    let (_, stats) = f.call("GET", "/api/stats", None).await;
    assert_eq!(stats["backlog"]["pending"], 1, "{stats}");
    assert!(stats.get("stream_length").is_none());
    let text = f
        .client
        .get(format!("{}/metrics", f.server.url()))
        .bearer_auth(testkit::fixture::API_TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    for line in [
        "qwen_stream_waiting 2",
        "qwen_stream_pending 1",
        "qwen_stream_length 3",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    let _: i64 = r
        .xack(&stream, "hosts", &[entry.id.as_str()])
        .await
        .expect("ack");
    let (_, fleet) = f.call("GET", "/api/fleet", None).await;
    assert_eq!(fleet["backlog"]["pending"], 0);
    assert!(fleet["backlog"]["oldest_pending_age_ms"].is_null());
    f.cleanup().await;
}
