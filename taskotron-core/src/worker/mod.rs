//! Workers: claim a job from the queue for their arches, find its task, run it through
//! an [`Executor`] while a second connection renews the lease, and record the report
//! or the crash with its cause. A problem with one job (unknown task, missing
//! directory, a run that cannot start) crashes that job and the worker goes on.

mod pool;
pub use pool::{Pool, PoolEvent, PoolObserver};

/// The default worker name: `<host>-<pid>`.
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}-{}", std::process::id())
}
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::dict::{ExecutionReport, Job};
use crate::process;
use crate::scheduler::{CrashCause, JobState, Queue, QueueError, QueuedJob};
use crate::task::{Prepared, Tasks};
use crate::Arch;

/// How a job's run ended, as the worker records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Execution {
    /// The run finished (OK or NOT_OK) with this report.
    Report(Box<ExecutionReport>),
    /// It could not run to a report.
    Crashed(CrashCause, String),
    /// The worker was stopped (this signal) while the run went on; the run was
    /// stopped too, and the job goes back to the queue as if never claimed.
    Stopped(i32),
}

/// How long a requeued attempt waits for what an earlier attempt left running to die
/// once killed, before it gives the job back rather than run it twice at once.
pub const LEFTOVER_WAIT: Duration = Duration::from_secs(5);

