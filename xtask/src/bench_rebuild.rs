//! `cargo xtask bench rebuild`: the architecture issue's figure, the incremental
//! `cargo build` of the CLI after a one-line change in the TAP reader, for the
//! current tree and for the last commit before the TAP crate was split out (the
//! reference), measured in the same run on the same machine.
//!
//! Both trees are copies under `target/bench/rebuild/` (the working tree is never
//! edited) built into the workspace's own target directory, so the dependencies
//! compile once and are shared; only the workspace crates of each copy differ.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::bench::ms;
use crate::util::{cargo, root, runs_arg};

/// The last commit before `taskotron-tap` existed: TAP lived in the core crate.
const REFERENCE: &str = "d018ba26cf8069791bc51f7ada249158374550b2";
/// Where the TAP reader's chunk size is, in the reference and in the current tree.
const REFERENCE_FILE: &str = "taskotron-core/src/tap/lines.rs";
const CURRENT_FILE: &str = "taskotron-tap/src/tap/lines.rs";
/// The line the benchmark changes: a private constant, as a one-line fix would.
const PROBE: &str = "const CHUNK: usize = 64 * 1024;";
/// The target: at most half the reference's time.
const TARGET_RATIO: f64 = 0.5;

/// Entry point: `bench rebuild [--runs N]`.
pub fn run(args: &[String]) -> Result<()> {
    let runs = runs_arg(args, 3);
    let base = root().join("target/bench/rebuild");
    let current = copy_current(&base.join("current"))?;
    let reference = copy_reference(&base.join("reference"));
    let cli = ["build", "--quiet", "-p", "taskotron-cli"];
    let current_walls = measure_tree(&current, CURRENT_FILE, runs, &cli)?;
    // The TAP code's own unit tests: its crate now, the whole core before.
    let current_tests = measure_tree(
        &current,
        CURRENT_FILE,
        runs,
        &[
            "test",
            "--quiet",
            "--no-run",
            "-p",
            "taskotron-tap",
            "--lib",
        ],
    )?;
    let reference_walls = match &reference {
        Ok(dir) => Some((
            measure_tree(dir, REFERENCE_FILE, runs, &cli)?,
            measure_tree(
                dir,
                REFERENCE_FILE,
                runs,
                &[
                    "test",
                    "--quiet",
                    "--no-run",
                    "-p",
                    "taskotron-core",
                    "--lib",
                ],
            )?,
        )),
        Err(e) => {
            eprintln!("{:>12} reference commit: {e:#}", "Skipped");
            None
        }
    };
    let cur = median(&current_walls);
    println!("\ntaskotron bench rebuild ({runs} runs, medians; `cargo build -p taskotron-cli` after changing one line of the TAP reader)\n");
    println!("  current tree ({CURRENT_FILE}):   {:>8.0} ms", ms(cur));
    let cur_tests = median(&current_tests);
    match reference_walls {
        Some((walls, tests)) => {
            let r = median(&walls);
            let ratio = cur.as_secs_f64() / r.as_secs_f64();
            println!(
                "  reference {} ({REFERENCE_FILE}): {:>8.0} ms",
                &REFERENCE[..7],
                ms(r)
            );
            println!(
                "  ratio: {ratio:.2} (target at most {TARGET_RATIO:.2}: {})",
                if ratio <= TARGET_RATIO {
                    "met"
                } else {
                    "missed"
                }
            );
            let rt = median(&tests);
            println!(
                "\n  the TAP code's unit tests (`cargo test --no-run`): {:.0} ms (taskotron-tap) vs {:.0} ms (taskotron-core before the split), ratio {:.2}",
                ms(cur_tests),
                ms(rt),
                cur_tests.as_secs_f64() / rt.as_secs_f64()
            );
        }
        None => println!("  reference: not available in this clone (shallow?); no ratio"),
    }
    Ok(())
}

/// The tracked and untracked-but-not-ignored files of the working tree, copied.
fn copy_current(dest: &Path) -> Result<PathBuf> {
    let out = Command::new("git")
        .current_dir(root())
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .context("cannot run git ls-files")?;
    if !out.status.success() {
        bail!("git ls-files failed");
    }
    let _ = std::fs::remove_dir_all(dest);
    for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).context("a file name that is not UTF-8")?;
        let from = root().join(name);
        if !from.is_file() {
            continue; // deleted in the working tree but still in the index
        }
        let to = dest.join(name);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&from, &to).with_context(|| format!("cannot copy {name}"))?;
    }
    Ok(dest.to_path_buf())
}

/// The reference commit, exported with `git archive`.
fn copy_reference(dest: &Path) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(dest);
    std::fs::create_dir_all(dest)?;
    let status = Command::new("sh")
        .current_dir(root())
        .args([
            "-c",
            &format!("git archive {REFERENCE} | tar -x -C \"$1\""),
            "sh",
        ])
        .arg(dest)
        .stderr(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("git archive {REFERENCE} failed");
    }
    Ok(dest.to_path_buf())
}

/// Builds once (not timed), then `runs` times after each change of the probe line.
fn measure_tree(dir: &Path, file: &str, runs: usize, args: &[&str]) -> Result<Vec<Duration>> {
    let path = dir.join(file);
    let original = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if !original.contains(PROBE) {
        bail!(
            "{} no longer has `{PROBE}`; update the benchmark",
            path.display()
        );
    }
    let build = || -> Result<Duration> {
        let mut c = cargo();
        c.current_dir(dir)
            .env("CARGO_TARGET_DIR", root().join("target"))
            .args(args);
        let start = Instant::now();
        let status = c.status().context("cannot run cargo build")?;
        if !status.success() {
            bail!("cargo {} in {} failed", args.join(" "), dir.display());
        }
        Ok(start.elapsed())
    };
    eprintln!(
        "{:>12} {} (first build, not timed)",
        "Building",
        dir.display()
    );
    build()?;
    let mut walls = Vec::with_capacity(runs);
    for i in 1..=runs {
        let changed = original.replace(PROBE, &format!("const CHUNK: usize = 64 * {};", 1024 + i));
        std::fs::write(&path, changed)?;
        walls.push(build()?);
    }
    std::fs::write(&path, original)?;
    Ok(walls)
}

fn median(walls: &[Duration]) -> Duration {
    let mut w = walls.to_vec();
    w.sort();
    w[w.len() / 2]
}
