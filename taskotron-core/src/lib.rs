//! The taskotron library: the run (task formats, formulas, directives, the runner,
//! the sandbox, remote runs), reporting (ResultsDB, Bodhi, the spool, deferred
//! reports), the history and gating as the run and the web read them, the workers
//! and the task mirror.
//!
//! **Invariant: this crate decides; it does not wire.** It stands on the readers
//! and the contract (`taskotron-tap`, `taskotron-fmf`, `taskotron-model`), the
//! configuration (`taskotron-config`, which knows no component), the process
//! adapter and the queue (`taskotron-process`, `taskotron-queue`), re-exported
//! below under their old paths, and not on the trigger, which stands beside it; each
//! component here owns its settings type, and the binary's composition root builds
//! them from the configuration. The crate graph is written in ARCHITECTURE.md and
//! a tidy test compares it with `cargo metadata`. Modules that model the domain
//! (`template`, `formula`) do no I/O; `runner` and `directive` touch the file
//! system through the run's directories; `task` and `scaffold` read and write the
//! files their names say. See ARCHITECTURE.md for the map.

#![warn(missing_docs)]

// TAP, results and the positioned-YAML and diagnostic layer they stand on are
// their own crate (pure, fuzzed without the rest); re-exported under their old
// paths so the library reads as one.
pub use taskotron_tap::{diagnostic, results, suggest, tap, yaml};

// The model (dictionaries, item types, arches, failure kinds, templates, ports) is
// the contract every component shares, a crate of its own that does no I/O;
// re-exported under the old paths too.
pub use taskotron_model::{
    arch, dict, duration, failure, isolation, item, ports, redact, taskenv, template,
};

// The configuration is its own crate at the bottom (it knows no component; the
// binary's composition root builds components from it); re-exported under its old
// path.
pub use taskotron_config as config;

// The pipeline's crates below the library, re-exported under their old paths: the
// process adapter, the queue (and Buildbot). The trigger stands beside the library,
// not below it (`taskotron-trigger`): each only knows the queue and the model.
pub use taskotron_process as process;
pub use taskotron_queue::{buildbot, scheduler};

pub mod ansible;
pub mod bodhi;
pub mod call;
pub mod ci_messages;
pub mod deferred;
pub mod directive;
pub mod dist_git_tests;
pub mod download;
pub mod embedded;
pub mod follow;
pub mod format;
pub mod formula;
pub mod gating;
pub mod gc;
pub mod handoff;
pub mod history;
pub mod html;
pub mod koji;
pub mod lock;
pub mod mirror;
pub mod namespaces;
pub mod private_dir;
pub mod pydirectives;
pub mod pylib;
pub mod remote;
pub mod resultsdb;
pub mod rpmenv;
pub mod runner;
pub mod sandbox;
pub mod scaffold;
pub mod sti;
pub mod task;
pub mod tasktest;
pub mod testrun;
mod unsent;
pub mod worker;
pub mod yumrepoinfo;

pub use diagnostic::Diagnostic;
pub use taskotron_model::{
    Arch, Dictionary, ExecutionReport, ExecutionStatus, Isolation, ItemType, Job, JobRequest,
    SshTarget, TaskInput,
};

/// Reads and validates the formula of `task` (a file or a task directory).
///
/// # Errors
/// Every problem found, as diagnostics.
pub fn load_task(task: &std::path::Path) -> Result<formula::Loaded, Vec<Diagnostic>> {
    load_task_from(task::locate(task).map_err(|d| vec![*d])?)
}

/// Loads the formula `task` names, a path or a task's name that `resolve` finds
/// (see [`task::locate_or_resolve`]).
///
/// # Errors
/// As [`load_task`].
pub fn load_named_task(
    task: &std::path::Path,
    resolve: impl Fn(&str) -> Result<std::path::PathBuf, String>,
) -> Result<formula::Loaded, Vec<Diagnostic>> {
    load_task_from(task::locate_or_resolve(task, resolve).map_err(|d| vec![*d])?)
}

/// Loads the formula `task` names with its variables checked against `defined`
/// and the files it names in the task directory looked for: every problem at
/// once, as `validate` reports them ([`formula::load_checked`],
/// [`task::missing_files`]).
///
/// # Errors
/// As [`load_task`], with the undefined variables among them.
pub fn load_task_checked(
    task: &std::path::Path,
    defined: &formula::Defined,
) -> Result<formula::Loaded, Vec<Diagnostic>> {
    let file = task::locate(task).map_err(|d| vec![*d])?;
    let source = read_formula(&file)?;
    let loaded = formula::load_checked(&source, &file, defined)?;
    let missing = task::missing_files(&loaded.formula);
    if missing.is_empty() {
        Ok(loaded)
    } else {
        let mut all = missing;
        all.extend(loaded.warnings.into_iter().filter(|w| w.location.is_some()));
        Err(all)
    }
}

fn load_task_from(file: std::path::PathBuf) -> Result<formula::Loaded, Vec<Diagnostic>> {
    let source = read_formula(&file)?;
    formula::load(&source, &file)
}

/// The text of formula `file`, which must be UTF-8.
fn read_formula(file: &std::path::Path) -> Result<String, Vec<Diagnostic>> {
    let dir = file.parent().unwrap_or(std::path::Path::new("."));
    match format::of(file) {
        format::TaskFormat::Fmf => return format::fmf_formula(dir),
        format::TaskFormat::Playbooks => return format::playbooks_formula(file),
        format::TaskFormat::Formula => {}
    }
    let bytes = std::fs::read(file).map_err(|e| {
        vec![Diagnostic::error(format!(
            "cannot read `{}`: {e}",
            file.display()
        ))]
    })?;
    diagnostic::utf8(bytes, file).map_err(|d| vec![*d])
}
