//! `taskotron gc`: old run directories, kept scratch directories and finished jobs.

use std::time::SystemTime;

use taskotron_core::config::Config;
use taskotron_core::Diagnostic;

use super::queue::{open_queue, queue_failed};
use super::{print_json, report_invalid};
use crate::cli::{Format, GcArgs};
use crate::exit;
use crate::output::{Shell, Tone};

/// `taskotron gc`.
pub fn run(shell: &Shell, config: &Config, args: &GcArgs) -> i32 {
    let Some(before) = SystemTime::now().checked_sub(args.older_than) else {
        report_invalid(
            shell,
            args.format,
            &[Diagnostic::error("that age reaches before 1970")],
        );
        return exit::INVALID_INPUT;
    };
    // Run directories (`<artifacts>/<run_id>/`) and kept workdirs
    // (`<tmpdir>/<run_id>/`), by when they last changed.
    let runs = taskotron_core::gc::old_directories(&config.artifacts, before);
    let workdirs = taskotron_core::gc::old_directories(&config.tmpdir, before);
    let mut failed = false;
    if !args.dry_run {
        let all: Vec<std::path::PathBuf> = runs.iter().chain(&workdirs).cloned().collect();
        for (dir, e) in taskotron_core::gc::remove(&all) {
            shell.diagnostics(&[Diagnostic::warning(format!(
                "cannot remove `{}`: {e}",
                dir.display()
            ))]);
            failed = true;
        }
    }
    let jobs = if config.queue_path().exists() {
        let mut queue = match open_queue(shell, config) {
            Ok(q) => q,
            Err(e) => return queue_failed(shell, args.format, &e),
        };
        let found = queue.forget_before(before, args.dry_run);
        match found {
            Ok(j) => j.len(),
            Err(e) => {
                shell.diagnostics(&[Diagnostic::error(e.to_string())]);
                return exit::NOT_OK;
            }
        }
    } else {
        0
    };
    let verb = if args.dry_run {
        "Would remove"
    } else {
        "Removed"
    };
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "dry_run": args.dry_run,
            "run_directories": runs,
            "workdirs": workdirs,
            "jobs": jobs,
        })),
        Format::Human => shell.status(
            verb,
            &format!(
                "{} run directories, {} workdirs and {jobs} finished jobs",
                runs.len(),
                workdirs.len()
            ),
            Tone::Good,
        ),
    }
    if failed {
        exit::NOT_OK
    } else {
        exit::OK
    }
}
