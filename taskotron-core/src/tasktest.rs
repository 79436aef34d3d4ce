//! A task's own test cases: `tests.yaml` in the task directory, run by
//! `taskotron test` against the mock services, and the `e2e` section that says
//! how `cargo xtask e2e` drives the task through the whole pipeline.
//!
//! ```yaml
//! cases:
//!   - name: clean_build_passes
//!     item: htop-3.3.0-1.fc41
//!     type: koji_build
//!     arch: x86_64
//!     mock: fixtures/clean.yaml
//!     expect:
//!       execution_status: OK
//!       outcomes: {dist.rpmlint: PASSED}
//!   - name: unknown_build
//!     item: nope-1-1.fc41
//!     type: koji_build
//!     arch: x86_64
//!     mock: fixtures/clean.yaml
//!     expect: {execution_status: NOT_OK, failure: KOJI_UNKNOWN_BUILD, cause: task}
//! e2e:
//!   message: fixtures/message.json
//!   mock: fixtures/clean.yaml
//!   arches: [x86_64, aarch64]
//! ```
//!
//! Reading and judging are pure; running is the caller's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::arch::Arch;
use crate::diagnostic::{Diagnostic, Location};
use crate::dict::{ExecutionReport, ExecutionStatus};
use crate::failure::Cause;
use crate::item::ItemType;
use crate::results::Outcome;

/// The file a task's test cases live in.
pub const FILE: &str = "tests.yaml";

/// The JSON Schema of `tests.yaml` (`taskotron test --schema`), for editors and
/// for people; [`Suite::load`] checks the same rules (a test keeps them equal).
pub const SCHEMA: &str = include_str!("tasktest.schema.json");

/// A task's `tests.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// The cases `taskotron test` runs.
    #[serde(default)]
    pub cases: Vec<Case>,
    /// How the end-to-end matrix drives the task.
    #[serde(default)]
    pub e2e: Option<EndToEnd>,
}

/// One test case: one run of the task and what must come of it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// A name made of letters, digits and `_`, unique in the file.
    pub name: String,
    /// The item.
    pub item: String,
    /// Its type.
    #[serde(rename = "type")]
    pub item_type: ItemType,
    /// The arch, when the task takes one.
    #[serde(default)]
    pub arch: Option<Arch>,
    /// The mock fixture, relative to the task directory; none starts empty mocks.
    #[serde(default)]
    pub mock: Option<PathBuf>,
    /// `--override` pairs.
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
    /// What the run must give.
    pub expect: Expect,
}

/// What a case's run must give; what is not said is not checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `OK` or `NOT_OK`.
    #[serde(default)]
    pub execution_status: Option<ExecutionStatus>,
    /// The named failure (`KOJI_UNKNOWN_BUILD`, ...).
    #[serde(default)]
    pub failure: Option<String>,
    /// Whose problem the failure is.
    #[serde(default)]
    pub cause: Option<Cause>,
    /// The outcome of each checkname; every result with that checkname must have it.
    #[serde(default)]
    pub outcomes: BTreeMap<String, Outcome>,
    /// Text the note of a result of each checkname must contain.
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
}

/// How `cargo xtask e2e` drives a task.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndToEnd {
    /// A bus message (AMQP JSON: `routing_key`, `properties`, `body`) that makes
    /// the trigger schedule the task.
    pub message: PathBuf,
    /// The mock fixture the runs download from.
    pub mock: PathBuf,
    /// The arches the task supports.
    pub arches: Vec<Arch>,
}

impl Suite {
    /// Reads `<taskdir>/tests.yaml`; `Ok(None)` when the task has none.
    ///
    /// # Errors
    /// The file is unreadable, is not valid, or two cases share a name.
    pub fn load(taskdir: &Path) -> Result<Option<Self>, Box<Diagnostic>> {
        let path = taskdir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Box::new(
                    Diagnostic::error(format!("cannot read {}: {e}", path.display()))
                        .in_file(&path),
                ))
            }
        };
        let suite: Suite = serde_norway::from_str(&text).map_err(|e| {
            let mut d = Diagnostic::error(format!("invalid test cases: {e}"))
                .expected("`cases:` with name, item, type, expect (and arch, mock, overrides)");
            match e.location() {
                Some(l) => {
                    d = d.at(
                        Some(&path),
                        &text,
                        Location {
                            line: l.line(),
                            column: l.column(),
                        },
                        1,
                    );
                }
                None => d = d.in_file(&path),
            }
            Box::new(d)
        })?;
        let mut seen = std::collections::BTreeSet::new();
        for c in &suite.cases {
            let ok_name = !c.name.is_empty()
                && c.name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
            if !ok_name {
                return Err(Box::new(
                    Diagnostic::error(format!("test case name `{}` is not a name", c.name))
                        .in_file(&path)
                        .expected("letters, digits and `_`"),
                ));
            }
            if !seen.insert(c.name.as_str()) {
                return Err(Box::new(
                    Diagnostic::error(format!("two test cases are named `{}`", c.name))
                        .in_file(&path),
                ));
            }
        }
        Ok(Some(suite))
    }
}

