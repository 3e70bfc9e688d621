//! The core's [`Sql`] port on Spin's SQLite, with a write gate per instance.
//!
//! Writes go through the instance's write queue (`group_commit`): one writer at a time, and
//! the writes that waited meanwhile are committed together. Volatile writes
//! (`Sql::execute_volatile`, e.g. update claims) commit on connections with
//! `synchronous = NORMAL` when their batch holds nothing durable. A `BEGIN` … `COMMIT`/`ROLLBACK`
//! of a request keeps the turn for its whole transaction; statements that must run alone
//! (`PRAGMA`, DDL) take the turn for themselves. Reads never wait. Other instances and
//! components still meet in SQLite's own lock, rarely.
//!
//! Connections are pooled per instance and taken on a request's first statement: opening
//! one and its first statement (SQLite reads and parses the whole schema then) cost more
//! than a request's own statements, and many requests (a refused token, a duplicate
//! update, a cached health answer) need none. A request *takes* a connection for its whole
//! length and gives it back when done, so two requests never share one at the same time
//! (they would interleave statements and transactions). A connection is not given back when
//! a transaction is still open on it or it failed with an I/O error.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use async_lock::SemaphoreGuardArc;
use async_trait::async_trait;
use qwen_core::ports::{Sql, SqlError, SqlRow, SqlValue};
use spin_sdk::sqlite;

use crate::group_commit::{Durability, Runner, WriteQueue};
use crate::statement::{Kind, kind};

/// How long a statement waits for a lock held by another instance before it fails.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Whether SQLite refused a statement because another connection holds the lock.
fn is_locked(message: &str) -> bool {
    message.contains("locked") || message.contains("busy")
}

/// Idle connections kept per instance and durability (an instance serves at most 16
/// requests at once).
pub const POOL_SIZE: usize = 16;

thread_local! {
    /// The instance's write queue (one writer at a time, waiting writes committed together).
    static WRITES: Rc<WriteQueue> = Rc::new(WriteQueue::default());
    /// Idle connections of this instance (`synchronous = FULL`, SQLite's default here).
    static IDLE: RefCell<Vec<sqlite::Connection>> = const { RefCell::new(Vec::new()) };
    /// Idle connections for volatile writes (`synchronous = NORMAL`: no fsync per commit).
    static IDLE_VOLATILE: RefCell<Vec<sqlite::Connection>> = const { RefCell::new(Vec::new()) };
}

fn pool(d: Durability) -> &'static std::thread::LocalKey<RefCell<Vec<sqlite::Connection>>> {
    match d {
        Durability::Durable => &IDLE,
        Durability::Volatile => &IDLE_VOLATILE,
    }
}

/// The app's `default` SQLite database: connections taken for one request.
pub struct SpinSql {
    /// For reads, durable writes and transactions.
    durable: OnceCell<sqlite::Connection>,
    /// For batches of volatile writes only.
    volatile: OnceCell<sqlite::Connection>,
    /// The turn held by an open transaction of this request.
    in_transaction: RefCell<Option<SemaphoreGuardArc>>,
    /// An I/O error happened, or a write batch was under way when the request went away:
    /// the connections are not given back.
    broken: Cell<bool>,
    /// A write (maybe a batch of other requests' writes) is running on a connection.
    writing: Cell<bool>,
}

impl SpinSql {
    /// The `default` database; a connection is taken on the first statement (a failure to
    /// open then surfaces as that statement's [`SqlError::Unavailable`]).
    pub fn default_database() -> SpinSql {
        SpinSql {
            durable: OnceCell::new(),
            volatile: OnceCell::new(),
            in_transaction: RefCell::new(None),
            broken: Cell::new(false),
            writing: Cell::new(false),
        }
    }

    fn cell(&self, d: Durability) -> &OnceCell<sqlite::Connection> {
        match d {
            Durability::Durable => &self.durable,
            Durability::Volatile => &self.volatile,
        }
    }

    async fn connection(&self, d: Durability) -> Result<&sqlite::Connection, SqlError> {
        let cell = self.cell(d);
        if cell.get().is_none() {
            let conn = match pool(d).with(|idle| idle.borrow_mut().pop()) {
                Some(conn) => conn,
                None => Self::open(d).await?,
            };
            let _ = cell.set(conn);
        }
        cell.get()
            .ok_or_else(|| SqlError::Unavailable("no connection".into()))
    }

    /// A new connection whose lock waits are ours (see its `Runner::run`).
    async fn open(d: Durability) -> Result<sqlite::Connection, SqlError> {
        let conn = sqlite::Connection::open_default()
            .await
            .map_err(|e| SqlError::Unavailable(format!("{e:?}")))?;
        Self::tune(&conn, "PRAGMA busy_timeout = 0").await?;
        if d == Durability::Volatile {
            Self::tune(&conn, "PRAGMA synchronous = NORMAL").await?;
        }
        Ok(conn)
    }

