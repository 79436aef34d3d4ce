//! tmt plans run as tasks (issue 25): `taskotron run` on an fmf tree, the context
//! from the item, bad trees refused before anything runs, and tests that hang,
//! flood their output or fork away dealt with while the others still run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use taskotron_tests::bin::taskotron;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".fmf")).unwrap();
    std::fs::write(dir.path().join(".fmf/version"), "1\n").unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// `taskotron run DIR` for `item`, its JSON report and the run's directory.
fn run(dir: &Path, item: &str, extra: &[&str]) -> (Option<i32>, Value, PathBuf, String) {
    let work = tempfile::tempdir().unwrap().keep();
    let o = Command::new(taskotron())
        .arg("run")
        .arg(dir)
        .args([
            "-i",
            item,
            "-t",
            "koji_build",
            "-a",
            "x86_64",
            "--format",
            "json",
            "--artifacts",
        ])
        .arg(work.join("artifacts"))
        .args(extra)
        .env("TASKOTRON_TMPDIR", work.join("tmp"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let run_dir = report["run_id"]
        .as_str()
        .map_or_else(PathBuf::new, |id| work.join("artifacts").join(id));
    (o.status.code(), report, run_dir, stderr)
}

fn results_yaml(run_dir: &Path, plan: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(run_dir.join("tmt").join(plan).join("execute/results.yaml"))
        .unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn smoke() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/tmt-smoke")
}

#[test]
fn a_build_runs_every_enabled_plan_for_its_distro() {
    let (code, report, run_dir, stderr) = run(&smoke(), "tmt-smoke-1.0-1.fc41", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report["execution_status"], "OK", "{report}");
    let names: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["checkname"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "fedora-ci.koji-build./plans/full.functional",
            "fedora-ci.koji-build./plans/smoke.functional"
        ]
    );
    // The smoke plan: tier 1 only, one failing test.
    let smoke = results_yaml(&run_dir, "plans/smoke");
    let got: Vec<(&str, &str)> = smoke
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [("/tests/basic", "pass"), ("/tests/fails", "fail")]);
    assert_eq!(smoke[0]["context"]["distro"][0], "fedora-41");
    // restraint-style results: the test's own two, the worst of them decides.
    let full = results_yaml(&run_dir, "plans/full");
    let reported: Vec<(&str, &str)> = full
        .iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with("/tests/report/"))
        .map(|r| (r["name"].as_str().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reported,
        [
            ("/tests/report/report/first", "pass"),
            ("/tests/report/report/second", "warn")
        ]
    );
    // The plan's environment reached its test.
    let env = full.iter().find(|r| r["name"] == "/tests/env").unwrap();
    assert_eq!(env["result"], "pass");
    let log = run_dir
        .join("tmt/plans/full/execute")
        .join(env["log"][0].as_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(log).unwrap().trim(),
        "GREETING=hello"
    );
    // Every test is a case of the run's JUnit.
    let junit = std::fs::read_to_string(run_dir.join("results.junit.xml")).unwrap();
    assert!(junit.contains("name=\"/tests/fails\""), "{junit}");
}

/// The result names come from the config's `tmt_checkname` (here from the
/// environment, as every key can), inside the task's namespace as every result
/// name is.
#[test]
fn the_result_name_of_a_plan_is_configurable() {
    let work = tempfile::tempdir().unwrap();
    let o = Command::new(taskotron())
        .arg("run")
        .arg(smoke())
        .args([
            "-i",
            "tmt-smoke-1.0-1.fc41",
            "-t",
            "koji_build",
            "-a",
            "x86_64",
        ])
        .args(["--plan", "smoke", "--format", "json", "--artifacts"])
        .arg(work.path().join("artifacts"))
        .env("TASKOTRON_TMPDIR", work.path().join("tmp"))
        .env("TASKOTRON_TMT_CHECKNAME", "ci.{artifact}.{plan}.tier0")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report["results"][0]["checkname"], "fedora-ci.ci.koji-build./plans/smoke.tier0",
        "{report}"
    );
}

