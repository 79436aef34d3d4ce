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
///
/// A case that stands for a result (ResultYAML, named by its item) is kept by
/// what stays the same from build to build: a Koji build's package name, else
/// the item's type. Named by the item itself, every build's run would have
/// only new tests and the previous build's would all be gone.
pub fn case_row(check: &str, case: &Case) -> CaseRow {
    let property = |key: &str| {
        case.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let name = match (property("outcome"), property("type")) {
        (Some(_), Some("koji_build")) => taskotron_model::item::split_nvr(&case.name)
            .map_or_else(|| case.name.clone(), |(n, _, _)| n.to_string()),
        (Some(_), Some(kind)) => kind.to_string(),
        _ => case.name.clone(),
    };
    CaseRow {
        check: case.classname.clone().unwrap_or_else(|| check.to_string()),
        name,
        status: case.status.as_str().to_string(),
        message: case.message.clone(),
    }
}

/// What a run is, for its history, before it has finished: a Koji build's
/// package and version-release taken from its N-V-R.
pub fn run_info(run_id: &str, task: &str, item: &str, item_type: &str, arch: &str) -> RunInfo {
    let nvr = (item_type == "koji_build")
        .then(|| taskotron_model::item::split_nvr(item))
        .flatten();
    RunInfo {
        run_id: run_id.to_string(),
        task: task.to_string(),
        item: item.to_string(),
        item_type: item_type.to_string(),
        package: nvr.map(|(n, _, _)| n.to_string()),
        evr: nvr.map(|(_, v, r)| format!("{v}-{r}")),
        arch: arch.to_string(),
        ..RunInfo::default()
    }
}

/// The Koji builds `details` are about, each once, in order: an update's
/// builds when no directive listed them (a task that asks Bodhi itself).
pub fn builds_named(details: &[crate::results::CheckDetail]) -> Vec<String> {
    let mut builds: Vec<String> = Vec::new();
    for d in details {
        if d.item_type.as_deref() == Some("koji_build") && !builds.contains(&d.item) {
            builds.push(d.item.clone());
        }
    }
    builds
}

/// What a run has done so far that its history keeps, handed from action to
/// action ([`crate::directive::Context::so_far`]).
#[derive(Debug, Clone, Default)]
pub struct SoFar {
    /// Every test case read so far.
    pub cases: Vec<CaseRow>,
    /// The builds (N-V-Rs) the run's item stands for: an update's, once a
    /// directive has listed them.
    pub builds: Vec<String>,
}

/// The history form of `report` with its `cases` and, for an update, its
/// `builds` (when no directive listed them: the builds its results are about).
pub fn run_of(report: &ExecutionReport, so_far: SoFar, finished_at: i64) -> Run {
    let SoFar { cases, mut builds } = so_far;
    if report.item_type != crate::ItemType::BodhiUpdate {
        builds.clear();
    } else if builds.is_empty() {
        builds = builds_named(&report.results);
    }
    let info = run_info(
        &report.run_id,
        &report.checkname,
        &report.item,
        report.item_type.as_str(),
        report.arch.as_str(),
    );
    Run {
        info: RunInfo {
            finished_at,
            execution_status: if report.is_ok() { "OK" } else { "NOT_OK" }.into(),
            outcome: report.outcome.map(|o| o.as_str().to_string()),
            artifacts: report.artifacts.display().to_string(),
            builds,
            ..info
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

/// The regressions of a run still going on, from what it has done `so_far`:
/// `info` says what the run is (its builds are taken from `so_far`). None when
/// there is no store, no previous run, or the store cannot be read: a comment
/// goes out without the line rather than not at all.
pub fn regressions_so_far(state_dir: &Path, info: &RunInfo, so_far: &SoFar) -> Option<Regressions> {
    let store = Store::open_read_only(&path(state_dir)).ok()?;
    let mut info = info.clone();
    if info.builds.is_empty() {
        info.builds.clone_from(&so_far.builds);
    }
    let previous = store.previous(&info).ok()??;
    let base = store.run(&previous.run_id).ok()??;
    Some(taskotron_history::compare_cases(&base, &so_far.cases))
}
