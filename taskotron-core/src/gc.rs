//! What `taskotron gc` removes: run directories (`<artifacts>/<run_id>/`) and the
//! workdirs NOT_OK runs keep for a look (`<tmpdir>/<run_id>/`), by when they last
//! changed. Jobs are the queue's (`Queue::forget_before`).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The directories directly under `root` last changed before `before`, sorted;
/// nothing when `root` does not exist.
pub fn old_directories(root: &Path, before: SystemTime) -> Vec<PathBuf> {
    let mut old: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < before)
                && e.file_type().is_ok_and(|t| t.is_dir())
        })
        .map(|e| e.path())
        .collect();
    old.sort();
    old
}

/// Removes `dirs`; returns those that could not be removed, with why.
pub fn remove(dirs: &[PathBuf]) -> Vec<(PathBuf, std::io::Error)> {
    dirs.iter()
        .filter_map(|d| std::fs::remove_dir_all(d).err().map(|e| (d.clone(), e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_directories_older_than_the_age() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("run-1")).unwrap();
        std::fs::write(root.path().join("a-file"), "x").unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        let earlier = SystemTime::now() - std::time::Duration::from_secs(3600);
        assert_eq!(old_directories(root.path(), earlier), Vec::<PathBuf>::new());
        let old = old_directories(root.path(), later);
        assert_eq!(old, [root.path().join("run-1")]);
        assert!(remove(&old).is_empty());
        assert!(!root.path().join("run-1").exists());
        assert!(old_directories(&root.path().join("missing"), later).is_empty());
    }
}
