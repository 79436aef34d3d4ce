//! `cargo xtask bench report`: 2,000 results to the mock HTTP ResultsDB, through
//! `taskotron report` and through the official Python client (`resultsdb-api`, in a
//! venv under `target/`), against the same server in the same run.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::bench::ms;
use crate::util::{cargo, root, runs_arg, step};

const RESULTS: usize = 2000;
const RATE_TARGET: f64 = 2000.0;

struct Mock(Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_mock() -> Result<(Mock, String)> {
    let mut child = Command::new(root().join("target/release/taskotron-mock"))
        .arg("resultsdb")
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start taskotron-mock")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    Ok((Mock(child), line.trim().to_string()))
}

const PYTHON: &str = r#"
import sys, resultsdb_api
url, group, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
api = resultsdb_api.ResultsDBapi(url + "/api/v2.0")
for i in range(n):
    api.create_result(outcome="PASSED" if i % 3 else "FAILED", testcase={"name": "dist.bench"},
                      groups=[{"uuid": group}], note="result %d" % i, ref_url="https://artifacts.example/%d" % i,
                      item="pkg%d-1.0-1.fc41" % i, type="koji_build", arch="x86_64")
"#;

fn count(url: &str, group: &str) -> Result<u64> {
    let out = Command::new("curl")
        .args(["-s", &format!("{url}/api/v2.0/groups/{group}")])
        .output()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("unreadable group")?;
    v["results_count"].as_u64().context("no results_count")
}

/// Entry point: `bench report [--runs N]`.
pub fn run(args: &[String]) -> Result<()> {
    let runs = runs_arg(args, 3);
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "taskotron-cli",
        "-p",
        "taskotron-mock",
    ]);
    step("cargo build --release", build)?;
    let work = crate::bench::tempdir()?;
    let mut yaml = String::from("results:\n");
    for i in 0..RESULTS {
        let outcome = if i % 3 == 0 { "FAILED" } else { "PASSED" };
        let _ = write!(yaml, "  - item: pkg{i}-1.0-1.fc41\n    type: koji_build\n    outcome: {outcome}\n    note: result {i}\n    checkname: dist.bench\n    artifact: log{i}.txt\n");
    }
    let file = work.join("results.yml");
    std::fs::write(&file, yaml)?;
    std::fs::write(
        work.join("none.yaml"),
        "artifacts_base_url: https://artifacts.example\n",
    )?;
    let (_mock, url) = start_mock()?;
    let mut ours = Vec::new();
    for i in 0..runs {
        let group = format!("bench-ours-{i}");
        let start = Instant::now();
        let status = Command::new(root().join("target/release/taskotron"))
            .args(["-q", "report"])
            .arg(&file)
            .args([
                "--resultsdb",
                &url,
                "--build-id",
                &group,
                "--arch",
                "x86_64",
            ])
            .env("TASKOTRON_CONFIG", work.join("none.yaml"))
            .env("TASKOTRON_STATE_DIR", work.join(format!("state{i}")))
            .stdout(Stdio::null())
            .status()?;
        let wall = start.elapsed();
        if !status.success() || count(&url, &group)? != RESULTS as u64 {
            bail!("taskotron report did not deliver {RESULTS} results");
        }
        ours.push(wall);
    }
    ours.sort();
    let ours_wall = ours[ours.len() / 2];
    let python = crate::util::bench_python("resultsdb_api", "resultsdb-api");
    let theirs = match &python {
        Some(py) => {
            let mut walls = Vec::new();
            for i in 0..runs.min(3) {
                let group = format!("bench-python-{i}");
                let start = Instant::now();
                let ok = Command::new(py)
                    .args(["-c", PYTHON, &url, &group, &RESULTS.to_string()])
                    .status()?
                    .success();
                walls.push(start.elapsed());
                if !ok || count(&url, &group)? != RESULTS as u64 {
                    bail!("the Python client did not deliver {RESULTS} results");
                }
            }
            walls.sort();
            Some(walls[walls.len() / 2])
        }
        None => None,
    };
    let rate = |d: Duration| RESULTS as f64 / d.as_secs_f64();
    let mut out = String::new();
    let _ = writeln!(out, "\ntaskotron bench report ({RESULTS} results to the mock HTTP ResultsDB, {runs} runs, medians)\n");
    let _ = writeln!(out, "taskotron report:           {:>8.1} ms  {:>8.0} results/s  (target >= {RATE_TARGET:.0}: {})", ms(ours_wall), rate(ours_wall), if rate(ours_wall) >= RATE_TARGET { "yes" } else { "NO" });
    match theirs {
        Some(t) => {
            let ratio = rate(ours_wall) / rate(t);
            let _ = writeln!(
                out,
                "resultsdb-api (Python):     {:>8.1} ms  {:>8.0} results/s",
                ms(t),
                rate(t)
            );
            let _ = writeln!(
                out,
                "throughput ratio: {ratio:.1}x (target >= 2x: {})",
                if ratio >= 2.0 { "yes" } else { "NO" }
            );
            print!("{out}");
            if rate(ours_wall) < RATE_TARGET || ratio < 2.0 {
                bail!("a target was missed");
            }
        }
        None => {
            let _ = writeln!(out, "resultsdb-api (Python): not available (pip install resultsdb-api failed); no ratio");
            print!("{out}");
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
