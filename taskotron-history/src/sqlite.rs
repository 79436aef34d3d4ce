//! Opening a SQLite file that several processes write at once (workers side by
//! side, `serve` and `run`): in WAL mode, with its schema at a version.
//!
//! SQLite does not call the busy handler when a journal-mode change or a
//! deferred transaction meets another writer (waiting could deadlock), so two
//! processes opening a new file together could see "database is locked" at
//! once, whatever the timeout. Here the mode is retried until `wait` is up and
//! the schema is written in an immediate transaction, which waits like any
//! writer. A file already at the version is opened without writing anything,
//! which also keeps opening cheap.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, TransactionBehavior};

/// Opens (creating it if needed) the file at `path`, waiting up to `wait` for
/// other writers, now and for every later statement; `schema` (idempotent:
/// `CREATE ... IF NOT EXISTS`) is run once, when the file's `user_version` is
/// below `version`, and the version is then recorded.
///
/// # Errors
/// The file cannot be opened, is no SQLite database, or another writer held
/// it past `wait`.
pub fn open_for_writing(
    path: &Path,
    schema: &str,
    version: i64,
    wait: Duration,
) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(wait)?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        let started = Instant::now();
        loop {
            match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == ErrorCode::DatabaseBusy && started.elapsed() < wait =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => {
                    other?;
                    break;
                }
            }
        }
    }
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current < version {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(schema)?;
        tx.execute_batch(&format!("PRAGMA user_version = {version};"))?;
        tx.commit()?;
    }
    Ok(conn)
}
