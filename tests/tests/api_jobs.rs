//! Job creation, reading and cancelling through the real `api` handler, with a real Redis.

use qwen_core::contract::JobMessage;
use serde_json::{Value, json};
use testkit::fixture::ApiFixture;
use testkit::redis_util::stream_jobs;

fn job(user: i64, extra: Value) -> Value {
    let mut body = json!({"telegram_id": user, "file_ids": ["AgACAgIAAxkBAAI"]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

#[tokio::test]
async fn preset_job_is_charged_enqueued_and_positioned() {
    let f = ApiFixture::start("jobs_create").await;
    f.register(601).await;
    let (status, body) = f.create_job(601, "anime").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["cost"].as_i64(), body["balance_after"].as_i64()),
        (Some(10), Some(90))
    );
    assert_eq!(body["queue_position"], 0);
    let (_, second) = f.create_job(601, "smile").await;
    assert_eq!(second["queue_position"], 1, "one job ahead");
    let raw = stream_jobs(&f.stream()).await;
    assert_eq!(raw.len(), 2);
    let msg = JobMessage::from_json(raw[0].as_bytes()).expect("valid job message");
    assert_eq!(
        msg.job_id.as_str(),
        body["job_id"].as_str().unwrap_or_default()
    );
    assert_eq!(
        (msg.user_id.0, msg.chat_id.0, msg.lang.as_str()),
        (601, 601, "ru")
    );
    assert_eq!(msg.preset_id.as_deref(), Some("anime"));
    assert!(msg.prompt.contains("anime"));
    assert_eq!(msg.file_ids, vec!["AgACAgIAAxkBAAI".to_string()]);
    assert_eq!(msg.workflow, "qwen_edit_2511");
    let (_, hist) = f.call("GET", "/api/balance/601/history", None).await;
    assert_eq!(hist["items"][1]["kind"], "job_charge");
    assert_eq!(hist["items"][1]["reference"], body["job_id"]);
    f.cleanup().await;
}

#[tokio::test]
async fn a_job_runs_the_workflow_its_preset_names_else_the_default() {
    let f = ApiFixture::start("jobs_workflow").await;
    f.register(607).await;
    let preset = json!({"category": "style", "name_ru": "Без модели", "name_en": "No model",
        "prompt": "keep the colours", "cost": 1, "workflow": "model_free"});
    let (status, body) = f.call("POST", "/api/presets/no_model", Some(preset)).await;
    assert_eq!(status, 201, "{body}");
    let (status, own) = f.create_job(607, "no_model").await;
    assert_eq!(
        (status, own["job"]["workflow"].as_str()),
        (201, Some("model_free")),
        "{own}"
    );
    let (_, builtin) = f.create_job(607, "anime").await;
    let (_, custom) = f
        .call(
            "POST",
            "/api/jobs/",
            Some(job(607, json!({"prompt": "blue"}))),
        )
        .await;
    let workflows: Vec<String> = stream_jobs(&f.stream())
        .await
        .iter()
        .map(|raw| {
            JobMessage::from_json(raw.as_bytes())
                .expect("job message")
                .workflow
        })
        .collect();
    assert_eq!(
        workflows,
        ["model_free", "qwen_edit_2511", "qwen_edit_2511"],
        "the preset's own, then the default for a built-in preset and a custom prompt"
    );
    for (created, want) in [(&builtin, "qwen_edit_2511"), (&custom, "qwen_edit_2511")] {
        let id = created["job_id"].as_str().unwrap_or_default();
        let (_, got) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
        assert_eq!(got["workflow"], want, "{got}");
    }
    f.cleanup().await;
}

#[tokio::test]
async fn custom_prompt_lengths() {
    let f = ApiFixture::start("jobs_prompt").await;
    f.register(602).await;
    f.call(
        "POST",
        "/api/balance/602/adjust",
        Some(json!({"amount": 1000, "reason": "test"})),
    )
    .await;
    let cases = [
        ("", 422),
        ("   ", 422),
        ("a", 201),
        (&*"я".repeat(500), 201),
        (&*"я".repeat(501), 422),
    ];
    for (prompt, want) in cases {
        let (status, body) = f
            .call(
                "POST",
                "/api/jobs/",
                Some(job(602, json!({"prompt": prompt}))),
            )
            .await;
        assert_eq!(
            status,
            want,
            "prompt of {} chars → {body}",
            prompt.chars().count()
        );
        if want == 422 {
            assert_eq!(body["error"]["code"], "invalid_prompt");
        } else {
            assert_eq!(body["cost"], 10, "custom prompt price comes from config");
        }
    }
    f.cleanup().await;
}

#[tokio::test]
async fn invalid_job_input_is_refused_without_charge() {
    let f = ApiFixture::start("jobs_invalid").await;
    f.register(603).await;
    let four = json!({"preset_id": "anime", "file_ids": ["a", "b", "c", "d"]});
    let cases = [
        (
            job(603, json!({"preset_id": "anime", "file_ids": []})),
            422,
            "invalid_images",
        ),
        (job(603, four), 422, "invalid_images"),
        (
            job(603, json!({"preset_id": "anime", "prompt": "both"})),
            422,
            "invalid_job",
        ),
        (job(603, json!({})), 422, "invalid_job"),
        (
            job(603, json!({"preset_id": "no_such"})),
            404,
            "preset_not_found",
        ),
        (
            job(999, json!({"preset_id": "anime"})),
            404,
            "user_not_found",
        ),
    ];
    for (body, want, code) in cases {
        let (status, resp) = f.call("POST", "/api/jobs/", Some(body.clone())).await;
        assert_eq!(
            (status, resp["error"]["code"].as_str()),
            (want, Some(code)),
            "{body}"
        );
    }
    assert_eq!(f.balance(603).await, 100);
    assert!(stream_jobs(&f.stream()).await.is_empty());
    f.cleanup().await;
}

#[tokio::test]
async fn short_balance_is_402_with_the_shortfall() {
    let f = ApiFixture::start_with("jobs_short", |s| s.initial_balance = 12).await;
    f.register(604).await;
    let (status, _) = f.create_job(604, "anime").await;
    assert_eq!(status, 201);
    let (status, body) = f.create_job(604, "anime").await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_balance");
    assert_eq!(
        (
            body["error"]["needed"].as_i64(),
            body["error"]["balance"].as_i64()
        ),
        (Some(10), Some(2))
    );
    assert_eq!(body["error"]["shortfall"], 8);
    assert_eq!(f.balance(604).await, 2);
    assert_eq!(stream_jobs(&f.stream()).await.len(), 1);
    f.cleanup().await;
}

#[tokio::test]
async fn unlimited_processing_and_admins_edit_for_free_but_jobs_are_recorded() {
    let f = ApiFixture::start_with("jobs_free", |s| s.admin_ids = vec![606]).await;
    f.register(605).await;
    f.register(606).await;
    let (_, paid) = f.create_job(605, "anime").await;
    let (_, free) = f.create_job(606, "anime").await;
    assert_eq!(
        (paid["cost"].as_i64(), free["cost"].as_i64()),
        (Some(10), Some(0))
    );
    assert_eq!(f.balance(606).await, 100);
    let unlimited =
        ApiFixture::start_with("jobs_unlimited", |s| s.unlimited_processing = true).await;
    unlimited.register(607).await;
    let (status, body) = unlimited.create_job(607, "professional_headshot").await;
    assert_eq!((status, body["cost"].as_i64()), (201, Some(0)));
    let (_, list) = unlimited.call("GET", "/api/users/607/jobs", None).await;
    assert_eq!(list["total"], 1);
    f.cleanup().await;
    unlimited.cleanup().await;
}

#[tokio::test]
async fn get_and_list_jobs() {
    let f = ApiFixture::start("jobs_read").await;
    f.register(608).await;
    let (_, created) = f.create_job(608, "winter").await;
    let id = created["job_id"].as_str().unwrap_or_default().to_owned();
    let (status, got) = f.call("GET", &format!("/api/jobs/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (got["status"].as_str(), got["preset_id"].as_str()),
        (Some("queued"), Some("winter"))
    );
    assert_eq!(got["queue_position"], 0);
    let (status, _) = f.call("GET", "/api/jobs/not-a-job", None).await;
    assert_eq!(status, 404);
    f.create_job(608, "anime").await;
    let (_, page) = f.call("GET", "/api/users/608/jobs?limit=1", None).await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][0]["preset_id"], "anime", "newest first");
    let (status, _) = f.call("GET", "/api/users/9999/jobs", None).await;
    assert_eq!(status, 404);
    f.cleanup().await;
}

