//! The `libtaskotron` Python package the binary carries, so tasks written against
//! the original API (`from libtaskotron import check`) run with no install step.
//!
//! The package's files are compiled in. [`install`] writes them once under the
//! state directory's cache ([`crate::embedded`]). The `python` directive puts that
//! directory on the task's import path, and so do playbook tasks, whose Python
//! calls the directives through `libtaskotron.directives`.

use std::io;
use std::path::{Path, PathBuf};

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
    (
        "directives/__init__.py",
        include_str!("../python/libtaskotron/directives/__init__.py"),
    ),
];

/// The name of the versioned directory: crate version and the first 12 hex
/// digits of a hash over every file.
pub fn version_dir() -> &'static str {
    static DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DIR.get_or_init(|| crate::embedded::version_dir(&files()))
}

/// Every file of the package, paths relative to the directory put on
/// `sys.path`: the fixed modules, then one `directives/<name>_directive.py` per
/// directive of the registry ([`crate::pydirectives`]).
pub fn files() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = FILES
        .iter()
        .map(|(n, t)| (format!("libtaskotron/{n}"), (*t).to_string()))
        .collect();
    out.extend(crate::pydirectives::files());
    out
}

/// Makes sure the package exists under `cache/python/<version_dir>/libtaskotron`
/// and returns the directory to put on `sys.path` (see [`crate::embedded`]).
///
/// # Errors
/// The cache cannot be written.
pub fn install(cache: &Path) -> io::Result<PathBuf> {
    crate::embedded::install(
        &cache.join("python"),
        version_dir(),
        &files(),
        "libtaskotron/__init__.py",
    )
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
        let mut on_disk = crate::embedded::files_under(&source);
        on_disk.retain(|n| n.ends_with(".py"));
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
        // And every directive has its Python module.
        assert!(root
            .join("libtaskotron/directives/koji_directive.py")
            .is_file());
    }
}
