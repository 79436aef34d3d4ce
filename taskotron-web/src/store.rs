//! The read side: the queue opened read-only for one request, on a blocking thread,
//! and the job as the pages and the API show it. A missing queue file is an empty
//! one (nothing was scheduled yet), never an error.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use taskotron_core::scheduler::{
    JobEvent, JobFilter, JobState, Queue, QueueError, QueuedJob, Waiting,
};

use crate::params::state_name;

/// How long a request waits for a lock (a reader only waits while a writer
/// checkpoints, briefly).
const WAIT: Duration = Duration::from_secs(5);

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The queue file cannot be read.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The blocking thread died.
    #[error("the reading thread failed: {0}")]
    Thread(String),
}

/// Runs `f` on the queue (read-only) on a blocking thread; `None` is handed a
/// missing file.
///
/// # Errors
/// The file exists and cannot be read.
pub async fn read<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce(Option<&Queue>) -> Result<T, QueueError> + Send + 'static,
) -> Result<T, StoreError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        if !path.exists() {
            return f(None);
        }
        let queue = match Queue::open_read_only(
            &path,
            Waiting {
                limit: WAIT,
                notify: None,
            },
        ) {
            Ok(q) => q,
            // Created a moment ago, its schema not written yet: nothing is queued.
            Err(e) if e.is_not_yet_created() => return f(None),
            Err(e) => return Err(e),
        };
        f(Some(&queue))
    })
    .await
    .map_err(|e| StoreError::Thread(e.to_string()))?
    .map_err(StoreError::from)
}

/// One page of jobs and whether another follows.
pub async fn page(
    path: &Path,
    filter: JobFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<QueuedJob>, bool), StoreError> {
    read(path, move |q| {
        let Some(q) = q else {
            return Ok((Vec::new(), false));
        };
        let mut jobs = q.page(&filter, offset, limit + 1)?;
        let more = jobs.len() as u64 > limit;
        jobs.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok((jobs, more))
    })
    .await
}

/// One job and its history.
pub async fn job(
    path: &Path,
    uuid: String,
) -> Result<Option<(QueuedJob, Vec<JobEvent>)>, StoreError> {
    read(path, move |q| {
        let Some(q) = q else {
            return Ok(None);
        };
        match q.get(&uuid)? {
            None => Ok(None),
            Some(job) => Ok(Some((job, q.history(&uuid)?))),
        }
    })
    .await
}

/// A job as the list and the API show it: ExecDB's state names, the run's summary.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    /// The job's uuid (its build id).
    pub uuid: String,
    /// SCHEDULED, RUNNING, COMPLETED or CRASHED.
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
    /// OK or NOT_OK, once it ran.
    pub execution_status: Option<String>,
    /// The worst outcome of its results.
    pub outcome: Option<String>,
    /// How many results of each outcome.
    pub results: std::collections::BTreeMap<String, u64>,
    /// The run's id, which names its artifacts directory.
    pub run_id: Option<String>,
    /// Why it crashed (`task`, `infrastructure`, `timeout`) and what happened.
    pub crash: Option<Crash>,
    /// The message it came from.
    pub origin: Option<taskotron_core::scheduler::JobOrigin>,
}

/// Why a job crashed.
#[derive(Debug, Clone, Serialize)]
pub struct Crash {
    /// `task`, `infrastructure` or `timeout`.
    pub cause: &'static str,
    /// What happened.
    pub detail: String,
}

impl JobView {
    /// The view of a queued job.
    pub fn of(job: &QueuedJob) -> Self {
        let report = job.report.as_ref();
        let mut results = std::collections::BTreeMap::new();
        for d in report.map(|r| r.results.as_slice()).unwrap_or_default() {
            *results.entry(d.outcome.as_str().to_string()).or_insert(0) += 1;
        }
        Self {
            uuid: job.build_id.clone(),
            state: state_name(job.state),
            item: job.request.item.clone(),
            item_type: job.request.item_type.to_string(),
            task: job.request.taskname.clone(),
            arch: job.request.arch.to_string(),
            attempts: job.attempts,
            worker: job.worker.clone(),
            scheduled_at: job.scheduled_at.clone(),
            updated_at: job.updated_at.clone(),
            // A report kept from a failed attempt of a job back in the queue is not
            // this job's result yet.
            duration_ms: report
                .filter(|_| job.state != JobState::Scheduled)
                .map(|r| r.duration_ms),
            execution_status: report
                .filter(|_| job.state != JobState::Scheduled)
                .map(|r| r.execution_status.as_str().to_string()),
            outcome: report
                .and_then(|r| r.outcome)
                .map(|o| o.as_str().to_string()),
            results,
            run_id: crate::live::run_of(job),
            crash: job.crash.as_ref().map(|(cause, detail)| Crash {
                cause: cause.as_str(),
                detail: detail.clone(),
            }),
            origin: job.origin.clone(),
        }
    }
}
