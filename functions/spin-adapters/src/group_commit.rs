//! Group commit: the writes of one Spin instance take turns, and the writes that queued up
//! while another was running are committed together, in one transaction.
//!
//! Why: one instance serves up to 16 requests at once, each on its own SQLite connection.
//! Left to race, their writes meet in SQLite's lock and the losers sleep in its busy handler
//! in growing steps (a p99 of ~500 ms for one `INSERT` per request); taking turns removes the
//! sleeps but then every commit waits for its own fsync, one after the other. So the request
//! that gets the turn runs every write waiting at that moment inside one `BEGIN IMMEDIATE` …
//! `COMMIT` on its connection: one fsync for the lot, and the next turn starts at once.
//!
//! Each write is one self-contained statement (the core writes with single statements and
//! `RETURNING`), so it means the same on any connection. A statement refused by a constraint
//! is undone by SQLite alone (statement atomicity) and reported to its request; the others
//! go on. Any other failure rolls the whole transaction back and every write of the batch
//! fails as unavailable (nothing of it was committed), so no request is told "done" for a
//! write that did not happen. Results reach each request only after `COMMIT`.
//!
//! A write is [`Durability::Durable`] or [`Durability::Volatile`] (harmless to lose in a power
//! failure, see `Sql::execute_volatile`). A batch of volatile writes only runs on the
//! runner's volatile connection (a commit without fsync); one durable write makes the whole
//! batch durable.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use async_lock::{Semaphore, SemaphoreGuardArc};
use async_trait::async_trait;
use qwen_core::ports::{SqlError, SqlRow, SqlValue};

/// How a write must be committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Synced to disk before it counts (money, jobs, anything by default).
    Durable,
    /// May be lost in a power failure (never in a crash).
    Volatile,
}

/// Runs one statement on a connection of the given durability.
#[async_trait(?Send)]
pub trait Runner {
    /// Runs `sql` with `params` and returns its rows.
    async fn run(
        &self,
        durability: Durability,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<SqlRow>, SqlError>;
}

type Outcome = Result<Vec<SqlRow>, SqlError>;

/// One queued write and, once run, its outcome.
struct Slot {
    durability: Durability,
    sql: String,
    params: Vec<SqlValue>,
    outcome: Option<Outcome>,
}

/// The write queue of one instance.
pub struct WriteQueue {
    turn: Arc<Semaphore>,
    waiting: RefCell<Vec<Rc<RefCell<Slot>>>>,
}

impl Default for WriteQueue {
    fn default() -> Self {
        WriteQueue {
            turn: Arc::new(Semaphore::new(1)),
            waiting: RefCell::new(Vec::new()),
        }
    }
}

impl WriteQueue {
    /// Waits for the turn and keeps it (a transaction or a statement that must run alone).
    pub async fn exclusive(&self) -> SemaphoreGuardArc {
        self.turn.acquire_arc().await
    }

    /// Runs one write statement, possibly inside a batch led by another request.
    ///
    /// # Errors
    /// The statement's own error, or [`SqlError::Unavailable`] when its batch failed.
    pub async fn write(
        &self,
        runner: &dyn Runner,
        durability: Durability,
        sql: &str,
        params: &[SqlValue],
    ) -> Outcome {
        let slot = Rc::new(RefCell::new(Slot {
            durability,
            sql: sql.to_owned(),
            params: params.to_vec(),
            outcome: None,
        }));
        self.waiting.borrow_mut().push(slot.clone());
        let _turn = self.turn.acquire_arc().await;
        if let Some(done) = slot.borrow_mut().outcome.take() {
            return done;
        }
        let batch = std::mem::take(&mut *self.waiting.borrow_mut());
        run_batch(runner, &batch).await;
        let outcome = slot.borrow_mut().outcome.take();
        outcome.unwrap_or_else(|| {
            // Taken by a batch whose request went away before finishing it.
            Err(SqlError::Unavailable("write abandoned by its batch".into()))
        })
    }
}

fn statement(slot: &Rc<RefCell<Slot>>) -> (String, Vec<SqlValue>) {
    let s = slot.borrow();
    (s.sql.clone(), s.params.clone())
}

fn settle(batch: &[Rc<RefCell<Slot>>], outcomes: Vec<Outcome>) {
    for (slot, outcome) in batch.iter().zip(outcomes) {
        slot.borrow_mut().outcome = Some(outcome);
    }
}

/// Durable unless every write of `batch` is volatile.
fn durability(batch: &[Rc<RefCell<Slot>>]) -> Durability {
    if batch
        .iter()
        .all(|s| s.borrow().durability == Durability::Volatile)
    {
        Durability::Volatile
    } else {
        Durability::Durable
    }
}

/// Runs `batch`: alone in autocommit when it is one write, else in one transaction.
async fn run_batch(runner: &dyn Runner, batch: &[Rc<RefCell<Slot>>]) {
    let d = durability(batch);
    if let [only] = batch {
        let (sql, params) = statement(only);
        let outcome = runner.run(d, &sql, &params).await;
        only.borrow_mut().outcome = Some(outcome);
        return;
    }
    tracing::debug!(writes = batch.len(), durability = ?d, "write batch");
    let outcomes = match transaction(runner, d, batch).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            let _ = runner.run(d, "ROLLBACK", &[]).await;
            let failed = SqlError::Unavailable(format!("write batch rolled back: {e}"));
            vec![Err(failed); batch.len()]
        }
    };
    settle(batch, outcomes);
}

