//! `cargo xtask bench tmt`: listing a 300-test fmf tree (inheritance, adjust
//! rules) with `taskotron tests ls|export` against `tmt tests ls|export` (tmt
//! 1.80 from PyPI, in `target/tmt-venv`), measured in the same run.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result};

use crate::bench::{median_rss, median_wall, ms, repeat};
use crate::util::{cargo, root, step};

/// At least this many times faster than tmt, at most this much memory.
const RATIO_TARGET: f64 = 100.0;
/// `run` of a plan of 50 shell tests: at least this many times faster than
/// `tmt run -a provision -h local`, with the same results.
const RUN_RATIO_TARGET: f64 = 5.0;
const RUN_TESTS: usize = 50;
const RSS_TARGET_KIB: u64 = 16 * 1024;
const TESTS: usize = 300;

pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 11);
    let mut build = cargo();
    build.args(["build", "--release", "--quiet", "-p", "taskotron-cli"]);
    step("cargo build --release", build)?;
    crate::integration::install_tmt()?;
    let bin = root().join("target/release/taskotron");
    let tmt = root().join("target/tmt-venv/bin/tmt");
    let tree = root().join("target/bench/fmf-300");
    let _ = std::fs::remove_dir_all(&tree);
    taskotron_tests::fmf::generated_tree(&tree, TESTS, 7);

    let ours = |what: &'static str, tree: &Path| {
        let (bin, tree) = (bin.clone(), tree.to_path_buf());
        move || {
            let mut c = Command::new(&bin);
            c.args(["tests", what, "-c", "distro=fedora-41", "--root"])
                .arg(&tree);
            c
        }
    };
    let theirs = |what: &'static str, tree: &Path| {
        let (tmt, tree) = (tmt.clone(), tree.to_path_buf());
        move || {
            let mut c = Command::new(&tmt);
            c.args(["-c", "distro=fedora-41", "tests", what])
                .current_dir(&tree);
            c
        }
    };
    let mut report = String::new();
    let mut failed = Vec::new();
    for what in ["ls", "export"] {
        let o = repeat(runs, 1, ours(what, &tree))?;
        let t = repeat(runs.min(5), 0, theirs(what, &tree))?;
        let (ow, tw) = (median_wall(&o), median_wall(&t));
        let ratio = tw.as_secs_f64() / ow.as_secs_f64();
        let rss = median_rss(&o);
        writeln!(
            report,
            "tests {what:<6} {TESTS} tests: taskotron {:>7.1} ms {:>6} KiB | tmt {:>7.1} ms {:>6} KiB | {ratio:>6.1}x faster (target >= {RATIO_TARGET}x, <= {} KiB)",
            ms(ow),
            rss,
            ms(tw),
            median_rss(&t),
            RSS_TARGET_KIB
        )?;
        if ratio < RATIO_TARGET || rss > RSS_TARGET_KIB || o.iter().chain(&t).any(|s| !s.success) {
            failed.push(what);
        }
    }
    // A plan of 50 shell tests, run by both.
    let plan = root().join("target/bench/fmf-run50");
    let _ = std::fs::remove_dir_all(&plan);
    std::fs::create_dir_all(plan.join(".fmf"))?;
    std::fs::write(plan.join(".fmf/version"), "1\n")?;
    std::fs::write(
        plan.join("plans.fmf"),
        "discover:\n  how: fmf\nprovision:\n  how: local\nexecute:\n  how: tmt\n",
    )?;
    let mut tests = String::new();
    for i in 0..RUN_TESTS {
        let test = if i % 10 == 9 {
            "echo failing; exit 1"
        } else {
            "echo passing"
        };
        writeln!(tests, "/t{i:02}:\n  test: {test}")?;
    }
    std::fs::write(plan.join("tests.fmf"), tests)?;
    let work = root().join("target/bench/fmf-run50-out");
    let ours_run = {
        let (bin, plan, work) = (bin.clone(), plan.clone(), work.clone());
        move || {
            let _ = std::fs::remove_dir_all(&work);
            let mut c = Command::new(&bin);
            c.args(["-q", "run"])
                .arg(&plan)
                .args([
                    "-i",
                    "bench-1.0-1.fc41",
                    "-t",
                    "koji_build",
                    "-a",
                    "x86_64",
                    "--artifacts",
                ])
                .arg(work.join("artifacts"))
                .env("TASKOTRON_TMPDIR", work.join("tmp"));
            c
        }
    };
    let tmt_work = root().join("target/bench/fmf-run50-tmt");
    let theirs_run = {
        let (tmt, plan, tmt_work) = (tmt.clone(), plan.clone(), tmt_work.clone());
        move || {
            let _ = std::fs::remove_dir_all(&tmt_work);
            let mut c = Command::new(&tmt);
            c.args(["--feeling-safe", "-c", "distro=fedora-41", "run", "-i"])
                .arg(&tmt_work)
                .args(["-a", "provision", "-h", "local"])
                .current_dir(&plan);
            c
        }
    };
    let o = repeat(runs.min(5), 1, ours_run)?;
    let t = repeat(3, 0, theirs_run)?;
    let (ow, tw) = (median_wall(&o), median_wall(&t));
    let ratio = tw.as_secs_f64() / ow.as_secs_f64();
    // The same results: tmt's and ours, test by test.
    let results = |file: &Path| -> Result<Vec<(String, String)>> {
        let text = std::fs::read_to_string(file)?;
        let mut out = Vec::new();
        let mut name = String::new();
        for line in text.lines() {
            if let Some(n) = line.trim_start_matches("- ").trim().strip_prefix("name: ") {
                if line.starts_with("  name:") || line.starts_with("- name:") {
                    name = n.to_string();
                }
            }
            if let Some(r) = line
                .strip_prefix("  result: ")
                .or_else(|| line.strip_prefix("- result: "))
            {
                out.push((name.clone(), r.to_string()));
            }
        }
        out.sort();
        Ok(out)
    };
    let ours_dir = std::fs::read_dir(work.join("artifacts"))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .context("no run directory")?;
    let mine = results(&ours_dir.join("tmt/plans/execute/results.yaml"))?;
    let theirs = results(&tmt_work.join("plans/execute/results.yaml"))?;
    let same = mine == theirs && mine.len() == RUN_TESTS;
    writeln!(
        report,
        "run    {RUN_TESTS} shell tests: taskotron {:>7.1} ms {:>6} KiB | tmt {:>7.1} ms {:>6} KiB | {ratio:>6.1}x faster (target >= {RUN_RATIO_TARGET}x) | same results: {same}",
        ms(ow),
        median_rss(&o),
        ms(tw),
        median_rss(&t),
    )?;
    if ratio < RUN_RATIO_TARGET || !same {
        failed.push("run");
    }
    print!("{report}");
    if failed.is_empty() {
        println!("bench tmt: all targets met");
        Ok(())
    } else {
        anyhow::bail!("bench tmt: targets missed for {}", failed.join(", "))
    }
}
