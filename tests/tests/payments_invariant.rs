//! The ledger always agrees with the payments table: a seeded random mix of creations,
//! status changes at YooKassa, genuine, duplicated, forged and concurrent notifications,
//! whole and partial refunds (some delivered again) and spending, with the invariant checked
//! after every step.

use qwen_core::payments::yookassa;
use serde_json::json;
use testkit::payments::{PayFixture, check_invariants};

/// What is left to refund of a payment that succeeded at YooKassa, in kopecks (0 otherwise).
fn refundable(f: &PayFixture, pid: &str) -> i64 {
    let Some(p) = f.yk.payment(pid).filter(|p| p["status"] == "succeeded") else {
        return 0;
    };
    let kopecks = |v: &serde_json::Value| v.as_str().and_then(yookassa::parse_value).unwrap_or(0);
    kopecks(&p["amount"]["value"]) - kopecks(&p["refunded_amount"]["value"])
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test]
async fn no_sequence_of_events_makes_the_ledger_disagree_with_payments() {
    let f = PayFixture::start("pay_invariant", |_| {}).await;
    let url = f.webhook_url();
    let users = [7101, 7102, 7103];
    for u in users {
        f.register(u).await;
    }
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut provider_ids: Vec<String> = Vec::new();
    let mut refunds: Vec<String> = Vec::new();
    for step in 0..120 {
        let user = users[rng.next(3) as usize];
        match (rng.next(8), provider_ids.is_empty()) {
            (0, _) | (_, true) => {
                let method = if rng.next(2) == 0 {
                    "yookassa_card"
                } else {
                    "yookassa_sbp"
                };
                let (s, c) = f
                    .create(user, method, [100, 300, 500][rng.next(3) as usize])
                    .await;
                assert_eq!(s, 201, "{c}");
                provider_ids.push(
                    c["payment"]["provider_payment_id"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                );
            }
            (1, _) => {
                let pid = &provider_ids[rng.next(provider_ids.len() as u64) as usize];
                let status = ["succeeded", "canceled", "pending"][rng.next(3) as usize];
                f.yk.set_status(pid, status);
            }
            (2 | 3, _) => {
                let pid = provider_ids[rng.next(provider_ids.len() as u64) as usize].clone();
                let event = if rng.next(3) == 0 {
                    "payment.canceled"
                } else {
                    "payment.succeeded"
                };
                let times = 1 + rng.next(4) as usize;
                let sends = (0..times).map(|_| f.yk.notify(&url, event, &pid));
                let statuses = futures::future::join_all(sends).await;
                assert!(
                    statuses.iter().all(|s| *s == 200),
                    "step {step}: {statuses:?}"
                );
            }
            (4, _) => {
                let pid = &provider_ids[rng.next(provider_ids.len() as u64) as usize];
                let mut forged = f.yk.notification("payment.succeeded", pid);
                forged["object"]["status"] = "succeeded".into();
                forged["object"]["paid"] = true.into();
                let src = Some(("spin-client-addr", "185.71.77.3:443"));
                assert_eq!(f.yk.post_notification(&url, &forged, src).await, 200);
            }
            (5 | 6, _) => {
                let pid = &provider_ids[rng.next(provider_ids.len() as u64) as usize];
                let left = refundable(&f, pid);
                let refund = match (left, refunds.is_empty()) {
                    (0, true) => continue,
                    // An old refund delivered again: counted once.
                    (0, false) => refunds[rng.next(refunds.len() as u64) as usize].clone(),
                    _ if rng.next(3) == 0 => f.yk.refund(pid),
                    _ => {
                        let part = 1 + rng.next(left as u64) as i64;
                        f.yk.refund_part(pid, &yookassa::amount_value(part))
                    }
                };
                if !refunds.contains(&refund) {
                    refunds.push(refund.clone());
                }
                assert_eq!(f.yk.notify(&url, "refund.succeeded", &refund).await, 200);
            }
            _ => {
                let balance = f.balance(user).await;
                let spend = (rng.next(200) as i64).min(balance);
                if spend > 0 {
                    let body = json!({"amount": -spend, "reason": "edits"});
                    let (s, _) = f
                        .call("POST", &format!("/api/balance/{user}/adjust"), Some(body))
                        .await;
                    assert_eq!(s, 201);
                }
            }
        }
        if let Err(e) = check_invariants(&f.app.db) {
            panic!("after step {step}: {e}");
        }
    }
    let (_, all) = f.call("GET", "/api/payments/?limit=1", None).await;
    let statuses: Vec<&str> = all["totals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["status"].as_str())
        .collect();
    for needed in ["succeeded", "refunded", "canceled"] {
        assert!(
            statuses.contains(&needed),
            "the mix never reached {needed}: {statuses:?}"
        );
    }
    let conn = rusqlite::Connection::open(&f.app.db).expect("db");
    let partial: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM payment_refunds r JOIN payments p ON p.id = r.payment_id \
             WHERE r.amount < p.amount",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert!(partial > 0, "the mix never made a partial refund");
    f.cleanup().await;
}
