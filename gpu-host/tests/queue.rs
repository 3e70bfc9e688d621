//! The jobs stream consumer against a real Redis.

mod common;

use std::time::Duration;

use common::{cleanup, names, redis, redis_url, xlen};
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

/// Reads and acks `n` entries as `q`.
async fn consume(q: &JobQueue, n: usize) {
    for _ in 0..n {
        let e = q
            .read_new(Duration::from_millis(100))
            .await
            .expect("read")
            .expect("entry");
        assert!(q.ack(&e.id).await.expect("ack"));
    }
}

async fn exists(stream: &str, id: &str) -> bool {
    let mut r = redis().await;
    let found: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
        .arg(stream)
        .arg(id)
        .arg(id)
        .query_async(&mut r)
        .await
        .expect("xrange");
    !found.is_empty()
}

#[tokio::test(flavor = "current_thread")]
async fn acks_keep_the_stream_bounded_and_never_trim_a_pending_entry() {
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
    xadd(&n.stream, 400).await;
    consume(&b, 400).await;
    assert!(
        xlen(&n.stream).await <= 150,
        "trimmed as acks go: {}",
        xlen(&n.stream).await
    );

    let held = xadd(&n.stream, 1).await.remove(0);
    let taken = a
        .read_new(Duration::from_millis(100))
        .await
        .expect("read")
        .expect("entry");
    assert_eq!(taken.id, held);
    xadd(&n.stream, 300).await;
    consume(&b, 300).await;
    assert!(
        exists(&n.stream, &held).await,
        "a pending entry is never trimmed"
    );
    assert!(xlen(&n.stream).await >= 301, "nothing after it either");

    // An entry nobody has read yet stays too, and no group at all means no trim.
    let unread = xadd(&n.stream, 1).await.remove(0);
    assert!(a.ack(&held).await.expect("ack"));
    assert!(exists(&n.stream, &unread).await);
    assert!(
        xlen(&n.stream).await <= 150,
        "trimmed once acked: {}",
        xlen(&n.stream).await
    );
    let mut r = redis().await;
    let _: () = redis::cmd("XGROUP")
        .arg("DESTROY")
        .arg(&n.stream)
        .arg(&n.group)
        .query_async(&mut r)
        .await
        .expect("destroy");
    xadd(&n.stream, 200).await;
    let before = xlen(&n.stream).await;
    a.trim().await.expect("trim");
    assert_eq!(xlen(&n.stream).await, before, "no group: no trim");
    cleanup(&n).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_lagging_group_holds_the_trim_back() {
    let n = names("host-a");
    let a = JobQueue::connect(&redis_url(), n.clone()).await.expect("a");
    let mut r = redis().await;
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&n.stream)
        .arg("other-readers")
        .arg("0")
        .query_async(&mut r)
        .await
        .expect("second group");
    xadd(&n.stream, 300).await;
    consume(&a, 300).await;
    assert_eq!(
        xlen(&n.stream).await,
        300,
        "the other group has read nothing yet"
    );
    cleanup(&n).await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_expired_stream_is_met_with_a_new_group() {
    let n = names("host-a");
    let q = JobQueue::connect(&redis_url(), n.clone()).await.expect("q");
    let mut r = redis().await;
    let _: () = redis::cmd("DEL")
        .arg(&n.stream)
        .query_async(&mut r)
        .await
        .expect("del");
    assert!(
        q.claim_stale(Duration::from_millis(10))
            .await
            .expect("claim after expiry")
            .is_none()
    );
    let _: () = redis::cmd("DEL")
        .arg(&n.stream)
        .query_async(&mut r)
        .await
        .expect("del");
    // The edge adds the next job to a fresh stream (no group yet): the host still reads it.
    let id = xadd(&n.stream, 1).await.remove(0);
    let mut got = None;
    for _ in 0..3 {
        got = q
            .read_new(Duration::from_millis(100))
            .await
            .expect("read after expiry");
        if got.is_some() {
            break;
        }
    }
    assert_eq!(got.map(|e| e.id), Some(id));
    cleanup(&n).await;
}

#[tokio::test(flavor = "current_thread")]
async fn idle_consumers_with_nothing_pending_are_deleted() {
    let n = names("host-a");
    let q = JobQueue::connect(&redis_url(), n.clone()).await.expect("q");
    xadd(&n.stream, 1).await;
    let mut r = redis().await;
    for consumer in ["gone-empty", "host-a"] {
        let _: i64 = redis::cmd("XGROUP")
            .arg("CREATECONSUMER")
            .arg(&n.stream)
            .arg(&n.group)
            .arg(consumer)
            .query_async(&mut r)
            .await
            .expect("create consumer");
    }
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(&n.group)
        .arg("gone-busy")
        .arg("STREAMS")
        .arg(&n.stream)
        .arg(">")
        .query_async(&mut r)
        .await
        .expect("read");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        q.prune_consumers(Duration::from_secs(60))
            .await
            .expect("prune"),
        0,
        "not idle long enough"
    );
    assert_eq!(
        q.prune_consumers(Duration::from_millis(200))
            .await
            .expect("prune"),
        1
    );
    let consumers: Vec<redis::Value> = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(&n.stream)
        .arg(&n.group)
        .query_async(&mut r)
        .await
        .expect("consumers");
    let text = format!("{consumers:?}");
    assert!(!text.contains("gone-empty"), "{text}");
    assert!(
        text.contains("gone-busy") && text.contains("host-a"),
        "{text}"
    );
    cleanup(&n).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_dead_letter_stream_is_capped_keeps_the_signature_and_expires() {
    let n = names("host-a");
    let q = JobQueue::connect(&redis_url(), n.clone())
        .await
        .expect("q")
        .with_dead_letter_max(50);
    let entry = gpu_host::queue::Entry {
        id: "1-1".into(),
        job: Some("{}".into()),
        sig: Some("v1=abcd".into()),
        deliveries: 1,
    };
    for _ in 0..500 {
        q.dead_letter(&entry, "unsigned")
            .await
            .expect("dead letter");
    }
    let len = xlen(&n.dead).await;
    assert!((50..=150).contains(&len), "capped near 50: {len}");
    let mut r = redis().await;
    let ttl: i64 = redis::cmd("TTL")
        .arg(&n.dead)
        .query_async(&mut r)
        .await
        .expect("ttl");
    assert!(ttl > 29 * 24 * 3600, "expires in 30 days: {ttl}");
    let last: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
        .arg(&n.dead)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut r)
        .await
        .expect("last");
    let fields = &last[0].1;
    assert!(
        fields.contains(&("sig".into(), "v1=abcd".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("reason".into(), "unsigned".into())),
        "{fields:?}"
    );
    cleanup(&n).await;
}
