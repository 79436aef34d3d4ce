//! `cargo xtask bench gating`: the gating issue's figures. With 100,000 runs and
//! 2,000,000 cases stored, a decision about an update of 10 builds under 3 policies
//! (`POST /api/v1.0/decision` of `taskotron web`, release build, loopback), a test's
//! history page (`/history/<name>`) and `taskotron compare` of two 20,000-test runs;
//! each beside the same work in process. Where `target/greenwave-venv` has Greenwave
//! (`cargo xtask integration` installs it), the same decision through Greenwave
//! 0.9.4, reading the same results and waivers from our server, in the same run.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::util::root;

const DECISION_MS: f64 = 5.0;
const HISTORY_MS: f64 = 20.0;
const COMPARE_MS: f64 = 50.0;

/// Greenwave's median over `runs` decisions of `request`, through its own Flask
/// app (the test client: no server of its own) reading our APIs at `addr`.
fn greenwave(addr: &str, request: &Value, runs: usize) -> Result<Option<f64>> {
    let python = root().join("target/greenwave-venv/bin/python");
    if !python.exists() {
        return Ok(None);
    }
    // Greenwave 0.9 asks Bodhi for an update's builds rather than reading them
    // from the request: a mock Bodhi knows the update.
    let builds: Vec<String> = request["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["type"] == "koji_build")
        .filter_map(|s| s["item"].as_str().map(str::to_string))
        .collect();
    let bodhi = taskotron_mock::bodhi::MockBodhi::new(&taskotron_mock::bodhi::BodhiFixture {
        users: Vec::new(),
        updates: vec![taskotron_mock::bodhi::Update {
            alias: "FEDORA-2026-bench".into(),
            comments: Vec::new(),
            builds,
            status: None,
        }],
    });
    let bodhi = bodhi.serve()?;
    let dir = root().join("target/bench/gating-greenwave");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("policies"))?;
    std::fs::copy(
        root().join("target/bench/gating/policies.yaml"),
        dir.join("policies/policies.yaml"),
    )?;
    // Greenwave 0.9 reads `decision_context` (one) and `subject_type`: the
    // policies the bench writes use both forms Greenwave knows.
    let settings = dir.join("settings.py");
    std::fs::write(
        &settings,
        format!(
            "RESULTSDB_API_URL = 'http://{addr}/api/v2.0'\nWAIVERDB_API_URL = 'http://{addr}/api/v1.0'\nBODHI_URL = '{}/'\nPOLICIES_DIR = '{}'\nCACHE = {{'backend': 'dogpile.cache.null'}}\n",
            bodhi.url(),
            dir.join("policies").display()
        ),
    )?;
    let script = format!(
        r#"
import json, statistics, sys, time, logging
logging.disable(logging.CRITICAL)
from greenwave.app_factory import create_app
client = create_app('greenwave.config.TestingConfig').test_client()
body = sys.argv[1]
walls = []
for i in range({runs} + 3):
    s = time.perf_counter()
    r = client.post('/api/v1.0/decision', data=body, content_type='application/json')
    assert r.status_code == 200, r.data
    assert json.loads(r.data)['policies_satisfied'] is False
    walls.append(time.perf_counter() - s)
print(statistics.median(walls[3:]) * 1000)
"#
    );
    let out = Command::new(python)
        .args(["-c", &script, &request.to_string()])
        .env("GREENWAVE_CONFIG", &settings)
        .output()
        .context("cannot run Greenwave")?;
    if !out.status.success() {
        bail!("Greenwave failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse().ok())
}

/// Entry point: `bench gating [--runs N]`.
pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 100);
    crate::util::build_release_with_example("taskotron-web", "gating_bench")?;
    let mut child = Command::new(root().join("target/release/examples/gating_bench"))
        .arg(root().join("target/bench/gating"))
        .arg(root().join("target/release/taskotron"))
        .arg(runs.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run gating_bench")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line)?;
    let v: Value = serde_json::from_str(&line).context("gating_bench printed no figures")?;
    let gw = greenwave(
        v["addr"].as_str().unwrap_or_default(),
        &v["request"],
        runs.min(30),
    );
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"done\n");
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("gating_bench failed ({status})");
    }
    let gw = gw?;
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "\ntaskotron bench gating ({} runs, {} cases, {} results stored, built in {:.1} s; {runs} requests each, medians; loopback, release build)\n",
        v["runs_stored"], v["cases_stored"], v["results_stored"], f("build_seconds")
    );
    println!(
        "  {:<52} {:>9} {:>11} {:>14}",
        "", "taskotron", "in process", "target"
    );
    for (name, key, direct, target) in [
        (
            "decision: update of 10 builds, 3 policies (HTTP)",
            "decision_ms",
            "direct_decision_ms",
            DECISION_MS,
        ),
        (
            "a test's history page (/history/<name>)",
            "history_ms",
            "direct_history_ms",
            HISTORY_MS,
        ),
        (
            "taskotron compare, two 20,000-test runs",
            "compare_ms",
            "direct_compare_ms",
            COMPARE_MS,
        ),
    ] {
        let t = f(key);
        let verdict = if t <= target { "met" } else { "MISSED" };
        println!(
            "  {name:<52} {t:>6.2} ms {:>8.2} ms  <= {target:.0} ms, {verdict}",
            f(direct)
        );
    }
    match gw {
        Some(g) => println!(
            "\n  Greenwave 0.9.4, the same decision on the same results (its Flask app, our APIs): {g:.2} ms -> taskotron is {:.1}x faster",
            g / f("decision_ms")
        ),
        None => println!("\n  Greenwave: not in target/greenwave-venv (`cargo xtask integration` installs it); no reference this run"),
    }
    Ok(())
}
