//! The host end to end, in-process, against real Redis, the fake ComfyUI, the fake Bot API
//! and the real api.

mod common;

use std::time::Duration;

use common::*;
use qwen_contract::{FailureReason, comfy_prompt_id};
use testkit::fakes::comfyui::{Behaviour, TINY_PNG};
use testkit::fakes::telegram::Failure;

const WAIT: Duration = Duration::from_secs(30);

async fn run_one(w: &World, job_id: &str, lang: &str) -> JobState {
    let host = w.host("host-a", settings()).await;
    w.submit(job_id, lang).await;
    with_host(host, w.api.wait_final(job_id, WAIT)).await
}

#[tokio::test(flavor = "current_thread")]
async fn success_sends_one_photo_and_acks() {
    let w = World::start().await;
    w.comfy.set_steps(4);
    let state = run_one(&w, "job-ok", "ru").await;
    assert_eq!(state.status, "succeeded");
    let names: Vec<String> = w.api.events("job-ok").iter().map(|e| e.0.clone()).collect();
    assert_eq!(names, ["claimed", "started", "delivering", "succeeded"]);
    assert_eq!(
        state.granted,
        Some(1),
        "the delivery was granted to attempt 1"
    );
    assert_eq!((state.attempt, state.refunds), (1, 0));
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    let prompts = w.comfy.prompts();
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0].prompt_id, comfy_prompt_id(&"job-ok".into(), 1));
    assert!(!prompts[0].client_id.is_empty());
    assert_eq!(pending(&w.names).await, 0);
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn comfy_down_then_up_takes_no_job_until_up() {
    let w = World::start().await;
    w.comfy.set_up(false).await;
    let host = w.host("host-a", settings()).await;
    w.submit("job-down", "en").await;
    let state = with_host(host, async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(
            w.api.events("job-down").is_empty(),
            "no job is taken while ComfyUI is down"
        );
        assert_eq!(pending(&w.names).await, 0);
        w.comfy.set_up(true).await;
        w.api.wait_final("job-down", WAIT).await
    })
    .await;
    assert_eq!(state.status, "succeeded");
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    w.cleanup().await;
}

async fn failing(b: Behaviour, job_id: &str, want: FailureReason) -> World {
    let w = World::start().await;
    w.comfy.push_behaviour(b);
    let state = run_one(&w, job_id, "en").await;
    assert_eq!(state.status, "failed");
    assert_eq!(state.refunds, 1);
    let (why, words) = w.api.failure(job_id).expect("failure");
    assert_eq!(why, want);
    assert!(
        !words.contains("Error") && !words.contains("File \""),
        "plain words: {words}"
    );
    assert!(w.tg.calls_of("sendPhoto").is_empty());
    assert_eq!(pending(&w.names).await, 0);
    w
}

