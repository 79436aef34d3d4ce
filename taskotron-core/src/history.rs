//! Each run kept in the history store (`taskotron-history`) and compared with
//! the latest finished run of the same task for the previous build of the same
//! package on the same arch: the run's regressions.

use std::path::{Path, PathBuf};

use taskotron_history::{CaseRow, ResultRow, Run, RunInfo, Store};

use crate::dict::Regressions;
use crate::results::Case;
use crate::ExecutionReport;

/// The store's file in the state directory.
pub const FILE: &str = "history.sqlite";

/// The history store of `state_dir`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// The history form of one of a run's cases, `check` the suite it came from.
pub fn case_row(check: &str, case: &Case) -> CaseRow {
    CaseRow {
        check: case.classname.clone().unwrap_or_else(|| check.to_string()),
        name: case.name.clone(),
        status: case.status.as_str().to_string(),
        message: case.message.clone(),
    }
}

/// The history form of `report` with its `cases`.
pub fn run_of(report: &ExecutionReport, cases: Vec<CaseRow>, finished_at: i64) -> Run {
    let nvr = (report.item_type == crate::ItemType::KojiBuild)
        .then(|| taskotron_model::item::split_nvr(&report.item))
        .flatten();
    Run {
        info: RunInfo {
            run_id: report.run_id.clone(),
            task: report.checkname.clone(),
            item: report.item.clone(),
            item_type: report.item_type.as_str().to_string(),
            package: nvr.map(|(n, _, _)| n.to_string()),
            evr: nvr.map(|(_, v, r)| format!("{v}-{r}")),
            arch: report.arch.as_str().to_string(),
            finished_at,
            execution_status: if report.is_ok() { "OK" } else { "NOT_OK" }.into(),
            outcome: report.outcome.map(|o| o.as_str().to_string()),
            artifacts: report.artifacts.display().to_string(),
        },
        results: report
            .results
            .iter()
            .map(|d| ResultRow {
                checkname: d
                    .checkname
                    .clone()
                    .unwrap_or_else(|| report.checkname.clone()),
                outcome: d.outcome.as_str().to_string(),
                note: (!d.note.is_empty()).then(|| d.note.clone()),
            })
            .collect(),
        cases,
    }
}

/// What the history says of a run once it is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Its tests against the previous build's run, when there is one.
    pub regressions: Option<Regressions>,
    /// The tests known to flip on its item and arch, this run included.
    pub flaky: Vec<taskotron_model::dict::FlakyTest>,
}

/// Keeps `run` in the store of `state_dir`, compares it with the previous
/// build's run and finds the tests that flip on its item and arch; `Err` says
/// why the history could not be kept (the run does not fail for it).
///
/// # Errors
/// The store cannot be opened or written.
pub fn record(state_dir: &Path, run: &Run) -> Result<Recorded, String> {
    std::fs::create_dir_all(state_dir)
        .map_err(|e| format!("cannot create `{}`: {e}", state_dir.display()))?;
    let mut store = Store::open(&path(state_dir)).map_err(|e| e.to_string())?;
    store.record(run).map_err(|e| e.to_string())?;
    let i = &run.info;
    let flaky = if run.cases.is_empty() {
        Vec::new()
    } else {
        store
            .flaky_on(&i.task, &i.item, &i.arch)
            .map_err(|e| e.to_string())?
    };
    let regressions = match store.previous(i).map_err(|e| e.to_string())? {
        None => None,
        Some(previous) => store
            .run(&previous.run_id)
            .map_err(|e| e.to_string())?
            .map(|base| taskotron_history::compare(&base, run)),
    };
    Ok(Recorded { regressions, flaky })
}
