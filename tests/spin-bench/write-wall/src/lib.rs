//! Benchmark anchor, "the write wall": every request is exactly one SQLite `INSERT` (one
//! commit) into the app's `default` database, nothing else. `POST /setup`, sent once before
//! the load, switches the database to WAL (as the project's migrations do) and creates the
//! table. No request of the real components can commit faster than this one.

#[cfg(target_arch = "wasm32")]
mod component {
    use spin_sdk::http::{IntoResponse, Request, StatusCode};
    use spin_sdk::sqlite::{Connection, Error, Value};

    /// Entry point: `POST /setup` prepares the database; any other request inserts one row.
    #[spin_sdk::http_service]
    async fn handle(req: Request) -> impl IntoResponse {
        let outcome = if req.uri().path() == "/setup" {
            setup().await
        } else {
            insert().await
        };
        match outcome {
            Ok(()) => (StatusCode::OK, String::from("ok")),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:?}")),
        }
    }

    async fn setup() -> Result<(), Error> {
        let conn = Connection::open_default().await?;
        for sql in [
            "PRAGMA journal_mode=WAL",
            "CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL)",
        ] {
            conn.execute(sql, []).await?.collect().await?;
        }
        Ok(())
    }

    async fn insert() -> Result<(), Error> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let conn = Connection::open_default().await?;
        conn.execute(
            "INSERT INTO hits (at_ms) VALUES (?)",
            [Value::Integer(now_ms)],
        )
        .await?
        .collect()
        .await?;
        Ok(())
    }
}
