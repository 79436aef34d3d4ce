//! `taskotron schedule`, `taskotron worker` and `taskotron jobs`: the embedded queue.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use taskotron_core::config::Config;
use taskotron_core::scheduler::{JobState, Queue, QueueError, QueuedJob, Waiting};
use taskotron_core::worker::{self, CommandExecutor, WorkerSettings};
use taskotron_core::{Arch, Diagnostic, JobRequest};

use super::{print_json, report_invalid};
use crate::cli::{Format, GcArgs, JobsArgs, MirrorArgs, ScheduleArgs, WorkerArgs};
use crate::exit;
use crate::output::{Shell, Tone};

/// How this command waits for the queue's lock: as long as `queue_wait`, saying so
/// after a second.
pub fn waiting(shell: &Shell, config: &Config) -> Waiting {
    let shell = *shell;
    let limit = config.queue_wait;
    Waiting {
        limit,
        notify: Some(std::sync::Arc::new(move |path: &std::path::Path| {
            shell.status(
                "Waiting",
                &format!(
                    "for the lock on `{}`, which another process holds (giving up after {})",
                    path.display(),
                    humantime::format_duration(limit)
                ),
                Tone::Warn,
            );
        })),
    }
}

/// Opens the queue for changes.
pub fn open_queue(shell: &Shell, config: &Config) -> Result<Queue, QueueError> {
    Queue::open_with(&config.queue_path(), waiting(shell, config))
}

/// Reports a queue that failed and returns the exit code: 2 when the state directory
/// itself is unusable (a configuration problem), 1 when the queue failed.
pub fn queue_failed(shell: &Shell, format: Format, e: &QueueError) -> i32 {
    let mut d = Diagnostic::error(e.to_string());
    if let Some(help) = e.help() {
        d = d.help(help);
    }
    report_invalid(shell, format, &[d]);
    match e {
        QueueError::Io { .. } => exit::INVALID_INPUT,
        _ => exit::NOT_OK,
    }
}

/// One job as a line for people.
fn line(job: &QueuedJob) -> String {
    let r = &job.request;
    let mut text = format!(
        "{:<9} {} {} {} {} on {}",
        job.state.as_str(),
        job.build_id,
        r.taskname,
        r.item_type,
        r.item,
        r.arch
    );
    match (&job.report, &job.crash) {
        (Some(report), _) => {
            let outcome = report.outcome.map_or("no results", |o| o.as_str());
            text.push_str(&format!(" ({outcome}, run {})", report.run_id));
        }
        (_, Some((cause, why))) => {
            let first = why.lines().next().unwrap_or_default();
            text.push_str(&format!(" ({}: {first})", cause.as_str()));
        }
        _ => {}
    }
    text
}

/// `taskotron schedule`.
pub fn schedule(shell: &Shell, config: &Config, args: &ScheduleArgs) -> i32 {
    if let Err(e) = args.item_type.validate(&args.item) {
        report_invalid(shell, args.format, &[Diagnostic::error(e.to_string())]);
        return exit::INVALID_INPUT;
    }
    if let Err(why) = config.tasks().resolve(&args.taskname) {
        // Scheduling an unknown task is allowed (a worker elsewhere may have it), but
        // worth a word.
        shell.diagnostics(&[Diagnostic::warning(why)]);
    }
    let mut queue = match open_queue(shell, config) {
        Ok(q) => q,
        Err(e) => return queue_failed(shell, args.format, &e),
    };
    let arches = if args.arch.is_empty() {
        vec![Arch::Noarch]
    } else {
        args.arch.clone()
    };
    let requests: Vec<JobRequest> = arches
        .iter()
        .map(|arch| JobRequest {
            item: args.item.clone(),
            item_type: args.item_type,
            taskname: args.taskname.clone(),
            arch: *arch,
        })
        .collect();
    let ids = match queue.enqueue(&requests, SystemTime::now()) {
        Ok(ids) => ids,
        Err(e) => return queue_failed(shell, args.format, &e),
    };
    match args.format {
        Format::Json => {
            let jobs: Vec<_> = ids
                .iter()
                .filter_map(|id| queue.get(id).ok().flatten())
                .collect();
            print_json(&serde_json::to_value(jobs).unwrap_or_default());
        }
        Format::Human => {
            for (id, r) in ids.iter().zip(&requests) {
                shell.status(
                    "Scheduled",
                    &format!("{} {id} on {}", r.taskname, r.arch),
                    Tone::Good,
                );
            }
        }
    }
    exit::OK
}

