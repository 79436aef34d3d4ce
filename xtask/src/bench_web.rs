//! `cargo xtask bench web`: the web issue's figures. With 100,000 jobs in the state
//! database (and as many results in the embedded results store), `taskotron web`
//! (release build) answers `/`, a job page, the API's item filter and /api/v2.0's over
//! loopback; the same reads made on the database directly are the
//! reference, measured in the same run (the `web_bench` example of taskotron-web).

use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::util::root;

const JOBS: usize = 100_000;
const TARGET_MS: f64 = 20.0;

/// Entry point: `bench web [--runs N]`.
pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 200);
    crate::util::build_release_with_example("taskotron-web", "web_bench")?;
    let out = Command::new(root().join("target/release/examples/web_bench"))
        .arg(root().join("target/bench/web"))
        .arg(root().join("target/release/taskotron"))
        .args([JOBS.to_string(), runs.to_string()])
        .output()
        .context("cannot run web_bench")?;
    if !out.status.success() {
        bail!("web_bench failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "\ntaskotron bench web ({JOBS} jobs in the state database, built in {:.1} s; {runs} requests each, medians; loopback, `taskotron web` release build)\n",
        f("build_seconds")
    );
    println!(
        "  {:<34} {:>9} {:>12} {:>7} {:>8}",
        "", "HTTP", "database", "ratio", "target"
    );
    for (name, http, direct, target) in [
        (
            "/ (the newest 50 jobs)",
            "list_ms",
            "direct_list_ms",
            Some(TARGET_MS),
        ),
        (
            "/jobs/<uuid> (job and history)",
            "job_ms",
            "direct_job_ms",
            Some(TARGET_MS),
        ),
        ("/api/v1/jobs?item=X", "api_item_ms", "direct_item_ms", None),
        (
            "/api/v2.0/results?item=X",
            "results_item_ms",
            "direct_results_ms",
            None,
        ),
    ] {
        let (h, d) = (f(http), f(direct));
        let verdict = match target {
            Some(t) if h <= t => format!("<= {t:.0} ms, met"),
            Some(t) => format!("<= {t:.0} ms, MISSED"),
            None => "-".to_string(),
        };
        println!(
            "  {name:<34} {h:>6.2} ms {d:>9.3} ms {:>6.1}x  {verdict}",
            h / d
        );
    }
    println!(
        "\n  (\"database\": the same read in process (`Queue::page`/`get`/`history`, `LocalResults::results`), no HTTP.\n   ResultsDB 2.2, the reference the issue names for /api/v2.0, is not on PyPI and cannot run here.)"
    );
    Ok(())
}
