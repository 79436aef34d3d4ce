//! Reporting to ResultsDB: the mock behaves like the recorded real server, and
//! delivery survives a dead server, 500s, dropped connections and a killed process
//! without losing or duplicating a result.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use taskotron_core::results::{CheckDetail, Outcome};
use taskotron_core::resultsdb::{
    report, Client, Group, Identity, LogUrls, Policy, ReportContext, SendError, Spool,
};
use taskotron_mock::http::Fault;
use taskotron_mock::resultsdb::{MockResultsDb, ResultsDbFixture};

fn post(url: &str, body: &str, json_type: bool) -> (u16, String) {
    let agent: ureq_like::Agent = ureq_like::Agent::new();
    agent.post(url, body, json_type)
}

/// A tiny blocking HTTP client for the fidelity checks, independent of the one under
/// test.
mod ureq_like {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    pub struct Agent;

    impl Agent {
        pub fn new() -> Self {
            Agent
        }

        fn send(&self, method: &str, url: &str, body: &str, json_type: bool) -> (u16, String) {
            let rest = url.strip_prefix("http://").unwrap();
            let (host, path) = rest
                .split_once('/')
                .map(|(h, p)| (h, format!("/{p}")))
                .unwrap();
            let mut s = TcpStream::connect(host).unwrap();
            let ct = if json_type {
                "Content-Type: application/json\r\n"
            } else {
                ""
            };
            write!(s, "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{ct}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            let status = out[9..12].parse().unwrap();
            let body = out
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_string())
                .unwrap_or_default();
            (status, body)
        }

        pub fn post(&self, url: &str, body: &str, json_type: bool) -> (u16, String) {
            self.send("POST", url, body, json_type)
        }

        pub fn get(&self, url: &str) -> (u16, String) {
            self.send("GET", url, "", false)
        }
    }
}

fn get(url: &str) -> (u16, String) {
    ureq_like::Agent::new().get(url)
}

#[test]
fn the_mock_answers_like_the_recorded_real_server() {
    let db = MockResultsDb::new(&ResultsDbFixture::default());
    let server = db.serve().unwrap();
    let api = format!("{}/api/v2.0", server.url());
    let (status, body) = post(
        &format!("{api}/results"),
        r#"{"outcome":"needs_inspection","testcase":{"name":"dist.rpmdeplint","ref_url":"https://example.invalid/rpmdeplint"},"groups":["5b3f47b4-2ba2-11e5-a343-5254007dccf9"],"note":"2 problems","ref_url":"https://example.invalid/log/1","data":{"item":"FEDORA-2024-abcdef0123","type":"bodhi_update","arch":"x86_64","count":2}}"#,
        true,
    );
    assert_eq!(status, 201);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["outcome"], "NEEDS_INSPECTION");
    assert_eq!(
        v["data"],
        json!({"arch": ["x86_64"], "count": ["2"], "item": ["FEDORA-2024-abcdef0123"], "type": ["bodhi_update"]})
    );
    assert_eq!(
        v["testcase"]["ref_url"],
        "https://example.invalid/rpmdeplint"
    );
    assert_eq!(v["id"], 1);
    let (status, body) = get(&format!("{api}/results?type=bodhi_update&item=FEDORA-2024-abcdef0123&testcases:like=dist.*&outcome=NEEDS_INSPECTION,FAILED&since=2024-01-01&limit=1"));
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["data"].as_array().unwrap().len(), &v["next"]),
        (1, &Value::Null)
    );
    let cases = [
        (
            r#"{"outcome":"ERROR","testcase":"dist.rpmdeplint"}"#,
            true,
            400,
            "Value error, must be one of: PASSED, INFO, FAILED, NEEDS_INSPECTION",
        ),
        ("{}", true, 400, "Field required"),
        (
            r#"{"outcome":"PASSED","testcase":"x","data":{"a:b":"c"}}"#,
            true,
            400,
            "Colon not allowed in key name: ['a:b']",
        ),
        (r#"{"outcome":"#, true, 400, "Bad request"),
        (
            r#"{"outcome":"PASSED","testcase":"x"}"#,
            false,
            415,
            "Unsupported Media Type",
        ),
        ("[1,2]", true, 500, "Internal Server Error"),
    ];
    for (body, json_type, status, text) in cases {
        let (s, b) = post(&format!("{api}/results"), body, json_type);
        assert_eq!(s, status, "{body}");
        assert!(b.contains(text), "{body}: {b}");
    }
    assert_eq!(
        get(&format!("{api}/results/999999")),
        (404, "{\"message\":\"Result not found\"}".into())
    );
    assert!(get(&format!("{api}/results?since=yesterday"))
        .1
        .contains("must be in ISO8601 format"));
    assert_eq!(
        get(&format!("{api}/results/latest?_distinct_on=scenario")).0,
        400
    );
    let (s, b) = get(&format!(
        "{api}/groups/5b3f47b4-2ba2-11e5-a343-5254007dccf9"
    ));
    assert_eq!(s, 200);
    assert!(b.contains("\"results_count\":1"), "{b}");
    assert_eq!(get(&format!("{api}/")).0, 300);
    assert_eq!(get(&format!("{api}/healthcheck")).0, 200);
    // Python's str() for non-string data, as the real server stores it.
    let (_, b) = post(
        &format!("{api}/results"),
        r#"{"outcome":"PASSED","testcase":"x","data":{"t":true,"n":null,"f":1.5,"o":{"x":1}}}"#,
        true,
    );
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        v["data"],
        json!({"t": ["True"], "n": ["None"], "f": ["1.5"], "o": ["{'x': 1}"]})
    );
}

