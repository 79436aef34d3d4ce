//! Following files as they grow: an action's output shown live (`--verbose`) while
//! its processes write it to the artifacts.
//!
//! A thread polls the files and hands each complete line to a callback; stopping
//! drains what is left, the last partial line included. Reads go in pieces of at
//! most 64 KiB, so a process printing a gigabyte costs the follower no more memory
//! than one printing a line.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the files are looked at.
const POLL: Duration = Duration::from_millis(50);
/// The most bytes read at a time, and the longest line shown whole.
const PIECE: usize = 64 * 1024;

/// A running follower; [`Follower::stop`] ends it.
#[derive(Debug)]
pub struct Follower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// One followed file: the runner's handle on it (never its name, which a task
/// could replace with a link), the position read so far and the unfinished line.
struct Followed {
    file: File,
    index: usize,
    offset: u64,
    partial: Vec<u8>,
    /// The most bytes read of it.
    limit: u64,
    /// Whether the limit was reached.
    cut: bool,
}

impl Follower {
    /// Follows `files` (open handles); `line(i, text)` gets each line of `files[i]`.
    pub fn start(files: Vec<File>, line: impl FnMut(usize, &str) + Send + 'static) -> Self {
        Self::start_limited(files, u64::MAX, line, |_| {})
    }

    /// As [`Follower::start`], reading at most `limit` bytes of each file: past
    /// it, `cut(i)` is called once and the rest of `files[i]` is left unread, so
    /// following a suite that prints a gigabyte costs a megabyte.
    pub fn start_limited(
        files: Vec<File>,
        limit: u64,
        mut line: impl FnMut(usize, &str) + Send + 'static,
        mut cut: impl FnMut(usize) + Send + 'static,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut followed: Vec<Followed> = files
                .into_iter()
                .enumerate()
                .map(|(index, file)| Followed {
                    file,
                    index,
                    offset: 0,
                    partial: Vec::new(),
                    limit,
                    cut: false,
                })
                .collect();
            loop {
                let last = stopping.load(Ordering::Acquire);
                for f in &mut followed {
                    f.read(&mut line);
                    if f.offset >= f.limit && !f.cut {
                        f.cut = true;
                        cut(f.index);
                    }
                }
                if last {
                    for f in &mut followed {
                        if !f.partial.is_empty() {
                            line(f.index, &String::from_utf8_lossy(&f.partial));
                            f.partial.clear();
                        }
                    }
                    return;
                }
                std::thread::sleep(POLL);
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// Shows what is left and ends the thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.halt();
    }
}

impl Followed {
    /// Reads what was appended since the last look.
    fn read(&mut self, line: &mut impl FnMut(usize, &str)) {
        let mut buf = vec![0; PIECE];
        loop {
            let room = self.limit.saturating_sub(self.offset).min(PIECE as u64) as usize;
            if room == 0 {
                return;
            }
            let n = match self.file.read_at(&mut buf[..room], self.offset) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            self.offset += n as u64;
            let mut rest = &buf[..n];
            while let Some(end) = memchr::memchr(b'\n', rest) {
                self.partial.extend_from_slice(&rest[..end]);
                line(self.index, &String::from_utf8_lossy(&self.partial));
                self.partial.clear();
                rest = &rest[end + 1..];
            }
            self.partial.extend_from_slice(rest);
            if self.partial.len() >= PIECE {
                // A line longer than a piece is shown in pieces.
                line(self.index, &String::from_utf8_lossy(&self.partial));
                self.partial.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Mutex;

    #[test]
    fn lines_come_as_they_are_written_and_the_rest_on_stop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&seen);
        // Read and write, as the runner makes an action's logs.
        let open = |p: &std::path::Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(p)
                .unwrap()
        };
        let mut file = open(&path);
        let quiet = open(&dir.path().join("quiet"));
        let f = Follower::start(vec![file.try_clone().unwrap(), quiet], move |i, l| {
            keep.lock().unwrap().push(format!("{i}:{l}"));
        });
        writeln!(file, "one").unwrap();
        write!(file, "two, unfinished").unwrap();
        file.flush().unwrap();
        std::thread::sleep(POLL * 4);
        assert_eq!(seen.lock().unwrap().as_slice(), ["0:one"]);
        f.stop();
        assert_eq!(
            seen.lock().unwrap().as_slice(),
            ["0:one", "0:two, unfinished"]
        );
    }

    #[test]
    fn a_limited_follower_stops_reading_at_its_limit_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let mut text = String::new();
        for i in 0..1000 {
            text.push_str(&format!("line {i:04}\n"));
        }
        std::fs::write(&path, &text).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (keep, cuts) = (Arc::clone(&seen), Arc::clone(&seen));
        let f = Follower::start_limited(
            vec![File::open(&path).unwrap()],
            100,
            move |_, l| keep.lock().unwrap().push(l.to_string()),
            move |i| cuts.lock().unwrap().push(format!("cut {i}")),
        );
        std::thread::sleep(Duration::from_millis(200));
        f.stop();
        let seen = seen.lock().unwrap();
        // 100 bytes: ten whole lines of ten bytes, then the cut, once.
        assert_eq!(seen.len(), 11, "{seen:?}");
        assert_eq!(seen[9], "line 0009");
        assert_eq!(seen[10], "cut 0");
    }
}
