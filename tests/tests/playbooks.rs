//! Playbook tasks (issue 26): a directory of `tests*.yml` Ansible playbooks is a
//! task, run as Taskotron 0.5-0.10 ran it. The checks of what a playbook is run
//! everywhere; the runs need ansible-core, which `cargo xtask integration`
//! installs into `target/ansible-venv` (the version taskotron pins).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use taskotron_tests::bin::taskotron;

fn ansible_playbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ansible-venv/bin/ansible-playbook")
}

fn task(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    dir
}

/// `taskotron run DIR` with `env`: exit code, JSON report, run directory, stderr.
fn run(dir: &Path, item: &str, env: &[(&str, &str)]) -> (Option<i32>, Value, PathBuf, String) {
    run_with(dir, item, env, &[])
}

const RESULTS: &str = "- hosts: localhost\n  gather_facts: false\n  vars:\n    taskotron_generic_task: true\n  tasks:\n    - name: results\n      ansible.builtin.copy:\n        dest: \"{{ artifacts }}/taskotron/results.yml\"\n        content: \"results:\\n  - {item: '{{ taskotron_item }}', type: koji_build, checkname: dist.two, outcome: PASSED}\\n\"\n";

#[test]
fn what_cannot_run_is_refused_with_its_place() {
    // An STI suite naming a role nobody provides.
    let sti = task(&[(
        "tests.yml",
        "- hosts: localhost\n  roles:\n    - role: standard-test-basc\n      tests: [smoke]\n",
    )]);
    let (code, _, _, err) = run(sti.path(), "htop-1-1.fc41", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("tests.yml:3:13") && err.contains("no role `standard-test-basc`"),
        "{err}"
    );
    assert!(err.contains("did you mean `standard-test-basic`?"), "{err}");
    // A Taskotron playbook and an STI suite in one task.
    let mixed = task(&[
        ("tests.yml", RESULTS),
        (
            "tests_sti.yml",
            "- hosts: localhost\n  roles:\n    - role: standard-test-basic\n      tests: [smoke]\n",
        ),
    ]);
    let (code, _, _, err) = run(mixed.path(), "htop-1-1.fc41", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("tests_sti.yml:1:3") && err.contains("a task's playbooks are of one kind"),
        "{err}"
    );
    // The runner's variables of the first play have their types.
    let keep = task(&[(
        "tests.yml",
        "- hosts: localhost\n  vars:\n    taskotron_generic_task: true\n    taskotron_keepalive_minutes: soon\n    taskotron_match_host_arch: [x86_64]\n  tasks: []\n",
    )]);
    let (code, _, _, err) = run(keep.path(), "htop-1-1.fc41", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("tests.yml:4:34") && err.contains("not a number of minutes"),
        "{err}"
    );
    assert!(
        err.contains("tests.yml:5:32") && err.contains("`taskotron_match_host_arch` is not a name"),
        "{err}"
    );
    // A value that is not `true`, and a file that is no YAML: each with its place.
    let odd = task(&[
        (
            "tests.yml",
            "- hosts: localhost\n  vars:\n    taskotron_generic_task: 'yes'\n  tasks: []\n",
        ),
        ("tests_more.yml", "- hosts: localhost\n  vars: [unclosed\n"),
    ]);
    let (code, _, _, err) = run(odd.path(), "htop-1-1.fc41", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("tests.yml:3:29") && err.contains("`taskotron_generic_task` must be `true`"),
        "{err}"
    );
    assert!(
        err.contains("tests_more.yml:"),
        "every problem at once: {err}"
    );
}

