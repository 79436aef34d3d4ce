//! End-to-end tests of the `taskotron` binary: exit codes, the JSON contract, and
//! snapshots of the messages people read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{json, stderr, workspace, Env};

#[test]
fn the_example_task_runs_ok_with_the_json_contract() {
    let env = Env::new();
    let o = env.run(&[
        "run",
        "tasks/nvr-check",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "-a",
        "x86_64",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let report = json(&o);
    assert_eq!(report["execution_status"], "OK");
    assert_eq!(report["status"], Value::Null);
    assert_eq!(report["build_id"], Value::Null);
    assert_eq!(report["arch"], "x86_64");
    let run_id = report["run_id"].as_str().unwrap();
    let dir = PathBuf::from(report["artifacts"].as_str().unwrap());
    assert_eq!(dir, env.artifacts().join(run_id));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("execution.json")).unwrap())
            .unwrap();
    assert_eq!(written, report);
    let results = std::fs::read_to_string(dir.join("results.yml")).unwrap();
    assert!(results.contains("outcome: PASSED"), "{results}");
    assert!(dir.join("taskotron.log").is_file());
}

#[test]
fn build_ids_pass_through_and_failures_exit_1() {
    let env = Env::new();
    let formula = env.write(
        "fail.yml",
        "name: fail\nactions:\n  - name: boom\n    shell:\n      - echo broken >&2; exit 4\n",
    );
    let o = env.run(&[
        "run",
        formula.to_str().unwrap(),
        "-i",
        "a-1-1.fc41",
        "-t",
        "koji_build",
        "--build-id",
        "5f0c-1",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let report = json(&o);
    assert_eq!(report["execution_status"], "NOT_OK");
    assert_eq!(report["build_id"], "5f0c-1");
    let status = report["status"].as_str().unwrap();
    assert!(
        status.contains("exited with code 4") && status.contains("broken"),
        "{status}"
    );
    let human = env.run(&[
        "run",
        formula.to_str().unwrap(),
        "-i",
        "a-1-1.fc41",
        "-t",
        "koji_build",
    ]);
    assert_eq!(human.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&human.stdout);
    assert!(
        stdout.starts_with("execution_status: NOT_OK\nstatus: |\n"),
        "{stdout}"
    );
}

#[test]
fn invalid_input_exits_2_with_clear_messages() {
    let env = Env::new();
    let bad_formula = env.write(
        "bad/runtask.yml",
        "name: bad\nacitons: []\nactions:\n  - name: a\n    shel: [echo]\n  - name: b\n    dummy: {result: PASS, msg: \"${itme}\"}\n",
    );
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "bad_item",
            vec![
                "run".into(),
                "tasks/nvr-check".into(),
                "-i".into(),
                "htop".into(),
                "-t".into(),
                "koji_build".into(),
            ],
        ),
        (
            "bad_type",
            vec![
                "run".into(),
                "tasks/nvr-check".into(),
                "-i".into(),
                "htop-1-1".into(),
                "-t".into(),
                "koji-build".into(),
            ],
        ),
        (
            "bad_arch",
            vec![
                "run".into(),
                "tasks/nvr-check".into(),
                "-i".into(),
                "htop-1-1".into(),
                "-t".into(),
                "koji_build".into(),
                "-a".into(),
                "x86-64".into(),
            ],
        ),
        (
            "wrong_input_type",
            vec![
                "run".into(),
                "tasks/nvr-check".into(),
                "-i".into(),
                "f41-updates".into(),
                "-t".into(),
                "koji_tag".into(),
            ],
        ),
        (
            "bad_formula",
            vec![
                "run".into(),
                bad_formula.parent().unwrap().display().to_string(),
                "-i".into(),
                "a-1-1".into(),
                "-t".into(),
                "koji_build".into(),
            ],
        ),
        (
            "missing_task",
            vec![
                "run".into(),
                "no/such/task".into(),
                "-i".into(),
                "a-1-1".into(),
                "-t".into(),
                "koji_build".into(),
            ],
        ),
    ];
    for (name, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = env.run(&args);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(
            o.stdout.is_empty(),
            "{name}: nothing on stdout in human mode"
        );
        insta::with_settings!({snapshot_suffix => name, prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("invalid_input", stderr(&o, &env));
        });
    }
    assert!(
        !env.artifacts().exists(),
        "nothing ran, so no run directory"
    );
}

