//! `taskotron serve --http` as a user runs it: a trigger file makes two jobs (one
//! passing, one failing), the workers run them, and headless Chromium (Debian
//! `chromium`) loads the job list, the failing job's page and an artifact. The
//! screenshots must not be blank and must show the failing job in red; the DOM
//! must carry the outcomes and the links; every link on the pages answers 200.
//! Ignored by default; `cargo xtask integration` installs Chromium and runs it.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use taskotron_tests::browser::{self, get, local_links};
use taskotron_tests::workers::{listening, signal, wait_for, Setup};

const MESSAGE: &str = r#"{"topic": "org.fedoraproject.prod.buildsys.build.state.change", "msg_id": "2026-web-1", "msg": {"instance": "primary", "name": "htop", "version": "3.3.0", "release": "1.fc41", "new": 1, "build_id": 1, "owner": "a"}}"#;

#[test]
#[ignore = "needs Debian chromium; run by cargo xtask integration"]
fn serve_shows_its_jobs_to_a_browser() {
    let setup = Setup::new();
    let dir = setup.dir.path();
    setup.task(
        "passes",
        "actions:\n  - name: pass\n    dummy: {result: PASS}\n",
    );
    // A suite with a failing test: an OK run whose results are FAILED.
    setup.task(
        "fails",
        "actions:\n  - name: suite\n    shell:\n      - printf 'TAP version 13\\n1..2\\nok 1 - a\\nnot ok 2 - b\\n'\n    results: tap\n",
    );
    std::fs::write(
        dir.join("rules.yml"),
        "- when: {message_type: KojiBuildPackageCompleted}\n  do:\n    - {tasks: [passes, fails], arches: [noarch]}\n",
    )
    .unwrap();
    std::fs::write(dir.join("messages.jsonl"), format!("{MESSAGE}\n")).unwrap();
    let mut serve = setup.command(&["serve", "--rules"]);
    serve
        .arg(dir.join("rules.yml"))
        .arg("--from")
        .arg(dir.join("messages.jsonl"))
        .args(["--http", "127.0.0.1:0"])
        .stdout(Stdio::null());
    let (mut serve, addr) = listening(&mut serve);
    let jobs = || -> Vec<Value> {
        let (status, body) = get(&addr, "/api/v1/jobs");
        assert_eq!(status, 200);
        serde_json::from_str::<Value>(&body).unwrap()["data"]
            .as_array()
            .unwrap()
            .clone()
    };
    wait_for("both jobs to finish", Duration::from_secs(60), || {
        let j = jobs();
        j.len() == 2 && j.iter().all(|j| j["state"] == "COMPLETED")
    });
    let all = jobs();
    let failing = all
        .iter()
        .find(|j| j["outcome"] == "FAILED")
        .expect("a failing job");
    let uuid = failing["uuid"].as_str().unwrap();
    let run = failing["run_id"].as_str().unwrap();
    assert_eq!(failing["origin"]["message_id"], "2026-web-1");

    let base = format!("http://{addr}");
    let list = browser::dom(&format!("{base}/"), dir);
    for needed in [
        "FAILED",
        "PASSED",
        "fails",
        "passes",
        &format!("/jobs/{uuid}"),
    ] {
        assert!(list.contains(needed), "the list lacks {needed}");
    }
    let page = browser::dom(&format!("{base}/jobs/{uuid}"), dir);
    for needed in [
        "FAILED",
        "CLAIMED",
        "2026-web-1",
        &format!("/artifacts/{run}/report.html"),
        &format!("/artifacts/{run}/taskotron.log"),
        "taskotron run fails --item htop-3.3.0-1.fc41 --type koji_build --arch noarch",
    ] {
        assert!(page.contains(needed), "the job page lacks {needed}");
    }
    // An action's output is shown, not downloaded: Chromium renders text/plain.
    let stdout = browser::dom(
        &format!("{base}/artifacts/{run}/actions/01-suite.stdout"),
        dir,
    );
    assert!(
        stdout.contains("not ok 2 - b"),
        "the browser did not show it: {stdout}"
    );
    // The run's page links back to its job.
    let report = browser::dom(&format!("{base}/artifacts/{run}/report.html"), dir);
    // (`serve --http` sets `web_url` to its address, so the link is absolute.)
    assert!(
        report.contains(&format!("id=\"job\" href=\"{base}/jobs/{uuid}\"")),
        "report.html has no link to its job: {report}"
    );
    // The job's log carries the task's output, not only the runner's lines.
    let (status, live) = get(&addr, &format!("/jobs/{uuid}/log"));
    assert_eq!(status, 200);
    assert!(live.contains("[suite] not ok 2 - b"), "{live}");
    assert!(live.contains("event: end"), "{live}");
    for (name, html) in [("/", &list), ("the job page", &page)] {
        for href in local_links(html) {
            assert_eq!(get(&addr, &href).0, 200, "{name} links to {href}");
        }
    }

    const RED: [u8; 3] = [0xcf, 0x22, 0x2e];
    const GREEN: [u8; 3] = [0x1a, 0x7f, 0x37];
    for (url, red) in [
        (format!("{base}/"), true),
        (format!("{base}/jobs/{uuid}"), true),
        (format!("{base}/artifacts/{run}/report.html"), false),
    ] {
        let shot = browser::screenshot(&url, dir);
        assert_eq!((shot.width, shot.height), (1000, 700));
        let white = shot.share([0xff, 0xff, 0xff]);
        assert!(white < 0.98, "{url}: blank ({:.1}% white)", white * 100.0);
        assert!(shot.colours() > 20, "{url}: no text rendered?");
        if red {
            assert!(
                shot.share(RED) > 0.0005,
                "{url}: the failing job is not shown in red"
            );
            assert!(
                shot.share(GREEN) > 0.0005,
                "{url}: nothing green (COMPLETED)"
            );
        }
    }
    // From a file, serve keeps the pages up until it is told to stop.
    assert!(serve.try_wait().unwrap().is_none());
    signal(&serve, libc::SIGTERM);
    let status = serve.wait().unwrap();
    assert_eq!(status.code(), Some(0), "serve ends cleanly on SIGTERM");
}

