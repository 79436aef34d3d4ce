//! The server over real HTTP on loopback: pages, API, artifacts (and every way out
//! of them), metrics, and many requests while a worker writes the queue.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use std::collections::BTreeMap;

use taskotron_core::resultsdb::local::LocalResults;
use taskotron_core::resultsdb::{DataValue, Entry, Group, ResultPayload, Testcase};
use taskotron_core::scheduler::{CrashCause, Origin, Queue, Scheduler, Waiting};
use taskotron_core::{Arch, ExecutionReport, ItemType, JobRequest};
use taskotron_web::WebSettings;

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// A GET of `path` exactly as written (no client normalises it).
fn get(addr: SocketAddr, path: &str, extra: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: head,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..line_end]).unwrap().trim(), 16).unwrap();
        b = &b[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn report(build_id: &str, run_id: &str, artifacts: &Path, outcome: &str) -> ExecutionReport {
    serde_json::from_value(serde_json::json!({
        "execution_status": "OK", "status": null, "build_id": build_id, "run_id": run_id,
        "item": "htop-3.3.0-1.fc41", "item_type": "koji_build", "arch": "x86_64",
        "checkname": "dist.rpmlint", "artifacts": artifacts.join(run_id), "started_at": "2026-01-01T00:00:00Z",
        "duration_ms": 2500, "actions": [], "outcome": outcome,
        "results": [{"item": "htop-3.3.0-1.fc41", "type": "koji_build", "outcome": outcome,
                     "note": "<b>not bold</b>", "checkname": "dist.rpmlint", "artifact": "rpmlint.log"}],
        "exit_code": null, "task_commit": "0123abc"
    }))
    .unwrap()
}

/// Serves `queue` and `artifacts` (the state under `root`) on a free loopback port
/// until the flag is set.
fn serve(root: &Path, queue: PathBuf, artifacts: PathBuf) -> (SocketAddr, Arc<AtomicBool>) {
    let settings = WebSettings {
        queue,
        artifacts,
        spool: root.join("state/spool/resultsdb"),
        results: root.join("state/results.sqlite"),
        trigger: None,
        gating: None,
    };
    let bound = taskotron_web::bind("127.0.0.1:0", settings).unwrap();
    let addr = bound.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    std::thread::spawn(move || bound.run(s));
    (addr, stop)
}

struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
    addr: SocketAddr,
    finished: String,
    crashed: String,
    run: String,
    _stop: Arc<AtomicBool>,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let artifacts = root.join("artifacts");
    let run = "run-1".to_string();
    std::fs::create_dir_all(artifacts.join(&run).join("actions")).unwrap();
    std::fs::write(
        artifacts.join(&run).join("taskotron.log"),
        "line 1\nline 2\n".repeat(200),
    )
    .unwrap();
    std::fs::write(artifacts.join(&run).join("rpmlint.log"), "W: spelling\n").unwrap();
    std::fs::write(
        artifacts.join(&run).join("report.html"),
        "<html><body>report</body></html>",
    )
    .unwrap();
    std::fs::write(artifacts.join(&run).join("actions/01-check.log"), "ok\n").unwrap();
    std::fs::write(root.join("secret.yaml"), "resultsdb_password: hunter2\n").unwrap();
    std::os::unix::fs::symlink(root.join("secret.yaml"), artifacts.join(&run).join("leak"))
        .unwrap();
    let queue_path = root.join("state/queue.sqlite");
    let mut q = Queue::open(&queue_path).unwrap();
    let req = |item: &str, task: &str| JobRequest {
        item: item.into(),
        item_type: ItemType::KojiBuild,
        taskname: task.into(),
        arch: Arch::X86_64,
        source: None,
        plan: None,
    };
    q.accept(
        Origin {
            message_id: Some("msg-1"),
            topic: "org.fedoraproject.prod.buildsys.build.state.change",
        },
        &[req("htop-3.3.0-1.fc41", "rpmlint")],
    )
    .unwrap();
    // After the accept, which stamps the job with the clock: a history ordered by
    // time must see the claim and the finish after it, not in the same millisecond
    // by luck.
    let t0 = SystemTime::now();
    let a = q
        .claim("w1", &[Arch::X86_64], Duration::from_secs(60), 3, t0)
        .unwrap()
        .unwrap();
    q.finish(
        &a.build_id,
        "w1",
        &report(&a.build_id, &run, &artifacts, "FAILED"),
        t0,
    )
    .unwrap();
    q.enqueue(&[req("grep-3.11-1.fc41", "nosuch")], t0).unwrap();
    let b = q
        .claim("w1", &[Arch::X86_64], Duration::from_secs(60), 3, t0)
        .unwrap()
        .unwrap();
    q.crash(
        &b.build_id,
        "w1",
        CrashCause::Task,
        "unknown task `nosuch`",
        t0,
    )
    .unwrap();
    for i in 0..60 {
        q.enqueue(
            &[req(&format!("pkg{i}-1-1.fc41"), "rpmlint")],
            t0 + Duration::from_millis(i),
        )
        .unwrap();
    }
    let mut store = LocalResults::open(&root.join("state/results.sqlite")).unwrap();
    let entries: Vec<Entry> = (0..25)
        .map(|i| {
            let mut data = BTreeMap::new();
            data.insert(
                "item".to_string(),
                DataValue::One(format!("pkg{}-1-1.fc41", i % 5)),
            );
            data.insert("type".to_string(), DataValue::One("koji_build".into()));
            Entry {
                result_id: format!("r-{i}"),
                payload: ResultPayload {
                    outcome: if i % 4 == 0 { "FAILED" } else { "PASSED" }.into(),
                    testcase: Testcase {
                        name: format!("dist.check{}", i % 3),
                        ref_url: None,
                    },
                    groups: vec![Group {
                        uuid: "g-1".into(),
                        description: None,
                        ref_url: None,
                    }],
                    note: None,
                    ref_url: None,
                    data,
                },
                ambiguous: false,
            }
        })
        .collect();
    store.insert(&entries, t0).unwrap();
    drop(store);
    let (addr, stop) = serve(&root, queue_path, artifacts);
    Site {
        _dir: dir,
        root,
        addr,
        finished: a.build_id,
        crashed: b.build_id,
        run,
        _stop: stop,
    }
}

