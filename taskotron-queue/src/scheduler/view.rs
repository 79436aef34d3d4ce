//! What the web pages and the metrics read from the queue: pages of jobs filtered as
//! people filter them, counts by state and arch, and the durations of finished runs.
//! Read-only; each query is one statement on an index, so that a page of the most
//! recent jobs costs the same with 100 or 100,000 jobs in the file.

use rusqlite::types::Value;

use super::queue::{JobState, Queue, QueueError, QueuedJob};
use taskotron_model::Arch;

/// Which jobs a page lists; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only this task.
    pub task: Option<String>,
    /// Only this item.
    pub item: Option<String>,
    /// Only this arch.
    pub arch: Option<Arch>,
}

/// The upper bounds (seconds) of the job duration histogram's buckets.
pub const DURATION_BUCKETS: [f64; 10] = [
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// Finished runs' durations, bucketed for a Prometheus histogram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Durations {
    /// How many runs took at most each of [`DURATION_BUCKETS`] (cumulative).
    pub buckets: Vec<u64>,
    /// How many runs in all.
    pub count: u64,
    /// Their total, in seconds.
    pub sum: f64,
}

impl Queue {
    /// The jobs `filter` selects, newest first, skipping `offset` and at most
    /// `limit` of them.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn page(
        &self,
        filter: &JobFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<QueuedJob>, QueueError> {
        let mut clauses = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        let mut add = |column: &str, value: String| {
            values.push(Value::Text(value));
            clauses.push(format!("{column} = ?{}", values.len()));
        };
        if let Some(s) = filter.state {
            add("state", s.stored().to_string());
        }
        if let Some(t) = &filter.task {
            add("taskname", t.clone());
        }
        if let Some(i) = &filter.item {
            add("item", i.clone());
        }
        if let Some(a) = filter.arch {
            add("arch", a.to_string());
        }
        let condition = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        values.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        let n = values.len();
        self.select(
            &format!(
                "{condition} ORDER BY scheduled_at DESC, rowid DESC LIMIT ?{} OFFSET ?{n}",
                n - 1
            ),
            values,
        )
    }

    /// How many jobs are in each state (every state, zero included).
    ///
    /// # Errors
    /// SQLite refused.
    pub fn count_by_state(&self) -> Result<Vec<(JobState, u64)>, QueueError> {
        let counted = self.grouped("SELECT state, count(*) FROM jobs GROUP BY state")?;
        Ok(JobState::ALL
            .into_iter()
            .map(|s| {
                let n = counted
                    .iter()
                    .find(|(k, _)| k == s.stored())
                    .map_or(0, |(_, n)| *n);
                (s, n)
            })
            .collect())
    }

    /// How many jobs wait (SCHEDULED) for each arch that has any.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn depth_by_arch(&self) -> Result<Vec<(String, u64)>, QueueError> {
        self.grouped(
            "SELECT arch, count(*) FROM jobs WHERE state = 'SCHEDULED' GROUP BY arch ORDER BY arch",
        )
    }

    /// The durations of the finished runs, bucketed.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn durations(&self) -> Result<Durations, QueueError> {
        let mut sql = String::from("SELECT count(*), coalesce(sum(d), 0)");
        for b in DURATION_BUCKETS {
            sql.push_str(&format!(", count(*) FILTER (WHERE d <= {})", b * 1000.0));
        }
        sql.push_str(
            " FROM (SELECT json_extract(report, '$.duration_ms') AS d FROM jobs \
             WHERE state = 'FINISHED' AND report IS NOT NULL)",
        );
        self.read(|conn| {
            conn.query_row(&sql, [], |r| {
                let count: i64 = r.get(0)?;
                let sum: f64 = r.get(1)?;
                let buckets = (0..DURATION_BUCKETS.len())
                    .map(|i| {
                        r.get::<_, i64>(i + 2)
                            .map(|n| u64::try_from(n).unwrap_or(0))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Durations {
                    buckets,
                    count: u64::try_from(count).unwrap_or(0),
                    sum: sum / 1000.0,
                })
            })
        })
    }

    /// How many results the finished runs' reports hold, by outcome.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn outcomes(&self) -> Result<Vec<(String, u64)>, QueueError> {
        self.grouped(
            "SELECT json_extract(r.value, '$.outcome'), count(*) \
             FROM jobs, json_each(jobs.report, '$.results') AS r \
             WHERE jobs.state = 'FINISHED' GROUP BY 1 ORDER BY 1",
        )
    }

    /// How many completed jobs' runs ended with each execution status and failure
    /// kind: `(OK|NOT_OK, kind or "", count)`, what an operator alerts on.
    ///
    /// # Errors
    /// SQLite refused.
    pub fn runs_by_status(&self) -> Result<Vec<(String, String, u64)>, QueueError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT json_extract(report, '$.execution_status'), \
                 coalesce(json_extract(report, '$.failure.kind'), ''), count(*) \
                 FROM jobs WHERE state = 'FINISHED' AND report IS NOT NULL \
                 GROUP BY 1, 2 ORDER BY 1, 2",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get(1)?,
                    u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                ))
            })?;
            rows.collect()
        })
    }

    /// Rows of `(text, count)`.
    fn grouped(&self, sql: &str) -> Result<Vec<(String, u64)>, QueueError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use taskotron_model::{ItemType, JobRequest};

    fn request(item: &str, task: &str, arch: Arch) -> JobRequest {
        JobRequest {
            item: item.into(),
            item_type: ItemType::KojiBuild,
            taskname: task.into(),
            arch,
            source: None,
            plan: None,
        }
    }

    #[test]
    fn pages_are_newest_first_and_filters_narrow_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut q = Queue::open(&dir.path().join("queue.sqlite")).unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        for i in 0..5u64 {
            let arch = if i % 2 == 0 {
                Arch::X86_64
            } else {
                Arch::Aarch64
            };
            q.enqueue(
                &[request(&format!("p{i}-1-1.fc41"), "rpmlint", arch)],
                t0 + Duration::from_secs(i),
            )
            .unwrap();
        }
        let all = q.page(&JobFilter::default(), 0, 3).unwrap();
        let items: Vec<&str> = all.iter().map(|j| j.request.item.as_str()).collect();
        assert_eq!(items, ["p4-1-1.fc41", "p3-1-1.fc41", "p2-1-1.fc41"]);
        let next = q.page(&JobFilter::default(), 3, 3).unwrap();
        assert_eq!(next.len(), 2);
        let arm = JobFilter {
            arch: Some(Arch::Aarch64),
            ..JobFilter::default()
        };
        assert_eq!(q.page(&arm, 0, 10).unwrap().len(), 2);
        let one = JobFilter {
            item: Some("p0-1-1.fc41".into()),
            task: Some("rpmlint".into()),
            state: Some(JobState::Scheduled),
            arch: None,
        };
        assert_eq!(q.page(&one, 0, 10).unwrap().len(), 1);
        let none = JobFilter {
            task: Some("other".into()),
            ..JobFilter::default()
        };
        assert!(q.page(&none, 0, 10).unwrap().is_empty());
        let counts = q.count_by_state().unwrap();
        assert_eq!(counts[0], (JobState::Scheduled, 5));
        assert_eq!(counts[2], (JobState::Finished, 0));
        assert_eq!(
            q.depth_by_arch().unwrap(),
            [("aarch64".to_string(), 2), ("x86_64".to_string(), 3)]
        );
        assert_eq!(q.durations().unwrap().count, 0);
    }
}
