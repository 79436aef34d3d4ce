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

/// `taskotron --config CONFIG schedule` of the example task.
fn schedule_args(config: &str) -> [&str; 8] {
    [
        "--config",
        config,
        "schedule",
        "nvr-check",
        "-i",
        "htop-3.3.0-1.fc41",
        "-t",
        "koji_build",
    ]
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
    let schedule = schedule_args(config);
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
        schedule_args(config).to_vec(),
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
    // `mirror` with nothing to mirror says so too.
    let o = env.run(&["--config", config, "mirror"]);
    assert_eq!(code(&o), Some(0));
    assert!(
        stderr(&o, &env).contains("Nothing to mirror"),
        "{}",
        stderr(&o, &env)
    );
    let schedule = schedule_args(config);
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

/// A rules file that runs `rpmlint` for every completed Koji build, and a message of
/// build `n`.
fn trigger_setup(env: &Env) -> (std::path::PathBuf, impl Fn(usize) -> serde_json::Value) {
    let rules = env.write(
        "rules.yml",
        "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n",
    );
    let message = |n: usize| {
        serde_json::json!({"topic": "org.fedoraproject.prod.buildsys.build.state.change", "msg_id": format!("m-{n}"),
            "msg": {"new": 1, "name": format!("pkg{n}"), "version": "1.0", "release": "1.fc41", "instance": "primary"}})
    };
    (rules, message)
}

fn trigger(env: &Env, rules: &std::path::Path, from: &std::path::Path) -> Output {
    env.run(&[
        "trigger",
        "--rules",
        rules.to_str().unwrap(),
        "--from",
        from.to_str().unwrap(),
        "--dry-run",
    ])
}

#[test]
fn recorded_traffic_replays_in_any_layout_and_bad_lines_are_skipped_by_name() {
    let env = Env::new();
    let (rules, message) = trigger_setup(&env);
    // JSON lines with a line that is not UTF-8 in the middle.
    let mut bytes = format!("{}\n", message(1)).into_bytes();
    bytes.extend_from_slice(b"{\"topic\": \"x\", \"msg\": {\"name\": \"\xff\"}}\n");
    bytes.extend_from_slice(format!("{}\n", message(2)).as_bytes());
    let lines = env.home.path().join("lines.jsonl");
    std::fs::write(&lines, bytes).unwrap();
    let o = trigger(&env, &rules, &lines);
    let err = stderr(&o, &env);
    assert_eq!(code(&o), Some(0), "{err}");
    assert!(
        err.contains("message skipped: not UTF-8 (byte 0xff at column 33)"),
        "{err}"
    );
    assert!(err.contains("lines.jsonl:2:1"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("pkg1-1.0-1.fc41") && out.contains("pkg2-1.0-1.fc41"),
        "{out}"
    );
    // Pretty-printed one after another, an array, a datagrepper page: the same jobs.
    let pretty = format!(
        "{}\n{}\n",
        serde_json::to_string_pretty(&message(1)).unwrap(),
        serde_json::to_string_pretty(&message(2)).unwrap()
    );
    let array = serde_json::to_string_pretty(&serde_json::json!([message(1), message(2)])).unwrap();
    let page = serde_json::json!({"arguments": {"page": 1}, "count": 2, "pages": 1, "total": 2,
        "raw_messages": [message(1), message(2)]})
    .to_string();
    for (name, text) in [
        ("pretty.json", pretty),
        ("array.json", array),
        ("page.json", page),
    ] {
        let file = env.write(name, &text);
        let o = trigger(&env, &rules, &file);
        let err = stderr(&o, &env);
        assert_eq!(code(&o), Some(0), "{name}: {err}");
        assert!(err.contains("2 messages: 2 jobs"), "{name}: {err}");
        assert!(!err.contains("warning"), "{name}: {err}");
    }
    // Nothing readable at all: exit 2, the first problem named.
    let junk = env.write("junk.txt", "hello\nworld\n");
    let o = trigger(&env, &rules, &junk);
    let err = stderr(&o, &env);
    assert_eq!(code(&o), Some(2), "{err}");
    assert!(
        err.contains("no message could be read; the first problem: line 1: not JSON"),
        "{err}"
    );
}

#[test]
fn a_field_of_the_wrong_type_never_becomes_an_item() {
    let env = Env::new();
    let (rules, message) = trigger_setup(&env);
    let mut numeric = message(3);
    numeric["msg"]["name"] = serde_json::json!(12345);
    let mut huge = message(4);
    huge["msg"]["name"] = serde_json::json!("a".repeat(5 << 20));
    let file = env.write("m.jsonl", &format!("{numeric}\n{huge}\n{}\n", message(5)));
    let o = trigger(&env, &rules, &file);
    let err = stderr(&o, &env);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), Some(0), "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("pkg5-1.0-1.fc41"), "{out}");
    assert!(err.contains("`name` is a number, not a string"), "{err}");
    assert!(err.contains("`name` is 5242880 bytes long"), "{err}");
    assert!(err.len() < 10_000, "the 5 MB name is not echoed");
}

#[test]
fn a_trigger_reading_stdin_ends_on_sigterm_and_sigint() {
    let env = Env::new();
    let (rules, message) = trigger_setup(&env);
    for (signal, number) in [(libc::SIGTERM, 15), (libc::SIGINT, 2)] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_taskotron"))
            .args(["--color", "never", "trigger", "--rules"])
            .arg(&rules)
            .args(["--from", "-", "--dry-run"])
            .env("HOME", env.home.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Standard input stays open: the trigger waits for a line that never comes.
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, format!("{}\n", message(1)).as_bytes()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(i32::try_from(child.id()).unwrap(), signal) };
        let started = std::time::Instant::now();
        let o = child.wait_with_output().unwrap();
        drop(stdin);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(
            err.contains(&format!("Stopped by signal {number}")),
            "{err}"
        );
        assert!(String::from_utf8_lossy(&o.stdout).contains("pkg1-1.0-1.fc41"));
    }
}