#[test]
fn the_context_follows_the_item_and_the_command_line_wins() {
    // fedora-39 is older than the full plan allows.
    let (_, report, _, stderr) = run(&smoke(), "tmt-smoke-1.0-1.fc39", &[]);
    assert_eq!(
        report["results"].as_array().map(Vec::len),
        Some(1),
        "{stderr}"
    );
    let (_, report, _, _) = run(
        &smoke(),
        "tmt-smoke-1.0-1.fc39",
        &["-c", "distro=fedora-41"],
    );
    assert_eq!(report["results"].as_array().map(Vec::len), Some(2));
    let (_, report, _, _) = run(
        &smoke(),
        "tmt-smoke-1.0-1.fc41",
        &["--plan", "/plans/smoke"],
    );
    assert_eq!(report["results"].as_array().map(Vec::len), Some(1));
    let (code, _, _, stderr) = run(
        &smoke(),
        "tmt-smoke-1.0-1.fc41",
        &["--plan", "/plans/smok3"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("did you mean `/plans/smoke`"), "{stderr}");
}

#[test]
fn bad_trees_are_refused_with_their_places_before_anything_runs() {
    let t = tree(&[
        ("plans/main.fmf", "execute:\n  how: tmt\nprovision:\n  how: contaner\n"),
        (
            "tests/a/main.fmf",
            "test: touch ran\nduraton: 5m\nadjust:\n  - when: dsitro == fedora-40\n    tag+: [x]\npath: /../etc\n",
        ),
    ]);
    let o = Command::new(taskotron())
        .arg("validate")
        .arg(t.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    for want in [
        "tests/a/main.fmf:4:11",
        "did you mean `distro`?",
        "unknown provisioner `contaner`",
        "did you mean `container`?",
        "plans/main.fmf:3:1",
        "unknown test key `duraton`",
        "tests/a/main.fmf:2:1",
        "`path: /../etc` leaves the tree",
    ] {
        assert!(e.contains(want), "no {want:?} in\n{e}");
    }
    let (code, _, _, stderr) = run(t.path(), "x-1-1.fc41", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!t.path().join("tests/a/ran").exists());
    // A merge of the wrong type and YAML that does not parse, with the file.
    let t = tree(&[
        ("plans/main.fmf", "execute:\n  how: tmt\n"),
        ("tests/main.fmf", "tag: [a]\n"),
        ("tests/a.fmf", "test: x\ntag+: not-a-list\n"),
    ]);
    let (code, _, _, stderr) = run(t.path(), "x-1-1.fc41", &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("tests/a.fmf"), "{stderr}");
    std::fs::write(t.path().join("tests/a.fmf"), "test: [\n").unwrap();
    let (code, _, _, stderr) = run(t.path(), "x-1-1.fc41", &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("tests/a.fmf:1:1"), "{stderr}");
}

#[test]
fn a_test_that_hangs_floods_or_forks_away_is_dealt_with_and_the_others_run() {
    let t = tree(&[
        (
            "plans/main.fmf",
            "discover:\n  how: fmf\nexecute:\n  how: tmt\n",
        ),
        ("tests/a-hangs.fmf", "test: sleep 60\nduration: 2s\n"),
        (
            "tests/b-floods.fmf",
            "test: head -c 20000000 /dev/zero | tr '\\\\0' x\n",
        ),
        (
            "tests/c-forks.fmf",
            "test: (sleep 60 > /dev/null 2>&1 &) ; echo forked\n",
        ),
        ("tests/d-passes.fmf", "test: echo fine\n"),
    ]);
    let start = Instant::now();
    let (code, report, run_dir, stderr) = run(t.path(), "x-1-1.fc41", &[]);
    assert!(
        start.elapsed() < Duration::from_secs(40),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        report["results"][0]["outcome"], "NEEDS_INSPECTION",
        "{report}"
    );
    let results = results_yaml(&run_dir, "plans");
    let by_name = |n: &str| results.iter().find(|r| r["name"] == n).unwrap().clone();
    let hung = by_name("/tests/a-hangs");
    assert_eq!(hung["result"], "error");
    assert!(
        hung["note"][0].as_str().unwrap().contains("timeout"),
        "{hung}"
    );
    let flood = by_name("/tests/b-floods");
    assert_eq!(flood["result"], "pass");
    let out = run_dir
        .join("tmt/plans/execute")
        .join(flood["log"][0].as_str().unwrap());
    assert_eq!(
        std::fs::metadata(out).unwrap().len(),
        20_000_000,
        "nothing of the output is lost"
    );
    assert_eq!(by_name("/tests/c-forks")["result"], "pass");
    assert_eq!(by_name("/tests/d-passes")["result"], "pass");
}

/// Issue 25, item 4: a Koji build message becomes every plan of the build's own
/// dist-git (at the commit Koji names) on every arch a plan is enabled for, one job
/// each, and a worker runs each job's one plan from a mirror checkout of that commit.
#[test]
fn a_koji_build_message_runs_every_dist_git_plan_on_every_arch() {
    use taskotron_tests::git::GitDaemon;
    use taskotron_tests::workers::Setup;
    let s = Setup::new();
    let root = s.dir.path();
    // A dist-git: the spec, and tmt plans and tests beside it.
    let work = root.join("dist-git");
    let files: &[(&str, &str)] = &[
        (".fmf/version", "1\n"),
        ("htop.spec", "Name: htop\nVersion: 3.3.0\nRelease: 1%{?dist}\n"),
        (
            "plans/main.fmf",
            "discover:\n    how: fmf\nprovision:\n    how: local\nexecute:\n    how: tmt\n/smoke:\n    summary: everywhere\n/x86:\n    summary: x86_64 only\n    adjust:\n      - when: arch != x86_64\n        enabled: false\n",
        ),
        (
            "tests/main.fmf",
            "/works:\n    test: echo \"works on $(cat /proc/version | cut -c1-5)\"\n/arch:\n    test: test -n \"$TMT_PLAN_DATA\"\n",
        ),
    ];
    for (path, text) in files {
        let p = work.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let head = taskotron_tests::git::publish(&work, &root.join("repos/rpms/htop.git"));
    let plain = root.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join("nofmf.spec"), "Name: nofmf\n").unwrap();
    let plain_head = taskotron_tests::git::publish(&plain, &root.join("repos/rpms/nofmf.git"));
    let daemon = GitDaemon::start(&root.join("repos"), &root.join("daemon.log")).unwrap();
    let koji = taskotron_mock::koji::MockKoji::from_yaml(&format!(
        "builds:\n  - nvr: htop-3.3.0-1.fc41\n    arches: [x86_64, aarch64]\n    source: git+git://127.0.0.1:{0}/rpms/htop.git#{head}\n  - nvr: nofmf-1-1.fc41\n    source: git+git://127.0.0.1:{0}/rpms/nofmf.git#{plain_head}\n",
        daemon.port()
    ))
    .unwrap();
    let server = koji.serve().unwrap();
    s.configure(&format!(
        "koji_url: {0}/kojihub\nkoji_pkgs_url: {0}\nsupported_arches: [x86_64, aarch64]\n",
        server.url()
    ));
    std::fs::write(
        root.join("rules.yml"),
        "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{dist_git_tests: true, arches: [x86_64, aarch64]}]\n",
    )
    .unwrap();
    let message = |n: &str, name: &str, version: &str| {
        serde_json::json!({"routing_key": "org.fedoraproject.prod.buildsys.build.state.change",
            "properties": {"message_id": n},
            "body": {"new": 1, "name": name, "version": version, "release": "1.fc41"}})
        .to_string()
    };
    std::fs::write(
        root.join("messages.jsonl"),
        format!(
            "{}\n{}\n",
            message("m-1", "htop", "3.3.0"),
            message("m-2", "nofmf", "1")
        ),
    )
    .unwrap();
    let o = s
        .command(&["trigger", "--rules"])
        .arg(root.join("rules.yml"))
        .arg("--from")
        .arg(root.join("messages.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    // A build whose dist-git holds no tree is a warning that says so, not a job.
    assert!(
        stderr.contains("no dist-git tests for nofmf-1-1.fc41"),
        "{stderr}"
    );
    let planned: Vec<(String, String, String)> = s
        .jobs()
        .iter()
        .map(|j| {
            assert_eq!(j["source"]["git_ref"], head.as_str(), "{j:#}");
            (
                j["task"].as_str().unwrap().to_string(),
                j["arch"].as_str().unwrap().to_string(),
                j["plan"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = planned.clone();
    sorted.sort();
    let want = |a: &str, p: &str| ("dist-git:htop".to_string(), a.to_string(), p.to_string());
    assert_eq!(
        sorted,
        [
            want("aarch64", "/plans/smoke"),
            want("x86_64", "/plans/smoke"),
            want("x86_64", "/plans/x86"),
        ],
        "the x86_64-only plan is not scheduled on aarch64"
    );
    s.ok(&["worker", "--once", "--arch", "x86_64", "--arch", "aarch64"]);
    for job in s.jobs() {
        assert_eq!(job["state"], "COMPLETED", "{job:#}");
        assert_eq!(job["report"]["execution_status"], "OK", "{job:#}");
        assert_eq!(job["report"]["task_commit"], head.as_str());
        assert_eq!(
            job["report"]["checkname"], "fedora-ci.htop",
            "named after the package's repository"
        );
        let plan = job["plan"].as_str().unwrap();
        let names: Vec<&str> = job["report"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["checkname"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [format!("fedora-ci.koji-build.{plan}.functional")],
            "a job runs its one plan: {job:#}"
        );
        let run = root.join("artifacts").join(job["run_id"].as_str().unwrap());
        let plans: Vec<String> = std::fs::read_dir(run.join("tmt/plans"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            plans,
            [plan.trim_start_matches("/plans/")],
            "{}",
            run.display()
        );
        let results = results_yaml(&run, &plan[1..]);
        assert_eq!(results.len(), 2, "{results:?}");
        assert!(results.iter().all(|r| r["result"] == "pass"), "{results:?}");
    }
    assert_eq!(
        std::fs::read_dir(root.join("state/checkouts")).map_or(0, |d| d.count()),
        0,
        "checkouts are removed after their run"
    );
    assert_eq!(
        daemon.upload_packs(),
        2,
        "one clone of each repository: the trigger and every job share the mirror"
    );
    // Koji unreachable: the message is not used up, and says when to try again.
    drop(server);
    std::fs::write(
        root.join("again.jsonl"),
        format!("{}\n", message("m-3", "htop", "3.3.0")),
    )
    .unwrap();
    let o = s
        .command(&["trigger", "--rules"])
        .arg(root.join("rules.yml"))
        .arg("--from")
        .arg(root.join("again.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stopped at line 1: cannot make the message's jobs now")
            && stderr.contains("once Koji and the dist-git repository answer"),
        "{stderr}"
    );
}

/// A discover phase with `url` (and `ref`) runs the tests of another repository,
/// fetched through the task mirror: tmt's way of sharing tests between packages.
#[test]
fn a_plan_discovers_tests_from_another_repository_through_the_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared-tests");
    std::fs::create_dir_all(shared.join(".fmf")).unwrap();
    std::fs::write(shared.join(".fmf/version"), "1\n").unwrap();
    std::fs::create_dir_all(shared.join("suite/sanity")).unwrap();
    std::fs::write(
        shared.join("suite/main.fmf"),
        "/sanity:\n    test: ./check.sh\n    tag: [sanity]\n/other:\n    test: \"false\"\n",
    )
    .unwrap();
    std::fs::write(
        shared.join("suite/check.sh"),
        "#!/bin/sh\necho \"shared test in $PWD\"\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(shared.join("suite/check.sh"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(shared.join("suite/check.sh"), perms).unwrap();
    let head = taskotron_tests::git::publish(&shared, &dir.path().join("git/shared.git"));
    let url = format!("file://{}", dir.path().join("git/shared.git").display());
    let pkg = tree(&[(
        "plans/main.fmf",
        &format!(
            "discover:\n    how: fmf\n    url: {url}\n    ref: {head}\n    filter: \"tag: sanity\"\nprovision:\n    how: local\nexecute:\n    how: tmt\n"
        ),
    )]);
    let state = dir.path().join("state");
    let (code, report, run_dir, stderr) = {
        let work = dir.path().join("work");
        let o = Command::new(taskotron())
            .arg("run")
            .arg(pkg.path())
            .args(["-i", "pkg-1-1.fc41", "-t", "koji_build", "-a", "x86_64"])
            .args(["--format", "json", "--artifacts"])
            .arg(work.join("artifacts"))
            .env("TASKOTRON_TMPDIR", work.join("tmp"))
            .env("TASKOTRON_STATE_DIR", &state)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        let run_dir = work
            .join("artifacts")
            .join(report["run_id"].as_str().unwrap_or("none"));
        (
            o.status.code(),
            report,
            run_dir,
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report["results"][0]["outcome"], "PASSED", "{report}");
    let results = results_yaml(&run_dir, "plans");
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["/suite/sanity"],
        "the filter applies to the fetched tree"
    );
    let log = std::fs::read_to_string(
        run_dir
            .join("tmt/plans/execute")
            .join(results[0]["log"][0].as_str().unwrap()),
    )
    .unwrap();
    assert!(
        log.contains("shared test in") && log.contains("tmt-discover"),
        "the test ran in the checkout of the other repository: {log}"
    );
    assert!(
        std::fs::read_dir(state.join("mirror")).unwrap().count() > 0,
        "fetched through the mirror"
    );
    // A repository that is not there is an error of the plan that names it.
    let gone = tree(&[(
        "plans/main.fmf",
        "discover:\n    how: fmf\n    url: file:///nonexistent/tests.git\nprovision:\n    how: local\nexecute:\n    how: tmt\n",
    )]);
    let o = Command::new(taskotron())
        .arg("run")
        .arg(gone.path())
        .args(["-i", "pkg-1-1.fc41", "-t", "koji_build", "-a", "x86_64"])
        .args(["--format", "json", "--artifacts"])
        .arg(dir.path().join("work2/artifacts"))
        .env("TASKOTRON_TMPDIR", dir.path().join("work2/tmp"))
        .env("TASKOTRON_STATE_DIR", &state)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let r = &report["results"][0];
    assert_eq!(r["outcome"], "NEEDS_INSPECTION", "{report}");
    assert!(
        r["note"]
            .as_str()
            .unwrap_or_default()
            .contains("discover `url: file:///nonexistent/tests.git`"),
        "{report}"
    );
}
