//! Reconciliation end to end: the real `api` routes with payments against the fake YooKassa
//! (lists with cursor paging) and the fake Bot API (`getStarTransactions`), real SQLite.
//! One mismatch of each kind is planted; the report must name each as exactly that kind.

use std::collections::HashMap;

use qwen_core::payments::Deps;
use qwen_core::payments::stars::{self, StarsPayment};
use serde_json::{Value, json};
use testkit::fakes::telegram::Failure as TgFailure;
use testkit::fakes::yookassa::Failure;
use testkit::payments::{PayFixture, ReqwestHttp, check_invariants};
use testkit::sql::SqliteSql;

const UID: i64 = 9301;

fn range(f: &PayFixture) -> Value {
    let now = f.app.clock.now_ms();
    json!({"from": now - 3_600_000, "to": now + 3_600_000})
}

fn user() -> Value {
    json!({"id": UID, "is_bot": false, "first_name": "Pay"})
}

/// A card payment of `package` roubles; returns (our id, YooKassa id).
async fn card(f: &PayFixture, package: i64) -> (String, String) {
    let (status, created) = f.create(UID, "yookassa_card", package).await;
    assert_eq!(status, 201, "{created}");
    let p = &created["payment"];
    let ids = (p["id"].as_str(), p["provider_payment_id"].as_str());
    (
        ids.0.unwrap_or("").to_owned(),
        ids.1.unwrap_or("").to_owned(),
    )
}

/// A card payment paid at YooKassa and credited through the webhook.
async fn credited_card(f: &PayFixture, package: i64) -> (String, String) {
    let (ours, theirs) = card(f, package).await;
    f.yk.set_status(&theirs, "succeeded");
    let status =
        f.yk.notify(&f.webhook_url(), "payment.succeeded", &theirs)
            .await;
    assert_eq!(status, 200);
    assert_eq!(f.payment(&ours).await["status"], "succeeded");
    (ours, theirs)
}

/// A Stars payment of `stars`; returns our id.
async fn stars_payment(f: &PayFixture, stars: i64) -> String {
    let (status, created) = f.create(UID, "stars", stars).await;
    assert_eq!(status, 201, "{created}");
    created["payment"]["id"].as_str().unwrap_or("").to_owned()
}

/// Credits a Stars payment as the bot would on `successful_payment`.
async fn stars_paid(f: &PayFixture, id: &str, amount: i64, charge: &str) {
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = Deps {
        sql: &sql,
        http: &http,
        clock: f.app.clock.as_ref(),
        settings: &f.app.settings,
        pay: &f.app.pay,
    };
    let paid = StarsPayment {
        user_id: UID,
        currency: "XTR",
        total_amount: amount,
        payload: id,
    };
    assert!(
        stars::successful_payment(&deps, &paid, charge)
            .await
            .expect("credit")
    );
}

fn now_secs(f: &PayFixture) -> i64 {
    f.app.clock.now_ms() / 1000
}

/// The planted payments: our id → the kind the report must give it.
async fn plant(f: &PayFixture) -> Vec<(String, &'static str)> {
    let mut want = Vec::new();
    for _ in 0..3 {
        want.push((credited_card(f, 100).await.0, "matched"));
    }
    let (lost, lost_yk) = card(f, 500).await;
    f.yk.set_status(&lost_yk, "succeeded");
    want.push((lost, "missing_ours"));
    let (ghost, ghost_yk) = credited_card(f, 100).await;
    f.yk.set_status(&ghost_yk, "canceled");
    want.push((ghost, "missing_theirs"));
    let (odd, odd_yk) = credited_card(f, 300).await;
    f.yk.set_field(&odd_yk, "/amount/value", json!("1.00"));
    want.push((odd, "amount_mismatch"));
    let (refunded, refunded_yk) = credited_card(f, 100).await;
    f.yk.refund(&refunded_yk);
    want.push((refunded, "refund_not_taken_back"));
    want.extend(plant_stars(f).await);
    want
}

