//! Which statements take the instance's write turn (see the `sql` adapter): plain Rust,
//! so native tests cover it.

/// What a statement does to the write turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads only: runs without a turn.
    Read,
    /// One data write (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`, `WITH` …): may be committed
    /// together with other requests' writes (see `group_commit`).
    Write,
    /// A statement that must run alone and outside a transaction (`PRAGMA`, `CREATE`,
    /// `ALTER` …, or anything unknown): takes the turn for itself.
    Exclusive,
    /// Opens a transaction: takes the turn until it ends.
    Begin,
    /// Ends a transaction: gives the turn back after it.
    End,
}

/// Classifies a statement by its first keyword (a `WITH` may write, so it counts as one).
pub fn kind(sql: &str) -> Kind {
    let word: String = sql
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match word.as_str() {
        "SELECT" | "EXPLAIN" => Kind::Read,
        "BEGIN" | "SAVEPOINT" => Kind::Begin,
        "COMMIT" | "END" | "ROLLBACK" => Kind::End,
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "WITH" => Kind::Write,
        _ => Kind::Exclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_and_transactions_are_told_apart() {
        assert_eq!(kind("SELECT 1"), Kind::Read);
        assert_eq!(kind("  select * from jobs"), Kind::Read);
        assert_eq!(kind("\n\tINSERT INTO x VALUES (1)"), Kind::Write);
        assert_eq!(kind("UPDATE jobs SET status = 'x'"), Kind::Write);
        assert_eq!(
            kind("DELETE FROM draft_images RETURNING rowid"),
            Kind::Write
        );
        assert_eq!(
            kind("WITH t AS (SELECT 1) INSERT INTO x SELECT * FROM t"),
            Kind::Write
        );
        assert_eq!(kind("REPLACE INTO x VALUES (1)"), Kind::Write);
        assert_eq!(kind("PRAGMA journal_mode=WAL"), Kind::Exclusive);
        assert_eq!(kind("CREATE TABLE IF NOT EXISTS a (x)"), Kind::Exclusive);
        assert_eq!(kind("ALTER TABLE a ADD COLUMN b"), Kind::Exclusive);
        assert_eq!(kind("BEGIN IMMEDIATE"), Kind::Begin);
        assert_eq!(kind("commit"), Kind::End);
        assert_eq!(kind("ROLLBACK"), Kind::End);
        assert_eq!(kind(""), Kind::Exclusive);
    }
}