#[test]
fn sti_convert_writes_a_tmt_tree_that_runs_the_same_tests() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("sti-smoke");
    copy_dir(&tasks("sti-smoke"), &dir);
    let convert = |args: &[&str]| {
        let o = Command::new(taskotron())
            .args(["sti", "convert"])
            .arg(&dir)
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, out, _) = convert(&["--dry-run", "--format", "json"]);
    assert_eq!(code, Some(0));
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["written"], false);
    assert!(!dir.join("plans").exists(), "a dry run writes nothing");
    let (code, _, err) = convert(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("Wrote") && err.contains("plans/sti.fmf"),
        "{err}"
    );
    // Again: the files are there, and stay as they are unless --force.
    let (code, _, err) = convert(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("exists") && err.contains("--force"), "{err}");
    assert_eq!(convert(&["--force"]).0, Some(0));
    // The tree is the fmf format's now: the same tests, run by `taskotron run`.
    let (code, report, run_dir, err) = run(&dir, "sti-smoke-1.0-1.fc41", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        report["results"][0]["checkname"],
        "fedora-ci.koji-build./plans/sti.functional"
    );
    let results =
        std::fs::read_to_string(run_dir.join("tmt/plans/sti/execute/results.yaml")).unwrap();
    let results: Vec<Value> = serde_norway::from_str(&results).unwrap();
    let by_name: std::collections::BTreeMap<&str, &str> = results
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    assert_eq!(by_name["/tests/smoke"], "pass");
    assert_eq!(by_name["/tests/sti/known-failure"], "fail");
    // The upstream source, prepared by the spec's %prep (dist-git-source).
    assert_eq!(
        by_name["/tests/sti/upstream-selftest"], "pass",
        "{results:?}"
    );
    // tmt gives no TEST_SUBJECTS: the test that reads them fails there, as it
    // would under tmt (the README says how to move such a test).
    assert_eq!(by_name["/tests/simple"], "fail");
}

fn copy_dir(from: &Path, to: &Path) {
    let o = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(o.status.success());
}

#[test]
fn without_ansible_the_run_says_how_to_get_it() {
    let dir = task(&[("tests.yml", RESULTS)]);
    // A python that cannot make the environment stands for a machine offline.
    let (code, report, _, err) = run(
        dir.path(),
        "htop-1-1.fc41",
        &[("TASKOTRON_PYTHON", "/nonexistent/python3")],
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(report["execution_status"], "NOT_OK", "{report}");
    assert_eq!(report["failure"]["kind"], "TOOL_MISSING", "{report}");
    let status = report["status"].as_str().unwrap_or_default();
    assert!(
        status.contains("python3 -m pip install ansible-core==")
            && status.contains("TASKOTRON_ANSIBLE_PLAYBOOK"),
        "{status}"
    );
}

#[test]
#[ignore = "needs target/ansible-venv; run by cargo xtask integration"]
fn the_pinned_ansible_core_is_the_one_the_tests_run() {
    let o = Command::new(ansible_playbook())
        .arg("--version")
        .output()
        .expect("target/ansible-venv (cargo xtask integration installs it)");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!("[core {}]", taskotron_core::ansible::ANSIBLE_CORE)),
        "{text}"
    );
}

