//! Versioned schema migrations, applied on first use and safe to run concurrently.
//!
//! Each migration is an SQL file under `functions/core/migrations/`, registered in
//! [`MIGRATIONS`]. A migration runs inside `BEGIN IMMEDIATE`, claims its version by inserting
//! into `schema_migrations` first (a concurrent runner waits on the lock, then sees the version
//! and rolls back), and `ROLLBACK`s on every error. Presets are seeded after the schema.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::ports::{Sql, SqlError, SqlRow, SqlValue};

/// A schema migration: version and SQL text.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version number, increasing.
    pub version: i64,
    /// SQL statements, each ending with `;` at the end of a line.
    pub sql: &'static str,
}

/// Every migration, in order. A new migration is a new file plus one line here.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/0002_drafts.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/0003_payments.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/0004_draft_order.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/0005_app_meta.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("../migrations/0006_hosts.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("../migrations/0007_reconciliations.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../migrations/0008_operators.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../migrations/0009_retention.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../migrations/0010_payment_refunds.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("../migrations/0011_console_signin.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../migrations/0012_preset_workflow.sql"),
    },
];

/// The newest schema version.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Databases (by [`Sql::database_id`]) already checked by this process or Spin instance.
static READY: Mutex<Option<HashSet<String>>> = Mutex::new(None);

pub(crate) fn is_ready(id: &str) -> bool {
    READY
        .lock()
        .map(|g| g.as_ref().is_some_and(|set| set.contains(id)))
        .unwrap_or(false)
}

pub(crate) fn mark_ready(id: &str) {
    if let Ok(mut g) = READY.lock() {
        g.get_or_insert_with(HashSet::new).insert(id.to_owned());
    }
}

/// Whether the schema is at [`latest_version`] and the built-in presets with `fingerprint`
/// were seeded (false on any error, e.g. a database without these tables yet).
pub(crate) async fn is_current(sql: &dyn Sql, fingerprint: &str) -> bool {
    let rows = sql
        .execute(
            "SELECT (SELECT COALESCE(MAX(version), 0) FROM schema_migrations), \
                    (SELECT value FROM app_meta WHERE key = 'presets_seed')",
            &[],
        )
        .await;
    let Ok([row]) = rows.as_deref() else {
        return false;
    };
    let version = row.int(0).unwrap_or(0);
    let seeded = row.opt_text(1).ok().flatten();
    version >= latest_version() && seeded.as_deref() == Some(fingerprint)
}

/// Applies every pending migration; returns how many this call applied.
///
/// # Errors
/// The storage error of a failed statement (the failed migration is rolled back).
pub async fn migrate(sql: &dyn Sql) -> Result<usize, SqlError> {
    sql.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        &[],
    )
    .await?;
    if current_version(sql).await? >= latest_version() {
        return Ok(0);
    }
    // WAL persists in the file and cannot be switched inside a transaction. A libSQL
    // server takes no PRAGMAs (it journals its own way).
    match sql.execute("PRAGMA journal_mode=WAL", &[]).await {
        Ok(_) | Err(SqlError::Unsupported(_)) => {}
        Err(e) => return Err(e),
    }
    let mut applied = 0;
    for m in MIGRATIONS {
        if apply_one(sql, m).await? {
            applied += 1;
        }
    }
    Ok(applied)
}

/// The highest applied version (0 for an empty database).
///
/// # Errors
/// The storage error.
pub async fn current_version(sql: &dyn Sql) -> Result<i64, SqlError> {
    let rows = sql
        .execute(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?;
    count(&rows)
}

/// The first row decoded by `map` (`None` for no rows).
///
/// # Errors
/// The decoding error of that row.
pub fn first<T>(
    rows: &[SqlRow],
    map: fn(&SqlRow) -> Result<T, SqlError>,
) -> Result<Option<T>, SqlError> {
    rows.first().map(map).transpose()
}

/// Every row decoded by `map`.
///
/// # Errors
/// The first decoding error.
pub fn all<T>(
    rows: &[SqlRow],
    map: fn(&SqlRow) -> Result<T, SqlError>,
) -> Result<Vec<T>, SqlError> {
    rows.iter().map(map).collect()
}

/// The single integer a `SELECT COUNT(*)`-like statement answers (0 for no row).
///
/// # Errors
/// [`SqlError::Decode`] when the first column is not an integer.
pub fn count(rows: &[SqlRow]) -> Result<i64, SqlError> {
    rows.first().map_or(Ok(0), |r| r.int(0))
}

async fn apply_one(sql: &dyn Sql, m: &Migration) -> Result<bool, SqlError> {
    sql.execute("BEGIN IMMEDIATE", &[]).await?;
    let result = run_in_transaction(sql, m).await;
    match result {
        Ok(true) => {
            sql.execute("COMMIT", &[]).await?;
            tracing::info!(version = m.version, "schema migration applied");
            Ok(true)
        }
        Ok(false) | Err(_) => {
            let _ = sql.execute("ROLLBACK", &[]).await;
            result
        }
    }
}

async fn run_in_transaction(sql: &dyn Sql, m: &Migration) -> Result<bool, SqlError> {
    let claimed = sql
        .execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, strftime('%s','now')) \
             ON CONFLICT(version) DO NOTHING RETURNING version",
            &[SqlValue::Integer(m.version)],
        )
        .await?;
    if claimed.is_empty() {
        return Ok(false);
    }
    for statement in split_statements(m.sql) {
        sql.execute(&statement, &[]).await?;
    }
    Ok(true)
}

/// Reads one page of an owner's rows and their total: `rows_sql` takes `?1` = owner,
/// `?2` = limit, `?3` = offset; `count_sql` takes `?1` = owner.
///
/// # Errors
/// The storage error.
pub async fn page_of<T>(
    sql: &dyn Sql,
    rows_sql: &str,
    count_sql: &str,
    owner: i64,
    page: crate::Page,
    map: fn(&SqlRow) -> Result<T, SqlError>,
) -> crate::CoreResult<(Vec<T>, i64)> {
    let rows = sql
        .execute(
            rows_sql,
            &[owner.into(), page.limit.into(), page.offset.into()],
        )
        .await?;
    let total = sql.execute(count_sql, &[owner.into()]).await?;
    let items = rows.iter().map(map).collect::<Result<Vec<T>, SqlError>>()?;
    Ok((items, count(&total)?))
}

/// Splits a migration file into statements: a statement ends at a line ending with `;`,
/// except inside a trigger body, which ends at `END;`. `--` comment lines are dropped.
pub fn split_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_body = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.eq_ignore_ascii_case("BEGIN") {
            in_body = true;
        }
        let ends = if in_body {
            trimmed.eq_ignore_ascii_case("END;")
        } else {
            trimmed.ends_with(';')
        };
        if ends {
            in_body = false;
            out.push(std::mem::take(&mut current).trim().to_owned());
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_triggers_whole() {
        let parts = split_statements(
            "-- c\nCREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\nCREATE INDEX i ON a (x);\n",
        );
        assert_eq!(parts.len(), 3);
        assert!(parts[1].contains("SELECT 2;") && parts[1].ends_with("END;"));
    }

    #[test]
    fn the_real_schema_splits_into_complete_statements() {
        for m in MIGRATIONS {
            for s in split_statements(m.sql) {
                assert!(s.ends_with(';'), "statement not terminated: {s}");
            }
        }
    }
}
