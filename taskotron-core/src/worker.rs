//! Workers: claim a job from the queue for their arches, find its task, run it through
//! an [`Executor`] while a second connection renews the lease, and record the report
//! or the crash with its cause. A problem with one job (unknown task, missing
//! directory, a run that cannot start) crashes that job and the worker goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::dict::{ExecutionReport, Job, TaskSource};
use crate::process;
use crate::scheduler::{CrashCause, JobState, Queue, QueueError, QueuedJob};
use crate::suggest::did_you_mean;
use crate::Arch;

/// Where tasks are: names given in the configuration, then `<dir>/<name>/` in each
/// directory of the task path.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    /// Named tasks.
    pub named: BTreeMap<String, PathBuf>,
    /// Directories holding task directories.
    pub path: Vec<PathBuf>,
}

impl Tasks {
    /// The directory of `name`.
    ///
    /// # Errors
    /// No such task, with the near miss among the known ones.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, String> {
        if let Some(p) = self.named.get(name) {
            return if p.exists() {
                Ok(p.clone())
            } else {
                Err(format!(
                    "task `{name}` is configured at `{}`, which does not exist",
                    p.display()
                ))
            };
        }
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !name.starts_with('.');
        if valid {
            for dir in &self.path {
                let candidate = dir.join(name);
                if candidate.is_dir() {
                    return Ok(candidate);
                }
            }
        }
        let known = self.known();
        let mut message = format!("unknown task `{name}`");
        if let Some(s) = did_you_mean(name, known.iter().map(String::as_str)) {
            message.push_str(&format!("; did you mean `{s}`?"));
        } else if !known.is_empty() {
            message.push_str(&format!("; known: {}", known.join(", ")));
        }
        Err(message)
    }

    /// Every task name it can find.
    pub fn known(&self) -> Vec<String> {
        let mut names: Vec<String> = self.named.keys().cloned().collect();
        for dir in &self.path {
            if let Ok(entries) = std::fs::read_dir(dir) {
                names.extend(
                    entries
                        .flatten()
                        .filter(|e| e.path().is_dir())
                        .filter_map(|e| e.file_name().into_string().ok()),
                );
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// How a job's run ended, as the worker records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Execution {
    /// The run finished (OK or NOT_OK) with this report.
    Report(Box<ExecutionReport>),
    /// It could not run to a report.
    Crashed(CrashCause, String),
}

/// The port that runs one job: the CLI runs `taskotron run` in a child process (a
/// crashing task cannot take the worker with it); tests use in-process executors.
pub trait Executor: Sync {
    /// Runs `job` from the task directory `task`.
    fn execute(&self, job: &Job, task: &Path) -> Execution;
}

/// A worker's identity and settings.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Its name in the queue (host and pid, by default).
    pub name: String,
    /// The arches it runs (and `noarch` always).
    pub arches: Vec<Arch>,
    /// How long a claim lasts unless renewed.
    pub lease: Duration,
    /// Claims before a job whose workers keep dying is CRASHED.
    pub max_attempts: u32,
}

/// What one step of a worker did.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Nothing to do.
    Idle,
    /// A job ran to this state.
    Ran(Box<QueuedJob>),
    /// A job ran but its lease had gone to another worker; the result was dropped.
    Lost(String),
}

/// Claims one job and runs it.
///
/// # Errors
/// The queue itself failed (the job, if claimed, will be requeued when its lease ends).
pub fn step(
    settings: &WorkerSettings,
    queue: &mut Queue,
    tasks: &Tasks,
    executor: &dyn Executor,
) -> Result<Step, QueueError> {
    let Some(claimed) = queue.claim(
        &settings.name,
        &settings.arches,
        settings.lease,
        settings.max_attempts,
        SystemTime::now(),
    )?
    else {
        return Ok(Step::Idle);
    };
    let id = claimed.build_id.clone();
    let outcome = match tasks.resolve(&claimed.request.taskname) {
        Err(why) => Execution::Crashed(CrashCause::Task, why),
        Ok(dir) => {
            let job = Job {
                item: claimed.request.item.clone(),
                item_type: claimed.request.item_type,
                build_id: Some(id.clone()),
                yamlfile: "runtask.yml".into(),
                arch: claimed.request.arch,
                source: Some(TaskSource {
                    repo: dir.display().to_string(),
                    git_ref: None,
                }),
            };
            with_lease(settings, queue.path(), &id, || executor.execute(&job, &dir))
        }
    };
    let now = SystemTime::now();
    let held = match &outcome {
        Execution::Report(r) => queue.finish(&id, &settings.name, r, now)?,
        Execution::Crashed(cause, why) => queue.crash(&id, &settings.name, *cause, why, now)?,
    };
    if !held {
        return Ok(Step::Lost(id));
    }
    Ok(queue
        .get(&id)?
        .map_or(Step::Lost(id), |j| Step::Ran(Box::new(j))))
}

