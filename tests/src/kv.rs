//! The core's [`KeyValue`] port on an SQLite file, as Spin's default store keeps it. Spin's
//! host serves a store through one connection behind a lock, so its operations never race
//! in SQLite; here every operation on one file takes a process-wide lock for the same effect.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use qwen_core::ports::{KeyValue, KvError};

/// A key-value store in an SQLite file (one connection per use, like Spin).
#[derive(Debug, Clone)]
pub struct SqliteKv {
    path: PathBuf,
}

impl SqliteKv {
    /// Uses (and creates) the store at `path`.
    pub fn new(path: &Path) -> SqliteKv {
        SqliteKv {
            path: path.to_owned(),
        }
    }

    /// This file's lock (taken for the length of one operation).
    fn lock(&self) -> Arc<Mutex<()>> {
        static LOCKS: Mutex<Option<HashMap<PathBuf, Arc<Mutex<()>>>>> = Mutex::new(None);
        let mut all = LOCKS.lock().unwrap_or_else(|e| e.into_inner());
        all.get_or_insert_with(HashMap::new)
            .entry(self.path.clone())
            .or_default()
            .clone()
    }

    fn conn(&self) -> Result<rusqlite::Connection, KvError> {
        let c = rusqlite::Connection::open(&self.path).map_err(err)?;
        let _ = c.busy_timeout(std::time::Duration::from_millis(5000));
        c.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
            [],
        )
        .map_err(err)?;
        Ok(c)
    }
}

fn hold(lock: &Mutex<()>) -> MutexGuard<'_, ()> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

fn err(e: rusqlite::Error) -> KvError {
    KvError(e.to_string())
}

#[async_trait(?Send)]
impl KeyValue for SqliteKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let lock = self.lock();
        let _turn = hold(&lock);
        let c = self.conn()?;
        let mut stmt = c
            .prepare("SELECT value FROM spin_key_value WHERE key = ?1")
            .map_err(err)?;
        let mut rows = stmt.query([key]).map_err(err)?;
        match rows.next().map_err(err)? {
            Some(row) => Ok(Some(row.get::<_, Vec<u8>>(0).map_err(err)?)),
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let lock = self.lock();
        let _turn = hold(&lock);
        self.conn()?
            .execute(
                "INSERT INTO spin_key_value (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                rusqlite::params![key, value],
            )
            .map_err(err)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        let lock = self.lock();
        let _turn = hold(&lock);
        self.conn()?
            .execute("DELETE FROM spin_key_value WHERE key = ?1", [key])
            .map_err(err)?;
        Ok(())
    }
}
