//! The `libtaskotron` Python package the binary carries, so tasks written against
//! the original API (`from libtaskotron import check`) run with no install step.
//!
//! The package's files are compiled in. [`install`] writes them once under the
//! state directory's cache, in a directory named after the crate version and a
//! hash of the files, so two binaries never share a stale copy and a second run
//! writes nothing. The `python` directive puts that directory on the task's import
//! path.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The package's files: path inside `libtaskotron/`, and text.
pub const FILES: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("../python/libtaskotron/__init__.py"),
    ),
    ("check.py", include_str!("../python/libtaskotron/check.py")),
    (
        "exceptions.py",
        include_str!("../python/libtaskotron/exceptions.py"),
    ),
    (
        "logger.py",
        include_str!("../python/libtaskotron/logger.py"),
    ),
    ("_yaml.py", include_str!("../python/libtaskotron/_yaml.py")),
];

/// The name of the versioned directory: crate version and the first 12 hex digits
/// of a hash over every file.
pub fn version_dir() -> &'static str {
    static DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DIR.get_or_init(compute_version_dir)
}

fn compute_version_dir() -> String {
    let mut hash = Sha256::new();
    for (name, text) in FILES {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(text.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", env!("CARGO_PKG_VERSION"))
}

/// Makes sure the package exists under `cache/python/<version_dir>/libtaskotron`
/// and returns the directory to put on `sys.path`. A complete copy is never
/// rewritten; a new one is written beside and renamed into place, so runs racing
/// each other never see half a package.
pub fn install(cache: &Path) -> io::Result<PathBuf> {
    let root = cache.join("python").join(version_dir());
    if root.join("libtaskotron").join("__init__.py").is_file() {
        return Ok(root);
    }
    std::fs::create_dir_all(cache.join("python"))?;
    let staging = tempfile::Builder::new()
        .prefix(".libtaskotron-")
        .tempdir_in(cache.join("python"))?;
    let package = staging.path().join("libtaskotron");
    std::fs::create_dir_all(&package)?;
    for (name, text) in FILES {
        std::fs::write(package.join(name), text)?;
    }
    let staged = staging.keep();
    match std::fs::rename(&staged, &root) {
        Ok(()) => Ok(root),
        // Another run installed it first: theirs is as good as ours.
        Err(_) if root.join("libtaskotron").join("__init__.py").is_file() => {
            let _ = std::fs::remove_dir_all(&staged);
            Ok(root)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staged);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once_and_every_file_is_in_the_list() {
        let dir = tempfile::tempdir().unwrap();
        let root = install(dir.path()).unwrap();
        let init = root.join("libtaskotron/__init__.py");
        let written = std::fs::metadata(&init).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(install(dir.path()).unwrap(), root);
        assert_eq!(
            std::fs::metadata(&init).unwrap().modified().unwrap(),
            written
        );
        // A file added to python/libtaskotron must be compiled in too.
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/libtaskotron");
        let mut on_disk: Vec<String> = std::fs::read_dir(source)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".py"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }
}