/// Runs `work` while a thread with its own connection renews the lease at a third of
/// its length.
fn with_lease<T>(settings: &WorkerSettings, path: &Path, id: &str, work: impl FnOnce() -> T) -> T {
    let done = Arc::new(AtomicBool::new(false));
    let renewer = {
        let (done, path, id) = (done.clone(), path.to_path_buf(), id.to_string());
        let (name, lease) = (settings.name.clone(), settings.lease);
        std::thread::spawn(move || {
            let Ok(mut q) = Queue::open(&path) else {
                return;
            };
            let every = (lease / 3).max(Duration::from_millis(10));
            let mut waited = Duration::ZERO;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10).min(every));
                waited += Duration::from_millis(10).min(every);
                if waited >= every {
                    waited = Duration::ZERO;
                    if !matches!(q.renew(&id, &name, lease, SystemTime::now()), Ok(true)) {
                        return;
                    }
                }
            }
        })
    };
    let out = work();
    done.store(true, Ordering::Relaxed);
    let _ = renewer.join();
    out
}

/// Runs a job as `taskotron run` in a child process (its own process group, killed at
/// the job timeout), reading the ExecutionReport it prints as JSON.
#[derive(Debug, Clone)]
pub struct CommandExecutor {
    /// The `taskotron` binary.
    pub program: PathBuf,
    /// Where runs put their artifacts.
    pub artifacts: PathBuf,
    /// Where the child's output is kept while it runs.
    pub scratch: PathBuf,
    /// How long a job may take.
    pub timeout: Duration,
}

impl Executor for CommandExecutor {
    fn execute(&self, job: &Job, task: &Path) -> Execution {
        let infra = |why: String| Execution::Crashed(CrashCause::Infrastructure, why);
        let id = job.build_id.clone().unwrap_or_default();
        if let Err(e) = std::fs::create_dir_all(&self.scratch) {
            return infra(format!("cannot create `{}`: {e}", self.scratch.display()));
        }
        if let Err(e) = std::fs::create_dir_all(&self.artifacts) {
            return infra(format!("cannot create `{}`: {e}", self.artifacts.display()));
        }
        let out_path = self.scratch.join(format!("{id}.stdout"));
        let err_path = self.scratch.join(format!("{id}.stderr"));
        let (out, err) = match (
            std::fs::File::create(&out_path),
            std::fs::File::create(&err_path),
        ) {
            (Ok(o), Ok(e)) => (o, e),
            (Err(e), _) | (_, Err(e)) => {
                return infra(format!("cannot write `{}`: {e}", self.scratch.display()))
            }
        };
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(["--color", "never", "-q", "run"])
            .arg(task)
            .args(["--item", &job.item])
            .args(["--type", job.item_type.as_str()])
            .args(["--arch", &job.arch.to_string()])
            .args(["--build-id", &id])
            .args(["--format", "json", "--artifacts"])
            .arg(&self.artifacts);
        let ended = process::run(cmd, &out, &err, self.timeout);
        let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let _ = std::fs::remove_file(&out_path);
        let _ = std::fs::remove_file(&err_path);
        let tail = |s: &str| {
            let s = s.trim();
            s[s.len().saturating_sub(2000)..].to_string()
        };
        match ended {
            Err(e) => infra(format!("cannot start `{}`: {e}", self.program.display())),
            Ok(process::Ended::TimedOut) => Execution::Crashed(
                CrashCause::Timeout,
                format!("killed after {}", humantime::format_duration(self.timeout)),
            ),
            Ok(process::Ended::Interrupted(signal)) => {
                infra(format!("the worker was stopped (signal {signal})"))
            }
            Ok(process::Ended::Exited(status)) => {
                match serde_json::from_str::<ExecutionReport>(stdout.trim()) {
                    Ok(report) => Execution::Report(Box::new(report)),
                    // Exit 2: the task's formula or input is invalid; nothing ran.
                    Err(_) if status.code() == Some(2) => {
                        Execution::Crashed(CrashCause::Task, tail(&stderr))
                    }
                    Err(_) => infra(format!(
                        "`taskotron run` ended with {status}: {}",
                        tail(&stderr)
                    )),
                }
            }
        }
    }
}

/// The state a finished step left its job in, for callers that only count.
pub fn state_of(step: &Step) -> Option<JobState> {
    match step {
        Step::Ran(j) => Some(j.state),
        _ => None,
    }
}
