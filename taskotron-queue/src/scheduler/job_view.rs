//! A job as every listing shows it: `taskotron jobs --format json`, the web list,
//! `/api/v1/jobs`. One shape and one vocabulary (ExecDB's state names) so that a
//! program reading one reads the others; what the run said (OK or NOT_OK, and
//! why) is in it, so that no listing shows a run that never executed as done.
//! *Invariant: no I/O; built from a [`QueuedJob`] alone.*

use std::collections::BTreeMap;

use serde::Serialize;

use super::queue::{JobOrigin, JobState, QueuedJob};
use taskotron_model::dict::{ExecutionReport, NamedFailure};

/// A job as the listings show it. The field names are a contract (README, "Machine
/// output"): added to, never renamed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobView {
    /// The job's uuid (its build id).
    pub uuid: String,
    /// `SCHEDULED`, `RUNNING`, `COMPLETED` or `CRASHED` (ExecDB's names).
    pub state: &'static str,
    /// The item.
    pub item: String,
    /// Its type.
    #[serde(rename = "type")]
    pub item_type: String,
    /// The task's name.
    pub task: String,
    /// The arch.
    pub arch: String,
    /// The one tmt plan it runs (a `dist_git_tests` job), if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Where its task comes from, when the job names it (a `dist_git_tests` job: the
    /// build's dist-git and commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<taskotron_model::dict::TaskSource>,
    /// Claims so far.
    pub attempts: u32,
    /// The worker that holds or held it.
    pub worker: Option<String>,
    /// When it was scheduled (RFC 3339).
    pub scheduled_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// How long its run took, once it ran.
    pub duration_ms: Option<u64>,
    /// `OK` or `NOT_OK`, once it ran: a COMPLETED job whose run is NOT_OK never
    /// executed its check properly.
    pub execution_status: Option<&'static str>,
    /// What went wrong in a NOT_OK run, when the runner could name it.
    pub failure: Option<NamedFailure>,
    /// Why a NOT_OK run failed, in words.
    pub status: Option<String>,
    /// The worst outcome of its results.
    pub outcome: Option<String>,
    /// How many results of each outcome.
    pub results: BTreeMap<String, u64>,
    /// The run's id, which names its artifacts directory.
    pub run_id: Option<String>,
    /// Why it crashed and what happened.
    pub crash: Option<Crash>,
    /// The message it came from.
    pub origin: Option<JobOrigin>,
    /// The run's whole execution report, once it ran (what `execution.json` holds).
    pub report: Option<ExecutionReport>,
}

/// Why a job crashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crash {
    /// `task`, `infrastructure` or `timeout`.
    pub cause: &'static str,
    /// What happened.
    pub detail: String,
}

/// How a job looks at a glance: what a badge's colour and a line's word say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Waiting or running.
    Pending,
    /// Ran to OK.
    Done,
    /// Ran, but the run is NOT_OK: it did not execute properly.
    NotOk,
    /// Could not run to a report.
    Crashed,
}

impl Verdict {
    /// The name a page's class and a line use: `SCHEDULED`/`RUNNING` are the
    /// state's, the others `COMPLETED`, `NOT_OK`, `CRASHED`.
    pub fn as_str(self, state: JobState) -> &'static str {
        match self {
            Verdict::Pending | Verdict::Done => state.as_str(),
            Verdict::NotOk => "NOT_OK",
            Verdict::Crashed => "CRASHED",
        }
    }
}

impl JobView {
    /// The view of a queued job.
    pub fn of(job: &QueuedJob) -> Self {
        // A report kept from a failed attempt of a job back in the queue is not
        // this job's result yet.
        let report = job
            .report
            .as_ref()
            .filter(|_| job.state != JobState::Scheduled);
        let mut results = BTreeMap::new();
        for d in report.map(|r| r.results.as_slice()).unwrap_or_default() {
            *results.entry(d.outcome.as_str().to_string()).or_insert(0) += 1;
        }
        Self {
            uuid: job.build_id.clone(),
            state: job.state.as_str(),
            item: job.request.item.clone(),
            item_type: job.request.item_type.to_string(),
            task: job.request.taskname.clone(),
            arch: job.request.arch.to_string(),
            plan: job.request.plan.clone(),
            source: job.request.source.clone(),
            attempts: job.attempts,
            worker: job.worker.clone(),
            scheduled_at: job.scheduled_at.clone(),
            updated_at: job.updated_at.clone(),
            duration_ms: report.map(|r| r.duration_ms),
            execution_status: report.map(|r| r.execution_status.as_str()),
            failure: report.and_then(|r| r.failure.clone()),
            status: report.and_then(|r| r.status.clone()),
            outcome: report
                .and_then(|r| r.outcome)
                .map(|o| o.as_str().to_string()),
            results,
            run_id: run_of(job),
            crash: job.crash.as_ref().map(|(cause, detail)| Crash {
                cause: cause.as_str(),
                detail: detail.clone(),
            }),
            origin: job.origin.clone(),
            report: report.cloned(),
        }
    }

    /// How it looks at a glance.
    pub fn verdict(&self) -> Verdict {
        match (self.state, self.execution_status) {
            ("CRASHED", _) => Verdict::Crashed,
            (_, Some("NOT_OK")) if self.state == JobState::Finished.as_str() => Verdict::NotOk,
            ("COMPLETED", _) => Verdict::Done,
            _ => Verdict::Pending,
        }
    }

    /// The one-line summary of what became of it: the outcome and run of an OK
    /// run, the failure of a NOT_OK one, the cause of a crash.
    pub fn summary(&self) -> Option<String> {
        let run = self.run_id.as_deref().unwrap_or("?");
        match self.verdict() {
            Verdict::Crashed => self.crash.as_ref().map(|c| {
                format!(
                    "{}: {}",
                    c.cause,
                    c.detail.lines().next().unwrap_or_default()
                )
            }),
            Verdict::NotOk => Some(format!(
                "NOT_OK{}, run {run}",
                self.failure
                    .as_ref()
                    .map(|f| format!(" {} ({})", f.kind, f.cause.as_str()))
                    .unwrap_or_default()
            )),
            Verdict::Done => Some(format!(
                "{}, run {run}",
                self.outcome.as_deref().unwrap_or("no results")
            )),
            Verdict::Pending => None,
        }
    }
}

/// Why the last attempt of a job that is back in the queue stopped, from the
/// report it left: `run <id> stopped: KOJI_UNREACHABLE: ...` (the first line of
/// its status, the kind said once). `None` for a job that is not waiting for
/// another attempt.
pub fn stopped_attempt(job: &QueuedJob) -> Option<String> {
    if job.state != JobState::Scheduled {
        return None;
    }
    let r = job.report.as_ref()?;
    let kind = r
        .failure
        .as_ref()
        .map_or(String::new(), |f| format!("{}: ", f.kind));
    let status = r.status.as_deref().unwrap_or("an infrastructure failure");
    let status = status.lines().next().unwrap_or_default();
    let status = status.strip_prefix(kind.as_str()).unwrap_or(status);
    Some(format!("run {} stopped: {kind}{status}", r.run_id))
}

/// The run whose artifacts a job's page shows: the running attempt's while it
/// runs, else the report's. Only a plain name, which cannot leave the artifacts
/// directory.
pub fn run_of(job: &QueuedJob) -> Option<String> {
    let report = job.report.as_ref().map(|r| r.run_id.clone());
    let run = if job.state == JobState::Running {
        job.run_id.clone()
    } else {
        report.or_else(|| job.run_id.clone())
    };
    run.filter(|r| !r.is_empty() && r != "." && r != ".." && !r.contains(['/', '\\', '\0']))
}