#[tokio::test]
async fn cancel_refunds_a_queued_job_once() {
    let f = ApiFixture::start("jobs_cancel").await;
    f.register(609).await;
    let (_, created) = f.create_job(609, "anime").await;
    let id = created["job_id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = f
        .call("POST", &format!("/api/jobs/{id}/cancel"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["refunded"].as_i64(), body["balance"].as_i64()),
        (Some(10), Some(100))
    );
    let (status, body) = f
        .call("POST", &format!("/api/jobs/{id}/cancel"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("job_not_queued"))
    );
    assert_eq!(f.balance(609).await, 100, "refunded exactly once");
    let (status, _) = f.call("POST", "/api/jobs/nope/cancel", None).await;
    assert_eq!(status, 404);
    f.cleanup().await;
}

#[tokio::test]
async fn running_job_cannot_be_cancelled() {
    let f = ApiFixture::start("jobs_cancel_running").await;
    f.register(610).await;
    let (_, created) = f.create_job(610, "anime").await;
    let id = created["job_id"].as_str().unwrap_or_default().to_owned();
    let (status, _) = f
        .event(&id, 1, "gpu-a", qwen_core::contract::JobEventKind::Started)
        .await;
    assert_eq!(status, 200);
    let (status, _) = f
        .call("POST", &format!("/api/jobs/{id}/cancel"), None)
        .await;
    assert_eq!(status, 409);
    assert_eq!(f.balance(610).await, 90);
    f.cleanup().await;
}

#[tokio::test]
async fn redis_down_refunds_fails_the_job_and_answers_503() {
    let f = ApiFixture::start_with("jobs_redis_down", |s| {
        s.redis_url = "redis://127.0.0.1:1".into()
    })
    .await;
    f.register(611).await;
    let (status, body) = f.create_job(611, "anime").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("queue_unavailable")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("refunded"))
    );
    assert_eq!(f.balance(611).await, 100);
    let (_, list) = f.call("GET", "/api/users/611/jobs", None).await;
    assert_eq!(list["items"][0]["status"], "failed");
    assert_eq!(list["items"][0]["failure_reason"], "queue_unavailable");
    let (_, hist) = f.call("GET", "/api/balance/611/history", None).await;
    let kinds: Vec<_> = hist["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![
            json!("job_refund"),
            json!("job_charge"),
            json!("signup_bonus")
        ]
    );
}

#[tokio::test]
async fn fifty_concurrent_submissions_against_a_balance_for_ten() {
    let f = ApiFixture::start_with("jobs_concurrent", |s| s.initial_balance = 100).await;
    f.register(612).await;
    let tasks: Vec<_> = (0..50).map(|_| f.create_job(612, "anime")).collect();
    let results = futures::future::join_all(tasks).await;
    let accepted = results.iter().filter(|(s, _)| *s == 201).count();
    let refused = results.iter().filter(|(s, _)| *s == 402).count();
    assert_eq!(
        (accepted, refused),
        (10, 40),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(f.balance(612).await, 0);
    assert_eq!(stream_jobs(&f.stream()).await.len(), 10);
    let (_, hist) = f
        .call("GET", "/api/balance/612/history?limit=100", None)
        .await;
    let sum: i64 = hist["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["amount"].as_i64())
        .sum();
    assert_eq!(sum, 0, "balance equals the sum of the ledger");
    f.cleanup().await;
}
