//! Issue 29, from the attacker's side: a task that plants symbolic links where the
//! runner writes its own files, or names paths outside its run in a directive, under
//! `--isolation none` and `sandbox` and as a worker's job. Afterwards no file
//! outside the run has changed or been read, and the run says what it refused.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use taskotron_tests::workers::Setup;

/// What every canary holds; a write through a link would change it.
const CANARY: &str = "canary: a file of the worker's host\n";

/// The runner's own files in a run's artifacts directory.
const RUNNER_FILES: &[&str] = &[
    "report.html",
    "execution.json",
    "results.yml",
    "results.tap",
    "results.junit.xml",
    "taskotron.log",
];

/// The mock Koji and dist-git of the run-time cases: the build they download.
const FIXTURE: &str = "koji:
  builds:
    - nvr: htop-3.3.0-1.fc41
      arches: [x86_64]
      packages:
        - summary: a viewer
          noarch: true
          files:
            /usr/bin/htop: \"#!/bin/sh\\n\"
distgit:
  rpms/htop/f41/x.spec: \"Name: htop\\n\"
";

/// A canary file and an empty directory outside tasks, artifacts and scratch.
fn canaries(s: &Setup) -> (PathBuf, PathBuf) {
    let host = s.dir.path().join("host");
    std::fs::create_dir_all(host.join("empty")).unwrap();
    std::fs::write(host.join("canary"), CANARY).unwrap();
    (host.join("canary"), host.join("empty"))
}

/// `taskotron run` of task `name` for the usual item as JSON, with `args`.
fn run(s: &Setup, name: &str, args: &[&str]) -> (Value, Output) {
    let task = s.dir.path().join("tasks").join(name);
    let mut all = vec![
        "run",
        task.to_str().unwrap(),
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    let o = s.command(&all).output().unwrap();
    let report = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "no report ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (report, o)
}

/// A shell action's lines as YAML.
fn shell(name: &str, lines: &[String]) -> String {
    let mut text = format!("  - name: {name}\n    shell:\n");
    for l in lines {
        text.push_str(&format!("      - {}\n", serde_json::to_string(l).unwrap()));
    }
    text
}

fn untouched(canary: &Path, empty: &Path) {
    assert_eq!(std::fs::read_to_string(canary).unwrap(), CANARY);
    assert_eq!(
        std::fs::read_dir(empty).unwrap().count(),
        0,
        "the runner wrote into {}",
        empty.display()
    );
}

fn failure(report: &Value) -> (&str, &str) {
    (
        report["failure"]["kind"].as_str().unwrap_or(""),
        report["failure"]["cause"].as_str().unwrap_or(""),
    )
}

/// The task plants a link to the canary at every name the runner writes at the
/// end, and at the next action's standard output; then makes a result, so every
/// results file is written.
fn plant_everything(s: &Setup, canary: &Path) {
    let mut lines: Vec<String> = RUNNER_FILES
        .iter()
        .map(|f| format!("ln -sf {} \"${{artifactsdir}}/{f}\"", canary.display()))
        .collect();
    lines.push(format!(
        "ln -sf {} \"${{artifactsdir}}/actions/02-pass.stdout\"",
        canary.display()
    ));
    s.task(
        "plant",
        &format!(
            "actions:\n{}  - name: pass\n    shell:\n      - echo printed\n  - name: result\n    results: tap\n    shell:\n      - printf 'TAP version 13\\n1..1\\nok 1 - fine\\n'\n",
            shell("plant", &lines)
        ),
    );
}

fn check_planted_run(report: &Value, canary: &Path, empty: &Path) {
    untouched(canary, empty);
    assert_eq!(report["execution_status"], "NOT_OK", "{report}");
    assert_eq!(failure(report), ("PATH_REFUSED", "task"), "{report}");
    let status = report["status"].as_str().unwrap();
    for f in RUNNER_FILES {
        assert!(
            status.contains(&format!("`{f}`")),
            "{f} not named: {status}"
        );
    }
    // Every file is the runner's again, a regular file with what it wrote.
    let dir = PathBuf::from(report["artifacts"].as_str().unwrap());
    for f in RUNNER_FILES {
        let meta = std::fs::symlink_metadata(dir.join(f)).unwrap();
        assert!(meta.file_type().is_file(), "{f} is not a regular file");
    }
    let log = std::fs::read_to_string(dir.join("taskotron.log")).unwrap();
    assert!(log.contains("in place of taskotron.log"), "{log}");
    assert!(log.contains("PATH_REFUSED"), "{log}");
    let out = std::fs::read_to_string(dir.join("actions/02-pass.stdout")).unwrap();
    assert_eq!(out, "printed\n");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("execution.json")).unwrap())
            .unwrap();
    assert_eq!(saved["failure"]["kind"], "PATH_REFUSED");
    assert!(std::fs::read_to_string(dir.join("results.yml"))
        .unwrap()
        .contains("PASSED"));
}