async fn plant_stars(f: &PayFixture) -> Vec<(String, &'static str)> {
    let t = now_secs(f);
    let matched = stars_payment(f, 100).await;
    f.tg.add_star_payment(&user(), 100, &matched, "stxMatched", t);
    stars_paid(f, &matched, 100, "stxMatched").await;
    let lost = stars_payment(f, 50).await;
    f.tg.add_star_payment(&user(), 50, &lost, "stxLost", t);
    let ghost = stars_payment(f, 100).await;
    stars_paid(f, &ghost, 100, "stxGhost").await;
    let refunded = stars_payment(f, 250).await;
    f.tg.add_star_payment(&user(), 250, &refunded, "stxRefunded", t);
    stars_paid(f, &refunded, 250, "stxRefunded").await;
    let url = format!("{}/bot{}/refundStarPayment", f.tg.base_url(), f.tg.token());
    let body = json!({"user_id": UID, "telegram_payment_charge_id": "stxRefunded"});
    let answer = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("refund");
    assert_eq!(answer.status().as_u16(), 200);
    vec![
        (matched, "matched"),
        (lost, "missing_ours"),
        (ghost, "missing_theirs"),
        (refunded, "refund_not_taken_back"),
    ]
}

/// Kinds per our payment id (a payment may have two items: itself and its refund).
fn kinds(report: &Value) -> HashMap<String, Vec<String>> {
    let mut by_payment: HashMap<String, Vec<String>> = HashMap::new();
    for item in report["items"].as_array().into_iter().flatten() {
        let id = item["payment_id"].as_str().unwrap_or("-").to_owned();
        by_payment
            .entry(id)
            .or_default()
            .push(item["kind"].as_str().unwrap_or("").to_owned());
    }
    by_payment
}

