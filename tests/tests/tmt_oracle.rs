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

/// Compares `--condition` and `--link` listings for `dir` under `context` (tmt
/// takes seconds each, so once per tree).
fn compare_selections(dir: &Path, context: &[&str]) {
    // tmt runs a condition through Python's eval, and only when told it is safe.
    for condition in [
        "tier == '1'",
        "tier == 1 or 'slow' in tag",
        "'quick' not in tag and duration != '5m'",
        "component[0].startswith('pkg') and len(tag) > 0",
    ] {
        let mut args = vec!["--feeling-safe", "tests", "ls", "--condition", condition];
        let t = theirs(dir, context, &args);
        args.remove(0);
        let o = ours(dir, context, &args);
        assert_eq!(o, t, "tests ls --condition {condition:?} with {context:?}");
    }
    for link in ["verifies:bugzilla", "bugzilla", "relates:.*"] {
        let t = theirs(dir, context, &["tests", "ls", "--link", link]);
        let o = ours(dir, context, &["tests", "ls", "--link", link]);
        assert_eq!(o, t, "tests ls --link {link:?} with {context:?}");
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
    compare_selections(&dir, CONTEXTS[1]);
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
        if seed == 1 {
            compare_selections(dir.path(), CONTEXTS[2]);
        }
    }
}

/// tmt's `results.yaml` of a plan, by test name, with what differs by nature
/// left out: timestamps and durations, tmt's own class tags, its extra
/// `failures.yaml` log.
fn comparable(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let list: Vec<Value> = serde_norway::from_str(&text).unwrap();
    list.into_iter()
        .map(|mut r| {
            let o = r.as_object_mut().unwrap();
            for k in ["__class__", "start-time", "end-time", "duration"] {
                o.remove(k);
            }
            if let Some(g) = o.get_mut("guest").and_then(Value::as_object_mut) {
                g.remove("__class__");
            }
            if let Some(Value::Array(logs)) = o.get_mut("log") {
                logs.retain(|l| !l.as_str().unwrap_or("").ends_with("failures.yaml"));
            }
            r
        })
        .collect()
}

#[test]
#[ignore = "needs target/tmt-venv and rsync; run by cargo xtask integration"]
fn a_plan_run_writes_the_results_yaml_tmt_writes() {
    let dir = root().join("tasks/tmt-smoke");
    let work = tempfile::tempdir().unwrap();
    let tmt_run = work.path().join("tmt-run");
    let o = Command::new(tmt())
        .args([
            "--feeling-safe",
            "-c",
            "distro=fedora-41",
            "-c",
            "arch=x86_64",
            "-c",
            "trigger=build",
            "run",
            "-i",
        ])
        .arg(&tmt_run)
        .args([
            "-a",
            "provision",
            "-h",
            "local",
            "plan",
            "-n",
            "/plans/smoke",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    // tmt run exits 1 when a test failed, as this plan's `fails` does.
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let artifacts = work.path().join("ours");
    let o = Command::new(taskotron())
        .args(["run"])
        .arg(&dir)
        .args([
            "-i",
            "tmt-smoke-1.0-1.fc41",
            "-t",
            "koji_build",
            "-a",
            "x86_64",
            "--plan",
            "/plans/smoke",
            "--format",
            "json",
            "--artifacts",
        ])
        .arg(&artifacts)
        .env("TASKOTRON_TMPDIR", work.path().join("tmp"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = json(&String::from_utf8_lossy(&o.stdout));
    let run_dir = artifacts.join(report["run_id"].as_str().unwrap());
    let ours = comparable(&run_dir.join("tmt/plans/smoke/execute/results.yaml"));
    let theirs = comparable(&tmt_run.join("plans/smoke/execute/results.yaml"));
    assert_eq!(ours.len(), 2);
    assert_eq!(ours, theirs);
}

#[test]
#[ignore = "needs target/tmt-venv; run by cargo xtask integration"]
fn a_converted_sti_suite_lists_and_exports_as_tmt_does() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("sti-smoke");
    let o = Command::new("cp")
        .arg("-r")
        .arg(root().join("tasks/sti-smoke"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = Command::new(taskotron())
        .args(["sti", "convert"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    compare(&dir, &[]);
    // tmt's own linter takes what the conversion wrote.
    let o = Command::new(tmt())
        .arg("lint")
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && !text.contains("fail "), "{text}");
}
