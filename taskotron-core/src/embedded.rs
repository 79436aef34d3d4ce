//! Files the binary carries and writes out once for the processes a task starts
//! (the `libtaskotron` Python package, the STI roles and Ansible modules).
//!
//! A set of files is written under a directory named after the crate version
//! and a hash of the files, so two binaries never share a stale copy and a
//! second run writes nothing; a new copy is written beside and renamed into
//! place, so runs racing each other never see half of it.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The name of the versioned directory of `files`: crate version and the first
/// 12 hex digits of a hash over every name and text.
pub fn version_dir<N: AsRef<str>, T: AsRef<str>>(files: &[(N, T)]) -> String {
    let mut hash = Sha256::new();
    for (name, text) in files {
        hash.update(name.as_ref().as_bytes());
        hash.update([0]);
        hash.update(text.as_ref().as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", env!("CARGO_PKG_VERSION"))
}

/// Makes sure `files` (paths relative to the copy, and texts) exist under
/// `parent/<version>` and returns that directory. `marker`, one of the paths,
/// is what says a copy is complete.
///
/// # Errors
/// The directory cannot be created or written.
pub fn install<N: AsRef<str>, T: AsRef<str>>(
    parent: &Path,
    version: &str,
    files: &[(N, T)],
    marker: &str,
) -> io::Result<PathBuf> {
    let root = parent.join(version);
    if root.join(marker).is_file() {
        return Ok(root);
    }
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(parent)?;
    for (name, text) in files {
        let path = staging.path().join(name.as_ref());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text.as_ref())?;
    }
    let staged = staging.keep();
    match std::fs::rename(&staged, &root) {
        Ok(()) => Ok(root),
        // Another run installed it first: theirs is as good as ours.
        Err(_) if root.join(marker).is_file() => {
            let _ = std::fs::remove_dir_all(&staged);
            Ok(root)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staged);
            Err(e)
        }
    }
}

/// The files under `dir`, as `/`-separated paths relative to it, sorted (for
/// the tests that hold a compiled-in list to the files on disk).
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for entry in std::fs::read_dir(dir.join(&rel))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = rel.join(entry.file_name());
            if entry.path().is_dir() {
                todo.push(name);
            } else {
                out.push(name.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_once_and_a_changed_file_gets_a_directory_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let files = [("a/b.txt", "one"), ("c.txt", "two")];
        let v = version_dir(&files);
        let root = install(dir.path(), &v, &files, "c.txt").unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("a/b.txt")).unwrap(),
            "one"
        );
        let written = std::fs::metadata(root.join("c.txt"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(install(dir.path(), &v, &files, "c.txt").unwrap(), root);
        assert_eq!(
            std::fs::metadata(root.join("c.txt"))
                .unwrap()
                .modified()
                .unwrap(),
            written
        );
        let changed = [("a/b.txt", "one!"), ("c.txt", "two")];
        assert_ne!(version_dir(&changed), v);
        // Nothing half-written is left beside the copies.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec![v]);
    }
}
