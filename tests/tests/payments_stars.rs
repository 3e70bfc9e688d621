//! Telegram Stars top-ups: invoice data from the API, pre-checkout verification, exactly-once
//! credit keyed by `telegram_payment_charge_id`, and the admin refund via `refundStarPayment`,
//! on the real core operations and the fake Bot API.

use std::time::Duration;

use qwen_core::payments::Deps;
use qwen_core::payments::stars::{self, Refusal, StarsPayment};
use serde_json::Value;
use testkit::payments::{PayFixture, ReqwestHttp, check_invariants};
use testkit::sql::SqliteSql;

async fn stars_invoice(f: &PayFixture, uid: i64, package: i64) -> Value {
    f.register(uid).await;
    let (status, created) = f.create(uid, "stars", package).await;
    assert_eq!(status, 201, "{created}");
    created
}

fn paid<'a>(uid: i64, payload: &'a str, amount: i64) -> StarsPayment<'a> {
    StarsPayment {
        user_id: uid,
        currency: "XTR",
        total_amount: amount,
        payload,
    }
}

#[tokio::test]
async fn stars_happy_path_credits_once_per_charge() {
    let f = PayFixture::start("stars_happy", |_| {}).await;
    let created = stars_invoice(&f, 8001, 100).await;
    let inv = &created["invoice"];
    let payload = inv["payload"].as_str().expect("payload").to_owned();
    assert_eq!(payload, created["payment"]["id"].as_str().unwrap_or(""));
    assert_eq!(
        (inv["currency"].as_str(), inv["amount"].as_i64()),
        (Some("XTR"), Some(100))
    );
    assert!(f.yk.requests().is_empty(), "Stars never call YooKassa");

    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = Deps {
        sql: &sql,
        http: &http,
        clock: f.app.clock.as_ref(),
        settings: &f.app.settings,
        pay: &f.app.pay,
    };
    let q = paid(8001, &payload, 100);
    assert!(
        stars::pre_checkout(&deps, &q, "query-1")
            .await
            .expect("storage")
            .is_ok()
    );
    assert!(
        stars::successful_payment(&deps, &q, "stxCHARGE1")
            .await
            .expect("credit")
    );
    assert!(
        !stars::successful_payment(&deps, &q, "stxCHARGE1")
            .await
            .expect("repeat"),
        "twice → once"
    );
    assert_eq!(f.balance(8001).await, 100 + 100 + 10);
    let msgs =
        f.tg.wait_for_calls("sendMessage", 1, Duration::from_secs(2))
            .await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        stars::pre_checkout(&deps, &q, "query-2")
            .await
            .expect("storage"),
        Err(Refusal::NotPending)
    );
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn pre_checkout_with_a_bad_payload_or_amount_is_refused_with_a_reason() {
    let f = PayFixture::start("stars_precheckout", |_| {}).await;
    let created = stars_invoice(&f, 8002, 50).await;
    let payload = created["invoice"]["payload"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = Deps {
        sql: &sql,
        http: &http,
        clock: f.app.clock.as_ref(),
        settings: &f.app.settings,
        pay: &f.app.pay,
    };
    let bad = stars::pre_checkout(&deps, &paid(8002, "not-a-payment", 50), "query-3")
        .await
        .expect("storage");
    assert_eq!(bad, Err(Refusal::Unknown));
    assert!(
        Refusal::Unknown
            .message(qwen_core::contract::Language::Ru)
            .contains("недействителен")
    );
    assert!(
        Refusal::Unknown
            .message(qwen_core::contract::Language::En)
            .contains("not valid")
    );
    let wrong = stars::pre_checkout(&deps, &paid(8002, &payload, 49), "query-4")
        .await
        .expect("storage");
    assert_eq!(wrong, Err(Refusal::Mismatch));
    let other_user = stars::pre_checkout(&deps, &paid(8003, &payload, 50), "query-5")
        .await
        .expect("storage");
    assert_eq!(other_user, Err(Refusal::Mismatch));
    assert!(
        !stars::successful_payment(&deps, &paid(8002, &payload, 49), "stxX")
            .await
            .expect("refunded, not credited"),
        "a charge that does not match is not credited"
    );
    let refunds = f.tg.calls_of("refundStarPayment");
    assert_eq!(refunds.len(), 1, "and it is refunded at once");
    assert_eq!(refunds[0].param("telegram_payment_charge_id"), "stxX");
    assert_eq!(f.balance(8002).await, 100);
    f.cleanup().await;
}

#[tokio::test]
async fn admin_refund_calls_refund_star_payment_and_takes_the_credits_back() {
    let f = PayFixture::start("stars_refund", |_| {}).await;
    let created = stars_invoice(&f, 8004, 250).await;
    let id = created["payment"]["id"].as_str().unwrap_or("").to_owned();
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = Deps {
        sql: &sql,
        http: &http,
        clock: f.app.clock.as_ref(),
        settings: &f.app.settings,
        pay: &f.app.pay,
    };
    assert!(
        stars::successful_payment(&deps, &paid(8004, &id, 250), "stxREFUND")
            .await
            .expect("credit")
    );
    assert_eq!(f.balance(8004).await, 100 + 250 + 25);
    let (s, row) = f
        .call("POST", &format!("/api/payments/{id}/refund"), None)
        .await;
    assert_eq!(s, 200, "{row}");
    assert_eq!(
        (
            row["status"].as_str(),
            row["refunded"].as_i64(),
            row["shortfall"].as_i64()
        ),
        (Some("refunded"), Some(275), Some(0))
    );
    let calls = f.tg.calls_of("refundStarPayment");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].param("telegram_payment_charge_id"), "stxREFUND");
    let (s, _) = f
        .call("POST", &format!("/api/payments/{id}/refund"), None)
        .await;
    assert_eq!(s, 200, "a second refund changes nothing");
    assert_eq!(f.tg.calls_of("refundStarPayment").len(), 1);
    assert_eq!(f.balance(8004).await, 100);
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