fn details(n: usize) -> Vec<CheckDetail> {
    (0..n)
        .map(|i| {
            let mut d = CheckDetail::new(
                format!("pkg{i}-1.0-1.fc41"),
                Some("koji_build"),
                if i % 3 == 0 {
                    Outcome::Failed
                } else {
                    Outcome::Passed
                },
            );
            d.note = format!("result {i}");
            d.keyvals.insert("index".into(), json!(i));
            d
        })
        .collect()
}

fn ctx(group: &str) -> ReportContext {
    ReportContext {
        checkname: "dist.test".into(),
        testcase_ref_url: None,
        arch: Some("x86_64".into()),
        group: Group {
            uuid: group.into(),
            description: Some("test".into()),
            ref_url: None,
        },
        urls: LogUrls::new(Some("https://artifacts.example"), None, group, None),
        accepted: vec![
            Outcome::Passed,
            Outcome::Info,
            Outcome::Failed,
            Outcome::NeedsInspection,
        ],
    }
}

fn fast() -> Policy {
    Policy {
        concurrency: 4,
        deadline: Duration::from_secs(20),
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    }
}

/// Every stored result's own id, checking none is there twice.
fn unique_ids(db: &MockResultsDb, _base: &str) -> BTreeSet<String> {
    let ids = db.result_ids();
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "a result was stored twice");
    set
}

#[test]
fn five_hundreds_and_dropped_connections_deliver_exactly_once() {
    let db = MockResultsDb::new(&ResultsDbFixture::default());
    let server = db.serve().unwrap();
    server.inject([
        Fault::Status500,
        Fault::Status500,
        Fault::Status500,
        Fault::DropAfterHandling,
        Fault::Drop,
        Fault::DropAfterHandling,
    ]);
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let client = Client::new(&server.url(), None, Duration::from_secs(5));
    let entries = report::entries(&details(30), &ctx("g-1"), &Identity::build("g-1")).unwrap();
    let outcome = report::send(&client, &spool, entries, false, fast()).unwrap();
    assert!(outcome.is_complete(), "{outcome:?}");
    assert_eq!(outcome.delivered.len(), 30);
    assert_eq!(unique_ids(&db, &server.url()).len(), 30);
    assert!(spool.pending().unwrap().is_empty());
}

