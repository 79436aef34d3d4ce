//! A task named the ways people name it, from where they stand: a bare file name
//! from inside the task's directory runs exactly as `./file`, `.` and an absolute
//! path do (issue 24, item 1), and a command the task runs that the shell cannot
//! find is the task's failure, never a missing tool of the machine.

use serde_json::Value;

mod common;
use common::{json, stderr, Env};

/// A task directory under the test's home with formula `sb2.yml`.
fn task(env: &Env, shell: &str) -> std::path::PathBuf {
    env.write(
        "sb2/sb2.yml",
        &format!(
            "name: sb2\nnamespace: scratch\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build]\nactions:\n  - name: hi\n    shell:\n      - {shell}\n"
        ),
    )
    .parent()
    .unwrap()
    .to_path_buf()
}

/// `taskotron run NAME` for the usual item from `cwd`, as JSON.
fn run_json(env: &Env, cwd: &std::path::Path, name: &str, isolation: &str) -> std::process::Output {
    env.run_at(
        cwd,
        &[
            "run",
            name,
            "-i",
            "x-1-1.fc41",
            "-t",
            "koji_build",
            "--isolation",
            isolation,
            "--format",
            "json",
        ],
    )
}

fn isolations() -> Vec<&'static str> {
    let mut all = vec!["none"];
    // CI installs bubblewrap; a machine without it cannot try the sandbox.
    if std::path::Path::new("/usr/bin/bwrap").exists() {
        all.push("sandbox");
    }
    all
}

#[test]
fn a_bare_file_name_runs_with_its_directory_as_the_task_directory() {
    let env = Env::new();
    let dir = task(&env, "echo hi from $$(basename $$(pwd))");
    let absolute = dir.join("sb2.yml").display().to_string();
    for isolation in isolations() {
        for name in ["sb2.yml", "./sb2.yml", ".", absolute.as_str()] {
            let o = run_json(&env, &dir, name, isolation);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{name} ({isolation}): {}",
                stderr(&o, &env)
            );
            let report = json(&o);
            assert_eq!(report["execution_status"], "OK", "{name}: {report}");
            let out = std::path::Path::new(report["artifacts"].as_str().unwrap())
                .join("actions/01-hi.stdout");
            assert_eq!(
                std::fs::read_to_string(&out).unwrap(),
                "hi from sb2\n",
                "{name} ({isolation}) ran elsewhere"
            );
        }
    }
    // The original command line, with the formula named as its users named it.
    let o = env.run_at(
        &dir,
        &[
            "runtask",
            "-i",
            "x-1-1.fc41",
            "-t",
            "koji_build",
            "-a",
            "x86_64",
            "sb2.yml",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "runtask: {}", stderr(&o, &env));
}

#[test]
fn a_command_the_shell_cannot_find_is_the_tasks_failure() {
    let env = Env::new();
    let dir = task(&env, "no-such-program-anywhere --version");
    for isolation in isolations() {
        let o = run_json(&env, &dir, "sb2.yml", isolation);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o, &env));
        let report = json(&o);
        assert_eq!(report["execution_status"], "NOT_OK");
        assert_eq!(
            report["failure"],
            serde_json::json!({"kind": "COMMAND_NOT_FOUND", "cause": "task"}),
            "{isolation}: {report}"
        );
        let status = report["status"].as_str().unwrap();
        assert!(status.contains("exited with code 127"), "{status}");
        assert!(status.contains("no-such-program-anywhere"), "{status}");
    }
}

