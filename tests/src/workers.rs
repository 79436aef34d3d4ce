//! Workers as processes: a private state directory, a task path with a slow task, and
//! the `taskotron` binary run against them, for the tests that schedule jobs, start
//! and kill workers, and read the queue back.

use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A private configuration: state, artifacts and scratch under one temporary
/// directory, `tasks/` on the task path with `slow` (two seconds of sleep, then a
/// pass), a one-second lease and three attempts.
pub struct Setup {
    /// The directory everything lives in.
    pub dir: tempfile::TempDir,
}

impl Default for Setup {
    fn default() -> Self {
        Self::new()
    }
}

impl Setup {
    /// A fresh setup.
    ///
    /// # Panics
    /// The temporary directory cannot be written.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let setup = Self { dir };
        setup.task(
            "slow",
            "actions:\n  - name: wait\n    shell:\n      - sleep 2\n  - name: pass\n    dummy: {result: PASS}\n",
        );
        std::fs::write(
            setup.config(),
            format!(
                "state_dir: {0}/state\nartifacts: {0}/artifacts\ntmpdir: {0}/tmp\ntask_path: [{0}/tasks]\nworker_lease: 1s\nmax_attempts: 3\n",
                setup.dir.path().display()
            ),
        )
        .unwrap();
        setup
    }

    /// The configuration file.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("taskotron.yaml")
    }

    /// Adds lines to the configuration.
    ///
    /// # Panics
    /// The file cannot be written.
    pub fn configure(&self, lines: &str) {
        let mut text = std::fs::read_to_string(self.config()).unwrap();
        text.push_str(lines);
        std::fs::write(self.config(), text).unwrap();
    }

    /// Writes task `name` (a koji_build task) with these `actions:` lines.
    ///
    /// # Panics
    /// The file cannot be written.
    pub fn task(&self, name: &str, actions: &str) {
        let task = self.dir.path().join("tasks").join(name);
        std::fs::create_dir_all(&task).unwrap();
        std::fs::write(
            task.join("runtask.yml"),
            format!("name: {name}\nnamespace: scratch\ndesc: a test task\nmaintainer: tests\ninput:\n  args: [koji_build]\n{actions}"),
        )
        .unwrap();
    }

    /// `taskotron args` against this setup's configuration.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(crate::bin::taskotron());
        c.args(["--color", "never"])
            .args(args)
            .env("TASKOTRON_CONFIG", self.config())
            .env_remove("TASKOTRON_STATE_DIR")
            .env_remove("TASKOTRON_ARTIFACTS");
        c
    }

    /// Runs `taskotron args`, which must succeed.
    ///
    /// # Panics
    /// It did not.
    pub fn ok(&self, args: &[&str]) -> Output {
        let o = self.command(args).output().unwrap();
        assert!(
            o.status.success(),
            "taskotron {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    /// Schedules `task` for the usual item, on `arches` (noarch when none).
    pub fn schedule(&self, task: &str, arches: &[&str]) {
        let mut args = vec![
            "schedule",
            task,
            "-i",
            "htop-3.3.0-1.fc41",
            "-t",
            "koji_build",
        ];
        for a in arches {
            args.extend(["-a", a]);
        }
        self.ok(&args);
    }

    /// The queue, as `taskotron jobs --format json` prints it.
    ///
    /// # Panics
    /// `jobs` failed.
    pub fn jobs(&self) -> Vec<Value> {
        let o = self
            .command(&["jobs", "--format", "json"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    /// The queue's file.
    pub fn queue(&self) -> PathBuf {
        self.dir.path().join("state/queue.sqlite")
    }
}

/// Whether a process whose command line holds `text` is running.
pub fn running_with(text: &str) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .any(|cmd| String::from_utf8_lossy(&cmd).contains(text))
}

/// Sends `signal` to a child of the test.
pub fn signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) on our own child, which we have not reaped.
    unsafe {
        libc::kill(i32::try_from(child.id()).unwrap(), signal);
    }
}

/// Kills a child of the test with SIGKILL and reaps it.
pub fn kill(child: &mut Child) {
    signal(child, libc::SIGKILL);
    let _ = child.wait();
}

/// Waits until `done`, polling, for at most `limit`.
///
/// # Panics
/// The limit passed.
pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `command` (`serve --http` or `web --http` on port 0) and reads the
/// address it says it serves on from its stderr, which is drained after.
pub fn listening(command: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = command
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("it says where it serves").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}
