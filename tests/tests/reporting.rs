//! `taskotron report` under hostile conditions, as a process: a ResultsDB that never
//! answers, a signal mid-delivery, the same run reported twice, a full disk, and
//! credentials in the URL. Each ends in a bounded time with a clear message, nothing
//! lost and nothing stored twice.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use taskotron_mock::resultsdb::{MockResultsDb, ResultsDbFixture};

/// A server that accepts connections and never answers (nor closes them).
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    format!("http://{addr}")
}

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// A home with `results.yml` of `n` results and a config (`report_deadline`).
    fn new(n: usize, deadline: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("results:\n");
        for i in 0..n {
            text.push_str(&format!("  - item: pkg{i}-1.0-1.fc41\n    type: koji_build\n    outcome: PASSED\n    checkname: dist.report\n    note: result number {i} of this report, padded to take some room on disk {}\n", "x".repeat(400)));
        }
        std::fs::write(dir.path().join("results.yml"), text).unwrap();
        std::fs::write(
            dir.path().join("taskotron.yaml"),
            format!(
                "state_dir: {}/state\nreport_deadline: {deadline}\n",
                dir.path().display()
            ),
        )
        .unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self) -> PathBuf {
        self.path().join("results.yml")
    }

    fn command(&self, url: &str, extra: &[&str]) -> Command {
        let mut c = Command::new(taskotron_tests::bin::taskotron());
        c.args(["--color", "never", "--config"])
            .arg(self.path().join("taskotron.yaml"))
            .arg("report")
            .args(extra)
            .args(["--resultsdb", url]);
        c
    }

    fn report(&self, url: &str, extra: &[&str]) -> Output {
        self.command(url, extra).output().unwrap()
    }

    fn spooled(&self) -> Vec<String> {
        std::fs::read_dir(self.path().join("state/spool/resultsdb"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != "rejected")
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// How many results are stored; none may be there twice.
fn stored_once(db: &MockResultsDb, _url: &str) -> usize {
    let mut ids = db.result_ids();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a result was stored twice");
    n
}

#[test]
fn the_deadline_bounds_the_whole_delivery_and_the_rest_stays_spooled() {
    let home = Home::new(200, "3s");
    let url = silent_server();
    let file = home.file();
    for extra in [vec![file.to_str().unwrap()], vec!["--resume"]] {
        let started = Instant::now();
        let o = home.report(&url, &extra);
        let took = started.elapsed();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            took < Duration::from_secs(8),
            "{extra:?} took {took:?}: {err}"
        );
        assert!(err.contains("200 results left in the spool"), "{err}");
        assert!(err.contains("taskotron report --resume"), "{err}");
        assert_eq!(home.spooled().len(), 200);
    }
    // Without a ResultsDB, `--resume` says how many wait and how to send them,
    // and fails: nothing was delivered (issue 24, item 13).
    let o = Command::new(taskotron_tests::bin::taskotron())
        .args(["--color", "never", "--config"])
        .arg(home.path().join("taskotron.yaml"))
        .args(["report", "--resume"])
        .env_remove("TASKOTRON_RESULTSDB_URL")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("200 results wait in the spool")
            && err.contains("none is configured")
            && err.contains("--resultsdb URL"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("stored"));
    assert_eq!(home.spooled().len(), 200, "still there");
}

#[test]
fn a_signal_ends_a_report_in_seconds_and_loses_nothing() {
    let home = Home::new(200, "60s");
    let url = silent_server();
    let child = home
        .command(&url, &[home.file().to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let stopped = Instant::now();
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopped.elapsed()
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Stopped by signal 15; 200 results are in the spool"),
        "{err}"
    );
    assert_eq!(home.spooled().len(), 200);
    // All of them arrive with `--resume`, once each.
    let db = MockResultsDb::new(&ResultsDbFixture::default());
    let server = db.serve().unwrap();
    let o = home.report(&server.url(), &["--resume"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stored_once(&db, &server.url()), 200);
    assert!(home.spooled().is_empty());
}

#[test]
fn the_same_run_reported_twice_is_stored_once_unless_again() {
    let home = Home::new(30, "20s");
    let db = MockResultsDb::new(&ResultsDbFixture::default());
    let server = db.serve().unwrap();
    let file = home.file();
    let file = file.to_str().unwrap();
    assert_eq!(home.report(&server.url(), &[file]).status.code(), Some(0));
    assert_eq!(stored_once(&db, &server.url()), 30);
    let o = home.report(&server.url(), &[file]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("Skipped 30 results ResultsDB already has"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("delivered: 0, already there: 30"));
    assert_eq!(stored_once(&db, &server.url()), 30);
    // The same results in a run's directory: they are the run's, whatever the file.
    let run = home.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::copy(home.file(), run.join("results.yml")).unwrap();
    std::fs::write(run.join("execution.json"), r#"{"run_id": "run-1"}"#).unwrap();
    let in_run = run.join("results.yml");
    assert_eq!(
        home.report(&server.url(), &[in_run.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        stored_once(&db, &server.url()),
        60,
        "another identity: stored"
    );
    assert!(
        stderr(&home.report(&server.url(), &[in_run.to_str().unwrap()])).contains("Skipped 30")
    );
    // On purpose, anew.
    let o = home.report(&server.url(), &[file, "--again"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stored_once(&db, &server.url()), 90);
}

#[test]
fn a_full_disk_leaves_no_temporary_files_says_what_is_spooled_and_stores_nothing_twice() {
    let home = Home::new(200, "20s");
    let db = MockResultsDb::new(&ResultsDbFixture::default());
    let server = db.serve().unwrap();
    let bin = taskotron_tests::bin::taskotron();
    let state = home.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    // A 64 KiB tmpfs on the state directory, in a mount namespace of the test's own
    // (root or not: `--map-root-user`); it grows for the second report.
    let script = format!(
        r#"set -u
mount -t tmpfs -o size=64k tmpfs {state}
"$1" --color never --config {config} report {file} --resultsdb {url} >/dev/null 2>{home}/first.err
echo "first=$?"
ls -a {state}/spool/resultsdb | grep -c '\.tmp$' || true
ls {state}/spool/resultsdb | grep -c '\.json$' || true
mount -o remount,size=20m {state}
"$1" --color never --config {config} report {file} --resume --resultsdb {url} >/dev/null 2>{home}/second.err
echo "second=$?"
ls {state}/spool/resultsdb | grep -c '\.json$' || true
"#,
        state = state.display(),
        config = home.path().join("taskotron.yaml").display(),
        file = home.file().display(),
        url = server.url(),
        home = home.path().display(),
    );
    let o = Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", &script, "sh"])
        .arg(&bin)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    let first = std::fs::read_to_string(home.path().join("first.err")).unwrap_or_default();
    let second = std::fs::read_to_string(home.path().join("second.err")).unwrap_or_default();
    assert_eq!(lines.len(), 5, "{out}\n{}\n{first}\n{second}", stderr(&o));
    assert_eq!(lines[0], "first=1", "{first}");
    assert_eq!(lines[1], "0", "temporary files were left: {first}");
    let spooled: usize = lines[2].parse().unwrap();
    assert!(spooled > 0 && spooled < 200, "{spooled}");
    assert!(
        first.contains(&format!("{spooled} of this report's 200 results are in it"))
            && first.contains("No space left on device"),
        "{first}"
    );
    assert_eq!(lines[3], "second=0", "{second}");
    assert_eq!(lines[4], "0", "{second}");
    assert_eq!(stored_once(&db, &server.url()), 200);
}

#[test]
fn credentials_in_urls_are_never_printed() {
    let home = Home::new(1, "2s");
    let url = silent_server().replace("http://", "http://taskotron:s3cr3t-pw@");
    let o = home.report(&url, &[home.file().to_str().unwrap()]);
    let err = stderr(&o);
    assert!(
        err.contains("Reporting 1 results to http://taskotron:***@127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains("s3cr3t"), "{err}");
    std::fs::write(
        home.path().join("taskotron.yaml"),
        format!("resultsdb_url: {url}\nbodhi_url: https://u:bodhi-s3cr3t@bodhi.example/\n"),
    )
    .unwrap();
    for format in ["human", "json"] {
        let o = Command::new(taskotron_tests::bin::taskotron())
            .args(["--config"])
            .arg(home.path().join("taskotron.yaml"))
            .args(["config", "--format", format])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("taskotron:***@127.0.0.1"), "{out}");
        assert!(!out.contains("s3cr3t"), "{out}");
    }
}
