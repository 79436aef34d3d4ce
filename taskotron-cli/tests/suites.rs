//! Test suites as tasks: a `shell` action that runs a real suite (a TAP-printing
//! script, node's test runner, GLib's installed tests, Perl) declares `results:`,
//! and every test point survives to `results.junit.xml`, the report, `--format
//! jsonl` and the exit code, whatever the suite does (fails, crashes, bails out,
//! prints garbage or a gigabyte).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{json, stderr, Env};
use serde_json::Value;

/// A task directory `name` whose only action runs `script` (as `./suite.sh`) with
/// the given action keys (`results: tap` ...).
fn task(env: &Env, name: &str, script: &str, keys: &str) -> PathBuf {
    let dir = env.home.path().join(name);
    env.write(
        &format!("{name}/runtask.yml"),
        &format!(
            "name: {name}\nnamespace: scratch\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build]\n\
             actions:\n  - name: unit tests\n    shell:\n      - ./suite.sh\n{keys}"
        ),
    );
    let path = env.write(&format!("{name}/suite.sh"), script);
    set_executable(&path);
    dir
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn run(env: &Env, dir: &Path, extra: &[&str]) -> (Output, Value) {
    let mut args = vec![
        "run",
        dir.to_str().unwrap(),
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = env.run(&args);
    let report = json(&out);
    (out, report)
}

/// JUnit counts: (testcases, failures, errors, skipped), read back by quick-junit.
fn junit_counts(xml: &str) -> (usize, usize, usize, usize) {
    assert_schema(xml);
    let report =
        quick_junit::Report::deserialize_from_str(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let (mut n, mut f, mut e, mut s) = (0, 0, 0, 0);
    for suite in &report.test_suites {
        for case in &suite.test_cases {
            n += 1;
            match &case.status {
                quick_junit::TestCaseStatus::NonSuccess { kind, .. } => match kind {
                    quick_junit::NonSuccessKind::Failure => f += 1,
                    quick_junit::NonSuccessKind::Error => e += 1,
                },
                quick_junit::TestCaseStatus::Skipped { .. } => s += 1,
                quick_junit::TestCaseStatus::Success { .. } => {}
            }
        }
    }
    // The document's own counts agree with its cases.
    assert_eq!(
        (report.tests, report.failures, report.errors, report.skipped),
        (n, f, e, s)
    );
    (n, f, e, s)
}

/// Checks `xml` against the JUnit schema CI systems read (`tests/data/junit.xsd`)
/// with xmllint.
fn assert_schema(xml: &str) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), xml).unwrap();
    let schema = common::workspace().join("tests/data/junit.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(file.path())
        .output()
        .expect("xmllint is missing: apt-get install libxml2-utils (.ci/run does)");
    assert!(
        out.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn artifact(report: &Value, rel: &str) -> String {
    let dir = PathBuf::from(report["artifacts"].as_str().unwrap());
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const FAILING_SUITE: &str = "#!/bin/sh\n\
echo 'TAP version 13'\necho '1..4'\necho 'ok 1 - parses'\necho 'not ok 2 - adds'\n\
echo '  ---'\necho '  message: expected 3, got 4'\necho '  duration_ms: 12'\necho '  ...'\n\
echo 'ok 3 - networked # SKIP offline'\necho 'not ok 4 - later # TODO not yet'\nexit 1\n";

#[test]
fn a_failing_suite_is_an_ok_run_with_failed_results_and_every_test_kept() {
    let env = Env::new();
    let dir = task(&env, "failing", FAILING_SUITE, "    results: tap\n");
    let (out, report) = run(&env, &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out, &env));
    assert_eq!(report["execution_status"], "OK");
    assert_eq!(report["outcome"], "FAILED");
    let action = &report["actions"][0];
    assert_eq!(action["status"], "ok");
    assert_eq!(action["exit_code"], 1);
    assert_eq!(action["tests"]["counts"]["tests"], 4);
    assert_eq!(action["tests"]["counts"]["failed"], 1);
    let xml = artifact(&report, "results.junit.xml");
    assert_eq!(junit_counts(&xml), (4, 1, 0, 2));
    assert!(xml.contains("expected 3, got 4"), "{xml}");
    assert!(xml.contains("time=\"0.012\""), "{xml}");
    let page = artifact(&report, "report.html");
    assert!(
        page.contains("class=\"verdict bad\""),
        "an OK run with FAILED results is red"
    );
    assert!(page.contains("adds") && page.contains("<details>"));
    // --fail-on-results: the same run exits 100.
    let (out, _) = run(&env, &dir, &["--fail-on-results"]);
    assert_eq!(out.status.code(), Some(100));
}

#[test]
fn without_results_the_exit_code_of_a_suite_is_a_failure() {
    let env = Env::new();
    let dir = task(&env, "plain", FAILING_SUITE, "");
    let (out, report) = run(&env, &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["execution_status"], "NOT_OK");
    let status = report["status"].as_str().unwrap();
    assert!(status.contains("exited with code 1"), "{status}");
}

#[test]
fn exit_codes_outside_the_set_and_signals_are_crashes_with_the_results_kept() {
    let env = Env::new();
    // Exit 1 is not in `exit_ok: [0]`.
    let dir = task(
        &env,
        "strict",
        FAILING_SUITE,
        "    results: tap\n    exit_ok: [0]\n",
    );
    let (_, report) = run(&env, &dir, &[]);
    assert_eq!(report["execution_status"], "NOT_OK");
    let status = report["status"].as_str().unwrap();
    assert!(
        status.contains("not one of the suite's exit codes (0)"),
        "{status}"
    );
    assert_eq!(report["results"][0]["outcome"], "FAILED");
    assert_eq!(report["actions"][0]["tests"]["counts"]["tests"], 4);
    // Killed by SIGKILL halfway through.
    let killed = "#!/bin/sh\necho 'TAP version 13'\necho '1..3'\necho 'ok 1 - a'\necho 'ok 2 - b'\nkill -9 $$\n";
    let dir = task(&env, "killed", killed, "    results: tap\n");
    let (out, report) = run(&env, &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    let status = report["status"].as_str().unwrap();
    assert!(status.contains("killed by SIGKILL"), "{status}");
    assert!(status.contains("2 tests and 1 result"), "{status}");
    assert_eq!(report["actions"][0]["exit_code"], 137);
    let xml = artifact(&report, "results.junit.xml");
    // The two tests read, and the cut stream as an error.
    assert_eq!(junit_counts(&xml), (3, 0, 1, 0));
    assert!(
        xml.contains("planned 3 tests but the stream ran 2"),
        "{xml}"
    );
}

#[test]
fn garbage_bail_outs_and_broken_yaml_say_why() {
    let env = Env::new();
    let cases = [
        (
            "garbage",
            "#!/bin/sh\necho 'Segmentation fault in the harness'\necho 'core dumped'\nexit 1\n",
            "NOT_OK",
            "the suite printed no TAP: 2 lines",
        ),
        (
            "bail",
            "#!/bin/sh\necho '1..3'\necho 'ok 1 - a'\necho 'Bail out! database is down'\nexit 1\n",
            "NOT_OK",
            "the suite bailed out: database is down",
        ),
        (
            "silent",
            "#!/bin/sh\nexit 0\n",
            "NOT_OK",
            "the suite printed nothing",
        ),
        (
            "badyaml",
            "#!/bin/sh\necho '1..2'\necho 'not ok 1 - a'\necho '  ---'\necho '  got: [unclosed'\necho '  ...'\necho 'ok 2 - b'\nexit 1\n",
            "OK",
            "",
        ),
    ];
    for (name, script, status, why) in cases {
        let dir = task(&env, name, script, "    results: tap\n");
        let (_, report) = run(&env, &dir, &[]);
        assert_eq!(report["execution_status"], status, "{name}: {report}");
        let text = report["status"].as_str().unwrap_or_default();
        assert!(text.contains(why), "{name}: {text}");
    }
    // The broken YAML block stays with its test point, as written.
    let dir = env.home.path().join("badyaml");
    let (_, report) = run(&env, &dir, &[]);
    let xml = artifact(&report, "results.junit.xml");
    assert_eq!(junit_counts(&xml), (2, 1, 0, 0));
    assert!(xml.contains("got: [unclosed"), "{xml}");
}

#[test]
fn a_gigabyte_of_output_is_read_in_bounded_memory() {
    let env = Env::new();
    // A test point, then 512 MiB in one line, then 512 MiB of noise lines, then
    // the last test point: both points are read, and memory stays flat.
    let script = "#!/bin/sh\necho 'TAP version 13'\necho '1..2'\necho 'ok 1 - before'\n\
                  head -c 536870912 /dev/zero | tr '\\0' x\necho\n\
                  yes 'noise noise noise' | head -n 29826162\necho 'not ok 2 - after'\nexit 1\n";
    let dir = task(&env, "huge", script, "    results: tap\n");
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_taskotron"))
        .args([
            "run",
            dir.to_str().unwrap(),
            "-i",
            "htop-3.3.0-1.fc41",
            "-t",
            "koji_build",
        ])
        .args(["--format", "json", "-q"])
        .env("TASKOTRON_ARTIFACTS", env.artifacts())
        .env("TASKOTRON_TMPDIR", env.home.path().join("tmp"))
        .env("HOME", env.home.path())
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(report["execution_status"], "OK", "{report}");
    assert_eq!(report["actions"][0]["tests"]["counts"]["tests"], 2);
    assert_eq!(report["outcome"], "FAILED");
    let err = String::from_utf8_lossy(&out.stderr);
    let kib: u64 = err.trim().lines().last().unwrap().trim().parse().unwrap();
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB for 1 GiB of output");
    let printed = std::fs::metadata(
        PathBuf::from(report["artifacts"].as_str().unwrap()).join("actions/01-unit-tests.stdout"),
    )
    .unwrap()
    .len();
    assert!(printed > 1 << 30, "{printed}");
}

#[test]
fn node_test_runner_counts_match_its_own_junit_reporter() {
    let env = Env::new();
    let js = "const test = require('node:test');\nconst assert = require('node:assert');\n\
              const { describe, it } = test;\n\
              test('top', async (t) => {\n  await t.test('inner ok', () => {});\n\
              await t.test('inner fail', () => { assert.strictEqual(1, 2); });\n\
              await t.test('deeper', async (t) => {\n    await t.test('deep ok', () => {});\n\
              await t.test('deep skip', { skip: 'no arch' }, () => {});\n  });\n});\n\
              describe('suite', () => {\n  it('works', () => {});\n\
              it('todo one', { todo: 'later' }, () => { throw new Error('x'); });\n});\n\
              test('alone fails', () => { throw new Error('bad'); });\n";
    let dir = task(
        &env,
        "nodesuite",
        "#!/bin/sh\nexec node --test --test-reporter=tap t.test.js\n",
        "    results: tap\n",
    );
    env.write("nodesuite/t.test.js", js);
    let (out, report) = run(&env, &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out, &env));
    let ours = artifact(&report, "results.junit.xml");
    // Node's own JUnit: parents are suites, leaves test cases; a failing TODO is
    // both skipped and failed there, only skipped here.
    let theirs = Command::new("node")
        .args(["--test", "--test-reporter=junit", "t.test.js"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    let (mut n, mut f, mut s) = (0, 0, 0);
    for case in theirs.split("<testcase ").skip(1) {
        let body = case.split("</testcase>").next().unwrap();
        let body = if case.split('>').next().unwrap().ends_with('/') {
            ""
        } else {
            body
        };
        n += 1;
        let skipped = body.contains("<skipped");
        s += usize::from(skipped);
        f += usize::from(!skipped && body.contains("<failure"));
    }
    assert_eq!(junit_counts(&ours), (n, f, 0, s), "{ours}");
    assert_eq!((n, f, s), (7, 2, 2));
    assert!(
        ours.contains("name=\"top &gt; deeper &gt; deep ok\""),
        "{ours}"
    );
    assert!(
        ours.contains("1 !== 2"),
        "node's error travels in the failure: {ours}"
    );
}

/// A failing test is printed with why it failed, as nextest prints a failing
/// test's output: the message, expected and actual, and where; JUnit's `message=`
/// carries the whole message, not its first line (issue 24, item 12).
#[test]
fn a_failing_test_says_why_on_stderr_and_in_junit() {
    let env = Env::new();
    let js = "const test = require('node:test');\nconst assert = require('node:assert');\n\
              test('distTag', async (t) => {\n\
              await t.test('epel minor release', () => { assert.strictEqual(1, 2); });\n});\n";
    let dir = task(
        &env,
        "nodewhy",
        "#!/bin/sh\nexec node --test --test-reporter=tap t.test.js\n",
        "    results: tap\n",
    );
    env.write("nodewhy/t.test.js", js);
    let args = [
        "run",
        dir.to_str().unwrap(),
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
    ];
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out, &env));
    let err = stderr(&out, &env);
    let lines: Vec<&str> = err.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| *l == "FAILED distTag > epel minor release")
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        lines[at + 1..at + 5],
        [
            "Expected values to be strictly equal:",
            "1 !== 2",
            "expected: 2",
            "actual: 1"
        ],
        "{err}"
    );
    let place = lines[at + 5];
    assert!(
        place.starts_with("at ") && place.ends_with("t.test.js:4:9"),
        "{err}"
    );
    assert_eq!(
        err.matches("FAILED distTag > epel minor release").count(),
        1,
        "each failing test once: {err}"
    );
    let (_, report) = run(&env, &dir, &[]);
    let junit = artifact(&report, "results.junit.xml");
    assert!(
        junit.contains("message=\"Expected values to be strictly equal:&#10;&#10;1 !== 2\""),
        "the whole message: {junit}"
    );
}

/// GLib's installed tests (Debian's libglib2.0-tests), whose `--tap` output has no
/// version line; the counts are Perl TAP::Parser's.
#[test]
fn glib_installed_tests_counts_match_perl() {
    let installed = Path::new("/usr/libexec/installed-tests/glib");
    assert!(
        installed.is_dir(),
        "GLib's installed tests are missing: apt-get install libglib2.0-tests (.ci/run does)"
    );
    let env = Env::new();
    for test in ["array-test", "base64", "option-context", "strfuncs"] {
        let script = format!("#!/bin/sh\nexec {}/{test} --tap\n", installed.display());
        let dir = task(&env, test, &script, "    results: tap\n");
        let (out, report) = run(&env, &dir, &[]);
        assert_eq!(out.status.code(), Some(0), "{test}: {}", stderr(&out, &env));
        let xml = artifact(&report, "results.junit.xml");
        let stdout = PathBuf::from(report["artifacts"].as_str().unwrap())
            .join("actions/01-unit-tests.stdout");
        let perl = Command::new("perl")
            .args([
                "-MTAP::Parser",
                "-e",
                "open my $f, '<', $ARGV[0] or die; my $tap = do { local $/; <$f> }; \
                 my $p = TAP::Parser->new({tap => $tap}); while ($p->next) {} \
                 print join(' ', scalar($p->tests_run), scalar($p->failed), scalar($p->skipped), scalar($p->todo))",
            ])
            .arg(&stdout)
            .output()
            .unwrap();
        let counts: Vec<usize> = String::from_utf8_lossy(&perl.stdout)
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        let (tests, failed, skipped, todo) = (counts[0], counts[1], counts[2], counts[3]);
        assert!(tests > 10, "{test}");
        assert_eq!(
            junit_counts(&xml),
            (tests, failed, 0, skipped + todo),
            "{test}"
        );
    }
}

#[test]
fn several_suites_in_one_task_report_under_their_own_names() {
    let env = Env::new();
    let dir = env.home.path().join("three");
    env.write(
        "three/runtask.yml",
        "name: three\nnamespace: scratch\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build]\n\
         actions:\n\
         \x20 - name: unit tests\n    shell: [./suite.sh]\n    results: tap\n\
         \x20 - name: Integration Tests\n    shell: [./suite.sh]\n    results: tap\n\
         \x20 - name: lint\n    shell: [./suite.sh]\n    results: tap\n    checkname: dist.lint\n",
    );
    set_executable(&env.write("three/suite.sh", FAILING_SUITE));
    let (_, report) = run(&env, &dir, &[]);
    let names: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["checkname"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "scratch.three.unit-tests",
            "scratch.three.integration-tests",
            "dist.lint"
        ]
    );
    let xml = artifact(&report, "results.junit.xml");
    let suites: Vec<String> = quick_junit::Report::deserialize_from_str(&xml)
        .unwrap()
        .test_suites
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(suites, names);
    assert_eq!(junit_counts(&xml), (12, 3, 0, 6));
}

