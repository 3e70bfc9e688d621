//! `/health` probes: a success is trusted for a second, a failure never, and a transient
//! failure met anywhere in the core makes the next call probe again. (Its own test binary:
//! the trust is process-wide.)

use std::cell::Cell;

use async_trait::async_trait;
use qwen_core::CoreError;
use qwen_core::health::{FRESH_MS, check, forget, forget_after};
use qwen_core::ports::{Backlog, Queue, QueueError, Sql, SqlError, SqlRow, SqlValue};
use qwen_core::settings::Settings;

#[derive(Default)]
struct Probed {
    up: Cell<bool>,
    calls: Cell<u32>,
}

#[async_trait(?Send)]
impl Sql for Probed {
    async fn execute(&self, _: &str, _: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError> {
        self.calls.set(self.calls.get() + 1);
        Ok(vec![SqlRow(vec![SqlValue::Integer(1)])])
    }
}

#[async_trait(?Send)]
impl Queue for Probed {
    async fn add_marked(
        &self,
        _: &str,
        _: &str,
        _: &[(&str, &str)],
        _: u64,
        _: u64,
    ) -> Result<String, QueueError> {
        Err(QueueError("unused".into()))
    }
    async fn exist(&self, _: &[String]) -> Result<Vec<bool>, QueueError> {
        Ok(Vec::new())
    }
    async fn delete(&self, _: &[String]) -> Result<(), QueueError> {
        Ok(())
    }
    async fn backlog(&self, _: &str) -> Result<Backlog, QueueError> {
        self.calls.set(self.calls.get() + 1);
        if self.up.get() {
            Ok(Backlog::default())
        } else {
            Err(QueueError("connection refused".into()))
        }
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

#[test]
fn a_success_is_trusted_for_a_second_a_failure_never() {
    let settings = Settings::default();
    let (db, queue) = (Probed::default(), Probed::default());
    queue.up.set(true);
    let probes = || db.calls.get() + queue.calls.get();

    assert!(block_on(check(&db, &queue, &settings, 10_000)).ok());
    assert_eq!(probes(), 2, "first call probes both");
    assert!(block_on(check(&db, &queue, &settings, 10_000 + FRESH_MS - 1)).ok());
    assert_eq!(probes(), 2, "a fresh success is trusted");
    assert!(block_on(check(&db, &queue, &settings, 10_000 + FRESH_MS)).ok());
    assert_eq!(probes(), 4, "an old one is not");

    queue.up.set(false);
    forget_after(&CoreError::from(QueueError("refused".into())));
    let h = block_on(check(&db, &queue, &settings, 10_000 + FRESH_MS + 1));
    assert!(!h.ok() && h.database && !h.queue, "{h:?}");
    assert_eq!(
        probes(),
        6,
        "a queue failure met elsewhere forgets the success"
    );
    block_on(check(&db, &queue, &settings, 10_000 + FRESH_MS + 2));
    assert_eq!(probes(), 8, "a failure is never trusted");

    queue.up.set(true);
    assert!(block_on(check(&db, &queue, &settings, 10_000 + FRESH_MS + 3)).ok());
    forget_after(&CoreError::from(SqlError::Unavailable(
        "database is locked".into(),
    )));
    block_on(check(&db, &queue, &settings, 10_000 + FRESH_MS + 4));
    assert_eq!(probes(), 12, "unavailable storage forgets it too");
    forget_after(&CoreError::from(SqlError::Constraint("UNIQUE".into())));
    block_on(check(&db, &queue, &settings, 10_000 + FRESH_MS + 5));
    assert_eq!(probes(), 12, "a refused write says nothing about health");
    forget();
    block_on(check(&db, &queue, &settings, 10_000 + FRESH_MS + 6));
    assert_eq!(probes(), 14);
}
