//! `taskotron gc`: old run directories, kept scratch directories and finished jobs.

use std::time::SystemTime;

use taskotron_core::config::Config;
use taskotron_core::Diagnostic;

use super::print_json;
use super::queue::{open_queue, queue_failed};
use crate::cli::{Format, GcArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// `taskotron gc`.
pub fn run(shell: &Shell, config: &Config, args: &GcArgs) -> Outcome {
    let Some(before) = SystemTime::now().checked_sub(args.older_than) else {
        return Err(ExpectedError::invalid(Diagnostic::error(
            "that age reaches before 1970",
        )));
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
            Err(e) => return Err(queue_failed(&e)),
        };
        let found = queue.forget_before(before, args.dry_run);
        match found {
            Ok(j) => j.len(),
            Err(e) => return Err(ExpectedError::failed(Diagnostic::error(e.to_string()))),
        }
    } else {
        0
    };
    // The history's runs, by when they finished.
    let history = taskotron_core::history::path(&config.state_dir);
    let history_runs = if history.exists() {
        let before_ms = before
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        taskotron_history::Store::open(&history)
            .and_then(|mut s| s.forget_before(before_ms, args.dry_run))
            .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?
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
            "history_runs": history_runs,
        })),
        Format::Human => shell.status(
            verb,
            &format!(
                "{} run directories, {} workdirs, {jobs} finished jobs and {history_runs} runs of the history",
                runs.len(),
                workdirs.len()
            ),
            Tone::Good,
        ),
    }
    Ok(if failed { exit::NOT_OK } else { exit::OK })
}
