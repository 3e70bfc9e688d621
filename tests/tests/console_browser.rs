//! The operator console in a real browser (headless Chromium over WebDriver) against the
//! real edge under `spin up`: sign in, find a user, adjust their balance (the ledger line
//! names the operator), cancel their queued job, refund their Stars payment (the fake Bot
//! API answers `refundStarPayment`), and the fleet page with one live and one stale host.
//! Skips without Chromium/chromedriver or Spin, unless `CI` is set (then it fails).

use std::time::{Duration, Instant};

use console::password::PasswordHash;
use fantoccini::{Client, Locator};
use qwen_core::contract::HostHeartbeat;
use qwen_core::fleet::STALE_AFTER_MS;
use qwen_core::signing;
use serde_json::json;
use testkit::browser::{Driver, chromium_or_skip, screenshot_dir};
use testkit::edge::Edge;
use testkit::updates::successful_payment;

const USER: i64 = 930_001;
const PASSWORD: &str = "browser-password-123";
const WAIT: Duration = Duration::from_secs(30);

async fn shot(c: &Client, name: &str) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    let png = c.screenshot().await.expect("screenshot");
    let path = screenshot_dir("console-screenshots").join(name);
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
}

async fn text_of(c: &Client, css: &str) -> String {
    let el = c.wait().at_most(WAIT).for_element(Locator::Css(css)).await;
    el.unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap_or_default()
}

async fn fill(c: &Client, css: &str, value: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    el.send_keys(value).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    let el = c.wait().at_most(WAIT).for_element(Locator::Css(css)).await;
    el.unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .expect("click");
}