impl Expect {
    /// What in `report` does not meet the expectations, one line each; empty
    /// when it passes.
    pub fn judge(&self, report: &ExecutionReport) -> Vec<String> {
        let mut wrong = Vec::new();
        let status = |s: ExecutionStatus| match s {
            ExecutionStatus::Ok => "OK",
            ExecutionStatus::NotOk => "NOT_OK",
        };
        if let Some(want) = self.execution_status {
            if want != report.execution_status {
                wrong.push(format!(
                    "execution_status: expected {}, got {}{}",
                    status(want),
                    status(report.execution_status),
                    report
                        .status
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                ));
            }
        }
        let failure = report.failure.as_ref();
        if let Some(want) = &self.failure {
            let got = failure.map_or("none", |f| f.kind.as_str());
            if got != want {
                wrong.push(format!("failure: expected {want}, got {got}"));
            }
        }
        if let Some(want) = self.cause {
            let got = failure.map(|f| f.cause);
            if got != Some(want) {
                wrong.push(format!(
                    "cause: expected {}, got {}",
                    cause_name(want),
                    got.map_or("none", cause_name)
                ));
            }
        }
        for (checkname, want) in &self.outcomes {
            let got: Vec<Outcome> = report
                .results
                .iter()
                .filter(|d| d.checkname.as_deref() == Some(checkname.as_str()))
                .map(|d| d.outcome)
                .collect();
            if got.is_empty() {
                wrong.push(format!(
                    "{checkname}: expected {}, got no result",
                    want.as_str()
                ));
            } else if got.iter().any(|o| o != want) {
                let shown: Vec<&str> = got.iter().map(|o| o.as_str()).collect();
                wrong.push(format!(
                    "{checkname}: expected {}, got {}",
                    want.as_str(),
                    shown.join(", ")
                ));
            }
        }
        for (checkname, text) in &self.notes {
            let found = report.results.iter().any(|d| {
                d.checkname.as_deref() == Some(checkname.as_str()) && d.note.contains(text.as_str())
            });
            if !found {
                wrong.push(format!(
                    "{checkname}: no result has a note containing `{text}`"
                ));
            }
        }
        wrong
    }
}

fn cause_name(c: Cause) -> &'static str {
    match c {
        Cause::Task => "task",
        Cause::Infrastructure => "infrastructure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_says_what_the_loader_reads() {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
        let case = &schema["properties"]["cases"]["items"];
        let names = |v: &serde_json::Value| -> Vec<String> {
            let mut n: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            n.sort();
            n
        };
        let mut types: Vec<String> = ItemType::ALL
            .iter()
            .map(|t| t.as_str().to_string())
            .collect();
        types.sort();
        assert_eq!(names(&case["properties"]["type"]["enum"]), types);
        let mut arches: Vec<String> = Arch::ALL.iter().map(|a| a.as_str().to_string()).collect();
        arches.sort();
        assert_eq!(names(&case["properties"]["arch"]["enum"]), arches);
        // A case with every property the schema names loads; one more key does not.
        let dir = tempfile::tempdir().unwrap();
        let full = "cases:\n  - name: a\n    item: x-1-1.fc41\n    type: koji_build\n    arch: x86_64\n    mock: f.yaml\n    overrides: {k: v}\n    expect: {execution_status: OK, failure: X, cause: task, outcomes: {a.b: PASSED}, notes: {a.b: t}}\n";
        let keys: Vec<&str> = case["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for k in &keys {
            assert!(full.contains(&format!("{k}:")), "the example lacks `{k}`");
        }
        for k in case["properties"]["expect"]["properties"]
            .as_object()
            .unwrap()
            .keys()
        {
            assert!(full.contains(&format!("{k}:")), "the example lacks `{k}`");
        }
        std::fs::write(dir.path().join(FILE), full).unwrap();
        assert!(Suite::load(dir.path()).unwrap().is_some());
        std::fs::write(
            dir.path().join(FILE),
            full.replace("    mock:", "    fixture:"),
        )
        .unwrap();
        assert!(Suite::load(dir.path()).is_err());
    }
}
