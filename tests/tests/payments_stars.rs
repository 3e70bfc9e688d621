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
