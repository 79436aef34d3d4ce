//! The end-to-end matrix: for every task in `tasks/` with an `e2e` section and
//! every arch it supports, its fixture bus message goes through `taskotron
//! trigger` into the embedded queue, a `taskotron worker` claims the job and runs
//! the task against the mock Koji, Bodhi and dist-git of its fixture, and the
//! reporters post to a mock ResultsDB and the mock Bodhi. The whole record (the
//! job, its execution report, the TAP, the ResultsDB payloads, the Bodhi comments)
//! is an insta snapshot per task and arch, with ids, times, ports and paths
//! redacted.
//!
//! `E2E_TASKS` and `E2E_ARCHES` (comma-separated) narrow the matrix; `cargo xtask
//! e2e --task T --arch A` sets them. Each case prints its wall time
//! (`e2e: <task>@<arch> <ms> ms`), which `cargo xtask bench e2e` collects.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};
use taskotron_core::tasktest::Suite;
use taskotron_mock::bodhi::User;
use taskotron_mock::resultsdb::{MockResultsDb, ResultsDbFixture};
use taskotron_mock::services::{MockServices, ServicesFixture};

const TOKEN: &str = "e2e-token";

fn taskotron() -> PathBuf {
    taskotron_tests::bin::taskotron()
}

fn tasks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tasks")
        .canonicalize()
        .unwrap()
}

fn wanted(var: &str, value: &str) -> bool {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .is_none_or(|v| v.split(',').any(|x| x.trim() == value))
}

/// Every (task, arch) of the matrix, narrowed by the environment.
fn matrix() -> Vec<(String, PathBuf, Suite, String)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(tasks_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some(suite) = Suite::load(&dir).unwrap() else {
            panic!("tasks/{name} has no tests.yaml: every task has test cases and an `e2e` section")
        };
        // Every task is in the matrix: one left out is one whose pipeline nobody runs.
        let Some(e2e) = &suite.e2e else {
            panic!("tasks/{name}/tests.yaml has no `e2e` section: every task runs through the pipeline")
        };
        if !wanted("E2E_TASKS", &name) {
            continue;
        }
        for arch in &e2e.arches {
            if wanted("E2E_ARCHES", arch.as_str()) {
                out.push((
                    name.clone(),
                    dir.clone(),
                    suite.clone(),
                    arch.as_str().to_string(),
                ));
            }
        }
    }
    out
}

struct Case<'a> {
    task: &'a str,
    dir: &'a Path,
    suite: &'a Suite,
    arch: &'a str,
}

