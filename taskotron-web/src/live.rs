//! `/jobs/<uuid>/log`: the log of a job's current run (`<artifacts>/<run_id>/
//! taskotron.log`) as Server-Sent Events, so that a job page can follow a running
//! job. The run id is in the queue from the moment the run starts
//! (`Queue::started`), before any report exists.
//!
//! Each `message` event carries the complete lines written since the last one, with
//! the byte offset after them as its `id`: a browser that reconnects sends it back
//! as `Last-Event-ID` and misses nothing. Once the job is no longer RUNNING the rest
//! of the file is sent and an `end` event (its data: the job's state) closes the
//! stream. The file is only read; the queue is read through its own read-only
//! connection, at most once a second per stream.

use std::convert::Infallible;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use taskotron_core::scheduler::{JobState, QueuedJob};

use crate::params::ParamError;
use crate::store;
use crate::WebSettings;

/// The file followed: the runner's log of the run.
pub const LOG: &str = "taskotron.log";

/// How often the file is looked at for new lines.
const POLL: Duration = Duration::from_millis(250);
/// How often the queue is asked whether the job still runs.
const STATE_EVERY: Duration = Duration::from_secs(1);
/// The most one event carries; a longer run of bytes is split over several.
const CHUNK: usize = 64 * 1024;
/// The most of the log a job page shows when it is rendered.
pub const PAGE_TAIL: u64 = 64 * 1024;

/// The run whose log a job's page follows: the current attempt's while it runs,
/// else the run that made its report (or the last that started). `None` when no run
/// has started or the id could not name a directory.
pub fn run_of(job: &QueuedJob) -> Option<String> {
    taskotron_core::scheduler::run_of(job).filter(|r| crate::artifacts::is_plain_name(r))
}

/// What a job page shows of a running job's log when it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTail {
    /// The last lines (at most [`PAGE_TAIL`] bytes, starting at a line).
    pub text: String,
    /// The offset after them, where the live stream takes over.
    pub offset: u64,
}

/// The end of the log of run `run`, as the page shows it; empty when the run has
/// written nothing yet.
pub fn tail(artifacts: &Path, run: &str) -> LogTail {
    let read = || -> std::io::Result<LogTail> {
        let mut f = open_log(artifacts, run)?;
        let len = f.metadata()?.len();
        let start = len.saturating_sub(PAGE_TAIL);
        f.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        f.take(len - start).read_to_end(&mut bytes)?;
        // Start at a line: a cut in the middle of one (or of a character) is dropped.
        let skip = if start > 0 {
            bytes.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1)
        } else {
            0
        };
        Ok(LogTail {
            text: String::from_utf8_lossy(&bytes[skip..]).into_owned(),
            offset: len,
        })
    };
    read().unwrap_or(LogTail {
        text: String::new(),
        offset: 0,
    })
}

/// The log of run `run`, opened beneath the artifacts directory without following
/// a link: the running task can write its run's directory, and a link it left at
/// the log's name would otherwise stream another file to the page.
fn open_log(artifacts: &Path, run: &str) -> std::io::Result<std::fs::File> {
    let rel = Path::new(run).join(LOG);
    taskotron_beneath::Dir::open(artifacts)
        .and_then(|d| d.read(&rel))
        .map_err(std::io::Error::other)
}

/// Reads the `from` parameter (the offset to start at).
fn from_param(raw: Option<&str>) -> Result<Option<u64>, ParamError> {
    let mut from = None;
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let err = |reason: String| ParamError {
            name: name.to_string(),
            reason,
        };
        if name != "from" {
            return Err(err("unknown; the only parameter is `from`".into()));
        }
        if from.is_some() {
            return Err(err("given more than once".into()));
        }
        from = Some(
            value
                .parse::<u64>()
                .map_err(|_| err(format!("`{value}` is not a byte offset (0, 1, ...)")))?,
        );
    }
    Ok(from)
}

