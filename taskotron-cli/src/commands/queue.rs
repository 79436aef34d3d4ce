//! What the commands of the embedded queue share: opening it (saying when another
//! process holds it), reporting its failures, and a job as one line.

use taskotron_core::config::Config;
use taskotron_core::scheduler::{JobView, Queue, QueueError, QueuedJob, Waiting};
use taskotron_core::Diagnostic;

use crate::error::ExpectedError;
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

/// A queue that failed as a command's error: invalid input when the state
/// directory itself is unusable (a configuration problem), a failure otherwise.
pub fn queue_failed(e: &QueueError) -> ExpectedError {
    let mut d = Diagnostic::error(e.to_string());
    if let Some(help) = e.help() {
        d = d.help(help);
    }
    match e {
        QueueError::Io { .. } => ExpectedError::invalid(d),
        _ => ExpectedError::failed(d),
    }
}

/// One job as a line for people: its state, what it is, and what became of it
/// (the outcome of an OK run, the failure of a NOT_OK one, a crash's cause).
pub fn line(job: &QueuedJob) -> String {
    let v = JobView::of(job);
    let mut text = format!(
        "{:<9} {} {} {} {} on {}",
        v.state, v.uuid, v.task, v.item_type, v.item, v.arch
    );
    if let Some(summary) = v.summary() {
        text.push_str(&format!(" ({summary})"));
    }
    text
}