#[test]
fn links_at_the_runners_files_are_replaced_not_followed() {
    for isolation in ["none", "sandbox"] {
        let s = Setup::new();
        let (canary, empty) = canaries(&s);
        plant_everything(&s, &canary);
        let (report, o) = run(&s, "plant", &["--isolation", isolation]);
        assert_eq!(o.status.code(), Some(1), "{isolation}: {report}");
        check_planted_run(&report, &canary, &empty);
    }
}

#[test]
fn a_workers_job_that_plants_links_writes_nothing_outside() {
    let s = Setup::new();
    let (canary, empty) = canaries(&s);
    plant_everything(&s, &canary);
    s.schedule("plant", &[]);
    s.ok(&["worker", "--once", "--name", "w"]);
    let jobs = s.jobs();
    assert_eq!(jobs.len(), 1);
    let report = &jobs[0]["report"];
    assert_eq!(report["isolation"], "sandbox");
    check_planted_run(report, &canary, &empty);
}

#[test]
fn a_linked_actions_directory_is_refused() {
    for isolation in ["none", "sandbox"] {
        let s = Setup::new();
        let (canary, empty) = canaries(&s);
        let swap = vec![format!(
            "rm -rf \"${{artifactsdir}}/actions\" && ln -s {} \"${{artifactsdir}}/actions\"",
            empty.display()
        )];
        s.task(
            "swap",
            &format!(
                "actions:\n{}{}",
                shell("swap", &swap),
                shell("next", &["echo into the link".into()])
            ),
        );
        let (report, _) = run(&s, "swap", &["--isolation", isolation]);
        untouched(&canary, &empty);
        assert_eq!(report["execution_status"], "NOT_OK", "{report}");
        assert_eq!(failure(&report), ("PATH_REFUSED", "task"), "{report}");
        assert_eq!(report["actions"][1]["status"], "failed", "{report}");
        let error = report["actions"][1]["error"].as_str().unwrap();
        assert!(error.contains("symbolic link"), "{error}");
    }
}

/// A path a formula writes that leaves the run is refused when the formula loads,
/// with its position, before anything runs.
#[test]
fn paths_out_of_the_run_are_validation_errors() {
    let s = Setup::new();
    let (canary, empty) = canaries(&s);
    for (name, directive, col) in [
        (
            "abs",
            format!(
                "koji: {{action: download, koji_build: x-1-1, arch: [x86_64], target_dir: {}}}",
                empty.display()
            ),
            "target_dir",
        ),
        (
            "climb",
            "distgit: {nvr: x-1-1, path: [a], target_dir: ../../host/empty}".into(),
            "target_dir",
        ),
        (
            "climbvar",
            "koji: {action: download, koji_build: x-1-1, arch: [x86_64], target_dir: \"${workdir}/../../host\"}".into(),
            "target_dir",
        ),
        (
            "xunit",
            format!(
                "xunit: {{file: {}, item: x, type: koji_build, checkname: c}}",
                canary.display()
            ),
            "file",
        ),
    ] {
        s.task(name, &format!("actions:\n  - name: a\n    {directive}\n"));
        let (report_or_none, o) = {
            let task = s.dir.path().join("tasks").join(name);
            let o = s
                .command(&[
                    "run",
                    task.to_str().unwrap(),
                    "-i",
                    "htop-3.3.0-1.fc41",
                    "-t",
                    "koji_build",
                ])
                .output()
                .unwrap();
            (o.stdout.clone(), o)
        };
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(report_or_none.is_empty(), "{name} ran");
        // The file, the line (the directive is at line 9), the parameter and a way out.
        assert!(err.contains("runtask.yml:9:"), "{name}: {err}");
        assert!(err.contains(col), "{name}: {err}");
        assert!(err.contains("${workdir}"), "{name}: {err}");
        assert!(
            err.contains("absolute path") || err.contains("climbs out"),
            "{name}: {err}"
        );
        untouched(&canary, &empty);
    }
}