#[test]
#[ignore = "needs target/ansible-venv; run by cargo xtask integration"]
fn a_playbook_task_runs_as_taskotron_ran_it() {
    let tasks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/nvr-playbook");
    let bin = ansible_playbook();
    let env = [("TASKOTRON_ANSIBLE_PLAYBOOK", bin.to_str().unwrap())];
    let (code, report, run_dir, err) = run(&tasks, "htop-3.3.0-1.fc41", &env);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["execution_status"], "OK", "{report}");
    assert_eq!(report["results"][0]["checkname"], "dist.nvr-playbook");
    assert_eq!(report["results"][0]["outcome"], "PASSED");
    let art = run_dir.join("tests.yml");
    let vars: Value = serde_json::from_str(
        &std::fs::read_to_string(art.join("taskotron/task_vars.json")).unwrap(),
    )
    .unwrap();
    for key in [
        "artifacts",
        "taskotron_item",
        "taskotron_item_type",
        "taskotron_arch",
        "taskotron_supported_arches",
        "taskotron_supported_binary_arches",
        "taskotron_secrets_file",
        "ansible_python_interpreter",
    ] {
        assert!(vars.get(key).is_some(), "{key} in {vars:#}");
    }
    assert_eq!(vars["taskotron_item"], "htop-3.3.0-1.fc41");
    assert_eq!(vars["artifacts"], art.display().to_string());
    // The secrets file holds no secret: config gave none.
    let secrets =
        std::fs::read_to_string(vars["taskotron_secrets_file"].as_str().unwrap()).unwrap();
    assert_eq!(secrets.trim(), "{}");
    assert!(art.join("taskotron/results.yml.reported_ok").is_file());
    let log = std::fs::read_to_string(art.join("ansible.log")).unwrap();
    assert!(log.contains("PLAY RECAP"), "{log}");
    assert!(art.join("nvr-check.log").is_file());
    // In a sandbox a playbook reaches no network unless it says so.
    let offline = "- hosts: localhost\n  gather_facts: false\n  vars:\n    taskotron_generic_task: true\n  tasks:\n    - ansible.builtin.command: {argv: [python3, -c, \"import socket; print(len(socket.if_nameindex()) > 1)\"]}\n      register: probe\n    - ansible.builtin.copy:\n        dest: \"{{ artifacts }}/taskotron/results.yml\"\n        content: \"results:\\n  - {item: x-1-1.fc41, type: koji_build, checkname: dist.net, outcome: PASSED, note: 'host network {{ probe.stdout }}'}\\n\"\n";
    // Without the network a sandbox has its own namespace: loopback only.
    for (declared, want) in [(false, "host network False"), (true, "host network True")] {
        let text = if declared {
            offline.replace(
                "taskotron_generic_task: true\n",
                "taskotron_generic_task: true\n    taskotron_network: true\n",
            )
        } else {
            offline.to_string()
        };
        let dir = task(&[("tests.yml", &text)]);
        let mut sandboxed = env.to_vec();
        sandboxed.push(("TASKOTRON_ISOLATION", "sandbox"));
        let (code, report, _, err) = run(dir.path(), "x-1-1.fc41", &sandboxed);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(
            report["results"][0]["note"], want,
            "network declared: {declared}: {report}"
        );
    }
    // The first play's runner variables: keep the workdir for a look, and say
    // what host the playbook wanted when this one is another.
    let kept = RESULTS.replace(
        "taskotron_generic_task: true\n",
        "taskotron_generic_task: true\n    taskotron_keepalive_minutes: 30\n    taskotron_match_host_distro: no-such-distro\n",
    );
    let dir = task(&[("tests.yml", &kept)]);
    let (code, _, _, err) = run(dir.path(), "x-1-1.fc41", &env);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("Kept the workdir"), "{err}");
    assert!(
        err.contains("distro `no-such-distro` (taskotron_match_host_distro)"),
        "{err}"
    );
    // A hostile item is an argument, never a command line.
    let (code, report, run_dir, err) = run(&tasks, "x-1-1.fc41;touch${IFS}pwned", &env);
    assert_eq!(
        code,
        Some(2),
        "refused as an item before anything ran: {err} {report}"
    );
    assert!(!run_dir.join("pwned").exists());
}

