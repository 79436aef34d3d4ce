//! The durable spool: every result is written here before it is sent and removed
//! once ResultsDB has it, so a crash, a kill or a dead server loses nothing and
//! `taskotron report --resume` sends what is left. One file per result, written to a
//! temporary name, synced, then renamed into place.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ResultPayload;

/// One result waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The result's own id (also in its data).
    pub result_id: String,
    /// What to send.
    pub payload: ResultPayload,
    /// Set once a send may have reached the server: look before sending again.
    #[serde(default)]
    pub ambiguous: bool,
}

/// A directory of entries.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool in `dir` (created when needed).
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir.join("rejected"))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Where the spool is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, result_id: &str) -> PathBuf {
        self.dir.join(format!("{result_id}.json"))
    }

    /// Writes `entry` durably (replacing an older version of it).
    ///
    /// # Errors
    /// The file cannot be written or synced.
    pub fn put(&self, entry: &Entry) -> io::Result<()> {
        let tmp = self.dir.join(format!(".{}.tmp", entry.result_id));
        let written = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(&serde_json::to_vec(entry).map_err(io::Error::other)?)?;
            f.sync_all()?;
            fs::rename(&tmp, self.path(&entry.result_id))
        })();
        if written.is_err() {
            // A full disk leaves no half-written file behind.
            let _ = fs::remove_file(&tmp);
        }
        written?;
        File::open(&self.dir)?.sync_all()
    }

    /// Forgets a delivered entry.
    ///
    /// # Errors
    /// The file cannot be removed.
    pub fn remove(&self, result_id: &str) -> io::Result<()> {
        match fs::remove_file(self.path(result_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Moves an entry the server refused aside, with the reason, so it is not retried
    /// forever and not lost either.
    ///
    /// # Errors
    /// The files cannot be moved or written.
    pub fn reject(&self, result_id: &str, reason: &str) -> io::Result<()> {
        let target = self.dir.join("rejected").join(format!("{result_id}.json"));
        fs::rename(self.path(result_id), &target)?;
        fs::write(target.with_extension("reason"), reason)
    }

    /// Every entry waiting, oldest file first. Unreadable files are reported, not
    /// skipped silently.
    ///
    /// # Errors
    /// The directory cannot be read, or an entry is corrupt.
    pub fn pending(&self) -> io::Result<Vec<Entry>> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                (
                    fs::metadata(&p)
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH),
                    p,
                )
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| {
                let text = fs::read(&p)?;
                serde_json::from_slice(&text).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", p.display()))
                })
            })
            .collect()
    }
}