#[test]
fn json_mode_reports_invalid_input_on_stdout() {
    let env = Env::new();
    let o = env.run(&[
        "run",
        "tasks/nvr-check",
        "-i",
        "htop",
        "-t",
        "koji_build",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let doc = json(&o);
    assert_eq!(doc["error"], "invalid input");
    assert!(doc["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not a valid koji_build"));
    // Every command, whatever is wrong: a bad flag value (clap's refusal), an
    // unreadable input, an unknown task.
    for (args, says) in [
        (
            &["jobs", "--state", "bogus", "--format", "json"][..],
            "not a job state",
        ),
        (
            &["gc", "--older-than", "soon", "--format", "json"][..],
            "--older-than",
        ),
        (
            &["tap", "parse", "/nonexistent", "--format", "jsonl"][..],
            "cannot read",
        ),
        (
            &["tap", "check", "/nonexistent", "--format", "json"][..],
            "cannot read",
        ),
        (
            &["mirror", "nosuch", "--format", "json"][..],
            "unknown task",
        ),
        (
            &["report", "/nonexistent.yml", "--format=json"][..],
            "cannot read",
        ),
        (
            &[
                "schedule",
                "rpmlint",
                "-i",
                "htop",
                "-t",
                "koji_build",
                "--format",
                "json",
            ][..],
            "not a valid koji_build",
        ),
        (
            &[
                "buildbot",
                "submit",
                "rpmlint",
                "-i",
                "htop",
                "-t",
                "koji_build",
                "-a",
                "x86_64",
                "--format",
                "json",
            ][..],
            "not a valid koji_build",
        ),
        (
            &["trigger", "--rules", "/nonexistent.yml", "--format", "json"][..],
            "cannot read",
        ),
        (
            &["test", "/nonexistent", "--format", "json"][..],
            "is not a directory",
        ),
    ] {
        let o = env.run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let doc = json(&o);
        assert_eq!(doc["error"], "invalid input", "{args:?}");
        let message = doc["diagnostics"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{args:?}: {message}");
    }
    // A command that started and failed says so the same way, with exit 1.
    let nowhere = std::path::Path::new("http://127.0.0.1:9/");
    let o = env.run_with(
        &[
            "buildbot",
            "submit",
            "rpmlint",
            "-i",
            "htop-3.3.0-1.fc41",
            "-t",
            "koji_build",
            "-a",
            "x86_64",
            "--format",
            "json",
        ],
        &[("TASKOTRON_BUILDBOT_URL", nowhere)],
    );
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    assert_eq!(doc["error"], "failed");
    assert!(!doc["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .is_empty());
}

#[test]
fn validate_reports_every_problem_of_every_file() {
    let env = Env::new();
    let a = env.write("a.yml", "name: a\nactions:\n  - name: x\n    dummy: {result: PAS}\n  - name: y\n    python: {file: c.py}\n");
    let b = env.write(
        "b.yml",
        "name: b\nactions:\n  - name: x\n    shell: [\"echo $custom\"]\n",
    );
    let o = env.run(&[
        "validate",
        "tasks/nvr-check",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!("validate_many", stderr(&o, &env));
    let o = env.run(&[
        "validate",
        b.to_str().unwrap(),
        "-o",
        "custom=1",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    assert_eq!(json(&o)["valid"], true);
}

#[test]
fn new_scaffolds_a_task_that_runs_as_is() {
    let env = Env::new();
    let dir = env.home.path().join("my-check");
    let o = env.run(&["new", "my-check", "--dir", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let o = env.run(&["validate", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let o = env.run(&[
        "run",
        dir.to_str().unwrap(),
        "-i",
        "xchat-2.8.8-21.fc20",
        "-t",
        "koji_build",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    // Its tests.yaml has a passing case, and the schema documents every key.
    let o = env.run(&["test", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 passed; 0 failed"));
    let schema = json(&env.run(&["test", "--schema"]));
    assert!(schema["properties"]["cases"]["items"]["properties"]["mock"].is_object());
    // A filter that matches nothing finds no test case: exit 4, not "ok".
    let o = env.run(&["test", dir.to_str().unwrap(), "--filter", "nothing-like-it"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        stderr(&o, &env).contains("no test cases found"),
        "{}",
        stderr(&o, &env)
    );
    let again = env.run(&["new", "my-check", "--dir", dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again, &env).contains("already exists"));
}

#[test]
fn config_errors_point_into_the_file() {
    let env = Env::new();
    let cfg = env.write("taskotron.yaml", "python: python3\nartifcats: /tmp/x\n");
    let o = env.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "run",
        "tasks/nvr-check",
        "-i",
        "a-1-1",
        "-t",
        "koji_build",
    ]);
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!("config_error", stderr(&o, &env));
    let o = env.run(&["--config", cfg.to_str().unwrap(), "config"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Every problem of a config at once, in words, with the valid values and a
/// suggestion, the file's and the variables' alike (issue 24, item 14).
#[test]
fn config_problems_come_all_at_once_in_words() {
    let env = Env::new();
    let cfg = env.write(
        "taskotron.yaml",
        "max_attempts: three\nsupported_arches: [x86_64, amd64]\nretry_dely: 3s\n",
    );
    let o = env.run_with(
        &["--config", cfg.to_str().unwrap(), "config"],
        &[("TASKOTRON_DOWNLOAD_CACHE", std::path::Path::new("maybe"))],
    );
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!("config_problems", stderr(&o, &env));
}

#[test]
fn config_shows_where_values_come_from() {
    let env = Env::new();
    let cfg = env.write("taskotron.yaml", "action_timeout: 5m\n");
    let o = env.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "config",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let doc = json(&o);
    assert_eq!(doc["config"]["action_timeout"], "5m");
    assert_eq!(
        doc["env_overrides"],
        serde_json::json!(["TASKOTRON_ARTIFACTS", "TASKOTRON_TMPDIR"])
    );
    assert_eq!(doc["sources"]["action_timeout"], "file");
    assert_eq!(doc["sources"]["artifacts"], "env");
    assert_eq!(doc["sources"]["python"], "default");
    // Every key takes its variable (this one was ignored before), listed with its
    // source; a misspelled variable is warned about with a suggestion.
    let o = env.run_with(
        &["--config", cfg.to_str().unwrap(), "config"],
        &[
            ("TASKOTRON_MAX_ATTEMPTS", std::path::Path::new("7")),
            ("TASKOTRON_MAX_ATTEMTPS", std::path::Path::new("9")),
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("max_attempts: 7  # $TASKOTRON_MAX_ATTEMPTS"),
        "{out}"
    );
    assert!(out.contains("action_timeout: 5m  # file"), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("$TASKOTRON_MAX_ATTEMTPS is not a taskotron variable")
            && err.contains("did you mean $TASKOTRON_MAX_ATTEMPTS?"),
        "{err}"
    );
}

#[test]
fn completions_help_and_man_come_from_one_definition() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish"] {
        let o = env.run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("validate") && text.contains("build-id"),
            "{shell}"
        );
    }
    let man = env.run(&["man"]);
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH taskotron"));
    // One page per command, nested ones too, and none for `help`.
    let dir = env.home.path().join("man");
    let o = env.run(&["man", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let page = std::fs::read_to_string(dir.join("taskotron-test.1")).unwrap();
    assert!(page.contains(".TH taskotron-test 1"), "{page}");
    assert!(page.contains("tests.yaml"));
    assert!(dir.join("taskotron-tap-check.1").is_file());
    assert!(!dir.join("taskotron-help.1").exists());
    let help = env.run(&["run", "--help"]);
    insta::assert_snapshot!("run_help", String::from_utf8_lossy(&help.stdout));
}

#[test]
fn directives_lists_the_registry_as_json() {
    let env = Env::new();
    let o = env.run(&["directives", "--format", "json"]);
    let names: Vec<String> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "shell",
            "python",
            "dummy",
            "exitcode",
            "xunit",
            "resultsdb",
            "bodhi_comment",
            "koji",
            "bodhi",
            "distgit",
            "yumrepoinfo",
            "createrepo",
            "tmt",
            "ansible"
        ]
    );
}

#[test]
fn an_interrupted_run_kills_its_action_and_still_reports() {
    let env = Env::new();
    let marker = env.home.path().join("survived");
    let formula = env.write(
        "slow.yml",
        &format!("name: slow\nactions:\n  - name: sleep\n    shell:\n      - (sleep 2; touch '{}') & sleep 30\n  - name: after\n    dummy: {{result: PASS}}\n", marker.display()),
    );
    let child = Command::new(env!("CARGO_BIN_EXE_taskotron"))
        .args([
            "--color",
            "never",
            "run",
            formula.to_str().unwrap(),
            "-i",
            "a-1-1",
            "-t",
            "koji_build",
            "--format",
            "json",
        ])
        .env("HOME", env.home.path())
        .env("TASKOTRON_ARTIFACTS", env.artifacts())
        .env("TASKOTRON_TMPDIR", env.home.path().join("tmp"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the action has started (its stdout file exists), then interrupt.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !std::fs::read_dir(env.artifacts())
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = json(&o);
    assert_eq!(report["execution_status"], "NOT_OK");
    assert!(
        report["status"]
            .as_str()
            .unwrap()
            .contains("interrupted by signal 15"),
        "{report}"
    );
    assert_eq!(report["actions"][1]["status"], "skipped");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(
        !marker.exists(),
        "the action's background process outlived the interrupt"
    );
}

#[test]
fn an_unusable_artifacts_directory_is_a_not_ok_run() {
    let env = Env::new();
    let file = env.write("not-a-dir", "");
    let target = file.join("artifacts");
    let o = env.run(&[
        "run",
        "tasks/nvr-check",
        "-i",
        "a-1-1.fc41",
        "-t",
        "koji_build",
        "--artifacts",
        target.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let report = json(&o);
    assert_eq!(report["execution_status"], "NOT_OK");
    assert!(
        report["status"]
            .as_str()
            .unwrap()
            .starts_with("cannot create"),
        "{report}"
    );
}

fn tap_case(name: &str) -> String {
    workspace()
        .join("taskotron-tap/src/tap/testdata")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn tap_check_exits_by_validity_and_failures() {
    let env = Env::new();
    for (case, code) in [
        ("08_plan_at_end.tap", 0),
        ("03_v14_yaml.tap", 1),
        ("15_count_mismatch.tap", 2),
        ("17_node_test_runner.tap", 1),
    ] {
        let o = env.run(&["tap", "check", &tap_case(case)]);
        assert_eq!(o.status.code(), Some(code), "{case}: {}", stderr(&o, &env));
    }
    let o = env.run(&["tap", "check", &tap_case("10_bail_out.tap")]);
    let shown = format!(
        "{}\n--- stdout ---\n{}",
        stderr(&o, &env).replace(&workspace().display().to_string(), "[WS]"),
        String::from_utf8_lossy(&o.stdout)
    );
    insta::assert_snapshot!("tap_check_bail_out", shown);
    let o = env.run(&[
        "tap",
        "check",
        &tap_case("17_node_test_runner.tap"),
        "--format",
        "json",
    ]);
    let doc = json(&o);
    assert_eq!(
        (doc["valid"].as_bool(), doc["failures"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(doc["summary"]["tests"], 3);
    assert_eq!(doc["worst"], "FAILED");
}

#[test]
fn tap_parse_converts_to_every_format() {
    let env = Env::new();
    let node = tap_case("17_node_test_runner.tap");
    let args = |format: &str| {
        vec![
            "tap".to_string(),
            "parse".into(),
            node.clone(),
            "--format".into(),
            format.into(),
            "--item".into(),
            "pkg-1-1.fc41".into(),
            "--type".into(),
            "koji_build".into(),
        ]
    };
    let run = |format: &str| {
        let a = args(format);
        env.run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let yaml = run("resultyaml");
    assert_eq!(yaml.status.code(), Some(0));
    insta::assert_snapshot!(
        "tap_parse_resultyaml",
        String::from_utf8_lossy(&yaml.stdout)
    );
    // JUnit: one testcase a leaf test, named by its path, node's error in the failure.
    let junit = String::from_utf8_lossy(&run("junit").stdout).into_owned();
    assert!(
        junit.contains(
            "<testcase name=\"top &gt; sub fail\" classname=\"scratch.tap\" time=\"0.009\">"
        ) && junit.contains(
            "<failure message=\"Expected values to be strictly equal:&#10;&#10;1 !== 2\" type=\"failed\">"
        ) && junit.contains("1 !== 2")
            && junit.matches("<testcase ").count() == 4,
        "{junit}"
    );
    let tap = run("tap");
    let emitted = env.write("emitted.tap", &String::from_utf8_lossy(&tap.stdout));
    let again = env.run(&[
        "tap",
        "parse",
        emitted.to_str().unwrap(),
        "--format",
        "resultyaml",
    ]);
    assert_eq!(
        again.stdout, yaml.stdout,
        "TAP13 we emit reads back to the same results"
    );
    let doc = json(&run("json"));
    // Every leaf test, subtests by their path.
    let names: Vec<&str> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["top > sub ok", "top > sub fail", "skipped", "todo"]);
    assert_eq!(doc["results"][0]["keyvals"]["failed"], 1);
    // Standard input works too.
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskotron"))
        .args(["tap", "check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"1..2\nok 1\nok 2\n")
        .unwrap();
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
}

#[test]
fn run_reports_results_and_exitcode_fails_the_check() {
    let env = Env::new();
    let o = env.run(&[
        "run",
        "tasks/nvr-check",
        "-i",
        "htop-3.3.0-1",
        "-t",
        "koji_build",
    ]);
    assert_eq!(o.status.code(), Some(100), "{}", stderr(&o, &env));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("results: 1 FAILED (worst: FAILED)\n  FAILED           scratch.nvr-check htop-3.3.0-1 (1 problems)"), "{stdout}");
    let o = env.run(&[
        "run",
        "tasks/nvr-check",
        "-i",
        "htop-3.3.0-1",
        "-t",
        "koji_build",
        "--format",
        "json",
    ]);
    let report = json(&o);
    assert_eq!(
        (report["outcome"].as_str(), report["exit_code"].as_i64()),
        (Some("FAILED"), Some(100))
    );
    let dir = PathBuf::from(report["artifacts"].as_str().unwrap());
    let tap = std::fs::read_to_string(dir.join("results.tap")).unwrap();
    assert!(
        tap.starts_with(
            "TAP version 13\n1..1\nnot ok 1 - scratch.nvr-check for Koji build htop-3.3.0-1\n"
        ),
        "{tap}"
    );
}

#[test]
fn report_dry_run_shows_payloads_and_refuses_bad_input() {
    let env = Env::new();
    let file = env.write("results.yml", "results:\n  - item: xchat-0.5-1.fc20\n    type: koji_build\n    outcome: CRASHED\n    note: segfault\n    checkname: dist.rpmlint\n    seconds: 3\n");
    let o = env.run(&[
        "report",
        file.to_str().unwrap(),
        "--dry-run",
        "--format",
        "json",
        "--build-id",
        "b-1",
        "--arch",
        "x86_64",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let mut doc = json(&o);
    // The result's own id is random; everything else is the contract.
    doc["payloads"][0]["data"]["taskotron_result_id"] = "[ID]".into();
    insta::assert_snapshot!(
        "report_dry_run",
        serde_json::to_string_pretty(&doc).unwrap()
    );
    let colon = env.write(
        "colon.yml",
        "results:\n  - item: a-1-1\n    type: koji_build\n    outcome: PASSED\n    'a:b': c\n",
    );
    let o = env.run(&["report", colon.to_str().unwrap(), "--dry-run"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o, &env).contains("keyval `a:b` has a `:`"),
        "{}",
        stderr(&o, &env)
    );
    // Without a ResultsDB the embedded store keeps them, once however often reported.
    for _ in 0..2 {
        let o = env.run(&["report", file.to_str().unwrap(), "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(doc["stored"].as_u64().unwrap() > 0);
        assert_eq!(doc["ids"][0], 1);
        assert!(stderr(&o, &env).contains("embedded store"));
    }
    let bad = env.write("bad.yml", "results:\n  - item: a\n    outcome: GREAT\n");
    let o = env.run(&["report", bad.to_str().unwrap(), "--dry-run"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o, &env).contains("bad.yml:3:14"),
        "{}",
        stderr(&o, &env)
    );
}

/// `taskotron report` sends nothing from a file it could not read as results, nor
/// results about an item `run` would refuse; the file's place and a way out are
/// named, the exit code is 2, and nothing lands in the spool or the store.
#[test]
fn report_refuses_what_is_not_results() {
    let env = Env::new();
    let tap = env.write("ok.tap", "TAP version 13\n1..1\nok 1 - a\n");
    let cases: Vec<(std::path::PathBuf, Vec<&str>, &str)> = vec![
        (
            env.write("broken.yml", "results:\n  - item: [\n"),
            vec![],
            "broken.yml:2:",
        ),
        (env.write("empty.txt", ""), vec![], "the file is empty"),
        (
            env.write("r.json", "{\"results\": []}\n"),
            vec![],
            "r.json:1:1",
        ),
        (
            env.write("other.yml", "name: x\nitems: []\n"),
            vec![],
            "without `results:`",
        ),
        (
            tap.clone(),
            vec!["--item", "x-1-1.fc41", "--type", "koji-build"],
            "did you mean `koji_build`?",
        ),
        (
            tap.clone(),
            vec!["--item", "notannvr", "--type", "koji_build"],
            "`notannvr` is not a valid koji_build",
        ),
        (tap.clone(), vec![], "names no item"),
        (
            tap.clone(),
            vec!["--item", "x-1-1.fc41"],
            "has no item type",
        ),
    ];
    for (file, flags, needed) in cases {
        let mut args = vec!["report", file.to_str().unwrap()];
        args.extend(flags);
        let o = env.run(&args);
        let err = stderr(&o, &env);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needed), "{args:?}: no `{needed}` in\n{err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // Nothing was spooled or stored from any of them.
    let state = env.home.path().to_path_buf();
    let kept: Vec<_> = walk(&state);
    assert!(
        kept.iter().all(|p| !p.to_string_lossy().contains("spool")
            && !p.to_string_lossy().ends_with("results.sqlite")),
        "{kept:?}"
    );
    let o = env.run(&[
        "report",
        tap.to_str().unwrap(),
        "--item",
        "x-1-1.fc41",
        "--type",
        "koji_build",
        "--dry-run",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    assert!(
        stderr(&o, &env).contains("1 result would be sent"),
        "{}",
        stderr(&o, &env)
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn config_never_shows_secrets() {
    let env = Env::new();
    let cfg = env.write(
        "taskotron.yaml",
        "resultsdb_username: qa\nresultsdb_password: hunter2\nbodhi_token: s3cr3t\n",
    );
    let o = env.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "config",
        "--format",
        "json",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("\"resultsdb_username\":\"qa\"")
            && !text.contains("hunter2")
            && !text.contains("s3cr3t"),
        "{text}"
    );
}

#[test]
fn trigger_turns_messages_into_jobs() {
    let env = Env::new();
    let rules =
        workspace().join("taskotron-trigger/src/trigger/testdata/trigger_rules.2020-final.yml");
    let sample = |name: &str| {
        let text = std::fs::read_to_string(
            workspace()
                .join("taskotron-trigger/src/trigger/testdata")
                .join(name),
        )
        .unwrap();
        serde_json::from_str::<Value>(&text).unwrap().to_string()
    };
    let messages = format!(
        "{}\nnot json\n{}\n{}\n",
        sample("koji-buildsys-build-state-change.amqp.json"),
        sample("koji-buildsys-build-state-change.amqp.json"),
        sample("bodhi-update-request-testing.amqp.json")
    );
    let file = env.write("messages.jsonl", &messages);
    let o = env.run(&[
        "trigger",
        "--rules",
        rules.to_str().unwrap(),
        "--from",
        file.to_str().unwrap(),
        "--dry-run",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let jobs: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        jobs.len(),
        4,
        "the second copy of the message is a duplicate"
    );
    assert_eq!(
        jobs[0],
        serde_json::json!({"item": "grep-3.11-1.fc39", "item_type": "koji_build", "taskname": "rpmlint", "arch": "x86_64"})
    );
    let err = stderr(&o, &env);
    assert!(
        err.contains("message skipped: not JSON: `not json`")
            && err.contains("messages.jsonl:2:1")
            && err.contains("4 messages: 4 jobs, 4 duplicates dropped"),
        "{err}"
    );
    let bad = env.write(
        "bad.yml",
        "- when: {name: {$nim: [a]}}\n  do: [{tasks: [x]}]\n",
    );
    let o = env.run(&[
        "trigger",
        "--rules",
        bad.to_str().unwrap(),
        "--from",
        file.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!("trigger_bad_rules", stderr(&o, &env));
}

#[test]
fn trigger_schedules_each_message_once_across_runs() {
    let env = Env::new();
    let rules =
        workspace().join("taskotron-trigger/src/trigger/testdata/trigger_rules.2020-final.yml");
    let koji =
        std::fs::read_to_string(workspace().join(
            "taskotron-trigger/src/trigger/testdata/koji-buildsys-build-state-change.amqp.json",
        ))
        .unwrap();
    let line = serde_json::from_str::<Value>(&koji).unwrap().to_string();
    let file = env.write("messages.jsonl", &format!("{line}\n"));
    let args = [
        "trigger",
        "--rules",
        rules.to_str().unwrap(),
        "--from",
        file.to_str().unwrap(),
    ];
    let first = env.run(&args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first, &env));
    assert_eq!(String::from_utf8_lossy(&first.stdout).lines().count(), 4);
    let jobs = |env: &Env| -> Vec<Value> {
        let o = env.run(&["jobs", "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, env));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let queued = jobs(&env);
    let tasks: Vec<(&str, &str, &str)> = queued
        .iter()
        .map(|j| {
            (
                j["task"].as_str().unwrap(),
                j["arch"].as_str().unwrap(),
                j["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tasks,
        [
            ("rpmlint", "x86_64", "SCHEDULED"),
            ("python-versions", "noarch", "SCHEDULED"),
            ("rpmgrill", "noarch", "SCHEDULED"),
            ("abicheck", "x86_64", "SCHEDULED")
        ]
    );
    // The next run remembers the jobs of the last 15 minutes from the queue.
    let second = env.run(&args);
    assert_eq!(second.status.code(), Some(0));
    assert!(second.stdout.is_empty());
    assert!(
        stderr(&second, &env).contains("1 message: 0 jobs, 4 duplicates dropped"),
        "{}",
        stderr(&second, &env)
    );
    assert_eq!(jobs(&env).len(), 4);
    // A state directory that cannot be written: nothing is read, exit 2.
    let blocked = env.write("not-a-dir", "a file");
    let o = Command::new(env!("CARGO_BIN_EXE_taskotron"))
        .args(["--color", "never"])
        .args(args)
        .env("HOME", env.home.path())
        .env("TASKOTRON_STATE_DIR", &blocked)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot schedule jobs: cannot create `") && err.contains("--dry-run"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn scheduled_jobs_run_on_a_worker_and_bad_ones_crash_with_a_cause() {
    let env = Env::new();
    let state = env.home.path().join("state");
    let run = |args: &[&str]| env.run_with(args, &[("TASKOTRON_STATE_DIR", state.as_path())]);
    let o = run(&[
        "schedule",
        "nvr-check",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "-a",
        "x86_64",
        "-a",
        "aarch64",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // An unknown task is refused before it is queued, with the near miss...
    let o = run(&[
        "schedule",
        "nvr-chek",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `nvr-check`?"));
    // ...unless asked for: then it crashes on the worker, the task's fault.
    let o = run(&[
        "schedule",
        "nvr-chek",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "--allow-unknown",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("unknown task `nvr-chek`; did you mean `nvr-check`?"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&[
        "schedule",
        "nvr-check",
        "-i",
        "../../etc",
        "-t",
        "koji_build",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a bad item is refused before it is queued"
    );
    // An i386 worker takes the noarch job only; an x86_64 one the rest.
    let o = run(&["worker", "--once", "--arch", "i386", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let ran: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0]["state"], "CRASHED");
    assert_eq!(ran[0]["crash"]["cause"], "task");
    let o = run(&[
        "worker", "--once", "--arch", "x86_64", "--arch", "aarch64", "--jobs", "2",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&["jobs", "--format", "json"]);
    let jobs: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(jobs.len(), 3);
    for job in &jobs[..2] {
        assert_eq!(job["state"], "COMPLETED", "{job:#}");
        assert_eq!(job["attempts"], 1);
        let report = &job["report"];
        assert_eq!(
            report["build_id"], job["uuid"],
            "the run carries the job's build id"
        );
        assert_eq!(report["arch"], job["arch"]);
        assert_eq!(report["outcome"], "PASSED");
        let artifacts = PathBuf::from(report["artifacts"].as_str().unwrap());
        assert!(
            artifacts.starts_with(env.artifacts()) && artifacts.join("execution.json").exists()
        );
    }
    let o = run(&["jobs", "--state", "crashed"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with("CRASHED")
            && text.contains("(task: unknown task `nvr-chek`; did you mean `nvr-check`?)"),
        "{text}"
    );
    let o = run(&["jobs", "--state", "runing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("SCHEDULED, RUNNING, COMPLETED or CRASHED"));
    // gc: nothing is 120 days old; everything is older than now.
    let o = run(&["gc", "--older-than", "120d", "--format", "json"]);
    let gone: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            gone["jobs"].as_u64(),
            gone["run_directories"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let o = run(&["gc", "--older-than", "0s", "--dry-run", "--format", "json"]);
    let would: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            would["jobs"].as_u64(),
            would["run_directories"].as_array().map(Vec::len)
        ),
        (Some(3), Some(2))
    );
    assert_eq!(would["history_runs"].as_u64(), Some(2), "{would}");
    assert_eq!(jobs_now(&run).len(), 3, "a dry run deletes nothing");
    // A workdir a NOT_OK run kept goes too.
    let kept = env.home.path().join("tmp").join("some-run");
    std::fs::create_dir_all(kept.join(".home")).unwrap();
    let o = run(&["gc", "--older-than", "0s"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "Removed 2 run directories, 1 workdirs, 3 finished jobs and 2 runs of the history"
        ),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!kept.exists());
    assert!(jobs_now(&run).is_empty());
    assert_eq!(std::fs::read_dir(env.artifacts()).unwrap().count(), 0);
    let o = run(&["gc", "--older-than", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected an age such as `120d`"));
}

fn jobs_now(run: &dyn Fn(&[&str]) -> Output) -> Vec<Value> {
    serde_json::from_slice(&run(&["jobs", "--format", "json"]).stdout).unwrap()
}

#[test]
fn serve_triggers_queues_and_runs_every_job_of_a_message_file() {
    let env = Env::new();
    let rules = env.write(
        "rules.yml",
        "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [nvr-check], arches: [x86_64, aarch64]}]\n",
    );
    let koji =
        std::fs::read_to_string(workspace().join(
            "taskotron-trigger/src/trigger/testdata/koji-buildsys-build-state-change.amqp.json",
        ))
        .unwrap();
    let file = env.write(
        "messages.jsonl",
        &format!("{}\n", serde_json::from_str::<Value>(&koji).unwrap()),
    );
    let o = env.run(&[
        "serve",
        "--rules",
        rules.to_str().unwrap(),
        "--from",
        file.to_str().unwrap(),
        "--arch",
        "x86_64",
        "--arch",
        "aarch64",
        "--jobs",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let o = env.run(&["jobs", "--format", "json"]);
    let jobs: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let mut ran: Vec<(String, String)> = jobs
        .iter()
        .map(|j| {
            (
                j["arch"].as_str().unwrap().to_string(),
                j["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    ran.sort();
    assert_eq!(
        ran,
        [
            ("aarch64".to_string(), "COMPLETED".to_string()),
            ("x86_64".into(), "COMPLETED".into())
        ]
    );
}

/// A task whose test cases pass and fail: `taskotron test` reads like `cargo test`.
#[test]
fn taskotron_test_prints_cargo_test_style_results() {
    let env = Env::new();
    env.write(
        "tasks/greet/runtask.yml",
        "name: greet\nnamespace: scratch\ndesc: d\nmaintainer: m\nactions:\n  - name: greet\n    shell:\n      - |\n        printf 'results:\\n  - item: %s\\n    type: %s\\n    outcome: PASSED\\n    note: hi\\n' \"${item}\" \"${item_type}\"\n",
    );
    env.write(
        "tasks/greet/tests.yaml",
        "cases:\n  - name: passes\n    item: htop-3.3.0-1.fc41\n    type: koji_build\n    expect: {execution_status: OK, outcomes: {scratch.greet: PASSED}}\n  - name: expects_too_much\n    item: f41-updates\n    type: koji_tag\n    expect:\n      execution_status: OK\n      failure: KOJI_UNKNOWN_TAG\n      outcomes: {scratch.greet: FAILED, scratch.other: PASSED}\n",
    );
    let task = env.home.path().join("tasks/greet");
    let o = env.run(&["test", task.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(100));
    let out = String::from_utf8_lossy(&o.stdout)
        .replace(&env.home.path().display().to_string(), "[HOME]");
    let out = regex_lite(&out);
    insta::assert_snapshot!("taskotron_test", out);
    let o = env.run(&[
        "test",
        task.to_str().unwrap(),
        "--filter",
        "passes",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let doc = json(&o);
    assert_eq!(
        (doc["passed"].as_u64(), doc["failed"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(doc["tests"][0]["name"], "greet::passes");
    // A task without test cases: no test case found, exit 4 as README says; with
    // another task that has cases, a warning and the others run. A path that is no
    // directory is invalid input.
    let bare = env.write(
        "tasks/bare/runtask.yml",
        "name: bare\nactions:\n  - name: a\n    dummy: {result: PASS}\n",
    );
    let bare = bare.parent().unwrap().to_str().unwrap();
    let o = env.run(&["test", bare]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o, &env));
    assert!(
        stderr(&o, &env).contains("no test cases found: no tests.yaml in"),
        "{}",
        stderr(&o, &env)
    );
    let o = env.run(&["test", bare, task.to_str().unwrap(), "--filter", "passes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    assert!(stderr(&o, &env).contains("has no tests.yaml; none of its cases runs"));
    let o = env.run(&["test", "no/such/task"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o, &env).contains("is not a directory"));
}

/// Times and run ids change from run to run.
fn regex_lite(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = match l.find("finished in ") {
                Some(i) => format!("{}finished in [t]s", &l[..i]),
                None => l.to_string(),
            };
            match l.find("/artifacts/tests/") {
                Some(i) => format!("{}/artifacts/tests/[run]", &l[..i]),
                None => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn run_with_mock_downloads_from_the_fixture() {
    let env = Env::new();
    let o = env.run(&[
        "run",
        "tasks/rpmlint",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "-a",
        "x86_64",
        "--mock",
        "koji",
        "--format",
        "json",
    ]);
    let report = json(&o);
    assert_eq!(report["execution_status"], "OK", "{}", stderr(&o, &env));
    assert_eq!(report["results"][0]["outcome"], "PASSED");
    assert!(stderr(&o, &env).contains("Mocking"));
    let page = std::fs::read_to_string(
        Path::new(report["artifacts"].as_str().unwrap()).join("report.html"),
    )
    .unwrap();
    assert!(page.contains("dist.rpmlint for htop-3.3.0-1.fc41 on x86_64"));
    // A run against mocks is kept out of the history: its build is made up, and a
    // real run of the package would be compared with it.
    let history = env
        .home
        .path()
        .join(".local/state/taskotron/history.sqlite");
    assert!(
        !history.exists(),
        "a mocked run went into {}",
        history.display()
    );
    // A fixture that does not exist is invalid input, named.
    let o = env.run(&[
        "run",
        "tasks/rpmlint",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "-a",
        "x86_64",
        "--mock",
        "nosuch",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o, &env).contains("cannot read the mock fixture"),
        "{}",
        stderr(&o, &env)
    );
    // The build the fixture lacks: NOT_OK, exit 1, the failure named.
    let o = env.run(&[
        "run",
        "tasks/rpmlint",
        "-i",
        "nosuch-1-1.fc41",
        "-t",
        "koji_build",
        "-a",
        "x86_64",
        "--mock",
        "koji",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["failure"]["kind"], "KOJI_UNKNOWN_BUILD");
    assert_eq!(json(&o)["failure"]["cause"], "task");
    // The kind is said once, in front of the status.
    let status = json(&o)["status"].as_str().unwrap().to_string();
    assert!(status.starts_with("KOJI_UNKNOWN_BUILD: action"), "{status}");
    assert_eq!(status.matches("KOJI_UNKNOWN_BUILD").count(), 1, "{status}");
}

/// A misspelt subcommand gets the near one, as a misspelt key does.
#[test]
fn a_misspelt_subcommand_is_suggested() {
    let env = Env::new();
    let o = env.run(&["rnu", "tasks/minimal"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a similar subcommand exists: 'run'"), "{err}");
    let help = String::from_utf8_lossy(&env.run(&["--help"]).stdout).into_owned();
    assert!(
        help.contains("100 an `exitcode` action asked for it"),
        "{help}"
    );
}

/// The author's loop: a task by name, its cases from anywhere, machine output and
/// completions that know the values.
#[test]
fn the_authors_loop() {
    let env = Env::new();
    let tasks = env.home.path().join("tasks");
    let dir = tasks.join("my-check");
    let o = env.run(&["new", "my-check", "--dir", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    // A decoy fixture in the current directory: a case's `mock` is the task's own.
    env.write(
        "tasks/my-check/tests.yaml",
        "cases:\n  - name: with_its_fixture\n    item: xchat-2.8.8-21.fc20\n    type: koji_build\n    mock: fixtures/koji.yaml\n    expect: {execution_status: OK, outcomes: {scratch.my-check: PASSED}}\n",
    );
    env.write("tasks/my-check/fixtures/koji.yaml", "{}\n");
    let elsewhere = env.home.path().join("elsewhere");
    env.write("elsewhere/fixtures/koji.yaml", "this: [is not a fixture\n");
    let o = env.run_at(&elsewhere, &["test", dir.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o, &env)
    );
    // --format jsonl: a line a case, then the summary.
    let o = env.run(&["test", dir.to_str().unwrap(), "--format", "jsonl"]);
    let events: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (&events[0]["event"], &events[0]["passed"]),
        (&"case".into(), &true.into())
    );
    assert_eq!(
        (&events[1]["event"], &events[1]["exit_code"]),
        (&"summary".into(), &0.into())
    );
    // `run NAME`: the task is found on task_path.
    let config = env.write(
        "taskotron.yaml",
        &format!("task_path: [{}]\n", tasks.display()),
    );
    let args = |name: &str| {
        vec![
            "--config".to_string(),
            config.display().to_string(),
            "run".into(),
            name.into(),
            "-i".into(),
            "xchat-2.8.8-21.fc20".into(),
            "-t".into(),
            "koji_build".into(),
        ]
    };
    let run = |name: &str| {
        let a = args(name);
        env.run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run("my-check");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let o = run("my-chek");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o, &env);
    assert!(
        err.contains("no task `my-chek`") && err.contains("did you mean `my-check`"),
        "{err}"
    );
    // Completions offer the values of --type, --arch and --state.
    let bash = String::from_utf8(env.run(&["completions", "bash"]).stdout).unwrap();
    for value in ["koji_build", "bodhi_update", "aarch64", "crashed"] {
        assert!(bash.contains(value), "{value} is not completed");
    }
}

/// `run-job`, what workers start: a job file of this build runs and its report is
/// written where the file says; one of another format version is refused by name.
#[test]
fn run_job_reads_the_job_dictionary_and_refuses_another_version() {
    let env = Env::new();
    let report = env.home.path().join("report.json");
    let job = serde_json::json!({
        "version": 4,
        "job": {"item": "htop-3.3.0-1.fc41", "item_type": "koji_build", "build_id": "b-7",
                "yamlfile": "runtask.yml", "arch": "x86_64"},
        "task": workspace().join("tasks/nvr-check"),
        "artifacts": env.artifacts(),
        "report": report,
        "run_id": "run-b7",
    });
    let file = env.write("job.json", &job.to_string());
    let o = env.run(&["-q", "run-job", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    assert!(
        o.stdout.is_empty(),
        "the report goes to the file, not stdout"
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(written["version"], 4);
    // A worker's own run defers nothing.
    assert!(written.get("deferred").is_none(), "{written}");
    assert_eq!(written["report"]["execution_status"], "OK");
    assert_eq!(written["report"]["build_id"], "b-7");
    // The run id the worker chose (and recorded in the queue) names the run.
    assert_eq!(written["report"]["run_id"], "run-b7");
    assert!(env.artifacts().join("run-b7/taskotron.log").is_file());
    // A run id is a directory name: one that leaves the artifacts is refused.
    let mut escaping = job.clone();
    escaping["run_id"] = "../outside".into();
    let file = env.write("job-escaping.json", &escaping.to_string());
    let o = env.run(&["run-job", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o, &env).contains("`../outside` is not a run id"),
        "{}",
        stderr(&o, &env)
    );
    assert!(!env.artifacts().join("../outside").exists());
    let mut newer = job.clone();
    newer["version"] = 5.into();
    let file = env.write("job2.json", &newer.to_string());
    let o = env.run(&["run-job", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o, &env);
    assert!(
        err.contains("is a job file of format version 5") && err.contains("different builds"),
        "{err}"
    );
}

/// A closed stdout ends the output, not the process with a panic (`taskotron
/// directives | head -1`).
#[test]
fn a_closed_stdout_is_no_panic() {
    for args in [
        &["directives"][..],
        &["config"],
        &["directives", "--format", "json"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_taskotron"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the child writes a byte.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
}

/// `validate` looks for the Python file a `python` action names (issue 24, item
/// 18): a formula whose `file:` is not there is invalid, with a suggestion; a file
/// named through a variable is known only when it runs.
#[test]
fn validate_finds_a_missing_python_file() {
    let env = Env::new();
    let formula = env.write(
        "py/runtask.yml",
        "name: py\nnamespace: scratch\ndesc: d\nmaintainer: m\nactions:\n  - name: check\n    python:\n      file: chek.py\n      callable: run\n  - name: later\n    python:\n      file: ${workdir}/made.py\n      callable: run\n",
    );
    env.write("py/check.py", "def run(**kw):\n    return ''\n");
    let dir = formula.parent().unwrap().to_str().unwrap().to_string();
    let o = env.run(&["validate", &dir]);
    let err = stderr(&o, &env);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`python.file` names `chek.py`"), "{err}");
    assert!(err.contains("did you mean `check.py`?"), "{err}");
    assert!(!err.contains("made.py"), "{err}");
    std::fs::rename(
        env.home.path().join("py/check.py"),
        env.home.path().join("py/chek.py"),
    )
    .unwrap();
    let o = env.run(&["validate", &dir]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
}

/// `tap check` names the failing tests with their lines, on stdout and in JSON
/// (issue 24, item 18).
#[test]
fn tap_check_names_the_failing_tests() {
    let env = Env::new();
    let file = "taskotron-tap/src/tap/testdata/17_node_test_runner.tap";
    let o = env.run(&["tap", "check", file]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("\n  FAILED top > sub fail (line 9)\n"),
        "{out}"
    );
    // One failing test and the results line; the TODO is no failure.
    assert_eq!(out.matches("FAILED ").count(), 2, "{out}");
    let doc = json(&env.run(&["tap", "check", file, "--format", "json"]));
    assert_eq!(doc["failing_tests"][0]["name"], "top > sub fail");
    assert_eq!(doc["failing_tests"][0]["line"], 9);
    assert_eq!(doc["failing_tests"].as_array().unwrap().len(), 1);
}

/// Commands that print a line per job say so of `--format json` (and take `jsonl`
/// for it); commands that print one document say that (issue 24, item 16).
#[test]
fn streaming_commands_describe_their_json_as_lines() {
    let env = Env::new();
    for cmd in ["trigger", "worker", "serve"] {
        let help = String::from_utf8_lossy(&env.run(&[cmd, "--help"]).stdout).into_owned();
        assert!(help.contains("One JSON object a line"), "{cmd}: {help}");
        assert!(!help.contains("One JSON document"), "{cmd}: {help}");
    }
    let help = String::from_utf8_lossy(&env.run(&["jobs", "--help"]).stdout).into_owned();
    assert!(help.contains("One JSON document"), "{help}");
    let o = env.run(&[
        "trigger",
        "--rules",
        "tests/data/examples/trigger_rules.yml",
        "--from",
        "tests/data/examples/messages.jsonl",
        "--dry-run",
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o, &env));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().count() >= 1);
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    assert!(
        stderr(&o, &env).contains("2 messages: "),
        "{}",
        stderr(&o, &env)
    );
}

/// Completions offer what a person types, not the hidden `run-job` (which workers
/// start) or `man` (issue 24, item 19).
#[test]
fn completions_leave_out_the_hidden_commands() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish"] {
        let o = env.run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(script.contains("runtask"), "{shell}");
        assert!(!script.contains("run-job"), "{shell}");
        assert!(!script.contains("Print the man page"), "{shell}");
    }
}
