//! The core's [`Sql`] port on rusqlite: one connection per request, like Spin, with Spin's
//! settings (busy timeout 5000 ms, `synchronous=FULL`).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use qwen_core::ports::{Sql, SqlError, SqlRow, SqlValue};
use rusqlite::types::{Value, ValueRef};

/// An SQLite connection for one request.
pub struct SqliteSql {
    conn: Option<rusqlite::Connection>,
    path: PathBuf,
}

impl SqliteSql {
    /// Opens `path` as Spin would (a failure to open surfaces on the first statement).
    pub fn open(path: &Path) -> SqliteSql {
        let conn = rusqlite::Connection::open(path).ok().inspect(|c| {
            let _ = c.busy_timeout(std::time::Duration::from_millis(5000));
            let _ = c.pragma_update(None, "synchronous", "FULL");
        });
        SqliteSql {
            conn,
            path: path.to_owned(),
        }
    }
}

fn to_value(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
        SqlValue::Blob(b) => Value::Blob(b.clone()),
    }
}

fn from_ref(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Integer(i),
        ValueRef::Real(f) => SqlValue::Real(f),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
    }
}

fn run(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[SqlValue],
) -> rusqlite::Result<Vec<SqlRow>> {
    let mut stmt = conn.prepare(sql)?;
    let values: Vec<Value> = params.iter().map(to_value).collect();
    let cols = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(cols);
        for i in 0..cols {
            cells.push(from_ref(row.get_ref(i)?));
        }
        out.push(SqlRow(cells));
    }
    Ok(out)
}

#[async_trait(?Send)]
impl Sql for SqliteSql {
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError> {
        let conn = self.conn.as_ref().ok_or_else(|| {
            SqlError::Unavailable(format!("unable to open database {}", self.path.display()))
        })?;
        run(conn, sql, params).map_err(|e| SqlError::from_message(e.to_string()))
    }

    fn database_id(&self) -> String {
        self.path.display().to_string()
    }
}
