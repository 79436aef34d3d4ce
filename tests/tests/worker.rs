//! Workers as processes: a worker killed with SIGKILL in the middle of a job leaves
//! the job RUNNING until its lease runs out; the next worker requeues and finishes
//! it, and the queue shows it once. The queue file (WAL) survives the kill.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use taskotron_mock::http::Fault;
use taskotron_tests::git::GitDaemon;

use taskotron_tests::workers::{kill, running_with, wait_for, Setup};

#[test]
fn a_job_whose_worker_is_killed_is_requeued_and_finishes_once() {
    let s = Setup::new();
    s.schedule("slow", &["x86_64"]);
    let mut first = s
        .command(&["worker", "--name", "doomed", "--arch", "x86_64"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the job to start", Duration::from_secs(20), || {
        s.jobs().first().is_some_and(|j| j["state"] == "RUNNING")
    });
    let build_id = s.jobs()[0]["uuid"].as_str().unwrap().to_string();
    wait_for("the job's run to start", Duration::from_secs(20), || {
        running_with(&build_id)
    });
    kill(&mut first);
    // Its `taskotron run` (2 s of sleep ahead of it) dies with it: nothing runs the
    // build until it is requeued.
    wait_for(
        "the killed worker's run to end",
        Duration::from_millis(700),
        || !running_with(&build_id),
    );
    assert!(Path::new(&s.queue()).exists());
    let job = &s.jobs()[0];
    assert_eq!(
        (job["state"].as_str(), job["worker"].as_str()),
        (Some("RUNNING"), Some("doomed"))
    );
    // Its lease (1 s) runs out; `--once` waits for nothing, so give it the time first.
    std::thread::sleep(Duration::from_millis(1500));
    s.ok(&["worker", "--once", "--name", "rescuer", "--arch", "x86_64"]);
    let jobs = s.jobs();
    assert_eq!(jobs.len(), 1, "the job shows once");
    let job = &jobs[0];
    assert_eq!(job["state"], "COMPLETED", "{job:#}");
    assert_eq!(job["worker"], "rescuer");
    assert_eq!(job["attempts"], 2);
    assert_eq!(job["report"]["execution_status"], "OK");
    assert_eq!(job["report"]["build_id"], job["uuid"]);
}

