//! Advisory locks between processes: `flock(2)` on a file, held as long as the
//! returned `File` lives. The mirror cache takes them per repository; remote runs
//! per destination, while they look for or make its SSH connection.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Locks `path` (created when missing): exclusively, or shared with other readers.
/// Blocks until the lock is had; released when the returned file is dropped.
///
/// # Errors
/// The file cannot be opened, or `flock` fails.
pub fn take(path: &Path, exclusive: bool) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let mode = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    // SAFETY: flock(2) on a descriptor the returned file owns.
    if unsafe { libc::flock(file.as_raw_fd(), mode) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusive_lock_excludes_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = take(&path, true).unwrap();
        let other = OpenOptions::new().write(true).open(&path).unwrap();
        // SAFETY: flock(2) on a descriptor `other` owns.
        let try_lock = || unsafe { libc::flock(other.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_ne!(
            try_lock(),
            0,
            "a second exclusive lock is refused while held"
        );
        drop(held);
        assert_eq!(try_lock(), 0, "and had once the first is dropped");
    }
}
