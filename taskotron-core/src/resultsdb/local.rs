//! The embedded results store: where the results a task reports go when no
//! external ResultsDB is configured (`<state_dir>/results.sqlite`), and what
//! `taskotron web` serves read-only at `/api/v2.0/...` in ResultsDB 2.x's shape, so
//! tools written for ResultsDB read a single-machine deployment unchanged.
//!
//! The schema follows ResultsDB's model: results with a testcase, an outcome, a
//! note, a `ref_url` and a submit time; groups; and `data`, key → values, indexed so
//! that `item=X` finds its results without a scan. A result's own id (the spool's
//! identity) is unique: reporting the same run twice stores each result once, as
//! the HTTP path's "already there" check does. *Invariant: every write is one
//! transaction; readers open the file read-only.*

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::types::Value as Sql;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value};

use super::payload::DataValue;
use super::spool::Entry;

/// The schema's version (the file's `user_version`): a store at it is opened
/// without writing.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS testcases (name TEXT PRIMARY KEY, ref_url TEXT);
CREATE TABLE IF NOT EXISTS groups (uuid TEXT PRIMARY KEY, description TEXT, ref_url TEXT);
CREATE TABLE IF NOT EXISTS results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    identity    TEXT UNIQUE,
    testcase    TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    note        TEXT,
    ref_url     TEXT,
    submit_time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_of_testcase ON results (testcase, id);
CREATE TABLE IF NOT EXISTS result_groups (result_id INTEGER NOT NULL, uuid TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS result_groups_of ON result_groups (uuid, result_id);
CREATE INDEX IF NOT EXISTS result_groups_by ON result_groups (result_id);
CREATE TABLE IF NOT EXISTS result_data (result_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS result_data_kv ON result_data (key, value, result_id);
CREATE INDEX IF NOT EXISTS result_data_of ON result_data (result_id);
";

/// The file name under the state directory.
pub const FILE: &str = "results.sqlite";

/// The outcomes ResultsDB 2.2 accepts by default, for validating `outcome=`.
pub const OUTCOMES: [&str; 4] = ["PASSED", "INFO", "FAILED", "NEEDS_INSPECTION"];

/// The store, open on one file.
#[derive(Debug)]
pub struct LocalResults {
    conn: Connection,
    path: PathBuf,
}

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
#[error("results store `{path}`: {source}")]
pub struct LocalError {
    /// The file.
    pub path: PathBuf,
    /// What SQLite said.
    pub source: rusqlite::Error,
}

/// Which testcases or groups a listing selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameFilter<'a> {
    /// All of them.
    Any,
    /// The one with this name.
    Exact(&'a str),
    /// Those a glob (`dist.*`) matches, as ResultsDB's `:like`.
    Like(&'a str),
}

impl<'a> NameFilter<'a> {
    /// The SQL condition on `column` and the value it binds as `?1`.
    fn sql(self, column: &str) -> (String, Option<&'a str>) {
        match self {
            NameFilter::Any => ("1".into(), None),
            NameFilter::Exact(v) => (format!("{column} = ?1"), Some(v)),
            NameFilter::Like(v) => (format!("{column} GLOB ?1"), Some(v)),
        }
    }
}

/// A query of `/api/v2.0/results` (and `latest`), as ResultsDB reads its parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultQuery {
    /// `outcome=A,B`, upper-cased.
    pub outcomes: Vec<String>,
    /// `testcases=a,b`.
    pub testcases: Vec<String>,
    /// `testcases:like=dist.*`.
    pub testcases_like: Vec<String>,
    /// `groups=uuid,...`.
    pub groups: Vec<String>,
    /// `since=START[,END]`, ISO 8601 as stored.
    pub since: Option<(String, Option<String>)>,
    /// Data filters: key, whether `:like`, values.
    pub data: Vec<(String, bool, Vec<String>)>,
    /// 0-based.
    pub page: u64,
    /// Default 20.
    pub limit: u64,
    /// `_sort=asc:submit_time`.
    pub ascending: bool,
    /// `_distinct_on` was given (only meaningful for `latest`).
    pub distinct_on: bool,
}

/// A parameter ResultsDB would refuse, with its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct QueryError {
    /// The parameter.
    pub name: String,
    /// Why, in ResultsDB's words where it has them.
    pub message: String,
}

impl ResultQuery {
    /// Reads decoded `(key, value)` pairs; comma-separated values and repeated keys
    /// add up, as in ResultsDB.
    ///
    /// # Errors
    /// An unknown outcome, a time that is not ISO 8601, a page or limit that is not a
    /// number.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, QueryError> {
        let mut q = ResultQuery {
            limit: 20,
            ..ResultQuery::default()
        };
        let err = |name: &str, message: String| QueryError {
            name: name.into(),
            message,
        };
        let mut since: Vec<String> = Vec::new();
        for (k, v) in pairs {
            let values = || v.split(',').map(str::to_string).filter(|s| !s.is_empty());
            match k.as_str() {
                "outcome" => {
                    for o in values() {
                        let o = o.to_uppercase();
                        if !OUTCOMES.contains(&o.as_str()) {
                            return Err(err(
                                "outcome",
                                format!("Value error, must be one of: {}", OUTCOMES.join(", ")),
                            ));
                        }
                        q.outcomes.push(o);
                    }
                }
                "testcases" => q.testcases.extend(values()),
                "testcases:like" => q.testcases_like.extend(values()),
                "groups" => q.groups.extend(values()),
                "since" => since.extend(values()),
                "page" => {
                    q.page = v
                        .parse()
                        .map_err(|_| err("page", "Input should be a valid integer".into()))?
                }
                "limit" => {
                    q.limit = v
                        .parse()
                        .map_err(|_| err("limit", "Input should be a valid integer".into()))?
                }
                "_sort" => q.ascending = v == "asc:submit_time",
                "_distinct_on" => q.distinct_on = true,
                "callback" | "_" => {}
                key => {
                    let (key, like) = key
                        .strip_suffix(":like")
                        .map_or((key, false), |b| (b, true));
                    q.data.push((key.to_string(), like, values().collect()));
                }
            }
        }
        if !since.is_empty() {
            let bad = || err("since", "Value error, must be in ISO8601 format".into());
            let start = iso(&since[0]).ok_or_else(bad)?;
            let end = match since.get(1) {
                Some(e) => Some(iso(e).ok_or_else(bad)?),
                None => None,
            };
            q.since = Some((start, end));
        }
        q.limit = q.limit.min(1000);
        Ok(q)
    }

    /// Whether it filters on anything (ResultsDB's `latest` with `_distinct_on`
    /// wants at least one filter).
    pub fn filters(&self) -> bool {
        !(self.outcomes.is_empty()
            && self.testcases.is_empty()
            && self.testcases_like.is_empty()
            && self.groups.is_empty()
            && self.since.is_none()
            && self.data.is_empty())
    }
}

