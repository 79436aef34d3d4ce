//! Tasks written against the original libtaskotron API (`tests/legacy/`) run
//! unchanged through `taskotron`, on Python 3 and on Python 2.7 where one exists:
//! their cases pass, what they log is in the action's log, an exception they raise
//! ends the run NOT_OK with its message, invalid ResultYAML is named with its line,
//! and results in a namespace the task's repository may not use are never sent.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use taskotron_tests::bin::taskotron;
use taskotron_tests::git::git;
use taskotron_tests::python::interpreters;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `taskotron ARGS` with a private home, state, artifacts and scratch directory.
fn run(home: &Path, python: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(taskotron())
        .args(["--color", "never"])
        .args(args)
        .current_dir(workspace())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TASKOTRON_STATE_DIR", home.join("state"))
        .env("TASKOTRON_ARTIFACTS", home.join("artifacts"))
        .env("TASKOTRON_TMPDIR", home.join("tmp"))
        .env("TASKOTRON_PYTHON", python)
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

/// `taskotron run TASK -i x-1-1.fc41 -t koji_build --format json` and its report.
fn run_probe(home: &Path, python: &Path, task: &Path, vars: &[(&str, &str)]) -> (Output, Value) {
    let o = run(
        home,
        python,
        &[
            "run",
            task.to_str().unwrap(),
            "-i",
            "x-1-1.fc41",
            "-t",
            "koji_build",
            "--format",
            "json",
        ],
        vars,
    );
    let report = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    (o, report)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn legacy_tasks() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace().join("tests/legacy"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("tests.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_legacy_task_passes_its_cases_on_every_interpreter() {
    let tasks = legacy_tasks();
    assert!(tasks.len() >= 3, "{tasks:?}");
    let before: Vec<Vec<PathBuf>> = tasks.iter().map(|t| listing(t)).collect();
    for python in interpreters() {
        for task in &tasks {
            let home = tempfile::tempdir().unwrap();
            let o = run(
                home.path(),
                &python,
                &["test", task.to_str().unwrap(), "--format", "jsonl"],
                &[],
            );
            let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let cases = lines.iter().filter(|l| l["event"] == "case").count();
            let passed = lines.iter().filter(|l| l["passed"] == true).count();
            assert!(
                o.status.success() && cases > 0 && passed == cases,
                "{} on {}: {}",
                task.display(),
                python.display(),
                text(&o)
            );
        }
    }
    // Running a task writes nothing into its directory (no bytecode either).
    let after: Vec<Vec<PathBuf>> = tasks.iter().map(|t| listing(t)).collect();
    assert_eq!(before, after);
}

/// Every file under `dir`, sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(listing(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Runs `tests/legacy/rpmsize` for `item` on `arch` with its mock Koji.
fn rpmsize(home: &Path, python: &Path, item: &str, arch: &str) -> (Output, Value) {
    let task = workspace().join("tests/legacy/rpmsize");
    let o = run(
        home,
        python,
        &[
            "run",
            task.join("runtask.yml").to_str().unwrap(),
            "-i",
            item,
            "-t",
            "koji_build",
            "-a",
            arch,
            "--mock",
            task.join("fixtures/koji.yaml").to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    let report: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    (o, report)
}

#[test]
fn a_tasks_logging_lands_in_its_action_log_and_the_workdir_holds_only_its_files() {
    for python in interpreters() {
        let home = tempfile::tempdir().unwrap();
        let (o, report) = rpmsize(home.path(), &python, "tidy-1.0-1.fc41", "x86_64");
        assert_eq!(report["execution_status"], "OK", "{}", text(&o));
        let artifacts = PathBuf::from(report["artifacts"].as_str().unwrap());
        let log =
            std::fs::read_to_string(artifacts.join("actions/02-check-the-size-of-each-rpm.stderr"))
                .unwrap();
        assert!(
            log.contains("[rpmsize:rpmsize.py:")
                && log.contains("INFO    rpmsize PASSED for tidy-1.0-1.fc41"),
            "{log}"
        );
        // Only the downloaded RPMs were in the workdir: the task logged nothing
        // about other files (the hand-off files, HOME and TMPDIR live elsewhere).
        assert!(!log.contains("Ignoring non-rpm file"), "{log}");
        // The checkname without its namespace was reported inside it.
        assert_eq!(report["results"][0]["checkname"], "dist.rpmsize");
    }
}

#[test]
fn a_libtaskotron_exception_ends_the_run_not_ok_with_its_message() {
    for python in interpreters() {
        let home = tempfile::tempdir().unwrap();
        let (o, report) = rpmsize(home.path(), &python, "bloated-2.0-1.fc41", "s390x");
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert_eq!(report["execution_status"], "NOT_OK");
        assert_eq!(report["failure"]["kind"], "TASK_EXCEPTION", "{report}");
        assert_eq!(report["failure"]["cause"], "task");
        let status = report["status"].as_str().unwrap();
        assert!(
            status.contains(
                "rpmsize.py:run raised TaskotronValueError: no binary RPMs of bloated-2.0-1.fc41"
            ),
            "{status}"
        );
    }
}

/// A task in its own directory: `runtask.yml` and `check.py`.
fn write_task(dir: &Path, namespace: &str, python: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("runtask.yml"),
        format!(
            "name: probe\nnamespace: {namespace}\ndesc: a probe\nmaintainer: qa\ninput:\n  args: [koji_build]\nactions:\n  - name: check\n    python: {{file: check.py, callable: run, koji_build: '${{koji_build}}'}}\n    export: out\n  - name: report\n    resultsdb: {{results: '${{out}}'}}\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("check.py"), python).unwrap();
}

#[test]
fn invalid_resultyaml_from_a_task_is_named_with_its_line() {
    let home = tempfile::tempdir().unwrap();
    let task = home.path().join("task");
    write_task(
        &task,
        "scratch",
        "def run(koji_build):\n    return 'results:\\n  - item: %s\\n    type: koji_build\\n    outcome: PASSD\\n' % koji_build\n",
    );
    let (o, report) = run_probe(home.path(), Path::new("python3"), &task, &[]);
    assert_eq!(report["execution_status"], "NOT_OK", "{}", text(&o));
    let status = report["status"].as_str().unwrap();
    assert!(
        status.contains("PASSD") && status.contains(":4:"),
        "{status}"
    );
    assert!(
        status.contains("PASSED"),
        "a suggestion for the near miss: {status}"
    );
}

#[test]
fn a_namespace_the_repository_may_not_use_sends_nothing() {
    let home = tempfile::tempdir().unwrap();
    let rules = home.path().join("namespaces.yaml");
    std::fs::write(
        &rules,
        "namespaces_safe: [scratch]\nnamespaces_whitelist:\n  dist:\n    - https://pagure.io/taskotron/\n",
    )
    .unwrap();
    let check = "from libtaskotron import check\ndef run(koji_build):\n    return check.export_YAML(check.CheckDetail(koji_build, 'koji_build', 'PASSED', checkname='probe.sub'))\n";
    let cases = [
        ("scratch", None, true),
        ("dist", Some("https://pagure.io/taskotron/probe.git"), true),
        ("dist", Some("https://github.com/stranger/probe.git"), false),
        ("dist", None, false),
        (
            "nosuch",
            Some("https://pagure.io/taskotron/probe.git"),
            false,
        ),
    ];
    for (i, (namespace, origin, allowed)) in cases.into_iter().enumerate() {
        let task = home.path().join(format!("task{i}"));
        write_task(&task, namespace, check);
        if let Some(origin) = origin {
            git(&["init", "-q"], &task);
            git(&["remote", "add", "origin", origin], &task);
        }
        // Without a resultsdb_url, what is reported goes to the embedded store.
        let checkname = format!("{namespace}.probe.sub");
        let stored = || {
            let path = home
                .path()
                .join("state")
                .join(taskotron_core::resultsdb::local::FILE);
            if !path.exists() {
                return 0;
            }
            let store =
                taskotron_core::resultsdb::local::LocalResults::open_read_only(&path).unwrap();
            let q = taskotron_core::resultsdb::local::ResultQuery::parse(&[(
                "testcases".to_string(),
                checkname.clone(),
            )])
            .unwrap();
            store.results(&q, "").unwrap().0.len()
        };
        let before = stored();
        let (o, report) = run_probe(
            home.path(),
            Path::new("python3"),
            &task,
            &[("TASKOTRON_NAMESPACES", rules.to_str().unwrap())],
        );
        if allowed {
            assert_eq!(report["execution_status"], "OK", "{i}: {}", text(&o));
            assert_eq!(stored(), before + 1, "{i}: {checkname} was not stored");
        } else {
            assert_eq!(report["execution_status"], "NOT_OK", "{i}: {}", text(&o));
            assert_eq!(report["failure"]["kind"], "NAMESPACE_REFUSED", "{report}");
            let status = report["status"].as_str().unwrap();
            assert!(
                status.contains("nothing was sent") && status.contains(&checkname),
                "{status}"
            );
            if let Some(origin) = origin.filter(|_| namespace == "dist") {
                assert!(status.contains(origin), "{status}");
            }
            assert_eq!(stored(), before, "{i}: nothing may be stored");
        }
    }
}

/// A private RPM database holding one real package (`probe-tool`, which owns
/// `/usr/bin/probe-tool`), built by `rpmbuild` and recorded with `rpm -i --justdb`;
/// `~/.rpmmacros` in `home` points `rpm` at it.
fn rpm_database(home: &Path) {
    let db = home.join("rpmdb");
    let top = home.join("rpmbuild");
    std::fs::create_dir_all(top.join("SPECS")).unwrap();
    std::fs::write(
        home.join(".rpmmacros"),
        format!("%_dbpath {}\n%_topdir {}\n", db.display(), top.display()),
    )
    .unwrap();
    std::fs::write(
        top.join("SPECS/probe-tool.spec"),
        "Name: probe-tool\nVersion: 1.0\nRelease: 1\nSummary: a probe\nLicense: MIT\nBuildArch: noarch\n%description\nA probe.\n%install\nmkdir -p %{buildroot}/usr/bin\nprintf '#!/bin/sh\\n' > %{buildroot}/usr/bin/probe-tool\nchmod 755 %{buildroot}/usr/bin/probe-tool\n%files\n/usr/bin/probe-tool\n",
    )
    .unwrap();
    let sh = |args: &[&str]| {
        let o = Command::new(args[0])
            .args(&args[1..])
            .env("HOME", home)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    };
    sh(&["rpm", "--initdb"]);
    sh(&[
        "rpmbuild",
        "-bb",
        "--quiet",
        top.join("SPECS/probe-tool.spec").to_str().unwrap(),
    ]);
    let built = top.join("RPMS/noarch/probe-tool-1.0-1.noarch.rpm");
    sh(&[
        "rpm",
        "-i",
        "--justdb",
        "--nodeps",
        "--noscripts",
        "--nosignature",
        built.to_str().unwrap(),
    ]);
}

#[test]
fn environment_rpm_is_looked_up_before_any_action() {
    let home = tempfile::tempdir().unwrap();
    rpm_database(home.path());
    let write = |name: &str, rpms: &str| {
        let dir = home.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("runtask.yml"),
            format!("name: {name}\ndesc: d\nmaintainer: m\nenvironment:\n  rpm: {rpms}\nactions:\n  - name: mark\n    shell: ['touch ${{artifactsdir}}/ran']\n"),
        )
        .unwrap();
        dir
    };
    let go = |dir: &Path, vars: &[(&str, &str)]| {
        let (_, report) = run_probe(home.path(), Path::new("python3"), dir, vars);
        let ran = PathBuf::from(report["artifacts"].as_str().unwrap())
            .join("ran")
            .exists();
        (report, ran)
    };
    // By name and by file: present.
    let (report, ran) = go(&write("present", "[probe-tool, /usr/bin/probe-tool]"), &[]);
    assert_eq!(report["execution_status"], "OK", "{report}");
    assert!(ran);
    // One missing: nothing runs, and the run names it (and not the present one).
    let missing = write(
        "missing",
        "[probe-tool, no-such-package, /usr/bin/no-such-tool]",
    );
    let (report, ran) = go(&missing, &[]);
    assert_eq!(report["failure"]["kind"], "RPM_MISSING", "{report}");
    assert_eq!(report["failure"]["cause"], "infrastructure");
    let status = report["status"].as_str().unwrap();
    assert!(
        status.contains("`no-such-package`, `/usr/bin/no-such-tool`")
            && !status.contains("`probe-tool`"),
        "{status}"
    );
    assert!(!ran, "no action may run");
    // Installing needs dnf; without it the run says so.
    if taskotron_core::process::on_path("dnf", &std::env::var_os("PATH").unwrap_or_default()) {
        eprintln!("dnf is installed: not testing its absence");
    } else {
        let (report, _) = go(&missing, &[("TASKOTRON_INSTALL_RPMS", "dnf")]);
        let status = report["status"].as_str().unwrap();
        assert!(status.contains("`dnf` is not installed"), "{status}");
    }
    // A malformed list is the formula's problem: exit 2 with its position.
    let bad = write("bad", "[probe-tool, [nested]]");
    let o = run(
        home.path(),
        Path::new("python3"),
        &[
            "run",
            bad.to_str().unwrap(),
            "-i",
            "x-1-1.fc41",
            "-t",
            "koji_build",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("runtask.yml:5:"), "{}", text(&o));
}

#[test]
fn without_a_package_database_environment_rpm_warns_once_and_goes_on() {
    // A home without .rpmmacros: this machine's own database. On a host whose rpm
    // manages packages this test says nothing useful, so it checks only the
    // warning path where it applies.
    let home = tempfile::tempdir().unwrap();
    let empty_db = Command::new("rpm")
        .args(["-qa"])
        .output()
        .map(|o| o.stdout.is_empty());
    if !matches!(empty_db, Ok(true)) {
        eprintln!("this machine's rpm manages packages (or rpm is absent): skipped");
        return;
    }
    let dir = home.path().join("t");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("runtask.yml"),
        "name: t\ndesc: d\nmaintainer: m\nenvironment:\n  rpm: [rpmlint, python3-rpm]\nactions:\n  - name: a\n    shell: ['true']\n",
    )
    .unwrap();
    let o = run(
        home.path(),
        Path::new("python3"),
        &[
            "run",
            dir.to_str().unwrap(),
            "-i",
            "x-1-1.fc41",
            "-t",
            "koji_build",
            "--format",
            "jsonl",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let warnings: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "warning")
        .collect();
    assert_eq!(warnings.len(), 1, "{}", text(&o));
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(
        message.contains("`rpm` manages no packages")
            && message.contains("`rpmlint`, `python3-rpm`"),
        "{message}"
    );
}

#[test]
fn runtask_takes_the_original_flags_and_prints_resultyaml() {
    use taskotron_core::results::resultyaml;
    use taskotron_mock::services::{MockServices, ServicesFixture};
    let task = workspace().join("tests/legacy/csmock-2014");
    let fixture = ServicesFixture::load(&task.join("fixtures/koji.yaml")).unwrap();
    let mocks = MockServices::start(&fixture).unwrap();
    let services = mocks.services(Default::default());
    for python in interpreters() {
        let home = tempfile::tempdir().unwrap();
        let o = run(
            home.path(),
            &python,
            &[
                "runtask",
                "-i",
                "defective-1.0-1.fc41",
                "-t",
                "koji_build",
                "-a",
                "x86_64",
                "--jobid",
                "all/123",
                "--local",
                task.join("csmock.yml").to_str().unwrap(),
            ],
            &[
                ("TASKOTRON_KOJI_URL", &services.koji_url),
                ("TASKOTRON_KOJI_PKGS_URL", &services.koji_pkgs_url),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        // stdout is ResultYAML and nothing else; progress went to stderr.
        let stdout = String::from_utf8(o.stdout.clone()).unwrap();
        let read = resultyaml::import(&stdout, None).unwrap_or_else(|e| panic!("{e:?}\n{stdout}"));
        assert_eq!(read.details.len(), 1, "{stdout}");
        let d = &read.details[0];
        assert_eq!(
            (d.checkname.as_deref(), d.outcome.as_str(), d.note.as_str()),
            (Some("scratch.csmock"), "FAILED", "2 defects found")
        );
        assert!(String::from_utf8_lossy(&o.stderr).contains("Finished OK"));
    }
}

/// The original command line tried against the mocks, two ways: `runtask --mock`
/// as `run --mock`, and the unchanged flags pointed at `taskotron-mock koji` by
/// its printed configuration, as a third-party harness would (issue 24, item 11).
#[test]
fn runtask_runs_against_the_mocks() {
    use taskotron_core::results::resultyaml;
    let task = workspace().join("tests/legacy/csmock-2014");
    let fixture = task.join("fixtures/koji.yaml");
    let python = interpreters().into_iter().next().unwrap();
    let flags = [
        "runtask",
        "-i",
        "defective-1.0-1.fc41",
        "-t",
        "koji_build",
        "-a",
        "x86_64",
    ];
    let check = |o: &Output| {
        assert_eq!(o.status.code(), Some(0), "{}", text(o));
        let stdout = String::from_utf8(o.stdout.clone()).unwrap();
        let read = resultyaml::import(&stdout, None).unwrap_or_else(|e| panic!("{e:?}\n{stdout}"));
        assert_eq!(read.details[0].note, "2 defects found", "{stdout}");
    };
    let home = tempfile::tempdir().unwrap();
    let csmock = task.join("csmock.yml");
    let mut args = flags.to_vec();
    args.extend([
        "--mock",
        fixture.to_str().unwrap(),
        csmock.to_str().unwrap(),
    ]);
    check(&run(home.path(), &python, &args, &[]));

    let mock = taskotron_tests::bin::dir().join("taskotron-mock");
    assert!(
        mock.exists(),
        "build it with `cargo build -p taskotron-mock`"
    );
    let mut child = Command::new(mock)
        .arg("koji")
        .arg(&fixture)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut vars = Vec::new();
    for _ in 0..3 {
        let mut l = String::new();
        std::io::BufRead::read_line(&mut out, &mut l).unwrap();
        if let Some((k, v)) = l.trim_end().split_once('=') {
            vars.push((k.to_string(), v.to_string()));
        }
    }
    assert_eq!(vars.len(), 2, "{vars:?}");
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let home = tempfile::tempdir().unwrap();
    let mut args = flags.to_vec();
    args.push(csmock.to_str().unwrap());
    check(&run(home.path(), &python, &args, &vars));
    let _ = child.kill();
    let _ = child.wait();
}