/// Paths that only leave the run once substituted, or through a link the task
/// made, are refused when the action runs: `PATH_REFUSED`, the task's fault.
#[test]
fn linked_and_substituted_paths_are_refused_at_run_time() {
    for isolation in ["none", "sandbox"] {
        let s = Setup::new();
        let (canary, empty) = canaries(&s);
        std::fs::write(
            canary.with_file_name("secret.xml"),
            "<testsuite name=\"s\"><testcase name=\"SECRET_CASE\"/></testsuite>\n",
        )
        .unwrap();
        let secret_xml = canary.with_file_name("secret.xml");
        let cases: Vec<(&str, String, String)> = vec![
            (
                "linked-target",
                format!("ln -s {} \"${{workdir}}/dl\"", empty.display()),
                "koji: {action: download, koji_build: \"${koji_build}\", arch: [x86_64], target_dir: \"${workdir}/dl\"}".into(),
            ),
            (
                "exported-target",
                format!("echo {}", empty.display()),
                "distgit: {nvr: \"${koji_build}\", path: [x.spec], target_dir: \"${where}\"}".into(),
            ),
            (
                "linked-file",
                format!("ln -s {} \"${{workdir}}/r.xml\"", secret_xml.display()),
                "xunit: {file: \"${workdir}/r.xml\", item: x, type: koji_build, checkname: c}"
                    .into(),
            ),
            (
                "exported-file",
                format!("echo {}", secret_xml.display()),
                "xunit: {file: \"${where}\", item: x, type: koji_build, checkname: c}".into(),
            ),
            (
                "linked-junit",
                format!("ln -s {} \"${{workdir}}/j.xml\"", secret_xml.display()),
                "shell: [\"true\"]\n    results: {junit: \"${workdir}/j.xml\"}".into(),
            ),
        ];
        for (name, prepare, directive) in cases {
            s.task(
                name,
                &format!(
                    "actions:\n  - name: prepare\n    shell:\n      - {}\n    export: where\n  - name: use\n    {directive}\n",
                    serde_json::to_string(&prepare).unwrap()
                ),
            );
            let fixtures = s.dir.path().join("tasks").join(name).join("fixtures");
            std::fs::create_dir_all(&fixtures).unwrap();
            std::fs::write(fixtures.join("koji.yaml"), FIXTURE).unwrap();
            let (report, _) = run(&s, name, &["--isolation", isolation, "--mock", "koji"]);
            untouched(&canary, &empty);
            let text = report.to_string();
            assert!(
                !text.contains("SECRET_CASE"),
                "{name} read the host: {text}"
            );
            let dir = PathBuf::from(
                report["artifacts"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: {report}")),
            );
            for f in ["report.html", "execution.json"] {
                let page = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
                assert!(!page.contains("SECRET_CASE"), "{name}: {f} shows the host");
            }
            assert_eq!(report["execution_status"], "NOT_OK", "{name}: {report}");
            if name == "linked-junit" {
                // A stream's problem is the action's failure; it names the refusal.
                let error = report["actions"][1]["error"].as_str().unwrap_or("");
                assert!(error.contains("PATH_REFUSED"), "{name}: {report}");
                continue;
            }
            assert_eq!(
                failure(&report),
                ("PATH_REFUSED", "task"),
                "{name} ({isolation}): {report}"
            );
        }
    }
}