impl Case<'_> {
    /// The redacted record, and the job's item and type (for `bench e2e`).
    fn run(&self) -> (String, String, String) {
        let e2e = self.suite.e2e.as_ref().unwrap();
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let mut fixture = ServicesFixture::load(&self.dir.join(&e2e.mock)).unwrap();
        fixture.bodhi.users.push(User {
            name: "taskotron".into(),
            token: TOKEN.into(),
        });
        let mocks = MockServices::start(&fixture).unwrap();
        let services = mocks.services(Default::default());
        let resultsdb = MockResultsDb::new(&ResultsDbFixture::default());
        let resultsdb_server = resultsdb.serve().unwrap();
        let config = root.join("taskotron.yaml");
        std::fs::write(
            &config,
            format!(
                "profile: production\nstate_dir: {r}/state\nartifacts: {r}/artifacts\ntmpdir: {r}/tmp\n\
                 task_path: [{tasks}]\nsupported_arches: [x86_64, i386, armhfp, aarch64, ppc64le, s390x]\n\
                 koji_url: {koji}\nkoji_pkgs_url: {pkgs}\nbodhi_url: {bodhi}\nbodhi_token: {TOKEN}\n\
                 distgit_url: {distgit}\nresultsdb_url: {rdb}\nreport_deadline: 10s\n\
                 artifacts_base_url: https://taskotron.example.org/artifacts\n\
                 job_url_template: https://taskotron.example.org/jobs/{{build_id}}\n\
                 tools_dir: {tools}\n{yumrepoinfo}",
                r = root.display(),
                tasks = tasks_dir().display(),
                koji = services.koji_url,
                pkgs = services.koji_pkgs_url,
                bodhi = services.bodhi_url,
                distgit = services.distgit_url,
                rdb = resultsdb_server.url(),
                // Shared by every case and run: a playbook task's ansible-core is
                // installed from PyPI once, by the run itself, as a user's first is.
                tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-tools").display(),
                yumrepoinfo = services
                    .yumrepoinfo
                    .as_ref()
                    .map(|p| format!("yumrepoinfo: {}\n", p.display()))
                    .unwrap_or_default(),
            ),
        )
        .unwrap();
        let rules = root.join("rules.yml");
        std::fs::write(
            &rules,
            format!(
                "- when:\n    message_type:\n      $in: [KojiBuildPackageCompleted, KojiTagChanged, BodhiUpdateRequestTesting, BodhiUpdateRequestStable]\n  do:\n    - tasks: [{}]\n      arches: [{}]\n",
                self.task, self.arch
            ),
        )
        .unwrap();
        let cmd = |args: &[&str]| {
            let out = Command::new(taskotron())
                .args(["--color", "never"])
                .args(args)
                .env("TASKOTRON_CONFIG", &config)
                .env_remove("TASKOTRON_STATE_DIR")
                .env_remove("TASKOTRON_ARTIFACTS")
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let message = self.dir.join(&e2e.message);
        let (code, _, err) = cmd(&[
            "trigger",
            "--rules",
            rules.to_str().unwrap(),
            "--from",
            message.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "trigger: {err}");
        let (code, _, err) = cmd(&[
            "worker",
            "--arch",
            self.arch,
            "--once",
            "--name",
            "e2e-worker",
        ]);
        assert_eq!(code, Some(0), "worker: {err}");
        let (_, jobs, _) = cmd(&["jobs", "--format", "json"]);
        let jobs: Value = serde_json::from_str(jobs.trim()).unwrap();
        let job = jobs
            .as_array()
            .and_then(|j| j.first())
            .cloned()
            .unwrap_or(Value::Null);
        let report = job.get("report").cloned().unwrap_or(Value::Null);
        // The run the worker recorded when it started is the run that reported.
        assert_eq!(job.get("run_id"), report.get("run_id"), "{job}");
        let artifacts = report
            .get("artifacts")
            .and_then(Value::as_str)
            .map(PathBuf::from);
        let read = |name: &str| {
            artifacts
                .as_ref()
                .and_then(|a| std::fs::read_to_string(a.join(name)).ok())
        };
        let item = job
            .get("item")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let comments: Vec<Value> = mocks
            .bodhi
            .comments(&item)
            .into_iter()
            .filter(|c| c.user == "taskotron")
            .map(|c| json!({"user": c.user, "karma": c.karma, "text": c.text}))
            .collect();
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap();
        let mut record = String::new();
        let mut section = |title: &str, body: &str| {
            record.push_str(&format!("==== {title} ====\n{}\n\n", body.trim_end()));
        };
        section("jobs (taskotron jobs --format json)", &pretty(&jobs));
        section(
            "results.tap",
            read("results.tap").as_deref().unwrap_or("(none)"),
        );
        // Results are sent concurrently, so their order and ids vary; sort by testcase
        // and item, and leave the ids out.
        let mut stored = resultsdb.results(&resultsdb_server.url());
        for r in &mut stored {
            if let Some(o) = r.as_object_mut() {
                o.remove("id");
                o.remove("href");
            }
        }
        stored.sort_by_key(|r| {
            (
                r.pointer("/testcase/name").map(Value::to_string),
                r.pointer("/data/item").map(Value::to_string),
            )
        });
        section("ResultsDB results", &pretty(&json!(stored)));
        section("Bodhi comments", &pretty(&json!(comments)));
        section(
            "Koji",
            &pretty(
                &json!({"calls": mocks.koji.calls(), "files_downloaded": mocks.koji.downloads()}),
            ),
        );
        for log in [
            "rpmlint.log",
            "upgradepath.log",
            "output.log",
            "nvr-check.log",
            "tests.yml/nvr-check.log",
            "tests.yml/taskotron/results.yml",
        ] {
            if let Some(text) = read(log) {
                section(log, &text);
            }
        }
        // A tmt task: each plan's own results.yaml, as tmt writes it.
        let mut plans: Vec<String> = artifacts
            .as_ref()
            .and_then(|a| std::fs::read_dir(a.join("tmt/plans")).ok())
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        plans.sort();
        for plan in plans {
            let name = format!("tmt/plans/{plan}/execute/results.yaml");
            if let Some(text) = read(&name) {
                section(&name, &text);
            }
        }
        let item_type = job
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let record = redact(
            &record,
            root,
            &[
                &resultsdb_server.url(),
                &services.koji_pkgs_url,
                &services.bodhi_url,
                &services.distgit_url,
            ],
        );
        (record, item, item_type)
    }
}

/// Replaces what changes from run to run: paths, ports, UUIDs, times, durations.
fn redact(text: &str, root: &Path, urls: &[&str]) -> String {
    let mut t = text.replace(&root.display().to_string(), "[root]");
    t = t.replace(&tasks_dir().display().to_string(), "[tasks]");
    for (i, u) in urls.iter().enumerate() {
        t = t.replace(u, ["[resultsdb]", "[koji]", "[bodhi]", "[distgit]"][i]);
    }
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    t = uuid.replace_all(&t, "[uuid]").into_owned();
    let time =
        regex::Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
            .unwrap();
    t = time.replace_all(&t, "[time]").into_owned();
    let ms = regex::Regex::new(
        r#""(duration_ms|lease_until|claimed_at|created_at|finished_at|attempts_at)": \d+"#,
    )
    .unwrap();
    t = ms.replace_all(&t, "\"$1\": 0").into_owned();
    // tmt's `duration: hh:mm:ss`, which a slow machine can tip into the next second.
    let hms = regex::Regex::new(r"duration: \d{2}:\d{2}:\d{2}").unwrap();
    t = hms.replace_all(&t, "duration: [hh:mm:ss]").into_owned();
    let took = regex::Regex::new(r"has taken \d+\.\d+ s").unwrap();
    t = took.replace_all(&t, "has taken [t] s").into_owned();
    t
}

#[test]
fn every_task_on_every_arch_through_the_whole_pipeline() {
    // The tasks run real RPM tools; without them every snapshot would only say so.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&str> = ["rpmlint", "rpm", "rpm2cpio", "cpio"]
        .into_iter()
        .filter(|t| !taskotron_core::process::on_path(t, &path))
        .collect();
    assert!(
        missing.is_empty(),
        "the example tasks need {missing:?}: apt-get install rpmlint rpm cpio (.ci/run does)"
    );
    let cases = matrix();
    // A task or arch asked for by name must be in the matrix: a typo is not a pass.
    for (var, names) in [
        (
            "E2E_TASKS",
            cases.iter().map(|c| c.0.clone()).collect::<Vec<_>>(),
        ),
        ("E2E_ARCHES", cases.iter().map(|c| c.3.clone()).collect()),
    ] {
        let asked = std::env::var(var).unwrap_or_default();
        for a in asked.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            assert!(
                names.iter().any(|n| n == a),
                "{var} names `{a}`, which no task's e2e section has (or not with the other filter)"
            );
        }
    }
    assert!(!cases.is_empty(), "no task has an e2e section");
    for (task, dir, suite, arch) in &cases {
        let started = Instant::now();
        let (record, item, item_type) = Case {
            task,
            dir,
            suite,
            arch,
        }
        .run();
        // One line per case for `cargo xtask bench e2e`, which also runs the same
        // check directly (`taskotron run --mock`) as its reference.
        println!(
            "e2e: {task}@{arch} {} ms item={item} type={item_type} mock={}",
            started.elapsed().as_millis(),
            dir.join(&suite.e2e.as_ref().unwrap().mock).display()
        );
        insta::with_settings!({snapshot_suffix => format!("{task}@{arch}"), prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!("e2e", record);
        });
    }
}