/// `2026-01-02`, `2026-01-02T03:04`, `2026-01-02T03:04:05(.ffffff)(Z)` → the stored form
/// (`YYYY-MM-DDTHH:MM:SS.ffffff`), or `None`.
fn iso(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('Z');
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00"));
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3 || d[0].len() != 4 || d.iter().any(|p| p.parse::<u32>().is_err()) {
        return None;
    }
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&t.len())
        || t.iter().any(|p| p.parse::<u32>().is_err())
        || frac.parse::<u64>().is_err()
    {
        return None;
    }
    let micros = format!("{frac:0<6}");
    Some(format!(
        "{}-{:0>2}-{:0>2}T{:0>2}:{:0>2}:{:0>2}.{}",
        d[0],
        d[1],
        d[2],
        t[0],
        t[1],
        t.get(2).unwrap_or(&"0"),
        &micros[..6]
    ))
}

/// A stored result, serialised as ResultsDB 2.x does (`base` is the server's URL).
fn result_json(
    conn: &Connection,
    base: &str,
    id: i64,
    row: &(String, String, Option<String>, Option<String>, String),
) -> rusqlite::Result<Value> {
    let (testcase, outcome, note, ref_url, submit_time) = row;
    let mut groups = Vec::new();
    let mut stmt = conn.prepare("SELECT uuid FROM result_groups WHERE result_id = ?1")?;
    for g in stmt.query_map([id], |r| r.get::<_, String>(0))? {
        groups.push(g?);
    }
    let mut data = serde_json::Map::new();
    let mut stmt =
        conn.prepare("SELECT key, value FROM result_data WHERE result_id = ?1 ORDER BY rowid")?;
    for kv in stmt.query_map([id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (k, v) = kv?;
        if let Some(values) = data.entry(k).or_insert_with(|| json!([])).as_array_mut() {
            values.push(json!(v));
        }
    }
    let tc_ref: Option<String> = conn
        .query_row(
            "SELECT ref_url FROM testcases WHERE name = ?1",
            [testcase],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(json!({
        "data": data,
        "groups": groups,
        "href": format!("{base}/api/v2.0/results/{id}"),
        "id": id,
        "note": note.clone().unwrap_or_default(),
        "outcome": outcome,
        "ref_url": ref_url,
        "submit_time": submit_time,
        "testcase": {"href": format!("{base}/api/v2.0/testcases/{testcase}"), "name": testcase, "ref_url": tc_ref},
    }))
}

type Row = (String, String, Option<String>, Option<String>, String);

/// Keeps `entries` in the store at `path` (created on first use), now; what the
/// `resultsdb` directive and `taskotron report` do without a ResultsDB.
///
/// # Errors
/// The store cannot be opened or written; nothing was kept.
pub fn keep(path: &Path, entries: &[Entry]) -> Result<Vec<u64>, LocalError> {
    LocalResults::open(path)?.insert(entries, SystemTime::now())
}

impl LocalResults {
    /// Opens (or creates) the store for writing.
    ///
    /// # Errors
    /// The file cannot be made or read.
    pub fn open(path: &Path) -> Result<Self, LocalError> {
        let err = |source| LocalError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // Workers side by side open it at once, the first creating it.
        let conn = taskotron_history::sqlite::open_for_writing(
            path,
            SCHEMA,
            SCHEMA_VERSION,
            std::time::Duration::from_secs(30),
        )
        .map_err(err)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing store read-only.
    ///
    /// # Errors
    /// The file is missing or unreadable.
    pub fn open_read_only(path: &Path) -> Result<Self, LocalError> {
        let err = |source| LocalError {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        // A reader maps the file instead of copying its pages (a decision reads
        // the results of many subjects).
        conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)
            .map_err(err)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> LocalError + '_ {
        move |source| LocalError {
            path: self.path.clone(),
            source,
        }
    }

    /// Stores `entries` in one transaction; each result's id, the one it already had
    /// when its identity was stored before.
    ///
    /// # Errors
    /// SQLite refused; nothing was stored.
    pub fn insert(&mut self, entries: &[Entry], now: SystemTime) -> Result<Vec<u64>, LocalError> {
        let err = self.err();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(&err)?;
        let submit = {
            let t = humantime::format_rfc3339_micros(now).to_string();
            t.trim_end_matches('Z').to_string()
        };
        let mut ids = Vec::with_capacity(entries.len());
        for e in entries {
            let p = &e.payload;
            if let Some(id) = tx
                .query_row(
                    "SELECT id FROM results WHERE identity = ?1",
                    [&e.result_id],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
                .map_err(&err)?
            {
                ids.push(u64::try_from(id).unwrap_or(0));
                continue;
            }
            tx.execute(
                "INSERT INTO testcases (name, ref_url) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET ref_url = coalesce(excluded.ref_url, ref_url)",
                params![p.testcase.name, p.testcase.ref_url],
            )
            .map_err(&err)?;
            tx.execute(
                "INSERT INTO results (identity, testcase, outcome, note, ref_url, submit_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.result_id, p.testcase.name, p.outcome, p.note, p.ref_url, submit],
            )
            .map_err(&err)?;
            let id = tx.last_insert_rowid();
            for g in &p.groups {
                tx.execute(
                    "INSERT INTO groups (uuid, description, ref_url) VALUES (?1, ?2, ?3) ON CONFLICT(uuid) DO NOTHING",
                    params![g.uuid, g.description, g.ref_url],
                )
                .map_err(&err)?;
                tx.execute(
                    "INSERT INTO result_groups (result_id, uuid) VALUES (?1, ?2)",
                    params![id, g.uuid],
                )
                .map_err(&err)?;
            }
            for (k, v) in &p.data {
                let values = match v {
                    DataValue::One(s) => vec![s.clone()],
                    DataValue::Many(m) => m.clone(),
                };
                for v in values {
                    tx.execute(
                        "INSERT INTO result_data (result_id, key, value) VALUES (?1, ?2, ?3)",
                        params![id, k, v],
                    )
                    .map_err(&err)?;
                }
            }
            ids.push(u64::try_from(id).unwrap_or(0));
        }
        tx.commit().map_err(&err)?;
        Ok(ids)
    }

    /// The ids and rows `q` selects, newest first (or oldest with `ascending`),
    /// `limit` of them from `offset`, or all with `None`.
    fn select(
        &self,
        q: &ResultQuery,
        page: Option<(u64, u64)>,
    ) -> Result<Vec<(i64, Row)>, LocalError> {
        let mut sql = String::from(
            "SELECT id, testcase, outcome, note, ref_url, submit_time FROM results WHERE 1",
        );
        let mut args: Vec<Sql> = Vec::new();
        let marks = |values: &[String], args: &mut Vec<Sql>| {
            let m: Vec<String> = values
                .iter()
                .map(|v| {
                    args.push(Sql::Text(v.clone()));
                    format!("?{}", args.len())
                })
                .collect();
            m.join(", ")
        };
        if !q.outcomes.is_empty() {
            sql.push_str(&format!(
                " AND outcome IN ({})",
                marks(&q.outcomes, &mut args)
            ));
        }
        if !q.testcases.is_empty() || !q.testcases_like.is_empty() {
            let mut any = Vec::new();
            if !q.testcases.is_empty() {
                any.push(format!("testcase IN ({})", marks(&q.testcases, &mut args)));
            }
            for p in &q.testcases_like {
                args.push(Sql::Text(p.clone()));
                any.push(format!("testcase GLOB ?{}", args.len()));
            }
            sql.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
        if !q.groups.is_empty() {
            sql.push_str(&format!(
                " AND id IN (SELECT result_id FROM result_groups WHERE uuid IN ({}))",
                marks(&q.groups, &mut args)
            ));
        }
        if let Some((start, end)) = &q.since {
            args.push(Sql::Text(start.clone()));
            sql.push_str(&format!(" AND submit_time >= ?{}", args.len()));
            if let Some(e) = end {
                args.push(Sql::Text(e.clone()));
                sql.push_str(&format!(" AND submit_time <= ?{}", args.len()));
            }
        }
        for (key, like, values) in &q.data {
            args.push(Sql::Text(key.clone()));
            let k = args.len();
            let cond = if *like {
                let ors: Vec<String> = values
                    .iter()
                    .map(|v| {
                        args.push(Sql::Text(v.clone()));
                        format!("value GLOB ?{}", args.len())
                    })
                    .collect();
                format!(
                    "({})",
                    if ors.is_empty() {
                        "0".into()
                    } else {
                        ors.join(" OR ")
                    }
                )
            } else {
                format!("value IN ({})", marks(values, &mut args))
            };
            sql.push_str(&format!(
                " AND id IN (SELECT result_id FROM result_data WHERE key = ?{k} AND {cond})"
            ));
        }
        sql.push_str(if q.ascending {
            " ORDER BY id"
        } else {
            " ORDER BY id DESC"
        });
        if let Some((offset, limit)) = page {
            sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
        }
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok((
                    r.get(0)?,
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                ))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// A page of results as `/api/v2.0/results` answers: the results and whether
    /// another page follows.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn results(&self, q: &ResultQuery, base: &str) -> Result<(Vec<Value>, bool), LocalError> {
        let limit = q.limit;
        let mut rows = self.select(q, Some((q.page * limit, limit + 1)))?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let data = rows
            .iter()
            .map(|(id, row)| result_json(&self.conn, base, *id, row))
            .collect::<Result<_, _>>()
            .map_err(self.err())?;
        Ok((data, more))
    }

    /// The newest result of each testcase `q` selects (`/results/latest`).
    ///
    /// # Errors
    /// SQLite refused.
    pub fn latest(&self, q: &ResultQuery, base: &str) -> Result<Vec<Value>, LocalError> {
        let mut seen = std::collections::BTreeSet::new();
        let q = ResultQuery {
            ascending: false,
            ..q.clone()
        };
        self.select(&q, None)?
            .iter()
            .filter(|(_, row)| seen.insert(row.0.clone()))
            .map(|(id, row)| result_json(&self.conn, base, *id, row))
            .collect::<Result<_, _>>()
            .map_err(self.err())
    }

    /// Every result of `item` with a `type` among `types`, newest first, in
    /// ResultsDB's shape (without groups and the testcase's `ref_url`, which a
    /// decision does not read, unless `full`): what a decision reads of one
    /// subject, in two queries whatever the number of its testcases.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn item_results(
        &self,
        item: &str,
        types: &[&str],
        base: &str,
        full: bool,
    ) -> Result<Vec<Value>, LocalError> {
        let marks: Vec<String> = (0..types.len()).map(|i| format!("?{}", i + 2)).collect();
        let sql = format!(
            "SELECT r.id, r.testcase, r.outcome, r.note, r.ref_url, r.submit_time \
             FROM result_data d JOIN results r ON r.id = d.result_id \
             WHERE d.key = 'item' AND d.value = ?1 \
             AND EXISTS (SELECT 1 FROM result_data t WHERE t.result_id = r.id \
                         AND t.key = 'type' AND t.value IN ({})) \
             ORDER BY r.id DESC",
            marks.join(", ")
        );
        let mut args: Vec<Sql> = vec![Sql::Text(item.into())];
        args.extend(types.iter().map(|t| Sql::Text((*t).to_string())));
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let rows: Vec<(i64, Row)> = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok((
                    r.get(0)?,
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                ))
            })
            .map_err(self.err())?
            .collect::<Result<_, _>>()
            .map_err(self.err())?;
        if full {
            return rows
                .iter()
                .map(|(id, row)| result_json(&self.conn, base, *id, row))
                .collect::<Result<_, _>>()
                .map_err(self.err());
        }
        let mut data: std::collections::HashMap<i64, serde_json::Map<String, Value>> =
            std::collections::HashMap::new();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d2.result_id, d2.key, d2.value FROM result_data d \
                 JOIN result_data d2 ON d2.result_id = d.result_id \
                 WHERE d.key = 'item' AND d.value = ?1 ORDER BY d2.rowid",
            )
            .map_err(self.err())?;
        let kvs = stmt
            .query_map([item], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(self.err())?;
        for kv in kvs {
            let (id, k, v) = kv.map_err(self.err())?;
            if let Some(values) = data
                .entry(id)
                .or_default()
                .entry(k)
                .or_insert_with(|| json!([]))
                .as_array_mut()
            {
                values.push(json!(v));
            }
        }
        Ok(rows
            .into_iter()
            .map(|(id, (testcase, outcome, note, ref_url, submit_time))| {
                json!({
                    "data": data.remove(&id).unwrap_or_default(),
                    "href": format!("{base}/api/v2.0/results/{id}"),
                    "id": id,
                    "note": note.unwrap_or_default(),
                    "outcome": outcome,
                    "ref_url": ref_url,
                    "submit_time": submit_time,
                    "testcase": {"href": format!("{base}/api/v2.0/testcases/{testcase}"), "name": testcase},
                })
            })
            .collect())
    }

    /// One result.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn result(&self, id: i64, base: &str) -> Result<Option<Value>, LocalError> {
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT testcase, outcome, note, ref_url, submit_time FROM results WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(self.err())?;
        row.map(|row| result_json(&self.conn, base, id, &row))
            .transpose()
            .map_err(self.err())
    }

    /// A page of testcases by name (`/testcases`): all, one `name`, or those a
    /// `name:like` glob matches.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn testcases(
        &self,
        name: NameFilter<'_>,
        page: u64,
        limit: u64,
        base: &str,
    ) -> Result<(Vec<Value>, bool), LocalError> {
        let (condition, value) = name.sql("name");
        self.page_of(
            &format!("SELECT name, ref_url FROM testcases WHERE {condition} ORDER BY name"),
            value,
            page,
            limit,
            |r| {
                let name: String = r.get(0)?;
                Ok(json!({
                    "href": format!("{base}/api/v2.0/testcases/{name}"),
                    "name": name,
                    "ref_url": r.get::<_, Option<String>>(1)?,
                }))
            },
        )
    }

    /// A page of groups, newest first (`/groups`): all, or one `uuid`.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn groups(
        &self,
        uuid: NameFilter<'_>,
        page: u64,
        limit: u64,
        base: &str,
    ) -> Result<(Vec<Value>, bool), LocalError> {
        let (condition, value) = uuid.sql("uuid");
        self.page_of(
            &format!(
                "SELECT uuid, description, ref_url, \
                 (SELECT count(*) FROM result_groups r WHERE r.uuid = g.uuid) \
                 FROM groups g WHERE {condition} ORDER BY rowid DESC"
            ),
            value,
            page,
            limit,
            |r| {
                let uuid: String = r.get(0)?;
                Ok(json!({
                    "description": r.get::<_, Option<String>>(1)?,
                    "href": format!("{base}/api/v2.0/groups/{uuid}"),
                    "ref_url": r.get::<_, Option<String>>(2)?,
                    "results": format!("{base}/api/v2.0/results?groups={uuid}"),
                    "results_count": r.get::<_, i64>(3)?,
                    "uuid": uuid,
                }))
            },
        )
    }

    /// Page `page` of `limit` rows of `sql` (one optional `?1`), each made into JSON,
    /// and whether another page follows (one row more is read to know).
    fn page_of(
        &self,
        sql: &str,
        value: Option<&str>,
        page: u64,
        limit: u64,
        row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<Value>,
    ) -> Result<(Vec<Value>, bool), LocalError> {
        let sql = format!(
            "{sql} LIMIT {} OFFSET {}",
            limit.saturating_add(1),
            page.saturating_mul(limit)
        );
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let mut rows: Vec<Value> = match value {
            Some(v) => stmt.query_map([v], &row),
            None => stmt.query_map([], &row),
        }
        .map_err(self.err())?
        .collect::<Result<_, _>>()
        .map_err(self.err())?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok((rows, more))
    }

    /// How many results of each outcome the store holds (for `/metrics`).
    ///
    /// # Errors
    /// SQLite refused.
    pub fn count_by_outcome(&self) -> Result<Vec<(String, u64)>, LocalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT outcome, count(*) FROM results GROUP BY outcome ORDER BY outcome")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resultsdb::payload::{Group, ResultPayload, Testcase};
    use std::collections::BTreeMap;

    fn entry(id: &str, testcase: &str, outcome: &str, item: &str, group: &str) -> Entry {
        let mut data = BTreeMap::new();
        data.insert("item".to_string(), DataValue::One(item.into()));
        data.insert("type".to_string(), DataValue::One("koji_build".into()));
        Entry {
            result_id: id.into(),
            payload: ResultPayload {
                outcome: outcome.into(),
                testcase: Testcase {
                    name: testcase.into(),
                    ref_url: Some("https://docs/t".into()),
                },
                groups: vec![Group {
                    uuid: group.into(),
                    description: Some("d".into()),
                    ref_url: Some("https://jobs/1".into()),
                }],
                note: Some("n".into()),
                ref_url: Some("https://logs/1".into()),
                data,
            },
            ambiguous: false,
        }
    }

    fn q(pairs: &[(&str, &str)]) -> ResultQuery {
        ResultQuery::parse(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn stores_once_and_answers_like_resultsdb() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LocalResults::open(&dir.path().join(FILE)).unwrap();
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let first = s
            .insert(
                &[
                    entry("r1", "dist.rpmlint", "PASSED", "htop-1-1.fc41", "g1"),
                    entry("r2", "dist.abicheck", "FAILED", "htop-1-1.fc41", "g1"),
                ],
                t,
            )
            .unwrap();
        let again = s
            .insert(
                &[entry("r1", "dist.rpmlint", "PASSED", "htop-1-1.fc41", "g1")],
                t,
            )
            .unwrap();
        assert_eq!(again, [first[0]], "a result reported twice is stored once");
        s.insert(
            &[
                entry("r3", "dist.rpmlint", "FAILED", "htop-1-1.fc41", "g2"),
                entry("r4", "dist.rpmlint", "PASSED", "grep-1-1.fc41", "g2"),
            ],
            t,
        )
        .unwrap();
        let (all, more) = s.results(&q(&[]), "http://x").unwrap();
        assert_eq!((all.len(), more), (4, false));
        assert_eq!(all[0]["id"], 4, "newest first");
        let r = &all[3];
        assert_eq!(r["testcase"]["name"], "dist.rpmlint");
        assert_eq!(r["testcase"]["ref_url"], "https://docs/t");
        assert_eq!(r["data"]["item"], json!(["htop-1-1.fc41"]));
        assert_eq!(r["groups"], json!(["g1"]));
        assert_eq!(r["href"], "http://x/api/v2.0/results/1");
        assert_eq!(r["submit_time"], "2023-11-14T22:13:20.000000");
        let htop = s.results(&q(&[("item", "htop-1-1.fc41")]), "").unwrap().0;
        assert_eq!(htop.len(), 3);
        let failed = s
            .results(&q(&[("item", "htop-1-1.fc41"), ("outcome", "failed")]), "")
            .unwrap()
            .0;
        assert_eq!(failed.len(), 2);
        assert_eq!(
            s.results(&q(&[("item:like", "grep-*")]), "")
                .unwrap()
                .0
                .len(),
            1
        );
        assert_eq!(
            s.results(&q(&[("testcases:like", "dist.abi*")]), "")
                .unwrap()
                .0
                .len(),
            1
        );
        assert_eq!(s.results(&q(&[("groups", "g2")]), "").unwrap().0.len(), 2);
        let (page, more) = s.results(&q(&[("limit", "3")]), "").unwrap();
        assert_eq!((page.len(), more), (3, true));
        assert_eq!(
            s.results(&q(&[("limit", "3"), ("page", "1")]), "")
                .unwrap()
                .0
                .len(),
            1
        );
        let latest = s.latest(&q(&[("item", "htop-1-1.fc41")]), "").unwrap();
        let names: Vec<&str> = latest
            .iter()
            .map(|r| r["testcase"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["dist.rpmlint", "dist.abicheck"]);
        assert_eq!(latest[0]["outcome"], "FAILED", "the newest of its testcase");
        assert_eq!(s.testcases(NameFilter::Any, 0, 20, "").unwrap().0.len(), 2);
        assert_eq!(
            s.testcases(NameFilter::Like("dist.*"), 0, 1, "").unwrap(),
            (
                vec![s
                    .testcases(NameFilter::Exact("dist.abicheck"), 0, 1, "")
                    .unwrap()
                    .0[0]
                    .clone()],
                true
            )
        );
        assert!(
            s.testcases(NameFilter::Exact("dist.*"), 0, 20, "")
                .unwrap()
                .0
                .is_empty(),
            "`name` is exact"
        );
        let groups = s.groups(NameFilter::Any, 0, 20, "").unwrap().0;
        assert_eq!(groups[0]["uuid"], "g2");
        assert_eq!(groups[0]["results_count"], 2);
        assert_eq!(
            s.count_by_outcome().unwrap(),
            [("FAILED".to_string(), 2), ("PASSED".to_string(), 2)]
        );
        assert!(s.result(2, "").unwrap().is_some());
        assert!(s.result(99, "").unwrap().is_none());
    }

    #[test]
    fn bad_parameters_are_named_as_resultsdb_names_them() {
        let parse = |k: &str, v: &str| ResultQuery::parse(&[(k.to_string(), v.to_string())]);
        assert_eq!(parse("outcome", "GREAT").unwrap_err().name, "outcome");
        assert_eq!(parse("since", "yesterday").unwrap_err().name, "since");
        assert_eq!(parse("page", "x").unwrap_err().name, "page");
        assert_eq!(parse("limit", "-1").unwrap_err().name, "limit");
        let ok = parse("since", "2026-01-02,2026-01-03T04:05:06Z").unwrap();
        assert_eq!(
            ok.since,
            Some((
                "2026-01-02T00:00:00.000000".into(),
                Some("2026-01-03T04:05:06.000000".into())
            ))
        );
    }

    #[test]
    fn workers_storing_at_once_into_a_new_store_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for i in 0..5 {
                        let id = format!("w{w}-{i}");
                        LocalResults::open(&path)
                            .unwrap()
                            .insert(
                                &[entry(&id, "dist.t", "PASSED", "htop-1-1.fc41", &id)],
                                SystemTime::now(),
                            )
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let s = LocalResults::open_read_only(&path).unwrap();
        let n: i64 = s
            .conn
            .query_row("SELECT count(*) FROM results", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 20);
    }
}