/// The stderr line of a failed action says why, with the failure's kind, the tail
/// of the command's stderr and the log that holds all of it (issue 24, item 12):
/// people read stderr, not the JSON.
#[test]
fn a_failed_action_says_its_kind_reason_and_log_on_stderr() {
    let env = Env::new();
    let dir = task(&env, "echo going; no-such-program-anywhere --version");
    let o = env.run_at(
        &dir,
        &["run", "sb2.yml", "-i", "x-1-1.fc41", "-t", "koji_build"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o, &env);
    let line = err
        .lines()
        .find(|l| l.trim_start().starts_with("Failed [1/1] hi after"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.contains(" ms: COMMAND_NOT_FOUND: "),
        "the kind, once, after the time: {line}"
    );
    assert_eq!(line.matches("COMMAND_NOT_FOUND").count(), 1, "{line}");
    assert!(
        err.contains("no-such-program-anywhere: not found")
            || err.contains("no-such-program-anywhere: command not found"),
        "the shell's own words: {err}"
    );
    let raw = String::from_utf8_lossy(&o.stderr);
    let log = raw
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("Log "))
        .unwrap_or_else(|| panic!("no Log line: {err}"));
    assert!(log.ends_with("actions/01-hi.stderr"), "{log}");
    let kept = std::fs::read_to_string(log).unwrap();
    assert!(kept.contains("no-such-program-anywhere"), "{kept}");
}

#[test]
fn a_program_missing_before_anything_ran_is_tool_missing() {
    let env = Env::new();
    env.write(
        "argv/runtask.yml",
        "name: argv\nnamespace: scratch\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build]\nactions:\n  - name: hi\n    shell:\n      - [no-such-program-anywhere, --version]\n",
    );
    let o = env.run_at(
        env.home.path(),
        &[
            "run",
            "argv",
            "-i",
            "x-1-1.fc41",
            "-t",
            "koji_build",
            "--format",
            "json",
        ],
    );
    let report: Value = json(&o);
    assert_eq!(
        report["failure"],
        serde_json::json!({"kind": "TOOL_MISSING", "cause": "infrastructure"}),
        "{report}"
    );
    assert!(
        report["status"]
            .as_str()
            .unwrap()
            .contains("`no-such-program-anywhere` is not installed"),
        "{report}"
    );
}

/// Every process a task starts has `PWD`, its working directory, as a shell would
/// set it: the 2014 csmock task reads `os.environ['PWD']` (issue 24, item 9).
#[test]
fn every_process_has_pwd() {
    let env = Env::new();
    let dir = env.write(
        "pwd/runtask.yml",
        "name: pwd\nnamespace: scratch\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build]\nactions:\n  - name: argv\n    shell:\n      - [printenv, PWD]\n  - name: py\n    python:\n      file: check.py\n      callable: run\n",
    );
    let dir = dir.parent().unwrap();
    env.write(
        "pwd/check.py",
        "import os\n\ndef run(**kwargs):\n    print(os.environ['PWD'])\n    return ''\n",
    );
    for isolation in isolations() {
        let o = run_json(&env, env.home.path(), "pwd", isolation);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{isolation}: {}",
            stderr(&o, &env)
        );
        let report = json(&o);
        let actions = std::path::Path::new(report["artifacts"].as_str().unwrap()).join("actions");
        for log in ["01-argv.stdout", "02-py.stdout"] {
            let printed = std::fs::read_to_string(actions.join(log)).unwrap_or_default();
            assert_eq!(
                printed.trim(),
                dir.display().to_string(),
                "{isolation}: {log}"
            );
        }
    }
}

/// libtaskotron's `export_TAP` leaves `$CHECKNAME` in test descriptions for the
/// runner to fill in, as the 2014 runner did: with the result's checkname, else the
/// formula's name (issue 24, item 10).
#[test]
fn checkname_placeholders_in_tap_are_filled_in() {
    let env = Env::new();
    env.write(
        "seed/runtask.yml",
        "name: seedcheck\nnamespace: scratch\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build]\nactions:\n  - name: tap\n    results: tap\n    shell:\n      - [cat, seed.tap]\n",
    );
    env.write(
        "seed/seed.tap",
        "TAP version 13\n1..2\nok - $CHECKNAME for Koji build xchat-0.5-1.fc20\n  ---\n  item: xchat-0.5-1.fc20\n  outcome: PASSED\n  type: koji_build\n  ...\nnot ok - $CHECKNAME for Bodhi update foobar-1.2-3.fc20\n  ---\n  item: FEDORA-2024-1a2b3c4d5e\n  outcome: FAILED\n  type: bodhi_update\n  checkname: depcheck\n  ...\n",
    );
    let o = env.run_at(
        env.home.path(),
        &[
            "run",
            "seed",
            "-i",
            "xchat-0.5-1.fc20",
            "-t",
            "koji_build",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let report = json(&o);
    let dir = std::path::Path::new(report["artifacts"].as_str().unwrap());
    let tests = std::fs::read_to_string(dir.join("actions/01-tap.tests.jsonl")).unwrap();
    assert!(
        tests.contains("seedcheck for Koji build xchat-0.5-1.fc20"),
        "{tests}"
    );
    assert!(tests.contains("depcheck for Bodhi update"), "{tests}");
    for file in [
        "actions/01-tap.tests.jsonl",
        "results.junit.xml",
        "report.html",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(!text.contains("$CHECKNAME"), "{file} shows the placeholder");
    }
    assert!(!String::from_utf8_lossy(&o.stderr).contains("$CHECKNAME"));
}
