//! An append-only JSON-lines journal of accepted jobs, one line per message:
//! `{"message_id", "topic", "accepted_at", "jobs": [JobRequest...]}`. Each line is
//! written with one `write` on an `O_APPEND` file and `fdatasync`ed before
//! [`Scheduler::accept`] returns. A line cut short by a crash is the last one and was
//! never acknowledged; opening the journal drops it. An exclusive `flock` keeps a
//! second trigger from writing the same journal.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{Accepted, Origin, Scheduler, SchedulerError};
use crate::dict::JobRequest;

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The message the jobs came from.
    pub message_id: Option<String>,
    /// Its topic.
    pub topic: String,
    /// When the jobs were accepted (RFC 3339).
    pub accepted_at: String,
    /// The jobs.
    pub jobs: Vec<JobRequest>,
}

/// The journal, open for appending.
#[derive(Debug)]
pub struct JobJournal {
    path: PathBuf,
    file: File,
    seen: HashSet<String>,
    entries: Vec<JournalEntry>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SchedulerError + '_ {
    move |source| SchedulerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl JobJournal {
    /// Opens (or creates) the journal at `path`, reads what it holds, and locks it.
    ///
    /// # Errors
    /// The file cannot be created, read or locked (another trigger holds it), or a
    /// line other than the last is not a journal entry.
    pub fn open(path: &Path) -> Result<Self, SchedulerError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(path))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io(path))?;
        // SAFETY: flock on a descriptor we own; the lock goes with the file.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(SchedulerError::Unavailable(format!(
                "`{}` is in use by another trigger",
                path.display()
            )));
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io(path))?;
        let mut entries = Vec::new();
        let mut good = 0usize;
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (n, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                good += line.len();
                continue;
            }
            // Only the last piece can lack its newline: a write a crash cut short.
            match (
                serde_json::from_str::<JournalEntry>(line.trim_end()),
                line.ends_with('\n'),
            ) {
                (_, false) => break,
                (Ok(e), true) => {
                    entries.push(e);
                    good += line.len();
                }
                (Err(e), true) => {
                    return Err(SchedulerError::Io {
                        path: path.to_path_buf(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("line {}: not a journal entry: {e}", n + 1),
                        ),
                    })
                }
            }
        }
        if good < text.len() {
            // The torn tail of a write a crash interrupted: it was never acknowledged.
            file.set_len(good as u64).map_err(io(path))?;
            file.sync_data().map_err(io(path))?;
        }
        let seen = entries
            .iter()
            .filter_map(|e| e.message_id.clone())
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            file,
            seen,
            entries,
        })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }

    /// The jobs accepted within `window` before `now`, with when, to seed the
    /// trigger's dedupe memory after a restart.
    pub fn recent(&self, now: SystemTime, window: Duration) -> Vec<(JobRequest, SystemTime)> {
        let since = now.checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH);
        self.entries
            .iter()
            .filter_map(|e| {
                let at = humantime::parse_rfc3339(&e.accepted_at).ok()?;
                (at >= since).then(|| e.jobs.iter().map(move |j| (j.clone(), at)))
            })
            .flatten()
            .collect()
    }
}

impl Scheduler for JobJournal {
    fn accept(
        &mut self,
        origin: Origin<'_>,
        jobs: &[JobRequest],
    ) -> Result<Accepted, SchedulerError> {
        if let Some(id) = origin.message_id {
            if self.seen.contains(id) {
                return Ok(Accepted::AlreadyAccepted);
            }
        }
        let entry = JournalEntry {
            message_id: origin.message_id.map(str::to_string),
            topic: origin.topic.to_string(),
            accepted_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            jobs: jobs.to_vec(),
        };
        let mut line = serde_json::to_vec(&entry).map_err(|e| SchedulerError::Io {
            path: self.path.clone(),
            source: e.into(),
        })?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(io(&self.path))?;
        self.file.sync_data().map_err(io(&self.path))?;
        if let Some(id) = &entry.message_id {
            self.seen.insert(id.clone());
        }
        self.entries.push(entry);
        Ok(Accepted::New(jobs.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Arch, ItemType};

    fn job(item: &str) -> JobRequest {
        JobRequest {
            item: item.into(),
            item_type: ItemType::KojiBuild,
            taskname: "rpmlint".into(),
            arch: Arch::X86_64,
        }
    }

    fn origin(id: &str) -> Origin<'_> {
        Origin {
            message_id: Some(id),
            topic: "buildsys.build.state.change",
        }
    }

    #[test]
    fn accepts_each_message_once_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trigger/jobs.jsonl");
        {
            let mut j = JobJournal::open(&path).unwrap();
            assert_eq!(
                j.accept(origin("m-1"), &[job("a-1-1.fc39")]).unwrap(),
                Accepted::New(1)
            );
            assert_eq!(
                j.accept(origin("m-1"), &[job("a-1-1.fc39")]).unwrap(),
                Accepted::AlreadyAccepted
            );
            assert!(
                matches!(JobJournal::open(&path), Err(SchedulerError::Unavailable(m)) if m.contains("in use")),
                "a second trigger on the same journal is refused"
            );
        }
        let mut j = JobJournal::open(&path).unwrap();
        assert_eq!(
            j.accept(origin("m-1"), &[job("a-1-1.fc39")]).unwrap(),
            Accepted::AlreadyAccepted
        );
        assert_eq!(
            j.accept(origin("m-2"), &[job("b-1-1.fc39")]).unwrap(),
            Accepted::New(1)
        );
        assert_eq!(j.entries().len(), 2);
        let recent = j.recent(SystemTime::now(), Duration::from_secs(60));
        assert_eq!(recent.len(), 2);
        assert!(j
            .recent(
                SystemTime::now() + Duration::from_secs(3600),
                Duration::from_secs(60)
            )
            .is_empty());
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_a_corrupt_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.jsonl");
        {
            let mut j = JobJournal::open(&path).unwrap();
            j.accept(origin("m-1"), &[job("a-1-1.fc39")]).unwrap();
        }
        let whole = std::fs::read(&path).unwrap();
        let mut torn = whole.clone();
        torn.extend_from_slice(br#"{"message_id":"m-2","topic":"#);
        std::fs::write(&path, &torn).unwrap();
        {
            let mut j = JobJournal::open(&path).unwrap();
            assert_eq!(j.entries().len(), 1);
            assert_eq!(std::fs::read(&path).unwrap(), whole, "the torn tail is cut");
            assert_eq!(
                j.accept(origin("m-2"), &[job("b-1-1.fc39")]).unwrap(),
                Accepted::New(1),
                "a torn message was never acknowledged, so it is accepted when it comes again"
            );
        }
        let mut corrupt = b"garbage\n".to_vec();
        corrupt.extend_from_slice(&whole);
        std::fs::write(&path, corrupt).unwrap();
        let e = JobJournal::open(&path).unwrap_err().to_string();
        assert!(e.contains("line 1: not a journal entry"), "{e}");
    }
}
