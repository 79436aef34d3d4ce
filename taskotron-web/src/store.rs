//! The read side: the queue opened read-only for one request, on a blocking thread,
//! and the job as the pages and the API show it. A missing queue file is an empty
//! one (nothing was scheduled yet), never an error.

use std::path::Path;
use std::time::Duration;

use taskotron_core::scheduler::{JobEvent, JobFilter, Queue, QueueError, QueuedJob, Waiting};

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

/// A job as the list and the API show it: the one shape every listing shares.
pub use taskotron_core::scheduler::{Crash, JobView};
