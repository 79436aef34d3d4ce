//! `taskotron run-job FILE`: the job a worker handed over, run as `taskotron run`
//! would run it, the report written to the file the job file names.

use std::path::Path;

use taskotron_core::config::Config;
use taskotron_core::Diagnostic;

use crate::cli::{RunArgs, RunFormat};
use crate::error::{ExpectedError, Outcome};
use crate::output::Shell;

/// Reads the job file (its version first) and runs the job.
pub fn run(shell: &Shell, config: &Config, file: &Path) -> Outcome {
    let handoff = match taskotron_core::handoff::read_job(file) {
        Ok(h) => h,
        Err(e) => return Err(ExpectedError::invalid(Diagnostic::error(e.to_string()))),
    };
    let job = handoff.job;
    let args = RunArgs {
        task: handoff.task,
        item: job.item,
        item_type: job.item_type,
        arch: Some(job.arch),
        build_id: job.build_id,
        overrides: handoff.overrides,
        plan: job.plan.as_deref().map(taskotron_core::format::exact_plan),
        context: Vec::new(),
        artifacts: Some(handoff.artifacts),
        mock: None,
        fail_on_results: false,
        format: RunFormat::Human,
        resultyaml: false,
        report_file: Some(handoff.report),
        run_id: handoff.run_id,
        // A worker's job runs as a job: in a sandbox unless the config says otherwise.
        isolation: Some(config.isolation_for(taskotron_core::config::RunFor::Job)),
        ssh: None,
        ssh_privkey: None,
        local: false,
        defer_reporting: handoff.defer_reporting,
    };
    super::run::run(shell, config, &args)
}
