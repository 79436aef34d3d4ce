//! The queue's events as a feed: every line of every job's history in the order
//! it was written, read from a named cursor that is moved only once what was read
//! has been handled (the CI messages publisher moves it after the broker confirmed
//! them). A reader that stops between the two reads the same events again: at least
//! once, never lost.

use rusqlite::OptionalExtension;

use super::queue::{rfc3339, JobEvent, Queue, QueueError};

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FedEvent {
    /// Its place in the feed (increasing).
    pub position: i64,
    /// The job it belongs to.
    pub build_id: String,
    /// The event.
    pub event: JobEvent,
}

impl Queue {
    /// Where the cursor `name` stands: `None` before it was first set.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn cursor(&self, name: &str) -> Result<Option<i64>, QueueError> {
        self.read(|c| {
            c.query_row(
                "SELECT position FROM cursors WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// The feed's end: the position of the newest event (0 for none).
    ///
    /// # Errors
    /// SQLite refused.
    pub fn feed_end(&self) -> Result<i64, QueueError> {
        self.read(|c| {
            c.query_row("SELECT coalesce(max(rowid), 0) FROM job_events", [], |r| {
                r.get(0)
            })
        })
    }

    /// Moves the cursor `name` to `position` (after handling what came before it).
    ///
    /// # Errors
    /// SQLite refused; the cursor did not move.
    pub fn set_cursor(&mut self, name: &str, position: i64) -> Result<(), QueueError> {
        let sql = self.sql();
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO cursors (name, position) VALUES (?1, ?2) \
             ON CONFLICT(name) DO UPDATE SET position = excluded.position",
            rusqlite::params![name, position],
        )
        .map_err(&sql)?;
        tx.commit().map_err(&sql)
    }

    /// Up to `limit` events after `position`, oldest first.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn events_after(&self, position: i64, limit: usize) -> Result<Vec<FedEvent>, QueueError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT rowid, build_id, at, event, worker, attempt, until, detail \
                 FROM job_events WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            )?;
            let rows = stmt.query_map(rusqlite::params![position, limit], |r| {
                Ok(FedEvent {
                    position: r.get(0)?,
                    build_id: r.get(1)?,
                    event: JobEvent {
                        at: rfc3339(r.get(2)?),
                        event: r.get(3)?,
                        worker: r.get(4)?,
                        attempt: r.get(5)?,
                        lease_until: r.get::<_, Option<i64>>(6)?.map(rfc3339),
                        detail: r.get(7)?,
                    },
                })
            })?;
            rows.collect()
        })
    }
}
