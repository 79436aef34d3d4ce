//! `taskotron tests|plans ls|export` against tmt 1.80 (from PyPI, in
//! `target/tmt-venv`) on the tmt task of `tasks/` and on generated trees: the
//! same names, and the same exported fields and values, for several contexts.
//! `cargo xtask integration` installs tmt and runs these.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use taskotron_tests::bin::taskotron;

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

/// A tree shaped like a package's: `tests/<area>/<n>/main.fmf` inheriting an
/// area's `main.fmf`, tiers, tags, adjust rules on distro and arch, plans with
/// filters; `seed` varies which test has what.
pub fn generated_tree(dir: &Path, tests: usize, seed: u64) {
    let write = |p: &str, text: &str| {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(".fmf/version", "1\n");
    write(
        "plans/main.fmf",
        "discover:\n  how: fmf\nexecute:\n  how: tmt\n/tier1:\n  discover+:\n    filter: 'tier: 1'\n/all:\n  adjust:\n    - when: distro < fedora-40\n      enabled: false\n",
    );
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for area in 0..(tests / 10).max(1) {
        write(
            &format!("tests/area{area}/main.fmf"),
            &format!(
                "summary: area {area}\ncomponent: [pkg{area}]\ntier: {}\ncontact: qa{area}@example.org\nadjust:\n  - when: arch == s390x\n    tag+: [s390x]\n  - when: distro ~ ^centos\n    tier: 3\n    continue: false\n  - when: distro == fedora-41\n    duration: 15m\n",
                1 + area % 2
            ),
        );
    }
    for t in 0..tests {
        let area = t % (tests / 10).max(1);
        let mut text = format!("test: ./run.sh {t}\n");
        match next(5) {
            0 => text.push_str("tag: [quick]\n"),
            1 => text.push_str("tag+: [slow]\ntier: 2\n"),
            2 => text.push_str("adjust+:\n  - when: distro < fedora-41\n    enabled: false\n    because: too old\n"),
            3 => text.push_str("require: [make, gcc]\nduration: 1h\n"),
            _ => {}
        }
        if next(4) == 0 {
            text.push_str("link:\n  - verifies: https://bugzilla.redhat.com/1\n");
        }
        write(&format!("tests/area{area}/t{t}/main.fmf"), &text);
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
