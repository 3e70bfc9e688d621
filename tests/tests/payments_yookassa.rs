//! YooKassa top-ups end to end: the real handlers (api routes with payments, the payments
//! webhook) against the fake YooKassa and the fake Bot API on loopback, real SQLite.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::fakes::yookassa::Failure;
use testkit::payments::{PayFixture, check_invariants};

fn provider_id(created: &Value) -> String {
    created["payment"]["provider_payment_id"]
        .as_str()
        .expect("provider id")
        .to_owned()
}

fn our_id(created: &Value) -> String {
    created["payment"]["id"]
        .as_str()
        .expect("payment id")
        .to_owned()
}

/// Creates a card payment of `package` roubles for a new user `uid`; returns the answer.
async fn paid_setup(f: &PayFixture, uid: i64, package: i64) -> Value {
    f.register(uid).await;
    let (status, created) = f.create(uid, "yookassa_card", package).await;
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test]
async fn card_and_sbp_payments_are_created_with_the_real_request_shape() {
    let f = PayFixture::start("pay_create", |_| {}).await;
    let created = paid_setup(&f, 7001, 300).await;
    let url = created["confirmation_url"].as_str().unwrap_or("");
    assert!(url.starts_with("https://yoomoney.ru/"), "{created}");
    assert_eq!(created["payment"]["amount"], 30_000, "kopecks");
    assert_eq!(
        (
            created["payment"]["credits"].as_i64(),
            created["payment"]["bonus"].as_i64()
        ),
        (Some(300), Some(30))
    );
    let req = &f.yk.requests()[0];
    assert!(req.authorized, "Basic auth shop_id:secret_key");
    assert_eq!(
        req.idempotence_key.as_deref(),
        Some(our_id(&created).as_str())
    );
    let b = &req.body;
    assert_eq!(b["amount"], json!({"value": "300.00", "currency": "RUB"}));
    assert_eq!(b["capture"], true);
    assert_eq!(b["payment_method_data"]["type"], "bank_card");
    assert_eq!(
        b["confirmation"],
        json!({"type": "redirect", "return_url": "https://t.me/qwen_edit_bot"})
    );
    assert_eq!(
        b["metadata"],
        json!({"payment_id": our_id(&created), "telegram_id": "7001"})
    );
    assert!(b["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(b.get("receipt").is_none(), "receipts are off by default");

    let (status, sbp) = f.create(7001, "yookassa_sbp", 100).await;
    assert_eq!(status, 201, "{sbp}");
    assert_eq!(
        f.yk.requests()[1].body["payment_method_data"]["type"],
        "sbp"
    );
    let row = f.payment(&our_id(&sbp)).await;
    assert_eq!(
        (row["status"].as_str(), row["method"].as_str()),
        (Some("pending"), Some("yookassa_sbp"))
    );
    let (status, list) = f.call("GET", "/api/users/7001/payments", None).await;
    assert_eq!((status, list["total"].as_i64()), (200, Some(2)), "{list}");
    f.cleanup().await;
}

#[tokio::test]
async fn receipt_is_sent_when_enabled() {
    let f = PayFixture::start("pay_receipt", |p| p.receipt = true).await;
    f.register(7002).await;
    let body = json!({"telegram_id": 7002, "method": "yookassa_card", "amount": 150, "email": "user@example.com"});
    let (status, created) = f.call("POST", "/api/payments/", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let receipt = &f.yk.requests()[0].body["receipt"];
    assert_eq!(receipt["customer"]["email"], "user@example.com");
    assert_eq!(receipt["items"][0]["amount"]["value"], "150.00");
    assert_eq!(receipt["items"][0]["vat_code"], 1);
    f.cleanup().await;
}

#[tokio::test]
async fn limits_and_bad_input_are_clear_errors() {
    let f = PayFixture::start("pay_limits", |_| {}).await;
    f.register(7003).await;
    let post = |b: Value| f.call("POST", "/api/payments/", Some(b));
    let (s, b) = post(json!({"telegram_id": 7003, "method": "yookassa_card", "amount": 10})).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (422, Some("amount_out_of_range")),
        "{b}"
    );
    let (s, b) =
        post(json!({"telegram_id": 7003, "method": "yookassa_card", "amount": 1_000_000})).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (422, Some("amount_out_of_range")),
        "{b}"
    );
    let (s, b) =
        post(json!({"telegram_id": 7003, "method": "yookassa_card", "package": 123})).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (422, Some("invalid_package")),
        "{b}"
    );
    let (s, b) = post(json!({"telegram_id": 7003, "method": "paypal", "package": 100})).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (422, Some("invalid_method")),
        "{b}"
    );
    let (s, _) =
        post(json!({"telegram_id": 9999, "method": "yookassa_card", "package": 100})).await;
    assert_eq!(s, 404);
    assert!(f.yk.requests().is_empty(), "nothing reached YooKassa");
    f.cleanup().await;
}