#[test]
#[ignore = "needs target/ansible-venv; run by cargo xtask integration"]
fn a_failing_playbook_is_named_and_the_others_keep_their_results() {
    let dir = task(&[
        (
            "tests_a.yml",
            "- hosts: localhost\n  gather_facts: false\n  vars:\n    taskotron_generic_task: true\n  tasks:\n    - name: fails\n      ansible.builtin.command: \"false\"\n",
        ),
        ("tests_b.yml", RESULTS),
        (
            "tests_c.yml",
            "- hosts: localhost\n  gather_facts: false\n  vars:\n    taskotron_generic_task: true\n  tasks:\n    - name: writes nothing\n      ansible.builtin.debug: {msg: hi}\n",
        ),
    ]);
    let bin = ansible_playbook();
    let env = [("TASKOTRON_ANSIBLE_PLAYBOOK", bin.to_str().unwrap())];
    let (code, report, run_dir, err) = run(dir.path(), "htop-3.3.0-1.fc41", &env);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(report["execution_status"], "NOT_OK", "{report}");
    let status = report["status"].as_str().unwrap_or_default();
    assert!(
        status.contains("tests_a.yml: ansible-playbook ended with exit code 2"),
        "{status}"
    );
    assert!(
        status.contains("tests_c.yml: no `") && status.contains("assuming the task crashed"),
        "{status}"
    );
    assert!(
        run_dir
            .join("tests_b.yml/taskotron/results.yml.reported_ok")
            .is_file(),
        "the playbook that worked was reported"
    );
    assert_eq!(
        report["results"][0]["checkname"], "dist.two",
        "and its results are the run's: {report}"
    );
    // ansible-playbook killed at the action's timeout: named, with its log's
    // end, and the next playbook still runs and reports.
    let slow = task(&[
        (
            "tests_a.yml",
            "- hosts: localhost\n  gather_facts: false\n  vars:\n    taskotron_generic_task: true\n  tasks:\n    - name: about to hang\n      ansible.builtin.debug: {msg: hanging now}\n    - ansible.builtin.command: sleep 120\n",
        ),
        ("tests_b.yml", RESULTS),
    ]);
    let mut timed = env.to_vec();
    timed.push(("TASKOTRON_ACTION_TIMEOUT", "4s"));
    let (code, report, _, err) = run(slow.path(), "htop-3.3.0-1.fc41", &timed);
    assert_eq!(code, Some(1), "{err}");
    let status = report["status"].as_str().unwrap_or_default();
    assert!(
        status.contains("tests_a.yml: ansible-playbook ended past its time")
            && status.contains("hanging now"),
        "{status}"
    );
    assert_eq!(report["results"][0]["checkname"], "dist.two", "{report}");
    // A playbook that does not pass the syntax check: refused with its place
    // (exit 2, as a formula that does not load), before anything runs, with or
    // without the sandbox.
    let bad = task(&[
        ("tests.yml", RESULTS),
        (
            "tests_z.yml",
            "- hosts: localhost\n  vars:\n    taskotron_generic_task: true\n  tasks:\n    - nosuchmodule: {x: 1}\n",
        ),
    ]);
    let mut sandboxed = env.to_vec();
    sandboxed.push(("TASKOTRON_ISOLATION", "sandbox"));
    for env in [&env[..], &sandboxed[..]] {
        let (code, report, run_dir, err) = run(bad.path(), "htop-3.3.0-1.fc41", env);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(report["failure"]["kind"], "PLAYBOOK_INVALID", "{report}");
        let status = report["status"].as_str().unwrap_or_default();
        let place = format!("{}:5:7", bad.path().join("tests_z.yml").display());
        assert!(
            status.contains(&place)
                && status.contains("couldn't resolve module/action 'nosuchmodule'")
                && status.contains("nothing ran"),
            "{status}"
        );
        assert!(!run_dir.join("tests.yml").exists(), "nothing ran");
    }
    // A lone playbook is parsed whole before anything of it runs: the same error.
    let lone = task(&[(
        "tests.yml",
        "- hosts: localhost\n  vars:\n    taskotron_generic_task: true\n  tasks:\n    - ansible.builtin.file: {path: '{{ artifacts }}/ran', state: touch}\n    - nosuchmodule: {x: 1}\n",
    )]);
    let (code, report, run_dir, _) = run(lone.path(), "htop-3.3.0-1.fc41", &sandboxed);
    assert_eq!(code, Some(2));
    let status = report["status"].as_str().unwrap_or_default();
    assert!(
        status.contains("tests.yml:6:7") && status.contains("nothing ran"),
        "{status}"
    );
    assert!(!run_dir.join("tests.yml/ran").exists(), "nothing of it ran");
}

/// `taskotron run DIR --mock FIXTURE` with ansible from target/: exit code,
/// report, run directory, stderr.
fn run_mocked(
    dir: &Path,
    item: &str,
    fixture: &Path,
    extra: &[(&str, &str)],
) -> (Option<i32>, Value, PathBuf, String) {
    let bin = ansible_playbook();
    let mut env = vec![("TASKOTRON_ANSIBLE_PLAYBOOK", bin.to_str().unwrap())];
    env.extend_from_slice(extra);
    let fixture = fixture.display().to_string();
    run_with(dir, item, &env, &["--mock", &fixture])
}

