//! The store: runs, their results and their test cases in SQLite.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Why the store could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite said no (a corrupt file, a full disk, a lock held past the wait).
    #[error("the history store `{path}`: {source}")]
    Sqlite {
        /// The store's file.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

/// What a run is, for its history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    /// The run's id.
    pub run_id: String,
    /// The task (`namespace.name`, the run's checkname).
    pub task: String,
    /// The item.
    pub item: String,
    /// Its type (`koji_build`).
    pub item_type: String,
    /// The package (a Koji build's name), when the item has one.
    pub package: Option<String>,
    /// The build's `version-release`, for RPM version order.
    pub evr: Option<String>,
    /// The arch it ran on.
    pub arch: String,
    /// When it finished, in milliseconds since the epoch.
    pub finished_at: i64,
    /// `OK` or `NOT_OK`.
    pub execution_status: String,
    /// Its worst outcome, when it has results.
    pub outcome: Option<String>,
    /// Its artifacts directory.
    pub artifacts: String,
    /// The builds (N-V-Rs) an update's run stands for: an update has no package
    /// of its own, so its previous run is found through these. Empty for a
    /// build, whose package and version are above.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub builds: Vec<String>,
}

/// One result of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultRow {
    /// The result's name.
    pub checkname: String,
    /// Its outcome (`PASSED`, `FAILED`, ...).
    pub outcome: String,
    /// Its note.
    pub note: Option<String>,
}

/// One test case of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRow {
    /// The check or suite it belongs to.
    pub check: String,
    /// Its name.
    pub name: String,
    /// `passed`, `failed`, `error`, `skipped` or `todo`.
    pub status: String,
    /// Why, when it did not pass.
    pub message: Option<String>,
}

/// A run, its results and its cases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Run {
    /// What it is.
    pub info: RunInfo,
    /// Its results.
    pub results: Vec<ResultRow>,
    /// Its test cases.
    pub cases: Vec<CaseRow>,
}

/// What `history` asks for: a check's results or a case's outcomes, newest
/// first.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// A result name (`dist.rpmlint`) or a case name.
    pub name: String,
    /// Only this package.
    pub package: Option<String>,
    /// Only this arch.
    pub arch: Option<String>,
    /// At most this many.
    pub limit: usize,
}

/// One line of a history: a run and what the check or case was in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The run.
    pub run: RunInfo,
    /// `result` (a check's result) or `case` (a test case).
    pub kind: &'static str,
    /// The check (for a case, the suite it is in).
    pub check: String,
    /// The outcome (a result's) or status (a case's).
    pub outcome: String,
    /// The note or message.
    pub note: Option<String>,
}

/// The history store.
pub struct Store {
    pub(crate) conn: Connection,
    path: String,
}

/// How long a writer waits for another to finish before giving up.
const WAIT: Duration = Duration::from_secs(10);

/// The schema's version, kept in the file's `user_version`: a store already at
/// it is opened without writing anything.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    item TEXT NOT NULL,
    item_type TEXT NOT NULL,
    package TEXT,
    evr TEXT,
    arch TEXT NOT NULL,
    finished_at INTEGER NOT NULL,
    execution_status TEXT NOT NULL,
    outcome TEXT,
    artifacts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_package ON runs (task, package, arch);
CREATE INDEX IF NOT EXISTS runs_item ON runs (task, item, arch);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    checkname TEXT NOT NULL,
    outcome TEXT NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS results_run ON results (run_id);
