//! Schema migrations on an empty database, an already-migrated one, and concurrently.

use qwen_core::db::{self, latest_version};
use qwen_core::ports::Sql;
use qwen_core::{presets, setup};
use testkit::sql::SqliteSql;

#[tokio::test]
async fn empty_then_already_migrated() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("m.db");
    let sql = SqliteSql::open(&path);
    assert_eq!(
        db::migrate(&sql).await.expect("migrate"),
        db::MIGRATIONS.len()
    );
    assert_eq!(
        db::current_version(&sql).await.expect("version"),
        latest_version()
    );
    assert_eq!(db::migrate(&sql).await.expect("again"), 0);
    let mode = sql
        .execute("PRAGMA journal_mode", &[])
        .await
        .expect("pragma");
    assert_eq!(mode[0].text(0).expect("column"), "wal");
    let tables = sql
        .execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            &[],
        )
        .await
        .expect("tables");
    let names: Vec<String> = tables.iter().map(|r| r.text(0).expect("column")).collect();
    for t in [
        "users",
        "ledger",
        "balances",
        "jobs",
        "payments",
        "presets",
        "preset_categories",
        "schema_migrations",
    ] {
        assert!(names.iter().any(|n| n == t), "missing table {t}: {names:?}");
    }
}

#[test]
fn concurrent_first_use_applies_each_migration_once() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("c.db");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("rt");
                rt.block_on(async { db::migrate(&SqliteSql::open(&path)).await })
            })
        })
        .collect();
    let applied: Vec<usize> = threads
        .into_iter()
        .map(|t| t.join().expect("join").expect("migrate ok"))
        .collect();
    assert_eq!(
        applied.iter().sum::<usize>(),
        db::MIGRATIONS.len(),
        "{applied:?}"
    );
}