#[tokio::test(flavor = "current_thread")]
async fn node_validation_error_is_permanent() {
    let w = failing(
        Behaviour::Reject400,
        "job-400",
        FailureReason::ComfyValidation,
    )
    .await;
    assert_eq!(w.comfy.prompts().len(), 0, "a 400 is not retried");
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn execution_error_fails_and_tells_the_user() {
    let w = failing(
        Behaviour::ExecutionError,
        "job-exec",
        FailureReason::ComfyExecution,
    )
    .await;
    let told = w.tg.calls().iter().any(|c| {
        c.param("text")
            .as_str()
            .is_some_and(|t| t.contains("could not edit"))
    });
    assert!(told, "the user is told in English");
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn hang_past_deadline_interrupts_and_fails() {
    let w = World::start().await;
    w.comfy.push_behaviour(Behaviour::Hang);
    let mut s = settings();
    s.job_deadline = Duration::from_millis(1200);
    let host = w.host("host-a", s).await;
    w.submit("job-hang", "ru").await;
    let state = with_host(host, w.api.wait_final("job-hang", WAIT)).await;
    assert_eq!(state.status, "failed");
    assert_eq!(
        w.api.failure("job-hang").expect("failure").0,
        FailureReason::Timeout
    );
    assert_eq!(
        w.comfy.interrupts(),
        vec![Some(comfy_prompt_id(&"job-hang".into(), 1))]
    );
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn dropped_websocket_is_reconciled_through_history() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(600));
    w.comfy.push_behaviour(Behaviour::DropWebsocket);
    let state = run_one(&w, "job-ws", "en").await;
    assert_eq!(state.status, "succeeded");
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn comfy_crash_mid_run_resubmits() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(400));
    w.comfy
        .push_behaviour(Behaviour::Crash(Duration::from_millis(500)));
    let state = run_one(&w, "job-crash", "en").await;
    assert_eq!(state.status, "succeeded");
    assert_eq!(
        w.comfy.prompts().len(),
        2,
        "the lost prompt is submitted again"
    );
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn comfy_500_on_prompt_is_retried() {
    let w = World::start().await;
    w.comfy.push_behaviour(Behaviour::Fail500);
    let state = run_one(&w, "job-500", "en").await;
    assert_eq!(state.status, "succeeded");
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn telegram_429_is_honoured() {
    let w = World::start().await;
    w.tg.fail_next("sendPhoto", 1, Failure::TooManyRequests { retry_after: 1 });
    let state = run_one(&w, "job-429", "en").await;
    assert_eq!(state.status, "succeeded");
    let photos = w.tg.calls_of("sendPhoto");
    assert_eq!(photos.len(), 2);
    assert_eq!(photos[0].status, 429);
    assert_eq!(photos[1].status, 200);
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn telegram_403_fails_and_refunds() {
    let w = World::start().await;
    w.tg.fail_next("sendPhoto", 1, Failure::Blocked);
    let state = run_one(&w, "job-403", "en").await;
    assert_eq!(state.status, "failed");
    assert_eq!(state.refunds, 1);
    assert_eq!(
        w.api.failure("job-403").expect("failure").0,
        FailureReason::TelegramBlocked
    );
    assert_eq!(pending(&w.names).await, 0);
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn api_unreachable_is_retried_and_cancelled_jobs_are_skipped() {
    let w = World::start().await;
    w.api.fail_next(2);
    let state = run_one(&w, "job-api", "en").await;
    assert_eq!(state.status, "succeeded");
    let host = w.host("host-a", settings()).await;
    w.submit("job-cancelled", "en").await;
    w.api.cancel("job-cancelled").await;
    with_host(host, async {
        let end = std::time::Instant::now() + WAIT;
        while pending(&w.names).await > 0
            || w.api.events("job-cancelled").is_empty()
            || w.api.sweeps() == 0
        {
            assert!(std::time::Instant::now() < end, "cancelled job acked");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(w.comfy.prompts().len(), 1, "a cancelled job never runs");
    let cancelled = w.api.job("job-cancelled").await;
    assert_eq!(
        (cancelled.status.as_str(), cancelled.refunds),
        ("cancelled", 1)
    );
    assert!(w.api.sweeps() >= 1, "the host calls sweep");
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn redelivery_limit_dead_letters_and_fails() {
    let w = World::start().await;
    let msg = w.submit("job-dead", "ru").await;
    let mut r = redis().await;
    let _: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&w.names.stream)
        .arg(&w.names.group)
        .arg("0")
        .query_async(&mut r)
        .await;
    let read: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(&w.names.group)
        .arg("ghost")
        .arg("STREAMS")
        .arg(&w.names.stream)
        .arg(">")
        .query_async(&mut r)
        .await
        .expect("read");
    drop(read);
    let id: String = redis::cmd("XRANGE")
        .arg(&w.names.stream)
        .arg("-")
        .arg("+")
        .query_async::<Vec<(String, Vec<String>)>>(&mut r)
        .await
        .expect("range")[0]
        .0
        .clone();
    let _: redis::Value = redis::cmd("XCLAIM")
        .arg(&w.names.stream)
        .arg(&w.names.group)
        .arg("ghost")
        .arg(0)
        .arg(&id)
        .arg("RETRYCOUNT")
        .arg(3)
        .arg("JUSTID")
        .query_async(&mut r)
        .await
        .expect("claim");
    let host = w.host("host-a", settings()).await;
    let state = with_host(host, w.api.wait_final(msg.job_id.as_str(), WAIT)).await;
    assert_eq!(state.status, "failed");
    assert_eq!(
        w.api.failure("job-dead").expect("failure").0,
        FailureReason::RedeliveryLimit
    );
    assert_eq!(xlen(&w.names.dead).await, 1);
    assert!(w.comfy.prompts().is_empty());
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn two_hosts_share_one_queue_one_photo_per_job() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(100));
    let a = w.host("host-a", settings()).await;
    let b = w.host("host-b", settings()).await;
    let ids: Vec<String> = (0..6).map(|i| format!("job-two-{i}")).collect();
    for id in &ids {
        w.submit(id, "en").await;
    }
    let local = tokio::task::LocalSet::new();
    let (tx, rx) = tokio::sync::watch::channel(false);
    local
        .run_until(async {
            let ha = tokio::task::spawn_local(a.run(rx.clone()));
            let hb = tokio::task::spawn_local(b.run(rx));
            for id in &ids {
                assert_eq!(w.api.wait_final(id, WAIT).await.status, "succeeded");
            }
            let _ = tx.send(true);
            let _ = (ha.await, hb.await);
        })
        .await;
    assert_eq!(w.tg.calls_of("sendPhoto").len(), ids.len());
    assert_eq!(pending(&w.names).await, 0);
    let runs = w.comfy.runs();
    for pair in runs.windows(2) {
        assert!(
            pair[0].finished.expect("finished") <= pair[1].started,
            "runs never overlap"
        );
    }
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn input_over_20_mb_is_refused_with_a_clear_message() {
    let w = World::start().await;
    let host = w.host("host-a", settings()).await;
    let msg = job("job-big", "file-big", "ru");
    w.tg.add_file("file-big", vec![0u8; 21 * 1024 * 1024]);
    w.api.add(&msg).await;
    push(&w.names, &msg).await;
    let state = with_host(host, w.api.wait_final("job-big", WAIT)).await;
    assert_eq!(state.status, "failed");
    let (why, words) = w.api.failure("job-big").expect("failure");
    assert_eq!(why, FailureReason::InputTooLarge);
    assert!(words.contains("20 МБ"), "{words}");
    assert!(w.comfy.prompts().is_empty());
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn result_too_large_for_a_photo_goes_as_a_document() {
    let w = World::start().await;
    w.comfy.set_output(vec![7u8; 11 * 1024 * 1024]);
    let state = run_one(&w, "job-doc", "en").await;
    assert_eq!(state.status, "succeeded");
    assert!(w.tg.calls_of("sendPhoto").is_empty());
    let docs = w.tg.calls_of("sendDocument");
    assert_eq!(docs.len(), 1);
    assert_eq!(
        docs[0].file("document").map(|f| f.bytes.len()),
        Some(11 * 1024 * 1024)
    );
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn progress_bar_is_edited_at_most_once_a_second() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(2500));
    w.comfy.set_steps(20);
    let state = run_one(&w, "job-progress", "en").await;
    assert_eq!(state.status, "succeeded");
    let edits = w.tg.calls_of("editMessageText");
    let during: Vec<_> = edits
        .iter()
        .filter_map(|c| c.param("text").as_str().map(str::to_owned))
        .filter(|t| t.contains('%') && !t.contains("100%"))
        .collect();
    assert!(!during.is_empty(), "the bar moved: {edits:?}");
    assert!(
        during.len() <= 4,
        "at most ~1 edit/s over 2.5 s: {during:?}"
    );
    w.cleanup().await;
}

/// The dead-letter stream's entries: each one's fields.
async fn dead_entries(w: &World) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = redis().await;
    let all: Vec<(String, std::collections::HashMap<String, String>)> = redis::cmd("XRANGE")
        .arg(&w.names.dead)
        .arg("-")
        .arg("+")
        .query_async(&mut r)
        .await
        .expect("xrange");
    all.into_iter().map(|(_, f)| f).collect()
}

async fn wait_dead(w: &World, n: u64) {
    let end = std::time::Instant::now() + WAIT;
    while xlen(&w.names.dead).await < n {
        assert!(std::time::Instant::now() < end, "dead-lettered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn signed_but_unreadable_entry_fails_its_job_once_and_is_dead_lettered() {
    let w = World::start().await;
    let msg = job("job-unreadable", "file-unreadable", "en");
    w.api.add(&msg).await;
    let mut raw: serde_json::Value =
        serde_json::from_str(&msg.to_json().expect("json")).expect("v");
    raw["v"] = 99.into();
    let json = raw.to_string();
    let sig = qwen_contract::signing::sign_job(SECRET.as_bytes(), &json);
    push_fields(
        &w.names,
        "job-unreadable",
        &[("job", json.as_str()), ("sig", sig.as_str())],
    )
    .await;
    let bad = "{not json";
    let bad_sig = qwen_contract::signing::sign_job(SECRET.as_bytes(), bad);
    push_fields(
        &w.names,
        "job-none",
        &[("job", bad), ("sig", bad_sig.as_str())],
    )
    .await;
    let host = w.host("host-a", settings()).await;
    let state = with_host(host, async {
        wait_dead(&w, 2).await;
        w.api.wait_final("job-unreadable", WAIT).await
    })
    .await;
    assert_eq!((state.status.as_str(), state.refunds), ("failed", 1));
    let (why, words) = w.api.failure("job-unreadable").expect("failure");
    assert_eq!(why, FailureReason::UnreadableMessage);
    assert!(words.contains("credits have been returned"), "{words}");
    assert!(
        dead_entries(&w)
            .await
            .iter()
            .all(|f| f["reason"] == "unreadable")
    );
    assert_eq!(pending(&w.names).await, 0);
    assert!(w.comfy.prompts().is_empty());
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn unsigned_or_forged_entries_never_run_nor_touch_the_job() {
    let w = World::start().await;
    let msg = job("job-victim", "file-victim", "en");
    w.tg.add_file("file-victim", testkit::fakes::comfyui::TINY_PNG.to_vec());
    w.api.add(&msg).await;
    let json = msg.to_json().expect("json");
    let forged = qwen_contract::signing::sign_job(b"not-the-edge-secret", &json);
    push_fields(&w.names, "job-victim", &[("job", json.as_str())]).await;
    push_fields(
        &w.names,
        "job-victim",
        &[("job", json.as_str()), ("sig", forged.as_str())],
    )
    .await;
    push_fields(
        &w.names,
        "job-victim",
        &[("job", json.as_str()), ("sig", "v1=zz")],
    )
    .await;
    let host = w.host("host-a", settings()).await;
    let metrics = host.metrics.clone();
    with_host(host, wait_dead(&w, 3)).await;
    let reasons: Vec<String> = dead_entries(&w)
        .await
        .iter()
        .map(|f| f["reason"].clone())
        .collect();
    assert_eq!(reasons, ["unsigned", "bad_signature", "bad_signature"]);
    assert_eq!(
        dead_entries(&w).await[1]["sig"],
        forged,
        "the signature is kept"
    );
    assert_eq!(pending(&w.names).await, 0, "acked");
    assert_eq!(metrics.rejections("unsigned"), 1);
    assert_eq!(metrics.rejections("bad_signature"), 2);
    assert!(
        metrics
            .render()
            .contains("gpu_host_rejected_entries_total{reason=\"bad_signature\"} 2")
    );
    assert!(
        w.api.events("job-victim").is_empty(),
        "no event for the job"
    );
    assert_eq!(w.api.job("job-victim").await.status, "queued");
    assert!(w.comfy.prompts().is_empty() && w.comfy.uploads().is_empty());
    assert!(w.tg.calls().is_empty(), "nothing asked of Telegram");
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn wrong_event_secret_keeps_the_entry_pending() {
    let w = World::start().await;
    let mut s = settings();
    s.visibility = Duration::from_secs(30);
    let host = w
        .host_for("host-a", s, w.names.clone(), &w.api.url(), "wrong-secret")
        .await;
    // The entry verifies with the host's secret; only the api's differs.
    let msg = job("job-401", "file-job-401", "en");
    w.tg.add_file("file-job-401", testkit::fakes::comfyui::TINY_PNG.to_vec());
    w.api.add(&msg).await;
    let json = msg.to_json().expect("json");
    let sig = qwen_contract::signing::sign_job(b"wrong-secret", &json);
    push_fields(
        &w.names,
        "job-401",
        &[("job", json.as_str()), ("sig", sig.as_str())],
    )
    .await;
    with_host(host, tokio::time::sleep(Duration::from_millis(1500))).await;
    assert_eq!(pending(&w.names).await, 1, "nothing acked on 401");
    let events = w.api.events("job-401");
    assert!(
        !events.is_empty() && events.iter().all(|e| e.2 == 401),
        "every event was refused with 401: {events:?}"
    );
    assert_eq!(w.api.job("job-401").await.status, "queued");
    assert!(w.comfy.prompts().is_empty(), "no run without the edge's go");
    w.cleanup().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_host_reports_itself_and_the_edge_quotes_its_pace() {
    let w = World::start().await;
    w.comfy.set_steps(2);
    let host = w.host("host-a", settings()).await;
    w.submit("job-report", "en").await;
    let fleet = with_host(host, async {
        let state = w.api.wait_final("job-report", WAIT).await;
        assert_eq!(state.status, "succeeded");
        let end = std::time::Instant::now() + WAIT;
        loop {
            let (status, fleet) = w.api.call("GET", "/api/fleet", None).await;
            assert_eq!(status, 200, "{fleet}");
            if fleet["hosts"][0]["jobs_done"] == 1 {
                return fleet;
            }
            assert!(
                std::time::Instant::now() < end,
                "no report after the job: {fleet}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let h = &fleet["hosts"][0];
    assert_eq!(h["host"], "host-a");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(h["stale"], false);
    assert_eq!(h["comfy_up"], true, "{h}");
    assert_eq!(
        h["current_job"],
        serde_json::Value::Null,
        "idle after the job"
    );
    assert!(h["run_ms_mean"].as_u64().is_some_and(|ms| ms > 0), "{h}");
    assert!(h["run_ms_p90"].as_u64() >= h["run_ms_mean"].as_u64(), "{h}");
    assert!(
        h["busy_ratio"]
            .as_f64()
            .is_some_and(|r| (0.0..=1.0).contains(&r))
    );
    assert!(
        h["workflow"]
            .as_str()
            .is_some_and(|wf| wf.contains("model_free")),
        "{h}"
    );
    assert!(
        matches!(fleet["wait_for_new_job"]["state"].as_str(), Some("about")),
        "a live host gives a number: {fleet}"
    );
    assert!(w.api.reports() >= 2, "the host keeps reporting");
    w.cleanup().await;
}

fn encoded(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

fn animated_gif() -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        for _ in 0..2 {
            let frame = image::Frame::new(image::RgbaImage::new(4, 4));
            enc.encode_frame(frame).expect("frame");
        }
    }
    out
}

/// Registers a job whose photos are `files` (file id, bytes; `None`: Telegram does not know
/// the file) and pushes it.
async fn submit_files(w: &World, job_id: &str, files: Vec<(String, Option<Vec<u8>>)>) {
    let mut msg = job(job_id, "-", "en");
    msg.file_ids = files.iter().map(|(id, _)| id.clone()).collect();
    for (id, bytes) in files {
        if let Some(b) = bytes {
            w.tg.add_file(&id, b);
        }
    }
    w.api.add(&msg).await;
    push(&w.names, &msg).await;
}

#[tokio::test(flavor = "current_thread")]
async fn inputs_are_checked_before_the_gpu_and_the_user_is_told_why() {
    let w = World::start().await;
    let mut s = settings();
    s.max_megapixels = 1;
    let host = w.host("host-a", s).await;
    let still = image::DynamicImage::new_rgb8(30, 20);
    let big = image::DynamicImage::new_rgb8(1200, 1000);
    let one = |id: &str, b: Option<Vec<u8>>| vec![(format!("file-{id}"), b)];
    let cases = [
        (
            "job-anim",
            one("anim", Some(animated_gif())),
            FailureReason::InputAnimated,
            "Animated",
        ),
        (
            "job-junk",
            one("junk", Some(b"%PDF-1.4 not a photo".to_vec())),
            FailureReason::InputUndecodable,
            "could not open",
        ),
        (
            "job-pixels",
            one("pixels", Some(encoded(big, image::ImageFormat::Png))),
            FailureReason::InputTooManyPixels,
            "more than 1 megapixels",
        ),
        (
            "job-gone",
            one("gone", None),
            FailureReason::BadInput,
            "could not get your photo",
        ),
    ];
    for (id, files, _, _) in &cases {
        submit_files(&w, id, files.clone()).await;
    }
    let two = [
        one("two-a", Some(TINY_PNG.to_vec())),
        one("two-b", Some(TINY_PNG.to_vec())),
    ]
    .concat();
    submit_files(&w, "job-two", two).await;
    submit_files(
        &w,
        "job-jpeg",
        one("jpeg", Some(encoded(still, image::ImageFormat::Jpeg))),
    )
    .await;
    let states = with_host(host, async {
        let mut states = vec![];
        for id in [
            "job-anim",
            "job-junk",
            "job-pixels",
            "job-gone",
            "job-two",
            "job-jpeg",
        ] {
            states.push(w.api.wait_final(id, WAIT).await.status);
        }
        states
    })
    .await;
    assert_eq!(
        states,
        [
            "failed",
            "failed",
            "failed",
            "failed",
            "failed",
            "succeeded"
        ]
    );
    for (id, _, want, words) in cases {
        let (why, text) = w.api.failure(id).expect("failure");
        assert_eq!(why, want, "{id}");
        assert!(text.contains(words), "{id}: {text}");
    }
    assert_eq!(
        w.api.failure("job-two").expect("failure").0,
        FailureReason::InputTooManyImages
    );
    assert!(
        w.tg.calls_of("getFile")
            .iter()
            .all(|c| !c.param("file_id").to_string().contains("two")),
        "nothing downloaded for a job with too many images"
    );
    let uploads = w.comfy.uploads();
    assert_eq!(
        uploads.len(),
        1,
        "only the good photo reached ComfyUI: {uploads:?}"
    );
    let sent = w.comfy.upload_bytes(&uploads[0]).expect("upload");
    assert_eq!(
        image::guess_format(&sent).expect("format"),
        image::ImageFormat::Png,
        "a PNG, not the JPEG as sent"
    );
    let back = image::load_from_memory(&sent).expect("decodes");
    assert_eq!((back.width(), back.height()), (30, 20));
    assert_eq!(w.comfy.prompts().len(), 1);
    w.cleanup().await;
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test(flavor = "current_thread")]
async fn final_jobs_leave_no_photo_on_the_comfyui_host() {
    let w = World::start().await;
    let root = tempfile::tempdir().expect("dir");
    let (input, output) = (root.path().join("input"), root.path().join("output"));
    let qwen = output.join("qwen_edit");
    std::fs::create_dir_all(&input).expect("input");
    std::fs::create_dir_all(&qwen).expect("qwen_edit");
    // Someone else's files, and leftovers of a host that crashed long ago.
    std::fs::write(input.join("example.png"), TINY_PNG).expect("foreign input");
    std::fs::write(output.join("ComfyUI_00001_.png"), TINY_PNG).expect("foreign output");
    std::fs::write(input.join("qwen_in_ghost_1_0.png"), TINY_PNG).expect("leftover");
    std::fs::write(qwen.join("ghost_00009_.png"), TINY_PNG).expect("leftover");
    let host = w
        .host_retaining("host-a", settings(), root.path(), Duration::ZERO)
        .await;
    w.comfy.push_behaviour(Behaviour::Succeed);
    w.comfy.push_behaviour(Behaviour::ExecutionError);
    let (states, leftover_inputs, leftover_outputs) = with_host(host, async {
        let mut states = vec![];
        for id in ["job-kept-ok", "job-kept-err", "job-kept-403"] {
            if id == "job-kept-403" {
                // The run saves its output, then the photo cannot be sent: failed, refunded.
                w.tg.fail_next("sendPhoto", 1, Failure::Blocked);
            }
            w.submit(id, "en").await;
            states.push(w.api.wait_final(id, WAIT).await.status);
        }
        let end = std::time::Instant::now() + Duration::from_secs(5);
        while (files_in(&input).len() > 1 || !files_in(&qwen).is_empty())
            && std::time::Instant::now() < end
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (states, files_in(&input), files_in(&qwen))
    })
    .await;
    assert_eq!(states, ["succeeded", "failed", "failed"]);
    assert_eq!(w.comfy.uploads().len(), 3, "every job uploaded an input");
    assert_eq!(w.comfy.runs().len(), 3);
    assert_eq!(
        leftover_inputs,
        ["example.png"],
        "only someone else's file stays"
    );
    assert!(leftover_outputs.is_empty(), "{leftover_outputs:?}");
    assert_eq!(files_in(&output), ["ComfyUI_00001_.png", "qwen_edit"]);
    w.cleanup().await;
}

/// A user of its own, with credits, and a job message of theirs.
async fn other_user(w: &World, user: i64, job_id: &str) -> qwen_contract::JobMessage {
    let body = serde_json::json!({"telegram_id": user, "first_name": "U", "language_code": "en"});
    let (status, answer) = w.api.call("POST", "/api/users/", Some(body)).await;
    assert!(status == 200 || status == 201, "register: {answer}");
    let credit = serde_json::json!({"amount": 100, "reason": "test"});
    let path = format!("/api/balance/{user}/adjust");
    let (status, answer) = w.api.call("POST", &path, Some(credit)).await;
    assert_eq!(status, 201, "credit: {answer}");
    let mut msg = job(job_id, &format!("file-{job_id}"), "en");
    msg.user_id = qwen_contract::UserId(user);
    msg.chat_id = qwen_contract::ChatId(user);
    w.tg.add_file(&msg.file_ids[0], TINY_PNG.to_vec());
    msg
}

async fn wait_for(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let end = std::time::Instant::now() + WAIT;
    while !ok().await {
        assert!(std::time::Instant::now() < end, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Job A runs; user 2's job B waits inside ComfyUI's queue (position 1) and user 3's job C
/// is prepared on the host (position 2). Until the GPU begins a job it is `queued` at the
/// edge; both owners cancel: B's prompt is deleted from ComfyUI's queue, C never reaches
/// ComfyUI, neither runs nor is delivered, both are refunded, and A is delivered.
#[tokio::test(flavor = "current_thread")]
async fn jobs_waiting_in_comfy_or_prepared_are_cancelled_and_never_run() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_secs(3));
    let host = w.host("host-a", settings()).await;
    w.submit("job-a", "en").await;
    for (user, id) in [(7002, "job-b"), (7003, "job-c")] {
        let msg = other_user(&w, user, id).await;
        w.api.add(&msg).await;
        push(&w.names, &msg).await;
    }
    let pid = |id: &str| comfy_prompt_id(&id.into(), 1);
    let (a, b, c) = with_host(host, async {
        wait_for("A runs, B waits in ComfyUI, C is claimed", async || {
            w.comfy.runs().len() == 1
                && w.comfy.prompts().len() == 2
                && w.api.events("job-c").iter().any(|e| e.0 == "claimed")
        })
        .await;
        for id in ["job-b", "job-c"] {
            let s = w.api.job(id).await;
            assert_eq!(
                (s.status.as_str(), s.attempt),
                ("queued", 1),
                "{id} waits: {s:?}"
            );
        }
        assert_eq!(w.api.job("job-a").await.status, "running");
        w.api.cancel("job-b").await;
        w.api.cancel("job-c").await;
        let a = w.api.wait_final("job-a", WAIT).await;
        wait_for("B and C settled on the host", async || {
            pending(&w.names).await == 0
        })
        .await;
        (a, w.api.job("job-b").await, w.api.job("job-c").await)
    })
    .await;
    assert_eq!(a.status, "succeeded");
    for s in [&b, &c] {
        assert_eq!((s.status.as_str(), s.refunds), ("cancelled", 1), "{s:?}");
    }
    let ran: Vec<String> = w.comfy.runs().iter().map(|r| r.prompt_id.clone()).collect();
    assert_eq!(ran, [pid("job-a")], "only A ever ran");
    assert!(
        w.comfy.deleted().contains(&pid("job-b")),
        "B's prompt left ComfyUI's queue"
    );
    assert!(
        !w.comfy
            .prompts()
            .iter()
            .any(|p| p.prompt_id == pid("job-c")),
        "C never reached ComfyUI"
    );
    for id in ["job-b", "job-c"] {
        assert!(
            !w.api.events(id).iter().any(|e| e.0 == "started"),
            "{id} never started: {:?}",
            w.api.events(id)
        );
    }
    let photos = w.tg.calls_of("sendPhoto");
    assert_eq!(photos.len(), 1, "only A's photo was sent");
    w.cleanup().await;
}

/// While job A runs, job B's prompt is already in ComfyUI's queue, so ComfyUI begins it
/// the moment A ends (no round trip through the host between the two); `started` of each
/// is reported when ComfyUI begins it, not when the host prepares it.
#[tokio::test(flavor = "current_thread")]
async fn the_next_prompt_waits_inside_comfy_and_starts_when_the_gpu_does() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(1500));
    let host = w.host("host-a", settings()).await;
    for id in ["job-1", "job-2", "job-3"] {
        w.submit(id, "en").await;
    }
    with_host(host, async {
        for id in ["job-1", "job-2", "job-3"] {
            w.api.wait_final(id, WAIT).await;
        }
    })
    .await;
    let runs = w.comfy.runs();
    let prompts = w.comfy.prompts();
    assert_eq!(runs.len(), 3);
    for pair in runs.windows(2) {
        let next = prompts
            .iter()
            .find(|p| p.prompt_id == pair[1].prompt_id)
            .expect("the next prompt was posted");
        let prev_end = pair[0].finished.expect("the run ended");
        assert!(
            next.submitted < prev_end,
            "the next prompt was in ComfyUI before the previous run ended"
        );
    }
    for (i, id) in ["job-1", "job-2", "job-3"].iter().enumerate() {
        let started = w.api.event_time(id, "started").expect("started reported");
        assert!(
            started >= runs[i].started,
            "{id}: started is reported once ComfyUI begins the run, not before"
        );
        assert_eq!(w.api.job(id).await.status, "succeeded");
    }
    w.cleanup().await;
}

/// The websocket goes silent mid-run without closing (ComfyUI sends no pings): with the
/// `/history` timer far away, the watchdog notices the silence, opens a new socket and the
/// run ends as it should.
#[tokio::test(flavor = "current_thread")]
async fn a_silent_websocket_is_replaced_and_the_run_still_ends() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(3000));
    w.comfy.push_behaviour(Behaviour::MuteWebsocket);
    let mut s = settings();
    s.reconcile = Duration::from_secs(600);
    s.patience.silence = Duration::from_millis(800);
    let host = w.host("host-a", s).await;
    w.submit("job-mute", "en").await;
    let state = with_host(host, w.api.wait_final("job-mute", WAIT)).await;
    assert_eq!(state.status, "succeeded");
    assert!(w.comfy.ws_connects() >= 2, "the silent socket was replaced");
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    w.cleanup().await;
}

/// ComfyUI stops answering mid-run for longer than the host's patience: the job is given
/// back (not failed, not refunded), the host reports ComfyUI down and takes nothing; once
/// ComfyUI answers again the finished run is found in its history and delivered once.
#[tokio::test(flavor = "current_thread")]
async fn comfy_gone_mid_run_gives_the_job_back_and_it_is_delivered_later() {
    let w = World::start().await;
    w.comfy.set_run_time(Duration::from_millis(2500));
    let host = w.host("host-a", settings()).await;
    let metrics = host.metrics.clone();
    w.submit("job-gone", "en").await;
    let state = with_host(host, async {
        wait_for("the run began", async || w.comfy.runs().len() == 1).await;
        w.comfy.set_up(false).await;
        wait_for("the job given back", async || {
            metrics.jobs("abandoned") == 1
        })
        .await;
        assert!(
            !metrics.heartbeat_comfy_up(),
            "the host reports ComfyUI down"
        );
        let s = w.api.job("job-gone").await;
        assert_eq!(
            (s.status.as_str(), s.refunds),
            ("running", 0),
            "not burned: {s:?}"
        );
        w.comfy.set_up(true).await;
        w.api.wait_final("job-gone", WAIT).await
    })
    .await;
    assert_eq!((state.status.as_str(), state.refunds), ("succeeded", 0));
    assert!(!w.api.events("job-gone").iter().any(|e| e.0 == "failed"));
    assert_eq!(w.comfy.runs().len(), 1, "the run was not repeated");
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    w.cleanup().await;
}

/// Another process holds the GPU lock past the host's patience: the job is given back, not
/// failed (nothing the user did), and runs once the lock is free.
#[tokio::test(flavor = "current_thread")]
async fn a_busy_gpu_lock_gives_the_job_back_instead_of_failing_it() {
    let w = World::start().await;
    let other = gpu_host::lock::GpuLock::new(&w.lock_path)
        .acquire(Duration::from_secs(1))
        .await
        .expect("the other process's lock");
    let mut s = settings();
    s.lock_timeout = Duration::from_millis(300);
    let host = w.host("host-a", s).await;
    let metrics = host.metrics.clone();
    w.submit("job-lock", "en").await;
    let state = with_host(host, async {
        wait_for("the job given back", async || {
            metrics.jobs("abandoned") >= 1
        })
        .await;
        let s = w.api.job("job-lock").await;
        assert_eq!(
            (s.status.as_str(), s.refunds),
            ("queued", 0),
            "not failed: {s:?}"
        );
        drop(other);
        w.api.wait_final("job-lock", WAIT).await
    })
    .await;
    assert_eq!((state.status.as_str(), state.refunds), ("succeeded", 0));
    assert!(!w.api.events("job-lock").iter().any(|e| e.0 == "failed"));
    assert_eq!(w.tg.calls_of("sendPhoto").len(), 1);
    w.cleanup().await;
}
