//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use anyhow::Result;

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

    let mut test = cargo();
    // Snapshots are reviewed by people: a missing or changed one fails CI.
    test.args(["test", "--workspace"]).env("INSTA_UPDATE", "no");
    step("cargo test --workspace", test)?;
    eprintln!("{:>12} all checks passed", "Finished");
    Ok(())
}