#[test]
fn a_junit_file_and_resultyaml_are_streams_too() {
    let env = Env::new();
    let junit = "#!/bin/sh\ncat > report.xml <<'X'\n<testsuite name=\"py\"><testcase classname=\"m\" name=\"t1\"/>\
                 <testcase classname=\"m\" name=\"t2\"><failure message=\"no\">trace</failure></testcase></testsuite>\nX\nexit 1\n";
    let dir = task(
        &env,
        "junitsuite",
        junit,
        "    results: {junit: report.xml}\n",
    );
    let (_, report) = run(&env, &dir, &[]);
    assert_eq!(report["execution_status"], "OK", "{report}");
    assert_eq!(report["outcome"], "FAILED");
    assert_eq!(
        junit_counts(&artifact(&report, "results.junit.xml")),
        (2, 1, 0, 0)
    );
    let missing = task(
        &env,
        "nojunit",
        "#!/bin/sh\nexit 0\n",
        "    results: {junit: out.xml}\n",
    );
    let (_, report) = run(&env, &missing, &[]);
    assert!(report["status"]
        .as_str()
        .unwrap()
        .contains("wrote no JUnit file at `out.xml`"));
    let yaml = "#!/bin/sh\necho 'results:'\necho '  - item: htop-3.3.0-1.fc41'\necho '    type: koji_build'\necho '    outcome: PASSED'\n";
    let dir = task(&env, "yamlsuite", yaml, "    results: resultyaml\n");
    let (_, report) = run(&env, &dir, &[]);
    assert_eq!(report["outcome"], "PASSED", "{report}");
    assert_eq!(
        junit_counts(&artifact(&report, "results.junit.xml")),
        (1, 0, 0, 0)
    );
}