/// [`run`] with `args` added.
fn run_with(
    dir: &Path,
    item: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, Value, PathBuf, String) {
    let work = tempfile::tempdir().unwrap().keep();
    let mut c = Command::new(taskotron());
    c.arg("run")
        .arg(dir)
        .args(["-i", item, "-t", "koji_build", "-a", "x86_64"])
        .args(["--format", "json", "--artifacts"])
        .arg(work.join("artifacts"))
        .args(args)
        .env("TASKOTRON_TMPDIR", work.join("tmp"))
        .env("TASKOTRON_STATE_DIR", work.join("state"));
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
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
}

fn tasks(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tasks")
        .join(name)
}

#[test]
#[ignore = "needs target/ansible-venv; run by cargo xtask integration"]
fn an_sti_suite_of_the_usual_shape_gives_one_case_per_test() {
    let dir = tasks("sti-smoke");
    let fixture = dir.join("fixtures/mock.yaml");
    for isolation in ["none", "sandbox"] {
        let (code, report, run_dir, err) = run_mocked(
            &dir,
            "sti-smoke-1.0-1.fc41",
            &fixture,
            &[("TASKOTRON_ISOLATION", isolation)],
        );
        assert_eq!(code, Some(0), "{isolation}: {err}");
        let result = &report["results"][0];
        assert_eq!(result["checkname"], "fedora-ci.koji-build.tier0.functional");
        assert_eq!(result["outcome"], "FAILED", "{report}");
        assert_eq!(result["note"], "3 pass, 1 fail");
        // What STI says a suite leaves, where it says.
        let art = run_dir.join("tests.yml");
        let results = std::fs::read_to_string(art.join("results.yml")).unwrap();
        let read = taskotron_core::sti::read_results(&results, &art.join("results.yml")).unwrap();
        let names: Vec<&str> = read.iter().map(|r| r.test.as_str()).collect();
        assert_eq!(
            names,
            ["simple", "smoke", "upstream-selftest", "known-failure"]
        );
        let summary = std::fs::read_to_string(art.join("test.log")).unwrap();
        assert_eq!(
            summary,
            "PASS simple\nPASS smoke\nPASS upstream-selftest\nFAIL known-failure\n"
        );
        assert!(art.join("smoke.out").is_file(), "save-files");
        assert!(std::fs::read_to_string(art.join("upstream-selftest.log"))
            .unwrap()
            .contains("upstream self-test passed"));
        // The subjects are the build's RPMs, handed over as STI says.
        let simple = std::fs::read_to_string(art.join("simple.log")).unwrap();
        assert!(
            simple.contains("sti-smoke-1.0-1.fc41.noarch.rpm"),
            "{simple}"
        );
        // One case per test, in the run's JUnit.
        let junit = std::fs::read_to_string(run_dir.join("results.junit.xml")).unwrap();
        assert_eq!(junit.matches("<testcase ").count(), 4, "{junit}");
        assert!(
            junit.contains("expected 2, got 3"),
            "the failing test's log: {junit}"
        );
        // The task directory is the author's: nothing was written into it.
        assert!(!dir.join("tests/source").exists());
        assert!(!dir.join("tests/smoke/smoke.out").exists());
    }
}

