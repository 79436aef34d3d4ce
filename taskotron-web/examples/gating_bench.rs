//! The gating issue's figures: with 100,000 runs and 2,000,000 test cases in the
//! history store (and 100,000 results in the embedded results store), how long
//! `taskotron web` takes over loopback for a decision about an update of 10 builds
//! under 3 policies and for a test's history page, and `taskotron compare` for two
//! 20,000-test runs; each also measured in process (the library call, no HTTP or
//! spawn). `cargo xtask bench gating` runs it, and measures real Greenwave against
//! the same results in the same run.
//!
//! Usage: `gating_bench WORKDIR TASKOTRON_BINARY [RUNS]`; prints one JSON object.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use taskotron_core::resultsdb::local::LocalResults;
use taskotron_core::resultsdb::{DataValue, Entry, Group, ResultPayload, Testcase};
use taskotron_history::{Query, Store};

const RUNS_STORED: usize = 100_000;
const CASES_PER_RUN: usize = 20;
const BIG: usize = 20_000;
const TASKS: usize = 500;
const BUILDS: usize = 10;
const RULES: usize = 3;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

fn policies() -> String {
    let mut text = String::new();
    for p in 0..3 {
        text.push_str(&format!(
            "--- !Policy\nid: policy-{p}\nproduct_versions: [fedora-*]\ndecision_context: bodhi_update_push_stable\nsubject_type: koji_build\nrules:\n"
        ));
        for r in 0..RULES {
            text.push_str(&format!(
                "  - !PassingTestCaseRule {{test_case_name: dist.gate{}}}\n",
                p * RULES + r
            ));
        }
    }
    text.push_str("--- !Policy\nid: updates\nproduct_versions: [fedora-*]\ndecision_context: bodhi_update_push_stable\nsubject_type: bodhi_update\nrules: []\n");
    text
}

