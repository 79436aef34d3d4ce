//! `cargo xtask bench rebuild`: the architecture issue's figures, the incremental
//! `cargo build` of the CLI after a one-line change in a leaf reader crate (the TAP
//! reader) and after one in the run crate (the runner), for the current tree and
//! for the tree before the core crate was split along the pipeline (the
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

/// The last commit before the core crate was split along the pipeline (config,
/// process, queue and trigger still in `taskotron-core`).
const REFERENCE: &str = "685e9fa";
/// The target: at most half the reference's time.
const TARGET_RATIO: f64 = 0.5;

/// A one-line change the benchmark makes: a private constant, as a one-line fix
/// would change, in the same file of both trees.
struct Probe {
    /// What the change is in.
    what: &'static str,
    /// The file, relative to the tree.
    file: &'static str,
    /// The line as it is.
    line: &'static str,
    /// The line with a changed value, for the `i`th run.
    changed: fn(usize) -> String,
}

const PROBES: &[Probe] = &[
    Probe {
        what: "a leaf reader (taskotron-tap)",
        file: "taskotron-tap/src/tap/lines.rs",
        line: "const CHUNK: usize = 64 * 1024;",
        changed: |i| format!("const CHUNK: usize = 64 * {};", 1024 + i),
    },
    Probe {
        what: "the run crate (the runner)",
        file: "taskotron-core/src/runner.rs",
        line: "const TEE_LIMIT: u64 = 1024 * 1024;",
        changed: |i| format!("const TEE_LIMIT: u64 = 1024 * {};", 1024 + i),
    },
];

/// Entry point: `bench rebuild [--runs N]`.
pub fn run(args: &[String]) -> Result<()> {
    let runs = runs_arg(args, 3);
    let base = root().join("target/bench/rebuild");
    let current = copy_current(&base.join("current"))?;
    let reference = copy_reference(&base.join("reference"));
    let cli = ["build", "--quiet", "-p", "taskotron-cli"];
    let mut rows = Vec::new();
    for probe in PROBES {
        let cur = median(&measure_tree(&current, probe, runs, &cli)?);
        let reference = match &reference {
            Ok(dir) => Some(median(&measure_tree(dir, probe, runs, &cli)?)),
            Err(_) => None,
        };
        rows.push((probe, cur, reference));
    }
    if let Err(e) = &reference {
        eprintln!("{:>12} reference commit: {e:#}", "Skipped");
    }
    println!(
        "\ntaskotron bench rebuild ({runs} runs, medians; `cargo build -p taskotron-cli` after changing one line)\n"
    );
    let mut missed = Vec::new();
    for (probe, cur, reference) in rows {
        println!("  a change in {} ({}):", probe.what, probe.file);
        println!("    current tree:        {:>8.0} ms", ms(cur));
        match reference {
            Some(r) => {
                let ratio = cur.as_secs_f64() / r.as_secs_f64();
                println!("    reference {REFERENCE}:   {:>8.0} ms", ms(r));
                let met = ratio <= TARGET_RATIO;
                println!(
                    "    ratio: {ratio:.2} (target at most {TARGET_RATIO:.2}: {})",
                    if met { "met" } else { "missed" }
                );
                if !met {
                    missed.push(probe.what);
                }
            }
            None => println!("    reference: not available in this clone (shallow?); no ratio"),
        }
    }
    if !missed.is_empty() {
        println!("\n  missed: {}", missed.join(", "));
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
fn measure_tree(dir: &Path, probe: &Probe, runs: usize, args: &[&str]) -> Result<Vec<Duration>> {
    let path = dir.join(probe.file);
    let original = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if !original.contains(probe.line) {
        bail!(
            "{} no longer has `{}`; update the benchmark",
            path.display(),
            probe.line
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
        std::fs::write(&path, original.replace(probe.line, &(probe.changed)(i)))?;
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