    /// Runs a tuning `PRAGMA`; a database that takes no `PRAGMA`s (a libSQL server, which
    /// manages locking and durability itself) runs without it.
    async fn tune(conn: &sqlite::Connection, pragma: &str) -> Result<(), SqlError> {
        match Self::collect(conn, pragma, &[]).await {
            Ok(_) => Ok(()),
            Err(SqlError::Unsupported(detail)) => {
                tracing::debug!(pragma, %detail, "the database takes no PRAGMA; skipped");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn collect(
        conn: &sqlite::Connection,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<SqlRow>, SqlError> {
        let result = conn
            .execute(sql, params.iter().map(to_spin))
            .await
            .map_err(sql_error)?;
        let rows = result.collect().await.map_err(sql_error)?;
        Ok(rows
            .into_iter()
            .map(|r| SqlRow(r.values.into_iter().map(from_spin).collect()))
            .collect())
    }

    fn writes() -> Rc<WriteQueue> {
        WRITES.with(Rc::clone)
    }

    async fn turn() -> SemaphoreGuardArc {
        Self::writes().exclusive().await
    }

    async fn write(
        &self,
        d: Durability,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<SqlRow>, SqlError> {
        self.writing.set(true);
        let out = Self::writes().write(self, d, sql, params).await;
        self.writing.set(false);
        out
    }

    /// One statement outside the write queue's batches.
    async fn statement(
        &self,
        d: Durability,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<SqlRow>, SqlError> {
        if self.in_transaction.borrow().is_some() {
            let out = self.run(Durability::Durable, sql, params).await;
            if kind(sql) == Kind::End {
                self.in_transaction.borrow_mut().take();
            }
            return out;
        }
        match kind(sql) {
            Kind::Read | Kind::End => self.run(Durability::Durable, sql, params).await,
            Kind::Write => self.write(d, sql, params).await,
            Kind::Exclusive => {
                let _turn = Self::turn().await;
                self.run(Durability::Durable, sql, params).await
            }
            Kind::Begin => {
                let turn = Self::turn().await;
                let out = self.run(Durability::Durable, sql, params).await;
                if out.is_ok() {
                    *self.in_transaction.borrow_mut() = Some(turn);
                }
                out
            }
        }
    }
}

#[async_trait(?Send)]
impl Runner for SpinSql {
    /// Runs a statement; while the database is locked by another instance or component,
    /// retries after short, growing pauses (0.25 ms up to 2 ms, for at most
    /// [`LOCK_WAIT`]) instead of SQLite's busy handler, whose sleeps grow to 100 ms and
    /// leave the lock idle long after it was freed. A locked statement did not run, so
    /// running it again is safe.
    async fn run(
        &self,
        d: Durability,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<SqlRow>, SqlError> {
        let conn = self.connection(d).await?;
        let mut waited = Duration::ZERO;
        let mut pause = Duration::from_micros(250);
        loop {
            let out = Self::collect(conn, sql, params).await;
            match &out {
                Err(SqlError::Unavailable(m)) if is_locked(m) && waited < LOCK_WAIT => {
                    spin_sdk::time::sleep(pause).await;
                    waited += pause;
                    pause = (pause * 2).min(Duration::from_millis(2));
                }
                Err(SqlError::Unavailable(_) | SqlError::Other(_)) => {
                    self.broken.set(true);
                    return out;
                }
                _ => return out,
            }
        }
    }
}

impl Drop for SpinSql {
    /// Gives the connections back to the instance's pools, unless a transaction is still
    /// open (closing the connection rolls it back) or something failed.
    fn drop(&mut self) {
        let reusable =
            self.in_transaction.borrow().is_none() && !self.broken.get() && !self.writing.get();
        if !reusable {
            return;
        }
        for d in [Durability::Durable, Durability::Volatile] {
            let taken = match d {
                Durability::Durable => self.durable.take(),
                Durability::Volatile => self.volatile.take(),
            };
            if let Some(conn) = taken {
                pool(d).with(|idle| {
                    let mut idle = idle.borrow_mut();
                    if idle.len() < POOL_SIZE {
                        idle.push(conn);
                    }
                });
            }
        }
    }
}

#[async_trait(?Send)]
impl Sql for SpinSql {
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError> {
        self.statement(Durability::Durable, sql, params).await
    }

    async fn execute_volatile(
        &self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<SqlRow>, SqlError> {
        self.statement(Durability::Volatile, sql, params).await
    }
}

fn to_spin(v: &SqlValue) -> sqlite::Value {
    match v {
        SqlValue::Null => sqlite::Value::Null,
        SqlValue::Integer(i) => sqlite::Value::Integer(*i),
        SqlValue::Real(f) => sqlite::Value::Real(*f),
        SqlValue::Text(s) => sqlite::Value::Text(s.clone()),
        SqlValue::Blob(b) => sqlite::Value::Blob(b.clone()),
    }
}

fn from_spin(v: sqlite::Value) -> SqlValue {
    match v {
        sqlite::Value::Null => SqlValue::Null,
        sqlite::Value::Integer(i) => SqlValue::Integer(i),
        sqlite::Value::Real(f) => SqlValue::Real(f),
        sqlite::Value::Text(s) => SqlValue::Text(s),
        sqlite::Value::Blob(b) => SqlValue::Blob(b),
    }
}

fn sql_error(e: sqlite::Error) -> SqlError {
    match e {
        sqlite::Error::Io(msg) => SqlError::from_message(msg),
        other => SqlError::Unavailable(format!("{other:?}")),
    }
}