#[test]
fn huge_and_undecodable_formulas_get_short_exact_messages() {
    let env = Env::new();
    // Megabytes on one line: the excerpt is a window, not the line (the issue saw
    // 107 MB of stderr for 53 MB; the size does not change the behaviour).
    let value = "a".repeat(8 << 20);
    env.write(
        "oneline/runtask.yml",
        &format!(
            "{{name: t, actions: [{{name: a, dummy: {{result: PASS}}}}], bogus: \"{value}\"}}\n"
        ),
    );
    let o = env.run(&[
        "validate",
        env.home.path().join("oneline").to_str().unwrap(),
    ]);
    let err = stderr(&o, &env);
    assert_eq!(code(&o), Some(2));
    assert!(err.len() < 4096, "{} bytes of diagnostics", err.len());
    assert!(
        err.contains("unknown key `bogus`") && err.contains("runtask.yml:1:56"),
        "{err}"
    );
    // Large without a single alias: not told about aliases.
    let mut big = String::from("name: t\nactions:\n");
    for n in 0..120_000 {
        big.push_str(&format!("  - {{name: a{n}, dummy: {{result: PASS}}}}\n"));
    }
    env.write("big/runtask.yml", &big);
    let o = env.run(&["validate", env.home.path().join("big").to_str().unwrap()]);
    let err = stderr(&o, &env);
    assert_eq!(code(&o), Some(2));
    assert!(
        err.contains("a formula is far smaller") && !err.contains("alias"),
        "{err}"
    );
    // Not UTF-8: where the bad byte is.
    let dir = env.home.path().join("latin1");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("runtask.yml"),
        b"name: t\ndesc: caf\xe9\nactions: []\n",
    )
    .unwrap();
    let o = env.run(&["validate", dir.to_str().unwrap()]);
    let err = stderr(&o, &env);
    assert_eq!(code(&o), Some(2));
    assert!(
        err.contains("not UTF-8: byte 0xe9") && err.contains("runtask.yml:2:10"),
        "{err}"
    );
}