#[test]
fn pages_show_jobs_their_life_and_their_files() {
    let s = site();
    let list = get(s.addr, "/", "");
    assert_eq!(list.status, 200);
    assert_eq!(
        list.header("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let html = list.text();
    assert!(html.contains("pkg59-1-1.fc41"), "newest first");
    assert!(
        !html.contains(&format!("/jobs/{}", s.crashed)),
        "the oldest are on page 2"
    );
    assert!(html.contains("rel=\"next\""), "62 jobs make two pages");
    let crashed = get(s.addr, "/?state=CRASHED", "").text();
    assert!(crashed.contains("nosuch") && !crashed.contains("pkg1-1-1.fc41"));
    let page2 = get(s.addr, "/?page=2", "").text();
    assert!(page2.contains("rel=\"prev\"") && !page2.contains("rel=\"next\""));
    assert!(page2.contains(&format!("/jobs/{}", s.crashed)));

    let job = get(s.addr, &format!("/jobs/{}", s.finished), "");
    assert_eq!(job.status, 200);
    let html = job.text();
    for needed in [
        "COMPLETED",
        "msg-1",
        "CLAIMED",
        "FINISHED",
        "FAILED",
        "&lt;b&gt;not bold&lt;/b&gt;",
        "0123abc",
        "taskotron run rpmlint --item htop-3.3.0-1.fc41 --type koji_build --arch x86_64",
        &format!("/artifacts/{}/rpmlint.log", s.run),
        &format!("/artifacts/{}/report.html", s.run),
    ] {
        assert!(html.contains(needed), "the job page lacks {needed}");
    }
    assert!(!html.contains("<b>not bold"), "values are escaped");
    let crash = get(s.addr, &format!("/jobs/{}", s.crashed), "").text();
    assert!(crash.contains("CRASHED") && crash.contains("unknown task `nosuch`"));
    // Every link on the pages answers.
    for page in ["/".to_string(), format!("/jobs/{}", s.finished)] {
        let html = get(s.addr, &page, "").text();
        for href in html
            .split("href=\"")
            .skip(1)
            .filter_map(|h| h.split('"').next())
        {
            if href.starts_with('/') {
                let r = get(s.addr, &href.replace("&amp;", "&"), "");
                assert_eq!(r.status, 200, "{page} links to {href}");
            }
        }
    }
}

#[test]
fn bad_input_gets_its_status() {
    let s = site();
    let missing = get(s.addr, "/jobs/no-such-job", "");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("No such job"));
    assert_eq!(get(s.addr, "/no/such/page", "").status, 404);
    let bad = get(s.addr, "/?stat=CRASHED", "");
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("`stat`") && bad.text().contains("did you mean `state`"));
    let api = get(s.addr, "/api/v1/jobs?limit=0", "");
    assert_eq!(api.status, 400);
    let doc: serde_json::Value = serde_json::from_slice(&api.body).unwrap();
    assert_eq!(doc["parameter"], "limit");
    assert_eq!(get(s.addr, "/api/v1/jobs/nope", "").status, 404);
}

