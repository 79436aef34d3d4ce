//! Bad input and hostile conditions at the binary's edge: every one ends in a clear
//! message and a documented exit code, never a panic (exit 101 or 134).

use std::process::Output;

mod common;
use common::{stderr, Env};

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

#[test]
fn durations_too_long_for_a_clock_are_refused_where_they_are_written() {
    let env = Env::new();
    env.write(
        "t/runtask.yml",
        "name: t\nactions:\n  - name: a\n    shell: [\"true\"]\n    timeout: 9223372036854775807s\n",
    );
    let task = env.home.path().join("t");
    let task = task.to_str().unwrap();
    for args in [
        vec!["validate", task],
        vec!["run", task, "-i", "htop-3.3.0-1.fc41", "-t", "koji_build"],
    ] {
        let o = env.run(&args);
        let err = stderr(&o, &env);
        assert_eq!(code(&o), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("invalid timeout: too long") && err.contains("runtask.yml:5:14"),
            "{err}"
        );
    }
    // The same in the configuration: the file and line, exit 2, before anything runs.
    for key in ["action_timeout", "download_timeout", "job_timeout"] {
        let config = env.write(
            "taskotron.yaml",
            &format!("python: python3\n{key}: 9223372036854775807s\n"),
        );
        for args in [
            vec![
                "--config",
                config.to_str().unwrap(),
                "run",
                "tasks/nvr-check",
                "-i",
                "htop-3.3.0-1.fc41",
                "-t",
                "koji_build",
            ],
            vec!["--config", config.to_str().unwrap(), "worker", "--once"],
        ] {
            let o = env.run(&args);
            let err = stderr(&o, &env);
            assert_eq!(code(&o), Some(2), "{key} {args:?}: {err}");
            assert!(
                err.contains("too long") && err.contains("taskotron.yaml:2:"),
                "{err}"
            );
        }
    }
}

/// A config whose state lives in the test's home, with a short `queue_wait`.
fn queue_config(env: &Env) -> std::path::PathBuf {
    env.write(
        "taskotron.yaml",
        &format!(
            "state_dir: {0}/state\nartifacts: {0}/artifacts\ntmpdir: {0}/tmp\ntask_path: [{1}/tasks]\nqueue_wait: 2s\n",
            env.home.path().display(),
            common::workspace().display()
        ),
    )
}

/// Holds the queue's write lock from another process (python3's sqlite3) until killed.
fn hold_lock(queue: &std::path::Path) -> std::process::Child {
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked', flush=True)\ntime.sleep(60)\n",
        ])
        .arg(queue)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    child
}

#[test]
fn a_locked_queue_is_waited_for_out_loud_and_not_for_ever() {
    let env = Env::new();
    let config = queue_config(&env);
    let config = config.to_str().unwrap();
    let schedule = [
        "--config",
        config,
        "schedule",
        "nvr-check",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
    ];
    assert_eq!(code(&env.run(&schedule)), Some(0));
    let mut holder = hold_lock(&env.home.path().join("state/queue.sqlite"));
    let started = std::time::Instant::now();
    let o = env.run(&schedule);
    let err = stderr(&o, &env);
    assert_eq!(code(&o), Some(1), "{err}");
    assert!(err.contains("Waiting for the lock on `"), "{err}");
    assert!(err.contains("held its lock for 2s"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // SIGTERM while it waits: it ends at once, having changed nothing.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_taskotron"))
        .args(schedule)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let stopped = std::time::Instant::now();
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(stopped.elapsed() < std::time::Duration::from_secs(2));
    assert!(!status.success());
    let _ = holder.kill();
    let _ = holder.wait();
    // `jobs` lists only the one job scheduled before the lock.
    let o = env.run(&["--config", config, "jobs", "--format", "json"]);
    let jobs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs}");
}

#[test]
fn a_damaged_queue_fails_once_naming_the_file_and_the_way_back() {
    let env = Env::new();
    let config = queue_config(&env);
    let config = config.to_str().unwrap();
    let queue = env.write("state/queue.sqlite", &"not a database at all\n".repeat(200));
    for args in [
        vec!["--config", config, "worker", "--once"],
        vec!["--config", config, "jobs"],
        vec![
            "--config",
            config,
            "schedule",
            "nvr-check",
            "-i",
            "htop-3.3.0-1.fc41",
            "-t",
            "koji_build",
        ],
    ] {
        let started = std::time::Instant::now();
        let o = env.run(&args);
        let err = stderr(&o, &env);
        assert_eq!(code(&o), Some(1), "{args:?}: {err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{args:?}"
        );
        assert_eq!(err.matches("error:").count(), 1, "{args:?}: {err}");
        assert!(err.contains("[HOME]/state/queue.sqlite"), "{err}");
        assert!(
            err.contains("is damaged") && err.contains(".recover"),
            "{err}"
        );
    }
    assert!(queue.exists(), "the damaged file is left for recovery");
}

#[test]
fn jobs_lists_a_queue_in_a_read_only_state_directory() {
    let env = Env::new();
    let config = queue_config(&env);
    let config = config.to_str().unwrap();
    let o = env.run(&["--config", config, "jobs"]);
    assert_eq!(code(&o), Some(0));
    assert!(
        stderr(&o, &env).contains("no jobs in `"),
        "{}",
        stderr(&o, &env)
    );
    let schedule = [
        "--config",
        config,
        "schedule",
        "nvr-check",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
    ];
    assert_eq!(code(&env.run(&schedule)), Some(0));
    // The state directory mounted read-only in a private mount namespace (root or
    // not: `unshare -rm` maps the caller to root inside).
    let state = env.home.path().join("state");
    let script = format!(
        "mount --bind -o ro {0} {0} && mount -o remount,bind,ro {0} && touch {0}/probe 2>/dev/null && echo writable; exec \"$@\"",
        state.display()
    );
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", &script, "sh"])
        .arg(env!("CARGO_BIN_EXE_taskotron"))
        .args(["--color", "never", "--config", config, "jobs"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.home.path())
        .output()
        .unwrap();
    let err = stderr(&o, &env);
    assert_eq!(code(&o), Some(0), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        !out.contains("writable"),
        "the mount is not read-only: {out}"
    );
    assert!(
        out.contains("SCHEDULED") && out.contains("nvr-check"),
        "{out}\n{err}"
    );
}
