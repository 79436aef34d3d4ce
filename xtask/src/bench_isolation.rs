//! `cargo xtask bench isolation`: what a sandbox costs. The release `taskotron run`
//! of a dummy task (a `shell` action running `true`, then a `dummy` result: one
//! process of the task, as small as a run gets) with `--isolation none` and with
//! `--isolation sandbox`, alternated run by run so that both see the same machine;
//! the figure is the difference of the medians (target: at most 20 ms) and their
//! ratio. The sandbox part of it (building the `bwrap` arguments, bubblewrap's
//! namespaces and mounts) is what a worker pays per process of every job.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::bench::{measure, median_wall, ms, Sample};
use crate::util::root;

const TARGET: Duration = Duration::from_millis(20);

pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 41);
    let (name, build) = crate::util::build_cli(true);
    crate::util::step(&name, build)?;
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("bwrap").is_file()));
    if !found {
        bail!("bubblewrap (`bwrap`) is not installed; `apt-get install bubblewrap`");
    }
    let work = root().join("target/bench/isolation");
    let _ = std::fs::remove_dir_all(&work);
    let task = work.join("dummy");
    std::fs::create_dir_all(&task)?;
    std::fs::write(
        task.join("runtask.yml"),
        "name: dummy\nnamespace: bench\ndesc: one process, one result\nmaintainer: bench\n\
         actions:\n  - name: run a process\n    shell:\n      - \"true\"\n  - name: pass\n    dummy: {result: PASS}\n",
    )?;
    let config = work.join("taskotron.yaml");
    std::fs::write(
        &config,
        format!(
            "state_dir: {0}/state\nartifacts: {0}/artifacts\ntmpdir: {0}/tmp\n",
            work.display()
        ),
    )?;
    let bin = root().join("target/release/taskotron");
    let run = |isolation: &str| -> Result<Sample> {
        let mut c = std::process::Command::new(&bin);
        c.args(["-q", "run"])
            .arg(&task)
            .args(["-i", "htop-3.3.0-1.fc41", "-t", "koji_build"])
            .args(["--isolation", isolation])
            .env("TASKOTRON_CONFIG", &config);
        let s = measure(&mut c)?;
        if !s.success {
            bail!("`taskotron run --isolation {isolation}` failed");
        }
        Ok(s)
    };
    // Warm the page cache and bubblewrap's binary first.
    for _ in 0..3 {
        run("none")?;
        run("sandbox")?;
    }
    let (mut none, mut sandbox) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        none.push(run("none")?);
        sandbox.push(run("sandbox")?);
    }
    let (n, s) = (median_wall(&none), median_wall(&sandbox));
    let overhead = s.saturating_sub(n);
    println!("bench isolation: {runs} runs of each, alternated; release build; the dummy task");
    println!(
        "  taskotron run --isolation none     median {:>7.2} ms",
        ms(n)
    );
    println!(
        "  taskotron run --isolation sandbox  median {:>7.2} ms",
        ms(s)
    );
    println!(
        "  sandbox overhead                   {:>7.2} ms (ratio {:.2}; target <= {} ms: {})",
        ms(overhead),
        s.as_secs_f64() / n.as_secs_f64().max(1e-9),
        TARGET.as_millis(),
        if overhead <= TARGET { "met" } else { "MISSED" }
    );
    Ok(())
}