fn item_of(report: &Value, payment_id: &str, kind: &str) -> Value {
    report["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["payment_id"] == payment_id && i["kind"] == kind)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn each_planted_mismatch_is_reported_as_its_kind_across_pages() {
    let f = PayFixture::start("reconcile_kinds", |_| {}).await;
    f.register(UID).await;
    f.yk.set_page_size(2);
    f.tg.set_star_page_size(2);
    let want = plant(&f).await;
    let (status, report) = f
        .call("POST", "/api/reconciliations", Some(range(&f)))
        .await;
    assert_eq!(status, 201, "{report}");
    let got = kinds(&report);
    for (id, kind) in &want {
        let kinds = got.get(id).cloned().unwrap_or_default();
        assert!(
            kinds.contains(&(*kind).to_owned()),
            "{id}: want {kind}, got {kinds:?}\n{report:#}"
        );
        let others: Vec<_> = kinds
            .iter()
            .filter(|k| *k != kind && *k != "matched")
            .collect();
        assert!(
            others.is_empty(),
            "{id}: only {kind} expected, got {kinds:?}"
        );
    }
    let s = &report["summary"];
    assert_eq!(
        (
            s["matched"].as_i64(),
            s["missing_ours"].as_i64(),
            s["missing_theirs"].as_i64(),
            s["amount_mismatch"].as_i64(),
            s["refund_not_taken_back"].as_i64()
        ),
        (Some(6), Some(2), Some(2), Some(1), Some(2)),
        "{report:#}"
    );
    let lists: Vec<_> =
        f.yk.requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path == "/v3/payments")
            .collect();
    assert!(
        lists.len() >= 4,
        "5 succeeded payments + 2 others at 2 a page: {}",
        lists.len()
    );
    assert!(
        lists.iter().skip(1).all(|r| r.query.contains("cursor=")),
        "paging follows next_cursor"
    );
    assert!(
        lists[0].query.contains("created_at.gte=") && lists[0].query.contains("created_at.lt=")
    );
    assert!(
        f.tg.calls_of("getStarTransactions").len() >= 3,
        "5 transactions at 2 a page"
    );
    let metrics = f
        .client
        .get(format!("{}/metrics", f.server.url()))
        .bearer_auth(testkit::fixture::API_TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let planted = want.iter().filter(|(_, k)| *k != "matched").count();
    assert!(
        metrics
            .lines()
            .any(|l| l == format!("qwen_reconciliation_mismatches {planted}")),
        "{planted} findings need an operator:\n{metrics}"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn the_same_range_is_answered_from_the_stored_report_unless_rerun() {
    let f = PayFixture::start("reconcile_idempotent", |_| {}).await;
    f.register(UID).await;
    credited_card(&f, 100).await;
    let (s1, first) = f
        .call("POST", "/api/reconciliations", Some(range(&f)))
        .await;
    assert_eq!(s1, 201, "{first}");
    assert_eq!(first["summary"]["matched"], 1);
    let calls = f.yk.requests().len();
    let (s2, again) = f
        .call("POST", "/api/reconciliations", Some(range(&f)))
        .await;
    assert_eq!((s2, &again["id"]), (200, &first["id"]), "{again}");
    assert_eq!(again, first);
    assert_eq!(
        f.yk.requests().len(),
        calls,
        "a stored report calls no provider"
    );
    let (s3, rerun) = f
        .call("POST", "/api/reconciliations?rerun=true", Some(range(&f)))
        .await;
    assert_eq!((s3, rerun["run"].as_i64()), (201, Some(2)), "{rerun}");
    assert_ne!(rerun["id"], first["id"]);
    let (s4, latest) = f
        .call("POST", "/api/reconciliations", Some(range(&f)))
        .await;
    assert_eq!((s4, &latest["id"]), (200, &rerun["id"]));
    let (s5, list) = f.call("GET", "/api/reconciliations?limit=1", None).await;
    assert_eq!(
        (
            s5,
            list["total"].as_i64(),
            list["items"].as_array().map(Vec::len)
        ),
        (200, Some(2), Some(1)),
        "{list}"
    );
    let id = first["id"].as_str().unwrap_or("");
    let (s6, got) = f
        .call("GET", &format!("/api/reconciliations/{id}"), None)
        .await;
    assert_eq!((s6, got), (200, first));
    let day = f
        .call(
            "POST",
            "/api/reconciliations",
            Some(json!({"day": "2024-03-01"})),
        )
        .await;
    assert_eq!(
        (day.0, day.1["from"].as_i64(), day.1["to"].as_i64()),
        (201, Some(1_709_251_200_000), Some(1_709_337_600_000))
    );
    f.cleanup().await;
}

/// Calls "credit now" on `payment`'s `missing_ours` item twice at once, then once more.
async fn credit_twice(f: &PayFixture, id: &str, report: &Value, payment: &str) {
    let item = item_of(report, payment, "missing_ours");
    assert_eq!(item["creditable"], true, "{item}");
    let path = format!("/api/reconciliations/{id}/items/{}/credit", item["n"]);
    let (a, b) = tokio::join!(f.call("POST", &path, None), f.call("POST", &path, None));
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
    let credited = [a.1["credited"].as_bool(), b.1["credited"].as_bool()];
    assert_eq!(
        credited.iter().filter(|c| **c == Some(true)).count(),
        1,
        "{credited:?}"
    );
    assert_eq!(
        credited.iter().filter(|c| **c == Some(false)).count(),
        1,
        "{credited:?}"
    );
    assert_eq!(a.1["payment"]["status"], "succeeded");
    let (_, third) = f.call("POST", &path, None).await;
    assert_eq!(
        (
            third["credited"].as_bool(),
            third["item"]["creditable"].as_bool()
        ),
        (Some(false), Some(false)),
        "{third}"
    );
    assert!(third["item"]["resolved_at"].is_i64(), "{third}");
}

#[tokio::test]
async fn credit_now_credits_once_even_when_called_twice_at_once() {
    let f = PayFixture::start("reconcile_credit", |_| {}).await;
    f.register(UID).await;
    let (lost, lost_yk) = card(&f, 500).await;
    f.yk.set_status(&lost_yk, "succeeded");
    let lost_stars = stars_payment(&f, 50).await;
    f.tg.add_star_payment(&user(), 50, &lost_stars, "stxLate", now_secs(&f));
    credited_card(&f, 100).await;
    let (status, report) = f
        .call("POST", "/api/reconciliations", Some(range(&f)))
        .await;
    assert_eq!(status, 201, "{report}");
    let id = report["id"].as_str().unwrap_or("").to_owned();
    let before = f.balance(UID).await;
    credit_twice(&f, &id, &report, &lost).await;
    assert_eq!(
        f.balance(UID).await - before,
        500 + 50,
        "the card payment credited once"
    );
    credit_twice(&f, &id, &report, &lost_stars).await;
    assert_eq!(
        f.balance(UID).await - before,
        550 + 50 + 5,
        "the Stars payment credited once"
    );
    let matched = report["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["kind"] == "matched")
        .cloned()
        .unwrap_or(Value::Null);
    let path = format!("/api/reconciliations/{id}/items/{}/credit", matched["n"]);
    let (s, refused) = f.call("POST", &path, None).await;
    assert_eq!(
        (s, refused["error"]["code"].as_str()),
        (409, Some("not_creditable")),
        "{refused}"
    );
    let (s, missing) = f
        .call(
            "POST",
            &format!("/api/reconciliations/{id}/items/999/credit"),
            None,
        )
        .await;
    assert_eq!(s, 404, "{missing}");
    let (s, _) = f
        .call("POST", "/api/reconciliations/nope/items/0/credit", None)
        .await;
    assert_eq!(s, 404);
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

async fn stored_reports(f: &PayFixture) -> i64 {
    f.call("GET", "/api/reconciliations", None).await.1["total"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test]
async fn provider_failures_are_clear_errors_and_store_nothing() {
    let f = PayFixture::start("reconcile_errors", |_| {}).await;
    f.register(UID).await;
    credited_card(&f, 100).await;
    let cases: [(&str, u16, &str); 4] = [
        ("yk401", 502, "authentication failed"),
        ("yk500", 503, "server error"),
        ("tg400", 502, "getStarTransactions"),
        ("tg500", 503, "getStarTransactions"),
    ];
    for (case, want, words) in cases {
        match case {
            "yk401" => f.yk.fail_next("/v3/payments", 1, Failure::Unauthorized),
            "yk500" => f.yk.fail_next("/v3/refunds", 1, Failure::ServerError),
            "tg400" => f.tg.fail_next(
                "getStarTransactions",
                1,
                TgFailure::BadRequest("offset is invalid".into()),
            ),
            _ => {
                f.tg.fail_next("getStarTransactions", 1, TgFailure::ServerError)
            }
        }
        let (status, body) = f
            .call("POST", "/api/reconciliations", Some(range(&f)))
            .await;
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (want, Some("upstream_error")),
            "{case}: {body}"
        );
        assert!(message.contains(words), "{case}: {message}");
        assert_eq!(stored_reports(&f).await, 0, "{case}: no partial report");
    }
    for bad in [
        json!({"day": "2024-02-30"}),
        json!({"from": 10, "to": 10}),
        json!({"from": 0, "to": 31_i64 * 86_400_000 + 1}),
        json!({"day": "2024-03-01", "from": 0, "to": 1}),
        json!({}),
    ] {
        let (status, body) = f
            .call("POST", "/api/reconciliations", Some(bad.clone()))
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    let (status, _) = f
        .call(
            "POST",
            "/api/reconciliations",
            Some(json!({"day": "2024-03-01", "extra": 1})),
        )
        .await;
    assert_eq!(status, 400, "unknown fields are refused");
    let (status, _) = f
        .call("POST", "/api/reconciliations", Some(range(&f)))
        .await;
    assert_eq!(status, 201, "the providers are back");
    f.cleanup().await;
}

#[tokio::test]
async fn a_payment_refunded_before_it_was_credited_is_reported_never_creditable() {
    let f = PayFixture::start("reconcile_refunded_first", |_| {}).await;
    f.register(UID).await;
    let (ours, theirs) = card(&f, 100).await;
    f.yk.set_status(&theirs, "succeeded");
    f.yk.refund_part(&theirs, "25.00");
    let (status, report) = f
        .call("POST", "/api/reconciliations", Some(range(&f)))
        .await;
    assert_eq!(status, 201, "{report}");
    let items: Vec<Value> = report["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["payment_id"] == ours.as_str())
        .cloned()
        .collect();
    assert!(!items.is_empty(), "{report:#}");
    for item in &items {
        assert_eq!(item["creditable"], false, "{item}");
        assert_ne!(item["kind"], "missing_ours", "{item}");
    }
    let item = &items[0];
    assert_eq!(item["kind"], "refund_not_taken_back", "{item}");
    let id = report["id"].as_str().unwrap_or("");
    let path = format!("/api/reconciliations/{id}/items/{}/credit", item["n"]);
    let (s, refused) = f.call("POST", &path, None).await;
    assert_eq!(
        (s, refused["error"]["code"].as_str()),
        (409, Some("not_creditable")),
        "{refused}"
    );
    assert_eq!(f.balance(UID).await, 100, "never credited");
    f.cleanup().await;
}
