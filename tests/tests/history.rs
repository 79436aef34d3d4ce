//! The history (issue 27): every run's results and cases are kept, each run is
//! compared with the previous build of its package on its arch, and `taskotron
//! history` and `compare` read what was kept.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use taskotron_tests::bin::taskotron;

/// A suite whose test `flips` fails from version 2 on, and `fixed` passes from it.
const TASK: &str = "name: regress\nnamespace: scratch\ndesc: a suite that changes with the version\nmaintainer: tests\ninput:\n  args: [koji_build]\nactions:\n  - name: suite\n    shell:\n      - |\n        case ${koji_build} in\n          *-2.*|*-10.*) printf 'TAP version 13\\n1..3\\nok 1 - stable\\nnot ok 2 - flips\\nok 3 - fixed\\n' ;;\n          *) printf 'TAP version 13\\n1..4\\nok 1 - stable\\nok 2 - flips\\nnot ok 3 - fixed\\nok 4 - dropped\\n' ;;\n        esac\n    results: tap\n";

fn taskotron_in(state: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(taskotron())
        .args(["--color", "never"])
        .args(args)
        .env("TASKOTRON_STATE_DIR", state.join("state"))
        .env("TASKOTRON_TMPDIR", state.join("tmp"))
        .env("TASKOTRON_ARTIFACTS", state.join("artifacts"))
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_run_says_what_newly_fails_since_the_previous_build() {
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("regress");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(task.join("runtask.yml"), TASK).unwrap();
    let task = task.to_str().unwrap();
    let run = |item: &str, arch: &str| {
        let (code, out, err) = taskotron_in(
            dir.path(),
            &[
                "run",
                task,
                "-i",
                item,
                "-t",
                "koji_build",
                "-a",
                arch,
                "--format",
                "json",
            ],
        );
        assert_eq!(code, Some(0), "{err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        (report, err)
    };
    // The first build has nothing to compare with.
    let (first, err) = run("pkg-1.9-1.fc41", "x86_64");
    assert!(first.get("regressions").is_none(), "{first}");
    assert!(!err.contains("Compared"), "{err}");
    // Another arch is another history.
    let (other, _) = run("pkg-2.0-1.fc41", "aarch64");
    assert!(other.get("regressions").is_none());
    // The next build: one test newly fails, one is fixed, one is gone.
    let (second, err) = run("pkg-2.0-1.fc41", "x86_64");
    let r = &second["regressions"];
    assert_eq!(r["base_item"], "pkg-1.9-1.fc41", "{second}");
    assert_eq!(r["base_run"], first["run_id"]);
    let names = |k: &str| -> Vec<String> {
        r[k].as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("newly_failing"), ["flips"]);
    assert_eq!(names("fixed"), ["fixed"]);
    assert_eq!(names("vanished"), ["dropped"]);
    assert!(
        err.contains("Compared 1 test newly fails since pkg-1.9-1.fc41, 1 fixed, 1 gone"),
        "{err}"
    );
    assert!(err.contains("Newly fails flips"), "{err}");
    // RPM version order: 10.0 comes after 2.0, whatever the order of the runs.
    let (third, _) = run("pkg-10.0-1.fc41", "x86_64");
    assert_eq!(third["regressions"]["base_item"], "pkg-2.0-1.fc41");
    assert_eq!(third["regressions"]["still_failing"][0]["name"], "flips");

    // The history of a test, newest first, and of a check.
    let (code, out, _) = taskotron_in(
        dir.path(),
        &[
            "history",
            "flips",
            "--package",
            "pkg",
            "--arch",
            "x86_64",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(0));
    let h: Value = serde_json::from_str(&out).unwrap();
    let seen: Vec<(&str, &str)> = h["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["run"]["item"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("pkg-10.0-1.fc41", "failed"),
            ("pkg-2.0-1.fc41", "failed"),
            ("pkg-1.9-1.fc41", "passed")
        ]
    );
    let (code, _, err) = taskotron_in(dir.path(), &["history", "no-such-test"]);
    assert_eq!(code, Some(4), "{err}");
    // Any two runs, by a prefix of their ids; exit 100 when a test newly fails.
    let a = &first["run_id"].as_str().unwrap()[..8];
    let b = &second["run_id"].as_str().unwrap()[..8];
    let (code, out, _) = taskotron_in(dir.path(), &["compare", a, b]);
    assert_eq!(code, Some(100), "{out}");
    assert!(
        out.contains("newly failing  flips (scratch.regress)"),
        "{out}"
    );
    // Backwards, `fixed` is what newly fails.
    let (code, out, _) = taskotron_in(dir.path(), &["compare", b, a]);
    assert_eq!(code, Some(100));
    assert!(
        out.contains("newly failing  fixed") && out.contains("fixed          flips"),
        "{out}"
    );
    let (code, _, _) = taskotron_in(dir.path(), &["compare", a, a]);
    assert_eq!(code, Some(0), "a run against itself");
    let (code, _, err) = taskotron_in(dir.path(), &["compare", "nope", a]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no run `nope` in the history"), "{err}");
}

#[test]
fn a_test_that_flips_on_reruns_is_known_flaky_everywhere_it_is_shown() {
    use taskotron_tests::workers::{listening, Setup};
    let s = Setup::new();
    let counter = s.dir.path().join("count");
    // `net` passes on odd runs and fails on even ones; `disk` always fails.
    s.task(
        "rerun",
        &format!(
            "actions:\n  - name: suite\n    shell:\n      - |\n        n=$$(cat {0} 2>/dev/null || echo 0); echo $$((n+1)) > {0}\n        if [ $$((n % 2)) = 0 ]; then net=ok; else net='not ok'; fi\n        printf 'TAP version 13\\n1..2\\n%s 1 - net\\nnot ok 2 - disk\\n' \"$$net\"\n    results: tap\n",
            counter.display()
        ),
    );
    let task = s.dir.path().join("tasks/rerun");
    let run = |item: &str| {
        let o = s
            .command(&["run"])
            .arg(&task)
            .args([
                "-i",
                item,
                "-t",
                "koji_build",
                "-a",
                "x86_64",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        (report, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (first, _) = run("pkg-1.0-1.fc41");
    assert!(first.get("flaky").is_none(), "one run cannot flip: {first}");
    let (_, _) = run("pkg-1.0-1.fc41");
    let (third, err) = run("pkg-1.0-1.fc41");
    assert_eq!(
        third["flaky"],
        serde_json::json!([{"check": "scratch.rerun", "name": "net", "flips": 2, "runs": 3}]),
        "{third}"
    );
    assert!(
        err.contains("Flaky net (scratch.rerun): 2 flips in 3 runs of this build"),
        "{err}"
    );
    // Another build starts afresh: its first run flips nothing.
    let (other, _) = run("pkg-1.1-1.fc41");
    assert!(other.get("flaky").is_none(), "{other}");
    // The run's page says so.
    let page = std::fs::read_to_string(
        Path::new(third["artifacts"].as_str().unwrap()).join("report.html"),
    )
    .unwrap();
    assert!(
        page.contains("id=\"flaky\"><code>net</code> (2 flips in 3 runs)"),
        "{page}"
    );
    // The list, for people and programs.
    let o = s.ok(&["flaky", "--format", "json"]);
    let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(listed["flaky"][0]["name"], "net");
    assert_eq!(listed["flaky"][0]["on"], 1);
    assert_eq!(
        listed["flaky"].as_array().unwrap().len(),
        1,
        "disk always fails"
    );
    let o = s.ok(&["flaky", "scratch.rerun"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("2 flips  net"), "{text}");
    let o = s.ok(&["flaky", "scratch.other"]);
    assert!(o.stdout.is_empty());
    // A job of the same build: its page says which of its failures are known flaky.
    s.configure("isolation: none\n");
    s.ok(&[
        "schedule",
        "rerun",
        "-i",
        "pkg-1.0-1.fc41",
        "-t",
        "koji_build",
        "-a",
        "x86_64",
    ]);
    s.ok(&["worker", "--once", "--arch", "x86_64"]);
    let job = s.jobs()[0]["uuid"].as_str().unwrap().to_string();
    // The web: the job's page, the task's list and the metric.
    let (mut web, addr) = listening(&mut s.command(&["web", "--http", "127.0.0.1:0"]));
    let get = |path: &str| {
        ureq::get(&format!("http://{addr}{path}"))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap()
    };
    let page = get(&format!("/jobs/{job}"));
    assert!(page.contains("<dt>Known flaky</dt><dd id=\"flaky\"><a href=\"/history/net\"><code>net</code></a> (2 flips in 4 runs)"), "{page}");
    let page = get("/flaky/scratch.rerun");
    assert!(
        page.contains("<code>net</code>") && !page.contains("<code>disk</code>"),
        "{page}"
    );
    assert!(get("/flaky").contains("<code>net</code>"));
    assert!(get("/flaky/scratch.other").contains("No test flipped"));
    let metrics = get("/metrics");
    assert!(
        metrics.contains("taskotron_flaky_tests{task=\"scratch.rerun\"} 1"),
        "{metrics}"
    );
    let _ = web.kill();
    let _ = web.wait();
}