/// Results reported without an external ResultsDB land in the embedded store, and
/// the official Python client (`resultsdb-api`, in `target/resultsdb-venv`) reads them
/// from `taskotron web` as it would read ResultsDB.
#[test]
#[ignore = "needs the resultsdb-api client; run by cargo xtask integration"]
fn the_resultsdb_client_reads_the_embedded_store() {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/resultsdb-venv/bin/python");
    assert!(
        python.exists(),
        "cargo xtask integration installs resultsdb-api into target/resultsdb-venv"
    );
    let setup = Setup::new();
    let dir = setup.dir.path();
    std::fs::write(
        dir.join("results.yml"),
        "results:\n  - item: htop-3.3.0-1.fc41\n    type: koji_build\n    checkname: dist.rpmlint\n    outcome: FAILED\n    note: 2 errors\n  - item: htop-3.3.0-1.fc41\n    type: koji_build\n    checkname: dist.abicheck\n    outcome: PASSED\n  - item: grep-3.11-1.fc41\n    type: koji_build\n    checkname: dist.rpmlint\n    outcome: PASSED\n",
    )
    .unwrap();
    let first = setup
        .command(&["report"])
        .arg(dir.join("results.yml"))
        .args(["--build-id", "g-1"])
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = setup
        .command(&["report"])
        .arg(dir.join("results.yml"))
        .args(["--build-id", "g-1", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let doc: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(doc["stored"], 3);
    let (mut web, addr) = listening(&mut setup.command(&["web", "--http", "127.0.0.1:0"]));
    let script = r#"
import json, sys
from resultsdb_api import ResultsDBapi
api = ResultsDBapi(sys.argv[1] + "/api/v2.0")
htop = api.get_results(item="htop-3.3.0-1.fc41")
failed = api.get_results(item="htop-3.3.0-1.fc41", outcome="FAILED")
like = api.get_results(testcases_like="dist.abi*")
one = api.get_result(htop["data"][0]["id"])
latest = api.session.get(sys.argv[1] + "/api/v2.0/results/latest", params={"item": "htop-3.3.0-1.fc41"}).json()
print(json.dumps({
    "htop": htop, "failed": failed, "like": like, "one": one, "latest": latest,
    "testcases": api.get_testcases(), "testcase": api.get_testcase("dist.rpmlint"),
    "groups": api.get_groups(), "group": api.get_group("g-1"),
    "paged": api.get_results(limit=2), "page2": api.get_results(limit=2, page=1),
}))
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, &format!("http://{addr}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["htop"]["data"].as_array().unwrap().len(),
        2,
        "reported twice, stored once"
    );
    assert_eq!(v["failed"]["data"].as_array().unwrap().len(), 1);
    assert_eq!(v["failed"]["data"][0]["testcase"]["name"], "dist.rpmlint");
    assert_eq!(v["failed"]["data"][0]["note"], "2 errors");
    assert_eq!(v["like"]["data"][0]["testcase"]["name"], "dist.abicheck");
    assert_eq!(
        v["one"]["data"]["item"],
        serde_json::json!(["htop-3.3.0-1.fc41"])
    );
    assert_eq!(v["one"]["groups"], serde_json::json!(["g-1"]));
    assert_eq!(v["latest"]["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["testcases"]["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["testcase"]["name"], "dist.rpmlint");
    assert_eq!(v["group"]["uuid"], "g-1");
    assert_eq!(v["group"]["results_count"], 3);
    assert_eq!(v["paged"]["data"].as_array().unwrap().len(), 2);
    assert!(v["paged"]["next"].as_str().unwrap().contains("page=1"));
    assert_eq!(v["page2"]["data"].as_array().unwrap().len(), 1);
    assert!(v["page2"]["next"].is_null());
    // Bad parameters get ResultsDB's answer.
    let (status, body) = get(&addr, "/api/v2.0/results?outcome=GREAT");
    assert_eq!(status, 400);
    assert!(body.contains("validation_error") && body.contains("outcome"));
    signal(&web, libc::SIGTERM);
    assert_eq!(web.wait().unwrap().code(), Some(0));
}
