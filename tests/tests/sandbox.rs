//! Tasks nobody trusts, as `taskotron run --isolation sandbox` (and a worker) runs
//! them: bubblewrap, its namespaces and the config's limits, against tasks that try
//! to read secrets, write outside their run, reach the network, fork without end,
//! fill the disk, eat memory or leave processes behind. Each is stopped or
//! contained, the run ends with a clear status, and the next run is unaffected.
//!
//! `isolation: none` is tested for what it promises (the environment allow-list)
//! and for what it does not (files the runner's user can read).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use taskotron_tests::workers::{running_with, Setup};

/// `taskotron run` of task `name` of `s` for the usual item, printing its report as
/// JSON, with `args` added.
fn command(s: &Setup, name: &str, args: &[&str]) -> std::process::Command {
    let task = s.dir.path().join("tasks").join(name);
    let mut all = vec![
        "run",
        task.to_str().unwrap(),
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    s.command(&all)
}

/// The report a finished `taskotron run` printed.
fn report_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "no report ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Runs task `name` of `s` with `args`; the report and the process's output.
fn run(s: &Setup, name: &str, args: &[&str]) -> (Value, Output) {
    let o = command(s, name, args).output().unwrap();
    (report_of(&o), o)
}

/// What the run's actions printed, all of them.
fn printed(report: &Value) -> String {
    let dir = PathBuf::from(report["artifacts"].as_str().unwrap()).join("actions");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "stdout" || e == "stderr")
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether this machine can hold a sandbox's processes to a number: as root, only
/// through a cgroup v1 `pids` hierarchy the runner may write (the kernel exempts
/// root from `RLIMIT_NPROC`); as anyone else, through `RLIMIT_NPROC`. README says
/// so; where neither holds, the tests check that the run ends and the next one
/// works, not the count.
fn process_limit_holds() -> bool {
    // SAFETY: geteuid(2) and access(2) have no preconditions; the path is a valid
    // NUL-terminated string.
    unsafe {
        libc::geteuid() != 0
            || libc::access(c"/sys/fs/cgroup/pids/cgroup.procs".as_ptr(), libc::W_OK) == 0
    }
}

/// A shell action of one line per item, each allowed to fail.
fn lines(items: &[String]) -> String {
    let mut text = String::from("actions:\n  - name: probe\n    shell:\n");
    for i in items {
        text.push_str(&format!("      - {}\n", serde_json::to_string(i).unwrap()));
    }
    text
}

fn secrets(s: &Setup) -> (PathBuf, PathBuf) {
    s.configure("resultsdb_password: canary-config-7f3a\n");
    let other = s.dir.path().join("artifacts/an-earlier-run");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("secret.txt"), "canary-other-run\n").unwrap();
    let state = s.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("canary"), "canary-state\n").unwrap();
    (other, state)
}

/// A secret in the config file, in the worker's environment, in the state
/// directory and in another run's artifacts: a sandboxed task reads none of them;
/// without a sandbox, only the environment is kept from it.
#[test]
fn secrets_stay_out_of_reach() {
    let s = Setup::new();
    let (other, state) = secrets(&s);
    let config = s.config();
    s.task(
        "peek",
        &lines(&[
            format!("cat {} || true", config.display()),
            "env".into(),
            format!("cat {}/secret.txt || true", other.display()),
            format!("cat {}/canary || true", state.display()),
            format!("ls {} || true", s.dir.path().display()),
        ]),
    );
    let peek = |isolation: &str| {
        let o = command(&s, "peek", &["--isolation", isolation])
            .env("TASKOTRON_BODHI_TOKEN", "canary-env-token")
            .env("AWS_SECRET_ACCESS_KEY", "canary-env-aws")
            .output()
            .unwrap();
        let report = report_of(&o);
        assert_eq!(report["execution_status"], "OK", "{report}");
        assert_eq!(report["isolation"], isolation, "the report says how it ran");
        printed(&report)
    };
    let sandboxed = peek("sandbox");
    for canary in [
        "canary-config",
        "canary-env",
        "canary-other-run",
        "canary-state",
    ] {
        assert!(!sandboxed.contains(canary), "{canary} leaked:\n{sandboxed}");
    }
    // The directory holding everything shows only the way to the run's own parts.
    for hidden in ["taskotron.yaml", "state"] {
        assert!(
            !sandboxed.lines().any(|l| l == hidden),
            "{hidden} is listed:\n{sandboxed}"
        );
    }
    assert!(
        sandboxed.contains("No such file or directory"),
        "{sandboxed}"
    );
    let plain = peek("none");
    assert!(
        !plain.contains("canary-env"),
        "the allow-list holds in every mode"
    );
    // What `none` does not promise (README says so): files the runner's user can read.
    assert!(plain.contains("canary-config-7f3a") && plain.contains("canary-other-run"));
}