async fn transaction(
    runner: &dyn Runner,
    d: Durability,
    batch: &[Rc<RefCell<Slot>>],
) -> Result<Vec<Outcome>, SqlError> {
    runner.run(d, "BEGIN IMMEDIATE", &[]).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for slot in batch {
        let (sql, params) = statement(slot);
        match runner.run(d, &sql, &params).await {
            Ok(rows) => outcomes.push(Ok(rows)),
            Err(e @ SqlError::Constraint(_)) => outcomes.push(Err(e)),
            Err(e) => return Err(e),
        }
    }
    runner.run(d, "COMMIT", &[]).await?;
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rusqlite connection that yields before every statement (as a host call does), so
    /// concurrent writers queue up behind the turn; it records the statements it ran.
    struct Conn {
        db: rusqlite::Connection,
        ran: Rc<RefCell<Vec<String>>>,
    }

    /// Marks statements run on the volatile connection.
    const VOLATILE_MARK: &str = "volatile: ";

    impl Conn {
        fn open(path: &std::path::Path, ran: &Rc<RefCell<Vec<String>>>) -> Conn {
            let db = rusqlite::Connection::open(path).expect("open");
            db.busy_timeout(std::time::Duration::from_secs(5))
                .expect("busy timeout");
            Conn {
                db,
                ran: ran.clone(),
            }
        }
    }

    #[async_trait(?Send)]
    impl Runner for Conn {
        async fn run(&self, d: Durability, sql: &str, params: &[SqlValue]) -> Outcome {
            tokio::task::yield_now().await;
            let mark = if d == Durability::Volatile {
                VOLATILE_MARK
            } else {
                ""
            };
            self.ran.borrow_mut().push(format!("{mark}{sql}"));
            let values: Vec<rusqlite::types::Value> = params
                .iter()
                .map(|p| match p {
                    SqlValue::Integer(i) => (*i).into(),
                    SqlValue::Text(t) => t.clone().into(),
                    _ => rusqlite::types::Value::Null,
                })
                .collect();
            let mut stmt = self
                .db
                .prepare(sql)
                .map_err(|e| SqlError::from_message(e.to_string()))?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(values))
                .map_err(|e| SqlError::from_message(e.to_string()))?;
            let mut out = Vec::new();
            while let Some(row) = rows
                .next()
                .map_err(|e| SqlError::from_message(e.to_string()))?
            {
                let v: i64 = row.get(0).unwrap_or(0);
                out.push(SqlRow(vec![SqlValue::Integer(v)]));
            }
            Ok(out)
        }
    }

    struct World {
        _dir: tempfile::TempDir,
        path: std::path::PathBuf,
        ran: Rc<RefCell<Vec<String>>>,
        queue: Rc<WriteQueue>,
    }

    fn world() -> World {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("g.db");
        let db = rusqlite::Connection::open(&path).expect("open");
        db.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0));",
        )
        .expect("schema");
        World {
            _dir: dir,
            path,
            ran: Rc::default(),
            queue: Rc::new(WriteQueue::default()),
        }
    }

    /// Runs durable `writes` concurrently, each on its own connection; returns their outcomes.
    async fn concurrently(w: &World, writes: Vec<(String, Vec<SqlValue>)>) -> Vec<Outcome> {
        let durable = writes
            .into_iter()
            .map(|(sql, params)| (Durability::Durable, sql, params))
            .collect();
        concurrently_as(w, durable).await
    }

    async fn concurrently_as(
        w: &World,
        writes: Vec<(Durability, String, Vec<SqlValue>)>,
    ) -> Vec<Outcome> {
        let local = tokio::task::LocalSet::new();
        let handles: Vec<_> = writes
            .into_iter()
            .map(|(d, sql, params)| {
                let (queue, conn) = (w.queue.clone(), Conn::open(&w.path, &w.ran));
                local.spawn_local(async move { queue.write(&conn, d, &sql, &params).await })
            })
            .collect();
        local
            .run_until(async {
                let mut out = Vec::new();
                for h in handles {
                    out.push(h.await.expect("task"));
                }
                out
            })
            .await
    }

    fn insert(k: i64, v: i64) -> (String, Vec<SqlValue>) {
        (
            "INSERT INTO t (k, v) VALUES (?1, ?2) RETURNING k".into(),
            vec![k.into(), v.into()],
        )
    }

    fn count(w: &World) -> i64 {
        let db = rusqlite::Connection::open(&w.path).expect("open");
        db.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .expect("count")
    }

    fn begins(w: &World) -> usize {
        w.ran
            .borrow()
            .iter()
            .filter(|s| s.starts_with("BEGIN"))
            .count()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_writes_are_committed_together_and_each_gets_its_rows() {
        let w = world();
        let out = concurrently(&w, (1..=20).map(|k| insert(k, 1)).collect()).await;
        for (k, o) in (1..=20).zip(&out) {
            assert_eq!(o.as_ref().expect("ok")[0].0, vec![SqlValue::Integer(k)]);
        }
        assert_eq!(count(&w), 20);
        let batches = begins(&w);
        assert!(
            (1..20).contains(&batches),
            "20 writes in fewer than 20 transactions: {batches}"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_refused_write_fails_alone_and_the_rest_commit() {
        let w = world();
        let mut writes: Vec<_> = (1..=10).map(|k| insert(k, 1)).collect();
        writes[3] = insert(4, -1); // CHECK fails
        writes[7] = insert(2, 1); // duplicate key
        let out = concurrently(&w, writes).await;
        assert!(
            matches!(out[3], Err(SqlError::Constraint(_))),
            "{:?}",
            out[3]
        );
        assert!(
            matches!(out[7], Err(SqlError::Constraint(_))),
            "{:?}",
            out[7]
        );
        let ok = out.iter().filter(|o| o.is_ok()).count();
        assert_eq!(ok, 8);
        assert_eq!(count(&w), 8, "the refused writes left nothing behind");
        assert!(begins(&w) >= 1, "they ran in a batch");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn any_other_failure_rolls_the_whole_batch_back() {
        let w = world();
        let mut writes: Vec<_> = (1..=10).map(|k| insert(k, 1)).collect();
        writes[5] = ("INSERT INTO missing (k) VALUES (1)".into(), vec![]);
        let out = concurrently(&w, writes).await;
        let failed: Vec<_> = out.iter().filter(|o| o.is_err()).collect();
        let committed = count(&w) as usize;
        assert_eq!(
            out.iter().filter(|o| o.is_ok()).count(),
            committed,
            "exactly the writes reported done were committed: {out:?}"
        );
        assert!(
            failed.len() > 1,
            "the batch with the bad write failed as a whole"
        );
        assert!(
            failed
                .iter()
                .all(|o| matches!(o, Err(SqlError::Unavailable(_)) | Err(SqlError::Other(_)))),
            "{failed:?}"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_lone_write_runs_without_a_transaction() {
        let w = world();
        let conn = Conn::open(&w.path, &w.ran);
        let (sql, params) = insert(1, 1);
        let out = w
            .queue
            .write(&conn, Durability::Durable, &sql, &params)
            .await;
        assert!(out.is_ok());
        assert_eq!(*w.ran.borrow(), vec![sql]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn volatile_writes_alone_run_volatile_and_one_durable_write_makes_a_batch_durable() {
        let w = world();
        let volatile = |k| {
            let (sql, params) = insert(k, 1);
            (Durability::Volatile, sql, params)
        };
        let out = concurrently_as(&w, (1..=6).map(volatile).collect()).await;
        assert!(out.iter().all(Result::is_ok));
        assert!(
            w.ran.borrow().iter().all(|s| s.starts_with(VOLATILE_MARK)),
            "{:?}",
            w.ran.borrow()
        );
        w.ran.borrow_mut().clear();
        let mut mixed: Vec<_> = (11..=16).map(volatile).collect();
        mixed[4].0 = Durability::Durable;
        let out = concurrently_as(&w, mixed).await;
        assert!(out.iter().all(Result::is_ok));
        let ran = w.ran.borrow();
        let commits: Vec<&String> = ran.iter().filter(|s| s.ends_with("COMMIT")).collect();
        assert!(!commits.is_empty(), "the later five were batched: {ran:?}");
        assert!(
            commits.iter().all(|s| !s.starts_with(VOLATILE_MARK)),
            "a batch holding a durable write commits durably: {ran:?}"
        );
        assert_eq!(count(&w), 12);
    }
}