#[tokio::test]
async fn yookassa_errors_become_api_errors_and_are_recorded() {
    let f = PayFixture::start("pay_errors", |p| p.secret_key = "wrong".into()).await;
    f.register(7004).await;
    let (s, b) = f.create(7004, "yookassa_card", 100).await;
    assert_eq!(s, 502, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("secret key"),
        "{b}"
    );
    let (_, list) = f.call("GET", "/api/users/7004/payments", None).await;
    assert_eq!(list["items"][0]["status"], "failed");
    assert!(
        list["items"][0]["failure"]
            .as_str()
            .is_some_and(|m| m.contains("authentication"))
    );

    let ok = PayFixture::start("pay_errors_transient", |_| {}).await;
    ok.register(7005).await;
    ok.yk.fail_next("/v3/payments", 1, Failure::TooManyRequests);
    let (s, b) = ok.create(7005, "yookassa_card", 100).await;
    assert_eq!(s, 503, "{b}");
    ok.yk.fail_next("/v3/payments", 1, Failure::ServerError);
    let (s, _) = ok.create(7005, "yookassa_card", 100).await;
    assert_eq!(s, 503);
    let (_, list) = ok.call("GET", "/api/users/7005/payments", None).await;
    assert_eq!(
        list["items"][0]["status"], "pending",
        "a transient failure may still be retried"
    );
    assert!(
        list["items"][0]["failure"]
            .as_str()
            .is_some_and(|m| m.contains("server error")),
        "{list}"
    );
    f.cleanup().await;
    ok.cleanup().await;
}

#[tokio::test]
async fn a_create_retried_after_a_timeout_makes_one_yookassa_payment() {
    let f = PayFixture::start("pay_retry", |p| p.timeout_ms = 300).await;
    f.register(7006).await;
    f.yk.fail_next(
        "/v3/payments",
        1,
        Failure::Slow(Duration::from_millis(1_000)),
    );
    let body = json!({"telegram_id": 7006, "method": "yookassa_card", "package": 500, "idempotency_key": "tap-42"});
    let (s, b) = f.call("POST", "/api/payments/", Some(body.clone())).await;
    assert_eq!(s, 503, "timed out: {b}");
    let (s, b) = f.call("POST", "/api/payments/", Some(body.clone())).await;
    assert_eq!(s, 200, "the retry reuses the row: {b}");
    assert!(b["confirmation_url"].as_str().is_some());
    assert_eq!(f.yk.payments().len(), 1, "one YooKassa payment");
    let keys: Vec<_> =
        f.yk.requests()
            .iter()
            .map(|r| r.idempotence_key.clone())
            .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "same Idempotence-Key");
    let (s, _) = f.call("POST", "/api/payments/", Some(body)).await;
    assert_eq!(s, 200);
    assert_eq!(
        f.yk.requests().len(),
        2,
        "a finished create is not sent again"
    );
    let other = json!({"telegram_id": 7006, "method": "yookassa_card", "package": 100, "idempotency_key": "tap-42"});
    let (s, _) = f.call("POST", "/api/payments/", Some(other)).await;
    assert_eq!(s, 409, "same key, other payment");
    f.cleanup().await;
}

