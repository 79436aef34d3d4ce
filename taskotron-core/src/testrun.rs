//! `taskotron test` as a library: find the task directories with test cases, name
//! and filter their cases, and run each one against services the caller starts (the
//! mock services are not this crate's: the CLI links them behind a feature), judged
//! by the case's `expect`. The CLI prints; nothing here writes to a terminal.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::ports::Ports;
use crate::runner::{self, Observer, RunOptions};
use crate::tasktest::{Case, Suite, FILE};

/// Task directories under `task_path` that have a `tests.yaml`, sorted.
pub fn discover(task_path: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = task_path
        .iter()
        .filter_map(|p| std::fs::read_dir(p).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(FILE).is_file())
        .collect();
    dirs.sort();
    dirs
}

/// The suites found in the directories asked for, and the task directories that
/// have no `tests.yaml` (no case of theirs runs; that is no error, since "no test
/// case found" is its own exit code).
#[derive(Debug, Default)]
pub struct Found {
    /// Each directory with its suite.
    pub suites: Vec<(PathBuf, Suite)>,
    /// Directories without a `tests.yaml`.
    pub without: Vec<PathBuf>,
}

/// The suites of `dirs`.
///
/// # Errors
/// A path that is no directory, and every invalid `tests.yaml`, as diagnostics.
pub fn load(dirs: &[PathBuf]) -> Result<Found, Vec<Diagnostic>> {
    let mut found = Found::default();
    let mut invalid = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            invalid.push(
                Diagnostic::error(format!("`{}` is not a directory", dir.display()))
                    .expected("a task directory (its formula, and a tests.yaml with the cases)"),
            );
            continue;
        }
        match Suite::load(dir) {
            Ok(Some(s)) => found.suites.push((dir.clone(), s)),
            Ok(None) => found.without.push(dir.clone()),
            Err(d) => invalid.push(*d),
        }
    }
    if invalid.is_empty() {
        Ok(found)
    } else {
        Err(invalid)
    }
}

/// One case to run.
#[derive(Debug, Clone, Copy)]
pub struct Planned<'a> {
    /// The task directory.
    pub dir: &'a Path,
    /// The case.
    pub case: &'a Case,
}

impl Planned<'_> {
    /// `task::case`, the task named by its directory.
    pub fn name(&self) -> String {
        let task = self
            .dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| self.dir.display().to_string());
        format!("{task}::{}", self.case.name)
    }
}

/// The cases of `suites` whose name contains `filter` (all without one), in order.
pub fn plan<'a>(suites: &'a [(PathBuf, Suite)], filter: Option<&str>) -> Vec<Planned<'a>> {
    suites
        .iter()
        .flat_map(|(dir, s)| s.cases.iter().map(move |case| Planned { dir, case }))
        .filter(|p| filter.is_none_or(|f| p.name().contains(f)))
        .collect()
}

/// Why there is nothing to run, for the error: no task, a filter that matches
/// nothing, or empty files.
pub fn why_none(dirs: &[PathBuf], found: &Found, filter: Option<&str>) -> String {
    if dirs.is_empty() {
        "no task with a tests.yaml on the task path".to_string()
    } else if found.suites.is_empty() {
        let names: Vec<String> = found
            .without
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        format!("no {FILE} in {}", names.join(", "))
    } else if let Some(f) = filter {
        format!("no test case matches `--filter {f}`")
    } else {
        "the tests.yaml files hold no case".to_string()
    }
}

/// A finished case; its JSON is the `tests` entries of `taskotron test --format
/// json` and the `case` events of `jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct CaseOutcome {
    /// `task::case`.
    pub name: String,
    /// Whether nothing went against the expectation.
    pub passed: bool,
    /// What went against it, one line each.
    pub problems: Vec<String>,
    /// How long it took.
    pub duration_ms: u64,
    /// The run's artifacts directory, when it ran.
    pub artifacts: Option<PathBuf>,
}

/// Where a fixture named in the task itself (tests.yaml) is: relative to the task
/// directory, or `NAME` for `<taskdir>/fixtures/NAME.yaml`; never from the current
/// directory, so a case runs the same wherever `taskotron test` is started.
pub fn case_fixture(taskdir: &Path, fixture: &Path) -> PathBuf {
    let direct = taskdir.join(fixture);
    if direct.is_file() || fixture.is_absolute() {
        return direct;
    }
    let named = taskdir
        .join("fixtures")
        .join(fixture)
        .with_extension("yaml");
    if named.is_file() {
        named
    } else {
        direct
    }
}

/// Starts what a case runs against (its mock fixture's services, or empty ones)
/// and points the options at them; what it returns is kept alive for the run.
pub type StartServices<'s> =
    dyn FnMut(Option<&Path>, &mut RunOptions) -> Result<Box<dyn std::any::Any>, String> + 's;

/// Runs one case with `base` (the configuration's options; the artifacts go to
/// `<artifacts_root>/tests`), reporting the run's events to `observer`.
pub fn run_case(
    planned: Planned<'_>,
    base: &RunOptions,
    start: &mut StartServices<'_>,
    observer: &mut dyn Observer,
) -> CaseOutcome {
    let started = Instant::now();
    let name = planned.name();
    let outcome = |problems: Vec<String>, artifacts: Option<PathBuf>| CaseOutcome {
        name: name.clone(),
        passed: problems.is_empty(),
        problems,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        artifacts,
    };
    let loaded = match crate::load_task(planned.dir) {
        Ok(l) => l,
        Err(d) => return outcome(vec![crate::diagnostic::render_all(&d)], None),
    };
    let case = planned.case;
    let mut opts = RunOptions {
        input: runner::task_input(&case.item, case.item_type, None),
        arch: case.arch,
        overrides: case
            .overrides
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        artifacts_root: base.artifacts_root.join("tests"),
        ..base.clone()
    };
    let fixture = case.mock.as_ref().map(|f| case_fixture(planned.dir, f));
    let _services = match start(fixture.as_deref(), &mut opts) {
        Ok(s) => s,
        Err(e) => return outcome(vec![e], None),
    };
    match runner::run(&loaded.formula, &opts, Ports::system(), observer) {
        Ok(report) => {
            let problems = case.expect.judge(&report);
            // A NOT_OK run keeps its scratch for a look; a case that expected it
            // passed, and nobody will look: only failing cases keep theirs.
            if problems.is_empty() {
                let _ = std::fs::remove_dir_all(runner::scratch(&opts, &report.run_id));
            }
            outcome(problems, Some(report.artifacts))
        }
        Err(d) => outcome(vec![crate::diagnostic::render_all(&d)], None),
    }
}
