//! `taskotron tests|plans ls|export` against tmt 1.80 (from PyPI, in
//! `target/tmt-venv`) on the tmt task of `tasks/` and on generated trees: the
//! same names, and the same exported fields and values, for several contexts.
//! `cargo xtask integration` installs tmt and runs these.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use taskotron_tests::bin::taskotron;
use taskotron_tests::fmf::generated_tree;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmt() -> PathBuf {
    root().join("target/tmt-venv/bin/tmt")
}

/// `tmt [-c ...] <args>` run in `dir`, its stdout parsed as JSON (or as names).
fn theirs(dir: &Path, context: &[&str], args: &[&str]) -> String {
    let mut c = Command::new(tmt());
    for pair in context {
        c.args(["-c", pair]);
    }
    let o = c
        .args(args)
        .current_dir(dir)
        .output()
        .expect("target/tmt-venv (cargo xtask integration installs it)");
    assert!(
        o.status.success(),
        "tmt {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn ours(dir: &Path, context: &[&str], args: &[&str]) -> String {
    let mut c = Command::new(taskotron());
    c.args(args).arg("--root").arg(dir);
    for pair in context {
        c.args(["-c", pair]);
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "taskotron {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Compares every listing for `dir` under `context`.
fn compare(dir: &Path, context: &[&str]) {
    for kind in ["tests", "plans"] {
        let t = json(&theirs(dir, context, &[kind, "export", "--how", "json"]));
        let o = json(&ours(dir, context, &[kind, "export", "--format", "json"]));
        assert_eq!(o, t, "{kind} export with {context:?} in {}", dir.display());
        let t = theirs(dir, context, &[kind, "ls"]);
        let o = ours(dir, context, &[kind, "ls"]);
        assert_eq!(o, t, "{kind} ls with {context:?}");
    }
    for filter in ["tag: quick", "tier: 2", "tag: -known-failure & tier: 1"] {
        let t = theirs(dir, context, &["tests", "ls", "--filter", filter]);
        let o = ours(dir, context, &["tests", "ls", "--filter", filter]);
        assert_eq!(o, t, "tests ls --filter {filter:?} with {context:?}");
    }
}

const CONTEXTS: &[&[&str]] = &[
    &[],
    &["distro=fedora-39"],
    &["distro=fedora-41", "arch=s390x"],
    &["distro=centos-stream-9", "arch=aarch64"],
    &["distro=Fedora-41"],
];

#[test]
#[ignore = "needs target/tmt-venv; run by cargo xtask integration"]
fn the_tmt_task_lists_and_exports_as_tmt_does() {
    let dir = root().join("tasks/tmt-smoke");
    for context in CONTEXTS {
        compare(&dir, context);
    }
}

#[test]
#[ignore = "needs target/tmt-venv; run by cargo xtask integration"]
fn generated_trees_list_and_export_as_tmt_does() {
    // tmt takes seconds per listing: two trees, three contexts.
    for seed in 1..3 {
        let dir = tempfile::tempdir().unwrap();
        generated_tree(dir.path(), 40, seed);
        for context in &CONTEXTS[..3] {
            compare(dir.path(), context);
        }
    }
}