#[test]
#[ignore = "needs target/ansible-venv; run by cargo xtask integration"]
fn what_goes_wrong_in_an_sti_suite_is_named_and_nothing_is_lost() {
    let fixture = tasks("sti-smoke").join("fixtures/mock.yaml");
    let basic = |tests: &str| {
        format!(
            "- hosts: localhost\n  roles:\n    - role: standard-test-basic\n      tests:\n{tests}"
        )
    };
    let dir = task(&[
        // A test that hangs past its timeout, then one that passes.
        (
            "tests.yml",
            &basic("        - hangs: {dir: ., run: 'sleep 60', timeout: 1}\n        - after: {dir: ., run: 'true'}\n"),
        ),
        // A suite that writes a results.yml that is no STI results.
        (
            "tests_bad.yml",
            "- hosts: localhost\n  tasks:\n    - copy: {dest: '{{ artifacts }}/results.yml', content: \"results:\\n- {result: passed, test: t}\\n\"}\n",
        ),
        // A suite whose playbook fails after a test ran.
        (
            "tests_zfail.yml",
            &format!(
                "{}  post_tasks:\n    - fail: {{msg: broken on purpose}}\n",
                basic("        - ran: {dir: ., run: 'true'}\n")
            ),
        ),
    ]);
    let (code, report, run_dir, err) =
        run_mocked(dir.path(), "sti-smoke-1.0-1.fc41", &fixture, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(report["execution_status"], "NOT_OK");
    let status = report["status"].as_str().unwrap_or_default();
    assert!(
        status.contains("tests_bad.yml: results.yml is no STI results")
            && status.contains("did you mean `pass`?"),
        "{status}"
    );
    assert!(
        status.contains("tests_zfail.yml: ansible-playbook ended with exit code 2"),
        "{status}"
    );
    assert!(
        status.contains("broken on purpose"),
        "the log's tail: {status}"
    );
    // The suite result is still reported, and says the suites did not finish.
    let result = &report["results"][0];
    assert_eq!(result["outcome"], "NEEDS_INSPECTION", "{report}");
    let note = result["note"].as_str().unwrap();
    assert!(note.contains("2 of 3 suites did not finish"), "{note}");
    let results = std::fs::read_to_string(run_dir.join("tests.yml/results.yml")).unwrap();
    assert!(
        results.contains("{result: error, test: \"hangs\""),
        "{results}"
    );
    assert!(
        results.contains("{result: pass, test: \"after\""),
        "the next test ran: {results}"
    );
    let hung = std::fs::read_to_string(run_dir.join("tests.yml/hangs.log")).unwrap();
    assert!(hung.contains("ran past its timeout of 1 s"), "{hung}");
    // A hostile item reaches no shell: it is refused as an item, and a suite's
    // variables are data.
    let (code, _, run_dir, err) = run_mocked(
        &tasks("sti-smoke"),
        "x-1-1.fc41;touch${IFS}pwned",
        &fixture,
        &[],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(!run_dir.join("pwned").exists());
    // A suite that does not parse: its place in the task directory (not in the
    // copy it ran from), exit 2.
    let bad = task(&[(
        "tests.yml",
        "- hosts: localhost\n  tasks:\n    - nosuchmodule: {x: 1}\n",
    )]);
    let (code, report, _, err) = run_mocked(bad.path(), "sti-smoke-1.0-1.fc41", &fixture, &[]);
    assert_eq!(code, Some(2), "{err}");
    let status = report["status"].as_str().unwrap_or_default();
    let place = format!("{}:3:7", bad.path().join("tests.yml").display());
    assert!(status.contains(&place), "{status}");
}

#[test]
#[ignore = "needs target/ansible-venv; run by cargo xtask integration"]
fn python_versions_2020_gives_what_its_formula_generation_gives() {
    let dir = tasks("python-versions");
    let fixture = dir.join("fixtures/koji.yaml");
    for item in ["python-tracer-0.7.0-1.fc41", "pyserial-2.7-6.fc41"] {
        let outcomes = |report: &Value| -> Vec<(String, String)> {
            let mut o: Vec<(String, String)> = report["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["checkname"].as_str().unwrap().to_string(),
                        r["outcome"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            o.sort();
            o
        };
        let (code, formula, _, err) =
            run_with(&dir, item, &[], &["--mock", fixture.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{err}");
        for isolation in ["none", "sandbox"] {
            let (code, playbook, run_dir, err) = run_mocked(
                &dir.join("tests.yml"),
                item,
                &fixture,
                &[("TASKOTRON_ISOLATION", isolation)],
            );
            assert_eq!(code, Some(0), "{item} {isolation}: {err}");
            assert_eq!(
                outcomes(&playbook),
                outcomes(&formula),
                "{item} {isolation}"
            );
            assert_eq!(outcomes(&playbook).len(), 8);
            // Its Python called the koji directive, which the runner ran.
            let log = std::fs::read_to_string(run_dir.join("tests.yml/test.log")).unwrap();
            assert!(log.contains("Downloading complete"), "{log}");
        }
    }
}
