//! The embedded job queue: SQLite (WAL) in the state directory. `JobRequest` in, a
//! job with a fresh build id (UUID) out; states SCHEDULED → RUNNING → FINISHED (with
//! its ExecutionReport) or CRASHED (with a cause). A worker claims a job for its
//! arches with a lease and renews it while the job runs; a job whose lease ran out
//! (its worker died) goes back to SCHEDULED, up to `max_attempts` claims, and is then
//! CRASHED. Every change is one transaction, and a worker can change only a job it
//! holds the lease of, so a build id never runs twice at once and a late worker
//! cannot overwrite the result of the one that took over.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::{Accepted, Origin, Scheduler, SchedulerError};
use taskotron_model::dict::{ExecutionReport, JobRequest, TaskSource};
use taskotron_model::{Arch, ItemType};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Waiting for a worker.
    Scheduled,
    /// A worker holds its lease.
    Running,
    /// Ran; its ExecutionReport is kept.
    Finished,
    /// Could not run to a report.
    Crashed,
}

impl JobState {
    /// Every state, in the order of a job's life.
    pub const ALL: [JobState; 4] = [
        JobState::Scheduled,
        JobState::Running,
        JobState::Finished,
        JobState::Crashed,
    ];

    /// The name on the command line (`--state completed`).
    pub fn flag(self) -> &'static str {
        match self {
            JobState::Scheduled => "scheduled",
            JobState::Running => "running",
            JobState::Finished => "completed",
            JobState::Crashed => "crashed",
        }
    }

    /// The name every listing shows: the original ExecDB's (`COMPLETED` for a job
    /// that ran to a report, whatever the report says).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Scheduled => "SCHEDULED",
            JobState::Running => "RUNNING",
            JobState::Finished => "COMPLETED",
            JobState::Crashed => "CRASHED",
        }
    }

    /// The name in the queue file, which queues written by earlier builds hold
    /// too; never shown.
    pub(crate) fn stored(self) -> &'static str {
        match self {
            JobState::Finished => "FINISHED",
            other => other.as_str(),
        }
    }
}

impl std::str::FromStr for JobState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const ALL: [JobState; 4] = [
            JobState::Scheduled,
            JobState::Running,
            JobState::Finished,
            JobState::Crashed,
        ];
        // The stored name is read back too (`FINISHED`, as earlier builds showed it).
        ALL.into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s) || st.stored().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("`{s}` is not a job state (SCHEDULED, RUNNING, COMPLETED or CRASHED)")
            })
    }
}

/// Why a job crashed: the task's fault, the machinery's, or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrashCause {
    /// The task is unknown, missing or invalid.
    Task,
    /// The worker, its machine or its state could not run the job.
    Infrastructure,
    /// The job ran out of time.
    Timeout,
}

impl CrashCause {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            CrashCause::Task => "task",
            CrashCause::Infrastructure => "infrastructure",
            CrashCause::Timeout => "timeout",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "task" => CrashCause::Task,
            "timeout" => CrashCause::Timeout,
            _ => CrashCause::Infrastructure,
        }
    }
}

/// A job as the queue holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedJob {
    /// Its build id.
    pub build_id: String,
    /// What to run.
    pub request: JobRequest,
    /// Where it is.
    pub state: JobState,
    /// How many times a worker claimed it.
    pub attempts: u32,
    /// The worker that holds (or held last) its lease.
    pub worker: Option<String>,
    /// When it was scheduled (RFC 3339).
    pub scheduled_at: String,
    /// When it last changed state (RFC 3339).
    pub updated_at: String,
    /// Its ExecutionReport, once FINISHED.
    pub report: Option<ExecutionReport>,
    /// Why it CRASHED, and what happened.
    pub crash: Option<(CrashCause, String)>,
    /// The bus message it was made from, when the trigger scheduled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<JobOrigin>,
    /// The run id of its latest attempt, once that attempt started ([`Queue::started`]):
    /// a RUNNING job's artifacts and log are already under `<artifacts>/<run_id>/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// One line of a job's history ([`Queue::history`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvent {
    /// When (RFC 3339).
    pub at: String,
    /// `SCHEDULED`, `CLAIMED`, `STARTED` (with the run id), `FINISHED`, `RETRY`,
    /// `RELEASED`, `EXPIRED` or `CRASHED`.
    pub event: String,
    /// The worker, for a claim and what followed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Which attempt a claim was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Until when a claim's lease ran (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<String>,
    /// What happened, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The bus message a job was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOrigin {
    /// The message's id, when it had one.
    pub message_id: Option<String>,
    /// Its topic.
    pub topic: String,
}

/// What went wrong with the queue file.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// SQLite refused (disk full, a damaged file, ...); see [`QueueError::is_damaged`].
    #[error("job queue `{path}`: {source}")]
    Sql {
        /// The queue file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// Another process held the queue's lock for longer than the wait allows.
    #[error("job queue `{path}`: another process held its lock for {}; nothing was changed", humantime::format_duration(*waited))]
    Locked {
        /// The queue file.
        path: PathBuf,
        /// How long this one waited.
        waited: Duration,
    },
    /// A signal came while waiting for the lock; nothing was changed.
    #[error("job queue `{path}`: interrupted while waiting for its lock; nothing was changed")]
    Interrupted {
        /// The queue file.
        path: PathBuf,
    },
    /// The state directory could not be made.
    #[error("cannot create `{path}`: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl QueueError {
    /// The file is not a database or is corrupt: retrying cannot help.
    pub fn is_damaged(&self) -> bool {
        matches!(self, QueueError::Sql { source: rusqlite::Error::SqliteFailure(e, _), .. }
            if matches!(e.code, rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase))
    }

    /// The file exists but holds no queue yet: another process created it and has
    /// not written the schema (a reader may take it for an empty queue).
    pub fn is_not_yet_created(&self) -> bool {
        matches!(self, QueueError::Sql { source: rusqlite::Error::SqliteFailure(_, Some(m)), .. }
            if m.starts_with("no such table"))
    }

    /// Retrying the same operation later cannot succeed (a damaged file, a read-only
    /// or unopenable one, a state directory that cannot be made): a worker stops
    /// rather than fail again every second.
    pub fn is_permanent(&self) -> bool {
        self.is_damaged()
            || matches!(self, QueueError::Io { .. } | QueueError::Interrupted { .. })
            || matches!(self, QueueError::Sql { source: rusqlite::Error::SqliteFailure(e, _), .. }
                if matches!(e.code, rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied))
    }

    /// What the person should do about it, when there is something to say.
    pub fn help(&self) -> Option<String> {
        match self {
            e if e.is_damaged() => {
                let path = match e {
                    QueueError::Sql { path, .. } => path.display().to_string(),
                    _ => String::new(),
                };
                Some(format!(
                    "the queue file is damaged; stop every taskotron that uses it, move it aside (`mv {path} {path}.damaged`, with its -wal and -shm files) and start again with a new, empty queue; `sqlite3 {path}.damaged .recover | sqlite3 {path}` brings back what can be read"
                ))
            }
            QueueError::Locked { .. } => Some(
                "another taskotron (or an sqlite3 shell) holds a write transaction open; run this again once it ends, or raise `queue_wait`".into(),
            ),
            QueueError::Io { .. } => {
                Some("set `state_dir` (or $TASKOTRON_STATE_DIR) to a writable directory".into())
            }
            _ => None,
        }
    }
}