async fn wait_url(c: &Client, part: &str) {
    let end = Instant::now() + WAIT;
    while !c
        .current_url()
        .await
        .map(|u| u.as_str().contains(part))
        .unwrap_or(false)
    {
        assert!(Instant::now() < end, "never reached a URL with {part}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn heartbeat(edge: &Edge, host: &str, busy: f64) {
    let hb = HostHeartbeat {
        v: 1,
        host: host.into(),
        version: "0.1.0".into(),
        workflow: "model_free".into(),
        comfy_up: true,
        current_job: None,
        jobs_done: 12,
        run_ms_mean: Some(21_000),
        run_ms_p90: Some(30_000),
        busy_ratio: busy,
        at: 0,
    };
    let body = serde_json::to_vec(&hb).expect("json");
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let sig = signing::sign(
        edge.secrets.gpu_event_secret.as_bytes(),
        ts,
        "POST",
        "/internal/hosts/heartbeat",
        &body,
    );
    let resp = reqwest::Client::new()
        .post(edge.app.url("/internal/hosts/heartbeat"))
        .header(signing::TIMESTAMP_HEADER, ts.to_string())
        .header(signing::SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("heartbeat");
    assert_eq!(resp.status().as_u16(), 200, "heartbeat of {host}");
}

/// A user with a queued job and a credited Stars payment; returns (job id, payment id).
async fn seed(edge: &Edge) -> (String, String) {
    edge.register(USER).await;
    let job = json!({"telegram_id": USER, "preset_id": "anime", "file_ids": ["AgACAgIAAxkBAAI"]});
    let (s, created) = edge.api("POST", "/api/jobs/", Some(job)).await;
    assert_eq!(s, 201, "{created}");
    let pay = json!({"telegram_id": USER, "method": "stars", "package": 50});
    let (s, p) = edge.api("POST", "/api/payments/", Some(pay)).await;
    assert_eq!(s, 201, "{p}");
    let id = p["payment"]["id"].as_str().unwrap_or("").to_owned();
    edge.send(&successful_payment(
        edge.update_id(),
        USER,
        &id,
        50,
        "stxBROWSER",
    ))
    .await;
    let job_id = created["job_id"].as_str().unwrap_or("").to_owned();
    (job_id, id)
}

/// A credited 300 ₽ card payment of `user`; returns YooKassa's id.
async fn credited_card(edge: &Edge, user: i64) -> String {
    let (_, yk) = edge.on(0).card_payment(user).await;
    edge.yk.set_status(&yk, "succeeded");
    let (status, answer) = edge
        .notify(&edge.yk.notification("payment.succeeded", &yk))
        .await;
    assert_eq!(status, 200, "{answer}");
    yk
}

/// One payment of each kind a reconciliation reports; returns our id of the one paid at
/// YooKassa but never credited here.
async fn plant_mismatches(edge: &Edge) -> String {
    let user = USER + 1;
    edge.register(user).await;
    credited_card(edge, user).await;
    let (lost, lost_yk) = edge.on(0).card_payment(user).await;
    edge.yk.set_status(&lost_yk, "succeeded");
    let ghost = credited_card(edge, user).await;
    edge.yk.set_status(&ghost, "canceled");
    let odd = credited_card(edge, user).await;
    edge.yk.set_field(&odd, "/amount/value", json!("1.00"));
    let refunded = credited_card(edge, user).await;
    edge.yk.refund(&refunded);
    lost
}

/// Runs today's reconciliation from the console, sees every kind, credits the lost one.
async fn reconciliation(c: &Client, edge: &Edge) {
    let lost = plant_mismatches(edge).await;
    click(c, "nav a[href='/console/reconciliations']").await;
    let now = qwen_core::ports::Clock::now_ms(&testkit::clock::SystemClock);
    let today = qwen_core::payments::reconcile::time::iso(now);
    let set = "document.querySelector('input[name=day]').value = arguments[0]";
    c.execute(set, vec![json!(&today[..10])])
        .await
        .expect("set the day");
    click(c, "form[action='/console/reconciliations'] button").await;
    wait_url(c, "/console/reconciliations/").await;
    for kind in [
        "matched",
        "missing_ours",
        "missing_theirs",
        "amount_mismatch",
        "refund_not_taken_back",
    ] {
        text_of(c, &format!("tr[data-kind='{kind}']")).await;
    }
    shot(c, "07-reconciliation.png").await;
    let balance = edge.balance(USER + 1).await;
    click(c, "tr[data-kind='missing_ours'] form button").await;
    let flash = text_of(c, ".flash.ok").await;
    assert!(
        flash.contains("зачислен") || flash.contains("credited"),
        "{flash}"
    );
    assert_eq!(
        edge.balance(USER + 1).await,
        balance + 330,
        "credited once: 300 + 10 %"
    );
    let (_, row) = edge
        .api("GET", &format!("/api/payments/{lost}"), None)
        .await;
    assert_eq!(row["status"], "succeeded", "{row}");
}

async fn sign_in(c: &Client, edge: &Edge) {
    c.goto(&edge.app.url("/console/"))
        .await
        .expect("open console");
    wait_url(c, "/console/login").await;
    fill(c, "input[name=name]", "anna").await;
    fill(c, "input[name=password]", PASSWORD).await;
    shot(c, "01-sign-in.png").await;
    click(c, "form.login button").await;
    wait_url(c, "/console/fleet").await;
}

async fn adjust_cancel_refund(c: &Client, edge: &Edge, job: &str, payment: &str) {
    click(c, "nav a[href='/console/users']").await;
    fill(c, "input[name=q]", &USER.to_string()).await;
    click(c, "form.filter button").await;
    wait_url(c, &format!("/console/users/{USER}")).await;
    fill(c, "form.adjust input[name=amount]", "25").await;
    fill(c, "form.adjust input[name=reason]", "browser goodwill").await;
    click(c, "form.adjust button").await;
    wait_url(c, "done=adjusted").await;
    let ledger = text_of(c, "table").await;
    assert!(ledger.contains("browser goodwill (by anna)"), "{ledger}");
    shot(c, "02-user-adjusted.png").await;
    click(c, &format!("tr[data-job='{job}'] button")).await;
    wait_url(c, "done=cancelled").await;
    assert_eq!(
        text_of(c, &format!("tr[data-job='{job}'] td.status")).await,
        "cancelled"
    );
    click(c, &format!("tr[data-payment='{payment}'] button")).await;
    wait_url(c, "done=refunded").await;
    assert_eq!(
        text_of(c, &format!("tr[data-payment='{payment}'] td.status")).await,
        "refunded"
    );
    assert_eq!(edge.tg.calls_of("refundStarPayment").len(), 1);
    let ledger = text_of(c, "table").await;
    assert!(
        ledger.contains("cancelled by anna") && ledger.contains("refunded by anna"),
        "the operator's name lands in the ledger: {ledger}"
    );
    shot(c, "03-user-cancelled-refunded.png").await;
}

async fn fleet(c: &Client, edge: &Edge, stale_since: Instant) {
    let left =
        Duration::from_millis(STALE_AFTER_MS as u64 + 1_500).saturating_sub(stale_since.elapsed());
    tokio::time::sleep(left).await;
    heartbeat(edge, "gpu-live", 0.62).await;
    click(c, "nav a[href='/console/fleet']").await;
    wait_url(c, "/console/fleet").await;
    assert!(text_of(c, "tr.stale").await.contains("gpu-stale"));
    assert!(text_of(c, "tr.live").await.contains("gpu-live"));
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let refreshed = c.find(Locator::Css("#live[data-refreshed]")).await;
    assert!(refreshed.is_ok(), "the live part refreshed itself");
    shot(c, "04-fleet-live-and-stale.png").await;
    click(c, "nav a.lang").await;
    wait_url(c, "/console/fleet").await;
    assert!(text_of(c, "nav").await.contains("Queue and hosts"));
    shot(c, "05-fleet-english.png").await;
    click(c, "nav a[href='/console/payments']").await;
    shot(c, "06-payments-english.png").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn console_in_a_browser_on_the_real_edge() {
    let Some((chromium, chromedriver)) = chromium_or_skip("console_in_a_browser") else {
        return;
    };
    let Some(spin) = testkit::spin::spin_for_test("console_in_a_browser") else {
        return;
    };
    let entry = format!(
        "anna:{}",
        PasswordHash::new(PASSWORD, b"browser-test-salt", 1_000)
    );
    let key = testkit::edge::random_alnum(40);
    let vars = [
        ("console_operators", entry.as_str()),
        ("console_session_key", key.as_str()),
    ];
    let edge = Edge::start(&spin, &vars).await;
    heartbeat(&edge, "gpu-stale", 0.9).await;
    let stale_since = Instant::now();
    let (job, payment) = seed(&edge).await;
    let driver = Driver::start(&chromedriver);
    let c = driver.session(&chromium).await;
    sign_in(&c, &edge).await;
    adjust_cancel_refund(&c, &edge, &job, &payment).await;
    fleet(&c, &edge, stale_since).await;
    reconciliation(&c, &edge).await;
    let page = c.source().await.unwrap_or_default();
    assert!(
        !page.contains(&edge.secrets.api_token),
        "no API token in a page"
    );
    let _ = c.close().await;
}
