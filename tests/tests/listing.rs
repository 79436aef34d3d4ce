//! A job listed wherever it is listed (issue 24, items 2 and 4): `taskotron jobs`
//! for people and as JSON, the web list, `/api/v1/jobs` and `/metrics` say the same
//! thing in the same words. A run that ended NOT_OK (Koji unreachable after every
//! attempt) never looks like one that executed: its execution status and failure
//! kind are shown, its badge is never green, and `/metrics` counts it by kind.

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use taskotron_core::dict::{ExecutionReport, JobRequest};
use taskotron_core::scheduler::{CrashCause, Queue};
use taskotron_core::{Arch, ItemType};
use taskotron_tests::browser::get;
use taskotron_tests::workers::{listening, Setup};

fn request(item: &str) -> JobRequest {
    JobRequest {
        item: item.into(),
        item_type: ItemType::KojiBuild,
        taskname: "rpmlint".into(),
        arch: Arch::X86_64,
        source: None,
        plan: None,
    }
}

fn report(build_id: &str, item: &str, ok: bool) -> ExecutionReport {
    let (status, failure, outcome, results) = if ok {
        (
            "OK",
            Value::Null,
            Value::from("PASSED"),
            serde_json::json!([{"item": item, "type": "koji_build", "outcome": "PASSED",
                                "checkname": "dist.rpmlint"}]),
        )
    } else {
        (
            "NOT_OK",
            serde_json::json!({"kind": "KOJI_UNREACHABLE", "cause": "infrastructure"}),
            Value::Null,
            serde_json::json!([]),
        )
    };
    serde_json::from_value(serde_json::json!({
        "execution_status": status,
        "status": if ok { Value::Null } else { "KOJI_UNREACHABLE: action 1/2 `download` (koji) failed: cannot reach Koji".into() },
        "failure": failure,
        "build_id": build_id, "run_id": format!("run-{item}"),
        "item": item, "item_type": "koji_build", "arch": "x86_64",
        "checkname": "dist.rpmlint", "artifacts": "/nonexistent", "started_at": "2026-01-01T00:00:00Z",
        "duration_ms": 1200, "actions": [], "outcome": outcome, "results": results,
        "exit_code": null
    }))
    .unwrap()
}

/// A queue with one job in each state, and a NOT_OK run: `(ok, not_ok)` uuids.
fn fill(s: &Setup) -> (String, String) {
    let mut q = Queue::open(&s.dir.path().join("state/queue.sqlite")).unwrap();
    let t0 = SystemTime::now();
    let mut ran = Vec::new();
    for (item, ok) in [("htop-3.3.0-1.fc41", true), ("nano-8.0-1.fc41", false)] {
        q.enqueue(&[request(item)], t0).unwrap();
        let job = q
            .claim("w1", &[Arch::X86_64], Duration::from_secs(60), 3, t0)
            .unwrap()
            .unwrap();
        q.finish(&job.build_id, "w1", &report(&job.build_id, item, ok), t0)
            .unwrap();
        ran.push(job.build_id);
    }
    q.enqueue(&[request("grep-3.11-1.fc41")], t0).unwrap();
    let job = q
        .claim("w1", &[Arch::X86_64], Duration::from_secs(60), 3, t0)
        .unwrap()
        .unwrap();
    q.crash(&job.build_id, "w1", CrashCause::Task, "unknown task", t0)
        .unwrap();
    q.enqueue(&[request("vim-9.1-1.fc41")], t0).unwrap();
    (ran[0].clone(), ran[1].clone())
}

fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn the_cli_and_the_api_list_a_job_alike_and_a_not_ok_run_is_never_green() {
    let s = Setup::new();
    let (ok, not_ok) = fill(&s);

    // For people: the state, then what became of it, NOT_OK with its kind.
    let text = stdout(&s.command(&["jobs"]).output().unwrap());
    let line = |uuid: &str| {
        text.lines()
            .find(|l| l.contains(uuid))
            .unwrap_or_else(|| panic!("{uuid} not listed:\n{text}"))
            .to_string()
    };
    assert!(line(&ok).starts_with("COMPLETED"), "{text}");
    assert!(
        line(&ok).ends_with("(PASSED, run run-htop-3.3.0-1.fc41)"),
        "{text}"
    );
    let failed = line(&not_ok);
    assert!(failed.starts_with("COMPLETED"), "{failed}");
    assert!(
        failed.contains("(NOT_OK KOJI_UNREACHABLE (infrastructure), run run-nano-8.0-1.fc41)"),
        "{failed}"
    );
    assert!(!text.contains("FINISHED"), "the old vocabulary:\n{text}");

    // ExecDB's names are what `--state` takes; the old one still works.
    for state in ["completed", "COMPLETED", "finished"] {
        let listed = stdout(&s.command(&["jobs", "--state", state]).output().unwrap());
        assert_eq!(listed.lines().count(), 2, "--state {state}:\n{listed}");
    }
    let refused = s
        .command(&["jobs", "--state", "complete"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));

    // One serialised job: the CLI's JSON is the API's, field for field.
    let cli: Value = serde_json::from_str(&stdout(
        &s.command(&["jobs", "--format", "json"]).output().unwrap(),
    ))
    .unwrap();
    let mut web = s.command(&["web", "--http", "127.0.0.1:0"]);
    web.stdout(Stdio::null());
    let (mut child, addr) = listening(&mut web);
    let (status, body) = get(&addr, "/api/v1/jobs");
    assert_eq!(status, 200, "{body}");
    let api: Value = serde_json::from_str(&body).unwrap();
    let by_uuid = |list: &Value| {
        let mut jobs: Vec<Value> = list.as_array().unwrap().clone();
        jobs.sort_by_key(|j| j["uuid"].as_str().unwrap().to_string());
        jobs
    };
    assert_eq!(by_uuid(&cli), by_uuid(&api["data"]));
    let shown = by_uuid(&cli)
        .into_iter()
        .find(|j| j["uuid"] == not_ok.as_str())
        .unwrap();
    assert_eq!(shown["state"], "COMPLETED");
    assert_eq!(shown["execution_status"], "NOT_OK");
    assert_eq!(
        shown["failure"],
        serde_json::json!({"kind": "KOJI_UNREACHABLE", "cause": "infrastructure"})
    );
    assert!(
        shown["crash"].is_null() && shown.get("build_id").is_none(),
        "{shown}"
    );
    let (_, one) = get(&addr, &format!("/api/v1/jobs/{not_ok}"));
    let one: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["execution_status"], "NOT_OK", "{one}");

    // The list page: the NOT_OK job's badge is not COMPLETED's green class.
    let (_, page) = get(&addr, "/");
    let row = page
        .split("<tr>")
        .find(|r| r.contains(&not_ok))
        .expect("the NOT_OK job is listed");
    assert!(row.contains("class=\"s NOT_OK\""), "{row}");
    assert!(!row.contains("class=\"s COMPLETED\""), "{row}");
    assert!(row.contains("KOJI_UNREACHABLE"), "{row}");
    let row = page.split("<tr>").find(|r| r.contains(&ok)).unwrap();
    assert!(row.contains("class=\"s COMPLETED\""), "{row}");

    // What an operator alerts on.
    let (_, metrics) = get(&addr, "/metrics");
    for needed in [
        "taskotron_runs{execution_status=\"NOT_OK\",failure_kind=\"KOJI_UNREACHABLE\"} 1",
        "taskotron_runs{execution_status=\"OK\",failure_kind=\"\"} 1",
    ] {
        assert!(metrics.contains(needed), "no `{needed}` in\n{metrics}");
    }
    let _ = child.kill();
    let _ = child.wait();
}
