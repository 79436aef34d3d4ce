//! Real git repositories for tests: `git` with a fixed identity, and a bare repository
//! made from a directory's files in one commit.

use std::path::Path;
use std::process::Command;

/// Runs `git args` in `cwd` with a test identity and `main` as the first branch.
///
/// # Panics
/// git fails.
pub fn git(args: &[&str], cwd: &Path) {
    let ok = Command::new("git")
        .args(["-c", "user.name=tests", "-c", "user.email=tests@example"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(cwd)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?} in {}", cwd.display());
}

/// Commits the files of `work` (made a repository if it is not one) and clones them
/// bare to `bare`; returns the commit id.
///
/// # Panics
/// git fails.
pub fn publish(work: &Path, bare: &Path) -> String {
    if !work.join(".git").exists() {
        git(&["init", "-q"], work);
    }
    git(&["add", "."], work);
    git(&["commit", "-qm", "task"], work);
    std::fs::create_dir_all(bare.parent().expect("a parent")).expect("bare's parent");
    git(
        &[
            "clone",
            "-q",
            "--bare",
            &work.display().to_string(),
            &bare.display().to_string(),
        ],
        work,
    );
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(work)
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