#[test]
fn a_dead_server_leaves_everything_for_resume() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let client = Client::new(&format!("http://{addr}"), None, Duration::from_secs(2));
    let short = Policy {
        deadline: Duration::from_millis(300),
        ..fast()
    };
    let outcome = report::send(
        &client,
        &spool,
        report::entries(&details(12), &ctx("g-2"), &Identity::build("g-2")).unwrap(),
        false,
        short,
    )
    .unwrap();
    assert_eq!((outcome.delivered.len(), outcome.pending.len()), (0, 12));
    assert_eq!(spool.pending().unwrap().len(), 12);
    // The server comes up on its old address; --resume sends the rest, once each.
    let db = MockResultsDb::new(&ResultsDbFixture::default());
    let _server = db.serve_at(addr).unwrap();
    let outcome = report::send(&client, &spool, Vec::new(), true, fast()).unwrap();
    assert_eq!(outcome.delivered.len(), 12);
    assert_eq!(unique_ids(&db, &format!("http://{addr}")).len(), 12);
    assert!(spool.pending().unwrap().is_empty());
}

#[test]
fn refusals_name_the_field_and_are_kept_aside() {
    let db = MockResultsDb::new(&ResultsDbFixture::default());
    let server = db.serve().unwrap();
    let client = Client::new(&server.url(), None, Duration::from_secs(5));
    let mut entry = report::entries(&details(1), &ctx("g-3"), &Identity::build("g-3"))
        .unwrap()
        .remove(0);
    entry.payload.outcome = "ERROR".into();
    assert_eq!(
        client.post_result(&entry.payload),
        Err(SendError::Rejected {
            status: 400,
            message: "outcome: Value error, must be one of: PASSED, INFO, FAILED, NEEDS_INSPECTION"
                .into()
        })
    );
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    let outcome = report::send(&client, &spool, vec![entry], false, fast()).unwrap();
    assert_eq!(outcome.rejected.len(), 1);
    assert!(
        dir.path().join("rejected").read_dir().unwrap().count() == 2,
        "the result and its reason are kept"
    );
}

