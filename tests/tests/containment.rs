//! No process of a job outlives its worker, and a build id never runs twice at once.
//!
//! The task forks two loops that append to a shared file and then sleeps: one loop
//! stays in the action's process group, the other leaves it (`setsid`). The worker
//! is then killed (SIGKILL), stopped (SIGTERM), or killed together with its
//! `taskotron run`. Afterwards nothing of the first attempt may be running, and in the
//! shared file no line of the first attempt may come after the second attempt's first.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use taskotron_core::process::leftovers;
use taskotron_tests::workers::{kill, signal, wait_for, Setup};

/// A setup with the `forks` task; returns it and the shared file.
fn forking() -> (Setup, PathBuf) {
    let s = Setup::new();
    // What `isolation: none` promises (a sandbox's PID namespace gives more, tested
    // in sandbox.rs); the loops write to a file the sandbox would not show.
    s.configure("isolation: none\n");
    let shared = s.dir.path().join("shared.log");
    let first = s.dir.path().join("first-attempt-began");
    // The first attempt sleeps long enough to be killed mid-job; later ones write for
    // a second and finish. `$$` is a literal `$` in a formula.
    s.task(
        "forks",
        &format!(
            "actions:\n  - name: fork and wait\n    shell:\n      - >-\n        (while :; do echo \"${{run_id}} grouped\" >> {shared}; sleep 0.05; done) &\n        setsid sh -c 'while :; do echo \"$$0 escaped\" >> {shared}; sleep 0.05; done' \"${{run_id}}\" &\n        if [ -e {first} ]; then sleep 1; else touch {first}; sleep 60; fi\n  - name: pass\n    dummy: {{result: PASS}}\n",
            shared = shared.display(),
            first = first.display(),
        ),
    );
    s.schedule("forks", &["x86_64"]);
    (s, shared)
}

fn start_worker(s: &Setup, name: &str) -> Child {
    s.command(&["worker", "--name", name, "--arch", "x86_64"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until the job runs and both loops have written; returns its build id.
fn running(s: &Setup, shared: &PathBuf) -> String {
    wait_for("the job to start", Duration::from_secs(20), || {
        s.jobs().first().is_some_and(|j| j["state"] == "RUNNING")
    });
    wait_for("both loops to write", Duration::from_secs(20), || {
        let text = std::fs::read_to_string(shared).unwrap_or_default();
        text.contains("grouped") && text.contains("escaped")
    });
    s.jobs()[0]["uuid"].as_str().unwrap().to_string()
}

/// The lines of the shared file as (run id, loop).
fn lines(shared: &PathBuf) -> Vec<(String, String)> {
    std::fs::read_to_string(shared)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(run, what)| (run.to_string(), what.to_string()))
        .collect()
}

/// Nothing grows the shared file any more.
fn quiet(shared: &PathBuf) -> bool {
    let before = std::fs::metadata(shared).map_or(0, |m| m.len());
    std::thread::sleep(Duration::from_millis(300));
    before == std::fs::metadata(shared).map_or(0, |m| m.len())
}

/// Runs the requeued job to its end on a second worker, then checks that the two
/// attempts never wrote at the same time and that nothing of either is left.
fn second_attempt_runs_alone(s: &Setup, shared: &PathBuf, build_id: &str, attempts: u64) {
    s.ok(&["worker", "--once", "--name", "second", "--arch", "x86_64"]);
    let job = &s.jobs()[0];
    assert_eq!(job["state"], "COMPLETED", "{job:#}");
    assert_eq!(job["attempts"], attempts, "{job:#}");
    assert_eq!(job["report"]["execution_status"], "OK", "{job:#}");
    let second = job["report"]["run_id"].as_str().unwrap().to_string();
    let all = lines(shared);
    let start = all
        .iter()
        .position(|(run, _)| *run == second)
        .expect("the second attempt wrote");
    let first: Vec<_> = all[start..]
        .iter()
        .filter(|(run, _)| *run != second)
        .collect();
    assert!(
        first.is_empty(),
        "the first attempt wrote {} lines after the second began: {:?}",
        first.len(),
        first.first()
    );
    assert!(
        leftovers(build_id).is_empty(),
        "processes of the job are left"
    );
    assert!(quiet(shared));
}

#[test]
fn a_killed_workers_job_leaves_no_process_behind() {
    let (s, shared) = forking();
    let mut first = start_worker(&s, "doomed");
    let build_id = running(&s, &shared);
    kill(&mut first);
    // Its `taskotron run` is told (parent-death signal), kills both loops (the
    // escaped one is its adopted orphan) and ends: nothing of the job runs on.
    wait_for(
        "the killed worker's job to end",
        Duration::from_secs(5),
        || leftovers(&build_id).is_empty(),
    );
    assert!(
        quiet(&shared),
        "a loop of the killed worker's job still writes"
    );
    // The lease (1 s) runs out; the next worker runs the job.
    std::thread::sleep(Duration::from_millis(1200));
    second_attempt_runs_alone(&s, &shared, &build_id, 2);
}

#[test]
fn a_stopped_worker_ends_its_job_and_gives_it_back() {
    let (s, shared) = forking();
    let mut first = start_worker(&s, "stopped");
    let build_id = running(&s, &shared);
    signal(&first, libc::SIGTERM);
    let status = {
        let mut status = None;
        wait_for("the stopped worker to end", Duration::from_secs(8), || {
            status = first.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    };
    assert_eq!(status.code(), Some(0), "a stopped worker ends cleanly");
    assert!(
        leftovers(&build_id).is_empty(),
        "processes of the job are left"
    );
    assert!(quiet(&shared));
    // Back in the queue at once, its interrupted attempt not counted.
    let job = &s.jobs()[0];
    assert_eq!(
        (job["state"].as_str(), job["attempts"].as_u64()),
        (Some("SCHEDULED"), Some(0)),
        "{job:#}"
    );
    second_attempt_runs_alone(&s, &shared, &build_id, 1);
}

#[test]
fn a_requeued_attempt_kills_what_the_first_left_before_it_starts() {
    let (s, shared) = forking();
    let mut first = start_worker(&s, "doomed");
    let build_id = running(&s, &shared);
    // The worker and its `taskotron run` die at the same instant, as under the OOM
    // killer: nobody is left to stop the loops, which go on writing.
    let run = leftovers(&build_id)
        .into_iter()
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("taskotron"))
        })
        .expect("the job's taskotron run");
    // SAFETY: kill(2) on a process of this test's worker.
    unsafe {
        libc::kill(i32::try_from(run).unwrap(), libc::SIGKILL);
    }
    kill(&mut first);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !quiet(&shared),
        "the loops outlived both, as this test needs"
    );
    assert!(!leftovers(&build_id).is_empty());
    std::thread::sleep(Duration::from_millis(1000));
    // The second worker finds them by the job's build id and kills them first.
    second_attempt_runs_alone(&s, &shared, &build_id, 2);
}