CREATE INDEX IF NOT EXISTS results_name ON results (checkname);
CREATE TABLE IF NOT EXISTS cases (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    check_name TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT
);
CREATE INDEX IF NOT EXISTS cases_run ON cases (run_id);
CREATE INDEX IF NOT EXISTS cases_name ON cases (name);
CREATE TABLE IF NOT EXISTS run_builds (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    nvr TEXT NOT NULL,
    package TEXT NOT NULL,
    evr TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS run_builds_run ON run_builds (run_id);
CREATE INDEX IF NOT EXISTS run_builds_package ON run_builds (package);
CREATE TABLE IF NOT EXISTS waivers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_type TEXT NOT NULL,
    subject_identifier TEXT NOT NULL,
    testcase TEXT NOT NULL,
    product_version TEXT NOT NULL,
    waived INTEGER NOT NULL,
    username TEXT NOT NULL,
    comment TEXT NOT NULL,
    scenario TEXT,
    timestamp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS waivers_subject ON waivers (subject_identifier, subject_type, product_version);
";

const RUN_COLUMNS: &str = "run_id, task, item, item_type, package, evr, arch, finished_at, execution_status, outcome, artifacts";

fn run_info(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunInfo> {
    Ok(RunInfo {
        run_id: row.get(0)?,
        task: row.get(1)?,
        item: row.get(2)?,
        item_type: row.get(3)?,
        package: row.get(4)?,
        evr: row.get(5)?,
        arch: row.get(6)?,
        finished_at: row.get(7)?,
        execution_status: row.get(8)?,
        outcome: row.get(9)?,
        artifacts: row.get(10)?,
        builds: Vec::new(),
    })
}

/// `name`, `version-release` of an N-V-R (`htop-3.3.0-1.fc41`), or None.
fn split_nvr(nvr: &str) -> Option<(&str, String)> {
    let mut parts = nvr.rsplitn(3, '-');
    let (release, version, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!name.is_empty() && !version.is_empty() && !release.is_empty())
        .then(|| (name, format!("{version}-{release}")))
}

/// The newest of `rows` (a run and the version-release it is compared by):
/// the highest version-release in RPM order, and of those the run that
/// finished last.
fn newest(rows: impl Iterator<Item = (RunInfo, String)>) -> Option<(RunInfo, String)> {
    rows.max_by(|(a, ea), (b, eb)| {
        if older(ea, eb) {
            std::cmp::Ordering::Less
        } else if older(eb, ea) {
            std::cmp::Ordering::Greater
        } else {
            a.finished_at.cmp(&b.finished_at)
        }
    })
}

/// Whether version-release `a` sorts before `b` as RPM sorts them.
fn older(a: &str, b: &str) -> bool {
    let evr = |s: &str| {
        let (v, r) = s.rsplit_once('-').unwrap_or((s, ""));
        rpm_version::Evr::new("0".to_string(), v.to_string(), r.to_string())
    };
    evr(a) < evr(b)
}

impl Store {
    /// Opens (creating it if needed) the store at `path`.
    ///
    /// # Errors
    /// The file cannot be opened or is no store.
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        let shown = path.display().to_string();
        let err = |source| HistoryError::Sqlite {
            path: shown.clone(),
            source,
        };
        let conn =
            crate::sqlite::open_for_writing(path, SCHEMA, SCHEMA_VERSION, WAIT).map_err(err)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(err)?;
        Ok(Self { conn, path: shown })
    }

    /// Opens an existing store for reading only (the web): nothing is created or
    /// written, and a reader never blocks a writer (WAL).
    ///
    /// # Errors
    /// The file is missing, unreadable or no store.
    pub fn open_read_only(path: &Path) -> Result<Self, HistoryError> {
        let shown = path.display().to_string();
        let err = |source| HistoryError::Sqlite {
            path: shown.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(WAIT).map_err(err)?;
        // Pages read straight from the file's mapping rather than copied into
        // the page cache: a reader of 20,000 cases reads megabytes once.
        conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)
            .map_err(err)?;
        Ok(Self { conn, path: shown })
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Keeps `run`, in one transaction (a run recorded again replaces itself).
    ///
    /// # Errors
    /// SQLite refused.
    pub fn record(&mut self, run: &Run) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let err = |source| HistoryError::Sqlite {
            path: path.clone(),
            source,
        };
        // Immediate: a deferred transaction that reads first and then writes
        // fails at once, without waiting, when another writer got in between.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let i = &run.info;
        tx.execute("DELETE FROM runs WHERE run_id = ?1", params![i.run_id])
            .map_err(err)?;
        tx.execute(
            &format!("INSERT INTO runs ({RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
            params![
                i.run_id,
                i.task,
                i.item,
                i.item_type,
                i.package,
                i.evr,
                i.arch,
                i.finished_at,
                i.execution_status,
                i.outcome,
                i.artifacts
            ],
        )
        .map_err(err)?;
        {
            let mut results = tx
                .prepare(
                    "INSERT INTO results (run_id, checkname, outcome, note) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for r in &run.results {
                results
                    .execute(params![i.run_id, r.checkname, r.outcome, r.note])
                    .map_err(err)?;
            }
            let mut cases = tx
                .prepare(
                    "INSERT INTO cases (run_id, check_name, name, status, message) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for c in &run.cases {
                cases
                    .execute(params![i.run_id, c.check, c.name, c.status, c.message])
                    .map_err(err)?;
            }
            let mut builds = tx
                .prepare(
                    "INSERT INTO run_builds (run_id, nvr, package, evr) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for nvr in &i.builds {
                // A build that is no N-V-R cannot be ordered: kept for nothing.
                if let Some((package, evr)) = split_nvr(nvr) {
                    builds
                        .execute(params![i.run_id, nvr, package, evr])
                        .map_err(err)?;
                }
            }
        }
        tx.commit().map_err(err)
    }

    /// The run `run_id`, whole; or the one whose id starts with it, when one does.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn run(&self, run_id: &str) -> Result<Option<Run>, HistoryError> {
        // The id itself, else the first id it is a prefix of: both are range
        // reads of the primary key's index (a `LIKE` would scan every run).
        let exact = self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1"),
                params![run_id],
                run_info,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let info = match exact {
            Some(i) => Some(i),
            None if run_id.is_empty() => None,
            None => self
                .conn
                .query_row(
                    &format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id > ?1 AND run_id < ?1 || char(1114111) ORDER BY run_id LIMIT 1"),
                    params![run_id],
                    run_info,
                )
                .optional()
                .map_err(|e| self.err(e))?,
        };
        let Some(mut info) = info else {
            return Ok(None);
        };
        info.builds = self.builds_of(&info.run_id)?;
        let mut results = self
            .conn
            .prepare("SELECT checkname, outcome, note FROM results WHERE run_id = ?1")
            .map_err(|e| self.err(e))?;
        let results = results
            .query_map(params![info.run_id], |r| {
                Ok(ResultRow {
                    checkname: r.get(0)?,
                    outcome: r.get(1)?,
                    note: r.get(2)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        let mut cases = self
            .conn
            .prepare(
                "SELECT check_name, name, status, message FROM cases WHERE run_id = ?1 ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        let cases = cases
            .query_map(params![info.run_id], |r| {
                Ok(CaseRow {
                    check: r.get(0)?,
                    name: r.get(1)?,
                    status: r.get(2)?,
                    message: r.get(3)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        Ok(Some(Run {
            info,
            results,
            cases,
        }))
    }

    /// The latest finished (`OK`) run of `run`'s task for the previous build of
    /// its package on its arch: the highest version-release below `run`'s, in RPM
    /// order, and of that build the run that finished last. For an update's run
    /// (no package, its `builds`), the same for each of its builds among the
    /// runs of earlier updates, and of those the one that finished last. None
    /// for an item without a package or builds.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn previous(&self, run: &RunInfo) -> Result<Option<RunInfo>, HistoryError> {
        if let (Some(package), Some(evr)) = (&run.package, &run.evr) {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE task = ?1 AND package = ?2 AND arch = ?3 AND execution_status = 'OK' AND run_id != ?4"
                ))
                .map_err(|e| self.err(e))?;
            let rows: Vec<RunInfo> = stmt
                .query_map(params![run.task, package, run.arch, run.run_id], run_info)
                .and_then(Iterator::collect)
                .map_err(|e| self.err(e))?;
            let best = newest(rows.into_iter().filter_map(|r| {
                let e = r.evr.clone()?;
                older(&e, evr).then_some((r, e))
            }));
            return Ok(best.map(|(r, _)| r));
        }
        let columns = RUN_COLUMNS
            .split(", ")
            .map(|c| format!("runs.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut best: Option<RunInfo> = None;
        for (package, evr) in run.builds.iter().filter_map(|b| split_nvr(b)) {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT {columns}, b.evr FROM runs JOIN run_builds b ON b.run_id = runs.run_id \
                     WHERE runs.task = ?1 AND b.package = ?2 AND runs.arch = ?3 \
                     AND runs.execution_status = 'OK' AND runs.run_id != ?4"
                ))
                .map_err(|e| self.err(e))?;
            let rows: Vec<(RunInfo, String)> = stmt
                .query_map(params![run.task, package, run.arch, run.run_id], |row| {
                    Ok((run_info(row)?, row.get::<_, String>(11)?))
                })
                .and_then(Iterator::collect)
                .map_err(|e| self.err(e))?;
            let found = newest(rows.into_iter().filter(|(_, e)| older(e, &evr)));
            if let Some((r, _)) = found {
                if best.as_ref().is_none_or(|b| r.finished_at > b.finished_at) {
                    best = Some(r);
                }
            }
        }
        match best {
            Some(mut b) => {
                b.builds = self.builds_of(&b.run_id)?;
                Ok(Some(b))
            }
            None => Ok(None),
        }
    }

    /// The builds kept for the run `run_id` (an update's), in the order given.
    fn builds_of(&self, run_id: &str) -> Result<Vec<String>, HistoryError> {
        let mut stmt = match self
            .conn
            .prepare("SELECT nvr FROM run_builds WHERE run_id = ?1 ORDER BY rowid")
        {
            Ok(s) => s,
            // A store of the first schema, opened only to read: it kept none.
            Err(e) if e.to_string().contains("no such table") => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        stmt.query_map(params![run_id], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))
    }

    /// The history `query` asks for, newest first: the check's results where
    /// `name` is a result's name, and the case's statuses where it is a case's.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn history(&self, query: &Query) -> Result<Vec<Entry>, HistoryError> {
        let limit = i64::try_from(if query.limit == 0 { 50 } else { query.limit }).unwrap_or(50);
        let filter = "(?2 IS NULL OR runs.package = ?2) AND (?3 IS NULL OR runs.arch = ?3)";
        let sql = format!(
            "SELECT {cols}, 'result', results.checkname, results.outcome, results.note \
             FROM results JOIN runs ON runs.run_id = results.run_id \
             WHERE results.checkname = ?1 AND {filter} \
             UNION ALL \
             SELECT {cols}, 'case', cases.check_name, cases.status, cases.message \
             FROM cases JOIN runs ON runs.run_id = cases.run_id \
             WHERE cases.name = ?1 AND {filter} \
             ORDER BY 8 DESC LIMIT ?4",
            cols = RUN_COLUMNS
                .split(", ")
                .map(|c| format!("runs.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        stmt.query_map(
            params![query.name, query.package, query.arch, limit],
            |row| {
                let kind: String = row.get(11)?;
                Ok(Entry {
                    run: run_info(row)?,
                    kind: if kind == "case" { "case" } else { "result" },
                    check: row.get(12)?,
                    outcome: row.get(13)?,
                    note: row.get(14)?,
                })
            },
        )
        .and_then(Iterator::collect)
        .map_err(|e| self.err(e))
    }

    /// Forgets the runs that finished before `before` (milliseconds since the
    /// epoch), with their results and cases (only counts them, `dry_run`); how
    /// many.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn forget_before(&mut self, before: i64, dry_run: bool) -> Result<usize, HistoryError> {
        if dry_run {
            let n: i64 = self
                .conn
                .query_row(
                    "SELECT COUNT(*) FROM runs WHERE finished_at < ?1",
                    params![before],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            return Ok(usize::try_from(n).unwrap_or(0));
        }
        self.conn
            .execute("DELETE FROM runs WHERE finished_at < ?1", params![before])
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, evr: &str, at: i64, cases: &[(&str, &str)]) -> Run {
        Run {
            info: RunInfo {
                run_id: id.into(),
                task: "dist.t".into(),
                item: format!("htop-{evr}"),
                item_type: "koji_build".into(),
                package: Some("htop".into()),
                evr: Some(evr.into()),
                arch: "x86_64".into(),
                finished_at: at,
                execution_status: "OK".into(),
                outcome: Some("PASSED".into()),
                artifacts: format!("/a/{id}"),
                builds: Vec::new(),
            },
            results: vec![ResultRow {
                checkname: "dist.t".into(),
                outcome: "PASSED".into(),
                note: None,
            }],
            cases: cases
                .iter()
                .map(|(n, s)| CaseRow {
                    check: "dist.t".into(),
                    name: (*n).into(),
                    status: (*s).into(),
                    message: None,
                })
                .collect(),
        }
    }

    fn update(id: &str, builds: &[&str], at: i64, cases: &[(&str, &str)]) -> Run {
        let mut r = run(id, "0-0", at, cases);
        r.info.item = format!("FEDORA-2024-{id}");
        r.info.item_type = "bodhi_update".into();
        (r.info.package, r.info.evr) = (None, None);
        r.info.builds = builds.iter().map(|b| (*b).to_string()).collect();
        r
    }

    #[test]
    fn an_update_is_compared_through_its_builds() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("history.sqlite")).unwrap();
        store
            .record(&update("u1", &["htop-3.2.2-1.fc41"], 1, &[("a", "passed")]))
            .unwrap();
        // Another package's update, later: not this one's predecessor.
        store
            .record(&update("u2", &["nano-8.0-1.fc41"], 2, &[("a", "failed")]))
            .unwrap();
        let u3 = update(
            "u3",
            &["htop-3.3.0-1.fc41", "libfoo-2-1.fc41"],
            3,
            &[("a", "failed")],
        );
        store.record(&u3).unwrap();
        let kept = store.run("u3").unwrap().unwrap();
        assert_eq!(kept.info.builds, ["htop-3.3.0-1.fc41", "libfoo-2-1.fc41"]);
        let prev = store.previous(&kept.info).unwrap().unwrap();
        assert_eq!(prev.run_id, "u1");
        assert_eq!(prev.builds, ["htop-3.2.2-1.fc41"]);
        let base = store.run(&prev.run_id).unwrap().unwrap();
        let r = crate::compare(&base, &kept);
        assert_eq!(r.summary(), "1 test newly fails since htop-3.2.2-1.fc41");
        // A newer build's update is no predecessor of an older one's.
        assert!(store
            .previous(&store.run("u1").unwrap().unwrap().info)
            .unwrap()
            .is_none());
        // Forgotten, its builds go with it.
        store.forget_before(2, false).unwrap();
        let n: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM run_builds WHERE run_id = 'u1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn a_store_of_the_first_schema_reads_without_builds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        Store::open(&path)
            .unwrap()
            .record(&run("r1", "1-1", 1, &[]))
            .unwrap();
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("DROP TABLE run_builds; PRAGMA user_version = 1;")
                .unwrap();
        }
        let r = Store::open_read_only(&path)
            .unwrap()
            .run("r1")
            .unwrap()
            .unwrap();
        assert!(r.info.builds.is_empty());
        // Opened to write, it gains the table and keeps builds again.
        let mut store = Store::open(&path).unwrap();
        store.record(&update("u1", &["htop-1-1"], 2, &[])).unwrap();
        assert_eq!(store.run("u1").unwrap().unwrap().info.builds, ["htop-1-1"]);
    }

    #[test]
    fn the_previous_build_is_found_in_rpm_order_and_history_is_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("history.sqlite")).unwrap();
        store
            .record(&run("r1", "3.2.2-1.fc41", 1, &[("a", "passed")]))
            .unwrap();
        store
            .record(&run("r2", "3.10.0-1.fc41", 2, &[("a", "failed")]))
            .unwrap();
        store
            .record(&run("r3", "3.9.0-1.fc41", 3, &[("a", "passed")]))
            .unwrap();
        // 3.10 comes after 3.9 (not as text sorts it): its previous is 3.9.
        let r2 = store.run("r2").unwrap().unwrap();
        assert_eq!(r2.cases.len(), 1);
        let prev = store.previous(&r2.info).unwrap().unwrap();
        assert_eq!(prev.run_id, "r3");
        let r1 = store.run("r1").unwrap().unwrap();
        assert!(store.previous(&r1.info).unwrap().is_none());
        let h = store
            .history(&Query {
                name: "a".into(),
                ..Query::default()
            })
            .unwrap();
        let ids: Vec<&str> = h.iter().map(|e| e.run.run_id.as_str()).collect();
        assert_eq!(ids, ["r3", "r2", "r1"]);
        assert_eq!(h[1].outcome, "failed");
        assert_eq!(h[1].kind, "case");
        let results = store
            .history(&Query {
                name: "dist.t".into(),
                arch: Some("aarch64".into()),
                ..Query::default()
            })
            .unwrap();
        assert!(results.is_empty(), "another arch");
        // Recorded again, a run replaces itself; forgotten, it is gone whole.
        store
            .record(&run(
                "r1",
                "3.2.2-1.fc41",
                1,
                &[("a", "passed"), ("b", "passed")],
            ))
            .unwrap();
        assert_eq!(store.run("r1").unwrap().unwrap().cases.len(), 2);
        assert_eq!(store.forget_before(2, true).unwrap(), 1);
        assert!(
            store.run("r1").unwrap().is_some(),
            "a dry run forgets nothing"
        );
        assert_eq!(store.forget_before(2, false).unwrap(), 1);
        assert!(store.run("r1").unwrap().is_none());
        // A prefix of a run id finds it.
        assert_eq!(store.run("r").unwrap().unwrap().info.run_id.len(), 2);
    }

    #[test]
    fn a_reader_never_sees_half_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        let mut writer = Store::open(&path).unwrap();
        let cases: Vec<(String, &str)> = (0..2000).map(|i| (format!("t{i}"), "passed")).collect();
        let cases: Vec<(&str, &str)> = cases.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let reading = std::thread::spawn({
            let path = path.clone();
            move || {
                let reader = Store::open(&path).unwrap();
                let mut seen = Vec::new();
                for _ in 0..200 {
                    for id in ["w0", "w1", "w2"] {
                        if let Some(r) = reader.run(id).unwrap() {
                            seen.push(r.cases.len());
                        }
                    }
                }
                seen
            }
        });
        for i in 0..3 {
            writer
                .record(&run(&format!("w{i}"), "1.0-1.fc41", i, &cases))
                .unwrap();
        }
        let seen = reading.join().unwrap();
        assert!(seen.iter().all(|n| *n == 2000), "a run is whole or absent");
    }

    #[test]
    fn writers_racing_on_a_new_store_lose_nothing() {
        // Workers running jobs side by side each open the store and record
        // their run; the first of them creates it. Every run must be kept.
        for round in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("history.sqlite");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
            let writers: Vec<_> = (0..4)
                .map(|w| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        for i in 0..5 {
                            let mut store = Store::open(&path).unwrap();
                            let id = format!("r{round}-{w}-{i}");
                            store
                                .record(&run(&id, "1.0-1.fc41", i, &[("a", "passed")]))
                                .unwrap();
                            // A reader of the previous build between writes, as
                            // the runner does.
                            store
                                .previous(&store.run(&id).unwrap().unwrap().info)
                                .unwrap();
                        }
                    })
                })
                .collect();
            for w in writers {
                w.join().unwrap();
            }
            let store = Store::open(&path).unwrap();
            let kept: i64 = store
                .conn
                .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
                .unwrap();
            assert_eq!(kept, 20);
        }
    }
}