#[test]
fn results_keys_are_checked_with_suggestions() {
    let env = Env::new();
    let dir = task(
        &env,
        "typo",
        FAILING_SUITE,
        "    results: tpa\n    exit_ok: [0, 300]\n",
    );
    let out = env.run(&["validate", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out, &env);
    assert!(err.contains("unknown result format `tpa`"), "{err}");
    assert!(err.contains("did you mean `tap`"), "{err}");
    assert!(
        err.contains("an exit code is a number from 0 to 255"),
        "{err}"
    );
    assert!(err.contains("runtask.yml:"), "{err}");
    let dir = env.home.path().join("dummy");
    env.write(
        "dummy/runtask.yml",
        "name: d\nactions:\n  - name: x\n    dummy: {result: PASSED}\n    results: tap\n",
    );
    let err = stderr(&env.run(&["validate", dir.to_str().unwrap()]), &env);
    assert!(
        err.contains("`results` is for actions that run a test suite"),
        "{err}"
    );
}

#[test]
fn jsonl_streams_every_event_in_order() {
    let env = Env::new();
    let dir = task(&env, "events", FAILING_SUITE, "    results: tap\n");
    let out = env.run(&[
        "run",
        dir.to_str().unwrap(),
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "--format",
        "jsonl",
        "--fail-on-results",
    ]);
    assert_eq!(out.status.code(), Some(100));
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "action_started",
            "test",
            "test",
            "test",
            "test",
            "result",
            "action_finished",
            "summary"
        ]
    );
    assert_eq!(events[3]["name"], "adds");
    assert_eq!(events[3]["status"], "failed");
    assert_eq!(events[3]["action"], 1);
    assert_eq!(events[6]["outcome"], "FAILED");
    assert_eq!(events[7]["exit_code"], 1);
    let summary = &events[8];
    assert_eq!(summary["exit_code"], 100);
    assert_eq!(summary["tests"]["failed"], 1);
    assert_eq!(summary["execution_status"], "OK");
}

