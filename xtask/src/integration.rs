//! `cargo xtask integration`: the tests that need real services. It installs what
//! they need with apt-get when it is missing (RabbitMQ now), then runs the ignored
//! tests of `tests/` that use them; each test starts its own private service on
//! 127.0.0.1 and stops it.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::ci::tests;
use crate::util::cargo;

/// Debian packages the integration tests need, with a file that shows each is there.
const PACKAGES: &[(&str, &str)] = &[("rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server")];

/// The test targets that use real services.
const TARGETS: &[&str] = &["amqp"];

/// Installs the packages that are missing (needs root, as CI is).
pub fn install() -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(p, _)| *p)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("{:>12} {}", "Installing", missing.join(" "));
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "the integration tests need {}; install them (`sudo apt-get install {}`) or run as root",
            missing.join(", "),
            missing.join(" ")
        );
    }
    let run = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("apt-get {} failed ({status})", args.join(" "));
        }
        Ok(())
    };
    run(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    run(&args)
}

/// Installs what is missing and runs the integration tests; returns (passed, failed).
pub fn run_tests() -> Result<(u64, u64)> {
    install()?;
    let mut test = cargo();
    test.args(["test", "--package", "taskotron-tests"]);
    for t in TARGETS {
        test.args(["--test", t]);
    }
    test.args(["--", "--ignored"]).env("INSTA_UPDATE", "no");
    tests(test, "cargo test (integration, real services)")
}

/// `cargo xtask integration`.
pub fn run() -> Result<()> {
    let (passed, failed) = run_tests()?;
    println!("integration: {passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} integration tests failed");
    }
    Ok(())
}