/// `/jobs/<uuid>/log`.
pub async fn log(
    State(s): State<Arc<WebSettings>>,
    UrlPath(uuid): UrlPath<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let from = match from_param(raw.as_deref()) {
        Ok(f) => f,
        Err(e) => return crate::pages::bad_request(&e),
    };
    // A reconnecting browser says where it was; that wins over the page's offset.
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let job = match store::job(&s.queue, uuid.clone()).await {
        Ok(Some((job, _))) => job,
        Ok(None) => {
            return crate::pages::error_page(
                StatusCode::NOT_FOUND,
                "No such job",
                "No job has this id; it may have been removed by `taskotron gc`.",
            )
        }
        Err(e) => return crate::pages::unavailable(&e),
    };
    let Some(run) = run_of(&job) else {
        return crate::pages::error_page(
            StatusCode::NOT_FOUND,
            "No log yet",
            "No run of this job has started yet.",
        );
    };
    let follow = Follow {
        artifacts: s.artifacts.clone(),
        offset: resumed.or(from).unwrap_or(0),
        queue: s.queue.clone(),
        uuid,
        run,
        checked: None,
        phase: Phase::Following,
    };
    let stream = futures_lite::stream::unfold(follow, next);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The job runs: send complete lines as they come.
    Following,
    /// The job stopped running (in this state): send the rest, then `end`.
    Ending(&'static str),
    Done,
}

/// One stream's place in the file.
#[derive(Debug)]
struct Follow {
    artifacts: PathBuf,
    offset: u64,
    queue: PathBuf,
    uuid: String,
    run: String,
    checked: Option<Instant>,
    phase: Phase,
}

/// The next event of a stream, waiting for one as long as the job runs.
async fn next(mut f: Follow) -> Option<(Result<Event, Infallible>, Follow)> {
    loop {
        match f.phase {
            Phase::Done => return None,
            Phase::Ending(state) => {
                if let Some(event) = f.read(false).await {
                    return Some((Ok(event), f));
                }
                f.phase = Phase::Done;
                return Some((Ok(Event::default().event("end").data(state)), f));
            }
            Phase::Following => {
                if let Some(event) = f.read(true).await {
                    return Some((Ok(event), f));
                }
                if f.checked.is_none_or(|t| t.elapsed() >= STATE_EVERY) {
                    f.checked = Some(Instant::now());
                    if let Some(state) = f.ended().await {
                        f.phase = Phase::Ending(state);
                        continue;
                    }
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

impl Follow {
    /// The bytes after the offset as one event (only whole lines when `whole_lines`),
    /// moving the offset past them; `None` when there is nothing to send.
    async fn read(&mut self, whole_lines: bool) -> Option<Event> {
        let (artifacts, run, offset) = (self.artifacts.clone(), self.run.clone(), self.offset);
        let bytes = tokio::task::spawn_blocking(move || read_at(&artifacts, &run, offset))
            .await
            .ok()?;
        let end = if whole_lines {
            match bytes.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                // One line longer than a chunk is sent in pieces.
                None if bytes.len() >= CHUNK => bytes.len(),
                None => return None,
            }
        } else {
            bytes.len()
        };
        if end == 0 {
            return None;
        }
        self.offset += end as u64;
        let text = String::from_utf8_lossy(&bytes[..end]);
        // SSE lines end at CR too: a progress bar's `\r` becomes a new line.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        Some(
            Event::default()
                .id(self.offset.to_string())
                .data(text.strip_suffix('\n').unwrap_or(&text)),
        )
    }

    /// The job's state once it no longer runs this run (finished, crashed, back in
    /// the queue or removed); `None` while it does, or when the queue cannot say.
    async fn ended(&self) -> Option<&'static str> {
        let (uuid, run) = (self.uuid.clone(), self.run.clone());
        let job = store::read(&self.queue, move |q| match q {
            Some(q) => q.get(&uuid),
            None => Ok(None),
        })
        .await;
        match job {
            Err(_) => None,
            Ok(None) => Some("REMOVED"),
            Ok(Some(job)) if job.state == JobState::Running && run_of(&job) == Some(run) => None,
            Ok(Some(job)) => Some(crate::params::state_name(job.state)),
        }
    }
}

/// Up to [`CHUNK`] bytes of `path` from `offset`; nothing when it cannot be read
/// (not written yet) or ends before.
fn read_at(artifacts: &Path, run: &str, offset: u64) -> Vec<u8> {
    let read = || -> std::io::Result<Vec<u8>> {
        let mut f = open_log(artifacts, run)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        f.take(CHUNK as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    read().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_parameter_is_read_strictly() {
        assert_eq!(from_param(None), Ok(None));
        assert_eq!(from_param(Some("from=120")), Ok(Some(120)));
        let e = from_param(Some("from=-1")).unwrap_err();
        assert_eq!(e.name, "from");
        assert!(e.reason.contains("byte offset"), "{e}");
        assert_eq!(from_param(Some("frm=1")).unwrap_err().name, "frm");
        assert!(from_param(Some("from=1&from=2")).is_err());
    }

    #[test]
    fn a_page_shows_the_end_of_the_log_from_a_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("r-1")).unwrap();
        let mut text = String::new();
        for n in 0..10_000 {
            text.push_str(&format!("line {n}\n"));
        }
        std::fs::write(dir.path().join("r-1").join(LOG), &text).unwrap();
        let t = tail(dir.path(), "r-1");
        assert_eq!(t.offset, text.len() as u64);
        assert!(t.text.len() as u64 <= PAGE_TAIL);
        assert!(t.text.starts_with("line ") && t.text.ends_with("line 9999\n"));
        assert!(text.ends_with(&t.text));
        assert_eq!(tail(dir.path(), "r-2").offset, 0, "nothing written yet");
    }
}