/// Told, with the queue's file, that an operation is waiting for another process's lock.
pub type Notify = std::sync::Arc<dyn Fn(&Path) + Send + Sync>;

/// How long an operation waits for a lock another process holds, and whom it tells
/// that it is waiting. The wait is bounded, and a signal (with the interrupt handler
/// installed) ends it at once.
#[derive(Clone)]
pub struct Waiting {
    /// Give up after this long.
    pub limit: Duration,
    /// Called once, after a second of waiting, with the queue's file.
    pub notify: Option<Notify>,
}

impl Default for Waiting {
    fn default() -> Self {
        Self {
            limit: Duration::from_secs(30),
            notify: None,
        }
    }
}

impl std::fmt::Debug for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiting")
            .field("limit", &self.limit)
            .field("notify", &self.notify.is_some())
            .finish()
    }
}

/// The queue, open on one file. Each process (or thread) opens its own.
#[derive(Debug)]
pub struct Queue {
    conn: Connection,
    path: PathBuf,
    waiting: Waiting,
    /// A file from before the history and origin columns, opened read-only.
    legacy: bool,
    /// The columns a read-only queue file has ([`columns_of`]); `None`: all of them.
    columns: Option<String>,
}

/// A path as a `file:` URI's path: `%`, `?` and `#` escaped.
fn encode_uri_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23")
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(super) fn rfc3339(ms: i64) -> String {
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(t).to_string()
}

/// Runs `f` again while SQLite answers busy or locked (another process holds the
/// write lock; SQLite itself waits only briefly each time), until `waiting.limit`,
/// telling `waiting.notify` once after a second, and stopping at once when the
/// process is interrupted.
fn retry<T>(
    waiting: &Waiting,
    path: &Path,
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> Result<T, QueueError> {
    let start = std::time::Instant::now();
    let mut told = false;
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                if taskotron_process::interrupted().is_some() {
                    return Err(QueueError::Interrupted {
                        path: path.to_path_buf(),
                    });
                }
                let waited = start.elapsed();
                if waited >= waiting.limit {
                    return Err(QueueError::Locked {
                        path: path.to_path_buf(),
                        waited,
                    });
                }
                if !told && waited >= Duration::from_secs(1) {
                    told = true;
                    if let Some(notify) = &waiting.notify {
                        notify(path);
                    }
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            other => {
                return other.map_err(|source| QueueError::Sql {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// How long SQLite itself waits on a lock before answering busy; the bounded,
/// interruptible wait is [`retry`]'s.
const BUSY_SLICE: Duration = Duration::from_millis(100);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    build_id     TEXT PRIMARY KEY,
    item         TEXT NOT NULL,
    item_type    TEXT NOT NULL,
    taskname     TEXT NOT NULL,
    arch         TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    worker       TEXT,
    lease_until  INTEGER,
    scheduled_at INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    report       TEXT,
    crash_cause  TEXT,
    crash_detail TEXT,
    message_id   TEXT,
    topic        TEXT
);
CREATE INDEX IF NOT EXISTS jobs_waiting ON jobs (state, arch, scheduled_at);
CREATE TABLE IF NOT EXISTS messages (
    message_id  TEXT PRIMARY KEY,
    accepted_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS job_events (
    build_id TEXT NOT NULL,
    at       INTEGER NOT NULL,
    event    TEXT NOT NULL,
    worker   TEXT,
    attempt  INTEGER,
    until    INTEGER,
    detail   TEXT
);
CREATE INDEX IF NOT EXISTS job_events_of ON job_events (build_id, at);
CREATE TABLE IF NOT EXISTS cursors (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_recent ON jobs (scheduled_at);
CREATE INDEX IF NOT EXISTS jobs_of_item ON jobs (item, scheduled_at);
CREATE INDEX IF NOT EXISTS jobs_of_task ON jobs (taskname, scheduled_at);
";

/// Columns added after the first release, each with its definition: a queue file
/// written by an older taskotron gains them when opened for writing.
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("message_id", "TEXT"),
    ("topic", "TEXT"),
    ("run_id", "TEXT"),
    ("source_repo", "TEXT"),
    ("source_ref", "TEXT"),
    ("plan", "TEXT"),
];

/// Adds the [`ADDED_COLUMNS`] a queue file lacks.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let have: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('jobs')")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for (name, kind) in ADDED_COLUMNS {
        if !have.iter().any(|h| h == name) {
            conn.execute_batch(&format!("ALTER TABLE jobs ADD COLUMN {name} {kind}"))?;
        }
    }
    Ok(())
}

const COLUMNS: &str = "build_id, item, item_type, taskname, arch, state, attempts, worker, \
                       scheduled_at, updated_at, report, crash_cause, crash_detail, \
                       message_id, topic, run_id, source_repo, source_ref, plan";

/// [`COLUMNS`] of a queue file that lacks some [`ADDED_COLUMNS`] and is opened
/// read-only (it cannot gain them): the missing ones read as NULL.
fn columns_of(have: &[String]) -> String {
    let mut out = String::from(
        "build_id, item, item_type, taskname, arch, state, attempts, worker, scheduled_at, \
         updated_at, report, crash_cause, crash_detail",
    );
    for (name, _) in ADDED_COLUMNS {
        out.push_str(", ");
        out.push_str(if have.iter().any(|h| h == name) {
            name
        } else {
            "NULL"
        });
    }
    out
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedJob> {
    let text = |i: usize| r.get::<_, String>(i);
    let item_type: ItemType =
        text(2)?
            .parse()
            .map_err(|e: taskotron_model::item::ItemTypeError| {
                rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
            })?;
    let arch: Arch = text(4)?
        .parse()
        .map_err(|e: taskotron_model::arch::ArchError| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, e.into())
        })?;
    let state: JobState = text(5)?.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, e.into())
    })?;
    let report: Option<String> = r.get(10)?;
    let cause: Option<String> = r.get(11)?;
    Ok(QueuedJob {
        build_id: text(0)?,
        request: JobRequest {
            item: text(1)?,
            item_type,
            taskname: text(3)?,
            arch,
            source: r
                .get::<_, Option<String>>(16)?
                .map(|repo| -> rusqlite::Result<TaskSource> {
                    Ok(TaskSource {
                        repo,
                        git_ref: r.get(17)?,
                    })
                })
                .transpose()?,
            plan: r.get(18)?,
        },
        state,
        attempts: r.get(6)?,
        worker: r.get(7)?,
        scheduled_at: rfc3339(r.get(8)?),
        updated_at: rfc3339(r.get(9)?),
        report: report.and_then(|t| serde_json::from_str(&t).ok()),
        crash: cause.map(|c| {
            (
                CrashCause::parse(&c),
                r.get::<_, Option<String>>(12)
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
            )
        }),
        origin: r
            .get::<_, Option<String>>(14)?
            .map(|topic| -> rusqlite::Result<JobOrigin> {
                Ok(JobOrigin {
                    message_id: r.get(13)?,
                    topic,
                })
            })
            .transpose()?,
        run_id: r.get(15)?,
    })
}