/// A config file kept where the sandbox looks (here in the task directory) is masked
/// all the same.
#[test]
fn a_config_file_in_the_task_is_masked() {
    let s = Setup::new();
    let task = s.dir.path().join("tasks/nosy");
    s.task(
        "nosy",
        &lines(&["cat ./taskotron.yaml || echo masked".into()]),
    );
    let config = task.join("taskotron.yaml");
    std::fs::copy(s.config(), &config).unwrap();
    std::fs::write(
        &config,
        std::fs::read_to_string(&config).unwrap() + "resultsdb_password: canary-in-task\n",
    )
    .unwrap();
    let o = command(&s, "nosy", &["--isolation", "sandbox"])
        .env("TASKOTRON_CONFIG", &config)
        .output()
        .unwrap();
    let out = printed(&report_of(&o));
    assert!(!out.contains("canary-in-task"), "{out}");
}

/// Only the run's own directories take writes: not the task, not `/usr`, not the
/// rest of the machine.
#[test]
fn a_sandbox_writes_only_to_its_run() {
    let s = Setup::new();
    let task = s.dir.path().join("tasks/scribble");
    let outside = s.dir.path().join("outside");
    s.task(
        "scribble",
        &lines(&[
            format!("touch {}/x && echo wrote-task || true", task.display()),
            "touch /usr/x && echo wrote-usr || true".into(),
            // The sandbox's `/tmp` is its own: this lands there, not on the host.
            format!("touch {} && echo wrote-private-tmp || true", outside.display()),
            "touch /etc/x /x && echo wrote-root || true".into(),
            "touch $$TASKOTRON_WORKDIR/w $$TASKOTRON_ARTIFACTSDIR/a $$HOME/h $$TMPDIR/t /tmp/p && echo wrote-own".into(),
        ]),
    );
    let (report, _) = run(&s, "scribble", &["--isolation", "sandbox"]);
    assert_eq!(report["execution_status"], "OK", "{report}");
    let out = printed(&report);
    assert!(out.contains("wrote-own"), "{out}");
    for refused in ["wrote-task", "wrote-usr", "wrote-root"] {
        assert!(!out.contains(refused), "{refused}: {out}");
    }
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(!task.join("x").exists() && !outside.exists() && !Path::new("/usr/x").exists());
    let artifacts = PathBuf::from(report["artifacts"].as_str().unwrap());
    assert!(
        artifacts.join("a").is_file(),
        "the artifacts are the run's to write"
    );
}

