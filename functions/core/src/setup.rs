//! Getting a database ready to serve: the schema migrated and the built-in presets seeded.
//! Above both `db` (the schema) and `presets` (the data), so neither needs the other.

use crate::ports::{Sql, SqlError};
use crate::{db, presets};

/// Makes sure the schema is current and presets are seeded; free after the first call of a
/// process or Spin instance (the schema only ever moves forward), and one read on a new
/// instance when nothing changed: migrating and seeding run only when the schema version
/// or the built-in presets' fingerprint differ from what the database records.
///
/// # Errors
/// The storage error of a failed statement.
pub async fn ensure_ready(sql: &dyn Sql, now_ms: i64) -> Result<(), SqlError> {
    let id = sql.database_id();
    if db::is_ready(&id) {
        return Ok(());
    }
    let fingerprint = presets::builtin_fingerprint();
    if !db::is_current(sql, &fingerprint).await {
        db::migrate(sql).await?;
        presets::seed_builtin(sql, now_ms).await?;
        sql.execute(
            "INSERT INTO app_meta (key, value) VALUES ('presets_seed', ?1) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            &[fingerprint.into()],
        )
        .await?;
    }
    db::mark_ready(&id);
    Ok(())
}