fn result(i: usize, item: &str, testcase: &str, outcome: &str, arch: &str) -> Entry {
    let mut data = BTreeMap::new();
    data.insert("item".to_string(), DataValue::One(item.to_string()));
    data.insert("type".to_string(), DataValue::One("koji_build".into()));
    data.insert("arch".to_string(), DataValue::One(arch.into()));
    data.insert(
        "system_architecture".to_string(),
        DataValue::One(arch.into()),
    );
    Entry {
        result_id: format!("bench-{i}"),
        payload: ResultPayload {
            outcome: outcome.into(),
            testcase: Testcase {
                name: testcase.into(),
                ref_url: None,
            },
            groups: vec![Group {
                uuid: format!("g-{}", i / 30),
                description: None,
                ref_url: None,
            }],
            note: Some(String::new()),
            ref_url: Some(format!("https://logs.example/{i}")),
            data,
        },
        ambiguous: false,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let work = std::path::PathBuf::from(&args[1]);
    let binary = &args[2];
    let runs: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(200);
    let _ = std::fs::remove_dir_all(&work);
    let state = work.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let built = Instant::now();

    // The history: 100,000 runs of 500 tasks over 2,000 packages, 20 cases each
    // (the task's own tests), plus two runs of 20,000 tests to compare.
    let history = taskotron_core::history::path(&state);
    drop(Store::open(&history).unwrap());
    let conn = rusqlite::Connection::open(&history).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut run = conn
            .prepare("INSERT INTO runs (run_id, task, item, item_type, package, evr, arch, finished_at, execution_status, outcome, artifacts) VALUES (?1, ?2, ?3, 'koji_build', ?4, ?5, ?6, ?7, 'OK', ?8, '/nonexistent')")
            .unwrap();
        let mut case = conn
            .prepare("INSERT INTO cases (run_id, check_name, name, status, message) VALUES (?1, ?2, ?3, ?4, NULL)")
            .unwrap();
        for i in 0..RUNS_STORED {
            let task = i % TASKS;
            let package = format!("pkg{}", i % 2000);
            let evr = format!("1.{}-1.fc41", i / 2000);
            let id = format!("run-{i:06}");
            let arch = if i % 2 == 0 { "x86_64" } else { "aarch64" };
            run.execute(rusqlite::params![
                id,
                format!("dist.task{task}"),
                format!("{package}-{evr}"),
                package,
                evr,
                arch,
                1_700_000_000_000i64 + i as i64 * 1000,
                if i % 9 == 0 { "FAILED" } else { "PASSED" }
            ])
            .unwrap();
            for c in 0..CASES_PER_RUN {
                let status = if (i + c) % 13 == 0 {
                    "failed"
                } else {
                    "passed"
                };
                case.execute(rusqlite::params![
                    id,
                    format!("dist.task{task}"),
                    format!("/task{task}/test{c}"),
                    status
                ])
                .unwrap();
            }
        }
        for (id, evr, flip) in [("cmp-a", "2.0-1.fc41", 0), ("cmp-b", "2.1-1.fc41", 1)] {
            run.execute(rusqlite::params![
                id,
                "dist.big",
                format!("big-{evr}"),
                "big",
                evr,
                "x86_64",
                1_800_000_000_000i64 + flip,
                "FAILED"
            ])
            .unwrap();
            for c in 0..BIG {
                // One test in a hundred changes between the two runs.
                let failing = c % 100 == 0 && flip == 1 || c % 250 == 7;
                case.execute(rusqlite::params![
                    id,
                    "dist.big",
                    format!("/big/test{c}"),
                    if failing { "failed" } else { "passed" }
                ])
                .unwrap();
            }
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    let cases: i64 = conn
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    drop(conn);

    // The results: 100,000 in the embedded store; the update's 10 builds have the
    // nine gating testcases on two arches, one of them failing.
    let mut store =
        LocalResults::open(&state.join(taskotron_core::resultsdb::local::FILE)).unwrap();
    let gated: Vec<String> = (0..BUILDS).map(|b| format!("upd{b}-1.0-1.fc41")).collect();
    let mut entries = Vec::new();
    let mut n = 0;
    for (b, item) in gated.iter().enumerate() {
        for t in 0..3 * RULES {
            for arch in ["x86_64", "aarch64"] {
                let outcome = if b == 3 && t == 4 && arch == "aarch64" {
                    "FAILED"
                } else {
                    "PASSED"
                };
                entries.push(result(n, item, &format!("dist.gate{t}"), outcome, arch));
                n += 1;
            }
        }
    }
    while n < RUNS_STORED {
        let item = format!("pkg{}-1.{}-1.fc41", n % 2000, n / 2000);
        entries.push(result(
            n,
            &item,
            &format!("dist.gate{}", n % 9),
            "PASSED",
            "x86_64",
        ));
        n += 1;
        if entries.len() == 10_000 {
            store.insert(&entries, SystemTime::now()).unwrap();
            entries.clear();
        }
    }
    store.insert(&entries, SystemTime::now()).unwrap();
    drop(store);
    let policy_file = work.join("policies.yaml");
    std::fs::write(&policy_file, policies()).unwrap();
    let build_seconds = built.elapsed().as_secs_f64();

    let mut subjects: Vec<serde_json::Value> = gated
        .iter()
        .map(|b| serde_json::json!({"item": b, "type": "koji_build"}))
        .collect();
    subjects.push(serde_json::json!({"item": "FEDORA-2026-bench", "type": "bodhi_update"}));
    let request = serde_json::json!({
        "decision_context": "bodhi_update_push_stable",
        "product_version": "fedora-41",
        "subject": subjects,
    });
    let body = request.to_string();

    let time = |f: &mut dyn FnMut()| {
        for _ in 0..5 {
            f();
        }
        (0..runs)
            .map(|_| {
                let s = Instant::now();
                f();
                s.elapsed()
            })
            .collect::<Vec<_>>()
    };

    // In process: the library calls the command and the page make.
    let settings = taskotron_core::gating::GatingSettings {
        state_dir: state.clone(),
        queue: state.join("queue.sqlite"),
        policies: Some(policy_file.clone()),
        koji_url: "http://127.0.0.1:9/kojihub".into(),
        bodhi_url: None,
        mirror: taskotron_core::mirror::Mirror::new(
            &work.join("mirrors"),
            Duration::from_secs(3600),
        ),
        timeout: Duration::from_secs(5),
        web_url: None,
    };
    let loaded = taskotron_core::gating::load_policies(Some(&policy_file)).unwrap();
    let parsed = taskotron_gating::DecisionRequest::from_json(&request).unwrap();
    let mut answer = None;
    let direct_decision = median(time(&mut || {
        answer = Some(taskotron_core::gating::decide(&settings, &loaded, &parsed).unwrap());
    }));
    let answer = answer.unwrap();
    assert!(!answer.policies_satisfied);
    assert_eq!(answer.requirements.len(), BUILDS * 3 * RULES * 2);
    let reader = Store::open_read_only(&history).unwrap();
    let query = Query {
        name: "/task7/test3".into(),
        package: None,
        arch: None,
        limit: 200,
    };
    let direct_history = median(time(&mut || {
        assert_eq!(reader.history(&query).unwrap().len(), RUNS_STORED / TASKS);
    }));
    let direct_compare = median(time(&mut || {
        let a = reader.run("cmp-a").unwrap().unwrap();
        let b = reader.run("cmp-b").unwrap().unwrap();
        let r = taskotron_history::compare(&a, &b);
        assert!(!r.newly_failing.is_empty());
    }));
    drop(reader);

    // As a user runs them: `taskotron web` over loopback, `taskotron compare`.
    let config = work.join("taskotron.yaml");
    std::fs::write(
        &config,
        format!(
            "state_dir: {}\nartifacts: {}\ngating_policies: {}\n",
            state.display(),
            work.join("artifacts").display(),
            policy_file.display()
        ),
    )
    .unwrap();
    let mut server = Command::new(binary)
        .args(["--color", "never", "--config"])
        .arg(&config)
        .args(["web", "--http", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("the server says where it listens")
        .to_string();
    let decision = median(time(&mut || {
        let (status, text) = http(&addr, "POST", "/api/v1.0/decision", &body);
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("\"policies_satisfied\":false"));
    }));
    let history_page = median(time(&mut || {
        let (status, text) = http(&addr, "GET", "/history/%2Ftask7%2Ftest3", "");
        assert_eq!(status, 200, "{text}");
    }));
    let compare = median(time(&mut || {
        let out = Command::new(binary)
            .args(["--color", "never", "--config"])
            .arg(&config)
            .args(["compare", "cmp-a", "cmp-b", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(100));
    }));
    println!(
        "{}",
        serde_json::json!({
            "runs_stored": RUNS_STORED, "cases_stored": cases, "results_stored": RUNS_STORED,
            "requests": runs, "build_seconds": build_seconds, "addr": addr,
            "decision_ms": decision, "direct_decision_ms": direct_decision,
            "history_ms": history_page, "direct_history_ms": direct_history,
            "compare_ms": compare, "direct_compare_ms": direct_compare,
            "request": request,
        })
    );
    // The caller measures Greenwave against this server, then closes our stdin.
    let _ = std::io::stdout().flush();
    let mut rest = String::new();
    let _ = std::io::stdin().read_to_string(&mut rest);
    let _ = server.kill();
    let _ = server.wait();
}
