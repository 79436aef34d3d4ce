//! Reporting a run hands back instead of doing. A run on a remote machine gets no
//! credentials (they never leave the machine that has them), so its `resultsdb`
//! and `bodhi_comment` directives record what they would send in a [`Collector`];
//! `run-job` hands that back in its report file, which lies outside anything the
//! task can write; and the machine that started the run sends it with
//! [`deliver`], through the same flows the directives use.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::bodhi::DoReport;
use crate::results::CheckDetail;
use crate::resultsdb::{Entry, Reporting};

/// What a run left for another machine to send.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Deferred {
    /// Results for ResultsDB, in the order the directives made them.
    #[serde(default)]
    pub resultsdb: Vec<Entry>,
    /// What each `bodhi_comment` action was asked to comment on.
    #[serde(default)]
    pub bodhi: Vec<Comments>,
}

impl Deferred {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.resultsdb.is_empty() && self.bodhi.is_empty()
    }
}

/// One `bodhi_comment` action's request, without the Bodhi it goes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comments {
    /// Every result, or only changes.
    pub doreport: DoReport,
    /// The results.
    pub details: Vec<CheckDetail>,
    /// The task's checkname.
    pub checkname: String,
    /// The run's arch.
    pub arch: String,
    /// Each result's log URL, in the order of `details`.
    pub log_urls: Vec<String>,
    /// What each update's comment says below the result, by alias.
    #[serde(default)]
    pub notes: crate::bodhi::Notes,
}

/// Where a run's directives put what they defer; shared by the run's actions.
#[derive(Debug, Clone, Default)]
pub struct Collector(Arc<Mutex<Deferred>>);

impl Collector {
    /// Adds results for ResultsDB.
    pub fn results(&self, entries: Vec<Entry>) {
        self.with(|d| d.resultsdb.extend(entries));
    }

    /// Adds one `bodhi_comment` request.
    pub fn comments(&self, comments: Comments) {
        self.with(|d| d.bodhi.push(comments));
    }

    /// Everything collected so far, leaving the collector empty.
    pub fn take(&self) -> Deferred {
        let mut out = Deferred::default();
        self.with(|d| std::mem::swap(d, &mut out));
        out
    }

    fn with(&self, f: impl FnOnce(&mut Deferred)) {
        // A poisoned lock still holds what was collected before the panic.
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }
}

/// What [`deliver`] did, for the run's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// One line per thing done: "3 results sent to ResultsDB", ...
    pub lines: Vec<String>,
}

/// Sends what a remote run deferred, as this machine's `reporting` says, exactly as
/// the directives would have: namespaces checked against the task in `taskdir`
/// first, ResultsDB through the spool (or the embedded store, or a file in
/// `artifacts`), Bodhi comments posted (or written to `artifacts`).
///
/// # Errors
/// What could not be sent, and where it is kept when it was kept (the spool).
pub fn deliver(
    deferred: &Deferred,
    reporting: &Reporting,
    taskdir: &Path,
    artifacts: &Path,
) -> Result<Delivered, Undelivered> {
    let mut done = Delivered::default();
    if !deferred.resultsdb.is_empty() {
        if let Some(path) = &reporting.namespaces {
            let names = deferred
                .resultsdb
                .iter()
                .map(|e| e.payload.testcase.name.as_str());
            crate::namespaces::check_all(path, taskdir, names).map_err(|e| Undelivered {
                kind: e.kind(),
                message: format!("resultsdb: nothing was sent: {e}"),
            })?;
        }
        let mut out = Vec::new();
        crate::resultsdb::submit(&deferred.resultsdb, reporting, artifacts, &mut out)
            .map_err(Undelivered::from)?;
        done.lines.extend(lines(&out));
    }
    for request in &deferred.bodhi {
        let mut out = Vec::new();
        let log_url = |d: &CheckDetail| {
            request
                .details
                .iter()
                .position(|x| std::ptr::eq(x, d))
                .and_then(|i| request.log_urls.get(i).cloned())
                .unwrap_or_default()
        };
        crate::bodhi::submit(
            &crate::bodhi::Submission {
                doreport: request.doreport,
                details: &request.details,
                checkname: &request.checkname,
                arch: &request.arch,
                log_url: &log_url,
                notes: &request.notes,
            },
            reporting,
            artifacts,
            &mut out,
        )
        .map_err(Undelivered::from)?;
        done.lines.extend(lines(&out));
    }
    Ok(done)
}

/// What [`deliver`] could not send, and the named failure it is, if any.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Undelivered {
    /// `NAMESPACE_REFUSED` when the task may not post a result's name.
    pub kind: Option<crate::failure::FailureKind>,
    /// Why, and where what was kept is.
    pub message: String,
}

impl From<String> for Undelivered {
    fn from(message: String) -> Self {
        Self {
            kind: None,
            message,
        }
    }
}

fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deferred result in a namespace the task may not post into is refused here
    /// as the directive would refuse it there: named, and nothing written.
    #[test]
    fn deferred_results_meet_this_machines_namespaces() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("namespaces.yaml");
        std::fs::write(
            &rules,
            "namespaces_safe: [scratch]\nnamespaces_whitelist: {}\n",
        )
        .unwrap();
        let entry = |name: &str| -> Entry {
            serde_json::from_value(serde_json::json!({
                "result_id": format!("r-{name}"),
                "payload": {"outcome": "PASSED", "testcase": {"name": name}, "groups": [],
                            "note": null, "ref_url": null, "data": {}},
            }))
            .unwrap()
        };
        let reporting = Reporting {
            namespaces: Some(rules),
            ..Reporting::default()
        };
        let refused = Deferred {
            resultsdb: vec![entry("scratch.ok"), entry("dist.rpmlint")],
            bodhi: Vec::new(),
        };
        let e = deliver(&refused, &reporting, dir.path(), dir.path()).unwrap_err();
        assert_eq!(e.kind, Some(crate::namespaces::NAMESPACE_REFUSED));
        assert!(
            e.message.contains("nothing was sent") && e.message.contains("dist"),
            "{e}"
        );
        assert!(!dir.path().join("resultsdb-payloads.json").exists());
        // Allowed names go where this machine's reporting says (here: a file).
        let allowed = Deferred {
            resultsdb: vec![entry("scratch.ok")],
            bodhi: Vec::new(),
        };
        let done = deliver(&allowed, &reporting, dir.path(), dir.path()).unwrap();
        assert!(dir.path().join("resultsdb-payloads.json").is_file());
        assert!(done.lines[0].contains("would have been sent"), "{done:?}");
    }

    #[test]
    fn a_collector_is_shared_and_emptied_by_take() {
        let c = Collector::default();
        let other = c.clone();
        other.comments(Comments {
            doreport: DoReport::All,
            details: Vec::new(),
            checkname: "dist.x".into(),
            arch: "x86_64".into(),
            log_urls: Vec::new(),
            notes: crate::bodhi::Notes::new(),
        });
        let taken = c.take();
        assert_eq!(taken.bodhi.len(), 1);
        assert!(c.take().is_empty());
        let json = serde_json::to_value(&taken).unwrap();
        assert_eq!(json["bodhi"][0]["doreport"], "all");
    }
}
