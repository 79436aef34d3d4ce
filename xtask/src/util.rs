//! Helpers for running commands and finding the workspace.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The workspace root.
pub fn root() -> PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR for the program too: the checkout that
    // ran it, even when its binary was built by another checkout sharing the
    // target directory (the compile-time value would name that one).
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// `cargo`, as the one running us.
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

/// The value of `--runs N`, at least 3, or `default`.
pub fn runs_arg(args: &[String], default: usize) -> usize {
    args.iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
        .max(3)
}

/// Runs `cmd`, echoing it as a status line; fails on a non-zero exit.
pub fn step(name: &str, mut cmd: Command) -> Result<()> {
    eprintln!("{:>12} {name}", "Running");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {name}"))?;
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

/// The Python of the benchmarks' venv (`target/bench-venv`) once `module` imports
/// there, installing `package` from PyPI (and the venv) on first use; `None` when that
/// fails, so a benchmark can still print its own figures without the reference.
pub fn bench_python(module: &str, package: &str) -> Option<PathBuf> {
    let venv = root().join("target/bench-venv");
    let python = venv.join("bin/python");
    let has = |p: &std::path::Path| {
        Command::new(p)
            .args(["-c", &format!("import {module}")])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has(&python) {
        return Some(python);
    }
    eprintln!(
        "{:>12} {package} into target/bench-venv (once)",
        "Installing"
    );
    let ok = (python.exists()
        || Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success()))
        && Command::new(venv.join("bin/pip"))
            .args(["install", "-q", package])
            .status()
            .is_ok_and(|s| s.success());
    (ok && has(&python)).then_some(python)
}

/// The command that builds the `taskotron` binary the process-level tests run (they
/// find it beside their own executable, and cargo builds another package's binaries
/// only when told), with its name for the status line.
pub fn build_cli(release: bool) -> (String, Command) {
    let mut build = cargo();
    build.args(["build", "-p", "taskotron-cli"]);
    let mut name = "cargo build -p taskotron-cli".to_string();
    if release {
        build.arg("--release");
        name.push_str(" --release");
    }
    (name, build)
}

/// Every argument of `cmd`, for tests of what a task would run.
#[cfg(test)]
pub fn argv(cmd: &Command) -> Vec<String> {
    cmd.get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// Builds the release `taskotron` and, from taskotron-core, the example `example`
/// (a benchmark's in-process driver).
pub fn build_release_with(example: &str) -> Result<()> {
    build_release_with_example("taskotron-core", example)
}

/// Builds the release `taskotron` and the example `example` of `package`.
pub fn build_release_with_example(package: &str, example: &str) -> Result<()> {
    let mut build = cargo();
    build.args(["build", "--release", "--quiet", "-p", "taskotron-cli"]);
    step("cargo build --release", build)?;
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--quiet",
        "-p",
        package,
        "--example",
        example,
    ]);
    step(&format!("cargo build --release --example {example}"), build)
}
