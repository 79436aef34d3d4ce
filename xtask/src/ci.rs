//! `cargo xtask ci`: everything CI checks, in the order that fails fastest: format,
//! clippy, the workspace's tests (the e2e matrix among them), the tasks' own test
//! cases (`taskotron test`), then the integration tests against real services.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::{bail, Context, Result};

use crate::util::{cargo, step};

/// Runs the format check, clippy and the whole test suite.
pub fn run() -> Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    step("cargo fmt --check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    step("cargo clippy -D warnings", clippy)?;

    // The TLS build of the AMQP consumer is off by default; keep it compiling.
    let mut tls = cargo();
    tls.args([
        "clippy",
        "--package",
        "taskotron-cli",
        "--features",
        "amqp-tls",
        "--",
        "-D",
        "warnings",
    ]);
    step("cargo clippy --features amqp-tls", tls)?;

    // A production build may leave the mock services out; keep it compiling.
    let mut production = cargo();
    production.args([
        "clippy",
        "--package",
        "taskotron-cli",
        "--no-default-features",
        "--features",
        "amqp",
        "--",
        "-D",
        "warnings",
    ]);
    step("cargo clippy (no mock)", production)?;

    // The fuzz targets are a crate of their own, outside the workspace: keep them
    // compiling with the library they fuzz (`cargo xtask fuzz` runs them).
    let mut fuzz = cargo();
    fuzz.args(["check", "--quiet", "--manifest-path", "fuzz/Cargo.toml"]);
    step("cargo check (fuzz targets)", fuzz)?;

    // What the tests need from Debian (GLib's installed tests and xmllint for the
    // suite tests; the services of the integration tests), before any test runs.
    crate::integration::install()?;
    let mut test = cargo();
    // Snapshots are reviewed by people: a missing or changed one fails CI. Every
    // test binary runs, whichever fails: the closing count is the whole suite's.
    test.args(["test", "--workspace", "--no-fail-fast"])
        .env("INSTA_UPDATE", "no");
    let (mut passed, mut failed) = tests(test, "cargo test --workspace")?;
    // The tasks' own test cases, as a task author runs them.
    let mut tasks = cargo();
    tasks
        .args([
            "run",
            "--quiet",
            "-p",
            "taskotron-cli",
            "--",
            "--color",
            "never",
            "test",
        ])
        .env_remove("TASKOTRON_CONFIG");
    let (p, f) = tests(tasks, "taskotron test (tasks/*/tests.yaml)")?;
    passed += p;
    failed += f;
    let (p, f) = crate::integration::run_tests()?;
    passed += p;
    failed += f;
    // One closing line for the whole suite, whatever crate ran last.
    println!("ci: {passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} tests failed");
    }
    eprintln!("{:>12} all checks passed", "Finished");
    Ok(())
}

/// Runs `cargo test`, echoing its output and adding up its `test result:` lines.
pub fn tests(mut cmd: std::process::Command, name: &str) -> Result<(u64, u64)> {
    eprintln!("{:>12} {name}", "Running");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start cargo test")?;
    let (mut passed, mut failed) = (0, 0);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count(rest, " passed");
                failed += count(rest, " failed");
            }
        }
    }
    let status = child.wait()?;
    if !status.success() && failed == 0 {
        bail!("cargo test failed ({status})");
    }
    Ok((passed, failed))
}

/// The number before `label` in `ok. 3 passed; 0 failed; ...`.
fn count(text: &str, label: &str) -> u64 {
    text.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(label.trim_start())
                .map(str::trim)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_result_lines() {
        let line =
            "ok. 47 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 2.00s";
        assert_eq!(super::count(line, " passed"), 47);
        assert_eq!(super::count(line, " failed"), 2);
        assert_eq!(
            super::count("FAILED. 9 passed; 1 failed; 0 ignored", " failed"),
            1
        );
    }
}