#[test]
fn verbose_streams_the_output_and_quiet_prints_nothing() {
    let env = Env::new();
    let dir = task(&env, "talk", FAILING_SUITE, "    results: tap\n");
    let args = [
        "run",
        dir.to_str().unwrap(),
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
    ];
    let mut verbose = vec!["-v"];
    verbose.extend_from_slice(&args);
    let out = env.run(&verbose);
    let err = stderr(&out, &env);
    assert!(err.contains("[unit tests] not ok 2 - adds"), "{err}");
    let mut quiet = vec!["-q"];
    quiet.extend_from_slice(&args);
    let out = env.run(&quiet);
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    // A NOT_OK run says where its workdir was kept.
    let dir = task(&env, "crash", "#!/bin/sh\nexit 7\n", "");
    let out = env.run(&[
        "run",
        dir.to_str().unwrap(),
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
    ]);
    let err = stderr(&out, &env);
    assert!(err.contains("Kept the workdir [HOME]/tmp/"), "{err}");
}

#[test]
fn tap_parse_jsonl_and_junit_carry_every_leaf_test() {
    let env = Env::new();
    let tap = env.write(
        "nested.tap",
        "TAP version 14\n1..2\n# Subtest: outer\n    1..2\n    ok 1 - a\n    not ok 2 - b\n      ---\n      duration_ms: 2.5\n      ...\nnot ok 1 - outer\nok 2 - c # SKIP later\n",
    );
    let out = env.run(&["tap", "parse", "--format", "jsonl", tap.to_str().unwrap()]);
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tests: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "test")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(tests, ["outer > a", "outer > b", "c"]);
    let out = env.run(&["tap", "parse", "--format", "junit", tap.to_str().unwrap()]);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(junit_counts(&xml), (3, 1, 0, 1));
    assert!(
        xml.contains("time=\"0.002\"") || xml.contains("time=\"0.003\""),
        "{xml}"
    );
}
