//! The payment methods registry against the API: every registered method creates a payment,
//! and an operator's refund (`POST /api/payments/{id}/refund`) reaches the payment's method,
//! which answers it — exactly as it did when the refund was Stars-only.

use qwen_core::payments::stars::{self, StarsPayment};
use qwen_core::payments::{Deps, METHODS, Method, Payment, PaymentMethod};
use serde_json::Value;
use testkit::payments::{PayFixture, ReqwestHttp, check_invariants};
use testkit::sql::SqliteSql;

/// Whether an operator may refund a credited payment of `id` here (YooKassa refunds are made
/// in YooKassa's dashboard and arrive as notifications). A new method says so here.
fn operator_refunds(id: Method) -> bool {
    match id {
        Method::Stars => true,
        Method::YookassaCard | Method::YookassaSbp => false,
    }
}

/// A new user `uid` with a pending payment of `m` (its first package); returns the answer.
async fn pending(f: &PayFixture, uid: i64, m: &dyn PaymentMethod) -> Value {
    f.register(uid).await;
    let package = m.currency().packages(&f.app.pay)[0].amount;
    let (status, created) = f.create(uid, m.id().as_str(), package).await;
    assert_eq!(status, 201, "{} creates a payment: {created}", m.id());
    created
}

/// Credits the payment `created` of `m` the way its provider would. A new method says how
/// here.
async fn credit(f: &PayFixture, m: &dyn PaymentMethod, created: &Value) {
    let p = &created["payment"];
    match m.id() {
        Method::YookassaCard | Method::YookassaSbp => {
            let provider_id = p["provider_payment_id"].as_str().unwrap_or_default();
            f.yk.set_status(provider_id, "succeeded");
            let url = f.webhook_url();
            assert_eq!(
                f.yk.notify(&url, "payment.succeeded", provider_id).await,
                200
            );
        }
        Method::Stars => credit_stars(f, p).await,
    }
}

/// Telegram's `successful_payment` of the Stars payment `p`.
async fn credit_stars(f: &PayFixture, p: &Value) {
    let id = p["id"].as_str().unwrap_or_default();
    let (sql, http) = (SqliteSql::open(&f.app.db), ReqwestHttp::new());
    let deps = Deps {
        sql: &sql,
        http: &http,
        clock: f.app.clock.as_ref(),
        settings: &f.app.settings,
        pay: &f.app.pay,
    };
    let paid = StarsPayment {
        user_id: p["user_id"].as_i64().unwrap_or_default(),
        currency: "XTR",
        total_amount: p["amount"].as_i64().unwrap_or_default(),
        payload: id,
    };
    let credited = stars::successful_payment(&deps, &paid, &format!("stx{id}")).await;
    assert!(credited.expect("credit"), "Stars payment {id} credited");
}

/// The stored row of the payment `created`.
async fn row(f: &PayFixture, created: &Value) -> Payment {
    let id = created["payment"]["id"].as_str().unwrap_or_default();
    serde_json::from_value(f.payment(id).await).expect("a payment row")
}

async fn refund(f: &PayFixture, created: &Value) -> (u16, Value) {
    let id = created["payment"]["id"].as_str().unwrap_or_default();
    f.call("POST", &format!("/api/payments/{id}/refund"), None)
        .await
}

fn not_refundable(answer: &(u16, Value)) -> bool {
    let (status, body) = answer;
    *status == 409
        && body["error"]["code"] == "not_refundable"
        && body["error"]["message"] == "only a credited Stars payment can be refunded here"
}

#[tokio::test]
async fn no_method_refunds_a_pending_payment() {
    let f = PayFixture::start("methods_refund_pending", |_| {}).await;
    for (i, m) in METHODS.iter().enumerate() {
        let created = pending(&f, 8600 + i as i64, *m).await;
        let answer = refund(&f, &created).await;
        assert!(not_refundable(&answer), "{}: {answer:?}", m.id());
        let id = created["payment"]["id"].as_str().unwrap_or_default();
        assert_eq!(f.payment(id).await["status"], "pending", "{}", m.id());
    }
    f.cleanup().await;
}

#[tokio::test]
async fn a_credited_payment_is_refunded_by_its_own_method() {
    let f = PayFixture::start("methods_refund_credited", |_| {}).await;
    for (i, m) in METHODS.iter().enumerate() {
        let uid = 8610 + i as i64;
        let created = pending(&f, uid, *m).await;
        credit(&f, *m, &created).await;
        let before = f.balance(uid).await;
        assert!(before > 100, "{} credited", m.id());
        let refundable = m.refundable(&row(&f, &created).await);
        let expected = operator_refunds(m.id());
        assert_eq!(
            refundable,
            expected,
            "{}: the console offers the refund",
            m.id()
        );
        let answer = refund(&f, &created).await;
        if expected {
            assert_eq!(answer.0, 200, "{}: {answer:?}", m.id());
            assert_eq!(answer.1["status"], "refunded", "{}", m.id());
            assert_eq!(f.balance(uid).await, 100, "{} takes it back", m.id());
        } else {
            assert!(not_refundable(&answer), "{}: {answer:?}", m.id());
            assert_eq!(f.balance(uid).await, before, "{} keeps it", m.id());
        }
    }
    check_invariants(&f.app.db).expect("ledger agrees with payments");
    f.cleanup().await;
}

#[tokio::test]
async fn a_payment_refunded_at_its_provider_answers_itself() {
    let f = PayFixture::start("methods_refund_refunded", |_| {}).await;
    for (i, m) in METHODS.iter().enumerate() {
        let created = pending(&f, 8620 + i as i64, *m).await;
        credit(&f, *m, &created).await;
        let Some(provider_id) = created["payment"]["provider_payment_id"].as_str() else {
            continue; // refunded here only: a_credited_payment_is_refunded_by_its_own_method
        };
        let refund_id = f.yk.refund(provider_id);
        let url = f.webhook_url();
        assert_eq!(f.yk.notify(&url, "refund.succeeded", &refund_id).await, 200);
        let answer = refund(&f, &created).await;
        assert_eq!(answer.0, 200, "{}: {answer:?}", m.id());
        assert_eq!(answer.1["status"], "refunded", "{}", m.id());
        assert!(!m.refundable(&row(&f, &created).await), "{}", m.id());
    }
    f.cleanup().await;
}

#[tokio::test]
async fn refunding_an_unknown_payment_is_not_found() {
    let f = PayFixture::start("methods_refund_unknown", |_| {}).await;
    let (status, body) = f.call("POST", "/api/payments/nope/refund", None).await;
    assert_eq!(status, 404, "{body}");
    f.cleanup().await;
}