impl Queue {
    /// Opens (or creates) the queue at `path`, in WAL mode so that it survives a
    /// crash of any process using it and readers do not block the writer, waiting
    /// up to 30 s for another process's lock.
    ///
    /// # Errors
    /// The directory or file cannot be made or read.
    pub fn open(path: &Path) -> Result<Self, QueueError> {
        Self::open_with(path, Waiting::default())
    }

    /// [`Queue::open`], waiting for locks as `waiting` says (for this and every later
    /// operation).
    ///
    /// # Errors
    /// The directory or file cannot be made or read.
    pub fn open_with(path: &Path, waiting: Waiting) -> Result<Self, QueueError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| QueueError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let sql = |source| QueueError::Sql {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(BUSY_SLICE).map_err(sql)?;
        retry(&waiting, path, || {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            // Several processes may open a new file at once: the schema and the
            // added columns are written under the write lock, by one of them.
            let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
            tx.execute_batch(SCHEMA)?;
            migrate(&tx)?;
            tx.commit()
        })?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            waiting,
            legacy: false,
            columns: None,
        })
    }

    /// Opens an existing queue for reading only, without creating or changing any
    /// file, so that `taskotron jobs` lists a queue in a read-only state directory.
    /// A queue whose `-wal` and `-shm` files are missing and cannot be created is
    /// read as it is on disk (SQLite's `immutable`): nothing uncommitted is lost,
    /// since without a `-wal` file every transaction is in the main file.
    ///
    /// # Errors
    /// The file is missing, damaged or unreadable.
    pub fn open_read_only(path: &Path, waiting: Waiting) -> Result<Self, QueueError> {
        use rusqlite::OpenFlags;
        let sql = |source| QueueError::Sql {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let probe = |conn: &Connection| {
            conn.busy_timeout(BUSY_SLICE)?;
            conn.query_row("SELECT count(*) FROM jobs", [], |r| r.get::<_, i64>(0))
        };
        let conn = match Connection::open_with_flags(path, flags) {
            Ok(conn) if retry(&waiting, path, || probe(&conn)).is_ok() => conn,
            first => {
                if !path.exists() {
                    return Err(sql(first.err().unwrap_or(rusqlite::Error::InvalidQuery)));
                }
                let uri = format!("file:{}?immutable=1", encode_uri_path(path));
                let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .map_err(sql)?;
                retry(&waiting, path, || probe(&conn))?;
                conn
            }
        };
        let legacy = !conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'topic')",
                [],
                |r| r.get::<_, bool>(0),
            )
            .map_err(sql)?;
        let have: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('jobs')")
            .and_then(|mut st| {
                st.query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(sql)?;
        let columns = ADDED_COLUMNS
            .iter()
            .any(|(name, _)| !have.iter().any(|h| h == name))
            .then(|| columns_of(&have));
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            waiting,
            legacy,
            columns,
        })
    }

    /// The queue file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A write transaction, begun at once (`IMMEDIATE`), so that two writers queue on
    /// the file lock instead of failing to upgrade a read.
    pub(super) fn write_tx(&self) -> Result<Transaction<'_>, QueueError> {
        retry(&self.waiting, &self.path, || {
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
        })
    }

    pub(super) fn sql(&self) -> impl Fn(rusqlite::Error) -> QueueError + '_ {
        move |source| QueueError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Schedules `requests` in one transaction; returns their new build ids.
    ///
    /// # Errors
    /// SQLite refused; nothing was scheduled.
    pub fn enqueue(
        &mut self,
        requests: &[JobRequest],
        now: SystemTime,
    ) -> Result<Vec<String>, QueueError> {
        let sql = self.sql();
        let tx = self.write_tx()?;
        let ids = insert(&tx, requests, None, now).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(ids)
    }

    /// Claims the oldest waiting job for one of `arches` (and any `noarch` job) for
    /// `worker`, with a lease of `lease`. Jobs whose lease ran out are requeued first.
    ///
    /// # Errors
    /// SQLite refused; nothing was claimed.
    pub fn claim(
        &mut self,
        worker: &str,
        arches: &[Arch],
        lease: Duration,
        max_attempts: u32,
        now: SystemTime,
    ) -> Result<Option<QueuedJob>, QueueError> {
        let sql = self.sql();
        let now_ms = millis(now);
        let tx = self.write_tx()?;
        expire(&tx, now_ms, max_attempts).map_err(&sql)?;
        let mut wanted: Vec<String> = arches.iter().map(|a| a.to_string()).collect();
        wanted.push(Arch::Noarch.to_string());
        let marks = vec!["?"; wanted.len()].join(", ");
        let picked: Option<String> = tx
            .query_row(
                &format!(
                    "SELECT build_id FROM jobs WHERE state = 'SCHEDULED' AND arch IN ({marks}) \
                     AND (lease_until IS NULL OR lease_until <= ?{}) \
                     ORDER BY scheduled_at, rowid LIMIT 1",
                    wanted.len() + 1
                ),
                rusqlite::params_from_iter(
                    wanted
                        .iter()
                        .map(|a| rusqlite::types::Value::Text(a.clone()))
                        .chain([rusqlite::types::Value::Integer(now_ms)]),
                ),
                |r| r.get(0),
            )
            .optional()
            .map_err(&sql)?;
        let Some(build_id) = picked else {
            tx.commit().map_err(&sql)?;
            return Ok(None);
        };
        let until = now_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        tx.execute(
            "UPDATE jobs SET state = 'RUNNING', worker = ?2, lease_until = ?3, \
             attempts = attempts + 1, updated_at = ?4, run_id = NULL WHERE build_id = ?1",
            params![build_id, worker, until, now_ms],
        )
        .map_err(&sql)?;
        let job = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE build_id = ?1"),
                [&build_id],
                row,
            )
            .map_err(&sql)?;
        event(
            &tx,
            &build_id,
            now_ms,
            "CLAIMED",
            Some(worker),
            Some(job.attempts),
            Some(until),
            None,
        )
        .map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(Some(job))
    }

    /// Records that `worker`'s attempt at a RUNNING job started as run `run_id`, so that
    /// its log can be followed before it ends; `false` when it no longer holds the job.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn started(
        &mut self,
        build_id: &str,
        worker: &str,
        run_id: &str,
        now: SystemTime,
    ) -> Result<bool, QueueError> {
        let sql = self.sql();
        let now_ms = millis(now);
        let tx = self.write_tx()?;
        let attempt: Option<u32> = tx
            .query_row(
                "UPDATE jobs SET run_id = ?3, updated_at = ?4 \
                 WHERE build_id = ?1 AND worker = ?2 AND state = 'RUNNING' RETURNING attempts",
                params![build_id, worker, run_id, now_ms],
                |r| r.get(0),
            )
            .optional()
            .map_err(&sql)?;
        let Some(attempt) = attempt else {
            tx.commit().map_err(&sql)?;
            return Ok(false);
        };
        event(
            &tx,
            build_id,
            now_ms,
            "STARTED",
            Some(worker),
            Some(attempt),
            None,
            Some(&format!("run {run_id}")),
        )
        .map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(true)
    }

    /// Extends `worker`'s lease on a RUNNING job; `false` when it no longer holds it.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn renew(
        &mut self,
        build_id: &str,
        worker: &str,
        lease: Duration,
        now: SystemTime,
    ) -> Result<bool, QueueError> {
        let until =
            millis(now).saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let n = retry(&self.waiting, &self.path, || {
            self.conn.execute(
                "UPDATE jobs SET lease_until = ?3 \
                 WHERE build_id = ?1 AND worker = ?2 AND state = 'RUNNING'",
                params![build_id, worker, until],
            )
        })?;
        Ok(n == 1)
    }

    /// Records `report` for a job `worker` holds; `false` when it no longer holds it
    /// (its lease ran out and the job went to another worker): the report is dropped.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn finish(
        &mut self,
        build_id: &str,
        worker: &str,
        report: &ExecutionReport,
        now: SystemTime,
    ) -> Result<bool, QueueError> {
        let text = serde_json::to_string(report).unwrap_or_default();
        let status = report.execution_status.as_str();
        let detail = match &report.status {
            Some(why) if !report.is_ok() => format!("{status}: {why}"),
            _ => status.to_string(),
        };
        self.transition(build_id, worker, now, "FINISHED", Some(&detail), |tx| {
            tx.execute(
                "UPDATE jobs SET state = 'FINISHED', report = ?3, lease_until = NULL, \
                 updated_at = ?4 WHERE build_id = ?1 AND worker = ?2 AND state = 'RUNNING'",
                params![build_id, worker, text, millis(now)],
            )
        })
    }

    /// Whether a job for `arches` (or noarch) waits in the queue for its next attempt
    /// (put back by [`Queue::retry_later`], not claimable yet at `now`).
    ///
    /// # Errors
    /// SQLite refused.
    pub fn waiting(&self, arches: &[Arch], now: SystemTime) -> Result<bool, QueueError> {
        let mut wanted: Vec<rusqlite::types::Value> = arches
            .iter()
            .map(|a| rusqlite::types::Value::Text(a.to_string()))
            .collect();
        wanted.push(rusqlite::types::Value::Text(Arch::Noarch.to_string()));
        let marks = vec!["?"; wanted.len()].join(", ");
        let n = wanted.len() + 1;
        wanted.push(rusqlite::types::Value::Integer(millis(now)));
        self.conn
            .query_row(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'SCHEDULED' \
                     AND arch IN ({marks}) AND lease_until > ?{n})"
                ),
                rusqlite::params_from_iter(wanted),
                |r| r.get(0),
            )
            .map_err(self.sql())
    }

    /// Puts a job `worker` holds back in the queue, not to be claimed before
    /// `now + delay`, keeping `report` as its last attempt's (a run that an
    /// infrastructure failure stopped); `false` when it no longer holds it.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn retry_later(
        &mut self,
        build_id: &str,
        worker: &str,
        report: &ExecutionReport,
        delay: Duration,
        now: SystemTime,
    ) -> Result<bool, QueueError> {
        let text = serde_json::to_string(report).unwrap_or_default();
        let not_before =
            millis(now).saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        let detail = format!(
            "{}; to be tried again in {}",
            report
                .status
                .as_deref()
                .unwrap_or("an infrastructure failure"),
            humantime::format_duration(delay)
        );
        self.transition(build_id, worker, now, "RETRY", Some(&detail), |tx| {
            // A SCHEDULED job's lease_until is when it may be claimed again.
            tx.execute(
                "UPDATE jobs SET state = 'SCHEDULED', report = ?3, lease_until = ?4, \
                 updated_at = ?5 WHERE build_id = ?1 AND worker = ?2 AND state = 'RUNNING'",
                params![build_id, worker, text, not_before, millis(now)],
            )
        })
    }

    /// Gives a job `worker` holds back to the queue as if this claim had not been
    /// made (its attempt does not count), claimable again after `delay`: the worker
    /// was stopped mid-job, or the attempt could not start safely. `false` when it no
    /// longer holds it.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn release(
        &mut self,
        build_id: &str,
        worker: &str,
        delay: Duration,
        now: SystemTime,
    ) -> Result<bool, QueueError> {
        let not_before =
            millis(now).saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        self.transition(build_id, worker, now, "RELEASED", None, |tx| {
            tx.execute(
                "UPDATE jobs SET state = 'SCHEDULED', lease_until = ?3, \
                 attempts = MAX(attempts - 1, 0), updated_at = ?4 \
                 WHERE build_id = ?1 AND worker = ?2 AND state = 'RUNNING'",
                params![build_id, worker, not_before, millis(now)],
            )
        })
    }

    /// Marks a job `worker` holds CRASHED; `false` when it no longer holds it.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn crash(
        &mut self,
        build_id: &str,
        worker: &str,
        cause: CrashCause,
        detail: &str,
        now: SystemTime,
    ) -> Result<bool, QueueError> {
        let said = format!("{}: {detail}", cause.as_str());
        self.transition(build_id, worker, now, "CRASHED", Some(&said), |tx| {
            tx.execute(
                "UPDATE jobs SET state = 'CRASHED', crash_cause = ?3, crash_detail = ?4, \
                 lease_until = NULL, updated_at = ?5 \
                 WHERE build_id = ?1 AND worker = ?2 AND state = 'RUNNING'",
                params![build_id, worker, cause.as_str(), detail, millis(now)],
            )
        })
    }

    /// Requeues the jobs whose lease ran out (CRASHED after `max_attempts` claims);
    /// returns how many went back to SCHEDULED.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn requeue_expired(
        &mut self,
        max_attempts: u32,
        now: SystemTime,
    ) -> Result<usize, QueueError> {
        let sql = self.sql();
        let tx = self.write_tx()?;
        let n = expire(&tx, millis(now), max_attempts).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(n)
    }

    /// Changes a job `worker` holds with `update` and appends `what` to its history,
    /// in one transaction; `false` when it no longer holds it (nothing changes).
    fn transition(
        &self,
        build_id: &str,
        worker: &str,
        now: SystemTime,
        what: &str,
        detail: Option<&str>,
        update: impl Fn(&Transaction<'_>) -> rusqlite::Result<usize>,
    ) -> Result<bool, QueueError> {
        let sql = self.sql();
        let tx = self.write_tx()?;
        let n = update(&tx).map_err(&sql)?;
        if n == 1 {
            event(
                &tx,
                build_id,
                millis(now),
                what,
                Some(worker),
                None,
                None,
                detail,
            )
            .map_err(&sql)?;
        }
        tx.commit().map_err(&sql)?;
        Ok(n == 1)
    }

    /// A job's history, oldest first: scheduled (and from which message), each
    /// claim (worker, attempt, lease), each requeue, and how it ended.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn history(&self, build_id: &str) -> Result<Vec<JobEvent>, QueueError> {
        if self.legacy {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at, event, worker, attempt, until, detail FROM job_events \
                 WHERE build_id = ?1 ORDER BY at, rowid",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([build_id], |r| {
                Ok(JobEvent {
                    at: rfc3339(r.get(0)?),
                    event: r.get(1)?,
                    worker: r.get(2)?,
                    attempt: r.get(3)?,
                    lease_until: r.get::<_, Option<i64>>(4)?.map(rfc3339),
                    detail: r.get(5)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The columns a job is read from, for this file.
    fn columns(&self) -> &str {
        self.columns.as_deref().unwrap_or(COLUMNS)
    }

    /// The jobs `SELECT <columns> FROM jobs <tail>` finds, `values` bound.
    pub(super) fn select(
        &self,
        tail: &str,
        values: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<QueuedJob>, QueueError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {} FROM jobs {tail}", self.columns()))
            .map_err(self.sql())?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), row)
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// Runs a read on the connection.
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, QueueError> {
        f(&self.conn).map_err(self.sql())
    }

    /// One job.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn get(&self, build_id: &str) -> Result<Option<QueuedJob>, QueueError> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM jobs WHERE build_id = ?1", self.columns()),
                [build_id],
                row,
            )
            .optional()
            .map_err(self.sql())
    }

    /// The jobs (in one state, or all), oldest first.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn list(&self, state: Option<JobState>) -> Result<Vec<QueuedJob>, QueueError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM jobs WHERE ?1 IS NULL OR state = ?1 \
                 ORDER BY scheduled_at, rowid",
                self.columns()
            ))
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([state.map(JobState::stored)], row)
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The jobs scheduled within `window` before `now`, with when, to seed the
    /// trigger's dedupe memory after a restart.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn recent(
        &self,
        now: SystemTime,
        window: Duration,
    ) -> Result<Vec<(JobRequest, SystemTime)>, QueueError> {
        let since = millis(now.checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH));
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM jobs WHERE scheduled_at >= ?1 ORDER BY scheduled_at"
            ))
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([since], |r| {
                let at: i64 = r.get(8)?;
                Ok((
                    row(r)?.request,
                    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at).unwrap_or(0)),
                ))
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// Deletes FINISHED and CRASHED jobs last changed before `before` (and the
    /// message ids accepted before it), in one transaction; returns the jobs. With
    /// `dry_run` the same query runs and the transaction is rolled back, so what
    /// `gc --dry-run` lists is exactly what `gc` deletes.
    ///
    /// # Errors
    /// SQLite refused; nothing was deleted.
    pub fn forget_before(
        &mut self,
        before: SystemTime,
        dry_run: bool,
    ) -> Result<Vec<QueuedJob>, QueueError> {
        let sql = self.sql();
        let tx = self.write_tx()?;
        let old: Vec<QueuedJob> = {
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM jobs \
                     WHERE state IN ('FINISHED', 'CRASHED') AND updated_at < ?1"
                ))
                .map_err(&sql)?;
            let rows = stmt.query_map([millis(before)], row).map_err(&sql)?;
            rows.collect::<Result<_, _>>().map_err(&sql)?
        };
        tx.execute(
            "DELETE FROM job_events WHERE build_id IN (SELECT build_id FROM jobs \
             WHERE state IN ('FINISHED', 'CRASHED') AND updated_at < ?1)",
            [millis(before)],
        )
        .map_err(&sql)?;
        tx.execute(
            "DELETE FROM jobs WHERE state IN ('FINISHED', 'CRASHED') AND updated_at < ?1",
            [millis(before)],
        )
        .map_err(&sql)?;
        tx.execute(
            "DELETE FROM messages WHERE accepted_at < ?1",
            [millis(before)],
        )
        .map_err(&sql)?;
        // A reader of the events (the CI messages feed) is past every event it has
        // read; with the newest gone, SQLite would hand their row ids out again, so
        // the cursor steps back to the newest event left.
        tx.execute(
            "UPDATE cursors SET position = min(position, \
             coalesce((SELECT max(rowid) FROM job_events), 0))",
            [],
        )
        .map_err(&sql)?;
        if dry_run {
            tx.rollback().map_err(&sql)?;
        } else {
            tx.commit().map_err(&sql)?;
        }
        Ok(old)
    }
}

