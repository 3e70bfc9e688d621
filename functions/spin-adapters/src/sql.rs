//! The core's [`Sql`] port on Spin's SQLite, with a write gate per instance.
//!
//! One Spin instance serves up to 16 requests at once, each on its own SQLite connection.
//! Left alone, their writes race for SQLite's single write lock, and the losers sleep in
//! SQLite's busy handler in growing steps (1, 2, 5 … 100 ms): measured, a component doing one
//! `INSERT` per request then has a p99 of ~500 ms while each insert takes well under 1 ms.
//! So the writes of one instance take turns behind a fair async lock instead: only the write
//! statement waits (reads, Redis and HTTP of the same requests go on), the lock is free
//! again the moment the statement returns, and SQLite's lock is then almost never contended
//! within an instance. A `BEGIN` … `COMMIT`/`ROLLBACK` keeps the turn for the whole
//! transaction. Other instances and components still meet in SQLite's own lock, rarely.
//!
//! A connection is never cached across requests: concurrent requests would interleave
//! statements on it.

use std::cell::RefCell;
use std::sync::Arc;

use async_lock::{Semaphore, SemaphoreGuardArc};
use async_trait::async_trait;
use qwen_core::ports::{Sql, SqlError, SqlRow, SqlValue};
use spin_sdk::sqlite;

use crate::statement::{Kind, kind};

thread_local! {
    /// The instance's write turn (one writer at a time).
    static WRITE_TURN: Arc<Semaphore> = Arc::new(Semaphore::new(1));
}

/// The app's `default` SQLite database: one connection per request.
pub struct SpinSql {
    conn: sqlite::Connection,
    /// The turn held by an open transaction of this request.
    in_transaction: RefCell<Option<SemaphoreGuardArc>>,
}

impl SpinSql {
    /// Opens the `default` database.
    ///
    /// # Errors
    /// [`SqlError::Unavailable`] when it cannot be opened.
    pub async fn open_default() -> Result<SpinSql, SqlError> {
        sqlite::Connection::open_default()
            .await
            .map(|conn| SpinSql {
                conn,
                in_transaction: RefCell::new(None),
            })
            .map_err(|e| SqlError::Unavailable(format!("{e:?}")))
    }

    async fn run(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError> {
        let result = self
            .conn
            .execute(sql, params.iter().map(to_spin))
            .await
            .map_err(sql_error)?;
        let rows = result.collect().await.map_err(sql_error)?;
        Ok(rows
            .into_iter()
            .map(|r| SqlRow(r.values.into_iter().map(from_spin).collect()))
            .collect())
    }

    async fn turn() -> SemaphoreGuardArc {
        WRITE_TURN.with(Arc::clone).acquire_arc().await
    }
}

#[async_trait(?Send)]
impl Sql for SpinSql {
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError> {
        if self.in_transaction.borrow().is_some() {
            let out = self.run(sql, params).await;
            if kind(sql) == Kind::End {
                self.in_transaction.borrow_mut().take();
            }
            return out;
        }
        match kind(sql) {
            Kind::Read | Kind::End => self.run(sql, params).await,
            Kind::Write => {
                let _turn = Self::turn().await;
                self.run(sql, params).await
            }
            Kind::Begin => {
                let turn = Self::turn().await;
                let out = self.run(sql, params).await;
                if out.is_ok() {
                    *self.in_transaction.borrow_mut() = Some(turn);
                }
                out
            }
        }
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
