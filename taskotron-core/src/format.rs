//! Task formats: one run lifecycle, several ways to write a task.
//!
//! A task directory holds a formula (`runtask.yml`) or an fmf tree
//! (`.fmf/version`, tmt plans and tests, as a package's dist-git has them).
//! Each format becomes a [`crate::formula::Formula`]: a formula is one already,
//! and an fmf tree is the formula of a `tmt` action that runs its plans and a
//! `resultsdb` action that reports them ([`fmf_formula`]). Everything around the steps (workdir, sandbox, `--ssh`,
//! artifacts, execution report, results files, per-test cases, JUnit,
//! report.html, reporting, jobs and pages) is then the one runner's.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// The file name a task directory's fmf tree goes by where a formula file is
/// named (reports, diagnostics): no such file exists.
pub const FMF_TASK: &str = "(fmf tree)";

/// The formats a task may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFormat {
    /// A Taskotron formula.
    Formula,
    /// An fmf tree of tmt plans.
    Fmf,
}

/// The format of the task whose formula file `task::locate` gave.
pub fn of(file: &Path) -> TaskFormat {
    if file.file_name().is_some_and(|n| n == FMF_TASK) {
        TaskFormat::Fmf
    } else {
        TaskFormat::Formula
    }
}

/// The stand-in formula file of the fmf tree in `dir`, when `dir` holds one.
pub fn fmf_task(dir: &Path) -> Option<PathBuf> {
    dir.join(taskotron_fmf::tree::VERSION_FILE)
        .is_file()
        .then(|| dir.join(FMF_TASK))
}

/// The `tmt_plan` pattern that selects exactly the plan `name` (a job's `plan`).
pub fn exact_plan(name: &str) -> String {
    format!("^{}$", regex::escape(name))
}

/// The formula of the fmf tree in `dir`: a `tmt` action running the plans
/// `${tmt_plan}` names (all, when empty) for the context `${tmt_context}` adds
/// to the run's, then a `resultsdb` action reporting one result per plan. The tree is read and linted first, so a bad tree is refused
/// before anything runs.
///
/// # Errors
/// Every problem the fmf reader and the tmt lint find, with its place.
pub fn fmf_formula(dir: &Path) -> Result<String, Vec<Diagnostic>> {
    let (tree, mut problems) = taskotron_fmf::Tree::read_all(dir);
    let Some(tree) = tree else {
        return Err(problems);
    };
    problems.extend(taskotron_fmf::tmt::lint(&tree));
    problems.retain(Diagnostic::is_error);
    if !problems.is_empty() {
        return Err(problems);
    }
    if !tree.nodes.iter().any(taskotron_fmf::tmt::is_plan) {
        return Err(vec![Diagnostic::error(format!(
            "the fmf tree `{}` has no plan",
            dir.display()
        ))
        .expected(
            "a node with `execute`, such as `plans/main.fmf` holding `execute: {how: tmt}`",
        )]);
    }
    let name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "tmt".into());
    // A task name starts with a letter or digit (a `.tmpXYZ` directory's does not).
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_start_matches(['-', '_'])
        .to_string();
    let name = if name.is_empty() {
        "tmt".to_string()
    } else {
        name
    };
    Ok(format!(
        "# The formula of an fmf tree: its tmt plans, run for the item and arch.\n\
         name: {name}\n\
         namespace: fedora-ci\n\
         desc: the tmt plans of {name}\n\
         maintainer: taskotron\n\
         actions:\n\
         \x20 - name: tmt plans\n\
         \x20   tmt:\n\
         \x20     plan: ${{tmt_plan}}\n\
         \x20     context: ${{tmt_context}}\n\
         \x20   export: tmt_output\n\
         \x20 - name: report to ResultsDB\n\
         \x20   resultsdb:\n\
         \x20     results: ${{tmt_output}}\n"
    ))
}
