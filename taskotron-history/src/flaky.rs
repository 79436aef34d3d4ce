//! Flaky tests: a test whose outcome changes between runs of the same task for
//! the same item and arch (a retried job, a rerun), counted in flips. Only
//! passing and failing count (`error` fails; `skipped` and `todo` say
//! nothing), so a test skipped in between does not make a flip.

use rusqlite::params;
use serde::Serialize;
use taskotron_model::dict::FlakyTest;

use crate::store::{HistoryError, Store};

/// A test flaky somewhere in a task: on how many items and arches, with how many
/// flips in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlakyCase {
    /// The task.
    pub task: String,
    /// The check or suite.
    pub check: String,
    /// The test's name.
    pub name: String,
    /// Flips over every item and arch.
    pub flips: u32,
    /// The items and arches (`htop-3.3.0-1.fc41 x86_64`) it flipped on.
    pub on: u32,
}

/// Each case's outcome as a pass (0) or a failure (1), and whether it differs
/// from the same test's previous run in its partition; `{where}` picks the runs.
fn flips_sql(partition: &str, filter: &str) -> String {
    format!(
        "SELECT r.task, r.item, r.arch, c.check_name, c.name, \
                CASE WHEN lag(c.failing) OVER w IS NOT NULL AND lag(c.failing) OVER w != c.failing THEN 1 ELSE 0 END AS flip \
         FROM (SELECT run_id, check_name, name, \
                      CASE status WHEN 'passed' THEN 0 WHEN 'failed' THEN 1 WHEN 'error' THEN 1 END AS failing \
               FROM cases) c \
         JOIN runs r ON r.run_id = c.run_id \
         WHERE c.failing IS NOT NULL AND {filter} \
         WINDOW w AS (PARTITION BY {partition}, c.check_name, c.name ORDER BY r.finished_at, r.run_id)"
    )
}

impl Store {
    /// The flaky tests of `task` on `item` and `arch`, most flips first.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn flaky_on(
        &self,
        task: &str,
        item: &str,
        arch: &str,
    ) -> Result<Vec<FlakyTest>, HistoryError> {
        let sql = format!(
            "SELECT check_name, name, sum(flip), count(*) FROM ({}) \
             GROUP BY check_name, name HAVING sum(flip) > 0 \
             ORDER BY sum(flip) DESC, check_name, name",
            flips_sql("r.task", "r.task = ?1 AND r.item = ?2 AND r.arch = ?3")
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![task, item, arch], |r| {
                Ok(FlakyTest {
                    check: r.get(0)?,
                    name: r.get(1)?,
                    flips: r.get(2)?,
                    runs: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The flaky tests of `task` (every task's with `None`) over all items and
    /// arches, most flips first.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn flaky(&self, task: Option<&str>) -> Result<Vec<FlakyCase>, HistoryError> {
        let sql = format!(
            "SELECT task, check_name, name, sum(flips), count(*) FROM ( \
               SELECT task, item, arch, check_name, name, sum(flip) AS flips FROM ({}) \
               GROUP BY task, item, arch, check_name, name HAVING sum(flip) > 0) \
             GROUP BY task, check_name, name \
             ORDER BY sum(flips) DESC, task, check_name, name",
            flips_sql("r.task, r.item, r.arch", "(?1 IS NULL OR r.task = ?1)")
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![task], |r| {
                Ok(FlakyCase {
                    task: r.get(0)?,
                    check: r.get(1)?,
                    name: r.get(2)?,
                    flips: r.get(3)?,
                    on: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CaseRow, ResultRow, Run, RunInfo};

    fn run(id: &str, item: &str, arch: &str, at: i64, cases: &[(&str, &str)]) -> Run {
        Run {
            info: RunInfo {
                run_id: id.into(),
                task: "dist.t".into(),
                item: item.into(),
                item_type: "koji_build".into(),
                package: Some("htop".into()),
                evr: item.strip_prefix("htop-").map(str::to_string),
                arch: arch.into(),
                finished_at: at,
                execution_status: "OK".into(),
                outcome: Some("PASSED".into()),
                artifacts: String::new(),
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

    #[test]
    fn flips_are_counted_per_item_and_arch_and_skips_say_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("history.sqlite")).unwrap();
        let a = "htop-3.3.0-1.fc41";
        // Reruns of one build on x86_64: `net` passes, fails, is skipped, passes
        // (2 flips); `disk` fails every time (not flaky); `cpu` errors then passes.
        for (i, (net, cpu)) in [
            ("passed", "error"),
            ("failed", "passed"),
            ("skipped", "passed"),
            ("passed", "passed"),
        ]
        .iter()
        .enumerate()
        {
            let at = i64::try_from(i).unwrap();
            store
                .record(&run(
                    &format!("x{i}"),
                    a,
                    "x86_64",
                    at,
                    &[("net", net), ("disk", "failed"), ("cpu", cpu)],
                ))
                .unwrap();
        }
        // Another build: a pass after the first build's fail is no flip (a
        // different item), and aarch64 is apart too.
        store
            .record(&run(
                "y0",
                "htop-3.4.0-1.fc41",
                "x86_64",
                10,
                &[("net", "failed")],
            ))
            .unwrap();
        store
            .record(&run("z0", a, "aarch64", 11, &[("net", "failed")]))
            .unwrap();
        store
            .record(&run("z1", a, "aarch64", 12, &[("net", "passed")]))
            .unwrap();
        let on = store.flaky_on("dist.t", a, "x86_64").unwrap();
        let named: Vec<(&str, u32, u32)> = on
            .iter()
            .map(|f| (f.name.as_str(), f.flips, f.runs))
            .collect();
        assert_eq!(named, [("net", 2, 3), ("cpu", 1, 4)]);
        assert!(store
            .flaky_on("dist.t", "htop-3.4.0-1.fc41", "x86_64")
            .unwrap()
            .is_empty());
        let all = store.flaky(Some("dist.t")).unwrap();
        let named: Vec<(&str, u32, u32)> = all
            .iter()
            .map(|f| (f.name.as_str(), f.flips, f.on))
            .collect();
        assert_eq!(named, [("net", 3, 2), ("cpu", 1, 1)]);
        assert!(store.flaky(Some("other")).unwrap().is_empty());
        assert_eq!(store.flaky(None).unwrap(), all);
    }
}