#[test]
fn an_unwritable_state_directory_or_a_missing_task_is_a_clear_error() {
    let s = Setup::new();
    let blocked = s.dir.path().join("file");
    std::fs::write(&blocked, "not a directory").unwrap();
    let o = s
        .command(&["worker", "--once"])
        .env("TASKOTRON_STATE_DIR", &blocked)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot create `") && err.contains("state_dir"),
        "{err}"
    );
    // A task configured at a path that is gone: that job crashes, the worker goes on.
    let config = s.dir.path().join("taskotron.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "tasks:\n  gone: {}/nowhere\n",
        s.dir.path().display()
    ));
    std::fs::write(&config, text).unwrap();
    // `schedule` refuses a task it cannot find; a worker's view is what is tested.
    s.ok(&[
        "schedule",
        "gone",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "--allow-unknown",
    ]);
    s.schedule("slow", &[]);
    s.ok(&["worker", "--once"]);
    let jobs = s.jobs();
    assert_eq!(jobs[0]["state"], "CRASHED");
    assert_eq!(jobs[0]["crash"]["cause"], "task");
    assert!(jobs[0]["crash"]["detail"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    assert_eq!(jobs[1]["state"], "COMPLETED");
    // The worker's own scratch space cannot be written: that job crashes with the
    // cause `infrastructure`; the queue and the worker carry on.
    let scratch = s.dir.path().join("state/worker");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::write(&scratch, "in the way").unwrap();
    s.schedule("slow", &[]);
    s.ok(&["worker", "--once"]);
    let job = &s.jobs()[2];
    assert_eq!(
        (job["state"].as_str(), job["crash"]["cause"].as_str()),
        (Some("CRASHED"), Some("infrastructure"))
    );
    assert!(
        job["crash"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("cannot create"),
        "{job:#}"
    );
}

#[test]
fn jobs_of_a_task_in_git_run_from_one_mirror_clone_pinned_to_a_commit() {
    const JOBS: usize = 20;
    let s = Setup::new();
    let root = s.dir.path();
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("runtask.yml"),
        "name: fast\nnamespace: scratch\ndesc: passes\nmaintainer: tests\ninput:\n  args: [koji_build]\nactions:\n  - name: pass\n    dummy: {result: PASS}\n",
    )
    .unwrap();
    let head = taskotron_tests::git::publish(&work, &root.join("repos/fast.git"));
    let daemon = GitDaemon::start(&root.join("repos"), &root.join("daemon.log")).unwrap();
    let config = root.join("taskotron.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "tasks:\n  fast: git://127.0.0.1:{0}/fast.git#main\n  gone: git://127.0.0.1:{0}/gone.git\n  badref: git://127.0.0.1:{0}/fast.git#no-such-branch\n",
        daemon.port()
    ));
    std::fs::write(&config, text).unwrap();
    std::fs::write(
        root.join("rules.yml"),
        "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [fast], arches: [x86_64]}]\n",
    )
    .unwrap();
    let messages: String = (0..JOBS)
        .map(|n| {
            format!(
                "{}\n",
                serde_json::json!({"routing_key": "org.fedoraproject.prod.buildsys.build.state.change",
                    "properties": {"message_id": format!("m-{n}")},
                    "body": {"new": 1, "name": format!("pkg{n}"), "version": "1", "release": "1.fc41"}})
            )
        })
        .collect();
    std::fs::write(root.join("messages.jsonl"), messages).unwrap();
    let o = s
        .command(&["trigger", "--rules"])
        .arg(root.join("rules.yml"))
        .arg("--from")
        .arg(root.join("messages.jsonl"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    s.ok(&["worker", "--once", "--jobs", "2", "--arch", "x86_64"]);
    let jobs = s.jobs();
    assert_eq!(jobs.len(), JOBS);
    for job in &jobs {
        assert_eq!(job["state"], "COMPLETED", "{job:#}");
        assert_eq!(
            job["report"]["task_commit"],
            head.as_str(),
            "pinned to the commit"
        );
    }
    assert_eq!(
        daemon.upload_packs(),
        1,
        "one clone, no fetch within the interval"
    );
    assert_eq!(
        std::fs::read_dir(root.join("state/checkouts")).map_or(0, |d| d.count()),
        0,
        "checkouts are removed after their run"
    );
    // On demand: `taskotron mirror` leaves a fresh mirror alone; `--force` fetches.
    let mirror = |force: bool| {
        let mut args = vec!["mirror", "fast", "--format", "json"];
        if force {
            args.push("--force");
        }
        let o = s.command(&args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
        rows[0]["refresh"].as_str().unwrap().to_string()
    };
    assert_eq!(mirror(false), "fresh");
    assert_eq!(daemon.upload_packs(), 1);
    assert_eq!(mirror(true), "fetched");
    assert_eq!(daemon.upload_packs(), 2);
    let o = s.command(&["mirror", "nosuch"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // A repository upstream does not have, and a ref the repository does not have:
    // each job crashes with its cause, and the worker goes on to the next.
    for task in ["gone", "badref", "fast"] {
        s.schedule(task, &["x86_64"]);
    }
    s.ok(&["worker", "--once", "--arch", "x86_64"]);
    let jobs = s.jobs();
    let last: Vec<(&str, &str, &str)> = jobs[JOBS..]
        .iter()
        .map(|j| {
            (
                j["task"].as_str().unwrap(),
                j["state"].as_str().unwrap(),
                j["crash"]["cause"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        last,
        [
            ("gone", "CRASHED", "infrastructure"),
            ("badref", "CRASHED", "task"),
            ("fast", "COMPLETED", "")
        ]
    );
    assert!(jobs[JOBS]["crash"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("cannot clone"));
    assert!(jobs[JOBS + 1]["crash"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("unknown ref `no-such-branch`"));
}

/// A Koji that drops its first connection: the run stops with `KOJI_UNREACHABLE`
/// (infrastructure), the worker puts the job back, and the next attempt finishes it.
#[test]
fn a_run_stopped_by_the_infrastructure_is_tried_again() {
    let s = Setup::new();
    let koji = taskotron_mock::koji::MockKoji::from_yaml(
        "builds:\n  - {nvr: htop-3.3.0-1.fc41, arches: [x86_64]}\n",
    )
    .unwrap();
    let server = koji.serve().unwrap();
    let task = s.dir.path().join("tasks/fetch");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(
        task.join("runtask.yml"),
        "name: fetch\nnamespace: scratch\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build]\nactions:\n  - name: download\n    koji: {action: download, koji_build: '${koji_build}', arch: x86_64}\n",
    )
    .unwrap();
    let config = s.dir.path().join("taskotron.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "retry_delay: 200ms\ndownload_cache: false\nkoji_url: {0}/kojihub\nkoji_pkgs_url: {0}\n",
        server.url()
    ));
    std::fs::write(&config, text).unwrap();
    server.inject([Fault::Drop]);
    s.schedule("fetch", &["x86_64"]);
    let o = s.ok(&["worker", "--arch", "x86_64", "--once"]);
    let err = String::from_utf8_lossy(&o.stderr);
    // The line says why (issue 24, item 18), and the history says the retry is to
    // come, not that it happened (item 16).
    let retrying = err
        .lines()
        .find(|l| l.contains("Retrying"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        retrying.contains("stopped: KOJI_UNREACHABLE: "),
        "{retrying}"
    );
    let jobs = s.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["state"], "COMPLETED");
    assert_eq!(jobs[0]["attempts"], 2);
    assert_eq!(jobs[0]["report"]["execution_status"], "OK");
    assert_eq!(koji.downloads(), 1, "the x86_64 RPM, once");
}

/// `serve --from FILE --http` is a service: once the file's jobs ran, a job
/// scheduled afterwards still runs, and `serve` ends only at SIGTERM (issue 24,
/// item 8: its workers stopped once the file was read).
#[test]
fn serve_with_pages_keeps_its_workers_after_the_file() {
    use taskotron_tests::workers::{listening, signal};
    let s = Setup::new();
    let dir = s.dir.path();
    s.task(
        "passes",
        "actions:\n  - name: pass\n    shell: [\"true\"]\n",
    );
    std::fs::write(
        dir.join("rules.yml"),
        "- when: {message_type: KojiBuildPackageCompleted}\n  do:\n    - {tasks: [passes], arches: [noarch]}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("messages.jsonl"),
        r#"{"topic": "org.fedoraproject.prod.buildsys.build.state.change", "msg_id": "serve-1", "msg": {"instance": "primary", "name": "htop", "version": "3.3.0", "release": "1.fc41", "new": 1, "build_id": 1, "owner": "a"}}"#
            .to_string()
            + "\n",
    )
    .unwrap();
    let mut serve = s.command(&["serve", "--rules"]);
    serve
        .arg(dir.join("rules.yml"))
        .arg("--from")
        .arg(dir.join("messages.jsonl"))
        .args(["--http", "127.0.0.1:0"])
        .stdout(Stdio::null());
    let (mut child, _addr) = listening(&mut serve);
    wait_for(
        "the file's job to complete",
        Duration::from_secs(30),
        || s.jobs().iter().any(|j| j["state"] == "COMPLETED"),
    );
    // Well after the file was read, a job from elsewhere.
    std::thread::sleep(Duration::from_secs(1));
    s.schedule("passes", &["noarch"]);
    wait_for("the later job to complete", Duration::from_secs(30), || {
        let jobs = s.jobs();
        jobs.len() == 2 && jobs.iter().all(|j| j["state"] == "COMPLETED")
    });
    assert!(child.try_wait().unwrap().is_none(), "serve ended by itself");
    signal(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