fn deps_of<'a>(f: &'a PayFixture, sql: &'a SqliteSql, http: &'a ReqwestHttp) -> Deps<'a> {
    Deps {
        sql,
        http,
        clock: f.app.clock.as_ref(),
        settings: &f.app.settings,
        pay: &f.app.pay,
    }
}

/// A credited Stars payment of `stars` for `uid` under `charge`; returns our id.
async fn credited_stars(f: &PayFixture, uid: i64, stars: i64, charge: &str) -> String {
    let created = stars_invoice(f, uid, stars).await;
    let id = created["payment"]["id"].as_str().unwrap_or("").to_owned();
    f.tg.add_star_payment(
        &serde_json::json!({"id": uid, "is_bot": false, "first_name": "Pay"}),
        stars,
        &id,
        charge,
        0,
    );
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let q = paid(uid, &id, stars);
    assert!(
        stars::successful_payment(&deps_of(f, &sql, &http), &q, charge)
            .await
            .expect("credit")
    );
    id
}

/// Calls `refundStarPayment` on the fake as the app would; returns status and body.
async fn refund_at_telegram(f: &PayFixture, uid: i64, charge: &str) -> (u16, Value) {
    let url = format!("{}/bot{}/refundStarPayment", f.tg.base_url(), f.tg.token());
    let body = serde_json::json!({"user_id": uid, "telegram_payment_charge_id": charge});
    let resp = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("fake answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_refund_already_made_at_telegram_is_completed_by_the_retry() {
    let f = PayFixture::start("stars_refund_retry", |_| {}).await;
    let id = credited_stars(&f, 8010, 100, "stxRETRY").await;
    assert_eq!(f.balance(8010).await, 100 + 100 + 10);
    // An earlier attempt refunded at Telegram, then its write failed: Telegram now refuses.
    assert_eq!(refund_at_telegram(&f, 8010, "stxRETRY").await.0, 200);
    let (status, again) = refund_at_telegram(&f, 8010, "stxRETRY").await;
    assert_eq!(
        (status, again),
        (
            400,
            serde_json::json!({"ok": false, "error_code": 400, "description": "Bad Request: CHARGE_ALREADY_REFUNDED"})
        ),
        "Telegram's exact answer to a second refund of a charge"
    );
    let (s, row) = f
        .call("POST", &format!("/api/payments/{id}/refund"), None)
        .await;
    assert_eq!(s, 200, "CHARGE_ALREADY_REFUNDED counts as done: {row}");
    assert_eq!(
        (row["status"].as_str(), row["refunded"].as_i64()),
        (Some("refunded"), Some(110)),
        "{row}"
    );
    assert_eq!(f.balance(8010).await, 100, "the credits are taken back");
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn a_refund_whose_answer_is_lost_stays_refunding_and_the_retry_completes_it() {
    let f = PayFixture::start("stars_refund_lost", |p| p.telegram_timeout_ms = 300).await;
    let id = credited_stars(&f, 8011, 100, "stxLOST").await;
    f.tg.fail_next(
        "refundStarPayment",
        1,
        testkit::fakes::telegram::Failure::Hang(Duration::from_millis(800)),
    );
    let (s, err) = f
        .call("POST", &format!("/api/payments/{id}/refund"), None)
        .await;
    assert!(s >= 500, "Telegram's answer was lost: {s} {err}");
    assert_eq!(f.payment(&id).await["status"], "refunding");
    assert_eq!(f.balance(8011).await, 210, "nothing taken back yet");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (s, row) = f
        .call("POST", &format!("/api/payments/{id}/refund"), None)
        .await;
    assert_eq!(s, 200, "{row}");
    assert_eq!(row["status"], "refunded", "{row}");
    assert_eq!(f.balance(8011).await, 100);
    let (s, row) = f
        .call("POST", &format!("/api/payments/{id}/refund"), None)
        .await;
    assert_eq!((s, row["status"].as_str()), (200, Some("refunded")));
    assert_eq!(f.balance(8011).await, 100, "a third call changes nothing");
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn one_pre_checkout_per_invoice_is_accepted() {
    let f = PayFixture::start("stars_one_checkout", |_| {}).await;
    let created = stars_invoice(&f, 8012, 50).await;
    let id = created["payment"]["id"].as_str().unwrap_or("").to_owned();
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = deps_of(&f, &sql, &http);
    let q = paid(8012, &id, 50);
    assert!(
        stars::pre_checkout(&deps, &q, "qa")
            .await
            .expect("storage")
            .is_ok()
    );
    assert!(
        stars::pre_checkout(&deps, &q, "qa")
            .await
            .expect("storage")
            .is_ok(),
        "the same query again (a redelivery) is accepted again"
    );
    assert_eq!(
        stars::pre_checkout(&deps, &q, "qb").await.expect("storage"),
        Err(Refusal::AlreadyCheckingOut),
        "a second checkout of one invoice is refused"
    );
    let ru = Refusal::AlreadyCheckingOut.message(qwen_core::contract::Language::Ru);
    let en = Refusal::AlreadyCheckingOut.message(qwen_core::contract::Language::En);
    assert!(ru.contains("уже оплачивается"), "{ru}");
    assert!(en.contains("already being paid"), "{en}");
    f.cleanup().await;
}

#[tokio::test]
async fn a_charge_that_cannot_be_credited_is_refunded_and_recorded() {
    let f = PayFixture::start("stars_second_charge", |_| {}).await;
    let id = credited_stars(&f, 8013, 100, "stxFIRST").await;
    let told =
        f.tg.wait_for_calls("sendMessage", 1, Duration::from_secs(2))
            .await
            .len();
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = deps_of(&f, &sql, &http);
    let q = paid(8013, &id, 100);
    for _ in 0..2 {
        assert!(
            !stars::successful_payment(&deps, &q, "stxSECOND")
                .await
                .expect("refunded"),
            "a second charge of one invoice is not credited"
        );
    }
    let refunds = f.tg.calls_of("refundStarPayment");
    assert_eq!(refunds.len(), 1, "refunded once");
    assert_eq!(refunds[0].param("telegram_payment_charge_id"), "stxSECOND");
    assert_eq!(refunds[0].param("user_id"), 8013);
    assert_eq!(f.balance(8013).await, 100 + 100 + 10, "credited once");
    let conn = rusqlite::Connection::open(&f.app.db).expect("db");
    let recorded: (String, i64, i64) = conn
        .query_row(
            "SELECT payment_id, amount, taken FROM payment_refunds WHERE refund_id = 'stars:stxSECOND'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("recorded");
    assert_eq!(recorded, (id.clone(), 100, 0));
    let msgs =
        f.tg.wait_for_calls("sendMessage", told + 1, Duration::from_secs(2))
            .await;
    let last = msgs
        .last()
        .map(|m| m.param("text").as_str().unwrap_or("").to_owned());
    assert!(
        last.as_deref()
            .is_some_and(|t| t.contains("звёзды возвращены")),
        "the payer is told in Russian: {last:?}"
    );
    assert_eq!(f.payment(&id).await["status"], "succeeded");
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn the_invoice_speaks_the_payers_language() {
    let f = PayFixture::start("stars_invoice_lang", |_| {}).await;
    let ru = stars_invoice(&f, 8014, 100).await;
    assert_eq!(ru["invoice"]["title"], "110 кредитов", "{ru}");
    let (s, _) = f
        .call(
            "POST",
            "/api/users/",
            Some(serde_json::json!({"telegram_id": 8015, "first_name": "Ann", "language_code": "en"})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, en) = f.create(8015, "stars", 100).await;
    assert_eq!(s, 201, "{en}");
    assert_eq!(en["invoice"]["title"], "110 credits", "{en}");
    assert!(
        en["invoice"]["description"]
            .as_str()
            .unwrap_or("")
            .contains("credits"),
        "{en}"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn an_unpaid_invoice_is_canceled_after_the_expiry_and_a_late_charge_refunded() {
    let f = PayFixture::start("stars_expiry", |p| p.expiry_minutes = 30).await;
    let created = stars_invoice(&f, 8016, 50).await;
    let id = created["payment"]["id"].as_str().unwrap_or("").to_owned();
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = deps_of(&f, &sql, &http);
    let early = qwen_core::payments::expiry::settle_stale(&deps)
        .await
        .expect("sweep");
    assert_eq!(early.checked, 0, "not stale yet");
    f.clock.advance(31 * 60_000);
    let swept = qwen_core::payments::expiry::settle_stale(&deps)
        .await
        .expect("sweep");
    assert_eq!((swept.checked, swept.settled), (1, 1));
    assert_eq!(f.payment(&id).await["status"], "canceled");
    let q = paid(8016, &id, 50);
    assert_eq!(
        stars::pre_checkout(&deps, &q, "late")
            .await
            .expect("storage"),
        Err(Refusal::NotPending)
    );
    assert!(
        !stars::successful_payment(&deps, &q, "stxLATE")
            .await
            .expect("refunded")
    );
    assert_eq!(f.tg.calls_of("refundStarPayment").len(), 1);
    assert_eq!(f.balance(8016).await, 100);
    f.cleanup().await;
}

#[tokio::test]
async fn the_jobs_sweep_also_settles_stale_payments() {
    use qwen_core::signing;
    let f = PayFixture::start("stars_sweep_route", |p| p.expiry_minutes = 10).await;
    let created = stars_invoice(&f, 8017, 50).await;
    let id = created["payment"]["id"].as_str().unwrap_or("").to_owned();
    f.clock.advance(11 * 60_000);
    let path = "/internal/jobs/sweep";
    let ts = qwen_core::ports::Clock::now_ms(f.clock.as_ref()) / 1000;
    let secret = testkit::fixture::EVENT_SECRET.as_bytes();
    let sig = signing::sign(secret, ts, "POST", path, b"{}");
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", f.server.url()))
        .header(signing::TIMESTAMP_HEADER, ts.to_string())
        .header(signing::SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("sweep answers");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(f.payment(&id).await["status"], "canceled");
    f.cleanup().await;
}

#[tokio::test]
async fn a_refund_telegram_refuses_for_good_puts_the_payment_back() {
    let f = PayFixture::start("stars_refund_refused", |_| {}).await;
    let id = credited_stars(&f, 8018, 100, "stxREFUSED").await;
    f.tg.fail_next(
        "refundStarPayment",
        1,
        testkit::fakes::telegram::Failure::BadRequest("BALANCE_TOO_LOW".into()),
    );
    let (s, err) = f
        .call("POST", &format!("/api/payments/{id}/refund"), None)
        .await;
    assert!((400..600).contains(&s), "{s} {err}");
    assert_eq!(f.payment(&id).await["status"], "succeeded");
    assert_eq!(f.balance(8018).await, 210, "nothing taken back");
    let (s, row) = f
        .call("POST", &format!("/api/payments/{id}/refund"), None)
        .await;
    assert_eq!(
        (s, row["status"].as_str()),
        (200, Some("refunded")),
        "{row}"
    );
    assert_eq!(f.balance(8018).await, 100);
    f.cleanup().await;
}
