//! `cargo xtask bench schedule`: the scheduling issue's figure, the embedded queue's
//! overhead per job: 1,000 no-op jobs enqueued and then claimed and finished by 2
//! workers (the `queue_throughput` example, release build; the task left out). For
//! context it also runs the whole path once: 1,000 bus messages through `taskotron
//! trigger` into the queue, and `taskotron worker --once --jobs 2` running a one-action
//! task for each as a child `taskotron run`.

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::util::root;

const JOBS: usize = 1000;
const WORKERS: usize = 2;
const TARGET_MS: f64 = 2.0;

pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 5);
    crate::util::build_release_with("queue_throughput")?;
    let work = root().join("target/bench/schedule");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    let mut per_job = Vec::new();
    let mut last = Value::Null;
    for _ in 0..runs {
        let out = Command::new(root().join("target/release/examples/queue_throughput"))
            .arg(&work)
            .args([JOBS.to_string(), WORKERS.to_string()])
            .output()
            .context("cannot run queue_throughput")?;
        if !out.status.success() {
            bail!(
                "queue_throughput failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v: Value = serde_json::from_slice(&out.stdout)?;
        if v["finished"].as_u64() != Some(JOBS as u64) {
            bail!("not every job finished: {v}");
        }
        let secs = v["enqueue_seconds"].as_f64().unwrap_or(0.0)
            + v["claim_finish_seconds"].as_f64().unwrap_or(0.0);
        per_job.push(secs * 1000.0 / JOBS as f64);
        last = v;
    }
    per_job.sort_by(f64::total_cmp);
    let overhead = per_job[per_job.len() / 2];

    // The whole path, once.
    let bin = root().join("target/release/taskotron");
    let task = work.join("tasks/noop");
    std::fs::create_dir_all(&task)?;
    std::fs::write(
        task.join("runtask.yml"),
        "name: noop\nnamespace: bench\ndesc: does nothing\nmaintainer: bench\ninput:\n  args: [koji_build]\nactions:\n  - name: pass\n    dummy: {result: PASS}\n",
    )?;
    std::fs::write(
        work.join("rules.yml"),
        "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [noop], arches: [x86_64]}]\n",
    )?;
    let mut messages = String::new();
    for n in 0..JOBS {
        let m = json!({"routing_key": "org.fedoraproject.prod.buildsys.build.state.change",
            "properties": {"message_id": format!("bench-{n}")},
            "body": {"new": 1, "name": format!("noop{n}"), "version": "1", "release": "1.fc41"}});
        let _ = writeln!(messages, "{m}");
    }
    std::fs::write(work.join("messages.jsonl"), messages)?;
    std::fs::write(
        work.join("taskotron.yaml"),
        format!(
            "state_dir: {0}/state\nartifacts: {0}/artifacts\ntmpdir: {0}/tmp\ntask_path: [{0}/tasks]\n",
            work.display()
        ),
    )?;
    let cli = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(["-q"])
            .args(args)
            .env("TASKOTRON_CONFIG", work.join("taskotron.yaml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let start = Instant::now();
    let status = cli(&["trigger", "--rules"])
        .arg(work.join("rules.yml"))
        .arg("--from")
        .arg(work.join("messages.jsonl"))
        .status()?;
    let triggered = start.elapsed();
    if !status.success() {
        bail!("taskotron trigger failed ({status})");
    }
    let start = Instant::now();
    let status = cli(&["worker", "--once", "--jobs", "2", "--arch", "x86_64"]).status()?;
    let worked = start.elapsed();
    if !status.success() {
        bail!("taskotron worker failed ({status})");
    }
    let out = cli(&["jobs", "--state", "finished", "--format", "json"])
        .stdout(Stdio::piped())
        .output()?;
    let finished = serde_json::from_slice::<Vec<Value>>(&out.stdout)
        .map(|v| v.len())
        .unwrap_or(0);
    if finished != JOBS {
        bail!("only {finished} of {JOBS} jobs finished");
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let clones = mirror_clones(&bin, &work)?;

    println!("schedule: {JOBS} no-op jobs, {WORKERS} workers, median of {runs}");
    println!(
        "  queue overhead (enqueue, claim, finish; the task left out): {overhead:.3} ms per job  (target {TARGET_MS} ms){}",
        if overhead <= TARGET_MS { "  ok" } else { "  MISSED" }
    );
    println!(
        "    last run: enqueue {:.0} ms, claim and finish {:.0} ms",
        last["enqueue_seconds"].as_f64().unwrap_or(0.0) * 1000.0,
        last["claim_finish_seconds"].as_f64().unwrap_or(0.0) * 1000.0
    );
    println!(
        "  whole path: {JOBS} messages -> trigger -> queue in {:.0} ms; worker --jobs 2 ran them in {:.0} ms ({:.1} ms per job, each a child `taskotron run`)",
        ms(triggered),
        ms(worked),
        ms(worked) / JOBS as f64
    );
    println!(
        "  {MIRRORED} jobs of one task from a git daemon, 2 workers: {clones} request(s) to upstream  (target 1){}",
        if clones == 1 { "  ok" } else { "  MISSED" }
    );
    if overhead > TARGET_MS || clones != 1 {
        bail!("a scheduling target was missed");
    }
    Ok(())
}

const MIRRORED: usize = 100;

/// Runs `MIRRORED` jobs of one task kept in a git repository served by a real `git
/// daemon` on loopback; returns how many times upstream was asked for a pack.
fn mirror_clones(bin: &std::path::Path, work: &std::path::Path) -> Result<usize> {
    let dir = work.join("mirrored");
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("src");
    std::fs::create_dir_all(&src)?;
    std::fs::write(
        src.join("runtask.yml"),
        "name: noop\nnamespace: bench\ndesc: does nothing\nmaintainer: bench\ninput:\n  args: [koji_build]\nactions:\n  - name: pass\n    dummy: {result: PASS}\n",
    )?;
    taskotron_tests::git::publish(&src, &dir.join("repos/noop.git"));
    let log = dir.join("daemon.log");
    let daemon = taskotron_tests::git::GitDaemon::start(&dir.join("repos"), &log)
        .context("cannot start git daemon")?;
    let port = daemon.port();
    std::fs::write(
        dir.join("taskotron.yaml"),
        format!(
            "state_dir: {0}/state\nartifacts: {0}/artifacts\ntmpdir: {0}/tmp\ntasks:\n  noop: git://127.0.0.1:{port}/noop.git#main\n",
            dir.display()
        ),
    )?;
    let cli = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.arg("-q")
            .args(args)
            .env("TASKOTRON_CONFIG", dir.join("taskotron.yaml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    for n in 0..MIRRORED {
        let item = format!("noop{n}-1-1.fc41");
        if !cli(&[
            "schedule",
            "noop",
            "--item",
            &item,
            "--type",
            "koji_build",
            "--arch",
            "x86_64",
        ])
        .status()?
        .success()
        {
            bail!("taskotron schedule failed");
        }
    }
    if !cli(&["worker", "--once", "--jobs", "2", "--arch", "x86_64"])
        .status()?
        .success()
    {
        bail!("taskotron worker failed");
    }
    // The daemon stops when dropped, on every path out.
    Ok(daemon.upload_packs())
}
