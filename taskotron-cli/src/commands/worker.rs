//! `taskotron worker`: worker threads on the embedded queue (`worker::Pool`), printed.

use crate::wiring::Wiring;
use std::io::Write;
use std::sync::atomic::AtomicBool;

use taskotron_core::config::Config;
use taskotron_core::scheduler::{JobState, JobView, QueuedJob, Verdict};
use taskotron_core::worker::{self, CommandExecutor};
use taskotron_core::{Arch, Diagnostic};

use super::queue::{line, open_queue, queue_failed};
use crate::cli::{Format, WorkerArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// `taskotron worker`.
pub fn run(
    shell: &Shell,
    config: &Config,
    config_file: Option<&std::path::Path>,
    args: &WorkerArgs,
) -> Outcome {
    let workers = Workers::prepare(
        shell,
        config,
        config_file,
        args.name.clone(),
        &args.arch,
        args.jobs,
        args.format.into(),
    )?;
    // Open once up front, so a bad state directory is one clear error, not one per job.
    open_queue(shell, config).map_err(|e| queue_failed(&e))?;
    Ok(if workers.run(&AtomicBool::new(args.once)) {
        exit::NOT_OK
    } else {
        exit::OK
    })
}

/// The library's worker pool with this configuration's executor, printed as it
/// goes: what `worker` and `serve` run.
pub struct Workers<'a> {
    shell: &'a Shell,
    config: &'a Config,
    pool: worker::Pool,
    executor: CommandExecutor,
    tasks: taskotron_core::task::Tasks,
    format: Format,
}

/// Prints what a pool's threads do.
struct Printer<'a> {
    shell: &'a Shell,
    format: Format,
}

impl worker::PoolObserver for Printer<'_> {
    fn event(&self, event: worker::PoolEvent<'_>) {
        use worker::PoolEvent;
        let shell = self.shell;
        match event {
            PoolEvent::Ran(job) => report(shell, self.format, job),
            PoolEvent::Lost(id) => shell.status(
                "Lost",
                &format!("{id}: its lease went to another worker; result dropped"),
                Tone::Warn,
            ),
            PoolEvent::Released(id) => shell.status(
                "Released",
                &format!("{id}: stopped mid-job; back in the queue"),
                Tone::Warn,
            ),
            PoolEvent::Deferred(id, pids) => shell.status(
                "Deferred",
                &format!(
                    "{id}: processes of an earlier attempt still run (pid {}); not starting it twice, back in the queue",
                    pids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                ),
                Tone::Warn,
            ),
            PoolEvent::QueueFailed(e) => queue_failed(e).report(shell, self.format),
        }
    }
}

impl<'a> Workers<'a> {
    /// The pool and executor of `config` (the worker runs this very binary), or
    /// the exit code of why not.
    pub fn prepare(
        shell: &'a Shell,
        config: &'a Config,
        config_file: Option<&std::path::Path>,
        name: Option<String>,
        arches: &[Arch],
        jobs: u16,
        format: Format,
    ) -> Result<Self, ExpectedError> {
        let program = std::env::current_exe().map_err(|e| {
            ExpectedError::failed(Diagnostic::error(format!("cannot find my own binary: {e}")))
        })?;
        Ok(Self {
            shell,
            config,
            pool: config.worker_pool(name.unwrap_or_else(worker::default_name), arches, jobs),
            executor: config.executor(program, config_file),
            tasks: config.tasks(),
            format,
        })
    }

    /// Runs until a signal comes, or, once `drain` is set, until the queue has
    /// nothing for the pool. Returns whether the queue failed.
    /// Gives each run the variable `name` (besides the worker's environment).
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.executor
            .env
            .push((name.to_string(), value.to_string()));
    }

    pub fn run(&self, drain: &AtomicBool) -> bool {
        let settings = &self.pool.settings;
        self.shell.status(
            "Working",
            &format!(
                "as {} on {} (and noarch), {} at a time",
                settings.name,
                settings
                    .arches
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                self.pool.jobs
            ),
            Tone::Good,
        );
        let open = || open_queue(self.shell, self.config);
        let printer = Printer {
            shell: self.shell,
            format: self.format,
        };
        self.pool
            .run(&open, &self.tasks, &self.executor, drain, &printer)
    }
}

fn report(shell: &Shell, format: Format, job: &QueuedJob) {
    match format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer(&mut out, &JobView::of(job));
            let _ = out.write_all(b"\n");
        }
        Format::Human => {
            let (verb, tone) = match (job.state, JobView::of(job).verdict()) {
                (_, Verdict::Done) => ("Ran", Tone::Good),
                // Back in the queue: an infrastructure failure stopped this attempt.
                (JobState::Scheduled, _) => ("Retrying", Tone::Warn),
                _ => ("Ran", Tone::Bad),
            };
            let mut text = line(job);
            if let Some(why) = taskotron_core::scheduler::stopped_attempt(job) {
                text.push_str(&format!(" ({why})"));
            }
            shell.status(verb, &text, tone);
        }
    }
}
