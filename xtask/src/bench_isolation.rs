//! `cargo xtask bench isolation`: what a sandbox costs. The release `taskotron run`
//! of a dummy task (a `shell` action running `true`, then a `dummy` result: one
//! process of the task, as small as a run gets) with `--isolation none` and with
//! `--isolation sandbox`, alternated run by run so that both see the same machine;
//! the figure is the difference of the medians (target: at most 20 ms) and their
//! ratio. The sandbox part of it (building the `bwrap` arguments, bubblewrap's
//! namespaces and mounts) is what a worker pays per process of every job.
//!
//! Then the remote mode: the same run with `--ssh` to a real OpenSSH server on
//! loopback (`taskotron_tests::sshd`), as a worker's jobs go: each run after the
//! first takes the connection the run before left (its control master), and
//! the figure is the difference of the medians against the local run,
//! alternated (target: at most 300 ms per job). The first run (which copies the
//! build) and runs that make a new connection each are printed beside it.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::bench::{measure, median_wall, ms, Sample};
use crate::util::root;

const TARGET: Duration = Duration::from_millis(20);
const REMOTE_TARGET: Duration = Duration::from_millis(300);

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

    // The remote mode, on loopback, as a user set aside for remote runs: a
    // service account whose shell is `sh` (root's `bash` here would source
    // `~/.bashrc` for every ssh command, and time that rather than taskotron).
    let user = remote_user()?;
    let sshd = taskotron_tests::sshd::Sshd::start_for(user.as_deref());
    let mut text = std::fs::read_to_string(&config)?;
    text.push_str(&sshd.config_lines());
    std::fs::write(&config, text)?;
    let target = sshd.target();
    let remote = |state: Option<&std::path::Path>| {
        let mut c = std::process::Command::new(&bin);
        c.args(["-q", "run"])
            .arg(&task)
            .args([
                "-i",
                "htop-3.3.0-1.fc41",
                "-t",
                "koji_build",
                "--ssh",
                &target,
            ])
            .env("TASKOTRON_CONFIG", &config);
        if let Some(dir) = state {
            c.env("TASKOTRON_STATE_DIR", dir);
        }
        let s = measure(&mut c)?;
        if !s.success {
            bail!("`taskotron run --ssh {target}` failed");
        }
        Ok::<Sample, anyhow::Error>(s)
    };
    let first = remote(None)?;
    // A new connection each time: a state directory of its own, so no earlier
    // run's connection is there to take.
    let mut cold = Vec::new();
    for i in 0..5 {
        cold.push(remote(Some(&work.join(format!("state-cold-{i}"))))?);
    }
    remote(None)?;
    let remote_runs = runs.min(21);
    let (mut local, mut over) = (Vec::new(), Vec::new());
    for _ in 0..remote_runs {
        local.push(run("none")?);
        over.push(remote(None)?);
    }
    let (l, r, c) = (median_wall(&local), median_wall(&over), median_wall(&cold));
    let remote_overhead = r.saturating_sub(l);
    println!(
        "bench isolation (remote): {remote_runs} runs of each, alternated; OpenSSH on loopback, as {}",
        sshd.user
    );
    println!(
        "  first run (new connection, copies the build) {:>7.2} ms",
        ms(first.wall)
    );
    println!(
        "  taskotron run --ssh, new connection  median {:>7.2} ms (5 runs; overhead {:.2} ms)",
        ms(c),
        ms(c.saturating_sub(l))
    );
    println!(
        "  taskotron run                        median {:>7.2} ms",
        ms(l)
    );
    println!(
        "  taskotron run --ssh, a worker's job  median {:>7.2} ms (the connection of the run before)",
        ms(r)
    );
    println!(
        "  remote overhead per job                     {:>7.2} ms (ratio {:.2}; target <= {} ms: {})",
        ms(remote_overhead),
        r.as_secs_f64() / l.as_secs_f64().max(1e-9),
        REMOTE_TARGET.as_millis(),
        if remote_overhead <= REMOTE_TARGET { "met" } else { "MISSED" }
    );
    Ok(())
}

/// As root, the service account remote runs log in as (made once, shell `sh`);
/// as anyone else, that user.
fn remote_user() -> Result<Option<String>> {
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    const USER: &str = "taskotron-remote";
    let exists = std::process::Command::new("id")
        .arg(USER)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?
        .success();
    if !exists {
        let made = std::process::Command::new("useradd")
            .args(["--system", "--create-home", "--shell", "/bin/sh", USER])
            .status()?
            .success();
        if !made {
            bail!("cannot make the user {USER} remote runs log in as (useradd failed)");
        }
    }
    // No password, but not locked: sshd without PAM refuses locked accounts even
    // with a key.
    let unlocked = std::process::Command::new("usermod")
        .args(["-p", "*", USER])
        .status()?
        .success();
    if !unlocked {
        bail!("cannot unlock the user {USER} (usermod failed)");
    }
    Ok(Some(USER.into()))
}