/// `taskotron jobs`: reads the queue without changing it (a read-only state
/// directory is fine).
pub fn jobs(shell: &Shell, config: &Config, args: &JobsArgs) -> i32 {
    let path = config.queue_path();
    let listed = if path.exists() {
        Queue::open_read_only(&path, waiting(shell, config)).and_then(|q| q.list(args.state))
    } else {
        Ok(Vec::new())
    };
    let jobs = match listed {
        Ok(jobs) => jobs,
        Err(e) => return queue_failed(shell, args.format, &e),
    };
    match args.format {
        Format::Json => print_json(&serde_json::to_value(&jobs).unwrap_or_default()),
        Format::Human if jobs.is_empty() => {
            let which = args
                .state
                .map_or(String::new(), |s| format!(" {}", s.as_str()));
            shell.status(
                "Empty",
                &format!("no{which} jobs in `{}`", path.display()),
                Tone::Good,
            );
        }
        Format::Human => {
            let mut out = std::io::stdout().lock();
            for job in &jobs {
                let _ = writeln!(out, "{}", line(job));
            }
        }
    }
    exit::OK
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `taskotron worker`.
pub fn worker(
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

/// `taskotron gc`.
pub fn gc(shell: &Shell, config: &Config, args: &GcArgs) -> i32 {
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

/// `taskotron mirror`.
pub fn mirror(shell: &Shell, config: &Config, args: &MirrorArgs) -> i32 {
    use taskotron_core::mirror::{Refresh, TaskLocation};
    let tasks = config.tasks();
    let names: Vec<String> = if args.tasks.is_empty() {
        config
            .tasks
            .iter()
            .filter(|(_, v)| matches!(TaskLocation::parse(v), TaskLocation::Git { .. }))
            .map(|(k, _)| k.clone())
            .collect()
    } else {
        args.tasks.clone()
    };
    if names.is_empty() && args.format == Format::Human {
        shell.status(
            "Nothing",
            "to mirror: the config's `tasks` names no git repository (`name: git://host/task.git#ref`)",
            Tone::Good,
        );
    }
    let mut rows = Vec::new();
    let mut failed = false;
    for name in &names {
        let url = match tasks.locate(name) {
            Ok(TaskLocation::Git { url, .. }) => url,
            Ok(TaskLocation::Dir(d)) => {
                shell.status(
                    "Skipped",
                    &format!("{name}: a directory ({})", d.display()),
                    Tone::Warn,
                );
                continue;
            }
            Err(why) => {
                report_invalid(shell, args.format, &[Diagnostic::error(why)]);
                return exit::INVALID_INPUT;
            }
        };
        match tasks.mirror.update(&url, args.force) {
            Ok(r) => {
                let what = match r {
                    Refresh::Cloned => "cloned",
                    Refresh::Fetched => "fetched",
                    Refresh::Fresh => "fresh",
                };
                shell.status("Mirrored", &format!("{name}: {what} ({url})"), Tone::Good);
                rows.push(serde_json::json!({"task": name, "url": url, "refresh": what}));
            }
            Err(e) => {
                shell.diagnostics(&[Diagnostic::error(format!("{name}: {e}"))]);
                rows.push(serde_json::json!({"task": name, "url": url, "error": e.to_string()}));
                failed = true;
            }
        }
    }
    if args.format == Format::Json {
        print_json(&serde_json::json!(rows));
    }
    if failed {
        exit::NOT_OK
    } else {
        exit::OK
    }
}
