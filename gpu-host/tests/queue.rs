//! The jobs stream consumer against a real Redis.

mod common;

use std::time::Duration;

use common::{cleanup, names, redis, redis_url};
use gpu_host::queue::JobQueue;

async fn xadd(stream: &str, n: usize) -> Vec<String> {
    let mut r = redis().await;
    let mut ids = vec![];
    for i in 0..n {
        let id: String = redis::cmd("XADD")
            .arg(stream)
            .arg("*")
            .arg("job")
            .arg(format!("{{\"n\":{i}}}"))
            .query_async(&mut r)
            .await
            .expect("xadd");
        ids.push(id);
    }
    ids
}

#[tokio::test(flavor = "current_thread")]
async fn attempts_follow_deliveries_and_only_the_owner_renews_or_acks() {
    let n = names("host-a");
    let a = JobQueue::connect(&redis_url(), n.clone()).await.expect("a");
    let b = JobQueue::connect(
        &redis_url(),
        gpu_host::queue::StreamNames {
            consumer: "host-b".into(),
            ..n.clone()
        },
    )
    .await
    .expect("b");
    let ids = xadd(&n.stream, 1).await;
    let first = a
        .read_new(Duration::from_millis(100))
        .await
        .expect("read")
        .expect("entry");
    assert_eq!((first.id.as_str(), first.deliveries), (ids[0].as_str(), 1));
    assert!(first.job.is_some());
    assert!(a.renew(&first.id).await.expect("renew"), "the owner renews");
    assert_eq!(
        a.deliveries(&first.id).await.expect("count"),
        Some(1),
        "JUSTID does not count"
    );
    assert!(
        b.claim_stale(Duration::from_millis(300))
            .await
            .expect("claim")
            .is_none(),
        "fresh entries are not taken"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken = b
        .claim_stale(Duration::from_millis(300))
        .await
        .expect("claim")
        .expect("stale entry");
    assert_eq!((taken.id.as_str(), taken.deliveries), (ids[0].as_str(), 2));
    assert!(
        !a.renew(&first.id).await.expect("renew"),
        "a stale host never steals it back"
    );
    assert!(!a.ack(&first.id).await.expect("ack"), "nor acks it");
    assert!(b.ack(&first.id).await.expect("ack"));
    assert_eq!(a.pending().await.expect("pending"), 0);
    cleanup(&n).await;
}

#[tokio::test(flavor = "current_thread")]
async fn stale_entries_behind_many_fresh_ones_are_found() {
    let n = names("host-a");
    let q = JobQueue::connect(&redis_url(), n.clone())
        .await
        .expect("queue");
    let ids = xadd(&n.stream, 16).await;
    let mut r = redis().await;
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(&n.group)
        .arg("ghost")
        .arg("STREAMS")
        .arg(&n.stream)
        .arg(">")
        .query_async(&mut r)
        .await
        .expect("read");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut fresh = redis::cmd("XCLAIM");
    fresh.arg(&n.stream).arg(&n.group).arg("ghost").arg(0);
    for id in &ids[..15] {
        fresh.arg(id);
    }
    let _: redis::Value = fresh
        .arg("JUSTID")
        .query_async(&mut r)
        .await
        .expect("xclaim");
    let mut found = None;
    for _ in 0..4 {
        if let Some(e) = q
            .claim_stale(Duration::from_millis(300))
            .await
            .expect("claim")
        {
            found = Some(e);
            break;
        }
    }
    assert_eq!(found.map(|e| e.id), Some(ids[15].clone()));
    cleanup(&n).await;
}