#[tokio::test]
async fn ten_concurrent_duplicate_notifications_credit_once() {
    let f = PayFixture::start("pay_dup", |_| {}).await;
    let created = paid_setup(&f, 7007, 300).await;
    let pid = provider_id(&created);
    f.yk.set_status(&pid, "succeeded");
    let url = f.webhook_url();
    let calls = (0..10).map(|_| f.yk.notify(&url, "payment.succeeded", &pid));
    let statuses = futures::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(f.balance(7007).await, 100 + 300 + 30);
    let (_, hist) = f.call("GET", "/api/balance/7007/history", None).await;
    let kinds: Vec<&str> = hist["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "topup").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "topup_bonus").count(),
        1,
        "{kinds:?}"
    );
    let msgs =
        f.tg.wait_for_calls("sendMessage", 1, Duration::from_secs(2))
            .await;
    assert_eq!(msgs.len(), 1, "one message");
    let text = msgs[0].param("text").as_str().unwrap_or("").to_owned();
    assert!(
        text.contains("+300") && text.contains("+30") && text.contains("430"),
        "{text}"
    );
    assert_eq!(msgs[0].chat_id(), Some(7007));
    assert_eq!(f.payment(&our_id(&created)).await["status"], "succeeded");
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn forged_mismatched_and_unknown_notifications_credit_nothing() {
    let f = PayFixture::start("pay_forged", |_| {}).await;
    let created = paid_setup(&f, 7008, 300).await;
    let pid = provider_id(&created);
    let url = f.webhook_url();
    let src = Some(("spin-client-addr", "185.71.76.10:443"));
    let mut forged = f.yk.notification("payment.succeeded", &pid);
    forged["object"]["status"] = "succeeded".into();
    forged["object"]["paid"] = true.into();
    assert_eq!(
        f.yk.post_notification(&url, &forged, src).await,
        200,
        "forgery answered 200"
    );
    assert_eq!(
        f.balance(7008).await,
        100,
        "re-fetch said pending: nothing credited"
    );

    f.yk.set_status(&pid, "succeeded");
    f.yk.set_field(&pid, "/amount/value", json!("1.00"));
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(
        f.balance(7008).await,
        100,
        "amount mismatch: nothing credited"
    );
    f.yk.set_field(&pid, "/amount/value", json!("300.00"));
    f.yk.set_field(&pid, "/metadata/telegram_id", json!("1"));
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(
        f.balance(7008).await,
        100,
        "metadata mismatch: nothing credited"
    );

    let unknown = json!({"type": "notification", "event": "payment.succeeded", "object": {"id": "2f00a0b1-000f-5000-8000-000000000000", "status": "succeeded", "paid": true}});
    assert_eq!(
        f.yk.post_notification(&url, &unknown, src).await,
        200,
        "unknown id answered 200"
    );
    assert_eq!(f.payment(&our_id(&created)).await["status"], "pending");
    assert!(f.tg.calls_of("sendMessage").is_empty());
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn canceled_payments_are_marked_and_never_credited() {
    let f = PayFixture::start("pay_cancel", |_| {}).await;
    let created = paid_setup(&f, 7009, 100).await;
    let pid = provider_id(&created);
    let url = f.webhook_url();
    assert_eq!(f.yk.notify(&url, "payment.canceled", &pid).await, 200);
    assert_eq!(
        f.payment(&our_id(&created)).await["status"],
        "pending",
        "YooKassa still says pending"
    );
    f.yk.set_status(&pid, "canceled");
    assert_eq!(f.yk.notify(&url, "payment.canceled", &pid).await, 200);
    assert_eq!(f.payment(&our_id(&created)).await["status"], "canceled");
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(f.balance(7009).await, 100);
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn a_refund_takes_back_what_was_credited_down_to_zero_and_records_the_shortfall() {
    let f = PayFixture::start("pay_refund", |_| {}).await;
    let created = paid_setup(&f, 7010, 300).await;
    let pid = provider_id(&created);
    let url = f.webhook_url();
    f.yk.set_status(&pid, "succeeded");
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(f.balance(7010).await, 430);
    let (s, _) = f
        .call(
            "POST",
            "/api/balance/7010/adjust",
            Some(json!({"amount": -400, "reason": "spent on edits"})),
        )
        .await;
    assert_eq!(s, 201);
    let refund = f.yk.refund(&pid);
    for _ in 0..2 {
        assert_eq!(f.yk.notify(&url, "refund.succeeded", &refund).await, 200);
    }
    assert_eq!(f.balance(7010).await, 0, "the balance stops at 0");
    let row = f.payment(&our_id(&created)).await;
    assert_eq!(
        (
            row["status"].as_str(),
            row["refunded"].as_i64(),
            row["shortfall"].as_i64()
        ),
        (Some("refunded"), Some(30), Some(300)),
        "{row}"
    );
    let (_, admin) = f.call("GET", "/api/payments/?status=refunded", None).await;
    assert_eq!(admin["totals"][0]["shortfall"], 300, "{admin}");
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn yookassa_down_during_refetch_answers_5xx_and_redelivery_credits_once() {
    let f = PayFixture::start("pay_down", |p| p.timeout_ms = 500).await;
    let created = paid_setup(&f, 7011, 100).await;
    let pid = provider_id(&created);
    let url = f.webhook_url();
    f.yk.set_status(&pid, "succeeded");
    f.yk.set_down(true);
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 503);
    assert_eq!(f.balance(7011).await, 100);
    f.yk.set_down(false);
    f.yk.fail_next("/v3/payments/", 1, Failure::ServerError);
    assert_eq!(
        f.yk.notify(&url, "payment.succeeded", &pid).await,
        503,
        "YooKassa 500 → redeliver"
    );
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(f.balance(7011).await, 100 + 100 + 10);
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn a_disallowed_source_address_changes_nothing() {
    let f = PayFixture::start("pay_source", |_| {}).await;
    let created = paid_setup(&f, 7012, 100).await;
    let pid = provider_id(&created);
    f.yk.set_status(&pid, "succeeded");
    let url = f.webhook_url();
    let body = f.yk.notification("payment.succeeded", &pid);
    assert_eq!(
        f.yk.post_notification(&url, &body, Some(("spin-client-addr", "203.0.113.7:5000")))
            .await,
        403
    );
    assert_eq!(f.yk.post_notification(&url, &body, None).await, 403);
    assert_eq!(f.balance(7012).await, 100);
    assert!(
        f.yk.requests().iter().all(|r| r.method == "POST"),
        "no re-fetch for a refused source"
    );

    let proxied = PayFixture::start("pay_source_proxy", |p| {
        p.client_ip_header = "x-forwarded-for".into()
    })
    .await;
    let created = paid_setup(&proxied, 7013, 100).await;
    let pid = provider_id(&created);
    proxied.yk.set_status(&pid, "succeeded");
    let body = proxied.yk.notification("payment.succeeded", &pid);
    let spoofed = Some(("x-forwarded-for", "185.71.76.10, 203.0.113.7"));
    assert_eq!(
        proxied
            .yk
            .post_notification(&proxied.webhook_url(), &body, spoofed)
            .await,
        403
    );
    let real = Some(("x-forwarded-for", "203.0.113.7, 185.71.76.10"));
    assert_eq!(
        proxied
            .yk
            .post_notification(&proxied.webhook_url(), &body, real)
            .await,
        200
    );
    assert_eq!(proxied.balance(7013).await, 210);
    f.cleanup().await;
    proxied.cleanup().await;
}

#[tokio::test]
async fn admin_lists_payments_by_status_and_period_with_totals() {
    let f = PayFixture::start("pay_admin", |_| {}).await;
    let a = paid_setup(&f, 7014, 300).await;
    let (_, _b) = f.create(7014, "yookassa_sbp", 100).await;
    f.yk.set_status(&provider_id(&a), "succeeded");
    assert_eq!(
        f.yk.notify(&f.webhook_url(), "payment.succeeded", &provider_id(&a))
            .await,
        200
    );
    let (s, all) = f.call("GET", "/api/payments/", None).await;
    assert_eq!((s, all["total"].as_i64()), (200, Some(2)), "{all}");
    let (_, ok) = f.call("GET", "/api/payments/?status=succeeded", None).await;
    assert_eq!(ok["total"], 1);
    assert_eq!(
        ok["totals"][0],
        json!({"currency": "RUB", "status": "succeeded", "count": 1, "amount": 30000, "credits": 300, "bonus": 30, "refunded": 0, "shortfall": 0})
    );
    let (_, none) = f.call("GET", "/api/payments/?from=1&to=2", None).await;
    assert_eq!(none["total"], 0);
    let (s, _) = f.call("GET", "/api/payments/?from=yesterday", None).await;
    assert_eq!(s, 422);
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn a_payment_refunded_before_it_was_credited_is_never_credited() {
    let f = PayFixture::start("pay_refund_first", |_| {}).await;
    let url = f.webhook_url();
    // Refunded in whole at YooKassa; the refund's notification arrives first.
    let whole = paid_setup(&f, 7020, 100).await;
    let pid = provider_id(&whole);
    f.yk.set_status(&pid, "succeeded");
    let refund = f.yk.refund(&pid);
    assert_eq!(f.yk.notify(&url, "refund.succeeded", &refund).await, 200);
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(f.yk.notify(&url, "refund.succeeded", &refund).await, 200);
    assert_eq!(
        f.balance(7020).await,
        100,
        "neither credited nor taken back"
    );
    let row = f.payment(&our_id(&whole)).await;
    assert_eq!(
        (
            row["status"].as_str(),
            row["refunded"].as_i64(),
            row["refunded_amount"].as_i64(),
            row["credited_at"].as_i64()
        ),
        (Some("refunded"), Some(0), Some(10_000), None),
        "{row}"
    );
    // Refunded in part at YooKassa; only the payment's notification arrives.
    let (s, part) = f.create(7020, "yookassa_card", 300).await;
    assert_eq!(s, 201, "{part}");
    let pid = provider_id(&part);
    f.yk.set_status(&pid, "succeeded");
    f.yk.refund_part(&pid, "60.00");
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(
        f.balance(7020).await,
        100,
        "a partly refunded payment is not credited"
    );
    let row = f.payment(&our_id(&part)).await;
    assert_eq!(
        (row["status"].as_str(), row["refunded_amount"].as_i64()),
        (Some("refunded"), Some(6_000)),
        "{row}"
    );
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn partial_refunds_take_back_their_share_once_each() {
    let f = PayFixture::start("pay_refund_part", |_| {}).await;
    let created = paid_setup(&f, 7021, 100).await;
    let (pid, id) = (provider_id(&created), our_id(&created));
    let url = f.webhook_url();
    f.yk.set_status(&pid, "succeeded");
    assert_eq!(f.yk.notify(&url, "payment.succeeded", &pid).await, 200);
    assert_eq!(f.balance(7021).await, 100 + 100 + 10);
    // 20.50 of 100.00: 110 × 20.5 % = 22.55 → 22 (rounded down).
    let first = f.yk.refund_part(&pid, "20.50");
    for _ in 0..2 {
        assert_eq!(f.yk.notify(&url, "refund.succeeded", &first).await, 200);
    }
    assert_eq!(
        f.balance(7021).await,
        210 - 22,
        "a repeated refund counts once"
    );
    let row = f.payment(&id).await;
    assert_eq!(
        (
            row["status"].as_str(),
            row["refunded"].as_i64(),
            row["refunded_amount"].as_i64()
        ),
        (Some("succeeded"), Some(22), Some(2_050)),
        "{row}"
    );
    // 30.00 more: 50.5 % of 110 = 55.55 → 55 in all, 33 for this one.
    let second = f.yk.refund_part(&pid, "30.00");
    assert_eq!(f.yk.notify(&url, "refund.succeeded", &second).await, 200);
    assert_eq!(f.balance(7021).await, 210 - 55);
    // The rest (49.50) completes the amount: all that is left (55), status refunded.
    let rest = f.yk.refund(&pid);
    assert_eq!(f.yk.notify(&url, "refund.succeeded", &rest).await, 200);
    assert_eq!(f.yk.notify(&url, "refund.succeeded", &second).await, 200);
    assert_eq!(f.balance(7021).await, 100, "the parts add up to the whole");
    let row = f.payment(&id).await;
    assert_eq!(
        (
            row["status"].as_str(),
            row["refunded"].as_i64(),
            row["shortfall"].as_i64(),
            row["refunded_amount"].as_i64()
        ),
        (Some("refunded"), Some(110), Some(0), Some(10_000)),
        "{row}"
    );
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

/// Sends a "Pay" message to `uid` through the fake Bot API and records it on payment `id`,
/// as the bot does; returns its message id.
async fn pay_message(f: &PayFixture, uid: i64, id: &str) -> i64 {
    let url = format!("{}/bot{}/sendMessage", f.tg.base_url(), f.tg.token());
    let body = json!({"chat_id": uid, "text": "Pay 100 RUB", "reply_markup": {"inline_keyboard": [[{"text": "Pay", "url": "https://yoomoney.ru/x"}]]}});
    let sent: Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("fake answers")
        .json()
        .await
        .expect("json");
    let message_id = sent["result"]["message_id"].as_i64().expect("message id");
    let conn = rusqlite::Connection::open(&f.app.db).expect("db");
    conn.execute(
        "UPDATE payments SET chat_id = ?1, message_id = ?2 WHERE id = ?3",
        rusqlite::params![uid, message_id, id],
    )
    .expect("recorded");
    f.tg.clear_calls();
    message_id
}

#[tokio::test]
async fn a_declined_payment_is_told_with_its_reason_and_a_way_back() {
    let f = PayFixture::start("pay_declined", |_| {}).await;
    let created = paid_setup(&f, 7022, 100).await;
    let (pid, id) = (provider_id(&created), our_id(&created));
    let message_id = pay_message(&f, 7022, &id).await;
    f.yk.cancel(&pid, "payment_network", "insufficient_funds");
    let url = f.webhook_url();
    for _ in 0..2 {
        assert_eq!(f.yk.notify(&url, "payment.canceled", &pid).await, 200);
    }
    assert_eq!(f.payment(&id).await["status"], "canceled");
    let told = f.tg.calls_of("sendMessage");
    assert_eq!(told.len(), 1, "told once");
    let text = told[0].param("text").as_str().unwrap_or("");
    assert!(text.contains("недостаточно средств"), "{text}");
    let buttons = told[0].inline_buttons();
    assert_eq!(buttons.len(), 1, "{buttons:?}");
    assert_eq!(
        buttons[0]["callback_data"], "topup",
        "back to the top-up screen"
    );
    assert_eq!(
        f.tg.message_text(7022, message_id).as_deref(),
        Some("✖️ Платёж на 100 RUB не состоялся"),
        "the Pay message no longer offers to pay"
    );
    let edit = f.tg.calls_of("editMessageText");
    assert_eq!(edit.len(), 1);
    assert!(
        edit[0].param("reply_markup").is_null(),
        "its button is removed"
    );
    assert_eq!(f.balance(7022).await, 100);
    f.cleanup().await;
}

#[tokio::test]
async fn a_paid_payment_closes_its_pay_message() {
    let f = PayFixture::start("pay_paid_line", |_| {}).await;
    let created = paid_setup(&f, 7023, 100).await;
    let (pid, id) = (provider_id(&created), our_id(&created));
    let message_id = pay_message(&f, 7023, &id).await;
    f.yk.set_status(&pid, "succeeded");
    assert_eq!(
        f.yk.notify(&f.webhook_url(), "payment.succeeded", &pid)
            .await,
        200
    );
    assert_eq!(
        f.tg.message_text(7023, message_id).as_deref(),
        Some("✅ Оплачено: 100 RUB")
    );
    assert_eq!(
        f.tg.calls_of("sendMessage").len(),
        1,
        "and the top-up message"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn the_yookassa_description_speaks_the_payers_language() {
    let f = PayFixture::start("pay_description_lang", |_| {}).await;
    let (s, _) = f
        .call(
            "POST",
            "/api/users/",
            Some(json!({"telegram_id": 7024, "first_name": "Ann", "language_code": "en"})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, created) = f.create(7024, "yookassa_card", 100).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(
        f.yk.requests()[0].body["description"],
        "QwenEditBot top-up: 110 credits"
    );
    paid_setup(&f, 7025, 100).await;
    assert_eq!(
        f.yk.requests()[1].body["description"],
        "Пополнение баланса QwenEditBot: 110 кредитов"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn stale_pending_payments_are_re_fetched_and_settled() {
    use testkit::payments::ReqwestHttp;
    use testkit::sql::SqliteSql;
    let f = PayFixture::start("pay_stale", |p| p.expiry_minutes = 30).await;
    let paid = paid_setup(&f, 7026, 100).await;
    let (s, declined) = f.create(7026, "yookassa_card", 300).await;
    assert_eq!(s, 201, "{declined}");
    let (s, waiting) = f.create(7026, "yookassa_card", 500).await;
    assert_eq!(s, 201, "{waiting}");
    f.yk.set_status(&provider_id(&paid), "succeeded");
    f.yk.cancel(
        &provider_id(&declined),
        "yoo_money",
        "expired_on_confirmation",
    );
    f.clock.advance(31 * 60_000);
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = qwen_core::payments::Deps {
        sql: &sql,
        http: &http,
        clock: f.app.clock.as_ref(),
        settings: &f.app.settings,
        pay: &f.app.pay,
    };
    let swept = qwen_core::payments::expiry::settle_stale(&deps)
        .await
        .expect("sweep");
    assert_eq!((swept.checked, swept.settled), (3, 2));
    assert_eq!(f.payment(&our_id(&paid)).await["status"], "succeeded");
    assert_eq!(f.payment(&our_id(&declined)).await["status"], "canceled");
    assert_eq!(
        f.payment(&our_id(&waiting)).await["status"],
        "pending",
        "still pending at YooKassa: left for a later sweep"
    );
    assert_eq!(f.balance(7026).await, 100 + 100 + 10);
    let texts: Vec<String> =
        f.tg.calls_of("sendMessage")
            .iter()
            .map(|c| c.param("text").as_str().unwrap_or("").to_owned())
            .collect();
    assert!(
        texts.iter().any(|t| t.contains("время на оплату истекло")),
        "{texts:?}"
    );
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}
