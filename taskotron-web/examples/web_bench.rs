//! The web issue's figure: with 100,000 jobs in the state database, how long `/`,
//! a job page and the API's item filter take through `taskotron web` over loopback,
//! and the same reads made on the database directly (`Queue::page`, `get` and
//! `history`), medians of many runs. `cargo xtask bench web` runs it.
//!
//! Usage: `web_bench WORKDIR TASKOTRON_BINARY [JOBS] [RUNS]`; prints one JSON object.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use std::collections::BTreeMap;

use taskotron_core::resultsdb::local::{LocalResults, ResultQuery};
use taskotron_core::resultsdb::{DataValue, Entry, Group, ResultPayload, Testcase};
use taskotron_core::scheduler::{JobFilter, Queue};
use taskotron_core::{Arch, ItemType, JobRequest};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn get(addr: &str, path: &str) -> (u16, usize) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let status = String::from_utf8_lossy(&raw[9..12]).parse().unwrap_or(0);
    (status, raw.len())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let work = std::path::PathBuf::from(&args[1]);
    let binary = &args[2];
    let jobs: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(200);
    let _ = std::fs::remove_dir_all(&work);
    let state = work.join("state");
    let queue_path = state.join("queue.sqlite");

    // 100,000 jobs: most finished with a report of three results, some crashed, the
    // rest waiting, over 500 tasks x items so filters select a few.
    let built = Instant::now();
    let mut q = Queue::open(&queue_path).unwrap();
    let t0 = SystemTime::now() - Duration::from_secs(86_400);
    let arches = [Arch::X86_64, Arch::Aarch64, Arch::Noarch];
    for batch in 0..jobs.div_ceil(5000) {
        let requests: Vec<JobRequest> = (batch * 5000..((batch + 1) * 5000).min(jobs))
            .map(|i| JobRequest {
                item: format!("pkg{}-1.0-{}.fc41", i % 20_000, i % 7),
                item_type: ItemType::KojiBuild,
                taskname: format!("task{}", i % 25),
                arch: arches[i % 3],
                source: None,
                plan: None,
            })
            .collect();
        q.enqueue(&requests, t0 + Duration::from_millis(batch as u64 * 5000))
            .unwrap();
    }
    drop(q);
    let report = |outcome: &str| {
        serde_json::json!({
            "execution_status": "OK", "status": null, "build_id": "B", "run_id": "R",
            "item": "pkg-1.0-1.fc41", "item_type": "koji_build", "arch": "x86_64",
            "checkname": "dist.bench", "artifacts": "/nonexistent", "started_at": "2026-01-01T00:00:00Z",
            "duration_ms": 4200, "actions": [], "outcome": outcome, "exit_code": null,
            "results": [
                {"item": "pkg-1.0-1.fc41", "type": "koji_build", "outcome": outcome, "note": "n", "checkname": "dist.bench"},
                {"item": "pkg-1.0-1.fc41", "type": "koji_build", "outcome": "PASSED", "note": "", "checkname": "dist.bench.a"},
                {"item": "pkg-1.0-1.fc41", "type": "koji_build", "outcome": "INFO", "note": "", "checkname": "dist.bench.b"}
            ]
        })
        .to_string()
    };
    let conn = rusqlite::Connection::open(&queue_path).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    conn.execute(
        "UPDATE jobs SET state = 'FINISHED', attempts = 1, worker = 'w1', report = \
         CASE WHEN rowid % 5 = 0 THEN ?1 ELSE ?2 END WHERE rowid % 10 < 8",
        [report("FAILED"), report("PASSED")],
    )
    .unwrap();
    conn.execute(
        "UPDATE jobs SET state = 'CRASHED', attempts = 3, crash_cause = 'infrastructure', \
         crash_detail = 'lease' WHERE rowid % 10 = 8",
        [],
    )
    .unwrap();
    conn.execute_batch("COMMIT").unwrap();
    let uuid: String = conn
        .query_row(
            "SELECT build_id FROM jobs WHERE rowid = ?1",
            [jobs as i64 / 2],
            |r| r.get(0),
        )
        .unwrap();
    let item: String = conn
        .query_row(
            "SELECT item FROM jobs WHERE rowid = ?1",
            [jobs as i64 / 3],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    // As many results in the embedded store, three per item for 33,333 items.
    let mut store =
        LocalResults::open(&state.join(taskotron_core::resultsdb::local::FILE)).unwrap();
    for batch in 0..jobs.div_ceil(10_000) {
        let entries: Vec<Entry> = (batch * 10_000..((batch + 1) * 10_000).min(jobs))
            .map(|i| {
                let mut data = BTreeMap::new();
                data.insert(
                    "item".to_string(),
                    DataValue::One(format!("r{}-1.0-1.fc41", i / 3)),
                );
                data.insert("type".to_string(), DataValue::One("koji_build".into()));
                Entry {
                    result_id: format!("bench-{i}"),
                    payload: ResultPayload {
                        outcome: if i % 7 == 0 { "FAILED" } else { "PASSED" }.into(),
                        testcase: Testcase {
                            name: format!("dist.check{}", i % 3),
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
            })
            .collect();
        store.insert(&entries, SystemTime::now()).unwrap();
    }
    drop(store);
    let result_item = format!("r{}-1.0-1.fc41", jobs / 6);
    let build_seconds = built.elapsed().as_secs_f64();

    // Directly on the database: the reads the pages make.
    let q = Queue::open_read_only(&queue_path, Default::default()).unwrap();
    let by_item = JobFilter {
        item: Some(item.clone()),
        ..JobFilter::default()
    };
    let time = |f: &dyn Fn()| {
        (0..runs)
            .map(|_| {
                let s = Instant::now();
                f();
                s.elapsed()
            })
            .collect::<Vec<_>>()
    };
    let direct_list = median(time(&|| {
        assert_eq!(q.page(&JobFilter::default(), 0, 51).unwrap().len(), 51);
    }));
    let direct_job = median(time(&|| {
        assert!(q.get(&uuid).unwrap().is_some());
        q.history(&uuid).unwrap();
    }));
    let direct_item = median(time(&|| {
        assert!(!q.page(&by_item, 0, 51).unwrap().is_empty());
    }));
    drop(q);
    let store =
        LocalResults::open_read_only(&state.join(taskotron_core::resultsdb::local::FILE)).unwrap();
    let rq = ResultQuery::parse(&[("item".to_string(), result_item.clone())]).unwrap();
    let direct_results = median(time(&|| {
        assert_eq!(store.results(&rq, "http://b").unwrap().0.len(), 3);
    }));
    drop(store);

    // Through `taskotron web`, as a user runs it.
    let config = work.join("taskotron.yaml");
    std::fs::write(
        &config,
        format!(
            "state_dir: {}\nartifacts: {}\n",
            state.display(),
            work.join("artifacts").display()
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
    let http = |path: &str| {
        for _ in 0..5 {
            get(&addr, path);
        }
        let mut walls = Vec::with_capacity(runs);
        for _ in 0..runs {
            let s = Instant::now();
            let (status, len) = get(&addr, path);
            walls.push(s.elapsed());
            assert_eq!(status, 200, "{path}");
            assert!(len > 200);
        }
        median(walls)
    };
    let list = http("/");
    let job = http(&format!("/jobs/{uuid}"));
    let api_item = http(&format!("/api/v1/jobs?item={item}"));
    let results_item = http(&format!("/api/v2.0/results?item={result_item}"));
    let _ = server.kill();
    let _ = server.wait();
    println!(
        "{}",
        serde_json::json!({
            "jobs": jobs, "runs": runs, "build_seconds": build_seconds,
            "list_ms": list, "job_ms": job, "api_item_ms": api_item,
            "direct_list_ms": direct_list, "direct_job_ms": direct_job, "direct_item_ms": direct_item,
            "results_item_ms": results_item, "direct_results_ms": direct_results,
        })
    );
}