#[test]
fn a_killed_report_is_finished_by_resume_without_duplicates() {
    let db = MockResultsDb::new(&ResultsDbFixture::default());
    let server = db.serve().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut text = String::from("results:\n");
    for i in 0..200 {
        text.push_str(&format!("  - item: pkg{i}-1.0-1.fc41\n    type: koji_build\n    outcome: PASSED\n    checkname: dist.kill\n"));
    }
    let file = home.path().join("results.yml");
    std::fs::write(&file, text).unwrap();
    // Slow the server down so the kill lands in the middle of the batch.
    server.inject(
        (0..40)
            .map(|_| Fault::Hang(Duration::from_millis(50)))
            .chain([Fault::Hang(Duration::from_secs(30))]),
    );
    let bin = taskotron_tests::bin::taskotron();
    let run = |extra: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(["-q", "report"])
            .args(extra)
            .args(["--resultsdb", &server.url()])
            .env("TASKOTRON_STATE_DIR", home.path().join("state"))
            .env("TASKOTRON_CONFIG", home.path().join("none.yaml"))
            .env("TASKOTRON_REPORT_DEADLINE", "20s");
        c
    };
    std::fs::write(home.path().join("none.yaml"), "").unwrap();
    let mut child = run(&[file.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while db.count() < 20 {
        assert!(
            std::time::Instant::now() < deadline,
            "the report never got going"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
    let before = db.count();
    assert!(
        before < 200,
        "the kill came too late to test anything ({before})"
    );
    let out = run(&["--resume"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(unique_ids(&db, &server.url()).len(), 200);
}

mod directive {
    use std::time::Duration;

    use taskotron_core::ports::Ports;
    use taskotron_core::resultsdb::{Policy, Reporting};
    use taskotron_core::runner::{self, Quiet, RunOptions};
    use taskotron_core::{ExecutionStatus, ItemType};
    use taskotron_mock::resultsdb::{MockResultsDb, ResultsDbFixture};

    const FORMULA: &str = "name: reporter\nnamespace: dist\nactions:\n  - name: check\n    shell:\n      - \"printf 'results:\\\\n  - item: %s\\\\n    type: koji_build\\\\n    outcome: FAILED\\\\n    note: bad\\\\n    artifact: log.txt\\\\n' ${item}\"\n    export: out\n  - name: report\n    resultsdb:\n      results: ${out}\n    export: reported\n";

    fn run(reporting: Reporting) -> (taskotron_core::ExecutionReport, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("runtask.yml");
        std::fs::write(&file, FORMULA).unwrap();
        let formula = taskotron_core::formula::load(FORMULA, &file)
            .unwrap()
            .formula;
        let opts = RunOptions {
            input: runner::task_input(
                "xchat-0.5-1.fc20",
                ItemType::KojiBuild,
                Some("build-9".into()),
            ),
            arch: Some(taskotron_core::Arch::X86_64),
            overrides: Vec::new(),
            artifacts_root: dir.path().join("artifacts"),
            tmpdir: dir.path().join("tmp"),
            default_timeout: Duration::from_secs(60),
            python: "python3".into(),
            task_env: Vec::new(),
            install_rpms: Default::default(),
            run_id: None,
            isolation: Default::default(),
            sandbox: Default::default(),
            remote: None,
            reporting,
            services: Default::default(),
        };
        (
            runner::run(&formula, &opts, Ports::system(), &mut Quiet).unwrap(),
            dir,
        )
    }

    #[test]
    fn the_directive_reports_with_urls_from_the_build() {
        let db = MockResultsDb::new(&ResultsDbFixture::default());
        let server = db.serve().unwrap();
        let state = tempfile::tempdir().unwrap();
        let reporting = Reporting {
            resultsdb_url: Some(server.url()),
            artifacts_base_url: Some("https://artifacts.example".into()),
            job_url_template: Some("https://jobs.example/{build_id}".into()),
            accepted: taskotron_core::config::Config::default().resultsdb_outcomes(),
            state_dir: state.path().to_path_buf(),
            ..Reporting::default()
        };
        let (report, _dir) = run(reporting);
        assert!(report.is_ok(), "{:?}", report.status);
        let stored = db.results(&server.url());
        assert_eq!(stored.len(), 1);
        let r = &stored[0];
        assert_eq!(r["testcase"]["name"], "dist.reporter");
        assert_eq!(
            r["ref_url"],
            format!("https://artifacts.example/{}/log.txt", report.run_id)
        );
        assert_eq!(r["groups"][0], "build-9");
        assert_eq!(r["data"]["arch"][0], "x86_64");
        let group: serde_json::Value = {
            let (_, body) = super::get(&format!("{}/api/v2.0/groups/build-9", server.url()));
            serde_json::from_str(&body).unwrap()
        };
        assert_eq!(group["ref_url"], "https://jobs.example/build-9");
    }

    #[test]
    fn a_dead_resultsdb_makes_the_run_not_ok_and_keeps_the_results() {
        let state = tempfile::tempdir().unwrap();
        let reporting = Reporting {
            resultsdb_url: Some("http://127.0.0.1:9".into()),
            state_dir: state.path().to_path_buf(),
            accepted: taskotron_core::config::Config::default().resultsdb_outcomes(),
            policy: Policy {
                deadline: Duration::from_millis(200),
                ..Policy::default()
            },
            ..Reporting::default()
        };
        let (report, _dir) = run(reporting);
        assert_eq!(report.execution_status, ExecutionStatus::NotOk);
        assert!(
            report.status.as_deref().unwrap().contains(
                "reporting to ResultsDB failed: 0 delivered, 0 refused, 1 left in the spool"
            ),
            "{:?}",
            report.status
        );
        assert_eq!(
            std::fs::read_dir(state.path().join("spool/resultsdb"))
                .unwrap()
                .filter(|e| e
                    .as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json"))
                .count(),
            1
        );
    }

    #[test]
    fn without_a_resultsdb_the_payloads_are_written_down() {
        let (report, _dir) = run(Reporting {
            accepted: taskotron_core::config::Config::default().resultsdb_outcomes(),
            ..Reporting::default()
        });
        assert!(report.is_ok(), "{:?}", report.status);
        let payloads: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(report.artifacts.join("resultsdb-payloads.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(payloads[0]["testcase"]["name"], "dist.reporter");
        assert_eq!(
            payloads[0]["ref_url"],
            format!("file://{}/log.txt", report.artifacts.display())
        );
    }
}
