//! Waivers, kept beside the history they waive in the same store: what
//! `taskotron waive` records and `/api/v1.0/waivers` serves in WaiverDB's shape.
//! A waiver is never changed or deleted; a newer one (`waived: false` to revoke)
//! stands over it, as in WaiverDB.

use rusqlite::params;
use rusqlite::types::Value as Sql;
use taskotron_gating::request::Subject;
use taskotron_gating::{NewWaiver, Waiver};

use crate::store::{HistoryError, Store};

/// Which waivers a listing or `+filtered` selects; `None` is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaiverFilter {
    /// `subject_type`.
    pub subject_type: Option<String>,
    /// `subject_identifier`.
    pub subject_identifier: Option<String>,
    /// `testcase`.
    pub testcase: Option<String>,
    /// `product_version`.
    pub product_version: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// Only those recorded at or after this time.
    pub since: Option<String>,
}

const COLUMNS: &str = "id, subject_type, subject_identifier, testcase, product_version, waived, username, comment, scenario, timestamp";

fn waiver(r: &rusqlite::Row<'_>) -> rusqlite::Result<Waiver> {
    Ok(Waiver {
        id: r.get(0)?,
        waiver: NewWaiver {
            subject: Subject::new(r.get::<_, String>(1)?, r.get::<_, String>(2)?),
            testcase: r.get(3)?,
            product_version: r.get(4)?,
            waived: r.get::<_, i64>(5)? != 0,
            comment: r.get(7)?,
            scenario: r.get(8)?,
        },
        username: r.get(6)?,
        timestamp: r.get(9)?,
    })
}

impl Store {
    /// Records a waiver by `username` at `timestamp` (ISO 8601, UTC).
    ///
    /// # Errors
    /// SQLite refused; nothing was recorded.
    pub fn waive(
        &mut self,
        w: &NewWaiver,
        username: &str,
        timestamp: &str,
    ) -> Result<Waiver, HistoryError> {
        self.conn
            .execute(
                &format!("INSERT INTO waivers ({COLUMNS}) VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    w.subject.kind,
                    w.subject.identifier,
                    w.testcase,
                    w.product_version,
                    i64::from(w.waived),
                    username,
                    w.comment,
                    w.scenario,
                    timestamp
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(Waiver {
            id: self.conn.last_insert_rowid(),
            waiver: w.clone(),
            username: username.to_string(),
            timestamp: timestamp.to_string(),
        })
    }

    /// Whether the store has a waivers table (a store older than waivers, opened
    /// read-only, has none and so no waivers).
    fn has_waivers(&self) -> Result<bool, HistoryError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'waivers'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Waivers `filters` select (any of them), newest first; with `obsolete`
    /// false, only the newest per subject, testcase, product version and scenario
    /// (what stands), as WaiverDB's `+filtered` answers by default. `limit` and
    /// `offset` page the listing.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn waivers(
        &self,
        filters: &[WaiverFilter],
        obsolete: bool,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Waiver>, HistoryError> {
        if !self.has_waivers()? {
            return Ok(Vec::new());
        }
        let mut args: Vec<Sql> = Vec::new();
        let mut ors = Vec::new();
        for f in filters {
            let mut ands = vec!["1".to_string()];
            for (col, v) in [
                ("subject_type", &f.subject_type),
                ("subject_identifier", &f.subject_identifier),
                ("testcase", &f.testcase),
                ("product_version", &f.product_version),
                ("username", &f.username),
            ] {
                if let Some(v) = v {
                    args.push(Sql::Text(v.clone()));
                    ands.push(format!("{col} = ?{}", args.len()));
                }
            }
            if let Some(s) = &f.since {
                args.push(Sql::Text(s.clone()));
                ands.push(format!("timestamp >= ?{}", args.len()));
            }
            ors.push(format!("({})", ands.join(" AND ")));
        }
        let cond = if ors.is_empty() {
            "1".to_string()
        } else {
            ors.join(" OR ")
        };
        let standing = if obsolete {
            String::new()
        } else {
            " AND id IN (SELECT max(id) FROM waivers GROUP BY subject_type, subject_identifier, testcase, product_version, coalesce(scenario, ''))".to_string()
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM waivers WHERE ({cond}){standing} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), waiver)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One waiver.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn waiver(&self, id: i64) -> Result<Option<Waiver>, HistoryError> {
        if !self.has_waivers()? {
            return Ok(None);
        }
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM waivers WHERE id = ?1"),
                [id],
                waiver,
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(item: &str, testcase: &str, waived: bool) -> NewWaiver {
        NewWaiver {
            subject: Subject::new("koji_build", item),
            testcase: testcase.into(),
            product_version: "fedora-41".into(),
            waived,
            comment: "flaky on aarch64".into(),
            scenario: None,
        }
    }

    #[test]
    fn the_newest_stands_and_obsolete_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("h.sqlite")).unwrap();
        let a = s
            .waive(&new("a-1-1", "t", true), "qa", "2026-12-01T00:00:00")
            .unwrap();
        s.waive(&new("b-1-1", "t", true), "qa", "2026-12-01T00:00:01")
            .unwrap();
        let c = s
            .waive(&new("a-1-1", "t", false), "lead", "2026-12-02T00:00:00")
            .unwrap();
        let only_a = [WaiverFilter {
            subject_identifier: Some("a-1-1".into()),
            product_version: Some("fedora-41".into()),
            ..WaiverFilter::default()
        }];
        let standing = s.waivers(&only_a, false, 0, 100).unwrap();
        assert_eq!(standing.iter().map(|w| w.id).collect::<Vec<_>>(), [c.id]);
        assert!(!standing[0].waiver.waived);
        let all = s.waivers(&only_a, true, 0, 100).unwrap();
        assert_eq!(all.iter().map(|w| w.id).collect::<Vec<_>>(), [c.id, a.id]);
        assert_eq!(s.waivers(&[], true, 0, 100).unwrap().len(), 3);
        assert_eq!(s.waivers(&[], true, 1, 1).unwrap().len(), 1);
        assert_eq!(s.waiver(a.id).unwrap().unwrap(), a);
        let ro = Store::open_read_only(&dir.path().join("h.sqlite")).unwrap();
        assert_eq!(ro.waivers(&[], false, 0, 100).unwrap().len(), 2);
    }
}