/// The port that runs one job: the CLI runs `taskotron run` in a child process (a
/// crashing task cannot take the worker with it); tests use in-process executors.
pub trait Executor: Sync {
    /// Runs `job` from the task directory `task` as run `run_id` (the name of its
    /// artifacts directory, recorded in the queue before the run starts).
    fn execute(&self, job: &Job, task: &Path, run_id: &str) -> Execution;
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
    /// Claims before a job whose workers keep dying is CRASHED; also the attempts a
    /// run stopped by an infrastructure failure gets.
    pub max_attempts: u32,
    /// How long such a run waits before its next attempt (times the attempts so far).
    pub retry_delay: Duration,
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
    /// The worker was stopped mid-job; the job went back to the queue.
    Released(String),
    /// Processes of an earlier attempt of the job (these pids) still run and could
    /// not be killed; the job went back to the queue untouched, to be tried after the
    /// retry delay.
    Deferred(String, Vec<u32>),
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
    // An earlier attempt's worker died; its processes should have died with it, but a
    // build id must never run twice at once, so make sure before starting.
    if claimed.attempts > 1 {
        let left = process::kill_leftovers(&id, LEFTOVER_WAIT);
        if !left.is_empty() {
            queue.release(&id, &settings.name, settings.retry_delay, SystemTime::now())?;
            return Ok(Step::Deferred(id, left));
        }
    }
    let prepared = match &claimed.request.source {
        Some(source) => tasks.prepare_source(source, &id),
        None => tasks.prepare(&claimed.request.taskname, &id),
    };
    let outcome = match prepared {
        Err((cause, why)) => Execution::Crashed(cause, why),
        Ok(Prepared {
            dir,
            commit,
            source,
        }) => {
            let job = Job {
                item: claimed.request.item.clone(),
                item_type: claimed.request.item_type,
                build_id: Some(id.clone()),
                yamlfile: "runtask.yml".into(),
                arch: claimed.request.arch,
                source: Some(source),
                plan: claimed.request.plan.clone(),
            };
            // The run id is chosen here, not by the run, and recorded before the run
            // starts: the job page can then follow the run's log while it runs.
            let run_id = crate::ports::IdSource::run_id(&crate::ports::UuidSource);
            if !queue.started(&id, &settings.name, &run_id, SystemTime::now())? {
                return Ok(Step::Lost(id));
            }
            let mut ran = with_lease(settings, queue.path(), &id, || {
                executor.execute(&job, &dir, &run_id)
            });
            if let Execution::Report(r) = &mut ran {
                r.task_commit = commit.clone();
            }
            if commit.is_some() {
                tasks.remove_checkout(&id);
            }
            ran
        }
    };
    let now = SystemTime::now();
    // A run an infrastructure failure stopped (Koji down, a download broken) is worth
    // another attempt later; one the task or its input stopped is not.
    let infrastructure = |r: &ExecutionReport| {
        r.failure
            .as_ref()
            .is_some_and(|f| f.cause == crate::failure::Cause::Infrastructure)
    };
    let held = match &outcome {
        Execution::Report(r) if infrastructure(r) && claimed.attempts < settings.max_attempts => {
            let delay = settings.retry_delay.saturating_mul(claimed.attempts.max(1));
            queue.retry_later(&id, &settings.name, r, delay, now)?
        }
        Execution::Report(r) => queue.finish(&id, &settings.name, r, now)?,
        Execution::Crashed(cause, why) => queue.crash(&id, &settings.name, *cause, why, now)?,
        Execution::Stopped(_) => {
            return Ok(
                if queue.release(&id, &settings.name, Duration::ZERO, now)? {
                    Step::Released(id)
                } else {
                    Step::Lost(id)
                },
            )
        }
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

/// Runs a job as `taskotron run` in a supervised child process (its own process group,
/// killed at the job timeout, asked to stop when the worker is stopped or dies),
/// reading the ExecutionReport it prints as JSON. The child carries the job's
/// `TASKOTRON_BUILD_ID`, as its task processes do, so that what an attempt left
/// behind can be found by the next one.
#[derive(Debug, Clone)]
pub struct CommandExecutor {
    /// The `taskotron` binary.
    pub program: PathBuf,
    /// The configuration file the worker read, which each run reads too (`None`: the
    /// run finds it as the worker did, from the environment and the usual places).
    pub config: Option<PathBuf>,
    /// Where runs put their artifacts.
    pub artifacts: PathBuf,
    /// Where the child's output is kept while it runs.
    pub scratch: PathBuf,
    /// How long a job may take.
    pub timeout: Duration,
    /// Variables each run gets besides the worker's own environment (`serve --http`
    /// hands its runs `TASKOTRON_WEB_URL`).
    pub env: Vec<(String, String)>,
}

impl Executor for CommandExecutor {
    fn execute(&self, job: &Job, task: &Path, run_id: &str) -> Execution {
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
        // The child gets the job as a file and writes its report to one; argv is
        // only the path, so no flag of `run` is part of the contract.
        let job_path = self.scratch.join(format!("{id}.job.json"));
        let report_path = self.scratch.join(format!("{id}.report.json"));
        let _ = std::fs::remove_file(&report_path);
        let handoff = crate::handoff::JobFile {
            version: crate::handoff::VERSION,
            job: job.clone(),
            task: task.to_path_buf(),
            artifacts: self.artifacts.clone(),
            report: report_path.clone(),
            run_id: Some(run_id.to_string()),
            overrides: Vec::new(),
            defer_reporting: false,
        };
        if let Err(e) = crate::handoff::write_job(&job_path, &handoff) {
            return infra(format!("cannot hand the job over: {e}"));
        }
        let mut cmd = std::process::Command::new(&self.program);
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        cmd.args(["--color", "never", "-q", "run-job"])
            .arg(&job_path)
            .env("TASKOTRON_BUILD_ID", &id)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        let ended = process::run_supervised(cmd, &out, &err, self.timeout);
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let report = crate::handoff::read_report(&report_path);
        for f in [&out_path, &err_path, &job_path, &report_path] {
            let _ = std::fs::remove_file(f);
        }
        let tail = |s: &str| tail(s.trim(), 2000).to_string();
        match ended {
            Err(e) => infra(format!("cannot start `{}`: {e}", self.program.display())),
            Ok(process::Ended::TimedOut) => Execution::Crashed(
                CrashCause::Timeout,
                format!("killed after {}", humantime::format_duration(self.timeout)),
            ),
            Ok(process::Ended::Interrupted(signal)) => Execution::Stopped(signal),
            // A job's own run is never watched for limits.
            Ok(process::Ended::Stopped) => infra("the run was stopped".into()),
            Ok(process::Ended::Exited(status)) => match report {
                Ok(report) => Execution::Report(Box::new(report)),
                // A runner of another build: say so, whatever it printed.
                Err(e @ crate::handoff::HandoffError::Version { .. }) => infra(e.to_string()),
                // Exit 2: the task's formula or input is invalid; nothing ran.
                Err(_) if status.code() == Some(2) => {
                    Execution::Crashed(CrashCause::Task, tail(&stderr))
                }
                Err(_) => infra(format!(
                    "`taskotron run-job` ended with {status}: {}",
                    tail(&stderr)
                )),
            },
        }
    }
}

/// The last `max` bytes of `s` (at a character boundary).
fn tail(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// The state a finished step left its job in, for callers that only count.
pub fn state_of(step: &Step) -> Option<JobState> {
    match step {
        Step::Ran(j) => Some(j.state),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::dict::JobRequest;
    use crate::item::ItemType;
    use crate::mirror::Mirror;
    use std::collections::BTreeMap;
    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;

    /// Answers each execution with the next cause of failure (`None`: OK).
    struct Scripted(Mutex<Vec<Option<crate::failure::Cause>>>);

    impl Executor for Scripted {
        fn execute(&self, job: &Job, _task: &Path, _run_id: &str) -> Execution {
            let next = self.0.lock().unwrap().remove(0);
            let mut report: ExecutionReport = serde_json::from_value(serde_json::json!({
                "execution_status": "OK", "status": null, "build_id": job.build_id, "run_id": "r",
                "item": job.item, "item_type": "koji_build", "arch": "x86_64",
                "checkname": "scratch.t", "artifacts": "/tmp/a", "started_at": "2026-01-01T00:00:00Z",
                "duration_ms": 1, "actions": [], "outcome": null, "results": []
            }))
            .unwrap();
            if let Some(cause) = next {
                report.execution_status = crate::dict::ExecutionStatus::NotOk;
                report.status = Some("KOJI_UNREACHABLE: ...".into());
                report.failure = Some(crate::dict::NamedFailure {
                    kind: "KOJI_UNREACHABLE".into(),
                    cause,
                });
            }
            Execution::Report(Box::new(report))
        }
    }

    fn setup(
        script: Vec<Option<crate::failure::Cause>>,
    ) -> (tempfile::TempDir, Queue, Tasks, Scripted, WorkerSettings) {
        let dir = tempfile::tempdir().unwrap();
        let task = dir.path().join("t");
        std::fs::create_dir_all(&task).unwrap();
        std::fs::write(
            task.join("runtask.yml"),
            "name: t\nactions:\n  - name: a\n    dummy: {result: PASS}\n",
        )
        .unwrap();
        let mut queue = Queue::open(&dir.path().join("queue.sqlite")).unwrap();
        queue
            .enqueue(
                &[JobRequest {
                    item: "a-1-1.fc41".into(),
                    item_type: ItemType::KojiBuild,
                    taskname: "t".into(),
                    arch: Arch::X86_64,
                    source: None,
                    plan: None,
                }],
                SystemTime::now(),
            )
            .unwrap();
        let tasks = Tasks {
            named: BTreeMap::from([("t".to_string(), task.display().to_string())]),
            path: Vec::new(),
            mirror: Mirror::new(&dir.path().join("mirror"), Duration::from_secs(60)),
            checkouts: dir.path().join("checkouts"),
        };
        let settings = WorkerSettings {
            name: "w".into(),
            arches: vec![Arch::X86_64],
            lease: Duration::from_secs(60),
            max_attempts: 3,
            retry_delay: Duration::ZERO,
        };
        (dir, queue, tasks, Scripted(Mutex::new(script)), settings)
    }

    fn state(step: &Step) -> (JobState, u32) {
        match step {
            Step::Ran(j) => (j.state, j.attempts),
            other => panic!("expected a job, got {other:?}"),
        }
    }

    #[test]
    fn infrastructure_failures_are_tried_again_and_task_failures_are_not() {
        use crate::failure::Cause::{Infrastructure, Task};
        let (_d, mut q, tasks, exec, settings) = setup(vec![Some(Infrastructure), None]);
        let first = step(&settings, &mut q, &tasks, &exec).unwrap();
        assert_eq!(state(&first), (JobState::Scheduled, 1));
        let second = step(&settings, &mut q, &tasks, &exec).unwrap();
        assert_eq!(state(&second), (JobState::Finished, 2));

        let (_d, mut q, tasks, exec, settings) = setup(vec![Some(Task)]);
        let once = step(&settings, &mut q, &tasks, &exec).unwrap();
        assert_eq!(state(&once), (JobState::Finished, 1));

        // After max_attempts the last NOT_OK report stands.
        let (_d, mut q, tasks, exec, settings) = setup(vec![Some(Infrastructure); 3]);
        for _ in 0..2 {
            step(&settings, &mut q, &tasks, &exec).unwrap();
        }
        let last = step(&settings, &mut q, &tasks, &exec).unwrap();
        assert_eq!(state(&last), (JobState::Finished, 3));
        assert!(matches!(
            step(&settings, &mut q, &tasks, &exec).unwrap(),
            Step::Idle
        ));
    }

    #[test]
    fn a_tail_never_cuts_a_character() {
        let text = "é".repeat(1500);
        let t = tail(&text, 2001);
        assert_eq!(
            t.chars().count(),
            1000,
            "2001 bytes back falls inside a 2-byte é"
        );
        assert_eq!(tail("short", 2000), "short");
    }

    /// A "taskotron" of another build: it reads the job file it is given and
    /// answers with a report file of a later format version.
    #[test]
    fn a_runner_of_another_build_is_refused_by_its_report_version() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("other-taskotron");
        std::fs::write(
            &program,
            "#!/bin/sh\nfor last; do :; done\nreport=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"report\"])' \"$last\")\nprintf '{\"version\": 99, \"report\": {}}' > \"$report\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let executor = CommandExecutor {
            program,
            config: None,
            artifacts: dir.path().join("artifacts"),
            scratch: dir.path().join("scratch"),
            timeout: Duration::from_secs(30),
            env: Vec::new(),
        };
        let job = Job {
            item: "htop-3.3.0-1.fc41".into(),
            item_type: ItemType::KojiBuild,
            build_id: Some("b-1".into()),
            yamlfile: "runtask.yml".into(),
            arch: Arch::X86_64,
            source: None,
            plan: None,
        };
        match executor.execute(&job, dir.path(), "r-1") {
            Execution::Crashed(CrashCause::Infrastructure, why) => assert!(
                why.contains("report file of format version 99")
                    && why.contains("different builds"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        // Nothing of the hand-off is left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("scratch"))
                .unwrap()
                .count(),
            0
        );
    }

    /// Records what a pool's threads say.
    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);

    impl PoolObserver for Seen {
        fn event(&self, event: PoolEvent<'_>) {
            let line = match event {
                PoolEvent::Ran(job) => format!("ran {:?}", job.state),
                PoolEvent::QueueFailed(e) => format!("queue failed: {e}"),
                other => format!("{other:?}"),
            };
            self.0.lock().unwrap().push(line);
        }
    }

    #[test]
    fn a_draining_pool_runs_every_job_once_and_stops() {
        let (dir, mut q, tasks, _, settings) = setup(vec![]);
        let more: Vec<JobRequest> = (2..=5)
            .map(|n| JobRequest {
                item: format!("a-{n}-1.fc41"),
                item_type: ItemType::KojiBuild,
                taskname: "t".into(),
                arch: Arch::X86_64,
                source: None,
                plan: None,
            })
            .collect();
        q.enqueue(&more, SystemTime::now()).unwrap();
        let exec = Scripted(Mutex::new(vec![None; 5]));
        let pool = Pool { settings, jobs: 2 };
        let path = dir.path().join("queue.sqlite");
        let open = || Queue::open(&path);
        let seen = Seen::default();
        let failed = pool.run(&open, &tasks, &exec, &AtomicBool::new(true), &seen);
        assert!(!failed);
        let lines = seen.0.lock().unwrap().clone();
        assert_eq!(lines, vec!["ran Finished".to_string(); 5]);
        assert!(exec.0.lock().unwrap().is_empty(), "each job ran once");
        // A queue that cannot be opened is said by every thread, and is a failure.
        let seen = Seen::default();
        let bad = || Queue::open(Path::new("/proc/no/queue.sqlite"));
        assert!(pool.run(&bad, &tasks, &exec, &AtomicBool::new(true), &seen));
        let lines = seen.0.lock().unwrap().clone();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines.iter().all(|l| l.starts_with("queue failed")),
            "{lines:?}"
        );
    }
}
