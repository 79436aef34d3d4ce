//! The Python interpreters a test can run tasks on: Python 3 always; Python 2.7
//! where one exists (on `PATH`, or installed by pyenv), since tasks from 2014–2018
//! were written for it.

use std::path::PathBuf;
use std::process::Command;

/// A Python 2.7 interpreter that really runs, or `None`. A pyenv shim that is on
/// `PATH` but has no 2.7 selected does not count.
pub fn python27() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = vec!["python2.7".into(), "python2".into()];
    if let Some(home) = std::env::var_os("HOME") {
        let versions = PathBuf::from(home).join(".pyenv/versions");
        if let Ok(entries) = std::fs::read_dir(versions) {
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("2.7"))
                .map(|e| e.path().join("bin/python2.7"))
                .collect();
            found.sort();
            candidates.extend(found.into_iter().rev());
        }
    }
    candidates.into_iter().find(|c| {
        Command::new(c)
            .args(["-c", "import sys; assert sys.version_info[:2] == (2, 7)"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The interpreters to run a Python test on: `python3`, and Python 2.7 when
/// [`python27`] finds one (a line on stderr says when it does not).
pub fn interpreters() -> Vec<PathBuf> {
    let mut all = vec![PathBuf::from("python3")];
    match python27() {
        Some(p) => all.push(p),
        None => eprintln!("skipped on Python 2.7: no python2.7 interpreter on this machine"),
    }
    all
}
