//! The scheduler port: where the trigger hands the jobs a message led to. A
//! [`Scheduler`] accepts them durably before it returns, so the trigger may then
//! acknowledge the message upstream ("nothing is lost"), and it accepts each message
//! id once, so a message the bus delivers again (its acknowledgement was lost in a
//! broker restart) never yields its jobs twice.
//!
//! [`Queue`] is the durable implementation: the embedded SQLite job queue in the state
//! directory, which workers claim jobs from. The mock that records jobs in memory
//! lives in `taskotron-mock`.

mod feed;
mod job_view;
mod queue;
mod view;

pub use feed::FedEvent;
pub use job_view::{run_of, stopped_attempt, Crash, JobView, Verdict};
pub use queue::{CrashCause, JobEvent, JobOrigin, JobState, Queue, QueueError, QueuedJob, Waiting};
pub use view::{Durations, JobFilter, DURATION_BUCKETS};

use taskotron_model::dict::JobRequest;

/// Where a batch of jobs came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The message's id; `None` for a message without one (it cannot be deduplicated).
    pub message_id: Option<&'a str>,
    /// The message's topic.
    pub topic: &'a str,
}

/// What [`Scheduler::accept`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The jobs are stored durably; this many.
    New(usize),
    /// This message id was accepted before; nothing was added.
    AlreadyAccepted,
}

/// Why the jobs could not be handed over. The message must not be acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The durable store could not be written.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The scheduler is not available now (a mock's injected fault, a queue that is down).
    #[error("the scheduler is unavailable: {0}")]
    Unavailable(String),
    /// The message's jobs could not be made now (the trigger could not reach Koji or
    /// dist-git to find a build's plans); the message should come again.
    #[error("cannot make the message's jobs now: {0}")]
    NotYet(String),
}

/// The port the trigger hands jobs to.
pub trait Scheduler {
    /// Stores `jobs` durably, once per message id.
    ///
    /// # Errors
    /// Nothing was stored; the message should come again later.
    fn accept(
        &mut self,
        origin: Origin<'_>,
        jobs: &[JobRequest],
    ) -> Result<Accepted, SchedulerError>;
}

/// The scheduler of `--dry-run`: accepts everything and stores nothing.
#[derive(Debug, Default)]
pub struct DryRun;

impl Scheduler for DryRun {
    fn accept(
        &mut self,
        _origin: Origin<'_>,
        jobs: &[JobRequest],
    ) -> Result<Accepted, SchedulerError> {
        Ok(Accepted::New(jobs.len()))
    }
}