#[test]
fn the_api_pages_and_filters_like_the_pages() {
    let s = site();
    let r = get(s.addr, "/api/v1/jobs?limit=10", "");
    assert_eq!(r.status, 200);
    let doc: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(doc["data"].as_array().unwrap().len(), 10);
    assert_eq!(doc["next"], "/api/v1/jobs?page=2&limit=10");
    assert_eq!(doc["prev"], serde_json::Value::Null);
    let done: serde_json::Value =
        serde_json::from_slice(&get(s.addr, "/api/v1/jobs?state=COMPLETED", "").body).unwrap();
    let job = &done["data"][0];
    assert_eq!(job["state"], "COMPLETED");
    assert_eq!(job["outcome"], "FAILED");
    assert_eq!(job["results"]["FAILED"], 1);
    assert_eq!(job["origin"]["message_id"], "msg-1");
    let one: serde_json::Value =
        serde_json::from_slice(&get(s.addr, &format!("/api/v1/jobs/{}", s.finished), "").body)
            .unwrap();
    let events: Vec<&str> = one["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["SCHEDULED", "CLAIMED", "FINISHED"]);
    assert_eq!(one["report"]["run_id"], s.run.as_str());
}

#[test]
fn artifacts_are_served_and_nothing_outside_them() {
    let s = site();
    let base = format!("/artifacts/{}", s.run);
    let log = get(s.addr, &format!("{base}/taskotron.log"), "");
    assert_eq!(log.status, 200);
    assert_eq!(
        log.header("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );
    let html = get(s.addr, &format!("{base}/report.html"), "");
    assert_eq!(
        html.header("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let part = get(
        s.addr,
        &format!("{base}/taskotron.log"),
        "Range: bytes=0-5\r\n",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.text(), "line 1");
    assert!(
        part.header("content-encoding").is_none(),
        "a range is never compressed"
    );
    let gz = get(
        s.addr,
        &format!("{base}/taskotron.log"),
        "Accept-Encoding: gzip\r\n",
    );
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert!(gz.body.len() < 2800);
    let listing = get(s.addr, &format!("{base}/"), "");
    assert_eq!(listing.status, 200);
    assert!(listing.text().contains("actions/") && listing.text().contains("taskotron.log"));
    assert!(
        !listing.text().contains("leak"),
        "a symlink out is not listed"
    );
    assert_eq!(
        get(s.addr, &base, "").status,
        308,
        "a directory without its slash redirects"
    );
    for escape in [
        "/artifacts/../secret.yaml".to_string(),
        "/artifacts/%2e%2e/secret.yaml".to_string(),
        format!("{base}/../../secret.yaml"),
        format!("{base}/..%2f..%2fsecret.yaml"),
        format!("{base}/%2e%2e%2F%2e%2e%2Fsecret.yaml"),
        format!("{base}/..%5c..%5csecret.yaml"),
        format!("{base}/leak"),
        format!("/artifacts/{}/secret.yaml", s.root.display()),
        "/artifacts//etc/passwd".to_string(),
    ] {
        let r = get(s.addr, &escape, "");
        assert_eq!(r.status, 404, "{escape}");
        assert!(!r.text().contains("hunter2"), "{escape}");
    }
}

#[test]
fn metrics_count_what_the_queue_holds() {
    let s = site();
    let m = get(s.addr, "/metrics", "");
    assert_eq!(m.status, 200);
    assert!(m
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = m.text();
    for line in [
        "taskotron_jobs{state=\"SCHEDULED\"} 60",
        "taskotron_jobs{state=\"COMPLETED\"} 1",
        "taskotron_jobs{state=\"CRASHED\"} 1",
        "taskotron_queue_depth{arch=\"x86_64\"} 60",
        "taskotron_job_duration_seconds_bucket{le=\"1\"} 0",
        "taskotron_job_duration_seconds_bucket{le=\"5\"} 1",
        "taskotron_job_duration_seconds_count 1",
        "taskotron_results{outcome=\"FAILED\"} 1",
        "taskotron_stored_results{outcome=\"FAILED\"} 7",
        "taskotron_stored_results{outcome=\"PASSED\"} 18",
    ] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
    assert_eq!(get(s.addr, "/healthz", "").text(), "ok\n");
}

#[test]
fn a_thousand_requests_while_a_worker_writes() {
    let s = site();
    let queue = s.root.join("state/queue.sqlite");
    let writing = Arc::new(AtomicBool::new(true));
    let w = Arc::clone(&writing);
    let writer = std::thread::spawn(move || {
        // A writer that may not wait for a lock at all (beyond SQLite's own short
        // busy slice): any reader holding one would fail its write.
        let mut q = Queue::open_with(
            &queue,
            Waiting {
                limit: Duration::ZERO,
                notify: None,
            },
        )
        .unwrap();
        let mut i = 0u64;
        while w.load(std::sync::atomic::Ordering::Relaxed) {
            q.enqueue(
                &[JobRequest {
                    item: format!("w{i}-1-1.fc41"),
                    item_type: ItemType::KojiBuild,
                    taskname: "rpmlint".into(),
                    arch: Arch::Aarch64,
                    source: None,
                    plan: None,
                }],
                SystemTime::now(),
            )
            .expect("a write failed while the pages were read");
            i += 1;
        }
        i
    });
    let addr = s.addr;
    let threads: Vec<_> = (0..50)
        .map(|t| {
            std::thread::spawn(move || {
                (0..20)
                    .map(|i| {
                        let path = match (t + i) % 4 {
                            0 => "/".to_string(),
                            1 => "/api/v1/jobs?arch=aarch64".to_string(),
                            2 => "/metrics".to_string(),
                            _ => "/artifacts/run-1/taskotron.log".to_string(),
                        };
                        get(addr, &path, "").status
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    let writes = writer.join().expect("every write went through");
    assert_eq!(statuses.len(), 1000);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(writes > 0);
}

#[test]
fn the_results_api_answers_like_resultsdb() {
    let s = site();
    let json = |path: &str| -> (u16, serde_json::Value) {
        let r = get(s.addr, path, "");
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or_default(),
        )
    };
    let (status, all) = json("/api/v2.0/results");
    assert_eq!(status, 200);
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        20,
        "ResultsDB's default limit"
    );
    assert!(all["next"].as_str().unwrap().ends_with("page=1"));
    assert!(all["prev"].is_null());
    assert_eq!(all["data"][0]["id"], 25, "newest first");
    let (_, item) = json("/api/v2.0/results?item=pkg0-1-1.fc41&outcome=FAILED");
    let found = item["data"].as_array().unwrap();
    assert!(!found.is_empty());
    assert!(found.iter().all(
        |r| r["data"]["item"] == serde_json::json!(["pkg0-1-1.fc41"]) && r["outcome"] == "FAILED"
    ));
    let (_, latest) = json("/api/v2.0/results/latest?item=pkg1-1-1.fc41");
    let names: Vec<&str> = latest["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["testcase"]["name"].as_str().unwrap())
        .collect();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "one result per testcase");
    assert_eq!(json("/api/v2.0/results/1").1["id"], 1);
    assert_eq!(json("/api/v2.0/results/999").0, 404);
    assert_eq!(
        json("/api/v2.0/testcases").1["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        json("/api/v2.0/testcases/dist.check1").1["name"],
        "dist.check1"
    );
    assert_eq!(json("/api/v2.0/groups/g-1").1["results_count"], 25);
    let (status, bad) = json("/api/v2.0/results?since=yesterday");
    assert_eq!(status, 400);
    assert_eq!(bad["validation_error"][0]["loc"][0], "since");
    assert_eq!(
        json("/api/v2.0/results/latest?_distinct_on=scenario").0,
        400
    );
    assert_eq!(json("/api/v2.0/results?limit=x").0, 400);
    let mut post = TcpStream::connect(s.addr).unwrap();
    write!(post, "POST /api/v2.0/results HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}").unwrap();
    let mut raw = String::new();
    post.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");
}

/// Everything a connection receives, read on its own thread as it comes.
struct Stream {
    got: Arc<std::sync::Mutex<Vec<u8>>>,
    closed: Arc<AtomicBool>,
}

impl Stream {
    fn open(addr: SocketAddr, path: &str, extra: &str) -> Stream {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n").unwrap();
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        let closed = Arc::new(AtomicBool::new(false));
        let (g, c) = (got.clone(), closed.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                g.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            c.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Stream { got, closed }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.got.lock().unwrap()).into_owned()
    }

    /// Waits (up to 20 s) until what came holds `want`.
    fn wait_for(&self, want: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text();
            if text.contains(want) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no `{want}` in:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A running job's page follows its log: the page holds the lines so far, the
/// stream sends each new line once (a CR ends a line too), an incomplete line only
/// when complete or when the job ends, then `end` with the job's state; a browser
/// that reconnects with `Last-Event-ID` gets what it missed.
#[test]
fn a_running_jobs_log_is_followed_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("artifacts");
    let run = "run-live";
    std::fs::create_dir_all(artifacts.join(run)).unwrap();
    let log = artifacts.join(run).join("taskotron.log");
    std::fs::write(&log, "first\nsecond\npartial").unwrap();
    let queue_path = dir.path().join("state/queue.sqlite");
    let mut q = Queue::open(&queue_path).unwrap();
    let t0 = SystemTime::now();
    let req = JobRequest {
        item: "htop-3.3.0-1.fc41".into(),
        item_type: ItemType::KojiBuild,
        taskname: "rpmlint".into(),
        arch: Arch::X86_64,
        source: None,
        plan: None,
    };
    let ids = q.enqueue(&[req.clone(), req], t0).unwrap();
    let job = q
        .claim("w1", &[Arch::X86_64], Duration::from_secs(60), 3, t0)
        .unwrap()
        .unwrap();
    assert!(q.started(&job.build_id, "w1", run, t0).unwrap());
    let waiting = ids.iter().find(|i| **i != job.build_id).unwrap();
    let (addr, stop) = serve(dir.path(), queue_path, artifacts.clone());

    let page = get(addr, &format!("/jobs/{}", job.build_id), "");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("RUNNING") && html.contains("run-live"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"data-src="/jobs/{}/log" data-from="20">first"#,
            job.build_id
        )),
        "{html}"
    );
    assert!(html.contains("EventSource"), "the follower script");

    let live = Stream::open(addr, &format!("/jobs/{}/log?from=0", job.build_id), "");
    let text = live.wait_for("data: second");
    assert!(text.contains("content-type: text/event-stream"), "{text}");
    assert!(
        text.contains("id: 13\n"),
        "the offset after the lines: {text}"
    );
    assert!(!text.contains("partial"), "not a line yet: {text}");
    // The run writes on; each new line comes once.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(b"ly done\nthird\r\nfourth\n")
        .unwrap();
    let text = live.wait_for("data: fourth");
    assert!(
        text.contains("data: partially done\ndata: third\ndata: fourth\n"),
        "{text}"
    );
    assert_eq!(text.matches("data: first").count(), 1);
    assert!(!live.closed.load(std::sync::atomic::Ordering::SeqCst));
    // The job ends: the rest of the file, then `end` and the stream closes.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(b"run finished")
        .unwrap();
    assert!(q
        .finish(
            &job.build_id,
            "w1",
            &report(&job.build_id, run, &artifacts, "PASSED"),
            t0
        )
        .unwrap());
    let text = live.wait_for("event: end\ndata: COMPLETED");
    assert!(text.contains("data: run finished\n"), "{text}");
    // The response ends (its last chunk), though the connection may be kept.
    let text = live.wait_for("\r\n0\r\n\r\n");
    assert!(
        text.ends_with("\r\n0\r\n\r\n"),
        "nothing after the end: {text}"
    );
    // A browser that lost the connection after `second` resumes there.
    let resumed = Stream::open(
        addr,
        &format!("/jobs/{}/log?from=0", job.build_id),
        "Last-Event-ID: 13\r\n",
    );
    let text = resumed.wait_for("event: end");
    assert!(!text.contains("data: first"), "{text}");
    assert!(text.contains("data: partially done"), "{text}");
    // The page of a finished job shows its results, not a live log.
    let page = get(addr, &format!("/jobs/{}", job.build_id), "").text();
    assert!(!page.contains("live-log") && page.contains("COMPLETED"));

    assert_eq!(get(addr, "/jobs/nosuch/log", "").status, 404);
    let none = get(addr, &format!("/jobs/{waiting}/log"), "");
    assert_eq!(none.status, 404);
    assert!(none.text().contains("No run of this job has started yet"));
    let bad = get(addr, &format!("/jobs/{}/log?from=-3", job.build_id), "");
    assert_eq!(bad.status, 400);
    assert!(
        bad.text().contains("query parameter `from`"),
        "{}",
        bad.text()
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
}
