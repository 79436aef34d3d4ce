//! `taskotron run-job FILE`: the job a worker handed over, run as `taskotron run`
//! would run it, the report written to the file the job file names. The run is
//! built from the job file by the library (`JobFile::into_run`) on the
//! deployment's run options (the composition root's); this only prints.

use std::path::Path;

use taskotron_core::config::{Config, RunFor};
use taskotron_core::Diagnostic;

use super::run::Shown;
use crate::cli::RunFormat;
use crate::error::{ExpectedError, Outcome};
use crate::output::Shell;
use crate::wiring::Wiring;

/// Reads the job file (its version first) and runs the job.
pub fn run(shell: &Shell, config: &Config, file: &Path) -> Outcome {
    let handoff = taskotron_core::handoff::read_job(file)
        .map_err(|e| ExpectedError::invalid(Diagnostic::error(e.to_string())))?;
    let job = handoff.into_run(|input, arch| {
        let mut options = config.run_options(input, arch);
        // A worker's job runs as a job: in a sandbox unless the config says otherwise.
        options.isolation = config.isolation_for(RunFor::Job);
        options
    });
    let formula = super::run::load(shell, config, &job.task)?;
    super::run::execute(
        shell,
        &formula,
        &job.options,
        &Shown {
            format: RunFormat::Human,
            fail_on_results: false,
            resultyaml: false,
            report_file: Some(&job.report),
        },
    )
}