/// No network unless the formula asks for it; asking where the config forbids it
/// stops the run before anything runs.
#[test]
fn network_only_when_asked_and_allowed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || for _ in listener.incoming() {});
    let connect = format!(
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 5); print('connected')\" || true"
    );
    let s = Setup::new();
    s.task("offline", &lines(std::slice::from_ref(&connect)));
    s.task(
        "online",
        &format!("environment:\n  network: true\n{}", lines(&[connect])),
    );
    let (report, _) = run(&s, "offline", &["--isolation", "sandbox"]);
    let out = printed(&report);
    assert!(!out.contains("connected"), "{out}");
    assert!(out.contains("Connection refused"), "{out}");
    let (report, _) = run(&s, "online", &["--isolation", "sandbox"]);
    assert!(printed(&report).contains("connected"), "{report}");
    s.configure("allow_network: false\n");
    let (report, o) = run(&s, "online", &["--isolation", "sandbox"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(report["execution_status"], "NOT_OK");
    assert_eq!(report["failure"]["kind"], "NETWORK_FORBIDDEN");
    assert_eq!(report["failure"]["cause"], "task");
    assert!(
        report["status"]
            .as_str()
            .unwrap()
            .contains("`environment.network: true`"),
        "{report}"
    );
    assert_eq!(report["actions"][0]["status"], "skipped", "nothing ran");
}

/// Forking without end, filling the disk, eating memory and leaving a process
/// behind: each is held by the config's limits or the sandbox's PID namespace, and
/// the next run is unaffected.
#[test]
fn runaway_tasks_are_contained() {
    let s = Setup::new();
    s.configure("sandbox_processes: 64\nsandbox_file_size: 10 MiB\nsandbox_memory: 512 MiB\n");
    let marker = format!("taskotron-left-behind-{}", std::process::id());
    s.task(
        "runaway",
        &lines(&[
            // Bounded, so that a machine without the limit is not taken down.
            "python3 -c \"import os, time\nn = 0\nfor i in range(2000):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n    n += 1\nprint('forked', n)\" || true".into(),
            "dd if=/dev/zero of=$$TASKOTRON_WORKDIR/big bs=1M count=50 2>/dev/null; echo dd-exit $$?".into(),
            "python3 -c \"b = bytearray(1024 * 1024 * 1024)\" 2>&1 | tail -1".into(),
            format!("setsid sh -c 'sleep 300' {marker} & echo left"),
        ]),
    );
    s.task(
        "fine",
        "actions:\n  - name: pass\n    dummy: {result: PASS}\n",
    );
    // Many files, each under the file size limit, past what the run may hold.
    s.configure("sandbox_disk: 20 MiB\n");
    s.task(
        "filler",
        &lines(&["for i in $$(seq 80); do head -c 1048576 /dev/zero > $$TASKOTRON_WORKDIR/f$$i; sleep 0.03; done; echo filled".into()]),
    );
    let (report, o) = run(&s, "filler", &["--isolation", "sandbox"]);
    assert_eq!(o.status.code(), Some(1), "{report}");
    assert_eq!(report["execution_status"], "NOT_OK");
    let status = report["status"].as_str().unwrap();
    assert!(
        status.contains("was stopped at a limit of its sandbox")
            && status.contains("more than the 20.0 MiB they may (sandbox_disk)"),
        "{status}"
    );
    assert!(!printed(&report).contains("filled"));
    let (report, _) = run(&s, "runaway", &["--isolation", "sandbox"]);
    assert_eq!(report["execution_status"], "OK", "{report}");
    let out = printed(&report);
    let forked: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("forked "))
        .unwrap_or_else(|| panic!("{out}"))
        .trim()
        .parse()
        .unwrap();
    if process_limit_holds() {
        assert!(
            (1..64).contains(&forked),
            "the process limit held: {forked}"
        );
        assert!(
            out.contains("the sandbox refused to start more than 64 processes"),
            "the action's log says which limit: {out}"
        );
    }
    // SIGXFSZ (25) ended dd at the file size limit.
    assert!(out.contains("dd-exit 153"), "{out}");
    let workdir = std::fs::read_dir(s.dir.path().join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("workdir/big"))
        .find(|p| p.exists());
    if let Some(big) = workdir {
        assert!(std::fs::metadata(big).unwrap().len() <= 10 * 1024 * 1024);
    }
    assert!(out.contains("MemoryError"), "{out}");
    assert!(out.contains("left"));
    assert!(!running_with(&marker), "a process outlived its sandbox");
    let (next, _) = run(&s, "fine", &["--isolation", "sandbox"]);
    assert_eq!(next["execution_status"], "OK", "{next}");
    assert_eq!(next["actions"][0]["status"], "ok", "{next}");
}

/// Without bubblewrap, a sandboxed run does not start unisolated: it stops with
/// `TOOL_MISSING` and says what to install.
#[test]
fn without_bubblewrap_a_sandboxed_run_stops() {
    let s = Setup::new();
    s.task(
        "fine",
        "actions:\n  - name: pass\n    dummy: {result: PASS}\n",
    );
    let bin = s.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).unwrap();
    let o = command(&s, "fine", &["--isolation", "sandbox"])
        .env("PATH", &bin)
        .output()
        .unwrap();
    let report = report_of(&o);
    assert_eq!(report["execution_status"], "NOT_OK");
    assert_eq!(report["failure"]["kind"], "TOOL_MISSING");
    let status = report["status"].as_str().unwrap();
    assert!(
        status.contains("bubblewrap") && status.contains("--isolation none"),
        "{status}"
    );
}

/// A worker runs its jobs in a sandbox unless the config says otherwise, and the
/// report says so; a job that forks without end is held at the process limit and
/// the worker goes on to the next job.
#[test]
fn a_workers_jobs_run_sandboxed() {
    let s = Setup::new();
    s.configure("sandbox_processes: 32\n");
    let (_, state) = secrets(&s);
    s.task(
        "peek",
        &lines(&[format!("cat {}/canary || echo hidden", state.display())]),
    );
    s.task(
        "forks",
        &lines(&["python3 -c \"import os, time\nn = 0\nfor i in range(500):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n    n += 1\nprint('forked', n)\" || true".into()]),
    );
    s.schedule("forks", &[]);
    s.schedule("peek", &[]);
    s.ok(&["worker", "--once", "--name", "w"]);
    let jobs = s.jobs();
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        assert_eq!(job["state"], "COMPLETED", "{job}");
        assert_eq!(job["report"]["isolation"], "sandbox", "{job}");
        assert_eq!(job["report"]["execution_status"], "OK", "{job}");
    }
    let by_task = |t: &str| {
        let job = jobs.iter().find(|j| j["task"] == t).unwrap();
        printed(&job["report"])
    };
    let forks = by_task("forks");
    if process_limit_holds() {
        assert!(
            forks.contains("refused to start more than 32 processes"),
            "{forks}"
        );
    }
    let peek = by_task("peek");
    assert!(
        peek.contains("hidden") && !peek.contains("canary-state"),
        "{peek}"
    );
}
