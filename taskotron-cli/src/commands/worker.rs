//! `taskotron worker`: worker threads on the embedded queue (`worker::Pool`), printed.

use std::io::Write;
use std::sync::atomic::AtomicBool;

use taskotron_core::config::Config;
use taskotron_core::scheduler::{JobState, QueuedJob};
use taskotron_core::worker::{self, CommandExecutor, WorkerSettings};
use taskotron_core::{Arch, Diagnostic};

use super::queue::{line, open_queue, queue_failed};
use crate::cli::{Format, WorkerArgs};
use crate::exit;
use crate::output::{Shell, Tone};

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `taskotron worker`.
pub fn run(
    shell: &Shell,
    config: &Config,
    config_file: Option<&std::path::Path>,
    args: &WorkerArgs,
) -> i32 {
    let executor = match executor(config, config_file) {
        Ok(e) => e,
        Err(why) => {
            shell.diagnostics(&[Diagnostic::error(why)]);
            return exit::NOT_OK;
        }
    };
    let arches = if args.arch.is_empty() {
        config.supported_arches.clone()
    } else {
        args.arch.clone()
    };
    let name = args.name.clone().unwrap_or_else(default_name);
    let tasks = config.tasks();
    // Open once up front, so a bad state directory is one clear error, not one per job.
    if let Err(e) = open_queue(shell, config) {
        return queue_failed(shell, args.format, &e);
    }
    let pool = Pool {
        name,
        arches,
        jobs: args.jobs,
        format: args.format,
    };
    let drain = AtomicBool::new(args.once);
    if pool.run(shell, config, &executor, &tasks, &drain) {
        exit::NOT_OK
    } else {
        exit::OK
    }
}

/// Worker threads on the local queue ([`worker::Pool`]), printed as they go.
pub struct Pool {
    /// The worker's name (threads add `/n`).
    pub name: String,
    /// Its arches (and noarch).
    pub arches: Vec<Arch>,
    /// Threads.
    pub jobs: u16,
    /// How each job is printed.
    pub format: Format,
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
            PoolEvent::QueueFailed(e) => {
                queue_failed(shell, self.format, e);
            }
        }
    }
}

impl Pool {
    /// Runs the library's pool until a signal comes, or, once `drain` is set, until
    /// the queue has nothing for it. Returns whether the queue failed.
    pub fn run(
        &self,
        shell: &Shell,
        config: &Config,
        executor: &CommandExecutor,
        tasks: &taskotron_core::worker::Tasks,
        drain: &AtomicBool,
    ) -> bool {
        shell.status(
            "Working",
            &format!(
                "as {} on {} (and noarch), {} at a time",
                self.name,
                self.arches
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                self.jobs
            ),
            Tone::Good,
        );
        let pool = worker::Pool {
            settings: WorkerSettings {
                name: self.name.clone(),
                arches: self.arches.clone(),
                lease: config.worker_lease,
                max_attempts: config.max_attempts,
                retry_delay: config.retry_delay,
            },
            jobs: self.jobs,
        };
        let open = || open_queue(shell, config);
        let printer = Printer {
            shell,
            format: self.format,
        };
        pool.run(&open, tasks, executor, drain, &printer)
    }
}

/// The executor a worker of this configuration (read from `config_file`, which its
/// runs read too) uses.
pub fn executor(
    config: &Config,
    config_file: Option<&std::path::Path>,
) -> Result<CommandExecutor, String> {
    let program = std::env::current_exe().map_err(|e| format!("cannot find my own binary: {e}"))?;
    Ok(CommandExecutor {
        program,
        config: config_file.map(std::path::Path::to_path_buf),
        artifacts: config.artifacts.clone(),
        scratch: config.state_dir.join("worker"),
        timeout: config.job_timeout,
    })
}

/// The default worker name: `<host>-<pid>`.
pub fn default_name() -> String {
    format!("{}-{}", host(), std::process::id())
}

fn report(shell: &Shell, format: Format, job: &QueuedJob) {
    match format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer(&mut out, job);
            let _ = out.write_all(b"\n");
        }
        Format::Human => {
            let (verb, tone) = match job.state {
                JobState::Finished => ("Ran", Tone::Good),
                // Back in the queue: an infrastructure failure stopped this attempt.
                JobState::Scheduled => ("Retrying", Tone::Warn),
                _ => ("Ran", Tone::Bad),
            };
            shell.status(verb, &line(job), tone);
        }
    }
}
