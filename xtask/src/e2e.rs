//! `cargo xtask e2e [--arch ARCH]... [--task NAME]...`: the end-to-end matrix
//! (`tests/tests/e2e.rs`): every task with an `e2e` section on every arch it
//! supports, through trigger, queue, worker and runner against the mock services,
//! each compared with its insta snapshot.
//!
//! `cargo xtask bench e2e`: the same matrix, timed per task and arch and in all,
//! against the 60 s budget.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util::{build_cli, cargo, step};

const BUDGET: Duration = Duration::from_secs(60);

fn values(args: &[String], flag: &str) -> Vec<String> {
    args.windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1].clone())
        .collect()
}

/// `cargo test` of the e2e target, narrowed by `--task`/`--arch`; `extra` goes
/// before the target (`--release`, `--no-run`).
fn e2e_command(args: &[String], extra: &[&str]) -> std::process::Command {
    let mut test = cargo();
    test.arg("test")
        .args(extra)
        .args([
            "-p",
            "taskotron-tests",
            "--test",
            "e2e",
            "--",
            "--nocapture",
        ])
        .env("E2E_TASKS", values(args, "--task").join(","))
        .env("E2E_ARCHES", values(args, "--arch").join(","));
    test
}

/// What `cargo xtask e2e` runs, in order: the matrix runs the binary as a user
/// does, so it is built first, whatever was built before (a fresh clone, a release
/// build).
fn plan(args: &[String]) -> Result<Vec<(String, std::process::Command)>> {
    let flags_ok = args
        .chunks(2)
        .all(|c| c.len() == 2 && (c[0] == "--task" || c[0] == "--arch"));
    if !flags_ok {
        bail!("usage: cargo xtask e2e [--task NAME]... [--arch ARCH]...");
    }
    Ok(vec![
        build_cli(false),
        ("end-to-end matrix".into(), e2e_command(args, &[])),
    ])
}

/// Runs the matrix (or the part `--task`/`--arch` choose).
pub fn run(args: &[String]) -> Result<()> {
    for (name, cmd) in plan(args)? {
        step(&name, cmd)?;
    }
    Ok(())
}

/// Times the matrix: builds first, so only the runs are measured.
pub fn bench(args: &[String]) -> Result<()> {
    let build = e2e_command(args, &["--release", "--no-run"]);
    step("cargo build (tests, release)", build)?;
    let (name, build) = build_cli(true);
    step(&name, build)?;
    let mut cmd = e2e_command(args, &["--release"]);
    cmd.env("INSTA_UPDATE", "no")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    eprintln!("{:>12} the e2e matrix", "Timing");
    let started = Instant::now();
    let mut child = cmd.spawn().context("cannot run the e2e matrix")?;
    let mut cases = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            if let Some(case) = line?.strip_prefix("e2e: ").and_then(Case::parse) {
                cases.push(case);
            }
        }
    }
    let status = child.wait()?;
    let total = started.elapsed();
    if !status.success() {
        bail!("the e2e matrix failed; run `cargo xtask e2e` to see why");
    }
    // The reference: the same check run directly, `taskotron run --mock`, with no
    // trigger, queue or worker around it.
    let scratch = std::env::temp_dir().join(format!("taskotron-bench-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    std::fs::write(scratch.join("taskotron.yaml"), "download_cache: false\n")?;
    let binary = crate::util::root().join("target/release/taskotron");
    println!(
        "\n{:<24} {:>10} {:>12} {:>9}",
        "task@arch", "pipeline", "direct run", "ratio"
    );
    let (mut sum, mut sum_direct) = (0u64, 0u64);
    for c in &cases {
        let (task, arch) = c.name.split_once('@').unwrap_or((&c.name, "noarch"));
        let direct = crate::bench::measure(
            std::process::Command::new(&binary)
                .args(["--quiet", "run"])
                .arg(crate::util::root().join("tasks").join(task))
                .args(["-i", &c.item, "-t", &c.item_type, "-a", arch, "--mock"])
                .arg(&c.mock)
                .arg("--artifacts")
                .arg(scratch.join("artifacts"))
                .env("TASKOTRON_CONFIG", scratch.join("taskotron.yaml"))
                .env("TASKOTRON_STATE_DIR", scratch.join("state"))
                .env("TASKOTRON_TMPDIR", scratch.join("tmp")),
        )?;
        if !direct.success {
            bail!(
                "the direct run of {} failed: taskotron run tasks/{task} -i {} --mock {}",
                c.name,
                c.item,
                c.mock
            );
        }
        let direct_ms = direct.wall.as_millis() as u64;
        sum += c.ms;
        sum_direct += direct_ms;
        println!(
            "{:<24} {:>7} ms {:>9} ms {:>8.2}x",
            c.name,
            c.ms,
            direct_ms,
            c.ms as f64 / direct_ms.max(1) as f64
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "{:<24} {:>7} ms {:>9} ms {:>8.2}x",
        format!("{} runs, summed", cases.len()),
        sum,
        sum_direct,
        sum as f64 / sum_direct.max(1) as f64
    );
    println!(
        "{:<24} {:>7} ms   (budget {} s: {:.1}% of it, the test binary's start included)",
        "whole matrix, wall",
        total.as_millis(),
        BUDGET.as_secs(),
        100.0 * total.as_secs_f64() / BUDGET.as_secs_f64()
    );
    if total > BUDGET {
        bail!(
            "the matrix took {:.1} s, over the {} s budget",
            total.as_secs_f64(),
            BUDGET.as_secs()
        );
    }
    Ok(())
}

/// One case's line from the e2e test: `rpmlint@x86_64 542 ms item=... type=... mock=...`.
struct Case {
    name: String,
    ms: u64,
    item: String,
    item_type: String,
    mock: String,
}

impl Case {
    fn parse(line: &str) -> Option<Self> {
        let mut words = line.split_whitespace();
        let name = words.next()?.to_string();
        let ms = words.next()?.parse().ok()?;
        let field = |key: &str| {
            words
                .clone()
                .find_map(|w| w.strip_prefix(key).map(str::to_string))
        };
        Some(Self {
            name,
            ms,
            item: field("item=")?,
            item_type: field("type=")?,
            mock: field("mock=")?,
        })
    }
}

#[cfg(test)]
mod plan_tests {
    use crate::util::argv;

    #[test]
    fn the_binary_is_built_before_the_matrix_runs_it() {
        let args = ["--task".to_string(), "minimal".to_string()];
        let plan = super::plan(&args).unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!(argv(&plan[0].1), ["build", "-p", "taskotron-cli"]);
        let test = argv(&plan[1].1);
        assert_eq!(test[0], "test");
        assert!(!test.contains(&"--release".to_string()));
        assert!(super::plan(&["--bogus".to_string()]).is_err());
    }
}