#[tokio::test]
async fn ledger_is_append_only() {
    let dir = tempfile::tempdir().expect("dir");
    let sql = SqliteSql::open(&dir.path().join("a.db"));
    db::migrate(&sql).await.expect("migrate");
    sql.execute(
        "INSERT INTO ledger (user_id, amount, kind, reference, created_at) VALUES (1, 5, 'admin_adjustment', 'r', 0)",
        &[],
    )
    .await
    .expect("insert");
    assert!(
        sql.execute("UPDATE ledger SET amount = 500", &[])
            .await
            .is_err()
    );
    assert!(sql.execute("DELETE FROM ledger", &[]).await.is_err());
    assert!(
        sql.execute("UPDATE balances SET balance = -1 WHERE user_id = 1", &[])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn deleted_builtin_preset_is_not_seeded_again() {
    let dir = tempfile::tempdir().expect("dir");
    let sql = SqliteSql::open(&dir.path().join("p.db"));
    db::migrate(&sql).await.expect("migrate");
    presets::seed_builtin(&sql, 1).await.expect("seed");
    let count = presets::list(&sql, None).await.expect("list").len();
    assert_eq!(count, presets::BUILTIN_PRESETS.len());
    presets::delete(&sql, "anime", 2).await.expect("delete");
    presets::seed_builtin(&sql, 3).await.expect("seed again");
    assert_eq!(
        presets::list(&sql, None).await.expect("list").len(),
        count - 1
    );
}

/// Counts the statements run through it; a distinct database id makes `ensure_ready` treat
/// it as a process (a Spin instance) that has not checked this database yet.
struct Counting {
    inner: SqliteSql,
    id: String,
    statements: std::cell::RefCell<Vec<String>>,
}

#[async_trait::async_trait(?Send)]
impl Sql for Counting {
    async fn execute(
        &self,
        sql: &str,
        params: &[qwen_core::ports::SqlValue],
    ) -> Result<Vec<qwen_core::ports::SqlRow>, qwen_core::ports::SqlError> {
        self.statements.borrow_mut().push(sql.to_owned());
        self.inner.execute(sql, params).await
    }
    fn database_id(&self) -> String {
        self.id.clone()
    }
}

#[tokio::test]
async fn a_new_instance_checks_a_current_database_with_one_read() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("ready.db");
    let instance = |n: u32| Counting {
        inner: SqliteSql::open(&path),
        id: format!("{}#instance-{n}-{}", path.display(), uuid::Uuid::new_v4()),
        statements: Default::default(),
    };
    let first = instance(1);
    setup::ensure_ready(&first, 1).await.expect("first");
    assert!(first.statements.borrow().len() > 10, "migrated and seeded");
    let seeded = first
        .execute("SELECT value FROM app_meta WHERE key = 'presets_seed'", &[])
        .await
        .expect("meta");
    assert_eq!(
        seeded[0].text(0).expect("column"),
        presets::builtin_fingerprint()
    );
    let second = instance(2);
    setup::ensure_ready(&second, 2).await.expect("second");
    let ran = second.statements.borrow().clone();
    assert_eq!(ran.len(), 1, "one read: {ran:?}");
    assert!(ran[0].trim_start().starts_with("SELECT"), "{ran:?}");
    // A changed set of built-in presets (here: a stale fingerprint) seeds again.
    second
        .execute(
            "UPDATE app_meta SET value = 'old' WHERE key = 'presets_seed'",
            &[],
        )
        .await
        .expect("stale");
    let third = instance(3);
    setup::ensure_ready(&third, 3).await.expect("third");
    assert!(third.statements.borrow().len() > 10, "seeded again");
    let count = third
        .execute("SELECT COUNT(*) FROM presets", &[])
        .await
        .expect("count");
    assert!(count[0].int(0).expect("column") >= 9);
}

/// A database that refuses every `PRAGMA` as a libSQL server does.
struct NoPragmas(SqliteSql);

#[async_trait::async_trait(?Send)]
impl Sql for NoPragmas {
    async fn execute(
        &self,
        sql: &str,
        params: &[qwen_core::ports::SqlValue],
    ) -> Result<Vec<qwen_core::ports::SqlRow>, qwen_core::ports::SqlError> {
        if sql.trim_start().to_ascii_uppercase().starts_with("PRAGMA") {
            return Err(qwen_core::ports::SqlError::from_message(
                "SQL string could not be parsed: unsupported statement",
            ));
        }
        self.0.execute(sql, params).await
    }
}

#[tokio::test]
async fn a_database_without_pragmas_is_migrated_all_the_same() {
    let dir = tempfile::tempdir().expect("dir");
    let sql = NoPragmas(SqliteSql::open(&dir.path().join("libsql-like.db")));
    assert_eq!(
        db::migrate(&sql).await.expect("migrate without PRAGMAs"),
        db::MIGRATIONS.len()
    );
    assert_eq!(
        db::current_version(&sql).await.expect("version"),
        latest_version()
    );
    // Any other error of the PRAGMA still stops the migration.
    struct Broken;
    #[async_trait::async_trait(?Send)]
    impl Sql for Broken {
        async fn execute(
            &self,
            sql: &str,
            _: &[qwen_core::ports::SqlValue],
        ) -> Result<Vec<qwen_core::ports::SqlRow>, qwen_core::ports::SqlError> {
            if sql.starts_with("PRAGMA") {
                return Err(qwen_core::ports::SqlError::Other("disk I/O error".into()));
            }
            Ok(Vec::new())
        }
    }
    assert!(db::migrate(&Broken).await.is_err());
}

#[tokio::test]
async fn a_preset_stored_before_workflows_reads_with_the_default() {
    let dir = tempfile::tempdir().expect("dir");
    let sql = SqliteSql::open(&dir.path().join("w.db"));
    let added = db::MIGRATIONS
        .iter()
        .find(|m| m.sql.contains("ALTER TABLE presets ADD COLUMN workflow"))
        .expect("the migration that adds presets.workflow")
        .version;
    sql.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        &[],
    )
    .await
    .expect("table");
    for m in db::MIGRATIONS.iter().filter(|m| m.version < added) {
        for stmt in db::split_statements(m.sql) {
            sql.execute(&stmt, &[]).await.expect("older migration");
        }
        sql.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 0)",
            &[m.version.into()],
        )
        .await
        .expect("version");
    }
    let columns = sql
        .execute("SELECT name FROM pragma_table_info('presets')", &[])
        .await
        .expect("columns");
    assert!(
        columns
            .iter()
            .all(|r| r.text(0).ok().as_deref() != Some("workflow")),
        "the schema before the migration"
    );
    sql.execute(
        "INSERT INTO preset_categories (id, name_ru, name_en, sort) VALUES ('style', 'С', 'S', 0)",
        &[],
    )
    .await
    .expect("category");
    sql.execute(
        "INSERT INTO presets (id, category, name_ru, name_en, prompt, cost, created_at, updated_at) \
         VALUES ('old', 'style', 'Старый', 'Old', 'make it old', 5, 1, 1)",
        &[],
    )
    .await
    .expect("a preset of the old schema");
    assert!(db::migrate(&sql).await.expect("migrate") >= 1);
    let old = presets::get(&sql, "old").await.expect("old preset");
    assert_eq!(
        (old.cost, &old.workflow),
        (5, &None),
        "the default workflow"
    );
    let mut named = old.clone();
    named.workflow = Some("model_free".into());
    presets::update(&sql, &named, 2).await.expect("update");
    let got = presets::get(&sql, "old").await.expect("read back");
    assert_eq!(got.workflow.as_deref(), Some("model_free"));
}
