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

use crate::util::{cargo, step};

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

/// Runs the matrix (or the part `--task`/`--arch` choose).
pub fn run(args: &[String]) -> Result<()> {
    let flags_ok = args
        .chunks(2)
        .all(|c| c.len() == 2 && (c[0] == "--task" || c[0] == "--arch"));
    if !flags_ok {
        bail!("usage: cargo xtask e2e [--task NAME]... [--arch ARCH]...");
    }
    step("end-to-end matrix", e2e_command(args, &[]))
}

/// Times the matrix: builds first, so only the runs are measured.
pub fn bench(args: &[String]) -> Result<()> {
    let build = e2e_command(args, &["--release", "--no-run"]);
    step("cargo build (tests, release)", build)?;
    let mut bin = cargo();
    bin.args(["build", "--release", "-p", "taskotron-cli"]);
    step("cargo build --release taskotron", bin)?;
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
            let line = line?;
            if let Some(rest) = line.strip_prefix("e2e: ") {
                let mut parts = rest.split_whitespace();
                if let (Some(case), Some(ms)) = (
                    parts.next(),
                    parts.next().and_then(|m| m.parse::<u64>().ok()),
                ) {
                    cases.push((case.to_string(), ms));
                }
            }
        }
    }
    let status = child.wait()?;
    let total = started.elapsed();
    if !status.success() {
        bail!("the e2e matrix failed; run `cargo xtask e2e` to see why");
    }
    println!("\n{:<28} {:>10}", "task@arch", "wall");
    for (case, ms) in &cases {
        println!("{case:<28} {:>7} ms", ms);
    }
    let sum: u64 = cases.iter().map(|(_, ms)| ms).sum();
    println!(
        "{:<28} {:>7} ms",
        format!("{} runs, summed", cases.len()),
        sum
    );
    println!(
        "{:<28} {:>7} ms   (budget {} s: {:.1}% of it; the test binary's own start included)",
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