fn insert(
    tx: &rusqlite::Transaction<'_>,
    requests: &[JobRequest],
    origin: Option<Origin<'_>>,
    now: SystemTime,
) -> rusqlite::Result<Vec<String>> {
    let now = millis(now);
    let mut stmt = tx.prepare(
        "INSERT INTO jobs (build_id, item, item_type, taskname, arch, state, scheduled_at, \
         updated_at, message_id, topic, source_repo, source_ref, plan) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'SCHEDULED', ?6, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    // One statement for every job's first line of history, prepared once: a message
    // can make many jobs and a backlog many messages.
    let mut scheduled = tx.prepare(
        "INSERT INTO job_events (build_id, at, event, detail) VALUES (?1, ?2, 'SCHEDULED', ?3)",
    )?;
    let mut ids = Vec::with_capacity(requests.len());
    let detail = origin.map(|o| match o.message_id {
        Some(id) => format!("from message {id} ({})", o.topic),
        None => format!("from a message without id ({})", o.topic),
    });
    for r in requests {
        let id = taskotron_model::ports::IdSource::run_id(&taskotron_model::ports::UuidSource);
        stmt.execute(params![
            id,
            r.item,
            r.item_type.to_string(),
            r.taskname,
            r.arch.to_string(),
            now,
            origin.and_then(|o| o.message_id),
            origin.map(|o| o.topic),
            r.source.as_ref().map(|s| s.repo.as_str()),
            r.source.as_ref().and_then(|s| s.git_ref.as_deref()),
            r.plan,
        ])?;
        scheduled.execute(params![id, now, detail])?;
        ids.push(id);
    }
    Ok(ids)
}

/// Appends one line to a job's history.
#[allow(clippy::too_many_arguments)] // one column each, named at every call
fn event(
    tx: &rusqlite::Transaction<'_>,
    build_id: &str,
    at: i64,
    what: &str,
    worker: Option<&str>,
    attempt: Option<u32>,
    until: Option<i64>,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare(
        "INSERT INTO job_events (build_id, at, event, worker, attempt, until, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![build_id, at, what, worker, attempt, until, detail])?;
    Ok(())
}

/// Requeues RUNNING jobs whose lease ran out, or crashes them after `max_attempts`.
fn expire(tx: &rusqlite::Transaction<'_>, now: i64, max_attempts: u32) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO job_events (build_id, at, event, worker, attempt, detail) \
         SELECT build_id, ?1, CASE WHEN attempts >= ?2 THEN 'CRASHED' ELSE 'EXPIRED' END, \
         worker, attempts, CASE WHEN attempts >= ?2 \
         THEN 'infrastructure: its worker stopped renewing the lease ' || attempts || ' times' \
         ELSE 'its worker stopped renewing the lease; back in the queue' END \
         FROM jobs WHERE state = 'RUNNING' AND lease_until < ?1",
        params![now, max_attempts],
    )?;
    tx.execute(
        "UPDATE jobs SET state = 'CRASHED', crash_cause = 'infrastructure', \
         crash_detail = 'its worker stopped renewing the lease ' || attempts || ' times', \
         lease_until = NULL, updated_at = ?1 \
         WHERE state = 'RUNNING' AND lease_until < ?1 AND attempts >= ?2",
        params![now, max_attempts],
    )?;
    tx.execute(
        "UPDATE jobs SET state = 'SCHEDULED', lease_until = NULL, updated_at = ?1 \
         WHERE state = 'RUNNING' AND lease_until < ?1",
        params![now],
    )
}

impl Scheduler for Queue {
    fn accept(
        &mut self,
        origin: Origin<'_>,
        jobs: &[JobRequest],
    ) -> Result<Accepted, SchedulerError> {
        let unavailable = |e: rusqlite::Error| SchedulerError::Unavailable(e.to_string());
        let tx = self
            .write_tx()
            .map_err(|e| SchedulerError::Unavailable(e.to_string()))?;
        let now = SystemTime::now();
        if let Some(id) = origin.message_id {
            let fresh = tx
                .execute(
                    "INSERT OR IGNORE INTO messages (message_id, accepted_at) VALUES (?1, ?2)",
                    params![id, millis(now)],
                )
                .map_err(unavailable)?;
            if fresh == 0 {
                return Ok(Accepted::AlreadyAccepted);
            }
        }
        insert(&tx, jobs, Some(origin), now).map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(Accepted::New(jobs.len()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn request(item: &str, arch: Arch) -> JobRequest {
        JobRequest {
            item: item.into(),
            item_type: ItemType::KojiBuild,
            taskname: "rpmlint".into(),
            arch,
            source: None,
            plan: None,
        }
    }

    fn report(build_id: &str) -> ExecutionReport {
        serde_json::from_value(serde_json::json!({
            "execution_status": "OK", "status": null, "build_id": build_id, "run_id": "r-1",
            "item": "a-1-1.fc41", "item_type": "koji_build", "arch": "x86_64",
            "checkname": "dist.rpmlint", "artifacts": "/tmp/a", "started_at": "2026-01-01T00:00:00Z",
            "duration_ms": 5, "actions": [], "outcome": null, "results": [], "exit_code": null
        }))
        .unwrap()
    }

    const LEASE: Duration = Duration::from_secs(60);

    #[test]
    fn a_job_put_back_waits_for_its_delay_and_keeps_its_last_report() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(&dir.path().join("queue.sqlite")).unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ids = q
            .enqueue(&[request("a-1-1.fc41", Arch::X86_64)], t0)
            .unwrap();
        let job = q
            .claim("w1", &[Arch::X86_64], LEASE, 3, t0)
            .unwrap()
            .unwrap();
        let delay = Duration::from_secs(30);
        assert!(q
            .retry_later(&job.build_id, "w1", &report(&ids[0]), delay, t0)
            .unwrap());
        // Only the holder could have put it back, and only once.
        assert!(!q
            .retry_later(&job.build_id, "w1", &report(&ids[0]), delay, t0)
            .unwrap());
        let back = q.get(&ids[0]).unwrap().unwrap();
        assert_eq!(back.state, JobState::Scheduled);
        assert!(back.report.is_some(), "the failed attempt's report is kept");
        let early = t0 + Duration::from_secs(29);
        assert!(q
            .claim("w2", &[Arch::X86_64], LEASE, 3, early)
            .unwrap()
            .is_none());
        assert!(q.waiting(&[Arch::X86_64], early).unwrap());
        assert!(
            !q.waiting(&[Arch::Aarch64], early).unwrap(),
            "not for other arches"
        );
        // The expiry sweep leaves a waiting job alone.
        assert_eq!(q.requeue_expired(3, early).unwrap(), 0);
        let again = q
            .claim("w2", &[Arch::X86_64], LEASE, 3, t0 + delay)
            .unwrap()
            .unwrap();
        assert_eq!(
            (again.build_id.as_str(), again.attempts),
            (ids[0].as_str(), 2)
        );
    }

    #[test]
    fn an_attempt_records_its_run_id_and_the_next_claim_forgets_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(&dir.path().join("queue.sqlite")).unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ids = q
            .enqueue(&[request("a-1-1.fc41", Arch::X86_64)], t0)
            .unwrap();
        let job = q
            .claim("w1", &[Arch::X86_64], LEASE, 3, t0)
            .unwrap()
            .unwrap();
        assert_eq!(job.run_id, None, "claimed, not started");
        // Only the holder can say its attempt started.
        assert!(!q.started(&ids[0], "w2", "run-x", t0).unwrap());
        assert!(q.started(&ids[0], "w1", "run-1", t0).unwrap());
        assert_eq!(
            q.get(&ids[0]).unwrap().unwrap().run_id.as_deref(),
            Some("run-1")
        );
        let history = q.history(&ids[0]).unwrap();
        let started: Vec<_> = history.iter().filter(|e| e.event == "STARTED").collect();
        assert_eq!(started.len(), 1, "{history:?}");
        assert_eq!(
            (
                started[0].worker.as_deref(),
                started[0].attempt,
                started[0].detail.as_deref()
            ),
            (Some("w1"), Some(1), Some("run run-1"))
        );
        // The worker is stopped (a release gives the attempt back); the next claim
        // has no run until it starts one.
        assert!(q.release(&ids[0], "w1", Duration::ZERO, t0).unwrap());
        let again = q
            .claim("w2", &[Arch::X86_64], LEASE, 3, t0)
            .unwrap()
            .unwrap();
        assert_eq!((again.attempts, again.run_id), (1, None));
        assert!(!q.started(&ids[0], "w1", "run-late", t0).unwrap());
        assert!(q.started(&ids[0], "w2", "run-2", t0).unwrap());
        assert!(q.finish(&ids[0], "w2", &report(&ids[0]), t0).unwrap());
        assert_eq!(
            q.get(&ids[0]).unwrap().unwrap().run_id.as_deref(),
            Some("run-2"),
            "kept once finished"
        );
    }

    #[test]
    fn a_job_goes_from_scheduled_to_finished_on_a_worker_of_its_arch() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(&dir.path().join("state/queue.sqlite")).unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ids = q
            .enqueue(
                &[
                    request("a-1-1.fc41", Arch::Aarch64),
                    request("b-1-1.fc41", Arch::Noarch),
                ],
                t0,
            )
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
        // An x86_64 worker takes the noarch job, never the aarch64 one.
        let job = q
            .claim("w1", &[Arch::X86_64], LEASE, 3, t0)
            .unwrap()
            .unwrap();
        assert_eq!(
            (job.build_id.as_str(), job.state),
            (ids[1].as_str(), JobState::Running)
        );
        assert!(q
            .claim("w1", &[Arch::X86_64], LEASE, 3, t0)
            .unwrap()
            .is_none());
        let arm = q
            .claim("w2", &[Arch::Aarch64], LEASE, 3, t0)
            .unwrap()
            .unwrap();
        assert_eq!(arm.build_id, ids[0]);
        assert!(q
            .finish(&job.build_id, "w1", &report(&job.build_id), t0)
            .unwrap());
        assert!(q
            .crash(
                &arm.build_id,
                "w2",
                CrashCause::Task,
                "unknown task `x`",
                t0
            )
            .unwrap());
        let done = q.get(&ids[1]).unwrap().unwrap();
        assert_eq!(done.state, JobState::Finished);
        assert_eq!(
            done.report.unwrap().build_id.as_deref(),
            Some(ids[1].as_str())
        );
        let crashed = q.list(Some(JobState::Crashed)).unwrap();
        assert_eq!(
            crashed[0].crash,
            Some((CrashCause::Task, "unknown task `x`".into()))
        );
        // Reopened, everything is still there.
        drop(q);
        let mut q = Queue::open(&dir.path().join("state/queue.sqlite")).unwrap();
        assert_eq!(q.list(None).unwrap().len(), 2);
        // A third job still waits: forgetting never touches it. A dry run lists
        // exactly what the real one deletes, and deletes nothing.
        q.enqueue(&[request("c-1-1.fc41", Arch::Noarch)], t0)
            .unwrap();
        let later = t0 + Duration::from_secs(60);
        let listed = q.forget_before(later, true).unwrap();
        assert_eq!(q.list(None).unwrap().len(), 3);
        let deleted = q.forget_before(later, false).unwrap();
        assert_eq!(listed, deleted);
        assert_eq!(deleted.len(), 2);
        let left = q.list(None).unwrap();
        assert_eq!((left.len(), left[0].state), (1, JobState::Scheduled));
    }

    #[test]
    fn an_expired_lease_requeues_and_the_late_worker_cannot_finish() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(&dir.path().join("q.sqlite")).unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let id = q
            .enqueue(&[request("a-1-1.fc41", Arch::X86_64)], t0)
            .unwrap()[0]
            .clone();
        let first = q
            .claim("dead", &[Arch::X86_64], LEASE, 2, t0)
            .unwrap()
            .unwrap();
        assert_eq!(first.attempts, 1);
        assert!(q
            .renew(&id, "dead", LEASE, t0 + Duration::from_secs(30))
            .unwrap());
        // The worker dies: no renewal; the lease runs out 60 s after the last one.
        let later = t0 + Duration::from_secs(100);
        assert!(
            q.claim(
                "w2",
                &[Arch::X86_64],
                LEASE,
                2,
                later - Duration::from_secs(20)
            )
            .unwrap()
            .is_none(),
            "still leased"
        );
        let second = q
            .claim("w2", &[Arch::X86_64], LEASE, 2, later)
            .unwrap()
            .unwrap();
        assert_eq!(
            (second.build_id.as_str(), second.attempts),
            (id.as_str(), 2)
        );
        assert!(
            !q.finish(&id, "dead", &report(&id), later).unwrap(),
            "the late worker's report is dropped"
        );
        assert!(!q.renew(&id, "dead", LEASE, later).unwrap());
        // w2 dies too: after max_attempts claims the job is CRASHED, not retried forever.
        let end = later + Duration::from_secs(120);
        assert_eq!(q.requeue_expired(2, end).unwrap(), 0);
        let job = q.get(&id).unwrap().unwrap();
        assert_eq!(job.state, JobState::Crashed);
        assert_eq!(job.crash.unwrap().0, CrashCause::Infrastructure);
    }

    #[test]
    fn a_message_is_accepted_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(&dir.path().join("q.sqlite")).unwrap();
        let origin = Origin {
            message_id: Some("m-1"),
            topic: "t",
        };
        let jobs = [
            request("a-1-1.fc41", Arch::X86_64),
            request("a-1-1.fc41", Arch::Noarch),
        ];
        assert_eq!(q.accept(origin, &jobs).unwrap(), Accepted::New(2));
        assert_eq!(q.accept(origin, &jobs).unwrap(), Accepted::AlreadyAccepted);
        assert_eq!(q.list(Some(JobState::Scheduled)).unwrap().len(), 2);
    }

    #[test]
    fn two_workers_never_get_the_same_job() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite");
        let mut q = Queue::open(&path).unwrap();
        let requests: Vec<JobRequest> = (0..200)
            .map(|n| request(&format!("p{n}-1-1.fc41"), Arch::X86_64))
            .collect();
        q.enqueue(&requests, SystemTime::now()).unwrap();
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut q = Queue::open(&path).unwrap();
                    let mut got = Vec::new();
                    while let Some(job) = q
                        .claim(
                            &format!("w{w}"),
                            &[Arch::X86_64],
                            LEASE,
                            3,
                            SystemTime::now(),
                        )
                        .unwrap()
                    {
                        assert!(q
                            .finish(
                                &job.build_id,
                                &format!("w{w}"),
                                &report(&job.build_id),
                                SystemTime::now()
                            )
                            .unwrap());
                        got.push(job.build_id);
                    }
                    got
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().unwrap());
        }
        let unique: HashSet<&String> = all.iter().collect();
        assert_eq!((all.len(), unique.len()), (200, 200));
        assert_eq!(q.list(Some(JobState::Finished)).unwrap().len(), 200);
    }

    #[test]
    fn many_connections_can_open_a_new_queue_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/q.sqlite");
        let opened: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Queue::open(&path).map(|_| ()))
            })
            .collect();
        for o in opened {
            o.join().unwrap().unwrap();
        }
    }

    #[test]
    fn states_parse_with_a_clear_error() {
        assert_eq!("running".parse::<JobState>(), Ok(JobState::Running));
        assert!("RUNING"
            .parse::<JobState>()
            .unwrap_err()
            .contains("SCHEDULED, RUNNING"));
    }
}
