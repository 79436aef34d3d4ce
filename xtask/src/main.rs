//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask ci`: format check, clippy with `-D warnings`, the whole test suite,
//!   then `integration`.
//! - `cargo xtask e2e`: every task on every arch through the whole pipeline, snapshotted.
//! - `cargo xtask integration`: installs the real services the integration tests need
//!   (apt-get) and runs those tests.
//! - `cargo xtask bench runner`: the runner's speed and memory figures against tmt.
//! - `cargo xtask bench tap`: the TAP parser's figures against Perl's TAP::Parser.
//! - `cargo xtask bench report`: ResultsDB reporting throughput against resultsdb-api.
//! - `cargo xtask bench trigger`: messages/s through 50 rules, against json + mongoquery.
//! - `cargo xtask bench schedule`: the embedded queue's overhead per job.
//! - `cargo xtask bench web`, `bench rebuild`, `bench isolation`: the web pages, the
//!   incremental rebuild and the sandbox's overhead against their references.
//! - `cargo xtask release`: the release build and what ships with it, checksummed.
//! - `cargo xtask fuzz [TARGET] [--seconds N]`: the fuzz targets under `fuzz/`.

mod bench;
mod bench_gating;
mod bench_isolation;
mod bench_playbooks;
mod bench_rebuild;
mod bench_report;
mod bench_schedule;
mod bench_tap;
mod bench_tmt;
mod bench_trigger;
mod bench_web;
mod ci;
mod docs;
mod e2e;
mod fuzz;
mod integration;
mod release;
mod util;

use anyhow::{bail, Result};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci                          fmt --check, clippy -D warnings, cargo test --workspace,
                              then integration
  e2e [--task T]... [--arch A]...
                              every task on every arch it supports through trigger,
                              queue, worker and runner against the mocks; insta
                              snapshots in tests/tests/snapshots/e2e@<task>@<arch>.snap
  integration                 install RabbitMQ (apt-get) if missing and run the tests
                              against real services, each on its own loopback node
  bench runner [--runs N]     median wall time and peak RSS of `taskotron run` and
                              `taskotron validate`, with tmt measured in the same run
  bench tap [--runs N]        TAP parsing of 200,000 test points (and ten times that),
                              with Perl's TAP::Parser and the I/O floor in the same run
  bench report [--runs N]     2,000 results to the mock ResultsDB, against the official
                              Python client in the same run
  bench trigger [--runs N]    200,000 messages through 50 rules, in process and from a
                              file to --dry-run, against Python json + mongoquery
  bench e2e [--task T]...     the e2e matrix timed per task and arch, against its 60 s
                              budget
  bench schedule [--runs N]   the embedded queue's overhead per job (1,000 jobs, 2
                              workers), and the whole trigger -> queue -> worker path
  bench isolation [--runs N]  `taskotron run` of a one-process task with --isolation
                              none and sandbox, alternated: the sandbox's overhead
  bench web [--runs N]        the pages and APIs of `taskotron web` on 100,000 jobs,
                              against the same queries on the state database
  bench tmt [--runs N]        `taskotron tests ls|export` and `run` on fmf trees, with
                              tmt 1.80 measured in the same run
  bench playbooks [--runs N]  a one-task playbook through `taskotron run` (none and
                              sandbox) against ansible-playbook alone
  bench rebuild [--runs N]    the CLI's incremental rebuild after a one-line change of
                              the TAP crate and of the runner, against the tree before
                              the core crate was split along the pipeline
  docs                        render the book in docs/ with mdBook into target/book
                              (installs mdBook into target/tools when missing)
  release                     release build, completions and man pages from the CLI
                              definition, a tarball and SHA256SUMS in target/dist;
                              refuses unless CHANGELOG.md has the version's section
  fuzz [TARGET] [--seconds N] run the fuzz targets (needs cargo-fuzz; nightly features
                              are enabled with RUSTC_BOOTSTRAP)";

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("integration") => integration::run(),
        Some("e2e") => e2e::run(rest),
        Some("bench") => bench::run(rest),
        Some("fuzz") => fuzz::run(rest),
        Some("release") => release::run(rest),
        Some("docs") => docs::run(),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}
